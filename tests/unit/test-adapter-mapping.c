/*
 * test-adapter-mapping — the declarative mapping adapter (SPEC §5): the real
 * Tencent DescribeZoneInstanceConfigInfos and Aliyun DescribeAvailableResource
 * examples read through operator mappings (expected values by hand), a
 * hand-written vendor document exercising every pool field, RFC 6901 escapes and
 * array indices, element merging, and tables of hostile documents and bad options.
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

static const struct adapter *mp;

static const char *str(const char *s)
{
    return s;
}

/* Parses from an exact-size heap copy (no terminator) so ASan sees any over-read. */
static int parse_len(const char *text, size_t len, const char *options, struct feed_snapshot *snap,
                     struct json_error *err)
{
    char *body = malloc(len ? len : 1);
    cJSON *o = options ? cJSON_Parse(options) : NULL;
    if (options && !o)
        fprintf(stderr, "# bad test options: %s\n", options);
    if (!body)
        return -ENOMEM;
    memcpy(body, text, len);
    memset(err, 0, sizeof(*err));
    memset(snap, 0xA5, sizeof(*snap));
    int r = mp->parse(body, len, o, snap, err);
    free(body);
    cJSON_Delete(o);
    return r;
}

static int parse(const char *text, const char *options, struct feed_snapshot *snap,
                 struct json_error *err)
{
    return parse_len(text, strlen(text), options, snap, err);
}

static const struct pool_snapshot *find(const struct feed_snapshot *s, const char *model)
{
    for (size_t i = 0; i < s->npools; i++) {
        if (strcmp(s->pools[i].model, model) == 0)
            return &s->pools[i];
    }
    return NULL;
}

static void expect_unstated(const struct pool_snapshot *p, const char *what)
{
    CHECK(p->domestic == -1 && p->vendor[0] == '\0', "%s: %s states no vendor or domesticity", what,
          p->model);
    for (int k = 0; k < PREC_COUNT; k++)
        CHECK(p->tflops[k] < 0, "%s: %s tflops[%d] not stated", what, p->model, k);
}

static void test_registry(void)
{
    mp = adapter_find("mapping");
    CHECK(mp == &adapter_mapping, "adapter_find(\"mapping\") is adapter_mapping");
    if (!mp)
        mp = &adapter_mapping;
    CHECK_STR(mp->name, "mapping", "adapter name");
    CHECK(mp->pull && mp->push, "mapping is pulled or pushed");
    CHECK(mp->parse && mp->check_options && mp->description && mp->description[0],
          "parser, options check and description");
    const char *want[] = {"pools",    "fields", "observed_at",
                          "currency", "models", "price_per_card_hour"};
    bool required[] = {true, true, false, false, false, false};
    size_t n = 0;
    for (const struct adapter_option *o = mp->options; o->name; o++, n++)
        CHECK(o->description && o->description[0], "option %s described", o->name);
    CHECK_EQ_LONG(n, N(want), "six options");
    for (size_t i = 0; i < N(want) && i < n; i++) {
        CHECK_STR(mp->options[i].name, want[i], "option order");
        CHECK(mp->options[i].required == required[i], "option %s required: %d", want[i],
              required[i]);
    }
}

#define TENCENT_POOLS "\"pools\":\"/Response/InstanceTypeQuotaSet\""

/*
 * tencent-cvm-DescribeZoneInstanceConfigInfos: one element, InstanceType "S2.SMALL1",
 * Price.UnitPrice 0.0, Price.OriginalPrice 59.0, Price.ChargeUnit "xx", no currency,
 * Memory 1, RequestId "c28559ca-...". So: one pool S2.SMALL1, price 0 (the document
 * says 0.0; Tencent's zero-filled fields mean "not applicable", which a generic
 * mapping cannot know), currency from the option (default CNY), no counts.
 */
