/*
 * api_placements — tenants' endpoints: ask for capacity (a quote or a hold),
 * read, confirm and release placements, and read decisions. A hold and its
 * decision are written in one transaction before the answer is sent, and the
 * loop is single-threaded, so routing (and the tenant's quota of held cards)
 * always sees every earlier hold. Each recorded decision is counted in metrics.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "clock.h"
#include "decision.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "request.h"

/* The vouchers a request names, checked and turned into routing inputs. */
struct voucher_set {
    struct voucher_row *rows; /* owned */
    struct route_voucher *rv; /* owned */
    cJSON **eligible;         /* owned; parsed eligibility the rv arrays borrow from */
    const char ***lists;      /* owned; 2 string arrays per voucher */
    size_t n;
};

static void voucher_set_free(struct voucher_set *vs)
{
    for (size_t i = 0; i < vs->n; i++) {
        free(vs->rows[i].eligible_json);
        cJSON_Delete(vs->eligible[i]);
        free(vs->lists[2 * i]);
        free(vs->lists[2 * i + 1]);
    }
    free(vs->rows);
    free(vs->rv);
    free(vs->eligible);
    free(vs->lists);
    memset(vs, 0, sizeof(*vs));
}

static int voucher_set_load(struct api *api, const struct api_call *call,
                            const struct placement_request *req, struct voucher_set *vs,
                            struct json_error *err)
{
    size_t n = req->nvouchers;
    memset(vs, 0, sizeof(*vs));
    if (n == 0)
        return 0;
    vs->rows = calloc(n, sizeof(*vs->rows));
    vs->rv = calloc(n, sizeof(*vs->rv));
    vs->eligible = calloc(n, sizeof(*vs->eligible));
    vs->lists = calloc(2 * n, sizeof(*vs->lists));
    if (!vs->rows || !vs->rv || !vs->eligible || !vs->lists)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        char ptr[32];
        snprintf(ptr, sizeof(ptr), "%zu", i);
        for (size_t j = 0; j < i; j++) {
            if (strcmp(req->vouchers[j], req->vouchers[i]) == 0)
                return json_fail(err, "/vouchers", ptr, "voucher '%s' is named twice",
                                 req->vouchers[i]);
        }
        int r = store_voucher_get(api->st, req->vouchers[i], &vs->rows[i]);
        if (r == 0)
            vs->n = i + 1;
        if (r == -ENOENT || (r == 0 && strcmp(vs->rows[i].tenant, call->subject) != 0))
            return json_fail(err, "/vouchers", ptr, "unknown voucher '%s'", req->vouchers[i]);
        if (r < 0)
            return r;
        struct route_voucher *v = &vs->rv[i];
        const struct voucher_row *row = &vs->rows[i];
        v->id = row->id;
        v->rate = row->rate;
        v->balance = row->balance;
        v->usable = call->now >= row->valid_from && call->now < row->valid_until;
        vs->eligible[i] = cJSON_Parse(row->eligible_json ? row->eligible_json : "{}");
        struct json_error ignore;
        json_get_strings(vs->eligible[i], "centers", "", 1024, 64, &vs->lists[2 * i], &v->ncenters,
                         &ignore);
        json_get_strings(vs->eligible[i], "regions", "", 256, 64, &vs->lists[2 * i + 1],
                         &v->nregions, &ignore);
        v->centers = vs->lists[2 * i];
        v->regions = vs->lists[2 * i + 1];
        json_get_bool(vs->eligible[i], "domestic_only", "", false, &v->domestic_only, NULL,
                      &ignore);
    }
    return 0;
}

