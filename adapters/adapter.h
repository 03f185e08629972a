/*
 * adapter — the one interface every feed format implements: a pure parse()
 * from a vendor document to pool snapshots, plus a description of the
 * adapter's configuration for operators. Adapters do no I/O; the feed
 * scheduler fetches, the adapter parses, the inventory applies.
 */
#ifndef SUANWANG_ADAPTER_H
#define SUANWANG_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "model.h"

#define ADAPTER_MAX_POOLS 1024
#define ADAPTER_MAX_CARDS 10000000L

/* One (center, model) pool as a feed states it; catalog values fill the rest. */
struct pool_snapshot {
    char model[64]; /* as the feed names it */
    long total;
    long free;
    long largest_block;
    double price;              /* list price per card-hour in currency */
    double spot_price;         /* < 0 when not offered */
    char currency[4];          /* ISO 4217, upper case */
    char vendor[32];           /* "" when not stated */
    double memory_gib;         /* < 0 when not stated */
    int domestic;              /* -1 not stated, 0 or 1 */
    double tflops[PREC_COUNT]; /* < 0 when not stated */
};

struct feed_snapshot {
    char center[65];             /* "" when the document does not say */
    int64_t observed_at_ms;      /* 0 when the document does not say */
    struct pool_snapshot *pools; /* owned */
    size_t npools;
};

struct adapter_option {
    const char *name;
    const char *type; /* "string", "number", "object", ... */
    bool required;
    const char *description;
};

/*
 * Parses one document. options is the feed's "options" object (may be NULL).
 * Returns 0 and fills *ret (free with feed_snapshot_free), or -EINVAL with
 * *err naming the field at fault, or -ENOMEM.
 */
typedef int adapter_parse_fn(const char *doc, size_t len, const cJSON *options,
                             struct feed_snapshot *ret, struct json_error *err);

struct adapter {
    const char *name;
    const char *description;
    bool push;                            /* accepts documents through the API */
    bool pull;                            /* can be fetched from a URL */
    const struct adapter_option *options; /* terminated by a NULL name */
    adapter_parse_fn *parse;
};

/* The adapters built in, terminated by NULL. */
extern const struct adapter *const adapter_registry[];

/* The adapter of that name, or NULL. */
const struct adapter *adapter_find(const char *name);

void feed_snapshot_free(struct feed_snapshot *s);

extern const struct adapter adapter_native;

#endif
