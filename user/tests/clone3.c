/*
 * clone3: the size-versioned struct clone_args (too small: EINVAL; larger
 * with a non-zero tail: E2BIG; larger with zeros: accepted), exit_signal,
 * CLONE_PARENT_SETTID, CLONE_CLEAR_SIGHAND, CLONE_NEWPID, and the argument
 * rules clone3 adds to clone's (flags in the CSIGNAL bits, CLONE_DETACHED,
 * unknown high flags, a stack without a size, set_tid sizes, an exit
 * signal for a thread or a sibling).
 * Linux: kernel/fork.c (copy_clone_args_from_user, clone3_args_valid,
 * clone3_stack_valid), include/uapi/linux/sched.h (struct clone_args).
 */
#include "test.h"

#include <sched.h>
#include <signal.h>
#include <stdint.h>

#define CLONE_ARGS_SIZE_VER0 64
#define CLONE_ARGS_SIZE_VER2 88
#ifndef CLONE_CLEAR_SIGHAND
#define CLONE_CLEAR_SIGHAND 0x100000000ULL
#endif
#ifndef __WALL
#define __WALL 0x40000000
#endif

struct clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
	/* Room for a "future" field, to test size versioning. */
	uint64_t future[2];
};

static long clone3(struct clone_args *args, size_t size)
{
	return syscall(SYS_clone3, args, size);
}

/* A fork through clone3: the child exits at once with `code`; returns the
 * child's wait status through `status` and clone3's return value. */
static long clone3_fork(struct clone_args *args, size_t size, int code, int *status)
{
	long pid = clone3(args, size);
	if (pid == 0)
		_exit(code);
	*status = -1;
	if (pid > 0) {
		int flags = args->exit_signal == SIGCHLD ? 0 : __WALL;
		while (waitpid((pid_t)pid, status, flags) < 0 && errno == EINTR)
			;
	}
	return pid;
}

static void test_sizes(void)
{
	struct clone_args a = {.exit_signal = SIGCHLD};
	int status;
	long pid = clone3_fork(&a, CLONE_ARGS_SIZE_VER0, 7, &status);
	CHECK("ver0_size_forks", pid > 0 && exited_with(status, 7), "clone3 %ld (%s), child %s", pid,
	      errno_name(errno), status_text(status));
	pid = clone3_fork(&a, sizeof(a), 8, &status);
	CHECK("larger_zero_tail_accepted", pid > 0 && exited_with(status, 8), "clone3 %ld (%s)", pid,
	      errno_name(errno));
	EXPECT_ERRNO("smaller_than_ver0_einval", clone3(&a, CLONE_ARGS_SIZE_VER0 - 8), EINVAL);
	a.future[1] = 1;
	EXPECT_ERRNO("nonzero_tail_e2big", clone3(&a, sizeof(a)), E2BIG);
	a.future[1] = 0;
	EXPECT_ERRNO("larger_than_page_e2big", clone3(&a, 4097), E2BIG);
	EXPECT_ERRNO("bad_pointer_efault", clone3((struct clone_args *)unmapped_address(), sizeof(a)),
		     EFAULT);
}

static void test_exit_signal_and_settid(void)
{
	pid_t tid = 0;
	struct clone_args a = {.flags = CLONE_PARENT_SETTID, .parent_tid = (uintptr_t)&tid,
			       .exit_signal = SIGCHLD};
	int status;
	long pid = clone3_fork(&a, CLONE_ARGS_SIZE_VER0, 3, &status);
	CHECK("parent_settid", pid > 0 && tid == pid, "clone3 %ld, parent_tid %d", pid, tid);
	/* No exit signal: a "clone" child, waited for with __WALL only. */
	struct clone_args b = {.exit_signal = 0};
	pid = clone3(&b, CLONE_ARGS_SIZE_VER0);
	if (pid == 0)
		_exit(4);
	CHECK("no_exit_signal_not_seen_by_plain_wait",
	      pid > 0 && waitpid((pid_t)pid, &status, WNOHANG) == -1 && errno == ECHILD,
	      "waitpid without __WALL found the child (errno %s)", errno_name(errno));
	int got = pid > 0 ? waitpid((pid_t)pid, &status, __WALL) : -1;
	CHECK("no_exit_signal_wall_wait", got == pid && exited_with(status, 4), "waitpid %d, %s",
	      got, status_text(status));
}

static void test_clear_sighand(void)
{
	struct sigaction sa = {.sa_handler = SIG_IGN}, old1, old2;
	sigaction(SIGUSR2, &sa, &old2);
	sa.sa_handler = (void (*)(int))1234; /* never called */
	sigaction(SIGUSR1, &sa, &old1);
	struct clone_args a = {.flags = CLONE_CLEAR_SIGHAND, .exit_signal = SIGCHLD};
	long pid = clone3(&a, CLONE_ARGS_SIZE_VER0);
	if (pid == 0) {
		struct sigaction s1, s2;
		sigaction(SIGUSR1, NULL, &s1);
		sigaction(SIGUSR2, NULL, &s2);
		_exit(s1.sa_handler == SIG_DFL && s2.sa_handler == SIG_IGN ? 0 : 1);
	}
	int status = pid > 0 ? wait_status((pid_t)pid) : -1;
	CHECK("clear_sighand_caught_to_default_ignored_kept", exited_with(status, 0), "clone3 %ld, %s",
	      pid, status_text(status));
	sigaction(SIGUSR1, &old1, NULL);
	sigaction(SIGUSR2, &old2, NULL);
}

