/*
 * utsns: UTS namespaces. unshare(CLONE_NEWUTS) and clone(CLONE_NEWUTS)
 * give a private host and domain name: sethostname/setdomainname inside
 * change uname(2) and /proc/sys/kernel/hostname there and nowhere else;
 * the copy starts with the creator's names; both need root (EPERM);
 * /proc/self/ns/uts names the namespace (uts:[4026531838] for the
 * initial one) and changes with it.
 * Linux: kernel/utsname.c, kernel/nsproxy.c, kernel/sys.c (sethostname).
 */
#include "test.h"

#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/utsname.h>

#define INIT_UTS "uts:[4026531838]"

/* What the children found, written to shared memory for the parent to report. */
struct results {
	int unshare_ret, unshare_errno;
	char copied[65], after[65], proc_after[65], ns_link[64];
	int sethost_ret;
	char clone_domain[65];
	char clone_inherited[65];
};

static struct results *res;

static int child_unshare(void)
{
	res->unshare_ret = unshare(CLONE_NEWUTS);
	res->unshare_errno = errno;
	struct utsname u;
	uname(&u);
	snprintf(res->copied, sizeof(res->copied), "%s", u.nodename);
	res->sethost_ret = sethostname("inner-ns", 8);
	uname(&u);
	snprintf(res->after, sizeof(res->after), "%s", u.nodename);
	char buf[128] = "";
	if (slurp("/proc/sys/kernel/hostname", buf, sizeof(buf)) > 0)
		buf[strcspn(buf, "\n")] = 0;
	snprintf(res->proc_after, sizeof(res->proc_after), "%s", buf);
	ssize_t n = readlink("/proc/self/ns/uts", res->ns_link, sizeof(res->ns_link) - 1);
	res->ns_link[n > 0 ? n : 0] = 0;
	return 0;
}

static int clone_child(void)
{
	struct utsname u;
	uname(&u);
	snprintf(res->clone_inherited, sizeof(res->clone_inherited), "%s", u.domainname);
	if (setdomainname("clone.example", 13) != 0)
		return 2;
	uname(&u);
	snprintf(res->clone_domain, sizeof(res->clone_domain), "%s", u.domainname);
	return 0;
}

static int user_unshare(void)
{
	return unshare(CLONE_NEWUTS) == -1 && errno == EPERM ? 0 : 1;
}

static int user_clone(void)
{
	long r = syscall(SYS_clone, CLONE_NEWUTS | SIGCHLD, 0, 0, 0, 0);
	if (r == 0)
		_exit(0);
	return r == -1 && errno == EPERM ? 0 : 1;
}

/* Mounts /proc unless it is there already: 1 if this test mounted it. */
static int need_proc(void)
{
	if (access("/proc/self/stat", F_OK) == 0)
		return 0;
	mkdir("/proc", 0555);
	return mount("proc", "/proc", "proc", 0, NULL) == 0;
}

int main(void)
{
	res = mmap(NULL, sizeof(*res), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE(res != MAP_FAILED);
	int own_proc = need_proc();
	struct utsname before;
	REQUIRE(uname(&before) == 0);
	char link[64] = "";
	ssize_t n = readlink("/proc/self/ns/uts", link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	CHECK("init_ns_link", strcmp(link, INIT_UTS) == 0, "readlink gave \"%s\"", link);

	pid_t pid = fork();
	if (pid == 0)
		_exit(child_unshare());
	int st = wait_status(pid);
	CHECK("unshare_child_exited", exited_with(st, 0), "%s", status_text(st));
	CHECK("unshare_newuts", res->unshare_ret == 0, "unshare: %s", errno_name(res->unshare_errno));
	CHECK("copy_has_old_name", strcmp(res->copied, before.nodename) == 0, "\"%s\" vs \"%s\"",
	      res->copied, before.nodename);
	CHECK("sethostname_inside", res->sethost_ret == 0 && strcmp(res->after, "inner-ns") == 0,
	      "ret %d, uname says \"%s\"", res->sethost_ret, res->after);
	CHECK("proc_hostname_inside", strcmp(res->proc_after, "inner-ns") == 0,
	      "/proc/sys/kernel/hostname says \"%s\"", res->proc_after);
	CHECK("ns_link_changed",
	      strncmp(res->ns_link, "uts:[", 5) == 0 && strcmp(res->ns_link, INIT_UTS) != 0,
	      "readlink gave \"%s\"", res->ns_link);
	struct utsname now;
	uname(&now);
	CHECK("outside_unchanged", strcmp(now.nodename, before.nodename) == 0,
	      "hostname became \"%s\"", now.nodename);

	pid = (pid_t)syscall(SYS_clone, CLONE_NEWUTS | SIGCHLD, 0, 0, 0, 0);
	if (pid == 0)
		_exit(clone_child());
	st = wait_status(pid);
	CHECK("clone_newuts", exited_with(st, 0), "%s", status_text(st));
	CHECK("clone_copy_inherited", strcmp(res->clone_inherited, before.domainname) == 0,
	      "\"%s\" vs \"%s\"", res->clone_inherited, before.domainname);
	CHECK("clone_setdomainname", strcmp(res->clone_domain, "clone.example") == 0,
	      "domainname \"%s\"", res->clone_domain);
	uname(&now);
	CHECK("clone_outside_unchanged", strcmp(now.domainname, before.domainname) == 0,
	      "domainname became \"%s\"", now.domainname);

	CHECK("unshare_as_user_eperm", run_as_user(user_unshare) == 0, "not EPERM");
	CHECK("clone_as_user_eperm", run_as_user(user_clone) == 0, "not EPERM");
	if (own_proc)
		umount("/proc");
	return test_done();
}
