/*
 * metrics — the broker's counters and their Prometheus text exposition.
 * Counters live in one heap block written by the loop thread only; the
 * exposition is built in a capped buffer from the counters and from a view
 * (route labels, store counts, feed health) the caller fills. It does not
 * query anything itself.
 */
#include "metrics.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CODE_MIN 100
#define CODE_MAX 599
#define NCODES (CODE_MAX - CODE_MIN + 1)

/* Upper bounds of the decision-latency buckets, in microseconds (0.0001 s .. 1 s). */
static const int64_t bucket_us[] = {100,   250,   500,    1000,   2500,   5000,   10000,
                                    25000, 50000, 100000, 250000, 500000, 1000000};
#define NBUCKETS (sizeof(bucket_us) / sizeof(bucket_us[0]))

static const char *const outcome_names[METRICS_OUTCOMES] = {
    [METRICS_PLACED] = "placed",
    [METRICS_QUOTED] = "quoted",
    [METRICS_UNPLACEABLE] = "unplaceable",
    [METRICS_OVER_QUOTA] = "over_quota",
};

struct metrics {
    uint64_t requests[METRICS_MAX_ROUTES + 1][NCODES]; /* per row (last: unmatched), per code */
    uint64_t decisions[METRICS_OUTCOMES];
    uint64_t buckets[NBUCKETS + 1]; /* not cumulative; the last is above 1 s */
    uint64_t count;
    uint64_t sum_us;
};

int metrics_new(struct metrics **ret)
{
    struct metrics *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    *ret = m;
    return 0;
}

void metrics_free(struct metrics *m)
{
    free(m);
}

void metrics_request(struct metrics *m, size_t route, int status)
{
    if (!m || route > METRICS_MAX_ROUTES || status < CODE_MIN || status > CODE_MAX)
        return;
    m->requests[route][status - CODE_MIN]++;
}

void metrics_decision(struct metrics *m, enum metrics_outcome outcome, int64_t elapsed_us)
{
    if (!m || (unsigned)outcome >= METRICS_OUTCOMES)
        return;
    if (elapsed_us < 0)
        elapsed_us = 0;
    size_t b = 0;
    while (b < NBUCKETS && elapsed_us > bucket_us[b])
        b++;
    m->decisions[outcome]++;
    m->buckets[b]++;
    m->count++;
    m->sum_us += (uint64_t)elapsed_us;
}

/* ---- the exposition ---- */

/* A growable text buffer with a hard cap; the first failure sticks. */
struct out {
    char *p;
    size_t len;
    size_t cap;
    int err; /* 0, -ENOMEM or -E2BIG */
};

static void out_reserve(struct out *o, size_t more)
{
    if (o->err)
        return;
    if (o->len + more + 1 > METRICS_MAX_BYTES) {
        o->err = -E2BIG;
        return;
    }
    if (o->len + more + 1 <= o->cap)
        return;
    size_t nc = o->cap ? o->cap : 16384;
    while (nc < o->len + more + 1)
        nc *= 2;
    if (nc > METRICS_MAX_BYTES)
        nc = METRICS_MAX_BYTES;
    char *np = realloc(o->p, nc);
    if (!np) {
        o->err = -ENOMEM;
        return;
    }
    o->p = np;
    o->cap = nc;
}

static void out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void out_printf(struct out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        o->err = o->err ? o->err : -EINVAL;
        return;
    }
    out_reserve(o, (size_t)n);
    if (o->err)
        return;
    va_start(ap, fmt);
    vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    o->len += (size_t)n;
}

/* A label value escaped per the exposition format: backslash, double quote, newline. */
static void out_label(struct out *o, const char *v)
{
    for (const char *c = v ? v : ""; *c; c++) {
        out_reserve(o, 2);
        if (o->err)
            return;
        if (*c == '\\' || *c == '"') {
            o->p[o->len++] = '\\';
            o->p[o->len++] = *c;
        } else if (*c == '\n') {
            o->p[o->len++] = '\\';
            o->p[o->len++] = 'n';
        } else {
            o->p[o->len++] = *c;
        }
    }
    if (!o->err)
        o->p[o->len] = '\0';
}

