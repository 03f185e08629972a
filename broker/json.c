/*
 * json — strict document reading over cJSON with JSON-pointer errors, and a
 * few response helpers. Numbers must be finite and in range, integers must be
 * whole, strings printable and bounded. Pure: no I/O.
 */
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"

void json_pointer(char *buf, size_t len, const char *prefix, const char *key)
{
    size_t off = 0;
    if (len == 0)
        return;
    buf[0] = '\0';
    if (prefix) {
        int n = snprintf(buf, len, "%s", prefix);
        off = n < 0 ? 0 : ((size_t)n < len ? (size_t)n : len - 1);
    }
    if (!key)
        return;
    if (off + 1 < len)
        buf[off++] = '/';
    for (const char *k = key; *k && off + 2 < len; k++) {
        if (*k == '~' || *k == '/') {
            buf[off++] = '~';
            buf[off++] = *k == '~' ? '0' : '1';
        } else {
            buf[off++] = *k;
        }
    }
    buf[off] = '\0';
}

int json_fail(struct json_error *err, const char *prefix, const char *key, const char *fmt, ...)
{
    if (!err)
        return -EINVAL;
    json_pointer(err->pointer, sizeof(err->pointer), prefix, key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/*
 * True when the text holds the escape \u0000. cJSON would decode it to a NUL
 * that silently cuts the C string short; the parser rewrites it to \u0001 so
 * the field's own check refuses the control character and names its pointer.
 */
static bool has_nul_escape(const char *text, size_t len)
{
    size_t i = 0;
    while (i + 1 < len) {
        const char *bs = memchr(text + i, '\\', len - 1 - i); /* most documents have none */
        if (!bs)
            return false;
        i = (size_t)(bs - text);
        if (text[i + 1] == 'u' && i + 5 < len && memcmp(text + i + 2, "0000", 4) == 0)
            return true;
        i += 2; /* past the escaped character */
    }
    return false;
}

/* Offset of the first byte that breaks UTF-8 (overlong, surrogate, > U+10FFFF), or len. */
static size_t utf8_invalid_at(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        /* ASCII, eight bytes at a time: nearly every byte of a document. */
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + i, sizeof(w));
            if (w & 0x8080808080808080ull)
                break;
            i += 8;
        }
        if (i >= len)
            break;
        unsigned char c = s[i];
        size_t n;
        unsigned cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return i;
        }
        for (size_t k = 1; k <= n; k++) {
            if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
                return i;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return i;
        i += n + 1;
    }
    return len;
}

int json_parse_object(const char *text, size_t len, cJSON **ret, struct json_error *err)
{
    const char *end = NULL;
    if (!text || len == 0)
        return json_fail(err, "", NULL, "the body is empty; a JSON object is expected");
    size_t bad = text ? utf8_invalid_at((const unsigned char *)text, len) : 0;
    if (text && bad < len)
        return json_fail(err, "", NULL, "the body is not valid UTF-8 (byte %zu)", bad);
    char *copy = NULL;
    if (has_nul_escape(text, len)) {
        copy = malloc(len);
        if (!copy)
            return -ENOMEM;
        memcpy(copy, text, len);
        for (size_t i = 0; i + 5 < len; i++) {
            if (copy[i] != '\\')
                continue;
            if (copy[i + 1] == 'u' && memcmp(copy + i + 2, "0000", 4) == 0)
                copy[i + 5] = '1';
            i++;
        }
        text = copy;
    }
    cJSON *doc = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!doc) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = at && at >= text && at <= text + len ? (size_t)(at - text) : 0;
        free(copy);
        return json_fail(err, "", NULL, "malformed JSON near byte %zu", off);
    }
    /* Only white space may follow the value. */
    while (end && end < text + len &&
           (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t' || *end == '\0'))
        end++;
    size_t tail = end && end < text + len ? (size_t)(end - text) : len;
    free(copy);
    if (tail < len) {
        cJSON_Delete(doc);
        return json_fail(err, "", NULL, "unexpected data after the JSON value at byte %zu", tail);
    }
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        return json_fail(err, "", NULL, "a JSON object is expected");
    }
    *ret = doc;
    return 0;
}

