/* The status update composer (`u`): pick the state, get a message drafted
 * from the incident (title, service, impact, when it began, how long it has
 * run), edit it, pick the targets, and read exactly what goes where before
 * Enter sends it through the `update` intent. The composer's body is the
 * preview; Esc closes it and nothing is sent. A refusal from the server
 * (a viewer, a role that may not post to that audience) is shown in the
 * composer, which stays open so the choice can be changed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/text.h"
#include "core/util.h"
#include "tui/console.h"

#define KEY_ESC 27
#define COMPOSER_STATES 4
#define COMPOSER_MAX_MSG_ROWS 8

static const char *const composer_states[COMPOSER_STATES] = {
	"investigating", "identified", "monitoring", "resolved",
};

/* Target choices besides single targets. */
enum { CHOICE_ALL = -1, CHOICE_EXTERNAL = -2, CHOICE_INTERNAL = -3 };

struct composer_target {
	char *name, *type, *audience;
};

struct composer_ticket;

struct composer {
	struct console *c;
	int state;                 /* index in composer_states */
	char *message;
	bool edited;               /* typed by hand: a state change keeps it */
	struct ptrvec targets;     /* struct composer_target*, config order */
	int choices[64];           /* CHOICE_* or an index in targets */
	int nchoices, choice;
	char *error;               /* the last refusal, shown until the next send */
	struct composer_ticket *ticket; /* replies still to come; NULL: idle */
	bool in_key;               /* inside composer_key: close by returning */
	bool close_now;
};

/* The replies of one send. Outlives the composer if Esc closes it first. */
struct composer_ticket {
	struct composer *cm;       /* NULL once the composer is gone */
	struct console *c;
	char *state;
	int outstanding;
	struct ptrvec sent;        /* "target" strings */
	struct sbuf errors;
};

/* ---- the draft ------------------------------------------------------------- */

static char *composer_clean(const char *s)
{
	return text_sanitize(s ? s : "", true);
}

static const char *composer_impact(const char *sev)
{
	if (str_eq(sev, "SEV1"))
		return "major outage";
	if (str_eq(sev, "SEV2"))
		return "partial outage";
	if (str_eq(sev, "SEV3"))
		return "degraded performance";
	if (str_eq(sev, "SEV4"))
		return "minor impact";
	return "under assessment";
}

/* "7 minutes", "1 hour 5 minutes", "2 days 3 hours". */
static void composer_duration(int64_t ms, char *buf, size_t len)
{
	long long m = ms > 0 ? ms / 60000 : 0;
	if (m < 1)
		snprintf(buf, len, "less than a minute");
	else if (m < 60)
		snprintf(buf, len, "%lld minute%s", m, m == 1 ? "" : "s");
	else if (m < 24 * 60) {
		long long h = m / 60, r = m % 60;
		if (r)
			snprintf(buf, len, "%lld hour%s %lld minute%s", h, h == 1 ? "" : "s", r,
				 r == 1 ? "" : "s");
		else
			snprintf(buf, len, "%lld hour%s", h, h == 1 ? "" : "s");
	} else {
		long long d = m / (24 * 60), h = m % (24 * 60) / 60;
		snprintf(buf, len, "%lld day%s %lld hour%s", d, d == 1 ? "" : "s", h, h == 1 ? "" : "s");
	}
}

/* The affected service: the configured one, else the top suspect's, else
 * the first firing alert's. */
static const char *composer_service(const struct console *c, const struct state *st)
{
	if (c->cfg && c->cfg->service && *c->cfg->service)
		return c->cfg->service;
	if (st->suspects.n) {
		const struct suspect *s = st->suspects.v[0];
		if (s->service && *s->service)
			return s->service;
	}
	for (size_t i = 0; i < st->alerts.n; i++) {
		const struct alert *a = st->alerts.v[i];
		if (a->status == ALERT_FIRING && a->service && *a->service)
			return a->service;
	}
	return NULL;
}

