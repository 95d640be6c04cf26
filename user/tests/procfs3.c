/*
 * procfs, the kernel's insides (issue 7): /proc/PID/smaps and smaps_rollup
 * counted from the page tables (private, COW-shared after fork, shared
 * anonymous), /proc/PID/sched (weights by nice, runtime, switches, the
 * thread count), state letters in stat and status (S, T, Z), status's
 * keys in Linux's order, /proc/softirqs, /proc/interrupts,
 * /proc/pagetypeinfo and the softirq line of /proc/stat, and
 * /proc/sched_debug where it exists (Linux 6.1 moved it to debugfs: there
 * it must be absent, ENOENT).
 * Linux: fs/proc/task_mmu.c, kernel/sched/debug.c, fs/proc/array.c,
 * fs/proc/softirqs.c, kernel/irq/proc.c, arch/x86/kernel/irq.c,
 * mm/vmstat.c.
 */
#include "test.h"

#include <dirent.h>
#include <pthread.h>
#include <sys/mount.h>
#include <sys/resource.h>

#define PAGE 4096UL
static char buf[1 << 18], buf2[1 << 18];

/* The line of `text` starting with `key`, or NULL. */
static const char *line_at(const char *text, const char *key)
{
	size_t len = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, len) == 0)
			return p;
	return NULL;
}

/* The number after "key:" in `text` (kB for smaps), -1 if absent. */
static long field(const char *text, const char *key)
{
	char k[64];
	snprintf(k, sizeof(k), "%s:", key);
	const char *l = line_at(text, k);
	return l ? strtol(l + strlen(k), NULL, 10) : -1;
}

/* Copies into `out` the smaps block of the area starting at `start`. */
static int smaps_block(const char *smaps, unsigned long start, char *out, size_t size)
{
	char head[32];
	snprintf(head, sizeof(head), "%08lx-", start);
	const char *b = line_at(smaps, head);
	if (!b)
		return -1;
	const char *e = strstr(b, "VmFlags:");
	e = e ? strchr(e, '\n') : NULL;
	if (!e || (size_t)(e - b + 1) >= size)
		return -1;
	memcpy(out, b, (size_t)(e - b + 1));
	out[e - b + 1] = 0;
	return 0;
}

static const char *smap_keys[] = {"Size", "KernelPageSize", "MMUPageSize", "Rss", "Pss",
	"Pss_Dirty", "Shared_Clean", "Shared_Dirty", "Private_Clean", "Private_Dirty",
	"Referenced", "Anonymous", "LazyFree", "AnonHugePages", "ShmemPmdMapped", "FilePmdMapped",
	"Shared_Hugetlb", "Private_Hugetlb", "Swap", "SwapPss", "Locked", "THPeligible", "VmFlags"};

/* Whether the block has Linux's keys in order (ProtectionKey, present where
 * the CPU has protection keys, is skipped), each kB line 27 columns wide. */
static int smap_layout_ok(const char *block, char *why, size_t size)
{
	const char *p = strchr(block, '\n') + 1;
	size_t k = 0;
	while (*p && k < sizeof(smap_keys) / sizeof(smap_keys[0])) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		size_t klen = strlen(smap_keys[k]);
		if (strncmp(p, "ProtectionKey:", 14) != 0) {
			if (strncmp(p, smap_keys[k], klen) != 0 || p[klen] != ':') {
				snprintf(why, size, "wanted %s, got %.20s", smap_keys[k], p);
				return 0;
			}
			if (len > 3 && strncmp(p + len - 3, " kB", 3) == 0 && len != 27) {
				snprintf(why, size, "%.*s is %zu wide", (int)len, p, len);
				return 0;
			}
			k++;
		}
		p = nl ? nl + 1 : p + len;
	}
	return k == sizeof(smap_keys) / sizeof(smap_keys[0]);
}

