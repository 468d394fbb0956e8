/* The chart as text: exact rows for known series in each style, gaps,
 * degenerate sizes, deploys outside the window and label collisions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* chart.c is pure and lives outside the core library, so it is built in. */
#include "panes/chart.c"

#define MIN 60000

static int cells(const char *s)
{
	int n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* Ten one-minute samples: 1% for five minutes, then 12%; one NaN. */
static int64_t ts10[10];
static double vs10[10];
static const struct chart_deploy three_deploys[] = {
	{.t = 4 * MIN, .label = "api@2.4.0", .flags = CHART_DEPLOY_SUSPECT},
	{.t = 1 * MIN, .label = "web@1.4", .flags = 0},
	{.t = 2 * MIN, .label = "api@2.3.0", .flags = CHART_DEPLOY_LASTGOOD | CHART_DEPLOY_SELECTED},
};

static int setup_series(void **state)
{
	(void)state;
	for (int i = 0; i < 10; i++) {
		ts10[i] = (int64_t)i * MIN;
		vs10[i] = i < 5 ? 0.01 : 0.12;
	}
	vs10[2] = NAN;
	return 0;
}

static struct chart_input base_input(bool utf8, enum chart_style style)
{
	return (struct chart_input){
		.t = ts10, .v = vs10, .n = 10, .t0 = 0, .t1 = 10 * MIN,
		.width = 26, .height = 7, .utf8 = utf8, .style = style,
		.deploys = three_deploys, .ndeploys = 3,
		.has_onset = true, .onset = 5 * MIN,
	};
}

static void assert_rows(const struct chart *c, const char *const *want, int n)
{
	assert_int_equal(c->height, n);
	for (int r = 0; r < n; r++) {
		if (strcmp(c->rows[r], want[r]) != 0)
			fprintf(stderr, "row %d:\n  got  [%s]\n  want [%s]\n", r, c->rows[r], want[r]);
		assert_string_equal(c->rows[r], want[r]);
	}
}

static const struct chart_run *find_run(const struct chart *c, int row, int col)
{
	for (size_t i = 0; i < c->nruns; i++)
		if (c->runs[i].row == row && col >= c->runs[i].col &&
		    col < c->runs[i].col + c->runs[i].len)
			return &c->runs[i];
	return NULL;
}

static void test_blocks_exact(void **state)
{
	(void)state;
	struct chart_input in = base_input(true, CHART_BLOCKS);
	struct chart *c = chart_render(&in);
	static const char *const want[] = {
		"  12%┤          █████████ ",
		"     │          █████████ ",
		"     │          █████████ ",
		"     │▃▃▃▃  ▃▃▃▃█████████ ",
		"     └──┬─┬───┬─▲─────────",
		"          api@2.3.0       ",
		"      web@1.4 api@2.4.0 !!",
	};
	assert_rows(c, want, 7);
	assert_int_equal(c->plot_rows, 4);
	assert_int_equal(c->axis_row, 4);
	assert_int_equal(c->label_rows, 2);
	assert_int_equal(c->label_cols, 6);
	assert_int_equal(c->onset_col, 16);
	assert_true(fabs(c->ymax - 0.12) < 1e-12);

	/* roles: line before the onset, spike from it, deploys by kind */
	const struct chart_run *r = find_run(c, 3, 6);
	assert_non_null(r);
	assert_int_equal(r->role, CHART_ROLE_LINE);
	assert_int_equal(r->len, 4);
	r = find_run(c, 0, 16);
	assert_non_null(r);
	assert_int_equal(r->role, CHART_ROLE_SPIKE);
	assert_int_equal(r->len, 9);
	r = find_run(c, 4, 16);
	assert_int_equal(r->role, CHART_ROLE_SPIKE);
	r = find_run(c, 4, 14);
	assert_int_equal(r->role, CHART_ROLE_SUSPECT);
	assert_false(r->selected);
	r = find_run(c, 4, 10);
	assert_int_equal(r->role, CHART_ROLE_LASTGOOD);
	assert_true(r->selected);
	r = find_run(c, 5, 10);
	assert_int_equal(r->role, CHART_ROLE_LASTGOOD);
	assert_true(r->selected);
	assert_int_equal(r->len, 9);
	r = find_run(c, 6, 14);
	assert_int_equal(r->role, CHART_ROLE_SUSPECT);
	assert_int_equal(r->len, 12);
	r = find_run(c, 6, 6);
	assert_int_equal(r->role, CHART_ROLE_MARKER);
	r = find_run(c, 0, 2);
	assert_int_equal(r->role, CHART_ROLE_AXIS);
	/* the gap (NaN held for two columns) is plain */
	assert_null(find_run(c, 3, 10));
	assert_null(find_run(c, 3, 11));
	chart_free(c);
}

static void test_braille_exact(void **state)
{
	(void)state;
	struct chart_input in = base_input(true, CHART_BRAILLE);
	struct chart *c = chart_render(&in);
	static const char *const want[] = {
		"  12%┤          ⡏⠉⠉⠉⠉⠉⠉⠉⠁ ",
		"     │          ⡇         ",
		"     │          ⡇         ",
		"     │⠤⠤⠤⠤  ⠤⠤⠤⠤⠃         ",
		"     └──┬─┬───┬─▲─────────",
		"          api@2.3.0       ",
		"      web@1.4 api@2.4.0 !!",
	};
	assert_rows(c, want, 7);
	assert_int_equal(find_run(c, 3, 7)->role, CHART_ROLE_LINE);
	assert_int_equal(find_run(c, 1, 16)->role, CHART_ROLE_SPIKE);
	chart_free(c);
}

static void test_ascii_exact(void **state)
{
	(void)state;
	/* style is ignored without UTF-8 */
	struct chart_input in = base_input(false, CHART_BRAILLE);
	struct chart *c = chart_render(&in);
	static const char *const want[] = {
		"  12%+          ######### ",
		"     |          ######### ",
		"     |          ######### ",
		"     |....  ....######### ",
		"     +--+-+---+-^---------",
		"          api@2.3.0       ",
		"      web@1.4 api@2.4.0 !!",
	};
	assert_rows(c, want, 7);
	for (int r = 0; r < c->height; r++)
		for (const char *p = c->rows[r]; *p; p++)
			assert_true((unsigned char)*p < 0x80);
	chart_free(c);
}

static void test_partial_levels(void **state)
{
	(void)state;
	/* 0..100% in eighths on one row: every block glyph in order */
	int64_t t[9];
	double v[9];
	for (int i = 0; i < 9; i++) {
		t[i] = (int64_t)i * MIN;
		v[i] = i / 8.0;
	}
	struct chart_input in = {
		.t = t, .v = v, .n = 9, .t0 = 0, .t1 = 9 * MIN,
		.width = 9, .height = 1, .utf8 = true, .style = CHART_BLOCKS,
	};
	struct chart *c = chart_render(&in);
	assert_int_equal(c->height, 1);
	assert_int_equal(c->label_cols, 0);
	assert_int_equal(c->axis_row, -1);
	assert_string_equal(c->rows[0], " ▁▂▃▄▅▆▇█");
	chart_free(c);

	in.utf8 = false;
	c = chart_render(&in);
	/* ASCII has four levels per cell; halves round up */
	assert_string_equal(c->rows[0], " ..::||##");
	chart_free(c);
}

static void test_nan_inf(void **state)
{
	(void)state;
	int64_t t[6];
	double v[6] = {0.02, INFINITY, 0.04, -INFINITY, NAN, 0.04};
	for (int i = 0; i < 6; i++)
		t[i] = (int64_t)i * MIN;
	struct chart_input in = {
		.t = t, .v = v, .n = 6, .t0 = 0, .t1 = 6 * MIN,
		.width = 6, .height = 2, .utf8 = true, .style = CHART_BLOCKS,
	};
	struct chart *c = chart_render(&in);
	/* Inf does not become the scale; non-finite samples are gaps */
	assert_true(fabs(c->ymax - 0.04) < 1e-12);
	assert_string_equal(c->rows[0], "▄ █  █");
	assert_string_equal(c->rows[1], "──────");
	chart_free(c);

	/* all gaps: nothing drawn, scale 0 */
	double nan6[6] = {NAN, NAN, INFINITY, NAN, NAN, NAN};
	in.v = nan6;
	in.width = 20;
	in.height = 3;
	c = chart_render(&in);
	assert_true(c->ymax == 0);
	assert_string_equal(c->rows[0], "   0%┤              ");
	assert_string_equal(c->rows[1], "     └──────────────");
	assert_string_equal(c->rows[2], "                    ");
	chart_free(c);

	/* negative values clamp to zero */
	double neg[6] = {-0.5, 0.04, 0.04, 0.04, 0.04, 0.04};
	in.v = neg;
	in.width = 6;
	in.height = 1;
	c = chart_render(&in);
	assert_string_equal(c->rows[0], " █████");
	chart_free(c);
}

static void test_empty_series(void **state)
{
	(void)state;
	struct chart_deploy d = {.t = 30 * MIN, .label = "api@1.0", .flags = 0};
	struct chart_input in = {
		.n = 0, .t0 = 0, .t1 = 60 * MIN, .width = 20, .height = 4, .utf8 = true,
		.deploys = &d, .ndeploys = 1,
	};
	struct chart *c = chart_render(&in);
	static const char *const want[] = {
		"   0%┤              ",
		"     │              ",
		"     └───────┬──────",
		"             api@1.0",
	};
	assert_rows(c, want, 4);
	assert_int_equal(c->onset_col, -1);
	chart_free(c);
}

static void test_degenerate_sizes(void **state)
{
	(void)state;
	struct chart_input in = base_input(true, CHART_BLOCKS);
	int sizes[][2] = {{0, 7}, {26, 0}, {0, 0}, {-3, 5}, {5, -1}};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		in.width = sizes[i][0];
		in.height = sizes[i][1];
		struct chart *c = chart_render(&in);
		assert_non_null(c);
		assert_int_equal(c->height, 0);
		assert_null(c->rows);
		assert_int_equal(c->nruns, 0);
		chart_free(c);
	}
	chart_free(NULL);
	struct chart *none = chart_render(NULL);
	assert_non_null(none);
	assert_int_equal(none->height, 0);
	chart_free(none);

	/* every small size: exact widths, runs inside the grid */
	for (int utf8 = 0; utf8 < 2; utf8++)
		for (int st = 0; st < 2; st++)
			for (int w = 1; w <= 40; w++)
				for (int h = 1; h <= 9; h++) {
					in = base_input(utf8, st ? CHART_BRAILLE : CHART_BLOCKS);
					in.width = w;
					in.height = h;
					struct chart *c = chart_render(&in);
					assert_int_equal(c->height, h);
					for (int r = 0; r < h; r++)
						assert_int_equal(cells(c->rows[r]), w);
					for (size_t k = 0; k < c->nruns; k++) {
						assert_true(c->runs[k].row >= 0 && c->runs[k].row < h);
						assert_true(c->runs[k].col >= 0 && c->runs[k].len > 0);
						assert_true(c->runs[k].col + c->runs[k].len <= w);
					}
					chart_free(c);
				}

	/* a window that is empty or reversed: axes only */
	in = base_input(true, CHART_BLOCKS);
	in.t1 = in.t0;
	struct chart *c = chart_render(&in);
	assert_int_equal(c->height, 7);
	assert_string_equal(c->rows[0], "   0%┤                    ");
	assert_string_equal(c->rows[4], "     └────────────────────");
	assert_int_equal(c->onset_col, -1);
	chart_free(c);
}

