#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Cross-check `ramdev vcpu-demo` against the kernel's kvm:kvm_mmio tracepoint.

The demo prints every KVM_EXIT_MMIO it handled ("exit MMIO gpa G size N
write value V" or "... read" then "<- guest gets V").  The kernel traces what
its emulator did with the same accesses, independently of our code:
  mmio write len L gpa G val V            a store (V: its first 8 bytes)
  mmio unsatisfied-read len L gpa G       a load sent to user space
  mmio read len L gpa G' val V            that load completed
An access of L > 8 bytes is traced once but reaches user space as pieces of
at most 8 bytes (KVM's mmio fragments), so it must match ceil(L / 8) exits at
G, G + 8, ...  Passes when both sides list the same accesses in the same
order with the same values (where the trace carries them).

Usage: check_kvm_mmio.py PERF RAMDEV [args...]
Exit: 0 match, 1 mismatch, 77 perf cannot trace kvm:kvm_mmio or the demo
skipped.
"""
import os
import re
import subprocess
import sys
import tempfile

TRACE = re.compile(r"kvm:kvm_mmio: mmio (unsatisfied-read|read|write) "
                   r"len (\d+) gpa (0x[0-9a-f]+) val (0x[0-9a-f]+)")
EXIT = re.compile(r"^  exit MMIO gpa (0x[0-9a-f]+) size (\d+) "
                  r"(write value (0x[0-9a-f]+)|read)")
GETS = re.compile(r"^    <- guest gets (0x[0-9a-f]+)")


def kernel_side(lines):
    """[(dir, gpa, len, value or None)] in the order the guest issued them."""
    out, pending = [], None
    for line in lines:
        m = TRACE.search(line)
        if not m:
            continue
        kind, n, gpa, val = m.group(1), int(m.group(2)), int(m.group(3), 16), int(m.group(4), 16)
        if kind == "read":
            if pending is not None and pending[2] <= 8:
                out[pending[0]] = ("r", pending[1], pending[2], val)
            pending = None
            continue
        d = "w" if kind == "write" else "r"
        if kind == "unsatisfied-read":
            pending = (len(out), gpa, n)
        for off in range(0, n, 8):
            piece = min(8, n - off)
            value = val if (d == "w" and n <= 8) else None
            out.append((d, gpa + off, piece, value))
    return out


def demo_side(lines):
    out = []
    for line in lines:
        m = EXIT.match(line)
        if m:
            d = "w" if m.group(4) else "r"
            out.append([d, int(m.group(1), 16), int(m.group(2)),
                        int(m.group(4), 16) if m.group(4) else None])
            continue
        m = GETS.match(line)
        if m and out and out[-1][0] == "r":
            out[-1][3] = int(m.group(1), 16)
    return [tuple(x) for x in out]


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    perf, cmd = sys.argv[1], sys.argv[2:]
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "perf.data")
        rec = subprocess.run([perf, "record", "-q", "-o", data, "-e",
                              "kvm:kvm_mmio", "--"] + cmd,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, timeout=120)
        demo = rec.stdout.splitlines()
        if rec.returncode == 77 or any(l.startswith("SKIP") for l in demo):
            print("SKIP: the demo skipped: " + " ".join(demo[-1:]))
            return 77
        if not os.path.exists(data):
            print("SKIP: perf cannot trace kvm:kvm_mmio (tracefs, "
                  "perf_event_paranoid?): " + rec.stderr.strip()[-300:])
            return 77
        script = subprocess.run([perf, "script", "-i", data],
                                stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True,
                                timeout=120)
    kern, ours = kernel_side(script.stdout.splitlines()), demo_side(demo)
    print(f"kvm:kvm_mmio: {len(kern)} accesses reached user space; "
          f"the demo handled {len(ours)} exits (demo exit {rec.returncode})")
    bad = 0
    for i in range(max(len(kern), len(ours))):
        k = kern[i] if i < len(kern) else None
        o = ours[i] if i < len(ours) else None
        same = (k is not None and o is not None and k[:3] == o[:3]
                and (k[3] is None or k[3] == o[3]))
        if not same:
            bad += 1
            print(f"MISMATCH #{i}: kernel {k} demo {o}")
    if not kern:
        print("FAIL: the trace holds no access: the oracle saw nothing")
        bad += 1
    print("match" if not bad else f"{bad} mismatches")
    return 1 if bad or rec.returncode else 0


if __name__ == "__main__":
    sys.exit(main())
