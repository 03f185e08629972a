/*
 * fetch — feed documents over http://, https:// and file:// with libcurl's multi interface,
 * driven by the daemon's libev loop: curl tells us which sockets to watch (one ev_io each) and
 * when to call it back (one ev_timer); we never block and never spin. It multiplexes HTTP/2
 * where offered, bounds every transfer in time and size, sends conditional requests and keeps
 * the response's validators. The only file that includes curl.h; curl's codes become negative
 * errno here. It does not retry, schedule, parse or log: the caller decides all of that.
 */
#include "fetch.h"
#include "dynlib.h"
#include "h2_client.h"
#include "plain_url.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <ev.h>

/*
 * libcurl is loaded the first time a transfer needs it (https://, file://, HTTP/1.1, or an h2c
 * URL our own HTTP/2 client does not take), not when the daemon starts. Mapping libcurl and
 * what it depends on (TLS, Kerberos, LDAP, SSH, IDN, ...) and running their initializers took
 * 5.5 ms of every start, and a broker whose feeds are all h2c never needs any of it. curl.h
 * still gives every function's type; the calls go through pointers found with dlsym(). The
 * library stays loaded until the process ends (it and its dependencies are not made to be
 * unloaded). Without it, each transfer that needs it fails with -ELIBACC and dlerror()'s text.
 */
#ifndef FETCH_CURL_SONAME
#define FETCH_CURL_SONAME "libcurl.so.4" /* a test build names one that is not there */
#endif
#define FETCH_CURL_FUNCTIONS(X)                                                                    \
    X(curl_global_init)                                                                            \
    X(curl_global_cleanup)                                                                         \
    X(curl_version_info)                                                                           \
    X(curl_easy_init)                                                                              \
    X(curl_easy_cleanup)                                                                           \
    X(curl_easy_setopt)                                                                            \
    X(curl_easy_getinfo)                                                                           \
    X(curl_easy_strerror)                                                                          \
    X(curl_multi_init)                                                                             \
    X(curl_multi_cleanup)                                                                          \
    X(curl_multi_setopt)                                                                           \
    X(curl_multi_add_handle)                                                                       \
    X(curl_multi_remove_handle)                                                                    \
    X(curl_multi_socket_action)                                                                    \
    X(curl_multi_assign)                                                                           \
    X(curl_multi_info_read)                                                                        \
    X(curl_slist_append)                                                                           \
    X(curl_slist_free_all)                                                                         \
    X(curl_url)                                                                                    \
    X(curl_url_set)                                                                                \
    X(curl_url_get)                                                                                \
    X(curl_url_cleanup)                                                                            \
    X(curl_free)

static struct {
#define FETCH_CURL_SLOT(name) __typeof__(name) *name;
    FETCH_CURL_FUNCTIONS(FETCH_CURL_SLOT)
#undef FETCH_CURL_SLOT
    bool loaded;      /* every function found */
    bool lacking;     /* the library lacks one: no use trying again */
    double failed_at; /* CLOCK_MONOTONIC seconds of the last dlopen() that failed, or 0 */
    char why[160];    /* after a failure: dlerror()'s text */
} fetch_curl;

/* After a dlopen() that failed, how long transfers fail at once before it is tried again: the
   library may be installed meanwhile, or the failure passing (out of descriptors, memory). */
#define FETCH_CURL_RETRY_S 30.0

/* Loads libcurl, once per process. 0, or -ELIBACC with fetch_curl.why saying why. */
static int fetch_curl_load(void)
{
    static const struct dynlib_sym syms[] = {
#define FETCH_CURL_SYM(name) {#name, &fetch_curl.name},
        FETCH_CURL_FUNCTIONS(FETCH_CURL_SYM)
#undef FETCH_CURL_SYM
    };
    struct timespec ts;
    double now;
    int rv;

    if (fetch_curl.loaded)
        return 0;
    if (fetch_curl.lacking)
        return -ELIBACC;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    if (fetch_curl.failed_at > 0 && now - fetch_curl.failed_at < FETCH_CURL_RETRY_S)
        return -ELIBACC;
    rv = dynlib_open(FETCH_CURL_SONAME, syms, sizeof(syms) / sizeof(syms[0]), fetch_curl.why,
                     sizeof(fetch_curl.why));
    if (rv == -ELIBBAD) /* a libcurl older than the one built against */
        fetch_curl.lacking = true;
    else if (rv < 0)
        fetch_curl.failed_at = now > 0 ? now : 1e-9;
    if (rv < 0)
        return -ELIBACC;
    fetch_curl.loaded = true;
    return 0;
}

/*
 * The calls below go through fetch_curl. With FETCH_CURL_TYPECHECK they are left as curl.h has
 * them, so that a build of this file (see meson.build) has curl's checks of option types.
 */
#ifndef FETCH_CURL_TYPECHECK
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_multi_setopt
#define curl_global_init (*fetch_curl.curl_global_init)
#define curl_global_cleanup (*fetch_curl.curl_global_cleanup)
#define curl_version_info (*fetch_curl.curl_version_info)
#define curl_easy_init (*fetch_curl.curl_easy_init)
#define curl_easy_cleanup (*fetch_curl.curl_easy_cleanup)
#define curl_easy_setopt (*fetch_curl.curl_easy_setopt)
#define curl_easy_getinfo (*fetch_curl.curl_easy_getinfo)
#define curl_easy_strerror (*fetch_curl.curl_easy_strerror)
#define curl_multi_init (*fetch_curl.curl_multi_init)
#define curl_multi_cleanup (*fetch_curl.curl_multi_cleanup)
#define curl_multi_setopt (*fetch_curl.curl_multi_setopt)
#define curl_multi_add_handle (*fetch_curl.curl_multi_add_handle)
#define curl_multi_remove_handle (*fetch_curl.curl_multi_remove_handle)
#define curl_multi_socket_action (*fetch_curl.curl_multi_socket_action)
#define curl_multi_assign (*fetch_curl.curl_multi_assign)
#define curl_multi_info_read (*fetch_curl.curl_multi_info_read)
#define curl_slist_append (*fetch_curl.curl_slist_append)
#define curl_slist_free_all (*fetch_curl.curl_slist_free_all)
#define curl_url (*fetch_curl.curl_url)
#define curl_url_set (*fetch_curl.curl_url_set)
#define curl_url_get (*fetch_curl.curl_url_get)
#define curl_url_cleanup (*fetch_curl.curl_url_cleanup)
#define curl_free (*fetch_curl.curl_free)
#endif

