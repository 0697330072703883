/* Plain SVG charts: see svg.h. */
#include "svg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SVG_FONT "DejaVu Sans, Helvetica, Arial, sans-serif"

void svg_write_escaped(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default:
            /* control characters are not allowed in XML 1.0 */
            if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n') fputc(' ', f);
            else fputc(*s, f);
        }
    }
}

void svg_begin(FILE *f, int width, int height)
{
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
            "font-family=\"" SVG_FONT "\">\n"
            "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n",
            width, height, width, height, width, height);
}

void svg_end(FILE *f)
{
    fputs("</svg>\n", f);
}

void svg_text(FILE *f, double x, double y, const char *anchor, double size, int bold, double rotate,
              const char *s)
{
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%g\" text-anchor=\"%s\" fill=\"#222222\"", x, y, size,
            anchor ? anchor : "start");
    if (bold) fputs(" font-weight=\"bold\"", f);
    if (rotate != 0) fprintf(f, " transform=\"rotate(%g %.1f %.1f)\"", rotate, x, y);
    fputc('>', f);
    svg_write_escaped(f, s);
    fputs("</text>\n", f);
}

void svg_title(FILE *f, int width, const char *s)
{
    svg_text(f, width / 2.0, 26, "middle", 16, 1, 0, s);
}

double svg_text_width(const char *s, double size)
{
    /* Average advance of a sans-serif glyph (DejaVu Sans, the widest common one) is about
     * 0.57 em for mixed text; count code points. */
    double n = 0;
    for (; s && *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n += 1;
    return n * 0.57 * size;
}

/* ------------------------------------------------------------------ ticks and ranges */

static double nice_step(double span, int target)
{
    if (target < 1) target = 1;
    double raw = span / target;
    double mag = pow(10.0, floor(log10(raw)));
    double q = raw / mag;
    double m = q < 1.5 ? 1 : q < 3 ? 2 : q < 7 ? 5 : 10;
    return m * mag;
}

int svg_ticks_linear(double lo, double hi, int target, double *ticks, int max, double *step)
{
    if (max < 1) return 0;
    if (!isfinite(lo) || !isfinite(hi) || !(hi > lo)) {
        ticks[0] = lo;
        if (step) *step = fabs(lo) > 0 ? fabs(lo) / 10 : 1;
        return 1;
    }
    double s = nice_step(hi - lo, target);
    double first = ceil(lo / s - 1e-9);
    int n = 0;
    for (int k = 0; n < max; k++) {
        double v = (first + k) * s;
        if (v > hi + 1e-9 * s) break;
        if (fabs(v) < 1e-9 * s) v = 0;
        ticks[n++] = v;
    }
    if (step) *step = s;
    return n;
}

int svg_ticks_log(double lo, double hi, double *ticks, int max)
{
    if (max < 1 || !(lo > 0) || !(hi > lo) || !isfinite(hi)) return 0;
    double span = log10(hi) - log10(lo);
    int kmin = (int)floor(log10(lo)), kmax = (int)ceil(log10(hi));
    int n = 0;
    if (span < 3.5) {
        static const double mult[] = {1, 2, 5};
        for (int k = kmin; k <= kmax && n < max; k++)
            for (int i = 0; i < 3 && n < max; i++) {
                double v = mult[i] * pow(10.0, k);
                if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) ticks[n++] = v;
            }
        if (n < 2) {   /* less than a factor of two or so: plain linear ticks */
            double step;
            n = svg_ticks_linear(lo, hi, 4, ticks, max, &step);
        }
        return n;
    }
    int every = span > 8 ? (int)ceil(span / 6) : 1;
    for (int k = kmin; k <= kmax && n < max; k++) {
        if (((k % every) + every) % every) continue;
        double v = pow(10.0, k);
        if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) ticks[n++] = v;
    }
    return n;
}

void svg_range_linear(double *lo, double *hi)
{
    if (!isfinite(*lo) || !isfinite(*hi)) {
        *lo = 0;
        *hi = 1;
        return;
    }
    if (!(*hi > *lo)) {
        double w = fabs(*lo) > 0 ? fabs(*lo) * 0.1 : 1;
        *lo -= w;
        *hi += w;
    }
    double s = nice_step(*hi - *lo, 5);
    *lo = floor(*lo / s + 1e-9) * s;
    *hi = ceil(*hi / s - 1e-9) * s;
}

