#include "test.h"
/*
 * POSIX timers through the raw system calls (kernel timer ids, as Linux
 * numbers them per process from 0): the siginfo a timer's signal carries,
 * one-shot and periodic timers, TIMER_ABSTIME, SIGEV_NONE, SIGEV_THREAD_ID,
 * the NULL sigevent default, overruns, old values, errnos, and timers
 * going away at fork and exec.
 * Linux: kernel/time/posix-timers.c.
 */
#include <signal.h>
#include <time.h>

static volatile sig_atomic_t hits, last_signo, last_code, last_timerid, last_value, last_overrun;
static volatile sig_atomic_t overrun_in_handler = -2, si_overrun_in_handler = -2;
static volatile int watch_id = -1;

static void on_timer(int sig, siginfo_t *info, void *ctx)
{
	(void)ctx;
	hits++;
	last_signo = sig;
	last_code = info->si_code;
	last_timerid = info->si_timerid;
	last_value = info->si_value.sival_int;
	last_overrun = info->si_overrun;
	if (watch_id >= 0 && overrun_in_handler == -2) {
		overrun_in_handler = (int)syscall(SYS_timer_getoverrun, watch_id);
		si_overrun_in_handler = info->si_overrun;
	}
}

static int t_create(clockid_t clock, struct sigevent *sev, int *id)
{
	return (int)syscall(SYS_timer_create, clock, sev, id);
}

static int t_settime(int id, int flags, const struct itimerspec *v, struct itimerspec *old)
{
	return (int)syscall(SYS_timer_settime, id, flags, v, old);
}

static int t_gettime(int id, struct itimerspec *v)
{
	return (int)syscall(SYS_timer_gettime, id, v);
}

static int t_delete(int id)
{
	return (int)syscall(SYS_timer_delete, id);
}

