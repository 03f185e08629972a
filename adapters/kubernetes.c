/*
 * kubernetes — capacity from Kubernetes Node objects: a NodeList (or kubectl's
 * "List"), one Node, or {"nodes": NodeList, "pods": PodList} when the feed also
 * fetches pods. Accelerator extended resources (nvidia.com/gpu, amd.com/gpu,
 * huawei.com/Ascend*, and names the operator maps) become pools per model; pods'
 * requests give the free cards. Not a client: no watch, no paging, no clock.
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

#define KUBE_MAX_NODES 50000L  /* ten times the largest cluster Kubernetes supports */
#define KUBE_MAX_PODS 1500000L /* ten times its pod limit */
#define KUBE_MAX_NODE_RES 32   /* accelerator resources on one node */
#define KUBE_MAX_IGNORE_TAINTS 64
#define KUBE_MAX_REPLICAS 1000000L
#define QUANTITY_MAX_LEN 64

struct kube_opts {
    const cJSON *models;        /* borrowed; an object of name: model, or NULL */
    const cJSON *prices;        /* borrowed; an object of model: price, or NULL */
    const cJSON *ignore_taints; /* borrowed; an array of taint keys, or NULL */
    char currency[4];
};

/* One accelerator resource of one node. */
struct kube_res {
    const char *resource; /* borrowed from the document */
    char feed_name[64];   /* the model as the node names it, before the models option */
    char model[64];       /* after the models option */
    long alloc;           /* allocatable, in the resource's units (replicas when shared) */
    long replicas;        /* >= 1: time-slicing / MPS replicas per physical card */
    long used;            /* summed effective requests of the node's live pods */
};

struct kube_node {
    const char *name;    /* borrowed; NULL when the node has none */
    size_t item;         /* index in the node list, for error pointers */
    bool schedulable;    /* not cordoned, no blocking taint, Ready */
    size_t first, count; /* its entries in kube_parse.res */
};

struct kube_parse {
    struct kube_opts opts;
    struct kube_node *nodes; /* owned */
    size_t nnodes;
    struct kube_node **byname; /* owned; nodes with a name, sorted by it */
    size_t nbyname;
    struct kube_res *res; /* owned */
    size_t nres, capres;
    bool have_pods;
    char warning[256];
};

/* ---- small helpers ---- */

/* Copies s into an error detail, printable ASCII only, at most 40 bytes. */
static const char *shown(const char *s, char *buf, size_t len)
{
    size_t o = 0;
    for (; s && *s && o + 1 < len && o < 40; s++)
        buf[o++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
    buf[o] = '\0';
    return buf;
}

static void warn(struct kube_parse *kp, const char *msg)
{
    if (!kp->warning[0])
        snprintf(kp->warning, sizeof(kp->warning), "%s", msg);
}

/* ---- quantities ---- */

/*
 * A Kubernetes resource quantity (k8s.io/apimachinery resource.Quantity) as a
 * count of cards: an optional sign, digits with an optional fraction, then at
 * most one suffix — binary SI (Ki Mi Gi Ti Pi Ei), decimal SI (n u m "" k M G
 * T P E) or a decimal exponent (e3, E-2, e+1). The value is computed exactly
 * and must be whole, >= 0 and <= max. Returns 0, or -EINVAL with *why.
 */
static int quantity_count(const char *s, long max, long *ret, const char **why)
{
    char digits[QUANTITY_MAX_LEN + 1];
    size_t nd = 0, frac = 0, i = 0;
    bool neg = false, any = false, dot = false;
    long e10 = 0, e2 = 0;

    *why = "is not a Kubernetes quantity";
    size_t n = strnlen(s, QUANTITY_MAX_LEN + 1);
    if (n == 0 || n > QUANTITY_MAX_LEN)
        return -EINVAL;
    if (s[i] == '+' || s[i] == '-')
        neg = s[i++] == '-';
    for (; s[i]; i++) {
        if (isdigit((unsigned char)s[i])) {
            any = true;
            digits[nd++] = s[i];
            if (dot)
                frac++;
        } else if (s[i] == '.' && !dot) {
            dot = true;
        } else {
            break;
        }
    }
    if (!any)
        return -EINVAL;
    const char *suf = s + i;
    static const struct {
        const char *name;
        int e10, e2;
    } suffixes[] = {{"", 0, 0},    {"n", -9, 0},  {"u", -6, 0},  {"m", -3, 0},
                    {"k", 3, 0},   {"M", 6, 0},   {"G", 9, 0},   {"T", 12, 0},
                    {"P", 15, 0},  {"E", 18, 0},  {"Ki", 0, 10}, {"Mi", 0, 20},
                    {"Gi", 0, 30}, {"Ti", 0, 40}, {"Pi", 0, 50}, {"Ei", 0, 60}};
    bool matched = false;
    for (size_t k = 0; k < sizeof(suffixes) / sizeof(suffixes[0]); k++) {
        if (strcmp(suf, suffixes[k].name) == 0) {
            e10 = suffixes[k].e10;
            e2 = suffixes[k].e2;
            matched = true;
            break;
        }
    }
    if (!matched && (suf[0] == 'e' || suf[0] == 'E')) {
        const char *p = suf + 1;
        bool eneg = false;
        if (*p == '+' || *p == '-')
            eneg = *p++ == '-';
        if (!isdigit((unsigned char)*p))
            return -EINVAL;
        long e = 0;
        for (; isdigit((unsigned char)*p); p++) {
            if (e < 100000)
                e = e * 10 + (*p - '0');
        }
        if (*p)
            return -EINVAL;
        e10 = eneg ? -e : e;
        matched = true;
    }
    if (!matched)
        return -EINVAL;

    /* value = digits * 10^(e10 - frac) * 2^e2, with digits stripped of zeros at both ends. */
    size_t lo = 0;
    while (lo < nd && digits[lo] == '0')
        lo++;
    while (nd > lo && digits[nd - 1] == '0') {
        nd--;
        e10++;
    }
    e10 -= (long)frac;
    if (lo == nd) {
        *ret = 0;
        return 0;
    }
    if (neg) {
        *why = "is negative";
        return -EINVAL;
    }
    *why = "is not a whole number";
    if (nd - lo > 18)
        return -EINVAL; /* >= 10^18 cards, or a fraction: neither is a count */
    uint64_t v = 0;
    for (size_t k = lo; k < nd; k++)
        v = v * 10 + (uint64_t)(digits[k] - '0');
    if (e10 < 0) {
        /* 10^-k = 5^-k * 2^-k: the 5s must divide v, the 2s cancel against the binary suffix. */
        if (e10 < -27)
            return -EINVAL;
        for (long k = 0; k < -e10; k++) {
            if (v % 5 != 0)
                return -EINVAL;
            v /= 5;
        }
        e2 += e10;
        e10 = 0;
    }
    if (e2 < 0) {
        if (e2 < -60 || (v & ((UINT64_C(1) << -e2) - 1)) != 0)
            return -EINVAL;
        v >>= -e2;
        e2 = 0;
    }
    *why = "is more than the card limit";
    for (long k = 0; k < e10; k++) {
        if (v > (uint64_t)max / 10)
            return -EINVAL;
        v *= 10;
    }
    for (long k = 0; k < e2; k++) {
        if (v > (uint64_t)max / 2)
            return -EINVAL;
        v *= 2;
    }
    if (v > (uint64_t)max)
        return -EINVAL;
    *ret = (long)v;
    return 0;
}

/* A quantity member (string, or a whole JSON number as some tools write) as a card count. */
static int get_count(const cJSON *v, const char *prefix, const char *key, long *ret,
                     struct json_error *err)
{
    char buf[48];
    const char *why = NULL;
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (!isfinite(d) || d < 0 || d != floor(d) || d > ADAPTER_MAX_CARDS)
            return json_fail(err, prefix, key, "must be a whole number of cards from 0 to %ld",
                             ADAPTER_MAX_CARDS);
        *ret = (long)d;
        return 0;
    }
    if (!cJSON_IsString(v) || !v->valuestring)
        return json_fail(err, prefix, key, "must be a quantity string such as \"8\"");
    if (quantity_count(v->valuestring, ADAPTER_MAX_CARDS, ret, &why) < 0)
        return json_fail(err, prefix, key, "'%s' %s (a count of cards is expected)",
                         shown(v->valuestring, buf, sizeof(buf)), why);
    return 0;
}

