/*
 * check — a tiny TAP producer for the unit tests: each CHECK is one test
 * point ("ok N - ..." / "not ok N - ..."), check_done() prints the plan and
 * returns the exit status. Meson reads the TAP stream.
 */
#ifndef SUANWANG_CHECK_H
#define SUANWANG_CHECK_H

#include <stdbool.h>
#include <stddef.h>

bool check_ok(bool cond, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Prints "1..N" and returns 0 when every check passed, else 1. */
int check_done(void);

#define CHECK(cond, ...) check_ok((cond), __FILE__, __LINE__, __VA_ARGS__)
/*
 * Reads tests/data/<rel> (the directory in SUANWANG_TEST_DATA, else
 * ../tests/data as seen from the build directory), NUL-terminated; *ret_len
 * gets its size. NULL when it cannot be read. The caller frees.
 */
char *check_read_data(const char *rel, size_t *ret_len);

/* Removes an SQLite database file and its -wal and -shm files, whichever exist. */
void check_remove_db(const char *path);

/* Each argument is evaluated once. */
bool check_eq_long(long got, long want, const char *name, const char *file, int line);
bool check_near(double got, double want, double eps, const char *name, const char *file, int line);
bool check_str(const char *got, const char *want, const char *name, const char *file, int line);

#define CHECK_EQ_LONG(a, b, name) check_eq_long((long)(a), (long)(b), (name), __FILE__, __LINE__)
#define CHECK_NEAR(a, b, eps, name)                                                                \
    check_near((double)(a), (double)(b), (double)(eps), (name), __FILE__, __LINE__)
#define CHECK_STR(a, b, name)                                                                      \
    check_str((const char *)(a), (const char *)(b), (name), __FILE__, __LINE__)

#endif
