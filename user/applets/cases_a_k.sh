# Applet cases `[`, `[[` and a..k, sourced by run.sh (the contract is there):
# case_NAME checks applet NAME as a user would, printing a short reason
# before it fails. Expected values are computed in the case or written down
# from Linux's output (Debian's busybox 1.35 on Linux 6.1).
#
# Shell builtins (`[`, echo, kill, false...) are reached through `env`, which
# runs the applet itself. Helpers here start with `ak_`.

# ak_eq GOT WANT WHAT: fails with "WHAT: got ..., want ..." unless equal.
ak_eq() {
	[ "$1" = "$2" ] && return 0
	echo "$3: got '$1', want '$2'" | tr '\n' ' '
	echo
	return 1
}

# ak_has TEXT PATTERN WHAT: fails unless grep -E finds PATTERN in TEXT.
ak_has() {
	printf '%s\n' "$1" | grep -Eq -- "$2" && return 0
	echo "$3: no '$2' in: $(printf '%s' "$1" | head -c 120 | tr '\n' ' ')"
	return 1
}

# ak_run CMD...: runs CMD; if it fails, says so with its status and the
# last line it printed (its error message), and fails.
ak_run() {
	ak_out=$("$@" 2>&1)
	ak_status=$?
	[ "$ak_status" = 0 ] && return 0
	echo "$* failed ($ak_status): $(printf '%s\n' "$ak_out" | tail -n 1)"
	return 1
}

# ak_ar_member NAME FILE: one member of an ar(5) archive, on stdout.
ak_ar_member() {
	size=$(wc -c <"$2")
	printf '%-16s%-12s%-6s%-6s%-8s%-10s`\n' "$1" 0 0 0 100644 "$size"
	cat "$2"
	[ $((size % 2)) = 0 ] || printf '\n'
}

# ak_wait_file FILE [TENTHS]: waits until FILE is not empty.
ak_wait_file() {
	n=${2:-100}
	while [ ! -s "$1" ] && [ "$n" -gt 0 ]; do
		usleep 100000
		n=$((n - 1))
	done
	[ -s "$1" ]
}

# ak_lo_up: the loopback interface up (Linux boots with it down).
ak_lo_up() {
	ip link set lo up 2>/dev/null || ifconfig lo up 2>/dev/null
}

# ak_ext2 DEV DIR: a fresh ext2 file system on DEV mounted on DIR.
ak_ext2() {
	mke2fs -q -F "$1" >/dev/null 2>&1 || { echo "mke2fs $1 failed"; return 1; }
	mkdir -p "$2"
	mount -t ext2 "$1" "$2" || { echo "mount -t ext2 $1 failed"; return 1; }
}

# ak_etc_passwd: /etc/passwd and /etc/group with root and nobody, if the
# machine has none (the initramfs has none); ak_etc_restore undoes it.
ak_etc_passwd() {
	ak_made_etc=
	if [ ! -e /etc/passwd ]; then
		mkdir -p /etc
		echo 'root:x:0:0:root:/root:/bin/sh' >/etc/passwd
		echo 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >>/etc/passwd
		printf 'root:x:0:\nnogroup:x:65534:\n' >/etc/group
		ak_made_etc=1
	fi
}
ak_etc_restore() {
	[ -n "$ak_made_etc" ] && rm -f /etc/passwd /etc/group
	return 0
}

