/*
 * test-sha256 — broker/sha256.c against the examples of FIPS 180-4 (and NIST's million 'a'),
 * and against OpenSSL for every length from 0 to 1,100 bytes: all the padding cases, a tail
 * that leaves room for the length in its block and one that does not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "auth.h"
#include "check.h"
#include "sha256.h"

static void hex(const uint8_t *md, char *out)
{
    for (int i = 0; i < SHA256_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void check_vector(const char *msg, size_t n, const char *want, const char *name)
{
    uint8_t md[SHA256_LEN];
    char got[2 * SHA256_LEN + 1];
    sha256(msg, n, md);
    hex(md, got);
    CHECK_STR(got, want, name);
}

int main(void)
{
    check_vector("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                 "FIPS 180-4 example: \"abc\" (one block)");
    check_vector("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                 "the empty message");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    check_vector(two, strlen(two),
                 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
                 "FIPS 180-4 example: 448 bits (the length needs a second block)");
    const char *four = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                       "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    check_vector(four, strlen(four),
                 "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
                 "NIST example: 896 bits");
    char *million = malloc(1000000);
    if (million) {
        memset(million, 'a', 1000000);
        check_vector(million, 1000000,
                     "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
                     "NIST example: one million 'a'");
        free(million);
    }

    /* Every length 0..1100 of pseudo-random bytes, next to OpenSSL. */
    uint8_t data[1100];
    uint32_t x = 2463534242u; /* xorshift32 */
    for (size_t i = 0; i < sizeof(data); i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        data[i] = (uint8_t)x;
    }
    size_t same = 0, first_bad = (size_t)-1;
    for (size_t n = 0; n <= sizeof(data); n++) {
        uint8_t ours[SHA256_LEN], theirs[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        sha256(data, n, ours);
        if (EVP_Digest(data, n, theirs, &len, EVP_sha256(), NULL) && len == SHA256_LEN &&
            memcmp(ours, theirs, SHA256_LEN) == 0)
            same++;
        else if (first_bad == (size_t)-1)
            first_bad = n;
    }
    char where[64] = "";
    if (first_bad != (size_t)-1)
        snprintf(where, sizeof(where), ", the first difference at %zu bytes", first_bad);
    CHECK(same == sizeof(data) + 1,
          "OpenSSL gives the same digest for %zu of the %zu lengths 0..%zu%s", same,
          sizeof(data) + 1, sizeof(data), where);

    char h[AUTH_HASH_LEN + 1];
    CHECK(auth_sha256_hex("abc", 3, h) == 0 &&
              strcmp(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0,
          "auth_sha256_hex gives it as 64 lowercase hex digits (%s)", h);

    return check_done();
}
