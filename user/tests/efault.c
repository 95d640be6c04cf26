/*
 * EFAULT: a bad user pointer is an error return, never a crash of the
 * kernel or the caller. Raw syscalls throughout: libc wrappers may touch
 * the buffer themselves. Linux: copy_to_user/copy_from_user callers.
 */
#include "test.h"
#include <sys/ipc.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <signal.h>
#include <time.h>

/*
 * The calls of the log, the clock, the UTS and mount namespaces and SysV
 * IPC, each given an unmapped buffer: EFAULT, and nothing changed (the
 * clock is not set, no message is lost but the one being received).
 */
static void more_calls(void *bad)
{
	EXPECT_ERRNO("syslog_read_all_bad_buffer", syscall(SYS_syslog, 3, bad, 4096), EFAULT);
	EXPECT_ERRNO("getrusage_bad_buffer", syscall(SYS_getrusage, RUSAGE_SELF, bad), EFAULT);
	EXPECT_ERRNO("settimeofday_bad_tv", syscall(SYS_settimeofday, bad, NULL), EFAULT);
	EXPECT_ERRNO("clock_settime_bad_tp", syscall(SYS_clock_settime, CLOCK_REALTIME, bad), EFAULT);
	EXPECT_ERRNO("adjtimex_bad_buffer", syscall(SYS_adjtimex, bad), EFAULT);
	EXPECT_ERRNO("sethostname_bad_name", syscall(SYS_sethostname, bad, 5), EFAULT);
	EXPECT_ERRNO("pivot_root_bad_path", syscall(SYS_pivot_root, bad, bad), EFAULT);

	long shm = syscall(SYS_shmget, IPC_PRIVATE, 4096, 0600);
	if (shm >= 0) {
		EXPECT_ERRNO("shmctl_stat_bad_buffer", syscall(SYS_shmctl, shm, IPC_STAT, bad), EFAULT);
		syscall(SYS_shmctl, shm, IPC_RMID, NULL);
	} else {
		fail("shmctl_stat_bad_buffer", "shmget: %s", errno_name(errno));
	}
	long sem = syscall(SYS_semget, IPC_PRIVATE, 1, 0600);
	if (sem >= 0) {
		EXPECT_ERRNO("semop_bad_sops", syscall(SYS_semop, sem, bad, 1), EFAULT);
		syscall(SYS_semctl, sem, 0, IPC_RMID, 0);
	} else {
		fail("semop_bad_sops", "semget: %s", errno_name(errno));
	}
	long msq = syscall(SYS_msgget, IPC_PRIVATE, 0600);
	if (msq >= 0) {
		struct {
			long type;
			char text[8];
		} msg = { 1, "hello" };
		EXPECT_ERRNO("msgsnd_bad_message", syscall(SYS_msgsnd, msq, bad, 8, IPC_NOWAIT), EFAULT);
		REQUIRE_VOID(syscall(SYS_msgsnd, msq, &msg, 8, IPC_NOWAIT) == 0);
		EXPECT_ERRNO("msgrcv_bad_buffer", syscall(SYS_msgrcv, msq, bad, 8, 0, IPC_NOWAIT), EFAULT);
		syscall(SYS_msgctl, msq, IPC_RMID, NULL);
	} else {
		fail("msgsnd_bad_message", "msgget: %s", errno_name(errno));
	}
}

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	void *bad = unmapped_address();
	int fd = open("file", O_RDWR | O_CREAT | O_TRUNC, 0644);
	REQUIRE(fd >= 0);
	REQUIRE(write(fd, "0123456789", 10) == 10);
	REQUIRE(lseek(fd, 0, SEEK_SET) == 0);

	EXPECT_ERRNO("read_into_unmapped", syscall(SYS_read, fd, bad, 10), EFAULT);
	CHECK("failed_read_keeps_offset", lseek(fd, 0, SEEK_CUR) == 0, "offset %ld", (long)lseek(fd, 0, SEEK_CUR));
	EXPECT_ERRNO("read_into_low_address", syscall(SYS_read, fd, (void *)8, 10), EFAULT);
	EXPECT_ERRNO("read_into_kernel_address", syscall(SYS_read, fd, (void *)0xffffffff81000000ul, 10), EFAULT);
	EXPECT_ERRNO("read_into_noncanonical", syscall(SYS_read, fd, (void *)0x0000800000000000ul, 10), EFAULT);
	EXPECT_ERRNO("write_from_unmapped", syscall(SYS_write, fd, bad, 10), EFAULT);
	char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(ro != MAP_FAILED);
	EXPECT_ERRNO("read_into_readonly_page", syscall(SYS_read, fd, ro, 10), EFAULT);

	/* A buffer that runs into an unmapped page: a short read, not an error. */
	char *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(two != MAP_FAILED && munmap(two + 4096, 4096) == 0);
	REQUIRE(lseek(fd, 0, SEEK_SET) == 0);
	long n = syscall(SYS_read, fd, two + 4096 - 4, 10);
	CHECK("read_across_into_unmapped_is_short", n == 4 && !memcmp(two + 4092, "0123", 4), "read returned %ld (%s)", n,
	      errno_name(errno));
	/* Longer, so the kernel's copy runs in 8-byte words first: still exact to the byte. */
	int big = open("big", O_RDWR | O_CREAT | O_TRUNC, 0644);
	char hundred[100];
	memset(hundred, 'x', sizeof(hundred));
	REQUIRE(big >= 0 && write(big, hundred, 100) == 100 && lseek(big, 0, SEEK_SET) == 0);
	n = syscall(SYS_read, big, two + 4096 - 13, 100);
	CHECK("long_read_across_into_unmapped_is_exact", n == 13 && lseek(big, 0, SEEK_CUR) == 13,
	      "read returned %ld (%s), offset %ld", n, errno_name(errno), (long)lseek(big, 0, SEEK_CUR));
	memset(two + 4096 - 13, 'y', 13);
	n = syscall(SYS_write, big, two + 4096 - 13, 100);
	CHECK("long_write_across_into_unmapped_is_exact", n == 13, "write returned %ld (%s)", n, errno_name(errno));

	int fds[2];
	REQUIRE(pipe(fds) == 0);
	REQUIRE(write(fds[1], "abc", 3) == 3);
	EXPECT_ERRNO("pipe_read_into_unmapped", syscall(SYS_read, fds[0], bad, 3), EFAULT);
	EXPECT_ERRNO("pipe_write_from_unmapped", syscall(SYS_write, fds[1], bad, 3), EFAULT);
	int devzero = open("/dev/zero", O_RDONLY);
	EXPECT_ERRNO("dev_zero_read_into_unmapped", syscall(SYS_read, devzero, bad, 16), EFAULT);
	struct iovec iov = {bad, 10};
	EXPECT_ERRNO("readv_bad_iovec_base", syscall(SYS_readv, fd, &iov, 1), EFAULT);
	EXPECT_ERRNO("readv_bad_iovec_array", syscall(SYS_readv, fd, bad, 1), EFAULT);

	EXPECT_ERRNO("stat_bad_buffer", syscall(SYS_stat, "file", bad), EFAULT);
	EXPECT_ERRNO("fstat_bad_buffer", syscall(SYS_fstat, fd, bad), EFAULT);
	EXPECT_ERRNO("stat_bad_path", syscall(SYS_stat, bad, two), EFAULT);
	EXPECT_ERRNO("open_bad_path", syscall(SYS_open, bad, O_RDONLY), EFAULT);
	EXPECT_ERRNO("uname_bad_buffer", syscall(SYS_uname, bad), EFAULT);
	EXPECT_ERRNO("clock_gettime_bad_buffer", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, bad), EFAULT);
	EXPECT_ERRNO("nanosleep_bad_request", syscall(SYS_nanosleep, bad, NULL), EFAULT);
	EXPECT_ERRNO("pipe_bad_array", syscall(SYS_pipe, bad), EFAULT);
	EXPECT_ERRNO("getrandom_bad_buffer", syscall(SYS_getrandom, bad, 16, 0), EFAULT);
	EXPECT_ERRNO("rt_sigaction_bad_act", syscall(SYS_rt_sigaction, SIGUSR1, bad, NULL, 8), EFAULT);
	EXPECT_ERRNO("rt_sigprocmask_bad_set", syscall(SYS_rt_sigprocmask, SIG_BLOCK, bad, NULL, 8), EFAULT);
	EXPECT_ERRNO("mkdir_bad_path", syscall(SYS_mkdir, bad, 0755), EFAULT);
	EXPECT_ERRNO("chdir_bad_path", syscall(SYS_chdir, bad), EFAULT);

	/* A string that runs off the end of the mapping. */
	memset(two + 4096 - 100, 'a', 100);
	EXPECT_ERRNO("path_running_into_unmapped", syscall(SYS_open, two + 4096 - 100, O_RDONLY), EFAULT);
	more_calls(bad);
	CHECK("still_alive", getpid() > 0, "unreachable");
	return test_done();
}
