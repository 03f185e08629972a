/*
 * test-adapter-skypilot-csv — the SkyPilot vms.csv adapter (SPEC §5): the real
 * Azure v6, Lambda v8 and GCP v8 excerpts with the expected pools worked out by
 * hand from their rows, the region / currency / max_price / counts / models
 * options, the RFC 4180 reader (quotes, doubled quotes, CRLF, no final newline,
 * caps), and tables of hostile documents and bad options.
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

static const struct adapter *sp;

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
    int r = sp->parse(body, len, o, snap, err);
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

/* One price pool as the adapter must report it; spot < 0 means not offered. */
static void expect_price(const struct feed_snapshot *s, const char *model, double price,
                         double spot, const char *currency, const char *what)
{
    const struct pool_snapshot *p = find(s, model);
    CHECK(p != NULL, "%s: pool %s present", what, model);
    if (!p)
        return;
    CHECK(p->has_price && !p->has_counts, "%s: %s has a price, no counts", what, model);
    CHECK_NEAR(p->price, price, 1e-9, model);
    if (spot < 0)
        CHECK(p->spot_price < 0, "%s: %s has no spot price (%g)", what, model, p->spot_price);
    else
        CHECK_NEAR(p->spot_price, spot, 1e-9, model);
    CHECK_STR(str(p->currency), currency, model);
    CHECK(p->memory_gib < 0 && p->domestic == -1 && p->vendor[0] == '\0',
          "%s: %s states no memory, vendor or domesticity", what, model);
    for (int k = 0; k < PREC_COUNT; k++)
        CHECK(p->tflops[k] < 0, "%s: %s tflops[%d] not stated", what, model, k);
}

static void test_registry(void)
{
    sp = adapter_find("skypilot-csv");
    CHECK(sp == &adapter_skypilot_csv, "adapter_find(\"skypilot-csv\") is adapter_skypilot_csv");
    if (!sp)
        sp = &adapter_skypilot_csv;
    CHECK_STR(sp->name, "skypilot-csv", "adapter name");
    CHECK(sp->pull && !sp->push, "skypilot-csv is pulled");
    CHECK(sp->parse && sp->check_options && sp->description && sp->description[0],
          "parser, options check and description");
    const char *want[] = {"region", "currency", "max_price", "counts", "models"};
    size_t n = 0;
    for (const struct adapter_option *o = sp->options; o->name; o++, n++)
        CHECK(!o->required && o->description && o->description[0], "option %s optional, described",
              o->name);
    CHECK_EQ_LONG(n, N(want), "five options");
    for (size_t i = 0; i < N(want) && i < n; i++)
        CHECK_STR(sp->options[i].name, want[i], "option order");
}

/*
 * azure-vms.v6.excerpt.csv by hand. Rows without AcceleratorName (Basic_A0, B12ms,
 * M12ds_v3 x2, NC16ads_A10_v4 x2, NC8ads_A10_v4, NCC40ads_H100_v5, ND40s_v3) are skipped.
 * Per card-hour = Price / AcceleratorCount, the first row wins a tie:
 * - K80: NC12 2.16/2 = 1.08; NC12_Promo 0.432/2 = 0.216, no SpotPrice -> 0.216, no spot.
 * - V100: NC12s_v3 centralus 6.916/2 = 3.458; eastus 6.12/2 = 3.06 (spot 0.7956/2 = 0.3978);
 *   NC24rs_v3 13.46/4 = 3.365; NC24s_v3 12.24/4 = 3.06; NC6s_v3 3.06 -> 3.06, spot 0.3978.
 * - T4: NC16as 1.204; NC4as 0.526 (spot 0.062699); NC64as 4.352/4 = 1.088 -> 0.526.
 * - A100-80GB: NC24ads centralus 4.15, eastus 3.673 (spot 0.444433), ...; NC48ads 7.346/2 and
 *   NC96ads 14.692/4 tie at 3.673; ND96amsr 32.77/8 = 4.09625 -> 3.673, spot 0.444433.
 * - H100: NC40ads eastus 6.98 (SpotPrice == Price: no spot); NC80adis 13.96/2 = 6.98;
 *   ND96isr 98.32/12 = 8.1933 (count 12 as published) -> 6.98, no spot.
 * - V100-32GB: ND40rs_v2 22.032/8 = 2.754, spot 2.42352/8 = 0.30294.
 * - A100 (SkyPilot's 40GB, reported as A100-PCIE-40GB): ND96asr_v4 eastus 27.197/8 =
 *   3.399625, spot 2.99167/8 = 0.37395875 (southcentralus 32.63/8 dearer, westus2 a tie).
 * - M60: NV12s_v3 1.14, spot 0.1254.
 * - Radeon MI25: NV16as_v4 eastus 0.932; westus empty Price (unknown, skipped);
 *   NV4as_v4 0.233, spot 0.02563 -> 0.233, spot 0.02563.
 * - A10: NV36ads_A10_v5 3.2, spot 0.8.
 */
