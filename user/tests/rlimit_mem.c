#include "test.h"
/*
 * The memory and file-size limits. RLIMIT_AS bounds the whole address
 * space (mmap ENOMEM, brk unchanged), not counting what a MAP_FIXED
 * mapping replaces; RLIMIT_DATA bounds private writable memory (mmap
 * ENOMEM, brk unchanged) but not read-only or shared mappings, and a soft
 * limit of 0 lets mappings up to the hard one (Valgrind's case);
 * RLIMIT_FSIZE shortens a write that reaches it, and a write or truncate
 * past it gets SIGXFSZ (SI_USER, from the process itself) and EFBIG;
 * RLIMIT_CORE is stored. mprotect making private pages writable counts
 * them as data (ENOMEM past RLIMIT_DATA), and stack growth counts against
 * RLIMIT_AS (SIGSEGV past it).
 * Linux: mm/mmap.c (may_expand_vm, mmap_region, brk, check_data_rlimit,
 * acct_stack_growth), mm/mprotect.c (mprotect_fixup),
 * mm/filemap.c (generic_write_check_limits), fs/attr.c (inode_newsize_ok).
 */
#include <sys/mount.h>
#include <sys/resource.h>

#define MiB (1UL << 20)

/* Sets the soft limit of `res` (the hard one stays); returns the old soft limit. */
static rlim_t set_soft(int res, rlim_t cur)
{
	struct rlimit rl;
	getrlimit(res, &rl);
	rlim_t old = rl.rlim_cur;
	rl.rlim_cur = cur;
	if (setrlimit(res, &rl) != 0)
		fail("setup", "setrlimit(%d, %lu): %s", res, (unsigned long)cur, errno_name(errno));
	return old;
}

static void *map(size_t len, int prot, int flags)
{
	return mmap(NULL, len, prot, flags, -1, 0);
}

static unsigned long brk_at(unsigned long addr)
{
	return (unsigned long)syscall(SYS_brk, addr);
}

