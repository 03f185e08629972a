/*
 * model — name tables for the broker's enums and the default routing weights.
 * Pure: no I/O.
 */
#include "model.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

const struct weights weights_default = {.cost = 1.0, .latency = 0.5, .balance = 0.2};

static const char *const precision_names[PREC_COUNT] = {
    [PREC_FP64] = "fp64", [PREC_FP32] = "fp32", [PREC_TF32] = "tf32", [PREC_BF16] = "bf16",
    [PREC_FP16] = "fp16", [PREC_FP8] = "fp8",   [PREC_INT8] = "int8",
};

static const char *const reject_names[REJECT_COUNT] = {
    [REJECT_NONE] = "none",
    [REJECT_CENTER_INACTIVE] = "center_inactive",
    [REJECT_STALE_FEED] = "stale_feed",
    [REJECT_REGION_EXCLUDED] = "region_excluded",
    [REJECT_LABEL_MISMATCH] = "label_mismatch",
    [REJECT_NOT_DOMESTIC] = "not_domestic",
    [REJECT_PRECISION_UNSUPPORTED] = "precision_unsupported",
    [REJECT_MEMORY_TOO_SMALL] = "memory_too_small",
    [REJECT_LATENCY_EXCEEDS] = "latency_exceeds",
    [REJECT_INSUFFICIENT_CAPACITY] = "insufficient_capacity",
    [REJECT_PRICE_EXCEEDS] = "price_exceeds",
};

static const char *const center_status_names[CENTER_STATUS_COUNT] = {
    [CENTER_ACTIVE] = "active", [CENTER_DRAINING] = "draining", [CENTER_DISABLED] = "disabled"};

static const char *const rtt_source_names[RTT_SOURCE_COUNT] = {
    [RTT_MEASURED] = "measured", [RTT_CONFIGURED] = "configured", [RTT_ESTIMATED] = "estimated"};

static const char *const role_names[ROLE_COUNT] = {
    [ROLE_ADMIN] = "admin", [ROLE_OPERATOR] = "operator", [ROLE_TENANT] = "tenant"};

static const char *name_of(const char *const *names, int n, int v)
{
    if (v < 0 || v >= n)
        return "unknown";
    return names[v];
}

static int parse_in(const char *const *names, int n, const char *s, int *ret)
{
    if (!s)
        return -EINVAL;
    for (int i = 0; i < n; i++) {
        if (names[i] && strcmp(names[i], s) == 0) {
            *ret = i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *precision_name(enum precision p)
{
    return name_of(precision_names, PREC_COUNT, (int)p);
}

const char *reject_name(enum reject r)
{
    return name_of(reject_names, REJECT_COUNT, (int)r);
}

const char *center_status_name(enum center_status s)
{
    return name_of(center_status_names, CENTER_STATUS_COUNT, (int)s);
}

const char *rtt_source_name(enum rtt_source s)
{
    return name_of(rtt_source_names, RTT_SOURCE_COUNT, (int)s);
}

const char *role_name(enum role r)
{
    return name_of(role_names, ROLE_COUNT, (int)r);
}

int precision_parse(const char *s, enum precision *ret)
{
    int v;
    int r = parse_in(precision_names, PREC_COUNT, s, &v);
    if (r == 0)
        *ret = (enum precision)v;
    return r;
}

int center_status_parse(const char *s, enum center_status *ret)
{
    int v;
    int r = parse_in(center_status_names, CENTER_STATUS_COUNT, s, &v);
    if (r == 0)
        *ret = (enum center_status)v;
    return r;
}

int rtt_source_parse(const char *s, enum rtt_source *ret)
{
    int v;
    int r = parse_in(rtt_source_names, RTT_SOURCE_COUNT, s, &v);
    if (r == 0)
        *ret = (enum rtt_source)v;
    return r;
}

int role_parse(const char *s, enum role *ret)
{
    int v;
    int r = parse_in(role_names, ROLE_COUNT, s, &v);
    if (r == 0)
        *ret = (enum role)v;
    return r;
}

bool weights_valid(const struct weights *w)
{
    const double v[3] = {w->cost, w->latency, w->balance};
    double sum = 0;
    for (int i = 0; i < 3; i++) {
        if (!isfinite(v[i]) || v[i] < 0 || v[i] > 1e6)
            return false;
        sum += v[i];
    }
    return sum > 0;
}
