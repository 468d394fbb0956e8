/* The action runner: rollbacks (optionally approved by a second operator) and
 * the status-update outbox. Every step is journaled before it is acted on:
 *
 *   rollback  action.requested -> [action.approved] -> action.started ->
 *             action.output* -> action.finished | action.cancelled
 *   update    update.requested -> update.failed{final:false}* ->
 *             update.sent | update.failed{final:true}
 *
 * Updates to one target are delivered one at a time in request order, so the
 * vendor id a create returns (a Statuspage incident) is known before the next
 * update to that target goes out, which then edits the same incident. After a
 * restart, actions_resume re-delivers every update still pending. Secrets stay
 * in the backend instances; nothing here ever sees or journals them. */
#include "core/actions.h"

#include <event2/event.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "core/config.h"
#include "core/server.h"
#include "core/state.h"
#include "core/text.h"
#include "core/util.h"

#define OUTPUT_JOURNAL_MAX 1000   /* output lines journaled per action */
#define UPDATE_ATTEMPTS_MAX 10    /* then update.failed final */
#define UPDATE_TIMEOUT_MS 15000   /* one delivery attempt */
#define RETRY_FIRST_MS 1000
#define RETRY_MAX_MS 60000
#define RETRY_AFTER_MAX_MS 600000 /* a vendor's Retry-After is honoured up to this */

/* A configured rollback or status section, built on first use. */
struct inst {
	const struct config_section *sec;
	const struct backend_class *bc;
	void *self;
};

struct run {
	struct actions *a;
	char *id, *service;
	void *job;
	int64_t t0;
	size_t lines, dropped;
	bool starting, finished;
};

struct delivery {
	struct actions *a;
	char *id, *target, *state, *message, *user;
	int attempts;
	void *job;              /* attempt in flight */
	struct event *retry;    /* backoff timer, pending between attempts */
	bool waiting;           /* retry timer armed */
	bool starting, finished;
	struct inst *in;
};

struct target_ref {
	char *target, *ref;
};

struct actions {
	struct server *srv;
	struct backend_host host;
	struct ptrvec insts;    /* struct inst* */
	struct ptrvec runs;     /* struct run* */
	struct ptrvec outbox;   /* struct delivery*, in request order */
	struct ptrvec refs;     /* struct target_ref*: last vendor id per target */
	unsigned last_action, last_update;
};

/* ---- host glue ----------------------------------------------------------- */

static void host_emit(void *arg, struct wr_event *ev)
{
	server_emit(arg, ev);
}

static void host_health(void *arg, const char *name, const char *kind, bool ok, const char *error)
{
	server_set_backend(arg, name, kind, ok, error);
}

static void host_series(void *arg, const char *service, int64_t *t, double *v, size_t n)
{
	server_set_series(arg, service, t, v, n);
}

static const struct state *host_state(void *arg)
{
	return server_state(arg);
}

struct actions *actions_new(struct server *srv)
{
	struct actions *a = xcalloc(1, sizeof *a);
	a->srv = srv;
	a->host.base = srv ? server_base(srv) : NULL;
	a->host.emit = host_emit;
	a->host.health = host_health;
	a->host.series = host_series;
	a->host.state = host_state;
	a->host.arg = srv;
	return a;
}

static void inst_free(void *p)
{
	struct inst *in = p;
	if (in->bc->free)
		in->bc->free(in->self);
	free(in);
}

static void run_free(void *p)
{
	struct run *r = p;
	free(r->id);
	free(r->service);
	free(r);
}

static void delivery_free(void *p)
{
	struct delivery *d = p;
	if (d->retry)
		event_free(d->retry);
	free(d->id);
	free(d->target);
	free(d->state);
	free(d->message);
	free(d->user);
	free(d);
}

static void ref_free(void *p)
{
	struct target_ref *t = p;
	free(t->target);
	free(t->ref);
	free(t);
}

