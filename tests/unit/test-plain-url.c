/*
 * test-plain-url — the h2c URL splitter (broker/plain_url.c): plain URLs split
 * to the host, port and path written down here by hand; URLs libcurl would
 * read differently (upper case, numeric IPv4 forms, IPv6, user names, dot
 * segments, fragments, escapes, odd ports) are declined for libcurl to take;
 * every URL here and 20,000 seeded mutations of them split as libcurl splits
 * them whenever the splitter takes them.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/plain-url-diff.h"
#include "check.h"
#include "plain_url.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
    const char *url, *host;
    unsigned port;
    const char *path;
} plain[] = {
    {"http://127.0.0.1:8080/centers/sim-00001/native", "127.0.0.1", 8080,
     "/centers/sim-00001/native"},
    {"http://localhost/feed", "localhost", 80, "/feed"},
    {"http://feeds.example-center.cn:65535/a/b?x=1&y=%2F", "feeds.example-center.cn", 65535,
     "/a/b?x=1&y=%2F"},
    {"http://10.0.0.255:1", "10.0.0.255", 1, "/"},
    {"http://gpu-1.sh", "gpu-1.sh", 80, "/"},
    {"http://h/", "h", 80, "/"},
    {"http://h/.well-known/x..y/...", "h", 80, "/.well-known/x..y/..."},
    {"http://h/slurm/v0.0.40/nodes?update_time=0", "h", 80, "/slurm/v0.0.40/nodes?update_time=0"},
    {"http://0.0.0.0:80/p", "0.0.0.0", 80, "/p"},
    {"http://a.b.c.d1x/p", "a.b.c.d1x", 80, "/p"},
};

/* Each declined for libcurl to take, and why. */
static const struct {
    const char *url, *why;
} declined[] = {
    {"https://h/p", "TLS"},
    {"HTTP://h/p", "an upper-case scheme"},
    {"http://H/p", "an upper-case host"},
    {"http://127.1/p", "an IPv4 form libcurl normalizes"},
    {"http://0x7f.0.0.1/p", "a hexadecimal IPv4 part"},
    {"http://0177.0.0.1/p", "an octal IPv4 part"},
    {"http://127.0.0.01/p", "a zero-led IPv4 part"},
    {"http://256.0.0.1/p", "an IPv4 part over 255"},
    {"http://1.2.3/p", "three IPv4 parts"},
    {"http://1.2.3.4.5/p", "five IPv4 parts"},
    {"http://[::1]:8080/p", "IPv6"},
    {"http://u:pw@h/p", "a user name"},
    {"http://h/a/../b", "a .. segment"},
    {"http://h/a/./b", "a . segment"},
    {"http://h/..", "a final .. segment"},
    {"http://h/a/.?x", "a . segment before the query"},
    {"http://h/p#frag", "a fragment"},
    {"http://h/p q", "white space"},
    {"http://h/%zz", "a broken escape"},
    {"http://h/%4", "a short escape"},
    {"http://h/p\x80", "a byte outside ASCII"},
    {"http://h:0/p", "port 0"},
    {"http://h:080/p", "a zero-led port"},
    {"http://h:65536/p", "a port over 65535"},
    {"http://h:123456/p", "a six-digit port"},
    {"http://h:/p", "an empty port"},
    {"http://h:8x/p", "a port with a letter"},
    {"http://h?x", "a query without a path"},
    {"http://h/p?", "an empty query"},
    {"http:///p", "no host"},
    {"http://.h/p", "a host with a leading dot"},
    {"http://h./p", "a host with a trailing dot"},
    {"http://a..b/p", "an empty label"},
    {"http://h_1/p", "an underscore in the host"},
    {"http:/h/p", "one slash"},
    {"", "nothing"},
};

static void check_plain(void)
{
    for (size_t i = 0; i < N(plain); i++) {
        struct plain_url pu;
        int r = plain_url_split(plain[i].url, &pu);
        CHECK(r == 0, "%s is plain", plain[i].url);
        if (r != 0)
            continue;
        char host[256];
        snprintf(host, sizeof(host), "%.*s", (int)pu.host_len, pu.host);
        CHECK_STR(host, plain[i].host, "host");
        CHECK_EQ_LONG(pu.port, plain[i].port, "port");
        CHECK_STR(pu.path, plain[i].path, "path and query");
        bool split;
        const char *why = plain_url_diff(plain[i].url, &split);
        CHECK(why == NULL && split, "%s splits as libcurl splits it%s%s", plain[i].url,
              why ? ": " : "", why ? why : "");
    }
}

static void check_declined(void)
{
    for (size_t i = 0; i < N(declined); i++) {
        struct plain_url pu;
        int r = plain_url_split(declined[i].url, &pu);
        CHECK(r == -ENOTSUP, "declined: %s (%s)", declined[i].why, declined[i].url);
    }
}

/* Seeded mutations: byte flips, insertions of the characters that matter, truncations. */
static void check_mutations(void)
{
    static const char alphabet[] = "./:?#@%[]-_~09afAFxX \t\x80";
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    unsigned taken = 0, disagreed = 0;
    char first[600] = "";
    for (unsigned n = 0; n < 20000; n++) {
        char url[512];
        snprintf(url, sizeof(url), "%s", plain[n % N(plain)].url);
        for (int k = 0; k < 1 + (int)(n % 3); k++) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            size_t len = strlen(url), at = len ? (size_t)(rng >> 8) % len : 0;
            char c = alphabet[(rng >> 32) % (sizeof(alphabet) - 1)];
            switch ((rng >> 40) % 3) {
            case 0:
                url[at] = c;
                break;
            case 1:
                if (len + 1 < sizeof(url)) {
                    memmove(url + at + 1, url + at, len - at + 1);
                    url[at] = c;
                }
                break;
            default:
                url[at + 1 <= len ? at + 1 : len] = '\0';
            }
        }
        bool split;
        const char *why = plain_url_diff(url, &split);
        taken += split;
        if (why && disagreed++ == 0)
            snprintf(first, sizeof(first), "%s: %s", why, url);
    }
    CHECK(disagreed == 0, "20,000 mutations: the splitter took %u, none split unlike libcurl%s%s",
          taken, first[0] ? "; first: " : "", first);
    CHECK(taken > 1000 && taken < 19000, "the mutations reach both sides (%u taken)", taken);
}

int main(void)
{
    check_plain();
    check_declined();
    check_mutations();
    return check_done();
}
