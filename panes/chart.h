/* The deploy × error-rate chart as text: pure layout, no ncurses. Given a
 * series, a time window and a size in cells, chart_render returns the rows as
 * UTF-8 strings (each exactly `width` cells wide) plus runs saying which
 * colour role each stretch of cells takes, so the timeline pane only has to
 * print and colour them. Kept free of curses so unit tests can compare rows
 * byte for byte.
 *
 * Layout, top to bottom (height rows in all):
 *   plot rows     "12%┤" label column, then the series (braille, blocks, or
 *                 ASCII " .:|#" when !utf8)
 *   axis row      "    └──┬────▲──"   ┬ a deploy, ▲ the spike onset
 *   label rows    service@version under each tick, on one or two rows so
 *                 labels never overlap; a suspect's label ends in " !!"
 * Rows are dropped from the bottom up when height is small: labels first
 * (two rows from height 6, one from 3), then the axis (from 2). The label
 * column is dropped below 12 columns. */
#ifndef WARROOM_CHART_H
#define WARROOM_CHART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Colour roles a run of cells takes; the pane maps them to theme roles
 * (chart.axis, chart.line, chart.spike, deploy.marker, deploy.suspect,
 * deploy.lastgood). */
enum chart_role {
	CHART_ROLE_NONE,     /* plain text */
	CHART_ROLE_AXIS,
	CHART_ROLE_LINE,     /* series before the spike onset */
	CHART_ROLE_SPIKE,    /* series from the onset on, and the onset mark */
	CHART_ROLE_MARKER,   /* an ordinary deploy tick and label */
	CHART_ROLE_SUSPECT,  /* the suspect deploy */
	CHART_ROLE_LASTGOOD, /* the last known good deploy */
	CHART_ROLE__COUNT
};
const char *chart_role_name(enum chart_role r); /* "chart.line", ... */

enum chart_style {
	CHART_BLOCKS,  /* ▁▂▃▄▅▆▇█ filled area, 8 levels per cell */
	CHART_BRAILLE, /* U+2800 dots, 2x4 per cell, a line */
};

/* Deploy flags. */
#define CHART_DEPLOY_SELECTED 0x1u
#define CHART_DEPLOY_SUSPECT 0x2u
#define CHART_DEPLOY_LASTGOOD 0x4u

struct chart_deploy {
	int64_t t;            /* ms */
	const char *label;    /* "api@2.4.0", already sanitised; NULL = no label */
	unsigned flags;
};

struct chart_input {
	const int64_t *t;     /* sample times, ms, ascending */
	const double *v;      /* values as ratios (0.12 = 12%); NaN/Inf = gap */
	size_t n;
	int64_t t0, t1;       /* the window; t1 > t0 */
	int width, height;    /* in cells; <= 0 gives an empty chart */
	bool utf8;            /* false: ASCII only, style ignored */
	enum chart_style style;
	const struct chart_deploy *deploys; /* any order; outside the window skipped */
	size_t ndeploys;
	bool has_onset;
	int64_t onset;        /* spike onset, ms */
};

/* A stretch of cells on one row with one role. `selected` marks the selected
 * deploy's tick and label (drawn reversed). Cells not covered are plain. */
struct chart_run {
	int row, col, len;
	enum chart_role role;
	bool selected;
};

struct chart {
	int width, height;    /* height = number of rows (0 if nothing fits) */
	char **rows;          /* height UTF-8 strings, each `width` cells */
	struct chart_run *runs;
	size_t nruns;
	/* Where things landed, for the pane (cursor placement, tests). */
	int plot_rows;        /* rows of series */
	int axis_row;         /* -1 when dropped */
	int label_rows;       /* 0, 1 or 2 */
	int label_cols;       /* width of the y label column, 0 when dropped */
	int onset_col;        /* cell column of the onset mark, -1 if none */
	double ymax;          /* top of the scale (max finite value, >= 0) */
};

/* Never returns NULL. */
struct chart *chart_render(const struct chart_input *in);
void chart_free(struct chart *c);

/* Cell column (0-based, within the full width) that time t falls in for a
 * window and plot width, or -1 outside the window. Exposed for the pane and
 * for tests. */
int chart_time_col(const struct chart *c, int64_t t0, int64_t t1, int64_t t);

/* "12%", "0.5%", "100%", "0%": the y label for a ratio. buf >= 8. */
void chart_format_pct(double ratio, char *buf, size_t len);

#endif
