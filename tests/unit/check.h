/*
 * check — a tiny TAP producer for the unit tests: each CHECK is one test
 * point ("ok N - ..." / "not ok N - ..."), check_done() prints the plan and
 * returns the exit status. Meson reads the TAP stream.
 */
#ifndef SUANWANG_CHECK_H
#define SUANWANG_CHECK_H

#include <stdbool.h>

bool check_ok(bool cond, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Prints "1..N" and returns 0 when every check passed, else 1. */
int check_done(void);

#define CHECK(cond, ...) check_ok((cond), __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_EQ_LONG(a, b, name)                                                                  \
    check_ok((long)(a) == (long)(b), __FILE__, __LINE__, "%s: got %ld, want %ld", (name),          \
             (long)(a), (long)(b))
#define CHECK_NEAR(a, b, eps, name)                                                                \
    check_ok(((a) - (b)) <= (eps) && ((b) - (a)) <= (eps), __FILE__, __LINE__,                     \
             "%s: got %.9g, want %.9g", (name), (double)(a), (double)(b))
#define CHECK_STR(a, b, name)                                                                      \
    check_ok((a) && (b) && strcmp((a), (b)) == 0, __FILE__, __LINE__, "%s: got '%s', want '%s'",   \
             (name), (a) ? (a) : "(null)", (b) ? (b) : "(null)")

#endif
