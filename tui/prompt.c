/* The console's own dialogs, each an overlay: a one-line prompt, a yes/no
 * confirm, a scrollable details view and a picker. Every callback runs
 * exactly once: on the answer, or cancelled when the dialog goes away
 * unanswered (Esc, or the console closing). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "core/util.h"
#include "tui/console.h"

#define KEY_ESC 27

static bool is_enter(int key)
{
	return key == '\r' || key == '\n' || key == KEY_ENTER;
}

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* ---- prompt --------------------------------------------------------------- */

struct prompt {
	char *label;
	struct sbuf text;
	ui_prompt_fn cb;
	void *arg;
	bool answered;
};

static void prompt_size(void *ov, const struct pane_ctx *ctx, int max_h, int max_w, int *h, int *w)
{
	struct prompt *p = ov;
	int want = text_width(p->label) + text_width(p->text.buf) + 8;
	*w = clampi(want < 60 ? 60 : want, 1, max_w);
	*h = max_h >= 3 ? 3 : 1;
}

static void prompt_draw(void *ov, const struct pane_ctx *ctx, WINDOW *win)
{
	struct prompt *p = ov;
	int h = getmaxy(win), w = getmaxx(win);
	attr_t a = pane_attr(ctx, THEME_OVERLAY);
	for (int y = 0; y < h; y++)
		pane_fill(win, y, 0, w, a);
	int y = 0, x = 0;
	if (h >= 3) {
		pane_box(win, ctx, pane_attr(ctx, THEME_OVERLAY_BORDER), "Enter sends, Esc cancels");
		y = 1, x = 2;
	}
	int inner = w - x - (h >= 3 ? 2 : 0);
	int n = pane_put(win, y, x, inner, a | A_BOLD, p->label);
	n += pane_put(win, y, x + n, inner - n, a, " ");
	/* Show the end of a long entry. */
	const char *t = p->text.buf;
	int room = inner - n - 1;
	while (room > 0 && text_width(t) > room)
		t++;
	while ((*t & 0xC0) == 0x80)
		t++;
	n += pane_put(win, y, x + n, inner - n, pane_attr(ctx, THEME_PROMPT), t);
	pane_put(win, y, x + n, 1, pane_attr(ctx, THEME_PROMPT) | A_REVERSE, " ");
}

static void prompt_answer(struct prompt *p, const char *text)
{
	if (p->answered)
		return;
	p->answered = true;
	if (p->cb)
		p->cb(p->arg, text);
}

static unsigned prompt_key(void *ov, const struct pane_ctx *ctx, int key)
{
	struct prompt *p = ov;
	if (key == KEY_ESC) {
		prompt_answer(p, NULL);
		return PANE_CLOSE | PANE_REDRAW;
	}
	if (is_enter(key)) {
		char *text = text_sanitize(p->text.buf, true);
		prompt_answer(p, text);
		free(text);
		return PANE_CLOSE | PANE_REDRAW;
	}
	if (key == KEY_BACKSPACE || key == 127 || key == 8) {
		/* Remove one whole UTF-8 character. */
		while (p->text.len > 0) {
			unsigned char ch = (unsigned char)p->text.buf[--p->text.len];
			if ((ch & 0xC0) != 0x80)
				break;
		}
		p->text.buf[p->text.len] = 0;
		return PANE_REDRAW;
	}
	if (key == ('U' & 0x1f)) {
		sbuf_reset(&p->text);
		return PANE_REDRAW;
	}
	if (key == ('W' & 0x1f)) {
		while (p->text.len && p->text.buf[p->text.len - 1] == ' ')
			p->text.len--;
		while (p->text.len && p->text.buf[p->text.len - 1] != ' ')
			p->text.len--;
		p->text.buf[p->text.len] = 0;
		return PANE_REDRAW;
	}
	/* Printable bytes, including the bytes of UTF-8 characters. */
	if (key >= 0x20 && key <= 0xff && key != 0x7f && p->text.len < 2000) {
		sbuf_addc(&p->text, (char)key);
		return PANE_REDRAW;
	}
	if (key == '\t')
		sbuf_addc(&p->text, ' ');
	return PANE_REDRAW;
}

