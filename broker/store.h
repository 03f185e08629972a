/*
 * store — the broker's durable state in one SQLite file: schema migrations,
 * the catalog, regions and latency, tenants and tokens, centers with feeds and
 * pool snapshots, vouchers, decisions and placements. The only user of
 * sqlite3.h; SQLite errors become negative errno here. Every other module
 * asks the store, so a second backend (PostgreSQL) is a second file.
 */
#ifndef SUANWANG_STORE_H
#define SUANWANG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "model.h"

struct store;

struct region {
    char id[65];
    char city[128];
    double lat;
    double lon;
    char hub[64]; /* "" when none */
};

struct latency_row {
    char a[65];
    char b[65];
    double rtt_ms;
    enum rtt_source source;
    char note[256];
    int64_t updated_at;
};

struct feed_config {
    int idx;
    char adapter[32];
    char mode[8]; /* "push" | "pull" */
    char *url;    /* owned; NULL for push */
    long interval_s;
    char *options_json;    /* owned; "{}" when none */
    int64_t last_success;  /* 0 = never */
    int64_t last_error_at; /* 0 = never */
    char *last_error;      /* owned; NULL when none */
    char *warning;         /* owned; partial data noted by the adapter, or NULL */
    char *auth_json;       /* owned; secrets for the request headers; never returned */
    bool h2c;              /* speak HTTP/2 with prior knowledge over cleartext */
    long pools_seen;       /* pools in the last good snapshot, -1 before the first */
};

struct center_row {
    char id[65];
    char name[129];
    char operator_id[65];
    char region[65];
    enum center_status status;
    char *labels_json; /* owned; a JSON object of strings */
    long staleness_s;
    int64_t created_at;
    int64_t updated_at;
    struct feed_config *feeds; /* owned */
    size_t nfeeds;
};

/* A center's pool, or (in feed_pools) one feed's view of it. */
struct pool_row {
    char center[65];
    int idx; /* the feed (feed_pools rows only) */
    char model[64];
    bool has_counts; /* feed_pools rows: counts known */
    bool has_price;  /* feed_pools rows: price known */
    long total;
    long free;
    long largest_block;
    double price;      /* per card-hour in currency */
    double spot_price; /* < 0 when none */
    char currency[4];
    char vendor[32];   /* "" when not stated */
    double memory_gib; /* < 0 when not stated */
    int domestic;      /* -1 when not stated */
    char *tflops_json; /* owned; NULL when not stated */
    int64_t observed_at;
};

struct pool_usage {
    char center[65];
    char model[64];
    long held;             /* cards in live holds */
    long confirmed_unseen; /* cards confirmed after the pool's observed_at */
};

struct voucher_row {
    char id[65];
    char issuer[65];
    char tenant[65];
    double rate;
    double amount;
    double balance;
    int64_t valid_from;
    int64_t valid_until;
    char *eligible_json; /* owned */
    int64_t created_at;
};

struct decision_row {
    char id[40];
    char tenant[65];
    int64_t at;
    char outcome[16]; /* placed | quoted | unplaceable */
    char *record;     /* owned JSON text: the whole record, or its summary when epoch > 0 */
    int64_t seq;      /* place in the order of decisions; 0 for records written whole */
    int64_t epoch;    /* the routing inputs it was made on (store_epoch_get); 0 = none */
    char *inputs;     /* owned JSON text: the vouchers routing saw, or NULL */
};

/* A placement piece live at some decision (store_usage_at). */
struct usage_piece {
    char center[65];
    char model[64];
    long cards;
    bool confirmed;       /* confirmed before the decision (else held) */
    int64_t confirmed_at; /* when confirmed */
};

struct piece_row {
    char center[65];
    char region[65];
    char model[64];
    long cards;
    double price;
    double rtt_ms;
    double list_total;
    double subsidy;
    double effective_total;
};

struct placement_row {
    char id[40];
    char tenant[65];
    char state[12]; /* held | confirmed | released | expired */
    char decision_id[40];
    int64_t created_at;
    int64_t expires_at;
    int64_t confirmed_at; /* 0 when not */
    int64_t ended_at;     /* 0 when not */
    double hours;
    char precision[8];
    char voucher[65]; /* "" when none */
    char currency[4];
    double list_total;
    double subsidy;
    double effective_total;
    double refunded;           /* subsidy returned to the voucher on release */
    char idempotency_key[129]; /* "" when none */
    char request_hash[65];
    int64_t created_seq;      /* the seq of the decision that made it */
    struct piece_row *pieces; /* owned */
    size_t npieces;
};

