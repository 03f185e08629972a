/*
 * fuzz-push — the native feed push, POST /v1/centers/{id}/feed, on an arbitrary
 * body: the real API handler (authentication, route, body limit, the native
 * adapter, the checks api_centers.c applies to the snapshot, the inventory
 * writing it to the store) over an in-memory SQLite store, set up once with a
 * center "fz-1" that takes a native push feed. No HTTP/2: api_handle() gets
 * the request as h2.c would hand it over.
 *
 * Each input is pushed after an empty document that clears the center's pools,
 * so the outcome does not depend on earlier inputs (a document older than the
 * snapshot held is refused). Checks: the answer is 200 or a 4xx problem, never
 * a 5xx; its body is JSON; after a 200 the center still renders (GET
 * /v1/centers/fz-1 is 200) with at most ADAPTER_MAX_POOLS pools. Violations
 * abort().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "api.h"
#include "auth.h"
#include "config.h"
#include "inventory.h"
#include "log.h"
#include "metrics.h"
#include "store.h"

#define FUZZ_ADMIN_TOKEN "fuzz-admin-token-0123456789abcdef"
#define FUZZ_FEED_PATH "/v1/centers/fz-1/feed"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config cfg;
static struct store *st;
static struct inventory inv;
static struct api api;

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz-push: %s%s%.600s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

/* One request through the API; returns the status, *ret_body (malloc'ed, may be NULL). */
static int call(const char *method, const char *path, const char *body, size_t len, char **ret_body,
                size_t *ret_len)
{
    struct http_request req = {.stream_id = 1,
                               .method = method,
                               .path = path,
                               .authorization = "Bearer " FUZZ_ADMIN_TOKEN,
                               .content_type = "application/json",
                               .body = body,
                               .body_len = len,
                               .peer = "fuzz"};
    struct http_response resp = {0};
    api_handle(&api, &req, &resp);
    *ret_body = resp.body;
    *ret_len = resp.body_len;
    return resp.status;
}

static int call_json(const char *method, const char *path, const char *body)
{
    char *out;
    size_t len;
    int status = call(method, path, body, strlen(body), &out, &len);
    free(out);
    return status;
}

static void setup(void)
{
    char err[512];
    char *argv[] = {"fuzz-push", NULL};

    log_set_level(LOG_ERROR); /* no request lines */
    if (config_load(1, argv, &cfg, err, sizeof(err)) != 0)
        die("config_load", err);
    if (store_open(":memory:", &st, err, sizeof(err)) != 0)
        die("store_open", err);
    inventory_init(&inv, st, &cfg);
    if (inventory_refresh(&inv) != 0)
        die("inventory_refresh", NULL);
    api.st = st;
    api.inv = &inv;
    api.cfg = &cfg;
    if (metrics_new(&api.metrics) != 0)
        die("metrics_new", NULL);
    auth_sha256_hex(FUZZ_ADMIN_TOKEN, strlen(FUZZ_ADMIN_TOKEN), api.admin_hash);
    int s = call_json("POST", "/v1/centers",
                      "{\"id\":\"fz-1\",\"name\":\"fuzz\",\"operator\":\"op1\","
                      "\"region\":\"cn-shanghai\",\"feeds\":[{\"adapter\":\"native\","
                      "\"mode\":\"push\"}]}");
    if (s != 201)
        die("cannot register the center", NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!st)
        setup();
    if (call_json("POST", FUZZ_FEED_PATH, "{\"pools\":[]}") != 200)
        die("the empty document is refused", NULL);

    /* As h2.c hands a body over: exact size plus its NUL. */
    char *body = malloc(size + 1);
    if (!body)
        return 0;
    memcpy(body, data, size);
    body[size] = '\0';
    char *out = NULL;
    size_t len = 0;
    int status = call("POST", FUZZ_FEED_PATH, body, size, &out, &len);
    free(body);
    if (status >= 500 || (status != 200 && (status < 400 || status > 499)))
        die("an unexpected status", out);
    cJSON *doc = out ? cJSON_ParseWithLength(out, len) : NULL;
    if (!doc)
        die("the answer is not JSON", out);
    cJSON_Delete(doc);
    free(out);

    if (status == 200) {
        status = call("GET", "/v1/centers/fz-1", "", 0, &out, &len);
        doc = out ? cJSON_ParseWithLength(out, len) : NULL;
        const cJSON *pools = cJSON_GetObjectItemCaseSensitive(doc, "pools");
        if (status != 200 || !cJSON_IsArray(pools) || cJSON_GetArraySize(pools) > ADAPTER_MAX_POOLS)
            die("the center does not render after a push", out);
        cJSON_Delete(doc);
        free(out);
    }
    return 0;
}
