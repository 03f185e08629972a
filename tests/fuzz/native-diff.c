/*
 * native-diff — compares the native scanner's snapshot with the strict
 * reader's, field by field; numbers bit for bit, so that even the sign of a
 * zero or the last bit of a rounding must agree.
 */
#include "native-diff.h"

#include <errno.h>
#include <string.h>

#include "native.h"

static bool same_double(double a, double b)
{
    return memcmp(&a, &b, sizeof(a)) == 0;
}

static const char *pool_diff(const struct pool_snapshot *a, const struct pool_snapshot *b)
{
    if (strcmp(a->model, b->model) != 0)
        return "a pool's model differs";
    if (a->has_counts != b->has_counts || a->total != b->total || a->free != b->free ||
        a->largest_block != b->largest_block)
        return "a pool's counts differ";
    if (a->has_price != b->has_price || !same_double(a->price, b->price) ||
        !same_double(a->spot_price, b->spot_price) || strcmp(a->currency, b->currency) != 0)
        return "a pool's prices differ";
    if (strcmp(a->vendor, b->vendor) != 0 || !same_double(a->memory_gib, b->memory_gib) ||
        a->domestic != b->domestic)
        return "a pool's vendor, memory or domestic differs";
    for (int p = 0; p < PREC_COUNT; p++) {
        if (!same_double(a->tflops[p], b->tflops[p]))
            return "a pool's tflops differ";
    }
    return NULL;
}

const char *native_diff(const char *doc, size_t len, bool *scanned)
{
    struct feed_snapshot fast, strict;
    struct json_error err;
    const char *why = NULL;

    *scanned = false;
    int r = native_scan(doc, len, &fast);
    if (r == -ENOMEM)
        return NULL; /* nothing to compare; the caller's allocator failed */
    if (r == 0)
        return fast.pools || fast.npools || fast.next_url ? "a declined document left pools" : NULL;
    if (r != 1)
        return "the scanner returned neither 1, 0 nor -ENOMEM";
    *scanned = true;
    memset(&err, 0, sizeof(err));
    r = native_parse_strict(doc, len, &strict, &err);
    if (r == -ENOMEM) {
        feed_snapshot_free(&fast);
        return NULL;
    }
    if (r != 0) {
        why = "the scanner read a document the strict reader refuses";
    } else if (strcmp(fast.center, strict.center) != 0) {
        why = "center differs";
    } else if (fast.observed_at_ms != strict.observed_at_ms) {
        why = "observed_at differs";
    } else if (fast.npools != strict.npools) {
        why = "the number of pools differs";
    } else if (fast.next_url || strict.next_url || fast.warning[0] || strict.warning[0]) {
        why = "a native snapshot has a next page or a warning";
    } else {
        for (size_t i = 0; i < fast.npools && !why; i++)
            why = pool_diff(&fast.pools[i], &strict.pools[i]);
    }
    feed_snapshot_free(&fast);
    feed_snapshot_free(&strict);
    return why;
}
