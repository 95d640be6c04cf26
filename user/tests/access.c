/*
 * access and faccessat: existence and permission checks, root's bypass
 * (except for execute), an unprivileged user's EACCES, and the errors.
 * Linux: fs/open.c (do_faccessat), fs/namei.c (generic_permission).
 */
#include "test.h"

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	unlink("plain");
	unlink("secret");
	unlink("script");
	REQUIRE(close(open("plain", O_WRONLY | O_CREAT, 0644)) == 0);
	REQUIRE(close(open("secret", O_WRONLY | O_CREAT, 0600)) == 0);
	REQUIRE(close(open("script", O_WRONLY | O_CREAT, 0700)) == 0);
	REQUIRE(chmod("/tmp/access", 0755) == 0);

	CHECK("f_ok_existing", access("plain", F_OK) == 0, "access(F_OK): %s", errno_name(errno));
	EXPECT_ERRNO("f_ok_missing_enoent", access("none", F_OK), ENOENT);
	CHECK("root_reads_and_writes_anything", access("secret", R_OK | W_OK) == 0 && chmod("secret", 0) == 0 &&
							access("secret", R_OK | W_OK) == 0,
	      "root denied: %s", errno_name(errno));
	EXPECT_ERRNO("root_x_ok_needs_an_x_bit_eacces", access("plain", X_OK), EACCES);
	CHECK("x_ok_executable", access("script", X_OK) == 0, "access(X_OK): %s", errno_name(errno));
	CHECK("x_ok_directory", access("/tmp", X_OK) == 0, "access(/tmp, X_OK): %s", errno_name(errno));
	EXPECT_ERRNO("bad_mode_einval", access("plain", 0x10), EINVAL);
	EXPECT_ERRNO("file_as_dir_enotdir", access("plain/x", F_OK), ENOTDIR);
	EXPECT_ERRNO("bad_pointer_efault", syscall(SYS_access, (char *)8, F_OK), EFAULT);
	int dir = open(".", O_RDONLY | O_DIRECTORY);
	CHECK("faccessat_dirfd", faccessat(dir, "plain", R_OK, 0) == 0, "faccessat: %s", errno_name(errno));
	EXPECT_ERRNO("faccessat_bad_dirfd_ebadf", faccessat(999, "plain", R_OK, 0), EBADF);

	/* An unprivileged user is refused what its mode bits refuse. */
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		if (setgid(1000) != 0 || setuid(1000) != 0)
			_exit(10);
		if (access("plain", R_OK) != 0)
			_exit(11);
		if (access("plain", W_OK) == 0 || errno != EACCES)
			_exit(12);
		if (access("secret", R_OK) == 0 || errno != EACCES)
			_exit(13);
		if (open("secret", O_RDONLY) >= 0 || errno != EACCES)
			_exit(14);
		if (open("/tmp/access/new", O_WRONLY | O_CREAT, 0644) >= 0 || errno != EACCES)
			_exit(15);
		_exit(0);
	}
	int status = wait_status(pid);
	CHECK("unprivileged_eacces", exited_with(status, 0),
	      "child %s (10 setuid, 11 R_OK plain, 12 W_OK plain, 13 R_OK secret, 14 open secret, 15 create in 0755 dir)",
	      status_text(status));
	return test_done();
}
