/*
 * mapping — a declarative adapter: the operator's options say, with RFC 6901 JSON
 * pointers, where a vendor's JSON document keeps its array of pools and where each
 * element keeps its model, counts and prices, so a new vendor needs configuration,
 * not C code. It copies values (numbers or numeric strings) and merges elements of
 * one model; it does no arithmetic on a vendor's units and reads JSON only.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapter.h"
#include "timefmt.h"

#define MAP_MAX_POINTER 128    /* bytes of one pointer in the options */
#define MAP_MAX_TOKEN 128      /* bytes of one decoded reference token */
#define MAP_MAX_ELEMENTS 16384 /* elements of the pools array */
#define MAP_MAX_ALIASES 1024   /* entries of the models and price_per_card_hour options */
#define MAP_MAX_PRICE 1e6      /* per card-hour */
#define MAP_MAX_MEMORY 1e5     /* GiB */

enum map_field {
    F_MODEL,
    F_TOTAL,
    F_FREE,
    F_LARGEST_BLOCK,
    F_PRICE,
    F_SPOT,
    F_CURRENCY,
    F_MEMORY,
    F_COUNT
};

static const char *const field_names[] = {
    [F_MODEL] = "model",
    [F_TOTAL] = "total",
    [F_FREE] = "free",
    [F_LARGEST_BLOCK] = "largest_block",
    [F_PRICE] = "price_per_card_hour",
    [F_SPOT] = "spot_price_per_card_hour",
    [F_CURRENCY] = "currency",
    [F_MEMORY] = "memory_gib",
    [F_COUNT] = NULL,
};

/* True when p is "" or "/"-led with every "~" escaped as "~0" or "~1" (RFC 6901 §3). */
static bool pointer_valid(const char *p)
{
    if (p[0] != '\0' && p[0] != '/')
        return false;
    for (size_t i = 0; p[i]; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c == 0x7f)
            return false;
        if (c == '~' && p[i + 1] != '0' && p[i + 1] != '1')
            return false;
    }
    return true;
}

/*
 * An array index as RFC 6901 §4 allows it: "0" or digits without a leading zero,
 * below the cJSON array size limit. "-" (past the end), signs and "01" are refused.
 */
static bool array_index(const char *tok, int *ret)
{
    size_t n = strlen(tok);
    if (n == 0 || n > 9 || (n > 1 && tok[0] == '0'))
        return false;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)tok[i]))
            return false;
        v = v * 10 + (tok[i] - '0');
    }
    *ret = v;
    return true;
}

/*
 * Resolves pointer p in root (RFC 6901). Returns 0 and *ret (borrowed from root),
 * -ENOENT when a member or an index does not exist (or a scalar is stepped into),
 * or -EINVAL when p is malformed or names an array element with a token that is
 * not a canonical index (leading zero, "-", sign).
 */
static int pointer_resolve(const cJSON *root, const char *p, const cJSON **ret)
{
    const cJSON *cur = root;
    if (!pointer_valid(p))
        return -EINVAL;
    while (*p) {
        char tok[MAP_MAX_TOKEN + 1];
        size_t n = 0;
        p++; /* the "/" */
        while (*p && *p != '/') {
            char c = *p++;
            if (c == '~')
                c = *p++ == '0' ? '~' : '/'; /* pointer_valid saw a 0 or 1 here */
            if (n == MAP_MAX_TOKEN)
                return -EINVAL;
            tok[n++] = c;
        }
        tok[n] = '\0';
        if (cJSON_IsArray(cur)) {
            int idx;
            if (!array_index(tok, &idx))
                return -EINVAL;
            cur = cJSON_GetArrayItem(cur, idx);
        } else if (cJSON_IsObject(cur)) {
            cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
        } else {
            cur = NULL;
        }
        if (!cur)
            return -ENOENT;
    }
    *ret = cur;
    return 0;
}

static bool printable(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return false;
    }
    return true;
}

/* Three ASCII letters; upper-cased into ret (4 bytes). */
static bool currency_code(const char *s, char *ret)
{
    if (strlen(s) != 3)
        return false;
    for (int i = 0; i < 3; i++) {
        if (!isalpha((unsigned char)s[i]))
            return false;
        ret[i] = (char)toupper((unsigned char)s[i]);
    }
    ret[3] = '\0';
    return true;
}

