/*
 * test-adapter-slurm — the slurm adapter (SPEC §5, feed-formats §1) on every
 * slurmrestd document in tests/data/slurm (expected pools counted by hand from
 * the documents), the GRES grammar and node states one node at a time, the
 * options (alias table, untyped model, prices, partitions), errors[] handling,
 * and hostile input: bad types, absurd numbers, every prefix of a capture, HTML
 * and text error bodies, 10 MB of garbage, and bad options.
 */
#include <dirent.h>
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

/* The path of tests/data/slurm/<name> (malloc'ed), for listing the directory. */
static char *data_path(const char *name)
{
    const char *dir = getenv("SUANWANG_TEST_DATA");
    if (!dir || !dir[0])
        dir = "../tests/data";
    size_t n = strlen(dir) + strlen(name) + 16;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/slurm/%s", dir, name);
    return p;
}

/* The whole fixture tests/data/slurm/<name>, or NULL; *ret_len its size. */
static char *load(const char *name, size_t *ret_len)
{
    char rel[512];
    snprintf(rel, sizeof(rel), "slurm/%s", name);
    return check_read_data(rel, ret_len);
}

/*
 * Parses from an exact-size heap copy without a terminator, as a fetched body
 * arrives; options is JSON text or NULL.
 */
static int parse(const char *text, size_t len, const char *options, struct feed_snapshot *snap,
                 struct json_error *err)
{
    cJSON *opts = options ? cJSON_Parse(options) : NULL;
    if (options && !opts) {
        fprintf(stderr, "# test bug: bad options JSON %s\n", options);
        abort();
    }
    char *body = malloc(len ? len : 1);
    if (!body)
        abort();
    memcpy(body, text, len);
    memset(err, 0, sizeof(*err));
    snprintf(err->pointer, sizeof(err->pointer), "UNSET");
    memset(snap, 0xA5, sizeof(*snap)); /* must be overwritten */
    int r = adapter_slurm.parse(body, len, opts, snap, err);
    free(body);
    cJSON_Delete(opts);
    return r;
}

static int parse_str(const char *text, const char *options, struct feed_snapshot *snap,
                     struct json_error *err)
{
    return parse(text, strlen(text), options, snap, err);
}

static const struct pool_snapshot *find_pool(const struct feed_snapshot *s, const char *model)
{
    for (size_t i = 0; i < s->npools; i++) {
        if (strcmp(s->pools[i].model, model) == 0)
            return &s->pools[i];
    }
    return NULL;
}

struct want_pool {
    const char *model;
    long total, free, largest_block;
    double price; /* < 0: no price */
    const char *currency;
};

/* Checks one pool against what the document says, and every field it does not state. */
static void check_pool(const struct feed_snapshot *s, const struct want_pool *w, const char *what)
{
    const struct pool_snapshot *p = find_pool(s, w->model);
    CHECK(p != NULL, "%s: pool '%s' is reported", what, w->model);
    if (!p)
        return;
    char name[160];
    snprintf(name, sizeof(name), "%s %s total", what, w->model);
    CHECK_EQ_LONG(p->total, w->total, name);
    snprintf(name, sizeof(name), "%s %s free", what, w->model);
    CHECK_EQ_LONG(p->free, w->free, name);
    snprintf(name, sizeof(name), "%s %s largest_block", what, w->model);
    CHECK_EQ_LONG(p->largest_block, w->largest_block, name);
    snprintf(name, sizeof(name), "%s %s currency", what, w->model);
    CHECK_STR(str(p->currency), w->currency ? w->currency : "CNY", name);
    bool stated = p->has_counts && p->spot_price < 0 && p->vendor[0] == '\0' && p->memory_gib < 0 &&
                  p->domestic == -1;
    for (int k = 0; k < PREC_COUNT; k++)
        stated = stated && p->tflops[k] < 0;
    CHECK(stated, "%s %s: counts known; spot, vendor, memory, domestic, tflops not stated", what,
          w->model);
    if (w->price < 0) {
        CHECK(!p->has_price, "%s %s has no price", what, w->model);
    } else {
        CHECK(p->has_price, "%s %s has a price", what, w->model);
        snprintf(name, sizeof(name), "%s %s price", what, w->model);
        CHECK_NEAR(p->price, w->price, 0, name);
    }
}

/*
 * Every document in tests/data/slurm with what it must give. Counts by hand:
 * total = configured GPUs (gres) of every node; free = configured - used
 * (gres_used) on IDLE / MIXED nodes without a blocking flag; largest_block =
 * the most free on one node. observed_at = last_update seconds * 1000.
 */
struct fixture_case {
    const char *file;
    const char *options; /* JSON or NULL */
    int rc;
    const char *pointer;    /* on error */
    const char *detail_has; /* on error, a substring of the detail */
    int64_t observed_ms;
    size_t npools;
    struct want_pool pools[3];
};