static void test_tencent(void)
{
    size_t len = 0;
    char *doc = check_read_data(
        "china-cloud/tencent-cvm-DescribeZoneInstanceConfigInfos.tccli-example.json", &len);
    CHECK(doc != NULL, "tencent fixture readable");
    if (!doc)
        return;
    struct feed_snapshot s;
    struct json_error err;
    int r = parse_len(doc, len,
                      "{" TENCENT_POOLS ",\"fields\":{\"model\":\"/InstanceType\","
                      "\"price_per_card_hour\":\"/Price/UnitPrice\","
                      "\"spot_price_per_card_hour\":\"/Price/UnitPriceDiscount\"}}",
                      &s, &err);
    CHECK(r == 0 && s.npools == 1, "tencent: one pool (rc %d '%s': %s)", r, err.pointer,
          err.detail);
    if (r == 0 && s.npools == 1) {
        const struct pool_snapshot *p = &s.pools[0];
        CHECK_STR(str(p->model), "S2.SMALL1", "tencent model from /InstanceType");
        CHECK(p->has_price && !p->has_counts, "tencent: price, no counts");
        CHECK_NEAR(p->price, 0.0, 0, "tencent price from /Price/UnitPrice");
        CHECK_NEAR(p->spot_price, 0.0, 0, "tencent spot from /Price/UnitPriceDiscount");
        CHECK_STR(str(p->currency), "CNY", "tencent currency defaults to CNY");
        CHECK(p->memory_gib < 0, "tencent memory not mapped");
        expect_unstated(p, "tencent");
        CHECK(s.observed_at_ms == 0 && s.center[0] == '\0' && s.next_url == NULL &&
                  s.warning[0] == '\0',
              "tencent: no time, center, next page or warning");
    }
    feed_snapshot_free(&s);

    /* OriginalPrice 59.0 in a stated currency; host Memory 1 as memory_gib; a model alias. */
    r = parse_len(doc, len,
                  "{" TENCENT_POOLS ",\"currency\":\"USD\",\"models\":{\"s2.small1\":\"S2-1\"},"
                  "\"fields\":{\"model\":\"/InstanceType\","
                  "\"price_per_card_hour\":\"/Price/OriginalPrice\",\"memory_gib\":\"/Memory\"}}",
                  &s, &err);
    CHECK(r == 0 && s.npools == 1, "tencent OriginalPrice (rc %d %s)", r, err.detail);
    if (r == 0 && s.npools == 1) {
        CHECK_STR(str(s.pools[0].model), "S2-1", "models alias applied (any case)");
        CHECK_NEAR(s.pools[0].price, 59.0, 0, "tencent /Price/OriginalPrice");
        CHECK(s.pools[0].spot_price < 0, "no spot mapped");
        CHECK_STR(str(s.pools[0].currency), "USD", "currency option");
        CHECK_NEAR(s.pools[0].memory_gib, 1, 0, "tencent /Memory");
    }
    feed_snapshot_free(&s);

    /* Counts: Gpu 0 as total and free: a pool of zero cards, both stated. */
    r = parse_len(doc, len,
                  "{" TENCENT_POOLS ",\"fields\":{\"model\":\"/InstanceFamily\","
                  "\"total\":\"/Gpu\",\"free\":\"/Fpga\"}}",
                  &s, &err);
    CHECK(r == 0 && s.npools == 1, "tencent counts (rc %d %s)", r, err.detail);
    if (r == 0 && s.npools == 1) {
        CHECK_STR(str(s.pools[0].model), "S2", "model from /InstanceFamily");
        CHECK(s.pools[0].has_counts && !s.pools[0].has_price, "counts, no price");
        CHECK(s.pools[0].total == 0 && s.pools[0].free == 0 && s.pools[0].largest_block == 0,
              "zero cards");
    }
    feed_snapshot_free(&s);

    /* ChargeUnit "xx" is no currency: refused at the element's field. */
    r = parse_len(
        doc, len,
        "{" TENCENT_POOLS ",\"fields\":{\"model\":\"/InstanceType\","
        "\"price_per_card_hour\":\"/Price/UnitPrice\",\"currency\":\"/Price/ChargeUnit\"}}",
        &s, &err);
    CHECK(r == -EINVAL &&
              strcmp(err.pointer, "/Response/InstanceTypeQuotaSet/0/Price/ChargeUnit") == 0,
          "ChargeUnit xx refused at its pointer ('%s': %s)", err.pointer, err.detail);
    CHECK(s.npools == 0 && s.pools == NULL, "nothing returned");
    /* RequestId is no time. */
    r = parse_len(doc, len,
                  "{" TENCENT_POOLS ",\"observed_at\":\"/Response/RequestId\","
                  "\"fields\":{\"model\":\"/InstanceType\",\"price_per_card_hour\":\"/Cpu\"}}",
                  &s, &err);
    CHECK(r == -EINVAL && strcmp(err.pointer, "/Response/RequestId") == 0,
          "RequestId as observed_at refused ('%s': %s)", err.pointer, err.detail);
    /* Status "SELL" is not a number. */
    r = parse_len(doc, len,
                  "{" TENCENT_POOLS ",\"fields\":{\"model\":\"/InstanceType\","
                  "\"total\":\"/Status\",\"free\":\"/Gpu\"}}",
                  &s, &err);
    CHECK(r == -EINVAL && strcmp(err.pointer, "/Response/InstanceTypeQuotaSet/0/Status") == 0,
          "Status as total refused ('%s': %s)", err.pointer, err.detail);
    /* A pointer that misses: the price is unknown, and a pool with nothing is dropped. */
    r = parse_len(doc, len,
                  "{" TENCENT_POOLS ",\"fields\":{\"model\":\"/InstanceType\","
                  "\"price_per_card_hour\":\"/Price/HourlyPrice\"}}",
                  &s, &err);
    CHECK(r == 0 && s.npools == 0, "a missing price: no pool (rc %d)", r);
    feed_snapshot_free(&s);
    /* ... unless the operator prices the model. */
    r = parse_len(doc, len,
                  "{" TENCENT_POOLS ",\"fields\":{\"model\":\"/InstanceType\","
                  "\"price_per_card_hour\":\"/Price/HourlyPrice\"},"
                  "\"price_per_card_hour\":{\"S2.SMALL1\":0.25}}",
                  &s, &err);
    CHECK(r == 0 && s.npools == 1 && s.pools[0].has_price && s.pools[0].price == 0.25 &&
              strcmp(s.pools[0].currency, "CNY") == 0,
          "price_per_card_hour option fills an unpriced model (rc %d)", r);
    feed_snapshot_free(&s);
    /* Every prefix returns cleanly. */
    size_t ok = 0, wrong = 0;
    for (size_t n = 0; n <= len; n++) {
        r = parse_len(doc, n,
                      "{" TENCENT_POOLS ",\"fields\":{\"model\":\"/InstanceType\","
                      "\"price_per_card_hour\":\"/Price/UnitPrice\"}}",
                      &s, &err);
        if (r == 0) {
            ok++;
            feed_snapshot_free(&s);
        } else if (!(r == -EINVAL && s.npools == 0 && s.pools == NULL)) {
            wrong++;
        }
    }
    CHECK(wrong == 0 && ok >= 1 && ok <= 2,
          "every prefix of the tencent example: %zu parsed, "
          "%zu wrong",
          ok, wrong);
    free(doc);
}

