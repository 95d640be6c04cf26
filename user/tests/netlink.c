/*
 * netlink: AF_NETLINK sockets and what `ip`, `tc` and `uevent` ask of them.
 * Port ids (autobind to the pid, then negative ids), bind errors; rtnetlink
 * dumps of links, addresses, routes, neighbours and qdiscs over lo, with
 * Linux's framing (NLM_F_MULTI messages, then NLMSG_DONE alone); requests
 * by name and index; acks (NLMSG_ERROR with 0, NLM_F_CAPPED) and errors
 * (the request copied back); address changes and their multicast
 * notifications; EPERM for a user without CAP_NET_ADMIN; MSG_PEEK and
 * MSG_TRUNC; synthetic uevents from /sys/class/mem/null/uevent and
 * ENOBUFS when a listener's queue overflows.
 * Linux: net/netlink/af_netlink.c, net/core/rtnetlink.c, net/ipv4/devinet.c,
 * net/ipv4/fib_frontend.c, net/sched/sch_api.c, lib/kobject_uevent.c.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "test.h"

/* musl has no <linux/netlink.h> or <linux/rtnetlink.h>: the uapi this
 * test uses, as include/uapi/linux/{netlink,rtnetlink,if_link,if_addr,
 * neighbour,pkt_sched}.h define it. */
#define NETLINK_ROUTE 0
#define NETLINK_KOBJECT_UEVENT 15
struct sockaddr_nl {
	unsigned short nl_family, nl_pad;
	unsigned nl_pid, nl_groups;
};
struct nlmsghdr {
	unsigned nlmsg_len;
	unsigned short nlmsg_type, nlmsg_flags;
	unsigned nlmsg_seq, nlmsg_pid;
};
struct nlmsgerr {
	int error;
	struct nlmsghdr msg;
};
struct rtattr {
	unsigned short rta_len, rta_type;
};
struct rtgenmsg {
	unsigned char rtgen_family;
};
struct ifinfomsg {
	unsigned char ifi_family, __ifi_pad;
	unsigned short ifi_type;
	int ifi_index;
	unsigned ifi_flags, ifi_change;
};
struct ifaddrmsg {
	unsigned char ifa_family, ifa_prefixlen, ifa_flags, ifa_scope;
	unsigned ifa_index;
};
struct rtmsg {
	unsigned char rtm_family, rtm_dst_len, rtm_src_len, rtm_tos, rtm_table, rtm_protocol,
		rtm_scope, rtm_type;
	unsigned rtm_flags;
};
struct ndmsg {
	unsigned char ndm_family, ndm_pad1;
	unsigned short ndm_pad2;
	int ndm_ifindex;
	unsigned short ndm_state;
	unsigned char ndm_flags, ndm_type;
};
struct tcmsg {
	unsigned char tcm_family, tcm__pad1;
	unsigned short tcm__pad2;
	int tcm_ifindex;
	unsigned tcm_handle, tcm_parent, tcm_info;
};
#define NLM_F_REQUEST 1
#define NLM_F_MULTI 2
#define NLM_F_ACK 4
#define NLM_F_DUMP 0x300
#define NLM_F_EXCL 0x200
#define NLM_F_CREATE 0x400
#define NLM_F_CAPPED 0x100
#define NLMSG_ERROR 2
#define NLMSG_DONE 3
#define NLMSG_ALIGN(len) (((len) + 3U) & ~3U)
#define NLMSG_HDRLEN ((int)NLMSG_ALIGN(sizeof(struct nlmsghdr)))
#define NLMSG_LENGTH(len) ((len) + NLMSG_HDRLEN)
#define NLMSG_DATA(nlh) ((void *)((char *)(nlh) + NLMSG_HDRLEN))
#define NLMSG_NEXT(nlh, len)                                                                       \
	((len) -= NLMSG_ALIGN((nlh)->nlmsg_len),                                                   \
	 (struct nlmsghdr *)((char *)(nlh) + NLMSG_ALIGN((nlh)->nlmsg_len)))
#define NLMSG_OK(nlh, len)                                                                         \
	((len) >= (int)sizeof(struct nlmsghdr) && (nlh)->nlmsg_len >= sizeof(struct nlmsghdr) &&   \
	 (nlh)->nlmsg_len <= (unsigned)(len))
