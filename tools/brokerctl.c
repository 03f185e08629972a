/*
 * brokerctl — the command-line client of the suanwang compute-network broker (算力网 dispatcher).
 *
 * One invocation is one request to brokerd's HTTP/2 API (cleartext with prior knowledge, or h2
 * over TLS for https URLs), made with libcurl's easy interface. Answers print as aligned tables,
 * or as the broker's own JSON with --json. The tool keeps no state and decides nothing: every
 * figure comes from the broker, except the one-sentence explanation `explain` composes when a
 * decision record carries none. Commands are rows of one table; exit codes are listed in usage().
 */

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

#define DEFAULT_URL "http://127.0.0.1:8080"
#define BODY_MAX ((size_t)16 << 20) /* cap on a response body and on an input file */
#define TEXT_MAX ((size_t)64 << 10) /* cap on composed lines (summaries, joined lists) */
#define CONNECT_TIMEOUT_MS 5000L
#define TOTAL_TIMEOUT_MS 30000L
#define POS_MAX 4 /* positional arguments of any command */
#define TABLE_COLS_MAX 16
#define TABLE_CELLS_MAX ((size_t)1 << 20)
#define CELL_BYTES_MAX 4096
#define WRAP_COLS 100
#define REASONS_MAX 64           /* distinct reject reasons counted from a decision */
#define SCORE_EPS 1e-9           /* scores within this are equal (SPEC §2) */
#define END ((const char *)NULL) /* ends the column list of table_init() */

/* Exit codes; usage() documents them. */
enum {
    RC_OK = 0,          /* success */
    RC_SERVER = 1,      /* the broker answered an error, or an answer that could not be used */
    RC_USAGE = 2,       /* bad command line, or an input file that cannot be read */
    RC_UNREACHABLE = 3, /* the broker could not be reached: connect, TLS, timeout */
    RC_NOFIT = 4,       /* route/hold: nothing fits (409 no capacity) */
    RC_HELP = -1,       /* internal: help was printed, exit 0 */
};

/* ---------------------------------------------------------------------------------------------
 * Growable byte buffers, each with a hard cap.
 */

struct buf {
    char *data; /* owned; NUL-terminated once anything was appended */
    size_t len; /* bytes in data, without the NUL */
    size_t cap; /* bytes allocated */
    size_t max; /* hard cap on len; 0 means BODY_MAX */
};

/* Appends n bytes; returns 0, -E2BIG past the buffer's cap or -ENOMEM. */
static int buf_append(struct buf *b, const void *p, size_t n)
{
    size_t max = b->max ? b->max : BODY_MAX;
    size_t cap;
    char *data;

    if (b->len > max || n > max - b->len)
        return -E2BIG;
    if (b->len + n + 1 > b->cap) {
        cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        data = realloc(b->data, cap);
        if (!data)
            return -ENOMEM;
        b->data = data;
        b->cap = cap;
    }
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

static int buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

/* printf onto the buffer; returns 0, -E2BIG, -ENOMEM or -EINVAL. */
PRINTF_LIKE(2, 3) static int buf_printf(struct buf *b, const char *fmt, ...)
{
    char small[512];
    char *big;
    va_list ap;
    int n;
    int rc;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    if ((size_t)n < sizeof small)
        return buf_append(b, small, (size_t)n);
    big = malloc((size_t)n + 1);
    if (!big)
        return -ENOMEM;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    rc = buf_append(b, big, (size_t)n);
    free(big);
    return rc;
}

static const char *buf_str(const struct buf *b)
{
    return b->data ? b->data : "";
}

static void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

/* ---------------------------------------------------------------------------------------------
 * Terminal text: display width of UTF-8 (CJK center names are two columns wide) and scrubbing of
 * control bytes, since names and error messages come from operators' feeds.
 */

/* Decodes one UTF-8 sequence of the NUL-terminated s into *ret_cp and returns its length; a
 * malformed byte decodes as U+FFFD of length 1. */
static size_t utf8_next(const unsigned char *s, uint32_t *ret_cp)
{
    uint32_t cp;
    size_t n;
    size_t i;

    if (s[0] < 0x80) {
        *ret_cp = s[0];
        return 1;
    }
    if ((s[0] & 0xE0) == 0xC0) {
        cp = s[0] & 0x1F;
        n = 2;
    } else if ((s[0] & 0xF0) == 0xE0) {
        cp = s[0] & 0x0F;
        n = 3;
    } else if ((s[0] & 0xF8) == 0xF0) {
        cp = s[0] & 0x07;
        n = 4;
    } else {
        *ret_cp = 0xFFFD;
        return 1;
    }
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *ret_cp = 0xFFFD;
            return 1;
        }
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    *ret_cp = cp;
    return n;
}

/* Terminal columns of one code point: 0 for combining marks, 2 for East Asian wide ones. */
static size_t cp_width(uint32_t cp)
{
    static const uint32_t zero[][2] = {{0x0300, 0x036F}, {0x200B, 0x200F}, {0xFE00, 0xFE0F}};
    static const uint32_t wide[][2] = {
        {0x1100, 0x115F},   {0x2E80, 0x303E},   {0x3041, 0x33FF}, {0x3400, 0x4DBF},
        {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},   {0xAC00, 0xD7A3}, {0xF900, 0xFAFF},
        {0xFE30, 0xFE4F},   {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6}, {0x1F300, 0x1F64F},
        {0x1F900, 0x1F9FF}, {0x20000, 0x3FFFD},
    };
    size_t i;

    for (i = 0; i < sizeof zero / sizeof zero[0]; i++) {
        if (cp >= zero[i][0] && cp <= zero[i][1])
            return 0;
    }
    for (i = 0; i < sizeof wide / sizeof wide[0]; i++) {
        if (cp >= wide[i][0] && cp <= wide[i][1])
            return 2;
    }
    return 1;
}

static size_t display_width(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    uint32_t cp;
    size_t w = 0;

    while (*p) {
        p += utf8_next(p, &cp);
        w += cp_width(cp);
    }
    return w;
}

static bool is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7F;
}

/* What a byte of server text prints as: line breaks and tabs as a space, other control bytes
 * as '?', so that text cannot drive the terminal or break a table row. */
static char printable(char c)
{
    if (c == '\n' || c == '\r' || c == '\t')
        return ' ';
    return is_control((unsigned char)c) ? '?' : c;
}

static void scrub(char *s)
{
    for (; *s; s++)
        *s = printable(*s);
}

static void put_clean(FILE *f, const char *s)
{
    for (; *s; s++)
        fputc(printable(*s), f);
}

static void pad(FILE *f, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        fputc(' ', f);
}

/* Prints prefix then text, word-wrapped at WRAP_COLS with continuation lines indented to the
 * prefix; whitespace and control bytes separate words. */
static void print_wrapped(const char *prefix, const char *text)
{
    size_t indent = display_width(prefix);
    size_t col = indent;
    const char *p = text;
    const char *word;
    char chunk[CELL_BYTES_MAX];
    size_t n;
    size_t w;
    bool first = true;

    fputs(prefix, stdout);
    for (;;) {
        while (*p && (unsigned char)*p <= 0x20)
            p++;
        if (!*p)
            break;
        word = p;
        while (*p && (unsigned char)*p > 0x20)
            p++;
        n = (size_t)(p - word);
        if (n >= sizeof chunk)
            n = sizeof chunk - 1;
        memcpy(chunk, word, n);
        chunk[n] = '\0';
        scrub(chunk);
        w = display_width(chunk);
        if (!first && col + 1 + w > WRAP_COLS) {
            fputc('\n', stdout);
            pad(stdout, indent);
            col = indent;
        } else if (!first) {
            fputc(' ', stdout);
            col++;
        }
        fputs(chunk, stdout);
        col += w;
        first = false;
    }
    fputc('\n', stdout);
}

/* ---------------------------------------------------------------------------------------------
 * Tables: cells are formatted as they come, column widths are computed at print time.
 */

struct table {
    int ncols;
    const char *head[TABLE_COLS_MAX]; /* borrowed literals, without the '>' marker */
    bool right[TABLE_COLS_MAX];       /* right-aligned (numbers) */
    bool headless;                    /* every head empty: a key/value list */
    const char *indent;               /* borrowed: printed before each line */
    char **cell;                      /* owned: row-major cells, each owned */
    size_t ncell;
    size_t cap;
    bool failed; /* a cell was dropped: out of memory or past TABLE_CELLS_MAX */
};

/* Adds a column before any cell; a head starting with '>' is a right-aligned column. The head
 * is borrowed. Columns past TABLE_COLS_MAX are ignored. */
static void table_column(struct table *t, const char *head)
{
    if (t->ncols == TABLE_COLS_MAX || t->ncell > 0)
        return;
    t->right[t->ncols] = head[0] == '>';
    t->head[t->ncols] = head[0] == '>' ? head + 1 : head;
    if (t->head[t->ncols][0])
        t->headless = false;
    t->ncols++;
}

/* Takes the column heads (see table_column()), then END. All heads empty: a key/value list. */
static void table_init(struct table *t, ...)
{
    va_list ap;
    const char *h;

    memset(t, 0, sizeof *t);
    t->headless = true;
    t->indent = "";
    va_start(ap, t);
    for (;;) {
        h = va_arg(ap, const char *);
        if (!h)
            break;
        table_column(t, h);
    }
    va_end(ap);
}

