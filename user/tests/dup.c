/*
 * dup, dup2, dup3 and F_DUPFD: the lowest free descriptor, a shared file
 * offset, close-on-exec only where asked, and the errors.
 * Linux: fs/file.c (ksys_dup3, do_dup2), fs/fcntl.c. dup3 errors use the raw
 * syscall: musl's dup3 falls back to dup2 and hides the kernel's EINVAL.
 */
#include "test.h"

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	int fd = open("file", O_RDWR | O_CREAT | O_TRUNC, 0644);
	REQUIRE(fd >= 0);
	REQUIRE(write(fd, "abcdef", 6) == 6);
	REQUIRE(lseek(fd, 0, SEEK_SET) == 0);

	int low = open("/dev/null", O_RDONLY);
	REQUIRE(low >= 0);
	close(low);
	int d = dup(fd);
	CHECK("dup_lowest_free", d == low, "dup returned %d, lowest free was %d", d, low);
	char c;
	REQUIRE(read(fd, &c, 1) == 1);
	CHECK("dup_shares_offset", lseek(d, 0, SEEK_CUR) == 1, "offset of the dup is %ld", (long)lseek(d, 0, SEEK_CUR));
	CHECK("dup_clears_cloexec", fcntl(d, F_GETFD) == 0, "F_GETFD %d", fcntl(d, F_GETFD));

	int r = dup2(fd, 42);
	CHECK("dup2_to_chosen_fd", r == 42 && read(42, &c, 1) == 1 && c == 'b', "dup2 returned %d", r);
	int other = open("/dev/null", O_RDONLY);
	r = dup2(fd, other);
	CHECK("dup2_replaces_open_fd", r == other && read(other, &c, 1) == 1 && c == 'c', "dup2 over an open fd: %d", r);
	CHECK("dup2_same_fd_returns_it", dup2(fd, fd) == fd, "dup2(fd, fd) failed: %s", errno_name(errno));
	close(90);
	EXPECT_ERRNO("dup2_same_closed_fd_ebadf", dup2(90, 90), EBADF);
	EXPECT_ERRNO("dup2_bad_oldfd_ebadf", dup2(90, 43), EBADF);
	EXPECT_ERRNO("dup2_negative_newfd_ebadf", dup2(fd, -1), EBADF);
	EXPECT_ERRNO("dup_bad_fd_ebadf", dup(90), EBADF);

	EXPECT_ERRNO("dup3_same_fd_einval", syscall(SYS_dup3, fd, fd, 0), EINVAL);
	EXPECT_ERRNO("dup3_bad_flags_einval", syscall(SYS_dup3, fd, 44, O_NONBLOCK), EINVAL);
	r = dup3(fd, 45, O_CLOEXEC);
	CHECK("dup3_cloexec", r == 45 && fcntl(45, F_GETFD) == FD_CLOEXEC, "dup3 = %d, F_GETFD %d", r, fcntl(45, F_GETFD));
	r = dup3(fd, 45, 0);
	CHECK("dup3_replaces_without_cloexec", r == 45 && fcntl(45, F_GETFD) == 0, "dup3 = %d, F_GETFD %d", r,
	      fcntl(45, F_GETFD));

	r = fcntl(fd, F_DUPFD, 50);
	CHECK("f_dupfd_at_least_arg", r == 50, "F_DUPFD 50 gave %d", r);
	r = fcntl(fd, F_DUPFD, 50);
	CHECK("f_dupfd_next_free", r == 51, "second F_DUPFD 50 gave %d", r);
	r = fcntl(fd, F_DUPFD_CLOEXEC, 60);
	CHECK("f_dupfd_cloexec", r == 60 && fcntl(60, F_GETFD) == FD_CLOEXEC, "F_DUPFD_CLOEXEC gave %d", r);
	EXPECT_ERRNO("f_dupfd_negative_einval", fcntl(fd, F_DUPFD, -1), EINVAL);

	/* Closing one descriptor leaves the other working. */
	close(fd);
	CHECK("dup_survives_close", lseek(d, 0, SEEK_SET) == 0 && read(d, &c, 1) == 1 && c == 'a',
	      "reading the dup after closing the original failed");
	EXPECT_ERRNO("closed_original_ebadf", read(fd, &c, 1), EBADF);
	return test_done();
}
