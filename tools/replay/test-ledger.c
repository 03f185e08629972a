/*
 * test-ledger — the replay's accounting on a tiny world worked by hand: two
 * centers, three pools, a few jobs. Part A drives the ledger step by step
 * (feeds, holds, confirms, expiry, ends, the checker); part B replays a
 * six-job trace through the cheapest-first policy and a deliberately lying
 * policy, and checks every number the report would print. Every expected
 * value is worked out in the comments, never taken from the code under test.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "check.h"
#include "ledger.h"
#include "policy.h"
#include "scenario.h"
#include "sim.h"

/*
 * Regions r0, r1, r2. RTT (ms): same region 1; r0-r1 10; r0-r2 30; r1-r2 20.
 * Models: m0 "GX" foreign, fp32 10 / fp16 100, no bf16; m1 "DY" domestic,
 * fp16 / bf16 200, no fp32.
 * Centers: c0 "east" in r0; c1 "west" in r2.
 * Pools: p0 = c0/m0, 4 cards at 10 CNY/card-hour; p1 = c1/m0, 8 cards at 6;
 *        p2 = c1/m1, 4 cards at 8.
 */
static struct scn_region regions[3] = {{"r0", 0, 0}, {"r1", 0, 1}, {"r2", 0, 2}};
static double rtt[9] = {1, 10, 30, 10, 1, 20, 30, 20, 1};
static enum rtt_source rtt_src[9];
static struct scn_model models[2];
static struct scn_center centers[2] = {{"east", 0, -1, 1.0}, {"west", 2, -1, 1.0}};
static struct scn_pool pools[3] = {{0, 0, 4, 10.0}, {1, 0, 8, 6.0}, {1, 1, 4, 8.0}};

#define M0 (1ULL << 0)
#define M1 (1ULL << 1)
#define ALL (M0 | M1)

static void world(struct scenario *s, struct scn_job *jobs, size_t njobs)
{
    memset(models, 0, sizeof(models));
    strcpy(models[0].name, "GX");
    models[0].tflops[PREC_FP32] = 10;
    models[0].tflops[PREC_FP16] = 100;
    models[0].memory_gib = 32;
    strcpy(models[1].name, "DY");
    models[1].domestic = true;
    models[1].tflops[PREC_FP16] = 200;
    models[1].tflops[PREC_BF16] = 200;
    models[1].memory_gib = 64;
    *s = (struct scenario){
        .regions = regions,
        .nregions = 3,
        .rtt = rtt,
        .rtt_source = rtt_src,
        .models = models,
        .nmodels = 2,
        .centers = centers,
        .ncenters = 2,
        .pools = pools,
        .npools = 3,
        .jobs = jobs,
        .njobs = njobs,
        .series_step = 3600,
        .background = 0,
        .feed_interval = 1000,
        .hold_seconds = 300,
    };
}

static struct scn_job job(double arrival, long cards, double hours, enum precision p, size_t origin,
                          uint64_t mask)
{
    return (struct scn_job){.arrival = arrival,
                            .cards = cards,
                            .hours = hours,
                            .precision = p,
                            .origin = origin,
                            .max_latency_ms = -1,
                            .models_allowed = mask,
                            .confirm_delay = 10};
}