static const struct fixture_case fixtures[] = {
    /* Live 22.05.8: a100-01, a100-02 idle gpu:a100:8 used gpu:a100:0(IDX:N/A); h100-01 idle
     * gpu:h100:8 used 0. a100 16 total, 8 + 8 free, 8 on one node; h100 8/8/8. No last_update. */
    {"nodes-idle.json",
     NULL,
     0,
     NULL,
     NULL,
     0,
     2,
     {{"a100", 16, 16, 8, -1, NULL}, {"h100", 8, 8, 8, -1, NULL}}},
    /* a100-01 mixed, used gpu:a100:2(IDX:0-1): 6 free; a100-02 idle, 8 free; h100-01 allocated
     * (gpu:h100:8(IDX:0-7) used): 0 free. */
    {"nodes-busy.json",
     NULL,
     0,
     NULL,
     NULL,
     0,
     2,
     {{"a100", 16, 14, 8, -1, NULL}, {"h100", 8, 0, 0, -1, NULL}}},
    /* As busy, but a100-02 is idle + state_flags ["DRAIN"]: its 8 count in total, not free. */
    {"nodes-busy-drain.json",
     NULL,
     0,
     NULL,
     NULL,
     0,
     2,
     {{"a100", 16, 6, 6, -1, NULL}, {"h100", 8, 0, 0, -1, NULL}}},
    /* The same capture through a site alias table and prices: "A100" keyed by the reported
     * model, "h100" by the gres type; the alias table is case-insensitive. */
    {"nodes-busy-drain.json",
     "{\"models\":{\"A100\":\"A100-SXM4-80GB\",\"h100\":\"H100\"},"
     "\"price_per_card_hour\":{\"a100-sxm4-80gb\":12.5,\"h100\":30},\"currency\":\"USD\"}",
     0,
     NULL,
     NULL,
     0,
     2,
     {{"A100-SXM4-80GB", 16, 6, 6, 12.5, "USD"}, {"H100", 8, 0, 0, 30, "USD"}}},
    /* Every node is in partition "gpu"; none in "debug". */
    {"nodes-busy-drain.json",
     "{\"partitions\":[\"gpu\"]}",
     0,
     NULL,
     NULL,
     0,
     2,
     {{"a100", 16, 6, 6, -1, NULL}, {"h100", 8, 0, 0, -1, NULL}}},
    {"nodes-busy-drain.json", "{\"partitions\":[\"debug\"]}", 0, NULL, NULL, 0, 0, {{0}}},
    /* HTTP 500 of a bad token: errors[0] {"error":"Unspecified error","errno":-1}, nodes []. */
    {"nodes-bad-token.json",
     NULL,
     -EINVAL,
     "/errors/0",
     "Unspecified error (error -1)",
     0,
     0,
     {{0}}},
    /* 22.05.9, three CPU-only nodes (gres ""): no pools, and that is a success. */
    {"v0.0.38-nodes.telegraf-22.05.9.json", NULL, 0, NULL, NULL, 0, 0, {{0}}},
    /* meta {}, errors [], nodes []. */
    {"v0.0.38-nodes-empty.telegraf.json", NULL, 0, NULL, NULL, 0, 0, {{0}}},
    /* 23.11: cn1..cn4 gres "" (used "gpu:0"); ia1, ia2 IDLE gpu:h100:2,gpu:h200:4 with nothing
     * used. h100 2 + 2, 2 on one node; h200 4 + 4. last_update 1746621162. */
    {"v0.0.40-nodes.slurmweb-23.11.json",
     NULL,
     0,
     NULL,
     NULL,
     INT64_C(1746621162000),
     2,
     {{"h100", 4, 4, 2, -1, NULL}, {"h200", 8, 8, 4, -1, NULL}}},
    /* Only ia1 and ia2 are in partition "ia"; cn1..cn4 ("standard") have no GPUs. */
    {"v0.0.40-nodes.slurmweb-23.11.json",
     "{\"partitions\":[\"ia\"]}",
     0,
     NULL,
     NULL,
     INT64_C(1746621162000),
     2,
     {{"h100", 4, 4, 2, -1, NULL}, {"h200", 8, 8, 4, -1, NULL}}},
    {"v0.0.40-nodes.slurmweb-23.11.json",
     "{\"partitions\":[\"standard\"]}",
     0,
     NULL,
     NULL,
     INT64_C(1746621162000),
     0,
     {{0}}},
    /* ia1 ALLOCATED (1 of 2 h100 used, no h200): an allocated node has no free GPUs. */
    {"v0.0.40-node-gpus-multitype.slurmweb-23.11.json",
     NULL,
     0,
     NULL,
     NULL,
     INT64_C(1746619981000),
     2,
     {{"h100", 2, 0, 0, -1, NULL}, {"h200", 4, 0, 0, -1, NULL}}},
    /* 25.11 v0.0.41: gpu1 MIXED gpu:h100:4, used gpu:h100:1(IDX:0): 3 free. */
    {"v0.0.41-node-gpu-h100-mixed.slurmweb-25.11.json",
     NULL,
     0,
     NULL,
     NULL,
     INT64_C(1763377245000),
     1,
     {{"h100", 4, 3, 3, -1, NULL}}},
    /* 25.11 v0.0.44: cn1..cn4 no GPUs; gpu1, gpu2 IDLE gpu:h100:4 unused; gpu3, gpu4 IDLE
     * untyped gpu:4 unused, reported as "gpu" (never routed: no catalog row). */
    {"v0.0.44-nodes.slurmweb-25.11.json",
     NULL,
     0,
     NULL,
     NULL,
     INT64_C(1763321770000),
     2,
     {{"h100", 8, 8, 4, -1, NULL}, {"gpu", 8, 8, 4, -1, NULL}}},
    /* The operator says the untyped ones are A100s and prices the H100s. */
    {"v0.0.44-nodes.slurmweb-25.11.json",
     "{\"untyped_model\":\"A100\",\"price_per_card_hour\":{\"H100\":20.5}}",
     0,
     NULL,
     NULL,
     INT64_C(1763321770000),
     2,
     {{"h100", 8, 8, 4, 20.5, NULL}, {"A100", 8, 8, 4, -1, NULL}}},
    /* The alias table applies to untyped GPUs too ("gpu"), and may merge two names. */
    {"v0.0.44-nodes.slurmweb-25.11.json",
     "{\"models\":{\"gpu\":\"H100\",\"h100\":\"H100\"}}",
     0,
     NULL,
     NULL,
     INT64_C(1763321770000),
     1,
     {{"H100", 16, 16, 4, -1, NULL}}},
    /* gpu1 ALLOCATED, gpu:h100:4 all used (IDX:0-3). */
    {"v0.0.44-node-gpu-h100-allocated.slurmweb-25.11.json",
     NULL,
     0,
     NULL,
     NULL,
     INT64_C(1762942454000),
     1,
     {{"h100", 4, 0, 0, -1, NULL}}},
    /* Documents of another kind are refused at /nodes. */
    {"partitions.json", NULL, -EINVAL, "/nodes", "partitions document", 0, 0, {{0}}},
    {"v0.0.38-partitions.telegraf-22.05.9.json",
     NULL,
     -EINVAL,
     "/nodes",
     "partitions document",
     0,
     0,
     {{0}}},
    {"v0.0.40-partitions.slurmweb-23.11.json",
     NULL,
     -EINVAL,
     "/nodes",
     "partitions document",
     0,
     0,
     {{0}}},
    {"v0.0.44-partitions.slurmweb-25.11.json",
     NULL,
     -EINVAL,
     "/nodes",
     "partitions document",
     0,
     0,
     {{0}}},
    {"jobs-busy.json", NULL, -EINVAL, "/nodes", "not a slurmrestd", 0, 0, {{0}}},
    {"job-submit-response.json", NULL, -EINVAL, "/nodes", "not a slurmrestd", 0, 0, {{0}}},
};

static void test_fixture(const struct fixture_case *c)
{
    struct feed_snapshot snap;
    struct json_error err;
    size_t len = 0;
    char what[160];
    char *text = load(c->file, &len);

    snprintf(what, sizeof(what), "%s%s%s", c->file, c->options ? " with " : "",
             c->options ? c->options : "");
    CHECK(text != NULL, "%s: fixture readable (set SUANWANG_TEST_DATA)", c->file);
    if (!text)
        return;
    int r = parse(text, len, c->options, &snap, &err);
    free(text);
    CHECK(r == c->rc, "%s: rc %d, want %d (pointer '%s', %s)", what, r, c->rc, err.pointer,
          err.detail);
    if (c->rc < 0) {
        CHECK_STR(str(err.pointer), c->pointer, what);
        CHECK(strstr(err.detail, c->detail_has) != NULL, "%s: detail '%s' has '%s'", what,
              err.detail, c->detail_has);
        CHECK(snap.pools == NULL && snap.npools == 0, "%s: nothing returned on error", what);
        if (r == 0)
            feed_snapshot_free(&snap);
        return;
    }
    if (r != 0)
        return;
    CHECK_EQ_LONG(snap.npools, c->npools, what);
    CHECK(snap.observed_at_ms == c->observed_ms, "%s: observed_at %lld ms, want %lld", what,
          (long long)snap.observed_at_ms, (long long)c->observed_ms);
    CHECK_STR(str(snap.center), "", "center not stated by slurmrestd");
    CHECK_STR(str(snap.warning), "", "no warning without errors[]");
    CHECK(snap.next_url == NULL, "%s: not paged", what);
    for (size_t i = 0; i < c->npools; i++)
        check_pool(&snap, &c->pools[i], what);
    feed_snapshot_free(&snap);
}

