/* The console: one libevent loop driving the terminal (keys, resize, a one
 * second clock) and the session client. Handlers only change state and mark
 * the screen dirty; a draw event they activate runs once per loop pass after
 * them, every window is staged with wnoutrefresh and the terminal is written
 * by one doupdate, so an idle screen costs only the clock's few bytes a
 * second. */
#include <errno.h>
#include <event2/event.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/text.h"
#include "core/util.h"
#include "tui/console.h"
#include "tui/replay.h"

#define STATUS_MS 6000
#define POINT_MS 5000

struct state *console_state(struct console *c)
{
	return c->client ? client_state(c->client) : c->empty;
}

void console_dirty(struct console *c)
{
	c->dirty = true;
	c->partial = 0;
	if (c->ev_draw)
		event_active(c->ev_draw, EV_TIMEOUT, 1);
}

/* A change that shows in some parts alone (a note in the comms log, the
 * clock in the header): unless the whole screen is already due, only those
 * are drawn, so a busy incident costs a pane per note on every attached
 * console, not the screen, and an idle one the header once a second. */
static void console_dirty_parts(struct console *c, unsigned parts)
{
	if (c->dirty && !c->partial)
		return;
	c->dirty = true;
	c->partial |= parts;
	if (c->ev_draw)
		event_active(c->ev_draw, EV_TIMEOUT, 1);
}

void console_message(struct console *c, bool error, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->status, sizeof c->status, fmt, ap);
	va_end(ap);
	c->status_error = error;
	c->status_until = time_mono_ms() + (error ? 2 * STATUS_MS : STATUS_MS);
	console_dirty(c);
}

void console_refresh_ctx(struct console *c)
{
	struct pane_ctx *x = &c->ctx;
	x->st = console_state(c);
	/* a replay's clock is the recording's, where playback has reached */
	x->now_ms = c->opts->replay && replay_console_now(c) ? replay_console_now(c) : time_now_ms();
	x->utf8 = c->utf8;
	x->theme = c->theme;
	const char *me = c->client ? client_user(c->client) : NULL;
	x->me = me ? me : "";
	x->operator = c->client && client_is_operator(c->client) && !c->opts->read_only;
	x->ui = &c->ui;
	bool pointing = c->point_target && time_mono_ms() < c->point_until;
	x->point_target = pointing ? c->point_target : NULL;
	x->point_by = pointing ? c->point_by : NULL;
}

struct pane *console_pane(struct console *c, const char *name)
{
	int i = pane_class_index(name);
	return i >= 0 && i < LAYOUT_PANES ? &c->panes[i] : NULL;
}

void console_focus(struct console *c, int index)
{
	if (index < 0 || index >= LAYOUT_PANES)
		return;
	if (c->focus != index && !c->lay.full)
		c->layout_dirty = true; /* one-pane layout shows the focused pane */
	c->focus = index;
	for (int i = 0; i < LAYOUT_PANES; i++)
		c->panes[i].focused = i == index;
	console_dirty(c);
}

/* ---- intents and replies -------------------------------------------------- */

int console_intent(struct console *c, const char *name, cJSON *args, ui_reply_fn cb, void *arg)
{
	if (!c->client || c->quit) {
		cJSON_Delete(args);
		console_message(c, true, "%s: not connected", name);
		if (cb)
			cb(arg, false, "not connected", NULL);
		return -1;
	}
	if (c->npending == CONSOLE_MAX_PENDING) {
		cJSON_Delete(args);
		console_message(c, true, "%s: too many requests waiting for the server", name);
		if (cb)
			cb(arg, false, "busy", NULL);
		return -1;
	}
	int id = client_intent(c->client, name, args ? args : cJSON_CreateObject());
	struct console_pending *p = &c->pending[c->npending++];
	p->id = id;
	p->intent = xstrdup(name);
	p->cb = cb;
	p->arg = arg;
	return id;
}

