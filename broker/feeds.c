/*
 * feeds — pull-feed jobs on the libev loop. Each job owns its timer and at
 * most one transfer; a poll is fetch (one or more pages, or nodes then pods
 * for Kubernetes) -> adapter parse -> inventory apply in one transaction ->
 * feed health. Errors back off exponentially up to a ceiling and never touch
 * another feed's data. Secrets go only into request headers.
 */
#include "feeds.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ev.h>

#include "adapter.h"
#include "clock.h"
#include "config.h"
#include "fetch.h"
#include "inventory.h"
#include "log.h"
#include "store.h"

#define FEED_MAX_HEADERS 4
#define DEFAULT_MAX_PAGES 20
#define MAX_PAGES_CEILING 200

struct feed_job {
    struct feed_job *next;      /* list of the scheduler's jobs */
    struct feed_job *hnext;     /* next job in its center's hash bucket */
    struct feed_job *pend_next; /* next job waiting for the batch commit */
    struct feeds *fs;           /* borrowed */
    char center[65];
    int idx;
    char *key;                           /* owned: everything that defines the job, as text */
    const struct adapter *adapter;       /* borrowed (static) */
    char *url;                           /* owned */
    char *pods_url;                      /* owned; Kubernetes pod list, or NULL */
    cJSON *options;                      /* owned */
    char *headers[FEED_MAX_HEADERS + 1]; /* owned; NULL-terminated */
    bool h2c;
    long interval_s;
    long max_pages;
    ev_timer timer;             /* next poll or retry */
    struct fetch_job *inflight; /* borrowed from fetch; NULL when idle */
    unsigned failures;          /* consecutive, for the backoff */
    char etag[256];
    char last_modified[128];
    /* the poll in progress */
    struct feed_snapshot acc; /* owned; pools of the pages so far */
    unsigned page;
    char *nodes_doc; /* owned; Kubernetes nodes while pods are fetched */
    size_t nodes_len;
    bool seen;           /* marked by feeds_sync */
    int version;         /* index into api_versions for a "{version}" URL */
    int pending;         /* PENDING_*: a parsed poll waiting for the next batch commit */
    char *versioned_url; /* owned; url with "{version}" filled in */
    bool polled;         /* its first poll has ended (committed, or failed) */
    bool sole;           /* the feed is its center's only one (push feeds count) */
};

enum { PENDING_NONE, PENDING_APPLY, PENDING_TOUCH };

/* slurmrestd API versions, newest first, tried in turn for a URL holding "{version}". */
static const char *const api_versions[] = {"v0.0.44", "v0.0.43", "v0.0.42", "v0.0.41",
                                           "v0.0.40", "v0.0.39", "v0.0.38", NULL};

struct feeds {
    struct ev_loop *loop;     /* borrowed */
    struct store *st;         /* borrowed */
    struct inventory *inv;    /* borrowed */
    const struct config *cfg; /* borrowed */
    struct fetch *fetch;      /* borrowed */
    struct feeds_limits limits;
    struct feed_job *jobs;     /* owned list */
    struct feed_job **buckets; /* owned; the jobs by center, chained through hnext */
    size_t nbuckets;           /* a power of two, at least njobs; 0 before the first job */
    /* Commits the polls parsed in this loop pass, as one transaction, before the loop blocks
       again (a check watcher would wait for the next wakeup: up to a second when idle). */
    ev_prepare flush;
    bool flushing; /* inside on_flush, whose transaction already runs without a sync */
    struct feed_job *pend_head, **pend_tail; /* jobs waiting for the flush, in order */
    unsigned pending;                        /* their count */
    unsigned njobs;
    unsigned inflight;
    uint64_t rng;      /* jitter; not security relevant */
    bool ready;        /* every feed known until then has ended its first poll; stays true */
    unsigned unpolled; /* before ready: jobs whose first poll has not ended */
    unsigned first_failed;
    int64_t started_us; /* clock_mono_us when the scheduler started */
};

/*
 * After start, the first poll of every pull feed: once each has ended (its snapshot
 * committed, or its failure recorded), the inventory is as complete as the feeds allow
 * and one line says so. Feeds added after that do not count.
 */
static void check_ready(struct feeds *fs)
{
    if (fs->ready || fs->unpolled)
        return;
    fs->ready = true;
    if (fs->njobs)
        log_info("feeds: every pull feed has been polled once: %u feeds, %u failed, %.0f ms "
                 "after the scheduler started",
                 fs->njobs, fs->first_failed, (double)(clock_mono_us() - fs->started_us) / 1000.0);
}

