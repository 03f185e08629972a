/*
 * test-native — the native feed adapter (SPEC §4 feed document, §5): the SPEC
 * example read field by field, the defaults of absent pool fields, stated
 * vendor / memory / domestic / tflops, and a table of bad documents each
 * refused with -EINVAL and the JSON pointer of the field at fault, including
 * oversize pool lists and 10 MB of garbage. Also the adapter registry lookup.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "check.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Passes arrays through a pointer so CHECK_STR's NULL test does not trip -Waddress. */
static const char *str(const char *s)
{
    return s;
}

static const struct adapter *native;

/* Parses from an exact-size heap copy without a terminator, as a pushed body arrives. */
static int parse(const char *text, size_t len, struct feed_snapshot *snap, struct json_error *err)
{
    char *body = malloc(len ? len : 1);
    if (!body)
        return -ENOMEM;
    memcpy(body, text, len);
    memset(err, 0, sizeof(*err));
    snprintf(err->pointer, sizeof(err->pointer), "UNSET");
    memset(snap, 0xA5, sizeof(*snap)); /* must be overwritten */
    int r = native->parse(body, len, NULL, snap, err);
    free(body);
    return r;
}

static int parse_str(const char *text, struct feed_snapshot *snap, struct json_error *err)
{
    return parse(text, strlen(text), snap, err);
}

/* 2026-11-22T01:00:00Z: 20779 days after 1970-01-01 (see test-timefmt.c) * 86400 + 3600 s. */
#define T_2026_11_22_01 INT64_C(1795309200000)

static void test_registry(void)
{
    native = adapter_find("native");
    CHECK(native != NULL, "adapter_find(\"native\") finds the native adapter");
    CHECK(native == &adapter_native, "it is adapter_native");
    CHECK(adapter_find("nope") == NULL, "adapter_find(\"nope\") is NULL");
    CHECK(adapter_find("Native") == NULL, "adapter names are exact");
    CHECK(adapter_find("") == NULL, "adapter_find(\"\") is NULL");
    CHECK(adapter_find(NULL) == NULL, "adapter_find(NULL) is NULL");
    if (native) {
        CHECK_STR(native->name, "native", "native adapter name");
        CHECK(native->push && native->pull, "native is push and pull");
        CHECK(native->parse != NULL, "native has a parser");
        CHECK(native->options != NULL && native->options[0].name == NULL, "native has no options");
    }
    bool listed = false;
    for (size_t i = 0; adapter_registry[i]; i++)
        listed = listed || adapter_registry[i] == &adapter_native;
    CHECK(listed, "adapter_registry lists native");
}

/* The feed document of SPEC §4, verbatim. */
static const char spec_feed[] =
    "{\"center\":\"sh-lingang-aidc\",\"observed_at\":\"2026-11-22T01:00:00Z\",\n"
    "                      \"pools\":[{\"model\":\"H800\",\"total\":2048,\"free\":512,"
    "\"largest_block\":8,\n"
    "                                \"price_per_card_hour\":28.5,"
    "\"spot_price_per_card_hour\":14.0,\"currency\":\"CNY\"}]}";

static void test_spec_feed(void)
{
    struct feed_snapshot snap;
    struct json_error err;
    int r = parse_str(spec_feed, &snap, &err);
    CHECK(r == 0, "SPEC feed parses (rc %d, pointer '%s', %s)", r, err.pointer, err.detail);
    if (r != 0)
        return;
    CHECK_STR(str(snap.center), "sh-lingang-aidc", "feed center");
    CHECK(snap.observed_at_ms == T_2026_11_22_01, "feed observed_at %lld ms, want %lld",
          (long long)snap.observed_at_ms, (long long)T_2026_11_22_01);
    CHECK_EQ_LONG(snap.npools, 1, "feed has one pool");
    if (snap.npools != 1) {
        feed_snapshot_free(&snap);
        return;
    }
    const struct pool_snapshot *p = &snap.pools[0];
    CHECK_STR(str(p->model), "H800", "pool model");
    CHECK_EQ_LONG(p->total, 2048, "pool total");
    CHECK_EQ_LONG(p->free, 512, "pool free");
    CHECK_EQ_LONG(p->largest_block, 8, "pool largest_block");
    CHECK_NEAR(p->price, 28.5, 0, "pool price_per_card_hour");
    CHECK_NEAR(p->spot_price, 14.0, 0, "pool spot_price_per_card_hour");
    CHECK_STR(str(p->currency), "CNY", "pool currency");
    CHECK_STR(str(p->vendor), "", "pool vendor not stated");
    CHECK(p->memory_gib < 0, "pool memory_gib not stated (%g)", p->memory_gib);
    CHECK_EQ_LONG(p->domestic, -1, "pool domestic not stated");
    for (int k = 0; k < PREC_COUNT; k++)
        CHECK(p->tflops[k] < 0, "pool tflops[%s] not stated (%g)", precision_name(k), p->tflops[k]);
    feed_snapshot_free(&snap);
    CHECK(snap.pools == NULL && snap.npools == 0, "feed_snapshot_free empties the snapshot");
    feed_snapshot_free(&snap);
    feed_snapshot_free(NULL);
}