void svg_range_log(double *lo, double *hi, double pad_decades)
{
    if (!(*lo > 0) || !isfinite(*lo) || !isfinite(*hi)) {
        *lo = 0.1;
        *hi = 10;
        return;
    }
    if (!(*hi > *lo)) {
        *lo /= 2;
        *hi *= 2;
        return;
    }
    double f = pow(10.0, pad_decades);
    *lo /= f;
    *hi *= f;
}

void svg_range_log_decades(double *lo, double *hi)
{
    if (!(*lo > 0) || !isfinite(*lo) || !isfinite(*hi) || !(*hi >= *lo)) {
        *lo = 0.1;
        *hi = 10;
        return;
    }
    double a = pow(10.0, floor(log10(*lo) + 1e-9)), b = pow(10.0, ceil(log10(*hi) - 1e-9));
    if (!(b > a)) b = a * 10;
    *lo = a;
    *hi = b;
}

void svg_format_tick(double v, double step, char *buf, size_t n)
{
    if (step > 0) {
        if (fabs(v) < 1e-9 * step) v = 0;
        int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
        if (dec > 10) dec = 10;
        snprintf(buf, n, "%.*f", dec, v);
    } else {
        snprintf(buf, n, "%g", v);
    }
}

/* ------------------------------------------------------------------ plot area */

void svg_plot_init(svg_plot *p, FILE *f, const svg_area *area, const svg_ranges *range)
{
    p->f = f;
    p->left = area->left;
    p->top = area->top;
    p->width = area->width;
    p->height = area->height;
    p->xmin = range->xmin;
    p->xmax = range->xmax;
    p->ymin = range->ymin;
    p->ymax = range->ymax;
    p->xlog = range->xlog;
    p->ylog = range->ylog;
    p->xint = p->yint = 0;
}

/* Fraction of the way from lo to hi (log or linear); NaN where undefined. */
static double frac(double v, double lo, double hi, int lg)
{
    if (lg) {
        if (!(v > 0) || !(lo > 0) || !(hi > lo)) return NAN;
        return (log10(v) - log10(lo)) / (log10(hi) - log10(lo));
    }
    if (!(hi > lo)) return 0.5;
    return (v - lo) / (hi - lo);
}

double svg_px(const svg_plot *p, double x)
{
    return p->left + frac(x, p->xmin, p->xmax, p->xlog) * p->width;
}

double svg_py(const svg_plot *p, double y)
{
    return p->top + (1 - frac(y, p->ymin, p->ymax, p->ylog)) * p->height;
}

static int axis_ticks(double lo, double hi, int lg, int integer, int target, double *ticks, double *step)
{
    if (lg) {
        *step = 0;   /* %g labels */
        return svg_ticks_log(lo, hi, ticks, SVG_MAX_TICKS);
    }
    int n = svg_ticks_linear(lo, hi, target, ticks, SVG_MAX_TICKS, step);
    if (integer && *step < 1) {   /* a short range of whole numbers: every one of them */
        n = 0;
        for (double v = ceil(lo - 1e-9); v <= hi + 1e-9 && n < SVG_MAX_TICKS; v += 1) ticks[n++] = v;
        *step = 1;
    }
    return n;
}

/* Light lines at 2..9 x 10^k on a log axis spanning few decades. */
static void minor_log_grid(const svg_plot *p, int vertical)
{
    double lo = vertical ? p->xmin : p->ymin, hi = vertical ? p->xmax : p->ymax;
    if (!(lo > 0) || !(hi > lo) || log10(hi) - log10(lo) > 6 || log10(hi) - log10(lo) < 0.5) return;
    for (int k = (int)floor(log10(lo)); k <= (int)ceil(log10(hi)); k++)
        for (int m = 2; m <= 9; m++) {
            double v = m * pow(10.0, k);
            if (v <= lo || v >= hi) continue;
            if (vertical) {
                double x = svg_px(p, v);
                fprintf(p->f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#f0f0f0\"/>\n", x,
                        p->top, x, p->top + p->height);
            } else {
                double y = svg_py(p, v);
                fprintf(p->f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#f0f0f0\"/>\n",
                        p->left, y, p->left + p->width, y);
            }
        }
}

