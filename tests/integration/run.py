#!/usr/bin/env python3
"""Integration test: real QEMU, Debian's Linux kernel, our vhost-user-blk.

Usage: run.py --case a|b|c|d|e|all --rdguest PATH [--daemon PATH]
              [--work DIR] [--keep]

Each case boots Debian's kernel under TCG with a busybox initramfs holding
rdguest (tests/integration/rdguest.c) and a case script; the guest reports
"RESULT name PASS|FAIL detail" lines on the serial console and asks the host
to act with "SYNC tag" lines (the host answers "go ..." on the console).

  a  dd patterns (4 KiB, 64 KiB, 1 MiB blocks; buffered and O_DIRECT), read
     back and checksummed in the guest, the image checked on the host, and a
     second boot (new back-end process) reads them back
  b  a second NUMA node on its own memfd that the daemon treats as device
     memory (--device-memory); rdguest binds its buffers to it and does
     O_DIRECT I/O; the daemon's stats must show the bytes as devmem-bytes
  c  memory hot-plug (QMP object-add + device_add pc-dimm) during I/O, the
     DIMM's range declared device memory to the daemon (a device BAR
     hot-added as guest RAM); O_DIRECT I/O from buffers in the DIMM (checked
     by physical address), devmem-bytes for it, then device_del during I/O
     (REM_MEM_REG); nothing fails
  d  the daemon (--direct) is killed with SIGKILL during a write stream and
     restarted; QEMU reconnects, the restart resubmits the requests in
     flight from the inflight region, every byte right
  e  a read-only image: writes fail in the guest, reads work, image unchanged

Environment: RAMDEV_IT_KVM=1 boots under KVM instead of TCG;
RAMDEV_IT_DAEMON_ARGS adds daemon options (e.g. --verbose);
RAMDEV_IT_QSD_RECONNECT=1 runs d against qemu-storage-daemon too.

Exit status: 0 pass, 1 fail, 77 skip (no kernel or QEMU; or a part that needs
ramdev-vhost-user-blk when it is not built).
"""
import argparse
import hashlib
import os
import random
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vm import (Backend, Fail, Skip, VM, build_initramfs,  # noqa: E402
                find_kernel, find_program, pattern)

MiB = 1 << 20
BOOT_TIMEOUT = 150


class Ctx:
    def __init__(self, args):
        self.kernel, self.mods = find_kernel()
        find_program("qemu-system-x86_64", "qemu-system-x86")
        self.rdguest = args.rdguest
        if not os.access(self.rdguest, os.X_OK):
            raise Fail(f"rdguest not built at {self.rdguest}")
        self.daemon = args.daemon if args.daemon and os.access(
            args.daemon, os.X_OK) else None
        if self.daemon is None:
            find_program("qemu-storage-daemon", "qemu-system-x86")
        self.work = args.work
        self.seed = args.seed or random.randrange(1, 1 << 31)
        self.notes = []

    def note(self, text):
        self.notes.append(text)
        print(f"  {text}", flush=True)

    def image(self, name, size, data=None):
        path = os.path.join(self.work, name)
        with open(path, "wb") as f:
            f.truncate(size)
            if data:
                f.write(data)
        return path

    def backend(self, name, image, **kw):
        return Backend(self.work, name, self.daemon, image, **kw)

    def boot(self, name, script, backends, action=None, timeout=BOOT_TIMEOUT,
             extra=None, **vmargs):
        """One guest run; returns (results, seconds, vm)."""
        initrd = os.path.join(self.work, f"{name}.cpio")
        script = f"SEED={self.seed}\n" + script
        build_initramfs(initrd, self.mods, self.rdguest, script, extra)
        for b in backends:
            b.start()
        vm = VM(self.work, name, self.kernel, initrd, backends, **vmargs)
        done = False
        try:
            vm.serial.wait(r"^BOOTED", 150)
            if action:
                action(vm)
            secs = vm.finish(timeout)
            done = True
        except Fail as e:
            tail = [x for x in vm.serial.lines[-8:]
                    if not x.startswith("rdguest: progress")]
            raise Fail(f"{e}; serial console ends: " + " | ".join(tail))
        finally:
            vm.kill()
            if not done:
                for b in backends:
                    b.stop()
        for b in backends:
            rc = b.stop()
            if rc != 0 and b.ours:
                raise Fail(f"{b.name}: back end exit status {rc} on SIGTERM")
        res = vm.results()
        for k, (st, detail) in res.items():
            if k == "boot" and st == "FAIL":
                raise Fail(f"{name}: guest boot: {detail}")
        print(f"  boot {name}: {secs:.1f} s", flush=True)
        return res, secs, vm

    def check_exit_stats(self, b):
        """The last stats line at exit (ours): no request failed."""
        if not b.ours:
            return None
        m = b.err.grep(r"stats: total: (.*)")
        if not m:
            raise Fail(f"{b.name}: no stats at exit (--print-stats)")
        from vm import parse_stats
        st = parse_stats(m[-1].group(1))
        if st.get("errors", 0):
            raise Fail(f"{b.name}: {st['errors']} failed requests: {st}")
        return st


