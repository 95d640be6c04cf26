/*
 * blockdev: the scratch disk xtask attaches to every system-test boot
 * (xtask/src/systest/scratch.rs: 4 MiB, a DOS table with vda1 = sectors
 * 2048..4096 and vda2 = 4096..8192, "ferrite-systest vdaN\n" at the start
 * of each, sector s elsewhere filled with s % 251) read and written as
 * block-device files: /proc/partitions lists the disk and its partitions,
 * the nodes made from its numbers open, BLKGETSIZE64 and friends, sector 0
 * holds the table, reads and writes at any offset and length, lseek to the
 * end, reads at the end are empty, writes there ENOSPC, unknown ioctls
 * ENOTTY, BLKRRPART's rules, and /proc/diskstats counts what was done.
 * Linux: block/fops.c, block/ioctl.c, block/genhd.c (show_partition,
 * diskstats_show), block/partitions/msdos.c.
 */
#include "test.h"
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>

/* include/uapi/linux/fs.h; musl's sys/mount.h has some of them. */
#ifndef BLKPBSZGET
#define BLKPBSZGET _IO(0x12, 123)
#endif

#define DISK_BYTES (8192LL * 512)
/* Where the test mounts proc for a while (the init mounts nothing). */
#define PROC_DIR "/tmp/blockdev/proc"

struct part {
	const char *name;
	unsigned major, minor;
	unsigned long long blocks;
	int found;
};

static struct part parts[] = {
	{ "vda", 0, 0, 4096, 0 },
	{ "vda1", 0, 0, 1024, 0 },
	{ "vda2", 0, 0, 2048, 0 },
};

/* Reads /proc/partitions into `parts`; checks its header. */
static void read_partitions(void)
{
	FILE *f = fopen(PROC_DIR "/partitions", "r");
	REQUIRE_VOID(f != NULL);
	char line[256];
	int header = fgets(line, sizeof(line), f) && strcmp(line, "major minor  #blocks  name\n") == 0;
	header = header && fgets(line, sizeof(line), f) && strcmp(line, "\n") == 0;
	CHECK("proc_partitions_header", header, "header is %s", line);
	while (fgets(line, sizeof(line), f)) {
		unsigned major, minor;
		unsigned long long blocks;
		char name[64];
		if (sscanf(line, "%u %u %llu %63s", &major, &minor, &blocks, name) != 4)
			continue;
		for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
			if (strcmp(name, parts[i].name) == 0) {
				parts[i].major = major;
				parts[i].minor = minor;
				parts[i].found = parts[i].blocks == blocks;
			}
		}
	}
	fclose(f);
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		char check[64];
		snprintf(check, sizeof(check), "proc_partitions_%s", parts[i].name);
		CHECK(check, parts[i].found, "%s missing or not %llu blocks", parts[i].name,
		      parts[i].blocks);
	}
	CHECK("partition_minors", parts[1].minor == parts[0].minor + 1 &&
	      parts[2].minor == parts[0].minor + 2 && parts[1].major == parts[0].major,
	      "vda %u:%u vda1 %u:%u", parts[0].major, parts[0].minor, parts[1].major, parts[1].minor);
}

/* mknod ./NAME for each partition; opens it read-write. */
static int open_node(const struct part *p)
{
	unlink(p->name);
	if (mknod(p->name, S_IFBLK | 0600, makedev(p->major, p->minor)) != 0)
		return -1;
	return open(p->name, O_RDWR);
}

