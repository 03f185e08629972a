/*
 * h2 — the HTTP/2 transport of brokerd, on libev and nghttp2: cleartext (prior knowledge), or
 * inside TLS (OpenSSL, ALPN "h2") when the server has a certificate.
 *
 * It accepts connections, turns every stream into one complete struct http_request for a
 * synchronous handler and sends back that handler's struct http_response. HTTP/1.x gets a 426
 * and a close, over TLS too. TLS runs on memory BIOs: the socket I/O stays ours, OpenSSL only
 * turns ciphertext into plaintext and back. It does not route, parse JSON, log, h2c Upgrade,
 * server push or trailers; it never prints and reports errors only through return codes.
 */
#define _GNU_SOURCE /* accept4() */

#include "h2.h"
#include "dynlib.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <ev.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

/*
 * OpenSSL is loaded when a server is given a certificate (h2_server_new_tls), not when the
 * process starts: mapping libssl and libcrypto and running their initializers took 1.5-2 ms of
 * every start and 1.8 MiB of RSS, which a cleartext listener never needs. The headers give every
 * function's type; the calls go through pointers found when it is loaded, and every call is on
 * a path that only a TLS server or connection reaches. It stays loaded until the process ends.
 */
#ifndef H2_SSL_SONAME
#if OPENSSL_VERSION_MAJOR < 3
#error "OpenSSL 3 or later is needed"
#endif
#define H2_SSL_SONAME_OF(v) "libssl.so." #v
#define H2_SSL_SONAME_OF_MAJOR(v) H2_SSL_SONAME_OF(v)
#define H2_SSL_SONAME H2_SSL_SONAME_OF_MAJOR(OPENSSL_VERSION_MAJOR)
#endif
#define H2_SSL_FUNCTIONS(X)                                                                        \
    X(BIO_ctrl)                                                                                    \
    X(BIO_ctrl_pending)                                                                            \
    X(BIO_free)                                                                                    \
    X(BIO_new)                                                                                     \
    X(BIO_read)                                                                                    \
    X(BIO_s_mem)                                                                                   \
    X(BIO_write)                                                                                   \
    X(ERR_clear_error)                                                                             \
    X(ERR_peek_last_error)                                                                         \
    X(ERR_reason_error_string)                                                                     \
    X(SSL_CTX_check_private_key)                                                                   \
    X(SSL_CTX_ctrl)                                                                                \
    X(SSL_CTX_free)                                                                                \
    X(SSL_CTX_new)                                                                                 \
    X(SSL_CTX_set_alpn_select_cb)                                                                  \
    X(SSL_CTX_set_cipher_list)                                                                     \
    X(SSL_CTX_set_options)                                                                         \
    X(SSL_CTX_use_PrivateKey_file)                                                                 \
    X(SSL_CTX_use_certificate_chain_file)                                                          \
    X(SSL_free)                                                                                    \
    X(SSL_get_error)                                                                               \
    X(SSL_is_init_finished)                                                                        \
    X(SSL_new)                                                                                     \
    X(SSL_read)                                                                                    \
    X(SSL_set_accept_state)                                                                        \
    X(SSL_set_bio)                                                                                 \
    X(SSL_shutdown)                                                                                \
    X(SSL_write)                                                                                   \
    X(TLS_server_method)

static struct {
#define H2_SSL_SLOT(name) __typeof__(name) *name;
    H2_SSL_FUNCTIONS(H2_SSL_SLOT)
#undef H2_SSL_SLOT
    bool loaded;
} h2_ssl;

/* Loads OpenSSL, once per process. 0, or a negative errno with why filled. */
static int h2_ssl_load(char *why, size_t whylen)
{
    static const struct dynlib_sym syms[] = {
#define H2_SSL_SYM(name) {#name, &h2_ssl.name},
        H2_SSL_FUNCTIONS(H2_SSL_SYM)
#undef H2_SSL_SYM
    };
    int rv;

    if (h2_ssl.loaded)
        return 0;
    rv = dynlib_open(H2_SSL_SONAME, syms, sizeof(syms) / sizeof(syms[0]), why, whylen);
    if (rv == 0)
        h2_ssl.loaded = true;
    return rv;
}

#define BIO_ctrl (*h2_ssl.BIO_ctrl)
#define BIO_ctrl_pending (*h2_ssl.BIO_ctrl_pending)
#define BIO_free (*h2_ssl.BIO_free)
#define BIO_new (*h2_ssl.BIO_new)
#define BIO_read (*h2_ssl.BIO_read)
#define BIO_s_mem (*h2_ssl.BIO_s_mem)
#define BIO_write (*h2_ssl.BIO_write)
#define ERR_clear_error (*h2_ssl.ERR_clear_error)
#define ERR_peek_last_error (*h2_ssl.ERR_peek_last_error)
#define ERR_reason_error_string (*h2_ssl.ERR_reason_error_string)
#define SSL_CTX_check_private_key (*h2_ssl.SSL_CTX_check_private_key)
#define SSL_CTX_ctrl (*h2_ssl.SSL_CTX_ctrl)
#define SSL_CTX_free (*h2_ssl.SSL_CTX_free)
#define SSL_CTX_new (*h2_ssl.SSL_CTX_new)
#define SSL_CTX_set_alpn_select_cb (*h2_ssl.SSL_CTX_set_alpn_select_cb)
#define SSL_CTX_set_cipher_list (*h2_ssl.SSL_CTX_set_cipher_list)
#define SSL_CTX_set_options (*h2_ssl.SSL_CTX_set_options)
#define SSL_CTX_use_PrivateKey_file (*h2_ssl.SSL_CTX_use_PrivateKey_file)
#define SSL_CTX_use_certificate_chain_file (*h2_ssl.SSL_CTX_use_certificate_chain_file)
#define SSL_free (*h2_ssl.SSL_free)
#define SSL_get_error (*h2_ssl.SSL_get_error)
#define SSL_is_init_finished (*h2_ssl.SSL_is_init_finished)
#define SSL_new (*h2_ssl.SSL_new)
#define SSL_read (*h2_ssl.SSL_read)
#define SSL_set_accept_state (*h2_ssl.SSL_set_accept_state)
#define SSL_set_bio (*h2_ssl.SSL_set_bio)
#define SSL_shutdown (*h2_ssl.SSL_shutdown)
#define SSL_write (*h2_ssl.SSL_write)
#define TLS_server_method (*h2_ssl.TLS_server_method)

#define H2_DEFAULT_MAX_BODY ((size_t)65536)
#define H2_DEFAULT_MAX_HEADER_BYTES ((size_t)16384)
#define H2_DEFAULT_MAX_STREAMS 128u
#define H2_DEFAULT_MAX_CONNECTIONS 1024u
#define H2_DEFAULT_IDLE_S 60.0

#define H2_STREAM_WINDOW (1 << 20) /* SETTINGS_INITIAL_WINDOW_SIZE we announce */
#define H2_CONN_WINDOW (4 << 20)   /* connection-level receive window */
#define H2_READ_CHUNK 16384        /* bytes read per readiness callback */
#define H2_OUT_HIGH 65536          /* stop pulling frames from nghttp2 beyond this */
#define H2_ACCEPT_BATCH 64         /* accept4() calls per readiness callback */
#define H2_ACCEPT_BACKOFF_S 0.5    /* pause accepting this long after EMFILE and friends */
#define H2_GRACE_S 1.0             /* shutdown notice -> final GOAWAY */
#define H2_DEADLINE_S 10.0         /* shutdown -> close whatever is still open */
#define H2_LINGER_S 2.0            /* after the 426 and our FIN, wait this long for theirs */
#define H2_PREFACE_LEN NGHTTP2_CLIENT_MAGIC_LEN

/*
 * TLS 1.2 ciphers: forward secret and AEAD only, as RFC 9113 §9.2.2 asks of HTTP/2 (a client
 * may refuse h2 on anything else). TLS 1.3 suites are OpenSSL's defaults, all acceptable.
 */
#define H2_TLS12_CIPHERS                                                                           \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                                   \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                                   \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

enum h2_mode {
    H2_MODE_SNIFF, /* fewer than H2_PREFACE_LEN bytes seen, protocol not known yet */
    H2_MODE_H2,    /* every byte goes to nghttp2 */
    H2_MODE_H1,    /* an HTTP/1.x client: 426 queued, then half-close and drain to EOF */
};

enum h2_sniff {
    H2_SNIFF_MORE,
    H2_SNIFF_H2,
    H2_SNIFF_H1,
};

struct h2_conn;

struct h2_stream {
    struct h2_conn *conn;          /* borrowed */
    struct h2_stream *prev, *next; /* links in conn->streams */
    int32_t id;
    char *method;          /* owned */
    char *path;            /* owned */
    char *authorization;   /* owned */
    char *idempotency_key; /* owned */
    char *content_type;    /* owned */
    size_t header_bytes;   /* sum of name+value bytes seen so far */
    size_t expected_len;   /* content-length when announced and acceptable, else 0 */
    char *body;            /* owned; body_cap bytes, always room for the NUL */
    size_t body_len, body_cap;
    int error_status;      /* 0, or the error owed instead of calling the handler */
    bool responded;        /* a response has been submitted */
    const char *resp_data; /* borrowed: resp_owned or a static problem body */
    char *resp_owned;      /* owned: the handler's malloc'ed body */
    size_t resp_len, resp_off;
};

