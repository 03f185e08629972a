/*
 * catalog — the accelerator catalog in memory and the resolution of the names
 * feeds really use (short names, DCGM / nvidia-smi product names, Kubernetes
 * label values, Slurm GRES types) to one catalog row. Pure: the rows come from
 * the store; this module only holds and matches them.
 */
#ifndef SUANWANG_CATALOG_H
#define SUANWANG_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"

struct catalog_entry {
    char model[48]; /* canonical short name, e.g. "A100" */
    char name[96];  /* full product name */
    char vendor[32];
    bool domestic;
    double memory_gib;
    double tflops[PREC_COUNT]; /* dense peak; 0 = unsupported */
};

struct catalog_alias {
    char key[96]; /* normalised: lower-case letters and digits only */
    size_t entry; /* index into entries */
};

struct catalog {
    struct catalog_entry *entries; /* owned */
    size_t nentries;
    struct catalog_alias *aliases; /* owned */
    size_t naliases;
};

/* Adds a row (copied). Returns 0, -EEXIST for a duplicate model, or -ENOMEM. */
int catalog_add(struct catalog *cat, const struct catalog_entry *e);

/* Maps an alias to an existing model. Returns 0, -ENOENT (no such model) or -ENOMEM. */
int catalog_alias(struct catalog *cat, const char *alias, const char *model);

/*
 * Resolves a name as a feed wrote it: trims, strips a GRES "gpu:" prefix and
 * ":count" / "(...)" suffixes, then matches the canonical models and aliases
 * case- and punctuation-insensitively. Returns the row or NULL.
 */
const struct catalog_entry *catalog_resolve(const struct catalog *cat, const char *name);

/* Frees the rows and aliases; the struct may be reused. NULL is a no-op. */
void catalog_free(struct catalog *cat);

#endif
