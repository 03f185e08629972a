/*
 * route-core — benchmark of the routing core (SPEC §7): decisions per second
 * of route_decide over fixed-seed inventories of 1k, 10k and 100k pools, next
 * to a plain linear scan of the same pools (the cheapest pool with enough free
 * cards of the precision) as the floor, measured the same way in the same run.
 * In-process, no I/O but the report on stdout. Not a test: `--smoke` only
 * checks that every size runs and places something.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "route.h"
#include "routebase.h"

#define DEFAULT_SEED 20240601ULL
#define DEFAULT_SECONDS 3.0
#define DEFAULT_ROUNDS 5
#define POOLS_PER_CENTER 4
#define MAX_SIZES 8
#define MAX_POOLS 10000000UL
#define ID_LEN 32              /* "bench-" and a center number */
#define NOW_MS 1767225600000LL /* 2026-01-01T00:00:00Z: the inventories' "now" */
#define STALENESS_MS 180000    /* 3 x a 60 s poll interval */

/* The regions of schema/003-regions.sql with their coordinates. */
static const struct base_region regions[] = {
    {"cn-beijing", 39.90, 116.41},     {"cn-tianjin", 39.13, 117.20},
    {"cn-zhangjiakou", 40.77, 114.88}, {"cn-shanghai", 31.23, 121.47},
    {"cn-hangzhou", 30.27, 120.16},    {"cn-nanjing", 32.06, 118.80},
    {"cn-hefei", 31.82, 117.23},       {"cn-wuhu", 31.33, 118.38},
    {"cn-suzhou", 31.30, 120.59},      {"cn-guangzhou", 23.13, 113.26},
    {"cn-shenzhen", 22.54, 114.06},    {"cn-shaoguan", 24.81, 113.60},
    {"cn-chengdu", 30.57, 104.07},     {"cn-chongqing", 29.56, 106.55},
    {"cn-guiyang", 26.65, 106.63},     {"cn-hohhot", 40.84, 111.75},
    {"cn-ulanqab", 40.99, 113.13},     {"cn-qingyang", 35.71, 107.64},
    {"cn-zhongwei", 37.51, 105.19},    {"cn-wuhan", 30.59, 114.31},
    {"cn-changsha", 28.23, 112.94},    {"cn-xian", 34.34, 108.94},
    {"cn-zhengzhou", 34.75, 113.63},   {"cn-jinan", 36.65, 117.12},
    {"cn-qingdao", 36.07, 120.38},     {"cn-taiyuan", 37.87, 112.55},
    {"cn-lanzhou", 36.06, 103.83},     {"cn-urumqi", 43.83, 87.62},
    {"cn-harbin", 45.80, 126.53},      {"cn-shenyang", 41.81, 123.43},
    {"cn-xiamen", 24.48, 118.09},      {"cn-fuzhou", 26.07, 119.30},
    {"cn-kunming", 25.04, 102.72},     {"cn-nanning", 22.82, 108.37},
};
#define NREGIONS (sizeof(regions) / sizeof(regions[0]))

/* The published city-pair RTTs of schema/003-regions.sql; every other pair is estimated. */
static const struct {
    const char *a, *b;
    double rtt_ms;
    enum rtt_source source;
} latencies[] = {
    {"cn-chengdu", "cn-guiyang", 6, RTT_CONFIGURED},
    {"cn-chongqing", "cn-guiyang", 6, RTT_CONFIGURED},
    {"cn-guangzhou", "cn-guiyang", 10, RTT_CONFIGURED},
    {"cn-guiyang", "cn-shenzhen", 10, RTT_CONFIGURED},
    {"cn-guiyang", "cn-shanghai", 15, RTT_CONFIGURED},
    {"cn-beijing", "cn-guiyang", 20, RTT_CONFIGURED},
    {"cn-guangzhou", "cn-shaoguan", 1.3, RTT_CONFIGURED},
    {"cn-shaoguan", "cn-shenzhen", 1.66, RTT_CONFIGURED},
    {"cn-shanghai", "cn-wuhu", 4, RTT_CONFIGURED},
    {"cn-beijing", "cn-taiyuan", 10, RTT_CONFIGURED},
    {"cn-beijing", "cn-tianjin", 2, RTT_CONFIGURED},
    {"cn-beijing", "cn-shanghai", 28.6, RTT_MEASURED},
};
#define NLATENCY (sizeof(latencies) / sizeof(latencies[0]))

