/*
 * test-adapter-prometheus — the prometheus feed adapter (Prometheus instant
 * query over DCGM exporter series) on the real API fixtures (docs vector,
 * empty result, error body, range matrix), on a hand-written vector carrying
 * the real T4 and RTX 4000 Ada series of the .prom scrapes, and on a
 * hand-built cluster covering MIG, duplicates, fallbacks, bad samples and
 * thresholds; expected pools are worked out by hand. Also hostile documents,
 * truncation, 10 MB of garbage and option errors.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "check.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Passes arrays through a pointer so CHECK_STR's NULL test does not trip -Waddress. */
static const char *str(const char *s)
{
    return s;
}

static const struct adapter *prom = &adapter_prometheus;

/* A fixture of this format; a missing one is a failed check. */
static char *read_data(const char *name, size_t *len)
{
    char rel[512];
    snprintf(rel, sizeof(rel), "dcgm-prometheus/%s", name);
    char *doc = check_read_data(rel, len);
    CHECK(doc != NULL, "fixture %s is readable (set SUANWANG_TEST_DATA)", rel);
    return doc;
}

/* Parses from an exact-size heap copy without a terminator, as a fetched body arrives. */
static int parse_opts(const char *text, size_t len, const char *options, struct feed_snapshot *snap,
                      struct json_error *err)
{
    cJSON *opts = options ? cJSON_Parse(options) : NULL;
    if (options && !opts) {
        CHECK(false, "test options do not parse: %s", options);
        return -EINVAL;
    }
    char *body = malloc(len ? len : 1);
    if (!body) {
        cJSON_Delete(opts);
        return -ENOMEM;
    }
    memcpy(body, text, len);
    memset(err, 0, sizeof(*err));
    snprintf(err->pointer, sizeof(err->pointer), "UNSET");
    memset(snap, 0xA5, sizeof(*snap)); /* must be overwritten */
    int r = prom->parse(body, len, opts, snap, err);
    free(body);
    cJSON_Delete(opts);
    return r;
}

static int parse_str(const char *text, const char *options, struct feed_snapshot *snap,
                     struct json_error *err)
{
    return parse_opts(text, strlen(text), options, snap, err);
}

struct want {
    const char *model;
    long total, free, largest;
    double price; /* < 0: no price */
};

static void check_pools(const char *what, const struct feed_snapshot *s, const struct want *w,
                        size_t nw, const char *currency)
{
    CHECK_EQ_LONG(s->npools, nw, what);
    for (size_t i = 0; i < nw && i < s->npools; i++) {
        const struct pool_snapshot *p = &s->pools[i];
        char name[160];
        snprintf(name, sizeof(name), "%s: pool %zu model", what, i);
        CHECK_STR(str(p->model), w[i].model, name);
        CHECK(p->has_counts, "%s: %s has counts", what, w[i].model);
        snprintf(name, sizeof(name), "%s: %s total", what, w[i].model);
        CHECK_EQ_LONG(p->total, w[i].total, name);
        snprintf(name, sizeof(name), "%s: %s free", what, w[i].model);
        CHECK_EQ_LONG(p->free, w[i].free, name);
        snprintf(name, sizeof(name), "%s: %s largest_block", what, w[i].model);
        CHECK_EQ_LONG(p->largest_block, w[i].largest, name);
        if (w[i].price >= 0) {
            CHECK(p->has_price, "%s: %s has a price", what, w[i].model);
            snprintf(name, sizeof(name), "%s: %s price", what, w[i].model);
            CHECK_NEAR(p->price, w[i].price, 0, name);
        } else {
            CHECK(!p->has_price, "%s: %s has no price", what, w[i].model);
        }
        snprintf(name, sizeof(name), "%s: %s currency", what, w[i].model);
        CHECK_STR(str(p->currency), currency, name);
        CHECK(p->spot_price < 0, "%s: %s no spot price", what, w[i].model);
        CHECK(p->memory_gib < 0 && p->domestic == -1 && p->vendor[0] == '\0',
              "%s: %s memory, domestic, vendor not stated", what, w[i].model);
        bool tf = true;
        for (int k = 0; k < PREC_COUNT; k++)
            tf = tf && p->tflops[k] < 0;
        CHECK(tf, "%s: %s tflops not stated", what, w[i].model);
    }
}

static void test_table(void)
{
    CHECK_STR(prom->name, "prometheus", "adapter name");
    CHECK(prom->push && prom->pull, "prometheus is push and pull");
    CHECK(prom->parse != NULL && prom->check_options != NULL, "parser and options hook");
    const char *want[] = {"models", "util_threshold", "mem_threshold", "price_per_card_hour",
                          "currency"};
    const char *type[] = {"object", "number", "number", "object", "string"};
    size_t n = 0;
    for (const struct adapter_option *o = prom->options; o->name; o++, n++) {
        CHECK(n < N(want), "option %zu exists in the expected table", n);
        if (n < N(want)) {
            CHECK_STR(o->name, want[n], "option name");
            CHECK_STR(o->type, type[n], "option type");
            CHECK(!o->required, "%s is optional", o->name);
            CHECK(o->description && o->description[0], "%s is described", o->name);
        }
    }
    CHECK_EQ_LONG(n, N(want), "five options");
}

/* ---- real API fixtures ---- */

