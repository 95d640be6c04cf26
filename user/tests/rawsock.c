/*
 * Raw IP sockets over loopback, as ping, ping6, traceroute and
 * traceroute6 use them: an ICMP echo answered by the kernel and seen with
 * its IP header, ICMP_FILTER; ICMPv6 echo with the kernel's checksum, no
 * IPv6 header, ICMP6_FILTER, IPV6_CHECKSUM's rules, IPV6_RECVPKTINFO and
 * IPV6_HOPLIMIT; the port unreachable a TTL-1 UDP probe provokes, quoting
 * the probe's ports and TTL (IPv4 and IPv6); a raw UDP socket seeing IP_TTL
 * applied; IP_HDRINCL on IPPROTO_RAW; the errors of socket() (EPERM for
 * nobody, EPROTONOSUPPORT, EINVAL), ping sockets refused under the default
 * net.ipv4.ping_group_range, and /proc/net/raw.
 * Linux: net/ipv4/raw.c, icmp.c; net/ipv6/raw.c, icmp.c.
 */
#include "test.h"
#include "net.h"
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>

#ifndef ICMP_FILTER
#define ICMP_FILTER 1
#endif

/* Receives until a packet for which `want` holds, at most 2 s; its length or -1. */
static ssize_t recv_until(int fd, uint8_t *buf, size_t size, int (*want)(const uint8_t *, ssize_t))
{
	for (int i = 0; i < 16; i++) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 2000) != 1)
			return -1;
		ssize_t n = recv(fd, buf, size, 0);
		if (n > 0 && want(buf, n))
			return n;
	}
	return -1;
}

static int is_echo_reply4(const uint8_t *b, ssize_t n)
{
	return n >= 28 && b[9] == IPPROTO_ICMP && b[(b[0] & 0xf) * 4] == ICMP_ECHOREPLY;
}

static int is_unreach4(const uint8_t *b, ssize_t n)
{
	return n >= 56 && b[(b[0] & 0xf) * 4] == ICMP_DEST_UNREACH;
}

static int is_unreach6(const uint8_t *b, ssize_t n)
{
	return n >= 56 && b[0] == ICMP6_DST_UNREACH;
}

static int is_udp_ttl7(const uint8_t *b, ssize_t n)
{
	return n >= 28 && b[9] == IPPROTO_UDP && b[8] == 7;
}

static void check_ping4(void)
{
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	REQUIRE_VOID(fd >= 0);
	struct sockaddr_in to = {.sin_family = AF_INET};
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	uint8_t pkt[64] = {ICMP_ECHO, 0, 0, 0, 0x12, 0x34, 0, 1};
	memcpy(pkt + 8, "ferrite-ping", 12);
	uint16_t sum = csum(pkt, sizeof(pkt));
	memcpy(pkt + 2, &sum, 2);
	CHECK("echo_sent", sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to)) == 64, "%s",
	      errno_name(errno));
	uint8_t buf[512];
	ssize_t n = recv_until(fd, buf, sizeof(buf), is_echo_reply4);
	CHECK("echo_reply", n == 84 && buf[0] == 0x45 && memcmp(buf + 24, "\x12\x34\0\x01", 4) == 0 &&
				    memcmp(buf + 28, "ferrite-ping", 12) == 0,
	      "reply of %zd bytes", n);
	CHECK("reply_from_lo", n > 0 && memcmp(buf + 12, "\x7f\0\0\x01", 4) == 0, "source differs");
	/* Blocking echo requests leaves the reply first. */
	uint32_t filter = 1u << ICMP_ECHO;
	EXPECT_OK("icmp_filter", setsockopt(fd, SOL_RAW, ICMP_FILTER, &filter, sizeof(filter)));
	sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to));
	struct pollfd p = {.fd = fd, .events = POLLIN};
	n = poll(&p, 1, 2000) == 1 ? recv(fd, buf, sizeof(buf), 0) : -1;
	CHECK("filtered_first", n == 84 && buf[20] == ICMP_ECHOREPLY, "first packet %zd bytes type %d", n, buf[20]);
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	CHECK("raw_port_is_protocol", getsockname(fd, (struct sockaddr *)&me, &len) == 0 && ntohs(me.sin_port) == 1,
	      "port %d", ntohs(me.sin_port));
	close(fd);
}

