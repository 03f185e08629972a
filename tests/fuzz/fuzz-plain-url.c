/*
 * fuzz-plain-url — the h2c URL splitter against libcurl's parser on arbitrary
 * bytes (up to the first NUL, as a URL arrives from a feed's configuration):
 * every URL the splitter takes must split as libcurl splits it. Else abort().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plain-url-diff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = malloc(size + 1);
    if (!url)
        return 0;
    memcpy(url, data, size);
    url[size] = '\0';
    bool split;
    const char *why = plain_url_diff(url, &split);
    if (why) {
        fprintf(stderr, "fuzz-plain-url: %s: %s\n", why, url);
        abort();
    }
    free(url);
    return 0;
}
