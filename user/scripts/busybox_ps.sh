#!/bin/sh
# ps over /proc: mounts procfs (it needs it), then looks for a known
# background process by its pid. On Ferrite this waits for procfs.
pass() { echo "ok - busybox_ps/$1"; }
fail() { echo "not ok - busybox_ps/$1: $2"; failed=1; }
failed=0
mkdir -p /proc
if mount -t proc proc /proc 2>/dev/null || [ -e /proc/self/stat ]; then pass mount_proc; else fail mount_proc "mount -t proc failed"; fi
sleep 5 &
job=$!
# The job is named `sleep` only once its exec is done, which under a loaded
# host can take a moment on either kernel: wait up to 5 s for it.
i=0
while [ "$(cat /proc/$job/comm 2>/dev/null)" != sleep ] && [ $i -lt 50 ]; do
	usleep 100000
	i=$((i + 1))
done
if ps -o pid,comm | grep -q "^ *$job sleep"; then pass ps_lists_job; else fail ps_lists_job "no line for pid $job"; fi
if [ "$(ps -o comm | grep -c '^ps$')" = 1 ]; then pass ps_lists_itself; else fail ps_lists_itself "ps not listed once"; fi
kill $job; wait $job
if ps -o pid | grep -q "^ *$job\$"; then fail reaped_job_gone "pid $job still listed"; else pass reaped_job_gone; fi
umount /proc 2>/dev/null
exit $failed
