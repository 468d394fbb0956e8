#include "core/event.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/state.h"
#include "core/util.h"

static const struct {
	const char *name, *spec;
} kinds[EV__COUNT] = {
#define X(e, name, spec) [EV_##e] = {name, spec},
	EVENT_KINDS(X)
#undef X
};

const char *event_kind_name(enum event_kind k)
{
	return (unsigned)k < EV__COUNT ? kinds[k].name : "unknown";
}

int event_kind_from_name(const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < EV__COUNT; i++)
		if (strcmp(kinds[i].name, name) == 0)
			return i;
	return -1;
}

struct wr_event *wr_event_new(enum event_kind kind, const char *by, cJSON *data)
{
	struct wr_event *ev = xcalloc(1, sizeof *ev);
	ev->kind = kind;
	ev->by = xstrdup(by ? by : "system");
	ev->data = data ? data : cJSON_CreateObject();
	ev->ts = time_now_ms();
	return ev;
}

/* ---- alert.fired held as fields ------------------------------------------ */

void alert_fields_free(struct alert_fields *f)
{
	if (!f)
		return;
	free(f->id);
	free(f->source);
	free(f->name);
	free(f->service);
	free(f->severity);
	free(f->summary);
	free(f->starts_at);
	free(f->url);
	free(f->labels);
	free(f->annotations);
	free(f);
}

struct alert_fields *alert_fields_dup(const struct alert_fields *f)
{
	struct alert_fields *d = xcalloc(1, sizeof *d);
	d->id = xstrdup(f->id);
	d->source = xstrdup(f->source);
	d->name = xstrdup(f->name);
	d->service = xstrdup(f->service);
	d->severity = xstrdup(f->severity);
	d->summary = xstrdup(f->summary);
	d->starts_at = xstrdup(f->starts_at);
	d->url = xstrdup(f->url);
	d->labels = pairs_dup(f->labels);
	d->annotations = pairs_dup(f->annotations);
	return d;
}

/* The string fields in the order a line gives them (labels and annotations
 * come between starts_at and url, as the sources have always made them). */
#define ALERT_STRINGS(X) \
	X(id) X(source) X(name) X(service) X(severity) X(summary) X(starts_at)

