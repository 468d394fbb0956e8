#include "core/state.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACTION_OUTPUT_MAX 500 /* lines kept per action in memory; the journal has all */

static const struct {
	const char *id, *label;
} roles[ROLE__COUNT] = {
#define X(e, id, label) [e] = {id, label},
	ROLE_LIST(X)
#undef X
};

const char *role_id(enum role r)
{
	return (unsigned)r < ROLE__COUNT ? roles[r].id : "?";
}

const char *role_label(enum role r)
{
	return (unsigned)r < ROLE__COUNT ? roles[r].label : "?";
}

int role_from_id(const char *id)
{
	for (int i = 0; id && i < ROLE__COUNT; i++)
		if (strcmp(roles[i].id, id) == 0)
			return i;
	return -1;
}

static const char *const inc_states[INC__COUNT] = {
#define X(e, name) [e] = name,
	INCIDENT_STATES(X)
#undef X
};

const char *incident_state_name(enum incident_state s)
{
	return (unsigned)s < INC__COUNT ? inc_states[s] : "?";
}

int incident_state_from_name(const char *name)
{
	for (int i = 0; name && i < INC__COUNT; i++)
		if (strcmp(inc_states[i], name) == 0)
			return i;
	return -1;
}

/* ---- lifetime ---------------------------------------------------------- */

static void alert_free(void *p)
{
	struct alert *a = p;
	/* id lives in the alert's own allocation, and name, service, severity,
	 * summary and url in the one block that source starts (alert_set) */
	free(a->source);
	free(a->silence_id);
	free(a->labels);
	free(a->annotations);
	free(a);
}

/* ---- labels and annotations ---------------------------------------------- */

struct pairs *pairs_from_json(const cJSON *obj)
{
	if (!cJSON_IsObject(obj))
		return NULL;
	size_t size = 0;
	uint32_t n = 0;
	const cJSON *it;
	/* values that are not strings are printed once, into a list kept in
	 * step with the members that need it */
	struct ptrvec printed = {0};
	cJSON_ArrayForEach(it, obj) {
		size_t vlen;
		if (cJSON_IsString(it) && it->valuestring) {
			vlen = strlen(it->valuestring);
		} else {
			char *js = cJSON_PrintUnformatted(it);
			if (!js)
				js = xstrdup("null");
			ptrvec_push(&printed, js);
			vlen = strlen(js);
		}
		size += 1 + strlen(it->string ? it->string : "") + 1 + vlen + 1;
		n++;
	}
	struct pairs *p = xmalloc(sizeof *p + size);
	p->n = n;
	p->size = (uint32_t)size;
	char *w = p->text;
	size_t j = 0;
	cJSON_ArrayForEach(it, obj) {
		bool str = cJSON_IsString(it) && it->valuestring;
		const char *name = it->string ? it->string : "";
		const char *val = str ? it->valuestring : printed.v[j++];
		size_t nl = strlen(name) + 1, vl = strlen(val) + 1;
		*w++ = str ? 's' : 'j';
		memcpy(w, name, nl);
		w += nl;
		memcpy(w, val, vl);
		w += vl;
	}
	ptrvec_free(&printed, free);
	return p;
}

bool pairs_next(const struct pairs *p, size_t *off, struct pair *out)
{
	if (!p || *off >= p->size)
		return false;
	const char *s = p->text + *off;
	out->json = *s == 'j';
	out->name = s + 1;
	out->value = out->name + strlen(out->name) + 1;
	*off = (size_t)(out->value + strlen(out->value) + 1 - p->text);
	return true;
}

static bool pairs_find(const struct pairs *p, const char *name, struct pair *out)
{
	size_t off = 0;
	while (pairs_next(p, &off, out))
		if (strcmp(out->name, name) == 0)
			return true;
	return false;
}

const char *pairs_get(const struct pairs *p, const char *name)
{
	struct pair x;
	return pairs_find(p, name, &x) && !x.json ? x.value : NULL;
}

static cJSON *pair_value_json(const struct pair *x)
{
	if (!x->json)
		return cJSON_CreateString(x->value);
	cJSON *v = cJSON_Parse(x->value);
	return v ? v : cJSON_CreateNull();
}

cJSON *pairs_to_json(const struct pairs *p)
{
	if (!p)
		return NULL;
	cJSON *o = cJSON_CreateObject();
	size_t off = 0;
	struct pair x;
	while (pairs_next(p, &off, &x))
		cJSON_AddItemToObject(o, x.name, pair_value_json(&x));
	return o;
}

static bool pair_equals(const struct pair *x, const cJSON *v)
{
	if (!x->json)
		return cJSON_IsString(v) && v->valuestring && strcmp(v->valuestring, x->value) == 0;
	cJSON *mine = pair_value_json(x);
	bool same = cJSON_Compare(mine, v, 1);
	cJSON_Delete(mine);
	return same;
}

bool pairs_same_json(const struct pairs *p, const cJSON *obj)
{
	if (!p || !obj)
		return p ? p->n == 0 : !obj || cJSON_GetArraySize(obj) == 0;
	if (!cJSON_IsObject(obj))
		return false;
	/* as cJSON_Compare does: each member of one is found by name (the
	 * first of that name) in the other, with an equal value */
	size_t off = 0;
	struct pair x;
	while (pairs_next(p, &off, &x)) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, x.name);
		if (!v || !pair_equals(&x, v))
			return false;
	}
	const cJSON *it;
	cJSON_ArrayForEach(it, obj) {
		if (!pairs_find(p, it->string ? it->string : "", &x) || !pair_equals(&x, it))
			return false;
	}
	return true;
}

bool pairs_same(const struct pairs *a, const struct pairs *b)
{
	if (!a || !b)
		return (a ? a->n : 0) == 0 && (b ? b->n : 0) == 0;
	/* both ways, as pairs_same_json */
	for (int pass = 0; pass < 2; pass++) {
		const struct pairs *p = pass ? b : a, *q = pass ? a : b;
		size_t off = 0;
		struct pair x, y;
		while (pairs_next(p, &off, &x))
			if (!pairs_find(q, x.name, &y) || x.json != y.json ||
			    strcmp(x.value, y.value) != 0)
				return false;
	}
	return true;
}

struct pairs *pairs_pack(size_t n, const char *const *name, const size_t *name_len,
			 const char *const *value, const size_t *value_len)
{
	size_t size = 0;
	for (size_t i = 0; i < n; i++)
		size += 1 + name_len[i] + 1 + value_len[i] + 1;
	struct pairs *p = xmalloc(sizeof *p + size);
	p->n = (uint32_t)n;
	p->size = (uint32_t)size;
	char *w = p->text;
	for (size_t i = 0; i < n; i++) {
		*w++ = 's';
		memcpy(w, name[i], name_len[i]);
		w += name_len[i];
		*w++ = '\0';
		memcpy(w, value[i], value_len[i]);
		w += value_len[i];
		*w++ = '\0';
	}
	return p;
}

