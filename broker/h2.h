/*
 * h2 — the HTTP/2 server transport of brokerd.
 *
 * Accepts TCP connections on a listening socket, speaks HTTP/2 through nghttp2
 * (cleartext with prior knowledge, or inside TLS with ALPN "h2" when the server
 * was made by h2_server_new_tls()), gathers each stream's headers and body and
 * hands one complete request at a time to a synchronous handler. A client that
 * opens with an HTTP/1.x request line gets a plain HTTP/1.1 426 answer telling
 * it to use HTTP/2, then the connection closes; over TLS as well. This is the
 * only file that includes nghttp2.h or OpenSSL's headers. It knows nothing of
 * routes, JSON or tokens.
 */
#ifndef SUANWANG_H2_H
#define SUANWANG_H2_H

#include <stddef.h>
#include <stdint.h>

struct ev_loop;
struct h2_server;

/* Limits applied per connection and per stream; 0 means the default. */
struct h2_limits {
    size_t max_body;          /* request body bytes (default 65536) -> 413 */
    size_t max_header_bytes;  /* sum of header name+value bytes (default 16384) -> 431 */
    uint32_t max_streams;     /* SETTINGS_MAX_CONCURRENT_STREAMS (default 128) */
    unsigned max_connections; /* accepted at once; beyond, accept and close (default 1024) */
    double idle_timeout_s;    /* close a connection idle this long (default 60) */
};

/* One request, complete; every pointer is valid only during the handler call. */
struct http_request {
    int32_t stream_id;
    const char *method;          /* "GET", "POST", ... */
    const char *path;            /* :path including any query string */
    const char *authorization;   /* header value or NULL */
    const char *idempotency_key; /* "idempotency-key" header or NULL */
    const char *content_type;    /* header value or NULL */
    const char *body;            /* NUL-terminated copy of the body ("" when none) */
    size_t body_len;
    const char *peer; /* "127.0.0.1:54321" */
};

/*
 * The handler's answer. The handler sets status, content_type and body; body
 * must come from malloc() and is freed by h2 once sent (NULL for no body).
 * extra_name/extra_value: one optional extra header (e.g. "location"), both
 * borrowed string literals or NULL.
 */
struct http_response {
    int status;
    const char *content_type;
    char *body; /* owned by h2 after return */
    size_t body_len;
    const char *extra_name;
    const char *extra_value;
};

/*
 * TLS settings, read once when the server starts. Both are PEM files; the
 * strings are borrowed for the duration of the h2_server_new_tls() call only.
 */
struct h2_tls {
    const char *cert_file; /* certificate chain: the leaf first, then intermediates */
    const char *key_file;  /* the leaf's private key, unencrypted */
};

typedef void h2_handler_fn(void *userdata, const struct http_request *req,
                           struct http_response *resp);

/*
 * Starts serving on an already bound and listening non-blocking socket fd
 * (h2 takes ownership of fd). Returns 0 and *ret_server, or a negative errno.
 */
int h2_server_new(struct ev_loop *loop, int listen_fd, const struct h2_limits *limits,
                  h2_handler_fn *handler, void *userdata, struct h2_server **ret_server);

/*
 * Like h2_server_new(), but when tls is not NULL every connection speaks TLS
 * first: TLS 1.2 or later, forward-secret AEAD ciphers only for TLS 1.2, ALPN
 * "h2" selected when the client offers it. A client offering no "h2" (curl
 * --http1.1) is not refused in the handshake: it gets no ALPN answer, and
 * its HTTP/1.1 request then gets the 426 answer, so it learns why. A client
 * that does not speak TLS at all fails the handshake and is closed. The
 * handshake is bounded by the idle timeout. tls NULL is exactly
 * h2_server_new().
 *
 * On failure errbuf (when not NULL) holds a lowercase message saying what
 * failed, e.g. "tls: the private key in k.pem does not match the certificate
 * in c.pem". Returns 0 and *ret_server, or -EINVAL (bad argument, unusable
 * certificate or key), -errno when a file cannot be read, -ENOMEM. On failure
 * listen_fd stays the caller's.
 */
