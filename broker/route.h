/*
 * route — the routing core: given a request, the candidate pools with their
 * centers, and the tenant's vouchers, decide where the cards go (SPEC §2).
 * Pure and deterministic: no clock, no I/O; the caller fills in staleness,
 * round-trip times from the request's origin and live holds. It records, for
 * every pool, its reject reason or its score terms, so that every decision can
 * be explained.
 */
#ifndef SUANWANG_ROUTE_H
#define SUANWANG_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"

/* Upper bounds that keep every product of counts, prices and hours finite. */
#define ROUTE_MAX_CARDS 1000000L
#define ROUTE_MAX_PFLOPS 1e6
#define ROUTE_MAX_HOURS 87600.0

struct label {
    const char *key;   /* borrowed */
    const char *value; /* borrowed */
};

struct route_center {
    const char *id;     /* borrowed */
    const char *region; /* borrowed */
    enum center_status status;
    const struct label *labels; /* borrowed */
    size_t nlabels;
    double rtt_ms; /* from the request's origin to this center's region */
    enum rtt_source rtt_source;
};

struct route_pool {
    size_t center;     /* index into the centers array */
    const char *model; /* borrowed; canonical catalog name when known */
    bool domestic;
    double memory_gib;
    double tflops[PREC_COUNT]; /* dense peak per precision; 0 = unsupported */
    long total;
    long free; /* as the feed said */
    long largest_block;
    long held;             /* cards in live holds on this pool */
    long confirmed_unseen; /* cards confirmed after the feed's observed_at */
    double price;          /* list price per card-hour, CNY */
    bool stale;            /* the feed is older than the center's staleness limit */
};

struct route_voucher {
    const char *id;             /* borrowed */
    double rate;                /* share of the list total it pays, (0, 1] */
    double balance;             /* CNY left */
    bool usable;                /* valid now, owned by the requesting tenant */
    const char *const *centers; /* borrowed; eligible centers, none = any */
    size_t ncenters;
    const char *const *regions; /* borrowed; eligible regions, none = any */
    size_t nregions;
    bool domestic_only;
};

struct route_request {
    enum precision precision;
    long cards;    /* > 0, or 0 when pflops is used */
    double pflops; /* > 0 when cards is 0 */
    double hours;
    double max_latency_ms; /* < 0: no limit */
    double max_price;      /* per card-hour after subsidy, CNY; < 0: no limit */
    double min_memory_gib; /* 0: no limit */
    bool domestic_only;
    const char *const *regions_allowed; /* borrowed; none = all */
    size_t nallowed;
    const char *const *regions_denied; /* borrowed */
    size_t ndenied;
    const struct label *labels; /* borrowed; all must match */
    size_t nlabels;
    bool gang; /* all cards in one pool */
    struct weights weights;
};

struct route_terms {
    double cost;
    double latency;
    double balance;
};

struct route_candidate {
    size_t pool;        /* index into the pools array */
    enum reject reason; /* REJECT_NONE when eligible */
    long cards;         /* cards this pool would need for the whole request */
    long available;     /* free - held - confirmed_unseen, at least 0 */
    double list_total;  /* price * cards * hours */
    double subsidy;     /* from the best applicable voucher */
    double effective_total;
    int voucher;              /* index into vouchers, or -1 */
    double util_after;        /* the center's used fraction after this placement */
    struct route_terms terms; /* unweighted; valid when eligible */
    double score;             /* valid when eligible */
    int rank;                 /* 0 = best eligible; -1 when rejected */
    bool chosen;
};

struct route_piece {
    size_t candidate; /* index into candidates */
    long cards;
    double list_total;
    double subsidy;
    double effective_total;
};

struct route_result {
    struct route_candidate *candidates; /* owned; one per pool, in pool order */
    size_t ncandidates;
    size_t *ranked; /* owned; eligible candidate indices, best first: the first nranked */
    size_t neligible;
    size_t nranked;             /* all eligible with ROUTE_RANK_ALL; else at least those chosen, the
                                   runner-up and the top-3 alternatives not chosen */
    struct route_piece *pieces; /* owned; empty when nothing fits */
    size_t npieces;
    bool placed;
    int voucher; /* voucher applied to the placement, or -1 */
    long cards;  /* cards placed over all pieces */
    double list_total;
    double subsidy;
    double effective_total;
    long reasons[REJECT_COUNT]; /* rejected candidates per reason */
    bool borrowed;              /* candidates and ranked belong to a route_scratch */
};

/*
 * Cards a pool needs to deliver `pflops` at a precision it runs at `tflops`:
 * ceil(pflops * 1000 / tflops), with a tolerance of 1e-9 for rounding error.
 * Returns 0 when tflops <= 0, and at most ROUTE_MAX_CARDS + 1.
 */
long route_cards_for_pflops(double pflops, double tflops);

/*
 * Decides. On success returns 0 and fills *ret (free it with
 * route_result_free); ret->placed tells whether anything fits. Returns -EINVAL
 * for a request outside its bounds and -ENOMEM on allocation failure, leaving
 * *ret empty.
 */
int route_decide(const struct route_request *req, const struct route_center *centers,
                 size_t ncenters, const struct route_pool *pools, size_t npools,
                 const struct route_voucher *vouchers, size_t nvouchers, struct route_result *ret);

/* Rank every eligible candidate (the rank of each); without it only the top ones. */
#define ROUTE_RANK_ALL 1u

/*
 * route_decide with flags: without ROUTE_RANK_ALL only as many candidates are
 * ranked as the choice, the runner-up and the alternatives need (a heap instead
 * of a full sort); those and everything else come out the same.
 */
int route_decide_ranked(const struct route_request *req, const struct route_center *centers,
                        size_t ncenters, const struct route_pool *pools, size_t npools,
                        const struct route_voucher *vouchers, size_t nvouchers, unsigned flags,
                        struct route_result *ret);

/*
 * Working memory kept between decisions: route_decide_scratch grows it as
 * needed and the result's candidates and ranked arrays live in it (the result
 * is "borrowed"), valid until the next decision with the same scratch. Saves
 * a request the allocation (and the allocator's upkeep) of arrays as long as
 * the inventory. Zero-initialise; free with route_scratch_free.
 */
struct route_scratch {
    struct route_candidate *candidates;
    size_t *ranked, *tmp;
    double *score, *eff;
    long *center_total, *center_used;
    size_t npools, ncenters; /* capacities: of the first five arrays, of the last two */
};

/* route_decide_ranked using (and growing) scratch, which must not be NULL. */
int route_decide_scratch(const struct route_request *req, const struct route_center *centers,
                         size_t ncenters, const struct route_pool *pools, size_t npools,
                         const struct route_voucher *vouchers, size_t nvouchers, unsigned flags,
                         struct route_scratch *scratch, struct route_result *ret);
void route_scratch_free(struct route_scratch *s);

/* Frees what route_decide allocated (not a scratch's arrays) and zeroes *r. NULL is a no-op. */
void route_result_free(struct route_result *r);

/*
 * Writes one or two sentences explaining the decision: what was chosen and
 * why the runner-up lost (the weighted term that differs most), or why
 * nothing fits. Returns the length written (truncated to fit), as snprintf.
 */
int route_explain(const struct route_request *req, const struct route_center *centers,
                  const struct route_pool *pools, const struct route_result *res, char *buf,
                  size_t len);

#endif