static void part_a(void)
{
    struct scenario s;
    struct ledger l;
    struct scn_job jobs[4];
    /* j0: 2 cards, 1 h, fp16 from r0, any model. */
    jobs[0] = job(0, 2, 1, PREC_FP16, 0, ALL);
    /* j1: 4 cards, 2 h, fp16 from r0, m0 only, at most 15 ms. */
    jobs[1] = job(100, 4, 2, PREC_FP16, 0, M0);
    jobs[1].max_latency_ms = 15;
    /* j2: 3 cards, 0.5 h, bf16 from r1, domestic only. */
    jobs[2] = job(200, 3, 0.5, PREC_BF16, 1, ALL);
    jobs[2].domestic_only = true;
    /* j3: 1 card, 2 h, fp32 from r2. */
    jobs[3] = job(3700, 1, 2, PREC_FP32, 2, ALL);
    world(&s, jobs, 4);
    CHECK(ledger_init(&l, &s, 8, 0) == 0, "ledger_init");

    /* t=0 feed, targets {1,2,0}: p0 free 4-1 = 3, p1 8-2 = 6, p2 4. */
    long t0[3] = {1, 2, 0};
    ledger_feed(&l, 0, t0);
    CHECK_EQ_LONG(ledger_available(&l, 0), 3, "p0 available after the first feed");
    CHECK_EQ_LONG(ledger_available(&l, 1), 6, "p1 available after the first feed");
    CHECK_EQ_LONG(ledger_available(&l, 2), 4, "p2 available after the first feed");

    /* t=0 j0 -> p0, 2 cards: held 2; available 3-2 = 1; real free 4-1-2 = 1. */
    CHECK_EQ_LONG(ledger_decide(&l, 0, 0, 0, 2, 1), 0, "j0 held as placement 0");
    CHECK_EQ_LONG(ledger_available(&l, 0), 1, "p0 available with the hold");
    CHECK_EQ_LONG(ledger_free_cards(&l, 0), 1, "p0 real free with the hold");

    /* t=100 confirm: running 2, unseen 2, available 3-0-2 = 1; cost 10*2*1 = 20. */
    CHECK(ledger_confirm(&l, 100, 0) == 0, "confirm placement 0");
    CHECK_EQ_LONG(ledger_available(&l, 0), 1, "p0 available after the confirm");
    CHECK_NEAR(l.cost, 20, 1e-9, "cost after the first confirm");

    /*
     * The checker on j1 (4 cards, m0 only, <= 15 ms from r0):
     * p1 is in r2, 30 ms: latency only (p1 has 6 free).
     * p0: 4 > 1 free: capacity only.
     * p2: model m1 not allowed, and r2 is 30 ms away: model + latency.
     */
    CHECK_EQ_LONG(ledger_check(&l, 1, 1, 4, 1), 1u << VIOL_LATENCY, "j1 on p1: latency");
    CHECK_EQ_LONG(ledger_check(&l, 1, 0, 4, 1), 1u << VIOL_CAPACITY, "j1 on p0: capacity");
    CHECK_EQ_LONG(ledger_check(&l, 1, 2, 4, 1), (1u << VIOL_MODEL) | (1u << VIOL_LATENCY),
                  "j1 on p2: model and latency");
    /* j0 (2 cards) split in two pieces, the first of 1 card: gang. */
    CHECK_EQ_LONG(ledger_check(&l, 0, 1, 1, 2), 1u << VIOL_GANG, "j0 in two pieces: gang");
    /* j2 (bf16, domestic) on p1 (m0: no bf16, foreign): precision and domestic. */
    CHECK_EQ_LONG(ledger_check(&l, 2, 1, 3, 1), (1u << VIOL_PRECISION) | (1u << VIOL_DOMESTIC),
                  "j2 on p1: precision and domestic");

    /* t=100 j1 -> p1 anyway: refused, counted once as latency, rejected. */
    CHECK_EQ_LONG(ledger_decide(&l, 100, 1, 1, 4, 1), -EPERM, "j1 on p1 refused");
    CHECK_EQ_LONG(l.violations[VIOL_LATENCY], 1, "one latency violation");
    CHECK_EQ_LONG(l.violating, 1, "one violating decision");
    CHECK_EQ_LONG(ledger_available(&l, 1), 6, "a refused choice takes no cards");

    /* t=200 j2 -> p2, 3 cards (sound); t=500 it expires: p2 held 3 then 0. */
    CHECK_EQ_LONG(ledger_decide(&l, 200, 2, 2, 3, 1), 1, "j2 held as placement 1");
    CHECK_EQ_LONG(ledger_available(&l, 2), 1, "p2 available with the hold: 4-3");
    CHECK(ledger_expire(&l, 500, 1) == 0, "placement 1 expires");
    CHECK_EQ_LONG(ledger_available(&l, 2), 4, "p2 available after the expiry");
    CHECK(ledger_confirm(&l, 500, 1) == -EINVAL, "an expired hold cannot be confirmed");

    /*
     * t=600 feed, targets {3,2,1}. p0: room 4-0-2 = 2, so background 2 (not
     * 3), free 4-2-2 = 0, unseen 0. p1: free 6. p2: background 1, free 3.
     */
    long t1[3] = {3, 2, 1};
    ledger_feed(&l, 600, t1);
    CHECK_EQ_LONG(l.pools[0].background, 2, "p0 background capped by running cards");
    CHECK_EQ_LONG(ledger_available(&l, 0), 0, "p0 available after the second feed");
    CHECK_EQ_LONG(ledger_available(&l, 2), 3, "p2 available after the second feed");

    /*
     * t=3700 placement 0 ends (confirmed at 100, 1 h). It was confirmed before
     * the last feed, so unseen stays 0 and the broker still sees p0 full
     * (feed free 0) though 4-2-0 = 2 cards are really free.
     */
    CHECK(ledger_end(&l, 3700, 0) == 0, "placement 0 ends");
    CHECK_EQ_LONG(ledger_available(&l, 0), 0, "p0: the release is not seen before a feed");
    CHECK_EQ_LONG(ledger_free_cards(&l, 0), 2, "p0 real free after the end");
    CHECK(ledger_end(&l, 3700, 0) == -EINVAL, "a placement ends once");

    /*
     * t=3700 j3 -> p1, 1 card; t=3800 confirm (cost 6*1*2 = 12, unseen 1,
     * available 6-0-1 = 5); t=4000 end before any feed: unseen back to 0.
     */
    CHECK_EQ_LONG(ledger_decide(&l, 3700, 3, 1, 1, 1), 2, "j3 held as placement 2");
    CHECK(ledger_confirm(&l, 3800, 2) == 0, "confirm placement 2");
    CHECK_EQ_LONG(ledger_available(&l, 1), 5, "p1 available with an unseen confirm");
    CHECK(ledger_end(&l, 4000, 2) == 0, "placement 2 ends");
    CHECK_EQ_LONG(l.pools[1].unseen, 0, "an unseen confirm that ends is no longer subtracted");
    CHECK_EQ_LONG(ledger_available(&l, 1), 6, "p1 available after the end");

    /*
     * Counters: 4 decisions (j0, j1, j2, j3), 3 accepted, 1 rejected, 2
     * confirmed, 1 expired, 2 ended. Acceptance 3/4 = 0.75.
     * Cost 20 + 12 = 32 over 2*1 + 1*2 = 4 card-hours: 8 CNY per card-hour.
     * RTTs of the accepted: j0 r0->c0 1, j2 r1->c1(r2) 20, j3 r2->c1 1:
     * mean 22/3 = 7.3333; p95 = the ceil(0.95*3) = 3rd smallest = 20.
     */
    struct ledger_summary sum;
    CHECK(ledger_summarize(&l, &sum) == 0, "summarize");
    CHECK_EQ_LONG(l.arrivals, 4, "arrivals");
    CHECK_EQ_LONG(l.accepted, 3, "accepted");
    CHECK_EQ_LONG(l.rejected, 1, "rejected");
    CHECK_EQ_LONG(l.confirmed, 2, "confirmed");
    CHECK_EQ_LONG(l.expired, 1, "expired");
    CHECK_EQ_LONG(l.ended, 2, "ended");
    CHECK_NEAR(sum.acceptance, 0.75, 1e-12, "acceptance");
    CHECK_NEAR(l.cost, 32, 1e-9, "total cost");
    CHECK_NEAR(sum.cost_per_card_hour, 8, 1e-9, "cost per card-hour");
    CHECK_NEAR(sum.rtt_mean, 22.0 / 3.0, 1e-9, "mean rtt");
    CHECK_NEAR(sum.rtt_p95, 20, 1e-12, "p95 rtt");
    CHECK_EQ_LONG(sum.violations, 1, "violations in total");

    /*
     * Utilization, integrated over [0, 4000].
     * c0 (4 cards): [0,100) bg 1 + held 2 = 3/4 -> 75; [100,600) bg 1 + running 2
     * = 3/4 -> 375; [600,3700) bg 2 + running 2 = 4/4 -> 3100; [3700,4000) bg 2
     * = 2/4 -> 150. Area 3700, mean 3700/4000 = 0.925.
     * c1 (12 cards): [0,200) bg 2 -> 2/12*200 = 33.333; [200,500) + held 3 =
     * 5/12*300 = 125; [500,600) 2/12*100 = 16.667; [600,3700) bg 2+1 = 3/12*3100
     * = 775; [3700,4000) + j3's card = 4/12*300 = 100. Area 1050, mean 0.2625.
     * Mean of the two 0.59375; population std dev (0.925-0.2625)/2 = 0.33125.
     */
    CHECK_NEAR(l.util_area[0], 3700, 1e-6, "c0 utilization area");
    CHECK_NEAR(l.util_area[1], 1050, 1e-6, "c1 utilization area");
    CHECK_NEAR(sum.util_max, 0.925, 1e-9, "max center utilization");
    CHECK_NEAR(sum.util_min, 0.2625, 1e-9, "min center utilization");
    CHECK_NEAR(sum.util_mean, 0.59375, 1e-9, "mean center utilization");
    CHECK_NEAR(sum.util_std, 0.33125, 1e-9, "std dev of center utilization");
    ledger_free(&l);
}

