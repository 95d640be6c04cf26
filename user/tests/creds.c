/*
 * creds: credentials as a non-root process meets them. The setuid family's
 * rules (a non-root may only pick among its real/effective/saved IDs,
 * setresuid's -1 keeps an ID), the capability drop once no uid is 0,
 * setfsuid returning the old value, supplementary groups (setgroups needs
 * CAP_SETGID, getgroups' count and EINVAL), and who may signal whom
 * (kill_ok_by_cred, CAP_KILL, SIGCONT in the session, kill(-pgrp)).
 * The program runs as root and forks children that drop privileges.
 * Linux: kernel/sys.c (__sys_setuid, __sys_setresuid, __sys_setfsuid),
 * kernel/groups.c, kernel/signal.c (check_kill_permission,
 * kill_ok_by_cred, __kill_pgrp_info), security/commoncap.c
 * (cap_emulate_setxuid).
 */
#include "test.h"

#include <grp.h>
#include <sys/fsuid.h>

/* Results children leave in shared memory: one slot per check. */
struct slot {
	long ret;
	int err;
	int done;
};

static struct slot *slots;

enum {
	S_SETRESUID_DROP,
	S_GETRESUID_AFTER_DROP,
	S_SETUID_TO_SAVED,
	S_GETRESUID_AFTER_SAVED,
	S_SETUID_OTHER,
	S_SETRESUID_KEEP,
	S_SETRESUID_OTHER,
	S_SETREUID_OTHER,
	S_ALL_NONZERO,
	S_SETUID_ROOT_AFTER_DROP,
	S_SETRESUID_ROOT_AFTER_DROP,
	S_CHOWN_AFTER_DROP,
	S_SETGROUPS_NONROOT,
	S_CHOWN_OWN_UID,
	S_CHGRP_MEMBER,
	S_CHGRP_NONMEMBER,
	S_FSUID_ROOT_SET,
	S_FSUID_ROOT_QUERY,
	S_FSUID_NONROOT_OTHER,
	S_FSUID_NONROOT_QUERY,
	S_FSUID_NONROOT_REAL,
	S_KILL_OTHER_USER,
	S_KILL0_OTHER_USER,
	S_KILL_SAVED_MATCH,
	S_KILL_EUID_ONLY,
	S_KILL_SIGCONT_SESSION,
	S_KILL_SIGCONT_OTHER_SESSION,
	S_KILL_PGRP_SOME,
	S_KILL_PGRP_NONE,
	S_KILL_BY_EUID,
	S_GROUPS_INHERITED,
	NSLOTS
};

static void rec(int i, long ret)
{
	slots[i].ret = ret;
	slots[i].err = ret == -1 ? errno : 0;
	slots[i].done = 1;
}

static void expect_slot_ok(const char *check, int i, long want)
{
	struct slot s = slots[i];
	if (!s.done)
		fail(check, "the child never got there");
	else if (s.ret == want)
		pass(check);
	else
		fail(check, "returned %ld (%s), expected %ld", s.ret, errno_name(s.err), want);
}

static void expect_slot_errno(const char *check, int i, int want)
{
	struct slot s = slots[i];
	if (!s.done)
		fail(check, "the child never got there");
	else
		expect_errno(check, s.ret, s.err, want);
}

static long resuid_code(void)
{
	uid_t r, e, s;
	if (getresuid(&r, &e, &s) != 0)
		return -2;
	return (long)r * 1000000 + (long)e * 1000 + (long)s;
}

/* --- the setuid family and the capability drop ------------------------- */

