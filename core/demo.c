/* The built-in incident, played inside the server: the scenario (core/
 * scenario.c) becomes journal events (deploys, alerts, other responders'
 * notes) and ephemeral series and backend health, exactly as real backends
 * would produce them, so the journal, state, analysis and action code are
 * the real ones. One timer on the server's loop drives it all. */
#include "core/demo.h"

#include <event2/event.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "core/scenario.h"
#include "core/server.h"
#include "core/state.h"
#include "core/util.h"

#define DEMO_TICK_MS 200          /* event timing resolution (real time) */
#define DEMO_SERIES_MS 1000       /* a series update per second */
#define DEMO_HEALTH_MS 5000       /* the simulated pollers report this often */
#define DEMO_SOURCE "demo"

struct demo {
	struct server *srv;
	struct event *tick;
	int64_t t0;               /* wall ms at the start */
	double speed;
	bool started;             /* history backfilled */
	bool *deploy_done, *alert_fired, *alert_resolved, *step_done;
	int64_t rollback_at;      /* scenario offset of the fixing rollback */
	int64_t last_series, last_health;
};

static struct demo *demo_cur;
static double demo_speed_val = 1.0;

void demo_set_speed(double speed)
{
	demo_speed_val = speed > 0 && isfinite(speed) ? speed : 1.0;
}

double demo_speed(void)
{
	return demo_speed_val;
}

static int64_t demo_now(const struct demo *d)
{
	return scenario_offset(d->t0, d->speed, time_now_ms());
}

static void demo_emit(struct demo *d, enum event_kind kind, const char *by, cJSON *data)
{
	server_emit(d->srv, wr_event_new(kind, by, data));
}

static void demo_emit_deploy(struct demo *d, const char *service, const char *version,
			     const char *author, const char *url, int64_t when_ms,
			     const char *source)
{
	char ts[40];
	time_format_rfc3339(when_ms, ts, sizeof ts);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "service", service);
	cJSON_AddStringToObject(o, "version", version);
	cJSON_AddStringToObject(o, "time", ts);
	if (author)
		cJSON_AddStringToObject(o, "author", author);
	if (url)
		cJSON_AddStringToObject(o, "url", url);
	cJSON_AddStringToObject(o, "source", source);
	demo_emit(d, EV_DEPLOY_SEEN, DEMO_SOURCE, o);
}

static void demo_fire_alert(struct demo *d, const struct scn_alert *a)
{
	char ts[40];
	time_format_rfc3339(time_now_ms(), ts, sizeof ts);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", a->id);
	cJSON_AddStringToObject(o, "source", DEMO_SOURCE);
	cJSON_AddStringToObject(o, "name", a->name);
	cJSON_AddStringToObject(o, "service", a->service);
	cJSON_AddStringToObject(o, "severity", a->severity);
	cJSON_AddStringToObject(o, "summary", a->summary);
	cJSON_AddStringToObject(o, "starts_at", ts);
	cJSON *labels = cJSON_AddObjectToObject(o, "labels");
	cJSON_AddStringToObject(labels, "alertname", a->name);
	cJSON_AddStringToObject(labels, "service", a->service);
	cJSON_AddStringToObject(labels, "severity", a->severity);
	cJSON_AddStringToObject(labels, "team", a->team);
	cJSON_AddStringToObject(labels, "env", "production");
	cJSON *ann = cJSON_AddObjectToObject(o, "annotations");
	cJSON_AddStringToObject(ann, "summary", a->summary);
	cJSON_AddStringToObject(ann, "description", a->description);
	cJSON_AddStringToObject(ann, "runbook_url", a->runbook_url);
	demo_emit(d, EV_ALERT_FIRED, DEMO_SOURCE, o);
}

static void demo_resolve_alert(struct demo *d, const struct scn_alert *a)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", a->id);
	cJSON_AddStringToObject(o, "source", DEMO_SOURCE);
	demo_emit(d, EV_ALERT_RESOLVED, DEMO_SOURCE, o);
}

static void demo_run_step(struct demo *d, const struct scn_step *s)
{
	cJSON *o = cJSON_CreateObject();
	if (s->kind == SCN_ROLE) {
		cJSON_AddStringToObject(o, "role", s->role);
		cJSON_AddStringToObject(o, "user", s->by);
		demo_emit(d, EV_ROLE_ASSIGNED, s->by, o);
	} else {
		cJSON_AddStringToObject(o, "text", s->text);
		demo_emit(d, EV_NOTE, s->by, o);
	}
}

