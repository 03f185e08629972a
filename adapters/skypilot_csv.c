/*
 * skypilot_csv — a SkyPilot catalog vms.csv (skypilot-org/skypilot-catalog, any
 * cloud and catalog version) as a price feed: per accelerator model the cheapest
 * list price per card-hour over the rows that name an accelerator, with that row's
 * spot price. Columns are found by header name, never by position. Holds its own
 * RFC 4180 reader with hard caps; it is not a general CSV library.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapter.h"

#define CSV_MAX_FIELDS 64    /* per record; real catalogs have 9 to 11 */
#define CSV_MAX_FIELD 4096   /* bytes of one field; Lambda's GpuInfo is ~170 */
#define CSV_MAX_RECORD 65536 /* bytes of one record, fields and separators */
#define SP_MAX_GPUS 1024     /* a larger AcceleratorCount is not a machine */
#define SP_DEFAULT_MAX_PRICE 1000.0
#define SP_PLACEHOLDER 700.0 /* GCP TPU rows use 700.0 for "no price" */
#define SP_MAX_MAP 4096      /* entries of the models and counts options */

/*
 * SkyPilot names whose meaning differs from the catalog's and for which the catalog
 * has the right row: SkyPilot's "A100" is the 40GB part (its 80GB one is
 * "A100-80GB") while the catalog's "A100" is 80GB. The models option wins over this.
 */
static const struct {
    const char *skypilot;
    const char *model;
} builtin_names[] = {
    {"A100", "A100-PCIE-40GB"},
};

/* Streams records out of a CSV document; fields are NUL-terminated inside buf. */
struct csv {
    const char *p, *end; /* borrowed: the unread input */
    long line;           /* line the next record starts on (1-based) */
    long record_line;    /* line the last record started on */
    char *buf;           /* owned, CSV_MAX_RECORD bytes */
    size_t len;          /* bytes used in buf */
    size_t off[CSV_MAX_FIELDS];
    size_t nfields;
};

/* Fails naming "/<line>" or "/<line>/<column>"; the sentence starts with the line. */
static int csv_fail(struct json_error *err, long line, const char *column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int csv_fail(struct json_error *err, long line, const char *column, const char *fmt, ...)
{
    char ptr[32], msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(ptr, sizeof(ptr), "/%ld", line);
    if (column)
        return json_fail(err, ptr, column, "line %ld, %s: %s", line, column, msg);
    return json_fail(err, ptr, column, "line %ld: %s", line, msg);
}

static int csv_put(struct csv *c, char ch, struct json_error *err)
{
    if (c->len + 1 >= CSV_MAX_RECORD)
        return csv_fail(err, c->record_line, NULL, "record is longer than 64 KiB");
    c->buf[c->len++] = ch;
    return 0;
}

/* Consumes one line end (CRLF, LF or a lone CR) if one is next. */
static bool csv_eol(struct csv *c)
{
    if (c->p < c->end && *c->p == '\r') {
        c->p++;
        if (c->p < c->end && *c->p == '\n')
            c->p++;
        c->line++;
        return true;
    }
    if (c->p < c->end && *c->p == '\n') {
        c->p++;
        c->line++;
        return true;
    }
    return false;
}

static const char *csv_field(const struct csv *c, size_t i)
{
    return c->buf + c->off[i];
}

/*
 * Reads the next record, skipping blank lines. Returns 1 with c->nfields fields,
 * 0 at the end of the input, or -EINVAL naming the line.
 */
static int csv_next(struct csv *c, struct json_error *err)
{
    int r;
    while (csv_eol(c))
        ;
    if (c->p >= c->end)
        return 0;
    c->record_line = c->line;
    c->len = 0;
    c->nfields = 0;
    for (;;) {
        if (c->nfields == CSV_MAX_FIELDS)
            return csv_fail(err, c->record_line, NULL, "has more than 64 fields");
        size_t start = c->len;
        c->off[c->nfields++] = start;
        if (c->p < c->end && *c->p == '"') {
            c->p++;
            for (;;) {
                if (c->p >= c->end)
                    return csv_fail(err, c->record_line, NULL, "a quoted field is not closed");
                char ch = *c->p++;
                if (ch == '"') {
                    if (c->p < c->end && *c->p == '"') {
                        c->p++;
                    } else {
                        break;
                    }
                } else if (ch == '\n') {
                    c->line++;
                }
                r = csv_put(c, ch, err);
                if (r < 0)
                    return r;
            }
            if (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r')
                return csv_fail(err, c->record_line, NULL, "text follows a closing quote");
        } else {
            while (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r') {
                if (*c->p == '"')
                    return csv_fail(err, c->record_line, NULL, "a quote inside an unquoted field");
                r = csv_put(c, *c->p++, err);
                if (r < 0)
                    return r;
            }
        }
        if (c->len - start > CSV_MAX_FIELD)
            return csv_fail(err, c->record_line, NULL, "a field is longer than 4096 bytes");
        r = csv_put(c, '\0', err);
        if (r < 0)
            return r;
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        csv_eol(c);
        return 1;
    }
}

static bool printable(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return false;
    }
    return true;
}

/*
 * A plain decimal number ("8", "8.0", "0.526", "1e3") with optional surrounding
 * blanks. Hex, nan, inf and anything else strtod would take are refused.
 */
static bool parse_number(const char *s, double *ret)
{
    char tmp[64];
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 0 || n >= sizeof(tmp))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]) && s[i] != '.' && s[i] != 'e' && s[i] != 'E' &&
            s[i] != '+' && s[i] != '-')
            return false;
    }
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end = NULL;
    double d = strtod(tmp, &end);
    if (end != tmp + n || !isfinite(d))
        return false;
    *ret = d;
    return true;
}

