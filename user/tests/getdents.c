/*
 * getdents64: every entry once, with "." and "..", d_type, d_ino matching
 * stat, a buffer too small for one entry, and the errors.
 * Linux: fs/readdir.c.
 */
#include "test.h"
#include <dirent.h>

struct linux_dirent64 {
	unsigned long long d_ino;
	long long d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static const char *const names[] = {".", "..", "a", "b", "c", "subdir", "link"};
#define NAMES (sizeof(names) / sizeof(names[0]))

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	REQUIRE(mkdir("d", 0755) == 0 || errno == EEXIST);
	REQUIRE(chdir("d") == 0);
	for (int i = 2; i < 5; i++)
		close(open(names[i], O_WRONLY | O_CREAT, 0644));
	REQUIRE(mkdir("subdir", 0755) == 0 || errno == EEXIST);
	REQUIRE(symlink("a", "link") == 0 || errno == EEXIST);

	int fd = open(".", O_RDONLY | O_DIRECTORY);
	REQUIRE(fd >= 0);
	char buf[4096];
	int seen[NAMES] = {0}, others = 0, types_right = 1, ino_right = 1, aligned = 1;
	long n;
	int calls = 0;
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		calls++;
		for (long off = 0; off < n;) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
			aligned &= d->d_reclen % 8 == 0 && d->d_reclen > 0;
			size_t k;
			for (k = 0; k < NAMES && strcmp(d->d_name, names[k]); k++)
				;
			if (k == NAMES) {
				others++;
			} else {
				seen[k]++;
				unsigned char want = k < 2 || k == 5 ? DT_DIR : k == 6 ? DT_LNK : DT_REG;
				types_right &= d->d_type == want;
				struct stat st;
				if (fstatat(fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && k != 1)
					ino_right &= st.st_ino == d->d_ino;
			}
			if (d->d_reclen == 0)
				break;
			off += d->d_reclen;
		}
	}
	CHECK("ends_with_zero", n == 0, "last getdents64 returned %ld (%s)", n, errno_name(errno));
	int once = 1;
	for (size_t k = 0; k < NAMES; k++)
		once &= seen[k] == 1;
	CHECK("each_entry_once", once && others == 0, "counts . %d .. %d a %d b %d c %d subdir %d link %d, others %d",
	      seen[0], seen[1], seen[2], seen[3], seen[4], seen[5], seen[6], others);
	CHECK("d_type", types_right, "wrong d_type (DT_DIR for dirs, DT_REG files, DT_LNK symlinks)");
	CHECK("d_ino_matches_stat", ino_right, "d_ino differs from st_ino");
	CHECK("d_reclen_8_aligned", aligned, "d_reclen not a multiple of 8");
	CHECK("again_at_end_returns_0", syscall(SYS_getdents64, fd, buf, sizeof(buf)) == 0, "not at end");

	/* Rewinding lists again; an unlinked name disappears. */
	REQUIRE(unlink("c") == 0);
	REQUIRE(lseek(fd, 0, SEEK_SET) == 0);
	int c_seen = 0, count = 0;
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0)
		for (long off = 0; off < n;) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
			c_seen |= !strcmp(d->d_name, "c");
			count++;
			off += d->d_reclen;
		}
	CHECK("rewind_and_unlinked_gone", count == (int)NAMES - 1 && !c_seen, "%d entries, c seen %d", count, c_seen);

	/* A small buffer returns entries a few at a time. */
	REQUIRE(lseek(fd, 0, SEEK_SET) == 0);
	count = 0;
	while ((n = syscall(SYS_getdents64, fd, buf, 32)) > 0)
		for (long off = 0; off < n; off += ((struct linux_dirent64 *)(buf + off))->d_reclen)
			count++;
	CHECK("small_buffer_one_by_one", count == (int)NAMES - 1, "%d entries with a 32-byte buffer", count);

	REQUIRE(lseek(fd, 0, SEEK_SET) == 0);
	EXPECT_ERRNO("buffer_too_small_einval", syscall(SYS_getdents64, fd, buf, 8), EINVAL);
	EXPECT_ERRNO("bad_buffer_efault", syscall(SYS_getdents64, fd, (void *)8, sizeof(buf)), EFAULT);
	int file = open("a", O_RDONLY);
	EXPECT_ERRNO("on_file_enotdir", syscall(SYS_getdents64, file, buf, sizeof(buf)), ENOTDIR);
	close(file);
	EXPECT_ERRNO("closed_fd_ebadf", syscall(SYS_getdents64, file, buf, sizeof(buf)), EBADF);

	/* An empty directory lists only . and .. */
	int sub = open("subdir", O_RDONLY | O_DIRECTORY);
	count = 0;
	while ((n = syscall(SYS_getdents64, sub, buf, sizeof(buf))) > 0)
		for (long off = 0; off < n; off += ((struct linux_dirent64 *)(buf + off))->d_reclen)
			count++;
	CHECK("empty_dir_dot_and_dotdot", count == 2, "%d entries", count);
	return test_done();
}
