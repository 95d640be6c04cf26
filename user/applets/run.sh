#!/bin/sh
# The busybox applet matrix: one scripted case per applet of `busybox --list`,
# run the same way on Linux and on Ferrite (xtask/src/systest/applets.rs
# boots this as /init and writes docs/applets.md from its lines).
#
#   sh run.sh [PATTERN...]     the applets whose names match a PATTERN (shell
#                              glob, exact without one; all without any)
#
# Cases live in cases_a_k.sh and cases_l_z.sh beside this file: applet NAME
# is checked by the function case_NAME, NAME with every character outside
# [A-Za-z0-9] replaced by `_` (`[` -> case__, `run-init` -> case_run_init).
# Each runs in a fresh scratch directory under /tmp, in its own session,
# stdin from /dev/null, killed after $applets_timeout seconds (default 30).
# It prints a short reason before failing (`echo "sort -n wrong order";
# return 1`), or calls `na REASON` when the machine cannot run the applet on
# any kernel (no such hardware); cases that change the machine start with
# `guest_only` (they skip on a host). One line per applet:
#   ok - applets/NAME
#   ok - applets/NAME # SKIP REASON               the case called na
#   not ok - applets/NAME: WHY                    WHY: the case's last line
# A failing case's last lines come before its result as `# | LINE`.
#
# As PID 1 (the applet boot), it mounts /proc, /sys, /dev, /tmp, loads
# Linux's disk modules (applets_modules=1), brackets the run with
# `# applets: start` / `# applets: end` and powers off. Kernel parameters
# reach it as environment: applets_filter=PATTERN, applets_timeout=SECONDS.
# On a host (as root) it links busybox's applets into a private directory at
# the head of PATH, so that cases run busybox's applets there too.

here=${0%/*}
[ "$here" = "$0" ] && here=.
here=$(cd "$here" && pwd)
self=$here/${0##*/}

# A case's way of saying "this machine cannot run this applet".
na() {
	echo "$*"
	exit 77
}

# A case that changes the machine (its disks, clock, host name, network)
# runs only in the QEMU guest, never on a host.
guest_only() {
	[ -n "$applets_guest" ] || na "changes the machine: runs only in the QEMU guest"
}

# The function name of applet $1.
case_name() {
	printf 'case_%s\n' "$1" | sed 's/[^A-Za-z0-9_]/_/g'
}

load_cases() {
	for f in "$here/cases_a_k.sh" "$here/cases_l_z.sh"; do
		# shellcheck disable=SC1090
		[ -f "$f" ] && . "$f"
	done
}

# `sh run.sh --case NAME DIR`: one case, in its own process (so that `exit`
# in a case, `na` included, ends only the case).
if [ "$1" = "--case" ]; then
	load_cases
	cd "$3" || exit 1
	echo $$ >"$3.pid"
	"$(case_name "$2")"
	exit $?
fi

export PATH=/bin:/sbin:/usr/bin:/usr/sbin:$PATH
export HOME=/root TERM=dumb LC_ALL=C
umask 022
limit=${applets_timeout:-30}

boot_setup() {
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev 2>/dev/null
	mkdir -p /dev/pts /dev/shm
	mount -t devpts devpts /dev/pts 2>/dev/null
	mount -t tmpfs tmpfs /tmp
	if [ -n "$applets_modules" ] && [ -f /lib/modules/modules.order ]; then
		for module in $(cat /lib/modules/modules.order); do
			insmod "/lib/modules/$module.ko" || echo "# applets: insmod $module failed"
		done
	fi
	hostname ferrite-applets 2>/dev/null
	cd /
}

host_setup() {
	bindir=/tmp/applets-bin.$$
	mkdir -p "$bindir" && busybox --install -s "$bindir" || exit 1
	PATH=$bindir:$PATH
	trap 'rm -rf "$bindir"' EXIT
}

if [ $$ = 1 ]; then
	export applets_guest=1
	boot_setup
elif [ "$(readlink /bin/ls)" != /bin/busybox ]; then
	host_setup
fi

# Whether applet $1 is wanted.
wanted() {
	[ $# -eq 1 ] && [ -z "$applets_filter" ] && return 0
	name=$1
	shift
	set -f
	for pattern in $applets_filter "$@"; do
		set +f
		# shellcheck disable=SC2254
		case "$name" in $pattern) return 0 ;; esac
	done
	set +f
	return 1
}

load_cases
echo "# applets: start"
passed=0 failed=0 skipped=0
for applet in $(busybox --list | sort); do
	wanted "$applet" "$@" || continue
	fn=$(case_name "$applet")
	if ! command -v "$fn" >/dev/null 2>&1; then
		echo "not ok - applets/$applet: no case"
		failed=$((failed + 1))
		continue
	fi
	dir=/tmp/applet.$fn
	rm -rf "$dir" "$dir.pid" "$dir.out"
	mkdir -p "$dir"
	cd "$dir" || exit 1
	timeout -s KILL "$limit" setsid sh "$self" --case "$applet" "$dir" \
		</dev/null >"$dir.out" 2>&1
	status=$?
	cd /
	# Whatever the case left running in its session goes with it.
	[ -s "$dir.pid" ] && kill -KILL -- "-$(cat "$dir.pid")" 2>/dev/null
	grep " $dir[ /]" /proc/mounts | while read -r _ mnt _; do umount -l "$mnt"; done
	last=$(sed -n '/[^[:space:]]/h; ${x;p;}' "$dir.out" | cut -c1-200)
	case $status in
	0)
		echo "ok - applets/$applet"
		passed=$((passed + 1))
		;;
	77)
		echo "ok - applets/$applet # SKIP ${last:-no reason given}"
		skipped=$((skipped + 1))
		;;
	*)
		tail -n 5 "$dir.out" | cut -c1-200 | sed 's/^/# | /'
		if [ "$status" = 137 ]; then
			[ "$last" = Killed ] && last=
			why="killed after ${limit} s${last:+ (last line: $last)}"
		else
			why=${last:-exit status $status, nothing printed}
		fi
		echo "not ok - applets/$applet: $why"
		failed=$((failed + 1))
		;;
	esac
	rm -rf "$dir" "$dir.pid" "$dir.out"
done
echo "# applets: $passed passed, $failed failed, $skipped skipped"
echo "# applets: end"

if [ $$ = 1 ]; then
	sync
	poweroff -f
fi