const char *alert_fields_get(const struct alert_fields *f, const char *name)
{
#define X(field) \
	if (strcmp(name, #field) == 0) \
		return f->field;
	ALERT_STRINGS(X)
	X(url)
#undef X
	return NULL;
}

cJSON *alert_fields_to_json(const struct alert_fields *f)
{
	cJSON *o = cJSON_CreateObject();
#define X(field) \
	if (f->field) \
		cJSON_AddStringToObject(o, #field, f->field);
	ALERT_STRINGS(X)
#undef X
	if (f->labels)
		cJSON_AddItemToObject(o, "labels", pairs_to_json(f->labels));
	if (f->annotations)
		cJSON_AddItemToObject(o, "annotations", pairs_to_json(f->annotations));
	if (f->url)
		cJSON_AddStringToObject(o, "url", f->url);
	return o;
}

struct wr_event *wr_event_new_alert(const char *by, struct alert_fields *f)
{
	struct wr_event *ev = xcalloc(1, sizeof *ev);
	ev->kind = EV_ALERT_FIRED;
	ev->by = xstrdup(by ? by : "system");
	ev->alert = f;
	ev->ts = time_now_ms();
	return ev;
}

const cJSON *wr_event_data(struct wr_event *ev)
{
	if (!ev->data) {
		ev->data = ev->alert ? alert_fields_to_json(ev->alert) : cJSON_CreateObject();
		alert_fields_free(ev->alert);
		ev->alert = NULL;
	}
	return ev->data;
}

struct wr_event *wr_event_dup(const struct wr_event *ev)
{
	struct wr_event *d = xcalloc(1, sizeof *d);
	d->seq = ev->seq;
	d->ts = ev->ts;
	d->kind = ev->kind;
	d->by = xstrdup(ev->by);
	if (ev->alert)
		d->alert = alert_fields_dup(ev->alert);
	else
		d->data = cJSON_Duplicate(ev->data, 1);
	return d;
}

void wr_event_free(struct wr_event *ev)
{
	if (!ev)
		return;
	free(ev->by);
	cJSON_Delete(ev->data);
	alert_fields_free(ev->alert);
	free(ev);
}

const char *event_str(const struct wr_event *ev, const char *field, const char *def)
{
	if (ev->alert) {
		const char *v = alert_fields_get(ev->alert, field);
		return v ? v : def;
	}
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(ev->data, field);
	return cJSON_IsString(it) && it->valuestring ? it->valuestring : def;
}

double event_num(const struct wr_event *ev, const char *field, double def)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(ev->data, field);
	return cJSON_IsNumber(it) ? it->valuedouble : def;
}

bool event_bool(const struct wr_event *ev, const char *field, bool def)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(ev->data, field);
	return cJSON_IsBool(it) ? cJSON_IsTrue(it) : def;
}

static bool type_ok(const cJSON *it, char t)
{
	switch (t) {
	case 's': return cJSON_IsString(it);
	case 'n': return cJSON_IsNumber(it) && isfinite(it->valuedouble);
	case 'b': return cJSON_IsBool(it);
	case 'o': return cJSON_IsObject(it);
	case 'a': return cJSON_IsArray(it);
	default: return false;
	}
}

static const char *type_word(char t)
{
	switch (t) {
	case 's': return "a string";
	case 'n': return "a number";
	case 'b': return "true or false";
	case 'o': return "an object";
	case 'a': return "an array";
	default: return "?";
	}
}

bool spec_validate(const char *spec, const cJSON *obj, char *err, size_t errlen)
{
	if (obj && !cJSON_IsObject(obj)) {
		snprintf(err, errlen, "expected an object");
		return false;
	}
	const char *p = spec;
	/* data built here lists its fields in the spec's order: the child after
	 * the last one found is tried first, before a search of them all */
	const cJSON *next = obj ? obj->child : NULL;
	bool in_order = true; /* every child before next was found that way */
	while (*p) {
		const char *colon = strchr(p, ':');
		if (!colon)
			break;
		char field[64];
		size_t fl = (size_t)(colon - p);
		if (fl >= sizeof field)
			fl = sizeof field - 1;
		memcpy(field, p, fl);
		field[fl] = '\0';
		char t = colon[1];
		bool optional = colon[2] == '?';
		const cJSON *it = NULL;
		/* the children before next are earlier fields of the spec, so
		 * next, when it matches, is the first of that name */
		if (in_order && next && next->string && strcmp(next->string, field) == 0) {
			it = next;
			next = next->next;
		} else {
			in_order = false;
			it = obj ? cJSON_GetObjectItemCaseSensitive(obj, field) : NULL;
		}
		if (!it || cJSON_IsNull(it)) {
			if (!optional) {
				snprintf(err, errlen, "missing field \"%s\"", field);
				return false;
			}
		} else if (!type_ok(it, t)) {
			snprintf(err, errlen, "field \"%s\" must be %s", field, type_word(t));
			return false;
		}
		p = strchr(colon, ',');
		if (!p)
			break;
		p++;
	}
	return true;
}

bool event_validate(enum event_kind kind, const cJSON *data, char *err, size_t errlen)
{
	if ((unsigned)kind >= EV__COUNT) {
		snprintf(err, errlen, "unknown kind");
		return false;
	}
	char e[128];
	if (!spec_validate(kinds[kind].spec, data, e, sizeof e)) {
		snprintf(err, errlen, "%s: %s", kinds[kind].name, e);
		return false;
	}
	return true;
}

bool wr_event_validate(const struct wr_event *ev, char *err, size_t errlen)
{
	if (!ev->alert)
		return event_validate(ev->kind, ev->data, err, errlen);
	const struct alert_fields *f = ev->alert;
	if (ev->kind != EV_ALERT_FIRED || ev->data) {
		snprintf(err, errlen, "%s: alert fields on another kind", event_kind_name(ev->kind));
		return false;
	}
	/* the spec's required strings; the rest are optional and typed by
	 * construction */
	const char *missing = !f->id ? "id" : !f->source ? "source" : !f->name ? "name"
			      : !f->service ? "service" : !f->severity ? "severity"
			      : !f->summary ? "summary" : NULL;
	if (missing) {
		snprintf(err, errlen, "alert.fired: missing field \"%s\"", missing);
		return false;
	}
	return true;
}

cJSON *event_to_json(const struct wr_event *ev)
{
	char ts[40];
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "seq", (double)ev->seq);
	time_format_rfc3339(ev->ts, ts, sizeof ts);
	cJSON_AddStringToObject(o, "ts", ts);
	cJSON_AddStringToObject(o, "kind", event_kind_name(ev->kind));
	cJSON_AddStringToObject(o, "by", ev->by ? ev->by : "system");
	cJSON *fields = ev->alert ? alert_fields_to_json(ev->alert) : NULL;
	const cJSON *data = fields ? fields : ev->data;
	if (data)
		for (const cJSON *it = data->child; it; it = it->next) {
			if (!it->string || !strcmp(it->string, "seq") || !strcmp(it->string, "ts") ||
			    !strcmp(it->string, "kind") || !strcmp(it->string, "by"))
				continue;
			cJSON_AddItemToObject(o, it->string, cJSON_Duplicate(it, 1));
		}
	cJSON_Delete(fields);
	return o;
}

