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

export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/ TERM=dumb
limit=${bench_timeout:-30}
echo "# bench: start"

for bench in /bench/*; do
	[ -f "$bench" ] && [ -x "$bench" ] || continue
	name=${bench##*/}
	echo "# run $name"
	cd /
	timeout -s KILL "$limit" "$bench" </dev/null
	echo "# exit $name $?"
done

echo "# bench: end"
poweroff -f