void svg_axes(const svg_plot *p, const char *xlabel, const char *ylabel)
{
    FILE *f = p->f;
    double xt[SVG_MAX_TICKS], yt[SVG_MAX_TICKS], xstep, ystep;
    int nx = axis_ticks(p->xmin, p->xmax, p->xlog, p->xint, (int)(p->width / 90) + 1, xt, &xstep);
    int ny = axis_ticks(p->ymin, p->ymax, p->ylog, p->yint, (int)(p->height / 60) + 1, yt, &ystep);
    double bottom = p->top + p->height, right = p->left + p->width;

    if (p->xlog) minor_log_grid(p, 1);
    if (p->ylog) minor_log_grid(p, 0);
    for (int i = 0; i < nx; i++) {
        double x = svg_px(p, xt[i]);
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#dddddd\"/>\n", x, p->top, x,
                bottom);
    }
    for (int i = 0; i < ny; i++) {
        double y = svg_py(p, yt[i]);
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#dddddd\"/>\n", p->left, y,
                right, y);
    }
    fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" stroke=\"#444444\"/>\n",
            p->left, p->top, p->width, p->height);

    char buf[64];
    for (int i = 0; i < nx; i++) {
        double x = svg_px(p, xt[i]);
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#444444\"/>\n", x, bottom, x,
                bottom + 5);
        svg_format_tick(xt[i], xstep, buf, sizeof buf);
        svg_text(f, x, bottom + 19, "middle", 12, 0, 0, buf);
    }
    double maxw = 0;
    for (int i = 0; i < ny; i++) {
        double y = svg_py(p, yt[i]);
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#444444\"/>\n", p->left - 5, y,
                p->left, y);
        svg_format_tick(yt[i], ystep, buf, sizeof buf);
        svg_text(f, p->left - 8, y + 4, "end", 12, 0, 0, buf);
        double w = svg_text_width(buf, 12);
        if (w > maxw) maxw = w;
    }
    if (xlabel) svg_text(f, p->left + p->width / 2, bottom + 42, "middle", 13, 0, 0, xlabel);
    if (ylabel) {
        double x = p->left - 8 - maxw - 12;
        if (x < 16) x = 16;
        svg_text(f, x, p->top + p->height / 2, "middle", 13, 0, -90, ylabel);
    }
}

/* ------------------------------------------------------------------ marks */

static void stroke_attrs(FILE *f, const char *color, double width, const char *dash, double opacity)
{
    fprintf(f, " fill=\"none\" stroke=\"%s\" stroke-width=\"%g\" stroke-linejoin=\"round\" stroke-linecap=\"round\"",
            color, width);
    if (dash) fprintf(f, " stroke-dasharray=\"%s\"", dash);
    if (opacity > 0 && opacity < 1) fprintf(f, " stroke-opacity=\"%g\"", opacity);
}

void svg_polyline(const svg_plot *p, const double *x, const double *y, int n, const char *color, double width,
                  const char *dash, double opacity)
{
    int i = 0;
    while (i < n) {
        /* one segment: a maximal run of drawable points */
        int start = i, len = 0;
        while (i < n) {
            double px = svg_px(p, x[i]), py = svg_py(p, y[i]);
            if (!isfinite(x[i]) || !isfinite(y[i]) || !isfinite(px) || !isfinite(py)) break;
            i++;
            len++;
        }
        if (len >= 2) {
            fputs("<polyline points=\"", p->f);
            for (int k = start; k < start + len; k++)
                fprintf(p->f, "%s%.2f,%.2f", k > start ? " " : "", svg_px(p, x[k]), svg_py(p, y[k]));
            fputc('"', p->f);
            stroke_attrs(p->f, color, width, dash, opacity);
            fputs("/>\n", p->f);
        }
        if (len == 0) i++;
    }
}

