/*
 * read, write, lseek, pread64, pwrite64, readv, writev on a regular file:
 * offsets, holes, O_APPEND, and the errors.
 * Linux: fs/read_write.c.
 */
#include "test.h"
#include <sys/uio.h>

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	int fd = open("file", O_RDWR | O_CREAT | O_TRUNC, 0644);
	REQUIRE(fd >= 0);
	char buf[64];

	CHECK("write_returns_count", write(fd, "hello world", 11) == 11, "write: %s", errno_name(errno));
	CHECK("offset_after_write", lseek(fd, 0, SEEK_CUR) == 11, "offset %ld", (long)lseek(fd, 0, SEEK_CUR));
	CHECK("read_at_eof_returns_0", read(fd, buf, sizeof(buf)) == 0, "read at EOF did not return 0");
	CHECK("lseek_set", lseek(fd, 6, SEEK_SET) == 6, "SEEK_SET");
	ssize_t n = read(fd, buf, sizeof(buf));
	CHECK("read_from_offset", n == 5 && memcmp(buf, "world", 5) == 0, "read %zd bytes", n);
	CHECK("lseek_cur", lseek(fd, -5, SEEK_CUR) == 6, "SEEK_CUR");
	CHECK("lseek_end", lseek(fd, -1, SEEK_END) == 10, "SEEK_END");
	CHECK("short_read", read(fd, buf, sizeof(buf)) == 1 && buf[0] == 'd', "read near EOF");

	/* A hole reads as zeros. */
	CHECK("lseek_past_end", lseek(fd, 100, SEEK_SET) == 100, "lseek past end");
	REQUIRE(write(fd, "X", 1) == 1);
	struct stat st;
	CHECK("size_after_hole", fstat(fd, &st) == 0 && st.st_size == 101, "size %ld", (long)st.st_size);
	n = pread(fd, buf, 10, 50);
	int zeros = n == 10;
	for (int i = 0; i < 10 && zeros; i++)
		zeros = buf[i] == 0;
	CHECK("hole_reads_zeros", zeros, "pread in the hole: %zd bytes", n);

	/* pread/pwrite leave the offset alone. */
	REQUIRE(lseek(fd, 3, SEEK_SET) == 3);
	n = pwrite(fd, "HELLO", 5, 0);
	CHECK("pwrite_at_offset", n == 5 && pread(fd, buf, 5, 0) == 5 && memcmp(buf, "HELLO", 5) == 0, "pwrite %zd", n);
	CHECK("pread_pwrite_keep_offset", lseek(fd, 0, SEEK_CUR) == 3, "offset %ld", (long)lseek(fd, 0, SEEK_CUR));

	/* writev gathers, readv scatters. */
	REQUIRE(ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0);
	struct iovec out[3] = {{"one ", 4}, {"", 0}, {"two three", 9}};
	CHECK("writev_total", writev(fd, out, 3) == 13, "writev");
	REQUIRE(lseek(fd, 0, SEEK_SET) == 0);
	char a[4], b[3], c[16];
	struct iovec in[3] = {{a, sizeof(a)}, {b, sizeof(b)}, {c, sizeof(c)}};
	n = readv(fd, in, 3);
	CHECK("readv_scatters", n == 13 && !memcmp(a, "one ", 4) && !memcmp(b, "two", 3) && !memcmp(c, " three", 6),
	      "readv %zd", n);
	EXPECT_ERRNO("writev_negative_count_einval", writev(fd, out, -1), EINVAL);
	EXPECT_ERRNO("writev_too_many_einval", syscall(SYS_writev, fd, out, 1025), EINVAL);

	/* O_APPEND writes at the end whatever the offset. */
	int ap = open("file", O_WRONLY | O_APPEND);
	REQUIRE(ap >= 0);
	REQUIRE(lseek(ap, 0, SEEK_SET) == 0);
	REQUIRE(write(ap, "!", 1) == 1);
	CHECK("append_writes_at_end", pread(fd, buf, 1, 13) == 1 && buf[0] == '!', "append did not land at the end");
	CHECK("append_offset_at_end", lseek(ap, 0, SEEK_CUR) == 14, "offset %ld", (long)lseek(ap, 0, SEEK_CUR));

	/* Zero-length I/O succeeds. */
	CHECK("zero_length_read", read(fd, buf, 0) == 0, "read(0)");
	CHECK("zero_length_write", write(fd, buf, 0) == 0, "write(0)");

	EXPECT_ERRNO("lseek_negative_einval", lseek(fd, -1, SEEK_SET), EINVAL);
	EXPECT_ERRNO("lseek_bad_whence_einval", lseek(fd, 0, 42), EINVAL);
	EXPECT_ERRNO("pread_negative_offset_einval", pread(fd, buf, 1, -1), EINVAL);
	int dir = open(".", O_RDONLY | O_DIRECTORY);
	EXPECT_ERRNO("read_directory_eisdir", read(dir, buf, sizeof(buf)), EISDIR);
	return test_done();
}
