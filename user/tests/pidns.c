/*
 * pidns: PID namespaces. clone(CLONE_NEWPID) and unshare(CLONE_NEWPID)
 * make a namespace whose first process is PID 1 and sees its parent as 0;
 * its children count 2, 3...; the parent sees ordinary PIDs; orphans go to
 * the namespace's init; when that init dies everything in the namespace is
 * killed and no process may enter it again (ENOMEM); namespaces nest 32
 * deep (ENOSPC past that); /proc/PID/status lists a PID per level; only
 * root may make one (EPERM).
 * Linux: kernel/pid_namespace.c (create_pid_namespace, zap_pid_ns_processes),
 * kernel/pid.c (alloc_pid), kernel/fork.c (copy_process, ksys_unshare),
 * kernel/exit.c (find_child_reaper), fs/proc/array.c (task_state).
 */
#include "test.h"

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>

#define MAX_PID_NS_LEVEL 32

/* Waits up to `ms` for `fd` to be readable or hung up; 1 if it is. */
static int wait_readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int n;
	do
		n = poll(&p, 1, ms);
	while (n < 0 && errno == EINTR);
	return n == 1;
}

/* --- the namespace's own numbers ---------------------------------------- */

/*
 * Child side: exit code 0 if every number looks right inside, else the
 * number of the first wrong one.
 */
