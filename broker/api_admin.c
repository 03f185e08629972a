/*
 * api_admin — the platform's administrative endpoints: tokens, tenants (with
 * their quota of held cards), regions, latency, vouchers with the per-issuer
 * report, and the adapter list. Bodies are read strictly (unknown fields
 * refused) and every write goes through the store.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "api.h"
#include "auth.h"
#include "geo.h"
#include "json.h"
#include "timefmt.h"

/* Parses the call's body as an object with only the given fields; NULL after a 400. */
static cJSON *body_object(const struct api_call *call, const char *const *fields,
                          struct api_reply *reply)
{
    struct json_error err = {0};
    cJSON *doc = NULL;
    int r = json_parse_object(call->http->body, call->http->body_len, &doc, &err);
    if (r == 0)
        r = json_only(doc, fields, "", &err);
    if (r < 0) {
        cJSON_Delete(doc);
        api_bad_field(reply, &err);
        return NULL;
    }
    return doc;
}

static int get_id(const cJSON *doc, const char *key, const char **ret, struct json_error *err)
{
    int r = json_get_string(doc, key, "", true, 64, ret, NULL, err);
    if (r == 0 && !json_valid_id(*ret))
        r = json_fail(err, "", key, "must be 1..64 of letters, digits, '.', '_', ':', '-'");
    return r;
}

void api_tokens_create(struct api *api, const struct api_call *call, struct api_reply *reply)
{
    static const char *const fields[] = {"role", "subject", NULL};
    struct json_error err = {0};
    const char *role_s = NULL, *subject = NULL;
    enum role role;
    char token[AUTH_TOKEN_LEN + 1], hash[AUTH_HASH_LEN + 1];
    cJSON *doc = body_object(call, fields, reply);
    if (!doc)
        return;
    int r = json_get_string(doc, "role", "", true, 16, &role_s, NULL, &err);
    if (r == 0 && role_parse(role_s, &role) < 0)
        r = json_fail(&err, "", "role", "must be admin, operator or tenant");
    if (r == 0)
        r = get_id(doc, "subject", &subject, &err);
    if (r < 0) {
        api_bad_field(reply, &err);
        goto out;
    }
    if ((r = auth_new_token(token, sizeof(token))) < 0 ||
        (r = auth_sha256_hex(token, strlen(token), hash)) < 0) {
        api_errno(reply, r, "token");
        goto out;
    }
    if ((r = store_begin(api->st)) < 0) {
        api_errno(reply, r, "token");
        goto out;
    }
    /* A tenant token brings its tenant into being, so one call onboards a tenant. */
    if (role == ROLE_TENANT) {
        r = store_tenant_exists(api->st, subject);
        if (r == 0)
            r = store_tenant_add(api->st, subject, subject, call->now);
    }
    if (r >= 0)
        r = store_token_add(api->st, hash, role, subject, call->now);
    if (r >= 0)
        r = store_commit(api->st);
    if (r < 0) {
        store_rollback(api->st);
        api_errno(reply, r, "token");
        goto out;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "token", token);
    cJSON_AddStringToObject(o, "role", role_name(role));
    cJSON_AddStringToObject(o, "subject", subject);
    api_json(reply, 201, o);
out:
    cJSON_Delete(doc);
}

long api_tenant_quota(const struct api *api, const struct tenant_row *t)
{
    return t->max_cards_held >= 0 ? t->max_cards_held : api->cfg->max_cards_held_per_tenant;
}

static cJSON *tenant_json(struct api *api, const struct tenant_row *t, int64_t now)
{
    long held = 0;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", t->id);
    cJSON_AddStringToObject(o, "name", t->name);
    api_add_time(o, "created_at", t->created_at);
    if (t->max_cards_held >= 0)
        cJSON_AddNumberToObject(o, "max_cards_held", (double)t->max_cards_held);
    else
        cJSON_AddNullToObject(o, "max_cards_held");
    cJSON_AddNumberToObject(o, "effective_max_cards_held", (double)api_tenant_quota(api, t));
    if (store_tenant_cards_held(api->st, t->id, now, &held) == 0)
        cJSON_AddNumberToObject(o, "cards_held", (double)held);
    else
        cJSON_AddNullToObject(o, "cards_held");
    return o;
}

