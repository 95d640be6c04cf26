/*
 * openflags: what Linux 6.1 does with O_DIRECT (EINVAL on tmpfs, accepted
 * on ext2), O_PATH (fstat, fchdir, dup, *at() dirfd, readlinkat of a link;
 * EBADF for I/O), O_NOFOLLOW, O_DIRECTORY, O_EXCL without O_CREAT, O_TRUNC
 * on a read-only open, O_APPEND with pwrite, O_NOATIME (owner only),
 * F_SETFL's checks, search permission on every path component and
 * supplementary groups; and preadv/pwritev/preadv2/pwritev2 with their
 * flags.
 * Linux: fs/namei.c (do_open, may_open), fs/open.c, fs/fcntl.c (setfl),
 * fs/read_write.c (do_preadv, kiocb_set_rw_flags).
 */
#include "test.h"
#include <sys/ioctl.h>
#include <sys/uio.h>

#ifndef RWF_APPEND
#define RWF_APPEND 0x10
#endif
#ifndef RWF_DSYNC
#define RWF_DSYNC 0x02
#endif

/* musl has no preadv2/pwritev2: the raw calls, offset in pos_l (64-bit). */
static long preadv2_(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	return syscall(SYS_preadv2, fd, iov, cnt, off, 0, flags);
}

static long pwritev2_(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	return syscall(SYS_pwritev2, fd, iov, cnt, off, 0, flags);
}

static int noatime_not_owner(void)
{
	int fd = open("data", O_RDONLY | O_NOATIME);
	return fd >= 0 ? 0 : errno;
}

static int setfl_noatime_not_owner(void)
{
	int fd = open("data", O_RDONLY);
	if (fd < 0)
		return 100;
	return fcntl(fd, F_SETFL, O_NOATIME) == 0 ? 0 : errno;
}

static int search_denied(void)
{
	int fd = open("closed/inner", O_RDONLY);
	return fd >= 0 ? 0 : errno;
}

