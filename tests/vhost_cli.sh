#!/bin/sh
# ramdev-vhost-user-blk as a program: options, exit codes, the socket, the
# stats lines on SIGUSR1 and at exit (the formats other tools parse).
# Usage: vhost_cli.sh PATH-TO-DAEMON
set -u
D="$1"
T=$(mktemp -d /tmp/ramdev-vhost-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; [ -f "$T/log" ] && sed 's/^/  log: /' "$T/log"; exit 1; }

"$D" --help | grep -q 'stats: queue Q: requests N read-bytes N write-bytes N devmem-bytes N errors N' \
	|| fail "--help lacks the stats format"
"$D" --version | grep -q '^ramdev-vhost-user-blk [0-9]' || fail "--version"
"$D" --socket "$T/s" >/dev/null 2>&1; [ $? -eq 2 ] || fail "no --image: exit 2"
"$D" --socket "$T/s" --image x --num-queues 0 >/dev/null 2>&1; [ $? -eq 2 ] || fail "--num-queues 0: exit 2"
"$D" --socket "$T/s" --image x --queue-size 100 >/dev/null 2>&1; [ $? -eq 2 ] || fail "--queue-size 100: exit 2"
"$D" --socket "$T/s" --image x --device-memory 0x1000 >/dev/null 2>&1; [ $? -eq 2 ] || fail "--device-memory without size: exit 2"
"$D" --socket "$T/s" --image x --device-memory 0x1000:0 >/dev/null 2>&1; [ $? -eq 2 ] || fail "--device-memory size 0: exit 2"
"$D" --socket "$T/s" --image x --engine foo >/dev/null 2>&1; [ $? -eq 2 ] || fail "--engine foo: exit 2"
for w in 0 3 128 x; do
	"$D" --socket "$T/s" --image x --dma-width $w >/dev/null 2>&1; [ $? -eq 2 ] || fail "--dma-width $w: exit 2"
done
"$D" --socket "$T/s" --image "$T/missing" >/dev/null 2>&1; [ $? -eq 1 ] || fail "missing image: exit 1"

truncate -s 1M "$T/img"
: > "$T/s" # a stale non-socket file is not removed: bind fails, exit 1
"$D" --socket "$T/s" --image "$T/img" >/dev/null 2>&1; [ $? -eq 1 ] || fail "socket path is a file: exit 1"
rm -f "$T/s"

"$D" --socket "$T/s" --image "$T/img" --num-queues 3 --sync-missing-option >/dev/null 2>&1
[ $? -eq 2 ] || fail "unknown option: exit 2"
"$D" --socket "$T/s" --image "$T/img" --num-queues 3 --engine sync \
	--device-memory 0x100000000:4G --dma-width 4 --no-merge --print-stats 2>"$T/log" &
pid=$!
i=0
while [ ! -S "$T/s" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
[ -S "$T/s" ] || fail "no socket"
grep -q 'device memory: gpa 0x100000000 size 0x100000000' "$T/log" || fail "device memory line"
grep -q 'device memory: DMA width 4$' "$T/log" || fail "DMA width line"
grep -q 'request merging off$' "$T/log" || fail "merging off line"
# A second daemon on a live socket refuses (exit 1) and leaves it alone.
"$D" --socket "$T/s" --image "$T/img" >/dev/null 2>&1; [ $? -eq 1 ] || fail "second daemon on a live socket: exit 1"
[ -S "$T/s" ] || fail "second daemon removed the live socket"
kill -USR1 $pid
i=0
while ! grep -q 'stats: total:' "$T/log" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
kill -TERM $pid
wait $pid
rc=$?
[ $rc -eq 0 ] || fail "SIGTERM: exit $rc"
for q in 0 1 2; do
	n=$(grep -c "^ramdev-vhost-user-blk: stats: queue $q: requests 0 read-bytes 0 write-bytes 0 devmem-bytes 0 errors 0\$" "$T/log")
	[ "$n" -eq 2 ] || fail "queue $q stats lines: $n, expected 2 (SIGUSR1, exit)"
done
n=$(grep -c '^ramdev-vhost-user-blk: stats: total: requests 0 read-bytes 0 write-bytes 0 devmem-bytes 0 errors 0$' "$T/log")
[ "$n" -eq 2 ] || fail "total stats lines: $n, expected 2"
[ -e "$T/s" ] && fail "socket left behind at exit"
echo "ok"
