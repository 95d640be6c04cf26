/*
 * AF_UNIX datagram sockets: message boundaries and truncation (MSG_TRUNC
 * in and out), zero-length datagrams, sendto to a bound name and the
 * sender's address in recvfrom, the errors of a bad destination (ENOENT,
 * ECONNREFUSED, EPROTOTYPE, EPERM, ENOTCONN, EMSGSIZE), connected
 * datagram sockets and AF_UNSPEC disconnect, a closed peer, the receive
 * queue limit, poll readiness, and SCM_RIGHTS over a datagram.
 * Linux: net/unix/af_unix.c (unix_dgram_*), net/socket.c.
 */
#include "test.h"
#include <poll.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

static socklen_t mkaddr(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	strncpy(a->sun_path, path, sizeof(a->sun_path) - 1);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
}

/* A datagram socket bound to `path` (removed first). */
static int bound(const char *path)
{
	struct sockaddr_un a;
	unlink(path);
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, mkaddr(&a, path)) != 0)
		return -1;
	return fd;
}

static void pair_boundaries(void)
{
	int sv[2];
	char buf[32];
	REQUIRE_VOID(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
	struct pollfd pfd = {.fd = sv[1], .events = POLLIN | POLLOUT};
	CHECK("poll_empty_writable", poll(&pfd, 1, 0) == 1 && pfd.revents == POLLOUT, "revents %#x", pfd.revents);
	REQUIRE_VOID(send(sv[0], "one", 3, 0) == 3 && send(sv[0], "three", 5, 0) == 5);
	REQUIRE_VOID(send(sv[0], "", 0, 0) == 0 && write(sv[0], "0123456789", 10) == 10);
	pfd.revents = 0;
	CHECK("poll_readable", poll(&pfd, 1, 0) == 1 && pfd.revents == (POLLIN | POLLOUT), "revents %#x", pfd.revents);
	int avail = -1;
	CHECK("fionread_next_datagram", ioctl(sv[1], FIONREAD, &avail) == 0 && avail == 3, "FIONREAD %d", avail);
	ssize_t n1 = recv(sv[1], buf, sizeof(buf), 0);
	ssize_t n2 = recv(sv[1], buf + 3, sizeof(buf), MSG_PEEK);
	ssize_t n3 = read(sv[1], buf + 3, sizeof(buf));
	CHECK("boundaries_kept", n1 == 3 && n2 == 5 && n3 == 5 && memcmp(buf, "onethree", 8) == 0, "%zd %zd %zd", n1,
	      n2, n3);
	CHECK("zero_length_datagram", recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) == 0, "not an empty message");
	struct iovec iov = {buf, 4};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n = recvmsg(sv[1], &m, MSG_PEEK);
	CHECK("recvmsg_trunc_flag", n == 4 && (m.msg_flags & MSG_TRUNC) && memcmp(buf, "0123", 4) == 0, "n %zd flags %#x",
	      n, m.msg_flags);
	n = recv(sv[1], buf, 4, MSG_TRUNC);
	CHECK("msg_trunc_returns_full_length", n == 10 && memcmp(buf, "0123", 4) == 0, "recv %zd", n);
	EXPECT_ERRNO("rest_of_datagram_discarded", recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	/* Larger than the send buffer allows. */
	static char big[300000];
	EXPECT_ERRNO("too_big_emsgsize", send(sv[0], big, sizeof(big), 0), EMSGSIZE);
	CHECK("large_datagram_whole", send(sv[0], big, 100000, 0) == 100000 && recv(sv[1], big, sizeof(big), 0) == 100000,
	      "100000-byte datagram");
	/* The peer's close: the survivor's sends are refused. */
	close(sv[1]);
	EXPECT_ERRNO("send_to_closed_peer_econnrefused", send(sv[0], "x", 1, 0), ECONNREFUSED);
	EXPECT_ERRNO("then_not_connected", send(sv[0], "x", 1, 0), ENOTCONN);
	close(sv[0]);
}

static void named(void)
{
	struct sockaddr_un a, from;
	char buf[32];
	socklen_t alen = mkaddr(&a, "server.sock");
	int srv = bound("server.sock");
	REQUIRE_VOID(srv >= 0);
	int c = socket(AF_UNIX, SOCK_DGRAM, 0);
	EXPECT_ERRNO("send_unconnected_enotconn", send(c, "x", 1, 0), ENOTCONN);
	CHECK("sendto_path", sendto(c, "anon", 4, 0, (struct sockaddr *)&a, alen) == 4, "sendto %s", errno_name(errno));
	socklen_t flen = sizeof(from);
	memset(&from, 0x55, sizeof(from));
	ssize_t n = recvfrom(srv, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
	CHECK("recvfrom_unbound_sender", n == 4 && memcmp(buf, "anon", 4) == 0 && flen == 0, "n %zd addrlen %u", n,
	      (unsigned)flen);
	int cb = bound("client.sock");
	REQUIRE_VOID(cb >= 0);
	REQUIRE_VOID(sendto(cb, "named", 5, 0, (struct sockaddr *)&a, alen) == 5);
	flen = sizeof(from);
	n = recvfrom(srv, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
	CHECK("recvfrom_bound_sender", n == 5 && flen == mkaddr(&a, "client.sock") && strcmp(from.sun_path, "client.sock") == 0,
	      "n %zd addrlen %u path %s", n, (unsigned)flen, from.sun_path);
	mkaddr(&a, "server.sock");
	/* Reply to the address recvfrom gave. */
	CHECK("reply_to_sender", sendto(srv, "back", 4, 0, (struct sockaddr *)&from, flen) == 4 &&
		      recv(cb, buf, sizeof(buf), 0) == 4 && memcmp(buf, "back", 4) == 0, "reply");

	/* Bad destinations. */
	struct sockaddr_un b;
	EXPECT_ERRNO("sendto_missing_enoent", sendto(c, "x", 1, 0, (struct sockaddr *)&b, mkaddr(&b, "missing")), ENOENT);
	int reg = open("plain", O_CREAT | O_WRONLY, 0600);
	close(reg);
	EXPECT_ERRNO("sendto_regular_file_econnrefused", sendto(c, "x", 1, 0, (struct sockaddr *)&b, mkaddr(&b, "plain")),
		     ECONNREFUSED);
	int dead = bound("dead.sock");
	close(dead);
	EXPECT_ERRNO("sendto_closed_socket_econnrefused",
		     sendto(c, "x", 1, 0, (struct sockaddr *)&b, mkaddr(&b, "dead.sock")), ECONNREFUSED);
	int st = socket(AF_UNIX, SOCK_STREAM, 0);
	unlink("stream.sock");
	REQUIRE_VOID(bind(st, (struct sockaddr *)&b, mkaddr(&b, "stream.sock")) == 0);
	EXPECT_ERRNO("sendto_stream_name_eprototype", sendto(c, "x", 1, 0, (struct sockaddr *)&b, mkaddr(&b, "stream.sock")),
		     EPROTOTYPE);
	EXPECT_ERRNO("sendto_bad_addrlen_einval", sendto(c, "x", 1, 0, (struct sockaddr *)&a, 1), EINVAL);

	/* connect: send without an address, getpeername, a receiver connected elsewhere. */
	EXPECT_OK("connect_dgram", connect(c, (struct sockaddr *)&a, alen));
	CHECK("send_connected", send(c, "conn", 4, 0) == 4 && recv(srv, buf, sizeof(buf), 0) == 4, "send");
	flen = sizeof(from);
	CHECK("getpeername_dgram", getpeername(c, (struct sockaddr *)&from, &flen) == 0 && flen == alen &&
		      strcmp(from.sun_path, "server.sock") == 0, "addrlen %u", (unsigned)flen);
	EXPECT_OK("server_connects_to_client", connect(srv, (struct sockaddr *)&b, mkaddr(&b, "client.sock")));
	EXPECT_ERRNO("receiver_connected_elsewhere_eperm", send(c, "x", 1, 0), EPERM);
	struct sockaddr unspec = {.sa_family = AF_UNSPEC};
	EXPECT_OK("disconnect_af_unspec", connect(srv, &unspec, sizeof(unspec)));
	EXPECT_OK("accepted_again", send(c, "y", 1, 0));
	EXPECT_OK("client_disconnects", connect(c, &unspec, sizeof(unspec)));
	EXPECT_ERRNO("disconnected_enotconn", send(c, "x", 1, 0), ENOTCONN);
	EXPECT_ERRNO("recv_listen_eopnotsupp", listen(srv, 1), EOPNOTSUPP);
	EXPECT_ERRNO("accept_dgram_eopnotsupp", accept(srv, NULL, NULL), EOPNOTSUPP);
	(void)!recv(srv, buf, sizeof(buf), MSG_DONTWAIT);

	/* An unconnected receiver queues max_dgram_qlen + 1 (11) datagrams from others. */
	int sent = 0;
	while (sent < 100 && sendto(c, "q", 1, MSG_DONTWAIT, (struct sockaddr *)&a, alen) == 1)
		sent++;
	int e = errno;
	CHECK("receive_queue_limit", sent == 11 && e == EAGAIN, "%d sent, then %s", sent, errno_name(e));
	struct pollfd pfd = {.fd = srv, .events = POLLIN};
	CHECK("full_queue_readable", poll(&pfd, 1, 0) == 1 && pfd.revents == POLLIN, "revents %#x", pfd.revents);
	int got = 0;
	while (recv(srv, buf, sizeof(buf), MSG_DONTWAIT) == 1)
		got++;
	CHECK("queue_drained", got == 11, "%d received", got);
	/* A blocked sender resumes when the receiver reads. */
	for (int i = 0; i < 11; i++)
		(void)!sendto(c, "q", 1, 0, (struct sockaddr *)&a, alen);
	pid_t pid = fork();
	REQUIRE_VOID(pid >= 0);
	if (pid == 0) {
		usleep(100000);
		char x;
		_exit(recv(srv, &x, 1, 0) == 1 ? 0 : 1);
	}
	long long t0 = now_ms();
	ssize_t w = sendto(c, "w", 1, 0, (struct sockaddr *)&a, alen);
	int status = wait_status(pid);
	CHECK("blocked_sender_resumes", w == 1 && now_ms() - t0 >= 80 && exited_with(status, 0), "sendto %zd after %lld ms",
	      w, now_ms() - t0);
	close(srv);
	close(c);
	close(cb);
	close(st);
	unlink("server.sock");
	unlink("client.sock");
	unlink("dead.sock");
	unlink("stream.sock");
	unlink("plain");
}

static void pass_fd(void)
{
	int sv[2], p[2];
	REQUIRE_VOID(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0 && pipe(p) == 0);
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct iovec iov = {"msg", 3};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = CMSG_SPACE(2 * sizeof(int))};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(2 * sizeof(int));
	memcpy(CMSG_DATA(c), p, 2 * sizeof(int));
	CHECK("send_two_fds", sendmsg(sv[0], &m, 0) == 3, "sendmsg %s", errno_name(errno));
	close(p[0]);
	close(p[1]);
	char data[8];
	iov.iov_base = data;
	iov.iov_len = sizeof(data);
	/* Room for one descriptor only: the first arrives, MSG_CTRUNC, the second is closed. */
	memset(&u, 0, sizeof(u));
	m.msg_controllen = CMSG_LEN(sizeof(int));
	m.msg_flags = 0;
	ssize_t n = recvmsg(sv[1], &m, 0);
	c = CMSG_FIRSTHDR(&m);
	int fd = -1;
	if (c && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	CHECK("one_of_two_fds_ctrunc", n == 3 && fd >= 0 && (m.msg_flags & MSG_CTRUNC) &&
		      m.msg_controllen == CMSG_LEN(sizeof(int)), "n %zd fd %d flags %#x controllen %zu", n, fd,
	      m.msg_flags, (size_t)m.msg_controllen);
	/* The read end arrived; the write end was dropped, so the pipe reads EOF. */
	char x;
	CHECK("received_read_end_sees_eof", fd >= 0 && read(fd, &x, 1) == 0, "pipe not at EOF");
	close(fd);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	pair_boundaries();
	named();
	pass_fd();
	return test_done();
}