/*
 * Accelerators: dense TFLOPS per precision (fp64, fp32, tf32, bf16, fp16, fp8,
 * int8) from tests/data/accelerators.csv; list prices in CNY per card-hour
 * near the demo feed's (schema/demo.json), illustrative.
 */
static const struct {
    const char *model;
    bool domestic;
    double memory_gib;
    double tflops[PREC_COUNT];
    double price;
} models[] = {
    {"A100", false, 80, {9.7, 19.5, 156, 312, 312, 0, 624}, 10.5},
    {"A800", false, 80, {9.7, 19.5, 156, 312, 312, 0, 624}, 11.0},
    {"Ascend910B", true, 64, {0, 0, 0, 320, 320, 0, 640}, 9.5},
    {"BR100", true, 64, {0, 256, 512, 1024, 0, 0, 2048}, 9.0},
    {"DCU-Z100", true, 32, {10.1, 0, 0, 0, 0, 0, 0}, 2.5},
    {"H100", false, 80, {34, 67, 494.5, 989.5, 989.5, 1979, 1979}, 26.0},
    {"H20", false, 96, {1, 44, 74, 148, 148, 296, 296}, 12.0},
    {"H800", false, 80, {1, 67, 494.5, 989.5, 989.5, 1979, 1979}, 25.0},
    {"L40S", false, 48, {0, 91.6, 183, 362, 362, 733, 733}, 4.8},
    {"MLU370-X8", true, 48, {0, 24, 0, 96, 96, 0, 256}, 3.2},
    {"RTX4090", false, 24, {1.29, 82.6, 82.6, 165.2, 165.2, 330.3, 660.6}, 2.4},
    {"V100", false, 32, {7.8, 15.7, 0, 0, 125, 0, 0}, 3.8},
};
#define NMODELS (sizeof(models) / sizeof(models[0]))

static const struct label labels_gold[] = {{"tier", "gold"}};
static const struct label labels_residency[] = {{"residency", "domestic-data"}, {"tier", "gold"}};

static const char *const west_hubs[] = {"cn-guiyang", "cn-qingyang", "cn-zhongwei", "cn-ulanqab",
                                        "cn-hohhot"};
static const char *const denied_north[] = {"cn-beijing", "cn-tianjin", "cn-zhangjiakou"};
static const char *const allowed_delta[] = {"cn-shanghai", "cn-hangzhou", "cn-nanjing",
                                            "cn-hefei",    "cn-wuhu",     "cn-suzhou"};

/* One voucher: 30 % of the list total at the western hubs, 50,000 CNY left. */
static const struct route_voucher voucher = {
    .id = "v-west-hubs",
    .rate = 0.3,
    .balance = 50000,
    .usable = true,
    .regions = west_hubs,
    .nregions = sizeof(west_hubs) / sizeof(west_hubs[0]),
};

#define W_DEFAULT                                                                                  \
    {                                                                                              \
        1.0, 0.5, 0.2                                                                              \
    }
#define NO_LIMITS .max_latency_ms = -1, .max_price = -1

