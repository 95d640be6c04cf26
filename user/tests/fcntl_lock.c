/*
 * fcntl_lock: POSIX record locks (F_GETLK/F_SETLK/F_SETLKW) and OFD locks
 * (F_OFD_*): ranges, l_whence, merging and splitting, conversion, the
 * holder's pid in F_GETLK, release on any close by the process and at exit,
 * EDEADLK for a cycle of waiters, and the errno rules. Linux: fs/locks.c.
 */
#include "test.h"

static int setlk(int fd, int cmd, short type, short whence, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = whence, .l_start = start, .l_len = len };
	return fcntl(fd, cmd, &fl);
}

/* F_GETLK for a write lock over [start, start+len): the conflict, or l_type F_UNLCK. */
static struct flock getlk(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
	if (fcntl(fd, cmd, &fl) != 0)
		fl.l_type = -1;
	return fl;
}

/* Forks a child that runs F_SETLK of `type` on [start, start+len) on a fresh open; its result. */
static int child_setlk(short type, off_t start, off_t len)
{
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open("f", O_RDWR);
		_exit(setlk(fd, F_SETLK, type, SEEK_SET, start, len) == 0 ? 0 : errno);
	}
	int status = wait_status(pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	unlink("f");
	int fd = open("f", O_RDWR | O_CREAT, 0644);
	REQUIRE(fd >= 0 && write(fd, "0123456789", 10) == 10);

	EXPECT_OK("setlk_write", setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 10, 10));
	CHECK("child_conflict_eagain", child_setlk(F_RDLCK, 15, 1) == EAGAIN, "child got %s",
	      errno_name(child_setlk(F_RDLCK, 15, 1)));
	CHECK("child_outside_ok", child_setlk(F_WRLCK, 20, 5) == 0, "child got %s",
	      errno_name(child_setlk(F_WRLCK, 20, 5)));
	/* The same process never conflicts with itself. */
	struct flock g = getlk(fd, F_GETLK, F_WRLCK, 0, 0);
	CHECK("getlk_own_unlck", g.l_type == F_UNLCK, "l_type %d", g.l_type);

	/* F_GETLK from another process sees the lock and this pid. */
	pid_t me = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		int cfd = open("f", O_RDWR);
		struct flock c = getlk(cfd, F_GETLK, F_RDLCK, 0, 0);
		_exit(c.l_type == F_WRLCK && c.l_pid == me && c.l_start == 10 && c.l_len == 10 &&
				      c.l_whence == SEEK_SET
			      ? 0
			      : 1);
	}
	CHECK("getlk_reports_holder", exited_with(wait_status(pid), 0), "wrong F_GETLK answer");

	/* Split: unlock the middle; merge: relock it. */
	EXPECT_OK("unlock_middle", setlk(fd, F_SETLK, F_UNLCK, SEEK_SET, 13, 4));
	CHECK("hole_free", child_setlk(F_WRLCK, 13, 4) == 0, "hole still locked");
	CHECK("left_part_kept", child_setlk(F_WRLCK, 12, 1) == EAGAIN, "left part gone");
	CHECK("right_part_kept", child_setlk(F_WRLCK, 17, 1) == EAGAIN, "right part gone");
	EXPECT_OK("convert_part_to_read", setlk(fd, F_SETLK, F_RDLCK, SEEK_SET, 10, 3));
	CHECK("read_part_shared", child_setlk(F_RDLCK, 10, 3) == 0, "read lock not shared");
	CHECK("read_part_excludes_write", child_setlk(F_WRLCK, 11, 1) == EAGAIN, "write allowed");

	/* Whence and negative lengths. */
	REQUIRE(lseek(fd, 5, SEEK_SET) == 5);
	EXPECT_OK("seek_cur_negative_len", setlk(fd, F_SETLK, F_WRLCK, SEEK_CUR, 0, -3));
	CHECK("cur_range_locked", child_setlk(F_WRLCK, 2, 1) == EAGAIN, "[2,5) not locked");
	CHECK("cur_range_end", child_setlk(F_WRLCK, 5, 1) == 0, "5 locked");
	EXPECT_OK("seek_end_to_eof", setlk(fd, F_SETLK, F_WRLCK, SEEK_END, 100, 0));
	CHECK("eof_lock_reaches_far", child_setlk(F_RDLCK, 1000000, 1) == EAGAIN, "not to EOF");
	EXPECT_OK("unlock_all", setlk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));
	CHECK("all_free", child_setlk(F_WRLCK, 0, 0) == 0, "still locked");

	/* Errors. */
	EXPECT_ERRNO("bad_whence_einval", setlk(fd, F_SETLK, F_WRLCK, 7, 0, 1), EINVAL);
	EXPECT_ERRNO("bad_type_einval", setlk(fd, F_SETLK, 7, SEEK_SET, 0, 1), EINVAL);
	EXPECT_ERRNO("negative_start_einval", setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, -1, 1), EINVAL);
	EXPECT_ERRNO("len_before_zero_einval", setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 2, -5), EINVAL);
	int ro = open("f", O_RDONLY);
	EXPECT_ERRNO("write_lock_readonly_ebadf", setlk(ro, F_SETLK, F_WRLCK, SEEK_SET, 0, 1), EBADF);
	EXPECT_OK("read_lock_readonly", setlk(ro, F_SETLK, F_RDLCK, SEEK_SET, 0, 1));
	EXPECT_ERRNO("getlk_unlck_einval", fcntl(fd, F_GETLK, &(struct flock){ .l_type = F_UNLCK }),
		     EINVAL);
	EXPECT_ERRNO("bad_ptr_efault", fcntl(fd, F_SETLK, (struct flock *)8), EFAULT);

	/* Closing any descriptor of the file drops the process's locks. */
	EXPECT_OK("lock_again", setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0));
	close(ro);
	CHECK("any_close_releases", child_setlk(F_WRLCK, 0, 0) == 0, "lock survived close");

	/* Exit releases them too. */
	pid = fork();
	if (pid == 0) {
		int cfd = open("f", O_RDWR);
		setlk(cfd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0);
		_exit(0);
	}
	wait_status(pid);
	EXPECT_OK("exit_releases", setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0));

	/* F_SETLKW waits; a cycle of waiters is EDEADLK. */
	REQUIRE(setlk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0) == 0);
	REQUIRE(setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1) == 0);
	int sync_pipe[2];
	REQUIRE(pipe(sync_pipe) == 0);
	pid = fork();
	if (pid == 0) {
		int cfd = open("f", O_RDWR);
		setlk(cfd, F_SETLK, F_WRLCK, SEEK_SET, 1, 1);
		write(sync_pipe[1], "x", 1);
		/* Blocks on the parent's byte 0 until the parent gives it up. */
		int r = setlk(cfd, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1);
		_exit(r == 0 ? 0 : 1);
	}
	char c;
	read(sync_pipe[0], &c, 1);
	usleep(300000);
	EXPECT_ERRNO("setlkw_edeadlk", setlk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 1, 1), EDEADLK);
	setlk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 1);
	CHECK("setlkw_wakes", exited_with(wait_status(pid), 0), "waiter did not get the lock");

	/* OFD locks: owned by the open file, conflict between two opens in one process. */
	REQUIRE(setlk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0) == 0);
	int o1 = open("f", O_RDWR), o2 = open("f", O_RDWR);
	EXPECT_OK("ofd_setlk", setlk(o1, F_OFD_SETLK, F_WRLCK, SEEK_SET, 100, 10));
	EXPECT_ERRNO("ofd_conflict_same_process", setlk(o2, F_OFD_SETLK, F_RDLCK, SEEK_SET, 105, 1),
		     EAGAIN);
	g = getlk(o2, F_OFD_GETLK, F_RDLCK, 100, 1);
	CHECK("ofd_getlk_pid_minus_1", g.l_type == F_WRLCK && g.l_pid == -1, "l_type %d l_pid %d",
	      g.l_type, g.l_pid);
	struct flock bad = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_pid = 1 };
	EXPECT_ERRNO("ofd_pid_einval", fcntl(o2, F_OFD_SETLK, &bad), EINVAL);
	int o3 = open("f", O_RDWR);
	close(o3); /* a close of another descriptor does not drop OFD locks */
	EXPECT_ERRNO("ofd_survives_other_close", setlk(o2, F_OFD_SETLK, F_RDLCK, SEEK_SET, 105, 1),
		     EAGAIN);
	close(o1);
	EXPECT_OK("ofd_released_on_close", setlk(o2, F_OFD_SETLK, F_RDLCK, SEEK_SET, 105, 1));
	return test_done();
}
