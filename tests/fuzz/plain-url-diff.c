/* plain-url-diff — see plain-url-diff.h. */
#include "plain-url-diff.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "plain_url.h"

const char *plain_url_diff(const char *url, bool *split)
{
    struct plain_url pu;
    *split = plain_url_split(url, &pu) == 0;
    if (!*split)
        return NULL;
    CURLU *u = curl_url();
    if (!u)
        return NULL; /* out of memory: nothing to compare */
    char *host = NULL, *port = NULL, *path = NULL, *query = NULL, *user = NULL, *scheme = NULL;
    const char *why = NULL;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
        why = "libcurl refuses a URL the splitter took";
    else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
             strcmp(scheme, "http") != 0)
        why = "the scheme differs";
    else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
             strlen(host) != pu.host_len || memcmp(host, pu.host, pu.host_len) != 0)
        why = "the host differs";
    else if (curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
             strtoul(port, NULL, 10) != pu.port)
        why = "the port differs";
    else if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK)
        why = "libcurl sees a user name";
    else if (curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
        why = "libcurl has no path";
    else {
        curl_url_get(u, CURLUPART_QUERY, &query, 0);
        size_t np = strlen(path);
        if (strncmp(pu.path, path, np) != 0)
            why = "the path differs";
        else if (query ? pu.path[np] != '?' || strcmp(pu.path + np + 1, query) != 0
                       : pu.path[np] != '\0')
            why = "the query differs";
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    curl_free(user);
    curl_url_cleanup(u);
    return why;
}
