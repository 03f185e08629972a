/*
 * fuzz-h2 — brokerd's HTTP/2 server connection on arbitrary client bytes: the
 * real nghttp2 session with h2.c's callbacks, limits and preface sniffing,
 * through the in-memory connection of h2.h (h2_mem_*), with no socket. The
 * request handler is a small in-process one, not the API: it checks what h2
 * promises handlers (terminated strings, a NUL after the body, the body limit)
 * and answers in a few shapes (empty, echo, a body larger than the client's
 * initial window, an extra header), so the response side runs too.
 *
 * Input is fed as a socket would deliver it: the first bytes alone (sniffing
 * a partial preface), then reads of up to 16 KiB. Small limits (body 4096,
 * headers 2048, 8 streams) make the 413, 431 and REFUSED_STREAM paths
 * reachable. Violations abort().
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "h2.h"

#define FUZZ_MAX_BODY 4096
#define FUZZ_FIRST_READ 13 /* less than the 24-byte preface */
#define FUZZ_READ 16384
#define FUZZ_BIG_BODY 70000 /* over the default 65535-byte initial window */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
    fprintf(stderr, "fuzz-h2: %s\n", what);
    abort();
}

static void handler(void *userdata, const struct http_request *req, struct http_response *resp)
{
    (void)userdata;
    if (!req->method || !req->path || !req->body || !req->peer)
        die("a request without method, path, body or peer");
    (void)strlen(req->method);
    (void)strlen(req->path);
    if (req->authorization)
        (void)strlen(req->authorization);
    if (req->idempotency_key)
        (void)strlen(req->idempotency_key);
    if (req->content_type)
        (void)strlen(req->content_type);
    if (req->body_len > FUZZ_MAX_BODY)
        die("a body over the limit reached the handler");
    if (req->body[req->body_len] != '\0')
        die("the body is not NUL-terminated");
    if (req->stream_id <= 0 || req->stream_id % 2 == 0)
        die("a request on a stream a client cannot open");

    resp->content_type = "application/json";
    if (strncmp(req->path, "/empty", 6) == 0) {
        resp->status = 204;
        return;
    }
    size_t len = strncmp(req->path, "/big", 4) == 0 ? FUZZ_BIG_BODY : req->body_len;
    char *body = malloc(len ? len : 1);
    if (!body) {
        resp->status = 503;
        return;
    }
    if (len == req->body_len)
        memcpy(body, req->body, len);
    else
        memset(body, 'x', len);
    resp->status = req->path[0] == '/' && req->path[1] == 'x' ? 999 : 200; /* h2 makes it 500 */
    resp->body = body;
    resp->body_len = len;
    if (req->idempotency_key) {
        resp->extra_name = "location";
        resp->extra_value = "/v1/placements/fuzz";
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ev_loop *loop; /* arms idle timers, never run */
    const struct h2_limits limits = {.max_body = FUZZ_MAX_BODY,
                                     .max_header_bytes = 2048,
                                     .max_streams = 8,
                                     .max_connections = 4,
                                     .idle_timeout_s = 60};
    struct h2_mem *mem = NULL;

    if (!loop) {
        loop = ev_loop_new(EVFLAG_AUTO);
        if (!loop)
            die("ev_loop_new failed");
    }
    int r = h2_mem_new(loop, &limits, handler, NULL, &mem);
    if (r == -ENOMEM)
        return 0;
    if (r != 0)
        die("h2_mem_new failed");

    size_t off = 0;
    while (off < size) {
        size_t n = off == 0 ? FUZZ_FIRST_READ : FUZZ_READ;
        if (n > size - off)
            n = size - off;
        /* An exact-size copy per read, so a read past the end is caught. */
        uint8_t *chunk = malloc(n);
        if (!chunk)
            break;
        memcpy(chunk, data + off, n);
        const uint8_t *out = NULL;
        size_t out_len = 0;
        r = h2_mem_feed(mem, chunk, n, &out, &out_len);
        free(chunk);
        if (r != 0 && r != -ECONNRESET)
            die("h2_mem_feed returned neither 0 nor -ECONNRESET");
        if (out_len && !out)
            die("output bytes without a buffer");
        off += n;
        if (r == -ECONNRESET)
            break;
    }
    h2_mem_free(mem);
    return 0;
}
