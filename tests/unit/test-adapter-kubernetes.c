/*
 * test-adapter-kubernetes — the kubernetes feed adapter on the real fixtures
 * (the API round-trip Node, the real GFD labels of an LKE RTX 4000 Ada node)
 * and on hand-written GPU NodeList / PodList documents modeled on them, with
 * every expected pool worked out by hand from the documents; the quantity
 * parser through mapped resources; hostile documents, truncation, 10 MB of
 * garbage and option errors.
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

static const struct adapter *kube = &adapter_kubernetes;

/* A fixture of this format; a missing one is a failed check. */
static char *read_data(const char *name, size_t *len)
{
    char rel[512];
    snprintf(rel, sizeof(rel), "kubernetes/%s", name);
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
    int r = kube->parse(body, len, opts, snap, err);
    free(body);
    cJSON_Delete(opts);
    return r;
}

static int parse_str(const char *text, const char *options, struct feed_snapshot *snap,
                     struct json_error *err)
{
    return parse_opts(text, strlen(text), options, snap, err);
}

static const struct pool_snapshot *pool(const struct feed_snapshot *s, const char *model)
{
    for (size_t i = 0; i < s->npools; i++) {
        if (strcmp(s->pools[i].model, model) == 0)
            return &s->pools[i];
    }
    return NULL;
}

struct want {
    const char *model;
    long total, free, largest;
    double price; /* < 0: no price */
};

/* Checks a snapshot against the wanted pools, in order, with defaults for the unstated fields. */
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

/* ---- the adapter's description ---- */

