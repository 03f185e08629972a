/*
 * native — the broker's own feed schema (schema/native-feed.schema.json):
 * {"center","observed_at","pools":[{"model","total","free","largest_block",
 * "price_per_card_hour","spot_price_per_card_hour","currency","vendor",
 * "memory_gib","domestic","tflops":{...}}]}. Strict: unknown fields, wrong
 * types and impossible counts are refused with the pointer of the field.
 * This is the strict reader over cJSON; plain documents take native_scan.c's
 * one-pass reader first.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapter.h"
#include "native.h"
#include "timefmt.h"

static const char *const doc_fields[] = {"center", "observed_at", "pools", NULL};
static const char *const pool_fields[] = {"model",
                                          "total",
                                          "free",
                                          "largest_block",
                                          "price_per_card_hour",
                                          "spot_price_per_card_hour",
                                          "currency",
                                          "vendor",
                                          "memory_gib",
                                          "domestic",
                                          "tflops",
                                          NULL};

/* Copies a string the getters checked to fit (at most len - 1 bytes) into dst. */
static void copy_checked(char *dst, size_t len, const char *src)
{
    size_t n = strnlen(src, len - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* "/pools/<i>" into buf (32 bytes), without printf: it is built for every pool. */
static void pool_prefix(char *buf, size_t i)
{
    static const char head[] = "/pools/";
    char digits[24];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + i % 10);
        i /= 10;
    } while (i);
    memcpy(buf, head, sizeof(head) - 1);
    for (size_t k = 0; k < n; k++)
        buf[sizeof(head) - 1 + k] = digits[n - 1 - k];
    buf[sizeof(head) - 1 + n] = '\0';
}

static int parse_tflops(const cJSON *pool, const char *prefix, struct pool_snapshot *ps,
                        struct json_error *err)
{
    char ptr[128];
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(pool, "tflops");
    for (int p = 0; p < PREC_COUNT; p++)
        ps->tflops[p] = -1;
    if (!t || cJSON_IsNull(t))
        return 0;
    if (!cJSON_IsObject(t))
        return json_fail(err, prefix, "tflops", "must be an object of precision: number");
    json_pointer(ptr, sizeof(ptr), prefix, "tflops");
    const cJSON *it;
    cJSON_ArrayForEach(it, t)
    {
        enum precision p;
        if (!it->string || precision_parse(it->string, &p) < 0)
            return json_fail(err, ptr, it->string ? it->string : "", "unknown precision");
        int r = json_get_number(t, it->string, ptr, true, 0, 1e7, &ps->tflops[p], NULL, err);
        if (r < 0)
            return r;
    }
    return 0;
}

static int parse_pool(const cJSON *pool, const char *prefix, struct pool_snapshot *ps,
                      struct json_error *err)
{
    const char *s = NULL;
    bool present = false, dom = false;
    int r;

    if (!cJSON_IsObject(pool))
        return json_fail(err, prefix, NULL, "a pool must be an object");
    if ((r = json_only(pool, pool_fields, prefix, err)) < 0)
        return r;
    if ((r = json_get_string(pool, "model", prefix, true, sizeof(ps->model) - 1, &s, NULL, err)) <
        0)
        return r;
    copy_checked(ps->model, sizeof(ps->model), s);
    if ((r = json_get_long(pool, "total", prefix, true, 0, ADAPTER_MAX_CARDS, &ps->total, NULL,
                           err)) < 0 ||
        (r = json_get_long(pool, "free", prefix, true, 0, ADAPTER_MAX_CARDS, &ps->free, NULL,
                           err)) < 0)
        return r;
    ps->has_counts = true;
    ps->has_price = true;
    if (ps->free > ps->total)
        return json_fail(err, prefix, "free", "free (%ld) exceeds total (%ld)", ps->free,
                         ps->total);
    ps->largest_block = ps->free;
    if ((r = json_get_long(pool, "largest_block", prefix, false, 0, ADAPTER_MAX_CARDS,
                           &ps->largest_block, NULL, err)) < 0)
        return r;
    if (ps->largest_block > ps->free)
        return json_fail(err, prefix, "largest_block", "largest_block (%ld) exceeds free (%ld)",
                         ps->largest_block, ps->free);
    if ((r = json_get_number(pool, "price_per_card_hour", prefix, true, 0, 1e6, &ps->price, NULL,
                             err)) < 0)
        return r;
    ps->spot_price = -1;
    if ((r = json_get_number(pool, "spot_price_per_card_hour", prefix, false, 0, 1e6,
                             &ps->spot_price, NULL, err)) < 0)
        return r;
    memcpy(ps->currency, "CNY", sizeof("CNY"));
    if ((r = json_get_string(pool, "currency", prefix, false, 3, &s, &present, err)) < 0)
        return r;
    if (present) {
        if (strlen(s) != 3 || !isupper((unsigned char)s[0]) || !isupper((unsigned char)s[1]) ||
            !isupper((unsigned char)s[2]))
            return json_fail(err, prefix, "currency", "must be an ISO 4217 code such as CNY");
        copy_checked(ps->currency, sizeof(ps->currency), s);
    }
    ps->vendor[0] = '\0';
    if ((r = json_get_string(pool, "vendor", prefix, false, sizeof(ps->vendor) - 1, &s, &present,
                             err)) < 0)
        return r;
    if (present)
        copy_checked(ps->vendor, sizeof(ps->vendor), s);
    ps->memory_gib = -1;
    if ((r = json_get_number(pool, "memory_gib", prefix, false, 0, 1e5, &ps->memory_gib, NULL,
                             err)) < 0)
        return r;
    ps->domestic = -1;
    if ((r = json_get_bool(pool, "domestic", prefix, false, &dom, &present, err)) < 0)
        return r;
    if (present)
        ps->domestic = dom;
    return parse_tflops(pool, prefix, ps, err);
}

