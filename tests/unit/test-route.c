/*
 * test-route — the routing core against SPEC §2: every reject reason in its
 * order, each tie rule, single-term weights, PFLOPS to cards, voucher
 * arithmetic and cap, gang=false splitting, and a randomized property test
 * (fixed seed) that the choice never breaks a hard filter and no eligible
 * candidate scores strictly lower. Expected values are worked by hand.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "route.h"

/* A100 SXM4 80GB and Ascend 910B rows of the catalog (dense TFLOPS). */
static const double A100_TF[PREC_COUNT] = {19.5, 19.5, 156, 312, 312, 0, 624};
static const double H800_TF[PREC_COUNT] = {1, 67, 494.5, 989.5, 989.5, 1979, 1979};
static const double ASC_TF[PREC_COUNT] = {0, 0, 0, 320, 320, 0, 640};

static struct label grade3 = {"grade", "dengbao3"};

static struct route_center centers[3];
static struct route_pool pools[4];

/* World: sh (rtt 1) A100 @ 10/h, bj (rtt 28) Ascend910B @ 8/h, gy (rtt 15) H800 @ 25/h. */
static void world(void)
{
    memset(centers, 0, sizeof(centers));
    memset(pools, 0, sizeof(pools));
    centers[0] =
        (struct route_center){"sh-a", "cn-shanghai", CENTER_ACTIVE, NULL, 0, 1.0, RTT_CONFIGURED};
    centers[1] =
        (struct route_center){"bj-b", "cn-beijing", CENTER_ACTIVE, &grade3, 1, 28.0, RTT_MEASURED};
    centers[2] =
        (struct route_center){"gy-c", "cn-guiyang", CENTER_ACTIVE, NULL, 0, 15.0, RTT_ESTIMATED};
    pools[0] = (struct route_pool){.center = 0,
                                   .model = "A100",
                                   .domestic = false,
                                   .memory_gib = 80,
                                   .total = 100,
                                   .free = 40,
                                   .largest_block = 8,
                                   .price = 10};
    memcpy(pools[0].tflops, A100_TF, sizeof(A100_TF));
    pools[1] = (struct route_pool){.center = 1,
                                   .model = "Ascend910B",
                                   .domestic = true,
                                   .memory_gib = 64,
                                   .total = 200,
                                   .free = 150,
                                   .largest_block = 8,
                                   .price = 8};
    memcpy(pools[1].tflops, ASC_TF, sizeof(ASC_TF));
    pools[2] = (struct route_pool){.center = 2,
                                   .model = "H800",
                                   .domestic = false,
                                   .memory_gib = 80,
                                   .total = 64,
                                   .free = 64,
                                   .largest_block = 8,
                                   .price = 25};
    memcpy(pools[2].tflops, H800_TF, sizeof(H800_TF));
}

static struct route_request base_request(void)
{
    return (struct route_request){.precision = PREC_BF16,
                                  .cards = 16,
                                  .hours = 10,
                                  .max_latency_ms = -1,
                                  .max_price = -1,
                                  .gang = true,
                                  .weights = weights_default};
}

static const struct route_candidate *cand(const struct route_result *r, size_t pool)
{
    return &r->candidates[pool];
}

static const char *chosen_center(const struct route_result *r)
{
    if (!r->placed)
        return "(none)";
    return centers[pools[r->candidates[r->pieces[0].candidate].pool].center].id;
}

/* ---- each reject reason, and the filter order ---- */

struct reject_case {
    const char *name;
    void (*mutate)(struct route_request *req);
    size_t pool;
    enum reject want;
};

