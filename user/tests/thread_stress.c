/*
 * thread_stress: issue 5's "64 threads, mutexes, condition variables and
 * thread-local storage give the same result every run". One mutex guards
 * a bounded producer/consumer queue and a counter; a fixed amount of work
 * (not of time) gives exact totals; every item is consumed and every
 * waiter released (no lost wake-up). Then pthread_cancel of threads
 * blocked in pthread_cond_wait, read and nanosleep (cleanup handlers
 * run), threads exiting while others sleep in syscalls, and detached
 * threads. The whole thing runs three times.
 * Linux: kernel/futex/ (futex_wait/futex_wake/futex_requeue),
 * kernel/signal.c (the SIGCANCEL that musl's pthread_cancel sends),
 * arch/x86/kernel/signal.c (syscall restart under a handler),
 * kernel/exit.c (exit of one thread, CLONE_CHILD_CLEARTID).
 */
#include "test.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#define NTHREADS 64
#define PRODUCERS (NTHREADS / 2)
#define ITEMS_PER_PRODUCER 48
#define TOTAL_ITEMS (PRODUCERS * ITEMS_PER_PRODUCER)
#define QUEUE_CAP 8
#define COUNTER_ROUNDS 40

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;

static long queue[QUEUE_CAP];
static int q_head, q_len;
static long taken, counter;
static long consumed_sum[NTHREADS], consumed_count[NTHREADS];
static int tls_ok[NTHREADS];
static int max_len_seen;

static __thread long tls_sum;
static __thread long tls_count;
static __thread int tls_idx = -1;

/* The value producer `p` makes as its `i`-th item: distinct, so a lost or
 * doubled item changes the sum. */
static long item_value(int p, int i)
{
	return (long)p * 1000 + i + 1;
}

static void bump_counter(void)
{
	pthread_mutex_lock(&lock);
	long c = counter;
	if ((c & 7) == 0)
		sched_yield(); /* keep the lock held across a switch now and then */
	counter = c + 1;
	pthread_mutex_unlock(&lock);
}

static void *producer(void *arg)
{
	int idx = (int)(long)arg;
	tls_idx = idx;
	for (int i = 0; i < ITEMS_PER_PRODUCER; i++) {
		pthread_mutex_lock(&lock);
		while (q_len == QUEUE_CAP)
			pthread_cond_wait(&not_full, &lock);
		queue[(q_head + q_len) % QUEUE_CAP] = item_value(idx, i);
		q_len++;
		if (q_len > max_len_seen)
			max_len_seen = q_len;
		pthread_cond_signal(&not_empty);
		pthread_mutex_unlock(&lock);
		tls_count++;
	}
	for (int i = 0; i < COUNTER_ROUNDS; i++)
		bump_counter();
	tls_ok[idx] = tls_idx == idx && tls_count == ITEMS_PER_PRODUCER && tls_sum == 0;
	return (void *)(long)(idx + 1000);
}

static void *consumer(void *arg)
{
	int idx = (int)(long)arg;
	tls_idx = idx;
	for (;;) {
		pthread_mutex_lock(&lock);
		while (q_len == 0 && taken < TOTAL_ITEMS)
			pthread_cond_wait(&not_empty, &lock);
		if (q_len == 0) {
			/* All taken: the last taker's broadcast woke us. */
			pthread_mutex_unlock(&lock);
			break;
		}
		long v = queue[q_head];
		q_head = (q_head + 1) % QUEUE_CAP;
		q_len--;
		if (++taken == TOTAL_ITEMS)
			pthread_cond_broadcast(&not_empty);
		pthread_cond_signal(&not_full);
		pthread_mutex_unlock(&lock);
		tls_sum += v;
		tls_count++;
	}
	for (int i = 0; i < COUNTER_ROUNDS; i++)
		bump_counter();
	consumed_sum[idx] = tls_sum;
	consumed_count[idx] = tls_count;
	tls_ok[idx] = tls_idx == idx;
	return (void *)(long)(idx + 1000);
}

