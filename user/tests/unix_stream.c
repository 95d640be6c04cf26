/*
 * AF_UNIX stream and seqpacket sockets: socket(2)'s argument errors and
 * ENOTSOCK, the socket file (fstat, F_GETFL, SOCK_NONBLOCK/CLOEXEC), the
 * SOL_SOCKET options, file-system and abstract names and their errors,
 * autobind, listen/connect/accept with a backlog and between processes,
 * MSG_PEEK/MSG_DONTWAIT/MSG_WAITALL, shutdown and EOF, EPIPE and SIGPIPE,
 * a 1 MiB transfer between two processes, SCM_RIGHTS passing a pipe (and
 * MSG_CTRUNC), SCM_CREDENTIALS, poll and epoll readiness, and seqpacket
 * record boundaries.
 * Linux: net/socket.c, net/unix/af_unix.c, net/core/scm.c.
 */
#include "test.h"
#include <poll.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

static volatile sig_atomic_t sigpipes;
static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

/* Fills `a` with `path` and returns the length bind(2) wants. */
static socklen_t mkaddr(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	strncpy(a->sun_path, path, sizeof(a->sun_path) - 1);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
}

static int getopt_int(int fd, int name)
{
	int v = -12345;
	socklen_t len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, name, &v, &len) != 0 || len != sizeof(v))
		return -12345;
	return v;
}

static void socket_errors(void)
{
	EXPECT_ERRNO("bad_family_eafnosupport", socket(1000, SOCK_STREAM, 0), EAFNOSUPPORT);
	EXPECT_ERRNO("negative_family_eafnosupport", socket(-1, SOCK_STREAM, 0), EAFNOSUPPORT);
	EXPECT_ERRNO("type_past_max_einval", socket(AF_UNIX, 12, 0), EINVAL);
	EXPECT_ERRNO("unknown_type_flag_einval", socket(AF_UNIX, SOCK_STREAM | 0x100, 0), EINVAL);
	EXPECT_ERRNO("rdm_esocktnosupport", socket(AF_UNIX, SOCK_RDM, 0), ESOCKTNOSUPPORT);
	EXPECT_ERRNO("bad_protocol_eprotonosupport", socket(AF_UNIX, SOCK_STREAM, 7), EPROTONOSUPPORT);
	EXPECT_ERRNO("socketpair_bad_protocol", ({
			     int sv[2];
			     socketpair(AF_UNIX, SOCK_STREAM, 7, sv);
		     }),
		     EPROTONOSUPPORT);
	int p[2];
	REQUIRE_VOID(pipe(p) == 0);
	struct sockaddr_un a;
	EXPECT_ERRNO("bind_on_pipe_enotsock", bind(p[0], (struct sockaddr *)&a, mkaddr(&a, "x")), ENOTSOCK);
	EXPECT_ERRNO("getsockopt_on_pipe_enotsock", getopt_int(p[0], SO_TYPE) == -12345 ? -1 : 0, ENOTSOCK);
	EXPECT_ERRNO("send_on_pipe_enotsock", send(p[1], "x", 1, 0), ENOTSOCK);
	EXPECT_ERRNO("listen_bad_fd_ebadf", listen(999, 1), EBADF);
	close(p[0]);
	close(p[1]);
}

static void socket_file(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	REQUIRE_VOID(fd >= 0);
	struct stat st;
	CHECK("fstat_is_sock", fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode), "mode %#o", st.st_mode);
	int fl = fcntl(fd, F_GETFL);
	CHECK("getfl_rdwr_nonblock", fl == (O_RDWR | O_NONBLOCK), "F_GETFL %#x", fl);
	CHECK("cloexec", fcntl(fd, F_GETFD) == FD_CLOEXEC, "F_GETFD %d", fcntl(fd, F_GETFD));
	EXPECT_ERRNO("lseek_espipe", lseek(fd, 0, SEEK_SET), ESPIPE);
	char c;
	EXPECT_ERRNO("recv_unconnected_einval", recv(fd, &c, 1, 0), EINVAL);
	EXPECT_ERRNO("send_unconnected_enotconn", send(fd, "x", 1, MSG_NOSIGNAL), ENOTCONN);
	struct sockaddr_un a;
	socklen_t len = sizeof(a);
	EXPECT_ERRNO("getpeername_enotconn", getpeername(fd, (struct sockaddr *)&a, &len), ENOTCONN);
	len = sizeof(a);
	CHECK("getsockname_unbound", getsockname(fd, (struct sockaddr *)&a, &len) == 0 && len == sizeof(sa_family_t) &&
		      a.sun_family == AF_UNIX, "len %u", (unsigned)len);
	close(fd);
}

