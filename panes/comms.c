/* The comms log: every event in journal order as "HH:MM who text", newest at
 * the bottom. It follows new entries while the selection is on the last
 * line; moving up stops following (the title says how many arrived below),
 * End or G follows again. `/` filters by kind (note, alert, deploy, role,
 * update, action, ...) or by text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "panes/pane.h"

/* A rendered entry, kept while it may be on screen again: in follow mode a
 * note moves every line up one row, and only the new line is drawn. */
struct comms_line {
	const struct comms_entry *e;  /* NULL: empty slot */
	uint64_t seq;
	int hl;                       /* COMMS_HL_* it was drawn with */
	struct pane_cells cells;
};

enum { COMMS_HL_NONE, COMMS_HL_SEL, COMMS_HL_POINT };

struct comms_priv {
	bool follow;       /* keep the newest entry in view */
	uint64_t sel_seq;  /* the selected entry when not following */
	size_t seen;       /* entries shown when following stopped */
	struct pane_rows *rows;
	struct comms_line *lines;  /* indexed by seq & (nlines - 1) */
	size_t nlines;             /* a power of two, at least twice the rows */
	struct comms_title {       /* what title_cells were drawn from */
		bool valid, focused;
		char extra[48];
		char *filter;
	} title;
	struct pane_cells title_cells, blank, empty;
};

struct comms_kind_style {
	const char *tag;
	enum theme_role role;
};

static struct comms_kind_style comms_style(enum event_kind k)
{
	switch (k) {
	case EV_INCIDENT_DECLARED: case EV_INCIDENT_STATE: case EV_INCIDENT_SEVERITY:
		return (struct comms_kind_style){"incident", THEME_COMMS_KIND_INCIDENT};
	case EV_ALERT_FIRED: case EV_ALERT_RESOLVED: case EV_ALERT_SILENCED: case EV_ALERT_UNSILENCED:
		return (struct comms_kind_style){"alert", THEME_COMMS_KIND_ALERT};
	case EV_DEPLOY_SEEN:
		return (struct comms_kind_style){"deploy", THEME_COMMS_KIND_DEPLOY};
	case EV_SPIKE_DETECTED: case EV_SUSPECT_RANKED:
		return (struct comms_kind_style){"analysis", THEME_COMMS_KIND_ANALYSIS};
	case EV_ROLE_ASSIGNED: case EV_ROLE_RELEASED:
		return (struct comms_kind_style){"role", THEME_COMMS_KIND_ROLE};
	case EV_NOTE:
		return (struct comms_kind_style){"note", THEME_COMMS_KIND_NOTE};
	case EV_UPDATE_REQUESTED: case EV_UPDATE_SENT: case EV_UPDATE_FAILED:
		return (struct comms_kind_style){"update", THEME_COMMS_KIND_UPDATE};
	case EV_ACTION_REQUESTED: case EV_ACTION_APPROVED: case EV_ACTION_STARTED:
	case EV_ACTION_OUTPUT: case EV_ACTION_FINISHED: case EV_ACTION_CANCELLED:
		return (struct comms_kind_style){"action", THEME_COMMS_KIND_ACTION};
	case EV_CLIENT_JOINED: case EV_CLIENT_LEFT:
		return (struct comms_kind_style){"client", THEME_COMMS_KIND_CLIENT};
	default:
		return (struct comms_kind_style){"event", THEME_NORMAL};
	}
}

/* The entries shown (struct comms_entry *). Without a filter that is the
 * state's own list, not a copy: a long incident has tens of thousands and
 * this runs every frame. */
struct comms_list {
	void **v;
	int n;
	bool owned;
};

static struct comms_list comms_visible(struct pane *p, const struct pane_ctx *ctx)
{
	const struct ptrvec *all = &ctx->st->comms;
	if (!p->filter || !*p->filter)
		return (struct comms_list){.v = all->v, .n = (int)all->n};
	struct comms_list l = {.v = xcalloc(all->n + 1, sizeof *l.v), .owned = true};
	for (size_t i = 0; i < all->n; i++) {
		const struct comms_entry *e = all->v[i];
		const char *fields[] = {comms_style(e->kind).tag, event_kind_name(e->kind), e->by, e->text};
		if (pane_filter_match(p, fields, sizeof fields / sizeof fields[0]))
			l.v[l.n++] = all->v[i];
	}
	return l;
}