case__() {
	env [ 3 -gt 2 ] || { echo "[ 3 -gt 2 ] is false"; return 1; }
	env [ -d . -a ! -e nothing ] || { echo "[ -d . -a ! -e nothing ] is false"; return 1; }
	if env [ abc = abd ]; then echo "[ abc = abd ] is true"; return 1; fi
	env [ 1 -lt 2 2>/dev/null
	ak_eq $? 2 "[ without ] exit status"
}

case___() {
	env [[ 3 -gt 2 ]] || { echo "[[ 3 -gt 2 ]] is false"; return 1; }
	env [[ -n abc ]] || { echo "[[ -n abc ]] is false"; return 1; }
	env [[ abc != abd ]] || { echo "[[ abc != abd ]] is false"; return 1; }
	if env [[ 2 -gt 3 ]]; then echo "[[ 2 -gt 3 ]] is true"; return 1; fi
}

case_acpid() {
	# The event file stands in for /proc/acpi/event; the action file maps
	# the power button's event to an action, run as CONFDIR/ACTION.
	mkdir -p conf/pwr
	printf '#!/bin/sh\necho "$@" >>%s/ran\n' "$PWD" >conf/pwr/run
	chmod +x conf/pwr/run
	echo 'PWRF pwr' >actions
	mkfifo events
	acpid -d -c "$PWD/conf" -a "$PWD/actions" -e "$PWD/events" -p "$PWD/pid" >log 2>&1 &
	exec 3>events
	echo 'button/power PWRF 00000080 00000001' >&3
	# -d logs each event's action as it spawns it.
	n=100
	while ! grep -q '^acpid: pwr$' log && [ $n -gt 0 ]; do
		usleep 100000
		n=$((n - 1))
	done
	kill $! 2>/dev/null
	grep -q '^acpid: pwr$' log || { cat log; echo "acpid did not map PWRF to its action"; return 1; }
	exec 3>&-
}

case_adjtimex() {
	out=$(adjtimex) || { echo "adjtimex failed"; return 1; }
	ak_has "$out" 'tick: +10000 us' "adjtimex" || return 1
	ak_has "$out" 'time.tv_sec: +[0-9]+' "adjtimex" || return 1
	sec=$(echo "$out" | sed -n 's/.*time.tv_sec: *//p')
	now=$(date +%s)
	[ $((now - sec)) -le 2 ] && [ $((sec - now)) -le 2 ] ||
		{ echo "adjtimex time $sec, date $now"; return 1; }
}

case_ar() {
	echo hello >a.txt
	printf 'second\n1\n' >b.txt
	{ printf '!<arch>\n'; ak_ar_member a.txt/ a.txt; ak_ar_member b.txt/ b.txt; } >lib.a
	ak_eq "$(ar t lib.a | tr '\n' ' ')" "a.txt b.txt " "ar t" || return 1
	ak_eq "$(ar p lib.a b.txt)" "$(cat b.txt)" "ar p" || return 1
	mkdir x && cd x && ar x ../lib.a && cmp a.txt ../a.txt && cmp b.txt ../b.txt ||
		{ echo "ar x: members differ"; return 1; }
}

case_arch() {
	ak_eq "$(arch)" x86_64 "arch" && ak_eq "$(arch)" "$(uname -m)" "arch vs uname -m"
}

case_arp() {
	# No NIC: the table is empty, but arp reads it (/proc/net/arp).
	[ -r /proc/net/arp ] || { echo "no /proc/net/arp"; return 1; }
	out=$(arp -n -a 2>&1) || { echo "arp -n -a: $out"; return 1; }
	want=$(($(wc -l </proc/net/arp) - 1))
	ak_eq "$(printf '%s\n' "$out" | grep -c ' at ')" "$want" "arp entries vs /proc/net/arp"
}

case_arping() {
	# ARPHRD_ETHER is type 1.
	grep -qx 1 /sys/class/net/*/type 2>/dev/null || na "no Ethernet interface (the machine has no NIC)"
	echo "arping: this machine has a NIC: write a case for it"
	return 1
}

case_ascii() {
	out=$(ascii)
	ak_has "$out" '65 41 A' "ascii" && ak_has "$out" '127 7f DEL' "ascii" &&
		ak_eq "$(echo "$out" | wc -l)" 17 "ascii line count"
}

case_ash() {
	ak_eq "$(ash -c 'x=$((6*7)); f() { echo "$1-$x"; }; f a')" "a-42" "ash function" || return 1
	ak_eq "$(ash -c 'for i in 1 2 3; do echo $i; done | tail -n1')" 3 "ash loop" || return 1
	ak_eq "$(ash -c 'cat <<EOF
${HOME:+set}
EOF')" set "ash here-doc" || return 1
	ash -c 'exit 7'
	ak_eq $? 7 "ash exit status"
}

case_awk() {
	printf 'b 2\na 3\nb 5\n' >in
	ak_eq "$(awk '{s[$1] += $2} END {printf "%s=%d %s=%d\n", "a", s["a"], "b", s["b"]}' in)" \
		"a=3 b=7" "awk sums" || return 1
	ak_eq "$(awk -F: 'NR==2 {print toupper($1) length($0)}' /dev/null)" "" "awk empty" || return 1
	ak_eq "$(echo 'x:y:z' | awk -F: '{print $NF, NF}')" "z 3" "awk -F" || return 1
	ak_eq "$(awk 'BEGIN {printf "%d %s\n", 7 / 2 * 2, substr("hello", 2, 3)}')" "7 ell" "awk arithmetic"
}

case_base64() {
	ak_eq "$(printf 'hello' | base64)" "aGVsbG8=" "base64" || return 1
	ak_eq "$(echo aGVsbG8gd29ybGQ= | base64 -d)" "hello world" "base64 -d" || return 1
	head -c 3000 /dev/urandom >r
	base64 r | base64 -d | cmp -s - r || { echo "base64 round trip differs"; return 1; }
}

case_basename() {
	ak_eq "$(basename /a/b/c.txt .txt)" c "basename SUFFIX" &&
		ak_eq "$(basename /a/b/)" b "basename dir/" && ak_eq "$(basename /)" / "basename /"
}

case_bc() {
	ak_eq "$(echo '2^64' | bc)" 18446744073709551616 "bc 2^64" || return 1
	ak_eq "$(echo 'scale=5; 1/3' | bc)" .33333 "bc scale" || return 1
	ak_eq "$(echo 'define f(n) { if (n < 2) return n; return f(n-1) + f(n-2); }; f(20)' | bc)" \
		6765 "bc function"
}

case_blkdiscard() {
	guest_only
	[ -b /dev/vda2 ] || { echo "no /dev/vda2"; return 1; }
	ak_run blkdiscard -o 0 -l 65536 /dev/vda2 || return 1
}

case_blockdev() {
	guest_only
	[ -b /dev/vda ] || { echo "no /dev/vda"; return 1; }
	ak_eq "$(blockdev --getsize64 /dev/vda)" 4194304 "--getsize64 vda" || return 1
	ak_eq "$(blockdev --getsz /dev/vda1)" 2048 "--getsz vda1" || return 1
	ak_eq "$(blockdev --getss /dev/vda)" 512 "--getss" || return 1
	ak_eq "$(blockdev --getro /dev/vda)" 0 "--getro" || return 1
	blockdev --setro /dev/vda2 && ak_eq "$(blockdev --getro /dev/vda2)" 1 "--setro" || return 1
	blockdev --setrw /dev/vda2
	ak_eq "$(blockdev --getro /dev/vda2)" 0 "--setrw"
}

case_brctl() {
	guest_only
	ak_run brctl addbr akbr0 || return 1
	[ -d /sys/class/net/akbr0/bridge ] || { brctl delbr akbr0; echo "no /sys/class/net/akbr0/bridge"; return 1; }
	ak_run brctl delbr akbr0 || return 1
	[ ! -e /sys/class/net/akbr0 ] || { echo "akbr0 still there after delbr"; return 1; }
}

ak_bzip2_check() {
	seq 1 2000 >data
	cp data orig
	bzip2 data && [ -f data.bz2 ] && [ ! -e data ] || { echo "bzip2 did not replace data"; return 1; }
	ak_eq "$(head -c 3 data.bz2)" BZh "bzip2 magic" || return 1
	bzcat data.bz2 | cmp -s - orig || { echo "bzcat differs"; return 1; }
	bunzip2 data.bz2 && cmp -s data orig || { echo "bunzip2 differs"; return 1; }
	# Made by Debian's bzip2 1.0.8 from "hello\n".
	printf 'QlpoOTFBWSZTWcHAgOIAAAFBAAAQAkSgADDNAMNGKZcXckU4UJDBwIDi' | base64 -d >known.bz2
	ak_eq "$(bzcat known.bz2)" hello "bzcat of a known stream"
}
case_bunzip2() { ak_bzip2_check; }
case_bzcat() { ak_bzip2_check; }
case_bzip2() { ak_bzip2_check; }

case_busybox() {
	n=$(busybox --list | wc -l)
	[ "$n" -gt 250 ] || { echo "busybox --list: $n applets"; return 1; }
	ak_eq "$(busybox echo hi)" hi "busybox echo" || return 1
	ak_eq "$(busybox --list-full | grep -c '^bin/sh$')" 1 "--list-full has bin/sh"
}

case_cal() {
	ak_eq "$(cal 2 2024 | sed -n 1p | tr -s ' ')" " February 2024" "cal title" || return 1
	ak_eq "$(cal 2 2024 | sed -n 3p)" "             1  2  3" "cal first week" || return 1
	ak_eq "$(cal 2 2024 | sed -n 7p | tr -s ' ')" "25 26 27 28 29" "cal last week" || return 1
	ak_has "$(cal 9 1752)" ' 2 14 15' "cal 1752 (the Gregorian switch)"
}

case_cat() {
	printf 'a\nb\n' >f
	ak_eq "$(cat f f | wc -l)" 4 "cat f f" || return 1
	ak_eq "$(printf 'x\n\ny\n' | cat -n | sed -n 3p)" "     3	y" "cat -n" || return 1
	ak_eq "$(echo in | cat f - | tail -n 1)" in "cat -"
}

case_chgrp() {
	touch f
	chgrp 42 f && ak_eq "$(stat -c %g f)" 42 "chgrp 42" || return 1
	mkdir -p d/e && touch d/e/g && chgrp -R 7 d && ak_eq "$(stat -c %g d/e/g)" 7 "chgrp -R"
}

case_chmod() {
	touch f
	chmod 4751 f && ak_eq "$(stat -c %a f)" 4751 "chmod 4751" || return 1
	chmod u-s,g+w,o= f && ak_eq "$(stat -c %A f)" "-rwxrwx---" "chmod symbolic" || return 1
	mkdir -p d/e && chmod -R 700 d && ak_eq "$(stat -c %a d/e)" 700 "chmod -R"
}

case_chown() {
	touch f
	chown 12:34 f && ak_eq "$(stat -c %u:%g f)" 12:34 "chown 12:34" || return 1
	ln -s f l && chown -h 5:6 l && ak_eq "$(stat -c %u:%g l)" 5:6 "chown -h on a link" &&
		ak_eq "$(stat -c %u:%g f)" 12:34 "chown -h left the target"
}

case_chroot() {
	mkdir -p root/bin
	cp /bin/busybox root/bin/ || { echo "cp busybox failed"; return 1; }
	echo inside >root/marker
	ak_eq "$(chroot root /bin/busybox cat /marker)" inside "chroot cat /marker" || return 1
	ak_eq "$(chroot root /bin/busybox pwd)" / "chroot pwd"
}

case_chvt() {
	guest_only
	[ -e /dev/tty1 ] || { echo "no virtual terminals (/dev/tty1)"; return 1; }
	ak_run chvt 2 || return 1
	ak_eq "$(cat /sys/class/tty/tty0/active)" tty2 "active VT after chvt 2" || return 1
	chvt 1
}

case_clear() {
	ak_eq "$(TERM=vt100 clear | od -An -c | tr -s ' ')" " 033 [ H 033 [ J" "clear's bytes"
}

case_cmp() {
	printf 'abcdef\n' >a
	printf 'abXdef\n' >b
	cmp a a || { echo "cmp a a: not equal"; return 1; }
	out=$(cmp a b)
	ak_eq $? 1 "cmp a b status" || return 1
	ak_eq "$out" "a b differ: char 3, line 1" "cmp a b" || return 1
	ak_eq "$(cmp -l a b)" "3 143 130" "cmp -l"
}

case_cp() {
	mkdir -p src/sub
	echo one >src/a
	echo two >src/sub/b
	chmod 640 src/a
	touch -d '2001-02-03 04:05:06' src/a
	ln -s a src/link
	cp -a src dst || { echo "cp -a failed"; return 1; }
	cmp src/sub/b dst/sub/b || { echo "cp -a: sub/b differs"; return 1; }
	ak_eq "$(stat -c '%a %Y' dst/a)" "$(stat -c '%a %Y' src/a)" "cp -a mode and mtime" || return 1
	ak_eq "$(readlink dst/link)" a "cp -a symlink" || return 1
	cp src/a plain && ak_eq "$(stat -c %a plain)" 640 "cp mode"
}

case_cpio() {
	mkdir -p tree/d
	echo x >tree/d/f
	ln -s d/f tree/l
	(cd tree && find . | cpio -o -H newc >../a.cpio 2>/dev/null) || { echo "cpio -o failed"; return 1; }
	ak_eq "$(cpio -t <a.cpio 2>/dev/null | sort | tr '\n' ' ')" ". d d/f l " "cpio -t" || return 1
	mkdir out && (cd out && cpio -i -d <../a.cpio 2>/dev/null) || { echo "cpio -i failed"; return 1; }
	cmp tree/d/f out/d/f && ak_eq "$(readlink out/l)" d/f "cpio -i symlink"
}

case_crc32() {
	printf hello >h
	ak_eq "$(crc32 h)" "3610a686 h" "crc32 of hello"
}

case_crond() {
	guest_only
	ak_etc_passwd
	mkdir tabs
	echo '30 4 * * * echo hi' >tabs/root
	crond -f -l 0 -c "$PWD/tabs" -L "$PWD/log" &
	n=100
	# The bitmap lines follow the 'entry' line: wait for the last one.
	while ! grep -Eq '^0{30}10{29}$' log 2>/dev/null && [ $n -gt 0 ]; do
		usleep 100000
		n=$((n - 1))
	done
	kill $!
	ak_etc_restore
	ak_has "$(cat log)" 'started, log level 0' "crond log" || return 1
	# The minute bitmap: 60 flags, minute 30 set.
	ak_has "$(cat log)" '^0{30}10{29}$' "crond parsed minute 30"
}

case_crontab() {
	guest_only
	ak_etc_passwd
	mkdir tabs
	echo '0 1 * * * true' >mine
	crontab -c "$PWD/tabs" mine || { ak_etc_restore; echo "crontab FILE failed"; return 1; }
	out=$(crontab -c "$PWD/tabs" -l)
	crontab -c "$PWD/tabs" -r
	ak_etc_restore
	ak_eq "$out" '0 1 * * * true' "crontab -l" || return 1
	[ ! -e tabs/root ] || { echo "crontab -r left tabs/root"; return 1; }
}

case_cttyhack() {
	guest_only
	# cttyhack gives the program the console's real tty (ttyS0 here).
	cttyhack sh -c "tty >$PWD/out" </dev/null
	ak_eq "$(cat out)" /dev/ttyS0 "tty under cttyhack"
}

case_cut() {
	ak_eq "$(echo a:b:c:d | cut -d: -f2,4)" b:d "cut -f" &&
		ak_eq "$(echo abcdef | cut -c2-4)" bcd "cut -c" &&
		ak_eq "$(printf 'x y\n' | cut -d' ' -f1 -s)" x "cut -s"
}

case_date() {
	ak_eq "$(date -u -d @0)" "Thu Jan  1 00:00:00 UTC 1970" "date -d @0" || return 1
	ak_eq "$(date -u -d '2000-01-02 03:04:05' +%s)" 946782245 "date +%s" || return 1
	touch now
	t=$(stat -c %Y now)
	d=$(date +%s)
	[ $((d - t)) -le 2 ] && [ $((t - d)) -le 2 ] || { echo "date $d, file mtime $t"; return 1; }
}

case_dc() {
	ak_eq "$(echo '2 3 + 4 * p' | dc)" 20 "dc 2 3 + 4 *" &&
		ak_eq "$(dc -e '2 10 ^ p')" 1024 "dc ^"
}

case_dd() {
	dd if=/dev/zero of=z bs=1k count=3 2>/dev/null && ak_eq "$(wc -c <z)" 3072 "dd count" || return 1
	seq 1 1000 >s
	ak_eq "$(dd if=s bs=10 skip=1 count=1 2>/dev/null)" "$(head -c 20 s | tail -c 10)" "dd skip" ||
		return 1
	printf 'abcdef' >n && printf XY | dd of=n bs=1 seek=2 conv=notrunc 2>/dev/null
	ak_eq "$(cat n)" abXYef "dd conv=notrunc" || return 1
	ak_has "$(dd if=/dev/zero of=/dev/null bs=512 count=4 2>&1)" '^4\+0 records out' "dd stats"
}

case_deallocvt() {
	guest_only
	[ -e /dev/tty1 ] || { echo "no virtual terminals (/dev/tty1)"; return 1; }
	# Open VT 5 (allocating it), let it go, then free it.
	: >/dev/tty5 || { echo "cannot open /dev/tty5"; return 1; }
	ak_run deallocvt 5 || return 1
}

case_depmod() {
	ko=/lib/modules/virtio_blk.ko
	[ -f $ko ] || { echo "no $ko to index (Linux's modules are not packed)"; return 1; }
	d=base/lib/modules/6.1.0/kernel
	mkdir -p $d
	cp /lib/modules/virtio_blk.ko /lib/modules/virtio.ko /lib/modules/virtio_ring.ko $d/
	depmod -b "$PWD/base" 6.1.0 || { echo "depmod failed"; return 1; }
	line=$(grep '^kernel/virtio_blk.ko:' base/lib/modules/6.1.0/modules.dep)
	ak_has "$line" 'kernel/virtio.ko' "modules.dep" && ak_has "$line" 'kernel/virtio_ring.ko' "modules.dep"
}

case_devmem() {
	guest_only
	[ -e /dev/mem ] || { echo "no /dev/mem"; return 1; }
	# The BIOS's reset vector (F000:FFF0) holds a far jump, opcode 0xEA.
	ak_eq "$(devmem 0xffff0 8)" 0xEA "devmem 0xffff0"
}

case_df() {
	guest_only
	mkdir m
	mount -t tmpfs -o size=1m tmpfs m || { echo "mount tmpfs failed"; return 1; }
	head -c 300000 /dev/zero >m/f
	out=$(df -k m | tail -n 1)
	umount m
	ak_eq "$(echo "$out" | awk '{print $2}')" 1024 "df size" || return 1
	used=$(echo "$out" | awk '{print $3}')
	[ "$used" -ge 292 ] && [ "$used" -le 300 ] || { echo "df used: $used, want ~296"; return 1; }
	ak_eq "$(echo "$out" | awk '{print $6}')" "$PWD/m" "df mount point"
}

case_diff() {
	printf 'a\nb\nc\n' >x
	printf 'a\nB\nc\n' >y
	out=$(diff -u x y)
	ak_eq $? 1 "diff status" || return 1
	ak_eq "$(echo "$out" | grep '^[-+][^-+]' | tr '\n' ' ')" "-b +B " "diff -u lines" || return 1
	diff x x || { echo "diff x x: differs"; return 1; }
	mkdir p q && echo 1 >p/f && echo 2 >q/f
	ak_has "$(diff -r p q)" '^-1$' "diff -r"
}

case_dirname() {
	ak_eq "$(dirname /a/b/c)" /a/b "dirname" && ak_eq "$(dirname c)" . "dirname c" &&
		ak_eq "$(dirname /a/)" / "dirname /a/"
}

case_dmesg() {
	out=$(dmesg) || { echo "dmesg failed"; return 1; }
	[ "$(echo "$out" | wc -l)" -gt 5 ] || { echo "dmesg: under 6 lines"; return 1; }
	ak_has "$out" '^\[ *[0-9]+\.[0-9]{6}\] ' "dmesg timestamps" || return 1
	echo "applets-dmesg-$$" >/dev/kmsg || { echo "cannot write /dev/kmsg"; return 1; }
	ak_has "$(dmesg)" "applets-dmesg-$$" "dmesg after a /dev/kmsg write"
}

case_dnsdomainname() {
	guest_only
	old=$(hostname)
	mkdir -p /etc
	[ -e /etc/hosts ] && cp /etc/hosts hosts.saved
	echo '127.0.0.1 box.example.org box' >/etc/hosts
	hostname box
	out=$(dnsdomainname 2>&1)
	hostname "$old"
	if [ -e hosts.saved ]; then cp hosts.saved /etc/hosts; else rm /etc/hosts; fi
	ak_eq "$out" example.org "dnsdomainname"
}

case_dos2unix() {
	printf 'a\r\nb\r\n' >f
	dos2unix f && ak_eq "$(od -An -c f | tr -s ' ')" " a \n b \n" "dos2unix" || return 1
	ak_eq "$(printf 'x\n' | unix2dos | od -An -c | tr -s ' ')" " x \r \n" "unix2dos via stdin"
}

# ak_deb: a .deb of package akdemo holding /usr/share/akdemo/hello.
ak_deb() {
	mkdir -p ctl data/usr/share/akdemo
	printf 'Package: akdemo\nVersion: 1.0\nArchitecture: all\nMaintainer: x <x@x>\nDescription: demo\n' >ctl/control
	echo hello-from-deb >data/usr/share/akdemo/hello
	(cd ctl && tar czf ../control.tar.gz ./control) &&
		(cd data && tar czf ../data.tar.gz ./usr) || { echo "tar czf failed"; return 1; }
	echo 2.0 >debian-binary
	{
		printf '!<arch>\n'
		ak_ar_member debian-binary debian-binary
		ak_ar_member control.tar.gz control.tar.gz
		ak_ar_member data.tar.gz data.tar.gz
	} >akdemo.deb
}

case_dpkg() {
	guest_only
	ak_deb || return 1
	mkdir -p /var/lib/dpkg/info
	touch /var/lib/dpkg/status
	dpkg -i akdemo.deb >out 2>&1 || { tail -n 3 out; echo "dpkg -i failed"; return 1; }
	ak_eq "$(cat /usr/share/akdemo/hello 2>&1)" hello-from-deb "installed file" || return 1
	ak_has "$(dpkg -l 2>&1)" '^ii +akdemo +1\.0' "dpkg -l" || return 1
	dpkg -P akdemo >out 2>&1 || { echo "dpkg -P failed"; return 1; }
	[ ! -e /usr/share/akdemo/hello ] || { echo "dpkg -P left the file"; return 1; }
	rm -rf /var/lib/dpkg /usr/share/akdemo
}

case_dpkg_deb() {
	ak_deb || return 1
	ak_has "$(dpkg-deb -c akdemo.deb)" 'usr/share/akdemo/hello$' "dpkg-deb -c" || return 1
	ak_has "$(dpkg-deb -f akdemo.deb)" '^Package: akdemo$' "dpkg-deb -f" || return 1
	dpkg-deb -x akdemo.deb out && ak_eq "$(cat out/usr/share/akdemo/hello)" hello-from-deb "dpkg-deb -x"
}

case_du() {
	mkdir d
	head -c 100000 /dev/urandom >d/f
	sync
	blocks=$(stat -c %b d/f)
	ak_eq "$(du -k d/f | cut -f1)" $(((blocks * 512 + 1023) / 1024)) "du -k vs st_blocks" || return 1
	[ "$(du -k d/f | cut -f1)" -ge 97 ] || { echo "du -k: under 97 KiB for 100000 bytes"; return 1; }
	ak_eq "$(du -s d | cut -f2)" d "du -s"
}

case_dumpkmap() {
	guest_only
	[ -e /dev/tty1 ] || { echo "no virtual terminals (/dev/tty1)"; return 1; }
	dumpkmap </dev/tty1 >map || { echo "dumpkmap failed"; return 1; }
	ak_eq "$(head -c 7 map)" bkeymap "dumpkmap magic"
}

case_dumpleases() {
	# udhcpd's lease file: a 64-bit time, then 36-byte leases (expiry, IP,
	# MAC, host name), all big-endian.
	{
		printf '\0\0\0\0\0\0\0\0'
		printf '\0\0\x0e\x10\xc0\xa8\x01\x07\x02\x11\x22\x33\x44\x55'
		printf 'akhost\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0'
	} >leases
	out=$(dumpleases -f leases -d)
	ak_has "$out" '^02:11:22:33:44:55 +192\.168\.1\.7 +akhost' "dumpleases"
}

case_echo() {
	ak_eq "$(env echo -n a; env echo b)" ab "echo -n" &&
		ak_eq "$(env echo -e 'x\ty')" "x	y" "echo -e" &&
		ak_eq "$(env echo -- -n)" "-- -n" "echo --"
}

case_ed() {
	printf 'one\ntwo\nthree\n' >f
	printf '2d\n1s/one/ONE/\n$a\nfour\n.\nw\nq\n' | ed f >/dev/null || { echo "ed failed"; return 1; }
	ak_eq "$(cat f | tr '\n' ' ')" "ONE three four " "ed edits"
}

case_egrep() {
	printf 'cat\ndog\ncow\n' >f
	ak_eq "$(egrep 'c(a|o)' f | tr '\n' ' ')" "cat cow " "egrep alternation" &&
		ak_eq "$(egrep -c 'o+' f)" 2 "egrep -c"
}

case_env() {
	ak_eq "$(env -i A=1 sh -c 'echo "$A:$HOME"')" "1:" "env -i" || return 1
	ak_eq "$(B=2 env -u B sh -c 'echo "${B-unset}"')" unset "env -u" || return 1
	ak_has "$(C=3 env)" '^C=3$' "env lists"
}

case_expand() {
	ak_eq "$(printf 'a\tb\n' | expand)" "a       b" "expand" &&
		ak_eq "$(printf '\tx\n' | expand -t 2)" "  x" "expand -t 2"
}

case_expr() {
	ak_eq "$(expr 6 \* 7)" 42 "expr 6 * 7" || return 1
	ak_eq "$(expr length abcd)" 4 "expr length" || return 1
	ak_eq "$(expr abc123 : '[a-z]*\([0-9]*\)')" 123 "expr :" || return 1
	expr 1 = 2 >/dev/null
	ak_eq $? 1 "expr false status"
}

case_factor() {
	ak_eq "$(factor 360)" "360: 2 2 2 3 3 5" "factor 360" &&
		ak_eq "$(factor 4294967311)" "4294967311: 4294967311" "factor of a prime"
}

case_fallocate() {
	fallocate -l 1M f || { echo "fallocate -l 1M failed"; return 1; }
	ak_eq "$(stat -c %s f)" 1048576 "size after fallocate" || return 1
	[ "$(stat -c %b f)" -ge 2048 ] || { echo "fallocate: $(stat -c %b f) blocks, want 2048"; return 1; }
}

case_false() {
	env false
	ak_eq $? 1 "false status"
}

case_fatattr() {
	guest_only
	mkdosfs /dev/vda1 >/dev/null 2>&1 || { echo "mkdosfs /dev/vda1 failed"; return 1; }
	mkdir m
	ak_run mount -t vfat /dev/vda1 m || return 1
	touch m/f
	fatattr +hs m/f
	out=$(fatattr m/f)
	umount m
	ak_has "$out" '^.*h.*s.* m/f$|^.*s.*h.* m/f$' "fatattr"
}

case_fdisk() {
	guest_only
	out=$(fdisk -l /dev/vda 2>&1)
	ak_has "$out" '^/dev/vda1 .* 2048 +4095 +2048 +1024K +83 Linux$' "fdisk -l vda1" &&
		ak_has "$out" '^/dev/vda2 .* 4096 +8191 +4096 +2048K +83 Linux$' "fdisk -l vda2"
}

case_fgrep() {
	printf 'a.b\naxb\n' >f
	ak_eq "$(fgrep 'a.b' f)" a.b "fgrep literal" && ak_eq "$(fgrep -c x f)" 1 "fgrep -c"
}

case_find() {
	mkdir -p t/a/b
	touch t/a/x.c t/a/b/y.c t/z.h
	head -c 5000 /dev/zero >t/big
	ak_eq "$(find t -name '*.c' | sort | tr '\n' ' ')" "t/a/b/y.c t/a/x.c " "find -name" || return 1
	ak_eq "$(find t -type d | sort | tr '\n' ' ')" "t t/a t/a/b " "find -type d" || return 1
	ak_eq "$(find t -size +4k)" t/big "find -size" || return 1
	ak_eq "$(find t -name '*.h' -exec echo found {} \;)" "found t/z.h" "find -exec"
}

case_findfs() {
	guest_only
	# mke2fs keeps the boot sector: clear what an earlier case left there.
	dd if=/dev/zero of=/dev/vda1 bs=1k count=64 2>/dev/null
	mke2fs -q -F -L akfindfs /dev/vda1 >/dev/null 2>&1 || { echo "mke2fs -L failed"; return 1; }
	out=$(findfs LABEL=akfindfs 2>&1)
	ak_eq "$out" /dev/vda1 "findfs LABEL="
}

case_fold() {
	ak_eq "$(echo abcdefgh | fold -w 3 | tr '\n' ' ')" "abc def gh " "fold -w 3" &&
		ak_eq "$(echo 'aa bb cc' | fold -s -w 5 | tr '\n' '|')" "aa |bb cc|" "fold -s"
}

case_free() {
	out=$(free -k) || { echo "free failed"; return 1; }
	ak_eq "$(echo "$out" | awk '/^Mem:/ {print $2}')" \
		"$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)" "free total vs MemTotal" || return 1
	swap=$(awk '/^SwapTotal:/ {print $2}' /proc/meminfo)
	ak_eq "$(echo "$out" | awk '/^Swap:/ {print $2}')" "$swap" "free swap vs SwapTotal"
}

case_freeramdisk() {
	guest_only
	[ -b /dev/ram0 ] || { echo "no RAM disk device (/dev/ram0)"; return 1; }
	echo on-the-ramdisk | dd of=/dev/ram0 conv=sync 2>/dev/null
	ak_eq "$(head -c 14 /dev/ram0)" on-the-ramdisk "RAM disk contents" || return 1
	freeramdisk /dev/ram0 || { echo "freeramdisk /dev/ram0 failed"; return 1; }
}

case_fsfreeze() {
	guest_only
	ak_ext2 /dev/vda1 m || return 1
	ak_run fsfreeze --freeze m || { umount m; return 1; }
	# A write now waits for the thaw.
	(echo data >m/f; echo written >flag) &
	sleep 1
	early=$(cat flag 2>/dev/null)
	fsfreeze --unfreeze m || { echo "fsfreeze --unfreeze failed"; return 1; }
	wait
	umount m
	ak_eq "$early" "" "a write went through a frozen file system" && ak_eq "$(cat flag)" written "write after thaw"
}

case_fstrim() {
	guest_only
	ak_ext2 /dev/vda2 m || return 1
	out=$(fstrim -v m 2>&1)
	status=$?
	umount m
	ak_eq $status 0 "fstrim status ($out)" && ak_has "$out" 'bytes trimmed' "fstrim -v"
}

# ak_ftpd PORT DIR: a one-session FTP server on 127.0.0.1:PORT over nc,
# serving DIR, with enough of RFC 959 for ftpget and ftpput (USER, PASS,
# TYPE, SIZE, PASV, RETR, STOR, QUIT); its data port is PORT+1.
ak_ftpd() {
	cat >ftpd.sh <<'FTPD'
#!/bin/sh
cd "$AK_FTP_DIR" || exit 1
cr=$(printf '\r')
reply() { printf '%s\r\n' "$*"; }
data=$((AK_FTP_PORT + 1))
reply 220 ready
while read -r cmd arg; do
	cmd=${cmd%"$cr"}
	arg=${arg%"$cr"}
	case $cmd in
	USER) reply 331 password ;;
	PASS) reply 230 logged in ;;
	TYPE) reply 200 ok ;;
	SIZE) if [ -f "$arg" ]; then reply 213 "$(wc -c <"$arg")"; else reply 550 no file; fi ;;
	PASV)
		# The client connects at once; the transfer waits for its command.
		rm -f .mode
		nc -l -p "$data" -e "$AK_FTP_XFER" &
		usleep 200000
		reply "227 Entering Passive Mode (127,0,0,1,$((data / 256)),$((data % 256)))"
		;;
	RETR | STOR)
		echo "$cmd $arg" >.mode
		reply 150 transfer
		wait
		reply 226 done
		;;
	QUIT) reply 221 bye; exit 0 ;;
	*) reply 502 "$cmd" ;;
	esac
done
FTPD
	cat >xfer.sh <<'XFER'
#!/bin/sh
while [ ! -s .mode ]; do usleep 50000; done
read -r cmd file <.mode
if [ "$cmd" = RETR ]; then cat "$file"; else cat >"$file"; fi
XFER
	chmod +x ftpd.sh xfer.sh
	AK_FTP_PORT=$1 AK_FTP_DIR=$2 AK_FTP_XFER=$PWD/xfer.sh nc -l -p "$1" -e "$PWD/ftpd.sh" &
	usleep 500000
}

case_ftpget() {
	guest_only
	ak_lo_up
	mkdir srv
	seq 1 500 >srv/file.txt
	ak_ftpd 2121 "$PWD/srv"
	ftpget -P 2121 -u u -p p 127.0.0.1 got.txt file.txt 2>/dev/null ||
		ak_run ftpget -P 2121 -u u -p p 127.0.0.1 got.txt file.txt || return 1
	cmp -s got.txt srv/file.txt || { echo "ftpget: the file differs"; return 1; }
}

case_ftpput() {
	guest_only
	ak_lo_up
	mkdir srv
	seq 1 500 >local.txt
	ak_ftpd 2131 "$PWD/srv"
	ftpput -P 2131 -u u -p p 127.0.0.1 put.txt local.txt 2>/dev/null ||
		ak_run ftpput -P 2131 -u u -p p 127.0.0.1 put.txt local.txt || return 1
	usleep 300000
	cmp -s local.txt srv/put.txt || { echo "ftpput: the file differs"; return 1; }
}

case_getopt() {
	ak_eq "$(getopt -o ab: -l long: -- -a -b x --long y z)" " -a -b 'x' --long 'y' -- 'z'" "getopt" || return 1
	getopt -o a -- -q >/dev/null 2>&1
	ak_eq $? 1 "getopt on a bad option"
}

case_getty() {
	guest_only
	# -n: no login prompt, run the "login" program at once on the tty.
	printf '#!/bin/sh\ntty >%s/out\n' "$PWD" >login
	chmod +x login
	getty -n -i -l "$PWD/login" 0 ttyS0 vt100 &
	ak_wait_file out 100 || { echo "getty ran no login program"; return 1; }
	ak_eq "$(cat out)" /dev/ttyS0 "tty under getty"
}

case_grep() {
	printf 'Alpha\nbeta\ngamma\nalphabet\n' >f
	ak_eq "$(grep -i alpha f | tr '\n' ' ')" "Alpha alphabet " "grep -i" || return 1
	ak_eq "$(grep -c -v a f)" 0 "grep -c -v" || return 1
	ak_eq "$(grep -o 'b.t' f | tr '\n' ' ')" "bet bet " "grep -o" || return 1
	mkdir d && echo needle >d/x
	ak_eq "$(grep -r needle d)" "d/x:needle" "grep -r" || return 1
	grep -q zzz f
	ak_eq $? 1 "grep no-match status"
}

case_groups() {
	guest_only
	ak_etc_passwd
	out=$(groups)
	ak_etc_restore
	ak_eq "$out" root "groups"
}

ak_gzip_check() {
	seq 1 3000 >data
	cp data orig
	gzip -9 data && [ -f data.gz ] && [ ! -e data ] || { echo "gzip did not replace data"; return 1; }
	ak_eq "$(od -An -tx1 -N2 data.gz | tr -d ' ')" 1f8b "gzip magic" || return 1
	zcat data.gz | cmp -s - orig || { echo "zcat differs"; return 1; }
	gunzip data.gz && cmp -s data orig || { echo "gunzip differs"; return 1; }
	# Made by GNU gzip from "hello\n".
	printf 'H4sIAAAAAAACA8tIzcnJ5wIAIDA6NgYAAAA=' | base64 -d >known.gz
	ak_eq "$(zcat known.gz)" hello "zcat of a known stream" || return 1
	ak_eq "$(echo abc | gzip | gunzip)" abc "gzip | gunzip"
}
case_gunzip() { ak_gzip_check; }
case_gzip() { ak_gzip_check; }

case_halt() {
	guest_only
	# -w only writes the wtmp record: the machine goes on.
	mkdir -p /var/log
	halt -w || { echo "halt -w failed"; return 1; }
}

case_head() {
	seq 1 10 >f
	ak_eq "$(head -n 2 f | tr '\n' ' ')" "1 2 " "head -n" && ak_eq "$(head -c 3 f)" "1
2" "head -c" && ak_eq "$(head -n -8 f | tr '\n' ' ')" "1 2 " "head -n -8"
}

case_hexdump() {
	ak_eq "$(printf 'AB\n' | hexdump -C | head -n 1)" "00000000  41 42 0a                                          |AB.|" "hexdump -C" &&
		ak_eq "$(printf '\001\002' | hexdump -e '2/1 "%02x" "\n"')" 0102 "hexdump -e"
}

case_hostid() {
	ak_has "$(hostid)" '^[0-9a-f]{8}$' "hostid"
}

case_hostname() {
	guest_only
	old=$(hostname)
	hostname ak-host || { echo "hostname ak-host failed"; return 1; }
	got=$(hostname)
	proc=$(cat /proc/sys/kernel/hostname)
	un=$(uname -n)
	hostname "$old"
	ak_eq "$got" ak-host "hostname" && ak_eq "$proc" ak-host "/proc/sys/kernel/hostname" &&
		ak_eq "$un" ak-host "uname -n"
}

case_httpd() {
	guest_only
	ak_lo_up
	mkdir www
	echo served-by-httpd >www/index.html
	httpd -f -p 127.0.0.1:8081 -h "$PWD/www" &
	n=50
	while [ $n -gt 0 ]; do
		out=$(wget -q -O - http://127.0.0.1:8081/index.html 2>&1) && break
		usleep 200000
		n=$((n - 1))
	done
	kill $!
	ak_eq "$out" served-by-httpd "wget from httpd"
}

case_hwclock() {
	guest_only
	out=$(hwclock -r -u 2>&1) || { echo "hwclock -r: $out"; return 1; }
	# "Mon Dec  7 06:29:52 2026  0.000000 seconds"
	set -- $out
	rtc=$(date -u -D '%b %d %H:%M:%S %Y' -d "$2 $3 $4 $5" +%s) || { echo "cannot parse $out"; return 1; }
	now=$(date -u +%s)
	[ $((rtc - now)) -le 60 ] && [ $((now - rtc)) -le 60 ] || { echo "hwclock $rtc, date $now"; return 1; }
}

case_i2cdetect() { na "no I2C bus"; }
case_i2cdump() { na "no I2C bus"; }
case_i2cget() { na "no I2C bus"; }
case_i2cset() { na "no I2C bus"; }
case_i2ctransfer() { na "no I2C bus"; }

case_id() {
	ak_eq "$(id -u)" 0 "id -u" && ak_eq "$(id -g)" 0 "id -g" || return 1
	guest_only
	ak_etc_passwd
	out=$(id)
	nobody=$(id -u nobody)
	ak_etc_restore
	ak_has "$out" '^uid=0\(root\) gid=0\(root\)' "id" && ak_eq "$nobody" 65534 "id -u nobody"
}

case_ifconfig() {
	guest_only
	ak_run ifconfig lo 127.0.0.1 up || return 1
	out=$(ifconfig lo)
	ak_has "$out" 'inet addr:127\.0\.0\.1' "ifconfig lo" && ak_has "$out" 'UP' "ifconfig lo flags"
}

ak_ifupdown() {
	mkdir -p /var/run /run /etc/network/if-pre-up.d /etc/network/if-up.d \
		/etc/network/if-down.d /etc/network/if-post-down.d
	printf 'auto lo\niface lo inet loopback\n' >interfaces
	# From scratch: Linux gives lo its address as soon as it is up.
	ip link set lo down 2>/dev/null
	ip addr flush dev lo 2>/dev/null
	rm -f /var/run/ifstate /run/ifstate
	ak_run ifup -i interfaces lo || return 1
	ak_has "$(ip addr show lo)" 'inet 127\.0\.0\.1/8' "lo after ifup" || return 1
	ak_run ifdown -i interfaces lo || return 1
	ak_has "$(ip link show lo)" 'state DOWN|<LOOPBACK>' "lo after ifdown" || return 1
	ip link set lo up
}
case_ifdown() {
	guest_only
	ak_ifupdown
}
case_ifup() {
	guest_only
	ak_ifupdown
}

case_init() {
	guest_only
	# busybox init as PID 1 of a new PID namespace, with its own inittab.
	mkdir -p etc /etc
	printf '::sysinit:/bin/sh -c "echo \\$PPID >%s/pid"\n::once:/bin/sleep 30\n' "$PWD" >etc/inittab
	unshare -p -f -m sh -c "mount --bind $PWD/etc /etc && exec init" </dev/null >log 2>&1 &
	outer=$!
	ak_wait_file pid 100
	got=$(cat pid 2>/dev/null)
	# The namespace's init is unshare's child: killing it ends the namespace.
	for p in /proc/[0-9]*; do
		grep -q "^PPid:[[:space:]]*$outer\$" "$p/status" 2>/dev/null && kill -9 "${p#/proc/}"
	done
	n=30
	while kill -0 $outer 2>/dev/null && [ $n -gt 0 ]; do
		usleep 100000
		n=$((n - 1))
	done
	[ -n "$got" ] || { tail -n 3 log; echo "init ran no sysinit action"; return 1; }
	ak_eq "$got" 1 "parent of init's sysinit action"
}

case_insmod() {
	guest_only
	# A module of the running kernel, packed but not loaded at boot.
	ko=/lib/modules/extra/crc7.ko
	[ -f "$ko" ] || { echo "no $ko for this kernel"; return 1; }
	ak_run insmod "$ko" || return 1
	ak_has "$(cat /proc/modules)" '^crc7 ' "crc7 in /proc/modules" || return 1
	rmmod crc7
}

case_ionice() {
	ak_run ionice -c 3 -p $$ || return 1
	ak_eq "$(ionice -p $$)" idle "ionice -p after -c 3" || return 1
	ak_eq "$(ionice -c 2 -n 5 ionice)" "best-effort: prio 5" "ionice -c 2 -n 5 PROG"
}

case_ip() {
	guest_only
	ak_run ip link set lo up || return 1
	ak_has "$(ip addr show lo)" 'inet 127\.0\.0\.1/8' "ip addr show lo" || return 1
	ak_has "$(ip link show lo)" 'LOOPBACK,UP' "ip link show lo" || return 1
	ip addr add 127.0.0.9/8 dev lo && ak_has "$(ip addr show lo)" '127\.0\.0\.9' "ip addr add" || return 1
	ip addr del 127.0.0.9/8 dev lo
	ak_has "$(ip route show table local)" '127\.0\.0\.1' "ip route show table local"
}

case_ipcalc() {
	ak_eq "$(ipcalc -n -b 192.168.1.5/24 | tr '\n' ' ')" "BROADCAST=192.168.1.255 NETWORK=192.168.1.0 " "ipcalc -n -b" &&
		ak_eq "$(ipcalc -m 10.0.0.1/12)" "NETMASK=255.240.0.0" "ipcalc -m" &&
		ak_eq "$(ipcalc -p 10.0.0.1 255.255.0.0)" "PREFIX=16" "ipcalc -p"
}

case_ipneigh() {
	guest_only
	ak_lo_up
	out=$(ipneigh show 2>&1) || { echo "ipneigh show: $out"; return 1; }
	# No NIC: no neighbours, but the netlink dump works.
	ak_eq "$out" "" "ipneigh show"
}

case_kill() {
	sleep 30 &
	env kill -s TERM $! || { echo "kill -s TERM failed"; return 1; }
	wait $!
	ak_eq $? 143 "status after SIGTERM" || return 1
	sleep 30 &
	env kill -9 $!
	wait $!
	ak_eq $? 137 "status after kill -9" || return 1
	ak_eq "$(env kill -l 15)" TERM "kill -l 15"
}

case_killall() {
	printf '#!/bin/sh\nwhile :; do sleep 1; done\n' >aksleeper
	chmod +x aksleeper
	./aksleeper &
	pid=$!
	n=100
	while [ "$(cat /proc/$pid/comm 2>/dev/null)" != aksleeper ] && [ $n -gt 0 ]; do
		usleep 100000
		n=$((n - 1))
	done
	killall aksleeper || { echo "killall found no aksleeper"; return 1; }
	wait $pid
	ak_eq $? 143 "status after killall" || return 1
	killall -q no-such-program-ak
	ak_eq $? 1 "killall with no match"
}

case_klogd() {
	guest_only
	rm -f /dev/log
	syslogd -n -O "$PWD/log" -S &
	n=100
	while [ ! -S /dev/log ] && [ $n -gt 0 ]; do
		usleep 100000
		n=$((n - 1))
	done
	klogd -n &
	usleep 300000
	echo "<6>applets-klogd-$$" >/dev/kmsg
	n=100
	while ! grep -q "applets-klogd-$$" log 2>/dev/null && [ $n -gt 0 ]; do
		usleep 100000
		n=$((n - 1))
	done
	kill %2 %1 2>/dev/null
	grep -q "kernel: .*applets-klogd-$$" log || { echo "the /dev/kmsg line did not reach syslogd"; return 1; }
}
