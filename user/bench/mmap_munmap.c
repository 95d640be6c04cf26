/*
 * mmap(2) of a private anonymous region and munmap(2) of it, touching
 * nothing: the VMA bookkeeping alone (no page is faulted in, so no page
 * table is freed). Figures mmap_1m and mmap_64m. lmbench's `lat_mmap` maps
 * a file; file-backed mmap is not in Ferrite yet.
 * Linux: mm/mmap.c (do_mmap, do_vmi_munmap).
 */
#include "bench.h"

static size_t len;

static int op(void)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	return munmap(p, len);
}

int main(void)
{
	len = 1 << 20;
	bench_run_as("mmap_1m", 5000, 1, op);
	len = 64 << 20;
	bench_run_as("mmap_64m", 5000, 1, op);
	return 0;
}
