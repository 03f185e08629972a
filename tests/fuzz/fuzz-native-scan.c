/*
 * fuzz-native-scan — the native adapter's one-pass scanner against its strict
 * reader on arbitrary bytes (an exact-size heap copy without a terminator, as
 * a body arrives): every document the scanner reads, the strict reader must
 * read to the same snapshot; a declined one leaves nothing. Else abort().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "native-diff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *doc = malloc(size ? size : 1);
    if (!doc)
        return 0;
    if (size)
        memcpy(doc, data, size);
    bool scanned;
    const char *why = native_diff(doc, size, &scanned);
    if (why) {
        fprintf(stderr, "fuzz-native-scan: %s\n", why);
        abort();
    }
    free(doc);
    return 0;
}
