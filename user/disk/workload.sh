#!/bin/sh
# The disk workload (run by the root image's rcS with disk_test=workload):
# every kind of change a file system must get onto the disk right, all under
# /data, then rcS syncs and powers off. The host then checks the image with
# e2fsck -fn and compares debugfs's view of /data with Linux's
# (xtask/src/systest/disk.rs, expected listing: workload.expected).
# One line per step: "ok - workload/STEP" or "not ok - workload/STEP: why".
d=/data

step() {
	name=$1
	shift
	if out=$("$@" 2>&1); then
		echo "ok - workload/$name"
	else
		echo "not ok - workload/$name: $out"
	fi
}

create() {
	mkdir -p $d/dir/sub/deeper &&
	echo hello >$d/hello.txt &&
	printf 'first line\nsecond line\n' >$d/dir/two-lines &&
	: >$d/empty &&
	echo persisted by the first boot >$d/persist
}

# 5 MB of text: past the direct (48 KiB) and single-indirect (4 MiB) blocks.
write_big() {
	yes 'Ferrite writes this line to the disk.' | head -c 5000000 >$d/big.txt &&
	seq 1 20000 >$d/dir/seq.txt
}

append() {
	echo appended >>$d/hello.txt &&
	seq 20001 20100 >>$d/dir/seq.txt
}

renames() {
	echo a >$d/rename-me &&
	mv $d/rename-me $d/renamed &&
	echo b >$d/dir/moved-across &&
	mv $d/dir/moved-across $d/dir/sub/moved-here &&
	echo new >$d/replacement && echo old >$d/replaced &&
	mv $d/replacement $d/replaced &&
	mkdir $d/dir-to-rename && echo x >$d/dir-to-rename/inside &&
	mv $d/dir-to-rename $d/dir/sub/renamed-dir
}

links() {
	ln $d/hello.txt $d/dir/hello.link &&
	ln $d/hello.txt $d/dir/sub/hello.link2 &&
	echo gone >$d/link-then-unlink && ln $d/link-then-unlink $d/survivor &&
	rm $d/link-then-unlink
}

symlinks() {
	ln -s hello.txt $d/sym &&
	ln -s ../hello.txt $d/dir/sym-up &&
	ln -s /data/dir/sub/deeper/a/target/that/is/longer/than/sixty/characters/so/it/needs/a/block \
		$d/long-sym &&
	ln -s nowhere $d/dangling
}

truncations() {
	seq 1 50000 >$d/trunc-shrink && truncate -s 1000 $d/trunc-shrink &&
	seq 1 50000 >$d/trunc-zero && truncate -s 0 $d/trunc-zero &&
	echo short >$d/trunc-grow && truncate -s 1000000 $d/trunc-grow &&
	yes x | head -c 300000 >$d/trunc-mid && truncate -s 70000 $d/trunc-mid
}

unlinks() {
	i=0
	while [ $i -lt 20 ]; do
		seq 1 $((i * 500)) >$d/unlink-$i
		i=$((i + 1))
	done
	i=0
	while [ $i -lt 20 ]; do
		[ $((i % 3)) -eq 0 ] || rm $d/unlink-$i || return 1
		i=$((i + 1))
	done
}

dirs() {
	mkdir $d/rmdir-me && rmdir $d/rmdir-me &&
	mkdir -p $d/tree/a/b/c && rmdir $d/tree/a/b/c &&
	mkdir $d/tree/x $d/tree/y
}

# 200 MiB with one block of data at its end: the rest are holes.
sparse() {
	printf 'the end' | dd of=$d/sparse bs=1 seek=$((200 * 1024 * 1024 - 7)) conv=notrunc 2>/dev/null &&
	[ "$(tail -c 7 $d/sparse)" = "the end" ]
}

# 1000 entries (several directory blocks), then every seventh removed.
long_dir() {
	mkdir $d/long &&
	i=0
	while [ $i -lt 1000 ]; do
		: >$d/long/entry-with-a-longish-name-$i || return 1
		i=$((i + 1))
	done
	i=0
	while [ $i -lt 1000 ]; do
		rm $d/long/entry-with-a-longish-name-$i || return 1
		i=$((i + 7))
	done
	[ "$(ls $d/long | wc -l)" -eq 857 ]
}

attrs() {
	echo mode >$d/chmod-me && chmod 0751 $d/chmod-me &&
	echo owner >$d/chown-me && chown 1000:100 $d/chown-me &&
	mkdir $d/sticky && chmod 1777 $d/sticky &&
	echo time >$d/utime-me && touch -d '2001-02-03 04:05:06' $d/utime-me &&
	chmod 4755 $d/chmod-me
}

# Writes through a shared mapping, one made after msync wrote the page back
# (user/tests/mmap_shared_writeback.c); the file stays for the listing.
mmap_shared() {
	/tests/mmap_shared_writeback $d
}

mkdir -p $d
step create create
step write_big write_big
step append append
step renames renames
step links links
step symlinks symlinks
step truncations truncations
step unlinks unlinks
step dirs dirs
step sparse sparse
step long_dir long_dir
step attrs attrs
step mmap_shared mmap_shared
step read_back sh -c "[ \"\$(cat $d/hello.txt)\" = \"\$(printf 'hello\nappended')\" ]"