struct pairs *pairs_dup(const struct pairs *p)
{
	if (!p)
		return NULL;
	struct pairs *d = xmalloc(sizeof *p + p->size);
	memcpy(d, p, sizeof *p + p->size);
	return d;
}

static void deploy_free(void *p)
{
	struct deploy *d = p;
	free(d->service); free(d->version); free(d->author); free(d->url); free(d->source);
	free(d->ref);
	free(d);
}

static void spike_free(void *p)
{
	struct spike *s = p;
	free(s->service);
	free(s);
}

static void suspect_free(void *p)
{
	struct suspect *s = p;
	free(s->service); free(s->version); free(s->reason); free(s->last_good);
	free(s);
}

static void client_free_info(void *p)
{
	struct client_info *c = p;
	free(c->user); free(c->mode); free(c->focus);
	free(c);
}

static void comms_free(void *p)
{
	struct comms_entry *c = p;
	free(c->by); free(c->text);
	free(c);
}

static void action_free(void *p)
{
	struct action *a = p;
	free(a->id); free(a->service); free(a->from); free(a->to); free(a->via);
	free(a->display); free(a->approval); free(a->requested_by); free(a->approved_by);
	free(a->error);
	ptrvec_free(&a->output, free);
	free(a);
}

static void update_free(void *p)
{
	struct update *u = p;
	free(u->id); free(u->state); free(u->message); free(u->target); free(u->audience);
	free(u->requested_by); free(u->ref); free(u->error);
	free(u);
}

static void series_free(void *p)
{
	struct series *s = p;
	free(s->service); free(s->t); free(s->v);
	free(s);
}

static void backend_free(void *p)
{
	struct backend_health *b = p;
	free(b->name); free(b->kind); free(b->error);
	free(b);
}

struct state *state_new(void)
{
	struct state *st = xcalloc(1, sizeof *st);
	st->title = xstrdup("Untitled incident");
	st->severity = xstrdup("SEV3");
	st->inc_state = INC_DECLARED;
	return st;
}

void state_free(struct state *st)
{
	if (!st)
		return;
	free(st->title);
	free(st->severity);
	ptrvec_free(&st->alerts, alert_free);
	free(st->alert_index);
	ptrvec_free(&st->deploys, deploy_free);
	ptrvec_free(&st->spikes, spike_free);
	ptrvec_free(&st->suspects, suspect_free);
	for (int i = 0; i < ROLE__COUNT; i++)
		free(st->roles[i]);
	ptrvec_free(&st->secondaries, free);
	ptrvec_free(&st->clients, client_free_info);
	ptrvec_free(&st->comms, comms_free);
	ptrvec_free(&st->actions, action_free);
	ptrvec_free(&st->updates, update_free);
	ptrvec_free(&st->series, series_free);
	ptrvec_free(&st->backends, backend_free);
	free(st);
}

/* ---- lookups ----------------------------------------------------------- */

/* Alerts by id: an open-addressing table of at least twice as many slots as
 * alerts (alerts are never removed), so a source's poll of thousands of
 * alerts costs a hash per alert rather than a scan. */
static size_t alert_hash(const char *id)
{
	uint64_t h = 1469598103934665603ull;
	for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
		h ^= *p;
		h *= 1099511628211ull;
	}
	return (size_t)(h ^ (h >> 32));
}

static void alert_index_put(struct alert **tab, size_t cap, struct alert *a)
{
	size_t i = alert_hash(a->id) & (cap - 1);
	while (tab[i])
		i = (i + 1) & (cap - 1);
	tab[i] = a;
}

static void alert_index_add(struct state *st, struct alert *a)
{
	if ((st->alerts.n + 1) * 2 > st->alert_index_cap) {
		size_t cap = st->alert_index_cap ? st->alert_index_cap * 2 : 64;
		while ((st->alerts.n + 1) * 2 > cap)
			cap *= 2;
		struct alert **tab = xcalloc(cap, sizeof *tab);
		for (size_t i = 0; i < st->alerts.n; i++)
			alert_index_put(tab, cap, st->alerts.v[i]);
		free(st->alert_index);
		st->alert_index = tab;
		st->alert_index_cap = cap;
	}
	alert_index_put(st->alert_index, st->alert_index_cap, a);
}

struct alert *state_find_alert(const struct state *st, const char *id)
{
	if (!id || !st->alert_index_cap)
		return NULL;
	size_t mask = st->alert_index_cap - 1;
	for (size_t i = alert_hash(id) & mask; st->alert_index[i]; i = (i + 1) & mask)
		if (strcmp(st->alert_index[i]->id, id) == 0)
			return st->alert_index[i];
	return NULL;
}

struct action *state_find_action(const struct state *st, const char *id)
{
	for (size_t i = 0; id && i < st->actions.n; i++) {
		struct action *a = st->actions.v[i];
		if (strcmp(a->id, id) == 0)
			return a;
	}
	return NULL;
}

struct update *state_find_update(const struct state *st, const char *id)
{
	for (size_t i = 0; id && i < st->updates.n; i++) {
		struct update *u = st->updates.v[i];
		if (strcmp(u->id, id) == 0)
			return u;
	}
	return NULL;
}

struct client_info *state_find_client(const struct state *st, int id)
{
	for (size_t i = 0; i < st->clients.n; i++) {
		struct client_info *c = st->clients.v[i];
		if (c->id == id)
			return c;
	}
	return NULL;
}

size_t state_count_firing(const struct state *st)
{
	size_t n = 0;
	for (size_t i = 0; i < st->alerts.n; i++)
		if (((struct alert *)st->alerts.v[i])->status == ALERT_FIRING)
			n++;
	return n;
}

bool state_user_holds(const struct state *st, const char *user, enum role r)
{
	if (!user)
		return false;
	if (r == ROLE_SECONDARY) {
		for (size_t i = 0; i < st->secondaries.n; i++)
			if (strcmp(st->secondaries.v[i], user) == 0)
				return true;
		return false;
	}
	return (unsigned)r < ROLE__COUNT && str_eq(st->roles[r], user);
}

const struct deploy *state_last_deploy(const struct state *st, const char *service,
				       int64_t before_ms)
{
	const struct deploy *best = NULL;
	for (size_t i = 0; i < st->deploys.n; i++) {
		const struct deploy *d = st->deploys.v[i];
		if (str_eq(d->service, service) && d->time < before_ms)
			best = d; /* sorted by time: the last match is the latest */
	}
	return best;
}

