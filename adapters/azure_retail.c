/*
 * azure_retail — one page of the Azure Retail Prices API ({BillingCurrency,
 * CustomerEntityId, CustomerEntityType, Items[], NextPageLink, Count}) as a price
 * feed: the Linux pay-as-you-go hourly prices of GPU VM sizes, turned through a
 * SKU table (armSkuName -> accelerator model x GPUs per VM) into one list price and
 * one spot price per card-hour per model. It does not fetch: the scheduler follows
 * next_url (NextPageLink) up to the max_pages option and merges the pages.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapter.h"

#define AZ_MAX_SKUS 1024      /* entries of the skus option */
#define AZ_MAX_GPUS_PER_VM 64 /* the largest Azure GPU size has 8 */
#define AZ_MAX_VM_PRICE 1e6   /* per VM-hour; anything above is not a price */
#define AZ_MAX_URL 8192       /* NextPageLink */
#define AZ_MAX_PAGES 200      /* the scheduler's own ceiling (broker/feeds.c) */
#define AZ_MAX_MODELS 1024    /* entries of the models option */

/*
 * The GPU sizes built in: armSkuName -> catalog model id and GPUs per VM (Azure VM
 * size docs, cross-checked with the SkyPilot catalog). Models are catalog ids so
 * each pool is exactly one catalog row. Choices where Azure's GPU is not a catalog row:
 * - ND96asr_v4 carries A100 SXM4 40GB: the catalog's "A100" is the 80GB part, so
 *   the 40GB row "A100-PCIE-40GB" (same memory, same dense TFLOPS) is the closest;
 *   claiming 80GB would route memory-bound work to a card that cannot hold it.
 * - NC A100 v4 (A100 PCIe 80GB) -> "A100" (the catalog maps A100-PCIE-80GB there).
 * - NC H100 v5 (H100 NVL 94GB) -> "H100-PCIE", the catalog's PCIe Hopper row.
 * - NC*s_v3 / NC24rs_v3 carry V100 PCIe 16GB -> "V100-PCIE"; ND40rs_v2 V100 SXM2 32GB -> "V100".
 * T4, A10, M60 and MI25 sizes are left out: the catalog has no such rows, so they
 * would never route; an operator adds them (or any new size) with the skus option.
 */
struct az_sku {
    const char *arm;   /* armSkuName */
    const char *model; /* catalog model id */
    int count;         /* GPUs per VM */
};

static const struct az_sku builtin_skus[] = {
    {"Standard_ND96isr_H100_v5", "H100", 8},      {"Standard_ND96isr_H200_v5", "H200", 8},
    {"Standard_NC40ads_H100_v5", "H100-PCIE", 1}, {"Standard_NC80adis_H100_v5", "H100-PCIE", 2},
    {"Standard_ND96amsr_A100_v4", "A100", 8},     {"Standard_ND96asr_v4", "A100-PCIE-40GB", 8},
    {"Standard_NC24ads_A100_v4", "A100", 1},      {"Standard_NC48ads_A100_v4", "A100", 2},
    {"Standard_NC96ads_A100_v4", "A100", 4},      {"Standard_NC6s_v3", "V100-PCIE", 1},
    {"Standard_NC12s_v3", "V100-PCIE", 2},        {"Standard_NC24s_v3", "V100-PCIE", 4},
    {"Standard_NC24rs_v3", "V100-PCIE", 4},       {"Standard_ND40rs_v2", "V100", 8},
};

/* One kept item: a Linux Consumption hourly meter of a known GPU size. */
struct az_offer {
    const char *sku;    /* borrowed from the document */
    const char *region; /* borrowed from the document */
    const char *model;  /* borrowed from the SKU table or the options */
    int count;          /* GPUs per VM */
    bool spot;
    double price; /* per VM-hour */
    size_t item;  /* index in Items, the last tie-break */
};

static bool printable(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return false;
    }
    return true;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool valid_currency(const char *s)
{
    return strlen(s) == 3 && isupper((unsigned char)s[0]) && isupper((unsigned char)s[1]) &&
           isupper((unsigned char)s[2]);
}

