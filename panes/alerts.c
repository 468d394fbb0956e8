/* The alert feed: one line per alert with severity colour, service, name,
 * summary, age and state. Firing alerts first, sorted by severity then age
 * (`o` cycles the order); `/` filters; Enter shows labels, annotations and
 * the runbook link; `s` silences and `U` unsilences through the server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "panes/pane.h"

enum alerts_sort { SORT_SEVERITY, SORT_AGE, SORT_SERVICE, SORT_NAME, SORT__COUNT };
static const char *const sort_names[SORT__COUNT] = {"severity", "age", "service", "name"};

struct alerts_priv {
	enum alerts_sort sort;
	char *sel_id;  /* keeps the selection on the same alert as the list moves */
};

/* 0 critical, 1 warning, 2 info and anything else. */
static int severity_rank(const char *sev)
{
	if (!sev)
		return 2;
	if (!strncasecmp(sev, "crit", 4) || !strcasecmp(sev, "page") || !strcasecmp(sev, "error") ||
	    !strcasecmp(sev, "sev1") || !strcasecmp(sev, "sev2") || !strcasecmp(sev, "high"))
		return 0;
	if (!strncasecmp(sev, "warn", 4) || !strcasecmp(sev, "sev3") || !strcasecmp(sev, "medium"))
		return 1;
	return 2;
}

static const char *severity_short(const char *sev)
{
	static const char *const names[] = {"crit", "warn", "info"};
	return names[severity_rank(sev)];
}

static enum theme_role alert_role(const struct alert *a)
{
	if (a->status == ALERT_RESOLVED)
		return THEME_ALERT_RESOLVED;
	if (a->status == ALERT_SILENCED)
		return THEME_ALERT_SILENCED;
	static const enum theme_role roles[] = {THEME_ALERT_CRIT, THEME_ALERT_WARN, THEME_ALERT_INFO};
	return roles[severity_rank(a->severity)];
}

static const char *status_name(const struct alert *a)
{
	switch (a->status) {
	case ALERT_FIRING: return "firing";
	case ALERT_SILENCED: return "silenced";
	case ALERT_RESOLVED: return "resolved";
	}
	return "?";
}

/* qsort has no context argument in C11: the sort mode for the comparator. */
static enum alerts_sort cmp_mode;

static int cmp_str(const char *a, const char *b)
{
	return strcasecmp(a ? a : "", b ? b : "");
}

static int alerts_cmp(const void *pa, const void *pb)
{
	const struct alert *a = *(const struct alert *const *)pa;
	const struct alert *b = *(const struct alert *const *)pb;
	/* Firing, then silenced, then resolved, whatever the order chosen. */
	if (a->status != b->status)
		return (int)a->status - (int)b->status;
	int c = 0;
	switch (cmp_mode) {
	case SORT_SEVERITY:
		c = severity_rank(a->severity) - severity_rank(b->severity);
		break;
	case SORT_SERVICE:
		c = cmp_str(a->service, b->service);
		break;
	case SORT_NAME:
		c = cmp_str(a->name, b->name);
		break;
	default:
		break;
	}
	if (c)
		return c;
	/* Then newest first; ids break ties so the order is stable. */
	if (a->started != b->started)
		return a->started > b->started ? -1 : 1;
	return cmp_str(a->id, b->id);
}

/* The alerts shown, in display order (filter applied). Caller frees. */
static const struct alert **alerts_visible(struct pane *p, const struct pane_ctx *ctx, int *n_out)
{
	struct alerts_priv *pr = p->priv;
	const struct ptrvec *all = &ctx->st->alerts;
	const struct alert **v = xcalloc(all->n + 1, sizeof *v);
	int n = 0;
	for (size_t i = 0; i < all->n; i++) {
		const struct alert *a = all->v[i];
		const char *fields[] = {a->name, a->service, a->summary, a->severity, a->source,
					status_name(a), a->id};
		if (pane_filter_match(p, fields, sizeof fields / sizeof fields[0]))
			v[n++] = a;
	}
	cmp_mode = pr->sort;
	qsort(v, (size_t)n, sizeof *v, alerts_cmp);
	*n_out = n;
	return v;
}

