#include "test.h"
/*
 * Interval timers: alarm, getitimer, setitimer. ITIMER_REAL sends SIGALRM on
 * wall time and reloads; ITIMER_VIRTUAL counts only user time; old values
 * come back; bad arguments are EINVAL; fork clears the timers, exec keeps them.
 * A periodic ITIMER_REAL whose SIGALRM stays pending is stopped (getitimer
 * reads 0 left) until the signal is taken, then runs on.
 * Linux: kernel/time/itimer.c, kernel/signal.c (dequeue_signal's SIGALRM).
 */
#include <signal.h>
#include <sys/time.h>
#include <time.h>

static volatile sig_atomic_t alrm, vtalrm, prof;

static void on_alrm(int sig)
{
	(void)sig;
	alrm++;
}

static void on_vtalrm(int sig)
{
	(void)sig;
	vtalrm++;
}

static void on_prof(int sig)
{
	(void)sig;
	prof++;
}

static int sys_getitimer(int which, struct itimerval *v)
{
	return (int)syscall(SYS_getitimer, which, v);
}

static int sys_setitimer(int which, const struct itimerval *v, struct itimerval *old)
{
	return (int)syscall(SYS_setitimer, which, v, old);
}

static long usecs(struct timeval tv)
{
	return tv.tv_sec * 1000000L + tv.tv_usec;
}

/* Spins in user mode until `flag` is set or `limit_ms` of wall time pass. */
static void spin_until(volatile sig_atomic_t *flag, long limit_ms)
{
	long end = now_ms() + limit_ms;
	while (!*flag && now_ms() < end)
		for (volatile int i = 0; i < 100000; i++)
			;
}

/* Run after execve by the child of exec_keeps_itimer. */
static int exec_child(void)
{
	struct itimerval v;
	if (sys_getitimer(ITIMER_REAL, &v) != 0)
		return 2;
	return v.it_value.tv_sec >= 8 && v.it_value.tv_sec <= 10 ? 0 : 3;
}

static void errors(void)
{
	struct itimerval v = {0};
	EXPECT_ERRNO("getitimer_bad_which", sys_getitimer(3, &v), EINVAL);
	EXPECT_ERRNO("getitimer_negative_which", sys_getitimer(-1, &v), EINVAL);
	EXPECT_ERRNO("setitimer_bad_which", sys_setitimer(3, &v, NULL), EINVAL);
	v.it_value.tv_usec = 1000000;
	EXPECT_ERRNO("setitimer_usec_too_big", sys_setitimer(ITIMER_REAL, &v, NULL), EINVAL);
	v.it_value.tv_usec = 0;
	v.it_interval.tv_usec = -1;
	EXPECT_ERRNO("setitimer_negative_interval_usec", sys_setitimer(ITIMER_REAL, &v, NULL), EINVAL);
	v.it_interval.tv_usec = 0;
	v.it_value.tv_sec = -1;
	EXPECT_ERRNO("setitimer_negative_sec", sys_setitimer(ITIMER_VIRTUAL, &v, NULL), EINVAL);
	EXPECT_ERRNO("getitimer_efault", sys_getitimer(ITIMER_REAL, unmapped_address()), EFAULT);
	EXPECT_ERRNO("setitimer_efault", sys_setitimer(ITIMER_REAL, unmapped_address(), NULL), EFAULT);
}

static void alarm_checks(void)
{
	CHECK("alarm_none_pending_returns_0", alarm(0) == 0, "alarm(0) returned non-zero");
	alarm(5);
	unsigned left = alarm(0);
	CHECK("alarm_returns_seconds_left", left == 5, "alarm(0) after alarm(5) returned %u", left);
	struct itimerval v;
	CHECK("alarm_0_disarms", sys_getitimer(ITIMER_REAL, &v) == 0 && usecs(v.it_value) == 0,
	      "it_value %ld us", usecs(v.it_value));

	alrm = 0;
	long t0 = now_ms();
	alarm(1);
	int r = pause();
	int err = errno;
	long dt = now_ms() - t0;
	CHECK("alarm_pause_sigalrm", r == -1 && err == EINTR && alrm == 1, "pause %d (%s), %d SIGALRM", r,
	      errno_name(err), (int)alrm);
	CHECK("alarm_after_one_second", dt >= 950 && dt < 5000, "SIGALRM after %ld ms", dt);
}

