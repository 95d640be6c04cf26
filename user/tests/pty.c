/*
 * pty: Unix98 pseudo-terminals. posix_openpt/grantpt/unlockpt/ptsname on
 * /dev/ptmx; the slave /dev/pts/N with the opener's uid, gid 5 and mode
 * 620 (devpts mounted gid=5,mode=620, as Debian does), gone when the
 * master closes, its number reused; data both ways through N_TTY (echo,
 * ICRNL, canonical lines, OPOST on the slave's output, none on the
 * master's), flow control with a bounded buffer, O_NONBLOCK, poll and
 * epoll; the slave as a controlling terminal (opened by a session leader,
 * or TIOCSCTTY): ^C and ^Z from the master signal its foreground group,
 * TIOCSWINSZ sends SIGWINCH, the master's close hangs it up (SIGHUP,
 * read 0, write EIO); the slave's
 * close makes the master's reads fail with EIO once drained; TIOCGPTPEER;
 * packet mode (TIOCPKT); /proc/PID/stat's tty_nr and tpgid; separate
 * devpts instances and their options. Linux: drivers/tty/pty.c,
 * fs/devpts/inode.c, drivers/tty/tty_io.c, drivers/tty/n_tty.c.
 *
 * The system-test initramfs has a static /dev: the test makes /dev/ptmx
 * and mounts devpts on /dev/pts (and proc on /proc, for ttyname) when
 * they are missing.
 */
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <termios.h>

#include "test.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER 0x5441
#endif
#define DEVPTS_SUPER_MAGIC 0x1cd1

