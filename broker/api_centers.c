/*
 * api_centers — operators' endpoints: register, update and delete centers
 * with their feed configuration, push native feed documents, and everyone's
 * view of centers with pools, availability and feed health. An operator may
 * touch only centers whose `operator` is its own subject.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "api.h"
#include "feeds.h"
#include "json.h"
#include "log.h"
#include "timefmt.h"

#define MAX_FEEDS 8
#define FUTURE_SKEW_MS (5 * 60 * 1000)

/* Lets the pull scheduler see the change; a failure here only delays polling. */
static void sync_feeds(struct api *api, const char *center)
{
    int r = api->feeds ? feeds_sync_center(api->feeds, center) : 0;
    if (r < 0)
        log_warn("feed scheduler sync failed: %s", strerror(-r));
}

static bool may_manage(const struct api_call *call, const char *operator_id)
{
    return call->role == ROLE_ADMIN ||
           (call->role == ROLE_OPERATOR && strcmp(call->subject, operator_id) == 0);
}

static bool url_scheme_ok(const char *url)
{
    return strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0 ||
           strncmp(url, "file://", 7) == 0;
}

static int parse_feed(const cJSON *f, size_t i, struct feed_config *ret, struct json_error *err)
{
    static const char *const fields[] = {"adapter", "mode", "url", "interval_s",
                                         "options", "auth", "h2c", NULL};
    static const char *const auth_fields[] = {"bearer_token", "slurm_user", "slurm_token", NULL};
    char prefix[32];
    const char *adapter = NULL, *mode = NULL, *url = NULL;
    bool has_mode = false, has_url = false;
    snprintf(prefix, sizeof(prefix), "/feeds/%zu", i);
    if (!cJSON_IsObject(f))
        return json_fail(err, prefix, NULL, "a feed must be an object");
    int r = json_only(f, fields, prefix, err);
    if (r == 0)
        r = json_get_string(f, "adapter", prefix, true, 31, &adapter, NULL, err);
    const struct adapter *ad = r == 0 ? adapter_find(adapter) : NULL;
    if (r == 0 && !ad)
        r = json_fail(err, prefix, "adapter", "unknown adapter '%s' (see GET /v1/adapters)",
                      adapter);
    if (r == 0)
        r = json_get_string(f, "mode", prefix, false, 7, &mode, &has_mode, err);
    if (r == 0)
        r = json_get_string(f, "url", prefix, false, 2048, &url, &has_url, err);
    if (r < 0)
        return r;
    if (!has_mode)
        mode = has_url ? "pull" : "push";
    if (strcmp(mode, "push") != 0 && strcmp(mode, "pull") != 0)
        return json_fail(err, prefix, "mode", "must be push or pull");
    if ((strcmp(mode, "push") == 0 && !ad->push) || (strcmp(mode, "pull") == 0 && !ad->pull))
        return json_fail(err, prefix, "mode", "the %s adapter does not support %s", ad->name, mode);
    if (strcmp(mode, "pull") == 0 && !has_url)
        return json_fail(err, prefix, "url", "a pull feed needs a url");
    if (has_url && !url_scheme_ok(url))
        return json_fail(err, prefix, "url", "must be an http://, https:// or file:// URL");
    ret->interval_s = 60;
    if ((r = json_get_long(f, "interval_s", prefix, false, 1, 86400, &ret->interval_s, NULL, err)) <
        0)
        return r;
    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(f, "options");
    char optprefix[48];
    snprintf(optprefix, sizeof(optprefix), "%s/options", prefix);
    if ((r = adapter_check_options(ad, opts, optprefix, err)) < 0)
        return r;
    if ((r = json_get_bool(f, "h2c", prefix, false, &ret->h2c, NULL, err)) < 0)
        return r;
    /* Secrets for the request: kept in the store, sent as headers, never shown or logged. */
    const cJSON *auth = cJSON_GetObjectItemCaseSensitive(f, "auth");
    char authprefix[48];
    snprintf(authprefix, sizeof(authprefix), "%s/auth", prefix);
    if (auth && !cJSON_IsNull(auth)) {
        const char *v;
        if (!cJSON_IsObject(auth))
            return json_fail(err, prefix, "auth", "must be an object");
        if ((r = json_only(auth, auth_fields, authprefix, err)) < 0 ||
            (r = json_get_string(auth, "bearer_token", authprefix, false, 4096, &v, NULL, err)) <
                0 ||
            (r = json_get_string(auth, "slurm_user", authprefix, false, 64, &v, NULL, err)) < 0 ||
            (r = json_get_string(auth, "slurm_token", authprefix, false, 4096, &v, NULL, err)) < 0)
            return r;
        if (!has_url)
            return json_fail(err, prefix, "auth", "only a pull feed sends credentials");
    }
    ret->idx = (int)i;
    snprintf(ret->adapter, sizeof(ret->adapter), "%s", ad->name);
    snprintf(ret->mode, sizeof(ret->mode), "%s", mode);
    ret->url = has_url ? strdup(url) : NULL;
    ret->options_json = opts && cJSON_IsObject(opts) ? cJSON_PrintUnformatted(opts) : strdup("{}");
    ret->auth_json = auth && cJSON_IsObject(auth) ? cJSON_PrintUnformatted(auth) : strdup("{}");
    if ((has_url && !ret->url) || !ret->options_json || !ret->auth_json)
        return -ENOMEM;
    return 0;
}