/* Puts sel back on the remembered alert if it is still listed. */
static void alerts_sync_sel(struct pane *p, const struct alert **v, int n)
{
	struct alerts_priv *pr = p->priv;
	if (pr->sel_id)
		for (int i = 0; i < n; i++)
			if (str_eq(v[i]->id, pr->sel_id)) {
				p->sel = i;
				return;
			}
}

static void alerts_remember_sel(struct pane *p, const struct alert **v, int n)
{
	struct alerts_priv *pr = p->priv;
	str_set(&pr->sel_id, (p->sel >= 0 && p->sel < n) ? v[p->sel]->id : NULL);
}

static void *alerts_new(struct pane *p)
{
	return xcalloc(1, sizeof(struct alerts_priv));
}

static void alerts_free(void *priv)
{
	struct alerts_priv *pr = priv;
	if (!pr)
		return;
	free(pr->sel_id);
	free(pr);
}

static void alerts_age(const struct pane_ctx *ctx, const struct alert *a, char *buf, size_t len)
{
	int64_t end = a->status == ALERT_RESOLVED && a->resolved ? a->resolved : ctx->now_ms;
	int64_t ms = a->started ? end - a->started : 0;
	/* Under a minute shows "<1m" rather than seconds: the screen stays
	 * still while idle. */
	if (ms < 60000)
		snprintf(buf, len, "<1m");
	else
		time_format_age(ms, buf, len);
}

static int max_width(const struct alert **v, int n, size_t field_off, int cap)
{
	int w = 0;
	for (int i = 0; i < n; i++) {
		const char *s = *(const char *const *)((const char *)v[i] + field_off);
		int l = s ? (int)strlen(s) : 0;
		if (l > w)
			w = l;
	}
	return w < cap ? w : cap;
}

static void alerts_draw(struct pane *p, const struct pane_ctx *ctx)
{
	struct alerts_priv *pr = p->priv;
	int n;
	const struct alert **v = alerts_visible(p, ctx, &n);
	char extra[64];
	snprintf(extra, sizeof extra, "(%zu firing)  sort: %s", state_count_firing(ctx->st),
		 sort_names[pr->sort]);
	pane_title(p, ctx, extra);
	int rows = p->h - 1;
	alerts_sync_sel(p, v, n);
	pane_list_clamp(p, n, rows);
	if (n == 0 && rows > 0) {
		pane_put(p->win, 1, 2, p->w - 2, pane_attr(ctx, THEME_DIM),
			 ctx->st->alerts.n ? "no alert matches the filter" : "no alerts");
	}
	int width = p->w - 1; /* one column margin on the left */
	int svc_w = max_width(v, n, offsetof(struct alert, service), width >= 60 ? 12 : 8);
	int name_w = max_width(v, n, offsetof(struct alert, name), width >= 60 ? 24 : 16);
	bool show_state = width >= 70;
	for (int r = 0; r < rows && p->scroll + r < n; r++) {
		int i = p->scroll + r;
		const struct alert *a = v[i];
		int y = 1 + r;
		char target[256];
		snprintf(target, sizeof target, "alert:%s", a->id ? a->id : "");
		bool pointed = ctx->point_target && !strcmp(ctx->point_target, target);
		bool selected = p->focused && i == p->sel;
		attr_t base = pane_attr(ctx, alert_role(a));
		attr_t text_attr = pane_attr(ctx, THEME_NORMAL);
		if (a->status != ALERT_FIRING)
			text_attr = base;
		if (selected || pointed) {
			attr_t hl = pane_attr(ctx, pointed ? THEME_POINT : THEME_SELECTION);
			base = hl;
			text_attr = hl;
			pane_fill(p->win, y, 0, p->w, hl);
		}
		char age[16];
		alerts_age(ctx, a, age, sizeof age);
		int age_w = 6, state_w = show_state ? 9 : 0;
		int x = 1;
		x += pane_put(p->win, y, x, 2, base,
			      pane_glyph(ctx, a->status == ALERT_FIRING ? GLYPH_BULLET : GLYPH_HOLLOW));
		x = 3;
		pane_put(p->win, y, x, 4, base, severity_short(a->severity));
		x += 5;
		int rest = width - x - age_w - state_w;
		int sw = svc_w < rest ? svc_w : rest;
		pane_put(p->win, y, x, sw, text_attr | A_BOLD, a->service);
		x += sw + 1;
		rest = width - x - age_w - state_w;
		int nw = name_w < rest ? name_w : rest;
		pane_put(p->win, y, x, nw, text_attr, a->name);
		x += nw + 1;
		rest = width - x - age_w - state_w;
		if (rest > 0)
			pane_put(p->win, y, x, rest - 1, text_attr, a->summary);
		int ax = width - age_w - state_w;
		if (ax > x - 1 || ax >= 3) {
			char agepad[16];
			snprintf(agepad, sizeof agepad, "%5s", age);
			pane_put(p->win, y, ax, age_w, text_attr, agepad);
			if (show_state)
				pane_put(p->win, y, ax + age_w + 1, state_w - 1, base, status_name(a));
		}
	}
	alerts_remember_sel(p, v, n);
	free(v);
}

