/* Ferrite module SDK: sleeping delays (Linux: include/linux/delay.h). */
#ifndef _FERRITE_LINUX_DELAY_H
#define _FERRITE_LINUX_DELAY_H

void msleep(unsigned int msecs);

#endif