struct h2_conn {
    struct h2_server *server;    /* borrowed */
    struct h2_conn *prev, *next; /* links in server->conns */
    struct h2_conn *reap_next;   /* link in server->reap once closing */
    int fd;                      /* owned */
    ev_io rev, wev;
    ev_timer idle;
    nghttp2_session *session;  /* owned */
    struct h2_stream *streams; /* owned */
    unsigned nstreams;
    enum h2_mode mode;
    uint8_t sniff[H2_PREFACE_LEN];
    size_t sniff_len;
    uint8_t *out; /* owned; pending wire bytes (TLS: ciphertext) are out[out_off, out_len) */
    size_t out_off, out_len, out_cap;
    SSL *tls;       /* owned; NULL for cleartext */
    BIO *tls_in;    /* owned by tls: ciphertext read from the socket, for OpenSSL */
    BIO *tls_out;   /* owned by tls: ciphertext from OpenSSL, moved to out */
    uint8_t *plain; /* owned; TLS only: plaintext gathered for one SSL_write() */
    size_t plain_len, plain_cap;
    bool tls_failed;        /* a fatal TLS error: no more SSL_* calls but SSL_free() */
    bool tls_bye;           /* our close_notify is queued (or will never be) */
    unsigned idle_strikes;  /* idle timer expiries since the last read */
    bool close_after_flush; /* close as soon as the output is written */
    bool h1_half_closed;    /* 426 written and shutdown(SHUT_WR) done */
    bool closing;           /* on server->reap, watchers stopped; freed by the reaper */
    char peer[64];
    /*
     * Streams whose request completed during the current nghttp2_session_mem_recv()
     * call; they are answered only once the call returns without a connection error,
     * so a request is never processed on a connection that is being torn down.
     */
    int32_t *ready; /* owned */
    size_t nready, ready_cap;
    /* Answers of this loop pass's group, sent once the group is stored (h2_server_pass_end). */
    struct h2_kept *kept; /* owned */
    size_t nkept, kept_cap;
    bool in_pass;              /* on server->pass_conns */
    struct h2_conn *pass_next; /* link in server->pass_conns */
};

/* An answer that waits for the end of the loop pass. */
struct h2_kept {
    int32_t stream_id;
    bool writes; /* the request may have changed state: 503 when the group is not stored */
    struct http_response resp;
};

struct h2_server {
    struct ev_loop *loop; /* borrowed */
    int listen_fd;        /* owned; -1 once closed */
    ev_io accept_w;
    ev_timer accept_pause;
    ev_prepare reaper;
    ev_timer shutdown_timer;
    struct h2_limits limits; /* with the defaults filled in */
    h2_handler_fn *handler;
    void *userdata;                       /* borrowed */
    nghttp2_session_callbacks *callbacks; /* owned */
    SSL_CTX *tls_ctx;                     /* owned; NULL for cleartext */
    struct h2_conn *conns;                /* owned, including the closing ones */
    struct h2_conn *reap;                 /* borrowed from conns: closing, to be freed */
    unsigned nconns;
    bool shutting_down;
    bool final_goaway; /* shutdown grace over, final GOAWAY submitted */
    bool done_pending;
    void (*done)(void *);
    void *done_userdata;      /* borrowed */
    h2_log_fn *log;           /* told of answers h2 gives itself (413, 431, 400, 503), or NULL */
    void *log_userdata;       /* borrowed */
    h2_batch_fn *batch_begin; /* group commit around the requests of one loop pass, or NULL */
    h2_batch_fn *batch_end;
    void *batch_userdata;       /* borrowed */
    bool pass_open;             /* batch_begin succeeded; batch_end is owed at the pass's end */
    ev_prepare pass_end;        /* ends the group before the loop blocks again */
    struct h2_conn *pass_conns; /* borrowed: connections with kept answers */
};

static const char h2_problem_400[] =
    "{\"type\":\"about:blank\",\"title\":\"Bad Request\",\"status\":400,"
    "\"detail\":\"the request lacks :method or :path\"}";
static const char h2_problem_413[] =
    "{\"type\":\"about:blank\",\"title\":\"Content Too Large\",\"status\":413,"
    "\"detail\":\"the request body exceeds the server's limit\"}";
static const char h2_problem_431[] =
    "{\"type\":\"about:blank\",\"title\":\"Request Header Fields Too Large\",\"status\":431,"
    "\"detail\":\"the request headers exceed the server's limit\"}";
static const char h2_problem_500[] =
    "{\"type\":\"about:blank\",\"title\":\"Internal Server Error\",\"status\":500,"
    "\"detail\":\"the request could not be processed\"}";
static const char h2_problem_503[] =
    "{\"type\":\"about:blank\",\"title\":\"Service Unavailable\",\"status\":503,"
    "\"detail\":\"the server is short of resources, retry later\"}";
static const char h2_problem_not_stored[] =
    "{\"type\":\"about:blank\",\"title\":\"Service Unavailable\",\"status\":503,"
    "\"detail\":\"the change could not be stored, so nothing was done; retry later\"}";
static const char h2_problem_426[] =
    "{\"type\":\"about:blank\",\"title\":\"Upgrade Required\",\"status\":426,"
    "\"detail\":\"this server speaks HTTP/2 only (cleartext, prior knowledge); "
    "use e.g. curl --http2-prior-knowledge\"}\n";
static const char h2_problem_426_tls[] =
    "{\"type\":\"about:blank\",\"title\":\"Upgrade Required\",\"status\":426,"
    "\"detail\":\"this server speaks HTTP/2 only (over TLS with ALPN h2); "
    "use an HTTP/2 client, e.g. curl --http2\"}\n";
static const char h2_problem_type[] = "application/problem+json";

/* Maps an nghttp2 error code to a negative errno. */
static int h2_errno(int rv)
{
    switch (rv) {
    case NGHTTP2_ERR_NOMEM:
        return -ENOMEM;
    case NGHTTP2_ERR_INVALID_ARGUMENT:
        return -EINVAL;
    default:
        return -EPROTO;
    }
}

static nghttp2_nv h2_nv(const char *name, const char *value)
{
    nghttp2_nv nv;

    nv.name = (uint8_t *)name;
    nv.value = (uint8_t *)value;
    nv.namelen = strlen(name);
    nv.valuelen = strlen(value);
    nv.flags = NGHTTP2_NV_FLAG_NONE;
    return nv;
}

static const char *h2_problem(int status, size_t *len)
{
    const char *body;

    switch (status) {
    case 400:
        body = h2_problem_400;
        break;
    case 413:
        body = h2_problem_413;
        break;
    case 431:
        body = h2_problem_431;
        break;
    case 503:
        body = h2_problem_503;
        break;
    default:
        body = h2_problem_500;
        break;
    }
    *len = strlen(body);
    return body;
}

static void h2_format_peer(char *out, size_t size, const struct sockaddr_storage *ss)
{
    char host[INET6_ADDRSTRLEN];

    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

        if (inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host)) != NULL) {
            snprintf(out, size, "%s:%u", host, (unsigned)ntohs(sin->sin_port));
            return;
        }
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

        if (inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host)) != NULL) {
            snprintf(out, size, "[%s]:%u", host, (unsigned)ntohs(sin6->sin6_port));
            return;
        }
    } else if (ss->ss_family == AF_UNIX) {
        snprintf(out, size, "unix");
        return;
    }
    snprintf(out, size, "unknown");
}

/* ---- streams ---------------------------------------------------------------------------- */

static void h2_stream_free(struct h2_stream *stream)
{
    free(stream->method);
    free(stream->path);
    free(stream->authorization);
    free(stream->idempotency_key);
    free(stream->content_type);
    free(stream->body);
    free(stream->resp_owned);
    free(stream);
}

static void h2_stream_unlink(struct h2_stream *stream)
{
    struct h2_conn *conn = stream->conn;

    if (stream->prev != NULL)
        stream->prev->next = stream->next;
    else
        conn->streams = stream->next;
    if (stream->next != NULL)
        stream->next->prev = stream->prev;
    conn->nstreams--;
}

static ssize_t h2_stream_read_body(nghttp2_session *session, int32_t stream_id, uint8_t *buf,
                                   size_t length, uint32_t *data_flags, nghttp2_data_source *source,
                                   void *user_data)
{
    struct h2_stream *stream = source->ptr;
    size_t n = stream->resp_len - stream->resp_off;

    (void)session;
    (void)stream_id;
    (void)user_data;
    if (n > length)
        n = length;
    if (n > 0)
        memcpy(buf, stream->resp_data + stream->resp_off, n);
    stream->resp_off += n;
    if (stream->resp_off == stream->resp_len)
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

/*
 * Submits the response of a stream. data is either owned (the handler's body, freed with the
 * stream from now on, whatever happens) or a static string. Returns 0 or an nghttp2 fatal code
 * for the callback to return.
 */
static int h2_stream_submit(struct h2_stream *stream, int status, const char *content_type,
                            const char *data, char *owned, size_t len, const char *extra_name,
                            const char *extra_value)
{
    nghttp2_session *session = stream->conn->session;
    nghttp2_data_provider prd;
    const nghttp2_data_provider *body;
    nghttp2_nv nv[4];
    char status_buf[12];
    char len_buf[24];
    size_t nvlen = 0;
    int rv;

    stream->responded = true;
    stream->resp_owned = owned;
    stream->resp_data = data;
    stream->resp_len = data != NULL ? len : 0;
    stream->resp_off = 0;
    /* The request body is of no further use. */
    free(stream->body);
    stream->body = NULL;
    stream->body_len = 0;
    stream->body_cap = 0;

    snprintf(status_buf, sizeof(status_buf), "%d", status);
    snprintf(len_buf, sizeof(len_buf), "%zu", stream->resp_len);
    nv[nvlen++] = h2_nv(":status", status_buf);
    if (content_type != NULL)
        nv[nvlen++] = h2_nv("content-type", content_type);
    nv[nvlen++] = h2_nv("content-length", len_buf);
    if (extra_name != NULL && extra_value != NULL)
        nv[nvlen++] = h2_nv(extra_name, extra_value);

    prd.source.ptr = stream;
    prd.read_callback = h2_stream_read_body;
    body = stream->resp_len > 0 ? &prd : NULL; /* no body: HEADERS carries END_STREAM */
    rv = nghttp2_submit_response(session, stream->id, nv, nvlen, body);
    if (rv == 0)
        return 0;

    free(stream->resp_owned);
    stream->resp_owned = NULL;
    stream->resp_data = NULL;
    stream->resp_len = 0;
    rv = nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream->id, NGHTTP2_INTERNAL_ERROR);
    return rv == 0 ? 0 : NGHTTP2_ERR_CALLBACK_FAILURE;
}

