/*
 * decision — the record of one routing decision as JSON (SPEC §2, §4): the
 * request, every candidate with its verdict and reason or score terms, the
 * choice, the top-3 alternatives, the explanation and the time taken. Built
 * from the routing core's inputs and result; no I/O.
 */
#ifndef SUANWANG_DECISION_H
#define SUANWANG_DECISION_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "inventory.h"
#include "request.h"
#include "route.h"

struct decision_info {
    const char *id;
    const char *tenant;
    int64_t at; /* ms */
    int64_t elapsed_us;
    const char *outcome;      /* placed | quoted | unplaceable */
    const char *placement_id; /* NULL unless a hold was made */
    const struct placement_request *req;
    const struct route_input *in;
    const struct route_result *res;
    const struct route_voucher *vouchers;
    size_t nvouchers;
    const char *explanation;
};

/* The full record; NULL on allocation failure. */
cJSON *decision_record(const struct decision_info *d);

#endif
