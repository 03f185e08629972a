/*
 * plain_url — splits a plain "http://host[:port]/path[?query]" URL for the HTTP/2 client
 * without libcurl's URL parser. Pure. Plain means the URL reads the same to libcurl: a
 * lower-case name or a dotted-quad IPv4 address, a port in canonical decimal, and a path
 * of RFC 3986 characters with no dot segment or fragment. Anything else is declined, and
 * libcurl's parser (which normalizes) takes it.
 */
#ifndef SUANWANG_PLAIN_URL_H
#define SUANWANG_PLAIN_URL_H

#include <stddef.h>

struct plain_url {
    const char *host; /* into the URL; host_len bytes */
    size_t host_len;
    unsigned port;    /* 80 when the URL names none */
    const char *path; /* into the URL, to its end: path and query; "/" when there is none */
};

/* 0, or -ENOTSUP when url is not plain (see above). */
int plain_url_split(const char *url, struct plain_url *out);

#endif
