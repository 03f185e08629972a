/*
 * route — the routing core of SPEC §2: hard filters in order, cards from
 * PFLOPS, voucher quotes, the normalised score, the tie order, top-ranked
 * choice or a greedy split. Pure: everything it knows comes in through its
 * arguments, so the same inputs always give the same decision.
 */
#include "route.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCORE_EPSILON 1e-9
#define PRICE_EPSILON 1e-9

/*
 * Scores and effective totals that differ by rounding error only are equal in
 * the tie order: both are compared on a grid of SCORE_EPSILON / PRICE_EPSILON
 * (the nearest multiple). Comparing grid points, not |a - b| <= epsilon, keeps
 * the order transitive, so any correct way of ranking gives the same order:
 * the full sort of a record and the partial one of a request agree.
 */
static double grid(double v, double epsilon)
{
    double x = v / epsilon;
    /*
     * Below 2^51 in magnitude, adding and taking away 1.5 * 2^52 rounds to the
     * nearest integer, ties to even, exactly as nearbyint does in the default
     * rounding mode, without a call.
     */
    if (fabs(x) < 0x1p51)
        return (x + 0x1.8p52) - 0x1.8p52;
    return nearbyint(x);
}

long route_cards_for_pflops(double pflops, double tflops)
{
    if (!(tflops > 0) || !(pflops > 0))
        return 0;
    double cards = ceil(pflops * 1000.0 / tflops - 1e-9);
    if (cards < 1)
        cards = 1;
    if (cards > (double)ROUTE_MAX_CARDS)
        return ROUTE_MAX_CARDS + 1;
    return (long)cards;
}

static bool str_in(const char *s, const char *const *set, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(s, set[i]) == 0)
            return true;
    }
    return false;
}

static bool labels_match(const struct route_request *req, const struct route_center *c)
{
    for (size_t i = 0; i < req->nlabels; i++) {
        bool found = false;
        for (size_t j = 0; j < c->nlabels; j++) {
            if (strcmp(req->labels[i].key, c->labels[j].key) == 0 &&
                strcmp(req->labels[i].value, c->labels[j].value) == 0) {
                found = true;
                break;
            }
        }
        if (!found)
            return false;
    }
    return true;
}

static bool voucher_applies(const struct route_voucher *v, const struct route_center *c,
                            const struct route_pool *p)
{
    if (!v->usable || !(v->balance > 0) || !(v->rate > 0))
        return false;
    if (v->ncenters > 0 && !str_in(c->id, v->centers, v->ncenters))
        return false;
    if (v->nregions > 0 && !str_in(c->region, v->regions, v->nregions))
        return false;
    if (v->domestic_only && !p->domestic)
        return false;
    return true;
}

static double voucher_subsidy(const struct route_voucher *v, double list_total)
{
    double s = v->rate * list_total;
    return s < v->balance ? s : v->balance;
}

/* The best applicable voucher for one candidate: largest subsidy, then lower id. */
static int best_voucher(const struct route_voucher *vouchers, size_t nvouchers,
                        const struct route_center *c, const struct route_pool *p, double list_total,
                        double *ret_subsidy)
{
    int best = -1;
    double best_s = 0;
    for (size_t i = 0; i < nvouchers; i++) {
        if (!voucher_applies(&vouchers[i], c, p))
            continue;
        double s = voucher_subsidy(&vouchers[i], list_total);
        if (best < 0 || s > best_s + PRICE_EPSILON ||
            (fabs(s - best_s) <= PRICE_EPSILON && strcmp(vouchers[i].id, vouchers[best].id) < 0)) {
            best = (int)i;
            best_s = s;
        }
    }
    *ret_subsidy = best >= 0 ? best_s : 0;
    return best;
}

static long pool_available(const struct route_pool *p)
{
    long a = p->free - p->held - p->confirmed_unseen;
    if (a > p->total)
        a = p->total;
    return a > 0 ? a : 0;
}

