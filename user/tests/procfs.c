/*
 * procfs: /proc/self is the caller, /proc/PID/stat's fields (pid, state,
 * ppid), status, cmdline, meminfo and uptime in Linux's formats, a
 * child's directory while it lives and gone once reaped.
 * Linux: fs/proc/ (base.c, array.c, meminfo.c, uptime.c).
 */
#include <sys/mount.h>

#include "test.h"

static int count_fields(const char *s)
{
	int n = 0;
	for (const char *p = s; *p; p++)
		if (*p != ' ' && *p != '\n' && (p == s || p[-1] == ' '))
			n++;
	return n;
}

int main(void)
{
	char buf[8192], path[64];
	mkdir("/proc", 0555);
	REQUIRE(mount("proc", "/proc", "proc", 0, NULL) == 0);

	char link[32];
	ssize_t len = readlink("/proc/self", link, sizeof(link) - 1);
	link[len > 0 ? len : 0] = 0;
	CHECK("self_is_caller", len > 0 && atoi(link) == getpid(), "/proc/self -> %s", link);

	REQUIRE(slurp("/proc/self/stat", buf, sizeof(buf)) > 0);
	char *close_paren = strrchr(buf, ')');
	CHECK("stat_pid", atoi(buf) == getpid(), "stat starts with %d", atoi(buf));
	CHECK("stat_comm", strstr(buf, " (procfs) ") != NULL, "comm not (procfs)");
	CHECK("stat_state_running", close_paren && close_paren[2] == 'R', "state %c",
	      close_paren ? close_paren[2] : '?');
	CHECK("stat_ppid", close_paren && atoi(close_paren + 4) == getppid(), "ppid field");
	CHECK("stat_52_fields", close_paren && count_fields(close_paren + 2) == 50,
	      "%d fields after comm", close_paren ? count_fields(close_paren + 2) : -1);

	REQUIRE(slurp("/proc/self/status", buf, sizeof(buf)) > 0);
	snprintf(path, sizeof(path), "\nPid:\t%d\n", getpid());
	CHECK("status_pid", strstr(buf, path) != NULL, "no Pid line");
	CHECK("status_name_state", strncmp(buf, "Name:\tprocfs\n", 13) == 0 &&
	      strstr(buf, "\nState:\tR (running)\n"), "Name or State line");

	ssize_t n = slurp("/proc/self/cmdline", buf, sizeof(buf));
	CHECK("cmdline_argv0", n > 0 && strstr(buf, "procfs") && buf[n - 1] == 0, "cmdline");

	REQUIRE(slurp("/proc/meminfo", buf, sizeof(buf)) > 0);
	unsigned long total = 0, avail = 0;
	char *t = strstr(buf, "MemTotal:"), *a = strstr(buf, "MemAvailable:");
	if (t) total = strtoul(t + 9, NULL, 10);
	if (a) avail = strtoul(a + 13, NULL, 10);
	CHECK("meminfo_total", t == buf && total > 0 && avail <= total, "MemTotal %lu", total);

	REQUIRE(slurp("/proc/uptime", buf, sizeof(buf)) > 0);
	double up = -1, idle = -1;
	CHECK("uptime_two_figures", sscanf(buf, "%lf %lf", &up, &idle) == 2 && up > 0, "%s", buf);

	int pipefd[2];
	REQUIRE(pipe(pipefd) == 0);
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		char c;
		close(pipefd[1]);
		read(pipefd[0], &c, 1);
		_exit(0);
	}
	close(pipefd[0]);
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	n = slurp(path, buf, sizeof(buf));
	CHECK("child_listed", n > 0 && atoi(buf) == pid, "no %s", path);
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, pipefd[0]);
	len = readlink(path, link, sizeof(link) - 1);
	link[len > 0 ? len : 0] = 0;
	CHECK("child_fd_pipe_link", len > 0 && strncmp(link, "pipe:[", 6) == 0, "%s -> %s", path, link);
	close(pipefd[1]);
	wait_status(pid);
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	CHECK("reaped_child_gone", access(path, F_OK) == -1 && errno == ENOENT, "%s remains", path);
	EXPECT_OK("umount_proc", umount("/proc"));
	return test_done();
}
