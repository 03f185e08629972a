/*
 * fuzz-h2-client — brokerd's HTTP/2 feed client (h2_client.c) on arbitrary server bytes, over
 * a real loopback TCP connection: each input is what a server sends on the connection, then it
 * closes. Three requests are in flight (one with a 100-byte body cap), so answers, resets,
 * GOAWAY, caps and retries all run. A retry's new connection is accepted and closed at once.
 * Checks what fetch.h promises: done exactly once per request, never from inside
 * h2_client_start(), a NUL-terminated body within the cap, a status only with HTTP/2. Then
 * every connection must be gone. Violations abort().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "h2_client.h"

#define FUZZ_REQUESTS 3
#define FUZZ_MAX_INPUT 65536 /* fits a loopback socket buffer: written in one go */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_req {
    size_t max_bytes;
    int calls;
};

static int listen_fd = -1;
static unsigned listen_port;
static bool in_start;

static void die(const char *what)
{
    fprintf(stderr, "fuzz-h2-client: %s\n", what);
    abort();
}

static void on_done(void *userdata, const struct fetch_result *res)
{
    struct fuzz_req *r = userdata;

    if (in_start)
        die("done called from inside h2_client_start");
    if (++r->calls > 1)
        die("done called twice");
    if (res->body == NULL || res->body[res->len] != '\0')
        die("the body is not NUL-terminated");
    if (res->len > r->max_bytes)
        die("a body over the cap");
    if (res->err == 0 && (res->status < 100 || res->status > 999 || res->http_version != 2))
        die("a success without an HTTP/2 status");
    if (res->err > 0)
        die("a positive errno");
    if (getenv("FUZZ_H2_CLIENT_VERBOSE") != NULL) /* to see what a seed exercises */
        fprintf(stderr, "cap=%zu err=%d status=%ld len=%zu etag=[%s] msg=[%s]\n", r->max_bytes,
                res->err, res->status, res->len, res->etag, res->errmsg);
}

static void setup(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);

    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(listen_fd, 64) < 0 || getsockname(listen_fd, (struct sockaddr *)&sa, &len) < 0)
        die("cannot listen on loopback");
    listen_port = ntohs(sa.sin_port);
}

/* Connections after the first (retries): closed unanswered. */
static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
    int fd = accept(w->fd, NULL, NULL);

    (void)loop;
    (void)revents;
    if (fd >= 0)
        close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_req reqs[FUZZ_REQUESTS] = {{4096, 0}, {100, 0}, {1 << 20, 0}};
    static const char *const headers[] = {"X-Fuzz: yes", NULL};
    struct ev_loop *loop;
    struct h2_client *c;
    ev_io acceptor;
    char authority[32];
    int server, i, spins;

    if (listen_fd < 0)
        setup();
    if (size > FUZZ_MAX_INPUT)
        size = FUZZ_MAX_INPUT;
    loop = ev_loop_new(EVFLAG_AUTO);
    if (loop == NULL || h2_client_new(loop, &c) != 0)
        die("cannot set up");
    snprintf(authority, sizeof(authority), "127.0.0.1:%u", listen_port);
    for (i = 0; i < FUZZ_REQUESTS; i++) {
        struct h2_client_request r = {
            .host = "127.0.0.1",
            .port = listen_port,
            .authority = authority,
            .path = i == 1 ? "/capped" : "/feed",
            .headers = headers,
            .etag = i == 2 ? "\"v1\"" : NULL,
            .max_bytes = reqs[i].max_bytes,
            .connect_timeout_s = 5,
            .total_timeout_s = 10,
        };
        in_start = true;
        if (h2_client_start(c, &r, on_done, &reqs[i], NULL) != 0)
            die("h2_client_start failed");
        in_start = false;
    }
    /* The client's connect() is under way; the kernel completes it from the backlog. */
    server = accept(listen_fd, NULL, NULL);
    if (server < 0)
        die("accept failed");
    if (size > 0 && write(server, data, size) != (ssize_t)size)
        die("short write to the client");
    shutdown(server, SHUT_WR);
    ev_io_init(&acceptor, on_accept, listen_fd, EV_READ);
    ev_io_start(loop, &acceptor);
    for (spins = 0; spins < 100000; spins++) {
        bool all = true;
        for (i = 0; i < FUZZ_REQUESTS; i++)
            all = all && reqs[i].calls == 1;
        if (all && h2_client_connections(c) == 0)
            break;
        ev_run(loop, EVRUN_ONCE);
    }
    for (i = 0; i < FUZZ_REQUESTS; i++)
        if (reqs[i].calls != 1)
            die("a request was never answered");
    if (h2_client_connections(c) != 0)
        die("a connection outlived every request and the server's close");
    ev_io_stop(loop, &acceptor);
    close(server);
    h2_client_free(c);
    ev_loop_destroy(loop);
    return 0;
}
