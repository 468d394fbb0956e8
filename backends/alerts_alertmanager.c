/* [alerts NAME] type = alertmanager: Alertmanager's API v2.
 *   url       http://alertmanager:9093 (required)
 *   filter    matchers, e.g. service=~"api|web" severity="critical"; separated
 *             by spaces or commas outside double quotes; all must match
 *   interval  between polls (15s), timeout per request (10s)
 * Polls GET /api/v2/alerts?filter=...; the alert id is Alertmanager's
 * fingerprint. Silences: POST /api/v2/silences with one equality matcher per
 * label of the alert; unsilence: DELETE /api/v2/silence/ID for every silence
 * in the alert's status.silencedBy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/alertfeed.h"
#include "backends/backend.h"
#include "backends/poll.h"
#include "backends/sources.h"
#include "backends/template.h"
#include "backends/http.h"
#include "core/util.h"

#define AM_KIND "alertmanager"
#define AM_KNOWN_MAX 256      /* silences made here, remembered for their end time */
#define AM_PROBE_MS 5000
#define AM_PART 256           /* alerts journaled per part of a large answer */
/* Giving back the part of an answer already journaled pays only for a very
 * large one: the memory the state then grows into must be faulted in anew,
 * and that costs more than holding the answer to its end (measured: 10,000
 * alerts, 20 ms more CPU for 5 MB less peak; 50,000 alerts, 27 MB answer,
 * about 70 ms more CPU of 300 for 25 MB less peak). Given back in steps of at
 * least AM_RELEASE_STEP (fewer calls, fewer TLB flushes). */
#define AM_RELEASE_FROM ((size_t)32 << 20)
#define AM_RELEASE_STEP ((size_t)2 << 20)
/* Alertmanager sends about 550 bytes per alert: room for some 120,000
 * alerts (the pollers' usual 16 MiB holds about 30,000) */
#define AM_MAX_BYTES (64u << 20)

struct am_known {
	char *id;
	int64_t until;
};

struct am {
	char *name, *base;
	struct ptrvec filters;   /* char*, one matcher each */
	int64_t interval_ms, timeout_ms;
	struct backend_host hostv;
	const struct backend_host *host; /* &hostv once started */
	struct poll *poll;
	cJSON *last;             /* from the last good answer: the raw labels and silences
				  * of the alerts the state alone cannot silence right */
	struct ptrvec known;     /* struct am_known* */
	struct ptrvec jobs;      /* struct am_sil* in flight */
};

static const char *const am_keys[] = {"url", "filter", "interval", "timeout", NULL};

/* ---- configuration -------------------------------------------------------- */

static void am_known_free(void *p)
{
	struct am_known *k = p;
	free(k->id);
	free(k);
}

/* Splits "a=\"x y\", b=~\"p|q\"" into matchers at spaces and commas outside
 * double quotes; checks each is NAME OP VALUE with OP one of = != =~ !~. */