/* Every .json file in tests/data/slurm is in the table above. */
static void test_every_fixture_listed(void)
{
    char *dirpath = data_path("");
    DIR *d = dirpath ? opendir(dirpath) : NULL;
    size_t seen = 0;
    CHECK(d != NULL, "tests/data/slurm opens");
    while (d) {
        struct dirent *e = readdir(d);
        if (!e)
            break;
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        seen++;
        bool listed = false;
        for (size_t i = 0; i < N(fixtures); i++)
            listed = listed || strcmp(fixtures[i].file, e->d_name) == 0;
        CHECK(listed, "fixture %s has expected values", e->d_name);
    }
    if (d)
        closedir(d);
    free(dirpath);
    CHECK_EQ_LONG(seen, 17, "17 slurmrestd documents in tests/data/slurm");
}

static void test_adapter_table(void)
{
    CHECK(adapter_find("slurm") == &adapter_slurm, "adapter_find(\"slurm\") is adapter_slurm");
    CHECK_STR(adapter_slurm.name, "slurm", "adapter name");
    CHECK(adapter_slurm.pull && adapter_slurm.push, "slurm is pulled, and may be pushed");
    CHECK(adapter_slurm.parse && adapter_slurm.check_options, "slurm has parse and check_options");
    static const char *const names[] = {"models", "untyped_model", "price_per_card_hour",
                                        "currency", "partitions"};
    static const char *const types[] = {"object", "string", "object", "string", "array"};
    size_t n = 0;
    while (adapter_slurm.options[n].name)
        n++;
    CHECK_EQ_LONG(n, N(names), "slurm option count");
    for (size_t i = 0; i < N(names) && i < n; i++) {
        CHECK_STR(adapter_slurm.options[i].name, names[i], "option name");
        CHECK_STR(adapter_slurm.options[i].type, types[i], "option type");
        CHECK(!adapter_slurm.options[i].required && adapter_slurm.options[i].description,
              "option %s optional and described", names[i]);
    }
}

/*
 * One node, one document: the GRES grammar and the state rules. state is JSON
 * (an array makes a data_parser v0.0.41 document, a string a v0.0.38 one with
 * flags); gres and used are JSON values or NULL for an absent member.
 */
struct node_case {
    const char *state;
    const char *flags; /* v0.0.38 state_flags JSON, or NULL */
    const char *gres;
    const char *used;
    const char *options;
    size_t npools;
    struct want_pool pools[2];
};

