/*
 * prometheus — capacity from a Prometheus HTTP API instant query (resultType
 * "vector") over DCGM exporter series: DCGM_FI_DEV_GPU_UTIL, _FB_USED and
 * _FB_FREE. One GPU per UUID; a GPU is free when both its utilisation and its
 * memory use are under thresholds. It reads the query API's JSON only, not the
 * exporter's text format, and it sees idleness, not allocation.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapter.h"

#define PROM_MAX_SERIES 1000000L      /* series in one result */
#define PROM_MAX_VALUE_LEN 64         /* bytes of one sample value string */
#define PROM_MAX_EPOCH 253402300799.0 /* 9999-12-31T23:59:59Z in seconds */
#define PROM_MAX_FB_MIB 1e9           /* 1 PiB: beyond it a value is a DCGM blank sentinel */
#define DEFAULT_UTIL_THRESHOLD 5.0    /* percent */
#define DEFAULT_MEM_THRESHOLD 0.05    /* fraction of the framebuffer */

enum dcgm_metric { M_UTIL, M_FB_USED, M_FB_FREE, M_COUNT };

static const char *const metric_names[M_COUNT] = {
    [M_UTIL] = "DCGM_FI_DEV_GPU_UTIL",
    [M_FB_USED] = "DCGM_FI_DEV_FB_USED",
    [M_FB_FREE] = "DCGM_FI_DEV_FB_FREE",
};

struct prom_opts {
    const cJSON *models; /* borrowed; an object of modelName: model, or NULL */
    const cJSON *prices; /* borrowed; an object of model: price, or NULL */
    double util_threshold;
    double mem_threshold;
    char currency[4];
};

/* One DCGM series of the result. Strings are borrowed from the document. */
struct prom_series {
    const char *uuid;  /* "" when the series has none */
    const char *host;  /* Hostname, else instance; "" when neither */
    const char *gpu;   /* the gpu index label; "" when none */
    const char *model; /* modelName; NULL when none */
    size_t index;      /* position in data.result, for error pointers */
    enum dcgm_metric metric;
    double value;
    bool ok; /* the value parsed and is in range */
};

/* One physical GPU: its series merged. */
struct prom_gpu {
    char model[64]; /* after the models option */
    char feed[64];  /* modelName as the exporter wrote it */
    const char *host;
    bool free;
};

/* ---- small helpers ---- */

/* Copies s into buf for an error detail: printable ASCII only, cut to fit. */
static const char *shown(const char *s, char *buf, size_t len)
{
    size_t o = 0;
    for (; s && *s && o + 1 < len; s++)
        buf[o++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
    buf[o] = '\0';
    return buf;
}

/*
 * A sample value as Prometheus writes it (strconv 'f' / 'e' form, or NaN,
 * +Inf, -Inf): decimal digits, sign, point and exponent only, consumed whole,
 * finite. Returns false for anything else.
 */
static bool sample_value(const char *s, double *ret)
{
    size_t n = strnlen(s, PROM_MAX_VALUE_LEN + 1);
    if (n == 0 || n > PROM_MAX_VALUE_LEN)
        return false;
    for (const char *p = s; *p; p++) {
        if (!isdigit((unsigned char)*p) && *p != '.' && *p != '-' && *p != '+' && *p != 'e' &&
            *p != 'E')
            return false;
    }
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (end != s + n || errno == ERANGE || !isfinite(v))
        return false;
    *ret = v;
    return true;
}

/* ---- options ---- */

static int check_threshold(const cJSON *options, const char *key, double max, const char *unit,
                           struct json_error *err)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(options, key);
    if (!t)
        return 0;
    if (!cJSON_IsNumber(t) || !isfinite(t->valuedouble) || t->valuedouble <= 0 ||
        t->valuedouble > max)
        return json_fail(err, "", key, "must be a number above 0 and at most %g (%s)", max, unit);
    return 0;
}

