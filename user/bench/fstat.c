/*
 * fstat(2) of an open file: an fd lookup and the attribute copy-out.
 * lmbench: `lat_syscall fstat`. Linux: fs/stat.c (vfs_fstat).
 */
#include "bench.h"
#include <sys/stat.h>

static int fd;

static int op(void)
{
	struct stat st;
	return fstat(fd, &st);
}

int main(void)
{
	fd = open(BENCH_EXEC_TARGET, O_RDONLY);
	if (fd < 0)
		bench_fail("open");
	bench_run(50000, 1, op);
	return 0;
}