/* What changed since the last status update (any target): " Since our last
 * update at HH:MM UTC: api rolled back from 2.4.0 to 2.3.0; 3 alerts
 * resolved." or "" when nothing was posted yet or nothing changed. */
static char *composer_since(const struct state *st)
{
	int64_t last = 0;
	for (size_t i = 0; i < st->updates.n; i++) {
		const struct update *u = st->updates.v[i];
		int64_t t = u->sent ? u->sent : u->requested;
		if (t > last)
			last = t;
	}
	if (!last)
		return xstrdup("");
	struct sbuf sb;
	sbuf_init(&sb);
	int items = 0;
	for (size_t i = 0; i < st->actions.n; i++) {
		const struct action *a = st->actions.v[i];
		char *svc = composer_clean(a->service ? a->service : "?");
		char *from = composer_clean(a->from ? a->from : "?");
		char *to = composer_clean(a->to ? a->to : "?");
		if (a->status == ACT_SUCCEEDED && a->finished > last)
			sbuf_printf(&sb, "%s%s rolled back from %s to %s", items++ ? "; " : "", svc,
				    from, to);
		else if (a->status == ACT_RUNNING && a->started > last)
			sbuf_printf(&sb, "%sa rollback of %s to %s under way", items++ ? "; " : "", svc,
				    to);
		else if (a->status == ACT_FAILED && a->finished > last)
			sbuf_printf(&sb, "%sa rollback of %s did not complete", items++ ? "; " : "",
				    svc);
		free(svc);
		free(from);
		free(to);
	}
	size_t fired = 0, resolved = 0;
	for (size_t i = 0; i < st->alerts.n; i++) {
		const struct alert *a = st->alerts.v[i];
		if (a->status == ALERT_RESOLVED && a->resolved > last)
			resolved++;
		else if (a->status == ALERT_FIRING && a->started > last)
			fired++;
	}
	if (resolved)
		sbuf_printf(&sb, "%s%zu alert%s resolved", items++ ? "; " : "", resolved,
			    resolved == 1 ? "" : "s");
	if (fired)
		sbuf_printf(&sb, "%s%zu new alert%s", items++ ? "; " : "", fired,
			    fired == 1 ? "" : "s");
	char *out;
	if (items) {
		char at[16] = "--:--";
		time_t secs = (time_t)(last / 1000);
		struct tm tm;
		if (gmtime_r(&secs, &tm))
			strftime(at, sizeof at, "%H:%M", &tm);
		out = xasprintf(" Since our last update at %s UTC: %s.", at, sb.buf);
	} else {
		out = xstrdup("");
	}
	sbuf_free(&sb);
	return out;
}

static char *composer_template(const struct composer *cm, const struct pane_ctx *ctx, int state)
{
	const struct state *st = ctx->st;
	char *title = composer_clean(st->title && *st->title ? st->title : "Service incident");
	const char *svc_raw = composer_service(cm->c, st);
	char *service = svc_raw ? composer_clean(svc_raw) : xstrdup("the service");
	int64_t began = st->declared ? st->declared : ctx->now_ms;
	int64_t end = st->resolved && state == 3 ? st->resolved : ctx->now_ms;
	char at[16] = "--:--", dur[64];
	time_t secs = (time_t)(began / 1000);
	struct tm tm;
	if (gmtime_r(&secs, &tm))
		strftime(at, sizeof at, "%H:%M", &tm);
	composer_duration(end - began, dur, sizeof dur);
	int next = cm->c->cfg && cm->c->cfg->cadence_external > 0 ? cm->c->cfg->cadence_external : 30;
	char *sev = composer_clean(st->severity ? st->severity : "");
	char *since = composer_since(st);
	char *m;
	switch (state) {
	case 0:
		m = xasprintf("%s: we are investigating elevated errors affecting %s since %s UTC "
			      "(%s). Impact: %s%s%s%s.%s Next update within %d minutes.",
			      title, service, at, dur, composer_impact(st->severity),
			      *sev ? " (" : "", sev, *sev ? ")" : "", since, next);
		break;
	case 1:
		m = xasprintf("%s: we have identified the cause of the errors affecting %s and are "
			      "applying a fix. Started %s UTC, %s ago.%s Next update within %d "
			      "minutes.", title, service, at, dur, since, next);
		break;
	case 2:
		m = xasprintf("%s: a fix has been applied to %s and we are monitoring the results. "
			      "Started %s UTC, %s ago.%s Next update within %d minutes.",
			      title, service, at, dur, since, next);
		break;
	default:
		m = xasprintf("%s: this incident has been resolved and %s is operating normally. "
			      "It began at %s UTC and lasted %s.%s", title, service, at, dur, since);
		break;
	}
	free(since);
	free(title);
	free(service);
	free(sev);
	return m;
}

