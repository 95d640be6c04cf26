/*
 * execve: a static ELF, a #! script, argv/envp/auxv as the new program sees
 * them, close-on-exec, signal dispositions across exec, and the errors
 * (ENOEXEC, ENOENT, EACCES, EFAULT) after which the caller lives on; a
 * running program's file cannot be written, nor a file open for writing run
 * (ETXTBSY, Linux: deny_write_access).
 * Linux: fs/exec.c, fs/binfmt_elf.c, fs/binfmt_script.c.
 *
 * The program execs itself (argv[0] is its absolute path, as /init runs it)
 * with a role in argv[1]; the new image checks what it sees and reports
 * through its exit status: 0 right, else the number of the first thing wrong.
 */
#include "test.h"
#include <signal.h>
#include <sys/auxv.h>

extern char **environ;

static int as_child_args(int argc, char **argv)
{
	/* Expected: SELF child-args "a b" "" c, environment FOO=bar EMPTY= */
	if (argc != 5)
		return 2;
	if (strcmp(argv[2], "a b") || strcmp(argv[3], "") || strcmp(argv[4], "c"))
		return 3;
	if (!environ || !environ[0] || strcmp(environ[0], "FOO=bar"))
		return 4;
	if (!environ[1] || strcmp(environ[1], "EMPTY=") || environ[2])
		return 5;
	if (argv[argc] != NULL)
		return 6;
	return 0;
}

static int as_child_auxv(void)
{
	if (getauxval(AT_PAGESZ) != 4096)
		return 2;
	const unsigned char *random = (const unsigned char *)getauxval(AT_RANDOM);
	if (!random)
		return 3;
	unsigned sum = 0;
	for (int i = 0; i < 16; i++)
		sum += random[i]; /* must be readable */
	(void)sum;
	if (!getauxval(AT_ENTRY) || !getauxval(AT_PHDR) || !getauxval(AT_PHNUM))
		return 4;
	if (getauxval(AT_PHENT) != 56)
		return 5;
	if (getauxval(AT_UID) != getuid() || getauxval(AT_EUID) != geteuid() || getauxval(AT_GID) != getgid())
		return 6;
	const char *execfn = (const char *)getauxval(AT_EXECFN);
	if (!execfn || strcmp(execfn, "/tmp/execve/self") != 0)
		return 7;
	return 0;
}

/* SELF cloexec FD_KEPT FD_CLOSED */
static int as_child_cloexec(char **argv)
{
	int kept = atoi(argv[2]), closed = atoi(argv[3]);
	if (fcntl(kept, F_GETFD) != 0)
		return 2;
	errno = 0;
	if (fcntl(closed, F_GETFD) != -1 || errno != EBADF)
		return 3;
	char c;
	if (read(kept, &c, 1) != 1 || c != 'k')
		return 4;
	return 0;
}

/* SELF signals: SIGUSR1 had a handler (now default), SIGUSR2 was ignored, SIGTERM blocked. */
static int as_child_signals(void)
{
	struct sigaction sa;
	if (sigaction(SIGUSR1, NULL, &sa) || sa.sa_handler != SIG_DFL)
		return 2;
	if (sigaction(SIGUSR2, NULL, &sa) || sa.sa_handler != SIG_IGN)
		return 3;
	sigset_t mask;
	if (sigprocmask(SIG_BLOCK, NULL, &mask) || !sigismember(&mask, SIGTERM))
		return 4;
	return 0;
}

/* SELF script-interp SCRIPT_PATH extra: run as the interpreter of a #! script */
static int as_script_interpreter(int argc, char **argv)
{
	/* #!/tmp/execve/self script-interp  ->  self script-interp SCRIPT extra */
	if (argc != 4)
		return 2;
	if (strcmp(argv[2], "/tmp/execve/script") || strcmp(argv[3], "extra"))
		return 3;
	return 0;
}

/* Forks, runs `fn` in the child (which should exec), returns the wait status. */
static int run_exec(const char *path, char *const argv[], char *const envp[])
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execve(path, argv, envp);
		_exit(100 + (errno & 0x3f));
	}
	return wait_status(pid);
}

static int write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, data, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

