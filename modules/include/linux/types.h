/* Ferrite module SDK: the kernel's basic C types (Linux: include/linux/types.h).
 * Modules are built with -nostdinc, so this is the whole C environment. */
#ifndef _FERRITE_LINUX_TYPES_H
#define _FERRITE_LINUX_TYPES_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed char s8;
typedef short s16;
typedef int s32;
typedef long long s64;
typedef unsigned long size_t;
typedef long ssize_t;
typedef _Bool bool;
typedef unsigned int gfp_t;

#define true 1
#define false 0
#define NULL ((void *)0)

#endif