static const char *only_bj[] = {"cn-beijing"};
static const char *deny_sh[] = {"cn-shanghai"};
static void m_inactive(struct route_request *q)
{
    (void)q;
    centers[0].status = CENTER_DRAINING;
}
static void m_disabled(struct route_request *q)
{
    (void)q;
    centers[0].status = CENTER_DISABLED;
}
static void m_stale(struct route_request *q)
{
    (void)q;
    pools[0].stale = true;
}
static void m_allowed(struct route_request *q)
{
    q->regions_allowed = only_bj;
    q->nallowed = 1;
}
static void m_denied(struct route_request *q)
{
    q->regions_denied = deny_sh;
    q->ndenied = 1;
}
static void m_label(struct route_request *q)
{
    q->labels = &grade3;
    q->nlabels = 1;
}
static void m_domestic(struct route_request *q)
{
    q->domestic_only = true;
}
static void m_precision(struct route_request *q)
{
    q->precision = PREC_FP8;
}
static void m_memory(struct route_request *q)
{
    q->min_memory_gib = 96;
}
static void m_latency(struct route_request *q)
{
    q->max_latency_ms = 10;
}
static void m_capacity(struct route_request *q)
{
    q->cards = 41;
}
static void m_held(struct route_request *q)
{
    (void)q;
    pools[0].held = 20;
    pools[0].confirmed_unseen = 5;
}
static void m_price(struct route_request *q)
{
    q->max_price = 9.99;
}
static void m_first_wins(struct route_request *q)
{
    centers[0].status = CENTER_DISABLED; /* also stale and too small: inactive comes first */
    pools[0].stale = true;
    q->cards = 1000;
}
static void m_stale_before_region(struct route_request *q)
{
    pools[0].stale = true;
    q->regions_denied = deny_sh;
    q->ndenied = 1;
}
static void m_latency_before_capacity(struct route_request *q)
{
    q->max_latency_ms = 0.5;
    q->cards = 1000;
}

static const struct reject_case reject_cases[] = {
    {"draining center", m_inactive, 0, REJECT_CENTER_INACTIVE},
    {"disabled center", m_disabled, 0, REJECT_CENTER_INACTIVE},
    {"stale feed", m_stale, 0, REJECT_STALE_FEED},
    {"not in regions_allowed", m_allowed, 0, REJECT_REGION_EXCLUDED},
    {"in regions_denied", m_denied, 0, REJECT_REGION_EXCLUDED},
    {"label missing", m_label, 0, REJECT_LABEL_MISMATCH},
    {"label present passes", m_label, 1, REJECT_NONE},
    {"domestic_only on NVIDIA", m_domestic, 0, REJECT_NOT_DOMESTIC},
    {"domestic_only on Ascend passes", m_domestic, 1, REJECT_NONE},
    {"fp8 on A100", m_precision, 0, REJECT_PRECISION_UNSUPPORTED},
    {"fp8 on Ascend910B", m_precision, 1, REJECT_PRECISION_UNSUPPORTED},
    {"fp8 on H800 passes", m_precision, 2, REJECT_NONE},
    {"96 GiB on 80 GiB", m_memory, 0, REJECT_MEMORY_TOO_SMALL},
    {"rtt 28 over 10 ms", m_latency, 1, REJECT_LATENCY_EXCEEDS},
    {"rtt 1 within 10 ms", m_latency, 0, REJECT_NONE},
    {"41 cards of 40 free", m_capacity, 0, REJECT_INSUFFICIENT_CAPACITY},
    {"16 of 40-20-5 available", m_held, 0, REJECT_INSUFFICIENT_CAPACITY},
    {"10/h over 9.99", m_price, 0, REJECT_PRICE_EXCEEDS},
    {"8/h within 9.99", m_price, 1, REJECT_NONE},
    {"inactive before stale and capacity", m_first_wins, 0, REJECT_CENTER_INACTIVE},
    {"stale before region", m_stale_before_region, 0, REJECT_STALE_FEED},
    {"latency before capacity", m_latency_before_capacity, 1, REJECT_LATENCY_EXCEEDS},
};

static void test_rejects(void)
{
    for (size_t i = 0; i < sizeof(reject_cases) / sizeof(reject_cases[0]); i++) {
        const struct reject_case *c = &reject_cases[i];
        struct route_result r;
        world();
        struct route_request q = base_request();
        c->mutate(&q);
        int rc = route_decide(&q, centers, 3, pools, 3, NULL, 0, &r);
        CHECK(rc == 0, "%s: decide returns 0", c->name);
        if (rc == 0)
            CHECK(cand(&r, c->pool)->reason == c->want, "%s: reason %s, want %s", c->name,
                  reject_name(cand(&r, c->pool)->reason), reject_name(c->want));
        route_result_free(&r);
    }
}

/* ---- price after subsidy: a voucher can bring a pool under max_price ---- */

