/* The parts of the screen that are not panes: the frame, the header (the
 * incident at a glance), the approval banner and the key bar. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cadence.h"
#include "core/demo.h"
#include "core/util.h"
#include "tui/console.h"
#include "tui/replay.h"

const struct action *screen_pending_action(const struct state *st)
{
	for (size_t i = 0; i < st->actions.n; i++) {
		const struct action *a = st->actions.v[i];
		if (a->status == ACT_PENDING_APPROVAL)
			return a;
	}
	return NULL;
}

enum junction { J_TL, J_TR, J_BL, J_BR, J_LT, J_RT, J_TT, J_BT, J_X };
static const char *junction(const struct console *c, enum junction j)
{
	static const char *const u[] = {"┌", "┐", "└", "┘", "├", "┤", "┬", "┴", "┼"};
	static const char *const a[] = {"+", "+", "+", "+", "+", "+", "+", "+", "+"};
	return c->utf8 ? u[j] : a[j];
}

static void put_glyph(WINDOW *w, int y, int x, attr_t attr, const char *g)
{
	int my, mx;
	getmaxyx(w, my, mx);
	if (y < 0 || x < 0 || y >= my || x >= mx)
		return;
	wattrset(w, attr);
	mvwaddstr(w, y, x, g);
	wattrset(w, A_NORMAL);
}

void screen_draw_frame(struct console *c)
{
	const struct layout *l = &c->lay;
	if (!l->full)
		return;
	attr_t a = pane_attr(&c->ctx, THEME_BORDER);
	int rows = l->rows, cols = l->cols;
	int top = l->top_y, n = l->bottom_y - l->top_y + 1;
	if (l->banner.h) {
		pane_vline(stdscr, &c->ctx, l->banner.y, 0, 1, a);
		pane_vline(stdscr, &c->ctx, l->banner.y, cols - 1, 1, a);
	}
	pane_vline(stdscr, &c->ctx, top, 0, n, a);
	pane_vline(stdscr, &c->ctx, top, l->sep_x, n, a);
	pane_vline(stdscr, &c->ctx, top, cols - 1, n, a);
	pane_hline(stdscr, &c->ctx, l->left_split_y, 1, l->sep_x - 1, a);
	pane_hline(stdscr, &c->ctx, l->right_split_y, l->sep_x + 1, cols - l->sep_x - 2, a);
	put_glyph(stdscr, 0, 0, a, junction(c, J_TL));
	put_glyph(stdscr, 0, cols - 1, a, junction(c, J_TR));
	put_glyph(stdscr, rows - 1, 0, a, junction(c, J_BL));
	put_glyph(stdscr, rows - 1, cols - 1, a, junction(c, J_BR));
	put_glyph(stdscr, l->left_split_y, 0, a, junction(c, J_LT));
	put_glyph(stdscr, l->left_split_y, l->sep_x, a, junction(c, J_RT));
	put_glyph(stdscr, l->right_split_y, l->sep_x, a,
		  junction(c, l->right_split_y == l->left_split_y ? J_X : J_LT));
	put_glyph(stdscr, l->right_split_y, cols - 1, a, junction(c, J_RT));
}

static enum theme_role severity_role(const char *sev)
{
	if (sev && (sev[0] == 'S' || sev[0] == 's') && strlen(sev) == 4) {
		switch (sev[3]) {
		case '1': return THEME_HEADER_SEV1;
		case '2': return THEME_HEADER_SEV2;
		case '3': return THEME_HEADER_SEV3;
		case '4': return THEME_HEADER_SEV4;
		default: break;
		}
	}
	return THEME_HEADER;
}

/* Writes one header piece; returns the new x. A " · " goes before all but
 * the first. */
static int header_piece(struct console *c, WINDOW *w, int x, int width, attr_t attr,
			const char *text, bool sep)
{
	if (x >= width)
		return x;
	attr_t h = pane_attr(&c->ctx, THEME_HEADER);
	if (sep)
		x += pane_put(w, 0, x, width - x, h, c->utf8 ? " · " : " | ");
	x += pane_put(w, 0, x, width - x, attr, text);
	return x;
}

