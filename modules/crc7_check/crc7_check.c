// SPDX-License-Identifier: GPL-2.0
/*
 * A module that uses another module's export: it links against crc7's
 * crc7_be, so it loads only while crc7 is loaded (ENOENT, "Unknown symbol
 * crc7_be", otherwise), and crc7 cannot be unloaded while it is (EWOULDBLOCK,
 * /proc/modules lists it as crc7's user).
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/crc7.h>

static int __init crc7_check_init(void)
{
	static const u8 msg[] = "Ferrite";
	u8 crc = crc7_be(0, msg, sizeof(msg) - 1) >> 1;

	pr_info("crc7_check: crc7 of \"%s\" is 0x%02x\n", msg, crc);
	return 0;
}

static void __exit crc7_check_exit(void)
{
}

module_init(crc7_check_init);
module_exit(crc7_check_exit);

MODULE_DESCRIPTION("Uses crc7's export");
MODULE_LICENSE("GPL");