static void test_deploys_outside_window(void **state)
{
	(void)state;
	struct chart_deploy d[] = {
		{.t = -5 * MIN, .label = "old@0.9", .flags = CHART_DEPLOY_SUSPECT},
		{.t = 11 * MIN, .label = "future@9", .flags = CHART_DEPLOY_SELECTED},
		{.t = 10 * MIN, .label = "edge@1", .flags = 0},
	};
	struct chart_input in = base_input(true, CHART_BLOCKS);
	in.deploys = d;
	in.ndeploys = 3;
	in.has_onset = true;
	in.onset = -MIN; /* before the window: everything drawn is after it */
	struct chart *c = chart_render(&in);
	assert_null(strstr(c->rows[5], "old"));
	assert_null(strstr(c->rows[6], "old"));
	assert_null(strstr(c->rows[5], "future"));
	assert_null(strstr(c->rows[6], "future"));
	/* t == t1 lands in the last column; its label slides left to fit */
	assert_string_equal(c->rows[4], "     └───────────────────┬");
	assert_string_equal(c->rows[5], "                    edge@1");
	assert_int_equal(c->onset_col, -1);
	assert_int_equal(find_run(c, 3, 6)->role, CHART_ROLE_SPIKE);
	chart_free(c);
}

/* Label runs on the label rows of c must never touch each other. */
static void assert_labels_apart(const struct chart *c)
{
	for (size_t i = 0; i < c->nruns; i++) {
		const struct chart_run *a = &c->runs[i];
		if (a->row <= c->axis_row)
			continue;
		for (size_t j = i + 1; j < c->nruns; j++) {
			const struct chart_run *b = &c->runs[j];
			if (b->row != a->row)
				continue;
			/* adjacent runs of the same role would have merged, so
			 * any two runs are distinct labels or label pieces;
			 * require a blank cell between them */
			bool apart = a->col + a->len < b->col || b->col + b->len < a->col;
			assert_true(apart);
		}
	}
}

