/* The deploy timeline: the error-rate series of one service over a time
 * window (zoom with + and -), a tick and a service@version label for every
 * deploy in it, the spike onset, and under the chart the top suspect in
 * words with the last good version. Left/Right (h/l) select a deploy, g
 * selects the top suspect, r proposes rolling back (the same flow as
 * `:rollback`), Enter shows the deploy. The chart itself is laid out by
 * panes/chart.c; this file picks what goes in and prints it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/text.h"
#include "core/util.h"
#include "panes/chart.h"
#include "panes/pane.h"

#define MIN_MS 60000LL
#define HOUR_MS (60 * MIN_MS)

static const int64_t zoom_ms[] = {15 * MIN_MS, 30 * MIN_MS, HOUR_MS, 3 * HOUR_MS,
				  6 * HOUR_MS, 12 * HOUR_MS, 24 * HOUR_MS};
static const char *const zoom_names[] = {"15m", "30m", "1h", "3h", "6h", "12h", "24h"};
#define ZOOM_COUNT ((int)(sizeof zoom_ms / sizeof zoom_ms[0]))
#define ZOOM_DEFAULT 3 /* 3h */

/* Rows the chart needs before a row of clock times is worth adding. */
#define TIME_ROW_MIN_CHART 8

struct timeline_priv {
	int zoom;            /* index in zoom_ms */
	uint64_t sel_seq;    /* selected deploy (its deploy.seen seq); 0: none */
	char *series_svc;    /* series chosen with `e`; NULL: automatic */
	bool braille;        /* UTF-8 only: braille line instead of blocks */
};

/* What one frame shows, worked out once for draw and keys alike. */
struct tl_view {
	int64_t t0, t1;
	bool anchored;                      /* window ends at the data, not now */
	const struct series *series;        /* NULL: none */
	const struct spike *spike;          /* onset to mark; NULL: none */
	const struct suspect *suspect;      /* top suspect; NULL: none */
	const struct deploy *suspect_dep;   /* its deploy, if seen */
	const struct deploy *lastgood_dep;  /* the suspect's last good deploy */
	const struct deploy *sel;           /* selected deploy; NULL: none */
	const struct deploy **shown;        /* in the window and the filter, by time */
	int nshown;
};

/* ---- choosing what to show ----------------------------------------------- */

static const struct deploy *tl_find_seq(const struct state *st, uint64_t seq)
{
	for (size_t i = 0; seq && i < st->deploys.n; i++) {
		const struct deploy *d = st->deploys.v[i];
		if (d->seq == seq)
			return d;
	}
	return NULL;
}

/* The newest deploy of service at version (before `before` when > 0). */
static const struct deploy *tl_find_version(const struct state *st, const char *service,
					    const char *version, int64_t before)
{
	const struct deploy *best = NULL;
	for (size_t i = 0; service && version && i < st->deploys.n; i++) {
		const struct deploy *d = st->deploys.v[i];
		if (str_eq(d->service, service) && str_eq(d->version, version) &&
		    (before <= 0 || d->time < before))
			best = d; /* sorted by time */
	}
	return best;
}

/* The newest deploy of d's service, to tell "undo this" from "go back to it". */
static bool tl_is_current(const struct state *st, const struct deploy *d)
{
	for (size_t i = 0; i < st->deploys.n; i++) {
		const struct deploy *o = st->deploys.v[i];
		if (o != d && str_eq(o->service, d->service) && o->time > d->time)
			return false;
	}
	return true;
}

static const struct spike *tl_spike_for(const struct state *st, const char *service)
{
	const struct spike *best = NULL;
	for (size_t i = 0; i < st->spikes.n; i++) {
		const struct spike *s = st->spikes.v[i];
		if ((!service || str_eq(s->service, service)) && (!best || s->onset >= best->onset))
			best = s;
	}
	return best;
}

static const struct series *tl_pick_series(const struct timeline_priv *pr, const struct state *st,
					   const struct suspect *sus)
{
	const struct series *s = NULL;
	if (pr->series_svc && (s = state_get_series(st, pr->series_svc)))
		return s;
	if (sus && sus->service && (s = state_get_series(st, sus->service)))
		return s;
	const struct spike *sp = tl_spike_for(st, NULL);
	if (sp && sp->service && (s = state_get_series(st, sp->service)))
		return s;
	return st->series.n ? st->series.v[0] : NULL;
}