static bool am_split_filter(const char *s, struct ptrvec *out, char *err, size_t errlen)
{
	const char *p = s;
	while (*p) {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (!*p)
			break;
		struct sbuf sb;
		sbuf_init(&sb);
		bool quoted = false;
		for (; *p && (quoted || (*p != ' ' && *p != ',' && *p != '\t')); p++) {
			if (*p == '\\' && quoted && p[1]) {
				sbuf_add(&sb, p, 2);
				p++;
				continue;
			}
			if (*p == '"')
				quoted = !quoted;
			sbuf_addc(&sb, *p);
		}
		if (quoted) {
			snprintf(err, errlen, "filter: unclosed quote in %s", sb.buf);
			sbuf_free(&sb);
			return false;
		}
		const char *m = sb.buf;
		size_t nl = strspn(m, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
		const char *op = m + nl;
		bool ok_op = !strncmp(op, "=~", 2) || !strncmp(op, "!~", 2) || !strncmp(op, "!=", 2) ||
			     *op == '=';
		if (nl == 0 || (m[0] >= '0' && m[0] <= '9') || !ok_op) {
			snprintf(err, errlen, "filter: '%s' is not a matcher like service=\"api\" or "
				 "service=~\"api|web\"", m);
			sbuf_free(&sb);
			return false;
		}
		ptrvec_push(out, sbuf_detach(&sb));
		sbuf_free(&sb);
	}
	return true;
}

static void am_stop(void *self);

static void am_free(void *self)
{
	struct am *a = self;
	if (!a)
		return;
	am_stop(a);
	free(a->name);
	free(a->base);
	ptrvec_free(&a->filters, free);
	ptrvec_free(&a->known, am_known_free);
	cJSON_Delete(a->last);
	free(a);
}

static bool am_seconds(const struct config_section *sec, const char *file, const char *key,
		       int64_t *out, char *err, size_t errlen)
{
	const char *v = template_get(sec, key);
	if (!v)
		return true;
	long s = template_parse_seconds(v);
	if (s <= 0) {
		char where[300];
		template_key_where(sec, file, key, where, sizeof where);
		snprintf(err, errlen, "%s%s must be seconds (e.g. 15, 15s or 1m)", where, key);
		return false;
	}
	*out = (int64_t)s * 1000;
	return true;
}

static void *am_configure(const struct config_section *sec, const char *file, char *err,
			  size_t errlen)
{
	char where[300];
	if (!template_check_keys(sec, file, am_keys, err, errlen))
		return NULL;
	const char *url = template_get(sec, "url");
	if (!url || !*url) {
		template_key_where(sec, file, NULL, where, sizeof where);
		snprintf(err, errlen, "%s[alerts %s] type = alertmanager needs url = "
			 "http://HOST:9093", where, sec->name);
		return NULL;
	}
	struct am *a = xcalloc(1, sizeof *a);
	a->name = xstrdup(sec->name);
	a->base = http_base(url);
	a->interval_ms = 15000;
	a->timeout_ms = 10000;
	const char *filter = template_get(sec, "filter");
	char why[400];
	if (filter && !am_split_filter(filter, &a->filters, why, sizeof why)) {
		template_key_where(sec, file, "filter", where, sizeof where);
		snprintf(err, errlen, "%s%s", where, why);
		am_free(a);
		return NULL;
	}
	if (!am_seconds(sec, file, "interval", &a->interval_ms, err, errlen) ||
	    !am_seconds(sec, file, "timeout", &a->timeout_ms, err, errlen)) {
		am_free(a);
		return NULL;
	}
	return a;
}

/* ---- polling --------------------------------------------------------------- */

static char *am_alerts_url(struct am *a)
{
	struct sbuf sb;
	sbuf_init(&sb);
	sbuf_printf(&sb, "%s/api/v2/alerts", a->base);
	for (size_t i = 0; i < a->filters.n; i++) {
		char *e = template_url_escape(a->filters.v[i]);
		sbuf_printf(&sb, "%cfilter=%s", i ? '&' : '?', e);
		free(e);
	}
	return sbuf_detach(&sb);
}

static char *am_url(void *arg)
{
	return am_alerts_url(arg);
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(it) ? it->valuestring : NULL;
}

static int64_t am_known_until(void *arg, const char *id)
{
	const struct am *a = arg;
	for (size_t i = 0; id && i < a->known.n; i++) {
		const struct am_known *k = a->known.v[i];
		if (str_eq(k->id, id))
			return k->until;
	}
	return 0;
}

/* The end of the array element starting at s[i]: just past its closing
 * bracket or quote, or at the separator after a bare value. Only finds the
 * bounds; cJSON judges the element itself. */
static size_t am_element_end(const char *s, size_t i, size_t n)
{
	int depth = 0;
	bool in_str = false;
	for (; i < n; i++) {
		char c = s[i];
		if (in_str) {
			/* to the next quote not escaped: one preceded by an even
			 * run of backslashes (the opening quote stops the count) */
			const char *q = memchr(s + i, '"', n - i);
			if (!q)
				return n;
			size_t k = (size_t)(q - s), b = 0;
			while (s[k - 1 - b] == '\\')
				b++;
			i = k;
			if (b % 2)
				continue;
			in_str = false;
			if (depth == 0)
				return i + 1;
			continue;
		}
		switch (c) {
		case '"':
			in_str = true;
			break;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (depth == 0)
				return i;
			if (--depth == 0)
				return i + 1;
			break;
		case ',':
		case ' ':
		case '\t':
		case '\r':
		case '\n':
			if (depth == 0)
				return i;
			break;
		default:
			break;
		}
	}
	return n;
}

static size_t am_skip_ws(const char *s, size_t i, size_t n)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
		i++;
	return i;
}

/* One alert of the answer into items (its labels and annotations are taken
 * out of al, not copied); what silencing needs from it, when it cannot be
 * had from the state, into keep. */
