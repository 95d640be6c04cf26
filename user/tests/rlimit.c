#include "test.h"
/*
 * prlimit64, getrlimit, setrlimit with RLIMIT_NOFILE: the limit caps new
 * descriptors (EMFILE), dup2 and F_DUPFD respect it, it is inherited, and
 * the errors. Limits belong to the process (one thread's setrlimit is
 * every thread's); prlimit64 on another process needs its uids or
 * CAP_SYS_RESOURCE; RLIMIT_NPROC stops a non-root fork (EAGAIN); wait4
 * and waitid report the reaped child's resource usage.
 * Linux: kernel/sys.c (do_prlimit, check_prlimit_permission),
 * fs/file.c (alloc_fd), kernel/fork.c (copy_process), kernel/exit.c
 * (wait_task_zombie's getrusage(p, RUSAGE_BOTH)).
 */
#include <pthread.h>
#include <sys/resource.h>

struct limit64 {
	unsigned long long cur, max;
};


/* --- limits are per process -------------------------------------------- */

static pid_t thread_tid;

static void *set_in_thread(void *arg)
{
	(void)arg;
	thread_tid = gettid();
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = 77;
	return (void *)(long)setrlimit(RLIMIT_NOFILE, &rl);
}

static void test_thread_shared(void)
{
	struct rlimit saved, rl;
	REQUIRE_VOID(getrlimit(RLIMIT_NOFILE, &saved) == 0);
	pthread_t t;
	void *ret = (void *)-1L;
	REQUIRE_VOID(pthread_create(&t, NULL, set_in_thread, NULL) == 0);
	pthread_join(t, &ret);
	getrlimit(RLIMIT_NOFILE, &rl);
	CHECK("thread_setrlimit_seen_by_process", ret == NULL && rl.rlim_cur == 77,
	      "thread's setrlimit returned %ld, main sees cur %lu", (long)ret, (unsigned long)rl.rlim_cur);
	setrlimit(RLIMIT_NOFILE, &saved);
}

/* --- prlimit64 on another process -------------------------------------- */

static pid_t spawn_as(uid_t r, uid_t e, uid_t s)
{
	int p[2];
	if (pipe(p) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		if (setresuid(r, e, s) != 0)
			_exit(1);
		(void)!write(p[1], "r", 1);
		for (;;)
			pause();
	}
	char c;
	if (pid > 0 && read(p[0], &c, 1) != 1)
		pid = -1;
	close(p[0]);
	close(p[1]);
	return pid;
}

/* In a child with the given uids: prlimit64 read of `target`'s NOFILE;
 * the child's exit code is 0 on success, else the errno. */
static int prlimit_as(uid_t uid, pid_t target)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (setresuid(uid, uid, uid) != 0)
			_exit(100);
		struct limit64 l;
		_exit(syscall(SYS_prlimit64, target, RLIMIT_NOFILE, NULL, &l) == 0 ? 0 : errno);
	}
	int st = wait_status(pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 200;
}

static void test_prlimit_permission(void)
{
	pid_t same = spawn_as(2000, 2000, 2000);
	pid_t mixed = spawn_as(2000, 2000, 3000);
	REQUIRE_VOID(same > 0 && mixed > 0);
	int e = prlimit_as(1000, same);
	CHECK("prlimit_other_user_eperm", e == EPERM, "got %s", errno_name(e));
	e = prlimit_as(2000, same);
	CHECK("prlimit_same_uids_ok", e == 0, "got %s", errno_name(e));
	e = prlimit_as(2000, mixed);
	CHECK("prlimit_saved_uid_differs_eperm", e == EPERM, "got %s", errno_name(e));
	struct limit64 l;
	EXPECT_OK("prlimit_root_cap_sys_resource", syscall(SYS_prlimit64, mixed, RLIMIT_NOFILE, NULL, &l));
	EXPECT_ERRNO("prlimit_negative_pid_esrch", syscall(SYS_prlimit64, -5, RLIMIT_NOFILE, NULL, &l), ESRCH);
	kill(same, SIGKILL);
	kill(mixed, SIGKILL);
	wait_status(same);
	wait_status(mixed);
}

/* --- RLIMIT_NPROC ------------------------------------------------------ */

