/*
 * AF_PACKET sockets on lo, as udhcpc, arping and tcpdump use them: a
 * SOCK_DGRAM ETH_P_IP socket sends an IP packet (sockaddr_ll to lo) and
 * reads it back looped (PACKET_HOST, no link header); a SOCK_RAW ETH_P_ALL
 * socket bound to lo sees it twice, going out (PACKET_OUTGOING) and coming
 * in, each behind lo's 14-byte Ethernet header of zero addresses, and sends
 * a whole frame itself; a classic BPF filter (SO_ATTACH_FILTER) that keeps
 * 20 bytes of one IP protocol, with PACKET_AUXDATA's tp_len/tp_snaplen and
 * MSG_TRUNC; MSG_PEEK, FIONREAD, poll, getsockname, PACKET_STATISTICS (reset by a read),
 * /proc/net/packet; the errors (EPERM for nobody, ESOCKTNOSUPPORT, EINVAL,
 * ENODEV, ENXIO, EAGAIN, ENOENT, EOPNOTSUPP).
 * Linux: net/packet/af_packet.c, net/core/filter.c.
 */
#include "test.h"
#include "net.h"
#include <arpa/inet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/if_ether.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>

/* musl has no <linux/filter.h>: Linux's uapi definitions (linux/filter.h, if_packet.h). */
struct sock_filter {
	uint16_t code;
	uint8_t jt, jf;
	uint32_t k;
};
struct sock_fprog {
	unsigned short len;
	struct sock_filter *filter;
};
#define BPF_STMT(code, k) { (uint16_t)(code), 0, 0, k }
#define BPF_JUMP(code, k, jt, jf) { (uint16_t)(code), jt, jf, k }
#define BPF_LD 0x00
#define BPF_JMP 0x05
#define BPF_RET 0x06
#define BPF_B 0x10
#define BPF_ABS 0x20
#define BPF_JEQ 0x10
#define BPF_K 0x00
struct tpacket_auxdata {
	uint32_t tp_status, tp_len, tp_snaplen;
	uint16_t tp_mac, tp_net, tp_vlan_tci, tp_vlan_tpid;
};
struct tpacket_stats {
	unsigned int tp_packets, tp_drops;
};
#define TP_STATUS_USER 1
#ifndef SO_ATTACH_FILTER
#define SO_ATTACH_FILTER 26
#define SO_DETACH_FILTER 27
#endif
#ifndef SOL_PACKET
#define SOL_PACKET 263
#endif

/* An IP protocol nothing listens for (RFC 3692's experimental 253). */
#define PROTO_EXP 253

static char marker[64];

/* An IPv4 packet 127.0.0.1 -> 127.0.0.1 of protocol PROTO_EXP carrying `marker`. */
static size_t ip_packet(uint8_t *p)
{
	size_t len = 20 + strlen(marker);
	memset(p, 0, 20);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[8] = 64;
	p[9] = PROTO_EXP;
	p[12] = 127, p[15] = 1;
	p[16] = 127, p[19] = 1;
	uint16_t c = csum(p, 20);
	memcpy(p + 10, &c, 2);
	memcpy(p + 20, marker, strlen(marker));
	return len;
}

static struct sockaddr_ll lo_addr(uint16_t proto)
{
	struct sockaddr_ll sll;
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(proto);
	sll.sll_ifindex = (int)if_nametoindex("lo");
	sll.sll_halen = 6;
	return sll;
}

/*
 * Receives until our packet (protocol PROTO_EXP with `marker`, its IP header
 * at `ip` in what is read; not the ICMP error it provokes), at most 2 s; its
 * length or -1.
 */
static ssize_t recv_marked(int fd, size_t ip, uint8_t *buf, size_t size, struct sockaddr_ll *from)
{
	long long end = now_ms() + 2000;
	while (now_ms() < end) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		socklen_t alen = sizeof(*from);
		ssize_t n = recvfrom(fd, buf, size, MSG_DONTWAIT, (struct sockaddr *)from, &alen);
		if (n > (ssize_t)ip + 20 && buf[ip + 9] == PROTO_EXP && memmem(buf, (size_t)n, marker, strlen(marker)))
			return n;
	}
	return -1;
}

