/*
 * pidns_proc: PID namespaces seen from inside. A procfs mounted by the
 * namespace's init lists only the namespace's processes, by their numbers
 * there; /proc/self is the namespace number; status and stat give Pid,
 * PPid, Tgid, NSpid, pgrp and session relative to it. A process group
 * outlives its leader and keeps its number inside the namespace; setsid
 * works there. Credentials passed over AF_UNIX sockets (SO_PEERCRED,
 * SCM_CREDENTIALS) carry pids translated into the reader's namespace.
 * Linux: fs/proc/root.c (proc_fill_super keeps the mounter's pid_ns),
 * fs/proc/base.c (proc_pid_readdir, proc_self_get_link), fs/proc/array.c
 * (task_state, do_task_stat), kernel/sys.c (setpgid, setsid, getpgid),
 * kernel/pid.c (change_pid), net/core/sock.c (SO_PEERCRED),
 * include/net/scm.h (scm_recv), net/core/scm.c (__scm_send).
 */
#include "test.h"

#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>

#define MNT "/tmp/pidns_proc_mnt"

/* The numeric entries of MNT, as a bit set of PIDs below 64; -1 on error. */
static long long proc_pids(void)
{
	DIR *d = opendir(MNT);
	if (!d)
		return -1;
	long long set = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		int n = atoi(e->d_name);
		if (n > 0)
			set |= n < 64 ? 1LL << n : 1LL << 63;
	}
	closedir(d);
	return set;
}

/*
 * PID 2 of the namespace: leads group 2, leaves member 3 in it and exits.
 * Member 3 waits on `go` and then checks its own numbers (exit 0 or the
 * failing step, from 30 up).
 */
static int group_member(int go)
{
	char c;
	if (read(go, &c, 1) != 1)
		return 30;
	if (getpgrp() != 2 || getpgid(0) != 2)
		return 31; /* the group outlived its leader */
	if (getsid(0) != 0)
		return 32;
	if (setsid() != 3 || getsid(0) != 3 || getpgrp() != 3)
		return 33;
	if (setsid() != -1 || errno != EPERM)
		return 34;
	return 0;
}

/* Step 10..: what procfs shows about member 3. */
static int check_member_proc(void)
{
	char buf[4096];
	if (proc_pids() != ((1LL << 1) | (1LL << 3)))
		return 10; /* only 1 and 3, by their numbers here */
	if (slurp(MNT "/3/status", buf, sizeof(buf)) <= 0)
		return 11;
	if (!strstr(buf, "\nTgid:\t3\n") || !strstr(buf, "\nPid:\t3\n") || !strstr(buf, "\nPPid:\t1\n"))
		return 12;
	if (!strstr(buf, "\nNSpid:\t3\n") || !strstr(buf, "\nNSpgid:\t2\n") || !strstr(buf, "\nNSsid:\t0\n"))
		return 13;
	if (slurp(MNT "/3/stat", buf, sizeof(buf)) <= 0)
		return 14;
	int pid, ppid, pgrp, sid;
	char *close_paren = strrchr(buf, ')');
	if (sscanf(buf, "%d", &pid) != 1 || !close_paren ||
	    sscanf(close_paren + 2, "%*c %d %d %d", &ppid, &pgrp, &sid) != 3)
		return 15;
	if (pid != 3 || ppid != 1 || pgrp != 2 || sid != 0)
		return 16;
	char link[32] = {0};
	if (readlink(MNT "/self", link, sizeof(link) - 1) != 1 || strcmp(link, "1") != 0)
		return 17;
	if (slurp(MNT "/1/status", buf, sizeof(buf)) <= 0 || !strstr(buf, "\nPPid:\t0\n"))
		return 18;
	if (access(MNT "/2", F_OK) == 0)
		return 19; /* the leader was reaped */
	return 0;
}

/* The namespace's init: exit 0, or the number of the first wrong step. */
static int ns_init(void)
{
	int go[2];
	if (pipe(go) != 0)
		return 1;
	mkdir(MNT, 0755);
	if (mount("proc", MNT, "proc", 0, NULL) != 0)
		return 2;
	pid_t leader = fork();
	if (leader == 0) {
		if (setpgid(0, 0) != 0)
			_exit(40);
		pid_t member = fork();
		if (member == 0)
			_exit(group_member(go[0]));
		_exit(member == 3 ? 0 : 41);
	}
	if (leader != 2 || wait_status(leader) != 0)
		return 3;
	if (getpgid(3) != 2 || kill(-2, 0) != 0)
		return 4; /* the group lives on in its member */
	int step = check_member_proc();
	if (step)
		return step;
	if (write(go[1], "x", 1) != 1)
		return 5;
	int status = wait_status(3);
	if (!exited_with(status, 0))
		return WIFEXITED(status) ? WEXITSTATUS(status) : 6;
	umount(MNT);
	return 0;
}

