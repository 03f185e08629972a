/*
 * h2_client — HTTP/2 over cleartext TCP with prior knowledge (h2c), the client side of the h2
 * module (h2.c is the server; these two are the only users of nghttp2.h). One connection per
 * origin carries every transfer to it as its own stream, so a thousand feeds on one server cost
 * one connection, not a thousand. fetch.c sends h2c feeds here; everything else (TLS, HTTP/1.1,
 * file://) goes through libcurl. It does not schedule, parse or log; its only retry is of a
 * request the server never processed.
 */
#ifndef SUANWANG_H2_CLIENT_H
#define SUANWANG_H2_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "fetch.h"

struct ev_loop;
struct h2_client;
struct h2_client_stream;

struct h2_client_request {
    const char *host;           /* a numeric IPv4 or IPv6 address, without brackets */
    unsigned port;              /* 1..65535 */
    const char *authority;      /* sent as :authority, e.g. "127.0.0.1:8080" */
    const char *path;           /* path and query, starting with '/' */
    const char *const *headers; /* "Name: value" lines already checked to be one line each,
                                   NULL-terminated, or NULL; copied */
    const char *etag;           /* sent as if-none-match, or NULL */
    const char *last_modified;  /* sent as if-modified-since, or NULL */
    size_t max_bytes;           /* body cap, >= 1; beyond it the stream fails with -EFBIG */
    double connect_timeout_s;   /* > 0 */
    double total_timeout_s;     /* > 0 */
};

/* Sets up a client on a loop. 0 or -ENOMEM. */
int h2_client_new(struct ev_loop *loop, struct h2_client **ret);

/*
 * Starts a request on the origin's connection, opening one when there is none that takes new
 * streams. Returns 0 and *ret_stream, or -EINVAL (bad request fields), -ENOMEM, or the errno of
 * a socket that could not be made. done is called exactly once from the loop, never from inside
 * h2_client_start(), unless the stream is cancelled first. The fetch_result it gets has
 * http_version 2 (or 0 when no response came).
 */
int h2_client_start(struct h2_client *c, const struct h2_client_request *r, fetch_done_fn *done,
                    void *userdata, struct h2_client_stream **ret_stream);

/* Stops a stream; its done will not be called. Safe from inside any done callback. */
void h2_client_cancel(struct h2_client_stream *s);

/* Connections open now (for tests and metrics). */
unsigned h2_client_connections(const struct h2_client *c);

/* Fails nothing: cancels every stream (no callbacks) and closes every connection. NULL: no-op. */
void h2_client_free(struct h2_client *c);

#endif
