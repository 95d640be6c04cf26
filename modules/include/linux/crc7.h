/* Ferrite module SDK: the crc7 module's export (Linux: include/linux/crc7.h). */
#ifndef _FERRITE_LINUX_CRC7_H
#define _FERRITE_LINUX_CRC7_H

#include <linux/types.h>

u8 crc7_be(u8 crc, const u8 *buffer, size_t len);

#endif