static cJSON *placement_json(const struct placement_row *p)
{
    cJSON *o = cJSON_CreateObject();
    if (p->id[0])
        cJSON_AddStringToObject(o, "id", p->id);
    else
        cJSON_AddNullToObject(o, "id"); /* a quote holds nothing and has no id */
    cJSON_AddStringToObject(o, "tenant", p->tenant);
    cJSON_AddStringToObject(o, "state", p->state);
    cJSON_AddStringToObject(o, "decision_id", p->decision_id);
    api_add_time(o, "created_at", p->created_at);
    api_add_time(o, "expires_at", p->expires_at);
    api_add_time(o, "confirmed_at", p->confirmed_at);
    api_add_time(o, "ended_at", p->ended_at);
    json_add_number(o, "hours", p->hours);
    cJSON_AddStringToObject(o, "precision", p->precision);
    cJSON_AddStringToObject(o, "currency", p->currency);
    cJSON *pieces = cJSON_AddArrayToObject(o, "pieces");
    for (size_t i = 0; i < p->npieces; i++) {
        const struct piece_row *pc = &p->pieces[i];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "center", pc->center);
        cJSON_AddStringToObject(x, "region", pc->region);
        cJSON_AddStringToObject(x, "model", pc->model);
        cJSON_AddNumberToObject(x, "cards", (double)pc->cards);
        json_add_number(x, "price_per_card_hour", pc->price);
        json_add_number(x, "rtt_ms", pc->rtt_ms);
        json_add_number(x, "list_total", pc->list_total);
        json_add_number(x, "subsidy", pc->subsidy);
        json_add_number(x, "effective_total", pc->effective_total);
        cJSON_AddItemToArray(pieces, x);
    }
    json_add_number(o, "list_total", p->list_total);
    json_add_number(o, "subsidy", p->subsidy);
    json_add_number(o, "effective_total", p->effective_total);
    json_add_number(o, "subsidy_refunded", p->refunded);
    if (p->voucher[0])
        cJSON_AddStringToObject(o, "voucher", p->voucher);
    else
        cJSON_AddNullToObject(o, "voucher");
    return o;
}

/* Fills a placement row from a decision that placed cards. */
static int placement_from(const struct decision_info *d, const char *id, const char *key,
                          const char *hash, int64_t now, struct placement_row *p)
{
    const struct route_result *res = d->res;
    memset(p, 0, sizeof(*p));
    p->pieces = calloc(res->npieces, sizeof(*p->pieces));
    if (!p->pieces)
        return -ENOMEM;
    snprintf(p->id, sizeof(p->id), "%s", id);
    snprintf(p->tenant, sizeof(p->tenant), "%s", d->tenant);
    snprintf(p->state, sizeof(p->state), "held");
    snprintf(p->decision_id, sizeof(p->decision_id), "%s", d->id);
    p->created_at = now;
    p->expires_at = now + d->req->hold_seconds * 1000;
    p->hours = d->req->route.hours;
    snprintf(p->precision, sizeof(p->precision), "%s", precision_name(d->req->route.precision));
    if (res->voucher >= 0)
        snprintf(p->voucher, sizeof(p->voucher), "%s", d->vouchers[res->voucher].id);
    snprintf(p->currency, sizeof(p->currency), "CNY");
    p->list_total = res->list_total;
    p->subsidy = res->subsidy;
    p->effective_total = res->effective_total;
    snprintf(p->idempotency_key, sizeof(p->idempotency_key), "%s", key ? key : "");
    snprintf(p->request_hash, sizeof(p->request_hash), "%s", hash);
    for (size_t i = 0; i < res->npieces; i++) {
        const struct route_piece *pc = &res->pieces[i];
        const struct route_pool *rp = &d->in->pools[res->candidates[pc->candidate].pool];
        struct piece_row *x = &p->pieces[i];
        snprintf(x->center, sizeof(x->center), "%s", d->in->centers[rp->center].id);
        snprintf(x->region, sizeof(x->region), "%s", d->in->centers[rp->center].region);
        snprintf(x->model, sizeof(x->model), "%s", rp->model);
        x->cards = pc->cards;
        x->price = rp->price;
        x->rtt_ms = d->in->centers[rp->center].rtt_ms;
        x->list_total = pc->list_total;
        x->subsidy = pc->subsidy;
        x->effective_total = pc->effective_total;
    }
    p->npieces = res->npieces;
    return 0;
}

