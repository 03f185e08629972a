/*
 * config — option parsing and validation for brokerd. Order: defaults, the
 * --config JSON file, flags, then SUANWANG_ADMIN_TOKEN from the environment.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

static const char *const file_fields[] = {"listen",
                                          "db",
                                          "demo",
                                          "max_body",
                                          "max_header_bytes",
                                          "max_streams",
                                          "max_connections",
                                          "idle_timeout_s",
                                          "default_staleness_s",
                                          "currency_rates",
                                          "tls_cert",
                                          "tls_key",
                                          "max_feed_bytes",
                                          "feed_timeout_s",
                                          "feed_first_poll_spread_s",
                                          "feed_ca_file",
                                          "max_cards_held_per_tenant",
                                          NULL};

void config_usage(const char *argv0)
{
    fprintf(
        stderr,
        "usage: %s [--listen HOST:PORT] [--db PATH] [--config FILE] [--demo]\n"
        "          [--tls-cert FILE --tls-key FILE] [--port-file FILE] [--verbose]\n"
        "  --listen HOST:PORT  address for HTTP/2, cleartext unless --tls-cert\n"
        "                      (default 127.0.0.1:8080; port 0 picks a free port)\n"
        "  --db PATH           SQLite database file (default suanwang.db)\n"
        "  --config FILE       JSON settings: listen, db, demo, max_body, max_header_bytes,\n"
        "                      max_streams, max_connections, idle_timeout_s,\n"
        "                      default_staleness_s, currency_rates {\"USD\": 7.1},\n"
        "                      tls_cert, tls_key, max_feed_bytes, feed_timeout_s,\n"
        "                      feed_first_poll_spread_s (default 1; 0 = poll at once),\n"
        "                      feed_ca_file (PEM CA for https:// feeds; default: the system's),\n"
        "                      max_cards_held_per_tenant (0 = no quota)\n"
        "  --tls-cert FILE     serve HTTP/2 over TLS (ALPN h2): PEM certificate chain\n"
        "  --tls-key FILE      and its PEM private key (both or neither)\n"
        "  --demo              load demo regions, centers and feeds\n"
        "  --demo-feeds URL    with --demo: pull the demo feeds from tools/feedserver at URL\n"
        "  --port-file FILE    write the bound port to FILE once listening\n"
        "environment: SUANWANG_ADMIN_TOKEN is accepted as an admin token\n",
        argv0);
}

static int set_listen(struct config *cfg, const char *v, char *errbuf, size_t errlen)
{
    const char *colon = strrchr(v, ':');
    char *end = NULL;
    if (!colon || colon == v || (size_t)(colon - v) >= sizeof(cfg->listen_host)) {
        snprintf(errbuf, errlen, "--listen wants HOST:PORT, got '%s'", v);
        return -EINVAL;
    }
    long port = strtol(colon + 1, &end, 10);
    if (!end || *end || port < 0 || port > 65535) {
        snprintf(errbuf, errlen, "--listen: bad port in '%s'", v);
        return -EINVAL;
    }
    memcpy(cfg->listen_host, v, (size_t)(colon - v));
    cfg->listen_host[colon - v] = '\0';
    cfg->listen_port = (int)port;
    return 0;
}

static int add_rate(struct config *cfg, const char *code, double cny)
{
    for (size_t i = 0; i < cfg->nrates; i++) {
        if (strcmp(cfg->rates[i].code, code) == 0) {
            cfg->rates[i].cny = cny;
            return 0;
        }
    }
    if (cfg->nrates == CONFIG_MAX_RATES)
        return -E2BIG;
    snprintf(cfg->rates[cfg->nrates].code, sizeof(cfg->rates[0].code), "%s", code);
    cfg->rates[cfg->nrates++].cny = cny;
    return 0;
}

static int load_file(struct config *cfg, const char *path, char *errbuf, size_t errlen)
{
    char buf[65536];
    struct json_error jerr = {0};
    cJSON *doc = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(errbuf, errlen, "cannot open config %s: %s", path, strerror(errno));
        return -errno;
    }
    size_t n = fread(buf, 1, sizeof(buf), f);
    bool big = !feof(f);
    fclose(f);
    if (big) {
        snprintf(errbuf, errlen, "config %s is larger than %zu bytes", path, sizeof(buf));
        return -E2BIG;
    }
    int r = json_parse_object(buf, n, &doc, &jerr);
    if (r == 0)
        r = json_only(doc, file_fields, "", &jerr);
    const char *s = NULL;
    bool present = false;
    double d;
    long l;
    if (r == 0 && (r = json_get_string(doc, "listen", "", false, 80, &s, &present, &jerr)) == 0 &&
        present) {
        r = set_listen(cfg, s, errbuf, errlen);
        if (r < 0)
            goto out;
    }
    if (r == 0 && (r = json_get_string(doc, "db", "", false, 500, &s, &present, &jerr)) == 0 &&
        present)
        snprintf(cfg->db_path, sizeof(cfg->db_path), "%s", s);
    if (r == 0 &&
        (r = json_get_string(doc, "tls_cert", "", false, 500, &s, &present, &jerr)) == 0 && present)
        snprintf(cfg->tls_cert, sizeof(cfg->tls_cert), "%s", s);
    if (r == 0 && (r = json_get_string(doc, "tls_key", "", false, 500, &s, &present, &jerr)) == 0 &&
        present)
        snprintf(cfg->tls_key, sizeof(cfg->tls_key), "%s", s);
    if (r == 0 &&
        (r = json_get_string(doc, "feed_ca_file", "", false, 500, &s, &present, &jerr)) == 0 &&
        present)
        snprintf(cfg->feed_ca_file, sizeof(cfg->feed_ca_file), "%s", s);
    if (r == 0)
        r = json_get_bool(doc, "demo", "", false, &cfg->demo, NULL, &jerr);
    if (r == 0 &&
        (r = json_get_long(doc, "max_body", "", false, 1024, 64L << 20, &l, &present, &jerr)) ==
            0 &&
        present)
        cfg->limits.max_body = (size_t)l;
    if (r == 0 &&
        (r = json_get_long(doc, "max_header_bytes", "", false, 1024, 1L << 20, &l, &present,
                           &jerr)) == 0 &&
        present)
        cfg->limits.max_header_bytes = (size_t)l;
    if (r == 0 &&
        (r = json_get_long(doc, "max_streams", "", false, 1, 100000, &l, &present, &jerr)) == 0 &&
        present)
        cfg->limits.max_streams = (uint32_t)l;
    if (r == 0 &&
        (r = json_get_long(doc, "max_connections", "", false, 1, 1000000, &l, &present, &jerr)) ==
            0 &&
        present)
        cfg->limits.max_connections = (unsigned)l;
    if (r == 0 &&
        (r = json_get_number(doc, "idle_timeout_s", "", false, 0.1, 86400, &d, &present, &jerr)) ==
            0 &&
        present)
        cfg->limits.idle_timeout_s = d;
    if (r == 0)
        r = json_get_long(doc, "default_staleness_s", "", false, 1, 86400 * 365,
                          &cfg->default_staleness_s, NULL, &jerr);
    if (r == 0 &&
        (r = json_get_long(doc, "max_feed_bytes", "", false, 1024, 1L << 30, &l, &present,
                           &jerr)) == 0 &&
        present)
        cfg->max_feed_bytes = (size_t)l;
    if (r == 0)
        r = json_get_number(doc, "feed_timeout_s", "", false, 0.1, 3600, &cfg->feed_timeout_s, NULL,
                            &jerr);
    if (r == 0)
        r = json_get_number(doc, "feed_first_poll_spread_s", "", false, 0, 3600,
                            &cfg->feed_first_poll_spread_s, NULL, &jerr);
    if (r == 0)
        r = json_get_long(doc, "max_cards_held_per_tenant", "", false, 0, 1000000000,
                          &cfg->max_cards_held_per_tenant, NULL, &jerr);
    if (r == 0) {
        const cJSON *rates = cJSON_GetObjectItemCaseSensitive(doc, "currency_rates");
        const cJSON *it;
        if (rates && !cJSON_IsObject(rates))
            r = json_fail(&jerr, "", "currency_rates", "must be an object of code: CNY rate");
        cJSON_ArrayForEach(it, rates)
        {
            if (r < 0)
                break;
            if (!it->string || strlen(it->string) != 3) {
                r = json_fail(&jerr, "/currency_rates", it->string ? it->string : "",
                              "must be an ISO 4217 code");
                break;
            }
            r = json_get_number(rates, it->string, "/currency_rates", true, 1e-6, 1e6, &d, NULL,
                                &jerr);
            if (r == 0)
                r = add_rate(cfg, it->string, d);
        }
    }
out:
    cJSON_Delete(doc);
    if (r < 0 && !errbuf[0])
        snprintf(errbuf, errlen, "config %s: %s%s%s", path, jerr.pointer,
                 jerr.pointer[0] ? ": " : "", jerr.detail[0] ? jerr.detail : "invalid");
    return r;
}

int config_load(int argc, char **argv, struct config *ret, char *errbuf, size_t errlen)
{
    struct config cfg = {
        .listen_host = "127.0.0.1",
        .listen_port = 8080,
        .db_path = "suanwang.db",
        .limits = {.max_body = 65536,
                   .max_header_bytes = 16384,
                   .max_streams = 128,
                   .max_connections = 1024,
                   .idle_timeout_s = 60},
        .default_staleness_s = 900,
        .max_feed_bytes = 16u << 20,
        .feed_timeout_s = 30,
        .feed_first_poll_spread_s = 1,
        .max_decisions_list = 1000,
    };
    errbuf[0] = '\0';
    add_rate(&cfg, "CNY", 1.0);

    /* The file first, wherever --config stands, so flags override it. */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc) {
                snprintf(errbuf, errlen, "--config needs a file");
                return -EINVAL;
            }
            int r = load_file(&cfg, argv[i + 1], errbuf, errlen);
            if (r < 0)
                return r;
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            config_usage(argv[0]);
            return 1;
        } else if (strcmp(a, "--demo") == 0) {
            cfg.demo = true;
        } else if (strcmp(a, "--verbose") == 0) {
            cfg.verbose = true;
        } else if (strcmp(a, "--listen") == 0 || strcmp(a, "--db") == 0 ||
                   strcmp(a, "--config") == 0 || strcmp(a, "--port-file") == 0 ||
                   strcmp(a, "--tls-cert") == 0 || strcmp(a, "--tls-key") == 0 ||
                   strcmp(a, "--demo-feeds") == 0) {
            if (!v) {
                snprintf(errbuf, errlen, "%s needs a value", a);
                return -EINVAL;
            }
            i++;
            if (strcmp(a, "--listen") == 0) {
                int r = set_listen(&cfg, v, errbuf, errlen);
                if (r < 0)
                    return r;
            } else if (strcmp(a, "--db") == 0) {
                snprintf(cfg.db_path, sizeof(cfg.db_path), "%s", v);
            } else if (strcmp(a, "--port-file") == 0) {
                snprintf(cfg.port_file, sizeof(cfg.port_file), "%s", v);
            } else if (strcmp(a, "--demo-feeds") == 0) {
                if (strncmp(v, "http://", 7) != 0 || strlen(v) >= sizeof(cfg.demo_feeds)) {
                    snprintf(errbuf, errlen, "--demo-feeds wants the feed server's http:// URL");
                    return -EINVAL;
                }
                snprintf(cfg.demo_feeds, sizeof(cfg.demo_feeds), "%s", v);
                cfg.demo = true;
            } else if (strcmp(a, "--tls-cert") == 0 || strcmp(a, "--tls-key") == 0) {
                char *dst = strcmp(a, "--tls-cert") == 0 ? cfg.tls_cert : cfg.tls_key;
                if (!*v || strlen(v) >= sizeof(cfg.tls_cert)) {
                    snprintf(errbuf, errlen, "%s wants a file name of 1..%zu bytes", a,
                             sizeof(cfg.tls_cert) - 1);
                    return -EINVAL;
                }
                snprintf(dst, sizeof(cfg.tls_cert), "%s", v);
            }
        } else {
            snprintf(errbuf, errlen, "unknown argument '%s' (see --help)", a);
            return -EINVAL;
        }
    }
    if (!cfg.tls_cert[0] != !cfg.tls_key[0]) {
        snprintf(errbuf, errlen, "%s without %s: TLS needs both a certificate and its key",
                 cfg.tls_cert[0] ? "--tls-cert (tls_cert)" : "--tls-key (tls_key)",
                 cfg.tls_cert[0] ? "--tls-key (tls_key)" : "--tls-cert (tls_cert)");
        return -EINVAL;
    }
    const char *tok = getenv("SUANWANG_ADMIN_TOKEN");
    if (tok && *tok) {
        if (strlen(tok) < 16 || strlen(tok) >= sizeof(cfg.admin_token)) {
            snprintf(errbuf, errlen, "SUANWANG_ADMIN_TOKEN must be 16..255 characters");
            return -EINVAL;
        }
        snprintf(cfg.admin_token, sizeof(cfg.admin_token), "%s", tok);
    }
    *ret = cfg;
    return 0;
}

double config_rate(const struct config *cfg, const char *code)
{
    for (size_t i = 0; i < cfg->nrates; i++) {
        if (strcmp(cfg->rates[i].code, code) == 0)
            return cfg->rates[i].cny;
    }
    return -1;
}