/* A string option value: 1..maxlen printable bytes. */
static int check_name(const cJSON *v, const char *prefix, const char *key, size_t maxlen,
                      struct json_error *err)
{
    if (!cJSON_IsString(v) || !v->valuestring)
        return json_fail(err, prefix, key, "must be a string");
    size_t n = strlen(v->valuestring);
    if (n == 0 || n > maxlen || !printable(v->valuestring))
        return json_fail(err, prefix, key, "must be 1..%zu printable bytes", maxlen);
    return 0;
}

static int check_skus(const cJSON *skus, struct json_error *err)
{
    const cJSON *it;
    if (!cJSON_IsObject(skus))
        return json_fail(err, "", "skus", "must be an object of armSkuName: {model, count}");
    if (cJSON_GetArraySize(skus) > AZ_MAX_SKUS)
        return json_fail(err, "", "skus", "has more than %d entries", AZ_MAX_SKUS);
    cJSON_ArrayForEach(it, skus)
    {
        static const char *const keys[] = {"model", "count", NULL};
        const char *k = it->string ? it->string : "";
        char ptr[160];
        const char *model = NULL;
        long count = 0;
        int r;
        if (strlen(k) == 0 || strlen(k) > 128 || !printable(k))
            return json_fail(err, "/skus", k, "an armSkuName must be 1..128 printable bytes");
        json_pointer(ptr, sizeof(ptr), "/skus", k);
        if (!cJSON_IsObject(it))
            return json_fail(err, ptr, NULL, "must be an object {\"model\": ..., \"count\": ...}");
        r = json_only(it, keys, ptr, err);
        if (r == 0)
            r = json_get_string(it, "model", ptr, true,
                                sizeof(((struct pool_snapshot *)0)->model) - 1, &model, NULL, err);
        if (r == 0)
            r = json_get_long(it, "count", ptr, true, 1, AZ_MAX_GPUS_PER_VM, &count, NULL, err);
        if (r < 0)
            return r;
    }
    return 0;
}

static int check_models(const cJSON *models, struct json_error *err)
{
    const cJSON *it;
    if (!cJSON_IsObject(models))
        return json_fail(err, "", "models", "must be an object of model name: catalog model id");
    if (cJSON_GetArraySize(models) > AZ_MAX_MODELS)
        return json_fail(err, "", "models", "has more than %d entries", AZ_MAX_MODELS);
    cJSON_ArrayForEach(it, models)
    {
        const char *k = it->string ? it->string : "";
        int r;
        if (strlen(k) == 0 || strlen(k) > 63 || !printable(k))
            return json_fail(err, "/models", k, "a model name must be 1..63 printable bytes");
        r = check_name(it, "/models", k, 63, err);
        if (r < 0)
            return r;
    }
    return 0;
}

static int azure_check(const cJSON *options, struct json_error *err)
{
    const cJSON *v;
    int r;
    if (!options || cJSON_IsNull(options))
        return 0;
    if (!cJSON_IsObject(options))
        return json_fail(err, "", NULL, "options must be an object");
    v = cJSON_GetObjectItemCaseSensitive(options, "skus");
    r = v ? check_skus(v, err) : 0;
    if (r < 0)
        return r;
    v = cJSON_GetObjectItemCaseSensitive(options, "models");
    r = v ? check_models(v, err) : 0;
    if (r < 0)
        return r;
    v = cJSON_GetObjectItemCaseSensitive(options, "region");
    r = v ? check_name(v, "", "region", 64, err) : 0;
    if (r < 0)
        return r;
    v = cJSON_GetObjectItemCaseSensitive(options, "max_pages");
    if (v && (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 1 ||
              v->valuedouble > AZ_MAX_PAGES))
        return json_fail(err, "", "max_pages", "must be a whole number from 1 to %d", AZ_MAX_PAGES);
    return 0;
}

