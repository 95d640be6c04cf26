/*
 * brk: the program break grows, the new memory is zeroed and usable, it
 * shrinks, and a request it cannot satisfy leaves it where it was.
 * Linux: mm/mmap.c (SYSCALL_DEFINE1(brk)). The raw syscall returns the new
 * break, or the old one on failure (musl's sbrk only reads the break).
 */
#include "test.h"

static unsigned long raw_brk(unsigned long addr)
{
	return (unsigned long)syscall(SYS_brk, addr);
}

int main(void)
{
	unsigned long start = raw_brk(0);
	CHECK("brk0_returns_break", start != 0 && start == raw_brk(0), "brk(0) = %#lx, then %#lx", start, raw_brk(0));

	unsigned long want = start + (1 << 20);
	unsigned long got = raw_brk(want);
	CHECK("brk_grows_1mib", got == want, "brk(%#lx) = %#lx", want, got);
	REQUIRE(got == want);

	volatile unsigned char *p = (unsigned char *)start;
	int zero = 1;
	for (unsigned long off = 0; off < (1 << 20); off += 4096)
		zero &= p[off] == 0;
	CHECK("new_memory_is_zero", zero, "grown break memory is not zero-filled");
	for (unsigned long off = 0; off < (1 << 20); off += 512)
		p[off] = (unsigned char)(off >> 9);
	int kept = 1;
	for (unsigned long off = 0; off < (1 << 20); off += 512)
		kept &= p[off] == (unsigned char)(off >> 9);
	CHECK("new_memory_is_usable", kept, "data written above the old break did not read back");

	got = raw_brk(start + 4096);
	CHECK("brk_shrinks", got == start + 4096, "brk(start + 4096) = %#lx", got);
	got = raw_brk(start + 2 * 4096);
	CHECK("regrown_page_is_zero", got == start + 2 * 4096 && p[4096] == 0 && p[4096 + 512] == 0,
	      "memory freed by shrinking and grown again is not zero (brk %#lx)", got);
	CHECK("kept_page_survives_shrink", p[512] == 1, "data below the new break was lost");

	got = raw_brk(start - (64ul << 20));
	CHECK("brk_below_start_refused", got == start + 2 * 4096, "brk(far below start) = %#lx", got);
	got = raw_brk(1ul << 47);
	CHECK("brk_huge_refused", got == start + 2 * 4096, "brk(1 << 47) = %#lx", got);

	/* An unaligned break is allowed; the memory up to the page end is usable. */
	got = raw_brk(start + 100);
	CHECK("unaligned_break", got == start + 100, "brk(start + 100) = %#lx", got);
	p[100] = 7;
	CHECK("unaligned_break_page_usable", p[100] == 7, "write within the last page failed");
	raw_brk(start);
	return test_done();
}
