/*
 * mmap of regular files: MAP_PRIVATE (read faults share the file's page, a
 * write copies it) and MAP_SHARED (the page cache itself: visible to read(2)
 * and write(2) at once, and across fork), the errors of mmap and mprotect
 * for files, SIGBUS (BUS_ADRERR, si_addr) for a page wholly past the end of
 * the file, truncation of a mapped file, msync, madvise(MADV_DONTNEED) and
 * mincore on file mappings, and a mapping outliving its descriptor and name.
 * Linux: mm/filemap.c filemap_fault, mm/memory.c do_read_fault/do_cow_fault/
 * do_shared_fault, mm/mmap.c do_mmap, mm/truncate.c, mm/msync.c.
 */
#include "test.h"
#include <sys/mount.h>

#define PAGE 4096
#define FILE_LEN (2 * PAGE + 100)

/* An access to `p` must raise SIGBUS with BUS_ADRERR at `p`. */
static void check_sigbus(const char *check, volatile char *p, int write)
{
	if (!faults(p, write))
		fail(check, "access to %p did not fault", (void *)p);
	else if (fault_signo != SIGBUS || fault_code != BUS_ADRERR || fault_addr != (void *)p)
		fail(check, "signal %d si_code %d si_addr %p, expected SIGBUS code %d at %p", fault_signo,
		     fault_code, fault_addr, BUS_ADRERR, (void *)p);
	else
		pass(check);
}

static char pattern(int i)
{
	return (char)('a' + i % 23);
}

/* Makes `name` hold FILE_LEN bytes of the pattern; returns an O_RDWR fd. */
static int make_file(const char *name)
{
	static char buf[FILE_LEN];
	for (int i = 0; i < FILE_LEN; i++)
		buf[i] = pattern(i);
	int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0 && write(fd, buf, FILE_LEN) != FILE_LEN) {
		close(fd);
		return -1;
	}
	return fd;
}

static char byte_at(int fd, off_t off)
{
	char c = 0;
	return pread(fd, &c, 1, off) == 1 ? c : 0;
}

static void private_mappings(int fd)
{
	char *p = mmap(NULL, 3 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK("private_maps", p != MAP_FAILED, "mmap: %s", errno_name(errno));
	REQUIRE_VOID(p != MAP_FAILED);
	int same = 1;
	for (int i = 0; i < FILE_LEN; i++)
		same &= p[i] == pattern(i);
	CHECK("private_reads_file", same, "the mapping does not hold the file's bytes");
	int zero = 1;
	for (int i = FILE_LEN; i < 3 * PAGE; i++)
		zero &= p[i] == 0;
	CHECK("tail_of_last_page_reads_zero", zero, "bytes past EOF in the last page are not zero");
	/* An unwritten private page is the file's: a write(2) shows through. */
	REQUIRE_VOID(pwrite(fd, "W", 1, PAGE + 1) == 1);
	CHECK("private_unwritten_page_follows_file", p[PAGE + 1] == 'W', "saw %c", p[PAGE + 1]);
	REQUIRE_VOID(pwrite(fd, "b", 1, PAGE + 1) == 1);
	munmap(p, 3 * PAGE);

	char *q = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, PAGE);
	REQUIRE_VOID(q != MAP_FAILED);
	CHECK("offset_maps_that_page", q[0] == pattern(PAGE) && q[99] == pattern(PAGE + 99), "q[0] %c", q[0]);
	munmap(q, PAGE);

	char *w = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	REQUIRE_VOID(w != MAP_FAILED);
	w[0] = 'X';
	CHECK("private_write_stays_private", w[0] == 'X' && byte_at(fd, 0) == pattern(0),
	      "map %c file %c", w[0], byte_at(fd, 0));
	REQUIRE_VOID(pwrite(fd, "Y", 1, 1) == 1);
	CHECK("private_copy_ignores_later_writes", w[1] == pattern(1), "saw %c", w[1]);
	REQUIRE_VOID(pwrite(fd, "b", 1, 1) == 1);
	EXPECT_OK("madvise_dontneed", madvise(w, PAGE, MADV_DONTNEED));
	CHECK("dontneed_rereads_file", w[0] == pattern(0), "saw %c after MADV_DONTNEED", w[0]);
	munmap(w, 2 * PAGE);
}