/* ---- describing events ------------------------------------------------- */

static void hhmm(int64_t ms, char *buf, size_t len)
{
	char full[40];
	time_format_rfc3339(ms, full, sizeof full);
	snprintf(buf, len, "%.5s", full + 11);
}

char *state_describe_event(const struct wr_event *ev)
{
	const char *s;
	char t[16];
	switch (ev->kind) {
	case EV_INCIDENT_DECLARED:
		return xasprintf("incident declared: %s (%s)", event_str(ev, "title", "?"),
				 event_str(ev, "severity", "?"));
	case EV_INCIDENT_STATE:
		return xasprintf("incident state -> %s", event_str(ev, "state", "?"));
	case EV_INCIDENT_SEVERITY:
		return xasprintf("severity -> %s", event_str(ev, "severity", "?"));
	case EV_ALERT_FIRED: {
		/* one per alert of a large poll: joined without printf */
		const char *part[] = {"FIRING ", event_str(ev, "severity", "?"), " ",
				      event_str(ev, "service", "?"), " ", event_str(ev, "name", "?"),
				      ": ", event_str(ev, "summary", "")};
		size_t len[8], total = 0;
		for (size_t i = 0; i < 8; i++)
			total += len[i] = strlen(part[i]);
		char *out = xmalloc(total + 1), *o = out;
		for (size_t i = 0; i < 8; i++) {
			memcpy(o, part[i], len[i]);
			o += len[i];
		}
		*o = '\0';
		return out;
	}
	case EV_ALERT_RESOLVED:
		return xasprintf("RESOLVED alert %s", event_str(ev, "id", "?"));
	case EV_ALERT_SILENCED:
		s = event_str(ev, "until", NULL);
		if (s) {
			int64_t ms;
			if (time_parse_rfc3339(s, &ms) >= 0)
				hhmm(ms, t, sizeof t);
			else
				snprintf(t, sizeof t, "?");
			return xasprintf("silenced alert %s until %s UTC%s%s", event_str(ev, "id", "?"),
					 t, event_str(ev, "comment", NULL) ? ": " : "",
					 event_str(ev, "comment", ""));
		}
		return xasprintf("silenced alert %s", event_str(ev, "id", "?"));
	case EV_ALERT_UNSILENCED:
		return xasprintf("silence lifted on alert %s", event_str(ev, "id", "?"));
	case EV_DEPLOY_SEEN:
		return xasprintf("deploy %s@%s%s%s", event_str(ev, "service", "?"),
				 event_str(ev, "version", "?"), event_str(ev, "author", NULL) ? " by " : "",
				 event_str(ev, "author", ""));
	case EV_SPIKE_DETECTED: {
		int64_t ms = 0;
		time_parse_rfc3339(event_str(ev, "onset", ""), &ms);
		hhmm(ms, t, sizeof t);
		return xasprintf("error spike on %s from %s UTC (%.1f%% -> %.1f%%)",
				 event_str(ev, "service", "?"), t, event_num(ev, "baseline", 0) * 100,
				 event_num(ev, "peak", 0) * 100);
	}
	case EV_SUSPECT_RANKED: {
		const cJSON *arr = cJSON_GetObjectItemCaseSensitive(ev->data, "suspects");
		const cJSON *top = cJSON_IsArray(arr) ? cJSON_GetArrayItem(arr, 0) : NULL;
		if (!top)
			return xstrdup("no suspect deploy");
		const cJSON *sv = cJSON_GetObjectItemCaseSensitive(top, "service");
		const cJSON *vv = cJSON_GetObjectItemCaseSensitive(top, "version");
		const cJSON *rv = cJSON_GetObjectItemCaseSensitive(top, "reason");
		const cJSON *lg = cJSON_GetObjectItemCaseSensitive(top, "last_good");
		return xasprintf("suspect %s@%s: %s%s%s",
				 cJSON_IsString(sv) ? sv->valuestring : "?",
				 cJSON_IsString(vv) ? vv->valuestring : "?",
				 cJSON_IsString(rv) ? rv->valuestring : "",
				 cJSON_IsString(lg) && *lg->valuestring ? "; last good " : "",
				 cJSON_IsString(lg) ? lg->valuestring : "");
	}
	case EV_ROLE_ASSIGNED: {
		int r = role_from_id(event_str(ev, "role", ""));
		return xasprintf("%s is %s", event_str(ev, "user", "?"),
				 r >= 0 ? role_label((enum role)r) : event_str(ev, "role", "?"));
	}
	case EV_ROLE_RELEASED: {
		int r = role_from_id(event_str(ev, "role", ""));
		return xasprintf("%s released %s", event_str(ev, "user", ev->by),
				 r >= 0 ? role_label((enum role)r) : event_str(ev, "role", "?"));
	}
	case EV_NOTE:
		return xstrdup(event_str(ev, "text", ""));
	case EV_UPDATE_REQUESTED:
		return xasprintf("status update %s (%s) to %s: %s", event_str(ev, "id", "?"),
				 event_str(ev, "state", "?"), event_str(ev, "target", "?"),
				 event_str(ev, "message", ""));
	case EV_UPDATE_SENT:
		return xasprintf("status update %s sent to %s", event_str(ev, "id", "?"),
				 event_str(ev, "target", "?"));
	case EV_UPDATE_FAILED:
		return xasprintf("status update %s to %s failed: %s%s", event_str(ev, "id", "?"),
				 event_str(ev, "target", "?"), event_str(ev, "error", "?"),
				 event_bool(ev, "final", true) ? "" : " (will retry)");
	case EV_ACTION_REQUESTED:
		return xasprintf("rollback %s %s -> %s requested [%s]%s%s", event_str(ev, "service", "?"),
				 event_str(ev, "from", "?"), event_str(ev, "to", "?"),
				 event_str(ev, "id", "?"),
				 str_eq(event_str(ev, "approval", ""), "two-person")
					 ? " - needs a second operator's approval" : "",
				 event_bool(ev, "dry_run", false) ? " (dry run)" : "");
	case EV_ACTION_APPROVED:
		return xasprintf("action %s approved", event_str(ev, "id", "?"));
	case EV_ACTION_STARTED:
		return xasprintf("action %s started", event_str(ev, "id", "?"));
	case EV_ACTION_OUTPUT:
		return xasprintf("[%s%s] %s", event_str(ev, "id", "?"),
				 str_eq(event_str(ev, "stream", ""), "stderr") ? " err" : "",
				 event_str(ev, "line", ""));
	case EV_ACTION_FINISHED: {
		bool ok = event_bool(ev, "ok", false);
		const char *e = event_str(ev, "error", NULL);
		return xasprintf("action %s %s in %.1fs (exit %d)%s%s", event_str(ev, "id", "?"),
				 ok ? "succeeded" : "FAILED", event_num(ev, "duration_ms", 0) / 1000.0,
				 (int)event_num(ev, "exit", -1), e ? ": " : "", e ? e : "");
	}
	case EV_ACTION_CANCELLED:
		return xasprintf("action %s cancelled: %s", event_str(ev, "id", "?"),
				 event_str(ev, "reason", ""));
	case EV_CLIENT_JOINED:
		return xasprintf("%s joined (%s)", event_str(ev, "user", "?"),
				 event_str(ev, "mode", "?"));
	case EV_CLIENT_LEFT:
		return xasprintf("%s left%s%s", event_str(ev, "user", "?"),
				 event_str(ev, "reason", NULL) ? ": " : "", event_str(ev, "reason", ""));
	case EV__COUNT:
		break;
	}
	return xstrdup(event_kind_name(ev->kind));
}

