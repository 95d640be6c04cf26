/*
 * System V shared memory and semaphores as syslogd -C and logread use them:
 * keys and IPC_PRIVATE, IPC_CREAT|IPC_EXCL, permissions, shmat/shmdt with
 * the attach count, a segment shared across fork and outliving its
 * creator, SHM_RDONLY; semop all-or-nothing, IPC_NOWAIT, blocking and
 * waking, semtimedop's timeout, SEM_UNDO at exit, SETVAL/GETALL/SETALL,
 * GETNCNT, EIDRM for a sleeper when the set goes; message queues by type
 * (0, N, MSG_EXCEPT, -N), E2BIG/MSG_NOERROR, blocking on a full or empty
 * queue; /proc/sysvipc and the limits in /proc/sys/kernel.
 * Linux: ipc/shm.c, ipc/sem.c, ipc/msg.c, ipc/util.c.
 */
#include "test.h"
#include <sys/ipc.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

static int semval(int id, int num)
{
	return semctl(id, num, GETVAL);
}

static int nobody_shm(int key)
{
	int id = shmget(key, 0, 0);
	if (id < 0)
		return 1;
	if (shmat(id, NULL, 0) != (void *)-1 || errno != EACCES)
		return 2;
	if (shmctl(id, IPC_RMID, NULL) == 0 || errno != EPERM)
		return 3;
	return 0;
}

static void check_shm(void)
{
	int id = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600);
	REQUIRE_VOID(id >= 0);
	char *p = shmat(id, NULL, 0);
	REQUIRE_VOID(p != (void *)-1);
	strcpy(p, "parent");
	pid_t child = fork();
	if (child == 0) {
		int ok = strcmp(p, "parent") == 0;
		strcpy(p + 4096, "child");
		_exit(ok ? 0 : 1);
	}
	int status = 0;
	waitpid(child, &status, 0);
	CHECK("fork_shares_segment", WIFEXITED(status) && WEXITSTATUS(status) == 0 && strcmp(p + 4096, "child") == 0,
	      "status %#x, second page '%s'", status, p + 4096);
	struct shmid_ds ds;
	EXPECT_OK("ipc_stat", shmctl(id, IPC_STAT, &ds));
	CHECK("ipc_stat_fields", ds.shm_segsz == 8192 && ds.shm_nattch == 1 && ds.shm_cpid == getpid() &&
	      (ds.shm_perm.mode & 0777) == 0600 && ds.shm_perm.uid == getuid(),
	      "segsz %zu nattch %lu cpid %d mode %o", (size_t)ds.shm_segsz, (unsigned long)ds.shm_nattch,
	      ds.shm_cpid, ds.shm_perm.mode);
	char *q = shmat(id, NULL, SHM_RDONLY);
	REQUIRE_VOID(q != (void *)-1);
	shmctl(id, IPC_STAT, &ds);
	CHECK("second_attach_counts", ds.shm_nattch == 2 && strcmp(q, "parent") == 0, "nattch %lu",
	      (unsigned long)ds.shm_nattch);
	struct sigaction sa = {.sa_sigaction = on_fault, .sa_flags = SA_SIGINFO};
	sigaction(SIGSEGV, &sa, NULL);
	CHECK("rdonly_write_faults", faults(q, 1) && fault_signo == SIGSEGV, "signal %d", fault_signo);
	EXPECT_OK("shmdt", shmdt(q));
	shmctl(id, IPC_STAT, &ds);
	CHECK("shmdt_uncounts", ds.shm_nattch == 1 && ds.shm_lpid == getpid(), "nattch %lu lpid %d",
	      (unsigned long)ds.shm_nattch, ds.shm_lpid);
	EXPECT_ERRNO("shmdt_not_attached", shmdt(p + 4096), EINVAL);
	EXPECT_ERRNO("shmat_unaligned", shmat(id, p + 1, 0), EINVAL);
	EXPECT_ERRNO("shmat_bad_id", shmat(id + 1, NULL, 0), EINVAL);
	EXPECT_OK("rmid_attached", shmctl(id, IPC_RMID, NULL));
	CHECK("rmid_keeps_mapping", strcmp(p, "parent") == 0, "'%s'", p);
	EXPECT_OK("shmdt_after_rmid", shmdt(p));

	/* Keys: made by a child that exits, found by the parent. */
	key_t key = 0x5eed0000 + (getpid() & 0xffff);
	child = fork();
	if (child == 0) {
		int cid = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
		char *c = cid < 0 ? (char *)-1 : shmat(cid, NULL, 0);
		if (c == (char *)-1)
			_exit(1);
		strcpy(c, "outlives me");
		_exit(0);
	}
	waitpid(child, &status, 0);
	int kid = shmget(key, 0, 0);
	char *k = kid < 0 ? (char *)-1 : shmat(kid, NULL, SHM_RDONLY);
	CHECK("survives_creator", WIFEXITED(status) && WEXITSTATUS(status) == 0 && k != (char *)-1 &&
	      strcmp(k, "outlives me") == 0, "status %#x id %d", status, kid);
	EXPECT_ERRNO("create_excl_exists", shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
	EXPECT_ERRNO("existing_too_small", shmget(key, 8192, 0), EINVAL);
	EXPECT_ERRNO("no_such_key", shmget(key + 1, 4096, 0), ENOENT);
	EXPECT_ERRNO("create_size_zero", shmget(IPC_PRIVATE, 0, IPC_CREAT | 0600), EINVAL);
	CHECK("user_denied", as_nobody(nobody_shm, key) == 0, "step %d", as_nobody(nobody_shm, key));
	char buf[4096], line[64];
	slurp("proc/sysvipc/shm", buf, sizeof(buf));
	snprintf(line, sizeof(line), "%10d %10d  %4o %21d", key, kid, 0600, 4096);
	CHECK("proc_sysvipc_shm", strncmp(buf, "       key      shmid perms", 27) == 0 && strstr(buf, line), "%s",
	      buf);
	shmdt(k);
	EXPECT_OK("rmid", shmctl(kid, IPC_RMID, NULL));
	EXPECT_ERRNO("rmid_frees_key", shmget(key, 0, 0), ENOENT);
	EXPECT_ERRNO("stat_removed", shmctl(kid, IPC_STAT, &ds), EINVAL);
}