static void prompt_free(void *ov)
{
	struct prompt *p = ov;
	prompt_answer(p, NULL);
	free(p->label);
	sbuf_free(&p->text);
	free(p);
}

static const struct overlay_class prompt_class = {
	.name = "prompt",
	.size = prompt_size,
	.draw = prompt_draw,
	.key = prompt_key,
	.free = prompt_free,
};

void prompt_open(struct console *c, const char *label, const char *def, ui_prompt_fn cb, void *arg)
{
	struct prompt *p = xcalloc(1, sizeof *p);
	p->label = xstrdup(label ? label : "");
	sbuf_init(&p->text);
	/* always a buffer, so drawing and editing never meet NULL */
	sbuf_adds(&p->text, def ? def : "");
	p->cb = cb;
	p->arg = arg;
	console_open_overlay(c, &prompt_class, p);
}

/* ---- text views: details and confirm share the line wrapping ------------------- */

/* Splits lines at newlines and wraps them to width columns (sanitised). */
static void wrap_lines(const struct ptrvec *in, int width, struct ptrvec *out)
{
	if (width < 1)
		width = 1;
	for (size_t i = 0; i < in->n; i++) {
		char *clean = text_sanitize(in->v[i], true);
		const char *s = clean;
		if (!*s)
			ptrvec_push(out, xstrdup(""));
		while (*s) {
			size_t fit = text_fit(s, width);
			if (fit == 0)
				fit = 1;
			/* Break at the last space when the line goes on. */
			if (s[fit]) {
				size_t sp = fit;
				while (sp > 0 && s[sp] != ' ')
					sp--;
				if (sp > fit / 2)
					fit = sp;
			}
			ptrvec_push(out, xstrndup(s, fit));
			s += fit;
			while (*s == ' ')
				s++;
		}
		free(clean);
	}
}

static void push_split(struct ptrvec *lines, const char *text)
{
	const char *p = text ? text : "";
	do {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		ptrvec_push(lines, xstrndup(p, n));
		p = nl ? nl + 1 : NULL;
	} while (p);
}

struct textview {
	char *title;
	struct ptrvec lines;   /* as given */
	struct ptrvec wrapped; /* for the current width */
	int wrapped_w;
	int scroll;
	int rows;              /* body rows last drawn */
	/* confirm only */
	bool is_confirm;
	char *question;
	ui_confirm_fn cb;
	void *arg;
	bool answered;
};

static void textview_wrap(struct textview *t, int width)
{
	if (t->wrapped_w == width)
		return;
	ptrvec_free(&t->wrapped, free);
	wrap_lines(&t->lines, width, &t->wrapped);
	t->wrapped_w = width;
}

static void textview_size(void *ov, const struct pane_ctx *ctx, int max_h, int max_w, int *h, int *w)
{
	struct textview *t = ov;
	int longest = text_width(t->title) + 8;
	if (t->question && text_width(t->question) + 4 > longest)
		longest = text_width(t->question) + 4;
	for (size_t i = 0; i < t->lines.n; i++) {
		int lw = text_width(t->lines.v[i]) + 4;
		if (lw > longest)
			longest = lw;
	}
	*w = clampi(longest < 44 ? 44 : longest, 1, max_w > 6 ? max_w - 2 : max_w);
	textview_wrap(t, *w - 4);
	int extra = t->is_confirm ? 4 : 2;
	*h = clampi((int)t->wrapped.n + extra, 1, max_h > 4 ? max_h - 2 : max_h);
}