/* Reads from fd for up to `ms` until `want` bytes came; the count. */
static size_t read_for(int fd, char *buf, size_t want, int ms)
{
	size_t got = 0;
	long long end = now_ms() + ms;
	while (got < want) {
		long long left = end - now_ms();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		ssize_t n = read(fd, buf + got, want - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < want)
		buf[got] = 0;
	return got;
}

/* Whether fd shows any of `events` within `ms`. */
static int ready(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	return poll(&p, 1, ms) == 1 && (p.revents & events);
}

/* Opens a master and its unlocked slave; the slave's name in `name`. */
static int open_pair(int *master, int *slave, char *name, size_t len)
{
	*master = posix_openpt(O_RDWR | O_NOCTTY);
	if (*master < 0)
		return -1;
	if (grantpt(*master) != 0 || unlockpt(*master) != 0 || ptsname_r(*master, name, len) != 0)
		return -1;
	*slave = open(name, O_RDWR | O_NOCTTY);
	return *slave < 0 ? -1 : 0;
}

static int set_raw(int fd)
{
	struct termios t;
	if (tcgetattr(fd, &t) != 0)
		return -1;
	cfmakeraw(&t);
	return tcsetattr(fd, TCSANOW, &t);
}

/* /dev/ptmx, devpts on /dev/pts and /proc, where the boot left them out. */
static int setup(void)
{
	mkdir("/dev/pts", 0755);
	if (access("/dev/pts/ptmx", F_OK) != 0 &&
	    mount("devpts", "/dev/pts", "devpts", 0, "gid=5,mode=620,ptmxmode=000") != 0)
		return -1;
	if (access("/dev/ptmx", F_OK) != 0 && (mknod("/dev/ptmx", S_IFCHR, makedev(5, 2)) != 0 ||
						 chmod("/dev/ptmx", 0666) != 0))
		return -1;
	if (access("/proc/self/fd", F_OK) != 0) {
		mkdir("/proc", 0555);
		if (mount("proc", "/proc", "proc", 0, NULL) != 0)
			return -1;
	}
	return 0;
}

static void check_open_and_node(void)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	CHECK("posix_openpt", master >= 0, "open /dev/ptmx: %s", errno_name(errno));
	if (master < 0)
		return;
	unsigned n = 99999;
	EXPECT_OK("tiocgptn", ioctl(master, TIOCGPTN, &n));
	char name[64] = "", want[64];
	snprintf(want, sizeof(want), "/dev/pts/%u", n);
	CHECK("ptsname", ptsname_r(master, name, sizeof(name)) == 0 && strcmp(name, want) == 0,
	      "name %s, index %u", name, n);
	EXPECT_ERRNO("slave_locked", open(name, O_RDWR | O_NOCTTY), EIO);
	int locked = -1;
	CHECK("tiocgptlck", ioctl(master, TIOCGPTLCK, &locked) == 0 && locked == 1, "locked %d", locked);
	EXPECT_OK("grantpt", grantpt(master));
	EXPECT_OK("unlockpt", unlockpt(master));
	CHECK("unlocked", ioctl(master, TIOCGPTLCK, &locked) == 0 && locked == 0, "locked %d", locked);
	struct stat st;
	CHECK("slave_node", stat(name, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 136 &&
	      minor(st.st_rdev) == n && (st.st_mode & 07777) == 0620 && st.st_uid == getuid() &&
	      st.st_gid == 5, "mode %o rdev %u:%u uid %u gid %u", st.st_mode, major(st.st_rdev),
	      minor(st.st_rdev), st.st_uid, st.st_gid);
	CHECK("ptmx_node", stat("/dev/pts/ptmx", &st) == 0 && S_ISCHR(st.st_mode) &&
	      st.st_rdev == makedev(5, 2), "rdev %#lx", (unsigned long)st.st_rdev);
	int slave = open(name, O_RDWR | O_NOCTTY);
	CHECK("open_slave", slave >= 0, "open %s: %s", name, errno_name(errno));
	char tn[64] = "";
	CHECK("ttyname", slave >= 0 && ttyname_r(slave, tn, sizeof(tn)) == 0 && strcmp(tn, name) == 0,
	      "ttyname %s: %s", tn, errno_name(errno));
	CHECK("isatty_master", isatty(master), "the master is no tty: %s", errno_name(errno));
	EXPECT_ERRNO("tiocgptn_on_slave", ioctl(slave, TIOCGPTN, &n), ENOTTY);
	close(master);
	CHECK("node_gone_at_master_close", stat(name, &st) != 0 && errno == ENOENT,
	      "%s still there", name);
	close(slave);
	int again = posix_openpt(O_RDWR | O_NOCTTY);
	unsigned m = 99999;
	CHECK("index_reused", again >= 0 && ioctl(again, TIOCGPTN, &m) == 0 && m == n, "got %u, had %u", m, n);
	close(again);
}

static void check_data(void)
{
	int master, slave;
	char name[64], buf[256] = "";
	REQUIRE_VOID(open_pair(&master, &slave, name, sizeof(name)) == 0);
	REQUIRE_VOID(write(master, "hello\r", 6) == 6);
	size_t n = read_for(slave, buf, sizeof(buf), 2000);
	CHECK("master_to_slave_icrnl", n == 6 && memcmp(buf, "hello\n", 6) == 0, "read %zu \"%s\"", n, buf);
	n = read_for(master, buf, 7, 2000);
	CHECK("echo_to_master", n == 7 && memcmp(buf, "hello\r\n", 7) == 0, "echo %zu \"%s\"", n, buf);

	REQUIRE_VOID(write(master, "ab\177c", 4) == 4);
	CHECK("canonical_waits_for_newline", !ready(slave, POLLIN, 200), "slave readable before newline");
	REQUIRE_VOID(write(master, "\n", 1) == 1);
	n = read_for(slave, buf, sizeof(buf), 2000);
	CHECK("canonical_erase", n == 3 && memcmp(buf, "ac\n", 3) == 0, "read %zu \"%s\"", n, buf);
	read_for(master, buf, sizeof(buf), 200);

	REQUIRE_VOID(write(slave, "out\n\r", 5) == 5);
	n = read_for(master, buf, 6, 2000);
	CHECK("slave_to_master_opost", n == 6 && memcmp(buf, "out\r\n\r", 6) == 0, "read %zu", n);

	int peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	CHECK("tiocgptpeer", peer >= 0 && write(peer, "p\n", 2) == 2 && read_for(master, buf, 3, 2000) == 3 &&
	      memcmp(buf, "p\r\n", 3) == 0, "peer %d: %s", peer, errno_name(errno));
	struct stat a, b;
	CHECK("tiocgptpeer_is_slave", peer >= 0 && fstat(peer, &a) == 0 && fstat(slave, &b) == 0 &&
	      a.st_rdev == b.st_rdev, "different devices");
	close(peer);
	EXPECT_ERRNO("tiocgptpeer_on_slave", ioctl(slave, TIOCGPTPEER, O_RDWR), EIO);

	fcntl(master, F_SETFL, O_NONBLOCK);
	fcntl(slave, F_SETFL, O_NONBLOCK);
	EXPECT_ERRNO("master_eagain", read(master, buf, sizeof(buf)), EAGAIN);
	EXPECT_ERRNO("slave_eagain", read(slave, buf, sizeof(buf)), EAGAIN);
	struct pollfd p = { .fd = master, .events = POLLIN | POLLOUT };
	CHECK("poll_master_writable", poll(&p, 1, 0) == 1 && p.revents == POLLOUT, "revents %#x", p.revents);
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN }, got;
	REQUIRE_VOID(ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, master, &ev) == 0);
	REQUIRE_VOID(write(slave, "x\n", 2) == 2);
	CHECK("poll_master_readable", ready(master, POLLIN, 2000), "no POLLIN");
	CHECK("epoll_master_readable", epoll_wait(ep, &got, 1, 2000) == 1 && (got.events & EPOLLIN),
	      "no EPOLLIN");
	close(ep);
	close(slave);
	n = read_for(master, buf, 3, 2000);
	CHECK("drained_after_slave_close", n == 3 && memcmp(buf, "x\r\n", 3) == 0, "read %zu", n);
	p.revents = 0;
	CHECK("pollhup_after_slave_close", poll(&p, 1, 1000) == 1 && (p.revents & POLLHUP), "revents %#x",
	      p.revents);
	EXPECT_ERRNO("eio_after_slave_close", read(master, buf, sizeof(buf)), EIO);
	close(master);
}

