/*
 * UDP over loopback: datagrams both ways with the sender's address,
 * autobind on first send, bind's errors (EADDRINUSE and SO_REUSEADDR,
 * EADDRNOTAVAIL, EINVAL twice), MSG_PEEK, MSG_TRUNC, MSG_DONTWAIT, FIONREAD
 * as the next datagram's size, EMSGSIZE past 65507 bytes, EDESTADDRREQ,
 * ENETUNREACH, a connected socket's filter on senders and its
 * ECONNREFUSED after an ICMP port unreachable (not for an unconnected
 * one), AF_UNSPEC dissolving the association, SO_BROADCAST's EACCES,
 * SO_RCVTIMEO, poll, IP_TTL's checks, IP_PKTINFO, IPv6 with IPV6_V6ONLY
 * and IPv4-mapped senders, and /proc/net/udp listing a bound socket.
 * Linux: net/ipv4/udp.c, datagram.c, icmp.c; net/ipv6/udp.c.
 */
#include "test.h"
#include "net.h"
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <time.h>

/* A UDP socket bound to 127.0.0.1 on a port the kernel picks (in *port). */
static int bound_udp(int *port)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = sin_lo(0);
	socklen_t len = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

/* A port nobody listens on: bound, then let go. */
static int closed_port(void)
{
	int port = 0;
	int fd = bound_udp(&port);
	if (fd < 0)
		return -1;
	close(fd);
	return port;
}

static int wait_readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, ms) == 1 ? p.revents : 0;
}