static bool blank(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return *s == '\0';
}

static bool valid_currency(const char *s)
{
    return strlen(s) == 3 && isupper((unsigned char)s[0]) && isupper((unsigned char)s[1]) &&
           isupper((unsigned char)s[2]);
}

/* An object option: keys 1..keymax printable bytes, at most SP_MAX_MAP entries. */
static int check_map_keys(const cJSON *map, const char *name, size_t keymax, struct json_error *err)
{
    const cJSON *it;
    char ptr[32];
    if (!cJSON_IsObject(map))
        return json_fail(err, "", name, "must be an object");
    if (cJSON_GetArraySize(map) > SP_MAX_MAP)
        return json_fail(err, "", name, "has more than %d entries", SP_MAX_MAP);
    json_pointer(ptr, sizeof(ptr), "", name);
    cJSON_ArrayForEach(it, map)
    {
        const char *k = it->string ? it->string : "";
        if (strlen(k) == 0 || strlen(k) > keymax || !printable(k))
            return json_fail(err, ptr, k, "a key must be 1..%zu printable bytes", keymax);
    }
    return 0;
}

static int skypilot_check(const cJSON *options, struct json_error *err)
{
    const cJSON *v, *it;
    int r;
    if (!options || cJSON_IsNull(options))
        return 0;
    if (!cJSON_IsObject(options))
        return json_fail(err, "", NULL, "options must be an object");
    v = cJSON_GetObjectItemCaseSensitive(options, "region");
    if (v && (!cJSON_IsString(v) || strlen(v->valuestring) == 0 || strlen(v->valuestring) > 64 ||
              !printable(v->valuestring)))
        return json_fail(err, "", "region", "must be a region name of 1..64 printable bytes");
    v = cJSON_GetObjectItemCaseSensitive(options, "currency");
    if (v && (!cJSON_IsString(v) || !valid_currency(v->valuestring)))
        return json_fail(err, "", "currency", "must be an ISO 4217 code such as USD");
    v = cJSON_GetObjectItemCaseSensitive(options, "max_price");
    if (v && (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble <= 0 ||
              v->valuedouble > 1e6))
        return json_fail(err, "", "max_price", "must be a number above 0 and at most 1e6");
    v = cJSON_GetObjectItemCaseSensitive(options, "models");
    if (v) {
        r = check_map_keys(v, "models", 63, err);
        if (r < 0)
            return r;
        cJSON_ArrayForEach(it, v)
        {
            if (!cJSON_IsString(it) || strlen(it->valuestring) == 0 ||
                strlen(it->valuestring) > 63 || !printable(it->valuestring))
                return json_fail(err, "/models", it->string,
                                 "must be a catalog model id of 1..63 printable bytes");
        }
    }
    v = cJSON_GetObjectItemCaseSensitive(options, "counts");
    if (v) {
        r = check_map_keys(v, "counts", 128, err);
        if (r < 0)
            return r;
        cJSON_ArrayForEach(it, v)
        {
            if (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble) ||
                it->valuedouble < 1 || it->valuedouble > SP_MAX_GPUS)
                return json_fail(err, "/counts", it->string,
                                 "must be a whole number of accelerators from 1 to %d",
                                 SP_MAX_GPUS);
        }
    }
    return 0;
}