/* May the user post to this audience? The server decides; this only warns
 * ahead (the same rule: IC posts anywhere, Comms roles to their audience). */
static bool composer_may_post(const struct pane_ctx *ctx, const char *audience)
{
	const char *me = ctx->me;
	if (!me || !*me)
		return false;
	if (state_user_holds(ctx->st, me, ROLE_IC))
		return true;
	if (str_eq(audience, "internal"))
		return state_user_holds(ctx->st, me, ROLE_INTERNAL_COMMS);
	return state_user_holds(ctx->st, me, ROLE_EXTERNAL_COMMS);
}

static bool composer_in_choice(const struct composer *cm, int choice, size_t i)
{
	const struct composer_target *t = cm->targets.v[i];
	switch (choice) {
	case CHOICE_ALL: return true;
	case CHOICE_EXTERNAL: return !str_eq(t->audience, "internal");
	case CHOICE_INTERNAL: return str_eq(t->audience, "internal");
	default: return (size_t)choice == i;
	}
}

static char *composer_choice_label(const struct composer *cm, int choice)
{
	size_t n = 0;
	for (size_t i = 0; i < cm->targets.n; i++)
		n += composer_in_choice(cm, choice, i);
	switch (choice) {
	case CHOICE_ALL: return xasprintf("all targets (%zu)", n);
	case CHOICE_EXTERNAL: return xasprintf("external only (%zu)", n);
	case CHOICE_INTERNAL: return xasprintf("internal only (%zu)", n);
	default: {
		const struct composer_target *t = cm->targets.v[choice];
		return xasprintf("%s only", t->name);
	}
	}
}

/* ---- lines of the overlay: size and draw share them ------------------------ */

struct cline {
	char *text;
	enum theme_role role;
	attr_t extra;
	int indent;
};

static void cl_add(struct ptrvec *v, int indent, enum theme_role role, attr_t extra, char *text)
{
	struct cline *l = xcalloc(1, sizeof *l);
	l->text = text;
	l->role = role;
	l->extra = extra;
	l->indent = indent;
	ptrvec_push(v, l);
}

static void cl_free(void *p)
{
	struct cline *l = p;
	free(l->text);
	free(l);
}

/* Word-wraps text into lines of at most width columns. */
static void cl_wrap(struct ptrvec *v, int indent, int width, enum theme_role role, attr_t extra,
		    const char *text, int max_rows)
{
	char *clean = composer_clean(text);
	const char *s = clean;
	int rows = 0;
	if (width < 1)
		width = 1;
	while (*s && rows < max_rows) {
		size_t fit = text_fit(s, width);
		if (fit == 0)
			fit = 1;
		if (s[fit] && rows < max_rows - 1) {
			size_t sp = fit;
			while (sp > 0 && s[sp] != ' ')
				sp--;
			if (sp > fit / 2)
				fit = sp;
		} else if (s[fit]) {
			fit = strlen(s); /* the last row allowed: clipped when drawn */
		}
		cl_add(v, indent, role, extra, xstrndup(s, fit));
		rows++;
		s += fit;
		while (*s == ' ')
			s++;
	}
	if (!rows)
		cl_add(v, indent, THEME_DIM, 0, xstrdup("(empty: e to write one)"));
	free(clean);
}

