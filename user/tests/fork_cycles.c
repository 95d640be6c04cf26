#include "test.h"
/*
 * 1,000 fork/exit/wait cycles: every child's status arrives, every child is
 * reaped, and the memory and process count come back to where they were.
 * Linux: kernel/fork.c, kernel/exit.c.
 */
#include <sys/sysinfo.h>
#include <time.h>

#define CYCLES 1000

int main(void)
{
	/* One warm-up round, so that lazily allocated caches are counted before. */
	for (int i = 0; i < 20; i++) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		wait_status(pid);
	}
	struct sysinfo before, after;
	sysinfo(&before);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int failed_fork = 0, wrong_status = 0;
	for (int i = 0; i < CYCLES; i++) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(i & 0xff);
		if (pid < 0) {
			failed_fork++;
			continue;
		}
		if (!exited_with(wait_status(pid), i & 0xff))
			wrong_status++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	sysinfo(&after);
	CHECK("all_forks_succeed", failed_fork == 0, "%d of %d forks failed", failed_fork, CYCLES);
	CHECK("every_status_right", wrong_status == 0, "%d wrong statuses", wrong_status);
	int status;
	EXPECT_ERRNO("nothing_left_to_reap", wait4(-1, &status, WNOHANG, NULL), ECHILD);
	CHECK("procs_back", after.procs <= before.procs, "procs %u before, %u after", before.procs, after.procs);
	long long unit = before.mem_unit ? before.mem_unit : 1;
	long long lost = ((long long)before.freeram - (long long)after.freeram) * unit;
	/* Linux folds per-CPU counters into freeram lazily: poll for up to 3 s. */
	for (int i = 0; i < 30 && lost >= (2ll << 20); i++) {
		usleep(100000);
		sysinfo(&after);
		lost = ((long long)before.freeram - (long long)after.freeram) * unit;
	}
	CHECK("free_memory_back", lost < (2ll << 20), "free memory dropped by %lld KiB over %d cycles", lost >> 10,
	      CYCLES);
	long long us = ((t1.tv_sec - t0.tv_sec) * 1000000000ll + (t1.tv_nsec - t0.tv_nsec)) / 1000;
	test_print("# fork_cycles: %d cycles in %lld ms (%lld us each), free memory change %lld KiB\n", CYCLES,
		   us / 1000, us / CYCLES, -lost >> 10);
	return test_done();
}