static void reply_placement(struct api_reply *reply, int status, const struct placement_row *p)
{
    if (status == 201) {
        snprintf(reply->location_buf, sizeof(reply->location_buf), "/v1/placements/%s", p->id);
        reply->location = reply->location_buf;
    }
    api_json(reply, status, placement_json(p));
}

/* Answers a retried create from its Idempotency-Key; returns true when it did. */
static bool replay_idempotent(struct api *api, const struct api_call *call, const char *hash,
                              struct api_reply *reply)
{
    struct placement_row p;
    const char *key = call->http->idempotency_key;
    if (!key)
        return false;
    int r = store_placement_by_key(api->st, call->subject, key, &p);
    if (r == -ENOENT)
        return false;
    if (r < 0) {
        api_errno(reply, r, "idempotency lookup");
        return true;
    }
    if (strcmp(p.request_hash, hash) != 0)
        api_problem(reply, 422, "idempotency-key-reused", "Idempotency-Key reused", NULL,
                    "key '%.64s' was used for a different request (placement %s)", key, p.id);
    else
        reply_placement(reply, 200, &p);
    store_placement_free(&p);
    return true;
}

/* A hold against the tenant's quota of cards in live holds. */
struct quota {
    long limit;     /* 0 = none */
    long held;      /* cards in the tenant's live holds */
    long requested; /* cards this hold would add */
    bool from_tenant;
    bool exceeded;
};

static int quota_check(struct api *api, const struct api_call *call, long cards, struct quota *q)
{
    struct tenant_row t = {.max_cards_held = -1};
    memset(q, 0, sizeof(*q));
    q->requested = cards;
    int r = store_tenant_get(api->st, call->subject, &t);
    if (r < 0 && r != -ENOENT)
        return r;
    q->from_tenant = t.max_cards_held >= 0;
    q->limit = api_tenant_quota(api, &t);
    if (q->limit <= 0)
        return 0;
    r = store_tenant_cards_held(api->st, call->subject, call->now, &q->held);
    if (r < 0)
        return r;
    q->exceeded = q->held + cards > q->limit;
    return 0;
}

static cJSON *quota_json(const struct quota *q)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "max_cards_held", (double)q->limit);
    cJSON_AddStringToObject(o, "source", q->from_tenant ? "tenant" : "config");
    cJSON_AddNumberToObject(o, "cards_held", (double)q->held);
    cJSON_AddNumberToObject(o, "cards_requested", (double)q->requested);
    cJSON_AddBoolToObject(o, "exceeded", q->exceeded);
    return o;
}

static enum metrics_outcome outcome_of(const struct route_result *res, bool dry_run,
                                       const struct quota *q)
{
    if (!res->placed)
        return METRICS_UNPLACEABLE;
    if (dry_run)
        return METRICS_QUOTED;
    return q->exceeded ? METRICS_OVER_QUOTA : METRICS_PLACED;
}

