/*
 * TCP over loopback: echo both ways, names (getsockname, getpeername, IPv4
 * and IPv6, IPv4-mapped peers on a dual-stack listener), a burst of
 * connections through a small backlog, ECONNREFUSED, EADDRINUSE,
 * nonblocking connect with poll and SO_ERROR (EINPROGRESS, EALREADY,
 * EISCONN), MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL, FIONREAD/SIOCOUTQ,
 * SO_RCVTIMEO, shutdown (SHUT_WR gives the peer EOF, send after it is
 * EPIPE with SIGPIPE), a reset peer (EPIPE, MSG_NOSIGNAL), a 1 MiB
 * transfer checked byte by byte, and /proc/net/tcp listing a listener.
 * Linux: net/ipv4/tcp.c, af_inet.c, tcp_ipv4.c.
 */
#include "test.h"
#include "net.h"
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>

#ifndef SIOCOUTQ
#define SIOCOUTQ TIOCOUTQ
#endif

static volatile sig_atomic_t got_pipe;
static void on_pipe(int sig)
{
	(void)sig;
	got_pipe++;
}

/* A listener on 127.0.0.1, port chosen by the kernel; its port in *port. */
static int listener(int backlog, int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = sin_lo(0);
	socklen_t len = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, backlog) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

static int connect_to(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = sin_lo(port);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static short poll_one(int fd, short events, int ms)
{
	struct pollfd p = {.fd = fd, .events = events};
	return poll(&p, 1, ms) < 0 ? -1 : p.revents;
}

static void check_echo_and_names(int lfd, int port)
{
	int c = connect_to(port);
	REQUIRE_VOID(c >= 0);
	struct sockaddr_in peer, me;
	socklen_t plen = sizeof(peer), mlen = sizeof(me);
	int s = accept(lfd, (struct sockaddr *)&peer, &plen);
	REQUIRE_VOID(s >= 0);
	getsockname(c, (struct sockaddr *)&me, &mlen);
	CHECK("accept_peer_is_client", plen == sizeof(peer) && peer.sin_port == me.sin_port &&
					       peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
	      "peer port %d, client port %d", ntohs(peer.sin_port), ntohs(me.sin_port));
	mlen = sizeof(me);
	getpeername(c, (struct sockaddr *)&me, &mlen);
	CHECK("getpeername_is_listener", ntohs(me.sin_port) == port, "port %d", ntohs(me.sin_port));
	mlen = sizeof(me);
	getsockname(s, (struct sockaddr *)&me, &mlen);
	CHECK("accepted_name_is_listener_port", ntohs(me.sin_port) == port, "port %d", ntohs(me.sin_port));

	char buf[64] = {0};
	CHECK("send", send(c, "hello", 5, 0) == 5, "errno %s", errno_name(errno));
	CHECK("poll_in_after_send", poll_one(s, POLLIN, 1000) & POLLIN, "no POLLIN");
	int n = -1;
	CHECK("fionread", ioctl(s, FIONREAD, &n) == 0 && n == 5, "FIONREAD %d", n);
	CHECK("peek", recv(s, buf, sizeof(buf), MSG_PEEK) == 5 && memcmp(buf, "hello", 5) == 0, "peek failed");
	memset(buf, 0, sizeof(buf));
	CHECK("recv", recv(s, buf, sizeof(buf), 0) == 5 && memcmp(buf, "hello", 5) == 0, "got '%s'", buf);
	EXPECT_ERRNO("recv_dontwait_empty", recv(s, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	CHECK("echo_back", write(s, "world!", 6) == 6 && read(c, buf, sizeof(buf)) == 6 &&
				   memcmp(buf, "world!", 6) == 0,
	      "echo failed");
	n = -1;
	CHECK("siocoutq_drained", ioctl(c, SIOCOUTQ, &n) == 0 && n == 0, "SIOCOUTQ %d", n);

	struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	long long t0 = now_ms();
	EXPECT_ERRNO("rcvtimeo_eagain", recv(s, buf, sizeof(buf), 0), EAGAIN);
	CHECK("rcvtimeo_waited", now_ms() - t0 >= 150, "waited %lld ms", now_ms() - t0);

	int one = 1, v = 0;
	socklen_t vlen = sizeof(v);
	CHECK("tcp_nodelay", setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0 &&
				     getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, &vlen) == 0 && v == 1,
	      "TCP_NODELAY %d", v);

	/* MSG_WAITALL gathers two sends made apart. */
	pid_t pid = fork();
	if (pid == 0) {
		send(c, "abc", 3, 0);
		usleep(100000);
		send(c, "defgh", 5, 0);
		_exit(0);
	}
	memset(buf, 0, sizeof(buf));
	n = (int)recv(s, buf, 8, MSG_WAITALL);
	CHECK("waitall", n == 8 && memcmp(buf, "abcdefgh", 8) == 0, "got %d '%s'", n, buf);
	waitpid(pid, NULL, 0);

	/* SHUT_WR: the peer reads EOF, we still read, a send is EPIPE + SIGPIPE. */
	CHECK("shut_wr", shutdown(c, SHUT_WR) == 0, "errno %s", errno_name(errno));
	CHECK("peer_reads_eof", read(s, buf, sizeof(buf)) == 0, "no EOF");
	CHECK("poll_rdhup", poll_one(s, POLLIN | POLLRDHUP, 0) & POLLRDHUP, "no POLLRDHUP");
	CHECK("read_after_shut_wr", write(s, "x", 1) == 1 && read(c, buf, 1) == 1 && buf[0] == 'x', "no data");
	got_pipe = 0;
	EXPECT_ERRNO("send_after_shut_wr_epipe", send(c, "y", 1, 0), EPIPE);
	CHECK("sigpipe_raised", got_pipe == 1, "%d SIGPIPEs", (int)got_pipe);
	got_pipe = 0;
	EXPECT_ERRNO("msg_nosignal_epipe", send(c, "y", 1, MSG_NOSIGNAL), EPIPE);
	CHECK("msg_nosignal_no_sigpipe", got_pipe == 0, "%d SIGPIPEs", (int)got_pipe);
	close(s);
	CHECK("eof_after_peer_close", read(c, buf, sizeof(buf)) == 0, "no EOF");
	close(c);
}

/* The peer closed: the first send is taken, the reset makes the next EPIPE. */
static void check_reset(int lfd, int port)
{
	int c = connect_to(port);
	REQUIRE_VOID(c >= 0);
	int s = accept(lfd, NULL, NULL);
	REQUIRE_VOID(s >= 0);
	close(s);
	char buf[8];
	CHECK("eof_from_closed_peer", read(c, buf, sizeof(buf)) == 0, "no EOF");
	CHECK("first_send_to_closed_peer", send(c, "a", 1, MSG_NOSIGNAL) == 1, "errno %s", errno_name(errno));
	usleep(100000);
	got_pipe = 0;
	EXPECT_ERRNO("send_after_reset_epipe", send(c, "b", 1, 0), EPIPE);
	CHECK("send_after_reset_sigpipe", got_pipe == 1, "%d SIGPIPEs", (int)got_pipe);
	close(c);
}

static void check_errors(int lfd, int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = sin_lo(port);
	EXPECT_ERRNO("bind_in_use", bind(fd, (struct sockaddr *)&a, sizeof(a)), EADDRINUSE);
	a = sin_lo(0);
	EXPECT_OK("bind_ephemeral", bind(fd, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_ERRNO("bind_twice_einval", bind(fd, (struct sockaddr *)&a, sizeof(a)), EINVAL);
	socklen_t len = sizeof(a);
	getsockname(fd, (struct sockaddr *)&a, &len);
	int dead = ntohs(a.sin_port);
	close(fd);
	errno = 0;
	CHECK("connect_refused", connect_to(dead) < 0 && errno == ECONNREFUSED, "errno %s", errno_name(errno));

	fd = socket(AF_INET, SOCK_STREAM, 0);
	a = sin_lo(0);
	a.sin_addr.s_addr = inet_addr("192.0.2.1");
	EXPECT_ERRNO("bind_foreign_addr", bind(fd, (struct sockaddr *)&a, sizeof(a)), EADDRNOTAVAIL);
	char c;
	EXPECT_ERRNO("recv_unconnected", recv(fd, &c, 1, 0), ENOTCONN);
	EXPECT_ERRNO("getpeername_unconnected", getpeername(fd, (struct sockaddr *)&a, &len), ENOTCONN);
	EXPECT_ERRNO("accept_not_listening", accept(fd, NULL, NULL), EINVAL);
	EXPECT_ERRNO("shutdown_unconnected", shutdown(fd, SHUT_RDWR), ENOTCONN);
	close(fd);
	fcntl(lfd, F_SETFL, O_NONBLOCK);
	EXPECT_ERRNO("accept_nonblock_empty", accept(lfd, NULL, NULL), EAGAIN);
	fcntl(lfd, F_SETFL, 0);
}

static void check_nonblocking_connect(int lfd, int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = sin_lo(port);
	EXPECT_ERRNO("nonblock_einprogress", connect(fd, (struct sockaddr *)&a, sizeof(a)), EINPROGRESS);
	CHECK("nonblock_pollout", poll_one(fd, POLLOUT, 2000) & POLLOUT, "no POLLOUT");
	int err = -1;
	socklen_t len = sizeof(err);
	CHECK("nonblock_so_error_0", getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0,
	      "SO_ERROR %s", errno_name(err));
	errno = 0;
	int r = connect(fd, (struct sockaddr *)&a, sizeof(a));
	CHECK("nonblock_second_connect", r == 0 || errno == EISCONN, "errno %s", errno_name(errno));
	EXPECT_ERRNO("nonblock_then_eisconn", connect(fd, (struct sockaddr *)&a, sizeof(a)), EISCONN);
	int s = accept(lfd, NULL, NULL);
	CHECK("nonblock_accepted", s >= 0, "errno %s", errno_name(errno));
	close(s);
	close(fd);

	/* Refused, seen through poll and SO_ERROR. */
	int tmp = socket(AF_INET, SOCK_STREAM, 0);
	a = sin_lo(0);
	bind(tmp, (struct sockaddr *)&a, sizeof(a));
	getsockname(tmp, (struct sockaddr *)&a, &len);
	close(tmp);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	errno = 0;
	r = connect(fd, (struct sockaddr *)&a, sizeof(a));
	if (r < 0 && errno == EINPROGRESS) {
		short ev = poll_one(fd, POLLOUT, 2000);
		CHECK("refused_poll_err", ev & POLLERR, "revents %#x", ev);
		len = sizeof(err);
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
		CHECK("refused_so_error", err == ECONNREFUSED, "SO_ERROR %s", errno_name(err));
	} else {
		CHECK("refused_poll_err", r < 0 && errno == ECONNREFUSED, "connect: %s", errno_name(errno));
		pass("refused_so_error");
	}
	close(fd);
}

/* Sequential connections from a child, accepted by us, through backlog 2. */
static void check_backlog(void)
{
	int port, lfd = listener(2, &port);
	REQUIRE_VOID(lfd >= 0);
	enum { N = 40 };
	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; i < N; i++) {
			int c = connect_to(port);
			unsigned char b = (unsigned char)i;
			if (c < 0 || write(c, &b, 1) != 1 || read(c, &b, 1) != 1 || b != (unsigned char)(i + 1))
				_exit(1);
			close(c);
		}
		_exit(0);
	}
	int ok = 0;
	for (int i = 0; i < N; i++) {
		int s = accept(lfd, NULL, NULL);
		unsigned char b;
		if (s < 0 || read(s, &b, 1) != 1)
			break;
		b++;
		if (write(s, &b, 1) == 1)
			ok++;
		close(s);
	}
	int status = -1;
	waitpid(pid, &status, 0);
	CHECK("backlog_many_connections", ok == N && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "%d of %d, child status %#x", ok, N, status);
	close(lfd);
}

/* 1 MiB from a child, checked byte by byte. */
static void check_large(void)
{
	int port, lfd = listener(1, &port);
	REQUIRE_VOID(lfd >= 0);
	enum { TOTAL = 1 << 20 };
	pid_t pid = fork();
	if (pid == 0) {
		static unsigned char out[TOTAL];
		for (int i = 0; i < TOTAL; i++)
			out[i] = (unsigned char)(i * 7 + (i >> 12));
		int c = connect_to(port);
		if (c < 0)
			_exit(1);
		for (int done = 0; done < TOTAL;) {
			ssize_t n = write(c, out + done, TOTAL - done);
			if (n <= 0)
				_exit(2);
			done += (int)n;
		}
		close(c);
		_exit(0);
	}
	int s = accept(lfd, NULL, NULL);
	static unsigned char in[8192];
	long total = 0, bad = -1;
	for (;;) {
		ssize_t n = read(s, in, sizeof(in));
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			if (bad < 0 && in[i] != (unsigned char)((total + i) * 7 + ((total + i) >> 12)))
				bad = total + i;
		total += n;
	}
	int status = -1;
	waitpid(pid, &status, 0);
	CHECK("large_transfer_1mib", total == TOTAL && bad < 0 && status == 0, "got %ld bytes, first bad %ld, status %#x",
	      total, bad, status);
	close(s);
	close(lfd);
}

/* A dual-stack listener on ::: IPv6 and IPv4-mapped peers. */
static void check_ipv6(void)
{
	int l6 = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = in6addr_any};
	socklen_t len = sizeof(a6);
	REQUIRE_VOID(l6 >= 0 && bind(l6, (struct sockaddr *)&a6, sizeof(a6)) == 0 && listen(l6, 4) == 0);
	getsockname(l6, (struct sockaddr *)&a6, &len);
	int port = ntohs(a6.sin6_port);
	int c6 = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port), .sin6_addr = in6addr_loopback};
	CHECK("ipv6_connect_loopback", connect(c6, (struct sockaddr *)&to, sizeof(to)) == 0, "errno %s",
	      errno_name(errno));
	struct sockaddr_in6 peer;
	len = sizeof(peer);
	int s = accept(l6, (struct sockaddr *)&peer, &len);
	CHECK("ipv6_peer", s >= 0 && IN6_IS_ADDR_LOOPBACK(&peer.sin6_addr), "errno %s", errno_name(errno));
	char b = 0;
	CHECK("ipv6_data", write(c6, "6", 1) == 1 && read(s, &b, 1) == 1 && b == '6', "no data");
	close(s);
	close(c6);
	int c4 = connect_to(port);
	CHECK("dual_stack_v4_connect", c4 >= 0, "errno %s", errno_name(errno));
	len = sizeof(peer);
	s = accept(l6, (struct sockaddr *)&peer, &len);
	CHECK("dual_stack_mapped_peer", s >= 0 && IN6_IS_ADDR_V4MAPPED(&peer.sin6_addr) &&
						peer.sin6_addr.s6_addr[15] == 1 && peer.sin6_addr.s6_addr[12] == 127,
	      "peer not ::ffff:127.0.0.1");
	close(s);
	close(c4);
	close(l6);
}

