/*
 * prctl: the thread name, the parent-death signal (cleared in a fork
 * child, sent when the parent dies), child subreapers (orphans go to the
 * nearest one), the dumpable flag (inherited, reset by exec),
 * no_new_privs (one-way, inherited, shown in /proc), unknown options;
 * personality(2) and getcpu(2).
 * Linux: kernel/sys.c (prctl, getcpu), kernel/exit.c (forget_original_parent,
 * find_new_reaper), kernel/exec_domain.c (personality), fs/exec.c
 * (begin_new_exec's set_dumpable).
 */
#include "test.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>

static char *self_path;

static long pr(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)
{
	return syscall(SYS_prctl, option, a2, a3, a4, a5);
}

static void test_name(void)
{
	char name[32] = {0};
	EXPECT_OK("set_name", pr(PR_SET_NAME, (unsigned long)"a-very-long-thread-name", 0, 0, 0));
	EXPECT_OK("get_name", pr(PR_GET_NAME, (unsigned long)name, 0, 0, 0));
	CHECK("name_cut_to_15_bytes", strcmp(name, "a-very-long-thr") == 0, "name \"%s\"", name);
	EXPECT_ERRNO("get_name_efault", pr(PR_GET_NAME, (unsigned long)unmapped_address(), 0, 0, 0),
		     EFAULT);
}

static void test_pdeathsig_values(void)
{
	int sig = -1;
	EXPECT_OK("get_pdeathsig", pr(PR_GET_PDEATHSIG, (unsigned long)&sig, 0, 0, 0));
	CHECK("pdeathsig_default_0", sig == 0, "got %d", sig);
	EXPECT_ERRNO("set_pdeathsig_65_einval", pr(PR_SET_PDEATHSIG, 65, 0, 0, 0), EINVAL);
	EXPECT_OK("set_pdeathsig", pr(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0));
	pr(PR_GET_PDEATHSIG, (unsigned long)&sig, 0, 0, 0);
	CHECK("pdeathsig_reads_back", sig == SIGUSR1, "got %d", sig);
	pid_t child = fork();
	if (child == 0) {
		int s = -1;
		pr(PR_GET_PDEATHSIG, (unsigned long)&s, 0, 0, 0);
		_exit(s == 0 ? 0 : 1);
	}
	CHECK("pdeathsig_cleared_in_fork_child", exited_with(wait_status(child), 0),
	      "child saw a parent-death signal");
	pr(PR_SET_PDEATHSIG, 0, 0, 0, 0);
	EXPECT_ERRNO("get_pdeathsig_efault", pr(PR_GET_PDEATHSIG, (unsigned long)unmapped_address(), 0, 0, 0),
		     EFAULT);
}

static int report_fd = -1;

static void on_term(int sig)
{
	char c = sig == SIGTERM ? 'T' : '?';
	write(report_fd, &c, 1);
	_exit(0);
}

/*
 * The test process is a subreaper; its child P forks C, which asks for
 * SIGTERM when P dies. P exits: C gets SIGTERM, and C is now the test
 * process's child (getppid, waitpid).
 */
