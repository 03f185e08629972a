/*
 * test-json — the strict JSON reader: RFC 6901 pointers, whole-document
 * checks, unknown-field refusal, every typed getter's type and range errors
 * with the pointer of the field, string lists and labels, identifiers, and
 * the 6-decimal number writer. Expected values are worked out from the inputs.
 */
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "json.h"
#include "route.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Passes arrays through a pointer so CHECK_STR's NULL test does not trip -Waddress. */
static const char *str(const char *s)
{
    return s;
}

/* ---- json_pointer and json_fail ---- */

struct pointer_case {
    const char *prefix;
    const char *key;
    const char *want;
};

static const struct pointer_case pointer_cases[] = {
    {"", "a", "/a"},
    {NULL, "a", "/a"},
    {"", "a~b", "/a~0b"},
    {"", "a/b", "/a~1b"},
    {"", "~/", "/~0~1"},
    {"", "~1", "/~01"}, /* a literal "~1" must not read back as "/" */
    {"", "", "/"},      /* the empty key is "/" per RFC 6901 */
    {"/pools/3", "free", "/pools/3/free"},
    {"/pools/3", NULL, "/pools/3"},
    {"", NULL, ""},
    {NULL, NULL, ""},
    {"/labels", "k/v~", "/labels/k~1v~0"},
    {"/pools/3/tflops", "bf16", "/pools/3/tflops/bf16"},
};

static void test_pointer(void)
{
    for (size_t i = 0; i < N(pointer_cases); i++) {
        const struct pointer_case *c = &pointer_cases[i];
        char buf[64];
        memset(buf, 'Z', sizeof(buf));
        json_pointer(buf, sizeof(buf), c->prefix, c->key);
        CHECK_STR(str(buf), c->want, "json_pointer case");
    }

    /* Truncation: stays inside len, NUL-terminated, a prefix of the full pointer,
     * and never ends in half an escape. */
    struct {
        size_t len;
        const char *prefix, *key, *full;
    } trunc[] = {
        {4, "", "abcdef", "/abcdef"},
        {5, "", "~~~~", "/~0~0~0~0"},
        {6, "", "a/b/c/d", "/a~1b~1c~1d"},
        {4, "/pools/3", "free", "/pools/3/free"},
        {1, "/x", "y", "/x/y"},
    };
    for (size_t i = 0; i < N(trunc); i++) {
        char big[32];
        memset(big, 'Z', sizeof(big));
        json_pointer(big, trunc[i].len, trunc[i].prefix, trunc[i].key);
        bool guard = true;
        for (size_t j = trunc[i].len; j < sizeof(big); j++)
            guard = guard && big[j] == 'Z';
        size_t n = strnlen(big, trunc[i].len);
        CHECK(guard, "json_pointer len %zu writes nothing past len", trunc[i].len);
        CHECK(n < trunc[i].len, "json_pointer len %zu is NUL-terminated", trunc[i].len);
        CHECK(n < trunc[i].len && strncmp(big, trunc[i].full, n) == 0,
              "json_pointer len %zu gives a prefix of '%s'", trunc[i].len, trunc[i].full);
        CHECK(n == 0 || big[n - 1] != '~', "json_pointer len %zu leaves no dangling '~'",
              trunc[i].len);
    }
    char z = 'Z';
    json_pointer(&z, 0, "/a", "b");
    CHECK(z == 'Z', "json_pointer with len 0 writes nothing");

    struct json_error err;
    memset(&err, 0, sizeof(err));
    int r = json_fail(&err, "/pools/3", "free", "free (%d) exceeds total (%d)", 5, 4);
    CHECK_EQ_LONG(r, -EINVAL, "json_fail returns -EINVAL");
    CHECK_STR(str(err.pointer), "/pools/3/free", "json_fail pointer");
    CHECK_STR(str(err.detail), "free (5) exceeds total (4)", "json_fail detail");
    r = json_fail(&err, "", NULL, "whole document");
    CHECK_STR(str(err.pointer), "", "json_fail whole-document pointer");
    r = json_fail(NULL, "", "x", "no error struct");
    CHECK_EQ_LONG(r, -EINVAL, "json_fail with NULL err still returns -EINVAL");
}

/* ---- json_parse_object ---- */

struct parse_case {
    const char *name;
    const char *text; /* NULL for a NULL pointer */
    long len;         /* -1: strlen(text) */
    int want_rc;
};