/*
 * The six-job trace of part B (no background; feeds every 1000 s; holds last
 * 300 s; every job confirms 10 s after its hold unless it abandons).
 * J0 t=0    4 cards 1 h   fp16 from r0, any model
 * J1 t=50   4 cards 2 h   fp16 from r0, any model
 * J2 t=100  2 cards 1 h   fp16 from r0, m0 only
 * J3 t=200  4 cards 0.5 h fp16 from r0, m0 only
 * J4 t=300  2 cards 1 h   bf16 from r1, domestic only, abandons
 * J5 t=4000 4 cards 1 h   fp16 from r0, m0 only, at most 15 ms
 */
static void trace_b(struct scn_job *jobs)
{
    jobs[0] = job(0, 4, 1, PREC_FP16, 0, ALL);
    jobs[1] = job(50, 4, 2, PREC_FP16, 0, ALL);
    jobs[2] = job(100, 2, 1, PREC_FP16, 0, M0);
    jobs[3] = job(200, 4, 0.5, PREC_FP16, 0, M0);
    jobs[4] = job(300, 2, 1, PREC_BF16, 1, ALL);
    jobs[4].domestic_only = true;
    jobs[4].abandons = true;
    jobs[5] = job(4000, 4, 1, PREC_FP16, 0, M0);
    jobs[5].max_latency_ms = 15;
}

