/*
 * EINVAL: unknown flags, commands and values are refused, one case per
 * syscall (others live in their own tests). Raw syscalls where libc would
 * check first. Linux: each syscall's own argument checks.
 */
#include "test.h"
#include <signal.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	int fd = open("file", O_RDWR | O_CREAT | O_TRUNC, 0644);
	REQUIRE(fd >= 0);
	char buf[16];
	struct timespec ts;
	int st;
	EXPECT_ERRNO("lseek_whence", lseek(fd, 0, 7), EINVAL);
	EXPECT_ERRNO("fcntl_cmd", fcntl(fd, 12345), EINVAL);
	EXPECT_ERRNO("dup3_flags", syscall(SYS_dup3, fd, 40, 1), EINVAL);
	EXPECT_ERRNO("pipe2_flags", syscall(SYS_pipe2, buf, 1), EINVAL);
	EXPECT_ERRNO("wait4_options", syscall(SYS_wait4, -1, &st, 0x10000, NULL), EINVAL);
	EXPECT_ERRNO("mmap_flags_none", mmap(NULL, 4096, PROT_READ, MAP_ANONYMOUS, -1, 0), EINVAL);
	EXPECT_ERRNO("clock_gettime_clock", syscall(SYS_clock_gettime, 12345, &ts), EINVAL);
	ts.tv_sec = 0;
	ts.tv_nsec = 1000000000;
	EXPECT_ERRNO("nanosleep_nsec_too_big", syscall(SYS_nanosleep, &ts, NULL), EINVAL);
	ts.tv_sec = -1;
	ts.tv_nsec = 0;
	EXPECT_ERRNO("nanosleep_negative", syscall(SYS_nanosleep, &ts, NULL), EINVAL);
	EXPECT_ERRNO("getrandom_flags", syscall(SYS_getrandom, buf, sizeof(buf), 0x100), EINVAL);
	struct rlimit rl;
	EXPECT_ERRNO("prlimit_resource", syscall(SYS_prlimit64, 0, 999, NULL, &rl), EINVAL);
	EXPECT_ERRNO("kill_signal", kill(getpid(), 65), EINVAL);
	EXPECT_ERRNO("kill_negative_signal", kill(getpid(), -1), EINVAL);
	EXPECT_ERRNO("sigaction_sigkill", syscall(SYS_rt_sigaction, SIGKILL, &(struct sigaction){0}, NULL, 8), EINVAL);
	EXPECT_ERRNO("sigaction_signal_0", syscall(SYS_rt_sigaction, 0, NULL, NULL, 8), EINVAL);
	EXPECT_ERRNO("sigaction_signal_65", syscall(SYS_rt_sigaction, 65, NULL, NULL, 8), EINVAL);
	EXPECT_ERRNO("sigaction_sigsetsize", syscall(SYS_rt_sigaction, SIGUSR1, NULL, NULL, 4), EINVAL);
	sigset_t set;
	sigemptyset(&set);
	EXPECT_ERRNO("sigprocmask_how", syscall(SYS_rt_sigprocmask, 7, &set, NULL, 8), EINVAL);
	EXPECT_ERRNO("sigprocmask_sigsetsize", syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 16), EINVAL);
	EXPECT_ERRNO("faccessat_flags", syscall(SYS_faccessat2, AT_FDCWD, "file", F_OK, 0x1), EINVAL);
	EXPECT_ERRNO("access_mode", access("file", 8), EINVAL);
	EXPECT_ERRNO("unlinkat_flags", syscall(SYS_unlinkat, AT_FDCWD, "file", 0x1), EINVAL);
	EXPECT_ERRNO("fstatat_flags", syscall(SYS_newfstatat, AT_FDCWD, "file", buf, 0x1), EINVAL);
	EXPECT_ERRNO("readlink_size_0", syscall(SYS_readlink, "file", buf, 0), EINVAL);
	EXPECT_ERRNO("ftruncate_negative", ftruncate(fd, -1), EINVAL);
	EXPECT_ERRNO("mprotect_unaligned", syscall(SYS_mprotect, (void *)0x1001, 4096, PROT_READ), EINVAL);
	EXPECT_ERRNO("munmap_unaligned", syscall(SYS_munmap, (void *)0x1001, 4096), EINVAL);
	EXPECT_ERRNO("rename_into_itself", (mkdir("d", 0755), rename("d", "d/e")), EINVAL);
	EXPECT_ERRNO("setpgid_negative_pid", setpgid(-1, 0), EINVAL);
	return test_done();
}