static void am_alert(const char *source, cJSON *al,
		     int64_t (*until)(void *arg, const char *silence_id), void *arg,
		     int64_t now_ms, struct ptrvec *items, cJSON *keep)
{
	const char *fp = jstr(al, "fingerprint");
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(al, "labels");
	if (!cJSON_IsObject(al) || !fp || !*fp || !cJSON_IsObject(labels))
		return;
	/* an alert whose end has passed is resolved, whatever the list says */
	int64_t ends;
	const char *ends_at = jstr(al, "endsAt");
	if (ends_at && time_parse_rfc3339(ends_at, &ends) >= 0 && ends > 0 && ends <= now_ms)
		return;
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(al, "status");
	const cJSON *by = cJSON_GetObjectItemCaseSensitive(status, "silencedBy");
	if (!cJSON_IsArray(by))
		by = NULL;
	/* Silencing matches the labels as sent and unsilencing expires every
	 * silence listed: keep those only where the state's copy falls short
	 * (labels changed by cleaning, or any silence), not the whole answer. */
	if (keep && (cJSON_GetArraySize(by) > 0 || !alertfeed_pairs_clean(labels))) {
		cJSON *k = cJSON_CreateObject();
		cJSON_AddStringToObject(k, "fingerprint", fp);
		cJSON_AddItemToObject(k, "labels", cJSON_Duplicate(labels, 1));
		cJSON *st = cJSON_AddObjectToObject(k, "status");
		cJSON_AddItemToObject(st, "silencedBy", by ? cJSON_Duplicate(by, 1)
							  : cJSON_CreateArray());
		cJSON_AddItemToArray(keep, k);
	}
	cJSON *lab = cJSON_DetachItemFromObjectCaseSensitive(al, "labels");
	cJSON *ann = cJSON_DetachItemFromObjectCaseSensitive(al, "annotations");
	if (ann && !cJSON_IsObject(ann)) {
		cJSON_Delete(ann);
		ann = NULL;
	}
	struct alertfeed_item *it = alertfeed_item_take(fp, source, lab, ann, jstr(al, "startsAt"),
							jstr(al, "generatorURL"));
	const cJSON *s;
	/* the silence made here, if any, else the first */
	cJSON_ArrayForEach(s, by) {
		if (!cJSON_IsString(s) || !*s->valuestring)
			continue;
		int64_t end = until ? until(arg, s->valuestring) : 0;
		if (!it->silence_id || end > it->silenced_until) {
			free(it->silence_id);
			it->silence_id = poll_text(s->valuestring, ALERTFEED_NAME_MAX);
			it->silenced_until = end;
		}
		it->silenced = true;
	}
	ptrvec_push(items, it);
}

/* ---- a plain alert read directly ------------------------------------------
 * Most alerts in an answer are plain: printable ASCII strings without
 * escapes, no silence, labels as cleaning leaves them. Such an alert is read
 * straight from the answer's bytes into the item cJSON's parser would lead
 * to, without the tree of the whole alert (receivers, status, times) that
 * would be made only to be freed. The reader is stricter than cJSON: on
 * anything else (an escape, a control byte, a number cJSON reads but JSON
 * does not allow, a repeated field, a silence) it gives up, and the alert
 * goes through cJSON and am_alert as before, so the outcome never differs. */

bool alertmanager_direct = true;
size_t alertmanager_release_from = AM_RELEASE_FROM;
size_t alertmanager_release_step = AM_RELEASE_STEP;
unsigned long alertmanager_direct_reads;

struct am_cur {
	const char *s, *end;
};

struct am_span {
	const char *p;
	size_t n;
};

static void am_ws(struct am_cur *c)
{
	while (c->s < c->end && (*c->s == ' ' || *c->s == '\t' || *c->s == '\n' || *c->s == '\r'))
		c->s++;
}

static bool am_at(struct am_cur *c, char ch)
{
	am_ws(c);
	if (c->s < c->end && *c->s == ch) {
		c->s++;
		return true;
	}
	return false;
}

/* A string of printable ASCII without escapes: its bytes between the quotes. */
static bool am_string(struct am_cur *c, struct am_span *out)
{
	am_ws(c);
	if (c->s >= c->end || *c->s != '"')
		return false;
	const char *p = c->s + 1;
	const char *q = memchr(p, '"', (size_t)(c->end - p));
	if (!q)
		return false;
	if (json_plain_prefix(p, (size_t)(q - p), true) != (size_t)(q - p))
		return false;
	out->p = p;
	out->n = (size_t)(q - p);
	c->s = q + 1;
	return true;
}

static bool am_is(const struct am_span *s, const char *word)
{
	size_t n = strlen(word);
	return s->n == n && memcmp(s->p, word, n) == 0;
}

static bool am_digits(struct am_cur *c)
{
	const char *from = c->s;
	while (c->s < c->end && *c->s >= '0' && *c->s <= '9')
		c->s++;
	return c->s > from;
}

/* A JSON number in the grammar's own form (cJSON reads more, never less). */
static bool am_number(struct am_cur *c)
{
	if (c->s < c->end && *c->s == '-')
		c->s++;
	if (c->s < c->end && *c->s == '0')
		c->s++;
	else if (!(c->s < c->end && *c->s >= '1' && *c->s <= '9') || !am_digits(c))
		return false;
	if (c->s < c->end && *c->s == '.') {
		c->s++;
		if (!am_digits(c))
			return false;
	}
	if (c->s < c->end && (*c->s == 'e' || *c->s == 'E')) {
		c->s++;
		if (c->s < c->end && (*c->s == '+' || *c->s == '-'))
			c->s++;
		if (!am_digits(c))
			return false;
	}
	return true;
}

