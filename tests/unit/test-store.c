/*
 * test-store — the store under faults, over a real SQLite file in a temp
 * directory. Allocation-failure sweeps (failalloc for our allocations, a
 * failing wrapper around SQLite's allocator for its own): opening with the
 * migrations, a hold's decision and placement in one transaction, a confirm
 * that draws from a voucher, a center with feeds and pools, and the loads.
 * Then a database that is full (max_page_count), one whose write lock another
 * connection holds, and a file that is not a database. Each failure must give
 * a clean negative errno, keep every committed row and leak nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "failalloc.h"
#include "store.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static char dir[256];
static char db_path[300];

/* ---- SQLite's allocator, counted and failing on schedule ---- */

static sqlite3_mem_methods sq_orig;
static long sq_live;

static void *sq_malloc(int n)
{
    if (failalloc_should_fail(FAILALLOC_OTHER))
        return NULL;
    void *p = sq_orig.xMalloc(n);
    if (p)
        sq_live++;
    return p;
}

static void sq_free(void *p)
{
    if (p)
        sq_live--;
    sq_orig.xFree(p);
}

static void *sq_realloc(void *p, int n)
{
    if (failalloc_should_fail(FAILALLOC_OTHER))
        return NULL;
    return sq_orig.xRealloc(p, n);
}

static long sqlite_live(void)
{
    return sq_live;
}

/* Every connection the store opens passes here: the fault tests reach it. */
static sqlite3 *last_db;

static int on_open(sqlite3 *db, char **err, const sqlite3_api_routines *api)
{
    (void)err;
    (void)api;
    last_db = db;
    return SQLITE_OK;
}

static void sqlite_setup(void)
{
    static sqlite3_mem_methods wrapped;
    sqlite3_config(SQLITE_CONFIG_GETMALLOC, &sq_orig);
    wrapped = sq_orig;
    wrapped.xMalloc = sq_malloc;
    wrapped.xFree = sq_free;
    wrapped.xRealloc = sq_realloc;
    int rc = sqlite3_config(SQLITE_CONFIG_MALLOC, &wrapped);
    CHECK(rc == SQLITE_OK, "SQLite takes the failing allocator (%d)", rc);
    sqlite3_initialize();
    sqlite3_auto_extension((void (*)(void))on_open);
}

static struct store *open_ok(const char *path)
{
    struct store *st = NULL;
    char err[256] = "";
    int r = store_open(path, &st, err, sizeof(err));
    if (r < 0) {
        printf("# store_open %s: %d %s\n", path, r, err);
        return NULL;
    }
    return st;
}

