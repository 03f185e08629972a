/* check — TAP output for unit tests. */
#include "check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int count, failed;

bool check_ok(bool cond, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    count++;
    if (!cond)
        failed++;
    printf("%sok %d - ", cond ? "" : "not ", count);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    if (!cond)
        printf("# failed at %s:%d\n", file, line);
    fflush(stdout);
    return cond;
}

int check_done(void)
{
    printf("1..%d\n", count);
    if (failed)
        printf("# %d of %d checks failed\n", failed, count);
    return failed ? 1 : 0;
}

bool check_eq_long(long got, long want, const char *name, const char *file, int line)
{
    return check_ok(got == want, file, line, "%s: got %ld, want %ld", name, got, want);
}

bool check_near(double got, double want, double eps, const char *name, const char *file, int line)
{
    return check_ok(got - want <= eps && want - got <= eps, file, line, "%s: got %.9g, want %.9g",
                    name, got, want);
}

bool check_str(const char *got, const char *want, const char *name, const char *file, int line)
{
    return check_ok(got && want && strcmp(got, want) == 0, file, line, "%s: got '%s', want '%s'",
                    name, got ? got : "(null)", want ? want : "(null)");
}

void check_remove_db(const char *path)
{
    static const char *const suffix[] = {"", "-wal", "-shm"};
    char p[4096];
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
        unlink(p);
    }
}

char *check_read_data(const char *rel, size_t *ret_len)
{
    const char *dir = getenv("SUANWANG_TEST_DATA");
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir && dir[0] ? dir : "../tests/data", rel);
    *ret_len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
        if (len == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf)
        return NULL;
    buf[len] = '\0';
    *ret_len = len;
    return buf;
}
