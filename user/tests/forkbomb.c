#include "test.h"
/*
 * A fork bomb capped by RLIMIT_NPROC: fork fails with EAGAIN at the limit,
 * the bomb's processes are cleaned up, and fork works again.
 *
 * Linux 6.1 (kernel/fork.c, copy_process) ignores RLIMIT_NPROC for root
 * (INIT_USER) and for holders of CAP_SYS_RESOURCE or CAP_SYS_ADMIN, so the
 * bomb runs as uid 4321 (setuid drops the capabilities). The count is per
 * user and includes the bomb itself: with the limit at N, N - 1 forks
 * succeed.
 */
#include <sys/resource.h>
#include <sys/sysinfo.h>

#define LIMIT 16
#define BOMB_UID 4321

/* The bomb: reports "forked,errno,forked_again" on `report`, exits 0. */
static int bomb(int report)
{
	struct rlimit rl = {LIMIT, LIMIT};
	if (setrlimit(RLIMIT_NPROC, &rl) != 0 || setgid(BOMB_UID) != 0 || setuid(BOMB_UID) != 0)
		return 10;
	int hold[2];
	if (pipe(hold) != 0)
		return 11;
	int forked = 0, err = 0;
	for (int i = 0; i < 4 * LIMIT; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			char c;
			close(hold[1]);
			read(hold[0], &c, 1); /* until the bomb lets go */
			_exit(0);
		}
		if (pid < 0) {
			err = errno;
			break;
		}
		forked++;
	}
	/* A second failure, to see that the cap holds. */
	pid_t again = fork();
	int err2 = again < 0 ? errno : 0;
	if (again == 0)
		_exit(0);
	close(hold[1]);
	int reaped = 0;
	while (wait(NULL) > 0)
		reaped++;
	pid_t after = fork();
	if (after == 0)
		_exit(0);
	int recovered = after > 0 && waitpid(after, NULL, 0) == after;
	int msg[5] = {forked, err, err2, reaped, recovered};
	write(report, msg, sizeof(msg));
	return 0;
}

int main(void)
{
	struct sysinfo before;
	sysinfo(&before);
	int fds[2];
	REQUIRE(pipe(fds) == 0);
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		_exit(bomb(fds[1]));
	}
	close(fds[1]);
	int msg[5] = {-1, -1, -1, -1, -1};
	ssize_t n = read(fds[0], msg, sizeof(msg));
	int status = wait_status(pid);
	REQUIRE(exited_with(status, 0) && n == (ssize_t)sizeof(msg));
	CHECK("fork_fails_at_limit", msg[0] < 4 * LIMIT, "%d forks succeeded with RLIMIT_NPROC %d", msg[0], LIMIT);
	CHECK("limit_counts_the_user_s_processes", msg[0] == LIMIT - 1, "%d forks succeeded, expected %d", msg[0],
	      LIMIT - 1);
	CHECK("eagain_at_limit", msg[1] == EAGAIN, "fork failed with %s", errno_name(msg[1]));
	CHECK("still_eagain", msg[2] == EAGAIN, "second fork at the limit: %s", errno_name(msg[2]));
	CHECK("all_reaped", msg[3] == msg[0], "reaped %d of %d", msg[3], msg[0]);
	CHECK("fork_recovers", msg[4] == 1, "fork after cleanup failed");

	/* Root is not limited (INIT_USER). */
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = {1, 1};
		if (setrlimit(RLIMIT_NPROC, &rl) != 0)
			_exit(10);
		pid_t child = fork();
		if (child < 0)
			_exit(11);
		if (child == 0)
			_exit(0);
		_exit(waitpid(child, NULL, 0) == child ? 0 : 12);
	}
	status = wait_status(pid);
	CHECK("root_ignores_nproc", exited_with(status, 0), "child %s (11: root's fork refused)", status_text(status));

	struct sysinfo after;
	sysinfo(&after);
	CHECK("process_count_back", after.procs <= before.procs + 1, "procs %u before, %u after", before.procs,
	      after.procs);
	return test_done();
}
