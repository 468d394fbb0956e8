/* The comms log keeps its window between frames and writes only the cells
 * that changed (pane_rows). Each step here draws it that way into one
 * long-lived window, draws the same frame the plain way (erase, pane_put
 * every row, as the pane did before) into a fresh window, and compares every
 * cell: following and scrolling, selection, pointing, filters, paused
 * counts, resizes, a new theme, wide and combining characters, escape
 * sequences, narrow panes and an ASCII terminal. No terminal needed: curses
 * writes to /dev/null. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* UI code outside the core library, so it is built in. */
#include "tui/draw.c"
#include "panes/comms.c"

struct fixture {
	SCREEN *scr;
	FILE *out, *in;
	struct state *st;
	struct theme theme;
	struct pane p;
	struct pane_ctx ctx;
	uint64_t seq;
	int64_t ts;
};

static struct fixture fx;

static void theme_fill(struct theme *t, int shift)
{
	memset(t, 0, sizeof *t);
	/* distinct attributes and pairs per role, so a cell drawn with the
	 * wrong role (or a stale theme) shows */
	for (int i = 0; i < THEME__COUNT; i++)
		t->attr[i] = COLOR_PAIR((i + shift) % 60 + 1) | ((i + shift) % 3 == 0 ? A_BOLD : 0);
}

static void pane_resize(int h, int w)
{
	if (fx.p.win)
		delwin(fx.p.win);
	fx.p.win = newwin(h, w, 0, 0);
	assert_non_null(fx.p.win);
	fx.p.h = h;
	fx.p.w = w;
	fx.p.win_gen++;
}

static int setup(void **state)
{
	(void)state;
	setlocale(LC_ALL, "C.UTF-8");
	setenv("LINES", "60", 1);
	setenv("COLUMNS", "160", 1);
	memset(&fx, 0, sizeof fx);
	fx.out = fopen("/dev/null", "w");
	fx.in = fopen("/dev/null", "r");
	fx.scr = newterm("xterm-256color", fx.out, fx.in);
	assert_non_null(fx.scr);
	set_term(fx.scr);
	start_color();
	theme_fill(&fx.theme, 0);
	fx.st = state_new();
	fx.p.cls = &pane_comms_class;
	fx.p.priv = pane_comms_class.priv_new(&fx.p);
	fx.p.visible = true;
	pane_resize(24, 55);
	pane_set_utf8(true);
	fx.ctx = (struct pane_ctx){.st = fx.st, .utf8 = true, .theme = &fx.theme, .me = "bob"};
	fx.seq = 1;
	fx.ts = 1700000000000LL;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pane_comms_class.priv_free(fx.p.priv);
	free(fx.p.filter);
	delwin(fx.p.win);
	endwin();
	delscreen(fx.scr);
	fclose(fx.out);
	fclose(fx.in);
	state_free(fx.st);
	return 0;
}

static void add(enum event_kind kind, const char *by, const char *text)
{
	struct comms_entry *e = xcalloc(1, sizeof *e);
	e->seq = fx.seq++;
	e->ts = fx.ts;
	fx.ts += 61000;
	e->kind = kind;
	e->by = xstrdup(by);
	e->text = xstrdup(text);
	ptrvec_push(&fx.st->comms, e);
}

static void add_notes(int n, const char *fmt)
{
	for (int i = 0; i < n; i++) {
		char text[80];
		snprintf(text, sizeof text, fmt, (int)fx.seq);
		add(i % 3 ? EV_NOTE : EV_ALERT_FIRED, i % 2 ? "alice" : "bob", text);
	}
}

