/*
 * test-timefmt — RFC 3339 timestamps to Unix milliseconds and back: known
 * instants worked out by hand from days since the epoch, fractions, offsets,
 * lower-case separators, invalid dates and forms, and formatting round trips.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "timefmt.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Passes arrays through a pointer so CHECK_STR's NULL test does not trip -Waddress. */
static const char *str(const char *s)
{
    return s;
}

/*
 * 2026-11-22T01:00:00Z by hand.
 * Days from 1970-01-01 to 2026-01-01: 56 years (1970..2025) of 365 days plus one per leap
 * year among them (1972, 1976, ..., 2024: (2024 - 1972) / 4 + 1 = 14), so
 * 56 * 365 + 14 = 20440 + 14 = 20454.
 * 2026 is not a leap year; days before November: 31+28+31+30+31+30+31+31+30+31 = 304, and
 * the 22nd adds 21: 325. Total 20454 + 325 = 20779 days.
 * 20779 * 86400 = 1728000000 + 779 * 86400 (= 67305600) = 1795305600 s, plus 01:00 = 3600 s:
 * 1795309200 s = 1795309200000 ms.
 */
#define T_2026_11_22_01 INT64_C(1795309200000)

/*
 * 2000-02-29T00:00:00Z: 30 years (1970..1999) with 7 leap years (1972..1996):
 * 30 * 365 + 7 = 10957 days to 2000-01-01, plus 31 (January) + 28 (Feb 1..28) = 59:
 * 11016 days * 86400 = 951782400 s.
 */
#define T_2000_02_29 INT64_C(951782400000)

/*
 * 2025-01-01T00:00:00Z: 55 years (1970..2024) with 14 leap years (1972..2024):
 * 55 * 365 + 14 = 20075 + 14 = 20089 days * 86400 = 1735689600 s.
 */
#define T_2025_01_01 INT64_C(1735689600000)

/*
 * 10000-01-01: 8030 years (1970..9999); leap years among them: multiples of 4 from 1972 to
 * 9996 (2007), less centuries 2000..9900 (80), plus those divisible by 400, 2000..9600 (20):
 * 1947. 8030 * 365 + 1947 = 2930950 + 1947 = 2932897 days * 86400 = 253402300800 s, so
 * 9999-12-31T23:59:59Z is 253402300799 s.
 */
#define T_9999_END INT64_C(253402300799000)

struct parse_case {
    const char *s; /* NULL: a NULL pointer */
    int want_rc;
    int64_t want_ms;
};

static const struct parse_case parse_cases[] = {
    {"1970-01-01T00:00:00Z", 0, 0},
    {"1970-01-01T00:00:01Z", 0, 1000},
    {"1970-01-02T00:00:00Z", 0, 86400000},
    {"2026-11-22T01:00:00Z", 0, T_2026_11_22_01},
    {"2026-11-22T01:00:00.5Z", 0, T_2026_11_22_01 + 500},
    {"2026-11-22T01:00:00.123456Z", 0, T_2026_11_22_01 + 123}, /* beyond ms truncated */
    {"2026-11-22T01:00:00.1239Z", 0, T_2026_11_22_01 + 123},
    {"2026-11-22T01:00:00.05Z", 0, T_2026_11_22_01 + 50},
    {"2026-11-22T01:00:00.000Z", 0, T_2026_11_22_01},
    {"2026-11-22T09:00:00+08:00", 0, T_2026_11_22_01}, /* Beijing time */
    {"2026-11-21T19:30:00-05:30", 0, T_2026_11_22_01}, /* 19:30 + 5:30 = 01:00 next day */
    {"2026-11-22T01:00:00+00:00", 0, T_2026_11_22_01},
    {"2026-11-22T01:00:00-00:00", 0, T_2026_11_22_01},
    {"2026-11-22T09:00:00.5+08:00", 0, T_2026_11_22_01 + 500},
    {"2026-11-22t01:00:00z", 0, T_2026_11_22_01},
    {"2026-11-22t01:00:00Z", 0, T_2026_11_22_01},
    {"2026-11-22T01:00:00z", 0, T_2026_11_22_01},
    {"1970-01-01T08:00:00+08:00", 0, 0},
    {"2000-02-29T00:00:00Z", 0, T_2000_02_29},
    {"2000-03-01T00:00:00Z", 0, T_2000_02_29 + 86400000},
    {"2024-12-31T23:59:59.999Z", 0, T_2025_01_01 - 1},
    {"2025-01-01T00:00:00Z", 0, T_2025_01_01},
    {"9999-12-31T23:59:59Z", 0, T_9999_END},

    /* invalid */
    {"2026-11-22T01:00:00", -EINVAL, 0},  /* no zone */
    {"2026-13-01T00:00:00Z", -EINVAL, 0}, /* month 13 */
    {"2026-00-10T00:00:00Z", -EINVAL, 0}, /* month 0 */
    {"2026-02-30T00:00:00Z", -EINVAL, 0}, /* Feb 30 */
    {"2026-04-31T00:00:00Z", -EINVAL, 0}, /* April has 30 days */
    {"2026-11-00T00:00:00Z", -EINVAL, 0}, /* day 0 */
    {"2026-11-32T00:00:00Z", -EINVAL, 0}, /* day 32 */
    {"2025-02-29T00:00:00Z", -EINVAL, 0}, /* 2025 is not a leap year */
    {"2100-02-29T00:00:00Z", -EINVAL, 0}, /* nor is 2100 (century, not /400) */
    {"2026-11-22T24:00:00Z", -EINVAL, 0}, /* hour 24 */
    {"2026-11-22T01:60:00Z", -EINVAL, 0}, /* minute 60 */
    {"2026-11-22T01:00:61Z", -EINVAL, 0}, /* second 61 */
    {"garbage", -EINVAL, 0},
    {"", -EINVAL, 0},
    {NULL, -EINVAL, 0},
    {"2026-11-22", -EINVAL, 0},            /* a date alone */
    {"2026-11-22T01:00Z", -EINVAL, 0},     /* no seconds */
    {"2026-11-22T01:00:00.Z", -EINVAL, 0}, /* empty fraction */
    {"2026-11-22T01:00:00Zjunk", -EINVAL, 0},
    {"2026-11-22T01:00:00Z ", -EINVAL, 0},
    {" 2026-11-22T01:00:00Z", -EINVAL, 0},
    {"2026-11-22T01:00:00+8:00", -EINVAL, 0},
    {"2026-11-22T01:00:00+08", -EINVAL, 0},
    {"2026-11-22T01:00:00+0800", -EINVAL, 0},
    {"2026-11-22T01:00:00+24:00", -EINVAL, 0},
    {"2026-11-22T01:00:00+08:60", -EINVAL, 0},
    {"2026/11/22T01:00:00Z", -EINVAL, 0},
    {"2026-11-22X01:00:00Z", -EINVAL, 0},
    {"26-11-22T01:00:00Z", -EINVAL, 0},
    {"2026-1-22T01:00:00Z", -EINVAL, 0},
    {"2026-11-22T1:00:00Z", -EINVAL, 0},
    {"+2026-11-22T01:00:00Z", -EINVAL, 0},
    {"2026-11-22T01:00:00UTC", -EINVAL, 0},
};