static const struct parse_case parse_cases[] = {
    {"empty body", "", -1, -EINVAL},
    {"NULL body", NULL, 0, -EINVAL},
    {"white space only", "  \n\t ", -1, -EINVAL},
    {"array", "[]", -1, -EINVAL},
    {"array of objects", "[{}]", -1, -EINVAL},
    {"string", "\"x\"", -1, -EINVAL},
    {"number", "42", -1, -EINVAL},
    {"null", "null", -1, -EINVAL},
    {"true", "true", -1, -EINVAL},
    {"trailing data", "{\"a\":1} x", -1, -EINVAL},
    {"two objects", "{} {}", -1, -EINVAL},
    {"trailing comma token", "{\"a\":1},", -1, -EINVAL},
    {"unterminated", "{\"a\":", -1, -EINVAL},
    {"trailing comma in object", "{\"a\":1,}", -1, -EINVAL},
    {"bare word", "hello", -1, -EINVAL},
    {"single quotes", "{'a':1}", -1, -EINVAL},
    {"unterminated string", "{\"a\":\"b}", -1, -EINVAL},
    {"object cut by len", "{\"a\":1}", 5, -EINVAL},
    /* \u0000 parses (as \u0001) so that the field's own check refuses it with its pointer. */
    {"\\u0000 in a string", "{\"s\":\"a\\u0000b\"}", -1, 0},
    {"escaped backslash then u0000 is text", "{\"s\":\"a\\\\u0000b\"}", -1, 0},
    {"invalid UTF-8 byte", "{\"s\":\"\xff\xfe\"}", -1, -EINVAL},
    {"overlong UTF-8", "{\"s\":\"\xc0\xaf\"}", -1, -EINVAL},
    {"UTF-8 surrogate", "{\"s\":\"\xed\xa0\x80\"}", -1, -EINVAL},
    {"truncated UTF-8", "{\"s\":\"\xe4\xb8\"}", -1, -EINVAL},
    {"valid UTF-8 (CJK)", "{\"s\":\"\xe7\xae\x97\xe5\x8a\x9b\"}", -1, 0},
    {"empty object", "{}", -1, 0},
    {"object", "{\"a\":1,\"b\":[true,null]}", -1, 0},
    {"surrounding white space", " \r\n{\"a\":1} \n\t\r", -1, 0},
    {"len stops before garbage", "{\"a\":1}garbage", 7, 0},
};

static void test_parse_object(void)
{
    for (size_t i = 0; i < N(parse_cases); i++) {
        const struct parse_case *c = &parse_cases[i];
        size_t len = c->text ? (c->len < 0 ? strlen(c->text) : (size_t)c->len) : 0;
        /* An exact-size copy without a terminator, as a request body arrives. */
        char *body = NULL;
        if (c->text) {
            body = malloc(len ? len : 1);
            memcpy(body, c->text, len);
        }
        struct json_error err;
        memset(&err, 0, sizeof(err));
        snprintf(err.pointer, sizeof(err.pointer), "UNSET");
        cJSON *doc = NULL;
        int r = json_parse_object(body, len, &doc, &err);
        CHECK(r == c->want_rc, "json_parse_object %s: rc %d, want %d", c->name, r, c->want_rc);
        if (c->want_rc < 0) {
            CHECK_STR(str(err.pointer), "", c->name);
            CHECK(err.detail[0] != '\0', "json_parse_object %s: detail is set", c->name);
            CHECK(doc == NULL, "json_parse_object %s: no document returned", c->name);
        } else {
            CHECK(doc && cJSON_IsObject(doc), "json_parse_object %s: an object", c->name);
        }
        cJSON_Delete(doc);
        free(body);
    }
}

/* ---- json_only ---- */