/*
 * aliyun-ecs-DescribeAvailableResource: a list three arrays deep; the one
 * SupportedResource has Value "ecs.g5.large", Status "Available" and no price.
 */
static void test_aliyun(void)
{
    size_t len = 0;
    char *doc =
        check_read_data("china-cloud/aliyun-ecs-DescribeAvailableResource.docs-example.json", &len);
    CHECK(doc != NULL, "aliyun fixture readable");
    if (!doc)
        return;
    struct feed_snapshot s;
    struct json_error err;
#define ALIYUN_POOLS                                                                               \
    "\"pools\":\"/AvailableZones/AvailableZone/0/AvailableResources/AvailableResource/0/"          \
    "SupportedResources/SupportedResource\""
    int r = parse_len(doc, len,
                      "{" ALIYUN_POOLS ",\"fields\":{\"model\":\"/Value\","
                      "\"price_per_card_hour\":\"/Price\"},"
                      "\"price_per_card_hour\":{\"ecs.g5.large\":1.5}}",
                      &s, &err);
    CHECK(r == 0 && s.npools == 1, "aliyun nested list (rc %d '%s': %s)", r, err.pointer,
          err.detail);
    if (r == 0 && s.npools == 1) {
        CHECK_STR(str(s.pools[0].model), "ecs.g5.large", "aliyun model from /Value");
        CHECK(s.pools[0].has_price && s.pools[0].price == 1.5, "operator price");
        CHECK(s.pools[0].spot_price < 0 && !s.pools[0].has_counts, "no spot, no counts");
    }
    feed_snapshot_free(&s);
    /* Index 1 of AvailableZone does not exist. */
    r = parse_len(doc, len,
                  "{\"pools\":\"/AvailableZones/AvailableZone/1/AvailableResources/"
                  "AvailableResource\",\"fields\":{\"model\":\"/Type\",\"total\":\"/a\","
                  "\"free\":\"/b\"}}",
                  &s, &err);
    CHECK(r == -EINVAL && strcmp(err.pointer, "/AvailableZones/AvailableZone/1/AvailableResources/"
                                              "AvailableResource") == 0,
          "a pools pointer that finds nothing is refused at it ('%s': %s)", err.pointer,
          err.detail);
    /* A leading zero is no array index. */
    r = parse_len(doc, len,
                  "{\"pools\":\"/AvailableZones/AvailableZone/00/AvailableResources/"
                  "AvailableResource\",\"fields\":{\"model\":\"/Type\",\"total\":\"/a\","
                  "\"free\":\"/b\"}}",
                  &s, &err);
    CHECK(r == -EINVAL && strstr(err.pointer, "/00/") != NULL,
          "a pools pointer with index 00 refused ('%s': %s)", err.pointer, err.detail);
    free(doc);
}

/* Tencent InquiryPriceRunInstances holds one price object, not a list: refused. */
static void test_tencent_inquiry(void)
{
    size_t len = 0;
    char *doc = check_read_data(
        "china-cloud/tencent-cvm-InquiryPriceRunInstances-postpaid.tccli-example.json", &len);
    CHECK(doc != NULL, "tencent inquiry fixture readable");
    if (!doc)
        return;
    struct feed_snapshot s;
    struct json_error err;
    int r = parse_len(doc, len,
                      "{\"pools\":\"/Response/Price\",\"fields\":{\"model\":\"/ChargeUnit\","
                      "\"price_per_card_hour\":\"/UnitPrice\"}}",
                      &s, &err);
    CHECK(r == -EINVAL && strcmp(err.pointer, "/Response/Price") == 0 &&
              strstr(err.detail, "array") != NULL,
          "an object where the pools array should be is refused ('%s': %s)", err.pointer,
          err.detail);
    free(doc);
}

/*
 * A vendor document written for this test. Keys with "/" and "~" need the
 * escapes ~1 and ~0; numbers arrive as numbers and as strings.
 */
static const char vendor_doc[] =
    "{\"meta\":{\"generated_at\":\"2026-11-22T09:00:00+08:00\",\"site\":\"example-aidc\"},\n"
    " \"data\":{\"gpus\":[\n"
    "  {\"spec\":{\"name\":\"H800\"},\"stock\":{\"total\":64,\"idle\":\"24\",\"node/max\":8},\n"
    "   \"price\":{\"hour\":\"28.5\",\"spot~hour\":14,\"ccy\":\"CNY\"},\"mem_gib\":80},\n"
    "  {\"spec\":{\"name\":\"910B\"},\"stock\":{\"total\":\"128\",\"idle\":100,\"node/max\":16},\n"
    "   \"price\":null,\"mem_gib\":\"64\"},\n"
    "  {\"spec\":{\"name\":\"H800\"},\"stock\":{\"total\":32,\"idle\":8,\"node/max\":8},\n"
    "   \"price\":{\"hour\":27.0,\"ccy\":\"CNY\"}},\n"
    "  {\"spec\":{\"name\":\"A800\"},\"stock\":{\"total\":16},\"price\":{\"hour\":9.9,"
    "\"ccy\":\"usd\"}},\n"
    "  {\"spec\":{\"name\":\"L40S\"},\"stock\":{},\"price\":{}}\n"
    " ]}}\n";

#define VENDOR_FIELDS                                                                              \
    "\"fields\":{\"model\":\"/spec/name\",\"total\":\"/stock/total\",\"free\":\"/stock/idle\","    \
    "\"largest_block\":\"/stock/node~1max\",\"price_per_card_hour\":\"/price/hour\","              \
    "\"spot_price_per_card_hour\":\"/price/spot~0hour\",\"currency\":\"/price/ccy\","              \
    "\"memory_gib\":\"/mem_gib\"}"
