/* Ferrite module SDK: the part modpost generates for a Linux module (its
 * NAME.mod.c): the module structure and the .modinfo name and vermagic.
 * Compiled once per module with -DKBUILD_MODNAME=\"NAME\" and
 * -DUTS_RELEASE=\"...\" (Ferrite's release, read from the kernel source by
 * xtask), then linked into NAME.ko with `ld -r`. */
#include <linux/module.h>
#include <linux/vermagic.h>

/* Weak: a module without module_init or module_exit leaves them NULL. */
extern int init_module(void) __attribute__((weak));
extern void cleanup_module(void) __attribute__((weak));

struct module __this_module __section(".gnu.linkonce.this_module") __aligned(8) = {
	.magic = MODULE_MAGIC,
	.name = KBUILD_MODNAME,
	.init = init_module,
	.exit = cleanup_module,
};

MODULE_INFO(vermagic, VERMAGIC_STRING);
MODULE_INFO(name, KBUILD_MODNAME);