/* The Prometheus docs' vector: two "up" series, no DCGM metric. Time 1435781451.781. */
static void test_docs_vector(void)
{
    size_t len = 0;
    char *doc = read_data("prom-api-query-vector.prometheus-docs.json", &len);
    if (!doc)
        return;
    struct feed_snapshot snap;
    struct json_error err;
    int r = parse_opts(doc, len, NULL, &snap, &err);
    CHECK(r == 0, "docs vector parses (rc %d, %s: %s)", r, err.pointer, err.detail);
    if (r == 0) {
        CHECK_EQ_LONG(snap.npools, 0, "docs vector: no DCGM series, no pools");
        CHECK(snap.pools == NULL, "docs vector: no pool array");
        CHECK(snap.observed_at_ms == INT64_C(1435781451781), "docs vector: observed_at %lld",
              (long long)snap.observed_at_ms);
        CHECK_STR(str(snap.warning), "", "docs vector: no warning");
        CHECK_STR(str(snap.center), "", "docs vector: no center");
        feed_snapshot_free(&snap);
    }
    free(doc);
}

static void check_fixture_refused(const char *file, const char *want_ptr, const char *needle1,
                                  const char *needle2)
{
    size_t len = 0;
    char *doc = read_data(file, &len);
    if (!doc)
        return;
    struct feed_snapshot snap;
    struct json_error err;
    int r = parse_opts(doc, len, NULL, &snap, &err);
    CHECK(r == -EINVAL, "%s refused (rc %d)", file, r);
    CHECK_STR(str(err.pointer), want_ptr, file);
    CHECK(strstr(err.detail, needle1) && (!needle2 || strstr(err.detail, needle2)),
          "%s: detail says why (%s)", file, err.detail);
    CHECK(snap.pools == NULL && snap.npools == 0, "%s: nothing returned", file);
    free(doc);
}

static void test_real_refusals(void)
{
    /* status "error", errorType bad_data, error "invalid parameter \"query\": 1:1: parse error…" */
    check_fixture_refused("prom-api-error-bad_data.slurmweb.json", "/status", "bad_data",
                          "parse error");
    /* A query_range answer: five series of "values", resultType matrix. */
    check_fixture_refused("prom-api-query_range-matrix.slurmweb.json", "/data/resultType", "matrix",
                          "instant query");
    /* Slurm-web's unknown-metric answer is an empty *matrix*: still the wrong endpoint. */
    check_fixture_refused("prom-api-empty-result.slurmweb.json", "/data/resultType", "matrix",
                          NULL);
}

/* An empty instant-query answer (an unknown metric) is a valid empty snapshot. */
static void test_empty_vector(void)
{
    struct feed_snapshot snap;
    struct json_error err;
    int r = parse_str("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}",
                      NULL, &snap, &err);
    CHECK(r == 0 && snap.npools == 0 && snap.pools == NULL && snap.observed_at_ms == 0,
          "empty vector: zero pools, success (rc %d)", r);
    if (r == 0)
        feed_snapshot_free(&snap);
}

/* ---- the real DCGM series as an API response ---- */

/*
 * True when the .prom scrape has a line "<name>{…UUID="<uuid>"…} <value>": the
 * hand-written vector's series are really in the scrape. (A line check for
 * this test only; the adapter never reads the text format.)
 */
static bool prom_has(const char *scrape, const char *name, const char *uuid, const char *value)
{
    char head[128], id[128], tail[64];
    snprintf(head, sizeof(head), "%s{", name);
    snprintf(id, sizeof(id), "UUID=\"%s\"", uuid);
    snprintf(tail, sizeof(tail), "} %s", value);
    for (const char *line = scrape; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        char buf[2048];
        if (n < sizeof(buf)) {
            memcpy(buf, line, n);
            buf[n] = '\0';
            size_t tl = strlen(tail);
            if (strncmp(buf, head, strlen(head)) == 0 && strstr(buf, id) && n >= tl &&
                strcmp(buf + n - tl, tail) == 0)
                return true;
        }
        line = end ? end + 1 : NULL;
    }
    return false;
}

static void test_vector_matches_scrapes(const char *doc)
{
    size_t l1 = 0, l2 = 0;
    char *t4 = read_data("dcgm-exporter-metrics-t4.datadog.prom", &l1);
    char *rtx =
        read_data("dcgm-exporter-metrics-rtx4000ada-k8s.lke-ai-conformance.excerpt.prom", &l2);
    cJSON *v = cJSON_Parse(doc);
    const cJSON *result = cJSON_GetObjectItem(cJSON_GetObjectItem(v, "data"), "result");
    CHECK_EQ_LONG(cJSON_GetArraySize(result), 4, "hand-written vector has 4 series");
    const cJSON *it;
    cJSON_ArrayForEach(it, result)
    {
        const cJSON *m = cJSON_GetObjectItem(it, "metric");
        const char *name = cJSON_GetObjectItem(m, "__name__")->valuestring;
        const char *uuid = cJSON_GetObjectItem(m, "UUID")->valuestring;
        const char *val = cJSON_GetArrayItem(cJSON_GetObjectItem(it, "value"), 1)->valuestring;
        CHECK((t4 && prom_has(t4, name, uuid, val)) || (rtx && prom_has(rtx, name, uuid, val)),
              "series %s of %s = %s is in a .prom scrape", name, uuid, val);
    }
    cJSON_Delete(v);
    free(t4);
    free(rtx);
}

/*
 * prom-api-dcgm-vector.handwritten.json, time 1762185330.123 for every sample:
 *   Tesla T4 GPU-20c56d28-…, Hostname 424773df46e0: GPU_UTIL 0, FB_USED 0, FB_FREE 15109
 *     → 0 % busy, 0 / 15109 of memory used → free: total 1, free 1, largest 1
 *   NVIDIA RTX 4000 Ada Generation GPU-a8394b51-…: GPU_UTIL 0 only (no FB metrics in the
 *     excerpt) → counted, not free: total 1, free 0, largest 0
 * Pools come sorted by model, case-insensitively: "NVIDIA RTX…" before "Tesla T4".
 */
