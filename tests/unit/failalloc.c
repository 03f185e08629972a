/*
 * failalloc — the allocation shim behind the failure sweeps: the --wrap
 * entry points, cJSON's hooks, the failure schedule and a table of live
 * blocks. Blocks the table does not know (allocated inside libc or another
 * library) are passed through untouched, so freeing them stays correct.
 */
#include "failalloc.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "check.h"

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void __real_free(void *p);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
char *__wrap_strdup(const char *s);
void __wrap_free(void *p);

static unsigned long fail_at;  /* 0: armed at nothing */
static bool fail_persistent;   /* fail every attempt from fail_at on */
static unsigned long attempts; /* since the last arm */
static unsigned long injected; /* failures since the last arm */
static enum failalloc_source first_source;

/* Live blocks: open addressing with tombstones; large enough for any one test. */
#define LIVE_SLOTS (1u << 17)
#define TOMBSTONE ((void *)1)
static void *live[LIVE_SLOTS];
static long nlive;

static size_t slot_of(const void *p)
{
    uintptr_t h = (uintptr_t)p;
    h ^= h >> 17;
    h *= (uintptr_t)0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 7) & (LIVE_SLOTS - 1);
}

static void live_add(void *p)
{
    size_t i = slot_of(p);
    while (live[i] && live[i] != TOMBSTONE)
        i = (i + 1) & (LIVE_SLOTS - 1);
    live[i] = p;
    nlive++;
}

/* Removes p; false when it is not ours. */
static bool live_remove(void *p)
{
    size_t i = slot_of(p);
    for (size_t k = 0; k < LIVE_SLOTS && live[i]; k++) {
        if (live[i] == p) {
            live[i] = TOMBSTONE;
            nlive--;
            return true;
        }
        i = (i + 1) & (LIVE_SLOTS - 1);
    }
    return false;
}

bool failalloc_should_fail(enum failalloc_source src)
{
    attempts++;
    bool fail = fail_at && (attempts == fail_at || (fail_persistent && attempts > fail_at));
    if (fail) {
        if (!injected)
            first_source = src;
        injected++;
    }
    return fail;
}

void failalloc_arm(unsigned long n, bool persistent)
{
    fail_at = n;
    fail_persistent = persistent;
    attempts = 0;
    injected = 0;
    first_source = FAILALLOC_LIBC;
}

unsigned long failalloc_disarm(void)
{
    fail_at = 0;
    return injected;
}

unsigned long failalloc_attempts(void)
{
    return attempts;
}

enum failalloc_source failalloc_first_source(void)
{
    return first_source;
}

long failalloc_live(void)
{
    return nlive;
}

static void *counted_malloc(size_t size, enum failalloc_source src)
{
    if (failalloc_should_fail(src)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = __real_malloc(size ? size : 1);
    if (p)
        live_add(p);
    return p;
}

void *__wrap_malloc(size_t size)
{
    return counted_malloc(size, FAILALLOC_LIBC);
}

void *__wrap_calloc(size_t n, size_t size)
{
    if (failalloc_should_fail(FAILALLOC_LIBC)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = __real_calloc(n ? n : 1, size ? size : 1);
    if (p)
        live_add(p);
    return p;
}

void *__wrap_realloc(void *p, size_t size)
{
    if (!p)
        return __wrap_malloc(size);
    if (size == 0) {
        __wrap_free(p);
        return NULL;
    }
    if (failalloc_should_fail(FAILALLOC_LIBC)) {
        errno = ENOMEM;
        return NULL; /* the old block stays valid, as realloc promises */
    }
    bool ours = live_remove(p);
    void *q = __real_realloc(p, size);
    if (q && ours)
        live_add(q);
    else if (!q && ours)
        live_add(p);
    return q;
}

char *__wrap_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = __wrap_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

void __wrap_free(void *p)
{
    if (!p)
        return;
    live_remove(p);
    __real_free(p);
}

static void *cjson_malloc(size_t size)
{
    return counted_malloc(size, FAILALLOC_CJSON);
}

void failalloc_install_cjson(void)
{
    cJSON_Hooks hooks = {.malloc_fn = cjson_malloc, .free_fn = __wrap_free};
    cJSON_InitHooks(&hooks);
}

bool failalloc_asan(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    return true;
#else
    return false;
#endif
#else
    return false;
#endif
}

#define SWEEP_MAX 200000UL /* an operation that allocates more is a finding of its own */

struct verdict {
    unsigned long runs;     /* attempts that met an injected failure */
    unsigned long bad;      /* attempts that misbehaved */
    char first_bad[320];    /* what the first of them did */
    unsigned long complete; /* allocations of the run that met no failure */
};

static void verdict_bad(struct verdict *v, unsigned long n, bool persistent, const char *what)
{
    if (v->bad++ == 0)
        snprintf(v->first_bad, sizeof(v->first_bad), "allocation %lu%s: %s", n,
                 persistent ? " on" : "", what);
}

void failalloc_sweep(const struct failalloc_sweep *sw, void *ctx)
{
    const char *full = getenv("SUANWANG_SWEEP_FULL");
    unsigned long stride = sw->stride > 1 && !(full && strcmp(full, "1") == 0) ? sw->stride : 1;
    for (int mode = 0; mode < 2; mode++) {
        bool persistent = mode == 1;
        struct verdict v = {0};
        for (unsigned long n = 1; n <= SWEEP_MAX; n += stride) {
            const char *what = sw->before ? sw->before(ctx) : NULL;
            if (what) {
                verdict_bad(&v, n, persistent, what);
                break;
            }
            long before = failalloc_live();
            long other = sw->other_live ? sw->other_live() : 0;
            int r = 0;
            failalloc_arm(n, persistent);
            what = sw->op(ctx, &r);
            unsigned long attempts = failalloc_attempts();
            unsigned long injected = failalloc_disarm();
            char msg[128];
            if (!what && failalloc_live() != before) {
                snprintf(msg, sizeof(msg), "%ld blocks leaked (result %d)",
                         failalloc_live() - before, r);
                what = msg;
            }
            if (!what && sw->other_live && sw->other_live() != other) {
                snprintf(msg, sizeof(msg), "%ld of the library's blocks leaked (result %d)",
                         sw->other_live() - other, r);
                what = msg;
            }
            if (!what && injected == 0 && r != 0) {
                snprintf(msg, sizeof(msg), "failed with %d though no allocation failed", r);
                what = msg;
            }
            if (!what && sw->after)
                what = sw->after(ctx, r);
            if (what)
                verdict_bad(&v, n, persistent, what);
            if (injected == 0) {
                v.complete = attempts;
                break;
            }
            v.runs++;
        }
        char every[48] = "";
        if (stride > 1)
            snprintf(every, sizeof(every), " (every %luth N)", stride);
        CHECK(v.bad == 0 && v.complete > 0,
              "%s, failing %s%s: %lu runs met a failure, %lu misbehaved (%lu allocations when "
              "none fails)%s%s",
              sw->name, persistent ? "from the Nth allocation on" : "the Nth allocation", every,
              v.runs, v.bad, v.complete, v.bad ? "; first: " : "", v.bad ? v.first_bad : "");
        fflush(stdout);
    }
}
