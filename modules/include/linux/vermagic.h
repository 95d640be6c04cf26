/* Ferrite module SDK: the version magic a module must carry to load
 * (Linux: include/linux/vermagic.h). UTS_RELEASE comes from the build
 * (xtask reads it from kernel/kernel/sys.rs); the kernel compares the whole
 * string (kernel/kernel/module/main.rs VERMAGIC_STRING). */
#ifndef _FERRITE_LINUX_VERMAGIC_H
#define _FERRITE_LINUX_VERMAGIC_H

#ifndef UTS_RELEASE
#error "UTS_RELEASE must be defined by the build"
#endif

#define VERMAGIC_STRING UTS_RELEASE " SMP preempt mod_unload "

#endif
