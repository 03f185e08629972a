/*
 * scenario — the world a replay runs in: regions and the RTT matrix between
 * them, accelerator models with their prices, centers and their pools built
 * from real node lists, each center's background load series, and the jobs
 * (tenant requests) derived from the pod trace with seeded origins and
 * constraints. The types are plain data, so tests can build a scenario by hand.
 */
#ifndef SUANWANG_REPLAY_SCENARIO_H
#define SUANWANG_REPLAY_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

#define SCN_MAX_MODELS 64 /* models_allowed is a 64-bit mask */

struct scn_region {
    char id[32];
    double lat;
    double lon;
};

struct scn_model {
    char name[32];
    char trace_names[64]; /* '|'-separated names the traces use for it */
    bool domestic;
    double memory_gib;
    double tflops[PREC_COUNT]; /* dense; 0 = unsupported */
    double price;              /* CNY per card-hour before the center's factor */
};

struct scn_center {
    char id[48];
    size_t region;       /* index into regions */
    long vc;             /* index into the background series, or -1 for none */
    double price_factor; /* multiplies the model's price */
};

struct scn_pool {
    size_t center; /* index into centers */
    size_t model;  /* index into models */
    long total;    /* cards */
    double price;  /* CNY per card-hour */
};

struct scn_job {
    size_t trace_row; /* row of the pod list it came from */
    double arrival;   /* simulated seconds */
    double hours;     /* the run time the tenant asks for */
    long cards;
    enum precision precision;
    size_t origin;         /* index into regions */
    double max_latency_ms; /* < 0: no limit */
    bool domestic_only;
    uint64_t models_allowed; /* bit i = models[i] allowed */
    double confirm_delay;    /* seconds from hold to confirm */
    bool abandons;           /* never confirms: the hold expires */
};

/* Background load: per series, the used fraction per step, cycled. */
struct scn_series {
    char name[16];
    double *util; /* owned */
    size_t n;
};

struct scenario {
    struct scn_region *regions; /* owned */
    size_t nregions;
    double *rtt;                 /* owned; nregions * nregions, ms */
    enum rtt_source *rtt_source; /* owned; same shape */
    struct scn_model *models;    /* owned */
    size_t nmodels;
    struct scn_center *centers; /* owned */
    size_t ncenters;
    struct scn_pool *pools; /* owned; grouped by center */
    size_t npools;
    struct scn_job *jobs; /* owned; sorted by arrival */
    size_t njobs;
    struct scn_series *series; /* owned */
    size_t nseries;
    double series_step;   /* seconds per series point */
    double background;    /* scale on the series; 0 = no background */
    double feed_interval; /* seconds between capacity feeds */
    double hold_seconds;  /* hold lifetime */
};

/* How to derive jobs from the pod trace. */
struct scenario_options {
    const char *data_dir;
    uint64_t seed;
    double speedup;       /* arrival times are divided by it */
    size_t max_jobs;      /* 0 = all */
    double background;    /* scale on the background series */
    double feed_interval; /* seconds */
    double hold_seconds;
};

/*
 * Loads the scenario files and the traces from opt->data_dir (see
 * data/README.md). On failure returns a negative errno and writes a message
 * naming the file into err.
 */
int scenario_load(struct scenario *ret, const struct scenario_options *opt, char *err,
                  size_t errlen);

/* RTT in ms between two regions. */
double scenario_rtt(const struct scenario *s, size_t a, size_t b);

/* Background used fraction for a center at simulated time t (0 when it has none). */
double scenario_background(const struct scenario *s, size_t center, double t);

/* Index of a region id, or -1. */
long scenario_region(const struct scenario *s, const char *id);

void scenario_free(struct scenario *s);

/* splitmix64: the one seeded generator of the replay. */
uint64_t scenario_rng_next(uint64_t *state);

/* Uniform in [0, 1). */
double scenario_rng_unit(uint64_t *state);

#endif