/* Fills the slave's input without a reader: the writer must stop, and every byte accepted arrives. */
static void check_flow_control(void)
{
	int master, slave;
	char name[64];
	static char out[1 << 16], in[1 << 16];
	REQUIRE_VOID(open_pair(&master, &slave, name, sizeof(name)) == 0 && set_raw(slave) == 0);
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)('a' + i % 26);
	fcntl(master, F_SETFL, O_NONBLOCK);
	size_t total = 0;
	ssize_t w = 0;
	while (total < sizeof(out) && (w = write(master, out + total, 512)) > 0)
		total += (size_t)w;
	CHECK("nonblocking_writer_stops", w < 0 && errno == EAGAIN && total >= 1024 && total < sizeof(out),
	      "wrote %zu, last %zd (%s)", total, w, errno_name(errno));
	size_t got = read_for(slave, in, total + 1, 3000);
	CHECK("accepted_bytes_arrive", got == total && memcmp(in, out, total) == 0, "read %zu of %zu", got, total);
	CHECK("writable_after_drain", ready(master, POLLOUT, 2000), "no POLLOUT");

	fcntl(master, F_SETFL, 0);
	pid_t writer = fork();
	if (writer == 0)
		_exit(write(master, out, 40000) == 40000 ? 0 : 1);
	got = read_for(slave, in, 40000, 10000);
	CHECK("blocking_writer_woken", got == 40000 && memcmp(in, out, 40000) == 0 &&
	      exited_with(wait_status(writer), 0), "read %zu of 40000", got);
	close(slave);
	close(master);
}

/* TIOCPKT: the master reads a TIOCPKT_DATA byte before data, and flushes of the slave as status bytes. */
static void check_packet(void)
{
	int master, slave, on = 1, got = -1;
	char name[64];
	unsigned char buf[64] = { 0xff };
	REQUIRE_VOID(open_pair(&master, &slave, name, sizeof(name)) == 0 && set_raw(slave) == 0);
	EXPECT_OK("tiocpkt", ioctl(master, TIOCPKT, &on));
	CHECK("tiocgpkt", ioctl(master, TIOCGPKT, &got) == 0 && got == 1, "got %d", got);
	REQUIRE_VOID(write(slave, "a", 1) == 1);
	ssize_t n = ready(master, POLLIN, 2000) ? read(master, buf, sizeof(buf)) : -1;
	CHECK("packet_data", n == 2 && buf[0] == TIOCPKT_DATA && buf[1] == 'a', "read %zd: %d %d", n, buf[0],
	      buf[1]);
	tcflush(slave, TCIFLUSH);
	n = ready(master, POLLPRI, 2000) ? read(master, buf, sizeof(buf)) : -1;
	CHECK("packet_flushread", n == 1 && buf[0] == TIOCPKT_FLUSHREAD, "read %zd: %d", n, buf[0]);
	tcflush(slave, TCOFLUSH);
	n = ready(master, POLLPRI, 2000) ? read(master, buf, sizeof(buf)) : -1;
	CHECK("packet_flushwrite", n == 1 && buf[0] == TIOCPKT_FLUSHWRITE, "read %zd: %d", n, buf[0]);
	on = 0;
	REQUIRE_VOID(ioctl(master, TIOCPKT, &on) == 0 && write(slave, "b", 1) == 1);
	n = ready(master, POLLIN, 2000) ? read(master, buf, sizeof(buf)) : -1;
	CHECK("packet_off", n == 1 && buf[0] == 'b', "read %zd: %d", n, buf[0]);
	close(slave);
	close(master);
}

