/*
 * mount: mount(2) and umount2(2) as Linux's man pages describe them.
 * New mounts of tmpfs and proc and their errors (unknown type, missing or
 * non-directory target, non-root caller); per-mount flags: MS_RDONLY
 * (EROFS from every modifying call, remount ro <-> rw, EBUSY while a file
 * is open for writing), MS_NODEV (opening a
 * device node is EACCES), MS_NOEXEC (execve EACCES, mmap PROT_EXEC EPERM,
 * mprotect to PROT_EXEC EACCES), MS_NOSYMFOLLOW (ELOOP); MS_BIND of directories (with and without
 * MS_REC) and of a file, and MS_REMOUNT|MS_BIND; MS_MOVE; propagation flags; umount2's EBUSY, EINVAL,
 * MNT_DETACH and UMOUNT_NOFOLLOW; /proc/mounts and /proc/self/mountinfo.
 * Linux: fs/namespace.c (path_mount, do_remount, do_loopback,
 * do_move_mount, path_umount, mnt_want_write), fs/proc_namespace.c.
 */
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <utime.h>

#include "test.h"

#define DIR "/tmp/mount"

/* Reads `path` into `buf` (NUL-terminated); the length or -1. */
static ssize_t read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	size_t got = 0;
	ssize_t n;
	while (got + 1 < size && (n = read(fd, buf + got, size - 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = 0;
	return (ssize_t)got;
}

static char table[16384];

/* Whether /proc/self/mountinfo or /proc/mounts (`file`) has `needle`. */
static int proc_has(const char *file, const char *needle)
{
	return read_text(file, table, sizeof(table)) > 0 && strstr(table, needle) != NULL;
}

static void basics(void)
{
	EXPECT_OK("mount_tmpfs", mount("none", "mnt", "tmpfs", 0, NULL));
	close(open("mnt/inside", O_WRONLY | O_CREAT, 0644));
	CHECK("file_in_mount", access("mnt/inside", F_OK) == 0, "mnt/inside missing");
	REQUIRE_VOID(chdir("mnt") == 0);
	EXPECT_ERRNO("umount_busy_cwd", umount("."), EBUSY);
	REQUIRE_VOID(chdir("..") == 0);
	int fd = open("mnt/inside", O_RDONLY);
	EXPECT_ERRNO("umount_busy_open_file", umount("mnt"), EBUSY);
	close(fd);
	EXPECT_ERRNO("umount_not_mountpoint", umount("/tmp"), EINVAL);
	EXPECT_ERRNO("umount2_bad_flags", umount2("mnt", 0x100), EINVAL);
	EXPECT_ERRNO("umount2_expire_detach", umount2("mnt", MNT_EXPIRE | MNT_DETACH), EINVAL);
	REQUIRE_VOID(symlink("mnt", "lnk") == 0);
	EXPECT_ERRNO("umount2_nofollow_link", umount2("lnk", UMOUNT_NOFOLLOW), EINVAL);
	EXPECT_OK("umount_through_link", umount("lnk"));
	CHECK("gone_after_umount", access("mnt/inside", F_OK) == -1 && errno == ENOENT,
	      "mnt/inside still there");
	EXPECT_ERRNO("umount_twice", umount("mnt"), EINVAL);

	EXPECT_OK("mount_detach_busy", mount("none", "mnt", "tmpfs", MS_NOSUID, NULL));
	fd = open("mnt", O_RDONLY | O_DIRECTORY);
	EXPECT_OK("umount2_detach", umount2("mnt", MNT_DETACH));
	close(fd);

	EXPECT_ERRNO("unknown_type", mount("none", "mnt", "nosuchfs", 0, NULL), ENODEV);
	EXPECT_ERRNO("missing_target", mount("none", "nowhere", "tmpfs", 0, NULL), ENOENT);
	EXPECT_ERRNO("file_target", mount("none", "file", "tmpfs", 0, NULL), ENOTDIR);
	EXPECT_ERRNO("bad_target_pointer", mount("none", (char *)1, "tmpfs", 0, NULL), EFAULT);
}

/* Every modifying call through a read-only mount is EROFS. */
static void read_only(void)
{
	REQUIRE_VOID(mount("none", "ro", "tmpfs", 0, NULL) == 0);
	close(open("ro/f", O_WRONLY | O_CREAT, 0644));
	mkdir("ro/d", 0755);
	int w = open("ro/f", O_WRONLY);
	EXPECT_ERRNO("remount_ro_busy_writer", mount(NULL, "ro", NULL, MS_REMOUNT | MS_RDONLY, NULL),
		     EBUSY);
	close(w);
	EXPECT_OK("remount_ro", mount(NULL, "ro", NULL, MS_REMOUNT | MS_RDONLY, NULL));
	CHECK("proc_mounts_ro", proc_has("/proc/mounts", "none " DIR "/ro tmpfs ro,relatime"),
	      "no ro line in /proc/mounts");
	int fd = open("ro/f", O_RDONLY);
	CHECK("ro_open_read", fd >= 0, "open O_RDONLY: %s", errno_name(errno));
	close(fd);
	EXPECT_ERRNO("ro_open_write", open("ro/f", O_WRONLY), EROFS);
	EXPECT_ERRNO("ro_open_trunc", open("ro/f", O_RDONLY | O_TRUNC), EROFS);
	EXPECT_ERRNO("ro_create", open("ro/new", O_WRONLY | O_CREAT, 0644), EROFS);
	EXPECT_ERRNO("ro_mkdir", mkdir("ro/new", 0755), EROFS);
	EXPECT_ERRNO("ro_mkdir_existing", mkdir("ro/d", 0755), EEXIST);
	EXPECT_ERRNO("ro_mknod", mknod("ro/fifo", S_IFIFO | 0644, 0), EROFS);
	EXPECT_ERRNO("ro_symlink", symlink("f", "ro/link"), EROFS);
	EXPECT_ERRNO("ro_link", link("ro/f", "ro/g"), EROFS);
	EXPECT_ERRNO("ro_unlink", unlink("ro/f"), EROFS);
	EXPECT_ERRNO("ro_unlink_missing", unlink("ro/missing"), EROFS);
	EXPECT_ERRNO("ro_rmdir", rmdir("ro/d"), EROFS);
	EXPECT_ERRNO("ro_rename", rename("ro/f", "ro/g"), EROFS);
	EXPECT_ERRNO("ro_chmod", chmod("ro/f", 0600), EROFS);
	EXPECT_ERRNO("ro_chown", chown("ro/f", 1, 1), EROFS);
	EXPECT_ERRNO("ro_utime", utime("ro/f", NULL), EROFS);
	EXPECT_ERRNO("ro_truncate", truncate("ro/f", 0), EROFS);
	EXPECT_OK("remount_rw", mount(NULL, "ro", NULL, MS_REMOUNT, NULL));
	fd = open("ro/new", O_WRONLY | O_CREAT, 0644);
	CHECK("rw_again_create", fd >= 0, "create after remount rw: %s", errno_name(errno));
	close(fd);
	EXPECT_OK("umount_ro", umount("ro"));
}

/* MS_NODEV, MS_NOEXEC and MS_NOSYMFOLLOW. */
static void nodev_noexec(const char *self)
{
	REQUIRE_VOID(mount("none", "nd", "tmpfs", MS_NODEV, NULL) == 0);
	EXPECT_OK("nodev_mknod", mknod("nd/null", S_IFCHR | 0666, makedev(1, 3)));
	EXPECT_ERRNO("nodev_open", open("nd/null", O_RDONLY), EACCES);
	EXPECT_OK("remount_dev", mount(NULL, "nd", NULL, MS_REMOUNT, NULL));
	int fd = open("nd/null", O_RDONLY);
	CHECK("dev_open", fd >= 0, "open without nodev: %s", errno_name(errno));
	close(fd);
	umount("nd");

	REQUIRE_VOID(mount("none", "nx", "tmpfs", MS_NOEXEC, NULL) == 0);
	int in = open(self, O_RDONLY), out = open("nx/prog", O_WRONLY | O_CREAT, 0755);
	REQUIRE_VOID(in >= 0 && out >= 0);
	char buf[4096];
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		REQUIRE_VOID(write(out, buf, (size_t)n) == n);
	close(in);
	close(out);
	pid_t pid = fork();
	REQUIRE_VOID(pid >= 0);
	if (pid == 0) {
		char *argv[] = { "prog", "noexec-child", NULL };
		execv("nx/prog", argv);
		_exit(errno == EACCES ? 0 : 1);
	}
	int status = wait_status(pid);
	CHECK("noexec_execve", exited_with(status, 0), "child %s", status_text(status));
	fd = open("nx/prog", O_RDONLY);
	EXPECT_ERRNO("noexec_mmap_exec",
		     (long)mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0), EPERM);
	void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK("noexec_mmap_read", p != MAP_FAILED, "mmap PROT_READ: %s", errno_name(errno));
	if (p != MAP_FAILED) {
		EXPECT_ERRNO("noexec_mprotect_exec", mprotect(p, 4096, PROT_READ | PROT_EXEC), EACCES);
		munmap(p, 4096);
	}
	close(fd);
	umount("nx");

	REQUIRE_VOID(mount("none", "nd", "tmpfs", MS_NOSYMFOLLOW, NULL) == 0);
	close(open("nd/target", O_WRONLY | O_CREAT, 0644));
	REQUIRE_VOID(symlink("target", "nd/link") == 0);
	EXPECT_ERRNO("nosymfollow_open", open("nd/link", O_RDONLY), ELOOP);
	char target[16] = "";
	CHECK("nosymfollow_readlink", readlink("nd/link", target, sizeof(target)) == 6,
	      "readlink: %s", errno_name(errno));
	umount("nd");
}

/* MS_BIND, MS_REC, MS_REMOUNT | MS_BIND, and mountinfo's root field. */
static void bind(void)
{
	REQUIRE_VOID(mkdir("src", 0755) == 0 && mkdir("src/sub", 0755) == 0);
	REQUIRE_VOID(mount("none", "src/sub", "tmpfs", 0, NULL) == 0);
	close(open("src/sub/inner", O_WRONLY | O_CREAT, 0644));
	EXPECT_OK("bind", mount("src", "b1", NULL, MS_BIND, NULL));
	close(open("src/top", O_WRONLY | O_CREAT, 0644));
	CHECK("bind_shows_tree", access("b1/top", F_OK) == 0, "b1/top missing");
	CHECK("bind_not_recursive", access("b1/sub", F_OK) == 0 && access("b1/sub/inner", F_OK) != 0,
	      "b1/sub/inner visible without MS_REC");
	EXPECT_OK("bind_rec", mount("src", "b2", NULL, MS_BIND | MS_REC, NULL));
	CHECK("bind_rec_submount", access("b2/sub/inner", F_OK) == 0, "b2/sub/inner missing");
	EXPECT_OK("remount_bind_ro", mount(NULL, "b1", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL));
	EXPECT_ERRNO("bind_ro_create", open("b1/x", O_WRONLY | O_CREAT, 0644), EROFS);
	int fd = open("src/x", O_WRONLY | O_CREAT, 0644);
	CHECK("bind_ro_source_rw", fd >= 0, "create in source: %s", errno_name(errno));
	close(fd);
	CHECK("mountinfo_bind_root", proc_has("/proc/self/mountinfo", " " DIR "/src " DIR "/b1 ro"),
	      "no bind line in mountinfo");
	int f = open("src/data", O_WRONLY | O_CREAT, 0644);
	REQUIRE_VOID(f >= 0 && write(f, "bound\n", 6) == 6);
	close(f);
	EXPECT_OK("bind_file", mount("src/data", "file", NULL, MS_BIND, NULL));
	char got[16] = "";
	f = open("file", O_RDONLY);
	CHECK("bind_file_reads", f >= 0 && read(f, got, sizeof(got)) == 6 && memcmp(got, "bound\n", 6) == 0,
	      "file reads \"%s\"", got);
	close(f);
	EXPECT_ERRNO("bind_file_on_dir", mount("src/data", "m1", NULL, MS_BIND, NULL), ENOTDIR);
	EXPECT_OK("umount_bind_file", umount("file"));
	EXPECT_ERRNO("umount_with_submount", umount("b2"), EBUSY);
	EXPECT_OK("umount2_detach_tree", umount2("b2", MNT_DETACH));
	EXPECT_OK("umount_bind", umount("b1"));
	umount("src/sub");
}

/* MS_MOVE and the propagation flags. */
static void move(void)
{
	REQUIRE_VOID(mount("none", "m1", "tmpfs", 0, NULL) == 0);
	close(open("m1/f", O_WRONLY | O_CREAT, 0644));
	mkdir("m1/d", 0755);
	EXPECT_OK("move", mount("m1", "m2", NULL, MS_MOVE, NULL));
	CHECK("moved_here", access("m2/f", F_OK) == 0, "m2/f missing");
	CHECK("moved_away", access("m1/f", F_OK) != 0, "m1/f still there");
	EXPECT_ERRNO("move_into_itself", mount("m2", "m2/d", NULL, MS_MOVE, NULL), ELOOP);
	EXPECT_ERRNO("move_not_mount_root", mount("m2/d", "m1", NULL, MS_MOVE, NULL), EINVAL);
	EXPECT_ERRNO("move_onto_file", mount("m2", "file", NULL, MS_MOVE, NULL), EINVAL);
	EXPECT_OK("make_private", mount(NULL, "m2", NULL, MS_PRIVATE, NULL));
	EXPECT_OK("make_rprivate", mount(NULL, "m2", NULL, MS_PRIVATE | MS_REC, NULL));
	EXPECT_ERRNO("propagation_not_root", mount(NULL, "src", NULL, MS_PRIVATE, NULL), EINVAL);
	EXPECT_ERRNO("propagation_two_types", mount(NULL, "m2", NULL, MS_PRIVATE | MS_SLAVE, NULL),
		     EINVAL);
	EXPECT_OK("umount_moved", umount("m2"));
}

/* /proc/mounts and /proc/self/mountinfo lines of a new mount. */
static void proc_files(void)
{
	REQUIRE_VOID(mount("none", "mnt", "tmpfs", MS_NOSUID | MS_NODEV, NULL) == 0);
	CHECK("proc_mounts_tmpfs", proc_has("/proc/mounts", "none " DIR "/mnt tmpfs rw,nosuid,nodev,relatime"),
	      "no tmpfs line in /proc/mounts");
	REQUIRE_VOID(read_text("/proc/self/mountinfo", table, sizeof(table)) > 0);
	int root_id = -1, id = -1, parent = -2;
	unsigned major = 1, minor;
	for (char *line = strtok(table, "\n"); line; line = strtok(NULL, "\n")) {
		int a, b;
		unsigned ma, mi;
		char root[256], at[256], opts[256];
		if (sscanf(line, "%d %d %u:%u %255s %255s %255s", &a, &b, &ma, &mi, root, at, opts) != 7)
			continue;
		if (strcmp(at, "/") == 0)
			root_id = a;
		if (strcmp(at, DIR "/mnt") == 0 && strcmp(root, "/") == 0 &&
		    strcmp(opts, "rw,nosuid,nodev,relatime") == 0 && strstr(line, " - tmpfs none rw")) {
			id = a, parent = b, major = ma, minor = mi;
		}
	}
	(void)minor;
	CHECK("mountinfo_line", id > 0, "no tmpfs line in mountinfo");
	CHECK("mountinfo_parent", parent == root_id, "parent %d, root %d", parent, root_id);
	CHECK("mountinfo_anon_dev", major == 0, "major %u", major);
	umount("mnt");
}

int main(int argc, char **argv)
{
	if (argc > 1)
		return 3; /* run from a noexec mount: must not happen */
	REQUIRE(enter_scratch_dir() == 0);
	const char *dirs[] = { "mnt", "ro", "nd", "nx", "b1", "b2", "m1", "m2" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		mkdir(dirs[i], 0755);
	close(open("file", O_WRONLY | O_CREAT, 0644));

	basics();
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		if (setuid(1000) != 0)
			_exit(2);
		int mnt = mount("none", "mnt", "tmpfs", 0, NULL) == -1 && errno == EPERM;
		_exit(mnt && umount("/tmp") == -1 && errno == EPERM ? 0 : 1);
	}
	int status = wait_status(pid);
	CHECK("non_root_eperm", exited_with(status, 0), "child %s", status_text(status));

	mkdir("/proc", 0555);
	REQUIRE(mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0);
	CHECK("proc_mounts_line", proc_has("/proc/mounts", "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"),
	      "no proc line in /proc/mounts");
	read_only();
	nodev_noexec(argv[0]);
	bind();
	move();
	proc_files();
	EXPECT_OK("umount_proc", umount("/proc"));
	return test_done();
}