static void on_reply(struct client *cl, int id, bool ok, const char *error, const cJSON *result,
		     void *arg)
{
	struct console *c = arg;
	for (int i = 0; i < c->npending; i++) {
		if (c->pending[i].id != id)
			continue;
		struct console_pending p = c->pending[i];
		c->pending[i] = c->pending[--c->npending];
		if (!ok)
			console_message(c, true, "%s refused: %s", p.intent, error ? error : "no reason given");
		else if (!p.cb && strcmp(p.intent, "point") != 0)
			console_message(c, false, "%s: done", p.intent);
		if (p.cb)
			p.cb(p.arg, ok, error, result);
		free(p.intent);
		break;
	}
	console_dirty(c);
}

/* ---- ui_ops for panes ------------------------------------------------------- */

static struct console *ui_console(const struct ui_ops *ui)
{
	return ui->arg;
}

static int ui_intent(const struct ui_ops *ui, const char *name, cJSON *args)
{
	return console_intent(ui_console(ui), name, args, NULL, NULL);
}

static int ui_intent_cb(const struct ui_ops *ui, const char *name, cJSON *args, ui_reply_fn cb,
			void *arg)
{
	return console_intent(ui_console(ui), name, args, cb, arg);
}

static void ui_details(const struct ui_ops *ui, const char *title, const char *const *lines, size_t n)
{
	details_open(ui_console(ui), title, lines, n);
}

static void ui_confirm(const struct ui_ops *ui, const char *q, const char *detail, ui_confirm_fn cb,
		       void *arg)
{
	confirm_open(ui_console(ui), q, detail, cb, arg);
}

static void ui_prompt(const struct ui_ops *ui, const char *label, const char *def, ui_prompt_fn cb,
		      void *arg)
{
	prompt_open(ui_console(ui), label, def, cb, arg);
}

static void ui_choose(const struct ui_ops *ui, const char *title, const char *const *items, size_t n,
		      int def, ui_choose_fn cb, void *arg)
{
	choose_open(ui_console(ui), title, items, n, def, cb, arg);
}

static void ui_message(const struct ui_ops *ui, const char *text)
{
	console_message(ui_console(ui), false, "%s", text);
}

static bool ui_focus_pane(const struct ui_ops *ui, const char *name)
{
	int i = pane_class_index(name);
	if (i < 0)
		return false;
	console_focus(ui_console(ui), i);
	return true;
}

static void ui_open_overlay(const struct ui_ops *ui, const struct overlay_class *cls, void *ov)
{
	console_open_overlay(ui_console(ui), cls, ov);
}

static void ui_rollback(const struct ui_ops *ui, const char *service, const char *to)
{
	cmdline_rollback(ui_console(ui), service, to);
}

/* ---- overlays ---------------------------------------------------------------- */

void console_open_overlay(struct console *c, const struct overlay_class *cls, void *ov)
{
	if (c->nov == CONSOLE_MAX_OVERLAYS || c->quit) {
		cls->free(ov);
		return;
	}
	c->ov[c->nov++] = (struct console_overlay){.cls = cls, .ov = ov};
	console_dirty(c);
}

static void close_overlay_at(struct console *c, int i)
{
	struct console_overlay o = c->ov[i];
	memmove(&c->ov[i], &c->ov[i + 1], (size_t)(c->nov - i - 1) * sizeof c->ov[0]);
	c->nov--;
	if (o.win)
		delwin(o.win);
	o.cls->free(o.ov);
	console_dirty(c);
}

void console_close_overlay(struct console *c)
{
	if (c->nov)
		close_overlay_at(c, c->nov - 1);
}

/* ---- quitting, themes, follow --------------------------------------------------- */

static void quit_confirmed(void *arg, bool yes)
{
	struct console *c = arg;
	if (yes) {
		c->quit = true;
		event_base_loopbreak(c->base);
	}
}

