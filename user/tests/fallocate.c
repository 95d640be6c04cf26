/*
 * fallocate: mode 0 grows the file and reads as zeros, KEEP_SIZE allocates
 * without growing, PUNCH_HOLE|KEEP_SIZE zeroes, unknown and contradictory
 * modes, bad ranges, descriptors and file types; fadvise64 and readahead
 * validate their arguments. On ext2 (the ext2-root tier) allocation is
 * EOPNOTSUPP. Linux: fs/open.c (vfs_fallocate), mm/shmem.c
 * (shmem_fallocate), fs/ext4/extents.c (ext4_fallocate), mm/fadvise.c,
 * mm/readahead.c.
 */
#include "test.h"

#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE 0x01
#endif
#ifndef FALLOC_FL_PUNCH_HOLE
#define FALLOC_FL_PUNCH_HOLE 0x02
#endif
#ifndef FALLOC_FL_COLLAPSE_RANGE
#define FALLOC_FL_COLLAPSE_RANGE 0x08
#endif
#include <sys/resource.h>

static off_t size_of(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 ? st.st_size : -1;
}

/* tmpfs (shmem_fallocate): mode 0 and KEEP_SIZE allocate; the file ends at 10000. */
static void tmpfs_allocation(int fd)
{
	EXPECT_OK("mode0", fallocate(fd, 0, 0, 10000));
	CHECK("mode0_grows", size_of(fd) == 10000, "size %ld", (long)size_of(fd));
	struct stat st;
	fstat(fd, &st);
	CHECK("mode0_blocks", st.st_blocks >= 10000 / 512, "st_blocks %ld", (long)st.st_blocks);
	char buf[100];
	memset(buf, 'x', sizeof(buf));
	CHECK("reads_zeros", pread(fd, buf, 100, 5000) == 100 && buf[0] == 0 && buf[99] == 0,
	      "not zeros");
	EXPECT_OK("keep_size", fallocate(fd, FALLOC_FL_KEEP_SIZE, 8000, 20000));
	CHECK("keep_size_size", size_of(fd) == 10000, "size %ld", (long)size_of(fd));
	EXPECT_OK("mode0_inside", fallocate(fd, 0, 0, 100));
	CHECK("inside_keeps_size", size_of(fd) == 10000, "size %ld", (long)size_of(fd));
}

/*
 * ext2 (the ext2-root tier): neither fs/ext2 nor ext4's driver for a file
 * without extents (Debian mounts ext2 with it) allocates: EOPNOTSUPP, the
 * file unchanged. ftruncate makes it end at 10000 as on tmpfs.
 */
