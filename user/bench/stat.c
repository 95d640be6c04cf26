/*
 * stat(2) of an existing file four path components deep on the initramfs
 * tmpfs: the path walk and the attribute copy-out, no struct file.
 * lmbench: `lat_syscall stat`. Linux: fs/stat.c (vfs_statx), fs/namei.c.
 */
#include "bench.h"
#include <sys/stat.h>

static int op(void)
{
	struct stat st;
	return stat(BENCH_EXEC_TARGET, &st);
}

int main(void)
{
	bench_run(20000, 1, op);
	return 0;
}