/* Runs the hard filters on one candidate whose cards and money are computed. */
static enum reject filter(const struct route_request *req, const struct route_center *c,
                          const struct route_pool *p, const struct route_candidate *cand)
{
    if (c->status != CENTER_ACTIVE)
        return REJECT_CENTER_INACTIVE;
    if (p->stale)
        return REJECT_STALE_FEED;
    if ((req->nallowed > 0 && !str_in(c->region, req->regions_allowed, req->nallowed)) ||
        str_in(c->region, req->regions_denied, req->ndenied))
        return REJECT_REGION_EXCLUDED;
    if (!labels_match(req, c))
        return REJECT_LABEL_MISMATCH;
    if (req->domestic_only && !p->domestic)
        return REJECT_NOT_DOMESTIC;
    if (!(p->tflops[req->precision] > 0))
        return REJECT_PRECISION_UNSUPPORTED;
    if (req->min_memory_gib > 0 && p->memory_gib < req->min_memory_gib)
        return REJECT_MEMORY_TOO_SMALL;
    if (req->max_latency_ms >= 0 && c->rtt_ms > req->max_latency_ms)
        return REJECT_LATENCY_EXCEEDS;
    if (req->gang ? cand->available < cand->cards : cand->available < 1)
        return REJECT_INSUFFICIENT_CAPACITY;
    if (req->max_price >= 0) {
        double per_card_hour = cand->effective_total / ((double)cand->cards * req->hours);
        if (per_card_hour > req->max_price + PRICE_EPSILON)
            return REJECT_PRICE_EXCEEDS;
    }
    return REJECT_NONE;
}

static bool request_valid(const struct route_request *req)
{
    if ((unsigned)req->precision >= PREC_COUNT)
        return false;
    if (req->cards > 0) {
        if (req->cards > ROUTE_MAX_CARDS)
            return false;
    } else if (!(req->pflops > 0) || !(req->pflops <= ROUTE_MAX_PFLOPS)) {
        return false;
    }
    if (!(req->hours > 0) || !(req->hours <= ROUTE_MAX_HOURS))
        return false;
    if (isnan(req->max_latency_ms) || isnan(req->max_price) || isnan(req->min_memory_gib))
        return false;
    return weights_valid(&req->weights);
}

/*
 * Context for the rank comparator (qsort has no user pointer in C11). Scores
 * and effective totals on their grids are copied into dense arrays (by
 * candidate index) so that the comparisons that decide nearly every pair stay
 * in cache.
 */
struct rank_ctx {
    const struct route_candidate *cands;
    const struct route_center *centers;
    const struct route_pool *pools;
    const double *score;
    const double *eff;
};

static int rank_cmp(const struct rank_ctx *ctx, size_t ia, size_t ib)
{
    double sa = ctx->score[ia], sb = ctx->score[ib];
    if (sa != sb)
        return sa < sb ? -1 : 1;
    double ea = ctx->eff[ia], eb = ctx->eff[ib];
    if (ea != eb)
        return ea < eb ? -1 : 1;
    const struct route_candidate *a = &ctx->cands[ia], *b = &ctx->cands[ib];
    const struct route_pool *pa = &ctx->pools[a->pool], *pb = &ctx->pools[b->pool];
    const struct route_center *ca = &ctx->centers[pa->center], *cb = &ctx->centers[pb->center];
    if (ca->rtt_ms != cb->rtt_ms)
        return ca->rtt_ms < cb->rtt_ms ? -1 : 1;
    int c = strcmp(ca->id, cb->id);
    if (c != 0)
        return c;
    c = strcmp(pa->model, pb->model);
    if (c != 0)
        return c;
    /* One pool named twice (not from the inventory, where (center, model) is unique). */
    return ia < ib ? -1 : (ia > ib);
}

/* A stable merge sort of candidate indices by rank_cmp. */
static void rank_sort(const struct rank_ctx *ctx, size_t *v, size_t *tmp, size_t n)
{
    if (n < 2)
        return;
    size_t mid = n / 2;
    rank_sort(ctx, v, tmp, mid);
    rank_sort(ctx, v + mid, tmp, n - mid);
    size_t i = 0, j = mid, k = 0;
    while (i < mid && j < n)
        tmp[k++] = rank_cmp(ctx, v[i], v[j]) <= 0 ? v[i++] : v[j++];
    while (i < mid)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof(*v));
}

