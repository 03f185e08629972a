/*
 * test-request — placement request parsing (SPEC §2, §4 POST /v1/placements):
 * the SPEC example and a request with every field away from its default read
 * back field by field, the defaults of absent fields, a pflops request, and a
 * table of bad bodies each refused with -EINVAL and the JSON pointer of the
 * field at fault. Bodies are passed as exact-size buffers without a NUL.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "request.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Passes arrays through a pointer so CHECK_STR's NULL test does not trip -Waddress. */
static const char *str(const char *s)
{
    return s;
}

/* Parses text from an exact-size heap copy, as a request body arrives off the wire. */
static int parse(const char *text, size_t len, struct placement_request *req,
                 struct json_error *err)
{
    char *body = malloc(len ? len : 1);
    if (!body)
        return -ENOMEM;
    memcpy(body, text, len);
    memset(err, 0, sizeof(*err));
    snprintf(err->pointer, sizeof(err->pointer), "UNSET");
    int r = request_parse(body, len, req, err);
    /* The parsed request must not borrow from the body. */
    memset(body, 'X', len);
    free(body);
    return r;
}

static int parse_str(const char *text, struct placement_request *req, struct json_error *err)
{
    return parse(text, strlen(text), req, err);
}

/* The POST /v1/placements example of SPEC §4, verbatim. */
static const char spec_example[] =
    "{\"precision\":\"bf16\",\"cards\":64,\"hours\":72,\"origin\":\"cn-shanghai\",\n"
    "                      \"max_latency_ms\":30,\"max_price_per_card_hour\":40,"
    "\"min_memory_gib\":64,\n"
    "                      \"domestic_only\":false,\"regions_allowed\":[],\"regions_denied\":[],"
    "\"labels\":{},\n"
    "                      \"gang\":true,\"vouchers\":[\"SH-2026-0001\"],\n"
    "                      \"weights\":{\"cost\":1,\"latency\":0.5,\"balance\":0.2},"
    "\"hold_seconds\":300,\"dry_run\":false}";

static void test_spec_example(void)
{
    struct placement_request req;
    struct json_error err;
    int r = parse_str(spec_example, &req, &err);
    CHECK(r == 0, "SPEC example parses (rc %d, pointer '%s', %s)", r, err.pointer, err.detail);
    if (r != 0)
        return;
    const struct route_request *rr = &req.route;
    CHECK(rr->precision == PREC_BF16, "example precision is bf16");
    CHECK_EQ_LONG(rr->cards, 64, "example cards");
    CHECK(rr->pflops == 0, "example pflops unset");
    CHECK_NEAR(rr->hours, 72.0, 0, "example hours");
    CHECK_STR(req.origin, "cn-shanghai", "example origin");
    CHECK_NEAR(rr->max_latency_ms, 30.0, 0, "example max_latency_ms");
    CHECK_NEAR(rr->max_price, 40.0, 0, "example max_price_per_card_hour");
    CHECK_NEAR(rr->min_memory_gib, 64.0, 0, "example min_memory_gib");
    CHECK(!rr->domestic_only, "example domestic_only false");
    CHECK_EQ_LONG(rr->nallowed, 0, "example regions_allowed empty");
    CHECK_EQ_LONG(rr->ndenied, 0, "example regions_denied empty");
    CHECK_EQ_LONG(rr->nlabels, 0, "example labels empty");
    CHECK(rr->gang, "example gang true");
    CHECK_EQ_LONG(req.nvouchers, 1, "example one voucher");
    if (req.nvouchers == 1)
        CHECK_STR(req.vouchers[0], "SH-2026-0001", "example voucher id");
    CHECK_NEAR(rr->weights.cost, 1.0, 0, "example weight cost");
    CHECK_NEAR(rr->weights.latency, 0.5, 0, "example weight latency");
    CHECK_NEAR(rr->weights.balance, 0.2, 0, "example weight balance");
    CHECK_EQ_LONG(req.hold_seconds, 300, "example hold_seconds");
    CHECK(!req.dry_run, "example dry_run false");
    CHECK(req.doc != NULL, "example keeps the document the strings point into");
    request_free(&req);
    CHECK(req.doc == NULL && req.vouchers == NULL && req.nvouchers == 0,
          "request_free empties the request");
    request_free(&req); /* a second free is harmless */
    request_free(NULL);
}