#define FETCH_DEFAULT_CONNECT_S 5.0
#define FETCH_DEFAULT_TOTAL_S 30.0
#define FETCH_MAX_TIMEOUT_MS 86400000.0            /* a day: any longer is a mistake */
#define FETCH_DEFAULT_MAX_BYTES ((size_t)16 << 20) /* when max_bytes is 0 */
#define FETCH_MAX_MAX_BYTES (SIZE_MAX / 2)         /* room for the NUL, no overflow */
#define FETCH_MAX_URL 8192                         /* bytes */
#define FETCH_MAX_HEADER_BYTES 16384               /* sum of the caller's header lines */
#define FETCH_BODY_CHUNK ((size_t)16384)           /* first body allocation */
#define FETCH_USER_AGENT "suanwang-fetch/0.1"
#define FETCH_MAX_HOST_CONNECTIONS 4L /* per host and port, for shared connections */

/* So that FETCH_MAX_MAX_BYTES always fits CURLOPT_MAXFILESIZE_LARGE. */
_Static_assert(sizeof(curl_off_t) >= sizeof(size_t), "curl_off_t narrower than size_t");

enum fetch_scheme {
    FETCH_SCHEME_HTTP,
    FETCH_SCHEME_HTTPS,
    FETCH_SCHEME_FILE,
};

enum fetch_state {
    FETCH_JOB_RUNNING,   /* in the multi handle, its callback owed */
    FETCH_JOB_FAILING,   /* failed outside curl's reporting (OOM, no libcurl); on f->reap,
                            callback owed */
    FETCH_JOB_CANCELLED, /* on f->reap, no callback */
    FETCH_JOB_DONE,      /* its callback is running; freed when it returns */
};

/*
 * A curl multi handle on the loop: its sockets (one ev_io each) and its single timeout.
 * Transfers that may share connections go through one with a per-host connection cap;
 * those that never share (h2c on libcurl < 8, see fetch_job_setup()) through one without.
 */
struct fetch_multi {
    struct fetch *f; /* borrowed */
    CURLM *multi;    /* owned */
    ev_timer timer;  /* curl's single timeout */
};

/* One socket curl asked us to watch (shared by every transfer on that connection). */
struct fetch_sock {
    struct fetch *f;                /* borrowed */
    struct fetch_multi *m;          /* borrowed: the multi handle that owns the socket */
    struct fetch_sock *prev, *next; /* links in f->socks */
    ev_io io;                       /* fd is curl's; curl closes it after telling us */
};

struct fetch_job {
    struct fetch *f;               /* borrowed */
    struct fetch_job *prev, *next; /* links in f->jobs */
    struct fetch_job *reap_next;   /* link in f->reap while FAILING or CANCELLED */
    enum fetch_state state;
    CURL *easy;                   /* owned; CURLOPT_PRIVATE points back here; NULL for h2s */
    struct h2_client_stream *h2s; /* borrowed from f->h2: an h2c transfer, or NULL */
    struct fetch_multi *m;        /* borrowed: the multi handle it goes through */
    bool in_multi;                /* easy has been added to m->multi */
    struct curl_slist *headers;   /* owned; the request headers */
    fetch_done_fn *done;          /* called once unless cancelled */
    void *userdata;               /* borrowed */
    size_t max_bytes;             /* decoded body cap, 1..FETCH_MAX_MAX_BYTES */
    char *body;                   /* owned; body[len] is always room for the NUL */
    size_t len, cap;
    int err;                      /* set by our own callbacks; overrides curl's code */
    char etag[256];               /* the current response's ETag, or "" */
    char last_modified[128];      /* the current response's Last-Modified, or "" */
    char errmsg[256];             /* with err: what failed */
    char errbuf[CURL_ERROR_SIZE]; /* CURLOPT_ERRORBUFFER */
};

/*
 * An h2c URL parsed once (fetch_h2_target): a feed asks for the same URL every few
 * seconds, and libcurl's URL parser cost a third of starting a poll.
 */
struct fetch_h2_cached {
    struct fetch_h2_cached *next; /* in its bucket */
    unsigned port;
    const char *host; /* these three point into text, after the URL */
    const char *authority;
    const char *path;
    char text[]; /* the URL, host, authority and path, each terminated */
};

#define FETCH_H2_BUCKETS 1024
#ifndef FETCH_H2_CACHED_MAX
#define FETCH_H2_CACHED_MAX 16384 /* URLs; past this the cache starts over */
#endif

struct fetch {
    struct ev_loop *loop;      /* borrowed */
    struct fetch_multi shared; /* transfers that may share connections, capped per host */
    struct fetch_multi single; /* transfers with a connection each, not capped */
    struct h2_client *h2;      /* owned; h2c transfers */
    ev_prepare reaper;         /* frees cancelled jobs, reports FAILING ones, outside curl */
    struct fetch_sock *socks;  /* owned */
    struct fetch_job *jobs;    /* owned, in every state but DONE */
    struct fetch_job *reap;    /* borrowed from jobs: FAILING or CANCELLED */
    unsigned nactive;          /* jobs RUNNING or FAILING */
    bool curl_ready;           /* libcurl loaded, initialized, shared and single made */
    bool h2c_no_reuse;         /* libcurl < 8.0.0: see fetch_job_setup() */
    struct fetch_h2_cached *h2_cache[FETCH_H2_BUCKETS]; /* owned */
    size_t h2_cached;
};

/* How a finished transfer's CURLcode reads as an errno. Anything else is -EIO. */
static const struct {
    CURLcode code;
    int err;
} fetch_errnos[] = {
    {CURLE_OK, 0},
    {CURLE_COULDNT_CONNECT, -ECONNREFUSED},
    {CURLE_OPERATION_TIMEDOUT, -ETIMEDOUT},
    {CURLE_COULDNT_RESOLVE_HOST, -EHOSTUNREACH},
    {CURLE_COULDNT_RESOLVE_PROXY, -EHOSTUNREACH},
    {CURLE_FILESIZE_EXCEEDED, -EFBIG},
    {CURLE_FILE_COULDNT_READ_FILE, -ENOENT},
    {CURLE_REMOTE_FILE_NOT_FOUND, -ENOENT},
    {CURLE_OUT_OF_MEMORY, -ENOMEM},
    {CURLE_WEIRD_SERVER_REPLY, -EPROTO},
    {CURLE_HTTP2, -EPROTO},
    {CURLE_HTTP2_STREAM, -EPROTO},
    {CURLE_RECV_ERROR, -EPROTO},
    {CURLE_PARTIAL_FILE, -EPROTO},
    {CURLE_GOT_NOTHING, -EPROTO},
    {CURLE_BAD_CONTENT_ENCODING, -EPROTO},
    {CURLE_SSL_CONNECT_ERROR, -EPROTO},
    {CURLE_PEER_FAILED_VERIFICATION, -EPROTO},
    {CURLE_UNSUPPORTED_PROTOCOL, -EPROTO}, /* the scheme was checked: e.g. an HTTP/0.9 reply */
    {CURLE_URL_MALFORMAT, -EINVAL},
};