static void test_azure(void)
{
    size_t len = 0;
    char *doc = check_read_data("skypilot-catalog/azure-vms.v6.excerpt.csv", &len);
    CHECK(doc != NULL, "azure excerpt readable");
    if (!doc)
        return;
    struct feed_snapshot s;
    struct json_error err;
    int r = parse_len(doc, len, NULL, &s, &err);
    CHECK(r == 0, "azure excerpt parses (rc %d, '%s': %s)", r, err.pointer, err.detail);
    if (r == 0) {
        CHECK_EQ_LONG(s.npools, 10, "azure: ten models");
        expect_price(&s, "K80", 0.216, -1, "USD", "azure");
        expect_price(&s, "V100", 3.06, 0.3978, "USD", "azure");
        expect_price(&s, "T4", 0.526, 0.062699, "USD", "azure");
        expect_price(&s, "A100-80GB", 3.673, 0.444433, "USD", "azure");
        expect_price(&s, "H100", 6.98, -1, "USD", "azure");
        expect_price(&s, "V100-32GB", 2.754, 0.30294, "USD", "azure");
        expect_price(&s, "A100-PCIE-40GB", 3.399625, 0.37395875, "USD", "azure");
        expect_price(&s, "M60", 1.14, 0.1254, "USD", "azure");
        expect_price(&s, "Radeon MI25", 0.233, 0.02563, "USD", "azure");
        expect_price(&s, "A10", 3.2, 0.8, "USD", "azure");
        CHECK(find(&s, "A100") == NULL, "SkyPilot's A100 is not reported as the catalog's A100");
        CHECK(s.next_url == NULL && s.warning[0] == '\0' && s.center[0] == '\0' &&
                  s.observed_at_ms == 0,
              "azure: no next page, warning, center or time");
    }
    feed_snapshot_free(&s);

    /* eastus: K80 rows are southcentralus; the rest as above (all cheapest in eastus). */
    r = parse_len(doc, len, "{\"region\":\"eastus\"}", &s, &err);
    CHECK(r == 0 && s.npools == 9, "azure eastus: nine models (rc %d, %zu)", r, s.npools);
    if (r == 0) {
        CHECK(find(&s, "K80") == NULL, "azure eastus: no K80");
        expect_price(&s, "A100-80GB", 3.673, 0.444433, "USD", "azure eastus");
        expect_price(&s, "Radeon MI25", 0.233, 0.02563, "USD", "azure eastus");
        expect_price(&s, "V100", 3.06, 0.3978, "USD", "azure eastus");
    }
    feed_snapshot_free(&s);

    /* westus: NC24ads_A100_v4 4.775 (spot 0.647968), ND96isr_H100_v5 127.816/12, MI25 no price. */
    r = parse_len(doc, len, "{\"region\":\"westus\"}", &s, &err);
    CHECK(r == 0 && s.npools == 2, "azure westus: two models (rc %d, %zu)", r, s.npools);
    if (r == 0) {
        expect_price(&s, "A100-80GB", 4.775, 0.647968, "USD", "azure westus");
        expect_price(&s, "H100", 127.816 / 12, -1, "USD", "azure westus, count 12 as published");
    }
    feed_snapshot_free(&s);

    /* The operator corrects ND96isr_H100_v5 to 8 GPUs: 127.816 / 8 = 15.977. */
    r = parse_len(doc, len, "{\"region\":\"westus\",\"counts\":{\"Standard_ND96isr_H100_v5\":8}}",
                  &s, &err);
    CHECK(r == 0 && s.npools == 2, "counts option (rc %d)", r);
    if (r == 0)
        expect_price(&s, "H100", 15.977, -1, "USD", "azure westus, counts corrected");
    feed_snapshot_free(&s);
    /* In eastus the corrected 98.32 / 8 = 12.29 still loses to NC40ads 6.98. */
    r = parse_len(doc, len, "{\"region\":\"eastus\",\"counts\":{\"standard_nd96isr_h100_v5\":8}}",
                  &s, &err);
    CHECK(r == 0, "counts option, any case");
    if (r == 0)
        expect_price(&s, "H100", 6.98, -1, "USD", "azure eastus, counts corrected");
    feed_snapshot_free(&s);
    /* counts overrides any size's published count. */
    r = parse_len(doc, len, "{\"counts\":{\"Standard_NC6s_v3\":2}}", &s, &err);
    CHECK(r == 0, "counts on a priced size");
    if (r == 0)
        expect_price(&s, "V100", 1.53, 0.1989, "USD", "NC6s_v3 as 2 cards: 3.06/2, 0.3978/2");
    feed_snapshot_free(&s);

    /* max_price 3.0: V100 (3.06), A100-80GB (3.673), H100 (6.98), 40GB (3.399625), A10 (3.2)
     * rows all above: those models vanish; the rest stay. */
    r = parse_len(doc, len, "{\"max_price\":3.0}", &s, &err);
    CHECK(r == 0 && s.npools == 5, "max_price 3: five models (rc %d, %zu)", r, s.npools);
    if (r == 0) {
        CHECK(!find(&s, "V100") && !find(&s, "A100-80GB") && !find(&s, "H100") &&
                  !find(&s, "A100-PCIE-40GB") && !find(&s, "A10"),
              "models above max_price gone");
        expect_price(&s, "V100-32GB", 2.754, 0.30294, "USD", "max_price");
        CHECK(strstr(s.warning, "skipped") != NULL, "skipped rows are warned about: %s", s.warning);
    }
    feed_snapshot_free(&s);

    /* currency and models: the operator's alias wins over the built-in A100 one. */
    r = parse_len(doc, len,
                  "{\"currency\":\"EUR\",\"models\":{\"A100\":\"A100-SXM4-40GB\","
                  "\"a100-80gb\":\"A100\",\"V100-32GB\":\"V100\"}}",
                  &s, &err);
    CHECK(r == 0 && s.npools == 9, "models option: V100 and V100-32GB merge (rc %d, %zu)", r,
          s.npools);
    if (r == 0) {
        expect_price(&s, "A100-SXM4-40GB", 3.399625, 0.37395875, "EUR", "models");
        expect_price(&s, "A100", 3.673, 0.444433, "EUR", "models, any case");
        expect_price(&s, "V100", 2.754, 0.30294, "EUR", "models merge: cheapest wins");
    }
    feed_snapshot_free(&s);

    /* CRLF line ends and no final newline read the same. */
    char *crlf = malloc(len * 2 + 1);
    size_t m = 0;
    for (size_t i = 0; i < len; i++) {
        if (doc[i] == '\n')
            crlf[m++] = '\r';
        crlf[m++] = doc[i];
    }
    r = parse_len(crlf, m - 2, NULL, &s, &err);
    CHECK(r == 0 && s.npools == 10, "CRLF, no final newline: same ten models (rc %d)", r);
    if (r == 0) {
        expect_price(&s, "Radeon MI25", 0.233, 0.02563, "USD", "CRLF last row");
        expect_price(&s, "A100-80GB", 3.673, 0.444433, "USD", "CRLF");
    }
    feed_snapshot_free(&s);
    free(crlf);

    /* A UTF-8 byte order mark before the header. */
    char *bom = malloc(len + 3);
    memcpy(bom, "\xEF\xBB\xBF", 3);
    memcpy(bom + 3, doc, len);
    r = parse_len(bom, len + 3, NULL, &s, &err);
    CHECK(r == 0 && s.npools == 10, "a byte order mark is skipped (rc %d)", r);
    feed_snapshot_free(&s);
    free(bom);

    /* Every prefix returns cleanly: parsed, or refused with nothing returned. */
    size_t ok = 0, wrong = 0;
    for (size_t n = 0; n <= len; n++) {
        r = parse_len(doc, n, NULL, &s, &err);
        if (r == 0) {
            ok++;
            feed_snapshot_free(&s);
        } else if (!(r == -EINVAL && s.npools == 0 && s.pools == NULL)) {
            wrong++;
        }
    }
    /* A prefix cut inside a row's last field parses (that field reads short); one cut
     * before it has too few fields and is refused. Each of the 49 whole lines parses. */
    CHECK(wrong == 0 && ok >= 49, "every prefix: %zu parsed, %zu wrong", ok, wrong);
    free(doc);
}

