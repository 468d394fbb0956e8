#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void oom(void)
{
	fputs("warroom: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		oom();
	return d;
}

char *xstrndup(const char *s, size_t n)
{
	char *d = strndup(s, n);
	if (!d)
		oom();
	return d;
}

char *xasprintf(const char *fmt, ...)
{
	struct sbuf sb;
	va_list ap;
	sbuf_init(&sb);
	va_start(ap, fmt);
	sbuf_vprintf(&sb, fmt, ap);
	va_end(ap);
	return sbuf_detach(&sb);
}

void str_set(char **slot, const char *s)
{
	if (*slot == s)
		return;
	char *n = xstrdup(s);
	free(*slot);
	*slot = n;
}

bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

void sbuf_init(struct sbuf *sb)
{
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

void sbuf_free(struct sbuf *sb)
{
	free(sb->buf);
	sbuf_init(sb);
}

void sbuf_reset(struct sbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

static void sbuf_grow(struct sbuf *sb, size_t extra)
{
	if (sb->len + extra + 1 <= sb->cap)
		return;
	size_t cap = sb->cap ? sb->cap : 64;
	while (cap < sb->len + extra + 1)
		cap *= 2;
	sb->buf = xrealloc(sb->buf, cap);
	sb->cap = cap;
}

void sbuf_reserve(struct sbuf *sb, size_t n)
{
	sbuf_grow(sb, n);
	if (sb->buf)
		sb->buf[sb->len] = '\0';
}

void sbuf_add(struct sbuf *sb, const char *s, size_t n)
{
	sbuf_grow(sb, n);
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void sbuf_adds(struct sbuf *sb, const char *s)
{
	sbuf_add(sb, s, strlen(s));
}

void sbuf_addc(struct sbuf *sb, char c)
{
	sbuf_add(sb, &c, 1);
}

void sbuf_vprintf(struct sbuf *sb, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	sbuf_grow(sb, (size_t)n);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
}

void sbuf_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sbuf_vprintf(sb, fmt, ap);
	va_end(ap);
}

char *sbuf_detach(struct sbuf *sb)
{
	char *s = sb->buf ? sb->buf : xstrdup("");
	sbuf_init(sb);
	return s;
}

void ptrvec_push(struct ptrvec *pv, void *p)
{
	if (pv->n == pv->cap) {
		pv->cap = pv->cap ? pv->cap * 2 : 8;
		pv->v = xrealloc(pv->v, pv->cap * sizeof *pv->v);
	}
	pv->v[pv->n++] = p;
}

void ptrvec_remove(struct ptrvec *pv, size_t i)
{
	if (i >= pv->n)
		return;
	memmove(pv->v + i, pv->v + i + 1, (pv->n - i - 1) * sizeof *pv->v);
	pv->n--;
}

void ptrvec_free(struct ptrvec *pv, void (*free_fn)(void *))
{
	if (free_fn)
		for (size_t i = 0; i < pv->n; i++)
			free_fn(pv->v[i]);
	free(pv->v);
	pv->v = NULL;
	pv->n = pv->cap = 0;
}

int64_t time_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t time_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* UTC calendar fields of secs, as gmtime_r gives them, by arithmetic on
 * the day count (proleptic Gregorian, 400-year eras of 146097 days). */
static void civil_time(time_t secs, struct tm *tm)
{
	int64_t days = (int64_t)secs / 86400, rem = (int64_t)secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	tm->tm_hour = (int)(rem / 3600);
	tm->tm_min = (int)(rem / 60 % 60);
	tm->tm_sec = (int)(rem % 60);
	days += 719468; /* from 1970-01-01 to 0000-03-01 */
	int64_t era = (days >= 0 ? days : days - 146096) / 146097;
	int64_t doe = days - era * 146097;                                    /* 0..146096 */
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  /* 0..399 */
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                /* 0..365, from March */
	int64_t mp = (5 * doy + 2) / 153;                                     /* 0..11, March = 0 */
	int64_t year = yoe + era * 400 + (mp >= 10);
	tm->tm_mday = (int)(doy - (153 * mp + 2) / 5 + 1);
	tm->tm_mon = (int)(mp < 10 ? mp + 2 : mp - 10);
	tm->tm_year = (int)(year - 1900);
}

/* n decimal digits of v (0 <= v < 10^n), zero-padded */
static void put_digits(char **p, int v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		(*p)[i] = (char)('0' + v % 10);
		v /= 10;
	}
	*p += n;
}

void time_format_rfc3339(int64_t ms, char *buf, size_t len)
{
	time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	int frac = (int)(ms - (int64_t)secs * 1000);
	struct tm tm;
	civil_time(secs, &tm);
	int year = tm.tm_year + 1900;
	if (year < 0 || year > 9999 || len < 25) {
		/* out of the four-digit range, or a short buffer: printf cuts it */
		if (frac)
			snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", year,
				 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
		else
			snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", year, tm.tm_mon + 1,
				 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		return;
	}
	/* by hand: a timestamp is formatted for every event journaled */
	char *p = buf;
	put_digits(&p, year, 4);
	*p++ = '-';
	put_digits(&p, tm.tm_mon + 1, 2);
	*p++ = '-';
	put_digits(&p, tm.tm_mday, 2);
	*p++ = 'T';
	put_digits(&p, tm.tm_hour, 2);
	*p++ = ':';
	put_digits(&p, tm.tm_min, 2);
	*p++ = ':';
	put_digits(&p, tm.tm_sec, 2);
	if (frac) {
		*p++ = '.';
		put_digits(&p, frac, 3);
	}
	*p++ = 'Z';
	*p = '\0';
}

static int digits(const char **p, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	return v;
}

int64_t time_parse_rfc3339(const char *s, int64_t *ms_out)
{
	if (!s)
		return -1;
	const char *p = s;
	int Y = digits(&p, 4);
	if (Y < 0 || *p++ != '-')
		return -1;
	int M = digits(&p, 2);
	if (M < 1 || M > 12 || *p++ != '-')
		return -1;
	int D = digits(&p, 2);
	if (D < 1 || D > 31 || (*p != 'T' && *p != 't' && *p != ' '))
		return -1;
	p++;
	int h = digits(&p, 2);
	if (h < 0 || h > 23 || *p++ != ':')
		return -1;
	int mi = digits(&p, 2);
	if (mi < 0 || mi > 59 || *p++ != ':')
		return -1;
	int sec = digits(&p, 2);
	if (sec < 0 || sec > 60)
		return -1;
	int64_t frac_ms = 0;
	if (*p == '.') {
		p++;
		int nd = 0;
		while (*p >= '0' && *p <= '9') {
			if (nd < 3)
				frac_ms = frac_ms * 10 + (*p - '0');
			nd++;
			p++;
		}
		if (nd == 0)
			return -1;
		for (int i = nd; i < 3; i++)
			frac_ms *= 10;
	}
	int64_t off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;
		p++;
		int oh = digits(&p, 2);
		if (oh < 0 || *p++ != ':')
			return -1;
		int om = digits(&p, 2);
		if (om < 0)
			return -1;
		off = sign * (oh * 3600 + om * 60);
	} else {
		return -1;
	}
	if (*p)
		return -1;
	/* days from civil (proleptic Gregorian), avoiding timegm's TZ games */
	int y = Y - (M <= 2);
	int era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153u * (unsigned)(M + (M > 2 ? -3 : 9)) + 2) / 5 + (unsigned)D - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	int64_t days = (int64_t)era * 146097 + (int64_t)doe - 719468;
	int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - off;
	int64_t ms = secs * 1000 + frac_ms;
	if (ms_out)
		*ms_out = ms;
	return ms;
}

