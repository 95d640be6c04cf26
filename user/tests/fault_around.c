/*
 * Fault-around on file mappings: a read fault also maps the file's pages
 * already in the page cache in the 64 KiB around it (Linux: mm/memory.c
 * do_fault_around, mm/filemap.c filemap_map_pages, fault_around_bytes).
 * What a program can see of it must be nothing: the neighbours it maps hold
 * the right file pages at the right offsets, nothing is mapped outside the
 * VMA (an anonymous neighbour still reads zeros, a PROT_NONE part of the
 * same file mapping still faults) or past the end of the file (SIGBUS),
 * private neighbours are still copied on write and the file never sees it,
 * and shared neighbours are the cache pages themselves.
 */
#include "test.h"

#define PAGE 4096
#define PAGES 20
#define FILE_LEN (PAGES * PAGE)

static char pattern(long i)
{
	return (char)('a' + (i / PAGE * 7 + i) % 23);
}

/* PAGES pages of the pattern, all in the page cache (just written). */
static int make_file(const char *name, long len)
{
	static char buf[FILE_LEN];
	for (long i = 0; i < len; i++)
		buf[i] = pattern(i);
	int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0 && write(fd, buf, (size_t)len) != len) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Whether page `page` of the mapping `p` (file offset `off`) holds the file. */
static int page_matches(const char *p, int page, long off)
{
	for (long i = 0; i < PAGE; i += 512)
		if (p[page * PAGE + i] != pattern(off + page * PAGE + i))
			return 0;
	return 1;
}

static void neighbours_hold_their_pages(int fd)
{
	/* An offset of 3 pages: each neighbour's index comes from the VMA's pgoff. */
	char *p = mmap(NULL, 16 * PAGE, PROT_READ, MAP_SHARED, fd, 3 * PAGE);
	REQUIRE_VOID(p != MAP_FAILED);
	CHECK("faulting_page_reads_file", p[5 * PAGE + 7] == pattern(8 * PAGE + 7), "saw %c", p[5 * PAGE + 7]);
	int bad = -1;
	for (int i = 0; i < 16 && bad < 0; i++)
		if (!page_matches(p, i, 3 * PAGE))
			bad = i;
	CHECK("neighbours_read_their_file_pages", bad < 0, "page %d differs", bad);
	/* Shared: the cache page itself, so a later write(2) shows at once. */
	REQUIRE_VOID(pwrite(fd, "S", 1, 3 * PAGE + 9 * PAGE + 1) == 1);
	CHECK("shared_neighbour_is_cache_page", p[9 * PAGE + 1] == 'S', "saw %c", p[9 * PAGE + 1]);
	REQUIRE_VOID(pwrite(fd, &(char){pattern(12 * PAGE + 1)}, 1, 12 * PAGE + 1) == 1);
	munmap(p, 16 * PAGE);
}

static void private_neighbours_copy_on_write(int fd)
{
	char *p = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	REQUIRE_VOID(p != MAP_FAILED);
	CHECK("private_read_fault", p[100] == pattern(100), "saw %c", p[100]);
	p[PAGE + 3] = 'P';
	p[15 * PAGE] = 'Q';
	char c1 = 0, c15 = 0;
	REQUIRE_VOID(pread(fd, &c1, 1, PAGE + 3) == 1 && pread(fd, &c15, 1, 15 * PAGE) == 1);
	CHECK("private_write_stays_private", p[PAGE + 3] == 'P' && p[15 * PAGE] == 'Q', "saw %c %c",
	      p[PAGE + 3], p[15 * PAGE]);
	CHECK("file_unchanged_by_private_write", c1 == pattern(PAGE + 3) && c15 == pattern(15 * PAGE),
	      "file has %c %c", c1, c15);
	/* An unwritten private neighbour still follows the file. */
	REQUIRE_VOID(pwrite(fd, "W", 1, 2 * PAGE + 5) == 1);
	CHECK("unwritten_private_neighbour_follows_file", p[2 * PAGE + 5] == 'W', "saw %c", p[2 * PAGE + 5]);
	REQUIRE_VOID(pwrite(fd, &(char){pattern(2 * PAGE + 5)}, 1, 2 * PAGE + 5) == 1);
	munmap(p, 16 * PAGE);
}