/* ---- options ---- */

static int kube_check_options(const cJSON *options, struct json_error *err)
{
    int r;
    if (options && !cJSON_IsNull(options) && !cJSON_IsObject(options))
        return json_fail(err, "", NULL, "options must be an object");
    if ((r = adapter_check_models(options, err)) < 0 ||
        (r = adapter_check_prices(options, err)) < 0 ||
        (r = adapter_check_currency(options, err)) < 0)
        return r;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(options, "ignore_taints");
    if (!t)
        return 0;
    if (!cJSON_IsArray(t))
        return json_fail(err, "", "ignore_taints", "must be an array of taint keys");
    if (cJSON_GetArraySize(t) > KUBE_MAX_IGNORE_TAINTS)
        return json_fail(err, "", "ignore_taints", "has more than %d keys", KUBE_MAX_IGNORE_TAINTS);
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, t)
    {
        char idx[24];
        snprintf(idx, sizeof(idx), "%zu", i++);
        if (!cJSON_IsString(it) || !it->valuestring || !it->valuestring[0] ||
            strlen(it->valuestring) > 316)
            return json_fail(err, "/ignore_taints", idx,
                             "must be a taint key (a string of 1 to 316 bytes)");
    }
    return 0;
}

/* ---- which resources are accelerators, and of which model ---- */

static bool builtin_accelerator(const char *r)
{
    if (strcmp(r, "nvidia.com/gpu") == 0 || strcmp(r, "amd.com/gpu") == 0)
        return true;
    /* Ascend device plugin: huawei.com/Ascend910 (also 910B), Ascend310P, ...; not vNPU slices. */
    if (strncmp(r, "huawei.com/Ascend", 17) != 0 || !r[17])
        return false;
    for (const char *p = r + 17; *p; p++) {
        if (!isalnum((unsigned char)*p))
            return false;
    }
    return true;
}

/*
 * True when resource counts cards: a built-in accelerator name or one the
 * operator maps. MIG slices (nvidia.com/mig-*) count only when mapped.
 */
static bool is_accelerator(const struct kube_opts *o, const char *r)
{
    return builtin_accelerator(r) || adapter_map_find(o->models, r) != NULL;
}

/*
 * Taint rule: NoSchedule and NoExecute taints make a node unschedulable for
 * the broker, except a taint whose key is an accelerator resource name (GKE
 * and AKS put nvidia.com/gpu=present:NoSchedule on GPU nodes, and the
 * ExtendedResourceToleration admission plugin gives every pod that requests
 * that resource a toleration for it) and keys listed in ignore_taints.
 * PreferNoSchedule and unknown effects never block.
 */
