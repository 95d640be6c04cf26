/*
 * mmap, munmap, mprotect on anonymous memory: zero-filled demand paging,
 * MAP_SHARED shared across fork, MAP_PRIVATE copy-on-write, and the
 * SIGSEGV a bad access raises (si_code SEGV_MAPERR or SEGV_ACCERR, si_addr).
 * Linux: mm/mmap.c, mm/mprotect.c, mm/memory.c, arch/x86/mm/fault.c.
 * Alignment errors use the raw syscalls: musl's mprotect rounds the start down.
 */
#include "test.h"
#include <signal.h>

#define PAGE 4096

static void check_fault(const char *check, volatile char *p, int write, int code)
{
	if (!faults(p, write))
		fail(check, "access to %p did not fault", (void *)p);
	else if (fault_signo != SIGSEGV || fault_code != code || fault_addr != (void *)p)
		fail(check, "signal %d si_code %d si_addr %p, expected SIGSEGV code %d at %p", fault_signo, fault_code,
		     fault_addr, code, (void *)p);
	else
		pass(check);
}

static char *map(size_t len, int prot, int flags)
{
	return mmap(NULL, len, prot, flags | MAP_ANONYMOUS, -1, 0);
}

int main(void)
{
	struct sigaction sa = {.sa_sigaction = on_fault, .sa_flags = SA_SIGINFO};
	REQUIRE(sigaction(SIGSEGV, &sa, NULL) == 0);

	char *p = map(16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	CHECK("private_anonymous_maps", p != MAP_FAILED, "mmap: %s", errno_name(errno));
	REQUIRE(p != MAP_FAILED);
	CHECK("page_aligned", ((unsigned long)p & (PAGE - 1)) == 0, "mmap returned %p", (void *)p);
	int zero = 1;
	for (int i = 0; i < 16 * PAGE; i += 64)
		zero &= p[i] == 0;
	CHECK("zero_filled", zero, "fresh anonymous memory is not zero");
	for (int i = 0; i < 16 * PAGE; i++)
		p[i] = (char)i;
	int kept = 1;
	for (int i = 0; i < 16 * PAGE; i++)
		kept &= p[i] == (char)i;
	CHECK("read_back", kept, "written data did not read back");

	/* Private: a write after fork is seen by neither side's partner. */
	p[0] = 'P';
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		int saw = p[0] == 'P';
		p[0] = 'C';
		_exit(saw && p[0] == 'C' ? 0 : 1);
	}
	int status = wait_status(pid);
	CHECK("private_cow_child_write_invisible", p[0] == 'P', "parent sees the child's write: %c", p[0]);
	CHECK("private_child_sees_fork_time_copy", exited_with(status, 0),
	      "child did not see the fork-time data or its own write (%s)", status_text(status));

	/* Parent writes after fork are not seen by the child either. */
	int ready[2];
	REQUIRE(pipe(ready) == 0);
	p[2 * PAGE] = 'A';
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		char c;
		read(ready[0], &c, 1);
		_exit(p[2 * PAGE] == 'A' ? 0 : 1);
	}
	p[2 * PAGE] = 'B';
	write(ready[1], "x", 1);
	status = wait_status(pid);
	CHECK("private_cow_parent_write_invisible", exited_with(status, 0), "child saw the parent's later write (%s)",
	      status_text(status));

	/* Shared: the child's write is visible to the parent. */
	char *s = map(4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED);
	REQUIRE(s != MAP_FAILED);
	s[0] = 'P';
	s[3 * PAGE] = 'p';
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		s[0] = 'C';
		s[3 * PAGE] = 'c';
		_exit(0);
	}
	wait_status(pid);
	CHECK("shared_anonymous_visible_across_fork", s[0] == 'C' && s[3 * PAGE] == 'c', "parent sees %c %c", s[0],
	      s[3 * PAGE]);

	/* munmap, then access: SIGSEGV, SEGV_MAPERR, si_addr the address. */
	char *u = map(3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	REQUIRE(u != MAP_FAILED);
	u[PAGE] = 1;
	CHECK("munmap_ok", munmap(u + PAGE, PAGE) == 0, "munmap: %s", errno_name(errno));
	check_fault("unmapped_write_segv_maperr", u + PAGE + 8, 1, SEGV_MAPERR);
	check_fault("unmapped_read_segv_maperr", u + PAGE + 100, 0, SEGV_MAPERR);
	CHECK("neighbours_survive_munmap", !faults(u, 1) && !faults(u + 2 * PAGE, 1), "pages beside the hole fault");
	check_fault("null_read_segv_maperr", (volatile char *)0, 0, SEGV_MAPERR);

	/* mprotect read-only, then write: SEGV_ACCERR; reading still works. */
	char *r = map(2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	REQUIRE(r != MAP_FAILED);
	r[PAGE] = 9;
	CHECK("mprotect_ok", mprotect(r + PAGE, PAGE, PROT_READ) == 0, "mprotect: %s", errno_name(errno));
	check_fault("readonly_write_segv_accerr", r + PAGE + 16, 1, SEGV_ACCERR);
	CHECK("readonly_read_ok", !faults(r + PAGE, 0) && r[PAGE] == 9, "reading a read-only page failed");
	CHECK("mprotect_only_range", !faults(r, 1), "the page before the range became read-only");
	CHECK("mprotect_back_to_writable", mprotect(r + PAGE, PAGE, PROT_READ | PROT_WRITE) == 0 && !faults(r + PAGE, 1),
	      "writing after mprotect(RW) faulted");
	char *none = map(PAGE, PROT_NONE, MAP_PRIVATE);
	REQUIRE(none != MAP_FAILED);
	check_fault("prot_none_read_segv_accerr", none, 0, SEGV_ACCERR);
	char *ro = map(PAGE, PROT_READ, MAP_PRIVATE);
	REQUIRE(ro != MAP_FAILED);
	check_fault("readonly_mapping_write_segv_accerr", ro + 5, 1, SEGV_ACCERR);

	/* MAP_FIXED replaces what was there with fresh zeroed memory. */
	char *f = map(2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	REQUIRE(f != MAP_FAILED);
	f[PAGE] = 5;
	char *g = mmap(f + PAGE, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK("map_fixed_replaces", g == f + PAGE && g[0] == 0, "MAP_FIXED gave %p (wanted %p), byte %d", (void *)g,
	      (void *)(f + PAGE), g == MAP_FAILED ? -1 : g[0]);

	/* A large mapping is populated on demand. */
	size_t big = 64u << 20;
	char *b = map(big, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	REQUIRE(b != MAP_FAILED);
	for (size_t off = 0; off < big; off += 1 << 20)
		b[off] = 1;
	CHECK("large_mapping_demand_paged", b[big - (1 << 20)] == 1 && munmap(b, big) == 0, "64 MiB mapping failed");

	/* Errors. */
	EXPECT_ERRNO("len_zero_einval", mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), EINVAL);
	EXPECT_ERRNO("no_private_or_shared_einval", mmap(NULL, PAGE, PROT_READ, MAP_ANONYMOUS, -1, 0), EINVAL);
	EXPECT_ERRNO("fixed_unaligned_einval",
		     mmap(f + 1, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), EINVAL);
	EXPECT_ERRNO("file_mapping_bad_fd_ebadf", mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, -1, 0), EBADF);
	EXPECT_ERRNO("munmap_unaligned_einval", syscall(SYS_munmap, f + 1, PAGE), EINVAL);
	EXPECT_ERRNO("munmap_len_zero_einval", munmap(f, 0), EINVAL);
	CHECK("munmap_unmapped_range_ok", munmap(u + PAGE, PAGE) == 0, "munmap of a hole: %s", errno_name(errno));
	EXPECT_ERRNO("mprotect_unmapped_enomem", mprotect(u + PAGE, PAGE, PROT_READ), ENOMEM);
	EXPECT_ERRNO("mprotect_unaligned_einval", syscall(SYS_mprotect, r + 1, PAGE, PROT_READ), EINVAL);
	EXPECT_ERRNO("mprotect_bad_prot_einval", mprotect(r, PAGE, 0x100), EINVAL);
	return test_done();
}
