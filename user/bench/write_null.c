/*
 * write(2) of one byte to /dev/null: the syscall path plus an fd lookup and
 * a character device's write. lmbench: `lat_syscall write`.
 * Linux: fs/read_write.c (ksys_write), drivers/char/mem.c (write_null).
 */
#include "bench.h"

static int fd;

static int op(void)
{
	return write(fd, "x", 1) == 1 ? 0 : -1;
}

int main(void)
{
	fd = open("/dev/null", O_WRONLY);
	if (fd < 0)
		bench_fail("open /dev/null");
	bench_run(100000, 1, op);
	return 0;
}
