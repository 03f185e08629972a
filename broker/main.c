/*
 * brokerd — the suanwang broker daemon: one libev loop serving the HTTP/2 API
 * over a SQLite inventory. main wires config, store, inventory, API, h2
 * server, the hold-expiry sweep, the demo and signals; it holds no logic of
 * its own.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "api.h"
#include "auth.h"
#include "clock.h"
#include "config.h"
#include "demo.h"
#include "feeds.h"
#include "fetch.h"
#include "h2.h"
#include "inventory.h"
#include "log.h"
#include "metrics.h"
#include "net.h"
#include "store.h"

#define EXPIRY_SWEEP_S 1.0

struct daemon {
    struct ev_loop *loop;     /* borrowed (default loop) */
    struct h2_server *server; /* owned */
    struct store *st;         /* owned */
    ev_signal sigterm;
    ev_signal sigint;
    ev_timer sweep;
    bool stopping;
};

static void on_drained(void *userdata)
{
    struct daemon *d = userdata;
    ev_break(d->loop, EVBREAK_ALL);
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)revents;
    struct daemon *d = w->data;
    if (d->stopping)
        return;
    d->stopping = true;
    log_info("signal %d: draining connections", w->signum);
    ev_timer_stop(loop, &d->sweep);
    h2_server_shutdown(d->server, on_drained, d);
}

static void on_sweep(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    struct daemon *d = w->data;
    int n = store_expire_holds(d->st, clock_now_ms());
    if (n > 0)
        log_info("expired %d holds", n);
    else if (n < 0)
        log_warn("hold expiry sweep failed: %s", store_errmsg(d->st));
}

int main(int argc, char **argv)
{
    struct config cfg;
    struct daemon d = {0};
    struct inventory inv;
    struct api api = {0};
    struct demo *demo = NULL;
    struct fetch *fetcher = NULL;
    char err[512];
    int port = 0, rc = 1;

    signal(SIGPIPE, SIG_IGN);
    int r = config_load(argc, argv, &cfg, err, sizeof(err));
    if (r == 1)
        return 0;
    if (r < 0) {
        fprintf(stderr, "brokerd: %s\n", err);
        return 2;
    }
    r = store_open(cfg.db_path, &d.st, err, sizeof(err));
    if (r < 0) {
        log_error("%s", err);
        return 1;
    }
    inventory_init(&inv, d.st, &cfg);
    r = inventory_refresh(&inv);
    if (r < 0) {
        log_error("cannot load the inventory: %s (%s)", strerror(-r), store_errmsg(d.st));
        goto out;
    }
    api.st = d.st;
    api.inv = &inv;
    api.cfg = &cfg;
    r = metrics_new(&api.metrics);
    if (r < 0) {
        log_error("cannot allocate the metrics: %s", strerror(-r));
        goto out;
    }
    if (cfg.admin_token[0])
        auth_sha256_hex(cfg.admin_token, strlen(cfg.admin_token), api.admin_hash);
    memset(cfg.admin_token, 0, sizeof(cfg.admin_token));

    d.loop = ev_default_loop(EVFLAG_AUTO);
    int fd = net_listen(cfg.listen_host, cfg.listen_port, &port, err, sizeof(err));
    if (fd < 0) {
        log_error("%s", err);
        goto out;
    }
    struct h2_limits limits = cfg.limits;
    /* Feed pushes may be larger than other bodies; the API enforces each route's limit. */
    if (limits.max_body < (1u << 20))
        limits.max_body = 1u << 20;
    struct h2_tls tls = {.cert_file = cfg.tls_cert, .key_file = cfg.tls_key};
    r = h2_server_new_tls(d.loop, fd, &limits, cfg.tls_cert[0] ? &tls : NULL, api_handle, &api,
                          &d.server, err, sizeof(err));
    if (r < 0) {
        log_error("cannot start the HTTP/2 server: %s", err[0] ? err : strerror(-r));
        close(fd);
        goto out;
    }
    h2_server_set_log(d.server, api_log_transport, &api);
    h2_server_set_batch(d.server, api_batch_begin, api_batch_end, &api);
    if ((r = fetch_new(d.loop, &fetcher)) < 0 ||
        (r = feeds_new(d.loop, d.st, &inv, &cfg, fetcher,
                       &(struct feeds_limits){.first_delay_s = cfg.feed_first_poll_spread_s},
                       &api.feeds)) < 0) {
        log_error("cannot start the feed scheduler: %s", strerror(-r));
        goto out;
    }
    if (cfg.demo && (r = demo_start(&api, d.loop, &demo)) < 0) {
        log_error("cannot load the demo: %s", strerror(-r));
        goto out;
    }
    ev_signal_init(&d.sigterm, on_signal, SIGTERM);
    ev_signal_init(&d.sigint, on_signal, SIGINT);
    d.sigterm.data = d.sigint.data = &d;
    ev_signal_start(d.loop, &d.sigterm);
    ev_signal_start(d.loop, &d.sigint);
    ev_timer_init(&d.sweep, on_sweep, EXPIRY_SWEEP_S, EXPIRY_SWEEP_S);
    d.sweep.data = &d;
    ev_timer_start(d.loop, &d.sweep);
    if (cfg.port_file[0] && net_write_port_file(cfg.port_file, port) < 0) {
        log_error("cannot write the port file %s", cfg.port_file);
        goto out;
    }
    log_info("brokerd listening on %s:%d (%s), database %s%s%s", cfg.listen_host, port,
             cfg.tls_cert[0] ? "h2 over TLS" : "h2c", cfg.db_path,
             cfg.demo ? ", demo centers loaded" : "",
             api.admin_hash[0] ? ", bootstrap admin token set" : "");
    ev_run(d.loop, 0);
    log_info("brokerd stopped");
    rc = 0;
out:
    demo_free(demo);
    h2_server_free(d.server);
    feeds_free(api.feeds);
    fetch_free(fetcher);
    inventory_free(&inv);
    metrics_free(api.metrics);
    store_close(d.st);
    return rc;
}
