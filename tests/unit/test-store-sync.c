/*
 * test-store-sync — which commits reach the disk. A counting VFS, registered
 * as SQLite's default in front of the real one, counts the syncs of every
 * file. A hold is synced before it is acknowledged; a quote (a decision
 * committed with fsync off) is not, alone or in a group commit of quotes;
 * a group with any other change in it is synced once at its end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "store.h"

#define T0 1767225600000000LL

/* ---- a VFS that counts syncs ---- */

static sqlite3_vfs *real_vfs;
static long syncs;

struct counted_file {
    sqlite3_file base;   /* methods: counted_methods */
    sqlite3_file *inner; /* the real VFS's file, right after this struct */
};

static sqlite3_file *inner(sqlite3_file *f)
{
    return ((struct counted_file *)f)->inner;
}

static int c_close(sqlite3_file *f)
{
    return inner(f)->pMethods->xClose(inner(f));
}
static int c_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
    return inner(f)->pMethods->xRead(inner(f), buf, n, off);
}
static int c_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
    return inner(f)->pMethods->xWrite(inner(f), buf, n, off);
}
static int c_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    return inner(f)->pMethods->xTruncate(inner(f), size);
}
static int c_sync(sqlite3_file *f, int flags)
{
    syncs++;
    return inner(f)->pMethods->xSync(inner(f), flags);
}
static int c_size(sqlite3_file *f, sqlite3_int64 *size)
{
    return inner(f)->pMethods->xFileSize(inner(f), size);
}
static int c_lock(sqlite3_file *f, int level)
{
    return inner(f)->pMethods->xLock(inner(f), level);
}
static int c_unlock(sqlite3_file *f, int level)
{
    return inner(f)->pMethods->xUnlock(inner(f), level);
}
static int c_reserved(sqlite3_file *f, int *out)
{
    return inner(f)->pMethods->xCheckReservedLock(inner(f), out);
}
static int c_control(sqlite3_file *f, int op, void *arg)
{
    return inner(f)->pMethods->xFileControl(inner(f), op, arg);
}
static int c_sector(sqlite3_file *f)
{
    return inner(f)->pMethods->xSectorSize(inner(f));
}
static int c_caps(sqlite3_file *f)
{
    return inner(f)->pMethods->xDeviceCharacteristics(inner(f));
}
static int c_shm_map(sqlite3_file *f, int page, int size, int extend, void volatile **out)
{
    return inner(f)->pMethods->xShmMap(inner(f), page, size, extend, out);
}
static int c_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
    return inner(f)->pMethods->xShmLock(inner(f), offset, n, flags);
}
static void c_shm_barrier(sqlite3_file *f)
{
    inner(f)->pMethods->xShmBarrier(inner(f));
}
static int c_shm_unmap(sqlite3_file *f, int del)
{
    return inner(f)->pMethods->xShmUnmap(inner(f), del);
}

static const sqlite3_io_methods counted_methods = {
    .iVersion = 2,
    .xClose = c_close,
    .xRead = c_read,
    .xWrite = c_write,
    .xTruncate = c_truncate,
    .xSync = c_sync,
    .xFileSize = c_size,
    .xLock = c_lock,
    .xUnlock = c_unlock,
    .xCheckReservedLock = c_reserved,
    .xFileControl = c_control,
    .xSectorSize = c_sector,
    .xDeviceCharacteristics = c_caps,
    .xShmMap = c_shm_map,
    .xShmLock = c_shm_lock,
    .xShmBarrier = c_shm_barrier,
    .xShmUnmap = c_shm_unmap,
};

static int c_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
    (void)vfs;
    struct counted_file *cf = (struct counted_file *)f;
    cf->inner = (sqlite3_file *)(cf + 1);
    int rc = real_vfs->xOpen(real_vfs, name, cf->inner, flags, out_flags);
    cf->base.pMethods = rc == SQLITE_OK && cf->inner->pMethods ? &counted_methods : NULL;
    return rc;
}
static int c_delete(sqlite3_vfs *vfs, const char *name, int dirsync)
{
    (void)vfs;
    return real_vfs->xDelete(real_vfs, name, dirsync);
}
static int c_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs;
    return real_vfs->xAccess(real_vfs, name, flags, out);
}
static int c_full(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    (void)vfs;
    return real_vfs->xFullPathname(real_vfs, name, n, out);
}
static int c_random(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return real_vfs->xRandomness(real_vfs, n, out);
}
static int c_sleep(sqlite3_vfs *vfs, int us)
{
    (void)vfs;
    return real_vfs->xSleep(real_vfs, us);
}
static int c_time(sqlite3_vfs *vfs, double *out)
{
    (void)vfs;
    return real_vfs->xCurrentTime(real_vfs, out);
}
static int c_last_error(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return real_vfs->xGetLastError ? real_vfs->xGetLastError(real_vfs, n, out) : 0;
}

