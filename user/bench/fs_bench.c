/*
 * Storage figures on an ext2 file system on a virtio disk, mounted by the
 * bench /init (user/init/bench.sh, bench_disk=1) at MNT from DEV; the disk
 * is a fresh `mke2fs -t ext2` image every boot (xtask/src/bench/storage.rs).
 * Each figure is timed over ROUNDS rounds after an untimed warm-up round,
 * as the other benchmarks are, and reported per MiB moved (bandwidths) or
 * per operation:
 *
 *   fs_write_cached  sequential write of MIB MiB to a new file, no sync: the
 *                    page cache's write bandwidth (the data is then synced,
 *                    untimed, so that writeback does not spill into the next
 *                    figure)
 *   fs_write_fsync   the same followed by fsync: to the disk (/proc/diskstats
 *                    must show the whole file written to vda)
 *   fs_read_cached   sequential read of that file, all in the page cache
 *   fs_read_cold     the same after umount + mount, the same on both kernels
 *                    (no drop_caches on Ferrite): Linux then has nothing of
 *                    the file cached, as the last close of the block device
 *                    drops the disk's cache too; /proc/diskstats must show
 *                    the whole file read from vda, or the figure says the
 *                    kernel lacks a disk cache that umount drops
 *   fs_mmap_read     mmap of the cached file, a read of every word, munmap
 *   fs_create_delete create + close of FILES empty files in one directory,
 *                    then unlink of all: per file
 *   fs_fsync_4k      pwrite of 4 KiB over an existing, synced block, then
 *                    fsync: per write
 *
 * A failing step prints `bench fs_... failed: why` (or `lacks: what`) for
 * the figure it was measuring, and the program goes on with the figures
 * that do not need it.
 * Linux: mm/filemap.c (generic_perform_write, filemap_read, filemap_fault),
 * fs/ext2/ (ext2 through ext4's driver on Debian), fs/sync.c, fs/namespace.c.
 */
#include "bench.h"
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#define DEV "/dev/vda"
#define MNT "/mnt"
#define FSTYPE "ext2"
#define EXT2_SUPER_MAGIC 0xEF53
#define DATA MNT "/data"
#define SMALL MNT "/small"
#define DIR_PATH MNT "/files"
#define CHUNK (64 * 1024)
#define MIB 16
#define ROUNDS 3
#define FILES 1000
#define FSYNCS 100
#define SMALL_BLOCKS 64

static char buf[CHUNK], rbuf[CHUNK], block[4096];

/* The figure being measured, for the failure line. */
static const char *figure = "fs_bench";

/* Prints the failure line for `figure` and returns -1. */
static int fail(const char *what)
{
	int e = errno;
	bench_print("bench %s failed: %s (errno %d: %s)\n", figure, what, e, strerror(e));
	return -1;
}

/* fail() for the timing helpers, whose failure value is a time of 0. */
static uint64_t fail0(const char *what)
{
	fail(what);
	return 0;
}

/*
 * Sectors read (or written) on vda so far, /proc/diskstats' sixth (tenth)
 * field, or -1: the disk figures check that the disk did the work.
 */
static long long disk_sectors(int written)
{
	FILE *f = fopen("/proc/diskstats", "r");
	char line[256], name[32];
	long long sectors = -1, rd, wr;
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%*u %*u %31s %*u %*u %lld %*u %*u %*u %lld", name, &rd, &wr) == 3 &&
		    strcmp(name, "vda") == 0)
			sectors = written ? wr : rd;
	fclose(f);
	return sectors;
}

/*
 * Did the disk move a file's worth since `before`? If not, prints
 * `bench FIGURE VERDICT: what; /proc/diskstats: K of M KiB` and returns
 * -1. VERDICT is "failed", or "lacks" where the kernel lacks what the
 * figure needs (xtask/src/bench/storage.rs: Ferrite's cell then says
 * "not yet").
 */
static int check_disk(long long before, int written, const char *verdict, const char *what)
{
	long long moved = disk_sectors(written) - before;
	if (before >= 0 && moved >= (long long)MIB * 2048)
		return 0;
	bench_print("bench %s %s: %s; /proc/diskstats: %lld of %d KiB\n", figure, verdict, what,
		    before < 0 ? -1 : moved / 2, MIB * 1024);
	return -1;
}

