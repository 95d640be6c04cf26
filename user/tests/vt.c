/*
 * Virtual terminals: the tty0..tty63 nodes devtmpfs makes, sysfs's view
 * (tty0/active, ttyN/dev), switching (VT_ACTIVATE, VT_WAITACTIVE,
 * VT_GETSTATE), allocation (VT_OPENQRY, VT_DISALLOCATE and its EBUSY),
 * display and keyboard modes (KDGETMODE, KDSKBMODE...), the default
 * keymap through KDGKBENT and busybox dumpkmap (the whole dump checked
 * against Linux's) and loadkmap (KDSKBENT), VT_PROCESS switching with
 * VT_RELDISP, the console answering ESC [ 6 n on its input, through
 * /dev/tty0 too, and what a program draws, read back through /dev/vcsa2
 * and compared with Linux's screen cell by cell (text and attributes).
 * Linux: drivers/tty/vt/vt.c, vt_ioctl.c, keyboard.c, defkeymap.c_shipped.
 */
#include "test.h"
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <termios.h>

/* include/uapi/linux/vt.h and kd.h (musl has no kernel headers). */
#define VT_OPENQRY 0x5600
#define VT_GETMODE 0x5601
#define VT_SETMODE 0x5602
#define VT_GETSTATE 0x5603
#define VT_RELDISP 0x5605
#define VT_AUTO 0x00
#define VT_PROCESS 0x01
#define VT_ACTIVATE 0x5606
#define VT_WAITACTIVE 0x5607
#define VT_DISALLOCATE 0x5608
#define KDGKBTYPE 0x4B33
#define KB_101 0x02
#define KDSETMODE 0x4B3A
#define KDGETMODE 0x4B3B
#define KD_TEXT 0x00
#define KDGKBMODE 0x4B44
#define KDSKBMODE 0x4B45
#define K_XLATE 0x01
#define K_UNICODE 0x03
#define KDGKBMETA 0x4B62
#define K_ESCPREFIX 0x04
#define KDGKBLED 0x4B64
#define KDGKBENT 0x4B46
#define K_HOLE 0x0200
#define K_NOSUCHMAP 0x027f
struct vt_mode {
	char mode, waitv;
	short relsig, acqsig, frsig;
};
struct vt_stat {
	unsigned short v_active, v_signal, v_state;
};
struct kbentry {
	unsigned char kb_table, kb_index;
	unsigned short kb_value;
};
#define KDGKBSENT 0x4B48
#define KDSKBSENT 0x4B49
struct kbsentry {
	unsigned char kb_func;
	unsigned char kb_string[512];
};

/* FNV-1a of busybox dumpkmap's output for Linux 6.1's default keymap
 * (defkeymap.c_shipped): "bkeymap", 256 flags, 10 tables of 128 keys. */
#define DUMPKMAP_SIZE 2823
#define DUMPKMAP_FNV 0xb175ad851b8744c7ULL
/* The same after loadkmap loaded that dump back (see check_keymap). */
#define LOADKMAP_FNV 0xae894adb0b998b72ULL
/* FNV-1a of /dev/vcsa2 after screen_script, as Linux draws it. */
#define VCSA_FNV 0x82b871f5ec836d2aULL

static int kbent(int fd, int table, int index)
{
	struct kbentry e = {.kb_table = (unsigned char)table, .kb_index = (unsigned char)index};
	return ioctl(fd, KDGKBENT, &e) < 0 ? -1 : e.kb_value;
}

