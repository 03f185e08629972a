/*
 * slurm — slurmrestd GET /slurm/vX/nodes documents to one capacity pool per GPU
 * model, in both shapes (told apart by meta, else by the nodes): v0.0.38 (Slurm
 * <= 22.05: "idle" + state_flags, plain ints) and data_parser v0.0.39+ (state
 * arrays, {set,infinite,number} numbers). Not partitions, jobs or CPU capacity,
 * and no hostlist expansion: every node lists its own partitions[].
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapter.h"

#define SLURM_MODEL_MAX 63             /* bytes of a model name, as pool_snapshot.model holds */
#define SLURM_NODE_TYPES 64            /* GPU GRES entries on one node */
#define SLURM_GRES_ENTRY 256           /* bytes of one GRES entry (without its "(...)") */
#define SLURM_PARTITIONS 1024          /* entries of the partitions option */
#define SLURM_PARTITION_LEN 255        /* bytes of a partition name */
#define SLURM_MAX_PRICE 1e6            /* per card-hour, as the native feed bounds it */
#define SLURM_MAX_EPOCH 253402300799.0 /* 9999-12-31T23:59:59Z in seconds */

/* The document's shape, which decides how a node's state reads. */
enum slurm_shape {
    SHAPE_UNKNOWN,
    SHAPE_V38, /* "state": "idle", "state_flags": ["DRAIN"] */
    SHAPE_V40, /* "state": ["IDLE", "DRAIN"] */
};

/* The feed's options, borrowed from the options object. */
struct slurm_options {
    const cJSON *models;       /* feed name -> model, or NULL */
    const cJSON *prices;       /* model or feed name -> price per card-hour, or NULL */
    const cJSON *partitions;   /* array of partition names to count, or NULL for all */
    const char *untyped_model; /* name of an untyped "gpu:N", or NULL */
    char currency[4];
};

/* One GPU entry of a gres / gres_used string: the type ("" when untyped) and the count. */
struct gres_item {
    char type[SLURM_MODEL_MAX + 1];
    long count;
};

/* One GPU type on one node: configured and used counts. */
struct node_gpu {
    char type[SLURM_MODEL_MAX + 1];
    long total;
    long used;
};

/* One output model on one node, after the site's alias table. */
struct node_model {
    const char *model; /* borrowed from the options or from a node_gpu */
    const char *feed;  /* the feed's name for it, for the price lookup */
    long total;
    long free;
};

/* Base states (node_state_base_string); everything else in a state list is a flag. */
static const char *const base_states[] = {
    "INVALID", "UNKNOWN", "DOWN", "IDLE", "ALLOCATED", "ERROR", "MIXED", "FUTURE", "END", NULL,
};

/*
 * Flags that leave an IDLE or MIXED node able to start new jobs. Every other
 * flag (DRAIN, FAIL, NOT_RESPONDING, POWERED_DOWN, POWERING_DOWN, RESERVED,
 * PLANNED, MAINTENANCE, INVALID_REG, REBOOT_*, BLOCKED, ...) and any flag a
 * later Slurm invents keeps the node's GPUs out of the free count: better to
 * under-report than to route a tenant to a node that cannot take the job.
 */
static const char *const harmless_flags[] = {
    "CLOUD", "COMPLETING", "DYNAMIC_NORM", "RESUME", "UNDRAIN", NULL,
};

static bool in_list(const char *s, const char *const *list)
{
    for (size_t i = 0; list[i]; i++) {
        if (strcasecmp(s, list[i]) == 0)
            return true;
    }
    return false;
}

static bool printable_ascii(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p > 0x7e)
            return false;
    }
    return true;
}

/* A model name an option may give: 1..63 bytes of printable ASCII. */
static int check_name(const cJSON *v, const char *prefix, const char *key, struct json_error *err)
{
    if (!cJSON_IsString(v) || !v->valuestring)
        return json_fail(err, prefix, key, "must be a string");
    size_t n = strlen(v->valuestring);
    if (n == 0 || n > SLURM_MODEL_MAX)
        return json_fail(err, prefix, key, "must be 1 to %d bytes long", SLURM_MODEL_MAX);
    if (!printable_ascii(v->valuestring))
        return json_fail(err, prefix, key, "must be printable ASCII");
    return 0;
}