static bool taint_tolerated(const struct kube_opts *o, const char *key)
{
    const cJSON *it;
    if (is_accelerator(o, key))
        return true;
    cJSON_ArrayForEach(it, o->ignore_taints)
    {
        if (cJSON_IsString(it) && it->valuestring && strcmp(it->valuestring, key) == 0)
            return true;
    }
    return false;
}

/* A string member, or NULL when absent, null or ""; present values must be 1..maxlen printable. */
static int get_text(const cJSON *obj, const char *key, const char *prefix, size_t maxlen,
                    const char **ret, struct json_error *err)
{
    *ret = NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v) || (cJSON_IsString(v) && v->valuestring && !v->valuestring[0]))
        return 0;
    return json_get_string(obj, key, prefix, false, maxlen, ret, NULL, err);
}

/* A label's value, or NULL when absent or empty (label values are at most 63 bytes). */
static int get_label(const cJSON *labels, const char *key, const char *lprefix, const char **ret,
                     struct json_error *err)
{
    return get_text(labels, key, lprefix, 63, ret, err);
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/*
 * Names the model of resource r on a node: the models option keyed by the
 * resource name; else for nvidia.com/gpu the GFD label nvidia.com/gpu.product
 * (without its -SHARED suffix), then cloud.google.com/gke-accelerator; then
 * the label accelerator (Ascend: huawei-Ascend910); else the resource name.
 * The name found is mapped through the models option once more. Sets *skip
 * when the node's nvidia.com/gpu counts MIG slices (MIG single strategy: the
 * product label ends in -MIG-<profile>) and the operator maps neither the
 * resource nor that label value: slices are not cards.
 */
static int resource_model(struct kube_parse *kp, struct kube_res *res, const cJSON *labels,
                          const char *lprefix, const char *rprefix, bool *skip,
                          struct json_error *err)
{
    const char *r = res->resource, *name = NULL, *v = NULL;
    const cJSON *m = adapter_map_find(kp->opts.models, r);
    char found[64];
    int rc;

    *skip = false;
    if (m) {
        snprintf(res->feed_name, sizeof(res->feed_name), "%s",
                 strlen(r) < sizeof(res->feed_name) ? r : m->valuestring);
        snprintf(res->model, sizeof(res->model), "%s", m->valuestring);
        return 0;
    }
    found[0] = '\0';
    if (strcmp(r, "nvidia.com/gpu") == 0) {
        if ((rc = get_label(labels, "nvidia.com/gpu.product", lprefix, &v, err)) < 0)
            return rc;
        if (v) {
            size_t len = strlen(v);
            if (ends_with(v, len, "-SHARED"))
                len -= 7;
            snprintf(found, sizeof(found), "%.*s", (int)len, v);
            if (strstr(found, "-MIG-")) {
                m = adapter_map_find(kp->opts.models, found);
                if (!m) {
                    *skip = true;
                    warn(kp, "a node exposes MIG slices as nvidia.com/gpu (MIG single strategy); "
                             "they are not counted as cards unless the models option maps them");
                    return 0;
                }
                snprintf(res->feed_name, sizeof(res->feed_name), "%s", found);
                snprintf(res->model, sizeof(res->model), "%s", m->valuestring);
                return 0;
            }
        }
        if (!found[0]) {
            if ((rc = get_label(labels, "cloud.google.com/gke-accelerator", lprefix, &v, err)) < 0)
                return rc;
            if (v)
                snprintf(found, sizeof(found), "%s", v);
        }
    }
    if (!found[0]) {
        if ((rc = get_label(labels, "accelerator", lprefix, &v, err)) < 0)
            return rc;
        if (v)
            snprintf(found, sizeof(found), "%s", v);
    }
    name = found[0] ? found : r;
    if (strlen(name) > 63)
        return json_fail(err, rprefix, r,
                         "is too long to be a model name: map it with the models option");
    snprintf(res->feed_name, sizeof(res->feed_name), "%s", name);
    m = adapter_map_find(kp->opts.models, name);
    snprintf(res->model, sizeof(res->model), "%s", m ? m->valuestring : name);
    return 0;
}

/* The replicas label GFD writes for a shared nvidia.com resource: nvidia.com/gpu.replicas. */
static int resource_replicas(const char *r, const cJSON *labels, const char *lprefix, long *ret,
                             struct json_error *err)
{
    char key[320];
    const char *v = NULL;
    int rc;
    *ret = 1;
    if (strncmp(r, "nvidia.com/", 11) != 0)
        return 0;
    snprintf(key, sizeof(key), "%s.replicas", r);
    if ((rc = get_label(labels, key, lprefix, &v, err)) < 0)
        return rc;
    if (!v)
        return 0;
    long n = 0;
    for (const char *p = v; *p; p++) {
        if (!isdigit((unsigned char)*p) || n > KUBE_MAX_REPLICAS)
            return json_fail(err, lprefix, key, "must be a whole number of replicas from 1 to %ld",
                             KUBE_MAX_REPLICAS);
        n = n * 10 + (*p - '0');
    }
    if (n < 1 || n > KUBE_MAX_REPLICAS)
        return json_fail(err, lprefix, key, "must be a whole number of replicas from 1 to %ld",
                         KUBE_MAX_REPLICAS);
    *ret = n;
    return 0;
}

/* ---- nodes ---- */

/* An optional member that, when present, must be an object. */
static int get_object(const cJSON *obj, const char *key, const char *prefix, const cJSON **ret,
                      struct json_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *ret = NULL;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsObject(v))
        return json_fail(err, prefix, key, "must be an object");
    *ret = v;
    return 0;
}

