/* Safe text for the terminal. External strings (alert summaries, labels,
 * deploy authors, command output, notes) may carry escape sequences that
 * would retitle the window, clear the screen or move the cursor, and bytes
 * that are not UTF-8. text_sanitize removes the former and repairs the
 * latter so that what reaches curses is plain printable text whose width
 * text_width can measure. */
#include "core/text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "core/util.h"

#define REPLACEMENT 0xFFFDu

/* Decodes one UTF-8 sequence at s (n bytes left). Returns its length and sets
 * *cp, or returns 0 for an invalid sequence (overlong, surrogate, beyond
 * U+10FFFF, truncated, stray continuation). */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xC2 && c <= 0xDF) {
		len = 2, v = c & 0x1F, min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3, v = c & 0x0F, min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return len;
}

static void utf8_put(struct sbuf *sb, uint32_t cp)
{
	char b[4];
	size_t n;
	if (cp < 0x80) {
		b[0] = (char)cp, n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xC0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xE0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		b[0] = (char)(0xF0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	sbuf_add(sb, b, n);
}

/* Next code point at s[*i] for the escape scanner: invalid bytes count as one
 * replacement so scanning always advances. */
static uint32_t next_cp(const unsigned char *s, size_t n, size_t *i)
{
	uint32_t cp;
	size_t len = utf8_decode(s + *i, n - *i, &cp);
	if (len == 0) {
		(*i)++;
		return REPLACEMENT;
	}
	*i += len;
	return cp;
}

/* String-type controls (OSC, DCS, SOS, PM, APC) run until ST (ESC \ or
 * U+009C) or BEL; an unterminated one swallows the rest of the input, which
 * is what a terminal would do with it too. */
static void skip_string(const unsigned char *s, size_t n, size_t *i)
{
	while (*i < n) {
		size_t at = *i;
		uint32_t cp = next_cp(s, n, i);
		if (cp == 0x07 || cp == 0x9C)
			return;
		if (cp == 0x1B) {
			if (*i < n && s[*i] == '\\')
				(*i)++;
			else
				*i = at + 1; /* ESC starts something else: treat as ST */
			return;
		}
	}
}

/* CSI: parameters and intermediates (0x20-0x3F) up to a final byte
 * 0x40-0x7E. Any other byte ends the sequence (and is itself dropped if it
 * is a control, kept otherwise). */
static void skip_csi(const unsigned char *s, size_t n, size_t *i)
{
	while (*i < n) {
		unsigned char c = s[*i];
		if (c >= 0x20 && c <= 0x3F) {
			(*i)++;
			continue;
		}
		if (c >= 0x40 && c <= 0x7E)
			(*i)++;
		return;
	}
}

/* After ESC at s[*i - 1]: skips the rest of the sequence. */
static void skip_escape(const unsigned char *s, size_t n, size_t *i)
{
	if (*i >= n)
		return;
	unsigned char c = s[*i];
	switch (c) {
	case '[':
		(*i)++;
		skip_csi(s, n, i);
		return;
	case ']': case 'P': case 'X': case '^': case '_':
		(*i)++;
		skip_string(s, n, i);
		return;
	default:
		break;
	}
	/* nF: intermediates 0x20-0x2F then one final 0x30-0x7E (ESC ( B). */
	while (*i < n && s[*i] >= 0x20 && s[*i] <= 0x2F)
		(*i)++;
	if (*i < n && s[*i] >= 0x30 && s[*i] <= 0x7E)
		(*i)++;
}

/* Characters that are valid but must not reach the screen as such: bidi
 * controls reorder what follows (a summary could then disguise itself). */
static bool is_bidi_control(uint32_t cp)
{
	return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
	       cp == 0x200E || cp == 0x200F || cp == 0x061C;
}

char *text_sanitize(const char *str, bool utf8)
{
	struct sbuf sb;
	sbuf_init(&sb);
	if (!str)
		return sbuf_detach(&sb);
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str), i = 0;
	/* wcwidth only knows non-ASCII in a UTF-8 locale; elsewhere keep the
	 * code point and let the ASCII path below replace it. */
	bool wide_locale = MB_CUR_MAX > 1;
	while (i < n) {
		uint32_t cp;
		size_t len = utf8_decode(s + i, n - i, &cp);
		if (len == 0) {
			i++;
			/* A run of invalid bytes from one bad sequence still gives one
			 * replacement per byte: simple, and visibly marks the damage. */
			if (utf8)
				utf8_put(&sb, REPLACEMENT);
			else
				sbuf_addc(&sb, '?');
			continue;
		}
		i += len;
		if (cp == 0x1B) {
			skip_escape(s, n, &i);
			continue;
		}
		/* C1 introducers in their UTF-8 form behave like ESC x. */
		if (cp == 0x9B) {
			skip_csi(s, n, &i);
			continue;
		}
		if (cp == 0x9D || cp == 0x90 || cp == 0x98 || cp == 0x9E || cp == 0x9F) {
			skip_string(s, n, &i);
			continue;
		}
		if (cp == '\t' || cp == '\n' || cp == '\r' || cp == 0x2028 || cp == 0x2029) {
			sbuf_addc(&sb, ' ');
			continue;
		}
		if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F))
			continue;
		if (is_bidi_control(cp))
			continue;
		if (cp < 0x80) {
			sbuf_addc(&sb, (char)cp);
			continue;
		}
		if (!utf8) {
			sbuf_addc(&sb, '?');
			continue;
		}
		if (wide_locale && wcwidth((wchar_t)cp) < 0)
			cp = REPLACEMENT; /* unprintable here: curses would expand it */
		utf8_put(&sb, cp);
	}
	return sbuf_detach(&sb);
}

static int cp_width(uint32_t cp)
{
	if (cp < 0x20 || cp == 0x7F)
		return 0;
	if (cp < 0x7F)
		return 1;
	int w = wcwidth((wchar_t)cp);
	if (w >= 0)
		return w;
	return 1; /* unknown here (C locale): one cell, as terminals draw it */
}

int text_width(const char *str)
{
	if (!str)
		return 0;
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str), i = 0;
	int w = 0;
	while (i < n) {
		uint32_t cp = next_cp(s, n, &i);
		w += cp_width(cp);
	}
	return w;
}

size_t text_fit(const char *str, int cols)
{
	if (!str || cols <= 0)
		return 0;
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str), i = 0;
	int w = 0;
	while (i < n) {
		size_t at = i;
		uint32_t cp = next_cp(s, n, &i);
		int cw = cp_width(cp);
		if (w + cw > cols)
			return at;
		w += cw;
	}
	return n;
}