/* The fixed request mix, run in this order over and over. */
static const struct bench_request {
    const char *origin;
    bool voucher;
    struct route_request r;
} requests[] = {
    {"cn-shanghai", false, {PREC_BF16, 8, 0, 24, NO_LIMITS, .gang = true, .weights = W_DEFAULT}},
    {"cn-beijing", false, {PREC_FP16, 0, 2.0, 72, NO_LIMITS, .gang = true, .weights = W_DEFAULT}},
    {"cn-shenzhen", false, {PREC_FP32, 256, 0, 8, NO_LIMITS, .gang = false, .weights = W_DEFAULT}},
    {"cn-hangzhou",
     false,
     {PREC_INT8, 16, 0, 4, .max_latency_ms = 20, .max_price = -1, .gang = true,
      .weights = W_DEFAULT}},
    {"cn-chengdu",
     false,
     {PREC_FP16, 4, 0, 10, .max_latency_ms = -1, .max_price = 8, .gang = true,
      .weights = W_DEFAULT}},
    {"cn-shanghai", true, {PREC_BF16, 32, 0, 168, NO_LIMITS, .gang = true, .weights = W_DEFAULT}},
    {"cn-beijing",
     false,
     {PREC_BF16, 64, 0, 48, NO_LIMITS, .domestic_only = true, .gang = true, .weights = W_DEFAULT}},
    {"cn-wuhan",
     false,
     {PREC_TF32, 0, 40.0, 12, .max_latency_ms = 30, .max_price = -1, .gang = false,
      .weights = W_DEFAULT}},
    {"cn-shenzhen", false, {PREC_FP64, 2, 0, 1, NO_LIMITS, .gang = true, .weights = W_DEFAULT}},
    {"cn-shanghai",
     false,
     {PREC_FP16, 8, 0, 24, NO_LIMITS, .labels = labels_gold, .nlabels = 1, .gang = true,
      .weights = W_DEFAULT}},
    {"cn-hangzhou",
     false,
     {PREC_FP8, 8, 0, 24, NO_LIMITS, .regions_denied = denied_north, .ndenied = 3, .gang = true,
      .weights = W_DEFAULT}},
    {"cn-shanghai",
     false,
     {PREC_BF16, 16, 0, 24, NO_LIMITS, .min_memory_gib = 80, .regions_allowed = allowed_delta,
      .nallowed = 6, .gang = true, .weights = W_DEFAULT}},
    {"cn-chengdu", true, {PREC_INT8, 128, 0, 6, NO_LIMITS, .gang = false, .weights = {1, 0, 0}}},
    {"cn-beijing",
     true,
     {PREC_BF16, 0, 10.0, 24, .max_latency_ms = 25, .max_price = 12, .gang = true,
      .weights = {0.5, 2, 0.2}}},
    {"cn-wuhan", false, {PREC_FP16, 1, 0, 1, NO_LIMITS, .gang = true, .weights = {0, 1, 0}}},
    {"cn-shenzhen",
     false,
     {PREC_BF16, 512, 0, 24, .max_latency_ms = 40, .max_price = 15, .gang = false,
      .weights = W_DEFAULT}},
};
#define NREQUESTS (sizeof(requests) / sizeof(requests[0]))

/* ---- inventories ---- */

struct inventory {
    struct route_base base;
    char *ids;                            /* owned: the center ids, 16 bytes each */
    long *held;                           /* owned: cards in live holds, per pool */
    struct route_input inputs[NREQUESTS]; /* owned: the core's inputs per request's origin */
};

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static size_t draw(uint64_t *s, size_t n)
{
    return (size_t)(splitmix64(s) % n);
}

/* Uniform in [0, 1). */
static double draw01(uint64_t *s)
{
    return (double)(splitmix64(s) >> 11) / 9007199254740992.0;
}

static void inventory_free(struct inventory *inv)
{
    for (size_t i = 0; i < NREQUESTS; i++)
        route_input_free(&inv->inputs[i]);
    route_base_free(&inv->base);
    free(inv->ids);
    free(inv->held);
    memset(inv, 0, sizeof(*inv));
}

/*
 * Builds npools pools (POOLS_PER_CENTER distinct models per center, ordered by
 * center id then model, as the store loads them) in centers spread over the
 * regions, and the core's inputs for every request's origin. 0 or -ENOMEM.
 */