void api_placements_create(struct api *api, const struct api_call *call, struct api_reply *reply)
{
    struct placement_request req;
    struct json_error err = {0};
    struct voucher_set vs = {0};
    const struct route_input *in = NULL;
    struct route_result res = {.voucher = -1};
    struct placement_row prow = {0};
    char hash[AUTH_HASH_LEN + 1], decision_id[AUTH_ID_LEN], placement_id[AUTH_ID_LEN];
    char explanation[1024], quota_msg[320], over[1400];
    struct quota quota = {0};
    cJSON *record = NULL, *inputs = NULL;
    char *record_text = NULL, *inputs_text = NULL;
    int64_t epoch = 0;
    const char *key = call->http->idempotency_key;
    int r;

    if (call->role != ROLE_TENANT) {
        api_problem(reply, 403, "forbidden", "forbidden", NULL,
                    "placements are made by tenants; use a tenant token");
        return;
    }
    if (key && (strlen(key) == 0 || strlen(key) > 128)) {
        api_problem(reply, 400, "invalid-header", "invalid Idempotency-Key", NULL,
                    "Idempotency-Key must be 1..128 bytes");
        return;
    }
    r = request_parse(call->http->body, call->http->body_len, &req, &err);
    if (r < 0) {
        if (r == -EINVAL)
            api_bad_field(reply, &err);
        else
            api_errno(reply, r, "request");
        return;
    }
    auth_sha256_hex(call->http->body, call->http->body_len, hash);
    if (!req.dry_run && replay_idempotent(api, call, hash, reply))
        goto out;

    int64_t t0 = clock_mono_us();
    r = store_expire_holds(api->st, call->now);
    if (r >= 0)
        r = inventory_route_input(api->inv, req.origin, call->now, &in);
    if (r == -ENOENT) {
        api_problem(reply, 400, "invalid-field", "invalid request field", "/origin",
                    "/origin: unknown region '%s' (see GET /v1/regions)", req.origin);
        goto out;
    }
    if (r < 0) {
        api_errno(reply, r, "inventory");
        goto out;
    }
    r = voucher_set_load(api, call, &req, &vs, &err);
    if (r == -EINVAL) {
        api_bad_field(reply, &err);
        goto out;
    }
    if (r < 0) {
        api_errno(reply, r, "vouchers");
        goto out;
    }
    /*
     * Only the top of the ranking now; the record ranks every candidate when it
     * is read. The result borrows the inventory's scratch until the next request.
     */
    r = route_decide_scratch(&req.route, in->centers, in->ncenters, in->pools, in->npools, vs.rv,
                             vs.n, 0, &api->inv->scratch, &res);
    if (r < 0) {
        api_errno(reply, r, "routing");
        goto out;
    }
    route_explain(&req.route, in->centers, in->pools, &res, explanation, sizeof(explanation));
    int64_t elapsed = clock_mono_us() - t0;
    r = inventory_epoch(api->inv, call->now, &epoch);
    if (r < 0) {
        api_errno(reply, r, "recording the routing inputs");
        goto out;
    }

    /*
     * A hold over the tenant's quota is refused with 429. Its decision is
     * recorded as "quoted" (routing found a place; nothing is held) with a
     * "quota" member and an explanation that says so. Dry runs are not limited.
     */
    bool hold = res.placed && !req.dry_run;
    r = hold ? quota_check(api, call, res.cards, &quota) : 0;
    if (r < 0) {
        api_errno(reply, r, "quota");
        goto out;
    }
    if (quota.exceeded) {
        hold = false;
        snprintf(quota_msg, sizeof(quota_msg),
                 "tenant %s may hold at most %ld cards at once (%s); it holds %ld in live holds "
                 "and this request needs %ld more",
                 call->subject, quota.limit,
                 quota.from_tenant ? "its max_cards_held"
                                   : "the broker's max_cards_held_per_tenant",
                 quota.held, quota.requested);
        snprintf(over, sizeof(over), "Over quota, nothing held: %s. Routing: %s", quota_msg,
                 explanation);
    }
    if ((r = auth_new_id("dc", call->now, decision_id, sizeof(decision_id))) < 0 ||
        (hold && (r = auth_new_id("pl", call->now, placement_id, sizeof(placement_id))) < 0)) {
        api_errno(reply, r, "ids");
        goto out;
    }
    struct decision_info d = {
        .id = decision_id,
        .tenant = call->subject,
        .at = call->now,
        .elapsed_us = elapsed,
        .outcome = !res.placed ? "unplaceable" : (hold ? "placed" : "quoted"),
        .placement_id = hold ? placement_id : NULL,
        .req = &req,
        .in = in,
        .res = &res,
        .vouchers = vs.rv,
        .nvouchers = vs.n,
        .explanation = quota.exceeded ? over : explanation,
    };
    record = decision_record(&d);
    if (record && quota.limit > 0)
        cJSON_AddItemToObject(record, "quota", quota_json(&quota));
    record_text = record ? cJSON_PrintUnformatted(record) : NULL;
    inputs = decision_vouchers_json(vs.rv, vs.n);
    inputs_text = inputs ? cJSON_PrintUnformatted(inputs) : NULL;
    if (!record_text || !inputs_text ||
        (res.placed &&
         placement_from(&d, hold ? placement_id : "", key, hash, call->now, &prow) < 0)) {
        api_errno(reply, -ENOMEM, "decision");
        goto out;
    }
    struct decision_row drow = {
        .at = call->now, .record = record_text, .epoch = epoch, .inputs = inputs_text};
    drow.seq = prow.created_seq = store_next_seq(api->st);
    snprintf(drow.id, sizeof(drow.id), "%s", decision_id);
    snprintf(drow.tenant, sizeof(drow.tenant), "%s", call->subject);
    snprintf(drow.outcome, sizeof(drow.outcome), "%s", d.outcome);

    /*
     * A hold is on disk before the answer (synchronous=FULL). A decision that
     * holds nothing is written without waiting for the disk: a crash may lose
     * the last such records, never a hold; the next hold's sync carries them.
     */
    bool nosync = !hold; /* in a group, the group's end syncs unless all it wrote is so */
    if (nosync)
        store_set_fsync(api->st, false);
    r = store_begin(api->st);
    if (r == 0)
        r = store_decision_insert(api->st, &drow);
    if (r == 0 && hold)
        r = store_placement_insert(api->st, &prow);
    if (r == 0)
        r = store_commit(api->st);
    else
        store_rollback(api->st);
    if (nosync)
        store_set_fsync(api->st, true);
    if (r < 0) {
        api_errno(reply, r, "recording the decision");
        goto out;
    }
    for (size_t i = 0; hold && i < res.npieces; i++)
        inventory_hold_added(api->inv, res.candidates[res.pieces[i].candidate].pool,
                             res.pieces[i].cards);
    metrics_decision(api->metrics, outcome_of(&res, req.dry_run, &quota), elapsed);

    if (quota.exceeded) {
        api_problem(reply, 429, "quota-exceeded", "quota of held cards exceeded", NULL,
                    "%s; release or confirm a hold first, or ask for a larger quota", quota_msg);
        reply->extra = cJSON_CreateObject();
        if (reply->extra) {
            cJSON_AddStringToObject(reply->extra, "decision_id", decision_id);
            cJSON_AddItemToObject(reply->extra, "quota", quota_json(&quota));
        }
    } else if (!res.placed) {
        api_problem(reply, 409, "no-capacity", "no center can take this request", NULL, "%s",
                    explanation);
        reply->extra = cJSON_CreateObject();
        if (reply->extra) {
            cJSON_AddStringToObject(reply->extra, "decision_id", decision_id);
            cJSON *reasons = cJSON_GetObjectItemCaseSensitive(record, "reasons");
            cJSON_AddItemToObject(reply->extra, "reasons",
                                  reasons ? cJSON_Duplicate(reasons, true) : cJSON_CreateObject());
        }
    } else if (hold) {
        reply_placement(reply, 201, &prow);
    } else {
        /* A quote has the placement's shape: state "quote", no id, nothing expires. */
        snprintf(prow.state, sizeof(prow.state), "quote");
        prow.expires_at = 0;
        api_json(reply, 200, placement_json(&prow));
    }
out:
    store_placement_free(&prow);
    free(record_text);
    free(inputs_text);
    cJSON_Delete(record);
    cJSON_Delete(inputs);
    route_result_free(&res);
    voucher_set_free(&vs);
    request_free(&req);
}

