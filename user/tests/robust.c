/*
 * robust: robust futexes. When a thread dies holding a lock listed on its
 * robust list, the kernel marks the futex word FUTEX_OWNER_DIED (keeping
 * FUTEX_WAITERS) and wakes one waiter, so the next pthread_mutex_lock
 * returns EOWNERDEAD; within a process and across processes sharing a
 * MAP_SHARED page. The list walk is checked on a hand-made list too
 * (other owners untouched, list_op_pending handled, a circular list
 * bounded), and set_robust_list/get_robust_list's errors.
 * Linux: kernel/futex/core.c (exit_robust_list, handle_futex_death),
 * kernel/futex/syscalls.c (set_robust_list, get_robust_list).
 */
#include "test.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define FUTEX_WAITERS 0x80000000u
#define FUTEX_OWNER_DIED 0x40000000u

struct robust_head {
	uint64_t next;
	int64_t futex_offset;
	uint64_t pending;
};

struct robust_node {
	uint64_t next;
	uint32_t word;
	uint32_t pad;
};

static long set_robust_list(void *head, size_t len)
{
	return syscall(SYS_set_robust_list, head, len);
}

static long get_robust_list(int pid, void *head_ptr, size_t *len_ptr)
{
	return syscall(SYS_get_robust_list, pid, head_ptr, len_ptr);
}

static void init_robust(pthread_mutex_t *m, int pshared)
{
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	if (pshared)
		pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(m, &attr);
	pthread_mutexattr_destroy(&attr);
}

/* After EOWNERDEAD: consistent, unlock, and the lock is plain again. */
static void check_recovery(const char *prefix, pthread_mutex_t *m, int got)
{
	char name[80];
	snprintf(name, sizeof(name), "%s_lock_eownerdead", prefix);
	CHECK(name, got == EOWNERDEAD, "pthread_mutex_lock returned %d (%s)", got, errno_name(got));
	if (got != EOWNERDEAD && got != 0)
		return;
	int consistent = got == EOWNERDEAD ? pthread_mutex_consistent(m) : -1;
	int unlocked = pthread_mutex_unlock(m);
	int again = pthread_mutex_lock(m);
	snprintf(name, sizeof(name), "%s_consistent_then_lock", prefix);
	CHECK(name, consistent == 0 && unlocked == 0 && again == 0,
	      "consistent %d, unlock %d, lock again %d", consistent, unlocked, again);
	if (again == 0)
		pthread_mutex_unlock(m);
}

/* --- a thread dies holding the lock ------------------------------------ */

static pthread_mutex_t thread_mutex;
static int thread_pipe[2];

static void *hold_and_die(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&thread_mutex);
	(void)!write(thread_pipe[1], "l", 1);
	usleep(100 * 1000); /* let main block in pthread_mutex_lock */
	/* SYS_exit, not pthread_exit: musl's own unlock-on-exit must not run,
	 * so that the kernel's robust-list walk is what releases the lock. */
	syscall(SYS_exit, 0);
	return NULL;
}

static void test_thread_death(void)
{
	pthread_t t;
	char c;
	/* Process-shared: musl hands only those to the kernel's list and
	 * releases private ones itself in pthread_exit. */
	init_robust(&thread_mutex, 1);
	REQUIRE_VOID(pipe(thread_pipe) == 0);
	REQUIRE_VOID(pthread_create(&t, NULL, hold_and_die, NULL) == 0);
	REQUIRE_VOID(read(thread_pipe[0], &c, 1) == 1);
	long long start = now_ms();
	int got = pthread_mutex_lock(&thread_mutex);
	long long waited = now_ms() - start;
	check_recovery("thread", &thread_mutex, got);
	CHECK("thread_waiter_woken", waited < 5000, "the blocked locker waited %lld ms", waited);
	close(thread_pipe[0]);
	close(thread_pipe[1]);
}

/* --- a process dies holding a process-shared lock ---------------------- */

static void test_process_death(int blocked)
{
	const char *prefix = blocked ? "process_blocked" : "process_killed";
	pthread_mutex_t *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE_VOID(m != MAP_FAILED);
	init_robust(m, 1);
	int p[2];
	REQUIRE_VOID(pipe(p) == 0);
	pid_t pid = fork();
	REQUIRE_VOID(pid >= 0);
	if (pid == 0) {
		if (pthread_mutex_lock(m) != 0)
			_exit(1);
		(void)!write(p[1], "l", 1);
		if (blocked) {
			usleep(100 * 1000);
			_exit(0);
		}
		pause();
		_exit(2);
	}
	char c;
	REQUIRE_VOID(read(p[0], &c, 1) == 1);
	if (!blocked) {
		kill(pid, SIGKILL);
		wait_status(pid);
	}
	int got = pthread_mutex_lock(m);
	check_recovery(prefix, m, got);
	if (blocked) {
		int st = wait_status(pid);
		char name[80];
		snprintf(name, sizeof(name), "%s_holder_exited", prefix);
		CHECK(name, exited_with(st, 0), "holder: %s", status_text(st));
	}
	close(p[0]);
	close(p[1]);
	munmap(m, 4096);
}