static void check_ioctls(int vda, int vda1)
{
	unsigned long long size = 0;
	CHECK("blkgetsize64", ioctl(vda, BLKGETSIZE64, &size) == 0 && size == DISK_BYTES,
	      "size %llu", size);
	CHECK("blkgetsize64_partition", ioctl(vda1, BLKGETSIZE64, &size) == 0 &&
	      size == 2048 * 512, "size %llu", size);
	unsigned long sectors = 0;
	CHECK("blkgetsize", ioctl(vda, BLKGETSIZE, &sectors) == 0 && sectors == 8192,
	      "sectors %lu", sectors);
	int ssz = 0, ro = -1;
	unsigned pbsz = 0;
	CHECK("blksszget", ioctl(vda, BLKSSZGET, &ssz) == 0 && ssz == 512, "%d", ssz);
	CHECK("blkpbszget", ioctl(vda, BLKPBSZGET, &pbsz) == 0 && pbsz == 512, "%u", pbsz);
	CHECK("blkroget", ioctl(vda, BLKROGET, &ro) == 0 && ro == 0, "%d", ro);
	EXPECT_OK("blkflsbuf", ioctl(vda, BLKFLSBUF, 0));
	EXPECT_ERRNO("unknown_ioctl_enotty", ioctl(vda, _IO(0x12, 250), 0), ENOTTY);
	struct stat st;
	CHECK("stat_is_blk", fstat(vda1, &st) == 0 && S_ISBLK(st.st_mode) &&
	      st.st_rdev == makedev(parts[1].major, parts[1].minor), "mode %o", st.st_mode);
}

static void check_contents(int vda, int vda1)
{
	unsigned char sector[512];
	CHECK("read_mbr", pread(vda, sector, 512, 0) == 512 && sector[510] == 0x55 &&
	      sector[511] == 0xaa && sector[446 + 4] == 0x83 && sector[446 + 8] == 0x00 &&
	      sector[446 + 9] == 0x08 && sector[446 + 16 + 9] == 0x10, "not the table xtask wrote");
	char mark[32] = "";
	CHECK("vda1_starts_at_its_partition", read(vda1, mark, 21) == 21 &&
	      memcmp(mark, "ferrite-systest vda1\n", 21) == 0, "read %.21s", mark);
	/* Disk sectors 2999 and 3000 (filled with s % 251) meet at vda1 byte 952 * 512. */
	unsigned char odd[7];
	CHECK("unaligned_read", pread(vda1, odd, 7, 951 * 512 + 509) == 7 &&
	      odd[0] == 2999 % 251 && odd[2] == 2999 % 251 && odd[3] == 3000 % 251 &&
	      odd[6] == 3000 % 251, "bytes %u %u %u", odd[0], odd[3], odd[6]);
}

static void check_write(int vda, int vda1)
{
	/* 1000 bytes at an odd offset, across two sector boundaries of vda1. */
	char out[1000], in[1002];
	for (int i = 0; i < 1000; i++)
		out[i] = (char)('a' + i % 26);
	off_t at = 100 * 512 + 333;
	CHECK("write_odd_offset", pwrite(vda1, out, 1000, at) == 1000, "short write");
	EXPECT_OK("fsync", fsync(vda1));
	/* Read back through the whole disk, a byte either side included. */
	off_t disk_at = 2048 * 512 + at - 1;
	CHECK("read_back_through_disk", pread(vda, in, 1002, disk_at) == 1002 &&
	      memcmp(in + 1, out, 1000) == 0 && (unsigned char)in[0] == 2148 % 251 &&
	      (unsigned char)in[1001] == 2150 % 251, "differs");
}

static void check_end(int vda, int vda1)
{
	char buf[1024];
	CHECK("seek_end_is_size", lseek(vda, 0, SEEK_END) == DISK_BYTES, "%lld",
	      (long long)lseek(vda, 0, SEEK_END));
	CHECK("read_at_end_is_zero", read(vda, buf, sizeof(buf)) == 0, "not 0");
	CHECK("seek_end_partition", lseek(vda1, -10, SEEK_END) == 2048 * 512 - 10, "wrong");
	CHECK("read_cut_at_end", read(vda1, buf, sizeof(buf)) == 10, "not 10");
	EXPECT_ERRNO("write_at_end_enospc", pwrite(vda1, buf, 512, 2048 * 512), ENOSPC);
	CHECK("read_past_end_is_zero", pread(vda1, buf, 512, 4096 * 512) == 0, "not 0");
}

/*
 * Four processes write and read back 128 KiB each in their own quarter of
 * vda2 at once: several requests in flight from several submitters.
 */