/* Every field away from its default. */
static const char full_request[] =
    "{\"precision\":\"int8\",\"cards\":8,\"hours\":0.5,\"origin\":\"cn-ulanqab\","
    "\"max_latency_ms\":12.5,\"max_price_per_card_hour\":9.75,\"min_memory_gib\":80,"
    "\"domestic_only\":true,\"regions_allowed\":[\"cn-shanghai\",\"cn-hangzhou\"],"
    "\"regions_denied\":[\"cn-beijing\"],"
    "\"labels\":{\"residency\":\"shanghai\",\"grade\":\"dengbao3\"},"
    "\"gang\":false,\"vouchers\":[\"SH-2026-0001\",\"NM-2026-7\"],"
    "\"weights\":{\"cost\":2,\"latency\":0,\"balance\":0.25},"
    "\"hold_seconds\":600,\"dry_run\":true}";

static void test_full_request(void)
{
    struct placement_request req;
    struct json_error err;
    int r = parse_str(full_request, &req, &err);
    CHECK(r == 0, "full request parses (rc %d, pointer '%s', %s)", r, err.pointer, err.detail);
    if (r != 0)
        return;
    const struct route_request *rr = &req.route;
    CHECK(rr->precision == PREC_INT8, "full precision is int8");
    CHECK_EQ_LONG(rr->cards, 8, "full cards");
    CHECK_NEAR(rr->hours, 0.5, 0, "full hours");
    CHECK_STR(req.origin, "cn-ulanqab", "full origin");
    CHECK_NEAR(rr->max_latency_ms, 12.5, 0, "full max_latency_ms");
    CHECK_NEAR(rr->max_price, 9.75, 0, "full max_price_per_card_hour");
    CHECK_NEAR(rr->min_memory_gib, 80.0, 0, "full min_memory_gib");
    CHECK(rr->domestic_only, "full domestic_only true");
    CHECK_EQ_LONG(rr->nallowed, 2, "full regions_allowed count");
    if (rr->nallowed == 2) {
        CHECK_STR(rr->regions_allowed[0], "cn-shanghai", "full regions_allowed[0]");
        CHECK_STR(rr->regions_allowed[1], "cn-hangzhou", "full regions_allowed[1]");
    }
    CHECK_EQ_LONG(rr->ndenied, 1, "full regions_denied count");
    if (rr->ndenied == 1)
        CHECK_STR(rr->regions_denied[0], "cn-beijing", "full regions_denied[0]");
    CHECK_EQ_LONG(rr->nlabels, 2, "full labels count");
    if (rr->nlabels == 2) {
        CHECK_STR(rr->labels[0].key, "residency", "full label 0 key");
        CHECK_STR(rr->labels[0].value, "shanghai", "full label 0 value");
        CHECK_STR(rr->labels[1].key, "grade", "full label 1 key");
        CHECK_STR(rr->labels[1].value, "dengbao3", "full label 1 value");
    }
    CHECK(!rr->gang, "full gang false");
    CHECK_EQ_LONG(req.nvouchers, 2, "full voucher count");
    if (req.nvouchers == 2) {
        CHECK_STR(req.vouchers[0], "SH-2026-0001", "full voucher 0");
        CHECK_STR(req.vouchers[1], "NM-2026-7", "full voucher 1");
    }
    CHECK_NEAR(rr->weights.cost, 2.0, 0, "full weight cost");
    CHECK_NEAR(rr->weights.latency, 0.0, 0, "full weight latency");
    CHECK_NEAR(rr->weights.balance, 0.25, 0, "full weight balance");
    CHECK_EQ_LONG(req.hold_seconds, 600, "full hold_seconds");
    CHECK(req.dry_run, "full dry_run true");
    /* The route's borrowed arrays are the request's owned ones. */
    CHECK((const void *)rr->regions_allowed == (const void *)req.allowed &&
              (const void *)rr->regions_denied == (const void *)req.denied &&
              (const void *)rr->labels == (const void *)req.labels,
          "route arrays point at the request's arrays");
    request_free(&req);
}