/* Only the required pool fields: the rest take their defaults. */
static void test_defaults(void)
{
    struct feed_snapshot snap;
    struct json_error err;
    int r = parse_str("{\"pools\":[{\"model\":\"A800\",\"total\":100,\"free\":40,"
                      "\"price_per_card_hour\":10}]}",
                      &snap, &err);
    CHECK(r == 0, "minimal feed parses (rc %d, pointer '%s')", r, err.pointer);
    if (r != 0)
        return;
    CHECK_STR(str(snap.center), "", "center not stated");
    CHECK(snap.observed_at_ms == 0, "observed_at not stated is 0");
    CHECK_EQ_LONG(snap.npools, 1, "one pool");
    if (snap.npools == 1) {
        const struct pool_snapshot *p = &snap.pools[0];
        CHECK_STR(str(p->model), "A800", "default pool model");
        CHECK_EQ_LONG(p->total, 100, "default pool total");
        CHECK_EQ_LONG(p->free, 40, "default pool free");
        CHECK_EQ_LONG(p->largest_block, 40, "largest_block defaults to free");
        CHECK_NEAR(p->price, 10, 0, "default pool price");
        CHECK(p->spot_price < 0, "spot price not offered (%g)", p->spot_price);
        CHECK_STR(str(p->currency), "CNY", "currency defaults to CNY");
        CHECK_STR(str(p->vendor), "", "vendor not stated");
        CHECK(p->memory_gib < 0, "memory_gib not stated");
        CHECK_EQ_LONG(p->domestic, -1, "domestic not stated");
        for (int k = 0; k < PREC_COUNT; k++)
            CHECK(p->tflops[k] < 0, "tflops[%s] not stated", precision_name(k));
    }
    feed_snapshot_free(&snap);

    /* No pools at all is a valid (empty) feed. */
    r = parse_str("{\"center\":\"x\",\"pools\":[]}", &snap, &err);
    CHECK(r == 0 && snap.npools == 0, "empty pools list parses (rc %d)", r);
    feed_snapshot_free(&snap);

    /* Zero cards and a zero price are possible states. */
    r = parse_str("{\"pools\":[{\"model\":\"V100\",\"total\":0,\"free\":0,"
                  "\"price_per_card_hour\":0}]}",
                  &snap, &err);
    CHECK(r == 0 && snap.npools == 1 && snap.pools[0].largest_block == 0,
          "an empty pool parses (rc %d)", r);
    feed_snapshot_free(&snap);
}

