#include "test.h"
/*
 * Loop devices as losetup and mount -o loop use them: /dev/loop-control
 * finds a free device; LOOP_SET_FD binds a file (EBUSY when bound, EINVAL
 * for a directory, EBADF for a bad fd); LOOP_SET_STATUS64/GET_STATUS64
 * carry the name, the number, the inode and an offset that moves what
 * the device shows; reads and writes go to the file; a file opened
 * read-only makes a read-only device (writes EPERM); LOOP_CLR_FD unbinds
 * (ENXIO afterwards, size 0).
 * Linux: drivers/block/loop.c, include/uapi/linux/loop.h, block/fops.c.
 */
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>

/* musl has no kernel headers: include/uapi/linux/loop.h and fs.h. */
#define BLKGETSIZE64 _IOR(0x12, 114, size_t)
#define LOOP_SET_FD 0x4C00
#define LOOP_CLR_FD 0x4C01
#define LOOP_SET_STATUS64 0x4C04
#define LOOP_GET_STATUS64 0x4C05
#define LOOP_CTL_GET_FREE 0x4C82
#define LO_FLAGS_READ_ONLY 1

struct loop_info64 {
	uint64_t lo_device, lo_inode, lo_rdevice, lo_offset, lo_sizelimit;
	uint32_t lo_number, lo_encrypt_type, lo_encrypt_key_size, lo_flags;
	uint8_t lo_file_name[64], lo_crypt_name[64], lo_encrypt_key[32];
	uint64_t lo_init[2];
};

#define IMG_SIZE (1024 * 1024)
#define LOOP_MAJOR 7

/* The byte the backing file holds at `pos`. */
static unsigned char pattern(long pos)
{
	return (unsigned char)(pos * 7 / 512 + pos % 13);
}

static int make_image(void)
{
	static unsigned char buf[IMG_SIZE];
	for (long i = 0; i < IMG_SIZE; i++)
		buf[i] = pattern(i);
	int fd = open("img", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, buf, IMG_SIZE) != IMG_SIZE)
		return -1;
	return fd;
}

static unsigned long long dev_size(int fd)
{
	unsigned long long size = 12345;
	if (ioctl(fd, BLKGETSIZE64, &size) != 0)
		return 12345;
	return size;
}

static int matches(const unsigned char *buf, int len, long file_pos)
{
	for (int i = 0; i < len; i++)
		if (buf[i] != pattern(file_pos + i))
			return 0;
	return 1;
}

static void status_checks(int loop, int n, int img)
{
	struct loop_info64 info;
	memset(&info, 0, sizeof(info));
	strcpy((char *)info.lo_file_name, "/tmp/loop/img");
	EXPECT_OK("set_status64", ioctl(loop, LOOP_SET_STATUS64, &info));
	memset(&info, 0xff, sizeof(info));
	struct stat st;
	fstat(img, &st);
	EXPECT_OK("get_status64", ioctl(loop, LOOP_GET_STATUS64, &info));
	CHECK("status_number", info.lo_number == (unsigned)n, "lo_number %u, device %d",
	      info.lo_number, n);
	CHECK("status_inode", info.lo_inode == st.st_ino, "lo_inode %llu, file %llu",
	      (unsigned long long)info.lo_inode, (unsigned long long)st.st_ino);
	CHECK("status_name", strcmp((char *)info.lo_file_name, "/tmp/loop/img") == 0, "name %.64s",
	      info.lo_file_name);
	CHECK("status_writable", !(info.lo_flags & LO_FLAGS_READ_ONLY), "flags %#x",
	      info.lo_flags);

	/* An offset moves the window: the device starts at the file's 4096. */
	info.lo_offset = 4096;
	EXPECT_OK("set_offset", ioctl(loop, LOOP_SET_STATUS64, &info));
	CHECK("offset_size", dev_size(loop) == IMG_SIZE - 4096, "size %llu", dev_size(loop));
	unsigned char buf[512];
	CHECK("offset_read", pread(loop, buf, 512, 0) == 512 && matches(buf, 512, 4096),
	      "sector 0 is not the file's byte 4096");
	info.lo_offset = 0;
	EXPECT_OK("clear_offset", ioctl(loop, LOOP_SET_STATUS64, &info));
}

