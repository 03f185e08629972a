/*
 * registry — the table of adapters built into the broker. A new feed format
 * is one file in adapters/ and one row here.
 */
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
