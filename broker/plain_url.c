/*
 * plain_url — see plain_url.h. Every test here declines rather than guesses: a URL it
 * lets through must split exactly as libcurl would split it (fuzz-plain-url checks).
 */
#include "plain_url.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A host libcurl keeps as it is: lower-case letters, digits, '-' and '.'. */
static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c == '.';
}

/* "a.b.c.d", each 0..255 in canonical decimal. */
static bool dotted_quad(const char *h, size_t n)
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= n || h[i] != '.')
                return false;
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < n && is_digit(h[i]) && i - start < 3)
            v = v * 10 + (unsigned)(h[i++] - '0');
        if (i == start || v > 255 || (h[start] == '0' && i - start > 1))
            return false;
    }
    return i == n;
}

/*
 * A host libcurl leaves alone: labels of name characters, not empty, and when the last label
 * starts with a digit (libcurl would read the host as an IPv4 address, in any of its
 * numeric forms) a dotted quad already in canonical form.
 */
static bool plain_host(const char *h, size_t n)
{
    if (n == 0 || n > 253 || h[0] == '.' || h[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!name_char(h[i]) || (h[i] == '.' && h[i + 1] == '.'))
            return false;
    }
    const char *last = h + n;
    while (last > h && last[-1] != '.')
        last--;
    return !is_digit(*last) || dotted_quad(h, n);
}

/* RFC 3986 pchar, '/' and '?' (a percent sign only as a full escape). */
static bool path_char(const char *p)
{
    static const char extra[] = "-._~!$&'()*+,;=:@/?";
    char c = *p;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c))
        return true;
    if (c == '%')
        return is_hex(p[1]) && is_hex(p[2]);
    return c != '\0' && strchr(extra, c) != NULL;
}

/* A path libcurl keeps as it is: pchars, and no "." or ".." segment (it would remove them). */
static bool plain_path(const char *p)
{
    for (const char *s = p; *s; s++) {
        if (!path_char(s))
            return false;
        if (*s == '.' && s[-1] == '/') {
            const char *e = s[1] == '.' ? s + 2 : s + 1;
            if (*e == '\0' || *e == '/' || *e == '?')
                return false;
        }
    }
    return true;
}

int plain_url_split(const char *url, struct plain_url *out)
{
    if (strncmp(url, "http://", 7) != 0)
        return -ENOTSUP;
    const char *h = url + 7, *e = h;
    while (*e && *e != ':' && *e != '/')
        e++;
    if (!plain_host(h, (size_t)(e - h)))
        return -ENOTSUP;
    unsigned port = 80;
    const char *p = e;
    if (*p == ':') {
        const char *d = ++p;
        port = 0;
        while (is_digit(*p) && p - d < 5)
            port = port * 10 + (unsigned)(*p++ - '0');
        if (p == d || *d == '0' || port > 65535)
            return -ENOTSUP;
    }
    if (*p != '\0' && *p != '/')
        return -ENOTSUP;
    if (*p == '/' && (!plain_path(p) || p[strlen(p) - 1] == '?'))
        return -ENOTSUP; /* libcurl drops an empty query's '?' */
    out->host = h;
    out->host_len = (size_t)(e - h);
    out->port = port;
    out->path = *p ? p : "/";
    return 0;
}
