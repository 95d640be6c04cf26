/*
 * Pipe bandwidth, as lmbench's `bw_pipe`: a child writes 64 KiB at a time
 * into a pipe, the parent reads 64 KiB at a time; reported per MiB moved.
 * Linux: fs/pipe.c (pipe_write, pipe_read).
 */
#include "bench.h"

#define CHUNK (64 * 1024)
#define WARM_MIB 2
#define MIB 32

static char buf[CHUNK];

int main(void)
{
	int fds[2];
	if (pipe(fds) != 0)
		bench_fail("pipe");
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
	bench_report(TEST_NAME, bench_now_ns() - start, MIB);
	if (bench_wait(pid) != 0)
		bench_fail("the writing child");
	return 0;
}