/*
 * Ranks lazily: the best RANK_TOP first, chosen in one pass, then, only when
 * more are wanted, a binary heap of the rest, from which ranked[] grows one at
 * a time in rank order. With a transitive order this gives exactly the prefix
 * a full sort gives.
 */
#define RANK_TOP 8

struct ranker {
    const struct rank_ctx *ctx;
    size_t *heap; /* borrowed; the eligible candidates not in ranked[] */
    size_t n;
    bool heaped; /* heap[] is a heap (built on first use) */
    struct route_result *res;
};

static void sift_down(const struct rank_ctx *ctx, size_t *h, size_t n, size_t i);

/*
 * Moves the best RANK_TOP of the eligible candidates (res->ranked[0..neligible))
 * to the front of ranked[] in rank order, and the others to rk->heap.
 */
static void rank_top(struct ranker *rk, struct route_result *res)
{
    size_t top[RANK_TOP], ntop = 0;
    rk->n = 0;
    rk->heaped = false;
    for (size_t k = 0; k < res->neligible; k++) {
        size_t x = res->ranked[k];
        if (ntop == RANK_TOP) {
            if (rank_cmp(rk->ctx, x, top[RANK_TOP - 1]) >= 0) {
                rk->heap[rk->n++] = x;
                continue;
            }
            rk->heap[rk->n++] = top[--ntop];
        }
        size_t j = ntop++;
        while (j > 0 && rank_cmp(rk->ctx, x, top[j - 1]) < 0) {
            top[j] = top[j - 1];
            j--;
        }
        top[j] = x;
    }
    memcpy(res->ranked, top, ntop * sizeof(*top));
    res->nranked = ntop;
}

static void sift_down(const struct rank_ctx *ctx, size_t *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && rank_cmp(ctx, h[l], h[m]) < 0)
            m = l;
        if (l + 1 < n && rank_cmp(ctx, h[l + 1], h[m]) < 0)
            m = l + 1;
        if (m == i)
            return;
        size_t t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

/* Whether ranked[r] exists, ranking more as needed (rk NULL: all are ranked). */
static bool ranked_at(struct ranker *rk, const struct route_result *res, size_t r)
{
    if (rk && r >= res->nranked && rk->n > 0 && !rk->heaped) {
        for (size_t k = rk->n / 2; k-- > 0;)
            sift_down(rk->ctx, rk->heap, rk->n, k);
        rk->heaped = true;
    }
    while (rk && r >= res->nranked && rk->n > 0) {
        rk->res->ranked[rk->res->nranked++] = rk->heap[0];
        rk->heap[0] = rk->heap[--rk->n];
        sift_down(rk->ctx, rk->heap, rk->n, 0);
    }
    return r < res->nranked;
}

/* Applies at most one voucher to the pieces: the one with the largest total subsidy. */
static void apply_voucher(const struct route_center *centers, const struct route_pool *pools,
                          const struct route_voucher *vouchers, size_t nvouchers,
                          struct route_result *res)
{
    int best = -1;
    double best_total = 0;
    for (size_t v = 0; v < nvouchers; v++) {
        double total = 0;
        for (size_t i = 0; i < res->npieces; i++) {
            const struct route_pool *p = &pools[res->candidates[res->pieces[i].candidate].pool];
            if (voucher_applies(&vouchers[v], &centers[p->center], p))
                total += vouchers[v].rate * res->pieces[i].list_total;
        }
        if (total > vouchers[v].balance)
            total = vouchers[v].balance;
        if (total > PRICE_EPSILON && (best < 0 || total > best_total + PRICE_EPSILON ||
                                      (fabs(total - best_total) <= PRICE_EPSILON &&
                                       strcmp(vouchers[v].id, vouchers[best].id) < 0))) {
            best = (int)v;
            best_total = total;
        }
    }
    res->voucher = best;
    double left = best >= 0 ? vouchers[best].balance : 0;
    for (size_t i = 0; i < res->npieces; i++) {
        struct route_piece *pc = &res->pieces[i];
        const struct route_pool *p = &pools[res->candidates[pc->candidate].pool];
        pc->subsidy = 0;
        if (best >= 0 && voucher_applies(&vouchers[best], &centers[p->center], p)) {
            double s = vouchers[best].rate * pc->list_total;
            pc->subsidy = s < left ? s : left;
            left -= pc->subsidy;
        }
        pc->effective_total = pc->list_total - pc->subsidy;
        res->list_total += pc->list_total;
        res->subsidy += pc->subsidy;
        res->effective_total += pc->effective_total;
        res->cards += pc->cards;
    }
}

