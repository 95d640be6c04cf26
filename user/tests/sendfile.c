/*
 * sendfile, copy_file_range and splice: file to file and file to pipe, with
 * and without an offset pointer (which moves instead of the file position),
 * short copies at the end of the source, pipe to file and pipe to pipe, and
 * the errno rules. Linux: fs/read_write.c (do_sendfile, vfs_copy_file_range,
 * generic_copy_file_checks), fs/splice.c (do_splice).
 */
#include "test.h"
#include <sys/sendfile.h>

static int make_file(const char *name, const char *data)
{
	unlink(name);
	int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0 && data)
		write(fd, data, strlen(data));
	return fd;
}

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	int in = make_file("in", "0123456789abcdefghij");
	int out = make_file("out", NULL);
	REQUIRE(in >= 0 && out >= 0);
	char buf[64];

	/* With an offset pointer: the file position stays. */
	REQUIRE(lseek(in, 2, SEEK_SET) == 2);
	off_t off = 5;
	CHECK("offset_count", sendfile(out, in, &off, 4) == 4, "short");
	CHECK("offset_advanced", off == 9, "offset %ld", (long)off);
	CHECK("fpos_unchanged", lseek(in, 0, SEEK_CUR) == 2, "pos %ld", (long)lseek(in, 0, SEEK_CUR));
	CHECK("out_data", pread(out, buf, 4, 0) == 4 && memcmp(buf, "5678", 4) == 0, "data %.4s", buf);

	/* Without: the file position moves; EOF ends the copy early. */
	ssize_t n = sendfile(out, in, NULL, 100);
	CHECK("to_eof_count", n == 18, "returned %ld", (long)n);
	CHECK("fpos_advanced", lseek(in, 0, SEEK_CUR) == 20, "pos %ld", (long)lseek(in, 0, SEEK_CUR));
	CHECK("at_eof_zero", sendfile(out, in, NULL, 100) == 0, "not 0");
	CHECK("out_size", lseek(out, 0, SEEK_END) == 22, "size %ld", (long)lseek(out, 0, SEEK_END));

	/* Into a pipe. */
	int p[2];
	REQUIRE(pipe(p) == 0);
	off = 10;
	CHECK("to_pipe", sendfile(p[1], in, &off, 5) == 5, "short");
	CHECK("pipe_data", read(p[0], buf, sizeof(buf)) == 5 && memcmp(buf, "abcde", 5) == 0,
	      "data %.5s", buf);

	/* Errors. */
	EXPECT_ERRNO("bad_in_ebadf", sendfile(out, 1000, NULL, 1), EBADF);
	EXPECT_ERRNO("bad_out_ebadf", sendfile(1000, in, NULL, 1), EBADF);
	int wo = open("in", O_WRONLY);
	EXPECT_ERRNO("in_not_readable_ebadf", sendfile(out, wo, NULL, 1), EBADF);
	int ro = open("out", O_RDONLY);
	EXPECT_ERRNO("out_not_writable_ebadf", sendfile(ro, in, NULL, 1), EBADF);
	off = -1;
	EXPECT_ERRNO("negative_offset_einval", sendfile(out, in, &off, 1), EINVAL);
	off = 0;
	EXPECT_ERRNO("pipe_in_offset_espipe", sendfile(out, p[0], &off, 1), ESPIPE);
	write(p[1], "x", 1);
	EXPECT_ERRNO("pipe_in_einval", sendfile(out, p[0], NULL, 1), EINVAL);
	int app = open("out", O_WRONLY | O_APPEND);
	EXPECT_ERRNO("append_out_einval", sendfile(app, in, &off, 1), EINVAL);
	int dir = open(".", O_RDONLY | O_DIRECTORY);
	EXPECT_ERRNO("dir_in_einval", sendfile(out, dir, NULL, 1), EINVAL);
	EXPECT_ERRNO("bad_offset_ptr_efault", sendfile(out, in, (off_t *)8, 1), EFAULT);

	/* copy_file_range. */
	int dst = make_file("dst", "..........");
	loff_t oi = 3, oo = 2;
	n = copy_file_range(in, &oi, dst, &oo, 4, 0);
	CHECK("cfr_count", n == 4, "returned %ld (%s)", (long)n, errno_name(errno));
	CHECK("cfr_offsets", oi == 7 && oo == 6, "offsets %ld %ld", (long)oi, (long)oo);
	CHECK("cfr_data", pread(dst, buf, 10, 0) == 10 && memcmp(buf, "..3456....", 10) == 0,
	      "data %.10s", buf);
	REQUIRE(lseek(in, 18, SEEK_SET) == 18 && lseek(dst, 0, SEEK_SET) == 0);
	n = copy_file_range(in, NULL, dst, NULL, 100, 0);
	CHECK("cfr_short_at_eof", n == 2, "returned %ld", (long)n);
	CHECK("cfr_positions", lseek(in, 0, SEEK_CUR) == 20 && lseek(dst, 0, SEEK_CUR) == 2,
	      "positions moved wrong");
	CHECK("cfr_at_eof_zero", copy_file_range(in, NULL, dst, NULL, 100, 0) == 0, "not 0");
	oi = 0;
	oo = 0;
	EXPECT_ERRNO("cfr_flags_einval", copy_file_range(in, &oi, dst, &oo, 4, 1), EINVAL);
	oi = 0;
	oo = 2;
	EXPECT_ERRNO("cfr_overlap_einval", copy_file_range(dst, &oi, dst, &oo, 4, 0), EINVAL);
	oo = 4;
	CHECK("cfr_same_file_disjoint", copy_file_range(dst, &oi, dst, &oo, 4, 0) == 4, "failed: %s",
	      errno_name(errno));
	EXPECT_ERRNO("cfr_pipe_einval", copy_file_range(p[0], NULL, dst, NULL, 4, 0), EINVAL);
	EXPECT_ERRNO("cfr_dir_eisdir", copy_file_range(dir, NULL, dst, NULL, 4, 0), EISDIR);
	EXPECT_ERRNO("cfr_append_ebadf", copy_file_range(in, &oi, app, NULL, 4, 0), EBADF);
	EXPECT_ERRNO("cfr_readonly_out_ebadf", copy_file_range(in, &oi, ro, NULL, 4, 0), EBADF);
	EXPECT_ERRNO("cfr_ebadf", copy_file_range(1000, NULL, dst, NULL, 4, 0), EBADF);
	/* Linux 6.1 compares the wrapped sum unsigned: a negative offset overflows. */
	oi = -1;
	EXPECT_ERRNO("cfr_negative_eoverflow", copy_file_range(in, &oi, dst, NULL, 4, 0), EOVERFLOW);
	oi = -1;
	EXPECT_ERRNO("cfr_negative_len0_einval", copy_file_range(in, &oi, dst, NULL, 0, 0), EINVAL);

	/* splice. */
	int q[2];
	REQUIRE(pipe(q) == 0);
	loff_t so = 4;
	CHECK("splice_file_to_pipe", splice(in, &so, q[1], NULL, 3, 0) == 3 && so == 7, "so %ld",
	      (long)so);
	int sfile = make_file("spl", NULL);
	CHECK("splice_pipe_to_file", splice(q[0], NULL, sfile, NULL, 10, 0) == 3, "failed: %s",
	      errno_name(errno));
	CHECK("splice_data", pread(sfile, buf, 3, 0) == 3 && memcmp(buf, "456", 3) == 0, "data %.3s",
	      buf);
	CHECK("splice_moved_fpos", lseek(sfile, 0, SEEK_CUR) == 3, "pos %ld",
	      (long)lseek(sfile, 0, SEEK_CUR));
	int q2[2];
	REQUIRE(pipe(q2) == 0);
	write(q[1], "xyz", 3);
	CHECK("splice_pipe_to_pipe", splice(q[0], NULL, q2[1], NULL, 100, 0) == 3 &&
					     read(q2[0], buf, sizeof(buf)) == 3 && buf[2] == 'z',
	      "failed: %s", errno_name(errno));
	write(q[1], "ab", 2);
	loff_t oo2 = 10;
	CHECK("splice_pipe_to_file_offset", splice(q[0], NULL, sfile, &oo2, 2, 0) == 2 && oo2 == 12,
	      "off %ld", (long)oo2);
	CHECK("splice_len0", splice(q[0], NULL, sfile, NULL, 0, 0) == 0, "not 0");
	EXPECT_ERRNO("splice_bad_flags_einval", splice(q[0], NULL, sfile, NULL, 1, 0x100), EINVAL);
	EXPECT_ERRNO("splice_no_pipe_einval", splice(in, NULL, sfile, NULL, 1, 0), EINVAL);
	so = 0;
	EXPECT_ERRNO("splice_pipe_offset_espipe", splice(q[0], &so, sfile, NULL, 1, 0), ESPIPE);
	EXPECT_ERRNO("splice_append_einval", splice(q[0], NULL, app, NULL, 1, 0), EINVAL);
	EXPECT_ERRNO("splice_same_pipe_einval", splice(q[0], NULL, q[1], NULL, 1, 0), EINVAL);
	EXPECT_ERRNO("splice_ebadf", splice(1000, NULL, q[1], NULL, 1, 0), EBADF);
	EXPECT_ERRNO("splice_wrong_end_ebadf", splice(q[1], NULL, sfile, NULL, 1, 0), EBADF);
	return test_done();
}