/* The frame as the pane drew it before it kept its window. */
static void draw_plain(WINDOW *win)
{
	struct pane *p = &fx.p;
	const struct pane_ctx *ctx = &fx.ctx;
	struct comms_priv *pr = p->priv;
	struct pane on = *p;
	on.win = win;
	struct comms_list l = comms_visible(p, ctx);
	int n = l.n, rows = p->h - 1;
	char extra[48];
	comms_title_extra(pr, ctx, extra, sizeof extra);
	pane_title(&on, ctx, extra);
	if (!n && rows > 0)
		pane_put(win, 1, 1, p->w - 2, pane_attr(ctx, THEME_DIM),
			 ctx->st->comms.n ? "nothing matches the filter" : "nothing yet");
	int by_w = p->w >= 60 ? 10 : 8;
	for (int r = 0; r < rows && p->scroll + r < n; r++) {
		int i = p->scroll + r;
		const struct comms_entry *e = comms_at(&l, i);
		int y = 1 + r;
		char target[40];
		snprintf(target, sizeof target, "comms:%llu", (unsigned long long)e->seq);
		bool pointed = ctx->point_target && !strcmp(ctx->point_target, target);
		bool sel = p->focused && i == p->sel && !pr->follow;
		bool h = sel || pointed;
		attr_t hl = pane_attr(ctx, pointed ? THEME_POINT : THEME_SELECTION);
		if (h)
			pane_fill(win, y, 0, p->w, hl);
		char hm[8] = "--:--";
		time_t secs = (time_t)(e->ts / 1000);
		struct tm tm;
		if (e->ts > 0 && localtime_r(&secs, &tm))
			strftime(hm, sizeof hm, "%H:%M", &tm);
		int x = 1;
		pane_put(win, y, x, 5, h ? hl : pane_attr(ctx, THEME_COMMS_TIME), hm);
		x += 6;
		pane_put(win, y, x, by_w - 1, h ? hl : pane_attr(ctx, THEME_COMMS_BY), e->by ? e->by : "");
		x += by_w;
		pane_put(win, y, x, p->w - x - 1, h ? hl : pane_attr(ctx, comms_style(e->kind).role),
			 e->text ? e->text : "");
	}
	comms_list_free(&l);
}

static void cell_text(const cchar_t *c, char *buf, size_t len, attr_t *a, short *pair)
{
	wchar_t wc[CCHARW_MAX + 1] = {0};
	getcchar(c, wc, a, pair, NULL);
	snprintf(buf, len, "%ls", wc);
}

/* One frame: the kept window drawn as the console does (not erased), the
 * plain frame on a fresh window, every cell compared. */
static void frame(const char *what)
{
	pane_comms_class.draw(&fx.p, &fx.ctx);
	WINDOW *plain = newwin(fx.p.h, fx.p.w, 0, 0);
	assert_non_null(plain);
	draw_plain(plain);
	for (int y = 0; y < fx.p.h; y++)
		for (int x = 0; x < fx.p.w; x++) {
			cchar_t a, b;
			mvwin_wch(fx.p.win, y, x, &a);
			mvwin_wch(plain, y, x, &b);
			char ta[64], tb[64];
			attr_t aa, ab;
			short pa, pb;
			cell_text(&a, ta, sizeof ta, &aa, &pa);
			cell_text(&b, tb, sizeof tb, &ab, &pb);
			if (strcmp(ta, tb) || aa != ab || pa != pb)
				fail_msg("%s: cell %d,%d is '%s' attr %#lx pair %d, want '%s' attr %#lx pair %d",
					 what, y, x, ta, (unsigned long)aa, pa, tb, (unsigned long)ab, pb);
		}
	delwin(plain);
}

/* Row y of the kept window as text (sanity checks on the plain frame too). */
static void row_text(int y, char *buf, size_t len)
{
	size_t at = 0;
	buf[0] = 0;
	for (int x = 0; x < fx.p.w && at + 8 < len; x++) {
		cchar_t c;
		char t[64];
		attr_t a;
		short pair;
		mvwin_wch(fx.p.win, y, x, &c);
		cell_text(&c, t, sizeof t, &a, &pair);
		at += (size_t)snprintf(buf + at, len - at, "%s", t);
	}
}

static void key(int k)
{
	pane_comms_class.key(&fx.p, &fx.ctx, k);
}

static void set_filter(const char *f)
{
	/* as the console's `/` does */
	free(fx.p.filter);
	fx.p.filter = f ? xstrdup(f) : NULL;
	fx.p.sel = fx.p.scroll = 0;
}

static void test_follow_and_scroll(void **state)
{
	(void)state;
	char row[512];
	frame("empty");
	row_text(1, row, sizeof row);
	assert_non_null(strstr(row, "nothing yet"));
	add_notes(40, "earlier note %d");
	frame("forty notes");
	for (int i = 0; i < 5; i++) {
		add_notes(1, "marker %d ABCDEFG");
		frame("one more note");
	}
	row_text(fx.p.h - 1, row, sizeof row);
	assert_non_null(strstr(row, "marker 45 ABCDEFG"));
	add_notes(3, "three at once %d");
	frame("three notes in one frame");
}