static void test_as(void)
{
	rlim_t old = set_soft(RLIMIT_AS, 256 * MiB);
	void *big = map(512 * MiB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS);
	int big_err = errno;
	void *a = map(64 * MiB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS);
	void *b = map(256 * MiB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS);
	int b_err = errno;
	if (a != MAP_FAILED)
		munmap(a, 64 * MiB);
	void *c = map(200 * MiB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS);
	/* Replacing c in place needs no new room. */
	void *d = c == MAP_FAILED ? MAP_FAILED
				  : mmap(c, 200 * MiB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	unsigned long cur = brk_at(0);
	unsigned long grown = brk_at(cur + 512 * MiB);
	if (c != MAP_FAILED)
		munmap(c, 200 * MiB);
	set_soft(RLIMIT_AS, old);

	CHECK("as_mmap_past_limit_enomem", big == MAP_FAILED && big_err == ENOMEM, "mmap 512 MiB: %p (%s)", big,
	      errno_name(big_err));
	CHECK("as_mmap_within_limit", a != MAP_FAILED, "mmap 64 MiB under a 256 MiB limit failed");
	CHECK("as_counts_every_mapping", b == MAP_FAILED && b_err == ENOMEM, "64 + 256 MiB: %p (%s)", b,
	      errno_name(b_err));
	CHECK("as_munmap_gives_room", c != MAP_FAILED, "200 MiB after munmap failed");
	CHECK("as_map_fixed_replacing_fits", d == c, "MAP_FIXED over the same 200 MiB: %p", d);
	CHECK("as_brk_past_limit_unchanged", grown == cur, "brk(+512 MiB) gave %#lx, break was %#lx", grown, cur);
}

static void test_data(void)
{
	rlim_t old = set_soft(RLIMIT_DATA, 8 * MiB);
	void *priv = map(16 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
	int priv_err = errno;
	void *ro = map(16 * MiB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
	void *shared = map(16 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS);
	void *small = map(1 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
	unsigned long cur = brk_at(0);
	unsigned long big = brk_at(cur + 16 * MiB);
	unsigned long little = brk_at(cur + 64 * 1024);
	brk_at(cur);
	/* Valgrind's case: soft 0, hard above. */
	set_soft(RLIMIT_DATA, 0);
	void *zero = map(1 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
	set_soft(RLIMIT_DATA, old);
	void *again = map(16 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);

	CHECK("data_private_writable_enomem", priv == MAP_FAILED && priv_err == ENOMEM,
	      "mmap 16 MiB rw private under 8 MiB: %p (%s)", priv, errno_name(priv_err));
	CHECK("data_readonly_not_counted", ro != MAP_FAILED, "16 MiB read-only failed");
	CHECK("data_shared_not_counted", shared != MAP_FAILED, "16 MiB shared rw failed");
	CHECK("data_small_fits", small != MAP_FAILED, "1 MiB rw private failed");
	CHECK("data_brk_past_limit_unchanged", big == cur, "brk(+16 MiB) gave %#lx, break was %#lx", big, cur);
	CHECK("data_brk_within_limit", little == cur + 64 * 1024, "brk(+64 KiB) gave %#lx, break was %#lx", little,
	      cur);
	CHECK("data_soft_zero_allows_hard", zero != MAP_FAILED, "soft 0, hard infinite: %s", errno_name(errno));
	CHECK("data_limit_lifted", again != MAP_FAILED, "16 MiB after restoring the limit: %s", errno_name(errno));
	void *maps[] = {ro, shared, again};
	for (unsigned i = 0; i < 3; i++)
		if (maps[i] != MAP_FAILED)
			munmap(maps[i], 16 * MiB);
	if (small != MAP_FAILED)
		munmap(small, 1 * MiB);
	if (zero != MAP_FAILED)
		munmap(zero, 1 * MiB);
}

/* mprotect making private pages writable turns them into data. */
static void test_mprotect_data(void)
{
	void *ro = map(16 * MiB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
	void *sh = map(16 * MiB, PROT_READ, MAP_SHARED | MAP_ANONYMOUS);
	REQUIRE_VOID(ro != MAP_FAILED && sh != MAP_FAILED);
	rlim_t old = set_soft(RLIMIT_DATA, 8 * MiB);
	errno = 0;
	int whole = mprotect(ro, 16 * MiB, PROT_READ | PROT_WRITE);
	int whole_err = errno;
	int part = mprotect(ro, 1 * MiB, PROT_READ | PROT_WRITE);
	/* Already data: adding exec takes no new room. */
	int exec = mprotect(ro, 1 * MiB, PROT_READ | PROT_WRITE | PROT_EXEC);
	int shared = mprotect(sh, 16 * MiB, PROT_READ | PROT_WRITE);
	set_soft(RLIMIT_DATA, old);
	int lifted = mprotect(ro, 16 * MiB, PROT_READ | PROT_WRITE);
	int wrote = lifted == 0 ? (((volatile char *)ro)[16 * MiB - 1] = 7) : 0;
	munmap(ro, 16 * MiB);
	munmap(sh, 16 * MiB);

	CHECK("data_mprotect_write_enomem", whole == -1 && whole_err == ENOMEM, "mprotect rw 16 MiB: %d (%s)",
	      whole, errno_name(whole_err));
	CHECK("data_mprotect_write_fits", part == 0, "mprotect rw 1 MiB: %s", errno_name(errno));
	CHECK("data_mprotect_already_data", exec == 0, "mprotect rwx of data: %d", exec);
	CHECK("data_mprotect_shared_not_counted", shared == 0, "mprotect rw shared: %d", shared);
	CHECK("data_mprotect_limit_lifted", lifted == 0 && wrote == 7, "mprotect rw after restoring: %d", lifted);
}

/* Kilobytes of address space in use (VmSize of /proc/self/status). */
static long vm_size_kb(void)
{
	char buf[4096];
	int fd = open("/proc/self/status", O_RDONLY);
	long n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	char *p = strstr(buf, "VmSize:");
	return p ? strtol(p + 7, NULL, 10) : -1;
}

/* Touches `depth` KiB of stack below the caller, a page at a time. */
static __attribute__((noinline)) int dig(int depth)
{
	volatile char page[4096];
	page[0] = (char)depth;
	if (depth <= 4)
		return page[0];
	return dig(depth - 4) + page[0];
}

/* Runs dig(kib) in a child whose RLIMIT_AS leaves `room` KiB; its status. */
static int grow_stack_in_child(long room, int kib)
{
	pid_t pid = fork();
	if (pid == 0) {
		long size = vm_size_kb();
		if (size < 0)
			_exit(3);
		struct rlimit rl = {(rlim_t)(size + room) * 1024, RLIM_INFINITY};
		if (setrlimit(RLIMIT_AS, &rl) != 0)
			_exit(4);
		_exit(dig(kib) == 0x5a5a ? 5 : 0);
	}
	return wait_status(pid);
}

/* Stack growth counts against RLIMIT_AS (Linux: acct_stack_growth). */
static void test_stack_as(void)
{
	mkdir("/proc", 0555);
	REQUIRE_VOID(mount("proc", "/proc", "proc", 0, NULL) == 0);
	int tight = grow_stack_in_child(64, 2048);
	int roomy = grow_stack_in_child(8192, 2048);
	umount("/proc");
	CHECK("as_stack_growth_segv", WIFSIGNALED(tight) && WTERMSIG(tight) == SIGSEGV,
	      "2 MiB of stack with 64 KiB of room: status %#x", tight);
	CHECK("as_stack_growth_within", WIFEXITED(roomy) && WEXITSTATUS(roomy) == 0,
	      "2 MiB of stack with 8 MiB of room: status %#x", roomy);
}

static volatile sig_atomic_t xfsz_hits, xfsz_code, xfsz_pid;

static void on_xfsz(int sig, siginfo_t *info, void *ctx)
{
	(void)sig;
	(void)ctx;
	xfsz_hits++;
	xfsz_code = info->si_code;
	xfsz_pid = info->si_pid;
}

static void test_fsize_ignored(int fd)
{
	static char buf[8192];
	memset(buf, 'x', sizeof(buf));
	signal(SIGXFSZ, SIG_IGN);
	rlim_t old = set_soft(RLIMIT_FSIZE, 10000);
	long w1 = write(fd, buf, 8192);
	long w2 = write(fd, buf, 4096);
	errno = 0;
	long w3 = write(fd, buf, 1);
	int e3 = errno;
	long w0 = write(fd, buf, 0);
	errno = 0;
	long p1 = pwrite(fd, buf, 10, 20000);
	int ep1 = errno;
	long p2 = pwrite(fd, buf, 10, 9999);
	errno = 0;
	long t1 = ftruncate(fd, 10001);
	int et1 = errno;
	long t2 = ftruncate(fd, 10000);
	long t3 = ftruncate(fd, 5000);
	errno = 0;
	long t4 = truncate("f", 20000);
	int et4 = errno;
	set_soft(RLIMIT_FSIZE, old);
	struct stat st;
	fstat(fd, &st);

	CHECK("fsize_write_below", w1 == 8192, "first write %ld", w1);
	CHECK("fsize_write_shortened", w2 == 10000 - 8192, "write across the limit gave %ld", w2);
	CHECK("fsize_write_at_limit_efbig", w3 == -1 && e3 == EFBIG, "write at the limit: %ld (%s)", w3,
	      errno_name(e3));
	CHECK("fsize_empty_write_ok", w0 == 0, "empty write at the limit: %ld", w0);
	CHECK("fsize_pwrite_past_efbig", p1 == -1 && ep1 == EFBIG, "pwrite at 20000: %ld (%s)", p1, errno_name(ep1));
	CHECK("fsize_pwrite_shortened", p2 == 1, "pwrite of 10 at 9999: %ld", p2);
	CHECK("fsize_ftruncate_past_efbig", t1 == -1 && et1 == EFBIG, "ftruncate(10001): %ld (%s)", t1,
	      errno_name(et1));
	CHECK("fsize_ftruncate_to_limit_ok", t2 == 0 && t3 == 0, "ftruncate(10000) %ld, ftruncate(5000) %ld", t2, t3);
	CHECK("fsize_truncate_past_efbig", t4 == -1 && et4 == EFBIG, "truncate(20000): %ld (%s)", t4, errno_name(et4));
	CHECK("fsize_size_after", st.st_size == 5000, "size %ld", (long)st.st_size);
}

static void test_fsize_handler(int fd)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_xfsz;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGXFSZ, &sa, NULL);
	rlim_t old = set_soft(RLIMIT_FSIZE, 4096);
	xfsz_hits = 0;
	errno = 0;
	long w = pwrite(fd, "y", 1, 4096);
	int e = errno;
	int hits_write = xfsz_hits;
	long t = ftruncate(fd, 8192);
	set_soft(RLIMIT_FSIZE, old);
	signal(SIGXFSZ, SIG_DFL);
	CHECK("fsize_sigxfsz_sent", w == -1 && e == EFBIG && hits_write == 1, "pwrite %ld (%s), %d signals", w,
	      errno_name(e), hits_write);
	CHECK("fsize_sigxfsz_si_user_self", xfsz_code == SI_USER && xfsz_pid == getpid(), "si_code %d si_pid %d",
	      (int)xfsz_code, (int)xfsz_pid);
	CHECK("fsize_truncate_sigxfsz", t == -1 && xfsz_hits == 2, "ftruncate %ld, %d signals", t, (int)xfsz_hits);
}

static void test_fsize_default(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open("g", O_CREAT | O_TRUNC | O_WRONLY, 0644);
		struct rlimit rl = {100, RLIM_INFINITY};
		setrlimit(RLIMIT_FSIZE, &rl);
		(void)!pwrite(fd, "z", 1, 200);
		_exit(0);
	}
	int status = wait_status(pid);
	CHECK("fsize_default_kills", WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ, "status %#x", status);
}

static void test_core(void)
{
	struct rlimit saved, rl = {4096, RLIM_INFINITY}, got;
	getrlimit(RLIMIT_CORE, &saved);
	int set = setrlimit(RLIMIT_CORE, &rl);
	getrlimit(RLIMIT_CORE, &got);
	setrlimit(RLIMIT_CORE, &saved);
	CHECK("core_limit_stored", set == 0 && got.rlim_cur == 4096 && got.rlim_max == RLIM_INFINITY,
	      "setrlimit %d, read back %lu/%lu", set, (unsigned long)got.rlim_cur, (unsigned long)got.rlim_max);
}

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	test_as();
	test_data();
	test_mprotect_data();
	test_stack_as();
	int fd = open("f", O_CREAT | O_TRUNC | O_RDWR, 0644);
	REQUIRE(fd >= 0);
	test_fsize_ignored(fd);
	test_fsize_handler(fd);
	close(fd);
	test_fsize_default();
	test_core();
	unlink("f");
	unlink("g");
	return test_done();
}