#define NLA_TYPE_MASK 0x3fff
#define RTA_ALIGN(len) (((len) + 3U) & ~3U)
#define RTA_LENGTH(len) (RTA_ALIGN(sizeof(struct rtattr)) + (len))
#define RTA_DATA(rta) ((void *)((char *)(rta) + RTA_LENGTH(0)))
#define RTA_PAYLOAD(rta) ((int)((rta)->rta_len) - (int)RTA_LENGTH(0))
#define RTA_OK(rta, len)                                                                           \
	((len) >= (int)sizeof(struct rtattr) && (rta)->rta_len >= sizeof(struct rtattr) &&         \
	 (rta)->rta_len <= (len))
#define RTA_NEXT(rta, attrlen)                                                                     \
	((attrlen) -= RTA_ALIGN((rta)->rta_len),                                                   \
	 (struct rtattr *)((char *)(rta) + RTA_ALIGN((rta)->rta_len)))
enum { RTM_NEWLINK = 16, RTM_GETLINK = 18, RTM_NEWADDR = 20, RTM_DELADDR, RTM_GETADDR,
       RTM_GETROUTE = 26, RTM_GETNEIGH = 30, RTM_GETQDISC = 38 };
enum { IFLA_ADDRESS = 1, IFLA_IFNAME = 3, IFLA_MTU = 4, IFLA_QDISC = 6, IFLA_TXQLEN = 13,
       IFLA_OPERSTATE = 16, IFLA_STATS64 = 23 };
enum { IFA_ADDRESS = 1, IFA_LOCAL, IFA_LABEL, IFA_BROADCAST, IFA_ANYCAST, IFA_CACHEINFO,
       IFA_MULTICAST, IFA_FLAGS };
enum { RTA_DST = 1, RTA_OIF = 4, RTA_PREFSRC = 7 };
#define IFA_F_SECONDARY 0x01
#define IFA_F_PERMANENT 0x80
#define RT_SCOPE_HOST 254
#define RT_TABLE_LOCAL 255
#define RTMGRP_LINK 0x1
#define RTMGRP_IPV4_IFADDR 0x10
#define TCA_KIND 1
#define TC_H_ROOT 0xffffffffU
#define IF_OPER_UNKNOWN 0
#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000
#endif

static char buf[65536];
static unsigned seq = 100;

/* A ROUTE socket, autobound. */
static int route_socket(void)
{
	return socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
}

/* Sends one request: header, fixed part `body` of `len` bytes, attributes
 * `attrs` of `alen` bytes (already encoded). Returns the sequence number. */
static unsigned send_req(int fd, int type, int flags, const void *body, size_t len,
			 const void *attrs, size_t alen)
{
	char req[1024];
	struct nlmsghdr *h = (struct nlmsghdr *)req;
	memset(req, 0, sizeof(req));
	h->nlmsg_len = NLMSG_LENGTH(NLMSG_ALIGN(len) + alen);
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | flags;
	h->nlmsg_seq = ++seq;
	memcpy(NLMSG_DATA(h), body, len);
	memcpy((char *)NLMSG_DATA(h) + NLMSG_ALIGN(len), attrs, alen);
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	if (sendto(fd, req, h->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return 0;
	return seq;
}

/* Appends attribute `type` with `len` bytes of `data` at `*at`. */
static size_t put_attr(char *at, int type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)at;
	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	return RTA_ALIGN(a->rta_len);
}

/* The error code of the NLMSG_ERROR answering `want` (0 for an ack), or
 * 1 if no such message came. */
static int read_ack(int fd, unsigned want, unsigned *flags)
{
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n <= 0)
		return 1;
	for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_type == NLMSG_ERROR && h->nlmsg_seq == want) {
			if (flags)
				*flags = h->nlmsg_flags;
			return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
		}
	}
	return 1;
}

/* A dump's messages, in `dump` (concatenated), their count, and whether it
 * ended with NLMSG_DONE in a datagram of its own. */
static char dump[65536];
static size_t dump_len;
static int dump_done_alone;