/* ---- the fold ---------------------------------------------------------- */

static int64_t ev_time(const struct wr_event *ev, const char *field, int64_t def)
{
	int64_t ms;
	const char *s = event_str(ev, field, NULL);
	return s && time_parse_rfc3339(s, &ms) >= 0 ? ms : def;
}

static void apply_declared(struct state *st, const struct wr_event *ev)
{
	str_set(&st->title, event_str(ev, "title", st->title));
	str_set(&st->severity, event_str(ev, "severity", st->severity));
	if (!st->declared)
		st->declared = ev->ts;
}

static void apply_inc_state(struct state *st, const struct wr_event *ev)
{
	int s = incident_state_from_name(event_str(ev, "state", ""));
	if (s < 0)
		return;
	st->inc_state = (enum incident_state)s;
	if (s >= INC_IDENTIFIED && !st->identified)
		st->identified = ev->ts;
	if (s >= INC_MONITORING && !st->mitigated)
		st->mitigated = ev->ts;
	if (s == INC_RESOLVED)
		st->resolved = ev->ts;
	else
		st->resolved = 0;
}

static void apply_severity(struct state *st, const struct wr_event *ev)
{
	str_set(&st->severity, event_str(ev, "severity", st->severity));
}

/* The alert named v[0] set to an alert.fired's fields (v: id, source, name,
 * service, severity, summary, url, starts_at; lab and ann taken). */
static void alert_set(struct state *st, const struct wr_event *ev, const char *const v[8],
		      struct pairs *lab, struct pairs *ann)
{
	struct alert *a = state_find_alert(st, v[0]);
	if (!a) {
		/* the id, which never changes, in the alert's own allocation */
		size_t n = strlen(v[0]) + 1;
		a = xcalloc(1, sizeof *a + n);
		a->id = memcpy((char *)(a + 1), v[0], n);
		alert_index_add(st, a);
		ptrvec_push(&st->alerts, a);
	}
	/* the six strings, which change together, in one block: a state of
	 * 10,000 alerts makes 50,000 fewer allocations, ~1.5 MB less */
	const char *s[6] = {v[1] ? v[1] : "?", v[2] ? v[2] : "?", v[3] ? v[3] : "?",
			    v[4] ? v[4] : "?", v[5] ? v[5] : "", v[6]};
	size_t len[6], total = 0;
	for (int i = 0; i < 6; i++)
		total += len[i] = s[i] ? strlen(s[i]) + 1 : 0;
	char *block = xmalloc(total), *w = block;
	char **field[6] = {&a->source, &a->name, &a->service, &a->severity, &a->summary, &a->url};
	free(a->source);
	for (int i = 0; i < 6; i++) {
		*field[i] = s[i] ? memcpy(w, s[i], len[i]) : NULL;
		w += len[i];
	}
	free(a->labels);
	free(a->annotations);
	a->labels = lab;
	a->annotations = ann;
	int64_t ms;
	a->started = v[7] && time_parse_rfc3339(v[7], &ms) >= 0 ? ms : ev->ts;
	a->resolved = 0;
	if (a->status == ALERT_RESOLVED)
		a->status = ALERT_FIRING;
}

static void apply_alert_fired(struct state *st, const struct wr_event *ev)
{
	const struct alert_fields *af = ev->alert;
	if (af) {
		/* held as fields by the server's own sources: no tree to read */
		const char *const v[8] = {af->id,       af->source,  af->name, af->service,
					  af->severity, af->summary, af->url,  af->starts_at};
		if (v[0])
			alert_set(st, ev, v, pairs_dup(af->labels), pairs_dup(af->annotations));
		return;
	}
	/* from a tree: its fields found in one pass; labels and annotations
	 * packed into the state's own pairs */
	const cJSON *f[8] = {0};
	static const char *const names[8] = {"id",      "source",  "name",      "service",
					     "severity", "summary", "url",       "starts_at"};
	cJSON *lab = NULL, *ann = NULL;
	bool seen_lab = false, seen_ann = false;
	for (cJSON *it = ev->data->child; it; it = it->next) {
		const char *k = it->string;
		if (!k)
			continue;
		if (!seen_lab && strcmp(k, "labels") == 0) {
			seen_lab = true;
			lab = cJSON_IsObject(it) ? it : NULL;
			continue;
		}
		if (!seen_ann && strcmp(k, "annotations") == 0) {
			seen_ann = true;
			ann = cJSON_IsObject(it) ? it : NULL;
			continue;
		}
		for (int i = 0; i < 8; i++)
			if (!f[i] && strcmp(k, names[i]) == 0) {
				f[i] = it;
				break;
			}
	}
	const char *v[8];
	for (int i = 0; i < 8; i++)
		v[i] = cJSON_IsString(f[i]) && f[i]->valuestring ? f[i]->valuestring : NULL;
	/* the first of each name, as a lookup would find */
	if (v[0])
		alert_set(st, ev, v, pairs_from_json(lab), pairs_from_json(ann));
}

static void apply_alert_resolved(struct state *st, const struct wr_event *ev)
{
	struct alert *a = state_find_alert(st, event_str(ev, "id", NULL));
	if (!a)
		return;
	a->status = ALERT_RESOLVED;
	a->resolved = ev->ts;
}

static void apply_alert_silenced(struct state *st, const struct wr_event *ev)
{
	struct alert *a = state_find_alert(st, event_str(ev, "id", NULL));
	if (!a)
		return;
	if (a->status != ALERT_RESOLVED)
		a->status = ALERT_SILENCED;
	str_set(&a->silence_id, event_str(ev, "silence_id", a->silence_id));
	a->silenced_until = ev_time(ev, "until", 0);
}

