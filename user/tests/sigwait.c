#include "test.h"
/*
 * sigwait: rt_sigtimedwait takes a signal of its set with its siginfo,
 * polls with a zero timeout, gives EAGAIN when the time runs out and
 * EINTR when another handled signal arrives; rt_sigqueueinfo and
 * rt_tgsigqueueinfo queue real-time signals in order with their
 * si_value, coalesce standard ones, refuse forged si_codes to others
 * (EPERM) and a full queue under RLIMIT_SIGPENDING (EAGAIN). And what a
 * handled signal does to other waits: read(2) on a pipe restarts with
 * SA_RESTART, poll, pause, sigsuspend and nanosleep fail with EINTR even so.
 * Linux: kernel/signal.c (do_sigtimedwait, do_rt_sigqueueinfo,
 * __send_signal_locked).
 */
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <time.h>

static volatile sig_atomic_t got_usr2, rt_seen[8], rt_count;

static void on_usr2(int sig)
{
	(void)sig;
	got_usr2++;
}

static void on_rt(int sig, siginfo_t *info, void *context)
{
	(void)sig;
	(void)context;
	if (rt_count < 8)
		rt_seen[rt_count] = info->si_value.sival_int;
	rt_count++;
}

/* The raw call: musl's sigtimedwait retries on EINTR. */
static long timedwait(const sigset_t *set, siginfo_t *si, const struct timespec *ts)
{
	return syscall(SYS_rt_sigtimedwait, set, si, ts, 8);
}

static long queueinfo(pid_t pid, int sig, int code, int value)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = sig;
	si.si_code = code;
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = value;
	return syscall(SYS_rt_sigqueueinfo, pid, sig, &si);
}

static sigset_t only(int sig)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	return set;
}