static void check_queue_round(int round)
{
	char name[64];
	pthread_t th[NTHREADS];
	q_head = q_len = 0;
	taken = counter = 0;
	max_len_seen = 0;
	memset(consumed_sum, 0, sizeof(consumed_sum));
	memset(consumed_count, 0, sizeof(consumed_count));
	memset(tls_ok, 0, sizeof(tls_ok));

	int created = 0;
	for (int i = 0; i < NTHREADS; i++) {
		void *(*fn)(void *) = i < PRODUCERS ? producer : consumer;
		if (pthread_create(&th[i], NULL, fn, (void *)(long)i) != 0)
			break;
		created++;
	}
	snprintf(name, sizeof(name), "round%d_create_64", round);
	CHECK(name, created == NTHREADS, "created %d of %d threads", created, NTHREADS);
	if (created != NTHREADS)
		exit(test_done());

	int joins = 1;
	for (int i = 0; i < NTHREADS; i++) {
		void *ret = NULL;
		if (pthread_join(th[i], &ret) != 0 || ret != (void *)(long)(i + 1000))
			joins = 0;
	}
	long sum = 0, count = 0, want_sum = 0;
	for (int i = PRODUCERS; i < NTHREADS; i++) {
		sum += consumed_sum[i];
		count += consumed_count[i];
	}
	for (int p = 0; p < PRODUCERS; p++)
		for (int i = 0; i < ITEMS_PER_PRODUCER; i++)
			want_sum += item_value(p, i);
	int tls_good = 1;
	for (int i = 0; i < NTHREADS; i++)
		tls_good &= tls_ok[i];

	snprintf(name, sizeof(name), "round%d_all_joined", round);
	CHECK(name, joins, "a join failed or returned the wrong value (a waiter never released?)");
	snprintf(name, sizeof(name), "round%d_items_consumed", round);
	CHECK(name, count == TOTAL_ITEMS && taken == TOTAL_ITEMS && q_len == 0,
	      "consumed %ld, taken %ld, left %d; expected %d", count, taken, q_len, TOTAL_ITEMS);
	snprintf(name, sizeof(name), "round%d_items_sum", round);
	CHECK(name, sum == want_sum, "sum %ld, expected %ld", sum, want_sum);
	snprintf(name, sizeof(name), "round%d_queue_bounded", round);
	CHECK(name, max_len_seen >= 1 && max_len_seen <= QUEUE_CAP, "queue reached %d", max_len_seen);
	snprintf(name, sizeof(name), "round%d_mutex_counter", round);
	CHECK(name, counter == (long)NTHREADS * COUNTER_ROUNDS, "counter %ld, expected %ld", counter,
	      (long)NTHREADS * COUNTER_ROUNDS);
	snprintf(name, sizeof(name), "round%d_tls", round);
	CHECK(name, tls_good, "a thread's __thread state was not its own");
}

/* --- cancellation at cancellation points -------------------------------- */

static pthread_mutex_t cancel_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cancel_cond = PTHREAD_COND_INITIALIZER;
static atomic_int cleanups, blocked;
static int cancel_pipe[2];

static void cleanup_unlock(void *arg)
{
	pthread_mutex_unlock(arg);
	atomic_fetch_add(&cleanups, 1);
}

static void cleanup_count(void *arg)
{
	(void)arg;
	atomic_fetch_add(&cleanups, 1);
}

static void *cancel_in_cond_wait(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&cancel_lock);
	pthread_cleanup_push(cleanup_unlock, &cancel_lock);
	atomic_fetch_add(&blocked, 1);
	for (;;)
		pthread_cond_wait(&cancel_cond, &cancel_lock);
	pthread_cleanup_pop(0);
	return NULL;
}

static void *cancel_in_read(void *arg)
{
	(void)arg;
	char c;
	pthread_cleanup_push(cleanup_count, NULL);
	atomic_fetch_add(&blocked, 1);
	for (;;)
		(void)!read(cancel_pipe[0], &c, 1);
	pthread_cleanup_pop(0);
	return NULL;
}

static void *cancel_in_nanosleep(void *arg)
{
	(void)arg;
	pthread_cleanup_push(cleanup_count, NULL);
	atomic_fetch_add(&blocked, 1);
	for (;;) {
		struct timespec ts = {30, 0};
		nanosleep(&ts, NULL);
	}
	pthread_cleanup_pop(0);
	return NULL;
}

static void check_cancel_round(int round)
{
	char name[64];
	void *(*fns[3])(void *) = {cancel_in_cond_wait, cancel_in_read, cancel_in_nanosleep};
	const char *what[3] = {"cond_wait", "read", "nanosleep"};
	pthread_t th[3];
	atomic_store(&cleanups, 0);
	atomic_store(&blocked, 0);
	REQUIRE_VOID(pipe(cancel_pipe) == 0);
	for (int i = 0; i < 3; i++)
		REQUIRE_VOID(pthread_create(&th[i], NULL, fns[i], NULL) == 0);
	/* Let them reach their blocking call, then give them time to sleep in it. */
	long long start = now_ms();
	while (atomic_load(&blocked) < 3 && now_ms() - start < 5000)
		sched_yield();
	usleep(50 * 1000);
	for (int i = 0; i < 3; i++) {
		void *ret = NULL;
		int cancelled = pthread_cancel(th[i]);
		int joined = pthread_join(th[i], &ret);
		snprintf(name, sizeof(name), "round%d_cancel_in_%s", round, what[i]);
		CHECK(name, cancelled == 0 && joined == 0 && ret == PTHREAD_CANCELED,
		      "cancel %d, join %d, value %p", cancelled, joined, ret);
	}
	snprintf(name, sizeof(name), "round%d_cancel_cleanups_ran", round);
	CHECK(name, atomic_load(&cleanups) == 3, "%d of 3 cleanup handlers ran", atomic_load(&cleanups));
	/* cond_wait's cleanup unlocked the mutex it re-took. */
	int lockable = pthread_mutex_trylock(&cancel_lock);
	if (lockable == 0)
		pthread_mutex_unlock(&cancel_lock);
	snprintf(name, sizeof(name), "round%d_cancel_mutex_released", round);
	CHECK(name, lockable == 0, "trylock after the cancel returned %d", lockable);
	close(cancel_pipe[0]);
	close(cancel_pipe[1]);
}