static const cJSON *map_find(const cJSON *map, const char *key)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, map)
    {
        if (it->string && strcasecmp(it->string, key) == 0)
            return it;
    }
    return NULL;
}

/* The pool name of a SkyPilot accelerator: the operator's alias, else the built-in one. */
static const char *pool_name(const cJSON *models, const char *name)
{
    const cJSON *m = map_find(models, name);
    if (m)
        return m->valuestring;
    for (size_t i = 0; i < sizeof(builtin_names) / sizeof(builtin_names[0]); i++) {
        if (strcasecmp(builtin_names[i].skypilot, name) == 0)
            return builtin_names[i].model;
    }
    return name;
}

enum sp_column { COL_INSTANCE, COL_ACC_NAME, COL_ACC_COUNT, COL_PRICE, COL_SPOT, COL_REGION, NCOL };

static const struct {
    const char *name;
    bool required;
} columns[NCOL] = {
    [COL_INSTANCE] = {"InstanceType", false},
    [COL_ACC_NAME] = {"AcceleratorName", true},
    [COL_ACC_COUNT] = {"AcceleratorCount", true},
    [COL_PRICE] = {"Price", true},
    [COL_SPOT] = {"SpotPrice", false},
    [COL_REGION] = {"Region", false},
};

/* Finds each known column in the header; unknown columns are ignored. */
static int read_header(struct csv *c, bool need_region, int *col, size_t *ret_n,
                       struct json_error *err)
{
    int r = csv_next(c, err);
    if (r < 0)
        return r;
    if (r == 0)
        return json_fail(err, "", NULL, "the document is empty; a vms.csv header is expected");
    for (int k = 0; k < NCOL; k++)
        col[k] = -1;
    for (size_t i = 0; i < c->nfields; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcasecmp(csv_field(c, i), csv_field(c, j)) == 0 && !blank(csv_field(c, i)))
                return csv_fail(err, c->record_line, NULL, "column %s appears twice",
                                printable(csv_field(c, i)) ? csv_field(c, i) : "?");
        }
        for (int k = 0; k < NCOL; k++) {
            if (strcasecmp(csv_field(c, i), columns[k].name) == 0)
                col[k] = (int)i;
        }
    }
    for (int k = 0; k < NCOL; k++) {
        if (col[k] < 0 && (columns[k].required || (k == COL_REGION && need_region)))
            return csv_fail(err, c->record_line, NULL,
                            "the header has no %s column (not a SkyPilot vms.csv?)",
                            columns[k].name);
    }
    *ret_n = c->nfields;
    return 0;
}

struct sp_state {
    const cJSON *options;
    const char *region; /* borrowed from options, or NULL */
    const char *currency;
    double max_price; /* per card-hour */
    int col[NCOL];
    size_t nfields; /* of the header */
    long skipped;   /* rows dropped by the sanity bounds */
    size_t cap;     /* slots in snap.pools */
};

