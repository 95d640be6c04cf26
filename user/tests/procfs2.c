/*
 * procfs, the rest of issue 6's list, parsed the way their users read them:
 * /proc/PID/{statm, environ, fdinfo/N, exe, task/}, /proc/{cpuinfo,
 * buddyinfo, slabinfo, vmstat, zoneinfo, devices, meminfo keys} and
 * /proc/sys/kernel (hostname writable by root only, shown by uname).
 * Linux: fs/proc/ (base.c, array.c, fd.c, task_mmu.c, proc_sysctl.c),
 * mm/vmstat.c, mm/slab_common.c, arch/x86/kernel/cpu/proc.c.
 */
#include "test.h"

#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <sys/mount.h>
#include <sys/utsname.h>

extern char **environ;

static int count_lines_starting(const char *buf, const char *prefix)
{
	int n = 0;
	size_t len = strlen(prefix);
	for (const char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, prefix, len) == 0)
			n++;
	return n;
}

/* statm: seven numbers, resident within size. */
static void check_statm(void)
{
	char buf[256];
	unsigned long v[7];
	REQUIRE_VOID(slurp("/proc/self/statm", buf, sizeof(buf)) > 0);
	int n = sscanf(buf, "%lu %lu %lu %lu %lu %lu %lu", &v[0], &v[1], &v[2], &v[3], &v[4],
		       &v[5], &v[6]);
	CHECK("statm_seven_numbers", n == 7 && buf[strlen(buf) - 1] == '\n', "%s", buf);
	CHECK("statm_resident_le_size", n == 7 && v[0] > 0 && v[1] <= v[0] && v[3] > 0,
	      "size %lu resident %lu text %lu", v[0], v[1], v[3]);
}

/* environ: the NUL-separated strings exec was given, our own and a child's. */
static void check_environ(const char *self)
{
	static char buf[16384], want[16384];
	ssize_t n = slurp("/proc/self/environ", buf, sizeof(buf));
	size_t len = 0;
	for (char **e = environ; *e && len + strlen(*e) + 1 < sizeof(want); e++) {
		memcpy(want + len, *e, strlen(*e) + 1);
		len += strlen(*e) + 1;
	}
	CHECK("environ_self", n == (ssize_t)len && memcmp(buf, want, len) == 0,
	      "%zd bytes, want %zu", n, len);

	pid_t pid = fork();
	REQUIRE_VOID(pid >= 0);
	if (pid == 0) {
		char *argv[] = {(char *)self, "environ-child", NULL};
		char *envp[] = {"A=1", "B=two words", "C=", NULL};
		execve(self, argv, envp);
		_exit(99);
	}
	int status = wait_status(pid);
	CHECK("environ_child_envp", status == 0, "child status %d", status);
}

/* The exec'd child of check_environ: exits 0 if its environ is its envp. */
static int environ_child(void)
{
	char buf[256];
	static const char want[] = "A=1\0B=two words\0C=";
	ssize_t n = slurp("/proc/self/environ", buf, sizeof(buf));
	return n == (ssize_t)sizeof(want) && memcmp(buf, want, sizeof(want)) == 0 ? 0 : 1;
}

/* fdinfo: pos after lseek, flags in octal with O_CLOEXEC, mnt_id, ino. */
static void check_fdinfo(void)
{
	char path[64], buf[512];
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	REQUIRE_VOID(fd >= 0);
	char tmp[16];
	REQUIRE_VOID(read(fd, tmp, sizeof(tmp)) == sizeof(tmp));
	REQUIRE_VOID(lseek(fd, 7, SEEK_SET) == 7);
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	REQUIRE_VOID(slurp(path, buf, sizeof(buf)) > 0);
	long long pos = -1;
	unsigned flags = 0;
	int mnt = -1;
	unsigned long ino = 0;
	int n = sscanf(buf, "pos:\t%lld\nflags:\t%o\nmnt_id:\t%d\nino:\t%lu", &pos, &flags, &mnt,
		       &ino);
	struct stat st;
	fstat(fd, &st);
	CHECK("fdinfo_fields", n == 4, "%s", buf);
	CHECK("fdinfo_pos_after_lseek", pos == 7, "pos %lld", pos);
	CHECK("fdinfo_flags_octal", (flags & O_ACCMODE) == O_RDONLY && (flags & O_CLOEXEC) &&
	      strstr(buf, "flags:\t0") != NULL, "flags %o", flags);
	CHECK("fdinfo_ino", ino == st.st_ino, "ino %lu, fstat %lu", ino, (unsigned long)st.st_ino);
	close(fd);
	struct stat dst;
	CHECK("fdinfo_gone_after_close", stat(path, &dst) == -1 && errno == ENOENT, "%s", path);
}