static void ext2_allocation(int fd)
{
	EXPECT_ERRNO("ext2_mode0_eopnotsupp", fallocate(fd, 0, 0, 10000), EOPNOTSUPP);
	EXPECT_ERRNO("ext2_keep_size_eopnotsupp", fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 10000),
		     EOPNOTSUPP);
	CHECK("ext2_unsupported_keeps_size", size_of(fd) == 0, "size %ld", (long)size_of(fd));
	REQUIRE_VOID(ftruncate(fd, 10000) == 0);
}

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	unlink("f");
	int fd = open("f", O_RDWR | O_CREAT | O_TRUNC, 0644);
	REQUIRE(fd >= 0);

	int ext2 = fs_magic(".") == EXT2_SUPER_MAGIC;
	if (ext2)
		ext2_allocation(fd);
	else
		tmpfs_allocation(fd);
	char buf[100];
	REQUIRE(pwrite(fd, "abcdefgh", 8, 100) == 8);
	errno = 0;
	long punched = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 102, 4);
	if (ext2 && punched == -1 && errno == EOPNOTSUPP) {
		/* fs/ext2 has no fallocate at all; Debian's ext4-for-ext2 punches. */
		pass("ext2_punch_eopnotsupp");
		CHECK("punch_unsupported_keeps_data",
		      pread(fd, buf, 8, 100) == 8 && memcmp(buf, "abcdefgh", 8) == 0, "data %.8s", buf);
	} else {
		EXPECT_OK("punch_hole", punched);
		CHECK("punch_zeroes",
		      pread(fd, buf, 8, 100) == 8 && memcmp(buf, "ab\0\0\0\0gh", 8) == 0, "data %.8s",
		      buf);
	}
	CHECK("punch_keeps_size", size_of(fd) == 10000, "size %ld", (long)size_of(fd));
	EXPECT_ERRNO("punch_without_keep_eopnotsupp", fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 10),
		     EOPNOTSUPP);
	EXPECT_ERRNO("unknown_mode_eopnotsupp", fallocate(fd, 0x1000, 0, 10), EOPNOTSUPP);
	EXPECT_ERRNO("collapse_mixed_einval",
		     fallocate(fd, FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_KEEP_SIZE, 0, 4096), EINVAL);
	EXPECT_ERRNO("len_zero_einval", fallocate(fd, 0, 0, 0), EINVAL);
	EXPECT_ERRNO("len_negative_einval", fallocate(fd, 0, 0, -1), EINVAL);
	EXPECT_ERRNO("offset_negative_einval", fallocate(fd, 0, -1, 10), EINVAL);
	EXPECT_ERRNO("past_max_efbig", fallocate(fd, 0, 0x7fffffffffffff00LL, 0x1000), EFBIG);
	EXPECT_ERRNO("bad_fd_ebadf", fallocate(1000, 0, 0, 10), EBADF);
	/* More than tmpfs can hold (half of RAM at most): ENOSPC, nothing kept. */
	EXPECT_ERRNO("beyond_memory_enospc", fallocate(fd, 0, 0, 1LL << 40),
		     ext2 ? EOPNOTSUPP : ENOSPC);
	CHECK("enospc_keeps_size", size_of(fd) == 10000, "size %ld", (long)size_of(fd));

	int ro = open("f", O_RDONLY);
	REQUIRE(ro >= 0);
	EXPECT_ERRNO("readonly_ebadf", fallocate(ro, 0, 0, 10), EBADF);
	int p[2];
	REQUIRE(pipe(p) == 0);
	EXPECT_ERRNO("pipe_espipe", fallocate(p[1], 0, 0, 10), ESPIPE);
	int null = open("/dev/null", O_WRONLY);
	REQUIRE(null >= 0);
	EXPECT_ERRNO("chardev_enodev", fallocate(null, 0, 0, 10), ENODEV);

	/* RLIMIT_FSIZE applies, with SIGXFSZ (ignored here). */
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit old, lim = { 20000, RLIM_INFINITY };
	getrlimit(RLIMIT_FSIZE, &old);
	REQUIRE(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	/* On ext2 the file system refuses the mode before the limit is checked. */
	EXPECT_ERRNO("rlimit_efbig", fallocate(fd, 0, 0, 30000), ext2 ? EOPNOTSUPP : EFBIG);
	EXPECT_ERRNO("rlimit_keep_size_efbig", fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 30000),
		     ext2 ? EOPNOTSUPP : EFBIG);
	setrlimit(RLIMIT_FSIZE, &old);

	/* fadvise64 and readahead. */
	CHECK("fadvise_ok", posix_fadvise(fd, 0, 100, POSIX_FADV_SEQUENTIAL) == 0, "failed");
	CHECK("fadvise_dontneed_ok", posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0, "failed");
	CHECK("fadvise_bad_advice_einval", posix_fadvise(fd, 0, 100, 42) == EINVAL, "not EINVAL");
	CHECK("fadvise_neg_len_einval", posix_fadvise(fd, 0, -1, POSIX_FADV_NORMAL) == EINVAL,
	      "not EINVAL");
	CHECK("fadvise_pipe_espipe", posix_fadvise(p[0], 0, 100, POSIX_FADV_NORMAL) == ESPIPE,
	      "not ESPIPE");
	CHECK("fadvise_ebadf", posix_fadvise(1000, 0, 100, POSIX_FADV_NORMAL) == EBADF,
	      "not EBADF");
	EXPECT_OK("readahead", readahead(fd, 0, 4096));
	EXPECT_ERRNO("readahead_pipe_einval", readahead(p[0], 0, 4096), EINVAL);
	EXPECT_ERRNO("readahead_writeonly_ebadf", readahead(p[1], 0, 4096), EBADF);
	EXPECT_ERRNO("readahead_ebadf", readahead(1000, 0, 4096), EBADF);
	return test_done();
}