static const struct node_case node_cases[] = {
    /* GRES grammar, on an IDLE node. */
    {"[\"IDLE\"]",
     NULL,
     "\"gpu:h100:4\"",
     "\"gpu:h100:0(IDX:N/A)\"",
     NULL,
     1,
     {{"h100", 4, 4, 4, -1, NULL}}},
    {"[\"MIXED\"]",
     NULL,
     "\"gpu:h100:4(S:0-1)\"",
     "\"gpu:h100:1(IDX:0)\"",
     NULL,
     1,
     {{"h100", 4, 3, 3, -1, NULL}}},
    /* Commas inside the parenthesis are not entry separators. */
    {"[\"MIXED\"]",
     NULL,
     "\"gpu:h100:4(S:0,2)\"",
     "\"gpu:h100:2(IDX:0,2)\"",
     NULL,
     1,
     {{"h100", 4, 2, 2, -1, NULL}}},
    {"[\"MIXED\"]",
     NULL,
     "\"gpu:h100:2,gpu:h200:4\"",
     "\"gpu:h100:1(IDX:0),gpu:h200:0(IDX:N/A)\"",
     NULL,
     2,
     {{"h100", 2, 1, 1, -1, NULL}, {"h200", 4, 4, 4, -1, NULL}}},
    {"[\"IDLE\"]", NULL, "\"gpu:4\"", "\"gpu:0\"", NULL, 1, {{"gpu", 4, 4, 4, -1, NULL}}},
    {"[\"MIXED\"]", NULL, "\"gpu:4\"", "\"gpu:3(IDX:0-2)\"", NULL, 1, {{"gpu", 4, 1, 1, -1, NULL}}},
    {"[\"IDLE\"]",
     NULL,
     "\"gpu:a100:8,fpga:2\"",
     "\"gpu:0,fpga:0\"",
     NULL,
     1,
     {{"a100", 8, 8, 8, -1, NULL}}},
    /* Other GRES are ignored, whatever their syntax. */
    {"[\"IDLE\"]",
     NULL,
     "\"mps:400,gpu:a100:2(S:0),nic:mlx5:1,bandwidth:lustre:4G\"",
     "\"mps:100(IDX:0)\"",
     NULL,
     1,
     {{"a100", 2, 2, 2, -1, NULL}}},
    {"[\"IDLE\"]", NULL, "\"\"", "\"\"", NULL, 0, {{0}}},
    {"[\"IDLE\"]", NULL, "\"(null)\"", "\"N/A\"", NULL, 0, {{0}}},
    {"[\"IDLE\"]", NULL, NULL, NULL, NULL, 0, {{0}}},
    {"[\"IDLE\"]", NULL, "null", "null", NULL, 0, {{0}}},
    /* gres_used null or "" is nothing in use; absent is unknown: nothing counts as free. */
    {"[\"IDLE\"]", NULL, "\"gpu:a100:8\"", "null", NULL, 1, {{"a100", 8, 8, 8, -1, NULL}}},
    {"[\"IDLE\"]", NULL, "\"gpu:a100:8\"", "\"\"", NULL, 1, {{"a100", 8, 8, 8, -1, NULL}}},
    {"[\"IDLE\"]", NULL, "\"gpu:a100:8\"", NULL, NULL, 1, {{"a100", 8, 0, 0, -1, NULL}}},
    /* slurm.conf forms: no_consume, a missing count (1). */
    {"[\"IDLE\"]",
     NULL,
     "\"gpu:a100:no_consume:4\"",
     "\"\"",
     NULL,
     1,
     {{"a100", 4, 4, 4, -1, NULL}}},
    {"[\"IDLE\"]", NULL, "\"gpu:h100\"", "\"\"", NULL, 1, {{"h100", 1, 1, 1, -1, NULL}}},
    {"[\"IDLE\"]", NULL, "\"gpu\"", "\"\"", NULL, 1, {{"gpu", 1, 1, 1, -1, NULL}}},
    /* NVML autodetected type names. */
    {"[\"IDLE\"]",
     NULL,
     "\"gpu:nvidia_h100_80gb_hbm3:8(S:0-1)\"",
     "\"\"",
     NULL,
     1,
     {{"nvidia_h100_80gb_hbm3", 8, 8, 8, -1, NULL}}},
    /* Used beyond configured clamps at 0; a used type not configured is ignored; an untyped
     * use spills over typed ones; the same type twice adds up. */
    {"[\"MIXED\"]",
     NULL,
     "\"gpu:a100:2\"",
     "\"gpu:a100:5(IDX:0-4)\"",
     NULL,
     1,
     {{"a100", 2, 0, 0, -1, NULL}}},
    {"[\"MIXED\"]",
     NULL,
     "\"gpu:a100:4\"",
     "\"gpu:h100:2(IDX:0-1)\"",
     NULL,
     1,
     {{"a100", 4, 4, 4, -1, NULL}}},
    {"[\"MIXED\"]",
     NULL,
     "\"gpu:a100:2,gpu:h100:4\"",
     "\"gpu:3\"",
     NULL,
     2,
     {{"a100", 2, 0, 0, -1, NULL}, {"h100", 4, 3, 3, -1, NULL}}},
    {"[\"MIXED\"]",
     NULL,
     "\"gpu:a100:2(S:0),gpu:a100:2(S:1)\"",
     "\"gpu:a100:1(IDX:0)\"",
     NULL,
     1,
     {{"a100", 4, 3, 3, -1, NULL}}},
    /* Two gres types mapped to one model are one block on the node. */
    {"[\"IDLE\"]",
     NULL,
     "\"gpu:h100_pcie:2,gpu:h100_sxm:4\"",
     "\"\"",
     "{\"models\":{\"h100_pcie\":\"H100\",\"h100_sxm\":\"H100\"}}",
     1,
     {{"H100", 6, 6, 6, -1, NULL}}},
    /* States, data_parser v0.0.39+: free only on IDLE / MIXED without a blocking flag. */
    {"[\"IDLE\",\"DRAIN\"]", NULL, "\"gpu:a100:8\"", "\"\"", NULL, 1, {{"a100", 8, 0, 0, -1, 0}}},
    {"[\"MIXED\",\"DRAIN\"]",
     NULL,
     "\"gpu:a100:8\"",
     "\"gpu:a100:1\"",
     NULL,
     1,
     {{"a100", 8, 0, 0, -1, 0}}},
    {"[\"DOWN\",\"INVALID_REG\"]",
     NULL,
     "\"gpu:a100:8\"",
     "\"\"",
     NULL,
     1,
     {{"a100", 8, 0, 0, -1, 0}}},
    {"[\"DOWN\"]", NULL, "\"gpu:a100:8\"", "\"\"", NULL, 1, {{"a100", 8, 0, 0, -1, 0}}},
    {"[\"ALLOCATED\"]",
     NULL,
     "\"gpu:a100:8\"",
     "\"gpu:a100:2\"",
     NULL,
     1,
     {{"a100", 8, 0, 0, -1, 0}}},
    {"[\"IDLE\",\"FAIL\"]", NULL, "\"gpu:a100:8\"", "\"\"", NULL, 1, {{"a100", 8, 0, 0, -1, 0}}},
    {"[\"IDLE\",\"NOT_RESPONDING\"]",
     NULL,
     "\"gpu:a100:8\"",
     "\"\"",
     NULL,
     1,
     {{"a100", 8, 0, 0, -1, 0}}},
    {"[\"IDLE\",\"POWERED_DOWN\"]",
     NULL,
     "\"gpu:a100:8\"",
     "\"\"",
     NULL,
     1,
     {{"a100", 8, 0, 0, -1, 0}}},
    {"[\"IDLE\",\"POWERING_DOWN\"]",
     NULL,
     "\"gpu:a100:8\"",
     "\"\"",
     NULL,
     1,
     {{"a100", 8, 0, 0, -1, 0}}},
    {"[\"IDLE\",\"RESERVED\"]",
     NULL,
     "\"gpu:a100:8\"",
     "\"\"",
     NULL,
     1,
     {{"a100", 8, 0, 0, -1, 0}}},
    {"[\"IDLE\",\"PLANNED\"]", NULL, "\"gpu:a100:8\"", "\"\"", NULL, 1, {{"a100", 8, 0, 0, -1, 0}}},
    {"[\"IDLE\",\"MAINTENANCE\"]",
     NULL,
     "\"gpu:a100:8\"",
     "\"\"",
     NULL,
     1,
     {{"a100", 8, 0, 0, -1, 0}}},
    {"[\"IDLE\",\"REBOOT_REQUESTED\"]",
     NULL,
     "\"gpu:a100:8\"",
     "\"\"",
     NULL,
     1,
     {{"a100", 8, 0, 0, -1, 0}}},
    {"[\"IDLE\",\"A_FLAG_FROM_SLURM_27\"]",
     NULL,
     "\"gpu:a100:8\"",
     "\"\"",
     NULL,
     1,
     {{"a100", 8, 0, 0, -1, 0}}},
    {"[\"FUTURE\"]", NULL, "\"gpu:a100:8\"", "\"\"", NULL, 1, {{"a100", 8, 0, 0, -1, 0}}},
    {"[]", NULL, "\"gpu:a100:8\"", "\"\"", NULL, 1, {{"a100", 8, 0, 0, -1, 0}}},
    {"null", NULL, "\"gpu:a100:8\"", "\"\"", NULL, 1, {{"a100", 8, 0, 0, -1, 0}}},
    {"[\"IDLE\",\"COMPLETING\"]",
     NULL,
     "\"gpu:a100:8\"",
     "\"\"",
     NULL,
     1,
     {{"a100", 8, 8, 8, -1, 0}}},
    {"[\"MIXED\",\"CLOUD\"]",
     NULL,
     "\"gpu:a100:8\"",
     "\"gpu:a100:4(IDX:0-3)\"",
     NULL,
     1,
     {{"a100", 8, 4, 4, -1, 0}}},
    /* v0.0.38: lower-case base state, flags apart. */
    {"\"idle\"",
     "[]",
     "\"gpu:a100:8\"",
     "\"gpu:a100:0(IDX:N/A)\"",
     NULL,
     1,
     {{"a100", 8, 8, 8, -1, 0}}},
    {"\"idle\"",
     NULL,
     "\"gpu:a100:8\"",
     "\"gpu:a100:0(IDX:N/A)\"",
     NULL,
     1,
     {{"a100", 8, 8, 8, -1, 0}}},
    {"\"mixed\"",
     "[\"DRAIN\"]",
     "\"gpu:a100:8\"",
     "\"gpu:a100:2(IDX:0-1)\"",
     NULL,
     1,
     {{"a100", 8, 0, 0, -1, 0}}},
    {"\"draining\"", "[]", "\"gpu:a100:8\"", "\"\"", NULL, 1, {{"a100", 8, 0, 0, -1, 0}}},
    {"\"down\"",
     "[\"NOT_RESPONDING\"]",
     "\"gpu:a100:8\"",
     "\"\"",
     NULL,
     1,
     {{"a100", 8, 0, 0, -1, 0}}},
    {"\"allocated\"",
     "[]",
     "\"gpu:a100:8\"",
     "\"gpu:a100:8(IDX:0-7)\"",
     NULL,
     1,
     {{"a100", 8, 0, 0, -1, 0}}},
    {"\"idle\"", "[\"COMPLETING\"]", "\"gpu:a100:8\"", "\"\"", NULL, 1, {{"a100", 8, 8, 8, -1, 0}}},
    {"\"idle\"",
     "[\"POWERED_DOWN\"]",
     "\"gpu:a100:8\"",
     "\"\"",
     NULL,
     1,
     {{"a100", 8, 0, 0, -1, 0}}},
};

