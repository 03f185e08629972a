/*
 * inventory — the cached view of catalog, regions, latency, centers and pools,
 * and the glue from that view to the routing core. Reloading the whole view
 * after a change is simple and exact; changes (registrations, feeds) are rare
 * next to routing requests.
 */
#include "inventory.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Copies src into dst of len bytes (> 0), cut short to fit, as snprintf("%s") does. */
static void copy_text(char *dst, size_t len, const char *src)
{
    size_t n = strnlen(src, len - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void inventory_init(struct inventory *inv, struct store *st, const struct config *cfg)
{
    memset(inv, 0, sizeof(*inv));
    inv->st = st;
    inv->cfg = cfg;
}

/* Drops everything but the catalog, which no API call changes. */
static void clear(struct inventory *inv)
{
    free(inv->regions);
    free(inv->latency);
    for (size_t i = 0; i < inv->ncenters; i++) {
        if (inv->center_labels)
            cJSON_Delete(inv->center_labels[i]);
        if (inv->labels)
            free(inv->labels[i]);
    }
    free(inv->center_labels);
    free(inv->labels);
    free(inv->nlabels);
    free(inv->center_region);
    store_centers_free(inv->centers, inv->ncenters);
    store_pools_free(inv->pools, inv->npools);
    free(inv->pool_center);
    for (size_t i = 0; inv->origins && i < inv->base.nregions; i++)
        route_input_free(&inv->origins[i].in);
    free(inv->origins);
    route_base_free(&inv->base);
    free(inv->held);
    free(inv->unseen);
    struct store *st = inv->st;
    const struct config *cfg = inv->cfg;
    struct catalog cat = inv->catalog;
    struct route_scratch scratch = inv->scratch;
    struct route_base old_base = inv->old_base;
    int64_t old_epoch = inv->old_epoch;
    memset(inv, 0, sizeof(*inv));
    inv->st = st;
    inv->cfg = cfg;
    inv->catalog = cat;
    inv->scratch = scratch;
    inv->old_base = old_base;
    inv->old_epoch = old_epoch;
}

/* The catalog, loaded once. 0 or a negative errno. */
static int load_catalog(struct inventory *inv)
{
    if (inv->catalog.nentries > 0)
        return 0;
    catalog_free(&inv->catalog);
    return store_load_catalog(inv->st, &inv->catalog);
}

void inventory_free(struct inventory *inv)
{
    if (!inv)
        return;
    clear(inv);
    catalog_free(&inv->catalog);
    route_scratch_free(&inv->scratch);
    route_base_free(&inv->old_base);
}

void inventory_invalidate(struct inventory *inv)
{
    inv->loaded = false;
}

static size_t region_index(const struct inventory *inv, const char *id)
{
    for (size_t i = 0; i < inv->nregions; i++) {
        if (strcmp(inv->regions[i].id, id) == 0)
            return i;
    }
    return inv->nregions;
}

static int center_index(const struct inventory *inv, const char *id, size_t *ret)
{
    /* Centers are loaded ordered by id. */
    size_t lo = 0, hi = inv->ncenters;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(inv->centers[mid].id, id);
        if (c == 0) {
            *ret = mid;
            return 0;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -ENOENT;
}

static int parse_labels(struct inventory *inv, size_t i)
{
    struct json_error err;
    const char *text = inv->centers[i].labels_json ? inv->centers[i].labels_json : "{}";
    if (strcmp(text, "{}") == 0)
        return 0; /* no labels, as most centers have: nothing to parse */
    cJSON *doc = NULL;
    if (json_parse_object(text, strlen(text), &doc, &err) < 0)
        return 0; /* written by us; an unreadable value means no labels */
    inv->center_labels[i] = doc;
    cJSON *wrap = cJSON_CreateObject();
    if (!wrap)
        return -ENOMEM;
    cJSON_AddItemReferenceToObject(wrap, "labels", doc);
    int r =
        json_get_labels(wrap, "labels", "", 1024, 1024, &inv->labels[i], &inv->nlabels[i], &err);
    cJSON_Delete(wrap);
    return r == -ENOMEM ? r : 0;
}

static void pool_traits(const struct inventory *inv, const struct pool_row *p,
                        struct route_pool *rp);

/* The request-independent routing inputs from the loaded rows. */
static int build_base(struct inventory *inv)
{
    struct route_base *b = &inv->base;
    int r = route_base_alloc(b, inv->ncenters, inv->nregions, inv->nlatency, inv->npools);
    size_t np = inv->npools ? inv->npools : 1;
    inv->held = calloc(np, sizeof(*inv->held));
    inv->unseen = calloc(np, sizeof(*inv->unseen));
    if (r < 0 || !inv->held || !inv->unseen)
        return -ENOMEM;
    for (size_t i = 0; i < inv->nregions; i++) {
        b->regions[i].id = inv->regions[i].id;
        b->regions[i].lat = inv->regions[i].lat;
        b->regions[i].lon = inv->regions[i].lon;
    }
    size_t nl = 0;
    for (size_t i = 0; i < inv->nlatency; i++) {
        const struct latency_row *l = &inv->latency[i];
        size_t a = region_index(inv, l->a), z = region_index(inv, l->b);
        if (a == inv->nregions || z == inv->nregions)
            continue; /* a pair naming an unknown region never matches a lookup */
        b->latency[nl++] = (struct base_latency){a, z, l->rtt_ms, l->source};
    }
    b->nlatency = nl;
    for (size_t i = 0; i < inv->ncenters; i++) {
        const struct center_row *c = &inv->centers[i];
        struct route_center *rc = &b->centers[i];
        rc->id = c->id;
        rc->region = c->region;
        rc->status = c->status;
        rc->labels = inv->labels[i];
        rc->nlabels = inv->nlabels[i];
        b->center_region[i] = inv->center_region[i];
        b->staleness_ms[i] = (int64_t)inventory_staleness_s(inv, c) * 1000;
    }
    for (size_t i = 0; i < inv->npools; i++) {
        const struct pool_row *p = &inv->pools[i];
        struct route_pool *rp = &b->pools[i];
        double rate = config_rate(inv->cfg, p->currency);
        rp->center = inv->pool_center[i];
        rp->model = p->model;
        pool_traits(inv, p, rp);
        rp->total = p->total;
        rp->free = p->free;
        rp->largest_block = p->largest_block;
        rp->price = rate > 0 ? p->price * rate : p->price;
        b->observed_at[i] = p->observed_at;
        b->list_price[i] = p->price;
        b->currency[i] = p->currency;
    }
    return 0;
}

int inventory_refresh(struct inventory *inv)
{
    if (inv->loaded)
        return 0;
    clear(inv);
    int r = load_catalog(inv);
    if (r == 0)
        r = store_regions_load(inv->st, &inv->regions, &inv->nregions);
    if (r == 0)
        r = store_latency_load(inv->st, &inv->latency, &inv->nlatency);
    if (r == 0)
        r = store_centers_load(inv->st, NULL, &inv->centers, &inv->ncenters);
    if (r == 0)
        r = store_pools_load(inv->st, NULL, &inv->pools, &inv->npools);
    if (r < 0)
        goto fail;
    size_t nc = inv->ncenters ? inv->ncenters : 1, np = inv->npools ? inv->npools : 1;
    inv->center_region = calloc(nc, sizeof(*inv->center_region));
    inv->center_labels = calloc(nc, sizeof(*inv->center_labels));
    inv->labels = calloc(nc, sizeof(*inv->labels));
    inv->nlabels = calloc(nc, sizeof(*inv->nlabels));
    inv->pool_center = calloc(np, sizeof(*inv->pool_center));
    if (!inv->center_region || !inv->center_labels || !inv->labels || !inv->nlabels ||
        !inv->pool_center) {
        r = -ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < inv->ncenters; i++) {
        inv->center_region[i] = region_index(inv, inv->centers[i].region);
        r = parse_labels(inv, i);
        if (r < 0)
            goto fail;
    }
    for (size_t i = 0; i < inv->npools; i++) {
        if (center_index(inv, inv->pools[i].center, &inv->pool_center[i]) < 0) {
            r = -EIO;
            goto fail;
        }
    }
    r = build_base(inv);
    if (r < 0)
        goto fail;
    inv->loaded = true;
    return 0;
fail:
    clear(inv);
    return r;
}

const struct region *inventory_region(const struct inventory *inv, const char *id)
{
    size_t i = region_index(inv, id);
    return i < inv->nregions ? &inv->regions[i] : NULL;
}

const struct center_row *inventory_center(const struct inventory *inv, const char *id)
{
    size_t i;
    return center_index(inv, id, &i) == 0 ? &inv->centers[i] : NULL;
}

long inventory_staleness_s(const struct inventory *inv, const struct center_row *c)
{
    if (c->staleness_s > 0)
        return c->staleness_s;
    long min_interval = 0;
    for (size_t i = 0; i < c->nfeeds; i++) {
        if (strcmp(c->feeds[i].mode, "pull") == 0 &&
            (min_interval == 0 || c->feeds[i].interval_s < min_interval))
            min_interval = c->feeds[i].interval_s;
    }
    return min_interval > 0 ? 3 * min_interval : inv->cfg->default_staleness_s;
}

bool inventory_pool_stale(const struct inventory *inv, const struct pool_row *p, int64_t now)
{
    const struct center_row *c = inventory_center(inv, p->center);
    if (!c)
        return true;
    return now - p->observed_at > (int64_t)inventory_staleness_s(inv, c) * 1000;
}

/* Fills catalog values, then the feed's stated ones over them. */
static void pool_traits(const struct inventory *inv, const struct pool_row *p,
                        struct route_pool *rp)
{
    const struct catalog_entry *e = catalog_resolve(&inv->catalog, p->model);
    if (e) {
        rp->domestic = e->domestic;
        rp->memory_gib = e->memory_gib;
        memcpy(rp->tflops, e->tflops, sizeof(rp->tflops));
    }
    if (p->domestic >= 0)
        rp->domestic = p->domestic != 0;
    if (p->memory_gib >= 0)
        rp->memory_gib = p->memory_gib;
    if (p->tflops_json) {
        cJSON *t = cJSON_Parse(p->tflops_json);
        const cJSON *it;
        cJSON_ArrayForEach(it, t)
        {
            enum precision prec;
            if (it->string && precision_parse(it->string, &prec) == 0 && cJSON_IsNumber(it))
                rp->tflops[prec] = it->valuedouble;
        }
        cJSON_Delete(t);
    }
}

/* Orders a usage row against a pool by (center, model), as SQLite's BINARY collation does. */
static int usage_cmp(const struct pool_usage *u, const struct pool_row *p)
{
    int c = strcmp(u->center, p->center);
    return c != 0 ? c : strcmp(u->model, p->model);
}

/* Reads cards in live holds and confirmed-unseen cards per pool from the store. */
static int load_usage(struct inventory *inv, int64_t now)
{
    struct pool_usage *usage = NULL;
    size_t nusage = 0, u = 0;
    uint64_t changes = store_placement_changes(inv->st);
    int r = store_pool_usage(inv->st, now, &usage, &nusage);
    if (r < 0)
        return r;
    memset(inv->held, 0, inv->base.npools * sizeof(*inv->held));
    memset(inv->unseen, 0, inv->base.npools * sizeof(*inv->unseen));
    for (size_t i = 0; i < inv->npools; i++) {
        /* Pools and usage are both ordered by (center, model): walk them together. */
        while (u < nusage && usage_cmp(&usage[u], &inv->pools[i]) < 0)
            u++;
        if (u < nusage && usage_cmp(&usage[u], &inv->pools[i]) == 0) {
            inv->held[i] = usage[u].held;
            inv->unseen[i] = usage[u].confirmed_unseen;
        }
    }
    free(usage);
    inv->usage_loaded = true;
    inv->usage_changes = changes;
    inv->usage_gen++;
    return 0;
}

int inventory_route_input(struct inventory *inv, const char *origin, int64_t now,
                          const struct route_input **ret)
{
    *ret = NULL;
    int r = inventory_refresh(inv);
    if (r < 0)
        return r;
    if (!inv->usage_loaded || inv->usage_changes != store_placement_changes(inv->st)) {
        r = load_usage(inv, now);
        if (r < 0)
            return r;
    }
    size_t o = route_base_region(&inv->base, origin);
    if (o == inv->base.nregions)
        return -ENOENT;
    if (!inv->origins) {
        inv->origins = calloc(inv->base.nregions, sizeof(*inv->origins));
        if (!inv->origins)
            return -ENOMEM;
    }
    struct origin_input *oi = &inv->origins[o];
    if (!oi->in.pools) {
        r = route_base_input(&inv->base, origin, now, inv->held, inv->unseen, &oi->in);
        if (r < 0)
            return r;
        oi->usage_gen = inv->usage_gen;
        oi->stale_from = now;
        oi->stale_until = route_input_stale(&inv->base, now, &oi->in);
    }
    if (oi->usage_gen != inv->usage_gen) {
        route_input_usage(&oi->in, inv->held, inv->unseen);
        oi->usage_gen = inv->usage_gen;
    }
    if (now < oi->stale_from || now >= oi->stale_until) {
        oi->stale_from = now;
        oi->stale_until = route_input_stale(&inv->base, now, &oi->in);
    }
    *ret = &oi->in;
    return 0;
}

void inventory_hold_added(struct inventory *inv, size_t pool, long cards)
{
    if (inv->loaded && inv->usage_loaded && pool < inv->base.npools) {
        inv->held[pool] += cards;
        /* Inputs that were up to date stay so with this one change, not a copy of all. */
        uint64_t before = inv->usage_gen++;
        for (size_t o = 0; inv->origins && o < inv->base.nregions; o++) {
            struct origin_input *oi = &inv->origins[o];
            if (oi->in.pools && oi->usage_gen == before) {
                oi->in.pools[pool].held += cards;
                oi->usage_gen = inv->usage_gen;
            }
        }
    }
}

int inventory_epoch(struct inventory *inv, int64_t now, int64_t *ret)
{
    if (!inv->loaded)
        return -ESTALE;
    if (inv->epoch == 0) {
        char *text = route_base_json(&inv->base);
        if (!text)
            return -ENOMEM;
        int r = store_epoch_insert(inv->st, now, text, &inv->epoch);
        free(text);
        if (r < 0) {
            inv->epoch = 0;
            return r;
        }
    }
    *ret = inv->epoch;
    return 0;
}

int inventory_epoch_base(struct inventory *inv, int64_t epoch, const struct route_base **ret)
{
    *ret = NULL;
    if (inv->loaded && epoch > 0 && epoch == inv->epoch) {
        *ret = &inv->base;
        return 0;
    }
    if (epoch <= 0 || epoch != inv->old_epoch) {
        char *text = NULL;
        int r = store_epoch_get(inv->st, epoch, &text);
        if (r < 0)
            return r;
        cJSON *doc = cJSON_Parse(text);
        free(text);
        struct route_base b = {0};
        r = doc ? route_base_from_json(doc, &b) : -EINVAL;
        if (r < 0)
            return r;
        route_base_free(&inv->old_base);
        inv->old_base = b;
        inv->old_epoch = epoch;
    }
    *ret = &inv->old_base;
    return 0;
}

/*
 * Merges one center's feed snapshots into its pools. A pool needs counts and a
 * price: counts come from the first feed (lowest index) that has them for the
 * model; the price from that same row when it has one, else from the first
 * feed with a price for the model. Stated traits (vendor, memory, domestic,
 * TFLOPS) come with the counts row. A model with a price but no counts is
 * offered by no capacity feed and is left out; so is one with no price.
 */
static int merge_rows(const struct pool_row *rows, size_t n, struct pool_row **ret, size_t *ret_n,
                      char *unpriced, size_t unpriced_len)
{
    size_t uoff = 0;
    struct pool_row *out = calloc(n ? n : 1, sizeof(*out));
    size_t k = 0;
    if (!out)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const struct pool_row *c = &rows[i];
        if (!c->has_counts)
            continue;
        bool seen = false;
        for (size_t j = 0; j < k && !seen; j++)
            seen = strcmp(out[j].model, c->model) == 0;
        if (seen)
            continue; /* an earlier feed gave this model's counts */
        const struct pool_row *pr = c->has_price ? c : NULL;
        for (size_t j = 0; j < n && !pr; j++) {
            if (rows[j].has_price && strcmp(rows[j].model, c->model) == 0)
                pr = &rows[j];
        }
        if (!pr) {
            /* Counts but no price anywhere: not routable; say so instead of dropping silently. */
            if (unpriced && uoff + 1 < unpriced_len) {
                int w = snprintf(unpriced + uoff, unpriced_len - uoff, "%s%s", uoff ? ", " : "",
                                 c->model);
                if (w > 0)
                    uoff += (size_t)w < unpriced_len - uoff ? (size_t)w : unpriced_len - uoff - 1;
            }
            continue;
        }
        struct pool_row *o = &out[k];
        *o = *c;
        o->tflops_json = c->tflops_json ? strdup(c->tflops_json) : NULL;
        if (c->tflops_json && !o->tflops_json) {
            store_pools_free(out, k);
            return -ENOMEM;
        }
        o->price = pr->price;
        o->spot_price = pr->spot_price;
        copy_text(o->currency, sizeof(o->currency), pr->currency);
        k++;
    }
    *ret = out;
    *ret_n = k;
    return 0;
}

/* Merges rows (by feed index, then model) and writes the result as the center's pools. */
static int merge_and_store(struct inventory *inv, const char *center, const struct pool_row *rows,
                           size_t n, char *unpriced, size_t unpriced_len)
{
    struct pool_row *merged = NULL;
    size_t m = 0;
    if (unpriced && unpriced_len)
        unpriced[0] = '\0';
    int r = merge_rows(rows, n, &merged, &m, unpriced, unpriced_len);
    if (r == 0)
        r = store_pools_replace(inv->st, center, merged, m);
    store_pools_free(merged, m);
    return r;
}

int inventory_merge_center(struct inventory *inv, const char *center, char *unpriced,
                           size_t unpriced_len)
{
    struct pool_row *rows = NULL;
    size_t n = 0;
    if (unpriced && unpriced_len)
        unpriced[0] = '\0';
    int r = store_feed_pools_load(inv->st, center, &rows, &n);
    if (r == 0)
        r = merge_and_store(inv, center, rows, n, unpriced, unpriced_len);
    store_pools_free(rows, n);
    inventory_invalidate(inv);
    return r;
}

static int row_model_cmp(const void *a, const void *b)
{
    return strcmp(((const struct pool_row *)a)->model, ((const struct pool_row *)b)->model);
}

/*
 * Merges feed idx's new rows (sorted by model) with the snapshots of the
 * center's other feeds, by feed index then model: those below idx are nl rows
 * of old from lower on, those above it nu rows from upper on. Into *ret (free
 * with store_pools_free). Shallow copies in feed order; none is made when the
 * feed is the center's only one (old may then be NULL).
 */
static int merge_feeds(const struct pool_row *old, size_t lower, size_t nl, size_t upper, size_t nu,
                       const struct pool_row *rows, size_t n, struct pool_row **ret, size_t *ret_m,
                       char *unpriced, size_t unpriced_len)
{
    if (unpriced && unpriced_len)
        unpriced[0] = '\0';
    if (nl + nu == 0)
        return merge_rows(rows, n, ret, ret_m, unpriced, unpriced_len);
    struct pool_row *all = malloc((nl + n + nu) * sizeof(*all));
    if (!all)
        return -ENOMEM;
    if (nl)
        memcpy(all, old + lower, nl * sizeof(*all));
    if (n)
        memcpy(all + nl, rows, n * sizeof(*all));
    if (nu)
        memcpy(all + nl + n, old + upper, nu * sizeof(*all));
    int r = merge_rows(all, nl + n + nu, ret, ret_m, unpriced, unpriced_len);
    free(all);
    return r;
}

/*
 * inventory_merge_center for a feed whose snapshot (rows, in any order) was
 * just written: only the center's other feeds are read back, and none is
 * copied when the feed is the center's only one. Sorts rows by model.
 */
static int merge_with_others(struct inventory *inv, const char *center, int idx,
                             struct pool_row *rows, size_t n, char *unpriced, size_t unpriced_len)
{
    struct pool_row *others = NULL, *merged = NULL;
    size_t no = 0, m = 0;
    qsort(rows, n, sizeof(*rows), row_model_cmp); /* the order of feed_pools' key */
    int r = store_feed_pools_load_others(inv->st, center, idx, &others, &no);
    if (r < 0)
        return r;
    size_t lower = 0;
    while (lower < no && others[lower].idx < idx)
        lower++;
    r = merge_feeds(others, 0, lower, lower, no - lower, rows, n, &merged, &m, unpriced,
                    unpriced_len);
    if (r == 0)
        r = store_pools_replace(inv->st, center, merged, m);
    store_pools_free(merged, m);
    store_pools_free(others, no);
    return r;
}

/* Folds a second pool of the same accelerator into the first: counts add up, the lower price wins.
 */
static void fold_pool(struct pool_row *into, const struct pool_snapshot *ps)
{
    if (ps->has_counts) {
        into->total = into->has_counts ? into->total + ps->total : ps->total;
        into->free = into->has_counts ? into->free + ps->free : ps->free;
        if (!into->has_counts || ps->largest_block > into->largest_block)
            into->largest_block = ps->largest_block;
        into->has_counts = true;
    }
    if (ps->has_price && (!into->has_price || ps->price < into->price)) {
        into->price = ps->price;
        into->spot_price = ps->spot_price;
        copy_text(into->currency, sizeof(into->currency), ps->currency);
        into->has_price = true;
    }
}

/* The stated TFLOPS of a pool as a JSON object into *ret, NULL when none is stated. */
static int tflops_json(const struct pool_snapshot *ps, char **ret)
{
    *ret = NULL;
    bool any = false;
    for (int k = 0; k < PREC_COUNT && !any; k++)
        any = ps->tflops[k] >= 0;
    if (!any)
        return 0;
    cJSON *t = cJSON_CreateObject();
    if (!t)
        return -ENOMEM;
    for (int k = 0; k < PREC_COUNT; k++) {
        if (ps->tflops[k] >= 0)
            json_add_number(t, precision_name((enum precision)k), ps->tflops[k]);
    }
    *ret = cJSON_PrintUnformatted(t);
    cJSON_Delete(t);
    return *ret ? 0 : -ENOMEM;
}

/*
 * Feed idx's rows from a snapshot: models resolved to the catalog, currencies
 * checked, pools of one accelerator refused (strict) or folded. *ret has
 * snap->npools slots, *ret_k of them used: free with store_pools_free(*ret,
 * snap->npools). 0, -EINVAL with *err, or -ENOMEM.
 */
static int snapshot_rows(struct inventory *inv, const char *center, int idx,
                         const struct feed_snapshot *snap, bool strict, int64_t now,
                         struct json_error *err, struct pool_row **ret, size_t *ret_k)
{
    size_t k = 0;
    int r = 0;
    struct pool_row *rows = calloc(snap->npools ? snap->npools : 1, sizeof(*rows));
    if (!rows)
        return -ENOMEM;
    int64_t observed = snap->observed_at_ms ? snap->observed_at_ms : now;
    for (size_t i = 0; i < snap->npools; i++) {
        const struct pool_snapshot *ps = &snap->pools[i];
        struct pool_row *p = &rows[k];
        char prefix[32]; /* for an error */
        const struct catalog_entry *e = catalog_resolve(&inv->catalog, ps->model);
        const char *model = e ? e->model : ps->model;
        if (ps->has_price && config_rate(inv->cfg, ps->currency) < 0) {
            snprintf(prefix, sizeof(prefix), "/pools/%zu", i);
            r = json_fail(err, prefix, "currency", "no exchange rate to CNY is configured for %s",
                          ps->currency);
            goto out;
        }
        size_t same = k;
        for (size_t j = 0; j < k && same == k; j++) {
            if (strcmp(rows[j].model, model) == 0)
                same = j;
        }
        if (same < k) {
            /* A document of the broker's own schema names each pool once; a vendor feed may
               name one accelerator twice (GFD and GKE labels, 40 GB SXM and PCIe): fold. */
            if (strict) {
                snprintf(prefix, sizeof(prefix), "/pools/%zu", i);
                r = json_fail(err, prefix, "model", "'%s' is the same accelerator as pool %zu (%s)",
                              ps->model, same, model);
                goto out;
            }
            fold_pool(&rows[same], ps);
            continue;
        }
        k++;
        copy_text(p->center, sizeof(p->center), center);
        p->idx = idx;
        copy_text(p->model, sizeof(p->model), model);
        p->has_counts = ps->has_counts;
        p->has_price = ps->has_price;
        p->total = ps->total;
        p->free = ps->free;
        p->largest_block = ps->largest_block;
        p->price = ps->price;
        p->spot_price = ps->spot_price;
        copy_text(p->currency, sizeof(p->currency), ps->currency);
        copy_text(p->vendor, sizeof(p->vendor), ps->vendor);
        p->memory_gib = ps->memory_gib;
        p->domestic = ps->domestic;
        p->observed_at = observed;
        r = tflops_json(ps, &p->tflops_json);
        if (r < 0)
            goto out;
    }
out:
    if (r < 0) {
        store_pools_free(rows, snap->npools);
        return r;
    }
    *ret = rows;
    *ret_k = k;
    return 0;
}

/* Appends the note about models with counts but no price to a feed's warning. */
static void note_unpriced(char *warning, size_t len, const char *unpriced)
{
    if (!unpriced[0])
        return;
    size_t w = strlen(warning);
    snprintf(warning + w, len - w,
             "%sno price for %s: not routable (set price_per_card_hour, or add a price feed)",
             w ? "; " : "", unpriced);
}

int inventory_apply_snapshot(struct inventory *inv, const char *center, int idx,
                             struct feed_snapshot *snap, bool strict, int64_t now,
                             struct json_error *err)
{
    struct pool_row *rows = NULL;
    size_t k = 0;
    int r = load_catalog(inv); /* only the catalog: no full reload per feed */
    if (r == 0)
        r = snapshot_rows(inv, center, idx, snap, strict, now, err, &rows, &k);
    if (r < 0)
        return r;
    r = store_feed_pools_replace(inv->st, center, idx, rows, k);
    if (r == 0) /* the snapshot is in feed_pools now, not kept as the pools */
        r = store_feed_set_in_pools(inv->st, center, idx, false);
    char unpriced[160];
    if (r == 0)
        r = merge_with_others(inv, center, idx, rows, k, unpriced, sizeof(unpriced));
    if (r == 0)
        note_unpriced(snap->warning, sizeof(snap->warning), unpriced);
    inventory_invalidate(inv);
    store_pools_free(rows, snap->npools);
    return r;
}

/* True when every row has counts and a price: merging them alone changes nothing. */
static bool rows_complete(const struct pool_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!rows[i].has_counts || !rows[i].has_price)
            return false;
    }
    return true;
}

