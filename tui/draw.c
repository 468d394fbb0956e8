/* Drawing helpers shared by panes and the console (declared in
 * panes/pane.h). Everything drawn goes through text_sanitize and is clipped
 * by width, so external text can neither emit escapes nor wrap. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/text.h"
#include "core/util.h"
#include "panes/pane.h"

static bool draw_utf8 = true;

void pane_set_utf8(bool utf8)
{
	draw_utf8 = utf8;
}

attr_t pane_attr(const struct pane_ctx *ctx, enum theme_role role)
{
	if (!ctx || !ctx->theme || (unsigned)role >= THEME__COUNT)
		return A_NORMAL;
	return (attr_t)ctx->theme->attr[role];
}

/* Clip (y, x, width) to the window; returns the usable width or 0. */
static int clip(WINDOW *win, int y, int x, int width)
{
	if (!win)
		return 0;
	int my, mx;
	getmaxyx(win, my, mx);
	if (y < 0 || y >= my || x < 0 || x >= mx)
		return 0;
	if (width < 0 || width > mx - x)
		width = mx - x;
	return width;
}

/* clean is the caller's own sanitised copy (briefly cut at the fit). */
static int put_clean(WINDOW *win, int y, int x, int width, attr_t attr, char *clean, bool pad)
{
	width = clip(win, y, x, width);
	if (width <= 0)
		return 0;
	size_t fit = text_fit(clean, width);
	wattrset(win, attr);
	mvwaddnstr(win, y, x, clean, (int)fit);
	char save = clean[fit];
	clean[fit] = 0;
	int drawn = text_width(clean);
	clean[fit] = save;
	if (pad)
		for (int i = drawn; i < width; i++)
			mvwaddch(win, y, x + i, ' ');
	wattrset(win, A_NORMAL);
	return pad ? width : drawn;
}

static int put(WINDOW *win, int y, int x, int width, attr_t attr, const char *text, bool pad)
{
	if (clip(win, y, x, width) <= 0)
		return 0;
	char *clean = text_sanitize(text ? text : "", draw_utf8);
	int n = put_clean(win, y, x, width, attr, clean, pad);
	free(clean);
	return n;
}

int pane_put(WINDOW *win, int y, int x, int width, attr_t attr, const char *text)
{
	return put(win, y, x, width, attr, text, false);
}

int pane_put_pad(WINDOW *win, int y, int x, int width, attr_t attr, const char *text)
{
	return put(win, y, x, width, attr, text, true);
}

int pane_putf(WINDOW *win, int y, int x, int width, attr_t attr, const char *fmt, ...)
{
	if (clip(win, y, x, width) <= 0)
		return 0;
	struct sbuf sb;
	sbuf_init(&sb);
	va_list ap;
	va_start(ap, fmt);
	sbuf_vprintf(&sb, fmt, ap);
	va_end(ap);
	int n = put(win, y, x, width, attr, sb.buf, false);
	sbuf_free(&sb);
	return n;
}

void pane_fill(WINDOW *win, int y, int x, int width, attr_t attr)
{
	width = clip(win, y, x, width);
	if (width <= 0)
		return;
	wattrset(win, attr);
	for (int i = 0; i < width; i++)
		mvwaddch(win, y, x + i, ' ');
	wattrset(win, A_NORMAL);
}

enum box_part { BOX_H, BOX_V, BOX_TL, BOX_TR, BOX_BL, BOX_BR, BOX__COUNT };
static const char *const box_utf8[BOX__COUNT] = {"─", "│", "┌", "┐", "└", "┘"};
static const char *const box_ascii[BOX__COUNT] = {"-", "|", "+", "+", "+", "+"};

static const char *box_part_str(const struct pane_ctx *ctx, enum box_part part)
{
	bool u = ctx ? ctx->utf8 : draw_utf8;
	return u ? box_utf8[part] : box_ascii[part];
}

/* Draws a trusted glyph (no sanitising) if it fits. */
static void glyph_at(WINDOW *win, int y, int x, attr_t attr, const char *g)
{
	if (clip(win, y, x, 1) <= 0)
		return;
	wattrset(win, attr);
	mvwaddstr(win, y, x, g);
	wattrset(win, A_NORMAL);
}

void pane_hline(WINDOW *win, const struct pane_ctx *ctx, int y, int x, int n, attr_t attr)
{
	for (int i = 0; i < n; i++)
		glyph_at(win, y, x + i, attr, box_part_str(ctx, BOX_H));
}

void pane_vline(WINDOW *win, const struct pane_ctx *ctx, int y, int x, int n, attr_t attr)
{
	for (int i = 0; i < n; i++)
		glyph_at(win, y + i, x, attr, box_part_str(ctx, BOX_V));
}