/* Appends one cell, printf-style; rows fill left to right. */
PRINTF_LIKE(2, 3) static void table_add(struct table *t, const char *fmt, ...)
{
    char text[CELL_BYTES_MAX];
    char **cell;
    char *copy;
    size_t cap;
    va_list ap;

    if (t->ncell >= TABLE_CELLS_MAX) {
        t->failed = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    scrub(text);
    if (t->ncell == t->cap) {
        cap = t->cap ? t->cap * 2 : 64;
        cell = realloc(t->cell, cap * sizeof *cell);
        if (!cell) {
            t->failed = true;
            return;
        }
        t->cell = cell;
        t->cap = cap;
    }
    copy = strdup(text);
    if (!copy) {
        t->failed = true;
        return;
    }
    t->cell[t->ncell++] = copy;
}

static size_t table_rows(const struct table *t)
{
    return t->ncols ? (t->ncell + (size_t)t->ncols - 1) / (size_t)t->ncols : 0;
}

static void table_line(const struct table *t, const size_t *width, const char *const *text)
{
    size_t w;
    int c;
    int last = t->ncols - 1;

    /* Trailing empty cells of a left-aligned tail print nothing: no trailing blanks. */
    while (last > 0 && !t->right[last] && !text[last][0])
        last--;
    fputs(t->indent, stdout);
    for (c = 0; c <= last; c++) {
        w = display_width(text[c]);
        if (c > 0)
            fputs("  ", stdout);
        if (t->right[c])
            pad(stdout, width[c] - w);
        fputs(text[c], stdout);
        if (!t->right[c] && c < last)
            pad(stdout, width[c] - w);
    }
    fputc('\n', stdout);
}

/* Prints the table; with no rows prints `empty` instead (when not NULL). */
static void table_print(const struct table *t, const char *empty)
{
    size_t width[TABLE_COLS_MAX] = {0};
    const char *text[TABLE_COLS_MAX];
    size_t rows = table_rows(t);
    size_t r;
    size_t i;
    size_t w;
    int c;

    if (rows == 0) {
        if (empty)
            printf("%s%s\n", t->indent, empty);
        return;
    }
    for (c = 0; c < t->ncols; c++)
        width[c] = t->headless ? 0 : display_width(t->head[c]);
    for (i = 0; i < t->ncell; i++) {
        w = display_width(t->cell[i]);
        c = (int)(i % (size_t)t->ncols);
        if (w > width[c])
            width[c] = w;
    }
    if (!t->headless)
        table_line(t, width, t->head);
    for (r = 0; r < rows; r++) {
        for (c = 0; c < t->ncols; c++) {
            i = r * (size_t)t->ncols + (size_t)c;
            text[c] = i < t->ncell ? t->cell[i] : "";
        }
        table_line(t, width, text);
    }
    if (t->failed)
        fprintf(stderr, "brokerctl: out of memory: table truncated\n");
}

static void table_free(struct table *t)
{
    size_t i;

    for (i = 0; i < t->ncell; i++)
        free(t->cell[i]);
    free(t->cell);
    t->cell = NULL;
    t->ncell = 0;
    t->cap = 0;
}

/* A key/value row, skipped when value is NULL. */
static void kv(struct table *t, const char *key, const char *value)
{
    if (!value)
        return;
    table_add(t, "%s", key);
    table_add(t, "%s", value);
}

/* ---------------------------------------------------------------------------------------------
 * Numbers as text. Returned by value: the array lives until the end of the caller's expression.
 */

struct text {
    char s[64];
};

/* Money: two decimals with thousands separators, "131,328.00". */
static struct text fmt_money(double v)
{
    struct text t;
    char digits[48];
    const char *dot;
    size_t intlen;
    size_t i;
    size_t o = 0;

    if (!isfinite(v) || fabs(v) >= 1e15) {
        snprintf(t.s, sizeof t.s, "%.6g", v);
        return t;
    }
    snprintf(digits, sizeof digits, "%.2f", fabs(v));
    if (v < 0 && strcmp(digits, "0.00") != 0)
        t.s[o++] = '-';
    dot = strchr(digits, '.');
    intlen = dot ? (size_t)(dot - digits) : strlen(digits);
    for (i = 0; i < intlen; i++) {
        t.s[o++] = digits[i];
        if (i + 1 < intlen && (intlen - i - 1) % 3 == 0)
            t.s[o++] = ',';
    }
    snprintf(t.s + o, sizeof t.s - o, "%s", digits + intlen);
    return t;
}

/* A count or a plain figure: integers without decimals, others with up to 10 digits. */
static struct text fmt_num(double v)
{
    struct text t;

    if (v == 0)
        snprintf(t.s, sizeof t.s, "0");
    else if (fabs(v) < 1e15 && v == floor(v))
        snprintf(t.s, sizeof t.s, "%.0f", v);
    else
        snprintf(t.s, sizeof t.s, "%.10g", v);
    return t;
}

static struct text fmt_fixed(double v, int decimals)
{
    struct text t;

    snprintf(t.s, sizeof t.s, "%.*f", decimals, v);
    return t;
}

/* An age in seconds: "45s", "3m05s", "2h07m", "3d04h". */
static struct text fmt_age(double s)
{
    struct text t;
    long v = isfinite(s) && s > 0 && s < 1e12 ? (long)(s + 0.5) : 0;

    if (v < 60)
        snprintf(t.s, sizeof t.s, "%lds", v);
    else if (v < 3600)
        snprintf(t.s, sizeof t.s, "%ldm%02lds", v / 60, v % 60);
    else if (v < 86400)
        snprintf(t.s, sizeof t.s, "%ldh%02ldm", v / 3600, v % 3600 / 60);
    else
        snprintf(t.s, sizeof t.s, "%ldd%02ldh", v / 86400, v % 86400 / 3600);
    return t;
}

/* Elapsed microseconds: "42 us", "1.25 ms", "2.50 s". */
static struct text fmt_elapsed(double us)
{
    struct text t;

    if (us < 1000)
        snprintf(t.s, sizeof t.s, "%.0f us", us);
    else if (us < 1e6)
        snprintf(t.s, sizeof t.s, "%.2f ms", us / 1e3);
    else
        snprintf(t.s, sizeof t.s, "%.2f s", us / 1e6);
    return t;
}

/* ---------------------------------------------------------------------------------------------
 * Reading the broker's JSON. Every getter tolerates a missing or mistyped field.
 */

static const cJSON *jget(const cJSON *o, const char *key)
{
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = jget(o, key);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *jstr_or(const cJSON *o, const char *key, const char *dflt)
{
    const char *s = jstr(o, key);

    return s ? s : dflt;
}

static bool jnum(const cJSON *o, const char *key, double *ret)
{
    const cJSON *v = jget(o, key);

    if (!cJSON_IsNumber(v))
        return false;
    *ret = v->valuedouble;
    return true;
}

static bool jtrue(const cJSON *o, const char *key)
{
    return cJSON_IsTrue(jget(o, key));
}

/* "yes"/"no" for a bool field, "-" when absent. */
static const char *jyesno(const cJSON *o, const char *key)
{
    const cJSON *v = jget(o, key);

    if (!cJSON_IsBool(v))
        return "-";
    return cJSON_IsTrue(v) ? "yes" : "no";
}

static struct text jmoney(const cJSON *o, const char *key)
{
    struct text t = {"-"};
    double v;

    if (jnum(o, key, &v))
        t = fmt_money(v);
    return t;
}

static struct text jcount(const cJSON *o, const char *key)
{
    struct text t = {"-"};
    double v;

    if (jnum(o, key, &v))
        t = fmt_num(v);
    return t;
}

static struct text jfixed(const cJSON *o, const char *key, int decimals)
{
    struct text t = {"-"};
    double v;

    if (jnum(o, key, &v))
        t = fmt_fixed(v, decimals);
    return t;
}

/* The string items of an array joined by sep; non-strings are skipped. */
static void join_strings(const cJSON *arr, const char *sep, struct buf *out)
{
    const cJSON *it;
    bool first = true;

    cJSON_ArrayForEach(it, arr)
    {
        if (!cJSON_IsString(it))
            continue;
        if (!first)
            buf_puts(out, sep);
        buf_puts(out, it->valuestring);
        first = false;
    }
}

/* Any JSON value as one line of text: strings bare, numbers plain, others compact JSON. */
static void value_text(const cJSON *v, struct buf *out)
{
    char *json;

    if (cJSON_IsString(v)) {
        buf_puts(out, v->valuestring);
    } else if (cJSON_IsNumber(v)) {
        buf_puts(out, fmt_num(v->valuedouble).s);
    } else if (cJSON_IsNull(v) || !v) {
        buf_puts(out, "-");
    } else {
        json = cJSON_PrintUnformatted(v);
        if (json)
            buf_puts(out, json);
        free(json);
    }
}

/* "center/model×cards" for each piece, comma-joined; "-" for none. */
static void pieces_text(const cJSON *pieces, struct buf *out)
{
    const cJSON *p;
    bool first = true;

    cJSON_ArrayForEach(p, pieces)
    {
        buf_printf(out, "%s%s/%s\xC3\x97%s", first ? "" : ", ", jstr_or(p, "center", "?"),
                   jstr_or(p, "model", "?"), jcount(p, "cards").s);
        first = false;
    }
    if (first)
        buf_puts(out, "-");
}

/* ---------------------------------------------------------------------------------------------
 * The command line: global options, command-specific flags (tables), positional arguments.
 */

struct ctx {
    const char *url_arg; /* borrowed: --url or SUANWANG_URL, NULL for the default */
    char *url;           /* owned: the broker's base URL without trailing slashes */
    const char *token;   /* borrowed: --token or SUANWANG_TOKEN; sent, never printed */
    const char *cacert;  /* borrowed: --cacert FILE for https */
    bool json;           /* print the broker's JSON instead of tables */
};

enum flag_kind {
    FLAG_STRING,  /* "field": value */
    FLAG_NUMBER,  /* "field": number */
    FLAG_INTEGER, /* "field": integer */
    FLAG_TRUE,    /* switch: "field": true */
    FLAG_FALSE,   /* switch: "field": false */
    FLAG_LIST,    /* repeatable: value appended to the array "field" */
    FLAG_LABEL,   /* repeatable K=V: "field": {K: V} */
    FLAG_WEIGHTS, /* cost=X,latency=Y,balance=Z: "field": {numbers} */
    FLAG_HEADER,  /* sent as the HTTP header named by field, not in the body */
};

struct flag {
    const char *name;    /* "--cards" */
    const char *metavar; /* value placeholder for usage; NULL for switches */
    enum flag_kind kind;
    const char *field; /* JSON field of the request body, or header name */
    const char *help;
};

struct args {
    const char *pos[POS_MAX]; /* borrowed from argv */
    int npos;
    cJSON *flags;              /* owned: the command's flags as JSON fields (a request body) */
    const char *header_value;  /* borrowed: the value of a FLAG_HEADER flag, or NULL */
    const struct flag *header; /* borrowed: which FLAG_HEADER flag */
};

struct reply {
    long status; /* HTTP status; 0 until an answer arrived */
    struct buf body;
    bool toobig; /* the body passed BODY_MAX and the transfer was cut */
    cJSON *json; /* owned: the body parsed, NULL when it is not JSON */
};

struct command {
    const char *name;
    const char *synopsis; /* arguments, for usage */
    const char *help;     /* one line */
    int min_pos;
    int max_pos;
    const struct flag *flags; /* command-specific flags, ending with a NULL name; or NULL */
    int (*run)(struct ctx *ctx, const struct command *cmd, struct args *a);
    const char *method; /* for run_simple/run_file: HTTP method */
    const char *path;   /* for run_simple/run_file: "%s" takes the first argument, escaped */
    int (*show)(const struct reply *r); /* prints a successful answer as text */
};

static const struct command *command_find(const char *name);
static void usage(FILE *f);
static void usage_command(FILE *f, const struct command *cmd);

PRINTF_LIKE(2, 3) static int usage_error(const struct command *cmd, const char *fmt, ...)
{
    va_list ap;

    fputs("brokerctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (cmd)
        fprintf(stderr, "usage: brokerctl %s%s%s\n", cmd->name, cmd->synopsis[0] ? " " : "",
                cmd->synopsis);
    fputs("run 'brokerctl help' for commands, options and exit codes\n", stderr);
    return RC_USAGE;
}

static int oom(void)
{
    fputs("brokerctl: out of memory\n", stderr);
    return RC_SERVER;
}

/* A number the way JSON writes one: no hex, infinities or NaN. */
static bool parse_number(const char *s, bool integer, double *ret)
{
    const char *p;
    char *end;
    double v;

    if (!*s)
        return false;
    for (p = s; *p; p++) {
        if (!strchr(integer ? "+-0123456789" : "+-0123456789.eE", *p))
            return false;
    }
    errno = 0;
    v = strtod(s, &end);
    if (*end || errno == ERANGE || !isfinite(v))
        return false;
    if (integer && fabs(v) > 9007199254740992.0)
        return false;
    *ret = v;
    return true;
}

/* 1 and *ret set when argv[*i] is `name VALUE` or `name=VALUE`, 0 when it is not name, -1 when
 * name lacks its value (reported). */
static int opt_value(int argc, char **argv, int *i, const char *name, const char **ret)
{
    const char *arg = argv[*i];
    size_t n = strlen(name);

    if (strncmp(arg, name, n) != 0)
        return 0;
    if (arg[n] == '=') {
        *ret = arg + n + 1;
        return 1;
    }
    if (arg[n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        usage_error(NULL, "%s needs a value", name);
        return -1;
    }
    *i += 1;
    *ret = argv[*i];
    return 1;
}

/* Global options, accepted before and after the command: 1 consumed, 0 not one, -1 error. */
static int global_opt(struct ctx *ctx, int argc, char **argv, int *i)
{
    int r;

    if (strcmp(argv[*i], "--json") == 0) {
        ctx->json = true;
        return 1;
    }
    r = opt_value(argc, argv, i, "--url", &ctx->url_arg);
    if (r != 0)
        return r;
    r = opt_value(argc, argv, i, "--token", &ctx->token);
    if (r != 0)
        return r;
    return opt_value(argc, argv, i, "--cacert", &ctx->cacert);
}

static bool has_control(const char *s)
{
    for (; *s; s++) {
        if (is_control((unsigned char)*s))
            return true;
    }
    return false;
}

/* The flag of the same field with the opposite switch kind, for conflict messages. */
static const char *flag_opposite(const struct command *cmd, const struct flag *f)
{
    const struct flag *o;

    for (o = cmd->flags; o && o->name; o++) {
        if (o != f && strcmp(o->field, f->field) == 0 && o->kind != f->kind)
            return o->name;
    }
    return "an earlier flag";
}

static int flag_weights(const struct command *cmd, const struct flag *f, const char *val,
                        cJSON *into)
{
    static const char *const keys[] = {"cost", "latency", "balance"};
    char item[256];
    const char *p = val;
    const char *comma;
    char *eq;
    size_t n;
    size_t k;
    double v;
    cJSON *obj = cJSON_AddObjectToObject(into, f->field);

    if (!obj)
        return oom();
    while (*p) {
        comma = strchr(p, ',');
        n = comma ? (size_t)(comma - p) : strlen(p);
        if (n == 0 || n >= sizeof item)
            return usage_error(cmd, "%s: expected cost=X,latency=Y,balance=Z", f->name);
        memcpy(item, p, n);
        item[n] = '\0';
        eq = strchr(item, '=');
        if (!eq)
            return usage_error(cmd, "%s: '%s' is not KEY=NUMBER", f->name, item);
        *eq = '\0';
        for (k = 0; k < 3; k++) {
            if (strcmp(item, keys[k]) == 0)
                break;
        }
        if (k == 3)
            return usage_error(cmd, "%s: unknown weight '%s' (cost, latency, balance)", f->name,
                               item);
        if (cJSON_GetObjectItemCaseSensitive(obj, item))
            return usage_error(cmd, "%s: weight '%s' given twice", f->name, item);
        if (!parse_number(eq + 1, false, &v))
            return usage_error(cmd, "%s: weight %s: '%s' is not a number", f->name, item, eq + 1);
        if (!cJSON_AddNumberToObject(obj, item, v))
            return oom();
        p += n;
        if (*p == ',')
            p++;
    }
    if (!obj->child)
        return usage_error(cmd, "%s: expected cost=X,latency=Y,balance=Z", f->name);
    return RC_OK;
}

/* Applies one command flag to a->flags (or a->header_value); returns RC_OK or an exit code. */
static int flag_apply(const struct command *cmd, const struct flag *f, const char *val,
                      struct args *a)
{
    cJSON *old = cJSON_GetObjectItemCaseSensitive(a->flags, f->field);
    cJSON *item = NULL;
    const char *eq;
    double v;
    char *key;
    bool on;

    if (old && (f->kind == FLAG_STRING || f->kind == FLAG_NUMBER || f->kind == FLAG_INTEGER ||
                f->kind == FLAG_WEIGHTS))
        return usage_error(cmd, "%s given twice", f->name);
    switch (f->kind) {
    case FLAG_STRING:
        if (!*val)
            return usage_error(cmd, "%s: empty value", f->name);
        item = cJSON_AddStringToObject(a->flags, f->field, val);
        break;
    case FLAG_NUMBER:
    case FLAG_INTEGER:
        if (!parse_number(val, f->kind == FLAG_INTEGER, &v))
            return usage_error(cmd, "%s: '%s' is not %s", f->name, val,
                               f->kind == FLAG_INTEGER ? "an integer" : "a number");
        item = cJSON_AddNumberToObject(a->flags, f->field, v);
        break;
    case FLAG_TRUE:
    case FLAG_FALSE:
        on = f->kind == FLAG_TRUE;
        if (old && cJSON_IsTrue(old) != on)
            return usage_error(cmd, "%s contradicts %s", f->name, flag_opposite(cmd, f));
        item = old ? old : cJSON_AddBoolToObject(a->flags, f->field, on);
        break;
    case FLAG_LIST:
        if (!*val)
            return usage_error(cmd, "%s: empty value", f->name);
        item = old ? old : cJSON_AddArrayToObject(a->flags, f->field);
        if (item && !cJSON_AddItemToArray(item, cJSON_CreateString(val)))
            item = NULL;
        break;
    case FLAG_LABEL:
        eq = strchr(val, '=');
        if (!eq || eq == val)
            return usage_error(cmd, "%s: '%s' is not KEY=VALUE", f->name, val);
        item = old ? old : cJSON_AddObjectToObject(a->flags, f->field);
        key = strndup(val, (size_t)(eq - val));
        if (!item || !key) {
            free(key);
            return oom();
        }
        if (cJSON_GetObjectItemCaseSensitive(item, key)) {
            usage_error(cmd, "%s: label '%s' given twice", f->name, key);
            free(key);
            return RC_USAGE;
        }
        if (!cJSON_AddStringToObject(item, key, eq + 1))
            item = NULL;
        free(key);
        break;
    case FLAG_WEIGHTS:
        return flag_weights(cmd, f, val, a->flags);
    case FLAG_HEADER:
        if (a->header_value)
            return usage_error(cmd, "%s given twice", f->name);
        if (!*val || has_control(val))
            return usage_error(cmd, "%s: empty value or control characters", f->name);
        a->header = f;
        a->header_value = val;
        return RC_OK;
    }
    return item ? RC_OK : oom();
}

/* Splits the arguments after the command into global options, the command's flags and
 * positional arguments. Returns RC_OK, RC_USAGE (reported) or RC_HELP (help printed). */
static int args_parse(struct ctx *ctx, const struct command *cmd, int argc, char **argv,
                      struct args *a)
{
    const struct flag *f;
    const char *val;
    bool rest = false;
    int i;
    int r;

    a->flags = cJSON_CreateObject();
    if (!a->flags)
        return oom();
    for (i = 0; i < argc; i++) {
        if (!rest && strcmp(argv[i], "--") == 0) {
            rest = true;
            continue;
        }
        if (rest || argv[i][0] != '-' || strcmp(argv[i], "-") == 0) {
            if (a->npos == POS_MAX || a->npos == cmd->max_pos)
                return usage_error(cmd, "unexpected argument '%s'", argv[i]);
            if (!argv[i][0])
                return usage_error(cmd, "empty argument");
            a->pos[a->npos++] = argv[i];
            continue;
        }
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage_command(stdout, cmd);
            return RC_HELP;
        }
        r = global_opt(ctx, argc, argv, &i);
        if (r < 0)
            return RC_USAGE;
        if (r > 0)
            continue;
        for (f = cmd->flags; f && f->name; f++) {
            if (f->metavar) {
                r = opt_value(argc, argv, &i, f->name, &val);
            } else {
                r = strcmp(argv[i], f->name) == 0;
                val = NULL;
            }
            if (r != 0)
                break;
        }
        if (r < 0)
            return RC_USAGE;
        if (!f || !f->name)
            return usage_error(cmd, "unknown option '%s'", argv[i]);
        r = flag_apply(cmd, f, val, a);
        if (r != RC_OK)
            return r;
    }
    if (a->npos < cmd->min_pos)
        return usage_error(cmd, "%s: missing arguments", cmd->name);
    return RC_OK;
}

static void args_free(struct args *a)
{
    cJSON_Delete(a->flags);
    a->flags = NULL;
}

/* ---------------------------------------------------------------------------------------------
 * HTTP/2 transport: one libcurl easy transfer per invocation.
 */

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct reply *r = userdata;
    size_t n = size * nmemb;

    if (buf_append(&r->body, data, n) < 0) {
        r->toobig = true;
        return 0; /* curl ends the transfer with CURLE_WRITE_ERROR */
    }
    return n;
}

static bool header_add(struct curl_slist **list, const char *line)
{
    struct curl_slist *l = curl_slist_append(*list, line);

    if (!l)
        return false;
    *list = l;
    return true;
}

/* Appends tmpl to out with its "%s" replaced by arg, percent-encoded as one path segment. */
static int path_build(const char *tmpl, const char *arg, struct buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    const char *mark = strstr(tmpl, "%s");
    const unsigned char *p;
    char esc[3];
    int rc;

    if (!mark || !arg)
        return buf_puts(out, tmpl);
    rc = buf_append(out, tmpl, (size_t)(mark - tmpl));
    for (p = (const unsigned char *)arg; *p && rc == 0; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p)) {
            rc = buf_append(out, p, 1);
        } else {
            esc[0] = '%';
            esc[1] = hex[*p >> 4];
            esc[2] = hex[*p & 15];
            rc = buf_append(out, esc, 3);
        }
    }
    if (rc == 0)
        rc = buf_puts(out, mark + 2);
    return rc;
}