/* Reads max_cards_held: 0 (no quota) or a number of cards; absent or null leaves *ret alone. */
static int get_quota(const cJSON *doc, long *ret, struct json_error *err)
{
    return json_get_long(doc, "max_cards_held", "", false, 0, ROUTE_MAX_CARDS, ret, NULL, err);
}

void api_tenants_create(struct api *api, const struct api_call *call, struct api_reply *reply)
{
    static const char *const fields[] = {"id", "name", "max_cards_held", NULL};
    struct json_error err = {0};
    struct tenant_row t = {.created_at = call->now, .max_cards_held = -1};
    const char *id = NULL, *name = NULL;
    cJSON *doc = body_object(call, fields, reply);
    if (!doc)
        return;
    int r = get_id(doc, "id", &id, &err);
    if (r == 0)
        r = json_get_string(doc, "name", "", false, sizeof(t.name) - 1, &name, NULL, &err);
    if (r == 0)
        r = get_quota(doc, &t.max_cards_held, &err);
    if (r < 0) {
        api_bad_field(reply, &err);
        goto out;
    }
    snprintf(t.id, sizeof(t.id), "%s", id);
    snprintf(t.name, sizeof(t.name), "%s", name ? name : id);
    r = store_begin(api->st);
    if (r == 0) {
        r = store_tenant_add(api->st, t.id, t.name, call->now);
        if (r == 0 && t.max_cards_held >= 0)
            r = store_tenant_update(api->st, &t);
        if (r == 0)
            r = store_commit(api->st);
        else
            store_rollback(api->st);
    }
    if (r == -EEXIST) {
        api_problem(reply, 409, "conflict", "tenant exists", "/id",
                    "tenant '%s' exists (PUT /v1/tenants/%s changes it)", id, id);
        goto out;
    }
    if (r < 0) {
        api_errno(reply, r, "tenant");
        goto out;
    }
    api_json(reply, 201, tenant_json(api, &t, call->now));
out:
    cJSON_Delete(doc);
}

void api_tenant_get(struct api *api, const struct api_call *call, struct api_reply *reply)
{
    struct tenant_row t;
    int r = -ENOENT;
    /* A tenant sees itself only; any other tenant does not exist for it. */
    if (call->role != ROLE_TENANT || strcmp(call->subject, call->params[0]) == 0)
        r = store_tenant_get(api->st, call->params[0], &t);
    if (r == -ENOENT) {
        api_problem(reply, 404, "not-found", "not found", NULL, "no tenant '%s'", call->params[0]);
        return;
    }
    if (r < 0) {
        api_errno(reply, r, "tenant");
        return;
    }
    api_json(reply, 200, tenant_json(api, &t, call->now));
}

void api_tenant_update(struct api *api, const struct api_call *call, struct api_reply *reply)
{
    static const char *const fields[] = {"name", "max_cards_held", NULL};
    struct json_error err = {0};
    struct tenant_row t;
    const char *name = NULL;
    cJSON *doc = body_object(call, fields, reply);
    if (!doc)
        return;
    int r = store_tenant_get(api->st, call->params[0], &t);
    if (r == -ENOENT) {
        api_problem(reply, 404, "not-found", "not found", NULL, "no tenant '%s'", call->params[0]);
        goto out;
    }
    if (r < 0) {
        api_errno(reply, r, "tenant");
        goto out;
    }
    /* PUT replaces the quota (absent or null: the default); the name changes when given. */
    t.max_cards_held = -1;
    r = json_get_string(doc, "name", "", false, sizeof(t.name) - 1, &name, NULL, &err);
    if (r == 0)
        r = get_quota(doc, &t.max_cards_held, &err);
    if (r < 0) {
        api_bad_field(reply, &err);
        goto out;
    }
    if (name)
        snprintf(t.name, sizeof(t.name), "%s", name);
    r = store_tenant_update(api->st, &t);
    if (r < 0) {
        api_errno(reply, r, "tenant");
        goto out;
    }
    api_json(reply, 200, tenant_json(api, &t, call->now));
out:
    cJSON_Delete(doc);
}

static cJSON *region_json(const struct region *rg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", rg->id);
    cJSON_AddStringToObject(o, "city", rg->city);
    json_add_number(o, "lat", rg->lat);
    json_add_number(o, "lon", rg->lon);
    if (rg->hub[0])
        cJSON_AddStringToObject(o, "hub", rg->hub);
    else
        cJSON_AddNullToObject(o, "hub");
    return o;
}