/* --- the kernel's walk of a hand-made list ----------------------------- */

struct walk_area {
	struct robust_head head;
	struct robust_node node[5];
};

static void walk_child(struct walk_area *w, int circular)
{
	uint32_t tid = (uint32_t)syscall(SYS_gettid);
	uint64_t head = (uint64_t)(uintptr_t)&w->head;
	w->head.futex_offset = (int64_t)offsetof(struct robust_node, word);
	for (int i = 0; i < 5; i++)
		w->node[i].next = (uint64_t)(uintptr_t)&w->node[i + 1];
	w->node[0].word = tid;                     /* held: owner died */
	w->node[1].word = tid | FUTEX_WAITERS;     /* held with waiters */
	w->node[2].word = tid + 1;                 /* someone else's */
	w->node[3].word = 0;                       /* free */
	w->node[4].word = tid;                     /* pending, off the list */
	w->node[3].next = circular ? (uint64_t)(uintptr_t)&w->node[0] : head;
	w->head.next = (uint64_t)(uintptr_t)&w->node[0];
	w->head.pending = (uint64_t)(uintptr_t)&w->node[4];
	if (set_robust_list(&w->head, sizeof(w->head)) != 0)
		_exit(1);
	_exit(0);
}

static void test_walk(int circular)
{
	const char *what = circular ? "walk_circular" : "walk";
	char name[80];
	struct walk_area *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE_VOID(w != MAP_FAILED);
	pid_t pid = fork();
	REQUIRE_VOID(pid >= 0);
	if (pid == 0)
		walk_child(w, circular);
	int st = wait_status(pid);
	snprintf(name, sizeof(name), "%s_child_exited", what);
	CHECK(name, exited_with(st, 0), "child: %s", status_text(st));
	uint32_t tid = (uint32_t)pid;
	snprintf(name, sizeof(name), "%s_owner_died", what);
	CHECK(name, w->node[0].word == FUTEX_OWNER_DIED, "word %#x", w->node[0].word);
	snprintf(name, sizeof(name), "%s_waiters_kept", what);
	CHECK(name, w->node[1].word == (FUTEX_OWNER_DIED | FUTEX_WAITERS), "word %#x", w->node[1].word);
	snprintf(name, sizeof(name), "%s_other_owner_untouched", what);
	CHECK(name, w->node[2].word == tid + 1 && w->node[3].word == 0, "words %#x %#x",
	      w->node[2].word, w->node[3].word);
	snprintf(name, sizeof(name), "%s_pending_handled", what);
	CHECK(name, w->node[4].word == FUTEX_OWNER_DIED, "word %#x", w->node[4].word);
	munmap(w, 4096);
}

/* --- set_robust_list / get_robust_list --------------------------------- */

static void test_syscalls(void)
{
	struct robust_head head;
	void *got = NULL;
	size_t len = 0;
	pthread_mutex_t m;
	init_robust(&m, 1);
	pthread_mutex_lock(&m); /* musl registers its list on first use */
	pthread_mutex_unlock(&m);
	EXPECT_OK("get_self", get_robust_list(0, &got, &len));
	CHECK("get_self_values", got != NULL && len == sizeof(head), "head %p, len %zu", got, len);
	void *by_tid = NULL;
	EXPECT_OK("get_by_tid", get_robust_list(getpid(), &by_tid, &len));
	CHECK("get_by_tid_same", by_tid == got, "head %p, own %p", by_tid, got);
	EXPECT_ERRNO("set_bad_len_einval", set_robust_list(&head, sizeof(head) - 1), EINVAL);
	EXPECT_ERRNO("get_no_such_pid_esrch", get_robust_list(0x3fffffff, &got, &len), ESRCH);
	EXPECT_ERRNO("get_bad_len_ptr_efault", get_robust_list(0, &got, unmapped_address()), EFAULT);
	EXPECT_ERRNO("get_bad_head_ptr_efault", get_robust_list(0, unmapped_address(), &len), EFAULT);

	/* Another user may not read root's list. */
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		if (setuid(1000) != 0)
			_exit(1);
		void *h;
		size_t l;
		errno = 0;
		long r = get_robust_list(parent, &h, &l);
		_exit(r == -1 && errno == EPERM ? 0 : 2);
	}
	int st = wait_status(pid);
	CHECK("get_other_user_eperm", exited_with(st, 0), "child: %s", status_text(st));
}

int main(void)
{
	test_thread_death();
	test_process_death(0);
	test_process_death(1);
	test_walk(0);
	test_walk(1);
	test_syscalls();
	return test_done();
}