static void errors(void)
{
	EXPECT_ERRNO("stream_esocktnosupport", socket(AF_PACKET, SOCK_STREAM, htons(ETH_P_ALL)), ESOCKTNOSUPPORT);
	int fd = socket(AF_PACKET, SOCK_DGRAM, 0);
	REQUIRE_VOID(fd >= 0);
	struct sockaddr_ll sll = lo_addr(ETH_P_IP);
	EXPECT_ERRNO("bind_short_einval", bind(fd, (struct sockaddr *)&sll, 8), EINVAL);
	sll.sll_ifindex = 9999;
	EXPECT_ERRNO("bind_unknown_enodev", bind(fd, (struct sockaddr *)&sll, sizeof(sll)), ENODEV);
	uint8_t pkt[128];
	size_t len = ip_packet(pkt);
	EXPECT_ERRNO("sendto_unknown_enxio", sendto(fd, pkt, len, 0, (struct sockaddr *)&sll, sizeof(sll)), ENXIO);
	EXPECT_ERRNO("recv_empty_eagain", recv(fd, pkt, sizeof(pkt), MSG_DONTWAIT), EAGAIN);
	EXPECT_ERRNO("connect_eopnotsupp", connect(fd, (struct sockaddr *)&sll, sizeof(sll)), EOPNOTSUPP);
	int zero = 0;
	EXPECT_ERRNO("detach_none_enoent", setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &zero, sizeof(zero)), ENOENT);
	struct sock_filter bad[] = { BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 5, 0), BPF_STMT(BPF_RET | BPF_K, 0) };
	struct sock_fprog prog = { .len = 2, .filter = bad };
	EXPECT_ERRNO("attach_bad_jump_einval", setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)),
		     EINVAL);
	int raw = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	sll = lo_addr(ETH_P_IP);
	EXPECT_ERRNO("raw_send_short_einval", sendto(raw, pkt, 10, 0, (struct sockaddr *)&sll, sizeof(sll)), EINVAL);
	close(raw);
	close(fd);
	pid_t pid = fork();
	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(10);
		int s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
		_exit(s == -1 && errno == EPERM ? 0 : 11);
	}
	int status = -1;
	waitpid(pid, &status, 0);
	CHECK("nobody_eperm", WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
}

static void dgram_and_raw(int dgram, int raw)
{
	uint8_t pkt[128], buf[256];
	size_t len = ip_packet(pkt);
	struct sockaddr_ll to = lo_addr(ETH_P_IP);
	CHECK("dgram_sendto_lo", sendto(dgram, pkt, len, 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)len,
	      "errno %s", errno_name(errno));
	struct sockaddr_ll from;
	ssize_t n = recv_marked(dgram, 0, buf, sizeof(buf), &from);
	CHECK("dgram_reads_ip_packet", n == (ssize_t)len && memcmp(buf, pkt, len) == 0, "got %zd bytes", n);
	CHECK("dgram_sockaddr_ll",
	      from.sll_family == AF_PACKET && from.sll_protocol == htons(ETH_P_IP) &&
		      from.sll_ifindex == to.sll_ifindex && from.sll_hatype == ARPHRD_LOOPBACK &&
		      from.sll_pkttype == PACKET_HOST && from.sll_halen == 6,
	      "family %d proto %#x ifindex %d hatype %d pkttype %d halen %d", from.sll_family,
	      ntohs(from.sll_protocol), from.sll_ifindex, from.sll_hatype, from.sll_pkttype, from.sll_halen);
	/* The raw socket saw it leave, then arrive. */
	n = recv_marked(raw, 14, buf, sizeof(buf), &from);
	static const uint8_t eth_ip[14] = { [12] = 0x08, [13] = 0x00 };
	CHECK("raw_sees_outgoing", n == (ssize_t)len + 14 && from.sll_pkttype == PACKET_OUTGOING &&
					   memcmp(buf, eth_ip, 14) == 0 && memcmp(buf + 14, pkt, len) == 0,
	      "got %zd bytes, pkttype %d", n, from.sll_pkttype);
	n = recv_marked(raw, 14, buf, sizeof(buf), &from);
	CHECK("raw_sees_incoming", n == (ssize_t)len + 14 && from.sll_pkttype == PACKET_HOST &&
					   memcmp(buf, eth_ip, 14) == 0,
	      "got %zd bytes, pkttype %d", n, from.sll_pkttype);
	/* A whole frame sent on the raw socket arrives at the datagram one. */
	uint8_t frame[160];
	memcpy(frame, eth_ip, 14);
	memcpy(frame + 14, pkt, len);
	CHECK("raw_send_frame", send(raw, frame, len + 14, 0) == (ssize_t)len + 14, "errno %s", errno_name(errno));
	n = recv_marked(dgram, 0, buf, sizeof(buf), &from);
	CHECK("dgram_reads_raw_frame", n == (ssize_t)len && memcmp(buf, pkt, len) == 0, "got %zd bytes", n);
}