def expect(res, names):
    """Every named guest result present and PASS."""
    bad = []
    for n in names:
        st, detail = res.get(n, ("MISSING", ""))
        if st != "PASS":
            bad.append(f"{n} {st} {detail}".strip())
    if bad:
        raise Fail("; ".join(bad))


# ---- a: dd patterns and persistence ---------------------------------------

A_SIZES = (("4k", 4096), ("64k", 65536), ("1m", MiB))
A_SCRIPT = r"""
slot=0
for bs in 4k:4096 64k:65536 1m:1048576; do
	n=${bs#*:}; bs=${bs%%:*}
	for mode in buf dir; do
		f=/pat/$bs-$mode; cnt=$((1048576 / n)); at=$((slot * cnt))
		if [ $mode = dir ]; then wf=oflag=direct; rf=iflag=direct
		else wf=conv=fsync; rf=; fi
		name=a-$PHASE-$bs-$mode
		slot=$((slot + 1))
		if [ $PHASE = write ] && ! dd if=$f of=/dev/vda bs=$n seek=$at \
			count=$cnt $wf 2>/tmp/err; then
			result $name FAIL "dd write: $(tail -n 1 /tmp/err)"; continue
		fi
		blockdev --flushbufs /dev/vda; echo 3 > /proc/sys/vm/drop_caches
		got=$(dd if=/dev/vda bs=$n skip=$at count=$cnt $rf 2>/tmp/err | md5sum)
		want=$(md5sum < $f)
		if [ "$got" = "$want" ]; then result $name PASS "md5 ${got%% *}"
		else result $name FAIL "md5 ${got%% *} want ${want%% *} $(tail -n 1 /tmp/err)"; fi
	done
done
"""


def case_a(ctx):
    img = ctx.image("a.img", 16 * MiB)
    pats = {f"pat/{bs}-{mode}": os.urandom(MiB)
            for bs, _ in A_SIZES for mode in ("buf", "dir")}
    names = [f"{bs}-{mode}" for bs, _ in A_SIZES for mode in ("buf", "dir")]
    b = ctx.backend("a", img)
    res, _, _ = ctx.boot("a1", "PHASE=write\n" + A_SCRIPT, [b], extra=pats)
    ctx.check_exit_stats(b)
    expect(res, [f"a-write-{n}" for n in names])
    data = open(img, "rb").read()
    for slot, n in enumerate(names):
        if data[slot * MiB:(slot + 1) * MiB] != pats[f"pat/{n}"]:
            raise Fail(f"host: image slot {slot} ({n}) differs from the "
                       "pattern the guest wrote")
    ctx.note("host: image holds all 6 patterns")
    b = ctx.backend("a", img)
    res, _, _ = ctx.boot("a2", "PHASE=read\n" + A_SCRIPT, [b], extra=pats)
    ctx.check_exit_stats(b)
    expect(res, [f"a-read-{n}" for n in names])
    ctx.note("second boot read all 6 patterns back")


# ---- b: device memory as a NUMA node --------------------------------------

