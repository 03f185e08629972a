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
#define ADAPTER_MAX_PRICE 1e6 /* per card-hour, in any currency */

/*
 * One (center, model) pool as a feed states it; catalog values fill the rest.
 * A capacity feed (Slurm, Kubernetes, Prometheus) knows the counts; a price
 * feed (Azure, SkyPilot) knows the price; a center may combine one of each.
 */
struct pool_snapshot {
    char model[64];  /* as the feed names it; the inventory resolves it in the catalog */
    bool has_counts; /* total, free and largest_block are known */
    long total;
    long free;
    long largest_block;        /* most free cards on one node or island */
    bool has_price;            /* price and currency are known */
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
    char *next_url;    /* owned; the next page of a paged feed, or NULL */
    char warning[256]; /* "" or why the data may be partial (kept with the feed) */
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

/*
 * Checks a feed's options beyond what the option table says (types and
 * required keys are checked generically). Returns 0 or -EINVAL with *err
 * naming the option (pointer relative to the options object). May be NULL.
 */
typedef int adapter_check_fn(const cJSON *options, struct json_error *err);

struct adapter {
    const char *name;
    const char *description;
    bool push;                            /* accepts documents through the API */
    bool pull;                            /* can be fetched from a URL */
    const struct adapter_option *options; /* terminated by a NULL name */
    adapter_parse_fn *parse;
    adapter_check_fn *check_options; /* NULL when the table says it all */
};

/* The adapters built in, terminated by NULL. */
extern const struct adapter *const adapter_registry[];

/* The adapter of that name, or NULL. */
const struct adapter *adapter_find(const char *name);

void feed_snapshot_free(struct feed_snapshot *s);

/*
 * Validates a feed's options object (NULL = none) against the adapter's option
 * table (unknown keys, types, required keys) and its check_options hook. The
 * error's pointer is prefix + the option's path. 0 or -EINVAL.
 */
int adapter_check_options(const struct adapter *a, const cJSON *options, const char *prefix,
                          struct json_error *err);

/*
 * Checks of the options capacity adapters share, for their check_options
 * hooks: "models" (feed name -> catalog model, non-empty printable strings up
 * to 63 bytes), "price_per_card_hour" (model -> 0..ADAPTER_MAX_PRICE) and
 * "currency" (ISO 4217). Each is 0 when the option is absent, else 0 or
 * -EINVAL with the pointer of the bad entry.
 */
int adapter_check_models(const cJSON *options, struct json_error *err);

/*
 * The member of an options map (models, prices) for a name: the exact key
 * first, then one equal when both are reduced to lower-case letters and
 * digits, as the catalog compares names. NULL when none or map is no object.
 */
const cJSON *adapter_map_find(const cJSON *map, const char *name);
int adapter_check_prices(const cJSON *options, struct json_error *err);
int adapter_check_currency(const cJSON *options, struct json_error *err);

extern const struct adapter adapter_native;
extern const struct adapter adapter_slurm;
extern const struct adapter adapter_kubernetes;
extern const struct adapter adapter_prometheus;
extern const struct adapter adapter_azure_retail;
extern const struct adapter adapter_skypilot_csv;
extern const struct adapter adapter_mapping;

#endif