static void test_price_after_subsidy(void)
{
    struct route_result r;
    world();
    struct route_request q = base_request();
    q.max_price = 9.0; /* A100 lists at 10/h; 20% off makes it 8/h */
    struct route_voucher v = {.id = "V1", .rate = 0.2, .balance = 1e9, .usable = true};
    route_decide(&q, centers, 3, pools, 3, &v, 1, &r);
    CHECK(cand(&r, 0)->reason == REJECT_NONE, "voucher brings A100 to 8/h under 9/h");
    CHECK(cand(&r, 2)->reason == REJECT_PRICE_EXCEEDS, "H800 at 20/h stays over 9/h");
    route_result_free(&r);
}

/* ---- scores worked by hand for the default weights ---- */

static void test_scores(void)
{
    struct route_result r;
    world();
    struct route_request q = base_request();
    /*
     * 16 cards x 10 h: sh A100 list 1600, bj Ascend 1280, gy H800 4000. min_eff 1280.
     * cost terms: 1.25, 1.0, 3.125. rtt 1, 28, 15; min 1: latency (rtt+1)/2 = 1, 14.5, 8.
     * util_after: sh (60 used + 16)/100 = 0.76; bj (50 + 16)/200 = 0.33; gy (0 + 16)/64 = 0.25.
     * scores: sh 1.25 + 0.5*1 + 0.2*1.76 = 2.102; bj 1 + 7.25 + 0.2*1.33 = 8.516;
     *         gy 3.125 + 4 + 0.2*1.25 = 7.375. sh wins, then gy, then bj.
     */
    route_decide(&q, centers, 3, pools, 3, NULL, 0, &r);
    CHECK_NEAR(cand(&r, 0)->score, 2.102, 1e-9, "sh score");
    CHECK_NEAR(cand(&r, 1)->score, 8.516, 1e-9, "bj score");
    CHECK_NEAR(cand(&r, 2)->score, 7.375, 1e-9, "gy score");
    CHECK_NEAR(cand(&r, 1)->terms.latency, 14.5, 1e-12, "bj latency term");
    CHECK_NEAR(cand(&r, 2)->util_after, 0.25, 1e-12, "gy util_after");
    CHECK_STR(chosen_center(&r), "sh-a", "chosen");
    CHECK_EQ_LONG(cand(&r, 2)->rank, 1, "gy rank");
    CHECK_EQ_LONG(cand(&r, 1)->rank, 2, "bj rank");
    CHECK_NEAR(r.list_total, 1600, 1e-9, "list total");
    char buf[512];
    route_explain(&q, centers, pools, &r, buf, sizeof(buf));
    CHECK(strstr(buf, "gy-c/H800") && strstr(buf, "lost on latency"),
          "explanation names the runner-up and its worst term: %s", buf);
    route_result_free(&r);
}

/* ---- single-term weights give the argmin of that term ---- */

