/*
 * Loadable modules: finit_module(2), init_module(2), delete_module(2) and
 * /proc/modules. Each kernel loads only its own modules: the initramfs holds
 * crc7.ko twice, Linux's (/lib/modules/linux/) and Ferrite's, built from
 * modules/ (/lib/modules/ferrite/); exactly one loads, the other kernel's is
 * refused with ENOEXEC. Linux: kernel/module/main.c, kernel/module/procfs.c.
 *
 * The checks of Ferrite's other modules (hello's parameters and printk,
 * crc7_check's use of crc7's export) run only where Ferrite's crc7 loaded:
 * Linux cannot load them.
 */
#include "test.h"
#include <sys/mount.h>

/* The system-test /init mounts nothing: the test mounts its own procfs. */
#define PROC_DIR "/tmp/module/proc"
#define SYS_DIR "/tmp/module/sys"

/* Whether file `path` holds exactly `want`. */
static int file_is(const char *path, const char *want)
{
	static char buf[256];
	ssize_t n = slurp(path, buf, sizeof(buf));
	return n >= 0 && strcmp(buf, want) == 0;
}

#define MODULE_INIT_IGNORE_MODVERSIONS 1
#define MODULE_INIT_IGNORE_VERMAGIC 2
#define MODULE_INIT_COMPRESSED_FILE 4

static const char *const LINUX_CRC7 = "/lib/modules/linux/crc7.ko";
static const char *const FERRITE_CRC7 = "/lib/modules/ferrite/crc7.ko";

static long finit_module(int fd, const char *args, int flags)
{
	return syscall(SYS_finit_module, fd, args, flags);
}

static long init_module(void *image, unsigned long len, const char *args)
{
	return syscall(SYS_init_module, image, len, args);
}

static long delete_module(const char *name, int flags)
{
	return syscall(SYS_delete_module, name, flags);
}

/* finit_module of the file at `path`: 0, or -1 with errno. */
static long load_path(const char *path, const char *args)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	long ret = finit_module(fd, args, 0);
	int err = errno;
	close(fd);
	errno = err;
	return ret;
}

static char modules[16384];

/* The /proc/modules line of `name` into `line`; 0 if there is none. */
static int modules_line(const char *name, char *line, size_t size)
{
	ssize_t n = slurp(PROC_DIR "/modules", modules, sizeof(modules));
	if (n < 0) {
		snprintf(modules, sizeof(modules), "(cannot read /proc/modules: %s)", errno_name(errno));
		return 0;
	}
	size_t len = strlen(name);
	for (char *p = modules; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, name, len) == 0 && p[len] == ' ') {
			char *end = strchr(p, '\n');
			size_t l = end ? (size_t)(end - p) : strlen(p);
			if (l >= size)
				l = size - 1;
			memcpy(line, p, l);
			line[l] = 0;
			return 1;
		}
	}
	return 0;
}

static int try_load_as_nobody(int fd)
{
	errno = 0;
	return finit_module(fd, "", 0) == -1 && errno == EPERM ? 0 : 1;
}

static int try_unload_as_nobody(int unused)
{
	(void)unused;
	errno = 0;
	return delete_module("crc7", O_NONBLOCK) == -1 && errno == EPERM ? 0 : 1;
}

static char kbuf[1 << 18];

/* Whether the kernel log holds `needle` (syslog READ_ALL). */
static int log_has(const char *needle)
{
	long n = syscall(SYS_syslog, 3, kbuf, (int)sizeof(kbuf) - 1);
	kbuf[n > 0 ? n : 0] = 0;
	return strstr(kbuf, needle) != NULL;
}