static void apply_alert_unsilenced(struct state *st, const struct wr_event *ev)
{
	struct alert *a = state_find_alert(st, event_str(ev, "id", NULL));
	if (!a)
		return;
	if (a->status == ALERT_SILENCED)
		a->status = ALERT_FIRING;
	a->silenced_until = 0;
}

static void apply_deploy(struct state *st, const struct wr_event *ev)
{
	const char *service = event_str(ev, "service", NULL);
	const char *version = event_str(ev, "version", NULL);
	int64_t when = ev_time(ev, "time", ev->ts);
	/* the list is in time order and deploys mostly come in it: the place
	 * is found from the end, and a deploy reported twice, having the same
	 * time, sits just before it (no scan of the whole list per deploy) */
	size_t pos = st->deploys.n;
	while (pos > 0 && ((struct deploy *)st->deploys.v[pos - 1])->time > when)
		pos--;
	for (size_t i = pos; i > 0; i--) {
		const struct deploy *o = st->deploys.v[i - 1];
		if (o->time != when)
			break;
		if (str_eq(o->service, service) && str_eq(o->version, version))
			return;
	}
	struct deploy *d = xcalloc(1, sizeof *d);
	d->service = xstrdup(service);
	d->version = xstrdup(version);
	d->author = xstrdup(event_str(ev, "author", NULL));
	d->url = xstrdup(event_str(ev, "url", NULL));
	d->source = xstrdup(event_str(ev, "source", NULL));
	d->ref = xstrdup(event_str(ev, "ref", NULL));
	d->time = when;
	d->seq = ev->seq;
	ptrvec_push(&st->deploys, d);
	memmove(st->deploys.v + pos + 1, st->deploys.v + pos,
		(st->deploys.n - 1 - pos) * sizeof *st->deploys.v);
	st->deploys.v[pos] = d;
}

static void apply_spike(struct state *st, const struct wr_event *ev)
{
	const char *service = event_str(ev, "service", "?");
	struct spike *s = NULL;
	for (size_t i = 0; i < st->spikes.n; i++)
		if (str_eq(((struct spike *)st->spikes.v[i])->service, service))
			s = st->spikes.v[i];
	if (!s) {
		s = xcalloc(1, sizeof *s);
		s->service = xstrdup(service);
		ptrvec_push(&st->spikes, s);
	}
	s->onset = ev_time(ev, "onset", ev->ts);
	s->baseline = event_num(ev, "baseline", 0);
	s->peak = event_num(ev, "peak", 0);
	s->magnitude = event_num(ev, "magnitude", 0);
}

static const char *obj_str(const cJSON *o, const char *k)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(it) ? it->valuestring : NULL;
}

static void apply_suspects(struct state *st, const struct wr_event *ev)
{
	ptrvec_free(&st->suspects, suspect_free);
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(ev->data, "suspects");
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		if (!obj_str(it, "service") || !obj_str(it, "version"))
			continue;
		struct suspect *s = xcalloc(1, sizeof *s);
		s->service = xstrdup(obj_str(it, "service"));
		s->version = xstrdup(obj_str(it, "version"));
		s->reason = xstrdup(obj_str(it, "reason") ? obj_str(it, "reason") : "");
		const char *lg = obj_str(it, "last_good");
		s->last_good = lg && *lg ? xstrdup(lg) : NULL;
		const cJSON *sc = cJSON_GetObjectItemCaseSensitive(it, "score");
		s->score = cJSON_IsNumber(sc) ? sc->valuedouble : 0;
		ptrvec_push(&st->suspects, s);
	}
}

static void apply_role_assigned(struct state *st, const struct wr_event *ev)
{
	int r = role_from_id(event_str(ev, "role", ""));
	const char *user = event_str(ev, "user", NULL);
	if (r < 0 || !user || !*user)
		return;
	if (r == ROLE_SECONDARY) {
		if (!state_user_holds(st, user, ROLE_SECONDARY))
			ptrvec_push(&st->secondaries, xstrdup(user));
		return;
	}
	str_set(&st->roles[r], user);
}

static void apply_role_released(struct state *st, const struct wr_event *ev)
{
	int r = role_from_id(event_str(ev, "role", ""));
	const char *user = event_str(ev, "user", NULL);
	if (r < 0)
		return;
	if (r == ROLE_SECONDARY) {
		for (size_t i = st->secondaries.n; i-- > 0;)
			if (!user || strcmp(st->secondaries.v[i], user) == 0) {
				free(st->secondaries.v[i]);
				ptrvec_remove(&st->secondaries, i);
			}
		return;
	}
	if (!user || str_eq(st->roles[r], user)) {
		free(st->roles[r]);
		st->roles[r] = NULL;
	}
}

static void apply_nothing(struct state *st, const struct wr_event *ev)
{
}

static void apply_update_requested(struct state *st, const struct wr_event *ev)
{
	const char *id = event_str(ev, "id", NULL);
	if (state_find_update(st, id))
		return;
	struct update *u = xcalloc(1, sizeof *u);
	u->id = xstrdup(id);
	u->state = xstrdup(event_str(ev, "state", "?"));
	u->message = xstrdup(event_str(ev, "message", ""));
	u->target = xstrdup(event_str(ev, "target", "?"));
	u->audience = xstrdup(event_str(ev, "audience", "external"));
	u->requested_by = xstrdup(ev->by);
	u->requested = ev->ts;
	u->status = UPD_PENDING;
	ptrvec_push(&st->updates, u);
}

static void apply_update_sent(struct state *st, const struct wr_event *ev)
{
	struct update *u = state_find_update(st, event_str(ev, "id", NULL));
	if (!u)
		return;
	u->status = UPD_SENT;
	u->sent = ev->ts;
	u->attempts++;
	str_set(&u->ref, event_str(ev, "ref", u->ref));
	free(u->error);
	u->error = NULL;
}

static void apply_update_failed(struct state *st, const struct wr_event *ev)
{
	struct update *u = state_find_update(st, event_str(ev, "id", NULL));
	if (!u || u->status == UPD_SENT)
		return;
	u->attempts++;
	str_set(&u->error, event_str(ev, "error", "?"));
	if (event_bool(ev, "final", true))
		u->status = UPD_FAILED;
}