static int check_pointer_option(const cJSON *v, const char *prefix, const char *key,
                                struct json_error *err)
{
    if (!cJSON_IsString(v) || !v->valuestring)
        return json_fail(err, prefix, key, "must be a JSON pointer string (RFC 6901)");
    if (strlen(v->valuestring) > MAP_MAX_POINTER)
        return json_fail(err, prefix, key, "is longer than %d bytes", MAP_MAX_POINTER);
    if (!pointer_valid(v->valuestring))
        return json_fail(err, prefix, key,
                         "must be \"\" or start with \"/\", with \"~\" written \"~0\" and "
                         "\"/\" in a key \"~1\" (RFC 6901)");
    return 0;
}

static int check_fields(const cJSON *fields, struct json_error *err)
{
    const cJSON *f[F_COUNT] = {0};
    int r;
    if (!cJSON_IsObject(fields))
        return json_fail(err, "", "fields", "must be an object of pool field: JSON pointer");
    r = json_only(fields, field_names, "/fields", err);
    if (r < 0) {
        snprintf(err->detail, sizeof(err->detail),
                 "is not a pool field (model, total, free, largest_block, price_per_card_hour, "
                 "spot_price_per_card_hour, currency, memory_gib) or appears twice");
        return r;
    }
    for (int k = 0; k < F_COUNT; k++) {
        f[k] = cJSON_GetObjectItemCaseSensitive(fields, field_names[k]);
        r = f[k] ? check_pointer_option(f[k], "/fields", field_names[k], err) : 0;
        if (r < 0)
            return r;
    }
    if (!f[F_MODEL])
        return json_fail(err, "/fields", "model", "is required: where each pool names its model");
    if ((f[F_TOTAL] != NULL) != (f[F_FREE] != NULL))
        return json_fail(err, "/fields", f[F_TOTAL] ? "free" : "total",
                         "is required with %s: counts need total and free",
                         f[F_TOTAL] ? "total" : "free");
    if (!f[F_TOTAL] && !f[F_PRICE])
        return json_fail(err, "", "fields",
                         "must map total and free, or price_per_card_hour (or both)");
    if (f[F_LARGEST_BLOCK] && !f[F_TOTAL])
        return json_fail(err, "/fields", "largest_block", "needs total and free mapped too");
    if (f[F_SPOT] && !f[F_PRICE])
        return json_fail(err, "/fields", "spot_price_per_card_hour",
                         "needs price_per_card_hour mapped too");
    return 0;
}

static int check_aliases(const cJSON *map, const char *name, bool numbers, struct json_error *err)
{
    char ptr[32];
    const cJSON *it;
    if (!cJSON_IsObject(map))
        return json_fail(err, "", name, "must be an object keyed by model name");
    if (cJSON_GetArraySize(map) > MAP_MAX_ALIASES)
        return json_fail(err, "", name, "has more than %d entries", MAP_MAX_ALIASES);
    json_pointer(ptr, sizeof(ptr), "", name);
    cJSON_ArrayForEach(it, map)
    {
        const char *k = it->string ? it->string : "";
        if (strlen(k) == 0 || strlen(k) > 63 || !printable(k))
            return json_fail(err, ptr, k, "a model name must be 1..63 printable bytes");
        if (numbers && (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || it->valuedouble < 0 ||
                        it->valuedouble > MAP_MAX_PRICE))
            return json_fail(err, ptr, k, "must be a price per card-hour from 0 to %g",
                             MAP_MAX_PRICE);
        if (!numbers && (!cJSON_IsString(it) || strlen(it->valuestring) == 0 ||
                         strlen(it->valuestring) > 63 || !printable(it->valuestring)))
            return json_fail(err, ptr, k, "must be a catalog model id of 1..63 printable bytes");
    }
    return 0;
}

