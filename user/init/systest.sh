#!/bin/sh
# /init of the system-test initramfs (packed by xtask/src/systest/build.rs),
# the same for Linux and Ferrite. It runs as PID 1 under Debian's busybox:
# every test program in /tests, then every script in /scripts, each under a
# timeout, and powers off. It mounts nothing: the tests need only the
# initramfs root (tmpfs), /tmp in it and the device nodes packed in /dev.
#
# Lines for xtask, besides the tests' own "ok - ..." / "not ok - ...":
#   # systest: start | end
#   # run NAME                     before each test
#   # exit NAME STATUS             after it (137: killed at the timeout)
#   # output NAME begin | end      a compared script's output (bless mode)
# Kernel parameters that Linux hands to init's environment:
#   systest_timeout=SECONDS        per test (default 120)
#   systest_bless=1                print compared scripts' outputs
#   systest_modules=1              insmod /lib/modules/modules.order (Linux)
#   systest_filter=WORD            only the tests whose names contain WORD
#   systest_skip=A,B               not these tests (the ext2-root tier's
#                                  list, xtask/src/systest/ext2root.rs)
# The ext2-root tier runs this from the root image (user/disk/suite.sh):
# hence the sync before the power-off.

export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/ TERM=dumb
umask 022
limit=${systest_timeout:-120}

# Whether test $1 is wanted (systest_filter, systest_skip).
wanted() {
	case "$1" in *"$systest_filter"*) ;; *) return 1 ;; esac
	case ",$systest_skip," in *",$1,"*) return 1 ;; esac
}
echo "# systest: start"

# Debian's Linux has virtio_blk as a module (xtask/src/systest/scratch.rs):
# load it and what it needs, in order, for the scratch disk /dev/vda.
if [ -n "$systest_modules" ] && [ -f /lib/modules/modules.order ]; then
	for module in $(cat /lib/modules/modules.order); do
		insmod "/lib/modules/$module.ko" || echo "# systest: insmod $module failed"
	done
fi

for test in /tests/*; do
	[ -x "$test" ] || continue
	name=${test##*/}
	wanted "$name" || continue
	echo "# run $name"
	cd /
	timeout -s KILL "$limit" "$test" </dev/null
	echo "# exit $name $?"
done

for script in /scripts/*.sh; do
	[ -f "$script" ] || continue
	name=${script##*/}
	name=${name%.sh}
	wanted "$name" || continue
	echo "# run $name"
	cd /
	expected=/scripts/$name.expected
	if [ -f "$expected" ]; then
		# Compared byte for byte with the output recorded on Linux.
		timeout -s KILL "$limit" sh "$script" </dev/null >"/tmp/$name.out" 2>&1
		status=$?
		if cmp -s "$expected" "/tmp/$name.out"; then
			echo "ok - $name/output_matches_linux"
		else
			echo "not ok - $name/output_matches_linux: differs from user/scripts/$name.expected"
			diff "$expected" "/tmp/$name.out" | head -n 40 | sed 's/^/# diff: /'
		fi
		if [ -n "$systest_bless" ]; then
			echo "# output $name begin"
			cat "/tmp/$name.out"
			echo "# output $name end"
		fi
	else
		timeout -s KILL "$limit" sh "$script" </dev/null
		status=$?
	fi
	echo "# exit $name $status"
done

sync
echo "# systest: end"
poweroff -f