/*
 * lambda-vms.v8.excerpt.csv by hand (Price before Region, SpotPrice last and empty,
 * counts written 8.0): cpu_4x_general has no accelerator.
 * - V100: gpu_8x_v100_n and gpu_8x_v100 6.32/8 = 0.79.
 * - A6000: 4.36/4, 2.18/2, 1.09/1 all 1.09 (us-east-1 first; europe-central-1 1.09 too).
 * - H100: 31.92/8 = 3.99 (us-south-3 first, us-midwest-1 the same).
 * - B200: 6.99/1, 13.78/2 = 6.89, 53.52/8 = 6.69 -> 6.69.
 * - GH200: 2.29. No spot anywhere.
 */
static void test_lambda(void)
{
    size_t len = 0;
    char *doc = check_read_data("skypilot-catalog/lambda-vms.v8.excerpt.csv", &len);
    CHECK(doc != NULL, "lambda excerpt readable");
    if (!doc)
        return;
    struct feed_snapshot s;
    struct json_error err;
    int r = parse_len(doc, len, NULL, &s, &err);
    CHECK(r == 0, "lambda excerpt parses (rc %d, '%s': %s)", r, err.pointer, err.detail);
    if (r == 0) {
        CHECK_EQ_LONG(s.npools, 5, "lambda: five models");
        expect_price(&s, "V100", 0.79, -1, "USD", "lambda");
        expect_price(&s, "A6000", 1.09, -1, "USD", "lambda");
        expect_price(&s, "H100", 3.99, -1, "USD", "lambda");
        expect_price(&s, "B200", 6.69, -1, "USD", "lambda");
        expect_price(&s, "GH200", 2.29, -1, "USD", "lambda");
    }
    feed_snapshot_free(&s);
    r = parse_len(doc, len, "{\"region\":\"europe-central-1\"}", &s, &err);
    CHECK(r == 0 && s.npools == 1, "lambda europe-central-1: one model (rc %d)", r);
    if (r == 0)
        expect_price(&s, "A6000", 1.09, -1, "USD", "lambda europe-central-1");
    feed_snapshot_free(&s);
    r = parse_len(doc, len, "{\"region\":\"us-midwest-1\",\"currency\":\"CNY\"}", &s, &err);
    CHECK(r == 0 && s.npools == 1, "lambda us-midwest-1 (rc %d)", r);
    if (r == 0)
        expect_price(&s, "H100", 3.99, -1, "CNY", "lambda us-midwest-1, stated currency");
    feed_snapshot_free(&s);
    free(doc);
}