static void comms_list_free(struct comms_list *l)
{
	if (l->owned)
		free(l->v);
}

static const struct comms_entry *comms_at(const struct comms_list *l, int i)
{
	return l->v[i];
}

/* Applies the follow rule and the remembered selection to p->sel. */
static void comms_place(struct pane *p, const struct comms_list *l)
{
	struct comms_priv *pr = p->priv;
	if (pr->follow) {
		p->sel = l->n - 1;
		return;
	}
	for (int i = 0; i < l->n; i++)
		if (comms_at(l, i)->seq == pr->sel_seq) {
			p->sel = i;
			return;
		}
}

static void *comms_new(struct pane *p)
{
	struct comms_priv *pr = xcalloc(1, sizeof *pr);
	pr->follow = true;
	pr->rows = pane_rows_new();
	return pr;
}

/* Drops every rendered row (new window, width or theme). */
static void comms_forget(struct comms_priv *pr)
{
	for (size_t i = 0; i < pr->nlines; i++)
		pane_cells_free(&pr->lines[i].cells);
	free(pr->lines);
	pr->lines = NULL;
	pr->nlines = 0;
	free(pr->title.filter);
	pr->title = (struct comms_title){.valid = false};
	pane_cells_free(&pr->title_cells);
	pane_cells_free(&pr->blank);
	pane_cells_free(&pr->empty);
}

static void comms_free(void *priv)
{
	struct comms_priv *pr = priv;
	comms_forget(pr);
	pane_rows_free(pr->rows);
	free(pr);
}

/* Draws entry e as row y of win (the scratch row when caching). */
static void comms_draw_entry(WINDOW *win, int y, int w, const struct pane_ctx *ctx,
			     const struct comms_entry *e, int hlk)
{
	bool h = hlk != COMMS_HL_NONE;
	attr_t hl = pane_attr(ctx, hlk == COMMS_HL_POINT ? THEME_POINT : THEME_SELECTION);
	if (h)
		pane_fill(win, y, 0, w, hl);
	char hm[8] = "--:--";
	time_t secs = (time_t)(e->ts / 1000);
	struct tm tm;
	if (e->ts > 0 && localtime_r(&secs, &tm))
		strftime(hm, sizeof hm, "%H:%M", &tm);
	int by_w = w >= 60 ? 10 : 8;
	int x = 1;
	pane_put(win, y, x, 5, h ? hl : pane_attr(ctx, THEME_COMMS_TIME), hm);
	x += 6;
	pane_put(win, y, x, by_w - 1, h ? hl : pane_attr(ctx, THEME_COMMS_BY), e->by ? e->by : "");
	x += by_w;
	pane_put(win, y, x, w - x - 1, h ? hl : pane_attr(ctx, comms_style(e->kind).role),
		 e->text ? e->text : "");
}

/* The cells of entry e, drawn on a miss. */
static const struct pane_cells *comms_line(struct pane *p, const struct pane_ctx *ctx,
					   const struct comms_entry *e, int hlk)
{
	struct comms_priv *pr = p->priv;
	struct comms_line *l = &pr->lines[e->seq & (pr->nlines - 1)];
	if (l->e == e && l->seq == e->seq && l->hl == hlk)
		return &l->cells;
	WINDOW *s = pane_rows_scratch(pr->rows);
	comms_draw_entry(s, 0, p->w, ctx, e, hlk);
	pane_rows_take(pr->rows, &l->cells);
	l->e = e;
	l->seq = e->seq;
	l->hl = hlk;
	return &l->cells;
}

/* Room for every row shown and as many again, so that a line scrolled one
 * row is still kept. */
static void comms_reserve(struct comms_priv *pr, int rows)
{
	size_t want = 16;
	while (want < 2 * (size_t)(rows > 0 ? rows : 1))
		want *= 2;
	if (pr->nlines >= want)
		return;
	for (size_t i = 0; i < pr->nlines; i++)
		pane_cells_free(&pr->lines[i].cells);
	free(pr->lines);
	pr->lines = xcalloc(want, sizeof *pr->lines);
	pr->nlines = want;
}

