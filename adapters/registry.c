/*
 * registry — the table of adapters built into the broker. A new feed format
 * is one file in adapters/ and one row here.
 */
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

const struct adapter *const adapter_registry[] = {
    &adapter_native,
    NULL,
};

const struct adapter *adapter_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; adapter_registry[i]; i++) {
        if (strcmp(adapter_registry[i]->name, name) == 0)
            return adapter_registry[i];
    }
    return NULL;
}

void feed_snapshot_free(struct feed_snapshot *s)
{
    if (!s)
        return;
    free(s->pools);
    memset(s, 0, sizeof(*s));
}
