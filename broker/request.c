/*
 * request — strict parsing of placement requests: known fields only, types and
 * ranges checked, exactly one of cards and pflops, weights non-negative and
 * not all zero. Pure.
 */
#include "request.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const request_fields[] = {"precision",
                                             "cards",
                                             "pflops",
                                             "hours",
                                             "origin",
                                             "max_latency_ms",
                                             "max_price_per_card_hour",
                                             "min_memory_gib",
                                             "domestic_only",
                                             "regions_allowed",
                                             "regions_denied",
                                             "labels",
                                             "gang",
                                             "vouchers",
                                             "weights",
                                             "hold_seconds",
                                             "dry_run",
                                             NULL};

static const char *const weight_fields[] = {"cost", "latency", "balance", NULL};

static int parse_weights(const cJSON *doc, struct route_request *rr, struct json_error *err)
{
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(doc, "weights");
    if (!w || cJSON_IsNull(w)) {
        rr->weights = weights_default;
        return 0;
    }
    if (!cJSON_IsObject(w))
        return json_fail(err, "", "weights", "must be an object with cost, latency, balance");
    int r = json_only(w, weight_fields, "/weights", err);
    if (r < 0)
        return r;
    /* A request's weights replace the defaults whole: a term left out weighs 0. */
    struct weights v = {0, 0, 0};
    if ((r = json_get_number(w, "cost", "/weights", false, 0, 1e6, &v.cost, NULL, err)) < 0 ||
        (r = json_get_number(w, "latency", "/weights", false, 0, 1e6, &v.latency, NULL, err)) < 0 ||
        (r = json_get_number(w, "balance", "/weights", false, 0, 1e6, &v.balance, NULL, err)) < 0)
        return r;
    if (!weights_valid(&v))
        return json_fail(err, "", "weights", "weights must be >= 0 and not all 0");
    rr->weights = v;
    return 0;
}

int request_parse(const char *body, size_t len, struct placement_request *ret,
                  struct json_error *err)
{
    struct placement_request req = {0};
    struct route_request *rr = &req.route;
    const char *prec = NULL;
    bool has_cards = false, has_pflops = false;
    int r;

    memset(ret, 0, sizeof(*ret));
    r = json_parse_object(body, len, &req.doc, err);
    if (r < 0)
        return r;
    const cJSON *doc = req.doc;
    if ((r = json_only(doc, request_fields, "", err)) < 0)
        goto fail;

    if ((r = json_get_string(doc, "precision", "", true, 16, &prec, NULL, err)) < 0)
        goto fail;
    if (precision_parse(prec, &rr->precision) < 0) {
        r = json_fail(err, "", "precision",
                      "unknown precision '%.32s' (fp64, fp32, tf32, bf16, fp16, fp8, int8)", prec);
        goto fail;
    }
    if ((r = json_get_long(doc, "cards", "", false, 1, ROUTE_MAX_CARDS, &rr->cards, &has_cards,
                           err)) < 0 ||
        (r = json_get_number(doc, "pflops", "", false, 1e-6, ROUTE_MAX_PFLOPS, &rr->pflops,
                             &has_pflops, err)) < 0)
        goto fail;
    if (has_cards == has_pflops) {
        r = json_fail(err, "", "cards",
                      has_cards ? "give cards or pflops, not both"
                                : "either cards or pflops is required");
        goto fail;
    }
    if (!has_cards)
        rr->cards = 0;
    if ((r = json_get_number(doc, "hours", "", true, 1.0 / 60, ROUTE_MAX_HOURS, &rr->hours, NULL,
                             err)) < 0)
        goto fail;
    if ((r = json_get_string(doc, "origin", "", true, 64, &req.origin, NULL, err)) < 0)
        goto fail;

    rr->max_latency_ms = -1;
    rr->max_price = -1;
    if ((r = json_get_number(doc, "max_latency_ms", "", false, 0, 1e6, &rr->max_latency_ms, NULL,
                             err)) < 0 ||
        (r = json_get_number(doc, "max_price_per_card_hour", "", false, 0, 1e9, &rr->max_price,
                             NULL, err)) < 0 ||
        (r = json_get_number(doc, "min_memory_gib", "", false, 0, 1e6, &rr->min_memory_gib, NULL,
                             err)) < 0 ||
        (r = json_get_bool(doc, "domestic_only", "", false, &rr->domestic_only, NULL, err)) < 0)
        goto fail;

    if ((r = json_get_strings(doc, "regions_allowed", "", REQUEST_MAX_LIST, 64, &req.allowed,
                              &rr->nallowed, err)) < 0 ||
        (r = json_get_strings(doc, "regions_denied", "", REQUEST_MAX_LIST, 64, &req.denied,
                              &rr->ndenied, err)) < 0 ||
        (r = json_get_labels(doc, "labels", "", REQUEST_MAX_LIST, 128, &req.labels, &rr->nlabels,
                             err)) < 0 ||
        (r = json_get_strings(doc, "vouchers", "", REQUEST_MAX_LIST, 64, &req.vouchers,
                              &req.nvouchers, err)) < 0)
        goto fail;
    rr->regions_allowed = req.allowed;
    rr->regions_denied = req.denied;
    rr->labels = req.labels;

    rr->gang = true;
    req.hold_seconds = REQUEST_DEFAULT_HOLD_S;
    if ((r = json_get_bool(doc, "gang", "", false, &rr->gang, NULL, err)) < 0 ||
        (r = json_get_long(doc, "hold_seconds", "", false, 1, REQUEST_MAX_HOLD_S, &req.hold_seconds,
                           NULL, err)) < 0 ||
        (r = json_get_bool(doc, "dry_run", "", false, &req.dry_run, NULL, err)) < 0)
        goto fail;
    if ((r = parse_weights(doc, rr, err)) < 0)
        goto fail;

    *ret = req;
    return 0;
fail:
    request_free(&req);
    return r;
}

void request_free(struct placement_request *req)
{
    if (!req)
        return;
    free(req->vouchers);
    free(req->allowed);
    free(req->denied);
    free(req->labels);
    cJSON_Delete(req->doc);
    memset(req, 0, sizeof(*req));
}
