/*
 * statfs: statfs(2) and fstatfs(2) on the root (tmpfs, or ext2 in the
 * ext2-root tier), a tmpfs mount (its size and inode counts, its mount
 * flags) and a proc mount, and their errors: ENOENT, ENOTDIR, EFAULT, EBADF.
 * Linux: fs/statfs.c, mm/shmem.c (shmem_statfs), fs/libfs.c (simple_statfs).
 */
#include <sys/mount.h>
#include <sys/statfs.h>

#include "test.h"

#define PROC_SUPER_MAGIC 0x9fa0
#ifndef ST_VALID
#define ST_VALID 0x0020
#endif

static void write_file(const char *name, size_t len)
{
	static char buf[65536];
	int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		memset(buf, 'x', sizeof(buf));
		if (write(fd, buf, len) != (ssize_t)len)
			test_print("# short write to %s\n", name);
		close(fd);
	}
}

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	struct statfs st, st2;

	EXPECT_OK("statfs_root", statfs("/", &st));
	/* The initramfs's tmpfs, or the ext2 image of the ext2-root tier. */
	CHECK("root_is_tmpfs_or_ext2", st.f_type == TMPFS_MAGIC || st.f_type == EXT2_SUPER_MAGIC,
	      "f_type %#lx", (long)st.f_type);
	CHECK("root_sizes", st.f_bsize == 4096 && st.f_frsize == 4096 && st.f_namelen == 255,
	      "bsize %ld frsize %ld namelen %ld", (long)st.f_bsize, (long)st.f_frsize,
	      (long)st.f_namelen);
	CHECK("root_counts_consistent", st.f_bfree <= st.f_blocks && st.f_bavail <= st.f_bfree,
	      "blocks %lu bfree %lu bavail %lu", (unsigned long)st.f_blocks,
	      (unsigned long)st.f_bfree, (unsigned long)st.f_bavail);

	mkdir("mnt", 0755);
	REQUIRE(mount("none", "mnt", "tmpfs", MS_NOSUID | MS_NODEV, NULL) == 0);
	EXPECT_OK("statfs_tmpfs", statfs("mnt", &st));
	CHECK("tmpfs_magic", st.f_type == TMPFS_MAGIC, "f_type %#lx", (long)st.f_type);
	CHECK("tmpfs_has_size", st.f_blocks > 0 && st.f_bfree == st.f_blocks &&
	      st.f_bavail == st.f_bfree, "blocks %lu bfree %lu", (unsigned long)st.f_blocks,
	      (unsigned long)st.f_bfree);
	CHECK("tmpfs_has_inodes", st.f_files > 0 && st.f_ffree < st.f_files,
	      "files %lu ffree %lu", (unsigned long)st.f_files, (unsigned long)st.f_ffree);
	CHECK("tmpfs_flags", (st.f_flags & (ST_NOSUID | ST_NODEV | ST_VALID)) ==
	      (ST_NOSUID | ST_NODEV | ST_VALID) && !(st.f_flags & ST_RDONLY),
	      "f_flags %#lx", (long)st.f_flags);

	write_file("mnt/big", 65536);
	EXPECT_OK("statfs_after_write", statfs("mnt", &st2));
	CHECK("write_uses_16_blocks", st.f_bfree - st2.f_bfree == 16,
	      "bfree %lu -> %lu", (unsigned long)st.f_bfree, (unsigned long)st2.f_bfree);
	CHECK("file_uses_an_inode", st.f_ffree - st2.f_ffree == 1, "ffree %lu -> %lu",
	      (unsigned long)st.f_ffree, (unsigned long)st2.f_ffree);
	unlink("mnt/big");
	EXPECT_OK("statfs_after_unlink", statfs("mnt", &st2));
	CHECK("unlink_frees_them", st2.f_bfree == st.f_bfree && st2.f_ffree == st.f_ffree,
	      "bfree %lu ffree %lu", (unsigned long)st2.f_bfree, (unsigned long)st2.f_ffree);

	int fd = open("mnt", O_RDONLY | O_DIRECTORY);
	REQUIRE(fd >= 0);
	EXPECT_OK("fstatfs_tmpfs", fstatfs(fd, &st2));
	CHECK("fstatfs_matches", st2.f_type == st.f_type && st2.f_blocks == st.f_blocks,
	      "f_type %#lx blocks %lu", (long)st2.f_type, (unsigned long)st2.f_blocks);
	close(fd);
	fd = open("mnt", O_PATH);
	REQUIRE(fd >= 0);
	EXPECT_OK("fstatfs_opath", fstatfs(fd, &st2));
	close(fd);
	REQUIRE(umount("mnt") == 0);

	mkdir("proc", 0755);
	REQUIRE(mount("proc", "proc", "proc", 0, NULL) == 0);
	EXPECT_OK("statfs_proc", statfs("proc", &st));
	CHECK("proc_magic", st.f_type == PROC_SUPER_MAGIC, "f_type %#lx", (long)st.f_type);
	CHECK("proc_no_blocks", st.f_blocks == 0 && st.f_bsize == 4096, "blocks %lu bsize %ld",
	      (unsigned long)st.f_blocks, (long)st.f_bsize);
	REQUIRE(umount("proc") == 0);

	close(open("file", O_WRONLY | O_CREAT, 0644));
	EXPECT_ERRNO("enoent", statfs("/no/such/path", &st), ENOENT);
	EXPECT_ERRNO("enotdir", statfs("file/x", &st), ENOTDIR);
	EXPECT_ERRNO("efault_path", statfs((char *)1, &st), EFAULT);
	/* Raw calls: musl copies through a buffer of its own. */
	EXPECT_ERRNO("efault_buf", syscall(SYS_statfs, "/", (void *)1), EFAULT);
	EXPECT_ERRNO("fstatfs_ebadf", fstatfs(-1, &st), EBADF);
	EXPECT_ERRNO("fstatfs_efault", syscall(SYS_fstatfs, 0, (void *)1), EFAULT);
	unlink("file");
	rmdir("mnt");
	rmdir("proc");
	return test_done();
}
