/*
 * mount: mount(2) and umount2(2) of tmpfs and proc, and their errors:
 * unknown type, missing or non-directory target, umount of a place that
 * is not a mount, of a busy mount, bad flags, and mounting as non-root.
 * Linux: fs/namespace.c (do_mount, path_mount, path_umount).
 */
#include <sys/mount.h>

#include "test.h"

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	mkdir("mnt", 0755);
	close(open("file", O_WRONLY | O_CREAT, 0644));

	EXPECT_OK("mount_tmpfs", mount("none", "mnt", "tmpfs", 0, NULL));
	close(open("mnt/inside", O_WRONLY | O_CREAT, 0644));
	CHECK("file_in_mount", access("mnt/inside", F_OK) == 0, "mnt/inside missing");
	REQUIRE(chdir("mnt") == 0);
	EXPECT_ERRNO("umount_busy_cwd", umount("."), EBUSY);
	REQUIRE(chdir("..") == 0);
	EXPECT_ERRNO("umount_not_mountpoint", umount("/tmp"), EINVAL);
	EXPECT_ERRNO("umount2_bad_flags", umount2("mnt", 0x100), EINVAL);
	EXPECT_ERRNO("umount2_expire_detach", umount2("mnt", MNT_EXPIRE | MNT_DETACH), EINVAL);
	EXPECT_OK("umount_tmpfs", umount("mnt"));
	CHECK("gone_after_umount", access("mnt/inside", F_OK) == -1 && errno == ENOENT,
	      "mnt/inside still there");
	EXPECT_ERRNO("umount_twice", umount("mnt"), EINVAL);

	EXPECT_OK("mount_detach_busy", mount("none", "mnt", "tmpfs", MS_NOSUID, NULL));
	int fd = open("mnt", O_RDONLY | O_DIRECTORY);
	EXPECT_OK("umount2_detach", umount2("mnt", MNT_DETACH));
	close(fd);

	EXPECT_ERRNO("unknown_type", mount("none", "mnt", "nosuchfs", 0, NULL), ENODEV);
	EXPECT_ERRNO("missing_target", mount("none", "nowhere", "tmpfs", 0, NULL), ENOENT);
	EXPECT_ERRNO("file_target", mount("none", "file", "tmpfs", 0, NULL), ENOTDIR);
	EXPECT_ERRNO("bad_target_pointer", mount("none", (char *)1, "tmpfs", 0, NULL), EFAULT);

	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		if (setuid(1000) != 0)
			_exit(2);
		_exit(mount("none", "mnt", "tmpfs", 0, NULL) == -1 && errno == EPERM ? 0 : 1);
	}
	int status = wait_status(pid);
	CHECK("non_root_eperm", exited_with(status, 0), "child %s", status_text(status));

	mkdir("/proc", 0555);
	EXPECT_OK("mount_proc", mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL));
	char buf[4096];
	int m = open("/proc/mounts", O_RDONLY);
	ssize_t n = m >= 0 ? read(m, buf, sizeof(buf) - 1) : -1;
	buf[n > 0 ? n : 0] = 0;
	CHECK("proc_mounts_line", strstr(buf, "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"),
	      "no proc line in /proc/mounts");
	close(m);
	EXPECT_OK("umount_proc", umount("/proc"));
	return test_done();
}