static int group_dir_search(void)
{
	/* "grpdir" is 0770 root:2000: searchable through the supplementary group only. */
	int fd = open("grpdir/inner", O_RDONLY);
	return fd >= 0 ? 0 : errno;
}

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	unlink("data");
	unlink("link");
	int fd = open("data", O_RDWR | O_CREAT | O_TRUNC, 0644);
	REQUIRE(fd >= 0 && write(fd, "0123456789", 10) == 10);
	REQUIRE(symlink("data", "link") == 0);
	mkdir("dir", 0755);

	/* O_DIRECT: tmpfs has no direct I/O in 6.1; ext2 (the ext2-root tier) has. */
	if (fs_magic(".") == EXT2_SUPER_MAGIC) {
		int direct = open("data", O_RDWR | O_DIRECT);
		CHECK("odirect_ext2_ok", direct >= 0, "open: %s", errno_name(errno));
		close(direct);
		EXPECT_OK("setfl_odirect_ext2_ok", fcntl(fd, F_SETFL, O_DIRECT));
		CHECK("setfl_odirect_ext2_set", (fcntl(fd, F_GETFL) & O_DIRECT) != 0, "not set");
		/* Back to buffered I/O: the checks below use unaligned buffers. */
		REQUIRE(fcntl(fd, F_SETFL, 0) == 0);
	} else {
		EXPECT_ERRNO("odirect_tmpfs_einval", open("data", O_RDWR | O_DIRECT), EINVAL);
		EXPECT_ERRNO("setfl_odirect_einval", fcntl(fd, F_SETFL, O_DIRECT), EINVAL);
	}

	/* O_PATH. */
	int p = open("data", O_PATH);
	REQUIRE(p >= 0);
	struct stat st;
	CHECK("opath_fstat", fstat(p, &st) == 0 && st.st_size == 10, "fstat failed");
	char c;
	EXPECT_ERRNO("opath_read_ebadf", read(p, &c, 1), EBADF);
	EXPECT_ERRNO("opath_write_ebadf", write(p, "x", 1), EBADF);
	int n;
	EXPECT_ERRNO("opath_ioctl_ebadf", ioctl(p, FIONREAD, &n), EBADF);
	EXPECT_ERRNO("opath_mmap_ebadf", (long)mmap(NULL, 4096, PROT_READ, MAP_SHARED, p, 0), EBADF);
	/* The raw call: musl's fchmod retries EBADF through /proc/self/fd. */
	EXPECT_ERRNO("opath_fchmod_ebadf", syscall(SYS_fchmod, p, 0600), EBADF);
	int p2 = dup(p);
	CHECK("opath_dup", p2 >= 0, "dup: %s", errno_name(errno));
	CHECK("opath_getfl", (fcntl(p, F_GETFL) & O_PATH) != 0, "F_GETFL lacks O_PATH");
	EXPECT_OK("opath_close", close(p2));
	close(p);
	int pd = open("dir", O_PATH | O_DIRECTORY);
	REQUIRE(pd >= 0);
	int inner = openat(pd, "f", O_RDWR | O_CREAT, 0644);
	CHECK("opath_dirfd_openat", inner >= 0, "openat: %s", errno_name(errno));
	close(inner);
	int cwd = open(".", O_RDONLY | O_DIRECTORY);
	EXPECT_OK("opath_fchdir", fchdir(pd));
	CHECK("fchdir_went_there", access("f", F_OK) == 0, "not in dir");
	fchdir(cwd);
	close(pd);
	int pl = open("link", O_PATH | O_NOFOLLOW);
	REQUIRE(pl >= 0);
	char target[32] = { 0 };
	CHECK("opath_readlinkat_empty", readlinkat(pl, "", target, sizeof(target)) == 4 &&
					     memcmp(target, "data", 4) == 0,
	      "readlinkat: %s", errno_name(errno));
	CHECK("opath_nofollow_is_link", fstat(pl, &st) == 0 && S_ISLNK(st.st_mode), "not a link");
	close(pl);

	/* O_NOFOLLOW, O_DIRECTORY, O_EXCL without O_CREAT. */
	EXPECT_ERRNO("nofollow_eloop", open("link", O_RDONLY | O_NOFOLLOW), ELOOP);
	EXPECT_ERRNO("odirectory_enotdir", open("data", O_RDONLY | O_DIRECTORY), ENOTDIR);
	int ex = open("data", O_RDONLY | O_EXCL);
	CHECK("excl_without_creat_ignored", ex >= 0, "open: %s", errno_name(errno));
	close(ex);
	EXPECT_ERRNO("creat_excl_eexist", open("data", O_RDWR | O_CREAT | O_EXCL, 0644), EEXIST);

	/* O_APPEND: pwrite appends on Linux. */
	int ap = open("data", O_WRONLY | O_APPEND);
	REQUIRE(ap >= 0);
	CHECK("append_pwrite", pwrite(ap, "AB", 2, 0) == 2, "pwrite failed");
	char buf[32] = { 0 };
	CHECK("append_pwrite_at_end", pread(fd, buf, 12, 0) == 12 && memcmp(buf, "0123456789AB", 12) == 0,
	      "data %.12s", buf);
	close(ap);

	/* preadv/pwritev and the v2 forms. */
	char a[3] = { 0 }, b[3] = { 0 };
	struct iovec iov[2] = { { a, 2 }, { b, 2 } };
	CHECK("preadv", preadv(fd, iov, 2, 2) == 4 && memcmp(a, "23", 2) == 0 && memcmp(b, "45", 2) == 0,
	      "preadv got %s %s", a, b);
	REQUIRE(lseek(fd, 0, SEEK_SET) == 0);
	CHECK("preadv2_minus1_uses_pos", preadv2_(fd, iov, 1, -1, 0) == 2 && memcmp(a, "01", 2) == 0 &&
						  lseek(fd, 0, SEEK_CUR) == 2,
	      "preadv2 -1");
	EXPECT_ERRNO("preadv_negative_einval", preadv(fd, iov, 1, -1), EINVAL);
	EXPECT_ERRNO("preadv2_minus2_einval", preadv2_(fd, iov, 1, -2, 0), EINVAL);
	EXPECT_ERRNO("preadv2_bad_flags_eopnotsupp", preadv2_(fd, iov, 1, 0, 0x40000000), EOPNOTSUPP);
	CHECK("preadv2_dsync_ok", preadv2_(fd, iov, 1, 0, RWF_DSYNC) == 2, "failed: %s", errno_name(errno));
	struct iovec w[1] = { { "zz", 2 } };
	CHECK("pwritev", pwritev(fd, w, 1, 0) == 2 && pread(fd, buf, 2, 0) == 2 && buf[0] == 'z',
	      "pwritev");
	CHECK("pwritev2_append", pwritev2_(fd, w, 1, 0, RWF_APPEND) == 2 &&
					 lseek(fd, 0, SEEK_END) == 14,
	      "size %ld", (long)lseek(fd, 0, SEEK_END));
	int pp[2];
	REQUIRE(pipe(pp) == 0);
	EXPECT_ERRNO("preadv_pipe_espipe", preadv(pp[0], iov, 1, 0), ESPIPE);
	EXPECT_ERRNO("pwritev_pipe_espipe", pwritev(pp[1], w, 1, 0), ESPIPE);
	int ro = open("data", O_RDONLY);
	EXPECT_ERRNO("pwritev_on_readonly_ebadf", pwritev(ro, w, 1, 0), EBADF);

	/* O_TRUNC on a read-only open truncates. */
	int t = open("data", O_RDONLY | O_TRUNC);
	CHECK("rdonly_trunc_truncates", t >= 0 && fstat(t, &st) == 0 && st.st_size == 0,
	      "size %ld", (long)st.st_size);
	close(t);

	/* O_NOATIME: owner only, at open and F_SETFL. */
	REQUIRE(chmod("data", 0644) == 0);
	int na = open("data", O_RDONLY | O_NOATIME);
	CHECK("noatime_owner_ok", na >= 0 && (fcntl(na, F_GETFL) & O_NOATIME), "open: %s",
	      errno_name(errno));
	close(na);
	CHECK("noatime_not_owner_eperm", run_as_user(noatime_not_owner) == EPERM, "got %s",
	      errno_name(run_as_user(noatime_not_owner)));
	CHECK("setfl_noatime_not_owner_eperm", run_as_user(setfl_noatime_not_owner) == EPERM,
	      "got %s", errno_name(run_as_user(setfl_noatime_not_owner)));

	/* Search permission on each component; supplementary groups count. */
	REQUIRE(chmod(".", 0755) == 0);
	mkdir("closed", 0700);
	close(open("closed/inner", O_CREAT | O_RDWR, 0644));
	CHECK("component_search_eacces", run_as_user(search_denied) == EACCES, "got %s",
	      errno_name(run_as_user(search_denied)));
	mkdir("grpdir", 0770);
	close(open("grpdir/inner", O_CREAT | O_RDWR, 0644));
	REQUIRE(chown("grpdir", 0, 2000) == 0 && chmod("grpdir", 0770) == 0);
	CHECK("supplementary_group_search", run_as_user(group_dir_search) == 0, "got %s",
	      errno_name(run_as_user(group_dir_search)));
	return test_done();
}