/* Opens (creating) the database and applies pending migrations. On failure
 * returns a negative errno and writes a message to errbuf. */
int store_open(const char *path, struct store **ret, char *errbuf, size_t errlen);
void store_close(struct store *st);

/* The last SQLite error message, for logs. */
const char *store_errmsg(struct store *st);

/*
 * Group commit: between store_group_begin and store_group_end every
 * store_begin / store_commit / store_rollback is a savepoint of one
 * transaction, committed (and synced) by store_group_end, so many requests of
 * one read pay for one sync. A caller answers none of them before the end
 * succeeded. store_group_begin is -EBUSY when a transaction is open. A group
 * whose every changed row came from commits made with fsync off (see
 * store_set_fsync) is committed without a sync.
 */
int store_group_begin(struct store *st);
int store_group_end(struct store *st);
bool store_in_group(const struct store *st);

int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);

/*
 * fsync on commit (the default) or not. Without it a commit still survives a
 * crash of the process, only not a power loss: for data that the next poll
 * brings again anyway (feed snapshots), never for placements. Inside a group
 * it marks the next commits only (the group's end syncs unless all of its
 * changes were made so).
 */
int store_set_fsync(struct store *st, bool on);

/* A nested step inside a transaction that can be undone alone. */
int store_savepoint(struct store *st);
/* Ends the step: keep its changes, or undo them. */
int store_savepoint_end(struct store *st, bool keep);

int store_load_catalog(struct store *st, struct catalog *ret);

int store_region_put(struct store *st, const struct region *r);
int store_regions_load(struct store *st, struct region **ret, size_t *ret_n);
int store_latency_put(struct store *st, const struct latency_row *l);
int store_latency_load(struct store *st, struct latency_row **ret, size_t *ret_n);

/* -EEXIST when the tenant exists. */
int store_tenant_add(struct store *st, const char *id, const char *name, int64_t now);
/* 1 when it exists, 0 when not, or a negative errno. */
int store_tenant_exists(struct store *st, const char *id);

struct tenant_row {
    char id[65];
    char name[129];
    int64_t created_at;
    long max_cards_held; /* quota of cards in live holds: -1 the configured default, 0 none */
};

/* 0 and the tenant, or -ENOENT. */
int store_tenant_get(struct store *st, const char *id, struct tenant_row *ret);
/* Sets the tenant's name and quota; -ENOENT. */
int store_tenant_update(struct store *st, const struct tenant_row *t);
/* Cards in the tenant's holds that are live at now (confirmed placements do not count). */
int store_tenant_cards_held(struct store *st, const char *tenant, int64_t now, long *ret);
int store_token_add(struct store *st, const char *hash, enum role role, const char *subject,
                    int64_t now);
/* 0 and the token's role and subject, or -ENOENT. */
int store_token_find(struct store *st, const char *hash, enum role *ret_role, char *subject,
                     size_t subject_len);

/* -EEXIST when the id is taken. Writes the center's feeds too. */
int store_center_insert(struct store *st, const struct center_row *c);
/* Replaces the center's fields and feeds (feed health kept for unchanged feeds); -ENOENT. */
int store_center_update(struct store *st, const struct center_row *c);
/* Deletes the center with its feeds and pools; -ENOENT. */
int store_center_delete(struct store *st, const char *id);
/* All centers (id NULL) or one (-ENOENT when missing), with feeds. */
int store_centers_load(struct store *st, const char *id, struct center_row **ret, size_t *ret_n);
void store_centers_free(struct center_row *rows, size_t n);
/*
 * Records a feed's outcome: error NULL for success (then warning and
 * pools_seen describe the snapshot; pools_seen < 0 keeps both as they were,
 * for an unchanged document); on error the last good snapshot stays.
 */
int store_feed_result(struct store *st, const char *center, int idx, int64_t now, const char *error,
                      const char *warning, long pools_seen);

