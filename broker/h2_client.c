/*
 * h2_client — feed requests as HTTP/2 streams over cleartext TCP (prior knowledge), one
 * connection per origin shared by every request to it. nghttp2 frames the session in memory;
 * this file owns the sockets, the buffers and the timers on the daemon's libev loop. Requests
 * queue inside nghttp2 beyond the server's stream limit. Frames produced in one loop pass go out
 * in one write. done callbacks run only outside nghttp2 (after mem_recv/mem_send return), so a
 * callback may start or cancel anything. A request the server refused unseen (GOAWAY,
 * REFUSED_STREAM) is sent once more on a new connection.
 */
#include "h2_client.h"
#include "resolve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>
#include <nghttp2/nghttp2.h>

#define H2C_READ_CHUNK 65536                /* bytes per read() */
#define H2C_READS_PER_EVENT 16              /* then let other watchers run */
#define H2C_OUT_BATCH 65536                 /* frames gathered before a write() */
#define H2C_MAX_OUT ((size_t)8 << 20)       /* unsent bytes one connection may hold */
#define H2C_STREAM_WINDOW (1 << 20)         /* per-stream receive window */
#define H2C_CONN_WINDOW ((1 << 30) - 1)     /* connection receive window */
#define H2C_IDLE_S 90.0                     /* an unused connection is closed after this */
#define H2C_MAX_HEADERS 48                  /* request header fields, pseudo ones included */
#define H2C_MAX_HEADER_BYTES 32768          /* their names and values together */
#define H2C_BODY_CHUNK ((size_t)4096)       /* first body allocation */
#define H2C_USER_AGENT "suanwang-fetch/0.1" /* as fetch.c sends through libcurl */
#define H2C_MAX_HOST 255                    /* a DNS name, or an address */
/*
 * Requests in flight on one connection; the rest wait in its queue and go out as answers come
 * in. A thousand feeds on one server then reach it a hundred at a time, not in one burst it must
 * answer whole before the first reply leaves (libcurl's default is 100 too).
 */
#define H2C_MAX_INFLIGHT 100

enum h2c_stream_state {
    H2C_RUNNING, /* on a connection, its done owed */
    H2C_CLOSED,  /* nghttp2 closed it; on conn->closed, its done owed */
    H2C_ORPHAN,  /* cancelled or already answered; freed when nghttp2 lets go of it */
};

struct h2_client_conn;

struct h2_client_stream {
    struct h2_client *c;                  /* borrowed */
    struct h2_client_conn *conn;          /* borrowed; NULL while waiting for a retry */
    struct h2_client_stream *prev, *next; /* links in conn->streams */
    struct h2_client_stream *closed_next; /* link in conn->closed while CLOSED */
    enum h2c_stream_state state;
    int32_t id;          /* nghttp2's stream id, or -1 before submit */
    fetch_done_fn *done; /* called once unless cancelled */
    void *userdata;      /* borrowed */
    nghttp2_nv *nva;     /* owned, one block with its strings: to resubmit */
    size_t nvlen;
    char host[H2C_MAX_HOST + 1]; /* the origin, to find a connection again */
    unsigned port;
    double connect_timeout_s;
    ev_timer timeout;                    /* the total timeout */
    ev_tstamp started;                   /* ev_now() at start */
    bool retried;                        /* sent again once after a refusal */
    bool queued;                         /* waiting in conn->queue, not yet given to nghttp2 */
    bool inflight;                       /* given to nghttp2, not yet closed by it */
    bool never_sent;                     /* nghttp2 dropped its HEADERS (on_frame_not_send) */
    struct h2_client_stream *queue_next; /* link in conn->queue */
    bool refused;                        /* closed unseen by the server: may be retried */
    size_t max_bytes;                    /* body cap */
    char *body;                          /* owned; body[len] is always room for the NUL */
    size_t len, cap;
    long status; /* the final response's :status, or 0 */
    int err;     /* our own failure, overrides everything */
    char errmsg[256];
    char etag[256];
    char last_modified[128];
};

struct h2_client_conn {
    struct h2_client *c;                /* borrowed */
    struct h2_client_conn *prev, *next; /* links in c->conns */
    char host[H2C_MAX_HOST + 1];
    unsigned port;
    struct resolve_query *lookup;     /* borrowed: the name's lookup under way, or NULL */
    struct addrinfo *addrs;           /* owned: the addresses, or NULL */
    struct addrinfo *next_addr;       /* borrowed from addrs: the next one to try */
    int fd;                           /* owned */
    ev_io rio, wio;                   /* readable; writable (connect, then backlog) */
    ev_timer timer;                   /* connect timeout, then idle timeout */
    nghttp2_session *session;         /* owned */
    bool connected;                   /* the TCP handshake is done */
    bool closing;                     /* takes no new streams (GOAWAY, failure) */
    bool dirty;                       /* frames may be waiting in nghttp2 */
    int connect_err;                  /* a connect() that failed at once, reported soon */
    ev_tstamp last_read;              /* ev_now() when bytes last came in */
    struct h2_client_stream *streams; /* borrowed from their owners: every stream on it */
    unsigned nstreams;
    struct h2_client_stream *queue; /* streams beyond H2C_MAX_INFLIGHT, first come first */
    struct h2_client_stream **queue_tail;
    unsigned ninflight;              /* streams given to nghttp2 and not closed */
    struct h2_client_stream *closed; /* CLOSED streams to report after nghttp2 returns */
    struct h2_client_stream **closed_tail;
    uint8_t *out; /* owned; bytes not yet written */
    size_t out_len, out_off, out_cap;
};

