/*
 * stat, fstat, lstat, newfstatat and statx: the fields a program relies on,
 * agreement between the calls, symlinks followed or not, device numbers.
 * Linux: fs/stat.c.
 */
#include "test.h"
#include <sys/sysmacros.h>
#include <time.h>

/* musl 1.2.3 has no statx(): the layout of include/uapi/linux/stat.h. */
struct statx_timestamp {
	long long tv_sec;
	unsigned tv_nsec;
	int reserved;
};
struct statx {
	unsigned stx_mask, stx_blksize;
	unsigned long long stx_attributes;
	unsigned stx_nlink, stx_uid, stx_gid;
	unsigned short stx_mode, pad1;
	unsigned long long stx_ino, stx_size, stx_blocks, stx_attributes_mask;
	struct statx_timestamp stx_atime, stx_btime, stx_ctime, stx_mtime;
	unsigned stx_rdev_major, stx_rdev_minor, stx_dev_major, stx_dev_minor;
	unsigned long long spare[14];
};
#define STATX_BASIC_STATS 0x7ffu

static int statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *buf)
{
	return (int)syscall(SYS_statx, dirfd, path, flags, mask, buf);
}

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	umask(022);
	unlink("file");
	unlink("link");
	unlink("hard");
	int fd = open("file", O_RDWR | O_CREAT | O_TRUNC, 0666);
	REQUIRE(fd >= 0);
	REQUIRE(write(fd, "0123456789", 10) == 10);
	REQUIRE(symlink("file", "link") == 0);

	struct stat s, f, l;
	CHECK("stat_ok", stat("file", &s) == 0, "stat: %s", errno_name(errno));
	CHECK("regular_mode_after_umask", s.st_mode == (S_IFREG | 0644), "st_mode %#o", s.st_mode);
	CHECK("size", s.st_size == 10, "st_size %ld", (long)s.st_size);
	CHECK("nlink_1", s.st_nlink == 1, "st_nlink %ld", (long)s.st_nlink);
	CHECK("owner_root", s.st_uid == 0 && s.st_gid == 0, "uid %d gid %d", s.st_uid, s.st_gid);
	CHECK("blksize", s.st_blksize > 0, "st_blksize %ld", (long)s.st_blksize);
	CHECK("fstat_matches_stat", fstat(fd, &f) == 0 && f.st_ino == s.st_ino && f.st_dev == s.st_dev &&
					    f.st_size == s.st_size && f.st_mode == s.st_mode,
	      "fstat differs: ino %lu/%lu", (unsigned long)f.st_ino, (unsigned long)s.st_ino);
	CHECK("stat_follows_symlink", stat("link", &l) == 0 && l.st_ino == s.st_ino, "stat(link) is not the target");
	CHECK("lstat_symlink", lstat("link", &l) == 0 && S_ISLNK(l.st_mode) && l.st_size == 4 && l.st_ino != s.st_ino,
	      "lstat(link): mode %#o size %ld", l.st_mode, (long)l.st_size);
	CHECK("symlink_mode_0777", (l.st_mode & 07777) == 0777, "symlink mode %#o", l.st_mode);
	CHECK("fstatat_nofollow", fstatat(AT_FDCWD, "link", &l, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(l.st_mode),
	      "fstatat(AT_SYMLINK_NOFOLLOW)");
	int dir = open(".", O_RDONLY | O_DIRECTORY);
	CHECK("fstatat_dirfd", fstatat(dir, "file", &l, 0) == 0 && l.st_ino == s.st_ino, "fstatat(dirfd)");
	CHECK("fstatat_empty_path", fstatat(fd, "", &l, AT_EMPTY_PATH) == 0 && l.st_ino == s.st_ino,
	      "fstatat(AT_EMPTY_PATH): %s", errno_name(errno));

	REQUIRE(link("file", "hard") == 0);
	CHECK("nlink_after_link", stat("file", &l) == 0 && l.st_nlink == 2, "st_nlink %ld", (long)l.st_nlink);

	/* Times: mtime and ctime move on write; they agree with statx. */
	struct timespec before;
	clock_gettime(CLOCK_REALTIME, &before);
	CHECK("mtime_plausible", s.st_mtime >= before.tv_sec - 60 && s.st_mtime <= before.tv_sec + 1,
	      "st_mtime %ld, now %ld", (long)s.st_mtime, (long)before.tv_sec);

	struct statx x;
	memset(&x, 0, sizeof(x));
	int r = statx(AT_FDCWD, "file", 0, STATX_BASIC_STATS, &x);
	CHECK("statx_ok", r == 0, "statx: %s", errno_name(errno));
	CHECK("statx_mask_basic", (x.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS, "stx_mask %#x", x.stx_mask);
	CHECK("statx_fields_match_stat", x.stx_ino == s.st_ino && x.stx_size == 10 && x.stx_mode == s.st_mode &&
						 x.stx_nlink == 2 && x.stx_uid == 0 && x.stx_blksize == s.st_blksize,
	      "statx: ino %llu size %llu mode %#o nlink %u", (unsigned long long)x.stx_ino,
	      (unsigned long long)x.stx_size, x.stx_mode, x.stx_nlink);
	CHECK("statx_dev_matches", makedev(x.stx_dev_major, x.stx_dev_minor) == s.st_dev, "stx_dev %u:%u, st_dev %#lx",
	      x.stx_dev_major, x.stx_dev_minor, (unsigned long)s.st_dev);
	CHECK("statx_mtime_matches", x.stx_mtime.tv_sec == s.st_mtime, "stx_mtime %lld, st_mtime %ld",
	      (long long)x.stx_mtime.tv_sec, (long)s.st_mtime);
	CHECK("statx_nofollow", statx(AT_FDCWD, "link", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &x) == 0 &&
					S_ISLNK(x.stx_mode),
	      "statx(link, AT_SYMLINK_NOFOLLOW) mode %#o", x.stx_mode);
	CHECK("statx_empty_path_fd", statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &x) == 0 && x.stx_ino == s.st_ino,
	      "statx(fd, \"\", AT_EMPTY_PATH): %s", errno_name(errno));
	EXPECT_ERRNO("statx_bad_flags_einval", syscall(SYS_statx, AT_FDCWD, "file", 0x40000000, STATX_BASIC_STATS, &x),
		     EINVAL);
	EXPECT_ERRNO("statx_reserved_mask_einval",
		     syscall(SYS_statx, AT_FDCWD, "file", 0, 0x80000000u, &x), EINVAL);

	/* Directories and devices. */
	CHECK("directory_mode", stat(".", &l) == 0 && S_ISDIR(l.st_mode) && l.st_nlink >= 2, "stat(.) mode %#o nlink %ld",
	      l.st_mode, (long)l.st_nlink);
	CHECK("dev_null_is_char_1_3", stat("/dev/null", &l) == 0 && S_ISCHR(l.st_mode) && major(l.st_rdev) == 1 &&
					      minor(l.st_rdev) == 3,
	      "/dev/null mode %#o rdev %u:%u", l.st_mode, major(l.st_rdev), minor(l.st_rdev));
	CHECK("regular_file_rdev_0", s.st_rdev == 0, "st_rdev %#lx", (unsigned long)s.st_rdev);

	EXPECT_ERRNO("missing_enoent", stat("no-such-file", &l), ENOENT);
	EXPECT_ERRNO("empty_path_enoent", stat("", &l), ENOENT);
	EXPECT_ERRNO("file_as_dir_enotdir", stat("file/x", &l), ENOTDIR);
	EXPECT_ERRNO("bad_buffer_efault", syscall(SYS_stat, "file", (void *)8), EFAULT);
	EXPECT_ERRNO("bad_path_efault", syscall(SYS_stat, (char *)8, &l), EFAULT);
	EXPECT_ERRNO("fstatat_bad_flags_einval", syscall(SYS_newfstatat, AT_FDCWD, "file", &l, 0x40000000), EINVAL);
	close(dir);
	EXPECT_ERRNO("fstat_closed_ebadf", fstat(dir, &l), EBADF);
	return test_done();
}
