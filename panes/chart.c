/* The deploy × error-rate chart as rows of text (see chart.h). Everything is
 * computed on a grid of code points with a role per cell, then encoded. */
#include "panes/chart.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define LABEL_COL_W 6 /* "0.04%" + the axis line */
#define LABEL_COL_MIN_WIDTH 12

static const char *const chart_role_names[CHART_ROLE__COUNT] = {
	[CHART_ROLE_NONE] = "normal",
	[CHART_ROLE_AXIS] = "chart.axis",
	[CHART_ROLE_LINE] = "chart.line",
	[CHART_ROLE_SPIKE] = "chart.spike",
	[CHART_ROLE_MARKER] = "deploy.marker",
	[CHART_ROLE_SUSPECT] = "deploy.suspect",
	[CHART_ROLE_LASTGOOD] = "deploy.lastgood",
};

const char *chart_role_name(enum chart_role r)
{
	if ((int)r < 0 || r >= CHART_ROLE__COUNT)
		return "normal";
	return chart_role_names[r];
}

/* The glyphs of one character set. */
struct chart_glyphs {
	uint32_t vline, vtick, corner, hline, deploy_tick, onset;
	uint32_t levels[9]; /* levels[k]: a cell filled k/nlevels from below */
	int nlevels;
};

static const struct chart_glyphs glyphs_utf8 = {
	.vline = 0x2502,       /* │ */
	.vtick = 0x2524,       /* ┤ */
	.corner = 0x2514,      /* └ */
	.hline = 0x2500,       /* ─ */
	.deploy_tick = 0x252c, /* ┬ */
	.onset = 0x25b2,       /* ▲ */
	.levels = {' ', 0x2581, 0x2582, 0x2583, 0x2584, 0x2585, 0x2586, 0x2587, 0x2588},
	.nlevels = 8,
};

static const struct chart_glyphs glyphs_ascii = {
	.vline = '|',
	.vtick = '+',
	.corner = '+',
	.hline = '-',
	.deploy_tick = '+',
	.onset = '^',
	.levels = {' ', '.', ':', '|', '#'},
	.nlevels = 4,
};

/* Braille dot bits by [sub-column][dot row from the top]. */
static const uint8_t braille_bits[2][4] = {
	{0x01, 0x02, 0x04, 0x40},
	{0x08, 0x10, 0x20, 0x80},
};

struct cell {
	uint32_t cp;
	uint8_t role;
	bool selected;
	bool label;   /* part of a deploy label: placement avoids these */
};

struct grid {
	int w, h;
	struct cell *cells;
};

static struct cell *grid_at(struct grid *g, int row, int col)
{
	return &g->cells[(size_t)row * (size_t)g->w + (size_t)col];
}

static void grid_put(struct grid *g, int row, int col, uint32_t cp, enum chart_role role)
{
	if (row < 0 || row >= g->h || col < 0 || col >= g->w)
		return;
	struct cell *c = grid_at(g, row, col);
	c->cp = cp;
	c->role = (uint8_t)role;
}

void chart_format_pct(double ratio, char *buf, size_t len)
{
	double p = ratio * 100.0;
	if (len == 0)
		return;
	if (!isfinite(p) || p <= 0.0) {
		snprintf(buf, len, "0%%");
		return;
	}
	if (p >= 999.5) {
		snprintf(buf, len, "999+%%");
		return;
	}
	if (p >= 9.95) {
		snprintf(buf, len, "%.0f%%", p);
		return;
	}
	if (p < 0.005) {
		snprintf(buf, len, "<.01%%");
		return;
	}
	char num[32];
	snprintf(num, sizeof num, p >= 0.995 ? "%.1f" : "%.2f", p);
	/* "2.50" -> "2.5", "5.0" -> "5" */
	char *dot = strchr(num, '.');
	if (dot) {
		char *end = num + strlen(num) - 1;
		while (end > dot && *end == '0')
			*end-- = '\0';
		if (end == dot)
			*end = '\0';
	}
	snprintf(buf, len, "%s%%", num);
}