static void test_real_series(void)
{
    size_t len = 0;
    char *doc = read_data("prom-api-dcgm-vector.handwritten.json", &len);
    if (!doc)
        return;
    test_vector_matches_scrapes(doc);
    struct feed_snapshot snap;
    struct json_error err;
    int r = parse_opts(doc, len, NULL, &snap, &err);
    CHECK(r == 0, "DCGM vector parses (rc %d, %s: %s)", r, err.pointer, err.detail);
    if (r == 0) {
        const struct want w[] = {
            {"NVIDIA RTX 4000 Ada Generation", 1, 0, 0, -1},
            {"Tesla T4", 1, 1, 1, -1},
        };
        check_pools("DCGM vector", &snap, w, N(w), "CNY");
        CHECK(snap.observed_at_ms == INT64_C(1762185330123), "DCGM vector observed_at %lld",
              (long long)snap.observed_at_ms);
        CHECK_STR(str(snap.warning), "", "DCGM vector: no warning");
        feed_snapshot_free(&snap);
    }

    /* The site's alias table and prices: T4 priced by its mapped name, RTX by its DCGM name
     * written another way (punctuation and case do not matter). Sorted by the mapped names. */
    r = parse_opts(doc, len,
                   "{\"models\":{\"Tesla T4\":\"T4\"},\"price_per_card_hour\":{\"T4\":2.5,"
                   "\"nvidia-rtx-4000-ada-generation\":4},\"currency\":\"USD\"}",
                   &snap, &err);
    CHECK(r == 0, "DCGM vector with options parses (rc %d, %s: %s)", r, err.pointer, err.detail);
    if (r == 0) {
        const struct want w[] = {
            {"NVIDIA RTX 4000 Ada Generation", 1, 0, 0, 4},
            {"T4", 1, 1, 1, 2.5},
        };
        check_pools("DCGM vector with options", &snap, w, N(w), "USD");
        feed_snapshot_free(&snap);
    }
    free(doc);
}

/* ---- a hand-built cluster ---- */

struct row {
    const char *name; /* U = GPU_UTIL, M = FB_USED, F = FB_FREE, or a full metric name */
    const char *uuid; /* NULL: no label */
    const char *host;
    const char *instance;
    const char *gpu;
    const char *gi; /* GPU_I_ID, or NULL */
    const char *model;
    double t;
    const char *value;
};

#define A800 "NVIDIA A800-SXM4-80GB"
#define H100 "NVIDIA H100 80GB HBM3"

/*
 * By hand, GPU by GPU (defaults: util_threshold 5 %, mem_threshold 0.05):
 *   a800-01 (UUID A1-0..3): A1-0 idle (0 %, 0/81037) free — its UTIL series is scraped twice
 *     (two instances), still one GPU; A1-1 4.999 %, 1024/81037 = 0.0126 free; A1-2 exactly 5 %
 *     not free (not below); A1-3 0 %, 4500/81037 = 0.0555 not free → 2 free on a800-01
 *   a800-02 (A2-0..4): A2-0 free; A2-1 util "NaN" not free; A2-2 FB_USED the DCGM blank
 *     9223372036854775794 not free; A2-3 free; A2-4 has no FB_FREE series, not free → 2 free
 *   a800-03: no UUID, one GPU by Hostname + gpu "0", idle → free (1)
 *   no UUID, no Hostname, instance 10.0.0.9:9400 gpu "0": idle → free (1)
 *   → A800: total 4 + 5 + 1 + 1 = 11, free 2 + 2 + 1 + 1 = 6, largest 2
 *   h100-01, MIG: UUID H1 with instances 1 (0 %, 0/40000) and 2 (0 %, 30000/(30000+10000)):
 *     30000/80000 = 0.375 used → not free; UUID H2 with two idle instances → free; UUID H3
 *     util "+Inf" → not free; UUID H4 util "1e2" (100 %) → not free; H5 util " 0" (space) and
 *     H6 util "0x0" are not Prometheus numbers → not free
 *   → H100: total 6, free 1, largest 1
 *   ignored: a DCGM_FI_DEV_POWER_USAGE series; a GPU_UTIL series with no UUID, Hostname or
 *     instance; GPU "NOMODEL" whose series carry no modelName (warned)
 *   newest sample time: 1795309260.5 → observed_at 1795309260500
 */
