/*
 * policy — the compared placement policies. The route policies hand the
 * broker's routing core the same inventory the broker would: every pool with
 * its feed's free count, live holds and unseen confirms. The baselines share
 * one feasibility filter written here, independent of route.c, and differ only
 * in which feasible pool they take.
 */
#include "policy.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static int choose_route(struct policy_ctx *ctx, const struct ledger *l, size_t job,
                        size_t *ret_pool, long *ret_cards, size_t *ret_npieces);
static int choose_cheapest(struct policy_ctx *ctx, const struct ledger *l, size_t job,
                           size_t *ret_pool, long *ret_cards, size_t *ret_npieces);
static int choose_nearest(struct policy_ctx *ctx, const struct ledger *l, size_t job,
                          size_t *ret_pool, long *ret_cards, size_t *ret_npieces);
static int choose_random(struct policy_ctx *ctx, const struct ledger *l, size_t job,
                         size_t *ret_pool, long *ret_cards, size_t *ret_npieces);
static int choose_round_robin(struct policy_ctx *ctx, const struct ledger *l, size_t job,
                              size_t *ret_pool, long *ret_cards, size_t *ret_npieces);

const struct policy policy_table[] = {
    {"ours",
     "route_decide, default weights (cost 1, latency 0.5, balance 0.2)",
     choose_route,
     {1.0, 0.5, 0.2}},
    {"ours-cost",
     "route_decide, cost-heavy (cost 1, latency 0.1, balance 0.05)",
     choose_route,
     {1.0, 0.1, 0.05}},
    {"ours-latency",
     "route_decide, latency-heavy (cost 0.5, latency 2, balance 0.2)",
     choose_route,
     {0.5, 2.0, 0.2}},
    {"ours-balance",
     "route_decide, balance-heavy (cost 1, latency 0.5, balance 2)",
     choose_route,
     {1.0, 0.5, 2.0}},
    {"cheapest",
     "lowest price per card-hour with enough cards (SkyPilot-like)",
     choose_cheapest,
     {0, 0, 0}},
    {"nearest", "lowest RTT from the origin with enough cards", choose_nearest, {0, 0, 0}},
    {"random", "uniform over the pools with enough cards (seeded)", choose_random, {0, 0, 0}},
    {"round-robin",
     "the next pool with enough cards after the last one chosen",
     choose_round_robin,
     {0, 0, 0}},
};

const size_t policy_count = sizeof(policy_table) / sizeof(policy_table[0]);

const struct policy *policy_find(const char *name)
{
    for (size_t i = 0; i < policy_count; i++) {
        if (strcmp(policy_table[i].name, name) == 0)
            return &policy_table[i];
    }
    return NULL;
}

int policy_ctx_init(struct policy_ctx *ctx, const struct policy *p, const struct scenario *s,
                    uint64_t seed)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->policy = p;
    ctx->scn = s;
    ctx->rng = seed;
    ctx->centers = calloc(s->ncenters ? s->ncenters : 1, sizeof(*ctx->centers));
    ctx->pools = calloc(s->npools ? s->npools : 1, sizeof(*ctx->pools));
    if (!ctx->centers || !ctx->pools) {
        policy_ctx_free(ctx);
        return -ENOMEM;
    }
    return 0;
}

void policy_ctx_free(struct policy_ctx *ctx)
{
    if (!ctx)
        return;
    free(ctx->centers);
    free(ctx->pools);
    memset(ctx, 0, sizeof(*ctx));
}

static double pool_rtt(const struct scenario *s, const struct scn_job *j, size_t pool)
{
    return scenario_rtt(s, j->origin, s->centers[s->pools[pool].center].region);
}

static int choose_route(struct policy_ctx *ctx, const struct ledger *l, size_t job,
                        size_t *ret_pool, long *ret_cards, size_t *ret_npieces)
{
    const struct scenario *s = ctx->scn;
    const struct scn_job *j = &s->jobs[job];
    for (size_t c = 0; c < s->ncenters; c++) {
        size_t region = s->centers[c].region;
        ctx->centers[c] = (struct route_center){
            .id = s->centers[c].id,
            .region = s->regions[region].id,
            .status = CENTER_ACTIVE,
            .rtt_ms = scenario_rtt(s, j->origin, region),
            .rtt_source = s->rtt_source[j->origin * s->nregions + region],
        };
    }
    for (size_t i = 0; i < s->npools; i++) {
        const struct scn_pool *sp = &s->pools[i];
        const struct scn_model *m = &s->models[sp->model];
        const struct ledger_pool *lp = &l->pools[i];
        struct route_pool *rp = &ctx->pools[i];
        *rp = (struct route_pool){
            .center = sp->center,
            .model = m->name,
            .domestic = m->domestic,
            .memory_gib = m->memory_gib,
            .total = lp->total,
            .free = lp->feed_free,
            .largest_block = lp->feed_free,
            .held = lp->held,
            .confirmed_unseen = lp->unseen,
            .price = sp->price,
        };
        /*
         * A request names a precision, not a model: the trace's gpu_spec has no
         * request field, so a model outside it is offered with no throughput
         * and the core rejects it as precision_unsupported. The pool still
         * counts in its center's utilization for the balance term.
         */
        if (j->models_allowed >> sp->model & 1)
            memcpy(rp->tflops, m->tflops, sizeof(rp->tflops));
    }
    struct route_request req = {
        .precision = j->precision,
        .cards = j->cards,
        .hours = j->hours,
        .max_latency_ms = j->max_latency_ms,
        .max_price = -1,
        .domestic_only = j->domestic_only,
        .gang = true,
        .weights = ctx->policy->weights,
    };
    struct route_result res;
    int r = route_decide(&req, ctx->centers, s->ncenters, ctx->pools, s->npools, NULL, 0, &res);
    if (r < 0)
        return r;
    *ret_npieces = res.placed ? res.npieces : 0;
    if (res.placed) {
        *ret_pool = res.candidates[res.pieces[0].candidate].pool;
        *ret_cards = res.pieces[0].cards;
    }
    route_result_free(&res);
    return 0;
}