static int read_dump(int fd, unsigned want)
{
	int count = 0;
	dump_len = 0;
	dump_done_alone = 0;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n <= 0)
			return -1;
		int in_this = 0;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != want)
				continue;
			if (h->nlmsg_type == NLMSG_DONE) {
				dump_done_alone = in_this == 0 && NLMSG_ALIGN(h->nlmsg_len) >= (size_t)n;
				return count;
			}
			if (h->nlmsg_type == NLMSG_ERROR || !(h->nlmsg_flags & NLM_F_MULTI))
				return -1;
			if (dump_len + h->nlmsg_len <= sizeof(dump)) {
				memcpy(dump + dump_len, h, h->nlmsg_len);
				dump_len += NLMSG_ALIGN(h->nlmsg_len);
			}
			count++;
			in_this++;
		}
	}
}

/* The attribute `type` of the message `h` whose fixed part is `fixed`
 * bytes, or NULL. */
static struct rtattr *get_attr(struct nlmsghdr *h, size_t fixed, int type)
{
	int len = (int)h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(fixed));
	for (struct rtattr *a = (struct rtattr *)((char *)NLMSG_DATA(h) + NLMSG_ALIGN(fixed));
	     RTA_OK(a, len); a = RTA_NEXT(a, len))
		if ((a->rta_type & NLA_TYPE_MASK) == type)
			return a;
	return NULL;
}

#define FOR_EACH_DUMPED(h)                                                                        \
	for (struct nlmsghdr *h = (struct nlmsghdr *)dump; (char *)h < dump + dump_len;            \
	     h = (struct nlmsghdr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len)))

static void ports(void)
{
	EXPECT_ERRNO("socket_stream", socket(AF_NETLINK, SOCK_STREAM, NETLINK_ROUTE), ESOCKTNOSUPPORT);
	EXPECT_ERRNO("socket_no_protocol", socket(AF_NETLINK, SOCK_RAW, 31), EPROTONOSUPPORT);
	int a = route_socket(), b = route_socket(), c = route_socket();
	REQUIRE_VOID(a >= 0 && b >= 0 && c >= 0);
	struct sockaddr_nl sa;
	socklen_t len = sizeof(sa);
	getsockname(a, (struct sockaddr *)&sa, &len);
	CHECK("unbound_port_0", len == sizeof(sa) && sa.nl_family == AF_NETLINK && sa.nl_pid == 0,
	      "len %u pid %u", len, sa.nl_pid);
	struct sockaddr_nl any = { .nl_family = AF_NETLINK };
	EXPECT_OK("bind_autobind", bind(a, (struct sockaddr *)&any, sizeof(any)));
	getsockname(a, (struct sockaddr *)&sa, &len);
	CHECK("autobind_is_pid", sa.nl_pid == (unsigned)getpid(), "port %u, pid %d", sa.nl_pid, getpid());
	EXPECT_OK("bind_second", bind(b, (struct sockaddr *)&any, sizeof(any)));
	getsockname(b, (struct sockaddr *)&sa, &len);
	CHECK("second_autobind_negative", (int)sa.nl_pid < 0, "port %d", (int)sa.nl_pid);
	struct sockaddr_nl taken = { .nl_family = AF_NETLINK, .nl_pid = (unsigned)getpid() };
	EXPECT_ERRNO("bind_taken", bind(c, (struct sockaddr *)&taken, sizeof(taken)), EADDRINUSE);
	struct sockaddr_nl other = { .nl_family = AF_NETLINK, .nl_pid = 12345 };
	EXPECT_ERRNO("rebind_other_port", bind(a, (struct sockaddr *)&other, sizeof(other)), EINVAL);
	EXPECT_ERRNO("bind_short", bind(c, (struct sockaddr *)&any, 4), EINVAL);
	int avail = 0;
	EXPECT_ERRNO("fionread_enotty", ioctl(a, FIONREAD, &avail), ENOTTY);
	struct pollfd p = { .fd = a, .events = POLLIN | POLLOUT };
	CHECK("poll_idle", poll(&p, 1, 0) == 1 && p.revents == POLLOUT, "revents %#x", p.revents);
	close(a);
	close(b);
	close(c);
}

