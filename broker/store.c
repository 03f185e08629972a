/*
 * store — SQLite persistence. Opens the file in WAL mode with foreign keys,
 * applies the embedded migrations in order (PRAGMA user_version), and maps
 * rows to the plain structs of store.h. Statements are prepared per call:
 * simple, and cheap next to the fsync of a commit. Not a cache: inventory.c
 * keeps what routing reads often.
 */
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "embedded.h"

/*
 * Statements run on every request, prepared once at open and reset after each
 * use: preparing them was a fifth of a quote's time.
 */
enum kept {
    KEPT_TOKEN_FIND,
    KEPT_DECISION_INSERT,
    KEPT_EXPIRE,
    KEPT_NEXT_EXPIRY,
    KEPT_PLACEMENT_INSERT,
    KEPT_PIECE_INSERT,
    KEPT_FEED_SUCCESS,
    KEPT_FEED_SUCCESS_WIDE,
    KEPT_POOLS_KEYS,
    KEPT_POOLS_KEYS_CENTERS,
    KEPT_POOLS_DELETE_ONE,
    KEPT_POOLS_UPSERT,
    KEPT_POOLS_UPSERT_MANY,
    KEPT_POOLS_UPSERT_WIDE,
    KEPT_FEED_POOLS_DELETE,
    KEPT_FEED_POOLS_INSERT,
    KEPT_FEED_POOLS_INSERT_MANY,
    KEPT_FEED_POOLS_INSERT_WIDE,
    KEPT_FEED_POOLS_LOAD,
    KEPT_FEED_SNAPSHOTS_LOAD,
    KEPT_FEED_POOLS_OTHERS,
    KEPT_FEED_POOLS_CENTERS,
    KEPT_FEED_POOLS_ANY,
    KEPT_SAVEPOINT,
    KEPT_RELEASE,
    KEPT_COUNT
};

/*
 * A snapshot's rows are inserted POOLS_PER_INSERT to a statement: one statement
 * per row spent as much again on running the statement as on the row. The rows
 * of a batch of feeds (store_pools_put_centers) go POOLS_PER_WIDE_INSERT to a
 * statement: each statement that may fail half-way also copies every page it
 * touches to its statement journal, so fewer statements cost less. Parameters
 * are numbered in order (plain "?"), POOL_COLUMNS or FEED_POOL_COLUMNS to a row.
 */
#define POOLS_PER_INSERT 4
#define POOLS_PER_WIDE_INSERT 32
#define POOL_COLUMNS 13
#define POOLS_INSERT                                                                               \
    "INSERT INTO pools (center, model, total, free, largest_block, price, spot_price, "            \
    "currency, vendor, memory_gib, domestic, tflops, observed_at) VALUES "
#define POOL_VALUES "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
/* A pool already there is updated in place: no delete and insert of a row and its key. */
#define POOLS_UPSERT_SET                                                                           \
    " ON CONFLICT (center, model) DO UPDATE SET total = excluded.total, free = excluded.free, "    \
    "largest_block = excluded.largest_block, price = excluded.price, "                             \
    "spot_price = excluded.spot_price, currency = excluded.currency, vendor = excluded.vendor, "   \
    "memory_gib = excluded.memory_gib, domestic = excluded.domestic, tflops = excluded.tflops, "   \
    "observed_at = excluded.observed_at"
#define FEED_POOL_COLUMNS 16
#define FEED_POOLS_INSERT                                                                          \
    "INSERT INTO feed_pools (center, idx, model, has_counts, total, free, largest_block, "         \
    "has_price, price, spot_price, currency, vendor, memory_gib, domestic, tflops, "               \
    "observed_at) VALUES "
#define FEED_POOL_VALUES "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
#define VALUES_4(v) v ", " v ", " v ", " v
#define VALUES_32(v)                                                                               \
    VALUES_4(v)                                                                                    \
    ", " VALUES_4(v) ", " VALUES_4(v) ", " VALUES_4(v) ", " VALUES_4(v) ", " VALUES_4(             \
        v) ", " VALUES_4(v) ", " VALUES_4(v)
/*
 * The centers of a batch are named CENTERS_PER_LIST to a statement, unused slots
 * NULL, while a list is at least a quarter full: SQLite builds a table of the list
 * for each run, which costs more than a statement per center for a few.
 */
#define CENTERS_PER_LIST 64
#define FEEDS_PER_UPDATE 32
#define FEED_OK_VALUES "(?, ?, ?, ?, ?)"
#define FEED_OK_LIST VALUES_32(FEED_OK_VALUES)
#define PARAMS_8 "?, ?, ?, ?, ?, ?, ?, ?"
#define CENTER_LIST                                                                                \
    "(" PARAMS_8 ", " PARAMS_8 ", " PARAMS_8 ", " PARAMS_8 ", " PARAMS_8 ", " PARAMS_8             \
    ", " PARAMS_8 ", " PARAMS_8 ")"
#define FEED_POOLS_SELECT                                                                          \
    "SELECT center, idx, model, has_counts, total, free, largest_block, "                          \
    "has_price, price, spot_price, currency, vendor, memory_gib, domestic, "                       \
    "tflops, observed_at FROM feed_pools "
/* The snapshot of a feed kept as its center's pools (feeds.in_pools), as its feed_pools rows. */
#define IN_POOLS_SELECT                                                                            \
    "SELECT p.center, f.idx, p.model, 1, p.total, p.free, p.largest_block, 1, p.price, "           \
    "p.spot_price, p.currency, p.vendor, p.memory_gib, p.domestic, p.tflops, p.observed_at "       \
    "FROM feeds f JOIN pools p ON p.center = f.center WHERE f.in_pools = 1 "

static const char *const kept_sql[KEPT_COUNT] = {
    [KEPT_TOKEN_FIND] = "SELECT role, subject FROM tokens WHERE hash = ?1",
    [KEPT_DECISION_INSERT] =
        "INSERT INTO decisions (id, tenant, at, outcome, record, seq, epoch, inputs) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [KEPT_EXPIRE] =
        "UPDATE placements SET state = 'expired', ended_at = expires_at, ended_seq = ?2 "
        "WHERE state = 'held' AND expires_at <= ?1",
    [KEPT_NEXT_EXPIRY] = "SELECT MIN(expires_at) FROM placements WHERE state = 'held'",
    [KEPT_PLACEMENT_INSERT] =
        "INSERT INTO placements (id, tenant, state, decision_id, created_at, expires_at, "
        "confirmed_at, ended_at, hours, precision, voucher, currency, list_total, "
        "subsidy, effective_total, idempotency_key, request_hash, created_seq) VALUES "
        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
    [KEPT_PIECE_INSERT] =
        "INSERT INTO placement_pieces (placement, seq, center, model, cards, price, rtt_ms, "
        "list_total, subsidy, effective_total, region) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
        "?8, ?9, ?10, ?11)",
    /* And those of every feed poll: a thousand feeds polled at once spent a third of their time
       preparing these. */
    [KEPT_FEED_SUCCESS] = "UPDATE feeds SET last_success = ?4, last_error = NULL, "
                          "last_error_at = NULL, "
                          "warning = CASE WHEN ?6 < 0 THEN warning ELSE ?5 END, "
                          "pools_seen = CASE WHEN ?6 < 0 THEN pools_seen ELSE ?6 END "
                          "WHERE center = ?1 AND idx = ?2 AND ?3 IS NULL",
    /* KEPT_FEED_SUCCESS for FEEDS_PER_UPDATE feeds (center, idx, warning, pools_seen,
       in_pools) at once; rows with a NULL center match none. */
    [KEPT_FEED_SUCCESS_WIDE] =
        "UPDATE feeds SET last_success = ?1, last_error = NULL, last_error_at = NULL, "
        "warning = v.column3, pools_seen = v.column4, in_pools = v.column5 "
        "FROM (VALUES " FEED_OK_LIST ") AS v "
        "WHERE feeds.center = v.column1 AND feeds.idx = v.column2",
    /* The pools a batch's centers have, to find those their new snapshots no longer list. */
    [KEPT_POOLS_KEYS] = "SELECT center, model FROM pools WHERE center = ?1 ORDER BY model",
    [KEPT_POOLS_KEYS_CENTERS] =
        "SELECT center, model FROM pools WHERE center IN " CENTER_LIST " ORDER BY center, model",
    [KEPT_POOLS_DELETE_ONE] = "DELETE FROM pools WHERE center = ?1 AND model = ?2",
    [KEPT_POOLS_UPSERT] = POOLS_INSERT POOL_VALUES POOLS_UPSERT_SET,
    [KEPT_POOLS_UPSERT_MANY] = POOLS_INSERT POOL_VALUES ", " POOL_VALUES ", " POOL_VALUES
                                                        ", " POOL_VALUES POOLS_UPSERT_SET,
    [KEPT_POOLS_UPSERT_WIDE] = POOLS_INSERT VALUES_32(POOL_VALUES) POOLS_UPSERT_SET,
    [KEPT_FEED_POOLS_DELETE] = "DELETE FROM feed_pools WHERE center = ?1 AND idx = ?2",
    [KEPT_FEED_POOLS_INSERT] = FEED_POOLS_INSERT FEED_POOL_VALUES,
    [KEPT_FEED_POOLS_INSERT_MANY] = FEED_POOLS_INSERT FEED_POOL_VALUES
    ", " FEED_POOL_VALUES ", " FEED_POOL_VALUES ", " FEED_POOL_VALUES,
    [KEPT_FEED_POOLS_INSERT_WIDE] = FEED_POOLS_INSERT VALUES_32(FEED_POOL_VALUES),
    [KEPT_FEED_POOLS_LOAD] = FEED_POOLS_SELECT "WHERE center = ?1 ORDER BY idx, model",
    /* Every snapshot of a center, those kept as its pools included. */
    [KEPT_FEED_SNAPSHOTS_LOAD] = FEED_POOLS_SELECT "WHERE center = ?1 UNION ALL " IN_POOLS_SELECT
                                                   "AND f.center = ?1 ORDER BY 2, 3",
    /* The snapshots of a center's other feeds, to merge with the one just written. */
    [KEPT_FEED_POOLS_OTHERS] =
        FEED_POOLS_SELECT "WHERE center = ?1 AND idx <> ?2 UNION ALL " IN_POOLS_SELECT
                          "AND f.center = ?1 AND f.idx <> ?2 ORDER BY 2, 3",
    /* The snapshots of every feed of a batch's centers. */
    [KEPT_FEED_POOLS_CENTERS] =
        FEED_POOLS_SELECT "WHERE center IN " CENTER_LIST " ORDER BY center, idx, model",
    /* Whether any snapshot is kept apart from the pools at all. */
    [KEPT_FEED_POOLS_ANY] = "SELECT 1 FROM feed_pools LIMIT 1",
    /* Each feed of a batch commit is applied inside its own savepoint (or the feeds applied
       together, inventory_apply_batch, inside one). */
    [KEPT_SAVEPOINT] = "SAVEPOINT one",
    [KEPT_RELEASE] = "RELEASE one",
};

/* Statements prep() keeps, by their text. */
#define STORE_CACHED_STMTS 96

struct cached_stmt {
    uint64_t hash; /* of the text */
    sqlite3_stmt *s;
    bool busy; /* handed out by prep(), not given back by done() yet */
};

struct store {
    sqlite3 *db;                    /* owned */
    sqlite3_stmt *rollback;         /* owned; prepared at open, so that undoing needs no memory */
    sqlite3_stmt *sp_begin;         /* owned; SAVEPOINT of a transaction inside a group */
    sqlite3_stmt *sp_undo;          /* owned; ROLLBACK TO it */
    sqlite3_stmt *sp_release;       /* owned; RELEASE it */
    bool group;                     /* a group commit is open (store_group_begin) */
    bool fsync;                     /* commits sync (store_set_fsync) */
    bool group_sync_off;            /* the group runs with synchronous=NORMAL */
    bool sync_lost;                 /* synchronous=FULL could not be set back after a group */
    int64_t group_changes0;         /* sqlite3_total_changes64 when the group began */
    int64_t group_unsynced;         /* rows changed by the group's commits made without fsync */
    int64_t step_changes0;          /* sqlite3_total_changes64 at the group's last store_begin */
    sqlite3_stmt *kept[KEPT_COUNT]; /* owned; the statements of every request, prepared once */
    int64_t next_expiry;            /* no hold expires before this (valid when known) */
    bool next_expiry_known;
    int64_t seq;                                   /* the last decision seq handed out */
    uint64_t placement_changes;                    /* transitions and expiries so far */
    struct cached_stmt cached[STORE_CACHED_STMTS]; /* owned: prep()'s statements */
    size_t ncached;
};

