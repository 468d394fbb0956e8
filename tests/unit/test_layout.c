/* Layout arithmetic at the sizes people use and the ones they hit by
 * accident: areas as text, plus invariants (inside the screen, no overlaps)
 * checked over every size up to 200x60. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

/* The layout is UI code outside libcore; it has no dependencies, so the test
 * compiles it in. */
#include "tui/layout.c"

static void expect(int cols, int rows, int focus, bool banner, const char *want)
{
	struct layout l;
	char buf[1024];
	layout_compute(&l, cols, rows, focus, banner);
	layout_describe(&l, buf, sizeof buf);
	assert_string_equal(buf, want);
}

static void test_160x48(void **state)
{
	expect(160, 48, 0, false,
	       "header 0,1 158x1\n"
	       "alerts 1,1 86x16\n"
	       "timeline 18,1 86x29\n"
	       "roster 1,88 71x14\n"
	       "comms 16,88 71x31\n"
	       "keybar 47,1 158x1\n");
	struct layout l;
	layout_compute(&l, 160, 48, 0, false);
	assert_true(l.full);
	assert_int_equal(l.sep_x, 87);
	assert_int_equal(l.left_split_y, 17);
	assert_int_equal(l.right_split_y, 15);
}

static void test_80x24(void **state)
{
	expect(80, 24, 2, false,
	       "header 0,1 78x1\n"
	       "alerts 1,1 42x8\n"
	       "timeline 10,1 42x13\n"
	       "roster 1,44 35x8\n"
	       "comms 10,44 35x13\n"
	       "keybar 23,1 78x1\n");
	/* The banner takes one row from the top of both columns. */
	expect(80, 24, 0, true,
	       "header 0,1 78x1\n"
	       "banner 1,1 78x1\n"
	       "alerts 2,1 42x8\n"
	       "timeline 11,1 42x12\n"
	       "roster 2,44 35x8\n"
	       "comms 11,44 35x12\n"
	       "keybar 23,1 78x1\n");
}

static void test_79x23_one_pane(void **state)
{
	expect(79, 23, 0, false, "header 0,0 79x1\nalerts 1,0 79x21\nkeybar 22,0 79x1\n");
	expect(79, 23, 3, false, "header 0,0 79x1\ncomms 1,0 79x21\nkeybar 22,0 79x1\n");
	/* One dimension too small is enough. */
	expect(200, 23, 1, false, "header 0,0 200x1\ntimeline 1,0 200x21\nkeybar 22,0 200x1\n");
	expect(79, 60, 2, false, "header 0,0 79x1\nroster 1,0 79x58\nkeybar 59,0 79x1\n");
}

static void test_30x8_and_20x5(void **state)
{
	expect(30, 8, 1, false, "header 0,0 30x1\ntimeline 1,0 30x6\nkeybar 7,0 30x1\n");
	expect(30, 8, 1, true,
	       "header 0,0 30x1\nbanner 1,0 30x1\ntimeline 2,0 30x5\nkeybar 7,0 30x1\n");
	expect(20, 5, 0, false, "header 0,0 20x1\nalerts 1,0 20x3\nkeybar 4,0 20x1\n");
	expect(20, 5, 0, true, "header 0,0 20x1\nbanner 1,0 20x1\nalerts 2,0 20x2\nkeybar 4,0 20x1\n");
}

static void test_absurd_sizes(void **state)
{
	expect(1, 1, 0, true, "header 0,0 1x1\n");
	expect(20, 2, 0, false, "header 0,0 20x1\nkeybar 1,0 20x1\n");
	expect(5, 3, 3, true, "header 0,0 5x1\ncomms 1,0 5x1\nkeybar 2,0 5x1\n");
	expect(0, 0, 0, false, "");
	expect(-5, 10, 0, false, "");
	expect(10, 10, 99, false, "header 0,0 10x1\nalerts 1,0 10x8\nkeybar 9,0 10x1\n");
}

static bool overlap(const struct layout_rect *a, const struct layout_rect *b)
{
	if (!a->h || !b->h)
		return false;
	return a->y < b->y + b->h && b->y < a->y + a->h && a->x < b->x + b->w && b->x < a->x + a->w;
}

static void test_invariants_every_size(void **state)
{
	for (int cols = 1; cols <= 200; cols++)
		for (int rows = 1; rows <= 60; rows++)
			for (int banner = 0; banner < 2; banner++) {
				struct layout l;
				layout_compute(&l, cols, rows, (cols + rows) % 4, banner);
				const struct layout_rect *all[] = {&l.header, &l.banner, &l.keybar,
								   &l.pane[0], &l.pane[1], &l.pane[2],
								   &l.pane[3]};
				size_t n = sizeof all / sizeof all[0];
				int shown = 0;
				for (size_t i = 0; i < n; i++) {
					const struct layout_rect *r = all[i];
					assert_true(r->h >= 0 && r->w >= 0);
					if (!r->h)
						continue;
					assert_true(r->y >= 0 && r->x >= 0);
					assert_true(r->y + r->h <= rows);
					assert_true(r->x + r->w <= cols);
					for (size_t j = i + 1; j < n; j++)
						assert_false(overlap(r, all[j]));
					if (i >= 3)
						shown++;
				}
				assert_int_equal(l.full, cols >= 80 && rows >= 24);
				if (l.full) {
					assert_int_equal(shown, 4);
					/* Every pane has a title row and at least 3 more. */
					for (int p = 0; p < 4; p++)
						assert_true(l.pane[p].h >= 4);
					/* The separator column lies between the columns. */
					assert_int_equal(l.pane[0].x + l.pane[0].w, l.sep_x);
					assert_int_equal(l.pane[2].x, l.sep_x + 1);
					assert_int_equal(l.pane[2].x + l.pane[2].w, cols - 1);
				} else {
					assert_true(shown <= 1);
					assert_int_equal(shown, rows >= 3 ? 1 : 0);
				}
			}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_160x48),
		cmocka_unit_test(test_80x24),
		cmocka_unit_test(test_79x23_one_pane),
		cmocka_unit_test(test_30x8_and_20x5),
		cmocka_unit_test(test_absurd_sizes),
		cmocka_unit_test(test_invariants_every_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