#define VENDOR_OPTIONS                                                                             \
    "{\"pools\":\"/data/gpus\",\"observed_at\":\"/meta/generated_at\","                            \
    "\"models\":{\"910B\":\"Ascend910B\"}," VENDOR_FIELDS "}"

/* 2026-11-22T01:00:00Z (see test-timefmt.c). */
#define T_2026_11_22_01 INT64_C(1795309200000)

/*
 * By hand:
 * - H800: elements 0 and 2: total 64 + 32 = 96, free 24 + 8 = 32, largest 8; price
 *   the lower of 28.5 and 27.0 = 27.0, with element 2's spot (none); memory 80 (element 0).
 * - Ascend910B (910B renamed): 128 / 100 / 16, no price (null), memory "64" = 64.
 * - A800: total without free -> no counts; 9.9 in "usd" -> USD. Warning names /data/gpus/3.
 * - L40S: nothing stated -> no pool.
 * observed_at 09:00+08:00 = 01:00Z.
 */
static void test_vendor(void)
{
    struct feed_snapshot s;
    struct json_error err;
    int r = parse(vendor_doc, VENDOR_OPTIONS, &s, &err);
    CHECK(r == 0, "vendor document parses (rc %d '%s': %s)", r, err.pointer, err.detail);
    if (r != 0)
        return;
    CHECK_EQ_LONG(s.npools, 3, "vendor: three pools");
    CHECK(s.observed_at_ms == T_2026_11_22_01, "observed_at from /meta/generated_at");
    CHECK(strstr(s.warning, "/data/gpus/3") != NULL, "warning names the element: %s", s.warning);
    const struct pool_snapshot *p = find(&s, "H800");
    CHECK(p != NULL, "H800 pool");
    if (p) {
        CHECK(p->has_counts && p->has_price, "H800 counts and price");
        CHECK_EQ_LONG(p->total, 96, "H800 total summed");
        CHECK_EQ_LONG(p->free, 32, "H800 free summed");
        CHECK_EQ_LONG(p->largest_block, 8, "H800 largest_block, escaped key node/max");
        CHECK_NEAR(p->price, 27.0, 0, "H800 lowest price");
        CHECK(p->spot_price < 0, "H800 spot goes with the lowest price (none)");
        CHECK_STR(str(p->currency), "CNY", "H800 currency");
        CHECK_NEAR(p->memory_gib, 80, 0, "H800 memory");
        expect_unstated(p, "vendor");
    }
    p = find(&s, "Ascend910B");
    CHECK(p != NULL && find(&s, "910B") == NULL, "910B reported as Ascend910B");
    if (p) {
        CHECK(p->has_counts && !p->has_price, "Ascend910B counts only");
        CHECK(p->total == 128 && p->free == 100 && p->largest_block == 16,
              "Ascend910B 128/100/16 from a string and numbers");
        CHECK_NEAR(p->memory_gib, 64, 0, "memory from a numeric string");
    }
    p = find(&s, "A800");
    CHECK(p != NULL, "A800 pool");
    if (p) {
        CHECK(!p->has_counts && p->has_price, "A800: total without free is no counts");
        CHECK_NEAR(p->price, 9.9, 0, "A800 price");
        CHECK_STR(str(p->currency), "USD", "currency upper-cased");
        CHECK(p->memory_gib < 0, "A800 memory not stated");
    }
    CHECK(find(&s, "L40S") == NULL, "L40S states nothing: no pool");
    feed_snapshot_free(&s);

    /* Element 0 alone keeps its spot: drop element 2 by pointing at the first two only. */
    r = parse("{\"x\":[{\"n\":\"H800\",\"p\":\"28.5\",\"s\":14}]}",
              "{\"pools\":\"/x\",\"fields\":{\"model\":\"/n\",\"price_per_card_hour\":\"/p\","
              "\"spot_price_per_card_hour\":\"/s\"}}",
              &s, &err);
    CHECK(r == 0 && s.npools == 1 && s.pools[0].price == 28.5 && s.pools[0].spot_price == 14,
          "spot read with its price (rc %d)", r);
    feed_snapshot_free(&s);

    /* Operator prices keyed by the vendor's name of a renamed model; document prices win. */
    r = parse(
        vendor_doc,
        "{\"pools\":\"/data/gpus\",\"models\":{\"910B\":\"Ascend910B\"},"
        "\"currency\":\"USD\",\"price_per_card_hour\":{\"910b\":12.5,\"H800\":1}," VENDOR_FIELDS
        "}",
        &s, &err);
    CHECK(r == 0 && s.npools == 3, "price option (rc %d %s)", r, err.detail);
    if (r == 0) {
        p = find(&s, "Ascend910B");
        CHECK(p && p->has_price && p->price == 12.5 && strcmp(p->currency, "USD") == 0,
              "Ascend910B priced by the option, keyed by 910b");
        p = find(&s, "H800");
        CHECK(p && p->price == 27.0 && strcmp(p->currency, "CNY") == 0,
              "H800 keeps the document's price");
        CHECK(s.observed_at_ms == 0, "no observed_at option: 0");
    }
    feed_snapshot_free(&s);

    /* Every prefix returns cleanly. */
    size_t ok = 0, wrong = 0;
    for (size_t n = 0; n <= strlen(vendor_doc); n++) {
        r = parse_len(vendor_doc, n, VENDOR_OPTIONS, &s, &err);
        if (r == 0) {
            ok++;
            feed_snapshot_free(&s);
        } else if (!(r == -EINVAL && s.npools == 0 && s.pools == NULL)) {
            wrong++;
        }
    }
    CHECK(wrong == 0 && ok >= 1, "every prefix of the vendor document: %zu parsed, %zu wrong", ok,
          wrong);
}