/* The model and GPUs per VM of a size: the skus option first, then the built-in table. */
static bool sku_lookup(const cJSON *skus, const char *arm, const char **ret_model, int *ret_count)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, skus)
    {
        if (it->string && strcasecmp(it->string, arm) == 0) {
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(it, "model");
            const cJSON *c = cJSON_GetObjectItemCaseSensitive(it, "count");
            *ret_model = m->valuestring;
            *ret_count = (int)c->valuedouble;
            return true;
        }
    }
    for (size_t i = 0; i < sizeof(builtin_skus) / sizeof(builtin_skus[0]); i++) {
        if (strcasecmp(builtin_skus[i].arm, arm) == 0) {
            *ret_model = builtin_skus[i].model;
            *ret_count = builtin_skus[i].count;
            return true;
        }
    }
    return false;
}

/* The operator's alias for a model name, or the name itself. */
static const char *map_model(const cJSON *models, const char *name)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, models)
    {
        if (it->string && strcasecmp(it->string, name) == 0)
            return it->valuestring;
    }
    return name;
}

/* A member that must be a string when present; *ret NULL when absent or null. */
static int item_string(const cJSON *item, const char *key, const char *prefix, const char **ret,
                       struct json_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, key);
    *ret = NULL;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v) || !v->valuestring)
        return json_fail(err, prefix, key, "must be a string");
    *ret = v->valuestring;
    return 0;
}

/*
 * Reads one item. Returns 1 and fills *ret when it is a meter this feed prices,
 * 0 when it is skipped, -EINVAL when a field it needs is malformed.
 */
static int read_item(const cJSON *item, size_t i, const cJSON *options, const char *billing,
                     struct az_offer *ret, const char **ret_currency, struct json_error *err)
{
    const cJSON *skus = cJSON_GetObjectItemCaseSensitive(options, "skus");
    const cJSON *want_region = cJSON_GetObjectItemCaseSensitive(options, "region");
    const char *type, *arm, *unit, *product, *meter, *skuname, *service, *region, *cur;
    char prefix[48];
    int r;

    snprintf(prefix, sizeof(prefix), "/Items/%zu", i);
    if (!cJSON_IsObject(item))
        return json_fail(err, prefix, NULL, "an item must be an object");
    /* Reservation prices are totals for the term; Dev/Test needs a subscription type. */
    r = item_string(item, "type", prefix, &type, err);
    if (r < 0)
        return r;
    if (!type || strcmp(type, "Consumption") != 0)
        return 0;
    r = item_string(item, "armSkuName", prefix, &arm, err);
    if (r < 0)
        return r;
    if (!arm || !sku_lookup(skus, arm, &ret->model, &ret->count))
        return 0;
    /* The filters' fields: each a string when present. */
    static const char *const keys[] = {"serviceName", "unitOfMeasure", "productName",
                                       "meterName",   "skuName",       "armRegionName"};
    const char **vals[] = {&service, &unit, &product, &meter, &skuname, &region};
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        r = item_string(item, keys[k], prefix, vals[k], err);
        if (r < 0)
            return r;
    }
    if (service && strcmp(service, "Virtual Machines") != 0)
        return 0;
    if (!unit || strcmp(unit, "1 Hour") != 0)
        return 0;
    /* Windows meters share meterName with Linux ones; only productName tells them apart. */
    if (product && ends_with(product, " Windows"))
        return 0;
    if ((meter && ends_with(meter, " Low Priority")) ||
        (skuname && ends_with(skuname, " Low Priority")))
        return 0;
    if (!region || !region[0])
        return 0;
    if (want_region && strcasecmp(region, want_region->valuestring) != 0)
        return 0;
    ret->spot = (meter && ends_with(meter, " Spot")) || (skuname && ends_with(skuname, " Spot"));
    r = json_get_number(item, "retailPrice", prefix, true, 0, AZ_MAX_VM_PRICE, &ret->price, NULL,
                        err);
    if (r < 0)
        return r;
    r = item_string(item, "currencyCode", prefix, &cur, err);
    if (r < 0)
        return r;
    if (!cur)
        cur = billing;
    if (!cur || !valid_currency(cur))
        return json_fail(err, prefix, "currencyCode",
                         cur ? "must be an ISO 4217 code such as USD"
                             : "is required (no BillingCurrency either)");
    ret->sku = arm;
    ret->region = region;
    ret->item = i;
    *ret_currency = cur;
    return 1;
}