/* Reads a center document; path_id is set for PUT (the body's id must match or be absent). */
static int parse_center(struct api *api, const struct api_call *call, const char *path_id,
                        struct center_row *c, struct json_error *err)
{
    static const char *const fields[] = {"id",     "name",        "operator", "region", "status",
                                         "labels", "staleness_s", "feeds",    NULL};
    cJSON *doc = NULL;
    const char *id = NULL, *name = NULL, *op = NULL, *region = NULL, *status = NULL;
    bool has_id = false, has_status = false;
    struct label *labels = NULL;
    size_t nlabels = 0;
    int r = json_parse_object(call->http->body, call->http->body_len, &doc, err);
    if (r < 0)
        return r;
    r = json_only(doc, fields, "", err);
    if (r == 0)
        r = json_get_string(doc, "id", "", !path_id, 64, &id, &has_id, err);
    if (r == 0 && has_id && !json_valid_id(id))
        r = json_fail(err, "", "id", "must be 1..64 of letters, digits, '.', '_', ':', '-'");
    if (r == 0 && path_id && has_id && strcmp(id, path_id) != 0)
        r = json_fail(err, "", "id", "does not match the center in the path");
    if (r == 0)
        r = json_get_string(doc, "name", "", true, 128, &name, NULL, err);
    if (r == 0)
        r = json_get_string(doc, "operator", "", true, 64, &op, NULL, err);
    if (r == 0 && !json_valid_id(op))
        r = json_fail(err, "", "operator", "must be 1..64 of letters, digits, '.', '_', ':', '-'");
    if (r == 0)
        r = json_get_string(doc, "region", "", true, 64, &region, NULL, err);
    if (r == 0 && !inventory_region(api->inv, region))
        r = json_fail(err, "", "region", "unknown region '%s' (see GET /v1/regions)", region);
    if (r == 0)
        r = json_get_string(doc, "status", "", false, 16, &status, &has_status, err);
    if (r == 0 && has_status && center_status_parse(status, &c->status) < 0)
        r = json_fail(err, "", "status", "must be active, draining or disabled");
    if (r == 0)
        r = json_get_labels(doc, "labels", "", 64, 128, &labels, &nlabels, err);
    if (r == 0)
        r = json_get_long(doc, "staleness_s", "", false, 1, 86400 * 365L, &c->staleness_s, NULL,
                          err);
    const cJSON *feeds = r == 0 ? cJSON_GetObjectItemCaseSensitive(doc, "feeds") : NULL;
    if (r == 0 && feeds && !cJSON_IsArray(feeds))
        r = json_fail(err, "", "feeds", "must be an array");
    if (r == 0 && feeds && cJSON_GetArraySize(feeds) > MAX_FEEDS)
        r = json_fail(err, "", "feeds", "at most %d feeds", MAX_FEEDS);
    if (r < 0)
        goto out;
    if (call->role == ROLE_OPERATOR && strcmp(op, call->subject) != 0) {
        r = -EACCES;
        goto out;
    }
    snprintf(c->id, sizeof(c->id), "%s", path_id ? path_id : id);
    snprintf(c->name, sizeof(c->name), "%s", name);
    snprintf(c->operator_id, sizeof(c->operator_id), "%s", op);
    snprintf(c->region, sizeof(c->region), "%s", region);
    cJSON *lab = cJSON_CreateObject();
    for (size_t i = 0; lab && i < nlabels; i++)
        cJSON_AddStringToObject(lab, labels[i].key, labels[i].value);
    c->labels_json = lab ? cJSON_PrintUnformatted(lab) : NULL;
    cJSON_Delete(lab);
    if (!c->labels_json) {
        r = -ENOMEM;
        goto out;
    }
    size_t nf = feeds ? (size_t)cJSON_GetArraySize(feeds) : 0;
    c->feeds = calloc(nf ? nf : 1, sizeof(*c->feeds));
    if (!c->feeds) {
        r = -ENOMEM;
        goto out;
    }
    const cJSON *f;
    cJSON_ArrayForEach(f, feeds)
    {
        r = parse_feed(f, c->nfeeds, &c->feeds[c->nfeeds], err);
        c->nfeeds++;
        if (r < 0)
            goto out;
        /* A file on the broker's own disk is the platform's to choose, not an operator's. */
        const char *url = c->feeds[c->nfeeds - 1].url;
        if (url && strncmp(url, "file://", 7) == 0 && call->role != ROLE_ADMIN) {
            char prefix[32];
            snprintf(prefix, sizeof(prefix), "/feeds/%zu", c->nfeeds - 1);
            r = json_fail(err, prefix, "url", "file:// feeds are for admins only");
            goto out;
        }
    }
    c->created_at = call->now;
    c->updated_at = call->now;
out:
    free(labels);
    cJSON_Delete(doc);
    return r;
}