static sqlite3_vfs counted_vfs = {
    .iVersion = 1,
    .zName = "counted",
    .xOpen = c_open,
    .xDelete = c_delete,
    .xAccess = c_access,
    .xFullPathname = c_full,
    .xRandomness = c_random,
    .xSleep = c_sleep,
    .xCurrentTime = c_time,
    .xGetLastError = c_last_error,
};

static bool vfs_install(void)
{
    real_vfs = sqlite3_vfs_find(NULL);
    if (!real_vfs)
        return false;
    counted_vfs.szOsFile = (int)sizeof(struct counted_file) + real_vfs->szOsFile;
    counted_vfs.mxPathname = real_vfs->mxPathname;
    return sqlite3_vfs_register(&counted_vfs, 1) == SQLITE_OK;
}

/* ---- writes as the API makes them ---- */

static int n_decisions;

/* A decision, committed on its own or as a savepoint of the open group. */
static int decision_write(struct store *st, bool fsync)
{
    struct decision_row d = {.at = T0, .record = "{\"outcome\":\"quoted\"}"};
    snprintf(d.id, sizeof(d.id), "dc-%d", ++n_decisions);
    snprintf(d.tenant, sizeof(d.tenant), "acme");
    snprintf(d.outcome, sizeof(d.outcome), fsync ? "placed" : "quoted");
    if (!fsync)
        store_set_fsync(st, false);
    int r = store_begin(st);
    if (r == 0)
        r = store_decision_insert(st, &d);
    if (r == 0)
        r = store_commit(st);
    else
        store_rollback(st);
    if (!fsync)
        store_set_fsync(st, true);
    return r;
}

/* Syncs made by one step, which must succeed. */
#define SYNCS_OF(stmt) (before = syncs, syncs_after(before, (stmt), #stmt))

static long syncs_after(long before, int r, const char *what)
{
    CHECK(r == 0, "%s returns 0 (got %d)", what, r);
    return syncs - before;
}

static int group_of(struct store *st, int quotes, int holds, bool other)
{
    int r = store_group_begin(st);
    for (int i = 0; r == 0 && i < quotes; i++)
        r = decision_write(st, false);
    for (int i = 0; r == 0 && i < holds; i++)
        r = decision_write(st, true);
    if (r == 0 && other) /* a write outside store_begin/commit, as a token touch would be */
        r = store_tenant_add(st, "other", "Other", T0);
    int e = store_group_end(st);
    return r < 0 ? r : e;
}

int main(void)
{
    char dir[] = "/tmp/suanwang-sync.XXXXXX", path[300];
    if (!CHECK(mkdtemp(dir) != NULL, "a temp directory") || !CHECK(vfs_install(), "the VFS"))
        return check_done();
    snprintf(path, sizeof(path), "%s/sync.db", dir);
    struct store *st = NULL;
    char err[256] = "";
    if (!CHECK(store_open(path, &st, err, sizeof(err)) == 0, "open the store: %s", err))
        return check_done();
    CHECK(store_tenant_add(st, "acme", "Acme", T0) == 0, "add the tenant");

    long n, before;
    n = SYNCS_OF(decision_write(st, true));
    CHECK(n >= 1, "a commit with fsync on syncs (%ld)", n);
    n = SYNCS_OF(decision_write(st, false));
    CHECK(n == 0, "a commit with fsync off does not sync (%ld)", n);
    n = SYNCS_OF(group_of(st, 10, 0, false));
    CHECK(n == 0, "a group of 10 quotes commits without a sync (%ld)", n);
    n = SYNCS_OF(group_of(st, 10, 1, false));
    CHECK(n >= 1, "a group of quotes and one hold syncs (%ld)", n);
    n = SYNCS_OF(group_of(st, 3, 0, true));
    CHECK(n >= 1, "a group of quotes and a write outside a transaction syncs (%ld)", n);
    n = SYNCS_OF(group_of(st, 0, 3, false));
    CHECK(n >= 1, "a group of holds syncs (%ld)", n);
    n = SYNCS_OF(group_of(st, 5, 0, false));
    CHECK(n == 0, "again a group of quotes alone does not sync (%ld)", n);
    n = SYNCS_OF(decision_write(st, true));
    CHECK(n >= 1, "after it, a commit with fsync on syncs again (%ld)", n);

    /* Everything written is there, synced or not. */
    struct decision_row d;
    char id[40];
    snprintf(id, sizeof(id), "dc-%d", n_decisions - 1);
    int r = store_decision_get(st, id, &d);
    if (CHECK(r == 0, "the last quote of the last group reads back (%d)", r))
        free(d.record);

    store_close(st);
    check_remove_db(path);
    rmdir(dir);
    return check_done();
}
