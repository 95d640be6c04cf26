/*
 * tracing: tracefs and the static tracepoints, read as text.
 * mount -t tracefs; its mount point /sys/kernel/tracing in sysfs; the
 * control files (tracing_on, set_event, events/.../enable, id, format,
 * current_tracer, trace_clock, buffer_size_kb); sched_switch and
 * raw_syscalls for a child doing getpid and nanosleep; page_fault_user for
 * a fresh anonymous page; block_rq_issue/complete for a write and fsync
 * to the scratch disk (the same bytes written back); an event switched
 * off records nothing, tracing_on 0 records nothing, O_TRUNC clears;
 * trace_pipe consumes, polls, blocks and reports lost events.
 * Linux: kernel/trace/trace.c, trace_events.c, trace_output.c,
 * ring_buffer.c, include/trace/events/{sched,syscalls,block}.h,
 * arch/x86/include/asm/trace/exceptions.h.
 */
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>

#include "test.h"

#define T "/tmp/tracing"
#define TRACEFS_MAGIC 0x74726163

static char small[4096];

/* The contents of a small file, NUL-terminated ("" if unreadable). */
static const char *cat(const char *path)
{
	small[0] = 0;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return small;
	ssize_t n = read(fd, small, sizeof(small) - 1);
	small[n > 0 ? n : 0] = 0;
	close(fd);
	return small;
}

/*
 * Writes `text` to `path` (opened with `flags`) as echo does, again after a
 * short write (set_event takes one word per write); returns 0 or the errno.
 */
static int put(const char *path, const char *text, int flags)
{
	int fd = open(path, O_WRONLY | flags);
	if (fd < 0)
		return errno;
	size_t left = strlen(text);
	int err = 0;
	while (left > 0) {
		ssize_t n = write(fd, text, left);
		if (n <= 0) {
			err = n < 0 ? errno : EIO;
			break;
		}
		text += n;
		left -= (size_t)n;
	}
	close(fd);
	return err;
}

/* The whole of `trace`, in a buffer the next call reuses. */
static char *trace_text;
static const char *read_trace(void)
{
	static size_t cap;
	size_t len = 0;
	int fd = open(T "/trace", O_RDONLY);
	if (fd < 0)
		return "";
	for (;;) {
		if (cap - len < 65536) {
			char *bigger = realloc(trace_text, cap + (1 << 20));
			if (!bigger)
				break;
			trace_text = bigger;
			cap += 1 << 20;
		}
		ssize_t n = read(fd, trace_text + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (!trace_text)
		return "";
	trace_text[len] = 0;
	return trace_text;
}

/* The PID of a trace line ("  comm-PID  [CPU] ..."), or -1. */
static int line_pid(const char *line, const char *end)
{
	const char *bracket = memchr(line, '[', (size_t)(end - line));
	if (!bracket)
		return -1;
	const char *p = bracket;
	while (p > line && p[-1] == ' ')
		p--;
	const char *digits_end = p;
	while (p > line && p[-1] >= '0' && p[-1] <= '9')
		p--;
	if (p == digits_end || p == line || p[-1] != '-')
		return -1;
	return atoi(p);
}

/* Counts the event lines of `text` by `pid` (-1: anyone) that contain `what`. */
static int count_lines(const char *text, int pid, const char *what)
{
	int count = 0;
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		if (*line != '#' && (pid < 0 || line_pid(line, end) == pid)) {
			const char *hit = strstr(line, what);
			if (hit && hit < end)
				count++;
		}
		line = *end ? end + 1 : end;
	}
	return count;
}

/* Event lines in `text` (those not starting with '#'). */
static int event_lines(const char *text)
{
	int count = 0;
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		if (!end)
			break;
		if (*line != '#' && end > line)
			count++;
		line = end + 1;
	}
	return count;
}

static void clear_all(void)
{
	put(T "/set_event", "", O_TRUNC);
	put(T "/trace", "", O_TRUNC);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { 0, ms * 1000000L };
	syscall(SYS_nanosleep, &ts, NULL);
}

#define COMMON_FIELDS                                                                          \
	"format:\n"                                                                            \
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"                 \
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"                 \
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"         \
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"

