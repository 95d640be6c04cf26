/*
 * setns: /proc/PID/ns and setns(2). Each link reads NAME:[INUM] (the
 * initial UTS, IPC and PID namespaces have Linux's fixed numbers); opening
 * one gives an nsfs file whose st_ino is INUM and whose NS_GET_NSTYPE
 * ioctl names its kind; setns(2) with it enters the namespace: a child's
 * UTS namespace (its hostname), mount namespace (its mounts, root and cwd
 * moved there), PID namespace for the next child (which becomes PID 2
 * there). Errors: a wrong nstype or a non-namespace fd is EINVAL, a bad
 * fd EBADF, a non-root caller EPERM, a PID namespace outside the
 * caller's EINVAL.
 * Linux: kernel/nsproxy.c (setns), fs/nsfs.c, fs/proc/namespaces.c.
 */
#include "test.h"

#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/utsname.h>

#define DIR "/tmp/setns"
/* Linux: include/uapi/linux/nsfs.h (musl has no kernel headers). */
#define NS_GET_NSTYPE _IO(0xb7, 0x3)

static int need_proc(void)
{
	if (access("/proc/self/stat", F_OK) == 0)
		return 0;
	mkdir("/proc", 0555);
	return mount("proc", "/proc", "proc", 0, NULL) == 0;
}

/* readlink of /proc/PID/ns/NAME, "" on error. */
static const char *ns_link(pid_t pid, const char *name)
{
	static char buf[2][64];
	static int turn;
	char path[64];
	turn ^= 1;
	snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, name);
	ssize_t n = readlink(path, buf[turn], sizeof(buf[turn]) - 1);
	buf[turn][n > 0 ? n : 0] = 0;
	return buf[turn];
}

static int open_ns(pid_t pid, const char *name)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, name);
	return open(path, O_RDONLY);
}

/* The helper child: its own UTS, mount and PID namespaces; waits on `go`. */
static void helper(int ready, int go)
{
	if (unshare(CLONE_NEWUTS | CLONE_NEWNS) != 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    sethostname("helper-ns", 9) != 0 || mount("hns", DIR "/m", "tmpfs", 0, NULL) != 0)
		_exit(1);
	close(open(DIR "/m/helper_file", O_WRONLY | O_CREAT, 0644));
	char c = 1;
	if (write(ready, &c, 1) != 1)
		_exit(2);
	read(go, &c, 1);
	_exit(0);
}

static int *res;

/* Enters the helper's namespaces in a child and records what it finds. */
static void enter(pid_t helper_pid)
{
	int uts = open_ns(helper_pid, "uts"), mnt = open_ns(helper_pid, "mnt");
	res[0] = setns(uts, CLONE_NEWUTS) == 0;
	struct utsname u;
	uname(&u);
	res[1] = strcmp(u.nodename, "helper-ns") == 0;
	res[2] = setns(mnt, CLONE_NEWNS) == 0 ? 1 : -errno;
	res[3] = access(DIR "/m/helper_file", F_OK) == 0;
	char cwd[128] = "";
	res[4] = getcwd(cwd, sizeof(cwd)) && strcmp(cwd, "/") == 0;
	res[5] = strcmp(ns_link(getpid(), "mnt"), ns_link(helper_pid, "mnt")) == 0;
}

static int pidns_child(void)
{
	/* In a new PID namespace (its init), then setns back to the parent's. */
	int fd = open("/proc/self/ns/pid", O_RDONLY);
	pid_t pid = fork_newpid();
	if (pid == 0) {
		/* PID 1 of the new namespace: the outer one is not below it. */
		_exit(setns(fd, CLONE_NEWPID) == -1 && errno == EINVAL ? 0 : 1);
	}
	return exited_with(wait_status(pid), 0) ? 0 : 1;
}

/*
 * A process in a new PID namespace (its init) waits; another enters that
 * namespace for its children: pid_for_children changes, the next child is
 * PID 2 there.
 */
static void pid_entry(void)
{
	int go[2];
	REQUIRE_VOID(pipe(go) == 0);
	pid_t init = fork_newpid();
	if (init == 0) {
		char c;
		close(go[1]);
		read(go[0], &c, 1);
		_exit(0);
	}
	close(go[0]);
	pid_t ep = fork();
	if (ep == 0) {
		int fd = open_ns(init, "pid");
		if (setns(fd, CLONE_NEWPID) != 0)
			_exit(1);
		if (strcmp(ns_link(getpid(), "pid_for_children"), ns_link(init, "pid")) != 0)
			_exit(2);
		if (strcmp(ns_link(getpid(), "pid"), ns_link(getppid(), "pid")) != 0)
			_exit(3);
		pid_t kid = fork();
		if (kid == 0)
			_exit(getpid() == 2 ? 0 : 10);
		int st = wait_status(kid);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 11);
	}
	int st = wait_status(ep);
	CHECK("setns_pid_child_is_2", exited_with(st, 0), "%s", status_text(st));
	close(go[1]);
	wait_status(init);
}

