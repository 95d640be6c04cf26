/* Ferrite module SDK: module_init/module_exit (Linux: include/linux/init.h,
 * include/linux/module.h).
 *
 * As in Linux, module_init(fn) makes `init_module` an alias of fn and
 * module_exit(fn) makes `cleanup_module` one; the SDK's this_module.c puts
 * both in the module's `struct module`. __init and __exit are accepted and
 * ignore the section: Ferrite keeps a module's init code (see kernel/kernel/module). */
#ifndef _FERRITE_LINUX_INIT_H
#define _FERRITE_LINUX_INIT_H

#include <linux/compiler.h>

#define __init
#define __exit
#define __initdata
#define __exitdata

typedef int (*initcall_t)(void);
typedef void (*exitcall_t)(void);

#define module_init(initfn)                                                  \
	static inline initcall_t __maybe_unused __inittest(void) { return initfn; } \
	int init_module(void) __attribute__((alias(#initfn)));

#define module_exit(exitfn)                                                  \
	static inline exitcall_t __maybe_unused __exittest(void) { return exitfn; } \
	void cleanup_module(void) __attribute__((alias(#exitfn)));

#define __maybe_unused __attribute__((__unused__))

#endif