static bool is_https(const char *url)
{
    return strncmp(url, "https://", 8) == 0;
}

/* Sends one request and collects the answer into *ret, whatever its status. Returns RC_OK when
 * the broker answered, RC_UNREACHABLE or RC_SERVER (reported) when it did not. */
static int call(const struct ctx *ctx, const char *method, const char *path, const char *body,
                size_t body_len, const char *header, const char *header_value, struct reply *ret)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *headers = NULL;
    struct buf url = {0};
    struct buf line = {0};
    CURL *curl;
    CURLcode res;
    bool ok = true;
    int rc = RC_SERVER;

    curl = curl_easy_init();
    if (!curl || buf_puts(&url, ctx->url) < 0 || buf_puts(&url, path) < 0)
        goto oom;
    ok = header_add(&headers, "Accept: application/json, application/problem+json");
    if (ok && body)
        ok = header_add(&headers, "Content-Type: application/json");
    if (ok && ctx->token && *ctx->token) {
        ok = buf_printf(&line, "Authorization: Bearer %s", ctx->token) == 0 &&
             header_add(&headers, buf_str(&line));
        buf_free(&line);
    }
    if (ok && header && header_value) {
        ok = buf_printf(&line, "%s: %s", header, header_value) == 0 &&
             header_add(&headers, buf_str(&line));
        buf_free(&line);
    }
    if (!ok)
        goto oom;

    curl_easy_setopt(curl, CURLOPT_URL, buf_str(&url));
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_HTTP_VERSION,
                     is_https(ctx->url) ? (long)CURL_HTTP_VERSION_2TLS
                                        : (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, TOTAL_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)BODY_MAX);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, ret);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "brokerctl/0.1");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    if (ctx->cacert)
        curl_easy_setopt(curl, CURLOPT_CAINFO, ctx->cacert);
    if (body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    }
    if (strcmp(method, "GET") == 0)
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    else if (strcmp(method, "POST") != 0)
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);

    ret->body.max = BODY_MAX;
    res = curl_easy_perform(curl);
    if (res != CURLE_OK) {
        if (ret->toobig || res == CURLE_FILESIZE_EXCEEDED) {
            fprintf(stderr, "brokerctl: the broker's answer exceeds %zu MiB\n", BODY_MAX >> 20);
            rc = RC_SERVER;
        } else {
            fprintf(stderr, "brokerctl: cannot reach the broker at ");
            put_clean(stderr, ctx->url);
            fprintf(stderr, ": %s\n", errbuf[0] ? errbuf : curl_easy_strerror(res));
            rc = RC_UNREACHABLE;
        }
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &ret->status);
    if (ret->body.len > 0)
        ret->json = cJSON_ParseWithLength(ret->body.data, ret->body.len);
    rc = RC_OK;
    goto out;
oom:
    rc = oom();
out:
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    buf_free(&url);
    return rc;
}

static void reply_free(struct reply *r)
{
    cJSON_Delete(r->json);
    r->json = NULL;
    buf_free(&r->body);
}

/* The usual HTTP title for statuses a problem body may lack. */
static const char *status_title(long status)
{
    static const struct {
        long status;
        const char *title;
    } titles[] = {
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {409, "Conflict"},
        {413, "Payload Too Large"},
        {415, "Unsupported Media Type"},
        {422, "Unprocessable Entity"},
        {426, "Upgrade Required"},
        {429, "Too Many Requests"},
        {431, "Request Header Fields Too Large"},
        {500, "Internal Server Error"},
        {502, "Bad Gateway"},
        {503, "Service Unavailable"},
        {504, "Gateway Timeout"},
    };
    size_t i;

    for (i = 0; i < sizeof titles / sizeof titles[0]; i++) {
        if (titles[i].status == status)
            return titles[i].title;
    }
    return "Error";
}

/* brokerctl: <status> <title>: <detail> (at <pointer>) — on stderr. */
static void print_problem(const struct reply *r)
{
    const cJSON *j = cJSON_IsObject(r->json) ? r->json : NULL;
    const char *title = jstr(j, "title");
    const char *detail = jstr(j, "detail");
    const char *pointer = jstr(j, "pointer");
    char raw[256] = "";
    char *nl;
    double st;
    long status = r->status;

    if (jnum(j, "status", &st) && st >= 100 && st < 1000)
        status = (long)st;
    if (!title)
        title = status_title(status);
    if (!j && r->body.len > 0) {
        /* Not problem+json (a proxy, a plain-text error): show its first line. */
        snprintf(raw, sizeof raw, "%s", buf_str(&r->body));
        nl = strpbrk(raw, "\r\n");
        if (nl)
            *nl = '\0';
        /* An HTML error page says nothing the status does not. */
        detail = raw[0] && raw[0] != '<' ? raw : NULL;
    }
    fprintf(stderr, "brokerctl: %ld ", status);
    put_clean(stderr, title);
    if (detail && *detail) {
        fputs(": ", stderr);
        put_clean(stderr, detail);
    }
    if (pointer && *pointer) {
        fputs(" (at ", stderr);
        put_clean(stderr, pointer);
        fputc(')', stderr);
    }
    fputc('\n', stderr);
}

/* --json: the broker's answer as pretty JSON, or verbatim when it is not JSON. */
static void print_body(const struct reply *r)
{
    char *pretty;

    if (r->json) {
        pretty = cJSON_Print(r->json);
        if (pretty) {
            puts(pretty);
            free(pretty);
            return;
        }
    }
    if (r->body.len > 0) {
        fwrite(r->body.data, 1, r->body.len, stdout);
        if (r->body.data[r->body.len - 1] != '\n')
            fputc('\n', stdout);
    }
}

/* A request whose non-2xx answer is an error: reported on stderr, RC_SERVER returned. With
 * --json the answer (success or problem) is printed on stdout as well. */
static int api(const struct ctx *ctx, const char *method, const char *path, const char *body,
               size_t body_len, const struct args *a, struct reply *ret)
{
    int rc;

    rc = call(ctx, method, path, body, body_len, a && a->header ? a->header->field : NULL,
              a ? a->header_value : NULL, ret);
    if (rc != RC_OK)
        return rc;
    if (ctx->json)
        print_body(ret);
    if (ret->status < 200 || ret->status >= 300) {
        print_problem(ret);
        return RC_SERVER;
    }
    return RC_OK;
}

/* The answer as an object; `wrap` names an envelope member to look through ({"center":{…}}). */
static const cJSON *answer_object(const struct reply *r, const char *wrap)
{
    const cJSON *inner = jget(r->json, wrap);

    if (cJSON_IsObject(inner))
        return inner;
    if (cJSON_IsObject(r->json))
        return r->json;
    fprintf(stderr, "brokerctl: the broker's answer is not a JSON object\n");
    return NULL;
}