static void apply_action_requested(struct state *st, const struct wr_event *ev)
{
	const char *id = event_str(ev, "id", NULL);
	if (state_find_action(st, id))
		return;
	struct action *a = xcalloc(1, sizeof *a);
	a->id = xstrdup(id);
	a->service = xstrdup(event_str(ev, "service", "?"));
	a->from = xstrdup(event_str(ev, "from", "?"));
	a->to = xstrdup(event_str(ev, "to", "?"));
	a->via = xstrdup(event_str(ev, "via", "?"));
	a->display = xstrdup(event_str(ev, "display", ""));
	a->approval = xstrdup(event_str(ev, "approval", "none"));
	a->requested_by = xstrdup(ev->by);
	a->requested = ev->ts;
	a->exit_code = -1;
	if (event_bool(ev, "dry_run", false))
		a->status = ACT_DRY_RUN;
	else if (str_eq(a->approval, "two-person"))
		a->status = ACT_PENDING_APPROVAL;
	else
		a->status = ACT_APPROVED;
	ptrvec_push(&st->actions, a);
}

static void apply_action_approved(struct state *st, const struct wr_event *ev)
{
	struct action *a = state_find_action(st, event_str(ev, "id", NULL));
	if (!a || a->status != ACT_PENDING_APPROVAL)
		return;
	a->status = ACT_APPROVED;
	str_set(&a->approved_by, ev->by);
}

static void apply_action_started(struct state *st, const struct wr_event *ev)
{
	struct action *a = state_find_action(st, event_str(ev, "id", NULL));
	if (!a)
		return;
	a->status = ACT_RUNNING;
	a->started = ev->ts;
}

static void apply_action_output(struct state *st, const struct wr_event *ev)
{
	struct action *a = state_find_action(st, event_str(ev, "id", NULL));
	if (!a || a->output.n >= ACTION_OUTPUT_MAX)
		return;
	ptrvec_push(&a->output, xstrdup(event_str(ev, "line", "")));
}

static void apply_action_finished(struct state *st, const struct wr_event *ev)
{
	struct action *a = state_find_action(st, event_str(ev, "id", NULL));
	if (!a)
		return;
	bool ok = event_bool(ev, "ok", false);
	a->status = ok ? ACT_SUCCEEDED : ACT_FAILED;
	a->exit_code = (int)event_num(ev, "exit", -1);
	a->duration_ms = (int64_t)event_num(ev, "duration_ms", 0);
	a->finished = ev->ts;
	str_set(&a->error, event_str(ev, "error", NULL));
	if (ok && !st->mitigated)
		st->mitigated = ev->ts;
}

static void apply_action_cancelled(struct state *st, const struct wr_event *ev)
{
	struct action *a = state_find_action(st, event_str(ev, "id", NULL));
	if (!a)
		return;
	a->status = ACT_CANCELLED;
	a->finished = ev->ts;
	str_set(&a->error, event_str(ev, "reason", NULL));
}

static void apply_client_joined(struct state *st, const struct wr_event *ev)
{
	int id = (int)event_num(ev, "client", -1);
	if (state_find_client(st, id))
		return;
	struct client_info *c = xcalloc(1, sizeof *c);
	c->id = id;
	c->user = xstrdup(event_str(ev, "user", "?"));
	c->mode = xstrdup(event_str(ev, "mode", "viewer"));
	c->joined = ev->ts;
	c->last_active = ev->ts;
	ptrvec_push(&st->clients, c);
}

static void apply_client_left(struct state *st, const struct wr_event *ev)
{
	int id = (int)event_num(ev, "client", -1);
	for (size_t i = 0; i < st->clients.n; i++)
		if (((struct client_info *)st->clients.v[i])->id == id) {
			client_free_info(st->clients.v[i]);
			ptrvec_remove(&st->clients, i);
			return;
		}
}

static void (*const appliers[EV__COUNT])(struct state *, const struct wr_event *) = {
	[EV_INCIDENT_DECLARED] = apply_declared,
	[EV_INCIDENT_STATE] = apply_inc_state,
	[EV_INCIDENT_SEVERITY] = apply_severity,
	[EV_ALERT_FIRED] = apply_alert_fired,
	[EV_ALERT_RESOLVED] = apply_alert_resolved,
	[EV_ALERT_SILENCED] = apply_alert_silenced,
	[EV_ALERT_UNSILENCED] = apply_alert_unsilenced,
	[EV_DEPLOY_SEEN] = apply_deploy,
	[EV_SPIKE_DETECTED] = apply_spike,
	[EV_SUSPECT_RANKED] = apply_suspects,
	[EV_ROLE_ASSIGNED] = apply_role_assigned,
	[EV_ROLE_RELEASED] = apply_role_released,
	[EV_NOTE] = apply_nothing,
	[EV_UPDATE_REQUESTED] = apply_update_requested,
	[EV_UPDATE_SENT] = apply_update_sent,
	[EV_UPDATE_FAILED] = apply_update_failed,
	[EV_ACTION_REQUESTED] = apply_action_requested,
	[EV_ACTION_APPROVED] = apply_action_approved,
	[EV_ACTION_STARTED] = apply_action_started,
	[EV_ACTION_OUTPUT] = apply_action_output,
	[EV_ACTION_FINISHED] = apply_action_finished,
	[EV_ACTION_CANCELLED] = apply_action_cancelled,
	[EV_CLIENT_JOINED] = apply_client_joined,
	[EV_CLIENT_LEFT] = apply_client_left,
};

bool state_apply(struct state *st, const struct wr_event *ev)
{
	if (!ev || (unsigned)ev->kind >= EV__COUNT || ev->seq <= st->last_seq)
		return false;
	st->last_seq = ev->seq;
	if (!ev->alert && (!ev->data || !cJSON_IsObject(ev->data)))
		return false;
	char *text = state_describe_event(ev);
	appliers[ev->kind](st, ev);
	struct comms_entry *c = xmalloc(sizeof *c);
	c->seq = ev->seq;
	c->ts = ev->ts;
	c->kind = ev->kind;
	c->by = xstrdup(ev->by ? ev->by : "system");
	c->text = text;
	ptrvec_push(&st->comms, c);
	st->generation++;
	return true;
}

/* ---- ephemeral --------------------------------------------------------- */

void state_set_series(struct state *st, const char *service, int64_t *t, double *v, size_t n)
{
	struct series *s = (struct series *)state_get_series(st, service);
	if (!s) {
		s = xcalloc(1, sizeof *s);
		s->service = xstrdup(service);
		ptrvec_push(&st->series, s);
	}
	free(s->t);
	free(s->v);
	s->t = t;
	s->v = v;
	s->n = n;
	st->generation++;
}

const struct series *state_get_series(const struct state *st, const char *service)
{
	for (size_t i = 0; i < st->series.n; i++) {
		const struct series *s = st->series.v[i];
		if (str_eq(s->service, service))
			return s;
	}
	return NULL;
}

