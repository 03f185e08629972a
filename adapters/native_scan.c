/*
 * native_scan — a native feed document read in one pass, straight into the
 * snapshot: no tree, no allocation but the pool array. Feeds poll every few
 * seconds from every center, and nearly every document is plain, so this is
 * the broker's hot path for ingestion. It accepts only what it can read
 * exactly as the strict reader would and declines everything else (see
 * native.h), so that path keeps the errors and the rare forms.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "native.h"
#include "timefmt.h"

/* Longest number token read here; cJSON reads at most 63 characters of one. */
#define SCAN_NUMBER_MAX 40

#define POOL_FIELDS 11 /* enum pool_field */

struct scan {
    const char *p;
    const char *end;
    /* The pool member that followed each one (and, last, the first) in the pool before: the
       next pool most likely lists its members in the same order. -1 when not known. */
    signed char follow[POOL_FIELDS + 1];
};

static void skip_ws(struct scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

/* Consumes c after white space. */
static bool eat(struct scan *s, char c)
{
    skip_ws(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return true;
    }
    return false;
}

/* Consumes the literal word (true, false, null) after white space. */
static bool literal(struct scan *s, const char *word, size_t n)
{
    skip_ws(s);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return false;
    s->p += n;
    return true;
}

/* A string of printable ASCII with no escape; *str and *n point into the text. */
static bool string(struct scan *s, const char **str, size_t *n)
{
    if (!eat(s, '"'))
        return false;
    const char *q = s->p;
    while (q < s->end && *q != '"') {
        unsigned char c = (unsigned char)*q;
        if (c < 0x20 || c >= 0x7f || c == '\\')
            return false;
        q++;
    }
    if (q == s->end)
        return false;
    *str = s->p;
    *n = (size_t)(q - s->p);
    s->p = q + 1;
    return true;
}

static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static bool is_digit(const char *p, const char *end)
{
    return p < end && *p >= '0' && *p <= '9';
}

/*
 * A JSON number of at most 15 significant digits times a power of ten up to
 * 22: both are exact doubles, so one multiplication or division rounds
 * correctly and the value equals strtod's.
 */
static bool number(struct scan *s, double *ret)
{
    skip_ws(s);
    const char *p = s->p, *end = s->end;
    bool neg = p < end && *p == '-';
    if (neg)
        p++;
    if (!is_digit(p, end))
        return false;
    uint64_t m = 0;
    int digits = 0, exp10 = 0;
    if (*p == '0') {
        p++;
    } else {
        for (; is_digit(p, end); p++) {
            if (digits++ == 15)
                return false;
            m = m * 10 + (uint64_t)(*p - '0');
        }
    }
    if (p < end && *p == '.') {
        p++;
        if (!is_digit(p, end))
            return false;
        for (; is_digit(p, end); p++) {
            exp10--;
            if (m == 0 && *p == '0')
                continue; /* a leading zero of the fraction: not significant */
            if (digits++ == 15)
                return false;
            m = m * 10 + (uint64_t)(*p - '0');
        }
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        bool eneg = p < end && *p == '-';
        if (p < end && (*p == '-' || *p == '+'))
            p++;
        if (!is_digit(p, end))
            return false;
        int e = 0;
        for (; is_digit(p, end); p++) {
            if (e > 1000)
                return false;
            e = e * 10 + (*p - '0');
        }
        exp10 += eneg ? -e : e;
    }
    if (p - s->p > SCAN_NUMBER_MAX)
        return false;
    double d = 0;
    if (m != 0) {
        if (exp10 < -22 || exp10 > 22)
            return false;
        d = exp10 < 0 ? (double)m / pow10_exact[-exp10] : (double)m * pow10_exact[exp10];
    }
    *ret = neg ? -d : d;
    s->p = p;
    return true;
}

/* A number in [min, max]. */
static bool number_in(struct scan *s, double min, double max, double *ret)
{
    double d;
    if (!number(s, &d) || d < min || d > max)
        return false;
    *ret = d;
    return true;
}

/* A whole number of cards, 0..ADAPTER_MAX_CARDS. */
static bool cards(struct scan *s, long *ret)
{
    double d;
    if (!number_in(s, 0, (double)ADAPTER_MAX_CARDS, &d) || (double)(long)d != d)
        return false;
    *ret = (long)d;
    return true;
}

/* A string of 1..max bytes copied into dst (at least max + 1 bytes). */
static bool string_into(struct scan *s, char *dst, size_t max)
{
    const char *v;
    size_t n;
    if (!string(s, &v, &n) || n == 0 || n > max)
        return false;
    memcpy(dst, v, n);
    dst[n] = '\0';
    return true;
}

/*
 * The key of a member and its colon when it is names[guess] (guess >= 0): *ret = guess and
 * true, one comparison instead of reading the string and looking it up. Else false and
 * nothing consumed but white space.
 */
static bool key_guess(struct scan *s, const char *const *names, int guess, int *ret)
{
    if (guess < 0)
        return false;
    skip_ws(s);
    const char *name = names[guess];
    size_t n = strlen(name);
    if ((size_t)(s->end - s->p) < n + 2 || s->p[0] != '"' || memcmp(s->p + 1, name, n) != 0 ||
        s->p[n + 1] != '"')
        return false;
    const char *after = s->p;
    s->p += n + 2;
    if (!eat(s, ':')) {
        s->p = after;
        return false;
    }
    *ret = guess;
    return true;
}

/* The key of a member and its colon; *ret its index in names (NULL-terminated), or -1. */
static bool key(struct scan *s, const char *const *names, int *ret)
{
    const char *k;
    size_t n;
    if (!string(s, &k, &n) || !eat(s, ':'))
        return false;
    *ret = -1;
    for (int i = 0; names[i]; i++) {
        if (n > 0 && names[i][0] == k[0] && strncmp(names[i], k, n) == 0 && names[i][n] == '\0') {
            *ret = i;
            break;
        }
    }
    return true;
}

static bool scan_tflops(struct scan *s, struct pool_snapshot *ps)
{
    if (literal(s, "null", 4))
        return true;
    if (!eat(s, '{'))
        return false;
    if (eat(s, '}'))
        return true;
    do {
        const char *k;
        size_t n;
        char name[8];
        enum precision p;
        if (!string(s, &k, &n) || n >= sizeof(name) || !eat(s, ':'))
            return false;
        memcpy(name, k, n);
        name[n] = '\0';
        /* A precision named twice: the strict reader's answer depends on the order. */
        if (precision_parse(name, &p) < 0 || ps->tflops[p] >= 0)
            return false;
        if (!number_in(s, 0, 1e7, &ps->tflops[p]))
            return false;
    } while (eat(s, ','));
    return eat(s, '}');
}

enum pool_field {
    F_MODEL,
    F_TOTAL,
    F_FREE,
    F_LARGEST,
    F_PRICE,
    F_SPOT,
    F_CURRENCY,
    F_VENDOR,
    F_MEMORY,
    F_DOMESTIC,
    F_TFLOPS,
};
_Static_assert(F_TFLOPS + 1 == POOL_FIELDS, "struct scan's follow has a slot per pool member");

static const char *const pool_keys[] = {
    [F_MODEL] = "model",
    [F_TOTAL] = "total",
    [F_FREE] = "free",
    [F_LARGEST] = "largest_block",
    [F_PRICE] = "price_per_card_hour",
    [F_SPOT] = "spot_price_per_card_hour",
    [F_CURRENCY] = "currency",
    [F_VENDOR] = "vendor",
    [F_MEMORY] = "memory_gib",
    [F_DOMESTIC] = "domestic",
    [F_TFLOPS] = "tflops",
    NULL,
};

/* Reads the value of pool member f; null has been handled by the caller. */
static bool pool_value(struct scan *s, int f, struct pool_snapshot *ps)
{
    switch (f) {
    case F_MODEL:
        return string_into(s, ps->model, sizeof(ps->model) - 1);
    case F_TOTAL:
        return cards(s, &ps->total);
    case F_FREE:
        return cards(s, &ps->free);
    case F_LARGEST:
        return cards(s, &ps->largest_block);
    case F_PRICE:
        return number_in(s, 0, 1e6, &ps->price);
    case F_SPOT:
        return number_in(s, 0, 1e6, &ps->spot_price);
    case F_CURRENCY:
        if (!string_into(s, ps->currency, 3) || strlen(ps->currency) != 3)
            return false;
        for (int i = 0; i < 3; i++) {
            if (ps->currency[i] < 'A' || ps->currency[i] > 'Z')
                return false;
        }
        return true;
    case F_VENDOR:
        return string_into(s, ps->vendor, sizeof(ps->vendor) - 1);
    case F_MEMORY:
        return number_in(s, 0, 1e5, &ps->memory_gib);
    case F_DOMESTIC:
        if (literal(s, "true", 4))
            ps->domestic = 1;
        else if (literal(s, "false", 5))
            ps->domestic = 0;
        else
            return false;
        return true;
    case F_TFLOPS:
        return scan_tflops(s, ps);
    default:
        return false;
    }
}

static bool scan_pool(struct scan *s, struct pool_snapshot *ps)
{
    const unsigned required = 1u << F_MODEL | 1u << F_TOTAL | 1u << F_FREE | 1u << F_PRICE;
    unsigned seen = 0, given = 0;

    memset(ps, 0, sizeof(*ps));
    ps->spot_price = -1;
    ps->memory_gib = -1;
    ps->domestic = -1;
    memcpy(ps->currency, "CNY", sizeof("CNY"));
    for (int p = 0; p < PREC_COUNT; p++)
        ps->tflops[p] = -1;
    if (!eat(s, '{') || eat(s, '}'))
        return false;
    int prev = POOL_FIELDS; /* the first member's slot in follow */
    do {
        int f;
        if (!key_guess(s, pool_keys, s->follow[prev], &f) && !key(s, pool_keys, &f))
            return false;
        if (f < 0 || (seen & 1u << f))
            return false;
        s->follow[prev] = (signed char)f;
        prev = f;
        seen |= 1u << f;
        skip_ws(s);
        if (f != F_TFLOPS && s->p < s->end && *s->p == 'n' && literal(s, "null", 4))
            continue; /* null is absent */
        if (!pool_value(s, f, ps))
            return false;
        given |= 1u << f;
    } while (eat(s, ','));
    if (!eat(s, '}') || (given & required) != required)
        return false;
    if (!(given & 1u << F_LARGEST))
        ps->largest_block = ps->free;
    if (ps->free > ps->total || ps->largest_block > ps->free)
        return false;
    ps->has_counts = true;
    ps->has_price = true;
    return true;
}

/* The pools array: 1 read, 0 declined, -ENOMEM. */
static int scan_pools(struct scan *s, struct feed_snapshot *snap)
{
    size_t cap = 0;
    if (!eat(s, '['))
        return 0;
    if (eat(s, ']'))
        return 1;
    do {
        if (snap->npools == ADAPTER_MAX_POOLS)
            return 0;
        if (snap->npools == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            struct pool_snapshot *np = realloc(snap->pools, ncap * sizeof(*np));
            if (!np)
                return -ENOMEM;
            snap->pools = np;
            cap = ncap;
        }
        struct pool_snapshot *ps = &snap->pools[snap->npools];
        if (!scan_pool(s, ps))
            return 0;
        for (size_t j = 0; j < snap->npools; j++) {
            if (strcasecmp(snap->pools[j].model, ps->model) == 0)
                return 0;
        }
        snap->npools++;
    } while (eat(s, ','));
    return eat(s, ']') ? 1 : 0;
}

enum doc_field { D_CENTER, D_OBSERVED_AT, D_POOLS };

static const char *const doc_keys[] = {
    [D_CENTER] = "center",
    [D_OBSERVED_AT] = "observed_at",
    [D_POOLS] = "pools",
    NULL,
};

/* The document's members: 1 read, 0 declined, -ENOMEM. */
static int scan_doc(struct scan *s, struct feed_snapshot *snap)
{
    unsigned seen = 0;
    if (!eat(s, '{') || eat(s, '}'))
        return 0;
    do {
        int f, r;
        char when[41];
        if (!key(s, doc_keys, &f) || f < 0 || (seen & 1u << f))
            return 0;
        seen |= 1u << f;
        if (f != D_POOLS && literal(s, "null", 4))
            continue; /* null is absent */
        switch (f) {
        case D_CENTER:
            if (!string_into(s, snap->center, sizeof(snap->center) - 1))
                return 0;
            break;
        case D_OBSERVED_AT:
            if (!string_into(s, when, sizeof(when) - 1) ||
                timefmt_parse(when, &snap->observed_at_ms) < 0)
                return 0;
            break;
        default:
            if ((r = scan_pools(s, snap)) <= 0)
                return r;
            break;
        }
    } while (eat(s, ','));
    if (!eat(s, '}') || !(seen & 1u << D_POOLS))
        return 0;
    skip_ws(s);
    return s->p == s->end;
}

int native_scan(const char *text, size_t len, struct feed_snapshot *ret)
{
    struct feed_snapshot snap = {0};
    memset(ret, 0, sizeof(*ret));
    if (!text || len == 0)
        return 0;
    struct scan s = {text, text + len, {0}};
    memset(s.follow, -1, sizeof(s.follow));
    int r = scan_doc(&s, &snap);
    if (r == 1) {
        *ret = snap;
        return 1;
    }
    feed_snapshot_free(&snap);
    return r;
}
