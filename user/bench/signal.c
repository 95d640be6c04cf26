/*
 * Two figures, as lmbench's `lat_sig install` and `lat_sig catch`:
 * - sig_install: sigaction(2) installing a handler for SIGUSR1;
 * - sig_catch: kill(2) of the process itself with SIGUSR1, delivered to the
 *   handler on the way out of the syscall, and rt_sigreturn(2) back.
 * Linux: kernel/signal.c, arch/x86/kernel/signal.c.
 */
#include "bench.h"
#include <signal.h>

static volatile sig_atomic_t caught;
static pid_t self;

static void handler(int sig)
{
	(void)sig;
	caught++;
}

static int install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	return sigaction(SIGUSR1, &sa, NULL);
}

static int deliver(void)
{
	sig_atomic_t before = caught;
	if (kill(self, SIGUSR1) != 0)
		return -1;
	if (caught == before) {
		errno = EINTR;
		return -1;
	}
	return 0;
}

int main(void)
{
	self = getpid();
	bench_run_as("sig_install", 50000, 1, install);
	bench_run_as("sig_catch", 20000, 1, deliver);
	return 0;
}