/* The body, for an inner width of `width` columns. The state row is made
 * by draw itself (it has per-item colours); here it is a placeholder. */
static void composer_lines(const struct composer *cm, const struct pane_ctx *ctx, int width,
			   struct ptrvec *out)
{
	const char *arrow = pane_glyph(ctx, GLYPH_ARROW);
	cl_add(out, 0, THEME_OVERLAY, 0, NULL); /* state row */
	char *label = composer_choice_label(cm, cm->choices[cm->choice]);
	cl_add(out, 0, THEME_OVERLAY, 0, xasprintf("To       %s", label));
	free(label);
	cl_add(out, 0, THEME_OVERLAY, 0, xstrdup(""));
	cl_add(out, 0, THEME_OVERLAY, A_BOLD,
	       xasprintf("Message%s", cm->edited ? " (edited)" : " (drafted from the incident)"));
	cl_wrap(out, 2, width - 2, THEME_PROMPT, 0, cm->message, COMPOSER_MAX_MSG_ROWS);
	cl_add(out, 0, THEME_OVERLAY, 0, xstrdup(""));

	int choice = cm->choices[cm->choice];
	size_t n = 0;
	for (size_t i = 0; i < cm->targets.n; i++)
		n += composer_in_choice(cm, choice, i);
	char up[32];
	snprintf(up, sizeof up, "%s", composer_states[cm->state]);
	for (char *p = up; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 32);
	if (!cm->targets.n) {
		cl_add(out, 0, THEME_ERROR, 0,
		       xstrdup("No [status NAME] targets are configured: the server will refuse."));
	} else {
		cl_add(out, 0, THEME_OVERLAY, A_BOLD,
		       xasprintf("Preview: Enter sends %s with this message to %zu target%s", up, n,
				 n == 1 ? "" : "s"));
		for (size_t i = 0; i < cm->targets.n; i++) {
			if (!composer_in_choice(cm, choice, i))
				continue;
			const struct composer_target *t = cm->targets.v[i];
			bool ok = composer_may_post(ctx, t->audience);
			const char *need = str_eq(t->audience, "internal") ? "Internal Comms" : "External Comms";
			char *line = xasprintf("%s %-18s %-10s %-8s%s%s%s", arrow, t->name, t->type,
					       t->audience, ok ? "" : "  needs ", ok ? "" : need,
					       ok ? "" : " or IC");
			cl_add(out, 2, ok ? THEME_OVERLAY : THEME_OVERDUE, 0, line);
		}
	}
	if (!ctx->operator)
		cl_add(out, 0, THEME_OVERDUE, 0,
		       xstrdup("You are attached read-only or not an operator: the server will refuse."));
	if (cm->ticket)
		cl_add(out, 0, THEME_STATUS, 0, xstrdup("sending..."));
	if (cm->error)
		cl_wrap(out, 0, width, THEME_ERROR, A_BOLD, cm->error, 3);
	cl_add(out, 0, THEME_OVERLAY, 0, xstrdup(""));
	cl_add(out, 0, THEME_DIM, 0,
	       xstrdup("Enter send  Esc cancel  Left/Right or 1-4 state  t target  e edit  d redraft"));
}

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void composer_size(void *ov, const struct pane_ctx *ctx, int max_h, int max_w, int *h,
			  int *w)
{
	struct composer *cm = ov;
	*w = clampi(max_w - 4, 1, 96);
	if (*w < 44)
		*w = max_w;
	struct ptrvec lines = {0};
	composer_lines(cm, ctx, *w - 4, &lines);
	*h = clampi((int)lines.n + 2, 1, max_h);
	ptrvec_free(&lines, cl_free);
}

