/*
 * catalog — accelerator rows and name resolution. Names are compared in a
 * normal form (lower-case ASCII letters and digits only), so "NVIDIA-H100-80GB-
 * HBM3", "NVIDIA H100 80GB HBM3" and "nvidia_h100_80gb_hbm3" are one name. Pure.
 */
#include "catalog.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ASCII by definition, whatever the locale (and without a call per byte into its tables). */
static void normalise(const char *in, size_t inlen, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < inlen && in[i] && o + 1 < outlen; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c >= 'A' && c <= 'Z')
            out[o++] = (char)(c - 'A' + 'a');
        else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            out[o++] = (char)c;
    }
    out[o] = '\0';
}

/*
 * The aliases are kept sorted by key: true and *at = its index when key is there, else false
 * and *at = where it would go. Every pool of every poll is resolved through here.
 */
static bool alias_find(const struct catalog *cat, const char *key, size_t *at)
{
    size_t lo = 0, hi = cat->naliases;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(cat->aliases[mid].key, key);
        if (c == 0) {
            *at = mid;
            return true;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *at = lo;
    return false;
}

static int find_model(const struct catalog *cat, const char *model)
{
    for (size_t i = 0; i < cat->nentries; i++) {
        if (strcasecmp(cat->entries[i].model, model) == 0)
            return (int)i;
    }
    return -1;
}

int catalog_add(struct catalog *cat, const struct catalog_entry *e)
{
    if (find_model(cat, e->model) >= 0)
        return -EEXIST;
    struct catalog_entry *n = realloc(cat->entries, (cat->nentries + 1) * sizeof(*n));
    if (!n)
        return -ENOMEM;
    cat->entries = n;
    cat->entries[cat->nentries++] = *e;
    return catalog_alias(cat, e->model, e->model);
}

int catalog_alias(struct catalog *cat, const char *alias, const char *model)
{
    int idx = find_model(cat, model);
    if (idx < 0)
        return -ENOENT;
    struct catalog_alias a = {.entry = (size_t)idx};
    normalise(alias, strlen(alias), a.key, sizeof(a.key));
    if (a.key[0] == '\0')
        return -EINVAL;
    size_t at;
    if (alias_find(cat, a.key, &at)) {
        cat->aliases[at].entry = a.entry; /* the later mapping wins */
        return 0;
    }
    struct catalog_alias *n = realloc(cat->aliases, (cat->naliases + 1) * sizeof(*n));
    if (!n)
        return -ENOMEM;
    cat->aliases = n;
    memmove(n + at + 1, n + at, (cat->naliases - at) * sizeof(*n));
    n[at] = a;
    cat->naliases++;
    return 0;
}

const struct catalog_entry *catalog_resolve(const struct catalog *cat, const char *name)
{
    char key[96];
    if (!name)
        return NULL;
    while (isspace((unsigned char)*name))
        name++;
    const char *start = name;
    size_t len = strlen(name);
    /* Slurm GRES "gpu:a100:8(S:0-1)": keep the type between the colons. */
    if (strncasecmp(start, "gpu:", 4) == 0) {
        start += 4;
        len -= 4;
    }
    const char *paren = memchr(start, '(', len);
    if (paren)
        len = (size_t)(paren - start);
    const char *colon = memchr(start, ':', len);
    if (colon)
        len = (size_t)(colon - start);
    normalise(start, len, key, sizeof(key));
    if (key[0] == '\0')
        return NULL;
    size_t at;
    return alias_find(cat, key, &at) ? &cat->entries[cat->aliases[at].entry] : NULL;
}

void catalog_free(struct catalog *cat)
{
    if (!cat)
        return;
    free(cat->entries);
    free(cat->aliases);
    memset(cat, 0, sizeof(*cat));
}