/*
 * gcp-vms.v8.excerpt.csv by hand: the a2/a3/n1/n4 rows have no AcceleratorName; the
 * tpu-v6e-8 rows (count 1): us-central1 21.6 (spot 4.35366); southamerica-east1 700/700
 * (placeholder: skipped); southamerica-west1 21.6 with spot 700 (no spot); us-central2
 * 700/700 twice (skipped, a duplicate row); us-south1 21.6 (spot 10.8) -> 21.6, spot 4.35366.
 */
static void test_gcp(void)
{
    size_t len = 0;
    char *doc = check_read_data("skypilot-catalog/gcp-vms.v8.excerpt.csv", &len);
    CHECK(doc != NULL, "gcp excerpt readable");
    if (!doc)
        return;
    struct feed_snapshot s;
    struct json_error err;
    int r = parse_len(doc, len, NULL, &s, &err);
    CHECK(r == 0, "gcp excerpt parses (rc %d, '%s': %s)", r, err.pointer, err.detail);
    if (r == 0) {
        CHECK_EQ_LONG(s.npools, 1, "gcp: one model");
        expect_price(&s, "tpu-v6e-8", 21.6, 4.35366, "USD", "gcp");
        CHECK(strstr(s.warning, "3 row") != NULL, "three placeholder rows warned: %s", s.warning);
    }
    feed_snapshot_free(&s);
    r = parse_len(doc, len, "{\"region\":\"us-central2\"}", &s, &err);
    CHECK(r == 0 && s.npools == 0, "gcp us-central2: only placeholders, no pool (rc %d)", r);
    feed_snapshot_free(&s);
    r = parse_len(doc, len, "{\"region\":\"southamerica-west1\"}", &s, &err);
    CHECK(r == 0 && s.npools == 1, "gcp southamerica-west1 (rc %d)", r);
    if (r == 0)
        expect_price(&s, "tpu-v6e-8", 21.6, -1, "USD", "gcp: a 700.0 spot is no spot");
    feed_snapshot_free(&s);
    r = parse_len(doc, len, "{\"region\":\"us-south1\",\"max_price\":25}", &s, &err);
    CHECK(r == 0 && s.npools == 1, "gcp us-south1 (rc %d)", r);
    if (r == 0)
        expect_price(&s, "tpu-v6e-8", 21.6, 10.8, "USD", "gcp us-south1");
    feed_snapshot_free(&s);
    r = parse_len(doc, len, "{\"max_price\":20}", &s, &err);
    CHECK(r == 0 && s.npools == 0, "gcp with max_price 20: nothing left (rc %d)", r);
    feed_snapshot_free(&s);
    free(doc);
}

