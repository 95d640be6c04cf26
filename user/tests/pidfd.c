/*
 * pidfd: file descriptors naming a process. pidfd_open (flags, non-leader
 * threads, missing PIDs), CLONE_PIDFD through clone and clone3 (the
 * conflicts with CLONE_PARENT_SETTID and CLONE_THREAD), poll and epoll
 * reporting the exit, waitid(P_PIDFD) blocking and with PIDFD_NONBLOCK,
 * pidfd_send_signal (flags, siginfo rules, a reaped process, a process
 * the caller's namespace cannot see), pidfd_getfd (reading a pipe the
 * target opened, permission, bad descriptors).
 * Linux: kernel/pid.c (pidfd_open, pidfd_create, pidfd_getfd),
 * kernel/fork.c (pidfd_poll, copy_process, kernel_clone), kernel/signal.c
 * (pidfd_send_signal, access_pidfd_pidns), kernel/exit.c (kernel_waitid).
 */
#include "test.h"

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/epoll.h>

#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x1000
#endif

struct clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static int pidfd_open(pid_t pid, unsigned flags)
{
	return (int)syscall(SYS_pidfd_open, pid, flags);
}

static int pidfd_send_signal(int fd, int sig, siginfo_t *info, unsigned flags)
{
	return (int)syscall(SYS_pidfd_send_signal, fd, sig, info, flags);
}

static int pidfd_getfd(int fd, int target, unsigned flags)
{
	return (int)syscall(SYS_pidfd_getfd, fd, target, flags);
}

static int waitid_pidfd(int fd, siginfo_t *info, int options)
{
	memset(info, 0, sizeof(*info));
	return (int)syscall(SYS_waitid, P_PIDFD, fd, info, options, 0);
}