static int errno_of(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return 0;
    case SQLITE_CONSTRAINT:
        return -EEXIST;
    case SQLITE_NOMEM:
        return -ENOMEM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return -EBUSY;
    case SQLITE_FULL:
        return -ENOSPC;
    case SQLITE_READONLY:
        return -EROFS;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return -EUCLEAN;
    case SQLITE_NOTFOUND:
        return -ENOENT;
    default:
        return -EIO;
    }
}

const char *store_errmsg(struct store *st)
{
    return st && st->db ? sqlite3_errmsg(st->db) : "no database";
}

const struct embedded_file *embedded_find(const char *name)
{
    for (size_t i = 0; embedded_files[i].name; i++) {
        if (strcmp(embedded_files[i].name, name) == 0)
            return &embedded_files[i];
    }
    return NULL;
}

/*
 * Prepares sql; on failure returns a negative errno. Text is bound with
 * SQLITE_STATIC: a copy (SQLITE_TRANSIENT) needs memory, and a bind that fails
 * is not seen by the step, which would then write NULL in its place. So a
 * bound string must stay unchanged until the statement is finalized.
 */
static int prep_once(struct store *st, const char *sql, sqlite3_stmt **ret)
{
    int rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, ret, NULL);
    return rc == SQLITE_OK ? 0 : errno_of(rc);
}

static uint64_t sql_hash(const char *sql)
{
    uint64_t h = 14695981039346656037ull; /* FNV-1a */
    for (; *sql; sql++)
        h = (h ^ (unsigned char)*sql) * 1099511628211ull;
    return h;
}

/*
 * As prep_once, but a statement is prepared once per text and kept: done()
 * gives it back, reset, for the next call with the same text (compiling SQL
 * costs more than running most of it). A text in use (a nested call) or past
 * the cache's size gets a statement of its own, finalized by done().
 */
static int prep(struct store *st, const char *sql, sqlite3_stmt **ret)
{
    uint64_t h = sql_hash(sql);
    for (size_t i = 0; i < st->ncached; i++) {
        struct cached_stmt *c = &st->cached[i];
        if (c->hash == h && !c->busy && strcmp(sqlite3_sql(c->s), sql) == 0) {
            c->busy = true;
            *ret = c->s;
            return 0;
        }
    }
    int r = prep_once(st, sql, ret);
    if (r == 0 && st->ncached < STORE_CACHED_STMTS)
        st->cached[st->ncached++] = (struct cached_stmt){.hash = h, .s = *ret, .busy = true};
    return r;
}

/* Done with a statement from prep(): reset and kept when cached, else finalized. */
static void done(struct store *st, sqlite3_stmt *s)
{
    for (size_t i = 0; i < st->ncached; i++) {
        if (st->cached[i].s == s) {
            sqlite3_reset(s);
            sqlite3_clear_bindings(s); /* they may point at the caller's strings */
            st->cached[i].busy = false;
            return;
        }
    }
    sqlite3_finalize(s);
}

/* Steps a statement that returns no rows, then is done with it. */
static int run(struct store *st, sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    done(st, s);
    return rc == SQLITE_DONE ? 0 : errno_of(rc);
}

/* A kept statement, ready to bind (see enum kept). */
static sqlite3_stmt *kept(struct store *st, enum kept k)
{
    return st->kept[k];
}

/* Done with a kept statement: reset, bindings cleared (they may point at the caller's strings). */
static void kept_done(sqlite3_stmt *s)
{
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

/* run() for a kept statement. */
static int run_kept(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    kept_done(s);
    return rc == SQLITE_DONE ? 0 : errno_of(rc);
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v && *v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

static void bind_opt_i64(sqlite3_stmt *s, int i, int64_t v)
{
    if (v)
        sqlite3_bind_int64(s, i, v);
    else
        sqlite3_bind_null(s, i);
}

static void col_copy(sqlite3_stmt *s, int i, char *dst, size_t len)
{
    const char *t = (const char *)sqlite3_column_text(s, i);
    size_t n = t ? strnlen(t, len - 1) : 0; /* not snprintf: every row read comes through here */
    memcpy(dst, t ? t : "", n);
    dst[n] = '\0';
}

/* A malloc'ed copy of a text column, NULL for SQL NULL; *oom set on failure. */
static char *col_dup(sqlite3_stmt *s, int i, bool *oom)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    if (!t)
        return NULL;
    char *d = strdup((const char *)t);
    if (!d)
        *oom = true;
    return d;
}

/* Grows a row array by one element; returns the new element or NULL. */
static void *grow(void **arr, size_t *n, size_t *cap, size_t size)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        void *p = realloc(*arr, nc * size);
        if (!p)
            return NULL;
        *arr = p;
        *cap = nc;
    }
    void *el = (char *)*arr + (*n)++ * size;
    memset(el, 0, size);
    return el;
}

static int migrate(struct store *st, char *errbuf, size_t errlen)
{
    sqlite3_stmt *s;
    int version = 0, r = prep(st, "PRAGMA user_version", &s);
    if (r == 0) {
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
            version = sqlite3_column_int(s, 0);
        else
            r = errno_of(rc) ? errno_of(rc) : -EIO;
        done(st, s);
    }
    if (r < 0) {
        snprintf(errbuf, errlen, "reading the schema version: %s", sqlite3_errmsg(st->db));
        return r;
    }

    for (size_t i = 0; embedded_files[i].name; i++) {
        const struct embedded_file *f = &embedded_files[i];
        int num = atoi(f->name);
        size_t nl = strlen(f->name);
        if (num <= version || nl < 4 || strcmp(f->name + nl - 4, ".sql") != 0)
            continue;
        char *msg = NULL, pragma[64];
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", num);
        int rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, &msg);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(st->db, f->data, NULL, NULL, &msg);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(st->db, pragma, NULL, NULL, &msg);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, &msg);
        if (rc != SQLITE_OK) {
            snprintf(errbuf, errlen, "migration %s failed: %s", f->name,
                     msg ? msg : sqlite3_errmsg(st->db));
            sqlite3_free(msg);
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
            return errno_of(rc);
        }
        version = num;
    }
    return 0;
}