static void first_poll_ended(struct feed_job *job, bool ok)
{
    struct feeds *fs = job->fs;
    if (job->polled)
        return;
    job->polled = true;
    if (fs->ready)
        return;
    fs->unpolled--;
    if (!ok)
        fs->first_failed++;
    check_ready(fs);
}

static double jitter(struct feeds *fs, double seconds)
{
    fs->rng ^= fs->rng << 13;
    fs->rng ^= fs->rng >> 7;
    fs->rng ^= fs->rng << 17;
    double u = (double)(fs->rng >> 11) / 9007199254740992.0; /* [0, 1) */
    double j = seconds * fs->limits.jitter * (2 * u - 1);
    return seconds + j > 0.05 ? seconds + j : 0.05;
}

/* FNV-1a of a center id: every job of a center is in the same bucket. */
static size_t center_bucket(const struct feeds *fs, const char *center)
{
    uint64_t h = 14695981039346656037ull;
    for (const unsigned char *p = (const unsigned char *)center; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return (size_t)h & (fs->nbuckets - 1);
}

/* The first job in the bucket of a center (its own jobs and maybe others: compare). */
static struct feed_job *center_jobs(const struct feeds *fs, const char *center)
{
    return fs->nbuckets ? fs->buckets[center_bucket(fs, center)] : NULL;
}

/* Makes room in the index for `want` jobs, rehashing the jobs listed so far. */
static int index_reserve(struct feeds *fs, size_t want)
{
    if (want <= fs->nbuckets)
        return 0;
    size_t n = fs->nbuckets ? fs->nbuckets : 64;
    while (n < want)
        n *= 2;
    struct feed_job **b = calloc(n, sizeof(*b));
    if (!b)
        return -ENOMEM;
    free(fs->buckets);
    fs->buckets = b;
    fs->nbuckets = n;
    for (struct feed_job *j = fs->jobs; j; j = j->next) {
        size_t i = center_bucket(fs, j->center);
        j->hnext = b[i];
        b[i] = j;
    }
    return 0;
}

static void index_remove(struct feeds *fs, struct feed_job *job)
{
    struct feed_job **pp = &fs->buckets[center_bucket(fs, job->center)];
    while (*pp && *pp != job)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = job->hnext;
    job->hnext = NULL;
}

static void schedule(struct feed_job *job, double seconds)
{
    ev_timer_stop(job->fs->loop, &job->timer);
    ev_timer_set(&job->timer, seconds, 0);
    ev_timer_start(job->fs->loop, &job->timer);
}

static void poll_reset(struct feed_job *job)
{
    feed_snapshot_free(&job->acc);
    job->page = 0;
    free(job->nodes_doc);
    job->nodes_doc = NULL;
    job->nodes_len = 0;
}

static void job_free(struct feed_job *job)
{
    if (!job)
        return;
    ev_timer_stop(job->fs->loop, &job->timer);
    if (job->inflight) {
        fetch_cancel(job->inflight);
        job->fs->inflight--;
    }
    if (job->pending) {
        struct feed_job **pp = &job->fs->pend_head;
        while (*pp != job)
            pp = &(*pp)->pend_next;
        *pp = job->pend_next;
        if (job->fs->pend_tail == &job->pend_next)
            job->fs->pend_tail = pp;
        job->fs->pending--;
    }
    if (!job->polled && !job->fs->ready)
        job->fs->unpolled--;
    poll_reset(job);
    free(job->url);
    free(job->versioned_url);
    free(job->pods_url);
    cJSON_Delete(job->options);
    for (size_t i = 0; job->headers[i]; i++)
        free(job->headers[i]);
    free(job->key);
    free(job);
}

/* Records a failed poll and retries after an exponential backoff. */
static void fail(struct feed_job *job, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct feed_job *job, const char *fmt, ...)
{
    struct feeds *fs = job->fs;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    poll_reset(job);
    job->failures++;
    /* Without a sync, as snapshots are: an error lost to a power cut is recorded again by the
     * next poll, and a thousand feeds of a server that is down must not cost a thousand syncs
     * on the loop. */
    if (!fs->flushing)
        store_set_fsync(fs->st, false);
    if (store_feed_result(fs->st, job->center, job->idx, clock_now_ms(), msg, NULL, 0) < 0)
        log_warn("feed %s#%d: cannot record the error: %s", job->center, job->idx,
                 store_errmsg(fs->st));
    if (!fs->flushing)
        store_set_fsync(fs->st, true);
    inventory_invalidate(fs->inv);
    double delay = (double)job->interval_s;
    for (unsigned i = 0; i < job->failures && delay < fs->limits.max_backoff_s; i++)
        delay *= 2;
    if (delay > fs->limits.max_backoff_s)
        delay = fs->limits.max_backoff_s;
    log_warn("feed %s#%d (%s) failed (%u in a row), retry in %.0f s: %s", job->center, job->idx,
             job->adapter->name, job->failures, delay, msg);
    schedule(job, jitter(fs, delay));
    first_poll_ended(job, false);
}

static void succeed(struct feed_job *job, size_t npools)
{
    if (job->failures)
        log_info("feed %s#%d (%s) recovered after %u failures: %zu pools", job->center, job->idx,
                 job->adapter->name, job->failures, npools);
    job->failures = 0;
    poll_reset(job);
    schedule(job, jitter(job->fs, (double)job->interval_s));
    first_poll_ended(job, true);
}

static void start_fetch(struct feed_job *job, const char *url, bool conditional);
static const char *poll_url(struct feed_job *job);

/* Adds a page's pools to the poll's accumulated snapshot: counts add up, the lower price wins. */
static int accumulate(struct feed_snapshot *acc, const struct feed_snapshot *page)
{
    /* Room for every pool of the page at once (not a realloc per pool). */
    if (page->npools) {
        size_t room = acc->npools + page->npools;
        if (room > ADAPTER_MAX_POOLS)
            room = ADAPTER_MAX_POOLS;
        if (room > acc->npools) {
            struct pool_snapshot *n = realloc(acc->pools, room * sizeof(*n));
            if (!n)
                return -ENOMEM;
            acc->pools = n;
        }
    }
    for (size_t i = 0; i < page->npools; i++) {
        const struct pool_snapshot *p = &page->pools[i];
        struct pool_snapshot *q = NULL;
        for (size_t j = 0; j < acc->npools && !q; j++) {
            if (strcasecmp(acc->pools[j].model, p->model) == 0)
                q = &acc->pools[j];
        }
        if (!q) {
            if (acc->npools >= ADAPTER_MAX_POOLS)
                return -E2BIG;
            acc->pools[acc->npools++] = *p; /* room made above */
            continue;
        }
        if (p->has_counts) {
            q->total = q->has_counts ? q->total + p->total : p->total;
            q->free = q->has_counts ? q->free + p->free : p->free;
            q->largest_block =
                q->largest_block > p->largest_block ? q->largest_block : p->largest_block;
            q->has_counts = true;
        }
        if (p->has_price && (!q->has_price || p->price < q->price)) {
            q->price = p->price;
            q->spot_price = p->spot_price;
            memcpy(q->currency, p->currency, sizeof(q->currency));
            q->has_price = true;
        }
    }
    if (page->observed_at_ms > acc->observed_at_ms)
        acc->observed_at_ms = page->observed_at_ms;
    if (page->warning[0] && !acc->warning[0])
        memcpy(acc->warning, page->warning, sizeof(acc->warning));
    return 0;
}

/* "scheme://host[:port]/" of a URL, for keeping paged feeds on their own server. */
static size_t origin_len(const char *url)
{
    const char *p = strstr(url, "://");
    if (!p)
        return 0;
    const char *slash = strchr(p + 3, '/');
    return slash ? (size_t)(slash - url) + 1 : strlen(url);
}

static bool same_origin(const char *a, const char *b)
{
    size_t n = origin_len(a);
    return n > 0 && n == origin_len(b) && strncasecmp(a, b, n) == 0;
}

/* One job's part of the batch, inside a savepoint so that its failure undoes only itself. */
static int apply_one(struct feed_job *job, int64_t now, struct json_error *err)
{
    struct feeds *fs = job->fs;
    int r = store_savepoint(fs->st);
    if (r < 0)
        return r;
    if (job->pending == PENDING_TOUCH) {
        r = store_feed_pools_touch(fs->st, job->center, job->idx, now);
        if (r == 0)
            r = inventory_merge_center(fs->inv, job->center, NULL, 0);
        if (r == 0)
            r = store_feed_result(fs->st, job->center, job->idx, now, NULL, NULL, -1);
    } else {
        r = inventory_apply_snapshot(fs->inv, job->center, job->idx, &job->acc,
                                     job->adapter == &adapter_native, now, err);
        if (r == 0)
            r = store_feed_result(fs->st, job->center, job->idx, now, NULL,
                                  job->acc.warning[0] ? job->acc.warning : NULL,
                                  (long)job->acc.npools);
    }
    int e = store_savepoint_end(fs->st, r == 0);
    return r < 0 ? r : e;
}

/*
 * The polls of this loop pass applied together (inventory_apply_batch), inside
 * one savepoint: a few statements for all of them instead of several for each,
 * and no savepoint each. A failed statement undoes the whole batch, and every
 * job is then left to apply_one, as are the jobs the batch does not take.
 */
static void apply_batch(struct feeds *fs, int64_t now)
{
    if (!fs->pending)
        return; /* one poll too: only the batch keeps a sole feed's snapshot as the pools */
    struct inventory_apply *items = calloc(fs->pending, sizeof(*items));
    struct feed_job **jobs = calloc(fs->pending, sizeof(*jobs));
    struct feed_ok *oks = calloc(fs->pending, sizeof(*oks));
    size_t n = 0, nok = 0;
    int r = items && jobs && oks ? store_savepoint(fs->st) : -ENOMEM;
    for (struct feed_job *j = fs->pend_head; j && r == 0; j = j->pend_next) {
        if (j->pending <= 0)
            continue;
        items[n] = (struct inventory_apply){
            .center = j->center,
            .idx = j->idx,
            .snap = j->pending == PENDING_APPLY ? &j->acc : NULL,
            .strict = j->adapter == &adapter_native,
            .sole = j->sole,
        };
        jobs[n++] = j;
    }
    if (r == 0) {
        r = inventory_apply_batch(fs->inv, items, n, now);
        for (size_t i = 0; i < n && r == 0; i++) {
            if (items[i].result == 0)
                oks[nok++] = (struct feed_ok){jobs[i]->center, jobs[i]->idx, items[i].warning,
                                              (long)jobs[i]->acc.npools, items[i].in_pools};
        }
        if (r == 0)
            r = store_feed_results_ok(fs->st, now, oks, nok);
        if (store_savepoint_end(fs->st, r == 0) < 0 && r == 0) {
            r = -EIO;
            store_savepoint_end(fs->st, false);
        }
    }
    for (size_t i = 0; i < n && r == 0; i++) {
        struct feed_job *j = jobs[i];
        if (items[i].result == 0) {
            j->pending = -j->pending; /* applied, awaits commit */
        } else if (items[i].result == -EINVAL) {
            j->pending = PENDING_NONE;
            fail(j, "%s%s%s", items[i].err.pointer, items[i].err.pointer[0] ? ": " : "",
                 items[i].err.detail);
        }
    }
    free(items);
    free(jobs);
    free(oks);
}

/*
 * Commits every poll parsed in this loop pass in one transaction without
 * fsync: a thousand centers polled at once cost one commit, and a snapshot
 * lost to a power cut is fetched again by the next poll.
 */
static void on_flush(struct ev_loop *loop, ev_prepare *w, int revents)
{
    (void)revents;
    struct feeds *fs = w->data;
    ev_prepare_stop(loop, w);
    if (!fs->pending)
        return;
    int64_t now = clock_now_ms();
    store_set_fsync(fs->st, false);
    fs->flushing = true;
    int r = store_begin(fs->st);
    if (r == 0)
        apply_batch(fs, now);
    for (struct feed_job *j = fs->pend_head; j && r == 0; j = j->pend_next) {
        if (j->pending <= 0)
            continue;
        struct json_error err = {0};
        int e = apply_one(j, now, &err);
        j->pending = e == 0 ? -j->pending : PENDING_NONE; /* negative: applied, awaits commit */
        if (e == -EINVAL)
            fail(j, "%s%s%s", err.pointer, err.pointer[0] ? ": " : "", err.detail);
        else if (e < 0)
            fail(j, "cannot store the snapshot: %s", strerror(-e));
    }
    if (r == 0)
        r = store_commit(fs->st);
    else
        store_rollback(fs->st);
    store_set_fsync(fs->st, true);
    fs->flushing = false;
    inventory_invalidate(fs->inv);
    struct feed_job *next;
    for (struct feed_job *j = fs->pend_head; j; j = next) {
        next = j->pend_next;
        j->pend_next = NULL;
        if (!j->pending)
            continue;
        size_t n = j->acc.npools;
        j->pending = PENDING_NONE;
        if (r < 0)
            fail(j, "cannot store the snapshot: %s", strerror(-r));
        else
            succeed(j, n);
    }
    fs->pend_head = NULL;
    fs->pend_tail = &fs->pend_head;
    fs->pending = 0;
}

static void queue(struct feed_job *job, int what)
{
    struct feeds *fs = job->fs;
    if (!job->pending) {
        fs->pending++;
        job->pend_next = NULL;
        *fs->pend_tail = job;
        fs->pend_tail = &job->pend_next;
    }
    job->pending = what;
    if (!ev_is_active(&fs->flush))
        ev_prepare_start(fs->loop, &fs->flush);
}

static void apply(struct feed_job *job)
{
    queue(job, PENDING_APPLY);
}

/* A 304: the center's snapshot is still true now. */
static void unchanged(struct feed_job *job)
{
    queue(job, PENDING_TOUCH);
}

/* Parses one document (a page, or the nodes+pods pair) and moves the poll on. */
static void parsed(struct feed_job *job, const char *doc, size_t len, const char *url)
{
    struct feed_snapshot snap = {0};
    struct json_error err = {0};
    int r = job->adapter->parse(doc, len, job->options, &snap, &err);
    if (r < 0) {
        fail(job, "%s: %s%s%s", r == -ENOMEM ? "out of memory" : "the document is not valid",
             err.pointer, err.pointer[0] ? ": " : "", err.detail);
        return;
    }
    r = accumulate(&job->acc, &snap);
    char *next = snap.next_url;
    snap.next_url = NULL;
    feed_snapshot_free(&snap);
    if (r < 0) {
        free(next);
        fail(job, "too many pools across pages");
        return;
    }
    if (next && next[0]) {
        if (!same_origin(next, url)) {
            free(next);
            fail(job, "the next page is on another server; refused");
            return;
        }
        if (job->page + 1 >= (unsigned)job->max_pages) {
            snprintf(job->acc.warning, sizeof(job->acc.warning),
                     "stopped after %ld pages (max_pages)", job->max_pages);
        } else {
            job->page++;
            start_fetch(job, next, false);
            free(next);
            return;
        }
    }
    free(next);
    apply(job);
}

static void on_fetched(void *userdata, const struct fetch_result *res)
{
    struct feed_job *job = userdata;
    job->inflight = NULL;
    job->fs->inflight--;
    if (res->err) {
        fail(job, "fetch failed: %s", res->errmsg[0] ? res->errmsg : strerror(-res->err));
        return;
    }
    if (res->not_modified && job->page == 0 && !job->nodes_doc) {
        unchanged(job);
        return;
    }
    if (res->status == 404 && strstr(job->url, "{version}") && job->page == 0 && !job->nodes_doc &&
        api_versions[job->version + 1]) {
        /* This server does not speak that API version: try the next older one now. */
        job->version++;
        start_fetch(job, poll_url(job), false);
        return;
    }
    if (res->status != 0 && (res->status < 200 || res->status > 299)) {
        /* Some servers explain errors in their own format (slurmrestd's errors[]): show it. */
        struct feed_snapshot snap = {0};
        struct json_error err = {0};
        int r = res->len ? job->adapter->parse(res->body, res->len, job->options, &snap, &err) : 0;
        feed_snapshot_free(&snap);
        if (r == -EINVAL && err.detail[0] && strstr(err.detail, "malformed") == NULL)
            fail(job, "HTTP %ld from the feed: %s%s%s", res->status, err.pointer,
                 err.pointer[0] ? ": " : "", err.detail);
        else
            fail(job, "HTTP %ld from the feed", res->status);
        if (res->status == 404 && strstr(job->url, "{version}"))
            job->version = 0; /* no version answered: probe again from the newest next time */
        return;
    }
    if (job->page == 0 && !job->nodes_doc && !job->pods_url) {
        /* The same sizes, NUL-terminated: copied whole (snprintf cost 500 instructions each). */
        _Static_assert(sizeof(job->etag) == sizeof(res->etag), "etag sizes differ");
        _Static_assert(sizeof(job->last_modified) == sizeof(res->last_modified),
                       "last_modified sizes differ");
        memcpy(job->etag, res->etag, sizeof(job->etag));
        memcpy(job->last_modified, res->last_modified, sizeof(job->last_modified));
    }
    if (job->pods_url && !job->nodes_doc) {
        /* Kubernetes: keep the node list, fetch the pods, parse both as one document. */
        job->nodes_doc = malloc(res->len + 1);
        if (!job->nodes_doc) {
            fail(job, "out of memory");
            return;
        }
        memcpy(job->nodes_doc, res->body, res->len + 1);
        job->nodes_len = res->len;
        start_fetch(job, job->pods_url, false);
        return;
    }
    if (job->nodes_doc) {
        size_t n = job->nodes_len + res->len + 32;
        char *both = malloc(n);
        if (!both) {
            fail(job, "out of memory");
            return;
        }
        int w = snprintf(both, n, "{\"nodes\":%s,\"pods\":%s}", job->nodes_doc, res->body);
        parsed(job, both, w > 0 ? (size_t)w : 0, poll_url(job));
        free(both);
        return;
    }
    parsed(job, res->body, res->len, job->versioned_url ? job->versioned_url : job->url);
}

static void start_fetch(struct feed_job *job, const char *url, bool conditional)
{
    struct feeds *fs = job->fs;
    struct fetch_options o = {
        .url = url,
        .headers = (const char *const *)job->headers,
        .etag = conditional && job->etag[0] ? job->etag : NULL,
        .last_modified = conditional && job->last_modified[0] ? job->last_modified : NULL,
        .max_bytes = fs->cfg->max_feed_bytes,
        .connect_timeout_s = 5,
        .total_timeout_s = fs->cfg->feed_timeout_s,
        .h2_prior_knowledge = job->h2c,
        .ca_file = fs->cfg->feed_ca_file,
    };
    int r = fetch_start(fs->fetch, &o, on_fetched, job, &job->inflight);
    if (r < 0) {
        job->inflight = NULL;
        fail(job, "cannot start the transfer: %s", strerror(-r));
        return;
    }
    fs->inflight++;
}

/* The URL to poll: the feed's, with "{version}" replaced by the version being tried. */
static const char *poll_url(struct feed_job *job)
{
    const char *mark = strstr(job->url, "{version}");
    if (!mark)
        return job->url;
    size_t n = strlen(job->url) + 16;
    char *u = malloc(n);
    if (!u)
        return job->url;
    snprintf(u, n, "%.*s%s%s", (int)(mark - job->url), job->url, api_versions[job->version],
             mark + strlen("{version}"));
    free(job->versioned_url);
    job->versioned_url = u;
    return u;
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    struct feed_job *job = w->data;
    struct feeds *fs = job->fs;
    if (job->inflight || job->pending)
        return;
    unsigned same = 0;
    for (struct feed_job *j = center_jobs(fs, job->center); j; j = j->hnext) {
        if (j->inflight && strcmp(j->center, job->center) == 0)
            same++;
    }
    if (same >= fs->limits.per_center) {
        schedule(job, 0.5); /* this center already has its share of transfers */
        return;
    }
    poll_reset(job);
    start_fetch(job, poll_url(job), true);
}

/* Builds the request headers from the feed's credentials. */
static int make_headers(struct feed_job *job, const char *auth_json)
{
    static const struct {
        const char *key;
        const char *fmt;
    } map[] = {{"bearer_token", "Authorization: Bearer %s"},
               {"slurm_user", "X-SLURM-USER-NAME: %s"},
               {"slurm_token", "X-SLURM-USER-TOKEN: %s"}};
    size_t n = 0;
    cJSON *auth = cJSON_Parse(auth_json ? auth_json : "{}");
    job->headers[n] = strdup("Accept: application/json, text/csv, */*");
    if (!job->headers[n++]) {
        cJSON_Delete(auth);
        return -ENOMEM;
    }
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]) && n < FEED_MAX_HEADERS; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(auth, map[i].key);
        if (!cJSON_IsString(v))
            continue;
        size_t len = strlen(map[i].fmt) + strlen(v->valuestring);
        char *h = malloc(len);
        if (!h) {
            cJSON_Delete(auth);
            return -ENOMEM;
        }
        snprintf(h, len, map[i].fmt, v->valuestring);
        job->headers[n++] = h;
    }
    job->headers[n] = NULL;
    cJSON_Delete(auth);
    return 0;
}