static void check_smaps_private(void)
{
	char block[4096], why[128] = "";
	char *g = mmap(NULL, 18 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE_VOID(g != MAP_FAILED);
	char *p = g + PAGE; /* PROT_NONE guards keep the area from merging */
	REQUIRE_VOID(mprotect(p, 16 * PAGE, PROT_READ | PROT_WRITE) == 0);
	for (int i = 0; i < 5; i++)
		p[i * PAGE] = 1;
	REQUIRE_VOID(slurp("/proc/self/smaps", buf, sizeof(buf)) > 0);
	int found = smaps_block(buf, (unsigned long)p, block, sizeof(block)) == 0;
	CHECK("smaps_area_found", found, "no block at %p", (void *)p);
	if (!found)
		return;
	CHECK("smaps_layout", smap_layout_ok(block, why, sizeof(why)), "%s", why);
	CHECK("smaps_private_anon",
	      field(block, "Size") == 64 && field(block, "Rss") == 20 && field(block, "Pss") == 20 &&
		      field(block, "Anonymous") == 20 && field(block, "Private_Dirty") == 20 &&
		      field(block, "Shared_Dirty") == 0 && field(block, "Swap") == 0,
	      "Size %ld Rss %ld Pss %ld Anon %ld PrivDirty %ld", field(block, "Size"),
	      field(block, "Rss"), field(block, "Pss"), field(block, "Anonymous"),
	      field(block, "Private_Dirty"));
	CHECK("smaps_vmflags", strstr(block, "VmFlags: rd wr mr mw me ") != NULL, "%s",
	      line_at(block, "VmFlags"));

	/* After fork the five pages are mapped twice: shared, half the Pss. */
	int go[2];
	REQUIRE_VOID(pipe(go) == 0);
	pid_t child = fork();
	REQUIRE_VOID(child >= 0);
	if (child == 0) {
		char c;
		close(go[1]);
		read(go[0], &c, 1);
		_exit(0);
	}
	close(go[0]);
	REQUIRE_VOID(slurp("/proc/self/smaps", buf, sizeof(buf)) > 0);
	found = smaps_block(buf, (unsigned long)p, block, sizeof(block)) == 0;
	CHECK("smaps_cow_shared",
	      found && field(block, "Rss") == 20 && field(block, "Pss") == 10 &&
		      field(block, "Shared_Dirty") == 20 && field(block, "Private_Dirty") == 0 &&
		      field(block, "Anonymous") == 20,
	      "Rss %ld Pss %ld SharedDirty %ld PrivDirty %ld", field(block, "Rss"),
	      field(block, "Pss"), field(block, "Shared_Dirty"), field(block, "Private_Dirty"));
	close(go[1]);
	wait_status(child);
	REQUIRE_VOID(slurp("/proc/self/smaps", buf, sizeof(buf)) > 0);
	found = smaps_block(buf, (unsigned long)p, block, sizeof(block)) == 0;
	CHECK("smaps_private_again", found && field(block, "Private_Dirty") == 20 && field(block, "Pss") == 20,
	      "PrivDirty %ld Pss %ld", field(block, "Private_Dirty"), field(block, "Pss"));
	munmap(g, 18 * PAGE);
}

static void check_smaps_shared(void)
{
	char block[4096];
	char *q = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE_VOID(q != MAP_FAILED);
	for (int i = 0; i < 4; i++)
		q[i * PAGE] = 1;
	REQUIRE_VOID(slurp("/proc/self/smaps", buf, sizeof(buf)) > 0);
	int found = smaps_block(buf, (unsigned long)q, block, sizeof(block)) == 0;
	/* Shared anonymous memory is shmem: not Anonymous, mapped once here. */
	CHECK("smaps_shared_anon",
	      found && field(block, "Rss") == 16 && field(block, "Anonymous") == 0 &&
		      field(block, "Private_Dirty") == 16 && field(block, "Pss") == 16 &&
		      strstr(block, "VmFlags: rd wr sh mr mw me ms ") != NULL,
	      "Rss %ld Anon %ld PrivDirty %ld", field(block, "Rss"), field(block, "Anonymous"),
	      field(block, "Private_Dirty"));
	munmap(q, 4 * PAGE);
}

/* Text of the program itself: file pages, resident, none anonymous. */
static void check_smaps_text(void)
{
	char exe[256], block[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	REQUIRE_VOID(n > 0);
	exe[n] = 0;
	REQUIRE_VOID(slurp("/proc/self/smaps", buf, sizeof(buf)) > 0);
	const char *l = NULL;
	for (const char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		const char *nl = strchr(p, '\n');
		if (nl && nl - p > 25 && p[strcspn(p, " ") + 3] == 'x' &&
		    (size_t)(nl - p) >= strlen(exe) && strncmp(nl - strlen(exe), exe, strlen(exe)) == 0) {
			l = p;
			break;
		}
	}
	int ok = l && smaps_block(l, strtoul(l, NULL, 16), block, sizeof(block)) == 0;
	CHECK("smaps_text_file_pages", ok && field(block, "Rss") > 0 && field(block, "Anonymous") == 0,
	      "Rss %ld Anonymous %ld", ok ? field(block, "Rss") : -1, ok ? field(block, "Anonymous") : -1);
}

static void check_smaps_rollup(void)
{
	REQUIRE_VOID(slurp("/proc/self/smaps", buf, sizeof(buf)) > 0);
	REQUIRE_VOID(slurp("/proc/self/smaps_rollup", buf2, sizeof(buf2)) > 0);
	long rss = 0;
	for (const char *p = buf; (p = line_at(p, "Rss:")); p++)
		rss += strtol(p + 4, NULL, 10);
	const char *nl = strchr(buf2, '\n');
	CHECK("rollup_header", nl && nl - buf2 == 81 && strncmp(buf2 + 73, "[rollup]", 8) == 0,
	      "%.90s", buf2);
	long r = field(buf2, "Rss"), pss = field(buf2, "Pss");
	long parts = field(buf2, "Pss_Anon") + field(buf2, "Pss_File") + field(buf2, "Pss_Shmem");
	CHECK("rollup_sums", r > 0 && labs(r - rss) <= 8 && labs(parts - pss) <= 2,
	      "rollup Rss %ld, smaps %ld; Pss %ld, parts %ld", r, rss, pss, parts);
	CHECK("rollup_no_vmflags", !strstr(buf2, "VmFlags") && field(buf2, "Locked") == 0, "%s", buf2);
	/* PID 2 is kthreadd on both kernels: no mm, nothing to sum. */
	int fd = open("/proc/2/smaps_rollup", O_RDONLY);
	errno = 0;
	ssize_t n = fd >= 0 ? read(fd, buf2, sizeof(buf2)) : -1;
	CHECK("rollup_kthread_esrch", fd >= 0 && n < 0 && errno == ESRCH, "fd %d n %zd errno %s", fd,
	      n, errno_name(errno));
	if (fd >= 0)
		close(fd);
}

/* The value of a /proc/PID/sched line, as a double, or -1. */
static double sched_field(const char *text, const char *key)
{
	char k[64];
	snprintf(k, sizeof(k), "%-45s:", key);
	const char *l = line_at(text, k);
	return l ? strtod(l + 46, NULL) : -1;
}

static const char *sched_keys[] = {"se.exec_start", "se.vruntime", "se.sum_exec_runtime",
	"se.nr_migrations", "nr_switches", "nr_voluntary_switches", "nr_involuntary_switches",
	"se.load.weight", "policy", "prio", "clock-delta"};

static void *sleeper(void *arg)
{
	char c;
	read(*(int *)arg, &c, 1);
	return NULL;
}

static void check_sched_self(void)
{
	char head[64];
	REQUIRE_VOID(slurp("/proc/self/sched", buf, sizeof(buf)) > 0);
	snprintf(head, sizeof(head), "procfs3 (%d, #threads: 1)\n---", getpid());
	CHECK("sched_header", strncmp(buf, head, strlen(head)) == 0, "%.60s", buf);
	const char *p = buf;
	size_t k = 0;
	for (; k < sizeof(sched_keys) / sizeof(sched_keys[0]); k++) {
		char key[64];
		snprintf(key, sizeof(key), "%-45s:", sched_keys[k]);
		const char *l = line_at(p, key);
		if (!l || strchr(l, '\n') - l != 67)
			break;
		p = l;
	}
	CHECK("sched_fields_in_order", k == sizeof(sched_keys) / sizeof(sched_keys[0]),
	      "missing or misformatted %s", sched_keys[k < 11 ? k : 0]);
	CHECK("sched_nice0",
	      sched_field(buf, "se.load.weight") == 1048576 && sched_field(buf, "prio") == 120 &&
		      sched_field(buf, "policy") == 0,
	      "weight %.0f prio %.0f", sched_field(buf, "se.load.weight"), sched_field(buf, "prio"));
	CHECK("sched_switch_sum",
	      sched_field(buf, "nr_switches") ==
		      sched_field(buf, "nr_voluntary_switches") + sched_field(buf, "nr_involuntary_switches"),
	      "%.0f", sched_field(buf, "nr_switches"));

	double run0 = sched_field(buf, "se.sum_exec_runtime"), vr0 = sched_field(buf, "se.vruntime");
	long long end = now_ms() + 40;
	while (now_ms() < end)
		;
	REQUIRE_VOID(slurp("/proc/self/sched", buf, sizeof(buf)) > 0);
	double run1 = sched_field(buf, "se.sum_exec_runtime"), vr1 = sched_field(buf, "se.vruntime");
	CHECK("sched_runtime_grows", run1 - run0 >= 10 && vr1 > vr0,
	      "sum_exec %.3f -> %.3f ms, vruntime %.3f -> %.3f", run0, run1, vr0, vr1);

	int fds[2];
	pthread_t t;
	REQUIRE_VOID(pipe(fds) == 0);
	REQUIRE_VOID(pthread_create(&t, NULL, sleeper, &fds[0]) == 0);
	REQUIRE_VOID(slurp("/proc/self/sched", buf, sizeof(buf)) > 0);
	snprintf(head, sizeof(head), "procfs3 (%d, #threads: 2)\n", getpid());
	CHECK("sched_threads", strncmp(buf, head, strlen(head)) == 0, "%.40s", buf);
	write(fds[1], "x", 1);
	pthread_join(t, NULL);
	close(fds[0]);
	close(fds[1]);
}

/* The state letter (field 3) of /proc/PID/stat, and status's State line,
 * read in that order (a task going to sleep may be R in the first). */
static char stat_state(pid_t pid, char *status_state, size_t size)
{
	char path[64], text[4096];
	char s = 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (slurp(path, text, sizeof(text)) > 0) {
		const char *close = strrchr(text, ')');
		s = close ? close[2] : 0;
	}
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	status_state[0] = 0;
	if (slurp(path, text, sizeof(text)) > 0) {
		const char *l = line_at(text, "State:\t");
		if (l)
			snprintf(status_state, size, "%.*s", (int)strcspn(l + 7, "\n"), l + 7);
	}
	return s;
}

/* Waits up to 2 s for both files to show state `want`. */
static char wait_state(pid_t pid, char want, char *st, size_t size)
{
	long long end = now_ms() + 2000;
	char s;
	while (((s = stat_state(pid, st, size)) != want || st[0] != want) && now_ms() < end)
		usleep(5000);
	return s;
}

/* Field `n` (1-based, n >= 3) of /proc/PID/stat, -1 if absent. */
static long long stat_field(pid_t pid, int n)
{
	char path[64], text[4096];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (slurp(path, text, sizeof(text)) <= 0 || !strrchr(text, ')'))
		return -1;
	char *p = strrchr(text, ')') + 1;
	for (int i = 3; i < n && p; i++)
		p = strchr(p + 1, ' ');
	return p ? strtoll(p + 1, NULL, 10) : -1;
}

static void check_states_and_nice(void)
{
	char st[64], path[64];
	int ready[2], go[2];
	REQUIRE_VOID(pipe(ready) == 0 && pipe(go) == 0);
	pid_t child = fork();
	REQUIRE_VOID(child >= 0);
	if (child == 0) {
		char c;
		setpriority(PRIO_PROCESS, 0, 5);
		write(ready[1], "r", 1);
		read(go[0], &c, 1);
		_exit(3);
	}
	char c;
	read(ready[0], &c, 1);
	char s = wait_state(child, 'S', st, sizeof(st));
	CHECK("state_sleeping", s == 'S' && strcmp(st, "S (sleeping)") == 0, "%c / %s", s, st);
	/* Field 35, wchan: 1 while asleep (Linux 5.16+), 0 for the reader. */
	CHECK("stat_wchan_flag", stat_field(child, 35) == 1 && stat_field(getpid(), 35) == 0,
	      "child %lld self %lld", stat_field(child, 35), stat_field(getpid(), 35));
	CHECK("stat_nice_prio", stat_field(child, 19) == 5 && stat_field(child, 18) == 25,
	      "nice %lld prio %lld", stat_field(child, 19), stat_field(child, 18));
	snprintf(path, sizeof(path), "/proc/%d/sched", child);
	REQUIRE_VOID(slurp(path, buf, sizeof(buf)) > 0);
	CHECK("sched_nice5_weight",
	      sched_field(buf, "se.load.weight") == 335 * 1024 && sched_field(buf, "prio") == 125,
	      "weight %.0f prio %.0f", sched_field(buf, "se.load.weight"), sched_field(buf, "prio"));

	kill(child, SIGSTOP);
	int status;
	REQUIRE_VOID(waitpid(child, &status, WUNTRACED) == child);
	/* Linux is T before waitpid reports the stop; Ferrite may still be
	 * on its way to the scheduler (do_signal_stop notifies first). */
	s = wait_state(child, 'T', st, sizeof(st));
	CHECK("state_stopped", s == 'T' && strcmp(st, "T (stopped)") == 0, "%c / %s", s, st);
	kill(child, SIGCONT);
	write(go[1], "g", 1);
	s = wait_state(child, 'Z', st, sizeof(st));
	CHECK("state_zombie", s == 'Z' && strcmp(st, "Z (zombie)") == 0, "%c / %s", s, st);
	wait_status(child);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
}

/* Some kernel thread waits for work in TASK_IDLE: state I in stat and
 * "I (idle)" in status, with PF_KTHREAD (0x00200000) in its flags. */
static void check_idle_kthread(void)
{
	char st[64] = "";
	pid_t found = 0;
	DIR *d = opendir("/proc");
	REQUIRE_VOID(d != NULL);
	struct dirent *e;
	while (!found && (e = readdir(d))) {
		pid_t pid = (pid_t)atoi(e->d_name);
		if (pid > 0 && stat_state(pid, st, sizeof(st)) == 'I' &&
		    (stat_field(pid, 9) & 0x00200000) && strcmp(st, "I (idle)") == 0)
			found = pid;
	}
	closedir(d);
	CHECK("state_idle_kthread", found > 0, "no kernel thread in state I");
}

static const char *status_keys[] = {"Name", "Umask", "State", "Tgid", "Ngid", "Pid", "PPid",
	"TracerPid", "Uid", "Gid", "FDSize", "Groups", "NStgid", "NSpid", "NSpgid", "NSsid",
	"VmPeak", "VmSize", "VmLck", "VmPin", "VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem",
	"VmData", "VmStk", "VmExe", "VmLib", "VmPTE", "VmSwap", "HugetlbPages", "CoreDumping",
	"THP_enabled", "Threads", "SigQ", "SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt",
	"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp",
	"Seccomp_filters", "Cpus_allowed", "Cpus_allowed_list", "Mems_allowed",
	"Mems_allowed_list", "voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"};

static void check_status_keys(void)
{
	REQUIRE_VOID(slurp("/proc/self/status", buf, sizeof(buf)) > 0);
	const char *p = buf;
	size_t k = 0;
	for (; k < sizeof(status_keys) / sizeof(status_keys[0]); k++) {
		char key[64];
		snprintf(key, sizeof(key), "%s:\t", status_keys[k]);
		const char *l = line_at(p, key);
		if (!l)
			break;
		p = l;
	}
	CHECK("status_keys_in_order", k == sizeof(status_keys) / sizeof(status_keys[0]),
	      "%s missing or out of order", k < 55 ? status_keys[k] : "");
}

static void check_softirqs(void)
{
	static const char *names[] = {"HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "IRQ_POLL",
		"TASKLET", "SCHED", "HRTIMER", "RCU"};
	usleep(30000); /* a sleep runs a timer on either kernel */
	REQUIRE_VOID(slurp("/proc/softirqs", buf, sizeof(buf)) > 0);
	CHECK("softirqs_header", strncmp(buf, "                    CPU0", 24) == 0, "%.30s", buf);
	const char *p = strchr(buf, '\n');
	int ok = 1;
	for (int i = 0; i < 10 && ok; i++) {
		char key[32];
		snprintf(key, sizeof(key), "\n%12s:", names[i]);
		ok = p && strncmp(p, key, strlen(key)) == 0;
		p = ok ? strchr(p + 1, '\n') : NULL;
	}
	CHECK("softirqs_names_in_order", ok, "at %.20s", p ? p : "(end)");
	CHECK("softirqs_timer_ran", field(buf, "       TIMER") > 0, "%ld", field(buf, "       TIMER"));

	REQUIRE_VOID(slurp("/proc/stat", buf, sizeof(buf)) > 0);
	const char *l = line_at(buf, "softirq ");
	unsigned long long v[11] = {0}, sum = 0;
	int n = l ? sscanf(l, "softirq %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
			   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10])
		  : 0;
	for (int i = 1; i < 11; i++)
		sum += v[i];
	CHECK("stat_softirq_line", n == 11 && sum == v[0] && v[2] > 0, "%d numbers, total %llu sum %llu",
	      n, v[0], sum);
}

static void check_interrupts(void)
{
	REQUIRE_VOID(slurp("/proc/interrupts", buf, sizeof(buf)) > 0);
	CHECK("interrupts_header", strncmp(buf, "           CPU0", 15) == 0, "%.20s", buf);
	const char *loc = line_at(buf, "LOC: ");
	CHECK("interrupts_loc", loc && strtoul(loc + 5, NULL, 10) > 0 &&
				strncmp(loc + 15, "   Local timer interrupts\n", 26) == 0,
	      "%.60s", loc ? loc : "no LOC");
	CHECK("interrupts_arch_lines",
	      line_at(buf, "NMI: ") && line_at(buf, "SPU: ") && line_at(buf, "RES: ") &&
		      line_at(buf, "CAL: ") && line_at(buf, "TLB: ") && line_at(buf, "ERR: ") &&
		      line_at(buf, "MIS: "),
	      "missing one of NMI SPU RES CAL TLB ERR MIS");
	const char *tty = line_at(buf, "  4: ");
	CHECK("interrupts_ttyS0", tty && strstr(tty, "IO-APIC   4-edge      ttyS0\n") == strchr(tty, '\n') - 27,
	      "%.60s", tty ? tty : "no IRQ 4");
}

static void check_pagetypeinfo(void)
{
	REQUIRE_VOID(slurp("/proc/pagetypeinfo", buf, sizeof(buf)) > 0);
	CHECK("pagetypeinfo_head",
	      strncmp(buf, "Page block order: 9\nPages per block:  512\n\n", 43) == 0 &&
		      line_at(buf, "Free pages count per migrate type at order       0      1") &&
		      strstr(buf, "\nNumber of blocks type     Unmovable      Movable  Reclaimable"),
	      "%.80s", buf);
	unsigned long long free_kb = 0;
	for (const char *l = buf; (l = line_at(l, "Node    0, zone ")); l++) {
		const char *p = l + 43;
		for (int order = 0; order < 11; order++)
			free_kb += strtoull(p, (char **)&p, 10) * 4ULL << order;
	}
	REQUIRE_VOID(slurp("/proc/meminfo", buf2, sizeof(buf2)) > 0);
	long total = field(buf2, "MemTotal");
	CHECK("pagetypeinfo_free_pages", free_kb > 0 && (long long)free_kb <= total,
	      "free %llu kB of %ld", free_kb, total);
}

static void check_sched_debug(void)
{
	int fd = open("/proc/sched_debug", O_RDONLY);
	if (fd < 0) {
		/* Linux 6.1 has it in debugfs (sched/debug) only. */
		CHECK("sched_debug", errno == ENOENT, "errno %s", errno_name(errno));
		return;
	}
	close(fd);
	char me[64];
	REQUIRE_VOID(slurp("/proc/sched_debug", buf, sizeof(buf)) > 0);
	snprintf(me, sizeof(me), "%16s %5d ", "procfs3", getpid());
	const char *running = line_at(buf, ">R");
	CHECK("sched_debug",
	      strstr(buf, "\ncpu#0") && strstr(buf, "\ncfs_rq[0]:") && strstr(buf, "  .min_vruntime") &&
		      strstr(buf, "\nrunnable tasks:\n") && running && strncmp(running + 2, me, strlen(me)) == 0,
	      "running line %.40s", running ? running : "none");
}

/* As a user: /proc/self/stack is refused, EACCES at the open (Linux: a
 * process that changed its uid is not dumpable, so the file is root's) or
 * at the read (the CAP_SYS_ADMIN check of proc_pid_stack). */
static int user_reads_stack(void)
{
	char b[256];
	int fd = open("/proc/self/stack", O_RDONLY);
	if (fd < 0)
		return errno == EACCES ? 0 : 10;
	ssize_t n = read(fd, b, sizeof(b));
	return n < 0 && errno == EACCES ? 0 : 11;
}

/* Whether `s` is one C-like identifier. */
static int is_identifier(const char *s)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s; s++)
		if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