/* Checks a whole format file but its (dynamic) ID line against Linux 6.1's. */
static void expect_format(const char *check, const char *event, const char *name, const char *rest)
{
	char path[128];
	snprintf(path, sizeof(path), T "/events/%s/format", event);
	const char *got = cat(path);
	size_t head = strlen(name);
	const char *after_id = strstr(got, "\nformat:\n");
	CHECK(check, strncmp(got, name, head) == 0 && strncmp(got + head, "ID: ", 4) == 0 && after_id &&
		      strcmp(after_id + 1, rest) == 0, "%s", got);
}

static void control_files(void)
{
	struct statfs sfs;
	CHECK("statfs_magic", statfs(T, &sfs) == 0 && sfs.f_type == TRACEFS_MAGIC,
	      "f_type %#lx", (unsigned long)sfs.f_type);
	CHECK("current_tracer_nop", strcmp(cat(T "/current_tracer"), "nop\n") == 0, "%s", small);
	CHECK("available_tracers_nop", strstr(cat(T "/available_tracers"), "nop") != NULL, "%s", small);
	CHECK("trace_clock_local", strstr(cat(T "/trace_clock"), "[local]") != NULL, "%s", small);
	CHECK("tracing_on_default", strcmp(cat(T "/tracing_on"), "1\n") == 0, "%s", small);
	CHECK("buffer_size_kb", atoi(cat(T "/buffer_size_kb")) > 0, "%s", small);
	int fd = open(T "/available_events", O_RDONLY);
	static char events[65536];
	size_t len = 0;
	ssize_t n;
	while (fd >= 0 && len < sizeof(events) - 1 &&
	       (n = read(fd, events + len, sizeof(events) - 1 - len)) > 0)
		len += (size_t)n;
	events[len] = 0;
	if (fd >= 0)
		close(fd);
	const char *want[] = { "sched:sched_switch\n", "sched:sched_wakeup\n", "sched:sched_process_fork\n",
			       "raw_syscalls:sys_enter\n", "raw_syscalls:sys_exit\n",
			       "exceptions:page_fault_user\n", "block:block_rq_issue\n",
			       "block:block_rq_complete\n" };
	int missing = 0;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(events, want[i])) {
			missing++;
			fail("available_events", "no %s", want[i]);
		}
	if (!missing)
		pass("available_events");

	const char *fmt = cat(T "/events/sched/sched_switch/format");
	int id = -1;
	CHECK("format_name_id", sscanf(fmt, "name: sched_switch\nID: %d\nformat:\n", &id) == 1 && id > 0,
	      "format starts %.60s", fmt);
	CHECK("format_common_fields",
	      strstr(fmt, "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n") &&
		      strstr(fmt, "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"),
	      "%s", fmt);
	CHECK("format_fields", strstr(fmt, "\tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;\n") &&
		      strstr(fmt, "\tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;\n") &&
		      strstr(fmt, "\tfield:int next_prio;\toffset:60;\tsize:4;\tsigned:1;\n"),
	      "%s", fmt);
	CHECK("format_print_fmt",
	      strstr(fmt, "\nprint fmt: \"prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> "
			  "next_comm=%s next_pid=%d next_prio=%d\", REC->prev_comm"),
	      "%s", fmt);
	CHECK("event_id_matches_format", atoi(cat(T "/events/sched/sched_switch/id")) == id,
	      "id %s vs format %d", small, id);
	expect_format("format_sys_enter", "raw_syscalls/sys_enter", "name: sys_enter\n",
		      COMMON_FIELDS "\tfield:long id;\toffset:8;\tsize:8;\tsigned:1;\n"
		      "\tfield:unsigned long args[6];\toffset:16;\tsize:48;\tsigned:0;\n\n"
		      "print fmt: \"NR %ld (%lx, %lx, %lx, %lx, %lx, %lx)\", REC->id, REC->args[0], "
		      "REC->args[1], REC->args[2], REC->args[3], REC->args[4], REC->args[5]\n");
	expect_format("format_page_fault_user", "exceptions/page_fault_user", "name: page_fault_user\n",
		      COMMON_FIELDS "\tfield:unsigned long address;\toffset:8;\tsize:8;\tsigned:0;\n"
		      "\tfield:unsigned long ip;\toffset:16;\tsize:8;\tsigned:0;\n"
		      "\tfield:unsigned long error_code;\toffset:24;\tsize:8;\tsigned:0;\n\n"
		      "print fmt: \"address=%ps ip=%ps error_code=0x%lx\", (void *)REC->address, "
		      "(void *)REC->ip, REC->error_code\n");
	expect_format("format_sched_process_exec", "sched/sched_process_exec", "name: sched_process_exec\n",
		      COMMON_FIELDS "\tfield:__data_loc char[] filename;\toffset:8;\tsize:4;\tsigned:1;\n"
		      "\tfield:pid_t pid;\toffset:12;\tsize:4;\tsigned:1;\n"
		      "\tfield:pid_t old_pid;\toffset:16;\tsize:4;\tsigned:1;\n\n"
		      "print fmt: \"filename=%s pid=%d old_pid=%d\", __get_str(filename), REC->pid, "
		      "REC->old_pid\n");
	const char *head = read_trace();
	const char *start = "# tracer: nop\n#\n# entries-in-buffer/entries-written: ";
	CHECK("trace_header", strncmp(head, start, strlen(start)) == 0 &&
		      strstr(head, "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n"),
	      "%.900s", head);
}

