/*
 * test-native-scan — the native adapter's one-pass scanner (adapters/native_scan.c)
 * against its strict cJSON reader: plain documents (the demo feed server's, the
 * SPEC example, every optional field, white space, nulls, number forms) are
 * read by the scanner to the strict reader's snapshot bit for bit; valid
 * documents of rarer form (escapes, non-ASCII, long numbers) are declined by
 * the scanner and still read through the adapter; bad documents are declined;
 * numbers equal strtod's; and 20,000 seeded mutations of the plain documents
 * never make the two readers disagree.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/native-diff.h"
#include "check.h"
#include "native.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* An exact-size heap copy without a terminator, as a body arrives. */
static char *body_of(const char *text, size_t len)
{
    char *body = malloc(len ? len : 1);
    if (body && len)
        memcpy(body, text, len);
    return body;
}

/* Plain documents: the scanner must read each, to the strict reader's snapshot. */
static const char *const plain_docs[] = {
    /* as tools/feedserver serves it */
    "{\"center\":\"sim-00000\",\"pools\":[{\"model\":\"A800\",\"total\":1280,\"free\":1224,"
    "\"largest_block\":8,\"price_per_card_hour\":13.32,\"currency\":\"CNY\"},{\"model\":"
    "\"Ascend910B\",\"total\":192,\"free\":116,\"largest_block\":8,\"price_per_card_hour\":8.27,"
    "\"currency\":\"CNY\"},{\"model\":\"H20\",\"total\":1792,\"free\":465,\"largest_block\":8,"
    "\"price_per_card_hour\":8.77,\"currency\":\"CNY\"},{\"model\":\"L40S\",\"total\":384,"
    "\"free\":97,\"largest_block\":8,\"price_per_card_hour\":5.25,\"currency\":\"CNY\"}]}",
    /* SPEC §4, verbatim */
    "{\"center\":\"sh-lingang-aidc\",\"observed_at\":\"2026-11-22T01:00:00Z\",\n"
    "                      \"pools\":[{\"model\":\"H800\",\"total\":2048,\"free\":512,"
    "\"largest_block\":8,\n"
    "                                \"price_per_card_hour\":28.5,"
    "\"spot_price_per_card_hour\":14.0,\"currency\":\"CNY\"}]}",
    /* every optional field stated */
    "{\"center\":\"gy-aidc\",\"observed_at\":\"2026-11-22T09:00:00.250+08:00\",\"pools\":["
    "{\"model\":\"910B\",\"total\":1024,\"free\":1000,\"largest_block\":16,"
    "\"price_per_card_hour\":12.5,\"currency\":\"USD\",\"vendor\":\"Huawei\","
    "\"memory_gib\":64,\"domestic\":true,\"tflops\":{\"bf16\":320,\"fp16\":320,"
    "\"int8\":640,\"fp64\":0}},"
    "{\"model\":\"H20\",\"total\":8,\"free\":8,\"price_per_card_hour\":7,"
    "\"domestic\":false,\"tflops\":{}}]}",
    /* the minimum */
    "{\"pools\":[]}",
    "{\"pools\":[]}\n\n",
    "{\"pools\":[{\"model\":\"A800\",\"total\":100,\"free\":40,\"price_per_card_hour\":10}]}",
    /* white space of every kind, everywhere */
    " \t\r\n{ \"pools\" :\t[ {\n\"model\" : \"A800\" ,\r\n\"total\":1 , \"free\" : 0 ,"
    "\"price_per_card_hour\" : 0 } ] , \"center\" : \"c\" }\n\t ",
    /* null is absent */
    "{\"center\":null,\"observed_at\":null,\"pools\":[{\"model\":\"A800\",\"total\":4,"
    "\"free\":2,\"largest_block\":null,\"price_per_card_hour\":3,\"spot_price_per_card_hour\":"
    "null,\"currency\":null,\"vendor\":null,\"memory_gib\":null,\"domestic\":null,"
    "\"tflops\":null}]}",
    /* members in any order, model names differing only past their case-folded form */
    "{\"pools\":[{\"tflops\":{\"fp8\":1979,\"tf32\":494.7},\"price_per_card_hour\":1e1,"
    "\"free\":0,\"total\":0,\"model\":\"H100 SXM5 80GB\"},{\"model\":\"H100 SXM5 80GB-2\","
    "\"total\":10000000,\"free\":10000000,\"largest_block\":9999999,"
    "\"price_per_card_hour\":1000000}],\"center\":\"x:y.z_w-1\"}",
    /* pools listing their members in one order (the scanner guesses each next member from
       the pool before), then in another, with white space around the colons */
    "{\"pools\":[{\"model\":\"A800\",\"total\":8,\"free\":4,\"price_per_card_hour\":2},"
    "{\"model\":\"H20\",\"total\":16,\"free\":8,\"price_per_card_hour\":3},"
    "{\"model\" :\"L40S\",\"total\"\t: 4,\"free\"\n:1,\"price_per_card_hour\": 1},"
    "{\"total\":2,\"model\":\"H800\",\"price_per_card_hour\":5,\"free\":2,"
    "\"largest_block\":1},{\"model\":\"A100\",\"total\":1,\"free\":1,"
    "\"price_per_card_hour\":6}]}",
    /* number forms: fraction, exponent, leading fraction zeros, negative zero, 15 digits */
    "{\"pools\":[{\"model\":\"m\",\"total\":1E3,\"free\":2.5e2,\"largest_block\":100.000,"
    "\"price_per_card_hour\":0.05,\"spot_price_per_card_hour\":-0,\"memory_gib\":1e-22,"
    "\"tflops\":{\"fp64\":0.1,\"fp32\":0.3,\"bf16\":1234567.89012345,\"fp16\":9999999.99999,"
    "\"int8\":5E+6,\"fp8\":0.000001e-5,\"tf32\":1234567890123e-6}}]}",
    "{\"pools\":[{\"model\":\"m\",\"total\":-0.0,\"free\":0e5,\"price_per_card_hour\":"
    "999999.999999999,\"memory_gib\":100000,\"currency\":\"EUR\",\"vendor\":"
    "\"0123456789012345678901234567890\"}]}",
};

