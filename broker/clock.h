/* clock — the daemon's one reading of wall-clock time, in Unix milliseconds. */
#ifndef SUANWANG_CLOCK_H
#define SUANWANG_CLOCK_H

#include <stdint.h>

int64_t clock_now_ms(void);

/* A monotonic reading in microseconds, for measuring elapsed time. */
int64_t clock_mono_us(void);

#endif