static void test_proc_inside(void)
{
	pid_t child = fork_newpid();
	if (child == 0)
		_exit(ns_init());
	REQUIRE_VOID(child > 0);
	int status = wait_status(child);
	CHECK("proc_view_and_groups_inside_namespace", exited_with(status, 0),
	      "init %s (see ns_init for the step)", status_text(status));
}

/* The initial procfs keeps the global view: the child's outer number. */
static void test_proc_outside(void)
{
	int go[2];
	REQUIRE_VOID(pipe(go) == 0);
	pid_t child = fork_newpid();
	if (child == 0) {
		char c;
		close(go[1]);
		_exit(read(go[0], &c, 1) == 0 ? 0 : 1);
	}
	REQUIRE_VOID(child > 0);
	close(go[0]);
	mkdir(MNT, 0755);
	int mounted = mount("proc", MNT, "proc", 0, NULL) == 0;
	char path[64], buf[4096], want[64];
	snprintf(path, sizeof(path), MNT "/%d/status", child);
	ssize_t n = slurp(path, buf, sizeof(buf));
	snprintf(want, sizeof(want), "\nPid:\t%d\nPPid:\t%d\n", child, getpid());
	CHECK("outer_proc_shows_outer_numbers", n > 0 && strstr(buf, want), "no \"%s\" in %s",
	      want + 1, path);
	char link[32] = {0}, self[32];
	snprintf(self, sizeof(self), "%d", getpid());
	ssize_t len = readlink(MNT "/self", link, sizeof(link) - 1);
	CHECK("outer_proc_self_is_outer_pid", len > 0 && strcmp(link, self) == 0,
	      "self -> \"%s\", expected %s", link, self);
	close(go[1]);
	wait_status(child);
	if (mounted)
		umount(MNT);
}

/* --- credentials over AF_UNIX across the namespace boundary ------------- */

static pid_t sent_pid(int fd, struct ucred *cred)
{
	char data[8];
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} ctl;
	/* One byte: a stream socket may glue the next message ("r") onto this
	   one when both carry the same credentials, and the caller reads that
	   one separately. */
	struct iovec iov = {.iov_base = data, .iov_len = 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf)};
	if (recvmsg(fd, &msg, 0) <= 0)
		return -2;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_CREDENTIALS)
		return -3;
	memcpy(cred, CMSG_DATA(c), sizeof(*cred));
	return cred->pid;
}

static int send_creds(int fd, pid_t pid)
{
	struct ucred cred = {.pid = pid, .uid = getuid(), .gid = getgid()};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} ctl;
	memset(&ctl, 0, sizeof(ctl));
	struct iovec iov = {.iov_base = "m", .iov_len = 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof(cred));
	memcpy(CMSG_DATA(c), &cred, sizeof(cred));
	return sendmsg(fd, &msg, 0) == 1 ? 0 : errno;
}

/* Inside: exit 0 or the failing step. */
static int creds_child(int fd)
{
	struct ucred peer;
	socklen_t len = sizeof(peer);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0)
		return 1;
	if (peer.pid != 0)
		return 2; /* the socketpair's maker is outside: 0 */
	if (send_creds(fd, 1) != 0)
		return 3; /* its own pid as it sees it */
	if (send_creds(fd, 4242) != ESRCH)
		return 4; /* root may claim a pid, but one that exists here */
	int on = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) != 0)
		return 5;
	if (write(fd, "r", 1) != 1)
		return 6; /* tell the parent to send */
	struct ucred got;
	if (sent_pid(fd, &got) != 0)
		return 7; /* the parent's pid reads 0 here */
	return 0;
}

static void test_unix_creds(void)
{
	int sv[2];
	REQUIRE_VOID(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	int on = 1;
	REQUIRE_VOID(setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) == 0);
	pid_t child = fork_newpid();
	if (child == 0) {
		close(sv[0]);
		_exit(creds_child(sv[1]));
	}
	REQUIRE_VOID(child > 0);
	close(sv[1]);
	struct ucred peer;
	socklen_t len = sizeof(peer);
	int ok = getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &peer, &len) == 0;
	CHECK("so_peercred_outside_own_pid", ok && peer.pid == getpid(), "pid %d, expected %d",
	      ok ? peer.pid : -1, getpid());
	struct ucred got;
	pid_t pid = sent_pid(sv[0], &got);
	CHECK("scm_credentials_pid_1_arrives_as_outer_pid", pid == child,
	      "pid %d, expected the child's %d", pid, child);
	char c;
	REQUIRE_VOID(read(sv[0], &c, 1) == 1 && c == 'r');
	CHECK("send_to_child_ok", send_creds(sv[0], getpid()) == 0, "sendmsg failed");
	int status = wait_status(child);
	CHECK("peercred_and_scm_pid_zero_inside", exited_with(status, 0),
	      "child %s (see creds_child for the step)", status_text(status));
	close(sv[0]);
}

int main(void)
{
	test_proc_inside();
	test_proc_outside();
	test_unix_creds();
	return test_done();
}
