/*
 * utimes: utimensat with explicit times, UTIME_NOW and UTIME_OMIT, on a
 * descriptor (futimens), on a symlink itself, the nanosecond check, who may
 * set which times (write access for "now", the owner for explicit ones);
 * utimes, utime and futimesat; and supplementary groups in the permission
 * check. Linux: fs/utimes.c, fs/attr.c (setattr_prepare), kernel/groups.c.
 */
#include "test.h"
#include <sys/time.h>
#include <utime.h>

static struct stat st_of(const char *path, int follow)
{
	struct stat st;
	memset(&st, 0, sizeof(st));
	if (follow)
		stat(path, &st);
	else
		lstat(path, &st);
	return st;
}

static int user_now_with_write(void)
{
	/* "g" is group 2000 with g+w: write access through the supplementary group. */
	return utimensat(AT_FDCWD, "g", NULL, 0) == 0 ? 0 : errno;
}

static int user_explicit_not_owner(void)
{
	struct timespec ts[2] = { { 5, 0 }, { 6, 0 } };
	return utimensat(AT_FDCWD, "g", ts, 0) == 0 ? 0 : errno;
}

static int user_now_no_write(void)
{
	return utimensat(AT_FDCWD, "ro", NULL, 0) == 0 ? 0 : errno;
}

static int user_now_omit_not_owner(void)
{
	struct timespec ts[2] = { { 0, UTIME_NOW }, { 0, UTIME_OMIT } };
	return utimensat(AT_FDCWD, "g", ts, 0) == 0 ? 0 : errno;
}