/* A domestic pool stating what the catalog would otherwise say, in another currency. */
static void test_stated(void)
{
    struct feed_snapshot snap;
    struct json_error err;
    int r = parse_str("{\"center\":\"gy-aidc\",\"observed_at\":\"2026-11-22T09:00:00.250+08:00\","
                      "\"pools\":["
                      "{\"model\":\"910B\",\"total\":1024,\"free\":1000,\"largest_block\":16,"
                      "\"price_per_card_hour\":12.5,\"currency\":\"USD\",\"vendor\":\"Huawei\","
                      "\"memory_gib\":64,\"domestic\":true,\"tflops\":{\"bf16\":320,\"fp16\":320,"
                      "\"int8\":640,\"fp64\":0}},"
                      "{\"model\":\"H20\",\"total\":8,\"free\":8,\"price_per_card_hour\":7,"
                      "\"domestic\":false,\"tflops\":{}}]}",
                      &snap, &err);
    CHECK(r == 0, "stated feed parses (rc %d, pointer '%s', %s)", r, err.pointer, err.detail);
    if (r != 0)
        return;
    CHECK_STR(str(snap.center), "gy-aidc", "stated center");
    /* 09:00:00.250 at +08:00 is 01:00:00.250Z. */
    CHECK(snap.observed_at_ms == T_2026_11_22_01 + 250, "stated observed_at with offset");
    CHECK_EQ_LONG(snap.npools, 2, "two pools");
    if (snap.npools == 2) {
        const struct pool_snapshot *p = &snap.pools[0];
        CHECK_STR(str(p->model), "910B", "stated model kept as written");
        CHECK_EQ_LONG(p->largest_block, 16, "stated largest_block");
        CHECK(p->spot_price < 0, "stated pool has no spot price");
        CHECK_STR(str(p->currency), "USD", "stated currency");
        CHECK_STR(str(p->vendor), "Huawei", "stated vendor");
        CHECK_NEAR(p->memory_gib, 64, 0, "stated memory_gib");
        CHECK_EQ_LONG(p->domestic, 1, "stated domestic true");
        CHECK_NEAR(p->tflops[PREC_BF16], 320, 0, "stated bf16");
        CHECK_NEAR(p->tflops[PREC_FP16], 320, 0, "stated fp16");
        CHECK_NEAR(p->tflops[PREC_INT8], 640, 0, "stated int8");
        CHECK_NEAR(p->tflops[PREC_FP64], 0, 0, "stated fp64 0 (unsupported, stated)");
        CHECK(p->tflops[PREC_FP32] < 0 && p->tflops[PREC_TF32] < 0 && p->tflops[PREC_FP8] < 0,
              "precisions not stated stay unstated");
        const struct pool_snapshot *q = &snap.pools[1];
        CHECK_STR(str(q->model), "H20", "second pool model");
        CHECK_EQ_LONG(q->domestic, 0, "stated domestic false");
        CHECK_EQ_LONG(q->largest_block, 8, "second pool largest_block defaults to free");
        for (int k = 0; k < PREC_COUNT; k++)
            CHECK(q->tflops[k] < 0, "empty tflops object states nothing (%s)", precision_name(k));
    }
    feed_snapshot_free(&snap);
}

/* ---- bad documents ---- */

/* A valid pool body, for building bad documents around one change. */
#define POOL "\"model\":\"H800\",\"total\":2048,\"free\":512,\"price_per_card_hour\":28.5"

struct bad_case {
    const char *name;
    const char *doc;
    const char *want_ptr;
};