B_RAM, B_NODE1 = 512 * MiB, 64 * MiB
B_SCRIPT = r"""
result b-node1 $(test -d /sys/devices/system/node/node1 && echo PASS || echo FAIL) \
	"$(grep MemTotal /sys/devices/system/node/node1/meminfo 2>&1 | tr -s ' ')"
host b-start
for c in 64 1024 4; do
	if rdguest both /dev/vda 8 8 $c $SEED --node 1 --min-phys $NODE1 \
		> /tmp/o 2>&1; then
		result b-io-${c}k PASS "$(grep phys /tmp/o) $(tail -n 1 /tmp/o)"
	else
		cat /tmp/o; result b-io-${c}k FAIL "$(tail -n 1 /tmp/o)"
	fi
done
host b-end
"""


def case_b(ctx):
    # pc machine, all RAM below 4 GiB: the NUMA nodes' memory follows one
    # another from GPA 0, so node 1 starts where node 0 ends.
    gpa = B_RAM
    img = ctx.image("b.img", 32 * MiB)
    b = ctx.backend("b", img, devmem=[(gpa, B_NODE1)])
    st = {}

    def action(vm):
        vm.sync("b-start", 60)
        if b.ours:
            st["before"] = b.stats()
        vm.reply("go")
        vm.sync("b-end", 120)
        if b.ours:
            st["after"] = b.stats()
        vm.reply("go")

    res, _, _ = ctx.boot("b", f"NODE1={gpa:x}\n" + B_SCRIPT, [b], action=action,
                         numa=(B_NODE1,), ram=B_RAM)
    expect(res, ["b-node1", "b-io-64k", "b-io-1024k", "b-io-4k"])
    ctx.note("guest: buffers on node 1 (get_mempolicy per page), 3 x 8 MiB "
             "written and read back O_DIRECT, data verified")
    if not b.ours:
        raise Skip("daemon not built: device-memory stats not checked "
                   "(guest part passed against qemu-storage-daemon)")
    want = f"gpa 0x{gpa:x} size 0x{B_NODE1:x} "
    regions = b.err.grep(r"region \d+: (gpa .*)")
    ctx.note("daemon regions: " + " | ".join(m.group(1) for m in regions))
    if not any(want in m.group(1) and " ramd" in m.group(1)
               for m in regions):
        raise Fail(f"daemon log has no 'region N: {want}... ramd' line")
    if not any(m.group(1).startswith("gpa 0x0 ") and
               m.group(1).endswith(" ram") for m in regions):
        raise Fail("node 0 (GPA 0) is not logged as plain 'ram'")
    before, after = st["before"], st["after"]
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    ctx.note(f"stats during b: {delta}")
    io = 3 * 2 * 8 * MiB
    if delta.get("devmem-bytes", 0) < io:
        raise Fail(f"devmem-bytes grew by {delta.get('devmem-bytes')} "
                   f"< {io} bytes of I/O on node-1 buffers")
    if delta.get("errors", 0) or after.get("errors", 0):
        raise Fail(f"daemon counted failed requests: {after}")
    ctx.check_exit_stats(b)


# ---- c: memory hot-plug ---------------------------------------------------

C_DIMM = 128 * MiB
# pc machine, RAM below 4 GiB: the hot-plug area starts at 4 GiB.
C_GPA = 4 << 30
C_SCRIPT = r"""
mem() { grep MemTotal /proc/meminfo | tr -s ' ' | cut -d' ' -f2; }
# Background writers over 16..32 MiB until /tmp/stop appears; each pass
# appends its last line to /tmp/bg.
bg_start() {
	rm -f /tmp/stop /tmp/bg
	( while [ ! -e /tmp/stop ]; do
		rdguest write /dev/vda 16 16 64 $SEED --jobs 2 > /tmp/o.bg 2>&1 \
			|| { cat /tmp/o.bg; echo "bg FAIL" >> /tmp/bg; break; }
		echo "bg pass" >> /tmp/bg
	done ) < /dev/null &
	bg=$!
}
bg_stop() {
	touch /tmp/stop
	wait $bg
	n=$(grep -c pass /tmp/bg)
	if grep -q FAIL /tmp/bg; then result $1 FAIL "a writer failed after $n passes"
	else result $1 PASS "$n passes of 16 MiB O_DIRECT writes"; fi
}
before=$(mem)
bg_start
host c-plug
addr=${reply#go }
i=0
while [ "$(mem)" -le "$before" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
online=$(grep -l online /sys/devices/system/memory/memory*/state | wc -l)
if [ "$(mem)" -gt "$before" ]; then
	result c-online PASS "MemTotal $before -> $(mem) kB, $online blocks online"
else
	result c-online FAIL "MemTotal stays $before kB"
fi
if rdguest both /dev/vda 0 16 64 $SEED --min-phys $addr > /tmp/o 2>&1; then
	result c-io-hotplugged PASS "$(grep -m 1 phys /tmp/o) $(tail -n 1 /tmp/o)"
else
	cat /tmp/o; result c-io-hotplugged FAIL "$(tail -n 1 /tmp/o)"
fi
bg_stop c-io-during-plug
host c-io-done
bg_start
host c-unplug
sleep 1
bg_stop c-io-during-unplug
result c-unplugged $([ "$(mem)" -le "$before" ] && echo PASS || echo FAIL) \
	"MemTotal now $(mem) kB"
if rdguest verify /dev/vda 0 32 64 $SEED > /tmp/o 2>&1; then
	result c-verify PASS "$(tail -n 1 /tmp/o)"
else
	cat /tmp/o; result c-verify FAIL "$(tail -n 1 /tmp/o)"
fi
"""