static int user_reads_by_group(void)
{
	int fd = open("g", O_RDONLY);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	unlink("f");
	unlink("l");
	int fd = open("f", O_RDWR | O_CREAT, 0644);
	REQUIRE(fd >= 0);

	struct timespec ts[2] = { { 1000, 111 }, { 2000, 222 } };
	EXPECT_OK("utimensat_explicit", utimensat(AT_FDCWD, "f", ts, 0));
	struct stat st = st_of("f", 1);
	CHECK("explicit_atime", st.st_atim.tv_sec == 1000 && st.st_atim.tv_nsec == 111,
	      "atime %ld.%ld", (long)st.st_atim.tv_sec, st.st_atim.tv_nsec);
	CHECK("explicit_mtime", st.st_mtim.tv_sec == 2000 && st.st_mtim.tv_nsec == 222,
	      "mtime %ld.%ld", (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);

	struct timespec omit_now[2] = { { 0, UTIME_OMIT }, { 0, UTIME_NOW } };
	EXPECT_OK("utimensat_omit_now", utimensat(AT_FDCWD, "f", omit_now, 0));
	st = st_of("f", 1);
	CHECK("omit_keeps_atime", st.st_atim.tv_sec == 1000, "atime %ld", (long)st.st_atim.tv_sec);
	CHECK("now_sets_mtime", st.st_mtim.tv_sec > 100000, "mtime %ld", (long)st.st_mtim.tv_sec);

	struct timespec both_omit[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };
	EXPECT_OK("both_omit_skips_path", utimensat(AT_FDCWD, "no/such/file", both_omit, 0));

	struct timespec bad[2] = { { 0, 1000000000 }, { 0, 0 } };
	EXPECT_ERRNO("nsec_too_big_einval", utimensat(AT_FDCWD, "f", bad, 0), EINVAL);
	bad[0].tv_nsec = -1;
	EXPECT_ERRNO("nsec_negative_einval", utimensat(AT_FDCWD, "f", bad, 0), EINVAL);
	EXPECT_ERRNO("bad_flags_einval", utimensat(AT_FDCWD, "f", ts, 0x10000), EINVAL);
	EXPECT_ERRNO("missing_enoent", utimensat(AT_FDCWD, "missing", ts, 0), ENOENT);

	/* futimens: NULL path with a descriptor. */
	struct timespec t3[2] = { { 3000, 0 }, { 4000, 0 } };
	EXPECT_OK("futimens", futimens(fd, t3));
	st = st_of("f", 1);
	CHECK("futimens_times", st.st_atim.tv_sec == 3000 && st.st_mtim.tv_sec == 4000,
	      "times %ld %ld", (long)st.st_atim.tv_sec, (long)st.st_mtim.tv_sec);
	EXPECT_ERRNO("futimens_ebadf", syscall(SYS_utimensat, 1000, NULL, t3, 0), EBADF);
	EXPECT_ERRNO("null_path_flags_einval",
		     syscall(SYS_utimensat, fd, NULL, t3, AT_SYMLINK_NOFOLLOW), EINVAL);
	int pfd = open("f", O_PATH);
	REQUIRE(pfd >= 0);
	EXPECT_ERRNO("null_path_opath_ebadf", syscall(SYS_utimensat, pfd, NULL, t3, 0), EBADF);
	EXPECT_OK("empty_path_opath", utimensat(pfd, "", t3, AT_EMPTY_PATH));
	close(pfd);

	/* AT_SYMLINK_NOFOLLOW changes the link, not the target. */
	REQUIRE(symlink("f", "l") == 0);
	struct timespec t5[2] = { { 5000, 0 }, { 6000, 0 } };
	EXPECT_OK("nofollow_link", utimensat(AT_FDCWD, "l", t5, AT_SYMLINK_NOFOLLOW));
	CHECK("link_mtime_set", st_of("l", 0).st_mtim.tv_sec == 6000, "link mtime %ld",
	      (long)st_of("l", 0).st_mtim.tv_sec);
	CHECK("target_untouched", st_of("f", 1).st_mtim.tv_sec == 4000, "target mtime %ld",
	      (long)st_of("f", 1).st_mtim.tv_sec);

	/* utimes, utime, futimesat. */
	struct timeval tv[2] = { { 7000, 5 }, { 8000, 6 } };
	EXPECT_OK("utimes", utimes("f", tv));
	st = st_of("f", 1);
	CHECK("utimes_usec", st.st_atim.tv_sec == 7000 && st.st_atim.tv_nsec == 5000 &&
				     st.st_mtim.tv_nsec == 6000,
	      "atime %ld.%ld", (long)st.st_atim.tv_sec, st.st_atim.tv_nsec);
	tv[0].tv_usec = 1000000;
	EXPECT_ERRNO("utimes_usec_einval", utimes("f", tv), EINVAL);
	tv[0].tv_usec = UTIME_NOW;
	EXPECT_ERRNO("utimes_utime_now_einval", utimes("f", tv), EINVAL);
	struct utimbuf ub = { 9000, 9500 };
	EXPECT_OK("utime", utime("f", &ub));
	st = st_of("f", 1);
	CHECK("utime_times", st.st_atim.tv_sec == 9000 && st.st_mtim.tv_sec == 9500 &&
				     st.st_mtim.tv_nsec == 0,
	      "times %ld %ld", (long)st.st_atim.tv_sec, (long)st.st_mtim.tv_sec);
	EXPECT_OK("utime_null_now", utime("f", NULL));
	CHECK("utime_null_sets_now", st_of("f", 1).st_mtim.tv_sec > 100000, "mtime %ld",
	      (long)st_of("f", 1).st_mtim.tv_sec);
	int dfd = open(".", O_RDONLY | O_DIRECTORY);
	struct timeval tv2[2] = { { 100, 0 }, { 200, 0 } };
	EXPECT_OK("futimesat", syscall(SYS_futimesat, dfd, "f", tv2));
	CHECK("futimesat_times", st_of("f", 1).st_mtim.tv_sec == 200, "mtime %ld",
	      (long)st_of("f", 1).st_mtim.tv_sec);
	close(dfd);

	/* Permissions: "g" owned by root, group 2000, mode 0664; "ro" 0644. */
	unlink("g");
	unlink("ro");
	close(open("g", O_WRONLY | O_CREAT, 0664));
	close(open("ro", O_WRONLY | O_CREAT, 0644));
	REQUIRE(chown("g", 0, 2000) == 0 && chmod("g", 0660) == 0);
	REQUIRE(chmod(".", 0755) == 0);
	CHECK("now_needs_write_access", run_as_user(user_now_with_write) == 0,
	      "non-owner with group write: %s", errno_name(run_as_user(user_now_with_write)));
	CHECK("explicit_needs_owner_eperm", run_as_user(user_explicit_not_owner) == EPERM,
	      "got %s", errno_name(run_as_user(user_explicit_not_owner)));
	CHECK("now_no_write_eacces", run_as_user(user_now_no_write) == EACCES, "got %s",
	      errno_name(run_as_user(user_now_no_write)));
	CHECK("now_omit_needs_owner_eperm", run_as_user(user_now_omit_not_owner) == EPERM,
	      "got %s", errno_name(run_as_user(user_now_omit_not_owner)));
	CHECK("supplementary_group_read", run_as_user(user_reads_by_group) == 0, "open: %s",
	      errno_name(run_as_user(user_reads_by_group)));
	close(fd);
	return test_done();
}