static void check_basic(void)
{
	int sport = 0;
	int srv = bound_udp(&sport);
	int cli = socket(AF_INET, SOCK_DGRAM, 0);
	REQUIRE_VOID(srv >= 0 && cli >= 0);
	struct sockaddr_in to = sin_lo(sport), from, me;
	socklen_t flen = sizeof(from), mlen = sizeof(me);
	CHECK("sendto", sendto(cli, "hello", 5, 0, (struct sockaddr *)&to, sizeof(to)) == 5, "%s",
	      errno_name(errno));
	REQUIRE_VOID(getsockname(cli, (struct sockaddr *)&me, &mlen) == 0);
	CHECK("autobind", ntohs(me.sin_port) >= 1024, "port %d after the first send", ntohs(me.sin_port));
	char buf[64] = {0};
	ssize_t n = recvfrom(srv, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
	CHECK("recvfrom", n == 5 && memcmp(buf, "hello", 5) == 0, "got %zd", n);
	CHECK("recvfrom_addr",
	      flen == sizeof(from) && from.sin_family == AF_INET &&
		      from.sin_addr.s_addr == htonl(INADDR_LOOPBACK) && from.sin_port == me.sin_port,
	      "len %u port %d", flen, ntohs(from.sin_port));
	/* The reply goes back to the address recvfrom gave. */
	sendto(srv, "back", 4, 0, (struct sockaddr *)&from, flen);
	n = recv(cli, buf, sizeof(buf), 0);
	CHECK("reply", n == 4 && memcmp(buf, "back", 4) == 0, "got %zd", n);

	sendto(cli, "peekaboo", 8, 0, (struct sockaddr *)&to, sizeof(to));
	sendto(cli, "0123456789", 10, 0, (struct sockaddr *)&to, sizeof(to));
	int avail = -1;
	CHECK("fionread", ioctl(srv, FIONREAD, &avail) == 0 && avail == 8, "FIONREAD says %d", avail);
	n = recv(srv, buf, sizeof(buf), MSG_PEEK);
	CHECK("peek", n == 8 && memcmp(buf, "peekaboo", 8) == 0, "got %zd", n);
	n = recv(srv, buf, 3, MSG_TRUNC);
	CHECK("msg_trunc_len", n == 8, "MSG_TRUNC recv of 3 returned %zd", n);
	struct iovec iov = {.iov_base = buf, .iov_len = 4};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	n = recvmsg(srv, &mh, 0);
	CHECK("msg_trunc_flag", n == 4 && (mh.msg_flags & MSG_TRUNC), "got %zd flags %#x", n, mh.msg_flags);
	EXPECT_ERRNO("dontwait_empty", recv(srv, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	CHECK("fionread_empty", ioctl(srv, FIONREAD, &avail) == 0 && avail == 0, "FIONREAD says %d", avail);
	close(srv);
	close(cli);
}

static void check_bind(void)
{
	int port = 0;
	int a = bound_udp(&port);
	int b = socket(AF_INET, SOCK_DGRAM, 0);
	REQUIRE_VOID(a >= 0 && b >= 0);
	struct sockaddr_in sa = sin_lo(port);
	EXPECT_ERRNO("eaddrinuse", bind(b, (struct sockaddr *)&sa, sizeof(sa)), EADDRINUSE);
	EXPECT_ERRNO("bind_twice", bind(a, (struct sockaddr *)&sa, sizeof(sa)), EINVAL);
	struct sockaddr_in far = {.sin_family = AF_INET};
	far.sin_addr.s_addr = inet_addr("192.0.2.1");
	EXPECT_ERRNO("eaddrnotavail", bind(b, (struct sockaddr *)&far, sizeof(far)), EADDRNOTAVAIL);
	EXPECT_ERRNO("short_addr", bind(b, (struct sockaddr *)&sa, 8), EINVAL);
	close(a);
	close(b);
	int one = 1;
	int c = socket(AF_INET, SOCK_DGRAM, 0), d = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(d, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	EXPECT_OK("reuseaddr_first", bind(c, (struct sockaddr *)&sa, sizeof(sa)));
	EXPECT_OK("reuseaddr_second", bind(d, (struct sockaddr *)&sa, sizeof(sa)));
	close(c);
	close(d);
}

static void check_send_errors(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	REQUIRE_VOID(fd >= 0);
	static char big[65508];
	struct sockaddr_in to = sin_lo(closed_port());
	EXPECT_ERRNO("emsgsize", sendto(fd, big, sizeof(big), 0, (struct sockaddr *)&to, sizeof(to)), EMSGSIZE);
	EXPECT_ERRNO("edestaddrreq", send(fd, "x", 1, 0), EDESTADDRREQ);
	struct sockaddr_in zero = sin_lo(0);
	EXPECT_ERRNO("port_zero", sendto(fd, "x", 1, 0, (struct sockaddr *)&zero, sizeof(zero)), EINVAL);
	struct sockaddr_in far = {.sin_family = AF_INET, .sin_port = htons(9)};
	far.sin_addr.s_addr = inet_addr("192.0.2.1");
	EXPECT_ERRNO("enetunreach", sendto(fd, "x", 1, 0, (struct sockaddr *)&far, sizeof(far)), ENETUNREACH);
	struct sockaddr_in bcast = {.sin_family = AF_INET, .sin_port = htons(9)};
	bcast.sin_addr.s_addr = inet_addr("127.255.255.255");
	EXPECT_ERRNO("broadcast_eacces", sendto(fd, "x", 1, 0, (struct sockaddr *)&bcast, sizeof(bcast)), EACCES);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one));
	CHECK("broadcast_allowed", sendto(fd, "x", 1, 0, (struct sockaddr *)&bcast, sizeof(bcast)) == 1, "%s",
	      errno_name(errno));
	/* An unconnected socket hears nothing of the port unreachable. */
	sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof(to));
	CHECK("unconnected_no_error", sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)) == 1, "%s",
	      errno_name(errno));
	EXPECT_ERRNO("shutdown_unconnected", shutdown(fd, SHUT_RDWR), ENOTCONN);
	close(fd);

	int port = 0;
	int srv = bound_udp(&port);
	int cli = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = sin_lo(port);
	static char max[65507];
	max[65506] = 'z';
	CHECK("max_datagram", sendto(cli, max, sizeof(max), 0, (struct sockaddr *)&sa, sizeof(sa)) == 65507, "%s",
	      errno_name(errno));
	static char got[70000];
	ssize_t n = recv(srv, got, sizeof(got), MSG_DONTWAIT);
	CHECK("max_datagram_recv", n == 65507 && got[65506] == 'z', "got %zd", n);
	close(srv);
	close(cli);
}

