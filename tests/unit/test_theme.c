/* Themes: the files in themes/ parse and say the same as the compiled-in
 * copies; bad lines are reported with their number; NO_COLOR picks mono;
 * 256-colour numbers map down sensibly. Runs from the repository root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

/* theme.c is UI code outside libcore: compile it in. */
#include "themes/theme.c"

static void test_files_match_builtins(void **state)
{
	for (size_t i = 0; i < THEME_NBUILTIN; i++) {
		char err[256] = "";
		char *path = xasprintf("themes/%s.theme", theme_builtins[i].name);
		size_t len;
		char *text = file_read_all(path, 1 << 16, &len);
		if (!text)
			fail_msg("cannot read %s (run from the repository root)", path);
		struct theme *file = theme_parse(theme_builtins[i].name, text, err, sizeof err);
		if (!file)
			fail_msg("%s: %s", path, err);
		struct theme *built = theme_parse(theme_builtins[i].name, theme_builtins[i].text,
						  err, sizeof err);
		assert_non_null(built);
		for (int r = 0; r < THEME__COUNT; r++) {
			/* Every role is listed in every theme file. */
			if (!file->style[r].set)
				fail_msg("%s: role %s missing", path, theme_role_name(r));
			if (memcmp(&file->style[r], &built->style[r], sizeof file->style[r]))
				fail_msg("%s: role %s differs from the compiled-in copy", path,
					 theme_role_name(r));
		}
		theme_free(file);
		theme_free(built);
		free(text);
		free(path);
	}
}

static void test_parse_values_and_errors(void **state)
{
	char err[256];
	struct theme *t = theme_parse("x", "# c\n\nnormal = default default\n"
					   "alert.crit = 196 black bold underline # why\n"
					   "banner=bright-yellow - reverse\n", err, sizeof err);
	assert_non_null(t);
	assert_int_equal(t->style[THEME_ALERT_CRIT].fg, 196);
	assert_int_equal(t->style[THEME_ALERT_CRIT].bg, 0);
	assert_int_equal(t->style[THEME_ALERT_CRIT].attrs, THEME_ATTR_BOLD | THEME_ATTR_UNDERLINE);
	assert_int_equal(t->style[THEME_BANNER].fg, 11);
	assert_int_equal(t->style[THEME_BANNER].bg, -1);
	assert_int_equal(t->style[THEME_BANNER].attrs, THEME_ATTR_REVERSE);
	/* Unlisted roles take normal's style. */
	assert_int_equal(t->style[THEME_COMMS_BY].fg, -1);
	assert_false(t->style[THEME_COMMS_BY].set);
	theme_free(t);

	assert_null(theme_parse("x", "normal = default default\nnope = 1 2\n", err, sizeof err));
	assert_string_equal(err, "line 2: unknown role \"nope\"");
	assert_null(theme_parse("x", "dim = 256 default\n", err, sizeof err));
	assert_string_equal(err, "line 1: bad colour \"256\"");
	assert_null(theme_parse("x", "dim = red\n", err, sizeof err));
	assert_string_equal(err, "line 1: dim needs a foreground and a background");
	assert_null(theme_parse("x", "dim = red blue blink\n", err, sizeof err));
	assert_string_equal(err, "line 1: bad attribute \"blink\"");
	assert_null(theme_parse("x", "just words\n", err, sizeof err));
	assert_string_equal(err, "line 1: expected \"role = fg bg [attrs]\"");
}

static void test_load_and_no_color(void **state)
{
	char err[256];
	setenv("WARROOM_THEMES", "/nonexistent-dir", 1);
	struct theme *t = theme_load("mono", err, sizeof err);
	assert_non_null(t);
	assert_string_equal(t->name, "mono");
	theme_free(t);
	assert_null(theme_load("../etc/passwd", err, sizeof err));
	assert_null(theme_load("no-such-theme", err, sizeof err));
	assert_non_null(strstr(err, "no theme \"no-such-theme\""));

	setenv("NO_COLOR", "1", 1);
	t = theme_initial("light", err, sizeof err);
	assert_string_equal(t->name, "mono");
	theme_free(t);
	unsetenv("NO_COLOR");
	t = theme_initial("light", err, sizeof err);
	assert_string_equal(t->name, "light");
	theme_free(t);
	/* An unknown configured theme still gives a usable one, and says why. */
	t = theme_initial("bogus", err, sizeof err);
	assert_string_equal(t->name, "dark");
	assert_true(err[0] != 0);
	theme_free(t);
	unsetenv("WARROOM_THEMES");
}

static void test_colour_mapping(void **state)
{
	assert_int_equal(theme_map_colour(-1, 8), -1);
	assert_int_equal(theme_map_colour(3, 8), 3);
	assert_int_equal(theme_map_colour(196, 8), 1);     /* bright red -> red */
	assert_int_equal(theme_map_colour(196, 16), 9);
	assert_int_equal(theme_map_colour(196, 256), 196);
	assert_int_equal(theme_map_colour(16, 8), 0);      /* cube black */
	assert_int_equal(theme_map_colour(231, 16), 15);   /* cube white */
	assert_int_equal(theme_map_colour(244, 8), 7);     /* grey never vanishes */
	assert_int_equal(theme_map_colour(240, 16), 8);
	assert_int_equal(theme_map_colour(75, 8), 6);      /* sky blue -> cyan */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_files_match_builtins),
		cmocka_unit_test(test_parse_values_and_errors),
		cmocka_unit_test(test_load_and_no_color),
		cmocka_unit_test(test_colour_mapping),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
