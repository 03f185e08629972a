/*
 * report — writes what the runs measured. The CSV is the record (one row per
 * policy, the column names are the metric names of README.md); the table is
 * for a terminal; the SVG is written by hand as plain text so that a browser
 * opens it with no library: a scatter of total cost against acceptance rate,
 * then one small chart per policy of every center's utilization over time.
 */
#include "report.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "ledger.h"

/* Distinct colors for policies and centers (cycled past the end). */
static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                      "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f",
                                      "#bcbd22", "#17becf", "#393b79", "#637939"};
#define NPALETTE (sizeof(palette) / sizeof(palette[0]))

static double decisions_per_s(const struct sim_result *r)
{
    return r->decide_seconds > 0 ? (double)r->decisions / r->decide_seconds : 0;
}

static int finish(FILE *f)
{
    return ferror(f) ? -EIO : 0;
}

int report_csv(FILE *f, const struct sim_result *runs, size_t nruns)
{
    fprintf(f, "policy,jobs,accepted,acceptance,confirmed,expired,rejected,cost_cny,"
               "cost_per_card_hour,rtt_mean_ms,rtt_p95_ms,util_mean,util_std,util_max,util_min,"
               "util_max_over_min,violations");
    for (int k = 0; k < VIOL_COUNT; k++)
        fprintf(f, ",viol_%s", ledger_violation_name((enum ledger_violation)k));
    fprintf(f, ",decisions,decisions_per_s\n");
    for (size_t i = 0; i < nruns; i++) {
        const struct sim_result *r = &runs[i];
        const struct ledger *l = &r->ledger;
        const struct ledger_summary *s = &r->summary;
        fprintf(f, "%s,%ld,%ld,%.6f,%ld,%ld,%ld,%.2f,%.4f,%.3f,%.3f,%.6f,%.6f,%.6f,%.6f,",
                r->policy->name, l->arrivals, l->accepted, s->acceptance, l->confirmed, l->expired,
                l->rejected, l->cost, s->cost_per_card_hour, s->rtt_mean, s->rtt_p95, s->util_mean,
                s->util_std, s->util_max, s->util_min);
        if (s->util_min > 0)
            fprintf(f, "%.4f", s->util_max / s->util_min);
        else
            fprintf(f, "inf");
        fprintf(f, ",%ld", s->violations);
        for (int k = 0; k < VIOL_COUNT; k++)
            fprintf(f, ",%ld", l->violations[k]);
        fprintf(f, ",%ld,%.0f\n", r->decisions, decisions_per_s(r));
    }
    return finish(f);
}

int report_table(FILE *f, const struct sim_result *runs, size_t nruns)
{
    fprintf(f, "%-13s %6s %8s %12s %8s %8s %8s %8s %8s %5s %10s\n", "policy", "jobs", "accept%",
            "cost CNY", "CNY/c-h", "rtt ms", "p95 ms", "util sd", "max/min", "viol", "decisions/s");
    for (size_t i = 0; i < nruns; i++) {
        const struct sim_result *r = &runs[i];
        const struct ledger_summary *s = &r->summary;
        char ratio[16];
        if (s->util_min > 0)
            snprintf(ratio, sizeof(ratio), "%.2f", s->util_max / s->util_min);
        else
            snprintf(ratio, sizeof(ratio), "inf");
        fprintf(f, "%-13s %6ld %8.2f %12.0f %8.3f %8.2f %8.2f %8.4f %8s %5ld %10.0f\n",
                r->policy->name, r->ledger.arrivals, 100 * s->acceptance, r->ledger.cost,
                s->cost_per_card_hour, s->rtt_mean, s->rtt_p95, s->util_std, ratio, s->violations,
                decisions_per_s(r));
    }
    return finish(f);
}

/* A "nice" tick step (1, 2 or 5 times a power of ten) for about `n` ticks over a span. */
static double tick_step(double span, int n)
{
    if (!(span > 0))
        return 1;
    double raw = span / n, p = pow(10, floor(log10(raw))), m = raw / p;
    return p * (m < 1.5 ? 1 : (m < 3.5 ? 2 : (m < 7.5 ? 5 : 10)));
}

/* Writes text with XML's five special characters escaped. */
static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&apos;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

/* A number with thousands written as k or M, for axis labels. */
static void fmt_amount(char *buf, size_t len, double v)
{
    if (fabs(v) >= 1e6)
        snprintf(buf, len, "%gM", v / 1e6);
    else if (fabs(v) >= 1e3)
        snprintf(buf, len, "%gk", v / 1e3);
    else
        snprintf(buf, len, "%g", v);
}

