/*
 * /init for Linux in `cargo xtask bench`: powers the machine off at once,
 * so that QEMU ends as soon as the kernel has reached user space.
 *
 * Built with `musl-gcc -static -Os` by xtask/src/bench/initramfs.rs.
 * RB_POWER_OFF is LINUX_REBOOT_CMD_POWER_OFF; musl's reboot() adds the magic
 * numbers. reboot() does not return on success; if it fails, init exits and
 * Linux panics, which the benchmark reports as a timeout.
 */
#include <sys/reboot.h>

int main(void)
{
	reboot(RB_POWER_OFF);
	return 1;
}