static void composer_draw_states(const struct composer *cm, const struct pane_ctx *ctx,
				 WINDOW *win, int y, int x, int width)
{
	attr_t a = pane_attr(ctx, THEME_OVERLAY);
	int n = pane_put(win, y, x, width, a, "State    ");
	for (int i = 0; i < COMPOSER_STATES && n < width; i++) {
		attr_t ia = i == cm->state ? pane_attr(ctx, THEME_SELECTION) | A_BOLD : a;
		char item[32];
		snprintf(item, sizeof item, " %d %s ", i + 1, composer_states[i]);
		n += pane_put(win, y, x + n, width - n, ia, item);
		n += pane_put(win, y, x + n, width - n, a, " ");
	}
}

static void composer_draw(void *ov, const struct pane_ctx *ctx, WINDOW *win)
{
	struct composer *cm = ov;
	int h = getmaxy(win), w = getmaxx(win);
	attr_t a = pane_attr(ctx, THEME_OVERLAY);
	for (int y = 0; y < h; y++)
		pane_fill(win, y, 0, w, a);
	bool boxed = h >= 3 && w >= 8;
	if (boxed)
		pane_box(win, ctx, pane_attr(ctx, THEME_OVERLAY_BORDER), "STATUS UPDATE");
	int top = boxed ? 1 : 0, x = boxed ? 2 : 0;
	int width = w - 2 * x, rows = h - 2 * top;
	struct ptrvec lines = {0};
	composer_lines(cm, ctx, width, &lines);
	/* Too short for everything: the key help stays on the last row. */
	for (int r = 0; r < rows && (size_t)r < lines.n; r++) {
		size_t i = (size_t)r;
		if (r == rows - 1 && lines.n > (size_t)rows)
			i = lines.n - 1;
		const struct cline *l = lines.v[i];
		if (!l->text) {
			composer_draw_states(cm, ctx, win, top + r, x, width);
			continue;
		}
		pane_put(win, top + r, x + l->indent, width - l->indent,
			 pane_attr(ctx, l->role) | l->extra, l->text);
	}
	ptrvec_free(&lines, cl_free);
}

/* ---- sending ------------------------------------------------------------------ */

static void composer_ticket_free(struct composer_ticket *t)
{
	ptrvec_free(&t->sent, free);
	sbuf_free(&t->errors);
	free(t->state);
	free(t);
}

/* Closes the composer from outside its key handler (a reply arrived). */
static void composer_close(struct composer *cm)
{
	if (cm->in_key) {
		cm->close_now = true;
		return;
	}
	struct console *c = cm->c;
	if (c->nov && c->ov[c->nov - 1].ov == cm)
		console_close_overlay(c);
	else
		cm->close_now = true; /* something sits above it: closes on its next key */
}

static void composer_replied(void *arg, bool ok, const char *error, const cJSON *result)
{
	struct composer_ticket *t = arg;
	if (ok) {
		const cJSON *list = result ? cJSON_GetObjectItemCaseSensitive(result, "updates") : NULL;
		const cJSON *it;
		cJSON_ArrayForEach(it, list) {
			const cJSON *tg = cJSON_GetObjectItemCaseSensitive(it, "target");
			if (cJSON_IsString(tg))
				ptrvec_push(&t->sent, composer_clean(tg->valuestring));
		}
	} else {
		char *clean = composer_clean(error ? error : "refused");
		if (t->errors.len)
			sbuf_adds(&t->errors, "; ");
		sbuf_adds(&t->errors, clean);
		free(clean);
	}
	if (--t->outstanding > 0)
		return;

	struct sbuf sent;
	sbuf_init(&sent);
	for (size_t i = 0; i < t->sent.n; i++)
		sbuf_printf(&sent, "%s%s", i ? ", " : "", (char *)t->sent.v[i]);
	struct composer *cm = t->cm;
	if (cm) {
		cm->ticket = NULL;
		if (t->errors.len) {
			free(cm->error);
			cm->error = t->sent.n ? xasprintf("queued for %s; refused: %s", sent.buf, t->errors.buf)
					      : xasprintf("refused: %s", t->errors.buf);
			console_dirty(t->c);
		} else {
			composer_close(cm);
		}
	}
	if (!t->errors.len)
		console_message(t->c, false, "status update (%s) queued for %s", t->state,
				t->sent.n ? sent.buf : "no target");
	else if (!cm)
		console_message(t->c, true, "status update %s: %s", t->sent.n ? "partly refused" : "refused",
				t->errors.buf);
	sbuf_free(&sent);
	composer_ticket_free(t);
}