static int get_array(const cJSON *obj, const char *key, const char *prefix, const cJSON **ret,
                     struct json_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *ret = NULL;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsArray(v))
        return json_fail(err, prefix, key, "must be an array");
    *ret = v;
    return 0;
}

/* A "kind" member, when present, must be one of the two names given (b may be NULL). */
static int check_kind(const cJSON *obj, const char *prefix, const char *a, const char *b,
                      struct json_error *err)
{
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(obj, "kind");
    if (!k || cJSON_IsNull(k))
        return 0;
    if (!cJSON_IsString(k) || !k->valuestring)
        return json_fail(err, prefix, "kind", "must be a string");
    if (strcmp(k->valuestring, a) == 0 || (b && strcmp(k->valuestring, b) == 0))
        return 0;
    char buf[48];
    return json_fail(err, prefix, "kind", "is '%s'; %s%s%s is expected",
                     shown(k->valuestring, buf, sizeof(buf)), a, b ? " or " : "", b ? b : "");
}

/* Cordoned, tainted or not Ready nodes take no new pods. */
static int node_schedulable(const struct kube_parse *kp, const cJSON *spec, const cJSON *status,
                            const char *prefix, bool *ret, struct json_error *err)
{
    char sp[256], ptr[256];
    bool cordoned = false, ready = false, blocked = false;
    const cJSON *taints = NULL, *conds = NULL, *it;
    int r;

    json_pointer(sp, sizeof(sp), prefix, "spec");
    if ((r = json_get_bool(spec, "unschedulable", sp, false, &cordoned, NULL, err)) < 0 ||
        (r = get_array(spec, "taints", sp, &taints, err)) < 0)
        return r;
    json_pointer(ptr, sizeof(ptr), sp, "taints");
    size_t i = 0;
    cJSON_ArrayForEach(it, taints)
    {
        char tp[256], idx[24];
        const char *key = "", *effect = "";
        snprintf(idx, sizeof(idx), "%zu", i++);
        json_pointer(tp, sizeof(tp), ptr, idx);
        if (!cJSON_IsObject(it))
            return json_fail(err, tp, NULL, "a taint must be an object");
        if ((r = json_get_string(it, "key", tp, false, 316, &key, NULL, err)) < 0 ||
            (r = json_get_string(it, "effect", tp, false, 64, &effect, NULL, err)) < 0)
            return r;
        if ((strcmp(effect, "NoSchedule") == 0 || strcmp(effect, "NoExecute") == 0) &&
            !taint_tolerated(&kp->opts, key))
            blocked = true;
    }
    json_pointer(sp, sizeof(sp), prefix, "status");
    if ((r = get_array(status, "conditions", sp, &conds, err)) < 0)
        return r;
    json_pointer(ptr, sizeof(ptr), sp, "conditions");
    i = 0;
    cJSON_ArrayForEach(it, conds)
    {
        char cp[256], idx[24];
        const char *type = "", *st = "";
        snprintf(idx, sizeof(idx), "%zu", i++);
        json_pointer(cp, sizeof(cp), ptr, idx);
        if (!cJSON_IsObject(it))
            return json_fail(err, cp, NULL, "a condition must be an object");
        if ((r = json_get_string(it, "type", cp, false, 316, &type, NULL, err)) < 0 ||
            (r = json_get_string(it, "status", cp, false, 64, &st, NULL, err)) < 0)
            return r;
        if (strcmp(type, "Ready") == 0)
            ready = strcmp(st, "True") == 0;
    }
    /* No Ready condition at all: the node's state is unknown, so it offers nothing. */
    *ret = !cordoned && !blocked && ready;
    return 0;
}

