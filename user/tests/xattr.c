/*
 * xattr: tmpfs in Linux 6.1 has no user.* attributes and no handler for
 * unknown namespaces: EOPNOTSUPP after the argument checks (flags, name
 * length, value size, the lookup), in Linux's order; an empty list. On ext2
 * (the ext2-root tier) user.* attributes are set, read, listed, removed.
 * Linux: fs/xattr.c.
 */
#include "test.h"
#include <sys/xattr.h>

/* tmpfs (the initramfs root): no user.* handler. */
static void tmpfs_user_xattrs(int fd)
{
	char buf[64];
	EXPECT_ERRNO("get_user_eopnotsupp", getxattr("f", "user.x", buf, sizeof(buf)), EOPNOTSUPP);
	EXPECT_ERRNO("set_user_eopnotsupp", setxattr("f", "user.x", "v", 1, 0), EOPNOTSUPP);
	EXPECT_ERRNO("fget_eopnotsupp", fgetxattr(fd, "user.x", buf, sizeof(buf)), EOPNOTSUPP);
	EXPECT_ERRNO("lget_eopnotsupp", lgetxattr("f", "user.x", buf, sizeof(buf)), EOPNOTSUPP);
	EXPECT_ERRNO("remove_eopnotsupp", removexattr("f", "user.x"), EOPNOTSUPP);
}

/*
 * ext2 (the ext2-root tier): user.* attributes work, as with Debian's
 * driver (ext4's, CONFIG_EXT4_USE_FOR_EXT2) and fs/ext2 with
 * CONFIG_EXT2_FS_XATTR. Leaves "f" without attributes.
 */
static void ext2_user_xattrs(int fd)
{
	char buf[64] = "";
	EXPECT_ERRNO("ext2_get_absent_enodata", getxattr("f", "user.x", buf, sizeof(buf)), ENODATA);
	EXPECT_OK("ext2_set_user", setxattr("f", "user.x", "v", 1, XATTR_CREATE));
	CHECK("ext2_get_user", getxattr("f", "user.x", buf, sizeof(buf)) == 1 && buf[0] == 'v',
	      "errno %s", errno_name(errno));
	CHECK("ext2_fget_user", fgetxattr(fd, "user.x", buf, sizeof(buf)) == 1, "errno %s",
	      errno_name(errno));
	EXPECT_ERRNO("ext2_create_existing_eexist", setxattr("f", "user.x", "w", 1, XATTR_CREATE),
		     EEXIST);
	EXPECT_ERRNO("ext2_replace_absent_enodata", setxattr("f", "user.y", "w", 1, XATTR_REPLACE),
		     ENODATA);
	CHECK("ext2_list_user", listxattr("f", buf, sizeof(buf)) == 7 && strcmp(buf, "user.x") == 0,
	      "listxattr: %s", errno_name(errno));
	EXPECT_OK("ext2_remove_user", removexattr("f", "user.x"));
	EXPECT_ERRNO("ext2_remove_absent_enodata", removexattr("f", "user.x"), ENODATA);
}

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	unlink("f");
	int fd = open("f", O_RDWR | O_CREAT, 0644);
	REQUIRE(fd >= 0);
	char buf[64];
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	memcpy(longname, "user.", 5);

	if (fs_magic(".") == EXT2_SUPER_MAGIC)
		ext2_user_xattrs(fd);
	else
		tmpfs_user_xattrs(fd);
	EXPECT_ERRNO("unknown_ns_eopnotsupp", getxattr("f", "bogus.x", buf, sizeof(buf)), EOPNOTSUPP);
	EXPECT_ERRNO("set_bad_flags_einval", setxattr("f", "user.x", "v", 1, 4), EINVAL);
	EXPECT_ERRNO("set_empty_name_erange", setxattr("f", "", "v", 1, 0), ERANGE);
	EXPECT_ERRNO("set_long_name_erange", setxattr("f", longname, "v", 1, 0), ERANGE);
	EXPECT_ERRNO("get_long_name_erange", getxattr("f", longname, buf, sizeof(buf)), ERANGE);
	EXPECT_ERRNO("set_too_big_e2big", setxattr("f", "user.x", "v", 65537, 0), E2BIG);
	EXPECT_ERRNO("set_path_first_enoent", setxattr("missing", "", "v", 1, 0), ENOENT);
	EXPECT_ERRNO("get_path_first_enoent", getxattr("missing", "", buf, sizeof(buf)), ENOENT);
	EXPECT_ERRNO("fget_ebadf", fgetxattr(1000, "user.x", buf, sizeof(buf)), EBADF);
	CHECK("list_empty", listxattr("f", buf, sizeof(buf)) == 0, "listxattr: %s", errno_name(errno));
	CHECK("flist_empty", flistxattr(fd, buf, sizeof(buf)) == 0, "flistxattr: %s",
	      errno_name(errno));
	EXPECT_ERRNO("list_enoent", listxattr("missing", buf, sizeof(buf)), ENOENT);
	return test_done();
}