static int prom_check_options(const cJSON *options, struct json_error *err)
{
    int r;
    if (options && !cJSON_IsNull(options) && !cJSON_IsObject(options))
        return json_fail(err, "", NULL, "options must be an object");
    if ((r = adapter_check_models(options, err)) < 0 ||
        (r = adapter_check_prices(options, err)) < 0 ||
        (r = check_threshold(options, "util_threshold", 100, "percent", err)) < 0 ||
        (r = check_threshold(options, "mem_threshold", 1, "a fraction", err)) < 0)
        return r;
    return adapter_check_currency(options, err);
}

/* ---- the response ---- */

/* A label that, when present, must be a string; NULL when absent or null. */
static int get_label(const cJSON *metric, const char *key, const char *mprefix, const char **ret,
                     struct json_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(metric, key);
    *ret = NULL;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v) || !v->valuestring)
        return json_fail(err, mprefix, key, "a label value must be a string");
    *ret = v->valuestring;
    return 0;
}

/* Reads the envelope: status, errors, warnings, resultType. Sets *ret_result. */
static int read_envelope(const cJSON *doc, struct feed_snapshot *snap, const cJSON **ret_result,
                         struct json_error *err)
{
    char b1[48], b2[160];
    const char *status = NULL, *type = NULL;
    int r;

    if ((r = json_get_string(doc, "status", "", true, 16, &status, NULL, err)) < 0)
        return r;
    if (strcmp(status, "error") == 0) {
        const cJSON *et = cJSON_GetObjectItemCaseSensitive(doc, "errorType");
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
        return json_fail(err, "", "status", "the query failed (%s): %s",
                         shown(cJSON_IsString(et) ? et->valuestring : "unknown", b1, sizeof(b1)),
                         shown(cJSON_IsString(e) ? e->valuestring : "", b2, sizeof(b2)));
    }
    if (strcmp(status, "success") != 0)
        return json_fail(err, "", "status", "must be \"success\" or \"error\"");
    const cJSON *warnings = cJSON_GetObjectItemCaseSensitive(doc, "warnings");
    if (warnings && !cJSON_IsNull(warnings)) {
        if (!cJSON_IsArray(warnings))
            return json_fail(err, "", "warnings", "must be an array of strings");
        const cJSON *w = cJSON_GetArrayItem(warnings, 0);
        if (w && !cJSON_IsString(w))
            return json_fail(err, "/warnings", "0", "must be a string");
        if (w)
            snprintf(snap->warning, sizeof(snap->warning), "prometheus: %s",
                     shown(w->valuestring, b2, sizeof(b2)));
    }
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(doc, "data");
    if (!data || !cJSON_IsObject(data))
        return json_fail(err, "", "data", data ? "must be an object" : "is required");
    if ((r = json_get_string(data, "resultType", "/data", true, 16, &type, NULL, err)) < 0)
        return r;
    /* A range query (matrix) means the feed URL names /api/v1/query_range: say so, even if empty.
     */
    if (strcmp(type, "vector") != 0)
        return json_fail(err, "/data", "resultType",
                         "is '%s'; an instant query (GET /api/v1/query) answering a vector is "
                         "expected",
                         shown(type, b1, sizeof(b1)));
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(data, "result");
    if (!result || !cJSON_IsArray(result))
        return json_fail(err, "/data", "result", result ? "must be an array" : "is required");
    if (cJSON_GetArraySize(result) > PROM_MAX_SERIES)
        return json_fail(err, "/data", "result", "has more than %ld series", PROM_MAX_SERIES);
    *ret_result = result;
    return 0;
}

/*
 * Reads one element of data.result. Every element must have the vector shape
 * ({"metric": {...}, "value": [time, "value"]}); only DCGM series with an
 * identity are kept (*keep). Sample values that do not parse make the series
 * not ok (the GPU is then not free), not the document bad.
 */
static int read_series(const cJSON *it, size_t i, struct prom_series *s, bool *keep, double *newest,
                       struct json_error *err)
{
    char sp[64], mp[80], vp[80];
    const char *name = NULL, *hostname = NULL, *instance = NULL;
    int r;