static bool am_word(struct am_cur *c, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(c->end - c->s) < n || memcmp(c->s, w, n) != 0)
		return false;
	c->s += n;
	return true;
}

/* Any value, checked and passed over. */
static bool am_skip(struct am_cur *c, int depth)
{
	struct am_span s;
	am_ws(c);
	if (c->s >= c->end || depth > 32)
		return false;
	switch (*c->s) {
	case '"':
		return am_string(c, &s);
	case 't':
		return am_word(c, "true");
	case 'f':
		return am_word(c, "false");
	case 'n':
		return am_word(c, "null");
	case '{':
		c->s++;
		if (am_at(c, '}'))
			return true;
		do {
			if (!am_string(c, &s) || !am_at(c, ':') || !am_skip(c, depth + 1))
				return false;
		} while (am_at(c, ','));
		return am_at(c, '}');
	case '[':
		c->s++;
		if (am_at(c, ']'))
			return true;
		do {
			if (!am_skip(c, depth + 1))
				return false;
		} while (am_at(c, ','));
		return am_at(c, ']');
	default:
		return am_number(c);
	}
}

struct am_pairs {
	struct am_span k[ALERTFEED_MAX_PAIRS], v[ALERTFEED_MAX_PAIRS];
	int n;
};

/* An object alertfeed_pairs_clean would pass: plain string values, names
 * neither empty nor repeated, within the caps. */
static bool am_pairs(struct am_cur *c, struct am_pairs *o)
{
	o->n = 0;
	if (!am_at(c, '{'))
		return false;
	if (am_at(c, '}'))
		return true;
	do {
		struct am_span k, v;
		/* am_string gives printable ASCII: within the caps it is kept as is */
		if (o->n >= ALERTFEED_MAX_PAIRS || !am_string(c, &k) || !am_at(c, ':') ||
		    !am_string(c, &v) || k.n == 0 || k.n > ALERTFEED_NAME_MAX ||
		    v.n > ALERTFEED_VALUE_MAX)
			return false;
		for (int i = 0; i < o->n; i++)
			if (o->k[i].n == k.n && memcmp(o->k[i].p, k.p, k.n) == 0)
				return false;
		o->k[o->n] = k;
		o->v[o->n++] = v;
	} while (am_at(c, ','));
	return am_at(c, '}');
}

/* status: an object whose silencedBy, if any, is an empty array. */
static bool am_status_plain(struct am_cur *c)
{
	bool seen = false;
	if (!am_at(c, '{'))
		return false;
	if (am_at(c, '}'))
		return true;
	do {
		struct am_span k;
		if (!am_string(c, &k) || !am_at(c, ':'))
			return false;
		if (am_is(&k, "silencedBy")) {
			if (seen || !am_at(c, '[') || !am_at(c, ']'))
				return false;
			seen = true;
		} else if (!am_skip(c, 1)) {
			return false;
		}
	} while (am_at(c, ','));
	return am_at(c, '}');
}

static char *am_cstr(const struct am_span *s, char *buf, size_t size)
{
	if (s->n >= size)
		return NULL;
	memcpy(buf, s->p, s->n);
	buf[s->n] = '\0';
	return buf;
}

/* what was read, packed as the state keeps it: no tree made and freed */
static struct pairs *am_pack(const struct am_pairs *o)
{
	const char *k[ALERTFEED_MAX_PAIRS], *v[ALERTFEED_MAX_PAIRS];
	size_t kn[ALERTFEED_MAX_PAIRS], vn[ALERTFEED_MAX_PAIRS];
	for (int i = 0; i < o->n; i++) {
		k[i] = o->k[i].p;
		kn[i] = o->k[i].n;
		v[i] = o->v[i].p;
		vn[i] = o->v[i].n;
	}
	return pairs_pack((size_t)o->n, k, kn, v, vn);
}

/* The alert in s[0..len) read directly: 1 when done (its item added, or
 * left out as am_alert would), 0 when it must go through cJSON. */
