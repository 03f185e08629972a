/*
 * routebase — request-independent routing inputs, per-origin inputs from them,
 * and their exact JSON form (see routebase.h). The JSON is compact: each
 * region, latency entry, center and pool is an array whose positions are
 * listed next to the writer below. Doubles are written with 17 significant
 * digits, which read back as the same value, so a base read back routes
 * exactly as it did.
 */
#include "routebase.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geo.h"

/* An RTT that no latency limit admits: a center in an unknown region. */
#define UNREACHABLE_RTT_MS 1e9

int route_base_alloc(struct route_base *b, size_t ncenters, size_t nregions, size_t nlatency,
                     size_t npools)
{
    memset(b, 0, sizeof(*b));
    size_t nc = ncenters ? ncenters : 1, np = npools ? npools : 1;
    b->centers = calloc(nc, sizeof(*b->centers));
    b->center_region = calloc(nc, sizeof(*b->center_region));
    b->staleness_ms = calloc(nc, sizeof(*b->staleness_ms));
    b->regions = calloc(nregions ? nregions : 1, sizeof(*b->regions));
    b->latency = calloc(nlatency ? nlatency : 1, sizeof(*b->latency));
    b->pools = calloc(np, sizeof(*b->pools));
    b->observed_at = calloc(np, sizeof(*b->observed_at));
    b->list_price = calloc(np, sizeof(*b->list_price));
    b->currency = calloc(np, sizeof(*b->currency));
    if (!b->centers || !b->center_region || !b->staleness_ms || !b->regions || !b->latency ||
        !b->pools || !b->observed_at || !b->list_price || !b->currency) {
        route_base_free(b);
        return -ENOMEM;
    }
    b->ncenters = ncenters;
    b->nregions = nregions;
    b->nlatency = nlatency;
    b->npools = npools;
    return 0;
}

void route_base_free(struct route_base *b)
{
    if (!b)
        return;
    if (b->owned_labels) {
        for (size_t i = 0; i < b->ncenters; i++)
            free(b->owned_labels[i]);
        free(b->owned_labels);
    }
    free(b->centers);
    free(b->center_region);
    free(b->staleness_ms);
    free(b->regions);
    free(b->latency);
    free(b->pools);
    free(b->observed_at);
    free(b->list_price);
    free(b->currency);
    cJSON_Delete(b->doc);
    memset(b, 0, sizeof(*b));
}

size_t route_base_region(const struct route_base *b, const char *id)
{
    for (size_t i = 0; i < b->nregions; i++) {
        if (strcmp(b->regions[i].id, id) == 0)
            return i;
    }
    return b->nregions;
}

void route_base_rtt(const struct route_base *b, size_t from, size_t to, double *ret_ms,
                    enum rtt_source *ret_source)
{
    if (from >= b->nregions || to >= b->nregions) {
        *ret_ms = UNREACHABLE_RTT_MS;
        *ret_source = RTT_ESTIMATED;
        return;
    }
    for (size_t i = 0; i < b->nlatency; i++) {
        const struct base_latency *l = &b->latency[i];
        if ((l->a == from && l->b == to) || (l->a == to && l->b == from)) {
            *ret_ms = l->rtt_ms;
            *ret_source = l->source;
            return;
        }
    }
    if (from == to) {
        *ret_ms = GEO_SAME_REGION_RTT_MS;
        *ret_source = RTT_CONFIGURED;
        return;
    }
    const struct base_region *ra = &b->regions[from], *rb = &b->regions[to];
    *ret_ms = geo_estimate_rtt_ms(ra->lat, ra->lon, rb->lat, rb->lon);
    *ret_source = RTT_ESTIMATED;
}

size_t route_base_pool(const struct route_base *b, const char *center, const char *model)
{
    /* Pools come ordered by (center id, model), as the store loads them. */
    size_t lo = 0, hi = b->npools;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct route_pool *p = &b->pools[mid];
        int c = strcmp(b->centers[p->center].id, center);
        if (c == 0)
            c = strcmp(p->model, model);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = 0; i < b->npools; i++) { /* in case a base was not in that order */
        const struct route_pool *p = &b->pools[i];
        if (strcmp(b->centers[p->center].id, center) == 0 && strcmp(p->model, model) == 0)
            return i;
    }
    return b->npools;
}

void route_input_free(struct route_input *in)
{
    if (!in)
        return;
    free(in->centers);
    free(in->pools);
    memset(in, 0, sizeof(*in));
}