static void test_newpid(void)
{
	struct clone_args a = {.flags = CLONE_NEWPID, .exit_signal = SIGCHLD};
	long pid = clone3(&a, CLONE_ARGS_SIZE_VER0);
	if (pid == 0)
		_exit(getpid() == 1 && getppid() == 0 ? 0 : 1);
	int status = pid > 0 ? wait_status((pid_t)pid) : -1;
	CHECK("newpid_child_is_pid_1", pid > 1 && exited_with(status, 0), "clone3 %ld, %s", pid,
	      status_text(status));
}

/* set_tid: root picks the child's PID in each namespace, innermost first. */
static void test_set_tid(void)
{
	pid_t want = 20000 + getpid() % 1000;
	pid_t tids[2] = {want, 0};
	struct clone_args a = {.set_tid = (uintptr_t)tids, .set_tid_size = 1, .exit_signal = SIGCHLD};
	long pid = clone3(&a, CLONE_ARGS_SIZE_VER2);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	CHECK("set_tid_gives_that_pid", pid == want, "clone3 returned %ld (%s), wanted %d", pid,
	      errno_name(errno), want);
	EXPECT_ERRNO("set_tid_in_use_eexist", clone3(&a, CLONE_ARGS_SIZE_VER2), EEXIST);
	if (pid > 0) {
		kill((pid_t)pid, SIGKILL);
		wait_status((pid_t)pid);
	}
	tids[0] = -5;
	EXPECT_ERRNO("set_tid_negative_einval", clone3(&a, CLONE_ARGS_SIZE_VER2), EINVAL);
	tids[0] = want;
	a.set_tid_size = 2;
	EXPECT_ERRNO("set_tid_more_than_levels_einval", clone3(&a, CLONE_ARGS_SIZE_VER2), EINVAL);
	/* A new namespace: 1 inside, `want` outside. */
	tids[0] = 1;
	tids[1] = want;
	a.flags = CLONE_NEWPID;
	pid = clone3(&a, CLONE_ARGS_SIZE_VER2);
	if (pid == 0)
		_exit(getpid() == 1 ? 0 : 1);
	int status = pid > 0 ? wait_status((pid_t)pid) : -1;
	CHECK("set_tid_newpid_both_levels", pid == want && exited_with(status, 0),
	      "clone3 returned %ld (%s), child %s", pid, errno_name(errno), status_text(status));
	/* A number other than 1 in a namespace that has no init yet. */
	tids[0] = 2;
	EXPECT_ERRNO("set_tid_newpid_not_1_einval", clone3(&a, CLONE_ARGS_SIZE_VER2), EINVAL);
	a = (struct clone_args){.set_tid = (uintptr_t)unmapped_address(), .set_tid_size = 1,
				.exit_signal = SIGCHLD};
	EXPECT_ERRNO("set_tid_bad_pointer_efault", clone3(&a, CLONE_ARGS_SIZE_VER2), EFAULT);
}

static void test_invalid(void)
{
	static char stack[4096];
	struct clone_args a;
#define BAD(name, ...)                                                                             \
	do {                                                                                       \
		a = (struct clone_args){__VA_ARGS__};                                              \
		EXPECT_ERRNO(name, clone3(&a, CLONE_ARGS_SIZE_VER2), EINVAL);                      \
	} while (0)
	BAD("flags_with_csignal_bits_einval", .flags = SIGCHLD);
	BAD("detached_einval", .flags = CLONE_DETACHED, .exit_signal = SIGCHLD);
	BAD("unknown_high_flag_einval", .flags = 1ULL << 40, .exit_signal = SIGCHLD);
	BAD("exit_signal_65_einval", .exit_signal = 65);
	BAD("exit_signal_high_bits_einval", .exit_signal = (1ULL << 32) | SIGCHLD);
	BAD("stack_without_size_einval", .stack = (uintptr_t)stack, .exit_signal = SIGCHLD);
	BAD("size_without_stack_einval", .stack_size = sizeof(stack), .exit_signal = SIGCHLD);
	BAD("set_tid_size_without_set_tid_einval", .set_tid_size = 1, .exit_signal = SIGCHLD);
	BAD("set_tid_without_size_einval", .set_tid = (uintptr_t)stack, .exit_signal = SIGCHLD);
	BAD("set_tid_size_33_einval", .set_tid = (uintptr_t)stack, .set_tid_size = 33,
	    .exit_signal = SIGCHLD);
	BAD("sighand_and_clear_sighand_einval",
	    .flags = CLONE_SIGHAND | CLONE_VM | CLONE_CLEAR_SIGHAND, .exit_signal = SIGCHLD);
	BAD("thread_with_exit_signal_einval",
	    .flags = CLONE_THREAD | CLONE_SIGHAND | CLONE_VM, .exit_signal = SIGCHLD);
	BAD("parent_with_exit_signal_einval", .flags = CLONE_PARENT, .exit_signal = SIGCHLD);
	BAD("sighand_without_vm_einval", .flags = CLONE_SIGHAND, .exit_signal = SIGCHLD);
	BAD("fs_with_newns_einval", .flags = CLONE_FS | CLONE_NEWNS, .exit_signal = SIGCHLD);
#undef BAD
}

int main(void)
{
	test_sizes();
	test_exit_signal_and_settid();
	test_clear_sighand();
	test_newpid();
	test_set_tid();
	test_invalid();
	return test_done();
}