static int am_direct(const char *source, const char *s, size_t len, int64_t now_ms,
		     struct ptrvec *items)
{
	struct am_cur c = {s, s + len};
	struct am_span fp = {0}, starts = {0}, ends = {0}, url = {0};
	struct am_pairs lab, ann;
	bool have_fp = false, have_lab = false, have_ann = false, have_starts = false,
	     have_ends = false, have_url = false, have_status = false;
	if (!am_at(&c, '{') || am_at(&c, '}'))
		return 0;
	do {
		struct am_span k;
		bool *seen = NULL, ok;
		if (!am_string(&c, &k) || !am_at(&c, ':'))
			return 0;
		/* each field once: cJSON would take the first of a repeated one */
		if (am_is(&k, "fingerprint")) {
			seen = &have_fp;
			ok = !*seen && am_string(&c, &fp);
		} else if (am_is(&k, "labels")) {
			seen = &have_lab;
			ok = !*seen && am_pairs(&c, &lab);
		} else if (am_is(&k, "annotations")) {
			seen = &have_ann;
			ok = !*seen && am_pairs(&c, &ann);
		} else if (am_is(&k, "startsAt")) {
			seen = &have_starts;
			ok = !*seen && am_string(&c, &starts);
		} else if (am_is(&k, "endsAt")) {
			seen = &have_ends;
			ok = !*seen && am_string(&c, &ends);
		} else if (am_is(&k, "generatorURL")) {
			seen = &have_url;
			ok = !*seen && am_string(&c, &url);
		} else if (am_is(&k, "status")) {
			seen = &have_status;
			ok = !*seen && am_status_plain(&c);
		} else {
			ok = am_skip(&c, 1);
		}
		if (!ok)
			return 0;
		if (seen)
			*seen = true;
	} while (am_at(&c, ','));
	if (!am_at(&c, '}'))
		return 0;
	am_ws(&c);
	if (c.s != c.end || !have_fp || fp.n == 0 || !have_lab || fp.n > ALERTFEED_NAME_MAX ||
	    (have_url && url.n > ALERTFEED_VALUE_MAX))
		return 0;
	char fpb[ALERTFEED_NAME_MAX + 1], sb[64], eb[64], ub[ALERTFEED_VALUE_MAX + 1];
	const char *sa = NULL, *ea = NULL, *ua = NULL;
	if ((have_starts && !(sa = am_cstr(&starts, sb, sizeof sb))) ||
	    (have_ends && !(ea = am_cstr(&ends, eb, sizeof eb))) ||
	    (have_url && !(ua = am_cstr(&url, ub, sizeof ub))))
		return 0;
	/* an alert whose end has passed is resolved, whatever the list says */
	int64_t e;
	alertmanager_direct_reads++;
	if (ea && time_parse_rfc3339(ea, &e) >= 0 && e > 0 && e <= now_ms)
		return 1;
	struct alertfeed_item *it =
		alertfeed_item_packed(am_cstr(&fp, fpb, sizeof fpb), source, am_pack(&lab),
				      have_ann ? am_pack(&ann) : NULL, sa, ua);
	ptrvec_push(items, it);
	return 1;
}

/* where each element of the array ends, found once */
struct sizevec {
	size_t *v, n, cap;
};

/* The array's shape alone (elements and separators, strings closed), no
 * values parsed: a cut-off answer is refused before any part of it is
 * journaled. Returns the offset of the first fault, or len when sound. i is
 * just past the '['. */
static size_t am_shape(const char *body, size_t i, size_t len, struct sizevec *ends)
{
	i = am_skip_ws(body, i, len);
	if (i < len && body[i] == ']')
		return am_skip_ws(body, i + 1, len) == len ? len : i + 1;
	for (;;) {
		size_t e = am_element_end(body, i, len);
		if (e <= i || e >= len)
			return e <= i ? i : len - 1;
		if (ends->n == ends->cap) {
			ends->cap = ends->cap ? 2 * ends->cap : 1024;
			ends->v = xrealloc(ends->v, ends->cap * sizeof *ends->v);
		}
		ends->v[ends->n++] = e;
		i = am_skip_ws(body, e, len);
		if (i < len && body[i] == ',') {
			i = am_skip_ws(body, i + 1, len);
			continue;
		}
		if (i < len && body[i] == ']')
			return am_skip_ws(body, i + 1, len) == len ? len : i + 1;
		return i;
	}
}

/* alertmanager_alerts_parse, handing items to part() every AM_PART alerts
 * (and at the end) when part is not NULL. */
