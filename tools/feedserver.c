/*
 * feedserver — a demo feed server: serves native feeds (and slurmrestd-shaped
 * node lists) for many simulated centers over HTTP/2 (cleartext, prior
 * knowledge; the broker's own h2 transport), with free capacity that drifts
 * over time. brokerd --demo can pull the demo centers from it, and the
 * ingestion benchmark registers thousands of its centers.
 *
 *   GET /centers           the simulated centers: {"centers":[{"id","region","native","slurm"}]}
 *   GET /native/<id>       a native feed document for center <id> ("sim-00042" or a demo id)
 *   GET /slurm/<id>/nodes  the same capacity as a slurmrestd v0.0.40 node list
 *   GET /stats             {"served": feed documents served so far} (for benchmarks)
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <ev.h>

#include "clock.h"
#include "embedded.h"
#include "h2.h"
#include "net.h"

struct sim_pool {
    const char *model;
    long total;
    long base_free;
    double price;
    double phase;
};

struct sim_center {
    char id[65];
    char region[65];
    struct sim_pool pools[8];
    int npools;
};

struct server {
    struct sim_center *centers; /* owned */
    size_t ncenters;
    double period_s;      /* one drift cycle */
    struct h2_server *h2; /* owned */
    struct ev_loop *loop; /* borrowed */
    unsigned long served; /* feed documents served, printed at exit */
};

static const struct {
    const char *model;
    double price;
} models[] = {{"H800", 28.0},     {"A800", 12.0}, {"Ascend910B", 9.5},
              {"H20", 7.5},       {"L40S", 5.0},  {"RTX4090", 2.4},
              {"MLU370-X8", 4.0}, {"A100", 11.0}, {"H100", 30.0}};

static const char *const regions[] = {"cn-shanghai", "cn-beijing",  "cn-guiyang", "cn-ulanqab",
                                      "cn-qingyang", "cn-zhongwei", "cn-wuhu",    "cn-shaoguan",
                                      "cn-chengdu",  "cn-hangzhou", "cn-changsha"};

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Free cards now: the base level plus a slow sine of up to a quarter of the pool. */
static long free_now(const struct server *srv, const struct sim_pool *p)
{
    double t = (double)clock_now_ms() / 1000.0;
    double wave = sin(2 * M_PI * t / srv->period_s + p->phase);
    long f = p->base_free + (long)floor(wave * (double)p->total / 4);
    return f < 0 ? 0 : (f > p->total ? p->total : f);
}

static void simulate(struct server *srv, size_t n, int pools, uint64_t seed)
{
    uint64_t s = seed | 1;
    for (size_t i = 0; i < n; i++) {
        struct sim_center *c = &srv->centers[i];
        snprintf(c->id, sizeof(c->id), "sim-%05zu", i);
        snprintf(c->region, sizeof(c->region), "%s",
                 regions[rnd(&s) % (sizeof(regions) / sizeof(regions[0]))]);
        c->npools = pools;
        size_t first = rnd(&s) % (sizeof(models) / sizeof(models[0]));
        for (int k = 0; k < pools; k++) {
            struct sim_pool *p = &c->pools[k];
            size_t m = (first + (size_t)k) % (sizeof(models) / sizeof(models[0]));
            p->model = models[m].model;
            p->total = 64 * (long)(1 + rnd(&s) % 32);
            p->base_free = p->total / 4 + (long)(rnd(&s) % (uint64_t)(p->total / 2));
            p->price = models[m].price * (0.8 + (double)(rnd(&s) % 40) / 100.0);
            p->phase = (double)(rnd(&s) % 628) / 100.0;
        }
    }
    srv->ncenters = n;
}

/* Adds the demo centers of schema/demo.json (their pools drift too). */
static int add_demo(struct server *srv)
{
    const struct embedded_file *f = embedded_find("demo.json");
    cJSON *doc = f ? cJSON_ParseWithLength(f->data, f->len) : NULL;
    if (!doc)
        return -EINVAL;
    const cJSON *feeds = cJSON_GetObjectItemCaseSensitive(doc, "feeds"), *fd;
    size_t n = (size_t)cJSON_GetArraySize(feeds), k = 0;
    struct sim_center *more = realloc(srv->centers, (srv->ncenters + n) * sizeof(*more));
    if (!more) {
        cJSON_Delete(doc);
        return -ENOMEM;
    }
    srv->centers = more;
    cJSON_ArrayForEach(fd, feeds)
    {
        struct sim_center *c = &srv->centers[srv->ncenters + k++];
        memset(c, 0, sizeof(*c));
        snprintf(c->id, sizeof(c->id), "%s", fd->string);
        const cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(fd, "pools"))
        {
            if (c->npools == 8)
                break;
            struct sim_pool *sp = &c->pools[c->npools++];
            const cJSON *model = cJSON_GetObjectItemCaseSensitive(p, "model");
            /* The model names point into the static table where they match; else keep demo's. */
            sp->model = "unknown";
            for (size_t m = 0; model && m < sizeof(models) / sizeof(models[0]); m++) {
                if (cJSON_IsString(model) && strcmp(models[m].model, model->valuestring) == 0)
                    sp->model = models[m].model;
            }
            if (strcmp(sp->model, "unknown") == 0 && cJSON_IsString(model))
                sp->model = strdup(model->valuestring); /* lives as long as the process */
            sp->total = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(p, "total"));
            sp->base_free = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(p, "free"));
            sp->price =
                cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(p, "price_per_card_hour"));
            sp->phase = (double)k;
        }
    }
    srv->ncenters += n;
    cJSON_Delete(doc);
    return 0;
}