/* Loads a placement the caller may see; writes a 404 or error otherwise. */
static int load_visible(struct api *api, const struct api_call *call, struct placement_row *p,
                        struct api_reply *reply)
{
    store_expire_holds(api->st, call->now);
    int r = store_placement_get(api->st, call->params[0], p);
    if (r == 0 && call->role == ROLE_TENANT && strcmp(p->tenant, call->subject) != 0) {
        store_placement_free(p);
        r = -ENOENT; /* another tenant's placement does not exist for this one */
    }
    if (r == -ENOENT)
        api_problem(reply, 404, "not-found", "not found", NULL, "no placement '%s'",
                    call->params[0]);
    else if (r < 0)
        api_errno(reply, r, "placement");
    return r;
}

void api_placement_get(struct api *api, const struct api_call *call, struct api_reply *reply)
{
    struct placement_row p;
    if (load_visible(api, call, &p, reply) < 0)
        return;
    reply_placement(reply, 200, &p);
    store_placement_free(&p);
}

void api_placements_list(struct api *api, const struct api_call *call, struct api_reply *reply)
{
    struct placement_row *rows = NULL;
    size_t n = 0;
    long limit;
    if (api_query_long(call->query, "limit", 100, 1, 1000, &limit) < 0) {
        api_problem(reply, 400, "invalid-query", "invalid query", NULL,
                    "limit must be an integer from 1 to 1000");
        return;
    }
    store_expire_holds(api->st, call->now);
    int r = store_placements_list(api->st, call->role == ROLE_TENANT ? call->subject : NULL, limit,
                                  &rows, &n);
    if (r < 0) {
        api_errno(reply, r, "placements");
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "placements");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(arr, placement_json(&rows[i]));
    store_placements_free(rows, n);
    api_json(reply, 200, o);
}

