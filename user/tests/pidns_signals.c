/*
 * pidns_signals: signals that respect PID namespaces. Inside a new
 * namespace kill(-1) reaches only that namespace's processes (sparing its
 * init and the caller; ESRCH once there are none), kill(0) the caller's
 * group and kill(-pgrp) a group by the namespace's own number. The
 * namespace's init takes only the signals it handles from inside (not
 * even SIGKILL otherwise) and sees their senders by namespace numbers; from
 * the parent namespace an unhandled SIGTERM is still ignored, the sender
 * shows as PID 0, and SIGKILL kills it.
 * Linux: kernel/signal.c (kill_something_info, __kill_pgrp_info,
 * sig_task_ignored, send_signal_locked), kernel/pid_namespace.c.
 */
#include "test.h"

#include <poll.h>
#include <sched.h>

/* Each SIGUSR1 handler writes its process's role letter to `report_fd`. */
static int report_fd = -1;
static char role = '?';
static volatile sig_atomic_t hits;

static void on_usr1(int sig)
{
	(void)sig;
	hits++;
	char c = role;
	(void)!write(report_fd, &c, 1);
}

static void catch_usr1(void)
{
	struct sigaction sa = {.sa_handler = on_usr1};
	sigaction(SIGUSR1, &sa, NULL);
}

static void block_usr1(int how)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(how, &set, NULL);
}

/* With SIGUSR1 blocked: sleeps until `n` SIGUSR1s have been handled. */
static void await_hits(int n)
{
	sigset_t none;
	sigemptyset(&none);
	while (hits < n)
		sigsuspend(&none);
}

/* Reads up to `n` bytes from `fd`, waiting at most `ms` for each. */
static int read_some(int fd, char *buf, int n, int ms)
{
	int got = 0;
	while (got < n) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r != 1 || read(fd, buf + got, 1) != 1)
			break;
		got++;
	}
	return got;
}

/* Whether `buf` holds exactly the letters of `want`, in any order. */
static int same_letters(const char *buf, int n, const char *want)
{
	int count[256] = {0};
	if (n != (int)strlen(want))
		return 0;
	for (int i = 0; i < n; i++)
		count[(unsigned char)buf[i]]++;
	for (int i = 0; want[i]; i++)
		if (count[(unsigned char)want[i]]-- == 0)
			return 0;
	return 1;
}

/* A member of the namespace: says it is ready, then takes `n` SIGUSR1s. */
static pid_t fork_member(char letter, int ready_fd, int n)
{
	pid_t pid = fork();
	if (pid == 0) {
		block_usr1(SIG_BLOCK); /* taken only in await_hits: none is lost */
		role = letter;
		hits = 0;
		(void)!write(ready_fd, "r", 1);
		await_hits(n);
		_exit(0);
	}
	return pid;
}

/* --- kill(-1) ------------------------------------------------------------ */

/* The namespace's init: exit code 0, or the step that went wrong. */
static int ns_kill_all(void)
{
	role = 'N';
	int ready[2];
	if (pipe(ready) != 0)
		return 1;
	pid_t a = fork_member('a', ready[1], 1);
	pid_t b = fork_member('b', ready[1], 1);
	char buf[2];
	if (a != 2 || b != 3 || read_some(ready[0], buf, 2, 5000) != 2)
		return 2;
	/* Spares this init, reaches both members and nothing outside. */
	if (kill(-1, SIGUSR1) != 0)
		return 3;
	if (!exited_with(wait_status(a), 0) || !exited_with(wait_status(b), 0))
		return 4;
	errno = 0;
	if (kill(-1, SIGUSR1) != -1 || errno != ESRCH)
		return 5;
	return 0;
}

static void on_usr2_mark(int sig)
{
	(void)sig;
	(void)!write(report_fd, "T", 1);
}