static void real_checks(void)
{
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	sigprocmask(SIG_BLOCK, &block, &old);
	alrm = 0;
	struct itimerval v = {.it_interval = {0, 50000}, .it_value = {0, 50000}};
	long t0 = now_ms();
	CHECK("setitimer_real_periodic", sys_setitimer(ITIMER_REAL, &v, NULL) == 0, "%s", errno_name(errno));
	long limit = t0 + 5000;
	while (alrm < 3 && now_ms() < limit)
		sigsuspend(&old);
	long dt = now_ms() - t0;
	CHECK("real_reloads_three_ticks", alrm == 3, "%d SIGALRM in %ld ms", (int)alrm, dt);
	CHECK("real_three_ticks_take_150ms", dt >= 140 && dt < 3000, "3 ticks in %ld ms", dt);
	struct itimerval g;
	CHECK("getitimer_real_periodic",
	      sys_getitimer(ITIMER_REAL, &g) == 0 && usecs(g.it_interval) == 50000 && usecs(g.it_value) > 0 &&
		      usecs(g.it_value) <= 50000,
	      "interval %ld us, value %ld us", usecs(g.it_interval), usecs(g.it_value));
	struct itimerval off = {0}, prev;
	CHECK("setitimer_returns_old_value",
	      sys_setitimer(ITIMER_REAL, &off, &prev) == 0 && usecs(prev.it_interval) == 50000 &&
		      usecs(prev.it_value) > 0 && usecs(prev.it_value) <= 50000,
	      "old interval %ld us, value %ld us", usecs(prev.it_interval), usecs(prev.it_value));
	CHECK("setitimer_zero_disarms", sys_getitimer(ITIMER_REAL, &g) == 0 && usecs(g.it_value) == 0 &&
						usecs(g.it_interval) == 0,
	      "value %ld us after disarming", usecs(g.it_value));
	/* A zero value disarms even with an interval given: nothing is stored. */
	struct itimerval only_interval = {.it_interval = {1, 0}};
	sys_setitimer(ITIMER_REAL, &only_interval, NULL);
	CHECK("zero_value_keeps_no_interval",
	      sys_getitimer(ITIMER_REAL, &g) == 0 && usecs(g.it_interval) == 0 && usecs(g.it_value) == 0,
	      "interval %ld us", usecs(g.it_interval));
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGALRM, SIG_IGN);
	struct itimerval ten = {.it_value = {10, 0}};
	sys_setitimer(ITIMER_REAL, &ten, NULL);
	struct itimerval twenty = {.it_value = {20, 0}};
	CHECK("old_value_counts_down",
	      sys_setitimer(ITIMER_REAL, &twenty, &prev) == 0 && prev.it_value.tv_sec >= 9 &&
		      usecs(prev.it_value) <= 10000000 && usecs(prev.it_interval) == 0,
	      "old value %ld us", usecs(prev.it_value));
	sys_setitimer(ITIMER_REAL, &off, NULL);
	signal(SIGALRM, on_alrm);
}

