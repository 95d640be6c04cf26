/*
 * read(2) of one byte from /dev/zero: the syscall path plus an fd lookup,
 * a character device's read and a one-byte copy to user space.
 * lmbench: `lat_syscall read`. Linux: fs/read_write.c, drivers/char/mem.c.
 */
#include "bench.h"

static int fd;

static int op(void)
{
	char c;
	return read(fd, &c, 1) == 1 ? 0 : -1;
}

int main(void)
{
	fd = open("/dev/zero", O_RDONLY);
	if (fd < 0)
		bench_fail("open /dev/zero");
	bench_run(100000, 1, op);
	return 0;
}
