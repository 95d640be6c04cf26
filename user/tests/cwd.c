/*
 * chdir, fchdir and getcwd: the current directory moves, relative paths
 * follow it, getcwd's ERANGE, and the errors.
 * Linux: fs/open.c (chdir, fchdir), fs/d_path.c (getcwd).
 */
#include "test.h"

int main(void)
{
	char buf[256];
	REQUIRE(chdir("/") == 0);
	CHECK("getcwd_root", getcwd(buf, sizeof(buf)) && !strcmp(buf, "/"), "getcwd at / gave %s", buf);
	REQUIRE(enter_scratch_dir() == 0);
	CHECK("getcwd_after_chdir", getcwd(buf, sizeof(buf)) && !strcmp(buf, "/tmp/cwd"), "getcwd gave %s", buf);
	long n = syscall(SYS_getcwd, buf, sizeof(buf));
	CHECK("raw_getcwd_returns_length_with_nul", n == 9, "syscall(getcwd) returned %ld", n);

	REQUIRE(mkdir("a", 0755) == 0 || errno == EEXIST);
	REQUIRE(mkdir("a/b", 0755) == 0 || errno == EEXIST);
	CHECK("chdir_relative", chdir("a/b") == 0 && getcwd(buf, sizeof(buf)) && !strcmp(buf, "/tmp/cwd/a/b"),
	      "getcwd gave %s", buf);
	int fd = open("here", O_WRONLY | O_CREAT, 0644);
	CHECK("relative_open_uses_cwd", fd >= 0 && access("/tmp/cwd/a/b/here", F_OK) == 0, "file not created in cwd");
	close(fd);
	CHECK("chdir_dotdot", chdir("..") == 0 && getcwd(buf, sizeof(buf)) && !strcmp(buf, "/tmp/cwd/a"),
	      "getcwd gave %s", buf);
	CHECK("chdir_through_symlink", (symlink("/tmp/cwd/a/b", "/tmp/cwd/link") == 0 || errno == EEXIST) &&
					       chdir("/tmp/cwd/link") == 0 && getcwd(buf, sizeof(buf)) &&
					       !strcmp(buf, "/tmp/cwd/a/b"),
	      "getcwd after chdir through a symlink gave %s", buf);

	int dir = open("/tmp/cwd/a", O_RDONLY | O_DIRECTORY);
	CHECK("fchdir", fchdir(dir) == 0 && getcwd(buf, sizeof(buf)) && !strcmp(buf, "/tmp/cwd/a"), "getcwd gave %s",
	      buf);
	int file = open("b/here", O_RDONLY);
	EXPECT_ERRNO("fchdir_file_enotdir", fchdir(file), ENOTDIR);
	close(file);
	EXPECT_ERRNO("fchdir_closed_ebadf", fchdir(file), EBADF);

	EXPECT_ERRNO("getcwd_small_buffer_erange", syscall(SYS_getcwd, buf, 5), ERANGE);
	EXPECT_ERRNO("getcwd_exact_without_nul_erange", syscall(SYS_getcwd, buf, 10), ERANGE);
	CHECK("getcwd_exact_with_nul", syscall(SYS_getcwd, buf, 11) == 11, "getcwd with room for the NUL failed");
	EXPECT_ERRNO("getcwd_zero_size_erange", syscall(SYS_getcwd, buf, 0), ERANGE);
	EXPECT_ERRNO("getcwd_bad_buffer_efault", syscall(SYS_getcwd, (char *)8, sizeof(buf)), EFAULT);

	EXPECT_ERRNO("chdir_file_enotdir", chdir("b/here"), ENOTDIR);
	EXPECT_ERRNO("chdir_missing_enoent", chdir("no-such-dir"), ENOENT);
	EXPECT_ERRNO("chdir_empty_enoent", chdir(""), ENOENT);
	EXPECT_ERRNO("chdir_bad_pointer_efault", syscall(SYS_chdir, (char *)8), EFAULT);
	CHECK("cwd_unchanged_by_errors", getcwd(buf, sizeof(buf)) && !strcmp(buf, "/tmp/cwd/a"), "getcwd gave %s", buf);

	/* A child inherits the cwd; its chdir does not move the parent. */
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		int ok = getcwd(buf, sizeof(buf)) && !strcmp(buf, "/tmp/cwd/a");
		_exit(ok && chdir("/") == 0 ? 0 : 1);
	}
	int status = wait_status(pid);
	CHECK("cwd_inherited_not_shared", exited_with(status, 0) && getcwd(buf, sizeof(buf)) && !strcmp(buf, "/tmp/cwd/a"),
	      "child %s, parent cwd %s", status_text(status), buf);
	return test_done();
}