static void shared_mappings(int fd)
{
	char *s = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK("shared_maps", s != MAP_FAILED, "mmap: %s", errno_name(errno));
	REQUIRE_VOID(s != MAP_FAILED);
	s[5] = 'S';
	CHECK("shared_write_seen_by_read", byte_at(fd, 5) == 'S', "read saw %c", byte_at(fd, 5));
	REQUIRE_VOID(pwrite(fd, "R", 1, PAGE + 7) == 1);
	CHECK("write_seen_by_shared_map", s[PAGE + 7] == 'R', "map saw %c", s[PAGE + 7]);

	char *q = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
	REQUIRE_VOID(q != MAP_FAILED);
	pid_t pid = fork();
	REQUIRE_VOID(pid >= 0);
	if (pid == 0) {
		s[6] = 'c';
		_exit(q[5] == 'S' ? 0 : 1);
	}
	int status = wait_status(pid);
	CHECK("shared_write_crosses_fork", exited_with(status, 0) && s[6] == 'c' && byte_at(fd, 6) == 'c',
	      "child %s, parent sees %c", status_text(status), s[6]);
	EXPECT_OK("msync_sync", msync(s, PAGE, MS_SYNC));
	EXPECT_OK("msync_async_invalidate", msync(s, 3 * PAGE, MS_ASYNC | MS_INVALIDATE));
	EXPECT_ERRNO("msync_sync_and_async", msync(s, PAGE, MS_SYNC | MS_ASYNC), EINVAL);
	EXPECT_ERRNO("msync_unknown_flag", msync(s, PAGE, 0x100), EINVAL);
	EXPECT_ERRNO("msync_unaligned", syscall(SYS_msync, s + 1, PAGE, MS_SYNC), EINVAL);
	munmap(q, PAGE);
	munmap(s, 3 * PAGE);
	EXPECT_ERRNO("msync_unmapped", msync(s, PAGE, MS_SYNC), ENOMEM);
	REQUIRE_VOID(pwrite(fd, "fgh", 3, 5) == 3);
	REQUIRE_VOID(pwrite(fd, "b", 1, PAGE + 7) == 1);
}

static void mapping_errors(const char *name)
{
	int ro = open(name, O_RDONLY), wo = open(name, O_WRONLY);
	REQUIRE_VOID(ro >= 0 && wo >= 0);
	EXPECT_ERRNO("unaligned_offset_einval", mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, ro, 100), EINVAL);
	EXPECT_ERRNO("shared_write_on_rdonly_eacces",
		     mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0), EACCES);
	EXPECT_ERRNO("private_on_wronly_eacces", mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, wo, 0), EACCES);
	EXPECT_ERRNO("shared_on_wronly_eacces", mmap(NULL, PAGE, PROT_WRITE, MAP_SHARED, wo, 0), EACCES);
	EXPECT_ERRNO("bad_fd_ebadf", mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, -1, 0), EBADF);
	int pipefd[2];
	REQUIRE_VOID(pipe(pipefd) == 0);
	EXPECT_ERRNO("pipe_enodev", mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, pipefd[0], 0), ENODEV);
	int dir = open(".", O_RDONLY | O_DIRECTORY);
	EXPECT_ERRNO("directory_enodev", mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, dir, 0), ENODEV);

	char *s = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, ro, 0);
	REQUIRE_VOID(s != MAP_FAILED);
	EXPECT_ERRNO("mprotect_write_shared_rdonly_eacces", mprotect(s, PAGE, PROT_READ | PROT_WRITE), EACCES);
	char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, ro, 0);
	REQUIRE_VOID(p != MAP_FAILED);
	EXPECT_OK("mprotect_write_private_rdonly", mprotect(p, PAGE, PROT_READ | PROT_WRITE));
	p[0] = 'M';
	CHECK("private_of_rdonly_is_writable", p[0] == 'M' && byte_at(ro, 0) == pattern(0), "map %c", p[0]);
	munmap(s, PAGE);
	munmap(p, PAGE);
	close(dir);
	close(pipefd[0]);
	close(pipefd[1]);
	close(ro);
	close(wo);
}

