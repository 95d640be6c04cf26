/*
 * open(2) and close(2) of an existing file on the initramfs tmpfs, four path
 * components deep like lmbench's default (/usr/include/sys/types.h):
 * path walk, dentry cache, struct file allocation and release.
 * lmbench: `lat_syscall open`. Linux: fs/open.c, fs/namei.c.
 */
#include "bench.h"

static int op(void)
{
	int fd = open(BENCH_EXEC_TARGET, O_RDONLY);
	if (fd < 0)
		return -1;
	return close(fd);
}

int main(void)
{
	bench_run(10000, 1, op);
	return 0;
}