static void options(void)
{
	int sv[2];
	REQUIRE_VOID(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK("so_type", getopt_int(sv[0], SO_TYPE) == SOCK_STREAM, "%d", getopt_int(sv[0], SO_TYPE));
	CHECK("so_domain", getopt_int(sv[0], SO_DOMAIN) == AF_UNIX, "%d", getopt_int(sv[0], SO_DOMAIN));
	CHECK("so_protocol", getopt_int(sv[0], SO_PROTOCOL) == 0, "%d", getopt_int(sv[0], SO_PROTOCOL));
	CHECK("so_error", getopt_int(sv[0], SO_ERROR) == 0, "%d", getopt_int(sv[0], SO_ERROR));
	CHECK("so_acceptconn_0", getopt_int(sv[0], SO_ACCEPTCONN) == 0, "%d", getopt_int(sv[0], SO_ACCEPTCONN));
	int v = 10000;
	EXPECT_OK("set_sndbuf", setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)));
	CHECK("sndbuf_doubled", getopt_int(sv[0], SO_SNDBUF) == 20000, "%d", getopt_int(sv[0], SO_SNDBUF));
	EXPECT_OK("set_rcvbuf", setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)));
	CHECK("rcvbuf_doubled", getopt_int(sv[0], SO_RCVBUF) == 20000, "%d", getopt_int(sv[0], SO_RCVBUF));
	v = 1;
	EXPECT_OK("set_reuseaddr", setsockopt(sv[0], SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)));
	EXPECT_OK("set_passcred", setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &v, sizeof(v)));
	CHECK("get_passcred", getopt_int(sv[0], SO_PASSCRED) == 1, "%d", getopt_int(sv[0], SO_PASSCRED));
	EXPECT_ERRNO("short_optlen_einval", setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &v, 2), EINVAL);
	EXPECT_ERRNO("unknown_option_enoprotoopt", setsockopt(sv[0], SOL_SOCKET, 9999, &v, sizeof(v)), ENOPROTOOPT);
	socklen_t len = sizeof(v);
	EXPECT_ERRNO("get_unknown_enoprotoopt", getsockopt(sv[0], SOL_SOCKET, 9999, &v, &len), ENOPROTOOPT);
	struct ucred cr;
	len = sizeof(cr);
	CHECK("so_peercred", getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 && len == sizeof(cr) &&
		      cr.pid == getpid() && cr.uid == getuid() && cr.gid == getgid(),
	      "len %u pid %d uid %u", (unsigned)len, cr.pid, cr.uid);
	char small[2] = {0x55, 0x55};
	len = 2;
	CHECK("short_getsockopt_truncates", getsockopt(sv[0], SOL_SOCKET, SO_TYPE, small, &len) == 0 && len == 2,
	      "len %u", (unsigned)len);
	close(sv[0]);
	close(sv[1]);
}

