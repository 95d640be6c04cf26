#include "test.h"
/*
 * CPU-time accounting as programs see it: getrusage and times grow with a
 * busy loop and agree with CLOCK_PROCESS_CPUTIME_ID; a child's time shows in
 * RUSAGE_CHILDREN and tms_cutime only once it is waited for; times' return
 * value is a clock in USER_HZ ticks; RLIMIT_CPU sends SIGXCPU every second
 * past the soft limit and SIGKILL at the hard one.
 * Linux: kernel/sys.c (getrusage, times), kernel/sched/cputime.c,
 * kernel/time/posix-cpu-timers.c.
 */
#include <signal.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <time.h>

static long cpu_ms(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long tv_ms(struct timeval tv)
{
	return tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* Spins in user mode for `ms` of this process's CPU time. */
static void burn(long ms)
{
	long end = cpu_ms(CLOCK_PROCESS_CPUTIME_ID) + ms;
	while (cpu_ms(CLOCK_PROCESS_CPUTIME_ID) < end)
		for (volatile int i = 0; i < 100000; i++)
			;
}

static int xcpu_pipe[2];

static void on_xcpu(int sig)
{
	(void)sig;
	char c = 'x';
	(void)!write(xcpu_pipe[1], &c, 1);
}

static void errors(void)
{
	struct rusage ru;
	EXPECT_ERRNO("getrusage_bad_who", syscall(SYS_getrusage, 2, &ru), EINVAL);
	EXPECT_ERRNO("getrusage_both_einval", syscall(SYS_getrusage, -2, &ru), EINVAL);
	EXPECT_ERRNO("getrusage_efault", syscall(SYS_getrusage, RUSAGE_SELF, unmapped_address()), EFAULT);
	EXPECT_ERRNO("times_efault", syscall(SYS_times, unmapped_address()), EFAULT);
}

static void self_times(void)
{
	struct rusage before, after, thread;
	struct tms t0, t1;
	REQUIRE_VOID(getrusage(RUSAGE_SELF, &before) == 0);
	REQUIRE_VOID(times(&t0) != (clock_t)-1);
	long c0 = cpu_ms(CLOCK_PROCESS_CPUTIME_ID);
	burn(400);
	long c1 = cpu_ms(CLOCK_PROCESS_CPUTIME_ID);
	REQUIRE_VOID(getrusage(RUSAGE_SELF, &after) == 0);
	REQUIRE_VOID(times(&t1) != (clock_t)-1);
	long du = tv_ms(after.ru_utime) - tv_ms(before.ru_utime);
	long ds = tv_ms(after.ru_stime) - tv_ms(before.ru_stime);
	CHECK("cputime_clock_advances", c1 - c0 >= 400, "CLOCK_PROCESS_CPUTIME_ID moved %ld ms", c1 - c0);
	CHECK("ru_utime_grows_with_busy_loop", du >= 200 && du <= c1 - c0 + 100, "utime +%ld ms, stime +%ld ms",
	      du, ds);
	CHECK("ru_total_matches_cpu_clock", du + ds >= 300 && du + ds <= c1 - c0 + 100,
	      "utime+stime +%ld ms, clock +%ld ms", du + ds, c1 - c0);
	CHECK("ru_times_never_go_back", ds >= 0 && du >= 0, "utime %+ld stime %+ld", du, ds);
	long tu = (long)(t1.tms_utime - t0.tms_utime);
	CHECK("tms_utime_in_user_hz", tu >= 20 && tu <= (c1 - c0) / 10 + 10, "tms_utime +%ld ticks for %ld ms",
	      tu, c1 - c0);
	REQUIRE_VOID(getrusage(RUSAGE_THREAD, &thread) == 0);
	long th = tv_ms(thread.ru_utime) + tv_ms(thread.ru_stime);
	CHECK("rusage_thread_counts", th >= 300 && th <= tv_ms(after.ru_utime) + tv_ms(after.ru_stime) + 50,
	      "thread %ld ms", th);
	CHECK("ru_maxrss_in_kib", after.ru_maxrss > 16 && after.ru_maxrss < 1024 * 1024, "ru_maxrss %ld",
	      after.ru_maxrss);
	struct timespec nap = {0, 10000000};
	nanosleep(&nap, NULL);
	REQUIRE_VOID(getrusage(RUSAGE_SELF, &after) == 0);
	CHECK("ru_nvcsw_counts_sleeps", after.ru_nvcsw > before.ru_nvcsw, "nvcsw %ld then %ld", before.ru_nvcsw,
	      after.ru_nvcsw);
}

static void clock_ticks(void)
{
	clock_t a = times(NULL);
	struct timespec nap = {0, 300000000};
	nanosleep(&nap, NULL);
	clock_t b = times(NULL);
	long d = (long)(b - a);
	CHECK("times_returns_user_hz_clock", d >= 25 && d <= 200, "%ld ticks over 300 ms", d);
	CHECK("sysconf_clk_tck", sysconf(_SC_CLK_TCK) == 100, "CLK_TCK %ld", sysconf(_SC_CLK_TCK));
}

static void children(void)
{
	struct rusage before, waiting, after;
	struct tms t;
	REQUIRE_VOID(getrusage(RUSAGE_CHILDREN, &before) == 0);
	int go[2];
	REQUIRE_VOID(pipe(go) == 0);
	pid_t pid = fork();
	REQUIRE_VOID(pid >= 0);
	if (pid == 0) {
		close(go[0]);
		burn(300);
		_exit(0);
	}
	close(go[1]);
	char c;
	(void)!read(go[0], &c, 1); /* EOF once the child has exited */
	close(go[0]);
	struct timespec nap = {0, 50000000};
	nanosleep(&nap, NULL);
	REQUIRE_VOID(getrusage(RUSAGE_CHILDREN, &waiting) == 0);
	CHECK("zombie_child_not_counted", tv_ms(waiting.ru_utime) == tv_ms(before.ru_utime),
	      "children's utime %ld ms before wait", tv_ms(waiting.ru_utime));
	int status = wait_status(pid);
	REQUIRE_VOID(exited_with(status, 0));
	REQUIRE_VOID(getrusage(RUSAGE_CHILDREN, &after) == 0);
	long d = tv_ms(after.ru_utime) + tv_ms(after.ru_stime) - tv_ms(before.ru_utime) - tv_ms(before.ru_stime);
	CHECK("rusage_children_after_wait", d >= 250 && d < 5000, "children's time +%ld ms", d);
	REQUIRE_VOID(times(&t) != (clock_t)-1);
	CHECK("tms_cutime_after_wait", t.tms_cutime + t.tms_cstime >= 25, "cutime %ld cstime %ld",
	      (long)t.tms_cutime, (long)t.tms_cstime);
	CHECK("children_maxrss", after.ru_maxrss > 16, "ru_maxrss %ld", after.ru_maxrss);
}

static void rlimit_cpu(void)
{
	REQUIRE_VOID(pipe(xcpu_pipe) == 0);
	pid_t pid = fork();
	REQUIRE_VOID(pid >= 0);
	if (pid == 0) {
		close(xcpu_pipe[0]);
		signal(SIGXCPU, on_xcpu);
		struct rlimit lim = {1, 3};
		if (setrlimit(RLIMIT_CPU, &lim) != 0)
			_exit(2);
		burn(20000);
		_exit(3);
	}
	close(xcpu_pipe[1]);
	int status = wait_status(pid);
	char buf[16];
	ssize_t n = read(xcpu_pipe[0], buf, sizeof(buf));
	close(xcpu_pipe[0]);
	CHECK("rlimit_cpu_hard_sigkill", status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	      "child %s", status_text(status));
	CHECK("rlimit_cpu_sigxcpu_each_second", n == 2, "%zd SIGXCPU before the hard limit", n);
}

int main(void)
{
	errors();
	self_times();
	clock_ticks();
	children();
	rlimit_cpu();
	return test_done();
}