/* Writes MIB MiB to a new DATA, fsyncing if `sync`; the time it took, or 0. */
static uint64_t write_file(int sync, int *fd_out)
{
	if (unlink(DATA) != 0 && errno != ENOENT)
		return fail0("unlink");
	int fd = open(DATA, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd < 0)
		return fail0("open for writing");
	uint64_t start = bench_now_ns();
	for (long i = 0; i < MIB * 16L; i++)
		if (bench_io(fd, buf, CHUNK, 1) != 0) {
			fail("write");
			close(fd);
			return 0;
		}
	if (sync && fsync(fd) != 0) {
		fail("fsync");
		close(fd);
		return 0;
	}
	uint64_t elapsed = bench_now_ns() - start;
	*fd_out = fd;
	return elapsed;
}

/* Writes DATA ROUNDS + 1 times (the first untimed) and reports. */
static int measure_write(const char *name, int sync)
{
	uint64_t total = 0;
	figure = name;
	for (int round = 0; round <= ROUNDS; round++) {
		int fd = -1;
		long long before = disk_sectors(1);
		uint64_t t = write_file(sync, &fd);
		if (t == 0)
			return -1;
		if (sync && check_disk(before, 1, "failed", "fsync wrote less than the file to vda")) {
			close(fd);
			return -1;
		}
		/* Clean the page cache before the next round, untimed. */
		if (fsync(fd) != 0 || close(fd) != 0)
			return fail("fsync after the timed write");
		if (round > 0)
			total += t;
	}
	bench_report(name, total, (long)MIB * ROUNDS);
	return 0;
}

/* Reads DATA once; the time it took, or 0. */
static uint64_t read_file(void)
{
	int fd = open(DATA, O_RDONLY);
	if (fd < 0)
		return fail0("open for reading");
	memset(rbuf, 0, sizeof(rbuf));
	uint64_t start = bench_now_ns();
	for (long i = 0; i < MIB * 16L; i++)
		if (bench_io(fd, rbuf, CHUNK, 0) != 0) {
			fail("read");
			close(fd);
			return 0;
		}
	uint64_t elapsed = bench_now_ns() - start;
	close(fd);
	/* The last chunk, untimed: a fast read of wrong bytes is no figure. */
	if (memcmp(rbuf, buf, CHUNK) != 0) {
		errno = EIO;
		return fail0("the file does not read back as written");
	}
	return elapsed;
}

/* Unmounts and mounts MNT again: on Linux nothing of it stays cached. */
static int remount(void)
{
	sync();
	if (umount2(MNT, 0) != 0)
		return fail("umount " MNT);
	if (mount(DEV, MNT, FSTYPE, 0, NULL) != 0)
		return fail("mount " DEV " " MNT " again");
	return 0;
}

static int measure_read(const char *name, int cold)
{
	uint64_t total = 0;
	figure = name;
	for (int round = 0; round <= ROUNDS; round++) {
		if (cold && remount() != 0)
			return -1;
		long long before = disk_sectors(0);
		uint64_t t = read_file();
		if (t == 0)
			return -1;
		/* A cold read that the disk did not serve measures a cache. */
		if (cold && check_disk(before, 0, "lacks", "a disk cache that umount drops"))
			return -1;
		if (round > 0)
			total += t;
	}
	bench_report(name, total, (long)MIB * ROUNDS);
	return 0;
}

/* Maps DATA, reads every word, unmaps; the time it took, or 0. */
static uint64_t mmap_pass(int fd, volatile uint64_t *sink)
{
	size_t len = (size_t)MIB << 20;
	uint64_t start = bench_now_ns();
	const uint64_t *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return fail0("mmap");
	uint64_t sum = 0;
	for (size_t i = 0; i < len / sizeof(*p); i++)
		sum += p[i];
	if (munmap((void *)p, len) != 0)
		return fail0("munmap");
	*sink += sum;
	return bench_now_ns() - start;
}