/* RFC 6901 details through small documents: escapes, indices, the root, observed_at forms. */
static void test_pointers(void)
{
    static const struct {
        const char *doc;
        const char *options;
        const char *model;   /* NULL: refused */
        const char *pointer; /* when refused */
        const char *why;
    } cases[] = {
        {"[{\"m\":\"H100\",\"t\":8,\"f\":4}]",
         "{\"pools\":\"\",\"fields\":{\"model\":\"/m\",\"total\":\"/t\",\"free\":\"/f\"}}", "H100",
         NULL, "a root array with pools \"\""},
        {" \n[{\"m\":\"H100\",\"t\":8,\"f\":4}]\n",
         "{\"pools\":\"\",\"fields\":{\"model\":\"/m\",\"total\":\"/t\",\"free\":\"/f\"}}", "H100",
         NULL, "a root array with white space"},
        {"[\"H100\",\"A800\"]",
         "{\"pools\":\"\",\"fields\":{\"model\":\"\",\"total\":\"/t\","
         "\"free\":\"/f\"}}",
         NULL, NULL, "elements that are the model itself, no counts: no pool"},
        {"{\"a\":{\"\":[{\"m\":\"H100\",\"p\":1}]}}",
         "{\"pools\":\"/a/\",\"fields\":{\"model\":\"/m\",\"price_per_card_hour\":\"/p\"}}", "H100",
         NULL, "an empty key"},
        {"{\"a~b\":{\"c/d\":[{\"m\":\"H100\",\"p\":1}]}}",
         "{\"pools\":\"/a~0b/c~1d\",\"fields\":{\"model\":\"/m\",\"price_per_card_hour\":\"/p\"}}",
         "H100", NULL, "~0 and ~1"},
        {"{\"a~1\":[{\"m\":\"H100\",\"p\":1}]}",
         "{\"pools\":\"/a~01\",\"fields\":{\"model\":\"/m\",\"price_per_card_hour\":\"/p\"}}",
         "H100", NULL, "~01 is ~ then 1, not /"},
        {"{\"x\":[{\"n\":[\"A\",\"H100\"],\"p\":1}]}",
         "{\"pools\":\"/x\",\"fields\":{\"model\":\"/n/1\",\"price_per_card_hour\":\"/p\"}}",
         "H100", NULL, "an array index"},
        {"{\"x\":[{\"n\":{\"01\":\"H100\"},\"p\":1}]}",
         "{\"pools\":\"/x\",\"fields\":{\"model\":\"/n/01\",\"price_per_card_hour\":\"/p\"}}",
         "H100", NULL, "01 is a fine object key"},
        {"{\"x\":[{\"n\":[\"A\",\"H100\"],\"p\":1}]}",
         "{\"pools\":\"/x\",\"fields\":{\"model\":\"/n/01\",\"price_per_card_hour\":\"/p\"}}", NULL,
         "/x/0/n/01", "01 is no array index"},
        {"{\"x\":[{\"n\":[\"A\",\"H100\"],\"p\":1}]}",
         "{\"pools\":\"/x\",\"fields\":{\"model\":\"/n/-\",\"price_per_card_hour\":\"/p\"}}", NULL,
         "/x/0/n/-", "- is no element to read"},
        {"{\"x\":[{\"n\":[\"A\",\"H100\"],\"p\":1}]}",
         "{\"pools\":\"/x\",\"fields\":{\"model\":\"/n/+1\",\"price_per_card_hour\":\"/p\"}}", NULL,
         "/x/0/n/+1", "+1 is no array index"},
        {"{\"x\":[{\"n\":[\"A\",\"H100\"],\"p\":1}]}",
         "{\"pools\":\"/x\",\"fields\":{\"model\":\"/n/2\",\"price_per_card_hour\":\"/p\"}}", NULL,
         "/x/0/n/2", "an index past the end: the model is missing"},
        {"{\"x\":[{\"n\":[\"A\",\"H100\"],\"p\":1}]}",
         "{\"pools\":\"/x\",\"fields\":{\"model\":\"/n/99999999999\","
         "\"price_per_card_hour\":\"/p\"}}",
         NULL, "/x/0/n/99999999999", "a huge index"},
        {"{\"x\":[{\"n\":\"H100\",\"p\":{\"v\":1}}]}",
         "{\"pools\":\"/x\",\"fields\":{\"model\":\"/n\",\"price_per_card_hour\":\"/p/v/w\"}}",
         NULL, NULL, "stepping into a number: not found, no price, no pool"},
        {"{\"x\":[{\"n\":\"H100\",\"p\":1}],\"t\":1795309200}",
         "{\"pools\":\"/x\",\"observed_at\":\"/t\",\"fields\":{\"model\":\"/n\","
         "\"price_per_card_hour\":\"/p\"}}",
         "H100", NULL, "observed_at as Unix seconds"},
        {"{\"x\":[{\"n\":\"H100\",\"p\":1}],\"t\":\"1795309200\"}",
         "{\"pools\":\"/x\",\"observed_at\":\"/t\",\"fields\":{\"model\":\"/n\","
         "\"price_per_card_hour\":\"/p\"}}",
         "H100", NULL, "observed_at as a numeric string"},
        {"{\"x\":[{\"n\":\"H100\",\"p\":1}],\"t\":-1}",
         "{\"pools\":\"/x\",\"observed_at\":\"/t\",\"fields\":{\"model\":\"/n\","
         "\"price_per_card_hour\":\"/p\"}}",
         NULL, "/t", "a negative time"},
        {"{\"x\":[{\"n\":\"H100\",\"p\":1}],\"t\":{}}",
         "{\"pools\":\"/x\",\"observed_at\":\"/t\",\"fields\":{\"model\":\"/n\","
         "\"price_per_card_hour\":\"/p\"}}",
         NULL, "/t", "an object as time"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        struct feed_snapshot s;
        struct json_error err;
        int r = parse(cases[i].doc, cases[i].options, &s, &err);
        if (cases[i].pointer) {
            CHECK(r == -EINVAL && strcmp(err.pointer, cases[i].pointer) == 0,
                  "%s: refused at %s (rc %d, got '%s': %s)", cases[i].why, cases[i].pointer, r,
                  err.pointer, err.detail);
            CHECK(s.npools == 0 && s.pools == NULL, "%s: nothing returned", cases[i].why);
            continue;
        }
        CHECK(r == 0, "%s: parses (rc %d '%s': %s)", cases[i].why, r, err.pointer, err.detail);
        if (r != 0)
            continue;
        if (cases[i].model)
            CHECK(s.npools == 1 && strcmp(s.pools[0].model, cases[i].model) == 0, "%s: pool %s",
                  cases[i].why, cases[i].model);
        else
            CHECK(s.npools == 0, "%s: no pool (%zu)", cases[i].why, s.npools);
        if (strstr(cases[i].why, "observed_at"))
            CHECK(s.observed_at_ms == T_2026_11_22_01, "%s: %lld", cases[i].why,
                  (long long)s.observed_at_ms);
        feed_snapshot_free(&s);
    }
}

#define ONE(pool) "{\"data\":{\"gpus\":[" pool "]}}"
#define E0(stock, price) "{\"spec\":{\"name\":\"H800\"},\"stock\":" stock ",\"price\":" price "}"

static void test_hostile(void)
{
    static const struct {
        const char *doc;
        const char *pointer;
    } cases[] = {
        {"", ""},
        {"{", ""},
        {"[", ""},
        {"[1,2", ""},
        {"[] x", ""},
        {"null", ""},
        {"17", ""},
        {"{}", "/data/gpus"},
        {"{\"data\":[]}", "/data/gpus"},
        {"{\"data\":{\"gpus\":{}}}", "/data/gpus"},
        {"{\"data\":{\"gpus\":\"[]\"}}", "/data/gpus"},
        {"[]", "/meta/generated_at"}, /* observed_at is read first: "meta" is no index */
        {ONE("1"), "/data/gpus/0/spec/name"},
        {ONE("{}"), "/data/gpus/0/spec/name"},
        {ONE("{\"spec\":{\"name\":7}}"), "/data/gpus/0/spec/name"},
        {ONE("{\"spec\":{\"name\":\"\"}}"), "/data/gpus/0/spec/name"},
        {ONE("{\"spec\":{\"name\":\"a\\u0001b\"}}"), "/data/gpus/0/spec/name"},
        {ONE("{\"spec\":{\"name\":\"a-name-that-is-longer-than-sixty-three-bytes-which-really-"
             "is-too-long\"}}"),
         "/data/gpus/0/spec/name"},
        {ONE(E0("{\"total\":8,\"idle\":\"abc\"}", "null")), "/data/gpus/0/stock/idle"},
        {ONE(E0("{\"total\":8,\"idle\":\"nan\"}", "null")), "/data/gpus/0/stock/idle"},
        {ONE(E0("{\"total\":8,\"idle\":\"0x4\"}", "null")), "/data/gpus/0/stock/idle"},
        {ONE(E0("{\"total\":8,\"idle\":\"\"}", "null")), "/data/gpus/0/stock/idle"},
        {ONE(E0("{\"total\":8,\"idle\":true}", "null")), "/data/gpus/0/stock/idle"},
        {ONE(E0("{\"total\":8,\"idle\":[4]}", "null")), "/data/gpus/0/stock/idle"},
        {ONE(E0("{\"total\":8,\"idle\":9}", "null")), "/data/gpus/0/stock/idle"},
        {ONE(E0("{\"total\":-1,\"idle\":0}", "null")), "/data/gpus/0/stock/total"},
        {ONE(E0("{\"total\":2.5,\"idle\":0}", "null")), "/data/gpus/0/stock/total"},
        {ONE(E0("{\"total\":1e300,\"idle\":0}", "null")), "/data/gpus/0/stock/total"},
        {ONE(E0("{\"total\":8,\"idle\":4,\"node/max\":5}", "null")),
         "/data/gpus/0/stock/node~1max"},
        {ONE(E0("{}", "{\"hour\":-2}")), "/data/gpus/0/price/hour"},
        {ONE(E0("{}", "{\"hour\":\"1e400\"}")), "/data/gpus/0/price/hour"},
        {ONE(E0("{}", "{\"hour\":2e6}")), "/data/gpus/0/price/hour"},
        {ONE(E0("{}", "{\"hour\":2,\"spot~hour\":\"x\"}")), "/data/gpus/0/price/spot~0hour"},
        {ONE(E0("{}", "{\"hour\":2,\"ccy\":\"EURO\"}")), "/data/gpus/0/price/ccy"},
        {ONE(E0("{}", "{\"hour\":2,\"ccy\":978}")), "/data/gpus/0/price/ccy"},
        {ONE(E0("{}", "{\"hour\":2,\"ccy\":\"CNY\"}") "," E0("{}", "{\"hour\":1,\"ccy\":\"USD\"}")),
         "/data/gpus/1/price/ccy"},
        {"{\"data\":{\"gpus\":[" E0("{\"total\":9000000,\"idle\":0}",
                                    "null") "," E0("{\"total\":9000000,\"idle\":0}", "null") "]}}",
         "/data/gpus/1"},
        {"{\"meta\":{\"generated_at\":\"yesterday\"},\"data\":{\"gpus\":[]}}",
         "/meta/generated_at"},
        {"{\"meta\":{\"generated_at\":\"2026-13-45T99:00:00Z\"},\"data\":{\"gpus\":[]}}",
         "/meta/generated_at"},
        {"<html><body>502 Bad Gateway</body></html>", ""},
        {"{\"data\":{\"gpus\":[]}}\u00a0", ""},
    };
    for (size_t i = 0; i < N(cases); i++) {
        struct feed_snapshot s;
        struct json_error err;
        int r = parse(cases[i].doc, VENDOR_OPTIONS, &s, &err);
        CHECK(r == -EINVAL && strcmp(err.pointer, cases[i].pointer) == 0 && err.detail[0],
              "hostile %zu refused at '%s' (rc %d, got '%s': %s)", i, cases[i].pointer, r,
              err.pointer, err.detail);
        CHECK(s.npools == 0 && s.pools == NULL && s.next_url == NULL, "hostile %zu: empty snapshot",
              i);
    }
    struct feed_snapshot s;
    struct json_error err;
    /* Missing or bad options reach parse too: refused. */
    int r = parse(vendor_doc, NULL, &s, &err);
    CHECK(r == -EINVAL && s.npools == 0, "parse without options refused (%s)", err.detail);
    r = parse(vendor_doc, "{\"pools\":\"data\",\"fields\":{\"model\":\"/n\",\"total\":\"/t\"}}", &s,
              &err);
    CHECK(r == -EINVAL && s.npools == 0, "parse with bad options refused (%s)", err.detail);

    /* More models than a snapshot holds; more elements than the cap. */
    size_t cap = 40u << 20;
    char *g = malloc(cap);
    size_t n = (size_t)snprintf(g, cap, "[");
    for (int i = 0; i <= ADAPTER_MAX_POOLS; i++)
        n += (size_t)snprintf(g + n, cap - n, "%s{\"m\":\"m%d\",\"p\":1}", i ? "," : "", i);
    n += (size_t)snprintf(g + n, cap - n, "]");
    r = parse_len(g, n,
                  "{\"pools\":\"\",\"fields\":{\"model\":\"/m\",\"price_per_card_hour\":\"/p\"}}",
                  &s, &err);
    CHECK(r == -EINVAL && s.npools == 0, "%d models refused (%s)", ADAPTER_MAX_POOLS + 1,
          err.detail);
    n = (size_t)snprintf(g, cap, "[");
    for (int i = 0; i <= 16384; i++)
        n += (size_t)snprintf(g + n, cap - n, "%s{\"m\":\"H100\",\"t\":1,\"f\":1}", i ? "," : "");
    n += (size_t)snprintf(g + n, cap - n, "]");
    r = parse_len(g, n,
                  "{\"pools\":\"\",\"fields\":{\"model\":\"/m\",\"total\":\"/t\",\"free\":\"/f\"}}",
                  &s, &err);
    CHECK(r == -EINVAL && strcmp(err.pointer, "") == 0 && s.npools == 0,
          "16385 elements refused ('%s': %s)", err.pointer, err.detail);
    /* 16384 elements of one model: summed. */
    n = (size_t)snprintf(g, cap, "[");
    for (int i = 0; i < 16384; i++)
        n += (size_t)snprintf(g + n, cap - n, "%s{\"m\":\"H100\",\"t\":2,\"f\":1}", i ? "," : "");
    n += (size_t)snprintf(g + n, cap - n, "]");
    r = parse_len(g, n,
                  "{\"pools\":\"\",\"fields\":{\"model\":\"/m\",\"total\":\"/t\",\"free\":\"/f\"}}",
                  &s, &err);
    CHECK(r == 0 && s.npools == 1 && s.pools[0].total == 32768 && s.pools[0].free == 16384 &&
              s.pools[0].largest_block == 1,
          "16384 elements of one model summed (rc %d)", r);
    feed_snapshot_free(&s);

    /* 10 MB of garbage and 10 MB of nesting. */
    size_t big = 10u << 20;
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < big; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        g[i] = (char)(x & 0xff);
    }
    r = parse_len(g, big, VENDOR_OPTIONS, &s, &err);
    CHECK(r == -EINVAL && s.npools == 0, "10 MB of garbage refused (rc %d)", r);
    memset(g, '[', big);
    r = parse_len(g, big, VENDOR_OPTIONS, &s, &err);
    CHECK(r == -EINVAL && s.npools == 0, "10 MB of '[' refused (rc %d)", r);
    free(g);
}