static void io_checks(int loop, int img)
{
	unsigned char buf[4096];
	CHECK("size", dev_size(loop) == IMG_SIZE, "size %llu", dev_size(loop));
	CHECK("read", pread(loop, buf, sizeof(buf), 8192) == sizeof(buf) &&
	      matches(buf, sizeof(buf), 8192), "what the file holds at 8192");
	memset(buf, 0xa5, sizeof(buf));
	CHECK("write", pwrite(loop, buf, sizeof(buf), 65536) == sizeof(buf), "pwrite: %s",
	      errno_name(errno));
	EXPECT_OK("fsync", fsync(loop));
	unsigned char back[4096];
	CHECK("write_reaches_file", pread(img, back, sizeof(back), 65536) == sizeof(back) &&
	      memcmp(back, buf, sizeof(buf)) == 0, "the file does not hold the write");
	CHECK("read_at_end", pread(loop, buf, 512, IMG_SIZE) == 0, "read past the end");
}

static void read_only_checks(int loop)
{
	int ro = open("img", O_RDONLY);
	REQUIRE_VOID(ro >= 0);
	EXPECT_OK("bind_read_only", ioctl(loop, LOOP_SET_FD, ro));
	struct loop_info64 info;
	memset(&info, 0, sizeof(info));
	EXPECT_OK("get_status_read_only", ioctl(loop, LOOP_GET_STATUS64, &info));
	CHECK("read_only_flag", info.lo_flags & LO_FLAGS_READ_ONLY, "flags %#x", info.lo_flags);
	unsigned char buf[512] = { 0 };
	EXPECT_ERRNO("read_only_write_eperm", pwrite(loop, buf, sizeof(buf), 0), EPERM);
	EXPECT_OK("unbind_read_only", ioctl(loop, LOOP_CLR_FD, 0));
	close(ro);
}

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	unlink("loop-control");
	REQUIRE(mknod("loop-control", S_IFCHR | 0600, makedev(10, 237)) == 0);
	int ctl = open("loop-control", O_RDWR);
	REQUIRE(ctl >= 0);
	int n = ioctl(ctl, LOOP_CTL_GET_FREE);
	CHECK("get_free", n >= 0, "LOOP_CTL_GET_FREE: %s", errno_name(errno));
	REQUIRE(n >= 0);
	unlink("loopdev");
	REQUIRE(mknod("loopdev", S_IFBLK | 0600, makedev(LOOP_MAJOR, n)) == 0);
	int loop = open("loopdev", O_RDWR);
	REQUIRE(loop >= 0);
	int img = make_image();
	REQUIRE(img >= 0);

	struct loop_info64 info;
	EXPECT_ERRNO("unbound_status_enxio", ioctl(loop, LOOP_GET_STATUS64, &info), ENXIO);
	EXPECT_ERRNO("unbound_clr_enxio", ioctl(loop, LOOP_CLR_FD, 0), ENXIO);
	CHECK("unbound_size_0", dev_size(loop) == 0, "size %llu", dev_size(loop));
	int dir = open(".", O_RDONLY | O_DIRECTORY);
	EXPECT_ERRNO("bind_directory_einval", ioctl(loop, LOOP_SET_FD, dir), EINVAL);
	close(dir);
	EXPECT_ERRNO("bind_bad_fd_ebadf", ioctl(loop, LOOP_SET_FD, 999), EBADF);

	EXPECT_OK("bind", ioctl(loop, LOOP_SET_FD, img));
	EXPECT_ERRNO("bind_twice_ebusy", ioctl(loop, LOOP_SET_FD, img), EBUSY);
	int other = ioctl(ctl, LOOP_CTL_GET_FREE);
	CHECK("get_free_skips_bound", other >= 0 && other != n, "got %d, bound %d", other, n);
	io_checks(loop, img);
	EXPECT_ERRNO("get_status_bad_pointer", ioctl(loop, LOOP_GET_STATUS64, (void *)8), EFAULT);
	EXPECT_ERRNO("set_status_bad_pointer", ioctl(loop, LOOP_SET_STATUS64, (void *)8), EFAULT);
	status_checks(loop, n, img);
	EXPECT_OK("unbind", ioctl(loop, LOOP_CLR_FD, 0));
	EXPECT_ERRNO("unbound_again_enxio", ioctl(loop, LOOP_GET_STATUS64, &info), ENXIO);
	CHECK("unbound_size_0_again", dev_size(loop) == 0, "size %llu", dev_size(loop));
	read_only_checks(loop);

	close(loop);
	close(img);
	close(ctl);
	unlink("loopdev");
	unlink("loop-control");
	unlink("img");
	return test_done();
}