static void check_concurrent(const struct part *vda2)
{
	pid_t pids[4];
	for (int i = 0; i < 4; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			static char out[128 * 1024], in[128 * 1024];
			int fd = open(vda2->name, O_RDWR);
			memset(out, 'A' + i, sizeof(out));
			off_t at = (off_t)i * 512 * 1024 + 4096;
			int ok = fd >= 0 && pwrite(fd, out, sizeof(out), at) == (ssize_t)sizeof(out) &&
				 pread(fd, in, sizeof(in), at) == (ssize_t)sizeof(in) &&
				 memcmp(in, out, sizeof(in)) == 0;
			_exit(ok ? 0 : 1);
		}
	}
	int all = 1;
	for (int i = 0; i < 4; i++)
		all = all && pids[i] > 0 && wait_status(pids[i]) == 0;
	CHECK("concurrent_writers", all, "a child's data did not come back");
}

/* /proc/diskstats: Linux's 20 fields for vda, with the reads and writes done. */
static void check_diskstats(void)
{
	FILE *f = fopen(PROC_DIR "/diskstats", "r");
	REQUIRE_VOID(f != NULL);
	char line[512];
	int fields = 0;
	unsigned long long reads = 0, writes = 0;
	while (fgets(line, sizeof(line), f)) {
		char name[64];
		unsigned long long v[17];
		int n = sscanf(line, "%*u %*u %63s %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu "
				     "%llu %llu %llu %llu %llu %llu",
			       name, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9],
			       &v[10], &v[11], &v[12], &v[13], &v[14], &v[15], &v[16]);
		if (n >= 1 && strcmp(name, "vda") == 0) {
			fields = n + 2;
			reads = v[0];
			writes = v[4];
		}
	}
	fclose(f);
	CHECK("diskstats_fields", fields == 20, "%d fields for vda", fields);
	CHECK("diskstats_counts", reads > 0 && writes > 0, "reads %llu writes %llu", reads, writes);
}

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	mkdir(PROC_DIR, 0555);
	REQUIRE(mount("proc", PROC_DIR, "proc", 0, NULL) == 0);
	read_partitions();
	CHECK("umount_proc", umount(PROC_DIR) == 0, "umount: %s", errno_name(errno));
	REQUIRE(parts[0].found && parts[1].found);
	int vda = open_node(&parts[0]);
	int vda1 = open_node(&parts[1]);
	REQUIRE(vda >= 0 && vda1 >= 0);
	check_ioctls(vda, vda1);
	check_contents(vda, vda1);
	check_write(vda, vda1);
	check_end(vda, vda1);
	int direct = open(parts[0].name, O_RDONLY | O_DIRECT);
	CHECK("o_direct_accepted", direct >= 0, "open failed: %s", errno_name(errno));
	close(direct);
	/* Re-reading the table: not on a partition, not while one is open. */
	EXPECT_ERRNO("blkrrpart_partition_einval", ioctl(vda1, BLKRRPART, 0), EINVAL);
	EXPECT_ERRNO("blkrrpart_busy_ebusy", ioctl(vda, BLKRRPART, 0), EBUSY);
	close(vda1);
	EXPECT_OK("blkrrpart", ioctl(vda, BLKRRPART, 0));
	vda1 = open(parts[1].name, O_RDONLY);
	char mark[21] = "";
	CHECK("vda1_after_blkrrpart", vda1 >= 0 && read(vda1, mark, 21) == 21 &&
	      memcmp(mark, "ferrite-systest vda1\n", 21) == 0, "read %.21s", mark);
	close(vda1);
	close(vda);
	struct part *vda2 = &parts[2];
	unlink(vda2->name);
	if (mknod(vda2->name, S_IFBLK | 0600, makedev(vda2->major, vda2->minor)) == 0)
		check_concurrent(vda2);
	else
		fail("concurrent_writers", "mknod vda2: %s", errno_name(errno));
	if (mount("proc", PROC_DIR, "proc", 0, NULL) == 0) {
		check_diskstats();
		CHECK("umount_proc_again", umount(PROC_DIR) == 0, "umount: %s", errno_name(errno));
	}
	return test_done();
}
