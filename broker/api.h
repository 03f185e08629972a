/*
 * api — the HTTP API of brokerd: one static route table (method, path
 * pattern, handler, roles), bearer-token authentication, and one
 * problem+json writer with one errno-to-status table. Handlers live in
 * api_placements.c, api_centers.c and api_admin.c; each gets a parsed call
 * and fills a reply. Nothing here knows nghttp2: h2.c hands requests in.
 */
#ifndef SUANWANG_API_H
#define SUANWANG_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "h2.h"
#include "inventory.h"
#include "model.h"
#include "store.h"

#define API_MAX_PARAMS 2

struct metrics;

/* Everything a handler may use; one per daemon. */
struct api {
    struct store *st;         /* borrowed */
    struct inventory *inv;    /* borrowed */
    const struct config *cfg; /* borrowed */
    struct metrics *metrics;  /* borrowed; may be NULL */
    struct feeds *feeds;      /* borrowed; the pull scheduler, NULL when not running */
    char admin_hash[65];      /* SHA-256 of SUANWANG_ADMIN_TOKEN, "" when unset */
};

struct api_call {
    const struct http_request *http;
    enum role role;
    char subject[65];                   /* tenant id, operator id or admin name */
    const char *params[API_MAX_PARAMS]; /* path parameters, NUL-terminated copies */
    const char *query;                  /* after '?', or "" */
    int64_t now;                        /* ms */
};

/* A handler's answer: a JSON body with a status, or a problem. */
struct api_reply {
    int status;
    cJSON *body; /* owned; sent as application/json */
    /* problem (status >= 400 with body NULL) */
    const char *type; /* short slug, e.g. "invalid-field" */
    const char *title;
    char detail[512];
    char pointer[256];
    cJSON *extra; /* owned; members merged into the problem */
    char *raw;    /* owned; a non-JSON body (metrics) */
    size_t raw_len;
    const char *raw_type;
    const char *location; /* optional Location header, e.g. location_buf */
    char location_buf[160];
};

typedef void api_handler_fn(struct api *api, const struct api_call *call, struct api_reply *reply);

/* The h2 handler: authenticates, routes, calls the handler, writes the response. */
void api_handle(void *userdata, const struct http_request *req, struct http_response *resp);

/*
 * Group commit of the requests one read of a connection completed: begin
 * opens one transaction that every handler's writes join (store_group_begin),
 * end commits it, synced, before any of their answers is sent. When the end
 * fails, nothing of the group is stored: the inventory's counts are reloaded
 * and h2 answers every write of the group 503 instead.
 */
int api_batch_begin(void *userdata);
int api_batch_end(void *userdata);

/* Logs and counts an answer the HTTP/2 transport gave by itself (h2_log_fn). */
void api_log_transport(void *userdata, int32_t stream_id, const char *peer, const char *method,
                       const char *path, int status, size_t body_len);

/* Fills reply as a problem; detail is printf-formatted. */
void api_problem(struct api_reply *reply, int status, const char *type, const char *title,
                 const char *pointer, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* A problem for a negative errno from a lower layer (one table for the whole API). */
void api_errno(struct api_reply *reply, int err, const char *what);

/* A 400 for a document error carrying its JSON pointer. */
void api_bad_field(struct api_reply *reply, const struct json_error *err);

/* Sets a JSON reply (takes body). */
void api_json(struct api_reply *reply, int status, cJSON *body);

/* Reads an integer query parameter; def when absent. -EINVAL when malformed. */
int api_query_long(const char *query, const char *key, long def, long min, long max, long *ret);

/*
 * Reads a query parameter's value, percent-decoded, into buf. *ret_present
 * tells whether the key was there. -EINVAL when the value is empty, malformed,
 * holds a NUL or does not fit in len bytes.
 */
int api_query_string(const char *query, const char *key, char *buf, size_t len, bool *ret_present);

/* Adds an RFC 3339 timestamp member, or null when ms is 0. */
void api_add_time(cJSON *obj, const char *key, int64_t ms);

/* Handlers (one row each in api.c's table). */
api_handler_fn api_healthz, api_metrics;
api_handler_fn api_tokens_create, api_tenants_create, api_tenant_get, api_tenant_update;
api_handler_fn api_regions_list, api_regions_create, api_latency_list, api_latency_put;
api_handler_fn api_vouchers_create, api_vouchers_list, api_voucher_get, api_vouchers_report;
api_handler_fn api_adapters_list;
api_handler_fn api_centers_list, api_center_get, api_centers_create, api_center_update,
    api_center_delete, api_center_feed;
api_handler_fn api_placements_create, api_placements_list, api_placement_get, api_placement_confirm,
    api_placement_release;
api_handler_fn api_decisions_list, api_decision_get;

/* A tenant's quota of cards in live holds: its own, else the configured default; 0 = none. */
long api_tenant_quota(const struct api *api, const struct tenant_row *t);

/* Shared between handlers: a center as JSON (feeds with health, pools with availability). */
cJSON *api_center_json(struct api *api, const struct center_row *c, int64_t now);

#endif