static const struct {
    const char *name;
    enum fetch_scheme scheme;
} fetch_schemes[] = {
    {"http", FETCH_SCHEME_HTTP},
    {"https", FETCH_SCHEME_HTTPS},
    {"file", FETCH_SCHEME_FILE},
};

static int fetch_errno(CURLcode code)
{
    size_t i;

    for (i = 0; i < sizeof(fetch_errnos) / sizeof(fetch_errnos[0]); i++)
        if (fetch_errnos[i].code == code)
            return fetch_errnos[i].err;
    return -EIO;
}

/* curl_easy_setopt() failures: our arguments are fixed, so only memory or the build can fail. */
static int fetch_setopt_errno(CURLcode code)
{
    switch (code) {
    case CURLE_OUT_OF_MEMORY:
        return -ENOMEM;
    case CURLE_BAD_FUNCTION_ARGUMENT:
        return -EINVAL;
    default:
        return -ENOTSUP; /* e.g. a libcurl built without HTTP/2 or a protocol */
    }
}

/* Copies src into out, bounded, with control bytes blanked so it stays one log line. */
static void fetch_copy_message(char *out, size_t size, const char *src)
{
    size_t i;

    for (i = 0; i + 1 < size && src[i] != '\0'; i++) {
        unsigned char c = (unsigned char)src[i];
        out[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    out[i] = '\0';
    while (i > 0 && out[i - 1] == ' ')
        out[--i] = '\0';
}

/*
 * Seconds (0 = def_s) to the milliseconds curl wants: rounded up, so a small positive timeout
 * never becomes curl's 0 (which means "none"), and capped at a day. -EINVAL when negative or NaN.
 */
static int fetch_timeout_ms(double s, double def_s, long *ret_ms)
{
    double ms;
    long whole;

    if (!(s >= 0.))
        return -EINVAL;
    if (s == 0.)
        s = def_s;
    ms = s * 1000.;
    if (ms > FETCH_MAX_TIMEOUT_MS)
        ms = FETCH_MAX_TIMEOUT_MS;
    whole = (long)ms;
    if ((double)whole < ms)
        whole++;
    *ret_ms = whole > 0 ? whole : 1;
    return 0;
}

/* Whether the n bytes at name are one of our schemes (in any case); *ret which, if ret. */
static bool fetch_scheme_find(const char *name, size_t n, enum fetch_scheme *ret)
{
    for (size_t i = 0; i < sizeof(fetch_schemes) / sizeof(fetch_schemes[0]); i++) {
        if (n == strlen(fetch_schemes[i].name) &&
            strncasecmp(name, fetch_schemes[i].name, n) == 0) {
            if (ret != NULL)
                *ret = fetch_schemes[i].scheme;
            return true;
        }
    }
    return false;
}

/* Whether the text before the URL's first ':' names one of our schemes. */
static bool fetch_scheme_named(const char *url)
{
    const char *colon = strchr(url, ':');
    return colon != NULL && fetch_scheme_find(url, (size_t)(colon - url), NULL);
}

/* Whether a transfer of url goes to our own HTTP/2 client first (h2c), not to libcurl. */
static bool fetch_is_h2c(const char *url, bool h2_prior_knowledge)
{
    return h2_prior_knowledge && strncasecmp(url, "http://", 7) == 0;
}

/* The URL's scheme, parsed the way curl will parse it. -EINVAL when not ours, -ENOMEM. */
static int fetch_url_scheme(const char *url, enum fetch_scheme *ret)
{
    CURLU *u;
    CURLUcode uc;
    char *scheme = NULL;
    int rv = -EINVAL;

    if (strlen(url) > FETCH_MAX_URL)
        return -EINVAL;
    u = curl_url();
    if (u == NULL)
        return -ENOMEM;
    uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    if (uc == CURLUE_OUT_OF_MEMORY)
        rv = -ENOMEM;
    if (uc == CURLUE_OK && fetch_scheme_find(scheme, strlen(scheme), ret))
        rv = 0;
    curl_free(scheme);
    curl_url_cleanup(u);
    return rv;
}

/* Where an h2c transfer goes, for the HTTP/2 client. */
struct fetch_h2_target {
    char host[256]; /* a name or an address, without brackets */
    unsigned port;
    char authority[272]; /* host (bracketed for IPv6) and port, as the URL has them */
    char *path;          /* owned: path and query */
};

static int fetch_curl_ready(struct fetch *f);

/*
 * Fills t for an http:// URL without a user name or an IPv6 zone: those go through our HTTP/2
 * client. -ENOTSUP for anything else (libcurl takes it). What plain_url_split() declines is
 * parsed by libcurl, loaded for it.
 */
static int fetch_h2_target(struct fetch *f, const char *url, struct fetch_h2_target *t)
{
    char *host = NULL, *port = NULL, *path = NULL, *query = NULL, *user = NULL;
    const char *h;
    size_t hl;
    long pn;
    int rv = -ENOTSUP;
    struct plain_url pu;
    CURLU *u;

    memset(t, 0, sizeof(*t));
    if (strlen(url) > FETCH_MAX_URL)
        return rv;
    if (plain_url_split(url, &pu) == 0) {
        /* The common case, split without libcurl's parser (which cost 7,000 instructions). */
        memcpy(t->host, pu.host, pu.host_len);
        t->host[pu.host_len] = '\0';
        t->port = pu.port;
        snprintf(t->authority, sizeof(t->authority), "%s:%u", t->host, pu.port);
        t->path = strdup(pu.path);
        return t->path != NULL ? 0 : -ENOMEM;
    }
    if (fetch_curl_ready(f) != 0)
        return rv; /* the libcurl path then reports why */
    u = curl_url();
    if (u == NULL)
        return -ENOMEM;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
        goto out;
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK)
        goto out; /* credentials in the URL: libcurl knows what to do with them */
    curl_url_get(u, CURLUPART_QUERY, &query, 0);
    h = host;
    hl = strlen(host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        h = host + 1;
        hl -= 2;
    }
    pn = strtol(port, NULL, 10);
    if (hl >= sizeof(t->host) || pn <= 0 || pn > 65535)
        goto out;
    memcpy(t->host, h, hl);
    t->host[hl] = '\0';
    if (strchr(t->host, '%') != NULL)
        goto out; /* an IPv6 zone id: libcurl knows what to do with it */
    t->port = (unsigned)pn;
    snprintf(t->authority, sizeof(t->authority), "%s:%ld", host, pn);
    size_t n = strlen(path) + (query != NULL ? strlen(query) + 1 : 0) + 1;
    t->path = malloc(n);
    if (t->path == NULL) {
        rv = -ENOMEM;
        goto out;
    }
    snprintf(t->path, n, "%s%s%s", path, query != NULL ? "?" : "", query != NULL ? query : "");
    rv = 0;
out:
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    curl_free(user);
    curl_url_cleanup(u);
    return rv;
}

/* A header line we send must be one line: no CR or LF can smuggle in a second one. */
static bool fetch_one_line(const char *s)
{
    return strpbrk(s, "\r\n") == NULL;
}

/* Appends "prefix value" to *list. */
static int fetch_append_header(struct curl_slist **list, const char *prefix, const char *value)
{
    struct curl_slist *next;
    size_t size = strlen(prefix) + strlen(value) + 1;
    char *line;

    line = malloc(size);
    if (line == NULL)
        return -ENOMEM;
    snprintf(line, size, "%s%s", prefix, value);
    next = curl_slist_append(*list, line); /* copies line */
    free(line);
    if (next == NULL)
        return -ENOMEM;
    *list = next;
    return 0;
}

/* The caller's header lines and validators: each one line, "Name: value", bounded in sum. */
static bool fetch_headers_valid(const struct fetch_options *o)
{
    size_t total = 0, i;

    for (i = 0; o->headers != NULL && o->headers[i] != NULL; i++) {
        const char *h = o->headers[i];
        const char *colon = strchr(h, ':');

        total += strlen(h);
        if (colon == NULL || colon == h || !fetch_one_line(h) || total > FETCH_MAX_HEADER_BYTES)
            return false;
    }
    if (o->etag != NULL && (!fetch_one_line(o->etag) || strlen(o->etag) > FETCH_MAX_HEADER_BYTES))
        return false;
    if (o->last_modified != NULL &&
        (!fetch_one_line(o->last_modified) || strlen(o->last_modified) > FETCH_MAX_HEADER_BYTES))
        return false;
    return true;
}

/* Builds the request header list (checked by fetch_headers_valid()): the caller's lines, then
 * the validators. */
static int fetch_build_headers(const struct fetch_options *o, struct curl_slist **ret)
{
    struct curl_slist *list = NULL;
    size_t i;
    int rv = 0;

    for (i = 0; o->headers != NULL && o->headers[i] != NULL && rv == 0; i++)
        rv = fetch_append_header(&list, "", o->headers[i]);
    if (rv == 0 && o->etag != NULL && o->etag[0] != '\0')
        rv = fetch_append_header(&list, "If-None-Match: ", o->etag);
    if (rv == 0 && o->last_modified != NULL && o->last_modified[0] != '\0')
        rv = fetch_append_header(&list, "If-Modified-Since: ", o->last_modified);
    if (rv != 0) {
        curl_slist_free_all(list);
        return rv;
    }
    *ret = list;
    return 0;
}

/* ---- curl's per-transfer callbacks: no freeing, no curl calls, no user code ------------ */

/* Appends body bytes; beyond the cap (on the decoded body) or out of memory, aborts. */
static size_t fetch_on_write(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct fetch_job *job = userdata;
    size_t n = size * nmemb; /* size is always 1 */
    size_t need, cap;
    char *grown;

    if (job->state != FETCH_JOB_RUNNING)
        return 0;
    if (n > job->max_bytes - job->len) {
        job->err = -EFBIG;
        snprintf(job->errmsg, sizeof(job->errmsg), "response body exceeds the %zu-byte cap",
                 job->max_bytes);
        return 0;
    }
    need = job->len + n + 1; /* <= max_bytes + 1: no overflow */
    if (need > job->cap) {
        cap = job->cap != 0 ? job->cap : FETCH_BODY_CHUNK;
        while (cap < need && cap <= job->max_bytes / 2)
            cap *= 2;
        if (cap < need || cap > job->max_bytes + 1)
            cap = job->max_bytes + 1;
        grown = realloc(job->body, cap);
        if (grown == NULL) {
            job->err = -ENOMEM;
            snprintf(job->errmsg, sizeof(job->errmsg), "out of memory buffering the response body");
            return 0;
        }
        job->body = grown;
        job->cap = cap;
    }
    memcpy(job->body + job->len, data, n);
    job->len += n;
    return n;
}

/*
 * If line is "name: value" (name case-insensitive), copies the value trimmed to out. A value
 * that does not fit or holds control bytes is dropped: a cut validator would be a wrong one.
 */
static void fetch_capture(const char *line, size_t len, const char *name, char *out, size_t size)
{
    size_t nlen = strlen(name);
    size_t start, end, i;

    if (len <= nlen || line[nlen] != ':' || strncasecmp(line, name, nlen) != 0)
        return;
    start = nlen + 1;
    while (start < len && (line[start] == ' ' || line[start] == '\t'))
        start++;
    end = len;
    while (end > start && strchr(" \t\r\n", line[end - 1]) != NULL)
        end--;
    out[0] = '\0';
    if (end - start >= size)
        return;
    for (i = start; i < end; i++) {
        unsigned char c = (unsigned char)line[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return;
    }
    memcpy(out, line + start, end - start);
    out[end - start] = '\0';
}

static size_t fetch_on_header(char *line, size_t size, size_t nmemb, void *userdata)
{
    struct fetch_job *job = userdata;
    size_t n = size * nmemb;

    if (job->state != FETCH_JOB_RUNNING)
        return 0;
    if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        /* A new response (after a 1xx): its validators only. */
        job->etag[0] = '\0';
        job->last_modified[0] = '\0';
        return n;
    }
    fetch_capture(line, n, "etag", job->etag, sizeof(job->etag));
    fetch_capture(line, n, "last-modified", job->last_modified, sizeof(job->last_modified));
    return n;
}

/* ---- jobs ---------------------------------------------------------------------------------- */

static void fetch_job_unlink(struct fetch_job *job)
{
    struct fetch *f = job->f;

    if (job->prev != NULL)
        job->prev->next = job->next;
    else
        f->jobs = job->next;
    if (job->next != NULL)
        job->next->prev = job->prev;
    job->prev = job->next = NULL;
}

/* Frees a job already unlinked. Never from inside a curl callback. */
static void fetch_job_free(struct fetch_job *job)
{
    if (job == NULL)
        return;
    if (job->easy != NULL) {
        if (job->in_multi)
            curl_multi_remove_handle(job->m->multi, job->easy);
        curl_easy_cleanup(job->easy);
    }
    if (job->headers != NULL) /* made by libcurl, so it is loaded */
        curl_slist_free_all(job->headers);
    free(job->body);
    free(job);
}

/* Puts a job on the reap list; the reaper runs before the loop next blocks. */
static void fetch_job_defer(struct fetch_job *job)
{
    struct fetch *f = job->f;

    job->reap_next = f->reap;
    f->reap = job;
    ev_prepare_start(f->loop, &f->reaper);
}

/*
 * Fails a running job from inside a curl callback, where it cannot be removed: the reaper
 * reports it. Other transfers sharing its connection go on (or time out).
 */
static void fetch_job_fail(struct fetch_job *job, int err, const char *msg)
{
    if (job == NULL || job->state != FETCH_JOB_RUNNING)
        return;
    job->state = FETCH_JOB_FAILING;
    job->err = err;
    fetch_copy_message(job->errmsg, sizeof(job->errmsg), msg);
    fetch_job_defer(job);
}

static int fetch_http_version(long v)
{
    switch (v) {
    case CURL_HTTP_VERSION_1_0:
    case CURL_HTTP_VERSION_1_1:
        return 1;
    case CURL_HTTP_VERSION_2_0:
        return 2;
    case CURL_HTTP_VERSION_3:
        return 3;
    default:
        return 0;
    }
}

/*
 * Reports a finished (or FAILING) job to its owner and frees it. code is curl's result; an
 * error our callbacks recorded in job->err wins. Never from inside a curl callback.
 */
static void fetch_job_finish(struct fetch_job *job, CURLcode code)
{
    struct fetch *f = job->f;
    struct fetch_result res;
    long status = 0, version = 0;
    curl_off_t us = 0;

    memset(&res, 0, sizeof(res));
    if (job->easy != NULL) { /* none when libcurl could not be loaded for the job */
        curl_easy_getinfo(job->easy, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(job->easy, CURLINFO_HTTP_VERSION, &version);
        curl_easy_getinfo(job->easy, CURLINFO_TOTAL_TIME_T, &us);
        curl_multi_remove_handle(job->m->multi, job->easy);
        job->in_multi = false;
    }

    res.err = job->err != 0 ? job->err : fetch_errno(code);
    res.status = status;
    res.http_version = status != 0 ? fetch_http_version(version) : 0;
    res.seconds = (double)us / 1e6;
    res.body = "";
    if (res.err != 0) {
        if (job->err != 0)
            fetch_copy_message(res.errmsg, sizeof(res.errmsg), job->errmsg);
        else if (res.err == -EFBIG)
            snprintf(res.errmsg, sizeof(res.errmsg), "response body exceeds the %zu-byte cap",
                     job->max_bytes);
        else if (job->errbuf[0] != '\0')
            fetch_copy_message(res.errmsg, sizeof(res.errmsg), job->errbuf);
        else
            fetch_copy_message(res.errmsg, sizeof(res.errmsg), curl_easy_strerror(code));
    } else {
        if (job->body != NULL) {
            job->body[job->len] = '\0';
            res.body = job->body;
            res.len = job->len;
        }
        res.not_modified = status == 304;
        if (status >= 400)
            snprintf(res.errmsg, sizeof(res.errmsg), "HTTP %ld", status);
        /* Validators of an error page or a broken transfer must not be remembered. */
        if (status == 0 || (status >= 200 && status < 300) || status == 304) {
            memcpy(res.etag, job->etag, sizeof(res.etag));
            memcpy(res.last_modified, job->last_modified, sizeof(res.last_modified));
        }
    }

    fetch_job_unlink(job);
    f->nactive--;
    job->state = FETCH_JOB_DONE; /* fetch_cancel() on it from the callback is a no-op */
    job->done(job->userdata, &res);
    fetch_job_free(job);
}

/* Completes every transfer curl has finished. Called after each socket_action. */
static void fetch_drain(struct fetch_multi *m)
{
    struct fetch_job *job;
    CURLMsg *msg;
    CURLcode code;
    char *priv;
    int left;

    for (;;) {
        msg = curl_multi_info_read(m->multi, &left);
        if (msg == NULL)
            break;
        if (msg->msg != CURLMSG_DONE)
            continue;
        /* msg dies with the handle's removal: copy what we need first. */
        code = msg->data.result;
        priv = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        if (priv == NULL)
            continue;
        job = (struct fetch_job *)(void *)priv;
        /* A cancelled or FAILING job belongs to the reaper. */
        if (job->state == FETCH_JOB_RUNNING)
            fetch_job_finish(job, code);
    }
}

/* ---- the loop side ------------------------------------------------------------------------ */

static void fetch_on_io(struct ev_loop *loop, ev_io *w, int revents)
{
    struct fetch_sock *fs = w->data;
    struct fetch_multi *m = fs->m;
    int fd = w->fd;
    int action = 0;
    int running;

    (void)loop;
    if (revents & EV_READ)
        action |= CURL_CSELECT_IN;
    if (revents & EV_WRITE)
        action |= CURL_CSELECT_OUT;
    if (revents & EV_ERROR)
        action |= CURL_CSELECT_ERR;
    /* fs may be freed inside this call (CURL_POLL_REMOVE): not touched after it. */
    curl_multi_socket_action(m->multi, fd, action, &running);
    fetch_drain(m);
}

static void fetch_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct fetch_multi *m = w->data;
    int running;

    (void)loop;
    (void)revents;
    curl_multi_socket_action(m->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    fetch_drain(m);
}

/* ev_prepare runs before the loop blocks again, so it is never starved as ev_idle can be. */
static void fetch_on_reap(struct ev_loop *loop, ev_prepare *w, int revents)
{
    struct fetch *f = w->data;
    struct fetch_job *job;

    (void)revents;
    ev_prepare_stop(loop, w);
    /* A FAILING job's callback may cancel others: they join the head of the list. */
    while (f->reap != NULL) {
        job = f->reap;
        f->reap = job->reap_next;
        job->reap_next = NULL;
        if (job->state == FETCH_JOB_FAILING) {
            fetch_job_finish(job, CURLE_OK); /* job->err is set */
        } else {
            fetch_job_unlink(job);
            fetch_job_free(job);
        }
    }
}

static void fetch_sock_free(struct fetch *f, struct fetch_sock *fs)
{
    ev_io_stop(f->loop, &fs->io);
    if (fs->prev != NULL)
        fs->prev->next = fs->next;
    else
        f->socks = fs->next;
    if (fs->next != NULL)
        fs->next->prev = fs->prev;
    free(fs);
}

/*
 * CURLMOPT_SOCKETFUNCTION. Freeing our own watcher here is fine (it is stopped, and neither
 * curl nor libev looks at it again); what we must never free here is an easy handle.
 * Returning -1 would mark the whole multi handle dead, so out of memory fails only the
 * transfer that asked.
 */
static int fetch_on_curl_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct fetch_multi *m = userp;
    struct fetch *f = m->f;
    struct fetch_sock *fs = socketp;
    char *priv = NULL;
    int events = 0;

    if (what == CURL_POLL_REMOVE) {
        if (fs != NULL)
            fetch_sock_free(f, fs);
        return 0;
    }
    if (fs == NULL) {
        fs = calloc(1, sizeof(*fs));
        if (fs == NULL) {
            curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
            fetch_job_fail((struct fetch_job *)(void *)priv, -ENOMEM,
                           "out of memory watching a socket");
            return 0;
        }
        fs->f = f;
        fs->m = m;
        fs->next = f->socks;
        if (f->socks != NULL)
            f->socks->prev = fs;
        f->socks = fs;
        ev_init(&fs->io, fetch_on_io);
        fs->io.data = fs;
        curl_multi_assign(m->multi, s, fs);
    }
    if (what & CURL_POLL_IN)
        events |= EV_READ;
    if (what & CURL_POLL_OUT)
        events |= EV_WRITE;
    ev_io_stop(f->loop, &fs->io);
    ev_io_set(&fs->io, s, events);
    if (events != 0)
        ev_io_start(f->loop, &fs->io);
    return 0;
}

/*
 * CURLMOPT_TIMERFUNCTION: -1 stops the timer; 0 means "soon", which a zero ev_timer gives us
 * from the loop rather than by calling curl back from inside curl. Milliseconds become
 * seconds as a double (not timeout_ms / 1000, which would truncate to whole seconds).
 */
static int fetch_on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    struct fetch_multi *m = userp;
    struct ev_loop *loop = m->f->loop;

    (void)multi;
    ev_timer_stop(loop, &m->timer);
    if (timeout_ms >= 0) {
        ev_timer_set(&m->timer, (double)timeout_ms / 1000., 0.);
        ev_timer_start(loop, &m->timer);
    }
    return 0;
}