static void test_table(void)
{
    CHECK_STR(kube->name, "kubernetes", "adapter name");
    CHECK(kube->push && kube->pull, "kubernetes is push and pull");
    CHECK(kube->parse != NULL && kube->check_options != NULL, "parser and options hook");
    CHECK(kube->description && kube->description[0], "has a description");
    const char *want[] = {"models", "price_per_card_hour", "currency", "ignore_taints", "pods_url"};
    const char *type[] = {"object", "object", "string", "array", "string"};
    size_t n = 0;
    for (const struct adapter_option *o = kube->options; o->name; o++, n++) {
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

/* ---- real fixtures ---- */

/*
 * core.v1.Node round-trip fixture: kind Node, allocatable {"allocatableKey": "0"},
 * capacity {"capacityKey": "0"}, spec.unschedulable true, one taint with effect
 * "effectValue", one condition of type "typeValue". No accelerator resource.
 */
static void test_roundtrip_node(void)
{
    size_t len = 0;
    char *doc = read_data("core.v1.Node.k8s-api-roundtrip-testdata.json", &len);
    if (!doc)
        return;
    struct feed_snapshot snap;
    struct json_error err;

    int r = parse_opts(doc, len, NULL, &snap, &err);
    CHECK(r == 0, "round-trip Node parses (rc %d, %s: %s)", r, err.pointer, err.detail);
    if (r == 0) {
        CHECK_EQ_LONG(snap.npools, 0, "round-trip Node: no accelerator, no pools");
        CHECK(snap.pools == NULL, "round-trip Node: no pool array");
        CHECK_STR(str(snap.center), "", "round-trip Node: no center");
        CHECK(snap.observed_at_ms == 0, "round-trip Node: no time stated");
        CHECK(snap.next_url == NULL, "round-trip Node: no next page");
        CHECK(strstr(snap.warning, "no pod list") != NULL, "round-trip Node: warns of no pods (%s)",
              snap.warning);
        feed_snapshot_free(&snap);
    }

    /* Mapped, its one allocatable resource is a pool of 0 cards; the node is cordoned. */
    const struct want mapped[] = {{"X", 0, 0, 0, -1}};
    r = parse_opts(doc, len, "{\"models\":{\"allocatableKey\":\"X\"}}", &snap, &err);
    CHECK(r == 0, "round-trip Node with allocatableKey mapped parses (rc %d, %s: %s)", r,
          err.pointer, err.detail);
    if (r == 0) {
        check_pools("round-trip mapped", &snap, mapped, N(mapped), "CNY");
        feed_snapshot_free(&snap);
    }
    /* capacityKey is not allocatable: allocatable wins when the node states it. */
    r = parse_opts(doc, len, "{\"models\":{\"capacityKey\":\"Y\"}}", &snap, &err);
    CHECK(r == 0 && snap.npools == 0, "capacity-only resource is not counted (rc %d)", r);
    if (r == 0)
        feed_snapshot_free(&snap);
    free(doc);
}

/*
 * The GFD label patterns fixture is not a document: it is refused cleanly. It
 * also shows the label this adapter reads for replicas of a shared resource:
 * <resource>.replicas (nvidia.com/gpu.replicas, nvidia.com/mig-<profile>.replicas).
 */
static void test_gfd_patterns(void)
{
    size_t len = 0;
    char *doc = read_data("gfd-expected-label-patterns.mig-mixed.k8s-device-plugin.txt", &len);
    if (!doc)
        return;
    CHECK(strstr(doc, "nvidia\\.com\\/gpu\\.replicas=") != NULL,
          "GFD labels nvidia.com/gpu.replicas");
    CHECK(strstr(doc, "nvidia\\.com\\/mig-[0-9]+g\\.[0-9]+gb\\.replicas=") != NULL,
          "GFD labels nvidia.com/mig-<profile>.replicas");
    CHECK(strstr(doc, "nvidia\\.com\\/gpu\\.product=") != NULL,
          "GFD labels nvidia.com/gpu.product");
    struct feed_snapshot snap;
    struct json_error err;
    int r = parse_opts(doc, len, NULL, &snap, &err);
    CHECK(r == -EINVAL && err.pointer[0] == '\0', "label patterns text refused (rc %d, '%s')", r,
          err.pointer);
    free(doc);
}

/*
 * The real LKE labels as one Node: GFD says NVIDIA-RTX-4000-Ada-Generation,
 * gpu.replicas "1", mig.strategy "single" with mig.capable "false" (so the
 * strategy label alone does not mean MIG slices), gpu.count "1".
 */
static void test_real_labels(void)
{
    size_t len = 0;
    char *labels = read_data("node-labels.gfd-rtx4000ada.lke-ai-conformance.json", &len);
    if (!labels)
        return;
    size_t cap = len + 512;
    char *doc = malloc(cap);
    int n = snprintf(doc, cap,
                     "{\"kind\":\"Node\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":"
                     "\"lke529760-766837-0a634ab30000\",\"labels\":%s},\"status\":{\"capacity\":"
                     "{\"nvidia.com/gpu\":\"1\"},\"allocatable\":{\"nvidia.com/gpu\":\"1\"},"
                     "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
                     labels);
    struct feed_snapshot snap;
    struct json_error err;
    int r = parse_opts(doc, (size_t)n, NULL, &snap, &err);
    CHECK(r == 0, "real GFD labels on a Node parse (rc %d, %s: %s)", r, err.pointer, err.detail);
    const struct want w[] = {{"NVIDIA-RTX-4000-Ada-Generation", 1, 1, 1, -1}};
    if (r == 0) {
        check_pools("real GFD labels", &snap, w, N(w), "CNY");
        feed_snapshot_free(&snap);
    }
    free(doc);
    free(labels);
}

/* ---- the hand-written GPU cluster ---- */

static char *nodes_doc, *pods_doc, *combined_doc;
static size_t nodes_len, pods_len, combined_len;

static void load_cluster(void)
{
    nodes_doc = read_data("nodelist-gpu.json", &nodes_len);
    pods_doc = read_data("podlist-gpu.json", &pods_len);
    if (!nodes_doc || !pods_doc)
        return;
    size_t cap = nodes_len + pods_len + 32;
    combined_doc = malloc(cap);
    combined_len =
        (size_t)snprintf(combined_doc, cap, "{\"nodes\":%s,\"pods\":%s}", nodes_doc, pods_doc);
}

/*
 * nodelist-gpu.json alone (no pods): total = allocatable on every node, free =
 * allocatable on schedulable nodes only.
 *   lke529760-…  nvidia.com/gpu 1, GFD NVIDIA-RTX-4000-Ada-Generation, Ready, untainted: 1/1
 *   gpu-a100-01..04  nvidia.com/gpu 8 each, NVIDIA-A100-SXM4-80GB: total 32;
 *     01 schedulable (its nvidia.com/gpu taint is tolerated) → 8 free;
 *     02 cordoned, 03 Ready Unknown + unreachable taints, 04 dedicated=training:NoSchedule → 0
 *   gpu-h100-ts-01  nvidia.com/gpu 32, replicas 4, NVIDIA-H100-80GB-HBM3-SHARED → 8 cards, 8 free
 *   gke-…  nvidia.com/gpu 2, gke-accelerator nvidia-tesla-a100 → 2/2
 *   ascend-910b-01  huawei.com/Ascend910 8, accelerator huawei-Ascend910 → 8/8
 *   gpu-a100-mig-01  nvidia.com/gpu 2 (mixed: mig-1g.5gb 14 is unmapped, so ignored),
 *     NVIDIA-A100-SXM4-40GB → 2/2
 *   mi300x-01  amd.com/gpu 8, no model label → model "amd.com/gpu", 8/8
 *   cpu-infra-01  no accelerator
 */
static void test_nodes_only(void)
{
    if (!nodes_doc)
        return;
    struct feed_snapshot snap;
    struct json_error err;
    int r = parse_opts(nodes_doc, nodes_len, NULL, &snap, &err);
    CHECK(r == 0, "GPU NodeList parses (rc %d, %s: %s)", r, err.pointer, err.detail);
    if (r != 0)
        return;
    const struct want w[] = {
        {"NVIDIA-RTX-4000-Ada-Generation", 1, 1, 1, -1},
        {"NVIDIA-A100-SXM4-80GB", 32, 8, 8, -1},
        {"NVIDIA-H100-80GB-HBM3", 8, 8, 8, -1},
        {"nvidia-tesla-a100", 2, 2, 2, -1},
        {"huawei-Ascend910", 8, 8, 8, -1},
        {"NVIDIA-A100-SXM4-40GB", 2, 2, 2, -1},
        {"amd.com/gpu", 8, 8, 8, -1},
    };
    check_pools("NodeList without pods", &snap, w, N(w), "CNY");
    CHECK(strstr(snap.warning, "no pod list") != NULL, "without pods the snapshot warns (%s)",
          snap.warning);
    CHECK_STR(str(snap.center), "", "NodeList names no center");
    CHECK(snap.observed_at_ms == 0, "NodeList states no time");
    feed_snapshot_free(&snap);
}

/*
 * {"nodes": nodelist-gpu.json, "pods": podlist-gpu.json}. Pods that count
 * (bound to a listed node, phase not Succeeded/Failed):
 *   lke…: cuda-75454ffb9f-8ljq7 limits nvidia.com/gpu 1 (no request) → 1 used → 0 free
 *   gpu-a100-01: llm-train-0 4 + llm-eval-… limits 2 = 6 (batch-infer Succeeded 2 and Failed 1
 *     do not count) → 2 free; gpu-a100-02 llm-train-1 8 (cordoned anyway)
 *     → A100-80GB total 32, free 2, largest 2
 *   gpu-h100-ts-01: three notebooks × 1 replica → 3 cards pinned → 8 - 3 = 5 free
 *   gke-…: bert-finetune 1 → 1 free
 *   ascend-910b-01: mindspore-train-0 = max(containers 4 + sidecar 1, warmup 2 + sidecar 1) = 5,
 *     mindspore-infer-0 Pending but bound 1 → 6 used → 2 free (mindspore-train-big unbound)
 *   gpu-a100-mig-01: mig-small requests nvidia.com/mig-1g.5gb, not nvidia.com/gpu → 2 free
 *   mi300x-01: rocm-bench-0 two containers × 2 = 4 → 4 free
 *   orphan-0 is on gpu-a100-gone (not listed): ignored
 */
static void test_nodes_and_pods(void)
{
    if (!combined_doc)
        return;
    struct feed_snapshot snap;
    struct json_error err;
    int r = parse_opts(combined_doc, combined_len, NULL, &snap, &err);
    CHECK(r == 0, "nodes + pods parse (rc %d, %s: %s)", r, err.pointer, err.detail);
    if (r != 0)
        return;
    const struct want w[] = {
        {"NVIDIA-RTX-4000-Ada-Generation", 1, 0, 0, -1},
        {"NVIDIA-A100-SXM4-80GB", 32, 2, 2, -1},
        {"NVIDIA-H100-80GB-HBM3", 8, 5, 5, -1},
        {"nvidia-tesla-a100", 2, 1, 1, -1},
        {"huawei-Ascend910", 8, 2, 2, -1},
        {"NVIDIA-A100-SXM4-40GB", 2, 2, 2, -1},
        {"amd.com/gpu", 8, 4, 4, -1},
    };
    check_pools("nodes + pods", &snap, w, N(w), "CNY");
    CHECK_STR(str(snap.warning), "", "nodes + pods: no warning");
    feed_snapshot_free(&snap);

    /* A null pod list is the same as none. */
    size_t cap = nodes_len + 32;
    char *doc = malloc(cap);
    int n = snprintf(doc, cap, "{\"nodes\":%s,\"pods\":null}", nodes_doc);
    r = parse_opts(doc, (size_t)n, NULL, &snap, &err);
    CHECK(r == 0 && snap.npools == 7 && pool(&snap, "NVIDIA-A100-SXM4-80GB") &&
              pool(&snap, "NVIDIA-A100-SXM4-80GB")->free == 8,
          "pods: null counts as no pod list (rc %d)", r);
    if (r == 0)
        feed_snapshot_free(&snap);
    free(doc);
}

/*
 * The same cluster with every option:
 *   models: mig-1g.5gb → A100-1g.5gb (now counted: 14 on gpu-a100-mig-01, replicas label "1",
 *     mig-small uses 1 → 13 free), the GFD name NVIDIA-A100-SXM4-80GB → A100, the Ascend label
 *     value huawei-Ascend910 → Ascend910B;
 *   ignore_taints: dedicated → gpu-a100-04 is schedulable: A100 free 2 + 8 = 10, largest 8;
 *   price_per_card_hour: A100 12.5 (by the mapped name), ascend910b 9 (punctuation and case do
 *     not matter), "NVIDIA H100 80GB HBM3" 30 (the DCGM spelling of the GFD name);
 *   currency USD on every pool, priced or not.
 */
static void test_options(void)
{
    if (!combined_doc)
        return;
    const char *opts = "{\"models\":{\"nvidia.com/mig-1g.5gb\":\"A100-1g.5gb\","
                       "\"NVIDIA-A100-SXM4-80GB\":\"A100\",\"huawei-Ascend910\":\"Ascend910B\"},"
                       "\"price_per_card_hour\":{\"A100\":12.5,\"ascend910b\":9,"
                       "\"NVIDIA H100 80GB HBM3\":30},\"currency\":\"USD\","
                       "\"ignore_taints\":[\"dedicated\"]}";
    struct feed_snapshot snap;
    struct json_error err = {0};
    cJSON *o = cJSON_Parse(opts);
    int r = adapter_check_options(kube, o, "/options", &err);
    CHECK(r == 0, "the full options pass adapter_check_options (rc %d, %s: %s)", r, err.pointer,
          err.detail);
    cJSON_Delete(o);
    r = parse_opts(combined_doc, combined_len, opts, &snap, &err);
    CHECK(r == 0, "nodes + pods with options parse (rc %d, %s: %s)", r, err.pointer, err.detail);
    if (r != 0)
        return;
    const struct want w[] = {
        {"NVIDIA-RTX-4000-Ada-Generation", 1, 0, 0, -1},
        {"A100", 32, 10, 8, 12.5},
        {"NVIDIA-H100-80GB-HBM3", 8, 5, 5, 30},
        {"nvidia-tesla-a100", 2, 1, 1, -1},
        {"Ascend910B", 8, 2, 2, 9},
        {"NVIDIA-A100-SXM4-40GB", 2, 2, 2, -1},
        {"A100-1g.5gb", 14, 13, 13, -1},
        {"amd.com/gpu", 8, 4, 4, -1},
    };
    check_pools("options", &snap, w, N(w), "USD");
    feed_snapshot_free(&snap);

    /*
     * Mapping the resource nvidia.com/gpu itself folds every NVIDIA node into one pool:
     * total 1 + 32 + 8 (replicas still divide) + 2 + 2 = 45, free 0 + 2 + 5 + 1 + 2 = 10,
     * largest 5 (the H100 node).
     */
    r = parse_opts(combined_doc, combined_len, "{\"models\":{\"nvidia.com/gpu\":\"GPU\"}}", &snap,
                   &err);
    CHECK(r == 0, "nvidia.com/gpu mapped (rc %d, %s: %s)", r, err.pointer, err.detail);
    if (r == 0) {
        const struct want g[] = {
            {"GPU", 45, 10, 5, -1},
            {"huawei-Ascend910", 8, 2, 2, -1},
            {"amd.com/gpu", 8, 4, 4, -1},
        };
        check_pools("nvidia.com/gpu mapped", &snap, g, N(g), "CNY");
        feed_snapshot_free(&snap);
    }
}

/* ---- behaviour on small documents ---- */

#define READY "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]"

static void test_rules(void)
{
    struct feed_snapshot snap;
    struct json_error err;
    int r;

    /* MIG single strategy: nvidia.com/gpu counts 28 slices; not cards unless mapped. */
    const char *mig = "{\"kind\":\"Node\",\"metadata\":{\"name\":\"m\",\"labels\":{"
                      "\"nvidia.com/gpu.product\":\"NVIDIA-A100-SXM4-40GB-MIG-1g.5gb\","
                      "\"nvidia.com/mig.strategy\":\"single\"}},\"status\":{\"allocatable\":"
                      "{\"nvidia.com/gpu\":\"28\"}," READY "}}";
    r = parse_str(mig, NULL, &snap, &err);
    CHECK(r == 0 && snap.npools == 0, "MIG single slices are not cards (rc %d, %zu pools)", r,
          r == 0 ? snap.npools : 0);
    if (r == 0) {
        CHECK(strstr(snap.warning, "MIG") != NULL, "MIG single warns (%s)", snap.warning);
        feed_snapshot_free(&snap);
    }
    r = parse_str(mig, "{\"models\":{\"NVIDIA-A100-SXM4-40GB-MIG-1g.5gb\":\"A100-1g.5gb\"}}", &snap,
                  &err);
    const struct want migw[] = {{"A100-1g.5gb", 28, 28, 28, -1}};
    CHECK(r == 0, "MIG single mapped by its label parses (rc %d)", r);
    if (r == 0) {
        check_pools("MIG single mapped", &snap, migw, N(migw), "CNY");
        feed_snapshot_free(&snap);
    }

    /* -SHARED and replicas that do not divide: 6 replicas / 4 = 1 card, with a warning. */
    r = parse_str("{\"kind\":\"Node\",\"metadata\":{\"name\":\"s\",\"labels\":{"
                  "\"nvidia.com/gpu.product\":\"NVIDIA-L40S-SHARED\",\"nvidia.com/gpu.replicas\":"
                  "\"4\"}},\"status\":{\"allocatable\":{\"nvidia.com/gpu\":\"6\"}," READY "}}",
                  NULL, &snap, &err);
    const struct want sh[] = {{"NVIDIA-L40S", 1, 1, 1, -1}};
    CHECK(r == 0, "odd replicas parse (rc %d, %s: %s)", r, err.pointer, err.detail);
    if (r == 0) {
        check_pools("odd replicas", &snap, sh, N(sh), "CNY");
        CHECK(strstr(snap.warning, "replicas") != NULL, "odd replicas warn (%s)", snap.warning);
        feed_snapshot_free(&snap);
    }

    /* kubectl's List of Nodes; a taint PreferNoSchedule does not block; no Ready → not free. */
    r = parse_str(
        "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"metadata\":{\"resourceVersion\":\"\"},"
        "\"items\":[{\"kind\":\"Node\",\"metadata\":{\"name\":\"a\",\"labels\":{"
        "\"accelerator\":\"huawei-Ascend910\"}},\"spec\":{\"taints\":[{\"key\":\"x\","
        "\"effect\":\"PreferNoSchedule\"}]},\"status\":{\"allocatable\":{"
        "\"huawei.com/Ascend910\":\"8\"}," READY "}},"
        "{\"kind\":\"Node\",\"metadata\":{\"name\":\"b\",\"labels\":{\"accelerator\":"
        "\"huawei-Ascend910\"}},\"status\":{\"capacity\":{\"huawei.com/Ascend910\":"
        "\"8\"}}},"
        "{\"kind\":\"Node\",\"metadata\":{\"name\":\"c\"},\"status\":{\"allocatable\":{"
        "\"huawei.com/Ascend310P\":\"4\",\"huawei.com/Ascend910-2c\":\"3\"}," READY "}}]}",
        NULL, &snap, &err);
    /* a: 8 free; b: capacity only (no allocatable) counts 8, no Ready condition → 0 free;
     * c: Ascend310P by resource name; the vNPU slice Ascend910-2c is not a card. */
    const struct want lst[] = {{"huawei-Ascend910", 16, 8, 8, -1},
                               {"huawei.com/Ascend310P", 4, 4, 4, -1}};
    CHECK(r == 0, "kubectl List parses (rc %d, %s: %s)", r, err.pointer, err.detail);
    if (r == 0) {
        check_pools("kubectl List", &snap, lst, N(lst), "CNY");
        feed_snapshot_free(&snap);
    }

    /* A paged list is flagged; pods on a cordoned node change nothing. */
    r = parse_str(
        "{\"kind\":\"NodeList\",\"metadata\":{\"continue\":\"eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ\"},"
        "\"items\":[]}",
        NULL, &snap, &err);
    CHECK(r == 0 && snap.npools == 0 && strstr(snap.warning, "continue") != NULL,
          "a continued NodeList warns (rc %d, '%s')", r, r == 0 ? snap.warning : "");
    if (r == 0)
        feed_snapshot_free(&snap);

    /* Pods: requests over allocatable clamp free at 0; a quantity like "2000m" is 2. */
    r = parse_str("{\"nodes\":{\"kind\":\"Node\",\"metadata\":{\"name\":\"n\"},\"status\":{"
                  "\"allocatable\":{\"amd.com/gpu\":\"4\"}," READY "}},\"pods\":{\"items\":["
                  "{\"spec\":{\"nodeName\":\"n\",\"containers\":[{\"resources\":{\"requests\":{"
                  "\"amd.com/gpu\":\"2000m\"},\"limits\":{\"amd.com/gpu\":\"2\"}}}]}},"
                  "{\"spec\":{\"nodeName\":\"n\",\"containers\":[{\"resources\":{\"limits\":{"
                  "\"amd.com/gpu\":3}}}]},\"status\":{\"phase\":\"Running\"}}]}}",
                  NULL, &snap, &err);
    const struct want over[] = {{"amd.com/gpu", 4, 0, 0, -1}};
    CHECK(r == 0, "overcommitted node parses (rc %d, %s: %s)", r, err.pointer, err.detail);
    if (r == 0) {
        check_pools("overcommitted", &snap, over, N(over), "CNY");
        feed_snapshot_free(&snap);
    }

    /* The API server's Status body (403) is an error naming its reason. */
    r = parse_str("{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                  "\"Failure\",\"message\":\"nodes is forbidden: User \\\"system:anonymous\\\" "
                  "cannot list resource \\\"nodes\\\"\",\"reason\":\"Forbidden\",\"code\":403}",
                  NULL, &snap, &err);
    CHECK(r == -EINVAL && strcmp(err.pointer, "/kind") == 0 && strstr(err.detail, "Forbidden"),
          "a Status body is refused with its reason (rc %d, '%s', %s)", r, err.pointer, err.detail);
}

/* ---- quantities, through a mapped resource ---- */

struct qcase {
    const char *q; /* the quantity as JSON (a string with its quotes, or a number) */
    long want;     /* < 0: refused */
};

static const struct qcase qcases[] = {
    {"\"8\"", 8},
    {"\"+8\"", 8},
    {"\"0\"", 0},
    {"\"-0\"", 0},
    {"\"008\"", 8},
    {"\"8.0\"", 8},
    {"\"8.\"", 8},
    {"\"1e3\"", 1000},
    {"\"1E3\"", 1000},
    {"\"1e+3\"", 1000},
    {"\"1.5e1\"", 15},
    {"\"2k\"", 2000},
    {"\"1M\"", 1000000},
    {"\"10M\"", 10000000}, /* exactly ADAPTER_MAX_CARDS */
    {"\"2000m\"", 2},
    {"\"5000000u\"", 5},
    {"\"3000000000n\"", 3},
    {"\"1Ki\"", 1024},
    {"\"0.5Ki\"", 512},
    {"\"9Mi\"", 9437184},
    {"\"100000000000000000000e-20\"", 1},
    {"8", 8},
    {"0", 0},
    /* refused */
    {"\"\"", -1},
    {"\" 8\"", -1},
    {"\"8 \"", -1},
    {"\"1500m\"", -1},
    {"\".5\"", -1},
    {"\"15e-1\"", -1},
    {"\"0.3Ki\"", -1},
    {"\"11M\"", -1},
    {"\"10Mi\"", -1},
    {"\"1G\"", -1},
    {"\"1E\"", -1},
    {"\"1Ei\"", -1},
    {"\"1e99999999999\"", -1},
    {"\"1e-99999\"", -1},
    {"\"123456789012345678901234567890\"", -1},
    {"\"-1\"", -1},
    {"\"-1Ki\"", -1},
    {"\"0x10\"", -1},
    {"\"8Ki8\"", -1},
    {"\"1.2.3\"", -1},
    {"\"K\"", -1},
    {"\"8K\"", -1},
    {"\"8kb\"", -1},
    {"\"8 Ki\"", -1},
    {"\"NaN\"", -1},
    {"\"Inf\"", -1},
    {"\"1e\"", -1},
    {"\"e3\"", -1},
    {"\".\"", -1},
    {"\"+\"", -1},
    {"\"1e-3k\"", -1},
    {"\"00000000000000000000000000000000000000000000000000000000000000008\"", -1}, /* 65 bytes */
    {"8.5", -1},
    {"-1", -1},
    {"1e400", -1},
    {"true", -1},
    {"null", -1},
    {"[]", -1},
};

static void test_quantities(void)
{
    for (size_t i = 0; i < N(qcases); i++) {
        char doc[512];
        struct feed_snapshot snap;
        struct json_error err;
        snprintf(doc, sizeof(doc),
                 "{\"kind\":\"Node\",\"metadata\":{\"name\":\"q\"},\"status\":{\"allocatable\":{"
                 "\"example.com/fpga\":%s}," READY "}}",
                 qcases[i].q);
        int r = parse_str(doc, "{\"models\":{\"example.com/fpga\":\"FPGA\"}}", &snap, &err);
        if (qcases[i].want >= 0) {
            CHECK(r == 0 && snap.npools == 1 && snap.pools[0].total == qcases[i].want &&
                      snap.pools[0].free == qcases[i].want,
                  "quantity %s is %ld (rc %d, got %ld)", qcases[i].q, qcases[i].want, r,
                  r == 0 && snap.npools == 1 ? snap.pools[0].total : -1L);
        } else {
            CHECK(r == -EINVAL && strcmp(err.pointer, "/status/allocatable/example.com~1fpga") == 0,
                  "quantity %s refused at its pointer (rc %d, '%s': %s)", qcases[i].q, r,
                  err.pointer, err.detail);
        }
        if (r == 0)
            feed_snapshot_free(&snap);
    }
}

/* ---- bad documents ---- */

struct bad_case {
    const char *name;
    const char *doc;
    const char *want_ptr;
};

#define NODE_N                                                                                     \
    "{\"kind\":\"Node\",\"metadata\":{\"name\":\"n\"},\"status\":{\"allocatable\":{"               \
    "\"nvidia.com/gpu\":\"8\"}," READY "}}"
#define PODS(spec) "{\"nodes\":" NODE_N ",\"pods\":{\"items\":[{\"spec\":" spec "}]}}"
#define CTR(res) "{\"nodeName\":\"n\",\"containers\":[{\"resources\":" res "}]}"

static const struct bad_case bad_cases[] = {
    {"empty", "", ""},
    {"white space", "  \n", ""},
    {"malformed", "{\"items\":[", ""},
    {"array", "[]", ""},
    {"null", "null", ""},
    {"a string", "\"nodes\"", ""},
    {"HTML error page",
     "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad "
     "Gateway</h1></center><hr><center>nginx</center></body></html>",
     ""},
    {"trailing data", "{\"items\":[]} {}", ""},
    {"no items", "{}", "/items"},
    {"items an object", "{\"items\":{}}", "/items"},
    {"kind a PodList", "{\"kind\":\"PodList\",\"items\":[]}", "/kind"},
    {"kind a number", "{\"kind\":5,\"items\":[]}", "/kind"},
    {"item a number", "{\"items\":[5]}", "/items/0"},
    {"item a Pod", "{\"items\":[{\"kind\":\"Pod\"}]}", "/items/0/kind"},
    {"metadata an array", "{\"items\":[{\"metadata\":[]}]}", "/items/0/metadata"},
    {"name a number", "{\"items\":[{\"metadata\":{\"name\":7}}]}", "/items/0/metadata/name"},
    {"labels an array", "{\"items\":[{\"metadata\":{\"labels\":[]}}]}", "/items/0/metadata/labels"},
    {"product label a number",
     "{\"items\":[{\"metadata\":{\"labels\":{\"nvidia.com/gpu.product\":5}},\"status\":{"
     "\"allocatable\":{\"nvidia.com/gpu\":\"1\"}}}]}",
     "/items/0/metadata/labels/nvidia.com~1gpu.product"},
    {"replicas 0",
     "{\"items\":[{\"metadata\":{\"labels\":{\"nvidia.com/gpu.replicas\":\"0\"}},\"status\":{"
     "\"allocatable\":{\"nvidia.com/gpu\":\"1\"}}}]}",
     "/items/0/metadata/labels/nvidia.com~1gpu.replicas"},
    {"replicas not a number",
     "{\"items\":[{\"metadata\":{\"labels\":{\"nvidia.com/gpu.replicas\":\"two\"}},\"status\":{"
     "\"allocatable\":{\"nvidia.com/gpu\":\"1\"}}}]}",
     "/items/0/metadata/labels/nvidia.com~1gpu.replicas"},
    {"replicas absurd",
     "{\"items\":[{\"metadata\":{\"labels\":{\"nvidia.com/gpu.replicas\":\"99999999999999999999\"}"
     "},\"status\":{\"allocatable\":{\"nvidia.com/gpu\":\"1\"}}}]}",
     "/items/0/metadata/labels/nvidia.com~1gpu.replicas"},
    {"unschedulable a string", "{\"items\":[{\"spec\":{\"unschedulable\":\"yes\"}}]}",
     "/items/0/spec/unschedulable"},
    {"taints an object", "{\"items\":[{\"spec\":{\"taints\":{}}}]}", "/items/0/spec/taints"},
    {"taint a string", "{\"items\":[{\"spec\":{\"taints\":[\"x\"]}}]}", "/items/0/spec/taints/0"},
    {"taint key a number", "{\"items\":[{\"spec\":{\"taints\":[{\"key\":1}]}}]}",
     "/items/0/spec/taints/0/key"},
    {"conditions an object", "{\"items\":[{\"status\":{\"conditions\":{}}}]}",
     "/items/0/status/conditions"},
    {"condition status a bool",
     "{\"items\":[{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":true}]}}]}",
     "/items/0/status/conditions/0/status"},
    {"status an array", "{\"items\":[{\"status\":[]}]}", "/items/0/status"},
    {"allocatable an array", "{\"items\":[{\"status\":{\"allocatable\":[]}}]}",
     "/items/0/status/allocatable"},
    {"gpu negative", "{\"items\":[{\"status\":{\"allocatable\":{\"nvidia.com/gpu\":\"-1\"}}}]}",
     "/items/0/status/allocatable/nvidia.com~1gpu"},
    {"gpu fraction", "{\"items\":[{\"status\":{\"allocatable\":{\"nvidia.com/gpu\":\"1.5\"}}}]}",
     "/items/0/status/allocatable/nvidia.com~1gpu"},
    {"gpu garbage", "{\"items\":[{\"status\":{\"allocatable\":{\"nvidia.com/gpu\":\"lots\"}}}]}",
     "/items/0/status/allocatable/nvidia.com~1gpu"},
    {"gpu absurd",
     "{\"items\":[{\"status\":{\"allocatable\":{\"nvidia.com/gpu\":\"99999999999\"}}}]}",
     "/items/0/status/allocatable/nvidia.com~1gpu"},
    {"gpu a bool", "{\"items\":[{\"status\":{\"allocatable\":{\"nvidia.com/gpu\":true}}}]}",
     "/items/0/status/allocatable/nvidia.com~1gpu"},
    {"ascend garbage",
     "{\"items\":[{\"status\":{\"allocatable\":{\"huawei.com/Ascend910\":\"8x\"}}}]}",
     "/items/0/status/allocatable/huawei.com~1Ascend910"},
    {"Ascend resource name too long to be a model",
     "{\"items\":[{\"status\":{\"allocatable\":{\"huawei.com/"
     "Ascend0123456789012345678901234567890123456789012345678\":\"1\"}}}]}",
     "/items/0/status/allocatable/"
     "huawei.com~1Ascend0123456789012345678901234567890123456789012345678"},
    {"allocatable above capacity",
     "{\"items\":[{\"status\":{\"allocatable\":{\"nvidia.com/gpu\":\"9\"},\"capacity\":{"
     "\"nvidia.com/gpu\":\"8\"}}}]}",
     "/items/0/status/allocatable/nvidia.com~1gpu"},
    {"capacity garbage",
     "{\"items\":[{\"status\":{\"allocatable\":{\"nvidia.com/gpu\":\"8\"},\"capacity\":{"
     "\"nvidia.com/gpu\":\"eight\"}}}]}",
     "/items/0/status/capacity/nvidia.com~1gpu"},
    {"resource twice",
     "{\"items\":[{\"status\":{\"allocatable\":{\"nvidia.com/gpu\":\"8\",\"nvidia.com/gpu\":"
     "\"8\"}}}]}",
     "/items/0/status/allocatable/nvidia.com~1gpu"},
    {"node twice",
     "{\"items\":[{\"metadata\":{\"name\":\"a\"}},{\"metadata\":{\"name\":\"b\"}},"
     "{\"metadata\":{\"name\":\"a\"}}]}",
     "/items/2/metadata/name"},
    {"continue a number", "{\"metadata\":{\"continue\":5},\"items\":[]}", "/metadata/continue"},
    /* the combined document */
    {"nodes a number", "{\"nodes\":5}", "/nodes"},
    {"nodes a Status", "{\"nodes\":{\"kind\":\"Status\",\"items\":[]}}", "/nodes/kind"},
    {"nodes without items", "{\"nodes\":{\"kind\":\"NodeList\"}}", "/nodes/items"},
    {"nodes item bad", "{\"nodes\":{\"items\":[{\"spec\":5}]}}", "/nodes/items/0/spec"},
    {"pods a number", "{\"nodes\":{\"items\":[]},\"pods\":5}", "/pods"},
    {"pods a NodeList", "{\"nodes\":{\"items\":[]},\"pods\":{\"kind\":\"NodeList\",\"items\":[]}}",
     "/pods/kind"},
    {"pods without items", "{\"nodes\":{\"items\":[]},\"pods\":{}}", "/pods/items"},
    {"pod a string", "{\"nodes\":{\"items\":[]},\"pods\":{\"items\":[\"p\"]}}", "/pods/items/0"},
    {"pod a Node", "{\"nodes\":{\"items\":[]},\"pods\":{\"items\":[{\"kind\":\"Node\"}]}}",
     "/pods/items/0/kind"},
    {"nodeName a number", PODS("{\"nodeName\":5}"), "/pods/items/0/spec/nodeName"},
    {"phase a number", "{\"nodes\":" NODE_N ",\"pods\":{\"items\":[{\"status\":{\"phase\":1}}]}}",
     "/pods/items/0/status/phase"},
    {"containers an object", PODS("{\"nodeName\":\"n\",\"containers\":{}}"),
     "/pods/items/0/spec/containers"},
    {"container a string", PODS("{\"nodeName\":\"n\",\"containers\":[\"c\"]}"),
     "/pods/items/0/spec/containers/0"},
    {"requests an array", PODS(CTR("{\"requests\":[]}")),
     "/pods/items/0/spec/containers/0/resources/requests"},
    {"request garbage", PODS(CTR("{\"requests\":{\"nvidia.com/gpu\":\"x\"}}")),
     "/pods/items/0/spec/containers/0/resources/requests/nvidia.com~1gpu"},
    {"request a fraction", PODS(CTR("{\"requests\":{\"nvidia.com/gpu\":\"500m\"}}")),
     "/pods/items/0/spec/containers/0/resources/requests/nvidia.com~1gpu"},
    {"limit negative", PODS(CTR("{\"limits\":{\"nvidia.com/gpu\":\"-2\"}}")),
     "/pods/items/0/spec/containers/0/resources/limits/nvidia.com~1gpu"},
    {"request and limit differ",
     PODS(CTR("{\"requests\":{\"nvidia.com/gpu\":\"1\"},\"limits\":{\"nvidia.com/gpu\":\"2\"}}")),
     "/pods/items/0/spec/containers/0/resources/requests/nvidia.com~1gpu"},
    {"init container bad",
     PODS("{\"nodeName\":\"n\",\"initContainers\":[{\"resources\":{\"limits\":{"
          "\"nvidia.com/gpu\":\"many\"}}}]}"),
     "/pods/items/0/spec/initContainers/0/resources/limits/nvidia.com~1gpu"},
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

