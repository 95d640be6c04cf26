#include "test.h"
/*
 * timerfd_create, timerfd_settime, timerfd_gettime and reading the
 * expiration count: one-shot and periodic timers (missed periods add up
 * in the count), TFD_TIMER_ABSTIME (a time already past fires at once),
 * CANCEL_ON_SET accepted with an absolute realtime timer, old values,
 * re-arming resetting the count, poll and epoll readiness, blocking and
 * non-blocking reads, the flags and the errors.
 * Linux: fs/timerfd.c.
 */
#include <poll.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>

static long ns(struct timespec t)
{
	return t.tv_sec * 1000000000L + t.tv_nsec;
}

static struct itimerspec ms_spec(long value_ms, long interval_ms)
{
	struct itimerspec v = {{interval_ms / 1000, (interval_ms % 1000) * 1000000},
			       {value_ms / 1000, (value_ms % 1000) * 1000000}};
	return v;
}

static long read_count(int fd, int *err)
{
	uint64_t n = 0;
	errno = 0;
	long r = read(fd, &n, sizeof(n));
	*err = errno;
	return r == 8 ? (long)n : -1;
}

static int readable(int fd)
{
	struct pollfd p = {fd, POLLIN, 0};
	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void test_create(void)
{
	EXPECT_ERRNO("create_bad_flags", timerfd_create(CLOCK_MONOTONIC, 1), EINVAL);
	EXPECT_ERRNO("create_bad_clock_raw", timerfd_create(CLOCK_MONOTONIC_RAW, 0), EINVAL);
	EXPECT_ERRNO("create_bad_clock_cputime", timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0), EINVAL);
	EXPECT_ERRNO("create_bad_clock_negative", timerfd_create(-1, 0), EINVAL);
	int fds[] = {timerfd_create(CLOCK_REALTIME, 0), timerfd_create(CLOCK_BOOTTIME, 0),
		     timerfd_create(CLOCK_BOOTTIME_ALARM, 0), timerfd_create(CLOCK_REALTIME_ALARM, 0)};
	CHECK("create_clocks", fds[0] >= 0 && fds[1] >= 0 && fds[2] >= 0 && fds[3] >= 0,
	      "realtime %d boottime %d boottime_alarm %d realtime_alarm %d", fds[0], fds[1], fds[2], fds[3]);
	for (int i = 0; i < 4; i++)
		close(fds[i]);
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	CHECK("create_flags", fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC) && (fcntl(fd, F_GETFL) & O_NONBLOCK),
	      "fd %d getfd %#x getfl %#x", fd, fcntl(fd, F_GETFD), fcntl(fd, F_GETFL));
	close(fd);

	/* The alarm clocks need CAP_WAKE_ALARM. */
	pid_t pid = fork();
	if (pid == 0) {
		if (setresuid(1000, 1000, 1000) != 0)
			_exit(2);
		int a = timerfd_create(CLOCK_BOOTTIME_ALARM, 0);
		int m = timerfd_create(CLOCK_MONOTONIC, 0);
		_exit(a == -1 && errno == EPERM && m >= 0 ? 0 : 1);
	}
	int status = wait_status(pid);
	CHECK("alarm_clock_needs_cap", WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
}

static void test_errors(int fd)
{
	struct itimerspec v = ms_spec(1000, 0), bad = ms_spec(1000, 0), g;
	EXPECT_ERRNO("settime_bad_flags", timerfd_settime(fd, 4, &v, NULL), EINVAL);
	bad.it_value.tv_nsec = 1000000000;
	EXPECT_ERRNO("settime_bad_nsec", timerfd_settime(fd, 0, &bad, NULL), EINVAL);
	bad = ms_spec(1000, 0);
	bad.it_interval.tv_sec = -1;
	EXPECT_ERRNO("settime_negative_interval", timerfd_settime(fd, 0, &bad, NULL), EINVAL);
	EXPECT_ERRNO("settime_bad_fd", timerfd_settime(999, 0, &v, NULL), EBADF);
	EXPECT_ERRNO("settime_efault", timerfd_settime(fd, 0, (void *)8, NULL), EFAULT);
	int p[2];
	REQUIRE_VOID(pipe(p) == 0);
	EXPECT_ERRNO("settime_not_timerfd", timerfd_settime(p[0], 0, &v, NULL), EINVAL);
	EXPECT_ERRNO("gettime_not_timerfd", timerfd_gettime(p[0], &g), EINVAL);
	close(p[0]);
	close(p[1]);
	int err;
	CHECK("read_disarmed_eagain", read_count(fd, &err) == -1 && err == EAGAIN, "%s", errno_name(err));
	uint32_t small;
	EXPECT_ERRNO("read_short_buffer_einval", read(fd, &small, sizeof(small)), EINVAL);
	CHECK("disarmed_gettime_zero", timerfd_gettime(fd, &g) == 0 && ns(g.it_value) == 0 && ns(g.it_interval) == 0,
	      "value %ld interval %ld", ns(g.it_value), ns(g.it_interval));
}