struct h2_client {
    struct ev_loop *loop;           /* borrowed */
    nghttp2_session_callbacks *cbs; /* owned */
    nghttp2_option *opt;            /* owned */
    struct h2_client_conn *conns;   /* owned */
    struct resolver *resolver;      /* owned */
    unsigned nconns;
    ev_prepare flusher; /* writes every dirty connection before the loop blocks */
    ev_timer kick;      /* a zero timer: another flush pass when one left work behind */
    bool flushing;      /* inside h2c_flush_all() */
    bool more;          /* a connection was marked dirty during it */
};

static void h2c_conn_fail(struct h2_client_conn *conn, bool retry, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int h2c_submit(struct h2_client *c, struct h2_client_stream *s);
static void h2c_conn_pump(struct h2_client_conn *conn);
static void h2c_stream_set_error(struct h2_client_stream *s, int err, const char *msg);
static void h2c_conn_connect(struct h2_client_conn *conn);

/* ---- streams ----------------------------------------------------------------------------- */

static void h2c_stream_unlink(struct h2_client_stream *s)
{
    struct h2_client_conn *conn = s->conn;

    if (conn == NULL)
        return;
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        conn->streams = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
    conn->nstreams--;
    s->conn = NULL;
    if (conn->nstreams == 0 && conn->connected && !conn->closing) {
        ev_timer_stop(conn->c->loop, &conn->timer);
        ev_timer_set(&conn->timer, H2C_IDLE_S, 0.);
        ev_timer_start(conn->c->loop, &conn->timer);
    }
}

/* Takes a stream out of its connection's queue (rare: a cancel or a timeout while waiting). */
static void h2c_queue_remove(struct h2_client_conn *conn, struct h2_client_stream *s)
{
    struct h2_client_stream **pp = &conn->queue;

    while (*pp != NULL && *pp != s)
        pp = &(*pp)->queue_next;
    if (*pp == s) {
        *pp = s->queue_next;
        if (conn->queue_tail == &s->queue_next)
            conn->queue_tail = pp;
    }
    s->queue_next = NULL;
    s->queued = false;
}

static void h2c_stream_free(struct h2_client_stream *s)
{
    ev_timer_stop(s->c->loop, &s->timeout);
    if (s->queued && s->conn != NULL)
        h2c_queue_remove(s->conn, s);
    h2c_stream_unlink(s);
    free(s->nva);
    free(s->body);
    free(s);
}

/* Builds the result and calls done; the stream is then an orphan (or freed by the caller). */
static void h2c_stream_report(struct h2_client_stream *s)
{
    struct fetch_result res;

    if (s->err == 0 && s->status < 200) /* refused twice, or closed after a 1xx or nothing */
        h2c_stream_set_error(s, -EPROTO,
                             s->refused ? "the server refused the request"
                                        : "the stream ended without a final response");
    memset(&res, 0, sizeof(res));
    res.seconds = ev_now(s->c->loop) - s->started;
    res.body = "";
    res.status = s->status;
    res.http_version = s->status != 0 ? 2 : 0;
    if (s->err != 0) {
        res.err = s->err;
        snprintf(res.errmsg, sizeof(res.errmsg), "%s", s->errmsg);
    } else {
        if (s->body != NULL) {
            s->body[s->len] = '\0';
            res.body = s->body;
            res.len = s->len;
        }
        res.not_modified = s->status == 304;
        if (s->status >= 400)
            snprintf(res.errmsg, sizeof(res.errmsg), "HTTP %ld", s->status);
        if ((s->status >= 200 && s->status < 300) || s->status == 304) {
            memcpy(res.etag, s->etag, sizeof(res.etag));
            memcpy(res.last_modified, s->last_modified, sizeof(res.last_modified));
        }
    }
    ev_timer_stop(s->c->loop, &s->timeout);
    s->state = H2C_ORPHAN; /* h2_client_cancel() on it from done is a no-op */
    s->done(s->userdata, &res);
}

static void h2c_stream_set_error(struct h2_client_stream *s, int err, const char *msg)
{
    if (s->err != 0)
        return;
    s->err = err;
    snprintf(s->errmsg, sizeof(s->errmsg), "%s", msg);
}

/*
 * Reports the streams nghttp2 closed during the last mem_recv/mem_send: retries the refused
 * ones once, answers the rest. Never from inside nghttp2.
 */
static void h2c_conn_report_closed(struct h2_client_conn *conn)
{
    struct h2_client_stream *s;

    while ((s = conn->closed) != NULL) {
        conn->closed = s->closed_next;
        if (conn->closed == NULL)
            conn->closed_tail = &conn->closed;
        s->closed_next = NULL;
        h2c_stream_unlink(s);
        if (s->state != H2C_CLOSED) {
            h2c_stream_free(s); /* cancelled after nghttp2 closed it */
            continue;
        }
        if (s->refused && !s->retried && s->err == 0) {
            s->retried = true;
            s->refused = false;
            s->state = H2C_RUNNING;
            if (h2c_submit(conn->c, s) == 0)
                continue;
            s->state = H2C_CLOSED;
            h2c_stream_set_error(s, -EPROTO, "the server refused the request");
        }
        h2c_stream_report(s);
        h2c_stream_free(s);
    }
    h2c_conn_pump(conn);
}

/* ---- nghttp2 callbacks: no freeing of connections, no done callbacks -------------------- */

static struct h2_client_stream *h2c_stream_of(nghttp2_session *session, int32_t id)
{
    return nghttp2_session_get_stream_user_data(session, id);
}

static int h2c_on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
                         size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                         void *user_data)
{
    struct h2_client_stream *s = h2c_stream_of(session, frame->hd.stream_id);

    (void)flags;
    (void)user_data;
    if (s == NULL || s->state != H2C_RUNNING || frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    if (namelen == 7 && memcmp(name, ":status", 7) == 0) {
        long st = 0;
        for (size_t i = 0; i < valuelen && i < 3; i++)
            st = st * 10 + (value[i] - '0'); /* nghttp2 checked: three digits */
        s->status = st;
        s->etag[0] = '\0';
        s->last_modified[0] = '\0';
        return 0;
    }
    if (namelen == 4 && memcmp(name, "etag", 4) == 0) {
        if (valuelen < sizeof(s->etag)) {
            memcpy(s->etag, value, valuelen);
            s->etag[valuelen] = '\0';
        }
    } else if (namelen == 13 && memcmp(name, "last-modified", 13) == 0) {
        if (valuelen < sizeof(s->last_modified)) {
            memcpy(s->last_modified, value, valuelen);
            s->last_modified[valuelen] = '\0';
        }
    } else if (namelen == 16 && memcmp(name, "content-encoding", 16) == 0 &&
               !(valuelen == 8 && strncasecmp((const char *)value, "identity", 8) == 0)) {
        /* We asked for none; a body we cannot decode must not reach a parser. */
        h2c_stream_set_error(s, -EPROTO, "the server sent an encoded body (content-encoding)");
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_CANCEL);
    }
    return 0;
}