int h2_server_new_tls(struct ev_loop *loop, int listen_fd, const struct h2_limits *limits,
                      const struct h2_tls *tls, h2_handler_fn *handler, void *userdata,
                      struct h2_server **ret_server, char *errbuf, size_t errlen);

/*
 * Stops accepting, sends GOAWAY on every connection, lets in-flight streams
 * finish; calls done(userdata) once every connection has closed (or at once
 * when there are none).
 */
void h2_server_shutdown(struct h2_server *server, void (*done)(void *), void *userdata);

/* Closes every connection and the listener and frees the server. NULL is a no-op. */
void h2_server_free(struct h2_server *server);

/*
 * Told of every answer the transport gives by itself, without the handler
 * (413 body too large, 431 headers too large, 400, 503), so that the caller
 * can log one line per request. method/path may be "-" when not yet known.
 */
typedef void h2_log_fn(void *userdata, int32_t stream_id, const char *peer, const char *method,
                       const char *path, int status, size_t body_len);

void h2_server_set_log(struct h2_server *server, h2_log_fn *log, void *userdata);

/*
 * Group commit over a loop pass: begin is called before the handler of the
 * first request that may write (any method but GET and HEAD) in a pass (every
 * connection's requests completed by the reads of one libev iteration), the
 * pass's later requests join the group, and end is called once the pass is
 * over, before the loop blocks again; none of the group's answers is queued
 * before end returns. Reads with no group open are answered at once. begin
 * failing (nonzero) means no group: each request is answered as it is
 * handled. end failing means nothing the group did was kept: its writes
 * (methods other than GET and HEAD) are answered 503. For the in-memory
 * connection one h2_mem_feed() is one pass.
 */
typedef int h2_batch_fn(void *userdata);
void h2_server_set_batch(struct h2_server *server, h2_batch_fn *begin, h2_batch_fn *end,
                         void *userdata);

/* Number of open connections (for metrics and tests). */
unsigned h2_server_connections(const struct h2_server *server);

/*
 * In-memory connections, for tests and fuzzing: one server-side connection with the real nghttp2
 * session, callbacks, limits and handler, but no socket, no listener and no TLS. h2_mem_feed()
 * takes the bytes a client would send, exactly as a read from the socket would deliver them
 * (preface sniffing and the HTTP/1.x 426 included), calls the handler for every request they
 * complete, and returns what the connection would write next (serialized with
 * nghttp2_session_mem_send, at most a few MiB per call). The loop is only used to arm the idle
 * timer, which never runs unless the caller runs the loop; a loop made with ev_loop_new() that
 * the caller never runs is fine.
 *
 * h2_mem_new returns 0 and *ret_mem, or -EINVAL or -ENOMEM. h2_mem_feed returns 0 while the
 * connection stays open, -ECONNRESET once brokerd would close it (a GOAWAY sent, a protocol
 * error, the 426, out of memory); further input is then ignored. *ret_out / *ret_len point into
 * the connection and stay valid until the next h2_mem_feed() or h2_mem_free(). h2_mem_free(NULL)
 * is a no-op.
 */
struct h2_mem;

int h2_mem_new(struct ev_loop *loop, const struct h2_limits *limits, h2_handler_fn *handler,
               void *userdata, struct h2_mem **ret_mem);
int h2_mem_feed(struct h2_mem *mem, const uint8_t *data, size_t len, const uint8_t **ret_out,
                size_t *ret_len);
void h2_mem_free(struct h2_mem *mem);
/* h2_server_set_batch for the in-memory connection's server. */
void h2_mem_set_batch(struct h2_mem *mem, h2_batch_fn *begin, h2_batch_fn *end, void *userdata);

#endif
