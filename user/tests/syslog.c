/*
 * The kernel log as dmesg, klogd and syslogd use it: syslog(2) (klogctl)
 * with its READ/READ_ALL/CLEAR/CONSOLE actions and `<P>[  secs.usecs] text`
 * records, /proc/kmsg (consuming, poll), /dev/kmsg (one `P,SEQ,USEC,-;text`
 * record per read, escapes, lseek, poll, EINVAL for a short buffer, writes
 * with a `<N>` prefix), /proc/sys/kernel/printk and dmesg_restrict.
 * Linux: kernel/printk/printk.c, fs/proc/kmsg.c.
 */
#include "test.h"
#include <poll.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>

enum {
	ACT_READ = 2,
	ACT_READ_ALL = 3,
	ACT_READ_CLEAR = 4,
	ACT_CLEAR = 5,
	ACT_CONSOLE_OFF = 6,
	ACT_CONSOLE_ON = 7,
	ACT_CONSOLE_LEVEL = 8,
	ACT_SIZE_UNREAD = 9,
	ACT_SIZE_BUFFER = 10,
};

static char big[1 << 20];

static long klogctl(int type, char *buf, int len)
{
	return syscall(SYS_syslog, type, buf, len);
}

/* Logs `text` through /dev/kmsg. */
static int kmsg_log(const char *text)
{
	int fd = open("kmsg", O_WRONLY);
	if (fd < 0)
		return -1;
	long n = write(fd, text, strlen(text));
	close(fd);
	return n == (long)strlen(text) ? 0 : -1;
}

/* READ_ALL into `big`, NUL-terminated; its length or -1. */
static long read_all(void)
{
	long n = klogctl(ACT_READ_ALL, big, sizeof(big) - 1);
	big[n > 0 ? n : 0] = 0;
	return n;
}

/* The line of `big` that holds `needle`, copied into `line`; 0 if none. */
static int find_line(const char *text, const char *needle, char *line, size_t size)
{
	const char *hit = strstr(text, needle);
	if (!hit)
		return 0;
	const char *start = hit;
	while (start > text && start[-1] != '\n')
		start--;
	const char *end = strchr(hit, '\n');
	size_t len = end ? (size_t)(end - start) : strlen(start);
	if (len >= size)
		len = size - 1;
	memcpy(line, start, len);
	line[len] = 0;
	return 1;
}

/* Whether `line` is `<P>[ssss.uuuuuu] rest` with P = `prio`, rest = `text`. */
static int is_syslog_line(const char *line, int prio, const char *text)
{
	char head[16];
	int n = snprintf(head, sizeof(head), "<%d>[", prio);
	if (strncmp(line, head, (size_t)n) != 0)
		return 0;
	const char *p = line + n;
	while (*p == ' ')
		p++;
	int digits = 0;
	while (*p >= '0' && *p <= '9')
		p++, digits++;
	if (!digits || *p++ != '.')
		return 0;
	for (int i = 0; i < 6; i++)
		if (*p < '0' || *p++ > '9')
			return 0;
	return strncmp(p, "] ", 2) == 0 && strcmp(p + 2, text) == 0;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	long n = write(fd, text, strlen(text));
	close(fd);
	return n == (long)strlen(text) ? 0 : -1;
}