/* v in decimal into buf (room for 21 bytes). */
static void decimal(char buf[24], long v)
{
    char tmp[24];
    size_t n = 0;
    unsigned long u = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v;
    do
        tmp[n++] = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0)
        tmp[n++] = '-';
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
}

/*
 * Everything that defines a feed's job, as one string (NULL when out of memory): a job whose
 * key is unchanged keeps running across a sync. Compared whole, so no change goes unseen.
 */
static char *job_key(const struct center_row *c, const struct feed_config *f)
{
    char nums[3][24];
    decimal(nums[0], f->idx);
    decimal(nums[1], f->interval_s);
    decimal(nums[2], f->h2c);
    /* Not one snprintf of them all: it cost more than the rest of a job's set-up. */
    const char *part[] = {c->id,
                          nums[0],
                          f->adapter,
                          f->url ? f->url : "",
                          nums[1],
                          nums[2],
                          f->options_json ? f->options_json : "",
                          f->auth_json ? f->auth_json : ""};
    size_t len[sizeof(part) / sizeof(part[0])], n = 0;
    for (size_t i = 0; i < sizeof(part) / sizeof(part[0]); i++)
        n += (len[i] = strlen(part[i])) + 1;
    char *key = malloc(n), *p = key;
    for (size_t i = 0; key && i < sizeof(part) / sizeof(part[0]); i++) {
        memcpy(p, part[i], len[i]);
        p += len[i];
        *p++ = '\n';
    }
    if (key)
        p[-1] = '\0';
    return key;
}

