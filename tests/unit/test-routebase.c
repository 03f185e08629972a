/*
 * Tests of routebase: per-origin inputs (RTT from the latency table, the
 * same-region constant, the estimate, an unknown region; staleness; holds) and
 * the exact JSON round trip a decision's epoch depends on: every double bit
 * for bit, strings that need escaping, and refusal of damaged documents.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "geo.h"
#include "routebase.h"

static const struct label LABELS[] = {
    {"grade", "dengbao3"}, {"quote\"back\\slash", "tab\there\x01"}, {"城市", "上海"}};

/* Three regions, one latency pair, three centers (one in an unknown region), four pools. */
static void build(struct route_base *b)
{
    CHECK(route_base_alloc(b, 3, 3, 1, 4) == 0, "a base allocates");
    b->regions[0] = (struct base_region){"cn-shanghai", 31.23, 121.47};
    b->regions[1] = (struct base_region){"cn-beijing", 39.9, 116.4};
    b->regions[2] = (struct base_region){"cn-guiyang", 26.65, 106.63};
    b->latency[0] = (struct base_latency){0, 1, 28.6, RTT_MEASURED};
    static const char *ids[] = {"bj-1", "gy-1", "xx-1"};
    static const char *regions[] = {"cn-beijing", "cn-guiyang", "mars-1"};
    for (size_t i = 0; i < 3; i++) {
        b->centers[i].id = ids[i];
        b->centers[i].region = regions[i];
        b->centers[i].status = i == 1 ? CENTER_DRAINING : CENTER_ACTIVE;
        b->center_region[i] = i < 2 ? (i == 0 ? 1 : 2) : 3; /* xx-1: unknown region */
        b->staleness_ms[i] = 180000;
    }
    b->centers[0].labels = LABELS;
    b->centers[0].nlabels = 3;
    static const char *models[] = {"A100", "H800", "Ascend910B", "L40S"};
    for (size_t i = 0; i < 4; i++) {
        struct route_pool *p = &b->pools[i];
        p->center = i < 2 ? 0 : i - 1;
        p->model = models[i];
        p->domestic = i == 2;
        p->memory_gib = 80;
        for (int k = 0; k < PREC_COUNT; k++)
            p->tflops[k] = 0.1 * (double)(k + 1) + 0.2; /* not exact in binary */
        p->total = 512;
        p->free = 100 + (long)i;
        p->largest_block = 8;
        p->price = 28.5 * 7.1 / 3.0; /* a converted price: all 17 digits matter */
        b->list_price[i] = i == 1 ? 3.9 : p->price;
        b->currency[i] = i == 1 ? "USD" : "CNY";
        b->observed_at[i] = 1795324343896 - (int64_t)i * 100000;
    }
    b->pools[3].tflops[PREC_FP8] = 1e-300;
    b->pools[3].memory_gib = 1e300;
}

static void test_input(void)
{
    struct route_base b;
    struct route_input in;
    build(&b);
    long held[4] = {5, 0, 0, 0}, unseen[4] = {0, 3, 0, 0};
    CHECK(route_base_input(&b, "cn-atlantis", 0, NULL, NULL, &in) == -ENOENT,
          "an unknown origin is -ENOENT");
    int64_t now = 1795324343896 + 1000;
    CHECK(route_base_input(&b, "cn-shanghai", now, held, unseen, &in) == 0, "inputs for Shanghai");
    CHECK(in.centers[0].rtt_ms == 28.6 && in.centers[0].rtt_source == RTT_MEASURED,
          "Shanghai -> Beijing from the latency table, either direction (28.6 measured)");
    double est = geo_estimate_rtt_ms(31.23, 121.47, 26.65, 106.63);
    CHECK(in.centers[1].rtt_ms == est && in.centers[1].rtt_source == RTT_ESTIMATED,
          "Shanghai -> Guiyang estimated by great circle (%.3f ms)", est);
    CHECK(in.centers[2].rtt_ms >= 1e9, "a center in an unknown region is unreachable");
    CHECK(in.pools[0].held == 5 && in.pools[1].confirmed_unseen == 3 && in.pools[2].held == 0,
          "holds and confirmed-unseen cards per pool");
    /* observed 0, 100 s, 200 s, 300 s before now - 1 s; the limit is 180 s */
    CHECK(!in.pools[0].stale && !in.pools[1].stale && in.pools[2].stale && in.pools[3].stale,
          "staleness per pool against its center's limit");
    CHECK(in.list_price[1] == 3.9 && !strcmp(in.currency[1], "USD"),
          "list price and currency borrowed from the base");
    /* Pool 1 (observed 100 s before pool 0) turns stale 180 s + 1 ms after it was observed. */
    int64_t t = 1795324343896, until = route_input_stale(&b, now, &in);
    CHECK(until == t - 100000 + 180001, "the flags hold until pool 1 turns stale (%lld)",
          (long long)until);
    CHECK(route_input_stale(&b, until - 1, &in) == until && !in.pools[1].stale,
          "1 ms before, pool 1 is fresh");
    until = route_input_stale(&b, until, &in);
    CHECK(in.pools[1].stale && !in.pools[0].stale && until == t + 180001,
          "at that time it is stale, and pool 0 is next (%lld)", (long long)until);
    CHECK(route_input_stale(&b, until, &in) == INT64_MAX && in.pools[0].stale,
          "when every pool is stale none turns stale later");
    CHECK(route_input_stale(&b, now, &in) == t - 100000 + 180001 && !in.pools[0].stale &&
              !in.pools[1].stale && in.pools[2].stale,
          "back at the start (a clock stepped back) the flags are those of the start");
    long held2[4] = {0, 7, 0, 1};
    route_input_usage(&in, held2, NULL);
    CHECK(in.pools[0].held == 0 && in.pools[1].held == 7 && in.pools[3].held == 1 &&
              in.pools[1].confirmed_unseen == 0,
          "holds and confirmed-unseen cards set again");
    route_input_free(&in);
    CHECK(route_base_input(&b, "cn-beijing", now, NULL, NULL, &in) == 0 &&
              in.centers[0].rtt_ms == GEO_SAME_REGION_RTT_MS &&
              in.centers[0].rtt_source == RTT_CONFIGURED,
          "same region: the configured constant");
    route_input_free(&in);
    CHECK(route_base_pool(&b, "gy-1", "Ascend910B") == 2 &&
              route_base_pool(&b, "bj-1", "L40S") == 4,
          "pools are found by (center, model); a missing one is npools");
    route_base_free(&b);
}