/* Newest time anything on the chart has: deploys, spikes, samples. */
static int64_t tl_latest_data(const struct state *st, const struct series *se)
{
	int64_t latest = 0;
	if (st->deploys.n)
		latest = ((const struct deploy *)st->deploys.v[st->deploys.n - 1])->time;
	for (size_t i = 0; i < st->spikes.n; i++) {
		const struct spike *s = st->spikes.v[i];
		if (s->onset > latest)
			latest = s->onset;
	}
	if (se && se->n && se->t[se->n - 1] > latest)
		latest = se->t[se->n - 1];
	return latest;
}

static bool tl_deploy_matches(const struct pane *p, const struct deploy *d)
{
	char sv[256];
	snprintf(sv, sizeof sv, "%s@%s", d->service ? d->service : "", d->version ? d->version : "");
	const char *fields[] = {sv, d->service, d->version, d->author, d->source, d->ref};
	return pane_filter_match(p, fields, sizeof fields / sizeof fields[0]);
}

static void tl_view_build(struct pane *p, const struct pane_ctx *ctx, struct tl_view *v)
{
	struct timeline_priv *pr = p->priv;
	const struct state *st = ctx->st;
	memset(v, 0, sizeof *v);
	v->suspect = st->suspects.n ? st->suspects.v[0] : NULL;
	if (v->suspect) {
		v->suspect_dep = tl_find_version(st, v->suspect->service, v->suspect->version, 0);
		v->lastgood_dep = tl_find_version(st, v->suspect->service, v->suspect->last_good,
						  v->suspect_dep ? v->suspect_dep->time : 0);
	}
	v->series = tl_pick_series(pr, st, v->suspect);
	v->spike = tl_spike_for(st, v->series ? v->series->service
					     : v->suspect ? v->suspect->service : NULL);
	if (!v->spike)
		v->spike = tl_spike_for(st, NULL);

	int64_t span = zoom_ms[pr->zoom];
	v->t1 = ctx->now_ms;
	/* A journal from another day (a replay, a drill) would leave every
	 * window empty: end the window at the newest data instead. */
	int64_t latest = tl_latest_data(st, v->series);
	if (latest > 0 && latest < v->t1 - zoom_ms[ZOOM_COUNT - 1]) {
		v->t1 = latest + span / 20;
		v->anchored = true;
	}
	v->t0 = v->t1 - span;

	v->sel = tl_find_seq(st, pr->sel_seq);
	if (!v->sel)
		pr->sel_seq = 0;
	v->shown = xcalloc(st->deploys.n + 1, sizeof *v->shown);
	for (size_t i = 0; i < st->deploys.n; i++) {
		const struct deploy *d = st->deploys.v[i];
		if (d->time >= v->t0 && d->time <= v->t1 && tl_deploy_matches(p, d))
			v->shown[v->nshown++] = d;
	}
}

static void tl_view_free(struct tl_view *v)
{
	free(v->shown);
	v->shown = NULL;
}

/* ---- text ------------------------------------------------------------------ */

/* "api@2.4.0" made safe and one cell per character (the chart counts code
 * points as cells, so anything outside printable ASCII becomes '?'). */
static char *tl_label(const struct deploy *d)
{
	char *raw = xasprintf("%s@%s", d->service ? d->service : "?", d->version ? d->version : "?");
	char *clean = text_sanitize(raw, false);
	free(raw);
	for (char *s = clean; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
	return clean;
}

static void tl_hhmm(int64_t ms, char *buf, size_t len)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	if (ms <= 0 || !localtime_r(&secs, &tm) || !strftime(buf, len, "%H:%M", &tm))
		snprintf(buf, len, "--:--");
}

/* The line under the chart: the suspect in words, or why there is none. */
static char *tl_suspect_text(const struct pane_ctx *ctx, const struct suspect *s, bool compact)
{
	const char *dot = pane_glyph(ctx, GLYPH_DOT);
	const char *svc = s->service ? s->service : "?";
	bool reason = s->reason && *s->reason;
	struct sbuf sb;
	sbuf_init(&sb);
	sbuf_printf(&sb, "suspect: %s@%s", svc, s->version ? s->version : "?");
	if (reason && !compact)
		sbuf_printf(&sb, " %s", s->reason);
	if (s->last_good && *s->last_good)
		sbuf_printf(&sb, " %s last good %s@%s", dot, svc, s->last_good);
	else
		sbuf_printf(&sb, " %s no last good version known", dot);
	if (reason && compact)
		sbuf_printf(&sb, " %s %s", dot, s->reason);
	else if (ctx->st->suspects.n > 1)
		sbuf_printf(&sb, " %s %zu more ranked (Enter)", dot, ctx->st->suspects.n - 1);
	return sbuf_detach(&sb);
}