static void filter_and_auxdata(int dgram)
{
	/* Keep 20 bytes of protocol PROTO_EXP, drop the rest. */
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PROTO_EXP, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 20),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { .len = 4, .filter = code };
	EXPECT_OK("attach_filter", setsockopt(dgram, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)));
	int one = 1;
	EXPECT_OK("packet_auxdata", setsockopt(dgram, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)));
	uint8_t pkt[128], buf[256];
	/* What came before the filter (the ICMP errors our packets provoke) goes. */
	usleep(100000);
	while (recv(dgram, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
	size_t len = ip_packet(pkt);
	struct sockaddr_ll to = lo_addr(ETH_P_IP);
	REQUIRE_VOID(sendto(dgram, pkt, len, 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)len);
	struct pollfd pfd = { .fd = dgram, .events = POLLIN };
	CHECK("poll_pollin", poll(&pfd, 1, 2000) == 1 && (pfd.revents & POLLIN), "revents %#x", pfd.revents);
	int inq = -1;
	CHECK("fionread_snaplen", ioctl(dgram, FIONREAD, &inq) == 0 && inq == 20, "FIONREAD %d", inq);
	char cbuf[256];
	struct iovec iov = { .iov_base = buf, .iov_len = 10 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	ssize_t n = recvmsg(dgram, &msg, MSG_DONTWAIT);
	CHECK("filter_truncates_msg_trunc", n == 10 && (msg.msg_flags & MSG_TRUNC) && memcmp(buf, pkt, 10) == 0,
	      "n %zd flags %#x", n, msg.msg_flags);
	struct tpacket_auxdata aux;
	int have = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) {
			memcpy(&aux, CMSG_DATA(c), sizeof(aux));
			have = 1;
		}
	}
	CHECK("auxdata_lengths", have && aux.tp_len == len && aux.tp_snaplen == 20 && (aux.tp_status & TP_STATUS_USER),
	      "have %d tp_len %u tp_snaplen %u status %#x", have, have ? aux.tp_len : 0, have ? aux.tp_snaplen : 0,
	      have ? aux.tp_status : 0);
	/* (Linux loses tp_len once a packet was peeked at: peek after auxdata.) */
	REQUIRE_VOID(sendto(dgram, pkt, len, 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)len);
	CHECK("msg_peek", poll(&pfd, 1, 2000) == 1 && recv(dgram, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT) == 20 &&
				  recv(dgram, buf, sizeof(buf), MSG_DONTWAIT) == 20,
	      "errno %s", errno_name(errno));
	int zero = 0;
	EXPECT_OK("detach_filter", setsockopt(dgram, SOL_SOCKET, SO_DETACH_FILTER, &zero, sizeof(zero)));
}

static void names_and_stats(int dgram, int raw)
{
	struct sockaddr_ll sll;
	socklen_t alen = sizeof(sll);
	memset(&sll, 0, sizeof(sll));
	CHECK("getsockname_raw",
	      getsockname(raw, (struct sockaddr *)&sll, &alen) == 0 && alen == 18 && sll.sll_family == AF_PACKET &&
		      sll.sll_protocol == htons(ETH_P_ALL) && sll.sll_ifindex == (int)if_nametoindex("lo") &&
		      sll.sll_hatype == ARPHRD_LOOPBACK && sll.sll_halen == 6,
	      "len %u family %d ifindex %d hatype %d", alen, sll.sll_family, sll.sll_ifindex, sll.sll_hatype);
	struct tpacket_stats st;
	socklen_t slen = sizeof(st);
	CHECK("packet_statistics", getsockopt(raw, SOL_PACKET, PACKET_STATISTICS, &st, &slen) == 0 && st.tp_packets >= 3,
	      "tp_packets %u", st.tp_packets);
	slen = sizeof(st);
	CHECK("packet_statistics_reset", getsockopt(dgram, SOL_PACKET, PACKET_STATISTICS, &st, &slen) == 0 &&
						 getsockopt(dgram, SOL_PACKET, PACKET_STATISTICS, &st, &slen) == 0 &&
						 st.tp_packets == 0,
	      "tp_packets %u after a read", st.tp_packets);
	mkdir("proc", 0555);
	if (mount("proc", "proc", "proc", 0, NULL) != 0) {
		fail("proc_net_packet", "mount proc: %s", errno_name(errno));
		return;
	}
	char text[4096];
	ssize_t n = slurp("proc/net/packet", text, sizeof(text) - 1);
	text[n > 0 ? n : 0] = 0;
	umount("proc");
	CHECK("proc_net_packet_header", strncmp(text, "sk               RefCnt Type Proto  Iface R Rmem   User   Inode\n", 64) == 0,
	      "got '%.64s'", text);
	char want[64];
	snprintf(want, sizeof(want), " 3    0003   %-5d 1 ", (int)if_nametoindex("lo"));
	CHECK("proc_net_packet_raw_line", strstr(text, want), "no '%s' in '%s'", want, text);
}

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	REQUIRE(lo_up() == 0);
	snprintf(marker, sizeof(marker), "ferrite-packet-%d", getpid());
	errors();
	int dgram = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_IP));
	int raw = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	REQUIRE(dgram >= 0 && raw >= 0);
	struct sockaddr_ll sll = lo_addr(ETH_P_ALL);
	EXPECT_OK("bind_raw_lo", bind(raw, (struct sockaddr *)&sll, sizeof(sll)));
	dgram_and_raw(dgram, raw);
	filter_and_auxdata(dgram);
	names_and_stats(dgram, raw);
	close(dgram);
	close(raw);
	return test_done();
}
