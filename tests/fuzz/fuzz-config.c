/*
 * fuzz-config — config_load on an arbitrary --config file. The input is the
 * file's content, in a memory file named by /proc/self/fd; it is loaded as
 * brokerd would, "brokerd --config FILE", and once more with flags after it
 * that override the file. Checks what main.c relies on: the result is 0 or
 * -EINVAL, -E2BIG or another negative errno with a message; on success every
 * value is within its documented range and every string terminated. Violations
 * abort().
 */
#define _GNU_SOURCE /* memfd_create */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz-config: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

static void check_terminated(const char *s, size_t size, const char *what)
{
    if (!memchr(s, '\0', size))
        die("unterminated string", what);
}

static void check(const struct config *cfg)
{
    check_terminated(cfg->listen_host, sizeof(cfg->listen_host), "listen_host");
    check_terminated(cfg->db_path, sizeof(cfg->db_path), "db_path");
    check_terminated(cfg->port_file, sizeof(cfg->port_file), "port_file");
    check_terminated(cfg->tls_cert, sizeof(cfg->tls_cert), "tls_cert");
    check_terminated(cfg->tls_key, sizeof(cfg->tls_key), "tls_key");
    check_terminated(cfg->demo_feeds, sizeof(cfg->demo_feeds), "demo_feeds");
    check_terminated(cfg->admin_token, sizeof(cfg->admin_token), "admin_token");
    if (!cfg->listen_host[0] || cfg->listen_port < 0 || cfg->listen_port > 65535)
        die("listen out of range", cfg->listen_host);
    if (!cfg->tls_cert[0] != !cfg->tls_key[0])
        die("a certificate without a key, or the reverse", NULL);
    const struct h2_limits *l = &cfg->limits;
    if (l->max_body < 1024 || l->max_body > (64u << 20))
        die("max_body out of range", NULL);
    if (l->max_header_bytes < 1024 || l->max_header_bytes > (1u << 20))
        die("max_header_bytes out of range", NULL);
    if (l->max_streams < 1 || l->max_streams > 100000)
        die("max_streams out of range", NULL);
    if (l->max_connections < 1 || l->max_connections > 1000000)
        die("max_connections out of range", NULL);
    if (!(l->idle_timeout_s >= 0.1 && l->idle_timeout_s <= 86400))
        die("idle_timeout_s out of range", NULL);
    if (cfg->default_staleness_s < 1 || cfg->default_staleness_s > 86400L * 365)
        die("default_staleness_s out of range", NULL);
    if (cfg->max_feed_bytes < 1024 || cfg->max_feed_bytes > (1u << 30))
        die("max_feed_bytes out of range", NULL);
    if (!(cfg->feed_timeout_s >= 0.1 && cfg->feed_timeout_s <= 3600))
        die("feed_timeout_s out of range", NULL);
    if (cfg->max_cards_held_per_tenant < 0 || cfg->max_cards_held_per_tenant > 1000000000)
        die("max_cards_held_per_tenant out of range", NULL);
    if (cfg->nrates < 1 || cfg->nrates > CONFIG_MAX_RATES)
        die("nrates out of range", NULL);
    if (config_rate(cfg, "CNY") <= 0)
        die("no CNY rate", NULL);
    for (size_t i = 0; i < cfg->nrates; i++) {
        check_terminated(cfg->rates[i].code, sizeof(cfg->rates[i].code), "rate code");
        if (strlen(cfg->rates[i].code) != 3)
            die("a rate code that is not 3 bytes", cfg->rates[i].code);
        if (!(cfg->rates[i].cny > 0 && cfg->rates[i].cny <= 1e6))
            die("a rate out of range", cfg->rates[i].code);
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cfg->rates[i].code, cfg->rates[j].code) == 0)
                die("a rate code twice", cfg->rates[i].code);
        }
    }
}

static void load(char **argv, int argc)
{
    struct config cfg;
    char err[512];

    memset(&cfg, 0xa5, sizeof(cfg)); /* config_load must not depend on what was there */
    memset(err, 'x', sizeof(err));
    int r = config_load(argc, argv, &cfg, err, sizeof(err));
    check_terminated(err, sizeof(err), "error message");
    if (r == 0) {
        check(&cfg);
    } else if (r < 0) {
        if (!err[0])
            die("a failure without a message", NULL);
    } else {
        die("config_load returned > 0 without --help", NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    char path[64];

    if (fd < 0) {
        fd = memfd_create("fuzz-config", 0);
        if (fd < 0)
            die("memfd_create failed", strerror(errno));
    }
    if (ftruncate(fd, 0) != 0)
        die("ftruncate failed", strerror(errno));
    size_t off = 0;
    while (off < size) {
        ssize_t n = pwrite(fd, data + off, size - off, (off_t)off);
        if (n <= 0)
            die("pwrite failed", strerror(errno));
        off += (size_t)n;
    }
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

    char *plain[] = {"brokerd", "--config", path, NULL};
    load(plain, 3);
    char *flags[] = {"brokerd", "--config",    path,        "--listen", "[::1]:0",
                     "--demo",  "--port-file", "/dev/null", NULL};
    load(flags, 8);
    return 0;
}