/* slurm pricing.csv is another schema: refused at its header, line 1. */
static void test_slurm_pricing(void)
{
    size_t len = 0;
    char *doc = check_read_data("skypilot-catalog/slurm-pricing.v8.csv", &len);
    CHECK(doc != NULL, "slurm pricing readable");
    if (!doc)
        return;
    struct feed_snapshot s;
    struct json_error err;
    int r = parse_len(doc, len, NULL, &s, &err);
    CHECK(r == -EINVAL && strcmp(err.pointer, "/1") == 0 &&
              strstr(err.detail, "AcceleratorCount") != NULL,
          "slurm pricing.csv refused: no AcceleratorCount column ('%s': %s)", err.pointer,
          err.detail);
    CHECK(s.npools == 0 && s.pools == NULL, "nothing returned");
    free(doc);
}

#define HDR "InstanceType,AcceleratorName,AcceleratorCount,Price,SpotPrice,Region\n"

static void test_reader(void)
{
    static const struct {
        const char *doc;
        const char *options;
        const char *model; /* NULL: no pool expected */
        double price, spot;
        const char *why;
    } cases[] = {
        {HDR "a,H100,8,16,8,r\n", NULL, "H100", 2, 1, "plain row"},
        {HDR "a,H100,8.0,16.0,,r", NULL, "H100", 2, -1, "8.0 count, no final newline, no spot"},
        {HDR "\"a,b\",\"H100\",\"8\",\"16\",\"\",\"r\"\n", NULL, "H100", 2, -1, "quoted fields"},
        {HDR "a,\"A \"\"quoted\"\" name\",1,3,,r\n", NULL, "A \"quoted\" name", 3, -1,
         "doubled quotes"},
        {HDR "\"multi\nline\",H100,1,3,,r\n", NULL, "H100", 3, -1, "a newline inside quotes"},
        {HDR "\n\na,H100,1,3,,r\n\n", NULL, "H100", 3, -1, "blank lines skipped"},
        {HDR "a,H100,1,3,,r\r\n", NULL, "H100", 3, -1, "CRLF"},
        {HDR "a,H100,1,3,,r\rb,H100,1,2,,r\r", NULL, "H100", 2, -1, "lone CR line ends"},
        {HDR "a,H100, 2 ,6 ,,r\n", NULL, "H100", 3, -1, "blanks around numbers"},
        {HDR "a,H100,2,6,6,r\n", NULL, "H100", 3, -1, "SpotPrice equal to Price: no spot"},
        {HDR "a,H100,2,6,8,r\n", NULL, "H100", 3, 4, "SpotPrice above Price is kept"},
        {HDR "a,H100,1,0,,r\n", NULL, "H100", 0, -1, "a zero price is a price"},
        {HDR "a,H100,1,,2,r\n", NULL, NULL, 0, 0, "empty Price: unknown, no pool"},
        {HDR "a,H100,,3,,r\n", NULL, NULL, 0, 0, "empty count: no pool"},
        {HDR "a,H100,0,3,,r\n", NULL, NULL, 0, 0, "count 0: no pool"},
        {HDR "a,A10,0.5,3,,r\n", NULL, NULL, 0, 0, "fractional count (a slice): no pool"},
        {HDR "a,H100,2000,3,,r\n", NULL, NULL, 0, 0, "count above 1024: no pool"},
        {HDR "a,H100,1,700.0,,r\n", NULL, NULL, 0, 0, "700.0 placeholder: no pool"},
        {HDR "a,H100,1,1001,,r\n", NULL, NULL, 0, 0, "above the default max_price"},
        {HDR "a,H100,8,8000,,r\n", NULL, "H100", 1000, -1, "1000 per card is within the bound"},
        {HDR "a,,8,16,,r\n", NULL, NULL, 0, 0, "no accelerator"},
        {HDR "a,H100,8,16,,other\n", "{\"region\":\"r\"}", NULL, 0, 0, "another region"},
        {HDR "a,H100,8,16,,R\n", "{\"region\":\"r\"}", "H100", 2, -1, "region in any case"},
        {HDR "a,H100,1,3,,r\na,H100,1,3,,r\n", NULL, "H100", 3, -1, "identical rows: one pool"},
        {"Price,AcceleratorCount,AcceleratorName\n16,8,H100\n", NULL, "H100", 2, -1,
         "any column order, no Region or SpotPrice"},
        {"price,acceleratorcount,acceleratorname,extra\n16,8,H100,x\n", NULL, "H100", 2, -1,
         "header names in any case, unknown columns ignored"},
        {HDR, NULL, NULL, 0, 0, "a header alone"},
        {HDR "a,H100,8,16,,r,\n", NULL, NULL, 0, 0, "(refused: one field too many)"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        struct feed_snapshot s;
        struct json_error err;
        int r = parse(cases[i].doc, cases[i].options, &s, &err);
        if (i == N(cases) - 1) {
            CHECK(r == -EINVAL && strcmp(err.pointer, "/2") == 0,
                  "a row with one field more than the header refused at /2 ('%s': %s)", err.pointer,
                  err.detail);
            continue;
        }
        CHECK(r == 0, "%s: parses (rc %d '%s': %s)", cases[i].why, r, err.pointer, err.detail);
        if (r != 0)
            continue;
        if (!cases[i].model) {
            CHECK(s.npools == 0, "%s: no pool (%zu)", cases[i].why, s.npools);
        } else {
            CHECK(s.npools == 1, "%s: one pool (%zu)", cases[i].why, s.npools);
            expect_price(&s, cases[i].model, cases[i].price, cases[i].spot, "USD", cases[i].why);
        }
        feed_snapshot_free(&s);
    }
}

static void test_hostile(void)
{
    static const struct {
        const char *doc;
        const char *pointer;
    } cases[] = {
        {"", ""},
        {"\n\r\n\n", ""},
        {"InstanceType,AcceleratorName,Price\n", "/1"},
        {"Region,Zone,PricePerVCPU\n", "/1"},
        {"AcceleratorName,AcceleratorCount,Price,Price\n", "/1"},
        {"\"AcceleratorName,AcceleratorCount,Price\n", "/1"},
        {HDR "a,H100,8,16,,r\n\"unterminated,H100,8,16,,r\n", "/3"},
        {HDR "a,H\"100,8,16,,r\n", "/2"},
        {HDR "\"a\"b,H100,8,16,,r\n", "/2"},
        {HDR "a,H100,8,16,,r\nb,H100,8\n", "/3"},
        {HDR "a,H100,8,abc,,r\n", "/2/Price"},
        {HDR "a,H100,8,nan,,r\n", "/2/Price"},
        {HDR "a,H100,8,inf,,r\n", "/2/Price"},
        {HDR "a,H100,8,0x10,,r\n", "/2/Price"},
        {HDR "a,H100,8,-1,,r\n", "/2/Price"},
        {HDR "a,H100,8,1e999,,r\n", "/2/Price"},
        {HDR "a,H100,8,1.2.3,,r\n", "/2/Price"},
        {HDR "a,H100,8,16,x,r\n", "/2/SpotPrice"},
        {HDR "a,H100,8,16,-2,r\n", "/2/SpotPrice"},
        {HDR "a,H100,eight,16,,r\n", "/2/AcceleratorCount"},
        {HDR "a,H100,-8,16,,r\n", "/2/AcceleratorCount"},
        {HDR "a,H\x01"
             "100,8,16,,r\n",
         "/2/AcceleratorName"},
        {HDR "a,A-model-name-that-is-far-too-long-to-be-an-accelerator-model-name-x,8,16,,r\n",
         "/2/AcceleratorName"},
        {HDR "\"a\nx\",H100,8,16,,r\nb,H100,8,abc,,r\n", "/4/Price"},
        {"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n"
         "<body><p>The page \"vms.csv\" was not found.</p></body></html>\n",
         "/1"},
        {"{\"error\":\"not found\"}", "/1"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        struct feed_snapshot s;
        struct json_error err;
        int r = parse(cases[i].doc, NULL, &s, &err);
        CHECK(r == -EINVAL && strcmp(err.pointer, cases[i].pointer) == 0 && err.detail[0],
              "hostile %zu refused at '%s' (rc %d, got '%s': %s)", i, cases[i].pointer, r,
              err.pointer, err.detail);
        CHECK(s.npools == 0 && s.pools == NULL && s.next_url == NULL, "hostile %zu: empty snapshot",
              i);
    }
    struct feed_snapshot s;
    struct json_error err;
    /* A NUL byte: binary, not CSV. */
    int r =
        parse_len(HDR "a,H100\0,8,16,,r\n", sizeof(HDR "a,H100\0,8,16,,r\n") - 1, NULL, &s, &err);
    CHECK(r == -EINVAL && s.npools == 0, "a NUL byte refused (%s)", err.detail);

    /* Caps: one field over 4096 bytes, a record over 64 KiB, more than 64 fields. */
    size_t big = 200000;
    char *g = malloc(big + 1);
    size_t n = (size_t)snprintf(g, big, HDR "a,H100,8,16,,");
    memset(g + n, 'x', 5000);
    strcpy(g + n + 5000, "\n");
    r = parse(g, NULL, &s, &err);
    CHECK(r == -EINVAL && strcmp(err.pointer, "/2") == 0 && strstr(err.detail, "4096"),
          "a 5000-byte field refused ('%s': %s)", err.pointer, err.detail);
    n = (size_t)snprintf(g, big, HDR "a,H100,8,16,,\"");
    for (size_t k = 0; k < 40; k++) {
        memset(g + n, 'y', 4000);
        n += 4000;
        memcpy(g + n, "\"\"", 2); /* keeps each stretch inside the field... */
        n += 2;
    }
    strcpy(g + n, "\"\n");
    r = parse(g, NULL, &s, &err);
    CHECK(r == -EINVAL && strcmp(err.pointer, "/2") == 0, "a 160 KB record refused ('%s': %s)",
          err.pointer, err.detail);
    n = (size_t)snprintf(g, big, "%s", "AcceleratorName,AcceleratorCount,Price");
    for (size_t k = 0; k < 70; k++)
        n += (size_t)snprintf(g + n, big - n, ",c%zu", k);
    strcpy(g + n, "\n");
    r = parse(g, NULL, &s, &err);
    CHECK(r == -EINVAL && strcmp(err.pointer, "/1") == 0 && strstr(err.detail, "64"),
          "73 header fields refused ('%s': %s)", err.pointer, err.detail);
    free(g);

    /* 10 MB of garbage, with and without NUL bytes. */
    big = 10u << 20;
    g = malloc(big);
    if (g) {
        uint32_t x = 2463534242u;
        for (size_t i = 0; i < big; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            g[i] = (char)(x & 0xff);
        }
        r = parse_len(g, big, NULL, &s, &err);
        CHECK(r == -EINVAL && s.npools == 0, "10 MB of garbage refused (rc %d)", r);
        for (size_t i = 0; i < big; i++)
            g[i] = (char)(' ' + (unsigned char)g[i] % 95);
        r = parse_len(g, big, NULL, &s, &err);
        CHECK(r == -EINVAL && s.npools == 0, "10 MB of printable garbage refused (rc %d: %s)", r,
              err.detail);
        /* A valid header followed by 10 MB of lines of commas. */
        n = (size_t)snprintf(g, big, HDR);
        size_t end = n + (big - n) / 6 * 6;
        for (size_t i = n; i < end; i++)
            g[i] = ((i - n) % 6 == 5) ? '\n' : ',';
        r = parse_len(g, end, NULL, &s, &err);
        CHECK(r == 0 && s.npools == 0, "10 MB of empty rows: no pool (rc %d '%s': %s)", r,
              err.pointer, err.detail);
        feed_snapshot_free(&s);
        free(g);
    }

    /* Bad options reach parse too: refused. */
    r = parse(HDR "a,H100,8,16,,r\n", "{\"max_price\":-1}", &s, &err);
    CHECK(r == -EINVAL && s.npools == 0, "parse refuses bad options (%s)", err.detail);
    /* A region filter on a file without a Region column. */
    r = parse("AcceleratorName,AcceleratorCount,Price\nH100,8,16\n", "{\"region\":\"r\"}", &s,
              &err);
    CHECK(r == -EINVAL && strcmp(err.pointer, "/1") == 0 && strstr(err.detail, "Region"),
          "region option without a Region column refused ('%s': %s)", err.pointer, err.detail);
}

/* More models than a snapshot may hold. */
static void test_pool_cap(void)
{
    size_t cap = 2048 * 24 + 64;
    char *g = malloc(cap);
    size_t n = (size_t)snprintf(g, cap, "AcceleratorName,AcceleratorCount,Price\n");
    for (int i = 0; i < ADAPTER_MAX_POOLS; i++)
        n += (size_t)snprintf(g + n, cap - n, "m%d,1,1\n", i);
    struct feed_snapshot s;
    struct json_error err;
    int r = parse_len(g, n, NULL, &s, &err);
    CHECK(r == 0 && s.npools == ADAPTER_MAX_POOLS, "%d models: all kept (rc %d)", ADAPTER_MAX_POOLS,
          r);
    feed_snapshot_free(&s);
    n += (size_t)snprintf(g + n, cap - n, "one-more,1,1\n");
    r = parse_len(g, n, NULL, &s, &err);
    CHECK(r == -EINVAL && s.npools == 0, "one model more refused (%s)", err.detail);
    free(g);
}

static void test_options(void)
{
    static const struct {
        const char *options;
        const char *pointer; /* NULL: accepted */
    } cases[] = {
        {NULL, NULL},
        {"{}", NULL},
        {"{\"region\":\"eastus\",\"currency\":\"USD\",\"max_price\":500,"
         "\"counts\":{\"Standard_ND96isr_H100_v5\":8},\"models\":{\"A100-80GB\":\"A100\"}}",
         NULL},
        {"[]", "/feeds/1/options"},
        {"{\"skus\":{}}", "/feeds/1/options/skus"},
        {"{\"region\":1}", "/feeds/1/options/region"},
        {"{\"region\":\"\"}", "/feeds/1/options/region"},
        {"{\"currency\":\"usd\"}", "/feeds/1/options/currency"},
        {"{\"currency\":\"DOLLAR\"}", "/feeds/1/options/currency"},
        {"{\"max_price\":0}", "/feeds/1/options/max_price"},
        {"{\"max_price\":-5}", "/feeds/1/options/max_price"},
        {"{\"max_price\":\"100\"}", "/feeds/1/options/max_price"},
        {"{\"max_price\":1e7}", "/feeds/1/options/max_price"},
        {"{\"counts\":[]}", "/feeds/1/options/counts"},
        {"{\"counts\":{\"x\":0}}", "/feeds/1/options/counts/x"},
        {"{\"counts\":{\"x\":1.5}}", "/feeds/1/options/counts/x"},
        {"{\"counts\":{\"x\":\"8\"}}", "/feeds/1/options/counts/x"},
        {"{\"counts\":{\"x\":1025}}", "/feeds/1/options/counts/x"},
        {"{\"counts\":{\"\":8}}", "/feeds/1/options/counts/"},
        {"{\"models\":{\"x\":1}}", "/feeds/1/options/models/x"},
        {"{\"models\":{\"a/b\":\"\"}}", "/feeds/1/options/models/a~1b"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        struct json_error err = {0};
        cJSON *o = cases[i].options ? cJSON_Parse(cases[i].options) : NULL;
        int r = adapter_check_options(sp, o, "/feeds/1/options", &err);
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
    test_azure();
    test_lambda();
    test_gcp();
    test_slurm_pricing();
    test_reader();
    test_hostile();
    test_pool_cap();
    test_options();
    return check_done();
}