int store_open(const char *path, struct store **ret, char *errbuf, size_t errlen)
{
    if (errlen)
        errbuf[0] = '\0';
    struct store *st = calloc(1, sizeof(*st));
    if (!st) {
        snprintf(errbuf, errlen, "out of memory");
        return -ENOMEM;
    }
    st->fsync = true;
    /* Before SQLite's first use in the process (later calls fail, harmlessly): no memory
     * statistics, which we never read and which cost a global mutex around every allocation. */
    static bool configured;
    if (!configured) {
        configured = true;
        sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    }
    int rc = sqlite3_open_v2(
        path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(errbuf, errlen, "cannot open database %s: %s", path,
                 st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        store_close(st);
        return errno_of(rc);
    }
    sqlite3_busy_timeout(st->db, 2000);
    /* WAL with synchronous=FULL: a commit is on disk before we answer. */
    static const char *const pragmas[] = {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                                          "PRAGMA foreign_keys=ON", "PRAGMA temp_store=MEMORY",
                                          NULL};
    for (size_t i = 0; pragmas[i]; i++) {
        char *msg = NULL;
        rc = sqlite3_exec(st->db, pragmas[i], NULL, NULL, &msg);
        if (rc != SQLITE_OK) {
            snprintf(errbuf, errlen, "database %s: %s: %s", path, pragmas[i],
                     msg ? msg : sqlite3_errmsg(st->db));
            sqlite3_free(msg);
            store_close(st);
            return errno_of(rc);
        }
    }
    int r = migrate(st, errbuf, errlen);
    sqlite3_stmt *s;
    if (r == 0)
        /*
         * Past every decision and every stamped transition: a quote's decision
         * is written without waiting for the disk, so a crash can lose the
         * last ones, but never a transition stamped after them.
         */
        r = prep(st,
                 "SELECT MAX((SELECT COALESCE(MAX(seq), 0) FROM decisions), "
                 "(SELECT COALESCE(MAX(created_seq), 0) FROM placements), "
                 "(SELECT COALESCE(MAX(confirmed_seq), 0) FROM placements), "
                 "(SELECT COALESCE(MAX(ended_seq), 0) FROM placements))",
                 &s);
    if (r == 0) {
        if (sqlite3_step(s) == SQLITE_ROW)
            st->seq = sqlite3_column_int64(s, 0);
        else
            r = errno_of(sqlite3_errcode(st->db));
        done(st, s);
        if (r < 0)
            snprintf(errbuf, errlen, "reading the decisions: %s", sqlite3_errmsg(st->db));
    }
    if (r == 0)
        r = prep_once(st, "ROLLBACK", &st->rollback);
    if (r == 0)
        r = prep_once(st, "SAVEPOINT tx", &st->sp_begin);
    if (r == 0)
        r = prep_once(st, "ROLLBACK TO tx", &st->sp_undo);
    if (r == 0)
        r = prep_once(st, "RELEASE tx", &st->sp_release);
    for (int k = 0; r == 0 && k < KEPT_COUNT; k++)
        r = prep_once(st, kept_sql[k], &st->kept[k]);
    if (r < 0) {
        if (errlen && !errbuf[0])
            snprintf(errbuf, errlen, "opening database %s: %s", path, sqlite3_errmsg(st->db));
        store_close(st);
        return r;
    }
    *ret = st;
    return 0;
}

void store_close(struct store *st)
{
    if (!st)
        return;
    sqlite3_finalize(st->rollback);
    sqlite3_finalize(st->sp_begin);
    sqlite3_finalize(st->sp_undo);
    sqlite3_finalize(st->sp_release);
    for (int k = 0; k < KEPT_COUNT; k++)
        sqlite3_finalize(st->kept[k]);
    for (size_t i = 0; i < st->ncached; i++)
        sqlite3_finalize(st->cached[i].s);
    sqlite3_close(st->db);
    free(st);
}

/* Steps a prepared statement that returns no rows and resets it. */
static int step_reset(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : errno_of(rc) ? errno_of(rc) : -EIO;
}

/* Back to synchronous=FULL after a group; until it is, no transaction begins. */
static int sync_restore(struct store *st)
{
    int rc = sqlite3_exec(st->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : errno_of(rc) ? errno_of(rc) : -EIO;
}

/* Syncs the write-ahead log: what the last commits wrote to it is on disk after this. */
static int wal_sync(struct store *st)
{
    sqlite3_file *f = NULL;
    int rc = sqlite3_file_control(st->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f);
    if (rc != SQLITE_OK || !f || !f->pMethods)
        return -EIO;
    rc = f->pMethods->xSync(f, SQLITE_SYNC_NORMAL);
    return rc == SQLITE_OK ? 0 : errno_of(rc) ? errno_of(rc) : -EIO;
}

int store_group_begin(struct store *st)
{
    if (st->group || !sqlite3_get_autocommit(st->db))
        return -EBUSY;
    if (st->sync_lost && (st->sync_lost = sync_restore(st) < 0))
        return -ENOMEM;
    /*
     * SQLite fixes a commit's sync when its transaction begins, and the group
     * does not know yet what it will write: it commits without a sync, and its
     * end syncs the log itself when anything but quotes changed.
     */
    st->group_sync_off = st->fsync && sqlite3_exec(st->db, "PRAGMA synchronous=NORMAL", NULL, NULL,
                                                   NULL) == SQLITE_OK;
    int r = errno_of(sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL));
    if (r < 0) {
        store_rollback(st);
        if (st->group_sync_off)
            sqlite3_exec(st->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
        return r;
    }
    st->group = true;
    st->group_changes0 = sqlite3_total_changes64(st->db);
    st->group_unsynced = 0;
    return 0;
}

int store_group_end(struct store *st)
{
    if (!st->group)
        return 0;
    st->group = false;
    /*
     * Only when every row the group changed came from a commit made with fsync
     * off (quotes) may the group end without a sync; any other write in it, in
     * a transaction or not, makes the counts differ.
     */
    bool sync = st->group_sync_off &&
                sqlite3_total_changes64(st->db) - st->group_changes0 != st->group_unsynced;
    int rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        store_rollback(st);
    if (st->group_sync_off &&
        sqlite3_exec(st->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL) != SQLITE_OK)
        st->fsync = false; /* what SQLite does now; the next group syncs the log itself */
    int r = errno_of(rc);
    if (r == 0 && sync)
        r = wal_sync(st);
    return r;
}

bool store_in_group(const struct store *st)
{
    return st->group;
}

int store_begin(struct store *st)
{
    if (st->group) {
        st->step_changes0 = sqlite3_total_changes64(st->db);
        int r = step_reset(st->sp_begin);
        if (r < 0)
            step_reset(st->sp_undo), step_reset(st->sp_release);
        return r;
    }
    bool nested = !sqlite3_get_autocommit(st->db); /* a bug of the caller's: leave it be */
    if (st->sync_lost && !nested && (st->sync_lost = sync_restore(st) < 0))
        return -ENOMEM;
    int rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK && !nested)
        store_rollback(st); /* BEGIN can fail after it has begun (out of memory) */
    return errno_of(rc);
}

int store_commit(struct store *st)
{
    if (st->group) {
        int r = step_reset(st->sp_release);
        if (r < 0)
            store_rollback(st);
        else if (!st->fsync)
            st->group_unsynced += sqlite3_total_changes64(st->db) - st->step_changes0;
        return r;
    }
    int rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        store_rollback(st);
    return errno_of(rc);
}

int store_set_fsync(struct store *st, bool on)
{
    if (st->group) {
        st->fsync = on; /* the group's commit decides */
        return 0;
    }
    int r = errno_of(sqlite3_exec(
        st->db, on ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", NULL, NULL, NULL));
    if (r == 0) {
        st->fsync = on;
        st->sync_lost = false;
    }
    return r;
}

int store_savepoint(struct store *st)
{
    return run_kept(kept(st, KEPT_SAVEPOINT));
}

int store_savepoint_end(struct store *st, bool keep)
{
    if (!keep && sqlite3_exec(st->db, "ROLLBACK TO one", NULL, NULL, NULL) != SQLITE_OK)
        return -EIO;
    return run_kept(kept(st, KEPT_RELEASE));
}

void store_rollback(struct store *st)
{
    /* The statements are ready: a rollback after running out of memory must not need any. */
    st->next_expiry_known = false; /* an undone sweep or hold: find out again */
    if (st->group) {
        step_reset(st->sp_undo);
        step_reset(st->sp_release);
        return;
    }
    if (!sqlite3_get_autocommit(st->db)) {
        sqlite3_step(st->rollback);
        sqlite3_reset(st->rollback);
    }
}

/*
 * A read of several statements sees one snapshot: a deferred transaction when
 * none is open (returns true: end it with read_end), else the caller's.
 */
static bool read_begin(struct store *st)
{
    if (!sqlite3_get_autocommit(st->db))
        return false;
    return sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
}

static void read_end(struct store *st, bool began)
{
    /* A read left open would pin every later read to its old snapshot. */
    if (began && sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        store_rollback(st);
}

/* ---- catalog ---- */

int store_load_catalog(struct store *st, struct catalog *ret)
{
    struct catalog cat = {0};
    sqlite3_stmt *s = NULL;
    int rc, r = prep(st,
                     "SELECT model, name, vendor, domestic, memory_gib, fp64, fp32, tf32, bf16, "
                     "fp16, fp8, int8 FROM accelerators ORDER BY model",
                     &s);
    if (r < 0)
        return r;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct catalog_entry e = {0};
        col_copy(s, 0, e.model, sizeof(e.model));
        col_copy(s, 1, e.name, sizeof(e.name));
        col_copy(s, 2, e.vendor, sizeof(e.vendor));
        e.domestic = sqlite3_column_int(s, 3) != 0;
        e.memory_gib = sqlite3_column_double(s, 4);
        static const enum precision order[] = {PREC_FP64, PREC_FP32, PREC_TF32, PREC_BF16,
                                               PREC_FP16, PREC_FP8,  PREC_INT8};
        for (int i = 0; i < 7; i++)
            e.tflops[order[i]] = sqlite3_column_double(s, 5 + i);
        r = catalog_add(&cat, &e);
        if (r < 0)
            goto out;
    }
    done(st, s);
    s = NULL;
    if (rc != SQLITE_DONE) {
        r = errno_of(rc);
        goto out;
    }
    r = prep(st, "SELECT alias, model FROM accelerator_aliases", &s);
    if (r < 0)
        goto out;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        r = catalog_alias(&cat, (const char *)sqlite3_column_text(s, 0),
                          (const char *)sqlite3_column_text(s, 1));
        if (r < 0 && r != -EINVAL)
            goto out;
    }
    r = rc == SQLITE_DONE ? 0 : errno_of(rc);
out:
    done(st, s);
    if (r < 0)
        catalog_free(&cat);
    else
        *ret = cat;
    return r;
}

/* ---- regions and latency ---- */

int store_region_put(struct store *st, const struct region *rg)
{
    sqlite3_stmt *s;
    int r = prep(st,
                 "INSERT INTO regions (id, city, lat, lon, hub) VALUES (?1, ?2, ?3, ?4, ?5) "
                 "ON CONFLICT (id) DO UPDATE SET city = ?2, lat = ?3, lon = ?4, hub = ?5",
                 &s);
    if (r < 0)
        return r;
    sqlite3_bind_text(s, 1, rg->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, rg->city, -1, SQLITE_STATIC);
    sqlite3_bind_double(s, 3, rg->lat);
    sqlite3_bind_double(s, 4, rg->lon);
    bind_text(s, 5, rg->hub);
    return run(st, s);
}

int store_regions_load(struct store *st, struct region **ret, size_t *ret_n)
{
    sqlite3_stmt *s;
    struct region *rows = NULL;
    size_t n = 0, cap = 0;
    int rc, r = prep(st, "SELECT id, city, lat, lon, hub FROM regions ORDER BY id", &s);
    if (r < 0)
        return r;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct region *rg = grow((void **)&rows, &n, &cap, sizeof(*rows));
        if (!rg) {
            rc = SQLITE_NOMEM;
            break;
        }
        col_copy(s, 0, rg->id, sizeof(rg->id));
        col_copy(s, 1, rg->city, sizeof(rg->city));
        rg->lat = sqlite3_column_double(s, 2);
        rg->lon = sqlite3_column_double(s, 3);
        col_copy(s, 4, rg->hub, sizeof(rg->hub));
    }
    done(st, s);
    if (rc != SQLITE_DONE) {
        free(rows);
        return errno_of(rc) ? errno_of(rc) : -EIO;
    }
    *ret = rows;
    *ret_n = n;
    return 0;
}

int store_latency_put(struct store *st, const struct latency_row *l)
{
    sqlite3_stmt *s;
    int r = prep(st,
                 "INSERT INTO latency (a, b, rtt_ms, source, note, updated_at) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (a, b) DO UPDATE SET "
                 "rtt_ms = ?3, source = ?4, note = ?5, updated_at = ?6",
                 &s);
    if (r < 0)
        return r;
    bool swap = strcmp(l->a, l->b) > 0;
    sqlite3_bind_text(s, 1, swap ? l->b : l->a, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, swap ? l->a : l->b, -1, SQLITE_STATIC);
    sqlite3_bind_double(s, 3, l->rtt_ms);
    sqlite3_bind_text(s, 4, rtt_source_name(l->source), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, l->note, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, l->updated_at);
    return run(st, s);
}

int store_latency_load(struct store *st, struct latency_row **ret, size_t *ret_n)
{
    sqlite3_stmt *s;
    struct latency_row *rows = NULL;
    size_t n = 0, cap = 0;
    int rc, r = prep(st,
                     "SELECT a, b, rtt_ms, source, note, updated_at FROM latency "
                     "ORDER BY a, b",
                     &s);
    if (r < 0)
        return r;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct latency_row *l = grow((void **)&rows, &n, &cap, sizeof(*rows));
        if (!l) {
            rc = SQLITE_NOMEM;
            break;
        }
        col_copy(s, 0, l->a, sizeof(l->a));
        col_copy(s, 1, l->b, sizeof(l->b));
        l->rtt_ms = sqlite3_column_double(s, 2);
        if (rtt_source_parse((const char *)sqlite3_column_text(s, 3), &l->source) < 0)
            l->source = RTT_CONFIGURED;
        col_copy(s, 4, l->note, sizeof(l->note));
        l->updated_at = sqlite3_column_int64(s, 5);
    }
    done(st, s);
    if (rc != SQLITE_DONE) {
        free(rows);
        return errno_of(rc) ? errno_of(rc) : -EIO;
    }
    *ret = rows;
    *ret_n = n;
    return 0;
}

/* ---- tenants and tokens ---- */

int store_tenant_add(struct store *st, const char *id, const char *name, int64_t now)
{
    sqlite3_stmt *s;
    int r = prep(st, "INSERT INTO tenants (id, name, created_at) VALUES (?1, ?2, ?3)", &s);
    if (r < 0)
        return r;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, name ? name : id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now);
    return run(st, s);
}

int store_tenant_exists(struct store *st, const char *id)
{
    sqlite3_stmt *s;
    int r = prep(st, "SELECT 1 FROM tenants WHERE id = ?1", &s);
    if (r < 0)
        return r;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    done(st, s);
    if (rc == SQLITE_ROW)
        return 1;
    return rc == SQLITE_DONE ? 0 : errno_of(rc);
}

int store_tenant_get(struct store *st, const char *id, struct tenant_row *ret)
{
    sqlite3_stmt *s;
    int r = prep(st, "SELECT id, name, created_at, max_cards_held FROM tenants WHERE id = ?1", &s);
    if (r < 0)
        return r;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        memset(ret, 0, sizeof(*ret));
        col_copy(s, 0, ret->id, sizeof(ret->id));
        col_copy(s, 1, ret->name, sizeof(ret->name));
        ret->created_at = sqlite3_column_int64(s, 2);
        ret->max_cards_held =
            sqlite3_column_type(s, 3) == SQLITE_NULL ? -1 : (long)sqlite3_column_int64(s, 3);
    }
    done(st, s);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? -ENOENT : errno_of(rc);
}

int store_tenant_update(struct store *st, const struct tenant_row *t)
{
    sqlite3_stmt *s;
    int r = prep(st, "UPDATE tenants SET name = ?2, max_cards_held = ?3 WHERE id = ?1", &s);
    if (r < 0)
        return r;
    sqlite3_bind_text(s, 1, t->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, t->name, -1, SQLITE_STATIC);
    if (t->max_cards_held >= 0)
        sqlite3_bind_int64(s, 3, t->max_cards_held);
    else
        sqlite3_bind_null(s, 3);
    r = run(st, s);
    if (r == 0 && sqlite3_changes(st->db) == 0)
        return -ENOENT;
    return r;
}

int store_tenant_cards_held(struct store *st, const char *tenant, int64_t now, long *ret)
{
    sqlite3_stmt *s;
    int r = prep(st,
                 "SELECT TOTAL(pp.cards) FROM placements p "
                 "JOIN placement_pieces pp ON pp.placement = p.id "
                 "WHERE p.tenant = ?1 AND p.state = 'held' AND p.expires_at > ?2",
                 &s);
    if (r < 0)
        return r;
    sqlite3_bind_text(s, 1, tenant, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *ret = (long)sqlite3_column_int64(s, 0);
    done(st, s);
    return rc == SQLITE_ROW ? 0 : (errno_of(rc) ? errno_of(rc) : -EIO);
}

int store_token_add(struct store *st, const char *hash, enum role role, const char *subject,
                    int64_t now)
{
    sqlite3_stmt *s;
    int r = prep(st, "INSERT INTO tokens (hash, role, subject, created_at) VALUES (?1, ?2, ?3, ?4)",
                 &s);
    if (r < 0)
        return r;
    sqlite3_bind_text(s, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, role_name(role), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, subject, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now);
    return run(st, s);
}

int store_token_find(struct store *st, const char *hash, enum role *ret_role, char *subject,
                     size_t subject_len)
{
    sqlite3_stmt *s = kept(st, KEPT_TOKEN_FIND);
    int r;
    sqlite3_bind_text(s, 1, hash, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        r = role_parse((const char *)sqlite3_column_text(s, 0), ret_role) < 0 ? -EIO : 0;
        col_copy(s, 1, subject, subject_len);
    } else {
        r = rc == SQLITE_DONE ? -ENOENT : errno_of(rc);
    }
    kept_done(s);
    return r;
}

/* ---- centers and feeds ---- */

/* Runs each statement in turn with ?1 center and, where it has them, ?2 idx and ?3 now. */
static int run_each(struct store *st, const char *const *sql, size_t n, const char *center, int idx,
                    int64_t now)
{
    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *s;
        int r = prep(st, sql[i], &s);
        if (r < 0)
            return r;
        int params = sqlite3_bind_parameter_count(s);
        sqlite3_bind_text(s, 1, center, -1, SQLITE_STATIC);
        if (params >= 2)
            sqlite3_bind_int(s, 2, idx);
        if (params >= 3)
            sqlite3_bind_int64(s, 3, now);
        r = run(st, s);
        if (r < 0)
            return r;
    }
    return 0;
}

/*
 * Puts the snapshots kept as the center's pools (feeds.in_pools) back into
 * feed_pools: the center's feeds are about to change, and with more than one
 * feed the pools are a merge, not a snapshot.
 */