static int measure_mmap(void)
{
	static volatile uint64_t sink;
	uint64_t total = 0;
	figure = "fs_mmap_read";
	int fd = open(DATA, O_RDONLY);
	if (fd < 0)
		return fail("open for mmap");
	for (int round = 0; round <= ROUNDS; round++) {
		uint64_t t = mmap_pass(fd, &sink);
		if (t == 0) {
			close(fd);
			return -1;
		}
		if (round > 0)
			total += t;
	}
	close(fd);
	/* Every byte is 'x': a wrong sum means the mapping read wrong data. */
	uint64_t word = 0x7878787878787878ull;
	uint64_t words = ((uint64_t)MIB << 20) / 8 * (ROUNDS + 1);
	if (sink != word * words) {
		errno = EIO;
		return fail("the mapping does not hold the file's bytes");
	}
	bench_report("fs_mmap_read", total, (long)MIB * ROUNDS);
	return 0;
}

/* Creates FILES empty files in DIR_PATH and unlinks them. */
static int create_delete_all(void)
{
	char path[64];
	for (int i = 0; i < FILES; i++) {
		snprintf(path, sizeof(path), DIR_PATH "/f%d", i);
		int fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0644);
		if (fd < 0)
			return fail("create");
		if (close(fd) != 0)
			return fail("close");
	}
	for (int i = 0; i < FILES; i++) {
		snprintf(path, sizeof(path), DIR_PATH "/f%d", i);
		if (unlink(path) != 0)
			return fail("unlink");
	}
	return 0;
}

static int measure_create_delete(void)
{
	figure = "fs_create_delete";
	if (mkdir(DIR_PATH, 0755) != 0 && errno != EEXIST)
		return fail("mkdir");
	/* The untimed round grows the directory to its size. */
	if (create_delete_all() != 0)
		return -1;
	uint64_t start = bench_now_ns();
	for (int round = 0; round < ROUNDS; round++)
		if (create_delete_all() != 0)
			return -1;
	bench_report("fs_create_delete", bench_now_ns() - start, (long)FILES * ROUNDS);
	return 0;
}

/* Overwrites one 4 KiB block of SMALL and fsyncs it. */
static int overwrite_sync(int fd, int i)
{
	off_t at = (off_t)(i % SMALL_BLOCKS) * 4096;
	block[0] = (char)i;
	if (pwrite(fd, block, sizeof(block), at) != (ssize_t)sizeof(block))
		return fail("pwrite");
	if (fsync(fd) != 0)
		return fail("fsync");
	return 0;
}

static int measure_fsync(void)
{
	figure = "fs_fsync_4k";
	int fd = open(SMALL, O_CREAT | O_RDWR | O_TRUNC, 0644);
	if (fd < 0)
		return fail("open");
	/* The blocks exist and are on the disk: each fsync writes one back. */
	for (int i = 0; i < SMALL_BLOCKS; i++)
		if (bench_io(fd, block, sizeof(block), 1) != 0)
			return fail("write");
	if (fsync(fd) != 0)
		return fail("first fsync");
	for (int i = 0; i < FSYNCS / 10; i++)
		if (overwrite_sync(fd, i) != 0)
			return -1;
	uint64_t start = bench_now_ns();
	for (int i = 0; i < FSYNCS; i++)
		if (overwrite_sync(fd, i) != 0)
			return -1;
	bench_report("fs_fsync_4k", bench_now_ns() - start, FSYNCS);
	close(fd);
	return 0;
}

int main(void)
{
	struct statfs fs;
	memset(buf, 'x', sizeof(buf));
	if (statfs(MNT, &fs) != 0)
		bench_fail("statfs " MNT);
	if (fs.f_type != EXT2_SUPER_MAGIC) {
		errno = ENODEV;
		bench_fail("no ext2 file system on " MNT " (see the # bench: disk line)");
	}
	int failed = 0;
	failed |= measure_write("fs_write_cached", 0);
	failed |= measure_write("fs_write_fsync", 1);
	if (failed == 0) {
		failed |= measure_read("fs_read_cached", 0);
		failed |= measure_mmap();
		failed |= measure_read("fs_read_cold", 1);
	}
	failed |= measure_create_delete();
	failed |= measure_fsync();
	unlink(DATA);
	unlink(SMALL);
	rmdir(DIR_PATH);
	return failed ? 1 : 0;
}
