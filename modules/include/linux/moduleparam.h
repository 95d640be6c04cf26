/* Ferrite module SDK: module parameters (Linux: include/linux/moduleparam.h).
 *
 * module_param(name, type, perm) records a `struct kernel_param` in the
 * __param section and a `parmtype=name:type` line in .modinfo. Types: int,
 * charp, bool. The loader sets each from init_module's "name=value ..."
 * string before init runs; a charp points at the loader's copy of the
 * value. Ferrite's layout, not Linux's (which has ops and a union). */
#ifndef _FERRITE_LINUX_MODULEPARAM_H
#define _FERRITE_LINUX_MODULEPARAM_H

#include <linux/compiler.h>
#include <linux/types.h>

#define __MODULE_INFO(tag, name, info)                                         \
	static const char __UNIQUE_ID(name)[] __used __section(".modinfo")      \
		__aligned(1) = __stringify(tag) "=" info

#define MODULE_PARAM_TYPE_int 0
#define MODULE_PARAM_TYPE_charp 1
#define MODULE_PARAM_TYPE_bool 2

struct kernel_param {
	const char *name;
	void *arg;
	unsigned int type;
	unsigned short perm;
	unsigned short pad;
};

#define module_param(name, type, perm)                                         \
	static const char __param_str_##name[] = #name;                          \
	static const struct kernel_param __param_##name __used                   \
		__section("__param") __aligned(8) = {                             \
		__param_str_##name, &name, MODULE_PARAM_TYPE_##type, perm, 0 };     \
	__MODULE_INFO(parmtype, name##type, #name ":" #type)

#define MODULE_PARM_DESC(_parm, desc) __MODULE_INFO(parm, _parm, #_parm ":" desc)

#endif