/* A child that waits in pause() until killed. */
static pid_t fork_sleeper(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

/* A PID that named a process a moment ago and now names none. */
static pid_t reaped_pid(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	wait_status(pid);
	return pid;
}

static void test_open(void)
{
	int fd = pidfd_open(getpid(), 0);
	CHECK("open_self", fd >= 0, "pidfd_open(getpid()) = %d (%s)", fd, errno_name(errno));
	CHECK("open_cloexec_rdwr", fd >= 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC &&
		  (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR,
	      "F_GETFD %d F_GETFL %#x", fcntl(fd, F_GETFD), fcntl(fd, F_GETFL));
	close(fd);
	fd = pidfd_open(getpid(), PIDFD_NONBLOCK);
	CHECK("open_nonblock", fd >= 0 && (fcntl(fd, F_GETFL) & O_NONBLOCK),
	      "fd %d F_GETFL %#x", fd, fcntl(fd, F_GETFL));
	close(fd);
	EXPECT_ERRNO("open_bad_flags_einval", pidfd_open(getpid(), 1), EINVAL);
	EXPECT_ERRNO("open_pid0_einval", pidfd_open(0, 0), EINVAL);
	EXPECT_ERRNO("open_negative_einval", pidfd_open(-1, 0), EINVAL);
	EXPECT_ERRNO("open_reaped_esrch", pidfd_open(reaped_pid(), 0), ESRCH);
}

/* A thread that sits until told to go, so its TID stays valid. */
static volatile int thread_go;
static void *thread_wait(void *arg)
{
	*(volatile pid_t *)arg = (pid_t)syscall(SYS_gettid);
	while (!thread_go)
		usleep(1000);
	return NULL;
}

static void test_open_thread(void)
{
	volatile pid_t tid = 0;
	pthread_t t;
	thread_go = 0;
	REQUIRE_VOID(pthread_create(&t, NULL, thread_wait, (void *)&tid) == 0);
	while (tid == 0)
		usleep(1000);
	EXPECT_ERRNO("open_thread_einval", pidfd_open(tid, 0), EINVAL);
	thread_go = 1;
	pthread_join(t, NULL);
}

static void test_clone_pidfd(void)
{
	int pidfd = -1;
	pid_t pid = (pid_t)syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, &pidfd, 0, 0);
	if (pid == 0)
		_exit(7);
	CHECK("clone_pidfd_written", pid > 0 && pidfd >= 0, "clone %d (%s), pidfd %d", pid,
	      errno_name(errno), pidfd);
	CHECK("clone_pidfd_cloexec", fcntl(pidfd, F_GETFD) == FD_CLOEXEC, "F_GETFD %d",
	      fcntl(pidfd, F_GETFD));
	siginfo_t info;
	int r = waitid_pidfd(pidfd, &info, WEXITED);
	CHECK("waitid_pidfd_reaps", r == 0 && info.si_pid == pid && info.si_code == CLD_EXITED &&
		  info.si_status == 7,
	      "waitid %d (%s) si_pid %d (want %d) code %d status %d", r, errno_name(errno),
	      info.si_pid, pid, info.si_code, info.si_status);
	EXPECT_ERRNO("waitid_pidfd_reaped_echild", waitid_pidfd(pidfd, &info, WEXITED), ECHILD);
	EXPECT_ERRNO("send_signal_reaped_esrch", pidfd_send_signal(pidfd, SIGTERM, NULL, 0), ESRCH);
	close(pidfd);

	int ptid = 0;
	EXPECT_ERRNO("clone_pidfd_parent_settid_einval",
		     syscall(SYS_clone, CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, 0, &ptid, 0, 0),
		     EINVAL);
	/* In a child, so that a kernel that made the thread cannot hurt us. */
	pid_t c = fork();
	if (c == 0) {
		long r = syscall(SYS_clone, CLONE_PIDFD | CLONE_THREAD | CLONE_SIGHAND | CLONE_VM, 0,
				 &ptid, 0, 0);
		_exit(r == -1 && errno == EINVAL ? 0 : 1);
	}
	int status = wait_status(c);
	CHECK("clone_pidfd_thread_einval", exited_with(status, 0), "child %s", status_text(status));
}

static void test_clone3_pidfd(void)
{
	int pidfd = -1, ptid = 0;
	struct clone_args a = {.flags = CLONE_PIDFD | CLONE_PARENT_SETTID,
			       .pidfd = (uintptr_t)&pidfd,
			       .parent_tid = (uintptr_t)&ptid,
			       .exit_signal = SIGCHLD};
	long pid = syscall(SYS_clone3, &a, sizeof(a));
	if (pid == 0)
		_exit(3);
	CHECK("clone3_pidfd_and_parent_tid", pid > 0 && pidfd >= 0 && ptid == pid,
	      "clone3 %ld (%s) pidfd %d ptid %d", pid, errno_name(errno), pidfd, ptid);
	siginfo_t info;
	int r = waitid_pidfd(pidfd, &info, WEXITED);
	CHECK("clone3_waitid_pidfd", r == 0 && info.si_pid == pid && info.si_status == 3,
	      "waitid %d (%s) si_pid %d status %d", r, errno_name(errno), info.si_pid,
	      info.si_status);
	close(pidfd);
	a.parent_tid = a.pidfd;
	EXPECT_ERRNO("clone3_pidfd_same_address_einval", syscall(SYS_clone3, &a, sizeof(a)), EINVAL);
}

static void test_poll_and_waitid(void)
{
	int go[2];
	REQUIRE_VOID(pipe(go) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		(void)!read(go[0], &c, 1);
		usleep(100 * 1000);
		_exit(5);
	}
	close(go[0]);
	int fd = pidfd_open(pid, PIDFD_NONBLOCK);
	REQUIRE_VOID(fd >= 0);
	int blocking = pidfd_open(pid, 0);
	REQUIRE_VOID(blocking >= 0);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 77};
	REQUIRE_VOID(ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, blocking, &ev) == 0);

	struct pollfd p = {.fd = fd, .events = POLLIN};
	int n = poll(&p, 1, 0);
	CHECK("poll_live_not_readable", n == 0, "poll %d revents %#x", n, p.revents);
	siginfo_t info;
	EXPECT_ERRNO("waitid_nonblock_eagain", waitid_pidfd(fd, &info, WEXITED), EAGAIN);
	int r = waitid_pidfd(fd, &info, WEXITED | WNOHANG);
	CHECK("waitid_nonblock_wnohang_zero", r == 0 && info.si_pid == 0,
	      "waitid %d (%s) si_pid %d", r, errno_name(errno), info.si_pid);

	long long t0 = now_ms();
	(void)!write(go[1], "g", 1);
	do
		n = poll(&p, 1, 5000);
	while (n < 0 && errno == EINTR);
	long long waited = now_ms() - t0;
	CHECK("poll_wakes_at_exit", n == 1 && (p.revents & POLLIN) && waited >= 50,
	      "poll %d revents %#x after %lld ms", n, p.revents, waited);
	struct epoll_event out = {0};
	n = epoll_wait(ep, &out, 1, 5000);
	CHECK("epoll_reports_exit", n == 1 && (out.events & EPOLLIN) && out.data.u32 == 77,
	      "epoll_wait %d events %#x data %u", n, out.events, out.data.u32);
	/* Readable, but not reaped: still a zombie. */
	EXPECT_OK("send_signal_zombie_ok", pidfd_send_signal(fd, 0, NULL, 0));
	r = waitid_pidfd(fd, &info, WEXITED | WNOWAIT);
	CHECK("waitid_nonblock_zombie", r == 0 && info.si_pid == pid && info.si_status == 5,
	      "waitid %d (%s) si_pid %d status %d", r, errno_name(errno), info.si_pid,
	      info.si_status);
	r = waitid_pidfd(blocking, &info, WEXITED);
	CHECK("waitid_blocking_reaps", r == 0 && info.si_pid == pid, "waitid %d (%s) si_pid %d", r,
	      errno_name(errno), info.si_pid);
	n = poll(&p, 1, 0);
	CHECK("poll_reaped_readable", n == 1 && (p.revents & POLLIN), "poll %d revents %#x", n,
	      p.revents);
	close(fd);
	close(blocking);
	close(ep);
	close(go[1]);

	EXPECT_ERRNO("waitid_pidfd_not_pidfd_ebadf", waitid_pidfd(0, &info, WEXITED), EBADF);
	EXPECT_ERRNO("waitid_pidfd_closed_ebadf", waitid_pidfd(999, &info, WEXITED), EBADF);
	EXPECT_ERRNO("waitid_pidfd_negative_einval", waitid_pidfd(-1, &info, WEXITED), EINVAL);
}

