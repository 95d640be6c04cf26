/*
 * Anonymous page faults: write one byte into each page of a fresh private
 * anonymous mapping, timed per page (mmap and munmap are outside the clock).
 * Each region is 1 MiB: too small to hold an aligned 2 MiB huge page, so that
 * Debian's Linux (transparent huge pages "always") takes one 4 KiB fault per
 * page, as Ferrite does. Linux: mm/memory.c (do_anonymous_page).
 */
#include "bench.h"

#define PAGE 4096
#define PAGES 256
#define REGIONS 64

static void touch(char *region)
{
	for (long i = 0; i < PAGES; i++)
		region[i * PAGE] = 1;
}

int main(void)
{
	uint64_t elapsed = 0;
	for (int round = -REGIONS / 10 - 1; round < REGIONS; round++) {
		char *region = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (region == MAP_FAILED)
			bench_fail("mmap");
		uint64_t start = bench_now_ns();
		touch(region);
		/* Negative rounds are the warm-up. */
		if (round >= 0)
			elapsed += bench_now_ns() - start;
		if (munmap(region, PAGES * PAGE) != 0)
			bench_fail("munmap");
	}
	long pages = (long)PAGES * REGIONS;
	bench_print("bench %s ns_per_op=%.1f iters=%ld\n", TEST_NAME, (double)elapsed / (double)pages, pages);
	return 0;
}
