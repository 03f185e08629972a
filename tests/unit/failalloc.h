/*
 * failalloc — a test-only allocator shim for allocation-failure sweeps. The
 * test is linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,
 * --wrap=strdup,--wrap=free, so every allocation of the broker code linked
 * into it passes here; cJSON's allocations come here through its hooks and a
 * test may route another library's allocator through failalloc_should_fail.
 * Each allocation attempt is numbered from the last arm; the armed one (or,
 * persistent, it and every later one) fails. Live blocks are counted, so a
 * test can assert that a failed operation freed everything it took.
 * Single-threaded.
 */
#ifndef SUANWANG_FAILALLOC_H
#define SUANWANG_FAILALLOC_H

#include <stdbool.h>
#include <stddef.h>

/* Where an allocation came from, for the test's verdicts. */
enum failalloc_source {
    FAILALLOC_LIBC,  /* malloc, calloc, realloc, strdup of the code under test */
    FAILALLOC_CJSON, /* cJSON's hooks */
    FAILALLOC_OTHER, /* another library's allocator (e.g. SQLite's) */
};

/*
 * Fails the nth allocation attempt from now (1-based); with persistent, every
 * attempt from the nth on. 0 disarms. Resets the attempt counter and the
 * record of injected failures.
 */
void failalloc_arm(unsigned long n, bool persistent);
/* Disarms; returns how many allocations were failed since the last arm. */
unsigned long failalloc_disarm(void);
/* Allocation attempts since the last arm. */
unsigned long failalloc_attempts(void);
/* The source of the first failed allocation since the last arm. */
enum failalloc_source failalloc_first_source(void);

/* Blocks from malloc, calloc, realloc, strdup and cJSON's hooks not yet freed. */
long failalloc_live(void);

/* Installs counting, failing hooks into cJSON (cJSON_InitHooks). */
void failalloc_install_cjson(void);

/* For another library's allocator: counts the attempt; true when it must fail. */
bool failalloc_should_fail(enum failalloc_source src);

/*
 * A sweep: for N = 1, 2, ... the Nth allocation of op fails (one pass failing
 * only it, one failing it and every later one) until op runs without meeting
 * a failure, which must then succeed. before and after run unarmed around
 * each attempt (either may be NULL); each step returns NULL when all was
 * well, else a sentence saying what went wrong. op stores its operation's
 * result (0 or a negative errno) in *ret. The blocks live after op must be
 * those live before it, and with other_live set, so must that count (another
 * library's blocks). One TAP point per pass.
 */
struct failalloc_sweep {
    const char *name;
    const char *(*before)(void *ctx);
    const char *(*op)(void *ctx, int *ret);
    const char *(*after)(void *ctx, int r);
    long (*other_live)(void);
    unsigned long
        stride; /* try every stride-th N (0 or 1: every N); SUANWANG_SWEEP_FULL=1 forces 1 */
};

void failalloc_sweep(const struct failalloc_sweep *sw, void *ctx);

/* True when the test runs under AddressSanitizer. */
bool failalloc_asan(void);

#endif