static void check_connected(void)
{
	int bport = 0, cport = 0;
	int b = bound_udp(&bport), c = bound_udp(&cport);
	int a = socket(AF_INET, SOCK_DGRAM, 0);
	REQUIRE_VOID(a >= 0 && b >= 0 && c >= 0);
	struct sockaddr_in to_b = sin_lo(bport), me, peer;
	EXPECT_OK("connect", connect(a, (struct sockaddr *)&to_b, sizeof(to_b)));
	socklen_t len = sizeof(me);
	getsockname(a, (struct sockaddr *)&me, &len);
	CHECK("connect_names_source", me.sin_addr.s_addr == htonl(INADDR_LOOPBACK) && me.sin_port != 0,
	      "getsockname gives %#x:%d", ntohl(me.sin_addr.s_addr), ntohs(me.sin_port));
	len = sizeof(peer);
	CHECK("getpeername", getpeername(a, (struct sockaddr *)&peer, &len) == 0 && peer.sin_port == htons(bport),
	      "%s", errno_name(errno));
	CHECK("send_connected", send(a, "to-b", 4, 0) == 4, "%s", errno_name(errno));
	char buf[16];
	CHECK("b_got_it", recv(b, buf, sizeof(buf), MSG_DONTWAIT) == 4, "%s", errno_name(errno));
	/* Only the peer reaches a connected socket. */
	sendto(c, "from-c", 6, 0, (struct sockaddr *)&me, sizeof(me));
	sendto(b, "from-b", 6, 0, (struct sockaddr *)&me, sizeof(me));
	ssize_t n = recv(a, buf, sizeof(buf), MSG_DONTWAIT);
	CHECK("filter_peer", n == 6 && memcmp(buf, "from-b", 6) == 0, "got %zd %.6s", n, buf);
	EXPECT_ERRNO("filter_other", recv(a, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	EXPECT_OK("shutdown_connected", shutdown(a, SHUT_RD));
	CHECK("recv_after_shut_rd", recv(a, buf, sizeof(buf), 0) == 0, "%s", errno_name(errno));

	struct sockaddr unspec = {.sa_family = AF_UNSPEC};
	EXPECT_OK("connect_unspec", connect(a, &unspec, sizeof(unspec)));
	len = sizeof(peer);
	EXPECT_ERRNO("dissolved", getpeername(a, (struct sockaddr *)&peer, &len), ENOTCONN);
	close(a);
	close(b);
	close(c);

	/* nslookup's case: a connected socket learns the port is closed. */
	int d = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in gone = sin_lo(closed_port());
	REQUIRE_VOID(connect(d, (struct sockaddr *)&gone, sizeof(gone)) == 0);
	CHECK("first_send", send(d, "q", 1, 0) == 1, "%s", errno_name(errno));
	CHECK("pollerr", wait_readable(d, 2000) & POLLERR, "no POLLERR after a port unreachable");
	EXPECT_ERRNO("econnrefused", send(d, "q", 1, 0), ECONNREFUSED);
	int err = -1;
	len = sizeof(err);
	getsockopt(d, SOL_SOCKET, SO_ERROR, &err, &len);
	CHECK("error_taken", err == 0, "SO_ERROR still %s", errno_name(err));
	send(d, "q", 1, 0);
	wait_readable(d, 2000);
	EXPECT_ERRNO("econnrefused_recv", recv(d, buf, sizeof(buf), 0), ECONNREFUSED);
	close(d);
}

static void check_options(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	REQUIRE_VOID(fd >= 0);
	int v = 0;
	socklen_t len = sizeof(v);
	CHECK("ttl_default", getsockopt(fd, IPPROTO_IP, IP_TTL, &v, &len) == 0 && v == 64, "IP_TTL %d", v);
	v = 0;
	EXPECT_ERRNO("ttl_zero", setsockopt(fd, IPPROTO_IP, IP_TTL, &v, sizeof(v)), EINVAL);
	v = 256;
	EXPECT_ERRNO("ttl_256", setsockopt(fd, IPPROTO_IP, IP_TTL, &v, sizeof(v)), EINVAL);
	v = 9;
	setsockopt(fd, IPPROTO_IP, IP_TTL, &v, sizeof(v));
	v = 0;
	len = sizeof(v);
	CHECK("ttl_set", getsockopt(fd, IPPROTO_IP, IP_TTL, &v, &len) == 0 && v == 9, "IP_TTL %d", v);
	EXPECT_ERRNO("hdrincl_not_raw", setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &v, sizeof(v)), ENOPROTOOPT);
	EXPECT_ERRNO("v6_level_on_v4", setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof(v)), ENOPROTOOPT);
	v = 1;
	setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &v, sizeof(v));
	struct timeval tv = {.tv_usec = 100000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct sockaddr_in a = sin_lo(0);
	len = sizeof(a);
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &len);
	char buf[16];
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	int e = errno;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	CHECK("rcvtimeo", n == -1 && e == EAGAIN && ms >= 80, "recv %zd (%s) after %ld ms", n, errno_name(e), ms);
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
	CHECK("poll_writable", poll(&p, 1, 0) == 1 && p.revents == POLLOUT, "revents %#x", p.revents);
	int tx = socket(AF_INET, SOCK_DGRAM, 0);
	sendto(tx, "pk", 2, 0, (struct sockaddr *)&a, sizeof(a));
	CHECK("poll_readable", wait_readable(fd, 1000) & POLLIN, "no POLLIN");
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(struct in_pktinfo))];
	} ctl;
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof(ctl)};
	n = recvmsg(fd, &mh, 0);
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	struct in_pktinfo pi;
	if (c)
		memcpy(&pi, CMSG_DATA(c), sizeof(pi));
	CHECK("pktinfo",
	      n == 2 && c && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
		      pi.ipi_addr.s_addr == htonl(INADDR_LOOPBACK) && pi.ipi_ifindex == (int)if_nametoindex("lo"),
	      "recvmsg %zd, cmsg %s", n, c ? "wrong" : "missing");
	close(tx);
	close(fd);
}