static void waiting(void)
{
	sigset_t usr1 = only(SIGUSR1);
	siginfo_t si;
	raise(SIGUSR1);
	memset(&si, 0, sizeof(si));
	long r = timedwait(&usr1, &si, NULL);
	CHECK("takes_pending_signal", r == SIGUSR1 && si.si_signo == SIGUSR1 && si.si_code == SI_TKILL &&
					      si.si_pid == getpid(),
	      "returned %ld, signo %d code %d pid %d", r, si.si_signo, si.si_code, si.si_pid);
	sigset_t pending;
	sigpending(&pending);
	CHECK("taken_not_pending", !sigismember(&pending, SIGUSR1), "SIGUSR1 still pending");
	struct timespec zero = {0, 0};
	long t0 = now_ms();
	EXPECT_ERRNO("zero_timeout_polls_eagain", timedwait(&usr1, NULL, &zero), EAGAIN);
	struct timespec tenth = {0, 100000000};
	t0 = now_ms();
	EXPECT_ERRNO("timeout_eagain", timedwait(&usr1, NULL, &tenth), EAGAIN);
	long took = now_ms() - t0;
	CHECK("timeout_waited", took >= 99 && took < 3000, "waited %ld ms for 100", took);
	struct timespec bad = {0, 1000000000};
	EXPECT_ERRNO("bad_timespec_einval", timedwait(&usr1, NULL, &bad), EINVAL);
	EXPECT_ERRNO("bad_sigsetsize_einval", syscall(SYS_rt_sigtimedwait, &usr1, NULL, &zero, 4), EINVAL);
	EXPECT_ERRNO("bad_set_efault", timedwait(unmapped_address(), NULL, &zero), EFAULT);

	/* A signal sent while waiting wakes the waiter; no handler runs. */
	pid_t parent = getpid();
	pid_t pid = fork();
	REQUIRE_VOID(pid >= 0);
	if (pid == 0) {
		usleep(100000);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	memset(&si, 0, sizeof(si));
	r = timedwait(&usr1, &si, NULL);
	CHECK("woken_by_awaited_signal", r == SIGUSR1 && si.si_code == SI_USER && si.si_pid == pid,
	      "returned %ld (%s), code %d pid %d", r, errno_name(errno), si.si_code, si.si_pid);
	wait_status(pid);

	/* Another unblocked, handled signal: EINTR, even with SA_RESTART. */
	struct sigaction sa = {.sa_handler = on_usr2, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	pid = fork();
	REQUIRE_VOID(pid >= 0);
	if (pid == 0) {
		usleep(100000);
		kill(parent, SIGUSR2);
		_exit(0);
	}
	struct timespec five = {5, 0};
	t0 = now_ms();
	errno = 0;
	r = timedwait(&usr1, NULL, &five);
	int err = errno;
	took = now_ms() - t0;
	CHECK("other_signal_eintr", r == -1 && err == EINTR && got_usr2 == 1 && took < 4000,
	      "returned %ld (%s), handler %d, after %ld ms", r, errno_name(err), (int)got_usr2, took);
	wait_status(pid);
}

static void queueing(void)
{
	int rt = SIGRTMIN;
	sigset_t set = only(rt);
	sigaddset(&set, rt + 2);
	siginfo_t si;
	for (int v = 1; v <= 3; v++)
		sigqueue(getpid(), rt, (union sigval){.sival_int = v * 10});
	int order_ok = 1, code_ok = 1;
	for (int v = 1; v <= 3; v++) {
		memset(&si, 0, sizeof(si));
		long r = timedwait(&set, &si, NULL);
		order_ok &= r == rt && si.si_value.sival_int == v * 10;
		code_ok &= si.si_code == SI_QUEUE && si.si_pid == getpid();
	}
	struct timespec zero = {0, 0};
	CHECK("rt_all_queued_in_order", order_ok && timedwait(&set, NULL, &zero) == -1 && errno == EAGAIN,
	      "values out of order or a fourth instance");
	CHECK("rt_siginfo_si_queue", code_ok, "si_code %d si_pid %d", si.si_code, si.si_pid);
	sigqueue(getpid(), rt + 2, (union sigval){.sival_int = 2});
	sigqueue(getpid(), rt, (union sigval){.sival_int = 1});
	long first = timedwait(&set, NULL, &zero), second = timedwait(&set, NULL, &zero);
	CHECK("lowest_rt_signal_first", first == rt && second == rt + 2, "got %ld then %ld", first, second);

	sigset_t usr1 = only(SIGUSR1);
	for (int v = 0; v < 3; v++)
		sigqueue(getpid(), SIGUSR1, (union sigval){.sival_int = v});
	memset(&si, 0, sizeof(si));
	long r = timedwait(&usr1, &si, &zero);
	CHECK("standard_signal_coalesced", r == SIGUSR1 && si.si_value.sival_int == 0 &&
						   timedwait(&usr1, NULL, &zero) == -1 && errno == EAGAIN,
	      "returned %ld value %d, or a second instance", r, si.si_value.sival_int);

	/* Delivered to a handler: in order, with their values. */
	struct sigaction sa = {.sa_sigaction = on_rt, .sa_flags = SA_SIGINFO};
	sigemptyset(&sa.sa_mask);
	sigaction(rt, &sa, NULL);
	for (int v = 1; v <= 3; v++)
		sigqueue(getpid(), rt, (union sigval){.sival_int = v});
	sigset_t unblock = only(rt);
	sigprocmask(SIG_UNBLOCK, &unblock, NULL);
	CHECK("handler_gets_each_in_order", rt_count == 3 && rt_seen[0] == 1 && rt_seen[1] == 2 && rt_seen[2] == 3,
	      "%d deliveries: %d %d %d", (int)rt_count, (int)rt_seen[0], (int)rt_seen[1], (int)rt_seen[2]);
	sigprocmask(SIG_BLOCK, &unblock, NULL);
}

static void permissions(void)
{
	int rt = SIGRTMIN;
	sigset_t set = only(rt);
	struct timespec zero = {0, 0};
	pid_t parent = getpid();
	pid_t pid = fork();
	REQUIRE_VOID(pid >= 0);
	if (pid == 0) {
		int bits = 0;
		bits |= queueinfo(parent, rt, SI_USER, 1) == -1 && errno == EPERM ? 1 : 0;
		bits |= queueinfo(parent, rt, SI_TKILL, 1) == -1 && errno == EPERM ? 2 : 0;
		bits |= queueinfo(parent, rt, SI_KERNEL, 1) == -1 && errno == EPERM ? 4 : 0;
		bits |= queueinfo(parent, rt, SI_QUEUE, 7) == 0 ? 8 : 0;
		_exit(bits);
	}
	int status = wait_status(pid);
	CHECK("forged_si_code_to_other_eperm", status != -1 && WIFEXITED(status) && (WEXITSTATUS(status) & 7) == 7,
	      "child %s (bits: 1 SI_USER, 2 SI_TKILL, 4 SI_KERNEL refused)", status_text(status));
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	long r = timedwait(&set, &si, &zero);
	CHECK("si_queue_to_other_delivered", exited_with(status, 15) && r == rt && si.si_value.sival_int == 7,
	      "child %s, wait %ld value %d", status_text(status), r, si.si_value.sival_int);
	memset(&si, 0, sizeof(si));
	r = queueinfo(getpid(), rt, SI_USER, 5);
	long got = timedwait(&set, &si, &zero);
	CHECK("any_si_code_to_self", r == 0 && got == rt && si.si_code == SI_USER && si.si_value.sival_int == 5,
	      "queue %ld, got %ld code %d value %d", r, got, si.si_code, si.si_value.sival_int);
	EXPECT_ERRNO("queue_missing_pid_esrch", queueinfo(99999, rt, SI_QUEUE, 0), ESRCH);
	EXPECT_ERRNO("queue_bad_signal_einval", queueinfo(getpid(), 99, SI_QUEUE, 0), EINVAL);
	EXPECT_ERRNO("queue_bad_pointer_efault", syscall(SYS_rt_sigqueueinfo, getpid(), rt, unmapped_address()),
		     EFAULT);

	siginfo_t tsi;
	memset(&tsi, 0, sizeof(tsi));
	tsi.si_code = SI_QUEUE;
	tsi.si_value.sival_int = 9;
	pid_t tid = (pid_t)syscall(SYS_gettid);
	r = syscall(SYS_rt_tgsigqueueinfo, getpid(), tid, rt, &tsi);
	memset(&si, 0, sizeof(si));
	got = timedwait(&set, &si, &zero);
	CHECK("tgsigqueueinfo_to_self", r == 0 && got == rt && si.si_value.sival_int == 9, "queue %ld got %ld value %d",
	      r, got, si.si_value.sival_int);
	EXPECT_ERRNO("tgsigqueueinfo_bad_tid_einval", syscall(SYS_rt_tgsigqueueinfo, getpid(), 0, rt, &tsi), EINVAL);
	EXPECT_ERRNO("tgsigqueueinfo_wrong_group_esrch", syscall(SYS_rt_tgsigqueueinfo, 99999, tid, rt, &tsi), ESRCH);
}

static void limit(void)
{
	pid_t pid = fork();
	REQUIRE_VOID(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = {8, 8};
		if (setrlimit(RLIMIT_SIGPENDING, &rl) != 0)
			_exit(100);
		int n = 0;
		while (n < 20 && sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = n}) == 0)
			n++;
		if (n == 20 || errno != EAGAIN)
			_exit(101);
		/* kill's SI_USER instance is never refused, only its siginfo lost. */
		if (kill(getpid(), SIGRTMIN) != 0)
			_exit(102);
		_exit(n);
	}
	int status = wait_status(pid);
	int n = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	CHECK("rlimit_sigpending_eagain", n >= 1 && n <= 8, "child %s (100 setrlimit, 101 no EAGAIN, 102 kill failed)",
	      status_text(status));
}

