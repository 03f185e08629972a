/*
 * test-dynlib — broker/dynlib.c: a library loaded on demand fills its callers' typed
 * pointers; a library that is not there, or lacks a symbol, fails with its reason and leaves
 * every pointer as it was.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "check.h"
#include "dynlib.h"

static struct {
    __typeof__(cbrt) *cbrt;
    __typeof__(hypot) *hypot;
} fns;

int main(void)
{
    char why[256] = "";

    struct dynlib_sym missing_lib[] = {{"cbrt", &fns.cbrt}};
    int rv = dynlib_open("libsuanwang-no-such-library.so.1", missing_lib, 1, why, sizeof(why));
    CHECK_EQ_LONG(rv, -ELIBACC, "a library that is not there: -ELIBACC");
    CHECK(strstr(why, "libsuanwang-no-such-library.so.1") != NULL,
          "the reason names it (dlerror: %s)", why);
    CHECK(fns.cbrt == NULL, "and no pointer is set");

    struct dynlib_sym lacking[] = {{"cbrt", &fns.cbrt}, {"suanwang_no_such_function", &fns.hypot}};
    rv = dynlib_open("libm.so.6", lacking, 2, why, sizeof(why));
    CHECK_EQ_LONG(rv, -ELIBBAD, "a library that lacks a symbol: -ELIBBAD");
    CHECK_STR(why, "libm.so.6 has no suanwang_no_such_function", "the reason names the symbol");
    CHECK(fns.cbrt == NULL && fns.hypot == NULL, "and no pointer is set, not even the one found");

    struct dynlib_sym both[] = {{"cbrt", &fns.cbrt}, {"hypot", &fns.hypot}};
    rv = dynlib_open("libm.so.6", both, 2, NULL, 0);
    CHECK_EQ_LONG(rv, 0, "libm with both symbols loads (no room for a reason needed)");
    CHECK(fns.cbrt != NULL && fns.hypot != NULL, "both pointers are set");
    if (fns.cbrt != NULL && fns.hypot != NULL) {
        CHECK_NEAR(fns.cbrt(27.0), 3.0, 1e-12, "a call through the first: cbrt(27) = 3");
        CHECK_NEAR(fns.hypot(3.0, 4.0), 5.0, 1e-12, "a call through the second: hypot(3, 4) = 5");
    }

    struct dynlib_sym many[65];
    for (size_t i = 0; i < 65; i++)
        many[i] = (struct dynlib_sym){"cbrt", &fns.cbrt};
    rv = dynlib_open("libm.so.6", many, 65, why, sizeof(why));
    CHECK(rv == -EINVAL, "more symbols than it takes at once: -EINVAL (%s)", why);
    return check_done();
}