static int push_res(struct kube_parse *kp, struct kube_res **ret)
{
    if (kp->nres == kp->capres) {
        size_t cap = kp->capres ? kp->capres * 2 : 64;
        struct kube_res *n = realloc(kp->res, cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        kp->res = n;
        kp->capres = cap;
    }
    *ret = &kp->res[kp->nres++];
    memset(*ret, 0, sizeof(**ret));
    return 0;
}

static int parse_node(struct kube_parse *kp, const cJSON *item, const char *prefix,
                      struct kube_node *node, struct json_error *err)
{
    char mp[256], lp[256], sp[256], ap[256], cp[256];
    const cJSON *meta, *labels, *spec, *status, *alloc, *cap;
    const char *name = NULL;
    bool present = false;
    int r;

    if (!cJSON_IsObject(item))
        return json_fail(err, prefix, NULL, "a Node must be an object");
    if ((r = check_kind(item, prefix, "Node", NULL, err)) < 0 ||
        (r = get_object(item, "metadata", prefix, &meta, err)) < 0 ||
        (r = get_object(item, "spec", prefix, &spec, err)) < 0 ||
        (r = get_object(item, "status", prefix, &status, err)) < 0)
        return r;
    json_pointer(mp, sizeof(mp), prefix, "metadata");
    if ((r = json_get_string(meta, "name", mp, false, 253, &name, &present, err)) < 0 ||
        (r = get_object(meta, "labels", mp, &labels, err)) < 0)
        return r;
    node->name = present ? name : NULL;
    json_pointer(lp, sizeof(lp), mp, "labels");
    if ((r = node_schedulable(kp, spec, status, prefix, &node->schedulable, err)) < 0)
        return r;

    json_pointer(sp, sizeof(sp), prefix, "status");
    if ((r = get_object(status, "allocatable", sp, &alloc, err)) < 0 ||
        (r = get_object(status, "capacity", sp, &cap, err)) < 0)
        return r;
    /* Allocatable is what pods may use; a node that omits it offers its capacity. */
    const cJSON *src = alloc ? alloc : cap;
    json_pointer(ap, sizeof(ap), sp, alloc ? "allocatable" : "capacity");
    json_pointer(cp, sizeof(cp), sp, "capacity");
    node->first = kp->nres;
    node->count = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, src)
    {
        if (!it->string || !is_accelerator(&kp->opts, it->string))
            continue;
        for (const cJSON *prev = src->child; prev && prev != it; prev = prev->next) {
            if (prev->string && strcmp(prev->string, it->string) == 0)
                return json_fail(err, ap, it->string, "appears twice");
        }
        if (node->count == KUBE_MAX_NODE_RES)
            return json_fail(err, ap, NULL, "has more than %d accelerator resources",
                             KUBE_MAX_NODE_RES);
        long n = 0;
        if ((r = get_count(it, ap, it->string, &n, err)) < 0)
            return r;
        const cJSON *c = alloc && cap ? cJSON_GetObjectItemCaseSensitive(cap, it->string) : NULL;
        if (c && !cJSON_IsNull(c)) {
            long cn = 0;
            if ((r = get_count(c, cp, it->string, &cn, err)) < 0)
                return r;
            if (n > cn)
                return json_fail(err, ap, it->string, "allocatable (%ld) exceeds capacity (%ld)", n,
                                 cn);
        }
        struct kube_res tmp = {.resource = it->string, .alloc = n};
        bool skip = false;
        if ((r = resource_model(kp, &tmp, labels, lp, ap, &skip, err)) < 0 ||
            (r = resource_replicas(it->string, labels, lp, &tmp.replicas, err)) < 0)
            return r;
        if (skip)
            continue;
        if (tmp.alloc % tmp.replicas != 0)
            warn(kp, "a node's shared GPU count is not a multiple of its replicas; "
                     "partial cards are not counted");
        struct kube_res *res;
        if ((r = push_res(kp, &res)) < 0)
            return r;
        *res = tmp;
        node->count++;
    }
    return 0;
}

static int cmp_node_name(const void *a, const void *b)
{
    const struct kube_node *x = *(const struct kube_node *const *)a;
    const struct kube_node *y = *(const struct kube_node *const *)b;
    return strcmp(x->name, y->name);
}

/* Notes a list's metadata.continue: the list is one page of several. */
static int check_continue(struct kube_parse *kp, const cJSON *list, const char *prefix,
                          const char *what, struct json_error *err)
{
    char mp[256];
    const cJSON *meta;
    int r;
    if ((r = get_object(list, "metadata", prefix, &meta, err)) < 0)
        return r;
    json_pointer(mp, sizeof(mp), prefix, "metadata");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(meta, "continue");
    if (!c || cJSON_IsNull(c))
        return 0;
    if (!cJSON_IsString(c) || !c->valuestring)
        return json_fail(err, mp, "continue", "must be a string");
    if (c->valuestring[0])
        warn(kp, what);
    return 0;
}

/* A NodeList / List / Node at prefix ("" for the whole document). */
static int parse_nodes(struct kube_parse *kp, const cJSON *doc, const char *prefix,
                       struct json_error *err)
{
    char ip[256];
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(doc, "kind");
    int r;

    if (!cJSON_IsObject(doc))
        return json_fail(err, prefix, NULL, "a NodeList or Node object is expected");
    if (cJSON_IsString(kind) && kind->valuestring && strcmp(kind->valuestring, "Node") == 0) {
        kp->nodes = calloc(1, sizeof(*kp->nodes));
        if (!kp->nodes)
            return -ENOMEM;
        if ((r = parse_node(kp, doc, prefix, &kp->nodes[0], err)) < 0)
            return r;
        kp->nnodes = 1;
    } else {
        const cJSON *items;
        if ((r = check_kind(doc, prefix, "NodeList", "List", err)) < 0 ||
            (r = get_array(doc, "items", prefix, &items, err)) < 0)
            return r;
        if (!cJSON_GetObjectItemCaseSensitive(doc, "items"))
            return json_fail(err, prefix, "items", "is required (a NodeList is expected)");
        if ((r = check_continue(kp, doc, prefix,
                                "the node list continues (metadata.continue); only its first "
                                "page was read",
                                err)) < 0)
            return r;
        int n = cJSON_GetArraySize(items);
        if (n > KUBE_MAX_NODES)
            return json_fail(err, prefix, "items", "has more than %ld nodes", KUBE_MAX_NODES);
        kp->nodes = calloc(n > 0 ? (size_t)n : 1, sizeof(*kp->nodes));
        if (!kp->nodes)
            return -ENOMEM;
        json_pointer(ip, sizeof(ip), prefix, "items");
        const cJSON *it;
        cJSON_ArrayForEach(it, items)
        {
            char np[256], idx[24];
            snprintf(idx, sizeof(idx), "%zu", kp->nnodes);
            json_pointer(np, sizeof(np), ip, idx);
            kp->nodes[kp->nnodes].item = kp->nnodes;
            if ((r = parse_node(kp, it, np, &kp->nodes[kp->nnodes], err)) < 0)
                return r;
            kp->nnodes++;
        }
    }
    /* Index by name for the pods; two nodes of one name would count a pod twice. */
    kp->byname = calloc(kp->nnodes ? kp->nnodes : 1, sizeof(*kp->byname));
    if (!kp->byname)
        return -ENOMEM;
    for (size_t i = 0; i < kp->nnodes; i++) {
        if (kp->nodes[i].name)
            kp->byname[kp->nbyname++] = &kp->nodes[i];
    }
    qsort(kp->byname, kp->nbyname, sizeof(*kp->byname), cmp_node_name);
    for (size_t i = 1; i < kp->nbyname; i++) {
        if (strcmp(kp->byname[i - 1]->name, kp->byname[i]->name) != 0)
            continue;
        size_t later = kp->byname[i - 1]->item > kp->byname[i]->item ? kp->byname[i - 1]->item
                                                                     : kp->byname[i]->item;
        char buf[48];
        snprintf(ip, sizeof(ip), "%s/items/%zu/metadata", prefix, later);
        return json_fail(err, ip, "name", "node '%s' appears twice",
                         shown(kp->byname[i]->name, buf, sizeof(buf)));
    }
    return 0;
}