static void composer_send(struct composer *cm, const struct pane_ctx *ctx)
{
	if (cm->ticket)
		return;
	if (!cm->message || !*cm->message) {
		str_set(&cm->error, "the message is empty: e writes one, d drafts it again");
		return;
	}
	int choice = cm->choices[cm->choice];
	struct ptrvec names = {0}; /* const char*: one intent each; empty: one for all */
	if (choice != CHOICE_ALL)
		for (size_t i = 0; i < cm->targets.n; i++)
			if (composer_in_choice(cm, choice, i))
				ptrvec_push(&names, ((struct composer_target *)cm->targets.v[i])->name);
	if (choice != CHOICE_ALL && !names.n) {
		str_set(&cm->error, "no target in this choice: t picks another");
		ptrvec_free(&names, NULL);
		return;
	}
	free(cm->error);
	cm->error = NULL;
	struct composer_ticket *t = xcalloc(1, sizeof *t);
	t->cm = cm;
	t->c = cm->c;
	t->state = xstrdup(composer_states[cm->state]);
	sbuf_init(&t->errors);
	int count = names.n ? (int)names.n : 1;
	t->outstanding = count;
	cm->ticket = t;
	/* Replies may come at once (not connected): the ticket counts them all
	 * before the first goes out. */
	for (int i = 0; i < count; i++) {
		cJSON *args = cJSON_CreateObject();
		cJSON_AddStringToObject(args, "state", composer_states[cm->state]);
		cJSON_AddStringToObject(args, "message", cm->message);
		if (names.n)
			cJSON_AddStringToObject(args, "target", names.v[i]);
		ctx->ui->intent_cb(ctx->ui, "update", args, composer_replied, t);
	}
	ptrvec_free(&names, NULL);
}

/* ---- keys -------------------------------------------------------------------- */

static void composer_set_state(struct composer *cm, const struct pane_ctx *ctx, int state)
{
	cm->state = (state + COMPOSER_STATES) % COMPOSER_STATES;
	if (!cm->edited) {
		free(cm->message);
		cm->message = composer_template(cm, ctx, cm->state);
	}
}

static void composer_edited(void *arg, const char *text)
{
	struct composer *cm = arg;
	if (!text)
		return;
	while (*text == ' ')
		text++;
	if (!*text)
		return; /* an emptied prompt keeps the message; d redrafts */
	str_set(&cm->message, text);
	cm->edited = true;
	free(cm->error);
	cm->error = NULL;
	console_dirty(cm->c);
}

