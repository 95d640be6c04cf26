/*
 * sync: sync(2), syncfs(2), fsync(2), fdatasync(2), sync_file_range(2),
 * msync(MS_SYNC) and O_SYNC/O_DSYNC writes on the tmpfs root, and their
 * errors: EBADF for bad and O_PATH descriptors, EINVAL for a pipe or a
 * device without fsync, ESPIPE and EINVAL from sync_file_range.
 * Linux: fs/sync.c, mm/msync.c.
 */
#include <sys/mman.h>

#include "test.h"

static int make_file(const char *name, int extra_flags)
{
	return open(name, O_RDWR | O_CREAT | O_TRUNC | extra_flags, 0644);
}

static void test_osync(const char *check, int flag)
{
	char buf[10000], back[10000];
	memset(buf, check[0], sizeof(buf));
	int fd = make_file(check, flag);
	if (fd < 0) {
		fail(check, "open: %s", errno_name(errno));
		return;
	}
	int flags = fcntl(fd, F_GETFL);
	ssize_t n = write(fd, buf, sizeof(buf));
	ssize_t m = pread(fd, back, sizeof(back), 0);
	CHECK(check,
	      (flags & flag) == flag && n == (ssize_t)sizeof(buf) && m == n &&
		      memcmp(buf, back, sizeof(buf)) == 0,
	      "F_GETFL %#x, wrote %zd, read %zd", flags, n, m);
	close(fd);
}

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	sync();
	pass("sync");

	int fd = make_file("data", 0);
	REQUIRE(fd >= 0);
	REQUIRE(write(fd, "hello, disk\n", 12) == 12);
	EXPECT_OK("fsync_file", fsync(fd));
	EXPECT_OK("fdatasync_file", fdatasync(fd));
	EXPECT_OK("syncfs_file", syncfs(fd));
	EXPECT_OK("sync_file_range", sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE));
	EXPECT_OK("sync_file_range_wait", sync_file_range(fd, 0, 4096, SYNC_FILE_RANGE_WAIT_BEFORE |
		  SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER));
	EXPECT_ERRNO("sync_file_range_bad_flags", sync_file_range(fd, 0, 0, 8), EINVAL);
	EXPECT_ERRNO("sync_file_range_negative", sync_file_range(fd, -1, 0, SYNC_FILE_RANGE_WRITE),
		     EINVAL);

	char *map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE(map != MAP_FAILED);
	map[0] = 'H';
	EXPECT_OK("msync_sync", msync(map, 4096, MS_SYNC));
	char first = 0;
	CHECK("msync_data_seen", pread(fd, &first, 1, 0) == 1 && first == 'H', "read %c", first);
	munmap(map, 4096);
	close(fd);

	int root = open("/", O_RDONLY | O_DIRECTORY);
	REQUIRE(root >= 0);
	EXPECT_OK("fsync_dir", fsync(root));
	EXPECT_OK("syncfs_root", syncfs(root));
	close(root);

	int path_fd = open("data", O_PATH);
	REQUIRE(path_fd >= 0);
	EXPECT_ERRNO("fsync_opath_ebadf", fsync(path_fd), EBADF);
	EXPECT_ERRNO("syncfs_opath_ebadf", syncfs(path_fd), EBADF);
	close(path_fd);

	EXPECT_ERRNO("fsync_ebadf", fsync(-1), EBADF);
	EXPECT_ERRNO("fdatasync_ebadf", fdatasync(1000), EBADF);
	EXPECT_ERRNO("syncfs_ebadf", syncfs(-1), EBADF);

	int p[2];
	REQUIRE(pipe(p) == 0);
	EXPECT_ERRNO("fsync_pipe_einval", fsync(p[0]), EINVAL);
	EXPECT_ERRNO("fdatasync_pipe_einval", fdatasync(p[1]), EINVAL);
	EXPECT_ERRNO("sync_file_range_pipe_espipe", sync_file_range(p[0], 0, 0, SYNC_FILE_RANGE_WRITE),
		     ESPIPE);
	close(p[0]);
	close(p[1]);

	int null = open("/dev/null", O_WRONLY);
	if (null >= 0) {
		EXPECT_ERRNO("fsync_devnull_einval", fsync(null), EINVAL);
		close(null);
	}

	test_osync("osync", O_SYNC);
	test_osync("odsync", O_DSYNC);
	unlink("data");
	unlink("osync");
	unlink("odsync");
	return test_done();
}