static int h2_stream_respond_error(struct h2_stream *stream, int status)
{
    const char *body;
    size_t len;
    struct h2_server *server = stream->conn->server;

    body = h2_problem(status, &len);
    if (server->log)
        server->log(server->log_userdata, stream->id, stream->conn->peer,
                    stream->method ? stream->method : "-", stream->path ? stream->path : "-",
                    status, len);
    return h2_stream_submit(stream, status, h2_problem_type, body, NULL, len, NULL, NULL);
}

/* The request is complete: answer the owed error or ask the handler. */
static void h2_conn_touch(struct h2_conn *conn);

/*
 * Runs a completed request: 1 with the handler's answer in *resp (to submit),
 * 0 when there is nothing to submit (answered already, or by h2 itself), or
 * nonzero < 0 when an answer could not be queued.
 */
static int h2_stream_run(struct h2_stream *stream, struct http_response *resp)
{
    struct h2_conn *conn = stream->conn;
    struct h2_server *server = conn->server;
    struct http_request req;

    h2_conn_touch(conn); /* a whole request arrived: the connection is doing work */

    if (stream->responded)
        return 0;
    if (stream->error_status != 0)
        return h2_stream_respond_error(stream, stream->error_status) != 0 ? -1 : 0;
    if (stream->method == NULL || stream->path == NULL)
        return h2_stream_respond_error(stream, 400) != 0 ? -1 : 0;

    memset(&req, 0, sizeof(req));
    req.stream_id = stream->id;
    req.method = stream->method;
    req.path = stream->path;
    req.authorization = stream->authorization;
    req.idempotency_key = stream->idempotency_key;
    req.content_type = stream->content_type;
    if (stream->body != NULL) {
        stream->body[stream->body_len] = '\0';
        req.body = stream->body;
    } else {
        req.body = "";
    }
    req.body_len = stream->body_len;
    req.peer = conn->peer;

    memset(resp, 0, sizeof(*resp));
    server->handler(server->userdata, &req, resp);
    if (resp->status < 200 || resp->status > 599)
        resp->status = 500;
    return 1;
}

static int h2_stream_answer(struct h2_stream *stream, struct http_response *resp)
{
    return h2_stream_submit(stream, resp->status, resp->content_type, resp->body, resp->body,
                            resp->body_len, resp->extra_name, resp->extra_value);
}

static int h2_stream_complete(struct h2_stream *stream)
{
    struct http_response resp;
    int r = h2_stream_run(stream, &resp);
    return r == 1 ? h2_stream_answer(stream, &resp) : r;
}

/* Whether a request may change state (anything but GET and HEAD). */
static bool h2_stream_writes(const struct h2_stream *stream)
{
    return strcmp(stream->method, "GET") != 0 && strcmp(stream->method, "HEAD") != 0;
}

/* A write of a group whose commit failed: its answer is dropped for a 503. */
static int h2_stream_not_stored(struct h2_stream *stream, struct http_response *resp)
{
    struct h2_server *server = stream->conn->server;
    free(resp->body);
    size_t len = strlen(h2_problem_not_stored);
    if (server->log)
        server->log(server->log_userdata, stream->id, stream->conn->peer, stream->method,
                    stream->path, 503, len);
    return h2_stream_submit(stream, 503, h2_problem_type, h2_problem_not_stored, NULL, len, NULL,
                            NULL);
}

static void h2_conn_flush(struct h2_conn *conn);

/* Keeps a handler's answer until the end of the loop pass. 0 or -ENOMEM. */
static int h2_conn_keep(struct h2_conn *conn, const struct h2_stream *stream,
                        const struct http_response *resp)
{
    if (conn->nkept == conn->kept_cap) {
        size_t cap = conn->kept_cap ? 2 * conn->kept_cap : 16;
        struct h2_kept *k = realloc(conn->kept, cap * sizeof(*k));
        if (k == NULL)
            return -ENOMEM;
        conn->kept = k;
        conn->kept_cap = cap;
    }
    conn->kept[conn->nkept++] = (struct h2_kept){
        .stream_id = stream->id, .writes = h2_stream_writes(stream), .resp = *resp};
    if (!conn->in_pass) {
        conn->in_pass = true;
        conn->pass_next = conn->server->pass_conns;
        conn->server->pass_conns = conn;
    }
    return 0;
}

/* Drops the answers a connection keeps, and takes it off the pass's list. */
static void h2_conn_drop_kept(struct h2_conn *conn)
{
    for (size_t i = 0; i < conn->nkept; i++)
        free(conn->kept[i].resp.body);
    conn->nkept = 0;
    if (!conn->in_pass)
        return;
    struct h2_conn **p = &conn->server->pass_conns;
    while (*p != NULL && *p != conn)
        p = &(*p)->pass_next;
    if (*p == conn)
        *p = conn->pass_next;
    conn->in_pass = false;
}

/*
 * Runs the requests one input completed inside the loop pass's group (the
 * server's batch hooks: one transaction, one sync for every connection's
 * requests of the pass) and keeps their answers for h2_server_pass_end().
 * Nothing is queued for the peer before the group is stored.
 */
static int h2_conn_run_kept(struct h2_conn *conn)
{
    for (size_t i = 0; i < conn->nready; i++) {
        struct h2_stream *stream =
            nghttp2_session_get_stream_user_data(conn->session, conn->ready[i]);
        struct http_response resp;
        int k = stream != NULL ? h2_stream_run(stream, &resp) : 0;
        if (k < 0)
            return k;
        if (k == 1 && h2_conn_keep(conn, stream, &resp) < 0) {
            free(resp.body);
            return -ENOMEM;
        }
    }
    return 0;
}

/*
 * Whether a request this input completed may change state. Reads alone open no
 * group (they are answered at once); once a group is open, reads of the same
 * pass join it, so that nothing they saw is sent before it is stored.
 */
static bool h2_conn_ready_writes(struct h2_conn *conn)
{
    for (size_t i = 0; i < conn->nready; i++) {
        struct h2_stream *stream =
            nghttp2_session_get_stream_user_data(conn->session, conn->ready[i]);
        if (stream != NULL && stream->method != NULL && h2_stream_writes(stream))
            return true;
    }
    return false;
}

/* Opens the loop pass's group if needed: true when requests now run inside it. */
static bool h2_server_pass_begin(struct h2_server *server)
{
    if (server->pass_open)
        return true;
    if (server->batch_begin == NULL || server->batch_begin(server->batch_userdata) != 0)
        return false;
    server->pass_open = true;
    ev_prepare_start(server->loop, &server->pass_end);
    return true;
}

/*
 * Ends the loop pass's group: the batch end hook stores it, then every kept
 * answer is queued as it is or, for the writes when storing failed, as a 503,
 * and each connection is flushed.
 */
static void h2_server_pass_finish(struct h2_server *server)
{
    if (!server->pass_open)
        return;
    server->pass_open = false;
    ev_prepare_stop(server->loop, &server->pass_end);
    bool stored = server->batch_end(server->batch_userdata) == 0;
    struct h2_conn *conn;
    while ((conn = server->pass_conns) != NULL) {
        server->pass_conns = conn->pass_next;
        conn->in_pass = false;
        int r = 0;
        for (size_t i = 0; i < conn->nkept; i++) {
            struct h2_kept *k = &conn->kept[i];
            struct h2_stream *stream =
                conn->closing ? NULL
                              : nghttp2_session_get_stream_user_data(conn->session, k->stream_id);
            if (r != 0 || stream == NULL) {
                free(k->resp.body);
                continue;
            }
            if (!stored && k->writes)
                r = h2_stream_not_stored(stream, &k->resp);
            else
                r = h2_stream_answer(stream, &k->resp);
        }
        conn->nkept = 0;
        if (conn->closing)
            continue;
        if (r != 0) {
            nghttp2_session_terminate_session(conn->session, NGHTTP2_INTERNAL_ERROR);
            conn->close_after_flush = true;
        }
        if (conn->fd >= 0)
            h2_conn_flush(conn);
    }
}

static void h2_server_on_pass_end(struct ev_loop *loop, ev_prepare *w, int revents)
{
    (void)loop;
    (void)revents;
    h2_server_pass_finish(w->data);
}