static cJSON *feed_json(struct api *api, const char *center, const struct feed_config *f,
                        int64_t now)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "index", f->idx);
    cJSON_AddStringToObject(o, "adapter", f->adapter);
    cJSON_AddStringToObject(o, "mode", f->mode);
    if (f->url)
        cJSON_AddStringToObject(o, "url", f->url);
    cJSON_AddNumberToObject(o, "interval_s", (double)f->interval_s);
    cJSON *opts = cJSON_Parse(f->options_json ? f->options_json : "{}");
    cJSON_AddItemToObject(o, "options", opts ? opts : cJSON_CreateObject());
    cJSON_AddBoolToObject(o, "h2c", f->h2c);
    /* Which credentials are set, never their values. */
    cJSON *auth = cJSON_Parse(f->auth_json ? f->auth_json : "{}");
    cJSON *keys = cJSON_AddArrayToObject(o, "auth");
    const cJSON *it;
    cJSON_ArrayForEach(it, auth)
    {
        if (it->string)
            cJSON_AddItemToArray(keys, cJSON_CreateString(it->string));
    }
    cJSON_Delete(auth);
    if (f->warning)
        cJSON_AddStringToObject(o, "warning", f->warning);
    else
        cJSON_AddNullToObject(o, "warning");
    if (f->pools_seen >= 0)
        cJSON_AddNumberToObject(o, "pools", (double)f->pools_seen);
    else
        cJSON_AddNullToObject(o, "pools");
    api_add_time(o, "last_success", f->last_success);
    if (f->last_error)
        cJSON_AddStringToObject(o, "last_error", f->last_error);
    else
        cJSON_AddNullToObject(o, "last_error");
    api_add_time(o, "last_error_at", f->last_error_at);
    if (f->last_success)
        json_add_number(o, "age_s", (double)(now - f->last_success) / 1000.0);
    else
        cJSON_AddNullToObject(o, "age_s");
    bool polling = false;
    int64_t next = api->feeds && strcmp(f->mode, "pull") == 0
                       ? feeds_next_poll(api->feeds, center, f->idx, &polling)
                       : 0;
    api_add_time(o, "next_poll", next);
    cJSON_AddBoolToObject(o, "polling", polling);
    return o;
}

