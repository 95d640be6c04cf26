/*
 * Page faults, timed per page (mmap and munmap are outside the clock):
 * - page_fault: write one byte into each page of a fresh private anonymous
 *   mapping (Linux: mm/memory.c do_anonymous_page);
 * - file_fault: read one byte from each page of a fresh shared mapping of a
 *   1 MiB file whose pages are already in the page cache, as lmbench's
 *   `lat_pagefault` (Linux: mm/filemap.c filemap_fault and its fault-around,
 *   which maps up to 16 cached pages per fault; Ferrite maps one).
 * Each region is 1 MiB: too small to hold an aligned 2 MiB huge page, so that
 * Debian's Linux (transparent huge pages "always") takes 4 KiB faults, as
 * Ferrite does.
 */
#include "bench.h"

#define PAGE 4096
#define PAGES 256
#define REGIONS 64
#define FILE_PATH "/tmp/bench_file_fault"

static volatile char sink;

static void touch(char *region, int writing)
{
	for (long i = 0; i < PAGES; i++) {
		if (writing)
			region[i * PAGE] = 1;
		else
			sink = region[i * PAGE];
	}
}

/* Maps `fd` (or anonymous memory, fd -1) REGIONS times and touches it. */
static void measure(const char *name, int fd)
{
	uint64_t elapsed = 0;
	int flags = fd < 0 ? MAP_PRIVATE | MAP_ANONYMOUS : MAP_SHARED;
	for (int round = -REGIONS / 10 - 1; round < REGIONS; round++) {
		char *region = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, flags, fd, 0);
		if (region == MAP_FAILED)
			bench_fail("mmap");
		uint64_t start = bench_now_ns();
		touch(region, fd < 0);
		/* Negative rounds are the warm-up. */
		if (round >= 0)
			elapsed += bench_now_ns() - start;
		if (munmap(region, PAGES * PAGE) != 0)
			bench_fail("munmap");
	}
	bench_report(name, elapsed, (long)PAGES * REGIONS);
}

int main(void)
{
	static char page[PAGE];
	measure("page_fault", -1);
	int fd = open(FILE_PATH, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		bench_fail("open");
	memset(page, 'f', sizeof(page));
	for (int i = 0; i < PAGES; i++)
		if (bench_io(fd, page, PAGE, 1) != 0)
			bench_fail("write");
	measure("file_fault", fd);
	close(fd);
	unlink(FILE_PATH);
	return 0;
}