/* The answer's list: the array member `key`, or the answer itself when it is an array. */
static const cJSON *answer_array(const struct reply *r, const char *key)
{
    const cJSON *list = jget(r->json, key);

    if (cJSON_IsArray(list))
        return list;
    if (cJSON_IsArray(r->json))
        return r->json;
    fprintf(stderr, "brokerctl: the broker's answer has no \"%s\" list\n", key);
    return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Showing answers as text.
 */

static void print_object_kv(const cJSON *o)
{
    struct table t;
    struct buf v = {.max = TEXT_MAX};
    const cJSON *it;

    table_init(&t, "", "", END);
    cJSON_ArrayForEach(it, o)
    {
        v.len = 0;
        value_text(it, &v);
        kv(&t, it->string ? it->string : "?", buf_str(&v));
    }
    table_print(&t, NULL);
    table_free(&t);
    buf_free(&v);
}

/* An array of objects as a table whose columns are the union of their keys. */
static void print_array_table(const cJSON *arr)
{
    const char *cols[TABLE_COLS_MAX];
    struct buf v = {.max = TEXT_MAX};
    struct table t;
    const cJSON *row;
    const cJSON *it;
    int ncols = 0;
    int c;

    cJSON_ArrayForEach(row, arr)
    {
        cJSON_ArrayForEach(it, row)
        {
            for (c = 0; c < ncols; c++) {
                if (it->string && strcmp(cols[c], it->string) == 0)
                    break;
            }
            if (c == ncols && it->string && ncols < TABLE_COLS_MAX)
                cols[ncols++] = it->string;
        }
    }
    table_init(&t, END);
    for (c = 0; c < ncols; c++)
        table_column(&t, cols[c]);
    cJSON_ArrayForEach(row, arr)
    {
        for (c = 0; c < ncols; c++) {
            v.len = 0;
            value_text(jget(row, cols[c]), &v);
            table_add(&t, "%s", buf_str(&v));
        }
    }
    table_print(&t, ncols ? NULL : "(none)");
    table_free(&t);
    buf_free(&v);
}

static int show_object(const struct reply *r)
{
    if (cJSON_IsObject(r->json))
        print_object_kv(r->json);
    else if (cJSON_IsArray(r->json))
        print_array_table(r->json);
    else if (r->body.len > 0)
        print_body(r);
    else
        puts("ok");
    return RC_OK;
}

static int show_raw(const struct reply *r)
{
    if (r->body.len > 0)
        fwrite(r->body.data, 1, r->body.len, stdout);
    return RC_OK;
}

static int show_health(const struct reply *r)
{
    if (r->body.len == 0)
        puts("ok");
    else if (cJSON_IsObject(r->json))
        print_object_kv(r->json);
    else
        print_body(r);
    return RC_OK;
}

static int show_deleted(const struct reply *r)
{
    if (cJSON_IsObject(r->json))
        print_object_kv(r->json);
    else
        puts("deleted");
    return RC_OK;
}

static int show_token(const struct reply *r)
{
    const char *token = jstr(r->json, "token");

    if (!token) {
        fprintf(stderr, "brokerctl: the broker's answer has no \"token\"\n");
        return RC_SERVER;
    }
    puts(token);
    return RC_OK;
}

/* The age of a center's freshest feed, "never" when none has succeeded, "-" without feeds. */
static struct text center_feed_age(const cJSON *c)
{
    struct text t = {"-"};
    const cJSON *f;
    double best = -1;
    double age;

    cJSON_ArrayForEach(f, jget(c, "feeds"))
    {
        snprintf(t.s, sizeof t.s, "never");
        if (jnum(f, "age_s", &age) && (best < 0 || age < best))
            best = age;
    }
    if (best >= 0)
        t = fmt_age(best);
    return t;
}

static int show_centers(const struct reply *r)
{
    const cJSON *list = answer_array(r, "centers");
    const cJSON *c;
    const cJSON *p;
    struct table t;
    double free_cards;
    double total_cards;
    double v;

    if (!list)
        return RC_SERVER;
    table_init(&t, "ID", "NAME", "OPERATOR", "REGION", "STATUS", ">POOLS", ">CARDS FREE/TOTAL",
               ">FEED AGE", END);
    cJSON_ArrayForEach(c, list)
    {
        free_cards = 0;
        total_cards = 0;
        cJSON_ArrayForEach(p, jget(c, "pools"))
        {
            if (jnum(p, "free", &v))
                free_cards += v;
            if (jnum(p, "total", &v))
                total_cards += v;
        }
        table_add(&t, "%s", jstr_or(c, "id", "?"));
        table_add(&t, "%s", jstr_or(c, "name", "-"));
        table_add(&t, "%s", jstr_or(c, "operator", "-"));
        table_add(&t, "%s", jstr_or(c, "region", "-"));
        table_add(&t, "%s%s", jstr_or(c, "status", "-"), jtrue(c, "stale") ? " (stale)" : "");
        table_add(&t, "%d", cJSON_GetArraySize(jget(c, "pools")));
        table_add(&t, "%s/%s", fmt_num(free_cards).s, fmt_num(total_cards).s);
        table_add(&t, "%s", center_feed_age(c).s);
    }
    table_print(&t, "no centers registered");
    table_free(&t);
    return RC_OK;
}

/* One feed's state from its last success and last error. */
static const char *feed_state(const cJSON *f)
{
    const char *ok = jstr(f, "last_success");
    const char *err = jstr(f, "last_error");
    const char *err_at = jstr(f, "last_error_at");

    if (err && (!ok || (err_at && strcmp(err_at, ok) > 0)))
        return "error";
    return ok ? "ok" : "never";
}

static void print_pools_table(const cJSON *pools)
{
    const cJSON *p;
    struct table t;

    table_init(&t, "MODEL", "VENDOR", "DOMESTIC", ">TOTAL", ">FREE", ">HELD", ">AVAILABLE",
               ">BLOCK", ">PRICE", ">SPOT", "CURRENCY", "OBSERVED", "STALE", END);
    cJSON_ArrayForEach(p, pools)
    {
        table_add(&t, "%s", jstr_or(p, "model", "?"));
        table_add(&t, "%s", jstr_or(p, "vendor", "-"));
        table_add(&t, "%s", jyesno(p, "domestic"));
        table_add(&t, "%s", jcount(p, "total").s);
        table_add(&t, "%s", jcount(p, "free").s);
        table_add(&t, "%s", jcount(p, "held").s);
        table_add(&t, "%s", jcount(p, "available").s);
        table_add(&t, "%s", jcount(p, "largest_block").s);
        table_add(&t, "%s", jmoney(p, "price_per_card_hour").s);
        table_add(&t, "%s", jmoney(p, "spot_price_per_card_hour").s);
        table_add(&t, "%s", jstr_or(p, "currency", "-"));
        table_add(&t, "%s", jstr_or(p, "observed_at", "-"));
        table_add(&t, "%s", jyesno(p, "stale"));
    }
    table_print(&t, "no pools reported yet");
    table_free(&t);
}

static void print_center(const cJSON *c)
{
    struct buf labels = {.max = TEXT_MAX};
    struct table t;
    const cJSON *it;
    const char *err;
    double v;
    int n = 0;

    cJSON_ArrayForEach(it, jget(c, "labels"))
    {
        buf_printf(&labels, "%s%s=%s", labels.len ? ", " : "", it->string ? it->string : "?",
                   cJSON_IsString(it) ? it->valuestring : "?");
    }
    table_init(&t, "", "", END);
    kv(&t, "id", jstr_or(c, "id", "?"));
    kv(&t, "name", jstr(c, "name"));
    kv(&t, "operator", jstr(c, "operator"));
    kv(&t, "region", jstr(c, "region"));
    kv(&t, "status", jstr(c, "status"));
    kv(&t, "stale", jyesno(c, "stale"));
    if (jnum(c, "staleness_s", &v))
        kv(&t, "staleness limit", fmt_age(v).s);
    kv(&t, "labels", labels.len ? buf_str(&labels) : "-");
    kv(&t, "created", jstr(c, "created_at"));
    kv(&t, "updated", jstr(c, "updated_at"));
    table_print(&t, NULL);
    table_free(&t);
    buf_free(&labels);

    printf("\nFEEDS\n");
    table_init(&t, ">#", "ADAPTER", "MODE", ">INTERVAL", "STATE", "LAST SUCCESS", ">AGE",
               "NEXT POLL", ">POOLS", "URL", END);
    cJSON_ArrayForEach(it, jget(c, "feeds"))
    {
        if (jnum(it, "index", &v))
            table_add(&t, "%s", fmt_num(v).s);
        else
            table_add(&t, "%d", n);
        table_add(&t, "%s", jstr_or(it, "adapter", "?"));
        table_add(&t, "%s", jstr_or(it, "mode", "-"));
        table_add(&t, "%s", jnum(it, "interval_s", &v) ? fmt_age(v).s : "-");
        table_add(&t, "%s", feed_state(it));
        table_add(&t, "%s", jstr_or(it, "last_success", "-"));
        table_add(&t, "%s", jnum(it, "age_s", &v) ? fmt_age(v).s : "-");
        if (cJSON_IsTrue(jget(it, "polling")))
            table_add(&t, "%s", "polling now");
        else
            table_add(&t, "%s", jstr_or(it, "next_poll", "-"));
        table_add(&t, "%s", jnum(it, "pools", &v) ? fmt_num(v).s : "-");
        table_add(&t, "%s", jstr_or(it, "url", "-"));
        n++;
    }
    table_print(&t, "no feeds");
    table_free(&t);
    n = 0;
    cJSON_ArrayForEach(it, jget(c, "feeds"))
    {
        const char *warn = jstr(it, "warning");
        if (warn && *warn) {
            printf("feed %s warning: ", jnum(it, "index", &v) ? fmt_num(v).s : fmt_num(n).s);
            put_clean(stdout, warn);
            fputc('\n', stdout);
        }
        err = jstr(it, "last_error");
        if (err && *err) {
            printf("feed %s last error", jnum(it, "index", &v) ? fmt_num(v).s : fmt_num(n).s);
            if (jstr(it, "last_error_at")) {
                fputs(" at ", stdout);
                put_clean(stdout, jstr(it, "last_error_at"));
            }
            fputs(": ", stdout);
            put_clean(stdout, err);
            fputc('\n', stdout);
        }
        n++;
    }

    printf("\nPOOLS\n");
    print_pools_table(jget(c, "pools"));
}

static int show_center(const struct reply *r)
{
    const cJSON *c = answer_object(r, "center");

    if (!c)
        return RC_SERVER;
    print_center(c);
    return RC_OK;
}

static int show_pools(const struct reply *r)
{
    const cJSON *list = answer_array(r, "centers");
    const cJSON *c;
    const cJSON *p;
    struct table t;

    if (!list)
        return RC_SERVER;
    table_init(&t, "CENTER", "REGION", "MODEL", ">AVAILABLE/TOTAL", ">PRICE", "CURRENCY", "STALE",
               END);
    cJSON_ArrayForEach(c, list)
    {
        cJSON_ArrayForEach(p, jget(c, "pools"))
        {
            table_add(&t, "%s", jstr_or(c, "id", "?"));
            table_add(&t, "%s", jstr_or(c, "region", "-"));
            table_add(&t, "%s", jstr_or(p, "model", "?"));
            table_add(&t, "%s/%s", jcount(p, "available").s, jcount(p, "total").s);
            table_add(&t, "%s", jmoney(p, "price_per_card_hour").s);
            table_add(&t, "%s", jstr_or(p, "currency", "-"));
            table_add(&t, "%s", jtrue(p, "stale") || jtrue(c, "stale") ? "yes" : "no");
        }
    }
    table_print(&t, "no pools");
    table_free(&t);
    return RC_OK;
}

/* A quote or a placement: fields, pieces, totals. */
static void print_placement(const cJSON *p, bool hint)
{
    const char *currency = jstr_or(p, "currency", "CNY");
    const char *state = jstr_or(p, "state", "?");
    const char *decision = jstr(p, "decision_id");
    const cJSON *voucher = jget(p, "voucher");
    const cJSON *it;
    struct table t;
    double v;

    table_init(&t, "", "", END);
    kv(&t, "placement", jstr(p, "id"));
    kv(&t, "state", strcmp(state, "quote") == 0 ? "quote (dry run: nothing is held)" : state);
    kv(&t, "tenant", jstr(p, "tenant"));
    kv(&t, "decision", decision);
    if (jnum(p, "hours", &v))
        kv(&t, "hours", fmt_num(v).s);
    kv(&t, "precision", jstr(p, "precision"));
    kv(&t, "created", jstr(p, "created_at"));
    kv(&t, "expires", jstr(p, "expires_at"));
    kv(&t, "confirmed", jstr(p, "confirmed_at"));
    kv(&t, "ended", jstr(p, "ended_at"));
    table_print(&t, NULL);
    table_free(&t);

    fputc('\n', stdout);
    table_init(&t, "CENTER", "MODEL", "REGION", ">CARDS", ">PRICE/CARD-H", ">RTT MS", END);
    cJSON_ArrayForEach(it, jget(p, "pieces"))
    {
        table_add(&t, "%s", jstr_or(it, "center", "?"));
        table_add(&t, "%s", jstr_or(it, "model", "?"));
        table_add(&t, "%s", jstr_or(it, "region", "-"));
        table_add(&t, "%s", jcount(it, "cards").s);
        table_add(&t, "%s", jmoney(it, "price_per_card_hour").s);
        table_add(&t, "%s", jfixed(it, "rtt_ms", 1).s);
    }
    table_print(&t, "no pieces");
    table_free(&t);

    fputc('\n', stdout);
    table_init(&t, "", ">", "", END);
    table_add(&t, "list total");
    table_add(&t, "%s", jmoney(p, "list_total").s);
    table_add(&t, "%s", currency);
    table_add(&t, "subsidy");
    table_add(&t, "%s", jmoney(p, "subsidy").s);
    table_add(&t, "%s", currency);
    table_add(&t, "effective total");
    table_add(&t, "%s", jmoney(p, "effective_total").s);
    table_add(&t, "%s", currency);
    table_add(&t, "voucher");
    table_add(&t, "%s", cJSON_IsString(voucher) ? voucher->valuestring : "none");
    table_print(&t, NULL);
    table_free(&t);

    if (hint && decision) {
        fputs("\nexplain: brokerctl explain ", stdout);
        put_clean(stdout, decision);
        fputc('\n', stdout);
    }
}

static int show_offer(const struct reply *r)
{
    const cJSON *p = answer_object(r, "placement");

    if (!p)
        return RC_SERVER;
    print_placement(p, true);
    return RC_OK;
}

static int show_placement(const struct reply *r)
{
    const cJSON *p = answer_object(r, "placement");

    if (!p)
        return RC_SERVER;
    print_placement(p, false);
    return RC_OK;
}

static int show_placements(const struct reply *r)
{
    const cJSON *list = answer_array(r, "placements");
    struct buf pieces = {.max = TEXT_MAX};
    const cJSON *p;
    struct table t;

    if (!list)
        return RC_SERVER;
    table_init(&t, "ID", "STATE", "TENANT", "PIECES", ">EFF TOTAL", "EXPIRES", END);
    cJSON_ArrayForEach(p, list)
    {
        pieces.len = 0;
        pieces_text(jget(p, "pieces"), &pieces);
        table_add(&t, "%s", jstr_or(p, "id", "?"));
        table_add(&t, "%s", jstr_or(p, "state", "-"));
        table_add(&t, "%s", jstr_or(p, "tenant", "-"));
        table_add(&t, "%s", buf_str(&pieces));
        table_add(&t, "%s %s", jmoney(p, "effective_total").s, jstr_or(p, "currency", "CNY"));
        table_add(&t, "%s", jstr_or(p, "expires_at", "-"));
    }
    table_print(&t, "no placements");
    table_free(&t);
    buf_free(&pieces);
    return RC_OK;
}

static int show_decisions(const struct reply *r)
{
    const cJSON *list = answer_array(r, "decisions");
    struct buf chosen = {.max = TEXT_MAX};
    const cJSON *d;
    struct table t;
    double v;

    if (!list)
        return RC_SERVER;
    table_init(&t, "ID", "AT", "TENANT", "OUTCOME", "CHOSEN", ">ELAPSED", END);
    cJSON_ArrayForEach(d, list)
    {
        chosen.len = 0;
        pieces_text(jget(d, "chosen"), &chosen);
        table_add(&t, "%s", jstr_or(d, "id", "?"));
        table_add(&t, "%s", jstr_or(d, "at", "-"));
        table_add(&t, "%s", jstr_or(d, "tenant", "-"));
        table_add(&t, "%s", jstr_or(d, "outcome", "-"));
        table_add(&t, "%s", buf_str(&chosen));
        table_add(&t, "%s", jnum(d, "elapsed_us", &v) ? fmt_elapsed(v).s : "-");
    }
    table_print(&t, "no decisions");
    table_free(&t);
    buf_free(&chosen);
    return RC_OK;
}

/* "regions cn-shanghai; domestic only", "any center" when unrestricted. */
static void eligible_text(const cJSON *e, struct buf *out)
{
    const cJSON *regions = jget(e, "regions");
    const cJSON *centers = jget(e, "centers");
    size_t start = out->len;

    if (cJSON_GetArraySize(regions) > 0) {
        buf_puts(out, "regions ");
        join_strings(regions, ",", out);
    }
    if (cJSON_GetArraySize(centers) > 0) {
        buf_puts(out, out->len > start ? "; centers " : "centers ");
        join_strings(centers, ",", out);
    }
    if (jtrue(e, "domestic_only"))
        buf_puts(out, out->len > start ? "; domestic only" : "domestic only");
    if (out->len == start)
        buf_puts(out, "any center");
}

static struct text jrate(const cJSON *o, const char *key)
{
    struct text t = {"-"};
    double v;

    if (jnum(o, key, &v))
        snprintf(t.s, sizeof t.s, "%.4g%%", v * 100);
    return t;
}

static int show_vouchers(const struct reply *r)
{
    const cJSON *list = answer_array(r, "vouchers");
    struct buf elig = {.max = TEXT_MAX};
    const cJSON *v;
    struct table t;

    if (!list)
        return RC_SERVER;
    table_init(&t, "ID", "ISSUER", "TENANT", ">RATE", ">AMOUNT", ">BALANCE", "VALID UNTIL",
               "ELIGIBLE", END);
    cJSON_ArrayForEach(v, list)
    {
        elig.len = 0;
        eligible_text(jget(v, "eligible"), &elig);
        table_add(&t, "%s", jstr_or(v, "id", "?"));
        table_add(&t, "%s", jstr_or(v, "issuer", "-"));
        table_add(&t, "%s", jstr_or(v, "tenant", "-"));
        table_add(&t, "%s", jrate(v, "rate").s);
        table_add(&t, "%s", jmoney(v, "amount").s);
        table_add(&t, "%s", jmoney(v, "balance").s);
        table_add(&t, "%s", jstr_or(v, "valid_until", "-"));
        table_add(&t, "%s", buf_str(&elig));
    }
    table_print(&t, "no vouchers");
    table_free(&t);
    buf_free(&elig);
    return RC_OK;
}

static int show_voucher(const struct reply *r)
{
    const cJSON *v = answer_object(r, "voucher");
    struct buf elig = {.max = TEXT_MAX};
    const cJSON *ledger;
    struct table t;

    if (!v)
        return RC_SERVER;
    eligible_text(jget(v, "eligible"), &elig);
    table_init(&t, "", "", END);
    kv(&t, "id", jstr_or(v, "id", "?"));
    kv(&t, "issuer", jstr(v, "issuer"));
    kv(&t, "tenant", jstr(v, "tenant"));
    kv(&t, "rate", jrate(v, "rate").s);
    kv(&t, "amount", jmoney(v, "amount").s);
    kv(&t, "balance", jmoney(v, "balance").s);
    kv(&t, "valid until", jstr(v, "valid_until"));
    kv(&t, "eligible", buf_str(&elig));
    table_print(&t, NULL);
    table_free(&t);
    buf_free(&elig);
    ledger = jget(v, "ledger");
    if (cJSON_IsArray(ledger)) {
        printf("\nLEDGER\n");
        print_array_table(ledger);
    }
    return RC_OK;
}

static int show_adapters(const struct reply *r)
{
    const cJSON *list = answer_array(r, "adapters");
    struct buf modes = {.max = TEXT_MAX};
    const cJSON *a;
    const cJSON *o;
    struct table t;

    if (!list)
        return RC_SERVER;
    table_init(&t, "NAME", "MODES", "DESCRIPTION", END);
    cJSON_ArrayForEach(a, list)
    {
        modes.len = 0;
        join_strings(jget(a, "modes"), ",", &modes);
        table_add(&t, "%s", jstr_or(a, "name", "?"));
        table_add(&t, "%s", modes.len ? buf_str(&modes) : "-");
        table_add(&t, "%s", jstr_or(a, "description", ""));
    }
    table_print(&t, "no adapters");
    table_free(&t);
    buf_free(&modes);

    table_init(&t, "ADAPTER", "OPTION", "TYPE", "REQUIRED", "DESCRIPTION", END);
    cJSON_ArrayForEach(a, list)
    {
        cJSON_ArrayForEach(o, jget(a, "options"))
        {
            table_add(&t, "%s", jstr_or(a, "name", "?"));
            table_add(&t, "%s", jstr_or(o, "name", "?"));
            table_add(&t, "%s", jstr_or(o, "type", "-"));
            table_add(&t, "%s", jtrue(o, "required") ? "yes" : "no");
            table_add(&t, "%s", jstr_or(o, "description", ""));
        }
    }
    if (table_rows(&t) > 0) {
        printf("\nOPTIONS\n");
        table_print(&t, NULL);
    }
    table_free(&t);
    return RC_OK;
}

static int show_regions(const struct reply *r)
{
    const cJSON *list = answer_array(r, "regions");
    const cJSON *g;
    struct table t;

    if (!list)
        return RC_SERVER;
    table_init(&t, "ID", "CITY", ">LAT", ">LON", "HUB", END);
    cJSON_ArrayForEach(g, list)
    {
        table_add(&t, "%s", jstr_or(g, "id", "?"));
        table_add(&t, "%s", jstr_or(g, "city", "-"));
        table_add(&t, "%s", jfixed(g, "lat", 2).s);
        table_add(&t, "%s", jfixed(g, "lon", 2).s);
        table_add(&t, "%s", jstr_or(g, "hub", "-"));
    }
    table_print(&t, "no regions");
    table_free(&t);
    return RC_OK;
}

static void latency_row(struct table *t, const cJSON *e)
{
    table_add(t, "%s", jstr_or(e, "a", "?"));
    table_add(t, "%s", jstr_or(e, "b", "?"));
    table_add(t, "%s", jfixed(e, "rtt_ms", 1).s);
    table_add(t, "%s", jstr_or(e, "source", "-"));
    table_add(t, "%s", jstr_or(e, "updated_at", "-"));
}

static int show_latency(const struct reply *r)
{
    const cJSON *list = answer_array(r, "latency");
    const cJSON *e;
    struct table t;

    if (!list)
        return RC_SERVER;
    table_init(&t, "A", "B", ">RTT MS", "SOURCE", "UPDATED", END);
    cJSON_ArrayForEach(e, list)
    {
        latency_row(&t, e);
    }
    table_print(&t, "no latency entries");
    table_free(&t);
    return RC_OK;
}

/* PUT /v1/latency answers the entry it stored (or the matrix). */
static int show_latency_set(const struct reply *r)
{
    struct table t;

    if (cJSON_IsArray(jget(r->json, "latency")))
        return show_latency(r);
    if (!jstr(r->json, "a"))
        return show_object(r);
    table_init(&t, "A", "B", ">RTT MS", "SOURCE", "UPDATED", END);
    latency_row(&t, r->json);
    table_print(&t, NULL);
    table_free(&t);
    return RC_OK;
}

/* ---------------------------------------------------------------------------------------------
 * explain: a decision record as a candidate table and the reason the runner-up lost.
 */

/* Reject reasons in the order the filters run (SPEC §2); rejected rows are grouped this way. */
static const char *const reject_reasons[] = {
    "center_inactive",  "stale_feed",      "region_excluded",
    "label_mismatch",   "not_domestic",    "precision_unsupported",
    "memory_too_small", "latency_exceeds", "insufficient_capacity",
    "price_exceeds",
};
#define NREASONS (sizeof reject_reasons / sizeof reject_reasons[0])

/* Score terms, in the order of "terms", "weights" and the explanation. */
static const char *const term_names[3] = {"cost", "latency", "balance"};
static const double default_weights[3] = {1.0, 0.5, 0.2};

enum verdict { V_CHOSEN, V_ELIGIBLE, V_REJECTED, V_OTHER };

struct cand {
    const cJSON *j; /* borrowed: the candidate in the decision record */
    enum verdict verdict;
    size_t reason; /* index in reject_reasons; NREASONS when unknown or absent */
    double score;  /* HUGE_VAL when absent */
};

static enum verdict verdict_of(const cJSON *c)
{
    const char *v = jstr_or(c, "verdict", "");

    if (strcmp(v, "chosen") == 0)
        return V_CHOSEN;
    if (strcmp(v, "eligible") == 0)
        return V_ELIGIBLE;
    if (strcmp(v, "rejected") == 0)
        return V_REJECTED;
    return V_OTHER;
}

static int cmp_double(double a, double b)
{
    return a < b ? -1 : a > b ? 1 : 0;
}

/* Chosen first, then eligible by score (ties as SPEC §2), then rejected grouped by reason. */
static int cand_cmp(const void *pa, const void *pb)
{
    const struct cand *a = pa;
    const struct cand *b = pb;
    double x;
    double y;
    int d;

    if (a->verdict != b->verdict)
        return a->verdict < b->verdict ? -1 : 1;
    if (a->verdict == V_CHOSEN || a->verdict == V_ELIGIBLE) {
        if (fabs(a->score - b->score) > SCORE_EPS) {
            d = cmp_double(a->score, b->score);
            if (d)
                return d;
        }
        if (jnum(a->j, "effective_total", &x) && jnum(b->j, "effective_total", &y) &&
            cmp_double(x, y))
            return cmp_double(x, y);
        if (jnum(a->j, "rtt_ms", &x) && jnum(b->j, "rtt_ms", &y) && cmp_double(x, y))
            return cmp_double(x, y);
    } else {
        if (a->reason != b->reason)
            return a->reason < b->reason ? -1 : 1;
        d = strcmp(jstr_or(a->j, "reason", ""), jstr_or(b->j, "reason", ""));
        if (d)
            return d;
    }
    d = strcmp(jstr_or(a->j, "center", ""), jstr_or(b->j, "center", ""));
    if (d)
        return d;
    return strcmp(jstr_or(a->j, "model", ""), jstr_or(b->j, "model", ""));
}

/* The decision's candidates, sorted; *ret_n set. NULL with *ret_n 0 when there are none. */
static struct cand *cands_sorted(const cJSON *d, size_t *ret_n)
{
    const cJSON *list = jget(d, "candidates");
    const cJSON *c;
    struct cand *cands;
    const char *reason;
    size_t n = 0;
    size_t k;
    int size = cJSON_GetArraySize(list);

    *ret_n = 0;
    if (size <= 0)
        return NULL;
    cands = calloc((size_t)size, sizeof *cands);
    if (!cands)
        return NULL;
    cJSON_ArrayForEach(c, list)
    {
        cands[n].j = c;
        cands[n].verdict = verdict_of(c);
        cands[n].reason = NREASONS;
        reason = jstr(c, "reason");
        for (k = 0; reason && k < NREASONS; k++) {
            if (strcmp(reason, reject_reasons[k]) == 0)
                cands[n].reason = k;
        }
        if (!jnum(c, "score", &cands[n].score))
            cands[n].score = HUGE_VAL;
        n++;
    }
    qsort(cands, n, sizeof *cands, cand_cmp);
    *ret_n = n;
    return cands;
}

static void decision_weights(const cJSON *d, double ret_w[3])
{
    const cJSON *w = jget(d, "weights");
    size_t k;

    if (!cJSON_IsObject(w))
        w = jget(jget(d, "request"), "weights");
    for (k = 0; k < 3; k++) {
        ret_w[k] = default_weights[k];
        jnum(w, term_names[k], &ret_w[k]);
    }
}

/* "bf16, 64 cards, 72 h, from cn-shanghai" and the optional constraints after it. */
static void request_text(const cJSON *d, struct buf *out)
{
    const cJSON *q = jget(d, "request");
    const cJSON *origin = jget(d, "origin");
    const char *from = jstr(q, "origin");
    double v;

    buf_puts(out, jstr_or(q, "precision", "?"));
    if (jnum(q, "cards", &v))
        buf_printf(out, ", %s cards", fmt_num(v).s);
    if (jnum(q, "pflops", &v))
        buf_printf(out, ", %s PFLOPS", fmt_num(v).s);
    if (jnum(q, "hours", &v))
        buf_printf(out, ", %s h", fmt_num(v).s);
    if (!from)
        from = cJSON_IsString(origin) ? origin->valuestring : jstr(origin, "id");
    if (from)
        buf_printf(out, ", from %s", from);
    if (jnum(q, "max_latency_ms", &v))
        buf_printf(out, ", rtt <= %s ms", fmt_num(v).s);
    if (jnum(q, "max_price_per_card_hour", &v))
        buf_printf(out, ", price <= %s CNY/card-h", fmt_money(v).s);
    if (jnum(q, "min_memory_gib", &v))
        buf_printf(out, ", memory >= %s GiB", fmt_num(v).s);
    if (jtrue(q, "domestic_only"))
        buf_puts(out, ", domestic only");
    if (cJSON_GetArraySize(jget(q, "regions_allowed")) > 0) {
        buf_puts(out, ", only ");
        join_strings(jget(q, "regions_allowed"), ",", out);
    }
    if (cJSON_GetArraySize(jget(q, "regions_denied")) > 0) {
        buf_puts(out, ", not ");
        join_strings(jget(q, "regions_denied"), ",", out);
    }
    if (cJSON_IsFalse(jget(q, "gang")))
        buf_puts(out, ", may split");
    if (cJSON_GetArraySize(jget(q, "vouchers")) > 0) {
        buf_puts(out, ", vouchers ");
        join_strings(jget(q, "vouchers"), ",", out);
    }
    if (jtrue(q, "dry_run"))
        buf_puts(out, ", dry run");
}

/* A candidate's raw score terms: from its "terms" when given (*ret_given), else computed from
 * its figures as SPEC §2 defines them over the passing candidates' minima. */
static void cand_terms(const cJSON *c, double min_eff, double min_rtt, double ret_t[3],
                       bool *ret_given)
{
    const cJSON *terms = jget(c, "terms");
    double eff = 0;
    double rtt = 0;
    double util = 0;
    size_t k;

    *ret_given = true;
    for (k = 0; k < 3; k++) {
        if (!jnum(terms, term_names[k], &ret_t[k]))
            *ret_given = false;
    }
    if (*ret_given)
        return;
    jnum(c, "effective_total", &eff);
    jnum(c, "rtt_ms", &rtt);
    jnum(c, "util_after", &util);
    ret_t[0] = min_eff > 0 ? eff / min_eff : 1;
    ret_t[1] = (rtt + 1) / (min_rtt + 1);
    ret_t[2] = 1 + util;
}

static const char *cand_name(const cJSON *c, struct buf *out)
{
    out->len = 0;
    buf_printf(out, "%s/%s", jstr_or(c, "center", "?"), jstr_or(c, "model", "?"));
    return buf_str(out);
}

/* "latency_exceeds 3, stale_feed 1" over the rejected candidates, which cands_sorted() grouped
 * by reason in filter order; returns how many were rejected. */
static size_t rejected_text(const struct cand *cands, size_t n, struct buf *out)
{
    const char *reason;
    size_t rejected = 0;
    size_t run = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        if (cands[i].verdict != V_REJECTED)
            continue;
        rejected++;
        run++;
        reason = jstr_or(cands[i].j, "reason", "unknown");
        if (i + 1 < n && cands[i + 1].verdict == V_REJECTED &&
            strcmp(jstr_or(cands[i + 1].j, "reason", "unknown"), reason) == 0)
            continue;
        buf_printf(out, "%s%s %zu", rejected > run ? ", " : "", reason, run);
        run = 0;
    }
    return rejected;
}

