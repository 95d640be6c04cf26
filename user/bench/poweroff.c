/*
 * /init of the boot-time initramfs in `cargo xtask bench`, for Ferrite and
 * Linux alike: prints one line at once (xtask times QEMU's start to it:
 * "boot to init's first line"), then the memory in use as /proc/meminfo
 * has it, and powers the machine off, so that QEMU's exit is timed too.
 *
 * Lines for xtask (xtask/src/bench/boot.rs):
 *     # init: first line
 *     # meminfo MemTotal: 1012345 kB      (one per field of FIELDS)
 *     # init: power off
 *
 * Built with `musl-gcc -static -Os` by xtask/src/bench/initramfs.rs.
 * RB_POWER_OFF is LINUX_REBOOT_CMD_POWER_OFF; musl's reboot() adds the magic
 * numbers. reboot() does not return on success; if it fails, init exits and
 * the kernel panics, which the benchmark reports as a timeout.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <unistd.h>

static const char *const FIELDS[] = { "MemTotal:", "MemFree:", "MemAvailable:" };

static void say(const char *text)
{
	(void)!write(1, text, strlen(text));
}

/* Prints the lines of /proc/meminfo that start with one of FIELDS. */
static void print_meminfo(void)
{
	static char text[8192];
	if (mount("proc", "/proc", "proc", 0, NULL) != 0) {
		say("# init: cannot mount /proc\n");
		return;
	}
	int fd = open("/proc/meminfo", O_RDONLY);
	if (fd < 0) {
		say("# init: cannot open /proc/meminfo\n");
		return;
	}
	ssize_t len = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (len <= 0)
		return;
	text[len] = '\0';
	for (char *line = text, *end; *line; line = end + 1) {
		end = strchr(line, '\n');
		if (!end)
			break;
		*end = '\0';
		for (size_t i = 0; i < sizeof(FIELDS) / sizeof(FIELDS[0]); i++) {
			if (strncmp(line, FIELDS[i], strlen(FIELDS[i])) == 0) {
				say("# meminfo ");
				say(line);
				say("\n");
			}
		}
	}
}

int main(void)
{
	say("# init: first line\n");
	print_meminfo();
	say("# init: power off\n");
	reboot(RB_POWER_OFF);
	return 1;
}
