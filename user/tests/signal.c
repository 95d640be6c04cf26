#include "test.h"
/*
 * Signals for a shell: handlers run (with siginfo), blocked signals stay
 * pending until unblocked, SIGCHLD on a child's exit, default actions,
 * EINTR from a sleep, and what cannot be caught or blocked.
 * Linux: kernel/signal.c, arch/x86/kernel/signal.c.
 */
#include <signal.h>
#include <time.h>

static volatile sig_atomic_t got_usr1, got_usr2, got_chld, usr1_code, usr1_pid, chld_pid, chld_status;
static volatile sig_atomic_t nested_blocked;
static volatile sig_atomic_t depth, max_depth, raised, chld_code;

/* Raises itself once from inside: nests only under SA_NODEFER. */
static void on_nodefer(int sig)
{
	if (++depth > max_depth)
		max_depth = depth;
	if (!raised) {
		raised = 1;
		raise(sig);
	}
	depth--;
}

static void on_chld_code(int sig, siginfo_t *info, void *context)
{
	(void)sig;
	(void)context;
	got_chld++;
	chld_code = info->si_code;
}

/* SIGCHLD for stops unless SA_NOCLDSTOP; SA_NOCLDWAIT and SIG_IGN reap children. */
static void sigchld_flags(void)
{
	struct sigaction sa = {.sa_sigaction = on_chld_code, .sa_flags = SA_SIGINFO};
	sigemptyset(&sa.sa_mask);
	for (int nocldstop = 0; nocldstop <= 1; nocldstop++) {
		sa.sa_flags = SA_SIGINFO | (nocldstop ? SA_NOCLDSTOP : 0);
		sigaction(SIGCHLD, &sa, NULL);
		got_chld = 0;
		chld_code = 0;
		pid_t pid = fork();
		if (pid == 0) {
			raise(SIGSTOP);
			_exit(0);
		}
		int status;
		waitpid(pid, &status, WUNTRACED);
		int stopped_count = got_chld, code = chld_code;
		kill(pid, SIGKILL);
		wait_status(pid);
		if (nocldstop)
			CHECK("sa_nocldstop_no_sigchld_on_stop", stopped_count == 0 && got_chld == 1,
			      "SIGCHLD %d times on the stop, %d in all", stopped_count, (int)got_chld);
		else
			CHECK("sigchld_on_stop_cld_stopped", stopped_count == 1 && code == CLD_STOPPED,
			      "SIGCHLD %d times, si_code %d", stopped_count, code);
	}
	sa.sa_flags = SA_SIGINFO | SA_NOCLDWAIT;
	sigaction(SIGCHLD, &sa, NULL);
	got_chld = 0;
	pid_t pid = fork();
	if (pid == 0)
		_exit(3);
	errno = 0;
	pid_t r = wait(NULL);
	CHECK("sa_nocldwait_reaps_and_signals", r == -1 && errno == ECHILD && got_chld == 1,
	      "wait returned %d (%s), SIGCHLD %d times", r, errno_name(errno), (int)got_chld);
	signal(SIGCHLD, SIG_IGN);
	pid = fork();
	if (pid == 0)
		_exit(3);
	errno = 0;
	r = waitpid(pid, NULL, 0);
	CHECK("sigchld_ign_reaps", r == -1 && errno == ECHILD, "waitpid returned %d (%s)", r, errno_name(errno));
	signal(SIGCHLD, SIG_DFL);
}

static void on_usr1(int sig, siginfo_t *info, void *context)
{
	(void)context;
	got_usr1++;
	usr1_code = info->si_code;
	usr1_pid = info->si_pid;
	(void)sig;
}

static void on_usr2(int sig)
{
	(void)sig;
	got_usr2++;
	sigset_t now;
	sigprocmask(SIG_BLOCK, NULL, &now);
	nested_blocked = sigismember(&now, SIGUSR2) && sigismember(&now, SIGTERM);
}

static void on_chld(int sig, siginfo_t *info, void *context)
{
	(void)sig;
	(void)context;
	got_chld++;
	chld_pid = info->si_pid;
	chld_status = info->si_status;
}