static void fmt_countdown(int64_t ms, char *buf, size_t len)
{
	int64_t s = (ms < 0 ? -ms : ms) / 1000;
	if (s >= 3600)
		snprintf(buf, len, "%lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60),
			 (long long)(s % 60));
	else
		snprintf(buf, len, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
}

/* The comms cadence: time left until the next external and internal update,
 * in the overdue colour once it has passed. */
static int header_cadence(struct console *c, WINDOW *w, int x, int width, bool narrow)
{
	const struct config *cfg = c->cfg;
	struct cadence_due due[CADENCE__COUNT];
	cadence_compute(c->ctx.st, cfg ? cfg->cadence_first_external : 5, cfg ? cfg->cadence_external : 20,
			cfg ? cfg->cadence_internal : 20, c->ctx.now_ms, due);
	static const char *const names[CADENCE__COUNT] = {"ext", "int"};
	bool first = true;
	for (int a = 0; a < CADENCE__COUNT; a++) {
		if (!due[a].active)
			continue;
		char t[24], buf[48];
		fmt_countdown(due[a].left, t, sizeof t);
		bool overdue = due[a].left < 0;
		if (narrow)
			snprintf(buf, sizeof buf, overdue ? "%s OVERDUE %s" : "%s %s", names[a], t);
		else
			snprintf(buf, sizeof buf, overdue ? "%s update OVERDUE %s" : "%s update in %s",
				 names[a], t);
		if (!first)
			x = header_piece(c, w, x, width, pane_attr(&c->ctx, THEME_HEADER), " ", false);
		x = header_piece(c, w, x, width,
				 overdue ? pane_attr(&c->ctx, THEME_OVERDUE) | A_BOLD : pane_attr(&c->ctx, THEME_HEADER),
				 buf, first);
		first = false;
	}
	return x;
}

void screen_draw_header(struct console *c, WINDOW *w)
{
	const struct state *st = c->ctx.st;
	int width = getmaxx(w);
	bool full = c->lay.full;
	/* What the long forms need (roughly): cadence and sources' names make
	 * the difference, so estimate those and switch to short forms early. */
	size_t wide = 70 + (st->title ? strlen(st->title) : 16) + 46 +
		      (st->roles[ROLE_IC] ? strlen(st->roles[ROLE_IC]) : 1);
	for (size_t i = 0; i < st->backends.n; i++) {
		const struct backend_health *b = st->backends.v[i];
		wide += 4 + (b->name ? strlen(b->name) : 1) + (b->ok ? 0 : 6);
	}
	bool narrow = (size_t)width < wide;
	attr_t h = pane_attr(&c->ctx, THEME_HEADER);
	int x = 0;
	if (!full)
		pane_fill(w, 0, 0, width, h);
	else
		x = pane_put(w, 0, 0, width, pane_attr(&c->ctx, THEME_BORDER), " ");
	const char *sev = st->severity ? st->severity : (c->cfg && c->cfg->severity ? c->cfg->severity : "SEV?");
	char buf[256];
	snprintf(buf, sizeof buf, " %s ", sev);
	x += pane_put(w, 0, x, width - x, pane_attr(&c->ctx, severity_role(sev)) | A_BOLD, buf);
	const char *title = st->title ? st->title : (c->cfg && c->cfg->title ? c->cfg->title : "no incident");
	x = header_piece(c, w, x, width, h | A_BOLD, " ", false);
	x = header_piece(c, w, x, width, h | A_BOLD, title, false);
	bool synced = c->client && client_is_synced(c->client);
	if (!synced) {
		x = header_piece(c, w, x, width, h, "connecting", true);
	} else {
		char state[32];
		snprintf(state, sizeof state, "%s", incident_state_name(st->inc_state));
		for (char *s = state; *s; s++)
			if (*s >= 'a' && *s <= 'z')
				*s = (char)(*s - 'a' + 'A');
		x = header_piece(c, w, x, width, pane_attr(&c->ctx, THEME_HEADER_STATE), state, true);
		if (st->declared) {
			int64_t end = st->inc_state == INC_RESOLVED && st->resolved ? st->resolved : c->ctx.now_ms;
			int64_t s = (end - st->declared) / 1000;
			if (s < 0)
				s = 0;
			snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", (long long)(s / 3600),
				 (long long)(s / 60 % 60), (long long)(s % 60));
		} else {
			snprintf(buf, sizeof buf, "--:--:--");
		}
		x = header_piece(c, w, x, width, h, buf, true);
		/* Narrow terminals: who leads, who is here and the sources' health
		 * come before the cadence, in short forms, so they stay visible. */
		if (!narrow)
			x = header_cadence(c, w, x, width, false);
		snprintf(buf, sizeof buf, "IC %s", st->roles[ROLE_IC] ? st->roles[ROLE_IC] : (c->utf8 ? "—" : "-"));
		x = header_piece(c, w, x, width, h, buf, true);
		snprintf(buf, sizeof buf, "%zu here", st->clients.n);
		x = header_piece(c, w, x, width, h, buf, true);
		for (size_t i = 0; i < st->backends.n; i++) {
			const struct backend_health *b = st->backends.v[i];
			int64_t age = b->last_success ? c->ctx.now_ms - b->last_success : -1;
			bool stale = !b->ok || age < 0 || age > 120000;
			char agebuf[16] = "";
			if (stale) {
				if (age < 0)
					snprintf(agebuf, sizeof agebuf, " never");
				else {
					agebuf[0] = ' ';
					time_format_age(age, agebuf + 1, sizeof agebuf - 1);
				}
			}
			snprintf(buf, sizeof buf, "%s%s%s", narrow ? "" : b->name ? b->name : "?",
				 pane_glyph(&c->ctx, b->ok ? GLYPH_BULLET : GLYPH_HOLLOW), narrow ? "" : agebuf);
			x = header_piece(c, w, x, width,
					 pane_attr(&c->ctx, b->ok ? (stale ? THEME_STALE : THEME_HEADER) : THEME_STALE) |
						 (b->ok ? 0 : A_BOLD),
					 buf, i == 0);
			if (i + 1 < st->backends.n && !narrow)
				x = header_piece(c, w, x, width, h, " ", false);
		}
		if (narrow)
			x = header_cadence(c, w, x, width, true);
	}
	if (c->opts->read_only || (synced && !c->ctx.operator))
		x = header_piece(c, w, x, width, h, "read-only", true);
	if (c->opts->demo)
		x = header_piece(c, w, x, width, pane_attr(&c->ctx, THEME_BANNER), " DEMO ", true);
	if (c->opts->replay) {
		replay_console_header(c, buf, sizeof buf);
		x = header_piece(c, w, x, width, pane_attr(&c->ctx, THEME_BANNER), buf, true);
	}
	if (c->follow_user) {
		snprintf(buf, sizeof buf, "following %s", c->follow_user);
		x = header_piece(c, w, x, width, pane_attr(&c->ctx, THEME_POINT), buf, true);
	}
	x = header_piece(c, w, x, width, h, " ", false);
	if (full && x < width)
		pane_hline(w, &c->ctx, 0, x, width - x, pane_attr(&c->ctx, THEME_BORDER));
}