static void check_nodes_and_sysfs(void)
{
	struct stat st;
	CHECK("dev_tty0", stat("dev/tty0", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(4, 0),
	      "stat dev/tty0");
	CHECK("dev_tty5", stat("dev/tty5", &st) == 0 && st.st_rdev == makedev(4, 5), "stat dev/tty5");
	CHECK("dev_tty63", stat("dev/tty63", &st) == 0 && st.st_rdev == makedev(4, 63), "stat dev/tty63");
	CHECK("no_dev_tty64", stat("dev/tty64", &st) < 0 && errno == ENOENT, "dev/tty64 exists");
	char buf[64];
	CHECK("sysfs_tty3_dev", slurp("sys/class/tty/tty3/dev", buf, sizeof(buf)) > 0 && !strcmp(buf, "4:3\n"),
	      "got '%s'", buf);
	CHECK("sysfs_active_tty1", slurp("sys/class/tty/tty0/active", buf, sizeof(buf)) > 0 && !strcmp(buf, "tty1\n"),
	      "got '%s'", buf);
	static char devices[4096];
	CHECK("proc_devices_major_4",
	      slurp("proc/devices", devices, sizeof(devices)) > 0 && strstr(devices, "\n  4 /dev/vc/0\n  4 tty\n  4 ttyS\n"),
	      "%.200s", devices);
}

/* Waits up to 2 s for input on `fd` and reads it, NUL-terminated. */
static ssize_t read_answer(int fd, char *buf, size_t size)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (poll(&p, 1, 2000) != 1)
		return -1;
	usleep(20000); /* the whole answer, not its first byte */
	ssize_t n = read(fd, buf, size - 1);
	buf[n > 0 ? n : 0] = 0;
	return n;
}

static void check_modes(int tty0)
{
	unsigned char kb = 0;
	CHECK("kdgkbtype", ioctl(tty0, KDGKBTYPE, &kb) == 0 && kb == KB_101, "type %d (errno %d)", kb, errno);
	int console = open("/dev/console", O_RDWR | O_NOCTTY);
	EXPECT_ERRNO("kdgkbtype_serial_enotty", ioctl(console, KDGKBTYPE, &kb), ENOTTY);
	close(console);
	int mode = -1;
	CHECK("kdgetmode_text", ioctl(tty0, KDGETMODE, &mode) == 0 && mode == KD_TEXT, "mode %d", mode);
	EXPECT_ERRNO("kdsetmode_bad", ioctl(tty0, KDSETMODE, 7), EINVAL);
	CHECK("kdgkbmode_unicode", ioctl(tty0, KDGKBMODE, &mode) == 0 && mode == K_UNICODE, "mode %d", mode);
	EXPECT_OK("kdskbmode_xlate", ioctl(tty0, KDSKBMODE, K_XLATE));
	CHECK("kdgkbmode_xlate", ioctl(tty0, KDGKBMODE, &mode) == 0 && mode == K_XLATE, "mode %d", mode);
	EXPECT_OK("kdskbmode_unicode", ioctl(tty0, KDSKBMODE, K_UNICODE));
	EXPECT_ERRNO("kdskbmode_bad", ioctl(tty0, KDSKBMODE, 9), EINVAL);
	CHECK("kdgkbmeta_escprefix", ioctl(tty0, KDGKBMETA, &mode) == 0 && mode == K_ESCPREFIX, "meta %d", mode);
	unsigned char leds = 0xff;
	CHECK("kdgkbled", ioctl(tty0, KDGKBLED, &leds) == 0 && leds == 0, "leds %#x", leds);
	struct vt_mode vm = {.mode = 5};
	CHECK("vt_getmode_auto", ioctl(tty0, VT_GETMODE, &vm) == 0 && vm.mode == 0, "mode %d", vm.mode);
	vm.mode = 5;
	EXPECT_ERRNO("vt_setmode_bad", ioctl(tty0, VT_SETMODE, &vm), EINVAL);
	vm.mode = 0;
	EXPECT_OK("vt_setmode_auto", ioctl(tty0, VT_SETMODE, &vm));
}

