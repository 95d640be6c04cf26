/*
 * File creation and deletion on the initramfs tmpfs, as lmbench's `lat_fs`:
 * FILES files are created (open O_CREAT, SIZE bytes written, close) in one
 * directory, then all unlinked; each phase is timed per file. Figures
 * create_0k, delete_0k, create_10k, delete_10k.
 * Linux: fs/namei.c (do_sys_open, do_unlinkat), mm/shmem.c.
 */
#include "bench.h"
#include <sys/stat.h>

#define DIR_PATH "/tmp/bench_fs"
#define FILES 1000

static char data[10 * 1024];

static void path_of(char *path, size_t len, int i)
{
	snprintf(path, len, DIR_PATH "/f%d", i);
}

static int create_all(size_t size)
{
	char path[64];
	for (int i = 0; i < FILES; i++) {
		path_of(path, sizeof(path), i);
		int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
		if (fd < 0)
			return -1;
		if (size > 0 && bench_io(fd, data, size, 1) != 0)
			return -1;
		if (close(fd) != 0)
			return -1;
	}
	return 0;
}

static int delete_all(void)
{
	char path[64];
	for (int i = 0; i < FILES; i++) {
		path_of(path, sizeof(path), i);
		if (unlink(path) != 0)
			return -1;
	}
	return 0;
}

static void measure(const char *create, const char *delete, size_t size)
{
	/* A first, untimed round warms the dentry and inode caches. */
	if (create_all(size) != 0 || delete_all() != 0)
		bench_fail("warm-up");
	uint64_t start = bench_now_ns();
	if (create_all(size) != 0)
		bench_fail("create");
	uint64_t created = bench_now_ns();
	if (delete_all() != 0)
		bench_fail("unlink");
	uint64_t deleted = bench_now_ns();
	bench_report(create, created - start, FILES);
	bench_report(delete, deleted - created, FILES);
}

int main(void)
{
	memset(data, 'x', sizeof(data));
	mkdir("/tmp", 0755);
	if (mkdir(DIR_PATH, 0755) != 0 && errno != EEXIST)
		bench_fail("mkdir");
	measure("create_0k", "delete_0k", 0);
	measure("create_10k", "delete_10k", sizeof(data));
	rmdir(DIR_PATH);
	return 0;
}
