/*
 * fuzz-request — request_parse (POST /v1/placements) on arbitrary bytes, from
 * an exact-size heap copy without a terminator as the body arrives. Checks the
 * contract api_placements.c relies on: a failure returns -EINVAL or -ENOMEM and
 * leaves nothing to free (the caller does not call request_free then); a
 * success is freed with request_free. Violations abort().
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
    fprintf(stderr, "fuzz-request: %s\n", what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = malloc(size ? size : 1);
    if (!body)
        return 0;
    if (size)
        memcpy(body, data, size);

    struct placement_request req;
    struct json_error err;
    memset(&req, 0, sizeof(req));
    memset(&err, 0, sizeof(err));
    int r = request_parse(body, size, &req, &err);
    if (r == 0) {
        if (!req.doc)
            die("success without the parsed document");
        if (req.nvouchers > REQUEST_MAX_LIST)
            die("more vouchers than REQUEST_MAX_LIST");
        for (size_t i = 0; i < req.nvouchers; i++)
            (void)strlen(req.vouchers[i]);
        if (req.origin)
            (void)strlen(req.origin);
        if (req.hold_seconds < 1 || req.hold_seconds > REQUEST_MAX_HOLD_S)
            die("hold_seconds out of range");
        request_free(&req);
    } else if (r == -EINVAL || r == -ENOMEM) {
        if (!memchr(err.pointer, '\0', sizeof(err.pointer)) ||
            !memchr(err.detail, '\0', sizeof(err.detail)))
            die("unterminated error");
        if (req.doc || req.vouchers || req.allowed || req.denied || req.labels)
            die("a failed parse left memory in the request");
    } else {
        die("request_parse returned neither 0, -EINVAL nor -ENOMEM");
    }
    free(body);
    return 0;
}