/* room: the columns the line may take; when the whole sentence does not
 * fit, the suspect and its last good version come first. */
static char *tl_status_text(const struct pane_ctx *ctx, const struct tl_view *v,
			    const char *zoom, int room)
{
	const struct state *st = ctx->st;
	const char *dot = pane_glyph(ctx, GLYPH_DOT);
	if (v->suspect) {
		char *full = tl_suspect_text(ctx, v->suspect, false);
		if (text_width(full) <= room)
			return full;
		free(full);
		return tl_suspect_text(ctx, v->suspect, true);
	}
	char no_deploys[64] = "";
	if (!st->deploys.n)
		snprintf(no_deploys, sizeof no_deploys, " %s no deploys seen", dot);
	else if (!v->nshown)
		snprintf(no_deploys, sizeof no_deploys, " %s no deploys in this window (%s)", dot, zoom);
	if (v->spike) {
		char hm[16], base[16], peak[16];
		tl_hhmm(v->spike->onset, hm, sizeof hm);
		chart_format_pct(v->spike->baseline, base, sizeof base);
		chart_format_pct(v->spike->peak, peak, sizeof peak);
		return xasprintf("spike on %s from %s (%s %s %s) %s no deploy ranked as suspect%s",
				 v->spike->service ? v->spike->service : "?", hm, base,
				 pane_glyph(ctx, GLYPH_ARROW), peak, dot, no_deploys);
	}
	if (!v->series || !v->series->n)
		return xasprintf("no error series yet%s", no_deploys);
	return xasprintf("no spike detected in the %s error rate%s",
			 v->series->service ? v->series->service : "", no_deploys);
}

/* "selected: api@2.3.0 · last good · ci · 18:20 (1h40m ago) · r: roll back to 2.3.0" */
static char *tl_selected_text(const struct pane_ctx *ctx, const struct tl_view *v)
{
	const struct deploy *d = v->sel;
	const char *dot = pane_glyph(ctx, GLYPH_DOT);
	char *label = tl_label(d);
	char hm[16], age[16];
	tl_hhmm(d->time, hm, sizeof hm);
	time_format_age(ctx->now_ms - d->time, age, sizeof age);
	struct sbuf sb;
	sbuf_init(&sb);
	sbuf_printf(&sb, "selected: %s", label);
	if (d == v->suspect_dep)
		sbuf_printf(&sb, " %s suspect", dot);
	else if (d == v->lastgood_dep)
		sbuf_printf(&sb, " %s last good", dot);
	sbuf_printf(&sb, " %s %s %s %s (%s ago)", dot, d->author && *d->author ? d->author : "?",
		    dot, hm, age);
	if (d->time < v->t0 || d->time > v->t1)
		sbuf_printf(&sb, " %s outside the window", dot);
	if (tl_is_current(ctx->st, d))
		sbuf_printf(&sb, " %s r: roll back", dot);
	else
		sbuf_printf(&sb, " %s r: roll back to %s", dot, d->version ? d->version : "?");
	free(label);
	return sbuf_detach(&sb);
}

/* Splits text into at most max lines of width columns at spaces; the last
 * line takes the rest (pane_put clips it). Returns the count. */
static int tl_wrap(const char *text, int width, char **out, int max)
{
	int n = 0;
	const char *s = text;
	while (*s && n < max) {
		size_t fit = text_fit(s, width);
		if (n == max - 1 || !s[fit]) {
			out[n++] = xstrdup(s);
			break;
		}
		size_t cut = fit;
		while (cut > 0 && s[cut] != ' ')
			cut--;
		if (cut < fit / 2)
			cut = fit ? fit : 1;
		out[n++] = xstrndup(s, cut);
		s += cut;
		while (*s == ' ')
			s++;
	}
	return n;
}