static void test_only(void)
{
    static const char *const ab[] = {"a", "b", NULL};
    static const char *const abcd[] = {"a", "b", "c/d", NULL};
    static const char *const none[] = {NULL};
    struct {
        const char *name;
        const char *doc;
        const char *const *allowed;
        const char *prefix;
        int want_rc;
        const char *want_ptr;
    } cases[] = {
        {"all known", "{\"a\":1,\"b\":2}", ab, "", 0, NULL},
        {"subset", "{\"b\":2}", ab, "", 0, NULL},
        {"empty object, nothing allowed", "{}", none, "", 0, NULL},
        {"unknown at root", "{\"a\":1,\"x\":2}", ab, "", -EINVAL, "/x"},
        {"unknown nested", "{\"a\":1,\"c/d\":3}", ab, "/pools/3", -EINVAL, "/pools/3/c~1d"},
        {"escaped name allowed", "{\"a\":1,\"c/d\":3}", abcd, "/pools/3", 0, NULL},
        {"nothing allowed", "{\"a\":1}", none, "/x", -EINVAL, "/x/a"},
        {"case matters", "{\"A\":1}", ab, "", -EINVAL, "/A"},
        {"tilde escaped", "{\"~t\":1}", ab, "/w", -EINVAL, "/w/~0t"},
        {"duplicate key", "{\"a\":1,\"b\":2,\"a\":5000000}", ab, "", -EINVAL, "/a"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        cJSON *doc = cJSON_Parse(cases[i].doc);
        struct json_error err;
        memset(&err, 0, sizeof(err));
        int r = json_only(doc, cases[i].allowed, cases[i].prefix, &err);
        CHECK(r == cases[i].want_rc, "json_only %s: rc %d, want %d", cases[i].name, r,
              cases[i].want_rc);
        if (cases[i].want_ptr)
            CHECK_STR(str(err.pointer), cases[i].want_ptr, cases[i].name);
        cJSON_Delete(doc);
    }
}

/* ---- typed getters ---- */

static const char getter_doc[] =
    "{\"s\":\"hello\",\"empty\":\"\",\"ctl\":\"a\\u0001b\",\"del\":\"a\\u007fb\","
    "\"nl\":\"a\\nb\",\"tab\":\"a\\tb\",\"esc\":\"\\u001b[31m\",\"nul\":\"a\\u0000b\","
    "\"utf8\":\"\xe5\x8d\x97\xe4\xba\xac\",\"num\":2.5,\"int\":42,\"neg\":-7,\"frac\":1.5,"
    "\"big\":1e12,\"huge\":1e400,\"nhuge\":-1e400,\"two63\":9223372036854775808,"
    "\"t\":true,\"f\":false,\"null\":null,\"str_num\":\"5\",\"str_true\":\"true\","
    "\"arr\":[1],\"obj\":{},\"zero\":0,\"negzero\":-0.0,\"exp\":4.2e1}";

enum kind { K_STR, K_NUM, K_LONG, K_BOOL };

struct getter_case {
    const char *name;
    enum kind kind;
    const char *key;
    bool required;
    double dmin, dmax;
    long lmin, lmax;
    size_t maxlen;
    int want_rc;
    const char *want_ptr; /* on error */
    bool want_present;
    const char *want_s;
    double want_d;
    long want_l;
    bool want_b;
};

#define SENT_S "SENTINEL"
#define SENT_D -123.25
#define SENT_L -123L
#define P "/pools/3"

static const struct getter_case getter_cases[] = {
    /* strings */
    {"string ok", K_STR, "s", true, .maxlen = 16, .want_present = true, .want_s = "hello"},
    {"string exactly maxlen", K_STR, "s", true, .maxlen = 5, .want_present = true,
     .want_s = "hello"},
    {"string over maxlen", K_STR, "s", true, .maxlen = 4, .want_rc = -EINVAL, .want_ptr = P "/s"},
    {"string UTF-8 counted in bytes", K_STR, "utf8", true, .maxlen = 6, .want_present = true,
     .want_s = "\xe5\x8d\x97\xe4\xba\xac"},
    {"string UTF-8 over byte limit", K_STR, "utf8", true, .maxlen = 5, .want_rc = -EINVAL,
     .want_ptr = P "/utf8"},
    {"string empty", K_STR, "empty", true, .maxlen = 16, .want_rc = -EINVAL,
     .want_ptr = P "/empty"},
    {"string \\u0001", K_STR, "ctl", true, .maxlen = 16, .want_rc = -EINVAL, .want_ptr = P "/ctl"},
    {"string DEL", K_STR, "del", true, .maxlen = 16, .want_rc = -EINVAL, .want_ptr = P "/del"},
    {"string newline", K_STR, "nl", true, .maxlen = 16, .want_rc = -EINVAL, .want_ptr = P "/nl"},
    {"string tab", K_STR, "tab", true, .maxlen = 16, .want_rc = -EINVAL, .want_ptr = P "/tab"},
    {"string ESC", K_STR, "esc", true, .maxlen = 16, .want_rc = -EINVAL, .want_ptr = P "/esc"},
    {"string given a number", K_STR, "num", true, .maxlen = 16, .want_rc = -EINVAL,
     .want_ptr = P "/num"},
    {"string given an array", K_STR, "arr", true, .maxlen = 16, .want_rc = -EINVAL,
     .want_ptr = P "/arr"},
    {"string given a bool", K_STR, "t", false, .maxlen = 16, .want_rc = -EINVAL,
     .want_ptr = P "/t"},
    {"string missing, required", K_STR, "missing", true, .maxlen = 16, .want_rc = -EINVAL,
     .want_ptr = P "/missing"},
    {"string missing, optional", K_STR, "missing", false, .maxlen = 16, .want_s = SENT_S},
    {"string null, optional", K_STR, "null", false, .maxlen = 16, .want_s = SENT_S},
    {"string null, required", K_STR, "null", true, .maxlen = 16, .want_rc = -EINVAL,
     .want_ptr = P "/null"},

    /* numbers */
    {"number ok", K_NUM, "num", true, 0, 100, .want_present = true, .want_d = 2.5},
    {"number integer", K_NUM, "int", true, 0, 100, .want_present = true, .want_d = 42},
    {"number exponent", K_NUM, "exp", true, 0, 100, .want_present = true, .want_d = 42},
    {"number at both bounds", K_NUM, "num", true, 2.5, 2.5, .want_present = true, .want_d = 2.5},
    {"number zero at min", K_NUM, "zero", true, 0, 1, .want_present = true, .want_d = 0},
    {"number below min", K_NUM, "neg", true, 0, 100, .want_rc = -EINVAL, .want_ptr = P "/neg"},
    {"number above max", K_NUM, "big", true, 0, 1e6, .want_rc = -EINVAL, .want_ptr = P "/big"},
    {"number just above max", K_NUM, "num", true, 0, 2.4, .want_rc = -EINVAL, .want_ptr = P "/num"},
    {"number 1e400 (inf)", K_NUM, "huge", true, -DBL_MAX, DBL_MAX, .want_rc = -EINVAL,
     .want_ptr = P "/huge"},
    {"number -1e400 (-inf)", K_NUM, "nhuge", true, -DBL_MAX, DBL_MAX, .want_rc = -EINVAL,
     .want_ptr = P "/nhuge"},
    {"number 1e400, unbounded", K_NUM, "huge", true, -INFINITY, INFINITY, .want_rc = -EINVAL,
     .want_ptr = P "/huge"},
    {"number given a string", K_NUM, "str_num", true, 0, 100, .want_rc = -EINVAL,
     .want_ptr = P "/str_num"},
    {"number given a bool", K_NUM, "t", true, 0, 100, .want_rc = -EINVAL, .want_ptr = P "/t"},
    {"number given an object", K_NUM, "obj", true, 0, 100, .want_rc = -EINVAL,
     .want_ptr = P "/obj"},
    {"number missing, required", K_NUM, "missing", true, 0, 100, .want_rc = -EINVAL,
     .want_ptr = P "/missing"},
    {"number missing, optional", K_NUM, "missing", false, 0, 100, .want_d = SENT_D},
    {"number null, optional", K_NUM, "null", false, 0, 100, .want_d = SENT_D},

    /* integers */
    {"long ok", K_LONG, "int", true, .lmin = 0, .lmax = 100, .want_present = true, .want_l = 42},
    {"long exponent form", K_LONG, "exp", true, .lmin = 0, .lmax = 100, .want_present = true,
     .want_l = 42},
    {"long negative in range", K_LONG, "neg", true, .lmin = -10, .lmax = 0, .want_present = true,
     .want_l = -7},
    {"long at both bounds", K_LONG, "int", true, .lmin = 42, .lmax = 42, .want_present = true,
     .want_l = 42},
    {"long -0.0 is 0", K_LONG, "negzero", true, .lmin = 0, .lmax = 1, .want_present = true,
     .want_l = 0},
    {"long 1e12 fits a wide range", K_LONG, "big", true, .lmin = 0, .lmax = LONG_MAX,
     .want_present = true, .want_l = 1000000000000L},
    {"long 1.5", K_LONG, "frac", true, .lmin = 0, .lmax = 100, .want_rc = -EINVAL,
     .want_ptr = P "/frac"},
    {"long 2.5", K_LONG, "num", true, .lmin = 0, .lmax = 100, .want_rc = -EINVAL,
     .want_ptr = P "/num"},
    {"long below min", K_LONG, "neg", true, .lmin = 0, .lmax = 100, .want_rc = -EINVAL,
     .want_ptr = P "/neg"},
    {"long min+1", K_LONG, "int", true, .lmin = 43, .lmax = 100, .want_rc = -EINVAL,
     .want_ptr = P "/int"},
    {"long max-1", K_LONG, "int", true, .lmin = 0, .lmax = 41, .want_rc = -EINVAL,
     .want_ptr = P "/int"},
    {"long 1e12 above max", K_LONG, "big", true, .lmin = 0, .lmax = 1000000, .want_rc = -EINVAL,
     .want_ptr = P "/big"},
    {"long 1e400 (inf)", K_LONG, "huge", true, .lmin = LONG_MIN, .lmax = LONG_MAX,
     .want_rc = -EINVAL, .want_ptr = P "/huge"},
    {"long -1e400 (-inf)", K_LONG, "nhuge", true, .lmin = LONG_MIN, .lmax = LONG_MAX,
     .want_rc = -EINVAL, .want_ptr = P "/nhuge"},
    /* 2^63 = LONG_MAX + 1 does not fit a long even with the widest range. */
    {"long 2^63 above LONG_MAX", K_LONG, "two63", true, .lmin = LONG_MIN, .lmax = LONG_MAX,
     .want_rc = -EINVAL, .want_ptr = P "/two63"},
    {"long given a string", K_LONG, "str_num", true, .lmin = 0, .lmax = 100, .want_rc = -EINVAL,
     .want_ptr = P "/str_num"},
    {"long given a bool", K_LONG, "t", true, .lmin = 0, .lmax = 100, .want_rc = -EINVAL,
     .want_ptr = P "/t"},
    {"long missing, required", K_LONG, "missing", true, .lmin = 0, .lmax = 100, .want_rc = -EINVAL,
     .want_ptr = P "/missing"},
    {"long missing, optional", K_LONG, "missing", false, .lmin = 0, .lmax = 100, .want_l = SENT_L},

    /* booleans */
    {"bool true", K_BOOL, "t", true, .want_present = true, .want_b = true},
    {"bool false", K_BOOL, "f", true, .want_present = true, .want_b = false},
    {"bool given 1", K_BOOL, "int", true, .want_rc = -EINVAL, .want_ptr = P "/int"},
    {"bool given 0", K_BOOL, "zero", true, .want_rc = -EINVAL, .want_ptr = P "/zero"},
    {"bool given \"true\"", K_BOOL, "str_true", true, .want_rc = -EINVAL,
     .want_ptr = P "/str_true"},
    {"bool missing, required", K_BOOL, "missing", true, .want_rc = -EINVAL,
     .want_ptr = P "/missing"},
    {"bool missing, optional", K_BOOL, "missing", false, .want_b = true /* sentinel */},
};

static void test_getters(void)
{
    cJSON *doc = cJSON_Parse(getter_doc);
    CHECK(doc != NULL, "getter fixture parses");
    if (!doc)
        return;
    for (size_t i = 0; i < N(getter_cases); i++) {
        const struct getter_case *c = &getter_cases[i];
        struct json_error err;
        memset(&err, 0, sizeof(err));
        snprintf(err.pointer, sizeof(err.pointer), "UNSET");
        bool present = !c->want_present; /* must be overwritten */
        const char *s = SENT_S;
        double d = SENT_D;
        long l = SENT_L;
        bool b = true;
        int r = -1;
        switch (c->kind) {
        case K_STR:
            r = json_get_string(doc, c->key, P, c->required, c->maxlen, &s, &present, &err);
            break;
        case K_NUM:
            r = json_get_number(doc, c->key, P, c->required, c->dmin, c->dmax, &d, &present, &err);
            break;
        case K_LONG:
            r = json_get_long(doc, c->key, P, c->required, c->lmin, c->lmax, &l, &present, &err);
            break;
        case K_BOOL:
            r = json_get_bool(doc, c->key, P, c->required, &b, &present, &err);
            break;
        }
        CHECK(r == c->want_rc, "%s: rc %d, want %d", c->name, r, c->want_rc);
        if (c->want_rc < 0) {
            CHECK_STR(str(err.pointer), c->want_ptr, c->name);
            CHECK(err.detail[0] != '\0', "%s: detail is set", c->name);
            continue;
        }
        CHECK(present == c->want_present, "%s: present %d, want %d", c->name, present,
              c->want_present);
        switch (c->kind) {
        case K_STR:
            CHECK_STR(str(s), c->want_s, c->name);
            break;
        case K_NUM:
            CHECK(d == c->want_d, "%s: got %.17g, want %.17g", c->name, d, c->want_d);
            break;
        case K_LONG:
            CHECK_EQ_LONG(l, c->want_l, c->name);
            break;
        case K_BOOL:
            CHECK(b == c->want_b, "%s: got %d, want %d", c->name, b, c->want_b);
            break;
        }
    }

    /* present may be NULL. */
    struct json_error err;
    long l = 0;
    CHECK(json_get_long(doc, "int", "", true, 0, 100, &l, NULL, &err) == 0 && l == 42,
          "json_get_long with present NULL");
    const char *s = NULL;
    CHECK(json_get_string(doc, "missing", "", false, 8, &s, NULL, &err) == 0 && s == NULL,
          "json_get_string optional, present NULL, leaves ret");
    /* A root prefix gives a root pointer. */
    CHECK(json_get_long(doc, "frac", "", true, 0, 100, &l, NULL, &err) == -EINVAL,
          "json_get_long root prefix rc");
    CHECK_STR(str(err.pointer), "/frac", "json_get_long root prefix pointer");
    cJSON_Delete(doc);
}

/* ---- json_get_strings ---- */

static const char strings_doc[] =
    "{\"l\":[\"a\",\"bb\"],\"e\":[],\"n\":\"x\",\"m\":[\"a\",5],\"x\":[\"a\",\"\"],"
    "\"long\":[\"abcd\"],\"ctl\":[\"a\\u0001\"],\"three\":[\"a\",\"b\",\"c\"],\"null\":null,"
    "\"a/b\":[1],\"obj\":{\"k\":\"v\"},\"nested\":[[\"a\"]],\"nulls\":[null]}";

static void test_strings(void)
{
    struct {
        const char *name;
        const char *key;
        size_t maxn, maxlen;
        int want_rc;
        const char *want_ptr;
        size_t want_n;
        const char *want[3];
    } cases[] = {
        {"two strings", "l", 4, 8, 0, NULL, 2, {"a", "bb"}},
        {"exactly maxn", "three", 3, 8, 0, NULL, 3, {"a", "b", "c"}},
        {"exactly maxlen", "l", 4, 2, 0, NULL, 2, {"a", "bb"}},
        {"empty array", "e", 4, 8, 0, NULL, 0, {0}},
        {"absent", "absent", 4, 8, 0, NULL, 0, {0}},
        {"null", "null", 4, 8, 0, NULL, 0, {0}},
        {"not an array", "n", 4, 8, -EINVAL, "/p/n", 0, {0}},
        {"object", "obj", 4, 8, -EINVAL, "/p/obj", 0, {0}},
        {"number entry", "m", 4, 8, -EINVAL, "/p/m/1", 0, {0}},
        {"empty entry", "x", 4, 8, -EINVAL, "/p/x/1", 0, {0}},
        {"entry over maxlen", "long", 4, 3, -EINVAL, "/p/long/0", 0, {0}},
        {"control character", "ctl", 4, 8, -EINVAL, "/p/ctl/0", 0, {0}},
        {"over maxn", "three", 2, 8, -EINVAL, "/p/three", 0, {0}},
        {"escaped key", "a/b", 4, 8, -EINVAL, "/p/a~1b/0", 0, {0}},
        {"nested array", "nested", 4, 8, -EINVAL, "/p/nested/0", 0, {0}},
        {"null entry", "nulls", 4, 8, -EINVAL, "/p/nulls/0", 0, {0}},
    };
    cJSON *doc = cJSON_Parse(strings_doc);
    CHECK(doc != NULL, "strings fixture parses");
    if (!doc)
        return;
    for (size_t i = 0; i < N(cases); i++) {
        struct json_error err;
        memset(&err, 0, sizeof(err));
        const char **arr = (const char **)1; /* must be overwritten */
        size_t n = 99;
        int r = json_get_strings(doc, cases[i].key, "/p", cases[i].maxn, cases[i].maxlen, &arr, &n,
                                 &err);
        CHECK(r == cases[i].want_rc, "json_get_strings %s: rc %d, want %d", cases[i].name, r,
              cases[i].want_rc);
        if (cases[i].want_rc < 0) {
            CHECK_STR(str(err.pointer), cases[i].want_ptr, cases[i].name);
            CHECK(arr == NULL, "json_get_strings %s: no array on error", cases[i].name);
            continue;
        }
        CHECK_EQ_LONG(n, cases[i].want_n, cases[i].name);
        if (cases[i].want_n == 0)
            CHECK(arr == NULL, "json_get_strings %s: NULL when empty", cases[i].name);
        for (size_t j = 0; j < cases[i].want_n && j < n; j++)
            CHECK_STR(str(arr[j]), cases[i].want[j], cases[i].name);
        free(arr);
    }
    cJSON_Delete(doc);
}

/* ---- json_get_labels ---- */

static const char labels_doc[] =
    "{\"lab\":{\"residency\":\"shanghai\",\"grade\":\"dengbao3\"},\"bad\":{\"a\":\"x\",\"b\":1},"
    "\"arr\":[\"x\"],\"str\":\"a=b\",\"empty\":{},\"ek\":{\"\":\"x\"},\"ev\":{\"k\":\"\"},"
    "\"many\":{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"},\"lk\":{\"abcdefghi\":\"x\"},"
    "\"lv\":{\"k\":\"abcdefghi\"},\"sl\":{\"a/b\":true},\"ck\":{\"a\\u0001\":\"x\"},"
    "\"cv\":{\"k\":\"a\\u0007\"},\"null\":null}";