/* Absent optional fields take their documented defaults (SPEC §2, §3). */
static void test_defaults(void)
{
    static const char *const bodies[] = {
        "{\"precision\":\"fp16\",\"cards\":1,\"hours\":1,\"origin\":\"cn-x\"}",
        /* null is the same as absent */
        "{\"precision\":\"fp16\",\"cards\":1,\"hours\":1,\"origin\":\"cn-x\","
        "\"max_latency_ms\":null,\"max_price_per_card_hour\":null,\"min_memory_gib\":null,"
        "\"domestic_only\":null,\"regions_allowed\":null,\"regions_denied\":null,"
        "\"labels\":null,\"gang\":null,\"vouchers\":null,\"weights\":null,"
        "\"hold_seconds\":null,\"dry_run\":null,\"pflops\":null}",
    };
    for (size_t i = 0; i < N(bodies); i++) {
        struct placement_request req;
        struct json_error err;
        int r = parse_str(bodies[i], &req, &err);
        CHECK(r == 0, "defaults body %zu parses (rc %d, pointer '%s')", i, r, err.pointer);
        if (r != 0)
            continue;
        const struct route_request *rr = &req.route;
        CHECK(rr->precision == PREC_FP16, "defaults %zu: precision fp16", i);
        CHECK_EQ_LONG(rr->cards, 1, "defaults: cards");
        CHECK(rr->pflops == 0, "defaults %zu: pflops 0", i);
        CHECK_NEAR(rr->hours, 1.0, 0, "defaults: hours");
        CHECK_STR(req.origin, "cn-x", "defaults: origin");
        CHECK(rr->gang, "defaults %zu: gang true", i);
        CHECK_EQ_LONG(req.hold_seconds, 300, "defaults: hold_seconds 300");
        CHECK_NEAR(rr->weights.cost, 1.0, 0, "defaults: weight cost 1");
        CHECK_NEAR(rr->weights.latency, 0.5, 0, "defaults: weight latency 0.5");
        CHECK_NEAR(rr->weights.balance, 0.2, 0, "defaults: weight balance 0.2");
        CHECK_NEAR(rr->max_latency_ms, -1.0, 0, "defaults: max_latency_ms -1 (no limit)");
        CHECK_NEAR(rr->max_price, -1.0, 0, "defaults: max_price -1 (no limit)");
        CHECK_NEAR(rr->min_memory_gib, 0.0, 0, "defaults: min_memory_gib 0 (no limit)");
        CHECK(!rr->domestic_only, "defaults %zu: domestic_only false", i);
        CHECK(rr->nallowed == 0 && rr->regions_allowed == NULL, "defaults %zu: no allowed", i);
        CHECK(rr->ndenied == 0 && rr->regions_denied == NULL, "defaults %zu: no denied", i);
        CHECK(rr->nlabels == 0 && rr->labels == NULL, "defaults %zu: no labels", i);
        CHECK(req.nvouchers == 0 && req.vouchers == NULL, "defaults %zu: no vouchers", i);
        CHECK(!req.dry_run, "defaults %zu: dry_run false", i);
        request_free(&req);
    }
}

