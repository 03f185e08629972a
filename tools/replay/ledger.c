/*
 * ledger — the replay's accounting. Every card movement, every cost and every
 * utilization integral happens here and nowhere else, so one unit test on a
 * hand-worked trace covers what the report prints. The checker reads only the
 * scenario and this ledger, never a policy's own view. Pure: no clock, no I/O.
 */
#include "ledger.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const violation_names[VIOL_COUNT] = {
    [VIOL_MODEL] = "model", [VIOL_PRECISION] = "precision", [VIOL_CAPACITY] = "capacity",
    [VIOL_GANG] = "gang",   [VIOL_LATENCY] = "latency",     [VIOL_DOMESTIC] = "domestic",
};

const char *ledger_violation_name(enum ledger_violation v)
{
    return (unsigned)v < VIOL_COUNT ? violation_names[v] : "unknown";
}

int ledger_init(struct ledger *l, const struct scenario *s, size_t cap, double t0)
{
    memset(l, 0, sizeof(*l));
    l->scn = s;
    l->pools = calloc(s->npools ? s->npools : 1, sizeof(*l->pools));
    l->placements = calloc(cap ? cap : 1, sizeof(*l->placements));
    l->util_area = calloc(s->ncenters ? s->ncenters : 1, sizeof(*l->util_area));
    l->rtts = calloc(cap ? cap : 1, sizeof(*l->rtts));
    if (!l->pools || !l->placements || !l->util_area || !l->rtts) {
        ledger_free(l);
        return -ENOMEM;
    }
    l->cap = cap;
    l->t0 = l->now = t0;
    for (size_t i = 0; i < s->npools; i++) {
        l->pools[i].total = s->pools[i].total;
        l->pools[i].feed_free = s->pools[i].total;
    }
    return 0;
}

void ledger_free(struct ledger *l)
{
    if (!l)
        return;
    free(l->pools);
    free(l->placements);
    free(l->util_area);
    free(l->rtts);
    memset(l, 0, sizeof(*l));
}

double ledger_center_util(const struct ledger *l, size_t center)
{
    long total = 0, used = 0;
    for (size_t i = 0; i < l->scn->npools; i++) {
        if (l->scn->pools[i].center != center)
            continue;
        const struct ledger_pool *p = &l->pools[i];
        total += p->total;
        used += p->background + p->held + p->running;
    }
    return total > 0 ? (double)used / (double)total : 0;
}

void ledger_advance(struct ledger *l, double t)
{
    if (!(t > l->now))
        return;
    double dt = t - l->now;
    for (size_t c = 0; c < l->scn->ncenters; c++)
        l->util_area[c] += ledger_center_util(l, c) * dt;
    l->now = t;
}

void ledger_feed(struct ledger *l, double t, const long *background_targets)
{
    ledger_advance(l, t);
    for (size_t i = 0; i < l->scn->npools; i++) {
        struct ledger_pool *p = &l->pools[i];
        long room = p->total - p->held - p->running;
        long bg = background_targets[i];
        if (bg > room)
            bg = room;
        p->background = bg > 0 ? bg : 0;
        p->feed_free = p->total - p->background - p->running;
        p->unseen = 0;
    }
    l->feeds++;
}

long ledger_available(const struct ledger *l, size_t pool)
{
    const struct ledger_pool *p = &l->pools[pool];
    long a = p->feed_free - p->held - p->unseen;
    if (a > p->total)
        a = p->total;
    return a > 0 ? a : 0;
}

long ledger_free_cards(const struct ledger *l, size_t pool)
{
    const struct ledger_pool *p = &l->pools[pool];
    return p->total - p->background - p->held - p->running;
}

unsigned ledger_check(const struct ledger *l, size_t job, size_t pool, long cards, size_t npieces)
{
    const struct scenario *s = l->scn;
    const struct scn_job *j = &s->jobs[job];
    unsigned v = 0;
    if (pool >= s->npools)
        return 1u << VIOL_CAPACITY;
    const struct scn_pool *p = &s->pools[pool];
    const struct scn_model *m = &s->models[p->model];
    const struct scn_center *c = &s->centers[p->center];
    if (!(j->models_allowed >> p->model & 1))
        v |= 1u << VIOL_MODEL;
    if (!(m->tflops[j->precision] > 0))
        v |= 1u << VIOL_PRECISION;
    if (cards < 1 || cards > ledger_free_cards(l, pool))
        v |= 1u << VIOL_CAPACITY;
    if (npieces != 1 || cards != j->cards)
        v |= 1u << VIOL_GANG;
    if (j->max_latency_ms >= 0 && scenario_rtt(s, j->origin, c->region) > j->max_latency_ms)
        v |= 1u << VIOL_LATENCY;
    if (j->domestic_only && !m->domestic)
        v |= 1u << VIOL_DOMESTIC;
    return v;
}

