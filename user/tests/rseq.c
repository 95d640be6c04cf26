/*
 * rseq: restartable sequences. Registration and unregistration with
 * Linux's checks (EINVAL for a bad length, alignment, flag or address,
 * EPERM for another signature, EBUSY when registered), cpu_id/cpu_id_start
 * published at registration and reset at unregistration, the registration
 * kept by a fork child, a critical section aborted to its handler when a
 * signal or a preemption interrupts it (rseq_cs cleared), and SIGSEGV for
 * a descriptor whose abort handler lacks the signature.
 * Linux: kernel/rseq.c, include/uapi/linux/rseq.h.
 */
#include "test.h"

#include <signal.h>
#include <stdint.h>
#include <sys/time.h>
#include <sys/wait.h>

#ifndef SYS_rseq
#define SYS_rseq 334
#endif

#define RSEQ_SIG 0x53053053
#define RSEQ_SIG_STR "0x53053053"
#define RSEQ_FLAG_UNREGISTER 1
#define RSEQ_CPU_ID_UNINITIALIZED 0xffffffffu

/* include/uapi/linux/rseq.h */
struct rseq_area {
	volatile uint32_t cpu_id_start;
	volatile uint32_t cpu_id;
	volatile uint64_t rseq_cs;
	volatile uint32_t flags;
	volatile uint32_t node_id;
	volatile uint32_t mm_cid;
} __attribute__((aligned(32)));

static struct rseq_area area, other;
static char raw[96] __attribute__((aligned(32)));

static long sys_rseq(void *rseq, uint32_t len, int flags, uint32_t sig)
{
	return syscall(SYS_rseq, rseq, len, flags, sig);
}

static unsigned getcpu_now(void)
{
	unsigned cpu = 0;
	syscall(SYS_getcpu, &cpu, NULL, NULL);
	return cpu;
}

/*
 * Spins inside a critical section [1, 2) until the kernel moves it to the
 * abort handler 4 (preceded by the signature); returns whether it did.
 */
__attribute__((noinline)) static int spin_until_abort(void)
{
	int aborted = 0;
	__asm__ __volatile__(".pushsection .data.rseq_test, \"aw\"\n\t"
			     ".balign 32\n"
			     "3:\n\t"
			     ".long 0, 0\n\t"
			     ".quad 1f, 2f - 1f, 4f\n\t"
			     ".popsection\n\t"
			     "leaq 3b(%%rip), %%rax\n\t"
			     "movq %%rax, %[cs]\n"
			     "1:\n\t"
			     "jmp 1b\n"
			     "2:\n\t"
			     "jmp 5f\n\t"
			     ".long " RSEQ_SIG_STR "\n"
			     "4:\n\t"
			     "movl $1, %[ab]\n"
			     "5:\n"
			     : [ab] "+m"(aborted), [cs] "=m"(area.rseq_cs)
			     :
			     : "rax", "memory", "cc");
	return aborted;
}

static volatile sig_atomic_t alarms;

static void on_signal(int sig)
{
	(void)sig;
	alarms++;
}

/* A descriptor whose abort handler is not preceded by the signature. */
static struct {
	uint32_t version, flags;
	uint64_t start_ip, post_commit_offset, abort_ip;
} bad_cs __attribute__((aligned(32)));