static int snapshots_out_of_pools(struct store *st, const char *center)
{
    static const char *const sql[] = {
        "INSERT OR REPLACE INTO feed_pools (center, idx, model, has_counts, total, free, "
        "largest_block, has_price, price, spot_price, currency, vendor, memory_gib, domestic, "
        "tflops, observed_at) " IN_POOLS_SELECT "AND f.center = ?1",
        "UPDATE feeds SET in_pools = 0 WHERE center = ?1 AND in_pools = 1",
    };
    return run_each(st, sql, sizeof(sql) / sizeof(sql[0]), center, 0, 0);
}

static int feeds_write(struct store *st, const struct center_row *c)
{
    sqlite3_stmt *s;
    int r = snapshots_out_of_pools(st, c->id);
    if (r < 0)
        return r;
    r = prep(st,
             "INSERT INTO feeds (center, idx, adapter, mode, url, interval_s, options, auth, "
             "h2c) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
             "ON CONFLICT (center, idx) DO UPDATE SET "
             "adapter = ?3, mode = ?4, url = ?5, interval_s = ?6, options = ?7, auth = ?8, "
             "h2c = ?9, pools_seen = CASE WHEN adapter = ?3 THEN pools_seen END, "
             "warning = CASE WHEN adapter = ?3 THEN warning END, "
             "last_success = CASE WHEN adapter = ?3 THEN last_success END, "
             "last_error = CASE WHEN adapter = ?3 THEN last_error END, "
             "last_error_at = CASE WHEN adapter = ?3 THEN last_error_at END",
             &s);
    if (r < 0)
        return r;
    for (size_t i = 0; i < c->nfeeds; i++) {
        const struct feed_config *f = &c->feeds[i];
        sqlite3_reset(s);
        sqlite3_bind_text(s, 1, c->id, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 2, (int)i);
        sqlite3_bind_text(s, 3, f->adapter, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, f->mode, -1, SQLITE_STATIC);
        bind_text(s, 5, f->url);
        sqlite3_bind_int64(s, 6, f->interval_s);
        sqlite3_bind_text(s, 7, f->options_json ? f->options_json : "{}", -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 8, f->auth_json ? f->auth_json : "{}", -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 9, f->h2c ? 1 : 0);
        int rc = sqlite3_step(s);
        if (rc != SQLITE_DONE) {
            done(st, s);
            return errno_of(rc);
        }
    }
    done(st, s);
    /* A feed whose adapter changed starts over: its old snapshot goes. */
    r = prep(st,
             "DELETE FROM feed_pools WHERE center = ?1 AND idx IN (SELECT idx FROM feeds "
             "WHERE center = ?1 AND pools_seen IS NULL AND last_success IS NULL)",
             &s);
    if (r < 0)
        return r;
    sqlite3_bind_text(s, 1, c->id, -1, SQLITE_STATIC);
    r = run(st, s);
    if (r < 0)
        return r;
    r = prep(st, "DELETE FROM feeds WHERE center = ?1 AND idx >= ?2", &s);
    if (r < 0)
        return r;
    sqlite3_bind_text(s, 1, c->id, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, (int)c->nfeeds);
    return run(st, s);
}

static void bind_center(sqlite3_stmt *s, const struct center_row *c)
{
    sqlite3_bind_text(s, 1, c->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, c->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, c->operator_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, c->region, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, center_status_name(c->status), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, c->labels_json ? c->labels_json : "{}", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, c->staleness_s);
    sqlite3_bind_int64(s, 8, c->created_at);
    sqlite3_bind_int64(s, 9, c->updated_at);
}

int store_center_insert(struct store *st, const struct center_row *c)
{
    sqlite3_stmt *s;
    int r = prep(st,
                 "INSERT INTO centers (id, name, operator, region, status, labels, staleness_s, "
                 "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                 &s);
    if (r < 0)
        return r;
    bind_center(s, c);
    r = run(st, s);
    return r < 0 ? r : feeds_write(st, c);
}

int store_center_update(struct store *st, const struct center_row *c)
{
    sqlite3_stmt *s;
    int r = prep(st,
                 "UPDATE centers SET name = ?2, operator = ?3, region = ?4, status = ?5, "
                 "labels = ?6, staleness_s = ?7, updated_at = ?9 WHERE id = ?1 AND ?8 = ?8",
                 &s);
    if (r < 0)
        return r;
    bind_center(s, c);
    r = run(st, s);
    if (r < 0)
        return r;
    if (sqlite3_changes(st->db) == 0)
        return -ENOENT;
    return feeds_write(st, c);
}

int store_center_delete(struct store *st, const char *id)
{
    sqlite3_stmt *s;
    int r = prep(st, "DELETE FROM centers WHERE id = ?1", &s);
    if (r < 0)
        return r;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    r = run(st, s);
    if (r == 0 && sqlite3_changes(st->db) == 0)
        return -ENOENT;
    return r;
}

static void feed_config_free(struct feed_config *f)
{
    free(f->url);
    free(f->options_json);
    free(f->last_error);
    free(f->warning);
    free(f->auth_json);
}

void store_centers_free(struct center_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++) {
        free(rows[i].labels_json);
        for (size_t j = 0; j < rows[i].nfeeds; j++)
            feed_config_free(&rows[i].feeds[j]);
        free(rows[i].feeds);
    }
    free(rows);
}

int store_centers_load(struct store *st, const char *id, struct center_row **ret, size_t *ret_n)
{
    sqlite3_stmt *s = NULL;
    struct center_row *rows = NULL;
    size_t n = 0, cap = 0;
    bool oom = false;
    int rc, r = prep(st,
                     "SELECT id, name, operator, region, status, labels, staleness_s, "
                     "created_at, updated_at FROM centers WHERE ?1 IS NULL OR id = ?1 "
                     "ORDER BY id",
                     &s);
    if (r < 0)
        return r;
    bind_text(s, 1, id);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct center_row *c = grow((void **)&rows, &n, &cap, sizeof(*rows));
        if (!c) {
            oom = true;
            break;
        }
        col_copy(s, 0, c->id, sizeof(c->id));
        col_copy(s, 1, c->name, sizeof(c->name));
        col_copy(s, 2, c->operator_id, sizeof(c->operator_id));
        col_copy(s, 3, c->region, sizeof(c->region));
        if (center_status_parse((const char *)sqlite3_column_text(s, 4), &c->status) < 0)
            c->status = CENTER_DISABLED;
        c->labels_json = col_dup(s, 5, &oom);
        c->staleness_s = (long)sqlite3_column_int64(s, 6);
        c->created_at = sqlite3_column_int64(s, 7);
        c->updated_at = sqlite3_column_int64(s, 8);
    }
    done(st, s);
    s = NULL;
    if (oom) {
        r = -ENOMEM;
        goto out;
    }
    if (rc != SQLITE_DONE) {
        r = errno_of(rc);
        goto out;
    }
    if (id && n == 0) {
        r = -ENOENT;
        goto out;
    }
    r = prep(st,
             "SELECT center, idx, adapter, mode, url, interval_s, options, last_success, "
             "last_error, last_error_at, warning, auth, h2c, pools_seen FROM feeds "
             "WHERE ?1 IS NULL OR center = ?1 ORDER BY center, idx",
             &s);
    if (r < 0)
        goto out;
    bind_text(s, 1, id);
    /* Both queries are ordered by center id: walk the centers along with the feeds. */
    size_t at = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *cid = (const char *)sqlite3_column_text(s, 0);
        int cmp = -1;
        while (cid && at < n && (cmp = strcmp(rows[at].id, cid)) < 0)
            at++;
        if (cmp != 0)
            continue;
        struct center_row *c = &rows[at];
        struct feed_config *f = realloc(c->feeds, (c->nfeeds + 1) * sizeof(*f));
        if (!f) {
            oom = true;
            break;
        }
        c->feeds = f;
        f = &c->feeds[c->nfeeds++];
        memset(f, 0, sizeof(*f));
        f->idx = sqlite3_column_int(s, 1);
        col_copy(s, 2, f->adapter, sizeof(f->adapter));
        col_copy(s, 3, f->mode, sizeof(f->mode));
        f->url = col_dup(s, 4, &oom);
        f->interval_s = (long)sqlite3_column_int64(s, 5);
        f->options_json = col_dup(s, 6, &oom);
        f->last_success = sqlite3_column_int64(s, 7);
        f->last_error = col_dup(s, 8, &oom);
        f->last_error_at = sqlite3_column_int64(s, 9);
        f->warning = col_dup(s, 10, &oom);
        f->auth_json = col_dup(s, 11, &oom);
        f->h2c = sqlite3_column_int(s, 12) != 0;
        f->pools_seen =
            sqlite3_column_type(s, 13) == SQLITE_NULL ? -1 : (long)sqlite3_column_int64(s, 13);
    }
    r = oom ? -ENOMEM : (rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : errno_of(rc));
out:
    done(st, s);
    if (r < 0) {
        store_centers_free(rows, n);
        return r;
    }
    *ret = rows;
    *ret_n = n;
    return 0;
}

int store_feed_result(struct store *st, const char *center, int idx, int64_t now, const char *error,
                      const char *warning, long pools_seen)
{
    sqlite3_stmt *s = kept(st, KEPT_FEED_SUCCESS);
    if (error) {
        int r = prep(st,
                     "UPDATE feeds SET last_error = ?3, last_error_at = ?4 "
                     "WHERE center = ?1 AND idx = ?2",
                     &s);
        if (r < 0)
            return r;
    }
    sqlite3_bind_text(s, 1, center, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, idx);
    bind_text(s, 3, error);
    sqlite3_bind_int64(s, 4, now);
    if (!error) {
        bind_text(s, 5, warning);
        sqlite3_bind_int64(s, 6, pools_seen);
    }
    return error ? run(st, s) : run_kept(s);
}

int store_feed_results_ok(struct store *st, int64_t now, const struct feed_ok *oks, size_t n)
{
    size_t i = 0;
    /* Wide statements while they are at least a quarter full; the rest one by one. */
    while (n - i >= FEEDS_PER_UPDATE / 4) {
        sqlite3_stmt *s = kept(st, KEPT_FEED_SUCCESS_WIDE);
        sqlite3_bind_int64(s, 1, now);
        for (int k = 0; k < FEEDS_PER_UPDATE && i < n; k++, i++) {
            sqlite3_bind_text(s, 2 + 5 * k, oks[i].center, -1, SQLITE_STATIC);
            sqlite3_bind_int(s, 3 + 5 * k, oks[i].idx);
            bind_text(s, 4 + 5 * k, oks[i].warning);
            sqlite3_bind_int64(s, 5 + 5 * k, oks[i].pools_seen);
            sqlite3_bind_int(s, 6 + 5 * k, oks[i].in_pools ? 1 : 0);
        }
        int r = run_kept(s);
        if (r < 0)
            return r;
    }
    for (; i < n; i++) {
        int r = store_feed_result(st, oks[i].center, oks[i].idx, now, NULL, oks[i].warning,
                                  oks[i].pools_seen);
        if (r == 0)
            r = store_feed_set_in_pools(st, oks[i].center, oks[i].idx, oks[i].in_pools);
        if (r < 0)
            return r;
    }
    return 0;
}

int store_feed_set_in_pools(struct store *st, const char *center, int idx, bool in_pools)
{
    sqlite3_stmt *s;
    int r = prep(
        st, "UPDATE feeds SET in_pools = ?3 WHERE center = ?1 AND idx = ?2 AND in_pools <> ?3", &s);
    if (r < 0)
        return r;
    sqlite3_bind_text(s, 1, center, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, idx);
    sqlite3_bind_int(s, 3, in_pools ? 1 : 0);
    return run(st, s);
}

/* ---- pools ---- */

/*
 * Binds text v, if any, at i of a kept statement; else leaves it unbound, NULL, as the kept
 * statements' bindings are cleared after each use (kept_done).
 */