static int user_setns(void)
{
	int fd = open("/proc/self/ns/uts", O_RDONLY);
	return setns(fd, CLONE_NEWUTS) == -1 && errno == EPERM ? 0 : 1;
}

int main(void)
{
	res = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE(res != MAP_FAILED);
	REQUIRE(enter_scratch_dir() == 0);
	int own_proc = need_proc();
	mkdir("m", 0755);

	CHECK("uts_link_initial", strcmp(ns_link(getpid(), "uts"), "uts:[4026531838]") == 0, "got %s",
	      ns_link(getpid(), "uts"));
	CHECK("ipc_link_initial", strcmp(ns_link(getpid(), "ipc"), "ipc:[4026531839]") == 0, "got %s",
	      ns_link(getpid(), "ipc"));
	CHECK("pid_link_initial", strcmp(ns_link(getpid(), "pid"), "pid:[4026531836]") == 0, "got %s",
	      ns_link(getpid(), "pid"));
	CHECK("mnt_link_form", strncmp(ns_link(getpid(), "mnt"), "mnt:[", 5) == 0, "got %s",
	      ns_link(getpid(), "mnt"));
	CHECK("pid_for_children_same",
	      strcmp(ns_link(getpid(), "pid_for_children"), ns_link(getpid(), "pid")) == 0, "%s vs %s",
	      ns_link(getpid(), "pid_for_children"), ns_link(getpid(), "pid"));

	int fd = open_ns(getpid(), "uts");
	struct stat st;
	CHECK("open_ns_file", fd >= 0 && fstat(fd, &st) == 0, "open: %s", errno_name(errno));
	CHECK("ns_file_ino", fd >= 0 && st.st_ino == 4026531838u && S_ISREG(st.st_mode),
	      "ino %lu mode %o", (unsigned long)st.st_ino, st.st_mode);
	CHECK("ns_get_nstype", ioctl(fd, NS_GET_NSTYPE) == CLONE_NEWUTS, "ioctl: %s",
	      errno_name(errno));
	struct stat lst;
	CHECK("ns_link_is_symlink", lstat("/proc/self/ns/uts", &lst) == 0 && S_ISLNK(lst.st_mode),
	      "lstat mode %o", lst.st_mode);
	EXPECT_ERRNO("setns_wrong_type", setns(fd, CLONE_NEWNS), EINVAL);
	EXPECT_OK("setns_same_uts", setns(fd, 0));
	int plain = open(".", O_RDONLY);
	EXPECT_ERRNO("setns_not_ns_file", setns(plain, 0), EINVAL);
	EXPECT_ERRNO("setns_bad_fd", setns(1000, 0), EBADF);
	CHECK("setns_as_user_eperm", run_as_user(user_setns) == 0, "not EPERM");
	close(plain);
	close(fd);

	int ready[2], go[2];
	REQUIRE(pipe(ready) == 0 && pipe(go) == 0);
	pid_t hp = fork();
	if (hp == 0)
		helper(ready[1], go[0]);
	char c;
	REQUIRE(read(ready[0], &c, 1) == 1);
	CHECK("child_links_differ",
	      strcmp(ns_link(hp, "uts"), ns_link(getpid(), "uts")) != 0 &&
		      strcmp(ns_link(hp, "mnt"), ns_link(getpid(), "mnt")) != 0,
	      "uts %s, mnt %s", ns_link(hp, "uts"), ns_link(hp, "mnt"));
	pid_t ep = fork();
	if (ep == 0) {
		enter(hp);
		_exit(0);
	}
	int status = wait_status(ep);
	CHECK("enter_exited", exited_with(status, 0), "%s", status_text(status));
	CHECK("setns_uts", res[0] == 1, "setns uts failed");
	CHECK("setns_uts_hostname", res[1] == 1, "hostname not the helper's");
	CHECK("setns_mnt", res[2] == 1, "setns mnt: %s", res[2] < 0 ? errno_name(-res[2]) : "?");
	CHECK("setns_mnt_sees_mounts", res[3] == 1, "helper's mount not seen");
	CHECK("setns_mnt_cwd_root", res[4] == 1, "cwd not /");
	CHECK("setns_mnt_link_same", res[5] == 1, "mnt links differ");
	REQUIRE(write(go[1], &c, 1) == 1);
	status = wait_status(hp);
	CHECK("helper_exited", exited_with(status, 0), "%s", status_text(status));
	CHECK("outside_no_helper_mount", access(DIR "/m/helper_file", F_OK) == -1,
	      "helper's file visible");

	CHECK("setns_pid_outer_einval", pidns_child() == 0, "setns to an outer PID namespace allowed");
	pid_entry();

	if (own_proc)
		umount("/proc");
	return test_done();
}