/*
 * The voucher side of a transition, inside its transaction. A confirm draws the
 * quoted subsidy, capped by what the voucher has left and nothing once it has
 * expired; releasing a confirmed placement refunds the subsidy of the unused
 * hours pro rata: refund = drawn x max(0, 1 - hours since confirm / hours).
 */
static int settle_voucher(struct api *api, const struct placement_row *p, const char *to,
                          int64_t now)
{
    if (!p->voucher[0] || !(p->subsidy > 0))
        return 0;
    if (strcmp(to, "confirmed") == 0) {
        struct voucher_row v;
        int r = store_voucher_get(api->st, p->voucher, &v);
        if (r < 0)
            return r;
        free(v.eligible_json);
        double draw = p->subsidy < v.balance ? p->subsidy : v.balance;
        if (now < v.valid_from || now >= v.valid_until)
            draw = 0;
        if (draw > 0 && (r = store_voucher_move(api->st, p->voucher, "draw", -draw, p->id, now,
                                                "confirm", NULL)) < 0)
            return r;
        if (draw != p->subsidy)
            return store_placement_set_money(api->st, p->id, draw, 0);
        return 0;
    }
    if (strcmp(to, "released") == 0 && strcmp(p->state, "confirmed") == 0) {
        double used_h = (double)(now - p->confirmed_at) / 3.6e6;
        double unused = p->hours > 0 ? 1 - used_h / p->hours : 0;
        unused = unused < 0 ? 0 : (unused > 1 ? 1 : unused);
        double refund = p->subsidy * unused;
        if (!(refund > 0))
            return 0;
        int r = store_voucher_move(api->st, p->voucher, "refund", refund, p->id, now,
                                   "release: unused hours", NULL);
        if (r == 0)
            r = store_placement_set_money(api->st, p->id, p->subsidy, refund);
        return r;
    }
    return 0;
}

static void transition(struct api *api, const struct api_call *call, struct api_reply *reply,
                       const char *to)
{
    struct placement_row p;
    if (load_visible(api, call, &p, reply) < 0)
        return;
    const char *from = p.state;
    bool allowed = strcmp(from, "held") == 0 ||
                   (strcmp(to, "released") == 0 && strcmp(from, "confirmed") == 0);
    if (!allowed) {
        api_problem(reply, 409, "illegal-transition", "illegal state transition", NULL,
                    "placement %s is %s; it cannot become %s", p.id, from, to);
        store_placement_free(&p);
        return;
    }
    int r = store_begin(api->st);
    if (r == 0)
        r = settle_voucher(api, &p, to, call->now);
    if (r == 0)
        r = store_placement_transition(api->st, p.id, from, to, call->now);
    if (r == 0)
        r = store_commit(api->st);
    else
        store_rollback(api->st);
    store_placement_free(&p);
    if (r < 0) {
        api_errno(reply, r, "placement");
        return;
    }
    if (load_visible(api, call, &p, reply) < 0)
        return;
    reply_placement(reply, 200, &p);
    store_placement_free(&p);
}