void console_request_quit(struct console *c)
{
	const struct state *st = console_state(c);
	int mine = c->client ? client_id(c->client) : -1;
	bool me_operator = c->client && client_is_operator(c->client) && !c->opts->read_only;
	int others = 0;
	for (size_t i = 0; i < st->clients.n; i++) {
		const struct client_info *ci = st->clients.v[i];
		if (ci->id != mine && str_eq(ci->mode, "operator"))
			others++;
	}
	if (me_operator && others == 0 && client_is_synced(c->client)) {
		confirm_open(c, "You are the last operator attached; quit anyway?",
			     "The session keeps running; anyone can attach again later.",
			     quit_confirmed, c);
		return;
	}
	quit_confirmed(c, true);
}

void console_repaint(struct console *c)
{
	clearok(curscr, TRUE);
	/* panes that keep their window (pane_rows) draw all of it again too */
	for (int i = 0; i < LAYOUT_PANES; i++)
		c->panes[i].win_gen++;
	console_dirty(c);
}

void console_set_theme(struct console *c, const char *name)
{
	char err[300];
	struct theme *t = theme_load(name, err, sizeof err);
	if (!t) {
		console_message(c, true, "theme: %s", err);
		return;
	}
	theme_apply(t);
	theme_free(c->theme);
	c->theme = t;
	/* Everything changes colour: repaint every cell. */
	console_repaint(c);
	console_message(c, false, "theme %s", t->name);
}

static void follow_apply(struct console *c);

void console_follow(struct console *c, const char *user)
{
	free(c->follow_user);
	c->follow_user = NULL;
	if (user) {
		const struct state *st = console_state(c);
		int mine = c->client ? client_id(c->client) : -1;
		bool present = false;
		for (size_t i = 0; i < st->clients.n && !present; i++) {
			const struct client_info *ci = st->clients.v[i];
			present = ci->id != mine && str_eq(ci->user, user);
		}
		char *who = text_sanitize(user, c->utf8);
		if (!present) {
			bool me = c->client && str_eq(user, client_user(c->client));
			console_message(c, true, "follow: %s is not attached%s", who,
					me ? " on another terminal" : "");
		} else {
			c->follow_user = xstrdup(user);
			console_message(c, false, "following %s (any key stops)", who);
			follow_apply(c);
		}
		free(who);
	}
	console_dirty(c);
}

/* Tracks the followed person's focus ("pane|target") as the server reports it. */
static void follow_apply(struct console *c)
{
	if (!c->follow_user)
		return;
	const struct state *st = console_state(c);
	const struct client_info *best = NULL;
	int mine = c->client ? client_id(c->client) : -1;
	bool present = false;
	/* Never my own terminal: following "myself" means my other terminal. */
	for (size_t i = 0; i < st->clients.n; i++) {
		const struct client_info *ci = st->clients.v[i];
		if (ci->id == mine || !str_eq(ci->user, c->follow_user))
			continue;
		present = true;
		if (ci->focus && (!best || ci->last_active > best->last_active))
			best = ci;
	}
	if (!present && c->client && client_is_synced(c->client)) {
		char *who = text_sanitize(c->follow_user, c->utf8);
		console_follow(c, NULL);
		console_message(c, false, "%s is no longer attached; stopped following", who);
		free(who);
		return;
	}
	if (!best)
		return;
	char buf[512];
	snprintf(buf, sizeof buf, "%s", best->focus);
	char *bar = strchr(buf, '|');
	if (bar)
		*bar = 0;
	int idx = pane_class_index(buf);
	if (idx < 0)
		return;
	console_focus(c, idx);
	struct pane *p = &c->panes[idx];
	console_refresh_ctx(c);
	if (bar && p->cls->select)
		p->cls->select(p, &c->ctx, bar + 1);
}