/* A feed whose snapshot was stored, for store_feed_results_ok. */
struct feed_ok {
    const char *center; /* borrowed */
    int idx;
    const char *warning; /* borrowed; NULL or "" for none */
    long pools_seen;     /* >= 0 */
    bool in_pools;       /* the snapshot is kept only as the center's pools (feeds.in_pools) */
};

/* store_feed_result(..., NULL, warning, pools_seen) for many feeds, with few statements. */
int store_feed_results_ok(struct store *st, int64_t now, const struct feed_ok *oks, size_t n);

/*
 * Says whether a feed's snapshot is kept only as its center's pools (the
 * center's only feed, every pool with counts and a price) instead of in
 * feed_pools. The readers below see it either way.
 */
int store_feed_set_in_pools(struct store *st, const char *center, int idx, bool in_pools);

/* Replaces one feed's snapshot (feed_pools rows of center/idx), in the caller's transaction. */
int store_feed_pools_replace(struct store *st, const char *center, int idx,
                             const struct pool_row *rows, size_t n);
/* Marks a feed's snapshot as observed at now (the source answered "not modified"). */
int store_feed_pools_touch(struct store *st, const char *center, int idx, int64_t now);
/* Every feed snapshot row of a center (those kept as its pools too), by feed index then model. */
int store_feed_pools_load(struct store *st, const char *center, struct pool_row **ret,
                          size_t *ret_n);
/* The same without feed idx's rows: the center's other feeds. */
int store_feed_pools_load_others(struct store *st, const char *center, int idx,
                                 struct pool_row **ret, size_t *ret_n);

/* Replaces every pool of a center with rows (in the caller's transaction). */
int store_pools_replace(struct store *st, const char *center, const struct pool_row *rows,
                        size_t n);

/*
 * For a batch of feeds, in the caller's transaction. A statement that fails
 * half-way undoes itself, not the statements before it: run them inside a
 * savepoint, and undo it on failure.
 */
/*
 * The feed_pools rows of these centers (ids sorted, no repeats), by center,
 * feed index, model; not the snapshots kept as pools (a center's only feed).
 */
int store_feed_pools_load_centers(struct store *st, const char *const *centers, size_t n,
                                  struct pool_row **ret, size_t *ret_n);
/* Inserts rows into feed_pools, each under its own center and idx. */
int store_feed_pools_insert(struct store *st, const struct pool_row *rows, size_t n);
/*
 * Makes rows (each under its own center) the pools of these centers (ids sorted,
 * no repeats): a pool listed again is updated in place, one listed no more is
 * deleted, a new one inserted.
 */
int store_pools_put_centers(struct store *st, const char *const *centers, size_t n,
                            const struct pool_row *rows, size_t nrows);
/* Every pool of every center, or of one center when center is not NULL. */
int store_pools_load(struct store *st, const char *center, struct pool_row **ret, size_t *ret_n);
void store_pools_free(struct pool_row *rows, size_t n);

/* Cards held (live at now) and confirmed-but-unseen per pool. */
int store_pool_usage(struct store *st, int64_t now, struct pool_usage **ret, size_t *ret_n);
/* Moves holds whose time is up to expired; returns how many, or a negative errno. */
int store_expire_holds(struct store *st, int64_t now);

/* Counts behind the gauges of /metrics, read without writing. */
struct store_stats {
    long held;            /* placements in live holds */
    long confirmed;       /* placements confirmed */
    long released;        /* placements released */
    long expired;         /* placements expired, and holds whose time is up but not yet swept */
    long cards_held;      /* cards in live holds */
    long cards_confirmed; /* cards in confirmed placements */
    long centers;
    long pools;
};

int store_stats_load(struct store *st, int64_t now, struct store_stats *ret);

struct ledger_row {
    int64_t seq;
    int64_t at;
    char kind[8];       /* issue | draw | refund */
    double amount;      /* signed */
    double balance;     /* after the movement */
    char placement[40]; /* "" when none */
    char note[128];
};

/* Inserts the voucher and its "issue" ledger movement (call inside a transaction). */
int store_voucher_insert(struct store *st, const struct voucher_row *v);
/*
 * Moves delta (signed) into a voucher's balance and records it in the ledger
 * (call inside a transaction). -ENOENT, or -ERANGE when the balance would go
 * below 0. *ret_balance (may be NULL) gets the new balance.
 */
