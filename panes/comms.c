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

struct comms_priv {
	bool follow;       /* keep the newest entry in view */
	uint64_t sel_seq;  /* the selected entry when not following */
	size_t seen;       /* entries shown when following stopped */
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

static const struct comms_entry **comms_visible(struct pane *p, const struct pane_ctx *ctx,
						int *n_out)
{
	const struct ptrvec *all = &ctx->st->comms;
	const struct comms_entry **v = xcalloc(all->n + 1, sizeof *v);
	int n = 0;
	if (!p->filter || !*p->filter) {
		/* no filter: every entry, without matching each (a long incident
		 * has tens of thousands, and this runs every frame) */
		if (all->n)
			memcpy(v, all->v, all->n * sizeof *v);
		*n_out = (int)all->n;
		return v;
	}
	for (size_t i = 0; i < all->n; i++) {
		const struct comms_entry *e = all->v[i];
		const char *fields[] = {comms_style(e->kind).tag, event_kind_name(e->kind), e->by, e->text};
		if (pane_filter_match(p, fields, sizeof fields / sizeof fields[0]))
			v[n++] = e;
	}
	*n_out = n;
	return v;
}

/* Applies the follow rule and the remembered selection to p->sel. */
static void comms_place(struct pane *p, const struct comms_entry **v, int n)
{
	struct comms_priv *pr = p->priv;
	if (pr->follow) {
		p->sel = n - 1;
		return;
	}
	for (int i = 0; i < n; i++)
		if (v[i]->seq == pr->sel_seq) {
			p->sel = i;
			return;
		}
}

static void *comms_new(struct pane *p)
{
	struct comms_priv *pr = xcalloc(1, sizeof *pr);
	pr->follow = true;
	return pr;
}

static void comms_free(void *priv)
{
	free(priv);
}

static void comms_draw(struct pane *p, const struct pane_ctx *ctx)
{
	struct comms_priv *pr = p->priv;
	int n;
	const struct comms_entry **v = comms_visible(p, ctx, &n);
	int rows = p->h - 1;
	comms_place(p, v, n);
	pane_list_clamp(p, n, rows);
	/* Following: the newest line sits at the bottom. */
	if (pr->follow)
		p->scroll = n > rows ? n - rows : 0;
	char extra[48] = "";
	if (!pr->follow && ctx->st->comms.n > pr->seen)
		snprintf(extra, sizeof extra, "%s %zu new below (End)", pane_glyph(ctx, GLYPH_DOWN),
			 ctx->st->comms.n - pr->seen);
	else if (!pr->follow)
		snprintf(extra, sizeof extra, "paused (End follows)");
	pane_title(p, ctx, extra);
	if (!n && rows > 0)
		pane_put(p->win, 1, 1, p->w - 2, pane_attr(ctx, THEME_DIM),
			 ctx->st->comms.n ? "nothing matches the filter" : "nothing yet");
	int by_w = p->w >= 60 ? 10 : 8;
	for (int r = 0; r < rows && p->scroll + r < n; r++) {
		int i = p->scroll + r;
		const struct comms_entry *e = v[i];
		int y = 1 + r;
		char target[40];
		snprintf(target, sizeof target, "comms:%llu", (unsigned long long)e->seq);
		bool pointed = ctx->point_target && !strcmp(ctx->point_target, target);
		bool sel = p->focused && i == p->sel && !pr->follow;
		bool h = sel || pointed;
		attr_t hl = pane_attr(ctx, pointed ? THEME_POINT : THEME_SELECTION);
		if (h)
			pane_fill(p->win, y, 0, p->w, hl);
		char hm[8] = "--:--";
		time_t secs = (time_t)(e->ts / 1000);
		struct tm tm;
		if (e->ts > 0 && localtime_r(&secs, &tm))
			strftime(hm, sizeof hm, "%H:%M", &tm);
		int x = 1;
		pane_put(p->win, y, x, 5, h ? hl : pane_attr(ctx, THEME_COMMS_TIME), hm);
		x += 6;
		pane_put(p->win, y, x, by_w - 1, h ? hl : pane_attr(ctx, THEME_COMMS_BY), e->by ? e->by : "");
		x += by_w;
		pane_put(p->win, y, x, p->w - x - 1, h ? hl : pane_attr(ctx, comms_style(e->kind).role),
			 e->text ? e->text : "");
	}
	free(v);
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
	int n;
	const struct comms_entry **v = comms_visible(p, ctx, &n);
	comms_place(p, v, n);
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
		comms_details(ctx, v[p->sel]);
		r = PANE_HANDLED | PANE_REDRAW;
	}
	if (p->sel >= 0 && p->sel < n)
		pr->sel_seq = v[p->sel]->seq;
	free(v);
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
	int n;
	const struct comms_entry **v = comms_visible(p, ctx, &n);
	comms_place(p, v, n);
	bool ok = p->sel >= 0 && p->sel < n;
	if (ok)
		snprintf(buf, len, "comms:%llu", (unsigned long long)v[p->sel]->seq);
	free(v);
	return ok;
}

static bool comms_select(struct pane *p, const struct pane_ctx *ctx, const char *target)
{
	struct comms_priv *pr = p->priv;
	if (strncmp(target, "comms:", 6))
		return false;
	uint64_t seq = strtoull(target + 6, NULL, 10);
	int n;
	const struct comms_entry **v = comms_visible(p, ctx, &n);
	bool found = false;
	for (int i = 0; i < n; i++)
		if (v[i]->seq == seq) {
			p->sel = i;
			pr->sel_seq = seq;
			pr->follow = i == n - 1;
			pr->seen = ctx->st->comms.n;
			found = true;
		}
	free(v);
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
};
