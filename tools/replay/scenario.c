/*
 * scenario — builds the replay's world from the files in data/: regions and
 * published latencies (the rest estimated from distance by geo.c), models and
 * prices, centers cut from contiguous row ranges of the real node lists, the
 * Helios VC series as each center's own tenants' load, and one job per GPU
 * pod of the trace with seeded origin, precision and constraints.
 */
#include "scenario.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geo.h"
#include "trace.h"

/* Share of jobs by precision when their models allow it (an assumption, see README). */
static const struct {
    enum precision p;
    double share;
} precision_mix[] = {
    {PREC_FP16, 0.45},
    {PREC_BF16, 0.20},
    {PREC_FP32, 0.25},
    {PREC_INT8, 0.10},
};

#define LS_LATENCY_SHARE 0.40 /* latency-sensitive (qos LS) jobs that set a limit */
#define LS_LATENCY_MS 20.0    /* the national cross-hub latency target */
#define DOMESTIC_SHARE 0.15   /* unconstrained jobs that ask for domestic cards */
#define ABANDON_SHARE 0.03    /* holds never confirmed */
#define CONFIRM_MIN_S 5.0     /* tenant think time, uniform */
#define CONFIRM_SPAN_S 115.0
#define MIN_JOB_SECONDS 60.0 /* a pod deleted at once still books a minute */

uint64_t scenario_rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

double scenario_rng_unit(uint64_t *state)
{
    return (double)(scenario_rng_next(state) >> 11) * (1.0 / 9007199254740992.0);
}

static void seterr(char *err, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

static int open_table(const char *dir, const char *name, struct csv_table *t, char *err,
                      size_t errlen)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int r = csv_read(path, t);
    if (r < 0)
        seterr(err, errlen, "cannot read %s: %s", path, strerror(-r));
    return r;
}

static int need_cols(const struct csv_table *t, const char *file, int *cols,
                     const char *const *names, size_t n, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        cols[i] = csv_col(t, names[i]);
        if (cols[i] < 0) {
            seterr(err, errlen, "%s: no column %s", file, names[i]);
            return -EBADMSG;
        }
    }
    return 0;
}

static int num(const char *s, double *ret)
{
    char *end;
    if (!s[0])
        return -EBADMSG;
    double v = strtod(s, &end);
    if (*end != '\0' || !isfinite(v))
        return -EBADMSG;
    *ret = v;
    return 0;
}

static int copy(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        return -EBADMSG;
    memcpy(dst, src, n + 1);
    return 0;
}

long scenario_region(const struct scenario *s, const char *id)
{
    for (size_t i = 0; i < s->nregions; i++) {
        if (strcmp(s->regions[i].id, id) == 0)
            return (long)i;
    }
    return -1;
}

double scenario_rtt(const struct scenario *s, size_t a, size_t b)
{
    return s->rtt[a * s->nregions + b];
}

double scenario_background(const struct scenario *s, size_t center, double t)
{
    long vc = s->centers[center].vc;
    if (vc < 0 || s->background <= 0 || s->series_step <= 0)
        return 0;
    const struct scn_series *ser = &s->series[vc];
    if (ser->n == 0)
        return 0;
    double step = floor((t > 0 ? t : 0) / s->series_step);
    double u = ser->util[(size_t)fmod(step, (double)ser->n)] * s->background;
    return u < 0 ? 0 : (u > 1 ? 1 : u);
}

static int load_regions(struct scenario *s, const char *dir, char *err, size_t errlen)
{
    static const char *const names[] = {"id", "lat", "lon"};
    struct csv_table t;
    int c[3];
    int r = open_table(dir, "regions.csv", &t, err, errlen);
    if (r < 0)
        return r;
    r = need_cols(&t, "regions.csv", c, names, 3, err, errlen);
    if (r < 0)
        goto out;
    s->regions = calloc(t.nrows ? t.nrows : 1, sizeof(*s->regions));
    s->rtt = calloc(t.nrows * t.nrows + 1, sizeof(*s->rtt));
    s->rtt_source = calloc(t.nrows * t.nrows + 1, sizeof(*s->rtt_source));
    r = -ENOMEM;
    if (!s->regions || !s->rtt || !s->rtt_source)
        goto out;
    for (size_t i = 0; i < t.nrows; i++) {
        struct scn_region *g = &s->regions[i];
        if (copy(g->id, sizeof(g->id), csv_cell(&t, i, c[0])) < 0 ||
            num(csv_cell(&t, i, c[1]), &g->lat) < 0 || num(csv_cell(&t, i, c[2]), &g->lon) < 0) {
            seterr(err, errlen, "regions.csv: bad row %zu", i + 2);
            r = -EBADMSG;
            goto out;
        }
    }
    s->nregions = t.nrows;
    /* Estimated everywhere first; published pairs override below. */
    for (size_t a = 0; a < s->nregions; a++) {
        for (size_t b = 0; b < s->nregions; b++) {
            const struct scn_region *ra = &s->regions[a], *rb = &s->regions[b];
            s->rtt[a * s->nregions + b] =
                a == b ? GEO_SAME_REGION_RTT_MS
                       : geo_estimate_rtt_ms(ra->lat, ra->lon, rb->lat, rb->lon);
            s->rtt_source[a * s->nregions + b] = a == b ? RTT_CONFIGURED : RTT_ESTIMATED;
        }
    }
    r = 0;
out:
    csv_free(&t);
    return r;
}