/* ---- public -------------------------------------------------------------------------------- */

/*
 * Makes one multi handle. max_host 0: no cap. Otherwise at most that many connections to one
 * host and port: a burst of transfers to a server then waits for a connection rather than
 * opening one each. That matters for HTTP/2: until the server's SETTINGS arrive libcurl
 * assumes 100 streams per connection, so a thousand feeds polled at once from one host could
 * open some 900 TLS connections (seconds of handshakes); capped, the transfers beyond a
 * connection's first 100 wait and then share it once its real limit is known.
 */
static CURLMcode fetch_multi_init(struct fetch *f, struct fetch_multi *m, long max_host)
{
    CURLMcode mc;

    m->f = f;
    m->multi = curl_multi_init();
    if (m->multi == NULL)
        return CURLM_OUT_OF_MEMORY;
    mc = curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, fetch_on_curl_socket);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, fetch_on_curl_timer);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(m->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    /*
     * Up to 1,000 streams on one HTTP/2 connection (a server may announce fewer): with the
     * default of 100, a thousand feeds polled at once from one host opened ten TLS connections,
     * each loading the CA file and making a TLS context of its own.
     */
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(m->multi, CURLMOPT_MAX_CONCURRENT_STREAMS, 1000L);
    if (mc == CURLM_OK && max_host > 0)
        mc = curl_multi_setopt(m->multi, CURLMOPT_MAX_HOST_CONNECTIONS, max_host);
    ev_init(&m->timer, fetch_on_timer);
    m->timer.data = m;
    return mc;
}