/* One term's underlying figures, chosen vs runner-up, for the explanation. */
static void term_figures(size_t term, const cJSON *win, const cJSON *lose, const char *currency,
                         struct buf *out)
{
    double a;
    double b;

    if (term == 0 && jnum(lose, "effective_total", &b) && jnum(win, "effective_total", &a))
        buf_printf(out, ": effective total %s %s against %s %s", fmt_money(b).s, currency,
                   fmt_money(a).s, currency);
    else if (term == 1 && jnum(lose, "rtt_ms", &b) && jnum(win, "rtt_ms", &a))
        buf_printf(out, ": rtt %.1f ms against %.1f ms", b, a);
    else if (term == 2 && jnum(lose, "util_after", &b) && jnum(win, "util_after", &a))
        buf_printf(out, ": its center would be %.0f%% used after placement against %.0f%%", b * 100,
                   a * 100);
}

/* Composes why the runner-up lost, for records that carry no "explanation". */
static void compose_explanation(const cJSON *d, const struct cand *cands, size_t n, struct buf *out)
{
    const char *currency = jstr_or(d, "currency", "CNY");
    struct buf wname = {.max = TEXT_MAX};
    struct buf lname = {.max = TEXT_MAX};
    struct buf reasons = {.max = TEXT_MAX};
    const struct cand *win = NULL;
    const struct cand *lose = NULL;
    double w[3];
    double tw[3];
    double tl[3];
    double contrib;
    double plain;
    double weighted;
    double best_diff = 0;
    double min_eff = HUGE_VAL;
    double min_rtt = HUGE_VAL;
    double x;
    double y;
    bool given_w;
    bool given_l;
    bool preweighted = false;
    size_t best_term = 3;
    size_t rejected;
    size_t i;
    size_t k;

    for (i = 0; i < n; i++) {
        if (cands[i].verdict == V_CHOSEN && !win)
            win = &cands[i];
        if (cands[i].verdict == V_ELIGIBLE && !lose)
            lose = &cands[i];
        if (cands[i].verdict == V_CHOSEN || cands[i].verdict == V_ELIGIBLE) {
            if (jnum(cands[i].j, "effective_total", &x) && x < min_eff)
                min_eff = x;
            if (jnum(cands[i].j, "rtt_ms", &x) && x < min_rtt)
                min_rtt = x;
        }
    }
    rejected = rejected_text(cands, n, &reasons);
    if (!win) {
        if (n == 0)
            buf_puts(out, "Nothing was placed: no pool was a candidate.");
        else if (rejected == n)
            buf_printf(out, "Nothing was placed: all %zu candidates were rejected (%s).", n,
                       buf_str(&reasons));
        else
            buf_printf(out, "Nothing was placed: %zu of %zu candidates passed every filter.",
                       n - rejected, n);
        goto out;
    }
    cand_name(win->j, &wname);
    if (!lose) {
        buf_printf(out, "%s was the only candidate that passed every filter", buf_str(&wname));
        if (rejected > 0)
            buf_printf(out, "; the other %zu were rejected (%s)", rejected, buf_str(&reasons));
        buf_puts(out, ".");
        goto out;
    }
    cand_name(lose->j, &lname);
    decision_weights(d, w);
    cand_terms(win->j, min_eff, min_rtt, tw, &given_w);
    cand_terms(lose->j, min_eff, min_rtt, tl, &given_l);
    if (given_w && win->score != HUGE_VAL) {
        /* Terms may be recorded raw or already weighted: whichever sum matches the score. */
        plain = tw[0] + tw[1] + tw[2];
        weighted = w[0] * tw[0] + w[1] * tw[1] + w[2] * tw[2];
        preweighted = fabs(win->score - plain) + SCORE_EPS < fabs(win->score - weighted);
    }
    for (k = 0; k < 3; k++) {
        contrib = (given_l && preweighted ? 1 : w[k]) * tl[k] -
                  (given_w && preweighted ? 1 : w[k]) * tw[k];
        if (contrib > best_diff + SCORE_EPS) {
            best_diff = contrib;
            best_term = k;
        }
    }
    if (best_term == 3 || (win->score != HUGE_VAL && lose->score != HUGE_VAL &&
                           fabs(lose->score - win->score) <= SCORE_EPS)) {
        buf_printf(out, "%s and %s scored equally", buf_str(&wname), buf_str(&lname));
        if (jnum(win->j, "effective_total", &x) && jnum(lose->j, "effective_total", &y) && x != y)
            buf_puts(out, "; the tie went to the lower effective total.");
        else if (jnum(win->j, "rtt_ms", &x) && jnum(lose->j, "rtt_ms", &y) && x != y)
            buf_puts(out, "; the tie went to the lower rtt.");
        else
            buf_puts(out, "; the tie went to the lower center id and model name.");
        goto out;
    }
    buf_printf(out, "%s lost to %s", buf_str(&lname), buf_str(&wname));
    if (win->score != HUGE_VAL && lose->score != HUGE_VAL)
        buf_printf(out, " (score %.4f against %.4f)", lose->score, win->score);
    buf_printf(out, " mostly on %s", term_names[best_term]);
    term_figures(best_term, win->j, lose->j, currency, out);
    buf_printf(out, " (weight %s, +%.4f to its score).", fmt_num(w[best_term]).s, best_diff);
out:
    buf_free(&wname);
    buf_free(&lname);
    buf_free(&reasons);
}

