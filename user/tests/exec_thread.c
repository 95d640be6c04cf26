/*
 * exec_thread: execve from a thread that is not the group leader. The
 * other threads die; the exec'ing thread takes over the leader's PID, so
 * the new program has getpid() == gettid() == the old PID, kill() and
 * tgkill() with that PID reach it, and the parent's wait reports the
 * original PID with the new program's exit status, once: the parent has
 * exactly one child.
 * Linux: fs/exec.c (de_thread, exchange_tids), kernel/pid.c.
 */
#include "test.h"

#include <pthread.h>
#include <signal.h>

static char *self_path;
static char pid_arg[16];

static void *exec_thread(void *arg)
{
	(void)arg;
	char *argv[] = {self_path, "child", pid_arg, NULL};
	execv(self_path, argv);
	_exit(5);
}

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
	got_usr1 = sig;
}

/* The exec'd program: each wrong ID gives its own exit code. */
static int child(pid_t old_pid)
{
	if (getpid() != old_pid)
		return 10;
	if (syscall(SYS_gettid) != old_pid)
		return 11;
	signal(SIGUSR1, on_usr1);
	if (syscall(SYS_tgkill, old_pid, old_pid, SIGUSR1) != 0 || got_usr1 != SIGUSR1)
		return 12;
	return 42;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "child") == 0)
		return child(atoi(argv[2]));
	self_path = argv[0];
	pid_t pid = fork();
	if (pid == 0) {
		pthread_t a, b;
		snprintf(pid_arg, sizeof(pid_arg), "%d", getpid());
		if (pthread_create(&b, NULL, sleeper, NULL) != 0 ||
		    pthread_create(&a, NULL, exec_thread, NULL) != 0)
			_exit(3);
		for (;;)
			pause();
	}
	REQUIRE(pid > 0);
	int status;
	pid_t got;
	do
		got = waitpid(pid, &status, 0);
	while (got < 0 && errno == EINTR);
	CHECK("wait_reports_original_pid", got == pid, "waitpid returned %d, expected %d", got, pid);
	CHECK("exec_from_thread_takes_leader_pid", got == pid && exited_with(status, 42),
	      "child %s (10: getpid, 11: gettid, 12: tgkill)", status_text(status));
	/* The old leader's zombie was released at exec: one child, reaped once. */
	errno = 0;
	pid_t again = waitpid(-1, &status, __WALL);
	int again_err = errno;
	CHECK("parent_sees_one_child", again == -1 && again_err == ECHILD, "second wait returned %d (%s)", again,
	      errno_name(again_err));
	return test_done();
}