static const struct row cluster[] = {
    {"U", "A1-0", "a800-01", "10.0.1.1:9400", "0", NULL, A800, 1795309200, "0"},
    {"U", "A1-0", "a800-01", "10.0.1.1:19400", "0", NULL, A800, 1795309200, "0"},
    {"M", "A1-0", "a800-01", "10.0.1.1:9400", "0", NULL, A800, 1795309200, "0"},
    {"F", "A1-0", "a800-01", "10.0.1.1:9400", "0", NULL, A800, 1795309200, "81037"},
    {"U", "A1-1", "a800-01", "10.0.1.1:9400", "1", NULL, A800, 1795309200, "4.999"},
    {"M", "A1-1", "a800-01", "10.0.1.1:9400", "1", NULL, A800, 1795309200, "1024"},
    {"F", "A1-1", "a800-01", "10.0.1.1:9400", "1", NULL, A800, 1795309200, "80013"},
    {"U", "A1-2", "a800-01", "10.0.1.1:9400", "2", NULL, A800, 1795309200, "5"},
    {"M", "A1-2", "a800-01", "10.0.1.1:9400", "2", NULL, A800, 1795309200, "0"},
    {"F", "A1-2", "a800-01", "10.0.1.1:9400", "2", NULL, A800, 1795309200, "81037"},
    {"U", "A1-3", "a800-01", "10.0.1.1:9400", "3", NULL, A800, 1795309200, "0"},
    {"M", "A1-3", "a800-01", "10.0.1.1:9400", "3", NULL, A800, 1795309200, "4500"},
    {"F", "A1-3", "a800-01", "10.0.1.1:9400", "3", NULL, A800, 1795309200, "76537"},
    {"U", "A2-0", "a800-02", "10.0.1.2:9400", "0", NULL, A800, 1795309200, "0.000000"},
    {"M", "A2-0", "a800-02", "10.0.1.2:9400", "0", NULL, A800, 1795309200, "0"},
    {"F", "A2-0", "a800-02", "10.0.1.2:9400", "0", NULL, A800, 1795309200, "81037"},
    {"U", "A2-1", "a800-02", "10.0.1.2:9400", "1", NULL, A800, 1795309200, "NaN"},
    {"M", "A2-1", "a800-02", "10.0.1.2:9400", "1", NULL, A800, 1795309200, "0"},
    {"F", "A2-1", "a800-02", "10.0.1.2:9400", "1", NULL, A800, 1795309200, "81037"},
    {"U", "A2-2", "a800-02", "10.0.1.2:9400", "2", NULL, A800, 1795309200, "0"},
    {"M", "A2-2", "a800-02", "10.0.1.2:9400", "2", NULL, A800, 1795309200, "9223372036854775794"},
    {"F", "A2-2", "a800-02", "10.0.1.2:9400", "2", NULL, A800, 1795309200, "81037"},
    {"U", "A2-3", "a800-02", "10.0.1.2:9400", "3", NULL, A800, 1795309200, "0"},
    {"M", "A2-3", "a800-02", "10.0.1.2:9400", "3", NULL, A800, 1795309200, "0"},
    {"F", "A2-3", "a800-02", "10.0.1.2:9400", "3", NULL, A800, 1795309200, "81037"},
    {"U", "A2-4", "a800-02", "10.0.1.2:9400", "4", NULL, A800, 1795309200, "0"},
    {"M", "A2-4", "a800-02", "10.0.1.2:9400", "4", NULL, A800, 1795309200, "0"},
    {"U", NULL, "a800-03", "10.0.1.3:9400", "0", NULL, A800, 1795309230, "0"},
    {"M", NULL, "a800-03", "10.0.1.3:9400", "0", NULL, A800, 1795309230, "0"},
    {"F", NULL, "a800-03", "10.0.1.3:9400", "0", NULL, A800, 1795309230, "81037"},
    {"U", NULL, NULL, "10.0.0.9:9400", "0", NULL, A800, 1795309230, "0"},
    {"M", NULL, NULL, "10.0.0.9:9400", "0", NULL, A800, 1795309230, "0"},
    {"F", NULL, NULL, "10.0.0.9:9400", "0", NULL, A800, 1795309230, "81037"},
    {"U", "H1", "h100-01", "10.0.2.1:9400", "0", "1", H100, 1795309260.5, "0"},
    {"M", "H1", "h100-01", "10.0.2.1:9400", "0", "1", H100, 1795309260.5, "0"},
    {"F", "H1", "h100-01", "10.0.2.1:9400", "0", "1", H100, 1795309260.5, "40000"},
    {"U", "H1", "h100-01", "10.0.2.1:9400", "0", "2", H100, 1795309260.5, "0"},
    {"M", "H1", "h100-01", "10.0.2.1:9400", "0", "2", H100, 1795309260.5, "30000"},
    {"F", "H1", "h100-01", "10.0.2.1:9400", "0", "2", H100, 1795309260.5, "10000"},
    {"U", "H2", "h100-01", "10.0.2.1:9400", "1", "1", H100, 1795309260.5, "0"},
    {"M", "H2", "h100-01", "10.0.2.1:9400", "1", "1", H100, 1795309260.5, "0"},
    {"F", "H2", "h100-01", "10.0.2.1:9400", "1", "1", H100, 1795309260.5, "40000"},
    {"U", "H2", "h100-01", "10.0.2.1:9400", "1", "2", H100, 1795309260.5, "0"},
    {"M", "H2", "h100-01", "10.0.2.1:9400", "1", "2", H100, 1795309260.5, "10"},
    {"F", "H2", "h100-01", "10.0.2.1:9400", "1", "2", H100, 1795309260.5, "39990"},
    {"U", "H3", "h100-01", "10.0.2.1:9400", "2", NULL, H100, 1795309260.5, "+Inf"},
    {"M", "H3", "h100-01", "10.0.2.1:9400", "2", NULL, H100, 1795309260.5, "0"},
    {"F", "H3", "h100-01", "10.0.2.1:9400", "2", NULL, H100, 1795309260.5, "81559"},
    {"U", "H4", "h100-01", "10.0.2.1:9400", "3", NULL, H100, 1795309260.5, "1e2"},
    {"M", "H4", "h100-01", "10.0.2.1:9400", "3", NULL, H100, 1795309260.5, "0"},
    {"F", "H4", "h100-01", "10.0.2.1:9400", "3", NULL, H100, 1795309260.5, "81559"},
    {"U", "H5", "h100-01", "10.0.2.1:9400", "4", NULL, H100, 1795309260.5, " 0"},
    {"M", "H5", "h100-01", "10.0.2.1:9400", "4", NULL, H100, 1795309260.5, "0"},
    {"F", "H5", "h100-01", "10.0.2.1:9400", "4", NULL, H100, 1795309260.5, "81559"},
    {"U", "H6", "h100-01", "10.0.2.1:9400", "5", NULL, H100, 1795309260.5, "0x0"},
    {"M", "H6", "h100-01", "10.0.2.1:9400", "5", NULL, H100, 1795309260.5, "0"},
    {"F", "H6", "h100-01", "10.0.2.1:9400", "5", NULL, H100, 1795309260.5, "81559"},
    {"DCGM_FI_DEV_POWER_USAGE", "A1-0", "a800-01", "10.0.1.1:9400", "0", NULL, A800, 1795309200,
     "61.234000"},
    {"U", NULL, NULL, NULL, "7", NULL, A800, 1795309200, "0"},
    {"U", "NOMODEL", "a800-09", "10.0.1.9:9400", "0", NULL, NULL, 1795309200, "0"},
    {"M", "NOMODEL", "a800-09", "10.0.1.9:9400", "0", NULL, NULL, 1795309200, "0"},
    {"F", "NOMODEL", "a800-09", "10.0.1.9:9400", "0", NULL, NULL, 1795309200, "81037"},
};

