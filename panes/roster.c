/* The role roster: the five roles and who holds them (several secondaries),
 * then the people attached, each viewing or driving (an operator who holds
 * a role drives) with their idle time. `a` takes the selected role (or, on a
 * person, gives them a role from a picker), `x` releases it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "panes/pane.h"

/* Attached people, one row per user (several terminals of one user merge). */
struct person {
	const char *user;
	int terminals;
	bool operator;
	int64_t idle_ms;  /* since the most recent key press on any of them */
};

static int roster_people(const struct pane_ctx *ctx, struct person *out, int max)
{
	int n = 0;
	const struct ptrvec *cl = &ctx->st->clients;
	for (size_t i = 0; i < cl->n; i++) {
		const struct client_info *c = cl->v[i];
		if (!c->user)
			continue;
		int k;
		for (k = 0; k < n; k++)
			if (!strcmp(out[k].user, c->user))
				break;
		int64_t last = c->last_active ? c->last_active : c->joined;
		int64_t idle = last ? ctx->now_ms - last : 0;
		if (idle < 0)
			idle = 0;
		if (k == n) {
			if (n == max)
				continue;
			out[n++] = (struct person){.user = c->user, .idle_ms = idle};
		}
		out[k].terminals++;
		if (str_eq(c->mode, "operator"))
			out[k].operator = true;
		if (idle < out[k].idle_ms)
			out[k].idle_ms = idle;
	}
	return n;
}

static bool holds_any(const struct state *st, const char *user)
{
	for (int r = 0; r < ROLE__COUNT; r++)
		if (state_user_holds(st, user, (enum role)r))
			return true;
	return false;
}

static const struct person *find_person(const struct person *pp, int n, const char *user)
{
	for (int i = 0; i < n; i++)
		if (str_eq(pp[i].user, user))
			return &pp[i];
	return NULL;
}

#define ROSTER_MAX_PEOPLE 64

/* Rows: 0..4 roles; then people (after a heading row, not selectable). */
static int roster_items(const struct pane_ctx *ctx, struct person *pp, int *npeople)
{
	*npeople = roster_people(ctx, pp, ROSTER_MAX_PEOPLE);
	return ROLE__COUNT + *npeople;
}

/* One holder: name (mine highlighted) and what they are doing. */
static int draw_holder(struct pane *p, const struct pane_ctx *ctx, int y, int x, int width,
		       const char *user, const struct person *pp, int np, attr_t row_hl, bool hl)
{
	if (width <= 0)
		return 0;
	bool me = ctx->me && str_eq(user, ctx->me);
	attr_t a = hl ? row_hl : pane_attr(ctx, me ? THEME_ROLE_ME : THEME_ROLE_HOLDER);
	int n = pane_put(p->win, y, x, width, a, user);
	const struct person *who = find_person(pp, np, user);
	char what[64];
	if (!who)
		snprintf(what, sizeof what, " (away)");
	else if (who->operator)
		snprintf(what, sizeof what, " %s driving", pane_glyph(ctx, GLYPH_DIAMOND));
	else
		snprintf(what, sizeof what, " (viewing)");
	n += pane_put(p->win, y, x + n, width - n, hl ? row_hl : pane_attr(ctx, THEME_DIM), what);
	return n;
}