void api_regions_list(struct api *api, const struct api_call *call, struct api_reply *reply)
{
    (void)call;
    int r = inventory_refresh(api->inv);
    if (r < 0) {
        api_errno(reply, r, "regions");
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "regions");
    for (size_t i = 0; i < api->inv->nregions; i++)
        cJSON_AddItemToArray(arr, region_json(&api->inv->regions[i]));
    api_json(reply, 200, o);
}

void api_regions_create(struct api *api, const struct api_call *call, struct api_reply *reply)
{
    static const char *const fields[] = {"id", "city", "lat", "lon", "hub", NULL};
    struct json_error err = {0};
    struct region rg = {0};
    const char *id = NULL, *city = NULL, *hub = NULL;
    cJSON *doc = body_object(call, fields, reply);
    if (!doc)
        return;
    int r = get_id(doc, "id", &id, &err);
    if (r == 0)
        r = json_get_string(doc, "city", "", true, sizeof(rg.city) - 1, &city, NULL, &err);
    if (r == 0)
        r = json_get_number(doc, "lat", "", true, -90, 90, &rg.lat, NULL, &err);
    if (r == 0)
        r = json_get_number(doc, "lon", "", true, -180, 180, &rg.lon, NULL, &err);
    if (r == 0)
        r = json_get_string(doc, "hub", "", false, sizeof(rg.hub) - 1, &hub, NULL, &err);
    if (r < 0) {
        api_bad_field(reply, &err);
        goto out;
    }
    snprintf(rg.id, sizeof(rg.id), "%s", id);
    snprintf(rg.city, sizeof(rg.city), "%s", city);
    snprintf(rg.hub, sizeof(rg.hub), "%s", hub ? hub : "");
    bool existed = inventory_refresh(api->inv) == 0 && inventory_region(api->inv, id);
    r = store_region_put(api->st, &rg);
    if (r < 0) {
        api_errno(reply, r, "region");
        goto out;
    }
    inventory_invalidate(api->inv);
    api_json(reply, existed ? 200 : 201, region_json(&rg));
out:
    cJSON_Delete(doc);
}

static cJSON *latency_json(const struct latency_row *l)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "a", l->a);
    cJSON_AddStringToObject(o, "b", l->b);
    json_add_number(o, "rtt_ms", l->rtt_ms);
    cJSON_AddStringToObject(o, "source", rtt_source_name(l->source));
    if (l->note[0])
        cJSON_AddStringToObject(o, "note", l->note);
    api_add_time(o, "updated_at", l->updated_at);
    return o;
}

void api_latency_list(struct api *api, const struct api_call *call, struct api_reply *reply)
{
    (void)call;
    int r = inventory_refresh(api->inv);
    if (r < 0) {
        api_errno(reply, r, "latency");
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "latency");
    for (size_t i = 0; i < api->inv->nlatency; i++)
        cJSON_AddItemToArray(arr, latency_json(&api->inv->latency[i]));
    cJSON_AddStringToObject(o, "estimate", "pairs not listed are estimated: " GEO_RTT_FORMULA);
    api_json(reply, 200, o);
}

void api_latency_put(struct api *api, const struct api_call *call, struct api_reply *reply)
{
    static const char *const fields[] = {"a", "b", "rtt_ms", "source", "note", NULL};
    struct json_error err = {0};
    struct latency_row l = {.source = RTT_CONFIGURED, .updated_at = call->now};
    const char *a = NULL, *b = NULL, *src = NULL, *note = NULL;
    bool has_src = false;
    cJSON *doc = body_object(call, fields, reply);
    if (!doc)
        return;
    int r = json_get_string(doc, "a", "", true, 64, &a, NULL, &err);
    if (r == 0)
        r = json_get_string(doc, "b", "", true, 64, &b, NULL, &err);
    if (r == 0)
        r = json_get_number(doc, "rtt_ms", "", true, 0, 10000, &l.rtt_ms, NULL, &err);
    if (r == 0)
        r = json_get_string(doc, "source", "", false, 16, &src, &has_src, &err);
    if (r == 0 && has_src && (rtt_source_parse(src, &l.source) < 0 || l.source == RTT_ESTIMATED))
        r = json_fail(&err, "", "source", "must be measured or configured");
    if (r == 0)
        r = json_get_string(doc, "note", "", false, sizeof(l.note) - 1, &note, NULL, &err);
    if (r == 0 && (r = inventory_refresh(api->inv)) < 0) {
        api_errno(reply, r, "latency");
        goto out;
    }
    if (r == 0 && !inventory_region(api->inv, a))
        r = json_fail(&err, "", "a", "unknown region '%s'", a);
    if (r == 0 && !inventory_region(api->inv, b))
        r = json_fail(&err, "", "b", "unknown region '%s'", b);
    if (r == 0 && strcmp(a, b) == 0)
        r = json_fail(&err, "", "b", "must differ from a");
    if (r < 0) {
        api_bad_field(reply, &err);
        goto out;
    }
    snprintf(l.a, sizeof(l.a), "%s", strcmp(a, b) < 0 ? a : b);
    snprintf(l.b, sizeof(l.b), "%s", strcmp(a, b) < 0 ? b : a);
    snprintf(l.note, sizeof(l.note), "%s", note ? note : "");
    r = store_latency_put(api->st, &l);
    if (r < 0) {
        api_errno(reply, r, "latency");
        goto out;
    }
    inventory_invalidate(api->inv);
    api_json(reply, 200, latency_json(&l));
out:
    cJSON_Delete(doc);
}

