/*
 * Stream bandwidth between two processes, as lmbench's `bw_pipe` and
 * `bw_unix`: a child writes 64 KiB at a time, the parent reads 64 KiB at a
 * time; reported per MiB moved. pipe_bw goes through a pipe (Linux:
 * fs/pipe.c pipe_write, pipe_read), unix_bw through a connected pair of
 * AF_UNIX stream sockets (net/unix/af_unix.c unix_stream_sendmsg,
 * unix_stream_recvmsg).
 */
#include "bench.h"

#include <sys/socket.h>

#define CHUNK (64 * 1024)
#define WARM_MIB 2
#define MIB 32

static char buf[CHUNK];

/* Moves WARM_MIB + MIB from a child through fds[1] to us at fds[0]. */
static void measure(const char *name, int fds[2])
{
	pid_t pid = fork();
	if (pid < 0)
		bench_fail("fork");
	if (pid == 0) {
		close(fds[0]);
		for (long i = 0; i < (WARM_MIB + MIB) * 16L; i++)
			if (bench_io(fds[1], buf, CHUNK, 1) != 0)
				_exit(1);
		_exit(0);
	}
	close(fds[1]);
	for (long i = 0; i < WARM_MIB * 16L; i++)
		if (bench_io(fds[0], buf, CHUNK, 0) != 0)
			bench_fail("warm-up read");
	uint64_t start = bench_now_ns();
	for (long i = 0; i < MIB * 16L; i++)
		if (bench_io(fds[0], buf, CHUNK, 0) != 0)
			bench_fail("read");
	bench_report(name, bench_now_ns() - start, MIB);
	close(fds[0]);
	if (bench_wait(pid) != 0)
		bench_fail("the writing child");
}

int main(void)
{
	int fds[2];
	if (pipe(fds) != 0)
		bench_fail("pipe");
	measure("pipe_bw", fds);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
		bench_fail("socketpair");
	measure("unix_bw", fds);
	return 0;
}