static void real_rearmed_at_dequeue(void)
{
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	sigprocmask(SIG_BLOCK, &block, &old);
	alrm = 0;
	struct itimerval v = {.it_interval = {0, 200000}, .it_value = {0, 20000}}, g, off = {0};
	long t0 = now_ms();
	sys_setitimer(ITIMER_REAL, &v, NULL);
	usleep(100000);
	int got = sys_getitimer(ITIMER_REAL, &g);
	CHECK("real_stopped_while_sigalrm_pending", got == 0 && usecs(g.it_value) == 0 && usecs(g.it_interval) == 200000,
	      "value %ld us, interval %ld us", usecs(g.it_value), usecs(g.it_interval));
	sigsuspend(&old);
	sys_getitimer(ITIMER_REAL, &g);
	CHECK("real_rearmed_when_taken", alrm == 1 && usecs(g.it_value) > 0 && usecs(g.it_value) <= 200000,
	      "%d SIGALRM, then value %ld us", (int)alrm, usecs(g.it_value));
	while (alrm < 2 && now_ms() < t0 + 5000)
		sigsuspend(&old);
	long dt = now_ms() - t0;
	CHECK("real_runs_on_after_rearm", alrm == 2 && dt >= 200 && dt < 5000, "%d SIGALRM after %ld ms", (int)alrm,
	      dt);
	sys_setitimer(ITIMER_REAL, &off, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static void cpu_checks(void)
{
	struct itimerval v = {.it_value = {0, 100000}};
	vtalrm = 0;
	CHECK("setitimer_virtual", sys_setitimer(ITIMER_VIRTUAL, &v, NULL) == 0, "%s", errno_name(errno));
	struct itimerval g;
	CHECK("getitimer_virtual", sys_getitimer(ITIMER_VIRTUAL, &g) == 0 && usecs(g.it_value) > 50000 &&
					   usecs(g.it_value) <= 120000,
	      "value %ld us", usecs(g.it_value));
	struct timespec nap = {0, 300000000};
	nanosleep(&nap, NULL);
	CHECK("virtual_not_while_sleeping", vtalrm == 0, "SIGVTALRM while asleep");
	long t0 = now_ms();
	spin_until(&vtalrm, 20000);
	CHECK("virtual_fires_while_spinning", vtalrm == 1, "%d SIGVTALRM after %ld ms of spinning", (int)vtalrm,
	      (long)(now_ms() - t0));
	CHECK("virtual_one_shot_disarmed", sys_getitimer(ITIMER_VIRTUAL, &g) == 0 && usecs(g.it_value) == 0,
	      "value %ld us", usecs(g.it_value));

	struct itimerval p = {.it_interval = {0, 20000}, .it_value = {0, 20000}};
	prof = 0;
	CHECK("setitimer_prof", sys_setitimer(ITIMER_PROF, &p, NULL) == 0, "%s", errno_name(errno));
	long end = now_ms() + 20000;
	while (prof < 3 && now_ms() < end)
		spin_until(&prof, 100);
	struct itimerval off = {0}, prev;
	sys_setitimer(ITIMER_PROF, &off, &prev);
	CHECK("prof_reloads", prof >= 3, "%d SIGPROF", (int)prof);
	CHECK("prof_old_interval", usecs(prev.it_interval) == 20000, "old interval %ld us",
	      usecs(prev.it_interval));
}

static void inheritance(char *self)
{
	struct itimerval ten = {.it_value = {10, 0}}, off = {0};
	signal(SIGALRM, SIG_IGN);
	sys_setitimer(ITIMER_REAL, &ten, NULL);
	pid_t pid = fork();
	if (pid == 0) {
		struct itimerval v;
		_exit(sys_getitimer(ITIMER_REAL, &v) == 0 && usecs(v.it_value) == 0 ? 0 : 1);
	}
	int status = wait_status(pid);
	CHECK("fork_clears_itimer", exited_with(status, 0), "child %s (1: timer inherited)", status_text(status));
	sys_setitimer(ITIMER_REAL, &off, NULL);

	pid = fork();
	if (pid == 0) {
		sys_setitimer(ITIMER_REAL, &ten, NULL);
		char *argv[] = {self, "exec-child", NULL};
		execv(self, argv);
		_exit(4);
	}
	status = wait_status(pid);
	CHECK("exec_keeps_itimer", exited_with(status, 0), "child %s (3: timer lost at exec)",
	      status_text(status));
	signal(SIGALRM, on_alrm);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "exec-child") == 0)
		return exec_child();
	signal(SIGALRM, on_alrm);
	signal(SIGVTALRM, on_vtalrm);
	signal(SIGPROF, on_prof);
	errors();
	alarm_checks();
	real_checks();
	real_rearmed_at_dequeue();
	cpu_checks();
	inheritance(argv[0]);
	return test_done();
}