static int check_models(const cJSON *models, struct json_error *err)
{
    if (!cJSON_IsObject(models))
        return json_fail(err, "", "models", "must be an object of feed name: model");
    const cJSON *it;
    cJSON_ArrayForEach(it, models)
    {
        const char *key = it->string ? it->string : "";
        if (key[0] == '\0' || strlen(key) > SLURM_MODEL_MAX || !printable_ascii(key))
            return json_fail(err, "/models", key, "a feed name must be 1 to %d printable bytes",
                             SLURM_MODEL_MAX);
        int r = check_name(it, "/models", key, err);
        if (r < 0)
            return r;
    }
    return 0;
}

static int check_prices(const cJSON *prices, struct json_error *err)
{
    if (!cJSON_IsObject(prices))
        return json_fail(err, "", "price_per_card_hour", "must be an object of model: price");
    const cJSON *it;
    cJSON_ArrayForEach(it, prices)
    {
        const char *key = it->string ? it->string : "";
        if (key[0] == '\0' || strlen(key) > SLURM_MODEL_MAX || !printable_ascii(key))
            return json_fail(err, "/price_per_card_hour", key,
                             "a model name must be 1 to %d printable bytes", SLURM_MODEL_MAX);
        /* The comparisons are false for NaN, which cJSON cannot produce but a caller might. */
        if (!cJSON_IsNumber(it) || !(it->valuedouble >= 0 && it->valuedouble <= SLURM_MAX_PRICE))
            return json_fail(err, "/price_per_card_hour", key,
                             "must be a price per card-hour between 0 and %g", SLURM_MAX_PRICE);
    }
    return 0;
}

static int check_partitions(const cJSON *parts, struct json_error *err)
{
    if (!cJSON_IsArray(parts))
        return json_fail(err, "", "partitions", "must be an array of partition names");
    int n = cJSON_GetArraySize(parts);
    if (n == 0)
        return json_fail(err, "", "partitions", "must name at least one partition");
    if (n > SLURM_PARTITIONS)
        return json_fail(err, "", "partitions", "has more than %d entries", SLURM_PARTITIONS);
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, parts)
    {
        char idx[16];
        snprintf(idx, sizeof(idx), "%d", i++);
        if (!cJSON_IsString(it) || !it->valuestring || it->valuestring[0] == '\0' ||
            strlen(it->valuestring) > SLURM_PARTITION_LEN || !printable_ascii(it->valuestring))
            return json_fail(err, "/partitions", idx,
                             "must be a partition name of 1 to %d printable bytes",
                             SLURM_PARTITION_LEN);
    }
    return 0;
}

/* The check_options hook; parse runs it too, so it repeats the table's type checks. */
static int slurm_check_options(const cJSON *options, struct json_error *err)
{
    const cJSON *v;
    int r;

    if (!options || cJSON_IsNull(options))
        return 0;
    if (!cJSON_IsObject(options))
        return json_fail(err, "", NULL, "options must be an object");
    v = cJSON_GetObjectItemCaseSensitive(options, "models");
    r = v ? check_models(v, err) : 0;
    if (r < 0)
        return r;
    v = cJSON_GetObjectItemCaseSensitive(options, "untyped_model");
    r = v ? check_name(v, "", "untyped_model", err) : 0;
    if (r < 0)
        return r;
    v = cJSON_GetObjectItemCaseSensitive(options, "price_per_card_hour");
    r = v ? check_prices(v, err) : 0;
    if (r < 0)
        return r;
    v = cJSON_GetObjectItemCaseSensitive(options, "currency");
    if (v) {
        const char *c = cJSON_IsString(v) ? v->valuestring : NULL;
        if (!c || strlen(c) != 3 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' ||
            c[2] < 'A' || c[2] > 'Z')
            return json_fail(err, "", "currency", "must be an ISO 4217 code such as CNY");
    }
    v = cJSON_GetObjectItemCaseSensitive(options, "partitions");
    r = v ? check_partitions(v, err) : 0;
    if (r < 0)
        return r;
    return 0;
}