/* The demo's hint wants to know whether `g` has been pressed: the timeline
 * has the top suspect selected. */
static bool screen_suspect_selected(struct console *c)
{
	const struct state *st = c->ctx.st;
	struct pane *p = console_pane(c, "timeline");
	if (!st->suspects.n || !p || !p->cls->selection)
		return false;
	const struct suspect *s = st->suspects.v[0];
	char sel[300] = "", want[300];
	if (!p->cls->selection(p, &c->ctx, sel, sizeof sel))
		return false;
	snprintf(want, sizeof want, "deploy:%s@%s", s->service ? s->service : "",
		 s->version ? s->version : "");
	return strcmp(sel, want) == 0;
}

void screen_draw_banner(struct console *c, WINDOW *w)
{
	const struct action *a = screen_pending_action(c->ctx.st);
	int width = getmaxx(w);
	attr_t b = pane_attr(&c->ctx, THEME_BANNER);
	pane_fill(w, 0, 0, width, b);
	if (!a && c->opts->demo) {
		const char *me = c->ctx.me && *c->ctx.me ? c->ctx.me : NULL;
		pane_putf(w, 0, 0, width, b, " DEMO  %s",
			  demo_hint(c->ctx.st, me, screen_suspect_selected(c)));
		return;
	}
	if (!a)
		return;
	bool mine = c->ctx.me && str_eq(a->requested_by, c->ctx.me);
	char buf[512];
	snprintf(buf, sizeof buf, " APPROVAL NEEDED: rollback %s %s %s %s via %s, requested by %s  %s",
		 a->service ? a->service : "?", a->from ? a->from : "?", pane_glyph(&c->ctx, GLYPH_ARROW),
		 a->to ? a->to : "?", a->via ? a->via : "?", a->requested_by ? a->requested_by : "?",
		 mine ? "(waiting for another operator)  c cancel" : "y approve  c cancel");
	pane_put(w, 0, 0, width, b, buf);
}