/* Tells the server where I am looking, for people following me. */
static void focus_report(struct console *c)
{
	if (!c->client || !client_is_synced(c->client))
		return;
	struct pane *p = &c->panes[c->focus];
	char sel[400] = "";
	console_refresh_ctx(c);
	if (p->cls->selection)
		p->cls->selection(p, &c->ctx, sel, sizeof sel);
	char focus[512];
	snprintf(focus, sizeof focus, "%s|%s", p->cls->name, sel);
	if (str_eq(focus, c->sent_focus))
		return;
	str_set(&c->sent_focus, focus);
	client_send_focus(c->client, focus);
}

/* ---- client callbacks ------------------------------------------------------------- */

static void on_event(struct client *cl, const struct wr_event *ev, void *arg)
{
	struct console *c = arg;
	console_refresh_ctx(c);
	for (int i = 0; i < LAYOUT_PANES; i++) {
		struct pane *p = &c->panes[i];
		if (p->cls->on_event)
			p->cls->on_event(p, &c->ctx, ev);
	}
	for (int i = 0; i < c->nov; i++)
		if (c->ov[i].cls->on_event)
			c->ov[i].cls->on_event(c->ov[i].ov, &c->ctx, ev);
	if (ev && ev->kind == EV_NOTE)
		console_dirty_parts(c, 1u << (LAYOUT_PANES - 1)); /* the comms log */
	else
		console_dirty(c);
}

static void on_synced(struct client *cl, void *arg)
{
	struct console *c = arg;
	if (!strncmp(c->status, "connecting", 10))
		c->status[0] = 0;
	on_event(cl, NULL, arg);
}

static void on_ephemeral(struct client *cl, void *arg)
{
	struct console *c = arg;
	follow_apply(c);
	console_dirty(c);
}

static void on_point(struct client *cl, const char *by, const char *target, void *arg)
{
	struct console *c = arg;
	str_set(&c->point_target, target);
	str_set(&c->point_by, by);
	c->point_until = time_mono_ms() + POINT_MS;
	/* An alert reads better by name than by fingerprint. */
	const struct alert *a = strncmp(target, "alert:", 6) == 0
		? state_find_alert(console_state(c), target + 6) : NULL;
	char *what = a && a->name ? xasprintf("alert %s (%s)", a->name, a->service ? a->service : "?")
		: xstrdup(target);
	char *clean = text_sanitize(what, c->utf8);
	char *who = text_sanitize(by, c->utf8);
	console_message(c, false, "%s points at %s", who, clean);
	free(what);
	free(clean);
	free(who);
}

static void on_close(struct client *cl, const char *reason, void *arg)
{
	struct console *c = arg;
	str_set(&c->close_reason, reason ? reason : "the session ended");
	if (!c->quit)
		c->exit_code = 1;
	c->quit = true;
	event_base_loopbreak(c->base);
}

/* ---- terminal ------------------------------------------------------------------------- */

static void windows_free(struct console *c)
{
	WINDOW **ws[] = {&c->w_header, &c->w_banner, &c->w_keybar};
	for (size_t i = 0; i < sizeof ws / sizeof ws[0]; i++)
		if (*ws[i]) {
			delwin(*ws[i]);
			*ws[i] = NULL;
		}
	for (int i = 0; i < LAYOUT_PANES; i++)
		if (c->panes[i].win) {
			delwin(c->panes[i].win);
			c->panes[i].win = NULL;
		}
	for (int i = 0; i < c->nov; i++)
		if (c->ov[i].win) {
			delwin(c->ov[i].win);
			c->ov[i].win = NULL;
		}
}

/* The cursor is hidden (curs_set(0)), so no window asks curses to put it
 * anywhere: an update then ends where its last cell went, without one more
 * cursor move to work out and send. */
static WINDOW *win_new(int h, int w, int y, int x)
{
	WINDOW *win = newwin(h, w, y, x);
	if (win)
		leaveok(win, TRUE);
	return win;
}

