#!/bin/sh
# busybox's /proc readers: ps, top, free, uptime, mount, df, pidof and
# sysctl (issue 6). The whole output is compared with the one recorded on
# Linux (`cargo xtask systest --linux --bless busybox_procfs`), so only
# shapes are printed: headers, field counts, names; never pids, times or
# memory sizes.
mkdir -p /proc
mount -t proc proc /proc 2>/dev/null

echo "== ps"
ps | head -n 1
ps | awk 'NR > 1 { print (NF >= 3) }' | sort -u
ps -o pid,ppid,stat,comm | head -n 1
ps -o comm | grep -c '^ps$'

echo "== top"
top -bn1 > /tmp/top.out
sed -n 1p /tmp/top.out | awk '{ print $1 }'
sed -n 2p /tmp/top.out | awk '{ print $1 }'
sed -n 3p /tmp/top.out | awk '{ print $1, $2 }'
grep -c '^ *PID *PPID USER *STAT *VSZ %VSZ %CPU COMMAND$' /tmp/top.out
grep -c ' top -bn1$' /tmp/top.out

echo "== free"
free | head -n 1 | awk '{ print $1, $2, $3, NF }'
free | awk 'NR > 1 { print $1, NF }'
free -m | awk 'NR == 2 { print ($2 > 0) }'

echo "== uptime"
uptime | grep -c ' up .* load average: [0-9]*\.[0-9][0-9], [0-9]*\.[0-9][0-9], [0-9]*\.[0-9][0-9]$'

echo "== mount"
mount | grep -q '^proc on /proc type proc (rw' && echo "proc on /proc"

echo "== df"
df /proc | head -n 1
df /proc | awk 'NR == 2 { print NF, $1, $NF }'

echo "== pidof"
sleep 5 &
job=$!
i=0
while [ "$(cat /proc/$job/comm 2>/dev/null)" != sleep ] && [ $i -lt 50 ]; do
	usleep 100000
	i=$((i + 1))
done
pidof sleep | tr ' ' '\n' | grep -c "^$job\$"
# ash's "Terminated" notice for the job is not what this script checks.
{ kill $job; wait $job; } 2>/dev/null
pidof no-such-program || echo "none: $?"

echo "== sysctl"
sysctl kernel.ostype
sysctl -n kernel.ngroups_max
sysctl -a 2>/dev/null | grep -c '^kernel\.ostype = Linux$'
sysctl -a 2>/dev/null | grep -c '^kernel\.osrelease = '
old=$(sysctl -n kernel.hostname)
sysctl -w kernel.hostname=bb-procfs
hostname
sysctl -w kernel.hostname="$old" > /dev/null
[ "$(hostname)" = "$old" ] && echo "hostname restored"
umount /proc 2>/dev/null
