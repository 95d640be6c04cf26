/*
 * uname: sysname "Linux" (programs check it), machine "x86_64", non-empty
 * release and version. The release string itself is not checked: Ferrite's
 * says Ferrite. Linux: kernel/sys.c (newuname).
 */
#include "test.h"
#include <sys/utsname.h>

int main(void)
{
	struct utsname u;
	memset(&u, 0x55, sizeof(u));
	CHECK("uname_ok", uname(&u) == 0, "uname: %s", errno_name(errno));
	CHECK("sysname_linux", !strcmp(u.sysname, "Linux"), "sysname \"%.64s\"", u.sysname);
	CHECK("machine_x86_64", !strcmp(u.machine, "x86_64"), "machine \"%.64s\"", u.machine);
	CHECK("release_nonempty", u.release[0] != 0 && memchr(u.release, 0, sizeof(u.release)),
	      "release empty or unterminated");
	CHECK("release_starts_with_digit", u.release[0] >= '0' && u.release[0] <= '9', "release \"%.64s\"", u.release);
	CHECK("version_nonempty", u.version[0] != 0 && memchr(u.version, 0, sizeof(u.version)),
	      "version empty or unterminated");
	CHECK("nodename_terminated", memchr(u.nodename, 0, sizeof(u.nodename)) != NULL, "nodename unterminated");
	CHECK("fields_terminated", memchr(u.sysname, 0, sizeof(u.sysname)) && memchr(u.machine, 0, sizeof(u.machine)) &&
					   memchr(u.domainname, 0, sizeof(u.domainname)),
	      "a field is not NUL-terminated");
	return test_done();
}
