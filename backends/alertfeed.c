/* Alert list diffing for the alert pollers; see alertfeed.h. */
#include "backends/alertfeed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/poll.h"
#include "core/state.h"

/* Printable ASCII of at most max bytes: poll_text would return it as is. */
static bool alertfeed_plain(const char *s, size_t max)
{
	size_t n = 0;
	while ((unsigned char)s[n] >= 0x20 && (unsigned char)s[n] < 0x7f)
		n++;
	return !s[n] && n <= max;
}

/* A sanitised copy of a string-valued object (labels, annotations), capped
 * in count and size. Non-string values are left out. */
static cJSON *clean_pairs(const cJSON *obj)
{
	cJSON *out = cJSON_CreateObject();
	const cJSON *it;
	int n = 0;
	cJSON_ArrayForEach(it, obj) {
		if (!cJSON_IsString(it) || !it->string || n >= ALERTFEED_MAX_PAIRS)
			continue;
		/* plain text goes in as it is; anything else through poll_text */
		const char *k = it->string, *v = it->valuestring;
		char *kc = NULL, *vc = NULL;
		if (!alertfeed_plain(k, ALERTFEED_NAME_MAX))
			k = kc = poll_text(k, ALERTFEED_NAME_MAX);
		if (!alertfeed_plain(v, ALERTFEED_VALUE_MAX))
			v = vc = poll_text(v, ALERTFEED_VALUE_MAX);
		if (*k && !cJSON_GetObjectItemCaseSensitive(out, k)) {
			cJSON_AddStringToObject(out, k, v);
			n++;
		}
		free(kc);
		free(vc);
	}
	return out;
}

bool alertfeed_pairs_clean(const cJSON *obj)
{
	if (!obj)
		return false;
	if (!cJSON_IsObject(obj))
		return false;
	int n = 0;
	for (const cJSON *it = obj->child; it; it = it->next) {
		if (!cJSON_IsString(it) || !it->string || !*it->string || ++n > ALERTFEED_MAX_PAIRS ||
		    !alertfeed_plain(it->string, ALERTFEED_NAME_MAX) ||
		    !alertfeed_plain(it->valuestring, ALERTFEED_VALUE_MAX))
			return false;
		for (const cJSON *b = obj->child; b != it; b = b->next)
			if (strcmp(b->string, it->string) == 0)
				return false;
	}
	return true;
}

/* A label or annotation worth showing: a non-empty string. */
static const char *pair(const struct pairs *p, const char *name)
{
	const char *v = pairs_get(p, name);
	return v && *v ? v : NULL;
}

/* s sanitised and capped as poll_text does (plain text as it is). */
static char *text_copy(const char *s, size_t max)
{
	return alertfeed_plain(s, max) ? xstrdup(s) : poll_text(s, max);
}

/* The item from clean labels and annotations, which it takes. */
static struct alertfeed_item *item_build(const char *id, const char *source, struct pairs *lab,
					 struct pairs *ann, const char *starts_at, const char *url)
{
	struct alertfeed_item *it = xcalloc(1, sizeof *it);
	struct alert_fields *f = xcalloc(1, sizeof *f);
	f->id = text_copy(id, ALERTFEED_NAME_MAX);
	f->source = xstrdup(source);
	const char *name = pair(lab, "alertname");
	f->name = xstrdup(name ? name : "(unnamed)");
	const char *service = pair(lab, "service");
	f->service = xstrdup(service ? service : "-");
	const char *sev = pair(lab, "severity");
	f->severity = xstrdup(sev ? sev : "none");
	const char *summary = pair(ann, "summary");
	if (!summary)
		summary = pair(ann, "description");
	f->summary = text_copy(summary ? summary : "", ALERTFEED_SUMMARY_MAX);
	int64_t ms;
	if (starts_at && time_parse_rfc3339(starts_at, &ms) >= 0) {
		char ts[40];
		time_format_rfc3339(ms, ts, sizeof ts);
		f->starts_at = xstrdup(ts);
	}
	/* always a set, if an empty one: the line says "labels":{} */
	f->labels = lab ? lab : pairs_pack(0, NULL, NULL, NULL, NULL);
	f->annotations = ann ? ann : pairs_pack(0, NULL, NULL, NULL, NULL);
	if (url && *url)
		f->url = text_copy(url, ALERTFEED_VALUE_MAX);
	it->fired = f;
	return it;
}

/* A clean object packed, and the object gone. */
static struct pairs *pack(cJSON *clean)
{
	struct pairs *p = pairs_from_json(clean);
	cJSON_Delete(clean);
	return p;
}

