/*
 * fuzz-adapter — one feed adapter's parse() on arbitrary bytes. The adapter is
 * chosen when compiling (-DADAPTER_NAME="slurm"); each input is parsed twice,
 * with no options and with a fixed, realistic options object of that adapter
 * (checked by adapter_check_options first, as the broker does when a feed is
 * configured). The document is an exact-size heap copy without a terminator,
 * as a fetched or pushed body arrives, so a read past its end is caught.
 *
 * Beyond the sanitizers it checks the parse contract: a failure leaves nothing
 * to free (feeds.c does not free after a failed parse), a success returns at
 * most ADAPTER_MAX_POOLS pools with terminated strings. Violations abort().
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

#ifndef ADAPTER_NAME
#error "compile with -DADAPTER_NAME=\"<adapter>\""
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Options a site would really configure, one set per adapter. */
static const struct {
    const char *adapter;
    const char *options;
} fixed_options[] = {
    {"native", "{}"},
    {"slurm", "{\"models\":{\"a100\":\"A100\",\"h100\":\"H100\",\"a100_80g\":\"A100\"},"
              "\"untyped_model\":\"A100\",\"price_per_card_hour\":{\"H100\":20.5,\"A100\":9},"
              "\"currency\":\"CNY\",\"partitions\":[\"gpu\",\"debug\"]}"},
    {"kubernetes",
     "{\"models\":{\"nvidia.com/mig-1g.5gb\":\"A100-1g.5gb\",\"NVIDIA-A100-SXM4-80GB\":\"A100\","
     "\"huawei-Ascend910\":\"Ascend910B\"},\"price_per_card_hour\":{\"A100\":12.5,"
     "\"ascend910b\":9,\"NVIDIA H100 80GB HBM3\":30},\"currency\":\"USD\","
     "\"ignore_taints\":[\"dedicated\"]}"},
    {"prometheus", "{\"models\":{\"Tesla T4\":\"T4\",\"NVIDIA A800-SXM4-80GB\":\"A800\"},"
                   "\"util_threshold\":10,\"mem_threshold\":0.1,"
                   "\"price_per_card_hour\":{\"T4\":2.5,\"A800\":18},\"currency\":\"CNY\"}"},
    {"azure-retail", "{\"skus\":{\"Standard_NC4as_T4_v3\":{\"model\":\"T4\",\"count\":1},"
                     "\"Standard_ND96isr_H100_v5\":{\"model\":\"H100\",\"count\":8}},"
                     "\"region\":\"eastus\",\"max_pages\":20,\"models\":{\"A100\":\"A100\"}}"},
    {"skypilot-csv", "{\"region\":\"eastus\",\"currency\":\"USD\",\"max_price\":500,"
                     "\"counts\":{\"Standard_ND96isr_H100_v5\":8},"
                     "\"models\":{\"A100\":\"A100-PCIE-40GB\"}}"},
    {"mapping", "{\"pools\":\"/data/gpus\",\"observed_at\":\"/meta/generated_at\","
                "\"models\":{\"910B\":\"Ascend910B\"},\"currency\":\"CNY\","
                "\"price_per_card_hour\":{\"L40S\":7.5},"
                "\"fields\":{\"model\":\"/spec/name\",\"total\":\"/stock/total\","
                "\"free\":\"/stock/idle\",\"largest_block\":\"/stock/node~1max\","
                "\"price_per_card_hour\":\"/price/hour\","
                "\"spot_price_per_card_hour\":\"/price/spot~0hour\","
                "\"currency\":\"/price/ccy\",\"memory_gib\":\"/mem_gib\"}}"},
};

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz-adapter %s: %s%s%s\n", ADAPTER_NAME, what, detail ? ": " : "",
            detail ? detail : "");
    abort();
}

static void check_terminated(const char *s, size_t size, const char *what)
{
    if (!memchr(s, '\0', size))
        die("unterminated string", what);
}

static void parse_once(const struct adapter *a, const char *doc, size_t len, const cJSON *options)
{
    struct feed_snapshot snap;
    struct json_error err;
    memset(&snap, 0, sizeof(snap));
    memset(&err, 0, sizeof(err));
    int r = a->parse(doc, len, options, &snap, &err);
    if (r == 0) {
        if (snap.npools > ADAPTER_MAX_POOLS)
            die("more pools than ADAPTER_MAX_POOLS", NULL);
        if (snap.npools && !snap.pools)
            die("npools > 0 with no pools array", NULL);
        check_terminated(snap.center, sizeof(snap.center), "center");
        check_terminated(snap.warning, sizeof(snap.warning), "warning");
        for (size_t i = 0; i < snap.npools; i++) {
            const struct pool_snapshot *p = &snap.pools[i];
            check_terminated(p->model, sizeof(p->model), "pool model");
            check_terminated(p->currency, sizeof(p->currency), "pool currency");
            check_terminated(p->vendor, sizeof(p->vendor), "pool vendor");
        }
        if (snap.next_url)
            (void)strlen(snap.next_url);
    } else if (r == -EINVAL || r == -ENOMEM) {
        check_terminated(err.pointer, sizeof(err.pointer), "error pointer");
        check_terminated(err.detail, sizeof(err.detail), "error detail");
        if (snap.pools || snap.next_url)
            die("a failed parse left memory in the snapshot", err.detail);
    } else {
        die("parse returned neither 0, -EINVAL nor -ENOMEM", NULL);
    }
    feed_snapshot_free(&snap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct adapter *a = adapter_find(ADAPTER_NAME);
    if (!a)
        die("no such adapter", NULL);

    const char *options_text = NULL;
    for (size_t i = 0; i < sizeof(fixed_options) / sizeof(fixed_options[0]); i++) {
        if (strcmp(fixed_options[i].adapter, ADAPTER_NAME) == 0)
            options_text = fixed_options[i].options;
    }
    if (!options_text)
        die("no fixed options for this adapter", NULL);

    /* Exact size, no terminator; malloc(0) may return NULL, so keep one byte. */
    char *doc = malloc(size ? size : 1);
    if (!doc)
        return 0;
    if (size)
        memcpy(doc, data, size);

    parse_once(a, doc, size, NULL);

    cJSON *options = cJSON_Parse(options_text);
    if (!options)
        die("the fixed options do not parse", options_text);
    struct json_error err;
    memset(&err, 0, sizeof(err));
    if (adapter_check_options(a, options, "/options", &err) != 0)
        die("the fixed options are refused", err.detail);
    parse_once(a, doc, size, options);

    cJSON_Delete(options);
    free(doc);
    return 0;
}