static char *cluster_doc(void)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "status", "success");
    cJSON *data = cJSON_AddObjectToObject(doc, "data");
    cJSON_AddStringToObject(data, "resultType", "vector");
    cJSON *result = cJSON_AddArrayToObject(data, "result");
    for (size_t i = 0; i < N(cluster); i++) {
        const struct row *r = &cluster[i];
        const char *name = strcmp(r->name, "U") == 0   ? "DCGM_FI_DEV_GPU_UTIL"
                           : strcmp(r->name, "M") == 0 ? "DCGM_FI_DEV_FB_USED"
                           : strcmp(r->name, "F") == 0 ? "DCGM_FI_DEV_FB_FREE"
                                                       : r->name;
        cJSON *s = cJSON_CreateObject();
        cJSON *m = cJSON_AddObjectToObject(s, "metric");
        cJSON_AddStringToObject(m, "__name__", name);
        if (r->uuid)
            cJSON_AddStringToObject(m, "UUID", r->uuid);
        if (r->host)
            cJSON_AddStringToObject(m, "Hostname", r->host);
        if (r->instance)
            cJSON_AddStringToObject(m, "instance", r->instance);
        cJSON_AddStringToObject(m, "gpu", r->gpu);
        if (r->gi)
            cJSON_AddStringToObject(m, "GPU_I_ID", r->gi);
        if (r->model)
            cJSON_AddStringToObject(m, "modelName", r->model);
        cJSON_AddStringToObject(m, "job", "dcgm-exporter");
        cJSON *v = cJSON_AddArrayToObject(s, "value");
        cJSON_AddItemToArray(v, cJSON_CreateNumber(r->t));
        cJSON_AddItemToArray(v, cJSON_CreateString(r->value));
        cJSON_AddItemToArray(result, s);
    }
    char *text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    return text;
}

static void test_cluster(void)
{
    char *doc = cluster_doc();
    struct feed_snapshot snap;
    struct json_error err;
    int r = parse_str(doc, NULL, &snap, &err);
    CHECK(r == 0, "cluster vector parses (rc %d, %s: %s)", r, err.pointer, err.detail);
    if (r == 0) {
        const struct want w[] = {{A800, 11, 6, 2, -1}, {H100, 6, 1, 1, -1}};
        check_pools("cluster", &snap, w, N(w), "CNY");
        CHECK(snap.observed_at_ms == INT64_C(1795309260500), "cluster observed_at %lld",
              (long long)snap.observed_at_ms);
        CHECK(strstr(snap.warning, "1 GPU(s) without a modelName") != NULL,
              "cluster warns of the GPU without modelName (%s)", snap.warning);
        feed_snapshot_free(&snap);
    }

    /* util_threshold 10: A1-2 (5 %) becomes free → A800 free 7, a800-01 has 3. */
    r = parse_str(doc, "{\"util_threshold\":10}", &snap, &err);
    if (r == 0) {
        const struct want w[] = {{A800, 11, 7, 3, -1}, {H100, 6, 1, 1, -1}};
        check_pools("util_threshold 10", &snap, w, N(w), "CNY");
        feed_snapshot_free(&snap);
    } else {
        CHECK(false, "util_threshold 10 parses (rc %d)", r);
    }
    /* mem_threshold 0.06: A1-3 (0.0555) becomes free; H1 (0.375) stays busy. */
    r = parse_str(doc, "{\"mem_threshold\":0.06}", &snap, &err);
    if (r == 0) {
        const struct want w[] = {{A800, 11, 7, 3, -1}, {H100, 6, 1, 1, -1}};
        check_pools("mem_threshold 0.06", &snap, w, N(w), "CNY");
        feed_snapshot_free(&snap);
    } else {
        CHECK(false, "mem_threshold 0.06 parses (rc %d)", r);
    }
    /* Both, and mem 0.4 frees H1 too: A800 8 free (a800-01 all 4), H100 2 (H1, H2). */
    r = parse_str(doc, "{\"util_threshold\":10,\"mem_threshold\":0.4}", &snap, &err);
    if (r == 0) {
        const struct want w[] = {{A800, 11, 8, 4, -1}, {H100, 6, 2, 2, -1}};
        check_pools("both thresholds", &snap, w, N(w), "CNY");
        feed_snapshot_free(&snap);
    } else {
        CHECK(false, "both thresholds parse (rc %d)", r);
    }
    /* Models fold both DCGM names into one pool with one price: 17 GPUs, 7 free, largest 2. */
    r = parse_str(doc,
                  "{\"models\":{\"" A800 "\":\"GPU\",\"nvidia h100 80gb hbm3\":\"GPU\"},"
                  "\"price_per_card_hour\":{\"GPU\":7.25},\"currency\":\"EUR\"}",
                  &snap, &err);
    if (r == 0) {
        const struct want w[] = {{"GPU", 17, 7, 2, 7.25}};
        check_pools("models fold", &snap, w, N(w), "EUR");
        feed_snapshot_free(&snap);
    } else {
        CHECK(false, "models fold parses (rc %d, %s: %s)", r, err.pointer, err.detail);
    }
    free(doc);
}