static volatile sig_atomic_t got_sig;
static void on_sig(int sig)
{
	got_sig = sig;
}

static void test_send_signal(void)
{
	int pipefd[2];
	REQUIRE_VOID(pipe(pipefd) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		/* Reports the si_code and si_value of one SIGUSR1. */
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		(void)!write(pipefd[1], "r", 1);
		siginfo_t si;
		int code = sigwaitinfo(&set, &si) == SIGUSR1 && si.si_code == SI_QUEUE &&
				   si.si_value.sival_int == 42 && si.si_pid == getppid()
			       ? 0
			       : 1;
		_exit(code);
	}
	char c;
	REQUIRE_VOID(read(pipefd[0], &c, 1) == 1);
	int fd = pidfd_open(pid, 0);
	REQUIRE_VOID(fd >= 0);
	EXPECT_ERRNO("send_signal_flags_einval", pidfd_send_signal(fd, SIGUSR1, NULL, 1), EINVAL);
	EXPECT_ERRNO("send_signal_bad_signal_einval", pidfd_send_signal(fd, 1000, NULL, 0), EINVAL);
	EXPECT_ERRNO("send_signal_not_pidfd_ebadf", pidfd_send_signal(pipefd[0], SIGUSR1, NULL, 0),
		     EBADF);
	EXPECT_ERRNO("send_signal_closed_ebadf", pidfd_send_signal(999, SIGUSR1, NULL, 0), EBADF);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGUSR2;
	si.si_code = SI_QUEUE;
	EXPECT_ERRNO("send_signal_signo_mismatch_einval", pidfd_send_signal(fd, SIGUSR1, &si, 0),
		     EINVAL);
	si.si_signo = SIGUSR1;
	si.si_code = SI_USER;
	EXPECT_ERRNO("send_signal_forged_code_eperm", pidfd_send_signal(fd, SIGUSR1, &si, 0), EPERM);
	si.si_code = SI_QUEUE;
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = 42;
	EXPECT_OK("send_signal_siginfo", pidfd_send_signal(fd, SIGUSR1, &si, 0));
	int status = wait_status(pid);
	CHECK("send_signal_siginfo_arrives", exited_with(status, 0), "child %s", status_text(status));
	close(fd);

	/* SI_USER to oneself is allowed; a handler sees it. */
	signal(SIGUSR2, on_sig);
	got_sig = 0;
	fd = pidfd_open(getpid(), 0);
	si.si_signo = SIGUSR2;
	si.si_code = SI_USER;
	EXPECT_OK("send_signal_self_forged_ok", pidfd_send_signal(fd, SIGUSR2, &si, 0));
	CHECK("send_signal_self_handled", got_sig == SIGUSR2, "got %d", got_sig);
	signal(SIGUSR2, SIG_DFL);
	close(fd);

	pid = fork_sleeper();
	fd = pidfd_open(pid, 0);
	EXPECT_OK("send_signal_sigkill", pidfd_send_signal(fd, SIGKILL, NULL, 0));
	status = wait_status(pid);
	CHECK("send_signal_sigkill_kills", status != -1 && WIFSIGNALED(status) &&
		  WTERMSIG(status) == SIGKILL,
	      "child %s", status_text(status));
	EXPECT_ERRNO("send_signal_after_reap_esrch", pidfd_send_signal(fd, 0, NULL, 0), ESRCH);
	close(fd);
	close(pipefd[0]);
	close(pipefd[1]);
}

