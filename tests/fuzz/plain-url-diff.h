/*
 * plain-url-diff — plain_url_split() against libcurl's URL parser, for the fuzz
 * target and the unit test: a URL the plain splitter takes must split exactly
 * as libcurl splits it.
 */
#ifndef SUANWANG_PLAIN_URL_DIFF_H
#define SUANWANG_PLAIN_URL_DIFF_H

#include <stdbool.h>

/* NULL when they agree (or the splitter declines); else what differs. *split: it took url. */
const char *plain_url_diff(const char *url, bool *split);

#endif
