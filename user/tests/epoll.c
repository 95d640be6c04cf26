/*
 * epoll: the interest list (EPOLL_CTL_ADD/MOD/DEL and their errors),
 * level- and edge-triggered and one-shot reports, pipe readiness with
 * EPOLLHUP, timeouts, a wake-up from another process, EINTR and
 * epoll_pwait's mask, epoll_pwait2, entries leaving with the last close of
 * their file, nesting and ELOOP, and one ready pipe among 100.
 * Linux: fs/eventpoll.c.
 */
#include "test.h"
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>

#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif

static volatile sig_atomic_t got_usr1;
static void on_usr1(int sig)
{
	(void)sig;
	got_usr1++;
}

static int add(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = {.events = events, .data.u64 = data};
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static void ctl_errors(void)
{
	int p[2], ep = epoll_create1(0);
	REQUIRE_VOID(ep >= 0 && pipe(p) == 0);
	struct epoll_event ev = {.events = EPOLLIN};
	EXPECT_OK("add", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	EXPECT_ERRNO("add_twice_eexist", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), EEXIST);
	EXPECT_ERRNO("mod_absent_enoent", epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &ev), ENOENT);
	EXPECT_ERRNO("del_absent_enoent", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL), ENOENT);
	EXPECT_ERRNO("bad_fd_ebadf", epoll_ctl(ep, EPOLL_CTL_ADD, 999, &ev), EBADF);
	EXPECT_ERRNO("bad_epfd_ebadf", epoll_ctl(999, EPOLL_CTL_ADD, p[0], &ev), EBADF);
	EXPECT_ERRNO("epfd_not_epoll_einval", epoll_ctl(p[0], EPOLL_CTL_ADD, p[1], &ev), EINVAL);
	EXPECT_ERRNO("add_self_einval", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev), EINVAL);
	EXPECT_ERRNO("bad_op_einval", epoll_ctl(ep, 99, p[1], &ev), EINVAL);
	EXPECT_ERRNO("null_event_efault", epoll_ctl(ep, EPOLL_CTL_ADD, p[1], NULL), EFAULT);
	int reg = open("/tmp/epoll_regular", O_CREAT | O_RDWR, 0600);
	if (reg >= 0) {
		EXPECT_ERRNO("regular_file_eperm", epoll_ctl(ep, EPOLL_CTL_ADD, reg, &ev), EPERM);
		close(reg);
		unlink("/tmp/epoll_regular");
	} else {
		fail("regular_file_eperm", "cannot create a file: %s", errno_name(errno));
	}
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	EXPECT_ERRNO("mod_exclusive_einval", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), EINVAL);
	ev.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT;
	EXPECT_ERRNO("exclusive_oneshot_einval", epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ev), EINVAL);
	ev.events = EPOLLOUT | EPOLLEXCLUSIVE;
	EXPECT_OK("exclusive_accepted", epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ev));
	ev.events = EPOLLIN | EPOLLRDHUP;
	EXPECT_OK("rdhup_accepted", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
	EXPECT_OK("del", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
	EXPECT_ERRNO("del_twice_enoent", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), ENOENT);

	struct epoll_event out[4];
	EXPECT_ERRNO("maxevents_0_einval", epoll_wait(ep, out, 0, 0), EINVAL);
	EXPECT_ERRNO("maxevents_negative_einval", epoll_wait(ep, out, -1, 0), EINVAL);
	EXPECT_ERRNO("wait_bad_epfd_ebadf", epoll_wait(999, out, 4, 0), EBADF);
	EXPECT_ERRNO("wait_not_epoll_einval", epoll_wait(p[0], out, 4, 0), EINVAL);
	EXPECT_ERRNO("wait_null_events_efault", epoll_wait(ep, NULL, 4, 0), EFAULT);
	close(p[0]);
	close(p[1]);
	close(ep);
}

