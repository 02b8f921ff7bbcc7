"""The machinery of the integration test: initramfs, QEMU, QMP, back end.

tests/integration/run.py holds the cases; this module knows how to build a
busybox initramfs, boot Debian's kernel in QEMU (TCG) with a
vhost-user-blk-pci device, talk QMP, and run either back end
(ramdev-vhost-user-blk, or qemu-storage-daemon while ours is not built).
"""
import glob
import json
import os
import re
import select
import signal
import socket
import struct
import subprocess
import threading
import time

PREFIX = "ramdev-vhost-user-blk: "


class Skip(Exception):
    """The machine lacks what the test needs (exit 77)."""


class Fail(Exception):
    """A check failed."""


def find_kernel():
    """Debian's kernel and its module tree, newest first, or Skip."""
    for vmlinuz in sorted(glob.glob("/boot/vmlinuz-*"), reverse=True):
        ver = vmlinuz[len("/boot/vmlinuz-"):]
        mods = f"/lib/modules/{ver}"
        if os.access(vmlinuz, os.R_OK) and os.path.exists(f"{mods}/modules.dep"):
            return vmlinuz, mods
    raise Skip("no readable /boot/vmlinuz-* with /lib/modules/*/modules.dep "
               "(package linux-image-amd64)")


def find_program(name, package):
    for d in os.environ.get("PATH", "/usr/bin:/bin").split(":") + ["/usr/bin",
                                                                    "/bin"]:
        p = os.path.join(d, name)
        if os.access(p, os.X_OK):
            return p
    raise Skip(f"{name} not found (package {package})")


def module_order(mods, wanted):
    """Module files (relative to mods) in load order for the wanted names."""
    deps = {}
    with open(f"{mods}/modules.dep", encoding="utf-8") as f:
        for line in f:
            mod, _, rest = line.partition(":")
            deps[mod] = rest.split()
    byname = {os.path.basename(m).split(".ko")[0].replace("-", "_"): m
              for m in deps}
    order = []

    def visit(m):
        if m in order:
            return
        for d in deps[m]:
            visit(d)
        order.append(m)

    for name in wanted:
        if name not in byname:
            # Built in: nothing to load.
            if os.path.exists(f"{mods}/modules.builtin") and name in open(
                    f"{mods}/modules.builtin", encoding="utf-8").read():
                continue
            raise Skip(f"kernel module {name} not in {mods}/modules.dep")
        visit(byname[name])
    for m in order:
        if not m.endswith(".ko"):
            raise Skip(f"module {m} is compressed; busybox insmod needs .ko")
    return order


class Cpio:
    """A newc archive written by hand, so /dev/console needs no mknod."""

    def __init__(self):
        self.out = bytearray()
        self.ino = 1

    def _entry(self, name, mode, data=b"", rdev=(0, 0)):
        name_b = name.encode() + b"\0"
        fields = [self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0],
                  rdev[1], len(name_b), 0]
        self.ino += 1
        hdr = b"070701" + b"".join(b"%08x" % v for v in fields)
        self.out += hdr + name_b
        self.out += b"\0" * (-len(self.out) % 4)
        self.out += data
        self.out += b"\0" * (-len(self.out) % 4)

    def dir(self, name):
        self._entry(name, 0o040755)

    def file(self, name, data, mode=0o644):
        self._entry(name, 0o100000 | mode, data)

    def chardev(self, name, major, minor):
        self._entry(name, 0o020600, rdev=(major, minor))

    def finish(self):
        self._entry("TRAILER!!!", 0)
        return bytes(self.out)


INIT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
result() { echo "RESULT $*"; }
# Ask the host to act; its answer ("go ...") lands in $reply.
host() { echo "SYNC $*"; read -r reply; echo "GOT $reply"; }
for m in $(cat /modules.order); do
	insmod "/lib/modules/$m" || echo "RESULT boot FAIL insmod $m"