/* Brings lo up with RTM_NEWLINK, asking for an ack. */
static void link_up(int fd)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = 1,
				 .ifi_flags = IFF_UP, .ifi_change = IFF_UP };
	unsigned s = send_req(fd, RTM_NEWLINK, NLM_F_ACK, &ifi, sizeof(ifi), NULL, 0);
	unsigned flags = 0;
	int err = read_ack(fd, s, &flags);
	CHECK("newlink_up_ack", err == 0 && (flags & NLM_F_CAPPED), "error %d flags %#x", err, flags);
}

static void links(int fd)
{
	struct rtgenmsg g = { .rtgen_family = AF_UNSPEC };
	unsigned s = send_req(fd, RTM_GETLINK, NLM_F_DUMP, &g, sizeof(g), NULL, 0);
	int n = read_dump(fd, s);
	CHECK("getlink_dump", n >= 1 && dump_done_alone, "%d links, done alone %d", n, dump_done_alone);
	int found = 0;
	FOR_EACH_DUMPED(h) {
		struct ifinfomsg *ifi = NLMSG_DATA(h);
		struct rtattr *name = get_attr(h, sizeof(*ifi), IFLA_IFNAME);
		if (h->nlmsg_type != RTM_NEWLINK || !name || strcmp(RTA_DATA(name), "lo") != 0)
			continue;
		found = 1;
		unsigned want = IFF_LOOPBACK | IFF_UP | IFF_RUNNING | IFF_LOWER_UP;
		CHECK("lo_flags", ifi->ifi_index == 1 && ifi->ifi_type == ARPHRD_LOOPBACK &&
		      (ifi->ifi_flags & want) == want, "index %d type %d flags %#x",
		      ifi->ifi_index, ifi->ifi_type, ifi->ifi_flags);
		struct rtattr *mtu = get_attr(h, sizeof(*ifi), IFLA_MTU);
		struct rtattr *qdisc = get_attr(h, sizeof(*ifi), IFLA_QDISC);
		struct rtattr *oper = get_attr(h, sizeof(*ifi), IFLA_OPERSTATE);
		struct rtattr *txq = get_attr(h, sizeof(*ifi), IFLA_TXQLEN);
		CHECK("lo_mtu", mtu && *(unsigned *)RTA_DATA(mtu) == 65536, "no mtu 65536");
		CHECK("lo_qdisc", qdisc && strcmp(RTA_DATA(qdisc), "noqueue") == 0, "qdisc %s",
		      qdisc ? (char *)RTA_DATA(qdisc) : "none");
		CHECK("lo_operstate", oper && *(unsigned char *)RTA_DATA(oper) == IF_OPER_UNKNOWN,
		      "operstate %d", oper ? *(unsigned char *)RTA_DATA(oper) : -1);
		CHECK("lo_txqlen", txq && *(unsigned *)RTA_DATA(txq) == 1000, "no txqlen 1000");
		struct rtattr *first = (struct rtattr *)((char *)ifi + NLMSG_ALIGN(sizeof(*ifi)));
		CHECK("ifname_first", first == name, "IFLA_IFNAME is not the first attribute");
		struct rtattr *addr = get_attr(h, sizeof(*ifi), IFLA_ADDRESS);
		CHECK("lo_address", addr && RTA_PAYLOAD(addr) == 6, "no 6-byte address");
		CHECK("lo_stats64", get_attr(h, sizeof(*ifi), IFLA_STATS64) != NULL, "no IFLA_STATS64");
	}
	CHECK("getlink_has_lo", found, "lo not in the dump");

	/* A second dump while the first is unread is refused; the first's
	 * NLMSG_DONE comes once its data has been read. */
	unsigned s1 = send_req(fd, RTM_GETLINK, NLM_F_DUMP, &g, sizeof(g), NULL, 0);
	unsigned s2 = send_req(fd, RTM_GETLINK, NLM_F_DUMP, &g, sizeof(g), NULL, 0);
	char order[128] = "";
	for (int i = 0; i < 3; i++) {
		ssize_t got = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;
		if (got < (ssize_t)sizeof(*h))
			break;
		char one[32];
		int err = h->nlmsg_type == NLMSG_ERROR ? ((struct nlmsgerr *)NLMSG_DATA(h))->error : 0;
		snprintf(one, sizeof(one), "%d/%d/%d ", h->nlmsg_type, h->nlmsg_seq == s1 ? 1 : h->nlmsg_seq == s2 ? 2 : 0, err);
		strncat(order, one, sizeof(order) - strlen(order) - 1);
	}
	CHECK("dump_ebusy", strcmp(order, "16/1/0 2/2/-16 3/1/0 ") == 0, "datagrams %s", order);

	/* An MTU change is told to RTMGRP_LINK listeners. */
	int mon = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	struct sockaddr_nl groups = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	bind(mon, (struct sockaddr *)&groups, sizeof(groups));
	char mattrs[16];
	unsigned mtu = 65535;
	struct ifinfomsg lo = { .ifi_family = AF_UNSPEC, .ifi_index = 1 };
	size_t mlen = put_attr(mattrs, IFLA_MTU, &mtu, 4);
	s = send_req(fd, RTM_NEWLINK, NLM_F_ACK, &lo, sizeof(lo), mattrs, mlen);
	int err = read_ack(fd, s, NULL);
	CHECK("setlink_mtu", err == 0, "error %d", err);
	ssize_t got = recv(mon, buf, sizeof(buf), MSG_DONTWAIT);
	struct nlmsghdr *mh = (struct nlmsghdr *)buf;
	struct rtattr *m = got > 0 ? get_attr(mh, sizeof(struct ifinfomsg), IFLA_MTU) : NULL;
	CHECK("notify_link_mtu", got > 0 && mh->nlmsg_type == RTM_NEWLINK && m &&
	      *(unsigned *)RTA_DATA(m) == 65535, "got %zd type %d", got, got > 0 ? mh->nlmsg_type : -1);
	mtu = 65536;
	put_attr(mattrs, IFLA_MTU, &mtu, 4);
	s = send_req(fd, RTM_NEWLINK, NLM_F_ACK, &lo, sizeof(lo), mattrs, mlen);
	err = read_ack(fd, s, NULL);
	CHECK("setlink_mtu_back", err == 0, "error %d", err);
	close(mon);

	/* One link by name: a single message, not multipart. */
	char attrs[64];
	struct ifinfomsg by_name = { .ifi_family = AF_UNSPEC };
	size_t alen = put_attr(attrs, IFLA_IFNAME, "lo", 3);
	s = send_req(fd, RTM_GETLINK, 0, &by_name, sizeof(by_name), attrs, alen);
	got = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	CHECK("getlink_by_name", got > 0 && NLMSG_OK(h, got) && h->nlmsg_type == RTM_NEWLINK &&
	      h->nlmsg_seq == s && !(h->nlmsg_flags & NLM_F_MULTI) &&
	      ((struct ifinfomsg *)NLMSG_DATA(h))->ifi_index == 1, "got %zd type %d", got,
	      got > 0 ? h->nlmsg_type : -1);
	struct ifinfomsg bad = { .ifi_family = AF_UNSPEC, .ifi_index = 9999 };
	s = send_req(fd, RTM_GETLINK, 0, &bad, sizeof(bad), NULL, 0);
	got = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	struct nlmsgerr *e = NLMSG_DATA(h);
	CHECK("getlink_enodev", got == (ssize_t)NLMSG_LENGTH(sizeof(*e) + sizeof(bad)) &&
	      h->nlmsg_type == NLMSG_ERROR && e->error == -ENODEV && e->msg.nlmsg_seq == s &&
	      h->nlmsg_flags == 0, "got %zd error %d flags %#x", got, e->error, h->nlmsg_flags);
}

