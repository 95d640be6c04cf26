#include "test.h"
/*
 * mremap(2): shrinking unmaps the tail; growing stays in place when the
 * addresses after the mapping are free, fails with ENOMEM when they are
 * not unless MREMAP_MAYMOVE lets it move, and a move keeps the contents
 * (private, shared with a child, or a file's); MREMAP_FIXED moves to a
 * given address, replacing what was there; MREMAP_DONTUNMAP leaves the
 * old range mapped and empty; and the argument checks (EINVAL, EFAULT).
 * Linux: mm/mremap.c.
 */
#include <sys/mman.h>

#define P 4096L

static char *map(void *at, long pages, int flags)
{
	char *p = mmap(at, pages * P, PROT_READ | PROT_WRITE,
		       flags ? flags : MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void fill(char *p, long pages, char seed)
{
	for (long i = 0; i < pages; i++)
		memset(p + i * P, seed + (char)i, P);
}

static int holds(const char *p, long pages, char seed)
{
	for (long i = 0; i < pages; i++)
		if (p[i * P] != (char)(seed + i) || p[i * P + P - 1] != (char)(seed + i))
			return 0;
	return 1;
}

/* Whether [p, p + pages * P) is mapped: mincore says ENOMEM if not. */
static int mapped(const void *p, long pages)
{
	unsigned char vec[64];
	return mincore((void *)p, pages * P, vec) == 0;
}

static void shrink_and_grow(void)
{
	char *p = map(NULL, 8, 0);
	REQUIRE_VOID(p);
	fill(p, 8, 'a');
	CHECK("shrink_same_address", mremap(p, 8 * P, 4 * P, 0) == p, "moved");
	CHECK("shrink_unmaps_tail", !mapped(p + 4 * P, 1) && mapped(p, 4), "tail still there");
	char *q = mremap(p, 4 * P, 8 * P, 0);
	CHECK("grow_in_place", q == p, "got %p for %p", q, p);
	CHECK("grow_keeps_contents", q == p && holds(p, 4, 'a'), "contents changed");
	CHECK("grow_new_pages_zero", q == p && p[5 * P] == 0 && p[8 * P - 1] == 0, "not zero");
	munmap(p, 8 * P);
}

static void blocked_growth(void)
{
	char *p = map(NULL, 4, 0);
	REQUIRE_VOID(p);
	munmap(p + 2 * P, 2 * P);
	char *wall = map(p + 2 * P, 1, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
	REQUIRE_VOID(wall == p + 2 * P);
	fill(p, 2, 'k');
	EXPECT_ERRNO("blocked_enomem", mremap(p, 2 * P, 4 * P, 0), ENOMEM);
	char *q = mremap(p, 2 * P, 6 * P, MREMAP_MAYMOVE);
	CHECK("maymove_moves", q != MAP_FAILED && q != p, "got %p", q);
	if (q == MAP_FAILED)
		return;
	CHECK("move_keeps_contents", holds(q, 2, 'k'), "contents lost in the move");
	CHECK("move_unmaps_old", !mapped(p, 1), "old range still mapped");
	CHECK("move_leaves_neighbour", mapped(wall, 1), "the next mapping went too");
	q[5 * P] = 1;
	munmap(q, 6 * P);
	munmap(wall, P);
}

static void shared_move(void)
{
	char *p = map(NULL, 2, MAP_SHARED | MAP_ANONYMOUS);
	REQUIRE_VOID(p);
	int go[2], done[2];
	REQUIRE_VOID(pipe(go) == 0 && pipe(done) == 0);
	pid_t pid = fork();
	REQUIRE_VOID(pid >= 0);
	if (pid == 0) {
		char c;
		read(go[0], &c, 1);
		char seen = p[P];
		write(done[1], &seen, 1);
		_exit(0);
	}
	char *q = mremap(p, 2 * P, 64 * P, MREMAP_MAYMOVE);
	CHECK("shared_moves", q != MAP_FAILED, "mremap: %s", errno_name(errno));
	if (q != MAP_FAILED)
		q[P] = 'S';
	write(go[1], "x", 1);
	char seen = 0;
	read(done[0], &seen, 1);
	waitpid(pid, NULL, 0);
	CHECK("shared_still_shared", seen == 'S', "the child saw %d", seen);
	if (q != MAP_FAILED)
		munmap(q, 64 * P);
	close(go[0]), close(go[1]), close(done[0]), close(done[1]);
}

static void file_move(void)
{
	int fd = open("file", O_RDWR | O_CREAT | O_TRUNC, 0644);
	REQUIRE_VOID(fd >= 0);
	static char buf[4 * P];
	fill(buf, 4, 'f');
	REQUIRE_VOID(write(fd, buf, sizeof(buf)) == sizeof(buf));
	char *p = mmap(NULL, 2 * P, PROT_READ, MAP_PRIVATE, fd, P);
	REQUIRE_VOID(p != MAP_FAILED);
	char *blocker = map(p + 2 * P, 1, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE);
	char *q = mremap(p, 2 * P, 3 * P, MREMAP_MAYMOVE);
	CHECK("file_moves", q != MAP_FAILED, "mremap: %s", errno_name(errno));
	CHECK("file_offsets_kept", q != MAP_FAILED && holds(q, 3, 'f' + 1), "wrong file pages");
	if (q != MAP_FAILED)
		munmap(q, 3 * P);
	if (blocker)
		munmap(blocker, P);
	close(fd);
	unlink("file");
}

static void fixed_and_dontunmap(void)
{
	char *p = map(NULL, 2, 0), *target = map(NULL, 4, 0);
	REQUIRE_VOID(p && target);
	fill(p, 2, 'x');
	fill(target, 4, 'T');
	EXPECT_ERRNO("fixed_needs_maymove", mremap(p, 2 * P, 2 * P, MREMAP_FIXED, target), EINVAL);
	EXPECT_ERRNO("fixed_overlap_einval",
		     mremap(p, 2 * P, 2 * P, MREMAP_FIXED | MREMAP_MAYMOVE, p + P), EINVAL);
	char *q = mremap(p, 2 * P, 2 * P, MREMAP_FIXED | MREMAP_MAYMOVE, target);
	CHECK("fixed_moves_there", q == target, "got %p, wanted %p", q, target);
	CHECK("fixed_replaces", holds(target, 2, 'x') && holds(target + 2 * P, 2, 'T' + 2),
	      "target holds the wrong pages");
	char *r = mremap(target, 2 * P, 2 * P, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
	CHECK("dontunmap_moves", r != MAP_FAILED && r != target, "mremap: %s", errno_name(errno));
	CHECK("dontunmap_contents", r != MAP_FAILED && holds(r, 2, 'x'), "contents lost");
	CHECK("dontunmap_old_empty", mapped(target, 2) && target[0] == 0 && target[P] == 0,
	      "old range not mapped and empty");
	if (r != MAP_FAILED)
		munmap(r, 2 * P);
	munmap(target, 4 * P);
}

static void bad_arguments(void)
{
	char *p = map(NULL, 2, 0);
	REQUIRE_VOID(p);
	EXPECT_ERRNO("unknown_flag", mremap(p, P, 2 * P, 0x100), EINVAL);
	EXPECT_ERRNO("unaligned", mremap(p + 1, P, 2 * P, MREMAP_MAYMOVE), EINVAL);
	EXPECT_ERRNO("zero_new_len", mremap(p, P, 0, MREMAP_MAYMOVE), EINVAL);
	EXPECT_ERRNO("dontunmap_needs_maymove", mremap(p, P, P, MREMAP_DONTUNMAP), EINVAL);
	EXPECT_ERRNO("dontunmap_same_len", mremap(p, P, 2 * P, MREMAP_MAYMOVE | MREMAP_DONTUNMAP),
		     EINVAL);
	munmap(p, 2 * P);
	EXPECT_ERRNO("unmapped_efault", mremap(p, P, 2 * P, MREMAP_MAYMOVE), EFAULT);
	p = map(NULL, 1, 0);
	REQUIRE_VOID(p);
	char *next = map(p + P, 1, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE);
	if (next)
		EXPECT_ERRNO("across_areas_efault", mremap(p, 2 * P, 4 * P, MREMAP_MAYMOVE), EFAULT);
	munmap(p, 2 * P);
}

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	shrink_and_grow();
	blocked_growth();
	shared_move();
	file_move();
	fixed_and_dontunmap();
	bad_arguments();
	return test_done();
}