/* Greedy split in rank order; a piece never exceeds its pool's available cards. */
static int split(const struct route_request *req, const struct route_pool *pools, struct ranker *rk,
                 struct route_result *res)
{
    size_t cap = 4;
    res->pieces = calloc(cap, sizeof(*res->pieces));
    if (!res->pieces)
        return -ENOMEM;
    long cards_left = req->cards;
    double pflops_left = req->pflops;
    for (size_t r = 0; ranked_at(rk, res, r); r++) {
        if (req->cards > 0 ? cards_left <= 0 : pflops_left <= 1e-12)
            break;
        size_t ci = res->ranked[r];
        const struct route_candidate *c = &res->candidates[ci];
        const struct route_pool *p = &pools[c->pool];
        long want = req->cards > 0 ? cards_left
                                   : route_cards_for_pflops(pflops_left, p->tflops[req->precision]);
        long take = want < c->available ? want : c->available;
        if (take <= 0)
            continue;
        if (res->npieces == cap) {
            struct route_piece *more = realloc(res->pieces, 2 * cap * sizeof(*more));
            if (!more)
                return -ENOMEM;
            memset(more + cap, 0, cap * sizeof(*more));
            res->pieces = more;
            cap *= 2;
        }
        struct route_piece *pc = &res->pieces[res->npieces++];
        pc->candidate = ci;
        pc->cards = take;
        pc->list_total = p->price * (double)take * req->hours;
        if (req->cards > 0)
            cards_left -= take;
        else
            pflops_left -= (double)take * p->tflops[req->precision] / 1000.0;
    }
    bool done = req->cards > 0 ? cards_left <= 0 : pflops_left <= 1e-9;
    if (!done)
        res->npieces = 0;
    return 0;
}

int route_decide(const struct route_request *req, const struct route_center *centers,
                 size_t ncenters, const struct route_pool *pools, size_t npools,
                 const struct route_voucher *vouchers, size_t nvouchers, struct route_result *ret)
{
    return route_decide_ranked(req, centers, ncenters, pools, npools, vouchers, nvouchers,
                               ROUTE_RANK_ALL, ret);
}

int route_decide_ranked(const struct route_request *req, const struct route_center *centers,
                        size_t ncenters, const struct route_pool *pools, size_t npools,
                        const struct route_voucher *vouchers, size_t nvouchers, unsigned flags,
                        struct route_result *ret)
{
    /* In a scratch of its own, whose candidates and ranked arrays the result then owns. */
    struct route_scratch w = {0};
    int r = route_decide_scratch(req, centers, ncenters, pools, npools, vouchers, nvouchers, flags,
                                 &w, ret);
    if (r == 0) {
        ret->borrowed = false;
        w.candidates = NULL;
        w.ranked = NULL;
    }
    route_scratch_free(&w);
    return r;
}

/* Grows *p to n elements of size (at least 1). 0 or -ENOMEM, *p unchanged then. */
static int grow_to(void **p, size_t n, size_t size)
{
    void *q = realloc(*p, (n ? n : 1) * size);
    if (!q)
        return -ENOMEM;
    *p = q;
    return 0;
}