/* Waits up to 5 s for `pid`; kills it if it is still running. */
static int wait_bounded(pid_t pid)
{
	int status = 0;
	for (int i = 0; i < 500; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

/* Child: still registered after fork, then aborted by SIGALRM or a
 * preemption, whichever comes first. */
static void child_abort(void)
{
	if (sys_rseq(&area, 32, 0, RSEQ_SIG) != -1 || errno != EBUSY)
		_exit(2);
	if (area.cpu_id != getcpu_now())
		_exit(3);
	signal(SIGALRM, on_signal);
	struct itimerval it = { .it_value = { .tv_usec = 20000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	/* The parent's polling may preempt the spin before the alarm: either
	 * event aborts the critical section. */
	if (!spin_until_abort())
		_exit(4);
	_exit(area.rseq_cs == 0 ? 0 : 5);
}

/* Child: a signal while rseq_cs names a bad descriptor is SIGSEGV. */
static void child_bad_signature(void)
{
	bad_cs.start_ip = (uintptr_t)&child_bad_signature;
	bad_cs.post_commit_offset = 1;
	/* `raw` holds no signature before it. */
	bad_cs.abort_ip = (uintptr_t)&raw[64];
	signal(SIGUSR1, on_signal);
	area.rseq_cs = (uintptr_t)&bad_cs;
	raise(SIGUSR1);
	_exit(0);
}

static void test_registration_errors(void)
{
	EXPECT_ERRNO("len_too_short", sys_rseq(&area, 16, 0, RSEQ_SIG), EINVAL);
	EXPECT_ERRNO("misaligned", sys_rseq(raw + 4, 32, 0, RSEQ_SIG), EINVAL);
	EXPECT_ERRNO("unknown_flag", sys_rseq(&area, 32, 2, RSEQ_SIG), EINVAL);
	EXPECT_ERRNO("unregister_unregistered",
		     sys_rseq(&area, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG), EINVAL);
	EXPECT_ERRNO("kernel_address", sys_rseq((void *)0xffff888000000000ull, 32, 0, RSEQ_SIG),
		     EFAULT);
}

static void test_registered(void)
{
	area.cpu_id = RSEQ_CPU_ID_UNINITIALIZED;
	area.cpu_id_start = 12345;
	area.rseq_cs = 0x1234; /* stale: cleared at registration */
	EXPECT_OK("register", sys_rseq(&area, 32, 0, RSEQ_SIG));
	unsigned cpu = getcpu_now();
	CHECK("cpu_id", area.cpu_id == cpu && area.cpu_id_start == cpu,
	      "cpu_id %u cpu_id_start %u, getcpu %u", area.cpu_id, area.cpu_id_start, cpu);
	CHECK("stale_rseq_cs_cleared", area.rseq_cs == 0, "rseq_cs %#llx",
	      (unsigned long long)area.rseq_cs);
	EXPECT_ERRNO("again_ebusy", sys_rseq(&area, 32, 0, RSEQ_SIG), EBUSY);
	EXPECT_ERRNO("other_area", sys_rseq(&other, 32, 0, RSEQ_SIG), EINVAL);
	EXPECT_ERRNO("other_len", sys_rseq(&area, 64, 0, RSEQ_SIG), EINVAL);
	EXPECT_ERRNO("other_sig", sys_rseq(&area, 32, 0, RSEQ_SIG + 1), EPERM);
	EXPECT_ERRNO("unregister_other_sig",
		     sys_rseq(&area, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG + 1), EPERM);
	EXPECT_ERRNO("unregister_other_area",
		     sys_rseq(&other, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG), EINVAL);
	EXPECT_ERRNO("unregister_bad_flag", sys_rseq(&area, 32, RSEQ_FLAG_UNREGISTER | 2, RSEQ_SIG),
		     EINVAL);

	pid_t pid = fork();
	if (pid == 0)
		child_abort();
	int status = pid > 0 ? wait_bounded(pid) : -1;
	CHECK("fork_keeps_and_signal_aborts", status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "child status %#x (2: not registered, 3: cpu_id, 5: rseq_cs kept; -1: spun 5 s)", status);

	pid = fork();
	if (pid == 0)
		child_bad_signature();
	status = pid > 0 ? wait_bounded(pid) : -1;
	CHECK("bad_signature_sigsegv", status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
	      "child status %#x", status);

	EXPECT_OK("unregister", sys_rseq(&area, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG));
	CHECK("unregister_resets", area.cpu_id == RSEQ_CPU_ID_UNINITIALIZED && area.cpu_id_start == 0,
	      "cpu_id %#x cpu_id_start %u", area.cpu_id, area.cpu_id_start);
	EXPECT_ERRNO("unregister_twice", sys_rseq(&area, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG), EINVAL);
	EXPECT_OK("register_again", sys_rseq(&area, 32, 0, RSEQ_SIG));
	EXPECT_OK("unregister_again", sys_rseq(&area, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG));
}

int main(void)
{
	test_registration_errors();
	test_registered();
	return test_done();
}
