/*
 * sysfs: mount -t sysfs and what busybox mdev and the usual tools read.
 * The scratch disk (xtask/src/systest/scratch.rs: vda of 8192 sectors,
 * vda1 at 2048 of 2048 sectors, vda2 at 4096 of 4096) in /sys/block,
 * /sys/class/block and /sys/dev/block; the memory and tty devices in
 * /sys/class and /sys/dev/char with their uevent; the PCI functions in
 * /sys/bus/pci/devices (the q35 host bridge, the virtio disk) with their
 * attributes and config space; /sys/kernel/mm/transparent_hugepage; the
 * errors of writing where nothing may be written; statfs and /proc/mounts.
 * Linux: fs/sysfs, fs/kernfs, block/genhd.c, block/partitions/core.c,
 * drivers/base/core.c, drivers/pci/pci-sysfs.c.
 */
#include <dirent.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "test.h"

#define SYS "/tmp/sysfs/sys"
#define SYSFS_MAGIC 0x62656572

static char text[8192];

/* The contents of `path`, NUL-terminated, or "" if it cannot be read. */
static const char *cat(const char *path)
{
	text[0] = 0;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return text;
	ssize_t n = read(fd, text, sizeof(text) - 1);
	text[n > 0 ? n : 0] = 0;
	close(fd);
	return text;
}

/* Checks that `path` reads exactly `want`. */
static void expect_text(const char *check, const char *path, const char *want)
{
	const char *got = cat(path);
	CHECK(check, strcmp(got, want) == 0, "%s is \"%s\", expected \"%s\"", path, got, want);
}

static void block(void)
{
	struct stat st;
	CHECK("block_vda_is_link", lstat(SYS "/block/vda", &st) == 0 && S_ISLNK(st.st_mode),
	      "/sys/block/vda is not a symlink");
	char target[256] = "";
	ssize_t n = readlink(SYS "/block/vda", target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = 0;
	CHECK("block_link_target", n > 0 && strncmp(target, "../devices/", 11) == 0 &&
	      strstr(target, "/block/vda") != NULL, "target %s", target);
	expect_text("vda_size", SYS "/block/vda/size", "8192\n");
	expect_text("vda_ro", SYS "/block/vda/ro", "0\n");
	expect_text("vda_removable", SYS "/block/vda/removable", "0\n");
	expect_text("vda_logical_block_size", SYS "/block/vda/queue/logical_block_size", "512\n");
	expect_text("vda1_start", SYS "/block/vda/vda1/start", "2048\n");
	expect_text("vda1_size", SYS "/block/vda/vda1/size", "2048\n");
	expect_text("vda1_partition", SYS "/block/vda/vda1/partition", "1\n");
	expect_text("vda2_start", SYS "/block/vda/vda2/start", "4096\n");
	unsigned long long f[17];
	int fields = sscanf(cat(SYS "/block/vda/stat"),
			    "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
			    &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8], &f[9], &f[10],
			    &f[11], &f[12], &f[13], &f[14], &f[15], &f[16]);
	CHECK("vda_stat_fields", fields == 17, "%d fields in stat", fields);

	unsigned major, minor;
	char dev[32], path[128];
	REQUIRE_VOID(sscanf(cat(SYS "/block/vda/dev"), "%u:%u", &major, &minor) == 2);
	snprintf(dev, sizeof(dev), "%u:%u\n", major, minor + 1);
	expect_text("class_block_vda1_dev", SYS "/class/block/vda1/dev", dev);
	snprintf(path, sizeof(path), SYS "/dev/block/%u:%u/size", major, minor);
	expect_text("dev_block_link", path, "8192\n");
	snprintf(path, sizeof(path), SYS "/dev/block/%u:%u/uevent", major, minor + 1);
	const char *uevent = cat(path);
	CHECK("vda1_uevent", strstr(uevent, "\nDEVNAME=vda1\n") && strstr(uevent, "DEVTYPE=partition\n"),
	      "uevent is %s", uevent);
}

static void char_devices(void)
{
	expect_text("class_mem_null", SYS "/class/mem/null/dev", "1:3\n");
	expect_text("class_mem_zero", SYS "/class/mem/zero/dev", "1:5\n");
	expect_text("class_tty_ttyS0", SYS "/class/tty/ttyS0/dev", "4:64\n");
	expect_text("class_tty_console", SYS "/class/tty/console/dev", "5:1\n");
	const char *uevent = cat(SYS "/dev/char/1:3/uevent");
	CHECK("dev_char_uevent", strncmp(uevent, "MAJOR=1\nMINOR=3\nDEVNAME=null\n", 29) == 0,
	      "uevent is %s", uevent);
}