static int copy_self(const char *self, const char *to)
{
	int in = open(self, O_RDONLY);
	if (in < 0)
		return -1;
	unlink(to);
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			n = -1;
	close(in);
	close(out);
	return n == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		if (!strcmp(argv[1], "child-args"))
			return as_child_args(argc, argv);
		if (!strcmp(argv[1], "child-auxv"))
			return as_child_auxv();
		if (!strcmp(argv[1], "cloexec") && argc == 4)
			return as_child_cloexec(argv);
		if (!strcmp(argv[1], "signals"))
			return as_child_signals();
		if (!strcmp(argv[1], "script-interp"))
			return as_script_interpreter(argc, argv);
		if (!strcmp(argv[1], "pid") && argc == 3)
			return getpid() == atoi(argv[2]) ? 0 : 2;
		if (!strcmp(argv[1], "exit"))
			return 33;
		if (!strcmp(argv[1], "hold") && argc == 4) {
			/* Running: say so on READY, then wait for a byte on GO. */
			char c;
			if (write(atoi(argv[2]), "r", 1) != 1 || read(atoi(argv[3]), &c, 1) != 1)
				return 2;
			return 0;
		}
		return 99;
	}
	REQUIRE(enter_scratch_dir() == 0);
	/* A copy at a known path, so that AT_EXECFN and #! lines can name it. */
	REQUIRE(copy_self(argv[0], "/tmp/execve/self") == 0);
	const char *self = "/tmp/execve/self";
	char *no_env[] = {NULL};

	int status = run_exec(self, (char *[]){"self", "exit", NULL}, no_env);
	CHECK("static_elf_runs", exited_with(status, 33), "exec of a static binary: %s", status_text(status));

	char *env[] = {"FOO=bar", "EMPTY=", NULL};
	status = run_exec(self, (char *[]){"self", "child-args", "a b", "", "c", NULL}, env);
	CHECK("argv_envp_passed", exited_with(status, 0), "new program saw wrong argv/envp (%s)", status_text(status));

	status = run_exec(self, (char *[]){"self", "child-auxv", NULL}, no_env);
	CHECK("auxv_pagesz_random_entry_ids_execfn", exited_with(status, 0),
	      "auxv check %s (2 PAGESZ, 3 RANDOM, 4 ENTRY/PHDR, 5 PHENT, 6 ids, 7 EXECFN)", status_text(status));

	/* The pid survives exec. */
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		char mine[16];
		snprintf(mine, sizeof(mine), "%d", getpid());
		execve(self, (char *[]){"self", "pid", mine, NULL}, no_env);
		_exit(100);
	}
	status = wait_status(pid);
	CHECK("pid_kept_across_exec", exited_with(status, 0), "getpid after exec differs (%s)", status_text(status));

	/* Close-on-exec: one pipe end with FD_CLOEXEC, one without. */
	int kept[2], closed[2];
	REQUIRE(pipe(kept) == 0 && pipe2(closed, O_CLOEXEC) == 0);
	REQUIRE(write(kept[1], "k", 1) == 1);
	char a[16], b[16];
	snprintf(a, sizeof(a), "%d", kept[0]);
	snprintf(b, sizeof(b), "%d", closed[0]);
	status = run_exec(self, (char *[]){"self", "cloexec", a, b, NULL}, no_env);
	CHECK("fd_cloexec_closed_others_kept", exited_with(status, 0), "cloexec check %s (2 kept fd gone, 3 cloexec fd open, 4 data)",
	      status_text(status));
	close(kept[0]), close(kept[1]), close(closed[0]), close(closed[1]);

	/* Handlers reset to default, ignored stays ignored, the mask is kept. */
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		signal(SIGUSR1, (void (*)(int))_exit);
		signal(SIGUSR2, SIG_IGN);
		sigset_t block;
		sigemptyset(&block);
		sigaddset(&block, SIGTERM);
		sigprocmask(SIG_BLOCK, &block, NULL);
		execve(self, (char *[]){"self", "signals", NULL}, no_env);
		_exit(100);
	}
	status = wait_status(pid);
	CHECK("signal_dispositions_across_exec", exited_with(status, 0),
	      "%s (2 handler not reset, 3 SIG_IGN lost, 4 mask lost)", status_text(status));

	/* A #! script whose interpreter is this program, with an argument. */
	const char *script = "#!/tmp/execve/self script-interp\nnot read by the interpreter\n";
	REQUIRE(write_file("/tmp/execve/script", script, strlen(script), 0755) == 0);
	status = run_exec("/tmp/execve/script", (char *[]){"script", "extra", NULL}, no_env);
	CHECK("shebang_script_interpreter_argv", exited_with(status, 0), "#! script: %s", status_text(status));

	/* A #! script run by busybox sh. */
	const char *sh = "#!/bin/sh\nexit 17\n";
	REQUIRE(write_file("/tmp/execve/sh-script", sh, strlen(sh), 0755) == 0);
	status = run_exec("/tmp/execve/sh-script", (char *[]){"sh-script", NULL}, no_env);
	CHECK("shebang_bin_sh", exited_with(status, 17), "#!/bin/sh script: %s", status_text(status));

	/* Errors: the caller lives on and sees errno. */
	static const char garbage[64] = "\177ELF this is not a valid ELF header";
	REQUIRE(write_file("/tmp/execve/garbage", garbage, sizeof(garbage), 0755) == 0);
	EXPECT_ERRNO("enoexec_bad_elf", execve("/tmp/execve/garbage", (char *[]){"g", NULL}, no_env), ENOEXEC);
	REQUIRE(write_file("/tmp/execve/text", "hello world\n", 12, 0755) == 0);
	EXPECT_ERRNO("enoexec_text_without_shebang", execve("/tmp/execve/text", (char *[]){"t", NULL}, no_env), ENOEXEC);
	REQUIRE(write_file("/tmp/execve/empty", "", 0, 0755) == 0);
	EXPECT_ERRNO("enoexec_empty_file", execve("/tmp/execve/empty", (char *[]){"e", NULL}, no_env), ENOEXEC);
	const char *bad_interp = "#!/tmp/execve/no-such-interpreter\n";
	REQUIRE(write_file("/tmp/execve/bad-interp", bad_interp, strlen(bad_interp), 0755) == 0);
	EXPECT_ERRNO("enoent_missing_interpreter", execve("/tmp/execve/bad-interp", (char *[]){"b", NULL}, no_env), ENOENT);
	EXPECT_ERRNO("enoent_missing_file", execve("/tmp/execve/no-such-file", (char *[]){"n", NULL}, no_env), ENOENT);
	EXPECT_ERRNO("enotdir_file_as_dir", execve("/tmp/execve/self/x", (char *[]){"n", NULL}, no_env), ENOTDIR);
	REQUIRE(write_file("/tmp/execve/noexec", "#!/bin/sh\n", 10, 0644) == 0);
	EXPECT_ERRNO("eacces_not_executable", execve("/tmp/execve/noexec", (char *[]){"n", NULL}, no_env), EACCES);
	EXPECT_ERRNO("eacces_directory", execve("/tmp", (char *[]){"n", NULL}, no_env), EACCES);
	EXPECT_ERRNO("efault_bad_path", syscall(SYS_execve, (char *)8, (char *[]){"n", NULL}, no_env), EFAULT);
	EXPECT_ERRNO("efault_bad_argv", syscall(SYS_execve, self, (char **)8, no_env), EFAULT);
	CHECK("caller_survives_failed_exec", getpid() > 0, "unreachable");

	/* ETXTBSY both ways: exec of a file open for writing, writing a running program. */
	int wfd = open(self, O_WRONLY);
	REQUIRE(wfd >= 0);
	EXPECT_ERRNO("etxtbsy_exec_of_file_open_for_write", execve(self, (char *[]){"self", "exit", NULL}, no_env),
		     ETXTBSY);
	close(wfd);
	int ready[2], go[2];
	REQUIRE(pipe(ready) == 0 && pipe(go) == 0);
	snprintf(a, sizeof(a), "%d", ready[1]);
	snprintf(b, sizeof(b), "%d", go[0]);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		execve(self, (char *[]){"self", "hold", a, b, NULL}, no_env);
		_exit(100);
	}
	char c;
	REQUIRE(read(ready[0], &c, 1) == 1);
	EXPECT_ERRNO("etxtbsy_open_running_program_for_write", open(self, O_WRONLY), ETXTBSY);
	EXPECT_ERRNO("etxtbsy_truncate_running_program", truncate(self, 0), ETXTBSY);
	int rfd = open(self, O_RDONLY);
	CHECK("running_program_opens_for_read", rfd >= 0, "open O_RDONLY: %s", errno_name(errno));
	close(rfd);
	REQUIRE(write(go[1], "g", 1) == 1);
	status = wait_status(pid);
	CHECK("held_program_ran", exited_with(status, 0), "%s", status_text(status));
	wfd = open(self, O_WRONLY);
	CHECK("writable_after_program_exits", wfd >= 0, "open O_WRONLY: %s", errno_name(errno));
	close(wfd);
	return test_done();
}
