/*
 * poll, select and epoll_wait over many descriptors: results in the right
 * entries and bits past the first 32 pollfds and the first 64 fds, negative
 * and closed descriptors among open ones, fields other than revents left
 * as they were, an array running into an unmapped page (EFAULT), bits at
 * and past n ignored, and epoll_wait handing out more ready events than
 * fit one call in turns, none twice.
 * Linux: fs/select.c (do_sys_poll, do_poll, core_sys_select, do_select),
 * fs/eventpoll.c (ep_send_events, ep_start_scan, ep_done_scan).
 */
#include "test.h"
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>

#define NPIPES 100

static int rd[NPIPES], wr[NPIPES];

static int is_ready(int i)
{
	return i == 0 || i == 33 || i == 64 || i == 70 || i == 99;
}

static void poll_many(void)
{
	static struct pollfd fds[NPIPES + 2];
	for (int i = 0; i < NPIPES; i++)
		fds[i] = (struct pollfd){.fd = rd[i], .events = POLLIN, .revents = 0x5555};
	int closed = dup(rd[1]);
	REQUIRE_VOID(closed >= 0 && close(closed) == 0);
	fds[NPIPES] = (struct pollfd){.fd = -7, .events = POLLIN, .revents = 0x5555};
	fds[NPIPES + 1] = (struct pollfd){.fd = closed, .events = POLLIN, .revents = 0x5555};
	int n = poll(fds, NPIPES + 2, 0);
	CHECK("poll_counts_ready_and_nval", n == 6, "poll %d (%s)", n, errno_name(errno));
	int wrong = -1;
	for (int i = 0; i < NPIPES && wrong < 0; i++)
		if (fds[i].revents != (is_ready(i) ? POLLIN : 0) || fds[i].fd != rd[i] || fds[i].events != POLLIN)
			wrong = i;
	CHECK("poll_revents_per_entry", wrong < 0, "entry %d: fd %d events %#x revents %#x", wrong,
	      wrong < 0 ? 0 : fds[wrong].fd, wrong < 0 ? 0 : fds[wrong].events, wrong < 0 ? 0 : fds[wrong].revents);
	CHECK("poll_negative_fd_zero", fds[NPIPES].revents == 0 && fds[NPIPES].fd == -7, "revents %#x",
	      fds[NPIPES].revents);
	CHECK("poll_closed_fd_nval", fds[NPIPES + 1].revents == POLLNVAL, "revents %#x", fds[NPIPES + 1].revents);

	/* 40 entries, the last 8 on a page that is not mapped. */
	char *pages = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE_VOID(pages != MAP_FAILED && munmap(pages + 4096, 4096) == 0);
	struct pollfd *edge = (struct pollfd *)(pages + 4096) - 32;
	for (int i = 0; i < 32; i++)
		edge[i] = (struct pollfd){.fd = rd[i], .events = POLLIN};
	EXPECT_ERRNO("poll_array_into_unmapped_efault", poll(edge, 40, 0), EFAULT);
	n = poll(edge, 32, 0);
	CHECK("poll_array_up_to_the_edge", n == 1 && edge[0].revents == POLLIN && edge[31].revents == 0, "poll %d",
	      n);
	munmap(pages, 4096);
}

static void select_many(void)
{
	int maxfd = 0;
	for (int i = 0; i < NPIPES; i++) {
		maxfd = rd[i] > maxfd ? rd[i] : maxfd;
		maxfd = wr[i] > maxfd ? wr[i] : maxfd;
	}
	REQUIRE_VOID(maxfd >= 130);
	fd_set r, w;
	FD_ZERO(&r);
	FD_ZERO(&w);
	for (int i = 0; i < NPIPES; i++)
		FD_SET(rd[i], &r);
	FD_SET(wr[99], &w);
	FD_SET(wr[50], &w);
	struct timeval tv = {0, 0};
	int n = select(maxfd + 1, &r, &w, NULL, &tv);
	int wrong = -1;
	for (int i = 0; i < NPIPES && wrong < 0; i++)
		if (!!FD_ISSET(rd[i], &r) != is_ready(i))
			wrong = i;
	CHECK("select_counts_read_and_write", n == 7, "select %d (%s)", n, errno_name(errno));
	CHECK("select_read_bits_per_fd", wrong < 0, "pipe %d (fd %d)", wrong, wrong < 0 ? 0 : rd[wrong]);
	CHECK("select_write_bits_high_fds", FD_ISSET(wr[99], &w) && FD_ISSET(wr[50], &w), "write bits lost");

	/* A closed descriptor at or past n is not looked at; below n it is EBADF. */
	int closed = maxfd + 1;
	FD_ZERO(&r);
	FD_SET(rd[99], &r);
	FD_SET(closed, &r);
	n = select(closed, &r, NULL, NULL, &tv);
	CHECK("select_ignores_bits_past_n", n == 1 && FD_ISSET(rd[99], &r) && !FD_ISSET(closed, &r), "select %d (%s)",
	      n, errno_name(errno));
	FD_ZERO(&r);
	FD_SET(rd[99], &r);
	FD_SET(closed, &r);
	EXPECT_ERRNO("select_closed_high_fd_ebadf", select(closed + 1, &r, NULL, NULL, &tv), EBADF);
}

static void epoll_in_turns(void)
{
	int ep = epoll_create1(0);
	REQUIRE_VOID(ep >= 0);
	/* 40 ready pipes: more than one chunk of events and than maxevents. */
	for (int i = 0; i < 40; i++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)i};
		REQUIRE_VOID(is_ready(i) || write(wr[i], "x", 1) == 1);
		REQUIRE_VOID(epoll_ctl(ep, EPOLL_CTL_ADD, rd[i], &ev) == 0);
	}
	struct epoll_event evs[64];
	int n = epoll_wait(ep, evs, 64, 0);
	unsigned long long seen = 0;
	for (int i = 0; i < n; i++)
		seen |= 1ull << evs[i].data.u64;
	CHECK("epoll_all_ready_in_one_call", n == 40 && seen == (1ull << 40) - 1, "epoll_wait %d, seen %#llx", n, seen);
	/* Level-triggered, 10 at a time: four calls see each pipe once. */
	seen = 0;
	int dup_seen = 0, total = 0;
	for (int call = 0; call < 4; call++) {
		n = epoll_wait(ep, evs, 10, 0);
		total += n > 0 ? n : 0;
		for (int i = 0; i < n; i++) {
			dup_seen |= !!(seen & (1ull << evs[i].data.u64));
			seen |= 1ull << evs[i].data.u64;
		}
	}
	CHECK("epoll_maxevents_in_turns", total == 40 && !dup_seen && seen == (1ull << 40) - 1,
	      "total %d, repeated %d, seen %#llx", total, dup_seen, seen);
	close(ep);
}

int main(void)
{
	struct rlimit rl = {256, 256};
	REQUIRE(setrlimit(RLIMIT_NOFILE, &rl) == 0);
	for (int i = 0; i < NPIPES; i++) {
		int p[2];
		REQUIRE(pipe(p) == 0);
		rd[i] = p[0];
		wr[i] = p[1];
		if (is_ready(i))
			REQUIRE(write(wr[i], "x", 1) == 1);
	}
	poll_many();
	select_many();
	epoll_in_turns();
	return test_done();
}