int store_voucher_move(struct store *st, const char *id, const char *kind, double delta,
                       const char *placement, int64_t at, const char *note, double *ret_balance);
/* The voucher's ledger, oldest first. */
int store_voucher_ledger(struct store *st, const char *id, struct ledger_row **ret, size_t *ret_n);
int store_voucher_get(struct store *st, const char *id, struct voucher_row *ret);
int store_vouchers_list(struct store *st, const char *tenant, struct voucher_row **ret,
                        size_t *ret_n);
void store_vouchers_free(struct voucher_row *rows, size_t n);

/* One tenant's or one center's share of an issuer's vouchers. */
struct report_share {
    char key[65];    /* the tenant or the center */
    long vouchers;   /* the tenant's vouchers from this issuer (tenants only) */
    long placements; /* placements that drew from them */
    double drawn;    /* drawn by confirms, > 0 */
    double refunded; /* given back by releases */
};

/* An issuer's vouchers summed up, from the vouchers and their ledger. */
struct issuer_report {
    char issuer[65];
    long vouchers;
    double issued;                /* sum of amounts */
    double drawn;                 /* sum of draws, > 0 */
    double refunded;              /* sum of refunds */
    double balance;               /* sum of balances: issued - drawn + refunded */
    struct report_share *tenants; /* owned; by tenant */
    size_t ntenants;
    struct report_share *centers; /* owned; by center */
    size_t ncenters;
};

/*
 * The report of one issuer (NULL: of every issuer, by issuer id). A
 * placement's draw and refund are split over its centers in proportion to its
 * pieces' subsidies. One issuer with no vouchers is -ENOENT.
 */
int store_voucher_report(struct store *st, const char *issuer, struct issuer_report **ret,
                         size_t *ret_n);
void store_voucher_report_free(struct issuer_report *rows, size_t n);

/*
 * The next decision's seq (one more than any stored or handed out). A
 * transition of a placement is stamped with the last seq handed out.
 */
int64_t store_next_seq(struct store *st);
/*
 * Counts changes of placements other than inserts (transitions, expiry), so a
 * cache of live holds can tell when to reload.
 */
uint64_t store_placement_changes(const struct store *st);

/* Keeps a routing-input document (routebase.h); *ret_id gets its id. */
int store_epoch_insert(struct store *st, int64_t at, const char *base, int64_t *ret_id);
/* The document of an epoch (owned text), or -ENOENT. */
int store_epoch_get(struct store *st, int64_t id, char **ret);
/*
 * The placement pieces live at decision seq made at time `at` (see
 * schema/006-decision-epochs.sql): held ones whose hold had not run out at
 * `at`, and confirmed ones.
 */
int store_usage_at(struct store *st, int64_t seq, int64_t at, struct usage_piece **ret,
                   size_t *ret_n);

int store_decision_insert(struct store *st, const struct decision_row *d);
int store_decision_get(struct store *st, const char *id, struct decision_row *ret);
/* Newest first; tenant NULL for all. */
int store_decisions_list(struct store *st, const char *tenant, long limit,
                         struct decision_row **ret, size_t *ret_n);
void store_decisions_free(struct decision_row *rows, size_t n);

int store_placement_insert(struct store *st, const struct placement_row *p);
int store_placement_get(struct store *st, const char *id, struct placement_row *ret);
/* The tenant's placement created with that Idempotency-Key, or -ENOENT. */
int store_placement_by_key(struct store *st, const char *tenant, const char *key,
                           struct placement_row *ret);
int store_placements_list(struct store *st, const char *tenant, long limit,
                          struct placement_row **ret, size_t *ret_n);
/* Sets a placement's subsidy (pieces scaled to match) and refunded amount. */
int store_placement_set_money(struct store *st, const char *id, double subsidy, double refunded);
/* Moves a placement from one state to another; -ESTALE when it is not in `from`. */
int store_placement_transition(struct store *st, const char *id, const char *from, const char *to,
                               int64_t now);
void store_placement_free(struct placement_row *p);
void store_placements_free(struct placement_row *rows, size_t n);

#endif