/* Parses a content-length value; returns false when it is not a plain decimal number. */
static bool h2_parse_length(const uint8_t *value, size_t len, size_t *out)
{
    size_t n = 0;
    size_t i;

    if (len == 0)
        return false;
    for (i = 0; i < len; i++) {
        if (value[i] < '0' || value[i] > '9')
            return false;
        if (n > (SIZE_MAX - 9) / 10)
            return false;
        n = n * 10 + (size_t)(value[i] - '0');
    }
    *out = n;
    return true;
}

static bool h2_name_is(const uint8_t *name, size_t namelen, const char *want)
{
    size_t len = strlen(want);

    return namelen == len && memcmp(name, want, len) == 0;
}

static char **h2_stream_slot(struct h2_stream *stream, const uint8_t *name, size_t namelen)
{
    if (h2_name_is(name, namelen, ":method"))
        return &stream->method;
    if (h2_name_is(name, namelen, ":path"))
        return &stream->path;
    if (h2_name_is(name, namelen, "authorization"))
        return &stream->authorization;
    if (h2_name_is(name, namelen, "idempotency-key"))
        return &stream->idempotency_key;
    if (h2_name_is(name, namelen, "content-type"))
        return &stream->content_type;
    return NULL;
}

/* ---- nghttp2 callbacks (user_data is the connection) --------------------------------------- */

static int h2_on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame,
                               void *user_data)
{
    struct h2_conn *conn = user_data;
    struct h2_stream *stream;

    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    stream = calloc(1, sizeof(*stream));
    if (stream == NULL) {
        /* REFUSED_STREAM tells the client it may retry; nghttp2 closes the stream. */
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
                                  NGHTTP2_REFUSED_STREAM);
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    stream->conn = conn;
    stream->id = frame->hd.stream_id;
    if (nghttp2_session_set_stream_user_data(session, stream->id, stream) != 0) {
        free(stream);
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    stream->next = conn->streams;
    if (conn->streams != NULL)
        conn->streams->prev = stream;
    conn->streams = stream;
    conn->nstreams++;
    return 0;
}

static int h2_on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
                        size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                        void *user_data)
{
    struct h2_conn *conn = user_data;
    const struct h2_limits *limits = &conn->server->limits;
    struct h2_stream *stream;
    size_t length;
    char **slot;

    (void)flags;
    stream = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (stream == NULL || stream->responded || stream->error_status != 0)
        return 0;
    stream->header_bytes += namelen + valuelen;
    if (stream->header_bytes > limits->max_header_bytes) {
        stream->error_status = 431;
        return 0;
    }
    if (frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0; /* trailers count against the limit but are not kept */

    if (h2_name_is(name, namelen, "content-length") && h2_parse_length(value, valuelen, &length)) {
        if (length > limits->max_body)
            stream->error_status = 413;
        else
            stream->expected_len = length;
        return 0;
    }
    slot = h2_stream_slot(stream, name, namelen);
    if (slot == NULL || *slot != NULL)
        return 0; /* not ours, or a repeat: the first one wins */
    *slot = strndup((const char *)value, valuelen);
    if (*slot == NULL)
        stream->error_status = 503;
    return 0;
}

/* Makes room for len more body bytes plus the NUL; returns false when out of memory. */
static bool h2_stream_reserve(struct h2_stream *stream, size_t len, size_t max_body)
{
    size_t need = stream->body_len + len + 1;
    size_t cap = stream->body_cap;
    char *body;

    if (need <= cap)
        return true;
    if (cap == 0 && stream->expected_len >= stream->body_len + len)
        cap = stream->expected_len + 1;
    if (cap < 1024)
        cap = 1024;
    while (cap < need && cap <= SIZE_MAX / 2)
        cap *= 2;
    if (cap < need)
        cap = need;
    if (cap > max_body + 1)
        cap = max_body + 1;
    body = realloc(stream->body, cap);
    if (body == NULL)
        return false;
    stream->body = body;
    stream->body_cap = cap;
    return true;
}

static int h2_on_data_chunk_recv(nghttp2_session *session, uint8_t flags, int32_t stream_id,
                                 const uint8_t *data, size_t len, void *user_data)
{
    struct h2_conn *conn = user_data;
    size_t max_body = conn->server->limits.max_body;
    struct h2_stream *stream;

    (void)flags;
    stream = nghttp2_session_get_stream_user_data(session, stream_id);
    /*
     * Answered already (413, 431): drop the rest; nghttp2 still credits the flow-control
     * window. No RST_STREAM(NO_ERROR) after the answer: curl 7.88 reports that as an error.
     */
    if (stream == NULL || stream->responded || stream->error_status != 0)
        return 0;
    if (len > max_body - stream->body_len) {
        stream->error_status = 413;
        return h2_stream_respond_error(stream, 413);
    }
    if (len == 0)
        return 0;
    if (!h2_stream_reserve(stream, len, max_body)) {
        stream->error_status = 503;
        return h2_stream_respond_error(stream, 503);
    }
    memcpy(stream->body + stream->body_len, data, len);
    stream->body_len += len;
    return 0;
}

static int h2_on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    struct h2_stream *stream;

    (void)user_data;
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
        return 0;
    stream = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (stream == NULL)
        return 0;
    if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) {
        struct h2_conn *conn = stream->conn;
        if (conn->nready == conn->ready_cap) {
            size_t cap = conn->ready_cap ? conn->ready_cap * 2 : 16;
            int32_t *p = cap <= 65536 ? realloc(conn->ready, cap * sizeof(*p)) : NULL;
            if (p == NULL)
                return h2_stream_complete(stream); /* cannot defer: answer now */
            conn->ready = p;
            conn->ready_cap = cap;
        }
        conn->ready[conn->nready++] = stream->id;
        return 0;
    }
    /* 431 or an announced oversized body: answer now, without waiting for the body. */
    if (stream->error_status != 0 && !stream->responded)
        return h2_stream_respond_error(stream, stream->error_status);
    return 0;
}

static int h2_on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
                              void *user_data)
{
    struct h2_stream *stream;

    (void)error_code;
    (void)user_data;
    stream = nghttp2_session_get_stream_user_data(session, stream_id);
    if (stream == NULL)
        return 0;
    /* nghttp2 is done with the stream and its data provider: freeing it here is safe. */
    h2_stream_unlink(stream);
    h2_stream_free(stream);
    return 0;
}

/* A DATA frame leaves: a response is making progress, so the connection is not idle. */
static int h2_on_frame_send(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    (void)session;
    if (frame->hd.type == NGHTTP2_DATA)
        h2_conn_touch(user_data);
    return 0;
}

static int h2_callbacks_new(nghttp2_session_callbacks **ret)
{
    nghttp2_session_callbacks *cbs;
    int rv;

    rv = nghttp2_session_callbacks_new(&cbs);
    if (rv != 0)
        return rv;
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, h2_on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, h2_on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, h2_on_data_chunk_recv);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, h2_on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, h2_on_stream_close);
    nghttp2_session_callbacks_set_on_frame_send_callback(cbs, h2_on_frame_send);
    *ret = cbs;
    return 0;
}

/* ---- connections ------------------------------------------------------------------------- */

/* Marks the connection closing; the reaper frees it before the loop next blocks. */
static void h2_conn_close(struct h2_conn *conn)
{
    struct h2_server *server = conn->server;

    if (conn->closing)
        return;
    conn->closing = true;
    ev_io_stop(server->loop, &conn->rev);
    ev_io_stop(server->loop, &conn->wev);
    ev_timer_stop(server->loop, &conn->idle);
    conn->reap_next = server->reap;
    server->reap = conn;
    ev_prepare_start(server->loop, &server->reaper);
}

/* Frees a connection already unlinked from the server. */
static void h2_conn_free(struct h2_conn *conn)
{
    struct ev_loop *loop = conn->server->loop;
    struct h2_stream *stream;

    ev_io_stop(loop, &conn->rev);
    ev_io_stop(loop, &conn->wev);
    ev_timer_stop(loop, &conn->idle);
    h2_conn_drop_kept(conn);
    free(conn->kept);
    /* nghttp2_session_del() calls no stream-close callback: the streams go after it. */
    nghttp2_session_del(conn->session);
    while (conn->streams != NULL) {
        stream = conn->streams;
        conn->streams = stream->next;
        h2_stream_free(stream);
    }
    if (conn->tls != NULL)
        SSL_free(conn->tls); /* and its BIOs */
    if (conn->fd >= 0)
        close(conn->fd);
    free(conn->out);
    free(conn->plain);
    free(conn->ready);
    free(conn);
}

static void h2_conn_touch(struct h2_conn *conn)
{
    if (conn->mode == H2_MODE_H1)
        return; /* the 426 linger is not extended by the client */
    conn->idle_strikes = 0;
    ev_timer_again(conn->server->loop, &conn->idle);
}

/* Makes room for need bytes in *buf (capacity *cap); returns 0 or -ENOMEM. */
static int h2_reserve(uint8_t **buf, size_t *cap, size_t need)
{
    size_t c = *cap;
    uint8_t *p;

    if (need <= c)
        return 0;
    if (c == 0)
        c = 16384;
    while (c < need && c <= SIZE_MAX / 2)
        c *= 2;
    if (c < need)
        c = need;
    p = realloc(*buf, c);
    if (p == NULL)
        return -ENOMEM;
    *buf = p;
    *cap = c;
    return 0;
}