static void check_keymap(int tty0)
{
	CHECK("kdgkbent_plain_q", kbent(tty0, 0, 16) == 0x0b71, "got %#x", kbent(tty0, 0, 16));
	CHECK("kdgkbent_shift_1", kbent(tty0, 1, 2) == 0x0021, "got %#x", kbent(tty0, 1, 2));
	CHECK("kdgkbent_ctrl_alt_del", kbent(tty0, 12, 111) == 0x020c, "got %#x", kbent(tty0, 12, 111));
	CHECK("kdgkbent_no_map", kbent(tty0, 3, 0) == K_NOSUCHMAP, "got %#x", kbent(tty0, 3, 0));
	CHECK("kdgkbent_no_map_hole", kbent(tty0, 3, 7) == K_HOLE, "got %#x", kbent(tty0, 3, 7));
	CHECK("kdgkbent_key_200_hole", kbent(tty0, 0, 200) == K_HOLE, "got %#x", kbent(tty0, 0, 200));

	static struct kbsentry ks;
	ks.kb_func = 0;
	CHECK("kdgkbsent_f1", ioctl(tty0, KDGKBSENT, &ks) == 0 && !strcmp((char *)ks.kb_string, "\033[[A"), "'%s'",
	      (char *)ks.kb_string + 1);
	ks.kb_func = 29;
	CHECK("kdgkbsent_pause", ioctl(tty0, KDGKBSENT, &ks) == 0 && !strcmp((char *)ks.kb_string, "\033[P"), "'%s'",
	      (char *)ks.kb_string + 1);
	ks.kb_func = 27;
	CHECK("kdgkbsent_unset", ioctl(tty0, KDGKBSENT, &ks) == 0 && ks.kb_string[0] == 0, "'%s'", (char *)ks.kb_string);
	ks.kb_func = 100;
	strcpy((char *)ks.kb_string, "vt test");
	EXPECT_OK("kdskbsent", ioctl(tty0, KDSKBSENT, &ks));
	memset(ks.kb_string, 'x', sizeof(ks.kb_string));
	CHECK("kdgkbsent_set", ioctl(tty0, KDGKBSENT, &ks) == 0 && !strcmp((char *)ks.kb_string, "vt test"), "'%.20s'",
	      (char *)ks.kb_string);
	memset(ks.kb_string, 'x', sizeof(ks.kb_string));
	EXPECT_ERRNO("kdskbsent_unterminated", ioctl(tty0, KDSKBSENT, &ks), EINVAL);

	char out[256];
	int rc = run_sh("dumpkmap <dev/tty1 >map", out, sizeof(out));
	static unsigned char map[4096];
	int fd = open("map", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, map, sizeof(map));
	close(fd);
	unsigned long long h = 0xcbf29ce484222325ULL;
	for (ssize_t i = 0; i < n; i++)
		h = (h ^ map[i]) * 0x100000001b3ULL;
	CHECK("dumpkmap", rc == 0 && n == DUMPKMAP_SIZE && h == DUMPKMAP_FNV, "rc %d, %zd bytes, fnv %#llx: %s", rc,
	      n, h, out);
	/*
	 * loadkmap sets every entry back through KDSKBENT (the console is its
	 * stdout). Tables 6, 9 and 10 did not exist: setting their holes makes
	 * them, so their key 0 now reads K_ALLOCATED (0x027e), as on Linux.
	 */
	rc = run_sh("loadkmap <map >dev/tty1 && dumpkmap <dev/tty1 >map", out, sizeof(out));
	fd = open("map", O_RDONLY);
	n = fd < 0 ? -1 : read(fd, map, sizeof(map));
	close(fd);
	h = 0xcbf29ce484222325ULL;
	for (ssize_t i = 0; i < n; i++)
		h = (h ^ map[i]) * 0x100000001b3ULL;
	CHECK("loadkmap", rc == 0 && n == DUMPKMAP_SIZE && h == LOADKMAP_FNV, "rc %d, %zd bytes, fnv %#llx: %s", rc, n,
	      h, out);
	CHECK("kdgkbent_allocated", kbent(tty0, 9, 0) == 0x027e && kbent(tty0, 9, 5) == K_HOLE, "got %#x",
	      kbent(tty0, 9, 0));
}