static void check_syslog_calls(void)
{
	char marker[128], line[512];
	long size = klogctl(ACT_SIZE_BUFFER, NULL, 0);
	CHECK("size_buffer", size >= 4096, "SIZE_BUFFER gave %ld", size);
	snprintf(marker, sizeof(marker), "<5>syslog-test: all-%d\n", getpid());
	REQUIRE_VOID(kmsg_log(marker) == 0);
	long n = read_all();
	snprintf(marker, sizeof(marker), "syslog-test: all-%d", getpid());
	int found = find_line(big, marker, line, sizeof(line));
	CHECK("read_all_has_record", n > 0 && found, "READ_ALL gave %ld bytes without the line", n);
	/* LOG_USER (1) * 8 + LOG_NOTICE (5) = 13. */
	CHECK("read_all_format", found && is_syslog_line(line, 13, marker), "line '%s'", line);
	n = klogctl(ACT_READ_ALL, big, 200);
	big[n > 0 ? n : 0] = 0;
	CHECK("read_all_short_newest", n > 0 && n <= 200 && big[n - 1] == '\n' && strstr(big, marker),
	      "READ_ALL(200) gave %ld", n);
	EXPECT_ERRNO("bad_action", klogctl(11, NULL, 0), EINVAL);
	EXPECT_ERRNO("read_all_negative_len", klogctl(ACT_READ_ALL, big, -1), EINVAL);
	EXPECT_ERRNO("read_all_null_buf", klogctl(ACT_READ_ALL, NULL, 10), EINVAL);
	CHECK("read_all_zero_len", klogctl(ACT_READ_ALL, big, 0) == 0, "not 0");
	CHECK("size_unread", klogctl(ACT_SIZE_UNREAD, NULL, 0) >= 0, "errno %s", errno_name(errno));

	/* CLEAR: READ_ALL starts after it; READ_CLEAR reads and clears. */
	REQUIRE_VOID(klogctl(ACT_CLEAR, NULL, 0) == 0);
	snprintf(marker, sizeof(marker), "<6>syslog-test: after-clear-%d\n", getpid());
	REQUIRE_VOID(kmsg_log(marker) == 0);
	read_all();
	snprintf(marker, sizeof(marker), "syslog-test: all-%d", getpid());
	int old = strstr(big, marker) != NULL;
	snprintf(marker, sizeof(marker), "syslog-test: after-clear-%d", getpid());
	CHECK("clear", !old && strstr(big, marker), "old %d new %d", old, strstr(big, marker) != NULL);
	n = klogctl(ACT_READ_CLEAR, big, sizeof(big) - 1);
	big[n > 0 ? n : 0] = 0;
	CHECK("read_clear_reads", n > 0 && strstr(big, marker), "READ_CLEAR gave %ld", n);
	read_all();
	CHECK("read_clear_clears", !strstr(big, marker), "the record is still shown");
}

static void check_console_level(void)
{
	char saved[64], now[64];
	REQUIRE_VOID(slurp("proc/sys/kernel/printk", saved, sizeof(saved)) > 0);
	int c, d, m, b;
	CHECK("printk_sysctl_format", sscanf(saved, "%d\t%d\t%d\t%d\n", &c, &d, &m, &b) == 4 && strchr(saved, '\t'),
	      "'%s'", saved);
	EXPECT_ERRNO("console_level_0", klogctl(ACT_CONSOLE_LEVEL, NULL, 0), EINVAL);
	EXPECT_ERRNO("console_level_9", klogctl(ACT_CONSOLE_LEVEL, NULL, 9), EINVAL);
	EXPECT_OK("console_level_3", klogctl(ACT_CONSOLE_LEVEL, NULL, 3));
	slurp("proc/sys/kernel/printk", now, sizeof(now));
	CHECK("console_level_shows", atoi(now) == 3, "'%s'", now);
	EXPECT_OK("console_off", klogctl(ACT_CONSOLE_OFF, NULL, 0));
	slurp("proc/sys/kernel/printk", now, sizeof(now));
	CHECK("console_off_minimum", atoi(now) == m, "'%s', minimum %d", now, m);
	EXPECT_OK("console_on", klogctl(ACT_CONSOLE_ON, NULL, 0));
	slurp("proc/sys/kernel/printk", now, sizeof(now));
	CHECK("console_on_restores", atoi(now) == 3, "'%s'", now);
	REQUIRE_VOID(write_file("proc/sys/kernel/printk", "5 4 1 7\n") == 0);
	slurp("proc/sys/kernel/printk", now, sizeof(now));
	CHECK("printk_sysctl_write", strcmp(now, "5\t4\t1\t7\n") == 0, "'%s'", now);
	CHECK("printk_sysctl_restore", write_file("proc/sys/kernel/printk", saved) == 0, "errno %s",
	      errno_name(errno));
}