/* Takes key (from job_key()) in every case. */
static int job_new(struct feeds *fs, const struct center_row *c, const struct feed_config *f,
                   char *key)
{
    struct feed_job *job = calloc(1, sizeof(*job));
    if (!job) {
        free(key);
        return -ENOMEM;
    }
    job->fs = fs;
    job->key = key;
    size_t idlen = strnlen(c->id, sizeof(job->center) - 1);
    memcpy(job->center, c->id, idlen);
    job->center[idlen] = '\0';
    job->idx = f->idx;
    job->adapter = adapter_find(f->adapter);
    job->url = strdup(f->url ? f->url : "");
    job->options = cJSON_Parse(f->options_json ? f->options_json : "{}");
    job->h2c = f->h2c;
    job->interval_s = f->interval_s > 0 ? f->interval_s : 60;
    job->max_pages = DEFAULT_MAX_PAGES;
    ev_timer_init(&job->timer, on_timer, 0, 0);
    /* Below the sockets: when polls fall due by the hundred, a loop pass first hands over what
       came in and sends what is ready (a new connection's requests among them), then starts
       the polls. libev runs a pass's timers before its I/O otherwise. */
    ev_set_priority(&job->timer, -1);
    job->timer.data = job;
    int r = job->adapter && job->url && job->options ? make_headers(job, f->auth_json) : -ENOMEM;
    if (r == 0) {
        const cJSON *mp = cJSON_GetObjectItemCaseSensitive(job->options, "max_pages");
        if (cJSON_IsNumber(mp) && mp->valuedouble >= 1)
            job->max_pages =
                mp->valuedouble > MAX_PAGES_CEILING ? MAX_PAGES_CEILING : (long)mp->valuedouble;
        const cJSON *pods = cJSON_GetObjectItemCaseSensitive(job->options, "pods_url");
        if (cJSON_IsString(pods) && pods->valuestring[0]) {
            job->pods_url = strdup(pods->valuestring);
            if (!job->pods_url)
                r = -ENOMEM;
        }
    }
    if (r == 0)
        r = index_reserve(fs, fs->njobs + 1);
    if (r < 0) {
        job_free(job);
        return r;
    }
    job->next = fs->jobs;
    fs->jobs = job;
    size_t b = center_bucket(fs, job->center);
    job->hnext = fs->buckets[b];
    fs->buckets[b] = job;
    fs->njobs++;
    job->polled = fs->ready; /* feeds added once ready do not count */
    if (!fs->ready)
        fs->unpolled++;
    fetch_warm(fs->fetch, job->url, job->h2c); /* libcurl, if this feed will need it, now */
    return 0;                                  /* its first poll is scheduled by schedule_first() */
}