/* Pipe readiness, level-triggered: reported while it lasts; EPOLLHUP once the writer is gone. */
static void pipe_readiness(void)
{
	int p[2], ep = (int)syscall(SYS_epoll_create, 1); /* musl maps epoll_create to epoll_create1 */
	REQUIRE_VOID(ep >= 0 && pipe(p) == 0);
	CHECK("create_no_cloexec", fcntl(ep, F_GETFD) == 0, "F_GETFD %d", fcntl(ep, F_GETFD));
	REQUIRE_VOID(add(ep, p[0], EPOLLIN, 0x1234) == 0 && add(ep, p[1], EPOLLOUT, 0x5678) == 0);
	struct epoll_event out[4] = {0};
	int n = epoll_wait(ep, out, 4, 0);
	CHECK("write_end_ready_read_end_not", n == 1 && out[0].events == EPOLLOUT && out[0].data.u64 == 0x5678,
	      "epoll_wait %d, events %#x data %#llx", n, out[0].events, (unsigned long long)out[0].data.u64);
	REQUIRE_VOID(epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL) == 0);
	REQUIRE_VOID(write(p[1], "ab", 2) == 2);
	memset(out, 0, sizeof(out));
	n = epoll_wait(ep, out, 4, 0);
	CHECK("readable_after_write", n == 1 && out[0].events == EPOLLIN && out[0].data.u64 == 0x1234,
	      "epoll_wait %d, events %#x data %#llx", n, out[0].events, (unsigned long long)out[0].data.u64);
	n = epoll_wait(ep, out, 4, 0);
	CHECK("level_triggered_repeats", n == 1 && out[0].events == EPOLLIN, "epoll_wait %d", n);
	char buf[4];
	REQUIRE_VOID(read(p[0], buf, sizeof(buf)) == 2);
	n = epoll_wait(ep, out, 4, 0);
	CHECK("drained_not_reported", n == 0, "epoll_wait %d, events %#x", n, out[0].events);
	struct pollfd pf = {.fd = ep, .events = POLLIN};
	CHECK("epoll_fd_not_readable_when_idle", poll(&pf, 1, 0) == 0, "revents %#x", pf.revents);
	REQUIRE_VOID(write(p[1], "c", 1) == 1);
	CHECK("epoll_fd_readable_when_ready", poll(&pf, 1, 0) == 1 && pf.revents == POLLIN, "revents %#x",
	      pf.revents);
	close(p[1]);
	n = epoll_wait(ep, out, 4, 0);
	CHECK("data_and_hup", n == 1 && out[0].events == (EPOLLIN | EPOLLHUP), "epoll_wait %d, events %#x", n,
	      out[0].events);
	REQUIRE_VOID(read(p[0], buf, sizeof(buf)) == 1);
	n = epoll_wait(ep, out, 4, 0);
	CHECK("hup_after_writer_closed", n == 1 && out[0].events == EPOLLHUP, "epoll_wait %d, events %#x", n,
	      out[0].events);
	close(p[0]);
	close(ep);
}

/* EPOLLET and EPOLLONESHOT over an eventfd. */
static void edge_and_oneshot(void)
{
	int ep = epoll_create1(EPOLL_CLOEXEC), efd = eventfd(0, EFD_NONBLOCK);
	REQUIRE_VOID(ep >= 0 && efd >= 0);
	CHECK("create1_cloexec", fcntl(ep, F_GETFD) == FD_CLOEXEC, "F_GETFD %d", fcntl(ep, F_GETFD));
	EXPECT_ERRNO("create1_bad_flag_einval", epoll_create1(1), EINVAL);
	EXPECT_ERRNO("create_size_0_einval", syscall(SYS_epoll_create, 0), EINVAL);
	EXPECT_ERRNO("create_size_negative_einval", syscall(SYS_epoll_create, -1), EINVAL);
	REQUIRE_VOID(add(ep, efd, EPOLLIN | EPOLLET, 7) == 0);
	struct epoll_event out[2] = {0};
	uint64_t one = 1;
	REQUIRE_VOID(write(efd, &one, 8) == 8);
	int n = epoll_wait(ep, out, 2, 0);
	CHECK("edge_reported", n == 1 && out[0].events == EPOLLIN && out[0].data.u64 == 7, "epoll_wait %d", n);
	n = epoll_wait(ep, out, 2, 0);
	CHECK("edge_not_repeated", n == 0, "epoll_wait %d while no new event came", n);
	REQUIRE_VOID(write(efd, &one, 8) == 8);
	n = epoll_wait(ep, out, 2, 0);
	CHECK("new_edge_reported", n == 1 && out[0].events == EPOLLIN, "epoll_wait %d", n);

	struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT, .data.u64 = 8};
	REQUIRE_VOID(epoll_ctl(ep, EPOLL_CTL_MOD, efd, &ev) == 0);
	n = epoll_wait(ep, out, 2, 0);
	CHECK("oneshot_reported", n == 1 && out[0].data.u64 == 8, "epoll_wait %d", n);
	REQUIRE_VOID(write(efd, &one, 8) == 8);
	n = epoll_wait(ep, out, 2, 0);
	CHECK("oneshot_disarmed", n == 0, "epoll_wait %d", n);
	REQUIRE_VOID(epoll_ctl(ep, EPOLL_CTL_MOD, efd, &ev) == 0);
	n = epoll_wait(ep, out, 2, 0);
	CHECK("oneshot_rearmed_by_mod", n == 1 && out[0].data.u64 == 8, "epoll_wait %d", n);
	close(efd);
	close(ep);
}

