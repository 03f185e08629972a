/*
 * api — request entry: match the route table, authenticate the bearer token,
 * check the role, run the handler, and turn its reply into an HTTP response
 * (JSON or problem+json). Owns the errno -> HTTP status table; counts every
 * answer in metrics.c and serves /metrics from it and the store.
 */
#include "api.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "clock.h"
#include "feeds.h"
#include "log.h"
#include "metrics.h"
#include "timefmt.h"

#define ROLES_ALL ((1u << ROLE_ADMIN) | (1u << ROLE_OPERATOR) | (1u << ROLE_TENANT))
#define R_ADMIN (1u << ROLE_ADMIN)
#define R_OPERATOR (1u << ROLE_OPERATOR)
#define R_TENANT (1u << ROLE_TENANT)
#define NO_AUTH 0u
#define FEED_BODY_MAX (1u << 20)

struct route_row {
    const char *method;
    const char *pattern; /* "{}" matches one path segment */
    api_handler_fn *handler;
    unsigned roles;  /* bit per enum role; 0 = no authentication */
    size_t max_body; /* 0 = the configured request body limit */
};

static const struct route_row routes[] = {
    {"GET", "/healthz", api_healthz, NO_AUTH, 0},
    {"GET", "/metrics", api_metrics, NO_AUTH, 0},
    {"POST", "/v1/tokens", api_tokens_create, R_ADMIN, 0},
    {"POST", "/v1/tenants", api_tenants_create, R_ADMIN, 0},
    {"GET", "/v1/tenants/{}", api_tenant_get, R_ADMIN | R_TENANT, 0},
    {"PUT", "/v1/tenants/{}", api_tenant_update, R_ADMIN, 0},
    {"GET", "/v1/regions", api_regions_list, ROLES_ALL, 0},
    {"POST", "/v1/regions", api_regions_create, R_ADMIN, 0},
    {"GET", "/v1/latency", api_latency_list, ROLES_ALL, 0},
    {"PUT", "/v1/latency", api_latency_put, R_ADMIN, 0},
    {"POST", "/v1/vouchers", api_vouchers_create, R_ADMIN, 0},
    {"GET", "/v1/vouchers", api_vouchers_list, R_ADMIN | R_TENANT, 0},
    /* Before /v1/vouchers/{}: the first matching row wins ("report" is no voucher id). */
    {"GET", "/v1/vouchers/report", api_vouchers_report, R_ADMIN, 0},
    {"GET", "/v1/vouchers/{}", api_voucher_get, R_ADMIN | R_TENANT, 0},
    {"GET", "/v1/adapters", api_adapters_list, ROLES_ALL, 0},
    {"GET", "/v1/centers", api_centers_list, ROLES_ALL, 0},
    {"POST", "/v1/centers", api_centers_create, R_ADMIN | R_OPERATOR, 0},
    {"GET", "/v1/centers/{}", api_center_get, ROLES_ALL, 0},
    {"PUT", "/v1/centers/{}", api_center_update, R_ADMIN | R_OPERATOR, 0},
    {"DELETE", "/v1/centers/{}", api_center_delete, R_ADMIN | R_OPERATOR, 0},
    {"POST", "/v1/centers/{}/feed", api_center_feed, R_ADMIN | R_OPERATOR, FEED_BODY_MAX},
    {"POST", "/v1/placements", api_placements_create, R_TENANT, 0},
    {"GET", "/v1/placements", api_placements_list, R_ADMIN | R_TENANT, 0},
    {"GET", "/v1/placements/{}", api_placement_get, R_ADMIN | R_TENANT, 0},
    {"POST", "/v1/placements/{}/confirm", api_placement_confirm, R_ADMIN | R_TENANT, 0},
    {"POST", "/v1/placements/{}/release", api_placement_release, R_ADMIN | R_TENANT, 0},
    {"GET", "/v1/decisions", api_decisions_list, R_ADMIN | R_TENANT, 0},
    {"GET", "/v1/decisions/{}", api_decision_get, R_ADMIN | R_TENANT, 0},
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* metrics.c counts per row, with one more row for unmatched paths. */
_Static_assert(NROUTES < METRICS_MAX_ROUTES, "raise METRICS_MAX_ROUTES");

/* Matches path (no query) against pattern; copies parameters into bufs. */
static bool match(const char *pattern, const char *path, char bufs[][128], int *nparams)
{
    *nparams = 0;
    while (*pattern && *path) {
        if (pattern[0] == '{' && pattern[1] == '}') {
            const char *end = strchr(path, '/');
            size_t n = end ? (size_t)(end - path) : strlen(path);
            if (n == 0 || n >= 128 || *nparams >= API_MAX_PARAMS)
                return false;
            memcpy(bufs[*nparams], path, n);
            bufs[*nparams][n] = '\0';
            (*nparams)++;
            path += n;
            pattern += 2;
            continue;
        }
        if (*pattern != *path)
            return false;
        pattern++;
        path++;
    }
    return *pattern == '\0' && *path == '\0';
}

void api_problem(struct api_reply *reply, int status, const char *type, const char *title,
                 const char *pointer, const char *fmt, ...)
{
    cJSON_Delete(reply->body);
    reply->body = NULL;
    reply->status = status;
    reply->type = type;
    reply->title = title;
    snprintf(reply->pointer, sizeof(reply->pointer), "%s", pointer ? pointer : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reply->detail, sizeof(reply->detail), fmt, ap);
    va_end(ap);
}

void api_bad_field(struct api_reply *reply, const struct json_error *err)
{
    api_problem(reply, 400, "invalid-field", "invalid request field", err->pointer, "%s%s%s",
                err->pointer[0] ? err->pointer : "", err->pointer[0] ? ": " : "", err->detail);
}

/* The one errno -> HTTP status table. */
static const struct {
    int err;
    int status;
    const char *type;
    const char *title;
} errno_table[] = {
    {ENOENT, 404, "not-found", "not found"},
    {EEXIST, 409, "conflict", "already exists"},
    {ESTALE, 409, "conflict", "state conflict"},
    {EINVAL, 400, "invalid-request", "invalid request"},
    {EACCES, 403, "forbidden", "forbidden"},
    {EPERM, 403, "forbidden", "forbidden"},
    {E2BIG, 413, "too-large", "request too large"},
    {ENOMEM, 503, "out-of-memory", "the broker is short of memory"},
    {EBUSY, 503, "busy", "the database is busy"},
    {ENOSPC, 507, "storage-full", "the database is full"},
    {ERANGE, 409, "conflict", "the voucher balance is too low"},
};

void api_errno(struct api_reply *reply, int err, const char *what)
{
    int e = err < 0 ? -err : err;
    for (size_t i = 0; i < sizeof(errno_table) / sizeof(errno_table[0]); i++) {
        if (errno_table[i].err == e) {
            api_problem(reply, errno_table[i].status, errno_table[i].type, errno_table[i].title,
                        NULL, "%s: %s", what, strerror(e));
            return;
        }
    }
    api_problem(reply, 500, "internal", "internal error", NULL, "%s: %s", what, strerror(e));
}

void api_json(struct api_reply *reply, int status, cJSON *body)
{
    cJSON_Delete(reply->body);
    reply->status = status;
    reply->body = body;
    if (!body)
        api_problem(reply, 503, "out-of-memory", "the broker is short of memory", NULL,
                    "could not build the response");
}

void api_add_time(cJSON *obj, const char *key, int64_t ms)
{
    char buf[40];
    if (ms == 0) {
        cJSON_AddNullToObject(obj, key);
        return;
    }
    timefmt_format(ms, buf, sizeof(buf));
    cJSON_AddStringToObject(obj, key, buf);
}

int api_query_long(const char *query, const char *key, long def, long min, long max, long *ret)
{
    size_t klen = strlen(key);
    *ret = def;
    for (const char *p = query; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        if (n > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
            char buf[32];
            size_t vlen = n - klen - 1;
            if (vlen == 0 || vlen >= sizeof(buf))
                return -EINVAL;
            memcpy(buf, p + klen + 1, vlen);
            buf[vlen] = '\0';
            char *end = NULL;
            errno = 0;
            long v = strtol(buf, &end, 10);
            if (errno || !end || *end || v < min || v > max)
                return -EINVAL;
            *ret = v;
            return 0;
        }
        p = amp ? amp + 1 : NULL;
    }
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int api_query_string(const char *query, const char *key, char *buf, size_t len, bool *ret_present)
{
    size_t klen = strlen(key);
    *ret_present = false;
    for (const char *p = query; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        if (n >= klen && strncmp(p, key, klen) == 0 && (n == klen || p[klen] == '=')) {
            const char *v = p + klen + (n > klen), *end = p + n;
            size_t o = 0;
            while (v < end) {
                int c = (unsigned char)*v;
                if (c == '%') {
                    if (end - v < 3 || hexval(v[1]) < 0 || hexval(v[2]) < 0)
                        return -EINVAL;
                    c = hexval(v[1]) * 16 + hexval(v[2]);
                    v += 3;
                } else {
                    c = c == '+' ? ' ' : c;
                    v++;
                }
                if (c == 0 || o + 1 >= len)
                    return -EINVAL;
                buf[o++] = (char)c;
            }
            buf[o] = '\0';
            if (o == 0)
                return -EINVAL;
            *ret_present = true;
            return 0;
        }
        p = amp ? amp + 1 : NULL;
    }
    return 0;
}

static bool consttime_eq(const char *a, const char *b, size_t n)
{
    unsigned char d = 0;
    for (size_t i = 0; i < n; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

/* 0 with role and subject, or a problem already written into reply. */
static int authenticate(struct api *api, const struct http_request *req, struct api_call *call,
                        struct api_reply *reply)
{
    const char *h = req->authorization;
    char hash[AUTH_HASH_LEN + 1];
    if (!h || strncasecmp(h, "Bearer ", 7) != 0 || strlen(h + 7) == 0 || strlen(h + 7) > 256) {
        api_problem(reply, 401, "unauthorized", "authentication required", NULL,
                    "send Authorization: Bearer <token>");
        return -EACCES;
    }
    const char *tok = h + 7;
    if (auth_sha256_hex(tok, strlen(tok), hash) < 0) {
        api_problem(reply, 500, "internal", "internal error", NULL, "cannot hash token");
        return -EIO;
    }
    if (api->admin_hash[0] && consttime_eq(hash, api->admin_hash, AUTH_HASH_LEN)) {
        call->role = ROLE_ADMIN;
        snprintf(call->subject, sizeof(call->subject), "bootstrap");
        return 0;
    }
    int r = store_token_find(api->st, hash, &call->role, call->subject, sizeof(call->subject));
    if (r == -ENOENT) {
        api_problem(reply, 401, "unauthorized", "invalid token", NULL,
                    "the bearer token is not known to this broker");
        return r;
    }
    if (r < 0) {
        api_errno(reply, r, "token lookup");
        return r;
    }
    return 0;
}

static char *render(struct api_reply *reply, size_t *len, const char **ctype)
{
    char *out = NULL;
    if (reply->raw) {
        *ctype = reply->raw_type;
        *len = reply->raw_len;
        out = reply->raw;
        reply->raw = NULL;
        return out;
    }
    if (reply->body) {
        out = cJSON_PrintUnformatted(reply->body);
        *ctype = "application/json";
    } else {
        cJSON *p = reply->extra ? reply->extra : cJSON_CreateObject();
        reply->extra = NULL;
        if (p) {
            char type[96];
            snprintf(type, sizeof(type), "https://suanwang.dev/problems/%s",
                     reply->type ? reply->type : "error");
            cJSON_AddStringToObject(p, "type", type);
            cJSON_AddStringToObject(p, "title", reply->title ? reply->title : "error");
            cJSON_AddNumberToObject(p, "status", reply->status);
            cJSON_AddStringToObject(p, "detail", reply->detail);
            if (reply->pointer[0])
                cJSON_AddStringToObject(p, "pointer", reply->pointer);
            out = cJSON_PrintUnformatted(p);
            cJSON_Delete(p);
        }
        *ctype = "application/problem+json";
    }
    if (!out) {
        static const char oom[] = "{\"type\":\"https://suanwang.dev/problems/out-of-memory\","
                                  "\"title\":\"the broker is short of memory\",\"status\":503}";
        out = malloc(sizeof(oom));
        if (out)
            memcpy(out, oom, sizeof(oom));
        reply->status = 503;
        *ctype = "application/problem+json";
    }
    *len = out ? strlen(out) : 0;
    return out;
}

int api_batch_begin(void *userdata)
{
    struct api *api = userdata;
    return store_group_begin(api->st);
}

int api_batch_end(void *userdata)
{
    struct api *api = userdata;
    if (!store_in_group(api->st))
        return 0;
    int r = store_group_end(api->st);
    if (r < 0) {
        /* Holds counted in memory were not stored, and neither was any change. */
        inventory_invalidate(api->inv);
        log_error("group commit failed: %s; the group's writes are answered 503", strerror(-r));
    }
    return r;
}

void api_handle(void *userdata, const struct http_request *req, struct http_response *resp)
{
    struct api *api = userdata;
    struct api_reply reply = {.status = 200};
    struct api_call call = {.http = req, .now = clock_now_ms(), .query = ""};
    char path[512], params[API_MAX_PARAMS][128];
    int64_t t0 = clock_mono_us();
    size_t row = NROUTES;
    bool path_known = false;

    const char *q = strchr(req->path, '?');
    size_t plen = q ? (size_t)(q - req->path) : strlen(req->path);
    if (plen >= sizeof(path)) {
        api_problem(&reply, 414, "uri-too-long", "URI too long", NULL, "the path is too long");
        goto send;
    }
    memcpy(path, req->path, plen);
    path[plen] = '\0';
    if (plen > 1 && path[plen - 1] == '/')
        path[--plen] = '\0';
    call.query = q ? q + 1 : "";

    for (size_t i = 0; i < NROUTES; i++) {
        int np = 0;
        if (!match(routes[i].pattern, path, params, &np))
            continue;
        path_known = true;
        if (strcmp(routes[i].method, req->method) != 0)
            continue;
        row = i;
        for (int k = 0; k < np; k++)
            call.params[k] = params[k];
        break;
    }
    if (row == NROUTES) {
        if (path_known)
            api_problem(&reply, 405, "method-not-allowed", "method not allowed", NULL,
                        "%s is not allowed on %s", req->method, path);
        else
            api_problem(&reply, 404, "not-found", "not found", NULL, "no such resource: %s", path);
        goto send;
    }
    const struct route_row *rt = &routes[row];
    if (rt->roles) {
        if (authenticate(api, req, &call, &reply) < 0)
            goto send;
        if (!(rt->roles & (1u << call.role))) {
            api_problem(&reply, 403, "forbidden", "forbidden", NULL, "the %s role may not %s %s",
                        role_name(call.role), req->method, path);
            goto send;
        }
    }
    size_t max_body = rt->max_body ? rt->max_body : api->cfg->limits.max_body;
    if (req->body_len > max_body) {
        api_problem(&reply, 413, "too-large", "request body too large", NULL,
                    "the body is %zu bytes; this endpoint takes at most %zu", req->body_len,
                    max_body);
        goto send;
    }
    rt->handler(api, &call, &reply);

send:
    resp->status = reply.status;
    resp->body = render(&reply, &resp->body_len, &resp->content_type);
    if (reply.status == 401) {
        resp->extra_name = "www-authenticate";
        resp->extra_value = "Bearer";
    } else if (reply.location) {
        /* h2 copies the header when it submits the response, right after we return. */
        static char location[sizeof(reply.location_buf)];
        snprintf(location, sizeof(location), "%s", reply.location);
        resp->extra_name = "location";
        resp->extra_value = location;
    }
    metrics_request(api->metrics, row, reply.status);
    log_info("stream=%d peer=%s %s %.200s %d %zuB %lldus role=%s subject=%s", req->stream_id,
             req->peer ? req->peer : "-", req->method, req->path, reply.status, resp->body_len,
             (long long)(clock_mono_us() - t0), call.subject[0] ? role_name(call.role) : "-",
             call.subject[0] ? call.subject : "-");
    cJSON_Delete(reply.body);
    cJSON_Delete(reply.extra);
    free(reply.raw);
}

void api_log_transport(void *userdata, int32_t stream_id, const char *peer, const char *method,
                       const char *path, int status, size_t body_len)
{
    (void)userdata;
    log_info("stream=%d peer=%s %s %.200s %d %zuB 0us role=- subject=- (answered by the "
             "transport)",
             stream_id, peer ? peer : "-", method, path, status, body_len);
}

void api_healthz(struct api *api, const struct api_call *call, struct api_reply *reply)
{
    (void)call;
    cJSON *o = cJSON_CreateObject();
    int r = store_tenant_exists(api->st, "");
    cJSON_AddStringToObject(o, "status", r < 0 ? "degraded" : "ok");
    cJSON_AddStringToObject(o, "database", r < 0 ? strerror(-r) : "ok");
    /* Whether the inventory holds a first answer from every pull feed yet: a restarted
       broker routes on its stored snapshots until then; not a failure. */
    cJSON *f = cJSON_AddObjectToObject(o, "feeds");
    if (f) {
        cJSON_AddBoolToObject(f, "ready", feeds_ready(api->feeds));
        cJSON_AddNumberToObject(f, "pending_first_polls", feeds_pending_first_polls(api->feeds));
    }
    api_json(reply, r < 0 ? 503 : 200, o);
}

void api_metrics(struct api *api, const struct api_call *call, struct api_reply *reply)
{
    struct metrics_route labels[NROUTES];
    struct store_stats stats;
    struct center_row *centers = NULL;
    size_t ncenters = 0;
    char *out = NULL;
    size_t len = 0;
    for (size_t i = 0; i < NROUTES; i++)
        labels[i] = (struct metrics_route){routes[i].method, routes[i].pattern};
    int r = store_stats_load(api->st, call->now, &stats);
    if (r == 0)
        r = store_centers_load(api->st, NULL, &centers, &ncenters);
    if (r < 0) {
        api_errno(reply, r, "metrics");
        return;
    }
    struct metrics_view view = {.routes = labels,
                                .nroutes = NROUTES,
                                .stats = &stats,
                                .centers = centers,
                                .ncenters = ncenters,
                                .feeds_running = api->feeds != NULL,
                                .feeds_ready = feeds_ready(api->feeds),
                                .feeds_pending = feeds_pending_first_polls(api->feeds),
                                .now = call->now};
    r = metrics_render(api->metrics, &view, &out, &len);
    store_centers_free(centers, ncenters);
    if (r < 0) {
        api_errno(reply, r, "metrics");
        return;
    }
    reply->status = 200;
    reply->raw = out;
    reply->raw_len = len;
    reply->raw_type = "text/plain; version=0.0.4; charset=utf-8";
}