int native_parse_strict(const char *text, size_t len, struct feed_snapshot *ret,
                        struct json_error *err)
{
    struct feed_snapshot snap = {0};
    cJSON *doc = NULL;
    const char *s = NULL;
    bool present = false;
    int r;

    memset(ret, 0, sizeof(*ret));
    if ((r = json_parse_object(text, len, &doc, err)) < 0)
        return r;
    if ((r = json_only(doc, doc_fields, "", err)) < 0)
        goto out;
    if ((r = json_get_string(doc, "center", "", false, 64, &s, &present, err)) < 0)
        goto out;
    if (present)
        copy_checked(snap.center, sizeof(snap.center), s);
    if ((r = json_get_string(doc, "observed_at", "", false, 40, &s, &present, err)) < 0)
        goto out;
    if (present && timefmt_parse(s, &snap.observed_at_ms) < 0) {
        r = json_fail(err, "", "observed_at", "must be an RFC 3339 timestamp");
        goto out;
    }
    const cJSON *pools = cJSON_GetObjectItemCaseSensitive(doc, "pools");
    if (!pools || !cJSON_IsArray(pools)) {
        r = json_fail(err, "", "pools", pools ? "must be an array" : "is required");
        goto out;
    }
    int n = cJSON_GetArraySize(pools);
    if (n > ADAPTER_MAX_POOLS) {
        r = json_fail(err, "", "pools", "has more than %d pools", ADAPTER_MAX_POOLS);
        goto out;
    }
    snap.pools = calloc(n > 0 ? (size_t)n : 1, sizeof(*snap.pools));
    if (!snap.pools) {
        r = -ENOMEM;
        goto out;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, pools)
    {
        char prefix[32];
        pool_prefix(prefix, snap.npools);
        struct pool_snapshot *ps = &snap.pools[snap.npools];
        if ((r = parse_pool(it, prefix, ps, err)) < 0)
            goto out;
        for (size_t j = 0; j < snap.npools; j++) {
            if (strcasecmp(snap.pools[j].model, ps->model) == 0) {
                r = json_fail(err, prefix, "model", "model '%s' appears twice", ps->model);
                goto out;
            }
        }
        snap.npools++;
    }
    *ret = snap;
    memset(&snap, 0, sizeof(snap));
    r = 0;
out:
    feed_snapshot_free(&snap);
    cJSON_Delete(doc);
    return r;
}

/* The scanner reads plain documents; the strict reader the rest, and names what is wrong. */
static int native_parse(const char *text, size_t len, const cJSON *options,
                        struct feed_snapshot *ret, struct json_error *err)
{
    (void)options;
    int r = native_scan(text, len, ret);
    if (r != 0)
        return r < 0 ? r : 0;
    return native_parse_strict(text, len, ret, err);
}

static const struct adapter_option native_options[] = {
    {NULL, NULL, false, NULL},
};

const struct adapter adapter_native = {
    .name = "native",
    .description = "the broker's own feed schema (schema/native-feed.schema.json), pushed "
                   "through POST /v1/centers/{id}/feed or pulled from a URL",
    .push = true,
    .pull = true,
    .options = native_options,
    .parse = native_parse,
};