static void roster_draw(struct pane *p, const struct pane_ctx *ctx)
{
	struct person pp[ROSTER_MAX_PEOPLE];
	int np;
	int n = roster_items(ctx, pp, &np);
	char extra[32];
	snprintf(extra, sizeof extra, "(%d here)", np);
	pane_title(p, ctx, extra);
	pane_list_clamp(p, n, p->h - 1);
	int label_w = p->w >= 40 ? 20 : 10;
	int y = 1;
	for (int r = 0; r < ROLE__COUNT && y < p->h; r++, y++) {
		bool sel = p->focused && p->sel == r;
		char target[32];
		snprintf(target, sizeof target, "role:%s", role_id((enum role)r));
		bool pointed = ctx->point_target && !strcmp(ctx->point_target, target);
		attr_t hl = pane_attr(ctx, pointed ? THEME_POINT : THEME_SELECTION);
		bool h = sel || pointed;
		if (h)
			pane_fill(p->win, y, 0, p->w, hl);
		const char *label = role_label((enum role)r);
		if (p->w < 40) {
			/* Narrow: the short ids read better than cut labels. */
			static const char *const shortl[ROLE__COUNT] = {"IC", "Internal", "External",
									"Primary", "Secondary"};
			label = shortl[r];
		}
		pane_put(p->win, y, 1, label_w - 1, h ? hl : pane_attr(ctx, THEME_NORMAL), label);
		int x = label_w + 1, width = p->w - x - 1;
		if (r == ROLE_SECONDARY) {
			const struct ptrvec *sv = &ctx->st->secondaries;
			if (!sv->n)
				pane_putf(p->win, y, x, width, h ? hl : pane_attr(ctx, THEME_ROLE_UNASSIGNED),
					  "%s  (unassigned)", pane_glyph(ctx, GLYPH_DASH));
			for (size_t i = 0; i < sv->n && width > 0; i++) {
				int used = 0;
				if (i) {
					used = pane_put(p->win, y, x, width, h ? hl : pane_attr(ctx, THEME_DIM), ", ");
					x += used, width -= used;
				}
				used = draw_holder(p, ctx, y, x, width, sv->v[i], pp, np, hl, h);
				x += used, width -= used;
			}
		} else if (ctx->st->roles[r]) {
			draw_holder(p, ctx, y, x, width, ctx->st->roles[r], pp, np, hl, h);
		} else {
			pane_putf(p->win, y, x, width, h ? hl : pane_attr(ctx, THEME_ROLE_UNASSIGNED),
				  "%s  (unassigned)", pane_glyph(ctx, GLYPH_DASH));
		}
	}
	if (y < p->h && np) {
		pane_put(p->win, y++, 1, p->w - 2, pane_attr(ctx, THEME_DIM), "attached:");
	}
	for (int i = 0; i < np && y < p->h; i++, y++) {
		int item = ROLE__COUNT + i;
		bool sel = p->focused && p->sel == item;
		char target[128];
		snprintf(target, sizeof target, "user:%s", pp[i].user);
		bool pointed = ctx->point_target && !strcmp(ctx->point_target, target);
		bool h = sel || pointed;
		attr_t hl = pane_attr(ctx, pointed ? THEME_POINT : THEME_SELECTION);
		if (h)
			pane_fill(p->win, y, 0, p->w, hl);
		bool me = ctx->me && str_eq(pp[i].user, ctx->me);
		int x = 3;
		x += pane_put(p->win, y, x, p->w - x - 1,
			      h ? hl : pane_attr(ctx, me ? THEME_ROLE_ME : THEME_NORMAL), pp[i].user);
		char idle[16] = "";
		if (pp[i].idle_ms >= 60000)
			time_format_age(pp[i].idle_ms, idle, sizeof idle);
		bool driving = pp[i].operator && holds_any(ctx->st, pp[i].user);
		char many[16] = "";
		if (pp[i].terminals > 1)
			snprintf(many, sizeof many, " x%d", pp[i].terminals);
		pane_putf(p->win, y, x, p->w - x - 1, h ? hl : pane_attr(ctx, THEME_DIM), "%s%s%s%s",
			  many, driving ? "  driving" : pp[i].operator ? "  operator" : "  viewing",
			  idle[0] ? "  idle " : "", idle);
	}
}

struct roster_give {
	char *user;
	const struct ui_ops *ui;
};

static void roster_give_done(void *arg, int index)
{
	struct roster_give *g = arg;
	if (index >= 0 && index < ROLE__COUNT) {
		cJSON *args = cJSON_CreateObject();
		cJSON_AddStringToObject(args, "role", role_id((enum role)index));
		cJSON_AddStringToObject(args, "user", g->user);
		g->ui->intent(g->ui, "assign", args);
	}
	free(g->user);
	free(g);
}

static void roster_details(const struct pane_ctx *ctx, int item, const struct person *pp, int np)
{
	struct ptrvec lines = {0};
	const char *title = "ROLE";
	if (item < ROLE__COUNT) {
		ptrvec_push(&lines, xasprintf("%s (%s)", role_label((enum role)item), role_id((enum role)item)));
		if (item == ROLE_SECONDARY) {
			for (size_t i = 0; i < ctx->st->secondaries.n; i++)
				ptrvec_push(&lines, xasprintf("  held by %s", (char *)ctx->st->secondaries.v[i]));
		} else if (ctx->st->roles[item]) {
			ptrvec_push(&lines, xasprintf("  held by %s", ctx->st->roles[item]));
		} else {
			ptrvec_push(&lines, xstrdup("  unassigned"));
		}
		ptrvec_push(&lines, xstrdup(""));
		ptrvec_push(&lines, xstrdup("a  take this role    x  release it"));
		ptrvec_push(&lines, xasprintf(":assign %s USER  gives it to someone else",
					      role_id((enum role)item)));
	} else {
		title = "PERSON";
		const struct person *who = &pp[item - ROLE__COUNT];
		ptrvec_push(&lines, xasprintf("%s: %d terminal%s attached, %s", who->user, who->terminals,
					      who->terminals == 1 ? "" : "s",
					      who->operator ? "operator" : "viewer"));
		for (int r = 0; r < ROLE__COUNT; r++)
			if (state_user_holds(ctx->st, who->user, (enum role)r))
				ptrvec_push(&lines, xasprintf("  holds %s", role_label((enum role)r)));
		char idle[16];
		time_format_age(who->idle_ms, idle, sizeof idle);
		ptrvec_push(&lines, xasprintf("  idle %s", idle));
		ptrvec_push(&lines, xstrdup(""));
		ptrvec_push(&lines, xstrdup("a  give this person a role"));
	}
	ctx->ui->details(ctx->ui, title, (const char *const *)lines.v, lines.n);
	ptrvec_free(&lines, free);
}