/* /proc/net/tcp shows the listener: 0100007F:PORT in state 0A, its inode. */
static void check_proc(int lfd, int port)
{
	char buf[16384] = {0}, want[64];
	mkdir("/proc", 0555);
	mount("proc", "/proc", "proc", 0, NULL);
	int fd = open("/proc/net/tcp", O_RDONLY);
	REQUIRE_VOID(fd >= 0);
	size_t got = 0;
	ssize_t n;
	while (got < sizeof(buf) - 1 && (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	struct stat st;
	fstat(lfd, &st);
	snprintf(want, sizeof(want), "0100007F:%04X 00000000:0000 0A ", port);
	char *line = strstr(buf, want);
	CHECK("proc_net_tcp_header", strncmp(buf, "  sl  local_address rem_address   st tx_queue", 45) == 0,
	      "header '%.60s'", buf);
	CHECK("proc_net_tcp_listener", line != NULL, "no '%s'", want);
	char ino[32];
	snprintf(ino, sizeof(ino), " %lu ", (unsigned long)st.st_ino);
	char *eol = line ? strchr(line, '\n') : NULL;
	if (eol)
		*eol = 0;
	CHECK("proc_net_tcp_inode", line && strstr(line, ino), "inode %lu not in '%s'", (unsigned long)st.st_ino,
	      line ? line : "");
	CHECK("proc_net_tcp_width", line && eol && eol - (line - 6) == 149, "line of %ld columns",
	      line && eol ? (long)(eol - (line - 6)) : -1L);
}

int main(void)
{
	signal(SIGPIPE, on_pipe);
	REQUIRE(lo_up() == 0);
	int port, lfd = listener(8, &port);
	REQUIRE(lfd >= 0);
	check_echo_and_names(lfd, port);
	check_reset(lfd, port);
	check_errors(lfd, port);
	check_nonblocking_connect(lfd, port);
	check_proc(lfd, port);
	close(lfd);
	check_backlog();
	check_large();
	check_ipv6();
	return test_done();
}
