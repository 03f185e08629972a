/*
 * fetch-probe — drives broker/fetch.c against real servers for tests/integration/test-fetch.sh.
 *
 * Fetches every URL on the command line (each --count times, all at once) on one libev loop
 * and prints one line per result. It also checks fetch's promises as it goes: done is never
 * called from inside fetch_start, never twice, never after fetch_cancel, and fetch_active()
 * comes back to 0. Exit 0 when every promise held (whatever the fetches' outcomes), 1 on a
 * usage error, 3 when a promise was broken.
 */
#include "fetch.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#define PROBE_MAX_HEADERS 32

struct probe;

struct probe_req {
    struct probe *p;       /* borrowed */
    struct fetch_job *job; /* borrowed; NULL once finished or cancelled */
    int id;
    bool started, finished, cancelled;
};

struct probe {
    struct ev_loop *loop;
    struct fetch *f;
    struct probe_req *reqs; /* owned */
    int nreqs;
    int pending; /* started, neither finished nor cancelled */
    bool in_start;
    bool cancel_others; /* the first result cancels every other request */
    bool cancel_first;  /* request 0 is cancelled as soon as every request has started */
    bool sequential;    /* each request starts from the previous one's callback */
    const struct fetch_options *o;
    const char *const *urls;
    size_t count; /* requests per URL */
    bool show_body;
    int broken; /* promises fetch broke */
    ev_timer cancel_timer;
};

static const struct {
    int err;
    const char *name;
} probe_errnames[] = {
    {0, "0"},
    {-ETIMEDOUT, "ETIMEDOUT"},
    {-ECONNREFUSED, "ECONNREFUSED"},
    {-EHOSTUNREACH, "EHOSTUNREACH"},
    {-EFBIG, "EFBIG"},
    {-EPROTO, "EPROTO"},
    {-ENOENT, "ENOENT"},
    {-ENOMEM, "ENOMEM"},
    {-EIO, "EIO"},
    {-EINVAL, "EINVAL"},
    {-ENOTSUP, "ENOTSUP"},
    {-ELIBACC, "ELIBACC"},
};

static const char *probe_errname(int err)
{
    size_t i;

    for (i = 0; i < sizeof(probe_errnames) / sizeof(probe_errnames[0]); i++)
        if (probe_errnames[i].err == err)
            return probe_errnames[i].name;
    return "E?";
}

/* FNV-1a, 32 bits: enough to tell bodies apart in a test. */
static uint32_t probe_hash(const char *data, size_t len)
{
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char)data[i];
        h *= 16777619u;
    }
    return h;
}

/* Prints s with control bytes and brackets escaped, at most max bytes of it. */
static void probe_print_escaped(const char *s, size_t len, size_t max)
{
    size_t i;

    for (i = 0; i < len && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f || c == '[' || c == ']' || c == '\\')
            printf("\\x%02x", c);
        else
            putchar(c);
    }
}

static void probe_print(const struct probe *p, int id, const struct fetch_result *res)
{
    printf("id=%d status=%s err=%d errno_name=%s http=%ld len=%zu etag=[", id,
           res->err == 0 ? "ok" : "error", res->err, probe_errname(res->err), res->status,
           res->len);
    probe_print_escaped(res->etag, strlen(res->etag), sizeof(res->etag));
    printf("] lm=[");
    probe_print_escaped(res->last_modified, strlen(res->last_modified), sizeof(res->last_modified));
    printf("] not_modified=%d sha=%08x v=%d t=%.3f msg=[", res->not_modified ? 1 : 0,
           (unsigned)probe_hash(res->body, res->len), res->http_version, res->seconds);
    probe_print_escaped(res->errmsg, strlen(res->errmsg), sizeof(res->errmsg));
    printf("]");
    if (p->show_body) {
        printf(" body=[");
        probe_print_escaped(res->body, res->len, 400);
        printf("]");
    }
    printf("\n");
    fflush(stdout);
}