static void setuid_child(void)
{
	rec(S_SETRESUID_DROP, setresuid(100, 100, 0));
	rec(S_GETRESUID_AFTER_DROP, resuid_code());
	rec(S_SETUID_TO_SAVED, setuid(0)); /* not capable now: only euid moves */
	rec(S_GETRESUID_AFTER_SAVED, resuid_code());
	rec(S_SETUID_OTHER, (setresuid(-1, 100, -1), setuid(200)));
	rec(S_SETRESUID_KEEP, setresuid(-1, -1, 100));
	rec(S_SETRESUID_OTHER, setresuid(-1, 300, -1));
	rec(S_SETREUID_OTHER, setreuid(300, -1));
	rec(S_ALL_NONZERO, resuid_code());
	rec(S_SETUID_ROOT_AFTER_DROP, setuid(0));
	rec(S_SETRESUID_ROOT_AFTER_DROP, setresuid(0, 0, 0));
	rec(S_CHOWN_AFTER_DROP, chown("/tmp/creds_file", 200, -1)); /* needs CAP_CHOWN */
	gid_t g = 5;
	rec(S_SETGROUPS_NONROOT, setgroups(1, &g));
	rec(S_CHOWN_OWN_UID, chown("/tmp/creds_file", 100, -1)); /* to itself: allowed */
	rec(S_CHGRP_MEMBER, chown("/tmp/creds_file", -1, 0));    /* fsgid 0 is ours */
	rec(S_CHGRP_NONMEMBER, chown("/tmp/creds_file", -1, 777));
	_exit(0);
}

static void fsuid_child(void)
{
	rec(S_FSUID_ROOT_SET, setfsuid(1234));
	rec(S_FSUID_ROOT_QUERY, setfsuid(-1));
	setfsuid(0);
	if (setresuid(100, 100, 100) != 0)
		_exit(1);
	rec(S_FSUID_NONROOT_OTHER, setfsuid(555));
	rec(S_FSUID_NONROOT_QUERY, setfsuid(-1));
	rec(S_FSUID_NONROOT_REAL, setfsuid(100));
	_exit(0);
}

static void run_child(void (*fn)(void), const char *name)
{
	pid_t pid = fork();
	REQUIRE_VOID(pid >= 0);
	if (pid == 0)
		fn();
	int st = wait_status(pid);
	CHECK(name, exited_with(st, 0), "child: %s", status_text(st));
}

static void test_setuid(void)
{
	int fd = open("/tmp/creds_file", O_CREAT | O_WRONLY | O_TRUNC, 0644);
	REQUIRE_VOID(fd >= 0);
	close(fd);
	REQUIRE_VOID(chmod("/tmp/creds_file", 06755) == 0);
	REQUIRE_VOID(chown("/tmp/creds_file", 100, 100) == 0);
	struct stat st;
	REQUIRE_VOID(stat("/tmp/creds_file", &st) == 0);
	CHECK("chown_root_gives_away", st.st_uid == 100 && st.st_gid == 100, "owner %u:%u", st.st_uid,
	      st.st_gid);
	CHECK("chown_clears_setid_bits", (st.st_mode & 07777) == 0755, "mode %o", st.st_mode & 07777);
	run_child(setuid_child, "setuid_child_ran");
	expect_slot_ok("setresuid_root_any", S_SETRESUID_DROP, 0);
	expect_slot_ok("getresuid_after_drop", S_GETRESUID_AFTER_DROP, 100 * 1000000L + 100 * 1000);
	expect_slot_ok("setuid_nonroot_to_saved", S_SETUID_TO_SAVED, 0);
	expect_slot_ok("setuid_nonroot_sets_euid_only", S_GETRESUID_AFTER_SAVED, 100 * 1000000L);
	expect_slot_errno("setuid_nonroot_other_eperm", S_SETUID_OTHER, EPERM);
	expect_slot_ok("setresuid_minus1_keeps", S_SETRESUID_KEEP, 0);
	expect_slot_errno("setresuid_nonroot_other_eperm", S_SETRESUID_OTHER, EPERM);
	expect_slot_errno("setreuid_nonroot_other_eperm", S_SETREUID_OTHER, EPERM);
	expect_slot_ok("all_uids_nonzero", S_ALL_NONZERO, 100 * 1000000L + 100 * 1000 + 100);
	expect_slot_errno("setuid_root_after_drop_eperm", S_SETUID_ROOT_AFTER_DROP, EPERM);
	expect_slot_errno("setresuid_root_after_drop_eperm", S_SETRESUID_ROOT_AFTER_DROP, EPERM);
	expect_slot_errno("chown_after_drop_eperm", S_CHOWN_AFTER_DROP, EPERM);
	expect_slot_errno("setgroups_nonroot_eperm", S_SETGROUPS_NONROOT, EPERM);
	expect_slot_ok("chown_owner_to_itself_ok", S_CHOWN_OWN_UID, 0);
	expect_slot_ok("chgrp_owner_to_member_group_ok", S_CHGRP_MEMBER, 0);
	expect_slot_errno("chgrp_owner_to_other_group_eperm", S_CHGRP_NONMEMBER, EPERM);
	unlink("/tmp/creds_file");

	run_child(fsuid_child, "fsuid_child_ran");
	expect_slot_ok("setfsuid_returns_old", S_FSUID_ROOT_SET, 0);
	expect_slot_ok("setfsuid_minus1_queries", S_FSUID_ROOT_QUERY, 1234);
	expect_slot_ok("setfsuid_nonroot_other_ignored", S_FSUID_NONROOT_OTHER, 100);
	expect_slot_ok("setfsuid_nonroot_unchanged", S_FSUID_NONROOT_QUERY, 100);
	expect_slot_ok("setfsuid_nonroot_own", S_FSUID_NONROOT_REAL, 100);
}