static int load_latency(struct scenario *s, const char *dir, char *err, size_t errlen)
{
    static const char *const names[] = {"a", "b", "rtt_ms", "source"};
    struct csv_table t;
    int c[4];
    int r = open_table(dir, "latency.csv", &t, err, errlen);
    if (r < 0)
        return r;
    r = need_cols(&t, "latency.csv", c, names, 4, err, errlen);
    if (r < 0)
        goto out;
    for (size_t i = 0; i < t.nrows; i++) {
        long a = scenario_region(s, csv_cell(&t, i, c[0]));
        long b = scenario_region(s, csv_cell(&t, i, c[1]));
        double rtt;
        enum rtt_source src;
        if (a < 0 || b < 0 || num(csv_cell(&t, i, c[2]), &rtt) < 0 || rtt < 0 ||
            rtt_source_parse(csv_cell(&t, i, c[3]), &src) < 0) {
            seterr(err, errlen, "latency.csv: bad row %zu", i + 2);
            r = -EBADMSG;
            goto out;
        }
        size_t n = s->nregions;
        s->rtt[(size_t)a * n + (size_t)b] = s->rtt[(size_t)b * n + (size_t)a] = rtt;
        s->rtt_source[(size_t)a * n + (size_t)b] = s->rtt_source[(size_t)b * n + (size_t)a] = src;
    }
out:
    csv_free(&t);
    return r;
}

static int load_models(struct scenario *s, const char *dir, char *err, size_t errlen)
{
    static const char *const names[] = {"model", "trace_names", "domestic", "memory_gib",
                                        "fp64",  "fp32",        "tf32",     "bf16",
                                        "fp16",  "fp8",         "int8",     "price_cny"};
    static const enum precision prec_of_col[] = {PREC_FP64, PREC_FP32, PREC_TF32, PREC_BF16,
                                                 PREC_FP16, PREC_FP8,  PREC_INT8};
    struct csv_table t;
    int c[12];
    int r = open_table(dir, "models.csv", &t, err, errlen);
    if (r < 0)
        return r;
    r = need_cols(&t, "models.csv", c, names, 12, err, errlen);
    if (r < 0)
        goto out;
    r = -EBADMSG;
    if (t.nrows > SCN_MAX_MODELS) {
        seterr(err, errlen, "models.csv: more than %d models", SCN_MAX_MODELS);
        goto out;
    }
    s->models = calloc(t.nrows ? t.nrows : 1, sizeof(*s->models));
    if (!s->models) {
        r = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < t.nrows; i++) {
        struct scn_model *m = &s->models[i];
        const char *dom = csv_cell(&t, i, c[2]);
        bool ok = copy(m->name, sizeof(m->name), csv_cell(&t, i, c[0])) == 0 &&
                  copy(m->trace_names, sizeof(m->trace_names), csv_cell(&t, i, c[1])) == 0 &&
                  (strcmp(dom, "true") == 0 || strcmp(dom, "false") == 0) &&
                  num(csv_cell(&t, i, c[3]), &m->memory_gib) == 0 &&
                  num(csv_cell(&t, i, c[11]), &m->price) == 0 && m->price > 0;
        m->domestic = strcmp(dom, "true") == 0;
        for (size_t k = 0; ok && k < 7; k++)
            ok = num(csv_cell(&t, i, c[4 + k]), &m->tflops[prec_of_col[k]]) == 0 &&
                 m->tflops[prec_of_col[k]] >= 0;
        if (!ok) {
            seterr(err, errlen, "models.csv: bad row %zu", i + 2);
            goto out;
        }
    }
    s->nmodels = t.nrows;
    r = 0;
out:
    csv_free(&t);
    return r;
}