/* History: everything that happened before the start, as the deploy
 * pollers would report it when a real server starts mid-incident. */
static void demo_backfill(struct demo *d)
{
	const struct state *st = server_state(d->srv);
	const struct config *cfg = server_config(d->srv);
	if (st && !st->declared) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "title", cfg && cfg->title ? cfg->title : "Checkout API 5xx");
		cJSON_AddStringToObject(o, "severity", cfg && cfg->severity ? cfg->severity : "SEV2");
		demo_emit(d, EV_INCIDENT_DECLARED, "system", o);
	}
	for (size_t i = 0; i < scenario_ndeploys; i++) {
		const struct scn_deploy *dp = &scenario_deploys[i];
		if (dp->at > 0)
			continue;
		demo_emit_deploy(d, dp->service, dp->version, dp->author, dp->url, d->t0 + dp->at,
				 DEMO_SOURCE);
		d->deploy_done[i] = true;
	}
}

static void demo_update_series(struct demo *d, int64_t now_ms)
{
	for (size_t i = 0; i < scenario_nseries; i++) {
		const struct scn_series *s = &scenario_series[i];
		int64_t rb = strcmp(s->service, scenario_bad_service) == 0 ? d->rollback_at : INT64_MIN;
		int64_t *t;
		double *v;
		size_t n = scenario_build_series(s, d->t0, d->speed, now_ms, rb, &t, &v);
		server_set_series(d->srv, s->service, t, v, n);
	}
	d->last_series = now_ms;
}

static void demo_update_health(struct demo *d, int64_t now_ms)
{
	server_set_backend(d->srv, "demo-alerts", "alerts", true, NULL);
	server_set_backend(d->srv, "demo-metrics", "metrics", true, NULL);
	server_set_backend(d->srv, "demo-deploys", "deploys", true, NULL);
	d->last_health = now_ms;
}

static void demo_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct demo *d = arg;
	int64_t wall = time_now_ms();
	int64_t now = demo_now(d);
	bool rolled = d->rollback_at != INT64_MIN;

	if (!d->started) {
		d->started = true;
		demo_backfill(d);
		demo_update_health(d, wall);
		demo_update_series(d, wall);
	}
	for (size_t i = 0; i < scenario_ndeploys; i++) {
		const struct scn_deploy *dp = &scenario_deploys[i];
		if (!d->deploy_done[i] && now >= dp->at) {
			d->deploy_done[i] = true;
			demo_emit_deploy(d, dp->service, dp->version, dp->author, dp->url, wall,
					 DEMO_SOURCE);
		}
	}
	for (size_t i = 0; i < scenario_nalerts; i++) {
		const struct scn_alert *a = &scenario_alerts[i];
		if (!d->alert_fired[i] && now >= a->at) {
			d->alert_fired[i] = true;
			/* fixed before this one would have fired: it never does */
			if (rolled && a->at > d->rollback_at)
				d->alert_resolved[i] = true;
			else
				demo_fire_alert(d, a);
		}
		if (rolled && d->alert_fired[i] && !d->alert_resolved[i] &&
		    now >= d->rollback_at + a->resolve_after) {
			d->alert_resolved[i] = true;
			demo_resolve_alert(d, a);
		}
	}
	for (size_t i = 0; i < scenario_nsteps; i++) {
		const struct scn_step *s = &scenario_steps[i];
		if (d->step_done[i])
			continue;
		if (s->kind == SCN_AFTER_ROLLBACK_NOTE ? rolled && now >= d->rollback_at + s->at
						       : now >= s->at) {
			d->step_done[i] = true;
			if (!(s->while_broken && rolled))
				demo_run_step(d, s);
		}
	}
	if (wall - d->last_series >= DEMO_SERIES_MS)
		demo_update_series(d, wall);
	if (wall - d->last_health >= DEMO_HEALTH_MS)
		demo_update_health(d, wall);
}

