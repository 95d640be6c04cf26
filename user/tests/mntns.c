/*
 * mntns: mount namespaces and pivot_root(2). unshare(CLONE_NEWNS) and
 * clone(CLONE_NEWNS) copy the mount tree: mounts and umounts on either
 * side are invisible on the other, /proc/PID/mounts shows each task's
 * own tree, the caller's cwd moves into the copy; CLONE_NEWNS|CLONE_FS
 * is EINVAL, both need root (EPERM). Propagation types show in
 * /proc/self/mountinfo (shared:N, master:N, unbindable; an unbindable
 * mount cannot be bound). pivot_root's EPERM, EINVAL and EBUSY cases, and
 * a pivot inside a namespace: the old root appears under put_old, a cwd
 * at the old root moves to the new one, and the old root can be detached.
 * Linux: fs/namespace.c (copy_mnt_ns, do_change_type, pivot_root),
 * fs/pnode.c, fs/proc_namespace.c, kernel/nsproxy.c.
 */
#include "test.h"

#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>

#define DIR "/tmp/mntns"

/* One result a child records for the parent: 1 passed, else -errno or 0. */
#define NRES 32
static int *res;
static char *text; /* a line of mountinfo or a path the child saw */

enum {
	R_UNSHARE, R_PRIVATE, R_MOUNT_A, R_SEES_OWN, R_NOT_PARENTS, R_CWD_MOVED, R_PROC_OWN,
	R_UMOUNT_PARENTS, R_SHARED, R_SLAVE, R_PRIVATE_AGAIN, R_UNBINDABLE, R_BIND_UNBINDABLE,
	R_PIVOT_CHROOT, R_PIVOT_BUSY, R_PIVOT_NOT_MOUNT, R_PIVOT_NOT_UNDER, R_PIVOT, R_PIVOT_OLD,
	R_PIVOT_CWD, R_PIVOT_DETACH, R_CLONE_MOUNT,
};

static int ok_or_errno(int ret)
{
	return ret == 0 ? 1 : -errno;
}

static int fails_with(int ret, int err)
{
	return ret == -1 && errno == err ? 1 : (ret == -1 ? -errno : 0);
}

/* Whether the file `path` contains `needle`. */
static int file_has(const char *path, const char *needle)
{
	static char buf[16384];
	return slurp(path, buf, sizeof(buf)) > 0 && strstr(buf, needle) != NULL;
}

/* The line of /proc/self/mountinfo whose mountpoint is `mnt`, into `text`. */
static int mountinfo_line(const char *mnt)
{
	static char buf[16384];
	char key[128];
	snprintf(key, sizeof(key), " %s ", mnt);
	text[0] = 0;
	if (slurp("/proc/self/mountinfo", buf, sizeof(buf)) <= 0)
		return 0;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char *p = strchr(line, ' ');
		p = p ? strchr(p + 1, ' ') : NULL;
		p = p ? strchr(p + 1, ' ') : NULL;
		p = p ? strchr(p + 1, ' ') : NULL; /* before the mountpoint */
		if (p && strncmp(p, key, strlen(key)) == 0)
			snprintf(text, 256, "%s", line);
	}
	return text[0] != 0;
}

