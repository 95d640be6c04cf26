/*
 * append_race: concurrent O_APPEND writers to one file lose no write and
 * never interleave within a record; concurrent writers and ftruncate leave
 * a file whose size is a whole number of records. On ext2 (the ext2-root
 * tier) this is the inode's i_rwsem (Linux: `inode_lock` in
 * `generic_file_write_iter` and `do_truncate`); on tmpfs the same holds.
 * Linux: mm/filemap.c, fs/open.c.
 */
#include "test.h"

#define WRITERS 4
#define RECORDS 300
#define RECLEN 100

/* Appends RECORDS records of RECLEN bytes, each filled with `tag`. */
static void appender(const char *name, char tag)
{
	int fd = open(name, O_WRONLY | O_APPEND);
	if (fd < 0)
		_exit(2);
	char rec[RECLEN];
	memset(rec, tag, sizeof(rec));
	rec[RECLEN - 1] = '\n';
	for (int i = 0; i < RECORDS; i++) {
		if (write(fd, rec, sizeof(rec)) != (ssize_t)sizeof(rec))
			_exit(3);
		if (i % 50 == 0)
			sched_yield();
	}
	close(fd);
	_exit(0);
}

static int wait_all(pid_t *pids, int n)
{
	int ok = 1;
	for (int i = 0; i < n; i++) {
		int status = 0;
		if (waitpid(pids[i], &status, 0) != pids[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			ok = 0;
	}
	return ok;
}

static void test_appenders(void)
{
	const char *name = "log";
	int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);
	REQUIRE_VOID(fd >= 0);
	pid_t pids[WRITERS];
	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		if (pids[w] == 0)
			appender(name, (char)('a' + w));
	}
	CHECK("writers_exit", wait_all(pids, WRITERS), "a writer failed");
	struct stat st;
	REQUIRE_VOID(fstat(fd, &st) == 0);
	CHECK("no_write_lost", st.st_size == (off_t)WRITERS * RECORDS * RECLEN, "size %lld, want %d",
	      (long long)st.st_size, WRITERS * RECORDS * RECLEN);
	static char buf[WRITERS * RECORDS * RECLEN];
	ssize_t n = pread(fd, buf, sizeof(buf), 0);
	int counts[WRITERS] = {0}, torn = 0;
	for (ssize_t at = 0; at + RECLEN <= n; at += RECLEN) {
		char tag = buf[at];
		int w = tag - 'a';
		int whole = w >= 0 && w < WRITERS && buf[at + RECLEN - 1] == '\n';
		for (int i = 0; whole && i < RECLEN - 1; i++)
			whole = buf[at + i] == tag;
		if (whole)
			counts[w]++;
		else
			torn++;
	}
	int all = 1;
	for (int w = 0; w < WRITERS; w++)
		all = all && counts[w] == RECORDS;
	CHECK("records_whole", n == (ssize_t)sizeof(buf) && torn == 0 && all,
	      "read %zd, %d torn records, counts %d %d %d %d", n, torn, counts[0], counts[1],
	      counts[2], counts[3]);
	close(fd);
	unlink(name);
}

/* Appenders and a truncater: every write is whole against a truncation,
 * so the final size is a multiple of the record length (a size seen
 * mid-write may not be: Linux grows it page by page too). */
static void test_truncate(void)
{
	const char *name = "trunc";
	int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);
	REQUIRE_VOID(fd >= 0);
	pid_t pids[2];
	for (int w = 0; w < 2; w++) {
		pids[w] = fork();
		if (pids[w] == 0)
			appender(name, (char)('a' + w));
	}
	int bad = 0;
	for (int i = 0; i < 100; i++) {
		if (ftruncate(fd, (off_t)(i % 7) * RECLEN) != 0)
			bad++;
		sched_yield();
	}
	CHECK("truncate_writers_exit", wait_all(pids, 2), "a writer failed");
	struct stat st;
	REQUIRE_VOID(fstat(fd, &st) == 0);
	CHECK("size_whole_records", bad == 0 && st.st_size % RECLEN == 0, "%d bad, size %lld", bad,
	      (long long)st.st_size);
	close(fd);
	unlink(name);
}

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	test_appenders();
	test_truncate();
	return test_done();
}