void state_set_backend(struct state *st, const char *name, const char *kind, bool ok,
		       const char *error, int64_t now_ms)
{
	struct backend_health *b = NULL;
	for (size_t i = 0; i < st->backends.n; i++)
		if (str_eq(((struct backend_health *)st->backends.v[i])->name, name))
			b = st->backends.v[i];
	if (!b) {
		b = xcalloc(1, sizeof *b);
		b->name = xstrdup(name);
		ptrvec_push(&st->backends, b);
	}
	str_set(&b->kind, kind);
	b->ok = ok;
	b->last_attempt = now_ms;
	if (ok) {
		b->last_success = now_ms;
		free(b->error);
		b->error = NULL;
	} else {
		str_set(&b->error, error ? error : "failed");
	}
	st->generation++;
}

void state_set_client_activity(struct state *st, int id, int64_t last_active, const char *focus)
{
	struct client_info *c = state_find_client(st, id);
	if (!c)
		return;
	c->last_active = last_active;
	if (!str_eq(c->focus, focus))
		str_set(&c->focus, focus);
	st->generation++;
}

/* ---- JSON -------------------------------------------------------------- */

static void add_time(cJSON *o, const char *k, int64_t ms)
{
	char buf[40];
	if (!ms) {
		cJSON_AddNullToObject(o, k);
		return;
	}
	time_format_rfc3339(ms, buf, sizeof buf);
	cJSON_AddStringToObject(o, k, buf);
}

static void add_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

static const char *const alert_status_names[] = {"firing", "silenced", "resolved"};
static const char *const action_status_names[] = {
	"pending-approval", "approved", "running", "succeeded", "failed", "cancelled", "dry-run"};
static const char *const update_status_names[] = {"pending", "sent", "failed"};

cJSON *state_series_to_json(const struct state *st)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < st->series.n; i++) {
		const struct series *s = st->series.v[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "service", s->service);
		cJSON *t = cJSON_AddArrayToObject(o, "t");
		cJSON *v = cJSON_AddArrayToObject(o, "v");
		for (size_t k = 0; k < s->n; k++) {
			cJSON_AddItemToArray(t, cJSON_CreateNumber((double)s->t[k]));
			cJSON_AddItemToArray(v, isfinite(s->v[k]) ? cJSON_CreateNumber(s->v[k])
								   : cJSON_CreateNull());
		}
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

void state_series_from_json(struct state *st, const cJSON *arr)
{
	const cJSON *o;
	cJSON_ArrayForEach(o, arr)
	{
		const char *service = obj_str(o, "service");
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "t");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "v");
		if (!service || !cJSON_IsArray(t) || !cJSON_IsArray(v))
			continue;
		size_t n = (size_t)cJSON_GetArraySize(t);
		if ((size_t)cJSON_GetArraySize(v) != n)
			continue;
		int64_t *tt = xcalloc(n, sizeof *tt);
		double *vv = xcalloc(n, sizeof *vv);
		size_t k = 0;
		const cJSON *a = t->child, *b = v->child;
		for (; a && b && k < n; a = a->next, b = b->next, k++) {
			tt[k] = cJSON_IsNumber(a) ? (int64_t)a->valuedouble : 0;
			vv[k] = cJSON_IsNumber(b) ? b->valuedouble : NAN;
		}
		state_set_series(st, service, tt, vv, k);
	}
}

