/*
 * registry — the table of adapters built into the broker. A new feed format
 * is one file in adapters/ and one row here.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

const struct adapter *const adapter_registry[] = {
    &adapter_native,       &adapter_slurm,        &adapter_kubernetes, &adapter_prometheus,
    &adapter_azure_retail, &adapter_skypilot_csv, &adapter_mapping,    NULL,
};

const struct adapter *adapter_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; adapter_registry[i]; i++) {
        if (strcmp(adapter_registry[i]->name, name) == 0)
            return adapter_registry[i];
    }
    return NULL;
}

void feed_snapshot_free(struct feed_snapshot *s)
{
    if (!s)
        return;
    free(s->pools);
    free(s->next_url);
    memset(s, 0, sizeof(*s));
}

static bool type_ok(const cJSON *v, const char *type)
{
    if (strcmp(type, "string") == 0)
        return cJSON_IsString(v);
    if (strcmp(type, "number") == 0)
        return cJSON_IsNumber(v);
    if (strcmp(type, "boolean") == 0)
        return cJSON_IsBool(v);
    if (strcmp(type, "object") == 0)
        return cJSON_IsObject(v);
    if (strcmp(type, "array") == 0)
        return cJSON_IsArray(v);
    return false;
}

int adapter_check_options(const struct adapter *a, const cJSON *options, const char *prefix,
                          struct json_error *err)
{
    if (options && !cJSON_IsNull(options) && !cJSON_IsObject(options))
        return json_fail(err, prefix, NULL, "options must be an object");
    const cJSON *it;
    cJSON_ArrayForEach(it, options)
    {
        const struct adapter_option *o = a->options;
        while (o->name && strcmp(o->name, it->string ? it->string : "") != 0)
            o++;
        if (!o->name)
            return json_fail(err, prefix, it->string ? it->string : "",
                             "unknown option for the %s adapter (see GET /v1/adapters)", a->name);
        if (!type_ok(it, o->type))
            return json_fail(err, prefix, o->name, "must be of type %s", o->type);
    }
    for (const struct adapter_option *o = a->options; o->name; o++) {
        if (o->required && !cJSON_GetObjectItemCaseSensitive(options, o->name))
            return json_fail(err, prefix, o->name, "is required by the %s adapter", a->name);
    }
    if (!a->check_options)
        return 0;
    struct json_error inner = {0};
    int r = a->check_options(options, &inner);
    if (r < 0) {
        char ptr[sizeof(err->pointer)];
        snprintf(ptr, sizeof(ptr), "%s%s", prefix, inner.pointer);
        snprintf(err->pointer, sizeof(err->pointer), "%s", ptr);
        snprintf(err->detail, sizeof(err->detail), "%s", inner.detail);
    }
    return r;
}

int adapter_check_models(const cJSON *options, struct json_error *err)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(options, "models");
    const cJSON *it;
    if (!m)
        return 0;
    if (!cJSON_IsObject(m))
        return json_fail(err, "", "models", "must be an object of feed name: model");
    cJSON_ArrayForEach(it, m)
    {
        const char *k = it->string ? it->string : "";
        if (!k[0])
            return json_fail(err, "/models", k, "an empty name cannot be mapped");
        if (!cJSON_IsString(it) || !it->valuestring || !it->valuestring[0])
            return json_fail(err, "/models", k, "must be a model name (a non-empty string)");
        if (strlen(it->valuestring) > 63)
            return json_fail(err, "/models", k, "is longer than 63 bytes");
        for (const char *p = it->valuestring; *p; p++) {
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                return json_fail(err, "/models", k, "contains control characters");
        }
    }
    return 0;
}

int adapter_check_prices(const cJSON *options, struct json_error *err)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(options, "price_per_card_hour");
    const cJSON *it;
    if (!m)
        return 0;
    if (!cJSON_IsObject(m))
        return json_fail(err, "", "price_per_card_hour", "must be an object of model: price");
    cJSON_ArrayForEach(it, m)
    {
        const char *k = it->string ? it->string : "";
        if (!k[0])
            return json_fail(err, "/price_per_card_hour", k, "an empty model name has no price");
        if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || it->valuedouble < 0 ||
            it->valuedouble > ADAPTER_MAX_PRICE)
            return json_fail(err, "/price_per_card_hour", k,
                             "must be a price per card-hour from 0 to %g", ADAPTER_MAX_PRICE);
    }
    return 0;
}

int adapter_check_currency(const cJSON *options, struct json_error *err)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(options, "currency");
    if (!c)
        return 0;
    const char *s = cJSON_IsString(c) ? c->valuestring : NULL;
    if (!s || strlen(s) != 3 || !isupper((unsigned char)s[0]) || !isupper((unsigned char)s[1]) ||
        !isupper((unsigned char)s[2]))
        return json_fail(err, "", "currency", "must be an ISO 4217 code such as CNY");
    return 0;
}

/* Lower-case letters and digits only. */
static void name_key(const char *in, char *out, size_t outlen)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 1 < outlen; p++) {
        if (isalnum(*p))
            out[o++] = (char)tolower(*p);
    }
    out[o] = '\0';
}

const cJSON *adapter_map_find(const cJSON *map, const char *name)
{
    char want[256], got[256];
    const cJSON *it;
    if (!cJSON_IsObject(map) || !name)
        return NULL;
    cJSON_ArrayForEach(it, map)
    {
        if (it->string && strcmp(it->string, name) == 0)
            return it;
    }
    name_key(name, want, sizeof(want));
    if (!want[0])
        return NULL;
    cJSON_ArrayForEach(it, map)
    {
        if (!it->string)
            continue;
        name_key(it->string, got, sizeof(got));
        if (strcmp(got, want) == 0)
            return it;
    }
    return NULL;
}