/* ---- pods ---- */

static bool extended_resource(const char *r)
{
    return strchr(r, '/') && strncmp(r, "kubernetes.io/", 14) != 0 && !strstr(r, ".kubernetes.io/");
}

/*
 * One container's claim on resource r: its request, or its limit when no
 * request is given (Kubernetes defaults one to the other). Extended resources
 * cannot be overcommitted, so a request and a limit that differ are refused.
 */
static int container_claim(const cJSON *c, const char *cprefix, const char *r, long *ret,
                           struct json_error *err)
{
    char rp[256], qp[256], lp[256];
    const cJSON *res, *req, *lim;
    long q = 0, l = 0;
    int rc;

    *ret = 0;
    if (!cJSON_IsObject(c))
        return json_fail(err, cprefix, NULL, "a container must be an object");
    if ((rc = get_object(c, "resources", cprefix, &res, err)) < 0)
        return rc;
    json_pointer(rp, sizeof(rp), cprefix, "resources");
    if ((rc = get_object(res, "requests", rp, &req, err)) < 0 ||
        (rc = get_object(res, "limits", rp, &lim, err)) < 0)
        return rc;
    json_pointer(qp, sizeof(qp), rp, "requests");
    json_pointer(lp, sizeof(lp), rp, "limits");
    const cJSON *qv = cJSON_GetObjectItemCaseSensitive(req, r);
    const cJSON *lv = cJSON_GetObjectItemCaseSensitive(lim, r);
    if (qv && cJSON_IsNull(qv))
        qv = NULL;
    if (lv && cJSON_IsNull(lv))
        lv = NULL;
    if (qv && (rc = get_count(qv, qp, r, &q, err)) < 0)
        return rc;
    if (lv && (rc = get_count(lv, lp, r, &l, err)) < 0)
        return rc;
    if (qv && lv && q != l && extended_resource(r))
        return json_fail(err, qp, r, "request (%ld) and limit (%ld) of an extended resource differ",
                         q, l);
    *ret = qv ? q : l;
    return 0;
}

static long add_sat(long a, long b)
{
    return a > ADAPTER_MAX_CARDS - b ? ADAPTER_MAX_CARDS : a + b;
}

/*
 * A pod's effective claim on r, as the scheduler counts it: the larger of
 * (the containers plus the sidecars) and the peak of any init container run
 * (that init container plus the sidecars started before it).
 */
static int pod_claim(const cJSON *spec, const char *sprefix, const char *r, long *ret,
                     struct json_error *err)
{
    char ap[256];
    const cJSON *arr, *it;
    long sum = 0, sidecars = 0, peak = 0, c = 0;
    size_t i = 0;
    int rc;

    if ((rc = get_array(spec, "initContainers", sprefix, &arr, err)) < 0)
        return rc;
    json_pointer(ap, sizeof(ap), sprefix, "initContainers");
    cJSON_ArrayForEach(it, arr)
    {
        char cp[256], idx[24];
        snprintf(idx, sizeof(idx), "%zu", i++);
        json_pointer(cp, sizeof(cp), ap, idx);
        if ((rc = container_claim(it, cp, r, &c, err)) < 0)
            return rc;
        const cJSON *rp = cJSON_GetObjectItemCaseSensitive(it, "restartPolicy");
        if (cJSON_IsString(rp) && rp->valuestring && strcmp(rp->valuestring, "Always") == 0) {
            sidecars = add_sat(sidecars, c);
            if (sidecars > peak)
                peak = sidecars;
        } else if (add_sat(sidecars, c) > peak) {
            peak = add_sat(sidecars, c);
        }
    }
    if ((rc = get_array(spec, "containers", sprefix, &arr, err)) < 0)
        return rc;
    json_pointer(ap, sizeof(ap), sprefix, "containers");
    i = 0;
    cJSON_ArrayForEach(it, arr)
    {
        char cp[256], idx[24];
        snprintf(idx, sizeof(idx), "%zu", i++);
        json_pointer(cp, sizeof(cp), ap, idx);
        if ((rc = container_claim(it, cp, r, &c, err)) < 0)
            return rc;
        sum = add_sat(sum, c);
    }
    sum = add_sat(sum, sidecars);
    *ret = sum > peak ? sum : peak;
    return 0;
}