/*
 * Readies libcurl for f on first need: loaded (once per process), initialized and f's two
 * multi handles made. curl_global_init() is reference-counted by curl and paired with
 * curl_global_cleanup() in fetch_free(). It is not thread-safe on every build: use a fetch
 * while no other thread uses curl. brokerd is single-threaded. 0, -EIO, -ELIBACC (not loadable:
 * fetch_curl.why), -ENOMEM or -ENOTSUP.
 */
static int fetch_curl_ready(struct fetch *f)
{
    CURLcode code;
    CURLMcode mc;
    int rv;

    if (f->curl_ready)
        return 0;
    rv = fetch_curl_load();
    if (rv != 0)
        return rv;
    code = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (code != CURLE_OK)
        return code == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EIO;
    mc = fetch_multi_init(f, &f->shared, FETCH_MAX_HOST_CONNECTIONS);
    if (mc == CURLM_OK)
        mc = fetch_multi_init(f, &f->single, 0);
    if (mc != CURLM_OK) {
        curl_multi_cleanup(f->shared.multi); /* NULL is fine */
        curl_multi_cleanup(f->single.multi);
        f->shared.multi = f->single.multi = NULL;
        curl_global_cleanup();
        return mc == CURLM_OUT_OF_MEMORY ? -ENOMEM : -ENOTSUP;
    }
    f->h2c_no_reuse = curl_version_info(CURLVERSION_NOW)->version_num < 0x080000;
    f->curl_ready = true;
    return 0;
}

