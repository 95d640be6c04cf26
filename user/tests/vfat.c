#include "test.h"
/*
 * vfat on a loop device over a file made by busybox mkdosfs (FAT32):
 * mount refuses a bad option and a disk with no FAT (EINVAL); names keep
 * their case but are found in any case; create, O_EXCL, mkdir, rmdir
 * (ENOTEMPTY), unlink, rename across directories and over a name (one
 * that differs only in case names the same file: nothing happens); a
 * 255-character name fits, 256 is ENAMETOOLONG, a ':' is EINVAL; reads and
 * writes over many clusters, a write past the end zero-fills, truncate
 * both ways; mtime kept in 2-second steps; chmod can only drop or restore
 * all write bits (the read-only attribute; other modes are ignored, set-id
 * bits EPERM), chown to another user EPERM;
 * FAT_IOCTL_GET/SET_ATTRIBUTES (the directory and volume bits stay, the
 * root takes none, a non-owner gets EPERM); statfs; an unlinked open file
 * keeps its data and its clusters come back after the close; a full disk
 * is ENOSPC; everything is still there after a remount; a read-only
 * remount refuses a create (EROFS) and a read-write one allows it again.
 * Linux: fs/fat/ (namei_vfat.c, file.c, inode.c, dir.c, misc.c).
 */
#include <dirent.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

/* include/uapi/linux/loop.h and msdos_fs.h (musl has no kernel headers). */
#define LOOP_SET_FD 0x4C00
#define LOOP_CLR_FD 0x4C01
#define LOOP_CTL_GET_FREE 0x4C82
#define LOOP_MAJOR 7
#define FAT_IOCTL_GET_ATTRIBUTES _IOR('r', 0x10, uint32_t)
#define FAT_IOCTL_SET_ATTRIBUTES _IOW('r', 0x11, uint32_t)
#define ATTR_RO 0x01
#define ATTR_HIDDEN 0x02
#define ATTR_SYS 0x04
#define ATTR_VOLUME 0x08
#define ATTR_DIR 0x10
#define ATTR_ARCH 0x20
#define MSDOS_SUPER_MAGIC 0x4d44

#define IMG_BYTES (4 * 1024 * 1024)
#define OPTS "uid=0,gid=0,umask=022"
#define LOOPDEV "/tmp/" TEST_NAME "/loopdev"

static int ctl = -1;

/* Binds `file` to a free loop device, made as node `node`; its fd or -1. */
static int attach(const char *file, const char *node)
{
	int n = ioctl(ctl, LOOP_CTL_GET_FREE);
	unlink(node);
	if (n < 0 || mknod(node, S_IFBLK | 0600, makedev(LOOP_MAJOR, n)) != 0)
		return -1;
	int loop = open(node, O_RDWR);
	int img = open(file, O_RDWR);
	if (loop < 0 || img < 0 || ioctl(loop, LOOP_SET_FD, img) != 0)
		return -1;
	close(img);
	return loop;
}

static unsigned char pat(long i)
{
	return (unsigned char)(i * 13 + i / 512);
}

static int write_pattern(const char *path, long len)
{
	static unsigned char buf[65536];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	for (long done = 0; done < len;) {
		long n = len - done < (long)sizeof(buf) ? len - done : (long)sizeof(buf);
		for (long i = 0; i < n; i++)
			buf[i] = pat(done + i);
		if (write(fd, buf, (size_t)n) != n) {
			close(fd);
			return -1;
		}
		done += n;
	}
	return close(fd);
}

/* Whether `path` holds the pattern, `len` bytes. */
static int check_pattern(const char *path, long len)
{
	static unsigned char buf[65536];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	long done = 0;
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pat(done + i)) {
				close(fd);
				return 0;
			}
		done += n;
	}
	close(fd);
	return n == 0 && done == len;
}

static int listed(const char *dir, const char *name)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct dirent *e;
	int found = 0;
	while ((e = readdir(d)))
		found |= strcmp(e->d_name, name) == 0;
	closedir(d);
	return found;
}

