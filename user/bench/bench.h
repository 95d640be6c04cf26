/*
 * bench.h: what every benchmark in user/bench/ shares.
 *
 * A benchmark times one operation, lmbench style: a warm-up of a tenth of
 * the iterations, then N iterations between two clock_gettime(CLOCK_MONOTONIC)
 * readings, and prints one line per figure on stdout for xtask
 * (xtask/src/bench/latency.rs):
 *
 *     bench NAME ns_per_op=512.3 iters=100000
 *     bench NAME failed: why (errno N)
 *
 * NAME is TEST_NAME, the file's stem, which xtask sets as it does for the
 * system tests (-DTEST_NAME="\"null_syscall\""); a program that measures
 * several figures (ctx.c: ctx_2, ctx_8, ctx_32) names each. Bandwidths are
 * reported as ns per MiB moved. The line is written with
 * write(2), never through stdio's buffer, so that fork cannot duplicate it.
 * The same binaries run on Ferrite and on Linux in the same QEMU machine;
 * only the ratio between the two means something under TCG.
 */
#ifndef FERRITE_BENCH_H
#define FERRITE_BENCH_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef TEST_NAME
#error "TEST_NAME must be defined, e.g. -DTEST_NAME='\"null_syscall\"'"
#endif

#define BENCH_HELPER __attribute__((unused)) static

/* The tiny static program fork_exec runs; open_close opens it too. */
#define BENCH_EXEC_TARGET "/usr/lib/bench/exec_target"

/* printf to stdout as one write(2). */
__attribute__((format(printf, 1, 2))) BENCH_HELPER void bench_print(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	for (const char *p = line; n > 0;) {
		ssize_t w = write(1, p, (size_t)n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (int)w;
	}
}

/* Reports a failed step (with errno as it is now) and exits. */
BENCH_HELPER __attribute__((noreturn)) void bench_fail(const char *what)
{
	int e = errno;
	bench_print("bench %s failed: %s (errno %d: %s)\n", TEST_NAME, what, e, strerror(e));
	exit(1);
}

BENCH_HELPER uint64_t bench_now_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		bench_fail("clock_gettime");
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Prints the line for `name` (TEST_NAME, or one of several figures a
 * program measures): `ops` operations took `elapsed_ns`. Bandwidth figures
 * count one operation per MiB moved, so that xtask shows 1/ns_per_op as MiB/s.
 */
BENCH_HELPER void bench_report(const char *name, uint64_t elapsed_ns, long ops)
{
	bench_print("bench %s ns_per_op=%.1f iters=%ld\n", name, (double)elapsed_ns / (double)ops, ops);
}

/*
 * Runs `op` iters / 10 times to warm up (caches, TLB, the page cache, lazily
 * built kernel state), then `iters` times under the clock, and prints the
 * line for `name`. Each call of `op` does `per_call` operations (pages, for
 * the page fault); `op` returns -1 with errno set when a step fails.
 */
BENCH_HELPER void bench_run_as(const char *name, long iters, long per_call, int (*op)(void))
{
	for (long i = 0; i < iters / 10 + 1; i++)
		if (op() < 0)
			bench_fail("warm-up");
	uint64_t start = bench_now_ns();
	for (long i = 0; i < iters; i++)
		if (op() < 0)
			bench_fail("timed loop");
	bench_report(name, bench_now_ns() - start, iters * per_call);
}

/* bench_run_as for the program's one figure, TEST_NAME. */
BENCH_HELPER void bench_run(long iters, long per_call, int (*op)(void))
{
	bench_run_as(TEST_NAME, iters, per_call, op);
}

/* write(2) or read(2) of exactly `len` bytes, looping over short counts. */
BENCH_HELPER int bench_io(int fd, char *buf, size_t len, int writing)
{
	while (len > 0) {
		ssize_t n = writing ? write(fd, buf, len) : read(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EPIPE;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Waits for `pid`; -1 unless it exited with status 0. */
BENCH_HELPER int bench_wait(pid_t pid)
{
	int status;
	pid_t got;
	do
		got = waitpid(pid, &status, 0);
	while (got < 0 && errno == EINTR);
	if (got != pid)
		return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		errno = ECHILD;
		return -1;
	}
	return 0;
}

#endif
