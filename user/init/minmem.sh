#!/bin/sh
# /init of `cargo xtask bench`'s smallest-memory boots (packed by
# xtask/src/bench/footprint.rs), the same for Linux and Ferrite: a busybox
# shell that mounts /proc and /tmp and runs the issue-3 busybox script, whose
# output must match the one recorded on Linux byte for byte; then power off.
# xtask boots it with ever smaller -m until it stops working.
#
# Lines for xtask:
#   # minmem: ok | output differs | script failed

export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/ TERM=dumb
umask 022
mount -t proc proc /proc
mount -t tmpfs tmpfs /tmp
cd /
if ! sh /scripts/busybox_basics.sh </dev/null >/tmp/out 2>&1; then
	echo "# minmem: script failed"
elif cmp -s /scripts/busybox_basics.expected /tmp/out; then
	echo "# minmem: ok"
else
	echo "# minmem: output differs"
fi
poweroff -f