/* ---- the journal line ------------------------------------------------------
 * Printed straight from the event, in the very text cJSON_PrintUnformatted
 * gives for event_to_json (same escapes, same numbers), without building
 * that tree: one line per event journaled, so thousands per large poll. */

static void jw_str(struct sbuf *w, const char *s)
{
	size_t len = strlen(s);
	size_t n = json_plain_prefix(s, len, false);
	if (n == len) {
		/* the usual string: no escape, written in one go */
		sbuf_reserve(w, len + 2);
		w->buf[w->len] = '"';
		memcpy(w->buf + w->len + 1, s, len);
		w->buf[w->len + len + 1] = '"';
		w->len += len + 2;
		w->buf[w->len] = '\0';
		return;
	}
	sbuf_addc(w, '"');
	for (;;) {
		/* a run that needs no escape, then the byte after it escaped */
		sbuf_add(w, s, n);
		if (n == len)
			break;
		unsigned char c = (unsigned char)s[n];
		char esc[8];
		switch (c) {
		case '"': sbuf_add(w, "\\\"", 2); break;
		case '\\': sbuf_add(w, "\\\\", 2); break;
		case '\b': sbuf_add(w, "\\b", 2); break;
		case '\f': sbuf_add(w, "\\f", 2); break;
		case '\n': sbuf_add(w, "\\n", 2); break;
		case '\r': sbuf_add(w, "\\r", 2); break;
		case '\t': sbuf_add(w, "\\t", 2); break;
		default:
			snprintf(esc, sizeof esc, "\\u%04x", c);
			sbuf_add(w, esc, 6);
			break;
		}
		s += n + 1;
		len -= n + 1;
		n = json_plain_prefix(s, len, false);
	}
	sbuf_addc(w, '"');
}

/* cJSON's rule: 15 significant digits if they read back as the same
 * double, else 17 ("%1.15g" prints an integral value below 1e15 as its
 * digits: done by hand, the usual case of counts). */