static bool am_parse_parts(const char *source, const char *body, size_t len,
			   int64_t (*until)(void *arg, const char *silence_id), void *arg,
			   int64_t now_ms, struct ptrvec *items, cJSON **doc_out,
			   void (*part)(void *parg, struct ptrvec *items), void *parg,
			   char *err, size_t errlen)
{
	if (doc_out)
		*doc_out = NULL;
	size_t i = body ? am_skip_ws(body, 0, len) : 0;
	if (!body || i >= len || body[i] != '[') {
		/* not an array: the whole-document parser says why */
		cJSON *doc = poll_parse_json(AM_KIND, body, len, err, errlen);
		if (!doc)
			return false;
		snprintf(err, errlen, "%s: expected a JSON array of alerts", AM_KIND);
		cJSON_Delete(doc);
		return false;
	}
	/* One element at a time: the answer for thousands of alerts never
	 * exists as one tree beside the items made from it. */
	struct sizevec ends = {0};
	size_t next_end = 0;
	if (part && am_shape(body, i + 1, len, &ends) != len) {
		/* let the element-wise pass below name the fault */
		part = NULL;
		ends.n = 0;
	}
	cJSON *keep = cJSON_CreateArray();
	size_t first = items->n, released = 0;
	const char *bad = NULL;
	i = am_skip_ws(body, i + 1, len);
	if (i < len && body[i] == ']') {
		i++;
	} else {
		for (;;) {
			size_t e = next_end < ends.n ? ends.v[next_end++] : am_element_end(body, i, len);
			if (!alertmanager_direct || e <= i ||
			    !am_direct(source, body + i, e - i, now_ms, items)) {
				const char *end = NULL;
				cJSON *al =
					e > i ? cJSON_ParseWithLengthOpts(body + i, e - i, &end, 0) : NULL;
				if (!al || end != body + e) {
					const char *at = e <= i ? body + i : al ? end : cJSON_GetErrorPtr();
					bad = at && at >= body && at <= body + len ? at : body + i;
					cJSON_Delete(al);
					break;
				}
				am_alert(source, al, until, arg, now_ms, items, keep);
				cJSON_Delete(al);
			}
			if (part && items->n - first >= AM_PART) {
				part(parg, items);
				first = items->n;
				/* the text of what is journaled is not needed again:
				 * state grows as the answer's memory goes back */
				if (len >= alertmanager_release_from &&
				    e - released >= alertmanager_release_step) {
					poll_body_release(body, released, e);
					released = e;
				}
			}
			i = am_skip_ws(body, e, len);
			if (i < len && body[i] == ',') {
				i = am_skip_ws(body, i + 1, len);
				continue;
			}
			if (i < len && body[i] == ']') {
				i++;
				break;
			}
			bad = body + i;
			break;
		}
	}
	if (!bad) {
		i = am_skip_ws(body, i, len);
		if (i < len) {
			snprintf(err, errlen, "%s: trailing data after the JSON at byte %zu", AM_KIND, i);
			goto fail;
		}
	} else {
		snprintf(err, errlen, "%s: malformed JSON at byte %zu of %zu", AM_KIND,
			 (size_t)(bad - body), len);
		goto fail;
	}
	free(ends.v);
	if (part && items->n > first)
		part(parg, items);
	if (doc_out)
		*doc_out = keep;
	else
		cJSON_Delete(keep);
	return true;
fail:
	free(ends.v);
	while (items->n > first)
		alertfeed_item_free(items->v[--items->n]);
	/* an answer cut off after some alerts: the storage made for them goes
	 * too when the caller's list was empty (its poller frees only on success) */
	if (first == 0)
		ptrvec_free(items, NULL);
	cJSON_Delete(keep);
	return false;
}

bool alertmanager_alerts_parse(const char *source, const char *body, size_t len,
			       int64_t (*until)(void *arg, const char *silence_id), void *arg,
			       int64_t now_ms, struct ptrvec *items, cJSON **doc_out, char *err,
			       size_t errlen)
{
	return am_parse_parts(source, body, len, until, arg, now_ms, items, doc_out, NULL, NULL,
			      err, errlen);
}

bool alertmanager_alerts_parse_parts(const char *source, const char *body, size_t len,
				     int64_t now_ms, void (*part)(void *parg, struct ptrvec *items),
				     void *parg, char *err, size_t errlen)
{
	struct ptrvec items = {0};
	bool ok = am_parse_parts(source, body, len, NULL, NULL, now_ms, &items, NULL, part, parg,
				 err, errlen);
	ptrvec_free(&items, alertfeed_item_free);
	return ok;
}

/* Each part is journaled and its items freed while the rest of the answer
 * is read, so thousands of alerts are never all held as items at once. */
static void am_part(void *parg, struct ptrvec *items)
{
	alertfeed_part_take(parg, items);
	for (size_t i = 0; i < items->n; i++)
		alertfeed_item_free(items->v[i]);
	items->n = 0;
}

static bool am_parse(void *arg, const char *body, size_t len, char *err, size_t errlen)
{
	struct am *a = arg;
	struct ptrvec items = {0};
	cJSON *doc = NULL;
	struct alertfeed_pass *pass = NULL;
	if (a->host->state(a->host->arg))
		pass = alertfeed_begin(a->host, a->name, AM_KIND);
	bool ok = am_parse_parts(a->name, body, len, am_known_until, a, time_now_ms(), &items,
				 &doc, pass ? am_part : NULL, pass, err, errlen);
	ptrvec_free(&items, alertfeed_item_free);
	if (!ok) {
		alertfeed_abort(pass);
		return false;
	}
	cJSON_Delete(a->last);
	a->last = doc;
	if (pass)
		alertfeed_end(pass);
	return true;
}

