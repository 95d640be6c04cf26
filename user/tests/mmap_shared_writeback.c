/*
 * mmap_shared_writeback: writes through a MAP_SHARED mapping of a file reach
 * the file: read(2) sees them at once, msync(MS_SYNC) writes them, and a
 * write made after that msync (the page was written back and is clean
 * again) is not lost either: it is in the file after munmap and fsync.
 * Every page of the mapping is written in a second round, one of them
 * only in the second round. With a directory argument the file is made
 * there and kept (the disk tier runs it on /data, so that its contents on
 * the ext2 image are compared with Linux's); without, in the tmpfs
 * scratch directory. Linux: mm/memory.c `do_shared_fault`, `do_wp_page`
 * (`wp_page_shared`), mm/rmap.c `page_mkclean`, mm/msync.c.
 */
#include <sys/mman.h>

#include "test.h"

#define PAGES 3
#define PAGE 4096

/* The byte the test expects at `i` after both rounds. */
static char expected(size_t i)
{
	size_t page = i / PAGE, off = i % PAGE;
	if (off < 16)
		return (char)('A' + page); /* second round: every page's head */
	if (page == 0 && off < 32)
		return 'x'; /* first round, page 0 only */
	return 0;
}

static int file_is_expected(int fd)
{
	static char back[PAGES * PAGE];
	if (pread(fd, back, sizeof(back), 0) != (ssize_t)sizeof(back))
		return 0;
	for (size_t i = 0; i < sizeof(back); i++)
		if (back[i] != expected(i))
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		REQUIRE(chdir(argv[1]) == 0);
	else
		REQUIRE(enter_scratch_dir() == 0);
	int fd = open("mmap-shared", O_RDWR | O_CREAT | O_TRUNC, 0644);
	REQUIRE(fd >= 0);
	REQUIRE(ftruncate(fd, PAGES * PAGE) == 0);
	char *map = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE(map != MAP_FAILED);

	/* Round 1: page 0 bytes 0..31. */
	memset(map, 'x', 32);
	char first[32];
	CHECK("read_sees_mapping_write", pread(fd, first, 32, 0) == 32 && first[31] == 'x',
	      "read %c", first[31]);
	EXPECT_OK("msync_first", msync(map, PAGES * PAGE, MS_SYNC));

	/* Round 2: after the writeback, every page's first 16 bytes. */
	for (int p = 0; p < PAGES; p++)
		memset(map + p * PAGE, 'A' + p, 16);
	CHECK("read_sees_second_round", file_is_expected(fd), "contents differ");
	EXPECT_OK("munmap", munmap(map, PAGES * PAGE));
	EXPECT_OK("fsync", fsync(fd));
	CHECK("file_after_munmap_fsync", file_is_expected(fd), "contents differ");

	/* A private mapping of it sees the same bytes; its writes stay its own. */
	char *priv = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	REQUIRE(priv != MAP_FAILED);
	int same = priv[0] == 'A' && priv[20] == 'x';
	priv[0] = 'p';
	CHECK("private_sees_shared_writes", same, "read %c %c", priv[0], priv[20]);
	munmap(priv, PAGE);
	CHECK("private_write_not_in_file", file_is_expected(fd), "contents differ");
	close(fd);
	return test_done();
}