int fetch_new(struct ev_loop *loop, struct fetch **ret)
{
    struct fetch *f;

    if (loop == NULL || ret == NULL)
        return -EINVAL;
    f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -ENOMEM;
    f->loop = loop;
    if (h2_client_new(loop, &f->h2) != 0) {
        free(f);
        return -ENOMEM;
    }
    ev_prepare_init(&f->reaper, fetch_on_reap);
    f->reaper.data = f;
    *ret = f;
    return 0;
}

/* Sets one easy option or leaves the enclosing function with its errno. */
#define FETCH_SETOPT(easy, opt, val)                                                               \
    do {                                                                                           \
        CURLcode setopt_code_ = curl_easy_setopt((easy), (opt), (val));                            \
        if (setopt_code_ != CURLE_OK)                                                              \
            return fetch_setopt_errno(setopt_code_);                                               \
    } while (0)

static int fetch_job_setup(struct fetch_job *job, const struct fetch_options *o,
                           enum fetch_scheme scheme, long connect_ms, long total_ms)
{
    CURL *e = job->easy;
    long version;

    if (scheme == FETCH_SCHEME_HTTPS)
        version = CURL_HTTP_VERSION_2TLS;
    else if (o->h2_prior_knowledge)
        version = CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
    else
        version = CURL_HTTP_VERSION_1_1;