static WINDOW *win_for(const struct layout_rect *r)
{
	if (r->h <= 0 || r->w <= 0)
		return NULL;
	return win_new(r->h, r->w, r->y, r->x);
}

static void layout_apply(struct console *c, bool banner)
{
	int rows, cols;
	getmaxyx(stdscr, rows, cols);
	windows_free(c);
	layout_compute(&c->lay, cols, rows, c->focus, banner);
	c->lay_banner = banner;
	c->w_header = win_for(&c->lay.header);
	c->w_banner = win_for(&c->lay.banner);
	c->w_keybar = win_for(&c->lay.keybar);
	for (int i = 0; i < LAYOUT_PANES; i++) {
		struct pane *p = &c->panes[i];
		const struct layout_rect *r = &c->lay.pane[i];
		p->win = win_for(r);
		p->win_gen++;
		p->visible = p->win != NULL;
		p->y = r->y, p->x = r->x, p->h = r->h, p->w = r->w;
	}
	c->layout_dirty = false;
}

static void overlay_place(struct console *c, struct console_overlay *o)
{
	int rows = c->lay.rows, cols = c->lay.cols;
	int h = rows, w = cols;
	if (o->cls->size)
		o->cls->size(o->ov, &c->ctx, rows, cols, &h, &w);
	if (h > rows)
		h = rows;
	if (w > cols)
		w = cols;
	if (h < 1 || w < 1) {
		if (o->win)
			delwin(o->win);
		o->win = NULL;
		return;
	}
	if (!o->win || o->h != h || o->w != w) {
		if (o->win)
			delwin(o->win);
		o->win = win_new(h, w, (rows - h) / 2, (cols - w) / 2);
		o->h = h, o->w = w;
	}
}

static void console_draw(struct console *c)
{
	if (!c->curses_on || c->quit)
		return;
	unsigned partial = c->partial;
	c->dirty = false;
	c->partial = 0;
	console_refresh_ctx(c);
	/* the demo's row of guidance shares the approval banner's row */
	bool banner = screen_pending_action(c->ctx.st) != NULL || c->opts->demo;
	if (partial && !c->layout_dirty && banner == c->lay_banner && !c->nov &&
	    (!(partial & CONSOLE_PART_HEADER) || c->w_header)) {
		if (partial & CONSOLE_PART_HEADER) {
			werase(c->w_header);
			screen_draw_header(c, c->w_header);
			wnoutrefresh(c->w_header);
		}
		for (int i = 0; i < LAYOUT_PANES; i++) {
			struct pane *p = &c->panes[i];
			if (!(partial & (1u << i)) || !p->win)
				continue;
			/* the screen still holds what a kept window drew last */
			if (!p->cls->keeps_window)
				werase(p->win);
			p->cls->draw(p, &c->ctx);
			wnoutrefresh(p->win);
		}
		doupdate();
		c->frames++;
		return;
	}
	c->drawn_minute = time_now_ms() / 60000;
	if (c->layout_dirty || banner != c->lay_banner)
		layout_apply(c, banner);
	if (c->status[0] && c->status_until && time_mono_ms() >= c->status_until)
		c->status[0] = 0;

	werase(stdscr);
	screen_draw_frame(c);
	wnoutrefresh(stdscr);
	WINDOW *bars[] = {c->w_header, c->w_banner, c->w_keybar};
	void (*drawers[])(struct console *, WINDOW *) = {screen_draw_header, screen_draw_banner,
							 screen_draw_keybar};
	for (int i = 0; i < 3; i++)
		if (bars[i]) {
			werase(bars[i]);
			drawers[i](c, bars[i]);
			wnoutrefresh(bars[i]);
		}
	for (int i = 0; i < LAYOUT_PANES; i++) {
		struct pane *p = &c->panes[i];
		if (!p->win)
			continue;
		/* stdscr was just staged over it: a kept window is staged whole */
		if (p->cls->keeps_window)
			touchwin(p->win);
		else
			werase(p->win);
		p->cls->draw(p, &c->ctx);
		wnoutrefresh(p->win);
	}
	for (int i = 0; i < c->nov; i++) {
		struct console_overlay *o = &c->ov[i];
		overlay_place(c, o);
		if (!o->win)
			continue;
		werase(o->win);
		o->cls->draw(o->ov, &c->ctx, o->win);
		wnoutrefresh(o->win);
	}
	doupdate();
	c->frames++;
}

