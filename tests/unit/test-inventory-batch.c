/*
 * test-inventory-batch — inventory_apply_batch against inventory_apply_snapshot
 * one feed at a time: two databases set up alike, the same polls applied each
 * way, and the pools, feed_pools and feeds rows must come out the same, with
 * the same refusals. Covers first polls and later ones, centers with several
 * feeds (merged with the snapshots of the others, or named twice in a batch),
 * models with no price, refused documents, more centers than one statement
 * takes, and a batch whose statement fails (undone whole by its savepoint).
 * A center's only feed whose pools all have counts and a price is kept once,
 * as the pools (feeds.in_pools): compared as the snapshots the store reads
 * back, and followed through a "not modified" poll and a second feed added.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "config.h"
#include "inventory.h"
#include "store.h"

#define NCENTERS 90 /* more than one statement's list of centers (64) */
#define MAXITEMS (NCENTERS + 8)

static const int64_t T0 = 1767225600000; /* 2026-01-01 */
static struct config cfg;

struct side {
    char path[300];
    struct store *st;
    struct inventory inv;
};

/* Center i: "b-NNN"; centers 0..3 have a second (price) feed. */
static void center_of(struct center_row *c, struct feed_config *feeds, int i, size_t nfeeds)
{
    feeds[0] = (struct feed_config){
        .adapter = "native", .mode = "pull", .url = "http://127.0.0.1:1/n", .interval_s = 5};
    feeds[1] = (struct feed_config){.adapter = "azure-retail",
                                    .mode = "pull",
                                    .url = "http://127.0.0.1:1/p",
                                    .interval_s = 5,
                                    .idx = 1};
    *c = (struct center_row){.status = CENTER_ACTIVE,
                             .labels_json = "{}",
                             .staleness_s = 600,
                             .created_at = T0,
                             .updated_at = T0,
                             .feeds = feeds,
                             .nfeeds = nfeeds};
    snprintf(c->id, sizeof(c->id), "b-%03d", i);
    snprintf(c->name, sizeof(c->name), "center %d", i);
    snprintf(c->operator_id, sizeof(c->operator_id), "op1");
    snprintf(c->region, sizeof(c->region), "cn-beijing");
}

/* Center i: "b-NNN"; centers 0..3 have a second (price) feed. */
static int add_center(struct store *st, int i)
{
    struct feed_config feeds[2];
    struct center_row c;
    center_of(&c, feeds, i, i < 4 ? 2 : 1);
    return store_center_insert(st, &c);
}

static void pool(struct pool_snapshot *p, const char *model, long total, long free_, double price)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->model, sizeof(p->model), "%s", model);
    p->has_counts = total >= 0;
    p->total = total >= 0 ? total : 0;
    p->free = free_;
    p->largest_block = free_ < 8 ? free_ : 8;
    p->has_price = price >= 0;
    p->price = price >= 0 ? price : 0;
    p->spot_price = -1;
    snprintf(p->currency, sizeof(p->currency), "CNY");
    p->memory_gib = -1;
    p->domestic = -1;
    for (int k = 0; k < PREC_COUNT; k++)
        p->tflops[k] = -1;
}

/* The snapshot of center i's feed idx at poll `round`. */
static void make_snapshot(struct feed_snapshot *s, int i, int idx, int round)
{
    static const char *const models[] = {"A800", "Ascend910B", "H20", "L40S", "H800"};
    memset(s, 0, sizeof(*s));
    s->pools = calloc(6, sizeof(*s->pools));
    if (idx == 1) { /* a price feed: prices only */
        pool(&s->pools[s->npools++], "A800", -1, 0, 11.5 + round);
        pool(&s->pools[s->npools++], "H20", -1, 0, 7.25);
        return;
    }
    size_t n = 2 + (size_t)((i + round) % 3); /* the set of models changes between polls */
    for (size_t k = 0; k < n; k++) {
        struct pool_snapshot *p = &s->pools[s->npools++];
        pool(p, models[(k + (size_t)i) % 5], 64 * (long)(k + 1), 10 + i + round, 5 + (double)k);
        if (k == 1) {
            p->tflops[PREC_BF16] = 312.5;
            snprintf(p->vendor, sizeof(p->vendor), "vendor-%d", i);
            p->memory_gib = 80;
            p->domestic = i % 2;
            p->spot_price = 2.5;
        }
    }
    if (i % 7 == 3) /* counts and no price: a warning */
        pool(&s->pools[s->npools++], "NVIDIA-H100-80GB-HBM3", 16, 4, -1);
    if (i == 10) /* no rate for this currency: refused */
        snprintf(s->pools[0].currency, sizeof(s->pools[0].currency), "XYZ");
    if (i == 11) /* the same accelerator twice (native is strict): refused */
        pool(&s->pools[s->npools++], s->pools[0].model, 8, 8, 3);
    if (i == 12)
        snprintf(s->warning, sizeof(s->warning), "stopped after 20 pages (max_pages)");
}