/* ---- drawing ----------------------------------------------------------------- */

static enum theme_role tl_role(enum chart_role r)
{
	switch (r) {
	case CHART_ROLE_AXIS: return THEME_CHART_AXIS;
	case CHART_ROLE_LINE: return THEME_CHART_LINE;
	case CHART_ROLE_SPIKE: return THEME_CHART_SPIKE;
	case CHART_ROLE_MARKER: return THEME_DEPLOY_MARKER;
	case CHART_ROLE_SUSPECT: return THEME_DEPLOY_SUSPECT;
	case CHART_ROLE_LASTGOOD: return THEME_DEPLOY_LASTGOOD;
	default: return THEME_NORMAL;
	}
}

/* Byte offset of each cell of a chart row (one code point per cell). */
static void tl_cell_offsets(const char *row, int width, size_t *off)
{
	size_t b = 0;
	for (int i = 0; i < width; i++) {
		off[i] = b;
		if (row[b]) {
			b++;
			while ((row[b] & 0xc0) == 0x80)
				b++;
		}
	}
	off[width] = b;
}

static void tl_put_cells(WINDOW *win, int y, int x, const char *row, const size_t *off, int col,
			 int len, attr_t attr)
{
	char *part = xstrndup(row + off[col], off[col + len] - off[col]);
	pane_put(win, y, x + col, len, attr, part);
	free(part);
}

static void tl_draw_chart(struct pane *p, const struct pane_ctx *ctx, const struct chart *c,
			  int y0, int x0, const struct tl_view *v)
{
	size_t *off = xcalloc((size_t)c->width + 1, sizeof *off);
	for (int r = 0; r < c->height; r++) {
		const char *row = c->rows[r];
		tl_cell_offsets(row, c->width, off);
		pane_put(p->win, y0 + r, x0, c->width, pane_attr(ctx, THEME_NORMAL), row);
		for (size_t i = 0; i < c->nruns; i++) {
			const struct chart_run *run = &c->runs[i];
			if (run->row != r || run->col < 0 || run->col + run->len > c->width)
				continue;
			attr_t a = pane_attr(ctx, tl_role(run->role));
			if (run->selected)
				a |= A_REVERSE | A_BOLD;
			tl_put_cells(p->win, y0 + r, x0, row, off, run->col, run->len, a);
		}
	}
	/* A deploy someone points at: its tick in the point colour. */
	if (ctx->point_target && !strncmp(ctx->point_target, "deploy:", 7) && c->axis_row >= 0) {
		for (int i = 0; i < v->nshown; i++) {
			char *label = tl_label(v->shown[i]);
			bool hit = !strcmp(label, ctx->point_target + 7);
			free(label);
			int col = hit ? chart_time_col(c, v->t0, v->t1, v->shown[i]->time) : -1;
			if (col < 0)
				continue;
			tl_cell_offsets(c->rows[c->axis_row], c->width, off);
			tl_put_cells(p->win, y0 + c->axis_row, x0, c->rows[c->axis_row], off, col, 1,
				     pane_attr(ctx, THEME_POINT) | A_BOLD);
		}
	}
	free(off);
}

/* A row of clock times under the chart: the window's start, a few evenly
 * spaced times, and "now" at the right edge. */
static void tl_draw_times(struct pane *p, const struct pane_ctx *ctx, const struct chart *c, int y,
			  int x0, const struct tl_view *v)
{
	int pw = c->width - c->label_cols;
	if (pw < 12)
		return;
	attr_t a = pane_attr(ctx, THEME_DIM);
	int k = pw / 16 < 1 ? 1 : pw / 16;
	int next_free = 0;
	for (int i = 0; i <= k; i++) {
		int64_t t = v->t0 + (v->t1 - v->t0) * i / k;
		char buf[16];
		if (i == k && !v->anchored)
			snprintf(buf, sizeof buf, "now");
		else
			tl_hhmm(t, buf, sizeof buf);
		int len = (int)strlen(buf);
		int col = chart_time_col(c, v->t0, v->t1, t);
		if (col < 0)
			col = c->width - 1;
		if (i == k)
			col = c->width - len; /* right-aligned at the edge */
		if (col < next_free || col + len > c->width)
			continue;
		pane_put(p->win, y, x0 + col, len, a, buf);
		next_free = col + len + 1;
	}
}

