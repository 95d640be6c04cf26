/*
 * fcntl: F_GETFL/F_SETFL (only O_APPEND, O_NONBLOCK and friends change),
 * F_GETFD/F_SETFD, and the errors. Close-on-exec across exec is in execve.c.
 * Linux: fs/fcntl.c (setfl, do_fcntl).
 */
#include "test.h"

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	int fd = open("file", O_RDWR | O_CREAT | O_TRUNC, 0644);
	REQUIRE(fd >= 0);
	int fl = fcntl(fd, F_GETFL);
	CHECK("getfl_access_mode", fl >= 0 && (fl & O_ACCMODE) == O_RDWR, "F_GETFL %#x", fl);
	CHECK("getfl_no_creat_trunc", fl >= 0 && !(fl & (O_CREAT | O_TRUNC | O_EXCL)), "F_GETFL keeps open-only flags: %#x", fl);

	CHECK("setfl_append_nonblock", fcntl(fd, F_SETFL, O_APPEND | O_NONBLOCK) == 0, "F_SETFL: %s", errno_name(errno));
	fl = fcntl(fd, F_GETFL);
	CHECK("getfl_sees_append_nonblock", (fl & (O_APPEND | O_NONBLOCK)) == (O_APPEND | O_NONBLOCK), "F_GETFL %#x", fl);
	CHECK("setfl_ignores_access_mode", fcntl(fd, F_SETFL, O_RDONLY) == 0 && (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR,
	      "F_SETFL changed the access mode: %#x", fcntl(fd, F_GETFL));
	CHECK("setfl_clears", !(fcntl(fd, F_GETFL) & (O_APPEND | O_NONBLOCK)), "F_SETFL 0 left %#x", fcntl(fd, F_GETFL));

	/* O_APPEND set through F_SETFL makes writes go to the end. */
	REQUIRE(write(fd, "hello", 5) == 5);
	REQUIRE(lseek(fd, 0, SEEK_SET) == 0);
	fcntl(fd, F_SETFL, O_APPEND);
	REQUIRE(write(fd, "!", 1) == 1);
	CHECK("append_via_setfl_writes_at_end", lseek(fd, 0, SEEK_CUR) == 6, "offset %ld after append",
	      (long)lseek(fd, 0, SEEK_CUR));

	CHECK("getfd_default_0", fcntl(fd, F_GETFD) == 0, "F_GETFD %d", fcntl(fd, F_GETFD));
	CHECK("setfd_cloexec", fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC, "F_GETFD %d",
	      fcntl(fd, F_GETFD));
	CHECK("setfd_clear", fcntl(fd, F_SETFD, 0) == 0 && fcntl(fd, F_GETFD) == 0, "F_GETFD %d", fcntl(fd, F_GETFD));
	int cl = open("file", O_RDONLY | O_CLOEXEC);
	CHECK("o_cloexec_sets_fd_cloexec", fcntl(cl, F_GETFD) == FD_CLOEXEC, "F_GETFD %d", fcntl(cl, F_GETFD));
	CHECK("o_cloexec_not_in_getfl", !(fcntl(cl, F_GETFL) & O_CLOEXEC), "F_GETFL shows O_CLOEXEC: %#x",
	      fcntl(cl, F_GETFL));

	EXPECT_ERRNO("bad_cmd_einval", fcntl(fd, 9999), EINVAL);
	close(fd);
	EXPECT_ERRNO("closed_fd_getfl_ebadf", fcntl(fd, F_GETFL), EBADF);
	EXPECT_ERRNO("closed_fd_setfd_ebadf", fcntl(fd, F_SETFD, FD_CLOEXEC), EBADF);
	EXPECT_ERRNO("negative_fd_ebadf", fcntl(-1, F_GETFD), EBADF);
	return test_done();
}
