/*
 * test.h: the helpers every system test shares (the .c files beside it).
 *
 * A test program checks one behaviour of the kernel, with its failure paths,
 * and prints exactly one line per check on stdout:
 *
 *     ok - PROGRAM/CHECK
 *     not ok - PROGRAM/CHECK: why (errno ENAME)
 *
 * and at the end one summary line, "# PROGRAM: N passed, M failed". It exits
 * with 0 only if every check passed. PROGRAM is TEST_NAME, which xtask sets
 * to the file's stem (-DTEST_NAME="\"fork\""). The lines are written with
 * write(2), never through stdio's buffer, so that fork cannot duplicate them;
 * only the test's own process prints: children report through their exit
 * status or a pipe.
 *
 * Linux is the specification: every check passes on Debian's Linux 6.1 in
 * the same QEMU machine (`cargo xtask systest --linux`).
 */
#ifndef FERRITE_TEST_H
#define FERRITE_TEST_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef TEST_NAME
#error "TEST_NAME must be defined, e.g. -DTEST_NAME='\"fork\"'"
#endif

#define TEST_HELPER __attribute__((unused)) static

static int test_passed, test_failed;

/* Writes all of `len` bytes of `buf` to stdout, retrying short writes. */
TEST_HELPER void test_write(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(1, buf, len);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* printf to stdout, unbuffered, as one write. */
__attribute__((format(printf, 1, 2))) TEST_HELPER void test_print(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	test_write(line, (size_t)n);
}

/* Linux's name for an errno value ("EFAULT"), for failure reports. */
TEST_HELPER const char *errno_name(int e)
{
	static const char *const names[] = {
		[0] = "0",		[EPERM] = "EPERM",	[ENOENT] = "ENOENT",
		[ESRCH] = "ESRCH",	[EINTR] = "EINTR",	[EIO] = "EIO",
		[ENXIO] = "ENXIO",	[E2BIG] = "E2BIG",	[ENOEXEC] = "ENOEXEC",
		[EBADF] = "EBADF",	[ECHILD] = "ECHILD",	[EAGAIN] = "EAGAIN",
		[ENOMEM] = "ENOMEM",	[EACCES] = "EACCES",	[EFAULT] = "EFAULT",
		[EBUSY] = "EBUSY",	[EEXIST] = "EEXIST",	[EXDEV] = "EXDEV",
		[ENODEV] = "ENODEV",	[ENOTDIR] = "ENOTDIR",	[EISDIR] = "EISDIR",
		[EINVAL] = "EINVAL",	[ENFILE] = "ENFILE",	[EMFILE] = "EMFILE",
		[ENOTTY] = "ENOTTY",	[EFBIG] = "EFBIG",	[ENOSPC] = "ENOSPC",
		[ESPIPE] = "ESPIPE",	[EROFS] = "EROFS",	[EMLINK] = "EMLINK",
		[EPIPE] = "EPIPE",	[ERANGE] = "ERANGE",	[ENAMETOOLONG] = "ENAMETOOLONG",
		[ENOSYS] = "ENOSYS",	[ENOTEMPTY] = "ENOTEMPTY", [ELOOP] = "ELOOP",
		[EOVERFLOW] = "EOVERFLOW", [ENODATA] = "ENODATA", [EOPNOTSUPP] = "EOPNOTSUPP",
	};
	if (e >= 0 && (size_t)e < sizeof(names) / sizeof(names[0]) && names[e])
		return names[e];
	/* Two buffers: one message may name two errnos. */
	static char other[2][16];
	static int turn;
	turn ^= 1;
	snprintf(other[turn], sizeof(other[turn]), "errno %d", e);
	return other[turn];
}

TEST_HELPER void pass(const char *check)
{
	test_passed++;
	test_print("ok - %s/%s\n", TEST_NAME, check);
}

__attribute__((format(printf, 2, 3))) TEST_HELPER void fail(const char *check, const char *fmt, ...)
{
	char why[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	test_failed++;
	test_print("not ok - %s/%s: %s\n", TEST_NAME, check, why);
}

/* Passes if `cond`, else fails with the formatted reason. */
#define CHECK(check, cond, ...)                                                                    \
	do {                                                                                       \
		if (cond)                                                                          \
			pass(check);                                                                \
		else                                                                               \
			fail(check, __VA_ARGS__);                                                   \
	} while (0)

/* Passes if the call returned -1 with errno `want` (read errno right after the call). */
TEST_HELPER void expect_errno(const char *check, long ret, int err, int want)
{
	if (ret == -1 && err == want)
		pass(check);
	else if (ret == -1)
		fail(check, "failed with %s, expected %s", errno_name(err), errno_name(want));
	else
		fail(check, "returned %ld, expected -1 with %s", ret, errno_name(want));
}

/* Calls EXPR and checks that it fails with errno WANT. */
#define EXPECT_ERRNO(check, expr, want)                                                            \
	do {                                                                                       \
		errno = 0;                                                                         \
		long ret_ = (long)(expr);                                                          \
		expect_errno(check, ret_, errno, want);                                            \
	} while (0)

/* Calls EXPR and checks that it does not return -1. */
#define EXPECT_OK(check, expr)                                                                     \
	do {                                                                                       \
		errno = 0;                                                                         \
		long ret_ = (long)(expr);                                                          \
		if (ret_ == -1)                                                                    \
			fail(check, "%s failed with %s", #expr, errno_name(errno));                \
		else                                                                               \
			pass(check);                                                                \
	} while (0)

/* Stops the program at once: a step the remaining checks need failed. */
#define REQUIRE(expr)                                                                              \
	do {                                                                                       \
		if (!(expr)) {                                                                     \
			fail("setup", "%s:%d: %s (errno %s)", __FILE__, __LINE__, #expr,           \
			     errno_name(errno));                                                    \
			return test_done();                                                         \
		}                                                                                  \
	} while (0)

/* REQUIRE for helpers that return nothing: the setup fails and the helper returns. */
#define REQUIRE_VOID(expr)                                                                         \
	do {                                                                                       \
		if (!(expr)) {                                                                     \
			fail("setup", "%s:%d: %s (errno %s)", __FILE__, __LINE__, #expr,           \
			     errno_name(errno));                                                    \
			return;                                                                     \
		}                                                                                  \
	} while (0)

/* CLOCK_MONOTONIC in milliseconds, for tests that time a wait. */
TEST_HELPER long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Forks a child that sleeps `ms`, then writes a byte to `fd` (fd >= 0) or
 * sends SIGUSR1 to its parent: the event a test then waits for.
 */
TEST_HELPER pid_t poke_later(int ms, int fd)
{
	pid_t pid = fork();
	if (pid == 0) {
		usleep((useconds_t)ms * 1000);
		if (fd >= 0)
			(void)!write(fd, "x", 1);
		else
			kill(getppid(), SIGUSR1);
		_exit(0);
	}
	return pid;
}

/*
 * Faults a test provokes on purpose: install on_fault for SIGSEGV/SIGBUS
 * with SA_SIGINFO, then faults(p, write) touches *p and says whether that
 * faulted; fault_signo, fault_code and fault_addr hold the signal's siginfo.
 */
__attribute__((unused)) static sigjmp_buf fault_jump;
__attribute__((unused)) static volatile sig_atomic_t fault_signo, fault_code;
__attribute__((unused)) static void *volatile fault_addr;

TEST_HELPER void on_fault(int sig, siginfo_t *info, void *context)
{
	(void)context;
	fault_signo = sig;
	fault_code = info->si_code;
	fault_addr = info->si_addr;
	siglongjmp(fault_jump, 1);
}

TEST_HELPER int faults(volatile char *p, int write)
{
	fault_signo = 0;
	fault_code = 0;
	fault_addr = NULL;
	if (sigsetjmp(fault_jump, 1) == 0) {
		if (write)
			*p = 1;
		else
			(void)*p;
		return 0;
	}
	return 1;
}

/* fork() into a new PID namespace: the child is its PID 1 (raw clone: musl has no wrapper). */
TEST_HELPER pid_t fork_newpid(void)
{
	return (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0);
}

/* Prints the summary line; the value to return from main. */
TEST_HELPER int test_done(void)
{
	test_print("# %s: %d passed, %d failed\n", TEST_NAME, test_passed, test_failed);
	return test_failed == 0 && test_passed > 0 ? 0 : 1;
}

/* Makes a fresh scratch directory /tmp/TEST_NAME and enters it. */
TEST_HELPER int enter_scratch_dir(void)
{
	char path[256];
	snprintf(path, sizeof(path), "/tmp/%s", TEST_NAME);
	mkdir("/tmp", 01777);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		return -1;
	return chdir(path);
}

/*
 * The magic number (statfs's f_type) of the file system `path` is on:
 * 0x01021994 tmpfs, 0xef53 ext2 (and ext3/ext4), 0 if statfs fails. Tests
 * that the ext2-root tier also runs (xtask/src/systest/ext2root.rs) expect
 * what Linux does on the file system they find.
 */
#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif
#ifndef EXT2_SUPER_MAGIC
#define EXT2_SUPER_MAGIC 0xef53
#endif
TEST_HELPER long fs_magic(const char *path)
{
	struct statfs sfs;
	return statfs(path, &sfs) == 0 ? (long)sfs.f_type : 0;
}

/* Reads a whole small file into buf, NUL-terminated; the length, or -1. */
TEST_HELPER ssize_t slurp(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t total = 0, n;
	while ((n = read(fd, buf + total, size - 1 - (size_t)total)) > 0)
		total += n;
	close(fd);
	buf[total] = 0;
	return total;
}

/*
 * Runs `cmd` with /bin/sh -c, its stdout and stderr into `out` (cut to fit,
 * the rest read and dropped, NUL-terminated); its exit status, or -1 if it
 * did not exit.
 */
TEST_HELPER int run_sh(const char *cmd, char *out, size_t size)
{
	int fds[2];
	if (pipe(fds) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	size_t len = 0;
	ssize_t n;
	while (len + 1 < size && (n = read(fds[0], out + len, size - 1 - len)) > 0)
		len += (size_t)n;
	char sink[256];
	while (read(fds[0], sink, sizeof(sink)) > 0)
		;
	out[len] = 0;
	close(fds[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * Runs `fn(arg)` in a child as user and group 65534 (nobody); the child's
 * exit status (99: it could not switch, 100: it did not exit).
 */
TEST_HELPER int as_nobody(int (*fn)(int), int arg)
{
	pid_t child = fork();
	if (child == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(99);
		_exit(fn(arg));
	}
	int status = 0;
	waitpid(child, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

/* Waits for `pid` and returns its wait status, or -1. */
TEST_HELPER int wait_status(pid_t pid)
{
	int status;
	pid_t got;
	do
		got = waitpid(pid, &status, 0);
	while (got < 0 && errno == EINTR);
	return got == pid ? status : -1;
}

/*
 * Runs `fn` in a child with uid/gid 1000 and supplementary group 2000;
 * its exit code (fn's return value), 99 if the credentials could not be
 * dropped, 98 if the child did not exit.
 */
TEST_HELPER int run_as_user(int (*fn)(void))
{
	pid_t pid = fork();
	if (pid == 0) {
		gid_t groups[1] = { 2000 };
		if (setgroups(1, groups) != 0 || setgid(1000) != 0 || setuid(1000) != 0)
			_exit(99);
		_exit(fn());
	}
	int status = wait_status(pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 98;
}

/* Describes a wait status: "exit 3", "signal 9". */
TEST_HELPER const char *status_text(int status)
{
	static char text[32];
	if (status == -1)
		snprintf(text, sizeof(text), "no status (%s)", errno_name(errno));
	else if (WIFEXITED(status))
		snprintf(text, sizeof(text), "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(text, sizeof(text), "signal %d", WTERMSIG(status));
	else
		snprintf(text, sizeof(text), "status %#x", status);
	return text;
}

/* Did the child end with _exit(code)? */
TEST_HELPER int exited_with(int status, int code)
{
	return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == code;
}

/*
 * An address that is not mapped: a page at 1 TiB, checked free by mapping
 * it there (as a hint) and unmapped again. mmap without a hint allocates
 * top-down below the stack, so it stays free.
 */
TEST_HELPER void *unmapped_address(void)
{
	void *hint = (void *)(1ul << 40);
	void *p = mmap(hint, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED)
		munmap(p, 4096);
	return p == hint ? p : (void *)8;
}

#endif