/*
 * Schedules the first polls of the `fresh` jobs just made (at the head of fs->jobs, newest
 * first), in the order they were made, which is the centers' (by id): spread evenly over
 * first_delay_s (the middles of n equal slices: one new feed waits half of it, as it did on
 * average when the wait was drawn at random), so that a restart does not poll every center in
 * the same instant, or, with no spread, 10 microseconds apart. In order, because libev runs timers
 * due at one instant in no set order; their pools then reach the store in key order, where a b-tree
 * takes rows at its end cheaply (the first pools of 1,000 centers: 48 M instructions in random
 * order, 38 M in this one). Apart, at 100,000 a second, far more than brokerd takes in, so that a
 * loop pass does not start them all before any I/O: the first requests leave while the rest start.
 */
static void schedule_first(struct feeds *fs, size_t fresh)
{
    double spread = fs->limits.first_delay_s;
    size_t rank = fresh;
    /* Timers count from the loop's idea of now, the time of its last pass (or of its making):
       from a stale one, more of the first polls are due at once when the loop next runs. */
    if (fresh)
        ev_now_update(fs->loop);
    for (struct feed_job *j = fs->jobs; j && rank > 0; j = j->next) {
        rank--;
        schedule(j,
                 spread > 0 ? spread * ((double)rank + 0.5) / (double)fresh : 1e-5 * (double)rank);
    }
}

