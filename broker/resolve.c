/*
 * resolve — getaddrinfo() on a detached thread per lookup, answered on the libev loop. A query
 * is shared between its thread and the loop through a hand-over list under one mutex; the
 * shared part (struct resolve_shared) outlives the resolver while threads still run, so freeing
 * the resolver never waits for DNS. Lookups are rare: one per new feed connection.
 */
#include "resolve.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <ev.h>

#define RESOLVE_MAX_HOST 255 /* RFC 1035 */

/* What the threads and the loop share. Freed by whoever drops the last reference. */
struct resolve_shared {
    pthread_mutex_t lock;
    struct resolve_query *done; /* answered, not yet handed to the loop */
    struct resolver *r;         /* NULL once the resolver is freed */
    unsigned refs;              /* the resolver, plus every running thread */
};

struct resolve_query {
    struct resolve_shared *sh;  /* shared */
    struct resolver *r;         /* loop side: NULL once cancelled */
    struct resolve_query *next; /* in sh->done */
    resolve_done_fn *done;      /* loop side */
    void *userdata;             /* loop side */
    char host[RESOLVE_MAX_HOST + 1];
    char port[8];
    struct addrinfo *res; /* thread side until handed over */
    int gai_err;          /* getaddrinfo()'s code */
    int sys_err;          /* errno for EAI_SYSTEM */
};

struct resolver {
    struct ev_loop *loop; /* borrowed */
    ev_async wake;        /* a thread has answered */
    struct resolve_shared *sh;
};

static void resolve_unref(struct resolve_shared *sh)
{
    bool last;

    pthread_mutex_lock(&sh->lock);
    last = --sh->refs == 0;
    pthread_mutex_unlock(&sh->lock);
    if (last) {
        pthread_mutex_destroy(&sh->lock);
        free(sh);
    }
}

static void resolve_query_free(struct resolve_query *q)
{
    if (q->res != NULL)
        freeaddrinfo(q->res);
    free(q);
}

static void *resolve_thread(void *arg)
{
    struct resolve_query *q = arg;
    struct resolve_shared *sh = q->sh;
    struct addrinfo hints;
    bool handed = false;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
    q->gai_err = getaddrinfo(q->host, q->port, &hints, &q->res);
    if (q->gai_err == EAI_SYSTEM)
        q->sys_err = errno;
    pthread_mutex_lock(&sh->lock);
    if (sh->r != NULL) {
        q->next = sh->done;
        sh->done = q;
        ev_async_send(sh->r->loop, &sh->r->wake); /* the loop lives while sh->r is set */
        handed = true;
    }
    pthread_mutex_unlock(&sh->lock);
    if (!handed)
        resolve_query_free(q);
    resolve_unref(sh);
    return NULL;
}

static void resolve_on_wake(struct ev_loop *loop, ev_async *w, int revents)
{
    struct resolver *r = w->data;
    struct resolve_query *q, *next;
    char msg[512];
    int err;

    (void)loop;
    (void)revents;
    pthread_mutex_lock(&r->sh->lock);
    q = r->sh->done;
    r->sh->done = NULL;
    pthread_mutex_unlock(&r->sh->lock);
    for (; q != NULL; q = next) {
        next = q->next;
        if (q->r == NULL) { /* cancelled */
            resolve_query_free(q);
            continue;
        }
        if (q->gai_err == 0) {
            struct addrinfo *res = q->res;
            q->res = NULL;
            q->done(q->userdata, 0, "", res);
        } else {
            switch (q->gai_err) {
            case EAI_MEMORY:
                err = -ENOMEM;
                break;
            case EAI_AGAIN:
                err = -EAGAIN;
                break;
            default:
                err = -EHOSTUNREACH;
            }
            snprintf(msg, sizeof(msg), "cannot resolve %s: %s", q->host,
                     q->gai_err == EAI_SYSTEM ? strerror(q->sys_err) : gai_strerror(q->gai_err));
            q->done(q->userdata, err, msg, NULL);
        }
        resolve_query_free(q);
    }
}

int resolver_new(struct ev_loop *loop, struct resolver **ret)
{
    struct resolver *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return -ENOMEM;
    r->sh = calloc(1, sizeof(*r->sh));
    if (r->sh == NULL || pthread_mutex_init(&r->sh->lock, NULL) != 0) {
        free(r->sh);
        free(r);
        return -ENOMEM;
    }
    r->sh->r = r;
    r->sh->refs = 1;
    r->loop = loop;
    ev_async_init(&r->wake, resolve_on_wake);
    r->wake.data = r;
    ev_async_start(loop, &r->wake);
    ev_unref(loop); /* an idle resolver keeps no loop alive */
    *ret = r;
    return 0;
}

int resolver_start(struct resolver *r, const char *host, unsigned port, resolve_done_fn *done,
                   void *userdata, struct resolve_query **ret_query)
{
    struct resolve_query *q;
    pthread_attr_t attr;
    pthread_t tid;
    int rv;

    if (r == NULL || host == NULL || host[0] == '\0' || strlen(host) > RESOLVE_MAX_HOST ||
        done == NULL || port == 0 || port > 65535)
        return -EINVAL;
    q = calloc(1, sizeof(*q));
    if (q == NULL)
        return -ENOMEM;
    q->sh = r->sh;
    q->r = r;
    q->done = done;
    q->userdata = userdata;
    snprintf(q->host, sizeof(q->host), "%s", host);
    snprintf(q->port, sizeof(q->port), "%u", port);
    pthread_mutex_lock(&r->sh->lock);
    r->sh->refs++;
    pthread_mutex_unlock(&r->sh->lock);
    rv = pthread_attr_init(&attr);
    if (rv == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        rv = pthread_create(&tid, &attr, resolve_thread, q);
        pthread_attr_destroy(&attr);
    }
    if (rv != 0) {
        resolve_unref(r->sh);
        free(q);
        return rv == ENOMEM ? -ENOMEM : -EAGAIN;
    }
    if (ret_query != NULL)
        *ret_query = q;
    return 0;
}

void resolver_cancel(struct resolve_query *q)
{
    if (q != NULL)
        q->r = NULL; /* loop side only: the thread never reads it */
}

void resolver_free(struct resolver *r)
{
    struct resolve_query *q, *next;

    if (r == NULL)
        return;
    pthread_mutex_lock(&r->sh->lock);
    r->sh->r = NULL; /* threads still running free their own queries, and send nothing */
    q = r->sh->done;
    r->sh->done = NULL;
    pthread_mutex_unlock(&r->sh->lock);
    ev_ref(r->loop);
    ev_async_stop(r->loop, &r->wake);
    for (; q != NULL; q = next) {
        next = q->next;
        resolve_query_free(q);
    }
    resolve_unref(r->sh);
    free(r);
}
