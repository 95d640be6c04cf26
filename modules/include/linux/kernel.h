/* Ferrite module SDK: the common kernel helpers (Linux: include/linux/kernel.h). */
#ifndef _FERRITE_LINUX_KERNEL_H
#define _FERRITE_LINUX_KERNEL_H

#include <linux/types.h>
#include <linux/compiler.h>
#include <linux/printk.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Errno values are Linux's (include/uapi/asm-generic/errno-base.h). */
#define EPERM 1
#define ENOENT 2
#define EIO 5
#define ENOMEM 12
#define EBUSY 16
#define EINVAL 22

#endif