static int add_price(struct sp_state *st, struct feed_snapshot *snap, const char *model,
                     double card, double card_spot, struct json_error *err)
{
    struct pool_snapshot *p = NULL;
    for (size_t k = 0; k < snap->npools && !p; k++) {
        if (strcasecmp(snap->pools[k].model, model) == 0)
            p = &snap->pools[k];
    }
    if (p) {
        /* Strictly cheaper only: the first row wins ties, so duplicates change nothing. */
        if (card < p->price) {
            p->price = card;
            p->spot_price = card_spot;
        }
        return 0;
    }
    if (snap->npools == ADAPTER_MAX_POOLS)
        return json_fail(err, "", NULL, "the catalog names more than %d accelerator models",
                         ADAPTER_MAX_POOLS);
    if (snap->npools == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 16;
        struct pool_snapshot *n = realloc(snap->pools, cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        snap->pools = n;
        st->cap = cap;
    }
    p = &snap->pools[snap->npools++];
    memset(p, 0, sizeof(*p));
    snprintf(p->model, sizeof(p->model), "%s", model);
    snprintf(p->currency, sizeof(p->currency), "%s", st->currency);
    p->has_price = true;
    p->price = card;
    p->spot_price = card_spot;
    p->memory_gib = -1;
    p->domestic = -1;
    for (int k = 0; k < PREC_COUNT; k++)
        p->tflops[k] = -1;
    return 0;
}

/* One data row: priced into snap, skipped, or -EINVAL naming line and column. */
static int read_row(struct sp_state *st, struct csv *c, struct feed_snapshot *snap,
                    struct json_error *err)
{
    const int *col = st->col;
    double count = 0, price = 0, spot = -1;

    if (c->nfields != st->nfields) {
        return csv_fail(err, c->record_line, NULL, "has %zu fields, the header %zu", c->nfields,
                        st->nfields);
    }
    const char *name = csv_field(c, (size_t)col[COL_ACC_NAME]);
    if (blank(name))
        return 0; /* a CPU size, or a GCP host row priced without its GPUs */
    if (strlen(name) > sizeof(snap->pools[0].model) - 1 || !printable(name))
        return csv_fail(err, c->record_line, "AcceleratorName",
                        "a model name must be 1..63 printable bytes");
    if (st->region && strcasecmp(csv_field(c, (size_t)col[COL_REGION]), st->region) != 0)
        return 0;
    const char *instance = col[COL_INSTANCE] >= 0 ? csv_field(c, (size_t)col[COL_INSTANCE]) : "";
    const cJSON *fix =
        instance[0] ? map_find(cJSON_GetObjectItemCaseSensitive(st->options, "counts"), instance)
                    : NULL;
    if (fix) {
        count = fix->valuedouble; /* the operator corrects an upstream count */
    } else {
        const char *cs = csv_field(c, (size_t)col[COL_ACC_COUNT]);
        if (blank(cs))
            return 0; /* unknown count: no price per card */
        if (!parse_number(cs, &count) || count < 0)
            return csv_fail(err, c->record_line, "AcceleratorCount",
                            "'%.32s' is not a count of accelerators", cs);
        /* 0 has no card to price; a fraction is a vGPU slice, not a card one can rent. */
        if (count == 0 || count != floor(count))
            return 0;
        if (count > SP_MAX_GPUS) {
            st->skipped++;
            return 0;
        }
    }
    double raw;
    if (col[COL_PRICE] >= 0 && !blank(csv_field(c, (size_t)col[COL_PRICE]))) {
        if (!parse_number(csv_field(c, (size_t)col[COL_PRICE]), &raw) || raw < 0)
            return csv_fail(err, c->record_line, "Price", "'%.32s' is not a price",
                            csv_field(c, (size_t)col[COL_PRICE]));
    } else {
        return 0; /* empty Price: unknown, never 0 */
    }
    if (raw == SP_PLACEHOLDER || raw / count > st->max_price) {
        st->skipped++;
        return 0;
    }
    price = raw;
    if (col[COL_SPOT] >= 0 && !blank(csv_field(c, (size_t)col[COL_SPOT]))) {
        double s;
        if (!parse_number(csv_field(c, (size_t)col[COL_SPOT]), &s) || s < 0)
            return csv_fail(err, c->record_line, "SpotPrice", "'%.32s' is not a price",
                            csv_field(c, (size_t)col[COL_SPOT]));
        /* Equal to Price is how the catalog says spot is not offered (Azure H100). */
        if (s != price && s != SP_PLACEHOLDER && s / count <= st->max_price)
            spot = s / count;
    }
    return add_price(st, snap,
                     pool_name(cJSON_GetObjectItemCaseSensitive(st->options, "models"), name),
                     price / count, spot, err);
}

static int skypilot_parse(const char *text, size_t len, const cJSON *options,
                          struct feed_snapshot *ret, struct json_error *err)
{
    struct feed_snapshot snap = {0};
    struct sp_state st = {0};
    struct csv c = {0};
    struct json_error oerr = {0};
    int r;

    memset(ret, 0, sizeof(*ret));
    if (skypilot_check(options, &oerr) < 0)
        return json_fail(err, "", NULL, "bad options: %s: %s", oerr.pointer, oerr.detail);
    if (!text || len == 0)
        return json_fail(err, "", NULL, "the document is empty; a vms.csv header is expected");
    if (memchr(text, '\0', len))
        return json_fail(err, "", NULL, "the document holds a NUL byte; CSV text is expected");
    st.options = options;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(options, "region");
    st.region = v ? v->valuestring : NULL;
    v = cJSON_GetObjectItemCaseSensitive(options, "currency");
    st.currency = v ? v->valuestring : "USD";
    v = cJSON_GetObjectItemCaseSensitive(options, "max_price");
    st.max_price = v ? v->valuedouble : SP_DEFAULT_MAX_PRICE;

    c.p = text;
    c.end = text + len;
    c.line = 1;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        c.p += 3; /* a UTF-8 byte order mark */
    c.buf = malloc(CSV_MAX_RECORD);
    if (!c.buf)
        return -ENOMEM;
    r = read_header(&c, st.region != NULL, st.col, &st.nfields, err);
    if (r < 0)
        goto out;
    for (;;) {
        r = csv_next(&c, err);
        if (r < 0)
            goto out;
        if (r == 0)
            break;
        r = read_row(&st, &c, &snap, err);
        if (r < 0)
            goto out;
    }
    if (st.skipped > 0)
        snprintf(snap.warning, sizeof(snap.warning),
                 "%ld row(s) skipped: price 700.0 (a catalog placeholder), price above "
                 "max_price %g per card-hour, or more than %d accelerators",
                 st.skipped, st.max_price, SP_MAX_GPUS);
    *ret = snap;
    memset(&snap, 0, sizeof(snap));
    r = 0;
out:
    free(c.buf);
    feed_snapshot_free(&snap);
    return r;
}

static const struct adapter_option skypilot_options[] = {
    {"region", "string", false, "only rows of this Region (e.g. \"eastus\", \"us-central1\")"},
    {"currency", "string", false, "ISO 4217 code of the catalog's prices (default USD)"},
    {"max_price", "number", false,
     "sanity bound: rows above this price per card-hour are skipped (default 1000)"},
    {"counts", "object", false,
     "InstanceType -> accelerators per instance, correcting upstream counts (e.g. "
     "{\"Standard_ND96isr_H100_v5\": 8})"},
    {"models", "object", false,
     "AcceleratorName -> catalog model id (a site's alias table; default maps SkyPilot's "
     "40GB \"A100\" to \"A100-PCIE-40GB\")"},
    {NULL, NULL, false, NULL},
};

const struct adapter adapter_skypilot_csv = {
    .name = "skypilot-csv",
    .description = "SkyPilot catalog vms.csv (any cloud): cheapest list and spot price per "
                   "card-hour per accelerator model",
    .push = false,
    .pull = true,
    .options = skypilot_options,
    .parse = skypilot_parse,
    .check_options = skypilot_check,
};
