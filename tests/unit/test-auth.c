/*
 * test-auth — ids and tokens: their shape, that ids made later sort later
 * (the database appends them), and that ids of one millisecond differ.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "check.h"

static bool all_hex(const char *s)
{
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s) && !(*s >= 'a' && *s <= 'f'))
            return false;
    }
    return true;
}

int main(void)
{
    char a[AUTH_ID_LEN], b[AUTH_ID_LEN], c[AUTH_ID_LEN];
    const long long t = 1795324343896; /* 2026-11-22T... in ms */
    CHECK(auth_new_id("dc", t, a, sizeof(a)) == 0, "an id");
    CHECK(strlen(a) == 27 && strncmp(a, "dc_", 3) == 0 && all_hex(a + 3),
          "\"dc_\" and 24 lowercase hex digits (%s)", a);
    char when[12];
    snprintf(when, sizeof(when), "%011llx", t);
    CHECK(strncmp(a + 3, when, 11) == 0, "the first 11 digits are the milliseconds (%s)", when);
    CHECK(auth_new_id("dc", t, b, sizeof(b)) == 0 && strcmp(a, b) != 0,
          "two ids of one millisecond differ (%s %s)", a, b);
    CHECK(auth_new_id("dc", t + 1, c, sizeof(c)) == 0 && strcmp(c, a) > 0 && strcmp(c, b) > 0,
          "an id of the next millisecond sorts after both (%s)", c);
    bool ordered = true;
    char prev[AUTH_ID_LEN] = "";
    for (long long ms = t; ms < t + 5000; ms += 7) {
        char id[AUTH_ID_LEN];
        if (auth_new_id("pl", ms, id, sizeof(id)) != 0 || strcmp(id, prev) <= 0)
            ordered = false;
        memcpy(prev, id, sizeof(id));
    }
    CHECK(ordered, "ids over 5 s of milliseconds come out in order");
    CHECK(auth_new_id("pl", 0, a, sizeof(a)) == 0 && strncmp(a, "pl_00000000000", 14) == 0,
          "time 0 (or before) gives zeros (%s)", a);
    char tok[AUTH_TOKEN_LEN + 1];
    CHECK(auth_new_token(tok, sizeof(tok)) == 0 && strlen(tok) == AUTH_TOKEN_LEN &&
              strncmp(tok, "sw_", 3) == 0 && all_hex(tok + 3),
          "a token is \"sw_\" and 64 hex digits");
    return check_done();
}