static void bind_stated(sqlite3_stmt *s, int i, const char *v)
{
    if (v && *v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/*
 * Binds pool p as the row whose parameters start after parameter `base`. What p does not state
 * is left unbound, NULL (see bind_stated()).
 */
static void bind_pool(sqlite3_stmt *s, int base, const char *center, const struct pool_row *p)
{
    sqlite3_bind_text(s, base + 1, center, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, base + 2, p->model, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, base + 3, p->total);
    sqlite3_bind_int64(s, base + 4, p->free);
    sqlite3_bind_int64(s, base + 5, p->largest_block);
    sqlite3_bind_double(s, base + 6, p->price);
    if (p->spot_price >= 0)
        sqlite3_bind_double(s, base + 7, p->spot_price);
    sqlite3_bind_text(s, base + 8, p->currency, -1, SQLITE_STATIC);
    bind_stated(s, base + 9, p->vendor);
    if (p->memory_gib >= 0)
        sqlite3_bind_double(s, base + 10, p->memory_gib);
    if (p->domestic >= 0)
        sqlite3_bind_int(s, base + 11, p->domestic);
    bind_stated(s, base + 12, p->tflops_json);
    sqlite3_bind_int64(s, base + 13, p->observed_at);
}

/* Binds feed idx's pool p as the row whose parameters start after parameter `base`. */
static void bind_feed_pool(sqlite3_stmt *s, int base, const char *center, int idx,
                           const struct pool_row *p)
{
    sqlite3_bind_text(s, base + 1, center, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, base + 2, idx);
    sqlite3_bind_text(s, base + 3, p->model, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, base + 4, p->has_counts);
    sqlite3_bind_int64(s, base + 5, p->has_counts ? p->total : 0);
    sqlite3_bind_int64(s, base + 6, p->has_counts ? p->free : 0);
    sqlite3_bind_int64(s, base + 7, p->has_counts ? p->largest_block : 0);
    sqlite3_bind_int(s, base + 8, p->has_price);
    if (p->has_price) {
        sqlite3_bind_double(s, base + 9, p->price);
        sqlite3_bind_text(s, base + 11, p->currency, -1, SQLITE_STATIC);
    }
    if (p->spot_price >= 0)
        sqlite3_bind_double(s, base + 10, p->spot_price);
    bind_stated(s, base + 12, p->vendor);
    if (p->memory_gib >= 0)
        sqlite3_bind_double(s, base + 13, p->memory_gib);
    if (p->domestic >= 0)
        sqlite3_bind_int(s, base + 14, p->domestic);
    bind_stated(s, base + 15, p->tflops_json);
    sqlite3_bind_int64(s, base + 16, p->observed_at);
}

/*
 * Inserts rows: POOLS_PER_WIDE_INSERT at a time with `wide` (when not NULL),
 * POOLS_PER_INSERT with `many`, the rest one at a time with `one`. feed < 0:
 * into pools, else as feed idx's rows into feed_pools. center NULL: each row's
 * own center (and, for feed_pools, its own idx).
 */
static int insert_pools(sqlite3_stmt *one, sqlite3_stmt *many, sqlite3_stmt *wide,
                        const char *center, int feed, const struct pool_row *rows, size_t n)
{
    int cols = feed < 0 ? POOL_COLUMNS : FEED_POOL_COLUMNS;
    for (size_t i = 0; i < n;) {
        size_t take = wide && n - i >= POOLS_PER_WIDE_INSERT ? POOLS_PER_WIDE_INSERT
                      : n - i >= POOLS_PER_INSERT            ? POOLS_PER_INSERT
                                                             : 1;
        sqlite3_stmt *s = take == POOLS_PER_WIDE_INSERT ? wide : take > 1 ? many : one;
        for (size_t j = 0; j < take; j++) {
            const struct pool_row *p = &rows[i + j];
            if (feed < 0)
                bind_pool(s, (int)j * cols, center ? center : p->center, p);
            else
                bind_feed_pool(s, (int)j * cols, center ? center : p->center,
                               center ? feed : p->idx, p);
        }
        int r = run_kept(s);
        if (r < 0)
            return r;
        i += take;
    }
    return 0;
}

int store_feed_pools_insert(struct store *st, const struct pool_row *rows, size_t n)
{
    return insert_pools(kept(st, KEPT_FEED_POOLS_INSERT), kept(st, KEPT_FEED_POOLS_INSERT_MANY),
                        kept(st, KEPT_FEED_POOLS_INSERT_WIDE), NULL, 0, rows, n);
}

/* Binds up to CENTERS_PER_LIST centers from *i on as a CENTER_LIST; the rest of it stays NULL. */
static void bind_centers(sqlite3_stmt *s, const char *const *centers, size_t n, size_t *i)
{
    for (int k = 1; k <= CENTERS_PER_LIST && *i < n; k++, (*i)++)
        sqlite3_bind_text(s, k, centers[*i], -1, SQLITE_STATIC);
}

/* A pool's key read back, as long as a pool_row holds it. */
struct pool_key {
    char center[sizeof(((struct pool_row *)0)->center)];
    char model[sizeof(((struct pool_row *)0)->model)];
};

/* Orders rows by center, then model (SQLite's BINARY order). */
static int row_key_cmp(const void *a, const void *b)
{
    const struct pool_row *x = *(const struct pool_row *const *)a,
                          *y = *(const struct pool_row *const *)b;
    int c = strcmp(x->center, y->center);
    return c != 0 ? c : strcmp(x->model, y->model);
}

/* Orders rows by model alone (rows of one center). */
static int row_model_cmp(const void *a, const void *b)
{
    return strcmp((*(const struct pool_row *const *)a)->model,
                  (*(const struct pool_row *const *)b)->model);
}

/*
 * Deletes the pools of these centers that rows (sorted by center, then model,
 * through by) do not list. The centers' pools are read a list of centers at a
 * time; a steady feed lists the same models every poll, so there is seldom
 * anything to delete. With center, every row is that center's (sorted by model).
 */
static int pools_prune(struct store *st, const char *const *centers, size_t n, const char *center,
                       struct pool_row *const *by, size_t nrows)
{
    size_t at = 0; /* into by: rows sort by center as centers do */
    for (size_t i = 0; i < n;) {
        sqlite3_stmt *s;
        if (n - i >= CENTERS_PER_LIST / 4) {
            s = kept(st, KEPT_POOLS_KEYS_CENTERS);
            bind_centers(s, centers, n, &i);
        } else {
            s = kept(st, KEPT_POOLS_KEYS);
            sqlite3_bind_text(s, 1, centers[i++], -1, SQLITE_STATIC);
        }
        struct pool_key *gone = NULL;
        size_t ngone = 0, cap = 0;
        int rc;
        bool oom = false;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            const char *c = (const char *)sqlite3_column_text(s, 0);
            const char *m = (const char *)sqlite3_column_text(s, 1);
            if (!c || !m) { /* NOT NULL columns: out of memory */
                oom = true;
                break;
            }
            int cmp = -1;
            while (at < nrows) {
                cmp = strcmp(center ? center : by[at]->center, c);
                if (cmp == 0)
                    cmp = strcmp(by[at]->model, m);
                if (cmp >= 0)
                    break;
                at++;
            }
            if (at < nrows && cmp == 0)
                continue; /* still listed: updated in place */
            struct pool_key *k = grow((void **)&gone, &ngone, &cap, sizeof(*gone));
            if (!k) {
                oom = true;
                break;
            }
            col_copy(s, 0, k->center, sizeof(k->center));
            col_copy(s, 1, k->model, sizeof(k->model));
        }
        kept_done(s);
        int r = oom ? -ENOMEM : rc == SQLITE_DONE ? 0 : errno_of(rc) ? errno_of(rc) : -EIO;
        for (size_t g = 0; g < ngone && r == 0; g++) {
            sqlite3_stmt *d = kept(st, KEPT_POOLS_DELETE_ONE);
            sqlite3_bind_text(d, 1, gone[g].center, -1, SQLITE_STATIC);
            sqlite3_bind_text(d, 2, gone[g].model, -1, SQLITE_STATIC);
            r = run_kept(d);
        }
        free(gone);
        if (r < 0)
            return r;
    }
    return 0;
}

/* store_pools_put_centers, and store_pools_replace with the one center for every row. */
static int pools_put(struct store *st, const char *const *centers, size_t n, const char *center,
                     const struct pool_row *rows, size_t nrows)
{
    struct pool_row **by = malloc((nrows ? nrows : 1) * sizeof(*by));
    if (!by)
        return -ENOMEM;
    int (*cmp)(const void *, const void *) = center ? row_model_cmp : row_key_cmp;
    bool sorted = true;
    for (size_t i = 0; i < nrows; i++) {
        by[i] = (struct pool_row *)&rows[i];
        if (i > 0 && sorted && cmp(&by[i - 1], &by[i]) > 0)
            sorted = false;
    }
    if (!sorted) /* a batch's rows come sorted: the sort cost as much as their binding */
        qsort(by, nrows, sizeof(*by), cmp);
    int r = pools_prune(st, centers, n, center, by, nrows);
    free(by);
    if (r < 0)
        return r;
    return insert_pools(kept(st, KEPT_POOLS_UPSERT), kept(st, KEPT_POOLS_UPSERT_MANY),
                        kept(st, KEPT_POOLS_UPSERT_WIDE), center, -1, rows, nrows);
}

int store_pools_put_centers(struct store *st, const char *const *centers, size_t n,
                            const struct pool_row *rows, size_t nrows)
{
    return pools_put(st, centers, n, NULL, rows, nrows);
}

int store_pools_replace(struct store *st, const char *center, const struct pool_row *rows, size_t n)
{
    return pools_put(st, &center, 1, center, rows, n);
}

int store_feed_pools_replace(struct store *st, const char *center, int idx,
                             const struct pool_row *rows, size_t n)
{
    sqlite3_stmt *s = kept(st, KEPT_FEED_POOLS_DELETE);
    sqlite3_bind_text(s, 1, center, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, idx);
    int r = run_kept(s);
    if (r < 0)
        return r;
    return insert_pools(kept(st, KEPT_FEED_POOLS_INSERT), kept(st, KEPT_FEED_POOLS_INSERT_MANY),
                        NULL, center, idx, rows, n);
}

int store_feed_pools_touch(struct store *st, const char *center, int idx, int64_t now)
{
    /* The snapshot is in feed_pools, or it is the center's pools (feeds.in_pools). */
    static const char *const sql[] = {
        "UPDATE feed_pools SET observed_at = ?3 WHERE center = ?1 AND idx = ?2",
        "UPDATE pools SET observed_at = ?3 WHERE center = ?1 AND EXISTS (SELECT 1 FROM feeds "
        "WHERE center = ?1 AND idx = ?2 AND in_pools = 1)",
    };
    return run_each(st, sql, sizeof(sql) / sizeof(sql[0]), center, idx, now);
}

/*
 * Appends the feed_pools rows a kept statement selects (FEED_POOLS_SELECT) to
 * *rows (*n of *cap used), then resets it. On failure the caller frees *rows.
 */
static int feed_pools_append(sqlite3_stmt *s, struct pool_row **rows_, size_t *n_, size_t *cap_)
{
    struct pool_row *rows = *rows_;
    size_t n = *n_, cap = *cap_;
    bool oom = false;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct pool_row *p = grow((void **)&rows, &n, &cap, sizeof(*rows));
        if (!p) {
            oom = true;
            break;
        }
        col_copy(s, 0, p->center, sizeof(p->center));
        p->idx = sqlite3_column_int(s, 1);
        col_copy(s, 2, p->model, sizeof(p->model));
        p->has_counts = sqlite3_column_int(s, 3) != 0;
        p->total = (long)sqlite3_column_int64(s, 4);
        p->free = (long)sqlite3_column_int64(s, 5);
        p->largest_block = (long)sqlite3_column_int64(s, 6);
        p->has_price = sqlite3_column_int(s, 7) != 0;
        p->price = sqlite3_column_double(s, 8);
        p->spot_price = sqlite3_column_type(s, 9) == SQLITE_NULL ? -1 : sqlite3_column_double(s, 9);
        col_copy(s, 10, p->currency, sizeof(p->currency));
        col_copy(s, 11, p->vendor, sizeof(p->vendor));
        p->memory_gib =
            sqlite3_column_type(s, 12) == SQLITE_NULL ? -1 : sqlite3_column_double(s, 12);
        p->domestic = sqlite3_column_type(s, 13) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 13);
        p->tflops_json = col_dup(s, 14, &oom);
        p->observed_at = sqlite3_column_int64(s, 15);
    }
    kept_done(s);
    *rows_ = rows;
    *n_ = n;
    *cap_ = cap;
    if (oom || rc != SQLITE_DONE)
        return oom ? -ENOMEM : errno_of(rc) ? errno_of(rc) : -EIO;
    return 0;
}

/* Reads the feed_pools rows a kept statement selects (FEED_POOLS_SELECT), then resets it. */
static int feed_pools_read(sqlite3_stmt *s, struct pool_row **ret, size_t *ret_n)
{
    struct pool_row *rows = NULL;
    size_t n = 0, cap = 0;
    int r = feed_pools_append(s, &rows, &n, &cap);
    if (r < 0) {
        store_pools_free(rows, n);
        return r;
    }
    *ret = rows;
    *ret_n = n;
    return 0;
}