static void check_devkmsg(void)
{
	char marker[128], want[160], buf[2048];
	int fd = open("kmsg", O_RDONLY | O_NONBLOCK);
	REQUIRE_VOID(fd >= 0);
	long n = read(fd, buf, sizeof(buf));
	CHECK("devkmsg_first_record", n > 0 && buf[n - 1] == '\n' && strstr(buf, ";"), "read %ld (%s)", n,
	      errno_name(errno));
	CHECK("devkmsg_seek_end", lseek(fd, 0, SEEK_END) == 0, "errno %s", errno_name(errno));
	EXPECT_ERRNO("devkmsg_empty_eagain", read(fd, buf, sizeof(buf)), EAGAIN);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	CHECK("devkmsg_poll_empty", poll(&p, 1, 0) == 0, "revents %#x", p.revents);
	snprintf(marker, sizeof(marker), "<3>syslog-test: kmsg\\%d\tx\n", getpid());
	REQUIRE_VOID(kmsg_log(marker) == 0);
	p.revents = 0;
	CHECK("devkmsg_poll_ready", poll(&p, 1, 1000) == 1 && (p.revents & POLLIN), "revents %#x", p.revents);
	n = read(fd, buf, sizeof(buf));
	buf[n > 0 ? n : 0] = 0;
	unsigned long long seq = 0, usec = 0;
	int prio = -1, used = 0;
	int fields = sscanf(buf, "%d,%llu,%llu,-;%n", &prio, &seq, &usec, &used);
	snprintf(want, sizeof(want), "syslog-test: kmsg\\x5c%d\\x09x\n", getpid());
	CHECK("devkmsg_header", fields == 3 && prio == 11, "'%s'", buf);
	CHECK("devkmsg_escaped_text", used > 0 && strcmp(buf + used, want) == 0, "'%s'", buf);
	/* A buffer too small for the next record. */
	REQUIRE_VOID(kmsg_log("<6>syslog-test: a record longer than eight bytes\n") == 0);
	EXPECT_ERRNO("devkmsg_short_buffer", read(fd, buf, 8), EINVAL);
	EXPECT_ERRNO("devkmsg_seek_offset", lseek(fd, 1, SEEK_SET), ESPIPE);
	EXPECT_ERRNO("devkmsg_seek_cur", lseek(fd, 0, SEEK_CUR), EINVAL);
	/* SEEK_DATA: where the last CLEAR left READ_ALL. */
	REQUIRE_VOID(klogctl(ACT_CLEAR, NULL, 0) == 0);
	snprintf(marker, sizeof(marker), "<6>syslog-test: data-%d\n", getpid());
	REQUIRE_VOID(kmsg_log(marker) == 0);
	CHECK("devkmsg_seek_data", lseek(fd, 0, SEEK_DATA) == 0, "errno %s", errno_name(errno));
	n = read(fd, buf, sizeof(buf));
	buf[n > 0 ? n : 0] = 0;
	snprintf(marker, sizeof(marker), "syslog-test: data-%d\n", getpid());
	CHECK("devkmsg_seek_data_reads", n > 0 && strstr(buf, marker), "'%s'", buf);
	/*
	 * NUL ends the text; a write without <N> is user.warning (12). (Linux
	 * shows a record without a final newline only once the next one comes.)
	 */
	lseek(fd, 0, SEEK_END);
	int w = open("kmsg", O_WRONLY);
	REQUIRE_VOID(w >= 0);
	CHECK("devkmsg_write_len", write(w, "syslog-test: nul\n\0hidden", 24) == 24, "errno %s", errno_name(errno));
	close(w);
	n = read(fd, buf, sizeof(buf));
	buf[n > 0 ? n : 0] = 0;
	CHECK("devkmsg_default_prio", n > 0 && strncmp(buf, "12,", 3) == 0 && strstr(buf, ";syslog-test: nul\n"),
	      "read %ld (%s): '%s'", n, errno_name(errno), buf);
	close(fd);
}