/* What the title adds while not following. */
static void comms_title_extra(const struct comms_priv *pr, const struct pane_ctx *ctx, char *buf,
			      size_t len)
{
	buf[0] = '\0';
	if (!pr->follow && ctx->st->comms.n > pr->seen)
		snprintf(buf, len, "%s %zu new below (End)", pane_glyph(ctx, GLYPH_DOWN),
			 ctx->st->comms.n - pr->seen);
	else if (!pr->follow)
		snprintf(buf, len, "paused (End follows)");
}

static void comms_draw_title(struct pane *p, const struct pane_ctx *ctx, const char *extra)
{
	struct comms_priv *pr = p->priv;
	struct comms_title *t = &pr->title;
	const char *filter = p->filter ? p->filter : "";
	if (!t->valid || t->focused != p->focused || strcmp(t->extra, extra) ||
	    strcmp(t->filter, filter)) {
		/* pane_title draws into p->win: give it the scratch row instead */
		struct pane on_scratch = *p;
		on_scratch.win = pane_rows_scratch(pr->rows);
		pane_title(&on_scratch, ctx, extra);
		pane_rows_take(pr->rows, &pr->title_cells);
		t->valid = true;
		t->focused = p->focused;
		snprintf(t->extra, sizeof t->extra, "%s", extra);
		free(t->filter);
		t->filter = xstrdup(filter);
	}
	pane_rows_put(pr->rows, 0, &pr->title_cells);
}

/* The row for "nothing yet" / "nothing matches the filter". */
static const struct pane_cells *comms_empty_row(struct pane *p, const struct pane_ctx *ctx)
{
	struct comms_priv *pr = p->priv;
	WINDOW *s = pane_rows_scratch(pr->rows);
	pane_put(s, 0, 1, p->w - 2, pane_attr(ctx, THEME_DIM),
		 ctx->st->comms.n ? "nothing matches the filter" : "nothing yet");
	pane_rows_take(pr->rows, &pr->empty);
	return &pr->empty;
}

/* The seq of a pointed "comms:SEQ" target; false when it names none. */
static bool comms_pointed(const struct pane_ctx *ctx, uint64_t *seq)
{
	const char *t = ctx->point_target;
	if (!t || strncmp(t, "comms:", 6))
		return false;
	*seq = strtoull(t + 6, NULL, 10);
	/* exactly the target a row would write ("comms:007" names no row) */
	char again[40];
	snprintf(again, sizeof again, "comms:%llu", (unsigned long long)*seq);
	return !strcmp(again, t);
}

static int comms_hl(struct pane *p, const struct pane_ctx *ctx, const struct comms_entry *e,
		    int i, bool pointing, uint64_t pointed)
{
	struct comms_priv *pr = p->priv;
	if (pointing && e->seq == pointed)
		return COMMS_HL_POINT;
	if (p->focused && i == p->sel && !pr->follow)
		return COMMS_HL_SEL;
	return COMMS_HL_NONE;
}

/* Every row through pane_rows: rows kept from the last frame cost a
 * comparison, and only cells that changed reach the window. */
static void comms_draw(struct pane *p, const struct pane_ctx *ctx)
{
	struct comms_priv *pr = p->priv;
	struct comms_list l = comms_visible(p, ctx);
	int n = l.n;
	int rows = p->h - 1;
	comms_place(p, &l);
	pane_list_clamp(p, n, rows);
	/* Following: the newest line sits at the bottom. */
	if (pr->follow)
		p->scroll = n > rows ? n - rows : 0;
	if (!pane_rows_begin(pr->rows, p))
		comms_forget(pr);
	if (!p->win || p->w <= 0) {
		comms_list_free(&l);
		return;
	}
	comms_reserve(pr, rows);
	if (!pr->blank.c) {
		pane_rows_scratch(pr->rows);
		pane_rows_take(pr->rows, &pr->blank);
	}
	char extra[48];
	comms_title_extra(pr, ctx, extra, sizeof extra);
	comms_draw_title(p, ctx, extra);
	uint64_t pointed = 0;
	bool pointing = comms_pointed(ctx, &pointed);
	for (int r = 0; r < rows; r++) {
		int i = p->scroll + r;
		const struct pane_cells *cells = &pr->blank;
		if (i < n) {
			const struct comms_entry *e = comms_at(&l, i);
			cells = comms_line(p, ctx, e, comms_hl(p, ctx, e, i, pointing, pointed));
		} else if (!n && r == 0) {
			cells = comms_empty_row(p, ctx);
		}
		pane_rows_put(pr->rows, 1 + r, cells);
	}
	comms_list_free(&l);
}

