/*
 * routebase — the routing inputs that do not depend on the request: centers,
 * regions, latency and pools with their traits and prices resolved. The
 * inventory builds one each time it reloads; routing turns it into the core's
 * inputs for one origin, time and set of live holds.
 *
 * A base also round-trips through JSON exactly (every double, every string),
 * so the store can keep each base a decision was made on (an "epoch") and a
 * decision's full candidate list can be computed again, bit for bit, from the
 * epoch, the decision's time and the holds live at that moment, instead of
 * being written out on every request. Pure: no clock, no I/O.
 */
#ifndef SUANWANG_ROUTEBASE_H
#define SUANWANG_ROUTEBASE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "route.h"

struct base_region {
    const char *id; /* borrowed */
    double lat;
    double lon;
};

struct base_latency {
    size_t a; /* index into regions */
    size_t b;
    double rtt_ms;
    enum rtt_source source;
};

struct route_base {
    struct route_center *centers; /* owned array; rtt_ms/rtt_source unset */
    size_t ncenters;
    size_t *center_region; /* owned; index into regions, nregions when unknown */
    int64_t *staleness_ms; /* owned; per center */
    struct base_region *regions;
    size_t nregions;
    struct base_latency *latency;
    size_t nlatency;
    struct route_pool *pools; /* owned array; held, confirmed_unseen, stale unset */
    size_t npools;
    int64_t *observed_at;  /* owned; per pool, ms */
    double *list_price;    /* owned; per pool, in list_currency */
    const char **currency; /* owned array of borrowed strings; per pool */
    /* What borrowed strings point into when the base was read from JSON. */
    cJSON *doc;                  /* owned or NULL */
    struct label **owned_labels; /* owned or NULL; per center */
};

/* The core's inputs for one origin: arrays owned, strings borrowed from the base. */
struct route_input {
    struct route_center *centers;
    size_t ncenters;
    struct route_pool *pools;
    size_t npools;
    const double *list_price;    /* borrowed from the base */
    const char *const *currency; /* borrowed from the base */
};

/*
 * Allocates a base's arrays for ncenters / nregions / nlatency / npools,
 * zeroed; the caller fills them. 0 or -ENOMEM (base left empty).
 */
int route_base_alloc(struct route_base *b, size_t ncenters, size_t nregions, size_t nlatency,
                     size_t npools);
void route_base_free(struct route_base *b);

/* Index of a region by id, or b->nregions. */
size_t route_base_region(const struct route_base *b, const char *id);

/* Index of the pool (center id, model), or b->npools. */
size_t route_base_pool(const struct route_base *b, const char *center, const char *model);

/*
 * RTT from region `from` to region `to` (indices; nregions = unknown): the
 * latency table first, then the same-region constant, then the great-circle
 * estimate of geo.h (marked estimated); an unknown region is unreachable.
 */
void route_base_rtt(const struct route_base *b, size_t from, size_t to, double *ret_ms,
                    enum rtt_source *ret_source);

/*
 * Builds the core's inputs for requests from `origin` at `now`: RTT per
 * center, staleness per pool, and held / confirmed_unseen per pool from the
 * two arrays (npools entries each; NULL = none). 0, -ENOENT (unknown origin),
 * -ENOMEM.
 */
int route_base_input(const struct route_base *b, const char *origin, int64_t now, const long *held,
                     const long *confirmed_unseen, struct route_input *ret);
void route_input_free(struct route_input *in);

/* Sets held / confirmed_unseen of every pool of in from the two arrays (NULL = none). */
void route_input_usage(struct route_input *in, const long *held, const long *confirmed_unseen);

/*
 * Sets the stale flag of every pool of in (built from b) for `now`, and
 * returns the first time after it at which a fresh pool turns stale
 * (INT64_MAX when none will): the flags hold for [now, that time).
 */
int64_t route_input_stale(const struct route_base *b, int64_t now, struct route_input *in);

/* The base as JSON text (owned) that route_base_from_json reads back exactly; NULL on ENOMEM. */
char *route_base_json(const struct route_base *b);

/*
 * Reads a base written by route_base_json (parsed with cJSON); takes ownership of doc (freed on
 * failure too). 0, -EINVAL (not such a document), -ENOMEM.
 */
int route_base_from_json(cJSON *doc, struct route_base *ret);

#endif