static int h2c_on_data(nghttp2_session *session, uint8_t flags, int32_t stream_id,
                       const uint8_t *data, size_t len, void *user_data)
{
    struct h2_client_stream *s = h2c_stream_of(session, stream_id);
    size_t need, cap;
    char *grown;

    (void)flags;
    (void)user_data;
    if (s == NULL || s->state != H2C_RUNNING || s->err != 0)
        return 0;
    if (len > s->max_bytes - s->len) {
        char msg[96];
        snprintf(msg, sizeof(msg), "response body exceeds the %zu-byte cap", s->max_bytes);
        h2c_stream_set_error(s, -EFBIG, msg);
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
        return 0;
    }
    need = s->len + len + 1; /* <= max_bytes + 1 */
    if (need > s->cap) {
        cap = s->cap != 0 ? s->cap : H2C_BODY_CHUNK;
        while (cap < need && cap <= s->max_bytes / 2)
            cap *= 2;
        if (cap < need || cap > s->max_bytes + 1)
            cap = s->max_bytes + 1;
        grown = realloc(s->body, cap);
        if (grown == NULL) {
            h2c_stream_set_error(s, -ENOMEM, "out of memory buffering the response body");
            nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
            return 0;
        }
        s->body = grown;
        s->cap = cap;
    }
    memcpy(s->body + s->len, data, len);
    s->len += len;
    return 0;
}

/* Hands a stream nghttp2 is done with to the report list (or frees an orphan). */
static void h2c_stream_closed(struct h2_client_conn *conn, struct h2_client_stream *s,
                              uint32_t error_code, bool never_sent)
{
    if (s->inflight) {
        s->inflight = false;
        conn->ninflight--;
    }
    if (s->state == H2C_ORPHAN) {
        h2c_stream_free(s);
        return;
    }
    if (s->state != H2C_RUNNING)
        return;
    s->state = H2C_CLOSED;
    if (s->status == 0 && (never_sent || error_code == NGHTTP2_REFUSED_STREAM))
        s->refused = true;
    else if (error_code != NGHTTP2_NO_ERROR && s->err == 0) {
        char msg[96];
        snprintf(msg, sizeof(msg), "the server reset the stream (HTTP/2 error %u)", error_code);
        h2c_stream_set_error(s, -EPROTO, msg);
    } else if (s->status == 0) {
        h2c_stream_set_error(s, -EPROTO, "the stream ended without a response");
    }
    *conn->closed_tail = s;
    conn->closed_tail = &s->closed_next;
}

static int h2c_on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
                               void *user_data)
{
    struct h2_client_stream *s = h2c_stream_of(session, stream_id);

    if (s != NULL)
        h2c_stream_closed(user_data, s, error_code, s->never_sent);
    return 0;
}

/*
 * A request that never left (GOAWAY came first, the server's stream limit, or a cancel while it
 * waited). nghttp2 closes the stream right after (on_stream_close): that is where it is handled,
 * so here it is only marked, never freed.
 */
static int h2c_on_frame_not_send(nghttp2_session *session, const nghttp2_frame *frame,
                                 int lib_error_code, void *user_data)
{
    struct h2_client_conn *conn = user_data;
    struct h2_client_stream *s;

    (void)session;
    (void)lib_error_code;
    if (frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    for (s = conn->streams; s != NULL; s = s->next) {
        if (s->id == frame->hd.stream_id) {
            s->never_sent = true;
            break;
        }
    }
    return 0;
}

static int h2c_on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    struct h2_client_conn *conn = user_data;

    (void)session;
    if (frame->hd.type == NGHTTP2_GOAWAY)
        conn->closing = true; /* new requests go to a new connection */
    return 0;
}

/* ---- connections ------------------------------------------------------------------------- */

static void h2c_conn_free(struct h2_client_conn *conn)
{
    struct h2_client *c = conn->c;

    ev_io_stop(c->loop, &conn->rio);
    ev_io_stop(c->loop, &conn->wio);
    ev_timer_stop(c->loop, &conn->timer);
    if (conn->fd >= 0)
        close(conn->fd);
    resolver_cancel(conn->lookup);
    if (conn->addrs != NULL)
        freeaddrinfo(conn->addrs);
    nghttp2_session_del(conn->session);
    if (conn->prev != NULL)
        conn->prev->next = conn->next;
    else
        c->conns = conn->next;
    if (conn->next != NULL)
        conn->next->prev = conn->prev;
    c->nconns--;
    free(conn->out);
    free(conn);
}