void actions_free(struct actions *a)
{
	if (!a)
		return;
	/* stop whatever is in flight before the instances go away */
	for (size_t i = 0; i < a->runs.n; i++) {
		struct run *r = a->runs.v[i];
		struct inst *in = NULL;
		for (size_t k = 0; k < a->insts.n && !in; k++) {
			struct inst *x = a->insts.v[k];
			if (str_eq(x->sec->name, r->service) && str_eq(x->sec->family, "rollback"))
				in = x;
		}
		if (r->job && in && in->bc->cancel)
			in->bc->cancel(r->job);
	}
	for (size_t i = 0; i < a->outbox.n; i++) {
		struct delivery *d = a->outbox.v[i];
		if (d->job && d->in && d->in->bc->cancel)
			d->in->bc->cancel(d->job);
	}
	ptrvec_free(&a->runs, run_free);
	ptrvec_free(&a->outbox, delivery_free);
	ptrvec_free(&a->refs, ref_free);
	ptrvec_free(&a->insts, inst_free);
	free(a);
}

/* ---- helpers --------------------------------------------------------------- */

static bool refuse(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool refuse(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return false;
}

static const struct config_section *find_section(const struct config *cfg, const char *family,
						 const char *name)
{
	for (size_t i = 0; cfg && i < cfg->sections.n; i++) {
		const struct config_section *s = cfg->sections.v[i];
		if (str_eq(s->family, family) && str_eq(s->name, name))
			return s;
	}
	return NULL;
}

static const char *section_get(const struct config_section *sec, const char *key)
{
	const char *v = NULL;
	for (size_t i = 0; i < sec->keys.n; i++) {
		const struct config_kv *kv = sec->keys.v[i];
		if (str_eq(kv->key, key))
			v = kv->value;
	}
	return v;
}

static struct inst *instance(struct actions *a, const struct config_section *sec, char *err,
			     size_t errlen)
{
	for (size_t i = 0; i < a->insts.n; i++) {
		struct inst *in = a->insts.v[i];
		if (in->sec == sec)
			return in;
	}
	const struct config *cfg = server_config(a->srv);
	const struct backend_class *bc = backend_find(sec->family, sec->type);
	if (!bc || !bc->run || !bc->describe) {
		refuse(err, errlen, "%s:%d: [%s %s]: unknown %s '%s'", cfg && cfg->path ? cfg->path : "config",
		       sec->line, sec->family, sec->name,
		       str_eq(sec->family, "rollback") ? "via" : "type", sec->type ? sec->type : "");
		return NULL;
	}
	void *self = bc->configure ? bc->configure(sec, cfg && cfg->path ? cfg->path : "config", err,
						   errlen) : NULL;
	if (bc->configure && !self)
		return NULL;
	struct inst *in = xcalloc(1, sizeof *in);
	in->sec = sec;
	in->bc = bc;
	in->self = self;
	ptrvec_push(&a->insts, in);
	return in;
}

/* Next "a7" / "u3": above any id in the state and any handed out here. */
static char *next_id(struct actions *a, char prefix)
{
	const struct state *st = server_state(a->srv);
	unsigned *last = prefix == 'a' ? &a->last_action : &a->last_update;
	const struct ptrvec *pv = prefix == 'a' ? &st->actions : &st->updates;
	for (size_t i = 0; i < pv->n; i++) {
		const char *id = prefix == 'a' ? ((struct action *)pv->v[i])->id
					       : ((struct update *)pv->v[i])->id;
		if (id && id[0] == prefix) {
			unsigned long v = strtoul(id + 1, NULL, 10);
			if (v > *last && v < UINT_MAX)
				*last = (unsigned)v;
		}
	}
	return xasprintf("%c%u", prefix, ++*last);
}

static bool emit(struct actions *a, enum event_kind kind, const char *by, cJSON *data)
{
	return server_emit(a->srv, wr_event_new(kind, by, data));
}


/* ---- rollbacks -------------------------------------------------------------- */

static const struct deploy *latest_deploy(const struct state *st, const char *service,
					  const char *version)
{
	const struct deploy *best = NULL;
	for (size_t i = 0; i < st->deploys.n; i++) {
		const struct deploy *d = st->deploys.v[i];
		if (str_eq(d->service, service) && (!version || str_eq(d->version, version)))
			best = d; /* sorted by time */
	}
	return best;
}

/* The version to go back to: the suspect's last good, else the deploy
 * before the current one. */
static const char *default_target(const struct state *st, const char *service, const char *from)
{
	for (size_t i = 0; i < st->suspects.n; i++) {
		const struct suspect *s = st->suspects.v[i];
		if (str_eq(s->service, service) && s->last_good && *s->last_good &&
		    !str_eq(s->last_good, from))
			return s->last_good;
	}
	const char *prev = NULL;
	for (size_t i = 0; i < st->deploys.n; i++) {
		const struct deploy *d = st->deploys.v[i];
		if (str_eq(d->service, service) && !str_eq(d->version, from))
			prev = d->version;
	}
	return prev;
}

static bool action_active(enum action_status s)
{
	return s == ACT_PENDING_APPROVAL || s == ACT_APPROVED || s == ACT_RUNNING;
}

static struct run *find_run(struct actions *a, const char *id)
{
	for (size_t i = 0; i < a->runs.n; i++) {
		struct run *r = a->runs.v[i];
		if (str_eq(r->id, id))
			return r;
	}
	return NULL;
}

static void run_remove(struct actions *a, struct run *r)
{
	for (size_t i = 0; i < a->runs.n; i++)
		if (a->runs.v[i] == r) {
			ptrvec_remove(&a->runs, i);
			break;
		}
	run_free(r);
}

static void run_started(void *arg)
{
	/* action.started is journaled when the job is launched, so every screen
	 * shows it running while the connection is set up */
}

static void run_output(void *arg, const char *stream, const char *line)
{
	struct run *r = arg;
	if (r->lines >= OUTPUT_JOURNAL_MAX) {
		r->dropped++;
		return;
	}
	r->lines++;
	char *clean = text_sanitize(line, true);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", r->id);
	cJSON_AddStringToObject(o, "stream", stream ? stream : "stdout");
	cJSON_AddStringToObject(o, "line", clean ? clean : "");
	free(clean);
	emit(r->a, EV_ACTION_OUTPUT, "system", o);
}

static void run_done(void *arg, const struct backend_result *res)
{
	struct run *r = arg;
	struct actions *a = r->a;
	if (r->dropped) {
		char msg[96];
		snprintf(msg, sizeof msg, "%zu more output lines not journaled", r->dropped);
		r->lines = 0;
		r->dropped = 0;
		run_output(r, "info", msg);
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", r->id);
	cJSON_AddBoolToObject(o, "ok", res->ok);
	cJSON_AddNumberToObject(o, "exit", res->exit_code);
	cJSON_AddNumberToObject(o, "duration_ms", (double)(time_mono_ms() - r->t0));
	if (!res->ok) {
		char *clean = text_sanitize(res->error[0] ? res->error : "failed", true);
		cJSON_AddStringToObject(o, "error", clean);
		free(clean);
	}
	emit(a, EV_ACTION_FINISHED, "system", o);
	r->finished = true;
	r->job = NULL;
	if (!r->starting)
		run_remove(a, r);
}

static void start_run(struct actions *a, struct inst *in, const char *id,
		      const struct backend_job_req *req)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", id);
	emit(a, EV_ACTION_STARTED, "system", o);

	struct run *r = xcalloc(1, sizeof *r);
	r->a = a;
	r->id = xstrdup(id);
	r->service = xstrdup(req->service);
	r->t0 = time_mono_ms();
	ptrvec_push(&a->runs, r);
	struct backend_job_cbs cbs = {
		.started = run_started, .output = run_output, .done = run_done, .arg = r,
	};
	r->starting = true;
	void *job = in->bc->run(in->self, &a->host, req, &cbs);
	r->starting = false;
	if (r->finished) {          /* done already called from inside run() */
		run_remove(a, r);
		return;
	}
	if (!job) {
		struct backend_result res = {.ok = false, .exit_code = -1};
		snprintf(res.error, sizeof res.error, "could not start the %s action", in->sec->type);
		run_done(r, &res);
		return;
	}
	r->job = job;
}

/* Fills req from the state for a rollback of service from -> to. */
static void rollback_req(const struct state *st, struct backend_job_req *req, const char *service,
			 const char *from, const char *to, const char *user)
{
	memset(req, 0, sizeof *req);
	req->service = service;
	req->from_version = from;
	req->to_version = to;
	req->user = user;
	const struct deploy *d = latest_deploy(st, service, to);
	req->to_ref = d && d->ref && *d->ref ? d->ref : NULL;
}

static bool may_mitigate(const struct state *st, const char *user)
{
	return state_user_holds(st, user, ROLE_IC) || state_user_holds(st, user, ROLE_PRIMARY);
}

bool actions_rollback(struct actions *a, const char *user, const cJSON *args, cJSON **result,
		      char *err, size_t errlen)
{
	const struct config *cfg = server_config(a->srv);
	const struct state *st = server_state(a->srv);
	if (!server_is_operator(a->srv, user))
		return refuse(err, errlen, "%s is a viewer: only operators listed in [access] may roll "
			      "back", user ? user : "?");
	if (!may_mitigate(st, user))
		return refuse(err, errlen, "rolling back needs Primary on-call or Incident Commander; "
			      "%s holds neither", user);

	const cJSON *js = cJSON_GetObjectItemCaseSensitive(args, "service");
	const cJSON *jt = cJSON_GetObjectItemCaseSensitive(args, "to");
	const cJSON *jd = cJSON_GetObjectItemCaseSensitive(args, "dry_run");
	if (!cJSON_IsString(js) || !*js->valuestring)
		return refuse(err, errlen, "rollback needs a SERVICE");
	const char *service = js->valuestring;
	bool dry_run = cJSON_IsTrue(jd);

	const struct config_section *sec = find_section(cfg, "rollback", service);
	if (!sec)
		return refuse(err, errlen, "no [rollback %s] section in %s", service,
			      cfg && cfg->path ? cfg->path : "the configuration");

	const struct deploy *cur = latest_deploy(st, service, NULL);
	const char *from = cur ? cur->version : "unknown";
	const char *to = cJSON_IsString(jt) && *jt->valuestring ? jt->valuestring
							       : default_target(st, service, from);
	if (!to)
		return refuse(err, errlen, "no known good version of %s; use --to VERSION", service);
	if (cur && str_eq(to, from))
		return refuse(err, errlen, "%s is already at %s", service, from);

	const char *approval = section_get(sec, "approval");
	if (!approval || !*approval)
		approval = "none";
	if (!str_eq(approval, "none") && !str_eq(approval, "two-person"))
		return refuse(err, errlen, "%s:%d: [rollback %s]: approval must be none or two-person, "
			      "not '%s'", cfg && cfg->path ? cfg->path : "config", sec->line, service,
			      approval);

	struct inst *in = instance(a, sec, err, errlen);
	if (!in)
		return false;
	struct backend_job_req req;
	rollback_req(st, &req, service, from, to, user);
	char *display = in->bc->describe(in->self, &req);

	if (!dry_run) {
		for (size_t i = 0; i < st->actions.n; i++) {
			const struct action *x = st->actions.v[i];
			if (str_eq(x->service, service) && action_active(x->status)) {
				free(display);
				return refuse(err, errlen, "a rollback of %s is already %s (%s); cancel it "
					      "first", service, x->status == ACT_PENDING_APPROVAL
					      ? "waiting for approval" : "running", x->id);
			}
		}
		for (size_t i = 0; i < a->runs.n; i++) {
			const struct run *r = a->runs.v[i];
			if (str_eq(r->service, service)) {
				free(display);
				return refuse(err, errlen, "a rollback of %s is already running (%s)",
					      service, r->id);
			}
		}
	}

	cJSON *res = cJSON_CreateObject();
	char *id = NULL;
	if (dry_run) {
		cJSON_AddNullToObject(res, "id");
	} else {
		id = next_id(a, 'a');
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", id);
		cJSON_AddStringToObject(o, "service", service);
		cJSON_AddStringToObject(o, "from", from);
		cJSON_AddStringToObject(o, "to", to);
		cJSON_AddStringToObject(o, "via", sec->type);
		cJSON_AddStringToObject(o, "display", display);
		cJSON_AddStringToObject(o, "approval", approval);
		if (!emit(a, EV_ACTION_REQUESTED, user, o)) {
			free(id);
			free(display);
			cJSON_Delete(res);
			return refuse(err, errlen, "could not write the journal; nothing was run");
		}
		cJSON_AddStringToObject(res, "id", id);
	}
	cJSON_AddStringToObject(res, "display", display);
	cJSON_AddStringToObject(res, "service", service);
	cJSON_AddStringToObject(res, "from", from);
	cJSON_AddStringToObject(res, "to", to);
	cJSON_AddStringToObject(res, "via", sec->type);
	cJSON_AddStringToObject(res, "approval", approval);
	cJSON_AddBoolToObject(res, "dry_run", dry_run);
	cJSON_AddStringToObject(res, "status", dry_run ? "dry-run"
				: str_eq(approval, "two-person") ? "pending approval" : "running");
	if (!dry_run && str_eq(approval, "none"))
		start_run(a, in, id, &req);
	free(id);
	free(display);
	if (result)
		*result = res;
	else
		cJSON_Delete(res);
	return true;
}

bool actions_approve(struct actions *a, const char *user, const char *id, char *err, size_t errlen)
{
	const struct config *cfg = server_config(a->srv);
	const struct state *st = server_state(a->srv);
	if (!server_is_operator(a->srv, user))
		return refuse(err, errlen, "%s is a viewer: only operators may approve", user ? user : "?");
	const struct action *act = state_find_action(st, id);
	if (!act)
		return refuse(err, errlen, "no action %s", id ? id : "?");
	if (act->status != ACT_PENDING_APPROVAL)
		return refuse(err, errlen, "%s is not waiting for approval", id);
	if (str_eq(act->requested_by, user))
		return refuse(err, errlen, "you requested this rollback; another operator must approve it");
	const struct config_section *sec = find_section(cfg, "rollback", act->service);
	if (!sec)
		return refuse(err, errlen, "no [rollback %s] section in %s any more", act->service,
			      cfg && cfg->path ? cfg->path : "the configuration");
	struct inst *in = instance(a, sec, err, errlen);
	if (!in)
		return false;
	/* what runs must be exactly what was shown when it was requested */
	char *service = xstrdup(act->service), *from = xstrdup(act->from), *to = xstrdup(act->to);
	char *by = xstrdup(act->requested_by), *aid = xstrdup(act->id);
	struct backend_job_req req;
	rollback_req(st, &req, service, from, to, by);
	char *display = in->bc->describe(in->self, &req);
	bool same = str_eq(display, act->display);
	free(display);
	bool ok = false;
	if (!same) {
		refuse(err, errlen, "the configuration changed since %s was requested; request it again",
		       aid);
	} else {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", aid);
		if (!emit(a, EV_ACTION_APPROVED, user, o)) {
			refuse(err, errlen, "could not write the journal; nothing was run");
		} else {
			start_run(a, in, aid, &req);
			ok = true;
		}
	}
	free(service); free(from); free(to); free(by); free(aid);
	return ok;
}

bool actions_cancel(struct actions *a, const char *user, const char *id, char *err, size_t errlen)
{
	const struct config *cfg = server_config(a->srv);
	const struct state *st = server_state(a->srv);
	if (!server_is_operator(a->srv, user))
		return refuse(err, errlen, "%s is a viewer: only operators may cancel", user ? user : "?");
	const struct action *act = state_find_action(st, id);
	struct run *r = find_run(a, id);
	if (!act && !r)
		return refuse(err, errlen, "no action %s", id ? id : "?");
	if (act && !may_mitigate(st, user) && !str_eq(act->requested_by, user))
		return refuse(err, errlen, "cancelling needs Primary on-call, Incident Commander or the "
			      "requester");
	if (!r && act && !action_active(act->status))
		return refuse(err, errlen, "%s has already finished", id);
	char *aid = xstrdup(id);
	if (r && r->job) {
		struct inst *in = NULL;
		const struct config_section *sec = find_section(cfg, "rollback", r->service);
		if (sec)
			in = instance(a, sec, err, errlen);
		if (in && in->bc->cancel)
			in->bc->cancel(r->job);
		r->job = NULL;
		run_remove(a, r);
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", aid);
	char reason[160];
	snprintf(reason, sizeof reason, "cancelled by %s", user);
	cJSON_AddStringToObject(o, "reason", reason);
	emit(a, EV_ACTION_CANCELLED, user, o);
	free(aid);
	return true;
}

/* ---- status updates ---------------------------------------------------------- */

static const char *audience_of(const struct config_section *sec)
{
	const char *v = section_get(sec, "audience");
	return v && *v ? v : "external";
}

static bool may_post(const struct state *st, const char *user, const char *audience)
{
	if (state_user_holds(st, user, ROLE_IC))
		return true;
	if (str_eq(audience, "internal"))
		return state_user_holds(st, user, ROLE_INTERNAL_COMMS);
	return state_user_holds(st, user, ROLE_EXTERNAL_COMMS);
}

static const char *remembered_ref(struct actions *a, const char *target)
{
	for (size_t i = 0; i < a->refs.n; i++) {
		struct target_ref *t = a->refs.v[i];
		if (str_eq(t->target, target))
			return t->ref;
	}
	/* from the journal: the last update sent to this target with an id */
	const struct state *st = server_state(a->srv);
	const char *ref = NULL;
	for (size_t i = 0; i < st->updates.n; i++) {
		const struct update *u = st->updates.v[i];
		if (u->status == UPD_SENT && str_eq(u->target, target) && u->ref && *u->ref)
			ref = u->ref;
	}
	return ref;
}

static void remember_ref(struct actions *a, const char *target, const char *ref)
{
	if (!ref || !*ref)
		return;
	for (size_t i = 0; i < a->refs.n; i++) {
		struct target_ref *t = a->refs.v[i];
		if (str_eq(t->target, target)) {
			str_set(&t->ref, ref);
			return;
		}
	}
	struct target_ref *t = xcalloc(1, sizeof *t);
	t->target = xstrdup(target);
	t->ref = xstrdup(ref);
	ptrvec_push(&a->refs, t);
}

static void pump(struct actions *a);

static void delivery_remove(struct actions *a, struct delivery *d)
{
	for (size_t i = 0; i < a->outbox.n; i++)
		if (a->outbox.v[i] == d) {
			ptrvec_remove(&a->outbox, i);
			break;
		}
	delivery_free(d);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct delivery *d = arg;
	d->waiting = false;
	pump(d->a);
}

static void delivery_done(void *arg, const struct backend_result *res)
{
	struct delivery *d = arg;
	struct actions *a = d->a;
	d->job = NULL;
	d->attempts++;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", d->id);
	cJSON_AddStringToObject(o, "target", d->target);
	bool final = false;
	if (res->ok) {
		if (res->ref[0])
			cJSON_AddStringToObject(o, "ref", res->ref);
		remember_ref(a, d->target, res->ref);
		emit(a, EV_UPDATE_SENT, "system", o);
		final = true;
	} else {
		final = !res->retryable || d->attempts >= UPDATE_ATTEMPTS_MAX;
		char *clean = text_sanitize(res->error[0] ? res->error : "delivery failed", true);
		char msg[700];
		if (final && res->retryable)
			snprintf(msg, sizeof msg, "%s (gave up after %d attempts)", clean, d->attempts);
		else if (!final)
			snprintf(msg, sizeof msg, "%s (attempt %d; retrying)", clean, d->attempts);
		else
			snprintf(msg, sizeof msg, "%s", clean);
		free(clean);
		cJSON_AddStringToObject(o, "error", msg);
		cJSON_AddBoolToObject(o, "final", final);
		emit(a, EV_UPDATE_FAILED, "system", o);
	}
	d->finished = final;
	if (!final) {
		int64_t delay = RETRY_FIRST_MS;
		for (int i = 1; i < d->attempts && delay < RETRY_MAX_MS; i++)
			delay *= 2;
		if (delay > RETRY_MAX_MS)
			delay = RETRY_MAX_MS;
		if (res->retry_after_ms > delay)
			delay = res->retry_after_ms < RETRY_AFTER_MAX_MS ? res->retry_after_ms
									 : RETRY_AFTER_MAX_MS;
		if (!d->retry)
			d->retry = evtimer_new(a->host.base, on_retry, d);
		struct timeval tv = {(time_t)(delay / 1000), (suseconds_t)(delay % 1000) * 1000};
		evtimer_add(d->retry, &tv);
		d->waiting = true;
	}
	if (d->starting)
		return; /* deliver() finishes the job once run() returns */
	if (final)
		delivery_remove(a, d);
	pump(a);
}

static void deliver(struct actions *a, struct delivery *d)
{
	const struct config *cfg = server_config(a->srv);
	const struct state *st = server_state(a->srv);
	char err[512];
	const struct config_section *sec = find_section(cfg, "status", d->target);
	d->in = sec ? instance(a, sec, err, sizeof err) : NULL;
	if (!d->in) {
		struct backend_result res = {.ok = false, .exit_code = -1};
		if (!sec)
			snprintf(res.error, sizeof res.error, "no [status %s] section in the configuration",
				 d->target);
		else
			snprintf(res.error, sizeof res.error, "%s", err);
		delivery_done(d, &res);
		return;
	}
	struct backend_job_req req = {
		.state = d->state, .message = d->message, .title = st->title,
		.impact = st->severity, .user = d->user, .service = cfg ? cfg->service : NULL,
		.prev_ref = remembered_ref(a, d->target), .deadline_ms = UPDATE_TIMEOUT_MS,
	};
	struct backend_job_cbs cbs = {.done = delivery_done, .arg = d};
	d->starting = true;
	void *job = d->in->bc->run(d->in->self, &a->host, &req, &cbs);
	d->starting = false;
	if (d->finished && !d->job) {
		/* done came from inside run() */
		delivery_remove(a, d);
		pump(a);
		return;
	}
	if (!job && !d->waiting) {
		struct backend_result res = {.ok = false, .exit_code = -1};
		snprintf(res.error, sizeof res.error, "could not start the delivery to %s", d->target);
		delivery_done(d, &res);
		return;
	}
	if (!d->waiting)
		d->job = job;
	else
		pump(a); /* failed inside run(), retry armed */
}

/* Starts the first idle delivery of each target that has nothing in flight. */
static void pump(struct actions *a)
{
	struct ptrvec seen = {0};
	for (size_t i = 0; i < a->outbox.n; i++) {
		struct delivery *d = a->outbox.v[i];
		bool busy = false;
		for (size_t k = 0; k < seen.n && !busy; k++)
			busy = str_eq(seen.v[k], d->target);
		if (busy)
			continue;
		ptrvec_push(&seen, d->target);
		if (!d->job && !d->waiting && !d->finished) {
			deliver(a, d);
			ptrvec_free(&seen, NULL);
			pump(a); /* the outbox may have changed */
			return;
		}
	}
	ptrvec_free(&seen, NULL);
}

static void enqueue(struct actions *a, const char *id, const char *target, const char *state,
		    const char *message, const char *user, int attempts)
{
	struct delivery *d = xcalloc(1, sizeof *d);
	d->a = a;
	d->id = xstrdup(id);
	d->target = xstrdup(target);
	d->state = xstrdup(state);
	d->message = xstrdup(message);
	d->user = xstrdup(user);
	d->attempts = attempts;
	ptrvec_push(&a->outbox, d);
}

bool actions_update(struct actions *a, const char *user, const cJSON *args, cJSON **result,
		    char *err, size_t errlen)
{
	const struct config *cfg = server_config(a->srv);
	const struct state *st = server_state(a->srv);
	if (!server_is_operator(a->srv, user))
		return refuse(err, errlen, "%s is a viewer: only operators may post status updates",
			      user ? user : "?");
	const cJSON *jst = cJSON_GetObjectItemCaseSensitive(args, "state");
	const cJSON *jmsg = cJSON_GetObjectItemCaseSensitive(args, "message");
	const cJSON *jtg = cJSON_GetObjectItemCaseSensitive(args, "target");
	if (!cJSON_IsString(jst) || incident_state_from_name(jst->valuestring) <= INC_DECLARED)
		return refuse(err, errlen, "state must be investigating, identified, monitoring or "
			      "resolved");
	if (!cJSON_IsString(jmsg) || !*jmsg->valuestring)
		return refuse(err, errlen, "an update needs a message");
	if (strlen(jmsg->valuestring) > 4000)
		return refuse(err, errlen, "the message is too long (%zu bytes; at most 4000)",
			      strlen(jmsg->valuestring));
	const char *target = cJSON_IsString(jtg) && *jtg->valuestring ? jtg->valuestring : NULL;

	struct ptrvec targets = {0}; /* const struct config_section* */
	if (target) {
		const struct config_section *sec = find_section(cfg, "status", target);
		if (!sec)
			return refuse(err, errlen, "no [status %s] section in %s", target,
				      cfg && cfg->path ? cfg->path : "the configuration");
		const char *aud = audience_of(sec);
		if (!may_post(st, user, aud))
			return refuse(err, errlen, "posting to %s (%s) needs %s or Incident Commander; %s "
				      "holds neither", target, aud, str_eq(aud, "internal")
				      ? "Internal Comms" : "External Comms", user);
		ptrvec_push(&targets, (void *)sec);
	} else {
		size_t total = 0;
		for (size_t i = 0; cfg && i < cfg->sections.n; i++) {
			const struct config_section *sec = cfg->sections.v[i];
			if (!str_eq(sec->family, "status"))
				continue;
			total++;
			if (may_post(st, user, audience_of(sec)))
				ptrvec_push(&targets, (void *)sec);
		}
		if (!total)
			return refuse(err, errlen, "no [status NAME] sections in %s",
				      cfg && cfg->path ? cfg->path : "the configuration");
		if (!targets.n)
			return refuse(err, errlen, "%s may post to no target: external updates need "
				      "External Comms or IC, internal ones Internal Comms or IC", user);
	}
	/* configure every target first, so a bad section refuses the whole update */
	for (size_t i = 0; i < targets.n; i++)
		if (!instance(a, targets.v[i], err, errlen)) {
			ptrvec_free(&targets, NULL);
			return false;
		}

	cJSON *res = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(res, "updates");
	for (size_t i = 0; i < targets.n; i++) {
		const struct config_section *sec = targets.v[i];
		char *id = next_id(a, 'u');
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", id);
		cJSON_AddStringToObject(o, "state", jst->valuestring);
		cJSON_AddStringToObject(o, "message", jmsg->valuestring);
		cJSON_AddStringToObject(o, "target", sec->name);
		cJSON_AddStringToObject(o, "audience", audience_of(sec));
		if (emit(a, EV_UPDATE_REQUESTED, user, o)) {
			enqueue(a, id, sec->name, jst->valuestring, jmsg->valuestring, user, 0);
			cJSON *r = cJSON_CreateObject();
			cJSON_AddStringToObject(r, "id", id);
			cJSON_AddStringToObject(r, "target", sec->name);
			cJSON_AddStringToObject(r, "audience", audience_of(sec));
			cJSON_AddItemToArray(list, r);
		}
		free(id);
	}
	ptrvec_free(&targets, NULL);
	if (cJSON_GetArraySize(list) == 0) {
		cJSON_Delete(res);
		return refuse(err, errlen, "could not write the journal; nothing was sent");
	}
	pump(a);
	if (result)
		*result = res;
	else
		cJSON_Delete(res);
	return true;
}

void actions_resume(struct actions *a)
{
	const struct state *st = server_state(a->srv);
	/* A rollback interrupted by a restart: its outcome on the host is
	 * unknown, and running it again unasked would be wrong. */
	struct ptrvec ids = {0};
	for (size_t i = 0; i < st->actions.n; i++) {
		const struct action *x = st->actions.v[i];
		if ((x->status == ACT_RUNNING || x->status == ACT_APPROVED) && !find_run(a, x->id))
			ptrvec_push(&ids, xstrdup(x->id));
	}
	for (size_t i = 0; i < ids.n; i++) {
		const struct action *x = state_find_action(st, ids.v[i]);
		if (!x)
			continue;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", x->id);
		if (x->status == ACT_RUNNING) {
			char msg[300];
			snprintf(msg, sizeof msg, "the server restarted while this was running; its "
				 "outcome is unknown: check %s on its host", x->service);
			cJSON_AddBoolToObject(o, "ok", false);
			cJSON_AddNumberToObject(o, "exit", -1);
			cJSON_AddNumberToObject(o, "duration_ms", 0);
			cJSON_AddStringToObject(o, "error", msg);
			emit(a, EV_ACTION_FINISHED, "system", o);
		} else {
			cJSON_AddStringToObject(o, "reason", "the server restarted before it started; "
						"request it again");
			emit(a, EV_ACTION_CANCELLED, "system", o);
		}
	}
	ptrvec_free(&ids, free);

	/* The outbox: every update neither sent nor finally failed goes out again. */
	for (size_t i = 0; i < st->updates.n; i++) {
		const struct update *u = st->updates.v[i];
		if (u->status != UPD_PENDING)
			continue;
		bool queued = false;
		for (size_t k = 0; k < a->outbox.n && !queued; k++)
			queued = str_eq(((struct delivery *)a->outbox.v[k])->id, u->id);
		if (!queued)
			enqueue(a, u->id, u->target, u->state, u->message, u->requested_by, u->attempts);
	}
	pump(a);
}
