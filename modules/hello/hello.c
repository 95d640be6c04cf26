// SPDX-License-Identifier: GPL-2.0
/*
 * The course's first module: a greeting on load and on unload, with
 * parameters of each kind the SDK supports. `insmod hello.ko who=you
 * times=2 fail=1` greets twice and then refuses to load (init returns
 * -EINVAL), which tests that a failing init unloads the module.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/slab.h>

static char *who = "world";
module_param(who, charp, 0444);
MODULE_PARM_DESC(who, "whom to greet");

static int times = 1;
module_param(times, int, 0644);
MODULE_PARM_DESC(times, "how many greetings");

static bool fail;
module_param(fail, bool, 0444);
MODULE_PARM_DESC(fail, "make init fail with -EINVAL");

static int __init hello_init(void)
{
	char *buf = kmalloc(32, GFP_KERNEL);
	int i;

	if (!buf)
		return -ENOMEM;
	for (i = 0; i < times; i++)
		pr_info("hello: Hello, %s! (%d of %d, %s %c %x %lu %%)\n", who, i + 1, times,
			"kmalloc", buf ? 'y' : 'n', 0xbeef, 1UL << 40);
	kfree(buf);
	return fail ? -EINVAL : 0;
}

static void __exit hello_exit(void)
{
	pr_info("hello: Goodbye, %s!\n", who);
}

module_init(hello_init);
module_exit(hello_exit);

MODULE_AUTHOR("Ferrite");
MODULE_DESCRIPTION("Greets on load and unload");
MODULE_LICENSE("GPL");
