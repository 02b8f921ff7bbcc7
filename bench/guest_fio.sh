#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Guest-level cross-check of `ramdev bench vhost` (issue 14 item 4; not run
# by `make test`): a Linux guest runs fio against /dev/vda through
#   ramdev   - ramdev-vhost-user-blk       (-device vhost-user-blk-pci)
#   qsd      - qemu-storage-daemon          (-device vhost-user-blk-pci)
#   builtin  - QEMU's own virtio-blk        (-device virtio-blk-pci)
# each on its own fresh image of the same size in the same directory, O_DIRECT
# on the host (--direct, cache.direct=on) and in the guest (fio --direct=1),
# in the same run, back ends taking turns per job.
#
# usage: bench/guest_fio.sh [BUILD_DIR] [--accel kvm|tcg] [--runtime S]
#                           [--size MiB] [--keep] [--backends 'ramdev qsd builtin']
# Needs (Debian 12): qemu-system-x86, qemu-storage-daemon, linux-image-amd64,
# busybox-static, cpio, fio.  TCG by default (slow: the guest, not the back
# end, is then the bottleneck; the table says which), --accel kvm if usable.
set -eu

BUILD=build
ACCEL=
RUNTIME=5
SIZE=512
KEEP=0
ONLY=
while [ $# -gt 0 ]; do
	case "$1" in
	--accel) ACCEL=$2; shift ;;
	--runtime) RUNTIME=$2; shift ;;
	--size) SIZE=$2; shift ;;
	--keep) KEEP=1 ;;
	--backends) ONLY=$2; shift ;;
	-h|--help) sed -n '3,18p' "$0"; exit 0 ;;
	*) BUILD=$1 ;;
	esac
	shift
done

die() { echo "guest_fio: $*" >&2; exit 1; }
for p in qemu-system-x86_64 qemu-storage-daemon busybox cpio fio modprobe; do
	command -v $p >/dev/null 2>&1 || die "$p not found (scripts/deps.sh; apt-get install fio)"
done
DAEMON=$BUILD/tools/ramdev-vhost-user-blk
KERNEL=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -1)
[ -n "$KERNEL" ] || die "no /boot/vmlinuz-* (apt-get install linux-image-amd64)"
KVER=${KERNEL#/boot/vmlinuz-}
MODDIR=/lib/modules/$KVER
# TCG unless asked: on the nested-virtualisation hosts this was written on,
# /dev/kvm opens but a guest never gets past the kernel's decompressor.
[ -n "$ACCEL" ] || ACCEL=tcg
CPU=max
SMP=1
[ "$ACCEL" = kvm ] && CPU=host && SMP=2

W=$(mktemp -d /var/tmp/ramdev-guest-fio-XXXXXX)
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ "$KEEP" = 1 ] || rm -rf "$W"
}
trap cleanup EXIT INT TERM

# ---- initramfs: busybox, fio and its libraries, the virtio modules ----
R=$W/root
mkdir -p "$R/bin" "$R/dev" "$R/proc" "$R/sys" "$R/mod" "$R/tmp"
cp "$(command -v busybox)" "$R/bin/busybox"
for a in sh mount insmod poweroff sleep cat echo ls grep; do
	ln -s busybox "$R/bin/$a"
done
cp "$(command -v fio)" "$R/bin/fio"
for lib in $(ldd "$(command -v fio)" | awk '/=>/ {print $3} /ld-linux/ {print $1}'); do
	mkdir -p "$R$(dirname "$lib")"
	cp -L "$lib" "$R$lib"
done
# The modules in dependency order, each once (built-in ones print nothing).
n=0
for f in $(for m in virtio_pci virtio_blk; do
		   modprobe --show-depends -S "$KVER" $m
	   done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }'); do
	n=$((n + 1))
	m=$(basename "$f"); m=${m%%.ko*}
	case "$f" in
	*.xz) xz -dc "$f" > "$R/mod/$n-$m.ko" ;;
	*.zst) zstd -qdc "$f" > "$R/mod/$n-$m.ko" ;;
	*) cp "$f" "$R/mod/$n-$m.ko" ;;
	esac