/* Makes the scratch's arrays hold npools / ncenters elements. 0 or -ENOMEM. */
static int scratch_fit(struct route_scratch *w, size_t npools, size_t ncenters)
{
    if (npools > w->npools || !w->candidates) {
        /* The capacity moves only once every array has it. */
        if (grow_to((void **)&w->candidates, npools, sizeof(*w->candidates)) < 0 ||
            grow_to((void **)&w->ranked, npools, sizeof(*w->ranked)) < 0 ||
            grow_to((void **)&w->tmp, npools, sizeof(*w->tmp)) < 0 ||
            grow_to((void **)&w->score, npools, sizeof(*w->score)) < 0 ||
            grow_to((void **)&w->eff, npools, sizeof(*w->eff)) < 0)
            return -ENOMEM;
        w->npools = npools;
    }
    if (ncenters > w->ncenters || !w->center_total) {
        if (grow_to((void **)&w->center_total, ncenters, sizeof(*w->center_total)) < 0 ||
            grow_to((void **)&w->center_used, ncenters, sizeof(*w->center_used)) < 0)
            return -ENOMEM;
        w->ncenters = ncenters;
    }
    return 0;
}

void route_scratch_free(struct route_scratch *s)
{
    if (!s)
        return;
    free(s->candidates);
    free(s->ranked);
    free(s->tmp);
    free(s->score);
    free(s->eff);
    free(s->center_total);
    free(s->center_used);
    memset(s, 0, sizeof(*s));
}

int route_decide_scratch(const struct route_request *req, const struct route_center *centers,
                         size_t ncenters, const struct route_pool *pools, size_t npools,
                         const struct route_voucher *vouchers, size_t nvouchers, unsigned flags,
                         struct route_scratch *scratch, struct route_result *ret)
{
    struct route_result res = {.voucher = -1};
    long *center_total = NULL, *center_used = NULL;
    size_t *tmp = NULL;
    double *score = NULL, *eff = NULL;
    int r = -ENOMEM;

    memset(ret, 0, sizeof(*ret));
    ret->voucher = -1;
    if (!request_valid(req))
        return -EINVAL;

    /* Every candidate is written whole below, so nothing is zeroed twice. */
    struct route_scratch *w = scratch;
    if (scratch_fit(w, npools, ncenters) < 0)
        goto out;
    res.borrowed = true;
    res.candidates = w->candidates;
    res.ranked = w->ranked;
    tmp = w->tmp;
    score = w->score;
    eff = w->eff;
    center_total = w->center_total;
    center_used = w->center_used;
    memset(center_total, 0, ncenters * sizeof(*center_total));
    memset(center_used, 0, ncenters * sizeof(*center_used));
    res.ncandidates = npools;

    /*
     * One pass: each center's cards and use, and each pool's cards, money and
     * filters, with the minima the score is normalised by. Until the scores,
     * score[i] holds an eligible pool's RTT and tmp[k] the cards the k-th
     * eligible one would place (its center's use after it needs every pool).
     */
    double min_eff = INFINITY, min_rtt = INFINITY;
    for (size_t i = 0; i < npools; i++) {
        const struct route_pool *p = &pools[i];
        if (p->center >= ncenters) {
            r = -EINVAL; /* checked here, not in a pass of its own: the pools are read once */
            goto out;
        }
        const struct route_center *c = &centers[p->center];
        struct route_candidate *cand = &res.candidates[i];
        long avail = pool_available(p);
        center_total[p->center] += p->total > 0 ? p->total : 0;
        center_used[p->center] += (p->total > avail ? p->total - avail : 0);
        /* Field by field: a zeroing store of the whole struct costs more than the pool. */
        cand->pool = i;
        cand->reason = REJECT_NONE;
        cand->available = avail;
        cand->list_total = 0;
        cand->subsidy = 0;
        cand->effective_total = 0;
        cand->voucher = -1;
        cand->util_after = 0;
        cand->terms = (struct route_terms){0, 0, 0};
        cand->score = 0;
        cand->rank = -1;
        cand->chosen = false;
        cand->cards = req->cards > 0
                          ? req->cards
                          : route_cards_for_pflops(req->pflops, p->tflops[req->precision]);
        if (cand->cards > 0) {
            cand->list_total = p->price * (double)cand->cards * req->hours;
            if (nvouchers > 0)
                cand->voucher =
                    best_voucher(vouchers, nvouchers, c, p, cand->list_total, &cand->subsidy);
            cand->effective_total = cand->list_total - cand->subsidy;
        }
        cand->reason = filter(req, c, p, cand);
        if (cand->reason != REJECT_NONE) {
            res.reasons[cand->reason]++;
            continue;
        }
        tmp[res.neligible] =
            req->gang || cand->available >= cand->cards ? cand->cards : cand->available;
        score[i] = c->rtt_ms;
        if (cand->effective_total < min_eff)
            min_eff = cand->effective_total;
        if (c->rtt_ms < min_rtt)
            min_rtt = c->rtt_ms;
        res.ranked[res.neligible++] = i;
    }