void pane_box(WINDOW *win, const struct pane_ctx *ctx, attr_t attr, const char *title)
{
	if (!win)
		return;
	int h, w;
	getmaxyx(win, h, w);
	if (h < 2 || w < 2)
		return;
	pane_hline(win, ctx, 0, 1, w - 2, attr);
	pane_hline(win, ctx, h - 1, 1, w - 2, attr);
	pane_vline(win, ctx, 1, 0, h - 2, attr);
	pane_vline(win, ctx, 1, w - 1, h - 2, attr);
	glyph_at(win, 0, 0, attr, box_part_str(ctx, BOX_TL));
	glyph_at(win, 0, w - 1, attr, box_part_str(ctx, BOX_TR));
	glyph_at(win, h - 1, 0, attr, box_part_str(ctx, BOX_BL));
	glyph_at(win, h - 1, w - 1, attr, box_part_str(ctx, BOX_BR));
	if (title && *title && w > 6) {
		int n = pane_put(win, 0, 2, w - 4, attr | A_BOLD, " ");
		n += pane_put(win, 0, 2 + n, w - 4 - n, attr | A_BOLD, title);
		pane_put(win, 0, 2 + n, w - 4 - n, attr | A_BOLD, " ");
	}
}

void pane_title(struct pane *p, const struct pane_ctx *ctx, const char *extra)
{
	if (!p || !p->win)
		return;
	const char *title = ctx->utf8 ? p->cls->title_utf8 : p->cls->title_ascii;
	attr_t a = pane_attr(ctx, p->focused ? THEME_FOCUS_BORDER : THEME_TITLE);
	if (p->focused)
		a |= A_BOLD;
	int x = 1;
	if (p->focused)
		x += pane_put(p->win, 0, 0, -1, a, ctx->utf8 ? "▸" : ">") - 1;
	x += pane_put(p->win, 0, x, -1, a, title);
	if (extra && *extra)
		x += pane_putf(p->win, 0, x, -1, pane_attr(ctx, THEME_DIM), "  %s", extra);
	if (p->filter && *p->filter)
		pane_putf(p->win, 0, x, -1, pane_attr(ctx, THEME_PROMPT), "  /%s", p->filter);
}

static const char *const glyphs_utf8[GLYPH__COUNT] = {
	[GLYPH_BULLET] = "●", [GLYPH_HOLLOW] = "○", [GLYPH_DIAMOND] = "◆",
	[GLYPH_DASH] = "—", [GLYPH_ARROW] = "→", [GLYPH_TIMES] = "×",
	[GLYPH_ELLIPSIS] = "…", [GLYPH_DOT] = "·", [GLYPH_UP] = "▲", [GLYPH_DOWN] = "▼",
};
static const char *const glyphs_ascii[GLYPH__COUNT] = {
	[GLYPH_BULLET] = "*", [GLYPH_HOLLOW] = "o", [GLYPH_DIAMOND] = "*",
	[GLYPH_DASH] = "-", [GLYPH_ARROW] = "->", [GLYPH_TIMES] = "x",
	[GLYPH_ELLIPSIS] = "~", [GLYPH_DOT] = "|", [GLYPH_UP] = "^", [GLYPH_DOWN] = "v",
};

const char *pane_glyph(const struct pane_ctx *ctx, enum pane_glyph g)
{
	if ((unsigned)g >= GLYPH__COUNT)
		return "?";
	bool u = ctx ? ctx->utf8 : draw_utf8;
	return u ? glyphs_utf8[g] : glyphs_ascii[g];
}

void pane_list_clamp(struct pane *p, int n, int rows)
{
	if (n <= 0) {
		p->sel = 0;
		p->scroll = 0;
		return;
	}
	if (rows < 1)
		rows = 1;
	if (p->sel >= n)
		p->sel = n - 1;
	if (p->sel < 0)
		p->sel = 0;
	if (p->sel < p->scroll)
		p->scroll = p->sel;
	if (p->sel >= p->scroll + rows)
		p->scroll = p->sel - rows + 1;
	int max = n > rows ? n - rows : 0;
	if (p->scroll > max)
		p->scroll = max;
	if (p->scroll < 0)
		p->scroll = 0;
}

unsigned pane_list_key(struct pane *p, int key, int n, int rows)
{
	if (rows < 1)
		rows = 1;
	switch (key) {
	case 'j': case KEY_DOWN: p->sel++; break;
	case 'k': case KEY_UP: p->sel--; break;
	case KEY_NPAGE: case ' ': p->sel += rows; break;
	case KEY_PPAGE: p->sel -= rows; break;
	case KEY_HOME: p->sel = 0; break;
	case KEY_END: case 'G': p->sel = n - 1; break;
	default: return 0;
	}
	pane_list_clamp(p, n, rows);
	return PANE_HANDLED | PANE_REDRAW;
}

