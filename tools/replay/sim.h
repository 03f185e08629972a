/*
 * sim — the replay's event loop in simulated time: job arrivals from the
 * trace, decisions by one policy, holds that are confirmed or expire, jobs
 * that end and release their cards, and periodic capacity feeds that refresh
 * every pool's background load. All accounting goes through the ledger.
 */
#ifndef SUANWANG_REPLAY_SIM_H
#define SUANWANG_REPLAY_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "ledger.h"
#include "policy.h"
#include "scenario.h"

struct sim_result {
    const struct policy *policy; /* borrowed */
    struct ledger ledger;        /* owned; the final accounting */
    struct ledger_summary summary;
    long decisions;        /* policy calls */
    double decide_seconds; /* wall time inside the policy */
    double end;            /* simulated time the run stopped */
    double *samples;       /* owned; nsamples rows of ncenters used fractions, one per feed */
    double *sample_t;      /* owned; simulated time of each row */
    size_t nsamples;
};

/*
 * Replays every job of the scenario through `p` until `until` simulated
 * seconds (< 0: the last arrival). `seed` drives the random policy. Returns 0
 * and fills *ret (free with sim_result_free), or a negative errno.
 */
int sim_run(const struct scenario *s, const struct policy *p, uint64_t seed, double until,
            struct sim_result *ret);

void sim_result_free(struct sim_result *r);

#endif
