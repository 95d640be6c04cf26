#!/bin/sh
# The second boot of the disk tier (disk_test=persist) on the image the
# workload left: what the first boot wrote is there, and this boot's write
# survives too (the host checks the image again afterwards).
if [ "$(cat /data/persist 2>&1)" = "persisted by the first boot" ]; then
	echo "ok - persist/first_boot_data"
else
	echo "not ok - persist/first_boot_data: /data/persist: $(cat /data/persist 2>&1)"
fi
if [ "$(ls /data/long | wc -l)" -eq 857 ]; then
	echo "ok - persist/long_dir"
else
	echo "not ok - persist/long_dir: $(ls /data/long | wc -l) entries"
fi
# The root mount defaults to relatime, as every mount(2) without an atime
# flag (Linux: path_mount); the device is /dev/root on Ferrite, /dev/vda
# through Linux's shim.
if grep -q '^[^ ]* / ext2 rw,relatime 0 0$' /proc/mounts; then
	echo "ok - persist/root_relatime"
else
	echo "not ok - persist/root_relatime: $(grep ' / ' /proc/mounts)"
fi
echo second boot >>/data/persist && echo "ok - persist/append"
