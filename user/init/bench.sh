#!/bin/sh
# /init of the benchmark initramfs (packed by xtask/src/bench/initramfs.rs),
# the same for Linux and Ferrite. It runs as PID 1 under Debian's busybox:
# every benchmark in /bench (user/bench/*.c), one after the other, each under
# a timeout, and powers off. Nothing else runs meanwhile.
#
# Lines for xtask, besides the benchmarks' own "bench NAME ..." line:
#   # bench: start | end
#   # run NAME                     before each benchmark
#   # exit NAME STATUS             after it (137: killed at the timeout)
# Kernel parameter that Linux hands to init's environment:
#   bench_timeout=SECONDS          per benchmark (default 30)
#   bench_disk=1                   mount the ext2 disk /dev/vda on /mnt first
#                                  (the storage rows, xtask/src/bench/storage.rs);
#                                  "# bench: disk: why" if it cannot
#   bench_modules=1                insmod /lib/modules/modules.order first
#                                  (Linux: virtio_blk and ext4 are modules)

export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/ TERM=dumb
limit=${bench_timeout:-30}

# Finds vda's numbers in /proc/partitions (Linux's virtio_blk takes a
# dynamic major and probes asynchronously: wait up to 5 s), makes the node
# and mounts it.
mount_disk() {
	mkdir -p /proc /mnt
	mount -t proc proc /proc || { echo "# bench: disk: no /proc"; return; }
	tries=0
	while ! grep -q ' vda$' /proc/partitions && [ "$tries" -lt 50 ]; do
		sleep 0.1
		tries=$((tries + 1))
	done
	numbers=$(awk '$4 == "vda" { print $1, $2 }' /proc/partitions)
	if [ -z "$numbers" ]; then
		echo "# bench: disk: no vda in /proc/partitions"
		return
	fi
	[ -b /dev/vda ] || mknod /dev/vda b $numbers
	if ! out=$(mount -t ext2 /dev/vda /mnt 2>&1); then
		echo "# bench: disk: mount -t ext2 /dev/vda /mnt failed: $out"
	fi
}

echo "# bench: start"

if [ -n "$bench_modules" ] && [ -f /lib/modules/modules.order ]; then
	for module in $(cat /lib/modules/modules.order); do
		insmod "/lib/modules/$module.ko" || echo "# bench: insmod $module failed"
	done
fi
[ -n "$bench_disk" ] && mount_disk

for bench in /bench/*; do
	[ -f "$bench" ] && [ -x "$bench" ] || continue
	name=${bench##*/}
	echo "# run $name"
	cd /
	timeout -s KILL "$limit" "$bench" </dev/null
	echo "# exit $name $?"
done

# Leave the disk clean (e2fsck -fn finds nothing), as a shutdown would.
[ -n "$bench_disk" ] && grep -q ' /mnt ' /proc/mounts && umount /mnt
echo "# bench: end"
poweroff -f
