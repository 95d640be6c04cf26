#!/bin/sh
# Boot on an image the host corrupted inside the file system (disk_test=
# corrupt): /corrupt/dir has an entry whose rec_len runs off its block,
# /corrupt/file a block pointer past the end of the disk. Reading them must
# fail with an error, not crash the kernel; the rest stays readable.
# The bad entry, "bad", is the directory's last: it is skipped or refused.
if ls /corrupt/dir 2>/dev/null | grep -qx bad || cat /corrupt/dir/bad >/dev/null 2>&1; then
	echo "not ok - corrupt/bad_dir_refused: the entry past its block was used"
else
	echo "ok - corrupt/bad_dir_refused"
fi
if cat /corrupt/file >/dev/null 2>&1; then
	echo "not ok - corrupt/bad_block_refused: cat /corrupt/file succeeded"
else
	echo "ok - corrupt/bad_block_refused"
fi
if [ "$(cat /corrupt/good)" = "intact" ]; then
	echo "ok - corrupt/rest_readable"
else
	echo "not ok - corrupt/rest_readable: $(cat /corrupt/good 2>&1)"
fi