/* Blocking reads: syslog READ and /proc/kmsg sleep until a record comes. */
static void check_consuming_readers(void)
{
	char marker[128];
	for (int i = 0; i < 1000 && klogctl(ACT_SIZE_UNREAD, NULL, 0) > 0; i++)
		klogctl(ACT_READ, big, sizeof(big) - 1);
	CHECK("read_drains", klogctl(ACT_SIZE_UNREAD, NULL, 0) == 0, "SIZE_UNREAD %ld",
	      klogctl(ACT_SIZE_UNREAD, NULL, 0));
	pid_t child = fork();
	if (child == 0) {
		usleep(200 * 1000);
		snprintf(marker, sizeof(marker), "<6>syslog-test: wake-%d\n", getppid());
		_exit(kmsg_log(marker) == 0 ? 0 : 1);
	}
	snprintf(marker, sizeof(marker), "syslog-test: wake-%d", getpid());
	long long t0 = now_ms();
	long n = 0;
	/* Another kernel message (Linux's modules log) may wake a read first. */
	for (int tries = 0; tries < 20; tries++) {
		n = klogctl(ACT_READ, big, sizeof(big) - 1);
		big[n > 0 ? n : 0] = 0;
		if (n <= 0 || strstr(big, marker))
			break;
	}
	CHECK("read_blocks_until_record", n > 0 && strstr(big, marker) && now_ms() - t0 >= 150, "n %ld after %lld ms",
	      n, now_ms() - t0);
	waitpid(child, NULL, 0);

	int fd = open("proc/kmsg", O_RDONLY | O_NONBLOCK);
	REQUIRE_VOID(fd >= 0);
	for (int i = 0; i < 1000 && read(fd, big, sizeof(big)) > 0; i++)
		;
	EXPECT_ERRNO("proc_kmsg_eagain", read(fd, big, sizeof(big)), EAGAIN);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	CHECK("proc_kmsg_poll_empty", poll(&p, 1, 0) == 0, "revents %#x", p.revents);
	snprintf(marker, sizeof(marker), "<4>syslog-test: proc-%d\n", getpid());
	REQUIRE_VOID(kmsg_log(marker) == 0);
	CHECK("proc_kmsg_poll_ready", poll(&p, 1, 1000) == 1, "revents %#x", p.revents);
	n = read(fd, big, sizeof(big) - 1);
	big[n > 0 ? n : 0] = 0;
	char line[512];
	snprintf(marker, sizeof(marker), "syslog-test: proc-%d", getpid());
	int found = find_line(big, marker, line, sizeof(line));
	CHECK("proc_kmsg_reads", found && is_syslog_line(line, 12, marker), "'%s'", big);
	close(fd);
}

/* An unprivileged reader: everything but READ_ALL/SIZE_BUFFER wants CAP_SYSLOG. */
static void check_permissions(void)
{
	char saved[16];
	REQUIRE_VOID(slurp("proc/sys/kernel/dmesg_restrict", saved, sizeof(saved)) > 0);
	for (int restricted = 0; restricted <= 1; restricted++) {
		REQUIRE_VOID(write_file("proc/sys/kernel/dmesg_restrict", restricted ? "1\n" : "0\n") == 0);
		pid_t child = fork();
		if (child == 0) {
			if (setgid(65534) || setuid(65534))
				_exit(99);
			int bits = 0;
			errno = 0;
			if (klogctl(ACT_READ_ALL, big, 100) < 0 && errno == EPERM)
				bits |= 1;
			if (klogctl(ACT_CLEAR, NULL, 0) < 0 && errno == EPERM)
				bits |= 2;
			if (klogctl(ACT_CONSOLE_LEVEL, NULL, 7) < 0 && errno == EPERM)
				bits |= 4;
			int fd = open("kmsg", O_RDONLY);
			if (fd < 0 && errno == EPERM)
				bits |= 8;
			if (open("proc/kmsg", O_RDONLY) < 0 && errno == EACCES)
				bits |= 16;
			_exit(bits);
		}
		int status = 0;
		waitpid(child, &status, 0);
		int want = restricted ? 31 : 22;
		CHECK(restricted ? "unprivileged_restricted" : "unprivileged_open",
		      WIFEXITED(status) && WEXITSTATUS(status) == want, "status %#x, want exit %d", status, want);
	}
	CHECK("dmesg_restrict_restore", write_file("proc/sys/kernel/dmesg_restrict", saved) == 0, "errno %s",
	      errno_name(errno));
}