int route_base_input(const struct route_base *b, const char *origin, int64_t now, const long *held,
                     const long *confirmed_unseen, struct route_input *ret)
{
    memset(ret, 0, sizeof(*ret));
    size_t o = route_base_region(b, origin);
    if (o == b->nregions)
        return -ENOENT;
    struct route_input in = {0};
    double *rtt = calloc(b->nregions + 1, sizeof(*rtt));
    enum rtt_source *src = calloc(b->nregions + 1, sizeof(*src));
    in.centers = calloc(b->ncenters ? b->ncenters : 1, sizeof(*in.centers));
    in.pools = calloc(b->npools ? b->npools : 1, sizeof(*in.pools));
    if (!rtt || !src || !in.centers || !in.pools) {
        free(rtt);
        free(src);
        route_input_free(&in);
        return -ENOMEM;
    }
    /* One RTT per region from the origin, then per center by its region. */
    for (size_t i = 0; i <= b->nregions; i++)
        route_base_rtt(b, o, i, &rtt[i], &src[i]);
    memcpy(in.centers, b->centers, b->ncenters * sizeof(*in.centers));
    for (size_t i = 0; i < b->ncenters; i++) {
        in.centers[i].rtt_ms = rtt[b->center_region[i]];
        in.centers[i].rtt_source = src[b->center_region[i]];
    }
    memcpy(in.pools, b->pools, b->npools * sizeof(*in.pools));
    in.npools = b->npools;
    route_input_usage(&in, held, confirmed_unseen);
    route_input_stale(b, now, &in);
    in.ncenters = b->ncenters;
    in.npools = b->npools;
    in.list_price = b->list_price;
    in.currency = b->currency;
    free(rtt);
    free(src);
    *ret = in;
    return 0;
}

void route_input_usage(struct route_input *in, const long *held, const long *confirmed_unseen)
{
    for (size_t i = 0; i < in->npools; i++) {
        in->pools[i].held = held ? held[i] : 0;
        in->pools[i].confirmed_unseen = confirmed_unseen ? confirmed_unseen[i] : 0;
    }
}

int64_t route_input_stale(const struct route_base *b, int64_t now, struct route_input *in)
{
    int64_t until = INT64_MAX;
    for (size_t i = 0; i < in->npools; i++) {
        struct route_pool *p = &in->pools[i];
        /* Stale once now - observed_at > staleness, i.e. from observed_at + staleness + 1 on. */
        int64_t limit, staleness = b->staleness_ms[p->center];
        if (__builtin_add_overflow(b->observed_at[i], staleness, &limit))
            limit = staleness > 0 ? INT64_MAX : INT64_MIN;
        else if (limit < INT64_MAX)
            limit++;
        p->stale = now >= limit;
        if (!p->stale && limit < until)
            until = limit;
    }
    return until;
}

/* ---- JSON ---- */

/*
 * Written as text directly (a cJSON tree of a large inventory costs many times
 * the text):
 * {"version":1,
 *  "regions": [[id, lat, lon], …],
 *  "latency": [[region index a, region index b, rtt_ms, source], …],
 *  "centers": [[id, region, region index, status, {labels}, staleness_ms], …],
 *  "pools":   [[center index, model, domestic, memory_gib, [tflops per precision],
 *               total, free, largest_block, price CNY, list price, currency, observed_at], …]}
 */
#define BASE_VERSION 1