static void switches(void)
{
	CHECK("set_event_write", put(T "/set_event", "sched:sched_switch", O_TRUNC) == 0,
	      "cannot write set_event");
	int fd = open(T "/set_event", O_WRONLY | O_APPEND);
	ssize_t n = write(fd, " raw_syscalls:sys_enter  sched:sched_wakeup", 43);
	CHECK("set_event_one_word_per_write", n == 24, "write returned %zd", n);
	close(fd);
	CHECK("set_event_append", put(T "/set_event", "raw_syscalls:* !sched:sched_wakeup", O_APPEND) == 0,
	      "cannot append to set_event");
	const char *set = cat(T "/set_event");
	CHECK("set_event_lists", strstr(set, "sched:sched_switch\n") && strstr(set, "raw_syscalls:sys_enter\n") &&
		      strstr(set, "raw_syscalls:sys_exit\n") && !strstr(set, "sched_wakeup"), "set_event is %s", set);
	CHECK("event_enable_reads_1", strcmp(cat(T "/events/sched/sched_switch/enable"), "1\n") == 0, "%s", small);
	CHECK("system_enable_mixed", strcmp(cat(T "/events/sched/enable"), "X\n") == 0, "%s", small);
	put(T "/trace", "", O_TRUNC);
	pid_t child = fork();
	if (child == 0) {
		for (int i = 0; i < 50; i++)
			syscall(SYS_getpid);
		for (int i = 0; i < 3; i++)
			sleep_ms(10);
		_exit(0);
	}
	int status;
	waitpid(child, &status, 0);
	put(T "/set_event", "", O_TRUNC);
	const char *text = read_trace();
	char what[64];
	snprintf(what, sizeof(what), "sys_exit: NR %d = %d\n", SYS_getpid, child);
	int exits = count_lines(text, child, what);
	CHECK("sys_exit_getpid", exits >= 50, "%d lines \"%s\" for %d", exits, what, child);
	snprintf(what, sizeof(what), "sys_enter: NR %d (", SYS_getpid);
	CHECK("sys_enter_getpid", count_lines(text, child, what) >= 50, "%d lines", count_lines(text, child, what));
	snprintf(what, sizeof(what), "sys_enter: NR %d (", SYS_nanosleep);
	CHECK("sys_enter_nanosleep", count_lines(text, child, what) >= 3, "%d", count_lines(text, child, what));
	snprintf(what, sizeof(what), "prev_pid=%d prev_prio=120 prev_state=S ==> ", child);
	CHECK("sched_switch_sleeps", count_lines(text, child, what) >= 3, "%d \"%s\"",
	      count_lines(text, child, what), what);
	snprintf(what, sizeof(what), "next_pid=%d next_prio=120\n", child);
	CHECK("sched_switch_in", count_lines(text, -1, what) >= 3, "%d", count_lines(text, -1, what));
	CHECK("set_event_cleared", strcmp(cat(T "/set_event"), "") == 0, "%s", small);
	CHECK("events_enable_0", strcmp(cat(T "/events/enable"), "0\n") == 0, "%s", small);
}