static void check_switching(int tty0)
{
	struct vt_stat st = {.v_signal = 0x1234};
	CHECK("vt_getstate", ioctl(tty0, VT_GETSTATE, &st) == 0 && st.v_active == 1 && (st.v_state & 3) == 3 &&
	      st.v_signal == 0x1234,
	      "active %d state %#x signal %#x", st.v_active, st.v_state, st.v_signal);
	int free_vt = 0;
	CHECK("vt_openqry", ioctl(tty0, VT_OPENQRY, &free_vt) == 0 && free_vt == 2, "got %d", free_vt);
	EXPECT_ERRNO("vt_activate_0", ioctl(tty0, VT_ACTIVATE, 0), ENXIO);
	EXPECT_ERRNO("vt_activate_64", ioctl(tty0, VT_ACTIVATE, 64), ENXIO);
	EXPECT_OK("vt_activate_3", ioctl(tty0, VT_ACTIVATE, 3));
	EXPECT_OK("vt_waitactive_3", ioctl(tty0, VT_WAITACTIVE, 3));
	char buf[64];
	CHECK("sysfs_active_tty3", slurp("sys/class/tty/tty0/active", buf, sizeof(buf)) > 0 && !strcmp(buf, "tty3\n"),
	      "got '%s'", buf);
	CHECK("vt_getstate_3", ioctl(tty0, VT_GETSTATE, &st) == 0 && st.v_active == 3, "active %d", st.v_active);
	EXPECT_ERRNO("vt_disallocate_front", ioctl(tty0, VT_DISALLOCATE, 3), EBUSY);
	EXPECT_OK("vt_activate_1", ioctl(tty0, VT_ACTIVATE, 1));
	EXPECT_OK("vt_waitactive_1", ioctl(tty0, VT_WAITACTIVE, 1));
	EXPECT_OK("vt_disallocate_3", ioctl(tty0, VT_DISALLOCATE, 3));

	int tty5 = open("dev/tty5", O_RDWR | O_NOCTTY);
	CHECK("open_tty5", tty5 >= 0, "open");
	CHECK("vt_getstate_tty5", ioctl(tty0, VT_GETSTATE, &st) == 0 && (st.v_state & (1 << 5)), "state %#x",
	      st.v_state);
	EXPECT_ERRNO("vt_disallocate_open", ioctl(tty0, VT_DISALLOCATE, 5), EBUSY);
	close(tty5);
	/* Linux drops a closed tty's hold on its console from a work item. */
	int r = -1;
	for (int i = 0; i < 50 && r < 0; i++) {
		r = ioctl(tty0, VT_DISALLOCATE, 5);
		if (r < 0 && errno != EBUSY)
			break;
		if (r < 0)
			usleep(20000);
	}
	CHECK("vt_disallocate_closed", r == 0, "errno %d", errno);
	/* A session leader's write-only open does not make tty6 its terminal. */
	pid_t child = fork();
	if (child == 0) {
		setsid();
		int w = open("dev/tty6", O_WRONLY);
		int bits = w >= 0 && open("/dev/tty", O_RDWR) < 0 && errno == ENXIO;
		close(w);
		int rw = open("dev/tty6", O_RDWR);
		bits |= (rw >= 0 && open("/dev/tty", O_RDWR) >= 0) << 1;
		_exit(bits);
	}
	int status = wait_status(child);
	CHECK("ctty_needs_read_access", WIFEXITED(status) && WEXITSTATUS(status) == 3, "status %#x", status);
	EXPECT_ERRNO("vt_disallocate_64", ioctl(tty0, VT_DISALLOCATE, 64), ENXIO);
	EXPECT_OK("vt_disallocate_unused", ioctl(tty0, VT_DISALLOCATE, 0));
}

/*
 * VT_PROCESS: with tty2 in front and under our control, a switch away
 * waits for us: relsig arrives, tty2 stays in front until VT_RELDISP 1.
 */
