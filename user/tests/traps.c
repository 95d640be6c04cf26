#include "test.h"
/*
 * CPU exceptions in user mode become the signals Linux sends, with its
 * si_code and si_addr: divide by zero is SIGFPE/FPE_INTDIV at the divide,
 * ud2 SIGILL/ILL_ILLOPN at the ud2, int3 SIGTRAP/SI_KERNEL (and the
 * program goes on after it), and privileged instructions (hlt, a write to
 * cr3) a #GP, SIGSEGV/SI_KERNEL with si_addr 0. Page faults (SEGV_MAPERR,
 * SEGV_ACCERR) are checked in mmap.c.
 * Linux: arch/x86/kernel/traps.c (do_error_trap, do_int3_user,
 * exc_general_protection), kernel/signal.c (force_sig_fault, force_sig).
 */
#include <signal.h>

static sigjmp_buf trap_jump;
static volatile sig_atomic_t trap_signo, trap_code, trap_hits;
static void *volatile trap_addr;

static void on_trap(int sig, siginfo_t *info, void *ctx)
{
	(void)ctx;
	trap_hits++;
	trap_signo = sig;
	trap_code = info->si_code;
	trap_addr = info->si_addr;
	if (sig != SIGTRAP)
		siglongjmp(trap_jump, 1);
}

/* The instructions, each at a global label so the test knows its address. */
__attribute__((noinline)) static void do_div0(void)
{
	__asm__ volatile(".globl traps_div_insn\ntraps_div_insn: divl %%ecx" ::"a"(1), "d"(0), "c"(0));
}

__attribute__((noinline)) static void do_ud2(void)
{
	__asm__ volatile(".globl traps_ud2_insn\ntraps_ud2_insn: ud2");
}

__attribute__((noinline)) static void do_int3(void)
{
	__asm__ volatile("int3");
}

__attribute__((noinline)) static void do_hlt(void)
{
	__asm__ volatile("hlt");
}

__attribute__((noinline)) static void do_mov_cr3(void)
{
	__asm__ volatile("mov %0, %%cr3" ::"r"(0UL));
}

extern char traps_div_insn[], traps_ud2_insn[];

/* Runs `fn` and says whether it trapped out through siglongjmp. */
static int trapped(void (*fn)(void))
{
	trap_signo = 0;
	trap_code = 0;
	trap_addr = (void *)-1;
	trap_hits = 0;
	if (sigsetjmp(trap_jump, 1) == 0) {
		fn();
		return 0;
	}
	return 1;
}

static void check_fault(const char *name, void (*fn)(void), int signo, int code, void *addr)
{
	int t = trapped(fn);
	CHECK(name, t && trap_signo == signo && trap_code == code && trap_addr == addr,
	      "trapped %d: signal %d code %d addr %p, expected %d/%d at %p", t, (int)trap_signo, (int)trap_code,
	      trap_addr, signo, code, addr);
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_trap;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	int sigs[] = {SIGFPE, SIGILL, SIGSEGV, SIGTRAP, SIGBUS};
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		REQUIRE(sigaction(sigs[i], &sa, NULL) == 0);

	check_fault("div0_sigfpe_intdiv", do_div0, SIGFPE, FPE_INTDIV, traps_div_insn);
	check_fault("ud2_sigill_illopn", do_ud2, SIGILL, ILL_ILLOPN, traps_ud2_insn);
	check_fault("hlt_sigsegv_si_kernel", do_hlt, SIGSEGV, SI_KERNEL, NULL);
	check_fault("mov_cr3_sigsegv_si_kernel", do_mov_cr3, SIGSEGV, SI_KERNEL, NULL);

	/* int3 is a trap: the handler returns and the program goes on. */
	int t = trapped(do_int3);
	CHECK("int3_sigtrap_si_kernel", !t && trap_hits == 1 && trap_signo == SIGTRAP && trap_code == SI_KERNEL,
	      "trapped %d, %d signals: signal %d code %d", t, (int)trap_hits, (int)trap_signo, (int)trap_code);

	/* With the signal blocked, a fault kills rather than loops (Linux:
	 * force_sig_info_to_task unblocks and resets the handler). */
	pid_t pid = fork();
	if (pid == 0) {
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGFPE);
		sigprocmask(SIG_BLOCK, &set, NULL);
		do_div0();
		_exit(0);
	}
	int status = wait_status(pid);
	CHECK("blocked_sigfpe_kills", WIFSIGNALED(status) && WTERMSIG(status) == SIGFPE, "status %#x", status);
	return test_done();
}