static void test_kill_all(void)
{
	int rep[2];
	REQUIRE_VOID(pipe(rep) == 0);
	report_fd = rep[1];
	role = 'P';
	hits = 0;
	block_usr1(SIG_BLOCK);
	catch_usr1();
	/* Outside the namespace: must hear nothing from inside. */
	pid_t sentinel = fork();
	if (sentinel == 0) {
		role = 'S';
		signal(SIGUSR2, on_usr2_mark);
		block_usr1(SIG_UNBLOCK);
		for (;;)
			pause();
	}
	block_usr1(SIG_UNBLOCK);
	pid_t ns = fork_newpid();
	if (ns == 0)
		_exit(ns_kill_all());
	int status = wait_status(ns);
	CHECK("kill_minus1_reaches_members_then_esrch", exited_with(status, 0),
	      "ns init %s (2 fork, 3 kill, 4 members, 5 no ESRCH)", status_text(status));
	/* SIGUSR2's mark comes after any SIGUSR1 the sentinel had pending. */
	kill(sentinel, SIGUSR2);
	char buf[8] = {0};
	int n = 0;
	while (n < (int)sizeof(buf) - 1 && read_some(rep[0], buf + n, 1, 5000) == 1 && buf[n] != 'T')
		n++;
	CHECK("kill_minus1_stays_in_namespace", same_letters(buf, n, "ab") && hits == 0,
	      "handlers ran in '%.*s' (want a and b only), test process hit %d", n, buf,
	      (int)hits);
	kill(sentinel, SIGKILL);
	wait_status(sentinel);
	signal(SIGUSR1, SIG_DFL);
	close(rep[0]);
	close(rep[1]);
}

/* --- kill(0) and kill(-pgrp) ------------------------------------------- */

/* A group leader that signals its own group with kill(0) when told. */
static pid_t fork_kill0_leader(int ready_fd, int go_fd)
{
	pid_t pid = fork();
	if (pid == 0) {
		block_usr1(SIG_BLOCK);
		role = 'a';
		hits = 0;
		(void)!write(ready_fd, "r", 1);
		char c;
		if (read(go_fd, &c, 1) != 1 || kill(0, SIGUSR1) != 0)
			_exit(1);
		await_hits(2);
		_exit(0);
	}
	return pid;
}

static int ns_kill_groups(void)
{
	role = 'N';
	int ready[2], go[2], rep[2];
	if (pipe(ready) != 0 || pipe(go) != 0 || pipe(rep) != 0)
		return 1;
	report_fd = rep[1];
	pid_t a = fork_kill0_leader(ready[1], go[0]);
	pid_t c = fork_member('c', ready[1], 2);
	pid_t b = fork_member('b', ready[1], 1);
	/* a leads a group of a and c; b stays in this init's group. */
	if (setpgid(a, a) != 0 || setpgid(c, a) != 0)
		return 2;
	char buf[4];
	if (read_some(ready[0], buf, 3, 5000) != 3)
		return 3;
	(void)!write(go[1], "g", 1);
	int n = read_some(rep[0], buf, 2, 5000);
	if (!same_letters(buf, n, "ac"))
		return 4; /* kill(0) missed its group or reached b */
	/* The group by this namespace's number (a is 2 here, not outside). */
	if (a != 2 || kill(-a, SIGUSR1) != 0)
		return 5;
	n = read_some(rep[0], buf, 2, 5000);
	if (!same_letters(buf, n, "ac"))
		return 6;
	errno = 0;
	if (kill(-(a + 1000), SIGUSR1) != -1 || errno != ESRCH)
		return 7;
	if (kill(b, SIGUSR1) != 0 || read_some(rep[0], buf, 1, 5000) != 1 || buf[0] != 'b')
		return 8;
	if (!exited_with(wait_status(a), 0) || !exited_with(wait_status(c), 0) ||
	    !exited_with(wait_status(b), 0))
		return 9;
	if (read_some(rep[0], buf, 1, 50) != 0)
		return 10; /* a stray signal */
	return 0;
}

static void test_kill_groups(void)
{
	block_usr1(SIG_BLOCK);
	catch_usr1();
	pid_t ns = fork_newpid();
	if (ns == 0)
		_exit(ns_kill_groups());
	block_usr1(SIG_UNBLOCK);
	int status = wait_status(ns);
	CHECK("kill0_and_pgrp_by_namespace_numbers", exited_with(status, 0),
	      "ns init %s (4 kill(0), 5-6 kill(-pgrp), 7 no ESRCH, 8 b, 9 members, 10 stray)",
	      status_text(status));
	signal(SIGUSR1, SIG_DFL);
}

