/*
 * decision — renders a routing decision as its JSON record: the summary
 * written when the decision is made, and the candidates, listed in pool order
 * with verdict chosen | eligible | rejected, computed again when the record
 * is read. The explanation sentence comes from route_explain().
 */
#include "decision.h"

#include <errno.h>
#include <stdlib.h>
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
    const char *currency = d->in->currency[c->pool];
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
    if (strcmp(currency, "CNY") != 0) {
        json_add_number(o, "list_price_per_card_hour", d->in->list_price[c->pool]);
        cJSON_AddStringToObject(o, "list_currency", currency);
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
    for (size_t k = 0; k < res->nranked && nalt < 3; k++) {
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
    return o;
}

cJSON *decision_candidates(const struct decision_info *d)
{
    cJSON *cands = cJSON_CreateArray();
    for (size_t i = 0; cands && i < d->res->ncandidates; i++) {
        cJSON *c = candidate_json(d, &d->res->candidates[i]);
        if (!c) {
            cJSON_Delete(cands);
            return NULL;
        }
        cJSON_AddItemToArray(cands, c);
    }
    return cands;
}

/* ---- the vouchers a decision saw ---- */

static cJSON *strings_json(const char *const *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
    return a;
}

cJSON *decision_vouchers_json(const struct route_voucher *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(a, o);
        cJSON_AddStringToObject(o, "id", v[i].id);
        cJSON_AddNumberToObject(o, "rate", v[i].rate); /* exact: cJSON round-trips doubles */
        cJSON_AddNumberToObject(o, "balance", v[i].balance);
        cJSON_AddBoolToObject(o, "usable", v[i].usable);
        cJSON_AddItemToObject(o, "centers", strings_json(v[i].centers, v[i].ncenters));
        cJSON_AddItemToObject(o, "regions", strings_json(v[i].regions, v[i].nregions));
        cJSON_AddBoolToObject(o, "domestic_only", v[i].domestic_only);
    }
    if (a && (size_t)cJSON_GetArraySize(a) != n) {
        cJSON_Delete(a);
        return NULL;
    }
    return a;
}

static int strings_read(const cJSON *a, const char *const **ret, size_t *ret_n)
{
    size_t n = (size_t)cJSON_GetArraySize(a), k = 0;
    *ret = NULL;
    *ret_n = 0;
    if (!cJSON_IsArray(a))
        return -EINVAL;
    if (n == 0)
        return 0;
    const char **v = calloc(n, sizeof(*v));
    if (!v)
        return -ENOMEM;
    const cJSON *it;
    cJSON_ArrayForEach(it, a)
    {
        if (!cJSON_IsString(it)) {
            free(v);
            return -EINVAL;
        }
        v[k++] = it->valuestring;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

void decision_vouchers_free(struct route_voucher *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free((void *)v[i].centers);
        free((void *)v[i].regions);
    }
    free(v);
}

int decision_vouchers_read(const cJSON *doc, struct route_voucher **ret, size_t *ret_n)
{
    *ret = NULL;
    *ret_n = 0;
    if (!cJSON_IsArray(doc))
        return -EINVAL;
    size_t n = (size_t)cJSON_GetArraySize(doc), i = 0;
    if (n == 0)
        return 0;
    struct route_voucher *v = calloc(n, sizeof(*v));
    if (!v)
        return -ENOMEM;
    int r = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, doc)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
        const cJSON *rate = cJSON_GetObjectItemCaseSensitive(o, "rate");
        const cJSON *balance = cJSON_GetObjectItemCaseSensitive(o, "balance");
        const cJSON *usable = cJSON_GetObjectItemCaseSensitive(o, "usable");
        const cJSON *dom = cJSON_GetObjectItemCaseSensitive(o, "domestic_only");
        struct route_voucher *x = &v[i++];
        if (!cJSON_IsString(id) || !cJSON_IsNumber(rate) || !cJSON_IsNumber(balance) ||
            !cJSON_IsBool(usable) || !cJSON_IsBool(dom)) {
            r = -EINVAL;
            break;
        }
        x->id = id->valuestring;
        x->rate = rate->valuedouble;
        x->balance = balance->valuedouble;
        x->usable = cJSON_IsTrue(usable);
        x->domestic_only = cJSON_IsTrue(dom);
        r = strings_read(cJSON_GetObjectItemCaseSensitive(o, "centers"), &x->centers, &x->ncenters);
        if (r == 0)
            r = strings_read(cJSON_GetObjectItemCaseSensitive(o, "regions"), &x->regions,
                             &x->nregions);
        if (r < 0)
            break;
    }
    if (r < 0) {
        decision_vouchers_free(v, n);
        return r;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}
