/*
 * fork(2), execve(2) of a tiny static program (exec_target.c) in the child,
 * waitpid(2) in the parent. lmbench: `lat_proc exec`.
 * Linux: kernel/fork.c, fs/exec.c, fs/binfmt_elf.c.
 */
#include "bench.h"

static int op(void)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char *argv[] = { BENCH_EXEC_TARGET, NULL };
		char *envp[] = { NULL };
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