void svg_markers(const svg_plot *p, const double *x, const double *y, int n, const char *color, double r)
{
    for (int i = 0; i < n; i++) {
        double px = svg_px(p, x[i]), py = svg_py(p, y[i]);
        if (!isfinite(px) || !isfinite(py)) continue;
        fprintf(p->f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%g\" fill=\"%s\" stroke=\"#ffffff\" stroke-width=\"1\"/>\n",
                px, py, r, color);
    }
}

void svg_error_bars(const svg_plot *p, const double *x, const double *y, const double *e, int n,
                    const char *color)
{
    for (int i = 0; i < n; i++) {
        if (!isfinite(e[i]) || !(e[i] > 0)) continue;
        double px = svg_px(p, x[i]), y0 = svg_py(p, y[i] - e[i]), y1 = svg_py(p, y[i] + e[i]);
        if (!isfinite(px) || !isfinite(y0) || !isfinite(y1)) continue;
        fprintf(p->f,
                "<path d=\"M%.2f,%.2f V%.2f M%.2f,%.2f H%.2f M%.2f,%.2f H%.2f\" fill=\"none\" stroke=\"%s\" "
                "stroke-width=\"1.5\"/>\n",
                px, y0, y1, px - 5, y0, px + 5, px - 5, y1, px + 5, color);
    }
}

void svg_error_bars_x(const svg_plot *p, const double *x, const double *y, const double *e, int n,
                      const char *color)
{
    for (int i = 0; i < n; i++) {
        if (!isfinite(e[i]) || !(e[i] > 0)) continue;
        double py = svg_py(p, y[i]), x0 = svg_px(p, x[i] - e[i]), x1 = svg_px(p, x[i] + e[i]);
        if (!isfinite(py) || !isfinite(x0) || !isfinite(x1)) continue;
        fprintf(p->f,
                "<path d=\"M%.2f,%.2f H%.2f M%.2f,%.2f V%.2f M%.2f,%.2f V%.2f\" fill=\"none\" stroke=\"%s\" "
                "stroke-width=\"1.5\"/>\n",
                x0, py, x1, x0, py - 5, py + 5, x1, py - 5, py + 5, color);
    }
}

/* A shape of radius r centred at the pixel (cx, cy). */
static void shape_at(FILE *f, double cx, double cy, int shape, const char *color, double r)
{
    const char *fill = "fill=\"%s\" stroke=\"#ffffff\" stroke-width=\"1\"/>\n";
    switch (shape) {
    case SVG_SQUARE:
        fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" ", cx - r * 0.9, cy - r * 0.9, r * 1.8,
                r * 1.8);
        break;
    case SVG_TRIANGLE:
        fprintf(f, "<path d=\"M%.2f,%.2f L%.2f,%.2f L%.2f,%.2f Z\" ", cx, cy - r * 1.15, cx + r, cy + r * 0.75, cx - r,
                cy + r * 0.75);
        break;
    case SVG_DIAMOND:
        fprintf(f, "<path d=\"M%.2f,%.2f L%.2f,%.2f L%.2f,%.2f L%.2f,%.2f Z\" ", cx, cy - r * 1.2, cx + r * 1.2, cy, cx,
                cy + r * 1.2, cx - r * 1.2, cy);
        break;
    case SVG_RING:
        fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%g\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\"/>\n", cx,
                cy, r, color);
        return;
    default: fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%g\" ", cx, cy, r);
    }
    fprintf(f, fill, color);
}

void svg_shape(const svg_plot *p, double x, double y, int shape, const char *color, double r)
{
    double px = svg_px(p, x), py = svg_py(p, y);
    if (!isfinite(px) || !isfinite(py)) return;
    shape_at(p->f, px, py, shape, color, r);
}

void svg_vline(const svg_plot *p, double x, const char *color, double width, const char *dash)
{
    double px = svg_px(p, x);
    if (!isfinite(px)) return;
    fprintf(p->f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"", px, p->top, px, p->top + p->height);
    stroke_attrs(p->f, color, width, dash, 1);
    fputs("/>\n", p->f);
}

void svg_hline(const svg_plot *p, double y, const char *color, double width, const char *dash)
{
    double py = svg_py(p, y);
    if (!isfinite(py)) return;
    fprintf(p->f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"", p->left, py, p->left + p->width, py);
    stroke_attrs(p->f, color, width, dash, 1);
    fputs("/>\n", p->f);
}

