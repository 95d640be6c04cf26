/*
 * open and openat: O_CREAT, O_EXCL, O_TRUNC, O_DIRECTORY, directory file
 * descriptors, and the errors of a path walk.
 * Linux: fs/open.c (do_sys_openat2, build_open_flags), fs/namei.c.
 */
#include "test.h"

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	unlink("new");
	int fd = open("new", O_WRONLY | O_CREAT | O_EXCL, 0644);
	CHECK("creat_excl_creates", fd >= 0, "open(O_CREAT|O_EXCL): %s", errno_name(errno));
	REQUIRE(fd >= 0);
	REQUIRE(write(fd, "12345", 5) == 5);
	close(fd);
	EXPECT_ERRNO("creat_excl_existing_eexist", open("new", O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST);
	fd = open("new", O_WRONLY | O_CREAT, 0644);
	struct stat st;
	CHECK("creat_existing_keeps_data", fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 5, "size %ld",
	      (long)st.st_size);
	close(fd);
	fd = open("new", O_WRONLY | O_TRUNC);
	CHECK("trunc_empties", fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0, "size %ld after O_TRUNC",
	      (long)st.st_size);
	close(fd);

	EXPECT_ERRNO("missing_file_enoent", open("no-such-file", O_RDONLY), ENOENT);
	EXPECT_ERRNO("missing_dir_enoent", open("no-such-dir/file", O_RDONLY | O_CREAT, 0644), ENOENT);
	EXPECT_ERRNO("file_as_dir_enotdir", open("new/file", O_RDONLY), ENOTDIR);
	EXPECT_ERRNO("o_directory_on_file_enotdir", open("new", O_RDONLY | O_DIRECTORY), ENOTDIR);
	EXPECT_ERRNO("dir_for_writing_eisdir", open("/tmp", O_WRONLY), EISDIR);
	EXPECT_ERRNO("creat_on_dir_eisdir", open("/tmp", O_RDWR | O_CREAT, 0644), EISDIR);
	EXPECT_ERRNO("empty_path_enoent", open("", O_RDONLY), ENOENT);
	char longname[300];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	EXPECT_ERRNO("name_too_long_enametoolong", open(longname, O_RDONLY | O_CREAT, 0644), ENAMETOOLONG);
	EXPECT_ERRNO("bad_path_pointer_efault", syscall(SYS_open, (char *)8, O_RDONLY), EFAULT);
	int dirfd = open(".", O_RDONLY | O_DIRECTORY);
	CHECK("open_directory", dirfd >= 0, "open(\".\", O_DIRECTORY): %s", errno_name(errno));

	/* Unknown flag bits are ignored by open (only openat2 refuses them). */
	fd = open("new", O_RDONLY | 0x40000000);
	CHECK("unknown_flags_ignored", fd >= 0, "open with an unknown flag bit: %s", errno_name(errno));
	close(fd);

	/* openat relative to a directory fd, to AT_FDCWD, and absolute paths ignore dirfd. */
	REQUIRE(mkdir("sub", 0755) == 0 || errno == EEXIST);
	int sub = open("sub", O_RDONLY | O_DIRECTORY);
	REQUIRE(sub >= 0);
	fd = openat(sub, "inner", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK("openat_relative_to_dirfd", fd >= 0 && access("sub/inner", F_OK) == 0, "openat: %s", errno_name(errno));
	close(fd);
	fd = openat(AT_FDCWD, "sub/inner", O_RDONLY);
	CHECK("openat_at_fdcwd", fd >= 0, "openat(AT_FDCWD): %s", errno_name(errno));
	close(fd);
	fd = openat(12345, "/tmp/open/new", O_RDONLY);
	CHECK("openat_absolute_ignores_dirfd", fd >= 0, "openat(bad fd, absolute): %s", errno_name(errno));
	close(fd);
	int file = open("new", O_RDONLY);
	EXPECT_ERRNO("openat_file_dirfd_enotdir", openat(file, "x", O_RDONLY), ENOTDIR);
	EXPECT_ERRNO("openat_bad_dirfd_ebadf", openat(12345, "x", O_RDONLY), EBADF);
	fd = openat(sub, "..", O_RDONLY | O_DIRECTORY);
	struct stat a, b;
	CHECK("openat_dotdot", fd >= 0 && fstat(fd, &a) == 0 && fstat(dirfd, &b) == 0 && a.st_ino == b.st_ino,
	      "openat(sub, \"..\") is not the parent");

	/* Access modes are enforced on the descriptor. */
	char c;
	EXPECT_ERRNO("write_on_rdonly_ebadf", write(file, "x", 1), EBADF);
	int wr = open("new", O_WRONLY);
	EXPECT_ERRNO("read_on_wronly_ebadf", read(wr, &c, 1), EBADF);
	return test_done();
}
