/*
 * A pipe round trip between two processes: the parent writes one byte into
 * one pipe, the child reads it and writes it back through another; each
 * round trip is two wake-ups and two context switches.
 * lmbench: `lat_pipe`. Linux: fs/pipe.c, kernel/sched/core.c.
 */
#include "bench.h"

static int to_child[2], to_parent[2];

static int op(void)
{
	char c = 'x';
	if (write(to_child[1], &c, 1) != 1)
		return -1;
	return read(to_parent[0], &c, 1) == 1 ? 0 : -1;
}

/* The child echoes each byte until its pipe reaches end of file. */
static void echo(void)
{
	char c;
	close(to_child[1]);
	close(to_parent[0]);
	while (read(to_child[0], &c, 1) == 1)
		if (write(to_parent[1], &c, 1) != 1)
			_exit(1);
	_exit(0);
}

int main(void)
{
	if (pipe(to_child) != 0 || pipe(to_parent) != 0)
		bench_fail("pipe");
	pid_t pid = fork();
	if (pid < 0)
		bench_fail("fork");
	if (pid == 0)
		echo();
	close(to_child[0]);
	close(to_parent[1]);
	bench_run(2000, 1, op);
	close(to_child[1]);
	if (bench_wait(pid) != 0)
		bench_fail("the echoing child");
	return 0;
}