done
cat > "$R/init" <<EOF
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in \$(ls /mod | sort -n); do insmod /mod/\$m; done
i=0
while [ ! -b /dev/vda ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done
echo "GUEST: \$(cat /proc/partitions | grep vda)"; ls -l /dev/vda
J="--filename=/dev/vda --direct=1 --ioengine=libaio --runtime=$RUNTIME"
J="\$J --time_based --ramp_time=1 --output-format=terse --terse-version=3"
for job in \$(cat /proc/cmdline); do
	case \$job in job=*) ;; *) continue ;; esac
	set -- \$(echo \${job#job=} | sed 's/,/ /g')
	echo "FIO-BEGIN \$1 \$2 \$3"
	fio --name=\$1 --rw=\$1 --bs=\$2 --iodepth=\$3 \$J
	echo "FIO-END"
done
poweroff -f
EOF
chmod +x "$R/init"
(cd "$R" && find . | cpio -o -H newc --quiet) > "$W/initrd"

# ---- images and back ends ----
make_image() {
	dd if=/dev/urandom of="$1" bs=1M count="$SIZE" status=none
	sync
}
BACKENDS="qsd builtin"
if [ -x "$DAEMON" ]; then
	BACKENDS="ramdev qsd builtin"
else
	echo "guest_fio: $DAEMON not built: ramdev skipped" >&2
fi
[ -z "$ONLY" ] || BACKENDS=$ONLY
for b in $BACKENDS; do
	make_image "$W/$b.img"
done

# One guest per back end and job list; prints the fio terse lines.
boot() { # backend jobs...
	b=$1; shift
	append="console=ttyS0 quiet panic=-1"
	for j in "$@"; do append="$append job=$j"; done
	dev=
	bpid=
	case $b in
	ramdev)
		"$DAEMON" --socket "$W/sock" --image "$W/$b.img" --direct \
			--num-queues 2 > "$W/$b.log" 2>&1 &
		bpid=$! ;;
	qsd)
		qemu-storage-daemon --blockdev driver=file,filename="$W/$b.img",node-name=d,cache.direct=on,aio=io_uring \
			--export type=vhost-user-blk,id=e,node-name=d,addr.type=unix,addr.path="$W/sock",writable=on,num-queues=2 \
			> "$W/$b.log" 2>&1 &
		bpid=$! ;;
	esac
	if [ -n "$bpid" ]; then
		PIDS="$PIDS $bpid"
		i=0
		while [ ! -S "$W/sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
		dev="-chardev socket,id=c0,path=$W/sock -device vhost-user-blk-pci,chardev=c0,num-queues=2"
	else
		dev="-blockdev driver=file,filename=$W/$b.img,node-name=d,cache.direct=on,aio=io_uring -device virtio-blk-pci,drive=d,num-queues=2"
	fi
	# shellcheck disable=SC2086
	timeout 900 qemu-system-x86_64 -accel "$ACCEL" -cpu "$CPU" -smp "$SMP" -m 1G \
		-object memory-backend-memfd,id=mem,size=1G,share=on \
		-machine q35,memory-backend=mem -nographic -no-reboot \
		-kernel "$KERNEL" -initrd "$W/initrd" -append "$append" \
		$dev > "$W/$b.console" 2>&1 || true
	if [ -n "$bpid" ]; then
		kill "$bpid" 2>/dev/null || true
		wait "$bpid" 2>/dev/null || true
		rm -f "$W/sock"
	fi
	tr -d '\r' < "$W/$b.console" | grep -E '^(FIO-BEGIN|3;)' || true
}

JOBS="randread,4k,1 randread,4k,32 randwrite,4k,32 read,1M,8 write,1M,8"
echo "guest_fio: $ACCEL, kernel $KVER, ${SIZE} MiB images in $W, ${RUNTIME} s per job" >&2
: > "$W/results"
# One boot per back end runs every job; the order of the jobs alternates
# between back ends so neither always gets the same page-cache history.
i=0
for b in $BACKENDS; do
	jobs=$JOBS
	[ $((i % 2)) = 1 ] && jobs=$(echo $JOBS | tr ' ' '\n' | sort -r | tr '\n' ' ')
	i=$((i + 1))
	echo "guest_fio: $b: $jobs" >&2
	# shellcheck disable=SC2086
	boot "$b" $jobs | awk -v b="$b" '
		/^FIO-BEGIN/ { rw = $2; bs = $3; qd = $4; next }
		/^3;/ {
			split($0, f, ";")
			if (rw ~ /write/) { iops = f[49]; bw = f[48]; p50 = f[65]; p99 = f[71] }
			else { iops = f[8]; bw = f[7]; p50 = f[24]; p99 = f[30] }
			sub(/.*=/, "", p50); sub(/.*=/, "", p99)
			printf "%-9s %-5s qd%-3s %-8s %10.0f %9.1f %9s %9s\n", rw, bs, qd, b, iops, bw / 1024, p50, p99
		}' >> "$W/results"
done
printf "%-9s %-5s %-5s %-8s %10s %9s %9s %9s   (%s, guest fio, O_DIRECT)\n" \
	job bs qd backend IOPS MiB/s "p50 us" "p99 us" "$ACCEL"
sort -s -k1,3 "$W/results"