/* Orders offers by size, region, list before spot, price: each (size, region) is one run. */
static int offer_cmp(const void *a, const void *b)
{
    const struct az_offer *x = a, *y = b;
    int c = strcasecmp(x->sku, y->sku);
    if (c == 0)
        c = strcasecmp(x->region, y->region);
    if (c == 0)
        c = (int)x->spot - (int)y->spot;
    if (c == 0)
        c = x->price < y->price ? -1 : x->price > y->price;
    if (c == 0)
        c = x->item < y->item ? -1 : x->item > y->item;
    return c;
}

static void pool_init(struct pool_snapshot *p, const char *model, const char *currency)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->model, sizeof(p->model), "%s", model);
    snprintf(p->currency, sizeof(p->currency), "%s", currency);
    p->has_price = true;
    p->spot_price = -1;
    p->memory_gib = -1;
    p->domestic = -1;
    for (int k = 0; k < PREC_COUNT; k++)
        p->tflops[k] = -1;
}

/*
 * Turns the sorted offers into pools: per (size, region) the cheapest list meter
 * and the cheapest spot meter; per model the (size, region) whose list price per
 * card-hour is lowest, its spot price with it. Ties keep the first in sort order.
 */
static int build_pools(const struct az_offer *offers, size_t n, const cJSON *models,
                       const char *currency, struct feed_snapshot *snap, struct json_error *err)
{
    for (size_t i = 0; i < n;) {
        size_t j = i;
        double list = -1, spot = -1;
        while (j < n && strcasecmp(offers[j].sku, offers[i].sku) == 0 &&
               strcasecmp(offers[j].region, offers[i].region) == 0) {
            /* Sorted by price within list and spot: the first of each is the cheapest. */
            if (!offers[j].spot && list < 0)
                list = offers[j].price;
            if (offers[j].spot && spot < 0)
                spot = offers[j].price;
            j++;
        }
        const struct az_offer *o = &offers[i];
        i = j;
        if (list < 0)
            continue; /* a spot meter alone is no list price */
        const char *model = map_model(models, o->model);
        double card = list / o->count;
        double card_spot = spot < 0 ? -1 : spot / o->count;
        struct pool_snapshot *p = NULL;
        for (size_t k = 0; k < snap->npools; k++) {
            if (strcasecmp(snap->pools[k].model, model) == 0)
                p = &snap->pools[k];
        }
        if (!p) {
            if (snap->npools >= ADAPTER_MAX_POOLS)
                return json_fail(err, "", "Items", "names more than %d models", ADAPTER_MAX_POOLS);
            p = &snap->pools[snap->npools++];
            pool_init(p, model, currency);
            p->price = card;
            p->spot_price = card_spot;
        } else if (card < p->price) {
            p->price = card;
            p->spot_price = card_spot;
        }
    }
    return 0;
}

static int read_next_link(const cJSON *doc, struct feed_snapshot *snap, struct json_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, "NextPageLink");
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v) || !v->valuestring)
        return json_fail(err, "", "NextPageLink", "must be a string or null");
    const char *s = v->valuestring;
    size_t n = strlen(s);
    if (n == 0)
        return 0;
    if (n > AZ_MAX_URL)
        return json_fail(err, "", "NextPageLink", "is longer than %d bytes", AZ_MAX_URL);
    if (strncasecmp(s, "https://", 8) != 0 && strncasecmp(s, "http://", 7) != 0)
        return json_fail(err, "", "NextPageLink", "must be an http(s) URL");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p <= 0x20 || *p >= 0x7f)
            return json_fail(err, "", "NextPageLink",
                             "must be a URL without spaces or control characters");
    }
    snap->next_url = strdup(s);
    return snap->next_url ? 0 : -ENOMEM;
}

static int azure_parse(const char *text, size_t len, const cJSON *options,
                       struct feed_snapshot *ret, struct json_error *err)
{
    struct feed_snapshot snap = {0};
    struct az_offer *offers = NULL;
    struct json_error oerr = {0};
    cJSON *doc = NULL;
    const char *billing = NULL, *currency = NULL;
    size_t noffers = 0;
    int r;

