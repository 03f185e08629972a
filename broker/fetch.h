/*
 * fetch — asynchronous HTTP(S) and file:// fetching for feeds: libcurl's
 * multi interface driven by the daemon's libev loop (socket and timer
 * callbacks; never a blocking call, never a busy loop). HTTP/2 multiplexing
 * where the server offers it, at most 4 shared connections to one host and port
 * (transfers beyond wait for one), timeouts, a hard body cap, conditional requests
 * (ETag / Last-Modified). The only file that includes curl.h; curl's errors
 * become negative errno here. h2c goes through our own HTTP/2 client, and libcurl
 * is loaded only once a transfer needs it. It knows nothing of adapters or centers.
 */
#ifndef SUANWANG_FETCH_H
#define SUANWANG_FETCH_H

#include <stdbool.h>
#include <stddef.h>

struct ev_loop;
struct fetch;
struct fetch_job;

struct fetch_options {
    const char *url;            /* http://, https:// or file:// */
    const char *const *headers; /* "Name: value" lines, NULL-terminated, or NULL; copied */
    const char *etag;           /* sent as If-None-Match, or NULL */
    const char *last_modified;  /* sent as If-Modified-Since, or NULL */
    size_t max_bytes;           /* body cap; beyond it the transfer fails with -EFBIG */
    double connect_timeout_s;   /* 0 = 5 s */
    double total_timeout_s;     /* 0 = 30 s; bounds a server that trickles or never ends */
    bool h2_prior_knowledge;    /* cleartext http:// spoken as HTTP/2 from the first byte */
    const char *ca_file;        /* PEM certificates to verify https:// servers with, or NULL for
                                   the system's; copied */
};

struct fetch_result {
    int err;           /* 0, or -ETIMEDOUT, -ECONNREFUSED, -EHOSTUNREACH, -EFBIG,
                          -EPROTO (bad response), -ENOENT (file), -ENOMEM, -EIO, -ELIBACC
                          (libcurl, loaded when a transfer first needs it, is not there) */
    char errmsg[256];  /* what went wrong, for operators; never holds headers */
    long status;       /* HTTP status; 0 for file:// or when no response came */
    bool not_modified; /* a 304 answer to a conditional request */
    const char *body;  /* NUL-terminated; valid only during the callback */
    size_t len;
    char etag[256];          /* the response's ETag, or "" */
    char last_modified[128]; /* the response's Last-Modified, or "" */
    int http_version;        /* 1 or 2; 0 for file:// */
    double seconds;          /* total transfer time */
};

/* Called once per job, from the loop, unless the job was cancelled first. */
typedef void fetch_done_fn(void *userdata, const struct fetch_result *res);

/* Sets up fetching on a loop. 0 or a negative errno. */
int fetch_new(struct ev_loop *loop, struct fetch **ret);

/*
 * Starts a transfer. The options (and the strings they point to) are copied.
 * Returns 0 and *ret_job (may be NULL when the caller does not need it), or a
 * negative errno (-EINVAL for an unsupported URL scheme). done is never called
 * from inside fetch_start.
 */
int fetch_start(struct fetch *f, const struct fetch_options *o, fetch_done_fn *done, void *userdata,
                struct fetch_job **ret_job);

/*
 * Readies libcurl now (loads and initializes it) when transfers of url will need it: not an
 * http:// URL with h2_prior_knowledge, which our own HTTP/2 client takes. The feed scheduler
 * calls it as it makes a feed's job, so that loading libcurl (about 5 ms) happens then, at
 * start-up for the feeds already registered, not in the middle of a round of polls. A failure
 * is left for each transfer that needs libcurl to report.
 */
void fetch_warm(struct fetch *f, const char *url, bool h2_prior_knowledge);

/* Stops a transfer; its callback will not be called. Safe from inside any callback. */
void fetch_cancel(struct fetch_job *job);

/* Transfers running now. */
unsigned fetch_active(const struct fetch *f);

/* Cancels every transfer and frees. NULL is a no-op. Not from inside a callback. */
void fetch_free(struct fetch *f);

#endif