int json_only(const cJSON *obj, const char *const *allowed, const char *prefix,
              struct json_error *err)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        for (const cJSON *prev = obj->child; prev && prev != it; prev = prev->next) {
            if (prev->string && it->string && strcmp(prev->string, it->string) == 0)
                return json_fail(err, prefix, it->string, "appears twice");
        }
        bool ok = false;
        for (size_t i = 0; allowed[i]; i++) {
            if (it->string && strcmp(it->string, allowed[i]) == 0) {
                ok = true;
                break;
            }
        }
        if (!ok)
            return json_fail(err, prefix, it->string ? it->string : "", "unknown field");
    }
    return 0;
}

static const cJSON *member(const cJSON *obj, const char *key, bool *present)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v && cJSON_IsNull(v))
        v = NULL;
    if (present)
        *present = v != NULL;
    return v;
}

static bool printable(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return false;
    }
    return true;
}

static int check_string(const cJSON *v, const char *key, const char *prefix, size_t maxlen,
                        struct json_error *err)
{
    if (!cJSON_IsString(v) || !v->valuestring)
        return json_fail(err, prefix, key, "must be a string");
    size_t n = strlen(v->valuestring);
    if (n == 0)
        return json_fail(err, prefix, key, "must not be empty");
    if (n > maxlen)
        return json_fail(err, prefix, key, "is longer than %zu bytes", maxlen);
    if (!printable(v->valuestring))
        return json_fail(err, prefix, key, "contains control characters");
    return 0;
}

int json_get_string(const cJSON *obj, const char *key, const char *prefix, bool required,
                    size_t maxlen, const char **ret, bool *present, struct json_error *err)
{
    const cJSON *v = member(obj, key, present);
    if (!v)
        return required ? json_fail(err, prefix, key, "is required") : 0;
    int r = check_string(v, key, prefix, maxlen, err);
    if (r < 0)
        return r;
    *ret = v->valuestring;
    return 0;
}

int json_get_number(const cJSON *obj, const char *key, const char *prefix, bool required,
                    double min, double max, double *ret, bool *present, struct json_error *err)
{
    const cJSON *v = member(obj, key, present);
    if (!v)
        return required ? json_fail(err, prefix, key, "is required") : 0;
    if (!cJSON_IsNumber(v))
        return json_fail(err, prefix, key, "must be a number");
    double d = v->valuedouble;
    if (!isfinite(d))
        return json_fail(err, prefix, key, "must be a finite number");
    if (d < min || d > max)
        return json_fail(err, prefix, key, "must be between %g and %g", min, max);
    *ret = d;
    return 0;
}

int json_get_long(const cJSON *obj, const char *key, const char *prefix, bool required, long min,
                  long max, long *ret, bool *present, struct json_error *err)
{
    const cJSON *v = member(obj, key, present);
    if (!v)
        return required ? json_fail(err, prefix, key, "is required") : 0;
    if (!cJSON_IsNumber(v))
        return json_fail(err, prefix, key, "must be an integer");
    double d = v->valuedouble;
    if (!isfinite(d) || d != floor(d))
        return json_fail(err, prefix, key, "must be an integer");
    /* 2^63 does not fit a long, and (double)LONG_MAX rounds up to it. */
    if (d >= 9223372036854775808.0 || d < -9223372036854775808.0 || (long)d < min || (long)d > max)
        return json_fail(err, prefix, key, "must be between %ld and %ld", min, max);
    *ret = (long)d;
    return 0;
}

int json_get_bool(const cJSON *obj, const char *key, const char *prefix, bool required, bool *ret,
                  bool *present, struct json_error *err)
{
    const cJSON *v = member(obj, key, present);
    if (!v)
        return required ? json_fail(err, prefix, key, "is required") : 0;
    if (!cJSON_IsBool(v))
        return json_fail(err, prefix, key, "must be true or false");
    *ret = cJSON_IsTrue(v);
    return 0;
}