/* Brings the jobs of the given centers in line with their pull feeds. */
static int sync_centers(struct feeds *fs, const struct center_row *centers, size_t n,
                        const char *only)
{
    for (struct feed_job *j = fs->jobs; j; j = j->next) {
        if (!only || strcmp(j->center, only) == 0)
            j->seen = false;
        else
            j->seen = true; /* other centers are not being looked at */
    }
    size_t fresh = 0; /* jobs made here */
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        const struct center_row *c = &centers[i];
        for (size_t k = 0; k < c->nfeeds && r == 0; k++) {
            const struct feed_config *f = &c->feeds[k];
            if (strcmp(f->mode, "pull") != 0 || !f->url)
                continue;
            char *key = job_key(c, f);
            if (!key) {
                r = -ENOMEM;
                break;
            }
            struct feed_job *found = NULL;
            for (struct feed_job *j = center_jobs(fs, c->id); j && !found; j = j->hnext) {
                if (j->idx == f->idx && strcmp(j->key, key) == 0 && strcmp(j->center, c->id) == 0)
                    found = j;
            }
            if (found) {
                free(key);
                found->seen = true;
                found->sole = c->nfeeds == 1;
                continue;
            }
            r = job_new(fs, c, f, key);
            if (r < 0)
                break;
            fresh++;
            fs->jobs->seen = true;
            fs->jobs->sole = c->nfeeds == 1;
        }
    }
    schedule_first(fs, fresh); /* also those made before running out of memory */
    if (r < 0)
        return r;
    /* Jobs whose feed changed or went away stop; a changed feed got a new job above. */
    struct feed_job **pp = &fs->jobs;
    while (*pp) {
        struct feed_job *j = *pp;
        if (j->seen) {
            pp = &j->next;
            continue;
        }
        *pp = j->next;
        fs->njobs--;
        index_remove(fs, j);
        job_free(j);
    }
    check_ready(fs); /* the last feed not yet polled may have gone */
    return 0;
}

