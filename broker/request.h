/*
 * request — a placement request body (POST /v1/placements) read strictly into
 * a route_request plus the fields routing does not see (origin, vouchers, hold
 * time, dry run). Every error names the JSON pointer of the bad field. Pure:
 * whether the origin region or the vouchers exist is the caller's check.
 */
#ifndef SUANWANG_REQUEST_H
#define SUANWANG_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"
#include "route.h"

#define REQUEST_DEFAULT_HOLD_S 300
#define REQUEST_MAX_HOLD_S 86400
#define REQUEST_MAX_LIST 64 /* regions, vouchers, labels */

struct placement_request {
    struct route_request route;
    const char *origin;    /* borrowed from doc */
    const char **vouchers; /* owned array of strings borrowed from doc */
    size_t nvouchers;
    long hold_seconds;
    bool dry_run;
    cJSON *doc;           /* owned: the parsed body, which the strings point into */
    const char **allowed; /* owned arrays behind route.regions_* and labels */
    const char **denied;
    struct label *labels;
};

/* Parses and validates. Returns 0, -EINVAL with *err filled, or -ENOMEM. */
int request_parse(const char *body, size_t len, struct placement_request *ret,
                  struct json_error *err);

/* Frees what request_parse allocated. NULL is a no-op. */
void request_free(struct placement_request *req);

#endif