int json_get_strings(const cJSON *obj, const char *key, const char *prefix, size_t maxn,
                     size_t maxlen, const char ***ret, size_t *ret_n, struct json_error *err)
{
    char ptr[256];
    const cJSON *v = member(obj, key, NULL);
    *ret = NULL;
    *ret_n = 0;
    if (!v)
        return 0;
    if (!cJSON_IsArray(v))
        return json_fail(err, prefix, key, "must be an array of strings");
    int n = cJSON_GetArraySize(v);
    if (n < 0 || (size_t)n > maxn)
        return json_fail(err, prefix, key, "has more than %zu entries", maxn);
    if (n == 0)
        return 0;
    const char **arr = calloc((size_t)n, sizeof(*arr));
    if (!arr)
        return -ENOMEM;
    json_pointer(ptr, sizeof(ptr), prefix, key);
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        char idx[24];
        snprintf(idx, sizeof(idx), "%zu", i);
        int r = check_string(it, idx, ptr, maxlen, err);
        if (r < 0) {
            free(arr);
            return r;
        }
        arr[i++] = it->valuestring;
    }
    *ret = arr;
    *ret_n = i;
    return 0;
}

int json_get_labels(const cJSON *obj, const char *key, const char *prefix, size_t maxn,
                    size_t maxlen, struct label **ret, size_t *ret_n, struct json_error *err)
{
    char ptr[256];
    const cJSON *v = member(obj, key, NULL);
    *ret = NULL;
    *ret_n = 0;
    if (!v)
        return 0;
    if (!cJSON_IsObject(v))
        return json_fail(err, prefix, key, "must be an object of string values");
    int n = cJSON_GetArraySize(v);
    if (n < 0 || (size_t)n > maxn)
        return json_fail(err, prefix, key, "has more than %zu entries", maxn);
    if (n == 0)
        return 0;
    struct label *arr = calloc((size_t)n, sizeof(*arr));
    if (!arr)
        return -ENOMEM;
    json_pointer(ptr, sizeof(ptr), prefix, key);
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        const char *k = it->string ? it->string : "";
        if (strlen(k) == 0 || strlen(k) > maxlen || !printable(k)) {
            free(arr);
            return json_fail(err, ptr, k, "label keys must be 1..%zu printable bytes", maxlen);
        }
        int r = check_string(it, k, ptr, maxlen, err);
        for (size_t j = 0; r == 0 && j < i; j++) {
            if (strcmp(arr[j].key, k) == 0)
                r = json_fail(err, ptr, k, "appears twice");
        }
        if (r < 0) {
            free(arr);
            return r;
        }
        arr[i].key = k;
        arr[i].value = it->valuestring;
        i++;
    }
    *ret = arr;
    *ret_n = i;
    return 0;
}

bool json_valid_id(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (i == 0 && !alnum)
            return false;
        if (!alnum && c != '.' && c != '_' && c != '-' && c != ':')
            return false;
    }
    return true;
}

/*
 * Writes v rounded to 6 decimals ("131328", "0.3", "-2.000001") into buf (>= 32
 * bytes) with integer arithmetic: decision records hold thousands of numbers,
 * and printf's %g with cJSON's round-trip check dominated their cost.
 */
static void format_6(double v, char *buf)
{
    long long scaled = llround(v * 1e6);
    unsigned long long a =
        scaled < 0 ? (unsigned long long)(-(scaled + 1)) + 1 : (unsigned long long)scaled;
    unsigned long long ip = a / 1000000, fp = a % 1000000;
    char tmp[32];
    size_t n = 0, o = 0;
    if (scaled < 0)
        buf[o++] = '-';
    do {
        tmp[n++] = (char)('0' + ip % 10);
        ip /= 10;
    } while (ip);
    while (n)
        buf[o++] = tmp[--n];
    if (fp) {
        int digits = 6;
        while (fp % 10 == 0) {
            fp /= 10;
            digits--;
        }
        buf[o++] = '.';
        for (int d = digits - 1; d >= 0; d--) {
            buf[o + (size_t)d] = (char)('0' + fp % 10);
            fp /= 10;
        }
        o += (size_t)digits;
    }
    buf[o] = '\0';
}

cJSON *json_add_number(cJSON *obj, const char *key, double v)
{
    if (!isfinite(v))
        return cJSON_AddNullToObject(obj, key);
    if (fabs(v) >= 1e9) { /* v * 1e6 must stay exact in a double (below 2^53) */
        double r = round(v * 1e6) / 1e6;
        return cJSON_AddNumberToObject(obj, key, r);
    }
    char buf[32];
    format_6(v, buf);
    if (strcmp(buf, "-0") == 0)
        buf[0] = '0', buf[1] = '\0';
    return cJSON_AddRawToObject(obj, key, buf);
}