static int inventory_build(struct inventory *inv, size_t npools, uint64_t seed)
{
    size_t ncenters = (npools + POOLS_PER_CENTER - 1) / POOLS_PER_CENTER;
    uint64_t s = seed ^ (uint64_t)npools;
    int r;

    memset(inv, 0, sizeof(*inv));
    r = route_base_alloc(&inv->base, ncenters, NREGIONS, NLATENCY, npools);
    if (r < 0)
        return r;
    struct route_base *b = &inv->base;
    inv->ids = calloc(ncenters, ID_LEN);
    inv->held = calloc(npools, sizeof(*inv->held));
    if (!inv->ids || !inv->held) {
        inventory_free(inv);
        return -ENOMEM;
    }
    memcpy(b->regions, regions, sizeof(regions));
    for (size_t i = 0; i < NLATENCY; i++) {
        b->latency[i].a = route_base_region(b, latencies[i].a);
        b->latency[i].b = route_base_region(b, latencies[i].b);
        b->latency[i].rtt_ms = latencies[i].rtt_ms;
        b->latency[i].source = latencies[i].source;
    }

    size_t p = 0;
    for (size_t c = 0; c < ncenters; c++) {
        char *id = inv->ids + ID_LEN * c;
        snprintf(id, ID_LEN, "bench-%07zu", c);
        size_t region = draw(&s, NREGIONS);
        size_t u = draw(&s, 100);
        struct route_center *rc = &b->centers[c];
        rc->id = id;
        rc->region = regions[region].id;
        rc->status = u < 96 ? CENTER_ACTIVE : u < 99 ? CENTER_DRAINING : CENTER_DISABLED;
        u = draw(&s, 100);
        if (u < 10) {
            rc->labels = labels_residency;
            rc->nlabels = 2;
        } else if (u < 30) {
            rc->labels = labels_gold;
            rc->nlabels = 1;
        }
        b->center_region[c] = region;
        b->staleness_ms[c] = STALENESS_MS;

        /* POOLS_PER_CENTER distinct models, in name order (the table is sorted by name). */
        bool pick[NMODELS] = {false};
        size_t want = npools - p < POOLS_PER_CENTER ? npools - p : POOLS_PER_CENTER;
        for (size_t k = 0; k < want;) {
            size_t m = draw(&s, NMODELS);
            if (!pick[m]) {
                pick[m] = true;
                k++;
            }
        }
        for (size_t m = 0; m < NMODELS; m++) {
            if (!pick[m])
                continue;
            struct route_pool *rp = &b->pools[p];
            static const long sizes[] = {64, 128, 256, 512, 1024, 2048, 4096};
            rp->center = c;
            rp->model = models[m].model;
            rp->domestic = models[m].domestic;
            rp->memory_gib = models[m].memory_gib;
            memcpy(rp->tflops, models[m].tflops, sizeof(rp->tflops));
            rp->total = sizes[draw(&s, sizeof(sizes) / sizeof(sizes[0]))];
            rp->free = draw(&s, 10) == 0 ? 0 : (long)draw(&s, (size_t)rp->total + 1);
            rp->largest_block = rp->free < 8 ? rp->free : 8;
            rp->price = round(models[m].price * (0.8 + 0.5 * draw01(&s)) * 100) / 100;
            b->list_price[p] = rp->price;
            b->currency[p] = "CNY";
            /* 2 % of the feeds are an hour old: stale. */
            b->observed_at[p] = NOW_MS - (draw(&s, 50) == 0 ? 3600000 : (int64_t)draw(&s, 120000));
            if (draw(&s, 10) == 0 && rp->free > 0)
                inv->held[p] = (long)draw(&s, (size_t)rp->free / 4 + 1);
            p++;
        }
    }

    for (size_t i = 0; i < NREQUESTS; i++) {
        r = route_base_input(b, requests[i].origin, NOW_MS, inv->held, NULL, &inv->inputs[i]);
        if (r < 0) {
            inventory_free(inv);
            return r;
        }
    }
    return 0;
}

/* ---- the measured operations ---- */

enum kind { KIND_DECIDE, KIND_INPUT_DECIDE, KIND_SCAN, KIND_TOP, KIND_COUNT };