void demo_start(struct server *srv)
{
	if (demo_cur || !srv)
		return;
	struct demo *d = xcalloc(1, sizeof *d);
	d->srv = srv;
	d->t0 = time_now_ms();
	d->speed = demo_speed_val;
	d->rollback_at = INT64_MIN;
	d->deploy_done = xcalloc(scenario_ndeploys, sizeof *d->deploy_done);
	d->alert_fired = xcalloc(scenario_nalerts, sizeof *d->alert_fired);
	d->alert_resolved = xcalloc(scenario_nalerts, sizeof *d->alert_resolved);
	d->step_done = xcalloc(scenario_nsteps, sizeof *d->step_done);
	/* the first tick comes from the loop, once the server is fully up */
	d->tick = event_new(server_base(srv), -1, EV_PERSIST, demo_on_tick, d);
	struct timeval tv = {0, DEMO_TICK_MS * 1000};
	event_add(d->tick, &tv);
	event_active(d->tick, EV_TIMEOUT, 0);
	demo_cur = d;
}

void demo_stop(struct server *srv)
{
	struct demo *d = demo_cur;
	if (!d || (srv && d->srv != srv))
		return;
	if (d->tick)
		event_free(d->tick);
	free(d->deploy_done);
	free(d->alert_fired);
	free(d->alert_resolved);
	free(d->step_done);
	free(d);
	demo_cur = NULL;
}

void demo_note_rollback(const char *service, const char *version, const char *user)
{
	struct demo *d = demo_cur;
	if (!d || !service || !version)
		return;
	int64_t wall = time_now_ms();
	demo_emit_deploy(d, service, version, user && *user ? user : DEMO_SOURCE, NULL, wall,
			 "demo-rollback");
	if (strcmp(service, scenario_bad_service) == 0 &&
	    strcmp(version, scenario_bad_version) != 0 && d->rollback_at == INT64_MIN) {
		d->rollback_at = demo_now(d);
		demo_update_series(d, wall);
	}
}

/* ---- the console's one line of guidance ----------------------------------- */

static const struct action *demo_last_action(const struct state *st, const char *service)
{
	const struct action *last = NULL;
	for (size_t i = 0; i < st->actions.n; i++) {
		const struct action *a = st->actions.v[i];
		if (a->service && strcmp(a->service, service) == 0 && a->status != ACT_DRY_RUN)
			last = a;
	}
	return last;
}

static bool demo_holds_any(const struct state *st, const char *user)
{
	for (int r = 0; r < ROLE__COUNT; r++)
		if (state_user_holds(st, user, (enum role)r))
			return true;
	return false;
}

const char *demo_hint(const struct state *st, const char *user, bool suspect_selected)
{
	if (!st)
		return "demo: starting...";
	if (st->inc_state == INC_RESOLVED)
		return "resolved - well done. q quits; the demo journal is kept for warroom export";
	if (!user || !demo_holds_any(st, user))
		return "take a role: press a, pick Incident Commander, Enter";
	bool ic = state_user_holds(st, user, ROLE_IC);
	bool mitigator = ic || state_user_holds(st, user, ROLE_PRIMARY);
	bool can_post = ic || state_user_holds(st, user, ROLE_EXTERNAL_COMMS);

	const struct action *act = demo_last_action(st, scenario_bad_service);
	if (act && (act->status == ACT_RUNNING || act->status == ACT_APPROVED))
		return "rolling back: the output streams into COMMS";
	if (act && act->status == ACT_PENDING_APPROVAL)
		return "the rollback waits for a second operator's approval (y in the banner)";
	if (act && act->status == ACT_SUCCEEDED) {
		if (state_count_firing(st) > 0)
			return "rolled back: watch the error rate fall and the alerts resolve";
		if (st->updates.n == 0 && can_post)
			return "fixed: tell customers, press u";
		return "alerts resolved: press S, pick resolved, Enter";
	}
	if (st->updates.n == 0 && can_post)
		return "tell customers: press u, then Enter to send the update";
	if (act && act->status == ACT_FAILED)
		return "the rollback failed (see COMMS): press r to try again";
	if (!mitigator)
		return "rolling back needs Incident Commander or Primary on-call: press a";
	if (st->suspects.n == 0)
		return "watch DEPLOYS x ERROR RATE: the suspect shows once the spike is found";
	if (!suspect_selected)
		return "find the bad deploy: press g";
	return "roll it back: press r, then y to confirm";
}
