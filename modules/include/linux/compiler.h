/* Ferrite module SDK: attributes (Linux: include/linux/compiler_attributes.h). */
#ifndef _FERRITE_LINUX_COMPILER_H
#define _FERRITE_LINUX_COMPILER_H

#define __section(s) __attribute__((__section__(s)))
#define __used __attribute__((__used__))
#define __aligned(n) __attribute__((__aligned__(n)))
#define __printf(a, b) __attribute__((__format__(printf, a, b)))
#define __stringify_1(x) #x
#define __stringify(x) __stringify_1(x)
/* A name unique in this file, for the entries macros emit. */
#define __PASTE_1(a, b) a##b
#define __PASTE(a, b) __PASTE_1(a, b)
#define __UNIQUE_ID(prefix) __PASTE(__PASTE(__UNIQUE_ID_, prefix), __COUNTER__)

#endif