static void am_start(void *self, const struct backend_host *host)
{
	struct am *a = self;
	a->hostv = *host;
	a->host = &a->hostv;
	struct poll_cfg pc = {.name = a->name, .kind = AM_KIND, .interval_ms = a->interval_ms,
			      .timeout_ms = a->timeout_ms, .max_bytes = AM_MAX_BYTES};
	const char *headers[] = {"Accept: application/json", NULL};
	a->poll = poll_start(host, &pc, am_url, headers, am_parse, a);
}

/* ---- silences -------------------------------------------------------------- */

struct am_sil {
	struct am *am;
	void *job;               /* http job in flight */
	struct backend_job_cbs cbs;
	int64_t until;           /* create: the end asked for */
	struct ptrvec ids;       /* expire: silences still to delete */
	size_t next;
	char first_id[128];
};

static void am_sil_free(struct am_sil *s)
{
	ptrvec_free(&s->ids, free);
	free(s);
}

static void am_sil_forget(struct am_sil *s)
{
	for (size_t i = 0; i < s->am->jobs.n; i++)
		if (s->am->jobs.v[i] == s) {
			ptrvec_remove(&s->am->jobs, i);
			break;
		}
}

static void am_sil_finish(struct am_sil *s, const struct backend_result *res)
{
	struct backend_job_cbs cbs = s->cbs;
	am_sil_forget(s);
	/* let the state follow the change now rather than an interval later */
	poll_now(s->am->poll);
	am_sil_free(s);
	if (cbs.done)
		cbs.done(cbs.arg, res);
}

static void am_created_id(const struct http_reply *r, struct backend_result *res)
{
	cJSON *doc = cJSON_ParseWithLength(r->body, r->len);
	const char *id = jstr(doc, "silenceID");
	if (id)
		snprintf(res->ref, sizeof res->ref, "%s", id);
	cJSON_Delete(doc);
}

static void am_sil_created(void *arg, const struct backend_result *res)
{
	struct am_sil *s = arg;
	s->job = NULL;
	if (res->ok && res->ref[0]) {
		struct am *a = s->am;
		if (a->known.n >= AM_KNOWN_MAX) {
			am_known_free(a->known.v[0]);
			ptrvec_remove(&a->known, 0);
		}
		struct am_known *k = xcalloc(1, sizeof *k);
		k->id = xstrdup(res->ref);
		k->until = s->until;
		ptrvec_push(&a->known, k);
	}
	am_sil_finish(s, res);
}

static void am_sil_expire_next(struct am_sil *s);

static void am_sil_expired(void *arg, const struct backend_result *res)
{
	struct am_sil *s = arg;
	s->job = NULL;
	if (!res->ok || s->next >= s->ids.n) {
		struct backend_result r = *res;
		if (r.ok)
			snprintf(r.ref, sizeof r.ref, "%s", s->first_id);
		am_sil_finish(s, &r);
		return;
	}
	am_sil_expire_next(s);
}

static void am_sil_expire_next(struct am_sil *s)
{
	char *id = template_url_escape(s->ids.v[s->next++]);
	char *url = xasprintf("%s/api/v2/silence/%s", s->am->base, id);
	free(id);
	const char *headers[] = {"Accept: application/json", NULL};
	const struct backend_job_cbs cbs = {.done = am_sil_expired, .arg = s};
	s->job = http_job(s->am->host->base, "DELETE", url, headers, NULL, s->am->timeout_ms,
			     AM_KIND, NULL, NULL, &cbs);
	free(url);
}

/* The raw labels and silences of an alert from the last answer. */
static const cJSON *am_last_alert(const struct am *a, const char *id)
{
	const cJSON *al;
	cJSON_ArrayForEach(al, a->last)
		if (str_eq(jstr(al, "fingerprint"), id))
			return al;
	return NULL;
}