/*
 * Ends a connection: streams nghttp2 had finished are reported as they are; every other one is
 * answered with err, or sent once more on a new connection when the server cannot have
 * answered it (refused) or, with retry, when it got no response before the connection broke
 * (a GET may be repeated). Then the connection is freed. Not from inside nghttp2.
 */
static void h2c_conn_fail(struct h2_client_conn *conn, bool retry, int err, const char *fmt, ...)
{
    struct h2_client_stream *s;
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    conn->closing = true; /* so that nothing started from a callback lands here */
    /* Never sent: as if refused, so sent once more below only if this connection had been up
     * (the pump of a closing connection would move them to a new one every time). */
    while ((s = conn->queue) != NULL) {
        h2c_queue_remove(conn, s);
        s->refused = true;
    }
    h2c_conn_report_closed(conn);
    while ((s = conn->streams) != NULL) {
        h2c_stream_unlink(s);
        if (s->state == H2C_ORPHAN) {
            h2c_stream_free(s);
            continue;
        }
        if (conn->connected && s->status == 0 && (s->refused || retry) && !s->retried &&
            s->err == 0) {
            s->retried = true;
            s->refused = false;
            if (h2c_submit(conn->c, s) == 0)
                continue;
        }
        h2c_stream_set_error(s, err, msg);
        h2c_stream_report(s);
        h2c_stream_free(s);
    }
    h2c_conn_free(conn);
}

/* Appends to the unsent bytes. -ENOBUFS past the cap, -ENOMEM. */
static int h2c_conn_queue(struct h2_client_conn *conn, const uint8_t *data, size_t len)
{
    size_t need = conn->out_len + len, cap;
    uint8_t *grown;

    if (need > H2C_MAX_OUT)
        return -ENOBUFS;
    if (need > conn->out_cap) {
        cap = conn->out_cap != 0 ? conn->out_cap : 16384;
        while (cap < need)
            cap *= 2;
        grown = realloc(conn->out, cap);
        if (grown == NULL)
            return -ENOMEM;
        conn->out = grown;
        conn->out_cap = cap;
    }
    memcpy(conn->out + conn->out_len, data, len);
    conn->out_len = need;
    return 0;
}

/*
 * Gathers nghttp2's frames and writes them, as far as the socket takes them; the rest waits
 * for EV_WRITE. Returns 0, or fails the connection and returns -1 (conn is then gone).
 */
static int h2c_conn_flush(struct h2_client_conn *conn)
{
    struct h2_client *c = conn->c;
    const uint8_t *data;
    ssize_t n;
    int rv;

    conn->dirty = false;
    if (!conn->connected)
        return 0;
    for (;;) {
        while (conn->out_len - conn->out_off < H2C_OUT_BATCH) {
            n = nghttp2_session_mem_send(conn->session, &data);
            if (n < 0) {
                h2c_conn_fail(conn, false, -EPROTO, "HTTP/2 session error: %s",
                              nghttp2_strerror((int)n));
                return -1;
            }
            if (n == 0)
                break;
            if (conn->out_off > 0 && conn->out_off == conn->out_len)
                conn->out_off = conn->out_len = 0;
            rv = h2c_conn_queue(conn, data, (size_t)n);
            if (rv < 0) {
                h2c_conn_fail(conn, false, rv, "cannot buffer the request: %s", strerror(-rv));
                return -1;
            }
        }
        if (conn->out_off == conn->out_len)
            break;
        n = write(conn->fd, conn->out + conn->out_off, conn->out_len - conn->out_off);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            ev_io_start(c->loop, &conn->wio);
            h2c_conn_report_closed(conn);
            return 0;
        }
        if (n < 0) {
            int e = errno;
            h2c_conn_fail(conn, true, -EPROTO, "cannot send to %s port %u: %s", conn->host,
                          conn->port, strerror(e));
            return -1;
        }
        conn->out_off += (size_t)n;
        if (conn->out_off == conn->out_len)
            conn->out_off = conn->out_len = 0;
    }
    ev_io_stop(c->loop, &conn->wio);
    /* Streams refused while sending (e.g. after GOAWAY) are reported or retried now. */
    h2c_conn_report_closed(conn);
    if (!nghttp2_session_want_read(conn->session) && !nghttp2_session_want_write(conn->session)) {
        /* nghttp2 ended the session: the peer's GOAWAY with nothing left, or its bytes were not
         * HTTP/2 (nghttp2 sent GOAWAY). Nothing more will come on this connection. */
        h2c_conn_fail(conn, false, -EPROTO, "%s port %u broke the HTTP/2 protocol", conn->host,
                      conn->port);
        return -1;
    }
    if (conn->closing && conn->nstreams == 0) {
        h2c_conn_free(conn);
        return -1;
    }
    return 0;
}

static void h2c_mark_dirty(struct h2_client_conn *conn)
{
    struct h2_client *c = conn->c;

    conn->dirty = true;
    if (c->flushing)
        c->more = true; /* h2c_flush_all() passes again */
    else if (!ev_is_active(&c->flusher))
        ev_prepare_start(c->loop, &c->flusher);
}