static long ns(struct timespec ts)
{
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static struct itimerspec ms_spec(long interval_ms, long value_ms)
{
	struct itimerspec v = {{interval_ms / 1000, interval_ms % 1000 * 1000000},
			       {value_ms / 1000, value_ms % 1000 * 1000000}};
	return v;
}

/* Waits with `sig` blocked outside sigsuspend until `hits` reaches `n`. */
static long wait_hits(int sig, int n, long limit_ms)
{
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, sig);
	sigprocmask(SIG_BLOCK, &block, &old);
	long t0 = now_ms(), end = t0 + limit_ms;
	while (hits < n && now_ms() < end) {
		struct timespec nap = {0, 5000000};
		sigprocmask(SIG_SETMASK, &old, NULL);
		nanosleep(&nap, NULL);
		sigprocmask(SIG_BLOCK, &block, NULL);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return now_ms() - t0;
}

static struct sigevent sig_event(int signo, int value)
{
	struct sigevent sev;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = signo;
	sev.sigev_value.sival_int = value;
	return sev;
}

static void errors(int id)
{
	struct sigevent sev = sig_event(SIGUSR1, 0);
	int bad;
	EXPECT_ERRNO("create_bad_clock", t_create(99, &sev, &bad), EINVAL);
	EXPECT_ERRNO("create_monotonic_raw_eopnotsupp", t_create(CLOCK_MONOTONIC_RAW, &sev, &bad), EOPNOTSUPP);
	EXPECT_ERRNO("create_efault_sevp", t_create(CLOCK_MONOTONIC, unmapped_address(), &bad), EFAULT);
	sev.sigev_notify = 99;
	EXPECT_ERRNO("create_bad_notify", t_create(CLOCK_MONOTONIC, &sev, &bad), EINVAL);
	sev = sig_event(0, 0);
	EXPECT_ERRNO("create_signal_0", t_create(CLOCK_MONOTONIC, &sev, &bad), EINVAL);
	sev = sig_event(65, 0);
	EXPECT_ERRNO("create_signal_65", t_create(CLOCK_MONOTONIC, &sev, &bad), EINVAL);
	sev = sig_event(SIGUSR1, 0);
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_notify_thread_id = 1; /* init: not a thread of this process */
	EXPECT_ERRNO("create_thread_id_other_process", t_create(CLOCK_MONOTONIC, &sev, &bad), EINVAL);

	struct itimerspec v = ms_spec(0, 100), out;
	EXPECT_ERRNO("settime_bad_id", t_settime(12345, 0, &v, NULL), EINVAL);
	EXPECT_ERRNO("settime_null_value", t_settime(id, 0, NULL, NULL), EINVAL);
	v.it_value.tv_nsec = 1000000000;
	EXPECT_ERRNO("settime_nsec_too_big", t_settime(id, 0, &v, NULL), EINVAL);
	v = ms_spec(0, 100);
	v.it_interval.tv_sec = -1;
	EXPECT_ERRNO("settime_negative_interval", t_settime(id, 0, &v, NULL), EINVAL);
	EXPECT_ERRNO("settime_efault", t_settime(id, 0, unmapped_address(), NULL), EFAULT);
	EXPECT_ERRNO("gettime_bad_id", t_gettime(-1, &out), EINVAL);
	EXPECT_ERRNO("gettime_efault", t_gettime(id, unmapped_address()), EFAULT);
	EXPECT_ERRNO("getoverrun_bad_id", syscall(SYS_timer_getoverrun, 777), EINVAL);
	EXPECT_ERRNO("delete_bad_id", t_delete(777), EINVAL);
}

static void one_shot(int id)
{
	struct itimerspec v = ms_spec(0, 50), g;
	hits = 0;
	CHECK("settime_one_shot", t_settime(id, 0, &v, NULL) == 0, "%s", errno_name(errno));
	CHECK("gettime_counts_down", t_gettime(id, &g) == 0 && ns(g.it_value) > 0 && ns(g.it_value) <= 50000000 &&
					     ns(g.it_interval) == 0,
	      "value %ld ns", ns(g.it_value));
	long dt = wait_hits(SIGUSR1, 1, 5000);
	CHECK("one_shot_fires_once", hits == 1 && dt >= 45, "%d signals after %ld ms", (int)hits, dt);
	CHECK("siginfo_signo_and_code", last_signo == SIGUSR1 && last_code == SI_TIMER, "signo %d code %d",
	      (int)last_signo, (int)last_code);
	CHECK("siginfo_timerid_value_overrun", last_timerid == id && last_value == 0x1234 && last_overrun == 0,
	      "timerid %d value %#x overrun %d", (int)last_timerid, (int)last_value, (int)last_overrun);
	CHECK("expired_one_shot_reads_zero",
	      t_gettime(id, &g) == 0 && ns(g.it_value) == 0 && ns(g.it_interval) == 0, "value %ld ns",
	      ns(g.it_value));
}

static void periodic(int id)
{
	struct itimerspec v = ms_spec(20, 20), old;
	hits = 0;
	CHECK("settime_periodic", t_settime(id, 0, &v, NULL) == 0, "%s", errno_name(errno));
	long dt = wait_hits(SIGUSR1, 3, 5000);
	struct itimerspec off = ms_spec(0, 0);
	CHECK("settime_returns_old", t_settime(id, 0, &off, &old) == 0 && ns(old.it_interval) == 20000000 &&
					     ns(old.it_value) > 0 && ns(old.it_value) <= 20000000,
	      "old interval %ld value %ld", ns(old.it_interval), ns(old.it_value));
	CHECK("periodic_reloads", hits >= 3 && dt >= 55, "%d signals in %ld ms", (int)hits, dt);
	struct itimerspec g;
	CHECK("disarmed_reads_zero", t_gettime(id, &g) == 0 && ns(g.it_value) == 0 && ns(g.it_interval) == 0,
	      "value %ld interval %ld", ns(g.it_value), ns(g.it_interval));

	/* Blocked for 200 ms, a 10 ms timer overruns; the handler is told. */
	sigset_t block, old_mask;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old_mask);
	hits = 0;
	watch_id = id;
	v = ms_spec(10, 10);
	t_settime(id, 0, &v, NULL);
	struct timespec nap = {0, 200000000};
	nanosleep(&nap, NULL);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	t_settime(id, 0, &off, NULL);
	watch_id = -1;
	CHECK("overrun_counted", hits >= 1 && overrun_in_handler >= 5 && overrun_in_handler < 100,
	      "%d signals, timer_getoverrun %d in the handler", (int)hits, (int)overrun_in_handler);
	/* Linux fills si_overrun when the signal is dequeued, with what
	 * timer_getoverrun then reports. */
	CHECK("si_overrun_agrees", si_overrun_in_handler == overrun_in_handler,
	      "si_overrun %d, timer_getoverrun %d", (int)si_overrun_in_handler, (int)overrun_in_handler);
}

static void abstime(int id)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long t = ns(now) + 50000000;
	struct itimerspec v = {{0, 0}, {t / 1000000000, t % 1000000000}};
	hits = 0;
	long t0 = now_ms();
	CHECK("settime_abstime", t_settime(id, TIMER_ABSTIME, &v, NULL) == 0, "%s", errno_name(errno));
	long dt = wait_hits(SIGUSR1, 1, 5000);
	CHECK("abstime_fires_at_time", hits == 1 && dt >= 40 && dt < 3000, "%d signals after %ld ms", (int)hits,
	      (long)(now_ms() - t0));
	struct itimerspec past = {{0, 0}, {1, 0}};
	hits = 0;
	t_settime(id, TIMER_ABSTIME, &past, NULL);
	wait_hits(SIGUSR1, 1, 2000);
	CHECK("abstime_in_past_fires_now", hits == 1, "%d signals", (int)hits);
}