static volatile sig_atomic_t got_sig;
static void on_sig(int sig)
{
	got_sig = sig;
}

/*
 * Forks a child that starts a session, opens `name` as its controlling
 * terminal, catches `sig`, and reports readiness on a pipe; it exits with
 * 0 if `sig` came within 3 s and `after` (if any) approves, else 1.
 */
static pid_t ctty_child(const char *name, int master, int sig, int (*after)(int fd))
{
	int pipefd[2];
	if (pipe(pipefd) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(master);
		close(pipefd[0]);
		struct sigaction sa = { .sa_handler = on_sig };
		sigaction(sig, &sa, NULL);
		if (setsid() < 0)
			_exit(2);
		/* Two ways to get a controlling terminal: the first open without
		 * O_NOCTTY by a session leader, or TIOCSCTTY (the ^Z case). */
		int fd = sig == SIGTSTP ? open(name, O_RDWR | O_NOCTTY) : open(name, O_RDWR);
		if (fd >= 0 && sig == SIGTSTP && ioctl(fd, TIOCSCTTY, 0) != 0)
			_exit(4);
		if (fd < 0 || tcgetpgrp(fd) != getpid())
			_exit(3);
		(void)!write(pipefd[1], "r", 1);
		for (int i = 0; i < 300 && got_sig != sig; i++)
			usleep(10000);
		_exit(got_sig == sig && (!after || after(fd)) ? 0 : 1);
	}
	close(pipefd[1]);
	char c;
	ssize_t n = read(pipefd[0], &c, 1);
	close(pipefd[0]);
	return n == 1 ? pid : -1;
}

static int winsize_is_40x100(int fd)
{
	struct winsize ws;
	return ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row == 40 && ws.ws_col == 100;
}

/* /proc/self/stat names the controlling tty (tty_nr) and its foreground group (tpgid). */
static int stat_tty_ok(int fd)
{
	struct stat st;
	char buf[512], state;
	int ppid, pgrp, sid, tty_nr, tpgid;
	if (fstat(fd, &st) != 0 || slurp("/proc/self/stat", buf, sizeof(buf)) <= 0)
		return 0;
	char *p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%c %d %d %d %d %d", &state, &ppid, &pgrp, &sid, &tty_nr, &tpgid) != 6)
		return 0;
	return (unsigned)tty_nr == (unsigned)st.st_rdev && tpgid == getpid();
}

static int hung_up(int fd)
{
	char c;
	errno = 0;
	return read(fd, &c, 1) == 0 && write(fd, "x", 1) == -1 && errno == EIO;
}

/* Runs one job-control case on a fresh pair: `poke` acts on the master. */
static void job_case(const char *check, int sig, int (*after)(int), int close_master, const char *poke,
		     int poke_len)
{
	int master, slave;
	char name[64];
	REQUIRE_VOID(open_pair(&master, &slave, name, sizeof(name)) == 0);
	close(slave);
	pid_t pid = ctty_child(name, master, sig, after);
	if (pid < 0) {
		fail(check, "the child could not take %s as its terminal", name);
		close(master);
		return;
	}
	if (sig == SIGINT && !after)
		CHECK("tcgetpgrp_via_master", tcgetpgrp(master) == pid, "pgrp %d, child %d", tcgetpgrp(master), pid);
	if (poke) {
		REQUIRE_VOID(write(master, poke, (size_t)poke_len) == poke_len);
	} else if (sig == SIGWINCH) {
		struct winsize ws = { .ws_row = 40, .ws_col = 100 };
		REQUIRE_VOID(ioctl(master, TIOCSWINSZ, &ws) == 0);
	}
	if (close_master)
		close(master);
	int status = wait_status(pid);
	CHECK(check, exited_with(status, 0), "child: %s", status_text(status));
	if (sig == SIGWINCH)
		CHECK("winsize_via_master", winsize_is_40x100(master), "TIOCGWINSZ on the master differs");
	if (!close_master)
		close(master);
}