static cJSON *pool_json(struct api *api, const struct pool_row *p, const struct pool_usage *u,
                        int64_t now)
{
    const struct catalog_entry *e = catalog_resolve(&api->inv->catalog, p->model);
    cJSON *o = cJSON_CreateObject();
    long held = u ? u->held : 0, unseen = u ? u->confirmed_unseen : 0;
    long avail = p->free - held - unseen;
    cJSON_AddStringToObject(o, "model", p->model);
    cJSON_AddStringToObject(o, "vendor", p->vendor[0] ? p->vendor : (e ? e->vendor : "unknown"));
    cJSON_AddBoolToObject(o, "domestic", p->domestic >= 0 ? p->domestic : (e && e->domestic));
    json_add_number(o, "memory_gib", p->memory_gib >= 0 ? p->memory_gib : (e ? e->memory_gib : 0));
    cJSON_AddNumberToObject(o, "total", (double)p->total);
    cJSON_AddNumberToObject(o, "free", (double)p->free);
    cJSON_AddNumberToObject(o, "held", (double)held);
    cJSON_AddNumberToObject(o, "confirmed_unseen", (double)unseen);
    cJSON_AddNumberToObject(o, "available", (double)(avail > 0 ? avail : 0));
    cJSON_AddNumberToObject(o, "largest_block", (double)p->largest_block);
    json_add_number(o, "price_per_card_hour", p->price);
    if (p->spot_price >= 0)
        json_add_number(o, "spot_price_per_card_hour", p->spot_price);
    cJSON_AddStringToObject(o, "currency", p->currency);
    cJSON *tf = cJSON_AddObjectToObject(o, "tflops");
    cJSON *stated = p->tflops_json ? cJSON_Parse(p->tflops_json) : NULL;
    for (int k = 0; k < PREC_COUNT; k++) {
        const char *pn = precision_name((enum precision)k);
        const cJSON *sv = cJSON_GetObjectItemCaseSensitive(stated, pn);
        double v = cJSON_IsNumber(sv) ? sv->valuedouble : (e ? e->tflops[k] : 0);
        if (v > 0)
            json_add_number(tf, pn, v);
    }
    cJSON_Delete(stated);
    api_add_time(o, "observed_at", p->observed_at);
    cJSON_AddBoolToObject(o, "stale", inventory_pool_stale(api->inv, p, now));
    return o;
}

/* A center as JSON, given the holds and confirmations per pool from store_pool_usage(). */
static cJSON *center_json(struct api *api, const struct center_row *c, int64_t now,
                          const struct pool_usage *usage, size_t nusage)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", c->id);
    cJSON_AddStringToObject(o, "name", c->name);
    cJSON_AddStringToObject(o, "operator", c->operator_id);
    cJSON_AddStringToObject(o, "region", c->region);
    cJSON_AddStringToObject(o, "status", center_status_name(c->status));
    cJSON *labels = cJSON_Parse(c->labels_json ? c->labels_json : "{}");
    cJSON_AddItemToObject(o, "labels", labels ? labels : cJSON_CreateObject());
    cJSON_AddNumberToObject(o, "staleness_s", (double)inventory_staleness_s(api->inv, c));
    api_add_time(o, "created_at", c->created_at);
    api_add_time(o, "updated_at", c->updated_at);
    cJSON *feeds = cJSON_AddArrayToObject(o, "feeds");
    for (size_t i = 0; i < c->nfeeds; i++)
        cJSON_AddItemToArray(feeds, feed_json(api, c->id, &c->feeds[i], now));
    cJSON *pools = cJSON_AddArrayToObject(o, "pools");
    bool stale = true;
    for (size_t i = 0; i < api->inv->npools; i++) {
        const struct pool_row *p = &api->inv->pools[i];
        if (strcmp(p->center, c->id) != 0)
            continue;
        const struct pool_usage *u = NULL;
        for (size_t k = 0; k < nusage; k++) {
            if (strcmp(usage[k].center, p->center) == 0 && strcmp(usage[k].model, p->model) == 0)
                u = &usage[k];
        }
        if (!inventory_pool_stale(api->inv, p, now))
            stale = false;
        cJSON_AddItemToArray(pools, pool_json(api, p, u, now));
    }
    cJSON_AddBoolToObject(o, "stale", stale);
    return o;
}

cJSON *api_center_json(struct api *api, const struct center_row *c, int64_t now)
{
    struct pool_usage *usage = NULL;
    size_t nusage = 0;
    if (store_pool_usage(api->st, now, &usage, &nusage) < 0)
        return NULL;
    cJSON *o = center_json(api, c, now, usage, nusage);
    free(usage);
    return o;
}

void api_centers_list(struct api *api, const struct api_call *call, struct api_reply *reply)
{
    int r = inventory_refresh(api->inv);
    if (r < 0) {
        api_errno(reply, r, "centers");
        return;
    }
    struct pool_usage *usage = NULL;
    size_t nusage = 0;
    r = store_pool_usage(api->st, call->now, &usage, &nusage);
    if (r < 0) {
        api_errno(reply, r, "centers");
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "centers");
    for (size_t i = 0; i < api->inv->ncenters; i++) {
        const struct center_row *c = &api->inv->centers[i];
        /* Tenants shop across every center; an operator sees its own. */
        if (call->role == ROLE_OPERATOR && !may_manage(call, c->operator_id))
            continue;
        cJSON_AddItemToArray(arr, center_json(api, c, call->now, usage, nusage));
    }
    free(usage);
    api_json(reply, 200, o);
}

