/*
 * inventory — the broker's in-memory view of what routing reads on every
 * request: the catalog, regions, latency, centers and their pools, loaded
 * from the store and reloaded after any change (invalidate, then refresh).
 * It turns that view into the routing core's inputs for one origin, and
 * applies parsed feed snapshots to the store. Holds and confirmed cards are
 * read from the store per request, so they are never stale.
 */
#ifndef SUANWANG_INVENTORY_H
#define SUANWANG_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "adapter.h"
#include "catalog.h"
#include "config.h"
#include "route.h"
#include "store.h"

struct inventory {
    struct store *st;         /* borrowed */
    const struct config *cfg; /* borrowed */
    bool loaded;
    struct catalog catalog; /* owned */
    struct region *regions; /* owned */
    size_t nregions;
    struct latency_row *latency; /* owned */
    size_t nlatency;
    struct center_row *centers; /* owned */
    size_t ncenters;
    size_t *center_region; /* owned; index into regions per center (nregions if none) */
    cJSON **center_labels; /* owned; parsed labels_json per center */
    struct label **labels; /* owned; label arrays borrowing center_labels */
    size_t *nlabels;
    struct pool_row *pools; /* owned */
    size_t npools;
    size_t *pool_center; /* owned; index into centers per pool */
};

/* The routing core's inputs for one origin; arrays owned, strings borrowed from the inventory. */
struct route_input {
    struct route_center *centers;
    size_t ncenters;
    struct route_pool *pools;
    size_t npools;
    const struct pool_row **rows; /* the stored pool behind each route_pool */
    double *price_cny;            /* per pool, converted */
};

void inventory_init(struct inventory *inv, struct store *st, const struct config *cfg);
void inventory_free(struct inventory *inv);

/* Marks the cache old; the next refresh reloads from the store. */
void inventory_invalidate(struct inventory *inv);

/* Loads from the store when invalidated. 0 or a negative errno (cache left empty). */
int inventory_refresh(struct inventory *inv);

const struct region *inventory_region(const struct inventory *inv, const char *id);
const struct center_row *inventory_center(const struct inventory *inv, const char *id);

/* RTT between two regions: measured/configured when known, else estimated. -ENOENT. */
int inventory_rtt(const struct inventory *inv, const char *a, const char *b, double *ret_ms,
                  enum rtt_source *ret_source);

/* Builds the routing inputs for `origin` at `now`. 0, -ENOENT (origin), -ENOMEM. */
int inventory_route_input(struct inventory *inv, const char *origin, int64_t now,
                          struct route_input *ret);
void route_input_free(struct route_input *in);

/* Whether a pool's snapshot is older than its center's staleness limit at now. */
bool inventory_pool_stale(const struct inventory *inv, const struct pool_row *p, int64_t now);

/* The staleness limit of a center: its own, else 3 x its shortest pull interval, else the default.
 */
long inventory_staleness_s(const struct inventory *inv, const struct center_row *c);

/*
 * Applies a parsed snapshot as feed idx's view of the center (models resolved
 * to the catalog, currencies checked against configured rates) and re-merges
 * the center's pools, inside the caller's transaction. Two pools naming one
 * catalog accelerator are refused when strict (the native schema), else folded
 * together. A model with counts but no price sets snap->warning. Returns 0,
 * -EINVAL with *err naming the pool field, or a negative errno.
 */
int inventory_apply_snapshot(struct inventory *inv, const char *center, int idx,
                             struct feed_snapshot *snap, bool strict, int64_t now,
                             struct json_error *err);

/*
 * Recomputes a center's pools from its feeds' snapshots (caller's transaction).
 * unpriced (may be NULL) gets the models that have counts but no price anywhere.
 */
int inventory_merge_center(struct inventory *inv, const char *center, char *unpriced,
                           size_t unpriced_len);

#endif