static void pair_data(void)
{
	int sv[2];
	char buf[64];
	REQUIRE_VOID(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	EXPECT_ERRNO("dontwait_empty_eagain", recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	struct pollfd pfd = {.fd = sv[1], .events = POLLIN | POLLOUT};
	CHECK("poll_writable_not_readable", poll(&pfd, 1, 0) == 1 && pfd.revents == POLLOUT, "revents %#x", pfd.revents);
	CHECK("write", write(sv[0], "hello", 5) == 5, "write failed");
	CHECK("send", send(sv[0], "world", 5, 0) == 5, "send failed");
	pfd.revents = 0;
	CHECK("poll_readable", poll(&pfd, 1, 0) == 1 && pfd.revents == (POLLIN | POLLOUT), "revents %#x", pfd.revents);
	int avail = -1;
	CHECK("fionread_stream", ioctl(sv[1], FIONREAD, &avail) == 0 && avail == 10, "FIONREAD %d", avail);
	ssize_t n = recv(sv[1], buf, 3, MSG_PEEK);
	CHECK("peek", n == 3 && memcmp(buf, "hel", 3) == 0, "peek %zd", n);
	n = read(sv[1], buf, sizeof(buf));
	CHECK("stream_merges_writes", n == 10 && memcmp(buf, "helloworld", 10) == 0, "read %zd", n);
	struct iovec iov[2] = {{"ab", 2}, {"cde", 3}};
	CHECK("writev", writev(sv[1], iov, 2) == 5, "writev");
	char x[2], y[3];
	struct iovec riov[2] = {{x, 2}, {y, 3}};
	CHECK("readv", readv(sv[0], riov, 2) == 5 && memcmp(x, "ab", 2) == 0 && memcmp(y, "cde", 3) == 0, "readv");

	/* shutdown(SHUT_WR): the peer reads EOF, our writes fail with EPIPE + SIGPIPE. */
	EXPECT_ERRNO("shutdown_bad_how_einval", shutdown(sv[0], 7), EINVAL);
	CHECK("send_before_shutdown", send(sv[0], "last", 4, 0) == 4, "send");
	EXPECT_OK("shutdown_wr", shutdown(sv[0], SHUT_WR));
	pfd.fd = sv[1];
	pfd.events = POLLIN | POLLRDHUP;
	CHECK("poll_rdhup", poll(&pfd, 1, 0) == 1 && pfd.revents == (POLLIN | POLLRDHUP), "revents %#x", pfd.revents);
	n = read(sv[1], buf, sizeof(buf));
	CHECK("data_before_eof", n == 4 && memcmp(buf, "last", 4) == 0, "read %zd", n);
	CHECK("eof_after_shutdown", read(sv[1], buf, sizeof(buf)) == 0, "no EOF");
	sigpipes = 0;
	EXPECT_ERRNO("write_after_shut_wr_epipe", write(sv[0], "x", 1), EPIPE);
	CHECK("sigpipe_raised", sigpipes == 1, "%d SIGPIPEs", (int)sigpipes);
	EXPECT_ERRNO("nosignal_epipe", send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
	CHECK("nosignal_no_sigpipe", sigpipes == 1, "%d SIGPIPEs", (int)sigpipes);
	CHECK("other_direction_open", write(sv[1], "back", 4) == 4 && read(sv[0], buf, 4) == 4, "reverse");
	close(sv[0]);
	close(sv[1]);

	/* The peer's close: EOF, POLLHUP, then EPIPE. */
	REQUIRE_VOID(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	close(sv[1]);
	pfd.fd = sv[0];
	pfd.events = POLLIN | POLLRDHUP;
	CHECK("poll_after_peer_close", poll(&pfd, 1, 0) == 1 && pfd.revents == (POLLIN | POLLRDHUP | POLLHUP),
	      "revents %#x", pfd.revents);
	CHECK("eof_after_peer_close", read(sv[0], buf, sizeof(buf)) == 0, "no EOF");
	sigpipes = 0;
	EXPECT_ERRNO("write_after_peer_close_epipe", write(sv[0], "x", 1), EPIPE);
	CHECK("sigpipe_after_peer_close", sigpipes == 1, "%d SIGPIPEs", (int)sigpipes);
	close(sv[0]);
}

static void big_transfer(void)
{
	enum { SIZE = 1 << 20 };
	int sv[2];
	REQUIRE_VOID(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	pid_t pid = fork();
	REQUIRE_VOID(pid >= 0);
	if (pid == 0) {
		close(sv[1]);
		static unsigned char big[SIZE];
		for (size_t i = 0; i < SIZE; i++)
			big[i] = (unsigned char)(i * 13 + (i >> 10));
		size_t done = 0;
		while (done < SIZE) {
			ssize_t w = write(sv[0], big + done, SIZE - done);
			if (w <= 0)
				_exit(1);
			done += (size_t)w;
		}
		_exit(0);
	}
	close(sv[0]);
	static unsigned char chunk[65536];
	size_t got = 0;
	int intact = 1;
	ssize_t n;
	while ((n = read(sv[1], chunk, sizeof(chunk))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			size_t at = got + (size_t)i;
			intact &= chunk[i] == (unsigned char)(at * 13 + (at >> 10));
		}
		got += (size_t)n;
	}
	int status = wait_status(pid);
	CHECK("one_mib_between_processes", got == SIZE && intact && n == 0 && exited_with(status, 0),
	      "got %zu bytes, intact %d, last %zd, writer %s", got, intact, n, status_text(status));
	close(sv[1]);
}

static void waitall(void)
{
	int sv[2];
	REQUIRE_VOID(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	pid_t pid = fork();
	REQUIRE_VOID(pid >= 0);
	if (pid == 0) {
		for (int i = 0; i < 3; i++) {
			usleep(30000);
			(void)!write(sv[0], "abcd", 4);
		}
		_exit(0);
	}
	char buf[12];
	ssize_t n = recv(sv[1], buf, sizeof(buf), MSG_WAITALL);
	CHECK("waitall_collects_three_writes", n == 12 && memcmp(buf, "abcdabcdabcd", 12) == 0, "recv %zd", n);
	wait_status(pid);
	close(sv[0]);
	close(sv[1]);
}

static void named(void)
{
	struct sockaddr_un a, b;
	socklen_t alen = mkaddr(&a, "srv.sock");
	int srv = socket(AF_UNIX, SOCK_STREAM, 0);
	REQUIRE_VOID(srv >= 0);
	unlink("srv.sock");
	EXPECT_ERRNO("listen_unbound_einval", listen(srv, 5), EINVAL);
	EXPECT_ERRNO("bind_len_1_einval", bind(srv, (struct sockaddr *)&a, 1), EINVAL);
	EXPECT_ERRNO("bind_len_111_einval", bind(srv, (struct sockaddr *)&a, 111), EINVAL);
	a.sun_family = AF_INET;
	EXPECT_ERRNO("bind_wrong_family_einval", bind(srv, (struct sockaddr *)&a, alen), EINVAL);
	a.sun_family = AF_UNIX;
	EXPECT_OK("bind_path", bind(srv, (struct sockaddr *)&a, alen));
	struct stat st;
	CHECK("bind_made_socket_inode", stat("srv.sock", &st) == 0 && S_ISSOCK(st.st_mode), "mode %#o", st.st_mode);
	EXPECT_ERRNO("rebind_einval", bind(srv, (struct sockaddr *)&b, mkaddr(&b, "other.sock")), EINVAL);
	CHECK("rebind_made_no_file", access("other.sock", F_OK) != 0, "other.sock exists");
	int dup = socket(AF_UNIX, SOCK_STREAM, 0);
	EXPECT_ERRNO("bind_existing_eaddrinuse", bind(dup, (struct sockaddr *)&a, alen), EADDRINUSE);
	socklen_t len = sizeof(b);
	CHECK("getsockname_path", getsockname(srv, (struct sockaddr *)&b, &len) == 0 && len == alen &&
		      strcmp(b.sun_path, "srv.sock") == 0, "len %u (want %u)", (unsigned)len, (unsigned)alen);
	EXPECT_ERRNO("connect_not_listening_econnrefused", connect(dup, (struct sockaddr *)&a, alen), ECONNREFUSED);
	EXPECT_ERRNO("accept_not_listening_einval", accept(srv, NULL, NULL), EINVAL);
	EXPECT_OK("listen", listen(srv, 0));
	CHECK("so_acceptconn_1", getopt_int(srv, SO_ACCEPTCONN) == 1, "%d", getopt_int(srv, SO_ACCEPTCONN));
	EXPECT_ERRNO("accept4_bad_flags_einval", syscall(SYS_accept4, srv, NULL, NULL, 0x1), EINVAL);
	/* SOCK_NONBLOCK is for the new file: a non-blocking accept needs O_NONBLOCK on the listener. */
	fcntl(srv, F_SETFL, O_NONBLOCK);
	EXPECT_ERRNO("accept_nonblock_empty_eagain", accept(srv, NULL, NULL), EAGAIN);
	fcntl(srv, F_SETFL, 0);

	/* Backlog 0 queues one connection; connect returns before accept. */
	int c1 = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	EXPECT_OK("connect_queued", connect(c1, (struct sockaddr *)&a, alen));
	/* Linux checks the listener's backlog before the caller's own state. */
	EXPECT_ERRNO("connect_again_backlog_full_eagain", connect(c1, (struct sockaddr *)&a, alen), EAGAIN);
	CHECK("send_before_accept", send(c1, "early", 5, 0) == 5, "send");
	int c2 = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	EXPECT_ERRNO("backlog_full_eagain", connect(c2, (struct sockaddr *)&a, alen), EAGAIN);
	struct pollfd pfd = {.fd = srv, .events = POLLIN};
	CHECK("listener_pollin", poll(&pfd, 1, 0) == 1 && pfd.revents == POLLIN, "revents %#x", pfd.revents);
	len = sizeof(b);
	memset(&b, 0x55, sizeof(b));
	int s1 = accept4(srv, (struct sockaddr *)&b, &len, SOCK_CLOEXEC);
	CHECK("accept_peer_unnamed", s1 >= 0 && len == sizeof(sa_family_t) && b.sun_family == AF_UNIX, "fd %d len %u",
	      s1, (unsigned)len);
	CHECK("accept4_cloexec", fcntl(s1, F_GETFD) == FD_CLOEXEC && !(fcntl(s1, F_GETFL) & O_NONBLOCK), "flags");
	EXPECT_ERRNO("connect_again_eisconn", connect(c1, (struct sockaddr *)&a, alen), EISCONN);
	EXPECT_ERRNO("stream_sendto_address_eisconn", sendto(c1, "x", 1, 0, (struct sockaddr *)&a, alen), EISCONN);
	char buf[16];
	CHECK("data_sent_before_accept", read(s1, buf, sizeof(buf)) == 5 && memcmp(buf, "early", 5) == 0, "read");
	len = sizeof(b);
	CHECK("accepted_getsockname_is_listener", getsockname(s1, (struct sockaddr *)&b, &len) == 0 && len == alen &&
		      strcmp(b.sun_path, "srv.sock") == 0, "len %u", (unsigned)len);
	len = sizeof(b);
	CHECK("client_getpeername", getpeername(c1, (struct sockaddr *)&b, &len) == 0 && len == alen &&
		      strcmp(b.sun_path, "srv.sock") == 0, "len %u", (unsigned)len);
	struct ucred cr;
	len = sizeof(cr);
	CHECK("accepted_peercred", getsockopt(s1, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 && cr.pid == getpid(),
	      "pid %d", cr.pid);

	/* A blocking connect waits for room in the backlog, a blocking accept for a connection. */
	close(c2);
	int c3 = socket(AF_UNIX, SOCK_STREAM, 0);
	REQUIRE_VOID(connect(c3, (struct sockaddr *)&a, alen) == 0);
	pid_t pid = fork();
	REQUIRE_VOID(pid >= 0);
	if (pid == 0) {
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(c, (struct sockaddr *)&a, alen) != 0)
			_exit(2);
		_exit(write(c, "child", 5) == 5 ? 0 : 3);
	}
	usleep(100000);
	int s3 = accept(srv, NULL, NULL);
	int s4 = accept(srv, NULL, NULL);
	ssize_t n = s4 >= 0 ? read(s4, buf, sizeof(buf)) : -1;
	int status = wait_status(pid);
	CHECK("blocking_connect_waits_for_backlog", s3 >= 0 && n == 5 && memcmp(buf, "child", 5) == 0 &&
		      exited_with(status, 0), "s3 %d s4 %d read %zd child %s", s3, s4, n, status_text(status));
	pid = fork();
	REQUIRE_VOID(pid >= 0);
	if (pid == 0) {
		usleep(100000);
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		_exit(connect(c, (struct sockaddr *)&a, alen) == 0 && write(c, "late", 4) == 4 ? 0 : 1);
	}
	long long t0 = now_ms();
	int s5 = accept(srv, NULL, NULL);
	n = s5 >= 0 ? read(s5, buf, sizeof(buf)) : -1;
	status = wait_status(pid);
	CHECK("blocking_accept_waits", s5 >= 0 && n == 4 && now_ms() - t0 >= 80 && exited_with(status, 0),
	      "fd %d read %zd child %s", s5, n, status_text(status));

	/* Names that are not (listening) sockets. */
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	int reg = open("plain", O_CREAT | O_WRONLY, 0600);
	close(reg);
	EXPECT_ERRNO("connect_regular_file_econnrefused", connect(c, (struct sockaddr *)&b, mkaddr(&b, "plain")),
		     ECONNREFUSED);
	EXPECT_ERRNO("connect_missing_enoent", connect(c, (struct sockaddr *)&b, mkaddr(&b, "missing")), ENOENT);
	EXPECT_ERRNO("open_socket_enxio", open("srv.sock", O_RDWR), ENXIO);
	int dg = socket(AF_UNIX, SOCK_DGRAM, 0);
	unlink("dg.sock");
	REQUIRE_VOID(bind(dg, (struct sockaddr *)&b, mkaddr(&b, "dg.sock")) == 0);
	EXPECT_ERRNO("connect_dgram_name_eprototype", connect(c, (struct sockaddr *)&b, mkaddr(&b, "dg.sock")),
		     EPROTOTYPE);
	EXPECT_OK("unlink_socket", unlink("srv.sock"));
	EXPECT_ERRNO("connect_after_unlink_enoent", connect(c, (struct sockaddr *)&a, alen), ENOENT);
	/* Closing the listener resets a queued connection that was never accepted. */
	int c4 = socket(AF_UNIX, SOCK_STREAM, 0);
	REQUIRE_VOID(bind(dup, (struct sockaddr *)&a, alen) == 0 && listen(dup, 4) == 0);
	REQUIRE_VOID(connect(c4, (struct sockaddr *)&a, alen) == 0);
	close(dup);
	EXPECT_ERRNO("listener_closed_econnreset", read(c4, buf, sizeof(buf)), ECONNRESET);
	CHECK("then_eof", read(c4, buf, sizeof(buf)) == 0, "no EOF");
	unlink("srv.sock");
	unlink("dg.sock");
	unlink("plain");
	int fds[] = {srv, c1, s1, c3, s3, s4, s5, c, dg, c4};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		close(fds[i]);
}

static void abstract_names(void)
{
	struct sockaddr_un a, b;
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	memcpy(a.sun_path, "\0ferrite-abs", 12);
	socklen_t alen = offsetof(struct sockaddr_un, sun_path) + 12;
	int srv = socket(AF_UNIX, SOCK_STREAM, 0), other = socket(AF_UNIX, SOCK_STREAM, 0);
	EXPECT_OK("bind_abstract", bind(srv, (struct sockaddr *)&a, alen));
	EXPECT_ERRNO("abstract_eaddrinuse", bind(other, (struct sockaddr *)&a, alen), EADDRINUSE);
	socklen_t len = sizeof(b);
	CHECK("abstract_getsockname", getsockname(srv, (struct sockaddr *)&b, &len) == 0 && len == alen &&
		      memcmp(b.sun_path, "\0ferrite-abs", 12) == 0, "len %u", (unsigned)len);
	REQUIRE_VOID(listen(srv, 1) == 0);
	EXPECT_OK("connect_abstract", connect(other, (struct sockaddr *)&a, alen));
	int s = accept(srv, NULL, NULL);
	CHECK("abstract_accepted", s >= 0 && write(other, "z", 1) == 1 && read(s, b.sun_path, 1) == 1, "accept %d", s);
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	memcpy(a.sun_path, "\0ferrite-nobody", 15);
	EXPECT_ERRNO("connect_abstract_unbound_econnrefused",
		     connect(c, (struct sockaddr *)&a, offsetof(struct sockaddr_un, sun_path) + 15), ECONNREFUSED);
	/* Autobind: an empty address picks NUL + five hex digits. */
	EXPECT_OK("autobind", bind(c, (struct sockaddr *)&a, sizeof(sa_family_t)));
	len = sizeof(b);
	int hex = 1;
	CHECK("autobind_name", getsockname(c, (struct sockaddr *)&b, &len) == 0 && len == 8 && b.sun_path[0] == 0,
	      "len %u", (unsigned)len);
	for (int i = 1; i < 6; i++)
		hex &= (b.sun_path[i] >= '0' && b.sun_path[i] <= '9') || (b.sun_path[i] >= 'a' && b.sun_path[i] <= 'f');
	CHECK("autobind_hex_digits", hex, "%.5s", b.sun_path + 1);
	close(srv);
	close(other);
	close(s);
	/* The name is free again once its socket is closed. */
	srv = socket(AF_UNIX, SOCK_STREAM, 0);
	memcpy(a.sun_path, "\0ferrite-abs", 12);
	EXPECT_OK("abstract_reusable_after_close", bind(srv, (struct sockaddr *)&a, alen));
	close(srv);
	close(c);
}

/* Sends `data` with descriptor `fd` (or none if fd < 0) in SCM_RIGHTS. */
static ssize_t send_fd(int sock, int fd, const char *data)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {(void *)data, strlen(data)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	if (fd >= 0) {
		memset(&u, 0, sizeof(u));
		m.msg_control = u.buf;
		m.msg_controllen = sizeof(u.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	return sendmsg(sock, &m, 0);
}

static void pass_fds(void)
{
	int sv[2], p[2];
	REQUIRE_VOID(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 && pipe(p) == 0);
	CHECK("sendmsg_rights", send_fd(sv[0], p[0], "fd") == 2, "sendmsg %s", errno_name(errno));
	close(p[0]);
	char data[8];
	union {
		char buf[CMSG_SPACE(sizeof(int)) + 16];
		struct cmsghdr align;
	} u;
	struct iovec iov = {data, sizeof(data)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
	ssize_t n = recvmsg(sv[1], &m, MSG_CMSG_CLOEXEC);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	int got = -1;
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&got, CMSG_DATA(c), sizeof(int));
	CHECK("recvmsg_rights", n == 2 && got >= 0 && m.msg_controllen == CMSG_SPACE(sizeof(int)) &&
		      !(m.msg_flags & MSG_CTRUNC), "n %zd fd %d controllen %zu flags %#x", n, got,
	      (size_t)m.msg_controllen, m.msg_flags);
	CHECK("received_fd_cloexec", fcntl(got, F_GETFD) == FD_CLOEXEC, "F_GETFD %d", fcntl(got, F_GETFD));
	CHECK("received_pipe_works", write(p[1], "via", 3) == 3 && read(got, data, 3) == 3 && memcmp(data, "via", 3) == 0,
	      "pipe through passed fd");
	close(got);
	/* A control buffer with room for the header only: MSG_CTRUNC, no descriptor. */
	REQUIRE_VOID(pipe(p) == 0);
	REQUIRE_VOID(send_fd(sv[0], p[0], "t") == 1);
	int before = dup(0);
	close(before);
	m.msg_controllen = sizeof(struct cmsghdr);
	m.msg_flags = 0;
	n = recvmsg(sv[1], &m, 0);
	int after = dup(0);
	close(after);
	CHECK("ctrunc", n == 1 && (m.msg_flags & MSG_CTRUNC) && m.msg_controllen == 0 && after == before,
	      "n %zd flags %#x controllen %zu fd %d/%d", n, m.msg_flags, (size_t)m.msg_controllen, before, after);
	/* The pipe's read end was closed with the message: the writer sees EPIPE. */
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	EXPECT_ERRNO("dropped_fd_closed", write(p[1], "x", 1), EPIPE);
	signal(SIGPIPE, on_sigpipe);
	close(p[1]);
	EXPECT_ERRNO("rights_bad_fd_ebadf", send_fd(sv[0], 999, "b"), EBADF);
	/* SCM_CREDENTIALS with SO_PASSCRED. */
	int on = 1;
	REQUIRE_VOID(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) == 0);
	REQUIRE_VOID(write(sv[0], "c", 1) == 1);
	m.msg_controllen = sizeof(u.buf);
	n = recvmsg(sv[1], &m, 0);
	c = CMSG_FIRSTHDR(&m);
	struct ucred cr = {0};
	if (c && c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len == CMSG_LEN(sizeof(cr)))
		memcpy(&cr, CMSG_DATA(c), sizeof(cr));
	CHECK("scm_credentials", n == 1 && cr.pid == getpid() && cr.uid == getuid() && cr.gid == getgid(),
	      "n %zd pid %d uid %u", n, cr.pid, cr.uid);
	close(sv[0]);
	close(sv[1]);
	close(p[1]);
}

static void epoll_ready(void)
{
	int sv[2];
	REQUIRE_VOID(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u32 = 7}, out;
	REQUIRE_VOID(epoll_ctl(ep, EPOLL_CTL_ADD, sv[1], &ev) == 0);
	CHECK("epoll_idle", epoll_wait(ep, &out, 1, 0) == 0, "ready while empty");
	pid_t pid = poke_later(50, sv[0]);
	int n = epoll_wait(ep, &out, 1, 5000);
	CHECK("epoll_wakes_on_data", n == 1 && out.events == EPOLLIN && out.data.u32 == 7, "n %d events %#x", n,
	      out.events);
	wait_status(pid);
	char c;
	(void)!read(sv[1], &c, 1);
	close(sv[0]);
	n = epoll_wait(ep, &out, 1, 1000);
	CHECK("epoll_hup_on_close", n == 1 && out.events == (EPOLLIN | EPOLLRDHUP | EPOLLHUP), "n %d events %#x", n,
	      out.events);
	close(ep);
	close(sv[1]);
}

static void seqpacket(void)
{
	int sv[2];
	char buf[16];
	REQUIRE_VOID(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	CHECK("seqpacket_type", getopt_int(sv[0], SO_TYPE) == SOCK_SEQPACKET, "%d", getopt_int(sv[0], SO_TYPE));
	REQUIRE_VOID(send(sv[0], "abc", 3, 0) == 3 && send(sv[0], "defg", 4, 0) == 4);
	ssize_t n1 = recv(sv[1], buf, sizeof(buf), 0);
	ssize_t n2 = recv(sv[1], buf + 3, sizeof(buf), 0);
	CHECK("seqpacket_boundaries", n1 == 3 && n2 == 4 && memcmp(buf, "abcdefg", 7) == 0, "%zd %zd", n1, n2);
	REQUIRE_VOID(send(sv[0], "123456", 6, 0) == 6);
	struct iovec iov = {buf, 2};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n = recvmsg(sv[1], &m, 0);
	CHECK("seqpacket_trunc", n == 2 && (m.msg_flags & MSG_TRUNC), "n %zd flags %#x", n, m.msg_flags);
	EXPECT_ERRNO("seqpacket_rest_discarded", recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	close(sv[0]);
	CHECK("seqpacket_eof", recv(sv[1], buf, sizeof(buf), 0) == 0, "no EOF");
	EXPECT_ERRNO("seqpacket_send_after_close_epipe", send(sv[1], "x", 1, MSG_NOSIGNAL), EPIPE);
	close(sv[1]);
	/* Over a named listener too. */
	struct sockaddr_un a;
	socklen_t alen = mkaddr(&a, "seq.sock");
	unlink("seq.sock");
	int srv = socket(AF_UNIX, SOCK_SEQPACKET, 0), c = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	REQUIRE_VOID(bind(srv, (struct sockaddr *)&a, alen) == 0 && listen(srv, 2) == 0);
	REQUIRE_VOID(connect(c, (struct sockaddr *)&a, alen) == 0);
	int s = accept(srv, NULL, NULL);
	REQUIRE_VOID(s >= 0 && send(c, "one", 3, 0) == 3 && send(c, "two", 3, 0) == 3);
	n1 = recv(s, buf, sizeof(buf), 0);
	CHECK("seqpacket_accepted_record", n1 == 3 && memcmp(buf, "one", 3) == 0, "recv %zd", n1);
	close(s);
	close(c);
	close(srv);
	unlink("seq.sock");
}

int main(void)
{
	signal(SIGPIPE, on_sigpipe);
	REQUIRE(enter_scratch_dir() == 0);
	socket_errors();
	socket_file();
	options();
	pair_data();
	big_transfer();
	waitall();
	named();
	abstract_names();
	pass_fds();
	epoll_ready();
	seqpacket();
	return test_done();
}