/* ---- vouchers ---- */

static cJSON *voucher_json(const struct voucher_row *v)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", v->id);
    cJSON_AddStringToObject(o, "issuer", v->issuer);
    cJSON_AddStringToObject(o, "tenant", v->tenant);
    json_add_number(o, "rate", v->rate);
    json_add_number(o, "amount", v->amount);
    json_add_number(o, "balance", v->balance);
    cJSON_AddStringToObject(o, "currency", "CNY");
    api_add_time(o, "valid_from", v->valid_from);
    api_add_time(o, "valid_until", v->valid_until);
    cJSON *el = cJSON_Parse(v->eligible_json ? v->eligible_json : "{}");
    cJSON_AddItemToObject(o, "eligible", el ? el : cJSON_CreateObject());
    api_add_time(o, "created_at", v->created_at);
    return o;
}

static int parse_eligible(const cJSON *doc, char **ret, struct json_error *err)
{
    static const char *const fields[] = {"regions", "centers", "domestic_only", NULL};
    const cJSON *el = cJSON_GetObjectItemCaseSensitive(doc, "eligible");
    const char **regions = NULL, **centers = NULL;
    size_t nr = 0, nc = 0;
    bool dom = false;
    *ret = NULL;
    if (el && !cJSON_IsNull(el) && !cJSON_IsObject(el))
        return json_fail(err, "", "eligible", "must be an object");
    int r = 0;
    if (el && cJSON_IsObject(el)) {
        r = json_only(el, fields, "/eligible", err);
        if (r == 0)
            r = json_get_strings(el, "regions", "/eligible", 256, 64, &regions, &nr, err);
        if (r == 0)
            r = json_get_strings(el, "centers", "/eligible", 1024, 64, &centers, &nc, err);
        if (r == 0)
            r = json_get_bool(el, "domestic_only", "/eligible", false, &dom, NULL, err);
    }
    if (r == 0) {
        cJSON *o = cJSON_CreateObject();
        /* cJSON_CreateStringArray(NULL, 0) is NULL, so an empty list is made by hand. */
        cJSON_AddItemToObject(o, "regions",
                              nr ? cJSON_CreateStringArray(regions, (int)nr) : cJSON_CreateArray());
        cJSON_AddItemToObject(o, "centers",
                              nc ? cJSON_CreateStringArray(centers, (int)nc) : cJSON_CreateArray());
        cJSON_AddBoolToObject(o, "domestic_only", dom);
        *ret = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (!*ret)
            r = -ENOMEM;
    }
    free(regions);
    free(centers);
    return r;
}

