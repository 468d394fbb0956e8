/* The terminal sanitiser: whatever bytes come in, what comes out holds no
 * ESC, no C0 or C1 control, no DEL and no bidi control, is valid UTF-8 (pure
 * ASCII in the non-UTF-8 mode), is left unchanged by a second pass, and
 * measures and cuts sanely. Runs under a UTF-8 locale, as the console does. */
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"

const char *const fuzz_target_name = "text";

/* Strict UTF-8 check; counts code points. Aborts on any forbidden one. */
static size_t check_clean(const unsigned char *s, size_t n, bool utf8)
{
	size_t i = 0, cps = 0;
	while (i < n) {
		unsigned char c = s[i];
		uint32_t cp;
		size_t len;
		if (c < 0x80) {
			cp = c, len = 1;
		} else {
			if (!utf8)
				abort(); /* non-UTF-8 mode gives ASCII only */
			if (c >= 0xC2 && c <= 0xDF)
				len = 2, cp = c & 0x1F;
			else if (c >= 0xE0 && c <= 0xEF)
				len = 3, cp = c & 0x0F;
			else if (c >= 0xF0 && c <= 0xF4)
				len = 4, cp = c & 0x07;
			else
				abort();
			if (i + len > n)
				abort();
			for (size_t k = 1; k < len; k++) {
				if ((s[i + k] & 0xC0) != 0x80)
					abort();
				cp = (cp << 6) | (s[i + k] & 0x3F);
			}
			static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
			if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
				abort();
		}
		if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F))
			abort();
		if ((cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
		    cp == 0x200E || cp == 0x200F || cp == 0x061C || cp == 0x2028 || cp == 0x2029)
			abort();
		i += len;
		cps++;
	}
	return cps;
}

static void check_mode(const char *in, bool utf8)
{
	char *out = text_sanitize(in, utf8);
	size_t n = strlen(out);
	size_t cps = check_clean((const unsigned char *)out, n, utf8);
	/* a second pass has nothing left to do */
	char *again = text_sanitize(out, utf8);
	if (strcmp(again, out) != 0)
		abort();
	free(again);

	int w = text_width(out);
	if (w < 0 || (size_t)w > 2 * cps)
		abort();
	/* cutting: a prefix on a character boundary that fits */
	int cuts[] = {0, 1, 2, 3, 7, w - 1, w, w + 1};
	for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
		size_t fit = text_fit(out, cuts[k]);
		if (fit > n)
			abort();
		char *pre = strndup(out, fit);
		check_clean((const unsigned char *)pre, fit, utf8);
		int pw = text_width(pre);
		if (pw < 0 || (cuts[k] >= 0 && pw > cuts[k]))
			abort();
		if (cuts[k] > 0 && cuts[k] >= w && fit != n)
			abort(); /* everything fits: nothing cut */
		free(pre);
	}
	free(out);

	/* the raw measures never go negative or past the end either */
	if (text_width(in) < 0 || text_fit(in, 5) > strlen(in))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	if (!init) {
		if (!setlocale(LC_ALL, "C.UTF-8"))
			setlocale(LC_ALL, "");
		init = true;
	}
	char *in = malloc(size + 1);
	memcpy(in, data, size);
	in[size] = '\0';
	check_mode(in, true);
	check_mode(in, false);
	free(in);
	return 0;
}