done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
[ -b /dev/vda ] || { echo "RESULT boot FAIL no /dev/vda"; dmesg | tail -20; }
echo "BOOTED $(cut -d' ' -f1 /proc/uptime)"
. /case.sh
echo "DONE"
sync
poweroff -f
"""


def build_initramfs(path, mods, rdguest, script, extra=None):
    busybox = "/bin/busybox"
    if not os.path.exists(busybox):
        raise Skip("no /bin/busybox (package busybox-static)")
    order = module_order(mods, ["virtio_pci", "virtio_blk"])
    c = Cpio()
    for d in ("bin", "dev", "proc", "sys", "tmp", "lib", "lib/modules", "pat"):
        c.dir(d)
    c.chardev("dev/console", 5, 1)
    c.file("bin/busybox", open(busybox, "rb").read(), 0o755)
    c.file("bin/rdguest", open(rdguest, "rb").read(), 0o755)
    c.file("init", INIT.encode(), 0o755)
    c.file("case.sh", script.encode(), 0o644)
    names = []
    for m in order:
        base = os.path.basename(m)
        names.append(base)
        c.file(f"lib/modules/{base}", open(f"{mods}/{m}", "rb").read())
    c.file("modules.order", ("\n".join(names) + "\n").encode())
    for name, data in (extra or {}).items():
        c.file(name, data)
    with open(path, "wb") as f:
        f.write(c.finish())


def pattern(off, length, seed):
    """The bytes rdguest writes at byte offset off (see rdguest.c)."""
    base = bytes(range(256)) * 4
    out = bytearray()
    for lba in range(off // 512, (off + length) // 512):
        k = (lba * 31 + seed * 17 + 16) & 0xff
        out += struct.pack("<QQ", seed, lba) + base[k:k + 496]
    return bytes(out)


class Lines:
    """A reader thread collecting the lines of a stream into a log file."""

    def __init__(self, stream, logpath, tag):
        self.lines = []
        self.cv = threading.Condition()
        self.log = open(logpath, "w", encoding="utf-8")
        self.tag = tag
        self.eof = False
        self.t = threading.Thread(target=self._run, args=(stream,),
                                  daemon=True)
        self.t.start()

    def _run(self, stream):
        buf = b""
        while True:
            data = os.read(stream.fileno(), 4096)
            if not data:
                break
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                self._add(line.decode("utf-8", "replace").rstrip("\r"))
        if buf:
            self._add(buf.decode("utf-8", "replace"))
        with self.cv:
            self.eof = True
            self.cv.notify_all()

    def _add(self, line):
        self.log.write(f"{time.monotonic():.3f} {line}\n")
        self.log.flush()
        with self.cv:
            self.lines.append(line)
            self.cv.notify_all()

    def wait(self, regex, timeout, start=0):
        """(index, match) of the first line from start matching regex."""
        rx = re.compile(regex)
        end = time.monotonic() + timeout
        i = start
        with self.cv:
            while True:
                while i < len(self.lines):
                    m = rx.search(self.lines[i])
                    if m:
                        return i, m
                    i += 1
                left = end - time.monotonic()
                if left <= 0 or self.eof:
                    raise Fail(f"{self.tag}: no line matching '{regex}' "
                               f"within {timeout} s"
                               + (" (stream closed)" if self.eof else ""))
                self.cv.wait(min(left, 1.0))

    def grep(self, regex, start=0):
        rx = re.compile(regex)
        with self.cv:
            return [m for m in (rx.search(x) for x in self.lines[start:]) if m]

    def count(self):
        with self.cv:
            return len(self.lines)


class Backend:
    """ramdev-vhost-user-blk (ours) or qemu-storage-daemon serving one image."""

    def __init__(self, work, name, daemon, image, readonly=False,
                 devmem=(), args=(), env=None):
        self.work, self.name, self.daemon = work, name, daemon
        self.image, self.readonly, self.devmem = image, readonly, devmem
        self.args = list(args)
        self.env = dict(os.environ, **(env or {}))
        self.sock = os.path.join(work, f"{name}.sock")
        self.ours = daemon is not None
        self.proc = None
        self.err = None
        self.runs = 0

    def start(self):
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        if self.ours:
            cmd = [self.daemon, "--socket", self.sock, "--image", self.image,
                   "--print-stats"]
            if self.readonly:
                cmd.append("--read-only")
            for gpa, size in self.devmem:
                cmd += ["--device-memory", f"0x{gpa:x}:0x{size:x}"]
            cmd += self.args
            # Debugging aid, e.g. RAMDEV_IT_DAEMON_ARGS="--verbose".
            cmd += os.environ.get("RAMDEV_IT_DAEMON_ARGS", "").split()
        else:
            ro = ",read-only=on" if self.readonly else ""
            cmd = ["qemu-storage-daemon", "--blockdev",
                   f"driver=file,filename={self.image},node-name=d{ro}",
                   "--export",
                   "type=vhost-user-blk,id=e,node-name=d,addr.type=unix,"
                   f"addr.path={self.sock},writable="
                   + ("off" if self.readonly else "on")]
        self.runs += 1
        log = os.path.join(self.work, f"{self.name}.{self.runs}.log")
        with open(log + ".cmd", "w", encoding="utf-8") as f:
            f.write(" ".join(cmd) + "\n")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=self.env)
        self.err = Lines(self.proc.stdout, log, f"{self.name} back end")
        end = time.monotonic() + 10
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None or time.monotonic() > end:
                raise Fail(f"{self.name}: back end did not create its socket "
                           f"(see {log})")
            time.sleep(0.02)

    def stats(self, timeout=10):
        """SIGUSR1, then the totals line as a dict (ours only)."""
        n = self.err.count()
        self.proc.send_signal(signal.SIGUSR1)
        _, m = self.err.wait(r"stats: total: (.*)", timeout, n)
        return parse_stats(m.group(1))

    def kill9(self):
        self.proc.kill()
        self.proc.wait()

    def stop(self, timeout=10):
        """SIGTERM; returns the exit status (the last stats, if any, are in
        the log)."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "hung on SIGTERM"


