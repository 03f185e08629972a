/*
 * config — brokerd's settings in one validated struct: defaults, then the JSON
 * file of --config, then command-line flags, then secrets from the
 * environment. Nothing else reads argv, the config file or getenv.
 */
#ifndef SUANWANG_CONFIG_H
#define SUANWANG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "h2.h"

#define CONFIG_MAX_RATES 16

struct currency_rate {
    char code[4]; /* ISO 4217 */
    double cny;   /* CNY per unit */
};

struct config {
    char listen_host[64]; /* "127.0.0.1" */
    int listen_port;      /* 0 = any free port */
    char db_path[512];
    char port_file[512]; /* "" or where to write the bound port once listening */
    char tls_cert[512];  /* "" for cleartext h2, or the PEM certificate chain for TLS */
    char tls_key[512];   /* its PEM private key; set exactly when tls_cert is */
    bool demo;
    char demo_feeds[256]; /* "" or the demo feed server's URL (pull instead of push) */
    struct h2_limits limits;
    long default_staleness_s; /* for centers with push feeds only */
    size_t max_feed_bytes;    /* a pulled document's cap (default 16 MiB) */
    double feed_timeout_s;    /* a pull's total time limit (default 30) */
    /* New pull feeds' first polls are spread over this many seconds (default 1; 0 = at once). */
    double feed_first_poll_spread_s;
    char feed_ca_file[512]; /* "" or PEM certificates that https:// feeds are verified with */
    long max_decisions_list;
    long max_cards_held_per_tenant; /* default quota of cards in a tenant's live holds; 0 = none */
    struct currency_rate rates[CONFIG_MAX_RATES];
    size_t nrates;
    char admin_token[256]; /* SUANWANG_ADMIN_TOKEN, "" when unset; never logged */
    bool verbose;
};

/*
 * Builds the configuration. On a usage or validation error returns -EINVAL
 * with a message in errbuf; returns 1 when --help was printed.
 */
int config_load(int argc, char **argv, struct config *ret, char *errbuf, size_t errlen);

/* CNY per unit of the currency, or a negative value when no rate is configured. */
double config_rate(const struct config *cfg, const char *code);

void config_usage(const char *argv0);

#endif
