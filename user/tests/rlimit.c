#include "test.h"
/*
 * prlimit64, getrlimit, setrlimit with RLIMIT_NOFILE: the limit caps new
 * descriptors (EMFILE), dup2 and F_DUPFD respect it, it is inherited, and
 * the errors. Linux: kernel/sys.c (do_prlimit), fs/file.c (alloc_fd).
 */
#include <sys/resource.h>

struct limit64 {
	unsigned long long cur, max;
};

int main(void)
{
	struct limit64 old, cur;
	CHECK("prlimit64_get", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &old) == 0 && old.cur > 0 &&
				       old.cur <= old.max,
	      "prlimit64: %s, cur %llu max %llu", errno_name(errno), old.cur, old.max);
	struct rlimit rl;
	CHECK("getrlimit_agrees", getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur == old.cur && rl.rlim_max == old.max,
	      "getrlimit cur %lu max %lu", (unsigned long)rl.rlim_cur, (unsigned long)rl.rlim_max);
	CHECK("prlimit64_own_pid", syscall(SYS_prlimit64, getpid(), RLIMIT_NOFILE, NULL, &cur) == 0 && cur.cur == old.cur,
	      "prlimit64(getpid()): %s", errno_name(errno));

	struct limit64 low = {32, old.max};
	struct limit64 prev;
	CHECK("prlimit64_set_returns_old", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &low, &prev) == 0 &&
						   prev.cur == old.cur,
	      "prlimit64 set: %s", errno_name(errno));
	CHECK("new_limit_visible", getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur == 32, "cur %lu",
	      (unsigned long)rl.rlim_cur);

	int last = -1, fd;
	errno = 0;
	while ((fd = open("/dev/null", O_RDONLY)) >= 0)
		last = fd;
	CHECK("open_beyond_limit_emfile", errno == EMFILE && last == 31, "open failed with %s after fd %d",
	      errno_name(errno), last);
	EXPECT_ERRNO("dup_beyond_limit_emfile", dup(0), EMFILE);
	EXPECT_ERRNO("pipe_beyond_limit_emfile", pipe((int[2]){0, 0}), EMFILE);
	close(last);
	EXPECT_ERRNO("dup2_to_fd_above_limit_ebadf", dup2(0, 40), EBADF);
	EXPECT_ERRNO("f_dupfd_above_limit_einval", fcntl(0, F_DUPFD, 40), EINVAL);
	CHECK("closing_one_frees_a_slot", (fd = open("/dev/null", O_RDONLY)) == 31, "open after close gave %d", fd);

	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		getrlimit(RLIMIT_NOFILE, &rl);
		_exit(rl.rlim_cur == 32 ? 0 : 1);
	}
	int status = wait_status(pid);
	CHECK("limit_inherited", exited_with(status, 0), "child %s", status_text(status));
	for (int i = 3; i < 32; i++)
		close(i);

	struct limit64 bad = {old.max + 1, old.max};
	if (old.max != RLIM_INFINITY)
		EXPECT_ERRNO("cur_above_max_einval", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &bad, NULL), EINVAL);
	bad.cur = 100;
	bad.max = 50;
	EXPECT_ERRNO("cur_above_max_einval_2", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &bad, NULL), EINVAL);
	bad.cur = bad.max = 1 << 30;
	EXPECT_ERRNO("nofile_above_nr_open_eperm", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &bad, NULL), EPERM);
	EXPECT_ERRNO("bad_resource_einval", syscall(SYS_prlimit64, 0, 99, NULL, &cur), EINVAL);
	EXPECT_ERRNO("missing_pid_esrch", syscall(SYS_prlimit64, 99999, RLIMIT_NOFILE, NULL, &cur), ESRCH);
	EXPECT_ERRNO("bad_pointer_efault", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, (void *)8), EFAULT);

	/* An unprivileged process may lower its hard limit but not raise it. */
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		if (setuid(1000) != 0)
			_exit(10);
		struct limit64 l = {64, 64};
		if (syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &l, NULL) != 0)
			_exit(11);
		l.max = 128;
		if (syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &l, NULL) == 0 || errno != EPERM)
			_exit(12);
		_exit(0);
	}
	status = wait_status(pid);
	CHECK("unprivileged_raise_hard_eperm", exited_with(status, 0), "child %s (10 setuid, 11 lower, 12 raise)",
	      status_text(status));
	return test_done();
}
