/*
 * resolve — host names to addresses without blocking the loop: each lookup is getaddrinfo() on a
 * short-lived thread of its own, and its answer comes back to the daemon's libev loop through an
 * ev_async. The only threads in brokerd; they touch nothing but their own query and the hand-over
 * list. Used by the HTTP/2 feed client (libcurl resolves for itself).
 */
#ifndef SUANWANG_RESOLVE_H
#define SUANWANG_RESOLVE_H

struct addrinfo;
struct ev_loop;
struct resolver;
struct resolve_query;

/*
 * The answer: err 0 and res (owned by the callee: freeaddrinfo() it), or a negative errno
 * (-EHOSTUNREACH: no such name or no address; -ENOMEM; -EAGAIN: try later) and errmsg.
 */
typedef void resolve_done_fn(void *userdata, int err, const char *errmsg, struct addrinfo *res);

/* 0 or -ENOMEM. */
int resolver_new(struct ev_loop *loop, struct resolver **ret);

/*
 * Starts looking host up for TCP to port. done is called once from the loop, never from inside
 * resolver_start(), unless the query is cancelled first. 0 and *ret_query, or a negative errno
 * (-EINVAL for an empty or overlong name, -EAGAIN when no thread can be started).
 */
int resolver_start(struct resolver *r, const char *host, unsigned port, resolve_done_fn *done,
                   void *userdata, struct resolve_query **ret_query);

/* Its done will not be called. Safe from inside any callback of the loop. */
void resolver_cancel(struct resolve_query *q);

/* Cancels every query (their threads end on their own, touching nothing freed). NULL: no-op. */
void resolver_free(struct resolver *r);

#endif