/* Waiting: timeouts, another process's write, signals and masks, epoll_pwait2. */
static void waiting(void)
{
	int p[2], ep = epoll_create1(0);
	REQUIRE_VOID(ep >= 0 && pipe(p) == 0);
	REQUIRE_VOID(add(ep, p[0], EPOLLIN, 42) == 0);
	struct epoll_event out[2] = {0};
	long long t0 = now_ms();
	int n = epoll_wait(ep, out, 2, 60);
	long long took = now_ms() - t0;
	CHECK("timeout_expires", n == 0 && took >= 60, "epoll_wait %d after %lld ms", n, took);

	pid_t pid = poke_later(50, p[1]);
	REQUIRE_VOID(pid > 0);
	n = epoll_wait(ep, out, 2, -1);
	CHECK("woken_by_other_process", n == 1 && out[0].events == EPOLLIN && out[0].data.u64 == 42,
	      "epoll_wait %d (%s)", n, errno_name(errno));
	wait_status(pid);
	char c;
	REQUIRE_VOID(read(p[0], &c, 1) == 1);

	struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	REQUIRE_VOID(sigaction(SIGUSR1, &sa, NULL) == 0);
	pid = poke_later(50, -1);
	REQUIRE_VOID(pid > 0);
	errno = 0;
	n = epoll_wait(ep, out, 2, -1);
	expect_errno("eintr_even_with_sa_restart", n, errno, EINTR);
	wait_status(pid);

	sigset_t block, none, now;
	sigemptyset(&block);
	sigemptyset(&none);
	sigaddset(&block, SIGUSR1);
	REQUIRE_VOID(sigprocmask(SIG_BLOCK, &block, NULL) == 0);
	got_usr1 = 0;
	pid = poke_later(50, -1);
	REQUIRE_VOID(pid > 0);
	errno = 0;
	n = epoll_pwait(ep, out, 2, -1, &none);
	expect_errno("pwait_mask_lets_signal_in", n, errno, EINTR);
	sigprocmask(SIG_BLOCK, NULL, &now);
	CHECK("pwait_mask_restored", got_usr1 == 1 && sigismember(&now, SIGUSR1), "handler ran %d, blocked %d",
	      (int)got_usr1, sigismember(&now, SIGUSR1));
	wait_status(pid);
	REQUIRE_VOID(sigprocmask(SIG_UNBLOCK, &block, NULL) == 0);
	EXPECT_ERRNO("pwait_bad_sigsetsize_einval", syscall(SYS_epoll_pwait, ep, out, 2, 0, &none, 4), EINVAL);

	struct timespec ts = {0, 40000000};
	t0 = now_ms();
	n = (int)syscall(SYS_epoll_pwait2, ep, out, 2, &ts, NULL, 8);
	took = now_ms() - t0;
	CHECK("pwait2_timeout", n == 0 && took >= 40, "epoll_pwait2 %d after %lld ms", n, took);
	ts.tv_nsec = 1000000000;
	EXPECT_ERRNO("pwait2_bad_timespec_einval", syscall(SYS_epoll_pwait2, ep, out, 2, &ts, NULL, 8), EINVAL);
	REQUIRE_VOID(write(p[1], "y", 1) == 1);
	n = (int)syscall(SYS_epoll_pwait2, ep, out, 2, NULL, NULL, 8);
	CHECK("pwait2_no_timeout_ready", n == 1 && out[0].data.u64 == 42, "epoll_pwait2 %d", n);
	close(p[0]);
	close(p[1]);
	close(ep);
}