struct alertfeed_item *alertfeed_item_new(const char *id, const char *source,
					  const cJSON *labels, const cJSON *annotations,
					  const char *starts_at, const char *url)
{
	return item_build(id, source, pack(clean_pairs(labels)), pack(clean_pairs(annotations)),
			  starts_at, url);
}

/* Clean already: the object itself; else a cleaned copy, and it goes. */
static cJSON *take_pairs(cJSON *obj)
{
	if (obj && alertfeed_pairs_clean(obj))
		return obj;
	cJSON *c = clean_pairs(obj);
	cJSON_Delete(obj);
	return c;
}

struct alertfeed_item *alertfeed_item_take(const char *id, const char *source, cJSON *labels,
					   cJSON *annotations, const char *starts_at,
					   const char *url)
{
	return item_build(id, source, pack(take_pairs(labels)), pack(take_pairs(annotations)),
			  starts_at, url);
}

struct alertfeed_item *alertfeed_item_packed(const char *id, const char *source,
					     struct pairs *labels, struct pairs *annotations,
					     const char *starts_at, const char *url)
{
	return item_build(id, source, labels, annotations, starts_at, url);
}

cJSON *alertfeed_item_json(const struct alertfeed_item *it)
{
	return alert_fields_to_json(it->fired);
}

void alertfeed_item_free(void *p)
{
	struct alertfeed_item *it = p;
	if (!it)
		return;
	alert_fields_free(it->fired);
	free(it->silence_id);
	free(it);
}

/* Whether the state's copy differs from what the source says now. */
static bool alert_changed(const struct alert *a, const struct alert_fields *f)
{
	if (!str_eq(a->name, f->name) || !str_eq(a->service, f->service) ||
	    !str_eq(a->severity, f->severity) || !str_eq(a->summary, f->summary) ||
	    !str_eq(a->url, f->url))
		return true;
	int64_t ms;
	if (f->starts_at && time_parse_rfc3339(f->starts_at, &ms) >= 0 && ms != a->started)
		return true;
	return !pairs_same(a->labels, f->labels) || !pairs_same(a->annotations, f->annotations);
}

static void emit(const struct backend_host *host, enum event_kind kind, const char *by,
		 cJSON *data)
{
	host->emit(host->arg, wr_event_new(kind, by, data));
}

/* FNV-1a over a string, folded to size_t */
static size_t id_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return (size_t)(h ^ (h >> 32));
}

struct alertfeed_pass {
	const struct backend_host *host;
	char *source, *by;
	char **seen;           /* ids met so far, open addressing; owned */
	size_t nseen, cap;
};

/* Adds id to the pass's set; false when it was there already. */
static bool pass_see(struct alertfeed_pass *p, const char *id)
{
	if ((p->nseen + 1) * 2 > p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 256;
		char **tab = xcalloc(cap, sizeof *tab);
		for (size_t i = 0; i < p->cap; i++) {
			if (!p->seen[i])
				continue;
			size_t j = id_hash(p->seen[i]) & (cap - 1);
			while (tab[j])
				j = (j + 1) & (cap - 1);
			tab[j] = p->seen[i];
		}
		free(p->seen);
		p->seen = tab;
		p->cap = cap;
	}
	size_t j = id_hash(id) & (p->cap - 1);
	for (; p->seen[j]; j = (j + 1) & (p->cap - 1))
		if (strcmp(p->seen[j], id) == 0)
			return false;
	p->seen[j] = xstrdup(id);
	p->nseen++;
	return true;
}

static bool pass_seen(const struct alertfeed_pass *p, const char *id)
{
	if (!p->cap)
		return false;
	for (size_t j = id_hash(id) & (p->cap - 1); p->seen[j]; j = (j + 1) & (p->cap - 1))
		if (strcmp(p->seen[j], id) == 0)
			return true;
	return false;
}

struct alertfeed_pass *alertfeed_begin(const struct backend_host *host, const char *source,
				       const char *by)
{
	struct alertfeed_pass *p = xcalloc(1, sizeof *p);
	p->host = host;
	p->source = xstrdup(source);
	p->by = xstrdup(by);
	return p;
}

