/*
 * ledger — the replay's accounting, pure and clock-free: cards per pool
 * (background, holds, running placements, the last feed's view), the
 * placement life cycle (held -> running -> done, or held -> expired), cost,
 * time-weighted utilization per center, and the independent checker that
 * counts hard-constraint violations of a policy's choice. Times are simulated
 * seconds passed in by the caller.
 */
#ifndef SUANWANG_REPLAY_LEDGER_H
#define SUANWANG_REPLAY_LEDGER_H

#include <stdbool.h>
#include <stddef.h>

#include "scenario.h"

enum ledger_violation {
    VIOL_MODEL,     /* a model outside the job's gpu_spec */
    VIOL_PRECISION, /* the model cannot compute the job's precision */
    VIOL_CAPACITY,  /* more cards than the pool really has free */
    VIOL_GANG,      /* not exactly one piece with all the job's cards */
    VIOL_LATENCY,   /* RTT from the origin above the job's limit */
    VIOL_DOMESTIC,  /* a foreign model for a domestic_only job */
    VIOL_COUNT
};

const char *ledger_violation_name(enum ledger_violation v);

struct ledger_pool {
    long total;      /* ro; cards */
    long background; /* cards the center's own tenants use, set by each feed */
    long held;       /* cards in live broker holds */
    long running;    /* cards of confirmed placements still running */
    long feed_free;  /* free cards as the last feed reported them */
    long unseen;     /* running cards confirmed after the last feed */
};

enum placement_state { PL_HELD, PL_RUNNING, PL_DONE, PL_EXPIRED };

struct ledger_placement {
    size_t job;
    size_t pool;
    long cards;
    double cost; /* price * cards * hours, CNY */
    enum placement_state state;
    unsigned long feed; /* feeds seen when it was confirmed */
};

struct ledger {
    const struct scenario *scn;          /* borrowed */
    struct ledger_pool *pools;           /* owned; one per scenario pool */
    struct ledger_placement *placements; /* owned */
    size_t nplacements;
    size_t cap;
    unsigned long feeds; /* feeds applied so far */
    double t0;           /* start of the measured span */
    double now;          /* time of the last event */
    double *util_area;   /* owned; per center, integral of the used fraction over time */
    double *rtts;        /* owned; RTT from the origin of each accepted job */
    long arrivals;
    long accepted; /* held */
    long rejected; /* nothing fits, or the choice broke a hard constraint */
    long confirmed;
    long expired;
    long ended;
    double cost;       /* CNY over confirmed placements (no vouchers: list = effective) */
    double card_hours; /* over confirmed placements */
    long violations[VIOL_COUNT];
    long violating; /* decisions with at least one violation */
};

struct ledger_summary {
    double acceptance; /* accepted / arrivals */
    double rtt_mean;   /* over accepted jobs, ms */
    double rtt_p95;    /* nearest rank: the ceil(0.95 n)-th smallest */
    double util_mean;  /* over centers of each center's time-mean used fraction */
    double util_std;   /* population standard deviation of those means */
    double util_max;
    double util_min;
    double cost_per_card_hour;
    long violations; /* sum over kinds */
};

/* Sets up an empty ledger for up to `cap` placements starting at t0. 0 or -ENOMEM. */
int ledger_init(struct ledger *l, const struct scenario *s, size_t cap, double t0);

void ledger_free(struct ledger *l);

/* Integrates utilization up to t; earlier times are ignored. */
void ledger_advance(struct ledger *l, double t);

/*
 * A feed from every center at t: each pool's background becomes its target,
 * capped by what holds and running placements leave, and the feed's free count
 * becomes total - background - running (a center does not see broker holds).
 */
void ledger_feed(struct ledger *l, double t, const long *background_targets);

/* Cards the broker may offer: the feed's free minus live holds minus unseen confirms. */
long ledger_available(const struct ledger *l, size_t pool);

/* Cards really free now: total - background - held - running. */
long ledger_free_cards(const struct ledger *l, size_t pool);

/* A center's used fraction now, background included. */
double ledger_center_util(const struct ledger *l, size_t center);

/*
 * The independent check of a choice of `npieces` pieces, the first of `cards`
 * cards on `pool`, for job `job`: a bit (1 << enum ledger_violation) per broken
 * constraint, 0 when it is sound. Judges against the real free cards, not the
 * broker's view.
 */
unsigned ledger_check(const struct ledger *l, size_t job, size_t pool, long cards, size_t npieces);

/*
 * Records a decision for job `job` at t. npieces == 0 means nothing fits.
 * Otherwise the choice is checked: a broken constraint is counted and the
 * job rejected (returns -EPERM); a sound one is held and its placement index
 * returned. -ENOSPC when the placement table is full.
 */
long ledger_decide(struct ledger *l, double t, size_t job, size_t pool, long cards, size_t npieces);

/* Held -> running (books the cost). 0, or -EINVAL when the placement is not held. */
int ledger_confirm(struct ledger *l, double t, size_t placement);

/* Held -> expired (frees the cards). 0 or -EINVAL. */
int ledger_expire(struct ledger *l, double t, size_t placement);

/* Running -> done (frees the cards). 0 or -EINVAL. */
int ledger_end(struct ledger *l, double t, size_t placement);

/* Summary metrics; 0 or -ENOMEM. */
int ledger_summarize(const struct ledger *l, struct ledger_summary *ret);

#endif