static int exec_on(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* ---- rows ---- */

static const int64_t T0 = 1767225600000; /* 2026-01-01 */

static void placement_fill(struct placement_row *p, struct piece_row pieces[2], const char *id,
                           const char *key)
{
    memset(p, 0, sizeof(*p));
    memset(pieces, 0, 2 * sizeof(*pieces));
    snprintf(p->id, sizeof(p->id), "%s", id);
    snprintf(p->tenant, sizeof(p->tenant), "acme");
    snprintf(p->state, sizeof(p->state), "held");
    snprintf(p->decision_id, sizeof(p->decision_id), "d-%s", id);
    p->created_at = T0;
    p->expires_at = T0 + 86400000;
    p->hours = 10;
    snprintf(p->precision, sizeof(p->precision), "bf16");
    snprintf(p->voucher, sizeof(p->voucher), "v1");
    snprintf(p->currency, sizeof(p->currency), "CNY");
    p->list_total = 3000;
    p->subsidy = 0;
    p->effective_total = 3000;
    snprintf(p->idempotency_key, sizeof(p->idempotency_key), "%s", key ? key : "");
    snprintf(p->request_hash, sizeof(p->request_hash), "%064d", 7);
    for (int i = 0; i < 2; i++) {
        snprintf(pieces[i].center, sizeof(pieces[i].center), "%s", i ? "bj-b" : "sh-a");
        snprintf(pieces[i].region, sizeof(pieces[i].region), "%s",
                 i ? "cn-beijing" : "cn-shanghai");
        snprintf(pieces[i].model, sizeof(pieces[i].model), "A100");
        pieces[i].cards = 8 + i * 4;
        pieces[i].price = 12.5;
        pieces[i].rtt_ms = 3 + i;
        pieces[i].list_total = 1500;
        pieces[i].effective_total = 1500;
    }
    p->pieces = pieces;
    p->npieces = 2;
}

/* A hold: its decision and placement in one transaction, as the API writes them. */
static int hold_write(struct store *st, const char *id, const char *key, const char *record)
{
    struct placement_row p;
    struct piece_row pieces[2];
    placement_fill(&p, pieces, id, key);
    struct decision_row d = {.at = T0, .record = (char *)record};
    snprintf(d.id, sizeof(d.id), "d-%s", id);
    snprintf(d.tenant, sizeof(d.tenant), "acme");
    snprintf(d.outcome, sizeof(d.outcome), "placed");
    int r = store_begin(st);
    if (r < 0)
        return r;
    r = store_decision_insert(st, &d);
    if (r == 0)
        r = store_placement_insert(st, &p);
    if (r == 0)
        r = store_commit(st);
    else
        store_rollback(st);
    return r;
}

/* 1 when the hold is there whole, 0 when not at all, -1 when in part or unreadable. */
static int hold_present(struct store *st, const char *id)
{
    struct placement_row p;
    struct decision_row d;
    char did[40];
    snprintf(did, sizeof(did), "d-%s", id);
    int rp = store_placement_get(st, id, &p);
    int rd = store_decision_get(st, did, &d);
    int out = -1;
    if (rp == 0 && rd == 0)
        out = p.npieces == 2 && p.pieces[1].cards == 12 && d.record && d.record[0] ? 1 : -1;
    else if (rp == -ENOENT && rd == -ENOENT)
        out = 0;
    if (rp == 0)
        store_placement_free(&p);
    if (rd == 0)
        free(d.record);
    return out;
}

/* ---- sweeps: open ---- */

static const char *errno_verdict(int r, const char *what)
{
    static char msg[300];
    if (r == -ENOMEM)
        return NULL;
    snprintf(msg, sizeof(msg), "%s returned %d (%s), not -ENOMEM; SQLite said %d: %s", what, r,
             strerror(-r), last_db ? sqlite3_extended_errcode(last_db) : 0,
             last_db ? sqlite3_errmsg(last_db) : "-");
    return msg;
}

static const char *before_new_file(void *ctx)
{
    (void)ctx;
    check_remove_db(db_path);
    return NULL;
}

static const char *op_open(void *ctx, int *ret)
{
    struct store *st = (struct store *)&st;
    char err[256] = "";
    bool load = ctx != NULL;
    int r = store_open(db_path, &st, err, sizeof(err));
    if (r == 0 && load) {
        struct catalog cat;
        r = store_load_catalog(st, &cat);
        if (r == 0)
            catalog_free(&cat);
    }
    *ret = r;
    if (r == 0 || (load && st != (struct store *)&st)) {
        store_close(st);
        return r == 0 ? NULL : errno_verdict(r, "store_load_catalog");
    }
    if (st != (struct store *)&st)
        return "store_open failed but set *ret";
    if (!err[0])
        return "store_open failed without a message";
    static char msg[400];
    if (r != -ENOMEM) {
        snprintf(msg, sizeof(msg), "store_open returned %d: %s", r, err);
        return msg;
    }
    return NULL;
}

/* A failed open must leave a file that opens whole once memory is back. */
static const char *after_open(void *ctx, int r)
{
    (void)ctx;
    if (r == 0)
        return NULL;
    struct store *st = open_ok(db_path);
    if (!st)
        return "the file does not open after a failed open";
    struct catalog cat;
    static char msg[200];
    int rc = store_load_catalog(st, &cat);
    size_t n = rc == 0 ? cat.nentries : 0;
    if (rc == 0)
        catalog_free(&cat);
    store_close(st);
    if (rc == 0 && n > 0)
        return NULL;
    snprintf(msg, sizeof(msg), "after a failed open the catalog has %zu entries (%d)", n, rc);
    return msg;
}

static void test_open_sweeps(void)
{
    struct failalloc_sweep fresh = {.name = "store_open of a new file (migrations), store_close",
                                    .before = before_new_file,
                                    .op = op_open,
                                    .after = after_open,
                                    .other_live = sqlite_live,
                                    .stride = 97};
    failalloc_sweep(&fresh, NULL);
    check_remove_db(db_path);
    struct store *st = open_ok(db_path);
    store_close(st);
    struct failalloc_sweep again = {.name = "store_open of a migrated file, load the catalog",
                                    .op = op_open,
                                    .after = after_open,
                                    .other_live = sqlite_live,
                                    .stride = 7};
    failalloc_sweep(&again, &again);
}

/* ---- sweeps: an open store ---- */

struct live_store {
    struct store *st;
    unsigned long seq; /* ids of fresh rows */
    char id[40];
    double balance; /* the voucher's, before the op */
    size_t ledger;  /* its ledger rows, before the op */
};

static const char *before_fresh_id(void *ctx)
{
    struct live_store *ls = ctx;
    snprintf(ls->id, sizeof(ls->id), "pl-%lu", ++ls->seq);
    return NULL;
}

static const char *op_hold(void *ctx, int *ret)
{
    struct live_store *ls = ctx;
    char key[64];
    snprintf(key, sizeof(key), "key-%s", ls->id);
    *ret = hold_write(ls->st, ls->id, key, "{\"pools\":[1,2,3]}");
    return *ret == 0 ? NULL : errno_verdict(*ret, "the hold");
}

static const char *after_hold(void *ctx, int r)
{
    struct live_store *ls = ctx;
    int present = hold_present(ls->st, ls->id);
    if (present < 0)
        return "the hold is there in part";
    if (r == 0 && present != 1)
        return "an acknowledged hold is missing";
    if (r < 0 && present != 0)
        return "a failed hold left rows behind";
    return NULL;
}

static const char *op_reads(void *ctx, int *ret)
{
    struct live_store *ls = ctx;
    struct placement_row p, *list = (struct placement_row *)1;
    size_t n = 7;
    const char *what = NULL;
    memset(&p, 0xa5, sizeof(p));
    struct piece_row *untouched = p.pieces;
    int r = store_placement_get(ls->st, "pl-keep", &p);
    if (r == 0) {
        if (p.npieces != 2)
            what = "store_placement_get: pieces missing";
        store_placement_free(&p);
    } else if (p.pieces && p.pieces != untouched) {
        what = "store_placement_get failed but left pieces";
    }
    if (r == 0) {
        r = store_placement_by_key(ls->st, "acme", "key-keep", &p);
        if (r == 0)
            store_placement_free(&p);
    }
    if (r == 0) {
        r = store_placements_list(ls->st, "acme", 20, &list, &n);
        if (r == 0)
            store_placements_free(list, n);
        else if (list != (struct placement_row *)1 || n != 7)
            what = "store_placements_list failed but set its outputs";
    }
    if (r == 0) {
        struct decision_row d, *ds;
        r = store_decision_get(ls->st, "d-pl-keep", &d);
        if (r == 0)
            free(d.record);
        if (r == 0)
            r = store_decisions_list(ls->st, NULL, 20, &ds, &n);
        if (r == 0)
            store_decisions_free(ds, n);
    }
    if (r == 0) {
        struct center_row *cs;
        r = store_centers_load(ls->st, NULL, &cs, &n);
        if (r == 0)
            store_centers_free(cs, n);
    }
    if (r == 0) {
        struct pool_row *ps;
        r = store_pools_load(ls->st, NULL, &ps, &n);
        if (r == 0)
            store_pools_free(ps, n);
        if (r == 0)
            r = store_feed_pools_load(ls->st, "sh-a", &ps, &n);
        if (r == 0)
            store_pools_free(ps, n);
    }
    if (r == 0) {
        struct pool_usage *u;
        r = store_pool_usage(ls->st, T0, &u, &n);
        if (r == 0)
            free(u);
    }
    if (r == 0) {
        struct store_stats stats;
        r = store_stats_load(ls->st, T0, &stats);
    }
    if (r == 0) {
        struct voucher_row v, *vs;
        struct ledger_row *l;
        r = store_voucher_get(ls->st, "v1", &v);
        if (r == 0)
            free(v.eligible_json);
        if (r == 0)
            r = store_vouchers_list(ls->st, "acme", &vs, &n);
        if (r == 0)
            store_vouchers_free(vs, n);
        if (r == 0)
            r = store_voucher_ledger(ls->st, "v1", &l, &n);
        if (r == 0)
            free(l);
    }
    if (r == 0) {
        struct issuer_report *rep;
        r = store_voucher_report(ls->st, NULL, &rep, &n);
        if (r == 0)
            store_voucher_report_free(rep, n);
    }
    *ret = r;
    if (what)
        return what;
    return r == 0 ? NULL : errno_verdict(r, "a load");
}

static int voucher_state(struct store *st, double *balance, size_t *nledger)
{
    struct voucher_row v;
    struct ledger_row *l;
    int r = store_voucher_get(st, "v1", &v);
    if (r < 0)
        return r;
    free(v.eligible_json);
    *balance = v.balance;
    r = store_voucher_ledger(st, "v1", &l, nledger);
    if (r == 0)
        free(l);
    return r;
}

static const char *before_confirm(void *ctx)
{
    struct live_store *ls = ctx;
    before_fresh_id(ctx);
    int r = hold_write(ls->st, ls->id, NULL, "{}");
    if (r < 0)
        return errno_verdict(r, "writing the hold to confirm");
    return voucher_state(ls->st, &ls->balance, &ls->ledger) < 0 ? "cannot read the voucher" : NULL;
}

/* A confirm: draw the subsidy, set the money, move the state; all or nothing. */
static const char *op_confirm(void *ctx, int *ret)
{
    struct live_store *ls = ctx;
    double balance;
    int r = store_begin(ls->st);
    if (r == 0)
        r = store_voucher_move(ls->st, "v1", "draw", -10, ls->id, T0 + 1000, "confirm", &balance);
    if (r == 0)
        r = store_placement_set_money(ls->st, ls->id, 10, 0);
    if (r == 0)
        r = store_placement_transition(ls->st, ls->id, "held", "confirmed", T0 + 1000);
    if (r == 0)
        r = store_commit(ls->st);
    else
        store_rollback(ls->st);
    *ret = r;
    return r == 0 ? NULL : errno_verdict(r, "the confirm");
}

static const char *after_confirm(void *ctx, int r)
{
    struct live_store *ls = ctx;
    double balance;
    size_t nledger;
    struct placement_row p;
    if (voucher_state(ls->st, &balance, &nledger) < 0 ||
        store_placement_get(ls->st, ls->id, &p) < 0)
        return "cannot read back after the confirm";
    bool confirmed = strcmp(p.state, "confirmed") == 0;
    bool drawn = p.subsidy > 9.99;
    store_placement_free(&p);
    if (r == 0 &&
        (!confirmed || !drawn || nledger != ls->ledger + 1 || balance > ls->balance - 9.99))
        return "an acknowledged confirm is missing in part";
    if (r < 0 && (confirmed || drawn || nledger != ls->ledger || balance != ls->balance))
        return "a failed confirm left part of itself";
    return NULL;
}

static const char *op_center(void *ctx, int *ret)
{
    struct live_store *ls = ctx;
    struct feed_config feeds[2] = {
        {.adapter = "native", .mode = "push", .interval_s = 60},
        {.adapter = "slurm",
         .mode = "pull",
         .url = "http://127.0.0.1:1/slurm",
         .interval_s = 30,
         .options_json = "{\"partition\":\"gpu\"}"},
    };
    struct center_row c = {.status = CENTER_ACTIVE,
                           .labels_json = "{\"grade\":\"dengbao3\"}",
                           .staleness_s = 600,
                           .created_at = T0,
                           .updated_at = T0,
                           .feeds = feeds,
                           .nfeeds = 2};
    snprintf(c.id, sizeof(c.id), "c-%s", ls->id);
    snprintf(c.name, sizeof(c.name), "center %s", ls->id);
    snprintf(c.operator_id, sizeof(c.operator_id), "op1");
    snprintf(c.region, sizeof(c.region), "cn-beijing");
    struct pool_row pools[2] = {
        {.model = "A100",
         .total = 64,
         .free = 20,
         .largest_block = 8,
         .price = 12.5,
         .spot_price = -1,
         .currency = "CNY",
         .memory_gib = -1,
         .domestic = -1,
         .observed_at = T0},
        {.model = "Ascend910B",
         .total = 128,
         .free = 100,
         .largest_block = 16,
         .price = 8,
         .spot_price = 4,
         .currency = "CNY",
         .vendor = "Huawei",
         .memory_gib = 64,
         .domestic = 1,
         .tflops_json = "{\"bf16\":320}",
         .observed_at = T0},
    };
    int r = store_begin(ls->st);
    if (r == 0)
        r = store_center_insert(ls->st, &c);
    if (r == 0)
        r = store_pools_replace(ls->st, c.id, pools, N(pools));
    if (r == 0)
        r = store_feed_pools_replace(ls->st, c.id, 0, pools, N(pools));
    if (r == 0)
        r = store_commit(ls->st);
    else
        store_rollback(ls->st);
    *ret = r;
    return r == 0 ? NULL : errno_verdict(r, "the center");
}

static const char *after_center(void *ctx, int r)
{
    struct live_store *ls = ctx;
    char id[65];
    struct center_row *cs = NULL;
    struct pool_row *ps = NULL;
    size_t n = 0, np = 0;
    snprintf(id, sizeof(id), "c-%s", ls->id);
    int rc = store_centers_load(ls->st, id, &cs, &n);
    int rp = store_pools_load(ls->st, id, &ps, &np);
    const char *what = NULL;
    if (rc == 0 && rp == 0) {
        if (r < 0 || n != 1 || cs[0].nfeeds != 2 || np != 2 || !cs[0].feeds[1].options_json)
            what = r < 0 ? "a failed center insert left rows" : "the center is there in part";
    } else if (rc != -ENOENT || rp != 0 || np != 0) {
        what = "cannot read the center back";
    } else if (r == 0) {
        what = "an acknowledged center is missing";
    }
    if (rc == 0)
        store_centers_free(cs, n);
    if (rp == 0)
        store_pools_free(ps, np);
    return what;
}

static void test_store_sweeps(void)
{
    check_remove_db(db_path);
    long sq_before = sq_live, before = failalloc_live();
    struct live_store ls = {.st = open_ok(db_path)};
    if (!CHECK(ls.st != NULL, "open a store for the sweeps"))
        return;
    /* Commits without fsync: the sweeps test memory, not durability. */
    store_set_fsync(ls.st, false);
    struct voucher_row v = {.id = "v1",
                            .issuer = "sh-gov",
                            .tenant = "acme",
                            .rate = 0.3,
                            .amount = 1e7,
                            .balance = 1e7,
                            .valid_from = T0,
                            .valid_until = T0 + 86400000000,
                            .created_at = T0};
    struct live_store tmp = ls;
    snprintf(tmp.id, sizeof(tmp.id), "setup");
    int r = store_tenant_add(ls.st, "acme", "Acme", T0);
    if (r == 0)
        r = store_begin(ls.st);
    if (r == 0)
        r = store_voucher_insert(ls.st, &v);
    if (r == 0)
        r = store_commit(ls.st);
    if (r == 0)
        r = hold_write(ls.st, "pl-keep", "key-keep", "{\"kept\":true}");
    int center_r = 0;
    if (r == 0)
        op_center(&tmp, &center_r);
    if (!CHECK(r == 0 && center_r == 0, "the sweeps' rows are written (%d, %d)", r, center_r)) {
        store_close(ls.st);
        return;
    }

    const struct failalloc_sweep sweeps[] = {
        {.name = "every load: placements, decisions, centers, pools, usage, stats, vouchers, "
                 "ledger, report",
         .op = op_reads,
         .stride = 7},
        {.name = "a hold: decision, placement and pieces in one transaction",
         .before = before_fresh_id,
         .op = op_hold,
         .after = after_hold},
        {.name = "a confirm: voucher draw, money, state in one transaction",
         .before = before_confirm,
         .op = op_confirm,
         .after = after_confirm},
        {.name = "a center with two feeds, its pools and a feed snapshot",
         .before = before_fresh_id,
         .op = op_center,
         .after = after_center},
    };
    for (size_t i = 0; i < N(sweeps); i++)
        failalloc_sweep(&sweeps[i], &ls);
    store_close(ls.st);
    CHECK(sq_live == sq_before && failalloc_live() == before,
          "store_close frees every block the sweeps left with SQLite (%ld) and us (%ld)",
          sq_live - sq_before, failalloc_live() - before);
}

/* ---- a full database ---- */

static int page_count(sqlite3 *db)
{
    sqlite3_stmt *s;
    int n = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA page_count", -1, &s, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return n;
}

static void test_disk_full(void)
{
    check_remove_db(db_path);
    struct store *st = open_ok(db_path);
    sqlite3 *db = last_db;
    if (!CHECK(st != NULL && db != NULL, "open a store to fill"))
        return;
    int r = store_tenant_add(st, "acme", "Acme", T0);
    if (r == 0)
        r = hold_write(st, "pl-first", "key-first", "{}");
    CHECK(r == 0, "a hold before the limit (%d)", r);

    /* Room for a few more pages, then the file may not grow. */
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %d", page_count(db) + 4);
    CHECK(exec_on(db, sql) == SQLITE_OK, "%s", sql);
    static char record[6000];
    memset(record, 'x', sizeof(record) - 1);
    record[0] = '"';
    record[sizeof(record) - 2] = '"';
    int acked = 0;
    char id[40];
    for (int i = 0; i < 200; i++) {
        snprintf(id, sizeof(id), "pl-%d", i);
        r = hold_write(st, id, NULL, record);
        if (r < 0)
            break;
        acked++;
    }
    CHECK(r == -ENOSPC, "a hold that does not fit fails with -ENOSPC (%d: %s) after %d fitted", r,
          strerror(-r), acked);
    CHECK(hold_present(st, id) == 0, "the hold that did not fit left nothing behind");
    int intact = hold_present(st, "pl-first") == 1;
    for (int i = 0; i < acked; i++) {
        snprintf(id, sizeof(id), "pl-%d", i);
        intact = intact && hold_present(st, id) == 1;
    }
    CHECK(intact, "every acknowledged hold is intact and readable while full");
    struct placement_row *list;
    size_t n = 0;
    r = store_placements_list(st, "acme", 1000, &list, &n);
    if (r == 0)
        store_placements_free(list, n);
    CHECK(r == 0 && n == (size_t)acked + 1, "listing still works while full (%d, %zu)", r, n);
    struct store_stats stats;
    CHECK(store_stats_load(st, T0, &stats) == 0 && stats.held == acked + 1,
          "the stats read still works while full");
    r = store_tenant_add(st, "acme2", "Acme 2", T0);
    CHECK(r == 0 || r == -ENOSPC, "a small write after full: done or -ENOSPC (%d)", r);

    /* Room again: writes go on without a restart, and nothing was lost. */
    CHECK(exec_on(db, "PRAGMA max_page_count = 1073741823") == SQLITE_OK, "lift the limit");
    r = hold_write(st, "pl-after", NULL, record);
    CHECK(r == 0, "a hold after room came back (%d)", r);
    store_close(st);
    st = open_ok(db_path);
    intact = st && hold_present(st, "pl-first") == 1 && hold_present(st, "pl-after") == 1;
    for (int i = 0; st && i < acked; i++) {
        snprintf(id, sizeof(id), "pl-%d", i);
        intact = intact && hold_present(st, id) == 1;
    }
    CHECK(intact, "after a reopen every acknowledged hold is there");
    store_close(st);
}

/* ---- a write lock held by another connection ---- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_locked(void)
{
    check_remove_db(db_path);
    struct store *st = open_ok(db_path);
    if (!CHECK(st != NULL, "open a store to lock"))
        return;
    int r = store_tenant_add(st, "acme", "Acme", T0);
    if (r == 0)
        r = hold_write(st, "pl-first", NULL, "{}");
    CHECK(r == 0, "a hold before the lock (%d)", r);

    sqlite3 *other = NULL;
    int rc = sqlite3_open_v2(db_path, &other, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK)
        rc = exec_on(other, "BEGIN EXCLUSIVE");
    if (rc == SQLITE_OK)
        rc = exec_on(other, "INSERT INTO tenants (id, name, created_at) VALUES ('x', 'x', 0)");
    CHECK(rc == SQLITE_OK, "another connection holds the write lock (%d)", rc);

    double t = now_s();
    r = hold_write(st, "pl-locked", NULL, "{}");
    double waited = now_s() - t;
    CHECK(r == -EBUSY, "a hold under the lock fails with -EBUSY (%d: %s)", r, strerror(-r));
    CHECK(waited >= 1.0 && waited < 10, "after waiting out the busy timeout (%.2f s)", waited);
    CHECK(store_tenant_add(st, "acme2", NULL, T0) == -EBUSY,
          "a write outside a transaction fails with -EBUSY too");
    CHECK(hold_present(st, "pl-first") == 1, "reads go on under the lock (WAL)");
    CHECK(hold_present(st, "pl-locked") == 0, "the refused hold left nothing behind");

    CHECK(exec_on(other, "ROLLBACK") == SQLITE_OK, "the other connection lets go");
    sqlite3_close(other);
    r = hold_write(st, "pl-after", NULL, "{}");
    CHECK(r == 0, "a hold after the lock is gone (%d)", r);
    CHECK(hold_present(st, "pl-first") == 1 && hold_present(st, "pl-after") == 1,
          "nothing was lost");
    store_close(st);
}

/* ---- a file that is not a database ---- */

static void test_corrupt(void)
{
    static char junk[8192];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (char)(i * 7 + 3);
    check_remove_db(db_path);
    FILE *f = fopen(db_path, "wb");
    size_t wrote = f ? fwrite(junk, 1, sizeof(junk), f) : 0;
    if (f)
        fclose(f);
    CHECK(wrote == sizeof(junk), "write a file of junk");
    struct store *st = (struct store *)&st;
    char err[256] = "";
    int r = store_open(db_path, &st, err, sizeof(err));
    CHECK(r == -EUCLEAN, "store_open refuses it with -EUCLEAN (%d)", r);
    CHECK(strstr(err, "not a database") != NULL, "and says why: %s", err);
    CHECK(st == (struct store *)&st, "*ret untouched");
    static char back[8192 + 1];
    f = fopen(db_path, "rb");
    size_t got = f ? fread(back, 1, sizeof(back), f) : 0;
    if (f)
        fclose(f);
    CHECK(got == sizeof(junk) && memcmp(back, junk, sizeof(junk)) == 0,
          "the file is left as it was");
}

int main(void)
{
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/suanwang-store.XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(db_path, sizeof(db_path), "%s/broker.db", dir);
    failalloc_install_cjson();
    sqlite_setup();
    test_corrupt();
    test_locked();
    test_disk_full();
    test_store_sweeps();
    test_open_sweeps();
    check_remove_db(db_path);
    rmdir(dir);
    return check_done();
}