    *keep = false;
    memset(s, 0, sizeof(*s));
    snprintf(sp, sizeof(sp), "/data/result/%zu", i);
    snprintf(mp, sizeof(mp), "%s/metric", sp);
    snprintf(vp, sizeof(vp), "%s/value", sp);
    if (!cJSON_IsObject(it))
        return json_fail(err, sp, NULL, "a series must be an object");
    const cJSON *metric = cJSON_GetObjectItemCaseSensitive(it, "metric");
    if (!metric || !cJSON_IsObject(metric))
        return json_fail(err, sp, "metric", metric ? "must be an object" : "is required");
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(it, "value");
    if (!value || !cJSON_IsArray(value) || cJSON_GetArraySize(value) != 2)
        return json_fail(err, sp, "value", "must be [time, \"value\"]");
    const cJSON *t = cJSON_GetArrayItem(value, 0);
    const cJSON *v = cJSON_GetArrayItem(value, 1);
    if (!cJSON_IsNumber(t) || !isfinite(t->valuedouble) || t->valuedouble < 0 ||
        t->valuedouble > PROM_MAX_EPOCH)
        return json_fail(err, vp, "0", "must be a Unix time in seconds");
    if (!cJSON_IsString(v) || !v->valuestring)
        return json_fail(err, vp, "1", "must be the sample value as a string");
    if (t->valuedouble > *newest)
        *newest = t->valuedouble;

    if ((r = get_label(metric, "__name__", mp, &name, err)) < 0)
        return r;
    s->metric = M_COUNT;
    for (int m = 0; name && m < M_COUNT; m++) {
        if (strcmp(name, metric_names[m]) == 0)
            s->metric = (enum dcgm_metric)m;
    }
    if (s->metric == M_COUNT)
        return 0; /* not a series this adapter reads */
    if ((r = get_label(metric, "UUID", mp, &s->uuid, err)) < 0 ||
        (r = get_label(metric, "Hostname", mp, &hostname, err)) < 0 ||
        (r = get_label(metric, "instance", mp, &instance, err)) < 0 ||
        (r = get_label(metric, "gpu", mp, &s->gpu, err)) < 0 ||
        (r = get_label(metric, "modelName", mp, &s->model, err)) < 0)
        return r;
    s->uuid = s->uuid ? s->uuid : "";
    s->gpu = s->gpu ? s->gpu : "";
    s->host = hostname && hostname[0] ? hostname : (instance ? instance : "");
    if (s->model && !s->model[0])
        s->model = NULL;
    if (s->model && strlen(s->model) > 63)
        return json_fail(err, mp, "modelName", "is longer than 63 bytes");
    /* Without a UUID, a GPU is its host and index; without those it cannot be told apart. */
    if (!s->uuid[0] && (!s->host[0] || !s->gpu[0]))
        return 0;
    s->index = i;
    s->ok = sample_value(v->valuestring, &s->value) && s->value >= 0 &&
            (s->metric == M_UTIL ? s->value <= 100 : s->value <= PROM_MAX_FB_MIB);
    *keep = true;
    return 0;
}

/* Orders series by GPU: the UUID, or (when there is none) the host and index. */
static int cmp_series(const void *a, const void *b)
{
    const struct prom_series *x = a, *y = b;
    bool xu = x->uuid[0] != '\0', yu = y->uuid[0] != '\0';
    if (xu != yu)
        return xu ? -1 : 1;
    int c = xu ? strcmp(x->uuid, y->uuid) : strcmp(x->host, y->host);
    if (c == 0 && !xu)
        c = strcmp(x->gpu, y->gpu);
    if (c == 0)
        c = x->index < y->index ? -1 : x->index > y->index;
    return c;
}

static bool same_gpu(const struct prom_series *x, const struct prom_series *y)
{
    if (x->uuid[0] || y->uuid[0])
        return strcmp(x->uuid, y->uuid) == 0;
    return strcmp(x->host, y->host) == 0 && strcmp(x->gpu, y->gpu) == 0;
}

/*
 * Merges the series of one GPU [s, s + n). MIG instances and duplicate
 * scrapes of one GPU share its UUID: utilisation is the highest reported,
 * memory use the used share of all framebuffer reported, so a duplicate
 * changes nothing and one busy MIG instance makes the GPU busy. A GPU lacking
 * any of the three metrics, or with a value that did not parse, is not free.
 */
