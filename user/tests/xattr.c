/*
 * xattr: tmpfs in Linux 6.1 has no user.* attributes and no handler for
 * unknown namespaces: EOPNOTSUPP after the argument checks (flags, name
 * length, value size, the lookup), in Linux's order; an empty list.
 * Linux: fs/xattr.c.
 */
#include "test.h"
#include <sys/xattr.h>

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

	EXPECT_ERRNO("get_user_eopnotsupp", getxattr("f", "user.x", buf, sizeof(buf)), EOPNOTSUPP);
	EXPECT_ERRNO("set_user_eopnotsupp", setxattr("f", "user.x", "v", 1, 0), EOPNOTSUPP);
	EXPECT_ERRNO("fget_eopnotsupp", fgetxattr(fd, "user.x", buf, sizeof(buf)), EOPNOTSUPP);
	EXPECT_ERRNO("lget_eopnotsupp", lgetxattr("f", "user.x", buf, sizeof(buf)), EOPNOTSUPP);
	EXPECT_ERRNO("remove_eopnotsupp", removexattr("f", "user.x"), EOPNOTSUPP);
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