bool pane_filter_match(const struct pane *p, const char *const *fields, size_t n)
{
	if (!p->filter || !*p->filter)
		return true;
	char *words = xstrdup(p->filter), *save = NULL;
	bool all = true;
	for (char *w = strtok_r(words, " \t", &save); w && all; w = strtok_r(NULL, " \t", &save)) {
		bool found = false;
		for (size_t i = 0; i < n && !found; i++)
			if (fields[i] && strcasestr(fields[i], w))
				found = true;
		all = found;
	}
	free(words);
	return all;
}

/* ---- rows kept as cells ---------------------------------------------------- */

struct pane_rows {
	WINDOW *win;        /* the pane window the rows below describe */
	unsigned gen;       /* its pane->win_gen */
	int h, w;
	cchar_t *shown;     /* h rows of w cells: what each window row holds */
	bool *known;        /* false: the row holds something else (rewrite all) */
	WINDOW *scratch;    /* one row, w wide: rows are drawn here first */
};

struct pane_rows *pane_rows_new(void)
{
	return xcalloc(1, sizeof(struct pane_rows));
}

void pane_rows_free(struct pane_rows *r)
{
	if (!r)
		return;
	if (r->scratch)
		delwin(r->scratch);
	free(r->shown);
	free(r->known);
	free(r);
}

bool pane_rows_begin(struct pane_rows *r, const struct pane *p)
{
	if (r->win == p->win && r->gen == p->win_gen && r->h == p->h && r->w == p->w)
		return true;
	r->win = p->win;
	r->gen = p->win_gen;
	r->h = p->win && p->h > 0 && p->w > 0 ? p->h : 0;
	r->w = r->h ? p->w : 0;
	size_t n = (size_t)r->h * (size_t)r->w;
	free(r->shown);
	free(r->known);
	r->shown = xcalloc(n ? n : 1, sizeof *r->shown);
	r->known = xcalloc(r->h ? (size_t)r->h : 1, sizeof *r->known);
	if (r->scratch)
		delwin(r->scratch);
	r->scratch = r->w ? newpad(1, r->w) : NULL;
	return false;
}

WINDOW *pane_rows_scratch(struct pane_rows *r)
{
	if (r->scratch)
		werase(r->scratch);
	return r->scratch;
}

void pane_cells_free(struct pane_cells *c)
{
	free(c->c);
	c->c = NULL;
	c->w = 0;
}

/* Cells are compared as bytes: every cell is a whole copy of one curses
 * made (pane_rows_take), so equal cells are equal bytes. */
static bool cell_eq(const cchar_t *a, const cchar_t *b)
{
	return memcmp(a, b, sizeof *a) == 0;
}

/* Rows mostly differ in a few cells (a note scrolls the log by one row):
 * equal runs are skipped a block at a time. */
#define CELL_BLOCK 8

static int diff_first(const cchar_t *a, const cchar_t *b, int n)
{
	int i = 0;
	while (i + CELL_BLOCK <= n && !memcmp(a + i, b + i, CELL_BLOCK * sizeof *a))
		i += CELL_BLOCK;
	while (i < n && cell_eq(&a[i], &b[i]))
		i++;
	return i;
}

/* The last differing cell at or after `first`, which differs. */
static int diff_last(const cchar_t *a, const cchar_t *b, int first, int n)
{
	int end = n;
	while (end - CELL_BLOCK > first && !memcmp(a + end - CELL_BLOCK, b + end - CELL_BLOCK,
						   CELL_BLOCK * sizeof *a))
		end -= CELL_BLOCK;
	int i = end - 1;
	while (i > first && cell_eq(&a[i], &b[i]))
		i--;
	return i;
}

void pane_rows_take(struct pane_rows *r, struct pane_cells *out)
{
	if (out->w != r->w) {
		free(out->c);
		out->c = xcalloc(r->w ? (size_t)r->w : 1, sizeof *out->c);
		out->w = r->w;
	}
	if (!r->scratch)
		return;
	/* whole cells as curses keeps them, the second column of a wide
	 * character included, so that the columns line up */
	for (int x = 0; x < r->w; x++)
		mvwin_wch(r->scratch, 0, x, &out->c[x]);
}

void pane_rows_put(struct pane_rows *r, int y, const struct pane_cells *cells)
{
	if (!r->win || y < 0 || y >= r->h || cells->w != r->w || !r->w)
		return;
	cchar_t *shown = r->shown + (size_t)y * (size_t)r->w;
	int first = 0, last = r->w - 1;
	/* The span never starts or ends inside a wide character: the second
	 * column's cell is curses' copy of the first's, so where the first
	 * columns are equal the second ones are too. */
	if (r->known[y]) {
		first = diff_first(shown, cells->c, r->w);
		if (first == r->w)
			return;
		last = diff_last(shown, cells->c, first, r->w);
	}
	mvwadd_wchnstr(r->win, y, first, cells->c + first, last - first + 1);
	memcpy(shown + first, cells->c + first, (size_t)(last - first + 1) * sizeof *shown);
	r->known[y] = true;
}