static void test_options(void)
{
    static const struct {
        const char *options;
        const char *pointer; /* NULL: accepted */
    } cases[] = {
        {VENDOR_OPTIONS, NULL},
        {"{\"pools\":\"\",\"fields\":{\"model\":\"\",\"price_per_card_hour\":\"/p\"}}", NULL},
        {"{\"pools\":\"/a\",\"fields\":{\"model\":\"/m\",\"total\":\"/t\",\"free\":\"/f\"},"
         "\"currency\":\"USD\",\"price_per_card_hour\":{\"H100\":2.5},"
         "\"models\":{\"gpu-h100\":\"H100\"},\"observed_at\":\"/ts\"}",
         NULL},
        {NULL, "/feeds/2/options/pools"},
        {"{}", "/feeds/2/options/pools"},
        {"{\"pools\":\"/a\"}", "/feeds/2/options/fields"},
        {"{\"pools\":\"/a\",\"fields\":{\"model\":\"/m\",\"total\":\"/t\",\"free\":\"/f\"},"
         "\"extra\":1}",
         "/feeds/2/options/extra"},
        {"{\"pools\":5,\"fields\":{}}", "/feeds/2/options/pools"},
        {"{\"pools\":\"a\",\"fields\":{\"model\":\"/m\",\"price_per_card_hour\":\"/p\"}}",
         "/feeds/2/options/pools"},
        {"{\"pools\":\"/a~2\",\"fields\":{\"model\":\"/m\",\"price_per_card_hour\":\"/p\"}}",
         "/feeds/2/options/pools"},
        {"{\"pools\":\"/a~\",\"fields\":{\"model\":\"/m\",\"price_per_card_hour\":\"/p\"}}",
         "/feeds/2/options/pools"},
        {"{\"pools\":\"/a\\nb\",\"fields\":{\"model\":\"/m\",\"price_per_card_hour\":\"/p\"}}",
         "/feeds/2/options/pools"},
        {"{\"pools\":\"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"fields\":{\"model\":"
         "\"/m\",\"price_per_card_hour\":\"/p\"}}",
         "/feeds/2/options/pools"},
        {"{\"pools\":\"/a\",\"fields\":[]}", "/feeds/2/options/fields"},
        {"{\"pools\":\"/a\",\"fields\":{\"price_per_card_hour\":\"/p\"}}",
         "/feeds/2/options/fields/model"},
        {"{\"pools\":\"/a\",\"fields\":{\"model\":\"/m\",\"price\":\"/p\"}}",
         "/feeds/2/options/fields/price"},
        {"{\"pools\":\"/a\",\"fields\":{\"model\":\"/m\",\"vendor\":\"/v\","
         "\"price_per_card_hour\":\"/p\"}}",
         "/feeds/2/options/fields/vendor"},
        {"{\"pools\":\"/a\",\"fields\":{\"model\":\"/m\",\"price_per_card_hour\":\"p\"}}",
         "/feeds/2/options/fields/price_per_card_hour"},
        {"{\"pools\":\"/a\",\"fields\":{\"model\":5,\"price_per_card_hour\":\"/p\"}}",
         "/feeds/2/options/fields/model"},
        {"{\"pools\":\"/a\",\"fields\":{\"model\":\"/m\"}}", "/feeds/2/options/fields"},
        {"{\"pools\":\"/a\",\"fields\":{\"model\":\"/m\",\"total\":\"/t\"}}",
         "/feeds/2/options/fields/free"},
        {"{\"pools\":\"/a\",\"fields\":{\"model\":\"/m\",\"free\":\"/f\"}}",
         "/feeds/2/options/fields/total"},
        {"{\"pools\":\"/a\",\"fields\":{\"model\":\"/m\",\"largest_block\":\"/b\","
         "\"price_per_card_hour\":\"/p\"}}",
         "/feeds/2/options/fields/largest_block"},
        {"{\"pools\":\"/a\",\"fields\":{\"model\":\"/m\",\"total\":\"/t\",\"free\":\"/f\","
         "\"spot_price_per_card_hour\":\"/s\"}}",
         "/feeds/2/options/fields/spot_price_per_card_hour"},
        {"{\"pools\":\"/a\",\"fields\":{\"model\":\"/m\",\"price_per_card_hour\":\"/p\"},"
         "\"observed_at\":\"t\"}",
         "/feeds/2/options/observed_at"},
        {"{\"pools\":\"/a\",\"fields\":{\"model\":\"/m\",\"price_per_card_hour\":\"/p\"},"
         "\"currency\":\"cny\"}",
         "/feeds/2/options/currency"},
        {"{\"pools\":\"/a\",\"fields\":{\"model\":\"/m\",\"price_per_card_hour\":\"/p\"},"
         "\"models\":{\"x\":1}}",
         "/feeds/2/options/models/x"},
        {"{\"pools\":\"/a\",\"fields\":{\"model\":\"/m\",\"price_per_card_hour\":\"/p\"},"
         "\"price_per_card_hour\":{\"H100\":-1}}",
         "/feeds/2/options/price_per_card_hour/H100"},
        {"{\"pools\":\"/a\",\"fields\":{\"model\":\"/m\",\"price_per_card_hour\":\"/p\"},"
         "\"price_per_card_hour\":{\"H100\":\"2\"}}",
         "/feeds/2/options/price_per_card_hour/H100"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        struct json_error err = {0};
        cJSON *o = cases[i].options ? cJSON_Parse(cases[i].options) : NULL;
        if (cases[i].options && !o)
            fprintf(stderr, "# bad test options %zu\n", i);
        int r = adapter_check_options(mp, o, "/feeds/2/options", &err);
        if (!cases[i].pointer)
            CHECK(r == 0, "options %zu accepted (rc %d '%s': %s)", i, r, err.pointer, err.detail);
        else
            CHECK(r == -EINVAL && strcmp(err.pointer, cases[i].pointer) == 0,
                  "options %zu refused at %s (got rc %d '%s': %s)", i, cases[i].pointer, r,
                  err.pointer, err.detail);
        cJSON_Delete(o);
    }
}

int main(void)
{
    test_registry();
    test_tencent();
    test_aliyun();
    test_tencent_inquiry();
    test_vendor();
    test_pointers();
    test_hostile();
    test_options();
    return check_done();
}