static void timeline_draw(struct pane *p, const struct pane_ctx *ctx)
{
	struct timeline_priv *pr = p->priv;
	struct tl_view v;
	tl_view_build(p, ctx, &v);

	char extra[160];
	const char *zoom = zoom_names[pr->zoom];
	if (v.anchored) {
		char hm[16];
		tl_hhmm(v.t1, hm, sizeof hm);
		snprintf(extra, sizeof extra, "%s to %s  [+/-]", zoom, hm);
	} else {
		snprintf(extra, sizeof extra, "last %s  [+/-]", zoom);
	}
	if (v.series && v.series->service) {
		size_t n = strlen(extra);
		char *svc = text_sanitize(v.series->service, ctx->utf8);
		snprintf(extra + n, sizeof extra - n, "  %s %s", pane_glyph(ctx, GLYPH_DOT), svc);
		free(svc);
	}
	pane_title(p, ctx, extra);

	int x0 = p->w >= 3 ? 1 : 0;
	int width = p->w - 2 * x0;
	int avail = p->h - 1;
	if (avail <= 0 || width <= 0) {
		tl_view_free(&v);
		return;
	}

	/* The lines under the chart come first when rows are short: the
	 * suspect is what people act on. */
	char *selected = v.sel ? tl_selected_text(ctx, &v) : NULL;
	int status_rows = 1, sel_rows = selected ? 1 : 0;
	if (status_rows + sel_rows > avail)
		sel_rows = avail - status_rows;
	int chart_h = avail - status_rows - sel_rows;
	/* A second row for a long suspect line while the chart keeps enough. */
	char *status = tl_status_text(ctx, &v, zoom, chart_h >= 7 ? 2 * (width - 3) : width - 1);
	if (chart_h >= 7 && text_width(status) > width - 1) {
		status_rows = 2;
		chart_h--;
	}
	bool time_row = chart_h >= TIME_ROW_MIN_CHART;
	if (time_row)
		chart_h--;

	int y = 1;
	if (chart_h > 0) {
		struct chart_deploy *cd = xcalloc((size_t)v.nshown + 1, sizeof *cd);
		for (int i = 0; i < v.nshown; i++) {
			const struct deploy *d = v.shown[i];
			cd[i].t = d->time;
			cd[i].label = tl_label(d);
			if (d == v.suspect_dep)
				cd[i].flags |= CHART_DEPLOY_SUSPECT;
			else if (d == v.lastgood_dep)
				cd[i].flags |= CHART_DEPLOY_LASTGOOD;
			if (d == v.sel)
				cd[i].flags |= CHART_DEPLOY_SELECTED;
		}
		struct chart_input in = {
			.t = v.series ? v.series->t : NULL,
			.v = v.series ? v.series->v : NULL,
			.n = v.series ? v.series->n : 0,
			.t0 = v.t0, .t1 = v.t1,
			.width = width, .height = chart_h,
			.utf8 = ctx->utf8,
			.style = pr->braille ? CHART_BRAILLE : CHART_BLOCKS,
			.deploys = cd, .ndeploys = (size_t)v.nshown,
			.has_onset = v.spike != NULL,
			.onset = v.spike ? v.spike->onset : 0,
		};
		struct chart *c = chart_render(&in);
		tl_draw_chart(p, ctx, c, y, x0, &v);
		y += c->height;
		if (time_row && c->height > 0) {
			tl_draw_times(p, ctx, c, y, x0, &v);
			y++;
		}
		chart_free(c);
		for (int i = 0; i < v.nshown; i++)
			free((char *)cd[i].label);
		free(cd);
	}

	if (status_rows > 0) {
		char *lines[2] = {NULL, NULL};
		int n = tl_wrap(status, width - 1, lines, status_rows);
		enum theme_role role = v.suspect ? THEME_DEPLOY_SUSPECT : THEME_DIM;
		for (int i = 0; i < n; i++) {
			const char *t = lines[i];
			int x = x0 + (i ? 2 : 0);
			if (i == 0 && v.suspect && !strncmp(t, "suspect:", 8)) {
				x += pane_put(p->win, y, x, width, pane_attr(ctx, role) | A_BOLD, "suspect:");
				t += 8;
				role = THEME_NORMAL;
			}
			pane_put(p->win, y, x, x0 + width - x, pane_attr(ctx, role), t);
			y++;
			free(lines[i]);
		}
	}
	if (sel_rows > 0)
		pane_put(p->win, y, x0, width, pane_attr(ctx, p->focused ? THEME_SELECTION : THEME_NORMAL),
			 selected);
	free(status);
	free(selected);
	tl_view_free(&v);
}