static unsigned composer_key_inner(struct composer *cm, const struct pane_ctx *ctx, int key)
{
	if (key == KEY_ESC || key == 'q') {
		if (!cm->ticket)
			console_message(cm->c, false, "status update not sent");
		return PANE_CLOSE | PANE_REDRAW;
	}
	if (cm->ticket)
		return PANE_REDRAW; /* waiting for the server */
	switch (key) {
	case '\r': case '\n': case KEY_ENTER: case 'y':
		composer_send(cm, ctx);
		break;
	case KEY_LEFT: case 'h':
		composer_set_state(cm, ctx, cm->state - 1);
		break;
	case KEY_RIGHT: case 'l':
		composer_set_state(cm, ctx, cm->state + 1);
		break;
	case '1': case '2': case '3': case '4':
		composer_set_state(cm, ctx, key - '1');
		break;
	case 't': case '\t': case KEY_DOWN: case 'j':
		cm->choice = (cm->choice + 1) % cm->nchoices;
		break;
	case 'T': case KEY_BTAB: case KEY_UP: case 'k':
		cm->choice = (cm->choice + cm->nchoices - 1) % cm->nchoices;
		break;
	case 'e': case 'i':
		ctx->ui->prompt(ctx->ui, "Message:", cm->message, composer_edited, cm);
		break;
	case 'd':
		cm->edited = false;
		composer_set_state(cm, ctx, cm->state);
		break;
	default:
		break;
	}
	return PANE_REDRAW; /* modal: every key stops here */
}

static unsigned composer_key(void *ov, const struct pane_ctx *ctx, int key)
{
	struct composer *cm = ov;
	if (cm->close_now)
		return PANE_CLOSE | PANE_REDRAW;
	cm->in_key = true;
	unsigned r = composer_key_inner(cm, ctx, key);
	cm->in_key = false;
	if (cm->close_now)
		r |= PANE_CLOSE;
	return r;
}

static unsigned composer_on_event(void *ov, const struct pane_ctx *ctx, const struct wr_event *ev)
{
	/* Roles change who may post where: the preview says so at once. */
	return PANE_REDRAW;
}

static void composer_target_free(void *p)
{
	struct composer_target *t = p;
	free(t->name);
	free(t->type);
	free(t->audience);
	free(t);
}

static void composer_free(void *ov)
{
	struct composer *cm = ov;
	if (cm->ticket)
		cm->ticket->cm = NULL; /* its replies still come; they go to the status line */
	free(cm->message);
	free(cm->error);
	ptrvec_free(&cm->targets, composer_target_free);
	free(cm);
}

static const struct overlay_class composer_class = {
	.name = "composer",
	.size = composer_size,
	.draw = composer_draw,
	.key = composer_key,
	.on_event = composer_on_event,
	.free = composer_free,
};

void composer_open(const struct pane_ctx *ctx)
{
	struct console *c = ctx->ui->arg;
	struct composer *cm = xcalloc(1, sizeof *cm);
	cm->c = c;
	bool ext = false, intl = false;
	for (size_t i = 0; c->cfg && i < c->cfg->sections.n; i++) {
		const struct config_section *sec = c->cfg->sections.v[i];
		if (!str_eq(sec->family, "status"))
			continue;
		const char *aud = config_get(sec, "audience");
		struct composer_target *t = xcalloc(1, sizeof *t);
		t->name = composer_clean(sec->name);
		t->type = composer_clean(sec->type ? sec->type : "?");
		t->audience = xstrdup(str_eq(aud, "internal") ? "internal" : "external");
		if (str_eq(t->audience, "internal"))
			intl = true;
		else
			ext = true;
		ptrvec_push(&cm->targets, t);
	}
	cm->choices[cm->nchoices++] = CHOICE_ALL;
	if (ext && intl) {
		cm->choices[cm->nchoices++] = CHOICE_EXTERNAL;
		cm->choices[cm->nchoices++] = CHOICE_INTERNAL;
	}
	for (size_t i = 0; i < cm->targets.n && cm->nchoices < 64 && cm->targets.n > 1; i++)
		cm->choices[cm->nchoices++] = (int)i;
	/* Start at the incident's own state: most updates repeat it. */
	int st = (int)ctx->st->inc_state - INC_INVESTIGATING;
	composer_set_state(cm, ctx, st >= 0 && st < COMPOSER_STATES ? st : 0);
	ctx->ui->open_overlay(ctx->ui, &composer_class, cm);
}