static void past_eof(int fd)
{
	char *p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE_VOID(p != MAP_FAILED);
	unsigned char vec[4] = {9, 9, 9, 9};
	EXPECT_OK("mincore", mincore(p, 4 * PAGE, vec));
	CHECK("mincore_reports_cached_pages", vec[0] == 1 && vec[1] == 1 && vec[2] == 1 && vec[3] == 0,
	      "vec %d %d %d %d", vec[0], vec[1], vec[2], vec[3]);
	check_sigbus("read_past_eof_sigbus", p + 3 * PAGE + 5, 0);
	check_sigbus("write_past_eof_sigbus", p + 3 * PAGE, 1);
	CHECK("last_partial_page_maps", !faults(p + 2 * PAGE + 200, 0), "signal %d", fault_signo);
	/* The file grows: the page is no longer past its end. */
	REQUIRE_VOID(ftruncate(fd, 4 * PAGE) == 0);
	CHECK("extended_file_maps", !faults(p + 3 * PAGE + 5, 0) && p[3 * PAGE + 5] == 0, "signal %d",
	      fault_signo);

	/* Shrinking unmaps the pages past the new end, private copies too. */
	char *q = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	REQUIRE_VOID(q != MAP_FAILED);
	q[2 * PAGE] = 'Q';
	p[PAGE] = 'T';
	REQUIRE_VOID(ftruncate(fd, PAGE) == 0);
	check_sigbus("truncated_shared_page_sigbus", p + PAGE, 0);
	check_sigbus("truncated_private_copy_sigbus", q + 2 * PAGE, 0);
	CHECK("page_before_new_end_stays", !faults(p + 10, 0) && p[10] == pattern(10), "signal %d", fault_signo);
	REQUIRE_VOID(ftruncate(fd, 2 * PAGE) == 0);
	CHECK("regrown_page_reads_zero", !faults(p + PAGE, 0) && p[PAGE] == 0, "signal %d byte %d", fault_signo,
	      p[PAGE]);
	munmap(p, 4 * PAGE);
	munmap(q, 4 * PAGE);
}

static void outlives_fd(void)
{
	int fd = make_file("gone");
	REQUIRE_VOID(fd >= 0);
	char *s = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE_VOID(s != MAP_FAILED);
	close(fd);
	REQUIRE_VOID(unlink("gone") == 0);
	s[1] = 'U';
	CHECK("mapping_outlives_close_and_unlink", s[0] == pattern(0) && s[1] == 'U', "saw %c %c", s[0], s[1]);
	munmap(s, PAGE);
}

/* The /proc/self/maps line of the area starting at `addr`, in `line`. */
static int maps_line(void *addr, char *line, size_t size)
{
	static char buf[16384];
	int fd = open("/proc/self/maps", O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t len = 0, n;
	while (len < (ssize_t)sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - (size_t)len)) > 0)
		len += n;
	close(fd);
	buf[len > 0 ? len : 0] = 0;
	char want[32];
	snprintf(want, sizeof(want), "%08lx-", (unsigned long)addr);
	for (char *at = buf; at && *at; at = strchr(at, '\n') ? strchr(at, '\n') + 1 : NULL) {
		if (strncmp(at, want, strlen(want)) == 0) {
			size_t l = strcspn(at, "\n");
			snprintf(line, size, "%.*s", (int)(l < size ? l : size - 1), at);
			return 0;
		}
	}
	return -1;
}

static void proc_maps(int fd)
{
	mkdir("/proc", 0555);
	if (mount("proc", "/proc", "proc", 0, NULL) != 0 && errno != EBUSY)
		REQUIRE_VOID(access("/proc/self/maps", R_OK) == 0);
	struct stat st;
	REQUIRE_VOID(fstat(fd, &st) == 0);
	char *s = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, PAGE);
	REQUIRE_VOID(s != MAP_FAILED);
	char line[512], tail[64];
	int found = maps_line(s, line, sizeof(line)) == 0;
	snprintf(tail, sizeof(tail), " %lu", (unsigned long)st.st_ino);
	const char *path = found ? strchr(line, '/') : NULL;
	CHECK("maps_shows_file", found && path && strcmp(path, "/tmp/mmap_file/data") == 0 && strstr(line, tail) &&
		  strstr(line, " r--s 00001000 "), "line: %s", found ? line : "(none)");
	munmap(s, PAGE);
}

int main(void)
{
	struct sigaction sa = {.sa_sigaction = on_fault, .sa_flags = SA_SIGINFO};
	REQUIRE(sigaction(SIGBUS, &sa, NULL) == 0 && sigaction(SIGSEGV, &sa, NULL) == 0);
	REQUIRE(enter_scratch_dir() == 0);
	int fd = make_file("data");
	REQUIRE(fd >= 0);
	private_mappings(fd);
	shared_mappings(fd);
	mapping_errors("data");
	past_eof(fd);
	outlives_fd();
	proc_maps(fd);
	close(fd);
	return test_done();
}