static void test_nproc(void)
{
	pid_t pid = fork();
	REQUIRE_VOID(pid >= 0);
	if (pid == 0) {
		if (setresuid(1500, 1500, 1500) != 0)
			_exit(1);
		struct rlimit rl;
		getrlimit(RLIMIT_NPROC, &rl);
		rl.rlim_cur = 1; /* this process is the user's one */
		if (setrlimit(RLIMIT_NPROC, &rl) != 0)
			_exit(2);
		errno = 0;
		pid_t c = fork();
		if (c == 0)
			_exit(0);
		if (c != -1 || errno != EAGAIN)
			_exit(3);
		rl.rlim_cur = 2;
		if (setrlimit(RLIMIT_NPROC, &rl) != 0)
			_exit(4);
		c = fork();
		if (c == 0)
			_exit(0);
		if (c < 0 || !exited_with(wait_status(c), 0))
			_exit(5);
		_exit(0);
	}
	int st = wait_status(pid);
	CHECK("nproc_fork_eagain_then_ok", exited_with(st, 0),
	      "child %s (2 setrlimit, 3 fork not EAGAIN, 4 raise, 5 fork under the limit)", status_text(st));
}

/* --- rusage of a reaped child ------------------------------------------ */

static long cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void burn(long ms)
{
	volatile unsigned long x = 0;
	while (cpu_ms() < ms)
		for (int i = 0; i < 100000; i++)
			x += i;
}

static long ru_ms(const struct rusage *ru)
{
	return ru->ru_utime.tv_sec * 1000 + ru->ru_utime.tv_usec / 1000 + ru->ru_stime.tv_sec * 1000 +
	       ru->ru_stime.tv_usec / 1000;
}

static void test_wait_rusage(void)
{
	struct rusage ru;
	memset(&ru, 0xff, sizeof(ru));
	pid_t pid = fork();
	REQUIRE_VOID(pid >= 0);
	if (pid == 0) {
		burn(300);
		_exit(0);
	}
	long long start = now_ms();
	int st;
	pid_t got = wait4(pid, &st, 0, &ru);
	long long wall = now_ms() - start;
	long ms = ru_ms(&ru);
	CHECK("wait4_rusage_child_time", got == pid && ms >= 250 && ms <= wall + 50,
	      "wait4 %d, child time %ld ms, wall %lld ms", got, ms, wall);
	CHECK("wait4_rusage_maxrss", ru.ru_maxrss > 0, "ru_maxrss %ld", ru.ru_maxrss);

	/* The child's own reaped children count too (RUSAGE_BOTH). */
	pid = fork();
	REQUIRE_VOID(pid >= 0);
	if (pid == 0) {
		pid_t g = fork();
		if (g == 0) {
			burn(300);
			_exit(0);
		}
		wait_status(g);
		_exit(0);
	}
	memset(&ru, 0, sizeof(ru));
	got = wait4(pid, &st, 0, &ru);
	ms = ru_ms(&ru);
	CHECK("wait4_rusage_includes_grandchild", got == pid && ms >= 250, "wait4 %d, time %ld ms", got, ms);

	pid = fork();
	REQUIRE_VOID(pid >= 0);
	if (pid == 0) {
		burn(300);
		_exit(0);
	}
	siginfo_t info;
	memset(&ru, 0xab, sizeof(ru));
	long r = syscall(SYS_waitid, P_PID, pid, &info, WEXITED | WNOHANG, &ru);
	CHECK("waitid_wnohang_leaves_rusage", r == 0 && ru.ru_maxrss == (long)0xabababababababab,
	      "waitid %ld, ru_maxrss %#lx", r, ru.ru_maxrss);
	memset(&ru, 0, sizeof(ru));
	r = syscall(SYS_waitid, P_PID, pid, &info, WEXITED, &ru);
	ms = ru_ms(&ru);
	CHECK("waitid_rusage_child_time", r == 0 && info.si_pid == pid && ms >= 250,
	      "waitid %ld (%s), time %ld ms", r, errno_name(errno), ms);
}

/* --- RLIMIT_STACK ------------------------------------------------------ */

/* Uses about `depth` * 16 KiB of stack, touching all of it. */
static __attribute__((noinline)) long deep(int depth)
{
	volatile char frame[16 * 1024];
	for (size_t i = 0; i < sizeof(frame); i += 512)
		frame[i] = (char)depth;
	return depth == 0 ? frame[0] : deep(depth - 1) + frame[100];
}

static int stack_child(rlim_t limit)
{
	pid_t pid = fork();
	if (pid == 0) {
		struct rlimit rl;
		getrlimit(RLIMIT_STACK, &rl);
		rl.rlim_cur = limit;
		if (setrlimit(RLIMIT_STACK, &rl) != 0)
			_exit(2);
		deep(128); /* 2 MiB */
		_exit(0);
	}
	return wait_status(pid);
}