static struct kube_node *node_by_name(const struct kube_parse *kp, const char *name)
{
    size_t lo = 0, hi = kp->nbyname;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, kp->byname[mid]->name);
        if (c == 0)
            return kp->byname[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static int parse_pods(struct kube_parse *kp, const cJSON *list, const char *prefix,
                      struct json_error *err)
{
    char ip[256];
    const cJSON *items, *it;
    int r;

    if (!cJSON_IsObject(list))
        return json_fail(err, prefix, NULL, "a PodList object is expected");
    if ((r = check_kind(list, prefix, "PodList", "List", err)) < 0 ||
        (r = get_array(list, "items", prefix, &items, err)) < 0)
        return r;
    if (!cJSON_GetObjectItemCaseSensitive(list, "items"))
        return json_fail(err, prefix, "items", "is required (a PodList is expected)");
    if ((r = check_continue(kp, list, prefix,
                            "the pod list continues (metadata.continue); free cards may be "
                            "overstated",
                            err)) < 0)
        return r;
    if (cJSON_GetArraySize(items) > KUBE_MAX_PODS)
        return json_fail(err, prefix, "items", "has more than %ld pods", KUBE_MAX_PODS);
    json_pointer(ip, sizeof(ip), prefix, "items");
    size_t i = 0;
    cJSON_ArrayForEach(it, items)
    {
        char pp[256], sp[256], stp[256], idx[24];
        const cJSON *spec, *status;
        const char *node_name = NULL, *phase = NULL;
        snprintf(idx, sizeof(idx), "%zu", i++);
        json_pointer(pp, sizeof(pp), ip, idx);
        if (!cJSON_IsObject(it))
            return json_fail(err, pp, NULL, "a Pod must be an object");
        if ((r = check_kind(it, pp, "Pod", NULL, err)) < 0 ||
            (r = get_object(it, "spec", pp, &spec, err)) < 0 ||
            (r = get_object(it, "status", pp, &status, err)) < 0)
            return r;
        json_pointer(sp, sizeof(sp), pp, "spec");
        json_pointer(stp, sizeof(stp), pp, "status");
        if ((r = get_text(spec, "nodeName", sp, 253, &node_name, err)) < 0 ||
            (r = get_text(status, "phase", stp, 64, &phase, err)) < 0)
            return r;
        /* Finished pods hold nothing; pending ones without a node hold nothing yet. */
        if (!node_name ||
            (phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0)))
            continue;
        struct kube_node *node = node_by_name(kp, node_name);
        if (!node)
            continue;
        for (size_t k = node->first; k < node->first + node->count; k++) {
            long c = 0;
            if ((r = pod_claim(spec, sp, kp->res[k].resource, &c, err)) < 0)
                return r;
            kp->res[k].used = add_sat(kp->res[k].used, c);
        }
    }
    kp->have_pods = true;
    return 0;
}

/* ---- pools ---- */

static int find_pool(struct feed_snapshot *snap, const struct kube_parse *kp,
                     const struct kube_res *res, size_t *ret, struct json_error *err)
{
    for (size_t i = 0; i < snap->npools; i++) {
        if (strcasecmp(snap->pools[i].model, res->model) == 0) {
            *ret = i;
            return 0;
        }
    }
    if (snap->npools == ADAPTER_MAX_POOLS)
        return json_fail(err, "", NULL, "the nodes name more than %d models", ADAPTER_MAX_POOLS);
    struct pool_snapshot *p = &snap->pools[snap->npools];
    memset(p, 0, sizeof(*p));
    snprintf(p->model, sizeof(p->model), "%s", res->model);
    p->has_counts = true;
    p->spot_price = -1;
    snprintf(p->currency, sizeof(p->currency), "%s", kp->opts.currency);
    p->memory_gib = -1;
    p->domestic = -1;
    for (int k = 0; k < PREC_COUNT; k++)
        p->tflops[k] = -1;
    const cJSON *price = adapter_map_find(kp->opts.prices, res->model);
    if (!price)
        price = adapter_map_find(kp->opts.prices, res->feed_name);
    if (price && cJSON_IsNumber(price)) {
        p->has_price = true;
        p->price = price->valuedouble;
    }
    *ret = snap->npools++;
    return 0;
}

/*
 * total: allocatable physical cards on every node. free: on schedulable nodes
 * only, allocatable minus the live pods' claims. Without a pod list free is
 * every allocatable card of the schedulable nodes, which overstates it: only
 * the pod list tells what is taken. Shared cards (replicas > 1) count
 * alloc / replicas physical cards; each claimed replica is taken to pin one
 * card, as the device plugin spreads replicas over the cards.
 */