static void merge_gpu(const struct prom_series *s, size_t n, const struct prom_opts *o,
                      struct prom_gpu *g)
{
    bool has[M_COUNT] = {false}, bad = false;
    double util = 0, used = 0, avail = 0;
    const char *model = NULL, *host = "";
    for (size_t i = 0; i < n; i++) {
        if (!model && s[i].model)
            model = s[i].model;
        if (!host[0])
            host = s[i].host;
        has[s[i].metric] = true;
        if (!s[i].ok) {
            bad = true;
            continue;
        }
        if (s[i].metric == M_UTIL && s[i].value > util)
            util = s[i].value;
        else if (s[i].metric == M_FB_USED)
            used += s[i].value;
        else if (s[i].metric == M_FB_FREE)
            avail += s[i].value;
    }
    snprintf(g->feed, sizeof(g->feed), "%s", model ? model : "");
    const cJSON *m = model ? adapter_map_find(o->models, model) : NULL;
    snprintf(g->model, sizeof(g->model), "%s", m ? m->valuestring : g->feed);
    g->host = host;
    g->free = !bad && has[M_UTIL] && has[M_FB_USED] && has[M_FB_FREE] && util < o->util_threshold &&
              used + avail > 0 && used / (used + avail) < o->mem_threshold;
}

static int cmp_gpu(const void *a, const void *b)
{
    const struct prom_gpu *x = a, *y = b;
    int c = strcasecmp(x->model, y->model);
    return c ? c : strcmp(x->host, y->host);
}

/* Pools per model from GPUs sorted by (model, host): largest_block is the most free on a host. */
static int build_pools(struct prom_gpu *gpus, size_t ngpus, const struct prom_opts *o,
                       struct feed_snapshot *snap, struct json_error *err)
{
    size_t npools = 0;
    for (size_t i = 0; i < ngpus; i++) {
        if (i == 0 || strcasecmp(gpus[i].model, gpus[i - 1].model) != 0)
            npools++;
    }
    if (npools > ADAPTER_MAX_POOLS)
        return json_fail(err, "/data/result", NULL, "the GPUs name more than %d models",
                         ADAPTER_MAX_POOLS);
    if (npools == 0)
        return 0;
    snap->pools = calloc(npools, sizeof(*snap->pools));
    if (!snap->pools)
        return -ENOMEM;
    long host_free = 0;
    for (size_t i = 0; i < ngpus; i++) {
        const struct prom_gpu *g = &gpus[i];
        if (i == 0 || strcasecmp(g->model, gpus[i - 1].model) != 0) {
            struct pool_snapshot *p = &snap->pools[snap->npools++];
            snprintf(p->model, sizeof(p->model), "%s", g->model);
            p->has_counts = true;
            p->spot_price = -1;
            snprintf(p->currency, sizeof(p->currency), "%s", o->currency);
            p->memory_gib = -1;
            p->domestic = -1;
            for (int k = 0; k < PREC_COUNT; k++)
                p->tflops[k] = -1;
            const cJSON *price = adapter_map_find(o->prices, g->model);
            if (!price)
                price = adapter_map_find(o->prices, g->feed);
            if (cJSON_IsNumber(price)) {
                p->has_price = true;
                p->price = price->valuedouble;
            }
            host_free = 0;
        } else if (strcmp(g->host, gpus[i - 1].host) != 0) {
            host_free = 0;
        }
        struct pool_snapshot *p = &snap->pools[snap->npools - 1];
        p->total++;
        if (g->free) {
            p->free++;
            host_free++;
            if (host_free > p->largest_block)
                p->largest_block = host_free;
        }
    }
    return 0;
}

static int prom_parse(const char *text, size_t len, const cJSON *options, struct feed_snapshot *ret,
                      struct json_error *err)
{
    struct feed_snapshot snap = {0};
    struct prom_opts o = {0};
    struct json_error oerr = {0};
    struct prom_series *series = NULL;
    struct prom_gpu *gpus = NULL;
    const cJSON *result = NULL;
    cJSON *doc = NULL;
    size_t nseries = 0, ngpus = 0, unnamed = 0;
    double newest = -1;
    int r;