static void textview_draw(void *ov, const struct pane_ctx *ctx, WINDOW *win)
{
	struct textview *t = ov;
	int h = getmaxy(win), w = getmaxx(win);
	attr_t a = pane_attr(ctx, THEME_OVERLAY);
	for (int y = 0; y < h; y++)
		pane_fill(win, y, 0, w, a);
	textview_wrap(t, w - 4);
	bool boxed = h >= 3 && w >= 6;
	if (boxed)
		pane_box(win, ctx, pane_attr(ctx, THEME_OVERLAY_BORDER), t->title);
	int top = boxed ? 1 : 0, x = boxed ? 2 : 0;
	int body = h - (boxed ? 2 : 0);
	if (t->is_confirm && body >= 2) {
		pane_put(win, top, x, w - 2 * x, a | A_BOLD, t->question);
		pane_put(win, top + body - 1, x, w - 2 * x, pane_attr(ctx, THEME_PROMPT),
			 "y yes   n no (Enter, Esc)");
		top += 2;
		body -= 3;
	}
	t->rows = body > 0 ? body : 0;
	int max = (int)t->wrapped.n - t->rows;
	t->scroll = clampi(t->scroll, 0, max > 0 ? max : 0);
	for (int r = 0; r < t->rows && t->scroll + r < (int)t->wrapped.n; r++)
		pane_put(win, top + r, x, w - 2 * x, a, t->wrapped.v[t->scroll + r]);
	if (boxed && max > 0) {
		char more[32];
		snprintf(more, sizeof more, " %d/%d ", t->scroll + 1, max + 1);
		pane_put(win, h - 1, w - 2 - (int)strlen(more), (int)strlen(more),
			 pane_attr(ctx, THEME_OVERLAY_BORDER), more);
	}
}

static void confirm_answer(struct textview *t, bool yes)
{
	if (t->answered)
		return;
	t->answered = true;
	if (t->cb)
		t->cb(t->arg, yes);
}

static unsigned textview_key(void *ov, const struct pane_ctx *ctx, int key)
{
	struct textview *t = ov;
	if (t->is_confirm) {
		if (key == 'y' || key == 'Y') {
			confirm_answer(t, true);
			return PANE_CLOSE | PANE_REDRAW;
		}
		if (key == 'n' || key == 'N' || key == KEY_ESC || key == 'q' || is_enter(key)) {
			confirm_answer(t, false);
			return PANE_CLOSE | PANE_REDRAW;
		}
	} else if (key == KEY_ESC || key == 'q' || is_enter(key) || key == '?') {
		return PANE_CLOSE | PANE_REDRAW;
	}
	int page = t->rows > 1 ? t->rows - 1 : 1;
	switch (key) {
	case 'j': case KEY_DOWN: t->scroll++; break;
	case 'k': case KEY_UP: t->scroll--; break;
	case KEY_NPAGE: case ' ': t->scroll += page; break;
	case KEY_PPAGE: t->scroll -= page; break;
	case KEY_HOME: t->scroll = 0; break;
	case KEY_END: case 'G': t->scroll = (int)t->wrapped.n; break;
	default: break;
	}
	return PANE_REDRAW; /* dialogs are modal: every key stops here */
}

static void textview_free(void *ov)
{
	struct textview *t = ov;
	if (t->is_confirm)
		confirm_answer(t, false);
	free(t->title);
	free(t->question);
	ptrvec_free(&t->lines, free);
	ptrvec_free(&t->wrapped, free);
	free(t);
}

static const struct overlay_class textview_class = {
	.name = "details",
	.size = textview_size,
	.draw = textview_draw,
	.key = textview_key,
	.free = textview_free,
};

void details_open(struct console *c, const char *title, const char *const *lines, size_t n)
{
	struct textview *t = xcalloc(1, sizeof *t);
	t->title = xstrdup(title ? title : "");
	for (size_t i = 0; i < n; i++)
		push_split(&t->lines, lines[i]);
	t->wrapped_w = -1;
	console_open_overlay(c, &textview_class, t);
}

void confirm_open(struct console *c, const char *question, const char *detail, ui_confirm_fn cb,
		  void *arg)
{
	struct textview *t = xcalloc(1, sizeof *t);
	t->title = xstrdup("CONFIRM");
	t->is_confirm = true;
	t->question = xasprintf("%s y/N", question ? question : "");
	if (detail && *detail)
		push_split(&t->lines, detail);
	t->cb = cb;
	t->arg = arg;
	t->wrapped_w = -1;
	console_open_overlay(c, &textview_class, t);
}

/* ---- picker --------------------------------------------------------------------- */

struct chooser {
	char *title;
	struct ptrvec items;
	int sel;
	ui_choose_fn cb;
	void *arg;
	bool answered;
};