def case_c(ctx):
    img = ctx.image("c.img", 32 * MiB)
    # The seed scenario: a device BAR hot-added as guest RAM.  The daemon is
    # told the DIMM's range is device memory, so its ADD_MEM_REG brings a
    # RAM-device region into the address space while the queue runs.
    b = ctx.backend("c", img, devmem=[(C_GPA, C_DIMM)])
    info = {}

    def action(vm):
        vm.sync("c-plug", 60)
        n = b.err.count()
        vm.qmp.cmd("object-add", **{"qom-type": "memory-backend-memfd",
                                    "id": "hp0", "size": C_DIMM,
                                    "share": True})
        vm.qmp.cmd("device_add", driver="pc-dimm", id="dimm0", memdev="hp0")
        devs = vm.qmp.cmd("query-memory-devices")
        addr = [d["data"]["addr"] for d in devs
                if d["data"].get("id") == "dimm0"][0]
        info["addr"] = addr
        if addr != C_GPA:
            raise Fail(f"DIMM at GPA 0x{addr:x}, want 0x{C_GPA:x}")
        if b.ours:
            _, m = b.err.wait(rf"region \d+: gpa 0x{addr:x} .*", 20, n)
            info["added"] = m.group(0)
            info["before"] = b.stats()
        vm.reply(f"go {addr:x}")
        vm.sync("c-io-done", 120)
        if b.ours:
            info["after"] = b.stats()
        vm.reply("go")
        vm.sync("c-unplug", 120)
        n = b.err.count()
        vm.qmp.cmd("device_del", id="dimm0")
        vm.qmp.event("DEVICE_DELETED", 60, device="dimm0")
        vm.qmp.cmd("object-del", id="hp0")
        info["removed_log"] = [m.group(0) for m in b.err.grep(
            rf".*0x{addr:x}.*", n)]
        vm.reply("go")

    res, _, _ = ctx.boot("c", C_SCRIPT, [b], action=action, hotplug=True)
    ctx.note(f"DIMM at GPA 0x{info.get('addr', 0):x}, size 0x{C_DIMM:x}")
    expect(res, ["c-online", "c-io-hotplugged", "c-io-during-plug",
                 "c-io-during-unplug", "c-unplugged", "c-verify"])
    for k in ("c-online", "c-io-hotplugged"):
        ctx.note(f"{k}: {res[k][1]}")
    if b.ours:
        m = b.err.grep(r"protocol features 0x([0-9a-f]+) negotiated")
        pf = int(m[-1].group(1), 16) if m else 0
        if not pf >> 15 & 1:
            raise Fail(f"protocol features 0x{pf:x} lack CONFIGURE_MEM_SLOTS "
                       "(bit 15): QEMU would not send ADD/REM_MEM_REG")
        ctx.note(f"protocol features 0x{pf:x} (CONFIGURE_MEM_SLOTS: "
                 "ADD_MEM_REG / REM_MEM_REG)")
        ctx.note("daemon on device_add: " + info["added"])
        if " ramd" not in info["added"]:
            raise Fail("the DIMM's region is not device memory (ramd)")
        delta = {k: info["after"][k] - info["before"].get(k, 0)
                 for k in info["after"]}
        ctx.note(f"stats while I/O ran from the DIMM: {delta}")
        if delta.get("devmem-bytes", 0) < 32 * MiB:
            raise Fail(f"devmem-bytes grew by {delta.get('devmem-bytes')} "
                       "< 32 MiB of I/O from the hot-plugged range")
        ctx.note("daemon after device_del: "
                 + (" | ".join(info["removed_log"]) or "(no line)"))
        if not any("removed" in x for x in info["removed_log"]):
            raise Fail("daemon logged no removal of the DIMM's region "
                       "after device_del (REM_MEM_REG)")
    ctx.check_exit_stats(b)
    data = open(img, "rb").read(32 * MiB)
    if data != pattern(0, 32 * MiB, ctx.seed):
        raise Fail("host: image differs from the pattern")