static int read_options(const cJSON *options, struct slurm_options *o, struct json_error *err)
{
    struct json_error inner = {0};
    memset(o, 0, sizeof(*o));
    snprintf(o->currency, sizeof(o->currency), "CNY");
    if (slurm_check_options(options, &inner) < 0)
        return json_fail(err, "", NULL, "option %s: %s", inner.pointer, inner.detail);
    if (!options || cJSON_IsNull(options))
        return 0;
    o->models = cJSON_GetObjectItemCaseSensitive(options, "models");
    o->prices = cJSON_GetObjectItemCaseSensitive(options, "price_per_card_hour");
    o->partitions = cJSON_GetObjectItemCaseSensitive(options, "partitions");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(options, "untyped_model");
    if (v)
        o->untyped_model = v->valuestring;
    v = cJSON_GetObjectItemCaseSensitive(options, "currency");
    if (v)
        snprintf(o->currency, sizeof(o->currency), "%s", v->valuestring);
    return 0;
}

/* Copies s into buf with control and non-ASCII bytes as '?': error text goes to logs. */
static void copy_text(char *buf, size_t len, const char *s)
{
    size_t n = strlen(buf);
    for (; s && *s && n + 1 < len; s++)
        buf[n++] = (*s < 0x20 || *s > 0x7e) ? '?' : *s;
    buf[n] = '\0';
}

/*
 * The first entry of errors[] as a sentence: v0.0.38 {error, errno} or
 * {error, error_number}, v0.0.40+ {description, error_number, error, source}.
 */
static void error_text(const cJSON *e, char *buf, size_t len)
{
    buf[0] = '\0';
    if (cJSON_IsString(e)) {
        copy_text(buf, len, e->valuestring);
        return;
    }
    const cJSON *short_form = cJSON_GetObjectItemCaseSensitive(e, "error");
    const cJSON *long_form = cJSON_GetObjectItemCaseSensitive(e, "description");
    const char *a = cJSON_IsString(short_form) ? short_form->valuestring : "";
    const char *b = cJSON_IsString(long_form) ? long_form->valuestring : "";
    copy_text(buf, len, a);
    if (b[0] && strcmp(a, b) != 0) {
        if (a[0])
            copy_text(buf, len, ": ");
        copy_text(buf, len, b);
    }
    if (buf[0] == '\0')
        copy_text(buf, len, "unspecified error");
    const cJSON *num = cJSON_GetObjectItemCaseSensitive(e, "error_number");
    if (!cJSON_IsNumber(num))
        num = cJSON_GetObjectItemCaseSensitive(e, "errno");
    if (cJSON_IsNumber(num) && num->valuedouble > -1e9 && num->valuedouble < 1e9) {
        char tail[32];
        snprintf(tail, sizeof(tail), " (error %d)", (int)num->valuedouble);
        copy_text(buf, len, tail);
    }
}

/* Reads last_update (int seconds or {set,infinite,number}) as ms; 0 when unset or absent. */
static int read_last_update(const cJSON *doc, int64_t *ret_ms, struct json_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, "last_update");
    const char *key = "last_update";
    const char *prefix = "";

    *ret_ms = 0;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (cJSON_IsObject(v)) {
        const cJSON *set = cJSON_GetObjectItemCaseSensitive(v, "set");
        const cJSON *inf = cJSON_GetObjectItemCaseSensitive(v, "infinite");
        if ((set && !cJSON_IsBool(set)) || (inf && !cJSON_IsBool(inf)))
            return json_fail(err, "/last_update", set && !cJSON_IsBool(set) ? "set" : "infinite",
                             "must be true or false");
        if (cJSON_IsFalse(set) || cJSON_IsTrue(inf))
            return 0;
        v = cJSON_GetObjectItemCaseSensitive(v, "number");
        prefix = "/last_update";
        key = "number";
        if (!v)
            return json_fail(err, prefix, key, "is required when set");
    }
    if (!cJSON_IsNumber(v))
        return json_fail(err, prefix, key, "must be a UNIX time in seconds");
    double d = v->valuedouble;
    if (!(d >= 0 && d <= SLURM_MAX_EPOCH) || d != (double)(int64_t)d)
        return json_fail(err, prefix, key, "must be a whole UNIX time in seconds up to year 9999");
    *ret_ms = (int64_t)d * 1000;
    return 0;
}