static void family(struct out *o, const char *name, const char *type, const char *help)
{
    out_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void render_requests(struct out *o, const struct metrics *m, const struct metrics_view *v)
{
    family(o, "suanwang_requests_total", "counter",
           "API requests answered, by route-table row and HTTP status code.");
    if (!m)
        return;
    size_t rows = v->nroutes < METRICS_MAX_ROUTES ? v->nroutes : METRICS_MAX_ROUTES;
    /* Rows 0..nroutes-1 are the route table; row nroutes counts what no row matched. */
    for (size_t i = 0; i <= rows; i++) {
        bool row = i < v->nroutes;
        for (int c = 0; c < NCODES; c++) {
            if (!m->requests[i][c])
                continue;
            out_printf(o, "suanwang_requests_total{method=\"");
            out_label(o, row ? v->routes[i].method : "any");
            out_printf(o, "\",route=\"");
            out_label(o, row ? v->routes[i].pattern : "unmatched");
            out_printf(o, "\",code=\"%d\"} %llu\n", c + CODE_MIN,
                       (unsigned long long)m->requests[i][c]);
        }
    }
}

static void render_decisions(struct out *o, const struct metrics *m)
{
    uint64_t decisions[METRICS_OUTCOMES] = {0}, buckets[NBUCKETS + 1] = {0}, count = 0, sum_us = 0;
    if (m) {
        memcpy(decisions, m->decisions, sizeof(decisions));
        memcpy(buckets, m->buckets, sizeof(buckets));
        count = m->count;
        sum_us = m->sum_us;
    }
    family(o, "suanwang_decisions_total", "counter",
           "Routing decisions recorded, by outcome (over_quota: routed, refused by the "
           "tenant's quota).");
    for (int k = 0; k < METRICS_OUTCOMES; k++)
        out_printf(o, "suanwang_decisions_total{outcome=\"%s\"} %llu\n", outcome_names[k],
                   (unsigned long long)decisions[k]);
    family(o, "suanwang_decision_seconds", "histogram",
           "Time taken by a routing decision: inventory, vouchers, routing and explanation.");
    uint64_t cum = 0;
    for (size_t b = 0; b < NBUCKETS; b++) {
        cum += buckets[b];
        out_printf(o, "suanwang_decision_seconds_bucket{le=\"%g\"} %llu\n",
                   (double)bucket_us[b] / 1e6, (unsigned long long)cum);
    }
    cum += buckets[NBUCKETS];
    out_printf(o, "suanwang_decision_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
    out_printf(o, "suanwang_decision_seconds_sum %.6f\n", (double)sum_us / 1e6);
    out_printf(o, "suanwang_decision_seconds_count %llu\n", (unsigned long long)count);
}

static void render_gauges(struct out *o, const struct metrics_view *v)
{
    static const struct store_stats none;
    const struct store_stats *s = v->stats ? v->stats : &none;
    family(o, "suanwang_placements", "gauge",
           "Placements by state; a hold whose time is up counts as expired.");
    out_printf(o,
               "suanwang_placements{state=\"held\"} %ld\n"
               "suanwang_placements{state=\"confirmed\"} %ld\n"
               "suanwang_placements{state=\"released\"} %ld\n"
               "suanwang_placements{state=\"expired\"} %ld\n",
               s->held, s->confirmed, s->released, s->expired);
    family(o, "suanwang_cards_held", "gauge", "Cards in live holds.");
    out_printf(o, "suanwang_cards_held %ld\n", s->cards_held);
    family(o, "suanwang_cards_confirmed", "gauge", "Cards in confirmed placements.");
    out_printf(o, "suanwang_cards_confirmed %ld\n", s->cards_confirmed);
    family(o, "suanwang_centers", "gauge", "Registered centers.");
    out_printf(o, "suanwang_centers %ld\n", s->centers);
    family(o, "suanwang_pools", "gauge", "Pools (center, accelerator model) in the inventory.");
    out_printf(o, "suanwang_pools %ld\n", s->pools);
}

/* One feed's sample of a family: name{center="…",feed="idx",adapter="…"} value. */
static void feed_sample(struct out *o, const char *name, const struct center_row *c,
                        const struct feed_config *f, const char *value)
{
    out_printf(o, "%s{center=\"", name);
    out_label(o, c->id);
    out_printf(o, "\",feed=\"%d\",adapter=\"", f->idx);
    out_label(o, f->adapter);
    out_printf(o, "\"} %s\n", value);
}

static void render_feeds(struct out *o, const struct metrics_view *v)
{
    char val[48];
    family(o, "suanwang_feed_age_seconds", "gauge",
           "Seconds since a feed's last success (feeds that have succeeded only).");
    for (size_t i = 0; i < v->ncenters; i++) {
        const struct center_row *c = &v->centers[i];
        for (size_t k = 0; k < c->nfeeds; k++) {
            const struct feed_config *f = &c->feeds[k];
            if (!f->last_success)
                continue;
            int64_t age = v->now - f->last_success;
            snprintf(val, sizeof(val), "%.3f", (double)(age > 0 ? age : 0) / 1000.0);
            feed_sample(o, "suanwang_feed_age_seconds", c, f, val);
        }
    }
    if (v->feeds_running) {
        family(o, "suanwang_feeds_ready", "gauge",
               "1 once the first poll of every pull feed since start has ended, else 0.");
        out_printf(o, "suanwang_feeds_ready %d\n", v->feeds_ready ? 1 : 0);
        family(o, "suanwang_feeds_pending_first_polls", "gauge",
               "Pull feeds whose first poll since start has not ended.");
        out_printf(o, "suanwang_feeds_pending_first_polls %u\n", v->feeds_pending);
    }
    family(o, "suanwang_feed_errors", "gauge", "1 when a feed's last attempt failed, else 0.");
    for (size_t i = 0; i < v->ncenters; i++) {
        const struct center_row *c = &v->centers[i];
        for (size_t k = 0; k < c->nfeeds; k++)
            feed_sample(o, "suanwang_feed_errors", c, &c->feeds[k],
                        c->feeds[k].last_error ? "1" : "0");
    }
}

int metrics_render(const struct metrics *m, const struct metrics_view *v, char **ret,
                   size_t *ret_len)
{
    struct out o = {0};
    render_requests(&o, m, v);
    render_decisions(&o, m);
    render_gauges(&o, v);
    render_feeds(&o, v);
    if (o.err) {
        free(o.p);
        return o.err;
    }
    *ret = o.p;
    *ret_len = o.len;
    return 0;
}