# ---- d: kill -9 and reconnect ---------------------------------------------

D_LEN = 48
D_KILLS = 4
D_SCRIPT = rf"""
if rdguest write /dev/vda 0 {D_LEN} 64 $SEED --jobs 4 --progress; then
	result d-write PASS
else
	result d-write FAIL "write stream failed"
fi
if rdguest verify /dev/vda 0 {D_LEN} 64 $SEED > /tmp/o 2>&1; then
	result d-verify PASS "$(tail -n 1 /tmp/o)"
else
	cat /tmp/o; result d-verify FAIL "$(tail -n 1 /tmp/o)"
fi
"""


def case_d(ctx):
    if ctx.daemon is None and not os.environ.get("RAMDEV_IT_QSD_RECONNECT"):
        raise Skip("daemon not built: d checks ramdev-vhost-user-blk's "
                   "inflight resubmission (qemu-storage-daemon has no "
                   "INFLIGHT_SHMFD; RAMDEV_IT_QSD_RECONNECT=1 runs it anyway)")
    img = ctx.image("d.img", D_LEN * MiB)
    # --direct: O_DIRECT on the image makes io_uring writes asynchronous, so
    # requests sit in flight in the daemon (buffered writes to ext4 complete
    # inline and a kill would find nothing in flight); the daemon's test knob
    # holds each completion back 10 ms on top, so a kill finds some.
    b = ctx.backend("d", img, args=["--direct"],
                    env={"RAMDEV_VHOST_COMPLETE_DELAY_MS": "10"})
    resub = []

    def action(vm):
        # Kill at every other progress line (4 MiB of writes apart) until a
        # restart finds requests in flight, at most D_KILLS times.
        at = 0
        for k in range(D_KILLS):
            i, _ = vm.serial.wait(r"rdguest: progress write", 90, at)
            i, _ = vm.serial.wait(r"rdguest: progress write", 90, i + 1) \
                if k else (i, None)
            at = i + 1
            b.kill9()
            time.sleep(0.3)
            b.start()
            if not b.ours:
                continue
            _, m = b.err.wait(r"queue 0: inflight region: 0x([0-9a-f]+) "
                              r"requests to resubmit", 60)
            resub.append(int(m.group(1), 16))
            if resub[-1]:
                break

    res, _, vm = ctx.boot("d", D_SCRIPT, [b], action=action, reconnect=True,
                          timeout=120)
    ctx.note(f"{b.runs - 1} SIGKILLs during the write stream; requests "
             f"resubmitted by each restarted daemon: {resub}")
    for m in vm.serial.grep(r"qemu-system-x86_64: .*"):
        ctx.note("QEMU: " + m.group(0).split(": ", 1)[1])
    expect(res, ["d-write", "d-verify"])
    ctx.check_exit_stats(b)
    data = open(img, "rb").read()
    if data != pattern(0, D_LEN * MiB, ctx.seed):
        raise Fail("host: image differs from the written stream")
    ctx.note(f"host: all {D_LEN} MiB of the stream right in the image")
    if b.ours and not any(resub):
        raise Fail(f"no request was in flight at any of the {len(resub)} "
                   "kills: resubmission from the inflight region not tested")


# ---- e: read-only image ---------------------------------------------------