static int mapping_check(const cJSON *options, struct json_error *err)
{
    const cJSON *v;
    int r;
    char code[4];
    if (!cJSON_IsObject(options))
        return json_fail(err, "", NULL,
                         "the mapping adapter needs options with pools and fields pointers");
    v = cJSON_GetObjectItemCaseSensitive(options, "pools");
    if (!v)
        return json_fail(err, "", "pools", "is required: the pointer to the array of pools");
    r = check_pointer_option(v, "", "pools", err);
    if (r < 0)
        return r;
    v = cJSON_GetObjectItemCaseSensitive(options, "fields");
    if (!v)
        return json_fail(err, "", "fields", "is required: pool field -> pointer in each element");
    r = check_fields(v, err);
    if (r < 0)
        return r;
    v = cJSON_GetObjectItemCaseSensitive(options, "observed_at");
    r = v ? check_pointer_option(v, "", "observed_at", err) : 0;
    if (r < 0)
        return r;
    v = cJSON_GetObjectItemCaseSensitive(options, "currency");
    if (v && (!cJSON_IsString(v) || !currency_code(v->valuestring, code) ||
              strcmp(code, v->valuestring) != 0))
        return json_fail(err, "", "currency", "must be an ISO 4217 code such as CNY");
    v = cJSON_GetObjectItemCaseSensitive(options, "models");
    r = v ? check_aliases(v, "models", false, err) : 0;
    if (r < 0)
        return r;
    v = cJSON_GetObjectItemCaseSensitive(options, "price_per_card_hour");
    r = v ? check_aliases(v, "price_per_card_hour", true, err) : 0;
    if (r < 0)
        return r;
    return 0;
}

/* Reads what a mapping states about one element. */
struct map_values {
    const char *model; /* borrowed from the document */
    bool has[F_COUNT]; /* the pointer resolved to a value (null counts as absent) */
    double num[F_COUNT];
    char currency[4];
};

/*
 * Resolves field k of an element. Returns 0 with *ret NULL when absent or null,
 * or -EINVAL naming base + the field's pointer when the pointer cannot apply.
 */
static int element_value(const cJSON *elem, const cJSON *fields, enum map_field k, const char *base,
                         const cJSON **ret, char *at, size_t atlen, struct json_error *err)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(fields, field_names[k]);
    *ret = NULL;
    if (!f)
        return 0;
    snprintf(at, atlen, "%s%s", base, f->valuestring);
    int r = pointer_resolve(elem, f->valuestring, ret);
    if (r == -ENOENT || (r == 0 && cJSON_IsNull(*ret))) {
        *ret = NULL;
        return 0;
    }
    if (r < 0)
        return json_fail(err, at, NULL,
                         "the %s pointer steps into an array with a token that is not an "
                         "index (RFC 6901: digits, no leading zero)",
                         field_names[k]);
    return 0;
}

/* A JSON number or a numeric string ("8", " 3.5 "); false for anything else. */
static bool value_number(const cJSON *v, double *ret)
{
    if (cJSON_IsNumber(v)) {
        *ret = v->valuedouble;
        return isfinite(*ret);
    }
    if (!cJSON_IsString(v) || !v->valuestring)
        return false;
    const char *s = v->valuestring;
    char tmp[64];
    while (*s == ' ')
        s++;
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == ' ')
        n--;
    if (n == 0 || n >= sizeof(tmp))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]) && s[i] != '.' && s[i] != 'e' && s[i] != 'E' &&
            s[i] != '+' && s[i] != '-')
            return false;
    }
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end = NULL;
    double d = strtod(tmp, &end);
    if (end != tmp + n || !isfinite(d))
        return false;
    *ret = d;
    return true;
}

static int read_element(const cJSON *elem, const cJSON *fields, const char *base,
                        struct map_values *mv, struct json_error *err)
{
    char at[sizeof(err->pointer)];
    const cJSON *v;
    int r;

