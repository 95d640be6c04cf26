/* Ferrite module SDK: what a module includes (Linux: include/linux/module.h).
 *
 * Ferrite's `struct module` (the .gnu.linkonce.this_module section, written
 * by the SDK's this_module.c, read by the loader: libs/kmod/src/load.rs):
 *
 *    0  unsigned long magic       MODULE_MAGIC, "FeMod\0\0\x01" little-endian
 *    8  char name[56]             MODULE_NAME_LEN, NUL-terminated
 *   64  int (*init)(void)         init_module, or NULL
 *   72  void (*exit)(void)        cleanup_module, or NULL
 *
 * Build with `cargo xtask modules` (see xtask/src/modules.rs). */
#ifndef _FERRITE_LINUX_MODULE_H
#define _FERRITE_LINUX_MODULE_H

#include <linux/types.h>
#include <linux/init.h>
#include <linux/export.h>
#include <linux/moduleparam.h>
#include <linux/printk.h>

#define MODULE_NAME_LEN 56
#define MODULE_MAGIC 0x010000646f4d6546UL

struct module {
	unsigned long magic;
	char name[MODULE_NAME_LEN];
	int (*init)(void);
	void (*exit)(void);
};

extern struct module __this_module;
#define THIS_MODULE (&__this_module)

#define MODULE_INFO(tag, info) __MODULE_INFO(tag, tag, info)
#define MODULE_LICENSE(l) MODULE_INFO(license, l)
#define MODULE_AUTHOR(a) MODULE_INFO(author, a)
#define MODULE_DESCRIPTION(d) MODULE_INFO(description, d)
#define MODULE_VERSION(v) MODULE_INFO(version, v)

#endif