int store_feed_pools_load_centers(struct store *st, const char *const *centers, size_t n,
                                  struct pool_row **ret, size_t *ret_n)
{
    struct pool_row *rows = NULL;
    size_t nrows = 0, cap = 0;
    /* Where every center has one feed, kept as its pools, feed_pools is empty: one step says
       so, where looking the centers up cost 2,400 instructions each. */
    if (n > 0) {
        sqlite3_stmt *any = kept(st, KEPT_FEED_POOLS_ANY);
        int rc = sqlite3_step(any);
        kept_done(any);
        if (rc == SQLITE_DONE)
            n = 0;
        else if (rc != SQLITE_ROW)
            return errno_of(rc);
    }
    for (size_t i = 0; i < n;) {
        sqlite3_stmt *s;
        if (n - i >= CENTERS_PER_LIST / 4) {
            s = kept(st, KEPT_FEED_POOLS_CENTERS);
            bind_centers(s, centers, n, &i);
        } else {
            s = kept(st, KEPT_FEED_POOLS_LOAD);
            sqlite3_bind_text(s, 1, centers[i++], -1, SQLITE_STATIC);
        }
        int r = feed_pools_append(s, &rows, &nrows, &cap);
        if (r < 0) {
            store_pools_free(rows, nrows);
            return r;
        }
    }
    *ret = rows;
    *ret_n = nrows;
    return 0;
}

int store_feed_pools_load(struct store *st, const char *center, struct pool_row **ret,
                          size_t *ret_n)
{
    sqlite3_stmt *s = kept(st, KEPT_FEED_SNAPSHOTS_LOAD);
    sqlite3_bind_text(s, 1, center, -1, SQLITE_STATIC);
    return feed_pools_read(s, ret, ret_n);
}

int store_feed_pools_load_others(struct store *st, const char *center, int idx,
                                 struct pool_row **ret, size_t *ret_n)
{
    sqlite3_stmt *s = kept(st, KEPT_FEED_POOLS_OTHERS);
    sqlite3_bind_text(s, 1, center, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, idx);
    return feed_pools_read(s, ret, ret_n);
}

void store_pools_free(struct pool_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++)
        free(rows[i].tflops_json);
    free(rows);
}

int store_pools_load(struct store *st, const char *center, struct pool_row **ret, size_t *ret_n)
{
    sqlite3_stmt *s;
    struct pool_row *rows = NULL;
    size_t n = 0, cap = 0;
    bool oom = false;
    int rc, r = prep(st,
                     "SELECT center, model, total, free, largest_block, price, spot_price, "
                     "currency, vendor, memory_gib, domestic, tflops, observed_at FROM pools "
                     "WHERE ?1 IS NULL OR center = ?1 ORDER BY center, model",
                     &s);
    if (r < 0)
        return r;
    bind_text(s, 1, center);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct pool_row *p = grow((void **)&rows, &n, &cap, sizeof(*rows));
        if (!p) {
            oom = true;
            break;
        }
        col_copy(s, 0, p->center, sizeof(p->center));
        col_copy(s, 1, p->model, sizeof(p->model));
        p->total = (long)sqlite3_column_int64(s, 2);
        p->free = (long)sqlite3_column_int64(s, 3);
        p->largest_block = (long)sqlite3_column_int64(s, 4);
        p->price = sqlite3_column_double(s, 5);
        p->spot_price = sqlite3_column_type(s, 6) == SQLITE_NULL ? -1 : sqlite3_column_double(s, 6);
        col_copy(s, 7, p->currency, sizeof(p->currency));
        col_copy(s, 8, p->vendor, sizeof(p->vendor));
        p->memory_gib = sqlite3_column_type(s, 9) == SQLITE_NULL ? -1 : sqlite3_column_double(s, 9);
        p->domestic = sqlite3_column_type(s, 10) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 10);
        p->tflops_json = col_dup(s, 11, &oom);
        p->observed_at = sqlite3_column_int64(s, 12);
    }
    done(st, s);
    if (oom || rc != SQLITE_DONE) {
        store_pools_free(rows, n);
        return oom ? -ENOMEM : errno_of(rc);
    }
    *ret = rows;
    *ret_n = n;
    return 0;
}

int store_pool_usage(struct store *st, int64_t now, struct pool_usage **ret, size_t *ret_n)
{
    sqlite3_stmt *s;
    struct pool_usage *rows = NULL;
    size_t n = 0, cap = 0;
    int rc, r = prep(st,
                     "SELECT pp.center, pp.model, "
                     "SUM(CASE WHEN p.state = 'held' THEN pp.cards ELSE 0 END), "
                     "SUM(CASE WHEN p.state = 'confirmed' AND p.confirmed_at > "
                     "  COALESCE(po.observed_at, 0) THEN pp.cards ELSE 0 END) "
                     "FROM placement_pieces pp JOIN placements p ON p.id = pp.placement "
                     "LEFT JOIN pools po ON po.center = pp.center AND po.model = pp.model "
                     "WHERE (p.state = 'held' AND p.expires_at > ?1) OR p.state = 'confirmed' "
                     "GROUP BY pp.center, pp.model ORDER BY pp.center, pp.model",
                     &s);
    if (r < 0)
        return r;
    sqlite3_bind_int64(s, 1, now);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct pool_usage *u = grow((void **)&rows, &n, &cap, sizeof(*rows));
        if (!u) {
            rc = SQLITE_NOMEM;
            break;
        }
        col_copy(s, 0, u->center, sizeof(u->center));
        col_copy(s, 1, u->model, sizeof(u->model));
        u->held = (long)sqlite3_column_int64(s, 2);
        u->confirmed_unseen = (long)sqlite3_column_int64(s, 3);
    }
    done(st, s);
    if (rc != SQLITE_DONE) {
        free(rows);
        return errno_of(rc) ? errno_of(rc) : -EIO;
    }
    *ret = rows;
    *ret_n = n;
    return 0;
}

/*
 * Runs on every request, so it first asks the earliest expiry it knows: no
 * sweep before it. The bound is found again after each sweep and lowered by
 * each new hold; anything rolled back forgets it.
 */
int store_expire_holds(struct store *st, int64_t now)
{
    if (st->next_expiry_known && now < st->next_expiry)
        return 0;
    sqlite3_stmt *s = kept(st, KEPT_EXPIRE);
    sqlite3_bind_int64(s, 1, now);
    sqlite3_bind_int64(s, 2, st->seq);
    int r = run_kept(s);
    if (r < 0)
        return r;
    r = sqlite3_changes(st->db);
    if (r > 0)
        st->placement_changes++;
    s = kept(st, KEPT_NEXT_EXPIRY);
    if (sqlite3_step(s) == SQLITE_ROW) {
        st->next_expiry =
            sqlite3_column_type(s, 0) == SQLITE_NULL ? INT64_MAX : sqlite3_column_int64(s, 0);
        st->next_expiry_known = true;
    }
    kept_done(s);
    return r;
}

static int stats_read(struct store *st, int64_t now, struct store_stats *ret)
{
    struct store_stats out = {0};
    sqlite3_stmt *s;
    /* A hold whose time is up is expired even before the sweep has marked it. */
    int rc, r = prep(st,
                     "SELECT CASE WHEN state = 'held' AND expires_at <= ?1 THEN 'expired' "
                     "ELSE state END AS st, COUNT(*) FROM placements GROUP BY st",
                     &s);
    if (r < 0)
        return r;
    sqlite3_bind_int64(s, 1, now);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *state = (const char *)sqlite3_column_text(s, 0);
        long n = (long)sqlite3_column_int64(s, 1);
        if (!state)
            continue;
        if (strcmp(state, "held") == 0)
            out.held = n;
        else if (strcmp(state, "confirmed") == 0)
            out.confirmed = n;
        else if (strcmp(state, "released") == 0)
            out.released = n;
        else if (strcmp(state, "expired") == 0)
            out.expired = n;
    }
    done(st, s);
    if (rc != SQLITE_DONE)
        return errno_of(rc) ? errno_of(rc) : -EIO;
    r = prep(st,
             "SELECT "
             "(SELECT TOTAL(pp.cards) FROM placements p JOIN placement_pieces pp "
             "  ON pp.placement = p.id WHERE p.state = 'held' AND p.expires_at > ?1), "
             "(SELECT TOTAL(pp.cards) FROM placements p JOIN placement_pieces pp "
             "  ON pp.placement = p.id WHERE p.state = 'confirmed'), "
             "(SELECT COUNT(*) FROM centers), (SELECT COUNT(*) FROM pools)",
             &s);
    if (r < 0)
        return r;
    sqlite3_bind_int64(s, 1, now);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        out.cards_held = (long)sqlite3_column_int64(s, 0);
        out.cards_confirmed = (long)sqlite3_column_int64(s, 1);
        out.centers = (long)sqlite3_column_int64(s, 2);
        out.pools = (long)sqlite3_column_int64(s, 3);
    }
    done(st, s);
    if (rc != SQLITE_ROW)
        return errno_of(rc) ? errno_of(rc) : -EIO;
    *ret = out;
    return 0;
}

int store_stats_load(struct store *st, int64_t now, struct store_stats *ret)
{
    bool began = read_begin(st);
    int r = stats_read(st, now, ret);
    read_end(st, began);
    return r;
}

/* ---- vouchers ---- */

static int ledger_insert(struct store *st, const char *voucher, int64_t at, const char *kind,
                         double amount, double balance, const char *placement, const char *note)
{
    sqlite3_stmt *s;
    int r = prep(st,
                 "INSERT INTO voucher_ledger (voucher, at, kind, amount, balance, placement, note) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                 &s);
    if (r < 0)
        return r;
    sqlite3_bind_text(s, 1, voucher, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, at);
    sqlite3_bind_text(s, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_double(s, 4, amount);
    sqlite3_bind_double(s, 5, balance);
    bind_text(s, 6, placement);
    sqlite3_bind_text(s, 7, note ? note : "", -1, SQLITE_STATIC);
    return run(st, s);
}

int store_voucher_insert(struct store *st, const struct voucher_row *v)
{
    sqlite3_stmt *s;
    int r = prep(st,
                 "INSERT INTO vouchers (id, issuer, tenant, rate, amount, balance, valid_from, "
                 "valid_until, eligible, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                 "?10)",
                 &s);
    if (r < 0)
        return r;
    sqlite3_bind_text(s, 1, v->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, v->issuer, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, v->tenant, -1, SQLITE_STATIC);
    sqlite3_bind_double(s, 4, v->rate);
    sqlite3_bind_double(s, 5, v->amount);
    sqlite3_bind_double(s, 6, v->balance);
    sqlite3_bind_int64(s, 7, v->valid_from);
    sqlite3_bind_int64(s, 8, v->valid_until);
    sqlite3_bind_text(s, 9, v->eligible_json ? v->eligible_json : "{}", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 10, v->created_at);
    r = run(st, s);
    if (r < 0)
        return r;
    return ledger_insert(st, v->id, v->created_at, "issue", v->amount, v->balance, NULL, "issued");
}

int store_voucher_move(struct store *st, const char *id, const char *kind, double delta,
                       const char *placement, int64_t at, const char *note, double *ret_balance)
{
    sqlite3_stmt *s;
    double balance;
    int r = prep(st, "SELECT balance FROM vouchers WHERE id = ?1", &s);
    if (r < 0)
        return r;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    balance = rc == SQLITE_ROW ? sqlite3_column_double(s, 0) : 0;
    done(st, s);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? -ENOENT : errno_of(rc);
    balance += delta;
    if (balance < -1e-9)
        return -ERANGE;
    if (balance < 0)
        balance = 0;
    r = prep(st, "UPDATE vouchers SET balance = ?2 WHERE id = ?1", &s);
    if (r < 0)
        return r;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_double(s, 2, balance);
    r = run(st, s);
    if (r == 0)
        r = ledger_insert(st, id, at, kind, delta, balance, placement, note);
    if (r == 0 && ret_balance)
        *ret_balance = balance;
    return r;
}

int store_voucher_ledger(struct store *st, const char *id, struct ledger_row **ret, size_t *ret_n)
{
    sqlite3_stmt *s;
    struct ledger_row *rows = NULL;
    size_t n = 0, cap = 0;
    int rc, r = prep(st,
                     "SELECT seq, at, kind, amount, balance, placement, note FROM voucher_ledger "
                     "WHERE voucher = ?1 ORDER BY seq",
                     &s);
    if (r < 0)
        return r;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct ledger_row *l = grow((void **)&rows, &n, &cap, sizeof(*rows));
        if (!l) {
            rc = SQLITE_NOMEM;
            break;
        }
        l->seq = sqlite3_column_int64(s, 0);
        l->at = sqlite3_column_int64(s, 1);
        col_copy(s, 2, l->kind, sizeof(l->kind));
        l->amount = sqlite3_column_double(s, 3);
        l->balance = sqlite3_column_double(s, 4);
        col_copy(s, 5, l->placement, sizeof(l->placement));
        col_copy(s, 6, l->note, sizeof(l->note));
    }
    done(st, s);
    if (rc != SQLITE_DONE) {
        free(rows);
        return errno_of(rc) ? errno_of(rc) : -EIO;
    }
    *ret = rows;
    *ret_n = n;
    return 0;
}

static const char voucher_cols[] = "SELECT id, issuer, tenant, rate, amount, balance, "
                                   "valid_from, valid_until, eligible, created_at FROM vouchers ";