/* ---- bad documents ---- */

struct bad_case {
    const char *name;
    const char *doc;
    const char *want_ptr;
};

#define OKHEAD "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":"
#define SERIES(metric, value) OKHEAD "[{\"metric\":" metric ",\"value\":" value "}]}}"
#define DCGM "{\"__name__\":\"DCGM_FI_DEV_GPU_UTIL\",\"UUID\":\"G\",\"modelName\":\"T4\"}"

static const struct bad_case bad_cases[] = {
    {"empty", "", ""},
    {"malformed", "{\"status\":", ""},
    {"array", "[]", ""},
    {"HTML error page",
     "<html><head><title>503 Service Unavailable</title></head><body>No server is available to "
     "handle this request.</body></html>",
     ""},
    {"plain text error", "404 page not found\n", ""},
    {"no status", "{\"data\":{\"resultType\":\"vector\",\"result\":[]}}", "/status"},
    {"status a number", "{\"status\":1}", "/status"},
    {"status unknown", "{\"status\":\"partial\"}", "/status"},
    {"error without details", "{\"status\":\"error\"}", "/status"},
    {"error with timeout",
     "{\"status\":\"error\",\"errorType\":\"timeout\",\"error\":\"query "
     "timed out in expression evaluation\"}",
     "/status"},
    {"no data", "{\"status\":\"success\"}", "/data"},
    {"data an array", "{\"status\":\"success\",\"data\":[]}", "/data"},
    {"no resultType", "{\"status\":\"success\",\"data\":{\"result\":[]}}", "/data/resultType"},
    {"resultType scalar",
     "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1435781451.781,"
     "\"1\"]}}",
     "/data/resultType"},
    {"resultType string",
     "{\"status\":\"success\",\"data\":{\"resultType\":\"string\",\"result\":[1,\"x\"]}}",
     "/data/resultType"},
    {"resultType a number", "{\"status\":\"success\",\"data\":{\"resultType\":3}}",
     "/data/resultType"},
    {"no result", "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\"}}", "/data/result"},
    {"result an object", OKHEAD "{}}}", "/data/result"},
    {"result null", OKHEAD "null}}", "/data/result"},
    {"warnings an object", "{\"status\":\"success\",\"warnings\":{},\"data\":{}}", "/warnings"},
    {"warning a number", "{\"status\":\"success\",\"warnings\":[5],\"data\":{}}", "/warnings/0"},
    {"series a number", OKHEAD "[5]}}", "/data/result/0"},
    {"no metric", OKHEAD "[{\"value\":[1,\"0\"]}]}}", "/data/result/0/metric"},
    {"metric an array", SERIES("[]", "[1,\"0\"]"), "/data/result/0/metric"},
    {"no value (a matrix series)", OKHEAD "[{\"metric\":{},\"values\":[[1,\"0\"]]}]}}",
     "/data/result/0/value"},
    {"value of one element", SERIES("{}", "[1]"), "/data/result/0/value"},
    {"value of three elements", SERIES("{}", "[1,\"0\",2]"), "/data/result/0/value"},
    {"value an object", SERIES("{}", "{}"), "/data/result/0/value"},
    {"time a string", SERIES("{}", "[\"1435781451.781\",\"0\"]"), "/data/result/0/value/0"},
    {"time negative", SERIES("{}", "[-1,\"0\"]"), "/data/result/0/value/0"},
    {"time absurd", SERIES("{}", "[1e20,\"0\"]"), "/data/result/0/value/0"},
    {"time infinite", SERIES("{}", "[1e400,\"0\"]"), "/data/result/0/value/0"},
    {"sample a number", SERIES("{}", "[1,0]"), "/data/result/0/value/1"},
    {"sample null", SERIES("{}", "[1,null]"), "/data/result/0/value/1"},
    {"__name__ a number", SERIES("{\"__name__\":5}", "[1,\"0\"]"),
     "/data/result/0/metric/__name__"},
    {"UUID a number", SERIES("{\"__name__\":\"DCGM_FI_DEV_FB_USED\",\"UUID\":7}", "[1,\"0\"]"),
     "/data/result/0/metric/UUID"},
    {"Hostname an object",
     SERIES("{\"__name__\":\"DCGM_FI_DEV_FB_FREE\",\"Hostname\":{}}", "[1,\"0\"]"),
     "/data/result/0/metric/Hostname"},
    {"modelName too long",
     SERIES("{\"__name__\":\"DCGM_FI_DEV_GPU_UTIL\",\"UUID\":\"G\",\"modelName\":"
            "\"0123456789012345678901234567890123456789012345678901234567890123\"}",
            "[1,\"0\"]"),
     "/data/result/0/metric/modelName"},
    {"second series bad",
     OKHEAD "[{\"metric\":" DCGM ",\"value\":[1,\"0\"]},{\"metric\":" DCGM ",\"value\":[1]}]}}",
     "/data/result/1/value"},
};