static bool same_base(const struct route_base *a, const struct route_base *b)
{
    if (a->ncenters != b->ncenters || a->nregions != b->nregions || a->nlatency != b->nlatency ||
        a->npools != b->npools)
        return false;
    for (size_t i = 0; i < a->nregions; i++) {
        if (strcmp(a->regions[i].id, b->regions[i].id) || a->regions[i].lat != b->regions[i].lat ||
            a->regions[i].lon != b->regions[i].lon)
            return false;
    }
    if (memcmp(a->latency, b->latency, a->nlatency * sizeof(*a->latency)) != 0)
        return false;
    for (size_t i = 0; i < a->ncenters; i++) {
        const struct route_center *x = &a->centers[i], *y = &b->centers[i];
        if (strcmp(x->id, y->id) || strcmp(x->region, y->region) || x->status != y->status ||
            x->nlabels != y->nlabels || a->center_region[i] != b->center_region[i] ||
            a->staleness_ms[i] != b->staleness_ms[i])
            return false;
        for (size_t k = 0; k < x->nlabels; k++) {
            if (strcmp(x->labels[k].key, y->labels[k].key) ||
                strcmp(x->labels[k].value, y->labels[k].value))
                return false;
        }
    }
    for (size_t i = 0; i < a->npools; i++) {
        const struct route_pool *x = &a->pools[i], *y = &b->pools[i];
        if (x->center != y->center || strcmp(x->model, y->model) || x->domestic != y->domestic ||
            memcmp(&x->memory_gib, &y->memory_gib, sizeof(double)) ||
            memcmp(x->tflops, y->tflops, sizeof(x->tflops)) || x->total != y->total ||
            x->free != y->free || x->largest_block != y->largest_block ||
            memcmp(&x->price, &y->price, sizeof(double)) ||
            memcmp(&a->list_price[i], &b->list_price[i], sizeof(double)) ||
            strcmp(a->currency[i], b->currency[i]) || a->observed_at[i] != b->observed_at[i])
            return false;
    }
    return true;
}

static void test_round_trip(void)
{
    struct route_base a, b;
    build(&a);
    char *text = route_base_json(&a);
    CHECK(text != NULL, "a base is written as JSON");
    cJSON *doc = text ? cJSON_Parse(text) : NULL;
    CHECK(doc != NULL, "the text is valid JSON");
    CHECK(doc && route_base_from_json(doc, &b) == 0, "and reads back");
    CHECK(same_base(&a, &b),
          "every field comes back bit for bit: 17-digit doubles, 1e-300, 1e300, escaped and "
          "non-ASCII label strings");
    route_base_free(&b);
    free(text);

    /* Damaged documents are refused, and their memory freed (ASan/valgrind check that). */
    static const char *bad[] = {
        "{}",
        "{\"version\":2,\"regions\":[],\"latency\":[],\"centers\":[],\"pools\":[]}",
        "{\"version\":1,\"regions\":[],\"latency\":[],\"centers\":[],\"pools\":{}}",
        "{\"version\":1,\"regions\":[[\"a\",1]],\"latency\":[],\"centers\":[],\"pools\":[]}",
        "{\"version\":1,\"regions\":[[\"a\",1,2]],\"latency\":[[0,5,1,\"measured\"]],"
        "\"centers\":[],\"pools\":[]}",
        "{\"version\":1,\"regions\":[[\"a\",1,2]],\"latency\":[[0,0,1,\"guessed\"]],"
        "\"centers\":[],\"pools\":[]}",
        "{\"version\":1,\"regions\":[],\"latency\":[],\"centers\":[[\"c\",\"r\",0,\"active\","
        "{\"k\":1},1000]],\"pools\":[]}",
        "{\"version\":1,\"regions\":[],\"latency\":[],\"centers\":[[\"c\",\"r\",0,\"active\",{},"
        "1000]],\"pools\":[[3,\"A100\",false,80,[0,0,0,0,0,0,0],1,1,1,1,1,\"CNY\",0]]}",
        "{\"version\":1,\"regions\":[],\"latency\":[],\"centers\":[],\"pools\":[[0,\"A100\","
        "false,80,[0,0,0,0,0,0,0],1,1,1,1,1,\"CNY\",0]]}",
        "{\"version\":1,\"regions\":[],\"latency\":[],\"centers\":[[\"c\",\"r\",0,\"active\",{},"
        "1000]],\"pools\":[[0,\"A100\",0,80,[0,0,0],1,1,1,1,1,\"CNY\",0]]}",
        NULL};
    for (size_t i = 0; bad[i]; i++) {
        cJSON *d = cJSON_Parse(bad[i]);
        CHECK(d && route_base_from_json(d, &b) == -EINVAL, "damaged epoch %zu is refused", i);
    }
    route_base_free(&a);
}

int main(void)
{
    test_input();
    test_round_trip();
    return check_done();
}