static int ns_init_numbers(void)
{
	if (getpid() != 1)
		return 1;
	if (getppid() != 0)
		return 2;
	if (syscall(SYS_gettid) != 1) /* musl caches gettid */
		return 3;
	/* The caller's group and session are led from outside: 0. */
	if (getpgid(0) != 0 || getsid(0) != 0)
		return 4;
	for (int want = 2; want <= 3; want++) {
		pid_t c = fork();
		if (c < 0)
			return 5;
		if (c == 0)
			_exit(getpid() == want && getppid() == 1 ? 0 : 1);
		int status;
		if (waitpid(c, &status, 0) != want || !exited_with(status, 0))
			return 6;
	}
	/* A process group of its own is numbered inside. */
	if (setpgid(0, 0) != 0 || getpgid(0) != 1 || getpgrp() != 1)
		return 7;
	/* kill(2) and wait4(2) with namespace numbers. */
	pid_t c = fork();
	if (c == 0) {
		pause();
		_exit(1);
	}
	if (c != 4 || kill(4, SIGKILL) != 0)
		return 8;
	int status;
	if (waitpid(4, &status, 0) != 4 || !WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		return 9;
	return 0;
}

static void test_numbers(void)
{
	pid_t child = fork_newpid();
	if (child == 0)
		_exit(ns_init_numbers());
	CHECK("clone_newpid_parent_sees_pid", child > 1, "clone returned %d (%s)", child,
	      errno_name(errno));
	if (child <= 0)
		return;
	int status = wait_status(child);
	CHECK("ns_init_is_pid_1_parent_0_children_2_3", exited_with(status, 0),
	      "child %s (see ns_init_numbers for the step)", status_text(status));
}

/* --- /proc/PID/status from the parent's side ------------------------------ */

static void test_proc_nspid(void)
{
	int go[2];
	REQUIRE_VOID(pipe(go) == 0);
	pid_t child = fork_newpid();
	if (child == 0) {
		char c;
		close(go[1]);
		read(go[0], &c, 1);
		_exit(0);
	}
	REQUIRE_VOID(child > 0);
	close(go[0]);
	mkdir("/tmp/pidns_proc", 0755);
	int mounted = mount("proc", "/tmp/pidns_proc", "proc", 0, NULL) == 0;
	CHECK("mount_proc", mounted, "mount: %s", errno_name(errno));
	char path[64], buf[4096] = {0};
	snprintf(path, sizeof(path), "/tmp/pidns_proc/%d/status", child);
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	char want[64];
	snprintf(want, sizeof(want), "\nNSpid:\t%d\t1\n", child);
	CHECK("status_nspid_two_levels", n > 0 && strstr(buf, want), "no \"%s\" in %s", want + 1,
	      path);
	snprintf(want, sizeof(want), "\nNStgid:\t%d\t1\n", child);
	CHECK("status_nstgid_two_levels", n > 0 && strstr(buf, want), "no \"%s\"", want + 1);
	/* The group and session are the parent's: not in the namespace. */
	snprintf(want, sizeof(want), "\nNSpgid:\t%d\t0\n", getpgrp());
	CHECK("status_nspgid_zero_inside", n > 0 && strstr(buf, want), "no \"%s\"", want + 1);
	close(go[1]);
	wait_status(child);
	if (mounted)
		umount("/tmp/pidns_proc");
}

/* --- orphans go to the namespace's init ----------------------------------- */

static int ns_init_orphans(void)
{
	int p[2];
	if (pipe(p) != 0)
		return 10;
	pid_t a = fork();
	if (a == 0) {
		pid_t b = fork();
		if (b == 0) {
			/* Wait for A to die, then report who adopted us. */
			while (getppid() == 2)
				usleep(1000);
			int ppid = getppid();
			write(p[1], &ppid, sizeof(ppid));
			_exit(0);
		}
		_exit(b == 3 ? 0 : 1);
	}
	int status, ppid = -1;
	if (a != 2 || waitpid(2, &status, 0) != 2 || !exited_with(status, 0))
		return 11;
	close(p[1]);
	if (read(p[0], &ppid, sizeof(ppid)) != sizeof(ppid) || ppid != 1)
		return 12;
	/* The orphan is init's child now: it can wait for it. */
	if (waitpid(3, &status, 0) != 3 || !exited_with(status, 0))
		return 13;
	return 0;
}

static void test_orphans(void)
{
	pid_t child = fork_newpid();
	if (child == 0)
		_exit(ns_init_orphans());
	REQUIRE_VOID(child > 0);
	int status = wait_status(child);
	CHECK("orphan_reparented_to_ns_init", exited_with(status, 0), "child %s",
	      status_text(status));
}

/* --- the init's death kills the namespace --------------------------------- */

static void *pause_forever(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void test_init_death_kills_all(void)
{
	int ready[2], alive[2];
	REQUIRE_VOID(pipe(ready) == 0 && pipe(alive) == 0);
	pid_t init = fork_newpid();
	if (init == 0) {
		close(ready[0]);
		close(alive[0]);
		for (int i = 0; i < 2; i++) {
			if (fork() == 0) {
				/* Holds alive[1] open until killed; grandchildren too. */
				if (i == 1 && fork() == 0)
					for (;;)
						pause();
				/* A process whose leader is gone, a thread lives on. */
				pthread_t t;
				if (i == 0 && pthread_create(&t, NULL, pause_forever, NULL) == 0)
					pthread_exit(NULL);
				for (;;)
					pause();
			}
		}
		close(alive[1]);
		write(ready[1], "r", 1);
		for (;;)
			pause();
	}
	REQUIRE_VOID(init > 0);
	close(ready[1]);
	close(alive[1]);
	char c;
	REQUIRE_VOID(read(ready[0], &c, 1) == 1);
	EXPECT_OK("kill_ns_init_from_outside", kill(init, SIGKILL));
	int status = wait_status(init);
	CHECK("ns_init_killed", status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	      "init %s", status_text(status));
	/* Every holder of alive[1] is dead by the time init is reaped. */
	int gone = wait_readable(alive[0], 0) && read(alive[0], &c, 1) == 0;
	CHECK("others_in_ns_killed_before_init_reaped", gone,
	      "the namespace's processes still hold the pipe");
	close(ready[0]);
	close(alive[0]);
}

/* --- unshare: the caller stays, its next child is PID 1 ------------------- */

static int unshare_child(void)
{
	pid_t before = getpid();
	if (syscall(SYS_unshare, CLONE_NEWPID) != 0)
		return 20;
	if (getpid() != before)
		return 21;
	pid_t c = fork();
	if (c == 0)
		_exit(getpid() == 1 && getppid() == 0 ? 0 : 1);
	int status;
	if (c <= 1 || waitpid(c, &status, 0) != c || !exited_with(status, 0))
		return 22;
	/* Once the namespace's init is gone, nobody may enter it. */
	errno = 0;
	c = fork();
	if (c == 0)
		_exit(0);
	if (c != -1 || errno != ENOMEM)
		return 23;
	/* The children's namespace is not the caller's: no second one. */
	errno = 0;
	if (syscall(SYS_unshare, CLONE_NEWPID) != -1 || errno != EINVAL)
		return 24;
	if (fork_newpid() != -1 || errno != EINVAL)
		return 25;
	return 0;
}

static void test_unshare(void)
{
	pid_t child = fork();
	if (child == 0)
		_exit(unshare_child());
	REQUIRE_VOID(child > 0);
	int status = wait_status(child);
	CHECK("unshare_newpid_next_child_is_1_then_enomem", exited_with(status, 0),
	      "child %s (see unshare_child for the step)", status_text(status));
	EXPECT_ERRNO("unshare_unknown_flag_einval", syscall(SYS_unshare, 0x1), EINVAL);
	EXPECT_OK("unshare_files", syscall(SYS_unshare, CLONE_FILES));
	EXPECT_OK("unshare_fs", syscall(SYS_unshare, CLONE_FS));
}

/* --- nesting: 32 levels below the initial namespace, no more --------------- */

/* Makes namespaces below this one until clone fails; returns the level of
 * the deepest process, or 100 + errno of an unexpected failure. */
static int nest(int level)
{
	pid_t c = fork_newpid();
	if (c == 0)
		_exit(nest(level + 1));
	if (c < 0)
		return errno == ENOSPC ? level : 100 + errno;
	int status = wait_status(c);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 99;
}

static void test_nesting(void)
{
	pid_t child = fork();
	if (child == 0)
		_exit(nest(0));
	REQUIRE_VOID(child > 0);
	int status = wait_status(child);
	CHECK("nest_32_levels_then_enospc", exited_with(status, MAX_PID_NS_LEVEL),
	      "deepest %s, expected exit %d", status_text(status), MAX_PID_NS_LEVEL);
}

/* --- flag rules and privilege ---------------------------------------------- */

static void test_errors(void)
{
	EXPECT_ERRNO("clone_newpid_thread_einval",
		     syscall(SYS_clone, CLONE_NEWPID | CLONE_THREAD | CLONE_SIGHAND | CLONE_VM, 0, 0, 0, 0),
		     EINVAL);
	pid_t child = fork();
	if (child == 0) {
		if (setuid(65534) != 0)
			_exit(1);
		errno = 0;
		if (fork_newpid() != -1 || errno != EPERM)
			_exit(2);
		if (syscall(SYS_unshare, CLONE_NEWPID) != -1 || errno != EPERM)
			_exit(3);
		_exit(0);
	}
	REQUIRE_VOID(child > 0);
	int status = wait_status(child);
	CHECK("newpid_needs_root_eperm", exited_with(status, 0), "child %s (1 setuid, 2 clone, 3 unshare)",
	      status_text(status));
}

int main(void)
{
	test_numbers();
	test_proc_nspid();
	test_orphans();
	test_init_death_kills_all();
	test_unshare();
	test_nesting();
	test_errors();
	return test_done();
}