/* "openapi/v0.0.38" or "data_parser/v0.0.40" -> 38 or 40; -1 when v names no version. */
static int plugin_minor(const cJSON *v)
{
    if (!cJSON_IsString(v))
        return -1;
    const char *p = strstr(v->valuestring, "v0.0.");
    if (!p)
        return -1;
    p += 5;
    if (*p < '0' || *p > '9')
        return -1;
    int n = 0;
    for (int i = 0; i < 4 && *p >= '0' && *p <= '9'; i++, p++)
        n = n * 10 + (*p - '0');
    return n;
}

/*
 * The shape from meta: data_parser/v0.0.N or openapi/v0.0.N (N >= 39 is the
 * array shape, 23.02's data_parser/v0.0.39 introduced it), else Slurm's
 * version (< 23 is the string shape), else the first node that has a state.
 */
static enum slurm_shape detect_shape(const cJSON *doc, const cJSON *nodes)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(doc, "meta");
    const cJSON *plugin = cJSON_GetObjectItemCaseSensitive(meta, "plugin");
    int minor = plugin_minor(cJSON_GetObjectItemCaseSensitive(plugin, "data_parser"));
    if (minor < 0)
        minor = plugin_minor(cJSON_GetObjectItemCaseSensitive(plugin, "type"));
    if (minor >= 0)
        return minor >= 39 ? SHAPE_V40 : SHAPE_V38;
    const cJSON *slurm = cJSON_GetObjectItemCaseSensitive(meta, "Slurm");
    if (!slurm)
        slurm = cJSON_GetObjectItemCaseSensitive(meta, "slurm");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(slurm, "version");
    const cJSON *major = cJSON_GetObjectItemCaseSensitive(ver, "major");
    long m = -1;
    if (cJSON_IsNumber(major) && major->valuedouble > 0 && major->valuedouble < 100)
        m = (long)major->valuedouble; /* in range first: converting a huge double is undefined */
    else if (cJSON_IsString(major))
        m = strtol(major->valuestring, NULL, 10);
    if (m > 0 && m < 100)
        return m < 23 ? SHAPE_V38 : SHAPE_V40;
    const cJSON *it;
    cJSON_ArrayForEach(it, nodes)
    {
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(it, "state");
        if (cJSON_IsString(st))
            return SHAPE_V38;
        if (cJSON_IsArray(st))
            return SHAPE_V40;
    }
    return SHAPE_UNKNOWN;
}

/* Folds one state word in: IDLE or MIXED sets *base_ok, anything not harmless sets *blocked. */
static void state_word(const char *w, bool *base_ok, bool *blocked)
{
    if (strcasecmp(w, "IDLE") == 0 || strcasecmp(w, "MIXED") == 0)
        *base_ok = true;
    else if (in_list(w, base_states) || !in_list(w, harmless_flags))
        *blocked = true;
}

static int string_list(const cJSON *arr, const char *prefix, const char *key, bool *base_ok,
                       bool *blocked, struct json_error *err)
{
    char ptr[128];
    int i = 0;
    json_pointer(ptr, sizeof(ptr), prefix, key);
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        char idx[16];
        snprintf(idx, sizeof(idx), "%d", i++);
        if (!cJSON_IsString(it) || !it->valuestring)
            return json_fail(err, ptr, idx, "a node state must be a string");
        state_word(it->valuestring, base_ok, blocked);
    }
    return 0;
}

/*
 * Whether the node can start new jobs: its base state is IDLE or MIXED and
 * no flag stands in the way. A node without a state cannot.
 */
static int node_schedulable(const cJSON *node, enum slurm_shape shape, const char *prefix,
                            bool *ret, struct json_error *err)
{
    bool base_ok = false, blocked = false;
    int r;

    *ret = false;
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(node, "state");
    if (!st || cJSON_IsNull(st))
        return 0;
    if (shape == SHAPE_V40) {
        if (!cJSON_IsArray(st))
            return json_fail(err, prefix, "state",
                             "must be an array of states in a data_parser v0.0.39+ document");
        r = string_list(st, prefix, "state", &base_ok, &blocked, err);
        if (r < 0)
            return r;
    } else {
        if (!cJSON_IsString(st) || !st->valuestring)
            return json_fail(err, prefix, "state", "must be a state string in a v0.0.38 document");
        state_word(st->valuestring, &base_ok, &blocked);
        const cJSON *flags = cJSON_GetObjectItemCaseSensitive(node, "state_flags");
        if (flags && !cJSON_IsNull(flags) && !cJSON_IsArray(flags))
            return json_fail(err, prefix, "state_flags", "must be an array of flags");
        r = string_list(flags, prefix, "state_flags", &base_ok, &blocked, err);
        if (r < 0)
            return r;
    }
    *ret = base_ok && !blocked;
    return 0;
}