static int make_user_pty(void)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	char name[64];
	struct stat st;
	if (master < 0 || ptsname_r(master, name, sizeof(name)) != 0 || stat(name, &st) != 0)
		return 1;
	return st.st_uid == 1000 && st.st_gid == 5 ? 0 : 2;
}

static void check_instances(void)
{
	char buf[4096];
	CHECK("proc_filesystems", slurp("/proc/filesystems", buf, sizeof(buf)) > 0 &&
	      strstr(buf, "nodev\tdevpts\n"), "no devpts line");
	CHECK("statfs_magic", fs_magic("/dev/pts") == DEVPTS_SUPER_MAGIC, "f_type %#lx", fs_magic("/dev/pts"));
	int one = posix_openpt(O_RDWR | O_NOCTTY);
	char nr[32] = "", max[32] = "";
	CHECK("proc_sys_pty", one >= 0 && slurp("/proc/sys/kernel/pty/nr", nr, sizeof(nr)) > 0 && atoi(nr) >= 1 &&
	      slurp("/proc/sys/kernel/pty/max", max, sizeof(max)) > 0 && strcmp(max, "4096\n") == 0,
	      "nr %s max %s", nr, max);
	close(one);
	int code = run_as_user(make_user_pty);
	CHECK("slave_owned_by_opener", code == 0, "child: %d", code);

	REQUIRE_VOID(enter_scratch_dir() == 0);
	mkdir("pts2", 0755);
	EXPECT_ERRNO("bogus_option", mount("devpts", "pts2", "devpts", 0, "bogus=1"), EINVAL);
	EXPECT_OK("mount_instance",
		  mount("devpts", "pts2", "devpts", 0, "newinstance,ptmxmode=0640,mode=600,max=2"));
	CHECK("proc_mounts_options", slurp("/proc/mounts", buf, sizeof(buf)) > 0 &&
	      strstr(buf, "/tmp/pty/pts2 devpts rw,relatime,mode=600,ptmxmode=640,max=2 0 0\n"),
	      "no pts2 line in /proc/mounts");
	struct stat st;
	CHECK("ptmxmode", stat("pts2/ptmx", &st) == 0 && (st.st_mode & 07777) == 0640, "mode %o", st.st_mode);
	int keep = posix_openpt(O_RDWR | O_NOCTTY);
	int a = open("pts2/ptmx", O_RDWR | O_NOCTTY);
	int b = open("pts2/ptmx", O_RDWR | O_NOCTTY);
	unsigned na = 9, nb = 9;
	CHECK("own_numbers", a >= 0 && b >= 0 && ioctl(a, TIOCGPTN, &na) == 0 && ioctl(b, TIOCGPTN, &nb) == 0 &&
	      na == 0 && nb == 1, "numbers %u %u", na, nb);
	CHECK("node_in_instance", stat("pts2/1", &st) == 0 && (st.st_mode & 07777) == 0600 &&
	      minor(st.st_rdev) == 1, "pts2/1: %s", errno_name(errno));
	EXPECT_ERRNO("max_option", open("pts2/ptmx", O_RDWR | O_NOCTTY), ENOSPC);
	close(a);
	close(b);
	close(keep);
	EXPECT_OK("umount_instance", umount("pts2"));
}

int main(void)
{
	REQUIRE(setup() == 0);
	check_open_and_node();
	check_data();
	check_flow_control();
	check_packet();
	job_case("ctrl_c_sigint", SIGINT, NULL, 0, "\003", 1);
	job_case("proc_stat_tty_nr", SIGINT, stat_tty_ok, 0, "\003", 1);
	job_case("ctrl_z_sigtstp", SIGTSTP, NULL, 0, "\032", 1);
	job_case("tiocswinsz_sigwinch", SIGWINCH, winsize_is_40x100, 0, NULL, 0);
	job_case("master_close_hangs_up", SIGHUP, hung_up, 1, NULL, 0);
	check_instances();
	return test_done();
}