/* Sends RTM_NEWADDR or RTM_DELADDR for 127.0.0.9/8 on lo; returns the error. */
static int change_addr(int fd, int type, int flags)
{
	struct ifaddrmsg ifa = { .ifa_family = AF_INET, .ifa_prefixlen = 8,
				 .ifa_scope = RT_SCOPE_HOST, .ifa_index = 1 };
	char attrs[64];
	struct in_addr a = { htonl(0x7f000009) };
	size_t alen = put_attr(attrs, IFA_LOCAL, &a, 4);
	alen += put_attr(attrs + alen, IFA_ADDRESS, &a, 4);
	unsigned s = send_req(fd, type, NLM_F_ACK | flags, &ifa, sizeof(ifa), attrs, alen);
	return read_ack(fd, s, NULL);
}

/* Whether the IPv4 address dump has `addr` on lo, and its flags. */
static int has_addr(int fd, unsigned addr, unsigned *flags, unsigned char *scope)
{
	struct rtgenmsg g = { .rtgen_family = AF_INET };
	unsigned s = send_req(fd, RTM_GETADDR, NLM_F_DUMP, &g, sizeof(g), NULL, 0);
	if (read_dump(fd, s) < 0)
		return 0;
	FOR_EACH_DUMPED(h) {
		struct ifaddrmsg *ifa = NLMSG_DATA(h);
		struct rtattr *local = get_attr(h, sizeof(*ifa), IFA_LOCAL);
		struct rtattr *label = get_attr(h, sizeof(*ifa), IFA_LABEL);
		struct rtattr *f = get_attr(h, sizeof(*ifa), IFA_FLAGS);
		if (ifa->ifa_family == AF_INET && local && *(unsigned *)RTA_DATA(local) == htonl(addr) &&
		    ifa->ifa_index == 1 && label && strcmp(RTA_DATA(label), "lo") == 0) {
			if (flags)
				*flags = f ? *(unsigned *)RTA_DATA(f) : 0;
			if (scope)
				*scope = ifa->ifa_scope;
			return 1;
		}
	}
	return 0;
}