/* A gres type: 1..63 bytes of printable ASCII without space or the grammar's punctuation. */
static bool valid_type(const char *s, size_t n)
{
    if (n == 0 || n > SLURM_MODEL_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] <= 0x20 || s[i] > 0x7e || strchr(":,()", s[i]))
            return false;
    }
    return true;
}

/*
 * Reads one entry "name[:type][:no_consume]:count" (its "(...)" already cut)
 * into *item when name is "gpu". *is_gpu false for other GRES. A missing
 * count is 1, as in slurm.conf.
 */
static int gres_entry(const char *s, size_t n, const char *prefix, const char *key,
                      struct gres_item *item, bool *is_gpu, struct json_error *err)
{
    char buf[SLURM_GRES_ENTRY];
    const char *field[8];
    size_t nfields = 0;

    *is_gpu = (n == 3 || (n > 3 && s[3] == ':')) && memcmp(s, "gpu", 3) == 0;
    if (!*is_gpu)
        return 0;
    if (n >= sizeof(buf))
        return json_fail(err, prefix, key, "a GPU GRES entry is longer than %zu bytes",
                         sizeof(buf) - 1);
    memcpy(buf, s, n);
    buf[n] = '\0';
    for (char *p = buf; p; nfields++) {
        if (nfields == sizeof(field) / sizeof(field[0]))
            return json_fail(err, prefix, key, "a GPU GRES entry has too many ':' fields");
        field[nfields] = p;
        p = strchr(p, ':');
        if (p)
            *p++ = '\0';
    }
    size_t last = nfields - 1;
    item->count = 1;
    item->type[0] = '\0';
    const char *c = field[last];
    if (last > 0 && c[0] >= '0' && c[0] <= '9') {
        size_t digits = strspn(c, "0123456789");
        if (c[digits] != '\0' || digits > 8)
            return json_fail(err, prefix, key, "GPU count '%.40s' is not a whole number", c);
        item->count = strtol(c, NULL, 10);
        if (item->count > ADAPTER_MAX_CARDS)
            return json_fail(err, prefix, key, "GPU count %ld exceeds %ld", item->count,
                             ADAPTER_MAX_CARDS);
    } else {
        last = nfields;
    }
    for (size_t i = 1; i < last; i++) {
        if (strcmp(field[i], "no_consume") == 0)
            continue;
        if (item->type[0] || !valid_type(field[i], strlen(field[i])))
            return json_fail(err, prefix, key, "GPU GRES entry '%.*s' is not name[:type]:count",
                             (int)(n < 60 ? n : 60), s);
        snprintf(item->type, sizeof(item->type), "%s", field[i]);
    }
    return 0;
}

/*
 * Parses a gres or gres_used string: a comma list of name[:type]:count[(...)]
 * where the parenthesis (S:0-1, IDX:0,2-3) may hold commas. Only GPU entries
 * are kept, at most SLURM_NODE_TYPES. null, "", "(null)" and "N/A" are none.
 */