/* The first child: unshares, mounts, and waits on `go` for the parent's mount. */
static int unshared_child(int ready, int go)
{
	res[R_UNSHARE] = ok_or_errno(unshare(CLONE_NEWNS));
	res[R_PRIVATE] = ok_or_errno(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	res[R_MOUNT_A] = ok_or_errno(mount("nsa", DIR "/a", "tmpfs", 0, NULL));
	close(open(DIR "/a/mine", O_WRONLY | O_CREAT, 0644));
	res[R_SEES_OWN] = access(DIR "/a/mine", F_OK) == 0;
	res[R_CWD_MOVED] = access("a/mine", F_OK) == 0; /* cwd is DIR: the copy's */
	res[R_PROC_OWN] = file_has("/proc/self/mounts", "nsa " DIR "/a tmpfs");
	char c = 1;
	if (write(ready, &c, 1) != 1 || read(go, &c, 1) != 1)
		return 1;
	/* The parent has mounted b and written b/theirs since. */
	res[R_NOT_PARENTS] = access(DIR "/b/theirs", F_OK) == -1 && errno == ENOENT;
	res[R_UMOUNT_PARENTS] = fails_with(umount(DIR "/b"), EINVAL);

	mount(NULL, DIR "/a", NULL, MS_SHARED, NULL);
	res[R_SHARED] = mountinfo_line(DIR "/a") && strstr(text, " shared:") != NULL;
	/* A peer bound on c, then made a slave: its master is a's group. */
	mount(DIR "/a", DIR "/c", NULL, MS_BIND, NULL);
	mount(NULL, DIR "/c", NULL, MS_SLAVE, NULL);
	res[R_SLAVE] = mountinfo_line(DIR "/c") && strstr(text, " master:") != NULL &&
		       strstr(text, " shared:") == NULL;
	umount(DIR "/c");
	/* A slave of nothing is private. */
	mount(NULL, DIR "/a", NULL, MS_SLAVE, NULL);
	mount(NULL, DIR "/a", NULL, MS_PRIVATE, NULL);
	res[R_PRIVATE_AGAIN] = mountinfo_line(DIR "/a") && strstr(text, " master:") == NULL &&
			       strstr(text, " shared:") == NULL;
	mount(NULL, DIR "/a", NULL, MS_UNBINDABLE, NULL);
	res[R_UNBINDABLE] = mountinfo_line(DIR "/a") && strstr(text, " unbindable") != NULL;
	res[R_BIND_UNBINDABLE] = fails_with(mount(DIR "/a", DIR "/c", NULL, MS_BIND, NULL), EINVAL);
	umount(DIR "/a");
	return 0;
}

/*
 * pivot_root inside a fresh namespace: a tmpfs on DIR/a becomes the root
 * (chroot: a mount root with a parent, whatever / is), then a tmpfs on
 * /new inside it is pivoted to, with the old root on /new/old.
 */
static int pivot_child(void)
{
	if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		return 1;
	if (mount("root", DIR "/a", "tmpfs", 0, NULL) != 0)
		return 2;
	mkdir(DIR "/a/new", 0755);
	mkdir(DIR "/a/plain", 0755);
	mkdir(DIR "/a/outside", 0755);
	close(open(DIR "/a/marker", O_WRONLY | O_CREAT, 0644));
	res[R_PIVOT_CHROOT] = ok_or_errno(chdir(DIR "/a") || chroot("."));
	res[R_PIVOT_BUSY] = fails_with(syscall(SYS_pivot_root, "/", "/plain"), EBUSY);
	if (mount("new", "/new", "tmpfs", 0, NULL) != 0 ||
	    mount("other", "/outside", "tmpfs", 0, NULL) != 0)
		return 3;
	mkdir("/new/old", 0755);
	mkdir("/new/sub", 0755);
	res[R_PIVOT_NOT_MOUNT] = fails_with(syscall(SYS_pivot_root, "/new/sub", "/new/old"), EINVAL);
	res[R_PIVOT_NOT_UNDER] = fails_with(syscall(SYS_pivot_root, "/new", "/outside"), EINVAL);
	res[R_PIVOT] = ok_or_errno((int)syscall(SYS_pivot_root, "/new", "/new/old"));
	res[R_PIVOT_OLD] = access("/old/marker", F_OK) == 0;
	char cwd[256] = "";
	res[R_PIVOT_CWD] = getcwd(cwd, sizeof(cwd)) != NULL && strcmp(cwd, "/") == 0;
	if (!res[R_PIVOT_CWD])
		snprintf(text, 256, "cwd %s", cwd);
	res[R_PIVOT_DETACH] = ok_or_errno(chdir("/") || umount2("/old", MNT_DETACH));
	if (res[R_PIVOT_DETACH] == 1 && access("/old/marker", F_OK) == 0)
		res[R_PIVOT_DETACH] = 0;
	return 0;
}

static int clone_child(void)
{
	res[R_CLONE_MOUNT] = ok_or_errno(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
					 mount("cl", DIR "/c", "tmpfs", 0, NULL));
	close(open(DIR "/c/cloned", O_WRONLY | O_CREAT, 0644));
	return 0;
}

static int user_unshare(void)
{
	return unshare(CLONE_NEWNS) == -1 && errno == EPERM ? 0 : 1;
}

static int user_pivot(void)
{
	return syscall(SYS_pivot_root, "/tmp", "/tmp") == -1 && errno == EPERM ? 0 : 1;
}

static void report(const char *check, int i)
{
	CHECK(check, res[i] == 1, "%s%s%s", res[i] < 0 ? errno_name(-res[i]) : "not seen",
	      text[0] ? ": " : "", text);
	text[0] = 0;
}

/* Mounts /proc unless it is there already: 1 if this test mounted it. */
static int need_proc(void)
{
	if (access("/proc/self/stat", F_OK) == 0)
		return 0;
	mkdir("/proc", 0555);
	return mount("proc", "/proc", "proc", 0, NULL) == 0;
}

int main(void)
{
	void *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE(shared != MAP_FAILED);
	res = shared;
	text = (char *)shared + NRES * sizeof(int);
	REQUIRE(enter_scratch_dir() == 0);
	int own_proc = need_proc();
	mkdir("a", 0755);
	mkdir("b", 0755);
	mkdir("c", 0755);

	int ready[2], go[2];
	REQUIRE(pipe(ready) == 0 && pipe(go) == 0);
	pid_t pid = fork();
	if (pid == 0)
		_exit(unshared_child(ready[1], go[0]));
	char c;
	REQUIRE(read(ready[0], &c, 1) == 1);
	CHECK("parent_not_sees_child_mount", access(DIR "/a/mine", F_OK) == -1 && errno == ENOENT,
	      "a/mine visible outside");
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mounts", pid);
	CHECK("proc_pid_mounts_child", file_has(path, "nsa " DIR "/a tmpfs"), "%s lacks nsa", path);
	CHECK("proc_self_mounts_parent", !file_has("/proc/self/mounts", "nsa "), "nsa in ours");
	int mounted_b = mount("nsb", DIR "/b", "tmpfs", 0, NULL) == 0;
	close(open(DIR "/b/theirs", O_WRONLY | O_CREAT, 0644));
	REQUIRE(write(go[1], &c, 1) == 1);
	int st = wait_status(pid);
	CHECK("child_exited", exited_with(st, 0), "%s", status_text(st));
	report("unshare_newns", R_UNSHARE);
	report("make_rprivate", R_PRIVATE);
	report("mount_inside", R_MOUNT_A);
	report("sees_own_mount", R_SEES_OWN);
	report("cwd_in_copy", R_CWD_MOVED);
	report("proc_self_mounts_inside", R_PROC_OWN);
	report("parent_mount_invisible", R_NOT_PARENTS);
	report("umount_parents_mount_einval", R_UMOUNT_PARENTS);
	report("mountinfo_shared", R_SHARED);
	report("mountinfo_slave", R_SLAVE);
	report("mountinfo_private", R_PRIVATE_AGAIN);
	report("mountinfo_unbindable", R_UNBINDABLE);
	report("bind_unbindable_einval", R_BIND_UNBINDABLE);
	CHECK("parent_mount_still_there", mounted_b && access(DIR "/b/theirs", F_OK) == 0,
	      "b/theirs gone");
	umount(DIR "/b");

	pid = (pid_t)syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0);
	if (pid == 0)
		_exit(clone_child());
	st = wait_status(pid);
	report("clone_newns_mount", R_CLONE_MOUNT);
	CHECK("clone_newns_invisible", access(DIR "/c/cloned", F_OK) == -1 && errno == ENOENT,
	      "c/cloned visible outside");
	EXPECT_ERRNO("clone_newns_fs_einval",
		     syscall(SYS_clone, CLONE_NEWNS | CLONE_FS | SIGCHLD, 0, 0, 0, 0), EINVAL);

	pid = fork();
	if (pid == 0)
		_exit(pivot_child());
	st = wait_status(pid);
	CHECK("pivot_child_exited", exited_with(st, 0), "%s", status_text(st));
	report("pivot_chroot_setup", R_PIVOT_CHROOT);
	report("pivot_root_is_root_ebusy", R_PIVOT_BUSY);
	report("pivot_not_mountpoint_einval", R_PIVOT_NOT_MOUNT);
	report("pivot_put_old_outside_einval", R_PIVOT_NOT_UNDER);
	report("pivot_root", R_PIVOT);
	report("pivot_old_root_at_put_old", R_PIVOT_OLD);
	report("pivot_cwd_follows", R_PIVOT_CWD);
	report("pivot_detach_old", R_PIVOT_DETACH);
	CHECK("pivot_invisible_outside", access(DIR "/a/marker", F_OK) == -1 && errno == ENOENT,
	      "a/marker visible outside");

	CHECK("unshare_as_user_eperm", run_as_user(user_unshare) == 0, "not EPERM");
	CHECK("pivot_as_user_eperm", run_as_user(user_pivot) == 0, "not EPERM");
	if (own_proc)
		umount("/proc");
	return test_done();
}
