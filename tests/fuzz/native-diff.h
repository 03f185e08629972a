/*
 * native-diff — the native adapter's scanner held against its strict reader on
 * one document (see adapters/native.h). Used by the native-scan fuzz target
 * and by the unit test test-native-scan.
 */
#ifndef SUANWANG_NATIVE_DIFF_H
#define SUANWANG_NATIVE_DIFF_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Reads doc (exactly len bytes, no terminator needed) with both readers.
 * Returns NULL when they agree: the scanner declined and left nothing behind,
 * or both read the same snapshot, bit for bit. Otherwise a sentence saying
 * what differs. *scanned tells whether the scanner read the document.
 */
const char *native_diff(const char *doc, size_t len, bool *scanned);

#endif
