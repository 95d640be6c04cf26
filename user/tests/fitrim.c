/*
 * fitrim: FITRIM (fstrim) on an ext2 made on the scratch disk's vda2,
 * which takes discards: root only, EFAULT for a bad pointer, ext4's
 * EINVAL checks of the range, every free byte trimmed the first time and
 * none the second, the freed blocks of a deleted file trimmed again, on
 * the mount point and on a file alike, and a read-only mount trimmed too;
 * tmpfs has no FITRIM (ENOTTY). vda2 is put back as it was at the end.
 * Linux: fs/ext4/ioctl.c (FITRIM), fs/ext4/mballoc.c (ext4_trim_fs), the
 * driver Debian mounts ext2 with.
 */
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/statfs.h>

#include "test.h"

/* include/uapi/linux/fs.h */
struct fstrim_range {
	unsigned long long start, len, minlen;
};
#ifndef FITRIM
#define FITRIM _IOWR('X', 121, struct fstrim_range)
#endif

#define DISK "dev/vda2"
#define DISK_BYTES (4096L * 512)

/* FITRIM of [start, start + len) on `fd`; the bytes trimmed or -1. */
static long long fitrim(int fd, unsigned long long start, unsigned long long len,
			unsigned long long minlen)
{
	struct fstrim_range r = { start, len, minlen };
	if (ioctl(fd, FITRIM, &r) != 0)
		return -1;
	return (long long)r.len;
}

static long long free_bytes(void)
{
	struct statfs st;
	return statfs("m", &st) == 0 ? (long long)(st.f_bfree * st.f_bsize) : -1LL;
}

static int trim_as_nobody(int unused)
{
	(void)unused;
	int fd = open("m", O_RDONLY);
	return fd >= 0 && fitrim(fd, 0, ~0ULL, 0) == -1 && errno == EPERM ? 0 : 1;
}

static void check_errors(int fd)
{
	struct fstrim_range r = { 0, 512, 0 };
	EXPECT_ERRNO("len_under_a_block", ioctl(fd, FITRIM, &r), EINVAL);
	r = (struct fstrim_range){ 1ULL << 40, ~0ULL, 0 };
	EXPECT_ERRNO("start_past_the_end", ioctl(fd, FITRIM, &r), EINVAL);
	r = (struct fstrim_range){ 0, ~0ULL, 1ULL << 40 };
	EXPECT_ERRNO("minlen_over_a_group", ioctl(fd, FITRIM, &r), EINVAL);
	EXPECT_ERRNO("bad_pointer", ioctl(fd, FITRIM, (void *)8), EFAULT);
	CHECK("nobody_eperm", as_nobody(trim_as_nobody, 0) == 0, "nobody could trim");
}

static void check_trim(int dir)
{
	long long free = free_bytes();
	long long first = fitrim(dir, 0, ~0ULL, 0);
	CHECK("trims_free_space", first > 0 && first == free, "trimmed %lld of %lld free: %s",
	      first, free, errno_name(errno));
	long long second = fitrim(dir, 0, ~0ULL, 0);
	CHECK("second_trims_nothing", second == 0, "trimmed %lld: %s", second, errno_name(errno));

	int fd = open("m/f", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	REQUIRE_VOID(fd >= 0);
	static char data[200 * 1024];
	memset(data, 'x', sizeof(data));
	CHECK("write_file", write(fd, data, sizeof(data)) == (ssize_t)sizeof(data) &&
	      fsync(fd) == 0, "write: %s", errno_name(errno));
	close(fd);
	fd = open("m/g", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	REQUIRE_VOID(fd >= 0);
	long long on_file = fitrim(fd, 0, ~0ULL, 0);
	CHECK("trim_on_a_file", on_file == 0, "trimmed %lld: %s", on_file, errno_name(errno));
	close(fd);
	unlink("m/f");
	sync();
	free = free_bytes();
	long long again = fitrim(dir, 0, ~0ULL, 0);
	CHECK("freed_blocks_trimmed_again", again >= (long long)sizeof(data) && again <= free,
	      "trimmed %lld, %lld free: %s", again, free, errno_name(errno));
}

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	mkdir("dev", 0755);
	mkdir("m", 0755);
	mkdir("t", 0755);
	REQUIRE(mount("devtmpfs", "dev", "devtmpfs", 0, NULL) == 0);
	static char saved[DISK_BYTES];
	int disk = open(DISK, O_RDWR);
	REQUIRE(disk >= 0);
	REQUIRE(pread(disk, saved, DISK_BYTES, 0) == DISK_BYTES);

	char out[512];
	int rc = run_sh("mke2fs -q -F " DISK, out, sizeof(out));
	CHECK("mke2fs", rc == 0, "mke2fs: %d %s", rc, out);
	if (mount(DISK, "m", "ext2", 0, NULL) != 0) {
		fail("mount_ext2", "mount: %s", errno_name(errno));
	} else {
		int dir = open("m", O_RDONLY);
		REQUIRE(dir >= 0);
		check_errors(dir);
		check_trim(dir);
		close(dir);
		CHECK("remount_ro", mount(NULL, "m", NULL, MS_REMOUNT | MS_RDONLY, NULL) == 0,
		      "remount: %s", errno_name(errno));
		dir = open("m", O_RDONLY);
		long long ro = fitrim(dir, 0, ~0ULL, 0);
		CHECK("read_only_trims", ro >= 0, "FITRIM read-only: %s", errno_name(errno));
		close(dir);
		CHECK("umount", umount("m") == 0, "umount: %s", errno_name(errno));
	}

	if (mount("none", "t", "tmpfs", 0, NULL) == 0) {
		int fd = open("t", O_RDONLY);
		struct fstrim_range r = { 0, ~0ULL, 0 };
		EXPECT_ERRNO("tmpfs_enotty", ioctl(fd, FITRIM, &r), ENOTTY);
		close(fd);
		umount("t");
	}

	CHECK("restore_vda2", pwrite(disk, saved, DISK_BYTES, 0) == DISK_BYTES && fsync(disk) == 0,
	      "restore: %s", errno_name(errno));
	close(disk);
	umount("dev");
	return test_done();
}