static const char *const kind_names[KIND_COUNT] = {"decide", "input+decide", "scan", "top"};

struct tally {
    uint64_t ops;
    uint64_t placed; /* decisions that placed something, scans that found a pool */
    uint64_t sink;   /* chosen indices summed, so nothing is optimised away */
    double seconds;
};

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

/* route_decide on the prebuilt inputs of request i. */
static int op_decide(const struct inventory *inv, size_t i, struct tally *t)
{
    const struct route_input *in = &inv->inputs[i];
    struct route_result res;
    int r = route_decide(&requests[i].r, in->centers, in->ncenters, in->pools, in->npools,
                         requests[i].voucher ? &voucher : NULL, requests[i].voucher ? 1 : 0, &res);
    if (r < 0)
        return r;
    if (res.placed) {
        t->placed++;
        t->sink += res.pieces[0].candidate + res.npieces;
    }
    route_result_free(&res);
    return 0;
}

/* What a request costs the daemon's routing: the inputs for its origin, then route_decide. */
static int op_input_decide(const struct inventory *inv, size_t i, struct tally *t)
{
    struct route_input in;
    struct route_result res;
    int r = route_base_input(&inv->base, requests[i].origin, NOW_MS, inv->held, NULL, &in);
    if (r < 0)
        return r;
    r = route_decide(&requests[i].r, in.centers, in.ncenters, in.pools, in.npools,
                     requests[i].voucher ? &voucher : NULL, requests[i].voucher ? 1 : 0, &res);
    route_input_free(&in);
    if (r < 0)
        return r;
    if (res.placed) {
        t->placed++;
        t->sink += res.pieces[0].candidate + res.npieces;
    }
    route_result_free(&res);
    return 0;
}

/*
 * What the daemon does per request: the inputs for the origin are kept
 * between inventory changes, and only the top of the ranking is ranked (the
 * record ranks the rest when it is read).
 */
static int op_top(const struct inventory *inv, size_t i, struct tally *t)
{
    const struct route_input *in = &inv->inputs[i];
    struct route_result res;
    int r = route_decide_ranked(&requests[i].r, in->centers, in->ncenters, in->pools, in->npools,
                                requests[i].voucher ? &voucher : NULL, requests[i].voucher ? 1 : 0,
                                0, &res);
    if (r < 0)
        return r;
    if (res.placed) {
        t->placed++;
        t->sink += res.pieces[0].candidate + res.npieces;
    }
    route_result_free(&res);
    return 0;
}

/*
 * The floor: one pass over the same pools, keeping the cheapest active, fresh
 * pool that runs the precision and has the cards free. No other filter, no
 * score, no record.
 */
static int op_scan(const struct inventory *inv, size_t i, struct tally *t)
{
    const struct route_input *in = &inv->inputs[i];
    const struct route_request *req = &requests[i].r;
    size_t best = in->npools;
    double best_price = INFINITY;
    for (size_t k = 0; k < in->npools; k++) {
        const struct route_pool *p = &in->pools[k];
        double tf = p->tflops[req->precision];
        if (!(tf > 0) || p->stale || in->centers[p->center].status != CENTER_ACTIVE)
            continue;
        long cards = req->cards > 0 ? req->cards : (long)ceil(req->pflops * 1000 / tf);
        if (p->free - p->held < cards || p->price >= best_price)
            continue;
        best = k;
        best_price = p->price;
    }
    if (best < in->npools) {
        t->placed++;
        t->sink += best;
    }
    return 0;
}

typedef int op_fn(const struct inventory *inv, size_t i, struct tally *t);

static op_fn *const ops[KIND_COUNT] = {op_decide, op_input_decide, op_scan, op_top};

/*
 * Runs one kind for about `seconds`, cycling through the requests from *next.
 * Reads the clock after batches that grow until a batch takes 1 ms, so the
 * clock costs nothing next to the floor's fastest pass.
 */
