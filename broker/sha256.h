/*
 * sha256 — SHA-256 (FIPS 180-4), for hashing tokens and request bodies. Our own: OpenSSL's
 * first digest call loads its provider and reads its configuration file (5 M instructions,
 * 1.5 ms of every start), for one fixed algorithm over short inputs. Pure: no I/O, no state
 * between calls.
 */
#ifndef SUANWANG_SHA256_H
#define SUANWANG_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32 /* bytes of a digest */

/* The digest of the n bytes at data (NULL is fine when n is 0). */
void sha256(const void *data, size_t n, uint8_t out[SHA256_LEN]);

#endif