/* wchan: "0" while running, the function it waits in while asleep;
 * stack: "[<0>] symbol+off/size" lines, root only. */
static void check_wchan_and_stack(void)
{
	char path[64], st[64];
	int go[2];
	REQUIRE_VOID(pipe(go) == 0);
	pid_t child = fork();
	REQUIRE_VOID(child >= 0);
	if (child == 0) {
		char c;
		close(go[1]);
		read(go[0], &c, 1);
		_exit(0);
	}
	close(go[0]);
	wait_state(child, 'S', st, sizeof(st));
	REQUIRE_VOID(slurp("/proc/self/wchan", buf, sizeof(buf)) >= 0);
	CHECK("wchan_running_is_0", strcmp(buf, "0") == 0, "\"%s\"", buf);
	snprintf(path, sizeof(path), "/proc/%d/wchan", child);
	REQUIRE_VOID(slurp(path, buf, sizeof(buf)) >= 0);
	CHECK("wchan_sleeping_names_function", is_identifier(buf) && strcmp(buf, "0") != 0,
	      "\"%s\"", buf);
	snprintf(path, sizeof(path), "/proc/%d/stack", child);
	ssize_t n = slurp(path, buf, sizeof(buf));
	int lines = 0, ok = n > 0;
	for (const char *l = buf; ok && *l; l = strchr(l, '\n') + 1, lines++)
		ok = strncmp(l, "[<0>] ", 6) == 0 && strchr(l, '\n') && strchr(l, '+') &&
		     strchr(l, '/');
	CHECK("stack_sleeping_frames", ok && lines >= 1, "%zd bytes, %d lines: %.80s", n, lines, buf);
	close(go[1]);
	wait_status(child);
	int r = run_as_user(user_reads_stack);
	CHECK("stack_root_only", r == 0, "user: %d", r);
}