static void am_silence(void *self, const struct backend_host *host, const char *alert_id,
		       const cJSON *labels, int minutes, const char *comment, const char *user,
		       const struct backend_job_cbs *cbs)
{
	struct am *a = self;
	struct am_sil *s = xcalloc(1, sizeof *s);
	s->am = a;
	s->cbs = *cbs;
	const cJSON *last = am_last_alert(a, alert_id);
	if (minutes <= 0) {
		const cJSON *status = cJSON_GetObjectItemCaseSensitive(last, "status");
		const cJSON *by = cJSON_GetObjectItemCaseSensitive(status, "silencedBy");
		const cJSON *it;
		cJSON_ArrayForEach(it, by)
			if (cJSON_IsString(it) && *it->valuestring)
				ptrvec_push(&s->ids, xstrdup(it->valuestring));
		if (!s->ids.n) {
			const struct alert *sa = state_find_alert(host->state(host->arg), alert_id);
			if (sa && sa->silence_id && *sa->silence_id)
				ptrvec_push(&s->ids, xstrdup(sa->silence_id));
		}
		if (!s->ids.n) {
			struct backend_result res = {.ok = false};
			snprintf(res.error, sizeof res.error, "%s: no silence is known for alert %s",
				 AM_KIND, alert_id);
			am_sil_free(s);
			http_fail_later(host->base, &res, cbs);
			return;
		}
		snprintf(s->first_id, sizeof s->first_id, "%s", (char *)s->ids.v[0]);
		ptrvec_push(&a->jobs, s);
		am_sil_expire_next(s);
		return;
	}
	/* matchers equal to every label, as Alertmanager sent them */
	const cJSON *raw = cJSON_GetObjectItemCaseSensitive(last, "labels");
	if (!cJSON_IsObject(raw))
		raw = labels;
	cJSON *body = cJSON_CreateObject();
	cJSON *ms = cJSON_AddArrayToObject(body, "matchers");
	const cJSON *l;
	cJSON_ArrayForEach(l, raw) {
		if (!cJSON_IsString(l) || !l->string)
			continue;
		cJSON *m = cJSON_CreateObject();
		cJSON_AddStringToObject(m, "name", l->string);
		cJSON_AddStringToObject(m, "value", l->valuestring);
		cJSON_AddBoolToObject(m, "isRegex", 0);
		cJSON_AddBoolToObject(m, "isEqual", 1);
		cJSON_AddItemToArray(ms, m);
	}
	if (cJSON_GetArraySize(ms) == 0) {
		cJSON_Delete(body);
		struct backend_result res = {.ok = false};
		snprintf(res.error, sizeof res.error, "%s: alert %s has no labels to match", AM_KIND,
			 alert_id);
		am_sil_free(s);
		http_fail_later(host->base, &res, cbs);
		return;
	}
	int64_t now = time_now_ms();
	s->until = now + (int64_t)minutes * 60000;
	char t0[40], t1[40];
	time_format_rfc3339(now, t0, sizeof t0);
	time_format_rfc3339(s->until, t1, sizeof t1);
	cJSON_AddStringToObject(body, "startsAt", t0);
	cJSON_AddStringToObject(body, "endsAt", t1);
	cJSON_AddStringToObject(body, "createdBy", user && *user ? user : "warroom");
	cJSON_AddStringToObject(body, "comment", comment && *comment ? comment : "warroom");
	char *text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	char *url = xasprintf("%s/api/v2/silences", a->base);
	const char *headers[] = {"Content-Type: application/json", "Accept: application/json", NULL};
	const struct backend_job_cbs mine = {.done = am_sil_created, .arg = s};
	ptrvec_push(&a->jobs, s);
	s->job = http_job(host->base, "POST", url, headers, text, a->timeout_ms, AM_KIND, NULL,
			     am_created_id, &mine);
	free(url);
	free(text);
}

static void am_stop(void *self)
{
	struct am *a = self;
	poll_free(a->poll);
	a->poll = NULL;
	for (size_t i = 0; i < a->jobs.n; i++) {
		struct am_sil *s = a->jobs.v[i];
		http_job_cancel(s->job);
		am_sil_free(s);
	}
	ptrvec_free(&a->jobs, NULL);
}

static void am_probe(void *self, struct backend_result *res)
{
	struct am *a = self;
	char *url = am_alerts_url(a);
	char *body = NULL;
	const char *headers[] = {"Accept: application/json", NULL};
	poll_probe_capped(url, AM_KIND, AM_PROBE_MS, AM_MAX_BYTES, headers, res, &body);
	free(url);
	if (res->ok) {
		char err[256];
		cJSON *doc = poll_parse_json(AM_KIND, body, strlen(body), err, sizeof err);
		if (!doc || !cJSON_IsArray(doc)) {
			res->ok = false;
			snprintf(res->error, sizeof res->error, "%s",
				 doc ? AM_KIND ": expected a JSON array of alerts" : err);
		}
		cJSON_Delete(doc);
	}
	free(body);
}

const struct backend_class backend_alerts_alertmanager = {
	.family = "alerts",
	.type = "alertmanager",
	.configure = am_configure,
	.start = am_start,
	.probe = am_probe,
	.silence = am_silence,
	.stop = am_stop,
	.free = am_free,
};