void api_center_get(struct api *api, const struct api_call *call, struct api_reply *reply)
{
    int r = inventory_refresh(api->inv);
    if (r < 0) {
        api_errno(reply, r, "center");
        return;
    }
    const struct center_row *c = inventory_center(api->inv, call->params[0]);
    if (!c) {
        api_problem(reply, 404, "not-found", "not found", NULL, "no center '%s'", call->params[0]);
        return;
    }
    api_json(reply, 200, api_center_json(api, c, call->now));
}

static void center_write(struct api *api, const struct api_call *call, struct api_reply *reply,
                         bool create)
{
    struct center_row c = {.status = CENTER_ACTIVE};
    struct json_error err = {0};
    int r = inventory_refresh(api->inv);
    if (r < 0) {
        api_errno(reply, r, "center");
        return;
    }
    const struct center_row *old = create ? NULL : inventory_center(api->inv, call->params[0]);
    if (!create && !old) {
        api_problem(reply, 404, "not-found", "not found", NULL, "no center '%s'", call->params[0]);
        return;
    }
    if (old && !may_manage(call, old->operator_id)) {
        api_problem(reply, 403, "forbidden", "forbidden", NULL,
                    "center '%s' belongs to another operator", old->id);
        return;
    }
    r = parse_center(api, call, create ? NULL : call->params[0], &c, &err);
    if (r == -EINVAL) {
        api_bad_field(reply, &err);
        goto out;
    }
    if (r == -EACCES) {
        api_problem(reply, 403, "forbidden", "forbidden", "/operator",
                    "an operator may register centers only under its own name '%s'", call->subject);
        goto out;
    }
    if (r < 0) {
        api_errno(reply, r, "center");
        goto out;
    }
    if (old)
        c.created_at = old->created_at;
    r = store_begin(api->st);
    if (r == 0)
        r = create ? store_center_insert(api->st, &c) : store_center_update(api->st, &c);
    if (r == 0 && !create)
        r = inventory_merge_center(api->inv, c.id, NULL,
                                   0); /* a removed feed takes its pools along */
    if (r == 0)
        r = store_commit(api->st);
    else
        store_rollback(api->st);
    inventory_invalidate(api->inv);
    if (r == -EEXIST && create) {
        api_problem(reply, 409, "conflict", "center exists", "/id", "center '%s' exists", c.id);
        goto out;
    }
    if (r < 0) {
        api_errno(reply, r, "center");
        goto out;
    }
    sync_feeds(api, c.id);
    r = inventory_refresh(api->inv);
    const struct center_row *now_c = r == 0 ? inventory_center(api->inv, c.id) : NULL;
    if (!now_c) {
        api_errno(reply, r < 0 ? r : -EIO, "center");
        goto out;
    }
    if (create) {
        snprintf(reply->location_buf, sizeof(reply->location_buf), "/v1/centers/%s", c.id);
        reply->location = reply->location_buf;
    }
    api_json(reply, create ? 201 : 200, api_center_json(api, now_c, call->now));
out:
    free(c.labels_json);
    for (size_t i = 0; i < c.nfeeds; i++) {
        free(c.feeds[i].url);
        free(c.feeds[i].options_json);
        free(c.feeds[i].auth_json);
    }
    free(c.feeds);
}

void api_centers_create(struct api *api, const struct api_call *call, struct api_reply *reply)
{
    center_write(api, call, reply, true);
}

void api_center_update(struct api *api, const struct api_call *call, struct api_reply *reply)
{
    center_write(api, call, reply, false);
}

void api_center_delete(struct api *api, const struct api_call *call, struct api_reply *reply)
{
    int r = inventory_refresh(api->inv);
    if (r < 0) {
        api_errno(reply, r, "center");
        return;
    }
    const struct center_row *c = inventory_center(api->inv, call->params[0]);
    if (!c) {
        api_problem(reply, 404, "not-found", "not found", NULL, "no center '%s'", call->params[0]);
        return;
    }
    if (!may_manage(call, c->operator_id)) {
        api_problem(reply, 403, "forbidden", "forbidden", NULL,
                    "center '%s' belongs to another operator", c->id);
        return;
    }
    r = store_center_delete(api->st, c->id);
    inventory_invalidate(api->inv);
    if (r < 0) {
        api_errno(reply, r, "center");
        return;
    }
    sync_feeds(api, call->params[0]);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", call->params[0]);
    cJSON_AddBoolToObject(o, "deleted", true);
    api_json(reply, 200, o);
}