static char *node_doc(const struct node_case *c)
{
    size_t n = 1024;
    char *doc = malloc(n);
    if (!doc)
        abort();
    bool v38 = c->state[0] == '"';
    char state[256], flags[128] = "", gres[128] = "", used[128] = "";
    snprintf(state, sizeof(state), "\"state\":%s", c->state);
    if (c->flags)
        snprintf(flags, sizeof(flags), ",\"state_flags\":%s", c->flags);
    if (c->gres)
        snprintf(gres, sizeof(gres), ",\"gres\":%s", c->gres);
    if (c->used)
        snprintf(used, sizeof(used), ",\"gres_used\":%s", c->used);
    snprintf(doc, n,
             "{\"meta\":{\"plugin\":{\"%s\":\"%s\"}},\"errors\":[],"
             "\"nodes\":[{\"name\":\"n1\",%s%s%s%s,\"partitions\":[\"gpu\"]}]}",
             v38 ? "type" : "data_parser", v38 ? "openapi/v0.0.38" : "data_parser/v0.0.41", state,
             flags, gres, used);
    return doc;
}

static void test_nodes(void)
{
    for (size_t i = 0; i < N(node_cases); i++) {
        const struct node_case *c = &node_cases[i];
        struct feed_snapshot snap;
        struct json_error err;
        char what[200];
        char *doc = node_doc(c);
        snprintf(what, sizeof(what), "node %zu (state %s%s, gres %s, used %s)", i, c->state,
                 c->flags ? c->flags : "", c->gres ? c->gres : "absent",
                 c->used ? c->used : "absent");
        int r = parse_str(doc, c->options, &snap, &err);
        free(doc);
        CHECK(r == 0, "%s parses (rc %d, '%s', %s)", what, r, err.pointer, err.detail);
        if (r != 0)
            continue;
        CHECK_EQ_LONG(snap.npools, c->npools, what);
        for (size_t k = 0; k < c->npools; k++)
            check_pool(&snap, &c->pools[k], what);
        feed_snapshot_free(&snap);
    }
}

/* Largest block across nodes, shape from nodes when meta is silent, partitions as a string. */
static void test_cluster(void)
{
    struct feed_snapshot snap;
    struct json_error err;
    /* n1 8 free, n2 3 free (5 used), n3 drained 8: h100 24 total, 11 free, 8 on one node. */
    const char *doc = "{\"nodes\":["
                      "{\"state\":[\"IDLE\"],\"gres\":\"gpu:h100:8\",\"gres_used\":\"\"},"
                      "{\"state\":[\"MIXED\"],\"gres\":\"gpu:h100:8\","
                      "\"gres_used\":\"gpu:h100:5(IDX:0-4)\"},"
                      "{\"state\":[\"IDLE\",\"DRAIN\"],\"gres\":\"gpu:h100:8\",\"gres_used\":\"\"}"
                      "]}";
    int r = parse_str(doc, NULL, &snap, &err);
    CHECK(r == 0, "meta-less v0.0.40 cluster parses (rc %d, '%s', %s)", r, err.pointer, err.detail);
    if (r == 0) {
        CHECK_EQ_LONG(snap.npools, 1, "one pool");
        check_pool(&snap, &(struct want_pool){"h100", 24, 11, 8, -1, NULL}, "3-node cluster");
        feed_snapshot_free(&snap);
    }
    /* Same without meta in the v0.0.38 shape, partitions as a comma list (csv_string). */
    doc = "{\"nodes\":["
          "{\"state\":\"idle\",\"gres\":\"gpu:a100:8\",\"gres_used\":null,"
          "\"partitions\":\"debug,gpu\"},"
          "{\"state\":\"idle\",\"gres\":\"gpu:a100:8\",\"gres_used\":null,"
          "\"partitions\":\"gpu2\"}]}";
    r = parse_str(doc, "{\"partitions\":[\"gpu\"]}", &snap, &err);
    CHECK(r == 0, "meta-less v0.0.38 cluster parses (rc %d, '%s', %s)", r, err.pointer, err.detail);
    if (r == 0) {
        check_pool(&snap, &(struct want_pool){"a100", 8, 8, 8, -1, NULL},
                   "partition \"gpu\" of \"debug,gpu\", not \"gpu2\"");
        feed_snapshot_free(&snap);
    }
    /* A node without partitions is not in any when the option filters. */
    r = parse_str("{\"nodes\":[{\"state\":\"idle\",\"gres\":\"gpu:a100:8\",\"gres_used\":\"\"}]}",
                  "{\"partitions\":[\"gpu\"]}", &snap, &err);
    CHECK(r == 0 && snap.npools == 0, "node without partitions[] filtered out (rc %d)", r);
    if (r == 0)
        feed_snapshot_free(&snap);
    /* Meta's Slurm version alone (22 < 23) says v0.0.38. */
    r = parse_str("{\"meta\":{\"Slurm\":{\"version\":{\"major\":22}}},"
                  "\"nodes\":[{\"state\":[\"IDLE\"],\"gres\":\"gpu:a100:8\"}]}",
                  NULL, &snap, &err);
    CHECK(r == -EINVAL, "a state array in a 22.x document is refused (rc %d)", r);
    CHECK_STR(str(err.pointer), "/nodes/0/state", "pointer of a state of the wrong shape");
}

/* errors[] with nodes is partial data: parsed, with a warning. Without nodes, an error. */
static void test_errors(void)
{
    struct feed_snapshot snap;
    struct json_error err;
    int r = parse_str("{\"errors\":[{\"description\":\"Unable to query nodes\",\"error_number\":"
                      "2017,\"error\":\"Slurmdb query failed\",\"source\":\"slurmdb_query\"},"
                      "{\"error\":\"second\"}],\"warnings\":[],"
                      "\"nodes\":[{\"state\":[\"IDLE\"],\"gres\":\"gpu:h100:4\",\"gres_used\":\"\"}"
                      "],\"last_update\":{\"set\":true,\"infinite\":false,\"number\":1700000000}}",
                      NULL, &snap, &err);
    CHECK(r == 0, "errors[] with nodes parses (rc %d, %s)", r, err.detail);
    if (r == 0) {
        CHECK_STR(str(snap.warning),
                  "slurmrestd error: Slurmdb query failed: Unable to query nodes (error 2017)",
                  "warning is the first error");
        CHECK(snap.observed_at_ms == INT64_C(1700000000000), "observed_at with errors[]");
        check_pool(&snap, &(struct want_pool){"h100", 4, 4, 4, -1, NULL}, "partial document");
        feed_snapshot_free(&snap);
    }
    static const struct {
        const char *doc;
        const char *detail;
    } bad[] = {
        {"{\"errors\":[{\"error\":\"Authentication failure\"}]}", "Authentication failure"},
        {"{\"errors\":[{\"error\":\"x\"}],\"nodes\":null}", "x"},
        {"{\"errors\":[{\"error\":\"x\"}],\"nodes\":{}}", "x"},
        {"{\"errors\":[\"plain text\"],\"nodes\":[]}", "plain text"},
        {"{\"errors\":[{}],\"nodes\":[]}", "unspecified error"},
        {"{\"errors\":[7],\"nodes\":[]}", "unspecified error"},
        {"{\"errors\":[{\"description\":\"only long\",\"errno\":1e300}],\"nodes\":[]}",
         "no nodes: only long"},
        {"{\"errors\":[{\"error\":\"tab\\there\\u00e9\"}],\"nodes\":[]}", "tab?here??"},
    };
    for (size_t i = 0; i < N(bad); i++) {
        r = parse_str(bad[i].doc, NULL, &snap, &err);
        CHECK(r == -EINVAL, "errors[] without nodes refused: %s (rc %d)", bad[i].doc, r);
        CHECK_STR(str(err.pointer), "/errors/0", "pointer of the first error");
        CHECK(strstr(err.detail, bad[i].detail) != NULL, "detail '%s' has '%s'", err.detail,
              bad[i].detail);
        if (r == 0)
            feed_snapshot_free(&snap);
    }
}