static void test_labels(void)
{
    struct {
        const char *name;
        const char *key;
        size_t maxn, maxlen;
        int want_rc;
        const char *want_ptr;
        size_t want_n;
        const char *want[2][2];
    } cases[] = {
        {"two labels",
         "lab",
         4,
         16,
         0,
         NULL,
         2,
         {{"residency", "shanghai"}, {"grade", "dengbao3"}}},
        {"exactly maxn",
         "lab",
         2,
         16,
         0,
         NULL,
         2,
         {{"residency", "shanghai"}, {"grade", "dengbao3"}}},
        {"empty object", "empty", 4, 16, 0, NULL, 0, {{0}}},
        {"absent", "absent", 4, 16, 0, NULL, 0, {{0}}},
        {"null", "null", 4, 16, 0, NULL, 0, {{0}}},
        {"number value", "bad", 4, 16, -EINVAL, "/p/bad/b", 0, {{0}}},
        {"array", "arr", 4, 16, -EINVAL, "/p/arr", 0, {{0}}},
        {"string", "str", 4, 16, -EINVAL, "/p/str", 0, {{0}}},
        {"empty key", "ek", 4, 16, -EINVAL, "/p/ek/", 0, {{0}}},
        {"empty value", "ev", 4, 16, -EINVAL, "/p/ev/k", 0, {{0}}},
        {"over maxn", "many", 2, 16, -EINVAL, "/p/many", 0, {{0}}},
        {"key over maxlen", "lk", 4, 8, -EINVAL, "/p/lk/abcdefghi", 0, {{0}}},
        {"value over maxlen", "lv", 4, 8, -EINVAL, "/p/lv/k", 0, {{0}}},
        {"bool value, escaped key", "sl", 4, 16, -EINVAL, "/p/sl/a~1b", 0, {{0}}},
        {"control character in key", "ck", 4, 16, -EINVAL, "/p/ck/a\x01", 0, {{0}}},
        {"control character in value", "cv", 4, 16, -EINVAL, "/p/cv/k", 0, {{0}}},
    };
    cJSON *doc = cJSON_Parse(labels_doc);
    CHECK(doc != NULL, "labels fixture parses");
    if (!doc)
        return;
    for (size_t i = 0; i < N(cases); i++) {
        struct json_error err;
        memset(&err, 0, sizeof(err));
        struct label *arr = (struct label *)1; /* must be overwritten */
        size_t n = 99;
        int r = json_get_labels(doc, cases[i].key, "/p", cases[i].maxn, cases[i].maxlen, &arr, &n,
                                &err);
        CHECK(r == cases[i].want_rc, "json_get_labels %s: rc %d, want %d", cases[i].name, r,
              cases[i].want_rc);
        if (cases[i].want_rc < 0) {
            CHECK_STR(str(err.pointer), cases[i].want_ptr, cases[i].name);
            CHECK(arr == NULL, "json_get_labels %s: no array on error", cases[i].name);
            continue;
        }
        CHECK_EQ_LONG(n, cases[i].want_n, cases[i].name);
        if (cases[i].want_n == 0)
            CHECK(arr == NULL, "json_get_labels %s: NULL when empty", cases[i].name);
        for (size_t j = 0; j < cases[i].want_n && j < n; j++) {
            CHECK_STR(str(arr[j].key), cases[i].want[j][0], cases[i].name);
            CHECK_STR(str(arr[j].value), cases[i].want[j][1], cases[i].name);
        }
        free(arr);
    }
    cJSON_Delete(doc);
}

