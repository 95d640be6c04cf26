/*
 * umask: returns the old mask, masks the mode of created files and
 * directories, keeps only the permission bits, and is inherited.
 * Linux: kernel/sys.c (umask), fs/namei.c (mode & ~umask).
 */
#include "test.h"

static mode_t mode_of(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_mode & 07777 : 0xffff;
}

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	mode_t old = umask(027);
	CHECK("umask_returns_old", umask(027) == 027, "umask did not return the mask just set");
	(void)old;
	unlink("f");
	close(open("f", O_WRONLY | O_CREAT, 0666));
	CHECK("file_mode_masked", mode_of("f") == 0640, "mode %#o, expected 0640", mode_of("f"));
	rmdir("d");
	mkdir("d", 0777);
	CHECK("dir_mode_masked", mode_of("d") == 0750, "mode %#o, expected 0750", mode_of("d"));

	umask(0);
	unlink("g");
	close(open("g", O_WRONLY | O_CREAT, 0666));
	CHECK("umask_0_keeps_mode", mode_of("g") == 0666, "mode %#o", mode_of("g"));
	CHECK("umask_keeps_only_0777", (umask(07777) , umask(022)) == 0777, "umask kept bits beyond 0777");
	CHECK("chmod_ignores_umask", chmod("g", 0777) == 0 && mode_of("g") == 0777, "chmod gave %#o", mode_of("g"));

	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0)
		_exit(umask(0) == 022 ? 0 : 1);
	int status = wait_status(pid);
	CHECK("umask_inherited", exited_with(status, 0), "child %s", status_text(status));
	return test_done();
}