void api_vouchers_create(struct api *api, const struct api_call *call, struct api_reply *reply)
{
    static const char *const fields[] = {"id",         "issuer",      "tenant",   "rate", "amount",
                                         "valid_from", "valid_until", "eligible", NULL};
    struct json_error err = {0};
    struct voucher_row v = {.created_at = call->now, .valid_from = call->now};
    const char *id = NULL, *issuer = NULL, *tenant = NULL, *from = NULL, *until = NULL;
    bool has_from = false;
    cJSON *doc = body_object(call, fields, reply);
    if (!doc)
        return;
    int r = get_id(doc, "id", &id, &err);
    if (r == 0 && strcmp(id, "report") == 0)
        r = json_fail(&err, "", "id", "'report' is reserved (GET /v1/vouchers/report)");
    if (r == 0)
        r = get_id(doc, "issuer", &issuer, &err);
    if (r == 0)
        r = get_id(doc, "tenant", &tenant, &err);
    if (r == 0)
        r = json_get_number(doc, "rate", "", true, 1e-6, 1, &v.rate, NULL, &err);
    if (r == 0)
        r = json_get_number(doc, "amount", "", true, 0, 1e12, &v.amount, NULL, &err);
    if (r == 0)
        r = json_get_string(doc, "valid_from", "", false, 40, &from, &has_from, &err);
    if (r == 0 && has_from && timefmt_parse(from, &v.valid_from) < 0)
        r = json_fail(&err, "", "valid_from", "must be an RFC 3339 timestamp");
    if (r == 0)
        r = json_get_string(doc, "valid_until", "", true, 40, &until, NULL, &err);
    if (r == 0 && timefmt_parse(until, &v.valid_until) < 0)
        r = json_fail(&err, "", "valid_until", "must be an RFC 3339 timestamp");
    if (r == 0 && v.valid_until <= v.valid_from)
        r = json_fail(&err, "", "valid_until", "must be after valid_from");
    if (r == 0) {
        int e = store_tenant_exists(api->st, tenant);
        if (e == 0)
            r = json_fail(&err, "", "tenant", "unknown tenant '%s'", tenant);
        else if (e < 0)
            r = e;
    }
    if (r == 0)
        r = parse_eligible(doc, &v.eligible_json, &err);
    if (r == -EINVAL) {
        api_bad_field(reply, &err);
        goto out;
    }
    if (r < 0) {
        api_errno(reply, r, "voucher");
        goto out;
    }
    snprintf(v.id, sizeof(v.id), "%s", id);
    snprintf(v.issuer, sizeof(v.issuer), "%s", issuer);
    snprintf(v.tenant, sizeof(v.tenant), "%s", tenant);
    v.balance = v.amount;
    r = store_begin(api->st);
    if (r == 0) {
        r = store_voucher_insert(api->st, &v);
        if (r == 0)
            r = store_commit(api->st);
        else
            store_rollback(api->st);
    }
    if (r == -EEXIST) {
        api_problem(reply, 409, "conflict", "voucher exists", "/id", "voucher '%s' exists", id);
        goto out;
    }
    if (r < 0) {
        api_errno(reply, r, "voucher");
        goto out;
    }
    api_json(reply, 201, voucher_json(&v));
out:
    free(v.eligible_json);
    cJSON_Delete(doc);
}

void api_vouchers_list(struct api *api, const struct api_call *call, struct api_reply *reply)
{
    struct voucher_row *rows = NULL;
    size_t n = 0;
    int r =
        store_vouchers_list(api->st, call->role == ROLE_TENANT ? call->subject : NULL, &rows, &n);
    if (r < 0) {
        api_errno(reply, r, "vouchers");
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "vouchers");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(arr, voucher_json(&rows[i]));
    store_vouchers_free(rows, n);
    api_json(reply, 200, o);
}

void api_voucher_get(struct api *api, const struct api_call *call, struct api_reply *reply)
{
    struct voucher_row v;
    int r = store_voucher_get(api->st, call->params[0], &v);
    if (r == 0 && call->role == ROLE_TENANT && strcmp(v.tenant, call->subject) != 0) {
        free(v.eligible_json); /* another tenant's voucher does not exist for this one */
        r = -ENOENT;
    }
    if (r == -ENOENT) {
        api_problem(reply, 404, "not-found", "not found", NULL, "no voucher '%s'", call->params[0]);
        return;
    }
    if (r < 0) {
        api_errno(reply, r, "voucher");
        return;
    }
    cJSON *o = voucher_json(&v);
    free(v.eligible_json);
    struct ledger_row *rows = NULL;
    size_t n = 0;
    r = store_voucher_ledger(api->st, call->params[0], &rows, &n);
    if (r < 0) {
        cJSON_Delete(o);
        api_errno(reply, r, "voucher ledger");
        return;
    }
    cJSON *ledger = cJSON_AddArrayToObject(o, "ledger");
    for (size_t i = 0; i < n; i++) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddNumberToObject(m, "seq", (double)rows[i].seq);
        api_add_time(m, "at", rows[i].at);
        cJSON_AddStringToObject(m, "kind", rows[i].kind);
        json_add_number(m, "amount", rows[i].amount);
        json_add_number(m, "balance", rows[i].balance);
        if (rows[i].placement[0])
            cJSON_AddStringToObject(m, "placement", rows[i].placement);
        else
            cJSON_AddNullToObject(m, "placement");
        cJSON_AddStringToObject(m, "note", rows[i].note);
        cJSON_AddItemToArray(ledger, m);
    }
    free(rows);
    api_json(reply, 200, o);
}

