/*
 * fork(2), _exit(2) in the child, waitpid(2) in the parent: process
 * creation with a copy-on-write copy of a small address space, exit, reaping.
 * lmbench: `lat_proc fork`. Linux: kernel/fork.c, kernel/exit.c.
 */
#include "bench.h"

static int op(void)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(0);
	return bench_wait(pid);
}

int main(void)
{
	bench_run(400, 1, op);
	return 0;
}