/* hello's parameters and printk, crc7_check's dependency on crc7. */
static void ferrite_modules(void)
{
	char line[256];
	EXPECT_OK("hello_loads", load_path("/lib/modules/ferrite/hello.ko", "who=systest times=2 junk=1"));
	CHECK("hello_printk", log_has("hello: Hello, systest! (2 of 2, kmalloc y beef 1099511627776 %)"),
	      "no greeting with the parameters in the log");
	CHECK("sysfs_param_charp", file_is(SYS_DIR "/module/hello/parameters/who", "systest\n"),
	      "parameters/who is not 'systest'");
	CHECK("sysfs_param_int", file_is(SYS_DIR "/module/hello/parameters/times", "2\n"),
	      "parameters/times is not 2");
	CHECK("sysfs_param_bool", file_is(SYS_DIR "/module/hello/parameters/fail", "N\n"),
	      "parameters/fail is not N");
	EXPECT_OK("hello_unloads", delete_module("hello", O_NONBLOCK));
	CHECK("hello_exit_ran", log_has("hello: Goodbye, systest!"), "no goodbye in the log");
	EXPECT_ERRNO("failing_init_fails", load_path("/lib/modules/ferrite/hello.ko", "fail=1"), EINVAL);
	CHECK("failing_init_unloaded", !modules_line("hello", line, sizeof(line)), "hello listed: %s",
	      line);
	EXPECT_ERRNO("bad_int_param", load_path("/lib/modules/ferrite/hello.ko", "times=many"), EINVAL);

	EXPECT_ERRNO("unknown_symbol_enoent", load_path("/lib/modules/ferrite/crc7_check.ko", ""), ENOENT);
	CHECK("unknown_symbol_logged", log_has("crc7_check: Unknown symbol crc7_be (err -2)"),
	      "no 'Unknown symbol' line in the log");
	REQUIRE_VOID(load_path(FERRITE_CRC7, "") == 0);
	EXPECT_OK("dependent_loads", load_path("/lib/modules/ferrite/crc7_check.ko", ""));
	CHECK("dependent_ran", log_has("crc7_check: crc7 of \"Ferrite\" is 0x1c"),
	      "crc7_check did not print the CRC");
	CHECK("users_listed", modules_line("crc7", line, sizeof(line)) && strstr(line, " 1 crc7_check, Live "),
	      "crc7's line: %s", line);
	struct stat st;
	CHECK("sysfs_holder", lstat(SYS_DIR "/module/crc7/holders/crc7_check", &st) == 0 && S_ISLNK(st.st_mode),
	      "no holders/crc7_check link");
	CHECK("sysfs_refcnt_held", file_is(SYS_DIR "/module/crc7/refcnt", "1\n"), "refcnt is not 1");
	EXPECT_ERRNO("in_use_ewouldblock", delete_module("crc7", O_NONBLOCK), EWOULDBLOCK);
	EXPECT_OK("dependent_unloads", delete_module("crc7_check", O_NONBLOCK));
	EXPECT_OK("then_provider_unloads", delete_module("crc7", O_NONBLOCK));
}