int feeds_sync(struct feeds *fs)
{
    int r = inventory_refresh(fs->inv);
    if (r < 0)
        return r;
    return sync_centers(fs, fs->inv->centers, fs->inv->ncenters, NULL);
}

int feeds_sync_center(struct feeds *fs, const char *center)
{
    struct center_row *rows = NULL;
    size_t n = 0;
    int r = store_centers_load(fs->st, center, &rows, &n);
    if (r == -ENOENT) /* deleted: its jobs stop */
        return sync_centers(fs, NULL, 0, center);
    if (r < 0)
        return r;
    r = sync_centers(fs, rows, n, center);
    store_centers_free(rows, n);
    return r;
}

int feeds_new(struct ev_loop *loop, struct store *st, struct inventory *inv,
              const struct config *cfg, struct fetch *fetch, const struct feeds_limits *limits,
              struct feeds **ret)
{
    struct feeds *fs = calloc(1, sizeof(*fs));
    if (!fs)
        return -ENOMEM;
    fs->loop = loop;
    fs->st = st;
    fs->inv = inv;
    fs->cfg = cfg;
    fs->fetch = fetch;
    fs->limits = limits ? *limits : (struct feeds_limits){.first_delay_s = -1};
    if (fs->limits.max_backoff_s <= 0)
        fs->limits.max_backoff_s = 600;
    if (fs->limits.jitter <= 0)
        fs->limits.jitter = 0.1;
    if (fs->limits.per_center == 0)
        fs->limits.per_center = 2;
    if (fs->limits.first_delay_s < 0)
        fs->limits.first_delay_s = 1;
    fs->rng = (uint64_t)clock_mono_us() | 1;
    fs->started_us = clock_mono_us();
    fs->pend_tail = &fs->pend_head;
    ev_prepare_init(&fs->flush, on_flush);
    fs->flush.data = fs;
    int r = feeds_sync(fs);
    if (r < 0) {
        feeds_free(fs);
        return r;
    }
    *ret = fs;
    return 0;
}