/* The model whose trace_names list holds `name` (exact), or -1. */
static long model_by_trace_name(const struct scenario *s, const char *name, size_t len)
{
    for (size_t i = 0; i < s->nmodels; i++) {
        const char *p = s->models[i].trace_names;
        while (*p) {
            size_t n = strcspn(p, "|");
            if (n == len && strncmp(p, name, len) == 0)
                return (long)i;
            p += n;
            if (*p == '|')
                p++;
        }
    }
    return -1;
}

static int load_series(struct scenario *s, const char *dir, char *err, size_t errlen)
{
    char path[1024];
    struct trace_vc *vcs = NULL;
    size_t n = 0;
    snprintf(path, sizeof(path), "%s/helios_vc_hourly.csv", dir);
    int r = trace_load_vcs(path, &vcs, &n);
    if (r < 0) {
        seterr(err, errlen, "cannot read %s: %s", path, strerror(-r));
        return r;
    }
    s->series = calloc(n ? n : 1, sizeof(*s->series));
    if (!s->series) {
        trace_vcs_free(vcs, n);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(s->series[i].name, vcs[i].name, sizeof(s->series[i].name));
        s->series[i].util = vcs[i].util; /* ownership moves */
        s->series[i].n = vcs[i].n;
        vcs[i].util = NULL;
    }
    s->nseries = n;
    s->series_step = 3600;
    trace_vcs_free(vcs, n);
    return 0;
}

/* Adds a center's cards per model from its row range of a node list. */
static int add_center_pools(struct scenario *s, size_t center, const struct trace_node *nodes,
                            size_t nnodes, long first, long rows, char *err, size_t errlen)
{
    long per_model[SCN_MAX_MODELS] = {0};
    if (first < 0 || rows <= 0 || (size_t)(first + rows) > nnodes) {
        seterr(err, errlen, "centers.csv: rows %ld+%ld outside the node list (%zu nodes)", first,
               rows, nnodes);
        return -EBADMSG;
    }
    for (long i = first; i < first + rows; i++) {
        long m = model_by_trace_name(s, nodes[i].model, strlen(nodes[i].model));
        if (m < 0) {
            seterr(err, errlen, "node model %s is not in models.csv", nodes[i].model);
            return -EBADMSG;
        }
        per_model[m] += nodes[i].gpus;
    }
    for (size_t m = 0; m < s->nmodels; m++) {
        if (per_model[m] == 0)
            continue;
        struct scn_pool *p = &s->pools[s->npools++];
        p->center = center;
        p->model = m;
        p->total = per_model[m];
        p->price = s->models[m].price * s->centers[center].price_factor;
    }
    return 0;
}

static int load_centers(struct scenario *s, const char *dir, char *err, size_t errlen)
{
    static const char *const names[] = {"id",   "region",        "node_list",   "first_row",
                                        "rows", "background_vc", "price_factor"};
    struct csv_table t;
    struct trace_node *lists[2] = {NULL, NULL};
    size_t nlist[2] = {0, 0};
    static const char *const kinds[2] = {"openb", "spot"};
    static const char *const files[2] = {"openb_node_list_gpu_node.csv", "node_info_df.csv"};
    int c[7];
    int r = open_table(dir, "centers.csv", &t, err, errlen);
    if (r < 0)
        return r;
    r = need_cols(&t, "centers.csv", c, names, 7, err, errlen);
    if (r < 0)
        goto out;
    for (int k = 0; k < 2; k++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, files[k]);
        r = trace_load_nodes(path, kinds[k], &lists[k], &nlist[k]);
        if (r < 0) {
            seterr(err, errlen, "cannot read %s: %s", path, strerror(-r));
            goto out;
        }
    }
    r = -ENOMEM;
    s->centers = calloc(t.nrows ? t.nrows : 1, sizeof(*s->centers));
    s->pools = calloc(t.nrows * s->nmodels + 1, sizeof(*s->pools));
    if (!s->centers || !s->pools)
        goto out;
    for (size_t i = 0; i < t.nrows; i++) {
        struct scn_center *ct = &s->centers[i];
        long region = scenario_region(s, csv_cell(&t, i, c[1]));
        const char *list = csv_cell(&t, i, c[2]);
        const char *vc = csv_cell(&t, i, c[5]);
        double first, rows;
        int k = strcmp(list, "openb") == 0 ? 0 : (strcmp(list, "spot") == 0 ? 1 : -1);
        r = -EBADMSG;
        if (copy(ct->id, sizeof(ct->id), csv_cell(&t, i, c[0])) < 0 || region < 0 || k < 0 ||
            num(csv_cell(&t, i, c[3]), &first) < 0 || num(csv_cell(&t, i, c[4]), &rows) < 0 ||
            num(csv_cell(&t, i, c[6]), &ct->price_factor) < 0 || !(ct->price_factor > 0)) {
            seterr(err, errlen, "centers.csv: bad row %zu", i + 2);
            goto out;
        }
        ct->region = (size_t)region;
        ct->vc = -1;
        for (size_t v = 0; v < s->nseries; v++) {
            if (strcmp(s->series[v].name, vc) == 0)
                ct->vc = (long)v;
        }
        if (vc[0] && ct->vc < 0) {
            seterr(err, errlen, "centers.csv: unknown background_vc %s", vc);
            goto out;
        }
        s->ncenters = i + 1;
        r = add_center_pools(s, i, lists[k], nlist[k], (long)first, (long)rows, err, errlen);
        if (r < 0)
            goto out;
    }
    r = 0;