static int bar_item_width(const struct key_binding *k, int sep)
{
	return (int)strlen(k->label) + 1 + (int)strlen(k->bar) + sep;
}

void screen_draw_keybar(struct console *c, WINDOW *w)
{
	int width = getmaxx(w);
	bool full = c->lay.full;
	attr_t bar = pane_attr(&c->ctx, THEME_KEYBAR);
	attr_t key = pane_attr(&c->ctx, THEME_KEYBAR_KEY);
	int x = 0;
	if (c->status[0]) {
		attr_t a = pane_attr(&c->ctx, c->status_error ? THEME_ERROR : THEME_STATUS);
		pane_fill(w, 0, 0, width, a);
		pane_put(w, 0, 1, width - 2, a, c->status);
		return;
	}
	if (!full)
		pane_fill(w, 0, 0, width, bar);
	else
		x = pane_put(w, 0, 0, width, pane_attr(&c->ctx, THEME_BORDER), c->utf8 ? "─ " : "- ");
	/* Drop the highest ranks until the rest fits, two spaces apart if room. */
	int avail = width - x - (full ? 2 : 0);
	int max_rank = 0;
	for (size_t i = 0; i < key_binding_count; i++)
		if (key_bindings[i].bar && key_bindings[i].bar_rank > max_rank)
			max_rank = key_bindings[i].bar_rank;
	int sep = 2, limit = max_rank;
	for (;;) {
		int total = 0;
		for (size_t i = 0; i < key_binding_count; i++)
			if (key_bindings[i].bar && key_bindings[i].bar_rank <= limit)
				total += bar_item_width(&key_bindings[i], sep);
		if (total - sep <= avail || limit == 0)
			break;
		if (sep == 2)
			sep = 1;
		else
			limit--, sep = 2;
	}
	for (size_t i = 0; i < key_binding_count; i++) {
		const struct key_binding *k = &key_bindings[i];
		if (!k->bar || k->bar_rank > limit)
			continue;
		if (x + bar_item_width(k, 0) > width)
			break;
		x += pane_put(w, 0, x, width - x, key, k->label);
		x += pane_put(w, 0, x, width - x, bar, " ");
		x += pane_put(w, 0, x, width - x, bar, k->bar);
		x += pane_put(w, 0, x, width - x, full ? pane_attr(&c->ctx, THEME_BORDER) : bar,
			      sep == 2 ? "  " : " ");
	}
	if (full && x < width)
		pane_hline(w, &c->ctx, 0, x, width - x, pane_attr(&c->ctx, THEME_BORDER));
}
