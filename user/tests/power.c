/*
 * power: /sys/power. `state` lists only sleep states Linux knows and
 * refuses others with EINVAL; `disk` shows the current mode in brackets;
 * `resume` reads 0:0 at boot, refuses names that give no device (EINVAL),
 * and takes MAJ:MIN or /dev/NAME: with a swap header there (no image) the
 * write succeeds and the device is recorded; with a hibernation image's
 * signature (S1SUSPEND over mkswap's SWAPSPACE2) the kernel puts the swap
 * signature back and, the image being unloadable, the write still
 * succeeds; `resume_offset` takes a number. The first page of vda1 is put
 * back at the end. Linux: kernel/power/main.c (state_show, state_store),
 * kernel/power/hibernate.c (resume_store, software_resume, disk_show),
 * kernel/power/swap.c (swsusp_check), init/do_mounts.c (name_to_dev_t).
 */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "test.h"

#define PAGE 4096
#define SIG_AT (PAGE - 10)
#define ORIG_SIG_AT (PAGE - 20)

/* Writes `text` to sys/power/NAME in one write(2); its result, errno kept. */
static ssize_t put(const char *name, const char *text)
{
	char path[64];
	snprintf(path, sizeof(path), "sys/power/%s", name);
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -2;
	ssize_t n = write(fd, text, strlen(text));
	int e = errno;
	close(fd);
	errno = e;
	return n;
}

static void get(const char *name, char *buf, size_t size)
{
	char path[64];
	snprintf(path, sizeof(path), "sys/power/%s", name);
	if (slurp(path, buf, size) < 0)
		snprintf(buf, size, "(unreadable: %s)", errno_name(errno));
}

static void check_state_and_disk(void)
{
	char buf[256];
	get("state", buf, sizeof(buf));
	int known = 1;
	char copy[256];
	snprintf(copy, sizeof(copy), "%s", buf);
	for (char *w = strtok(copy, " \n"); w; w = strtok(NULL, " \n"))
		known = known && (!strcmp(w, "freeze") || !strcmp(w, "standby") ||
				  !strcmp(w, "mem") || !strcmp(w, "disk"));
	CHECK("state_lists_known_states", known, "state: %s", buf);
	EXPECT_ERRNO("state_unknown_einval", put("state", "bogus\n"), EINVAL);
	get("disk", buf, sizeof(buf));
	CHECK("disk_brackets_a_mode", strchr(buf, '[') && strchr(buf, ']'), "disk: %s", buf);
}

/* Writes a page with `sig` at the end (and SWAPSPACE2 as orig_sig) to vda1. */
static int write_header(const char *sig)
{
	static unsigned char page[PAGE];
	memset(page, 0, sizeof(page));
	memcpy(page + ORIG_SIG_AT, "SWAPSPACE2", 10);
	memcpy(page + SIG_AT, sig, 10);
	int fd = open("dev/vda1", O_WRONLY);
	if (fd < 0)
		return -1;
	int ok = pwrite(fd, page, PAGE, 0) == PAGE && fsync(fd) == 0;
	close(fd);
	return ok ? 0 : -1;
}

static int read_sig(char sig[10])
{
	int fd = open("dev/vda1", O_RDONLY);
	if (fd < 0)
		return -1;
	int ok = pread(fd, sig, 10, SIG_AT) == 10;
	close(fd);
	return ok ? 0 : -1;
}

static void check_resume(void)
{
	char buf[64], want[64], sig[10];
	get("resume", buf, sizeof(buf));
	CHECK("resume_at_boot", strcmp(buf, "0:0\n") == 0, "resume: %s", buf);
	EXPECT_ERRNO("resume_bad_name", put("resume", "bogus\n"), EINVAL);
	EXPECT_ERRNO("resume_zero", put("resume", "0:0\n"), EINVAL);
	EXPECT_ERRNO("resume_no_such_dev", put("resume", "/dev/nosuchdisk"), EINVAL);

	struct stat st;
	REQUIRE_VOID(stat("dev/vda1", &st) == 0);
	snprintf(want, sizeof(want), "%u:%u\n", major(st.st_rdev), minor(st.st_rdev));
	REQUIRE_VOID(write_header("SWAPSPACE2") == 0);
	ssize_t n = put("resume", want);
	CHECK("resume_swap_no_image", n == (ssize_t)strlen(want), "write: %zd %s", n,
	      errno_name(errno));
	get("resume", buf, sizeof(buf));
	CHECK("resume_recorded", strcmp(buf, want) == 0, "resume: %s, want %s", buf, want);
	CHECK("swap_header_kept", read_sig(sig) == 0 && memcmp(sig, "SWAPSPACE2", 10) == 0,
	      "signature %.10s", sig);

	REQUIRE_VOID(write_header("S1SUSPEND\0") == 0);
	n = put("resume", "/dev/vda1\n");
	CHECK("resume_image_write_succeeds", n == 10, "write: %zd %s", n, errno_name(errno));
	CHECK("image_signature_reset", read_sig(sig) == 0 && memcmp(sig, "SWAPSPACE2", 10) == 0,
	      "signature %.10s", sig);

	EXPECT_ERRNO("resume_offset_junk", put("resume_offset", "12x"), EINVAL);
	CHECK("resume_offset_set", put("resume_offset", "0x10\n") == 5, "write: %s",
	      errno_name(errno));
	get("resume_offset", buf, sizeof(buf));
	CHECK("resume_offset_reads", strcmp(buf, "16\n") == 0, "resume_offset: %s", buf);
	put("resume_offset", "0");
}

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	mkdir("sys", 0755);
	mkdir("dev", 0755);
	REQUIRE(mount("sysfs", "sys", "sysfs", 0, NULL) == 0);
	REQUIRE(mount("devtmpfs", "dev", "devtmpfs", 0, NULL) == 0);
	static unsigned char saved[PAGE];
	int fd = open("dev/vda1", O_RDONLY);
	REQUIRE(fd >= 0 && pread(fd, saved, PAGE, 0) == PAGE);
	close(fd);

	check_state_and_disk();
	check_resume();

	fd = open("dev/vda1", O_WRONLY);
	CHECK("restore_vda1", fd >= 0 && pwrite(fd, saved, PAGE, 0) == PAGE && fsync(fd) == 0,
	      "restore: %s", errno_name(errno));
	close(fd);
	umount("dev");
	umount("sys");
	return test_done();
}