    memset(ret, 0, sizeof(*ret));
    if (prom_check_options(options, &oerr) < 0)
        return json_fail(err, "", NULL, "bad options: %s: %s", oerr.pointer, oerr.detail);
    o.models = cJSON_GetObjectItemCaseSensitive(options, "models");
    o.prices = cJSON_GetObjectItemCaseSensitive(options, "price_per_card_hour");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(options, "util_threshold");
    o.util_threshold = cJSON_IsNumber(t) ? t->valuedouble : DEFAULT_UTIL_THRESHOLD;
    t = cJSON_GetObjectItemCaseSensitive(options, "mem_threshold");
    o.mem_threshold = cJSON_IsNumber(t) ? t->valuedouble : DEFAULT_MEM_THRESHOLD;
    t = cJSON_GetObjectItemCaseSensitive(options, "currency");
    snprintf(o.currency, sizeof(o.currency), "%s", cJSON_IsString(t) ? t->valuestring : "CNY");

    if ((r = json_parse_object(text, len, &doc, err)) < 0)
        return r;
    if ((r = read_envelope(doc, &snap, &result, err)) < 0)
        goto out;
    int n = cJSON_GetArraySize(result);
    series = calloc(n > 0 ? (size_t)n : 1, sizeof(*series));
    if (!series) {
        r = -ENOMEM;
        goto out;
    }
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, result)
    {
        bool keep = false;
        if ((r = read_series(it, i++, &series[nseries], &keep, &newest, err)) < 0)
            goto out;
        if (keep)
            nseries++;
    }
    if (newest >= 0)
        snap.observed_at_ms = (int64_t)llround(newest * 1000.0);

    qsort(series, nseries, sizeof(*series), cmp_series);
    gpus = calloc(nseries ? nseries : 1, sizeof(*gpus));
    if (!gpus) {
        r = -ENOMEM;
        goto out;
    }
    for (size_t a = 0; a < nseries;) {
        size_t b = a + 1;
        while (b < nseries && same_gpu(&series[a], &series[b]))
            b++;
        merge_gpu(&series[a], b - a, &o, &gpus[ngpus]);
        if (gpus[ngpus].feed[0])
            ngpus++;
        else
            unnamed++;
        a = b;
    }
    if (unnamed && !snap.warning[0])
        snprintf(snap.warning, sizeof(snap.warning),
                 "%zu GPU(s) without a modelName label were not counted", unnamed);
    qsort(gpus, ngpus, sizeof(*gpus), cmp_gpu);
    if ((r = build_pools(gpus, ngpus, &o, &snap, err)) < 0)
        goto out;
    *ret = snap;
    memset(&snap, 0, sizeof(snap));
    r = 0;
out:
    feed_snapshot_free(&snap);
    free(series);
    free(gpus);
    cJSON_Delete(doc);
    return r;
}

static const struct adapter_option prom_options[] = {
    {"models", "object", false,
     "DCGM modelName -> catalog model, e.g. {\"NVIDIA A800-SXM4-80GB\": \"A800\"}"},
    {"util_threshold", "number", false,
     "a GPU is free below this DCGM_FI_DEV_GPU_UTIL, in percent (default 5)"},
    {"mem_threshold", "number", false,
     "a GPU is free only below this share of its framebuffer in use, FB_USED / (FB_USED + "
     "FB_FREE) (default 0.05)"},
    {"price_per_card_hour", "object", false,
     "model (as DCGM or the models option names it) -> list price per card-hour"},
    {"currency", "string", false, "ISO 4217 code of the prices (default CNY)"},
    {NULL, NULL, false, NULL},
};

const struct adapter adapter_prometheus = {
    .name = "prometheus",
    .description = "Prometheus instant query (GET /api/v1/query) of DCGM exporter series "
                   "DCGM_FI_DEV_GPU_UTIL, DCGM_FI_DEV_FB_USED, DCGM_FI_DEV_FB_FREE: idle GPUs "
                   "per model",
    .push = true,
    .pull = true,
    .options = prom_options,
    .parse = prom_parse,
    .check_options = prom_check_options,
};