static const struct sim_center *find(const struct server *srv, const char *id, size_t len)
{
    /* Simulated ids carry their index: "sim-00042" is centers[42]. */
    if (len == 9 && strncmp(id, "sim-", 4) == 0) {
        char *end = NULL;
        unsigned long i = strtoul(id + 4, &end, 10);
        if (end == id + len && i < srv->ncenters && strncmp(srv->centers[i].id, id, len) == 0)
            return &srv->centers[i];
    }
    for (size_t i = 0; i < srv->ncenters; i++) {
        if (strlen(srv->centers[i].id) == len && strncmp(srv->centers[i].id, id, len) == 0)
            return &srv->centers[i];
    }
    return NULL;
}

static cJSON *native_doc(const struct server *srv, const struct sim_center *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "center", c->id);
    cJSON *pools = cJSON_AddArrayToObject(o, "pools");
    for (int k = 0; k < c->npools; k++) {
        const struct sim_pool *p = &c->pools[k];
        long fr = free_now(srv, p);
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "model", p->model);
        cJSON_AddNumberToObject(x, "total", (double)p->total);
        cJSON_AddNumberToObject(x, "free", (double)fr);
        cJSON_AddNumberToObject(x, "largest_block", (double)(fr < 8 ? fr : 8));
        cJSON_AddNumberToObject(x, "price_per_card_hour", round(p->price * 100) / 100);
        cJSON_AddStringToObject(x, "currency", "CNY");
        cJSON_AddItemToArray(pools, x);
    }
    return o;
}

/* The same capacity as slurmrestd v0.0.40 nodes: 8 cards per node, typed GRES. */
static cJSON *slurm_doc(const struct server *srv, const struct sim_center *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *nodes = cJSON_AddArrayToObject(o, "nodes");
    for (int k = 0; k < c->npools; k++) {
        const struct sim_pool *p = &c->pools[k];
        long left_free = free_now(srv, p);
        for (long n = 0; n * 8 < p->total && n < 512; n++) {
            char name[96], gres[128], used[128];
            long f = left_free > 8 ? 8 : left_free;
            left_free -= f;
            snprintf(name, sizeof(name), "%s-%s-%03ld", c->id, p->model, n);
            snprintf(gres, sizeof(gres), "gpu:%s:8(S:0-1)", p->model);
            snprintf(used, sizeof(used), "gpu:%s:%ld(IDX:N/A)", p->model, 8 - f);
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "name", name);
            cJSON *st = cJSON_AddArrayToObject(x, "state");
            cJSON_AddItemToArray(st, cJSON_CreateString(f == 8 ? "IDLE" : "MIXED"));
            cJSON_AddStringToObject(x, "gres", gres);
            cJSON_AddStringToObject(x, "gres_used", used);
            cJSON_AddItemToArray(nodes, x);
        }
    }
    cJSON *errs = cJSON_AddArrayToObject(o, "errors");
    (void)errs;
    return o;
}

static void reply(struct http_response *resp, int status, cJSON *doc)
{
    resp->status = status;
    resp->content_type = "application/json";
    resp->body = doc ? cJSON_PrintUnformatted(doc) : NULL;
    resp->body_len = resp->body ? strlen(resp->body) : 0;
    cJSON_Delete(doc);
}

static void handle(void *userdata, const struct http_request *req, struct http_response *resp)
{
    struct server *srv = userdata;
    const char *path = req->path;
    if (strcmp(req->method, "GET") != 0) {
        reply(resp, 405, NULL);
        return;
    }
    if (strcmp(path, "/centers") == 0) {
        cJSON *o = cJSON_CreateObject();
        cJSON *arr = cJSON_AddArrayToObject(o, "centers");
        for (size_t i = 0; i < srv->ncenters; i++) {
            char url[128];
            cJSON *c = cJSON_CreateObject();
            cJSON_AddStringToObject(c, "id", srv->centers[i].id);
            cJSON_AddStringToObject(c, "region", srv->centers[i].region);
            snprintf(url, sizeof(url), "/native/%s", srv->centers[i].id);
            cJSON_AddStringToObject(c, "native", url);
            snprintf(url, sizeof(url), "/slurm/%s/nodes", srv->centers[i].id);
            cJSON_AddStringToObject(c, "slurm", url);
            cJSON_AddItemToArray(arr, c);
        }
        reply(resp, 200, o);
        return;
    }
    if (strcmp(path, "/stats") == 0) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "served", (double)srv->served);
        reply(resp, 200, o);
        return;
    }
    if (strncmp(path, "/native/", 8) == 0) {
        const struct sim_center *c = find(srv, path + 8, strlen(path + 8));
        srv->served += c != NULL;
        reply(resp, c ? 200 : 404, c ? native_doc(srv, c) : NULL);
        return;
    }
    if (strncmp(path, "/slurm/", 7) == 0) {
        const char *end = strstr(path + 7, "/nodes");
        const struct sim_center *c = end && strcmp(end, "/nodes") == 0
                                         ? find(srv, path + 7, (size_t)(end - path - 7))
                                         : NULL;
        reply(resp, c ? 200 : 404, c ? slurm_doc(srv, c) : NULL);
        return;
    }
    reply(resp, 404, NULL);
}