/* A growing text buffer; on allocation failure it stops growing and says so at the end. */
struct out {
    char *buf;
    size_t len, cap;
    bool oom;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->oom)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < o->len + n + 1)
            cap *= 2;
        char *b = realloc(o->buf, cap);
        if (!b) {
            o->oom = true;
            return;
        }
        o->buf = b;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void put_s(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* A number that reads back as the same double (17 significant digits). */
static void put_num(struct out *o, double v)
{
    char b[40];
    if (!isfinite(v)) {
        put_s(o, "null"); /* not a routing input; the reader refuses the epoch */
        return;
    }
    int n = snprintf(b, sizeof(b), "%.17g", v);
    put(o, b, (size_t)n);
}

static void put_str(struct out *o, const char *s)
{
    put_s(o, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char b[8];
        if (*p == '"' || *p == '\\') {
            b[0] = '\\';
            b[1] = (char)*p;
            put(o, b, 2);
        } else if (*p < 0x20) {
            snprintf(b, sizeof(b), "\\u%04x", *p);
            put(o, b, 6);
        } else {
            put(o, (const char *)p, 1);
        }
    }
    put_s(o, "\"");
}

static void put_sep(struct out *o, size_t i)
{
    if (i > 0)
        put_s(o, ",");
}

char *route_base_json(const struct route_base *b)
{
    struct out o = {0};
    put_s(&o, "{\"version\":1,\"regions\":[");
    for (size_t i = 0; i < b->nregions; i++) {
        put_sep(&o, i);
        put_s(&o, "[");
        put_str(&o, b->regions[i].id);
        put_s(&o, ",");
        put_num(&o, b->regions[i].lat);
        put_s(&o, ",");
        put_num(&o, b->regions[i].lon);
        put_s(&o, "]");
    }
    put_s(&o, "],\"latency\":[");
    for (size_t i = 0; i < b->nlatency; i++) {
        const struct base_latency *l = &b->latency[i];
        put_sep(&o, i);
        put_s(&o, "[");
        put_num(&o, (double)l->a);
        put_s(&o, ",");
        put_num(&o, (double)l->b);
        put_s(&o, ",");
        put_num(&o, l->rtt_ms);
        put_s(&o, ",");
        put_str(&o, rtt_source_name(l->source));
        put_s(&o, "]");
    }
    put_s(&o, "],\"centers\":[");
    for (size_t i = 0; i < b->ncenters; i++) {
        const struct route_center *c = &b->centers[i];
        put_sep(&o, i);
        put_s(&o, "[");
        put_str(&o, c->id);
        put_s(&o, ",");
        put_str(&o, c->region);
        put_s(&o, ",");
        put_num(&o, (double)b->center_region[i]);
        put_s(&o, ",");
        put_str(&o, center_status_name(c->status));
        put_s(&o, ",{");
        for (size_t k = 0; k < c->nlabels; k++) {
            put_sep(&o, k);
            put_str(&o, c->labels[k].key);
            put_s(&o, ":");
            put_str(&o, c->labels[k].value);
        }
        put_s(&o, "},");
        put_num(&o, (double)b->staleness_ms[i]);
        put_s(&o, "]");
    }
    put_s(&o, "],\"pools\":[");
    for (size_t i = 0; i < b->npools; i++) {
        const struct route_pool *p = &b->pools[i];
        put_sep(&o, i);
        put_s(&o, "[");
        put_num(&o, (double)p->center);
        put_s(&o, ",");
        put_str(&o, p->model);
        put_s(&o, p->domestic ? ",true," : ",false,");
        put_num(&o, p->memory_gib);
        put_s(&o, ",[");
        for (int k = 0; k < PREC_COUNT; k++) {
            put_sep(&o, (size_t)k);
            put_num(&o, p->tflops[k]);
        }
        put_s(&o, "],");
        put_num(&o, (double)p->total);
        put_s(&o, ",");
        put_num(&o, (double)p->free);
        put_s(&o, ",");
        put_num(&o, (double)p->largest_block);
        put_s(&o, ",");
        put_num(&o, p->price);
        put_s(&o, ",");
        put_num(&o, b->list_price[i]);
        put_s(&o, ",");
        put_str(&o, b->currency[i] ? b->currency[i] : "");
        put_s(&o, ",");
        put_num(&o, (double)b->observed_at[i]);
        put_s(&o, "]");
    }
    put_s(&o, "]}");
    if (o.oom) {
        free(o.buf);
        return NULL;
    }
    return o.buf;
}

/* Reading: a cursor over one array's items, failing soft on any mismatch. */
struct cursor {
    const cJSON *it;
    bool bad;
};

static const cJSON *next(struct cursor *c)
{
    const cJSON *v = c->it;
    if (!v)
        c->bad = true;
    else
        c->it = v->next;
    return v;
}

static double next_num(struct cursor *c)
{
    const cJSON *v = next(c);
    if (!cJSON_IsNumber(v)) {
        c->bad = true;
        return 0;
    }
    return v->valuedouble;
}

static const char *next_str(struct cursor *c)
{
    const cJSON *v = next(c);
    if (!cJSON_IsString(v)) {
        c->bad = true;
        return "";
    }
    return v->valuestring;
}

static size_t next_index(struct cursor *c, size_t limit)
{
    double v = next_num(c);
    if (!(v >= 0 && v <= (double)limit)) {
        c->bad = true;
        return 0;
    }
    return (size_t)v;
}

static struct cursor open_array(const cJSON *a, bool *bad)
{
    struct cursor c = {.it = cJSON_IsArray(a) ? a->child : NULL, .bad = false};
    if (!cJSON_IsArray(a))
        *bad = true;
    return c;
}

static int read_center(struct route_base *b, size_t i, const cJSON *item)
{
    bool bad = false;
    struct cursor c = open_array(item, &bad);
    struct route_center *rc = &b->centers[i];
    rc->id = next_str(&c);
    rc->region = next_str(&c);
    b->center_region[i] = next_index(&c, b->nregions);
    if (center_status_parse(next_str(&c), &rc->status) < 0)
        bad = true;
    const cJSON *labels = next(&c);
    b->staleness_ms[i] = (int64_t)next_num(&c);
    if (bad || c.bad || !cJSON_IsObject(labels))
        return -EINVAL;
    size_t n = (size_t)cJSON_GetArraySize(labels);
    if (n == 0)
        return 0;
    struct label *l = calloc(n, sizeof(*l));
    if (!l)
        return -ENOMEM;
    b->owned_labels[i] = l;
    const cJSON *kv;
    size_t k = 0;
    cJSON_ArrayForEach(kv, labels)
    {
        if (!cJSON_IsString(kv) || !kv->string)
            return -EINVAL;
        l[k].key = kv->string;
        l[k].value = kv->valuestring;
        k++;
    }
    rc->labels = l;
    rc->nlabels = n;
    return 0;
}

static int read_pool(struct route_base *b, size_t i, const cJSON *item)
{
    bool bad = false;
    struct cursor c = open_array(item, &bad);
    struct route_pool *p = &b->pools[i];
    p->center = next_index(&c, b->ncenters ? b->ncenters - 1 : 0);
    p->model = next_str(&c);
    const cJSON *dom = next(&c);
    p->domestic = cJSON_IsTrue(dom);
    p->memory_gib = next_num(&c);
    struct cursor t = open_array(next(&c), &bad);
    for (int k = 0; k < PREC_COUNT; k++)
        p->tflops[k] = next_num(&t);
    p->total = (long)next_num(&c);
    p->free = (long)next_num(&c);
    p->largest_block = (long)next_num(&c);
    p->price = next_num(&c);
    b->list_price[i] = next_num(&c);
    b->currency[i] = next_str(&c);
    b->observed_at[i] = (int64_t)next_num(&c);
    return bad || c.bad || t.bad || !cJSON_IsBool(dom) || b->ncenters == 0 ? -EINVAL : 0;
}

int route_base_from_json(cJSON *doc, struct route_base *ret)
{
    memset(ret, 0, sizeof(*ret));
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(doc, "version");
    const cJSON *regions = cJSON_GetObjectItemCaseSensitive(doc, "regions");
    const cJSON *latency = cJSON_GetObjectItemCaseSensitive(doc, "latency");
    const cJSON *centers = cJSON_GetObjectItemCaseSensitive(doc, "centers");
    const cJSON *pools = cJSON_GetObjectItemCaseSensitive(doc, "pools");
    if (!cJSON_IsNumber(version) || version->valuedouble != BASE_VERSION ||
        !cJSON_IsArray(regions) || !cJSON_IsArray(latency) || !cJSON_IsArray(centers) ||
        !cJSON_IsArray(pools)) {
        cJSON_Delete(doc);
        return -EINVAL;
    }
    struct route_base b;
    int r = route_base_alloc(
        &b, (size_t)cJSON_GetArraySize(centers), (size_t)cJSON_GetArraySize(regions),
        (size_t)cJSON_GetArraySize(latency), (size_t)cJSON_GetArraySize(pools));
    if (r < 0) {
        cJSON_Delete(doc);
        return r;
    }
    b.doc = doc;
    b.owned_labels = calloc(b.ncenters ? b.ncenters : 1, sizeof(*b.owned_labels));
    if (!b.owned_labels) {
        route_base_free(&b);
        return -ENOMEM;
    }
    bool bad = false;
    size_t i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, regions)
    {
        struct cursor c = open_array(item, &bad);
        b.regions[i].id = next_str(&c);
        b.regions[i].lat = next_num(&c);
        b.regions[i].lon = next_num(&c);
        bad |= c.bad;
        i++;
    }
    i = 0;
    cJSON_ArrayForEach(item, latency)
    {
        struct cursor c = open_array(item, &bad);
        struct base_latency *l = &b.latency[i++];
        l->a = next_index(&c, b.nregions ? b.nregions - 1 : 0);
        l->b = next_index(&c, b.nregions ? b.nregions - 1 : 0);
        l->rtt_ms = next_num(&c);
        bad |= c.bad || rtt_source_parse(next_str(&c), &l->source) < 0 || b.nregions == 0;
    }
    i = 0;
    cJSON_ArrayForEach(item, centers)
    {
        r = read_center(&b, i++, item);
        if (r < 0)
            break;
    }
    i = 0;
    cJSON_ArrayForEach(item, pools)
    {
        if (r < 0)
            break;
        r = read_pool(&b, i++, item);
    }
    if (r == 0 && bad)
        r = -EINVAL;
    if (r < 0) {
        route_base_free(&b);
        return r;
    }
    *ret = b;
    return 0;
}