static int run_slice(const struct inventory *inv, enum kind k, double seconds, size_t *next,
                     struct tally *t)
{
    double t0 = now_s(), t1 = t0;
    size_t batch = 1;
    do {
        for (size_t b = 0; b < batch; b++) {
            int r = ops[k](inv, *next, t);
            if (r < 0)
                return r;
            *next = (*next + 1) % NREQUESTS;
            t->ops++;
        }
        double t2 = now_s();
        if (t2 - t1 < 1e-3 && batch < (1u << 20))
            batch *= 2;
        t1 = t2;
    } while (t1 - t0 < seconds);
    t->seconds += t1 - t0;
    return 0;
}

/* ---- main ---- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: route-core [options]\n"
            "  --seconds S   measuring time per size, shared by the three kinds (default %.0f)\n"
            "  --rounds N    interleave the kinds in N rounds per size (default %d)\n"
            "  --sizes LIST  pool counts, comma-separated (default 1000,10000,100000)\n"
            "  --seed N      inventory seed (default %llu)\n"
            "  --smoke       about one second in all: --seconds 0.25 --rounds 1\n"
            "  --help\n",
            DEFAULT_SECONDS, DEFAULT_ROUNDS, (unsigned long long)DEFAULT_SEED);
}

static int parse_sizes(const char *s, size_t *sizes, size_t *ret_n)
{
    size_t n = 0;
    while (*s) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno || end == s || v == 0 || v > MAX_POOLS || n == MAX_SIZES ||
            (*end != ',' && *end != '\0'))
            return -EINVAL;
        sizes[n++] = v;
        s = *end == ',' ? end + 1 : end;
    }
    if (n == 0)
        return -EINVAL;
    *ret_n = n;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {{"seconds", required_argument, NULL, 's'},
                                             {"rounds", required_argument, NULL, 'r'},
                                             {"sizes", required_argument, NULL, 'z'},
                                             {"seed", required_argument, NULL, 'e'},
                                             {"smoke", no_argument, NULL, 'k'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    double seconds = DEFAULT_SECONDS;
    long rounds = DEFAULT_ROUNDS;
    uint64_t seed = DEFAULT_SEED;
    size_t sizes[MAX_SIZES] = {1000, 10000, 100000}, nsizes = 3;
    bool smoke = false;
    char *end;
    int c;

    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            seconds = strtod(optarg, &end);
            if (*end || !(seconds > 0 && seconds <= 3600)) {
                fprintf(stderr, "route-core: --seconds wants a number in (0, 3600]\n");
                return 2;
            }
            break;
        case 'r':
            rounds = strtol(optarg, &end, 10);
            if (*end || rounds < 1 || rounds > 1000) {
                fprintf(stderr, "route-core: --rounds wants 1 to 1000\n");
                return 2;
            }
            break;
        case 'z':
            if (parse_sizes(optarg, sizes, &nsizes) < 0) {
                fprintf(stderr, "route-core: --sizes wants up to %d counts in 1..%lu\n", MAX_SIZES,
                        MAX_POOLS);
                return 2;
            }
            break;
        case 'e':
            seed = strtoull(optarg, &end, 10);
            if (*end) {
                fprintf(stderr, "route-core: --seed wants an integer\n");
                return 2;
            }
            break;
        case 'k':
            smoke = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return 2;
    }
    if (smoke) {
        seconds = 0.25;
        rounds = 1;
    }

    size_t norigins = 0;
    for (size_t i = 0; i < NREQUESTS; i++) {
        size_t j = 0;
        while (j < i && strcmp(requests[j].origin, requests[i].origin) != 0)
            j++;
        norigins += j == i;
    }
    printf("route-core: %zu requests (mixed precisions, gang and split, latency/price/memory "
           "limits, labels, regions, a voucher) from %zu origins; %d pools per center "
           "in %zu regions; seed %" PRIu64 "; %.2f s per size in %ld interleaved rounds\n",
           NREQUESTS, norigins, POOLS_PER_CENTER, NREGIONS, seed, seconds, rounds);
    printf("%9s %8s %12s %14s %12s %12s %8s %8s %6s %12s %10s\n", "pools", "centers", "decisions/s",
           "input+decide/s", "scan/s", "decide/scan", "placed%", "found%", "cpu%", "top/s",
           "top/scan");

    double rate[MAX_SIZES][KIND_COUNT];
    for (size_t z = 0; z < nsizes; z++) {
        struct inventory inv;
        struct tally t[KIND_COUNT] = {{0}};
        size_t next[KIND_COUNT] = {0};
        int r = inventory_build(&inv, sizes[z], seed);
        if (r < 0) {
            fprintf(stderr, "route-core: building %zu pools: %s\n", sizes[z], strerror(-r));
            return 1;
        }
        /* A short untimed run of each kind first: page faults and cold caches are not the figure.
         */
        for (int k = 0; k < KIND_COUNT && r == 0; k++) {
            struct tally warm = {0};
            r = run_slice(&inv, (enum kind)k, seconds / (20.0 * KIND_COUNT), &next[k], &warm);
        }
        if (r < 0) {
            fprintf(stderr, "route-core: at %zu pools: %s\n", sizes[z], strerror(-r));
            inventory_free(&inv);
            return 1;
        }
        /* Kinds take turns in every round, so a burst of load elsewhere hits all of them. */
        double wall0 = now_s(), cpu0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        for (long round = 0; round < rounds; round++) {
            for (int k = 0; k < KIND_COUNT; k++) {
                r = run_slice(&inv, (enum kind)k, seconds / (double)(rounds * KIND_COUNT), &next[k],
                              &t[k]);
                if (r < 0) {
                    fprintf(stderr, "route-core: %s at %zu pools: %s\n", kind_names[k], sizes[z],
                            strerror(-r));
                    inventory_free(&inv);
                    return 1;
                }
            }
        }
        /* The share of one core this process got while measuring: low means a busy machine. */
        double cpu = 100 * (clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / (now_s() - wall0);
        for (int k = 0; k < KIND_COUNT; k++)
            rate[z][k] = (double)t[k].ops / t[k].seconds;
        printf("%9zu %8zu %12.0f %14.0f %12.0f %12.4f %8.1f %8.1f %6.0f %12.0f %10.4f\n", sizes[z],
               inv.base.ncenters, rate[z][KIND_DECIDE], rate[z][KIND_INPUT_DECIDE],
               rate[z][KIND_SCAN], rate[z][KIND_DECIDE] / rate[z][KIND_SCAN],
               100.0 * (double)t[KIND_DECIDE].placed / (double)t[KIND_DECIDE].ops,
               100.0 * (double)t[KIND_SCAN].placed / (double)t[KIND_SCAN].ops, cpu,
               rate[z][KIND_TOP], rate[z][KIND_TOP] / rate[z][KIND_SCAN]);
        fflush(stdout);
        uint64_t sink =
            t[KIND_DECIDE].sink + t[KIND_INPUT_DECIDE].sink + t[KIND_SCAN].sink + t[KIND_TOP].sink;
        bool none = t[KIND_DECIDE].placed == 0 || t[KIND_TOP].placed == 0;
        inventory_free(&inv);
        if (none || sink == 0) {
            fprintf(stderr, "route-core: nothing placed at %zu pools\n", sizes[z]);
            return 1;
        }
    }
    if (nsizes > 1) {
        size_t l = nsizes - 1;
        double pools = (double)sizes[l] / (double)sizes[0];
        double gd = rate[0][KIND_DECIDE] / rate[l][KIND_DECIDE];
        double gs = rate[0][KIND_SCAN] / rate[l][KIND_SCAN];
        printf("growth %zu->%zu pools (x%.0f): decide x%.1f, input+decide x%.1f, scan x%.1f; "
               "decide growth / scan growth %.2f\n",
               sizes[0], sizes[l], pools, gd,
               rate[0][KIND_INPUT_DECIDE] / rate[l][KIND_INPUT_DECIDE], gs, gd / gs);
    }
    return 0;
}