static long get_attrs(const char *path)
{
	uint32_t a = 0xdead;
	int fd = open(path, O_RDONLY);
	long r = fd >= 0 && ioctl(fd, FAT_IOCTL_GET_ATTRIBUTES, &a) == 0 ? (long)a : -1;
	close(fd);
	return r;
}

static long set_attrs(const char *path, uint32_t a)
{
	int fd = open(path, O_RDONLY);
	long r = fd >= 0 ? ioctl(fd, FAT_IOCTL_SET_ATTRIBUTES, &a) : -1;
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

/* As nobody: setting attributes on someone else's file is EPERM. */
static int set_attrs_eperm(int fd)
{
	uint32_t a = ATTR_HIDDEN;
	return ioctl(fd, FAT_IOCTL_SET_ATTRIBUTES, &a) == -1 && errno == EPERM ? 0 : 1;
}

static void mount_checks(void)
{
	char out[512];
	REQUIRE_VOID(write_pattern("zero.img", 0) == 0);
	REQUIRE_VOID(truncate("zero.img", IMG_BYTES) == 0);
	int zero = attach("zero.img", "loopzero");
	REQUIRE_VOID(zero >= 0);
	mkdir("m", 0755);
	EXPECT_ERRNO("mount_no_fat_einval", mount("/tmp/" TEST_NAME "/loopzero", "m", "vfat", 0, OPTS), EINVAL);
	ioctl(zero, LOOP_CLR_FD, 0);
	close(zero);
	unlink("loopzero");
	unlink("zero.img");

	REQUIRE_VOID(write_pattern("fat.img", 0) == 0);
	REQUIRE_VOID(truncate("fat.img", IMG_BYTES) == 0);
	int st = run_sh("mkdosfs fat.img", out, sizeof(out));
	REQUIRE_VOID(st == 0);
}

/* /proc/self/mounts shows the options as Linux does (Debian's defaults). */
static void options_checks(void)
{
	static char mounts[8192];
	mkdir("proc", 0755);
	REQUIRE_VOID(mount("proc", "proc", "proc", 0, NULL) == 0);
	ssize_t n = slurp("proc/self/mounts", mounts, sizeof(mounts));
	umount("proc");
	rmdir("proc");
	char *line = n > 0 ? strstr(mounts, " /tmp/" TEST_NAME "/m vfat ") : NULL;
	char *end = line ? strchr(line, '\n') : NULL;
	if (end)
		*end = 0;
	CHECK("proc_mounts_options",
	      line && strstr(line, " rw,") &&
		      strstr(line, ",fmask=0022,dmask=0022,codepage=437,iocharset=ascii,"
				   "shortname=mixed,utf8,errors=remount-ro 0 0"),
	      "line: %s", line ? line : "(none)");
}

static void name_checks(void)
{
	REQUIRE_VOID(write_pattern("m/Hello World.TXT", 70000) == 0);
	CHECK("case_kept_in_readdir", listed("m", "Hello World.TXT"), "not listed");
	CHECK("dots_in_root_readdir", listed("m", ".") && listed("m", ".."), "no . or ..");
	CHECK("lookup_any_case", check_pattern("m/hello world.txt", 70000), "content differs");
	EXPECT_ERRNO("create_excl_other_case",
		     open("m/HELLO WORLD.txt", O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
	char name[300] = "m/";
	memset(name + 2, 'n', 255);
	name[257] = 0;
	int fd = open(name, O_CREAT | O_WRONLY, 0644);
	CHECK("name_255_fits", fd >= 0, "open: %s", errno_name(errno));
	close(fd);
	EXPECT_OK("unlink_255", unlink(name));
	name[257] = 'n';
	name[258] = 0;
	EXPECT_ERRNO("name_256_too_long", open(name, O_CREAT | O_WRONLY, 0644), ENAMETOOLONG);
	EXPECT_ERRNO("colon_einval", open("m/a:b", O_CREAT | O_WRONLY, 0644), EINVAL);
}

static void dir_checks(void)
{
	struct stat st, root;
	REQUIRE_VOID(stat("m", &root) == 0);
	EXPECT_OK("mkdir", mkdir("m/Dir", 0755));
	CHECK("root_nlink_counts_subdirs", stat("m", &st) == 0 && st.st_nlink == root.st_nlink + 1,
	      "nlink %lu then %lu", (unsigned long)root.st_nlink, (unsigned long)st.st_nlink);
	CHECK("dir_mode", stat("m/dir", &st) == 0 && st.st_mode == (S_IFDIR | 0755), "mode %o",
	      st.st_mode);
	REQUIRE_VOID(write_pattern("m/Dir/a", 10) == 0);
	EXPECT_ERRNO("rmdir_not_empty", rmdir("m/DIR"), ENOTEMPTY);
	EXPECT_ERRNO("unlink_dir_eisdir", unlink("m/dir"), EISDIR);
	EXPECT_OK("unlink_other_case", unlink("m/dir/A"));
	EXPECT_ERRNO("unlinked_gone", access("m/Dir/a", F_OK), ENOENT);
	EXPECT_OK("rmdir", rmdir("m/DIR"));
	EXPECT_ERRNO("rmdir_gone", access("m/dir", F_OK), ENOENT);
	CHECK("root_nlink_back", stat("m", &st) == 0 && st.st_nlink == root.st_nlink, "nlink %lu",
	      (unsigned long)st.st_nlink);

	REQUIRE_VOID(mkdir("m/Dir2", 0755) == 0);
	EXPECT_OK("rename_across_dirs", rename("m/hello world.txt", "m/Dir2/moved"));
	CHECK("renamed_content", check_pattern("m/dir2/MOVED", 70000), "content differs");
	EXPECT_ERRNO("renamed_away", access("m/Hello World.TXT", F_OK), ENOENT);
	/* The new name finds the same file: rename(2) does nothing (vfs_rename). */
	EXPECT_OK("rename_case", rename("m/Dir2/moved", "m/Dir2/MOVED"));
	CHECK("rename_case_noop", listed("m/Dir2", "moved") && !listed("m/Dir2", "MOVED"),
	      "listing");
	REQUIRE_VOID(mkdir("m/Dir2/sub", 0755) == 0);
	EXPECT_OK("rename_dir", rename("m/Dir2/sub", "m/Sub"));
	CHECK("renamed_dir_dotdot", stat("m/Sub/..", &st) == 0 && stat("m", &root) == 0 &&
					    st.st_ino == root.st_ino,
	      "'..' of the moved directory");
	REQUIRE_VOID(write_pattern("m/Sub/victim", 100) == 0);
	REQUIRE_VOID(write_pattern("m/Sub/other", 200) == 0);
	EXPECT_OK("rename_replaces", rename("m/Sub/other", "m/Sub/VICTIM"));
	CHECK("replaced_content", check_pattern("m/Sub/victim", 200) && !listed("m/Sub", "other"),
	      "content or listing");
}

static void data_checks(void)
{
	struct stat st;
	REQUIRE_VOID(write_pattern("m/data", 3000) == 0);
	EXPECT_OK("truncate_up", truncate("m/data", 9000));
	unsigned char buf[9000];
	int fd = open("m/data", O_RDWR);
	REQUIRE_VOID(fd >= 0);
	int zeros = pread(fd, buf, sizeof(buf), 0) == 9000;
	for (int i = 3000; i < 9000 && zeros; i++)
		zeros = buf[i] == 0;
	CHECK("truncate_up_zeros", zeros && buf[2999] == pat(2999), "bytes after the old end");
	EXPECT_OK("truncate_down", ftruncate(fd, 100));
	CHECK("truncate_down_size", fstat(fd, &st) == 0 && st.st_size == 100, "size %lld",
	      (long long)st.st_size);
	CHECK("pwrite_past_end", pwrite(fd, "xy", 2, 20000) == 2, "pwrite: %s", errno_name(errno));
	zeros = pread(fd, buf, 100, 19900) == 100;
	for (int i = 0; i < 100 && zeros; i++)
		zeros = buf[i] == 0;
	CHECK("gap_reads_zeros", zeros, "gap not zero");
	CHECK("gap_size", fstat(fd, &st) == 0 && st.st_size == 20002, "size %lld",
	      (long long)st.st_size);
	close(fd);

	struct timespec ts[2] = { { 1700000001, 0 }, { 1700000001, 0 } };
	EXPECT_OK("utimensat", utimensat(AT_FDCWD, "m/data", ts, 0));
	CHECK("mtime_two_seconds", stat("m/data", &st) == 0 && st.st_mtime == 1700000000,
	      "mtime %lld", (long long)st.st_mtime);
}

static void attr_checks(void)
{
	struct stat st;
	char out[256];
	REQUIRE_VOID(write_pattern("m/f", 5) == 0);
	CHECK("new_file_archive", get_attrs("m/f") == ATTR_ARCH, "attrs %#lx", get_attrs("m/f"));
	CHECK("file_mode", stat("m/f", &st) == 0 && st.st_mode == (S_IFREG | 0755), "mode %o",
	      st.st_mode);
	EXPECT_OK("set_hidden_system", set_attrs("m/f", ATTR_HIDDEN | ATTR_SYS | ATTR_ARCH));
	CHECK("get_hidden_system", get_attrs("m/f") == (ATTR_HIDDEN | ATTR_SYS | ATTR_ARCH),
	      "attrs %#lx", get_attrs("m/f"));
	EXPECT_OK("set_dir_volume_ignored", set_attrs("m/f", ATTR_DIR | ATTR_VOLUME | ATTR_ARCH));
	CHECK("dir_volume_unchanged", get_attrs("m/f") == ATTR_ARCH, "attrs %#lx",
	      get_attrs("m/f"));
	EXPECT_OK("set_read_only", set_attrs("m/f", ATTR_RO));
	CHECK("read_only_mode", stat("m/f", &st) == 0 && st.st_mode == (S_IFREG | 0555), "mode %o",
	      st.st_mode);
	EXPECT_OK("chmod_writable", chmod("m/f", 0755));
	CHECK("chmod_clears_ro", get_attrs("m/f") == 0, "attrs %#lx", get_attrs("m/f"));
	EXPECT_OK("chmod_read_only", chmod("m/f", 0555));
	CHECK("chmod_sets_ro", get_attrs("m/f") == ATTR_RO, "attrs %#lx", get_attrs("m/f"));
	/* Linux ignores a mode FAT cannot hold ("too old behavior" to change). */
	EXPECT_OK("chmod_partial_ignored", chmod("m/f", 0700));
	CHECK("chmod_partial_unchanged", stat("m/f", &st) == 0 && st.st_mode == (S_IFREG | 0555),
	      "mode %o", st.st_mode);
	EXPECT_ERRNO("chmod_setuid_eperm", chmod("m/f", 04755), EPERM);
	EXPECT_ERRNO("chown_other_eperm", chown("m/f", 1000, 1000), EPERM);
	EXPECT_OK("chmod_back", chmod("m/f", 0755));
	CHECK("dir_attrs", get_attrs("m/Dir2") == ATTR_DIR, "attrs %#lx", get_attrs("m/Dir2"));
	EXPECT_ERRNO("root_attrs_einval", set_attrs("m", ATTR_HIDDEN), EINVAL);
	int fd = open("m/f", O_RDONLY);
	CHECK("non_owner_eperm", as_nobody(set_attrs_eperm, fd) == 0, "not EPERM");
	close(fd);
	int rc = run_sh("fatattr +hs m/f && fatattr m/f", out, sizeof(out));
	CHECK("fatattr_applet", rc == 0 && strstr(out, "h") && strstr(out, "s") && strstr(out, "m/f"),
	      "rc %d: %s", rc, out);
}

static long free_blocks(void)
{
	struct statfs s;
	return statfs("m", &s) == 0 ? (long)s.f_bfree : -1;
}

static void space_checks(void)
{
	struct statfs s;
	REQUIRE_VOID(statfs("m", &s) == 0);
	CHECK("statfs_type", s.f_type == MSDOS_SUPER_MAGIC, "f_type %#lx", (long)s.f_type);
	CHECK("statfs_namelen", s.f_namelen == 1530, "f_namelen %ld", (long)s.f_namelen);
	CHECK("statfs_counts", s.f_bfree > 0 && s.f_bfree <= s.f_blocks && s.f_bavail == s.f_bfree,
	      "blocks %ld free %ld avail %ld", (long)s.f_blocks, (long)s.f_bfree, (long)s.f_bavail);

	sync();
	long before = free_blocks();
	REQUIRE_VOID(write_pattern("m/open-unlinked", 50000) == 0);
	int fd = open("m/open-unlinked", O_RDONLY);
	REQUIRE_VOID(fd >= 0);
	EXPECT_OK("unlink_open", unlink("m/open-unlinked"));
	unsigned char buf[100];
	CHECK("unlinked_still_reads", pread(fd, buf, 100, 40000) == 100 && buf[7] == pat(40007),
	      "read after unlink");
	close(fd);
	CHECK("unlinked_clusters_back", free_blocks() == before, "free %ld, was %ld", free_blocks(),
	      before);

	fd = open("m/fill", O_WRONLY | O_CREAT, 0644);
	static char chunk[65536];
	ssize_t n;
	while ((n = write(fd, chunk, sizeof(chunk))) > 0)
		;
	CHECK("full_enospc", n == -1 && errno == ENOSPC, "write returned %zd, %s", n,
	      errno_name(errno));
	/* Linux gives back what a page could not use: less than a page is left. */
	CHECK("full_nearly_no_free", free_blocks() >= 0 && free_blocks() * (long)s.f_bsize < 4096,
	      "free %ld", free_blocks());
	close(fd);
	EXPECT_OK("unlink_fill", unlink("m/fill"));
	CHECK("fill_clusters_back", free_blocks() == before, "free %ld", free_blocks());
}

static void remount_checks(int loop)
{
	struct stat st;
	EXPECT_OK("umount", umount("m"));
	EXPECT_OK("remount", mount(LOOPDEV, "m", "vfat", 0, OPTS));
	(void)loop;
	CHECK("persist_content", check_pattern("m/Dir2/MOVED", 70000), "content differs");
	CHECK("persist_name_case", listed("m/Dir2", "moved"), "listing");
	CHECK("persist_attrs", get_attrs("m/f") == (ATTR_HIDDEN | ATTR_SYS),
	      "attrs %#lx", get_attrs("m/f"));
	CHECK("persist_mtime", stat("m/data", &st) == 0 && st.st_mtime == 1700000000 &&
				       st.st_size == 20002,
	      "mtime %lld size %lld", (long long)st.st_mtime, (long long)st.st_size);
	CHECK("persist_gone", access("m/Dir", F_OK) == -1 && access("m/Sub/other", F_OK) == -1,
	      "removed names are back");
	EXPECT_OK("remount_ro", mount(LOOPDEV, "m", NULL, MS_REMOUNT | MS_RDONLY, OPTS));
	EXPECT_ERRNO("ro_create_erofs", open("m/new", O_CREAT | O_WRONLY, 0644), EROFS);
	CHECK("ro_reads", check_pattern("m/Dir2/MOVED", 70000), "content differs");
	EXPECT_OK("remount_rw", mount(LOOPDEV, "m", NULL, MS_REMOUNT, OPTS));
	EXPECT_OK("rw_create", write_pattern("m/new", 10));
	EXPECT_OK("umount_again", umount("m"));
}

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	unlink("loop-control");
	REQUIRE(mknod("loop-control", S_IFCHR | 0600, makedev(10, 237)) == 0);
	ctl = open("loop-control", O_RDWR);
	REQUIRE(ctl >= 0);
	mount_checks();
	int loop = attach("fat.img", "loopdev");
	REQUIRE(loop >= 0);
	EXPECT_ERRNO("mount_bad_option", mount(LOOPDEV, "m", "vfat", 0, OPTS ",bogus"), EINVAL);
	REQUIRE(mount(LOOPDEV, "m", "vfat", 0, OPTS) == 0);
	options_checks();
	name_checks();
	dir_checks();
	data_checks();
	attr_checks();
	space_checks();
	remount_checks(loop);
	ioctl(loop, LOOP_CLR_FD, 0);
	close(loop);
	close(ctl);
	unlink("loopdev");
	unlink("loop-control");
	unlink("fat.img");
	rmdir("m");
	return test_done();
}