static void check_ping6(void)
{
	int fd = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
	REQUIRE_VOID(fd >= 0);
	int v = 2;
	EXPECT_ERRNO("checksum_ipv6_level", setsockopt(fd, IPPROTO_IPV6, IPV6_CHECKSUM, &v, sizeof(v)), EINVAL);
	v = 0;
	socklen_t len = sizeof(v);
	CHECK("checksum_offset", getsockopt(fd, SOL_RAW, IPV6_CHECKSUM, &v, &len) == 0 && v == 2, "offset %d", v);
	v = 3;
	EXPECT_ERRNO("checksum_odd", setsockopt(fd, SOL_RAW, IPV6_CHECKSUM, &v, sizeof(v)), EINVAL);
	struct icmp6_filter f;
	ICMP6_FILTER_SETBLOCKALL(&f);
	ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
	EXPECT_OK("icmp6_filter", setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f)));
	v = 1;
	setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &v, sizeof(v));
	struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	uint8_t pkt[64] = {ICMP6_ECHO_REQUEST, 0, 0, 0, 0x56, 0x78, 0, 1};
	memcpy(pkt + 8, "ferrite-ping6", 13);
	CHECK("echo6_sent", sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to)) == 64, "%s",
	      errno_name(errno));
	uint8_t buf[512];
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof(ctl)};
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t n = poll(&p, 1, 2000) == 1 ? recvmsg(fd, &mh, 0) : -1;
	CHECK("echo6_reply", n == 64 && buf[0] == ICMP6_ECHO_REPLY && memcmp(buf + 4, "\x56\x78\0\x01", 4) == 0 &&
				     memcmp(buf + 8, "ferrite-ping6", 13) == 0,
	      "first packet %zd bytes type %d", n, buf[0]);
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	int hops = -1;
	if (c && c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)
		memcpy(&hops, CMSG_DATA(c), sizeof(hops));
	CHECK("hoplimit_cmsg", hops == 64, "hop limit %d", hops);
	close(fd);
}

/* traceroute's probe: a UDP datagram with TTL 1 to a closed port on lo. */
static void check_traceroute4(void)
{
	int icmp = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	int udp = socket(AF_INET, SOCK_DGRAM, 0);
	REQUIRE_VOID(icmp >= 0 && udp >= 0);
	int v = 1;
	EXPECT_OK("ip_pktinfo", setsockopt(icmp, IPPROTO_IP, IP_PKTINFO, &v, sizeof(v)));
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(33434)}, me;
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	REQUIRE_VOID(connect(udp, (struct sockaddr *)&to, sizeof(to)) == 0);
	socklen_t len = sizeof(me);
	getsockname(udp, (struct sockaddr *)&me, &len);
	EXPECT_OK("raw_bind", bind(icmp, (struct sockaddr *)&me, sizeof(me)));
	setsockopt(udp, IPPROTO_IP, IP_TTL, &v, sizeof(v));
	to.sin_port = htons(33435);
	sendto(udp, "probe", 5, 0, (struct sockaddr *)&to, sizeof(to));
	uint8_t buf[512];
	ssize_t n = recv_until(icmp, buf, sizeof(buf), is_unreach4);
	const uint8_t *inner = buf + 28, *uh = inner + 20;
	CHECK("port_unreachable", n > 0 && buf[21] == ICMP_PORT_UNREACH, "got %zd bytes", n);
	CHECK("quotes_probe",
	      n >= 56 && inner[9] == IPPROTO_UDP && memcmp(uh, &me.sin_port, 2) == 0 && uh[2] == 0x82 && uh[3] == 0x9b,
	      "the quoted header differs");
	CHECK("probe_ttl", n >= 56 && inner[8] == 1, "the probe left with TTL %d", n >= 56 ? inner[8] : -1);
	close(icmp);
	close(udp);

	/* A raw UDP socket sees datagrams with their IP header and TTL. */
	int raw = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
	int tx = socket(AF_INET, SOCK_DGRAM, 0);
	REQUIRE_VOID(raw >= 0 && tx >= 0);
	v = 7;
	setsockopt(tx, IPPROTO_IP, IP_TTL, &v, sizeof(v));
	sendto(tx, "ttl7", 4, 0, (struct sockaddr *)&to, sizeof(to));
	n = recv_until(raw, buf, sizeof(buf), is_udp_ttl7);
	CHECK("raw_udp_ttl", n == 32 && memcmp(buf + 28, "ttl7", 4) == 0, "got %zd", n);
	close(raw);
	close(tx);
}

