/*
 * test-oom — allocation-failure sweeps over the pure core: route_decide and
 * route_explain on a small world of centers, pools and vouchers, request_parse
 * on a body that uses every list field, and the JSON helpers. For N = 1, 2, ...
 * the Nth allocation fails (once, then from the Nth on) until the operation
 * runs without meeting a failure. Every failure must give the documented error,
 * leave the outputs empty and free every block it took (failalloc counts them).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "failalloc.h"
#include "json.h"
#include "request.h"
#include "route.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- routing ---- */

static const double A100_TF[PREC_COUNT] = {19.5, 19.5, 156, 312, 312, 0, 624};
static const double H800_TF[PREC_COUNT] = {1, 67, 494.5, 989.5, 989.5, 1979, 1979};
static const double ASC_TF[PREC_COUNT] = {0, 0, 0, 320, 320, 0, 640};
static const struct label grade3 = {"grade", "dengbao3"};
static const char *const v_regions[] = {"cn-beijing", "cn-guiyang"};

static const struct route_center centers[] = {
    {"sh-a", "cn-shanghai", CENTER_ACTIVE, NULL, 0, 1.0, RTT_CONFIGURED},
    {"bj-b", "cn-beijing", CENTER_ACTIVE, &grade3, 1, 28.0, RTT_MEASURED},
    {"gy-c", "cn-guiyang", CENTER_ACTIVE, NULL, 0, 15.0, RTT_ESTIMATED},
};

static struct route_pool pools[5];
static const struct route_voucher vouchers[] = {
    {.id = "v-any", .rate = 0.3, .balance = 5000, .usable = true},
    {.id = "v-west",
     .rate = 0.5,
     .balance = 800,
     .usable = true,
     .regions = v_regions,
     .nregions = N(v_regions)},
};

static void world(void)
{
    static const struct {
        size_t center;
        const char *model;
        const double *tf;
        long total, free, block, held;
        double price;
    } rows[] = {
        {0, "A100", A100_TF, 100, 40, 8, 4, 10},  {1, "Ascend910B", ASC_TF, 200, 150, 8, 0, 8},
        {2, "H800", H800_TF, 64, 64, 8, 10, 25},  {2, "A100", A100_TF, 32, 6, 6, 0, 11},
        {0, "H800", H800_TF, 16, 12, 4, 0, 24.5},
    };
    for (size_t i = 0; i < N(rows); i++) {
        pools[i] = (struct route_pool){.center = rows[i].center,
                                       .model = rows[i].model,
                                       .memory_gib = 80,
                                       .total = rows[i].total,
                                       .free = rows[i].free,
                                       .largest_block = rows[i].block,
                                       .held = rows[i].held,
                                       .price = rows[i].price};
        memcpy(pools[i].tflops, rows[i].tf, sizeof(pools[i].tflops));
    }
}

struct route_case {
    const char *name;
    struct route_request req;
    bool scratch; /* route_decide_scratch into a fresh scratch, top ranking only */
};

static const char *op_route(void *ctx, int *ret)
{
    const struct route_case *rc = ctx;
    struct route_result res;
    static char what[128];
    struct route_scratch scratch = {0};
    memset(&res, 0xa5, sizeof(res));
    int r = rc->scratch ? route_decide_scratch(&rc->req, centers, N(centers), pools, N(pools),
                                               vouchers, N(vouchers), 0, &scratch, &res)
                        : route_decide(&rc->req, centers, N(centers), pools, N(pools), vouchers,
                                       N(vouchers), &res);
    *ret = r;
    if (r == 0) {
        char buf[512];
        long before = failalloc_live();
        unsigned long attempts = failalloc_attempts();
        int n = route_explain(&rc->req, centers, pools, &res, buf, sizeof(buf));
        bool allocated = failalloc_attempts() != attempts || failalloc_live() != before;
        bool placed = res.placed;
        route_result_free(&res);
        route_scratch_free(&scratch);
        if (n <= 0 || buf[0] == '\0')
            return "route_explain wrote nothing";
        if (allocated)
            return "route_explain allocated";
        if (!placed)
            return "nothing placed";
        return NULL;
    }
    route_scratch_free(&scratch);
    if (r != -ENOMEM) {
        snprintf(what, sizeof(what), "route_decide returned %d, not -ENOMEM", r);
        return what;
    }
    if (res.candidates || res.ranked || res.pieces || res.ncandidates || res.npieces ||
        res.placed || res.voucher != -1)
        return "route_decide failed but left a result behind";
    return NULL;
}

static void test_route(void)
{
    world();
    struct route_case cases[] = {
        {"route_decide gang, 16 bf16 cards",
         {.precision = PREC_BF16,
          .cards = 16,
          .hours = 10,
          .max_latency_ms = -1,
          .max_price = -1,
          .gang = true,
          .weights = weights_default},
         false},
        {"route_decide split, 120 bf16 cards",
         {.precision = PREC_BF16,
          .cards = 120,
          .hours = 10,
          .max_latency_ms = -1,
          .max_price = -1,
          .gang = false,
          .weights = weights_default},
         false},
        {"route_decide split by pflops",
         {.precision = PREC_FP16,
          .pflops = 20,
          .hours = 2,
          .max_latency_ms = 40,
          .max_price = -1,
          .gang = false,
          .weights = {1, 0.5, 0.2}},
         false},
        {"route_decide_scratch split, 120 bf16 cards",
         {.precision = PREC_BF16,
          .cards = 120,
          .hours = 10,
          .max_latency_ms = -1,
          .max_price = -1,
          .gang = false,
          .weights = weights_default},
         true},
    };
    for (size_t i = 0; i < N(cases); i++) {
        struct failalloc_sweep sw = {.name = cases[i].name, .op = op_route};
        failalloc_sweep(&sw, &cases[i]);
    }
}