/* Starts `argv` in the background; its pid. */
static pid_t spawn(char *const argv[])
{
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* dmesg, syslogd -C with logger and logread, and klogd as busybox runs them. */
static void check_busybox(void)
{
	char marker[128], cmd[256];
	static char out[1 << 16];
	snprintf(marker, sizeof(marker), "<6>syslog-test: dmesg-%d\n", getpid());
	REQUIRE_VOID(kmsg_log(marker) == 0);
	snprintf(marker, sizeof(marker), "] syslog-test: dmesg-%d\n", getpid());
	int rc = run_sh("dmesg", out, sizeof(out));
	CHECK("busybox_dmesg", rc == 0 && strstr(out, marker) && !strstr(out, "<14>["), "rc %d", rc);
	rc = run_sh("dmesg -r", out, sizeof(out));
	snprintf(marker, sizeof(marker), "syslog-test: dmesg-%d\n", getpid());
	CHECK("busybox_dmesg_raw", rc == 0 && strstr(out, marker) && strstr(out, "<14>["), "rc %d", rc);
	rc = run_sh("dmesg -s 100000", out, sizeof(out));
	CHECK("busybox_dmesg_s", rc == 0 && strstr(out, marker), "rc %d", rc);
	rc = run_sh("dmesg -c >/dev/null && dmesg", out, sizeof(out));
	CHECK("busybox_dmesg_c", rc == 0 && !strstr(out, marker), "rc %d: %.200s", rc, out);
	char saved[64], now[64];
	slurp("proc/sys/kernel/printk", saved, sizeof(saved));
	rc = run_sh("dmesg -n 1", out, sizeof(out));
	slurp("proc/sys/kernel/printk", now, sizeof(now));
	CHECK("busybox_dmesg_n", rc == 0 && atoi(now) == 1, "rc %d printk '%s'", rc, now);
	write_file("proc/sys/kernel/printk", saved);

	/* syslogd -C: logger's line lands in shared memory, logread prints it. */
	unlink("/dev/log");
	char *syslogd[] = {"/bin/busybox", "syslogd", "-n", "-C16", NULL};
	pid_t sd = spawn(syslogd);
	struct stat st;
	for (int i = 0; i < 300 && stat("/dev/log", &st) != 0; i++)
		usleep(10 * 1000);
	snprintf(cmd, sizeof(cmd), "logger syslog-test-logger-%d && sleep 1 && logread", getpid());
	rc = run_sh(cmd, out, sizeof(out));
	snprintf(marker, sizeof(marker), "syslog-test-logger-%d", getpid());
	CHECK("busybox_syslogd_logread", rc == 0 && strstr(out, marker), "rc %d: %.300s", rc, out);

	/* klogd -n: kernel records go to syslogd as kern.* */
	char *klogd[] = {"/bin/busybox", "klogd", "-n", NULL};
	pid_t kd = spawn(klogd);
	usleep(300 * 1000);
	snprintf(marker, sizeof(marker), "<3>syslog-test: klogd-%d\n", getpid());
	kmsg_log(marker);
	snprintf(marker, sizeof(marker), "syslog-test: klogd-%d", getpid());
	int found = 0;
	for (int i = 0; i < 30 && !found; i++) {
		usleep(100 * 1000);
		run_sh("logread", out, sizeof(out));
		found = strstr(out, marker) != NULL;
	}
	CHECK("busybox_klogd", found, "%.300s", out);
	kill(kd, SIGTERM);
	waitpid(kd, NULL, 0);
	kill(sd, SIGTERM);
	waitpid(sd, NULL, 0);
	unlink("/dev/log");
}

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	mkdir("proc", 0555);
	REQUIRE(mount("proc", "proc", "proc", 0, NULL) == 0);
	unlink("kmsg");
	REQUIRE(mknod("kmsg", S_IFCHR | 0644, makedev(1, 11)) == 0);
	check_syslog_calls();
	check_console_level();
	check_devkmsg();
	check_consuming_readers();
	check_permissions();
	check_busybox();
	umount("proc");
	return test_done();
}