static void test_pflops(void)
{
    struct placement_request req;
    struct json_error err;
    int r =
        parse_str("{\"precision\":\"fp8\",\"pflops\":2.5,\"hours\":10,\"origin\":\"cn-ulanqab\"}",
                  &req, &err);
    CHECK(r == 0, "pflops request parses (rc %d, pointer '%s')", r, err.pointer);
    if (r != 0)
        return;
    CHECK(req.route.precision == PREC_FP8, "pflops precision fp8");
    CHECK_EQ_LONG(req.route.cards, 0, "pflops request has cards 0");
    CHECK_NEAR(req.route.pflops, 2.5, 0, "pflops value");
    CHECK_NEAR(req.route.hours, 10.0, 0, "pflops hours");
    CHECK_STR(req.origin, "cn-ulanqab", "pflops origin");
    request_free(&req);
}

/* Every precision name maps to its enum; nothing else does. */
static void test_precisions(void)
{
    struct {
        const char *name;
        enum precision want;
    } cases[] = {
        {"fp64", PREC_FP64}, {"fp32", PREC_FP32}, {"tf32", PREC_TF32}, {"bf16", PREC_BF16},
        {"fp16", PREC_FP16}, {"fp8", PREC_FP8},   {"int8", PREC_INT8},
    };
    for (size_t i = 0; i < N(cases); i++) {
        char body[160];
        snprintf(body, sizeof(body),
                 "{\"precision\":\"%s\",\"cards\":2,\"hours\":3,\"origin\":\"cn-x\"}",
                 cases[i].name);
        struct placement_request req;
        struct json_error err;
        int r = parse_str(body, &req, &err);
        CHECK(r == 0 && req.route.precision == cases[i].want, "precision %s parses to %d",
              cases[i].name, (int)cases[i].want);
        request_free(&req);
    }
}

/* The required fields but cards and pflops, for building bodies. */
#define B "\"precision\":\"bf16\",\"hours\":72,\"origin\":\"cn-shanghai\""

/* Boundary values that must be accepted. */
static void test_accepted_bounds(void)
{
    struct {
        const char *name;
        const char *body;
    } cases[] = {
        {"cards 1", "{" B ",\"cards\":1}"},
        {"cards 64.0 (whole)", "{" B ",\"cards\":64.0}"},
        {"cards 6.4e1 (whole)", "{" B ",\"cards\":6.4e1}"},
        {"hold_seconds 1", "{" B ",\"cards\":1,\"hold_seconds\":1}"},
        {"hold_seconds 86400", "{" B ",\"cards\":1,\"hold_seconds\":86400}"},
        {"max_latency_ms 0", "{" B ",\"cards\":1,\"max_latency_ms\":0}"},
        {"one weight non-zero", "{" B ",\"cards\":1,\"weights\":{\"latency\":1}}"},
        {"64 vouchers (the limit)",
         "{" B ",\"cards\":1,\"vouchers\":[\"v0\",\"v1\",\"v2\",\"v3\",\"v4\",\"v5\",\"v6\","
         "\"v7\",\"v8\",\"v9\",\"v10\",\"v11\",\"v12\",\"v13\",\"v14\",\"v15\",\"v16\",\"v17\","
         "\"v18\",\"v19\",\"v20\",\"v21\",\"v22\",\"v23\",\"v24\",\"v25\",\"v26\",\"v27\","
         "\"v28\",\"v29\",\"v30\",\"v31\",\"v32\",\"v33\",\"v34\",\"v35\",\"v36\",\"v37\","
         "\"v38\",\"v39\",\"v40\",\"v41\",\"v42\",\"v43\",\"v44\",\"v45\",\"v46\",\"v47\","
         "\"v48\",\"v49\",\"v50\",\"v51\",\"v52\",\"v53\",\"v54\",\"v55\",\"v56\",\"v57\","
         "\"v58\",\"v59\",\"v60\",\"v61\",\"v62\",\"v63\"]}"},
        {"white space around", " \n{" B ",\"cards\":1}\n "},
    };
    for (size_t i = 0; i < N(cases); i++) {
        struct placement_request req;
        struct json_error err;
        int r = parse_str(cases[i].body, &req, &err);
        CHECK(r == 0, "accepted %s (rc %d, pointer '%s')", cases[i].name, r, err.pointer);
        if (r == 0 && strncmp(cases[i].name, "cards 6", 7) == 0)
            CHECK_EQ_LONG(req.route.cards, 64, cases[i].name);
        if (r == 0 && strcmp(cases[i].name, "one weight non-zero") == 0)
            /* A request's weights replace the defaults whole (request.c). */
            CHECK(req.route.weights.cost == 0 && req.route.weights.latency == 1 &&
                      req.route.weights.balance == 0,
                  "weights given replace the defaults whole");
        if (r == 0 && strncmp(cases[i].name, "64 vouchers", 11) == 0) {
            CHECK_EQ_LONG(req.nvouchers, 64, "64 vouchers kept");
            if (req.nvouchers == 64)
                CHECK_STR(req.vouchers[63], "v63", "last voucher");
        }
        request_free(&req);
    }
}