static void on_drained(void *userdata)
{
    ev_break((struct ev_loop *)userdata, EVBREAK_ALL);
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)revents;
    struct server *srv = w->data;
    ev_signal_stop(loop, w);
    h2_server_shutdown(srv->h2, on_drained, loop);
}

static void usage(void)
{
    fprintf(stderr, "usage: feedserver [--listen HOST:PORT] [--port-file FILE] [--centers N]\n"
                    "                  [--pools K] [--seed S] [--period-s P] [--no-demo]\n"
                    "                  [--tls-cert FILE --tls-key FILE]   (h2 over TLS, ALPN)\n");
}

int main(int argc, char **argv)
{
    const char *listen = "127.0.0.1:0", *port_file = NULL, *cert = NULL, *key = NULL;
    long ncenters = 100, pools = 4;
    uint64_t seed = 42;
    bool demo = true;
    struct server srv = {.period_s = 600};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--no-demo") == 0) {
            demo = false;
            continue;
        }
        if (!v) {
            usage();
            return 2;
        }
        i++;
        if (strcmp(a, "--listen") == 0)
            listen = v;
        else if (strcmp(a, "--port-file") == 0)
            port_file = v;
        else if (strcmp(a, "--tls-cert") == 0)
            cert = v;
        else if (strcmp(a, "--tls-key") == 0)
            key = v;
        else if (strcmp(a, "--centers") == 0)
            ncenters = strtol(v, NULL, 10);
        else if (strcmp(a, "--pools") == 0)
            pools = strtol(v, NULL, 10);
        else if (strcmp(a, "--seed") == 0)
            seed = strtoull(v, NULL, 10);
        else if (strcmp(a, "--period-s") == 0)
            srv.period_s = strtod(v, NULL);
        else {
            usage();
            return 2;
        }
    }
    if (ncenters < 0 || ncenters > 100000 || pools < 1 || pools > 8 || !(srv.period_s > 0) ||
        !cert != !key) {
        usage();
        return 2;
    }
    char host[64], err[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || (size_t)(colon - listen) >= sizeof(host)) {
        usage();
        return 2;
    }
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    srv.centers = calloc((size_t)ncenters + 1, sizeof(*srv.centers));
    if (!srv.centers)
        return 1;
    simulate(&srv, (size_t)ncenters, (int)pools, seed);
    if (demo && add_demo(&srv) < 0) {
        fprintf(stderr, "feedserver: cannot load the demo centers\n");
        return 1;
    }
    int port = 0;
    int fd = net_listen(host, atoi(colon + 1), &port, err, sizeof(err));
    if (fd < 0) {
        fprintf(stderr, "feedserver: %s\n", err);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    srv.loop = ev_default_loop(EVFLAG_AUTO);
    struct h2_limits limits = {
        .max_streams = 1000, .max_connections = 20000, .idle_timeout_s = 120};
    struct h2_tls tls = {.cert_file = cert, .key_file = key};
    if (h2_server_new_tls(srv.loop, fd, &limits, cert ? &tls : NULL, handle, &srv, &srv.h2, err,
                          sizeof(err)) < 0) {
        fprintf(stderr, "feedserver: cannot start the HTTP/2 server: %s\n", err);
        return 1;
    }
    if (port_file && net_write_port_file(port_file, port) < 0) {
        fprintf(stderr, "feedserver: cannot write %s\n", port_file);
        return 1;
    }
    fprintf(stderr, "feedserver: %zu centers on %s:%d (%s)\n", srv.ncenters, host, port,
            cert ? "h2 over TLS" : "h2c");
    ev_signal sigterm, sigint;
    ev_signal_init(&sigterm, on_signal, SIGTERM);
    ev_signal_init(&sigint, on_signal, SIGINT);
    sigterm.data = sigint.data = &srv;
    ev_signal_start(srv.loop, &sigterm);
    ev_signal_start(srv.loop, &sigint);
    ev_run(srv.loop, 0);
    h2_server_free(srv.h2);
    free(srv.centers);
    fprintf(stderr, "feedserver: served %lu feed documents\n", srv.served);
    return 0;
}
