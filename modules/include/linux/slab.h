/* Ferrite module SDK: kmalloc (Linux: include/linux/slab.h, gfp_types.h).
 * The flags are accepted for source compatibility; Ferrite's kmalloc may
 * sleep unless given GFP_ATOMIC, which it treats alike today. */
#ifndef _FERRITE_LINUX_SLAB_H
#define _FERRITE_LINUX_SLAB_H

#include <linux/types.h>

#define GFP_KERNEL 0xcc0u
#define GFP_ATOMIC 0xa20u
#define __GFP_ZERO 0x100u

void *__kmalloc(size_t size, gfp_t flags);
void kfree(const void *ptr);

static inline void *kmalloc(size_t size, gfp_t flags) { return __kmalloc(size, flags); }
static inline void *kzalloc(size_t size, gfp_t flags) { return __kmalloc(size, flags | __GFP_ZERO); }

#endif