static void test_single_terms(void)
{
    struct {
        const char *name;
        struct weights w;
        const char *want;
    } cases[] = {
        {"cost only: cheapest (bj 1280)", {1, 0, 0}, "bj-b"},
        {"latency only: nearest (sh 1 ms)", {0, 1, 0}, "sh-a"},
        {"balance only: least used after (gy 0.25)", {0, 0, 1}, "gy-c"},
        {"latency only, big weight", {0, 1e6, 0}, "sh-a"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct route_result r;
        world();
        struct route_request q = base_request();
        q.weights = cases[i].w;
        route_decide(&q, centers, 3, pools, 3, NULL, 0, &r);
        CHECK_STR(chosen_center(&r), cases[i].want, cases[i].name);
        route_result_free(&r);
    }
}

/* ---- tie order: score, then effective total, then rtt, then center id, then model ---- */

static void test_ties(void)
{
    struct route_result r;
    struct route_request q = base_request();

    /* Equal scores, different totals: x eff 1600 (cost 1) rtt 3 (lat 2) = 3;
     * y eff 3200 (cost 2) rtt 1 (lat 1) = 3. Lower effective total wins: x. */
    world();
    q.weights = (struct weights){1, 1, 0};
    centers[0].rtt_ms = 3;
    centers[1].rtt_ms = 1;
    centers[1].labels = NULL;
    centers[1].nlabels = 0;
    pools[1].price = 20;
    memcpy(pools[1].tflops, A100_TF, sizeof(A100_TF));
    route_decide(&q, centers, 3, pools, 2, NULL, 0, &r);
    CHECK_NEAR(cand(&r, 0)->score, cand(&r, 1)->score, 1e-12, "scores tie");
    CHECK_STR(chosen_center(&r), "sh-a", "tie 1: lower effective total wins");
    route_result_free(&r);

    /* Equal score and total, different rtt: cost-only weights, same price. */
    world();
    q = base_request();
    q.weights = (struct weights){1, 0, 0};
    pools[1].price = 10;
    centers[0].rtt_ms = 5;
    centers[1].rtt_ms = 2;
    route_decide(&q, centers, 3, pools, 2, NULL, 0, &r);
    CHECK_STR(chosen_center(&r), "bj-b", "tie 2: lower rtt wins");
    route_result_free(&r);

    /* Same score, total and rtt: center id decides (bj-b < sh-a). */
    centers[0].rtt_ms = 2;
    route_decide(&q, centers, 3, pools, 2, NULL, 0, &r);
    CHECK_STR(chosen_center(&r), "bj-b", "tie 3: lower center id wins");
    route_result_free(&r);

    /* Same center, same everything: model name decides. */
    world();
    q = base_request();
    q.weights = (struct weights){1, 0, 0};
    pools[1] = pools[0];
    pools[0].model = "Zeta";
    pools[1].model = "Alpha";
    route_decide(&q, centers, 3, pools, 2, NULL, 0, &r);
    CHECK(r.placed && r.pieces[0].candidate == 1, "tie 4: model name 'Alpha' before 'Zeta'");
    route_result_free(&r);

    /* Scores within 1e-9 count as equal: the tie-break decides, not the tiny difference. */
    world();
    q = base_request();
    q.weights = (struct weights){1, 0, 0};
    pools[1].price = 10 * (1 + 1e-13);
    memcpy(pools[1].tflops, A100_TF, sizeof(A100_TF));
    centers[1].labels = NULL;
    centers[1].nlabels = 0;
    centers[0].rtt_ms = 9;
    centers[1].rtt_ms = 2;
    route_decide(&q, centers, 3, pools, 2, NULL, 0, &r);
    CHECK_STR(chosen_center(&r), "bj-b", "scores within 1e-9 tie; rtt breaks it");
    route_result_free(&r);
}

/* ---- PFLOPS to cards ---- */

static void test_pflops(void)
{
    struct {
        double pflops, tflops;
        long want;
    } cases[] = {
        {1.0, 312, 4},   /* 1000/312 = 3.21 -> 4 */
        {0.312, 312, 1}, /* exactly 1 card despite rounding */
        {0.624, 312, 2}, /* exactly 2 */
        {1.0, 989.5, 2}, /* 1.0106 -> 2 */
        {10, 989.5, 11}, /* 10.106 -> 11 */
        {1.0, 0, 0},     /* unsupported */
        {1e-6, 312, 1},  /* at least one card */
        {1e6, 0.001, ROUTE_MAX_CARDS + 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char name[64];
        snprintf(name, sizeof(name), "%g PFLOPS at %g TFLOPS", cases[i].pflops, cases[i].tflops);
        CHECK_EQ_LONG(route_cards_for_pflops(cases[i].pflops, cases[i].tflops), cases[i].want,
                      name);
    }
    /* In a request: 1 PFLOPS bf16 is 4 A100, 4 Ascend910B (1000/320 = 3.125), 2 H800. */
    struct route_result r;
    world();
    struct route_request q = base_request();
    q.cards = 0;
    q.pflops = 1.0;
    route_decide(&q, centers, 3, pools, 3, NULL, 0, &r);
    CHECK_EQ_LONG(cand(&r, 0)->cards, 4, "A100 cards for 1 PFLOPS");
    CHECK_EQ_LONG(cand(&r, 1)->cards, 4, "Ascend910B cards for 1 PFLOPS");
    CHECK_EQ_LONG(cand(&r, 2)->cards, 2, "H800 cards for 1 PFLOPS");
    CHECK_NEAR(cand(&r, 2)->list_total, 25.0 * 2 * 10, 1e-9, "H800 list total");
    route_result_free(&r);
}

/* ---- vouchers ---- */

static void test_vouchers(void)
{
    struct route_result r;
    const char *sh[] = {"cn-shanghai"};
    const char *gy_id[] = {"gy-c"};

    /* SPEC example: 64 H800 x 72 h at 28.5 = 131328; 10% = 13132.8. */
    world();
    pools[2].price = 28.5;
    pools[1].free = 10; /* sh has 40 and bj 10 free: only gy can take 64 */
    struct route_request q = base_request();
    q.cards = 64;
    q.hours = 72;
    q.weights = (struct weights){1, 0, 0};
    struct route_voucher v1 = {.id = "SH",
                               .rate = 0.10,
                               .balance = 50000,
                               .usable = true,
                               .centers = gy_id,
                               .ncenters = 1};
    route_decide(&q, centers, 3, pools, 3, &v1, 1, &r);
    CHECK_STR(chosen_center(&r), "gy-c", "only gy has 64 free");
    CHECK_NEAR(r.list_total, 131328.0, 1e-6, "list total 131328");
    CHECK_NEAR(r.subsidy, 13132.8, 1e-6, "subsidy 13132.8");
    CHECK_NEAR(r.effective_total, 118195.2, 1e-6, "effective 118195.2");
    CHECK(r.voucher == 0, "voucher applied");
    route_result_free(&r);

    /* Cap by balance: 5000 left. */
    v1.balance = 5000;
    route_decide(&q, centers, 3, pools, 3, &v1, 1, &r);
    CHECK_NEAR(r.subsidy, 5000, 1e-9, "subsidy capped at balance");
    CHECK_NEAR(r.effective_total, 126328.0, 1e-6, "effective after cap");
    route_result_free(&r);

    /* Not usable (expired) or out of region: no subsidy. */
    v1.usable = false;
    route_decide(&q, centers, 3, pools, 3, &v1, 1, &r);
    CHECK_NEAR(r.subsidy, 0, 0, "unusable voucher gives nothing");
    route_result_free(&r);
    struct route_voucher v2 = {
        .id = "R", .rate = 0.5, .balance = 1e9, .usable = true, .regions = sh, .nregions = 1};
    route_decide(&q, centers, 3, pools, 3, &v2, 1, &r);
    CHECK_NEAR(r.subsidy, 0, 0, "region-limited voucher does not apply in Guiyang");
    route_result_free(&r);

    /* domestic_only voucher applies to the Ascend pool only. */
    world();
    q = base_request();
    struct route_voucher v3 = {
        .id = "D", .rate = 0.3, .balance = 1e9, .usable = true, .domestic_only = true};
    route_decide(&q, centers, 3, pools, 3, &v3, 1, &r);
    CHECK_NEAR(cand(&r, 1)->subsidy, 0.3 * 1280, 1e-9, "domestic voucher on Ascend");
    CHECK_NEAR(cand(&r, 0)->subsidy, 0, 0, "domestic voucher not on A100");
    route_result_free(&r);

    /* Best of two: 10% uncapped (160) vs 50% capped at 100 on 1600 -> the 10% one. */
    struct route_voucher two[2] = {
        {.id = "B-half", .rate = 0.5, .balance = 100, .usable = true},
        {.id = "A-tenth", .rate = 0.1, .balance = 1e9, .usable = true},
    };
    q.regions_allowed = sh;
    q.nallowed = 1;
    route_decide(&q, centers, 3, pools, 3, two, 2, &r);
    CHECK_NEAR(r.subsidy, 160, 1e-9, "best voucher gives 160");
    CHECK(r.voucher == 1, "the 10%% voucher is chosen");
    route_result_free(&r);

    /* A voucher can change the choice: 40% off H800 (4000 -> 2400) still loses to sh; 80% wins. */
    world();
    q = base_request();
    q.weights = (struct weights){1, 0, 0};
    struct route_voucher v4 = {
        .id = "G", .rate = 0.8, .balance = 1e9, .usable = true, .centers = gy_id, .ncenters = 1};
    route_decide(&q, centers, 3, pools, 3, &v4, 1, &r);
    CHECK_STR(chosen_center(&r), "gy-c", "80%% voucher makes H800 (800) cheapest");
    route_result_free(&r);
}

/* ---- gang=false split ---- */

static void test_split(void)
{
    struct route_result r;
    world();
    struct route_request q = base_request();
    q.cards = 300;
    q.gang = false;
    q.weights = (struct weights){1, 0, 0};
    /* available: sh 40, bj 150, gy 64 = 254 < 300: nothing fits. */
    route_decide(&q, centers, 3, pools, 3, NULL, 0, &r);
    CHECK(!r.placed && r.npieces == 0, "300 cards over 254 available: not placed");
    route_result_free(&r);

    /* 200 cards, cost order bj (8), sh (10), gy (25): bj 150 + sh 40 + gy 10. */
    q.cards = 200;
    route_decide(&q, centers, 3, pools, 3, NULL, 0, &r);
    CHECK(r.placed && r.npieces == 3, "200 cards in 3 pieces");
    if (r.npieces == 3) {
        CHECK_EQ_LONG(r.pieces[0].cards, 150, "bj piece");
        CHECK_EQ_LONG(pools[r.candidates[r.pieces[0].candidate].pool].center, 1, "bj first");
        CHECK_EQ_LONG(r.pieces[1].cards, 40, "sh piece");
        CHECK_EQ_LONG(r.pieces[2].cards, 10, "gy piece");
        CHECK_NEAR(r.list_total, 150 * 8 * 10 + 40 * 10 * 10 + 10 * 25 * 10, 1e-9, "split total");
    }
    CHECK_EQ_LONG(r.cards, 200, "cards placed");
    route_result_free(&r);

    /* A split that fits in the first pool is one piece. */
    q.cards = 100;
    route_decide(&q, centers, 3, pools, 3, NULL, 0, &r);
    CHECK(r.placed && r.npieces == 1 && r.pieces[0].cards == 100, "100 cards in one piece");
    route_result_free(&r);

    /* Split by PFLOPS: 2 PFLOPS bf16, bj first with only 2 available (640 TF) then sh A100. */
    world();
    pools[1].free = 2;
    q = base_request();
    q.cards = 0;
    q.pflops = 2.0;
    q.gang = false;
    q.weights = (struct weights){1, 0, 0};
    /* 2 Ascend give 0.64 PF; 1.36 PF left at 312 TF per A100 = 4.36 -> 5 cards. */
    route_decide(&q, centers, 3, pools, 3, NULL, 0, &r);
    CHECK(r.placed && r.npieces == 2, "pflops split in 2 pieces");
    if (r.npieces == 2) {
        CHECK_EQ_LONG(r.pieces[0].cards, 2, "Ascend piece");
        CHECK_EQ_LONG(r.pieces[1].cards, 5, "A100 piece");
    }
    route_result_free(&r);
}

/* ---- bad requests ---- */

static void test_invalid(void)
{
    struct route_result r;
    world();
    struct route_request q = base_request();
    q.weights = (struct weights){0, 0, 0};
    CHECK(route_decide(&q, centers, 3, pools, 3, NULL, 0, &r) == -EINVAL, "all-zero weights");
    q = base_request();
    q.weights.cost = -1;
    CHECK(route_decide(&q, centers, 3, pools, 3, NULL, 0, &r) == -EINVAL, "negative weight");
    q = base_request();
    q.cards = 0;
    CHECK(route_decide(&q, centers, 3, pools, 3, NULL, 0, &r) == -EINVAL, "no cards, no pflops");
    q = base_request();
    q.hours = NAN;
    CHECK(route_decide(&q, centers, 3, pools, 3, NULL, 0, &r) == -EINVAL, "NaN hours");
    q = base_request();
    pools[2].center = 3; /* a center index past the array */
    CHECK(route_decide(&q, centers, 3, pools, 3, NULL, 0, &r) == -EINVAL && !r.placed &&
              r.candidates == NULL && r.pieces == NULL,
          "a pool naming no center: -EINVAL, nothing returned");
    CHECK(route_decide_ranked(&q, centers, 3, pools, 3, NULL, 0, 0, &r) == -EINVAL &&
              r.candidates == NULL,
          "the same with partial ranking");
    world();
    CHECK(route_decide(&q, centers, 3, pools, 0, NULL, 0, &r) == 0 && !r.placed,
          "no pools: decided, nothing fits");
    route_result_free(&r);
}

/* ---- property test over generated inventories ---- */

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1Dull;
}
static double urand(void)
{
    return (double)(rnd() >> 11) / 9007199254740992.0;
}

/* Independent restatement of the hard filters for one pool (not route.c's code). */
static bool violates(const struct route_request *q, const struct route_center *c,
                     const struct route_pool *p, long cards, double eff)
{
    long avail = p->free - p->held - p->confirmed_unseen;
    if (c->status != CENTER_ACTIVE || p->stale)
        return true;
    for (size_t i = 0; i < q->ndenied; i++)
        if (!strcmp(q->regions_denied[i], c->region))
            return true;
    bool in = q->nallowed == 0;
    for (size_t i = 0; i < q->nallowed; i++)
        in |= !strcmp(q->regions_allowed[i], c->region);
    if (!in)
        return true;
    for (size_t i = 0; i < q->nlabels; i++) {
        bool ok = false;
        for (size_t j = 0; j < c->nlabels; j++)
            ok |= !strcmp(c->labels[j].key, q->labels[i].key) &&
                  !strcmp(c->labels[j].value, q->labels[i].value);
        if (!ok)
            return true;
    }
    if (q->domestic_only && !p->domestic)
        return true;
    if (p->tflops[q->precision] <= 0 || p->memory_gib < q->min_memory_gib)
        return true;
    if (q->max_latency_ms >= 0 && c->rtt_ms > q->max_latency_ms)
        return true;
    if (cards > avail)
        return true;
    if (q->max_price >= 0 && eff / ((double)cards * q->hours) > q->max_price + 1e-9)
        return true;
    return false;
}

static void test_property(void)
{
    enum { CASES = 3000, MAXC = 12, MAXP = 40 };
    static const char *regions[] = {"cn-shanghai", "cn-beijing", "cn-guiyang", "cn-ulanqab"};
    static const char *ids[MAXC] = {"c00", "c01", "c02", "c03", "c04", "c05",
                                    "c06", "c07", "c08", "c09", "c10", "c11"};
    static const char *models[] = {"A100", "H800", "Ascend910B", "L40S"};
    static struct label lab = {"grade", "dengbao3"};
    struct route_center cs[MAXC];
    struct route_pool ps[MAXP];
    long bad_filter = 0, better = 0, placed = 0, split_over = 0, partial_differs = 0;
    struct route_scratch scratch = {0};

    for (int n = 0; n < CASES; n++) {
        size_t nc = 1 + rnd() % MAXC, np = 1 + rnd() % MAXP;
        for (size_t i = 0; i < nc; i++) {
            cs[i] = (struct route_center){ids[i],
                                          regions[rnd() % 4],
                                          rnd() % 10 == 0 ? CENTER_DRAINING : CENTER_ACTIVE,
                                          rnd() % 3 == 0 ? &lab : NULL,
                                          0,
                                          urand() * 60,
                                          RTT_ESTIMATED};
            cs[i].nlabels = cs[i].labels ? 1 : 0;
        }
        for (size_t i = 0; i < np; i++) {
            struct route_pool *p = &ps[i];
            memset(p, 0, sizeof(*p));
            p->center = rnd() % nc;
            p->model = models[rnd() % 4];
            p->domestic = !strcmp(p->model, "Ascend910B");
            p->memory_gib = p->domestic ? 64 : 80;
            memcpy(p->tflops, p->domestic ? ASC_TF : A100_TF, sizeof(A100_TF));
            if (rnd() % 5 == 0)
                p->tflops[PREC_BF16] = 0;
            p->total = 1 + (long)(rnd() % 512);
            p->free = (long)(rnd() % (uint64_t)(p->total + 1));
            p->held = (long)(rnd() % (uint64_t)(p->free + 1)) / 2;
            p->confirmed_unseen = rnd() % 4 == 0 ? (long)(rnd() % 8) : 0;
            /* Every third case draws prices from three values: many exact ties. */
            p->price = n % 3 == 0 ? 8.0 + 4.0 * (double)(rnd() % 3) : 1 + urand() * 40;
            p->stale = rnd() % 12 == 0;
        }
        struct route_request q = base_request();
        q.cards = 1 + (long)(rnd() % 128);
        q.hours = 1 + (double)(rnd() % 100);
        q.weights = (struct weights){urand() * 2, urand(), urand()};
        if (rnd() % 4 == 0)
            q.max_latency_ms = urand() * 50;
        if (rnd() % 4 == 0)
            q.max_price = urand() * 30;
        if (rnd() % 6 == 0)
            q.min_memory_gib = 70;
        q.domestic_only = rnd() % 8 == 0;
        if (rnd() % 6 == 0) {
            q.labels = &lab;
            q.nlabels = 1;
        }
        if (rnd() % 6 == 0) {
            q.regions_denied = &regions[rnd() % 4];
            q.ndenied = 1;
        }
        q.gang = rnd() % 5 != 0;
        struct route_voucher v = {
            .id = "V", .rate = urand(), .balance = urand() * 5000, .usable = rnd() % 2 == 0};
        struct route_result r;
        if (route_decide(&q, cs, nc, ps, np, &v, 1, &r) != 0) {
            bad_filter++;
            continue;
        }
        /*
         * Ranking only the top must decide exactly as ranking everything does;
         * every other case in a scratch reused over cases of every size, which
         * must leave nothing of an earlier case behind.
         */
        struct route_result t;
        int rt = n % 2 ? route_decide_scratch(&q, cs, nc, ps, np, &v, 1, 0, &scratch, &t)
                       : route_decide_ranked(&q, cs, nc, ps, np, &v, 1, 0, &t);
        if (rt != 0 || t.borrowed != (n % 2 == 1)) {
            partial_differs++;
        } else {
            bool same = t.ncandidates == np && r.ncandidates == np && t.placed == r.placed &&
                        t.npieces == r.npieces && t.voucher == r.voucher && t.cards == r.cards &&
                        t.effective_total == r.effective_total && t.neligible == r.neligible &&
                        t.nranked >= (r.neligible < 2 ? r.neligible : 2) &&
                        t.nranked <= r.nranked && !memcmp(t.reasons, r.reasons, sizeof(r.reasons));
            for (size_t i = 0; same && i < t.npieces; i++)
                same = t.pieces[i].candidate == r.pieces[i].candidate &&
                       t.pieces[i].cards == r.pieces[i].cards;
            for (size_t k = 0; same && k < t.nranked; k++)
                same = t.ranked[k] == r.ranked[k];
            for (size_t i = 0; same && i < np; i++)
                same = t.candidates[i].reason == r.candidates[i].reason &&
                       t.candidates[i].cards == r.candidates[i].cards &&
                       t.candidates[i].effective_total == r.candidates[i].effective_total &&
                       t.candidates[i].score == r.candidates[i].score &&
                       t.candidates[i].chosen == r.candidates[i].chosen;
            size_t others = 0;
            for (size_t k = 0; k < t.nranked; k++)
                others += !t.candidates[t.ranked[k]].chosen;
            same = same && (others >= 3 || t.nranked == r.neligible);
            partial_differs += !same;
            route_result_free(&t);
        }
        if (r.placed) {
            placed++;
            long sum = 0;
            for (size_t i = 0; i < r.npieces; i++) {
                const struct route_candidate *c = &r.candidates[r.pieces[i].candidate];
                const struct route_pool *p = &ps[c->pool];
                long cards = q.gang ? c->cards : r.pieces[i].cards;
                if (violates(&q, &cs[p->center], p, cards,
                             q.gang ? c->effective_total
                                    : c->effective_total * (double)cards / (double)c->cards))
                    bad_filter++;
                sum += r.pieces[i].cards;
            }
            if (sum != q.cards)
                split_over++;
            const struct route_candidate *best = &r.candidates[r.pieces[0].candidate];
            for (size_t i = 0; i < r.ncandidates; i++) {
                if (r.candidates[i].reason == REJECT_NONE &&
                    r.candidates[i].score < best->score - 1e-9)
                    better++;
            }
        } else {
            for (size_t i = 0; i < r.ncandidates && q.gang; i++) {
                if (r.candidates[i].reason == REJECT_NONE)
                    bad_filter++; /* gang: any eligible candidate must have been placed */
            }
        }
        route_result_free(&r);
    }
    route_scratch_free(&scratch);
    CHECK(bad_filter == 0, "property: %d cases, no choice breaks a hard filter (%ld did)", CASES,
          bad_filter);
    CHECK(better == 0, "property: no eligible candidate scores below the choice (%ld did)", better);
    CHECK(split_over == 0, "property: placed cards equal the request (%ld differed)", split_over);
    CHECK(placed > CASES / 10 && placed < CASES, "property: a real mix of outcomes (%ld placed)",
          placed);
    CHECK(partial_differs == 0,
          "property: ranking only the top (half of it in a reused scratch) decides as ranking all "
          "does: pieces, totals, voucher, reasons, every candidate, the ranked prefix, the "
          "runner-up and 3 alternatives (%ld differed)",
          partial_differs);
}

int main(void)
{
    test_rejects();
    test_price_after_subsidy();
    test_scores();
    test_single_terms();
    test_ties();
    test_pflops();
    test_vouchers();
    test_split();
    test_invalid();
    test_property();
    return check_done();
}