long ledger_decide(struct ledger *l, double t, size_t job, size_t pool, long cards, size_t npieces)
{
    ledger_advance(l, t);
    l->arrivals++;
    if (npieces == 0) {
        l->rejected++;
        return -ENOENT;
    }
    unsigned v = ledger_check(l, job, pool, cards, npieces);
    if (v) {
        for (int k = 0; k < VIOL_COUNT; k++) {
            if (v >> k & 1)
                l->violations[k]++;
        }
        l->violating++;
        l->rejected++;
        return -EPERM;
    }
    if (l->nplacements >= l->cap) {
        l->rejected++;
        return -ENOSPC;
    }
    const struct scenario *s = l->scn;
    const struct scn_job *j = &s->jobs[job];
    size_t id = l->nplacements++;
    struct ledger_placement *pl = &l->placements[id];
    pl->job = job;
    pl->pool = pool;
    pl->cards = cards;
    pl->cost = s->pools[pool].price * (double)cards * j->hours;
    pl->state = PL_HELD;
    l->pools[pool].held += cards;
    l->rtts[l->accepted] = scenario_rtt(s, j->origin, s->centers[s->pools[pool].center].region);
    l->accepted++;
    return (long)id;
}

int ledger_confirm(struct ledger *l, double t, size_t placement)
{
    if (placement >= l->nplacements || l->placements[placement].state != PL_HELD)
        return -EINVAL;
    ledger_advance(l, t);
    struct ledger_placement *pl = &l->placements[placement];
    struct ledger_pool *p = &l->pools[pl->pool];
    p->held -= pl->cards;
    p->running += pl->cards;
    p->unseen += pl->cards;
    pl->state = PL_RUNNING;
    pl->feed = l->feeds;
    l->confirmed++;
    l->cost += pl->cost;
    l->card_hours += (double)pl->cards * l->scn->jobs[pl->job].hours;
    return 0;
}

int ledger_expire(struct ledger *l, double t, size_t placement)
{
    if (placement >= l->nplacements || l->placements[placement].state != PL_HELD)
        return -EINVAL;
    ledger_advance(l, t);
    struct ledger_placement *pl = &l->placements[placement];
    l->pools[pl->pool].held -= pl->cards;
    pl->state = PL_EXPIRED;
    l->expired++;
    return 0;
}

int ledger_end(struct ledger *l, double t, size_t placement)
{
    if (placement >= l->nplacements || l->placements[placement].state != PL_RUNNING)
        return -EINVAL;
    ledger_advance(l, t);
    struct ledger_placement *pl = &l->placements[placement];
    struct ledger_pool *p = &l->pools[pl->pool];
    p->running -= pl->cards;
    /* Confirmed since the last feed: no feed showed it, so stop subtracting it. */
    if (pl->feed == l->feeds)
        p->unseen -= pl->cards;
    pl->state = PL_DONE;
    l->ended++;
    return 0;
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : (x > y);
}

int ledger_summarize(const struct ledger *l, struct ledger_summary *ret)
{
    struct ledger_summary s = {0};
    s.acceptance = l->arrivals > 0 ? (double)l->accepted / (double)l->arrivals : 0;
    if (l->accepted > 0) {
        double *v = malloc((size_t)l->accepted * sizeof(*v));
        if (!v)
            return -ENOMEM;
        memcpy(v, l->rtts, (size_t)l->accepted * sizeof(*v));
        qsort(v, (size_t)l->accepted, sizeof(*v), dbl_cmp);
        double sum = 0;
        for (long i = 0; i < l->accepted; i++)
            sum += v[i];
        s.rtt_mean = sum / (double)l->accepted;
        size_t rank = (size_t)ceil(0.95 * (double)l->accepted);
        s.rtt_p95 = v[rank > 0 ? rank - 1 : 0];
        free(v);
    }
    double span = l->now - l->t0;
    size_t n = l->scn->ncenters;
    if (n > 0 && span > 0) {
        double sum = 0, sq = 0;
        s.util_min = INFINITY;
        s.util_max = -INFINITY;
        for (size_t c = 0; c < n; c++) {
            double u = l->util_area[c] / span;
            sum += u;
            if (u < s.util_min)
                s.util_min = u;
            if (u > s.util_max)
                s.util_max = u;
        }
        s.util_mean = sum / (double)n;
        for (size_t c = 0; c < n; c++) {
            double d = l->util_area[c] / span - s.util_mean;
            sq += d * d;
        }
        s.util_std = sqrt(sq / (double)n);
    }
    s.cost_per_card_hour = l->card_hours > 0 ? l->cost / l->card_hours : 0;
    for (int k = 0; k < VIOL_COUNT; k++)
        s.violations += l->violations[k];
    *ret = s;
    return 0;
}