static const struct bad_case bad_cases[] = {
    /* the document */
    {"empty", "", ""},
    {"malformed", "{\"pools\":[", ""},
    {"array", "[]", ""},
    {"trailing data", "{\"pools\":[]} []", ""},
    {"unknown top-level field", "{\"pools\":[],\"colour\":\"red\"}", "/colour"},
    {"center not a string", "{\"center\":5,\"pools\":[]}", "/center"},
    {"center empty", "{\"center\":\"\",\"pools\":[]}", "/center"},
    {"pools missing", "{\"center\":\"sh-lingang-aidc\"}", "/pools"},
    {"pools null", "{\"pools\":null}", "/pools"},
    {"pools not an array", "{\"pools\":{\"model\":\"H800\"}}", "/pools"},
    {"pools a string", "{\"pools\":\"H800\"}", "/pools"},
    {"bad observed_at", "{\"observed_at\":\"yesterday\",\"pools\":[]}", "/observed_at"},
    {"observed_at without zone", "{\"observed_at\":\"2026-11-22T01:00:00\",\"pools\":[]}",
     "/observed_at"},
    {"observed_at Feb 30", "{\"observed_at\":\"2026-02-30T00:00:00Z\",\"pools\":[]}",
     "/observed_at"},
    {"observed_at a number", "{\"observed_at\":1795309200,\"pools\":[]}", "/observed_at"},
    /* counts */
    {"free > total",
     "{\"pools\":[{\"model\":\"H800\",\"total\":8,\"free\":9,"
     "\"price_per_card_hour\":1}]}",
     "/pools/0/free"},
    {"largest_block > free", "{\"pools\":[{" POOL ",\"largest_block\":513}]}",
     "/pools/0/largest_block"},
    {"negative total",
     "{\"pools\":[{\"model\":\"H800\",\"total\":-1,\"free\":0,"
     "\"price_per_card_hour\":1}]}",
     "/pools/0/total"},
    {"total not an integer",
     "{\"pools\":[{\"model\":\"H800\",\"total\":2048.5,\"free\":512,"
     "\"price_per_card_hour\":1}]}",
     "/pools/0/total"},
    {"total a string",
     "{\"pools\":[{\"model\":\"H800\",\"total\":\"2048\",\"free\":512,"
     "\"price_per_card_hour\":1}]}",
     "/pools/0/total"},
    {"total above the card limit",
     "{\"pools\":[{\"model\":\"H800\",\"total\":10000001,"
     "\"free\":0,\"price_per_card_hour\":1}]}",
     "/pools/0/total"},
    {"total 1e400 (inf)",
     "{\"pools\":[{\"model\":\"H800\",\"total\":1e400,\"free\":0,"
     "\"price_per_card_hour\":1}]}",
     "/pools/0/total"},
    {"free negative",
     "{\"pools\":[{\"model\":\"H800\",\"total\":8,\"free\":-1,"
     "\"price_per_card_hour\":1}]}",
     "/pools/0/free"},
    {"free missing", "{\"pools\":[{\"model\":\"H800\",\"total\":8,\"price_per_card_hour\":1}]}",
     "/pools/0/free"},
    {"largest_block negative", "{\"pools\":[{" POOL ",\"largest_block\":-1}]}",
     "/pools/0/largest_block"},
    /* other pool fields */
    {"unknown pool field", "{\"pools\":[{" POOL ",\"colour\":\"red\"}]}", "/pools/0/colour"},
    {"pool not an object", "{\"pools\":[5]}", "/pools/0"},
    {"model missing", "{\"pools\":[{\"total\":8,\"free\":8,\"price_per_card_hour\":1}]}",
     "/pools/0/model"},
    {"model empty",
     "{\"pools\":[{\"model\":\"\",\"total\":8,\"free\":8,"
     "\"price_per_card_hour\":1}]}",
     "/pools/0/model"},
    {"price missing", "{\"pools\":[{\"model\":\"H800\",\"total\":8,\"free\":8}]}",
     "/pools/0/price_per_card_hour"},
    {"price negative",
     "{\"pools\":[{\"model\":\"H800\",\"total\":8,\"free\":8,"
     "\"price_per_card_hour\":-1}]}",
     "/pools/0/price_per_card_hour"},
    {"spot price negative", "{\"pools\":[{" POOL ",\"spot_price_per_card_hour\":-2}]}",
     "/pools/0/spot_price_per_card_hour"},
    {"lower-case currency", "{\"pools\":[{" POOL ",\"currency\":\"cny\"}]}", "/pools/0/currency"},
    {"currency too long", "{\"pools\":[{" POOL ",\"currency\":\"CNYX\"}]}", "/pools/0/currency"},
    {"currency too short", "{\"pools\":[{" POOL ",\"currency\":\"CN\"}]}", "/pools/0/currency"},
    {"currency with a digit", "{\"pools\":[{" POOL ",\"currency\":\"CN1\"}]}", "/pools/0/currency"},
    {"domestic a string", "{\"pools\":[{" POOL ",\"domestic\":\"yes\"}]}", "/pools/0/domestic"},
    {"memory_gib negative", "{\"pools\":[{" POOL ",\"memory_gib\":-80}]}", "/pools/0/memory_gib"},
    {"vendor a number", "{\"pools\":[{" POOL ",\"vendor\":1}]}", "/pools/0/vendor"},
    {"unknown precision in tflops", "{\"pools\":[{" POOL ",\"tflops\":{\"bf16\":1,\"fp4\":2}}]}",
     "/pools/0/tflops/fp4"},
    {"tflops not an object", "{\"pools\":[{" POOL ",\"tflops\":[989]}]}", "/pools/0/tflops"},
    {"tflops value negative", "{\"pools\":[{" POOL ",\"tflops\":{\"bf16\":-1}}]}",
     "/pools/0/tflops/bf16"},
    {"tflops value a string", "{\"pools\":[{" POOL ",\"tflops\":{\"fp8\":\"1979\"}}]}",
     "/pools/0/tflops/fp8"},
    /* the pool index is in the pointer */
    {"second pool bad",
     "{\"pools\":[{" POOL "},{\"model\":\"A800\",\"total\":4,\"free\":5,"
     "\"price_per_card_hour\":1}]}",
     "/pools/1/free"},
    {"duplicate model", "{\"pools\":[{" POOL "},{" POOL "}]}", "/pools/1/model"},
    {"duplicate model, other case",
     "{\"pools\":[{" POOL "},{\"model\":\"h800\",\"total\":1,"
     "\"free\":1,\"price_per_card_hour\":1}]}",
     "/pools/1/model"},
    {"duplicate model, third pool",
     "{\"pools\":[{" POOL "},{\"model\":\"A800\",\"total\":1,"
     "\"free\":1,\"price_per_card_hour\":1},{" POOL "}]}",
     "/pools/2/model"},
};