static void draw_cb(evutil_socket_t fd, short what, void *arg)
{
	struct console *c = arg;
	if (c->dirty)
		console_draw(c);
}

static void console_key(struct console *c, int key)
{
	if (key == KEY_RESIZE) {
		c->layout_dirty = true;
		console_dirty(c);
		return;
	}
	if (c->follow_user) {
		console_follow(c, NULL);
		console_message(c, false, "stopped following");
		return;
	}
	/* A message stays until the next key (or its timeout). */
	c->status[0] = 0;
	console_refresh_ctx(c);
	if (c->nov) {
		struct console_overlay *o = &c->ov[c->nov - 1];
		void *ov = o->ov;
		unsigned r = o->cls->key(ov, &c->ctx, key);
		if (r & PANE_CLOSE)
			for (int i = c->nov - 1; i >= 0; i--)
				if (c->ov[i].ov == ov) {
					close_overlay_at(c, i);
					break;
				}
	} else {
		keys_dispatch(c, key);
	}
	focus_report(c);
	console_dirty(c);
}

static void term_cb(evutil_socket_t fd, short what, void *arg)
{
	struct console *c = arg;
	c->quit = true;
	event_base_loopbreak(c->base);
}

/* The terminal hung up (its far end closed). */
static bool terminal_gone(void)
{
	struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR | POLLNVAL));
}

static void stdin_cb(evutil_socket_t fd, short what, void *arg)
{
	struct console *c = arg;
	/* Read everything there is (a paste, an escape sequence) in one go. */
	for (int n = 0; n < 4096 && !c->quit; n++) {
		int ch = wgetch(c->input);
		if (ch == ERR) {
			/* Readable but not one key: a terminal that is gone reads
			 * like this forever, and a console that does not lead its
			 * session gets no SIGHUP for it (a mirror whose pty closed
			 * under it). Leave as SIGHUP would, not spin. */
			if (n == 0 && terminal_gone())
				term_cb(-1, 0, c);
			break;
		}
		console_key(c, ch);
	}
}

static void resize_now(struct console *c)
{
	struct winsize ws;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	c->layout_dirty = true;
	/* Sizes changed under every window: repaint the whole terminal. */
	clearok(curscr, TRUE);
	console_dirty(c);
}

static void winch_cb(evutil_socket_t fd, short what, void *arg)
{
	resize_now(arg);
}

/* Ctrl-Z: give the terminal back, stop, and on `fg` draw the whole screen
 * again at whatever size the terminal has now. */
static void tstp_cb(evutil_socket_t fd, short what, void *arg)
{
	struct console *c = arg;
	endwin();
	fflush(stdout);
	/* Without the event the default action (stop) is back. */
	event_del(c->ev_tstp);
	raise(SIGTSTP);
	event_add(c->ev_tstp, NULL);
	resize_now(c);
}

/* The console suspends itself on SIGTSTP when it would be stopped by it,
 * instead of curses doing so: curses, when it handles SIGTSTP, ignores and
 * restores it around every update, two system calls per frame on every
 * attached console. It must be in place before the screen is set up (curses
 * leaves a signal alone that is already handled). A SIGTSTP that is ignored
 * at start stays ignored. */