/* ---- bad bodies ---- */

struct bad_case {
    const char *name;
    const char *body;
    long len; /* -1: strlen */
    const char *want_ptr;
};

static const struct bad_case bad_cases[] = {
    /* The whole document. */
    {"malformed JSON", "{\"precision\":\"bf16\",", -1, ""},
    {"malformed: missing value", "{\"precision\":}", -1, ""},
    {"array", "[]", -1, ""},
    {"string", "\"x\"", -1, ""},
    {"number", "64", -1, ""},
    {"null", "null", -1, ""},
    {"trailing garbage", "{" B ",\"cards\":64} x", -1, ""},
    {"second object", "{" B ",\"cards\":64}{}", -1, ""},
    {"empty body", "", -1, ""},
    {"white space only", "   ", -1, ""},
    {"cut short by len", "{" B ",\"cards\":64}", 20, ""},
    /* Unknown fields. */
    {"unknown top-level field", "{" B ",\"cards\":64,\"colour\":\"red\"}", -1, "/colour"},
    {"unknown field, case differs", "{" B ",\"Cards\":64}", -1, "/Cards"},
    {"unknown field with '/'", "{" B ",\"cards\":64,\"a/b\":1}", -1, "/a~1b"},
    /* precision */
    {"unknown precision fp4",
     "{\"precision\":\"fp4\",\"cards\":64,\"hours\":72,\"origin\":\"cn-shanghai\"}", -1,
     "/precision"},
    {"precision upper case",
     "{\"precision\":\"BF16\",\"cards\":64,\"hours\":72,\"origin\":\"cn-shanghai\"}", -1,
     "/precision"},
    {"precision as a number",
     "{\"precision\":16,\"cards\":64,\"hours\":72,\"origin\":\"cn-shanghai\"}", -1, "/precision"},
    {"precision missing", "{\"cards\":64,\"hours\":72,\"origin\":\"cn-shanghai\"}", -1,
     "/precision"},
    {"precision empty", "{\"precision\":\"\",\"cards\":64,\"hours\":72,\"origin\":\"cn-shanghai\"}",
     -1, "/precision"},
    /* cards / pflops */
    {"cards as a string", "{" B ",\"cards\":\"64\"}", -1, "/cards"},
    {"cards 0", "{" B ",\"cards\":0}", -1, "/cards"},
    {"cards negative", "{" B ",\"cards\":-8}", -1, "/cards"},
    {"cards 1.5", "{" B ",\"cards\":1.5}", -1, "/cards"},
    {"cards 1e12", "{" B ",\"cards\":1e12}", -1, "/cards"},
    {"cards 1e400 (inf)", "{" B ",\"cards\":1e400}", -1, "/cards"},
    {"cards -1e400 (-inf)", "{" B ",\"cards\":-1e400}", -1, "/cards"},
    {"cards true", "{" B ",\"cards\":true}", -1, "/cards"},
    {"both cards and pflops", "{" B ",\"cards\":64,\"pflops\":1}", -1, "/cards"},
    {"neither cards nor pflops", "{" B "}", -1, "/cards"},
    {"pflops 0", "{" B ",\"pflops\":0}", -1, "/pflops"},
    {"pflops negative", "{" B ",\"pflops\":-1}", -1, "/pflops"},
    {"pflops as a string", "{" B ",\"pflops\":\"1\"}", -1, "/pflops"},
    {"pflops 1e400 (inf)", "{" B ",\"pflops\":1e400}", -1, "/pflops"},
    /* hours */
    {"hours missing", "{\"precision\":\"bf16\",\"cards\":64,\"origin\":\"cn-shanghai\"}", -1,
     "/hours"},
    {"hours 0", "{\"precision\":\"bf16\",\"cards\":64,\"hours\":0,\"origin\":\"cn-shanghai\"}", -1,
     "/hours"},
    {"hours negative",
     "{\"precision\":\"bf16\",\"cards\":64,\"hours\":-72,\"origin\":\"cn-shanghai\"}", -1,
     "/hours"},
    {"hours as a string",
     "{\"precision\":\"bf16\",\"cards\":64,\"hours\":\"72\",\"origin\":\"cn-shanghai\"}", -1,
     "/hours"},
    {"hours 1e400 (inf)",
     "{\"precision\":\"bf16\",\"cards\":64,\"hours\":1e400,\"origin\":\"cn-shanghai\"}", -1,
     "/hours"},
    /* origin */
    {"origin missing", "{\"precision\":\"bf16\",\"cards\":64,\"hours\":72}", -1, "/origin"},
    {"origin empty", "{\"precision\":\"bf16\",\"cards\":64,\"hours\":72,\"origin\":\"\"}", -1,
     "/origin"},
    {"origin as a number", "{\"precision\":\"bf16\",\"cards\":64,\"hours\":72,\"origin\":5}", -1,
     "/origin"},
    /* limits */
    {"max_latency_ms negative", "{" B ",\"cards\":64,\"max_latency_ms\":-1}", -1,
     "/max_latency_ms"},
    {"max_latency_ms as a string", "{" B ",\"cards\":64,\"max_latency_ms\":\"30\"}", -1,
     "/max_latency_ms"},
    {"max_price_per_card_hour as a string",
     "{" B ",\"cards\":64,\"max_price_per_card_hour\":\"40\"}", -1, "/max_price_per_card_hour"},
    {"max_price_per_card_hour negative", "{" B ",\"cards\":64,\"max_price_per_card_hour\":-5}", -1,
     "/max_price_per_card_hour"},
    {"min_memory_gib negative", "{" B ",\"cards\":64,\"min_memory_gib\":-1}", -1,
     "/min_memory_gib"},
    {"domestic_only as a string", "{" B ",\"cards\":64,\"domestic_only\":\"no\"}", -1,
     "/domestic_only"},
    /* weights */
    {"weights all 0", "{" B ",\"cards\":64,\"weights\":{\"cost\":0,\"latency\":0,\"balance\":0}}",
     -1, "/weights"},
    {"weights empty object", "{" B ",\"cards\":64,\"weights\":{}}", -1, "/weights"},
    {"weights negative", "{" B ",\"cards\":64,\"weights\":{\"cost\":-1,\"latency\":1}}", -1,
     "/weights/cost"},
    {"weights negative balance", "{" B ",\"cards\":64,\"weights\":{\"cost\":1,\"balance\":-0.1}}",
     -1, "/weights/balance"},
    {"unknown weight key", "{" B ",\"cards\":64,\"weights\":{\"cost\":1,\"speed\":1}}", -1,
     "/weights/speed"},
    {"weight as a string", "{" B ",\"cards\":64,\"weights\":{\"cost\":\"1\"}}", -1,
     "/weights/cost"},
    {"weights an array", "{" B ",\"cards\":64,\"weights\":[1,0.5,0.2]}", -1, "/weights"},
    {"weight 1e400 (inf)", "{" B ",\"cards\":64,\"weights\":{\"cost\":1e400}}", -1,
     "/weights/cost"},
    /* lists and labels */
    {"labels with a non-string value", "{" B ",\"cards\":64,\"labels\":{\"residency\":1}}", -1,
     "/labels/residency"},
    {"labels as an array", "{" B ",\"cards\":64,\"labels\":[\"residency=shanghai\"]}", -1,
     "/labels"},
    {"regions_allowed not an array", "{" B ",\"cards\":64,\"regions_allowed\":\"cn-shanghai\"}", -1,
     "/regions_allowed"},
    {"regions_denied with a number", "{" B ",\"cards\":64,\"regions_denied\":[\"cn-x\",7]}", -1,
     "/regions_denied/1"},
    {"vouchers with a number", "{" B ",\"cards\":64,\"vouchers\":[\"SH-2026-0001\",5]}", -1,
     "/vouchers/1"},
    {"vouchers with an empty id", "{" B ",\"cards\":64,\"vouchers\":[\"\"]}", -1, "/vouchers/0"},
    {"vouchers not an array", "{" B ",\"cards\":64,\"vouchers\":\"SH-2026-0001\"}", -1,
     "/vouchers"},
    /* hold, gang, dry run */
    {"hold_seconds 0", "{" B ",\"cards\":64,\"hold_seconds\":0}", -1, "/hold_seconds"},
    {"hold_seconds 10^9", "{" B ",\"cards\":64,\"hold_seconds\":1000000000}", -1, "/hold_seconds"},
    {"hold_seconds 86401", "{" B ",\"cards\":64,\"hold_seconds\":86401}", -1, "/hold_seconds"},
    {"hold_seconds 1.5", "{" B ",\"cards\":64,\"hold_seconds\":1.5}", -1, "/hold_seconds"},
    {"gang as a string", "{" B ",\"cards\":64,\"gang\":\"yes\"}", -1, "/gang"},
    {"dry_run as a number", "{" B ",\"cards\":64,\"dry_run\":1}", -1, "/dry_run"},
};

