/*
 * vfork(2), execve(2) of the tiny static exec_target in the child,
 * waitpid(2) in the parent: like fork_exec, without copying the address
 * space. Linux: kernel/fork.c (CLONE_VFORK), fs/exec.c.
 */
#include "bench.h"

static int op(void)
{
	char *argv[] = { BENCH_EXEC_TARGET, NULL };
	char *envp[] = { NULL };
	pid_t pid = vfork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execve(argv[0], argv, envp);
		_exit(127);
	}
	return bench_wait(pid);
}

int main(void)
{
	bench_run(200, 1, op);
	return 0;
}