/* ---- keys ------------------------------------------------------------------------ */

/* Zooms out until the deploy is inside the window (as far as 24h). */
static void tl_bring_into_view(struct pane *p, const struct pane_ctx *ctx, const struct deploy *d)
{
	struct timeline_priv *pr = p->priv;
	while (pr->zoom < ZOOM_COUNT - 1) {
		struct tl_view v;
		tl_view_build(p, ctx, &v);
		bool inside = d->time >= v.t0 && d->time <= v.t1;
		tl_view_free(&v);
		if (inside)
			break;
		pr->zoom++;
	}
}

static void tl_move(struct pane *p, const struct pane_ctx *ctx, int dir)
{
	struct timeline_priv *pr = p->priv;
	struct tl_view v;
	tl_view_build(p, ctx, &v);
	const struct deploy *pick = NULL;
	if (!v.nshown) {
		char *m = xasprintf("no deploys in this window%s", p->filter ? " and filter" : "; - zooms out");
		ctx->ui->message(ctx->ui, m);
		free(m);
	} else if (!v.sel) {
		pick = dir > 0 ? v.shown[0] : v.shown[v.nshown - 1];
	} else if (dir > 0) {
		for (int i = 0; i < v.nshown && !pick; i++)
			if (v.shown[i]->time > v.sel->time ||
			    (v.shown[i]->time == v.sel->time && v.shown[i]->seq > v.sel->seq))
				pick = v.shown[i];
		if (!pick)
			pick = v.shown[v.nshown - 1];
	} else {
		for (int i = v.nshown - 1; i >= 0 && !pick; i--)
			if (v.shown[i]->time < v.sel->time ||
			    (v.shown[i]->time == v.sel->time && v.shown[i]->seq < v.sel->seq))
				pick = v.shown[i];
		if (!pick)
			pick = v.shown[0];
	}
	if (pick)
		pr->sel_seq = pick->seq;
	tl_view_free(&v);
}

static void tl_details(const struct pane_ctx *ctx, const struct tl_view *v, const struct deploy *d)
{
	struct ptrvec lines = {0};
	char when[40], age[16];
	time_format_rfc3339(d->time, when, sizeof when);
	time_format_age(ctx->now_ms - d->time, age, sizeof age);
	ptrvec_push(&lines, xasprintf("%s@%s", d->service ? d->service : "?", d->version ? d->version : "?"));
	ptrvec_push(&lines, xasprintf("deployed: %s (%s ago)", when, age));
	ptrvec_push(&lines, xasprintf("author:   %s", d->author && *d->author ? d->author : "(unknown)"));
	ptrvec_push(&lines, xasprintf("url:      %s", d->url && *d->url ? d->url : "(none)"));
	if (d->source && *d->source)
		ptrvec_push(&lines, xasprintf("source:   %s", d->source));
	if (d->ref && *d->ref)
		ptrvec_push(&lines, xasprintf("ref:      %s", d->ref));
	const struct deploy *prev = state_last_deploy(ctx->st, d->service, d->time);
	if (prev && prev != d)
		ptrvec_push(&lines, xasprintf("before:   %s@%s", prev->service ? prev->service : "?",
					      prev->version ? prev->version : "?"));
	ptrvec_push(&lines, xasprintf("journal:  #%llu", (unsigned long long)d->seq));
	const struct state *st = ctx->st;
	bool any = false;
	for (size_t i = 0; i < st->suspects.n; i++) {
		const struct suspect *s = st->suspects.v[i];
		bool this = str_eq(s->service, d->service) && str_eq(s->version, d->version);
		bool good = str_eq(s->service, d->service) && str_eq(s->last_good, d->version);
		if (!this && !good)
			continue;
		if (!any)
			ptrvec_push(&lines, xstrdup(""));
		any = true;
		if (this)
			ptrvec_push(&lines, xasprintf("suspect #%zu (score %.2f): %s", i + 1, s->score,
						      s->reason ? s->reason : ""));
		if (good)
			ptrvec_push(&lines, xasprintf("last good version before suspect %s@%s",
						      s->service ? s->service : "?",
						      s->version ? s->version : "?"));
	}
	if (st->suspects.n > 1) {
		ptrvec_push(&lines, xstrdup(""));
		ptrvec_push(&lines, xstrdup("ranked suspects:"));
		for (size_t i = 0; i < st->suspects.n && i < 10; i++) {
			const struct suspect *s = st->suspects.v[i];
			ptrvec_push(&lines, xasprintf("  %zu. %s@%s  %.2f  %s", i + 1,
						      s->service ? s->service : "?",
						      s->version ? s->version : "?", s->score,
						      s->reason ? s->reason : ""));
		}
	}
	ptrvec_push(&lines, xstrdup(""));
	ptrvec_push(&lines, xstrdup(tl_is_current(st, d) ? "r proposes rolling this deploy back"
							 : "r proposes rolling the service back to this version"));
	ctx->ui->details(ctx->ui, "DEPLOY", (const char *const *)lines.v, lines.n);
	ptrvec_free(&lines, free);
}

