#include "test.h"
/*
 * sigaltstack: the alternate signal stack. SA_ONSTACK handlers run on it
 * (also when the main stack overflowed), the frame's uc_stack records it,
 * sigaltstack reports SS_ONSTACK while on it and refuses changes (EPERM),
 * sizes below MINSIGSTKSZ (ENOMEM) and unknown modes (EINVAL);
 * SS_AUTODISARM disarms it inside the handler; fork keeps it, threads
 * and execve start without one.
 * Linux: kernel/signal.c (do_sigaltstack), arch/x86/kernel/signal.c
 * (get_sigframe), kernel/fork.c (sas_ss_reset).
 */
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <ucontext.h>

#define ALT_SIZE (64 * 1024)

static char *alt;
static volatile sig_atomic_t ran, on_alt, report_flags, change_errno, uc_ok, uc_flags;

static int inside(const void *p, const char *base, size_t size)
{
	return (const char *)p > base && (const char *)p <= base + size;
}

static void on_usr1(int sig, siginfo_t *info, void *context)
{
	(void)sig;
	(void)info;
	ucontext_t *uc = context;
	int local;
	ran++;
	on_alt = inside(&local, alt, ALT_SIZE);
	stack_t now;
	sigaltstack(NULL, &now);
	report_flags = now.ss_flags;
	stack_t other = {.ss_sp = alt, .ss_size = ALT_SIZE / 2, .ss_flags = 0};
	errno = 0;
	change_errno = sigaltstack(&other, NULL) == -1 ? errno : 0;
	uc_ok = uc->uc_stack.ss_sp == alt && uc->uc_stack.ss_size == ALT_SIZE;
	uc_flags = uc->uc_stack.ss_flags;
}

static void on_segv(int sig)
{
	int local;
	(void)sig;
	_exit(inside(&local, alt, ALT_SIZE) ? 42 : 43);
}

/* Deep enough to leave the 8 MiB stack; the buffer keeps each frame large. */
static volatile int never = -1;

static int recurse(int depth)
{
	volatile char pad[1024];
	if (depth == never)
		return 0;
	pad[0] = (char)depth;
	return recurse(depth + 1) + pad[0];
}

static int set_alt(int flags)
{
	stack_t ss = {.ss_sp = alt, .ss_size = ALT_SIZE, .ss_flags = flags};
	return sigaltstack(&ss, NULL);
}

static void *thread_main(void *arg)
{
	(void)arg;
	stack_t now;
	if (sigaltstack(NULL, &now) != 0)
		return (void *)1;
	return (void *)(long)(now.ss_flags == SS_DISABLE && now.ss_size == 0 ? 0 : 2);
}

/* The raw call: musl checks ss_size and SS_ONSTACK itself before the kernel sees them. */
static long sys_sigaltstack(const stack_t *ss, stack_t *old)
{
	return syscall(SYS_sigaltstack, ss, old);
}

static void errors(void)
{
	stack_t old;
	CHECK("initially_disabled", sigaltstack(NULL, &old) == 0 && old.ss_flags == SS_DISABLE && old.ss_size == 0,
	      "flags %d size %zu", old.ss_flags, old.ss_size);
	stack_t small = {.ss_sp = alt, .ss_size = MINSIGSTKSZ - 1, .ss_flags = 0};
	EXPECT_ERRNO("below_minsigstksz_enomem", sys_sigaltstack(&small, NULL), ENOMEM);
	small.ss_size = MINSIGSTKSZ;
	EXPECT_OK("minsigstksz_accepted", sys_sigaltstack(&small, NULL));
	stack_t bad = {.ss_sp = alt, .ss_size = ALT_SIZE, .ss_flags = 4};
	EXPECT_ERRNO("bad_flags_einval", sys_sigaltstack(&bad, NULL), EINVAL);
	stack_t onstack = {.ss_sp = alt, .ss_size = ALT_SIZE, .ss_flags = SS_ONSTACK};
	EXPECT_OK("ss_onstack_mode_accepted", sys_sigaltstack(&onstack, NULL));
	EXPECT_ERRNO("bad_pointer_efault", sys_sigaltstack(unmapped_address(), NULL), EFAULT);
	stack_t off = {.ss_flags = SS_DISABLE};
	CHECK("disable_reads_back", sigaltstack(&off, NULL) == 0 && sigaltstack(NULL, &old) == 0 &&
					    old.ss_flags == SS_DISABLE && old.ss_sp == NULL && old.ss_size == 0,
	      "flags %d sp %p size %zu", old.ss_flags, old.ss_sp, old.ss_size);
	CHECK("autodisarm_accepted", set_alt(SS_AUTODISARM) == 0 && sigaltstack(NULL, &old) == 0 &&
					     old.ss_flags == SS_AUTODISARM && old.ss_sp == alt,
	      "flags %#x", old.ss_flags);
}