static int gres_parse(const cJSON *v, const char *prefix, const char *key, struct gres_item *out,
                      size_t *ret_n, struct json_error *err)
{
    *ret_n = 0;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v) || !v->valuestring)
        return json_fail(err, prefix, key, "must be a GRES string such as gpu:a100:8");
    const char *s = v->valuestring;
    if (strcmp(s, "(null)") == 0 || strcmp(s, "N/A") == 0)
        return 0;
    const char *p = s;
    while (*p) {
        const char *start = p, *paren = NULL;
        int depth = 0;
        for (; *p && !(*p == ',' && depth == 0); p++) {
            if (*p == '(') {
                if (!paren)
                    paren = p;
                depth++;
            } else if (*p == ')' && --depth < 0) {
                break;
            }
        }
        if (depth != 0)
            return json_fail(err, prefix, key, "unbalanced parenthesis in GRES string");
        if (paren && p[-1] != ')')
            return json_fail(err, prefix, key, "text after ')' in a GRES entry");
        size_t n = (size_t)((paren ? paren : p) - start);
        if (*p == ',')
            p++;
        if (n == 0)
            continue;
        struct gres_item item;
        bool is_gpu = false;
        int r = gres_entry(start, n, prefix, key, &item, &is_gpu, err);
        if (r < 0)
            return r;
        if (!is_gpu)
            continue;
        if (*ret_n == SLURM_NODE_TYPES)
            return json_fail(err, prefix, key, "more than %d GPU GRES entries on one node",
                             SLURM_NODE_TYPES);
        out[(*ret_n)++] = item;
    }
    return 0;
}

/* Whether the node is in one of the wanted partitions (partitions[] or a comma string). */
static int node_in_partitions(const cJSON *node, const cJSON *wanted, const char *prefix, bool *ret,
                              struct json_error *err)
{
    *ret = wanted == NULL;
    if (!wanted)
        return 0;
    const cJSON *parts = cJSON_GetObjectItemCaseSensitive(node, "partitions");
    if (!parts || cJSON_IsNull(parts))
        return 0;
    if (cJSON_IsString(parts)) {
        const char *s = parts->valuestring;
        const cJSON *w;
        cJSON_ArrayForEach(w, wanted)
        {
            size_t wl = strlen(w->valuestring);
            for (const char *p = s; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
                if (strncmp(p, w->valuestring, wl) == 0 && (p[wl] == ',' || p[wl] == '\0'))
                    *ret = true;
            }
        }
        return 0;
    }
    if (!cJSON_IsArray(parts))
        return json_fail(err, prefix, "partitions", "must be an array of partition names");
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, parts)
    {
        char ptr[128], idx[16];
        snprintf(idx, sizeof(idx), "%d", i++);
        if (!cJSON_IsString(it) || !it->valuestring) {
            json_pointer(ptr, sizeof(ptr), prefix, "partitions");
            return json_fail(err, ptr, idx, "a partition name must be a string");
        }
        const cJSON *w;
        cJSON_ArrayForEach(w, wanted)
        {
            if (strcmp(it->valuestring, w->valuestring) == 0)
                *ret = true;
        }
    }
    return 0;
}

/* The model a feed name is reported under: the site's alias, else the name itself. */
static const char *map_model(const struct slurm_options *o, const char *name)
{
    const cJSON *m = o->models ? cJSON_GetObjectItem(o->models, name) : NULL;
    return cJSON_IsString(m) ? m->valuestring : name;
}

/* Adds a node's count for model to the snapshot's pool of that model, creating it. */
static int pool_add(struct feed_snapshot *snap, size_t *cap, const struct slurm_options *o,
                    const struct node_model *nm, const char *prefix, struct json_error *err)
{
    struct pool_snapshot *ps = NULL;
    for (size_t i = 0; i < snap->npools && !ps; i++) {
        if (strcmp(snap->pools[i].model, nm->model) == 0)
            ps = &snap->pools[i];
    }
    if (!ps) {
        if (snap->npools == ADAPTER_MAX_POOLS)
            return json_fail(err, prefix, "gres", "more than %d GPU models", ADAPTER_MAX_POOLS);
        if (snap->npools == *cap) {
            size_t ncap = *cap ? *cap * 2 : 8;
            if (ncap > ADAPTER_MAX_POOLS)
                ncap = ADAPTER_MAX_POOLS;
            struct pool_snapshot *np = realloc(snap->pools, ncap * sizeof(*np));
            if (!np)
                return -ENOMEM;
            snap->pools = np;
            *cap = ncap;
        }
        ps = &snap->pools[snap->npools++];
        memset(ps, 0, sizeof(*ps));
        snprintf(ps->model, sizeof(ps->model), "%s", nm->model);
        ps->has_counts = true;
        ps->spot_price = -1;
        snprintf(ps->currency, sizeof(ps->currency), "%s", o->currency);
        ps->memory_gib = -1;
        ps->domestic = -1;
        for (int p = 0; p < PREC_COUNT; p++)
            ps->tflops[p] = -1;
        /* A price is keyed by the model as reported, else by the feed's own name for it. */
        const cJSON *price = o->prices ? cJSON_GetObjectItem(o->prices, nm->model) : NULL;
        if (!cJSON_IsNumber(price) && o->prices)
            price = cJSON_GetObjectItem(o->prices, nm->feed);
        if (cJSON_IsNumber(price)) {
            ps->has_price = true;
            ps->price = price->valuedouble;
        }
    }
    if (ps->total > ADAPTER_MAX_CARDS - nm->total)
        return json_fail(err, prefix, "gres", "more than %ld %s cards in the cluster",
                         ADAPTER_MAX_CARDS, ps->model);
    ps->total += nm->total;
    ps->free += nm->free;
    if (nm->free > ps->largest_block)
        ps->largest_block = nm->free;
    return 0;
}