int main(void)
{
	char line[256];
	REQUIRE(enter_scratch_dir() == 0);
	mkdir(PROC_DIR, 0555);
	REQUIRE(mount("proc", PROC_DIR, "proc", 0, NULL) == 0);
	mkdir(SYS_DIR, 0555);
	REQUIRE(mount("sysfs", SYS_DIR, "sysfs", 0, NULL) == 0);
	long linux_ret = load_path(LINUX_CRC7, "");
	int linux_err = errno;
	long ferrite_ret = load_path(FERRITE_CRC7, "");
	int ferrite_err = errno;
	REQUIRE(linux_ret == 0 || ferrite_ret == 0);
	int on_ferrite = ferrite_ret == 0;
	const char *mine = on_ferrite ? FERRITE_CRC7 : LINUX_CRC7;
	expect_errno("other_kernels_module_enoexec", on_ferrite ? linux_ret : ferrite_ret,
		     on_ferrite ? linux_err : ferrite_err, ENOEXEC);

	int have = modules_line("crc7", line, sizeof(line));
	CHECK("listed", have, "no crc7 line in /proc/modules: '%.200s'", modules);
	unsigned long size = 0;
	int refs = -1;
	char users[64] = "", state[16] = "", addr[32] = "";
	int fields = sscanf(line, "crc7 %lu %d %63s %15s %31s", &size, &refs, users, state, addr);
	CHECK("line_format", fields == 5 && size > 0 && refs == 0 && strcmp(users, "-") == 0 &&
				     strcmp(state, "Live") == 0 && strlen(addr) == 18 && strncmp(addr, "0x", 2) == 0,
	      "line '%s'", line);

	CHECK("sysfs_initstate", file_is(SYS_DIR "/module/crc7/initstate", "live\n"),
	      "initstate is not live");
	CHECK("sysfs_refcnt", file_is(SYS_DIR "/module/crc7/refcnt", "0\n"), "refcnt is not 0");
	int fd = open(mine, O_RDONLY | O_CLOEXEC);
	REQUIRE(fd >= 0);
	EXPECT_ERRNO("again_eexist", finit_module(fd, "", 0), EEXIST);
	EXPECT_ERRNO("unknown_flags_einval", finit_module(fd, "", 8), EINVAL);
	/* Neither kernel decompresses modules (no CONFIG_MODULE_DECOMPRESS). */
	EXPECT_ERRNO("compressed_eopnotsupp", finit_module(fd, "", MODULE_INIT_COMPRESSED_FILE),
		     EOPNOTSUPP);
	CHECK("non_root_load_eperm", as_nobody(try_load_as_nobody, fd) == 0, "not EPERM");
	CHECK("non_root_unload_eperm", as_nobody(try_unload_as_nobody, 0) == 0, "not EPERM");
	struct stat st;
	REQUIRE(fstat(fd, &st) == 0);
	char *image = malloc((size_t)st.st_size);
	REQUIRE(image && read(fd, image, (size_t)st.st_size) == st.st_size);
	close(fd);
	EXPECT_ERRNO("init_module_eexist", init_module(image, (unsigned long)st.st_size, ""), EEXIST);
	EXPECT_ERRNO("init_module_efault", init_module((void *)8, 4096, ""), EFAULT);
	free(image);
	/* Not an ELF file, and unsigned: Linux rejects a signed module whose
	 * contents were changed with EKEYREJECTED before it looks at the ELF. */
	static char junk[4096];
	memset(junk, 0x5a, sizeof(junk));
	EXPECT_ERRNO("bad_elf_enoexec", init_module(junk, sizeof(junk), ""), ENOEXEC);
	memcpy(junk, "\177ELF\2\1\1", 7);
	EXPECT_ERRNO("bad_headers_enoexec", init_module(junk, sizeof(junk), ""), ENOEXEC);
	EXPECT_ERRNO("short_image_enoexec", init_module(junk, 16, ""), ENOEXEC);

	int dirfd = open("/lib/modules", O_RDONLY | O_DIRECTORY);
	EXPECT_ERRNO("directory_einval", finit_module(dirfd, "", 0), EINVAL);
	close(dirfd);
	EXPECT_ERRNO("bad_fd_ebadf", finit_module(-1, "", 0), EBADF);

	EXPECT_OK("unload", delete_module("crc7", O_NONBLOCK));
	CHECK("gone", !modules_line("crc7", line, sizeof(line)), "still listed: %s", line);
	EXPECT_ERRNO("sysfs_gone", access(SYS_DIR "/module/crc7", F_OK), ENOENT);
	EXPECT_ERRNO("unload_again_enoent", delete_module("crc7", O_NONBLOCK), ENOENT);
	EXPECT_ERRNO("no_such_module_enoent", delete_module("lz_no_such_module", O_NONBLOCK), ENOENT);
	EXPECT_ERRNO("name_efault", delete_module((const char *)8, O_NONBLOCK), EFAULT);
	EXPECT_OK("reload", load_path(mine, ""));
	EXPECT_OK("unload_again", delete_module("crc7", O_NONBLOCK | O_TRUNC));
	/* `modprobe --force`: Debian's Linux has CONFIG_MODULE_FORCE_LOAD. */
	fd = open(mine, O_RDONLY | O_CLOEXEC);
	EXPECT_OK("forced_load", finit_module(fd, "", MODULE_INIT_IGNORE_VERMAGIC));
	close(fd);
	EXPECT_OK("forced_unload", delete_module("crc7", O_NONBLOCK));

	if (on_ferrite)
		ferrite_modules();
	CHECK("umount_proc", umount(PROC_DIR) == 0 && umount(SYS_DIR) == 0, "umount: %s",
	      errno_name(errno));
	return test_done();
}
