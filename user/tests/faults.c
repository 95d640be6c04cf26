#include "test.h"
/*
 * Page-fault accounting as programs and /proc see it: touching fresh
 * anonymous pages counts minor faults in getrusage and /proc/self/stat;
 * after fork, a child writing pages it shares with its parent takes one
 * copy-on-write fault per page, which its parent sees in RUSAGE_CHILDREN
 * and in /proc/self/stat's cminflt once it has waited; /proc/vmstat's
 * pgfault grows; /proc/sys/vm/drop_caches takes 1..4 and nothing else,
 * and 1 drops the clean page cache of a disk (Buffers + Cached fall).
 * Linux: mm/memory.c (mm_account_fault), kernel/exit.c (wait_task_zombie),
 * fs/proc/array.c (do_task_stat), mm/vmstat.c, fs/drop_caches.c.
 */
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/sysmacros.h>

/* Where the test mounts proc (the systest /init mounts nothing). */
#define MEMINFO "/tmp/faults/proc/meminfo"
#define PAGES 64
#define PAGE 4096

static long minflt_self(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* Field `n` (1-based) of /proc/self/stat, after the comm's closing paren. */
static long stat_field(int n)
{
	char buf[1024];
	if (slurp("/tmp/faults/proc/self/stat", buf, sizeof(buf)) <= 0)
		return -1;
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	p += 2; /* field 3, the state */
	for (int field = 3; field < n; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -1;
		p++;
	}
	return strtol(p, NULL, 10);
}

/* The value of `name` in a "name value" or "Name: value kB" file, or -1. */
static long file_value(const char *path, const char *name)
{
	static char buf[16384];
	if (slurp(path, buf, sizeof(buf)) <= 0)
		return -1;
	size_t n = strlen(name);
	for (char *line = buf; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : 0) {
		if (strncmp(line, name, n) == 0 && (line[n] == ' ' || line[n] == ':'))
			return strtol(line + n + 1 + (line[n] == ':'), NULL, 10);
	}
	return -1;
}

static void anonymous_faults(void)
{
	char *p = mmap(0, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE_VOID(p != MAP_FAILED);
	long vm_before = file_value("/tmp/faults/proc/vmstat", "pgfault");
	long stat_before = stat_field(10);
	long before = minflt_self();
	for (int i = 0; i < PAGES; i++)
		p[i * PAGE] = 1;
	long after = minflt_self();
	long stat_after = stat_field(10);
	long vm_after = file_value("/tmp/faults/proc/vmstat", "pgfault");
	CHECK("touch_counts_minor_faults", after - before >= PAGES, "%ld faults for %d pages",
	      after - before, PAGES);
	CHECK("proc_stat_minflt", stat_after - stat_before >= PAGES, "minflt %ld -> %ld",
	      stat_before, stat_after);
	CHECK("vmstat_pgfault", vm_before >= 0 && vm_after - vm_before >= PAGES,
	      "pgfault %ld -> %ld", vm_before, vm_after);
	before = minflt_self();
	for (int i = 0; i < PAGES; i++)
		p[i * PAGE] = 2;
	CHECK("mapped_pages_take_no_fault", minflt_self() - before < PAGES / 2,
	      "%ld faults rewriting mapped pages", minflt_self() - before);
	munmap(p, PAGES * PAGE);
}

static void cow_faults(void)
{
	char *p = mmap(0, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE_VOID(p != MAP_FAILED);
	memset(p, 1, PAGES * PAGE);
	int pipefd[2];
	REQUIRE_VOID(pipe(pipefd) == 0);
	pid_t pid = fork();
	REQUIRE_VOID(pid >= 0);
	if (pid == 0) {
		long before = minflt_self();
		for (int i = 0; i < PAGES; i++)
			p[i * PAGE] = 3; /* each page is shared: copy on write */
		long faults = minflt_self() - before;
		write(pipefd[1], &faults, sizeof(faults));
		_exit(0);
	}
	long faults = -1;
	read(pipefd[0], &faults, sizeof(faults));
	close(pipefd[0]);
	close(pipefd[1]);
	CHECK("child_cow_faults", faults >= PAGES, "child took %ld faults writing %d pages", faults,
	      PAGES);
	CHECK("parent_copy_untouched", p[0] == 1 && p[(PAGES - 1) * PAGE] == 1, "parent saw %d",
	      p[0]);
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	long before_wait = ru.ru_minflt;
	long cstat_before = stat_field(11);
	int status;
	REQUIRE_VOID(waitpid(pid, &status, 0) == pid);
	getrusage(RUSAGE_CHILDREN, &ru);
	CHECK("children_minflt_after_wait", ru.ru_minflt - before_wait >= PAGES,
	      "RUSAGE_CHILDREN minflt %ld -> %ld", before_wait, ru.ru_minflt);
	CHECK("proc_stat_cminflt", stat_field(11) - cstat_before >= PAGES, "cminflt %ld -> %ld",
	      cstat_before, stat_field(11));
	munmap(p, PAGES * PAGE);
}

static int write_sysctl(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	int err = errno;
	close(fd);
	errno = err;
	return n < 0 ? -1 : 0;
}

/* Opens the scratch disk through a node made from /proc/partitions. */
static int open_vda(void)
{
	FILE *f = fopen("/tmp/faults/proc/partitions", "r");
	if (!f)
		return -1;
	char line[256], name[64];
	unsigned major, minor;
	unsigned long long blocks;
	int fd = -1;
	while (fd < 0 && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%u %u %llu %63s", &major, &minor, &blocks, name) == 4 &&
		    strcmp(name, "vda") == 0 && mknod("vda", S_IFBLK | 0600, makedev(major, minor)) == 0)
			fd = open("vda", O_RDONLY);
	}
	fclose(f);
	return fd;
}

static void drop_caches(void)
{
	const char *knob = "/tmp/faults/proc/sys/vm/drop_caches";
	EXPECT_ERRNO("drop_caches_0_einval", write_sysctl(knob, "0"), EINVAL);
	EXPECT_ERRNO("drop_caches_5_einval", write_sysctl(knob, "5"), EINVAL);
	EXPECT_ERRNO("drop_caches_word_einval", write_sysctl(knob, "all"), EINVAL);
	int disk = open_vda();
	if (disk < 0) {
		pass("drop_caches_frees_cache # SKIP no scratch disk");
		return;
	}
	static char buf[64 * 1024];
	for (int i = 0; i < 32; i++) /* 2 MiB of the disk into its page cache */
		if (read(disk, buf, sizeof(buf)) <= 0)
			break;
	long cached = file_value(MEMINFO, "Buffers") + file_value(MEMINFO, "Cached");
	EXPECT_OK("drop_caches_1", write_sysctl(knob, "1"));
	long dropped = file_value(MEMINFO, "Buffers") + file_value(MEMINFO, "Cached");
	close(disk);
	CHECK("drop_caches_frees_cache", cached - dropped >= 1024, "Buffers+Cached %ld -> %ld kB",
	      cached, dropped);
}

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	mkdir("proc", 0555);
	REQUIRE(mount("proc", "proc", "proc", 0, NULL) == 0);
	anonymous_faults();
	cow_faults();
	drop_caches();
	unlink("vda");
	CHECK("umount_proc", umount("proc") == 0, "umount: %s", errno_name(errno));
	return test_done();
}
