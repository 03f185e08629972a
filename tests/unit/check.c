/* check — TAP output for unit tests. */
#include "check.h"

#include <stdarg.h>
#include <stdio.h>

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
