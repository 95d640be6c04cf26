/*
 * The clocks hwclock and date -s use: /dev/rtc0 (RTC_RD_TIME, RTC_SET_TIME
 * with its checks, one opener at a time, RTC_UIE_ON and a read waiting for
 * the update), settimeofday/clock_settime (EINVAL for bad values, EPERM for
 * a user, the clock stepped and restored), the timezone, adjtimex and
 * clock_adjtime as busybox's adjtimex reads them.
 * Linux: drivers/rtc/dev.c, drivers/rtc/rtc-cmos.c, kernel/time/time.c,
 * kernel/time/timekeeping.c, kernel/time/ntp.c.
 */
#include "test.h"
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/timex.h>

/* include/uapi/linux/rtc.h (musl has no kernel headers). */
struct rtc_time {
	int tm_sec, tm_min, tm_hour, tm_mday, tm_mon, tm_year, tm_wday, tm_yday, tm_isdst;
};
#define RTC_UIE_ON _IO('p', 0x03)
#define RTC_UIE_OFF _IO('p', 0x04)
#define RTC_RD_TIME _IOR('p', 0x09, struct rtc_time)
#define RTC_SET_TIME _IOW('p', 0x0a, struct rtc_time)
#define RTC_UF 0x10

static long long ns_of(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int nobody_set_time(int unused)
{
	(void)unused;
	struct timespec ts = {.tv_sec = 1700000000};
	struct timeval tv = {.tv_sec = 1700000000};
	struct timex tx = {.modes = ADJ_FREQUENCY};
	struct timex ro = {.modes = 0};
	int bits = 0;
	if (clock_settime(CLOCK_REALTIME, &ts) < 0 && errno == EPERM)
		bits |= 1;
	if (settimeofday(&tv, NULL) < 0 && errno == EPERM)
		bits |= 2;
	if (adjtimex(&tx) < 0 && errno == EPERM)
		bits |= 4;
	if (adjtimex(&ro) >= 0)
		bits |= 8;
	return bits;
}

static int nobody_rtc_set(int fd)
{
	struct rtc_time tm;
	if (ioctl(fd, RTC_RD_TIME, &tm) < 0)
		return 1;
	return ioctl(fd, RTC_SET_TIME, &tm) < 0 && errno == EACCES ? 0 : 2;
}

static void check_clock_setting(void)
{
	struct timespec bad = {.tv_sec = 1700000000, .tv_nsec = 1000000000};
	EXPECT_ERRNO("settime_bad_nsec", clock_settime(CLOCK_REALTIME, &bad), EINVAL);
	bad.tv_nsec = 0;
	bad.tv_sec = -1;
	EXPECT_ERRNO("settime_negative", clock_settime(CLOCK_REALTIME, &bad), EINVAL);
	struct timespec ok = {.tv_sec = 1700000000};
	EXPECT_ERRNO("settime_monotonic", clock_settime(CLOCK_MONOTONIC, &ok), EINVAL);
	EXPECT_ERRNO("settime_cputime", clock_settime(CLOCK_PROCESS_CPUTIME_ID, &ok), EINVAL);
	struct timeval tv = {.tv_sec = 1700000000, .tv_usec = 1000000};
	EXPECT_ERRNO("settimeofday_bad_usec", settimeofday(&tv, NULL), EINVAL);
	CHECK("user_cannot_set", as_nobody(nobody_set_time, 0) == 15, "status %d", as_nobody(nobody_set_time, 0));

	/* Step the clock an hour ahead, then put it back. */
	long long real0 = ns_of(CLOCK_REALTIME), mono0 = ns_of(CLOCK_MONOTONIC);
	struct timespec ahead = {.tv_sec = (time_t)(real0 / 1000000000LL) + 3600};
	EXPECT_OK("settime_realtime", clock_settime(CLOCK_REALTIME, &ahead));
	long long diff = ns_of(CLOCK_REALTIME) - real0;
	CHECK("settime_steps", diff > 3598000000000LL && diff < 3602000000000LL, "moved %lld ns", diff);
	tv.tv_sec = 86400 * 365;
	tv.tv_usec = 0;
	EXPECT_OK("settimeofday", settimeofday(&tv, NULL));
	CHECK("settimeofday_time", time(NULL) >= tv.tv_sec && time(NULL) < tv.tv_sec + 3, "time %lld",
	      (long long)time(NULL));
	long long back = real0 + ns_of(CLOCK_MONOTONIC) - mono0;
	struct timespec restore = {.tv_sec = (time_t)(back / 1000000000LL), .tv_nsec = (long)(back % 1000000000LL)};
	EXPECT_OK("settime_restore", clock_settime(CLOCK_REALTIME, &restore));

	/*
	 * Raw calls: musl's wrappers drop the timezone. The first timezone
	 * set without a time warps the clock by it (an RTC in local time):
	 * make that first one UTC.
	 */
	struct timezone tz = {.tz_minuteswest = 0}, got = {0};
	EXPECT_OK("settimeofday_tz_utc", syscall(SYS_settimeofday, NULL, &tz));
	tz.tz_minuteswest = 60;
	EXPECT_OK("settimeofday_tz", syscall(SYS_settimeofday, NULL, &tz));
	struct timeval now;
	syscall(SYS_gettimeofday, &now, &got);
	CHECK("gettimeofday_tz", got.tz_minuteswest == 60, "tz_minuteswest %d", got.tz_minuteswest);
	tz.tz_minuteswest = 16 * 60;
	EXPECT_ERRNO("settimeofday_tz_range", syscall(SYS_settimeofday, NULL, &tz), EINVAL);
	tz.tz_minuteswest = 0;
	syscall(SYS_settimeofday, NULL, &tz);
}

static void check_adjtimex(void)
{
	struct timex tx = {.modes = 0};
	int state = adjtimex(&tx);
	/* No NTP daemon has run: unsynchronised, Linux's boot defaults. */
	CHECK("adjtimex_unsync", state == TIME_ERROR && (tx.status & STA_UNSYNC), "state %d status %#x", state,
	      tx.status);
	CHECK("adjtimex_defaults", tx.tick == 10000 && tx.tolerance == 32768000 && tx.precision == 1 &&
	      tx.maxerror == 16000000 && tx.constant == 2, "tick %ld tolerance %ld precision %ld maxerror %ld constant %ld",
	      tx.tick, tx.tolerance, tx.precision, tx.maxerror, tx.constant);
	CHECK("adjtimex_time", tx.time.tv_sec >= time(NULL) - 1 && tx.time.tv_usec < 1000000, "time %lld",
	      (long long)tx.time.tv_sec);
	struct timex bad = {.modes = ADJ_TICK, .tick = 5000};
	EXPECT_ERRNO("adjtimex_bad_tick", adjtimex(&bad), EINVAL);
	struct timex ss = {.modes = ADJ_OFFSET_SS_READ};
	CHECK("adjtimex_ss_read", adjtimex(&ss) >= 0 && ss.offset == 0, "offset %ld (%s)", ss.offset,
	      errno_name(errno));
	struct timex cx = {.modes = 0};
	CHECK("clock_adjtime_realtime", clock_adjtime(CLOCK_REALTIME, &cx) == TIME_ERROR, "errno %s",
	      errno_name(errno));
	EXPECT_ERRNO("clock_adjtime_monotonic", clock_adjtime(CLOCK_MONOTONIC, &cx), EOPNOTSUPP);
	EXPECT_ERRNO("clock_adjtime_bad_clock", clock_adjtime(99, &cx), EINVAL);
}

/* The RTC's major from /sys/class/rtc/rtc0/dev; -1 if none. */
static int rtc_major(void)
{
	char buf[32] = {0};
	int fd = open("sys/class/rtc/rtc0/dev", O_RDONLY);
	if (fd < 0)
		return -1;
	long n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	int major, minor;
	return n > 0 && sscanf(buf, "%d:%d", &major, &minor) == 2 && minor == 0 ? major : -1;
}

static void check_rtc(void)
{
	int major = rtc_major();
	CHECK("sysfs_rtc0_dev", major > 0, "no sys/class/rtc/rtc0/dev");
	if (major <= 0)
		return;
	char attr[128];
	int fd0 = open("sys/class/rtc/rtc0/name", O_RDONLY);
	long n0 = fd0 < 0 ? -1 : read(fd0, attr, sizeof(attr) - 1);
	attr[n0 > 0 ? n0 : 0] = 0;
	close(fd0);
	CHECK("sysfs_rtc0_name", strcmp(attr, "rtc_cmos 00:04\n") == 0, "'%s'", attr);
	fd0 = open("sys/class/rtc/rtc0/since_epoch", O_RDONLY);
	n0 = fd0 < 0 ? -1 : read(fd0, attr, sizeof(attr) - 1);
	attr[n0 > 0 ? n0 : 0] = 0;
	close(fd0);
	long long since = atoll(attr), wall = (long long)time(NULL);
	CHECK("sysfs_rtc0_since_epoch", since >= wall - 3 && since <= wall + 3, "'%s' vs %lld", attr, wall);
	fd0 = open("sys/class/rtc/rtc0/date", O_RDONLY);
	n0 = fd0 < 0 ? -1 : read(fd0, attr, sizeof(attr) - 1);
	attr[n0 > 0 ? n0 : 0] = 0;
	close(fd0);
	int y = 0, mo = 0, d = 0;
	CHECK("sysfs_rtc0_date", sscanf(attr, "%d-%d-%d\n", &y, &mo, &d) == 3 && y >= 2020 && n0 == 11, "'%s'", attr);
	unlink("rtc0");
	REQUIRE_VOID(mknod("rtc0", S_IFCHR | 0600, makedev(major, 0)) == 0);
	int fd = open("rtc0", O_RDONLY);
	REQUIRE_VOID(fd >= 0);
	EXPECT_ERRNO("second_open_busy", open("rtc0", O_RDONLY), EBUSY);
	struct rtc_time tm;
	EXPECT_OK("rd_time", ioctl(fd, RTC_RD_TIME, &tm));
	struct tm utc = {.tm_sec = tm.tm_sec, .tm_min = tm.tm_min, .tm_hour = tm.tm_hour, .tm_mday = tm.tm_mday,
			 .tm_mon = tm.tm_mon, .tm_year = tm.tm_year};
	long long rtc = (long long)timegm(&utc), now = (long long)time(NULL);
	CHECK("rd_time_matches_clock", rtc >= now - 3 && rtc <= now + 3, "rtc %lld, clock %lld", rtc, now);

	struct rtc_time badtm = tm;
	badtm.tm_mon = 12;
	EXPECT_ERRNO("set_time_bad_month", ioctl(fd, RTC_SET_TIME, &badtm), EINVAL);
	badtm = tm;
	badtm.tm_mon = 1;
	badtm.tm_mday = 30;
	EXPECT_ERRNO("set_time_feb_30", ioctl(fd, RTC_SET_TIME, &badtm), EINVAL);
	CHECK("user_set_time_eacces", as_nobody(nobody_rtc_set, fd) == 0, "status %d", as_nobody(nobody_rtc_set, fd));

	/* Set the RTC a day and an hour ahead, read it back, then put it back as hwclock -w would. */
	time_t later = (time_t)now + 90000;
	struct tm want;
	gmtime_r(&later, &want);
	struct rtc_time set = {.tm_sec = want.tm_sec, .tm_min = want.tm_min, .tm_hour = want.tm_hour,
			       .tm_mday = want.tm_mday, .tm_mon = want.tm_mon, .tm_year = want.tm_year};
	EXPECT_OK("set_time", ioctl(fd, RTC_SET_TIME, &set));
	ioctl(fd, RTC_RD_TIME, &tm);
	struct tm back = {.tm_sec = tm.tm_sec, .tm_min = tm.tm_min, .tm_hour = tm.tm_hour, .tm_mday = tm.tm_mday,
			  .tm_mon = tm.tm_mon, .tm_year = tm.tm_year};
	long long got = (long long)timegm(&back);
	CHECK("set_time_reads_back", got >= later && got <= later + 2, "read %lld, set %lld", got, (long long)later);
	time_t t = time(NULL);
	gmtime_r(&t, &want);
	set = (struct rtc_time){.tm_sec = want.tm_sec, .tm_min = want.tm_min, .tm_hour = want.tm_hour,
				.tm_mday = want.tm_mday, .tm_mon = want.tm_mon, .tm_year = want.tm_year};
	EXPECT_OK("set_time_restore", ioctl(fd, RTC_SET_TIME, &set));

	/* Update interrupts: a read waits for the next second. */
	EXPECT_OK("uie_on", ioctl(fd, RTC_UIE_ON, 0));
	unsigned long data = 0;
	long long t0 = now_ms();
	long n = read(fd, &data, sizeof(data));
	long long waited = now_ms() - t0;
	CHECK("uie_read", n == sizeof(data) && (data & RTC_UF) && (data >> 8) >= 1 && waited <= 1500,
	      "read %ld data %#lx after %lld ms (%s)", n, data, waited, errno_name(errno));
	EXPECT_OK("uie_off", ioctl(fd, RTC_UIE_OFF, 0));
	close(fd);
	fd = open("rtc0", O_RDONLY);
	CHECK("reopen_after_close", fd >= 0, "errno %s", errno_name(errno));
	close(fd);
}


/* date -s, hwclock -w/-r/-s and adjtimex as busybox runs them (on /dev/rtc0). */
static void check_busybox(int major)
{
	char out[4096];
	long long real0 = ns_of(CLOCK_REALTIME), mono0 = ns_of(CLOCK_MONOTONIC);
	/* hwclock opens /dev/rtc0: make it unless devtmpfs has. */
	struct stat st;
	int made = stat("/dev/rtc0", &st) != 0;
	if (made)
		REQUIRE_VOID(mknod("/dev/rtc0", S_IFCHR | 0600, makedev(major, 0)) == 0);
	int rc = run_sh("date -u -s '2031-02-03 04:05:06' >/dev/null && date -u +%Y-%m-%d", out, sizeof(out));
	CHECK("busybox_date_s", rc == 0 && strcmp(out, "2031-02-03\n") == 0, "rc %d: %s", rc, out);
	rc = run_sh("hwclock -w -u && hwclock -r -u", out, sizeof(out));
	CHECK("busybox_hwclock_w_r", rc == 0 && strstr(out, "Feb  3 04:05:") && strstr(out, "2031"), "rc %d: %s", rc,
	      out);
	rc = run_sh("date -u -s '2030-01-01 00:00:00' >/dev/null && hwclock -s -u && date -u +%Y-%m-%d", out,
		 sizeof(out));
	CHECK("busybox_hwclock_s", rc == 0 && strcmp(out, "2031-02-03\n") == 0, "rc %d: %s", rc, out);
	rc = run_sh("adjtimex", out, sizeof(out));
	CHECK("busybox_adjtimex", rc == 0 && strstr(out, "tolerance:    32768000") && strstr(out, "return value: 5"),
	      "rc %d: %s", rc, out);
	/* Put both clocks back. */
	long long back = real0 + ns_of(CLOCK_MONOTONIC) - mono0;
	struct timespec restore = {.tv_sec = (time_t)(back / 1000000000LL), .tv_nsec = (long)(back % 1000000000LL)};
	EXPECT_OK("busybox_restore_clock", clock_settime(CLOCK_REALTIME, &restore));
	rc = run_sh("hwclock --systohc -u", out, sizeof(out));
	CHECK("busybox_hwclock_systohc", rc == 0, "rc %d: %s", rc, out);
	if (made)
		unlink("/dev/rtc0");
}

int main(void)
{
	REQUIRE(enter_scratch_dir() == 0);
	mkdir("sys", 0755);
	REQUIRE(mount("sysfs", "sys", "sysfs", 0, NULL) == 0);
	check_clock_setting();
	check_adjtimex();
	check_rtc();
	if (rtc_major() > 0)
		check_busybox(rtc_major());
	umount("sys");
	return test_done();
}
