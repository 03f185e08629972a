/*
 * auth — secrets and identifiers: random tokens and ids, and the SHA-256 under
 * which tokens are stored (a token itself is never written anywhere).
 */
#ifndef SUANWANG_AUTH_H
#define SUANWANG_AUTH_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_TOKEN_LEN 67 /* "sw_" + 64 hex */
#define AUTH_HASH_LEN 64
#define AUTH_ID_LEN 32 /* "xx_" + 24 hex + NUL fits */

/* Fills buf (>= 2*nbytes+1) with nbytes of kernel randomness in hex. 0 or -errno. */
int auth_random_hex(char *buf, size_t nbytes);

/* A new bearer token "sw_<64 hex>" into buf (>= AUTH_TOKEN_LEN + 1). 0 or -errno. */
int auth_new_token(char *buf, size_t len);

/*
 * A new id "<prefix>_<11 hex of now_ms><13 hex of randomness>" into buf
 * (>= AUTH_ID_LEN). Ids made later sort later (to the millisecond), so the
 * database appends them to its indexes instead of writing all over them;
 * 52 random bits keep ids of one millisecond apart. 0 or -errno.
 */
int auth_new_id(const char *prefix, int64_t now_ms, char *buf, size_t len);

/* Hex SHA-256 of len bytes into out (>= AUTH_HASH_LEN + 1). 0 or -EIO. */
int auth_sha256_hex(const void *data, size_t len, char *out);

#endif