/* Charges used GPUs to the node's configured types; an untyped use spills over typed ones. */
static void charge_used(struct node_gpu *g, size_t ng, const struct gres_item *u)
{
    long left = u->count;
    for (size_t i = 0; i < ng && left > 0; i++) {
        if (strcmp(g[i].type, u->type) == 0) {
            g[i].used += left;
            return;
        }
    }
    if (u->type[0] != '\0')
        return; /* a type the node does not have configured */
    for (size_t i = 0; i < ng && left > 0; i++) {
        long room = g[i].total > g[i].used ? g[i].total - g[i].used : 0;
        long take = left < room ? left : room;
        g[i].used += take;
        left -= take;
    }
}

/*
 * One node: its configured GPUs by type (gres), minus the used ones
 * (gres_used) when it can start jobs, summed per reported model.
 */
static int add_node(struct feed_snapshot *snap, size_t *cap, const struct slurm_options *o,
                    const cJSON *node, enum slurm_shape shape, const char *prefix,
                    struct json_error *err)
{
    struct gres_item items[SLURM_NODE_TYPES];
    struct node_gpu gpus[SLURM_NODE_TYPES];
    struct node_model models[SLURM_NODE_TYPES];
    size_t nitems = 0, ngpus = 0, nmodels = 0;
    bool counted = false, schedulable = false;
    int r;

    if (!cJSON_IsObject(node))
        return json_fail(err, prefix, NULL, "a node must be an object");
    r = node_in_partitions(node, o->partitions, prefix, &counted, err);
    if (r < 0)
        return r;
    r = node_schedulable(node, shape, prefix, &schedulable, err);
    if (r < 0)
        return r;
    const cJSON *gres = cJSON_GetObjectItemCaseSensitive(node, "gres");
    r = gres_parse(gres, prefix, "gres", items, &nitems, err);
    if (r < 0)
        return r;
    for (size_t i = 0; i < nitems; i++) {
        size_t j = 0;
        while (j < ngpus && strcmp(gpus[j].type, items[i].type) != 0)
            j++;
        if (j == ngpus) {
            memset(&gpus[j], 0, sizeof(gpus[j]));
            memcpy(gpus[j].type, items[i].type, sizeof(gpus[j].type)); /* same size */
            ngpus++;
        }
        gpus[j].total += items[i].count; /* at most 64 entries of at most 1e7 each */
    }
    /* gres_used null or "" is nothing in use; absent is unknown, so nothing counts as free. */
    const cJSON *used = cJSON_GetObjectItemCaseSensitive(node, "gres_used");
    if (!used)
        schedulable = false;
    r = gres_parse(used, prefix, "gres_used", items, &nitems, err);
    if (r < 0)
        return r;
    if (!counted)
        return 0;
    for (size_t i = 0; i < nitems; i++)
        charge_used(gpus, ngpus, &items[i]);
    for (size_t i = 0; i < ngpus; i++) {
        /*
         * An untyped gpu:N is reported under untyped_model, else as "gpu", which
         * no catalog row matches: the inventory keeps it but never routes to it.
         */
        const char *feed = gpus[i].type[0]    ? gpus[i].type
                           : o->untyped_model ? o->untyped_model
                                              : "gpu";
        const char *model = map_model(o, feed);
        long free = schedulable && gpus[i].total > gpus[i].used ? gpus[i].total - gpus[i].used : 0;
        size_t j = 0;
        while (j < nmodels && strcmp(models[j].model, model) != 0)
            j++;
        if (j == nmodels)
            models[nmodels++] = (struct node_model){.model = model, .feed = feed};
        models[j].total += gpus[i].total;
        models[j].free += free;
    }
    for (size_t i = 0; i < nmodels; i++) {
        r = pool_add(snap, cap, o, &models[i], prefix, err);
        if (r < 0)
            return r;
    }
    return 0;
}