/* exe: the program's absolute path. */
static void check_exe(const char *self)
{
	char link[PATH_MAX], real[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", link, sizeof(link) - 1);
	link[len > 0 ? len : 0] = 0;
	CHECK("exe_is_argv0", len > 0 && realpath(self, real) && strcmp(link, real) == 0,
	      "exe -> %s, argv[0] %s", link, self);
}

static int thread_pipe[2];
static pid_t thread_tids[2];

static void *thread_main(void *arg)
{
	thread_tids[(long)arg] = gettid();
	char c;
	read(thread_pipe[0], &c, 1);
	return NULL;
}

/* task/: a directory per thread, each with the thread's own stat. */
static void check_task_dir(void)
{
	pthread_t t[2];
	REQUIRE_VOID(pipe(thread_pipe) == 0);
	for (long i = 0; i < 2; i++)
		REQUIRE_VOID(pthread_create(&t[i], NULL, thread_main, (void *)i) == 0);
	while (!__atomic_load_n(&thread_tids[0], __ATOMIC_SEQ_CST) ||
	       !__atomic_load_n(&thread_tids[1], __ATOMIC_SEQ_CST))
		usleep(1000);

	DIR *d = opendir("/proc/self/task");
	int count = 0, seen = 0;
	for (struct dirent *e; d && (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		count++;
		int tid = atoi(e->d_name);
		seen += tid == getpid() || tid == thread_tids[0] || tid == thread_tids[1];
	}
	if (d)
		closedir(d);
	CHECK("task_lists_threads", count == 3 && seen == 3, "%d entries, %d known", count, seen);

	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", thread_tids[1]);
	CHECK("task_tid_stat", slurp(path, buf, sizeof(buf)) > 0 && atoi(buf) == thread_tids[1],
	      "%s: %.40s", path, buf);
	REQUIRE_VOID(slurp("/proc/self/stat", buf, sizeof(buf)) > 0);
	char *p = strrchr(buf, ')');
	int field = 2, threads = -1;
	for (; p && *p; p++)
		if (*p == ' ' && ++field == 20)
			threads = atoi(p + 1);
	CHECK("stat_num_threads", threads == 3, "field 20 is %d", threads);
	REQUIRE_VOID(slurp("/proc/self/status", buf, sizeof(buf)) > 0);
	CHECK("status_threads", strstr(buf, "\nThreads:\t3\n") != NULL, "no Threads: 3");

	close(thread_pipe[1]);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	close(thread_pipe[0]);
}

static void check_system_files(void)
{
	static char buf[65536];
	REQUIRE_VOID(slurp("/proc/cpuinfo", buf, sizeof(buf)) > 0);
	int cpus = count_lines_starting(buf, "processor\t: ");
	CHECK("cpuinfo_per_cpu", cpus > 0 && count_lines_starting(buf, "model name\t: ") == cpus &&
	      count_lines_starting(buf, "flags\t\t: ") == cpus, "%d processors", cpus);
	CHECK("cpuinfo_fpu_flag", strstr(buf, "flags\t\t: fpu ") != NULL, "flags start with fpu");

	REQUIRE_VOID(slurp("/proc/buddyinfo", buf, sizeof(buf)) > 0);
	int zones = 0, good = 0;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		int node, used = 0, counts = 0;
		char zone[16];
		unsigned long c;
		zones++;
		if (sscanf(line, "Node %d, zone %15s%n", &node, zone, &used) != 2)
			continue;
		for (char *p = line + used; sscanf(p, "%lu%n", &c, &used) == 1; p += used)
			counts++;
		good += counts == 11 && strncmp(line, "Node 0, zone ", 13) == 0;
	}
	CHECK("buddyinfo_11_orders", zones > 0 && good == zones, "%d of %d lines", good, zones);

	/* A newline in front, so every key, the first too, is found as "\nKey:". */
	buf[0] = '\n';
	REQUIRE_VOID(slurp("/proc/meminfo", buf + 1, sizeof(buf) - 1) > 0);
	static const char *keys[] = {"MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached",
				     "SwapTotal", "SwapFree", "Dirty", "Slab", "Shmem"};
	int found = 0;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char key[32], *at;
		unsigned long v;
		snprintf(key, sizeof(key), "\n%s:", keys[i]);
		at = strstr(buf, key);
		char unit[4] = "";
		found += at && sscanf(at + strlen(key), " %lu %3s", &v, unit) == 2 &&
			 strcmp(unit, "kB") == 0;
	}
	CHECK("meminfo_keys_in_kb", found == 10, "%d of 10 keys", found);

	REQUIRE_VOID(slurp("/proc/slabinfo", buf, sizeof(buf)) > 0);
	CHECK("slabinfo_2_1", strncmp(buf, "slabinfo - version: 2.1\n# name ", 31) == 0 &&
	      count_lines_starting(buf, "kmalloc-") > 0, "%.40s", buf);
	REQUIRE_VOID(slurp("/proc/vmstat", buf, sizeof(buf)) > 0);
	CHECK("vmstat_nr_free_pages", strncmp(buf, "nr_free_pages ", 14) == 0, "%.40s", buf);
	REQUIRE_VOID(slurp("/proc/zoneinfo", buf, sizeof(buf)) > 0);
	CHECK("zoneinfo_zone", strncmp(buf, "Node 0, zone ", 13) == 0 &&
	      strstr(buf, "\n  pages free ") && strstr(buf, "\n        managed "), "%.40s", buf);
	REQUIRE_VOID(slurp("/proc/devices", buf, sizeof(buf)) > 0);
	CHECK("devices_sections", strncmp(buf, "Character devices:\n  1 mem\n", 27) == 0 &&
	      strstr(buf, "\n\nBlock devices:\n"), "%.60s", buf);
}