static void h2c_on_read(struct ev_loop *loop, ev_io *w, int revents)
{
    struct h2_client_conn *conn = w->data;
    uint8_t buf[H2C_READ_CHUNK];
    ssize_t n, used;
    int i;

    (void)loop;
    (void)revents;
    for (i = 0; i < H2C_READS_PER_EVENT; i++) {
        n = read(conn->fd, buf, sizeof(buf));
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : 0;
            if (e == ECONNRESET)
                h2c_conn_fail(conn, true, -EPROTO, "%s port %u reset the connection", conn->host,
                              conn->port);
            else if (e != 0)
                h2c_conn_fail(conn, true, -EPROTO, "cannot read from %s port %u: %s", conn->host,
                              conn->port, strerror(e));
            else
                h2c_conn_fail(conn, true, -EPROTO, "%s port %u closed the connection", conn->host,
                              conn->port);
            return;
        }
        conn->last_read = ev_now(conn->c->loop);
        used = nghttp2_session_mem_recv(conn->session, buf, (size_t)n);
        if (used < 0) {
            h2c_conn_fail(conn, false, -EPROTO, "%s port %u does not speak HTTP/2 (%s)", conn->host,
                          conn->port, nghttp2_strerror((int)used));
            return;
        }
        /*
         * Answers that ended made room: the queued requests go out first, and the answers are
         * handed over (parsed and stored by their owners) after, while the server works on
         * those. The other way round the server sat idle while brokerd took in a round of
         * answers. h2c_conn_flush() reports the closed streams once it has written.
         */
        if (conn->closed != NULL && conn->queue != NULL) {
            h2c_conn_pump(conn);
            if (h2c_conn_flush(conn) < 0)
                return; /* conn is gone */
        } else {
            h2c_conn_report_closed(conn);
        }
        if ((size_t)n < sizeof(buf))
            break;
    }
    /* SETTINGS ACK, WINDOW_UPDATE, requests started from done callbacks: out now. */
    h2c_conn_flush(conn);
}

/* The TCP handshake is done: reading starts, and the connect timer becomes the idle one. */
static void h2c_conn_up(struct h2_client_conn *conn)
{
    struct ev_loop *loop = conn->c->loop;

    conn->connected = true;
    conn->last_read = ev_now(loop);
    ev_timer_stop(loop, &conn->timer);
    ev_io_start(loop, &conn->rio);
    if (conn->nstreams == 0) { /* its requests went elsewhere or failed meanwhile */
        ev_timer_set(&conn->timer, H2C_IDLE_S, 0.);
        ev_timer_start(loop, &conn->timer);
    }
}

static void h2c_on_write(struct ev_loop *loop, ev_io *w, int revents)
{
    struct h2_client_conn *conn = w->data;
    int soerr = 0;
    socklen_t sl = sizeof(soerr);

    (void)loop;
    (void)revents;
    if (!conn->connected) {
        if (getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
            soerr = errno;
        if (soerr != 0) {
            conn->connect_err = soerr;
            h2c_conn_connect(conn); /* the next address, or the failure */
            return;
        }
        ev_io_stop(conn->c->loop, &conn->wio);
        h2c_conn_up(conn);
    }
    h2c_conn_flush(conn);
}

/* Connect timeout, a connect() that failed at once, or the idle timeout. */
static void h2c_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct h2_client_conn *conn = w->data;

    (void)loop;
    (void)revents;
    if (conn->connect_err != 0)
        h2c_conn_fail(conn, false,
                      conn->connect_err == ECONNREFUSED ? -ECONNREFUSED : -EHOSTUNREACH,
                      "failed to connect to %s port %u: %s", conn->host, conn->port,
                      strerror(conn->connect_err));
    else if (!conn->connected)
        h2c_conn_fail(conn, false, -ETIMEDOUT, "connection to %s port %u timed out", conn->host,
                      conn->port);
    else if (conn->nstreams == 0)
        h2c_conn_free(conn); /* idle: nothing to tell the server that closing does not */
}

/*
 * Writes every dirty connection. Reports made while flushing can mark connections dirty again
 * (a queued request taking a freed slot, a retry, a done callback starting a request), and a
 * prepare watcher started from inside itself would wait for the next wake-up: so the pass is
 * repeated while that happens, and a zero timer takes over should it never settle.
 */
static void h2c_flush_all(struct h2_client *c)
{
    struct h2_client_conn *conn, *next;
    int pass;

    c->flushing = true;
    for (pass = 0; pass < 16; pass++) {
        c->more = false;
        for (conn = c->conns; conn != NULL; conn = next) {
            next = conn->next; /* a flush may free conn; it never frees another */
            if (conn->dirty)
                h2c_conn_flush(conn);
        }
        if (!c->more)
            break;
    }
    c->flushing = false;
    if (c->more && !ev_is_active(&c->kick)) {
        ev_timer_set(&c->kick, 0., 0.);
        ev_timer_start(c->loop, &c->kick);
    }
}

static void h2c_on_flush(struct ev_loop *loop, ev_prepare *w, int revents)
{
    (void)revents;
    ev_prepare_stop(loop, w);
    h2c_flush_all(w->data);
}

static void h2c_on_kick(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    h2c_flush_all(w->data);
}

/*
 * Connects to the next address of conn->addrs, closing the socket of the last attempt. With
 * none left, the last failure is reported from the loop (a zero timer), never from here: this
 * runs inside h2_client_start() too.
 */