static unsigned roster_key(struct pane *p, const struct pane_ctx *ctx, int key)
{
	struct person pp[ROSTER_MAX_PEOPLE];
	int np;
	int n = roster_items(ctx, pp, &np);
	unsigned r = pane_list_key(p, key, n, p->h - 1);
	if (r)
		return r;
	pane_list_clamp(p, n, p->h - 1);
	int item = p->sel;
	switch (key) {
	case 'a':
		if (item < ROLE__COUNT) {
			if (!ctx->me || !*ctx->me)
				return PANE_HANDLED;
			cJSON *args = cJSON_CreateObject();
			cJSON_AddStringToObject(args, "role", role_id((enum role)item));
			cJSON_AddStringToObject(args, "user", ctx->me);
			ctx->ui->intent(ctx->ui, "assign", args);
		} else {
			static const char *items[ROLE__COUNT];
			for (int i = 0; i < ROLE__COUNT; i++)
				items[i] = role_label((enum role)i);
			struct roster_give *g = xcalloc(1, sizeof *g);
			g->user = xstrdup(pp[item - ROLE__COUNT].user);
			g->ui = ctx->ui;
			char *title = xasprintf("Give %s the role", g->user);
			ctx->ui->choose(ctx->ui, title, items, ROLE__COUNT, 0, roster_give_done, g);
			free(title);
		}
		return PANE_HANDLED | PANE_REDRAW;
	case 'x':
		if (item >= ROLE__COUNT) {
			ctx->ui->message(ctx->ui, "select a role to release");
			return PANE_HANDLED;
		} else {
			cJSON *args = cJSON_CreateObject();
			cJSON_AddStringToObject(args, "role", role_id((enum role)item));
			/* Several secondaries: release mine, or the only one. */
			if (item == ROLE_SECONDARY) {
				const struct ptrvec *sv = &ctx->st->secondaries;
				const char *who = NULL;
				if (ctx->me && state_user_holds(ctx->st, ctx->me, ROLE_SECONDARY))
					who = ctx->me;
				else if (sv->n == 1)
					who = sv->v[0];
				if (who)
					cJSON_AddStringToObject(args, "user", who);
			}
			ctx->ui->intent(ctx->ui, "release", args);
		}
		return PANE_HANDLED | PANE_REDRAW;
	case '\n': case '\r': case KEY_ENTER:
		if (item >= 0 && item < n)
			roster_details(ctx, item, pp, np);
		return PANE_HANDLED | PANE_REDRAW;
	default:
		return 0;
	}
}

static unsigned roster_on_event(struct pane *p, const struct pane_ctx *ctx,
				const struct wr_event *ev)
{
	if (!ev)
		return PANE_REDRAW;
	switch (ev->kind) {
	case EV_ROLE_ASSIGNED: case EV_ROLE_RELEASED: case EV_CLIENT_JOINED: case EV_CLIENT_LEFT:
		return PANE_REDRAW;
	default:
		return 0;
	}
}

static bool roster_selection(struct pane *p, const struct pane_ctx *ctx, char *buf, size_t len)
{
	struct person pp[ROSTER_MAX_PEOPLE];
	int np;
	int n = roster_items(ctx, pp, &np);
	if (p->sel < 0 || p->sel >= n)
		return false;
	if (p->sel < ROLE__COUNT)
		snprintf(buf, len, "role:%s", role_id((enum role)p->sel));
	else
		snprintf(buf, len, "user:%s", pp[p->sel - ROLE__COUNT].user);
	return true;
}

static bool roster_select(struct pane *p, const struct pane_ctx *ctx, const char *target)
{
	if (!strncmp(target, "role:", 5)) {
		int r = role_from_id(target + 5);
		if (r < 0)
			return false;
		p->sel = r;
		return true;
	}
	if (!strncmp(target, "user:", 5)) {
		struct person pp[ROSTER_MAX_PEOPLE];
		int np;
		roster_items(ctx, pp, &np);
		for (int i = 0; i < np; i++)
			if (!strcmp(pp[i].user, target + 5)) {
				p->sel = ROLE__COUNT + i;
				return true;
			}
	}
	return false;
}

static const struct pane_help roster_help[] = {
	{"a", "take the selected role (on a person: give them a role)"},
	{"x", "release the selected role"},
	{"Enter", "who holds the role, or what the person holds"},
	{NULL, NULL},
};

const struct pane_class pane_roster_class = {
	.name = "roster",
	.title_utf8 = "ROLES",
	.title_ascii = "ROLES",
	.draw = roster_draw,
	.key = roster_key,
	.on_event = roster_on_event,
	.selection = roster_selection,
	.select = roster_select,
	.help = roster_help,
};