void time_format_age(int64_t ms, char *buf, size_t len)
{
	if (ms < 0)
		ms = 0;
	int64_t s = ms / 1000;
	if (s < 60)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm", (long long)(s / 60));
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%lldd", (long long)(s / 86400));
}

void warn_msg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("warroom: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

char *file_read_all(const char *path, size_t max, size_t *len_out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct sbuf sb;
	sbuf_init(&sb);
	char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			sbuf_free(&sb);
			errno = e;
			return NULL;
		}
		if (n == 0)
			break;
		if (sb.len + (size_t)n > max) {
			close(fd);
			sbuf_free(&sb);
			errno = EFBIG;
			return NULL;
		}
		sbuf_add(&sb, chunk, (size_t)n);
	}
	close(fd);
	if (len_out)
		*len_out = sb.len;
	return sbuf_detach(&sb);
}

char *shell_quote(const char *s)
{
	struct sbuf sb;
	sbuf_init(&sb);
	sbuf_addc(&sb, '\'');
	for (const char *p = s ? s : ""; *p; p++) {
		if (*p == '\'')
			sbuf_adds(&sb, "'\\''");
		else
			sbuf_addc(&sb, *p);
	}
	sbuf_addc(&sb, '\'');
	return sbuf_detach(&sb);
}

#if defined(__GLIBC__) && defined(__linux__)
#include <malloc.h>
#include <sys/mman.h>
#endif

/* The server's heap grows by thousands of small objects when a big alert
 * list arrives, and each first touch of a 4 KiB page is a fault: about 4,500
 * of them for 10,000 alerts, costly on a virtual machine. Here the heap's top
 * is extended once, untouched, by HEAP_RESERVE bytes and asked to be backed
 * by 2 MiB transparent huge pages where the kernel allows it (mode "madvise"
 * or "always"), so the same growth costs far fewer faults. Memory becomes
 * resident as it is used, in 2 MiB steps; the heap is not trimmed back below
 * the reserve;
 * big buffers are still mapped on their own. WARROOM_HUGEPAGES=0 in the
 * environment leaves the heap as it is. Under another allocator (sanitizers,
 * valgrind) the heap does not move and nothing changes but the allocator's
 * settings. */
#define HEAP_RESERVE ((size_t)96 << 20)
#define HUGE_PAGE ((uintptr_t)2 << 20)

bool heap_prefer_huge_pages(void)
{
#if defined(__GLIBC__) && defined(__linux__) && defined(MADV_HUGEPAGE)
	const char *env = getenv("WARROOM_HUGEPAGES");
	if (env && strcmp(env, "0") == 0)
		return false;
	/* the reserve itself must come from the heap, not a mapping */
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, (int)(2 * HEAP_RESERVE));
	mallopt(M_TOP_PAD, (int)(HEAP_RESERVE - (16 << 20)));
	uintptr_t lo = (uintptr_t)sbrk(0);
	void *p = malloc(16 << 20);
	uintptr_t hi = (uintptr_t)sbrk(0);
	bool ok = false;
	if (p && lo != (uintptr_t)-1 && hi > lo) {
		uintptr_t a = (lo + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
		uintptr_t b = hi & ~(HUGE_PAGE - 1);
		ok = b > a && madvise((void *)a, b - a, MADV_HUGEPAGE) == 0;
	}
	free(p);
	mallopt(M_TOP_PAD, 1 << 20);
	mallopt(M_MMAP_THRESHOLD, 128 << 10);
	return ok;
#else
	return false;
#endif
}
