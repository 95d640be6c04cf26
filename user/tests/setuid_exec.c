/*
 * setuid_exec: exec of a set-user-ID or set-group-ID program, as su and
 * passwd use it (Linux: fs/exec.c `bprm_fill_uid`, security/commoncap.c
 * `cap_bprm_creds_from_file`, the dumpability of `begin_new_exec`).
 *
 * The test copies itself into its scratch directory, owned by root, with
 * the mode a check needs; a child drops to uid and gid 1000 and execs the
 * copy with "report FD", and the new image writes its real, effective and
 * saved IDs and PR_GET_DUMPABLE to the pipe FD. A set-group-ID file counts
 * only if it is group-executable; a `nosuid` mount ignores both bits.
 */
#include "test.h"

#include <sys/mount.h>
#include <sys/prctl.h>

#define USER 1000

/* The new image: its IDs and dumpability, one line on `fd`. */
static int report(int fd)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;
	if (getresuid(&r, &e, &s) || getresgid(&rg, &eg, &sg))
		return 2;
	char line[128];
	int n = snprintf(line, sizeof(line), "%u %u %u %u %u %u %d", r, e, s, rg, eg, sg,
			 prctl(PR_GET_DUMPABLE));
	return write(fd, line, (size_t)n) == n ? 0 : 2;
}

static int copy_self(const char *self, const char *to, mode_t mode)
{
	int in = open(self, O_RDONLY);
	if (in < 0)
		return -1;
	unlink(to);
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0700);
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			n = -1;
	close(in);
	/* The mode last: a write may clear the set-ID bits (Linux: file_remove_privs). */
	if (out < 0 || fchown(out, 0, 0) || fchmod(out, mode))
		n = -1;
	close(out);
	return n == 0 ? 0 : -1;
}

/* Runs `path` as uid/gid USER; fills `line` with its report ("" if none). */
static void exec_as_user(const char *path, char *line, size_t size)
{
	int p[2];
	line[0] = '\0';
	if (pipe(p))
		return;
	pid_t pid = fork();
	if (pid == 0) {
		char fd[16];
		snprintf(fd, sizeof(fd), "%d", p[1]);
		close(p[0]);
		if (setgroups(0, NULL) || setresgid(USER, USER, USER) || setresuid(USER, USER, USER))
			_exit(3);
		execl(path, path, "report", fd, (char *)NULL);
		_exit(4);
	}
	close(p[1]);
	ssize_t n = pid > 0 ? read(p[0], line, size - 1) : -1;
	line[n > 0 ? n : 0] = '\0';
	close(p[0]);
	int status;
	if (pid > 0)
		waitpid(pid, &status, 0);
}

static void expect_ids(const char *check, const char *path, const char *want)
{
	char line[128];
	exec_as_user(path, line, sizeof(line));
	CHECK(check, !strcmp(line, want),
	      "reported \"%s\", expected \"%s\" (ruid euid suid rgid egid sgid dumpable)", line,
	      want);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "report"))
		return report(atoi(argv[2]));
	REQUIRE(enter_scratch_dir() == 0);
	char dir[256];
	REQUIRE(getcwd(dir, sizeof(dir)) != NULL);
	/* Others may enter it: the user's exec looks the files up. */
	REQUIRE(chmod(dir, 0755) == 0);

	REQUIRE(copy_self(argv[0], "plain", 0755) == 0);
	expect_ids("plain", "./plain", "1000 1000 1000 1000 1000 1000 1");

	REQUIRE(copy_self(argv[0], "suid", 04755) == 0);
	expect_ids("setuid_root", "./suid", "1000 0 0 1000 1000 1000 0");

	REQUIRE(copy_self(argv[0], "sgid", 02755) == 0);
	expect_ids("setgid_root", "./sgid", "1000 1000 1000 1000 0 0 0");

	/* Set-group-ID without group execute is mandatory locking, not setgid. */
	REQUIRE(copy_self(argv[0], "sgid_nox", 02705) == 0);
	expect_ids("setgid_needs_group_exec", "./sgid_nox", "1000 1000 1000 1000 1000 1000 1");

	REQUIRE(mkdir("nosuid", 0755) == 0 || errno == EEXIST);
	if (mount("tmpfs", "nosuid", "tmpfs", MS_NOSUID, "mode=0755") == 0) {
		REQUIRE(copy_self(argv[0], "nosuid/suid", 04755) == 0);
		expect_ids("nosuid_mount_ignores_it", "./nosuid/suid",
			   "1000 1000 1000 1000 1000 1000 1");
		umount("nosuid");
	} else {
		fail("nosuid_mount_ignores_it", "mount tmpfs nosuid: %s", errno_name(errno));
	}
	return test_done();
}