/* fork, wake-up of the new task, a sleep's wake-up, exec, exit. */
static void process_events(void)
{
	REQUIRE_VOID(put(T "/events/sched/enable", "1", 0) == 0);
	CHECK("system_enable_1", strcmp(cat(T "/events/sched/enable"), "1\n") == 0, "%s", small);
	put(T "/trace", "", O_TRUNC);
	pid_t child = fork();
	if (child == 0) {
		sleep_ms(10);
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	int status;
	waitpid(child, &status, 0);
	put(T "/events/sched/enable", "0", 0);
	const char *text = read_trace();
	char what[128];
	snprintf(what, sizeof(what), "sched_process_fork: comm=tracing pid=%d child_comm=tracing child_pid=%d\n",
		 getpid(), child);
	CHECK("sched_process_fork", count_lines(text, getpid(), what) == 1, "no \"%s\"", what);
	snprintf(what, sizeof(what), "sched_wakeup_new: comm=tracing pid=%d prio=120 target_cpu=0", child);
	CHECK("sched_wakeup_new", count_lines(text, -1, what) == 1, "no \"%s\"", what);
	snprintf(what, sizeof(what), "sched_wakeup: comm=tracing pid=%d prio=120 target_cpu=0", child);
	CHECK("sched_wakeup", count_lines(text, -1, what) >= 1, "no \"%s\"", what);
	snprintf(what, sizeof(what), "sched_process_exec: filename=/bin/true pid=%d old_pid=%d\n", child, child);
	CHECK("sched_process_exec", count_lines(text, child, what) == 1, "no \"%s\"", what);
	snprintf(what, sizeof(what), "sched_process_exit: comm=true pid=%d prio=120\n", child);
	CHECK("sched_process_exit", WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
	      count_lines(text, child, what) == 1, "no \"%s\" (status %#x)", what, status);
}

static void page_faults(void)
{
	REQUIRE_VOID(put(T "/events/exceptions/page_fault_user/enable", "1", 0) == 0);
	put(T "/trace", "", O_TRUNC);
	volatile char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE_VOID(page != MAP_FAILED);
	page[100] = 1;
	put(T "/events/exceptions/page_fault_user/enable", "0", 0);
	char what[96];
	snprintf(what, sizeof(what), "page_fault_user: address=%#lx ip=", (unsigned long)page + 100);
	const char *text = read_trace();
	CHECK("page_fault_user_address", count_lines(text, getpid(), what) == 1, "%d lines \"%s\"",
	      count_lines(text, getpid(), what), what);
	CHECK("page_fault_user_error_code", count_lines(text, getpid(), " error_code=0x6\n") >= 1,
	      "no write fault");
	munmap((void *)page, 4096);
}

/* vda's numbers, from sysfs (Linux's are dynamic); 0 if there is no vda. */
static unsigned vda_major, vda_minor;

static void block_io(void)
{
	if (!vda_major)
		return; /* no disk */
	unlink("/tmp/trvda");
	REQUIRE_VOID(mknod("/tmp/trvda", S_IFBLK | 0600, makedev(vda_major, vda_minor)) == 0);
	int fd = open("/tmp/trvda", O_RDWR);
	REQUIRE_VOID(fd >= 0);
	struct stat st;
	unsigned long long bytes = 0;
	REQUIRE_VOID(fstat(fd, &st) == 0 && ioctl(fd, BLKGETSIZE64, &bytes) == 0 && bytes >= 4096);
	unsigned long long last = bytes / 512 - 1;
	char sector[512];
	REQUIRE_VOID(pread(fd, sector, 512, (off_t)(last * 512)) == 512);
	REQUIRE_VOID(put(T "/set_event", "block:block_rq_issue block:block_rq_complete", 0) == 0);
	put(T "/trace", "", O_TRUNC);
	ssize_t w = pwrite(fd, sector, 512, (off_t)(last * 512));
	int synced = fsync(fd);
	put(T "/set_event", "", O_TRUNC);
	close(fd);
	unlink("/tmp/trvda");
	CHECK("block_write_same_bytes", w == 512 && synced == 0, "pwrite %zd fsync %d", w, synced);
	const char *text = read_trace();
	char dev[32];
	snprintf(dev, sizeof(dev), " %u,%u W", major(st.st_rdev), minor(st.st_rdev));
	int issue = 0, complete = 0;
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		if (!end)
			break;
		unsigned long long sec;
		unsigned nr;
		int err;
		const char *at;
		if ((at = strstr(line, "block_rq_issue:")) && at < end && strstr(at, dev) &&
		    sscanf(strstr(at, ") ") ? strstr(at, ") ") + 2 : "", "%llu + %u", &sec, &nr) == 2 &&
		    sec <= last && sec + nr > last)
			issue++;
		if ((at = strstr(line, "block_rq_complete:")) && at < end && strstr(at, dev) &&
		    sscanf(strstr(at, ") ") ? strstr(at, ") ") + 2 : "", "%llu + %u [%d]", &sec, &nr, &err) == 3 &&
		    sec <= last && sec + nr > last && err == 0)
			complete++;
		line = end + 1;
	}
	CHECK("block_rq_issue", issue >= 1, "no issue of sector %llu on%s in:\n%.600s", last, dev, text);
	CHECK("block_rq_complete", complete >= 1, "no completion of sector %llu in:\n%.900s", last, strstr(text, "block_rq") ? strstr(text, "block_rq") : text);
}