static void addresses(int fd)
{
	unsigned flags = 0;
	unsigned char scope = 0;
	CHECK("lo_has_127_0_0_1", has_addr(fd, 0x7f000001, &flags, &scope) && scope == RT_SCOPE_HOST &&
	      (flags & IFA_F_PERMANENT), "flags %#x scope %d", flags, scope);
	struct rtgenmsg g = { .rtgen_family = AF_INET6 };
	unsigned s = send_req(fd, RTM_GETADDR, NLM_F_DUMP, &g, sizeof(g), NULL, 0);
	int n = read_dump(fd, s), v6 = 0;
	FOR_EACH_DUMPED(h) {
		struct ifaddrmsg *ifa = NLMSG_DATA(h);
		struct rtattr *a = get_attr(h, sizeof(*ifa), IFA_ADDRESS);
		if (ifa->ifa_family == AF_INET6 && ifa->ifa_prefixlen == 128 && a &&
		    memcmp(RTA_DATA(a), &in6addr_loopback, 16) == 0)
			v6 = 1;
	}
	CHECK("lo_has_ipv6_loopback", n >= 1 && v6, "%d addresses, ::1 %d", n, v6);

	/* A listener of IPv4 address changes. */
	int mon = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	struct sockaddr_nl groups = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_IPV4_IFADDR };
	EXPECT_OK("bind_groups", bind(mon, (struct sockaddr *)&groups, sizeof(groups)));

	int err = change_addr(fd, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	CHECK("newaddr", err == 0, "error %d", err);
	CHECK("newaddr_listed", has_addr(fd, 0x7f000009, &flags, NULL) && (flags & IFA_F_SECONDARY),
	      "127.0.0.9 not listed as secondary (flags %#x)", flags);
	err = change_addr(fd, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	CHECK("newaddr_eexist", err == -EEXIST, "error %d", err);

	struct sockaddr_nl from;
	socklen_t flen = sizeof(from);
	ssize_t got = recvfrom(mon, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	CHECK("notify_newaddr", got > 0 && h->nlmsg_type == RTM_NEWADDR && from.nl_pid == 0 &&
	      from.nl_groups == RTMGRP_IPV4_IFADDR, "got %zd type %d from %u groups %#x", got,
	      got > 0 ? h->nlmsg_type : -1, from.nl_pid, from.nl_groups);

	err = change_addr(fd, RTM_DELADDR, 0);
	CHECK("deladdr", err == 0 && !has_addr(fd, 0x7f000009, NULL, NULL), "error %d", err);
	err = change_addr(fd, RTM_DELADDR, 0);
	CHECK("deladdr_eaddrnotavail", err == -EADDRNOTAVAIL, "error %d", err);
	got = recv(mon, buf, sizeof(buf), MSG_DONTWAIT);
	CHECK("notify_deladdr", got > 0 && h->nlmsg_type == RTM_DELADDR, "got %zd type %d", got,
	      got > 0 ? h->nlmsg_type : -1);
	close(mon);
}

static int nobody_newaddr(int unused)
{
	(void)unused;
	int fd = route_socket();
	return change_addr(fd, RTM_NEWADDR, NLM_F_CREATE) == -EPERM ? 0 : 1;
}

/* The local table's routes: 127.0.0.0/8 and 127.0.0.1 local, then the
 * broadcast 127.255.255.255, all from 127.0.0.1 on lo. */
static void routes(int fd)
{
	struct rtmsg rtm = { .rtm_family = AF_INET };
	unsigned s = send_req(fd, RTM_GETROUTE, NLM_F_DUMP, &rtm, sizeof(rtm), NULL, 0);
	int n = read_dump(fd, s);
	char got[512] = "";
	FOR_EACH_DUMPED(h) {
		struct rtmsg *r = NLMSG_DATA(h);
		struct rtattr *dst = get_attr(h, sizeof(*r), RTA_DST);
		struct rtattr *src = get_attr(h, sizeof(*r), RTA_PREFSRC);
		struct rtattr *oif = get_attr(h, sizeof(*r), RTA_OIF);
		if (r->rtm_table != RT_TABLE_LOCAL || !dst || !src || !oif)
			continue;
		char line[96];
		unsigned d = ntohl(*(unsigned *)RTA_DATA(dst));
		snprintf(line, sizeof(line), "%u %x/%d src %x oif %u scope %d proto %d;", r->rtm_type,
			 d, r->rtm_dst_len, ntohl(*(unsigned *)RTA_DATA(src)),
			 *(unsigned *)RTA_DATA(oif), r->rtm_scope, r->rtm_protocol);
		strncat(got, line, sizeof(got) - strlen(got) - 1);
	}
	const char *want = "2 7f000000/8 src 7f000001 oif 1 scope 254 proto 2;"
			   "2 7f000001/32 src 7f000001 oif 1 scope 254 proto 2;"
			   "3 7fffffff/32 src 7f000001 oif 1 scope 253 proto 2;";
	CHECK("local_table", n >= 3 && strcmp(got, want) == 0, "%d routes: %s", n, got);

	struct ndmsg nd = { .ndm_family = AF_UNSPEC };
	s = send_req(fd, RTM_GETNEIGH, NLM_F_DUMP, &nd, sizeof(nd), NULL, 0);
	n = read_dump(fd, s);
	CHECK("neigh_empty", n == 0 && dump_done_alone, "%d neighbours", n);

	struct tcmsg tc = { .tcm_family = AF_UNSPEC };
	s = send_req(fd, RTM_GETQDISC, NLM_F_DUMP, &tc, sizeof(tc), NULL, 0);
	n = read_dump(fd, s);
	int lo = 0;
	FOR_EACH_DUMPED(h) {
		struct tcmsg *t = NLMSG_DATA(h);
		struct rtattr *kind = get_attr(h, sizeof(*t), TCA_KIND);
		if (t->tcm_ifindex == 1 && kind && strcmp(RTA_DATA(kind), "noqueue") == 0 &&
		    t->tcm_parent == TC_H_ROOT && t->tcm_handle == 0 && t->tcm_info == 2)
			lo = 1;
	}
	CHECK("qdisc_noqueue", lo, "%d qdiscs, none is lo's root noqueue", n);
}

/* MSG_PEEK leaves a message; MSG_TRUNC gives its real length. */
static void peek_trunc(int fd)
{
	char attrs[64];
	struct ifinfomsg by_name = { .ifi_family = AF_UNSPEC };
	size_t alen = put_attr(attrs, IFLA_IFNAME, "lo", 3);
	send_req(fd, RTM_GETLINK, 0, &by_name, sizeof(by_name), attrs, alen);
	char small[16];
	ssize_t full = recv(fd, small, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
	CHECK("peek_trunc_length", full > (ssize_t)sizeof(small), "got %zd", full);
	struct iovec iov = { small, sizeof(small) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t got = recvmsg(fd, &m, MSG_DONTWAIT);
	CHECK("recv_truncated", got == (ssize_t)sizeof(small) && (m.msg_flags & MSG_TRUNC),
	      "got %zd flags %#x", got, m.msg_flags);
	EXPECT_ERRNO("queue_empty", recv(fd, small, sizeof(small), MSG_DONTWAIT), EAGAIN);
}

/* The sysfs directory holding class/mem/null, mounting one if needed. */
static const char *sysfs_root(void)
{
	if (access("/sys/class/mem/null/uevent", W_OK) == 0)
		return "/sys";
	mkdir("/tmp/nlsys", 0755);
	if (mount("sysfs", "/tmp/nlsys", "sysfs", 0, NULL) == 0 || errno == EBUSY)
		return "/tmp/nlsys";
	return NULL;
}

static int write_uevent(const char *root, const char *what)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/class/mem/null/uevent", root);
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, what, strlen(what));
	int e = errno;
	close(fd);
	errno = e;
	return n < 0 ? -1 : 0;
}

/* Whether the NUL-separated `msg` of `len` bytes has the string `var`. */
static int has_var(const char *msg, size_t len, const char *var)
{
	for (size_t i = 0; i < len; i += strlen(msg + i) + 1)
		if (strcmp(msg + i, var) == 0)
			return 1;
	return 0;
}

static void uevents(void)
{
	const char *root = sysfs_root();
	REQUIRE_VOID(root != NULL);
	int fd = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_KOBJECT_UEVENT);
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_pid = (unsigned)getpid(), .nl_groups = 1 };
	EXPECT_OK("uevent_bind", bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	char path[128], seq_text[32];
	snprintf(path, sizeof(path), "%s/kernel/uevent_seqnum", root);
	ssize_t len = slurp(path, seq_text, sizeof(seq_text));
	long long seqnum = len > 0 ? atoll(seq_text) : -1;
	EXPECT_OK("uevent_write_add", write_uevent(root, "add\n"));
	len = slurp(path, seq_text, sizeof(seq_text));
	CHECK("uevent_seqnum", seqnum >= 0 && len > 0 && atoll(seq_text) == seqnum + 1,
	      "uevent_seqnum %lld then %s", seqnum, len > 0 ? seq_text : "unreadable");
	char want_seq[48];
	snprintf(want_seq, sizeof(want_seq), "SEQNUM=%lld", seqnum + 1);
	EXPECT_ERRNO("uevent_write_bogus", write_uevent(root, "bogus\n"), EINVAL);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	CHECK("uevent_poll", poll(&p, 1, 2000) == 1 && (p.revents & POLLIN), "revents %#x", p.revents);
	struct sockaddr_nl from;
	socklen_t flen = sizeof(from);
	int found = 0;
	for (;;) {
		ssize_t n = recvfrom(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
		if (n <= 0)
			break;
		buf[n] = 0;
		if (strcmp(buf, "add@/devices/virtual/mem/null") != 0)
			continue;
		found = 1;
		CHECK("uevent_vars", has_var(buf, n, "ACTION=add") && has_var(buf, n, "SUBSYSTEM=mem") &&
		      has_var(buf, n, "DEVPATH=/devices/virtual/mem/null") &&
		      has_var(buf, n, "DEVNAME=null") && has_var(buf, n, "MAJOR=1") &&
		      has_var(buf, n, "MINOR=3") && has_var(buf, n, "SYNTH_UUID=0") &&
		      has_var(buf, n, want_seq), "message lacks a variable");
		CHECK("uevent_from_kernel", from.nl_pid == 0 && from.nl_groups == 1, "from %u groups %#x",
		      from.nl_pid, from.nl_groups);
	}
	CHECK("uevent_received", found, "no add@/devices/virtual/mem/null");

	/* A listener with a small buffer loses events and learns it once. */
	int rcvbuf = 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	for (int i = 0; i < 40; i++)
		write_uevent(root, "change");
	EXPECT_ERRNO("uevent_enobufs", recv(fd, buf, sizeof(buf), MSG_DONTWAIT), ENOBUFS);
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	CHECK("uevent_after_enobufs", n > 0 && strncmp(buf, "change@", 7) == 0, "got %zd", n);
	close(fd);
}

int main(void)
{
	ports();
	int fd = route_socket();
	REQUIRE(fd >= 0);
	link_up(fd);
	links(fd);
	addresses(fd);
	int st = as_nobody(nobody_newaddr, 0);
	CHECK("newaddr_eperm_for_nobody", st == 0, "status %d", st);
	routes(fd);
	peek_trunc(fd);
	close(fd);
	uevents();
	return test_done();
}