static void test_label_collisions(void **state)
{
	(void)state;
	/* six deploys within three minutes at 20 plot columns */
	struct chart_deploy d[] = {
		{.t = 3 * MIN, .label = "web@1.4", .flags = 0},
		{.t = 3 * MIN + 20000, .label = "db@7", .flags = 0},
		{.t = 4 * MIN, .label = "api@2.4.0", .flags = CHART_DEPLOY_SUSPECT},
		{.t = 4 * MIN + 30000, .label = "auth@3", .flags = 0},
		{.t = 5 * MIN, .label = "api@2.3.0", .flags = CHART_DEPLOY_LASTGOOD},
		{.t = 5 * MIN + 20000, .label = "cart@1", .flags = CHART_DEPLOY_SELECTED},
	};
	struct chart_input in = base_input(true, CHART_BLOCKS);
	in.deploys = d;
	in.ndeploys = 6;
	in.width = 60;
	struct chart *c = chart_render(&in);
	char both[256];
	snprintf(both, sizeof both, "%s|%s", c->rows[5], c->rows[6]);
	/* the ones that matter always get their label */
	assert_non_null(strstr(both, "cart@1"));
	assert_non_null(strstr(both, "api@2.4.0 !!"));
	assert_non_null(strstr(both, "api@2.3.0"));
	assert_labels_apart(c);
	/* every tick is drawn even when its label had no room */
	int ticks = 0;
	for (const char *p = c->rows[4]; *p; p++)
		if (strncmp(p, "┬", strlen("┬")) == 0)
			ticks++;
	assert_int_equal(ticks, 6);
	chart_free(c);

	/* narrow: not everything fits, but the selected and the suspect do */
	in.width = 26;
	c = chart_render(&in);
	snprintf(both, sizeof both, "%s|%s", c->rows[5], c->rows[6]);
	assert_non_null(strstr(both, "cart@1"));
	assert_non_null(strstr(both, "api@2.4.0 !!"));
	assert_labels_apart(c);
	chart_free(c);

	/* one label row only (height 3): the selected label wins its spot */
	in.height = 3;
	c = chart_render(&in);
	assert_int_equal(c->label_rows, 1);
	assert_non_null(strstr(c->rows[2], "cart@1"));
	assert_labels_apart(c);
	chart_free(c);

	/* a label wider than the plot is cut to fit */
	struct chart_deploy big = {.t = 0, .label = "a-very-long-service-name@1.2.3", .flags = 0};
	in = base_input(true, CHART_BLOCKS);
	in.deploys = &big;
	in.ndeploys = 1;
	in.width = 16;
	c = chart_render(&in);
	assert_string_equal(c->rows[5], "      a-very-lon");
	chart_free(c);
}