/* An item of a batch with its work: its new rows and its center's merged pools. */
struct batch_feed {
    const char *center; /* borrowed from the item */
    size_t item;
    struct pool_row *rows; /* owned; item's snap->npools slots, k used, sorted by model */
    size_t k;
    struct pool_row *merged; /* owned */
    size_t m;
};

static int batch_center_cmp(const void *a, const void *b)
{
    const struct batch_feed *x = a, *y = b;
    int c = strcmp(x->center, y->center);
    return c != 0 ? c : (x->item > y->item) - (x->item < y->item);
}

int inventory_apply_batch(struct inventory *inv, struct inventory_apply *items, size_t n,
                          int64_t now)
{
    struct pool_row *old = NULL, *all = NULL, *pools = NULL;
    size_t nold = 0, go = 0, nall = 0, npools = 0;
    const char **centers = NULL;
    for (size_t i = 0; i < n; i++) {
        items[i].result = 1;
        items[i].in_pools = false;
    }
    int r = load_catalog(inv);
    struct batch_feed *bf = r == 0 ? calloc(n ? n : 1, sizeof(*bf)) : NULL;
    centers = bf ? malloc((n ? n : 1) * sizeof(*centers)) : NULL;
    if (r == 0 && !centers)
        r = -ENOMEM;
    if (r < 0)
        goto out;
    for (size_t i = 0; i < n; i++)
        bf[i] = (struct batch_feed){.center = items[i].center, .item = i};
    /* By center: a center named by more than one item is left to inventory_apply_snapshot,
       whose merges see its feeds one after another. */
    qsort(bf, n, sizeof(*bf), batch_center_cmp);
    for (size_t a = 0, b; a < n; a = b) {
        for (b = a + 1; b < n && strcmp(bf[b].center, bf[a].center) == 0; b++)
            ;
        struct inventory_apply *it = &items[bf[a].item];
        if (b - a > 1 || !it->snap)
            continue;
        struct batch_feed f = bf[a];
        int e = snapshot_rows(inv, it->center, it->idx, it->snap, it->strict, now, &it->err,
                              &f.rows, &f.k);
        if (e == -EINVAL)
            it->result = e;
        if (e < 0)
            continue; /* out of memory: left to inventory_apply_snapshot */
        qsort(f.rows, f.k, sizeof(*f.rows), row_model_cmp); /* the order of feed_pools' key */
        centers[go] = f.center;
        bf[go++] = f; /* go <= a: entries already looked at */
    }
    if (go == 0)
        goto out;
    r = store_feed_pools_load_centers(inv->st, centers, go, &old, &nold);
    for (size_t g = 0; g < go; g++)
        nall += bf[g].k;
    all = r == 0 ? malloc((nall ? nall : 1) * sizeof(*all)) : NULL;
    if (r == 0 && !all)
        r = -ENOMEM;
    nall = 0;
    /* Both by center: walk them together. */
    for (size_t g = 0, o = 0; g < go && r == 0; g++) {
        struct batch_feed *f = &bf[g];
        struct inventory_apply *it = &items[f->item];
        while (o < nold && strcmp(old[o].center, f->center) < 0)
            o++;
        size_t lo = o, own = o, own_end;
        while (own < nold && strcmp(old[own].center, f->center) == 0 && old[own].idx < it->idx)
            own++;
        for (own_end = own; own_end < nold && strcmp(old[own_end].center, f->center) == 0 &&
                            old[own_end].idx == it->idx;
             own_end++)
            ;
        for (o = own_end; o < nold && strcmp(old[o].center, f->center) == 0; o++)
            ;
        if (own_end > own) /* the feed's last snapshot goes; none on a first poll */
            r = store_feed_pools_replace(inv->st, f->center, it->idx, NULL, 0);
        /* The center's only feed, with counts and a price for every pool: its pools are its
           rows as they are, so the rows are written once, as the pools. */
        it->in_pools = it->sole && lo == own && own_end == o && rows_complete(f->rows, f->k);
        char unpriced[160];
        if (r == 0)
            r = merge_feeds(old, lo, own - lo, own_end, o - own_end, f->rows, f->k, &f->merged,
                            &f->m, unpriced, sizeof(unpriced));
        if (r < 0)
            break;
        copy_text(it->warning, sizeof(it->warning), it->snap->warning);
        note_unpriced(it->warning, sizeof(it->warning), unpriced);
        if (f->k && !it->in_pools) {
            memcpy(all + nall, f->rows, f->k * sizeof(*all));
            nall += f->k;
        }
        npools += f->m;
    }
    pools = r == 0 ? malloc((npools ? npools : 1) * sizeof(*pools)) : NULL;
    if (r == 0 && !pools)
        r = -ENOMEM;
    npools = 0;
    for (size_t g = 0; g < go && r == 0; g++) {
        if (bf[g].m)
            memcpy(pools + npools, bf[g].merged, bf[g].m * sizeof(*pools));
        npools += bf[g].m;
    }
    if (r == 0)
        r = store_feed_pools_insert(inv->st, all, nall);
    if (r == 0)
        r = store_pools_put_centers(inv->st, centers, go, pools, npools);
    for (size_t g = 0; g < go && r == 0; g++)
        items[bf[g].item].result = 0;
    inventory_invalidate(inv);
out:
    for (size_t g = 0; g < go; g++) {
        store_pools_free(bf[g].rows, items[bf[g].item].snap->npools);
        store_pools_free(bf[g].merged, bf[g].m);
    }
    free(all);
    free(pools);
    free(centers);
    free(bf);
    store_pools_free(old, nold);
    return r;
}
