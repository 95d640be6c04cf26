/*
 * sockopt: the SOL_SOCKET options every family shares, on a UDP socket:
 * SO_RCVTIMEO/SO_SNDTIMEO (struct timeval, EDOM for microseconds out of
 * range, EINVAL for a short value, a receive that times out with EAGAIN),
 * SO_LINGER, SO_BINDTODEVICE (ENODEV, the name back with its NUL, EINVAL
 * for a short buffer, anyone may bind an unbound socket but only
 * CAP_NET_RAW may move it), SO_PRIORITY (0-6 for anyone), flags, EFAULT.
 * Linux: net/core/sock.c `sock_setsockopt`, `sock_getsockopt`,
 * `sock_setbindtodevice`, `sock_set_timeout`.
 */
#include "test.h"
#include "net.h"
#include <sys/time.h>

static int udp(void)
{
	return socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

static void test_timeouts(int fd)
{
	struct timeval tv = {2, 500000}, got = {0, 0};
	socklen_t len = sizeof(got);
	EXPECT_OK("rcvtimeo_set", setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	int r = getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &got, &len);
	CHECK("rcvtimeo_get", r == 0 && len == sizeof(got) && got.tv_sec == 2 && got.tv_usec == 500000,
	      "%d, len %u, %ld.%06ld", r, len, (long)got.tv_sec, (long)got.tv_usec);
	struct timeval bad = {0, 1000000};
	EXPECT_ERRNO("rcvtimeo_usec_edom", setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &bad, sizeof(bad)), EDOM);
	EXPECT_ERRNO("sndtimeo_short_einval", setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, 8), EINVAL);
	EXPECT_ERRNO("rcvtimeo_efault", setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, (void *)8, sizeof(tv)), EFAULT);

	struct timeval short_wait = {0, 100000};
	REQUIRE_VOID(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &short_wait, sizeof(short_wait)) == 0);
	char c;
	long long t0 = now_ms();
	errno = 0;
	long n = recv(fd, &c, 1, 0);
	int err = errno;
	long long dt = now_ms() - t0;
	CHECK("rcvtimeo_recv_times_out", n == -1 && err == EAGAIN && dt >= 90 && dt < 3000,
	      "recv %ld (%s) after %lld ms", n, errno_name(err), dt);
}

static void test_linger(int fd)
{
	struct linger l = {1, 5}, got = {0, 0};
	socklen_t len = sizeof(got);
	EXPECT_OK("linger_set", setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)));
	int r = getsockopt(fd, SOL_SOCKET, SO_LINGER, &got, &len);
	CHECK("linger_get", r == 0 && len == sizeof(got) && got.l_onoff == 1 && got.l_linger == 5,
	      "%d, len %u, %d %d", r, len, got.l_onoff, got.l_linger);
	EXPECT_ERRNO("linger_short_einval", setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, 4), EINVAL);
}

/* SO_BINDTODEVICE's value: its length, the name in `name`. */
static int bound_device(int fd, char *name, socklen_t size)
{
	socklen_t len = size;
	memset(name, 0, size);
	if (getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, &len) != 0)
		return -1;
	return (int)len;
}

static void test_bindtodevice(int fd)
{
	char name[IFNAMSIZ];
	CHECK("bindtodevice_unbound_empty", bound_device(fd, name, sizeof(name)) == 0, "length %d",
	      bound_device(fd, name, sizeof(name)));
	EXPECT_ERRNO("bindtodevice_enodev", setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "nosuchdev0", 11),
		     ENODEV);
	EXPECT_OK("bindtodevice_lo", setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3));
	int len = bound_device(fd, name, sizeof(name));
	CHECK("bindtodevice_get", len == 3 && strcmp(name, "lo") == 0, "length %d, '%s'", len, name);
	socklen_t tiny = 2;
	EXPECT_ERRNO("bindtodevice_short_buffer", getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, &tiny),
		     EINVAL);
	EXPECT_OK("bindtodevice_unbind", setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "", 0));
	CHECK("bindtodevice_unbound_again", bound_device(fd, name, sizeof(name)) == 0, "still bound");
}

/* As nobody: bind a fresh socket to lo (allowed), then move it (EPERM). */
static int nobody_binds(int unused)
{
	(void)unused;
	int fd = udp();
	if (fd < 0)
		return 1;
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3) != 0)
		return 2;
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3) == 0 || errno != EPERM)
		return 3;
	int prio = 6;
	if (setsockopt(fd, SOL_SOCKET, SO_PRIORITY, &prio, sizeof(prio)) != 0)
		return 4;
	prio = 7;
	if (setsockopt(fd, SOL_SOCKET, SO_PRIORITY, &prio, sizeof(prio)) == 0 || errno != EPERM)
		return 5;
	return 0;
}

static void test_flags(int fd)
{
	int on = 1, got = 0;
	socklen_t len = sizeof(got);
	EXPECT_OK("keepalive_set", setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)));
	int r = getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &got, &len);
	CHECK("keepalive_get", r == 0 && got == 1 && len == sizeof(got), "%d, %d", r, got);
	EXPECT_OK("broadcast_set", setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof(on)));
	got = 0;
	r = getsockopt(fd, SOL_SOCKET, SO_BROADCAST, &got, &len);
	CHECK("broadcast_get", r == 0 && got == 1, "%d, %d", r, got);
	EXPECT_ERRNO("unknown_enoprotoopt", setsockopt(fd, SOL_SOCKET, 9999, &on, sizeof(on)), ENOPROTOOPT);
}

int main(void)
{
	REQUIRE(lo_up() == 0);
	int fd = udp();
	REQUIRE(fd >= 0);
	test_timeouts(fd);
	test_linger(fd);
	test_bindtodevice(fd);
	test_flags(fd);
	close(fd);
	int st = as_nobody(nobody_binds, 0);
	CHECK("nobody_binds_once_and_priority_0_to_6", st == 0, "step %d failed", st);
	return test_done();
}
