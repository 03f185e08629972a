/*
 * policy — the placement policies the replay compares, as one table: the
 * broker's own route_decide under several weight settings, and the baselines
 * (cheapest-first, nearest-first, random, round-robin). Every policy sees the
 * same thing a broker sees: the ledger's available cards, not the real free
 * count, and it must keep to the job's hard constraints by itself.
 */
#ifndef SUANWANG_REPLAY_POLICY_H
#define SUANWANG_REPLAY_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "ledger.h"
#include "route.h"
#include "scenario.h"

struct policy;

struct policy_ctx {
    const struct policy *policy;  /* borrowed */
    const struct scenario *scn;   /* borrowed */
    uint64_t rng;                 /* for the random policy */
    size_t rr_next;               /* for round-robin: the pool to try first */
    struct route_center *centers; /* owned; scratch for route_decide */
    struct route_pool *pools;     /* owned; scratch, one per scenario pool */
};

/*
 * Chooses for job `job`. Returns 0 with *ret_npieces = 0 when nothing fits,
 * or 0 with the first piece's pool and cards and the number of pieces; a
 * negative errno on failure.
 */
typedef int (*policy_choose_fn)(struct policy_ctx *ctx, const struct ledger *l, size_t job,
                                size_t *ret_pool, long *ret_cards, size_t *ret_npieces);

struct policy {
    const char *name;
    const char *about;
    policy_choose_fn choose;
    struct weights weights; /* used by the route policies only */
};

extern const struct policy policy_table[];
extern const size_t policy_count;

/* Looks a policy up by name; NULL when unknown. */
const struct policy *policy_find(const char *name);

/* 0 or -ENOMEM. The seed drives the random policy. */
int policy_ctx_init(struct policy_ctx *ctx, const struct policy *p, const struct scenario *s,
                    uint64_t seed);

void policy_ctx_free(struct policy_ctx *ctx);

#endif