    memset(ret, 0, sizeof(*ret));
    if (azure_check(options, &oerr) < 0)
        return json_fail(err, "", NULL, "bad options: %s: %s", oerr.pointer, oerr.detail);
    r = json_parse_object(text, len, &doc, err);
    if (r < 0)
        return r;
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(doc, "Items");
    const cJSON *apierr = cJSON_GetObjectItemCaseSensitive(doc, "Error");
    if (!items && cJSON_IsObject(apierr)) {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(apierr, "Code");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(apierr, "Message");
        r = json_fail(err, "", "Error", "the API returned an error: %.64s: %.128s",
                      cJSON_IsString(code) ? code->valuestring : "?",
                      cJSON_IsString(msg) ? msg->valuestring : "?");
        goto out;
    }
    if (!cJSON_IsArray(items)) {
        r = json_fail(err, "", "Items",
                      items ? "must be an array" : "is required (a Retail Prices API page)");
        goto out;
    }
    r = item_string(doc, "BillingCurrency", "", &billing, err);
    if (r < 0)
        goto out;
    r = read_next_link(doc, &snap, err);
    if (r < 0)
        goto out;
    int n = cJSON_GetArraySize(items);
    offers = calloc(n > 0 ? (size_t)n : 1, sizeof(*offers));
    if (!offers) {
        r = -ENOMEM;
        goto out;
    }
    const cJSON *it;
    size_t i = 0;
    cJSON_ArrayForEach(it, items)
    {
        const char *cur = NULL;
        r = read_item(it, i, options, billing, &offers[noffers], &cur, err);
        if (r < 0)
            goto out;
        if (r == 1) {
            /* The API prices a whole page in one currency (the currencyCode query). */
            if (currency && strcmp(currency, cur) != 0) {
                char prefix[48];
                snprintf(prefix, sizeof(prefix), "/Items/%zu", i);
                r = json_fail(err, prefix, "currencyCode",
                              "is %s but earlier GPU prices on this page are in %s", cur, currency);
                goto out;
            }
            currency = cur;
            noffers++;
        }
        i++;
    }
    qsort(offers, noffers, sizeof(*offers), offer_cmp);
    /* At most one pool per offer, and never more than the cap. */
    snap.pools = calloc(noffers ? (noffers < ADAPTER_MAX_POOLS ? noffers : ADAPTER_MAX_POOLS) : 1,
                        sizeof(*snap.pools));
    if (!snap.pools) {
        r = -ENOMEM;
        goto out;
    }
    r = build_pools(offers, noffers, cJSON_GetObjectItemCaseSensitive(options, "models"),
                    currency ? currency : "USD", &snap, err);
    if (r < 0)
        goto out;
    *ret = snap;
    memset(&snap, 0, sizeof(snap));
    r = 0;
out:
    free(offers);
    feed_snapshot_free(&snap);
    cJSON_Delete(doc);
    return r;
}

static const struct adapter_option azure_options[] = {
    {"skus", "object", false,
     "armSkuName -> {\"model\": catalog model, \"count\": GPUs per VM}; extends or overrides "
     "the built-in GPU size table (H100, H200, A100, V100 sizes)"},
    {"region", "string", false,
     "armRegionName to price (e.g. \"eastus\"); without it each model takes its cheapest "
     "region on the page"},
    {"max_pages", "number", false,
     "most pages the scheduler follows through NextPageLink (default 20, at most 200)"},
    {"models", "object", false,
     "model name as the SKU table gives it -> catalog model id (a site's alias table)"},
    {NULL, NULL, false, NULL},
};

const struct adapter adapter_azure_retail = {
    .name = "azure-retail",
    .description = "Azure Retail Prices API pages (prices.azure.com): Linux pay-as-you-go and "
                   "spot prices of GPU VM sizes per card-hour; follows NextPageLink",
    .push = false,
    .pull = true,
    .options = azure_options,
    .parse = azure_parse,
    .check_options = azure_check,
};
