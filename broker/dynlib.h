/*
 * dynlib — a shared library loaded when first needed rather than at start-up. The caller keeps
 * typed function pointers (declared with __typeof__ from the library's own header, so every
 * call is still checked against its prototype) and lists them here by name; dynlib_open()
 * loads the library and fills them. The library stays loaded until the process ends.
 */
#ifndef SUANWANG_DYNLIB_H
#define SUANWANG_DYNLIB_H

#include <stddef.h>

struct dynlib_sym {
    const char *name; /* the symbol */
    void *slot;       /* the address of the function pointer it goes to */
};

/*
 * Loads soname (RTLD_NOW, RTLD_LOCAL) and finds each of the n symbols into its slot.
 * Returns 0; -ELIBACC when the library cannot be loaded (why: dlerror()'s text), which may
 * pass (installed later, out of descriptors or memory); or -ELIBBAD when it lacks a symbol
 * (why: "SONAME has no NAME"), which will not: a library older than the one built against.
 * On failure no slot is changed. why may be NULL.
 */
int dynlib_open(const char *soname, const struct dynlib_sym *syms, size_t n, char *why,
                size_t whylen);

#endif