out:
    free(lists[0]);
    free(lists[1]);
    csv_free(&t);
    return r;
}

/* Origins: region ids with weights, turned into a cumulative distribution. */
static int load_origins(const struct scenario *s, const char *dir, size_t **ret_region,
                        double **ret_cum, size_t *ret_n, char *err, size_t errlen)
{
    static const char *const names[] = {"region", "weight"};
    struct csv_table t;
    int c[2];
    int r = open_table(dir, "origins.csv", &t, err, errlen);
    if (r < 0)
        return r;
    r = need_cols(&t, "origins.csv", c, names, 2, err, errlen);
    if (r < 0)
        goto out;
    size_t *region = calloc(t.nrows + 1, sizeof(*region));
    double *cum = calloc(t.nrows + 1, sizeof(*cum));
    r = -ENOMEM;
    if (!region || !cum) {
        free(region);
        free(cum);
        goto out;
    }
    double sum = 0;
    for (size_t i = 0; i < t.nrows; i++) {
        long g = scenario_region(s, csv_cell(&t, i, c[0]));
        double w;
        if (g < 0 || num(csv_cell(&t, i, c[1]), &w) < 0 || w < 0) {
            seterr(err, errlen, "origins.csv: bad row %zu", i + 2);
            free(region);
            free(cum);
            r = -EBADMSG;
            goto out;
        }
        region[i] = (size_t)g;
        sum += w;
        cum[i] = sum;
    }
    if (!(sum > 0)) {
        seterr(err, errlen, "origins.csv: no weight");
        free(region);
        free(cum);
        r = -EBADMSG;
        goto out;
    }
    for (size_t i = 0; i < t.nrows; i++)
        cum[i] /= sum;
    *ret_region = region;
    *ret_cum = cum;
    *ret_n = t.nrows;
    r = 0;
out:
    csv_free(&t);
    return r;
}

static bool any_supports(const struct scenario *s, uint64_t mask, enum precision p,
                         bool domestic_only)
{
    for (size_t m = 0; m < s->nmodels; m++) {
        if ((mask >> m & 1) && s->models[m].tflops[p] > 0 &&
            (!domestic_only || s->models[m].domestic))
            return true;
    }
    return false;
}

static int job_cmp(const void *a, const void *b)
{
    const struct scn_job *x = a, *y = b;
    if (x->arrival != y->arrival)
        return x->arrival < y->arrival ? -1 : 1;
    return x->trace_row < y->trace_row ? -1 : (x->trace_row > y->trace_row);
}

