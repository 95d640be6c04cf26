#include "test.h"
/*
 * sigorphan: a process group that an exit orphans (no member keeps a
 * parent in another group of the same session) and that has a stopped
 * member gets SIGHUP then SIGCONT, before it goes on; a group without a
 * stopped member gets nothing.
 * Linux: kernel/exit.c (kill_orphaned_pgrp, will_become_orphaned_pgrp,
 * has_stopped_jobs).
 */
#include <poll.h>
#include <signal.h>

enum mode {
	CHILD_GROUP_STOPPED, /* B in its own group, stopped; its parent A exits */
	CHILD_GROUP_RUNNING, /* the same, B not stopped */
	OWN_GROUP_STOPPED,   /* A leads a group, B in it stopped; A exits */
};

static int report = -1;

static void on_hup(int sig)
{
	(void)sig;
	(void)!write(report, "H", 1);
}

static void on_cont(int sig)
{
	(void)sig;
	(void)!write(report, "C", 1);
}

/* Reads what the grandchild reports until EOF or `ms` pass. */
static void collect(int fd, char *buf, size_t size, int ms)
{
	size_t n = 0;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	while (n + 1 < size && poll(&p, 1, ms) == 1) {
		ssize_t r = read(fd, buf + n, size - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = 0;
}

/* B: reports signals on `report`, stops (or waits to be orphaned), then exits. */
static void grandchild(enum mode mode, pid_t a, int ready)
{
	signal(SIGHUP, on_hup);
	signal(SIGCONT, on_cont);
	if (mode != OWN_GROUP_STOPPED)
		setpgid(0, 0);
	(void)!write(ready, "r", 1);
	if (mode == CHILD_GROUP_RUNNING) {
		for (int i = 0; i < 500 && getppid() == a; i++)
			usleep(10000);
		usleep(300000);
		(void)!write(report, "E", 1);
		_exit(0);
	}
	raise(SIGSTOP);
	(void)!write(report, "E", 1);
	_exit(0);
}

/*
 * Runs one case; returns what B reported. Both signals are pending when B
 * resumes: SIGHUP's frame is built first, then SIGCONT's on top of it, so
 * SIGCONT's handler runs first: "CHE" (continue, hangup, exit), as on Linux.
 */
static const char *run_case(enum mode mode, char *buf, size_t size)
{
	int rep[2], ready[2];
	buf[0] = 0;
	if (pipe(rep) != 0 || pipe(ready) != 0)
		return "pipe failed";
	pid_t a = fork();
	if (a < 0)
		return "fork failed";
	if (a == 0) {
		close(rep[0]);
		report = rep[1];
		if (mode == OWN_GROUP_STOPPED)
			setpgid(0, 0);
		pid_t b = fork();
		if (b == 0)
			grandchild(mode, getppid(), ready[1]);
		char c;
		(void)!read(ready[0], &c, 1);
		if (mode == CHILD_GROUP_RUNNING) {
			usleep(100000);
		} else {
			int status;
			waitpid(b, &status, WUNTRACED);
		}
		_exit(0);
	}
	close(rep[1]);
	close(ready[0]);
	close(ready[1]);
	wait_status(a);
	collect(rep[0], buf, size, 3000);
	close(rep[0]);
	return buf;
}

int main(void)
{
	char buf[16];
	CHECK("stopped_orphan_gets_hup_then_cont", strcmp(run_case(CHILD_GROUP_STOPPED, buf, sizeof(buf)), "CHE") == 0,
	      "grandchild reported \"%s\", want \"CHE\"", buf);
	CHECK("running_orphan_gets_nothing", strcmp(run_case(CHILD_GROUP_RUNNING, buf, sizeof(buf)), "E") == 0,
	      "grandchild reported \"%s\", want \"E\"", buf);
	CHECK("own_exit_orphans_group", strcmp(run_case(OWN_GROUP_STOPPED, buf, sizeof(buf)), "CHE") == 0,
	      "grandchild reported \"%s\", want \"CHE\"", buf);
	return test_done();
}
