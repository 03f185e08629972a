/*
 * feeds — the pull-feed scheduler: one job per pull feed of every center,
 * each polled on its own interval with jitter, with exponential backoff
 * after failures, conditional requests, paging for paged price feeds and a
 * per-center concurrency limit. It fetches (fetch.c), parses (the feed's
 * adapter) and applies (inventory.c); a failure is recorded on the feed and
 * leaves the last good snapshot in place, touching no other center.
 */
#ifndef SUANWANG_FEEDS_H
#define SUANWANG_FEEDS_H

#include <stdbool.h>
#include <stdint.h>

struct ev_loop;
struct feeds;
struct fetch;
struct inventory;
struct store;
struct config;

/* Limits of the scheduler; 0 means the default, except first_delay_s (negative = default). */
struct feeds_limits {
    double max_backoff_s; /* ceiling of the retry delay (default 600) */
    double jitter;        /* +/- share of the interval (default 0.1) */
    unsigned per_center;  /* transfers at once per center (default 2) */
    double first_delay_s; /* new feeds' first polls spread evenly over it, in center order
                             (default 1; 0 = at once: 10 us apart, in that order) */
};

int feeds_new(struct ev_loop *loop, struct store *st, struct inventory *inv,
              const struct config *cfg, struct fetch *fetch, const struct feeds_limits *limits,
              struct feeds **ret);

/*
 * Reconciles the jobs with the inventory's pull feeds: starts jobs for new
 * feeds, restarts changed ones, stops removed ones. Call after any change to
 * centers. Returns 0 or a negative errno.
 */
int feeds_sync(struct feeds *fs);

/* The same for one center (registered, changed or deleted): cheaper than a full sync. */
int feeds_sync_center(struct feeds *fs, const char *center);

/*
 * When a pull feed polls next (Unix ms), 0 when it is not scheduled (a push
 * feed, or a poll in flight: *ret_polling tells).
 */
int64_t feeds_next_poll(const struct feeds *fs, const char *center, int idx, bool *ret_polling);

/* Pull feeds being scheduled, and transfers in flight. */
unsigned feeds_jobs(const struct feeds *fs);
unsigned feeds_in_flight(const struct feeds *fs);

/*
 * Readiness after start: whether the first poll of every pull feed known at
 * start (and not removed since) has ended, committed or failed; it stays true
 * once it is. Feeds added later do not count. NULL (no scheduler) is ready.
 */
bool feeds_ready(const struct feeds *fs);
/* The feeds still waiting for that first poll to end: 0 once ready. */
unsigned feeds_pending_first_polls(const struct feeds *fs);

/* Stops every job and frees. NULL is a no-op. */
void feeds_free(struct feeds *fs);

#endif