/* u in decimal, all its digits */
static void jw_uint(struct sbuf *w, uint64_t u)
{
	char t[24];
	size_t k = sizeof t;
	do {
		t[--k] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	sbuf_add(w, t + k, sizeof t - k);
}

static void jw_num(struct sbuf *w, double d)
{
	char b[40];
	int n;
	if (isnan(d) || isinf(d)) {
		n = snprintf(b, sizeof b, "null");
	} else if (d == floor(d) && fabs(d) < 1e15 && !(d == 0 && signbit(d))) {
		if (d < 0)
			sbuf_addc(w, '-');
		jw_uint(w, (uint64_t)fabs(d));
		return;
	} else {
		n = snprintf(b, sizeof b, "%1.15g", d);
		double back = strtod(b, NULL);
		double big = fabs(back) > fabs(d) ? fabs(back) : fabs(d);
		if (!(fabs(back - d) <= big * DBL_EPSILON))
			n = snprintf(b, sizeof b, "%1.17g", d);
	}
	sbuf_add(w, b, (size_t)n);
}

static bool jw_value(struct sbuf *w, const cJSON *it, int depth)
{
	if (depth > 1000)
		return false;
	switch (it->type & 0xFF) {
	case cJSON_NULL: sbuf_add(w, "null", 4); return true;
	case cJSON_False: sbuf_add(w, "false", 5); return true;
	case cJSON_True: sbuf_add(w, "true", 4); return true;
	case cJSON_Number: jw_num(w, it->valuedouble); return true;
	case cJSON_String:
		if (!it->valuestring)
			return false;
		jw_str(w, it->valuestring);
		return true;
	case cJSON_Raw:
		if (!it->valuestring)
			return false;
		sbuf_add(w, it->valuestring, strlen(it->valuestring));
		return true;
	case cJSON_Array:
	case cJSON_Object: {
		bool obj = (it->type & 0xFF) == cJSON_Object;
		sbuf_add(w, obj ? "{" : "[", 1);
		for (const cJSON *c = it->child; c; c = c->next) {
			if (c != it->child)
				sbuf_add(w, ",", 1);
			if (obj) {
				if (!c->string)
					return false;
				jw_str(w, c->string);
				sbuf_add(w, ":", 1);
			}
			if (!jw_value(w, c, depth + 1))
				return false;
		}
		sbuf_add(w, obj ? "}" : "]", 1);
		return true;
	}
	default:
		return false;
	}
}

/* seq, ts, kind and by come from the event itself, never from its data */
static bool envelope_key(const char *k)
{
	switch (k[0]) {
	case 's': return !strcmp(k, "seq");
	case 't': return !strcmp(k, "ts");
	case 'k': return !strcmp(k, "kind");
	case 'b': return !strcmp(k, "by");
	default: return false;
	}
}

static void jw_key(struct sbuf *w, const char *k)
{
	sbuf_addc(w, ',');
	jw_str(w, k);
	sbuf_addc(w, ':');
}

/* labels or annotations: the object they were packed from */
static void jw_pairs(struct sbuf *w, const struct pairs *p)
{
	struct pair x;
	size_t off = 0;
	bool first = true;
	sbuf_addc(w, '{');
	while (pairs_next(p, &off, &x)) {
		if (!first)
			sbuf_addc(w, ',');
		first = false;
		jw_str(w, x.name);
		sbuf_addc(w, ':');
		/* a value that was not a string is kept as cJSON printed it */
		if (x.json)
			sbuf_adds(w, x.value);
		else
			jw_str(w, x.value);
	}
	sbuf_addc(w, '}');
}

/* the fields of an alert.fired held as fields, in alert_fields_to_json's order */
static void jw_alert(struct sbuf *w, const struct alert_fields *f)
{
#define X(field) \
	if (f->field) { \
		jw_key(w, #field); \
		jw_str(w, f->field); \
	}
	ALERT_STRINGS(X)
#undef X
	if (f->labels) {
		jw_key(w, "labels");
		jw_pairs(w, f->labels);
	}
	if (f->annotations) {
		jw_key(w, "annotations");
		jw_pairs(w, f->annotations);
	}
	if (f->url) {
		jw_key(w, "url");
		jw_str(w, f->url);
	}
}

void event_encode_to(struct sbuf *w, const struct wr_event *ev)
{
	size_t start = w->len;
	char ts[40];
	sbuf_reserve(w, 1024); /* most lines fit */
	/* seq with all its digits: cJSON's rule would round one of 16 digits
	 * (6666666666666669 to 6.66666666666667e+15), and a line must read
	 * back as the event it was written from (a seq is at most 2^53) */
	sbuf_add(w, "{\"seq\":", 7);
	jw_uint(w, ev->seq);
	sbuf_add(w, ",\"ts\":", 6);
	time_format_rfc3339(ev->ts, ts, sizeof ts);
	jw_str(w, ts);
	sbuf_add(w, ",\"kind\":", 8);
	jw_str(w, event_kind_name(ev->kind));
	sbuf_add(w, ",\"by\":", 6);
	jw_str(w, ev->by ? ev->by : "system");
	if (ev->alert)
		jw_alert(w, ev->alert);
	else if (ev->data)
		for (const cJSON *it = ev->data->child; it; it = it->next) {
			if (!it->string || envelope_key(it->string))
				continue;
			sbuf_add(w, ",", 1);
			jw_str(w, it->string);
			sbuf_add(w, ":", 1);
			if (!jw_value(w, it, 0)) {
				/* what cJSON would refuse to print: its own answer */
				w->len = start;
				cJSON *o = event_to_json(ev);
				char *s = cJSON_PrintUnformatted(o);
				cJSON_Delete(o);
				sbuf_adds(w, s ? s : "");
				free(s);
				return;
			}
		}
	sbuf_addc(w, '}');
}

char *event_encode(const struct wr_event *ev)
{
	struct sbuf w;
	sbuf_init(&w);
	event_encode_to(&w, ev);
	return sbuf_detach(&w);
}

#define MAX_FIELDS 512

/* Rejects repeated keys at any depth (readers would disagree on which one
 * counts) and absurdly wide objects (the check is quadratic). */
static bool json_well_formed(const cJSON *o, int depth, char *why, size_t len)
{
	if (cJSON_IsObject(o)) {
		int n = 0;
		for (const cJSON *a = o->child; a; a = a->next)
			if (++n > MAX_FIELDS) {
				snprintf(why, len, "object with more than %d fields", MAX_FIELDS);
				return false;
			}
		for (const cJSON *a = o->child; a; a = a->next)
			for (const cJSON *b = a->next; b; b = b->next)
				if (a->string && b->string && strcmp(a->string, b->string) == 0) {
					snprintf(why, len, "duplicate field \"%.60s\"", a->string);
					return false;
				}
	}
	if (cJSON_IsNumber(o) && !isfinite(o->valuedouble)) {
		snprintf(why, len, "number out of range");
		return false;
	}
	if (cJSON_IsObject(o) || cJSON_IsArray(o))
		for (const cJSON *a = o->child; a; a = a->next)
			if (!json_well_formed(a, depth + 1, why, len))
				return false;
	return true;
}

/* Takes ownership of obj (an object): the common keys are removed from it and
 * the rest becomes ev->data, so decoding copies nothing. */
static struct wr_event *event_take_json(cJSON *obj, char *err, size_t errlen)
{
	if (!cJSON_IsObject(obj)) {
		snprintf(err, errlen, "not a JSON object");
		cJSON_Delete(obj);
		return NULL;
	}
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(obj, "seq");
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(obj, "ts");
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(obj, "kind");
	const cJSON *by = cJSON_GetObjectItemCaseSensitive(obj, "by");
	int64_t ms = 0;
	int k = -1;
	char why[128];
	if (!json_well_formed(obj, 0, why, sizeof why)) {
		snprintf(err, errlen, "%s", why);
	} else if (!cJSON_IsNumber(seq) || seq->valuedouble < 1 || seq->valuedouble > 9007199254740992.0 ||
	    seq->valuedouble != floor(seq->valuedouble)) {
		snprintf(err, errlen, "missing or bad \"seq\"");
	} else if (!cJSON_IsString(ts) || time_parse_rfc3339(ts->valuestring, &ms) < 0) {
		snprintf(err, errlen, "missing or bad \"ts\"");
	} else if ((k = cJSON_IsString(kind) ? event_kind_from_name(kind->valuestring) : -1) < 0) {
		snprintf(err, errlen, "unknown \"kind\" %.60s",
			 cJSON_IsString(kind) ? kind->valuestring : "(missing)");
	} else if (!cJSON_IsString(by)) {
		snprintf(err, errlen, "missing \"by\"");
		k = -1;
	}
	if (k < 0) {
		cJSON_Delete(obj);
		return NULL;
	}
	struct wr_event *ev = xcalloc(1, sizeof *ev);
	ev->seq = (uint64_t)seq->valuedouble;
	ev->ts = ms;
	ev->kind = (enum event_kind)k;
	ev->by = xstrdup(by->valuestring);
	cJSON_DeleteItemFromObjectCaseSensitive(obj, "seq");
	cJSON_DeleteItemFromObjectCaseSensitive(obj, "ts");
	cJSON_DeleteItemFromObjectCaseSensitive(obj, "kind");
	cJSON_DeleteItemFromObjectCaseSensitive(obj, "by");
	ev->data = obj;
	if (!event_validate(ev->kind, ev->data, err, errlen)) {
		wr_event_free(ev);
		return NULL;
	}
	return ev;
}

struct wr_event *event_from_json(const cJSON *obj, char *err, size_t errlen)
{
	if (!cJSON_IsObject(obj)) {
		snprintf(err, errlen, "not a JSON object");
		return NULL;
	}
	return event_take_json(cJSON_Duplicate(obj, 1), err, errlen);
}

struct wr_event *event_decode(const char *line, size_t len, char *err, size_t errlen)
{
	const char *end = NULL;
	cJSON *obj = cJSON_ParseWithLengthOpts(line, len, &end, 0);
	if (!obj) {
		const char *at = cJSON_GetErrorPtr();
		long off = (at && at >= line && at <= line + len) ? (long)(at - line) : -1;
		snprintf(err, errlen, "malformed JSON (at byte %ld)", off);
		return NULL;
	}
	for (const char *p = end; p && p < line + len; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' && *p != '\0') {
			cJSON_Delete(obj);
			snprintf(err, errlen, "trailing data after the JSON object");
			return NULL;
		}
	return event_take_json(obj, err, errlen);
}
