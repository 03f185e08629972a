/*
 * native — the two readers behind the native adapter. native_scan reads a plain
 * document in one pass without building a tree; anything out of the ordinary it
 * leaves to native_parse_strict, the cJSON reader that names the field at fault.
 * Every document the scanner accepts, the strict reader accepts with the same
 * snapshot (the native-scan fuzz target checks this on every input). Pure: no I/O.
 */
#ifndef SUANWANG_NATIVE_H
#define SUANWANG_NATIVE_H

#include <stddef.h>

#include "adapter.h"

/*
 * Returns 1 and fills *ret (free with feed_snapshot_free) when text is a valid
 * native document of plain form: ASCII, no escapes in strings, standard white
 * space, numbers whose value is exact in one step (at most 15 significant
 * digits and a power of ten up to 22), no null inside tflops. Returns 0, with
 * *ret empty, for every other document, valid or not; -ENOMEM.
 */
int native_scan(const char *text, size_t len, struct feed_snapshot *ret);

/* The strict reader: 0 and *ret, or -EINVAL with *err naming the field, or -ENOMEM. */
int native_parse_strict(const char *text, size_t len, struct feed_snapshot *ret,
                        struct json_error *err);

#endif
