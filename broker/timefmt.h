/*
 * timefmt — RFC 3339 timestamps to and from Unix milliseconds (UTC). Pure:
 * converts values it is given and never reads the clock.
 */
#ifndef SUANWANG_TIMEFMT_H
#define SUANWANG_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* Parses "2026-11-22T01:00:00Z", optional fraction, "Z" or "+hh:mm". 0 or -EINVAL. */
int timefmt_parse(const char *s, int64_t *ret_ms);

/* Formats as "2026-11-22T01:00:00Z" (or with ".123" when ms are not 0) into buf (>= 32). */
void timefmt_format(int64_t ms, char *buf, size_t len);

#endif
