/*
 * Sequential write and then read of a 16 MiB file on the initramfs tmpfs,
 * 64 KiB per call, as lmbench's `bw_file_rd` on a cached file: the write
 * allocates the pages (the file is truncated first), the read copies them
 * out of the page cache. Figures file_write and file_read, per MiB.
 * Linux: mm/shmem.c (shmem_file_write_iter, shmem_file_read_iter).
 */
#include "bench.h"
#include <sys/stat.h>

#define PATH "/tmp/bench_rw"
#define CHUNK (64 * 1024)
#define MIB 16
#define ROUNDS 4

static char buf[CHUNK];

/* Writes or reads the whole file once; returns the time it took. */
static uint64_t pass(int writing)
{
	int flags = writing ? O_CREAT | O_WRONLY | O_TRUNC : O_RDONLY;
	int fd = open(PATH, flags, 0644);
	if (fd < 0)
		bench_fail("open");
	uint64_t start = bench_now_ns();
	for (long i = 0; i < MIB * 16L; i++)
		if (bench_io(fd, buf, CHUNK, writing) != 0)
			bench_fail(writing ? "write" : "read");
	uint64_t elapsed = bench_now_ns() - start;
	close(fd);
	return elapsed;
}

int main(void)
{
	uint64_t wrote = 0, read = 0;
	memset(buf, 'x', sizeof(buf));
	mkdir("/tmp", 0755);
	/* Round 0 is the warm-up. */
	for (int round = 0; round <= ROUNDS; round++) {
		uint64_t w = pass(1);
		uint64_t r = pass(0);
		if (round > 0) {
			wrote += w;
			read += r;
		}
	}
	unlink(PATH);
	bench_report("file_write", wrote, MIB * ROUNDS);
	bench_report("file_read", read, MIB * ROUNDS);
	return 0;
}