static void h2c_conn_connect(struct h2_client_conn *conn)
{
    struct h2_client *c = conn->c;
    struct addrinfo *ai;
    int one = 1;

    ev_io_stop(c->loop, &conn->rio);
    ev_io_stop(c->loop, &conn->wio);
    if (conn->fd >= 0) {
        close(conn->fd);
        conn->fd = -1;
    }
    while ((ai = conn->next_addr) != NULL) {
        conn->next_addr = ai->ai_next;
        conn->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (conn->fd < 0) {
            conn->connect_err = errno;
            continue;
        }
        setsockopt(conn->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        ev_io_set(&conn->rio, conn->fd, EV_READ);
        ev_io_set(&conn->wio, conn->fd, EV_WRITE);
        if (connect(conn->fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            conn->connect_err = 0;
            h2c_conn_up(conn);
            h2c_mark_dirty(conn);
            return;
        }
        if (errno == EINPROGRESS) {
            conn->connect_err = 0; /* this attempt's outcome is what counts now */
            ev_io_start(c->loop, &conn->wio);
            return;
        }
        conn->connect_err = errno;
        close(conn->fd);
        conn->fd = -1;
    }
    if (conn->connect_err == 0)
        conn->connect_err = EHOSTUNREACH; /* no address at all */
    ev_timer_stop(c->loop, &conn->timer);
    ev_timer_set(&conn->timer, 0., 0.);
    ev_timer_start(c->loop, &conn->timer);
}

/* The name's addresses have come (or not). */
static void h2c_on_resolved(void *userdata, int err, const char *errmsg, struct addrinfo *res)
{
    struct h2_client_conn *conn = userdata;

    conn->lookup = NULL;
    if (err != 0) {
        h2c_conn_fail(conn, false, err == -EAGAIN ? -EHOSTUNREACH : err, "%s", errmsg);
        return;
    }
    conn->addrs = conn->next_addr = res;
    h2c_conn_connect(conn);
}

/*
 * Opens a connection: an address is connected to at once, a name first resolved off the loop.
 * The connect timeout covers both. 0 and *ret, or a negative errno.
 */
static int h2c_conn_open(struct h2_client *c, const char *host, unsigned port,
                         double connect_timeout_s, struct h2_client_conn **ret)
{
    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2C_STREAM_WINDOW},
    };
    struct h2_client_conn *conn;
    struct addrinfo hints, *numeric = NULL;
    char portstr[8];
    int rv;

    if (strlen(host) > H2C_MAX_HOST)
        return -EINVAL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    snprintf(portstr, sizeof(portstr), "%u", port);
    rv = getaddrinfo(host, portstr, &hints, &numeric); /* never blocks: numeric only */
    if (rv == EAI_MEMORY)
        return -ENOMEM;
    conn = calloc(1, sizeof(*conn));
    if (conn == NULL) {
        if (numeric != NULL)
            freeaddrinfo(numeric);
        return -ENOMEM;
    }
    conn->c = c;
    conn->fd = -1;
    snprintf(conn->host, sizeof(conn->host), "%s", host);
    conn->port = port;
    conn->closed_tail = &conn->closed;
    conn->queue_tail = &conn->queue;
    conn->addrs = conn->next_addr = numeric;
    if (nghttp2_session_client_new2(&conn->session, c->cbs, conn, c->opt) != 0)
        goto out_nomem;
    if (nghttp2_submit_settings(conn->session, NGHTTP2_FLAG_NONE, settings,
                                sizeof(settings) / sizeof(settings[0])) != 0 ||
        nghttp2_session_set_local_window_size(conn->session, NGHTTP2_FLAG_NONE, 0,
                                              H2C_CONN_WINDOW) != 0)
        goto out_nomem;
    if (numeric == NULL) {
        rv = resolver_start(c->resolver, host, port, h2c_on_resolved, conn, &conn->lookup);
        if (rv < 0) {
            nghttp2_session_del(conn->session);
            free(conn);
            return rv;
        }
    }
    ev_init(&conn->rio, h2c_on_read);
    ev_init(&conn->wio, h2c_on_write);
    ev_init(&conn->timer, h2c_on_timer);
    conn->rio.data = conn->wio.data = conn->timer.data = conn;
    conn->next = c->conns;
    if (c->conns != NULL)
        c->conns->prev = conn;
    c->conns = conn;
    c->nconns++;
    ev_timer_set(&conn->timer, connect_timeout_s, 0.);
    ev_timer_start(c->loop, &conn->timer);
    if (numeric != NULL)
        h2c_conn_connect(conn);
    *ret = conn;
    return 0;

out_nomem:
    nghttp2_session_del(conn->session); /* NULL is fine */
    if (numeric != NULL)
        freeaddrinfo(numeric);
    free(conn);
    return -ENOMEM;
}

/* The origin's connection that takes new streams, opened if need be. */
static int h2c_conn_for(struct h2_client *c, const char *host, unsigned port,
                        double connect_timeout_s, struct h2_client_conn **ret)
{
    struct h2_client_conn *conn;

    for (conn = c->conns; conn != NULL; conn = conn->next) {
        if (!conn->closing && conn->port == port && strcmp(conn->host, host) == 0) {
            *ret = conn;
            return 0;
        }
    }
    return h2c_conn_open(c, host, port, connect_timeout_s, ret);
}

/* Gives a stream to nghttp2. 0, -ENOMEM or -EPROTO. */
static int h2c_send(struct h2_client_conn *conn, struct h2_client_stream *s)
{
    int32_t id = nghttp2_submit_request(conn->session, NULL, s->nva, s->nvlen, NULL, s);

    if (id == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE)
        return -ENOSPC; /* this connection has used up its 2^30 stream ids */
    if (id < 0)
        return id == NGHTTP2_ERR_NOMEM ? -ENOMEM : -EPROTO;
    s->id = id;
    s->inflight = true;
    conn->ninflight++;
    h2c_mark_dirty(conn);
    return 0;
}

/*
 * Puts a stream on its origin's connection: to nghttp2, or in the queue when H2C_MAX_INFLIGHT
 * are in flight. 0 or a negative errno (the stream is then untouched).
 */