struct alerts_ask {
	char *id;
	const struct ui_ops *ui;
};

static void alerts_silence_done(void *arg, const char *text)
{
	struct alerts_ask *ask = arg;
	if (text) {
		char *end;
		long minutes = strtol(text, &end, 10);
		while (*end == ' ')
			end++;
		if (end == text || *end || minutes <= 0 || minutes > 7 * 24 * 60) {
			ask->ui->message(ask->ui, "silence: minutes must be 1..10080");
		} else {
			cJSON *args = cJSON_CreateObject();
			cJSON_AddStringToObject(args, "id", ask->id);
			cJSON_AddNumberToObject(args, "minutes", (double)minutes);
			ask->ui->intent(ask->ui, "silence", args);
		}
	}
	free(ask->id);
	free(ask);
}

static void alerts_details(const struct pane_ctx *ctx, const struct alert *a)
{
	struct ptrvec lines = {0};
	char when[40];
	ptrvec_push(&lines, xasprintf("%s  %s  %s", a->name ? a->name : "?",
				      a->service ? a->service : "?", a->severity ? a->severity : "?"));
	ptrvec_push(&lines, xasprintf("summary:  %s", a->summary ? a->summary : ""));
	time_format_rfc3339(a->started, when, sizeof when);
	ptrvec_push(&lines, xasprintf("state:    %s since %s", status_name(a), when));
	if (a->status == ALERT_SILENCED && a->silenced_until) {
		time_format_rfc3339(a->silenced_until, when, sizeof when);
		ptrvec_push(&lines, xasprintf("silenced until %s (%s)", when,
					      a->silence_id ? a->silence_id : "no id"));
	}
	ptrvec_push(&lines, xasprintf("id:       %s  (source %s)", a->id ? a->id : "?",
				      a->source ? a->source : "?"));
	const char *rb = pairs_get(a->annotations, "runbook_url");
	if (!rb)
		rb = pairs_get(a->annotations, "runbook");
	ptrvec_push(&lines, xasprintf("runbook:  %s", rb ? rb : "(none)"));
	if (a->url)
		ptrvec_push(&lines, xasprintf("source:   %s", a->url));
	const struct pairs *sets[2] = {a->labels, a->annotations};
	const char *heads[2] = {"labels:", "annotations:"};
	for (int k = 0; k < 2; k++) {
		ptrvec_push(&lines, xstrdup(""));
		ptrvec_push(&lines, xstrdup(heads[k]));
		size_t off = 0;
		struct pair x;
		int count = 0;
		while (pairs_next(sets[k], &off, &x)) {
			ptrvec_push(&lines, xasprintf("  %s = %s", *x.name ? x.name : "?", x.value));
			count++;
		}
		if (!count)
			ptrvec_push(&lines, xstrdup("  (none)"));
	}
	ctx->ui->details(ctx->ui, "ALERT", (const char *const *)lines.v, lines.n);
	ptrvec_free(&lines, free);
}