/* --- exits while others block; detached threads ------------------------ */

#define READERS 8
#define EXITERS 16
#define DETACHED 16

static int exit_pipe[2];
static atomic_int readers_waiting, exiters_done, detached_done;

static void *blocked_reader(void *arg)
{
	(void)arg;
	char c = 0;
	atomic_fetch_add(&readers_waiting, 1);
	ssize_t n = read(exit_pipe[0], &c, 1);
	return (void *)(long)(n == 1 && c == 'r' ? 1 : 0);
}

static void *early_exiter(void *arg)
{
	atomic_fetch_add(&exiters_done, 1);
	pthread_exit(arg);
}

static void *detached_worker(void *arg)
{
	(void)arg;
	bump_counter();
	atomic_fetch_add(&detached_done, 1);
	return NULL;
}

static void check_exit_round(int round)
{
	char name[64];
	pthread_t readers[READERS], exiters[EXITERS];
	atomic_store(&readers_waiting, 0);
	atomic_store(&exiters_done, 0);
	atomic_store(&detached_done, 0);
	counter = 0;
	REQUIRE_VOID(pipe(exit_pipe) == 0);
	for (int i = 0; i < READERS; i++)
		REQUIRE_VOID(pthread_create(&readers[i], NULL, blocked_reader, NULL) == 0);
	long long start = now_ms();
	while (atomic_load(&readers_waiting) < READERS && now_ms() - start < 5000)
		sched_yield();
	for (int i = 0; i < EXITERS; i++)
		REQUIRE_VOID(pthread_create(&exiters[i], NULL, early_exiter, (void *)(long)(i + 7)) == 0);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int detached_created = 0;
	for (int i = 0; i < DETACHED; i++) {
		pthread_t t;
		detached_created += pthread_create(&t, &attr, detached_worker, NULL) == 0;
	}
	pthread_attr_destroy(&attr);

	int exit_values = 1;
	for (int i = 0; i < EXITERS; i++) {
		void *ret = NULL;
		if (pthread_join(exiters[i], &ret) != 0 || ret != (void *)(long)(i + 7))
			exit_values = 0;
	}
	snprintf(name, sizeof(name), "round%d_exit_while_others_block", round);
	CHECK(name, exit_values && atomic_load(&exiters_done) == EXITERS,
	      "pthread_exit values wrong or %d of %d ran", atomic_load(&exiters_done), EXITERS);

	start = now_ms();
	while (atomic_load(&detached_done) < DETACHED && now_ms() - start < 5000)
		usleep(1000);
	snprintf(name, sizeof(name), "round%d_detached_ran", round);
	CHECK(name, detached_created == DETACHED && atomic_load(&detached_done) == DETACHED,
	      "created %d, finished %d of %d", detached_created, atomic_load(&detached_done), DETACHED);

	/* The readers slept through all of that; one byte each releases them. */
	REQUIRE_VOID(write(exit_pipe[1], "rrrrrrrr", READERS) == READERS);
	int reads_ok = 1;
	for (int i = 0; i < READERS; i++) {
		void *ret = NULL;
		if (pthread_join(readers[i], &ret) != 0 || ret != (void *)1L)
			reads_ok = 0;
	}
	snprintf(name, sizeof(name), "round%d_blocked_readers_released", round);
	CHECK(name, reads_ok, "a blocked reader did not get its byte");
	close(exit_pipe[0]);
	close(exit_pipe[1]);
}

int main(void)
{
	long long start = now_ms();
	for (int round = 1; round <= 3; round++) {
		check_queue_round(round);
		check_cancel_round(round);
		check_exit_round(round);
	}
	long long ms = now_ms() - start;
	CHECK("under_20s", ms < 20000, "three rounds took %lld ms", ms);
	return test_done();
}