static void check_bad(const char *name, const char *doc, size_t len, const char *options,
                      const char *want_ptr)
{
    struct feed_snapshot snap;
    struct json_error err;
    int r = parse_opts(doc, len, options, &snap, &err);
    CHECK(r == -EINVAL, "%s: rc %d, want -EINVAL (%s: %s)", name, r, err.pointer, err.detail);
    CHECK_STR(str(err.pointer), want_ptr, name);
    CHECK(err.detail[0] != '\0', "%s: detail is set", name);
    CHECK(snap.pools == NULL && snap.npools == 0 && snap.next_url == NULL, "%s: nothing returned",
          name);
    if (r == 0)
        feed_snapshot_free(&snap);
}

/* Sample values that are not numbers leave the GPU counted but not free; the document is fine. */
static void test_bad_samples(void)
{
    static const char *const values[] = {
        "NaN", "+Inf", "-Inf", "", "idle", "0x10", " 0", "0 ", "1e999", "-1", "101", "1,5", "0.0.0",
        "e", "--1",
        /* 70 digits: longer than any sample value */
        "1234567890123456789012345678901234567890123456789012345678901234567890"};
    for (size_t i = 0; i < N(values); i++) {
        char doc[1024];
        snprintf(doc, sizeof(doc),
                 OKHEAD "[{\"metric\":{\"__name__\":\"DCGM_FI_DEV_GPU_UTIL\",\"UUID\":\"G\","
                        "\"modelName\":\"T4\"},\"value\":[1,\"%s\"]},"
                        "{\"metric\":{\"__name__\":\"DCGM_FI_DEV_FB_USED\",\"UUID\":\"G\","
                        "\"modelName\":\"T4\"},\"value\":[1,\"0\"]},"
                        "{\"metric\":{\"__name__\":\"DCGM_FI_DEV_FB_FREE\",\"UUID\":\"G\","
                        "\"modelName\":\"T4\"},\"value\":[1,\"100\"]}]}}",
                 values[i]);
        struct feed_snapshot snap;
        struct json_error err;
        int r = parse_str(doc, NULL, &snap, &err);
        CHECK(r == 0 && snap.npools == 1 && snap.pools[0].total == 1 && snap.pools[0].free == 0,
              "utilisation '%s' counts the GPU, not as free (rc %d)", values[i], r);
        if (r == 0)
            feed_snapshot_free(&snap);
    }
    /* Zero framebuffer reported (0 used, 0 free) is no evidence of idleness. */
    struct feed_snapshot snap;
    struct json_error err;
    int r = parse_str(OKHEAD "[{\"metric\":{\"__name__\":\"DCGM_FI_DEV_GPU_UTIL\",\"UUID\":\"G\","
                             "\"modelName\":\"T4\"},\"value\":[1,\"0\"]},"
                             "{\"metric\":{\"__name__\":\"DCGM_FI_DEV_FB_USED\",\"UUID\":\"G\","
                             "\"modelName\":\"T4\"},\"value\":[1,\"0\"]},"
                             "{\"metric\":{\"__name__\":\"DCGM_FI_DEV_FB_FREE\",\"UUID\":\"G\","
                             "\"modelName\":\"T4\"},\"value\":[1,\"0\"]}]}}",
                      NULL, &snap, &err);
    CHECK(r == 0 && snap.npools == 1 && snap.pools[0].free == 0,
          "a GPU reporting no framebuffer is not free (rc %d)", r);
    if (r == 0)
        feed_snapshot_free(&snap);
    /* A warning from Prometheus is kept with the snapshot. */
    r = parse_str("{\"status\":\"success\",\"warnings\":[\"PromQL info: metric might not be a "
                  "counter\"],\"data\":{\"resultType\":\"vector\",\"result\":[]}}",
                  NULL, &snap, &err);
    CHECK(r == 0 && strstr(snap.warning, "prometheus: PromQL info") == snap.warning,
          "warnings[0] becomes the snapshot warning (rc %d, '%s')", r, r == 0 ? snap.warning : "");
    if (r == 0)
        feed_snapshot_free(&snap);
}

static void test_bad(void)
{
    for (size_t i = 0; i < N(bad_cases); i++)
        check_bad(bad_cases[i].name, bad_cases[i].doc, strlen(bad_cases[i].doc), NULL,
                  bad_cases[i].want_ptr);
    const char *ok = OKHEAD "[]}}";
    check_bad("parse with util_threshold 0", ok, strlen(ok), "{\"util_threshold\":0}", "");
    check_bad("parse with a bad model map", ok, strlen(ok), "{\"models\":{\"T4\":1}}", "");
}

static void truncations(const char *what, const char *doc, size_t len)
{
    size_t ok = 0, bad = 0, other = 0;
    for (size_t n = 0; n < len; n++) {
        struct feed_snapshot snap;
        struct json_error err;
        int r = parse_opts(doc, n, NULL, &snap, &err);
        if (r == 0) {
            ok++;
            feed_snapshot_free(&snap);
        } else if (r == -EINVAL && snap.pools == NULL && snap.npools == 0) {
            bad++;
        } else {
            other++;
        }
    }
    CHECK(other == 0,
          "%s: every prefix is ok or -EINVAL with nothing returned (%zu ok, %zu "
          "refused, %zu otherwise)",
          what, ok, bad, other);
    CHECK(bad > 0, "%s: truncated prefixes are refused", what);
}