static void check_ipv6(void)
{
	int srv = socket(AF_INET6, SOCK_DGRAM, 0), cli = socket(AF_INET6, SOCK_DGRAM, 0);
	REQUIRE_VOID(srv >= 0 && cli >= 0);
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT};
	socklen_t len = sizeof(a);
	EXPECT_OK("bind6_any", bind(srv, (struct sockaddr *)&a, sizeof(a)));
	int v = 1;
	EXPECT_ERRNO("v6only_after_bind", setsockopt(srv, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof(v)), EINVAL);
	getsockname(srv, (struct sockaddr *)&a, &len);
	struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_port = a.sin6_port, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	CHECK("sendto6", sendto(cli, "six", 3, 0, (struct sockaddr *)&to, sizeof(to)) == 3, "%s", errno_name(errno));
	struct sockaddr_in6 from;
	len = sizeof(from);
	char buf[16];
	ssize_t n = recvfrom(srv, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &len);
	CHECK("recvfrom6",
	      n == 3 && len == sizeof(from) && from.sin6_family == AF_INET6 &&
		      IN6_IS_ADDR_LOOPBACK(&from.sin6_addr),
	      "got %zd len %u", n, len);
	/* A dual-stack socket hears IPv4 senders, shown IPv4-mapped. */
	int v4 = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to4 = sin_lo(ntohs(a.sin6_port));
	sendto(v4, "four", 4, 0, (struct sockaddr *)&to4, sizeof(to4));
	len = sizeof(from);
	n = recvfrom(srv, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &len);
	CHECK("mapped_sender", n == 4 && IN6_IS_ADDR_V4MAPPED(&from.sin6_addr), "got %zd", n);
	close(v4);

	int d = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 gone = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)closed_port()),
				    .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	REQUIRE_VOID(connect(d, (struct sockaddr *)&gone, sizeof(gone)) == 0);
	send(d, "q", 1, 0);
	wait_readable(d, 2000);
	EXPECT_ERRNO("econnrefused6", send(d, "q", 1, 0), ECONNREFUSED);
	close(d);
	close(srv);
	close(cli);

	/* A source of one family cannot reach the other's destination. */
	int m = socket(AF_INET6, SOCK_DGRAM, 0), s6 = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 mapped = {.sin6_family = AF_INET6};
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &mapped.sin6_addr);
	struct sockaddr_in6 one = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	REQUIRE_VOID(bind(m, (struct sockaddr *)&mapped, sizeof(mapped)) == 0);
	REQUIRE_VOID(bind(s6, (struct sockaddr *)&one, sizeof(one)) == 0);
	one.sin6_port = mapped.sin6_port = htons(9);
	EXPECT_ERRNO("mapped_to_v6", sendto(m, "x", 1, 0, (struct sockaddr *)&one, sizeof(one)), EAFNOSUPPORT);
	EXPECT_ERRNO("v6_to_mapped", sendto(s6, "x", 1, 0, (struct sockaddr *)&mapped, sizeof(mapped)), ENETUNREACH);
	close(m);
	close(s6);
}

static void check_proc(void)
{
	int port = 0;
	int fd = bound_udp(&port);
	REQUIRE_VOID(fd >= 0);
	char text[8192], want[32];
	ssize_t n = slurp("/proc/net/udp", text, sizeof(text));
	snprintf(want, sizeof(want), "0100007F:%04X 00000000:0000 07", port);
	CHECK("proc_net_udp", n > 0 && strstr(text, want), "no \"%s\" in /proc/net/udp (%zd bytes: %.200s)", want, n,
	      n > 0 ? text : errno_name(errno));
	struct stat st;
	fstat(fd, &st);
	char ino[32];
	snprintf(ino, sizeof(ino), " %lu ", (unsigned long)st.st_ino);
	char *line = n > 0 ? strstr(text, want) : NULL;
	char *eol = line ? strchr(line, '\n') : NULL;
	if (eol)
		*eol = 0;
	CHECK("proc_net_udp_inode", line && strstr(line, ino), "inode %lu not in its line", (unsigned long)st.st_ino);
	CHECK("proc_net_udp_width", line && eol && eol - (line - 7) == 127, "line of %ld columns",
	      line && eol ? (long)(eol - (line - 7)) : -1L);
	if (eol)
		*eol = '\n';
	CHECK("proc_net_udp_header", n > 0 && strncmp(text, "   sl  local_address rem_address", 32) == 0,
	      "header differs");
	close(fd);
}

int main(void)
{
	REQUIRE(lo_up() == 0);
	check_basic();
	check_bind();
	check_send_errors();
	check_connected();
	check_options();
	check_ipv6();
	/* The initramfs mounts nothing: /proc is ours to mount. */
	REQUIRE(mount("proc", "/proc", "proc", 0, NULL) == 0);
	check_proc();
	umount("/proc");
	return test_done();
}
