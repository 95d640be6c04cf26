/*
 * select and pselect6 over pipes: readiness of read and write ends, EOF,
 * the time left written back, timeouts that expire, EBADF and EINVAL,
 * EINTR from a signal, pselect6's signal mask, a wake-up from another
 * process, and one ready pipe among 100.
 * Linux: fs/select.c (core_sys_select, do_select, poll_select_finish).
 */
#include "test.h"
#include <signal.h>
#include <stdint.h>
#include <sys/select.h>
#include <time.h>

static volatile sig_atomic_t got_usr1;
static void on_usr1(int sig)
{
	(void)sig;
	got_usr1++;
}

/* select(2) itself: musl's wrapper copies the timeval, hiding the write-back. */
static long raw_select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	return syscall(SYS_select, n, r, w, e, tv);
}

/* pselect6(2) with its sixth argument {const sigset_t *ss; size_t ss_len}. */
static long raw_pselect6(int n, fd_set *r, fd_set *w, fd_set *e, struct timespec *ts, const uint64_t *mask,
			 size_t len)
{
	struct {
		const uint64_t *ss;
		size_t len;
	} pack = {mask, len};
	return syscall(SYS_pselect6, n, r, w, e, ts, mask || len ? &pack : NULL);
}

int main(void)
{
	int p[2];
	REQUIRE(pipe(p) == 0);
	fd_set r, w, e;
	struct timeval tv = {0, 0};

	FD_ZERO(&r);
	FD_SET(p[0], &r);
	long n = raw_select(p[0] + 1, &r, NULL, NULL, &tv);
	CHECK("empty_pipe_not_readable", n == 0 && !FD_ISSET(p[0], &r), "select %ld, bit %d", n, FD_ISSET(p[0], &r));
	FD_ZERO(&w);
	FD_SET(p[1], &w);
	n = raw_select(p[1] + 1, NULL, &w, NULL, &tv);
	CHECK("write_end_writable", n == 1 && FD_ISSET(p[1], &w), "select %ld", n);

	REQUIRE(write(p[1], "a", 1) == 1);
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_ZERO(&e);
	FD_SET(p[0], &r);
	FD_SET(p[1], &w);
	FD_SET(p[0], &e);
	FD_SET(p[1], &e);
	n = raw_select(p[1] + 1, &r, &w, &e, &tv);
	CHECK("read_and_write_counted", n == 2 && FD_ISSET(p[0], &r) && FD_ISSET(p[1], &w), "select %ld", n);
	CHECK("no_exceptions_on_a_pipe", !FD_ISSET(p[0], &e) && !FD_ISSET(p[1], &e), "exceptfds bits set");

	/* A long timeout with an fd ready: returns at once, the time left written back. */
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	tv = (struct timeval){2, 0};
	n = raw_select(p[0] + 1, &r, NULL, NULL, &tv);
	long long left_us = (long long)tv.tv_sec * 1000000 + tv.tv_usec;
	CHECK("time_left_written_back", n == 1 && left_us > 1900000 && left_us <= 2000000, "select %ld, left %lld us",
	      n, left_us);

	/* Nothing ready: the timeout expires and the time left is 0. */
	char c;
	REQUIRE(read(p[0], &c, 1) == 1);
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	tv = (struct timeval){0, 60000};
	long long t0 = now_ms();
	n = raw_select(p[0] + 1, &r, NULL, NULL, &tv);
	long long took = now_ms() - t0;
	CHECK("timeout_expires", n == 0 && took >= 60 && !FD_ISSET(p[0], &r), "select %ld after %lld ms", n, took);
	CHECK("timeout_left_zero", tv.tv_sec == 0 && tv.tv_usec == 0, "left %ld.%06ld", (long)tv.tv_sec,
	      (long)tv.tv_usec);
	tv = (struct timeval){0, 30000};
	t0 = now_ms();
	n = raw_select(0, NULL, NULL, NULL, &tv);
	took = now_ms() - t0;
	CHECK("no_fds_sleeps", n == 0 && took >= 30, "select %ld after %lld ms", n, took);

	/* Errors. */
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	tv = (struct timeval){0, 0};
	EXPECT_ERRNO("negative_nfds_einval", raw_select(-1, &r, NULL, NULL, &tv), EINVAL);
	tv = (struct timeval){-1, 0};
	EXPECT_ERRNO("negative_timeout_einval", raw_select(p[0] + 1, &r, NULL, NULL, &tv), EINVAL);
	tv = (struct timeval){0, -1};
	EXPECT_ERRNO("negative_usec_einval", raw_select(p[0] + 1, &r, NULL, NULL, &tv), EINVAL);
	int closed = dup(p[0]);
	REQUIRE(closed >= 0 && close(closed) == 0);
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	FD_SET(closed, &r);
	tv = (struct timeval){0, 0};
	EXPECT_ERRNO("closed_fd_ebadf", raw_select(closed + 1, &r, NULL, NULL, &tv), EBADF);
	EXPECT_ERRNO("bad_set_pointer_efault", raw_select(p[0] + 1, (fd_set *)unmapped_address(), NULL, NULL, &tv),
		     EFAULT);

	/* A writer in another process wakes a select with no timeout. */
	pid_t pid = poke_later(50, p[1]);
	REQUIRE(pid > 0);
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	n = raw_select(p[0] + 1, &r, NULL, NULL, NULL);
	CHECK("woken_by_other_process", n == 1 && FD_ISSET(p[0], &r), "select %ld (%s)", n, errno_name(errno));
	wait_status(pid);
	REQUIRE(read(p[0], &c, 1) == 1);

	/* A handled signal ends the wait with EINTR. */
	struct sigaction sa = {.sa_handler = on_usr1};
	sigemptyset(&sa.sa_mask);
	REQUIRE(sigaction(SIGUSR1, &sa, NULL) == 0);
	pid = poke_later(50, -1);
	REQUIRE(pid > 0);
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	errno = 0;
	n = raw_select(p[0] + 1, &r, NULL, NULL, NULL);
	expect_errno("signal_gives_eintr", n, errno, EINTR);
	CHECK("handler_ran", got_usr1 == 1, "handler ran %d times", (int)got_usr1);
	wait_status(pid);

	/* pselect6: the mask replaces the blocked set for the wait only. */
	sigset_t block, now;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	REQUIRE(sigprocmask(SIG_BLOCK, &block, NULL) == 0);
	uint64_t open_mask = 0;
	pid = poke_later(50, -1);
	REQUIRE(pid > 0);
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	errno = 0;
	n = raw_pselect6(p[0] + 1, &r, NULL, NULL, NULL, &open_mask, 8);
	expect_errno("pselect6_mask_lets_signal_in", n, errno, EINTR);
	sigprocmask(SIG_BLOCK, NULL, &now);
	CHECK("pselect6_mask_restored", got_usr1 == 2 && sigismember(&now, SIGUSR1), "handler ran %d, blocked %d",
	      (int)got_usr1, sigismember(&now, SIGUSR1));
	wait_status(pid);
	struct timespec ts = {0, 0};
	EXPECT_ERRNO("pselect6_bad_sigsetsize_einval", raw_pselect6(p[0] + 1, &r, NULL, NULL, &ts, &open_mask, 4),
		     EINVAL);
	ts = (struct timespec){0, 1000000000};
	EXPECT_ERRNO("pselect6_bad_timespec_einval", raw_pselect6(p[0] + 1, &r, NULL, NULL, &ts, NULL, 0), EINVAL);
	ts = (struct timespec){0, 40000000};
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	t0 = now_ms();
	n = raw_pselect6(p[0] + 1, &r, NULL, NULL, &ts, NULL, 0);
	took = now_ms() - t0;
	CHECK("pselect6_timeout", n == 0 && took >= 40 && ts.tv_sec == 0 && ts.tv_nsec == 0,
	      "pselect6 %ld after %lld ms, left %ld ns", n, took, (long)ts.tv_nsec);
	REQUIRE(sigprocmask(SIG_UNBLOCK, &block, NULL) == 0);

	/* EOF: the read end is readable once the writer is gone. */
	close(p[1]);
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	tv = (struct timeval){0, 0};
	n = raw_select(p[0] + 1, &r, NULL, NULL, &tv);
	CHECK("eof_is_readable", n == 1 && FD_ISSET(p[0], &r), "select %ld", n);
	close(p[0]);

	/* 100 pipes, one ready: exactly that fd is reported. */
	int pipes[100][2], maxfd = 0, made = 0;
	for (; made < 100 && pipe(pipes[made]) == 0; made++)
		maxfd = pipes[made][0] > maxfd ? pipes[made][0] : maxfd;
	REQUIRE(made == 100);
	REQUIRE(write(pipes[73][1], "z", 1) == 1);
	FD_ZERO(&r);
	for (int i = 0; i < 100; i++)
		FD_SET(pipes[i][0], &r);
	tv = (struct timeval){1, 0};
	n = raw_select(maxfd + 1, &r, NULL, NULL, &tv);
	int others = 0;
	for (int i = 0; i < 100; i++)
		others += i != 73 && FD_ISSET(pipes[i][0], &r);
	CHECK("one_ready_among_100", n == 1 && FD_ISSET(pipes[73][0], &r) && others == 0, "select %ld, %d others",
	      n, others);
	for (int i = 0; i < 100; i++) {
		close(pipes[i][0]);
		close(pipes[i][1]);
	}
	return test_done();
}
