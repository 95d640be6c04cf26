#!/bin/sh
# /init for `cargo xtask run --busybox`: a busybox shell on the console.
# The shell runs in a new session on /dev/ttyS0 (not /dev/console, which
# never becomes a controlling terminal), so it gets job control.
mount -t proc proc /proc 2>/dev/null
mount -t tmpfs tmpfs /tmp 2>/dev/null
echo
echo "Welcome to Ferrite: busybox $(busybox | head -n 1 | cut -d' ' -f2) is PID 1's child."
echo "'poweroff -f' ends QEMU."
while true; do
    setsid sh -c 'exec sh -l </dev/ttyS0 >/dev/ttyS0 2>&1'
    echo "shell exited; starting another"
done
