/*
 * threads: clone(CLONE_THREAD) through musl's pthreads, futex(2), thread
 * groups (getpid/gettid, exit_group, signals to the process and to one
 * thread), robust-list registration, and the clone flag rules.
 * Linux: kernel/fork.c (copy_process), kernel/futex/, kernel/exit.c
 * (do_group_exit, zap_other_threads), kernel/signal.c (complete_signal).
 */
#include "test.h"

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <time.h>

/* From linux/futex.h, which musl's headers do not carry. */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAIT_BITSET 9
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_WAIT_PRIVATE (FUTEX_WAIT | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_PRIVATE (FUTEX_WAKE | FUTEX_PRIVATE_FLAG)
#define FUTEX_CMP_REQUEUE_PRIVATE (FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAIT_BITSET_PRIVATE (FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG)
#define FUTEX_BITSET_MATCH_ANY -1

static long futex(void *uaddr, int op, int val, const struct timespec *ts, void *uaddr2, int val3)
{
	return syscall(SYS_futex, uaddr, op, val, ts, uaddr2, val3);
}

/* --- many threads: mutex, condition variable, TLS, join values --------- */

#define ROUNDS 200

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long counter;
static int go, done, turn, nthreads;
static __thread int tls_val = 7;
static pid_t tids[64], pids[64];
static int tls_ok[64], handoffs[64];

static void *worker(void *arg)
{
	int idx = (int)(long)arg;
	int tls_start = tls_val;
	tls_val = idx * 3;
	tids[idx] = gettid();
	pids[idx] = getpid();

	pthread_mutex_lock(&lock);
	while (!go)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);

	for (int i = 0; i < ROUNDS; i++) {
		pthread_mutex_lock(&lock);
		long c = counter;
		if (i % 16 == 0)
			sched_yield(); /* let others pile up on the mutex */
		counter = c + 1;
		pthread_mutex_unlock(&lock);
	}

	/* A hand-off: each thread takes its turn once, in order. */
	pthread_mutex_lock(&lock);
	while (turn != idx)
		pthread_cond_wait(&cond, &lock);
	handoffs[idx] = 1;
	turn++;
	pthread_cond_broadcast(&cond);
	done++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);

	tls_ok[idx] = tls_start == 7 && tls_val == idx * 3;
	return (void *)(long)(idx + 100);
}

static void run_group(int n, const char *tag)
{
	char name[64];
	pthread_t th[64];
	counter = 0;
	go = done = turn = 0;
	nthreads = n;
	memset(tids, 0, sizeof(tids));
	memset(tls_ok, 0, sizeof(tls_ok));
	memset(handoffs, 0, sizeof(handoffs));
	int created = 0;
	for (int i = 0; i < n; i++) {
		if (pthread_create(&th[i], NULL, worker, (void *)(long)i) != 0)
			break;
		created++;
	}
	snprintf(name, sizeof(name), "%s_create", tag);
	CHECK(name, created == n, "created %d of %d threads", created, n);
	if (created != n) {
		/* Let the ones that exist finish; they wait for turns that never come otherwise. */
		exit(test_done());
	}
	pthread_mutex_lock(&lock);
	go = 1;
	pthread_cond_broadcast(&cond);
	while (done < n)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);

	int joined_ok = 1, tls_good = 1, tid_distinct = 1, pid_same = 1, turns = 1;
	for (int i = 0; i < n; i++) {
		void *ret = NULL;
		if (pthread_join(th[i], &ret) != 0 || ret != (void *)(long)(i + 100))
			joined_ok = 0;
		tls_good &= tls_ok[i];
		turns &= handoffs[i];
		if (pids[i] != getpid())
			pid_same = 0;
		if (tids[i] == getpid() || tids[i] <= 0)
			tid_distinct = 0;
		for (int j = 0; j < i; j++)
			if (tids[j] == tids[i])
				tid_distinct = 0;
	}
	snprintf(name, sizeof(name), "%s_mutex_counter", tag);
	CHECK(name, counter == (long)n * ROUNDS, "counter %ld, expected %ld", counter, (long)n * ROUNDS);
	snprintf(name, sizeof(name), "%s_cond_handoff", tag);
	CHECK(name, turns && turn == n, "turn reached %d of %d", turn, n);
	snprintf(name, sizeof(name), "%s_join_values", tag);
	CHECK(name, joined_ok, "a pthread_join failed or returned the wrong value");
	snprintf(name, sizeof(name), "%s_tls", tag);
	CHECK(name, tls_good, "a thread saw another's __thread value or not the initial one");
	snprintf(name, sizeof(name), "%s_gettid_distinct", tag);
	CHECK(name, tid_distinct, "thread ids are not distinct from each other and from getpid()");
	snprintf(name, sizeof(name), "%s_getpid_shared", tag);
	CHECK(name, pid_same, "a thread's getpid() differs from the process's");
}