    job->errbuf[0] = '\0';
    FETCH_SETOPT(e, CURLOPT_ERRORBUFFER, job->errbuf);
    FETCH_SETOPT(e, CURLOPT_PRIVATE, (void *)job);
    FETCH_SETOPT(e, CURLOPT_NOSIGNAL, 1L);
    FETCH_SETOPT(e, CURLOPT_PROTOCOLS_STR, "http,https,file");
    /*
     * No redirect is followed: FOLLOWLOCATION 0 is what guarantees it (a 3xx comes back as
     * its status). curl 7.88 refuses an empty REDIR list, so the narrowest one stands in and
     * keeps file:// unreachable should following ever be turned on.
     */
    FETCH_SETOPT(e, CURLOPT_FOLLOWLOCATION, 0L);
    FETCH_SETOPT(e, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    FETCH_SETOPT(e, CURLOPT_URL, o->url); /* curl copies strings */
    if (o->ca_file && o->ca_file[0])
        FETCH_SETOPT(e, CURLOPT_CAINFO, o->ca_file);
    FETCH_SETOPT(e, CURLOPT_HTTP_VERSION, version);
    FETCH_SETOPT(e, CURLOPT_PIPEWAIT, 1L);
    if (version == CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE && job->f->h2c_no_reuse) {
        /*
         * libcurl before 8.0.0 (Debian 12 ships 7.88.1) fails every transfer that reuses a
         * prior-knowledge HTTP/2 connection with "Error in the HTTP2 framing layer"
         * (curl#10634, fixed by curl#10643). There, each h2c transfer gets a connection of
         * its own, closed after it: no multiplexing for h2c, but no spurious -EPROTO. HTTP/2
         * over TLS (ALPN) is not affected and still multiplexes. Such transfers go through
         * the multi handle without a per-host cap: capped, they would queue for no benefit.
         */
        FETCH_SETOPT(e, CURLOPT_FRESH_CONNECT, 1L);
        FETCH_SETOPT(e, CURLOPT_FORBID_REUSE, 1L);
        job->m = &job->f->single;
    }
    FETCH_SETOPT(e, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    FETCH_SETOPT(e, CURLOPT_TIMEOUT_MS, total_ms);
    FETCH_SETOPT(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)job->max_bytes);
    FETCH_SETOPT(e, CURLOPT_ACCEPT_ENCODING, ""); /* every decoder curl has; cap is on decoded */
    FETCH_SETOPT(e, CURLOPT_USERAGENT, FETCH_USER_AGENT);
    FETCH_SETOPT(e, CURLOPT_HTTPHEADER, job->headers);
    FETCH_SETOPT(e, CURLOPT_WRITEFUNCTION, fetch_on_write);
    FETCH_SETOPT(e, CURLOPT_WRITEDATA, (void *)job);
    FETCH_SETOPT(e, CURLOPT_HEADERFUNCTION, fetch_on_header);
    FETCH_SETOPT(e, CURLOPT_HEADERDATA, (void *)job);
    return 0;
}

/* The HTTP/2 client's answer for an h2c job: reported like curl's. */
static void fetch_on_h2_done(void *userdata, const struct fetch_result *res)
{
    struct fetch_job *job = userdata;
    struct fetch *f = job->f;

    job->h2s = NULL;
    fetch_job_unlink(job);
    f->nactive--;
    job->state = FETCH_JOB_DONE;
    job->done(job->userdata, res);
    fetch_job_free(job);
}

static void fetch_h2_cache_clear(struct fetch *f)
{
    for (size_t b = 0; b < FETCH_H2_BUCKETS; b++) {
        while (f->h2_cache[b] != NULL) {
            struct fetch_h2_cached *e = f->h2_cache[b];
            f->h2_cache[b] = e->next;
            free(e);
        }
    }
    f->h2_cached = 0;
}

/* url's target, parsed now or earlier; NULL with *rv set as by fetch_h2_target(). */
static const struct fetch_h2_cached *fetch_h2_lookup(struct fetch *f, const char *url, int *rv)
{
    uint64_t hash = 1469598103934665603ull; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        hash = (hash ^ *p) * 1099511628211ull;
    struct fetch_h2_cached **bucket = &f->h2_cache[hash % FETCH_H2_BUCKETS];
    for (struct fetch_h2_cached *e = *bucket; e != NULL; e = e->next) {
        if (strcmp(e->text, url) == 0)
            return e;
    }
    struct fetch_h2_target t;
    *rv = fetch_h2_target(f, url, &t);
    if (*rv != 0)
        return NULL;
    size_t nu = strlen(url) + 1, nh = strlen(t.host) + 1, na = strlen(t.authority) + 1,
           np = strlen(t.path) + 1;
    struct fetch_h2_cached *e = malloc(sizeof(*e) + nu + nh + na + np);
    if (e == NULL) {
        free(t.path);
        *rv = -ENOMEM;
        return NULL;
    }
    char *text = e->text;
    memcpy(text, url, nu);
    e->host = memcpy(text + nu, t.host, nh);
    e->authority = memcpy(text + nu + nh, t.authority, na);
    e->path = memcpy(text + nu + nh + na, t.path, np);
    e->port = t.port;
    free(t.path);
    if (f->h2_cached >= FETCH_H2_CACHED_MAX)
        fetch_h2_cache_clear(f); /* feeds that come and go: start over rather than grow */
    e->next = *bucket;
    *bucket = e;
    f->h2_cached++;
    return e;
}

/* Starts an h2c job on the HTTP/2 client. -ENOTSUP when the URL is not one for it. */
static int fetch_start_h2(struct fetch_job *job, const struct fetch_options *o, long connect_ms,
                          long total_ms)
{
    const struct fetch_h2_cached *t;
    struct h2_client_request r;
    int rv = 0;

    t = fetch_h2_lookup(job->f, o->url, &rv);
    if (t == NULL)
        return rv;
    r = (struct h2_client_request){
        .host = t->host,
        .port = t->port,
        .authority = t->authority,
        .path = t->path,
        .headers = o->headers,
        .etag = o->etag,
        .last_modified = o->last_modified,
        .max_bytes = job->max_bytes,
        .connect_timeout_s = (double)connect_ms / 1000.,
        .total_timeout_s = (double)total_ms / 1000.,
    };
    return h2_client_start(job->f->h2, &r, fetch_on_h2_done, job, &job->h2s);
}

/*
 * A bad URL, scheme, header or timeout is refused here with -EINVAL and no callback; every
 * failure after the transfer has started (including a host that cannot be resolved) comes
 * through done, from the loop. So does -ELIBACC when libcurl is needed and cannot be loaded
 * (a URL libcurl would refuse is then not told apart).
 */
int fetch_start(struct fetch *f, const struct fetch_options *o, fetch_done_fn *done, void *userdata,
                struct fetch_job **ret_job)
{
    struct fetch_job *job;
    enum fetch_scheme scheme;
    long connect_ms, total_ms;
    CURLMcode mc;
    int rv;

