/*
 * replay — replays the committed GPU-cluster trace through every placement
 * policy (or the ones named) on the same scenario, then writes the CSV and the
 * SVG and prints the results table. Flags only; see README.md. Exit status: 0,
 * 1 when a run fails, 2 for a usage error, 3 when --check finds a violation.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"
#include "policy.h"
#include "report.h"
#include "scenario.h"
#include "sim.h"

#ifndef REPLAY_DATA_DIR
#define REPLAY_DATA_DIR "tools/replay/data"
#endif

#define REPLAY_MAX_POLICIES 32 /* more than the policy table holds */
#define DEFAULT_SEED 20230701ULL
#define DEFAULT_SPEEDUP 100.0

static void usage(FILE *f)
{
    fprintf(f,
            "usage: replay [options]\n"
            "  --data DIR           scenario and trace files (default %s)\n"
            "  --csv PATH           results CSV (default replay.csv)\n"
            "  --svg PATH           chart (default replay.svg)\n"
            "  --jobs N             replay only the first N jobs (default all)\n"
            "  --until SECONDS      stop at this simulated time (default: last arrival)\n"
            "  --speedup K          divide arrival times by K (default %.0f)\n"
            "  --background X       scale on the centers' own load series (default 1)\n"
            "  --feed-interval S    seconds between capacity feeds (default 600)\n"
            "  --hold S             hold lifetime in seconds (default 300)\n"
            "  --seed N             seed for origins, constraints and the random policy\n"
            "  --policy NAME        run only this policy (repeatable)\n"
            "  --check              exit 3 unless every policy ran with 0 violations\n"
            "policies:",
            REPLAY_DATA_DIR, DEFAULT_SPEEDUP);
    for (size_t i = 0; i < policy_count; i++)
        fprintf(f, " %s", policy_table[i].name);
    fprintf(f, "\n");
}

static int parse_num(const char *s, double *ret)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!s[0] || *end || errno)
        return -EINVAL;
    *ret = v;
    return 0;
}

/* Writes the CSV or the SVG to path; says what failed. 0 or -EIO. */
static int write_file(const char *path, const struct scenario *s, const struct sim_result *runs,
                      size_t nruns, bool svg)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s: %s\n", path, strerror(errno));
        return -EIO;
    }
    int r = svg ? report_svg(f, s, runs, nruns) : report_csv(f, runs, nruns);
    if (fclose(f) != 0 || r < 0) {
        fprintf(stderr, "replay: cannot write %s\n", path);
        return -EIO;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"csv", required_argument, NULL, 'c'},
        {"svg", required_argument, NULL, 'g'},
        {"jobs", required_argument, NULL, 'j'},
        {"until", required_argument, NULL, 'u'},
        {"speedup", required_argument, NULL, 'k'},
        {"background", required_argument, NULL, 'b'},
        {"feed-interval", required_argument, NULL, 'f'},
        {"hold", required_argument, NULL, 'H'},
        {"seed", required_argument, NULL, 's'},
        {"policy", required_argument, NULL, 'p'},
        {"check", no_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct scenario_options so = {
        .data_dir = REPLAY_DATA_DIR,
        .seed = DEFAULT_SEED,
        .speedup = DEFAULT_SPEEDUP,
        .background = 1.0,
        .feed_interval = 600,
        .hold_seconds = 300,
    };
    const char *csv_path = "replay.csv", *svg_path = "replay.svg";
    const struct policy *chosen[REPLAY_MAX_POLICIES];
    size_t nchosen = 0;
    double until = -1, v;
    int check = 0, c;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            so.data_dir = optarg;
            break;
        case 'c':
            csv_path = optarg;
            break;
        case 'g':
            svg_path = optarg;
            break;
        case 'j':
            if (parse_num(optarg, &v) < 0 || v < 1) {
                fprintf(stderr, "replay: --jobs wants a positive count\n");
                return 2;
            }
            so.max_jobs = (size_t)v;
            break;
        case 'u':
            if (parse_num(optarg, &until) < 0 || until < 0) {
                fprintf(stderr, "replay: --until wants seconds >= 0\n");
                return 2;
            }
            break;
        case 'k':
        case 'b':
        case 'f':
        case 'H':
            if (parse_num(optarg, &v) < 0 || v < 0 || (c != 'b' && v == 0)) {
                fprintf(stderr, "replay: bad number '%s'\n", optarg);
                return 2;
            }
            *(c == 'k'   ? &so.speedup
              : c == 'b' ? &so.background
              : c == 'f' ? &so.feed_interval
                         : &so.hold_seconds) = v;
            break;
        case 's':
            if (parse_num(optarg, &v) < 0 || v < 0) {
                fprintf(stderr, "replay: --seed wants a number >= 0\n");
                return 2;
            }
            so.seed = (uint64_t)v;
            break;
        case 'p': {
            const struct policy *p = policy_find(optarg);
            if (!p) {
                fprintf(stderr, "replay: unknown policy '%s'\n", optarg);
                usage(stderr);
                return 2;
            }
            if (nchosen < REPLAY_MAX_POLICIES)
                chosen[nchosen++] = p;
            break;
        }
        case 'C':
            check = 1;
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
        fprintf(stderr, "replay: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (nchosen == 0) {
        for (size_t i = 0; i < policy_count && i < REPLAY_MAX_POLICIES; i++)
            chosen[nchosen++] = &policy_table[i];
    }

    struct scenario scn;
    char err[512];
    int r = scenario_load(&scn, &so, err, sizeof(err));
    if (r < 0) {
        fprintf(stderr, "replay: %s\n", err);
        return 1;
    }
    long cards = 0;
    for (size_t i = 0; i < scn.npools; i++)
        cards += scn.pools[i].total;
    printf("scenario: %zu centers, %zu pools, %ld cards; %zu jobs, last arrival at %.1f h "
           "(speedup %g, background %g, seed %llu)\n",
           scn.ncenters, scn.npools, cards, scn.njobs,
           scn.njobs ? scn.jobs[scn.njobs - 1].arrival / 3600 : 0.0, so.speedup, so.background,
           (unsigned long long)so.seed);

    struct sim_result *runs = calloc(nchosen, sizeof(*runs));
    size_t nruns = 0;
    int status = 1;
    if (!runs) {
        fprintf(stderr, "replay: out of memory\n");
        goto out;
    }
    for (size_t i = 0; i < nchosen; i++) {
        r = sim_run(&scn, chosen[i], so.seed ^ 0x5eedULL, until, &runs[i]);
        if (r < 0) {
            fprintf(stderr, "replay: policy %s failed: %s\n", chosen[i]->name, strerror(-r));
            goto out;
        }
        nruns++;
    }
    report_table(stdout, runs, nruns);

    if (write_file(csv_path, &scn, runs, nruns, false) < 0 ||
        write_file(svg_path, &scn, runs, nruns, true) < 0)
        goto out;
    printf("wrote %s and %s\n", csv_path, svg_path);
    status = 0;
    if (check) {
        for (size_t i = 0; i < nruns; i++) {
            if (runs[i].summary.violations != 0) {
                fprintf(stderr, "replay: policy %s broke %ld hard constraints\n",
                        runs[i].policy->name, runs[i].summary.violations);
                status = 3;
            }
        }
    }
out:
    for (size_t i = 0; i < nruns; i++)
        sim_result_free(&runs[i]);
    free(runs);
    scenario_free(&scn);
    return status;
}