cJSON *state_backends_to_json(const struct state *st)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < st->backends.n; i++) {
		const struct backend_health *b = st->backends.v[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", b->name);
		add_str(o, "kind", b->kind);
		cJSON_AddBoolToObject(o, "ok", b->ok);
		add_time(o, "last_success", b->last_success);
		add_time(o, "last_attempt", b->last_attempt);
		add_str(o, "error", b->error);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

void state_backends_from_json(struct state *st, const cJSON *arr)
{
	const cJSON *o;
	cJSON_ArrayForEach(o, arr)
	{
		const char *name = obj_str(o, "name");
		if (!name)
			continue;
		int64_t ls = 0, la = 0;
		time_parse_rfc3339(obj_str(o, "last_success"), &ls);
		time_parse_rfc3339(obj_str(o, "last_attempt"), &la);
		const cJSON *ok = cJSON_GetObjectItemCaseSensitive(o, "ok");
		state_set_backend(st, name, obj_str(o, "kind"), cJSON_IsTrue(ok), obj_str(o, "error"),
				  la);
		struct backend_health *b = st->backends.v[st->backends.n - 1];
		for (size_t i = 0; i < st->backends.n; i++)
			if (str_eq(((struct backend_health *)st->backends.v[i])->name, name))
				b = st->backends.v[i];
		b->last_success = ls;
		b->last_attempt = la;
	}
}

static cJSON *alert_json(const void *p)
{
	const struct alert *a = p;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", a->id);
	add_str(o, "source", a->source);
	add_str(o, "name", a->name);
	add_str(o, "service", a->service);
	add_str(o, "severity", a->severity);
	add_str(o, "summary", a->summary);
	cJSON_AddStringToObject(o, "state", alert_status_names[a->status]);
	add_time(o, "started", a->started);
	add_time(o, "resolved", a->resolved);
	add_str(o, "silence_id", a->silence_id);
	add_str(o, "url", a->url);
	if (a->labels)
		cJSON_AddItemToObject(o, "labels", pairs_to_json(a->labels));
	if (a->annotations)
		cJSON_AddItemToObject(o, "annotations", pairs_to_json(a->annotations));
	return o;
}

static cJSON *comms_json(const void *p)
{
	const struct comms_entry *c = p;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "seq", (double)c->seq);
	add_time(o, "ts", c->ts);
	cJSON_AddStringToObject(o, "kind", event_kind_name(c->kind));
	cJSON_AddStringToObject(o, "by", c->by);
	cJSON_AddStringToObject(o, "text", c->text);
	return o;
}

/* A cJSON_Raw item holding text, which it takes (no copy of a large text). */
static cJSON *raw_taking(char *text)
{
	cJSON *raw = cJSON_CreateRaw("");
	free(raw->valuestring);
	raw->valuestring = text;
	return raw;
}

/* root[key] = the list, one object per entry. As text, each entry is
 * printed and dropped in turn: a list of 50,000 alerts never exists as one
 * tree (hundreds of MB) beside its text. */
static void add_list(cJSON *root, const char *key, const struct ptrvec *v,
		     cJSON *(*one)(const void *), bool text)
{
	if (!text) {
		cJSON *arr = cJSON_AddArrayToObject(root, key);
		for (size_t i = 0; i < v->n; i++)
			cJSON_AddItemToArray(arr, one(v->v[i]));
		return;
	}
	struct sbuf sb;
	sbuf_init(&sb);
	sbuf_addc(&sb, '[');
	for (size_t i = 0; i < v->n; i++) {
		cJSON *o = one(v->v[i]);
		char *t = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		if (i)
			sbuf_addc(&sb, ',');
		sbuf_adds(&sb, t);
		free(t);
	}
	sbuf_addc(&sb, ']');
	cJSON_AddItemToObject(root, key, raw_taking(sbuf_detach(&sb)));
}

static cJSON *state_json(const struct state *st, bool text_lists)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *inc = cJSON_AddObjectToObject(root, "incident");
	cJSON_AddStringToObject(inc, "title", st->title);
	cJSON_AddStringToObject(inc, "severity", st->severity);
	cJSON_AddStringToObject(inc, "state", incident_state_name(st->inc_state));
	add_time(inc, "declared", st->declared);
	add_time(inc, "identified", st->identified);
	add_time(inc, "mitigated", st->mitigated);
	add_time(inc, "resolved", st->resolved);
	cJSON_AddNumberToObject(inc, "last_seq", (double)st->last_seq);

	add_list(root, "alerts", &st->alerts, alert_json, text_lists);

	cJSON *deploys = cJSON_AddArrayToObject(root, "deploys");
	for (size_t i = 0; i < st->deploys.n; i++) {
		const struct deploy *d = st->deploys.v[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "service", d->service);
		cJSON_AddStringToObject(o, "version", d->version);
		add_time(o, "time", d->time);
		add_str(o, "author", d->author);
		add_str(o, "url", d->url);
		add_str(o, "source", d->source);
		add_str(o, "ref", d->ref);
		cJSON_AddItemToArray(deploys, o);
	}

	cJSON *spikes = cJSON_AddArrayToObject(root, "spikes");
	for (size_t i = 0; i < st->spikes.n; i++) {
		const struct spike *s = st->spikes.v[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "service", s->service);
		add_time(o, "onset", s->onset);
		cJSON_AddNumberToObject(o, "baseline", s->baseline);
		cJSON_AddNumberToObject(o, "peak", s->peak);
		cJSON_AddNumberToObject(o, "magnitude", s->magnitude);
		cJSON_AddItemToArray(spikes, o);
	}

	cJSON *suspects = cJSON_AddArrayToObject(root, "suspects");
	for (size_t i = 0; i < st->suspects.n; i++) {
		const struct suspect *s = st->suspects.v[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "service", s->service);
		cJSON_AddStringToObject(o, "version", s->version);
		cJSON_AddNumberToObject(o, "score", s->score);
		cJSON_AddStringToObject(o, "reason", s->reason);
		add_str(o, "last_good", s->last_good);
		cJSON_AddItemToArray(suspects, o);
	}

	cJSON *rolesj = cJSON_AddObjectToObject(root, "roles");
	for (int r = 0; r < ROLE__COUNT; r++) {
		if (r == ROLE_SECONDARY) {
			cJSON *arr = cJSON_AddArrayToObject(rolesj, role_id(r));
			for (size_t i = 0; i < st->secondaries.n; i++)
				cJSON_AddItemToArray(arr, cJSON_CreateString(st->secondaries.v[i]));
		} else {
			add_str(rolesj, role_id((enum role)r), st->roles[r]);
		}
	}

	cJSON *clients = cJSON_AddArrayToObject(root, "clients");
	for (size_t i = 0; i < st->clients.n; i++) {
		const struct client_info *c = st->clients.v[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", c->id);
		cJSON_AddStringToObject(o, "user", c->user);
		cJSON_AddStringToObject(o, "mode", c->mode);
		add_time(o, "joined", c->joined);
		add_time(o, "last_active", c->last_active);
		add_str(o, "focus", c->focus);
		cJSON_AddItemToArray(clients, o);
	}

	add_list(root, "comms", &st->comms, comms_json, text_lists);

	cJSON *actions = cJSON_AddArrayToObject(root, "actions");
	for (size_t i = 0; i < st->actions.n; i++) {
		const struct action *a = st->actions.v[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", a->id);
		cJSON_AddStringToObject(o, "service", a->service);
		cJSON_AddStringToObject(o, "from", a->from);
		cJSON_AddStringToObject(o, "to", a->to);
		cJSON_AddStringToObject(o, "via", a->via);
		cJSON_AddStringToObject(o, "display", a->display);
		cJSON_AddStringToObject(o, "approval", a->approval);
		cJSON_AddStringToObject(o, "status", action_status_names[a->status]);
		add_str(o, "requested_by", a->requested_by);
		add_str(o, "approved_by", a->approved_by);
		add_time(o, "requested", a->requested);
		add_time(o, "started", a->started);
		add_time(o, "finished", a->finished);
		if (a->status == ACT_SUCCEEDED || a->status == ACT_FAILED) {
			cJSON_AddNumberToObject(o, "exit", a->exit_code);
			cJSON_AddNumberToObject(o, "duration_ms", (double)a->duration_ms);
		}
		add_str(o, "error", a->error);
		cJSON *out = cJSON_AddArrayToObject(o, "output");
		for (size_t k = 0; k < a->output.n; k++)
			cJSON_AddItemToArray(out, cJSON_CreateString(a->output.v[k]));
		cJSON_AddItemToArray(actions, o);
	}

	cJSON *updates = cJSON_AddArrayToObject(root, "updates");
	for (size_t i = 0; i < st->updates.n; i++) {
		const struct update *u = st->updates.v[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", u->id);
		cJSON_AddStringToObject(o, "state", u->state);
		cJSON_AddStringToObject(o, "message", u->message);
		cJSON_AddStringToObject(o, "target", u->target);
		cJSON_AddStringToObject(o, "audience", u->audience);
		cJSON_AddStringToObject(o, "status", update_status_names[u->status]);
		add_str(o, "requested_by", u->requested_by);
		add_time(o, "requested", u->requested);
		add_time(o, "sent", u->sent);
		cJSON_AddNumberToObject(o, "attempts", u->attempts);
		add_str(o, "ref", u->ref);
		add_str(o, "error", u->error);
		cJSON_AddItemToArray(updates, o);
	}

	cJSON_AddItemToObject(root, "backends", state_backends_to_json(st));
	return root;
}

cJSON *state_to_json(const struct state *st)
{
	return state_json(st, false);
}

cJSON *state_to_json_raw(const struct state *st)
{
	cJSON *root = state_json(st, true);
	char *text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return raw_taking(text);
}
