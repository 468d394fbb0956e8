/* Safe text: escape sequences and controls never survive, invalid UTF-8 is
 * replaced, widths match what a terminal draws. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"

static void check(const char *in, bool utf8, const char *want)
{
	char *out = text_sanitize(in, utf8);
	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
}

/* No byte below 0x20, no DEL, no ESC, no C1 (as UTF-8 C2 80..9F) remains. */
static void assert_clean(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		assert_true(*p >= 0x20);
		assert_true(*p != 0x7F);
		if (*p == 0xC2)
			assert_false(p[1] >= 0x80 && p[1] <= 0x9F);
	}
}

static void test_plain_text_unchanged(void **state)
{
	check("HighErrorRate 5xx 12%", true, "HighErrorRate 5xx 12%");
	check("", true, "");
	check("caf\xc3\xa9 \xe2\x86\x92 \xe6\x97\xa5\xe6\x9c\xac", true,
	      "caf\xc3\xa9 \xe2\x86\x92 \xe6\x97\xa5\xe6\x9c\xac");
	char *out = text_sanitize(NULL, true);
	assert_string_equal(out, "");
	free(out);
}

static void test_osc_title_and_clear_screen(void **state)
{
	check("\x1b]0;pwned\x07" "disk full\x1b[2J on db", true, "disk full on db");
	check("a\x1b]2;title\x1b\\b", true, "ab");                 /* ST terminator */
	check("a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b", true, "alinkb"); /* hyperlink */
	check("x\x1b]0;never terminated", true, "x");
	check("\xc2\x9d" "0;c1 osc\xc2\x9c" "ok", true, "ok");         /* 8-bit OSC + ST */
}

static void test_csi_and_other_escapes(void **state)
{
	check("\x1b[31mred\x1b[0m", true, "red");
	check("\x1b[?1049h\x1b[H\x1b[3J", true, "");
	check("\x1b[1;31;4mX", true, "X");
	check("\x1b(Bq\x1b#8w\x1b" "c" "e\x1b" "7f", true, "qwef");   /* nF, RIS, DECSC */
	check("\xc2\x9b" "2Jz", true, "z");                            /* 8-bit CSI */
	check("\x1bP1$qm\x1b\\d", true, "d");                         /* DCS */
	check("\x1b_apc\x1b\\\x1b^pm\x1b\\\x1bXsos\x1b\\k", true, "k");
	check("trailing\x1b", true, "trailing");
	check("\x1b[", true, "");
}

static void test_controls(void **state)
{
	check("a\tb\nc\rd", true, "a b c d");
	check("bell\x07 bs\x08 del\x7f nul-free", true, "bell bs del nul-free");
	check("\x01\x02\x03\x0e\x0f\x1f", true, "");
	check("c1\xc2\x80\xc2\x85\xc2\x8a!", true, "c1!");
	check("apc\xc2\x9fswallowed", true, "apc");
	check("bidi\xe2\x80\xae" "txt\xe2\x81\xa6" "x", true, "biditxtx");
	check("line\xe2\x80\xa8sep", true, "line sep");
}

static void test_invalid_utf8(void **state)
{
	check("a\xff" "b", true, "a\xef\xbf\xbd" "b");
	check("a\xff" "b", false, "a?b");
	check("\xc0\xaf", true, "\xef\xbf\xbd\xef\xbf\xbd");            /* overlong '/' */
	check("\xed\xa0\x80", true, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* surrogate */
	check("\xf4\x90\x80\x80", true,
	      "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");         /* > U+10FFFF */
	check("cut\xe2\x82", true, "cut\xef\xbf\xbd\xef\xbf\xbd");       /* truncated */
	check("\x80", true, "\xef\xbf\xbd");                              /* lone continuation */
	/* Not a UTF-8 terminal: everything non-ASCII becomes '?'. */
	check("caf\xc3\xa9 \xe6\x97\xa5", false, "caf? ?");
}

static void test_fuzzish_never_leaks(void **state)
{
	/* Every pair and triple of interesting bytes around text: nothing
	 * unsafe comes out, and output is valid input to a second pass that
	 * leaves it unchanged. */
	const char bytes[] = {0x1b, '[', ']', 'P', '\\', 0x07, 0x7f, (char)0xc2, (char)0x9b,
			      (char)0x9d, (char)0xff, 'a', ';', '0', '\n'};
	size_t nb = sizeof bytes;
	char in[8];
	for (size_t a = 0; a < nb; a++)
		for (size_t b = 0; b < nb; b++)
			for (size_t c = 0; c < nb; c++) {
				in[0] = 'x', in[1] = bytes[a], in[2] = bytes[b], in[3] = bytes[c];
				in[4] = 'y', in[5] = 0;
				char *out = text_sanitize(in, true);
				assert_clean(out);
				char *again = text_sanitize(out, true);
				assert_string_equal(out, again);
				free(out);
				free(again);
			}
}

static void test_width_and_fit(void **state)
{
	assert_int_equal(text_width("abc"), 3);
	assert_int_equal(text_width(""), 0);
	assert_int_equal(text_width(NULL), 0);
	assert_int_equal(text_width("\xe6\x97\xa5\xe6\x9c\xac"), 4);       /* 日本: wide */
	assert_int_equal(text_width("e\xcc\x81"), 1);                      /* e + combining acute */
	assert_int_equal(text_width("\xe2\x97\x8f ok"), 4);                /* ● */
	assert_int_equal(text_fit("abcdef", 3), 3);
	assert_int_equal(text_fit("abc", 10), 3);
	assert_int_equal(text_fit("abc", 0), 0);
	/* A wide char never splits: 3 columns hold one of 日本 (3 bytes). */
	assert_int_equal(text_fit("\xe6\x97\xa5\xe6\x9c\xac", 3), 3);
	assert_int_equal(text_fit("\xe6\x97\xa5\xe6\x9c\xac", 4), 6);
	/* The combining mark stays with its base. */
	assert_int_equal(text_fit("e\xcc\x81x", 1), 3);
	/* Never cuts inside a multibyte sequence. */
	assert_int_equal(text_fit("\xc3\xa9\xc3\xa9", 1), 2);
}

int main(void)
{
	if (!setlocale(LC_ALL, "C.UTF-8"))
		setlocale(LC_ALL, "C.utf8");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text_unchanged),
		cmocka_unit_test(test_osc_title_and_clear_screen),
		cmocka_unit_test(test_csi_and_other_escapes),
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_fuzzish_never_leaks),
		cmocka_unit_test(test_width_and_fit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