static void test_bad(void)
{
    for (size_t i = 0; i < N(bad_cases); i++)
        check_bad(bad_cases[i].name, bad_cases[i].doc, strlen(bad_cases[i].doc), NULL,
                  bad_cases[i].want_ptr);
    /* Bad options reaching parse are refused before the document is read. */
    check_bad("parse with a bad currency option", NODE_N, strlen(NODE_N), "{\"currency\":\"usd\"}",
              "");
    check_bad("parse with a numeric model", NODE_N, strlen(NODE_N),
              "{\"models\":{\"nvidia.com/gpu\":5}}", "");
    check_bad("parse with options an array", NODE_N, strlen(NODE_N), "[]", "");
}

/* Every prefix of a document returns cleanly: ok or -EINVAL, never a crash or a half result. */
static void truncations(const char *what, const char *doc, size_t len, const char *options,
                        size_t step)
{
    size_t ok = 0, bad = 0, other = 0;
    for (size_t n = 0; n < len; n += (n + 512 >= len ? 1 : step)) {
        struct feed_snapshot snap;
        struct json_error err;
        int r = parse_opts(doc, n, options, &snap, &err);
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
    char *doc = read_data("core.v1.Node.k8s-api-roundtrip-testdata.json", &len);
    if (doc)
        truncations("round-trip Node, every prefix", doc, len,
                    "{\"models\":{\"allocatableKey\":\"X\"}}", 1);
    free(doc);
    if (combined_doc)
        truncations("nodes + pods, every 61st prefix and the last 512", combined_doc, combined_len,
                    NULL, 61);
}

static void test_limits(void)
{
    /* KUBE_MAX_NODES (50000) nodes parse; one more is refused at /items. */
    const size_t max = 50000;
    size_t cap = 32 + (max + 1) * 3;
    char *doc = malloc(cap);
    size_t off = (size_t)snprintf(doc, cap, "{\"items\":[");
    for (size_t i = 0; i < max; i++)
        off += (size_t)snprintf(doc + off, cap - off, "%s{}", i ? "," : "");
    size_t open_end = off;
    off += (size_t)snprintf(doc + off, cap - off, "]}");
    struct feed_snapshot snap;
    struct json_error err;
    int r = parse_opts(doc, off, NULL, &snap, &err);
    CHECK(r == 0 && snap.npools == 0, "50000 empty nodes parse (rc %d, %s)", r, err.pointer);
    if (r == 0)
        feed_snapshot_free(&snap);
    off = open_end + (size_t)snprintf(doc + open_end, cap - open_end, ",{}]}");
    check_bad("50001 nodes", doc, off, NULL, "/items");
    free(doc);

    /* 1025 models on 1025 nodes: more pools than ADAPTER_MAX_POOLS. */
    cap = 64 + 1025 * 160;
    doc = malloc(cap);
    off = (size_t)snprintf(doc, cap, "{\"items\":[");
    for (int i = 0; i < 1025; i++)
        off += (size_t)snprintf(doc + off, cap - off,
                                "%s{\"metadata\":{\"labels\":{\"accelerator\":\"M%d\"}},\"status\":"
                                "{\"allocatable\":{\"amd.com/gpu\":\"1\"}}}",
                                i ? "," : "", i);
    off += (size_t)snprintf(doc + off, cap - off, "]}");
    check_bad("1025 models", doc, off, NULL, "");
    /* 1024 is the limit, and fits. */
    char *last = strstr(doc, ",{\"metadata\":{\"labels\":{\"accelerator\":\"M1024\"");
    if (last) {
        size_t n = (size_t)(last - doc);
        memcpy(doc + n, "]}", 2);
        r = parse_opts(doc, n + 2, NULL, &snap, &err);
        CHECK(r == 0 && snap.npools == ADAPTER_MAX_POOLS, "1024 models parse (rc %d, %zu pools)", r,
              r == 0 ? snap.npools : 0);
        if (r == 0)
            feed_snapshot_free(&snap);
    }
    free(doc);

    /* 10 MB of garbage: pseudo-random bytes, deep nesting, an unterminated items array. */
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
    memset(junk, '[', big);
    check_bad("10 MB of '['", junk, big, NULL, "");
    memset(junk, ' ', big);
    memcpy(junk, "{\"items\":[", 10);
    check_bad("10 MB unterminated items", junk, big, NULL, "");
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
    {"null", "null", NULL},
    {"all",
     "{\"models\":{\"nvidia.com/gpu\":\"A100\"},\"price_per_card_hour\":{\"A100\":0},"
     "\"currency\":\"EUR\",\"ignore_taints\":[\"dedicated\",\"example.com/maintenance\"]}",
     NULL},
    {"not an object", "[]", "/options"},
    {"unknown option", "{\"colour\":\"red\"}", "/options/colour"},
    {"models an array", "{\"models\":[]}", "/options/models"},
    {"model a number", "{\"models\":{\"nvidia.com/gpu\":5}}", "/options/models/nvidia.com~1gpu"},
    {"model empty", "{\"models\":{\"nvidia.com/gpu\":\"\"}}", "/options/models/nvidia.com~1gpu"},
    {"model too long",
     "{\"models\":{\"g\":\"0123456789012345678901234567890123456789012345678901234567890123\"}}",
     "/options/models/g"},
    {"model with a control character", "{\"models\":{\"g\":\"A\\u0001\"}}", "/options/models/g"},
    {"empty model key", "{\"models\":{\"\":\"A100\"}}", "/options/models/"},
    {"prices a number", "{\"price_per_card_hour\":5}", "/options/price_per_card_hour"},
    {"price negative", "{\"price_per_card_hour\":{\"A100\":-1}}",
     "/options/price_per_card_hour/A100"},
    {"price a string", "{\"price_per_card_hour\":{\"A100\":\"12\"}}",
     "/options/price_per_card_hour/A100"},
    {"price absurd", "{\"price_per_card_hour\":{\"A100\":1e9}}",
     "/options/price_per_card_hour/A100"},
    {"currency lower case", "{\"currency\":\"usd\"}", "/options/currency"},
    {"currency a number", "{\"currency\":840}", "/options/currency"},
    {"currency too long", "{\"currency\":\"USDT\"}", "/options/currency"},
    {"ignore_taints a string", "{\"ignore_taints\":\"dedicated\"}", "/options/ignore_taints"},
    {"ignore_taints entry a number", "{\"ignore_taints\":[\"a\",5]}", "/options/ignore_taints/1"},
    {"ignore_taints entry empty", "{\"ignore_taints\":[\"\"]}", "/options/ignore_taints/0"},
};

static void test_check_options(void)
{
    for (size_t i = 0; i < N(opt_cases); i++) {
        cJSON *o = cJSON_Parse(opt_cases[i].options);
        struct json_error err = {0};
        int r = adapter_check_options(kube, o, "/options", &err);
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
    /* 65 taint keys are too many. */
    char buf[1024];
    size_t off = (size_t)snprintf(buf, sizeof(buf), "{\"ignore_taints\":[");
    for (int i = 0; i < 65; i++)
        off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s\"k%d\"", i ? "," : "", i);
    snprintf(buf + off, sizeof(buf) - off, "]}");
    cJSON *o = cJSON_Parse(buf);
    struct json_error err = {0};
    CHECK(adapter_check_options(kube, o, "/options", &err) == -EINVAL &&
              strcmp(err.pointer, "/options/ignore_taints") == 0,
          "65 ignore_taints refused ('%s')", err.pointer);
    cJSON_Delete(o);
}

int main(void)
{
    test_table();
    test_roundtrip_node();
    test_gfd_patterns();
    test_real_labels();
    load_cluster();
    test_nodes_only();
    test_nodes_and_pods();
    test_options();
    test_rules();
    test_quantities();
    test_bad();
    test_truncated();
    test_limits();
    test_check_options();
    free(nodes_doc);
    free(pods_doc);
    free(combined_doc);
    return check_done();
}