static int slurm_parse(const char *text, size_t len, const cJSON *options,
                       struct feed_snapshot *ret, struct json_error *err)
{
    struct feed_snapshot snap = {0};
    struct slurm_options o;
    cJSON *doc = NULL;
    char first_error[200] = "";
    size_t cap = 0;
    int r;

    memset(ret, 0, sizeof(*ret));
    r = read_options(options, &o, err);
    if (r < 0)
        return r;
    r = json_parse_object(text, len, &doc, err);
    if (r < 0)
        return r;
    const cJSON *errors = cJSON_GetObjectItemCaseSensitive(doc, "errors");
    if (errors && !cJSON_IsNull(errors) && !cJSON_IsArray(errors)) {
        r = json_fail(err, "", "errors", "must be an array");
        goto out;
    }
    if (cJSON_GetArraySize(errors) > 0)
        error_text(cJSON_GetArrayItem(errors, 0), first_error, sizeof(first_error));
    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(doc, "nodes");
    if (first_error[0] && (!cJSON_IsArray(nodes) || cJSON_GetArraySize(nodes) == 0)) {
        r = json_fail(err, "/errors", "0", "slurmrestd reported an error and no nodes: %s",
                      first_error);
        goto out;
    }
    if (!nodes) {
        r = json_fail(err, "", "nodes",
                      cJSON_GetObjectItemCaseSensitive(doc, "partitions")
                          ? "is required: this is a partitions document, not GET /slurm/vX/nodes"
                          : "is required: not a slurmrestd GET /slurm/vX/nodes document");
        goto out;
    }
    if (!cJSON_IsArray(nodes)) {
        r = json_fail(err, "", "nodes", "must be an array");
        goto out;
    }
    r = read_last_update(doc, &snap.observed_at_ms, err);
    if (r < 0)
        goto out;
    enum slurm_shape shape = detect_shape(doc, nodes);
    size_t i = 0;
    const cJSON *node;
    cJSON_ArrayForEach(node, nodes)
    {
        char prefix[40];
        snprintf(prefix, sizeof(prefix), "/nodes/%zu", i++);
        r = add_node(&snap, &cap, &o, node, shape, prefix, err);
        if (r < 0)
            goto out;
    }
    if (first_error[0])
        snprintf(snap.warning, sizeof(snap.warning), "slurmrestd error: %s", first_error);
    *ret = snap;
    memset(&snap, 0, sizeof(snap));
    r = 0;
out:
    feed_snapshot_free(&snap);
    cJSON_Delete(doc);
    return r;
}

static const struct adapter_option slurm_options_table[] = {
    {"models", "object", false,
     "the site's alias table: gres type (e.g. \"h100\", \"a100_80g\") -> catalog model id "
     "(e.g. \"H100\")"},
    {"untyped_model", "string", false,
     "model of untyped gpu:N GRES; without it they are reported as \"gpu\", which the catalog "
     "does not know, so they are never routed"},
    {"price_per_card_hour", "object", false,
     "list price per card-hour by model (as reported or as the gres type names it), >= 0"},
    {"currency", "string", false, "ISO 4217 code of the prices (default CNY)"},
    {"partitions", "array", false,
     "count only nodes in one of these Slurm partitions (default: every node)"},
    {NULL, NULL, false, NULL},
};

const struct adapter adapter_slurm = {
    .name = "slurm",
    .description = "slurmrestd GET /slurm/v0.0.38/nodes (Slurm 22.05) through v0.0.44 (25.11): "
                   "GPU GRES per node, free on IDLE/MIXED nodes only",
    .push = true,
    .pull = true,
    .options = slurm_options_table,
    .parse = slurm_parse,
    .check_options = slurm_check_options,
};