/* --- futex ------------------------------------------------------------- */

static int wake_word;
static long wait_ret = -2;
static int wait_errno;

static void *futex_waiter(void *arg)
{
	(void)arg;
	struct timespec ts = {5, 0};
	wait_ret = futex(&wake_word, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
	wait_errno = errno;
	return NULL;
}

/* Wakes `word` until one waiter was woken, or about two seconds pass. */
static long wake_one(int *word, int op)
{
	for (int i = 0; i < 400; i++) {
		long n = futex(word, op, 1, NULL, NULL, 0);
		if (n != 0)
			return n;
		usleep(5000);
	}
	return 0;
}

static void test_futex(void)
{
	int word = 5;
	struct timespec ts = {0, 50 * 1000 * 1000};
	EXPECT_ERRNO("futex_wait_value_mismatch_eagain", futex(&word, FUTEX_WAIT_PRIVATE, 4, &ts, NULL, 0), EAGAIN);

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	EXPECT_ERRNO("futex_wait_timeout_etimedout", futex(&word, FUTEX_WAIT_PRIVATE, 5, &ts, NULL, 0), ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	CHECK("futex_wait_timeout_waited", ms >= 40, "returned after %ld ms, timeout 50 ms", ms);

	struct timespec abs;
	clock_gettime(CLOCK_MONOTONIC, &abs);
	abs.tv_nsec += 30 * 1000 * 1000;
	if (abs.tv_nsec >= 1000000000) {
		abs.tv_sec++;
		abs.tv_nsec -= 1000000000;
	}
	EXPECT_ERRNO("futex_wait_bitset_absolute_etimedout",
		     futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 5, &abs, NULL, FUTEX_BITSET_MATCH_ANY), ETIMEDOUT);
	clock_gettime(CLOCK_REALTIME, &abs);
	abs.tv_nsec += 30 * 1000 * 1000;
	if (abs.tv_nsec >= 1000000000) {
		abs.tv_sec++;
		abs.tv_nsec -= 1000000000;
	}
	EXPECT_ERRNO("futex_wait_bitset_realtime_etimedout",
		     futex(&word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 5, &abs, NULL, FUTEX_BITSET_MATCH_ANY),
		     ETIMEDOUT);
	EXPECT_ERRNO("futex_wait_bitset_zero_einval", futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 5, &ts, NULL, 0), EINVAL);
	EXPECT_ERRNO("futex_misaligned_einval", futex((char *)&word + 1, FUTEX_WAIT_PRIVATE, 5, &ts, NULL, 0), EINVAL);
	EXPECT_ERRNO("futex_bad_address_efault", futex((void *)4096, FUTEX_WAIT_PRIVATE, 5, &ts, NULL, 0), EFAULT);
	EXPECT_ERRNO("futex_unknown_op_enosys", futex(&word, 99, 0, NULL, NULL, 0), ENOSYS);
	EXPECT_ERRNO("futex_clock_realtime_on_wait_enosys",
		     futex(&word, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 5, &ts, NULL, 0), ENOSYS);
	CHECK("futex_wake_nobody_zero", futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) == 0,
	      "FUTEX_WAKE with no waiter did not return 0");

	pthread_t th;
	REQUIRE_VOID(pthread_create(&th, NULL, futex_waiter, NULL) == 0);
	long woken = wake_one(&wake_word, FUTEX_WAKE_PRIVATE);
	pthread_join(th, NULL);
	CHECK("futex_wake_wakes_waiter", woken == 1 && wait_ret == 0, "FUTEX_WAKE returned %ld, the wait %ld (%s)",
	      woken, wait_ret, errno_name(wait_errno));

	/* Requeue: a waiter on `wake_word` moved to `word2`, then woken there. */
	static int word2;
	wait_ret = -2;
	REQUIRE_VOID(pthread_create(&th, NULL, futex_waiter, NULL) == 0);
	long moved = 0;
	for (int i = 0; i < 400 && moved == 0; i++) {
		moved = futex(&wake_word, FUTEX_CMP_REQUEUE_PRIVATE, 0, (void *)(long)INT_MAX, &word2, 0);
		if (moved == 0)
			usleep(5000);
	}
	EXPECT_ERRNO("futex_cmp_requeue_mismatch_eagain",
		     futex(&wake_word, FUTEX_CMP_REQUEUE_PRIVATE, 0, (void *)1L, &word2, 1), EAGAIN);
	woken = wake_one(&word2, FUTEX_WAKE_PRIVATE);
	pthread_join(th, NULL);
	CHECK("futex_cmp_requeue_moves_waiter", moved == 1 && woken == 1 && wait_ret == 0,
	      "requeued %ld, woken on the second word %ld, wait returned %ld", moved, woken, wait_ret);

	/* A shared futex in MAP_SHARED memory meets across fork. */
	int *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE_VOID(shared != MAP_FAILED);
	*shared = 0;
	pid_t child = fork();
	REQUIRE_VOID(child >= 0);
	if (child == 0) {
		struct timespec five = {5, 0};
		_exit(futex(shared, FUTEX_WAIT, 0, &five, NULL, 0) == 0 ? 0 : 1);
	}
	woken = wake_one(shared, FUTEX_WAKE);
	int status = wait_status(child);
	CHECK("futex_shared_across_fork", woken == 1 && exited_with(status, 0), "woken %ld, child %s", woken,
	      status_text(status));
	munmap(shared, 4096);
}