static void test_parse(void)
{
    for (size_t i = 0; i < N(parse_cases); i++) {
        const struct parse_case *c = &parse_cases[i];
        int64_t ms = -42;
        int r = timefmt_parse(c->s, &ms);
        CHECK(r == c->want_rc, "timefmt_parse(%s): rc %d, want %d", c->s ? c->s : "NULL", r,
              c->want_rc);
        if (c->want_rc == 0)
            CHECK(ms == c->want_ms, "timefmt_parse(%s): %" PRId64 " ms, want %" PRId64, c->s, ms,
                  c->want_ms);
    }
}

struct format_case {
    int64_t ms;
    const char *want;
};

static const struct format_case format_cases[] = {
    {0, "1970-01-01T00:00:00Z"},
    {1000, "1970-01-01T00:00:01Z"},
    {T_2026_11_22_01, "2026-11-22T01:00:00Z"},
    {T_2026_11_22_01 + 123, "2026-11-22T01:00:00.123Z"},
    {T_2026_11_22_01 + 500, "2026-11-22T01:00:00.500Z"},
    {T_2026_11_22_01 + 1, "2026-11-22T01:00:00.001Z"},
    {T_2026_11_22_01 + 999, "2026-11-22T01:00:00.999Z"},
    {T_2026_11_22_01 + 1000, "2026-11-22T01:00:01Z"},
    {T_2000_02_29, "2000-02-29T00:00:00Z"},
    {T_2000_02_29 + 86400000, "2000-03-01T00:00:00Z"},
    {T_2025_01_01 - 1, "2024-12-31T23:59:59.999Z"},
    {T_2025_01_01, "2025-01-01T00:00:00Z"},
    {T_9999_END, "9999-12-31T23:59:59Z"},
    {-1, "1969-12-31T23:59:59.999Z"},
    {-1000, "1969-12-31T23:59:59Z"},
    {-86400000, "1969-12-31T00:00:00Z"},
};

static void test_format(void)
{
    for (size_t i = 0; i < N(format_cases); i++) {
        const struct format_case *c = &format_cases[i];
        char buf[32];
        memset(buf, 'Z', sizeof(buf));
        timefmt_format(c->ms, buf, sizeof(buf));
        CHECK_STR(str(buf), c->want, "timefmt_format");
        /* Whatever is formatted from 1970 on parses back to the same instant. */
        if (c->ms >= 0) {
            int64_t back = -42;
            int r = timefmt_parse(buf, &back);
            CHECK(r == 0 && back == c->ms, "round trip %s: %" PRId64 ", want %" PRId64, buf, back,
                  c->ms);
        }
    }

    /* A small buffer is truncated, not overrun. */
    char small[40];
    memset(small, 'Z', sizeof(small));
    timefmt_format(T_2026_11_22_01 + 123, small, 11);
    CHECK_STR(str(small), "2026-11-22", "timefmt_format truncates to the buffer");
    CHECK(small[11] == 'Z', "timefmt_format writes nothing past len");

    /*
     * Round trips over 1970..2100 at an odd stride so every month, leap day and time of
     * day is visited; ".mmm" appears exactly when the milliseconds are not 0.
     */
    int fails = 0, frac_wrong = 0, n = 0;
    const int64_t stride = INT64_C(86400000) * 17 + 3600000 * 5 + 60000 * 7 + 1000 * 11 + 250;
    for (int64_t ms = 0; ms < INT64_C(4102444800000); ms += stride, n++) {
        char buf[32];
        int64_t back = -1;
        timefmt_format(ms, buf, sizeof(buf));
        if (timefmt_parse(buf, &back) != 0 || back != ms)
            fails++;
        bool has_frac = strchr(buf, '.') != NULL;
        if (has_frac != (ms % 1000 != 0) || strlen(buf) != (has_frac ? 24u : 20u))
            frac_wrong++;
    }
    CHECK(n > 2500, "round-trip sweep covered %d instants", n);
    CHECK(fails == 0, "round-trip sweep: %d of %d failed", fails, n);
    CHECK(frac_wrong == 0, "round-trip sweep: %d of %d with the wrong fraction or length",
          frac_wrong, n);
}

int main(void)
{
    test_parse();
    test_format();
    return check_done();
}