static int build_pools(struct kube_parse *kp, struct feed_snapshot *snap, struct json_error *err)
{
    int r;
    snap->pools = calloc(ADAPTER_MAX_POOLS, sizeof(*snap->pools));
    if (!snap->pools)
        return -ENOMEM;
    for (size_t i = 0; i < kp->nnodes; i++) {
        const struct kube_node *node = &kp->nodes[i];
        size_t pidx[KUBE_MAX_NODE_RES];
        long nfree[KUBE_MAX_NODE_RES];
        size_t nd = 0;
        for (size_t k = node->first; k < node->first + node->count; k++) {
            const struct kube_res *res = &kp->res[k];
            size_t pi = 0;
            if ((r = find_pool(snap, kp, res, &pi, err)) < 0)
                return r;
            struct pool_snapshot *p = &snap->pools[pi];
            long cards = res->alloc / res->replicas;
            long avail = node->schedulable ? cards - res->used : 0;
            if (avail < 0)
                avail = 0;
            if (p->total > ADAPTER_MAX_CARDS - cards)
                return json_fail(err, "", NULL, "the nodes hold more than %ld cards of %s",
                                 ADAPTER_MAX_CARDS, p->model);
            p->total += cards;
            p->free += avail;
            size_t d = 0;
            while (d < nd && pidx[d] != pi)
                d++;
            if (d == nd) {
                pidx[nd] = pi;
                nfree[nd++] = 0;
            }
            nfree[d] += avail;
        }
        for (size_t d = 0; d < nd; d++) {
            if (nfree[d] > snap->pools[pidx[d]].largest_block)
                snap->pools[pidx[d]].largest_block = nfree[d];
        }
    }
    if (snap->npools == 0) {
        free(snap->pools);
        snap->pools = NULL;
    } else {
        struct pool_snapshot *n = realloc(snap->pools, snap->npools * sizeof(*n));
        if (n)
            snap->pools = n;
    }
    return 0;
}

static int kube_parse(const char *text, size_t len, const cJSON *options, struct feed_snapshot *ret,
                      struct json_error *err)
{
    struct kube_parse kp = {0};
    struct feed_snapshot snap = {0};
    struct json_error oerr = {0};
    cJSON *doc = NULL;
    int r;

    memset(ret, 0, sizeof(*ret));
    if (kube_check_options(options, &oerr) < 0)
        return json_fail(err, "", NULL, "bad options: %s: %s", oerr.pointer, oerr.detail);
    kp.opts.models = cJSON_GetObjectItemCaseSensitive(options, "models");
    kp.opts.prices = cJSON_GetObjectItemCaseSensitive(options, "price_per_card_hour");
    kp.opts.ignore_taints = cJSON_GetObjectItemCaseSensitive(options, "ignore_taints");
    const cJSON *cur = cJSON_GetObjectItemCaseSensitive(options, "currency");
    snprintf(kp.opts.currency, sizeof(kp.opts.currency), "%s",
             cJSON_IsString(cur) ? cur->valuestring : "CNY");

    if ((r = json_parse_object(text, len, &doc, err)) < 0)
        return r;
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(doc, "kind");
    if (cJSON_IsString(kind) && kind->valuestring && strcmp(kind->valuestring, "Status") == 0) {
        /* The API server's error body, e.g. 403 Forbidden. */
        const cJSON *reason = cJSON_GetObjectItemCaseSensitive(doc, "reason");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(doc, "message");
        char b1[48], b2[48];
        r = json_fail(err, "", "kind", "the API server answered a Status, not nodes: %s: %s",
                      shown(cJSON_IsString(reason) ? reason->valuestring : "", b1, sizeof(b1)),
                      shown(cJSON_IsString(msg) ? msg->valuestring : "", b2, sizeof(b2)));
        goto out;
    }
    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(doc, "nodes");
    if (nodes) {
        const cJSON *pods = cJSON_GetObjectItemCaseSensitive(doc, "pods");
        if ((r = parse_nodes(&kp, nodes, "/nodes", err)) < 0)
            goto out;
        if (pods && !cJSON_IsNull(pods) && (r = parse_pods(&kp, pods, "/pods", err)) < 0)
            goto out;
    } else if ((r = parse_nodes(&kp, doc, "", err)) < 0) {
        goto out;
    }
    if (!kp.have_pods)
        warn(&kp, "no pod list: free counts every allocatable card of the schedulable nodes");
    if ((r = build_pools(&kp, &snap, err)) < 0)
        goto out;
    snprintf(snap.warning, sizeof(snap.warning), "%s", kp.warning);
    *ret = snap;
    memset(&snap, 0, sizeof(snap));
    r = 0;
out:
    feed_snapshot_free(&snap);
    free(kp.nodes);
    free(kp.byname);
    free(kp.res);
    cJSON_Delete(doc);
    return r;
}

static const struct adapter_option kube_options[] = {
    {"models", "object", false,
     "resource name or node label value -> catalog model, e.g. {\"nvidia.com/mig-1g.10gb\": "
     "\"A100-1g\"}; also makes any other extended resource count as cards"},
    {"price_per_card_hour", "object", false,
     "model (as the feed or the models option names it) -> list price per card-hour"},
    {"currency", "string", false, "ISO 4217 code of the prices (default CNY)"},
    {"ignore_taints", "array", false,
     "taint keys whose NoSchedule/NoExecute taints do not make a node unschedulable"},
    {"pods_url", "string", false,
     "the pod list to fetch after the node list (e.g. .../api/v1/pods?fieldSelector="
     "status.phase!=Succeeded); the scheduler parses both as {\"nodes\":…,\"pods\":…}, "
     "so free = allocatable minus pod requests"},
    {NULL, NULL, false, NULL},
};

const struct adapter adapter_kubernetes = {
    .name = "kubernetes",
    .description =
        "Kubernetes NodeList (GET /api/v1/nodes), optionally with a PodList as "
        "{\"nodes\": ..., \"pods\": ...}: accelerator resources per model, free from pods",
    .push = true,
    .pull = true,
    .options = kube_options,
    .parse = kube_parse,
    .check_options = kube_check_options,
};