static void test_oneshot(void)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, 0);
	REQUIRE_VOID(fd >= 0);
	struct itimerspec v = ms_spec(50, 0), g;
	long long t0 = now_ms();
	REQUIRE_VOID(timerfd_settime(fd, 0, &v, NULL) == 0);
	CHECK("oneshot_gettime", timerfd_gettime(fd, &g) == 0 && ns(g.it_value) > 0 && ns(g.it_value) <= 50000000 &&
					 ns(g.it_interval) == 0,
	      "value %ld interval %ld", ns(g.it_value), ns(g.it_interval));
	CHECK("oneshot_not_yet_readable", !readable(fd), "readable before expiry");
	int err;
	long n = read_count(fd, &err);
	long long dt = now_ms() - t0;
	CHECK("oneshot_blocking_read", n == 1 && dt >= 45 && dt < 3000, "count %ld after %lld ms (%s)", n, dt,
	      errno_name(err));
	CHECK("oneshot_after_read_gettime", timerfd_gettime(fd, &g) == 0 && ns(g.it_value) == 0, "value %ld",
	      ns(g.it_value));
	CHECK("oneshot_not_readable_after_read", !readable(fd), "still readable");
	close(fd);
}

static void test_periodic(void)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	REQUIRE_VOID(fd >= 0);
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 7}, out;
	REQUIRE_VOID(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0);
	struct itimerspec v = ms_spec(20, 20), old;
	long long t0 = now_ms();
	REQUIRE_VOID(timerfd_settime(fd, 0, &v, NULL) == 0);
	int got = epoll_wait(ep, &out, 1, 5000);
	CHECK("periodic_epoll_wakes", got == 1 && out.data.u64 == 7 && (out.events & EPOLLIN), "epoll_wait %d", got);
	usleep(150000);
	long long t1 = now_ms();
	int err;
	long n = read_count(fd, &err);
	long long t2 = now_ms();
	/* Expiries at 20, 40, ... ms: all those before the read count. */
	long lo = (long)((t1 - t0) / 20) - 1, hi = (long)((t2 - t0) / 20) + 1;
	CHECK("periodic_count_adds_missed", n >= lo && n <= hi && n >= 6, "count %ld, expected %ld..%ld", n, lo, hi);
	/* The read took the count to 0; only a period passing since (a slow
	 * emulator on a loaded machine) may add to it again. */
	long n2 = read_count(fd, &err);
	long long since = now_ms() - t2;
	int reset = n2 == -1 ? err == EAGAIN : since >= 20 && n2 <= since / 20 + 1;
	CHECK("periodic_read_resets", reset, "second read: %ld (%s) after %lld ms", n2, errno_name(err), since);
	struct itimerspec off = ms_spec(0, 0);
	CHECK("periodic_settime_old", timerfd_settime(fd, 0, &off, &old) == 0 && ns(old.it_interval) == 20000000 &&
					      ns(old.it_value) > 0 && ns(old.it_value) <= 20000000,
	      "old interval %ld value %ld", ns(old.it_interval), ns(old.it_value));
	close(ep);
	close(fd);
}

static void test_abstime_and_reset(void)
{
	int fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
	REQUIRE_VOID(fd >= 0);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct itimerspec past = {{0, 0}, {now.tv_sec - 10, 0}};
	CHECK("abstime_cancel_on_set_accepted",
	      timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &past, NULL) == 0, "%s",
	      errno_name(errno));
	usleep(30000);
	int err;
	long n = read_count(fd, &err);
	CHECK("abstime_past_fires_once", n == 1, "count %ld (%s)", n, errno_name(err));

	/* Expired but unread, then re-armed: the count starts again. */
	struct itimerspec soon = ms_spec(1, 0), later = ms_spec(10000, 0);
	timerfd_settime(fd, 0, &soon, NULL);
	usleep(30000);
	int was_readable = readable(fd);
	timerfd_settime(fd, 0, &later, NULL);
	CHECK("settime_resets_count", was_readable && read_count(fd, &err) == -1 && err == EAGAIN,
	      "readable %d, then read: %s", was_readable, errno_name(err));
	close(fd);
}

int main(void)
{
	test_create();
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	REQUIRE(fd >= 0);
	test_errors(fd);
	close(fd);
	test_oneshot();
	test_periodic();
	test_abstime_and_reset();
	return test_done();
}