void api_placement_confirm(struct api *api, const struct api_call *call, struct api_reply *reply)
{
    transition(api, call, reply, "confirmed");
}

void api_placement_release(struct api *api, const struct api_call *call, struct api_reply *reply)
{
    transition(api, call, reply, "released");
}

/* Cards in live holds and confirmed-unseen cards per pool of b at decision seq. */
static int usage_at(struct api *api, const struct decision_row *d, const struct route_base *b,
                    long *held, long *unseen)
{
    struct usage_piece *u = NULL;
    size_t n = 0;
    int r = store_usage_at(api->st, d->seq, d->at, &u, &n);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        size_t p = route_base_pool(b, u[i].center, u[i].model);
        if (p == b->npools)
            continue; /* a pool the feed no longer had: routing did not see it either */
        if (!u[i].confirmed)
            held[p] += u[i].cards;
        else if (u[i].confirmed_at > b->observed_at[p])
            unseen[p] += u[i].cards;
    }
    free(u);
    return 0;
}

/* The members of a summary that routing again from the stored inputs must reproduce. */
static bool same_outcome(const cJSON *stored, const cJSON *again)
{
    static const char *const keys[] = {"chosen", "alternatives", "totals", "reasons", NULL};
    for (size_t k = 0; keys[k]; k++) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(stored, keys[k]);
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(again, keys[k]);
        if (!a || !b || !cJSON_Compare(a, b, true))
            return false;
    }
    return true;
}

/*
 * Routes a decision again from its stored inputs (epoch, time, live
 * placements at its seq, vouchers) and adds its candidates to the summary,
 * with "inputs" saying where they came from and whether the choice, the
 * alternatives, the totals and the reject counts came out the same.
 */