    memset(mv, 0, sizeof(*mv));
    r = element_value(elem, fields, F_MODEL, base, &v, at, sizeof(at), err);
    if (r < 0)
        return r;
    if (!v)
        return json_fail(err, at, NULL, "the pool's model is missing");
    if (!cJSON_IsString(v) || !v->valuestring || !v->valuestring[0] ||
        strlen(v->valuestring) > 63 || !printable(v->valuestring))
        return json_fail(err, at, NULL, "the model must be a string of 1..63 printable bytes");
    mv->model = v->valuestring;
    for (int k = F_TOTAL; k < F_COUNT; k++) {
        r = element_value(elem, fields, k, base, &v, at, sizeof(at), err);
        if (r < 0)
            return r;
        if (!v)
            continue;
        if (k == F_CURRENCY) {
            if (!cJSON_IsString(v) || !currency_code(v->valuestring, mv->currency))
                return json_fail(err, at, NULL, "must be an ISO 4217 code such as CNY");
            mv->has[k] = true;
            continue;
        }
        double d;
        if (!value_number(v, &d))
            return json_fail(err, at, NULL, "%s must be a number or a numeric string",
                             field_names[k]);
        bool count = k == F_TOTAL || k == F_FREE || k == F_LARGEST_BLOCK;
        double max = count           ? (double)ADAPTER_MAX_CARDS
                     : k == F_MEMORY ? MAP_MAX_MEMORY
                                     : MAP_MAX_PRICE;
        if (d < 0 || d > max)
            return json_fail(err, at, NULL, "%s %g is out of range (0 to %g)", field_names[k], d,
                             max);
        if (count && d != floor(d))
            return json_fail(err, at, NULL, "%s must be a whole number of cards", field_names[k]);
        mv->has[k] = true;
        mv->num[k] = d;
    }
    /* Checks across fields name the later one. */
    if (mv->has[F_TOTAL] && mv->has[F_FREE] && mv->num[F_FREE] > mv->num[F_TOTAL]) {
        element_value(elem, fields, F_FREE, base, &v, at, sizeof(at), err);
        return json_fail(err, at, NULL, "free (%.0f) exceeds total (%.0f)", mv->num[F_FREE],
                         mv->num[F_TOTAL]);
    }
    if (mv->has[F_LARGEST_BLOCK] && mv->has[F_FREE] && mv->num[F_LARGEST_BLOCK] > mv->num[F_FREE]) {
        element_value(elem, fields, F_LARGEST_BLOCK, base, &v, at, sizeof(at), err);
        return json_fail(err, at, NULL, "largest_block (%.0f) exceeds free (%.0f)",
                         mv->num[F_LARGEST_BLOCK], mv->num[F_FREE]);
    }
    return 0;
}

static const cJSON *alias_find(const cJSON *map, const char *name)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, map)
    {
        if (it->string && strcasecmp(it->string, name) == 0)
            return it;
    }
    return NULL;
}

static struct pool_snapshot *pool_get(struct feed_snapshot *snap, const char *model,
                                      struct json_error *err, int *ret_r)
{
    for (size_t k = 0; k < snap->npools; k++) {
        if (strcasecmp(snap->pools[k].model, model) == 0)
            return &snap->pools[k];
    }
    if (snap->npools == ADAPTER_MAX_POOLS) {
        *ret_r =
            json_fail(err, "", NULL, "the document names more than %d models", ADAPTER_MAX_POOLS);
        return NULL;
    }
    struct pool_snapshot *p = &snap->pools[snap->npools++];
    memset(p, 0, sizeof(*p));
    snprintf(p->model, sizeof(p->model), "%s", model);
    p->spot_price = -1;
    p->memory_gib = -1;
    p->domestic = -1;
    for (int k = 0; k < PREC_COUNT; k++)
        p->tflops[k] = -1;
    return p;
}

static bool fields_have_counts(const cJSON *fields)
{
    return cJSON_GetObjectItemCaseSensitive(fields, "total") != NULL;
}

/*
 * Folds one element into its model's pool. Elements of one model (a vendor's
 * per-zone rows) add up: counts are summed, largest_block is the largest, the
 * price is the lowest stated (its spot price with it) and must share a currency.
 */
static int merge(struct feed_snapshot *snap, const struct map_values *mv, const char *model,
                 const char *currency, const char *base, const cJSON *fields,
                 struct json_error *err)
{
    int r = 0;
    struct pool_snapshot *p = pool_get(snap, model, err, &r);
    if (!p)
        return r;
    if (!(mv->has[F_TOTAL] && mv->has[F_FREE]) && fields_have_counts(fields) && !snap->warning[0])
        snprintf(snap->warning, sizeof(snap->warning),
                 "%.180s: an element without total or free; its cards are not counted", base);
    if (mv->has[F_TOTAL] && mv->has[F_FREE]) {
        long total = (long)mv->num[F_TOTAL], free_ = (long)mv->num[F_FREE];
        long block = mv->has[F_LARGEST_BLOCK] ? (long)mv->num[F_LARGEST_BLOCK] : free_;
        if (!p->has_counts) {
            p->has_counts = true;
            p->total = total;
            p->free = free_;
            p->largest_block = block;
        } else {
            if (p->total + total > ADAPTER_MAX_CARDS)
                return json_fail(err, base, NULL, "the %s pools add up to more than %ld cards",
                                 model, ADAPTER_MAX_CARDS);
            p->total += total;
            p->free += free_;
            if (block > p->largest_block)
                p->largest_block = block;
        }
    }
    if (mv->has[F_PRICE]) {
        const char *cur = mv->has[F_CURRENCY] ? mv->currency : currency;
        if (p->has_price && strcmp(p->currency, cur) != 0) {
            const cJSON *f = cJSON_GetObjectItemCaseSensitive(fields, "currency");
            char at[sizeof(err->pointer)];
            snprintf(at, sizeof(at), "%s%s", base, f ? f->valuestring : "");
            return json_fail(err, at, NULL, "%s is priced in %s here and in %s before", model, cur,
                             p->currency);
        }
        if (!p->has_price || mv->num[F_PRICE] < p->price) {
            p->has_price = true;
            p->price = mv->num[F_PRICE];
            p->spot_price = mv->has[F_SPOT] ? mv->num[F_SPOT] : -1;
            snprintf(p->currency, sizeof(p->currency), "%s", cur);
        }
    }
    if (mv->has[F_MEMORY] && p->memory_gib < 0)
        p->memory_gib = mv->num[F_MEMORY];
    return 0;
}