/* Newest observed_at among the center's current pools, or 0. */
static int64_t newest_snapshot(const struct inventory *inv, const char *center)
{
    int64_t newest = 0;
    for (size_t i = 0; i < inv->npools; i++) {
        if (strcmp(inv->pools[i].center, center) == 0 && inv->pools[i].observed_at > newest)
            newest = inv->pools[i].observed_at;
    }
    return newest;
}

void api_center_feed(struct api *api, const struct api_call *call, struct api_reply *reply)
{
    struct feed_snapshot snap = {0};
    struct json_error err = {0};
    int r = inventory_refresh(api->inv);
    if (r < 0) {
        api_errno(reply, r, "feed");
        return;
    }
    const struct center_row *c = inventory_center(api->inv, call->params[0]);
    if (!c) {
        api_problem(reply, 404, "not-found", "not found", NULL, "no center '%s'", call->params[0]);
        return;
    }
    if (!may_manage(call, c->operator_id)) {
        api_problem(reply, 403, "forbidden", "forbidden", NULL,
                    "center '%s' belongs to another operator", c->id);
        return;
    }
    const struct feed_config *feed = NULL;
    for (size_t i = 0; i < c->nfeeds && !feed; i++) {
        if (strcmp(c->feeds[i].mode, "push") == 0)
            feed = &c->feeds[i];
    }
    if (!feed) {
        api_problem(reply, 409, "no-push-feed", "the center takes no pushed feed", NULL,
                    "center '%s' has no feed with mode push; add one with PUT /v1/centers/%s",
                    c->id, c->id);
        return;
    }
    char center[65];
    int idx = feed->idx;
    snprintf(center, sizeof(center), "%s", c->id);
    const struct adapter *ad = adapter_find(feed->adapter);
    cJSON *opts = cJSON_Parse(feed->options_json ? feed->options_json : "{}");
    r = ad ? ad->parse(call->http->body, call->http->body_len, opts, &snap, &err) : -EINVAL;
    cJSON_Delete(opts);
    if (r == 0 && snap.center[0] && strcmp(snap.center, center) != 0)
        r = json_fail(&err, "", "center", "the document is for center '%s', not '%s'", snap.center,
                      center);
    if (r == 0 && snap.observed_at_ms > call->now + FUTURE_SKEW_MS)
        r = json_fail(&err, "", "observed_at", "is in the future");
    if (r == 0 && snap.observed_at_ms && snap.observed_at_ms < newest_snapshot(api->inv, center))
        r = json_fail(&err, "", "observed_at", "is older than the snapshot the broker holds");
    if (r == 0 && (r = store_begin(api->st)) == 0) {
        r = inventory_apply_snapshot(api->inv, center, idx, &snap, ad == &adapter_native, call->now,
                                     &err);
        if (r == 0)
            r = store_feed_result(api->st, center, idx, call->now, NULL,
                                  snap.warning[0] ? snap.warning : NULL, (long)snap.npools);
        if (r == 0)
            r = store_commit(api->st);
        else
            store_rollback(api->st);
        inventory_invalidate(api->inv);
    }
    if (r < 0) {
        /* The last good snapshot stays; the error is recorded and shown on the center. */
        char msg[600];
        snprintf(msg, sizeof(msg), "%s%s%s", err.pointer, err.pointer[0] ? ": " : "",
                 err.detail[0] ? err.detail : strerror(-r));
        store_feed_result(api->st, center, idx, call->now, msg, NULL, 0);
        inventory_invalidate(api->inv);
        if (r == -EINVAL)
            api_bad_field(reply, &err);
        else
            api_errno(reply, r, "feed");
        feed_snapshot_free(&snap);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "center", center);
    cJSON_AddNumberToObject(o, "pools", (double)snap.npools);
    api_add_time(o, "observed_at", snap.observed_at_ms ? snap.observed_at_ms : call->now);
    feed_snapshot_free(&snap);
    api_json(reply, 200, o);
}