static void print_candidates(const struct cand *cands, size_t n)
{
    const char *rtt_source;
    bool estimated = false;
    const cJSON *c;
    const cJSON *terms;
    struct table t;
    double v;
    size_t i;

    table_init(&t, "", "CENTER", "MODEL", "REGION", "VERDICT/REASON", ">CARDS", ">AVAIL", ">RTT MS",
               ">EFF TOTAL", ">SCORE", ">COST", ">LAT", ">BAL", END);
    for (i = 0; i < n; i++) {
        c = cands[i].j;
        terms = jget(c, "terms");
        rtt_source = jstr_or(c, "rtt_source", "");
        table_add(&t, "%s", cands[i].verdict == V_CHOSEN ? "*" : "");
        table_add(&t, "%s", jstr_or(c, "center", "?"));
        table_add(&t, "%s", jstr_or(c, "model", "?"));
        table_add(&t, "%s", jstr_or(c, "region", "-"));
        if (cands[i].verdict == V_REJECTED)
            table_add(&t, "%s", jstr_or(c, "reason", "rejected"));
        else
            table_add(&t, "%s", jstr_or(c, "verdict", "-"));
        table_add(&t, "%s", jcount(c, "cards").s);
        table_add(&t, "%s", jcount(c, "available").s);
        if (jnum(c, "rtt_ms", &v)) {
            table_add(&t, "%s%.1f", strcmp(rtt_source, "estimated") == 0 ? "~" : "", v);
            if (strcmp(rtt_source, "estimated") == 0)
                estimated = true;
        } else {
            table_add(&t, "-");
        }
        table_add(&t, "%s", jmoney(c, "effective_total").s);
        table_add(&t, "%s", jfixed(c, "score", 4).s);
        table_add(&t, "%s", jfixed(terms, "cost", 3).s);
        table_add(&t, "%s", jfixed(terms, "latency", 3).s);
        table_add(&t, "%s", jfixed(terms, "balance", 3).s);
    }
    table_print(&t, "no candidates");
    table_free(&t);
    if (n > 0 && cands[0].verdict == V_CHOSEN)
        printf("* chosen%s", estimated ? "   " : "\n");
    if (estimated)
        printf("~ rtt estimated from great-circle distance\n");
}