/* Appends bytes for the wire. */
static int h2_conn_append(struct h2_conn *conn, const void *data, size_t len)
{
    int rv;

    rv = h2_reserve(&conn->out, &conn->out_cap, conn->out_len + len);
    if (rv < 0)
        return rv;
    memcpy(conn->out + conn->out_len, data, len);
    conn->out_len += len;
    return 0;
}

/* Appends plaintext for the peer: straight to the wire, or gathered for the next h2_tls_seal(). */
static int h2_conn_emit(struct h2_conn *conn, const void *data, size_t len)
{
    int rv;

    if (conn->tls == NULL)
        return h2_conn_append(conn, data, len);
    rv = h2_reserve(&conn->plain, &conn->plain_cap, conn->plain_len + len);
    if (rv < 0)
        return rv;
    memcpy(conn->plain + conn->plain_len, data, len);
    conn->plain_len += len;
    return 0;
}

/*
 * Encrypts the gathered plaintext (once the handshake is done) and moves every ciphertext byte
 * OpenSSL has produced (handshake, records, alerts, close_notify) to the wire buffer. With a
 * memory BIO SSL_write() takes all or fails. Returns 0 or a negative errno.
 */
static int h2_tls_seal(struct h2_conn *conn)
{
    size_t pending;
    int n;
    int rv;

    if (conn->tls_failed) {
        conn->plain_len = 0; /* nobody can read it any more */
    } else if (conn->plain_len > 0 && SSL_is_init_finished(conn->tls)) {
        if (conn->plain_len > INT_MAX)
            return -EOVERFLOW;
        ERR_clear_error();
        n = SSL_write(conn->tls, conn->plain, (int)conn->plain_len);
        if (n <= 0 || (size_t)n != conn->plain_len) {
            conn->tls_failed = true;
            return -EPROTO;
        }
        conn->plain_len = 0;
    }
    pending = BIO_ctrl_pending(conn->tls_out);
    if (pending == 0)
        return 0;
    if (pending > INT_MAX)
        return -EOVERFLOW;
    rv = h2_reserve(&conn->out, &conn->out_cap, conn->out_len + pending);
    if (rv < 0)
        return rv;
    n = BIO_read(conn->tls_out, conn->out + conn->out_len, (int)pending);
    if (n > 0)
        conn->out_len += (size_t)n;
    return 0;
}

/* Pulls serialized frames from nghttp2 (and, with TLS, seals them) into the empty wire buffer. */
static int h2_conn_fill(struct h2_conn *conn)
{
    const uint8_t *data;
    size_t pulled = 0;
    ssize_t n;
    int rv;

    while (conn->mode == H2_MODE_H2 && pulled < H2_OUT_HIGH) {
        n = nghttp2_session_mem_send(conn->session, &data);
        if (n < 0)
            return h2_errno((int)n);
        if (n == 0)
            break;
        rv = h2_conn_emit(conn, data, (size_t)n);
        if (rv < 0)
            return rv;
        pulled += (size_t)n;
    }
    return conn->tls != NULL ? h2_tls_seal(conn) : 0;
}

/*
 * Before a graceful close over TLS: queues our close_notify once. Returns true when it did and
 * the write watcher will send it (the close comes with the next h2_conn_flushed()).
 */
static bool h2_tls_goodbye(struct h2_conn *conn)
{
    struct ev_loop *loop = conn->server->loop;

    if (conn->tls == NULL || conn->tls_bye || conn->tls_failed)
        return false;
    conn->tls_bye = true;
    if (!SSL_is_init_finished(conn->tls))
        return false;
    ERR_clear_error();
    SSL_shutdown(conn->tls); /* 0: sent, theirs not awaited */
    if (h2_tls_seal(conn) < 0 || conn->out_off == conn->out_len)
        return false;
    ev_io_stop(loop, &conn->rev);
    ev_io_start(loop, &conn->wev);
    return true;
}

/* What to do once every pending byte is written. */
static void h2_conn_flushed(struct h2_conn *conn)
{
    struct ev_loop *loop = conn->server->loop;

    if (conn->close_after_flush) {
        if (!h2_tls_goodbye(conn))
            h2_conn_close(conn);
        return;
    }
    switch (conn->mode) {
    case H2_MODE_H1:
        if (!conn->h1_half_closed) {
            /* Send our FIN, then drain theirs, so unread request bytes cannot RST the 426. */
            shutdown(conn->fd, SHUT_WR);
            conn->h1_half_closed = true;
            ev_timer_stop(loop, &conn->idle);
            ev_timer_set(&conn->idle, H2_LINGER_S, 0.);
            ev_timer_start(loop, &conn->idle);
        }
        break;
    case H2_MODE_H2:
        if (!nghttp2_session_want_read(conn->session) &&
            !nghttp2_session_want_write(conn->session)) {
            if (!h2_tls_goodbye(conn))
                h2_conn_close(conn);
            return;
        }
        break;
    case H2_MODE_SNIFF:
        break;
    }
    ev_io_start(loop, &conn->rev);
}

/*
 * Writes pending output until done or EAGAIN. While output is blocked the read watcher is off
 * (backpressure) and the write watcher on. Never called from inside nghttp2.
 */
static void h2_conn_flush(struct h2_conn *conn)
{
    struct ev_loop *loop = conn->server->loop;
    ssize_t n;

    if (conn->closing)
        return;
    for (;;) {
        if (conn->out_off == conn->out_len) {
            conn->out_off = 0;
            conn->out_len = 0;
            if (h2_conn_fill(conn) < 0) {
                h2_conn_close(conn);
                return;
            }
            if (conn->out_len == 0)
                break;
        }
        n = write(conn->fd, conn->out + conn->out_off, conn->out_len - conn->out_off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                ev_io_stop(loop, &conn->rev);
                ev_io_start(loop, &conn->wev);
                return;
            }
            h2_conn_close(conn);
            return;
        }
        conn->out_off += (size_t)n;
        /*
         * Writing keeps a connection with no open stream alive (PING answers, the TLS
         * handshake). With streams open only their DATA counts (h2_on_frame_send()): else a
         * client that shuts its flow-control window and PINGs would keep its stuck streams, and
         * their response bodies, forever.
         */
        if (conn->nstreams == 0)
            h2_conn_touch(conn);
    }
    ev_io_stop(loop, &conn->wev);
    h2_conn_flushed(conn);
}

/* Feeds bytes to nghttp2; on a fatal error queues a GOAWAY and closes after the flush. */
static int h2_conn_recv(struct h2_conn *conn, const uint8_t *data, size_t len)
{
    ssize_t n;

    if (len == 0)
        return 0;
    n = nghttp2_session_mem_recv(conn->session, data, len);
    if (n >= 0 && conn->nready > 0 && (conn->server->pass_open || h2_conn_ready_writes(conn)) &&
        h2_server_pass_begin(conn->server)) {
        int r = h2_conn_run_kept(conn);
        conn->nready = 0;
        if (r != 0) {
            nghttp2_session_terminate_session(conn->session, NGHTTP2_INTERNAL_ERROR);
            conn->close_after_flush = true;
            return -EIO;
        }
        return 0;
    }
    if (n >= 0) {
        /* Answer the requests this input completed (their streams may be gone: reset). */
        for (size_t i = 0; i < conn->nready; i++) {
            struct h2_stream *stream =
                nghttp2_session_get_stream_user_data(conn->session, conn->ready[i]);
            if (stream != NULL && h2_stream_complete(stream) != 0) {
                conn->nready = 0;
                nghttp2_session_terminate_session(conn->session, NGHTTP2_INTERNAL_ERROR);
                conn->close_after_flush = true;
                return -EIO;
            }
        }
        conn->nready = 0;
        return 0;
    }
    conn->nready = 0; /* a connection error: none of this input's requests is processed */
    nghttp2_session_terminate_session(conn->session, n == NGHTTP2_ERR_BAD_CLIENT_MAGIC
                                                         ? NGHTTP2_PROTOCOL_ERROR
                                                         : NGHTTP2_INTERNAL_ERROR);
    conn->close_after_flush = true;
    return h2_errno((int)n);
}

/*
 * Queues the 426 answer. Over TLS the answer is sealed at once and our close_notify queued
 * behind it, so the peer sees a complete TLS close before our FIN.
 */
static void h2_conn_start_h1(struct h2_conn *conn)
{
    /* "h2c" names cleartext HTTP/2; over TLS the generic protocol name (RFC 9110 §7.8). */
    const char *upgrade = conn->tls != NULL ? "HTTP/2.0" : "h2c";
    const char *body = conn->tls != NULL ? h2_problem_426_tls : h2_problem_426;
    size_t body_len = strlen(body);
    char head[256];
    int n;

    conn->mode = H2_MODE_H1;
    n = snprintf(head, sizeof(head),
                 "HTTP/1.1 426 Upgrade Required\r\n"
                 "Upgrade: %s\r\n"
                 "Connection: close\r\n"
                 "Content-Type: %s\r\n"
                 "Content-Length: %zu\r\n"
                 "\r\n",
                 upgrade, h2_problem_type, body_len);
    if (n < 0 || (size_t)n >= sizeof(head) || h2_conn_emit(conn, head, (size_t)n) < 0 ||
        h2_conn_emit(conn, body, body_len) < 0) {
        h2_conn_close(conn);
        return;
    }
    if (conn->tls == NULL)
        return;
    if (h2_tls_seal(conn) < 0) {
        h2_conn_close(conn);
        return;
    }
    conn->tls_bye = true;
    ERR_clear_error();
    SSL_shutdown(conn->tls); /* sealed by the next h2_conn_fill() */
}