/* debugfs: sched/debug on both kernels (Linux 6.1's place for it), and
 * Ferrite's pid_idr, one line per PID namespace, a new one included. */
static void check_debugfs(void)
{
	/* Mount what is not mounted yet (a second mount of either on the
	 * same place is EBUSY on Linux), and later unmount only that. */
	mkdir("/sys", 0555);
	int sysfs = 0, debugfs = 0, ok = 1;
	if (access("/sys/kernel", F_OK) != 0)
		ok = sysfs = mount("sysfs", "/sys", "sysfs", 0, NULL) == 0;
	if (ok && access("/sys/kernel/debug/sched", F_OK) != 0)
		ok = debugfs = mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL) == 0;
	CHECK("debugfs_mount", ok, "errno %s", errno_name(errno));
	if (!ok) {
		if (sysfs)
			umount("/sys");
		return;
	}
	char me[64], path[64];
	snprintf(me, sizeof(me), "%16s %5d ", "procfs3", getpid());
	ssize_t n = slurp("/sys/kernel/debug/sched/debug", buf, sizeof(buf));
	const char *running = n > 0 ? line_at(buf, ">R") : NULL;
	CHECK("debugfs_sched_debug",
	      n > 0 && strstr(buf, "\ncpu#0") && strstr(buf, "\ncfs_rq[0]:") &&
		      strstr(buf, "  .min_vruntime") && strstr(buf, "\nrunnable tasks:\n") && running &&
		      strncmp(running + 2, me, strlen(me)) == 0,
	      "%zd bytes, running line %.40s", n, running ? running : "none");

	int fd = open("/sys/kernel/debug/pid_idr", O_RDONLY);
	if (fd < 0) {
		/* Linux has no such file: its IDR is read with a debugger. */
		CHECK("debugfs_pid_idr", errno == ENOENT, "errno %s", errno_name(errno));
	} else {
		close(fd);
		int go[2];
		REQUIRE_VOID(pipe(go) == 0);
		pid_t child = fork_newpid();
		if (child == 0) {
			char c;
			close(go[1]);
			read(go[0], &c, 1);
			_exit(getpid() == 1 ? 0 : 1);
		}
		close(go[0]);
		n = slurp("/sys/kernel/debug/pid_idr", buf, sizeof(buf));
		long level0[5] = {-1, -1, -1, -1, -1}, mine[5] = {-1, -1, -1, -1, -1};
		const char *l0 = n > 0 ? strchr(buf, '\n') : NULL;
		if (l0)
			sscanf(l0 + 1, "%ld %ld %ld %ld %ld", &level0[0], &level0[1], &level0[2],
			       &level0[3], &level0[4]);
		for (const char *l = l0; l && mine[2] != child; l = strchr(l + 1, '\n'))
			sscanf(l + 1, "%ld %ld %ld %ld %ld", &mine[0], &mine[1], &mine[2], &mine[3],
			       &mine[4]);
		/* The initial namespace first; the child's, of level 1, holds one
		 * PID; each with the inode its /proc/PID/ns/pid link shows. */
		char link[64], want0[32], want1[32];
		snprintf(want0, sizeof(want0), "pid:[%ld]", level0[1]);
		snprintf(want1, sizeof(want1), "pid:[%ld]", mine[1]);
		ssize_t k0 = readlink("/proc/self/ns/pid", link, sizeof(link) - 1);
		int inode0 = k0 > 0 && (link[k0] = 0, strcmp(link, want0) == 0);
		snprintf(path, sizeof(path), "/proc/%d/ns/pid", child);
		ssize_t k1 = readlink(path, link, sizeof(link) - 1);
		int inode1 = k1 > 0 && (link[k1] = 0, strcmp(link, want1) == 0);
		CHECK("debugfs_pid_idr",
		      strncmp(buf, "level       inode  init  pid_max  allocated", 43) == 0 &&
			      level0[0] == 0 && level0[3] == 32768 && level0[4] >= 3 && mine[0] == 1 &&
			      mine[2] == child && mine[4] == 1 && inode0 && inode1,
		      "%.300s", buf);
		close(go[1]);
		CHECK("debugfs_pid_idr_child", child > 0 && wait_status(child) == 0, "pidns child");
	}
	if (debugfs)
		umount("/sys/kernel/debug");
	if (sysfs)
		umount("/sys");
}

int main(void)
{
	mkdir("/proc", 0555);
	REQUIRE(mount("proc", "/proc", "proc", 0, NULL) == 0);
	check_smaps_private();
	check_smaps_shared();
	check_smaps_text();
	check_smaps_rollup();
	check_sched_self();
	check_states_and_nice();
	check_status_keys();
	check_idle_kthread();
	check_softirqs();
	check_interrupts();
	check_pagetypeinfo();
	check_sched_debug();
	check_wchan_and_stack();
	check_debugfs();
	umount("/proc");
	return test_done();
}