static void part_b_cheapest(void)
{
    struct scenario s;
    struct scn_job jobs[6];
    struct sim_result r;
    trace_b(jobs);
    world(&s, jobs, 6);
    const struct policy *p = policy_find("cheapest");
    CHECK(p != NULL, "cheapest policy exists");
    if (!p)
        return;
    CHECK(sim_run(&s, p, 1, 5000, &r) == 0, "cheapest replay runs");

    /*
     * Cheapest-first, prices p1 6 < p2 8 < p0 10:
     * J0 t=0: p1 (8 free) -> hold 4; confirm t=10; ends 3610.
     * J1 t=50: p1 available = feed free 8 - held 0 - unseen 4 = 4 -> hold 4;
     *   confirm 60; ends 7260 (after the run).
     * J2 t=100: m0 only; p1 available 8-0-8 = 0; p0 4 -> hold 2; confirm 110;
     *   ends 3710.
     * J3 t=200: m0 only, 4 cards; p1 0, p0 2: nothing fits -> rejected.
     * J4 t=300: bf16 + domestic: only p2 -> hold 2; never confirmed, expires 600.
     * J5 t=4000: the feed at 4000 lands first (p0 free 4 again). Within 15 ms
     *   of r0 only c0 (1 ms; c1 is 30 ms): p0 -> hold 4; confirm 4010; ends 7610.
     * Accepted 5 of 6, rejected 1, confirmed 4, expired 1, 0 violations.
     * Cost: J0 6*4*1 = 24, J1 6*4*2 = 48, J2 10*2*1 = 20, J5 10*4*1 = 40:
     * 132 CNY over 4+8+2+4 = 18 card-hours = 7.3333 CNY per card-hour.
     * RTTs: J0 30, J1 30, J2 1, J4 r1->r2 20, J5 1: mean 82/5 = 16.4; p95 =
     * the ceil(0.95*5) = 5th smallest = 30.
     */
    const struct ledger *l = &r.ledger;
    CHECK_EQ_LONG(l->arrivals, 6, "B cheapest: arrivals");
    CHECK_EQ_LONG(l->accepted, 5, "B cheapest: accepted");
    CHECK_EQ_LONG(l->rejected, 1, "B cheapest: rejected");
    CHECK_EQ_LONG(l->confirmed, 4, "B cheapest: confirmed");
    CHECK_EQ_LONG(l->expired, 1, "B cheapest: expired");
    CHECK_EQ_LONG(l->ended, 2, "B cheapest: ended by t=5000 (J0, J2)");
    CHECK_EQ_LONG(r.summary.violations, 0, "B cheapest: no violations");
    CHECK_EQ_LONG(r.decisions, 6, "B cheapest: one decision per job");
    CHECK_NEAR(l->cost, 132, 1e-9, "B cheapest: total cost");
    CHECK_NEAR(r.summary.cost_per_card_hour, 132.0 / 18.0, 1e-9, "B cheapest: CNY per card-hour");
    CHECK_NEAR(r.summary.acceptance, 5.0 / 6.0, 1e-12, "B cheapest: acceptance");
    CHECK_NEAR(r.summary.rtt_mean, 16.4, 1e-9, "B cheapest: mean rtt");
    CHECK_NEAR(r.summary.rtt_p95, 30, 1e-12, "B cheapest: p95 rtt");
    CHECK_EQ_LONG(l->placements[2].pool, 0, "B cheapest: J2 on p0");
    CHECK_EQ_LONG(l->placements[3].pool, 2, "B cheapest: J4 on p2");
    CHECK_EQ_LONG(l->placements[4].pool, 0, "B cheapest: J5 on p0");

    /*
     * Utilization over [0, 5000]:
     * c0 (4 cards): J2's 2 cards from 100 to 3710 -> 2/4*3610 = 1805; J5's 4
     * cards from 4000 to 5000 -> 1000. Area 2805, mean 0.561.
     * c1 (12 cards): J0 4 cards 0..3610 -> 14440 card-s; J1 4 cards 50..5000 ->
     * 19800; J4 2 cards 300..600 -> 600. Area 34840/12 = 2903.333, mean
     * 0.5806667. Mean of both 0.5708333; std dev (0.5806667-0.561)/2 = 0.0098333.
     */
    CHECK_NEAR(l->util_area[0], 2805, 1e-6, "B cheapest: c0 utilization area");
    CHECK_NEAR(l->util_area[1], 34840.0 / 12.0, 1e-6, "B cheapest: c1 utilization area");
    CHECK_NEAR(r.summary.util_mean, (0.561 + 34840.0 / 12.0 / 5000.0) / 2, 1e-9,
               "B cheapest: mean utilization");
    CHECK_NEAR(r.summary.util_std, (34840.0 / 12.0 / 5000.0 - 0.561) / 2, 1e-9,
               "B cheapest: utilization std dev");

    /*
     * Feeds at 0, 1000, ..., 5000: 6 samples. At t=1000, c0 has J2's 2 of 4
     * cards (0.5) and c1 J0 + J1, 8 of 12 (0.6667).
     */
    CHECK_EQ_LONG(r.nsamples, 6, "B cheapest: one sample per feed");
    if (r.nsamples >= 2) {
        CHECK_NEAR(r.sample_t[1], 1000, 1e-12, "B cheapest: second sample time");
        CHECK_NEAR(r.samples[1 * 2 + 0], 0.5, 1e-12, "B cheapest: c0 at t=1000");
        CHECK_NEAR(r.samples[1 * 2 + 1], 8.0 / 12.0, 1e-12, "B cheapest: c1 at t=1000");
    }
    sim_result_free(&r);
}