static bool h2_is_tchar(uint8_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Decides from the first bytes whether this is HTTP/2, HTTP/1.x, or too early to tell. */
static enum h2_sniff h2_sniff_preface(const uint8_t *p, size_t len)
{
    size_t i;

    if (memcmp(p, NGHTTP2_CLIENT_MAGIC, len) == 0)
        return len == H2_PREFACE_LEN ? H2_SNIFF_H2 : H2_SNIFF_MORE;
    for (i = 0; i < len; i++) {
        if (p[i] == ' ')
            return i > 0 ? H2_SNIFF_H1 : H2_SNIFF_H2;
        if (!h2_is_tchar(p[i]))
            return H2_SNIFF_H2; /* garbage: nghttp2 rejects it */
    }
    return len < H2_PREFACE_LEN ? H2_SNIFF_MORE : H2_SNIFF_H2;
}

static int h2_conn_input(struct h2_conn *conn, const uint8_t *data, size_t len)
{
    size_t take;
    int rv;

    switch (conn->mode) {
    case H2_MODE_H1:
        return 0; /* the request line and whatever follows are drained unread */
    case H2_MODE_H2:
        return h2_conn_recv(conn, data, len);
    case H2_MODE_SNIFF:
        break;
    }
    take = H2_PREFACE_LEN - conn->sniff_len;
    if (take > len)
        take = len;
    memcpy(conn->sniff + conn->sniff_len, data, take);
    conn->sniff_len += take;
    switch (h2_sniff_preface(conn->sniff, conn->sniff_len)) {
    case H2_SNIFF_MORE:
        return 0; /* everything fitted in the sniff buffer */
    case H2_SNIFF_H1:
        h2_conn_start_h1(conn);
        return 0;
    case H2_SNIFF_H2:
        break;
    }
    conn->mode = H2_MODE_H2;
    rv = h2_conn_recv(conn, conn->sniff, conn->sniff_len);
    if (rv < 0)
        return rv;
    return h2_conn_recv(conn, data + take, len - take);
}

/*
 * Gives ciphertext to OpenSSL and the plaintext it yields to h2_conn_input(). SSL_read() drives
 * the handshake too: its records land in tls_out and go out with the next flush. Everything fed
 * is decrypted before returning, so no plaintext waits inside OpenSSL for a readiness event that
 * will not come. Their close_notify closes like EOF; a fatal error flushes OpenSSL's alert, then
 * closes.
 */
static void h2_tls_input(struct h2_conn *conn, const uint8_t *data, size_t len)
{
    uint8_t plain[H2_READ_CHUNK];
    int n, err;

    if (conn->tls_failed)
        return; /* closing once the alert is out */
    if (BIO_write(conn->tls_in, data, (int)len) != (int)len) {
        h2_conn_close(conn);
        return;
    }
    while (!conn->closing) {
        ERR_clear_error();
        n = SSL_read(conn->tls, plain, sizeof(plain));
        if (n > 0) {
            h2_conn_input(conn, plain, (size_t)n);
            continue;
        }
        err = SSL_get_error(conn->tls, n);
        if (err == SSL_ERROR_WANT_READ)
            return;
        if (err == SSL_ERROR_ZERO_RETURN) {
            h2_conn_close(conn);
            return;
        }
        /* SSL_ERROR_SSL (not TLS, a bad handshake, a bad record), _SYSCALL and the rest. */
        conn->tls_failed = true;
        conn->close_after_flush = true;
        return;
    }
}

static void h2_conn_on_read(struct ev_loop *loop, ev_io *w, int revents)
{
    struct h2_conn *conn = w->data;
    uint8_t buf[H2_READ_CHUNK];
    ssize_t n;

    (void)loop;
    (void)revents;
    n = read(conn->fd, buf, sizeof(buf));
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return;
        h2_conn_close(conn);
        return;
    }
    if (n == 0) {
        h2_conn_close(conn);
        return;
    }
    /* Bytes read do not keep a connection alive (slowloris): see h2_conn_on_idle(). */
    if (conn->tls != NULL)
        h2_tls_input(conn, buf, (size_t)n);
    else
        h2_conn_input(conn, buf, (size_t)n);
    h2_conn_flush(conn);
}

static void h2_conn_on_write(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    h2_conn_flush(w->data);
}

/*
 * Idle: no complete request, no response DATA sent and, with no stream open, nothing written for
 * idle_timeout_s (bytes read never count). With no open stream, GOAWAY and close; with open
 * streams (a stalled upload or a client not reading), one more period, then close anyway.
 * Connections not speaking HTTP/2 (silent, half a preface, the 426 linger) just close.
 */
static void h2_conn_on_idle(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct h2_conn *conn = w->data;

    (void)loop;
    (void)revents;
    if (conn->mode != H2_MODE_H2 || conn->idle_strikes > 0 || conn->close_after_flush) {
        h2_conn_close(conn);
        return;
    }
    conn->idle_strikes++;
    if (conn->nstreams > 0)
        return; /* the repeating timer comes back once more */
    if (nghttp2_session_terminate_session(conn->session, NGHTTP2_NO_ERROR) != 0) {
        h2_conn_close(conn);
        return;
    }
    conn->close_after_flush = true;
    h2_conn_flush(conn);
}

/* Gives a new connection its server-side SSL on two memory BIOs; returns 0 or -ENOMEM. */
static int h2_tls_conn_new(struct h2_conn *conn, SSL_CTX *ctx)
{
    BIO *in, *out;

    conn->tls = SSL_new(ctx);
    in = BIO_new(BIO_s_mem());
    out = BIO_new(BIO_s_mem());
    if (conn->tls == NULL || in == NULL || out == NULL) {
        BIO_free(in);
        BIO_free(out);
        SSL_free(conn->tls);
        conn->tls = NULL;
        return -ENOMEM;
    }
    BIO_set_mem_eof_return(in, -1); /* empty means "want more", not EOF */
    BIO_set_mem_eof_return(out, -1);
    SSL_set_bio(conn->tls, in, out); /* conn->tls owns both now */
    SSL_set_accept_state(conn->tls);
    conn->tls_in = in;
    conn->tls_out = out;
    return 0;
}

/*
 * Allocates a connection of server with its nghttp2 session and our SETTINGS queued, and its TLS
 * state when the server has a certificate; no socket, no watcher started, not linked in
 * server->conns. Returns 0 and *ret_conn, or an nghttp2 error code.
 */
static int h2_conn_alloc(struct h2_server *server, struct h2_conn **ret_conn)
{
    nghttp2_settings_entry iv[2];
    struct h2_conn *conn;
    int rv;

    conn = calloc(1, sizeof(*conn));
    if (conn == NULL)
        return NGHTTP2_ERR_NOMEM;
    conn->server = server;
    conn->fd = -1;
    conn->mode = H2_MODE_SNIFF;

    rv = nghttp2_session_server_new(&conn->session, server->callbacks, conn);
    if (rv != 0)
        goto out;
    iv[0].settings_id = NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS;
    iv[0].value = server->limits.max_streams;
    iv[1].settings_id = NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE;
    iv[1].value = H2_STREAM_WINDOW;
    rv = nghttp2_submit_settings(conn->session, NGHTTP2_FLAG_NONE, iv, 2);
    if (rv != 0)
        goto out;
    rv = nghttp2_session_set_local_window_size(conn->session, NGHTTP2_FLAG_NONE, 0, H2_CONN_WINDOW);
    if (rv != 0)
        goto out;

    if (server->tls_ctx != NULL) {
        rv = h2_tls_conn_new(conn, server->tls_ctx);
        if (rv < 0) {
            rv = NGHTTP2_ERR_NOMEM; /* the only way it fails */
            goto out;
        }
    }
    ev_init(&conn->idle, h2_conn_on_idle);
    conn->idle.repeat = server->limits.idle_timeout_s;
    conn->idle.data = conn;
    *ret_conn = conn;
    return 0;
out:
    if (conn->tls != NULL)
        SSL_free(conn->tls);
    nghttp2_session_del(conn->session);
    free(conn);
    return rv;
}

static int h2_conn_new(struct h2_server *server, int fd, const struct sockaddr_storage *ss)
{
    struct h2_conn *conn;
    int one = 1;
    int rv;

    rv = h2_conn_alloc(server, &conn);
    if (rv != 0)
        return h2_errno(rv); /* the caller keeps fd */
    h2_format_peer(conn->peer, sizeof(conn->peer), ss);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* fails on AF_UNIX: fine */

    conn->fd = fd;
    ev_io_init(&conn->rev, h2_conn_on_read, fd, EV_READ);
    conn->rev.data = conn;
    ev_io_init(&conn->wev, h2_conn_on_write, fd, EV_WRITE);
    conn->wev.data = conn;

    conn->next = server->conns;
    if (server->conns != NULL)
        server->conns->prev = conn;
    server->conns = conn;
    server->nconns++;
    ev_io_start(server->loop, &conn->rev);
    ev_timer_again(server->loop, &conn->idle);
    return 0;
}

/* ---- server ----------------------------------------------------------------------------- */

static void h2_server_close_listener(struct h2_server *server)
{
    ev_io_stop(server->loop, &server->accept_w);
    ev_timer_stop(server->loop, &server->accept_pause);
    if (server->listen_fd >= 0) {
        close(server->listen_fd);
        server->listen_fd = -1;
    }
}