static void test_selection_pause_and_point(void **state)
{
	(void)state;
	fx.p.focused = true;
	frame("focused");
	key('k');
	frame("selection one up (paused)");
	key('k');
	key('k');
	frame("selection three up");
	add_notes(2, "while paused %d");
	frame("new below while paused");
	key(KEY_PPAGE);
	frame("page up");
	fx.ctx.point_target = "comms:30";
	frame("pointed");
	fx.ctx.point_target = "comms:030";
	frame("not quite a target");
	fx.ctx.point_target = NULL;
	frame("point expired");
	key(KEY_END);
	frame("following again");
	fx.p.focused = false;
	frame("unfocused");
}

static void test_filter(void **state)
{
	(void)state;
	set_filter("marker");
	frame("filter marker");
	set_filter("alice marker");
	frame("two words");
	set_filter("nothing-has-this");
	frame("filter matches nothing");
	char row[512];
	row_text(1, row, sizeof row);
	assert_non_null(strstr(row, "nothing matches the filter"));
	set_filter(NULL);
	frame("filter cleared");
}

static void test_resize_and_theme(void **state)
{
	(void)state;
	pane_resize(30, 70);
	frame("wider and taller (10-column names)");
	pane_resize(12, 40);
	frame("narrower");
	pane_resize(3, 12);
	frame("tiny");
	pane_resize(1, 30);
	frame("title only");
	pane_resize(24, 55);
	frame("back");
	/* a new theme: same window, every cell in new colours */
	theme_fill(&fx.theme, 7);
	fx.p.win_gen++;
	frame("new theme");
	add_notes(1, "after the theme %d");
	frame("note after the theme");
}

static void test_hostile_text(void **state)
{
	(void)state;
	add(EV_NOTE, "漢字さん", "漢字テキスト wide characters 漢字漢字漢字漢字漢字漢字漢字");
	frame("wide");
	add(EV_NOTE, "eve", "cafe\xcc\x81 combining, \x1b[31mred\x1b[0m, \x1b]0;title\x07 osc, \ttab");
	frame("combining and escapes");
	add(EV_NOTE, "bad\xff", "invalid \xc3 utf-8 \xf0\x9f\x98\x80 emoji");
	frame("invalid and emoji");
	/* wide characters one column apart on neighbouring rows, and one that
	 * would not fit in the last column */
	const char *shifted[] = {"a漢字漢字 x", "漢字漢字b x", "ab漢字漢字", "漢a字b漢c字",
				 "1234567890123456789012345678漢"};
	for (size_t i = 0; i < sizeof shifted / sizeof shifted[0]; i++) {
		add(EV_NOTE, "bob", shifted[i]);
		frame("wide characters shifted");
	}
	for (int i = 0; i < 30; i++) {
		add_notes(1, "pushing the wide ones out %d");
		frame("wide lines scroll");
	}
	/* entries whose seqs share a cache slot, on screen together */
	fx.seq += 63;
	add(EV_NOTE, "bob", "slot twin A");
	fx.seq += 63;
	add(EV_NOTE, "bob", "slot twin B");
	frame("slot twins");
	set_filter("twin");
	frame("slot twins filtered");
	set_filter(NULL);
	frame("slot twins unfiltered");
}

static void test_ascii(void **state)
{
	(void)state;
	pane_set_utf8(false);
	fx.ctx.utf8 = false;
	fx.p.win_gen++;
	frame("ascii");
	add(EV_NOTE, "漢字", "non-ascii → text é");
	frame("ascii with non-ascii text");
	fx.p.focused = true;
	key('k');
	frame("ascii selection");
	key(KEY_END);
	pane_set_utf8(true);
	fx.ctx.utf8 = true;
	fx.p.win_gen++;
	frame("utf-8 again");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_follow_and_scroll),
		cmocka_unit_test(test_selection_pause_and_point),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_resize_and_theme),
		cmocka_unit_test(test_hostile_text),
		cmocka_unit_test(test_ascii),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
