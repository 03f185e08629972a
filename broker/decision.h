/*
 * decision — the record of one routing decision as JSON (SPEC §2, §4): the
 * request, every candidate with its verdict and reason or score terms, the
 * choice, the top-3 alternatives, the explanation and the time taken. Built
 * from the routing core's inputs and result; no I/O. The summary is stored
 * when the decision is made; the candidates are computed again from the
 * stored inputs when the record is read (api_placements.c).
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

/*
 * The record without its candidates (the summary kept with the decision);
 * NULL on allocation failure.
 */
cJSON *decision_record(const struct decision_info *d);

/* Every candidate with its verdict, reason or score terms; NULL on allocation failure. */
cJSON *decision_candidates(const struct decision_info *d);

/* The vouchers routing saw, exactly (the decision's stored inputs); NULL on ENOMEM. */
cJSON *decision_vouchers_json(const struct route_voucher *v, size_t n);
/* Reads them back; strings borrow from doc. 0, -EINVAL, -ENOMEM. */
int decision_vouchers_read(const cJSON *doc, struct route_voucher **ret, size_t *ret_n);
void decision_vouchers_free(struct route_voucher *v, size_t n);

#endif