static void pass_part(struct alertfeed_pass *p, const struct ptrvec *items, bool take)
{
	const struct backend_host *host = p->host;
	const char *source = p->source, *by = p->by;
	/* the id outlives a fired object handed over to the journal */
	char id[ALERTFEED_NAME_MAX + 1];
	for (size_t i = 0; i < items->n; i++) {
		struct alertfeed_item *it = items->v[i];
		const char *fid = it->fired ? it->fired->id : NULL;
		/* an id given twice counts once (the first), or two differing
		 * copies would re-fire on every poll */
		if (!fid || !*fid || strlen(fid) > ALERTFEED_NAME_MAX || !pass_see(p, fid))
			continue;
		memcpy(id, fid, strlen(fid) + 1);
		const struct state *st = host->state(host->arg);
		if (!st)
			return;
		struct alert *a = state_find_alert(st, id);
		/* the same alert through another source that still has it: leave it there */
		if (a && !str_eq(a->source, source) && a->status != ALERT_RESOLVED)
			continue;
		if (!a || a->status == ALERT_RESOLVED || !str_eq(a->source, source) ||
		    alert_changed(a, it->fired)) {
			struct alert_fields *f = it->fired;
			if (take)
				it->fired = NULL;
			else
				f = alert_fields_dup(f);
			host->emit(host->arg, wr_event_new_alert(by, f));
			a = state_find_alert(host->state(host->arg), id);
		}
		if (!a)
			continue;
		if (it->silenced && (a->status != ALERT_SILENCED ||
				     (it->silence_id && !str_eq(a->silence_id, it->silence_id)))) {
			cJSON *d = cJSON_CreateObject();
			cJSON_AddStringToObject(d, "id", id);
			if (it->silence_id)
				cJSON_AddStringToObject(d, "silence_id", it->silence_id);
			if (it->silenced_until > 0) {
				char ts[40];
				time_format_rfc3339(it->silenced_until, ts, sizeof ts);
				cJSON_AddStringToObject(d, "until", ts);
			}
			emit(host, EV_ALERT_SILENCED, by, d);
		} else if (!it->silenced && a->status == ALERT_SILENCED) {
			cJSON *d = cJSON_CreateObject();
			cJSON_AddStringToObject(d, "id", id);
			if (a->silence_id)
				cJSON_AddStringToObject(d, "silence_id", a->silence_id);
			emit(host, EV_ALERT_UNSILENCED, by, d);
		}
	}
}

void alertfeed_part(struct alertfeed_pass *p, const struct ptrvec *items)
{
	pass_part(p, items, false);
}

void alertfeed_part_take(struct alertfeed_pass *p, const struct ptrvec *items)
{
	pass_part(p, items, true);
}

static void pass_free(struct alertfeed_pass *p)
{
	for (size_t i = 0; i < p->cap; i++)
		free(p->seen[i]);
	free(p->seen);
	free(p->source);
	free(p->by);
	free(p);
}

void alertfeed_end(struct alertfeed_pass *p)
{
	const struct backend_host *host = p->host;
	const struct state *st = host->state(host->arg);
	/* gone from the source: resolved. Ids first, as emitting changes the state. */
	struct ptrvec gone = {0};
	for (size_t i = 0; st && i < st->alerts.n; i++) {
		const struct alert *a = st->alerts.v[i];
		if (!str_eq(a->source, p->source) || a->status == ALERT_RESOLVED || !a->id)
			continue;
		if (!pass_seen(p, a->id))
			ptrvec_push(&gone, xstrdup(a->id));
	}
	for (size_t i = 0; i < gone.n; i++) {
		cJSON *d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "id", gone.v[i]);
		cJSON_AddStringToObject(d, "source", p->source);
		emit(host, EV_ALERT_RESOLVED, p->by, d);
	}
	ptrvec_free(&gone, free);
	pass_free(p);
}

void alertfeed_abort(struct alertfeed_pass *p)
{
	if (p)
		pass_free(p);
}

void alertfeed_sync(const struct backend_host *host, const char *source, const char *by,
		    const struct ptrvec *items)
{
	if (!host->state(host->arg))
		return;
	struct alertfeed_pass *p = alertfeed_begin(host, source, by);
	alertfeed_part(p, items);
	alertfeed_end(p);
}

/* FNV-1a, 64 bits */
static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

void alertfeed_label_hash(const cJSON *labels, char out[17])
{
	size_t n = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, labels)
		if (it->string && cJSON_IsString(it))
			n++;
	const cJSON **v = xcalloc(n + 1, sizeof *v);
	size_t k = 0;
	cJSON_ArrayForEach(it, labels)
		if (it->string && cJSON_IsString(it))
			v[k++] = it;
	/* sort by name: the same label set in any order gives the same id */
	for (size_t i = 1; i < k; i++)
		for (size_t j = i; j > 0 && strcmp(v[j - 1]->string, v[j]->string) > 0; j--) {
			const cJSON *t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < k; i++) {
		h = fnv(h, v[i]->string, strlen(v[i]->string) + 1);
		h = fnv(h, v[i]->valuestring, strlen(v[i]->valuestring) + 1);
	}
	free(v);
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}