static void handler_on_stack(void)
{
	struct sigaction sa = {.sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO | SA_ONSTACK};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	set_alt(0);
	raise(SIGUSR1);
	CHECK("onstack_handler_on_alt_stack", ran == 1 && on_alt, "ran %d, on the alt stack %d", (int)ran, (int)on_alt);
	CHECK("ss_onstack_reported_inside", report_flags == SS_ONSTACK, "ss_flags %d", (int)report_flags);
	CHECK("change_while_on_it_eperm", change_errno == EPERM, "got %s", errno_name(change_errno));
	CHECK("frame_uc_stack", uc_ok && uc_flags == 0, "uc_stack differs, ss_flags %d", (int)uc_flags);
	stack_t now;
	CHECK("not_onstack_after_return", sigaltstack(NULL, &now) == 0 && now.ss_flags == 0 && now.ss_sp == alt,
	      "flags %d", now.ss_flags);

	/* Without SA_ONSTACK the handler stays on the main stack. */
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	CHECK("plain_handler_on_main_stack", ran == 2 && !on_alt && report_flags == 0, "on the alt stack %d, flags %d",
	      (int)on_alt, (int)report_flags);

	/* SS_AUTODISARM: disabled inside the handler, back after sigreturn. */
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigaction(SIGUSR1, &sa, NULL);
	set_alt(SS_AUTODISARM);
	raise(SIGUSR1);
	CHECK("autodisarm_disabled_inside", ran == 3 && on_alt && report_flags == SS_DISABLE && change_errno == 0,
	      "on alt %d, flags %d, change %s", (int)on_alt, (int)report_flags, errno_name(change_errno));
	CHECK("autodisarm_in_frame", uc_flags == (int)SS_AUTODISARM, "uc_stack.ss_flags %#x", (unsigned)uc_flags);
	CHECK("autodisarm_restored_by_sigreturn",
	      sigaltstack(NULL, &now) == 0 && now.ss_flags == SS_AUTODISARM && now.ss_size == ALT_SIZE,
	      "flags %#x size %zu", now.ss_flags, now.ss_size);
	set_alt(0);
}

static void overflow(void)
{
	pid_t pid = fork();
	REQUIRE_VOID(pid >= 0);
	if (pid == 0) {
		struct sigaction sa = {.sa_handler = on_segv, .sa_flags = SA_ONSTACK};
		sigemptyset(&sa.sa_mask);
		sigaction(SIGSEGV, &sa, NULL);
		recurse(0);
		_exit(44);
	}
	int status = wait_status(pid);
	CHECK("overflow_handled_on_alt_stack", exited_with(status, 42), "child %s (43: not on the alt stack)",
	      status_text(status));
	pid = fork();
	REQUIRE_VOID(pid >= 0);
	if (pid == 0) {
		stack_t off = {.ss_flags = SS_DISABLE};
		sigaltstack(&off, NULL);
		struct sigaction sa = {.sa_handler = on_segv, .sa_flags = SA_ONSTACK};
		sigemptyset(&sa.sa_mask);
		sigaction(SIGSEGV, &sa, NULL);
		recurse(0);
		_exit(44);
	}
	status = wait_status(pid);
	CHECK("overflow_without_alt_stack_kills", status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
	      "child %s", status_text(status));
}

static void inheritance(const char *self)
{
	pid_t pid = fork();
	REQUIRE_VOID(pid >= 0);
	if (pid == 0) {
		stack_t now;
		_exit(sigaltstack(NULL, &now) == 0 && now.ss_sp == alt && now.ss_size == ALT_SIZE ? 0 : 1);
	}
	int status = wait_status(pid);
	CHECK("fork_inherits", exited_with(status, 0), "child %s", status_text(status));
	pthread_t th;
	void *ret = (void *)-1;
	REQUIRE_VOID(pthread_create(&th, NULL, thread_main, NULL) == 0);
	pthread_join(th, &ret);
	CHECK("new_thread_has_none", ret == NULL, "thread saw %ld", (long)ret);
	pid = fork();
	REQUIRE_VOID(pid >= 0);
	if (pid == 0) {
		execl(self, "sigaltstack", "exec-check", (char *)NULL);
		_exit(9);
	}
	status = wait_status(pid);
	CHECK("execve_clears", exited_with(status, 0), "exec'd child %s", status_text(status));
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "exec-check") == 0) {
		stack_t now;
		return sigaltstack(NULL, &now) == 0 && now.ss_flags == SS_DISABLE && now.ss_size == 0 ? 0 : 3;
	}
	alt = malloc(ALT_SIZE);
	REQUIRE(alt != NULL);
	errors();
	handler_on_stack();
	overflow();
	inheritance(argv[0]);
	return test_done();
}
