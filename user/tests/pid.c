/*
 * getpid, getppid, gettid: a process's own ids and its parent's.
 * Linux: kernel/sys.c (getpid, getppid, gettid).
 */
#include "test.h"

int main(void)
{
	pid_t pid = getpid();
	CHECK("getpid_positive", pid > 0, "getpid() = %d", pid);
	CHECK("getpid_raw_matches", syscall(SYS_getpid) == pid, "syscall(SYS_getpid) differs from getpid()");
	CHECK("gettid_is_pid_single_thread", gettid() == pid, "gettid() = %d, getpid() = %d", gettid(), pid);
	pid_t ppid = getppid();
	CHECK("getppid_positive", ppid > 0, "getppid() = %d", ppid);
	CHECK("getpid_stable", getpid() == pid, "getpid() changed between calls");

	/* The child reports 0 if its ids look right, else which one was wrong. */
	int fds[2];
	REQUIRE(pipe(fds) == 0);
	pid_t child = fork();
	REQUIRE(child >= 0);
	if (child == 0) {
		pid_t ids[3] = {getpid(), getppid(), gettid()};
		write(fds[1], ids, sizeof(ids));
		_exit(0);
	}
	pid_t ids[3] = {0, 0, 0};
	ssize_t n = read(fds[0], ids, sizeof(ids));
	int status = wait_status(child);
	REQUIRE(n == (ssize_t)sizeof(ids) && exited_with(status, 0));
	CHECK("fork_returns_child_pid", ids[0] == child, "fork() returned %d, child's getpid() %d", child, ids[0]);
	CHECK("child_pid_differs", ids[0] != pid, "child has the parent's pid %d", pid);
	CHECK("child_getppid_is_parent", ids[1] == pid, "child's getppid() = %d, parent is %d", ids[1], pid);
	CHECK("child_gettid_is_its_pid", ids[2] == ids[0], "child's gettid() = %d, getpid() = %d", ids[2], ids[0]);

	/* An orphan is reparented (to init, or a subreaper): getppid changes. */
	REQUIRE(pipe(fds) == 0);
	child = fork();
	REQUIRE(child >= 0);
	if (child == 0) {
		pid_t grandchild = fork();
		if (grandchild == 0) {
			close(fds[0]);
			pid_t before = getppid();
			for (int i = 0; i < 1000 && getppid() == before; i++)
				usleep(1000);
			pid_t after = getppid();
			write(fds[1], &after, sizeof(after));
			_exit(0);
		}
		_exit(grandchild > 0 ? 0 : 1);
	}
	close(fds[1]);
	status = wait_status(child);
	pid_t adopted = 0;
	n = read(fds[0], &adopted, sizeof(adopted));
	CHECK("orphan_is_reparented", exited_with(status, 0) && n == sizeof(adopted) && adopted != child && adopted > 0,
	      "child %s, orphan's getppid() = %d (its dead parent was %d)", status_text(status), adopted, child);
	return test_done();
}