static void probe_cancel_all(struct probe *p)
{
    int i, n = 0;

    for (i = 0; i < p->nreqs; i++) {
        struct probe_req *r = &p->reqs[i];
        if (!r->started || r->finished || r->cancelled)
            continue;
        fetch_cancel(r->job);
        fetch_cancel(r->job); /* twice is harmless */
        r->cancelled = true;
        r->job = NULL;
        p->pending--;
        n++;
    }
    printf("cancelled=%d active=%u\n", n, fetch_active(p->f));
    fflush(stdout);
}

static fetch_done_fn probe_on_done;

/* Starts request id; one refused at once owes no callback and is printed here. */
static void probe_start(struct probe *p, int id)
{
    struct probe_req *r = &p->reqs[id];
    struct fetch_options o = *p->o;
    struct fetch_result res;
    int rv;

    r->p = p;
    r->id = id;
    o.url = p->urls[(size_t)id / p->count];
    p->in_start = true;
    rv = fetch_start(p->f, &o, probe_on_done, r, &r->job);
    p->in_start = false;
    if (rv == 0) {
        r->started = true;
        p->pending++;
        return;
    }
    memset(&res, 0, sizeof(res));
    res.err = rv;
    res.body = "";
    snprintf(res.errmsg, sizeof(res.errmsg), "fetch_start refused the request");
    probe_print(p, id, &res);
}

/* Sequential mode: starts the next request that fetch accepts, if any is left. */
static void probe_start_next(struct probe *p, int after)
{
    int id;

    for (id = after + 1; id < p->nreqs && p->pending == 0; id++)
        probe_start(p, id);
}

static void probe_on_done(void *userdata, const struct fetch_result *res)
{
    struct probe_req *r = userdata;
    struct probe *p = r->p;

    if (p->in_start) {
        printf("BUG: done called from inside fetch_start (id=%d)\n", r->id);
        p->broken++;
    }
    if (r->finished || r->cancelled) {
        printf("BUG: done called for a %s request (id=%d)\n",
               r->finished ? "finished" : "cancelled", r->id);
        p->broken++;
        return;
    }
    if (res->body == NULL || res->body[res->len] != '\0') {
        printf("BUG: body not NUL-terminated (id=%d)\n", r->id);
        p->broken++;
    }
    fetch_cancel(r->job); /* a no-op on a job inside its own callback */
    r->finished = true;
    r->job = NULL;
    p->pending--;
    probe_print(p, r->id, res);
    if (p->cancel_others)
        probe_cancel_all(p);
    if (p->sequential)
        probe_start_next(p, r->id); /* fetch_start from inside done */
    if (p->pending == 0)
        ev_break(p->loop, EVBREAK_ALL);
}

static void probe_on_cancel_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct probe *p = w->data;

    (void)revents;
    probe_cancel_all(p);
    ev_break(loop, EVBREAK_ALL);
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--max-bytes N] [--timeout S] [--connect-timeout S] [--etag E]\n"
            "          [--last-modified L] [--h2c] [--header 'N: v']... [--count K]\n"
            "          [--cancel-after-ms M] [--cancel-others] [--cancel-first] [--sequential]\n"
            "          [--show-body]\n"
            "          URL...\n",
            argv0);
}

static bool parse_size(const char *s, size_t *ret)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > SIZE_MAX)
        return false;
    *ret = (size_t)v;
    return true;
}

static bool parse_double(const char *s, double *ret)
{
    char *end;

    errno = 0;
    *ret = strtod(s, &end);
    return errno == 0 && end != s && *end == '\0';
}

