/*
 * Waiting on 100 file descriptors, lmbench's `lat_select` on pipes: 100
 * pipes whose read ends are watched, the last one holding a byte so that
 * exactly one is ready and the call returns at once. Each figure is one
 * call that scans every descriptor (select and poll) or, for epoll, one
 * epoll_wait on an instance that already watches all 100 and keeps the
 * ready one on its ready list (level-triggered). Linux: fs/select.c,
 * fs/eventpoll.c.
 */
#include "bench.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>

#define FDS 100

static int readers[FDS];
static int max_fd;
static struct pollfd pollfds[FDS];
static int epfd;

static int one_select(void)
{
	fd_set set;
	FD_ZERO(&set);
	for (int i = 0; i < FDS; i++)
		FD_SET(readers[i], &set);
	struct timeval none = { 0, 0 };
	int n = select(max_fd + 1, &set, NULL, NULL, &none);
	if (n != 1 || !FD_ISSET(readers[FDS - 1], &set)) {
		errno = n < 0 ? errno : EPROTO;
		return -1;
	}
	return 0;
}

static int one_poll(void)
{
	int n = poll(pollfds, FDS, 0);
	if (n != 1 || !(pollfds[FDS - 1].revents & POLLIN)) {
		errno = n < 0 ? errno : EPROTO;
		return -1;
	}
	return 0;
}

static int one_epoll_wait(void)
{
	struct epoll_event events[FDS];
	int n = epoll_wait(epfd, events, FDS, 0);
	if (n != 1 || events[0].data.fd != readers[FDS - 1]) {
		errno = n < 0 ? errno : EPROTO;
		return -1;
	}
	return 0;
}

int main(void)
{
	for (int i = 0; i < FDS; i++) {
		int p[2];
		if (pipe(p) != 0)
			bench_fail("pipe");
		readers[i] = p[0];
		pollfds[i] = (struct pollfd){ .fd = p[0], .events = POLLIN };
		if (p[0] > max_fd)
			max_fd = p[0];
		if (p[1] > max_fd)
			max_fd = p[1];
		/* The write ends stay open: a closed one would make its reader ready. */
		if (i == FDS - 1 && write(p[1], "x", 1) != 1)
			bench_fail("write");
	}
	bench_run_as("select_100", 20000, 1, one_select);
	bench_run_as("poll_100", 20000, 1, one_poll);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		bench_fail("epoll_create1");
	for (int i = 0; i < FDS; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = readers[i] };
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, readers[i], &ev) != 0)
			bench_fail("epoll_ctl");
	}
	bench_run_as("epoll_100", 20000, 1, one_epoll_wait);
	return 0;
}
