/*
 * sim — a discrete-event loop over simulated seconds. Pending events sit in a
 * binary heap ordered by time, then by kind (ends and expiries free cards
 * before a feed reports, and a feed lands before the decisions at the same
 * instant), then by insertion. Arrivals come straight from the sorted job list.
 * The only real clock read times the policy calls, for decisions per second.
 */
#include "sim.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum event_kind { EV_END, EV_EXPIRE, EV_FEED, EV_CONFIRM };

struct event {
    double t;
    enum event_kind kind;
    size_t placement; /* unused for feeds */
    unsigned long seq;
};

struct heap {
    struct event *v; /* owned */
    size_t n, cap;
    unsigned long seq;
};

static bool ev_less(const struct event *a, const struct event *b)
{
    if (a->t != b->t)
        return a->t < b->t;
    if (a->kind != b->kind)
        return a->kind < b->kind;
    return a->seq < b->seq;
}

static int heap_push(struct heap *h, double t, enum event_kind kind, size_t placement)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 256;
        struct event *v = realloc(h->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        h->v = v;
        h->cap = cap;
    }
    size_t i = h->n++;
    h->v[i] = (struct event){t, kind, placement, h->seq++};
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!ev_less(&h->v[i], &h->v[up]))
            break;
        struct event tmp = h->v[i];
        h->v[i] = h->v[up];
        h->v[up] = tmp;
        i = up;
    }
    return 0;
}

static struct event heap_pop(struct heap *h)
{
    struct event top = h->v[0];
    h->v[0] = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && ev_less(&h->v[l], &h->v[m]))
            m = l;
        if (r < h->n && ev_less(&h->v[r], &h->v[m]))
            m = r;
        if (m == i)
            break;
        struct event tmp = h->v[i];
        h->v[i] = h->v[m];
        h->v[m] = tmp;
        i = m;
    }
    return top;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Applies a feed at t and records one utilization sample per center. */
static int do_feed(const struct scenario *s, struct sim_result *res, long *targets, double t)
{
    for (size_t i = 0; i < s->npools; i++) {
        double u = scenario_background(s, s->pools[i].center, t);
        targets[i] = lround(u * (double)s->pools[i].total);
    }
    ledger_feed(&res->ledger, t, targets);
    size_t n = res->nsamples;
    double *samples =
        realloc(res->samples, (n + 1) * (s->ncenters ? s->ncenters : 1) * sizeof(*samples));
    if (!samples)
        return -ENOMEM;
    res->samples = samples;
    double *st = realloc(res->sample_t, (n + 1) * sizeof(*st));
    if (!st)
        return -ENOMEM;
    res->sample_t = st;
    for (size_t c = 0; c < s->ncenters; c++)
        res->samples[n * s->ncenters + c] = ledger_center_util(&res->ledger, c);
    res->sample_t[n] = t;
    res->nsamples = n + 1;
    return 0;
}

static int do_arrival(const struct scenario *s, struct sim_result *res, struct policy_ctx *ctx,
                      struct heap *h, size_t job)
{
    const struct scn_job *j = &s->jobs[job];
    size_t pool = 0, npieces = 0;
    long cards = 0;
    double t0 = now_seconds();
    int r = ctx->policy->choose(ctx, &res->ledger, job, &pool, &cards, &npieces);
    res->decide_seconds += now_seconds() - t0;
    res->decisions++;
    if (r < 0)
        return r;
    long id = ledger_decide(&res->ledger, j->arrival, job, pool, cards, npieces);
    if (id == -ENOSPC)
        return -ENOSPC;
    if (id < 0)
        return 0; /* rejected: nothing fits, or the checker refused the choice */
    if (j->abandons || j->confirm_delay >= s->hold_seconds)
        return heap_push(h, j->arrival + s->hold_seconds, EV_EXPIRE, (size_t)id);
    return heap_push(h, j->arrival + j->confirm_delay, EV_CONFIRM, (size_t)id);
}

static int do_event(const struct scenario *s, struct sim_result *res, struct heap *h, long *targets,
                    const struct event *ev)
{
    struct ledger *l = &res->ledger;
    switch (ev->kind) {
    case EV_FEED: {
        int r = do_feed(s, res, targets, ev->t);
        if (r < 0)
            return r;
        return heap_push(h, ev->t + s->feed_interval, EV_FEED, 0);
    }
    case EV_CONFIRM: {
        int r = ledger_confirm(l, ev->t, ev->placement);
        if (r < 0)
            return r;
        const struct scn_job *j = &s->jobs[l->placements[ev->placement].job];
        return heap_push(h, ev->t + j->hours * 3600.0, EV_END, ev->placement);
    }
    case EV_EXPIRE:
        return ledger_expire(l, ev->t, ev->placement);
    case EV_END:
        return ledger_end(l, ev->t, ev->placement);
    }
    return -EINVAL;
}

int sim_run(const struct scenario *s, const struct policy *p, uint64_t seed, double until,
            struct sim_result *ret)
{
    struct sim_result res = {.policy = p};
    struct policy_ctx ctx;
    struct heap h = {0};
    long *targets = calloc(s->npools ? s->npools : 1, sizeof(*targets));
    double end = until >= 0 ? until : (s->njobs > 0 ? s->jobs[s->njobs - 1].arrival : 0);
    int r = policy_ctx_init(&ctx, p, s, seed);
    if (r < 0) {
        free(targets);
        return r;
    }
    r = -ENOMEM;
    if (!targets || ledger_init(&res.ledger, s, s->njobs, 0) < 0)
        goto out;
    r = heap_push(&h, 0, EV_FEED, 0);
    if (r < 0)
        goto out;

    size_t next = 0;
    for (;;) {
        bool have_job = next < s->njobs && s->jobs[next].arrival <= end;
        bool have_ev = h.n > 0 && h.v[0].t <= end;
        if (!have_job && !have_ev)
            break;
        /* Heap events go first at equal times: every kind ranks before an arrival. */
        if (have_ev && (!have_job || h.v[0].t <= s->jobs[next].arrival)) {
            struct event ev = heap_pop(&h);
            r = do_event(s, &res, &h, targets, &ev);
        } else {
            r = do_arrival(s, &res, &ctx, &h, next++);
        }
        if (r < 0)
            goto out;
    }
    ledger_advance(&res.ledger, end);
    res.end = end;
    r = ledger_summarize(&res.ledger, &res.summary);
    if (r < 0)
        goto out;
    *ret = res;
    memset(&res, 0, sizeof(res));
out:
    sim_result_free(&res);
    policy_ctx_free(&ctx);
    free(h.v);
    free(targets);
    return r;
}

void sim_result_free(struct sim_result *r)
{
    if (!r)
        return;
    ledger_free(&r->ledger);
    free(r->samples);
    free(r->sample_t);
    memset(r, 0, sizeof(*r));
}
