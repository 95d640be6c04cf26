#!/bin/sh
# /init of the Linux shim initramfs (xtask/src/systest/disk.rs): Debian's
# kernel has virtio_pci, virtio_blk and ext4 as modules, so it cannot mount
# root=/dev/vda by itself as Ferrite does. This loads them (in dependency
# order, from /lib/modules), mounts the root= device the way the kernel would
# (rootfstype=, ro/rw from /proc/cmdline; ext2 through ext4's ext2 driver)
# and hands over to the image's /sbin/init with switch_root. Linux's own
# init/do_mounts.c does the same for a built-in driver.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t devtmpfs devtmpfs /dev
# modules.order: the dependency order, from xtask (SHIM_MODULES).
for module in $(cat /lib/modules/modules.order); do
	insmod "/lib/modules/$module.ko" 2>/dev/null
done

root= fstype=ext2 mode=ro
for word in $(cat /proc/cmdline); do
	case "$word" in
	root=*) root=${word#root=} ;;
	rootfstype=*) fstype=${word#rootfstype=} ;;
	ro) mode=ro ;;
	rw) mode=rw ;;
	esac
done
# virtio_blk probes asynchronously: wait for the node (rootwait).
tries=0
while [ ! -b "$root" ] && [ "$tries" -lt 50 ]; do
	sleep 0.1
	tries=$((tries + 1))
done
mkdir -p /newroot
if ! mount -t "$fstype" -o "$mode" "$root" /newroot; then
	echo "shim: VFS: Unable to mount root fs on $root"
	poweroff -f
fi
umount /dev
umount /proc
exec switch_root /newroot /sbin/init "$@"