static void test_bad(void)
{
    for (size_t i = 0; i < N(bad_cases); i++) {
        const struct bad_case *c = &bad_cases[i];
        size_t len = c->len < 0 ? strlen(c->body) : (size_t)c->len;
        struct placement_request req;
        memset(&req, 0xA5, sizeof(req)); /* must be cleared */
        struct json_error err;
        int r = parse(c->body, len, &req, &err);
        CHECK(r == -EINVAL, "%s: rc %d, want -EINVAL", c->name, r);
        CHECK_STR(str(err.pointer), c->want_ptr, c->name);
        CHECK(err.detail[0] != '\0', "%s: detail is set", c->name);
        CHECK(req.doc == NULL && req.vouchers == NULL && req.allowed == NULL &&
                  req.denied == NULL && req.labels == NULL,
              "%s: nothing left allocated in the request", c->name);
        if (r == 0)
            request_free(&req);
    }

    /* 65 vouchers: one over REQUEST_MAX_LIST. */
    char body[2048];
    int off = snprintf(body, sizeof(body), "{" B ",\"cards\":1,\"vouchers\":[");
    for (int i = 0; i < REQUEST_MAX_LIST + 1; i++)
        off += snprintf(body + off, sizeof(body) - (size_t)off, "%s\"v%d\"", i ? "," : "", i);
    snprintf(body + off, sizeof(body) - (size_t)off, "]}");
    struct placement_request req;
    struct json_error err;
    int r = parse_str(body, &req, &err);
    CHECK(r == -EINVAL, "65 vouchers refused (rc %d)", r);
    CHECK_STR(str(err.pointer), "/vouchers", "65 vouchers pointer");
    if (r == 0)
        request_free(&req);
}

int main(void)
{
    test_spec_example();
    test_full_request();
    test_defaults();
    test_pflops();
    test_precisions();
    test_accepted_bounds();
    test_bad();
    return check_done();
}