    /* Normalised score terms over the passing candidates, and both on their grids. */
    for (size_t k = 0; k < res.neligible; k++) {
        size_t i = res.ranked[k];
        struct route_candidate *cand = &res.candidates[i];
        size_t center = pools[i].center;
        long total = center_total[center];
        cand->util_after =
            total > 0 ? (double)(center_used[center] + (long)tmp[k]) / (double)total : 1.0;
        if (cand->util_after > 1)
            cand->util_after = 1;
        /* A fully subsidised minimum makes the ratio undefined: free ones score 1, others 1+eff. */
        if (min_eff > 0)
            cand->terms.cost = cand->effective_total / min_eff;
        else
            cand->terms.cost = cand->effective_total > 0 ? 1 + cand->effective_total : 1;
        cand->terms.latency = (score[i] + 1) / (min_rtt + 1);
        cand->terms.balance = 1 + cand->util_after;
        cand->score = req->weights.cost * cand->terms.cost +
                      req->weights.latency * cand->terms.latency +
                      req->weights.balance * cand->terms.balance;
        score[i] = grid(cand->score, SCORE_EPSILON);
        eff[i] = grid(cand->effective_total, PRICE_EPSILON);
    }
    struct rank_ctx ctx = {
        .cands = res.candidates, .centers = centers, .pools = pools, .score = score, .eff = eff};
    struct ranker ranker = {.ctx = &ctx, .heap = tmp, .n = res.neligible, .res = &res};
    struct ranker *rk = NULL;
    if (flags & ROUTE_RANK_ALL) {
        rank_sort(&ctx, res.ranked, tmp, res.neligible);
        res.nranked = res.neligible;
    } else {
        rank_top(&ranker, &res);
        rk = &ranker;
    }

    if (req->gang) {
        if (ranked_at(rk, &res, 0)) {
            res.pieces = calloc(1, sizeof(*res.pieces));
            if (!res.pieces)
                goto out;
            size_t ci = res.ranked[0];
            res.pieces[0].candidate = ci;
            res.pieces[0].cards = res.candidates[ci].cards;
            res.pieces[0].list_total = res.candidates[ci].list_total;
            res.npieces = 1;
        }
    } else {
        r = split(req, pools, rk, &res);
        if (r < 0)
            goto out;
    }
    apply_voucher(centers, pools, vouchers, nvouchers, &res);
    res.placed = res.npieces > 0;
    for (size_t i = 0; i < res.npieces; i++)
        res.candidates[res.pieces[i].candidate].chosen = true;
    /* Enough ranked for the runner-up and the top-3 alternatives not chosen. */
    ranked_at(rk, &res, 1);
    for (size_t k = 0, others = 0; others < 3 && ranked_at(rk, &res, k); k++)
        others += !res.candidates[res.ranked[k]].chosen;
    for (size_t k = 0; k < res.nranked; k++)
        res.candidates[res.ranked[k]].rank = (int)k;

    *ret = res;
    memset(&res, 0, sizeof(res));
    r = 0;
out:
    route_result_free(&res);
    return r;
}

void route_result_free(struct route_result *r)
{
    if (!r)
        return;
    if (!r->borrowed) {
        free(r->candidates);
        free(r->ranked);
    }
    free(r->pieces);
    memset(r, 0, sizeof(*r));
    r->voucher = -1;
}