static void switches_off(void)
{
	REQUIRE_VOID(put(T "/events/sched/sched_switch/enable", "1", 0) == 0);
	REQUIRE_VOID(put(T "/events/sched/sched_switch/enable", "0", 0) == 0);
	put(T "/trace", "", O_TRUNC);
	sleep_ms(10);
	sleep_ms(10);
	CHECK("event_off_records_nothing", count_lines(read_trace(), -1, "sched_switch:") == 0,
	      "sched_switch recorded while off");

	REQUIRE_VOID(put(T "/events/sched/sched_switch/enable", "1", 0) == 0);
	REQUIRE_VOID(put(T "/tracing_on", "0", 0) == 0);
	CHECK("tracing_on_reads_0", strcmp(cat(T "/tracing_on"), "0\n") == 0, "%s", small);
	put(T "/trace", "", O_TRUNC);
	sleep_ms(10);
	sleep_ms(10);
	const char *text = read_trace();
	CHECK("tracing_off_records_nothing", event_lines(text) == 0 &&
		      strstr(text, "# entries-in-buffer/entries-written: 0/0 "), "%.400s", text);
	put(T "/tracing_on", "1", 0);
	sleep_ms(10);
	sleep_ms(10);
	put(T "/events/sched/sched_switch/enable", "0", 0);
	CHECK("tracing_on_records", count_lines(read_trace(), -1, "sched_switch:") >= 2, "no switches");
	put(T "/trace", "", O_TRUNC);
	text = read_trace();
	CHECK("o_trunc_clears", event_lines(text) == 0 &&
		      strstr(text, "# entries-in-buffer/entries-written: 0/0 "), "%.400s", text);
	int err = put(T "/set_event", "nosuch:event", 0);
	CHECK("set_event_unknown_einval", err == EINVAL, "write gave %s", errno_name(err));
}