/* ---- json_valid_id ---- */

static void test_valid_id(void)
{
    char id64[65], id65[66];
    memset(id64, 'a', 64);
    id64[64] = '\0';
    memset(id65, 'a', 65);
    id65[65] = '\0';
    struct {
        const char *s;
        bool want;
    } cases[] = {
        {"a", true},
        {"Z9", true},
        {"0abc", true},
        {"acme", true},
        {"SH-2026-0001", true},
        {"sh-lingang-aidc", true},
        {"cn-shanghai", true},
        {"a.b_c:d-e", true},
        {"pl_0123abcd", true},
        {id64, true},
        {id65, false},
        {"", false},
        {NULL, false},
        {"-a", false},
        {".a", false},
        {"_a", false},
        {":a", false},
        {"a b", false},
        {"a/b", false},
        {"a\tb", false},
        {"a~", false},
        {"a\"", false},
        {"a?x=1", false},
        {"\xe5\x8d\x97\xe4\xba\xac", false}, /* non-ASCII */
        {" a", false},
        {"a\n", false},
    };
    for (size_t i = 0; i < N(cases); i++) {
        /* Shown with control and non-ASCII bytes as '?' so the TAP line stays one line. */
        char shown[24] = "NULL";
        if (cases[i].s) {
            size_t j = 0;
            for (; cases[i].s[j] && j < 20; j++) {
                unsigned char ch = (unsigned char)cases[i].s[j];
                shown[j] = ch < 0x20 || ch >= 0x7f ? '?' : (char)ch;
            }
            shown[j] = '\0';
        }
        bool got = json_valid_id(cases[i].s);
        CHECK(got == cases[i].want, "json_valid_id case %zu \"%s\" = %d, want %d", i, shown, got,
              cases[i].want);
    }
}

