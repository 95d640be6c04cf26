/*
 * getrandom and /dev/urandom: the bytes asked for, different each time,
 * and the errors. Linux: drivers/char/random.c.
 */
#include "test.h"
#include <sys/random.h>

int main(void)
{
	unsigned char a[256], b[256];
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	long n = syscall(SYS_getrandom, a, sizeof(a), 0);
	CHECK("returns_count", n == (long)sizeof(a), "getrandom returned %ld (%s)", n, errno_name(errno));
	n = syscall(SYS_getrandom, b, sizeof(b), GRND_NONBLOCK);
	CHECK("nonblock_returns_count", n == (long)sizeof(b), "getrandom(GRND_NONBLOCK) returned %ld", n);
	CHECK("two_calls_differ", memcmp(a, b, sizeof(a)) != 0, "two 256-byte draws are equal");
	int zeros = 0;
	for (size_t i = 0; i < sizeof(a); i++)
		zeros += a[i] == 0;
	CHECK("not_all_zero", zeros < 32, "%d zero bytes in 256", zeros);
	CHECK("zero_length", syscall(SYS_getrandom, a, 0, 0) == 0, "getrandom(0)");
	static unsigned char big[1 << 20];
	n = syscall(SYS_getrandom, big, sizeof(big), 0);
	CHECK("large_request", n > 0 && n <= (long)sizeof(big), "getrandom(1 MiB) returned %ld", n);
	CHECK("insecure_flag_ok", syscall(SYS_getrandom, a, 16, 0x0004) == 16, "GRND_INSECURE: %s", errno_name(errno));

	int fd = open("/dev/urandom", O_RDONLY);
	CHECK("urandom_read", fd >= 0 && read(fd, a, 64) == 64, "/dev/urandom: %s", errno_name(errno));
	close(fd);

	EXPECT_ERRNO("bad_flags_einval", syscall(SYS_getrandom, a, 16, 0x100), EINVAL);
	EXPECT_ERRNO("random_and_insecure_einval", syscall(SYS_getrandom, a, 16, GRND_RANDOM | 0x0004), EINVAL);
	EXPECT_ERRNO("bad_buffer_efault", syscall(SYS_getrandom, (void *)8, 16, 0), EFAULT);
	return test_done();
}