/* trace_pipe: nonblocking empty, poll, consuming, blocking. */
static void pipe_reads(void)
{
	clear_all();
	int fd = open(T "/trace_pipe", O_RDONLY | O_NONBLOCK);
	REQUIRE_VOID(fd >= 0);
	char buf[8192];
	EXPECT_ERRNO("pipe_empty_eagain", read(fd, buf, sizeof(buf)), EAGAIN);
	REQUIRE_VOID(put(T "/events/sched/sched_switch/enable", "1", 0) == 0);
	sleep_ms(10);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	CHECK("pipe_poll_ready", poll(&pfd, 1, 2000) == 1 && (pfd.revents & POLLIN), "revents %#x", pfd.revents);
	put(T "/events/sched/sched_switch/enable", "0", 0);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	CHECK("pipe_reads_lines", n > 0 && strstr(buf, "sched_switch: prev_comm=") && buf[0] != '#',
	      "read %zd: %.200s", n, buf);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	CHECK("pipe_consumes", event_lines(read_trace()) == 0, "trace still has lines");
	close(fd);

	/* A blocking read waits for the next record. */
	fd = open(T "/trace_pipe", O_RDONLY);
	REQUIRE_VOID(fd >= 0);
	pid_t forker = fork();
	if (forker == 0) {
		sleep_ms(100);
		pid_t grandchild = fork();
		if (grandchild == 0)
			_exit(0);
		waitpid(grandchild, NULL, 0);
		_exit(0);
	}
	put(T "/events/sched/sched_process_fork/enable", "1", 0);
	alarm(10);
	n = read(fd, buf, sizeof(buf) - 1);
	alarm(0);
	buf[n > 0 ? n : 0] = 0;
	char what[64];
	snprintf(what, sizeof(what), "sched_process_fork: comm=tracing pid=%d child_comm=tracing", forker);
	CHECK("pipe_blocks_until_event", n > 0 && strstr(buf, what), "read %zd: %.200s", n, buf);
	waitpid(forker, NULL, 0);
	put(T "/events/sched/sched_process_fork/enable", "0", 0);
	close(fd);
}

/* A small ring overwritten: trace_pipe says how many were lost. */
static void lost_events(void)
{
	char old[32];
	snprintf(old, sizeof(old), "%d", atoi(cat(T "/buffer_size_kb")));
	REQUIRE_VOID(put(T "/buffer_size_kb", "8", 0) == 0);
	/* Linux rounds up to whole pages with their headers. */
	CHECK("buffer_size_kb_set", atoi(cat(T "/buffer_size_kb")) >= 8, "%s", small);
	clear_all();
	put(T "/set_event", "raw_syscalls:sys_exit", 0);
	for (int i = 0; i < 2000; i++)
		syscall(SYS_getpid);
	put(T "/set_event", "", O_TRUNC);
	int fd = open(T "/trace_pipe", O_RDONLY | O_NONBLOCK);
	char buf[4096];
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	buf[n > 0 ? n : 0] = 0;
	unsigned cpu, lost = 0;
	int counted = sscanf(buf, "CPU:%u [LOST %u EVENTS]\n", &cpu, &lost);
	CHECK("pipe_lost_events", n > 0 && strncmp(buf, "CPU:", 4) == 0 && strstr(buf, " [LOST ") &&
		      (counted < 2 || lost > 0),
	      "read %zd: %.120s", n, buf);
	if (fd >= 0)
		close(fd);
	put(T "/buffer_size_kb", old, 0);
	clear_all();
}

int main(void)
{
	mkdir("/tmp/trsys", 0755);
	if (mount("sysfs", "/tmp/trsys", "sysfs", 0, NULL) == 0) {
		struct stat st;
		CHECK("sysfs_mount_point", stat("/tmp/trsys/kernel/tracing", &st) == 0 && S_ISDIR(st.st_mode),
		      "no /sys/kernel/tracing directory");
		if (sscanf(cat("/tmp/trsys/block/vda/dev"), "%u:%u", &vda_major, &vda_minor) != 2)
			vda_major = 0;
		int mounted = mount("nodev", "/tmp/trsys/kernel/tracing", "tracefs", 0, NULL);
		CHECK("mount_on_sys_kernel_tracing", mounted == 0 &&
		      stat("/tmp/trsys/kernel/tracing/tracing_on", &st) == 0 && S_ISREG(st.st_mode),
		      "mount: %s", errno_name(errno));
		if (mounted == 0)
			umount("/tmp/trsys/kernel/tracing");
		umount("/tmp/trsys");
	} else {
		fail("sysfs_mount_point", "cannot mount sysfs: %s", errno_name(errno));
	}
	mkdir(T, 0755);
	REQUIRE(mount("nodev", T, "tracefs", 0, NULL) == 0);
	clear_all();
	put(T "/tracing_on", "1", 0);
	control_files();
	switches();
	process_events();
	page_faults();
	block_io();
	switches_off();
	pipe_reads();
	lost_events();
	clear_all();
	put(T "/tracing_on", "1", 0);
	CHECK("umount", umount(T) == 0, "umount: %s", errno_name(errno));
	return test_done();
}