static bool open_side(struct side *sd, const char *name)
{
    char err[256] = "";
    snprintf(sd->path, sizeof(sd->path), "/tmp/test-inventory-batch-%d-%s.db", (int)getpid(), name);
    check_remove_db(sd->path);
    if (store_open(sd->path, &sd->st, err, sizeof(err)) < 0) {
        printf("# store_open: %s\n", err);
        return false;
    }
    inventory_init(&sd->inv, sd->st, &cfg);
    int r = store_begin(sd->st);
    for (int i = 0; i < NCENTERS && r == 0; i++)
        r = add_center(sd->st, i);
    if (r == 0)
        r = store_commit(sd->st);
    return r == 0;
}

static void close_side(struct side *sd)
{
    inventory_free(&sd->inv);
    store_close(sd->st);
    check_remove_db(sd->path);
}

/* One poll of the batch as apply_one does it: inside its own savepoint. */
static int apply_one(struct side *sd, struct inventory_apply *it)
{
    int r = store_savepoint(sd->st);
    if (r < 0)
        return r;
    r = inventory_apply_snapshot(&sd->inv, it->center, it->idx, it->snap, it->strict, T0 + 1,
                                 &it->err);
    if (r == 0)
        r = store_feed_result(sd->st, it->center, it->idx, T0 + 1, NULL,
                              it->snap->warning[0] ? it->snap->warning : NULL,
                              (long)it->snap->npools);
    int e = store_savepoint_end(sd->st, r == 0);
    return r < 0 ? r : e;
}

static char *query_text(struct side *sd, const char *sql);

/*
 * The rows of the three tables the feeds write, as text, in key order; a feed
 * snapshot kept as its center's pools is shown as its feed_pools rows.
 */
static char *dump(struct side *sd)
{
    static const char *const sql =
        "SELECT 'pool', center, model, total, free, largest_block, price, spot_price, currency, "
        "vendor, memory_gib, domestic, tflops, observed_at FROM pools "
        "UNION ALL SELECT 'feed_pool', center || '#' || idx, model, has_counts || ' ' || total, "
        "free, "
        "largest_block, has_price || ' ' || IFNULL(price, '-'), spot_price, currency, vendor, "
        "memory_gib, domestic, tflops, observed_at FROM feed_pools "
        "UNION ALL SELECT 'feed_pool', p.center || '#' || f.idx, p.model, '1 ' || p.total, "
        "p.free, p.largest_block, '1 ' || p.price, p.spot_price, p.currency, p.vendor, "
        "p.memory_gib, p.domestic, p.tflops, p.observed_at FROM feeds f JOIN pools p "
        "ON p.center = f.center WHERE f.in_pools = 1 "
        "UNION ALL SELECT 'feed', center || '#' || idx, IFNULL(warning, '-'), last_success, "
        "last_error, last_error_at, pools_seen, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM "
        "feeds "
        "ORDER BY 1, 2, 3";
    return query_text(sd, sql);
}

/* One number a query gives, or -1. */
static long query_long(struct side *sd, const char *sql)
{
    char *t = query_text(sd, sql);
    long v = t && t[0] ? strtol(t, NULL, 10) : -1;
    free(t);
    return v;
}