static long sem_ops(int id, struct sembuf *sops, size_t n)
{
	return semop(id, sops, n);
}

static void check_sem(void)
{
	int id = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
	REQUIRE_VOID(id >= 0);
	CHECK("starts_zero", semval(id, 0) == 0 && semval(id, 1) == 0, "%d %d", semval(id, 0), semval(id, 1));
	EXPECT_OK("setval", semctl(id, 0, SETVAL, (union semun){.val = 3}));
	struct sembuf down2 = {0, -2, 0};
	EXPECT_OK("semop_down", sem_ops(id, &down2, 1));
	CHECK("semop_value", semval(id, 0) == 1 && semctl(id, 0, GETPID) == getpid(), "val %d", semval(id, 0));
	down2.sem_flg = IPC_NOWAIT;
	EXPECT_ERRNO("nowait_eagain", sem_ops(id, &down2, 1), EAGAIN);
	struct sembuf pair[2] = {{0, -1, 0}, {1, -1, IPC_NOWAIT}};
	EXPECT_ERRNO("all_or_nothing", sem_ops(id, pair, 2), EAGAIN);
	CHECK("all_or_nothing_value", semval(id, 0) == 1, "val %d", semval(id, 0));
	struct sembuf bad = {5, 1, 0};
	EXPECT_ERRNO("efbig", sem_ops(id, &bad, 1), EFBIG);
	EXPECT_ERRNO("setval_erange", semctl(id, 0, SETVAL, (union semun){.val = 40000}), ERANGE);
	struct sembuf big = {0, 32767, 0};
	EXPECT_ERRNO("semop_erange", sem_ops(id, &big, 1), ERANGE);
	EXPECT_ERRNO("nsops_zero", sem_ops(id, &big, 0), EINVAL);
	static struct sembuf many[501];
	EXPECT_ERRNO("nsops_e2big", sem_ops(id, many, 501), E2BIG);

	/* A sleeper woken by another process's increment. */
	pid_t child = fork();
	if (child == 0) {
		usleep(200 * 1000);
		struct sembuf up = {0, 1, 0};
		_exit(semop(id, &up, 1) == 0 ? 0 : 1);
	}
	long long t0 = now_ms();
	struct sembuf wait2 = {0, -2, 0};
	long r = sem_ops(id, &wait2, 1);
	CHECK("blocks_until_up", r == 0 && now_ms() - t0 >= 150 && semval(id, 0) == 0, "ret %ld after %lld ms", r,
	      now_ms() - t0);
	waitpid(child, NULL, 0);

	/* GETNCNT sees a sleeper; SETVAL wakes it. */
	child = fork();
	if (child == 0) {
		struct sembuf d = {1, -1, 0};
		_exit(semop(id, &d, 1) == 0 ? 0 : 1);
	}
	int ncnt = 0;
	for (int i = 0; i < 200 && (ncnt = semctl(id, 1, GETNCNT)) != 1; i++)
		usleep(10 * 1000);
	CHECK("getncnt", ncnt == 1, "GETNCNT %d", ncnt);
	semctl(id, 1, SETVAL, (union semun){.val = 1});
	int status = 0;
	waitpid(child, &status, 0);
	CHECK("setval_wakes", WIFEXITED(status) && WEXITSTATUS(status) == 0 && semval(id, 1) == 0, "status %#x",
	      status);

	struct sembuf zero = {0, 0, 0};
	EXPECT_OK("wait_for_zero", sem_ops(id, &zero, 1));
	struct timespec ts = {0, 100 * 1000 * 1000};
	struct sembuf d1 = {1, -1, 0};
	t0 = now_ms();
	EXPECT_ERRNO("semtimedop_timeout", semtimedop(id, &d1, 1, &ts), EAGAIN);
	CHECK("semtimedop_waited", now_ms() - t0 >= 80, "%lld ms", now_ms() - t0);

	/* SEM_UNDO: undone when the process exits. */
	child = fork();
	if (child == 0) {
		struct sembuf up = {0, 5, SEM_UNDO};
		_exit(semop(id, &up, 1) == 0 && semval(id, 0) == 5 ? 0 : 1);
	}
	waitpid(child, &status, 0);
	CHECK("sem_undo_at_exit", WIFEXITED(status) && WEXITSTATUS(status) == 0 && semval(id, 0) == 0,
	      "status %#x val %d", status, semval(id, 0));

	unsigned short all[2] = {7, 9}, got[2] = {0, 0};
	EXPECT_OK("setall", semctl(id, 0, SETALL, (union semun){.array = all}));
	EXPECT_OK("getall", semctl(id, 0, GETALL, (union semun){.array = got}));
	CHECK("getall_values", got[0] == 7 && got[1] == 9, "%u %u", got[0], got[1]);
	struct semid_ds ds;
	EXPECT_OK("sem_ipc_stat", semctl(id, 0, IPC_STAT, (union semun){.buf = &ds}));
	CHECK("sem_ipc_stat_fields", ds.sem_nsems == 2 && (ds.sem_perm.mode & 0777) == 0600, "nsems %lu mode %o",
	      (unsigned long)ds.sem_nsems, ds.sem_perm.mode);
	char buf[4096], line[64];
	slurp("proc/sysvipc/sem", buf, sizeof(buf));
	snprintf(line, sizeof(line), "%10d %10d  %4o %10d", 0, id, 0600, 2);
	CHECK("proc_sysvipc_sem", strstr(buf, line), "%s", buf);

	/* Removal wakes a sleeper with EIDRM. */
	semctl(id, 1, SETVAL, (union semun){.val = 0});
	child = fork();
	if (child == 0) {
		struct sembuf d = {1, -1, 0};
		_exit(semop(id, &d, 1) < 0 && errno == EIDRM ? 0 : 1);
	}
	for (int i = 0; i < 200 && semctl(id, 1, GETNCNT) != 1; i++)
		usleep(10 * 1000);
	EXPECT_OK("sem_rmid", semctl(id, 0, IPC_RMID));
	waitpid(child, &status, 0);
	CHECK("rmid_eidrm", WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
	EXPECT_ERRNO("removed_einval", semctl(id, 0, GETVAL), EINVAL);

	key_t key = 0x5e3a0000 + (getpid() & 0xffff);
	int kid = semget(key, 2, IPC_CREAT | IPC_EXCL | 0600);
	CHECK("keyed_create", kid >= 0, "errno %s", errno_name(errno));
	CHECK("keyed_find", semget(key, 0, 0) == kid, "errno %s", errno_name(errno));
	EXPECT_ERRNO("keyed_more_sems", semget(key, 3, 0), EINVAL);
	EXPECT_ERRNO("create_zero_sems", semget(IPC_PRIVATE, 0, IPC_CREAT | 0600), EINVAL);
	semctl(kid, 0, IPC_RMID);
}


struct msgbuf64 {
	long mtype;
	char mtext[64];
};

static long snd(int id, long type, const char *text, int flg)
{
	struct msgbuf64 m = {.mtype = type};
	strncpy(m.mtext, text, sizeof(m.mtext) - 1);
	return msgsnd(id, &m, strlen(text) + 1, flg);
}

/* Receives into `m`; the text length or -1. */
static long rcv(int id, struct msgbuf64 *m, size_t size, long type, int flg)
{
	memset(m, 0, sizeof(*m));
	return msgrcv(id, m, size, type, flg);
}

static void check_msg(void)
{
	int id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	REQUIRE_VOID(id >= 0);
	struct msgbuf64 m;
	EXPECT_ERRNO("empty_nowait", rcv(id, &m, sizeof(m.mtext), 0, IPC_NOWAIT), ENOMSG);
	EXPECT_ERRNO("type_zero_refused", snd(id, 0, "x", 0), EINVAL);
	REQUIRE_VOID(snd(id, 3, "three", 0) == 0 && snd(id, 1, "one", 0) == 0 && snd(id, 2, "two", 0) == 0);
	struct msqid_ds ds;
	EXPECT_OK("msg_ipc_stat", msgctl(id, IPC_STAT, &ds));
	CHECK("msg_ipc_stat_fields", ds.msg_qnum == 3 && ds.msg_cbytes == 14 && ds.msg_qbytes == 16384 &&
	      ds.msg_lspid == getpid(), "qnum %lu cbytes %lu qbytes %lu", (unsigned long)ds.msg_qnum,
	      (unsigned long)ds.msg_cbytes, (unsigned long)ds.msg_qbytes);
	char buf[4096], line[80];
	slurp("proc/sysvipc/msg", buf, sizeof(buf));
	snprintf(line, sizeof(line), "%10d %10d  %4o  %10d %10d", 0, id, 0600, 14, 3);
	CHECK("proc_sysvipc_msg", strstr(buf, line), "%s", buf);
	long n = rcv(id, &m, sizeof(m.mtext), 2, 0);
	CHECK("by_type", n == 4 && m.mtype == 2 && strcmp(m.mtext, "two") == 0, "n %ld type %ld", n, m.mtype);
	n = rcv(id, &m, sizeof(m.mtext), -5, 0);
	CHECK("lowest_type", n == 4 && m.mtype == 1, "n %ld type %ld", n, m.mtype);
	REQUIRE_VOID(snd(id, 7, "seven", 0) == 0);
	n = rcv(id, &m, sizeof(m.mtext), 3, MSG_EXCEPT);
	CHECK("msg_except", n == 6 && m.mtype == 7, "n %ld type %ld", n, m.mtype);
	EXPECT_ERRNO("e2big", rcv(id, &m, 2, 0, 0), E2BIG);
	n = rcv(id, &m, 2, 0, MSG_NOERROR);
	CHECK("msg_noerror_cuts", n == 2 && m.mtype == 3 && memcmp(m.mtext, "th", 2) == 0, "n %ld", n);

	/* A receiver sleeps until a sender comes. */
	pid_t child = fork();
	if (child == 0) {
		usleep(200 * 1000);
		_exit(snd(id, 9, "late", 0) == 0 ? 0 : 1);
	}
	long long t0 = now_ms();
	n = rcv(id, &m, sizeof(m.mtext), 9, 0);
	CHECK("rcv_blocks", n == 5 && now_ms() - t0 >= 150 && strcmp(m.mtext, "late") == 0, "n %ld after %lld ms", n,
	      now_ms() - t0);
	waitpid(child, NULL, 0);

	/* A sender sleeps on a full queue. */
	ds.msg_qbytes = 10;
	EXPECT_OK("msg_ipc_set", msgctl(id, IPC_SET, &ds));
	REQUIRE_VOID(snd(id, 1, "123456789", 0) == 0);
	EXPECT_ERRNO("full_nowait", snd(id, 1, "x", IPC_NOWAIT), EAGAIN);
	child = fork();
	if (child == 0) {
		usleep(200 * 1000);
		struct msgbuf64 c;
		_exit(rcv(id, &c, sizeof(c.mtext), 0, 0) == 10 ? 0 : 1);
	}
	t0 = now_ms();
	CHECK("snd_blocks", snd(id, 1, "x", 0) == 0 && now_ms() - t0 >= 150, "after %lld ms (%s)", now_ms() - t0,
	      errno_name(errno));
	waitpid(child, NULL, 0);

	/* Removal wakes a sleeping receiver with EIDRM. */
	rcv(id, &m, sizeof(m.mtext), 0, IPC_NOWAIT);
	child = fork();
	if (child == 0) {
		struct msgbuf64 c;
		_exit(rcv(id, &c, sizeof(c.mtext), 0, 0) < 0 && errno == EIDRM ? 0 : 1);
	}
	usleep(200 * 1000);
	EXPECT_OK("msg_rmid", msgctl(id, IPC_RMID, NULL));
	int status = 0;
	waitpid(child, &status, 0);
	CHECK("msg_rmid_eidrm", WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
	EXPECT_ERRNO("msg_removed", msgctl(id, IPC_STAT, &ds), EINVAL);
	slurp("proc/sys/kernel/msgmnb", buf, sizeof(buf));
	CHECK("sysctl_msgmnb", strcmp(buf, "16384\n") == 0, "'%s'", buf);
	slurp("proc/sys/kernel/msgmax", buf, sizeof(buf));
	CHECK("sysctl_msgmax", strcmp(buf, "8192\n") == 0, "'%s'", buf);
}

static void check_limits(void)
{
	char buf[128];
	slurp("proc/sys/kernel/sem", buf, sizeof(buf));
	CHECK("sysctl_sem", strcmp(buf, "32000\t1024000000\t500\t32000\n") == 0, "'%s'", buf);
	slurp("proc/sys/kernel/shmmni", buf, sizeof(buf));
	CHECK("sysctl_shmmni", strcmp(buf, "4096\n") == 0, "'%s'", buf);
	slurp("proc/sys/kernel/shmmax", buf, sizeof(buf));
	CHECK("sysctl_shmmax", strcmp(buf, "18446744073692774399\n") == 0, "'%s'", buf);
}

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	mkdir("proc", 0555);
	REQUIRE(mount("proc", "proc", "proc", 0, NULL) == 0);
	check_shm();
	check_sem();
	check_msg();
	check_limits();
	umount("proc");
	return test_done();
}
