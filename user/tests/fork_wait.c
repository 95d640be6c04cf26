/*
 * fork, exit, exit_group and wait4: exit statuses, WNOHANG, ECHILD,
 * death by signal, and the errors of wait4.
 * Linux: kernel/fork.c, kernel/exit.c (do_wait, kernel_wait4).
 */
#include "test.h"
#include <signal.h>

int main(void)
{
	int status;
	pid_t pid;

	/* No children yet: ECHILD, with and without WNOHANG. */
	EXPECT_ERRNO("echild_no_children", wait4(-1, &status, 0, NULL), ECHILD);
	EXPECT_ERRNO("echild_no_children_wnohang", wait4(-1, &status, WNOHANG, NULL), ECHILD);
	EXPECT_ERRNO("echild_not_our_child", wait4(1, &status, 0, NULL), ECHILD);

	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0)
		_exit(42);
	pid_t got = wait4(pid, &status, 0, NULL);
	CHECK("wait4_returns_pid", got == pid, "wait4 returned %d, child %d", got, pid);
	CHECK("exit_status", WIFEXITED(status) && WEXITSTATUS(status) == 42, "child %s, expected exit 42",
	      status_text(status));
	EXPECT_ERRNO("echild_after_reaping", wait4(pid, &status, 0, NULL), ECHILD);

	/* Only the low 8 bits of the exit code survive. */
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0)
		_exit(0x1ff);
	status = wait_status(pid);
	CHECK("exit_status_low_8_bits", exited_with(status, 0xff), "_exit(0x1ff): child %s", status_text(status));

	/* exit_group, called directly. */
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		syscall(SYS_exit_group, 7);
		_exit(99);
	}
	status = wait_status(pid);
	CHECK("exit_group_status", exited_with(status, 7), "exit_group(7): child %s", status_text(status));

	/* WNOHANG on a running child returns 0; the child is still there. */
	int fds[2];
	REQUIRE(pipe(fds) == 0);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		char c;
		close(fds[1]);
		read(fds[0], &c, 1); /* until the parent closes its end */
		_exit(3);
	}
	close(fds[0]);
	status = 12345;
	got = wait4(pid, &status, WNOHANG, NULL);
	CHECK("wnohang_running_child_returns_0", got == 0, "wait4(WNOHANG) returned %d (%s)", got, errno_name(errno));
	CHECK("wnohang_leaves_status_alone", status == 12345 || status == 0, "status was overwritten with %#x", status);
	close(fds[1]);
	got = wait4(pid, &status, 0, NULL);
	CHECK("wait_after_wnohang", got == pid && exited_with(status, 3), "wait4 = %d, child %s", got,
	      status_text(status));

	/* Killed by a signal: WIFSIGNALED and WTERMSIG. */
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		for (;;)
			pause();
	}
	CHECK("kill_child", kill(pid, SIGKILL) == 0, "kill: %s", errno_name(errno));
	status = wait_status(pid);
	CHECK("wifsignaled_after_kill", status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	      "child %s, expected signal 9", status_text(status));
	CHECK("no_core_for_sigkill", status != -1 && !WCOREDUMP(status), "WCOREDUMP set for SIGKILL");

	/* wait4 for any child among several, each reaped exactly once. */
	pid_t kids[5];
	for (int i = 0; i < 5; i++) {
		kids[i] = fork();
		REQUIRE(kids[i] >= 0);
		if (kids[i] == 0)
			_exit(10 + i);
	}
	int seen = 0, right = 1;
	for (int i = 0; i < 5; i++) {
		got = wait4(-1, &status, 0, NULL);
		for (int k = 0; k < 5; k++)
			if (got == kids[k]) {
				seen |= 1 << k;
				right &= exited_with(status, 10 + k);
			}
	}
	CHECK("wait_any_reaps_each_child", seen == 31 && right, "children seen %#x, statuses right %d", seen, right);
	EXPECT_ERRNO("echild_after_all_reaped", wait4(-1, &status, 0, NULL), ECHILD);

	/* rusage is filled in. */
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0)
		_exit(0);
	struct rusage ru;
	memset(&ru, 0xff, sizeof(ru));
	got = wait4(pid, &status, 0, &ru);
	CHECK("wait4_rusage", got == pid && ru.ru_utime.tv_usec >= 0 && ru.ru_utime.tv_usec < 1000000,
	      "wait4 = %d, ru_utime.tv_usec = %ld", got, (long)ru.ru_utime.tv_usec);

	/* Unknown option bits: EINVAL (WEXITED belongs to waitid, not wait4). */
	EXPECT_ERRNO("wait4_bad_options", wait4(-1, &status, 0x1000, NULL), EINVAL);
	EXPECT_ERRNO("wait4_wexited_is_invalid", wait4(-1, &status, WEXITED, NULL), EINVAL);

	/*
	 * A bad status pointer: EFAULT, and Linux has already reaped the child
	 * (kernel_wait4 copies the status out after release_task).
	 */
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0)
		_exit(5);
	usleep(50000);
	EXPECT_ERRNO("wait4_bad_status_pointer_efault", syscall(SYS_wait4, pid, (int *)8, 0, NULL), EFAULT);
	EXPECT_ERRNO("child_reaped_despite_efault", wait4(pid, &status, WNOHANG, NULL), ECHILD);

	/* waitpid(0) waits for the caller's process group. */
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0)
		_exit(6);
	got = waitpid(0, &status, 0);
	CHECK("waitpid_own_group", got == pid && exited_with(status, 6), "waitpid(0) = %d, %s", got,
	      status_text(status));
	return test_done();
}
