/* A small writer of plain, self-contained SVG charts (no scripts, no external fonts):
 * a document with a viewBox, a plot area mapping data to pixels on linear or log axes,
 * nice tick values, axes with grid and labels, polylines, markers, error bars, reference
 * lines and a legend. Everything is written to a FILE*; the caller checks ferror/fclose.
 *
 * Typical use:
 *     svg_begin(f, 800, 480);
 *     svg_title(f, 800, "FD001: test RMSE");
 *     svg_plot p;
 *     svg_area area = {.left = 80, .top = 50, .width = 480, .height = 360};
 *     svg_ranges range = {.xmin = xlo, .xmax = xhi, .xlog = 1, .ymin = ylo, .ymax = yhi};   (log x)
 *     svg_plot_init(&p, f, &area, &range);
 *     svg_axes(&p, "temperature T", "RMSE");
 *     svg_polyline(&p, x, y, n, "#1f77b4", 2, NULL, 1);
 *     svg_legend(f, 580, 60, items, n_items);
 *     svg_end(f);
 */
#ifndef MTL_SVG_H
#define MTL_SVG_H

#include <stddef.h>
#include <stdio.h>

/* The most ticks svg_ticks_* return. */
#define SVG_MAX_TICKS 64

/* A plot area in pixels: its top-left corner and its size. */
typedef struct {
    double left, top, width, height;
} svg_area;

/* The data range shown on each axis (positive on a log axis) and which axes are log10. */
typedef struct {
    double xmin, xmax, ymin, ymax;
    int xlog, ylog;
} svg_ranges;

typedef struct {
    FILE *f;
    double left, top, width, height;   /* plot area, pixels */
    double xmin, xmax, ymin, ymax;     /* data range shown (positive for a log axis) */
    int xlog, ylog;                    /* 1: log10 axis */
    int xint, yint;                    /* 1: whole-number ticks only on a linear axis (epochs);
                                          0 after svg_plot_init, set by the caller */
} svg_plot;

typedef struct {
    const char *label;
    const char *color;
    const char *dash;   /* stroke-dasharray, NULL for a solid line */
    int marker;         /* 0 none, else 1 + an SVG_* shape drawn on the sample (1: a dot) */
    int no_line;        /* 1: the marker alone, no line sample */
} svg_legend_item;

/* Marker shapes of svg_shape. */
enum { SVG_CIRCLE, SVG_SQUARE, SVG_TRIANGLE, SVG_DIAMOND, SVG_RING, SVG_NSHAPES };

/* Rectangles in pixels already covered by marks or text, for placing labels. */
typedef struct {
    double x0, y0, x1, y1;
} svg_box;

typedef struct {
    svg_box *box;
    int n, cap;
} svg_occupied;

/* Writes s with &, <, >, " and ' escaped for XML text and attribute values. */
void svg_write_escaped(FILE *f, const char *s);

/* Document: XML declaration, <svg> with width/height/viewBox and a white background. */
void svg_begin(FILE *f, int width, int height);
void svg_end(FILE *f);

/* Text at (x, y) (baseline), anchor "start", "middle" or "end"; rotate in degrees about
 * the anchor point (0: none); bold 0/1. */
void svg_text(FILE *f, double x, double y, const char *anchor, double size, int bold, double rotate,
              const char *s);
/* A bold title centred at the top of a document of this width. */
void svg_title(FILE *f, int width, const char *s);

/* Nice tick values (1, 2, 5 x 10^k steps) inside [lo, hi], about target of them. Returns the
 * count (at most max); *step gets the step. */
int svg_ticks_linear(double lo, double hi, int target, double *ticks, int max, double *step);
/* Tick values of a log axis inside [lo, hi] (lo > 0): powers of ten, plus 2 and 5 times them
 * when the range spans less than 3.5 decades, or every other power when it spans many. */
int svg_ticks_log(double lo, double hi, double *ticks, int max);
/* Widens [*lo, *hi] to nice linear tick bounds (a degenerate range gets a width). */
void svg_range_linear(double *lo, double *hi);
/* Widens [*lo, *hi] (positive) by pad_decades on each side of a log axis (a degenerate
 * range by a factor of 2 either way). */
void svg_range_log(double *lo, double *hi, double pad_decades);
/* Widens [*lo, *hi] (positive) to whole powers of ten. */
void svg_range_log_decades(double *lo, double *hi);
/* A tick label: decimals enough for step on a linear axis (step > 0), %g on a log axis
 * (step <= 0). */
void svg_format_tick(double v, double step, char *buf, size_t n);

/* A plot into f on the pixels of area showing the data ranges of range. */
void svg_plot_init(svg_plot *p, FILE *f, const svg_area *area, const svg_ranges *range);
/* Data -> pixel coordinates (values outside the range map outside the area; a non-positive
 * value on a log axis maps to NaN). */
double svg_px(const svg_plot *p, double x);
double svg_py(const svg_plot *p, double y);

/* Grid lines, frame, tick marks and labels on both axes, and the axis labels. */
void svg_axes(const svg_plot *p, const char *xlabel, const char *ylabel);
/* A line through the points, broken where a coordinate is not finite (or not positive on
 * a log axis); dash is a stroke-dasharray or NULL; opacity in (0, 1]. */
void svg_polyline(const svg_plot *p, const double *x, const double *y, int n, const char *color, double width,
                  const char *dash, double opacity);
/* Filled circles of radius r at the (finite) points. */
void svg_markers(const svg_plot *p, const double *x, const double *y, int n, const char *color, double r);
/* Vertical bars y +- e with small caps, where e is finite and positive. */
void svg_error_bars(const svg_plot *p, const double *x, const double *y, const double *e, int n,
                    const char *color);
/* Horizontal bars x +- e with small caps, where e is finite and positive. */
void svg_error_bars_x(const svg_plot *p, const double *x, const double *y, const double *e, int n,
                      const char *color);
/* One marker of this shape (SVG_*) and radius r at the data point (x, y); SVG_RING is an
 * outline in color, the others are filled with a white edge. Nothing when not finite. */
void svg_shape(const svg_plot *p, double x, double y, int shape, const char *color, double r);
/* A vertical line across the plot area at x. */
void svg_vline(const svg_plot *p, double x, const char *color, double width, const char *dash);
/* A horizontal line across the plot area at y. */
void svg_hline(const svg_plot *p, double y, const char *color, double width, const char *dash);
/* A legend box with its top-left corner at (x, y): one row per item. Returns its height. */
double svg_legend(FILE *f, double x, double y, const svg_legend_item *items, int n);
/* The width in pixels svg_legend gives those items (for layout). */
double svg_legend_width(const svg_legend_item *items, int n);
/* Adds a box (pixels, any corner order) to o. Returns -1 when out of memory. */
int svg_occupy(svg_occupied *o, double x0, double y0, double x1, double y1);
void svg_occupied_free(svg_occupied *o);
/* Writes the label s (font size) beside the pixel (px, py), gap pixels away, at the first of
 * eight places around it (right, left, above, below, then the diagonals) that lies inside
 * the plot area and overlaps no box of o, and adds its box to o. Returns 0 when placed, 1
 * when no place was free (nothing written), -1 when out of memory. */
int svg_label_free(const svg_plot *p, svg_occupied *o, double px, double py, double gap, double size, const char *s);
/* The approximate width in pixels of s at this font size (for layout). */
double svg_text_width(const char *s, double size);

#endif