static void sigev_none(void)
{
	struct sigevent sev;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_NONE;
	int id;
	REQUIRE_VOID(t_create(CLOCK_MONOTONIC, &sev, &id) == 0);
	struct itimerspec v = ms_spec(0, 60), g1, g2;
	hits = 0;
	t_settime(id, 0, &v, NULL);
	t_gettime(id, &g1);
	struct timespec nap = {0, 20000000};
	nanosleep(&nap, NULL);
	t_gettime(id, &g2);
	CHECK("sigev_none_counts_down", ns(g1.it_value) > ns(g2.it_value) && ns(g2.it_value) > 0,
	      "%ld then %ld ns", ns(g1.it_value), ns(g2.it_value));
	nap.tv_nsec = 100000000;
	nanosleep(&nap, NULL);
	CHECK("sigev_none_expires_silently", t_gettime(id, &g2) == 0 && ns(g2.it_value) == 0 && hits == 0,
	      "value %ld ns, %d signals", ns(g2.it_value), (int)hits);
	t_delete(id);
}

static void defaults_and_thread_id(void)
{
	struct sigaction sa = {.sa_sigaction = on_timer, .sa_flags = SA_SIGINFO};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	int id;
	REQUIRE_VOID(t_create(CLOCK_REALTIME, NULL, &id) == 0);
	struct itimerspec v = ms_spec(0, 20);
	hits = 0;
	t_settime(id, 0, &v, NULL);
	wait_hits(SIGALRM, 1, 5000);
	CHECK("null_sevp_is_sigalrm_with_id", hits == 1 && last_signo == SIGALRM && last_code == SI_TIMER &&
						      last_timerid == id && last_value == id,
	      "%d signals, signo %d timerid %d value %d (id %d)", (int)hits, (int)last_signo, (int)last_timerid,
	      (int)last_value, id);
	t_delete(id);

	struct sigevent sev = sig_event(SIGUSR2, 77);
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_notify_thread_id = (int)syscall(SYS_gettid);
	sigaction(SIGUSR2, &sa, NULL);
	REQUIRE_VOID(t_create(CLOCK_BOOTTIME, &sev, &id) == 0);
	hits = 0;
	t_settime(id, 0, &v, NULL);
	wait_hits(SIGUSR2, 1, 5000);
	CHECK("sigev_thread_id_to_self", hits == 1 && last_signo == SIGUSR2 && last_value == 77,
	      "%d signals, signo %d value %d", (int)hits, (int)last_signo, (int)last_value);
	EXPECT_OK("delete_ok", t_delete(id));
	EXPECT_ERRNO("delete_twice", t_delete(id), EINVAL);
}

static void fork_and_exec(char *self, int id)
{
	pid_t pid = fork();
	if (pid == 0) {
		struct itimerspec g;
		_exit(t_gettime(id, &g) == -1 && errno == EINVAL ? 0 : 1);
	}
	int status = wait_status(pid);
	CHECK("fork_does_not_inherit", exited_with(status, 0), "child %s", status_text(status));
	pid = fork();
	if (pid == 0) {
		struct sigevent sev = sig_event(SIGUSR1, 0);
		int cid;
		if (t_create(CLOCK_MONOTONIC, &sev, &cid) != 0 || cid != 0)
			_exit(5);
		char *argv[] = {self, "exec-child", NULL};
		execv(self, argv);
		_exit(4);
	}
	status = wait_status(pid);
	CHECK("exec_deletes_timers", exited_with(status, 0), "child %s (3: timer 0 survived exec, 5: id not 0)",
	      status_text(status));
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "exec-child") == 0) {
		struct itimerspec g;
		return t_gettime(0, &g) == -1 && errno == EINVAL ? 0 : 3;
	}
	struct sigaction sa = {.sa_sigaction = on_timer, .sa_flags = SA_SIGINFO};
	sigemptyset(&sa.sa_mask);
	REQUIRE(sigaction(SIGUSR1, &sa, NULL) == 0);
	struct sigevent sev = sig_event(SIGUSR1, 0x1234);
	int id = -1, id2 = -1;
	CHECK("first_id_is_0", t_create(CLOCK_MONOTONIC, &sev, &id) == 0 && id == 0, "id %d (%s)", id,
	      errno_name(errno));
	CHECK("second_id_is_1", t_create(CLOCK_MONOTONIC, &sev, &id2) == 0 && id2 == 1, "id %d (%s)", id2,
	      errno_name(errno));
	REQUIRE(id >= 0 && id2 >= 0);
	t_delete(id2);
	errors(id);
	one_shot(id);
	periodic(id);
	abstime(id);
	sigev_none();
	defaults_and_thread_id();
	fork_and_exec(argv[0], id);
	return test_done();
}