static int rederive(struct api *api, const struct decision_row *d, cJSON *record)
{
    const struct route_base *b = NULL;
    struct placement_request req = {0};
    struct route_input in = {0};
    struct route_result res = {.voucher = -1};
    struct route_voucher *v = NULL;
    size_t nv = 0;
    long *held = NULL, *unseen = NULL;
    cJSON *vdoc = NULL, *again = NULL, *cands = NULL;
    char *req_text = NULL;
    bool parsed = false;
    struct json_error err = {0};
    int r = inventory_epoch_base(api->inv, d->epoch, &b);
    const cJSON *rq = cJSON_GetObjectItemCaseSensitive(record, "request");
    if (r == 0) {
        req_text = cJSON_PrintUnformatted(rq);
        r = req_text ? request_parse(req_text, strlen(req_text), &req, &err) : -EINVAL;
        parsed = r == 0;
    }
    if (r == 0) {
        vdoc = cJSON_Parse(d->inputs ? d->inputs : "[]");
        r = vdoc ? decision_vouchers_read(vdoc, &v, &nv) : -EINVAL;
    }
    if (r == 0) {
        held = calloc(b->npools ? b->npools : 1, sizeof(*held));
        unseen = calloc(b->npools ? b->npools : 1, sizeof(*unseen));
        r = held && unseen ? usage_at(api, d, b, held, unseen) : -ENOMEM;
    }
    if (r == 0)
        r = route_base_input(b, req.origin, d->at, held, unseen, &in);
    if (r == 0)
        r = route_decide(&req.route, in.centers, in.ncenters, in.pools, in.npools, v, nv, &res);
    if (r == 0) {
        struct decision_info di = {
            .id = d->id,
            .tenant = d->tenant,
            .at = d->at,
            .outcome = d->outcome,
            .req = &req,
            .in = &in,
            .res = &res,
            .vouchers = v,
            .nvouchers = nv,
            .explanation = "",
        };
        /* Printed and read back, so numbers compare as the stored summary's did. */
        cJSON *fresh = decision_record(&di);
        char *fresh_text = fresh ? cJSON_PrintUnformatted(fresh) : NULL;
        again = fresh_text ? cJSON_Parse(fresh_text) : NULL;
        free(fresh_text);
        cJSON_Delete(fresh);
        cands = decision_candidates(&di);
        if (!again || !cands)
            r = -ENOMEM;
    }
    cJSON *info = cJSON_CreateObject();
    cJSON_AddNumberToObject(info, "epoch", (double)d->epoch);
    cJSON_AddNumberToObject(info, "seq", (double)d->seq);
    if (r == 0) {
        cJSON_AddBoolToObject(info, "verified", same_outcome(record, again));
        cJSON_AddItemToObject(record, "candidates", cands);
        cands = NULL;
    } else {
        cJSON_AddStringToObject(info, "error", strerror(-r));
        cJSON_AddNullToObject(record, "candidates");
        log_warn("decision %s: cannot route it again from its inputs: %s", d->id, strerror(-r));
    }
    cJSON_AddItemToObject(record, "inputs", info);
    cJSON_Delete(again);
    cJSON_Delete(cands);
    route_result_free(&res);
    route_input_free(&in);
    free(held);
    free(unseen);
    decision_vouchers_free(v, nv);
    cJSON_Delete(vdoc);
    if (parsed)
        request_free(&req);
    free(req_text);
    return r;
}

void api_decision_get(struct api *api, const struct api_call *call, struct api_reply *reply)
{
    struct decision_row d;
    int r = store_decision_get(api->st, call->params[0], &d);
    if (r == 0 && call->role == ROLE_TENANT && strcmp(d.tenant, call->subject) != 0) {
        free(d.record);
        free(d.inputs);
        r = -ENOENT;
    }
    if (r == -ENOENT) {
        api_problem(reply, 404, "not-found", "not found", NULL, "no decision '%s'",
                    call->params[0]);
        return;
    }
    if (r < 0) {
        api_errno(reply, r, "decision");
        return;
    }
    cJSON *o = cJSON_Parse(d.record);
    if (o && d.epoch > 0)
        rederive(api, &d, o);
    free(d.record);
    free(d.inputs);
    api_json(reply, 200, o);
}

void api_decisions_list(struct api *api, const struct api_call *call, struct api_reply *reply)
{
    static const char *const keep[] = {"id",           "at",          "tenant",     "outcome",
                                       "chosen",       "totals",      "elapsed_us", "request",
                                       "placement_id", "explanation", NULL};
    struct decision_row *rows = NULL;
    size_t n = 0;
    long limit;
    if (api_query_long(call->query, "limit", 20, 1, api->cfg->max_decisions_list, &limit) < 0) {
        api_problem(reply, 400, "invalid-query", "invalid query", NULL,
                    "limit must be an integer from 1 to %ld", api->cfg->max_decisions_list);
        return;
    }
    int r = store_decisions_list(api->st, call->role == ROLE_TENANT ? call->subject : NULL, limit,
                                 &rows, &n);
    if (r < 0) {
        api_errno(reply, r, "decisions");
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "decisions");
    for (size_t i = 0; i < n; i++) {
        cJSON *full = cJSON_Parse(rows[i].record);
        cJSON *s = cJSON_CreateObject();
        for (size_t k = 0; full && keep[k]; k++) {
            cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(full, keep[k]);
            if (v)
                cJSON_AddItemToObject(s, keep[k], v);
        }
        cJSON_Delete(full);
        cJSON_AddItemToArray(arr, s);
    }
    store_decisions_free(rows, n);
    api_json(reply, 200, o);
}