/* --- supplementary groups ---------------------------------------------- */

static void test_groups(void)
{
	pid_t pid = fork();
	REQUIRE_VOID(pid >= 0);
	if (pid == 0) {
		/* In a child, so that the test's own groups stay as they were. */
		gid_t set[3] = {30, 10, 20}, got[8] = {0};
		if (setgroups(3, set) != 0)
			_exit(1);
		if (getgroups(0, NULL) != 3)
			_exit(2);
		errno = 0;
		if (getgroups(2, got) != -1 || errno != EINVAL)
			_exit(3);
		if (getgroups(8, got) != 3 || got[0] != 10 || got[1] != 20 || got[2] != 30)
			_exit(4);
		errno = 0;
		if (setgroups(-1, set) != -1 || errno != EINVAL)
			_exit(5);
		errno = 0;
		if (setgroups(65537, set) != -1 || errno != EINVAL)
			_exit(6);
		errno = 0;
		if (setgroups(1, unmapped_address()) != -1 || errno != EFAULT)
			_exit(7);
		errno = 0;
		if (getgroups(-1, got) != -1 || errno != EINVAL)
			_exit(8);
		pid_t grandchild = fork();
		if (grandchild == 0)
			_exit(getgroups(8, got) == 3 && got[2] == 30 ? 0 : 1);
		int st = wait_status(grandchild);
		rec(S_GROUPS_INHERITED, exited_with(st, 0));
		if (setgroups(0, NULL) != 0 || getgroups(0, NULL) != 0)
			_exit(9);
		_exit(0);
	}
	int st = wait_status(pid);
	CHECK("groups_set_get_sorted_errors", exited_with(st, 0),
	      "child %s (1 set, 2 count, 3 small EINVAL, 4 sorted, 5 -1, 6 65537, 7 EFAULT, 8 get -1, 9 clear)",
	      status_text(st));
	expect_slot_ok("groups_inherited", S_GROUPS_INHERITED, 1);
}

/* --- kill permission --------------------------------------------------- */

struct target {
	uid_t r, e, s;
	int new_session, pgrp_leader;
	pid_t pid;
};

/* Forks a target with the given uids; with `pgrp` > 0 it joins that
 * process group (0: leads a new one). */
static pid_t spawn_target(struct target *t, pid_t pgrp)
{
	int p[2];
	if (pipe(p) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		if (t->new_session)
			setsid();
		else
			setpgid(0, pgrp);
		if (setresuid(t->r, t->e, t->s) != 0)
			_exit(1);
		(void)!write(p[1], "r", 1);
		for (;;)
			pause();
	}
	char c;
	if (pid > 0 && read(p[0], &c, 1) != 1)
		pid = -1;
	close(p[0]);
	close(p[1]);
	t->pid = pid;
	return pid;
}

