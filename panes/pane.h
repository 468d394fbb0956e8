/* Panes: the four areas of the console (alerts, timeline, roster, comms).
 * Each pane is a const `struct pane_class` table of functions with named
 * fields, listed in screen order in panes/registry.c. Panes draw into their
 * own curses window, react to keys and to incident events, and ask the
 * console for everything else through `ctx->ui` (send an intent, open a
 * prompt or a dialog, show a message). Panes never touch the network and
 * never draw outside their window.
 *
 * Key dispatch order in the console: open overlay (dialog, prompt, help)
 * first, then the focused pane's key(), then the global key table. So a pane
 * may take a global key for itself (the roster takes `a` to assign the
 * selected role) by returning PANE_HANDLED; keys it does not know it leaves
 * unhandled (return 0).
 *
 * Global keys that concern another pane are forwarded to it by name:
 *   g      focus "timeline", then its key('g')    (jump to the top suspect)
 *   r      the "timeline" pane's key('r')          (roll back selected/suspect;
 *          the timeline opens its own confirm showing what will run)
 *   u      composer_open(ctx)                      (tui/composer.c)
 * The console handles `/` for every pane: it prompts for a filter and stores
 * it in pane->filter (NULL when cleared), resets sel and scroll, redraws.
 * Drawing applies the filter (pane_filter_match). */
#ifndef WARROOM_PANE_H
#define WARROOM_PANE_H

#include <cjson/cJSON.h>
#include <curses.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"
#include "core/state.h"
#include "themes/theme.h"

struct pane;
struct pane_ctx;
struct ui_ops;

/* Flags returned by key() and on_event(). 0 = not handled, nothing to do. */
#define PANE_HANDLED 0x1u  /* the key was used: do not try the global table */
#define PANE_REDRAW 0x2u   /* something on screen changed */
#define PANE_CLOSE 0x4u    /* overlays only: close me */
#define PANE_FOCUS 0x8u    /* pane wants focus (e.g. a pointed item is mine) */

/* Help lines: key label and what it does; the array ends with {NULL, NULL}. */
struct pane_help {
	const char *key, *text;
};

struct pane_class {
	const char *name;          /* "alerts": keys 1-4, :focus, follow, point */
	const char *title_utf8;    /* "DEPLOYS × ERROR RATE" */
	const char *title_ascii;   /* "DEPLOYS x ERROR RATE" */
	/* Private data; both may be NULL. priv_new gets the pane with class set. */
	void *(*priv_new)(struct pane *p);
	void (*priv_free)(void *priv);
	/* Draws the whole window (row 0 is the title row: use pane_title). The
	 * window was erased before the call, unless keeps_window. */
	void (*draw)(struct pane *p, const struct pane_ctx *ctx);
	unsigned (*key)(struct pane *p, const struct pane_ctx *ctx, int key);
	/* After ev was folded into ctx->st (may be NULL). */
	unsigned (*on_event)(struct pane *p, const struct pane_ctx *ctx, const struct wr_event *ev);
	/* The selected item as "kind:id" ("alert:ID", "deploy:api@2.4.0",
	 * "role:ic", "comms:SEQ") for point and follow. false if none. */
	bool (*selection)(struct pane *p, const struct pane_ctx *ctx, char *buf, size_t len);
	/* Selects the item named by a "kind:id" target (point, follow). false
	 * if the pane has no such item. May be NULL. */
	bool (*select)(struct pane *p, const struct pane_ctx *ctx, const char *target);
	const struct pane_help *help;  /* pane-specific keys for `?` */
	/* draw() paints every cell itself and wants the window as it left it
	 * (not erased), to write only what changed: see pane_rows. */
	bool keeps_window;
};

struct pane {
	const struct pane_class *cls;
	WINDOW *win;        /* owned by the console; NULL while not shown */
	unsigned win_gen;   /* bumped by the console when win is new or all of
			     * it must be drawn again (theme, Ctrl-L) */
	int y, x, h, w;     /* where win is on the screen */
	bool visible;       /* false in one-pane layout for the others */
	bool focused;
	int sel;            /* selected index in the pane's (filtered) list */
	int scroll;         /* first list row shown */
	char *filter;       /* set by the console's `/`; NULL = none */
	void *priv;
};

/* Callbacks for asynchronous answers. Each gets the arg given with it and
 * is called exactly once (cancelled: NULL, false or -1; also when the
 * console closes with the dialog open), so arg may be freed in it. */
