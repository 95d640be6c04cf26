/*
 * eventfd and eventfd2: a 64-bit counter that writes add to and reads
 * take (all of it, or 1 with EFD_SEMAPHORE); 8-byte transfers, EAGAIN
 * when empty or full, the u64 maximum refused, poll readiness, a blocked
 * read woken by another process and interrupted by a signal.
 * Linux: fs/eventfd.c.
 */
#include "test.h"
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>

static volatile sig_atomic_t got_usr1;
static void on_usr1(int sig)
{
	(void)sig;
	got_usr1++;
}

static long read_u64(int fd, uint64_t *v)
{
	return read(fd, v, sizeof(*v));
}

static long write_u64(int fd, uint64_t v)
{
	return write(fd, &v, sizeof(v));
}

static short poll_events(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
	return poll(&p, 1, 0) < 0 ? -1 : p.revents;
}

/* Forks a child that sleeps `ms`, then runs `what` (0: write 42 to fd, 1: SIGUSR1 to the parent). */
static pid_t later(int ms, int what, int fd)
{
	pid_t pid = fork();
	if (pid == 0) {
		usleep((useconds_t)ms * 1000);
		if (what == 0)
			write_u64(fd, 42);
		else
			kill(getppid(), SIGUSR1);
		_exit(0);
	}
	return pid;
}

int main(void)
{
	uint64_t v = 0;
	int fd = eventfd(5, 0);
	REQUIRE(fd >= 0);
	CHECK("read_returns_initval", read_u64(fd, &v) == 8 && v == 5, "read %llu", (unsigned long long)v);
	CHECK("rdwr_blocking_by_default", (fcntl(fd, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) == O_RDWR, "F_GETFL %#x",
	      fcntl(fd, F_GETFL));
	CHECK("no_cloexec_by_default", fcntl(fd, F_GETFD) == 0, "F_GETFD %d", fcntl(fd, F_GETFD));
	CHECK("empty_is_writable_not_readable", poll_events(fd) == POLLOUT, "revents %#x", poll_events(fd));
	uint32_t small = 1;
	EXPECT_ERRNO("read_4_bytes_einval", read(fd, &small, sizeof(small)), EINVAL);
	EXPECT_ERRNO("write_4_bytes_einval", write(fd, &small, sizeof(small)), EINVAL);
	CHECK("writes_add_up", write_u64(fd, 2) == 8 && write_u64(fd, 3) == 8, "write failed: %s", errno_name(errno));
	CHECK("readable_and_writable", poll_events(fd) == (POLLIN | POLLOUT), "revents %#x", poll_events(fd));
	uint64_t big[2] = {0, 0};
	CHECK("long_read_returns_8_and_the_sum", read(fd, big, sizeof(big)) == 8 && big[0] == 5, "read %llu",
	      (unsigned long long)big[0]);
	EXPECT_ERRNO("write_u64_max_einval", write_u64(fd, UINT64_MAX), EINVAL);
	close(fd);

	fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	REQUIRE(fd >= 0);
	CHECK("efd_nonblock_sets_o_nonblock", (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0, "F_GETFL %#x", fcntl(fd, F_GETFL));
	CHECK("efd_cloexec_sets_fd_cloexec", fcntl(fd, F_GETFD) == FD_CLOEXEC, "F_GETFD %d", fcntl(fd, F_GETFD));
	EXPECT_ERRNO("empty_nonblocking_read_eagain", read_u64(fd, &v), EAGAIN);
	CHECK("write_up_to_max_minus_1", write_u64(fd, UINT64_MAX - 1) == 8, "write: %s", errno_name(errno));
	CHECK("full_is_readable_not_writable", poll_events(fd) == POLLIN, "revents %#x", poll_events(fd));
	EXPECT_ERRNO("overflowing_write_eagain", write_u64(fd, 1), EAGAIN);
	CHECK("zero_write_fits_when_full", write_u64(fd, 0) == 8, "write 0: %s", errno_name(errno));
	CHECK("read_takes_everything", read_u64(fd, &v) == 8 && v == UINT64_MAX - 1, "read %#llx",
	      (unsigned long long)v);
	close(fd);

	fd = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
	REQUIRE(fd >= 0);
	int ones = 0;
	for (int i = 0; i < 3; i++)
		ones += read_u64(fd, &v) == 8 && v == 1;
	CHECK("semaphore_reads_1_each_time", ones == 3, "%d of 3 reads gave 1", ones);
	EXPECT_ERRNO("semaphore_empty_eagain", read_u64(fd, &v), EAGAIN);
	close(fd);

	EXPECT_ERRNO("eventfd2_unknown_flag_einval", syscall(SYS_eventfd2, 0, 8), EINVAL);
	EXPECT_ERRNO("eventfd2_o_append_einval", syscall(SYS_eventfd2, 0, O_APPEND), EINVAL);
	long old = syscall(SYS_eventfd, 7);
	CHECK("old_eventfd_syscall", old >= 0 && read_u64((int)old, &v) == 8 && v == 7, "eventfd(7) %ld, read %llu",
	      old, (unsigned long long)v);
	if (old >= 0)
		close((int)old);

	/* A blocking read sleeps until another process writes. */
	fd = eventfd(0, 0);
	REQUIRE(fd >= 0);
	pid_t pid = later(50, 0, fd);
	REQUIRE(pid > 0);
	v = 0;
	CHECK("blocking_read_woken_by_writer", read_u64(fd, &v) == 8 && v == 42, "read %llu (%s)",
	      (unsigned long long)v, errno_name(errno));
	wait_status(pid);

	/* A blocking read is interrupted by a handled signal without SA_RESTART. */
	struct sigaction sa = {.sa_handler = on_usr1};
	sigemptyset(&sa.sa_mask);
	REQUIRE(sigaction(SIGUSR1, &sa, NULL) == 0);
	pid = later(50, 1, fd);
	REQUIRE(pid > 0);
	errno = 0;
	long r = read_u64(fd, &v);
	expect_errno("blocking_read_eintr", r, errno, EINTR);
	CHECK("handler_ran", got_usr1 == 1, "handler ran %d times", (int)got_usr1);
	wait_status(pid);
	close(fd);
	return test_done();
}