static int h2c_submit(struct h2_client *c, struct h2_client_stream *s)
{
    struct h2_client_conn *conn = NULL;
    int rv;

    rv = h2c_conn_for(c, s->host, s->port, s->connect_timeout_s, &conn);
    if (rv < 0)
        return rv;
    s->status = 0;
    s->len = 0;
    s->etag[0] = s->last_modified[0] = '\0';
    s->id = -1;
    s->never_sent = false;
    if (conn->ninflight < H2C_MAX_INFLIGHT) {
        rv = h2c_send(conn, s);
        if (rv == -ENOSPC) { /* out of stream ids: a new connection takes it from here */
            conn->closing = true;
            if (conn->nstreams == 0)
                h2c_mark_dirty(conn); /* its flush frees it */
            return h2c_submit(c, s);
        }
        if (rv < 0)
            return rv;
    } else {
        s->queued = true;
        s->queue_next = NULL;
        *conn->queue_tail = s;
        conn->queue_tail = &s->queue_next;
    }
    s->conn = conn;
    s->prev = NULL;
    s->next = conn->streams;
    if (conn->streams != NULL)
        conn->streams->prev = s;
    conn->streams = s;
    conn->nstreams++;
    if (conn->connected)
        ev_timer_stop(c->loop, &conn->timer); /* no longer idle */
    return 0;
}

/*
 * Moves queued streams to nghttp2 as others close; a connection that takes no new streams
 * (GOAWAY) hands its queue to another. Not from inside nghttp2.
 */
static void h2c_conn_pump(struct h2_client_conn *conn)
{
    struct h2_client_stream *s;
    int rv;

    while ((s = conn->queue) != NULL && (conn->closing || conn->ninflight < H2C_MAX_INFLIGHT)) {
        h2c_queue_remove(conn, s);
        if (conn->closing) {
            h2c_stream_unlink(s);
            rv = h2c_submit(conn->c, s);
        } else {
            rv = h2c_send(conn, s);
            if (rv < 0)
                h2c_stream_unlink(s);
            if (rv == -ENOSPC) { /* out of stream ids: this one and the rest go elsewhere */
                conn->closing = true;
                rv = h2c_submit(conn->c, s);
            }
        }
        if (rv < 0) {
            char msg[96];
            snprintf(msg, sizeof(msg), "cannot start the request: %s", strerror(-rv));
            h2c_stream_set_error(s, rv, msg);
            h2c_stream_report(s);
            h2c_stream_free(s);
        }
    }
}

static void h2c_on_stream_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct h2_client_stream *s = w->data;
    struct h2_client_conn *conn = s->conn;
    char msg[96];

    (void)loop;
    (void)revents;
    if (s->state != H2C_RUNNING)
        return;
    snprintf(msg, sizeof(msg), "operation timed out after %.0f ms",
             (ev_now(s->c->loop) - s->started) * 1000.);
    if (s->queued) { /* never sent: nothing to tell the server */
        h2c_stream_set_error(s, -ETIMEDOUT, msg);
        h2c_stream_report(s);
        h2c_stream_free(s);
        return;
    }
    if (conn != NULL && conn->last_read <= s->started) {
        /* Nothing has come in since this request started: the connection is dead, not just
         * this stream, and every request on it would wait out its timeout too. */
        h2c_conn_fail(conn, false, -ETIMEDOUT, "%s", msg);
        return;
    }
    h2c_stream_set_error(s, -ETIMEDOUT, msg);
    if (conn != NULL) {
        nghttp2_submit_rst_stream(conn->session, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_CANCEL);
        h2c_mark_dirty(conn);
    }
    h2c_stream_report(s); /* now an orphan, freed when nghttp2 closes it */
    if (conn == NULL)
        h2c_stream_free(s);
}

/* ---- request headers ---------------------------------------------------------------------- */