static void check_bad(const char *name, const char *doc, size_t len, const char *want_ptr)
{
    struct feed_snapshot snap;
    struct json_error err;
    int r = parse(doc, len, &snap, &err);
    CHECK(r == -EINVAL, "%s: rc %d, want -EINVAL", name, r);
    CHECK_STR(str(err.pointer), want_ptr, name);
    CHECK(err.detail[0] != '\0', "%s: detail is set", name);
    CHECK(snap.pools == NULL && snap.npools == 0, "%s: no pools returned", name);
    if (r == 0)
        feed_snapshot_free(&snap);
}

static void test_bad(void)
{
    for (size_t i = 0; i < N(bad_cases); i++)
        check_bad(bad_cases[i].name, bad_cases[i].doc, strlen(bad_cases[i].doc),
                  bad_cases[i].want_ptr);
}

/* A document of n pools with distinct models M0, M1, ... */
static char *pools_doc(int n, size_t *len)
{
    size_t cap = 64 + (size_t)n * 96;
    char *doc = malloc(cap);
    if (!doc)
        return NULL;
    size_t off = (size_t)snprintf(doc, cap, "{\"pools\":[");
    for (int i = 0; i < n; i++)
        off += (size_t)snprintf(doc + off, cap - off,
                                "%s{\"model\":\"M%d\",\"total\":1,\"free\":1,"
                                "\"price_per_card_hour\":1}",
                                i ? "," : "", i);
    off += (size_t)snprintf(doc + off, cap - off, "]}");
    *len = off;
    return doc;
}

static void test_limits(void)
{
    size_t len;
    char *doc = pools_doc(ADAPTER_MAX_POOLS, &len);
    struct feed_snapshot snap;
    struct json_error err;
    int r = parse(doc, len, &snap, &err);
    CHECK(r == 0 && snap.npools == ADAPTER_MAX_POOLS, "exactly %d pools parse (rc %d)",
          ADAPTER_MAX_POOLS, r);
    if (r == 0) {
        CHECK_STR(str(snap.pools[ADAPTER_MAX_POOLS - 1].model), "M1023", "last pool model");
        feed_snapshot_free(&snap);
    }
    free(doc);

    doc = pools_doc(ADAPTER_MAX_POOLS + 1, &len);
    check_bad("more than ADAPTER_MAX_POOLS pools", doc, len, "/pools");
    free(doc);

    /* 10 MB of garbage: pseudo-random bytes, then deep nesting. */
    const size_t big = (size_t)10 << 20;
    char *junk = malloc(big);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < big; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        junk[i] = (char)(x & 0xff);
    }
    junk[0] = 'q'; /* not a JSON value */
    check_bad("10 MB of random bytes", junk, big, "");
    memset(junk, '[', big);
    check_bad("10 MB of '['", junk, big, "");
    /* An object whose pools array never ends. */
    memset(junk, ' ', big);
    memcpy(junk, "{\"pools\":[", 10);
    check_bad("10 MB unterminated pools", junk, big, "");
    free(junk);
}

int main(void)
{
    test_registry();
    if (!native)
        return check_done();
    test_spec_feed();
    test_defaults();
    test_stated();
    test_bad();
    test_limits();
    return check_done();
}