static cJSON *shares_json(const struct report_share *sh, size_t n, bool tenants)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, tenants ? "tenant" : "center", sh[i].key);
        if (tenants)
            cJSON_AddNumberToObject(x, "vouchers", (double)sh[i].vouchers);
        json_add_number(x, "drawn", sh[i].drawn);
        json_add_number(x, "refunded", sh[i].refunded);
        cJSON_AddNumberToObject(x, "placements", (double)sh[i].placements);
        cJSON_AddItemToArray(arr, x);
    }
    return arr;
}

static cJSON *issuer_json(const struct issuer_report *rep)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "issuer", rep->issuer);
    cJSON_AddNumberToObject(o, "vouchers", (double)rep->vouchers);
    cJSON_AddStringToObject(o, "currency", "CNY");
    json_add_number(o, "issued", rep->issued);
    json_add_number(o, "drawn", rep->drawn);
    json_add_number(o, "refunded", rep->refunded);
    json_add_number(o, "balance", rep->balance);
    cJSON_AddItemToObject(o, "tenants", shares_json(rep->tenants, rep->ntenants, true));
    cJSON_AddItemToObject(o, "centers", shares_json(rep->centers, rep->ncenters, false));
    return o;
}

void api_vouchers_report(struct api *api, const struct api_call *call, struct api_reply *reply)
{
    struct issuer_report *rows = NULL;
    size_t n = 0;
    char issuer[65];
    bool one = false;
    if (api_query_string(call->query, "issuer", issuer, sizeof(issuer), &one) < 0 ||
        (one && !json_valid_id(issuer))) {
        api_problem(reply, 400, "invalid-query", "invalid query", NULL,
                    "issuer must be an id: 1..64 of letters, digits, '.', '_', ':', '-'");
        return;
    }
    int r = store_voucher_report(api->st, one ? issuer : NULL, &rows, &n);
    if (r == -ENOENT) {
        api_problem(reply, 404, "not-found", "not found", NULL, "no voucher from issuer '%s'",
                    issuer);
        return;
    }
    if (r < 0) {
        api_errno(reply, r, "voucher report");
        return;
    }
    cJSON *o;
    if (one) {
        o = issuer_json(&rows[0]);
    } else {
        o = cJSON_CreateObject();
        cJSON *arr = cJSON_AddArrayToObject(o, "issuers");
        for (size_t i = 0; i < n; i++)
            cJSON_AddItemToArray(arr, issuer_json(&rows[i]));
    }
    store_voucher_report_free(rows, n);
    api_json(reply, 200, o);
}

/* ---- adapters ---- */

void api_adapters_list(struct api *api, const struct api_call *call, struct api_reply *reply)
{
    (void)api;
    (void)call;
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "adapters");
    for (size_t i = 0; adapter_registry[i]; i++) {
        const struct adapter *a = adapter_registry[i];
        cJSON *ad = cJSON_CreateObject();
        cJSON_AddStringToObject(ad, "name", a->name);
        cJSON_AddStringToObject(ad, "description", a->description);
        cJSON *modes = cJSON_AddArrayToObject(ad, "modes");
        if (a->push)
            cJSON_AddItemToArray(modes, cJSON_CreateString("push"));
        if (a->pull)
            cJSON_AddItemToArray(modes, cJSON_CreateString("pull"));
        cJSON *opts = cJSON_AddArrayToObject(ad, "options");
        for (size_t k = 0; a->options[k].name; k++) {
            cJSON *op = cJSON_CreateObject();
            cJSON_AddStringToObject(op, "name", a->options[k].name);
            cJSON_AddStringToObject(op, "type", a->options[k].type);
            cJSON_AddBoolToObject(op, "required", a->options[k].required);
            cJSON_AddStringToObject(op, "description", a->options[k].description);
            cJSON_AddItemToArray(opts, op);
        }
        cJSON_AddItemToArray(arr, ad);
    }
    api_json(reply, 200, o);
}