static void test_kill(void)
{
	struct target other = {2000, 2000, 2000, 0, 0, 0};    /* not ours */
	struct target saved = {3000, 3000, 1000, 0, 0, 0};    /* saved uid is ours */
	struct target euid_only = {5000, 1000, 5000, 0, 0, 0}; /* only euid is ours */
	struct target away = {2000, 2000, 2000, 1, 0, 0};     /* another session */
	struct target mine = {1000, 1000, 1000, 0, 0, 0};
	REQUIRE_VOID(spawn_target(&other, 0) > 0);
	REQUIRE_VOID(spawn_target(&saved, 0) > 0);
	REQUIRE_VOID(spawn_target(&euid_only, 0) > 0);
	REQUIRE_VOID(spawn_target(&away, 0) > 0);
	REQUIRE_VOID(spawn_target(&mine, other.pid) > 0); /* in other's group */

	pid_t pid = fork();
	REQUIRE_VOID(pid >= 0);
	if (pid == 0) {
		if (setresuid(1000, 1000, 1000) != 0)
			_exit(1);
		rec(S_KILL_OTHER_USER, kill(other.pid, SIGTERM));
		rec(S_KILL0_OTHER_USER, kill(other.pid, 0));
		rec(S_KILL_SAVED_MATCH, kill(saved.pid, 0));
		rec(S_KILL_EUID_ONLY, kill(euid_only.pid, 0));
		rec(S_KILL_SIGCONT_SESSION, kill(other.pid, SIGCONT));
		rec(S_KILL_SIGCONT_OTHER_SESSION, kill(away.pid, SIGCONT));
		rec(S_KILL_PGRP_SOME, kill(-other.pid, 0));  /* other + mine */
		rec(S_KILL_PGRP_NONE, kill(-euid_only.pid, SIGTERM)); /* its only member */
		_exit(0);
	}
	int st = wait_status(pid);
	CHECK("kill_sender_ran", exited_with(st, 0), "sender: %s", status_text(st));
	pid = fork();
	REQUIRE_VOID(pid >= 0);
	if (pid == 0) {
		/* Effective uid 2000 matches other's real uid. */
		if (setresuid(4000, 2000, 4000) != 0)
			_exit(1);
		rec(S_KILL_BY_EUID, kill(other.pid, 0));
		_exit(0);
	}
	st = wait_status(pid);
	CHECK("kill_euid_sender_ran", exited_with(st, 0), "sender: %s", status_text(st));

	expect_slot_errno("kill_other_user_eperm", S_KILL_OTHER_USER, EPERM);
	expect_slot_errno("kill_sig0_other_user_eperm", S_KILL0_OTHER_USER, EPERM);
	expect_slot_ok("kill_uid_matches_saved", S_KILL_SAVED_MATCH, 0);
	expect_slot_errno("kill_target_euid_does_not_count", S_KILL_EUID_ONLY, EPERM);
	expect_slot_ok("kill_sigcont_same_session", S_KILL_SIGCONT_SESSION, 0);
	expect_slot_errno("kill_sigcont_other_session_eperm", S_KILL_SIGCONT_OTHER_SESSION, EPERM);
	expect_slot_ok("kill_pgrp_one_allowed_ok", S_KILL_PGRP_SOME, 0);
	expect_slot_errno("kill_pgrp_none_allowed_eperm", S_KILL_PGRP_NONE, EPERM);
	expect_slot_ok("kill_sender_euid_matches_real", S_KILL_BY_EUID, 0);

	/* Root has CAP_KILL: the targets all end by SIGKILL, none before. */
	struct target *all[] = {&other, &saved, &euid_only, &away, &mine};
	int killed = 1;
	for (int i = 0; i < 5; i++) {
		if (kill(all[i]->pid, SIGKILL) != 0)
			killed = 0;
		st = wait_status(all[i]->pid);
		if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL))
			killed = 0;
	}
	CHECK("kill_root_cap_kill", killed, "a target was not killed by root's SIGKILL, or died earlier");
}

int main(void)
{
	slots = mmap(NULL, sizeof(struct slot) * NSLOTS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		     -1, 0);
	REQUIRE(slots != MAP_FAILED);
	REQUIRE(getuid() == 0);
	test_setuid();
	test_groups();
	test_kill();
	return test_done();
}