/* Valid documents of rarer form: the scanner declines them, the adapter still reads them. */
static const char *const rare_docs[] = {
    "{\"pools\":[{\"model\":\"H\\u0038\",\"total\":1,\"free\":1,\"price_per_card_hour\":1}]}",
    "{\"pools\":[{\"model\":\"A800\",\"total\":1,\"free\":1,\"price_per_card_hour\":1,"
    "\"vendor\":\"\xe5\x8d\x8e\xe4\xb8\xba\"}]}",
    "{\"pools\":[{\"model\":\"A800\",\"total\":1,\"free\":1,"
    "\"price_per_card_hour\":28.500000000000000001}]}",
    "{\"pools\":[{\"model\":\"A800\",\"total\":1,\"free\":1,\"price_per_card_hour\":1e-23}]}",
    "{\"pools\":[{\"model\":\"A800\",\"total\":1,\"free\":1,\"price_per_card_hour\":1,"
    "\"tflops\":{\"fp16\":1,\"fp16\":2}}]}",
    "\f{\"pools\":[]}",
    "{\"pools\":[{\"model\":\"A800\",\"total\":1,\"free\":1,\"price_per_card_hour\":"
    "1000000000000000e-15}]}",
};

/* Bad documents (and a few that are not JSON as JSON defines it): all declined. */
static const char *const bad_docs[] = {
    "",
    "{\"pools\":[{\"model\":\"A800\",\"total\":1,\"free\":1,\"price_per_card_hour\":1,"
    "\"tflops\":{\"fp16\":null}}]}",
    "{",
    "{}",
    "[]",
    "{\"pools\":[]} []",
    "{\"pools\":[]}x",
    "{\"pools\":null}",
    "{\"pools\":[],\"pools\":[]}",
    "{\"pools\":[],\"colour\":1}",
    "{\"center\":\"\",\"pools\":[]}",
    "{\"center\":5,\"pools\":[]}",
    "{\"observed_at\":\"yesterday\",\"pools\":[]}",
    "{\"pools\":[{\"model\":\"A\",\"total\":8,\"free\":9,\"price_per_card_hour\":1}]}",
    "{\"pools\":[{\"model\":\"A\",\"total\":8,\"free\":8,\"largest_block\":9,"
    "\"price_per_card_hour\":1}]}",
    "{\"pools\":[{\"model\":\"A\",\"total\":8,\"free\":8}]}",
    "{\"pools\":[{\"model\":\"A\",\"total\":8,\"free\":8,\"price_per_card_hour\":null}]}",
    "{\"pools\":[{\"model\":\"A\",\"total\":8.5,\"free\":8,\"price_per_card_hour\":1}]}",
    "{\"pools\":[{\"model\":\"A\",\"total\":01,\"free\":0,\"price_per_card_hour\":1}]}",
    "{\"pools\":[{\"model\":\"A\",\"total\":1.,\"free\":0,\"price_per_card_hour\":1}]}",
    "{\"pools\":[{\"model\":\"A\",\"total\":.5,\"free\":0,\"price_per_card_hour\":1}]}",
    "{\"pools\":[{\"model\":\"A\",\"total\":+1,\"free\":0,\"price_per_card_hour\":1}]}",
    "{\"pools\":[{\"model\":\"A\",\"total\":-,\"free\":0,\"price_per_card_hour\":1}]}",
    "{\"pools\":[{\"model\":\"A\",\"total\":1e,\"free\":0,\"price_per_card_hour\":1}]}",
    "{\"pools\":[{\"model\":\"A\",\"total\":1,\"free\":0,\"price_per_card_hour\":1,}]}",
    "{\"pools\":[{\"model\":\"A\",\"total\":1,\"free\":0,\"price_per_card_hour\":1},]}",
    "{\"pools\":[{\"model\":\"A\",\"total\":1,\"free\":0,\"price_per_card_hour\":1}",
    "{\"pools\":[{\"model\":\"A\",\"total\":1,\"free\":0,\"price_per_card_hour\":1,"
    "\"currency\":\"cny\"}]}",
    "{\"pools\":[{\"model\":\"A\",\"total\":1,\"free\":0,\"price_per_card_hour\":1,"
    "\"domestic\":1}]}",
    "{\"pools\":[{\"model\":\"A\",\"total\":1,\"free\":0,\"price_per_card_hour\":1,"
    "\"tflops\":{\"fp4\":1}}]}",
    "{\"pools\":[{\"model\":\"A\",\"total\":1,\"free\":0,\"price_per_card_hour\":1},"
    "{\"model\":\"a\",\"total\":1,\"free\":0,\"price_per_card_hour\":1}]}",
    "{\"pools\":[{\"model\":\"A\",\"model\":\"B\",\"total\":1,\"free\":0,"
    "\"price_per_card_hour\":1}]}",
    "{\"pools\":[{\"model\":\"A\x7f\",\"total\":1,\"free\":0,\"price_per_card_hour\":1}]}",
    "{\"pools\":[{\"model\":\"A\tB\",\"total\":1,\"free\":0,\"price_per_card_hour\":1}]}",
    "{\"pools\":[{\"model\":\"A\",\"total\":1,\"free\":0,\"price_per_card_hour\":1000001}]}",
    "{\"pools\":[{\"model\":\"A\",\"total\":1,\"free\":0,\"price_per_card_hour\":1e1000}]}",
    "{\"pools\":[{\"model\":\"A\",\"total\":10000001,\"free\":0,\"price_per_card_hour\":1}]}",
};