static void stays_inside_the_vma(int fd)
{
	/* 32 anonymous pages, the middle 4 (8..11) replaced by the file. */
	char *a = mmap(NULL, 32 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE_VOID(a != MAP_FAILED);
	char *f = mmap(a + 8 * PAGE, 4 * PAGE, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
	REQUIRE_VOID(f == a + 8 * PAGE);
	CHECK("file_part_reads_file", f[PAGE + 1] == pattern(PAGE + 1), "saw %c", f[PAGE + 1]);
	int nonzero = -1;
	for (int i = 0; i < 32 && nonzero < 0; i++)
		if ((i < 8 || i >= 12) && a[i * PAGE] != 0)
			nonzero = i;
	CHECK("anonymous_neighbours_read_zero", nonzero < 0, "page %d is not zero", nonzero);
	munmap(a, 32 * PAGE);

	/* A PROT_NONE part of one file mapping must still fault. */
	char *p = mmap(NULL, 16 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	REQUIRE_VOID(p != MAP_FAILED);
	REQUIRE_VOID(mprotect(p + 4 * PAGE, 4 * PAGE, PROT_NONE) == 0);
	CHECK("read_before_prot_none", p[2 * PAGE] == pattern(2 * PAGE), "saw %c", p[2 * PAGE]);
	CHECK("prot_none_part_still_faults", faults(p + 5 * PAGE, 0) && fault_signo == SIGSEGV,
	      "signal %d", fault_signo);
	CHECK("after_prot_none_reads_file", p[9 * PAGE] == pattern(9 * PAGE), "saw %c", p[9 * PAGE]);
	munmap(p, 16 * PAGE);
}

static void stops_at_eof(void)
{
	/* 2.5 pages of file under a 16-page mapping. */
	int fd = make_file("short", 2 * PAGE + PAGE / 2);
	REQUIRE_VOID(fd >= 0);
	char *p = mmap(NULL, 16 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	REQUIRE_VOID(p != MAP_FAILED);
	CHECK("first_page_reads_file", p[0] == pattern(0), "saw %c", p[0]);
	CHECK("partial_page_tail_zero", !faults(p + 2 * PAGE + PAGE / 2 + 1, 0) && p[2 * PAGE + PAGE / 2 + 1] == 0,
	      "signal %d", fault_signo);
	CHECK("page_past_eof_sigbus", faults(p + 3 * PAGE, 0) && fault_signo == SIGBUS && fault_code == BUS_ADRERR,
	      "signal %d code %d", fault_signo, fault_code);
	/* Shrink after the neighbours were mapped: they must go. */
	CHECK("page_1_mapped", p[PAGE] == pattern(PAGE), "saw %c", p[PAGE]);
	REQUIRE_VOID(ftruncate(fd, PAGE) == 0);
	CHECK("truncated_neighbour_sigbus", faults(p + PAGE, 0) && fault_signo == SIGBUS, "signal %d", fault_signo);
	munmap(p, 16 * PAGE);
	close(fd);
}

int main(void)
{
	struct sigaction sa = {.sa_sigaction = on_fault, .sa_flags = SA_SIGINFO};
	REQUIRE(sigaction(SIGBUS, &sa, NULL) == 0 && sigaction(SIGSEGV, &sa, NULL) == 0);
	REQUIRE(enter_scratch_dir() == 0);
	int fd = make_file("data", FILE_LEN);
	REQUIRE(fd >= 0);
	neighbours_hold_their_pages(fd);
	private_neighbours_copy_on_write(fd);
	stays_inside_the_vma(fd);
	stops_at_eof();
	close(fd);
	return test_done();
}