int main(int argc, char **argv)
{
    struct fetch_options o;
    struct probe p;
    const char *headers[PROBE_MAX_HEADERS + 1];
    const char *urls[64];
    size_t nheaders = 0, nurls = 0, count = 1, cancel_ms = 0;
    int i, rv, id;

    memset(&o, 0, sizeof(o));
    memset(&p, 0, sizeof(p));
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true;

        if (strcmp(a, "--h2c") == 0) {
            o.h2_prior_knowledge = true;
            continue;
        }
        if (strcmp(a, "--cancel-others") == 0) {
            p.cancel_others = true;
            continue;
        }
        if (strcmp(a, "--cancel-first") == 0) {
            p.cancel_first = true;
            continue;
        }
        if (strcmp(a, "--sequential") == 0) {
            p.sequential = true;
            continue;
        }
        if (strcmp(a, "--show-body") == 0) {
            p.show_body = true;
            continue;
        }
        if (strncmp(a, "--", 2) != 0) {
            if (nurls == sizeof(urls) / sizeof(urls[0])) {
                usage(argv[0]);
                return 1;
            }
            urls[nurls++] = a;
            continue;
        }
        if (v == NULL) {
            usage(argv[0]);
            return 1;
        }
        i++;
        if (strcmp(a, "--max-bytes") == 0)
            ok = parse_size(v, &o.max_bytes);
        else if (strcmp(a, "--timeout") == 0)
            ok = parse_double(v, &o.total_timeout_s);
        else if (strcmp(a, "--connect-timeout") == 0)
            ok = parse_double(v, &o.connect_timeout_s);
        else if (strcmp(a, "--etag") == 0)
            o.etag = v;
        else if (strcmp(a, "--last-modified") == 0)
            o.last_modified = v;
        else if (strcmp(a, "--header") == 0 && nheaders < PROBE_MAX_HEADERS)
            headers[nheaders++] = v;
        else if (strcmp(a, "--count") == 0)
            ok = parse_size(v, &count) && count >= 1 && count <= 1000;
        else if (strcmp(a, "--cancel-after-ms") == 0)
            ok = parse_size(v, &cancel_ms) && cancel_ms <= 600000;
        else
            ok = false;
        if (!ok) {
            usage(argv[0]);
            return 1;
        }
    }
    if (nurls == 0) {
        usage(argv[0]);
        return 1;
    }
    headers[nheaders] = NULL;
    o.headers = nheaders > 0 ? headers : NULL;

    p.loop = ev_loop_new(EVFLAG_AUTO);
    if (p.loop == NULL) {
        fprintf(stderr, "fetch-probe: no event loop\n");
        return 1;
    }
    rv = fetch_new(p.loop, &p.f);
    if (rv != 0) {
        fprintf(stderr, "fetch-probe: fetch_new: %s\n", strerror(-rv));
        ev_loop_destroy(p.loop);
        return 1;
    }
    p.nreqs = (int)(nurls * count);
    p.reqs = calloc((size_t)p.nreqs, sizeof(*p.reqs));
    if (p.reqs == NULL) {
        fprintf(stderr, "fetch-probe: out of memory\n");
        fetch_free(p.f);
        ev_loop_destroy(p.loop);
        return 1;
    }
    p.o = &o;
    p.urls = urls;
    p.count = count;
    if (p.sequential)
        probe_start_next(&p, -1);
    else
        for (id = 0; id < p.nreqs; id++)
            probe_start(&p, id);
    if (p.cancel_first && p.reqs[0].started && !p.reqs[0].finished) {
        /* Before the loop runs: its request has not left (the connection is not even up). */
        fetch_cancel(p.reqs[0].job);
        p.reqs[0].cancelled = true;
        p.reqs[0].job = NULL;
        p.pending--;
        printf("cancelled=1 active=%u\n", fetch_active(p.f));
        fflush(stdout);
    }

    if (cancel_ms > 0) {
        ev_timer_init(&p.cancel_timer, probe_on_cancel_timer, (double)cancel_ms / 1000., 0.);
        p.cancel_timer.data = &p;
        ev_timer_start(p.loop, &p.cancel_timer);
    }
    if (p.pending > 0)
        ev_run(p.loop, 0);
    ev_timer_stop(p.loop, &p.cancel_timer);
    /* One more turn lets fetch's reaper free what was cancelled; fetch_free copes either way. */
    ev_run(p.loop, EVRUN_NOWAIT);

    if (p.pending != 0) {
        printf("BUG: %d requests neither finished nor cancelled\n", p.pending);
        p.broken++;
    }
    if (fetch_active(p.f) != 0) {
        printf("BUG: fetch_active() is %u at the end\n", fetch_active(p.f));
        p.broken++;
    }
    fetch_free(p.f);
    ev_loop_destroy(p.loop);
    free(p.reqs);
    return p.broken == 0 ? 0 : 3;
}