/* r: the selected deploy, else the top suspect. The newest deploy of its
 * service is undone (the server picks the last good version, the suspect's
 * when it has one); an older deploy is the version to go back to. */
static unsigned tl_rollback(struct pane *p, const struct pane_ctx *ctx, const struct tl_view *v)
{
	const char *service = NULL, *to = NULL;
	const struct deploy *d = v->sel ? v->sel : v->suspect_dep;
	if (d) {
		service = d->service;
		if (!tl_is_current(ctx->st, d))
			to = d->version;
		else if (d == v->suspect_dep && v->suspect->last_good && *v->suspect->last_good)
			to = v->suspect->last_good;
	} else if (v->suspect && v->suspect->service) {
		service = v->suspect->service;
		to = v->suspect->last_good && *v->suspect->last_good ? v->suspect->last_good : NULL;
	}
	if (!service || !*service)
		return 0; /* the console says there is nothing to roll back */
	if (!ctx->ui->rollback) {
		ctx->ui->message(ctx->ui, "rollback: use :rollback SERVICE --to VERSION");
		return PANE_HANDLED;
	}
	ctx->ui->rollback(ctx->ui, service, to);
	return PANE_HANDLED | PANE_REDRAW;
}

static unsigned tl_next_series(struct pane *p, const struct pane_ctx *ctx)
{
	struct timeline_priv *pr = p->priv;
	const struct ptrvec *all = &ctx->st->series;
	if (all->n < 2) {
		ctx->ui->message(ctx->ui, all->n ? "only one error series" : "no error series yet");
		return PANE_HANDLED;
	}
	struct tl_view v;
	tl_view_build(p, ctx, &v);
	size_t at = 0;
	for (size_t i = 0; i < all->n; i++)
		if (all->v[i] == v.series)
			at = i;
	tl_view_free(&v);
	const struct series *next = all->v[(at + 1) % all->n];
	str_set(&pr->series_svc, next->service);
	return PANE_HANDLED | PANE_REDRAW;
}

