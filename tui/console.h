/* Console internals shared by the files of tui/ (not by panes: they see
 * only panes/pane.h). One struct console per process. */
#ifndef WARROOM_CONSOLE_H
#define WARROOM_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/client.h"
#include "core/config.h"
#include "panes/pane.h"
#include "themes/theme.h"
#include "tui/layout.h"
#include "tui/tui.h"

#define CONSOLE_MAX_OVERLAYS 8
#define CONSOLE_MAX_PENDING 64

struct console_overlay {
	const struct overlay_class *cls;
	void *ov;
	WINDOW *win;
	int h, w;
};

struct console_pending {
	int id;
	char *intent;
	ui_reply_fn cb;
	void *arg;
};

struct console {
	struct event_base *base;
	struct event *ev_stdin, *ev_winch, *ev_clock, *ev_draw, *ev_term, *ev_int, *ev_hup;
	struct event *ev_tstp; /* Ctrl-Z, when the console suspends itself */
	struct client *client;
	const struct config *cfg;
	const struct tui_opts *opts;
	struct state *empty;       /* shown before the snapshot */
	struct theme *theme;
	bool utf8;
	bool curses_on;
	SCREEN *screen;
	WINDOW *input;             /* a pad: reading keys never repaints */

	struct pane panes[LAYOUT_PANES];
	int focus;
	struct layout lay;
	bool layout_dirty;
	bool lay_banner;           /* the layout was computed with a banner */
	bool dirty;
	unsigned partial;          /* when not 0, only these parts are dirty:
				    * bit i for panes[i], CONSOLE_PART_HEADER */
	int64_t drawn_minute;      /* wall-clock minute of the last full draw */
	WINDOW *w_header, *w_banner, *w_keybar;

	struct console_overlay ov[CONSOLE_MAX_OVERLAYS];
	int nov;

	struct console_pending pending[CONSOLE_MAX_PENDING];
	int npending;

	char status[512];
	bool status_error;
	int64_t status_until;      /* mono ms; 0 = until the next key */

	char *point_target, *point_by;
	int64_t point_until;       /* mono ms */

	char *follow_user;         /* following this person's focus, or NULL */
	char *sent_focus;          /* last focus sent to the server */

	int64_t last_second;       /* wall second last drawn (clock) */
	bool quit;
	int exit_code;
	char *close_reason;

	struct ui_ops ui;
	struct pane_ctx ctx;       /* refreshed before every draw and key */

	/* Counters for bench/render and tests. */
	unsigned long frames;
};

/* console.c */
#define CONSOLE_PART_HEADER (1u << LAYOUT_PANES)
void console_dirty(struct console *c);
void console_message(struct console *c, bool error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void console_refresh_ctx(struct console *c);
struct state *console_state(struct console *c);
void console_focus(struct console *c, int index);
struct pane *console_pane(struct console *c, const char *name);
/* Sends an intent; cb may be NULL. Returns the id or -1. */
int console_intent(struct console *c, const char *name, cJSON *args, ui_reply_fn cb, void *arg);
void console_request_quit(struct console *c);
/* Ctrl-L, a new theme: curses repaints the terminal and every pane draws
 * all of its window again. */
void console_repaint(struct console *c);
void console_set_theme(struct console *c, const char *name);
void console_follow(struct console *c, const char *user);
void console_open_overlay(struct console *c, const struct overlay_class *cls, void *ov);
void console_close_overlay(struct console *c);

/* screen.c: header, banner, frame and key bar. */
void screen_draw_frame(struct console *c);
void screen_draw_header(struct console *c, WINDOW *w);
void screen_draw_banner(struct console *c, WINDOW *w);
void screen_draw_keybar(struct console *c, WINDOW *w);
/* The first action waiting for approval, or NULL. */
const struct action *screen_pending_action(const struct state *st);

/* keys.c: the one table of global key bindings; drives dispatch, the key
 * bar and the help overlay. */
struct key_binding {
	int key, alt;              /* key codes (alt 0: none) */
	const char *label;         /* how the key is written: "Tab", "?" */
	const char *bar;           /* key bar text, or NULL if not on the bar */
	int bar_rank;              /* lower stays longer on a narrow bar */
	const char *help;
	void (*fn)(struct console *c, int key);
};
extern const struct key_binding key_bindings[];
extern const size_t key_binding_count;
/* Dispatches a key with no overlay open: focused pane, then the table.
 * Returns true when something used it. */
bool keys_dispatch(struct console *c, int key);
/* "Tab", "Enter", "^L", "x": a key code as the help writes it. */
const char *keys_name(int key, char *buf, size_t len);

/* prompt.c: the console's own dialogs as overlays. */
void prompt_open(struct console *c, const char *label, const char *def, ui_prompt_fn cb, void *arg);
void confirm_open(struct console *c, const char *question, const char *detail, ui_confirm_fn cb,
		  void *arg);
void details_open(struct console *c, const char *title, const char *const *lines, size_t n);
void choose_open(struct console *c, const char *title, const char *const *items, size_t n,
		 int def, ui_choose_fn cb, void *arg);

/* help.c */
void help_open(struct console *c);

/* cmdline.c: `:` commands, the same verbs as the CLI. */
void cmdline_open(struct console *c);
void cmdline_run(struct console *c, const char *line);
/* The rollback flow of `:rollback`: dry run, confirm, request (to may be
 * NULL). Also behind ui_ops.rollback for the timeline's `r`. */
void cmdline_rollback(struct console *c, const char *service, const char *to);
/* Appends one help line per verb. */
void cmdline_help(struct ptrvec *lines);

#endif
