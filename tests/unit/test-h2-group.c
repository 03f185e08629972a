/*
 * Group commit at the HTTP/2 layer (h2_server_set_batch): a real nghttp2
 * client session writes several requests, the bytes go to brokerd's
 * connection in one read (h2_mem_feed) or one request per read, and the
 * client reads the answers back. Checks that the batch hooks wrap exactly the
 * handler calls of one loop pass with a write in it (one feed of the
 * in-memory connection; reads alone open no group), that answers are queued
 * only after the end hook, and that when the end hook fails every write of
 * the group is answered 503 while reads keep their answers. Then two real connections on loopback
 * whose requests arrive in the same loop pass share one group.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>
#include <nghttp2/nghttp2.h>

#include "check.h"
#include "h2.h"

/* What the server side saw, in order: 'B' begin, 'H' a handler call, 'E' end. */
static char trace[64];
static size_t ntrace;
static int end_result;

static void mark(char c)
{
    if (ntrace + 1 < sizeof(trace))
        trace[ntrace++] = c, trace[ntrace] = '\0';
}

static int on_begin(void *ud)
{
    (void)ud;
    mark('B');
    return 0;
}

static int on_end(void *ud)
{
    (void)ud;
    mark('E');
    return end_result;
}

/* POST answers 201, GET 200; the body names the path. */
static void handler(void *ud, const struct http_request *req, struct http_response *resp)
{
    (void)ud;
    mark('H');
    char buf[128];
    int n = snprintf(buf, sizeof(buf), "{\"path\":\"%s\"}", req->path);
    resp->status = strcmp(req->method, "POST") == 0 ? 201 : 200;
    resp->content_type = "application/json";
    resp->body = strdup(buf);
    resp->body_len = resp->body ? (size_t)n : 0;
}

/* ---- the client ---- */

struct client {
    nghttp2_session *s;
    int status[16]; /* by stream id / 2 */
};

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *ud)
{
    (void)s, (void)flags, (void)valuelen;
    struct client *c = ud;
    if (f->hd.type == NGHTTP2_HEADERS && namelen == 7 && memcmp(name, ":status", 7) == 0 &&
        f->hd.stream_id / 2 < 16)
        c->status[f->hd.stream_id / 2] = atoi((const char *)value);
    return 0;
}

static void client_init(struct client *c)
{
    nghttp2_session_callbacks *cb;
    memset(c, 0, sizeof(*c));
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_client_new(&c->s, cb, c);
    nghttp2_session_callbacks_del(cb);
    nghttp2_submit_settings(c->s, NGHTTP2_FLAG_NONE, NULL, 0);
}

static ssize_t read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *ud)
{
    (void)s, (void)id, (void)src, (void)ud;
    const char *body = "{}";
    memcpy(buf, body, len < 2 ? len : 2);
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    return 2;
}

static void submit(struct client *c, const char *method, const char *path)
{
    nghttp2_nv nv[] = {
        {(uint8_t *)":method", (uint8_t *)method, 7, strlen(method), 0},
        {(uint8_t *)":scheme", (uint8_t *)"http", 7, 4, 0},
        {(uint8_t *)":authority", (uint8_t *)"test", 10, 4, 0},
        {(uint8_t *)":path", (uint8_t *)path, 5, strlen(path), 0},
    };
    nghttp2_data_provider body = {.read_callback = read_body};
    nghttp2_submit_request(c->s, NULL, nv, 4, strcmp(method, "POST") == 0 ? &body : NULL, NULL);
}

/* Everything the client has queued, as one buffer (preface included the first time). */
static size_t client_bytes(struct client *c, uint8_t *out, size_t cap)
{
    size_t n = 0;
    const uint8_t *p;
    ssize_t k;
    while ((k = nghttp2_session_mem_send(c->s, &p)) > 0 && n + (size_t)k <= cap) {
        memcpy(out + n, p, (size_t)k);
        n += (size_t)k;
    }
    return n;
}

/* Opens a connection, sends the settings; then each call of feed sends what is queued. */
static void feed(struct h2_mem *m, struct client *c)
{
    uint8_t buf[65536];
    size_t n = client_bytes(c, buf, sizeof(buf));
    const uint8_t *out;
    size_t outlen;
    h2_mem_feed(m, buf, n, &out, &outlen);
    nghttp2_session_mem_recv(c->s, out, outlen);
}

static struct h2_mem *open_conn(struct ev_loop *loop, struct client *c, bool batch)
{
    struct h2_mem *m = NULL;
    struct h2_limits limits = {0};
    if (h2_mem_new(loop, &limits, handler, NULL, &m) != 0)
        return NULL;
    if (batch)
        h2_mem_set_batch(m, on_begin, on_end, NULL);
    client_init(c);
    feed(m, c); /* preface and settings both ways */
    feed(m, c); /* settings acknowledged */
    ntrace = 0;
    trace[0] = '\0';
    return m;
}

/* Sends what the client queued over a socket. */
static void send_all(int fd, struct client *c)
{
    uint8_t buf[65536];
    size_t n = client_bytes(c, buf, sizeof(buf));
    for (size_t off = 0; off < n;) {
        ssize_t k = write(fd, buf + off, n - off);
        if (k <= 0)
            return;
        off += (size_t)k;
    }
}

/* Reads what arrived (waiting up to 1 s for the first bytes) into the client. */
static void receive(int fd, struct client *c)
{
    uint8_t buf[65536];
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    while (poll(&pfd, 1, 1000) == 1) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0)
            return;
        nghttp2_session_mem_recv(c->s, buf, (size_t)n);
        pfd.revents = 0;
        if (poll(&pfd, 1, 0) != 1)
            return;
    }
}