static void tstp_setup(struct console *c)
{
	struct sigaction old;
	if (sigaction(SIGTSTP, NULL, &old) != 0 || old.sa_handler != SIG_DFL)
		return;
	c->ev_tstp = evsignal_new(c->base, SIGTSTP, tstp_cb, c);
	if (c->ev_tstp && event_add(c->ev_tstp, NULL) != 0) {
		event_free(c->ev_tstp);
		c->ev_tstp = NULL;
	}
}


static void clock_cb(evutil_socket_t fd, short what, void *arg)
{
	struct console *c = arg;
	/* Each second the header (clock, cadence, source ages) and the panes
	 * showing ages (alerts, timeline, roster), not the comms log (its
	 * times are fixed); the whole screen when the wall-clock minute turns,
	 * a message or a point expires, or a dialog is open. curses sends only
	 * the cells that changed. */
	int64_t mono = time_mono_ms();
	bool expired = (c->status[0] && c->status_until && mono >= c->status_until) ||
		       (c->point_target && c->point_until && mono >= c->point_until &&
			mono < c->point_until + 2000);
	if (expired || c->nov || time_now_ms() / 60000 != c->drawn_minute)
		console_dirty(c);
	else
		console_dirty_parts(c, CONSOLE_PART_HEADER | 1u << 0 | 1u << 1 | 1u << 2);
}

static bool curses_start(struct console *c, char *err, size_t errlen)
{
	const char *term = getenv("TERM");
	SCREEN *s = newterm(NULL, stdout, stdin);
	if (!s) {
		snprintf(err, errlen, "cannot use the terminal (TERM=%s)", term ? term : "unset");
		return false;
	}
	set_term(s);
	c->screen = s;
	c->curses_on = true;
	if (has_colors())
		start_color();
	cbreak();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	curs_set(0);
	leaveok(stdscr, TRUE);
	set_escdelay(25);
	c->input = newpad(1, 1);
	keypad(c->input, TRUE);
	nodelay(c->input, TRUE);
	/* Input is read by the event loop before each draw, so curses need
	 * not poll the terminal during an update. */
	typeahead(-1);
	/* ncurses (6.4) flushes its output after every cursor move until the
	 * screen has been through one endwin/refresh cycle, which turns one
	 * update into a dozen small writes. Going through the cycle once, before
	 * anything is drawn, lets each update leave in one write. */
	endwin();
	doupdate();
	theme_apply(c->theme);
	return true;
}

static void curses_stop(struct console *c)
{
	if (!c->curses_on)
		return;
	windows_free(c);
	if (c->input)
		delwin(c->input);
	c->input = NULL;
	endwin();
	c->curses_on = false;
	if (c->screen)
		delscreen(c->screen);
	c->screen = NULL;
}