/* Connection-specific fields have no place in HTTP/2 (RFC 9113 8.2.2); host is :authority. */
static bool h2c_header_dropped(const char *name, size_t len)
{
    static const char *const dropped[] = {
        "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
        "host",       "te"};
    for (size_t i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
        if (strlen(dropped[i]) == len && strncasecmp(name, dropped[i], len) == 0)
            return true;
    return false;
}

/*
 * Lays the request's header fields out in one block: the nghttp2_nv array, then their
 * strings (names lower-cased as HTTP/2 requires). -EINVAL for too many or too large.
 */
static int h2c_build_nva(const struct h2_client_request *r, nghttp2_nv **ret_nva, size_t *ret_len)
{
    const char *names[H2C_MAX_HEADERS], *values[H2C_MAX_HEADERS];
    size_t nlens[H2C_MAX_HEADERS], vlens[H2C_MAX_HEADERS];
    size_t n = 0, bytes = 0, i;
    nghttp2_nv *nva;
    char *p;

#define H2C_ADD(nm, nl, v, vl)                                                                     \
    do {                                                                                           \
        if (n == H2C_MAX_HEADERS)                                                                  \
            return -EINVAL;                                                                        \
        names[n] = (nm), nlens[n] = (nl), values[n] = (v), vlens[n] = (vl);                        \
        bytes += nlens[n] + vlens[n] + 2;                                                          \
        n++;                                                                                       \
    } while (0)
    H2C_ADD(":method", 7, "GET", 3);
    H2C_ADD(":scheme", 7, "http", 4);
    H2C_ADD(":authority", 10, r->authority, strlen(r->authority));
    H2C_ADD(":path", 5, r->path, strlen(r->path));
    H2C_ADD("user-agent", 10, H2C_USER_AGENT, strlen(H2C_USER_AGENT));
    H2C_ADD("accept", 6, "*/*", 3);
    for (i = 0; r->headers != NULL && r->headers[i] != NULL; i++) {
        const char *h = r->headers[i], *colon = strchr(h, ':'), *v, *end;
        if (colon == NULL || colon == h)
            return -EINVAL;
        if (h2c_header_dropped(h, (size_t)(colon - h)))
            continue;
        v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        end = v + strlen(v);
        while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        H2C_ADD(h, (size_t)(colon - h), v, (size_t)(end - v));
    }
    if (r->etag != NULL && r->etag[0] != '\0')
        H2C_ADD("if-none-match", 13, r->etag, strlen(r->etag));
    if (r->last_modified != NULL && r->last_modified[0] != '\0')
        H2C_ADD("if-modified-since", 17, r->last_modified, strlen(r->last_modified));
#undef H2C_ADD
    if (bytes > H2C_MAX_HEADER_BYTES)
        return -EINVAL;
    nva = malloc(n * sizeof(*nva) + bytes);
    if (nva == NULL)
        return -ENOMEM;
    p = (char *)(nva + n);
    for (i = 0; i < n; i++) {
        nva[i].name = (uint8_t *)p;
        for (size_t k = 0; k < nlens[i]; k++)
            p[k] =
                (char)((names[i][k] >= 'A' && names[i][k] <= 'Z') ? names[i][k] + 32 : names[i][k]);
        p[nlens[i]] = '\0';
        p += nlens[i] + 1;
        nva[i].value = (uint8_t *)p;
        memcpy(p, values[i], vlens[i]);
        p[vlens[i]] = '\0';
        p += vlens[i] + 1;
        nva[i].namelen = nlens[i];
        nva[i].valuelen = vlens[i];
        nva[i].flags = NGHTTP2_NV_FLAG_NONE;
    }
    *ret_nva = nva;
    *ret_len = n;
    return 0;
}

/* ---- public -------------------------------------------------------------------------------- */

int h2_client_new(struct ev_loop *loop, struct h2_client **ret)
{
    struct h2_client *c;

    if (loop == NULL || ret == NULL)
        return -EINVAL;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return -ENOMEM;
    c->loop = loop;
    if (nghttp2_session_callbacks_new(&c->cbs) != 0 || nghttp2_option_new(&c->opt) != 0 ||
        resolver_new(loop, &c->resolver) != 0) {
        nghttp2_option_del(c->opt);
        nghttp2_session_callbacks_del(c->cbs);
        free(c);
        return -ENOMEM;
    }
    nghttp2_session_callbacks_set_on_header_callback(c->cbs, h2c_on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(c->cbs, h2c_on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(c->cbs, h2c_on_stream_close);
    nghttp2_session_callbacks_set_on_frame_not_send_callback(c->cbs, h2c_on_frame_not_send);
    nghttp2_session_callbacks_set_on_frame_recv_callback(c->cbs, h2c_on_frame_recv);
    /* Until the server's SETTINGS arrive, assume the limit RFC 9113 recommends at least. */
    nghttp2_option_set_peer_max_concurrent_streams(c->opt, 100);
    ev_prepare_init(&c->flusher, h2c_on_flush);
    c->flusher.data = c;
    ev_init(&c->kick, h2c_on_kick);
    c->kick.data = c;
    *ret = c;
    return 0;
}

int h2_client_start(struct h2_client *c, const struct h2_client_request *r, fetch_done_fn *done,
                    void *userdata, struct h2_client_stream **ret_stream)
{
    struct h2_client_stream *s;
    int rv;

    if (c == NULL || r == NULL || done == NULL || r->host == NULL || r->authority == NULL ||
        r->path == NULL || r->path[0] != '/' || r->port == 0 || r->port > 65535 ||
        r->max_bytes == 0 || !(r->connect_timeout_s > 0.) || !(r->total_timeout_s > 0.) ||
        r->host[0] == '\0' || strlen(r->host) > H2C_MAX_HOST)
        return -EINVAL;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -ENOMEM;
    s->c = c;
    s->id = -1;
    s->done = done;
    s->userdata = userdata;
    s->max_bytes = r->max_bytes;
    s->connect_timeout_s = r->connect_timeout_s;
    s->port = r->port;
    snprintf(s->host, sizeof(s->host), "%s", r->host);
    s->started = ev_now(c->loop);
    ev_timer_init(&s->timeout, h2c_on_stream_timeout, r->total_timeout_s, 0.);
    s->timeout.data = s;
    rv = h2c_build_nva(r, &s->nva, &s->nvlen);
    if (rv == 0)
        rv = h2c_submit(c, s);
    if (rv < 0) {
        free(s->nva);
        free(s);
        return rv;
    }
    ev_timer_start(c->loop, &s->timeout);
    if (ret_stream != NULL)
        *ret_stream = s;
    return 0;
}

void h2_client_cancel(struct h2_client_stream *s)
{
    struct h2_client_conn *conn;

    if (s == NULL || s->state == H2C_ORPHAN)
        return;
    conn = s->conn;
    ev_timer_stop(s->c->loop, &s->timeout);
    if (s->state == H2C_CLOSED) {
        s->state = H2C_ORPHAN; /* on conn->closed: freed when that list is reported */
        return;
    }
    s->state = H2C_ORPHAN;
    if (conn == NULL || s->queued) {
        h2c_stream_free(s); /* nghttp2 never had it */
        return;
    }
    /* nghttp2 still knows the stream: it is freed when nghttp2 closes it. */
    nghttp2_submit_rst_stream(conn->session, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_CANCEL);
    h2c_mark_dirty(conn);
}

unsigned h2_client_connections(const struct h2_client *c)
{
    return c != NULL ? c->nconns : 0;
}

void h2_client_free(struct h2_client *c)
{
    struct h2_client_stream *s;

    if (c == NULL)
        return;
    while (c->conns != NULL) {
        struct h2_client_conn *conn = c->conns;
        conn->closing = true;
        while ((s = conn->streams) != NULL)
            h2c_stream_free(s);
        h2c_conn_free(conn);
    }
    ev_prepare_stop(c->loop, &c->flusher);
    ev_timer_stop(c->loop, &c->kick);
    resolver_free(c->resolver);
    nghttp2_option_del(c->opt);
    nghttp2_session_callbacks_del(c->cbs);
    free(c);
}
