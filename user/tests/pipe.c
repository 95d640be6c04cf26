/*
 * pipe and pipe2: data across fork, EOF once every writer has closed,
 * EPIPE and SIGPIPE once every reader has, O_NONBLOCK and O_CLOEXEC.
 * Linux: fs/pipe.c.
 */
#include "test.h"
#include <signal.h>

static volatile sig_atomic_t sigpipes;
static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

int main(void)
{
	int fds[2];
	char buf[256];
	REQUIRE(pipe(fds) == 0);
	CHECK("two_distinct_fds", fds[0] >= 0 && fds[1] >= 0 && fds[0] != fds[1], "pipe gave %d %d", fds[0], fds[1]);
	struct stat st;
	CHECK("fstat_is_fifo", fstat(fds[0], &st) == 0 && S_ISFIFO(st.st_mode), "mode %#o", st.st_mode);
	CHECK("read_end_is_rdonly", (fcntl(fds[0], F_GETFL) & O_ACCMODE) == O_RDONLY, "F_GETFL %#x", fcntl(fds[0], F_GETFL));
	CHECK("write_end_is_wronly", (fcntl(fds[1], F_GETFL) & O_ACCMODE) == O_WRONLY, "F_GETFL %#x", fcntl(fds[1], F_GETFL));
	EXPECT_ERRNO("write_to_read_end_ebadf", write(fds[0], "x", 1), EBADF);
	EXPECT_ERRNO("read_from_write_end_ebadf", read(fds[1], buf, 1), EBADF);

	/* Data across fork, then EOF when the writer closes. */
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		write(fds[1], "hello, ", 7);
		write(fds[1], "pipe", 4);
		_exit(0);
	}
	close(fds[1]);
	size_t total = 0;
	ssize_t n;
	while ((n = read(fds[0], buf + total, sizeof(buf) - total)) > 0)
		total += (size_t)n;
	CHECK("data_across_fork", total == 11 && memcmp(buf, "hello, pipe", 11) == 0, "read %zu bytes: %.*s", total,
	      (int)total, buf);
	CHECK("eof_after_writer_closes", n == 0, "last read returned %zd (%s)", n, errno_name(errno));
	wait_status(pid);
	close(fds[0]);

	/* A large transfer (more than the 64 KiB pipe buffer) arrives intact. */
	REQUIRE(pipe(fds) == 0);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		static unsigned char big[300000];
		for (size_t i = 0; i < sizeof(big); i++)
			big[i] = (unsigned char)(i * 7);
		size_t done = 0;
		while (done < sizeof(big)) {
			ssize_t w = write(fds[1], big + done, sizeof(big) - done);
			if (w <= 0)
				_exit(1);
			done += (size_t)w;
		}
		_exit(0);
	}
	close(fds[1]);
	size_t got = 0;
	int intact = 1;
	unsigned char chunk[4096];
	while ((n = read(fds[0], chunk, sizeof(chunk))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			intact &= chunk[i] == (unsigned char)((got + (size_t)i) * 7);
		got += (size_t)n;
	}
	int status = wait_status(pid);
	CHECK("large_transfer_intact", got == 300000 && intact && exited_with(status, 0), "got %zu bytes, intact %d, writer %s",
	      got, intact, status_text(status));
	close(fds[0]);

	/* No reader, SIGPIPE ignored: EPIPE. */
	REQUIRE(pipe(fds) == 0);
	close(fds[0]);
	signal(SIGPIPE, SIG_IGN);
	EXPECT_ERRNO("no_reader_epipe", write(fds[1], "x", 1), EPIPE);
	/* With a handler: it runs, and write still fails with EPIPE. */
	signal(SIGPIPE, on_sigpipe);
	errno = 0;
	n = write(fds[1], "x", 1);
	CHECK("no_reader_sigpipe_handler_and_epipe", n == -1 && errno == EPIPE && sigpipes == 1,
	      "write = %zd (%s), handler ran %d times", n, errno_name(errno), (int)sigpipes);
	close(fds[1]);
	signal(SIGPIPE, SIG_DFL);

	/* Default action: the writer dies of SIGPIPE. */
	REQUIRE(pipe(fds) == 0);
	close(fds[0]);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		write(fds[1], "x", 1);
		_exit(0);
	}
	close(fds[1]);
	status = wait_status(pid);
	CHECK("no_reader_default_kills_with_sigpipe", status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE,
	      "writer %s, expected signal %d", status_text(status), SIGPIPE);

	/* O_NONBLOCK: an empty pipe gives EAGAIN; a full one too. */
	REQUIRE(pipe2(fds, O_NONBLOCK) == 0);
	EXPECT_ERRNO("nonblock_empty_read_eagain", read(fds[0], buf, 1), EAGAIN);
	size_t filled = 0;
	char block[4096] = {0};
	while ((n = write(fds[1], block, sizeof(block))) > 0)
		filled += (size_t)n;
	CHECK("nonblock_full_write_eagain", n == -1 && errno == EAGAIN && filled == 65536,
	      "filled %zu bytes, then %zd (%s)", filled, n, errno_name(errno));
	CHECK("nonblock_flag_visible", fcntl(fds[0], F_GETFL) & O_NONBLOCK, "F_GETFL lacks O_NONBLOCK");
	close(fds[0]);
	close(fds[1]);

	REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
	CHECK("pipe2_cloexec", fcntl(fds[0], F_GETFD) == FD_CLOEXEC && fcntl(fds[1], F_GETFD) == FD_CLOEXEC,
	      "F_GETFD %d %d", fcntl(fds[0], F_GETFD), fcntl(fds[1], F_GETFD));
	close(fds[0]);
	close(fds[1]);
	REQUIRE(pipe(fds) == 0);
	CHECK("pipe_no_cloexec", fcntl(fds[0], F_GETFD) == 0, "F_GETFD %d", fcntl(fds[0], F_GETFD));
	EXPECT_ERRNO("lseek_espipe", lseek(fds[0], 0, SEEK_SET), ESPIPE);
	close(fds[0]);
	close(fds[1]);

	int two[2];
	EXPECT_ERRNO("pipe2_bad_flags_einval", pipe2(two, O_RDWR | 0x1000000), EINVAL);
	EXPECT_ERRNO("pipe_bad_pointer_efault", syscall(SYS_pipe, (int *)8), EFAULT);
	return test_done();
}
