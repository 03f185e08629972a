/*
 * json — strict reading of request and feed documents on top of cJSON: every
 * field checked for type and range, unknown fields refused, and every error
 * carrying the JSON pointer of the field at fault. Also small writers for the
 * broker's responses. Pure: no I/O.
 */
#ifndef SUANWANG_JSON_H
#define SUANWANG_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

struct label;

/* What was wrong with a document: the field's JSON pointer and a sentence. */
struct json_error {
    char pointer[256]; /* "" for the whole document */
    char detail[256];
};

/* Records an error; prefix is the parent's pointer ("" for the root). Returns -EINVAL. */
int json_fail(struct json_error *err, const char *prefix, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Builds "prefix/key" with ~ and / escaped per RFC 6901 into buf. */
void json_pointer(char *buf, size_t len, const char *prefix, const char *key);

/*
 * Parses text as a JSON object. Returns 0 and *ret (caller frees), -EINVAL, or
 * -ENOMEM. cJSON reports an allocation failure inside its parser as a parse
 * error, so that one surfaces as -EINVAL ("malformed JSON") too.
 */
int json_parse_object(const char *text, size_t len, cJSON **ret, struct json_error *err);

/* Refuses any member of obj not named in allowed (NULL-terminated). */
int json_only(const cJSON *obj, const char *const *allowed, const char *prefix,
              struct json_error *err);

/*
 * Typed getters. A missing or null member is an error when required, else
 * leaves *ret untouched and returns 0 with *present false (present may be NULL).
 * Strings are borrowed from obj and must be 1..maxlen bytes of printable text.
 */
int json_get_string(const cJSON *obj, const char *key, const char *prefix, bool required,
                    size_t maxlen, const char **ret, bool *present, struct json_error *err);
int json_get_number(const cJSON *obj, const char *key, const char *prefix, bool required,
                    double min, double max, double *ret, bool *present, struct json_error *err);
int json_get_long(const cJSON *obj, const char *key, const char *prefix, bool required, long min,
                  long max, long *ret, bool *present, struct json_error *err);
int json_get_bool(const cJSON *obj, const char *key, const char *prefix, bool required, bool *ret,
                  bool *present, struct json_error *err);

/*
 * An array of strings (at most maxn, each 1..maxlen bytes) as a malloc'ed array
 * of pointers borrowed from obj; *ret_n its length. Free the array, not the strings.
 */
int json_get_strings(const cJSON *obj, const char *key, const char *prefix, size_t maxn,
                     size_t maxlen, const char ***ret, size_t *ret_n, struct json_error *err);

/* An object of string values as a malloc'ed label array borrowing from obj. */
int json_get_labels(const cJSON *obj, const char *key, const char *prefix, size_t maxn,
                    size_t maxlen, struct label **ret, size_t *ret_n, struct json_error *err);

/* True when s is a usable identifier: 1..64 of [A-Za-z0-9._:-], starting alphanumeric. */
bool json_valid_id(const char *s);

/*
 * Adds a number rounded to 6 decimals (money, ms) so output stays readable.
 * Below 1e9 the member is a raw JSON number (written fast, read back as a
 * number by any parser); null when v is not finite.
 */
cJSON *json_add_number(cJSON *obj, const char *key, double v);

#endif