static void test_truncated(void)
{
    size_t len = 0;
    char *doc = read_data("prom-api-dcgm-vector.handwritten.json", &len);
    if (doc)
        truncations("DCGM vector, every prefix", doc, len);
    free(doc);
    doc = read_data("prom-api-query-vector.prometheus-docs.json", &len);
    if (doc)
        truncations("docs vector, every prefix", doc, len);
    free(doc);
    char *c = cluster_doc();
    truncations("cluster vector, every prefix", c, strlen(c));
    free(c);
}

static void test_limits(void)
{
    /* 1025 GPUs of 1025 models: more pools than ADAPTER_MAX_POOLS; 1024 fit. */
    size_t cap = 64 + 1025 * 160;
    char *doc = malloc(cap);
    size_t off = (size_t)snprintf(doc, cap, OKHEAD "[");
    size_t cut = 0;
    for (int i = 0; i < 1025; i++) {
        if (i == 1024)
            cut = off;
        off += (size_t)snprintf(doc + off, cap - off,
                                "%s{\"metric\":{\"__name__\":\"DCGM_FI_DEV_GPU_UTIL\",\"UUID\":"
                                "\"G%d\",\"modelName\":\"M%d\"},\"value\":[1,\"0\"]}",
                                i ? "," : "", i, i);
    }
    off += (size_t)snprintf(doc + off, cap - off, "]}}");
    check_bad("1025 models", doc, off, NULL, "/data/result");
    memcpy(doc + cut, "]}}", 3);
    struct feed_snapshot snap;
    struct json_error err;
    int r = parse_opts(doc, cut + 3, NULL, &snap, &err);
    CHECK(r == 0 && snap.npools == ADAPTER_MAX_POOLS, "1024 models parse (rc %d, %zu pools)", r,
          r == 0 ? snap.npools : 0);
    if (r == 0)
        feed_snapshot_free(&snap);
    free(doc);

    const size_t big = (size_t)10 << 20;
    char *junk = malloc(big);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < big; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        junk[i] = (char)(x & 0xff);
    }
    junk[0] = 'q';
    check_bad("10 MB of random bytes", junk, big, NULL, "");
    memset(junk, '{', big);
    check_bad("10 MB of '{'", junk, big, NULL, "");
    memset(junk, ' ', big);
    memcpy(junk, OKHEAD "[", strlen(OKHEAD "["));
    check_bad("10 MB unterminated result", junk, big, NULL, "");
    free(junk);
}

/* ---- options ---- */

struct opt_case {
    const char *name;
    const char *options;
    const char *want_ptr; /* NULL: accepted */
};

static const struct opt_case opt_cases[] = {
    {"none", "{}", NULL},
    {"all",
     "{\"models\":{\"Tesla T4\":\"T4\"},\"util_threshold\":100,\"mem_threshold\":1,"
     "\"price_per_card_hour\":{\"T4\":0.35},\"currency\":\"USD\"}",
     NULL},
    {"small thresholds", "{\"util_threshold\":0.5,\"mem_threshold\":0.001}", NULL},
    {"not an object", "5", "/options"},
    {"unknown option", "{\"query\":\"up\"}", "/options/query"},
    {"ignore_taints is not a prometheus option", "{\"ignore_taints\":[]}",
     "/options/ignore_taints"},
    {"util_threshold 0", "{\"util_threshold\":0}", "/options/util_threshold"},
    {"util_threshold negative", "{\"util_threshold\":-5}", "/options/util_threshold"},
    {"util_threshold over 100", "{\"util_threshold\":101}", "/options/util_threshold"},
    {"util_threshold a string", "{\"util_threshold\":\"5\"}", "/options/util_threshold"},
    {"mem_threshold 0", "{\"mem_threshold\":0}", "/options/mem_threshold"},
    {"mem_threshold a percent", "{\"mem_threshold\":5}", "/options/mem_threshold"},
    {"models a string", "{\"models\":\"T4\"}", "/options/models"},
    {"model a number", "{\"models\":{\"Tesla T4\":4}}", "/options/models/Tesla T4"},
    {"model empty", "{\"models\":{\"Tesla T4\":\"\"}}", "/options/models/Tesla T4"},
    {"price negative", "{\"price_per_card_hour\":{\"T4\":-0.01}}",
     "/options/price_per_card_hour/T4"},
    {"price null", "{\"price_per_card_hour\":{\"T4\":null}}", "/options/price_per_card_hour/T4"},
    {"currency lower case", "{\"currency\":\"cny\"}", "/options/currency"},
    {"currency two letters", "{\"currency\":\"CN\"}", "/options/currency"},
};

static void test_check_options(void)
{
    for (size_t i = 0; i < N(opt_cases); i++) {
        cJSON *o = cJSON_Parse(opt_cases[i].options);
        struct json_error err = {0};
        int r = adapter_check_options(prom, o, "/options", &err);
        if (!opt_cases[i].want_ptr) {
            CHECK(r == 0, "options %s accepted (rc %d, %s: %s)", opt_cases[i].name, r, err.pointer,
                  err.detail);
        } else {
            CHECK(r == -EINVAL, "options %s refused (rc %d)", opt_cases[i].name, r);
            CHECK_STR(str(err.pointer), opt_cases[i].want_ptr, opt_cases[i].name);
            CHECK(err.detail[0] != '\0', "options %s: detail set", opt_cases[i].name);
        }
        cJSON_Delete(o);
    }
}

int main(void)
{
    test_table();
    test_docs_vector();
    test_real_refusals();
    test_empty_vector();
    test_real_series();
    test_cluster();
    test_bad_samples();
    test_bad();
    test_truncated();
    test_limits();
    test_check_options();
    return check_done();
}