/* Writes `text` to a /proc/sys file; the write's result, errno kept. */
static long sysctl_write(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -1;
	long r = write(fd, text, strlen(text));
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

static void check_sysctl(void)
{
	char buf[256], old[72];
	struct utsname u;
	uname(&u);
	REQUIRE_VOID(slurp("/proc/sys/kernel/ostype", buf, sizeof(buf)) > 0);
	CHECK("sys_ostype", strcmp(buf, "Linux\n") == 0, "%s", buf);
	REQUIRE_VOID(slurp("/proc/sys/kernel/osrelease", buf, sizeof(buf)) > 0);
	CHECK("sys_osrelease_is_uname", strncmp(buf, u.release, strlen(u.release)) == 0 &&
	      buf[strlen(u.release)] == '\n', "%s", buf);
	REQUIRE_VOID(slurp("/proc/sys/kernel/pid_max", buf, sizeof(buf)) > 0);
	CHECK("sys_pid_max", atoi(buf) >= 301, "%s", buf);
	REQUIRE_VOID(slurp("/proc/sys/kernel/ngroups_max", buf, sizeof(buf)) > 0);
	CHECK("sys_ngroups_max", strcmp(buf, "65536\n") == 0, "%s", buf);

	snprintf(old, sizeof(old), "%s", u.nodename);
	EXPECT_OK("hostname_root_write", sysctl_write("/proc/sys/kernel/hostname", "procfs2-host\n"));
	uname(&u);
	CHECK("hostname_in_uname", strcmp(u.nodename, "procfs2-host") == 0, "%s", u.nodename);
	CHECK("hostname_read_back", slurp("/proc/sys/kernel/hostname", buf, sizeof(buf)) > 0 &&
	      strcmp(buf, "procfs2-host\n") == 0, "%s", buf);
	EXPECT_OK("sethostname_back", sethostname(old, strlen(old)));
	CHECK("sethostname_in_sysctl", slurp("/proc/sys/kernel/hostname", buf, sizeof(buf)) > 0 &&
	      strncmp(buf, old, strlen(old)) == 0, "%s", buf);
	EXPECT_ERRNO("sethostname_too_long", sethostname(buf, 65), EINVAL);

	pid_t pid = fork();
	REQUIRE_VOID(pid >= 0);
	if (pid == 0) {
		if (setuid(1000) != 0)
			_exit(2);
		errno = 0;
		int fd = open("/proc/sys/kernel/hostname", O_WRONLY);
		int r = fd == -1 && errno == EACCES ? 0 : 1;
		r |= sethostname("x", 1) == -1 && errno == EPERM ? 0 : 4;
		_exit(r);
	}
	int status = wait_status(pid);
	CHECK("hostname_user_eacces", status == 0, "child status %d", status);

	/* A bounded integer, where the kernel has one (vm.dirty_ratio: 0..100). */
	const char *ratio = "/proc/sys/vm/dirty_ratio";
	if (slurp(ratio, old, sizeof(old)) > 0) {
		EXPECT_ERRNO("sysctl_int_out_of_range", sysctl_write(ratio, "101\n"), EINVAL);
		EXPECT_ERRNO("sysctl_int_not_a_number", sysctl_write(ratio, "ten\n"), EINVAL);
		CHECK("sysctl_int_unchanged", slurp(ratio, buf, sizeof(buf)) > 0 &&
		      strcmp(buf, old) == 0, "%s became %s", old, buf);
	}
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "environ-child") == 0)
		return environ_child();
	mkdir("/proc", 0555);
	REQUIRE(mount("proc", "/proc", "proc", 0, NULL) == 0);
	check_statm();
	check_environ(argv[0]);
	check_fdinfo();
	check_exe(argv[0]);
	check_task_dir();
	check_system_files();
	check_sysctl();
	EXPECT_OK("umount_proc", umount("/proc"));
	return test_done();
}