static int show_decision(const struct reply *r)
{
    const cJSON *d = answer_object(r, "decision");
    struct buf text = {.max = TEXT_MAX};
    struct cand *cands;
    const char *why;
    struct table t;
    double w[3];
    double v;
    size_t n;

    if (!d)
        return RC_SERVER;
    cands = cands_sorted(d, &n);
    if (!cands && cJSON_GetArraySize(jget(d, "candidates")) > 0)
        return oom();
    decision_weights(d, w);
    request_text(d, &text);

    table_init(&t, "", "", END);
    kv(&t, "decision", jstr_or(d, "id", "?"));
    kv(&t, "at", jstr(d, "at"));
    kv(&t, "tenant", jstr(d, "tenant"));
    kv(&t, "outcome", jstr(d, "outcome"));
    kv(&t, "request", buf_str(&text));
    text.len = 0;
    buf_printf(&text, "cost %s, latency %s, balance %s", fmt_num(w[0]).s, fmt_num(w[1]).s,
               fmt_num(w[2]).s);
    kv(&t, "weights", buf_str(&text));
    if (jnum(d, "elapsed_us", &v))
        kv(&t, "elapsed", fmt_elapsed(v).s);
    table_print(&t, NULL);
    table_free(&t);

    fputc('\n', stdout);
    print_candidates(cands, n);

    why = jstr(d, "explanation");
    if (!why || !*why) {
        text.len = 0;
        compose_explanation(d, cands, n, &text);
        why = buf_str(&text);
    }
    fputc('\n', stdout);
    print_wrapped("why: ", why);
    free(cands);
    buf_free(&text);
    return RC_OK;
}

/* ---------------------------------------------------------------------------------------------
 * route / hold and their 409.
 */

struct reason_count {
    const char *reason; /* borrowed from the answer */
    double count;
};

static int reason_cmp(const void *pa, const void *pb)
{
    const struct reason_count *a = pa;
    const struct reason_count *b = pb;

    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return strcmp(a->reason, b->reason);
}

/* Reasons with counts from "reasons", or counted from an embedded decision's candidates. */
static size_t nofit_reasons(const cJSON *j, struct reason_count *out, size_t max)
{
    const cJSON *reasons = jget(j, "reasons");
    const cJSON *it;
    const char *r;
    size_t n = 0;
    size_t k;

    if (cJSON_IsObject(reasons)) {
        cJSON_ArrayForEach(it, reasons)
        {
            if (n < max && it->string && cJSON_IsNumber(it)) {
                out[n].reason = it->string;
                out[n++].count = it->valuedouble;
            }
        }
        return n;
    }
    cJSON_ArrayForEach(it, jget(jget(j, "decision"), "candidates"))
    {
        if (verdict_of(it) != V_REJECTED)
            continue;
        r = jstr_or(it, "reason", "unknown");
        for (k = 0; k < n; k++) {
            if (strcmp(out[k].reason, r) == 0)
                break;
        }
        if (k < n) {
            out[k].count++;
        } else if (n < max) {
            out[n].reason = r;
            out[n++].count = 1;
        }
    }
    return n;
}

static const char *nofit_decision(const cJSON *j)
{
    const char *id = jstr(j, "decision_id");

    return id ? id : jstr(jget(j, "decision"), "id");
}

/* A 409 that says nothing fits (rather than some other conflict) carries the decision. */
static bool is_nofit(const struct reply *r)
{
    return r->status == 409 &&
           (nofit_decision(r->json) || cJSON_IsObject(jget(r->json, "reasons")));
}

static void print_nofit(const cJSON *j)
{
    struct reason_count reasons[REASONS_MAX];
    const char *decision = nofit_decision(j);
    struct table t;
    size_t n;
    size_t i;

    n = nofit_reasons(j, reasons, REASONS_MAX);
    qsort(reasons, n, sizeof reasons[0], reason_cmp);
    printf("nothing fits\n");
    if (n > 0) {
        printf("\nREASON (candidates rejected)\n");
        table_init(&t, "", ">", END);
        t.indent = "  ";
        for (i = 0; i < n; i++) {
            table_add(&t, "%s", reasons[i].reason);
            table_add(&t, "%s", fmt_num(reasons[i].count).s);
        }
        table_print(&t, NULL);
        table_free(&t);
    }
    if (decision) {
        fputs("\ndecision: ", stdout);
        put_clean(stdout, decision);
        fputs("\nexplain: brokerctl explain ", stdout);
        put_clean(stdout, decision);
        fputc('\n', stdout);
    }
}

static int run_route(struct ctx *ctx, const struct command *cmd, struct args *a)
{
    bool hold = strcmp(cmd->name, "hold") == 0;
    const cJSON *dry = cJSON_GetObjectItemCaseSensitive(a->flags, "dry_run");
    bool cards = cJSON_GetObjectItemCaseSensitive(a->flags, "cards") != NULL;
    bool pflops = cJSON_GetObjectItemCaseSensitive(a->flags, "pflops") != NULL;
    struct reply r = {0};
    char *body;
    int rc;

    if (hold && cJSON_IsTrue(dry))
        return usage_error(cmd, "hold holds capacity; use 'brokerctl route' for a dry run");
    if (!cJSON_GetObjectItemCaseSensitive(a->flags, "precision"))
        return usage_error(cmd, "--precision is required");
    if (cards == pflops)
        return usage_error(cmd, "give either --cards or --pflops");
    if (!dry && !cJSON_AddBoolToObject(a->flags, "dry_run", !hold))
        return oom();
    body = cJSON_PrintUnformatted(a->flags);
    if (!body)
        return oom();
    rc = api(ctx, "POST", "/v1/placements", body, strlen(body), a, &r);
    if (rc == RC_SERVER && is_nofit(&r)) {
        if (!ctx->json)
            print_nofit(r.json);
        rc = RC_NOFIT;
    } else if (rc == RC_OK && !ctx->json) {
        rc = show_offer(&r);
    }
    free(body);
    reply_free(&r);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * The other commands.
 */

/* A request to cmd->path with the first argument in it; POSTs send an empty object. */
static int run_simple(struct ctx *ctx, const struct command *cmd, struct args *a)
{
    struct buf path = {.max = TEXT_MAX};
    struct reply r = {0};
    const char *body = strcmp(cmd->method, "POST") == 0 ? "{}" : NULL;
    int rc;

    if (path_build(cmd->path, a->npos > 0 ? a->pos[0] : NULL, &path) < 0) {
        buf_free(&path);
        return oom();
    }
    rc = api(ctx, cmd->method, buf_str(&path), body, body ? strlen(body) : 0, a, &r);
    if (rc == RC_OK && !ctx->json)
        rc = cmd->show(&r);
    reply_free(&r);
    buf_free(&path);
    return rc;
}

/* Reads a whole file, or stdin for "-", up to BODY_MAX. */
static int read_input(const char *name, struct buf *out)
{
    FILE *f = strcmp(name, "-") == 0 ? stdin : fopen(name, "rb");
    char chunk[8192];
    size_t n;
    int rc = RC_OK;

    if (!f) {
        fprintf(stderr, "brokerctl: cannot open %s: %s\n", name, strerror(errno));
        return RC_USAGE;
    }
    for (;;) {
        n = fread(chunk, 1, sizeof chunk, f);
        if (n > 0 && buf_append(out, chunk, n) < 0) {
            fprintf(stderr, "brokerctl: %s: larger than %zu MiB or out of memory\n", name,
                    BODY_MAX >> 20);
            rc = RC_USAGE;
            break;
        }
        if (n < sizeof chunk) {
            if (ferror(f)) {
                fprintf(stderr, "brokerctl: cannot read %s\n", name);
                rc = RC_USAGE;
            }
            break;
        }
    }
    if (f != stdin)
        fclose(f);
    if (rc == RC_OK && out->len == 0) {
        fprintf(stderr, "brokerctl: %s is empty\n", name);
        rc = RC_USAGE;
    }
    return rc;
}

/* Sends the file named by the last argument (as is: the broker judges it) to cmd->path. */
static int run_file(struct ctx *ctx, const struct command *cmd, struct args *a)
{
    struct buf path = {.max = TEXT_MAX};
    struct buf body = {0};
    struct reply r = {0};
    int rc;

    rc = read_input(a->pos[a->npos - 1], &body);
    if (rc != RC_OK)
        goto out;
    if (path_build(cmd->path, a->npos > 1 ? a->pos[0] : NULL, &path) < 0) {
        rc = oom();
        goto out;
    }
    rc = api(ctx, cmd->method, buf_str(&path), buf_str(&body), body.len, a, &r);
    if (rc == RC_OK && !ctx->json)
        rc = cmd->show(&r);
out:
    reply_free(&r);
    buf_free(&path);
    buf_free(&body);
    return rc;
}

/* Sends a->flags (built from the arguments by each command) as the JSON body. */
static int send_flags(struct ctx *ctx, const struct command *cmd, struct args *a, const char *path)
{
    struct reply r = {0};
    char *body = cJSON_PrintUnformatted(a->flags);
    int rc;

    if (!body)
        return oom();
    rc = api(ctx, cmd->method, path, body, strlen(body), a, &r);
    if (rc == RC_OK && !ctx->json)
        rc = cmd->show(&r);
    free(body);
    reply_free(&r);
    return rc;
}

static int run_decisions(struct ctx *ctx, const struct command *cmd, struct args *a)
{
    const cJSON *limit = cJSON_GetObjectItemCaseSensitive(a->flags, "limit");
    struct buf path = {.max = TEXT_MAX};
    struct reply r = {0};
    int rc;

    if (limit && limit->valuedouble < 1)
        return usage_error(cmd, "--limit must be at least 1");
    rc = buf_puts(&path, cmd->path);
    if (rc == 0 && limit)
        rc = buf_printf(&path, "?limit=%s", fmt_num(limit->valuedouble).s);
    if (rc < 0) {
        buf_free(&path);
        return oom();
    }
    rc = api(ctx, cmd->method, buf_str(&path), NULL, 0, a, &r);
    if (rc == RC_OK && !ctx->json)
        rc = cmd->show(&r);
    reply_free(&r);
    buf_free(&path);
    return rc;
}

static int run_tenant(struct ctx *ctx, const struct command *cmd, struct args *a)
{
    if (!cJSON_AddStringToObject(a->flags, "id", a->pos[0]) ||
        !cJSON_AddStringToObject(a->flags, "name", a->npos > 1 ? a->pos[1] : a->pos[0]))
        return oom();
    return send_flags(ctx, cmd, a, cmd->path);
}

static int run_token(struct ctx *ctx, const struct command *cmd, struct args *a)
{
    static const char *const roles[] = {"admin", "operator", "tenant"};
    size_t i;

    for (i = 0; i < 3; i++) {
        if (strcmp(a->pos[0], roles[i]) == 0)
            break;
    }
    if (i == 3)
        return usage_error(cmd, "role must be admin, operator or tenant");
    if (!cJSON_AddStringToObject(a->flags, "role", a->pos[0]) ||
        !cJSON_AddStringToObject(a->flags, "subject", a->pos[1]))
        return oom();
    return send_flags(ctx, cmd, a, cmd->path);
}

static int run_set_latency(struct ctx *ctx, const struct command *cmd, struct args *a)
{
    const char *source = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a->flags, "source"));
    double ms;

    if (!parse_number(a->pos[2], false, &ms))
        return usage_error(cmd, "MS: '%s' is not a number", a->pos[2]);
    if (source && strcmp(source, "measured") != 0 && strcmp(source, "configured") != 0)
        return usage_error(cmd, "--source must be measured or configured");
    if (!cJSON_AddStringToObject(a->flags, "a", a->pos[0]) ||
        !cJSON_AddStringToObject(a->flags, "b", a->pos[1]) ||
        !cJSON_AddNumberToObject(a->flags, "rtt_ms", ms))
        return oom();
    return send_flags(ctx, cmd, a, cmd->path);
}

