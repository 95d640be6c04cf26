/*
 * flock: shared and exclusive locks per open file description, LOCK_NB's
 * EWOULDBLOCK, conversion, sharing through dup and fork, release on the last
 * close, a blocked LOCK_EX woken by the unlock, and a signal ending the wait
 * with EINTR. Linux: fs/locks.c (flock_lock_inode, SYSCALL_DEFINE2(flock)).
 */
#include "test.h"
#include <sys/file.h>

static void on_alarm(int sig)
{
	(void)sig;
}

/* In a child: tries `op` on a fresh open of "f"; exit 0 on success, else errno. */
static int child_try(int op)
{
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open("f", O_RDWR);
		_exit(flock(fd, op) == 0 ? 0 : errno);
	}
	int status = wait_status(pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	int a = open("f", O_RDWR | O_CREAT, 0644);
	int b = open("f", O_RDWR);
	REQUIRE(a >= 0 && b >= 0);

	EXPECT_OK("ex", flock(a, LOCK_EX));
	EXPECT_ERRNO("ex_blocks_other_ofd", flock(b, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	EXPECT_ERRNO("ex_blocks_sh", flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	EXPECT_OK("relock_same_ofd", flock(a, LOCK_EX | LOCK_NB));
	int a2 = dup(a);
	EXPECT_OK("dup_shares_lock", flock(a2, LOCK_EX | LOCK_NB));
	CHECK("child_blocked", child_try(LOCK_SH | LOCK_NB) == EWOULDBLOCK, "child got %s",
	      errno_name(child_try(LOCK_SH | LOCK_NB)));
	EXPECT_OK("convert_to_sh", flock(a, LOCK_SH));
	EXPECT_OK("sh_and_sh", flock(b, LOCK_SH | LOCK_NB));
	EXPECT_ERRNO("ex_vs_sh", flock(b, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	/* A failed conversion drops the old lock (Linux). */
	EXPECT_OK("b_unlocked_after_failed_convert", flock(a, LOCK_EX | LOCK_NB));
	EXPECT_OK("unlock", flock(a, LOCK_UN));
	EXPECT_OK("unlock_twice", flock(a, LOCK_UN));
	EXPECT_OK("b_ex_after_unlock", flock(b, LOCK_EX | LOCK_NB));
	close(b);
	EXPECT_OK("released_on_last_close", flock(a, LOCK_EX | LOCK_NB));
	close(a);
	CHECK("dup_keeps_it_until_last_close", child_try(LOCK_EX | LOCK_NB) == EWOULDBLOCK,
	      "lock gone with one of two descriptors");
	close(a2);
	CHECK("gone_after_last_close", child_try(LOCK_EX | LOCK_NB) == 0, "still locked");

	EXPECT_ERRNO("bad_op_einval", flock(0, 0), EINVAL);
	EXPECT_ERRNO("both_einval", flock(0, LOCK_SH | LOCK_EX), EINVAL);
	EXPECT_ERRNO("ebadf", flock(1000, LOCK_SH), EBADF);
	int p = open("f", O_PATH);
	EXPECT_ERRNO("opath_ebadf", flock(p, LOCK_SH), EBADF);
	close(p);

	/* A blocked LOCK_EX waits for the holder's unlock. */
	a = open("f", O_RDWR);
	REQUIRE(flock(a, LOCK_EX) == 0);
	int pipefd[2];
	REQUIRE(pipe(pipefd) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open("f", O_RDWR);
		write(pipefd[1], "r", 1);
		long long t0 = now_ms();
		int r = flock(fd, LOCK_EX);
		_exit(r == 0 && now_ms() - t0 >= 100 ? 0 : 1);
	}
	char c;
	read(pipefd[0], &c, 1);
	usleep(300000);
	flock(a, LOCK_UN);
	int status = wait_status(pid);
	CHECK("waiter_wakes_on_unlock", exited_with(status, 0), "child %s", status_text(status));
	close(a);

	/* A signal without SA_RESTART ends the wait with EINTR. */
	a = open("f", O_RDWR);
	REQUIRE(flock(a, LOCK_EX) == 0);
	pid = fork();
	if (pid == 0) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_alarm;
		sigaction(SIGALRM, &sa, NULL);
		int fd = open("f", O_RDWR);
		alarm(1);
		int r = flock(fd, LOCK_EX);
		_exit(r == -1 && errno == EINTR ? 0 : 1);
	}
	status = wait_status(pid);
	CHECK("signal_eintr", exited_with(status, 0), "child %s", status_text(status));
	close(a);
	return test_done();
}
