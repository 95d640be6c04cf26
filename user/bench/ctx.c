/*
 * Context switch among N processes, as lmbench's `lat_ctx -s 0`: N
 * processes in a ring of N pipes pass one byte around; each hop is one
 * pipe write, one wake-up and one switch. Figures ctx_2, ctx_8, ctx_32
 * and ctx_64, the time per hop (lmbench also subtracts its pipe cost; we
 * do not, so a hop includes a read and a write). Linux: kernel/sched/core.c, fs/pipe.c.
 */
#include "bench.h"

#define MAX_PROCS 64

static int ring[MAX_PROCS][2];
static int procs;

/* Member `i` reads ring[i] and writes ring[i + 1]; it closes every other end. */
static void keep_own_ends(int i)
{
	for (int j = 0; j < procs; j++) {
		if (j != i)
			close(ring[j][0]);
		if (j != (i + 1) % procs)
			close(ring[j][1]);
	}
}

/* A child passes each byte on until its pipe reaches end of file. */
static void member(int i)
{
	char c;
	keep_own_ends(i);
	while (read(ring[i][0], &c, 1) == 1)
		if (write(ring[(i + 1) % procs][1], &c, 1) != 1)
			_exit(1);
	_exit(0);
}

/* One trip of the byte around the ring: `procs` hops. */
static int trip(void)
{
	char c = 'x';
	if (write(ring[1 % procs][1], &c, 1) != 1)
		return -1;
	return read(ring[0][0], &c, 1) == 1 ? 0 : -1;
}

static void measure(int n, long hops)
{
	char name[32];
	pid_t pids[MAX_PROCS];
	procs = n;
	for (int i = 0; i < n; i++)
		if (pipe(ring[i]) != 0)
			bench_fail("pipe");
	for (int i = 1; i < n; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			bench_fail("fork");
		if (pids[i] == 0)
			member(i);
	}
	keep_own_ends(0);
	snprintf(name, sizeof(name), "%s_%d", TEST_NAME, n);
	bench_run_as(name, hops / n, n, trip);
	/* Closing our write end ends member 1, whose exit ends member 2, ... */
	close(ring[1 % n][1]);
	close(ring[0][0]);
	for (int i = 1; i < n; i++)
		if (bench_wait(pids[i]) != 0)
			bench_fail("a ring member");
}

int main(void)
{
	measure(2, 4000);
	measure(8, 4000);
	measure(32, 4000);
	measure(64, 4096);
	return 0;
}