/* An entry lives as long as its file: a dup keeps it, the last close removes it. */
static void lifetime(void)
{
	int p[2], ep = epoll_create1(0);
	REQUIRE_VOID(ep >= 0 && pipe(p) == 0);
	REQUIRE_VOID(add(ep, p[0], EPOLLIN, 9) == 0 && write(p[1], "d", 1) == 1);
	int copy = dup(p[0]);
	REQUIRE_VOID(copy >= 0);
	close(p[0]);
	struct epoll_event out[2] = {0};
	int n = epoll_wait(ep, out, 2, 0);
	CHECK("dup_keeps_entry", n == 1 && out[0].data.u64 == 9, "epoll_wait %d", n);
	EXPECT_ERRNO("closed_fd_cannot_be_deleted", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), EBADF);
	close(copy);
	n = epoll_wait(ep, out, 2, 0);
	CHECK("last_close_removes_entry", n == 0, "epoll_wait %d", n);
	close(p[1]);
	close(ep);
}

/* An epoll fd inside another: events pass through; a loop is refused. */
static void nesting(void)
{
	int outer = epoll_create1(0), inner = epoll_create1(0), efd = eventfd(0, 0);
	REQUIRE_VOID(outer >= 0 && inner >= 0 && efd >= 0);
	REQUIRE_VOID(add(inner, efd, EPOLLIN, 1) == 0);
	EXPECT_OK("add_epoll_to_epoll", add(outer, inner, EPOLLIN, 2));
	EXPECT_ERRNO("loop_eloop", add(inner, outer, EPOLLIN, 3), ELOOP);
	struct epoll_event out[2] = {0};
	int n = epoll_wait(outer, out, 2, 0);
	CHECK("nested_idle", n == 0, "epoll_wait %d", n);
	uint64_t one = 1;
	REQUIRE_VOID(write(efd, &one, 8) == 8);
	n = epoll_wait(outer, out, 2, 1000);
	CHECK("nested_ready", n == 1 && out[0].events == EPOLLIN && out[0].data.u64 == 2, "epoll_wait %d", n);
	close(efd);
	close(inner);
	close(outer);
}

/* 100 pipes watched, one written: exactly its cookie comes back; maxevents caps the count. */
static void hundred(void)
{
	int pipes[100][2], made = 0, ep = epoll_create1(0);
	REQUIRE_VOID(ep >= 0);
	for (; made < 100 && pipe(pipes[made]) == 0; made++)
		if (add(ep, pipes[made][0], EPOLLIN, 1000 + made) != 0)
			break;
	REQUIRE_VOID(made == 100);
	REQUIRE_VOID(write(pipes[73][1], "z", 1) == 1);
	struct epoll_event out[100];
	memset(out, 0, sizeof(out));
	int n = epoll_wait(ep, out, 100, 1000);
	CHECK("one_ready_among_100", n == 1 && out[0].data.u64 == 1073 && out[0].events == EPOLLIN,
	      "epoll_wait %d, data %llu", n, (unsigned long long)out[0].data.u64);
	for (int i = 0; i < 3; i++)
		REQUIRE_VOID(write(pipes[i][1], "z", 1) == 1);
	n = epoll_wait(ep, out, 2, 0);
	CHECK("maxevents_caps", n == 2, "epoll_wait %d with maxevents 2 and 4 ready", n);
	for (int i = 0; i < 100; i++) {
		close(pipes[i][0]);
		close(pipes[i][1]);
	}
	close(ep);
}

int main(void)
{
	ctl_errors();
	pipe_readiness();
	edge_and_oneshot();
	waiting();
	lifetime();
	nesting();
	hundred();
	return test_done();
}
