/*
 * Clocks and sleeping: CLOCK_MONOTONIC never goes back, nanosleep sleeps at
 * least as long as asked, the realtime clocks agree, and the errors.
 * Linux: kernel/time/posix-timers.c, kernel/time/hrtimer.c.
 */
#include "test.h"
#include <sys/time.h>
#include <time.h>

static long long ns(struct timespec t)
{
	return (long long)t.tv_sec * 1000000000ll + t.tv_nsec;
}

static long long now(clockid_t clock)
{
	struct timespec t = {0, 0};
	clock_gettime(clock, &t);
	return ns(t);
}

int main(void)
{
	struct timespec t;
	CHECK("monotonic_ok", clock_gettime(CLOCK_MONOTONIC, &t) == 0 && t.tv_nsec >= 0 && t.tv_nsec < 1000000000,
	      "clock_gettime: %s, tv_nsec %ld", errno_name(errno), t.tv_nsec);
	long long prev = ns(t);
	int backwards = 0;
	for (int i = 0; i < 10000; i++) {
		long long cur = now(CLOCK_MONOTONIC);
		backwards += cur < prev;
		prev = cur;
	}
	CHECK("monotonic_non_decreasing", backwards == 0, "went backwards %d times in 10000 reads", backwards);
	long long a = now(CLOCK_MONOTONIC);
	for (volatile int i = 0; i < 1000000; i++)
		;
	CHECK("monotonic_advances", now(CLOCK_MONOTONIC) > a, "did not advance over a busy loop");
	CHECK("realtime_after_2020", now(CLOCK_REALTIME) > 1577836800ll * 1000000000ll, "CLOCK_REALTIME %lld",
	      now(CLOCK_REALTIME));
	struct timeval tv;
	long long rt = now(CLOCK_REALTIME);
	CHECK("gettimeofday_agrees", gettimeofday(&tv, NULL) == 0 &&
					     llabs((long long)tv.tv_sec * 1000000000ll + tv.tv_usec * 1000ll - rt) < 1000000000ll,
	      "gettimeofday %ld s vs CLOCK_REALTIME %lld ns", (long)tv.tv_sec, rt);
	CHECK("time_agrees", llabs((long long)time(NULL) - rt / 1000000000ll) <= 1, "time() %ld", (long)time(NULL));
	CHECK("boottime_at_least_monotonic", now(CLOCK_BOOTTIME) >= now(CLOCK_MONOTONIC) - 1000000,
	      "CLOCK_BOOTTIME %lld < MONOTONIC", now(CLOCK_BOOTTIME));
	CHECK("process_cputime_ok", clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t) == 0, "CPUTIME: %s", errno_name(errno));
	struct timespec res;
	CHECK("getres_monotonic", clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0 && res.tv_nsec > 0 &&
					  res.tv_nsec <= 10000000,
	      "resolution %ld ns", res.tv_nsec);

	/* nanosleep sleeps at least the time asked. */
	struct timespec want = {0, 50 * 1000000};
	long long start = now(CLOCK_MONOTONIC);
	int r = nanosleep(&want, NULL);
	long long slept = now(CLOCK_MONOTONIC) - start;
	CHECK("nanosleep_at_least_asked", r == 0 && slept >= 50000000, "slept %lld ns for 50 ms (ret %d)", slept, r);
	CHECK("nanosleep_not_far_longer", slept < 2000000000, "slept %lld ns for 50 ms", slept);
	want.tv_sec = 0;
	want.tv_nsec = 0;
	CHECK("nanosleep_zero", nanosleep(&want, NULL) == 0, "nanosleep(0): %s", errno_name(errno));
	want.tv_nsec = 20 * 1000000;
	start = now(CLOCK_MONOTONIC);
	r = clock_nanosleep(CLOCK_MONOTONIC, 0, &want, NULL);
	slept = now(CLOCK_MONOTONIC) - start;
	CHECK("clock_nanosleep_relative", r == 0 && slept >= 20000000, "slept %lld ns for 20 ms (ret %d)", slept, r);
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += 20000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
	CHECK("clock_nanosleep_absolute", r == 0 && now(CLOCK_MONOTONIC) >= ns(until), "woke before the deadline (ret %d)",
	      r);

	EXPECT_ERRNO("bad_clock_einval", syscall(SYS_clock_gettime, 12345, &t), EINVAL);
	want.tv_nsec = 1000000000;
	EXPECT_ERRNO("nanosleep_bad_nsec_einval", syscall(SYS_nanosleep, &want, NULL), EINVAL);
	EXPECT_ERRNO("bad_request_efault", syscall(SYS_nanosleep, (void *)8, NULL), EFAULT);
	return test_done();
}