static void h2_server_on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
    struct h2_server *server = w->data;
    struct sockaddr_storage ss;
    socklen_t sslen;
    int fd;
    int i;

    (void)revents;
    for (i = 0; i < H2_ACCEPT_BATCH; i++) {
        sslen = sizeof(ss);
        memset(&ss, 0, sizeof(ss));
        fd = accept4(server->listen_fd, (struct sockaddr *)&ss, &sslen,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Level-triggered accept would spin: back off a little. */
                ev_io_stop(loop, &server->accept_w);
                ev_timer_set(&server->accept_pause, H2_ACCEPT_BACKOFF_S, 0.);
                ev_timer_start(loop, &server->accept_pause);
                return;
            }
            continue; /* ECONNABORTED, EINTR, EPROTO, network errors: next one */
        }
        if (server->nconns >= server->limits.max_connections || h2_conn_new(server, fd, &ss) < 0)
            close(fd);
    }
}

static void h2_server_on_accept_pause(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct h2_server *server = w->data;

    (void)revents;
    if (!server->shutting_down && server->listen_fd >= 0)
        ev_io_start(loop, &server->accept_w);
}

/* Calls done() if it is owed. Must be the caller's last use of server: done may free it. */
static void h2_server_maybe_done(struct h2_server *server)
{
    void (*done)(void *) = server->done;
    void *userdata = server->done_userdata;

    if (!server->shutting_down || !server->done_pending || server->nconns > 0)
        return;
    server->done_pending = false;
    ev_timer_stop(server->loop, &server->shutdown_timer);
    if (done != NULL)
        done(userdata);
}

/* ev_prepare runs before the loop blocks again, so it is never starved as ev_idle can be. */
static void h2_server_on_reap(struct ev_loop *loop, ev_prepare *w, int revents)
{
    struct h2_server *server = w->data;
    struct h2_conn *conn;

    (void)revents;
    ev_prepare_stop(loop, w);
    while (server->reap != NULL) {
        conn = server->reap;
        server->reap = conn->reap_next;
        if (conn->prev != NULL)
            conn->prev->next = conn->next;
        else
            server->conns = conn->next;
        if (conn->next != NULL)
            conn->next->prev = conn->prev;
        server->nconns--;
        h2_conn_free(conn);
    }
    h2_server_maybe_done(server);
}

static void h2_server_on_shutdown_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct h2_server *server = w->data;
    struct h2_conn *conn;
    int32_t last;

    (void)revents;
    if (server->final_goaway) {
        /* Deadline: whatever is left goes now. */
        for (conn = server->conns; conn != NULL; conn = conn->next)
            h2_conn_close(conn);
        return;
    }
    server->final_goaway = true;
    for (conn = server->conns; conn != NULL; conn = conn->next) {
        if (conn->closing || conn->mode == H2_MODE_H1)
            continue;
        if (conn->mode == H2_MODE_SNIFF) {
            h2_conn_close(conn); /* not even a preface within the grace time */
            continue;
        }
        last = nghttp2_session_get_last_proc_stream_id(conn->session);
        if (nghttp2_submit_goaway(conn->session, NGHTTP2_FLAG_NONE, last, NGHTTP2_NO_ERROR, NULL,
                                  0) != 0) {
            h2_conn_close(conn);
            continue;
        }
        h2_conn_flush(conn);
    }
    ev_timer_set(w, H2_DEADLINE_S - H2_GRACE_S, 0.);
    ev_timer_start(loop, w);
}

/* ---- TLS context ------------------------------------------------------------------------- */

/*
 * Fills errbuf (when there is one) with fmt and, with_ssl, the reason OpenSSL gave last (e.g.
 * "no start line"); empties OpenSSL's error queue (once it is loaded); returns rv.
 */
static int h2_vfail(char *errbuf, size_t errlen, int rv, bool with_ssl, const char *fmt, va_list ap)
{
    unsigned long e = with_ssl ? ERR_peek_last_error() : 0;
    const char *reason = e != 0 ? ERR_reason_error_string(e) : NULL;
    size_t n;

    if (errbuf != NULL && errlen > 0) {
        vsnprintf(errbuf, errlen, fmt, ap);
        n = strlen(errbuf);
        if (reason != NULL && n + 1 < errlen)
            snprintf(errbuf + n, errlen - n, ": %s", reason);
    }
    if (h2_ssl.loaded)
        ERR_clear_error();
    return rv;
}

static int h2_fail(char *errbuf, size_t errlen, int rv, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    rv = h2_vfail(errbuf, errlen, rv, false, fmt, ap);
    va_end(ap);
    return rv;
}

static int h2_tls_fail(char *errbuf, size_t errlen, int rv, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    rv = h2_vfail(errbuf, errlen, rv, true, fmt, ap);
    va_end(ap);
    return rv;
}

/* Picks "h2" from the client's ALPN list; without it, no ALPN answer (the 426 explains later). */
static int h2_tls_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                              const unsigned char *in, unsigned int inlen, void *arg)
{
    unsigned int i = 0;

    (void)ssl;
    (void)arg;
    while (i < inlen) {
        unsigned int len = in[i];

        if (len > inlen - i - 1)
            break; /* malformed: OpenSSL checks, but be safe */
        if (len == 2 && memcmp(in + i + 1, "h2", 2) == 0) {
            *out = in + i + 1;
            *outlen = 2;
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + len;
    }
    return SSL_TLSEXT_ERR_NOACK;
}

/* Is path readable? Returns 0 or -errno with the message in errbuf. */
static int h2_tls_readable(const char *what, const char *path, char *errbuf, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    int rv;

    if (f != NULL) {
        fclose(f);
        return 0;
    }
    rv = -errno;
    return h2_fail(errbuf, errlen, rv, "tls: cannot read the %s %s: %s", what, path, strerror(-rv));
}

/* Is OpenSSL's last error "this key is not the certificate's"? */
static bool h2_tls_key_mismatch(void)
{
    unsigned long e = ERR_peek_last_error();

    return ERR_GET_LIB(e) == ERR_LIB_X509 && (ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH ||
                                              ERR_GET_REASON(e) == X509_R_KEY_TYPE_MISMATCH);
}

/* Builds the server's SSL_CTX from the PEM files; returns 0 and *ret_ctx or a negative errno. */
static int h2_tls_ctx_new(const struct h2_tls *tls, SSL_CTX **ret_ctx, char *errbuf, size_t errlen)
{
    SSL_CTX *ctx;
    char why[256];
    bool mismatch;
    int rv;

    if (tls->cert_file == NULL || tls->key_file == NULL || !tls->cert_file[0] || !tls->key_file[0])
        return h2_fail(errbuf, errlen, -EINVAL, "tls: both a certificate and a key are needed");
    rv = h2_tls_readable("certificate", tls->cert_file, errbuf, errlen);
    if (rv == 0)
        rv = h2_tls_readable("private key", tls->key_file, errbuf, errlen);
    if (rv < 0)
        return rv;
    rv = h2_ssl_load(why, sizeof(why));
    if (rv < 0)
        return h2_fail(errbuf, errlen, rv, "tls: cannot load OpenSSL: %s", why);

    ERR_clear_error();
    ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        return h2_tls_fail(errbuf, errlen, -ENOMEM, "tls: cannot create the context");
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(ctx, H2_TLS12_CIPHERS) != 1) {
        rv = h2_tls_fail(errbuf, errlen, -EINVAL,
                         "tls: cannot set the protocol versions and ciphers");
        goto free_ctx;
    }
    /* Renegotiation is forbidden by HTTP/2 over TLS 1.2; no compression (CRIME). */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file(ctx, tls->cert_file) != 1) {
        rv = h2_tls_fail(errbuf, errlen, -EINVAL,
                         "tls: cannot load a PEM certificate chain from %s", tls->cert_file);
        goto free_ctx;
    }
    /* OpenSSL compares the key with the certificate here already, else in the check. */
    ERR_clear_error();
    if (SSL_CTX_use_PrivateKey_file(ctx, tls->key_file, SSL_FILETYPE_PEM) != 1) {
        if (!h2_tls_key_mismatch()) {
            rv = h2_tls_fail(errbuf, errlen, -EINVAL, "tls: cannot load a PEM private key from %s",
                             tls->key_file);
            goto free_ctx;
        }
        mismatch = true;
    } else {
        mismatch = SSL_CTX_check_private_key(ctx) != 1;
    }
    if (mismatch) { /* OpenSSL's reason ("no certificate assigned" for EC vs RSA) confuses */
        rv = h2_fail(errbuf, errlen, -EINVAL,
                     "tls: the private key in %s does not match the certificate in %s",
                     tls->key_file, tls->cert_file);
        goto free_ctx;
    }
    SSL_CTX_set_alpn_select_cb(ctx, h2_tls_alpn_select, NULL);
    *ret_ctx = ctx;
    return 0;
free_ctx:
    SSL_CTX_free(ctx);
    return rv;
}

/*
 * Allocates a server with the defaults filled into its limits, its nghttp2 callbacks and its
 * watchers initialized but none started; no listener (listen_fd -1) and no TLS context.
 * Returns 0 and *ret_server, or an nghttp2 error code.
 */
