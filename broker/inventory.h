/*
 * inventory — the broker's in-memory view of what routing reads on every
 * request: the catalog, regions, latency, centers and their pools, loaded
 * from the store and reloaded after any change (invalidate, then refresh).
 * It turns that view into the routing core's inputs for one origin, and
 * applies parsed feed snapshots to the store. Cards in live holds and
 * confirmed cards per pool are read from the store after each reload and after
 * any placement transition or expiry, and kept up to date in between by the
 * holds this process adds (inventory_hold_added), so they are never stale.
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
#include "routebase.h"
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
    size_t *pool_center;    /* owned; index into centers per pool */
    struct route_base base; /* owned; routing inputs built from the above, pools in order */
    int64_t epoch;          /* the stored copy of base, 0 before the first decision on it */
    long *held;             /* owned; per pool, cards in live holds */
    long *unseen;           /* owned; per pool, cards confirmed after the feed's observed_at */
    bool usage_loaded;
    uint64_t usage_changes;       /* store_placement_changes when held/unseen were loaded */
    uint64_t usage_gen;           /* counts changes of held/unseen */
    struct origin_input *origins; /* owned; per region of base, built on first use */
    struct route_scratch scratch; /* owned; routing's working memory, kept across reloads */
    int64_t old_epoch;            /* the epoch in old_base, 0 = none */
    struct route_base old_base; /* owned; the last earlier epoch read back (kept across reloads) */
};

/* The routing inputs for requests from one origin, kept between inventory changes. */
struct origin_input {
    struct route_input in; /* owned; in.pools NULL until built */
    uint64_t usage_gen;    /* the inventory's usage_gen its held / confirmed_unseen are from */
    int64_t stale_from;    /* its stale flags hold for [stale_from, stale_until) */
    int64_t stale_until;
};

void inventory_init(struct inventory *inv, struct store *st, const struct config *cfg);
void inventory_free(struct inventory *inv);

/* Marks the cache old; the next refresh reloads from the store. */
void inventory_invalidate(struct inventory *inv);

/* Loads from the store when invalidated. 0 or a negative errno (cache left empty). */
int inventory_refresh(struct inventory *inv);

const struct region *inventory_region(const struct inventory *inv, const char *id);
const struct center_row *inventory_center(const struct inventory *inv, const char *id);

/*
 * The routing inputs for `origin` at `now`; pool i of them is pool i of
 * inv->base. They belong to the inventory: valid until its next call. Kept per
 * origin and brought up to date (holds, staleness) on each call, built again
 * after a reload. 0, -ENOENT (origin), -ENOMEM, or a store error.
 */
int inventory_route_input(struct inventory *inv, const char *origin, int64_t now,
                          const struct route_input **ret);

/* Counts a hold this process committed on pool i of inv->base. */
void inventory_hold_added(struct inventory *inv, size_t pool, long cards);

/* The id of the stored copy of inv->base, storing it first if needed. */
int inventory_epoch(struct inventory *inv, int64_t now, int64_t *ret);

/*
 * The routing inputs of a stored epoch, read from the store: inv->base itself
 * when it is the current one, else the last earlier epoch asked for is kept
 * parsed. Valid until the next inventory call. 0, -ENOENT, -EINVAL (not such
 * a document), -ENOMEM or a store error.
 */
int inventory_epoch_base(struct inventory *inv, int64_t epoch, const struct route_base **ret);

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

/* One feed's parsed poll in a batch for inventory_apply_batch. */
struct inventory_apply {
    const char *center;         /* borrowed */
    int idx;                    /* the feed */
    struct feed_snapshot *snap; /* borrowed; NULL for a feed that is only looked at (see below) */
    bool strict;                /* as for inventory_apply_snapshot */
    bool sole;                  /* the feed is its center's only one */
    int result;                 /* out: 0 applied, -EINVAL refused (err says why), 1 not done */
    bool in_pools;              /* out, when applied: the snapshot was kept only as the center's
                                   pools (sole, and every pool with counts and a price); record
                                   it with store_feed_results_ok */
    struct json_error err;      /* out, when refused */
    char warning[256];          /* out, when applied: the feed's warning to record (snap's own
                                   and the note about models with no price) */
};

/*
 * inventory_apply_snapshot for many feeds at once, inside the caller's
 * transaction, with a few statements for all of them: the same rows, merged
 * the same way. The items of a center named more than once (snap NULL
 * included) are left not done, for inventory_apply_snapshot one by one; so
 * are those that ran out of memory. Returns 0 (each item says how it ended)
 * or a negative errno: a statement failed, and the caller must undo what the
 * batch wrote (run it inside a savepoint) and apply every item one by one.
 * snap->warning is not changed.
 */
int inventory_apply_batch(struct inventory *inv, struct inventory_apply *items, size_t n,
                          int64_t now);

/*
 * Recomputes a center's pools from its feeds' snapshots (caller's transaction).
 * unpriced (may be NULL) gets the models that have counts but no price anywhere.
 */
int inventory_merge_center(struct inventory *inv, const char *center, char *unpriced,
                           size_t unpriced_len);

#endif