/* --- thread groups ----------------------------------------------------- */

static void *exit_group_thread(void *arg)
{
	(void)arg;
	usleep(10000);
	exit(7); /* exit_group: takes the blocked main thread with it */
}

static void *blocked_thread(void *arg)
{
	(void)arg;
	int never = 0;
	futex(&never, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	return NULL;
}

static void test_exit_group(void)
{
	pid_t child = fork();
	REQUIRE_VOID(child >= 0);
	if (child == 0) {
		pthread_t a, b;
		if (pthread_create(&b, NULL, blocked_thread, NULL) != 0)
			_exit(2);
		if (pthread_create(&a, NULL, exit_group_thread, NULL) != 0)
			_exit(3);
		for (;;)
			pause();
	}
	int status = wait_status(child);
	CHECK("exit_group_from_thread_ends_process", exited_with(status, 7), "child %s, expected exit 7",
	      status_text(status));

	/* A fatal signal ends every thread. */
	child = fork();
	REQUIRE_VOID(child >= 0);
	if (child == 0) {
		pthread_t b;
		if (pthread_create(&b, NULL, blocked_thread, NULL) != 0)
			_exit(2);
		for (;;)
			pause();
	}
	usleep(20000);
	kill(child, SIGTERM);
	status = wait_status(child);
	CHECK("fatal_signal_ends_all_threads", WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
	      "child %s, expected signal %d", status_text(status), SIGTERM);

	/* The main thread leaves with pthread_exit; the process lives on in its thread. */
	child = fork();
	REQUIRE_VOID(child >= 0);
	if (child == 0) {
		pthread_t a;
		if (pthread_create(&a, NULL, exit_group_thread, NULL) != 0)
			_exit(3);
		pthread_exit(NULL);
	}
	status = wait_status(child);
	CHECK("leader_waits_for_last_thread", exited_with(status, 7), "child %s, expected exit 7",
	      status_text(status));
}

static volatile pid_t handled_by, tg_handled_by;
static volatile int ready;

static void on_usr1(int sig)
{
	(void)sig;
	handled_by = gettid();
}

static void on_usr2(int sig)
{
	(void)sig;
	tg_handled_by = gettid();
}

static void *signal_thread(void *arg)
{
	pid_t *me = arg;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	*me = gettid();
	ready = 1;
	for (int i = 0; i < 400 && !handled_by; i++)
		usleep(5000);
	/* The tgkill'd SIGUSR2 waits, blocked, in this thread: unblocking takes it here. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	return NULL;
}

static void test_signals(void)
{
	signal(SIGUSR1, on_usr1);
	signal(SIGUSR2, on_usr2);
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	pid_t tid = 0;
	pthread_t th;
	REQUIRE_VOID(pthread_create(&th, NULL, signal_thread, &tid) == 0);
	while (!ready)
		sched_yield();
	/* SIGUSR2 is blocked in the thread too: tgkill makes it the thread's own pending signal. */
	syscall(SYS_tgkill, getpid(), tid, SIGUSR2);
	kill(getpid(), SIGUSR1);
	for (int i = 0; i < 100 && !handled_by; i++)
		usleep(5000);
	CHECK("process_signal_taken_by_unblocking_thread", handled_by == tid, "handled by %d, thread is %d",
	      (int)handled_by, (int)tid);
	sigset_t pending;
	sigemptyset(&pending);
	sigpending(&pending);
	CHECK("tgkill_pending_on_target_thread_only", !sigismember(&pending, SIGUSR2),
	      "SIGUSR2 sent to the thread is pending in the main thread");
	pthread_join(th, NULL);
	CHECK("tgkill_handled_by_target_thread", tg_handled_by == tid, "handled by %d, thread is %d",
	      (int)tg_handled_by, (int)tid);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	EXPECT_ERRNO("tgkill_wrong_group_esrch", syscall(SYS_tgkill, getpid() + 100000, tid, 0), ESRCH);
}

static volatile int usr1_seen;

static void note_usr1(int sig)
{
	(void)sig;
	usr1_seen = 1;
}

static void *waits_for_usr1(void *arg)
{
	(void)arg;
	for (int i = 0; i < 400 && !usr1_seen; i++)
		usleep(5000);
	exit(usr1_seen ? 11 : 12);
}

static int intr_word;
static volatile pid_t intr_tid;
static long intr_ret;
static int intr_errno;

static void on_usr2_plain(int sig)
{
	(void)sig;
}

static void *futex_intr_waiter(void *arg)
{
	(void)arg;
	struct timespec ts = {5, 0};
	intr_tid = gettid();
	intr_ret = futex(&intr_word, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
	intr_errno = errno;
	return NULL;
}

/* A handler without SA_RESTART ends a futex wait with EINTR. */
static void test_futex_eintr(void)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_usr2_plain;
	sigaction(SIGUSR2, &sa, NULL);
	pthread_t th;
	REQUIRE_VOID(pthread_create(&th, NULL, futex_intr_waiter, NULL) == 0);
	while (!intr_tid)
		sched_yield();
	usleep(50000);
	syscall(SYS_tgkill, getpid(), intr_tid, SIGUSR2);
	pthread_join(th, NULL);
	CHECK("futex_wait_signal_eintr", intr_ret == -1 && intr_errno == EINTR, "wait returned %ld (%s)", intr_ret,
	      errno_name(intr_errno));
	signal(SIGUSR2, SIG_DFL);
}

static pid_t sibling_child;

static void *wait_for_sibling_child(void *arg)
{
	(void)arg;
	return (void *)(long)wait_status(sibling_child);
}

static void test_group_wait_and_signal(void)
{
	/* A child forked by one thread is waited for by another. */
	sibling_child = fork();
	REQUIRE_VOID(sibling_child >= 0);
	if (sibling_child == 0)
		_exit(9);
	pthread_t th;
	void *ret = NULL;
	REQUIRE_VOID(pthread_create(&th, NULL, wait_for_sibling_child, NULL) == 0);
	pthread_join(th, &ret);
	CHECK("wait_for_child_of_other_thread", exited_with((int)(long)ret, 9), "waitpid in a thread gave %s",
	      status_text((int)(long)ret));

	/* After the main thread is gone, kill() reaches the thread that lives on. */
	pid_t child = fork();
	REQUIRE_VOID(child >= 0);
	if (child == 0) {
		signal(SIGUSR1, note_usr1);
		pthread_t t;
		if (pthread_create(&t, NULL, waits_for_usr1, NULL) != 0)
			_exit(3);
		pthread_exit(NULL);
	}
	usleep(50000);
	kill(child, SIGUSR1);
	int status = wait_status(child);
	CHECK("signal_after_leader_exit_reaches_thread", exited_with(status, 11), "child %s, expected exit 11",
	      status_text(status));
}

/* --- exec from a thread ----------------------------------------------- */

static char *self_path;
static char expected_pid[16];

static void *exec_thread(void *arg)
{
	(void)arg;
	char *argv[] = {self_path, "exec-child", expected_pid, NULL};
	execv(self_path, argv);
	_exit(5);
}

static void test_exec_from_thread(void)
{
	pid_t child = fork();
	REQUIRE_VOID(child >= 0);
	if (child == 0) {
		pthread_t a, b;
		snprintf(expected_pid, sizeof(expected_pid), "%d", getpid());
		if (pthread_create(&b, NULL, blocked_thread, NULL) != 0)
			_exit(2);
		if (pthread_create(&a, NULL, exec_thread, NULL) != 0)
			_exit(3);
		for (;;)
			pause();
	}
	int status = wait_status(child);
	CHECK("exec_from_thread_kills_others_keeps_pid", exited_with(status, 42),
	      "child %s, expected exit 42 (43: getpid changed)", status_text(status));
}

/* --- robust list, clone flags ------------------------------------------ */

static void test_robust_and_clone(void)
{
	struct {
		void *next;
		long offset;
		void *pending;
	} head = {&head, 0, NULL};
	EXPECT_OK("set_robust_list", syscall(SYS_set_robust_list, &head, sizeof(head)));
	void *got = NULL;
	size_t len = 0;
	EXPECT_OK("get_robust_list", syscall(SYS_get_robust_list, 0, &got, &len));
	CHECK("get_robust_list_values", got == &head && len == sizeof(head), "got %p len %zu", got, len);
	EXPECT_ERRNO("set_robust_list_bad_len_einval", syscall(SYS_set_robust_list, &head, sizeof(head) - 1),
		     EINVAL);
	EXPECT_ERRNO("clone_thread_without_sighand_einval", syscall(SYS_clone, CLONE_THREAD | CLONE_VM, 0, 0, 0, 0),
		     EINVAL);
	EXPECT_ERRNO("clone_sighand_without_vm_einval", syscall(SYS_clone, CLONE_SIGHAND, 0, 0, 0, 0), EINVAL);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "exec-child") == 0)
		return getpid() == atoi(argv[2]) ? 42 : 43;
	self_path = argv[0];
	run_group(8, "threads8");
	run_group(64, "threads64");
	test_futex();
	test_exit_group();
	test_signals();
	test_group_wait_and_signal();
	test_futex_eintr();
	test_exec_from_thread();
	test_robust_and_clone();
	return test_done();
}