/* --- the namespace's init ----------------------------------------------- */

static volatile pid_t term_from;
static void on_term(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	term_from = si->si_pid;
}

/* A child that sends `sig` to the namespace's init: its wait status. */
static int member_kills_init(int sig)
{
	pid_t m = fork();
	if (m == 0)
		_exit(kill(1, sig) == 0 ? 0 : 1);
	return wait_status(m);
}

static int ns_init_from_inside(void)
{
	if (!exited_with(member_kills_init(SIGKILL), 0))
		return 1;
	if (!exited_with(member_kills_init(SIGTERM), 0))
		return 2;
	sigset_t pending;
	sigpending(&pending);
	if (sigismember(&pending, SIGTERM) || sigismember(&pending, SIGKILL))
		return 3; /* ignored signals are dropped, not queued */
	struct sigaction sa = {.sa_sigaction = on_term, .sa_flags = SA_SIGINFO};
	sigaction(SIGTERM, &sa, NULL);
	term_from = -1;
	pid_t m = fork();
	if (m == 0)
		_exit(kill(1, SIGTERM) == 0 ? 0 : 1);
	if (!exited_with(wait_status(m), 0))
		return 4;
	if (term_from != m)
		return 5; /* the handler ran with the sender's namespace PID */
	/* Calls that name the caller take its namespace numbers. */
	if (syscall(SYS_tgkill, 1, 1, 0) != 0)
		return 6;
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_code = SI_USER; /* a forged code is allowed towards oneself */
	signal(SIGUSR2, SIG_IGN);
	if (syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR2, &si) != 0)
		return 7;
	return 0;
}

static void test_init_from_inside(void)
{
	pid_t ns = fork_newpid();
	if (ns == 0)
		_exit(ns_init_from_inside());
	int status = wait_status(ns);
	CHECK("ns_init_ignores_unhandled_from_inside", exited_with(status, 0),
	      "ns init %s (1 SIGKILL, 2 SIGTERM, 3 pending, 4-5 handled SIGTERM, 6 tgkill, 7 sigqueue)",
	      status_text(status));
}

static void on_usr1_report_sender(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	int pid = si->si_pid;
	(void)!write(report_fd, &pid, sizeof(pid));
}

/* Sends `sig` then SIGUSR1 to `ns`; the sender PID its handler saw, or -1. */
static int poke_and_read(pid_t ns, int sig, int fd)
{
	if (sig)
		kill(ns, sig);
	kill(ns, SIGUSR1);
	int from = -1;
	char *p = (char *)&from;
	return read_some(fd, p, sizeof(from), 5000) == sizeof(from) ? from : -1;
}

static void test_init_from_outside(void)
{
	int rep[2];
	REQUIRE_VOID(pipe(rep) == 0);
	pid_t ns = fork_newpid();
	if (ns == 0) {
		report_fd = rep[1];
		struct sigaction sa = {.sa_sigaction = on_usr1_report_sender, .sa_flags = SA_SIGINFO};
		sigaction(SIGUSR1, &sa, NULL);
		(void)!write(rep[1], "r", 1);
		for (;;)
			pause();
	}
	close(rep[1]);
	char c;
	REQUIRE_VOID(read_some(rep[0], &c, 1, 5000) == 1);
	int from = poke_and_read(ns, 0, rep[0]);
	CHECK("sender_outside_is_pid_0", from == 0, "si_pid %d, want 0", from);
	/* Were SIGTERM fatal, it would end the init before SIGUSR1 is handled. */
	from = poke_and_read(ns, SIGTERM, rep[0]);
	int status;
	CHECK("ns_init_ignores_unhandled_sigterm_from_parent",
	      from == 0 && waitpid(ns, &status, WNOHANG) == 0, "si_pid %d after SIGTERM", from);
	kill(ns, SIGKILL);
	status = wait_status(ns);
	CHECK("ns_init_dies_of_sigkill_from_parent",
	      status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "ns init %s",
	      status_text(status));
	close(rep[0]);
}

int main(void)
{
	test_kill_all();
	test_kill_groups();
	test_init_from_inside();
	test_init_from_outside();
	return test_done();
}