/* A policy that always answers p0 with the job's cards, whatever the job needs. */
static int choose_p0(struct policy_ctx *ctx, const struct ledger *l, size_t job, size_t *ret_pool,
                     long *ret_cards, size_t *ret_npieces)
{
    (void)l;
    *ret_pool = 0;
    *ret_cards = ctx->scn->jobs[job].cards;
    *ret_npieces = 1;
    return 0;
}

static void part_b_liar(void)
{
    struct scenario s;
    struct scn_job jobs[6];
    struct sim_result r;
    static const struct policy liar = {"always-p0", "test", choose_p0, {0, 0, 0}};
    trace_b(jobs);
    world(&s, jobs, 6);
    CHECK(sim_run(&s, &liar, 1, 5000, &r) == 0, "liar replay runs");
    /*
     * J0 t=0 -> p0 (4 free): sound, held; runs 10..3610.
     * J1, J2, J3 (t=50..200) -> p0 with 0 free: capacity, 3 times.
     * J4 t=300 -> p0: 0 free (capacity), m0 has no bf16 (precision), foreign
     *   (domestic): 3 violations in one decision.
     * J5 t=4000 -> p0: J0 ended at 3610, 4 free, 1 ms, m0: sound.
     * Violations: capacity 4, precision 1, domestic 1 = 6 over 4 decisions;
     * accepted 2, rejected 4; cost J0 10*4*1 + J5 10*4*1 = 80.
     */
    const struct ledger *l = &r.ledger;
    CHECK_EQ_LONG(l->violations[VIOL_CAPACITY], 4, "liar: capacity violations");
    CHECK_EQ_LONG(l->violations[VIOL_PRECISION], 1, "liar: precision violations");
    CHECK_EQ_LONG(l->violations[VIOL_DOMESTIC], 1, "liar: domestic violations");
    CHECK_EQ_LONG(l->violations[VIOL_MODEL] + l->violations[VIOL_GANG] +
                      l->violations[VIOL_LATENCY],
                  0, "liar: no model, gang or latency violations");
    CHECK_EQ_LONG(r.summary.violations, 6, "liar: violations in total");
    CHECK_EQ_LONG(l->violating, 4, "liar: violating decisions");
    CHECK_EQ_LONG(l->accepted, 2, "liar: accepted");
    CHECK_EQ_LONG(l->rejected, 4, "liar: rejected");
    CHECK_NEAR(l->cost, 80, 1e-9, "liar: cost");
    sim_result_free(&r);
}

/* Every real policy keeps the hard constraints on trace B (checked independently). */
static void part_b_all_policies(void)
{
    struct scenario s;
    struct scn_job jobs[6];
    trace_b(jobs);
    world(&s, jobs, 6);
    for (size_t i = 0; i < policy_count; i++) {
        struct sim_result r;
        int rc = sim_run(&s, &policy_table[i], 7, 5000, &r);
        CHECK(rc == 0, "%s replays trace B", policy_table[i].name);
        if (rc < 0)
            continue;
        CHECK_EQ_LONG(r.summary.violations, 0, policy_table[i].name);
        CHECK_EQ_LONG(r.ledger.accepted + r.ledger.rejected, 6, policy_table[i].name);
        sim_result_free(&r);
    }
}

int main(void)
{
    part_a();
    part_b_cheapest();
    part_b_liar();
    part_b_all_policies();
    return check_done();
}