static void test_plain(void)
{
    for (size_t i = 0; i < N(plain_docs); i++) {
        size_t len = strlen(plain_docs[i]);
        char *body = body_of(plain_docs[i], len);
        bool scanned = false;
        const char *why = native_diff(body, len, &scanned);
        CHECK(scanned, "plain document %zu is read by the scanner", i);
        CHECK(why == NULL, "plain document %zu: the two readers agree (%s)", i, why ? why : "");
        free(body);
    }
}

static void test_rare(void)
{
    for (size_t i = 0; i < N(rare_docs); i++) {
        size_t len = strlen(rare_docs[i]);
        char *body = body_of(rare_docs[i], len);
        struct feed_snapshot snap;
        struct json_error err = {{0}, {0}};
        CHECK(native_scan(body, len, &snap) == 0 && snap.pools == NULL,
              "rare document %zu is declined by the scanner", i);
        int r = adapter_native.parse(body, len, NULL, &snap, &err);
        CHECK(r == 0, "rare document %zu is read by the adapter (rc %d, %s %s)", i, r, err.pointer,
              err.detail);
        if (r == 0)
            feed_snapshot_free(&snap);
        free(body);
    }
    /* A NUL after the document is allowed by the strict reader, not by the scanner. */
    static const char with_nul[] = "{\"pools\":[]}\0";
    struct feed_snapshot snap;
    struct json_error err = {{0}, {0}};
    char *body = body_of(with_nul, sizeof(with_nul) - 1);
    CHECK(native_scan(body, sizeof(with_nul) - 1, &snap) == 0, "a trailing NUL is declined");
    CHECK(adapter_native.parse(body, sizeof(with_nul) - 1, NULL, &snap, &err) == 0,
          "and read by the adapter");
    feed_snapshot_free(&snap);
    free(body);
}

