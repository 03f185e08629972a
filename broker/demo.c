/*
 * demo — demo centers and their feeds. Centers are registered with the admin
 * role through api_centers_create(); feeds are pushed through
 * api_center_feed(), so the demo exercises exactly the API's validation.
 * Drift is a small deterministic walk of each pool's free cards.
 */
#include "demo.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "api.h"
#include "clock.h"
#include "embedded.h"
#include "feeds.h"
#include "log.h"

#define DEMO_REFRESH_S 60.0

struct demo {
    struct api *api;  /* borrowed */
    ev_timer refresh; /* re-pushes every feed with drifted capacity */
    cJSON *doc;       /* owned: the parsed demo.json */
    uint64_t rng;     /* xorshift state: same drift on every run */
    unsigned round;
};

/* Runs a handler as the demo's admin and reports the status. */
static int call_as_admin(struct api *api, api_handler_fn *fn, const char *param, const char *body,
                         char *detail, size_t dlen)
{
    struct http_request http = {
        .method = "POST", .path = "/demo", .body = body, .body_len = strlen(body), .peer = "demo"};
    struct api_call call = {.http = &http, .role = ROLE_ADMIN, .query = "", .now = clock_now_ms()};
    struct api_reply reply = {.status = 200};
    snprintf(call.subject, sizeof(call.subject), "demo");
    call.params[0] = param;
    fn(api, &call, &reply);
    snprintf(detail, dlen, "%s", reply.detail);
    cJSON_Delete(reply.body);
    cJSON_Delete(reply.extra);
    free(reply.raw);
    return reply.status;
}

static uint64_t next_rand(struct demo *d)
{
    d->rng ^= d->rng << 13;
    d->rng ^= d->rng >> 7;
    d->rng ^= d->rng << 17;
    return d->rng;
}

/* Pushes every demo feed; after the first round free cards drift by up to 3% of total. */
static void push_feeds(struct demo *d)
{
    const cJSON *feeds = cJSON_GetObjectItemCaseSensitive(d->doc, "feeds");
    const cJSON *f;
    char detail[512];
    cJSON_ArrayForEach(f, feeds)
    {
        cJSON *copy = cJSON_Duplicate(f, true);
        if (!copy)
            return;
        const cJSON *pool;
        cJSON_ArrayForEach(pool, cJSON_GetObjectItemCaseSensitive(copy, "pools"))
        {
            cJSON *free_ = cJSON_GetObjectItemCaseSensitive(pool, "free");
            cJSON *total = cJSON_GetObjectItemCaseSensitive(pool, "total");
            cJSON *block = cJSON_GetObjectItemCaseSensitive(pool, "largest_block");
            if (d->round == 0 || !cJSON_IsNumber(free_) || !cJSON_IsNumber(total))
                continue;
            long t = (long)total->valuedouble, fr = (long)free_->valuedouble;
            long span = t / 33 + 1;
            long delta = (long)(next_rand(d) % (uint64_t)(2 * span + 1)) - span;
            fr += delta;
            fr = fr < 0 ? 0 : (fr > t ? t : fr);
            cJSON_SetNumberValue(free_, (double)fr);
            if (cJSON_IsNumber(block) && block->valuedouble > fr)
                cJSON_SetNumberValue(block, (double)fr);
        }
        char *body = cJSON_PrintUnformatted(copy);
        cJSON_Delete(copy);
        if (!body)
            return;
        int st = call_as_admin(d->api, api_center_feed, f->string, body, detail, sizeof(detail));
        if (st != 200)
            log_warn("demo: feed for %s answered %d: %s", f->string, st, detail);
        free(body);
    }
    d->round++;
}

static void on_refresh(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    struct demo *d = (struct demo *)((char *)w - offsetof(struct demo, refresh));
    push_feeds(d);
}

int demo_start(struct api *api, struct ev_loop *loop, struct demo **ret)
{
    const struct embedded_file *f = embedded_find("demo.json");
    char detail[512];
    if (!f)
        return -ENOENT;
    struct demo *d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->api = api;
    d->rng = 0x9e3779b97f4a7c15ull;
    d->doc = cJSON_ParseWithLength(f->data, f->len);
    if (!d->doc) {
        free(d);
        return -EINVAL;
    }
    int created = 0;
    cJSON *c;
    const char *pull = api->cfg->demo_feeds;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(d->doc, "centers"))
    {
        if (pull[0]) {
            /* Pull each demo center's feed from tools/feedserver instead of pushing it. */
            char url[400];
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(c, "id");
            snprintf(url, sizeof(url), "%s/native/%s", pull, cJSON_GetStringValue(id));
            cJSON *feeds = cJSON_CreateArray(), *f = cJSON_CreateObject();
            cJSON_AddStringToObject(f, "adapter", "native");
            cJSON_AddStringToObject(f, "url", url);
            cJSON_AddNumberToObject(f, "interval_s", 15);
            cJSON_AddBoolToObject(f, "h2c", true);
            cJSON_AddItemToArray(feeds, f);
            cJSON_ReplaceItemInObjectCaseSensitive(c, "feeds", feeds);
        }
        char *body = cJSON_PrintUnformatted(c);
        if (!body)
            continue;
        int st = call_as_admin(api, api_centers_create, NULL, body, detail, sizeof(detail));
        free(body);
        if (st == 201)
            created++;
        else if (st != 409)
            log_warn("demo: center answered %d: %s", st, detail);
    }
    if (pull[0]) {
        if (api->feeds)
            feeds_sync(api->feeds);
        log_info("demo: %d centers registered, pulling their feeds from %s", created, pull);
    } else {
        push_feeds(d);
        log_info("demo: %d centers registered, feeds pushed; capacity drifts every %.0f s", created,
                 DEMO_REFRESH_S);
        ev_timer_init(&d->refresh, on_refresh, DEMO_REFRESH_S, DEMO_REFRESH_S);
        ev_timer_start(loop, &d->refresh);
    }
    *ret = d;
    return 0;
}

void demo_free(struct demo *d)
{
    if (!d)
        return;
    cJSON_Delete(d->doc);
    free(d);
}