static int h2_server_alloc(struct ev_loop *loop, const struct h2_limits *limits,
                           h2_handler_fn *handler, void *userdata, struct h2_server **ret_server)
{
    struct h2_server *server;
    int rv;

    server = calloc(1, sizeof(*server));
    if (server == NULL)
        return NGHTTP2_ERR_NOMEM;
    rv = h2_callbacks_new(&server->callbacks);
    if (rv != 0) {
        free(server);
        return rv;
    }
    server->loop = loop;
    server->listen_fd = -1;
    server->handler = handler;
    server->userdata = userdata;
    if (limits != NULL)
        server->limits = *limits;
    if (server->limits.max_body == 0)
        server->limits.max_body = H2_DEFAULT_MAX_BODY;
    if (server->limits.max_body > SIZE_MAX / 2)
        server->limits.max_body = SIZE_MAX / 2;
    if (server->limits.max_header_bytes == 0)
        server->limits.max_header_bytes = H2_DEFAULT_MAX_HEADER_BYTES;
    if (server->limits.max_streams == 0)
        server->limits.max_streams = H2_DEFAULT_MAX_STREAMS;
    if (server->limits.max_connections == 0)
        server->limits.max_connections = H2_DEFAULT_MAX_CONNECTIONS;
    if (!(server->limits.idle_timeout_s > 0.))
        server->limits.idle_timeout_s = H2_DEFAULT_IDLE_S;

    ev_init(&server->accept_pause, h2_server_on_accept_pause);
    server->accept_pause.data = server;
    ev_prepare_init(&server->reaper, h2_server_on_reap);
    server->reaper.data = server;
    ev_prepare_init(&server->pass_end, h2_server_on_pass_end);
    server->pass_end.data = server;
    /*
     * First of the watchers run before the loop blocks: the pass's group is
     * stored before any other prepare watcher (a feed batch commit, the
     * reaper) runs, so none of them lands inside it.
     */
    ev_set_priority(&server->pass_end, EV_MAXPRI);
    ev_init(&server->shutdown_timer, h2_server_on_shutdown_timer);
    server->shutdown_timer.data = server;
    *ret_server = server;
    return 0;
}

/* On failure listen_fd stays the caller's: h2 owns it only once this returns 0. */
int h2_server_new(struct ev_loop *loop, int listen_fd, const struct h2_limits *limits,
                  h2_handler_fn *handler, void *userdata, struct h2_server **ret_server)
{
    return h2_server_new_tls(loop, listen_fd, limits, NULL, handler, userdata, ret_server, NULL, 0);
}

int h2_server_new_tls(struct ev_loop *loop, int listen_fd, const struct h2_limits *limits,
                      const struct h2_tls *tls, h2_handler_fn *handler, void *userdata,
                      struct h2_server **ret_server, char *errbuf, size_t errlen)
{
    struct h2_server *server;
    SSL_CTX *tls_ctx = NULL;
    int flags;
    int rv;

    if (errbuf != NULL && errlen > 0)
        errbuf[0] = '\0';
    if (loop == NULL || listen_fd < 0 || handler == NULL || ret_server == NULL)
        return h2_fail(errbuf, errlen, -EINVAL, "h2: invalid arguments");
    flags = fcntl(listen_fd, F_GETFL);
    if (flags < 0 || (!(flags & O_NONBLOCK) && fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) < 0)) {
        rv = -errno;
        return h2_fail(errbuf, errlen, rv, "h2: cannot make the listening socket non-blocking: %s",
                       strerror(-rv));
    }
    if (tls != NULL) {
        rv = h2_tls_ctx_new(tls, &tls_ctx, errbuf, errlen);
        if (rv < 0)
            return rv;
    }

    rv = h2_server_alloc(loop, limits, handler, userdata, &server);
    if (rv != 0) {
        if (tls_ctx != NULL)
            SSL_CTX_free(tls_ctx);
        return h2_fail(errbuf, errlen, h2_errno(rv), "h2: cannot set up nghttp2: %s",
                       nghttp2_strerror(rv));
    }
    server->tls_ctx = tls_ctx;
    server->listen_fd = listen_fd;
    ev_io_init(&server->accept_w, h2_server_on_accept, listen_fd, EV_READ);
    server->accept_w.data = server;
    ev_io_start(loop, &server->accept_w);
    *ret_server = server;
    return 0;
}

/* A second call is ignored (its done is never called). Safe from inside the handler. */
void h2_server_shutdown(struct h2_server *server, void (*done)(void *), void *userdata)
{
    struct h2_conn *conn;

    if (server == NULL || server->shutting_down)
        return;
    server->shutting_down = true;
    server->done_pending = true;
    server->done = done;
    server->done_userdata = userdata;
    h2_server_close_listener(server);

    /*
     * We may be inside a handler, i.e. inside nghttp2 for one of these sessions: only submit
     * here and let the write watchers do the sending.
     */
    for (conn = server->conns; conn != NULL; conn = conn->next) {
        if (conn->closing || conn->mode == H2_MODE_H1)
            continue;
        if (nghttp2_submit_shutdown_notice(conn->session) != 0) {
            h2_conn_close(conn);
            continue;
        }
        if (conn->mode == H2_MODE_H2)
            ev_io_start(server->loop, &conn->wev);
    }
    if (server->nconns == 0) {
        h2_server_maybe_done(server);
        return;
    }
    ev_timer_set(&server->shutdown_timer, H2_GRACE_S, 0.);
    ev_timer_start(server->loop, &server->shutdown_timer);
}

/* Not from inside the handler (the connection calling it would be freed under it). */
void h2_server_free(struct h2_server *server)
{
    struct h2_conn *conn;

    if (server == NULL)
        return;
    h2_server_close_listener(server);
    h2_server_pass_finish(server); /* the group is stored; its answers go nowhere now */
    ev_prepare_stop(server->loop, &server->reaper);
    ev_timer_stop(server->loop, &server->shutdown_timer);
    while (server->conns != NULL) {
        conn = server->conns;
        server->conns = conn->next;
        h2_conn_free(conn);
    }
    nghttp2_session_callbacks_del(server->callbacks);
    if (server->tls_ctx != NULL)
        SSL_CTX_free(server->tls_ctx);
    free(server);
}

void h2_server_set_log(struct h2_server *server, h2_log_fn *log, void *userdata)
{
    server->log = log;
    server->log_userdata = userdata;
}

void h2_server_set_batch(struct h2_server *server, h2_batch_fn *begin, h2_batch_fn *end,
                         void *userdata)
{
    server->batch_begin = begin && end ? begin : NULL;
    server->batch_end = begin && end ? end : NULL;
    server->batch_userdata = userdata;
}

unsigned h2_server_connections(const struct h2_server *server)
{
    return server != NULL ? server->nconns : 0;
}

/* ---- in-memory connections (tests and fuzzing) ------------------------------------------ */

#define H2_MEM_MAX_OUT (4u << 20) /* bytes serialized per h2_mem_feed() call, at most */

struct h2_mem {
    struct h2_server *server; /* owned; no listener, no TLS */
    struct h2_conn *conn;     /* owned; fd -1, its I/O watchers never started */
};

int h2_mem_new(struct ev_loop *loop, const struct h2_limits *limits, h2_handler_fn *handler,
               void *userdata, struct h2_mem **ret_mem)
{
    struct h2_mem *mem;
    int rv;

    if (loop == NULL || handler == NULL || ret_mem == NULL)
        return -EINVAL;
    mem = calloc(1, sizeof(*mem));
    if (mem == NULL)
        return -ENOMEM;
    rv = h2_server_alloc(loop, limits, handler, userdata, &mem->server);
    if (rv == 0)
        rv = h2_conn_alloc(mem->server, &mem->conn);
    if (rv != 0) {
        h2_mem_free(mem);
        return h2_errno(rv);
    }
    snprintf(mem->conn->peer, sizeof(mem->conn->peer), "memory");
    *ret_mem = mem;
    return 0;
}

void h2_mem_set_batch(struct h2_mem *mem, h2_batch_fn *begin, h2_batch_fn *end, void *userdata)
{
    h2_server_set_batch(mem->server, begin, end, userdata);
}

int h2_mem_feed(struct h2_mem *mem, const uint8_t *data, size_t len, const uint8_t **ret_out,
                size_t *ret_len)
{
    struct h2_conn *conn = mem->conn;
    size_t before;

    conn->out_off = 0;
    conn->out_len = 0;
    if (!conn->closing && len > 0)
        h2_conn_input(conn, data, len);
    h2_server_pass_finish(mem->server); /* one feed is one loop pass */
    /* What h2_conn_flush() does, with memory for the socket. */
    while (!conn->closing && conn->out_len < H2_MEM_MAX_OUT) {
        before = conn->out_len;
        if (h2_conn_fill(conn) < 0)
            h2_conn_close(conn);
        if (conn->out_len == before)
            break;
    }
    /* What h2_conn_flushed() decides once the output is written. */
    if (conn->close_after_flush || conn->mode == H2_MODE_H1 ||
        (conn->mode == H2_MODE_H2 && !nghttp2_session_want_read(conn->session) &&
         !nghttp2_session_want_write(conn->session)))
        h2_conn_close(conn);
    *ret_out = conn->out;
    *ret_len = conn->out_len;
    return conn->closing ? -ECONNRESET : 0;
}

void h2_mem_free(struct h2_mem *mem)
{
    if (mem == NULL)
        return;
    if (mem->conn != NULL)
        h2_conn_free(mem->conn); /* never linked in server->conns */
    if (mem->server != NULL) {
        mem->server->reap = NULL; /* it may name the connection just freed */
        h2_server_free(mem->server);
    }
    free(mem);
}