static int read_observed_at(const cJSON *doc, const char *ptr, int64_t *ret, struct json_error *err)
{
    const cJSON *v = NULL;
    int r = pointer_resolve(doc, ptr, &v);
    if (r == -ENOENT || (r == 0 && cJSON_IsNull(v)))
        return 0; /* not stated */
    if (r < 0)
        return json_fail(err, ptr, NULL, "the observed_at pointer does not apply here");
    double secs;
    if (cJSON_IsString(v) && timefmt_parse(v->valuestring, ret) == 0)
        return 0;
    if (value_number(v, &secs) && secs >= 0 && secs < 253402300800.0) {
        *ret = (int64_t)llround(secs * 1000);
        return 0;
    }
    return json_fail(err, ptr, NULL, "observed_at must be an RFC 3339 timestamp or Unix seconds");
}

/*
 * Parses an object or an array document with json.c's strict checks (UTF-8,
 * \u0000, trailing data). An array is parsed inside {"": ...}; when that fails the
 * bare text is parsed again so the error's byte offset is the document's own.
 * *ret_doc is what to free, *ret_root the document's top value.
 */
static int parse_document(const char *text, size_t len, cJSON **ret_doc, const cJSON **ret_root,
                          struct json_error *err)
{
    size_t i = 0;
    while (text && i < len &&
           (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
        i++;
    if (!text || i == len || text[i] != '[') {
        int r = json_parse_object(text, len, ret_doc, err);
        *ret_root = *ret_doc;
        return r;
    }
    if (len > SIZE_MAX - 8)
        return -ENOMEM;
    char *wrapped = malloc(len + 5);
    if (!wrapped)
        return -ENOMEM;
    memcpy(wrapped, "{\"\":", 4);
    memcpy(wrapped + 4, text, len);
    wrapped[len + 4] = '}';
    int r = json_parse_object(wrapped, len + 5, ret_doc, err);
    free(wrapped);
    if (r == -EINVAL) {
        r = json_parse_object(text, len, ret_doc, err);
        if (r == 0) { /* cannot happen: the bare text starts with "[" */
            cJSON_Delete(*ret_doc);
            *ret_doc = NULL;
            r = json_fail(err, "", NULL, "malformed JSON");
        }
    }
    if (r < 0)
        return r;
    *ret_root = (*ret_doc)->child;
    return 0;
}

static int mapping_parse(const char *text, size_t len, const cJSON *options,
                         struct feed_snapshot *ret, struct json_error *err)
{
    struct feed_snapshot snap = {0};
    struct json_error oerr = {0};
    cJSON *doc = NULL;
    const cJSON *root = NULL;
    int r;

    memset(ret, 0, sizeof(*ret));
    if (mapping_check(options, &oerr) < 0)
        return json_fail(err, "", NULL, "bad options: %s: %s", oerr.pointer, oerr.detail);
    const char *pools_ptr = cJSON_GetObjectItemCaseSensitive(options, "pools")->valuestring;
    const cJSON *fields = cJSON_GetObjectItemCaseSensitive(options, "fields");
    const cJSON *obs = cJSON_GetObjectItemCaseSensitive(options, "observed_at");
    const cJSON *cur = cJSON_GetObjectItemCaseSensitive(options, "currency");
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(options, "models");
    const cJSON *prices = cJSON_GetObjectItemCaseSensitive(options, "price_per_card_hour");
    const char *currency = cur ? cur->valuestring : "CNY";

    r = parse_document(text, len, &doc, &root, err);
    if (r < 0)
        return r;
    r = obs ? read_observed_at(root, obs->valuestring, &snap.observed_at_ms, err) : 0;
    if (r < 0)
        goto out;
    const cJSON *arr = NULL;
    r = pointer_resolve(root, pools_ptr, &arr);
    if (r < 0 || !cJSON_IsArray(arr)) {
        r = json_fail(err, pools_ptr, NULL,
                      r == -ENOENT ? "the pools pointer finds nothing in this document"
                      : r < 0      ? "the pools pointer does not apply to this document"
                                   : "must be an array of pools");
        goto out;
    }
    int n = cJSON_GetArraySize(arr);
    if (n > MAP_MAX_ELEMENTS) {
        r = json_fail(err, pools_ptr, NULL, "has more than %d elements", MAP_MAX_ELEMENTS);
        goto out;
    }
    size_t cap = n < ADAPTER_MAX_POOLS ? (size_t)n : ADAPTER_MAX_POOLS;
    snap.pools = calloc(cap ? cap : 1, sizeof(*snap.pools));
    if (!snap.pools) {
        r = -ENOMEM;
        goto out;
    }
    const cJSON *elem;
    size_t i = 0;
    cJSON_ArrayForEach(elem, arr)
    {
        struct map_values mv;
        char base[sizeof(err->pointer)];
        snprintf(base, sizeof(base), "%s/%zu", pools_ptr, i++);
        r = read_element(elem, fields, base, &mv, err);
        if (r < 0)
            goto out;
        const cJSON *alias = alias_find(models, mv.model);
        const char *model = alias ? alias->valuestring : mv.model;
        r = merge(&snap, &mv, model, currency, base, fields, err);
        if (r < 0)
            goto out;
    }
    /* Operator prices fill in models the document does not price. */
    size_t kept = 0;
    for (size_t k = 0; k < snap.npools; k++) {
        struct pool_snapshot *p = &snap.pools[k];
        const cJSON *price = alias_find(prices, p->model);
        const cJSON *it;
        cJSON_ArrayForEach(it, models)
        {
            /* Also keyed by the vendor's name for a model the models option renamed. */
            if (!price && it->string && strcasecmp(it->valuestring, p->model) == 0)
                price = alias_find(prices, it->string);
        }
        if (!p->has_price && price) {
            p->has_price = true;
            p->price = price->valuedouble;
            p->spot_price = -1;
            snprintf(p->currency, sizeof(p->currency), "%s", currency);
        }
        /* A model with neither counts nor a price says nothing the broker can use. */
        if (p->has_counts || p->has_price)
            snap.pools[kept++] = *p;
    }
    snap.npools = kept;
    *ret = snap;
    memset(&snap, 0, sizeof(snap));
    r = 0;
out:
    feed_snapshot_free(&snap);
    cJSON_Delete(doc);
    return r;
}

static const struct adapter_option mapping_options[] = {
    {"pools", "string", true,
     "JSON pointer (RFC 6901) to the array of pool elements, e.g. \"/data/gpus\"; \"\" for "
     "the root"},
    {"fields", "object", true,
     "pool field -> JSON pointer inside each element: model (required), total, free, "
     "largest_block, price_per_card_hour, spot_price_per_card_hour, currency, memory_gib; "
     "total and free, or price_per_card_hour, must be mapped"},
    {"observed_at", "string", false,
     "JSON pointer to the document's time: an RFC 3339 string or Unix seconds"},
    {"currency", "string", false,
     "ISO 4217 code of prices whose element states none (default CNY)"},
    {"models", "object", false,
     "the vendor's model name -> catalog model id (a site's alias table)"},
    {"price_per_card_hour", "object", false,
     "model name -> price per card-hour in currency, for models the document does not price"},
    {NULL, NULL, false, NULL},
};

const struct adapter adapter_mapping = {
    .name = "mapping",
    .description = "any JSON document, read through operator-supplied JSON pointers to pool "
                   "fields (a new vendor without C code)",
    .push = true,
    .pull = true,
    .options = mapping_options,
    .parse = mapping_parse,
    .check_options = mapping_check,
};