static void test_last_update(void)
{
    static const struct {
        const char *value;
        int rc;
        int64_t ms;
        const char *pointer;
    } cases[] = {
        {"1795313990", 0, INT64_C(1795313990000), NULL},
        {"{\"set\":true,\"infinite\":false,\"number\":1746621162}", 0, INT64_C(1746621162000),
         NULL},
        {"{\"set\":false,\"infinite\":false,\"number\":0}", 0, 0, NULL},
        {"{\"set\":true,\"infinite\":true,\"number\":0}", 0, 0, NULL},
        {"{\"number\":5}", 0, 5000, NULL},
        {"null", 0, 0, NULL},
        {"0", 0, 0, NULL},
        {"-5", -EINVAL, 0, "/last_update"},
        {"1.5", -EINVAL, 0, "/last_update"},
        {"1e15", -EINVAL, 0, "/last_update"},
        {"9223372036854775807", -EINVAL, 0, "/last_update"},
        {"\"1795313990\"", -EINVAL, 0, "/last_update"},
        {"[]", -EINVAL, 0, "/last_update"},
        {"{\"set\":true}", -EINVAL, 0, "/last_update/number"},
        {"{\"set\":true,\"number\":\"5\"}", -EINVAL, 0, "/last_update/number"},
        {"{\"set\":true,\"number\":-2}", -EINVAL, 0, "/last_update/number"},
        {"{\"set\":\"yes\",\"number\":5}", -EINVAL, 0, "/last_update/set"},
        {"{\"set\":true,\"infinite\":1,\"number\":5}", -EINVAL, 0, "/last_update/infinite"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        char doc[256];
        struct feed_snapshot snap;
        struct json_error err;
        snprintf(doc, sizeof(doc), "{\"nodes\":[],\"last_update\":%s}", cases[i].value);
        int r = parse_str(doc, NULL, &snap, &err);
        CHECK(r == cases[i].rc, "last_update %s: rc %d, want %d (%s)", cases[i].value, r,
              cases[i].rc, err.detail);
        if (r == 0) {
            CHECK(snap.observed_at_ms == cases[i].ms, "last_update %s: %lld ms", cases[i].value,
                  (long long)snap.observed_at_ms);
            feed_snapshot_free(&snap);
        } else {
            CHECK_STR(str(err.pointer), cases[i].pointer, "last_update error pointer");
        }
    }
}

/* Bad documents: each refused with -EINVAL, the pointer of the fault, and nothing returned. */
static const struct {
    const char *doc;
    const char *options;
    const char *pointer;
} hostile[] = {
    {"", NULL, ""},
    {"{", NULL, ""},
    {"[]", NULL, ""},
    {"null", NULL, ""},
    {"\"nodes\"", NULL, ""},
    {"{\"nodes\":[]} trailing", NULL, ""},
    {"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>", NULL, ""},
    {"Authentication failure", NULL, ""},
    {"Unable find requested URL. Please view /openapi/v3 for API reference.", NULL, ""},
    {"{\"nodes\":[]}\xff", NULL, ""},
    {"{}", NULL, "/nodes"},
    {"{\"nodes\":{}}", NULL, "/nodes"},
    {"{\"nodes\":\"a100-[01-02]\"}", NULL, "/nodes"},
    {"{\"errors\":{},\"nodes\":[]}", NULL, "/errors"},
    {"{\"errors\":\"bad\",\"nodes\":[]}", NULL, "/errors"},
    {"{\"nodes\":[1]}", NULL, "/nodes/0"},
    {"{\"nodes\":[{},[]]}", NULL, "/nodes/1"},
    {"{\"nodes\":[{\"gres\":5}]}", NULL, "/nodes/0/gres"},
    {"{\"nodes\":[{\"gres\":[\"gpu:a100:8\"]}]}", NULL, "/nodes/0/gres"},
    {"{\"nodes\":[{\"gres\":\"gpu:a100:8\",\"gres_used\":7}]}", NULL, "/nodes/0/gres_used"},
    {"{\"nodes\":[{\"gres\":\"gpu:a100:-4\"}]}", NULL, "/nodes/0/gres"},
    {"{\"nodes\":[{\"gres\":\"gpu:a100:4x\"}]}", NULL, "/nodes/0/gres"},
    {"{\"nodes\":[{\"gres\":\"gpu:a100:1.5\"}]}", NULL, "/nodes/0/gres"},
    {"{\"nodes\":[{\"gres\":\"gpu:a100:99999999999999999999\"}]}", NULL, "/nodes/0/gres"},
    {"{\"nodes\":[{\"gres\":\"gpu:a100:10000001\"}]}", NULL, "/nodes/0/gres"},
    {"{\"nodes\":[{\"gres\":\"gpu:a100:4(S:0-1\"}]}", NULL, "/nodes/0/gres"},
    {"{\"nodes\":[{\"gres\":\"gpu:a100:4)\"}]}", NULL, "/nodes/0/gres"},
    {"{\"nodes\":[{\"gres\":\"gpu:a100:4(S:0)x\"}]}", NULL, "/nodes/0/gres"},
    {"{\"nodes\":[{\"gres\":\"gpu::4\"}]}", NULL, "/nodes/0/gres"},
    {"{\"nodes\":[{\"gres\":\"gpu:\"}]}", NULL, "/nodes/0/gres"},
    {"{\"nodes\":[{\"gres\":\"gpu:a b:4\"}]}", NULL, "/nodes/0/gres"},
    {"{\"nodes\":[{\"gres\":\"gpu:a100:h100:4\"}]}", NULL, "/nodes/0/gres"},
    {"{\"nodes\":[{\"gres\":\"gpu:a:b:c:d:e:f:g:h:1\"}]}", NULL, "/nodes/0/gres"},
    {"{\"nodes\":[{\"gres\":\"gpu:\\u00e9:4\"}]}", NULL, "/nodes/0/gres"},
    {"{\"nodes\":[{\"gres\":\"gpu:\\u0000:4\"}]}", NULL, "/nodes/0/gres"},
    {"{\"nodes\":[{\"gres\":\"gpu:"
     "a123456789012345678901234567890123456789012345678901234567890123:4\"}]}",
     NULL, "/nodes/0/gres"},
    {"{\"nodes\":[{\"gres\":\"gpu:a100:8\",\"gres_used\":\"gpu:a100:x(IDX:0)\"}]}", NULL,
     "/nodes/0/gres_used"},
    {"{\"nodes\":[{\"gres\":\"gpu:a100:8\",\"gres_used\":\"gpu:a100:1(IDX:0\"}]}", NULL,
     "/nodes/0/gres_used"},
    {"{\"meta\":{\"plugin\":{\"data_parser\":\"data_parser/v0.0.40\"}},"
     "\"nodes\":[{\"state\":\"idle\"}]}",
     NULL, "/nodes/0/state"},
    {"{\"nodes\":[{\"state\":[\"IDLE\"]},{\"state\":\"idle\"}]}", NULL, "/nodes/1/state"},
    {"{\"nodes\":[{\"state\":\"idle\"},{\"state\":[\"IDLE\"]}]}", NULL, "/nodes/1/state"},
    {"{\"nodes\":[{\"state\":5}]}", NULL, "/nodes/0/state"},
    {"{\"nodes\":[{\"state\":[\"IDLE\",3]}]}", NULL, "/nodes/0/state/1"},
    {"{\"nodes\":[{\"state\":\"idle\",\"state_flags\":\"DRAIN\"}]}", NULL, "/nodes/0/state_flags"},
    {"{\"nodes\":[{\"state\":\"idle\",\"state_flags\":[null]}]}", NULL, "/nodes/0/state_flags/0"},
    {"{\"nodes\":[{\"partitions\":5}]}", "{\"partitions\":[\"gpu\"]}", "/nodes/0/partitions"},
    {"{\"nodes\":[{\"partitions\":[\"gpu\",{}]}]}", "{\"partitions\":[\"gpu\"]}",
     "/nodes/0/partitions/1"},
    /* Bad options handed to parse without adapter_check_options first. */
    {"{\"nodes\":[]}", "{\"currency\":\"cny\"}", ""},
    {"{\"nodes\":[]}", "{\"models\":{\"h100\":1}}", ""},
    {"{\"nodes\":[]}", "[]", ""},
};

static void test_hostile(void)
{
    for (size_t i = 0; i < N(hostile); i++) {
        struct feed_snapshot snap;
        struct json_error err;
        int r = parse_str(hostile[i].doc, hostile[i].options, &snap, &err);
        CHECK(r == -EINVAL, "hostile %zu refused: %.80s (rc %d)", i, hostile[i].doc, r);
        CHECK(strcmp(err.pointer, hostile[i].pointer) == 0 && err.detail[0],
              "hostile %zu pointer '%s' want '%s' (%s)", i, err.pointer, hostile[i].pointer,
              err.detail);
        CHECK(snap.pools == NULL && snap.npools == 0 && snap.warning[0] == '\0',
              "hostile %zu returns nothing", i);
        if (r == 0)
            feed_snapshot_free(&snap);
    }
    /* A GRES entry of the wrong kind may be odd; only GPU entries are read. */
    struct feed_snapshot snap;
    struct json_error err;
    int r = parse_str("{\"nodes\":[{\"state\":[\"IDLE\"],\"gres\":\"fpga:::x:,,nic(S:0),"
                      ",gpux:a:b:c:d:e:f:g:h:i\",\"gres_used\":\"\"}]}",
                      NULL, &snap, &err);
    CHECK(r == 0 && snap.npools == 0, "odd non-GPU GRES ignored (rc %d, %s)", r, err.detail);
    if (r == 0)
        feed_snapshot_free(&snap);
}

/* Bounds: 64 GPU types on a node, 1024 models, 10 000 000 cards of a model. */
static void test_bounds(void)
{
    struct feed_snapshot snap;
    struct json_error err;
    size_t cap = 4u << 20, off = 0;
    char *doc = malloc(cap);
    if (!doc)
        abort();

    /* 65 GPU entries on one node. */
    off = (size_t)snprintf(doc, cap, "{\"nodes\":[{\"gres\":\"");
    for (int i = 0; i < 65; i++)
        off += (size_t)snprintf(doc + off, cap - off, "%sgpu:t%d:1", i ? "," : "", i);
    snprintf(doc + off, cap - off, "\"}]}");
    int r = parse_str(doc, NULL, &snap, &err);
    CHECK(r == -EINVAL && strcmp(err.pointer, "/nodes/0/gres") == 0,
          "65 GPU entries on a node refused (rc %d, %s)", r, err.detail);

    /* 1024 models is the most a snapshot holds; 1025 is refused at the node that adds it. */
    for (int total = 1024; total <= 1025; total++) {
        off = (size_t)snprintf(doc, cap, "{\"nodes\":[");
        for (int i = 0; i < total; i++)
            off += (size_t)snprintf(doc + off, cap - off,
                                    "%s{\"state\":[\"IDLE\"],\"gres\":\"gpu:m%d:2\","
                                    "\"gres_used\":\"\"}",
                                    i ? "," : "", i);
        snprintf(doc + off, cap - off, "]}");
        r = parse_str(doc, NULL, &snap, &err);
        if (total == 1024) {
            CHECK(r == 0 && snap.npools == 1024, "1024 models accepted (rc %d)", r);
            if (r == 0) {
                check_pool(&snap, &(struct want_pool){"m1023", 2, 2, 2, -1, NULL}, "1024th");
                feed_snapshot_free(&snap);
            }
        } else {
            CHECK(r == -EINVAL && strcmp(err.pointer, "/nodes/1024/gres") == 0,
                  "1025 models refused (rc %d, '%s', %s)", r, err.pointer, err.detail);
            CHECK(snap.pools == NULL && snap.npools == 0, "nothing returned past 1024 models");
        }
    }

    /* 10 000 000 cards of a model is the ceiling. */
    r = parse_str("{\"nodes\":[{\"state\":[\"IDLE\"],\"gres\":\"gpu:a100:10000000\","
                  "\"gres_used\":\"\"}]}",
                  NULL, &snap, &err);
    CHECK(r == 0 && snap.npools == 1 && snap.pools[0].total == ADAPTER_MAX_CARDS,
          "10000000 cards accepted (rc %d)", r);
    if (r == 0)
        feed_snapshot_free(&snap);
    r = parse_str("{\"nodes\":[{\"gres\":\"gpu:a100:10000000\"},{\"gres\":\"gpu:a100:1\"}]}", NULL,
                  &snap, &err);
    CHECK(r == -EINVAL && strcmp(err.pointer, "/nodes/1/gres") == 0,
          "10000001 cards of a model refused (rc %d, '%s')", r, err.pointer);

    /* 20 000 nodes of 8 GPUs each (about 1.3 MB): 160 000 cards, 8 on one node. */
    off = (size_t)snprintf(doc, cap, "{\"nodes\":[");
    for (int i = 0; i < 20000; i++)
        off += (size_t)snprintf(doc + off, cap - off,
                                "%s{\"name\":\"n%d\",\"state\":[\"%s\"],\"gres\":\"gpu:h800:8\","
                                "\"gres_used\":\"gpu:h800:%d\"}",
                                i ? "," : "", i, i % 2 ? "MIXED" : "IDLE", i % 2);
    snprintf(doc + off, cap - off, "]}");
    r = parse_str(doc, NULL, &snap, &err);
    CHECK(r == 0, "20000-node document parses (rc %d, %s)", r, err.detail);
    if (r == 0) {
        /* 10 000 idle nodes with 8 free, 10 000 mixed with 7 free. */
        check_pool(&snap, &(struct want_pool){"h800", 160000, 150000, 8, -1, NULL}, "big");
        feed_snapshot_free(&snap);
    }
    free(doc);
}

/* Every prefix of a live capture returns cleanly; nothing is returned unless it parsed. */
static void test_prefixes(void)
{
    size_t len = 0;
    char *text = load("nodes-busy-drain.json", &len);
    CHECK(text != NULL, "nodes-busy-drain.json readable");
    if (!text)
        return;
    size_t ok = 0, refused = 0, bad = 0;
    for (size_t n = 0; n < len; n++) {
        struct feed_snapshot snap;
        struct json_error err;
        int r = parse(text, n, NULL, &snap, &err);
        if (r == 0) {
            ok++;
            feed_snapshot_free(&snap);
        } else if (r == -EINVAL && snap.pools == NULL && snap.npools == 0 && err.detail[0]) {
            refused++;
        } else {
            bad++;
        }
    }
    CHECK(bad == 0 && ok == 0 && refused == len,
          "all %zu proper prefixes of nodes-busy-drain.json refused cleanly (%zu ok, %zu bad)", len,
          ok, bad);
    free(text);

    /* A 25.11 document, every 7th prefix. */
    text = load("v0.0.44-nodes.slurmweb-25.11.json", &len);
    CHECK(text != NULL, "v0.0.44-nodes readable");
    if (!text)
        return;
    bad = 0;
    for (size_t n = 0; n < len; n += 7) {
        struct feed_snapshot snap;
        struct json_error err;
        int r = parse(text, n, NULL, &snap, &err);
        if (r == 0)
            feed_snapshot_free(&snap);
        if (r != -EINVAL || snap.pools != NULL)
            bad++;
    }
    CHECK(bad == 0, "every 7th prefix of v0.0.44-nodes refused cleanly (%zu bad)", bad);
    free(text);
}

/* 10 MB of garbage, and 10 MB of nesting. */
static void test_garbage(void)
{
    size_t len = 10u << 20;
    char *g = malloc(len);
    if (!g)
        abort();
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        g[i] = (char)(x & 0xff);
    }
    struct feed_snapshot snap;
    struct json_error err;
    int r = parse(g, len, NULL, &snap, &err);
    CHECK(r == -EINVAL && snap.pools == NULL, "10 MB of random bytes refused (rc %d)", r);
    memset(g, 'A', len);
    g[0] = '{';
    r = parse(g, len, NULL, &snap, &err);
    CHECK(r == -EINVAL && snap.pools == NULL, "10 MB of letters refused (rc %d)", r);
    memset(g, '[', len);
    r = parse(g, len, NULL, &snap, &err);
    CHECK(r == -EINVAL && snap.pools == NULL, "10 MB of '[' refused (rc %d)", r);
    /* {"nodes":[{"gres":"gpu:a100:1(((((..." one 10 MB unbalanced GRES string. */
    const char *head = "{\"nodes\":[{\"gres\":\"gpu:a100:1";
    memset(g, '(', len);
    memcpy(g, head, strlen(head));
    memcpy(g + len - 4, "\"}]}", 4);
    r = parse(g, len, NULL, &snap, &err);
    CHECK(r == -EINVAL && strcmp(err.pointer, "/nodes/0/gres") == 0,
          "10 MB GRES string of '(' refused at /nodes/0/gres (rc %d, '%s')", r, err.pointer);
    free(g);
}

