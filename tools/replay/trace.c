/*
 * trace — the CSV reader and the loaders of the real traces the replay uses
 * (see data/README.md for where each file comes from). Fields are unescaped
 * in place in one buffer per file; every file and row count has a ceiling.
 * This module only reads: what a pod or a node means is scenario.c's business.
 */
#include "trace.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int read_file(const char *path, char **ret, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    int r = -EIO;
    char *buf = NULL;
    if (fseek(f, 0, SEEK_END) != 0)
        goto out;
    long size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto out;
    if (size > TRACE_MAX_FILE_BYTES) {
        r = -EFBIG;
        goto out;
    }
    buf = malloc((size_t)size + 1);
    if (!buf) {
        r = -ENOMEM;
        goto out;
    }
    if (fread(buf, 1, (size_t)size, f) != (size_t)size)
        goto out;
    buf[size] = '\0';
    *ret = buf;
    *ret_len = (size_t)size;
    buf = NULL;
    r = 0;
out:
    free(buf);
    fclose(f);
    return r;
}

/* A growable array of field pointers, capped at TRACE_MAX_ROWS * TRACE_MAX_COLS. */
struct fields {
    char **v;
    size_t n, cap;
};

static int fields_push(struct fields *f, char *s)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 1024;
        if (cap > (size_t)TRACE_MAX_ROWS * TRACE_MAX_COLS)
            return -EFBIG;
        char **v = realloc(f->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        f->v = v;
        f->cap = cap;
    }
    f->v[f->n++] = s;
    return 0;
}

/*
 * Splits the buffer into fields in place. The first line's field count goes
 * into *ret_ncols; every later line must have as many.
 */
static int tokenize(char *buf, size_t len, struct fields *out, size_t *ret_ncols)
{
    size_t i = 0, ncols = 0;
    bool first_line = true;
    while (i < len) {
        /* Skip blank lines (also the \n of a \r\n pair). */
        if (buf[i] == '\n' || buf[i] == '\r') {
            i++;
            continue;
        }
        size_t row_fields = 0;
        for (;;) {
            char *w = buf + i, *start = w;
            if (i < len && buf[i] == '"') {
                i++;
                for (;;) {
                    if (i >= len)
                        return -EBADMSG;
                    if (buf[i] == '"') {
                        if (i + 1 < len && buf[i + 1] == '"') {
                            *w++ = '"';
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    *w++ = buf[i++];
                }
            } else {
                while (i < len && buf[i] != ',' && buf[i] != '\n' && buf[i] != '\r')
                    *w++ = buf[i++];
            }
            char sep = i < len ? buf[i] : '\n';
            if (sep != ',' && sep != '\n' && sep != '\r')
                return -EBADMSG;
            *w = '\0';
            /* The terminator may overwrite the separator: w <= buf + i. */
            int r = fields_push(out, start);
            if (r < 0)
                return r;
            row_fields++;
            if (row_fields > TRACE_MAX_COLS)
                return -EFBIG;
            if (i < len)
                i++;
            if (sep != ',')
                break;
        }
        if (first_line) {
            ncols = row_fields;
            first_line = false;
        } else if (row_fields != ncols) {
            return -EBADMSG;
        }
    }
    if (first_line)
        return -EBADMSG;
    *ret_ncols = ncols;
    return 0;
}

int csv_read(const char *path, struct csv_table *ret)
{
    struct fields f = {0};
    char *buf = NULL;
    size_t len = 0, ncols = 0;
    memset(ret, 0, sizeof(*ret));
    int r = read_file(path, &buf, &len);
    if (r < 0)
        return r;
    r = tokenize(buf, len, &f, &ncols);
    if (r < 0)
        goto fail;
    size_t nrows = f.n / ncols - 1;
    if (nrows > TRACE_MAX_ROWS) {
        r = -EFBIG;
        goto fail;
    }
    ret->header = malloc(ncols * sizeof(char *));
    ret->cells = malloc((nrows ? nrows * ncols : 1) * sizeof(char *));
    if (!ret->header || !ret->cells) {
        r = -ENOMEM;
        goto fail;
    }
    memcpy(ret->header, f.v, ncols * sizeof(char *));
    memcpy(ret->cells, f.v + ncols, nrows * ncols * sizeof(char *));
    ret->data = buf;
    ret->nrows = nrows;
    ret->ncols = ncols;
    free(f.v);
    return 0;
fail:
    free(ret->header);
    free(ret->cells);
    memset(ret, 0, sizeof(*ret));
    free(f.v);
    free(buf);
    return r;
}

int csv_col(const struct csv_table *t, const char *name)
{
    for (size_t i = 0; i < t->ncols; i++) {
        if (strcmp(t->header[i], name) == 0)
            return (int)i;
    }
    return -1;
}

const char *csv_cell(const struct csv_table *t, size_t row, int col)
{
    return t->cells[row * t->ncols + (size_t)col];
}

void csv_free(struct csv_table *t)
{
    if (!t)
        return;
    free(t->data);
    free(t->cells);
    free(t->header);
    memset(t, 0, sizeof(*t));
}

/* Parses a whole field as a number; -EBADMSG for junk or an empty field. */
static int parse_double(const char *s, double *ret)
{
    char *end;
    if (!s[0])
        return -EBADMSG;
    errno = 0;
    double v = strtod(s, &end);
    if (*end != '\0' || errno != 0)
        return -EBADMSG;
    *ret = v;
    return 0;
}

static int parse_long(const char *s, long *ret)
{
    char *end;
    if (!s[0])
        return -EBADMSG;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end != '\0' || errno != 0)
        return -EBADMSG;
    *ret = v;
    return 0;
}

/* Copies into a fixed field; -EBADMSG when it does not fit. */
static int copy_field(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        return -EBADMSG;
    memcpy(dst, src, n + 1);
    return 0;
}

int trace_load_pods(const char *path, struct trace_pod **ret, size_t *ret_n)
{
    struct csv_table t;
    struct trace_pod *pods = NULL;
    int r = csv_read(path, &t);
    if (r < 0)
        return r;
    int c_name = csv_col(&t, "name"), c_gpu = csv_col(&t, "num_gpu"),
        c_milli = csv_col(&t, "gpu_milli"), c_spec = csv_col(&t, "gpu_spec"),
        c_qos = csv_col(&t, "qos"), c_cre = csv_col(&t, "creation_time"),
        c_del = csv_col(&t, "deletion_time");
    r = -EBADMSG;
    if (c_name < 0 || c_gpu < 0 || c_milli < 0 || c_spec < 0 || c_qos < 0 || c_cre < 0 || c_del < 0)
        goto out;
    pods = calloc(t.nrows ? t.nrows : 1, sizeof(*pods));
    if (!pods) {
        r = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < t.nrows; i++) {
        struct trace_pod *p = &pods[i];
        if (copy_field(p->name, sizeof(p->name), csv_cell(&t, i, c_name)) < 0 ||
            parse_long(csv_cell(&t, i, c_gpu), &p->num_gpu) < 0 ||
            parse_long(csv_cell(&t, i, c_milli), &p->gpu_milli) < 0 ||
            copy_field(p->gpu_spec, sizeof(p->gpu_spec), csv_cell(&t, i, c_spec)) < 0 ||
            copy_field(p->qos, sizeof(p->qos), csv_cell(&t, i, c_qos)) < 0 ||
            parse_double(csv_cell(&t, i, c_cre), &p->creation) < 0 ||
            parse_double(csv_cell(&t, i, c_del), &p->deletion) < 0)
            goto out;
    }
    *ret = pods;
    *ret_n = t.nrows;
    pods = NULL;
    r = 0;
out:
    free(pods);
    csv_free(&t);
    return r;
}

int trace_load_nodes(const char *path, const char *kind, struct trace_node **ret, size_t *ret_n)
{
    struct csv_table t;
    struct trace_node *nodes = NULL;
    bool spot = strcmp(kind, "spot") == 0;
    if (!spot && strcmp(kind, "openb") != 0)
        return -EINVAL;
    int r = csv_read(path, &t);
    if (r < 0)
        return r;
    int c_model = csv_col(&t, spot ? "gpu_model" : "model");
    int c_gpus = csv_col(&t, spot ? "gpu_capacity_num" : "gpu");
    r = -EBADMSG;
    if (c_model < 0 || c_gpus < 0)
        goto out;
    nodes = calloc(t.nrows ? t.nrows : 1, sizeof(*nodes));
    if (!nodes) {
        r = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < t.nrows; i++) {
        if (copy_field(nodes[i].model, sizeof(nodes[i].model), csv_cell(&t, i, c_model)) < 0 ||
            parse_long(csv_cell(&t, i, c_gpus), &nodes[i].gpus) < 0 || nodes[i].gpus < 0)
            goto out;
    }
    *ret = nodes;
    *ret_n = t.nrows;
    nodes = NULL;
    r = 0;
out:
    free(nodes);
    csv_free(&t);
    return r;
}

void trace_vcs_free(struct trace_vc *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i].util);
    free(v);
}

