/*
 * devmem: /dev/mem (char 1:1) as Debian's Linux has it (CONFIG_STRICT_DEVMEM):
 * root only; the BIOS's reset vector at 0xffff0 (F000:FFF0 holds a far
 * jump, opcode 0xEA) reads the same through read(2) and through a shared
 * mapping, as busybox devmem reads it; RAM below 1 MiB reads as zeros, RAM
 * above it is EPERM for read and mmap, and past the end of RAM read(2) is
 * EFAULT; lseek takes SEEK_SET and SEEK_CUR only; a private writable
 * mapping copies on write (the firmware is untouched, a forked child sees
 * the frame) and a mapping cannot grow with mremap. Linux:
 * drivers/char/mem.c (open_mem, read_mem, mmap_mem, memory_lseek),
 * arch/x86/mm/init.c (devmem_is_allowed), mm/memory.c (remap_pfn_range).
 */
#include "test.h"

#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/sysmacros.h>

#define RESET_VECTOR 0xffff0L
#define BIOS_PAGE 0xff000L
#define LOW_RAM 0x1000L
#define HIGH_RAM 0x200000L
#define PAGE 4096L

/* Opens ./mem (a node made here) as nobody: open_mem wants CAP_SYS_RAWIO. */
static int open_as_nobody(int unused)
{
	(void)unused;
	int fd = open("mem", O_RDONLY);
	return fd < 0 && errno == EPERM ? 0 : 1;
}

static void check_node(void)
{
	mkdir("dev", 0755);
	if (mount("devtmpfs", "dev", "devtmpfs", 0, NULL) != 0) {
		fail("devtmpfs_node", "mount devtmpfs: %s", errno_name(errno));
		return;
	}
	struct stat st;
	CHECK("devtmpfs_node", stat("dev/mem", &st) == 0 && S_ISCHR(st.st_mode) &&
	      (st.st_mode & 07777) == 0600 && major(st.st_rdev) == 1 && minor(st.st_rdev) == 1,
	      "dev/mem mode %o rdev %u:%u", st.st_mode, major(st.st_rdev), minor(st.st_rdev));
	umount("dev");
}

static void check_read(int fd)
{
	unsigned char buf[16];
	CHECK("lseek_set", lseek(fd, RESET_VECTOR, SEEK_SET) == RESET_VECTOR, "lseek: %s",
	      errno_name(errno));
	CHECK("read_reset_vector", read(fd, buf, sizeof(buf)) == sizeof(buf) && buf[0] == 0xea,
	      "read %#x", buf[0]);
	CHECK("read_advances", lseek(fd, 0, SEEK_CUR) == RESET_VECTOR + 16, "position %ld",
	      (long)lseek(fd, 0, SEEK_CUR));
	CHECK("lseek_cur", lseek(fd, -16, SEEK_CUR) == RESET_VECTOR, "lseek cur");
	EXPECT_ERRNO("lseek_end", lseek(fd, 0, SEEK_END), EINVAL);

	unsigned char low[64];
	memset(low, 0x5a, sizeof(low));
	ssize_t n = pread(fd, low, sizeof(low), LOW_RAM);
	int zeros = n == (ssize_t)sizeof(low);
	for (size_t i = 0; zeros && i < sizeof(low); i++)
		zeros = low[i] == 0;
	CHECK("low_ram_reads_zeros", zeros, "pread %zd: %s", n, errno_name(errno));
	EXPECT_ERRNO("high_ram_eperm", pread(fd, low, sizeof(low), HIGH_RAM), EPERM);

	struct sysinfo si;
	REQUIRE_VOID(sysinfo(&si) == 0);
	/* Past all RAM (and below 4 GiB: the machine has less): EFAULT. */
	long past = 0xfec00000L;
	if ((unsigned long)si.totalram * si.mem_unit < 0xc0000000UL)
		EXPECT_ERRNO("past_ram_efault", pread(fd, low, 16, past), EFAULT);
}

static void check_mmap(int fd)
{
	unsigned char *p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, BIOS_PAGE);
	if (p == MAP_FAILED) {
		fail("mmap_shared", "mmap: %s", errno_name(errno));
		return;
	}
	unsigned char byte = 0;
	pread(fd, &byte, 1, RESET_VECTOR);
	CHECK("mmap_shared", p[RESET_VECTOR - BIOS_PAGE] == 0xea && byte == 0xea,
	      "mapped %#x read %#x", p[RESET_VECTOR - BIOS_PAGE], byte);
	void *grown = MAP_FAILED;
	EXPECT_ERRNO("mremap_grow",
		     (grown = mremap(p, PAGE, 2 * PAGE, MREMAP_MAYMOVE)) == MAP_FAILED ? -1 : 0,
		     EFAULT);
	if (grown != MAP_FAILED)
		munmap(grown, 2 * PAGE);
	else
		munmap(p, PAGE);

	EXPECT_ERRNO("mmap_high_ram_eperm",
		     mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, HIGH_RAM) == MAP_FAILED ? -1 : 0,
		     EPERM);

	unsigned char *q = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, BIOS_PAGE);
	if (q == MAP_FAILED) {
		fail("mmap_private_cow", "mmap: %s", errno_name(errno));
		return;
	}
	unsigned char *v = q + (RESET_VECTOR - BIOS_PAGE);
	unsigned char before = *v;
	pid_t child = fork();
	if (child == 0)
		_exit(*v == 0xea ? 0 : 1);
	CHECK("fork_sees_frame", exited_with(wait_status(child), 0), "child saw another byte");
	*v = 0x90;
	byte = 0;
	pread(fd, &byte, 1, RESET_VECTOR);
	CHECK("mmap_private_cow", before == 0xea && *v == 0x90 && byte == 0xea,
	      "before %#x after %#x firmware %#x", before, *v, byte);
	munmap(q, PAGE);
}

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	check_node();
	unlink("mem");
	REQUIRE(mknod("mem", S_IFCHR | 0666, makedev(1, 1)) == 0);
	CHECK("nobody_eperm", as_nobody(open_as_nobody, 0) == 0, "nobody opened /dev/mem");
	int fd = open("mem", O_RDONLY);
	REQUIRE(fd >= 0);
	check_read(fd);
	check_mmap(fd);
	close(fd);
	unlink("mem");
	return test_done();
}
