/*
 * fifo: mkfifo on tmpfs; data written through one open is read through
 * another; O_RDONLY|O_NONBLOCK opens at once and reads EOF, O_WRONLY|O_NONBLOCK
 * without a reader is ENXIO, O_RDWR never blocks, a blocking O_RDONLY open
 * waits for a writer; lseek is ESPIPE; the pipe empties once all are closed.
 * Linux: fs/pipe.c (fifo_open), fs/namei.c (mknodat).
 */
#include "test.h"

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	unlink("p");
	EXPECT_OK("mkfifo", mkfifo("p", 0644));
	struct stat st;
	CHECK("is_fifo", stat("p", &st) == 0 && S_ISFIFO(st.st_mode), "mode %#o", st.st_mode);
	EXPECT_ERRNO("mkfifo_exists_eexist", mkfifo("p", 0644), EEXIST);

	EXPECT_ERRNO("wronly_nonblock_no_reader_enxio", open("p", O_WRONLY | O_NONBLOCK), ENXIO);
	int r = open("p", O_RDONLY | O_NONBLOCK);
	CHECK("rdonly_nonblock_opens", r >= 0, "open: %s", errno_name(errno));
	char buf[16];
	CHECK("no_writer_reads_eof", read(r, buf, sizeof(buf)) == 0, "not EOF");
	int w = open("p", O_WRONLY | O_NONBLOCK);
	CHECK("wronly_with_reader_opens", w >= 0, "open: %s", errno_name(errno));
	CHECK("write", write(w, "hello", 5) == 5, "write failed");
	CHECK("read_other_open", read(r, buf, sizeof(buf)) == 5 && memcmp(buf, "hello", 5) == 0,
	      "data");
	EXPECT_ERRNO("empty_nonblock_eagain", read(r, buf, sizeof(buf)), EAGAIN);
	EXPECT_ERRNO("lseek_espipe", lseek(r, 0, SEEK_SET), ESPIPE);
	close(r);
	signal(SIGPIPE, SIG_IGN);
	EXPECT_ERRNO("write_no_reader_epipe", write(w, "x", 1), EPIPE);
	close(w);

	int rw = open("p", O_RDWR);
	CHECK("rdwr_never_blocks", rw >= 0, "open: %s", errno_name(errno));
	CHECK("rdwr_talks_to_itself",
	      write(rw, "ab", 2) == 2 && read(rw, buf, sizeof(buf)) == 2 && buf[1] == 'b', "data");
	write(rw, "left", 4);
	close(rw);
	rw = open("p", O_RDWR | O_NONBLOCK);
	EXPECT_ERRNO("data_gone_after_last_close", read(rw, buf, sizeof(buf)), EAGAIN);
	close(rw);

	/* A blocking O_RDONLY open waits for a writer. */
	pid_t pid = fork();
	if (pid == 0) {
		usleep(300000);
		int cw = open("p", O_WRONLY);
		write(cw, "late", 4);
		close(cw);
		_exit(0);
	}
	long long t0 = now_ms();
	r = open("p", O_RDONLY);
	long long waited = now_ms() - t0;
	CHECK("rdonly_waits_for_writer", r >= 0 && waited >= 200, "open %d after %lld ms", r,
	      waited);
	CHECK("data_from_writer", read(r, buf, sizeof(buf)) == 4 && memcmp(buf, "late", 4) == 0,
	      "data");
	CHECK("eof_after_writer_closed", read(r, buf, sizeof(buf)) == 0, "not EOF");
	close(r);
	wait_status(pid);

	/* A blocking O_WRONLY open waits for a reader. */
	pid = fork();
	if (pid == 0) {
		usleep(300000);
		int cr = open("p", O_RDONLY);
		char b[8];
		_exit(read(cr, b, sizeof(b)) == 3 ? 0 : 1);
	}
	t0 = now_ms();
	w = open("p", O_WRONLY);
	waited = now_ms() - t0;
	CHECK("wronly_waits_for_reader", w >= 0 && waited >= 200, "open %d after %lld ms", w, waited);
	write(w, "abc", 3);
	close(w);
	CHECK("reader_got_data", exited_with(wait_status(pid), 0), "child failed");
	EXPECT_OK("unlink_fifo", unlink("p"));
	return test_done();
}