static void chooser_size(void *ov, const struct pane_ctx *ctx, int max_h, int max_w, int *h, int *w)
{
	struct chooser *ch = ov;
	int longest = text_width(ch->title) + 8;
	for (size_t i = 0; i < ch->items.n; i++) {
		int lw = text_width(ch->items.v[i]) + 10;
		if (lw > longest)
			longest = lw;
	}
	*w = clampi(longest < 36 ? 36 : longest, 1, max_w);
	*h = clampi((int)ch->items.n + 3, 1, max_h);
}

static void chooser_draw(void *ov, const struct pane_ctx *ctx, WINDOW *win)
{
	struct chooser *ch = ov;
	int h = getmaxy(win), w = getmaxx(win);
	attr_t a = pane_attr(ctx, THEME_OVERLAY);
	for (int y = 0; y < h; y++)
		pane_fill(win, y, 0, w, a);
	bool boxed = h >= 3 && w >= 6;
	if (boxed)
		pane_box(win, ctx, pane_attr(ctx, THEME_OVERLAY_BORDER), ch->title);
	int top = boxed ? 1 : 0, x = boxed ? 1 : 0;
	int rows = h - (boxed ? 3 : 0);
	int scroll = ch->sel >= rows ? ch->sel - rows + 1 : 0;
	for (int r = 0; r < rows && scroll + r < (int)ch->items.n; r++) {
		int i = scroll + r;
		attr_t ia = i == ch->sel ? pane_attr(ctx, THEME_SELECTION) : a;
		if (i == ch->sel)
			pane_fill(win, top + r, x, w - 2 * x, ia);
		pane_putf(win, top + r, x + 1, w - 2 * x - 2, ia, "%d  %s", i + 1, (char *)ch->items.v[i]);
	}
	if (boxed && h >= 4)
		pane_put(win, h - 2, 2, w - 4, pane_attr(ctx, THEME_DIM), "j/k move, Enter picks, Esc cancels");
}

static void chooser_answer(struct chooser *ch, int index)
{
	if (ch->answered)
		return;
	ch->answered = true;
	if (ch->cb)
		ch->cb(ch->arg, index);
}

static unsigned chooser_key(void *ov, const struct pane_ctx *ctx, int key)
{
	struct chooser *ch = ov;
	int n = (int)ch->items.n;
	if (key == KEY_ESC || key == 'q') {
		chooser_answer(ch, -1);
		return PANE_CLOSE | PANE_REDRAW;
	}
	if (is_enter(key)) {
		chooser_answer(ch, n ? ch->sel : -1);
		return PANE_CLOSE | PANE_REDRAW;
	}
	if (key >= '1' && key <= '9' && key - '1' < n) {
		chooser_answer(ch, key - '1');
		return PANE_CLOSE | PANE_REDRAW;
	}
	switch (key) {
	case 'j': case KEY_DOWN: case '\t': ch->sel = (ch->sel + 1) % (n ? n : 1); break;
	case 'k': case KEY_UP: case KEY_BTAB: ch->sel = (ch->sel + n - 1) % (n ? n : 1); break;
	case KEY_HOME: ch->sel = 0; break;
	case KEY_END: case 'G': ch->sel = n ? n - 1 : 0; break;
	default: break;
	}
	return PANE_REDRAW;
}

static void chooser_free(void *ov)
{
	struct chooser *ch = ov;
	chooser_answer(ch, -1);
	free(ch->title);
	ptrvec_free(&ch->items, free);
	free(ch);
}

static const struct overlay_class chooser_class = {
	.name = "choose",
	.size = chooser_size,
	.draw = chooser_draw,
	.key = chooser_key,
	.free = chooser_free,
};

void choose_open(struct console *c, const char *title, const char *const *items, size_t n, int def,
		 ui_choose_fn cb, void *arg)
{
	struct chooser *ch = xcalloc(1, sizeof *ch);
	ch->title = xstrdup(title ? title : "");
	for (size_t i = 0; i < n; i++)
		ptrvec_push(&ch->items, xstrdup(items[i] ? items[i] : ""));
	ch->sel = (def >= 0 && (size_t)def < n) ? def : 0;
	ch->cb = cb;
	ch->arg = arg;
	console_open_overlay(c, &chooser_class, ch);
}