#define LEGEND_ROW 20.0
#define LEGEND_PAD 8.0
#define LEGEND_SAMPLE 28.0
#define LEGEND_FONT 12.0

double svg_legend_width(const svg_legend_item *items, int n)
{
    double tw = 0;
    for (int i = 0; i < n; i++) {
        double w = svg_text_width(items[i].label, LEGEND_FONT);
        if (w > tw) tw = w;
    }
    return LEGEND_PAD + LEGEND_SAMPLE + 8 + tw + LEGEND_PAD;
}

double svg_legend(FILE *f, double x, double y, const svg_legend_item *items, int n)
{
    const double row = LEGEND_ROW, pad = LEGEND_PAD, sample = LEGEND_SAMPLE, size = LEGEND_FONT;
    double w = svg_legend_width(items, n), h = pad + n * row + pad - 4;
    fprintf(f,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"3\" fill=\"#ffffff\" "
            "fill-opacity=\"0.9\" stroke=\"#bbbbbb\"/>\n",
            x, y, w, h);
    for (int i = 0; i < n; i++) {
        double cy = y + pad + i * row + row / 2 - 2;
        if (!items[i].no_line) {
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"", x + pad, cy, x + pad + sample, cy);
            stroke_attrs(f, items[i].color, 2, items[i].dash, 1);
            fputs("/>\n", f);
        }
        if (items[i].marker == 1)
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>\n", x + pad + sample / 2, cy,
                    items[i].color);
        else if (items[i].marker > 1)
            shape_at(f, x + pad + sample / 2, cy, items[i].marker - 1, items[i].color, 5);
        svg_text(f, x + pad + sample + 8, cy + 4, "start", size, 0, 0, items[i].label);
    }
    return h;
}

/* ------------------------------------------------------------------ label placement */

int svg_occupy(svg_occupied *o, double x0, double y0, double x1, double y1)
{
    if (o->n == o->cap) {
        int cap = o->cap ? 2 * o->cap : 64;
        svg_box *b = realloc(o->box, (size_t)cap * sizeof *b);
        if (!b) return -1;
        o->box = b;
        o->cap = cap;
    }
    o->box[o->n++] = (svg_box){.x0 = fmin(x0, x1), .y0 = fmin(y0, y1), .x1 = fmax(x0, x1), .y1 = fmax(y0, y1)};
    return 0;
}

void svg_occupied_free(svg_occupied *o)
{
    free(o->box);
    o->box = NULL;
    o->n = o->cap = 0;
}

static int box_free(const svg_occupied *o, svg_box b)
{
    for (int i = 0; i < o->n; i++) {
        const svg_box *q = &o->box[i];
        if (b.x0 < q->x1 && q->x0 < b.x1 && b.y0 < q->y1 && q->y0 < b.y1) return 0;
    }
    return 1;
}

int svg_label_free(const svg_plot *p, svg_occupied *o, double px, double py, double gap, double size, const char *s)
{
    double w = svg_text_width(s, size), h = size;
    /* offsets of the label's left edge and baseline: right, left, above, below, diagonals */
    const double dx[8] = {gap, -gap - w, -w / 2, -w / 2, gap, -gap - w, gap, -gap - w};
    const double dy[8] = {h * 0.35, h * 0.35, -gap, gap + h * 0.8, -gap, -gap, gap + h * 0.8, gap + h * 0.8};
    for (int k = 0; k < 8; k++) {
        /* the glyphs' box: cap height above the baseline, descenders below */
        svg_box b = {.x0 = px + dx[k] - 1, .y0 = py + dy[k] - h * 0.8, .x1 = px + dx[k] + w + 1,
                     .y1 = py + dy[k] + h * 0.2};
        if (b.x0 < p->left || b.x1 > p->left + p->width || b.y0 < p->top || b.y1 > p->top + p->height) continue;
        if (!box_free(o, b)) continue;
        if (svg_occupy(o, b.x0, b.y0, b.x1, b.y1) < 0) return -1;
        svg_text(p->f, px + dx[k], py + dy[k], "start", size, 0, 0, s);
        return 0;
    }
    return 1;
}