static void comms_details(const struct pane_ctx *ctx, const struct comms_entry *e)
{
	char when[40];
	time_format_rfc3339(e->ts, when, sizeof when);
	const char *lines[4];
	char *l0 = xasprintf("#%llu  %s  %s  by %s", (unsigned long long)e->seq, when,
			     event_kind_name(e->kind), e->by ? e->by : "?");
	lines[0] = l0;
	lines[1] = "";
	lines[2] = e->text ? e->text : "";
	ctx->ui->details(ctx->ui, "COMMS", lines, 3);
	free(l0);
}

static unsigned comms_key(struct pane *p, const struct pane_ctx *ctx, int key)
{
	struct comms_priv *pr = p->priv;
	struct comms_list l = comms_visible(p, ctx);
	int n = l.n;
	comms_place(p, &l);
	unsigned r = pane_list_key(p, key, n, p->h - 1);
	if (r) {
		/* At the bottom (End, G or moving down onto it) follows again. */
		bool was = pr->follow;
		pr->follow = (p->sel >= n - 1) && key != 'k' && key != KEY_UP && key != KEY_PPAGE &&
			     key != KEY_HOME;
		if (key == KEY_END || key == 'G')
			pr->follow = true;
		if (was && !pr->follow)
			pr->seen = ctx->st->comms.n;
	} else if ((key == '\n' || key == '\r' || key == KEY_ENTER) && p->sel >= 0 && p->sel < n) {
		comms_details(ctx, comms_at(&l, p->sel));
		r = PANE_HANDLED | PANE_REDRAW;
	}
	if (p->sel >= 0 && p->sel < n)
		pr->sel_seq = comms_at(&l, p->sel)->seq;
	comms_list_free(&l);
	return r;
}

static unsigned comms_on_event(struct pane *p, const struct pane_ctx *ctx,
			       const struct wr_event *ev)
{
	/* Every journaled event adds a line (or changes the count below). */
	return PANE_REDRAW;
}

static bool comms_selection(struct pane *p, const struct pane_ctx *ctx, char *buf, size_t len)
{
	struct comms_list l = comms_visible(p, ctx);
	comms_place(p, &l);
	bool ok = p->sel >= 0 && p->sel < l.n;
	if (ok)
		snprintf(buf, len, "comms:%llu", (unsigned long long)comms_at(&l, p->sel)->seq);
	comms_list_free(&l);
	return ok;
}

static bool comms_select(struct pane *p, const struct pane_ctx *ctx, const char *target)
{
	struct comms_priv *pr = p->priv;
	if (strncmp(target, "comms:", 6))
		return false;
	uint64_t seq = strtoull(target + 6, NULL, 10);
	struct comms_list l = comms_visible(p, ctx);
	bool found = false;
	for (int i = 0; i < l.n; i++)
		if (comms_at(&l, i)->seq == seq) {
			p->sel = i;
			pr->sel_seq = seq;
			pr->follow = i == l.n - 1;
			pr->seen = ctx->st->comms.n;
			found = true;
		}
	comms_list_free(&l);
	return found;
}

static const struct pane_help comms_help[] = {
	{"Home / End", "scroll to the start / follow the newest"},
	{"Enter", "the whole entry"},
	{"/", "filter by kind (note alert deploy role update action incident) or text"},
	{NULL, NULL},
};

const struct pane_class pane_comms_class = {
	.name = "comms",
	.title_utf8 = "COMMS",
	.title_ascii = "COMMS",
	.priv_new = comms_new,
	.priv_free = comms_free,
	.draw = comms_draw,
	.key = comms_key,
	.on_event = comms_on_event,
	.selection = comms_selection,
	.select = comms_select,
	.help = comms_help,
	.keeps_window = true,
};