static int load_jobs(struct scenario *s, const struct scenario_options *opt, char *err,
                     size_t errlen)
{
    char path[1024];
    struct trace_pod *pods = NULL;
    size_t npods = 0, norigins = 0, *origin_region = NULL;
    double *origin_cum = NULL;
    uint64_t rng = opt->seed;
    snprintf(path, sizeof(path), "%s/openb_pod_list_gpuspec33.csv", opt->data_dir);
    int r = trace_load_pods(path, &pods, &npods);
    if (r < 0) {
        seterr(err, errlen, "cannot read %s: %s", path, strerror(-r));
        return r;
    }
    r = load_origins(s, opt->data_dir, &origin_region, &origin_cum, &norigins, err, errlen);
    if (r < 0)
        goto out;
    s->jobs = calloc(npods ? npods : 1, sizeof(*s->jobs));
    if (!s->jobs) {
        r = -ENOMEM;
        goto out;
    }
    uint64_t all = s->nmodels == 64 ? ~0ULL : (1ULL << s->nmodels) - 1;
    for (size_t i = 0; i < npods; i++) {
        const struct trace_pod *p = &pods[i];
        if (p->num_gpu < 1)
            continue; /* CPU-only pods ask the broker for nothing */
        /* Six draws per GPU pod, always, so one job's choices never shift another's. */
        double u_origin = scenario_rng_unit(&rng), u_prec = scenario_rng_unit(&rng),
               u_lat = scenario_rng_unit(&rng), u_dom = scenario_rng_unit(&rng),
               u_confirm = scenario_rng_unit(&rng), u_abandon = scenario_rng_unit(&rng);
        struct scn_job *j = &s->jobs[s->njobs];
        j->trace_row = i;
        j->arrival = p->creation / opt->speedup;
        double secs = p->deletion - p->creation;
        j->hours = (secs > MIN_JOB_SECONDS ? secs : MIN_JOB_SECONDS) / 3600.0;
        j->cards = p->num_gpu;
        j->models_allowed = p->gpu_spec[0] ? 0 : all;
        for (const char *q = p->gpu_spec; *q;) {
            size_t n = strcspn(q, "|");
            long m = model_by_trace_name(s, q, n);
            if (m < 0) {
                seterr(err, errlen, "pod %s: gpu_spec names a model not in models.csv", p->name);
                r = -EBADMSG;
                goto out;
            }
            j->models_allowed |= 1ULL << m;
            q += n;
            if (*q == '|')
                q++;
        }
        j->origin = origin_region[norigins - 1];
        for (size_t k = 0; k < norigins; k++) {
            if (u_origin < origin_cum[k]) {
                j->origin = origin_region[k];
                break;
            }
        }
        j->domestic_only = !p->gpu_spec[0] && u_dom < DOMESTIC_SHARE;
        double acc = 0;
        j->precision = precision_mix[0].p;
        for (size_t k = 0; k < sizeof(precision_mix) / sizeof(precision_mix[0]); k++) {
            acc += precision_mix[k].share;
            if (u_prec < acc) {
                j->precision = precision_mix[k].p;
                break;
            }
        }
        if (!any_supports(s, j->models_allowed, j->precision, j->domestic_only))
            j->precision = PREC_FP32;
        if (!any_supports(s, j->models_allowed, j->precision, j->domestic_only))
            j->precision = PREC_FP16;
        j->max_latency_ms =
            strcmp(p->qos, "LS") == 0 && u_lat < LS_LATENCY_SHARE ? LS_LATENCY_MS : -1;
        j->confirm_delay = CONFIRM_MIN_S + CONFIRM_SPAN_S * u_confirm;
        j->abandons = u_abandon < ABANDON_SHARE;
        s->njobs++;
    }
    qsort(s->jobs, s->njobs, sizeof(*s->jobs), job_cmp);
    if (opt->max_jobs > 0 && s->njobs > opt->max_jobs)
        s->njobs = opt->max_jobs;
    r = 0;
out:
    free(pods);
    free(origin_region);
    free(origin_cum);
    return r;
}

int scenario_load(struct scenario *ret, const struct scenario_options *opt, char *err,
                  size_t errlen)
{
    struct scenario s = {0};
    int r;
    err[0] = '\0';
    if (!(opt->speedup > 0) || !(opt->feed_interval > 0) || !(opt->hold_seconds > 0) ||
        !(opt->background >= 0)) {
        seterr(err, errlen, "speedup, feed interval and hold must be > 0, background >= 0");
        return -EINVAL;
    }
    s.background = opt->background;
    s.feed_interval = opt->feed_interval;
    s.hold_seconds = opt->hold_seconds;
    r = load_regions(&s, opt->data_dir, err, errlen);
    if (r == 0)
        r = load_latency(&s, opt->data_dir, err, errlen);
    if (r == 0)
        r = load_models(&s, opt->data_dir, err, errlen);
    if (r == 0)
        r = load_series(&s, opt->data_dir, err, errlen);
    if (r == 0)
        r = load_centers(&s, opt->data_dir, err, errlen);
    if (r == 0)
        r = load_jobs(&s, opt, err, errlen);
    if (r < 0) {
        if (!err[0])
            seterr(err, errlen, "cannot build the scenario: %s", strerror(-r));
        scenario_free(&s);
        return r;
    }
    *ret = s;
    return 0;
}

void scenario_free(struct scenario *s)
{
    if (!s)
        return;
    free(s->regions);
    free(s->rtt);
    free(s->rtt_source);
    free(s->models);
    free(s->centers);
    free(s->pools);
    free(s->jobs);
    for (size_t i = 0; i < s->nseries; i++)
        free(s->series[i].util);
    free(s->series);
    memset(s, 0, sizeof(*s));
}
