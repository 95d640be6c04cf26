/*
 * Threads and futexes: thread_create times pthread_create + pthread_join of
 * a thread that returns at once (clone with CLONE_VM|CLONE_THREAD|..., the
 * new thread's stack and TLS from musl, CLONE_CHILD_CLEARTID waking the
 * joiner through the futex); futex_rtt times a round trip between two
 * threads that hand a turn back and forth through two futex words, each
 * half one FUTEX_WAKE and one FUTEX_WAIT, so each round trip is two
 * wake-ups and two context switches inside one address space (compare
 * pipe_rtt, between processes). Linux: kernel/fork.c, kernel/futex/.
 */
#include "bench.h"

#include <pthread.h>
#include <stdatomic.h>

/* include/uapi/linux/futex.h; musl's headers do not carry it. */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_PRIVATE_FLAG 128

static void *return_at_once(void *arg)
{
	return arg;
}

static int create_join(void)
{
	pthread_t thread;
	int err = pthread_create(&thread, NULL, return_at_once, NULL);
	if (err != 0) {
		errno = err;
		return -1;
	}
	err = pthread_join(thread, NULL);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

/* Whose turn it is: 0 the main thread's, 1 the partner's; -1 ends it. */
static _Atomic int turn;

static long futex(_Atomic int *word, int op, int value)
{
	return syscall(SYS_futex, word, op | FUTEX_PRIVATE_FLAG, value, NULL, NULL, 0);
}

/* Waits until `turn` is `mine` (or -1); returns it. */
static int wait_turn(int mine)
{
	for (;;) {
		int now = atomic_load(&turn);
		if (now == mine || now == -1)
			return now;
		if (futex(&turn, FUTEX_WAIT, now) < 0 && errno != EAGAIN && errno != EINTR)
			return -2;
	}
}

static void pass_turn(int to)
{
	atomic_store(&turn, to);
	futex(&turn, FUTEX_WAKE, 1);
}

static void *partner(void *arg)
{
	while (wait_turn(1) == 1)
		pass_turn(0);
	return arg;
}

static int round_trip(void)
{
	pass_turn(1);
	return wait_turn(0) == 0 ? 0 : -1;
}

int main(void)
{
	bench_run_as("thread_create", 2000, 1, create_join);

	pthread_t thread;
	int err = pthread_create(&thread, NULL, partner, NULL);
	if (err != 0) {
		errno = err;
		bench_fail("pthread_create");
	}
	bench_run_as("futex_rtt", 2000, 1, round_trip);
	pass_turn(-1);
	err = pthread_join(thread, NULL);
	if (err != 0) {
		errno = err;
		bench_fail("pthread_join");
	}
	return 0;
}
