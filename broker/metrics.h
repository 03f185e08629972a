/*
 * metrics — what GET /metrics reports: request counters per route-table row
 * and status code, routing decisions by outcome with a latency histogram, all
 * kept in memory by the one loop thread; and the Prometheus text exposition
 * (format 0.0.4) of those together with gauges the caller reads from the
 * store. No I/O and no SQL here: api.c gathers the gauges.
 */
#ifndef SUANWANG_METRICS_H
#define SUANWANG_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define METRICS_MAX_ROUTES 64        /* route-table rows counted, plus one for "unmatched" */
#define METRICS_MAX_BYTES (4u << 20) /* the exposition's cap */

struct metrics;

/* How a routing decision ended. */
enum metrics_outcome {
    METRICS_PLACED,      /* a hold was made */
    METRICS_QUOTED,      /* a dry run */
    METRICS_UNPLACEABLE, /* nothing fits (409) */
    METRICS_OVER_QUOTA,  /* it fits but the tenant's quota does not (429) */
    METRICS_OUTCOMES
};

/* The labels of one route-table row. */
struct metrics_route {
    const char *method;
    const char *pattern;
};

/* What the exposition reads besides the counters; everything borrowed. */
struct metrics_view {
    const struct metrics_route *routes; /* the route table; row nroutes is "unmatched" */
    size_t nroutes;
    const struct store_stats *stats;
    const struct center_row *centers; /* with feeds, for feed ages and errors */
    size_t ncenters;
    bool feeds_running;     /* the pull scheduler runs: the two below are reported */
    bool feeds_ready;       /* every pull feed has been polled once since start */
    unsigned feeds_pending; /* pull feeds whose first poll since start has not ended */
    int64_t now;            /* ms */
};

/* Returns 0 and a zeroed set of counters, or -ENOMEM. */
int metrics_new(struct metrics **ret);
/* NULL is a no-op. */
void metrics_free(struct metrics *m);

/*
 * Counts one answered request of route-table row `route` (the row count for
 * an unmatched path). Rows at or past METRICS_MAX_ROUTES and statuses outside
 * 100..599 are not counted. m may be NULL (counts nothing).
 */
void metrics_request(struct metrics *m, size_t route, int status);

/* Counts one recorded routing decision and its time taken. m may be NULL. */
void metrics_decision(struct metrics *m, enum metrics_outcome outcome, int64_t elapsed_us);

/*
 * Writes the exposition into a malloc'ed buffer (*ret, *ret_len; not
 * NUL-terminated for the caller's use, though it is). m may be NULL: the
 * counters are then all zero. Returns 0, -ENOMEM, or -E2BIG past
 * METRICS_MAX_BYTES.
 */
int metrics_render(const struct metrics *m, const struct metrics_view *v, char **ret,
                   size_t *ret_len);

#endif
