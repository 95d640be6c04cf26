/* Ferrite module SDK: EXPORT_SYMBOL (Linux: include/linux/export.h).
 *
 * An export is a `struct kernel_symbol` in __ksymtab (or __ksymtab_gpl) with
 * absolute addresses, which the loader reads after relocating the module
 * (Linux 6.1 stores 32-bit relative offsets instead; Ferrite's layout is its
 * own, see libs/kmod/src/load.rs). Later modules link against these. */
#ifndef _FERRITE_LINUX_EXPORT_H
#define _FERRITE_LINUX_EXPORT_H

#include <linux/compiler.h>

struct kernel_symbol {
	unsigned long value;
	const char *name;
};

#define __EXPORT_SYMBOL(sym, sec)                                              \
	extern typeof(sym) sym;                                                \
	static const char __kstrtab_##sym[] __section("__ksymtab_strings")     \
		__used = #sym;                                                 \
	static const struct kernel_symbol __ksymtab_##sym __section(sec)       \
		__used __aligned(8) = { (unsigned long)&sym, __kstrtab_##sym }

#define EXPORT_SYMBOL(sym) __EXPORT_SYMBOL(sym, "__ksymtab")
#define EXPORT_SYMBOL_GPL(sym) __EXPORT_SYMBOL(sym, "__ksymtab_gpl")

#endif