typedef void (*ui_reply_fn)(void *arg, bool ok, const char *error, const cJSON *result);
typedef void (*ui_confirm_fn)(void *arg, bool yes);
typedef void (*ui_prompt_fn)(void *arg, const char *text);   /* NULL: cancelled */
typedef void (*ui_choose_fn)(void *arg, int index);          /* -1: cancelled */

/* Overlays: dialogs drawn above the panes (prompt, confirm, details, help,
 * the update composer, the rollback confirm). The console owns `ov` after
 * open_overlay and calls cls->free on close. */
struct overlay_class {
	const char *name;
	/* Wanted size within max_h x max_w (the console centres and clips it). */
	void (*size)(void *ov, const struct pane_ctx *ctx, int max_h, int max_w, int *h, int *w);
	void (*draw)(void *ov, const struct pane_ctx *ctx, WINDOW *win);
	/* PANE_CLOSE closes it; Esc is handed to key() too (close on it). */
	unsigned (*key)(void *ov, const struct pane_ctx *ctx, int key);
	/* Optional: events folded while open (e.g. a dry-run reply arrived). */
	unsigned (*on_event)(void *ov, const struct pane_ctx *ctx, const struct wr_event *ev);
	void (*free)(void *ov);
};

/* What panes may ask of the console. `arg` is the console's; every function
 * takes the ui itself as first argument: ctx->ui->message(ctx->ui, "..."). */
struct ui_ops {
	/* Sends an intent through the client (args consumed, may be NULL).
	 * Returns the request id, -1 when not connected. A reply with ok:false
	 * is shown in the status line. */
	int (*intent)(const struct ui_ops *ui, const char *name, cJSON *args);
	/* Same, and cb gets the reply (after the status line shows a refusal). */
	int (*intent_cb)(const struct ui_ops *ui, const char *name, cJSON *args,
			 ui_reply_fn cb, void *arg);
	/* Scrollable read-only overlay; lines are copied and sanitised. */
	void (*details)(const struct ui_ops *ui, const char *title, const char *const *lines,
			size_t n);
	/* "question? y/N" with detail text (may hold newlines). */
	void (*confirm)(const struct ui_ops *ui, const char *question, const char *detail,
			ui_confirm_fn cb, void *arg);
	/* One-line text entry; def may be NULL. */
	void (*prompt)(const struct ui_ops *ui, const char *label, const char *def,
		       ui_prompt_fn cb, void *arg);
	/* Picker: choose one of n items (j/k/Enter, or the item's digit). */
	void (*choose)(const struct ui_ops *ui, const char *title, const char *const *items,
		       size_t n, int def, ui_choose_fn cb, void *arg);
	/* Status line text until the next key or a few seconds. */
	void (*message)(const struct ui_ops *ui, const char *text);
	/* Focuses the pane with this class name; false if unknown. */
	bool (*focus_pane)(const struct ui_ops *ui, const char *name);
	void (*open_overlay)(const struct ui_ops *ui, const struct overlay_class *cls, void *ov);
	/* Proposes a rollback exactly as `:rollback SERVICE [--to VERSION]`
	 * does: a dry run, a confirm showing what will run, then the request.
	 * to NULL: the server picks the last good version. */
	void (*rollback)(const struct ui_ops *ui, const char *service, const char *to);
	void *arg;
};

/* Everything a pane may read while drawing or handling a key. */
struct pane_ctx {
	const struct state *st;
	int64_t now_ms;
	bool utf8;                 /* box, glyphs and chart: UTF-8 or ASCII */
	const struct theme *theme; /* theme->attr[role] is ready for curses */
	const char *me;            /* my user name ("" before welcome) */
	bool operator;             /* operator and not attached read-only */
	const struct ui_ops *ui;
	const char *point_target;  /* "kind:id" someone points at, or NULL */
	const char *point_by;
};

/* The registry (panes/registry.c): classes in screen order, keys 1..4. */
extern const struct pane_class pane_alerts_class;
extern const struct pane_class pane_timeline_class;  /* panes/timeline.c */
extern const struct pane_class pane_roster_class;
extern const struct pane_class pane_comms_class;
extern const struct pane_class *const pane_classes[];
extern const size_t pane_class_count;
/* Index in pane_classes of a class name, -1 if unknown. */
int pane_class_index(const char *name);

/* The status update composer (tui/composer.c): opens its overlay through
 * ctx->ui->open_overlay. Called for the global `u`. */
void composer_open(const struct pane_ctx *ctx);