/* Whether the PCI function directory `dir` has `vendor`/`class` (prefix). */
static int pci_is(const char *dir, const char *vendor, const char *class_prefix)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/vendor", dir);
	if (strcmp(cat(path), vendor) != 0)
		return 0;
	snprintf(path, sizeof(path), "%s/class", dir);
	return strncmp(cat(path), class_prefix, strlen(class_prefix)) == 0;
}

static void pci_function(const char *dir)
{
	char path[400];
	unsigned vendor = 0, device = 0;
	snprintf(path, sizeof(path), "%s/vendor", dir);
	sscanf(cat(path), "%x", &vendor);
	snprintf(path, sizeof(path), "%s/device", dir);
	sscanf(cat(path), "%x", &device);
	snprintf(path, sizeof(path), "%s/subsystem_vendor", dir);
	expect_text("virtio_subsystem_vendor", path, "0x1af4\n");
	snprintf(path, sizeof(path), "%s/irq", dir);
	unsigned irq;
	CHECK("pci_irq", sscanf(cat(path), "%u", &irq) == 1, "irq is %s", text);
	snprintf(path, sizeof(path), "%s/resource", dir);
	cat(path);
	int lines = 0, good = 1;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), lines++) {
		unsigned long long start, end, flags;
		good = good && strlen(line) == 56 && sscanf(line, "0x%llx 0x%llx 0x%llx", &start, &end, &flags) == 3;
	}
	CHECK("pci_resource_format", good && lines >= 7, "%d lines", lines);
	snprintf(path, sizeof(path), "%s/config", dir);
	struct stat st;
	CHECK("pci_config_size", stat(path, &st) == 0 && st.st_size >= 256, "size %lld",
	      (long long)st.st_size);
	unsigned char cfg[64];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, cfg, sizeof(cfg)) : -1;
	CHECK("pci_config_ids", n == 64 && cfg[0] == (vendor & 0xff) && cfg[1] == vendor >> 8 &&
	      cfg[2] == (device & 0xff) && cfg[3] == device >> 8, "read %zd bytes", n);
	if (fd >= 0)
		close(fd);
}

static void pci(void)
{
	DIR *d = opendir(SYS "/bus/pci/devices");
	REQUIRE_VOID(d != NULL);
	int host_bridge = 0, virtio = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char dir[300];
		snprintf(dir, sizeof(dir), SYS "/bus/pci/devices/%s", e->d_name);
		if (strcmp(e->d_name, "0000:00:00.0") == 0)
			host_bridge = pci_is(dir, "0x8086\n", "0x0600");
		if (!virtio && pci_is(dir, "0x1af4\n", "0x0100")) {
			virtio = 1;
			pci_function(dir);
		}
	}
	closedir(d);
	CHECK("pci_host_bridge", host_bridge, "no Intel host bridge at 0000:00:00.0");
	CHECK("pci_virtio_disk", virtio, "no virtio storage function");
}

static void kernel_and_errors(void)
{
	const char *thp = cat(SYS "/kernel/mm/transparent_hugepage/enabled");
	int one = !!strstr(thp, "[always]") + !!strstr(thp, "[madvise]") + !!strstr(thp, "[never]");
	int all = strstr(thp, "always") && strstr(thp, "madvise") && strstr(thp, "never");
	CHECK("thp_enabled", all && one == 1, "enabled is %s", thp);
	struct stat st;
	CHECK("sys_fs_dir", stat(SYS "/fs", &st) == 0 && S_ISDIR(st.st_mode), "no /sys/fs");
	CHECK("attr_mode", stat(SYS "/block/vda/size", &st) == 0 && (st.st_mode & 0777) == 0444,
	      "mode %o", st.st_mode);
	EXPECT_ERRNO("write_ro_attr", open(SYS "/block/vda/size", O_WRONLY), EACCES);
	EXPECT_ERRNO("mkdir_in_sysfs", mkdir(SYS "/block/new", 0755), EPERM);
	EXPECT_ERRNO("missing_entry", open(SYS "/block/nosuchdisk", O_RDONLY), ENOENT);
	struct statfs sfs;
	CHECK("statfs_magic", statfs(SYS, &sfs) == 0 && sfs.f_type == SYSFS_MAGIC, "f_type %lx",
	      (unsigned long)sfs.f_type);
}

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	mkdir("sys", 0755);
	mkdir("proc", 0555);
	EXPECT_OK("mount_sysfs", mount("sysfs", SYS, "sysfs", 0, NULL));
	REQUIRE(mount("proc", "proc", "proc", 0, NULL) == 0);
	const char *mounts = cat("proc/mounts");
	CHECK("proc_mounts_line", strstr(mounts, "sysfs " SYS " sysfs rw,relatime 0 0\n"),
	      "no sysfs line in /proc/mounts");
	umount("proc");
	block();
	char_devices();
	pci();
	kernel_and_errors();
	EXPECT_OK("umount_sysfs", umount(SYS));
	return test_done();
}
