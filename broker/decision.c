/*
 * decision — renders a routing decision as its JSON record. Candidates are
 * listed in pool order with verdict chosen | eligible | rejected; the
 * explanation sentence comes from route_explain().
 */
#include "decision.h"

#include <string.h>

#include "geo.h"
#include "json.h"
#include "timefmt.h"

static void add_time(cJSON *o, const char *key, int64_t ms)
{
    char buf[40];
    timefmt_format(ms, buf, sizeof(buf));
    cJSON_AddStringToObject(o, key, buf);
}

static cJSON *candidate_json(const struct decision_info *d, const struct route_candidate *c)
{
    const struct route_pool *p = &d->in->pools[c->pool];
    const struct route_center *ce = &d->in->centers[p->center];
    const struct pool_row *row = d->in->rows[c->pool];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "center", ce->id);
    cJSON_AddStringToObject(o, "model", p->model);
    cJSON_AddStringToObject(o, "region", ce->region);
    cJSON_AddStringToObject(
        o, "verdict", c->chosen ? "chosen" : (c->reason == REJECT_NONE ? "eligible" : "rejected"));
    if (c->reason != REJECT_NONE)
        cJSON_AddStringToObject(o, "reason", reject_name(c->reason));
    cJSON_AddNumberToObject(o, "cards", (double)c->cards);
    cJSON_AddNumberToObject(o, "available", (double)c->available);
    json_add_number(o, "rtt_ms", ce->rtt_ms);
    cJSON_AddStringToObject(o, "rtt_source", rtt_source_name(ce->rtt_source));
    json_add_number(o, "price_per_card_hour", p->price);
    if (strcmp(row->currency, "CNY") != 0) {
        json_add_number(o, "list_price_per_card_hour", row->price);
        cJSON_AddStringToObject(o, "list_currency", row->currency);
    }
    json_add_number(o, "list_total", c->list_total);
    json_add_number(o, "subsidy", c->subsidy);
    json_add_number(o, "effective_total", c->effective_total);
    if (c->voucher >= 0)
        cJSON_AddStringToObject(o, "voucher", d->vouchers[c->voucher].id);
    if (c->reason == REJECT_NONE) {
        json_add_number(o, "score", c->score);
        cJSON *t = cJSON_AddObjectToObject(o, "terms");
        json_add_number(t, "cost", c->terms.cost);
        json_add_number(t, "latency", c->terms.latency);
        json_add_number(t, "balance", c->terms.balance);
        json_add_number(o, "util_after", c->util_after);
        cJSON_AddNumberToObject(o, "rank", c->rank);
    }
    return o;
}

cJSON *decision_record(const struct decision_info *d)
{
    const struct route_result *res = d->res;
    const struct route_request *rr = &d->req->route;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "id", d->id);
    add_time(o, "at", d->at);
    cJSON_AddStringToObject(o, "tenant", d->tenant);
    cJSON_AddStringToObject(o, "outcome", d->outcome);
    if (d->placement_id)
        cJSON_AddStringToObject(o, "placement_id", d->placement_id);
    cJSON *req = cJSON_Duplicate(d->req->doc, true);
    cJSON_AddItemToObject(o, "request", req ? req : cJSON_CreateObject());
    cJSON_AddNumberToObject(o, "elapsed_us", (double)d->elapsed_us);
    cJSON_AddStringToObject(o, "origin", d->req->origin);
    cJSON_AddStringToObject(o, "precision", precision_name(rr->precision));
    cJSON *w = cJSON_AddObjectToObject(o, "weights");
    json_add_number(w, "cost", rr->weights.cost);
    json_add_number(w, "latency", rr->weights.latency);
    json_add_number(w, "balance", rr->weights.balance);

    cJSON *chosen = cJSON_AddArrayToObject(o, "chosen");
    for (size_t i = 0; i < res->npieces; i++) {
        const struct route_piece *pc = &res->pieces[i];
        const struct route_pool *p = &d->in->pools[res->candidates[pc->candidate].pool];
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "center", d->in->centers[p->center].id);
        cJSON_AddStringToObject(c, "model", p->model);
        cJSON_AddNumberToObject(c, "cards", (double)pc->cards);
        cJSON_AddItemToArray(chosen, c);
    }
    cJSON *alts = cJSON_AddArrayToObject(o, "alternatives");
    size_t nalt = 0;
    for (size_t k = 0; k < res->neligible && nalt < 3; k++) {
        const struct route_candidate *c = &res->candidates[res->ranked[k]];
        if (c->chosen)
            continue;
        const struct route_pool *p = &d->in->pools[c->pool];
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "center", d->in->centers[p->center].id);
        cJSON_AddStringToObject(a, "model", p->model);
        json_add_number(a, "score", c->score);
        json_add_number(a, "effective_total", c->effective_total);
        json_add_number(a, "rtt_ms", d->in->centers[p->center].rtt_ms);
        cJSON_AddItemToArray(alts, a);
        nalt++;
    }
    cJSON *tot = cJSON_AddObjectToObject(o, "totals");
    cJSON_AddNumberToObject(tot, "cards", (double)res->cards);
    json_add_number(tot, "list_total", res->list_total);
    json_add_number(tot, "subsidy", res->subsidy);
    json_add_number(tot, "effective_total", res->effective_total);
    cJSON_AddStringToObject(tot, "currency", "CNY");
    if (res->voucher >= 0)
        cJSON_AddStringToObject(tot, "voucher", d->vouchers[res->voucher].id);
    else
        cJSON_AddNullToObject(tot, "voucher");
    cJSON *reasons = cJSON_AddObjectToObject(o, "reasons");
    for (int k = 1; k < REJECT_COUNT; k++) {
        if (res->reasons[k])
            cJSON_AddNumberToObject(reasons, reject_name((enum reject)k), (double)res->reasons[k]);
    }
    cJSON_AddStringToObject(o, "explanation", d->explanation);
    bool estimated = false;
    for (size_t i = 0; i < d->in->ncenters; i++)
        estimated |= d->in->centers[i].rtt_source == RTT_ESTIMATED;
    if (estimated)
        cJSON_AddStringToObject(o, "rtt_estimate", GEO_RTT_FORMULA);
    cJSON *cands = cJSON_AddArrayToObject(o, "candidates");
    for (size_t i = 0; i < res->ncandidates; i++)
        cJSON_AddItemToArray(cands, candidate_json(d, &res->candidates[i]));
    return o;
}
