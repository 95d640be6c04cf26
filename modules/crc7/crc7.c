// SPDX-License-Identifier: GPL-2.0
/*
 * CRC-7, polynomial x^7 + x^3 + 1 (0x09), most significant bit first, as
 * MMC/SD cards use it. Ferrite's own implementation of what Linux's
 * lib/crc7.c exports.
 *
 * crc7_be keeps the 7-bit CRC in the top bits of a byte (Linux's
 * convention since 3.16): a message's CRC is crc7_be(0, msg, len) >> 1.
 * The table is built at init; each byte then costs one lookup.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/crc7.h>

/* The polynomial shifted into the top seven bits of a byte. */
#define CRC7_POLY_BE (0x09 << 1)

static u8 crc7_be_table[256];

static u8 crc7_be_byte(u8 byte)
{
	int bit;

	for (bit = 0; bit < 8; bit++)
		byte = (byte & 0x80) ? (u8)((byte << 1) ^ CRC7_POLY_BE) : (u8)(byte << 1);
	return byte;
}

u8 crc7_be(u8 crc, const u8 *buffer, size_t len)
{
	while (len--)
		crc = crc7_be_table[crc ^ *buffer++];
	return crc;
}
EXPORT_SYMBOL(crc7_be);

static int __init crc7_init(void)
{
	static const u8 check[] = "123456789";
	int i;

	for (i = 0; i < 256; i++)
		crc7_be_table[i] = crc7_be_byte((u8)i);
	/* The catalogued check value of CRC-7/MMC over "123456789" is 0x75. */
	if ((crc7_be(0, check, sizeof(check) - 1) >> 1) != 0x75) {
		pr_err("crc7: self-test failed\n");
		return -EINVAL;
	}
	return 0;
}

static void __exit crc7_exit(void)
{
}

module_init(crc7_init);
module_exit(crc7_exit);

MODULE_DESCRIPTION("CRC7 calculations");
MODULE_LICENSE("GPL");