int tui_main(const struct config *cfg, const struct tui_opts *opts)
{
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "warroom: the console needs a terminal; for scripts use "
				"`warroom state --json` and the other verbs\n");
		return 1;
	}
	setlocale(LC_ALL, "");
	struct console *c = xcalloc(1, sizeof *c);
	c->cfg = cfg;
	c->opts = opts;
	c->utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	pane_set_utf8(c->utf8);
	c->empty = state_new();
	c->exit_code = 0;
	c->ui = (struct ui_ops){
		.intent = ui_intent, .intent_cb = ui_intent_cb, .details = ui_details,
		.confirm = ui_confirm, .prompt = ui_prompt, .choose = ui_choose,
		.message = ui_message, .focus_pane = ui_focus_pane,
		.open_overlay = ui_open_overlay, .rollback = ui_rollback, .arg = c,
	};
	char err[400] = "";
	c->theme = theme_initial(cfg ? cfg->theme : NULL, err, sizeof err);

	struct event_config *ecfg = event_config_new();
	c->base = event_base_new_with_config(ecfg);
	event_config_free(ecfg);
	if (!c->base) {
		fprintf(stderr, "warroom: cannot set up the event loop\n");
		return 1;
	}
	struct winsize ws = {.ws_row = 24, .ws_col = 80};
	ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws);
	struct client_cbs cbs = {
		.on_event = on_event, .on_synced = on_synced, .on_ephemeral = on_ephemeral,
		.on_reply = on_reply, .on_point = on_point, .on_close = on_close, .arg = c,
	};
	char cerr[400];
	c->client = client_connect(c->base, opts->socket_path, opts->read_only, ws.ws_col, ws.ws_row,
				   &cbs, cerr, sizeof cerr);
	if (!c->client) {
		fprintf(stderr, "warroom: cannot attach: %s\n", cerr);
		state_free(c->empty);
		theme_free(c->theme);
		event_base_free(c->base);
		free(c);
		return 1;
	}
	for (int i = 0; i < LAYOUT_PANES && (size_t)i < pane_class_count; i++) {
		struct pane *p = &c->panes[i];
		p->cls = pane_classes[i];
		p->priv = p->cls->priv_new ? p->cls->priv_new(p) : NULL;
	}
	tstp_setup(c);
	char terr[200];
	if (!curses_start(c, terr, sizeof terr)) {
		fprintf(stderr, "warroom: %s\n", terr);
		c->exit_code = 1;
		goto out;
	}
	if (err[0])
		console_message(c, true, "%s", err);
	else
		console_message(c, false, "connecting to %s", opts->socket_path);
	console_focus(c, 0);
	c->layout_dirty = true;

	/* Handlers activate the draw, so it queues behind every event that
	 * became ready in the same pass and runs once after them, in that
	 * pass (a lower priority would cost another epoll_wait per frame). */
	c->ev_draw = event_new(c->base, -1, 0, draw_cb, c);
	c->ev_stdin = event_new(c->base, STDIN_FILENO, EV_READ | EV_PERSIST, stdin_cb, c);
	event_add(c->ev_stdin, NULL);
	c->ev_winch = evsignal_new(c->base, SIGWINCH, winch_cb, c);
	event_add(c->ev_winch, NULL);
	c->ev_term = evsignal_new(c->base, SIGTERM, term_cb, c);
	event_add(c->ev_term, NULL);
	c->ev_int = evsignal_new(c->base, SIGINT, term_cb, c);
	event_add(c->ev_int, NULL);
	c->ev_hup = evsignal_new(c->base, SIGHUP, term_cb, c);
	event_add(c->ev_hup, NULL);
	c->ev_clock = event_new(c->base, -1, EV_PERSIST, clock_cb, c);
	struct timeval sec = {1, 0};
	event_add(c->ev_clock, &sec);

	/* First frame now, before the snapshot arrives. */
	console_draw(c);
	event_base_dispatch(c->base);

out:
	/* Dialogs and requests still open get their "cancelled" callback. */
	while (c->nov)
		console_close_overlay(c);
	for (int i = 0; i < c->npending; i++) {
		if (c->pending[i].cb)
			c->pending[i].cb(c->pending[i].arg, false, "console closed", NULL);
		free(c->pending[i].intent);
	}
	c->npending = 0;
	curses_stop(c);
	struct event *evs[] = {c->ev_draw, c->ev_stdin, c->ev_winch, c->ev_term, c->ev_int,
			       c->ev_hup, c->ev_clock, c->ev_tstp};
	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
		if (evs[i])
			event_free(evs[i]);
	for (int i = 0; i < LAYOUT_PANES; i++) {
		struct pane *p = &c->panes[i];
		if (p->cls && p->cls->priv_free)
			p->cls->priv_free(p->priv);
		free(p->filter);
	}
	client_free(c->client);
	if (c->close_reason && c->exit_code)
		fprintf(stderr, "warroom: %s\n", c->close_reason);
	int rc = c->exit_code;
	event_base_free(c->base);
	state_free(c->empty);
	theme_free(c->theme);
	free(c->point_target);
	free(c->point_by);
	free(c->follow_user);
	free(c->sent_focus);
	free(c->close_reason);
	free(c);
	return rc;
}
