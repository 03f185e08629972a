/*
 * auth — randomness from getrandom(2) and SHA-256 (sha256.c). No token or
 * secret ever leaves this module except to its caller.
 */
#include "auth.h"
#include "sha256.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

static void to_hex(const unsigned char *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int auth_random_hex(char *buf, size_t nbytes)
{
    unsigned char raw[64];
    if (nbytes > sizeof(raw))
        return -EINVAL;
    size_t got = 0;
    while (got < nbytes) {
        ssize_t n = getrandom(raw + got, nbytes - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        got += (size_t)n;
    }
    to_hex(raw, nbytes, buf);
    return 0;
}

int auth_new_token(char *buf, size_t len)
{
    char hex[65];
    if (len < AUTH_TOKEN_LEN + 1)
        return -EINVAL;
    int r = auth_random_hex(hex, 32);
    if (r < 0)
        return r;
    snprintf(buf, len, "sw_%s", hex);
    return 0;
}

int auth_new_id(const char *prefix, int64_t now_ms, char *buf, size_t len)
{
    char hex[17];
    int r = auth_random_hex(hex, 7); /* 14 hex digits; 13 are used */
    if (r < 0)
        return r;
    uint64_t t = now_ms > 0 ? (uint64_t)now_ms & 0xfffffffffffull : 0; /* 44 bits: 557 years */
    snprintf(buf, len, "%s_%011llx%.13s", prefix, (unsigned long long)t, hex);
    return 0;
}

int auth_sha256_hex(const void *data, size_t len, char *out)
{
    uint8_t md[SHA256_LEN];
    sha256(data, len, md);
    to_hex(md, sizeof(md), out);
    return 0;
}