/* Options through adapter_check_options: pointers under the feed's options. */
static void test_options(void)
{
    static const struct {
        const char *options;
        const char *pointer; /* NULL: valid */
    } cases[] = {
        {"{}", NULL},
        {"null", NULL},
        {"{\"models\":{\"h100\":\"H100\",\"a100_80g\":\"A100\",\"gpu\":\"NVIDIA H20\"},"
         "\"untyped_model\":\"A800\",\"price_per_card_hour\":{\"H100\":20,\"a100_80g\":0},"
         "\"currency\":\"USD\",\"partitions\":[\"gpu\",\"ia\"]}",
         NULL},
        {"{\"nope\":1}", "/feeds/0/options/nope"},
        {"{\"Models\":{}}", "/feeds/0/options/Models"},
        {"{\"models\":[]}", "/feeds/0/options/models"},
        {"{\"models\":{\"h100\":5}}", "/feeds/0/options/models/h100"},
        {"{\"models\":{\"h100\":\"\"}}", "/feeds/0/options/models/h100"},
        {"{\"models\":{\"h100\":\"H100\\n\"}}", "/feeds/0/options/models/h100"},
        {"{\"models\":{\"\":\"H100\"}}", "/feeds/0/options/models/"},
        {"{\"models\":{\"a/b\":\"x"
         "0123456789012345678901234567890123456789012345678901234567890123\"}}",
         "/feeds/0/options/models/a~1b"},
        {"{\"untyped_model\":\"\"}", "/feeds/0/options/untyped_model"},
        {"{\"untyped_model\":7}", "/feeds/0/options/untyped_model"},
        {"{\"price_per_card_hour\":{\"H100\":-1}}", "/feeds/0/options/price_per_card_hour/H100"},
        {"{\"price_per_card_hour\":{\"H100\":\"3\"}}", "/feeds/0/options/price_per_card_hour/H100"},
        {"{\"price_per_card_hour\":{\"H100\":1e7}}", "/feeds/0/options/price_per_card_hour/H100"},
        {"{\"price_per_card_hour\":[1]}", "/feeds/0/options/price_per_card_hour"},
        {"{\"currency\":\"usd\"}", "/feeds/0/options/currency"},
        {"{\"currency\":\"CNYX\"}", "/feeds/0/options/currency"},
        {"{\"currency\":\"\"}", "/feeds/0/options/currency"},
        {"{\"partitions\":[]}", "/feeds/0/options/partitions"},
        {"{\"partitions\":\"gpu\"}", "/feeds/0/options/partitions"},
        {"{\"partitions\":[\"\"]}", "/feeds/0/options/partitions/0"},
        {"{\"partitions\":[\"gpu\",5]}", "/feeds/0/options/partitions/1"},
        {"[]", "/feeds/0/options"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        cJSON *o = cJSON_Parse(cases[i].options);
        struct json_error err = {0};
        int r = adapter_check_options(&adapter_slurm, o, "/feeds/0/options", &err);
        if (!cases[i].pointer) {
            CHECK(r == 0, "options %s valid (rc %d, '%s', %s)", cases[i].options, r, err.pointer,
                  err.detail);
        } else {
            CHECK(r == -EINVAL, "options %s refused (rc %d)", cases[i].options, r);
            CHECK(strcmp(err.pointer, cases[i].pointer) == 0 && err.detail[0],
                  "options %s: pointer '%s' want '%s' (%s)", cases[i].options, err.pointer,
                  cases[i].pointer, err.detail);
        }
        cJSON_Delete(o);
    }
    struct json_error err = {0};
    CHECK(adapter_check_options(&adapter_slurm, NULL, "", &err) == 0, "no options is valid");
    CHECK(adapter_slurm.check_options(NULL, &err) == 0, "check_options(NULL) is 0");
}

int main(void)
{
    test_adapter_table();
    test_every_fixture_listed();
    for (size_t i = 0; i < N(fixtures); i++)
        test_fixture(&fixtures[i]);
    test_nodes();
    test_cluster();
    test_errors();
    test_last_update();
    test_hostile();
    test_bounds();
    test_prefixes();
    test_garbage();
    test_options();
    return check_done();
}