int main(void)
{
	struct sigaction sa = {.sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO};
	sigemptyset(&sa.sa_mask);
	REQUIRE(sigaction(SIGUSR1, &sa, NULL) == 0);
	CHECK("kill_self_runs_handler", kill(getpid(), SIGUSR1) == 0 && got_usr1 == 1, "handler ran %d times",
	      (int)got_usr1);
	CHECK("siginfo_si_user_and_pid", usr1_code == SI_USER && usr1_pid == getpid(), "si_code %d si_pid %d",
	      (int)usr1_code, (int)usr1_pid);
	struct sigaction back;
	CHECK("sigaction_reads_back", sigaction(SIGUSR1, NULL, &back) == 0 && back.sa_sigaction == on_usr1 &&
					      (back.sa_flags & SA_SIGINFO),
	      "old action differs");

	/* sa_mask and the signal itself are blocked while the handler runs. */
	struct sigaction sa2 = {.sa_handler = on_usr2};
	sigemptyset(&sa2.sa_mask);
	sigaddset(&sa2.sa_mask, SIGTERM);
	REQUIRE(sigaction(SIGUSR2, &sa2, NULL) == 0);
	raise(SIGUSR2);
	CHECK("handler_runs_with_sa_mask_and_self_blocked", got_usr2 == 1 && nested_blocked, "ran %d, blocked %d",
	      (int)got_usr2, (int)nested_blocked);
	sigset_t now;
	sigprocmask(SIG_BLOCK, NULL, &now);
	CHECK("mask_restored_after_handler", !sigismember(&now, SIGUSR2) && !sigismember(&now, SIGTERM),
	      "signals still blocked after the handler returned");

	/* Blocked: pending, then delivered on unblock, once. */
	sigset_t block, old, pending;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	REQUIRE(sigprocmask(SIG_BLOCK, &block, &old) == 0);
	got_usr1 = 0;
	kill(getpid(), SIGUSR1);
	kill(getpid(), SIGUSR1);
	CHECK("blocked_signal_not_delivered", got_usr1 == 0, "handler ran while blocked");
	CHECK("blocked_signal_pending", sigpending(&pending) == 0 && sigismember(&pending, SIGUSR1),
	      "sigpending lacks SIGUSR1");
	REQUIRE(sigprocmask(SIG_SETMASK, &old, NULL) == 0);
	CHECK("delivered_once_on_unblock", got_usr1 == 1, "handler ran %d times after unblocking two", (int)got_usr1);
	CHECK("no_longer_pending", sigpending(&pending) == 0 && !sigismember(&pending, SIGUSR1), "still pending");

	/* SIGKILL and SIGSTOP cannot be blocked, caught or ignored. */
	sigfillset(&block);
	REQUIRE(sigprocmask(SIG_SETMASK, &block, &old) == 0);
	sigprocmask(SIG_SETMASK, NULL, &now);
	CHECK("sigkill_sigstop_unblockable", !sigismember(&now, SIGKILL) && !sigismember(&now, SIGSTOP),
	      "the mask holds SIGKILL or SIGSTOP");
	sigprocmask(SIG_SETMASK, &old, NULL);
	EXPECT_ERRNO("catch_sigkill_einval", sigaction(SIGKILL, &sa, NULL), EINVAL);
	EXPECT_ERRNO("ignore_sigstop_einval", signal(SIGSTOP, SIG_IGN) == SIG_ERR ? -1 : 0, EINVAL);
	CHECK("query_sigkill_ok", sigaction(SIGKILL, NULL, &back) == 0, "reading SIGKILL's action: %s", errno_name(errno));

	/* SIGCHLD on a child's exit, with its pid and status. */
	struct sigaction sc = {.sa_sigaction = on_chld, .sa_flags = SA_SIGINFO};
	sigemptyset(&sc.sa_mask);
	REQUIRE(sigaction(SIGCHLD, &sc, NULL) == 0);
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0)
		_exit(9);
	int status = wait_status(pid);
	CHECK("sigchld_on_child_exit", got_chld >= 1 && chld_pid == pid && chld_status == 9 && exited_with(status, 9),
	      "SIGCHLD count %d, si_pid %d (child %d), si_status %d", (int)got_chld, (int)chld_pid, pid,
	      (int)chld_status);
	signal(SIGCHLD, SIG_DFL);

	/* Default actions: SIGTERM kills, SIGCHLD-like ignores, SIG_IGN protects. */
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		for (;;)
			pause();
	}
	kill(pid, SIGTERM);
	status = wait_status(pid);
	CHECK("sigterm_default_kills", status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, "child %s",
	      status_text(status));
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		signal(SIGUSR1, SIG_IGN);
		raise(SIGUSR1);
		signal(SIGWINCH, SIG_DFL);
		raise(SIGWINCH);
		_exit(4);
	}
	status = wait_status(pid);
	CHECK("ignored_and_default_ignore_survive", exited_with(status, 4), "child %s", status_text(status));
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);
		volatile int *volatile bad = (int *)unmapped_address();
		*bad = 1;
		_exit(0);
	}
	status = wait_status(pid);
	CHECK("segv_default_kills", status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "child %s",
	      status_text(status));

	/* A handled signal interrupts nanosleep: EINTR with the time left. */
	pid_t parent = getpid();
	got_usr1 = 0;
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		/* Again and again, in case the first one beats the parent's sleep. */
		for (;;) {
			usleep(100000);
			kill(parent, SIGUSR1);
		}
	}
	struct timespec want = {5, 0}, left = {0, 0};
	errno = 0;
	int r = nanosleep(&want, &left);
	int err = errno;
	kill(pid, SIGKILL);
	wait_status(pid);
	CHECK("nanosleep_eintr", r == -1 && err == EINTR && got_usr1 >= 1, "nanosleep returned %d (%s), handler %d", r,
	      errno_name(err), (int)got_usr1);
	CHECK("nanosleep_remaining", left.tv_sec > 0 && left.tv_sec <= 5, "time left %ld.%09ld", (long)left.tv_sec,
	      left.tv_nsec);

	/* SA_RESETHAND: the handler runs once, then the default returns. */
	struct sigaction once = {.sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO | SA_RESETHAND};
	sigemptyset(&once.sa_mask);
	sigaction(SIGUSR1, &once, NULL);
	raise(SIGUSR1);
	sigaction(SIGUSR1, NULL, &back);
	CHECK("sa_resethand", back.sa_handler == SIG_DFL, "handler still installed after SA_RESETHAND");

	/* SA_NODEFER: the signal is not blocked in its own handler. */
	struct sigaction nd = {.sa_handler = on_nodefer, .sa_flags = SA_NODEFER};
	sigemptyset(&nd.sa_mask);
	sigaction(SIGUSR2, &nd, NULL);
	raise(SIGUSR2);
	CHECK("sa_nodefer_nests", max_depth == 2, "handler nested %d deep", (int)max_depth);
	nd.sa_flags = 0;
	sigaction(SIGUSR2, &nd, NULL);
	max_depth = 0;
	raised = 0;
	raise(SIGUSR2);
	CHECK("deferred_without_sa_nodefer", max_depth == 1 && raised, "handler nested %d deep", (int)max_depth);
	sigchld_flags();

	EXPECT_ERRNO("kill_missing_pid_esrch", kill(99999, 0), ESRCH);
	CHECK("kill_sig0_probes", kill(getpid(), 0) == 0, "kill(self, 0): %s", errno_name(errno));
	EXPECT_ERRNO("kill_bad_signal_einval", kill(getpid(), 100), EINVAL);
	EXPECT_ERRNO("sigprocmask_bad_how_einval", syscall(SYS_rt_sigprocmask, 99, &block, NULL, 8), EINVAL);

	/* An unprivileged process cannot signal another user's process. */
	pid_t victim = fork();
	REQUIRE(victim >= 0);
	if (victim == 0) {
		for (;;)
			pause();
	}
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		if (setuid(1000) != 0)
			_exit(10);
		_exit(kill(victim, SIGTERM) == -1 && errno == EPERM ? 0 : 11);
	}
	status = wait_status(pid);
	CHECK("kill_other_user_eperm", exited_with(status, 0), "child %s (11: kill did not fail with EPERM)",
	      status_text(status));
	kill(victim, SIGKILL);
	wait_status(victim);
	return test_done();
}