#define SVG_W 1000
#define SCATTER_X 90
#define SCATTER_Y 60
#define SCATTER_W 620
#define SCATTER_H 300

static void svg_scatter(FILE *f, const struct sim_result *runs, size_t nruns)
{
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (size_t i = 0; i < nruns; i++) {
        double x = runs[i].ledger.cost, y = 100 * runs[i].summary.acceptance;
        xmin = fmin(xmin, x);
        xmax = fmax(xmax, x);
        ymin = fmin(ymin, y);
        ymax = fmax(ymax, y);
    }
    /* Pad the ranges so no point sits on a border, then snap them to ticks. */
    double xpad = (xmax - xmin) * 0.1 + 1, ypad = (ymax - ymin) * 0.1 + 0.5;
    double xs = tick_step(xmax - xmin + 2 * xpad, 6), ys = tick_step(ymax - ymin + 2 * ypad, 5);
    xmin = floor((xmin - xpad) / xs) * xs;
    xmax = ceil((xmax + xpad) / xs) * xs;
    ymin = floor((ymin - ypad) / ys) * ys;
    ymax = ceil((ymax + ypad) / ys) * ys;
    if (xmin < 0)
        xmin = 0;
    if (ymax > 100)
        ymax = 100;

    fprintf(f,
            "<text x=\"%d\" y=\"%d\" class=\"title\">Total cost against acceptance, per "
            "policy (up and left is better)</text>\n",
            SCATTER_X, SCATTER_Y - 25);
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" class=\"frame\"/>\n", SCATTER_X,
            SCATTER_Y, SCATTER_W, SCATTER_H);
    for (double x = xmin; x <= xmax + xs * 1e-9; x += xs) {
        double px = SCATTER_X + (x - xmin) / (xmax - xmin) * SCATTER_W;
        char label[32];
        fmt_amount(label, sizeof(label), x);
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" class=\"grid\"/>"
                "<text x=\"%.1f\" y=\"%d\" class=\"tick\" text-anchor=\"middle\">%s</text>\n",
                px, SCATTER_Y, px, SCATTER_Y + SCATTER_H, px, SCATTER_Y + SCATTER_H + 16, label);
    }
    for (double y = ymin; y <= ymax + ys * 1e-9; y += ys) {
        double py = SCATTER_Y + SCATTER_H - (y - ymin) / (ymax - ymin) * SCATTER_H;
        fprintf(f,
                "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"grid\"/>"
                "<text x=\"%d\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">%g%%</text>\n",
                SCATTER_X, py, SCATTER_X + SCATTER_W, py, SCATTER_X - 6, py + 4, y);
    }
    fprintf(f,
            "<text x=\"%d\" y=\"%d\" class=\"axis\" text-anchor=\"middle\">total cost of "
            "confirmed placements (CNY)</text>\n",
            SCATTER_X + SCATTER_W / 2, SCATTER_Y + SCATTER_H + 38);
    fprintf(f,
            "<text x=\"%d\" y=\"%d\" class=\"axis\" text-anchor=\"middle\" "
            "transform=\"rotate(-90 %d %d)\">acceptance rate</text>\n",
            SCATTER_X - 55, SCATTER_Y + SCATTER_H / 2, SCATTER_X - 55, SCATTER_Y + SCATTER_H / 2);
    for (size_t i = 0; i < nruns; i++) {
        double px = SCATTER_X + (runs[i].ledger.cost - xmin) / (xmax - xmin) * SCATTER_W;
        double py = SCATTER_Y + SCATTER_H -
                    (100 * runs[i].summary.acceptance - ymin) / (ymax - ymin) * SCATTER_H;
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"/>\n", px, py,
                palette[i % NPALETTE]);
        /* The legend names every point, since labels next to close points overlap. */
        int ly = SCATTER_Y + 10 + (int)i * 20;
        fprintf(f,
                "<circle cx=\"%d\" cy=\"%d\" r=\"5\" fill=\"%s\"/><text x=\"%d\" y=\"%d\" "
                "class=\"legend\">",
                SCATTER_X + SCATTER_W + 20, ly, palette[i % NPALETTE], SCATTER_X + SCATTER_W + 32,
                ly + 4);
        xml_text(f, runs[i].policy->name);
        fprintf(f, " (%.1f%%, %.2f CNY/c-h)</text>\n", 100 * runs[i].summary.acceptance,
                runs[i].summary.cost_per_card_hour);
    }
}

