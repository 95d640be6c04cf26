/*
 * The directory tree: mkdir, rmdir, unlink, rename, link, symlink,
 * readlink, with every error a shell meets; on ext2, that rmdir frees.
 * Linux: fs/namei.c (do_mkdirat, do_rmdir, do_unlinkat, do_renameat2,
 * do_linkat, do_symlinkat), fs/stat.c (readlinkat).
 */
#include "test.h"

static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static int make_file(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, data, strlen(data));
	close(fd);
	return n == (ssize_t)strlen(data) ? 0 : -1;
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	buf[n < 0 ? 0 : n] = 0;
	return (int)n;
}

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	char buf[256];
	struct stat a, b;

	CHECK("mkdir", mkdir("d", 0755) == 0 && stat("d", &a) == 0 && S_ISDIR(a.st_mode), "mkdir: %s", errno_name(errno));
	EXPECT_ERRNO("mkdir_existing_eexist", mkdir("d", 0755), EEXIST);
	EXPECT_ERRNO("mkdir_missing_parent_enoent", mkdir("no/such", 0755), ENOENT);
	CHECK("mkdir_nested", mkdir("d/e", 0755) == 0 && exists("d/e"), "mkdir d/e: %s", errno_name(errno));
	CHECK("parent_nlink_counts_subdirs", stat("d", &a) == 0 && a.st_nlink == 3, "st_nlink of d is %ld",
	      (long)a.st_nlink);
	REQUIRE(make_file("d/f", "data") == 0);
	EXPECT_ERRNO("rmdir_nonempty_enotempty", rmdir("d"), ENOTEMPTY);
	EXPECT_ERRNO("rmdir_file_enotdir", rmdir("d/f"), ENOTDIR);
	EXPECT_ERRNO("rmdir_dot_einval", rmdir("d/e/."), EINVAL);
	EXPECT_ERRNO("rmdir_missing_enoent", rmdir("d/none"), ENOENT);
	EXPECT_ERRNO("unlink_dir_eisdir", unlink("d/e"), EISDIR);
	EXPECT_ERRNO("unlink_missing_enoent", unlink("d/none"), ENOENT);
	CHECK("rmdir_empty", rmdir("d/e") == 0 && !exists("d/e"), "rmdir: %s", errno_name(errno));
	CHECK("unlink_file", unlink("d/f") == 0 && !exists("d/f"), "unlink: %s", errno_name(errno));
	CHECK("rmdir_now_empty", rmdir("d") == 0 && !exists("d"), "rmdir: %s", errno_name(errno));

	/*
	 * On ext2 (the ext2-root tier) a removed directory's inode and block
	 * are free at once, though a missing name under it was looked up (a
	 * cached negative name must not keep the directory alive).
	 */
	if (fs_magic(".") == EXT2_SUPER_MAGIC) {
		struct statfs before, after;
		REQUIRE(statfs(".", &before) == 0 && mkdir("gone", 0755) == 0);
		EXPECT_ERRNO("lookup_under_gone_enoent", access("gone/none", F_OK), ENOENT);
		REQUIRE(rmdir("gone") == 0 && statfs(".", &after) == 0);
		CHECK("ext2_rmdir_frees_inode_and_block",
		      after.f_ffree == before.f_ffree && after.f_bfree == before.f_bfree,
		      "free inodes %lu -> %lu, blocks %lu -> %lu", (unsigned long)before.f_ffree,
		      (unsigned long)after.f_ffree, (unsigned long)before.f_bfree,
		      (unsigned long)after.f_bfree);
	}

	/* An unlinked open file stays readable. */
	REQUIRE(make_file("open", "still here") == 0);
	int fd = open("open", O_RDONLY);
	REQUIRE(fd >= 0 && unlink("open") == 0);
	ssize_t n = read(fd, buf, sizeof(buf));
	CHECK("unlinked_open_file_readable", n == 10 && !memcmp(buf, "still here", 10), "read %zd", n);
	CHECK("unlinked_nlink_0", fstat(fd, &a) == 0 && a.st_nlink == 0, "st_nlink %ld", (long)a.st_nlink);
	close(fd);

	/* rename */
	REQUIRE(make_file("x", "X") == 0 && make_file("y", "Y") == 0);
	REQUIRE(stat("x", &a) == 0);
	CHECK("rename_replaces", rename("x", "y") == 0 && !exists("x") && read_file("y", buf, sizeof(buf)) == 1 &&
					 buf[0] == 'X' && stat("y", &b) == 0 && b.st_ino == a.st_ino,
	      "rename x y: %s", errno_name(errno));
	REQUIRE(mkdir("dir", 0755) == 0 && mkdir("dir/sub", 0755) == 0);
	CHECK("rename_into_dir", rename("y", "dir/y") == 0 && exists("dir/y"), "rename y dir/y: %s", errno_name(errno));
	CHECK("rename_dir", rename("dir/sub", "sub2") == 0 && exists("sub2") && !exists("dir/sub"), "rename dir: %s",
	      errno_name(errno));
	EXPECT_ERRNO("rename_dir_into_itself_einval", rename("dir", "dir/inside"), EINVAL);
	EXPECT_ERRNO("rename_file_over_dir_eisdir", rename("dir/y", "sub2"), EISDIR);
	EXPECT_ERRNO("rename_dir_over_file_enotdir", rename("sub2", "dir/y"), ENOTDIR);
	REQUIRE(make_file("sub2/z", "z") == 0);
	REQUIRE(mkdir("empty", 0755) == 0);
	EXPECT_ERRNO("rename_over_nonempty_dir_enotempty", rename("empty", "sub2"), ENOTEMPTY);
	CHECK("rename_dir_over_empty_dir", rename("sub2", "empty") == 0 && exists("empty/z") && !exists("sub2"),
	      "rename over an empty dir: %s", errno_name(errno));
	EXPECT_ERRNO("rename_missing_enoent", rename("none", "other"), ENOENT);
	CHECK("rename_same_file_noop", rename("dir/y", "dir/y") == 0 && exists("dir/y"), "rename to itself: %s",
	      errno_name(errno));

	/* link */
	REQUIRE(make_file("orig", "linked") == 0);
	CHECK("link", link("orig", "alias") == 0 && stat("orig", &a) == 0 && stat("alias", &b) == 0 &&
			      a.st_ino == b.st_ino && a.st_nlink == 2,
	      "link: %s", errno_name(errno));
	CHECK("unlink_one_name_keeps_other", unlink("orig") == 0 && read_file("alias", buf, sizeof(buf)) == 6 &&
						     stat("alias", &b) == 0 && b.st_nlink == 1,
	      "after unlink: nlink %ld", (long)b.st_nlink);
	EXPECT_ERRNO("link_existing_eexist", link("alias", "dir/y"), EEXIST);
	EXPECT_ERRNO("link_dir_eperm", link("dir", "dirlink"), EPERM);
	EXPECT_ERRNO("link_missing_enoent", link("none", "new"), ENOENT);

	/* symlink and readlink */
	CHECK("symlink", symlink("alias", "sym") == 0, "symlink: %s", errno_name(errno));
	n = readlink("sym", buf, sizeof(buf));
	CHECK("readlink_no_nul", n == 5 && !memcmp(buf, "alias", 5), "readlink returned %zd", n);
	n = readlink("sym", buf, 3);
	CHECK("readlink_truncates", n == 3 && !memcmp(buf, "ali", 3), "readlink with 3 bytes returned %zd", n);
	CHECK("open_through_symlink", read_file("sym", buf, sizeof(buf)) == 6 && !strcmp(buf, "linked"),
	      "reading through the link gave %s", buf);
	EXPECT_ERRNO("readlink_not_symlink_einval", readlink("alias", buf, sizeof(buf)), EINVAL);
	EXPECT_ERRNO("readlink_missing_enoent", readlink("none", buf, sizeof(buf)), ENOENT);
	EXPECT_ERRNO("readlink_zero_size_einval", syscall(SYS_readlink, "sym", buf, 0), EINVAL);
	EXPECT_ERRNO("symlink_existing_eexist", symlink("x", "sym"), EEXIST);
	CHECK("dangling_symlink", symlink("nowhere", "dangling") == 0 && exists("dangling"), "symlink: %s",
	      errno_name(errno));
	EXPECT_ERRNO("open_dangling_enoent", open("dangling", O_RDONLY), ENOENT);
	REQUIRE(symlink("loop2", "loop1") == 0 && symlink("loop1", "loop2") == 0);
	EXPECT_ERRNO("symlink_loop_eloop", open("loop1", O_RDONLY), ELOOP);
	EXPECT_ERRNO("o_nofollow_on_symlink_eloop", open("sym", O_RDONLY | O_NOFOLLOW), ELOOP);
	CHECK("symlink_to_dir_in_path", symlink("dir", "dirsym") == 0 && exists("dirsym/y"), "dirsym/y");
	CHECK("unlink_symlink_not_target", unlink("sym") == 0 && !exists("sym") && exists("alias"), "unlink(sym)");

	/* . and .. */
	CHECK("dotdot_of_dir", stat("dir/..", &a) == 0 && stat(".", &b) == 0 && a.st_ino == b.st_ino, "dir/.. is not .");
	CHECK("root_dotdot_is_root", stat("/..", &a) == 0 && stat("/", &b) == 0 && a.st_ino == b.st_ino, "/.. is not /");
	return test_done();
}