/* ---- json_add_number ---- */

static void test_add_number(void)
{
    struct {
        const char *key;
        double in;
        bool null;
        double want;
    } cases[] = {
        {"a", 1.23456789, false, 1.234568},  /* 1234567.89 rounds to 1234568 */
        {"b", 0.1 + 0.2, false, 0.3},        /* 300000.00000000006 rounds to 300000 */
        {"c", 12.3456784, false, 12.345678}, /* ...0.4 down */
        {"d", 12.3456786, false, 12.345679}, /* ...0.6 up */
        {"e", -2.0000004, false, -2.0},
        {"f", -2.0000006, false, -2.000001},
        {"g", 118195.2, false, 118195.2},
        {"h", 1e-7, false, 0},
        {"i", 42, false, 42},
        {"j", 131328.0, false, 131328.0},
        {"k", INFINITY, true, 0},
        {"l", -INFINITY, true, 0},
        {"m", NAN, true, 0},
    };
    cJSON *obj = cJSON_CreateObject();
    for (size_t i = 0; i < N(cases); i++) {
        cJSON *it = json_add_number(obj, cases[i].key, cases[i].in);
        CHECK(it != NULL && it == cJSON_GetObjectItemCaseSensitive(obj, cases[i].key),
              "json_add_number %s: item added", cases[i].key);
        if (!it)
            continue;
        if (cases[i].null)
            CHECK(cJSON_IsNull(it), "json_add_number %s: non-finite becomes null", cases[i].key);
    }
    /* What a reader sees: print, parse back, compare. */
    char *text = cJSON_PrintUnformatted(obj);
    cJSON *back = text ? cJSON_Parse(text) : NULL;
    for (size_t i = 0; back && i < N(cases); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(back, cases[i].key);
        if (cases[i].null)
            continue;
        CHECK(cJSON_IsNumber(v), "json_add_number %s: a number", cases[i].key);
        if (cJSON_IsNumber(v))
            CHECK_NEAR(v->valuedouble, cases[i].want, 1e-12, cases[i].key);
    }
    /* 0.3 must come out as exactly the double 0.3, so it prints as 0.3. */
    CHECK(back && cJSON_GetObjectItem(back, "b")->valuedouble == 0.3,
          "0.1+0.2 rounds to exactly 0.3");
    cJSON_Delete(back);
    free(text);
    cJSON_Delete(obj);

    /* A tiny negative rounds to 0, not -0, and prints readably. */
    obj = cJSON_CreateObject();
    cJSON *z = json_add_number(obj, "z", -1e-9);
    CHECK(z != NULL, "-1e-9 is added");
    json_add_number(obj, "a", 1.23456789);
    json_add_number(obj, "b", 0.1 + 0.2);
    char *out = cJSON_PrintUnformatted(obj);
    CHECK_STR(str(out), "{\"z\":0,\"a\":1.234568,\"b\":0.3}",
              "json_add_number output text (-1e-9 becomes 0, not -0)");
    /* More shapes of the fast writer, by hand. */
    cJSON *more = cJSON_CreateObject();
    json_add_number(more, "neg", -0.5);
    json_add_number(more, "big", 999999999999.5);
    json_add_number(more, "huge", 2e12);
    json_add_number(more, "frac", 0.000001);
    json_add_number(more, "lead0", 3.05);
    char *m = cJSON_PrintUnformatted(more);
    CHECK_STR(str(m),
              "{\"neg\":-0.5,\"big\":999999999999.5,\"huge\":2000000000000,\"frac\":0.000001,"
              "\"lead0\":3.05}",
              "fast number writer shapes");
    free(m);
    cJSON_Delete(more);
    free(out);
    cJSON_Delete(obj);
}

int main(void)
{
    test_pointer();
    test_parse_object();
    test_only();
    test_getters();
    test_strings();
    test_labels();
    test_valid_id();
    test_add_number();
    return check_done();
}