enum call { READ_PIPE, POLL, PAUSE, SIGSUSPEND, NANOSLEEP };

/*
 * Makes `call` wait while a child sends SIGUSR2 (handled, with `flags`)
 * after 100 ms and writes to the pipe after 500 ms; returns the call's
 * result and its errno in *err.
 */
static long interrupted(enum call call, int flags, int *err)
{
	struct sigaction sa = {.sa_handler = on_usr2, .sa_flags = flags};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	int p[2];
	if (pipe(p) != 0)
		return -2;
	pid_t parent = getpid();
	got_usr2 = 0;
	pid_t pid = fork();
	if (pid == 0) {
		usleep(100000);
		kill(parent, SIGUSR2);
		usleep(400000);
		(void)!write(p[1], "x", 1);
		_exit(0);
	}
	char c;
	struct pollfd pfd = {.fd = p[0], .events = POLLIN};
	sigset_t none;
	sigemptyset(&none);
	struct timespec two = {2, 0};
	long r = -2;
	errno = 0;
	switch (call) {
	case READ_PIPE: r = read(p[0], &c, 1); break;
	case POLL: r = poll(&pfd, 1, -1); break;
	case PAUSE: r = pause(); break;
	case SIGSUSPEND: r = sigsuspend(&none); break;
	case NANOSLEEP: r = nanosleep(&two, NULL); break;
	}
	*err = errno;
	wait_status(pid);
	close(p[0]);
	close(p[1]);
	return r;
}

static void restarts(void)
{
	int err;
	long r = interrupted(READ_PIPE, SA_RESTART, &err);
	CHECK("read_restarts_with_sa_restart", r == 1 && got_usr2 == 1, "read returned %ld (%s), handler %d", r,
	      errno_name(err), (int)got_usr2);
	r = interrupted(READ_PIPE, 0, &err);
	CHECK("read_eintr_without_sa_restart", r == -1 && err == EINTR && got_usr2 == 1,
	      "read returned %ld (%s), handler %d", r, errno_name(err), (int)got_usr2);
	static const struct {
		enum call call;
		const char *name;
	} never[] = {
		{POLL, "poll_eintr_despite_sa_restart"},
		{PAUSE, "pause_eintr_despite_sa_restart"},
		{SIGSUSPEND, "sigsuspend_eintr_despite_sa_restart"},
		{NANOSLEEP, "nanosleep_eintr_despite_sa_restart"},
	};
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
		r = interrupted(never[i].call, SA_RESTART, &err);
		CHECK(never[i].name, r == -1 && err == EINTR && got_usr2 == 1, "returned %ld (%s), handler %d", r,
		      errno_name(err), (int)got_usr2);
	}
}

int main(void)
{
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	for (int s = SIGRTMIN; s <= SIGRTMIN + 2; s++)
		sigaddset(&block, s);
	REQUIRE(sigprocmask(SIG_BLOCK, &block, NULL) == 0);
	waiting();
	queueing();
	permissions();
	limit();
	restarts();
	return test_done();
}
