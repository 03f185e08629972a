/*
 * dynlib — see dynlib.h.
 */
#include "dynlib.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* A pointer found by dlsym() is copied into a function pointer of the same size. */
_Static_assert(sizeof(void *) == sizeof(void (*)(void)), "dlsym() cannot give a function");

#define DYNLIB_MAX_SYMS 64

int dynlib_open(const char *soname, const struct dynlib_sym *syms, size_t n, char *why,
                size_t whylen)
{
    void *found[DYNLIB_MAX_SYMS];
    void *lib;

    if (n > DYNLIB_MAX_SYMS) {
        if (why != NULL && whylen > 0)
            snprintf(why, whylen, "%s: %zu symbols asked for, at most %d", soname, n,
                     DYNLIB_MAX_SYMS);
        return -EINVAL;
    }
    lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        const char *e = dlerror();
        if (why != NULL && whylen > 0)
            snprintf(why, whylen, "%s", e != NULL ? e : soname);
        return -ELIBACC;
    }
    for (size_t i = 0; i < n; i++) {
        found[i] = dlsym(lib, syms[i].name);
        if (found[i] == NULL) { /* left loaded: it may have run initializers already */
            if (why != NULL && whylen > 0)
                snprintf(why, whylen, "%s has no %s", soname, syms[i].name);
            return -ELIBBAD;
        }
    }
    for (size_t i = 0; i < n; i++)
        memcpy(syms[i].slot, &found[i], sizeof(found[i]));
    return 0;
}