/* ---- request parsing and the JSON helpers ---- */

struct body_case {
    const char *name;
    const char *body;
    const char *refusal; /* the start of the detail of a body refused as invalid, or NULL */
};

/*
 * An allocation cJSON fails inside its parser is reported by cJSON as a parse
 * error, so json_parse_object cannot tell it from malformed text: -EINVAL
 * with "malformed JSON" is the documented answer then (see json.h). Any other
 * failure must be -ENOMEM.
 */
static const char *parse_verdict(int r, const struct json_error *err)
{
    static char what[160];
    if (r == -ENOMEM)
        return NULL;
    if (r == -EINVAL && failalloc_first_source() == FAILALLOC_CJSON &&
        strncmp(err->detail, "malformed JSON", 14) == 0)
        return NULL;
    snprintf(what, sizeof(what), "returned %d (%.100s), not -ENOMEM", r, err->detail);
    return what;
}

static const char *op_request(void *ctx, int *ret)
{
    const struct body_case *bc = ctx;
    struct placement_request req;
    struct json_error err = {{0}, {0}};
    memset(&req, 0xa5, sizeof(req));
    int r = request_parse(bc->body, strlen(bc->body), &req, &err);
    *ret = r;
    if (r == 0) {
        bool ok =
            !bc->refusal && req.nvouchers == 2 && req.route.nallowed == 2 && req.route.nlabels == 2;
        request_free(&req);
        return ok ? NULL : "parsed, but the lists are wrong or it should have been refused";
    }
    const struct placement_request zero = {0};
    if (memcmp(&req, &zero, sizeof(req)) != 0)
        return "request_parse failed but left a request behind";
    if (r == -EINVAL && bc->refusal && strstr(err.detail, bc->refusal)) {
        *ret = 0; /* the documented refusal: the run is complete */
        return NULL;
    }
    return parse_verdict(r, &err);
}

/* json_parse_object, then the list getters on the document. */
static const char *op_json(void *ctx, int *ret)
{
    const struct body_case *bc = ctx;
    struct json_error err = {{0}, {0}};
    cJSON *doc = NULL;
    const char **strs = (const char **)1;
    struct label *labels = (struct label *)1;
    size_t n = 99;
    int r = json_parse_object(bc->body, strlen(bc->body), &doc, &err);
    *ret = r;
    if (r < 0)
        return doc ? "json_parse_object failed but set the document" : parse_verdict(r, &err);
    const char *what = NULL;
    r = json_get_strings(doc, "regions_allowed", "", 64, 64, &strs, &n, &err);
    if (r < 0) {
        if (r != -ENOMEM)
            what = "json_get_strings: not -ENOMEM";
        else if (strs || n)
            what = "json_get_strings failed but left a list";
        goto out;
    }
    free(strs);
    r = json_get_labels(doc, "labels", "", 64, 128, &labels, &n, &err);
    if (r < 0) {
        if (r != -ENOMEM)
            what = "json_get_labels: not -ENOMEM";
        else if (labels || n)
            what = "json_get_labels failed but left a list";
        goto out;
    }
    free(labels);
    cJSON *out = cJSON_CreateObject();
    if (!out || !json_add_number(out, "n", 12.5))
        r = -ENOMEM;
    cJSON_Delete(out);
out:
    *ret = r;
    cJSON_Delete(doc);
    return what;
}

static const struct body_case bodies[] = {
    {"request_parse, every list field",
     "{\"precision\":\"bf16\",\"cards\":64,\"hours\":72,\"origin\":\"cn-shanghai\","
     "\"max_latency_ms\":30,\"max_price_per_card_hour\":40,\"min_memory_gib\":64,"
     "\"domestic_only\":false,\"regions_allowed\":[\"cn-beijing\",\"cn-guiyang\"],"
     "\"regions_denied\":[\"cn-hongkong\"],\"labels\":{\"grade\":\"dengbao3\",\"tier\":\"a\"},"
     "\"gang\":false,\"vouchers\":[\"SH-2026-0001\",\"BJ-1\"],"
     "\"weights\":{\"cost\":1,\"latency\":0.5,\"balance\":0.2},\"hold_seconds\":300,"
     "\"dry_run\":false}",
     NULL},
    {"request_parse, a \\u0000 escape in a label (refused)",
     "{\"precision\":\"bf16\",\"cards\":8,\"hours\":1,\"origin\":\"cn-shanghai\","
     "\"regions_allowed\":[\"cn-beijing\",\"cn-guiyang\"],"
     "\"labels\":{\"grade\":\"a\\u0000b\",\"tier\":\"a\"},\"vouchers\":[\"A\",\"B\"]}",
     "contains control characters"},
};

static void test_request(void)
{
    for (size_t i = 0; i < N(bodies); i++) {
        struct failalloc_sweep sw = {.name = bodies[i].name, .op = op_request};
        failalloc_sweep(&sw, (void *)&bodies[i]);
    }
    struct failalloc_sweep sw = {.name = "json_parse_object, the list getters, json_add_number",
                                 .op = op_json};
    failalloc_sweep(&sw, (void *)&bodies[0]);
}

int main(void)
{
    failalloc_install_cjson();
    if (failalloc_asan())
        printf("# built with AddressSanitizer: the shim wraps its allocator\n");
    /* The shim must see the code's allocations, or every sweep below is empty. */
    void *(*volatile alloc)(size_t) = malloc;
    failalloc_arm(1, false);
    void *p = alloc(16);
    unsigned long injected = failalloc_disarm();
    free(p);
    CHECK(p == NULL && injected == 1, "the allocator shim intercepts malloc");
    test_route();
    test_request();
    return check_done();
}