static void test_pdeath_and_subreaper(void)
{
	int v = -1;
	EXPECT_OK("get_child_subreaper", pr(PR_GET_CHILD_SUBREAPER, (unsigned long)&v, 0, 0, 0));
	CHECK("child_subreaper_default_0", v == 0, "got %d", v);
	EXPECT_OK("set_child_subreaper", pr(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
	pr(PR_GET_CHILD_SUBREAPER, (unsigned long)&v, 0, 0, 0);
	CHECK("child_subreaper_reads_back", v == 1, "got %d", v);

	int report[2], ready[2], cpid[2];
	if (pipe(report) || pipe(ready) || pipe(cpid)) {
		fail("setup", "pipe: %s", errno_name(errno));
		return;
	}
	pid_t me = getpid();
	pid_t p = fork();
	if (p == 0) {
		pid_t c = fork();
		if (c == 0) {
			report_fd = report[1];
			signal(SIGTERM, on_term);
			pr(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
			write(ready[1], "r", 1);
			for (;;)
				pause();
		}
		char x;
		read(ready[0], &x, 1);
		write(cpid[1], &c, sizeof(c));
		_exit(0);
	}
	pid_t c = -1;
	read(cpid[0], &c, sizeof(c));
	int status = wait_status(p);
	struct pollfd pfd = {.fd = report[0], .events = POLLIN};
	char got = 0;
	if (poll(&pfd, 1, 5000) == 1)
		read(report[0], &got, 1);
	CHECK("pdeathsig_sent_when_parent_dies", exited_with(status, 0) && got == 'T',
	      "parent %s, child reported '%c'", status_text(status), got ? got : '-');
	int cstatus = c > 0 ? wait_status(c) : -1;
	CHECK("orphan_goes_to_subreaper", c > 0 && exited_with(cstatus, 0),
	      "waitpid(%d) from the subreaper: %s", c, status_text(cstatus));
	(void)me;
	pr(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
	close(report[0]), close(report[1]), close(ready[0]), close(ready[1]);
	close(cpid[0]), close(cpid[1]);
}

static void test_dumpable(void)
{
	CHECK("dumpable_default_1", pr(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1, "got %ld",
	      pr(PR_GET_DUMPABLE, 0, 0, 0, 0));
	EXPECT_ERRNO("set_dumpable_2_einval", pr(PR_SET_DUMPABLE, 2, 0, 0, 0), EINVAL);
	EXPECT_OK("set_dumpable_0", pr(PR_SET_DUMPABLE, 0, 0, 0, 0));
	CHECK("dumpable_reads_0", pr(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0, "not 0");
	pid_t child = fork();
	if (child == 0) {
		if (pr(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
			_exit(1);
		char *argv[] = {self_path, "dumpable", NULL};
		execv(self_path, argv);
		_exit(2);
	}
	int status = wait_status(child);
	CHECK("dumpable_inherited_then_exec_resets_to_1", exited_with(status, 0),
	      "child %s (1: not inherited, 3: exec kept 0)", status_text(status));
	pr(PR_SET_DUMPABLE, 1, 0, 0, 0);
}

static void test_no_new_privs(void)
{
	CHECK("no_new_privs_default_0", pr(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0, "not 0");
	EXPECT_ERRNO("get_no_new_privs_extra_arg_einval", pr(PR_GET_NO_NEW_PRIVS, 1, 0, 0, 0), EINVAL);
	EXPECT_ERRNO("set_no_new_privs_0_einval", pr(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0), EINVAL);
	EXPECT_ERRNO("set_no_new_privs_extra_arg_einval", pr(PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0), EINVAL);
	/* One-way: only in a child. */
	pid_t child = fork();
	if (child == 0) {
		if (pr(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || pr(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
			_exit(1);
		char *argv[] = {self_path, "nnp", NULL};
		execv(self_path, argv);
		_exit(2);
	}
	int status = wait_status(child);
	CHECK("no_new_privs_set_kept_across_exec", exited_with(status, 0),
	      "child %s (1: set, 4: lost by exec)", status_text(status));
}

static void test_misc(void)
{
	EXPECT_ERRNO("unknown_option_einval", pr(0x7fff1234, 0, 0, 0, 0), EINVAL);
	long persona = syscall(SYS_personality, 0xffffffffUL);
	CHECK("personality_query_per_linux", persona == 0, "got %#lx", persona);
	CHECK("personality_set_returns_old", syscall(SYS_personality, 0UL) == 0, "not 0");
	unsigned cpu = 99, node = 99;
	EXPECT_OK("getcpu", syscall(SYS_getcpu, &cpu, &node, NULL));
	CHECK("getcpu_values", cpu < 64 && node == 0, "cpu %u node %u", cpu, node);
	EXPECT_OK("getcpu_null_pointers", syscall(SYS_getcpu, NULL, NULL, NULL));
	EXPECT_ERRNO("getcpu_efault", syscall(SYS_getcpu, unmapped_address(), NULL, NULL), EFAULT);
}

/* The exec'd halves of the dumpable and no_new_privs checks. */
static int exec_child(const char *what)
{
	if (strcmp(what, "dumpable") == 0)
		return pr(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1 ? 0 : 3;
	if (pr(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return 4;
	/* /proc shows it too, when /proc is there. */
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2)
		return exec_child(argv[1]);
	self_path = argv[0];
	test_name();
	test_pdeathsig_values();
	test_pdeath_and_subreaper();
	test_dumpable();
	test_no_new_privs();
	test_misc();
	return test_done();
}
