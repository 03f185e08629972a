/*
 * trace — reading the replay's CSV inputs: a small CSV table reader (header
 * row, comma separated, double-quoted fields with "" escapes) and loaders for
 * the real cluster traces: the Alibaba GPU 2023 pod list, the two node lists
 * and the Helios per-VC hourly series. No policy and no simulation here.
 */
#ifndef SUANWANG_REPLAY_TRACE_H
#define SUANWANG_REPLAY_TRACE_H

#include <stddef.h>

/* Ceilings on what a trace file may hold. */
#define TRACE_MAX_FILE_BYTES (64L * 1024 * 1024)
#define TRACE_MAX_ROWS 1000000
#define TRACE_MAX_COLS 64

struct csv_table {
    char *data;    /* owned; the file with fields NUL-terminated in place */
    char **cells;  /* owned; nrows * ncols pointers into data, header excluded */
    char **header; /* owned; ncols pointers into data */
    size_t nrows;
    size_t ncols;
};

/*
 * Reads a CSV file whose first line names the columns. Every row must have as
 * many fields as the header; blank lines are skipped. Returns 0, -ENOENT (or
 * another -errno from fopen), -EFBIG past the ceilings, -EBADMSG for a
 * malformed row, or -ENOMEM.
 */
int csv_read(const char *path, struct csv_table *ret);

/* Index of the named column, or -1. */
int csv_col(const struct csv_table *t, const char *name);

/* The cell at (row, col); col from csv_col. */
const char *csv_cell(const struct csv_table *t, size_t row, int col);

/* Frees the table; NULL is a no-op. */
void csv_free(struct csv_table *t);

/* One pod of the Alibaba GPU 2023 pod list. */
struct trace_pod {
    char name[32];
    long num_gpu;      /* whole GPUs asked, 0..8 */
    long gpu_milli;    /* share of one GPU for GPU-sharing pods, x/1000 */
    char gpu_spec[96]; /* allowed models, '|'-separated; empty = any */
    char qos[16];      /* LS, BE, Burstable, Guaranteed */
    double creation;   /* seconds from trace start */
    double deletion;
};

/* One GPU node of a node list. */
struct trace_node {
    char model[32];
    long gpus;
};

/* One VC's hourly series from the Helios sample. */
struct trace_vc {
    char name[16];
    double *util; /* owned; running_gpu_num / total_gpu_num per hour, in time order */
    size_t n;
};

/* Loaders: return 0 and fill the array (the caller frees it), or a -errno as csv_read. */
int trace_load_pods(const char *path, struct trace_pod **ret, size_t *ret_n);

/* `kind` is "openb" (sn,...,gpu,model) or "spot" (gpu_model,gpu_capacity_num,...). */
int trace_load_nodes(const char *path, const char *kind, struct trace_node **ret, size_t *ret_n);

/* Rows must be grouped by VC in time order, as in the committed sample. */
int trace_load_vcs(const char *path, struct trace_vc **ret, size_t *ret_n);

void trace_vcs_free(struct trace_vc *v, size_t n);

#endif