int trace_load_vcs(const char *path, struct trace_vc **ret, size_t *ret_n)
{
    struct csv_table t;
    struct trace_vc *vcs = NULL;
    size_t nvcs = 0;
    int r = csv_read(path, &t);
    if (r < 0)
        return r;
    int c_vc = csv_col(&t, "vc"), c_total = csv_col(&t, "total_gpu_num"),
        c_run = csv_col(&t, "running_gpu_num");
    r = -EBADMSG;
    if (c_vc < 0 || c_total < 0 || c_run < 0)
        goto out;
    vcs = calloc(t.nrows ? t.nrows : 1, sizeof(*vcs));
    if (!vcs) {
        r = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < t.nrows; i++) {
        const char *name = csv_cell(&t, i, c_vc);
        double total, running;
        if (parse_double(csv_cell(&t, i, c_total), &total) < 0 ||
            parse_double(csv_cell(&t, i, c_run), &running) < 0)
            goto out;
        if (nvcs == 0 || strcmp(vcs[nvcs - 1].name, name) != 0) {
            for (size_t k = 0; k < nvcs; k++) {
                if (strcmp(vcs[k].name, name) == 0)
                    goto out; /* not grouped */
            }
            struct trace_vc *v = &vcs[nvcs++];
            if (copy_field(v->name, sizeof(v->name), name) < 0)
                goto out;
            v->util = malloc(t.nrows * sizeof(double));
            if (!v->util) {
                r = -ENOMEM;
                goto out;
            }
        }
        struct trace_vc *v = &vcs[nvcs - 1];
        double u = total > 0 ? running / total : 0;
        v->util[v->n++] = u < 0 ? 0 : (u > 1 ? 1 : u);
    }
    *ret = vcs;
    *ret_n = nvcs;
    vcs = NULL;
    r = 0;
out:
    trace_vcs_free(vcs, nvcs);
    csv_free(&t);
    return r;
}