static void test_bad(void)
{
    for (size_t i = 0; i < N(bad_docs); i++) {
        size_t len = strlen(bad_docs[i]);
        char *body = body_of(bad_docs[i], len);
        struct feed_snapshot snap;
        CHECK(native_scan(body, len, &snap) == 0 && snap.pools == NULL && snap.npools == 0,
              "bad document %zu is declined", i);
        free(body);
    }
    /* ADAPTER_MAX_POOLS + 1 pools */
    size_t cap = 64 + (ADAPTER_MAX_POOLS + 1) * 96, off = 0;
    char *doc = malloc(cap);
    if (!doc)
        return;
    off += (size_t)snprintf(doc, cap, "{\"pools\":[");
    for (int i = 0; i <= ADAPTER_MAX_POOLS; i++)
        off += (size_t)snprintf(doc + off, cap - off,
                                "%s{\"model\":\"M%d\",\"total\":1,\"free\":1,"
                                "\"price_per_card_hour\":1}",
                                i ? "," : "", i);
    off += (size_t)snprintf(doc + off, cap - off, "]}");
    struct feed_snapshot snap;
    CHECK(native_scan(doc, off, &snap) == 0, "%d pools are declined", ADAPTER_MAX_POOLS + 1);
    /* and exactly the limit is read */
    char *last = strrchr(doc, '{');
    memcpy(last - 1, "]}", 2);
    size_t n = (size_t)(last + 1 - doc);
    bool scanned = false;
    const char *why = native_diff(doc, n, &scanned);
    CHECK(scanned && why == NULL, "%d pools are read, as the strict reader reads them (%s)",
          ADAPTER_MAX_POOLS, why ? why : "");
    free(doc);
}

/* The scanner's numbers against strtod, through a pool's price. */
static void test_numbers(void)
{
    static const char *const numbers[] = {
        "0",           "1",        "13.32",          "8.27",          "0.1",
        "0.3",         "0.7",      "2.675",          "999999.999999", "123456.789012345",
        "1e-22",       "4.35e-10", "0.000123456789", "1e6",           "5e5",
        "3.14159e2",   "1E+2",     "7.000000000001", "0.5e1",         "1234567890123e-7",
        "9.87654321e3"};
    for (size_t i = 0; i < N(numbers); i++) {
        char doc[256];
        int len = snprintf(doc, sizeof(doc),
                           "{\"pools\":[{\"model\":\"A\",\"total\":1,\"free\":1,"
                           "\"price_per_card_hour\":%s}]}",
                           numbers[i]);
        struct feed_snapshot snap;
        int r = native_scan(doc, (size_t)len, &snap);
        CHECK(r == 1, "%s is read by the scanner", numbers[i]);
        if (r != 1)
            continue;
        double want = strtod(numbers[i], NULL);
        CHECK(memcmp(&snap.pools[0].price, &want, sizeof(want)) == 0, "%s reads as strtod's %.17g",
              numbers[i], want);
        feed_snapshot_free(&snap);
    }
}

/* Seeded mutations of the plain documents: the readers never disagree. */
static void test_mutations(void)
{
    static const char pieces[][8] = {"\"", ",", ":", "{", "}",  "[", "]", "null", "0",   "-",
                                     ".",  "e", "1", " ", "\\", "A", "9", "true", "\x80"};
    uint64_t x = 0x9e3779b97f4a7c15ull;
    size_t disagreements = 0, scanned_n = 0, total = 20000;
    const char *first = NULL;
    for (size_t k = 0; k < total; k++) {
        const char *src = plain_docs[k % N(plain_docs)];
        size_t len = strlen(src);
        char *doc = malloc(len + 16);
        if (!doc)
            return;
        memcpy(doc, src, len);
        int edits = 1 + (int)(k % 3);
        for (int e = 0; e < edits && len > 0; e++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            size_t at = (size_t)(x % len);
            const char *p = pieces[(x >> 32) % N(pieces)];
            size_t pn = strlen(p);
            switch ((x >> 48) % 3) {
            case 0: /* replace one byte with a piece's first byte */
                doc[at] = p[0];
                break;
            case 1: /* delete one byte */
                memmove(doc + at, doc + at + 1, len - at - 1);
                len--;
                break;
            default: /* insert a piece, if it fits */
                if (len + pn <= strlen(src) + 15) {
                    memmove(doc + at + pn, doc + at, len - at);
                    memcpy(doc + at, p, pn);
                    len += pn;
                }
                break;
            }
        }
        char *body = body_of(doc, len);
        bool scanned = false;
        const char *why = native_diff(body, len, &scanned);
        if (why) {
            disagreements++;
            if (!first)
                first = why;
        }
        scanned_n += scanned;
        free(body);
        free(doc);
    }
    CHECK(disagreements == 0, "%zu mutated documents: the readers disagree on %zu (%s)", total,
          disagreements, first ? first : "none");
    CHECK(scanned_n > total / 100 && scanned_n < total,
          "some mutated documents are read by the scanner, not all (%zu of %zu)", scanned_n, total);
}

int main(void)
{
    test_plain();
    test_rare();
    test_bad();
    test_numbers();
    test_mutations();
    return check_done();
}