/* A pidfd of a process outside the caller's PID namespace: EINVAL. */
static void test_send_signal_other_ns(void)
{
	int self = pidfd_open(getpid(), 0);
	REQUIRE_VOID(self >= 0);
	pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0);
	if (pid == 0) {
		int r = pidfd_send_signal(self, 0, NULL, 0);
		int own = pidfd_open(1, 0);
		int r2 = own >= 0 ? pidfd_send_signal(own, 0, NULL, 0) : -2;
		_exit(r == -1 && errno == EINVAL && r2 == 0 ? 0 : 1);
	}
	int status = wait_status(pid);
	CHECK("send_signal_outer_ns_einval", exited_with(status, 0), "child %s",
	      status_text(status));
	close(self);
}

static void test_getfd(void)
{
	int rep[2];
	REQUIRE_VOID(pipe(rep) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		/* Opens a pipe of its own, fills it, and says which fd. */
		int p[2];
		if (pipe(p) != 0 || write(p[1], "secret", 6) != 6)
			_exit(1);
		(void)!write(rep[1], &p[0], sizeof(int));
		for (;;)
			pause();
	}
	int target = -1;
	REQUIRE_VOID(read(rep[0], &target, sizeof(int)) == sizeof(int));
	int fd = pidfd_open(pid, 0);
	REQUIRE_VOID(fd >= 0);
	int got = pidfd_getfd(fd, target, 0);
	char buf[16] = {0};
	ssize_t n = got >= 0 ? read(got, buf, sizeof(buf)) : -1;
	CHECK("getfd_reads_targets_pipe", n == 6 && memcmp(buf, "secret", 6) == 0,
	      "pidfd_getfd %d (%s), read %zd '%s'", got, errno_name(errno), n, buf);
	CHECK("getfd_cloexec", got >= 0 && fcntl(got, F_GETFD) == FD_CLOEXEC, "F_GETFD %d",
	      fcntl(got, F_GETFD));
	close(got);
	EXPECT_ERRNO("getfd_flags_einval", pidfd_getfd(fd, target, 1), EINVAL);
	EXPECT_ERRNO("getfd_no_such_fd_ebadf", pidfd_getfd(fd, 999, 0), EBADF);
	EXPECT_ERRNO("getfd_not_pidfd_ebadf", pidfd_getfd(rep[0], 0, 0), EBADF);

	/* Another user may not take root's files. */
	pid_t c = fork();
	if (c == 0) {
		int r = setuid(1000) == 0 ? pidfd_getfd(fd, 0, 0) : -2;
		_exit(r == -1 && errno == EPERM ? 0 : 1);
	}
	int status = wait_status(c);
	CHECK("getfd_other_user_eperm", exited_with(status, 0), "child %s", status_text(status));

	kill(pid, SIGKILL);
	wait_status(pid);
	EXPECT_ERRNO("getfd_reaped_esrch", pidfd_getfd(fd, 0, 0), ESRCH);
	close(fd);
	close(rep[0]);
	close(rep[1]);
}

int main(void)
{
	test_open();
	test_open_thread();
	test_clone_pidfd();
	test_clone3_pidfd();
	test_poll_and_waitid();
	test_send_signal();
	test_send_signal_other_ns();
	test_getfd();
	return test_done();
}