static void test_shared_column(void **state)
{
	(void)state;
	/* two deploys in one column: the suspect's tick shows */
	struct chart_deploy d[] = {
		{.t = 4 * MIN, .label = "web@1", .flags = 0},
		{.t = 4 * MIN + 1000, .label = "api@2", .flags = CHART_DEPLOY_SUSPECT},
	};
	struct chart_input in = base_input(false, CHART_BLOCKS);
	in.deploys = d;
	in.ndeploys = 2;
	in.has_onset = false;
	struct chart *c = chart_render(&in);
	assert_int_equal(find_run(c, 4, 14)->role, CHART_ROLE_SUSPECT);
	assert_string_equal(c->rows[5], "              api@2 !!    ");
	assert_string_equal(c->rows[6], "              web@1       ");
	assert_int_equal(c->onset_col, -1);
	assert_int_equal(find_run(c, 0, 16)->role, CHART_ROLE_LINE);
	chart_free(c);
}

static void test_hold_and_zoom(void **state)
{
	(void)state;
	/* a 60 s series seen in a window much finer than its step draws a
	 * continuous line up to the last sample and nothing after it */
	int64_t t[3] = {0, MIN, 2 * MIN};
	double v[3] = {0.1, 0.1, 0.1};
	struct chart_input in = {
		.t = t, .v = v, .n = 3, .t0 = 0, .t1 = 4 * MIN,
		.width = 8, .height = 1, .utf8 = true, .style = CHART_BLOCKS,
	};
	struct chart *c = chart_render(&in);
	assert_string_equal(c->rows[0], "█████   ");
	chart_free(c);
	/* a sample before the window carries into it */
	in.t0 = MIN / 2;
	in.t1 = MIN / 2 + 8000;
	c = chart_render(&in);
	assert_string_equal(c->rows[0], "████████");
	chart_free(c);
}