static unsigned alerts_key(struct pane *p, const struct pane_ctx *ctx, int key)
{
	struct alerts_priv *pr = p->priv;
	int n;
	const struct alert **v = alerts_visible(p, ctx, &n);
	alerts_sync_sel(p, v, n);
	unsigned r = pane_list_key(p, key, n, p->h - 1);
	const struct alert *a = (p->sel >= 0 && p->sel < n) ? v[p->sel] : NULL;
	if (!r) {
		switch (key) {
		case 'o':
			pr->sort = (pr->sort + 1) % SORT__COUNT;
			r = PANE_HANDLED | PANE_REDRAW;
			break;
		case '\n': case '\r': case KEY_ENTER:
			if (a)
				alerts_details(ctx, a);
			r = PANE_HANDLED | PANE_REDRAW;
			break;
		case 's':
			if (!a) {
				ctx->ui->message(ctx->ui, "no alert selected");
			} else {
				struct alerts_ask *ask = xcalloc(1, sizeof *ask);
				ask->id = xstrdup(a->id);
				ask->ui = ctx->ui;
				char *label = xasprintf("Silence %s for minutes:", a->name ? a->name : a->id);
				ctx->ui->prompt(ctx->ui, label, "60", alerts_silence_done, ask);
				free(label);
			}
			r = PANE_HANDLED | PANE_REDRAW;
			break;
		case 'U':
			if (!a) {
				ctx->ui->message(ctx->ui, "no alert selected");
			} else {
				cJSON *args = cJSON_CreateObject();
				cJSON_AddStringToObject(args, "id", a->id);
				ctx->ui->intent(ctx->ui, "unsilence", args);
			}
			r = PANE_HANDLED | PANE_REDRAW;
			break;
		default:
			break;
		}
	}
	alerts_remember_sel(p, v, n);
	free(v);
	return r;
}

static unsigned alerts_on_event(struct pane *p, const struct pane_ctx *ctx,
				const struct wr_event *ev)
{
	if (!ev)
		return PANE_REDRAW;
	switch (ev->kind) {
	case EV_ALERT_FIRED: case EV_ALERT_RESOLVED: case EV_ALERT_SILENCED: case EV_ALERT_UNSILENCED:
		return PANE_REDRAW;
	default:
		return 0;
	}
}

static bool alerts_selection(struct pane *p, const struct pane_ctx *ctx, char *buf, size_t len)
{
	int n;
	const struct alert **v = alerts_visible(p, ctx, &n);
	alerts_sync_sel(p, v, n);
	bool ok = p->sel >= 0 && p->sel < n && v[p->sel]->id;
	if (ok)
		snprintf(buf, len, "alert:%s", v[p->sel]->id);
	free(v);
	return ok;
}

static bool alerts_select(struct pane *p, const struct pane_ctx *ctx, const char *target)
{
	if (strncmp(target, "alert:", 6))
		return false;
	int n;
	const struct alert **v = alerts_visible(p, ctx, &n);
	bool found = false;
	for (int i = 0; i < n; i++)
		if (str_eq(v[i]->id, target + 6)) {
			p->sel = i;
			alerts_remember_sel(p, v, n);
			found = true;
			break;
		}
	free(v);
	return found;
}

static const struct pane_help alerts_help[] = {
	{"Enter", "labels, annotations and runbook link of the selected alert"},
	{"o", "cycle the order: severity, age, service, name"},
	{"s", "silence the selected alert (asks minutes, default 60)"},
	{"U", "unsilence the selected alert"},
	{NULL, NULL},
};

const struct pane_class pane_alerts_class = {
	.name = "alerts",
	.title_utf8 = "ALERTS",
	.title_ascii = "ALERTS",
	.priv_new = alerts_new,
	.priv_free = alerts_free,
	.draw = alerts_draw,
	.key = alerts_key,
	.on_event = alerts_on_event,
	.selection = alerts_selection,
	.select = alerts_select,
	.help = alerts_help,
};
