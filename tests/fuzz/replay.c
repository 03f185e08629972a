/*
 * replay — runs a fuzz target's LLVMFuzzerTestOneInput over every file in the
 * directories (or files) named on the command line, without libFuzzer, so the
 * committed corpus is replayed in the normal test run (STYLE rule 15). Prints
 * TAP, one line per input in name order. An input larger than REPLAY_MAX_BYTES
 * is a failure (corpora are kept small); a crash ends the run, which the TAP
 * harness reports as a failure.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REPLAY_MAX_BYTES (1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct list {
    char **paths;
    size_t n, cap;
};

static int add(struct list *l, const char *dir, const char *name)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        char **p = realloc(l->paths, cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        l->paths = p;
        l->cap = cap;
    }
    size_t len = strlen(dir) + strlen(name) + 2;
    char *path = malloc(len);
    if (!path)
        return -ENOMEM;
    if (name[0])
        snprintf(path, len, "%s/%s", dir, name);
    else
        snprintf(path, len, "%s", dir);
    l->paths[l->n++] = path;
    return 0;
}

static int collect(struct list *l, const char *arg)
{
    struct stat st;
    if (stat(arg, &st) != 0) {
        fprintf(stderr, "# %s: %s\n", arg, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return add(l, arg, "");
    DIR *d = opendir(arg);
    if (!d) {
        fprintf(stderr, "# %s: %s\n", arg, strerror(errno));
        return -1;
    }
    int r = 0;
    struct dirent *e;
    while (r == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue; /* ., .., and hidden files such as .gitkeep */
        size_t len = strlen(arg) + strlen(e->d_name) + 2;
        char *path = malloc(len);
        if (!path) {
            r = -ENOMEM;
            break;
        }
        snprintf(path, len, "%s/%s", arg, e->d_name);
        struct stat fst;
        int regular = stat(path, &fst) == 0 && S_ISREG(fst.st_mode);
        free(path);
        if (regular)
            r = add(l, arg, e->d_name);
    }
    closedir(d);
    return r;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads the whole file into *ret (malloc'ed); -EFBIG past REPLAY_MAX_BYTES. */
static int slurp(const char *path, uint8_t **ret, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    uint8_t *buf = malloc(REPLAY_MAX_BYTES + 1);
    if (!buf) {
        fclose(f);
        return -ENOMEM;
    }
    size_t len = fread(buf, 1, REPLAY_MAX_BYTES + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || len > REPLAY_MAX_BYTES) {
        free(buf);
        return bad ? -EIO : -EFBIG;
    }
    /* An exact-size copy, so a read past the end is caught under ASan. */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) {
        free(buf);
        return -ENOMEM;
    }
    memcpy(exact, buf, len);
    free(buf);
    *ret = exact;
    *ret_len = len;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS-DIR|FILE...\n", argv[0]);
        return 2;
    }
    struct list l = {0};
    int failed = 0;
    for (int i = 1; i < argc; i++) {
        if (collect(&l, argv[i]) != 0)
            failed = 1;
    }
    if (l.n == 0) {
        printf("1..1\nnot ok 1 - no inputs in the corpus\n");
        return 1;
    }
    qsort(l.paths, l.n, sizeof(*l.paths), by_name);
    printf("1..%zu\n", l.n);
    fflush(stdout);
    for (size_t i = 0; i < l.n; i++) {
        uint8_t *data = NULL;
        size_t len = 0;
        int r = slurp(l.paths[i], &data, &len);
        if (r != 0) {
            printf("not ok %zu - %s # %s\n", i + 1, l.paths[i],
                   r == -EFBIG ? "larger than the replay bound" : strerror(-r));
            failed = 1;
        } else {
            printf("# %s\n", l.paths[i]); /* named before it runs, in case it crashes */
            fflush(stdout);
            LLVMFuzzerTestOneInput(data, len);
            free(data);
            printf("ok %zu - %s (%zu bytes)\n", i + 1, l.paths[i], len);
        }
        fflush(stdout);
        free(l.paths[i]);
    }
    free(l.paths);
    return failed;
}