    if (f == NULL || o == NULL || o->url == NULL || done == NULL)
        return -EINVAL;
    rv = fetch_timeout_ms(o->connect_timeout_s, FETCH_DEFAULT_CONNECT_S, &connect_ms);
    if (rv != 0)
        return rv;
    rv = fetch_timeout_ms(o->total_timeout_s, FETCH_DEFAULT_TOTAL_S, &total_ms);
    if (rv != 0)
        return rv;
    if (strlen(o->url) > FETCH_MAX_URL)
        return -EINVAL;

    job = calloc(1, sizeof(*job));
    if (job == NULL)
        return -ENOMEM;
    job->f = f;
    job->m = &f->shared;
    job->done = done;
    job->userdata = userdata;
    job->state = FETCH_JOB_RUNNING;
    job->max_bytes = o->max_bytes != 0 ? o->max_bytes : FETCH_DEFAULT_MAX_BYTES;
    if (job->max_bytes > FETCH_MAX_MAX_BYTES)
        job->max_bytes = FETCH_MAX_MAX_BYTES;
    if (!fetch_headers_valid(o)) {
        rv = -EINVAL;
        goto out_free_job;
    }
    /* h2c: fetch_start_h2() parses the URL itself; the scheme is parsed only for curl. */
    if (fetch_is_h2c(o->url, o->h2_prior_knowledge)) {
        rv = fetch_start_h2(job, o, connect_ms, total_ms);
        if (rv == 0)
            goto out_started;
        if (rv != -ENOTSUP)
            goto out_free_job;
    }
    /* A scheme that is none of ours is refused without loading libcurl for it. */
    if (!fetch_scheme_named(o->url)) {
        rv = -EINVAL;
        goto out_free_job;
    }
    rv = fetch_curl_ready(f);
    if (rv == -ELIBACC) {
        /* Reported from the loop like any failed transfer, so that the feed shows why. */
        job->state = FETCH_JOB_FAILING;
        job->err = rv;
        snprintf(job->errmsg, sizeof(job->errmsg),
                 "libcurl (for https://, file:// and HTTP/1.1 feeds) could not be loaded: %s",
                 fetch_curl.why);
        fetch_job_defer(job);
        goto out_started;
    }
    if (rv == 0)
        rv = fetch_url_scheme(o->url, &scheme);
    if (rv != 0)
        goto out_free_job;
    rv = fetch_build_headers(o, &job->headers);
    if (rv != 0)
        goto out_free_job;
    job->easy = curl_easy_init();
    if (job->easy == NULL) {
        rv = -ENOMEM;
        goto out_free_job;
    }
    rv = fetch_job_setup(job, o, scheme, connect_ms, total_ms);
    if (rv != 0)
        goto out_free_job;
    /* Arms our timer for "now"; the transfer itself starts from the loop. */
    mc = curl_multi_add_handle(job->m->multi, job->easy);
    if (mc != CURLM_OK) {
        rv = mc == CURLM_OUT_OF_MEMORY ? -ENOMEM : -EIO;
        goto out_free_job;
    }
    job->in_multi = true;
out_started:
    job->next = f->jobs;
    if (f->jobs != NULL)
        f->jobs->prev = job;
    f->jobs = job;
    f->nactive++;
    if (ret_job != NULL)
        *ret_job = job;
    return 0;

out_free_job:
    fetch_job_free(job);
    return rv;
}

/*
 * Marks the job cancelled and leaves its removal to the reaper, since we may be inside a curl
 * callback. A no-op on a job inside its own done callback (it is finished); after that
 * callback has returned the job pointer is gone and must not be passed here.
 */
void fetch_cancel(struct fetch_job *job)
{
    if (job == NULL)
        return;
    switch (job->state) {
    case FETCH_JOB_RUNNING:
        job->state = FETCH_JOB_CANCELLED;
        job->f->nactive--;
        h2_client_cancel(job->h2s); /* NULL for curl's transfers */
        job->h2s = NULL;
        fetch_job_defer(job);
        break;
    case FETCH_JOB_FAILING: /* already on the reap list */
        job->state = FETCH_JOB_CANCELLED;
        job->f->nactive--;
        break;
    case FETCH_JOB_CANCELLED:
    case FETCH_JOB_DONE:
        break;
    }
}

void fetch_warm(struct fetch *f, const char *url, bool h2_prior_knowledge)
{
    if (f == NULL || url == NULL || f->curl_ready)
        return;
    if (fetch_is_h2c(url, h2_prior_knowledge))
        return; /* our HTTP/2 client's, but for the rare URL only libcurl's parser takes */
    if (fetch_scheme_named(url))
        (void)fetch_curl_ready(f);
}

unsigned fetch_active(const struct fetch *f)
{
    return f != NULL ? f->nactive : 0;
}

void fetch_free(struct fetch *f)
{
    struct fetch_job *job;
    bool curl_ready;

    if (f == NULL)
        return;
    /*
     * Silence curl first: removing handles and closing connections must not call back into
     * a half-freed struct, and our watchers must stop before curl closes their fds.
     */
    if (f->curl_ready) {
        curl_multi_setopt(f->shared.multi, CURLMOPT_SOCKETFUNCTION, NULL);
        curl_multi_setopt(f->shared.multi, CURLMOPT_TIMERFUNCTION, NULL);
        curl_multi_setopt(f->single.multi, CURLMOPT_SOCKETFUNCTION, NULL);
        curl_multi_setopt(f->single.multi, CURLMOPT_TIMERFUNCTION, NULL);
    }
    h2_client_free(f->h2); /* cancels its streams: no callbacks */
    while (f->socks != NULL)
        fetch_sock_free(f, f->socks);
    while (f->jobs != NULL) {
        job = f->jobs;
        fetch_job_unlink(job);
        fetch_job_free(job);
    }
    f->reap = NULL;
    if (f->curl_ready) {
        curl_multi_cleanup(f->shared.multi);
        curl_multi_cleanup(f->single.multi);
        ev_timer_stop(f->loop, &f->shared.timer);
        ev_timer_stop(f->loop, &f->single.timer);
    }
    ev_prepare_stop(f->loop, &f->reaper);
    fetch_h2_cache_clear(f);
    curl_ready = f->curl_ready;
    free(f);
    if (curl_ready)
        curl_global_cleanup();
}