def parse_stats(text):
    words = text.split()
    return {words[i]: int(words[i + 1]) for i in range(0, len(words) - 1, 2)}


class QMP:
    def __init__(self, path, timeout=20):
        end = time.monotonic() + timeout
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX)
                self.s.connect(path)
                break
            except OSError:
                self.s.close()
                if time.monotonic() > end:
                    raise Fail(f"QMP: cannot connect to {path}")
                time.sleep(0.05)
        self.buf = b""
        self.events = []
        self._recv(10)  # greeting
        self.cmd("qmp_capabilities")

    def _recv(self, timeout):
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.s], [], [], left)[0]:
                raise Fail("QMP: no answer")
            data = self.s.recv(65536)
            if not data:
                raise Fail("QMP: connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def cmd(self, name, timeout=20, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.s.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            r = self._recv(timeout)
            if "event" in r:
                self.events.append(r)
                continue
            if "error" in r:
                raise Fail(f"QMP {name}: {r['error'].get('desc')}")
            return r.get("return")

    def event(self, name, timeout, **data):
        end = time.monotonic() + timeout
        while True:
            for e in self.events:
                if e["event"] == name and all(
                        e.get("data", {}).get(k) == v for k, v in data.items()):
                    self.events.remove(e)
                    return e
            left = end - time.monotonic()
            if left <= 0:
                raise Fail(f"QMP: no {name} event within {timeout} s")
            try:
                r = self._recv(left)
            except Fail:
                continue
            if "event" in r:
                self.events.append(r)


class VM:
    """One QEMU run: a Linux guest with one vhost-user-blk-pci per back end."""

    def __init__(self, work, name, kernel, initrd, backends, numa=(),
                 ram=512 << 20, hotplug=False, reconnect=False):
        self.work, self.name = work, name
        self.qmp_path = os.path.join(work, f"{name}.qmp")
        cmd = [find_program("qemu-system-x86_64", "qemu-system-x86"),
               "-nodefaults", "-no-user-config", "-display", "none",
               "-smp", "1", "-no-reboot"]
        # TCG by default: a Linux guest under KVM was seen to hang on this
        # machine.  RAMDEV_IT_KVM=1 opts in.
        if os.environ.get("RAMDEV_IT_KVM") == "1":
            cmd += ["-accel", "kvm", "-cpu", "host"]
        else:
            cmd += ["-accel", "tcg", "-cpu", "max"]
        total = ram + sum(size for size in numa)
        m = f"{total >> 20}M"
        if hotplug:
            m += ",slots=4,maxmem=2G"
        cmd += ["-m", m, "-object",
                f"memory-backend-memfd,id=mem0,size={ram},share=on"]
        if numa:
            cmd += ["-numa", "node,nodeid=0,memdev=mem0"]
            for i, size in enumerate(numa, 1):
                cmd += ["-object",
                        f"memory-backend-memfd,id=mem{i},size={size},share=on",
                        "-numa", f"node,nodeid={i},memdev=mem{i}"]
        else:
            cmd += ["-machine", "pc,memory-backend=mem0"]
        for i, b in enumerate(backends):
            rc = ",reconnect=1" if reconnect else ""
            cmd += ["-chardev", f"socket,id=vu{i},path={b.sock}{rc}",
                    "-device", f"vhost-user-blk-pci,chardev=vu{i},"
                    f"num-queues=1,id=blk{i}"]
        append = ("console=ttyS0 loglevel=4 panic=-1 mitigations=off "
                  "memhp_default_state=online_movable rdinit=/init")
        cmd += ["-kernel", kernel, "-initrd", initrd, "-append", append,
                "-serial", "stdio",
                "-qmp", f"unix:{self.qmp_path},server=on,wait=off"]
        with open(os.path.join(work, f"{name}.cmd"), "w",
                  encoding="utf-8") as f:
            f.write(" ".join(cmd) + "\n")
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.serial = Lines(self.proc.stdout,
                            os.path.join(work, f"{name}.serial.log"),
                            f"{name} serial")
        self.qmp = QMP(self.qmp_path) if hotplug else None

    def reply(self, text):
        self.proc.stdin.write(text.encode() + b"\n")
        self.proc.stdin.flush()

    def sync(self, tag, timeout):
        """Wait for the guest's 'SYNC tag ...'; returns its words."""
        _, m = self.serial.wait(rf"^SYNC {re.escape(tag)}\b(.*)", timeout)
        return m.group(1).split()

    def results(self):
        """{name: (PASS|FAIL, detail)} from the RESULT lines so far."""
        out = {}
        for m in self.serial.grep(r"^RESULT (\S+) (PASS|FAIL)\s*(.*)"):
            out[m.group(1)] = (m.group(2), m.group(3))
        return out

    def finish(self, timeout):
        """Wait for the guest's poweroff; returns seconds since start."""
        try:
            self.serial.wait(r"^DONE", timeout)
            self.proc.wait(30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        return time.monotonic() - self.t0

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
