/*
 * EBADF: a closed, negative or never-opened descriptor is refused by every
 * call that takes one. Linux: fs/file.c (fdget), the callers.
 */
#include "test.h"
#include <sys/uio.h>

int main(void)
{
	int fd = open("/dev/null", O_RDONLY);
	REQUIRE(fd >= 0);
	CHECK("close_open_fd", close(fd) == 0, "close: %s", errno_name(errno));
	char buf[8];
	struct stat st;
	struct iovec iov = {buf, sizeof(buf)};
	EXPECT_ERRNO("close_twice", close(fd), EBADF);
	EXPECT_ERRNO("read_closed", read(fd, buf, 1), EBADF);
	EXPECT_ERRNO("write_closed", write(fd, buf, 1), EBADF);
	EXPECT_ERRNO("readv_closed", readv(fd, &iov, 1), EBADF);
	EXPECT_ERRNO("pread_closed", pread(fd, buf, 1, 0), EBADF);
	EXPECT_ERRNO("lseek_closed", lseek(fd, 0, SEEK_SET), EBADF);
	EXPECT_ERRNO("fstat_closed", fstat(fd, &st), EBADF);
	EXPECT_ERRNO("dup_closed", dup(fd), EBADF);
	EXPECT_ERRNO("fcntl_closed", fcntl(fd, F_GETFL), EBADF);
	EXPECT_ERRNO("fchdir_closed", fchdir(fd), EBADF);
	EXPECT_ERRNO("getdents64_closed", syscall(SYS_getdents64, fd, buf, sizeof(buf)), EBADF);
	EXPECT_ERRNO("ftruncate_closed", ftruncate(fd, 0), EBADF);
	EXPECT_ERRNO("read_negative", read(-1, buf, 1), EBADF);
	EXPECT_ERRNO("write_negative", write(-5, buf, 1), EBADF);
	EXPECT_ERRNO("close_negative", close(-1), EBADF);
	EXPECT_ERRNO("read_huge_fd", read(1 << 20, buf, 1), EBADF);
	EXPECT_ERRNO("close_huge_fd", close(1 << 30), EBADF);
	EXPECT_ERRNO("fstat_int_max", fstat(0x7fffffff, &st), EBADF);
	/* The fd argument is an int: the upper 32 bits of the register are ignored. */
	CHECK("fd_upper_bits_ignored", syscall(SYS_write, 0x100000001l, "", 0) == 0,
	      "write on fd 1 with upper bits set: %s", errno_name(errno));
	return test_done();
}