static void check_traceroute6(void)
{
	int icmp = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
	int udp = socket(AF_INET6, SOCK_DGRAM, 0);
	REQUIRE_VOID(icmp >= 0 && udp >= 0);
	int v = 1;
	EXPECT_OK("recvpktinfo", setsockopt(icmp, IPPROTO_IPV6, IPV6_RECVPKTINFO, &v, sizeof(v)));
	struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_port = htons(33434), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	struct sockaddr_in6 me;
	REQUIRE_VOID(connect(udp, (struct sockaddr *)&to, sizeof(to)) == 0);
	socklen_t len = sizeof(me);
	getsockname(udp, (struct sockaddr *)&me, &len);
	EXPECT_OK("raw6_bind", bind(icmp, (struct sockaddr *)&me, sizeof(me)));
	EXPECT_OK("unicast_hops", setsockopt(udp, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v, sizeof(v)));
	to.sin6_port = htons(33435);
	sendto(udp, "probe6", 6, 0, (struct sockaddr *)&to, sizeof(to));
	uint8_t buf[512];
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} ctl;
	ssize_t n = -1;
	for (int i = 0; i < 8; i++) {
		struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof(ctl)};
		struct pollfd p = {.fd = icmp, .events = POLLIN};
		if (poll(&p, 1, 2000) != 1)
			break;
		n = recvmsg(icmp, &mh, 0);
		if (is_unreach6(buf, n)) {
			struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
			struct in6_pktinfo pi;
			if (c)
				memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			CHECK("pktinfo6", c && c->cmsg_type == IPV6_PKTINFO && IN6_IS_ADDR_LOOPBACK(&pi.ipi6_addr),
			      "cmsg %s", c ? "wrong" : "missing");
			break;
		}
		n = -1;
	}
	const uint8_t *inner = buf + 8, *uh = inner + 40;
	CHECK("port_unreachable6", n > 0 && buf[1] == ICMP6_DST_UNREACH_NOPORT, "got %zd bytes", n);
	CHECK("quotes_probe6", n >= 56 && inner[6] == IPPROTO_UDP && memcmp(uh, &me.sin6_port, 2) == 0,
	      "the quoted header differs");
	CHECK("probe_hops", n >= 56 && inner[7] == 1, "the probe left with hop limit %d", n >= 56 ? inner[7] : -1);
	close(icmp);
	close(udp);
}

static int raw_as_nobody(int unused)
{
	(void)unused;
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	return fd < 0 && errno == EPERM ? 0 : 1;
}

static void check_create(void)
{
	CHECK("eperm_nobody", as_nobody(raw_as_nobody, 0) == 0, "a raw socket for nobody was not EPERM");
	EXPECT_ERRNO("protocol_zero", socket(AF_INET, SOCK_RAW, 0), EPROTONOSUPPORT);
	/* IPPROTO_MAX is 263 since MPTCP took 262. */
	EXPECT_ERRNO("protocol_max", socket(AF_INET, SOCK_RAW, 263), EINVAL);
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	int v = 0;
	socklen_t len = sizeof(v);
	CHECK("ipproto_raw_hdrincl", fd >= 0 && getsockopt(fd, IPPROTO_IP, IP_HDRINCL, &v, &len) == 0 && v == 1,
	      "IP_HDRINCL %d", v);
	if (fd >= 0)
		close(fd);
	char range[64];
	if (slurp("/proc/sys/net/ipv4/ping_group_range", range, sizeof(range)) > 0 && strcmp(range, "1\t0\n") == 0)
		EXPECT_ERRNO("ping_socket_gated", socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP), EACCES);
	else
		fail("ping_socket_gated", "ping_group_range is '%s', not the default", range);
	EXPECT_ERRNO("ping_wrong_family", socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMPV6), EPROTONOSUPPORT);
	int icmp = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	char text[8192];
	ssize_t n = slurp("/proc/net/raw", text, sizeof(text));
	CHECK("proc_net_raw", n > 0 && strstr(text, "00000000:0001 00000000:0000 07"), "no ICMP socket listed");
	close(icmp);
}

int main(void)
{
	REQUIRE(lo_up() == 0);
	/* The initramfs mounts nothing: /proc is ours to mount. */
	REQUIRE(mount("proc", "/proc", "proc", 0, NULL) == 0);
	check_create();
	umount("/proc");
	check_ping4();
	check_ping6();
	check_traceroute4();
	check_traceroute6();
	return test_done();
}