/* The baselines' own filter: the job's hard constraints against the broker's view. */
static bool feasible(const struct policy_ctx *ctx, const struct ledger *l, size_t job, size_t pool)
{
    const struct scenario *s = ctx->scn;
    const struct scn_job *j = &s->jobs[job];
    const struct scn_pool *p = &s->pools[pool];
    const struct scn_model *m = &s->models[p->model];
    if (!(j->models_allowed >> p->model & 1))
        return false;
    if (!(m->tflops[j->precision] > 0))
        return false;
    if (j->domestic_only && !m->domestic)
        return false;
    if (j->max_latency_ms >= 0 && pool_rtt(s, j, pool) > j->max_latency_ms)
        return false;
    return ledger_available(l, pool) >= j->cards;
}

static void pick(const struct policy_ctx *ctx, size_t job, size_t pool, size_t *ret_pool,
                 long *ret_cards, size_t *ret_npieces)
{
    *ret_pool = pool;
    *ret_cards = ctx->scn->jobs[job].cards;
    *ret_npieces = 1;
}

/* True when pool a comes before pool b by (primary, secondary, index). */
static bool before(double pa, double sa, size_t a, double pb, double sb, size_t b)
{
    if (pa != pb)
        return pa < pb;
    if (sa != sb)
        return sa < sb;
    return a < b;
}

static int choose_cheapest(struct policy_ctx *ctx, const struct ledger *l, size_t job,
                           size_t *ret_pool, long *ret_cards, size_t *ret_npieces)
{
    const struct scenario *s = ctx->scn;
    long best = -1;
    *ret_npieces = 0;
    for (size_t i = 0; i < s->npools; i++) {
        if (!feasible(ctx, l, job, i))
            continue;
        if (best < 0 ||
            before(s->pools[i].price, pool_rtt(s, &s->jobs[job], i), i, s->pools[best].price,
                   pool_rtt(s, &s->jobs[job], (size_t)best), (size_t)best))
            best = (long)i;
    }
    if (best >= 0)
        pick(ctx, job, (size_t)best, ret_pool, ret_cards, ret_npieces);
    return 0;
}

static int choose_nearest(struct policy_ctx *ctx, const struct ledger *l, size_t job,
                          size_t *ret_pool, long *ret_cards, size_t *ret_npieces)
{
    const struct scenario *s = ctx->scn;
    long best = -1;
    *ret_npieces = 0;
    for (size_t i = 0; i < s->npools; i++) {
        if (!feasible(ctx, l, job, i))
            continue;
        if (best < 0 ||
            before(pool_rtt(s, &s->jobs[job], i), s->pools[i].price, i,
                   pool_rtt(s, &s->jobs[job], (size_t)best), s->pools[best].price, (size_t)best))
            best = (long)i;
    }
    if (best >= 0)
        pick(ctx, job, (size_t)best, ret_pool, ret_cards, ret_npieces);
    return 0;
}

static int choose_random(struct policy_ctx *ctx, const struct ledger *l, size_t job,
                         size_t *ret_pool, long *ret_cards, size_t *ret_npieces)
{
    const struct scenario *s = ctx->scn;
    size_t n = 0;
    *ret_npieces = 0;
    for (size_t i = 0; i < s->npools; i++)
        n += feasible(ctx, l, job, i);
    if (n == 0)
        return 0;
    size_t k = (size_t)(scenario_rng_next(&ctx->rng) % n);
    for (size_t i = 0; i < s->npools; i++) {
        if (!feasible(ctx, l, job, i))
            continue;
        if (k-- == 0) {
            pick(ctx, job, i, ret_pool, ret_cards, ret_npieces);
            break;
        }
    }
    return 0;
}

static int choose_round_robin(struct policy_ctx *ctx, const struct ledger *l, size_t job,
                              size_t *ret_pool, long *ret_cards, size_t *ret_npieces)
{
    const struct scenario *s = ctx->scn;
    *ret_npieces = 0;
    for (size_t k = 0; k < s->npools; k++) {
        size_t i = (ctx->rr_next + k) % s->npools;
        if (feasible(ctx, l, job, i)) {
            pick(ctx, job, i, ret_pool, ret_cards, ret_npieces);
            ctx->rr_next = (i + 1) % s->npools;
            break;
        }
    }
    return 0;
}