static unsigned timeline_key(struct pane *p, const struct pane_ctx *ctx, int key)
{
	struct timeline_priv *pr = p->priv;
	unsigned r = PANE_HANDLED | PANE_REDRAW;
	switch (key) {
	case '+': case '=':
		if (pr->zoom > 0)
			pr->zoom--;
		else
			ctx->ui->message(ctx->ui, "timeline: already at the shortest window (15m)");
		return r;
	case '-': case '_':
		if (pr->zoom < ZOOM_COUNT - 1)
			pr->zoom++;
		else
			ctx->ui->message(ctx->ui, "timeline: already at the longest window (24h)");
		return r;
	case KEY_LEFT: case 'h':
		tl_move(p, ctx, -1);
		return r;
	case KEY_RIGHT: case 'l':
		tl_move(p, ctx, 1);
		return r;
	case 'e':
		return tl_next_series(p, ctx);
	case 'b':
		if (!ctx->utf8) {
			ctx->ui->message(ctx->ui, "braille needs a UTF-8 terminal");
			return PANE_HANDLED;
		}
		pr->braille = !pr->braille;
		return r;
	default:
		break;
	}

	struct tl_view v;
	tl_view_build(p, ctx, &v);
	unsigned res = 0;
	switch (key) {
	case KEY_HOME:
		if (v.nshown)
			pr->sel_seq = v.shown[0]->seq;
		res = r;
		break;
	case KEY_END: case 'G':
		if (v.nshown)
			pr->sel_seq = v.shown[v.nshown - 1]->seq;
		res = r;
		break;
	case 'g':
		if (v.suspect_dep) {
			pr->sel_seq = v.suspect_dep->seq;
			tl_bring_into_view(p, ctx, v.suspect_dep);
		} else if (v.suspect) {
			char *m = xasprintf("suspect %s@%s: no such deploy seen", v.suspect->service
					    ? v.suspect->service : "?", v.suspect->version ? v.suspect->version : "?");
			ctx->ui->message(ctx->ui, m);
			free(m);
		} else {
			ctx->ui->message(ctx->ui, "no suspect yet: it shows once a spike is found");
		}
		res = r;
		break;
	case 'r':
		res = tl_rollback(p, ctx, &v);
		break;
	case '\n': case '\r': case KEY_ENTER: {
		const struct deploy *d = v.sel ? v.sel : v.suspect_dep;
		if (d)
			tl_details(ctx, &v, d);
		else
			ctx->ui->message(ctx->ui, "select a deploy first (Left/Right, g for the suspect)");
		res = r;
		break;
	}
	default:
		break;
	}
	tl_view_free(&v);
	return res;
}

static unsigned timeline_on_event(struct pane *p, const struct pane_ctx *ctx,
				  const struct wr_event *ev)
{
	if (!ev)
		return PANE_REDRAW;
	switch (ev->kind) {
	case EV_DEPLOY_SEEN: case EV_SPIKE_DETECTED: case EV_SUSPECT_RANKED:
		return PANE_REDRAW;
	default:
		return 0;
	}
}

static bool timeline_selection(struct pane *p, const struct pane_ctx *ctx, char *buf, size_t len)
{
	struct timeline_priv *pr = p->priv;
	const struct deploy *d = tl_find_seq(ctx->st, pr->sel_seq);
	if (!d)
		return false;
	char *label = tl_label(d);
	snprintf(buf, len, "deploy:%s", label);
	free(label);
	return true;
}

static bool timeline_select(struct pane *p, const struct pane_ctx *ctx, const char *target)
{
	struct timeline_priv *pr = p->priv;
	if (strncmp(target, "deploy:", 7))
		return false;
	const struct deploy *found = NULL;
	for (size_t i = 0; i < ctx->st->deploys.n; i++) {
		const struct deploy *d = ctx->st->deploys.v[i];
		char *label = tl_label(d);
		if (!strcmp(label, target + 7))
			found = d; /* the newest of that name */
		free(label);
	}
	if (!found)
		return false;
	pr->sel_seq = found->seq;
	tl_bring_into_view(p, ctx, found);
	return true;
}

static void *timeline_new(struct pane *p)
{
	struct timeline_priv *pr = xcalloc(1, sizeof *pr);
	pr->zoom = ZOOM_DEFAULT;
	return pr;
}

static void timeline_free(void *priv)
{
	struct timeline_priv *pr = priv;
	if (!pr)
		return;
	free(pr->series_svc);
	free(pr);
}

static const struct pane_help timeline_help[] = {
	{"Left Right h l", "select the previous / next deploy"},
	{"Home End", "the oldest / newest deploy in the window"},
	{"g", "select the top suspect deploy"},
	{"r", "roll back the selected deploy (or the suspect); confirms first"},
	{"Enter", "deploy details: author, time, url, suspect reason"},
	{"+ -", "zoom: 15m 30m 1h 3h 6h 12h 24h"},
	{"e", "show the next service's error series"},
	{"b", "braille line or blocks (UTF-8 terminals)"},
	{NULL, NULL},
};

const struct pane_class pane_timeline_class = {
	.name = "timeline",
	.title_utf8 = "DEPLOYS × ERROR RATE",
	.title_ascii = "DEPLOYS x ERROR RATE",
	.priv_new = timeline_new,
	.priv_free = timeline_free,
	.draw = timeline_draw,
	.key = timeline_key,
	.on_event = timeline_on_event,
	.selection = timeline_selection,
	.select = timeline_select,
	.help = timeline_help,
};