static void check_process_mode(int tty0, int tty2)
{
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	EXPECT_ERRNO("vt_reldisp_auto", ioctl(tty2, VT_RELDISP, 1), EINVAL);
	struct vt_mode vm = {.mode = VT_PROCESS, .relsig = SIGUSR1, .acqsig = SIGUSR1};
	EXPECT_OK("vt_setmode_process", ioctl(tty2, VT_SETMODE, &vm));
	EXPECT_OK("vt_activate_1_asks", ioctl(tty0, VT_ACTIVATE, 1));
	struct timespec two_s = {.tv_sec = 2};
	CHECK("relsig_sent", sigtimedwait(&usr1, NULL, &two_s) == SIGUSR1, "errno %d", errno);
	struct vt_stat st;
	CHECK("switch_waits", ioctl(tty0, VT_GETSTATE, &st) == 0 && st.v_active == 2, "active %d", st.v_active);
	EXPECT_OK("vt_reldisp_release", ioctl(tty2, VT_RELDISP, 1));
	EXPECT_OK("vt_waitactive_1_again", ioctl(tty0, VT_WAITACTIVE, 1));
	vm.mode = VT_AUTO;
	EXPECT_OK("vt_setmode_auto_again", ioctl(tty2, VT_SETMODE, &vm));
	sigprocmask(SIG_UNBLOCK, &usr1, NULL);

	/* An owner that is gone cannot hold a switch up: tty2 goes back to VT_AUTO. */
	EXPECT_OK("vt_activate_2_again", ioctl(tty0, VT_ACTIVATE, 2));
	EXPECT_OK("vt_waitactive_2_again", ioctl(tty0, VT_WAITACTIVE, 2));
	pid_t owner = fork();
	if (owner == 0) {
		struct vt_mode mine = {.mode = VT_PROCESS, .relsig = SIGUSR1, .acqsig = SIGUSR1};
		_exit(ioctl(tty2, VT_SETMODE, &mine) == 0 ? 0 : 1);
	}
	int status = wait_status(owner);
	CHECK("owner_set_process_mode", WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
	EXPECT_OK("vt_activate_1_owner_gone", ioctl(tty0, VT_ACTIVATE, 1));
	st.v_active = 0;
	for (int i = 0; i < 100 && st.v_active != 1; i++) {
		ioctl(tty0, VT_GETSTATE, &st);
		if (st.v_active != 1)
			usleep(20000);
	}
	CHECK("switch_without_owner", st.v_active == 1, "active %d", st.v_active);
	vm.mode = 9;
	CHECK("owner_gone_auto", ioctl(tty2, VT_GETMODE, &vm) == 0 && vm.mode == VT_AUTO, "mode %d", vm.mode);
}

/* What the console program draws; its screen is compared with Linux's. */
static const char *const screen_script[] = {
	"\033[2J\033[H",
	"Hello\tTab\r\n",
	"\033[1;31mbold red\033[0m \033[7mrev\033[27m \033[4mul\033[24m \033[2mhalf\033[22m \033[5mblink\033[25m",
	" \033[3mit\033[23m\r\n",
	"\033[5;10Hat 5,10\033[K",
	"\033[2;1H\033[2Pxx\033[3@",
	"\033[10;1Hline10\r\n\033[1M",
	"\033[20;22r\033[22;1Hscroll\n\n\n\033[r",
	"\033[44;33mcolour\033[m\033[s\033[12;40Hsaved\033[u!",
	"\033[13;1H\033[?7l",
	"wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww",
	"\033[?7h\033[14;75Hwrap!wrap",
	"\033[16;1H\033[92;104mbright\033[39;49m def\033[0m",
	"\033[17;1H\033[38;5;196mx\033[38;2;0;255;0my\033[48;5;21mz\033[0m\033[38;7mq\033[0m",
	"\033[18;1Habcdef\033[18;3H\033[1X\033[4h12\033[4l",
	"\033[19;1Hqwerty\033[1Ke\033[23;1Hzzz\033[2K",
	"\033[21;1H\033E\033Mrev-lf\033D\033[E.\033[2F,",
	"\033[24;79HAB\tC\033[24;1H\033[3g\tX",
	"\033]0;title\007\033]Pa1b2c3dafter-palette\033[1;40H\033[5Aup\033[9Ddn\033[3Bb",
	"\033[8;1H\033[1;32m\033[s\033[0mplain\033[u\033[K\033[2;4r\033[?6h\033[HO\033[?6l\033[r",
	"\033[20;30H\303\251\342\224\200\344\270\200|\342\200\213|\377|\303(|\300\201|\355\240\200|",
	"\033[15;1H\033[41m\033[1L\033[2@tail\033[0m\033[25;10H",
};

static void check_screen(int tty2)
{
	REQUIRE_VOID(mknod("vcsa2", S_IFCHR | 0600, makedev(7, 130)) == 0 || errno == EEXIST);
	REQUIRE_VOID(mknod("vcs2", S_IFCHR | 0600, makedev(7, 2)) == 0 || errno == EEXIST);
	for (size_t i = 0; i < sizeof(screen_script) / sizeof(screen_script[0]); i++)
		REQUIRE_VOID(write(tty2, screen_script[i], strlen(screen_script[i])) > 0);
	static unsigned char vcsa[4 + 2 * 80 * 25 + 1];
	int fd = open("vcsa2", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, vcsa, sizeof(vcsa));
	close(fd);
	CHECK("vcsa_header", n == 4004 && vcsa[0] == 25 && vcsa[1] == 80 && vcsa[2] == 9 && vcsa[3] == 24,
	      "%zd bytes, %d %d %d %d", n, vcsa[0], vcsa[1], vcsa[2], vcsa[3]);
	unsigned long long h = 0xcbf29ce484222325ULL;
	for (ssize_t i = 0; i < n; i++)
		h = (h ^ vcsa[i]) * 0x100000001b3ULL;
	CHECK("vcsa_screen_as_linux", n == 4004 && h == VCSA_FNV, "fnv %#llx", h);
	static unsigned char vcs[2 * 80 * 25];
	fd = open("vcs2", O_RDONLY);
	n = fd < 0 ? -1 : read(fd, vcs, sizeof(vcs));
	int same = n == 80 * 25;
	for (int i = 0; same && i < 80 * 25; i++)
		same = vcs[i] == vcsa[4 + 2 * i];
	CHECK("vcs_text", same, "%zd bytes", n);
	CHECK("vcs_lseek_end", lseek(fd, 0, SEEK_END) == 80 * 25, "size");
	close(fd);
	REQUIRE_VOID(mknod("vcs40", S_IFCHR | 0600, makedev(7, 40)) == 0 || errno == EEXIST);
	EXPECT_ERRNO("vcs_unallocated", open("vcs40", O_RDONLY), ENXIO);
}

/* A console answers ESC [ 6 n with the cursor position, as input. */
static void check_answer(int tty0)
{
	int tty2 = open("dev/tty2", O_RDWR | O_NOCTTY);
	REQUIRE_VOID(tty2 >= 0);
	struct winsize ws = {0};
	CHECK("winsize_80x25", ioctl(tty2, TIOCGWINSZ, &ws) == 0 && ws.ws_col == 80 && ws.ws_row == 25, "%dx%d",
	      ws.ws_col, ws.ws_row);
	struct termios t;
	tcgetattr(tty2, &t);
	CHECK("iutf8", (t.c_iflag & IUTF8) != 0, "c_iflag %#x", t.c_iflag);
	cfmakeraw(&t);
	tcsetattr(tty2, TCSANOW, &t);
	const char *draw = "\033[2J\033[Habc\033[6n";
	REQUIRE_VOID(write(tty2, draw, strlen(draw)) > 0);
	char buf[64];
	ssize_t n = read_answer(tty2, buf, sizeof(buf));
	CHECK("cursor_report", n > 0 && !strcmp(buf, "\033[1;4R"), "%zd bytes: '%s'", n, n > 0 ? buf + 1 : "");
	check_screen(tty2);

	/* /dev/tty0 is the console in front: make it tty2 and ask again. */
	struct vt_stat st;
	EXPECT_OK("vt_activate_2", ioctl(tty0, VT_ACTIVATE, 2));
	EXPECT_OK("vt_waitactive_2", ioctl(tty0, VT_WAITACTIVE, 2));
	int front = open("dev/tty0", O_RDWR | O_NOCTTY);
	REQUIRE_VOID(front >= 0 && write(front, "\033[3;7H\033[6n", 10) == 10);
	n = read_answer(tty2, buf, sizeof(buf));
	CHECK("tty0_is_front", n > 0 && !strcmp(buf, "\033[3;7R"), "%zd bytes: '%s'", n, n > 0 ? buf + 1 : "");
	close(front);
	check_process_mode(tty0, tty2);
	CHECK("vt_getstate_1", ioctl(tty0, VT_GETSTATE, &st) == 0 && st.v_active == 1, "active %d", st.v_active);
	close(tty2);
}

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	mkdir("dev", 0755);
	mkdir("sys", 0755);
	mkdir("proc", 0755);
	REQUIRE(mount("devtmpfs", "dev", "devtmpfs", 0, NULL) == 0);
	REQUIRE(mount("sysfs", "sys", "sysfs", 0, NULL) == 0);
	REQUIRE(mount("proc", "proc", "proc", 0, NULL) == 0);
	check_nodes_and_sysfs();
	int tty0 = open("dev/tty0", O_RDWR | O_NOCTTY);
	REQUIRE(tty0 >= 0);
	check_modes(tty0);
	check_keymap(tty0);
	check_switching(tty0);
	check_answer(tty0);
	close(tty0);
	umount("proc");
	umount("sys");
	umount("dev");
	return test_done();
}
