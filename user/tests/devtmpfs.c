/*
 * devtmpfs: mount -t devtmpfs shows a node for each device with Linux's
 * numbers and modes (null, zero and tty 0666, console 0600, the scratch
 * disk vda and its partitions as 0600 block devices), the nodes open and
 * work, every mount shows the same instance, and what user space adds
 * stays in it. Linux: drivers/base/devtmpfs.c, drivers/char/mem.c
 * (mem_devnode), drivers/tty/tty_io.c (tty_devnode).
 */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "test.h"

#define DEV "/tmp/devtmpfs/dev"

/* Checks that `name` in the devtmpfs is of `type`, `perm` and major:minor. */
static void expect_node(const char *name, mode_t type, mode_t perm, unsigned major, unsigned minor)
{
	char path[128], check[64];
	snprintf(path, sizeof(path), DEV "/%s", name);
	snprintf(check, sizeof(check), "node_%s", name);
	struct stat st;
	if (stat(path, &st) != 0) {
		fail(check, "stat %s: %s", path, errno_name(errno));
		return;
	}
	CHECK(check, (st.st_mode & S_IFMT) == type && (st.st_mode & 07777) == perm &&
	      major(st.st_rdev) == major && minor(st.st_rdev) == minor && st.st_uid == 0,
	      "mode %o rdev %u:%u uid %u", st.st_mode, major(st.st_rdev), minor(st.st_rdev),
	      st.st_uid);
}

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	mkdir("dev", 0755);
	mkdir("again", 0755);
	mkdir("proc", 0555);
	EXPECT_OK("mount_devtmpfs", mount("devtmpfs", DEV, "devtmpfs", 0, NULL));
	struct stat st;
	CHECK("root_mode", stat(DEV, &st) == 0 && (st.st_mode & 07777) == 0755, "mode %o", st.st_mode);
	expect_node("null", S_IFCHR, 0666, 1, 3);
	expect_node("zero", S_IFCHR, 0666, 1, 5);
	expect_node("urandom", S_IFCHR, 0666, 1, 9);
	expect_node("tty", S_IFCHR, 0666, 5, 0);
	expect_node("console", S_IFCHR, 0600, 5, 1);
	expect_node("ttyS0", S_IFCHR, 0600, 4, 64);
	REQUIRE(stat(DEV "/vda", &st) == 0);
	expect_node("vda", S_IFBLK, 0600, major(st.st_rdev), minor(st.st_rdev));
	expect_node("vda1", S_IFBLK, 0600, major(st.st_rdev), minor(st.st_rdev) + 1);

	int fd = open(DEV "/zero", O_RDONLY);
	char buf[16] = "x";
	CHECK("zero_reads_zeros", fd >= 0 && read(fd, buf, sizeof(buf)) == sizeof(buf) && buf[0] == 0,
	      "read /dev/zero: %s", errno_name(errno));
	close(fd);
	fd = open(DEV "/vda", O_RDONLY);
	char sector[512];
	CHECK("disk_opens", fd >= 0 && read(fd, sector, sizeof(sector)) == sizeof(sector) &&
	      (unsigned char)sector[510] == 0x55 && (unsigned char)sector[511] == 0xaa,
	      "read the partition table: %s", errno_name(errno));
	close(fd);

	fd = open(DEV "/made-here", O_WRONLY | O_CREAT, 0644);
	CHECK("user_file", fd >= 0, "create: %s", errno_name(errno));
	close(fd);
	EXPECT_OK("mount_again", mount("devtmpfs", "again", "devtmpfs", 0, NULL));
	CHECK("one_instance", access("again/made-here", F_OK) == 0, "the second mount differs");
	EXPECT_OK("unlink_user_file", unlink("again/made-here"));
	EXPECT_OK("umount_again", umount("again"));

	REQUIRE(mount("proc", "proc", "proc", 0, NULL) == 0);
	char mounts[8192];
	fd = open("proc/mounts", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, mounts, sizeof(mounts) - 1) : -1;
	mounts[n > 0 ? n : 0] = 0;
	close(fd);
	CHECK("proc_mounts_line", strstr(mounts, "devtmpfs " DEV " devtmpfs rw,relatime"),
	      "no devtmpfs line in /proc/mounts");
	umount("proc");
	EXPECT_OK("umount_devtmpfs", umount(DEV));
	return test_done();
}