static void test_format_pct(void **state)
{
	(void)state;
	char b[16];
	struct { double r; const char *s; } cases[] = {
		{0.12, "12%"}, {0.005, "0.5%"}, {1.0, "100%"}, {0, "0%"}, {-1, "0%"},
		{NAN, "0%"}, {INFINITY, "0%"}, {0.025, "2.5%"}, {0.05, "5%"},
		{0.0004, "0.04%"}, {0.00001, "<.01%"}, {20.0, "999+%"}, {0.0999, "10%"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		chart_format_pct(cases[i].r, b, sizeof b);
		assert_string_equal(b, cases[i].s);
		assert_true(strlen(b) <= 5);
	}
}

static void test_time_col(void **state)
{
	(void)state;
	struct chart_input in = base_input(true, CHART_BLOCKS);
	struct chart *c = chart_render(&in);
	assert_int_equal(chart_time_col(c, 0, 10 * MIN, 0), 6);
	assert_int_equal(chart_time_col(c, 0, 10 * MIN, 10 * MIN), 25);
	assert_int_equal(chart_time_col(c, 0, 10 * MIN, 5 * MIN), 16);
	assert_int_equal(chart_time_col(c, 0, 10 * MIN, -1), -1);
	assert_int_equal(chart_time_col(c, 0, 10 * MIN, 10 * MIN + 1), -1);
	assert_int_equal(chart_time_col(NULL, 0, 1, 0), -1);
	assert_string_equal(chart_role_name(CHART_ROLE_SUSPECT), "deploy.suspect");
	assert_string_equal(chart_role_name(CHART_ROLE__COUNT), "normal");
	chart_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_blocks_exact, setup_series),
		cmocka_unit_test_setup(test_braille_exact, setup_series),
		cmocka_unit_test_setup(test_ascii_exact, setup_series),
		cmocka_unit_test(test_partial_levels),
		cmocka_unit_test(test_nan_inf),
		cmocka_unit_test(test_empty_series),
		cmocka_unit_test_setup(test_degenerate_sizes, setup_series),
		cmocka_unit_test_setup(test_deploys_outside_window, setup_series),
		cmocka_unit_test_setup(test_label_collisions, setup_series),
		cmocka_unit_test_setup(test_shared_column, setup_series),
		cmocka_unit_test(test_hold_and_zoom),
		cmocka_unit_test(test_format_pct),
		cmocka_unit_test_setup(test_time_col, setup_series),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