static void voucher_read(sqlite3_stmt *s, struct voucher_row *v, bool *oom)
{
    col_copy(s, 0, v->id, sizeof(v->id));
    col_copy(s, 1, v->issuer, sizeof(v->issuer));
    col_copy(s, 2, v->tenant, sizeof(v->tenant));
    v->rate = sqlite3_column_double(s, 3);
    v->amount = sqlite3_column_double(s, 4);
    v->balance = sqlite3_column_double(s, 5);
    v->valid_from = sqlite3_column_int64(s, 6);
    v->valid_until = sqlite3_column_int64(s, 7);
    v->eligible_json = col_dup(s, 8, oom);
    v->created_at = sqlite3_column_int64(s, 9);
}

int store_voucher_get(struct store *st, const char *id, struct voucher_row *ret)
{
    sqlite3_stmt *s;
    char sql[256];
    bool oom = false;
    snprintf(sql, sizeof(sql), "%sWHERE id = ?1", voucher_cols);
    int r = prep(st, sql, &s);
    if (r < 0)
        return r;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    memset(ret, 0, sizeof(*ret));
    if (rc == SQLITE_ROW)
        voucher_read(s, ret, &oom);
    done(st, s);
    if (oom) {
        free(ret->eligible_json);
        ret->eligible_json = NULL;
        return -ENOMEM;
    }
    return rc == SQLITE_ROW ? 0 : (rc == SQLITE_DONE ? -ENOENT : errno_of(rc));
}

void store_vouchers_free(struct voucher_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++)
        free(rows[i].eligible_json);
    free(rows);
}

int store_vouchers_list(struct store *st, const char *tenant, struct voucher_row **ret,
                        size_t *ret_n)
{
    sqlite3_stmt *s;
    char sql[256];
    struct voucher_row *rows = NULL;
    size_t n = 0, cap = 0;
    bool oom = false;
    snprintf(sql, sizeof(sql), "%sWHERE ?1 IS NULL OR tenant = ?1 ORDER BY id", voucher_cols);
    int rc, r = prep(st, sql, &s);
    if (r < 0)
        return r;
    bind_text(s, 1, tenant);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct voucher_row *v = grow((void **)&rows, &n, &cap, sizeof(*rows));
        if (!v) {
            oom = true;
            break;
        }
        voucher_read(s, v, &oom);
    }
    done(st, s);
    if (oom || rc != SQLITE_DONE) {
        store_vouchers_free(rows, n);
        return oom ? -ENOMEM : errno_of(rc);
    }
    *ret = rows;
    *ret_n = n;
    return 0;
}

/* ---- the issuer report ---- */

/* Per issuer: vouchers, amounts issued, drawn and refunded, balances. */
static const char report_issuers_sql[] =
    "SELECT v.issuer, COUNT(*), TOTAL(v.amount), TOTAL(v.balance), "
    "-TOTAL((SELECT TOTAL(l.amount) FROM voucher_ledger l WHERE l.voucher = v.id "
    "AND l.kind = 'draw')), "
    "TOTAL((SELECT TOTAL(l.amount) FROM voucher_ledger l WHERE l.voucher = v.id "
    "AND l.kind = 'refund')) "
    "FROM vouchers v WHERE ?1 IS NULL OR v.issuer = ?1 GROUP BY v.issuer ORDER BY v.issuer";

/* Per issuer and tenant: vouchers, drawn, refunded, placements that drew. */
static const char report_tenants_sql[] =
    "SELECT v.issuer, v.tenant, COUNT(DISTINCT v.id), "
    "-TOTAL(CASE WHEN l.kind = 'draw' THEN l.amount END), "
    "TOTAL(CASE WHEN l.kind = 'refund' THEN l.amount END), "
    "COUNT(DISTINCT CASE WHEN l.kind = 'draw' THEN l.placement END) "
    "FROM vouchers v LEFT JOIN voucher_ledger l ON l.voucher = v.id "
    "WHERE ?1 IS NULL OR v.issuer = ?1 GROUP BY v.issuer, v.tenant ORDER BY v.issuer, v.tenant";

/*
 * Per issuer and center: each draw and refund split over the placement's
 * pieces by their share of its subsidy (of its list total when it has no
 * subsidy left, else evenly), then summed per center.
 */
static const char report_centers_sql[] =
    "WITH moves AS (SELECT v.issuer AS issuer, l.placement AS placement, l.kind AS kind, "
    "  l.amount AS amount FROM voucher_ledger l JOIN vouchers v ON v.id = l.voucher "
    "  WHERE l.kind IN ('draw', 'refund') AND l.placement IS NOT NULL "
    "  AND (?1 IS NULL OR v.issuer = ?1)), "
    "tot AS (SELECT placement, TOTAL(subsidy) AS s, TOTAL(list_total) AS lt, COUNT(*) AS n "
    "  FROM placement_pieces WHERE placement IN (SELECT placement FROM moves) "
    "  GROUP BY placement), "
    "shares AS (SELECT pp.placement AS placement, pp.center AS center, "
    "  CASE WHEN tot.s > 0 THEN pp.subsidy / tot.s WHEN tot.lt > 0 THEN pp.list_total / tot.lt "
    "  ELSE 1.0 / tot.n END AS share "
    "  FROM placement_pieces pp JOIN tot ON tot.placement = pp.placement) "
    "SELECT m.issuer, sh.center, "
    "-TOTAL(CASE WHEN m.kind = 'draw' THEN m.amount * sh.share END), "
    "TOTAL(CASE WHEN m.kind = 'refund' THEN m.amount * sh.share END), "
    "COUNT(DISTINCT CASE WHEN m.kind = 'draw' THEN m.placement END) "
    "FROM moves m JOIN shares sh ON sh.placement = m.placement "
    "GROUP BY m.issuer, sh.center ORDER BY m.issuer, sh.center";

void store_voucher_report_free(struct issuer_report *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++) {
        free(rows[i].tenants);
        free(rows[i].centers);
    }
    free(rows);
}

static struct issuer_report *report_find(struct issuer_report *rows, size_t n, const char *issuer)
{
    for (size_t i = 0; issuer && i < n; i++) {
        if (strcmp(rows[i].issuer, issuer) == 0)
            return &rows[i];
    }
    return NULL;
}

/* -0.0 (a negated empty sum) prints as "-0"; money is never negative zero. */
static double money(double v)
{
    return v + 0.0;
}

/* Reads the shares of one query (tenants or centers) into the issuers' rows. */
static int report_shares(struct store *st, const char *sql, const char *issuer, bool tenants,
                         struct issuer_report *rows, size_t n)
{
    sqlite3_stmt *s;
    int rc, r = prep(st, sql, &s);
    if (r < 0)
        return r;
    bind_text(s, 1, issuer);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct issuer_report *rep = report_find(rows, n, (const char *)sqlite3_column_text(s, 0));
        if (!rep)
            continue; /* an issuer whose vouchers appeared since the first query */
        struct report_share **arr = tenants ? &rep->tenants : &rep->centers;
        size_t *cnt = tenants ? &rep->ntenants : &rep->ncenters;
        struct report_share *x = realloc(*arr, (*cnt + 1) * sizeof(**arr));
        if (!x) {
            rc = SQLITE_NOMEM;
            break;
        }
        *arr = x;
        x = &x[(*cnt)++];
        memset(x, 0, sizeof(*x));
        col_copy(s, 1, x->key, sizeof(x->key));
        int c = 2;
        if (tenants)
            x->vouchers = (long)sqlite3_column_int64(s, c++);
        x->drawn = money(sqlite3_column_double(s, c++));
        x->refunded = money(sqlite3_column_double(s, c++));
        x->placements = (long)sqlite3_column_int64(s, c);
    }
    done(st, s);
    return rc == SQLITE_DONE ? 0 : (errno_of(rc) ? errno_of(rc) : -EIO);
}

static int report_read(struct store *st, const char *issuer, struct issuer_report **ret,
                       size_t *ret_n)
{
    sqlite3_stmt *s;
    struct issuer_report *rows = NULL;
    size_t n = 0, cap = 0;
    int rc, r = prep(st, report_issuers_sql, &s);
    if (r < 0)
        return r;
    bind_text(s, 1, issuer);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct issuer_report *rep = grow((void **)&rows, &n, &cap, sizeof(*rows));
        if (!rep) {
            rc = SQLITE_NOMEM;
            break;
        }
        col_copy(s, 0, rep->issuer, sizeof(rep->issuer));
        rep->vouchers = (long)sqlite3_column_int64(s, 1);
        rep->issued = money(sqlite3_column_double(s, 2));
        rep->balance = money(sqlite3_column_double(s, 3));
        rep->drawn = money(sqlite3_column_double(s, 4));
        rep->refunded = money(sqlite3_column_double(s, 5));
    }
    done(st, s);
    r = rc == SQLITE_DONE ? 0 : (errno_of(rc) ? errno_of(rc) : -EIO);
    if (r == 0 && issuer && n == 0)
        r = -ENOENT;
    if (r == 0)
        r = report_shares(st, report_tenants_sql, issuer, true, rows, n);
    if (r == 0)
        r = report_shares(st, report_centers_sql, issuer, false, rows, n);
    if (r < 0) {
        store_voucher_report_free(rows, n);
        return r;
    }
    *ret = rows;
    *ret_n = n;
    return 0;
}

int store_voucher_report(struct store *st, const char *issuer, struct issuer_report **ret,
                         size_t *ret_n)
{
    bool began = read_begin(st);
    int r = report_read(st, issuer, ret, ret_n);
    read_end(st, began);
    return r;
}

/* ---- decisions ---- */

int store_decision_insert(struct store *st, const struct decision_row *d)
{
    sqlite3_stmt *s = kept(st, KEPT_DECISION_INSERT);
    sqlite3_bind_text(s, 1, d->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, d->tenant, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, d->at);
    sqlite3_bind_text(s, 4, d->outcome, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, d->record, -1, SQLITE_STATIC);
    bind_opt_i64(s, 6, d->seq);
    bind_opt_i64(s, 7, d->epoch);
    bind_text(s, 8, d->inputs);
    return run_kept(s);
}

int64_t store_next_seq(struct store *st)
{
    return ++st->seq;
}

uint64_t store_placement_changes(const struct store *st)
{
    return st->placement_changes;
}

int store_epoch_insert(struct store *st, int64_t at, const char *base, int64_t *ret_id)
{
    sqlite3_stmt *s;
    int r = prep(st, "INSERT INTO epochs (at, base) VALUES (?1, ?2)", &s);
    if (r < 0)
        return r;
    sqlite3_bind_int64(s, 1, at);
    sqlite3_bind_text(s, 2, base, -1, SQLITE_STATIC);
    r = run(st, s);
    if (r == 0)
        *ret_id = sqlite3_last_insert_rowid(st->db);
    return r;
}

int store_epoch_get(struct store *st, int64_t id, char **ret)
{
    sqlite3_stmt *s;
    bool oom = false;
    int r = prep(st, "SELECT base FROM epochs WHERE id = ?1", &s);
    if (r < 0)
        return r;
    sqlite3_bind_int64(s, 1, id);
    *ret = NULL;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *ret = col_dup(s, 0, &oom);
    done(st, s);
    if (oom)
        return -ENOMEM;
    if (rc == SQLITE_ROW)
        return *ret ? 0 : -EIO;
    return rc == SQLITE_DONE ? -ENOENT : errno_of(rc);
}

int store_usage_at(struct store *st, int64_t seq, int64_t at, struct usage_piece **ret,
                   size_t *ret_n)
{
    sqlite3_stmt *s;
    struct usage_piece *rows = NULL;
    size_t n = 0, cap = 0;
    int rc, r = prep(st,
                     "SELECT pp.center, pp.model, pp.cards, "
                     "  p.confirmed_seq IS NOT NULL AND p.confirmed_seq < ?1, "
                     "  COALESCE(p.confirmed_at, 0) "
                     "FROM placements p JOIN placement_pieces pp ON pp.placement = p.id "
                     "WHERE p.created_seq < ?1 AND (p.ended_seq IS NULL OR p.ended_seq >= ?1) "
                     "  AND ((p.confirmed_seq IS NOT NULL AND p.confirmed_seq < ?1) "
                     "       OR p.expires_at > ?2)",
                     &s);
    if (r < 0)
        return r;
    sqlite3_bind_int64(s, 1, seq);
    sqlite3_bind_int64(s, 2, at);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct usage_piece *u = grow((void **)&rows, &n, &cap, sizeof(*rows));
        if (!u) {
            rc = SQLITE_NOMEM;
            break;
        }
        col_copy(s, 0, u->center, sizeof(u->center));
        col_copy(s, 1, u->model, sizeof(u->model));
        u->cards = (long)sqlite3_column_int64(s, 2);
        u->confirmed = sqlite3_column_int(s, 3) != 0;
        u->confirmed_at = sqlite3_column_int64(s, 4);
    }
    done(st, s);
    if (rc != SQLITE_DONE) {
        free(rows);
        return errno_of(rc) ? errno_of(rc) : -EIO;
    }
    *ret = rows;
    *ret_n = n;
    return 0;
}

