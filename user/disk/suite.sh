#!/bin/sh
# The ext2-root tier (xtask/src/systest/ext2root.rs): the whole system-test
# suite, run by the initramfs's own /init (user/init/systest.sh, staged as
# /disk/systest.sh), but with / (the tests' working directory) and /tmp on
# the ext2 root, so that the file tests exercise ext2 rather than tmpfs.
# systest.sh syncs and powers off itself.
umount /tmp
for dir in / /tmp; do
	fs=$(stat -f -c %T "$dir")
	case "$fs" in
	ext2*) echo "ok - suite/on_ext2:$dir" ;;
	*) echo "not ok - suite/on_ext2:$dir: $dir is on $fs" ;;
	esac
done
exec sh /disk/systest.sh