static int run_help(struct ctx *ctx, const struct command *cmd, struct args *a)
{
    const struct command *which;

    (void)ctx;
    if (a->npos == 0) {
        usage(stdout);
        return RC_OK;
    }
    which = command_find(a->pos[0]);
    if (!which)
        return usage_error(cmd, "unknown command '%s'", a->pos[0]);
    usage_command(stdout, which);
    return RC_OK;
}

/* ---------------------------------------------------------------------------------------------
 * The command table.
 */

static const struct flag route_flags[] = {
    {"--precision", "P", FLAG_STRING, "precision", "fp64|fp32|tf32|bf16|fp16|fp8|int8 (required)"},
    {"--cards", "N", FLAG_INTEGER, "cards", "accelerators wanted (or --pflops)"},
    {"--pflops", "X", FLAG_NUMBER, "pflops", "sustained PFLOPS at that precision (or --cards)"},
    {"--hours", "H", FLAG_NUMBER, "hours", "how long"},
    {"--origin", "REGION", FLAG_STRING, "origin", "region the work is sent from"},
    {"--max-latency-ms", "X", FLAG_NUMBER, "max_latency_ms", "rtt ceiling from the origin"},
    {"--max-price", "X", FLAG_NUMBER, "max_price_per_card_hour", "CNY per card-hour after subsidy"},
    {"--min-memory-gib", "X", FLAG_NUMBER, "min_memory_gib", "accelerator memory floor"},
    {"--domestic-only", NULL, FLAG_TRUE, "domestic_only", "only domestic accelerators"},
    {"--region-allow", "R", FLAG_LIST, "regions_allowed", "only these regions (repeatable)"},
    {"--region-deny", "R", FLAG_LIST, "regions_denied", "never these regions (repeatable)"},
    {"--label", "K=V", FLAG_LABEL, "labels", "center label that must match (repeatable)"},
    {"--split", NULL, FLAG_FALSE, "gang", "cards may be split over several pools"},
    {"--voucher", "ID", FLAG_LIST, "vouchers", "voucher to apply (repeatable)"},
    {"--weights", "W", FLAG_WEIGHTS, "weights",
     "score weights cost=X,latency=Y,balance=Z (default 1, 0.5, 0.2)"},
    {"--hold-seconds", "N", FLAG_INTEGER, "hold_seconds", "hold lifetime (default 300)"},
    {"--dry-run", NULL, FLAG_TRUE, "dry_run", "only quote: the default for route"},
    {"--hold", NULL, FLAG_FALSE, "dry_run", "hold the capacity (as the hold command)"},
    {"--idempotency-key", "K", FLAG_HEADER, "Idempotency-Key",
     "a retry with the same key returns the same placement"},
    {NULL, NULL, FLAG_STRING, NULL, NULL},
};

static const struct flag decisions_flags[] = {
    {"--limit", "N", FLAG_INTEGER, "limit", "at most N decisions, newest first"},
    {NULL, NULL, FLAG_STRING, NULL, NULL},
};

static const struct flag latency_flags[] = {
    {"--source", "S", FLAG_STRING, "source", "measured or configured"},
    {NULL, NULL, FLAG_STRING, NULL, NULL},
};

static const struct command commands[] = {
    {"centers", "", "centers with status, pools, free/total cards, feed age", 0, 0, NULL,
     run_simple, "GET", "/v1/centers", show_centers},
    {"center", "ID", "one center: fields, labels, feed health, pools", 1, 1, NULL, run_simple,
     "GET", "/v1/centers/%s", show_center},
    {"pools", "", "every pool of every center", 0, 0, NULL, run_simple, "GET", "/v1/centers",
     show_pools},
    {"route", "--precision P (--cards N | --pflops X) [OPTIONS]",
     "where would this request go? a dry run unless --hold", 0, 0, route_flags, run_route, "POST",
     "/v1/placements", show_offer},
    {"hold", "--precision P (--cards N | --pflops X) [OPTIONS]", "hold capacity: route --hold", 0,
     0, route_flags, run_route, "POST", "/v1/placements", show_offer},
    {"explain", "DECISION", "a decision: candidates, verdicts, scores, why the runner-up lost", 1,
     1, NULL, run_simple, "GET", "/v1/decisions/%s", show_decision},
    {"decisions", "[--limit N]", "recent decisions", 0, 0, decisions_flags, run_decisions, "GET",
     "/v1/decisions", show_decisions},
    {"placements", "", "placements", 0, 0, NULL, run_simple, "GET", "/v1/placements",
     show_placements},
    {"placement", "ID", "one placement", 1, 1, NULL, run_simple, "GET", "/v1/placements/%s",
     show_placement},
    {"confirm", "ID", "confirm a held placement", 1, 1, NULL, run_simple, "POST",
     "/v1/placements/%s/confirm", show_placement},
    {"release", "ID", "release a held or confirmed placement", 1, 1, NULL, run_simple, "POST",
     "/v1/placements/%s/release", show_placement},
    {"vouchers", "", "compute vouchers (算力券)", 0, 0, NULL, run_simple, "GET", "/v1/vouchers",
     show_vouchers},
    {"voucher", "ID", "one voucher with its ledger", 1, 1, NULL, run_simple, "GET",
     "/v1/vouchers/%s", show_voucher},
    {"adapters", "", "feed adapters built into the broker, with their options", 0, 0, NULL,
     run_simple, "GET", "/v1/adapters", show_adapters},
    {"regions", "", "regions", 0, 0, NULL, run_simple, "GET", "/v1/regions", show_regions},
    {"latency", "", "the region latency matrix", 0, 0, NULL, run_simple, "GET", "/v1/latency",
     show_latency},
    {"set-latency", "A B MS [--source measured|configured]", "set the rtt between two regions", 3,
     3, latency_flags, run_set_latency, "PUT", "/v1/latency", show_latency_set},
    {"register", "FILE", "register a center from a JSON file (- reads stdin)", 1, 1, NULL, run_file,
     "POST", "/v1/centers", show_center},
    {"update", "ID FILE", "replace a center's definition", 2, 2, NULL, run_file, "PUT",
     "/v1/centers/%s", show_center},
    {"delete", "ID", "delete a center", 1, 1, NULL, run_simple, "DELETE", "/v1/centers/%s",
     show_deleted},
    {"push", "CENTER FILE", "push a native feed document for a center", 2, 2, NULL, run_file,
     "POST", "/v1/centers/%s/feed", show_object},
    {"tenant", "ID [NAME]", "create a tenant", 1, 2, NULL, run_tenant, "POST", "/v1/tenants",
     show_object},
    {"token", "ROLE SUBJECT", "issue a token (admin|operator|tenant); prints the token alone", 2, 2,
     NULL, run_token, "POST", "/v1/tokens", show_token},
    {"voucher-issue", "FILE", "issue a voucher from a JSON file", 1, 1, NULL, run_file, "POST",
     "/v1/vouchers", show_voucher},
    {"health", "", "is the broker up (GET /healthz)", 0, 0, NULL, run_simple, "GET", "/healthz",
     show_health},
    {"metrics", "", "Prometheus metrics (GET /metrics)", 0, 0, NULL, run_simple, "GET", "/metrics",
     show_raw},
    {"help", "[COMMAND]", "this help, or one command's", 0, 1, NULL, run_help, NULL, NULL, NULL},
};

static const struct command *command_find(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    }
    return NULL;
}

static void print_flags(FILE *f, const struct flag *flags)
{
    char left[64];
    const struct flag *fl;

    for (fl = flags; fl && fl->name; fl++) {
        snprintf(left, sizeof left, "%s%s%s", fl->name, fl->metavar ? " " : "",
                 fl->metavar ? fl->metavar : "");
        fprintf(f, "  %-34s %s\n", left, fl->help);
    }
}

static void usage_command(FILE *f, const struct command *cmd)
{
    fprintf(f, "usage: brokerctl [GLOBAL OPTIONS] %s%s%s\n\n%s\n", cmd->name,
            cmd->synopsis[0] ? " " : "", cmd->synopsis, cmd->help);
    if (cmd->flags) {
        fputs("\noptions:\n", f);
        print_flags(f, cmd->flags);
    }
    fputs("\nrun 'brokerctl help' for the global options and exit codes\n", f);
}

static void usage(FILE *f)
{
    char left[80];
    size_t i;

    fputs("usage: brokerctl [--url URL] [--token TOKEN] [--cacert FILE] [--json] COMMAND [ARGS]\n"
          "\n"
          "brokerctl talks to a suanwang broker (算力网 dispatcher) over HTTP/2: cleartext with\n"
          "prior knowledge for http:// URLs, TLS with ALPN h2 for https:// URLs.\n"
          "\n"
          "global options (also accepted after the command):\n"
          "  --url URL        broker URL (env SUANWANG_URL; default " DEFAULT_URL ")\n"
          "  --token TOKEN    bearer token (env SUANWANG_TOKEN); sent, never printed\n"
          "  --cacert FILE    CA certificates to verify an https broker with\n"
          "  --json           print the broker's JSON answer instead of tables\n"
          "  -h, --help       this help; 'brokerctl COMMAND --help' for one command\n"
          "\n"
          "commands:\n",
          f);
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        snprintf(left, sizeof left, "%s %s", commands[i].name, commands[i].synopsis);
        if (strlen(left) > 34)
            fprintf(f, "  %s\n  %-34s %s\n", left, "", commands[i].help);
        else
            fprintf(f, "  %-34s %s\n", left, commands[i].help);
    }
    fputs("\nroute and hold options (numbers are sent as JSON numbers):\n", f);
    print_flags(f, route_flags);
    fputs("\n"
          "FILE is JSON sent as is; '-' reads standard input. Errors are printed on stderr as\n"
          "  brokerctl: <status> <title>: <detail> (at <pointer>)\n"
          "with --json the broker's answer, error or not, is printed on stdout too.\n"
          "\n"
          "exit codes:\n"
          "  0  success\n"
          "  1  the broker answered an error (4xx/5xx), or an answer that could not be used\n"
          "  2  usage error: unknown command or option, bad or missing value, unreadable FILE\n"
          "  3  could not reach the broker: connection refused, DNS, TLS, timeout (5 s connect,\n"
          "     30 s total)\n"
          "  4  nothing fits: route/hold answered 409 no capacity (the reasons and the\n"
          "     decision id are printed; see 'brokerctl explain')\n",
          f);
}

/* ---------------------------------------------------------------------------------------------
 * main
 */

/* Fills ctx->url from --url, SUANWANG_URL or the default; token from SUANWANG_TOKEN. */
static int ctx_finish(struct ctx *ctx)
{
    const char *url = ctx->url_arg;
    size_t n;

    if (!url || !*url)
        url = getenv("SUANWANG_URL");
    if (!url || !*url)
        url = DEFAULT_URL;
    if (!ctx->token)
        ctx->token = getenv("SUANWANG_TOKEN");
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return usage_error(NULL, "broker URL must start with http:// or https://");
    if (has_control(url))
        return usage_error(NULL, "broker URL has control characters");
    if (ctx->token && has_control(ctx->token))
        return usage_error(NULL, "the token has control characters");
    n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    ctx->url = strndup(url, n);
    return ctx->url ? RC_OK : oom();
}

int main(int argc, char **argv)
{
    struct ctx ctx = {0};
    struct args a = {0};
    const struct command *cmd;
    int rc;
    int r;
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return RC_OK;
        }
        r = global_opt(&ctx, argc, argv, &i);
        if (r < 0)
            return RC_USAGE;
        if (r == 0)
            break;
    }
    if (i >= argc)
        return usage_error(NULL, "no command given");
    if (argv[i][0] == '-')
        return usage_error(NULL, "unknown option '%s'", argv[i]);
    cmd = command_find(argv[i]);
    if (!cmd)
        return usage_error(NULL, "unknown command '%s'", argv[i]);

    rc = args_parse(&ctx, cmd, argc - i - 1, argv + i + 1, &a);
    if (rc == RC_HELP) {
        rc = RC_OK;
        goto out;
    }
    if (rc != RC_OK)
        goto out;
    rc = ctx_finish(&ctx);
    if (rc != RC_OK)
        goto out;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        rc = oom();
        goto out;
    }
    rc = cmd->run(&ctx, cmd, &a);
    curl_global_cleanup();
    if (fflush(stdout) != 0 && rc == RC_OK) {
        fprintf(stderr, "brokerctl: cannot write the output: %s\n", strerror(errno));
        rc = RC_SERVER;
    }
out:
    args_free(&a);
    free(ctx.url);
    return rc;
}