/* What a query gives, as text: cells split by '|', rows ended by newlines. */
static char *query_text(struct side *sd, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    size_t len = 0, cap = 1 << 16;
    char *out = malloc(cap);
    if (!out || sqlite3_open_v2(sd->path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        printf("# dump: %s\n", db ? sqlite3_errmsg(db) : "no memory");
        sqlite3_close(db);
        free(out);
        return NULL;
    }
    out[0] = '\0';
    while (sqlite3_step(s) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(s); c++) {
            const unsigned char *t = sqlite3_column_text(s, c);
            char cell[600];
            int w = snprintf(cell, sizeof(cell), "%s%c", t ? (const char *)t : "NULL",
                             c + 1 < sqlite3_column_count(s) ? '|' : '\n');
            if (len + (size_t)w + 1 > cap) {
                char *p = realloc(out, cap *= 2);
                if (!p)
                    break;
                out = p;
            }
            memcpy(out + len, cell, (size_t)w + 1);
            len += (size_t)w;
        }
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return out;
}

/* Applies polls of `round` both ways and compares. */
static void round_both(struct side *one, struct side *batch, int round, bool with_twice)
{
    static struct feed_snapshot snaps[2][MAXITEMS];
    struct inventory_apply a[MAXITEMS], b[MAXITEMS];
    char ids[MAXITEMS][16];
    size_t n = 0, twice = 0;
    for (int i = 0; i < NCENTERS; i++) {
        /* Center 1: its capacity feed first, then its price feed alone (merged with the first's
           snapshot); 3: both at first, then the capacity feed alone; 2: both each time. */
        bool feed[2] = {!(i == 1 && round > 0), (i == 1 && round > 0) || i == 2 ||
                                                    (i == 3 && round == 0) ||
                                                    (with_twice && i == 0)};
        twice += feed[0] && feed[1];
        for (int idx = 0; idx < 2; idx++) {
            if (!feed[idx])
                continue;
            snprintf(ids[n], sizeof(ids[n]), "b-%03d", i);
            for (int s = 0; s < 2; s++)
                make_snapshot(&snaps[s][n], i, idx, round);
            a[n] = (struct inventory_apply){.center = ids[n],
                                            .idx = idx,
                                            .snap = &snaps[0][n],
                                            .strict = idx == 0,
                                            .sole = i >= 4};
            b[n] = a[n];
            b[n].snap = &snaps[1][n];
            n++;
        }
    }
    /* One by one. */
    int r = store_begin(one->st);
    for (size_t k = 0; k < n && r == 0; k++)
        a[k].result = apply_one(one, &a[k]);
    if (r == 0)
        r = store_commit(one->st);
    CHECK(r == 0, "round %d: one by one commits (%d)", round, r);

    /* As a batch, then what it leaves one by one. */
    struct feed_ok oks[MAXITEMS];
    size_t nok = 0;
    r = store_begin(batch->st);
    int e = r == 0 ? store_savepoint(batch->st) : r;
    if (e == 0)
        e = inventory_apply_batch(&batch->inv, b, n, T0 + 1);
    for (size_t k = 0; k < n && e == 0; k++) {
        if (b[k].result == 0)
            oks[nok++] = (struct feed_ok){b[k].center, b[k].idx, b[k].warning,
                                          (long)b[k].snap->npools, b[k].in_pools};
    }
    if (e == 0)
        e = store_feed_results_ok(batch->st, T0 + 1, oks, nok);
    if (r == 0)
        store_savepoint_end(batch->st, e == 0);
    CHECK(e == 0, "round %d: the batch applies (%d)", round, e);
    size_t left = 0;
    for (size_t k = 0; k < n && r == 0; k++) {
        if (b[k].result == 1) {
            left++;
            b[k].result = apply_one(batch, &b[k]);
        }
    }
    if (r == 0)
        r = store_commit(batch->st);
    CHECK(r == 0, "round %d: the batch commits (%d)", round, r);
    size_t refused = 0;
    for (size_t k = 0; k < n; k++)
        refused += b[k].result == -EINVAL;
    CHECK(refused == 2 && nok + left + refused == n,
          "round %d: %zu applied in the batch, %zu one by one, of %zu", round, nok, left, n);
    CHECK(left == 2 * twice, "round %d: the feeds of centers named twice are left (%zu)", round,
          left);

    for (size_t k = 0; k < n; k++) {
        if (a[k].result != b[k].result ||
            (a[k].result == -EINVAL && (strcmp(a[k].err.pointer, b[k].err.pointer) != 0 ||
                                        strcmp(a[k].err.detail, b[k].err.detail) != 0))) {
            CHECK(false, "round %d: %s#%d: %d '%s: %s' vs %d '%s: %s'", round, a[k].center,
                  a[k].idx, a[k].result, a[k].err.pointer, a[k].err.detail, b[k].result,
                  b[k].err.pointer, b[k].err.detail);
        }
    }
    size_t k10 = 0;
    while (k10 < n && strcmp(a[k10].center, "b-010") != 0)
        k10++;
    CHECK(k10 < n && a[k10].result == -EINVAL &&
              strcmp(a[k10].err.pointer, "/pools/0/currency") == 0,
          "round %d: a currency with no rate is refused", round);
    char *da = dump(one), *db = dump(batch);
    CHECK(da && db && strlen(da) > 1000, "round %d: dumps read", round);
    if (da && db && strcmp(da, db) != 0) {
        CHECK(false, "round %d: the same rows", round);
        printf("# one by one:\n%s# batch:\n%s", da, db);
    } else {
        CHECK(true, "round %d: the same rows (%zu bytes)", round, da ? strlen(da) : 0);
    }
    CHECK(da && strstr(da, "no price for H100") != NULL,
          "round %d: the warning about a model with no price is recorded", round);
    /* Sole feeds with every pool priced (i >= 4 but i % 7 == 3, and 10 and 11 refused). */
    long kept = query_long(batch, "SELECT COUNT(*) FROM feeds WHERE in_pools = 1");
    long rows = query_long(batch, "SELECT COUNT(*) FROM feed_pools f JOIN feeds d "
                                  "ON d.center = f.center AND d.idx = f.idx WHERE d.in_pools = 1");
    CHECK(kept == 73 && rows == 0,
          "round %d: 73 sole feeds are kept only as their pools, with no feed_pools rows "
          "(%ld, %ld rows)",
          round, kept, rows);
    CHECK(query_long(one, "SELECT COUNT(*) FROM feeds WHERE in_pools = 1") == 0,
          "round %d: one by one, every snapshot is in feed_pools", round);
    free(da);
    free(db);
    for (size_t k = 0; k < n; k++) {
        feed_snapshot_free(&snaps[0][k]);
        feed_snapshot_free(&snaps[1][k]);
    }
}

/*
 * A snapshot kept as the pools: read back as the feed's rows, marked observed by
 * a "not modified" poll without losing the pools, and put back into feed_pools
 * when the center gets a second feed.
 */
static void kept_as_pools(struct side *sd)
{
    const char *id = "b-020";
    CHECK(query_long(sd, "SELECT in_pools FROM feeds WHERE center = 'b-020'") == 1,
          "b-020's only feed is kept as its pools");
    long npools = query_long(sd, "SELECT COUNT(*) FROM pools WHERE center = 'b-020'");
    struct pool_row *rows = NULL;
    size_t n = 0;
    int r = store_feed_pools_load(sd->st, id, &rows, &n);
    CHECK(r == 0 && npools > 0 && (long)n == npools && rows[0].idx == 0 && rows[0].has_counts &&
              rows[0].has_price,
          "its snapshot reads back from the pools (%zu rows of %ld)", n, npools);
    store_pools_free(rows, n);

    /* "Not modified": the pools are marked observed, and merging them keeps them. */
    r = store_begin(sd->st);
    if (r == 0)
        r = store_feed_pools_touch(sd->st, id, 0, T0 + 5);
    if (r == 0)
        r = inventory_merge_center(&sd->inv, id, NULL, 0);
    if (r == 0)
        r = store_commit(sd->st);
    CHECK(r == 0, "a not-modified poll is applied (%d)", r);
    CHECK(query_long(sd, "SELECT COUNT(*) FROM pools WHERE center = 'b-020' AND observed_at = "
                         "1767225600005") == npools,
          "every pool is kept and marked observed now");

    /* A second feed: the snapshot goes back into feed_pools before the feeds change. */
    struct feed_config feeds[2];
    struct center_row c;
    center_of(&c, feeds, 20, 2);
    r = store_begin(sd->st);
    if (r == 0)
        r = store_center_update(sd->st, &c);
    if (r == 0)
        r = inventory_merge_center(&sd->inv, id, NULL, 0);
    if (r == 0)
        r = store_commit(sd->st);
    CHECK(r == 0, "b-020 gets a price feed (%d)", r);
    CHECK(query_long(sd, "SELECT COUNT(*) FROM feeds WHERE in_pools = 1 AND center = 'b-020'") ==
                  0 &&
              query_long(sd, "SELECT COUNT(*) FROM feed_pools WHERE center = 'b-020' AND idx = 0 "
                             "AND has_counts = 1 AND has_price = 1") == npools,
          "its snapshot is back in feed_pools");
    CHECK(query_long(sd, "SELECT COUNT(*) FROM pools WHERE center = 'b-020'") == npools,
          "and its pools are unchanged");

    /* Its next poll is no longer its center's only feed: the rows go to feed_pools. */
    struct feed_snapshot snap;
    make_snapshot(&snap, 20, 0, 3);
    struct inventory_apply it[2] = {
        {.center = id, .idx = 0, .snap = &snap, .strict = true, .sole = false},
        {.center = "b-021", .idx = 0, .snap = NULL},
    };
    r = store_begin(sd->st);
    if (r == 0)
        r = inventory_apply_batch(&sd->inv, it, 2, T0 + 6);
    if (r == 0)
        r = store_commit(sd->st);
    CHECK(r == 0 && it[0].result == 0 && !it[0].in_pools,
          "a poll of a feed with a sibling is not kept as the pools (%d, %d)", r, it[0].result);
    CHECK(query_long(sd, "SELECT COUNT(*) FROM feed_pools WHERE center = 'b-020' AND idx = 0") ==
              (long)snap.npools,
          "its rows are in feed_pools");
    feed_snapshot_free(&snap);
}

/* A statement that fails (a center that does not exist) undoes the batch's savepoint whole. */
static void failing_batch(struct side *sd)
{
    char *before = dump(sd);
    struct feed_snapshot s1, s2;
    make_snapshot(&s1, 20, 0, 9);
    make_snapshot(&s2, 21, 0, 9);
    struct inventory_apply it[2] = {
        {.center = "b-020", .idx = 0, .snap = &s1, .strict = true},
        {.center = "no-such-center", .idx = 0, .snap = &s2, .strict = true},
    };
    int r = store_begin(sd->st);
    int e = r == 0 ? store_savepoint(sd->st) : r;
    if (e == 0)
        e = inventory_apply_batch(&sd->inv, it, 2, T0 + 2);
    CHECK(e < 0, "a batch with a center that does not exist fails (%d)", e);
    if (r == 0) {
        store_savepoint_end(sd->st, false);
        store_commit(sd->st);
    }
    char *after = dump(sd);
    CHECK(before && after && strcmp(before, after) == 0, "its savepoint undoes all of it");
    free(before);
    free(after);
    feed_snapshot_free(&s1);
    feed_snapshot_free(&s2);
}

int main(void)
{
    char errbuf[256];
    char *argv[] = {"test", NULL};
    if (config_load(1, argv, &cfg, errbuf, sizeof(errbuf)) != 0) {
        printf("# config: %s\n", errbuf);
        return 1;
    }
    struct side one = {0}, batch = {0};
    bool ok = open_side(&one, "one") && open_side(&batch, "batch");
    CHECK(ok, "two databases with %d centers", NCENTERS);
    if (ok) {
        round_both(&one, &batch, 0, false); /* first polls: nothing stored before */
        round_both(&one, &batch, 1, true);  /* later polls: models come and go */
        round_both(&one, &batch, 2, false);
        kept_as_pools(&batch);
        failing_batch(&batch);
    }
    close_side(&one);
    close_side(&batch);
    return check_done();
}