/* Decodes UTF-8 into code points (invalid bytes become '?'); returns count. */
static size_t utf8_decode_all(const char *s, uint32_t *out, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;
	while (*p && n < max) {
		uint32_t cp;
		int extra;
		if (*p < 0x80) {
			cp = *p;
			extra = 0;
		} else if ((*p & 0xe0) == 0xc0) {
			cp = *p & 0x1f;
			extra = 1;
		} else if ((*p & 0xf0) == 0xe0) {
			cp = *p & 0x0f;
			extra = 2;
		} else if ((*p & 0xf8) == 0xf0) {
			cp = *p & 0x07;
			extra = 3;
		} else {
			out[n++] = '?';
			p++;
			continue;
		}
		int i;
		for (i = 1; i <= extra; i++) {
			if ((p[i] & 0xc0) != 0x80)
				break;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if (i <= extra) {
			out[n++] = '?';
			p++;
			continue;
		}
		out[n++] = cp;
		p += extra + 1;
	}
	return n;
}

static void utf8_encode(struct sbuf *sb, uint32_t cp)
{
	char b[4];
	size_t n;
	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	sbuf_add(sb, b, n);
}

/* Bucket index (0..nb-1) of time t in [t0, t1], or -1 outside. */
static long bucket_of(int64_t t0, int64_t t1, long nb, int64_t t)
{
	if (t1 <= t0 || nb <= 0 || t < t0 || t > t1)
		return -1;
	long b = (long)floor((double)(t - t0) * (double)nb / (double)(t1 - t0));
	if (b >= nb)
		b = nb - 1;
	if (b < 0)
		b = 0;
	return b;
}

int chart_time_col(const struct chart *c, int64_t t0, int64_t t1, int64_t t)
{
	if (!c)
		return -1;
	long pw = c->width - c->label_cols;
	long b = bucket_of(t0, t1, pw, t);
	return b < 0 ? -1 : c->label_cols + (int)b;
}

/* One value per bucket: the largest finite sample inside it (spikes must not
 * vanish when zoomed out); a bucket without samples holds the previous
 * sample until the next one, so a coarse series still draws a continuous
 * line when zoomed in. NaN marks a gap. */
static double *chart_bucket_values(const struct chart_input *in, long nb)
{
	double *val = xcalloc((size_t)nb, sizeof *val);
	bool *has = xcalloc((size_t)nb, sizeof *has);
	int64_t *last_t = xcalloc((size_t)nb, sizeof *last_t);
	double *last_v = xcalloc((size_t)nb, sizeof *last_v);
	bool carry_ok = false, any = false;
	double carry = NAN;
	int64_t carry_t = 0, t_last = 0;

	for (long b = 0; b < nb; b++)
		val[b] = NAN;
	for (size_t i = 0; in->t && in->v && i < in->n; i++) {
		int64_t t = in->t[i];
		double v = in->v[i];
		if (!any || t > t_last)
			t_last = t;
		any = true;
		if (t < in->t0) {
			if (!carry_ok || t >= carry_t) {
				carry_ok = true;
				carry_t = t;
				carry = v;
			}
			continue;
		}
		long b = bucket_of(in->t0, in->t1, nb, t);
		if (b < 0)
			continue;
		if (!has[b] || t >= last_t[b]) {
			last_t[b] = t;
			last_v[b] = v;
		}
		has[b] = true;
		if (isfinite(v)) {
			if (v < 0)
				v = 0;
			if (isnan(val[b]) || v > val[b])
				val[b] = v;
		}
	}
	int64_t span = in->t1 - in->t0;
	for (long b = 0; b < nb; b++) {
		if (has[b]) {
			carry_ok = true;
			carry = last_v[b];
			continue;
		}
		int64_t start = in->t0 + (int64_t)((double)span * (double)b / (double)nb);
		if (carry_ok && any && start <= t_last && isfinite(carry))
			val[b] = carry < 0 ? 0 : carry;
	}
	free(has);
	free(last_t);
	free(last_v);
	return val;
}

static enum chart_role deploy_role(unsigned flags)
{
	if (flags & CHART_DEPLOY_SUSPECT)
		return CHART_ROLE_SUSPECT;
	if (flags & CHART_DEPLOY_LASTGOOD)
		return CHART_ROLE_LASTGOOD;
	return CHART_ROLE_MARKER;
}

static int deploy_rank(unsigned flags)
{
	if (flags & CHART_DEPLOY_SELECTED)
		return 0;
	if (flags & CHART_DEPLOY_SUSPECT)
		return 1;
	if (flags & CHART_DEPLOY_LASTGOOD)
		return 2;
	return 3;
}

struct placed {
	const struct chart_deploy *d;
	int col; /* plot column */
};

/* Labels that matter most are placed first: the selected deploy, the
 * suspect, the last good, then the newest. */
static int placed_cmp(const void *a, const void *b)
{
	const struct placed *x = a, *y = b;
	int rx = deploy_rank(x->d->flags), ry = deploy_rank(y->d->flags);
	if (rx != ry)
		return rx < ry ? -1 : 1;
	if (x->d->t != y->d->t)
		return x->d->t > y->d->t ? -1 : 1;
	return x->col < y->col ? -1 : x->col > y->col;
}

static bool label_fits(struct grid *g, int row, int x0, int start, int len, int pw)
{
	for (int i = start - 1; i <= start + len; i++) {
		if (i < 0 || i >= pw)
			continue;
		if (grid_at(g, row, x0 + i)->label)
			return false;
	}
	return true;
}

static void chart_place_labels(struct grid *g, struct placed *pl, size_t np, int first_row,
			       int nrows, int x0, int pw)
{
	uint32_t *cps = xcalloc((size_t)pw + 4, sizeof *cps);
	for (size_t k = 0; k < np; k++) {
		const struct chart_deploy *d = pl[k].d;
		if (!d->label || !d->label[0])
			continue;
		size_t len = utf8_decode_all(d->label, cps, (size_t)pw + 4);
		if ((d->flags & CHART_DEPLOY_SUSPECT) && len + 3 <= (size_t)pw + 4) {
			cps[len++] = ' ';
			cps[len++] = '!';
			cps[len++] = '!';
		}
		if (len > (size_t)pw)
			len = (size_t)pw;
		int n = (int)len;
		int col = pl[k].col;
		int row = -1, start = 0;
		for (int r = 0; r < nrows && row < 0; r++) {
			/* Prefer the label starting at its tick, then sliding left
			 * until it ends there. */
			for (int shift = 0; shift < n; shift++) {
				int s = col - shift;
				if (s + n > pw)
					s = pw - n;
				if (s < 0)
					s = 0;
				if (s > col || s + n <= col)
					continue;
				if (label_fits(g, first_row + r, x0, s, n, pw)) {
					row = first_row + r;
					start = s;
					break;
				}
			}
		}
		if (row < 0)
			continue;
		enum chart_role role = deploy_role(d->flags);
		for (int i = 0; i < n; i++) {
			struct cell *c = grid_at(g, row, x0 + start + i);
			c->cp = cps[i];
			c->role = (uint8_t)role;
			c->selected = (d->flags & CHART_DEPLOY_SELECTED) != 0;
			c->label = true;
		}
	}
	free(cps);
}

static void chart_draw_series(struct grid *g, const struct chart_input *in,
			      const struct chart_glyphs *gl, bool braille, int x0, int pw,
			      int plot_rows, int onset_plot_col, double *ymax_out)
{
	long sub = braille ? 2 : 1;
	long nb = (long)pw * sub;
	double *val = chart_bucket_values(in, nb);
	double ymax = 0;
	for (long b = 0; b < nb; b++)
		if (!isnan(val[b]) && val[b] > ymax)
			ymax = val[b];
	*ymax_out = ymax;

	for (long b = 0; b < nb; b++) {
		if (isnan(val[b]))
			continue;
		int col = (int)(b / sub);
		enum chart_role role = onset_plot_col >= 0 && col >= onset_plot_col
			? CHART_ROLE_SPIKE : CHART_ROLE_LINE;
		if (braille) {
			long dots = (long)plot_rows * 4;
			long y = ymax > 0 ? lround(val[b] / ymax * (double)(dots - 1)) : 0;
			long lo = y, hi = y;
			/* Join to the previous point with a vertical run so steep
			 * rises stay visible as a line. */
			if (b > 0 && !isnan(val[b - 1])) {
				long py = ymax > 0 ? lround(val[b - 1] / ymax * (double)(dots - 1)) : 0;
				if (py < y)
					lo = py + 1;
				else if (py > y)
					hi = py - 1;
			}
			for (long yy = lo; yy <= hi; yy++) {
				int row = plot_rows - 1 - (int)(yy / 4);
				int dot = 3 - (int)(yy % 4);
				struct cell *c = grid_at(g, row, x0 + col);
				uint32_t bits = c->cp >= 0x2800 && c->cp <= 0x28ff ? c->cp - 0x2800 : 0;
				bits |= braille_bits[b % 2][dot];
				c->cp = 0x2800 + bits;
				c->role = (uint8_t)role;
			}
		} else {
			long total = (long)plot_rows * gl->nlevels;
			long level = ymax > 0 ? lround(val[b] / ymax * (double)total) : 0;
			if (val[b] > 0 && level == 0)
				level = 1;
			for (int r = 0; r < plot_rows; r++) {
				long k = level - (long)r * gl->nlevels;
				if (k <= 0)
					break;
				if (k > gl->nlevels)
					k = gl->nlevels;
				grid_put(g, plot_rows - 1 - r, x0 + col, gl->levels[k], role);
			}
		}
	}
	free(val);
}

static void chart_emit(struct chart *c, struct grid *g)
{
	c->rows = xcalloc((size_t)g->h, sizeof *c->rows);
	size_t cap = 16;
	c->runs = xcalloc(cap, sizeof *c->runs);
	struct sbuf sb;
	sbuf_init(&sb);
	for (int r = 0; r < g->h; r++) {
		sbuf_reset(&sb);
		for (int x = 0; x < g->w; x++)
			utf8_encode(&sb, grid_at(g, r, x)->cp);
		c->rows[r] = xstrdup(sb.buf ? sb.buf : "");
		for (int x = 0; x < g->w;) {
			struct cell *s = grid_at(g, r, x);
			int e = x + 1;
			while (e < g->w && grid_at(g, r, e)->role == s->role &&
			       grid_at(g, r, e)->selected == s->selected)
				e++;
			if (s->role != CHART_ROLE_NONE || s->selected) {
				if (c->nruns == cap) {
					cap *= 2;
					c->runs = xrealloc(c->runs, cap * sizeof *c->runs);
				}
				c->runs[c->nruns++] = (struct chart_run){
					.row = r, .col = x, .len = e - x,
					.role = (enum chart_role)s->role, .selected = s->selected,
				};
			}
			x = e;
		}
	}
	sbuf_free(&sb);
}

struct chart *chart_render(const struct chart_input *in)
{
	struct chart *c = xcalloc(1, sizeof *c);
	c->axis_row = -1;
	c->onset_col = -1;
	if (!in || in->width <= 0 || in->height <= 0)
		return c;

	const struct chart_glyphs *gl = in->utf8 ? &glyphs_utf8 : &glyphs_ascii;
	bool braille = in->utf8 && in->style == CHART_BRAILLE;
	int w = in->width, h = in->height;
	bool window_ok = in->t1 > in->t0;

	c->width = w;
	c->height = h;
	c->label_rows = h >= 6 ? 2 : h >= 3 ? 1 : 0;
	c->axis_row = h >= 2 ? h - c->label_rows - 1 : -1;
	c->plot_rows = h - c->label_rows - (c->axis_row >= 0 ? 1 : 0);
	c->label_cols = w >= LABEL_COL_MIN_WIDTH ? LABEL_COL_W : 0;
	int x0 = c->label_cols, pw = w - x0;

	struct grid g = {.w = w, .h = h};
	g.cells = xcalloc((size_t)w * (size_t)h, sizeof *g.cells);
	for (size_t i = 0; i < (size_t)w * (size_t)h; i++)
		g.cells[i].cp = ' ';

	int onset_plot_col = -1;
	if (window_ok && in->has_onset) {
		if (in->onset < in->t0)
			onset_plot_col = 0;
		else
			onset_plot_col = (int)bucket_of(in->t0, in->t1, pw, in->onset);
	}

	if (window_ok)
		chart_draw_series(&g, in, gl, braille, x0, pw, c->plot_rows, onset_plot_col,
				  &c->ymax);

	/* y label column */
	if (x0 > 0) {
		char pct[16];
		chart_format_pct(c->ymax, pct, sizeof pct);
		int n = (int)strlen(pct);
		for (int i = 0; i < n && i < x0 - 1; i++)
			grid_put(&g, 0, x0 - 1 - n + i, (unsigned char)pct[i], CHART_ROLE_AXIS);
		for (int r = 0; r < c->plot_rows; r++)
			grid_put(&g, r, x0 - 1, r == 0 ? gl->vtick : gl->vline, CHART_ROLE_AXIS);
	}

	if (c->axis_row >= 0) {
		int ar = c->axis_row;
		if (x0 > 0)
			grid_put(&g, ar, x0 - 1, gl->corner, CHART_ROLE_AXIS);
		for (int x = x0; x < w; x++)
			grid_put(&g, ar, x, gl->hline, CHART_ROLE_AXIS);
		if (window_ok && in->has_onset && in->onset >= in->t0 && onset_plot_col >= 0) {
			c->onset_col = x0 + onset_plot_col;
			grid_put(&g, ar, c->onset_col, gl->onset, CHART_ROLE_SPIKE);
		}
	}

	/* deploy ticks, then labels */
	struct placed *pl = xcalloc(in->ndeploys ? in->ndeploys : 1, sizeof *pl);
	size_t np = 0;
	for (size_t i = 0; window_ok && in->deploys && i < in->ndeploys; i++) {
		long col = bucket_of(in->t0, in->t1, pw, in->deploys[i].t);
		if (col < 0)
			continue;
		pl[np].d = &in->deploys[i];
		pl[np].col = (int)col;
		np++;
	}
	qsort(pl, np, sizeof *pl, placed_cmp);
	if (c->axis_row >= 0) {
		/* Lowest rank last, so the most important tick in a shared
		 * column is the one that shows. */
		for (size_t k = np; k-- > 0;) {
			struct cell *cell = grid_at(&g, c->axis_row, x0 + pl[k].col);
			cell->cp = gl->deploy_tick;
			cell->role = (uint8_t)deploy_role(pl[k].d->flags);
			cell->selected = (pl[k].d->flags & CHART_DEPLOY_SELECTED) != 0;
		}
		chart_place_labels(&g, pl, np, c->axis_row + 1, c->label_rows, x0, pw);
	}
	free(pl);

	chart_emit(c, &g);
	free(g.cells);
	return c;
}

void chart_free(struct chart *c)
{
	if (!c)
		return;
	for (int r = 0; c->rows && r < c->height; r++)
		free(c->rows[r]);
	free(c->rows);
	free(c->runs);
	free(c);
}