E_SCRIPT = r"""
echo "e: /sys/block/vda/ro = $(cat /sys/block/vda/ro)"
if rdguest verify /dev/vda 0 8 64 $SEED > /tmp/o 2>&1; then
	result e-read PASS "$(tail -n 1 /tmp/o)"
else
	cat /tmp/o; result e-read FAIL "$(tail -n 1 /tmp/o)"
fi
for w in oflag=direct conv=fsync; do
	if dd if=/dev/zero of=/dev/vda bs=4096 count=1 $w 2>/tmp/err; then
		result e-write-$w FAIL "write succeeded"
	else
		result e-write-$w PASS "write failed: $(grep -v records /tmp/err | tail -n 1)"
	fi
done
if rdguest write /dev/vda 0 1 64 $SEED > /tmp/o 2>&1; then
	result e-write-rdguest FAIL "write succeeded"
else
	result e-write-rdguest PASS "$(grep FAIL /tmp/o | head -n 1)"
fi
# The kernel refuses write(2) on a read-only disk before any request is made;
# BLKZEROOUT goes to the device, so the back end's own check answers it.
if rdguest zeroout /dev/vda 1 1 > /tmp/o 2>&1; then
	result e-zeroout FAIL "BLKZEROOUT succeeded"
else
	result e-zeroout PASS "$(grep FAIL /tmp/o | head -n 1)"
fi
blockdev --flushbufs /dev/vda; echo 3 > /proc/sys/vm/drop_caches
if rdguest verify /dev/vda 0 8 64 $SEED > /tmp/o 2>&1; then
	result e-read-after PASS "$(tail -n 1 /tmp/o)"
else
	cat /tmp/o; result e-read-after FAIL "$(tail -n 1 /tmp/o)"
fi
"""


def case_e(ctx):
    data = pattern(0, 8 * MiB, ctx.seed)
    img = ctx.image("e.img", 8 * MiB, data)
    digest = hashlib.sha256(data).hexdigest()
    b = ctx.backend("e", img, readonly=True)
    res, _, vm = ctx.boot("e", E_SCRIPT, [b])
    for m in vm.serial.grep(r"^e: .*"):
        ctx.note(m.group(0))
    for k, (st, detail) in sorted(res.items()):
        ctx.note(f"{k}: {st} {detail}")
    expect(res, ["e-read", "e-write-oflag=direct", "e-write-conv=fsync",
                 "e-write-rdguest", "e-zeroout", "e-read-after"])
    if hashlib.sha256(open(img, "rb").read()).hexdigest() != digest:
        raise Fail("host: the read-only image changed")
    st = ctx.check_exit_stats(b)
    if st is not None:
        ctx.note(f"daemon stats at exit: {st}")
        if st.get("write-bytes", 0):
            raise Fail("the read-only daemon counted written bytes")


CASES = {"a": case_a, "b": case_b, "c": case_c, "d": case_d, "e": case_e}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", default="all")
    ap.add_argument("--rdguest", required=True)
    ap.add_argument("--daemon")
    ap.add_argument("--work")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    names = list(CASES) if args.case == "all" else args.case.split(",")
    tmp = None
    if not args.work:
        tmp = args.work = tempfile.mkdtemp(prefix="ramdev-it-")
    os.makedirs(args.work, exist_ok=True)
    try:
        ctx = Ctx(args)
    except Skip as e:
        print(f"SKIP: {e}")
        return 77
    except Fail as e:
        print(f"FAIL: {e}")
        return 1
    print(f"integration: back end "
          f"{ctx.daemon or 'qemu-storage-daemon (ours not built)'}, "
          f"kernel {ctx.kernel}, seed {ctx.seed}, logs in {args.work}",
          flush=True)
    status = {}
    for n in names:
        t0 = time.monotonic()
        print(f"case {n}:", flush=True)
        try:
            CASES[n](ctx)
            st, why = "PASS", ""
        except Skip as e:
            st, why = "SKIP", str(e)
        except Fail as e:
            st, why = "FAIL", str(e)
        status[n] = st
        print(f"case {n}: {st} in {time.monotonic() - t0:.1f} s"
              + (f": {why}" if why else ""), flush=True)
    failed = any(s == "FAIL" for s in status.values())
    if tmp and not failed and not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    elif failed:
        print(f"logs kept in {args.work}")
    if failed:
        return 1
    if all(s == "SKIP" for s in status.values()):
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main())
