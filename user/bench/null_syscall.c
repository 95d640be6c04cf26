/*
 * The null system call: raw syscall(SYS_getppid), as lmbench's
 * `lat_syscall null` does, so that no libc caching hides the kernel entry
 * and exit. Linux: arch/x86/entry/entry_64.S, kernel/sys.c (getppid).
 */
#include "bench.h"

static int op(void)
{
	return syscall(SYS_getppid) < 0 ? -1 : 0;
}

int main(void)
{
	bench_run(100000, 1, op);
	return 0;
}