/* Drawing helpers (tui/draw.c). Every string from outside goes through
 * text_sanitize inside pane_put; nothing is drawn past `width` columns or
 * the window edge, and nothing wraps. */

/* Set once by the console from the locale: pane_put sanitises for it. */
void pane_set_utf8(bool utf8);
/* Curses attribute (with colour pair) for a role in the current theme. */
attr_t pane_attr(const struct pane_ctx *ctx, enum theme_role role);
/* Sanitises text and draws it at (y, x) clipped to width columns (width
 * < 0: to the window edge). Returns the columns drawn. */
int pane_put(WINDOW *win, int y, int x, int width, attr_t attr, const char *text);
int pane_putf(WINDOW *win, int y, int x, int width, attr_t attr, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* Same, padded with spaces to exactly width columns (row highlights). */
int pane_put_pad(WINDOW *win, int y, int x, int width, attr_t attr, const char *text);
/* Spaces from (y, x) for width columns (< 0: to the edge). */
void pane_fill(WINDOW *win, int y, int x, int width, attr_t attr);
/* A border around the whole window with an optional title in the top edge;
 * UTF-8 box characters or ASCII (+-|). */
void pane_box(WINDOW *win, const struct pane_ctx *ctx, attr_t attr, const char *title);
void pane_hline(WINDOW *win, const struct pane_ctx *ctx, int y, int x, int n, attr_t attr);
void pane_vline(WINDOW *win, const struct pane_ctx *ctx, int y, int x, int n, attr_t attr);
/* Row 0: the class title (focus colour when focused), then `extra` dimmed
 * ("(4 firing)", "last 3h [+/-]"), then " /filter" when one is set. */
void pane_title(struct pane *p, const struct pane_ctx *ctx, const char *extra);

/* Rows kept as cells, for a pane whose draw() runs on every event (the
 * comms log, keeps_window). A row is drawn once with the helpers above on a
 * one-row scratch window and taken as cells; the pane keeps them, and
 * pane_rows_put writes a window row only where it differs from what the row
 * holds, so curses has a few cells to compare and send, not the pane. */
struct pane_cells {
	cchar_t *c;   /* w cells, the second column of a wide character included */
	int w;
};
void pane_cells_free(struct pane_cells *c);
struct pane_rows;
struct pane_rows *pane_rows_new(void);
void pane_rows_free(struct pane_rows *r);
/* At the start of draw(). false when what p's window holds is unknown (a
 * new window or size, a new theme, Ctrl-L): every row will be written, and
 * cells kept from before must be drawn again. */
bool pane_rows_begin(struct pane_rows *r, const struct pane *p);
/* The scratch row, erased, as wide as the pane: draw one row at y 0. NULL
 * when the pane has no window. */
WINDOW *pane_rows_scratch(struct pane_rows *r);
/* Takes the scratch row's cells (out->c is allocated as needed). */
void pane_rows_take(struct pane_rows *r, struct pane_cells *out);
/* Makes window row y show cells, writing only the cells that differ. */
void pane_rows_put(struct pane_rows *r, int y, const struct pane_cells *cells);

/* Glyphs with an ASCII form for non-UTF-8 terminals. */
enum pane_glyph {
	GLYPH_BULLET,     /* ●  * */
	GLYPH_HOLLOW,     /* ○  o */
	GLYPH_DIAMOND,    /* ◆  * */
	GLYPH_DASH,       /* —  - */
	GLYPH_ARROW,      /* →  -> */
	GLYPH_TIMES,      /* ×  x */
	GLYPH_ELLIPSIS,   /* …  ~ */
	GLYPH_DOT,        /* ·  | */
	GLYPH_UP,         /* ▲  ^ */
	GLYPH_DOWN,       /* ▼  v */
	GLYPH__COUNT
};
const char *pane_glyph(const struct pane_ctx *ctx, enum pane_glyph g);

/* List panes: keeps sel in [0, n) and scroll so that sel is visible in
 * `rows` rows. */
void pane_list_clamp(struct pane *p, int n, int rows);
/* j k Down Up PgDn PgUp Home End G on a list of n items shown in rows rows.
 * Returns PANE_HANDLED|PANE_REDRAW when the key is one of those. */
unsigned pane_list_key(struct pane *p, int key, int n, int rows);
/* Case-insensitive: every space-separated word of p->filter occurs in one
 * of the given strings (NULLs skipped). True when no filter is set. */
bool pane_filter_match(const struct pane *p, const char *const *fields, size_t n);

#endif