/* Appends with snprintf semantics, never writing past len. */
static void appendf(char *buf, size_t len, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void appendf(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
    if (*off >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *off, len - *off, fmt, ap);
    va_end(ap);
    if (n > 0)
        *off += (size_t)n < len - *off ? (size_t)n : len - *off - 1;
}

int route_explain(const struct route_request *req, const struct route_center *centers,
                  const struct route_pool *pools, const struct route_result *res, char *buf,
                  size_t len)
{
    size_t off = 0;
    if (len == 0)
        return 0;
    buf[0] = '\0';
    if (!res->placed) {
        appendf(buf, len, &off, "Nothing fits: ");
        if (res->neligible > 0)
            appendf(buf, len, &off,
                    "%zu pools pass every filter but together have fewer cards than asked",
                    res->neligible);
        bool first = true;
        for (int k = 1; k < REJECT_COUNT; k++) {
            if (res->reasons[k] == 0)
                continue;
            appendf(buf, len, &off, "%s%ld %s",
                    first ? (res->neligible > 0 ? "; rejected: " : "") : ", ", res->reasons[k],
                    reject_name((enum reject)k));
            first = false;
        }
        if (first && res->ncandidates == 0)
            appendf(buf, len, &off, "no pools are registered");
        appendf(buf, len, &off, ".");
        return (int)off;
    }

    const struct route_candidate *best = &res->candidates[res->ranked[0]];
    const struct route_pool *bp = &pools[best->pool];
    const struct route_center *bc = &centers[bp->center];
    if (res->npieces > 1)
        appendf(buf, len, &off, "Split over %zu pools, best first %s/%s", res->npieces, bc->id,
                bp->model);
    else
        appendf(buf, len, &off, "Chose %s/%s", bc->id, bp->model);
    appendf(buf, len, &off,
            " with the lowest score %.4f (cost %.4f, latency %.4f, balance %.4f): effective "
            "total %.2f CNY, rtt %.1f ms.",
            best->score, best->terms.cost, best->terms.latency, best->terms.balance,
            best->effective_total, bc->rtt_ms);
    if (res->nranked < 2) {
        appendf(buf, len, &off, " No other pool passed every filter.");
        return (int)off;
    }
    const struct route_candidate *ru = &res->candidates[res->ranked[1]];
    const struct route_pool *rp = &pools[ru->pool];
    const struct route_center *rc = &centers[rp->center];
    double d[3] = {req->weights.cost * (ru->terms.cost - best->terms.cost),
                   req->weights.latency * (ru->terms.latency - best->terms.latency),
                   req->weights.balance * (ru->terms.balance - best->terms.balance)};
    int k = 0;
    for (int i = 1; i < 3; i++) {
        if (d[i] > d[k])
            k = i;
    }
    appendf(buf, len, &off, " Runner-up %s/%s scored %.4f", rc->id, rp->model, ru->score);
    if (grid(ru->score, SCORE_EPSILON) == grid(best->score, SCORE_EPSILON)) {
        appendf(buf, len, &off, ", an equal score, and lost the tie-break (");
        if (grid(ru->effective_total, PRICE_EPSILON) != grid(best->effective_total, PRICE_EPSILON))
            appendf(buf, len, &off, "higher effective total %.2f vs %.2f CNY).",
                    ru->effective_total, best->effective_total);
        else if (rc->rtt_ms != bc->rtt_ms)
            appendf(buf, len, &off, "longer rtt %.1f vs %.1f ms).", rc->rtt_ms, bc->rtt_ms);
        else
            appendf(buf, len, &off, "center id, then model name, in order).");
        return (int)off;
    }
    if (k == 0)
        appendf(buf, len, &off,
                " and lost on cost: effective total %.2f vs %.2f CNY (+%.4f weighted).",
                ru->effective_total, best->effective_total, d[0]);
    else if (k == 1)
        appendf(buf, len, &off, " and lost on latency: rtt %.1f vs %.1f ms (+%.4f weighted).",
                rc->rtt_ms, bc->rtt_ms, d[1]);
    else
        appendf(buf, len, &off,
                " and lost on balance: its center would be %.0f%% used vs %.0f%% (+%.4f "
                "weighted).",
                ru->util_after * 100, best->util_after * 100, d[2]);
    return (int)off;
}
