/* Small helpers shared by every layer: allocation that never returns NULL,
 * a growable string buffer, time in UTC milliseconds, RFC 3339. */
#ifndef WARROOM_UTIL_H
#define WARROOM_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);            /* NULL -> NULL */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Replace *slot with a copy of s (frees the old value). */
void str_set(char **slot, const char *s);
bool str_eq(const char *a, const char *b); /* NULL-safe */
/* Asks for the heap to grow in transparent huge pages (see util.c); true if
 * the advice was taken. */
bool heap_prefer_huge_pages(void);

/* Growable byte/string buffer; always NUL-terminated. */
struct sbuf {
	char *buf;
	size_t len, cap;
};
void sbuf_init(struct sbuf *sb);
void sbuf_free(struct sbuf *sb);
void sbuf_reset(struct sbuf *sb);
void sbuf_reserve(struct sbuf *sb, size_t n); /* room for n more bytes */
void sbuf_add(struct sbuf *sb, const char *s, size_t n);
void sbuf_adds(struct sbuf *sb, const char *s);
void sbuf_addc(struct sbuf *sb, char c);
void sbuf_printf(struct sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sbuf_vprintf(struct sbuf *sb, const char *fmt, va_list ap);
char *sbuf_detach(struct sbuf *sb);      /* caller frees; sb is reset */

/* Growable array of pointers. */
struct ptrvec {
	void **v;
	size_t n, cap;
};
void ptrvec_push(struct ptrvec *pv, void *p);
void ptrvec_remove(struct ptrvec *pv, size_t i); /* keeps order */
void ptrvec_free(struct ptrvec *pv, void (*free_fn)(void *));

/* Time: milliseconds since the Unix epoch, UTC. */
int64_t time_now_ms(void);
int64_t time_mono_ms(void);
/* "2026-11-23T18:02:11Z" or with ".123Z" when ms != 0; buf >= 32 bytes. */
void time_format_rfc3339(int64_t ms, char *buf, size_t len);
/* Parses RFC 3339 with optional fraction and Z or +hh:mm offset; -1 on error. */
int64_t time_parse_rfc3339(const char *s, int64_t *ms_out);
/* "7m", "2h05m", "3d" — a short age for tables. */
void time_format_age(int64_t ms, char *buf, size_t len);

/* Diagnostics to stderr, prefixed "warroom: ". */
void warn_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Read a whole file (capped at max bytes); NULL and errno on failure. */
char *file_read_all(const char *path, size_t max, size_t *len_out);

/* Shell-quote s for a POSIX shell: 'it'\''s' form. Caller frees. */
char *shell_quote(const char *s);

/* How many bytes from the start of s[0..n) a JSON string holds as they are:
 * none below 0x20, no '"' or backslash, and with ascii_only none from 0x7f
 * up. Inline and eight bytes at a time: it runs over every string of a
 * large poll, in the journal encoder and the Alertmanager reader. */
static inline bool json_plain_byte(unsigned char c, bool ascii_only)
{
	return c >= 0x20 && c != '"' && c != '\\' && (!ascii_only || c < 0x7f);
}

static inline size_t json_plain_prefix(const char *s, size_t n, bool ascii_only)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	const uint64_t ascii = ascii_only ? ~0ull : 0;
	size_t i = 0;
	/* a word is looked at byte by byte once a borrow test finds a byte
	 * below 0x20, a quote or a backslash in it (or, ascii_only, a byte with
	 * its top bit set or DEL) */
	for (; i + 8 <= n; i += 8) {
		uint64_t x;
		memcpy(&x, s + i, 8);
		uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\'), d = x ^ (ones * 0x7f);
		uint64_t hit = ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b) |
			       ((x | ((d - ones) & ~d)) & ascii);
		if (hit & highs)
			break;
	}
	while (i < n && json_plain_byte((unsigned char)s[i], ascii_only))
		i++;
	return i;
}

#endif
