/*
 * report — the replay's outputs from a set of finished runs: one CSV row per
 * policy, the same numbers as a plain-text table, and a self-contained SVG
 * (cost against acceptance per policy, utilization per center over time).
 */
#ifndef SUANWANG_REPLAY_REPORT_H
#define SUANWANG_REPLAY_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "scenario.h"
#include "sim.h"

/* Each writer returns 0 or a negative errno. */
int report_csv(FILE *f, const struct sim_result *runs, size_t nruns);
int report_table(FILE *f, const struct sim_result *runs, size_t nruns);
int report_svg(FILE *f, const struct scenario *s, const struct sim_result *runs, size_t nruns);

#endif