#define PANEL_COLS 4
#define PANEL_W 200
#define PANEL_H 120
#define PANEL_GAP_X 40
#define PANEL_GAP_Y 60
#define PANELS_Y (SCATTER_Y + SCATTER_H + 110)
#define MAX_POINTS 240

static void svg_panel(FILE *f, const struct scenario *s, const struct sim_result *r, int x0, int y0)
{
    double tmax = r->end > 0 ? r->end : 1;
    fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"ptitle\">", x0, y0 - 8);
    xml_text(f, r->policy->name);
    fprintf(f, "</text>\n<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" class=\"frame\"/>\n",
            x0, y0, PANEL_W, PANEL_H);
    for (int k = 0; k <= 4; k++) {
        double py = y0 + PANEL_H - k * PANEL_H / 4.0;
        fprintf(f,
                "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"grid\"/>"
                "<text x=\"%d\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">%d%%</text>\n",
                x0, py, x0 + PANEL_W, py, x0 - 4, py + 4, k * 25);
    }
    double hours = tmax / 3600;
    double hs = tick_step(hours, 4);
    for (double h = 0; h <= hours + 1e-9; h += hs) {
        double px = x0 + h / hours * PANEL_W;
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"tick\" text-anchor=\"middle\">%gh</text>\n",
                px, y0 + PANEL_H + 14, h);
    }
    /* One polyline per center; each point is the mean of a bucket of feed samples. */
    size_t bucket = r->nsamples / MAX_POINTS + 1;
    for (size_t c = 0; c < s->ncenters; c++) {
        fprintf(f, "<polyline class=\"line\" stroke=\"%s\" points=\"", palette[c % NPALETTE]);
        for (size_t i = 0; i < r->nsamples; i += bucket) {
            double sum = 0, tsum = 0;
            size_t n = 0;
            for (size_t k = i; k < i + bucket && k < r->nsamples; k++, n++) {
                sum += r->samples[k * s->ncenters + c];
                tsum += r->sample_t[k];
            }
            double px = x0 + (tsum / (double)n) / tmax * PANEL_W;
            double py = y0 + PANEL_H - (sum / (double)n) * PANEL_H;
            fprintf(f, "%.1f,%.1f ", px, py);
        }
        fprintf(f, "\"/>\n");
    }
}

int report_svg(FILE *f, const struct scenario *s, const struct sim_result *runs, size_t nruns)
{
    int rows = (int)((nruns + PANEL_COLS - 1) / PANEL_COLS);
    int height = PANELS_Y + rows * (PANEL_H + PANEL_GAP_Y) + 40 + 18 * ((int)s->ncenters / 4 + 1);
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n"
            "<style>.title{font-size:16px;font-weight:bold}.ptitle{font-size:13px;"
            "font-weight:bold}.axis{font-size:12px}.tick{font-size:10px;fill:#444}"
            ".legend{font-size:12px}.frame{fill:none;stroke:#333}.grid{stroke:#ddd}"
            ".line{fill:none;stroke-width:1.2}</style>\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            SVG_W, height, SVG_W, height);
    svg_scatter(f, runs, nruns);
    fprintf(f,
            "<text x=\"%d\" y=\"%d\" class=\"title\">Utilization per center over simulated "
            "time (background load included), per policy</text>\n",
            SCATTER_X, PANELS_Y - 45);
    for (size_t i = 0; i < nruns; i++) {
        int col = (int)(i % PANEL_COLS), row = (int)(i / PANEL_COLS);
        svg_panel(f, s, &runs[i], 50 + col * (PANEL_W + PANEL_GAP_X),
                  PANELS_Y + row * (PANEL_H + PANEL_GAP_Y));
    }
    int ly = PANELS_Y + rows * (PANEL_H + PANEL_GAP_Y) + 10;
    for (size_t c = 0; c < s->ncenters; c++) {
        int lx = 50 + (int)(c % 4) * 230, y = ly + (int)(c / 4) * 18;
        fprintf(f,
                "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/>"
                "<text x=\"%d\" y=\"%d\" class=\"legend\">",
                lx, y, lx + 18, y, palette[c % NPALETTE], lx + 24, y + 4);
        xml_text(f, s->centers[c].id);
        fprintf(f, " (");
        xml_text(f, s->regions[s->centers[c].region].id);
        fprintf(f, ")</text>\n");
    }
    fprintf(f, "</svg>\n");
    return finish(f);
}