int64_t feeds_next_poll(const struct feeds *fs, const char *center, int idx, bool *ret_polling)
{
    for (const struct feed_job *j = center_jobs(fs, center); j; j = j->hnext) {
        if (j->idx != idx || strcmp(j->center, center) != 0)
            continue;
        *ret_polling = j->inflight != NULL;
        if (!ev_is_active(&j->timer))
            return 0;
        double left = ev_timer_remaining(fs->loop, (ev_timer *)&j->timer);
        return clock_now_ms() + (int64_t)(left * 1000);
    }
    *ret_polling = false;
    return 0;
}

unsigned feeds_jobs(const struct feeds *fs)
{
    return fs->njobs;
}

unsigned feeds_in_flight(const struct feeds *fs)
{
    return fs->inflight;
}

bool feeds_ready(const struct feeds *fs)
{
    return !fs || fs->ready;
}

unsigned feeds_pending_first_polls(const struct feeds *fs)
{
    return fs && !fs->ready ? fs->unpolled : 0;
}

void feeds_free(struct feeds *fs)
{
    if (!fs)
        return;
    ev_prepare_stop(fs->loop, &fs->flush);
    while (fs->jobs) {
        struct feed_job *j = fs->jobs;
        fs->jobs = j->next;
        job_free(j);
    }
    free(fs->buckets);
    free(fs);
}