/*
 * Two clients on loopback, each with a request written before the loop runs:
 * both sockets are readable in the same loop pass, so one group holds both
 * handler calls, and neither answer is sent before the end hook.
 */
static void two_connections(struct ev_loop *loop)
{
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t salen = sizeof(sa);
    struct h2_server *server = NULL;
    struct h2_limits limits = {0};
    if (!CHECK(lfd >= 0 && bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
                   listen(lfd, 8) == 0 && getsockname(lfd, (struct sockaddr *)&sa, &salen) == 0,
               "a loopback listener"))
        return;
    if (!CHECK(h2_server_new(loop, lfd, &limits, handler, NULL, &server) == 0, "a server on it"))
        return;
    h2_server_set_batch(server, on_begin, on_end, NULL);
    end_result = 0;
    struct client c[2];
    int fd[2];
    for (int i = 0; i < 2; i++) {
        fd[i] = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1; /* no Nagle: each request leaves at once, not after a delayed ACK */
        setsockopt(fd[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        CHECK(connect(fd[i], (struct sockaddr *)&sa, sizeof(sa)) == 0, "client %d connects", i);
        client_init(&c[i]);
        send_all(fd[i], &c[i]); /* preface and settings */
    }
    /* Accept both and settle the settings, then no request has been seen. */
    for (int k = 0; k < 10; k++)
        ev_run(loop, EVRUN_NOWAIT);
    for (int i = 0; i < 2; i++)
        receive(fd[i], &c[i]), send_all(fd[i], &c[i]);
    for (int k = 0; k < 10; k++)
        ev_run(loop, EVRUN_NOWAIT);
    ntrace = 0;
    trace[0] = '\0';
    submit(&c[0], "POST", "/one");
    submit(&c[1], "POST", "/two");
    send_all(fd[0], &c[0]);
    send_all(fd[1], &c[1]);
    /* Both requests are in the server's socket buffers before its loop runs again. */
    usleep(20000);
    ev_run(loop, EVRUN_NOWAIT);
    CHECK(strcmp(trace, "BHH") == 0,
          "two connections' requests read in one loop pass: one begin, 2 handlers (%s)", trace);
    struct pollfd pfd[2] = {{.fd = fd[0], .events = POLLIN}, {.fd = fd[1], .events = POLLIN}};
    CHECK(poll(pfd, 2, 50) == 0, "nothing is sent to either client before the end");
    ev_run(loop, EVRUN_NOWAIT);
    CHECK(strcmp(trace, "BHHE") == 0, "the end comes before the loop blocks again (%s)", trace);
    for (int i = 0; i < 2; i++)
        receive(fd[i], &c[i]);
    CHECK(c[0].status[0] == 201 && c[1].status[0] == 201, "both answered after the end (%d %d)",
          c[0].status[0], c[1].status[0]);
    for (int i = 0; i < 2; i++) {
        close(fd[i]);
        nghttp2_session_del(c[i].s);
    }
    h2_server_free(server);
}

int main(void)
{
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    struct client c;

    /* Three requests in one read: one group around the three handler calls. */
    end_result = 0;
    struct h2_mem *m = open_conn(loop, &c, true);
    CHECK(m != NULL, "an in-memory connection with batch hooks");
    submit(&c, "POST", "/a");
    submit(&c, "GET", "/b");
    submit(&c, "POST", "/c");
    feed(m, &c);
    CHECK(strcmp(trace, "BHHHE") == 0, "one read of 3 requests: begin, 3 handlers, end (%s)",
          trace);
    CHECK(c.status[0] == 201 && c.status[1] == 200 && c.status[2] == 201,
          "the end succeeded: every answer as the handler gave it (%d %d %d)", c.status[0],
          c.status[1], c.status[2]);

    /* One request in a pass: a group of its own. */
    submit(&c, "POST", "/d");
    feed(m, &c);
    CHECK(strcmp(trace, "BHHHEBHE") == 0, "a pass of one request is a group of one (%s)", trace);
    CHECK(c.status[3] == 201, "and is answered (%d)", c.status[3]);

    /* Reads alone open no group. */
    submit(&c, "GET", "/e");
    submit(&c, "GET", "/f");
    feed(m, &c);
    CHECK(strcmp(trace, "BHHHEBHEHH") == 0, "a pass of reads only: handlers, no group (%s)", trace);
    CHECK(c.status[4] == 200 && c.status[5] == 200, "both answered (%d %d)", c.status[4],
          c.status[5]);
    h2_mem_free(m);
    nghttp2_session_del(c.s);

    /* The end fails: writes are answered 503, the read keeps its answer. */
    end_result = -5;
    m = open_conn(loop, &c, true);
    submit(&c, "POST", "/a");
    submit(&c, "GET", "/b");
    submit(&c, "POST", "/c");
    feed(m, &c);
    CHECK(strcmp(trace, "BHHHE") == 0, "a group whose end fails (%s)", trace);
    CHECK(c.status[0] == 503 && c.status[1] == 200 && c.status[2] == 503,
          "its writes are answered 503, its read 200 (%d %d %d)", c.status[0], c.status[1],
          c.status[2]);
    h2_mem_free(m);
    nghttp2_session_del(c.s);

    /* Without hooks: no group, every answer as given. */
    m = open_conn(loop, &c, false);
    submit(&c, "POST", "/a");
    submit(&c, "POST", "/b");
    feed(m, &c);
    CHECK(strcmp(trace, "HH") == 0 && c.status[0] == 201 && c.status[1] == 201,
          "a server without batch hooks answers each request as handled (%s)", trace);
    h2_mem_free(m);
    nghttp2_session_del(c.s);

    two_connections(loop);
    ev_loop_destroy(loop);
    return check_done();
}