static void decision_read(sqlite3_stmt *s, struct decision_row *d, bool *oom)
{
    col_copy(s, 0, d->id, sizeof(d->id));
    col_copy(s, 1, d->tenant, sizeof(d->tenant));
    d->at = sqlite3_column_int64(s, 2);
    col_copy(s, 3, d->outcome, sizeof(d->outcome));
    d->record = col_dup(s, 4, oom);
    d->seq = sqlite3_column_int64(s, 5);
    d->epoch = sqlite3_column_int64(s, 6);
    d->inputs = col_dup(s, 7, oom);
}

int store_decision_get(struct store *st, const char *id, struct decision_row *ret)
{
    sqlite3_stmt *s;
    bool oom = false;
    int r = prep(st,
                 "SELECT id, tenant, at, outcome, record, seq, epoch, inputs FROM decisions "
                 "WHERE id = ?1",
                 &s);
    if (r < 0)
        return r;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    memset(ret, 0, sizeof(*ret));
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        decision_read(s, ret, &oom);
    done(st, s);
    if (oom) {
        free(ret->record);
        free(ret->inputs);
        memset(ret, 0, sizeof(*ret));
        return -ENOMEM;
    }
    return rc == SQLITE_ROW ? 0 : (rc == SQLITE_DONE ? -ENOENT : errno_of(rc));
}

void store_decisions_free(struct decision_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++) {
        free(rows[i].record);
        free(rows[i].inputs);
    }
    free(rows);
}

int store_decisions_list(struct store *st, const char *tenant, long limit,
                         struct decision_row **ret, size_t *ret_n)
{
    sqlite3_stmt *s;
    struct decision_row *rows = NULL;
    size_t n = 0, cap = 0;
    bool oom = false;
    int rc, r = prep(st,
                     "SELECT id, tenant, at, outcome, record, seq, epoch, inputs FROM decisions "
                     "WHERE ?1 IS NULL OR tenant = ?1 ORDER BY at DESC, rowid DESC LIMIT ?2",
                     &s);
    if (r < 0)
        return r;
    bind_text(s, 1, tenant);
    sqlite3_bind_int64(s, 2, limit);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct decision_row *d = grow((void **)&rows, &n, &cap, sizeof(*rows));
        if (!d) {
            oom = true;
            break;
        }
        decision_read(s, d, &oom);
    }
    done(st, s);
    if (oom || rc != SQLITE_DONE) {
        store_decisions_free(rows, n);
        return oom ? -ENOMEM : errno_of(rc);
    }
    *ret = rows;
    *ret_n = n;
    return 0;
}

/* ---- placements ---- */

int store_placement_insert(struct store *st, const struct placement_row *p)
{
    sqlite3_stmt *s = kept(st, KEPT_PLACEMENT_INSERT);
    sqlite3_bind_text(s, 1, p->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, p->tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, p->state, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, p->decision_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, p->created_at);
    sqlite3_bind_int64(s, 6, p->expires_at);
    bind_opt_i64(s, 7, p->confirmed_at);
    bind_opt_i64(s, 8, p->ended_at);
    sqlite3_bind_double(s, 9, p->hours);
    sqlite3_bind_text(s, 10, p->precision, -1, SQLITE_STATIC);
    bind_text(s, 11, p->voucher);
    sqlite3_bind_text(s, 12, p->currency, -1, SQLITE_STATIC);
    sqlite3_bind_double(s, 13, p->list_total);
    sqlite3_bind_double(s, 14, p->subsidy);
    sqlite3_bind_double(s, 15, p->effective_total);
    bind_text(s, 16, p->idempotency_key);
    bind_text(s, 17, p->request_hash);
    sqlite3_bind_int64(s, 18, p->created_seq);
    int r = run_kept(s);
    if (r < 0)
        return r;
    if (strcmp(p->state, "held") == 0 && st->next_expiry_known && p->expires_at < st->next_expiry)
        st->next_expiry = p->expires_at;
    s = kept(st, KEPT_PIECE_INSERT);
    for (size_t i = 0; i < p->npieces; i++) {
        const struct piece_row *pc = &p->pieces[i];
        kept_done(s);
        sqlite3_bind_text(s, 1, p->id, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 2, (int)i);
        sqlite3_bind_text(s, 3, pc->center, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, pc->model, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 5, pc->cards);
        sqlite3_bind_double(s, 6, pc->price);
        sqlite3_bind_double(s, 7, pc->rtt_ms);
        sqlite3_bind_double(s, 8, pc->list_total);
        sqlite3_bind_double(s, 9, pc->subsidy);
        sqlite3_bind_double(s, 10, pc->effective_total);
        sqlite3_bind_text(s, 11, pc->region, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc != SQLITE_DONE) {
            kept_done(s);
            return errno_of(rc);
        }
    }
    kept_done(s);
    return 0;
}

static const char placement_cols[] =
    "SELECT id, tenant, state, decision_id, created_at, expires_at, confirmed_at, ended_at, "
    "hours, precision, voucher, currency, list_total, subsidy, effective_total, "
    "idempotency_key, request_hash, refunded FROM placements ";

static void placement_read(sqlite3_stmt *s, struct placement_row *p)
{
    col_copy(s, 0, p->id, sizeof(p->id));
    col_copy(s, 1, p->tenant, sizeof(p->tenant));
    col_copy(s, 2, p->state, sizeof(p->state));
    col_copy(s, 3, p->decision_id, sizeof(p->decision_id));
    p->created_at = sqlite3_column_int64(s, 4);
    p->expires_at = sqlite3_column_int64(s, 5);
    p->confirmed_at = sqlite3_column_int64(s, 6);
    p->ended_at = sqlite3_column_int64(s, 7);
    p->hours = sqlite3_column_double(s, 8);
    col_copy(s, 9, p->precision, sizeof(p->precision));
    col_copy(s, 10, p->voucher, sizeof(p->voucher));
    col_copy(s, 11, p->currency, sizeof(p->currency));
    p->list_total = sqlite3_column_double(s, 12);
    p->subsidy = sqlite3_column_double(s, 13);
    p->effective_total = sqlite3_column_double(s, 14);
    col_copy(s, 15, p->idempotency_key, sizeof(p->idempotency_key));
    col_copy(s, 16, p->request_hash, sizeof(p->request_hash));
    p->refunded = sqlite3_column_double(s, 17);
}

static int pieces_load(struct store *st, struct placement_row *p)
{
    sqlite3_stmt *s;
    size_t cap = 0;
    int rc, r = prep(st,
                     "SELECT center, model, cards, price, rtt_ms, list_total, subsidy, "
                     "effective_total, region FROM placement_pieces WHERE placement = ?1 "
                     "ORDER BY seq",
                     &s);
    if (r < 0)
        return r;
    sqlite3_bind_text(s, 1, p->id, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct piece_row *pc = grow((void **)&p->pieces, &p->npieces, &cap, sizeof(*pc));
        if (!pc) {
            rc = SQLITE_NOMEM;
            break;
        }
        col_copy(s, 0, pc->center, sizeof(pc->center));
        col_copy(s, 1, pc->model, sizeof(pc->model));
        pc->cards = (long)sqlite3_column_int64(s, 2);
        pc->price = sqlite3_column_double(s, 3);
        pc->rtt_ms = sqlite3_column_double(s, 4);
        pc->list_total = sqlite3_column_double(s, 5);
        pc->subsidy = sqlite3_column_double(s, 6);
        pc->effective_total = sqlite3_column_double(s, 7);
        col_copy(s, 8, pc->region, sizeof(pc->region));
    }
    done(st, s);
    return rc == SQLITE_DONE ? 0 : (errno_of(rc) ? errno_of(rc) : -EIO);
}

static int placement_query_one(struct store *st, const char *where, const char *a, const char *b,
                               struct placement_row *ret)
{
    sqlite3_stmt *s;
    char sql[512];
    snprintf(sql, sizeof(sql), "%s%s", placement_cols, where);
    int r = prep(st, sql, &s);
    if (r < 0)
        return r;
    sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC);
    if (b)
        sqlite3_bind_text(s, 2, b, -1, SQLITE_STATIC);
    memset(ret, 0, sizeof(*ret));
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        placement_read(s, ret);
    done(st, s);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? -ENOENT : errno_of(rc);
    r = pieces_load(st, ret);
    if (r < 0)
        store_placement_free(ret);
    return r;
}

int store_placement_get(struct store *st, const char *id, struct placement_row *ret)
{
    return placement_query_one(st, "WHERE id = ?1", id, NULL, ret);
}

int store_placement_by_key(struct store *st, const char *tenant, const char *key,
                           struct placement_row *ret)
{
    return placement_query_one(st, "WHERE tenant = ?1 AND idempotency_key = ?2", tenant, key, ret);
}

void store_placement_free(struct placement_row *p)
{
    if (!p)
        return;
    free(p->pieces);
    p->pieces = NULL;
    p->npieces = 0;
}

void store_placements_free(struct placement_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++)
        store_placement_free(&rows[i]);
    free(rows);
}

int store_placements_list(struct store *st, const char *tenant, long limit,
                          struct placement_row **ret, size_t *ret_n)
{
    sqlite3_stmt *s;
    char sql[512];
    struct placement_row *rows = NULL;
    size_t n = 0, cap = 0;
    snprintf(sql, sizeof(sql),
             "%sWHERE ?1 IS NULL OR tenant = ?1 "
             "ORDER BY created_at DESC, rowid DESC LIMIT ?2",
             placement_cols);
    int rc, r = prep(st, sql, &s);
    if (r < 0)
        return r;
    bind_text(s, 1, tenant);
    sqlite3_bind_int64(s, 2, limit);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct placement_row *p = grow((void **)&rows, &n, &cap, sizeof(*rows));
        if (!p) {
            rc = SQLITE_NOMEM;
            break;
        }
        placement_read(s, p);
    }
    done(st, s);
    r = rc == SQLITE_DONE ? 0 : (errno_of(rc) ? errno_of(rc) : -EIO);
    for (size_t i = 0; r == 0 && i < n; i++)
        r = pieces_load(st, &rows[i]);
    if (r < 0) {
        store_placements_free(rows, n);
        return r;
    }
    *ret = rows;
    *ret_n = n;
    return 0;
}

int store_placement_set_money(struct store *st, const char *id, double subsidy, double refunded)
{
    sqlite3_stmt *s;
    int r = prep(st,
                 "UPDATE placement_pieces SET subsidy = CASE WHEN ?2 <= 0 THEN 0 ELSE subsidy * "
                 "?2 / (SELECT subsidy FROM placements WHERE id = ?1) END, "
                 "effective_total = list_total - CASE WHEN ?2 <= 0 THEN 0 ELSE subsidy * ?2 / "
                 "(SELECT subsidy FROM placements WHERE id = ?1) END "
                 "WHERE placement = ?1 AND (SELECT subsidy FROM placements WHERE id = ?1) > 0",
                 &s);
    if (r < 0)
        return r;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_double(s, 2, subsidy);
    r = run(st, s);
    if (r < 0)
        return r;
    r = prep(st,
             "UPDATE placements SET subsidy = ?2, effective_total = list_total - ?2, "
             "refunded = ?3 WHERE id = ?1",
             &s);
    if (r < 0)
        return r;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_double(s, 2, subsidy);
    sqlite3_bind_double(s, 3, refunded);
    r = run(st, s);
    if (r == 0 && sqlite3_changes(st->db) == 0)
        return -ENOENT;
    return r;
}

int store_placement_transition(struct store *st, const char *id, const char *from, const char *to,
                               int64_t now)
{
    sqlite3_stmt *s;
    int r = prep(st,
                 "UPDATE placements SET state = ?3, "
                 "confirmed_at = CASE WHEN ?3 = 'confirmed' THEN ?4 ELSE confirmed_at END, "
                 "confirmed_seq = CASE WHEN ?3 = 'confirmed' THEN ?5 ELSE confirmed_seq END, "
                 "ended_at = CASE WHEN ?3 IN ('released', 'expired') THEN ?4 ELSE ended_at END, "
                 "ended_seq = CASE WHEN ?3 IN ('released', 'expired') THEN ?5 ELSE ended_seq END "
                 "WHERE id = ?1 AND state = ?2",
                 &s);
    if (r < 0)
        return r;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, from, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, to, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now);
    sqlite3_bind_int64(s, 5, st->seq);
    st->placement_changes++;
    r = run(st, s);
    if (r == 0 && sqlite3_changes(st->db) == 0)
        return -ESTALE;
    return r;
}