static void test_stack(void)
{
	int st = stack_child(RLIM_INFINITY);
	CHECK("stack_2mib_within_default", exited_with(st, 0), "child %s", status_text(st));
	st = stack_child(256 * 1024);
	CHECK("stack_growth_past_limit_sigsegv", st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV,
	      "child %s", status_text(st));
}

int main(void)
{
	struct limit64 old, cur;
	CHECK("prlimit64_get", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &old) == 0 && old.cur > 0 &&
				       old.cur <= old.max,
	      "prlimit64: %s, cur %llu max %llu", errno_name(errno), old.cur, old.max);
	struct rlimit rl;
	CHECK("getrlimit_agrees", getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur == old.cur && rl.rlim_max == old.max,
	      "getrlimit cur %lu max %lu", (unsigned long)rl.rlim_cur, (unsigned long)rl.rlim_max);
	CHECK("prlimit64_own_pid", syscall(SYS_prlimit64, getpid(), RLIMIT_NOFILE, NULL, &cur) == 0 && cur.cur == old.cur,
	      "prlimit64(getpid()): %s", errno_name(errno));

	struct limit64 low = {32, old.max};
	struct limit64 prev;
	CHECK("prlimit64_set_returns_old", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &low, &prev) == 0 &&
						   prev.cur == old.cur,
	      "prlimit64 set: %s", errno_name(errno));
	CHECK("new_limit_visible", getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur == 32, "cur %lu",
	      (unsigned long)rl.rlim_cur);

	int last = -1, fd;
	errno = 0;
	while ((fd = open("/dev/null", O_RDONLY)) >= 0)
		last = fd;
	CHECK("open_beyond_limit_emfile", errno == EMFILE && last == 31, "open failed with %s after fd %d",
	      errno_name(errno), last);
	EXPECT_ERRNO("dup_beyond_limit_emfile", dup(0), EMFILE);
	EXPECT_ERRNO("pipe_beyond_limit_emfile", pipe((int[2]){0, 0}), EMFILE);
	close(last);
	EXPECT_ERRNO("dup2_to_fd_above_limit_ebadf", dup2(0, 40), EBADF);
	EXPECT_ERRNO("f_dupfd_above_limit_einval", fcntl(0, F_DUPFD, 40), EINVAL);
	CHECK("closing_one_frees_a_slot", (fd = open("/dev/null", O_RDONLY)) == 31, "open after close gave %d", fd);

	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		getrlimit(RLIMIT_NOFILE, &rl);
		_exit(rl.rlim_cur == 32 ? 0 : 1);
	}
	int status = wait_status(pid);
	CHECK("limit_inherited", exited_with(status, 0), "child %s", status_text(status));
	for (int i = 3; i < 32; i++)
		close(i);

	struct limit64 bad = {old.max + 1, old.max};
	if (old.max != RLIM_INFINITY)
		EXPECT_ERRNO("cur_above_max_einval", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &bad, NULL), EINVAL);
	bad.cur = 100;
	bad.max = 50;
	EXPECT_ERRNO("cur_above_max_einval_2", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &bad, NULL), EINVAL);
	bad.cur = bad.max = 1 << 30;
	EXPECT_ERRNO("nofile_above_nr_open_eperm", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &bad, NULL), EPERM);
	EXPECT_ERRNO("bad_resource_einval", syscall(SYS_prlimit64, 0, 99, NULL, &cur), EINVAL);
	EXPECT_ERRNO("missing_pid_esrch", syscall(SYS_prlimit64, 99999, RLIMIT_NOFILE, NULL, &cur), ESRCH);
	EXPECT_ERRNO("bad_pointer_efault", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, (void *)8), EFAULT);

	/* An unprivileged process may lower its hard limit but not raise it. */
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		if (setuid(1000) != 0)
			_exit(10);
		struct limit64 l = {64, 64};
		if (syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &l, NULL) != 0)
			_exit(11);
		l.max = 128;
		if (syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &l, NULL) == 0 || errno != EPERM)
			_exit(12);
		_exit(0);
	}
	status = wait_status(pid);
	CHECK("unprivileged_raise_hard_eperm", exited_with(status, 0), "child %s (10 setuid, 11 lower, 12 raise)",
	      status_text(status));
	test_thread_shared();
	test_prlimit_permission();
	test_nproc();
	test_wait_rusage();
	test_stack();
	return test_done();
}
