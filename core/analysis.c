/* Correlation inside the server. Spikes are found in the live series, but
 * suspects are ranked from the journaled spikes in the state, so a suspect
 * survives the rollback that ends its spike, a restart, and a series window
 * that has slid past the onset. Events are journaled only when the result
 * changed in a way a person would notice: the series is refreshed every few
 * seconds and its newest point moves the figures a little each time. */
#include "core/analysis.h"

#include <math.h>
#include <stdlib.h>

#include "core/correlate.h"
#include "core/server.h"
#include "core/state.h"
#include "core/util.h"

#define ANALYSIS_MAX_SUSPECTS 8
#define ANALYSIS_SERIES_MAX 720 /* samples kept with spike.detected, for exports */
#define ANALYSIS_LEVEL_TOL 0.15 /* of the shift: a smaller move of baseline or peak is news to nobody */
#define ANALYSIS_SCORE_TOL 0.005

static const struct spike *analysis_old_spike(const struct state *st, const char *service)
{
	for (size_t i = 0; i < st->spikes.n; i++) {
		const struct spike *s = st->spikes.v[i];
		if (str_eq(s->service, service))
			return s;
	}
	return NULL;
}

static bool analysis_spike_changed(const struct spike *old, const struct cp_spike *sp,
				   const struct series *ser)
{
	if (!old)
		return true;
	/* the onset may wobble by one sample as the baseline estimate moves */
	int64_t step = 0;
	size_t i = sp->onset_index;
	if (i > 0 && i < ser->n)
		step = ser->t[i] - ser->t[i - 1];
	int64_t moved = old->onset > sp->onset ? old->onset - sp->onset : sp->onset - old->onset;
	if (moved > step)
		return true;
	double tol = ANALYSIS_LEVEL_TOL * fabs(old->peak - old->baseline);
	return fabs(sp->peak - old->peak) > tol || fabs(sp->baseline - old->baseline) > tol;
}

static void analysis_emit_spike(struct server *srv, const struct series *ser,
				const struct cp_spike *sp)
{
	char onset[40];
	time_format_rfc3339(sp->onset, onset, sizeof onset);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "service", ser->service);
	cJSON_AddStringToObject(o, "onset", onset);
	cJSON_AddNumberToObject(o, "baseline", sp->baseline);
	cJSON_AddNumberToObject(o, "peak", sp->peak);
	cJSON_AddNumberToObject(o, "magnitude", round(sp->magnitude * 10) / 10);
	/* the curve as it was seen, so an export can draw it after the fact */
	size_t from = ser->n > ANALYSIS_SERIES_MAX ? ser->n - ANALYSIS_SERIES_MAX : 0;
	cJSON *s = cJSON_AddObjectToObject(o, "series");
	cJSON *t = cJSON_AddArrayToObject(s, "t");
	cJSON *v = cJSON_AddArrayToObject(s, "v");
	for (size_t i = from; i < ser->n; i++) {
		cJSON_AddItemToArray(t, cJSON_CreateNumber((double)ser->t[i]));
		cJSON_AddItemToArray(v, isfinite(ser->v[i]) ? cJSON_CreateNumber(ser->v[i])
							    : cJSON_CreateNull());
	}
	server_emit(srv, wr_event_new(EV_SPIKE_DETECTED, "system", o));
}

static void analysis_spikes(struct server *srv, const struct state *st)
{
	for (size_t i = 0; i < st->series.n; i++) {
		const struct series *ser = st->series.v[i];
		struct cp_spike sp;
		if (!ser->service || !correlate_find_spike(ser->t, ser->v, ser->n, &sp))
			continue; /* no spike now: a journaled one stays history */
		if (analysis_spike_changed(analysis_old_spike(st, ser->service), &sp, ser))
			analysis_emit_spike(srv, ser, &sp);
	}
}

/* Services whose alerts bear on the spikes: firing (or silenced, which is
 * still firing) now, or resolved after the earliest onset, so an alert
 * resolving after the rollback does not reshuffle the suspects. */
static size_t analysis_alert_services(const struct state *st, int64_t since, const char **out)
{
	size_t n = 0;
	for (size_t i = 0; i < st->alerts.n; i++) {
		const struct alert *a = st->alerts.v[i];
		if (!a->service || (a->status == ALERT_RESOLVED && a->resolved < since))
			continue;
		bool dup = false;
		for (size_t k = 0; k < n && !dup; k++)
			dup = str_eq(out[k], a->service);
		if (!dup)
			out[n++] = a->service;
	}
	return n;
}

static bool analysis_suspects_changed(const struct state *st, const struct cr_deploy *deps,
				      const struct cr_suspect *sus, size_t n)
{
	if (st->suspects.n != n)
		return true;
	for (size_t i = 0; i < n; i++) {
		const struct suspect *o = st->suspects.v[i];
		const struct cr_deploy *d = &deps[sus[i].deploy];
		if (!str_eq(o->service, d->service) || !str_eq(o->version, d->version) ||
		    !str_eq(o->reason, sus[i].reason) || !str_eq(o->last_good, sus[i].last_good) ||
		    fabs(o->score - sus[i].score) > ANALYSIS_SCORE_TOL)
			return true;
	}
	return false;
}

static void analysis_suspects(struct server *srv, const struct state *st)
{
	size_t nsp = st->spikes.n, nd = st->deploys.n;
	if (nsp == 0 && st->suspects.n == 0)
		return;
	struct cr_spike *spikes = xcalloc(nsp ? nsp : 1, sizeof *spikes);
	struct cr_deploy *deps = xcalloc(nd ? nd : 1, sizeof *deps);
	const char **firing = xcalloc(st->alerts.n ? st->alerts.n : 1, sizeof *firing);
	int64_t since = INT64_MAX;
	for (size_t i = 0; i < nsp; i++) {
		const struct spike *s = st->spikes.v[i];
		spikes[i] = (struct cr_spike){.service = s->service, .onset = s->onset,
					      .magnitude = s->magnitude, .baseline = s->baseline,
					      .peak = s->peak};
		if (s->onset < since)
			since = s->onset;
	}
	for (size_t i = 0; i < nd; i++) {
		const struct deploy *d = st->deploys.v[i];
		deps[i] = (struct cr_deploy){.service = d->service, .version = d->version,
					     .time = d->time};
	}
	size_t nf = analysis_alert_services(st, since, firing);
	struct cr_suspect sus[ANALYSIS_MAX_SUSPECTS];
	size_t n = correlate_rank(deps, nd, spikes, nsp, firing, nf, sus, ANALYSIS_MAX_SUSPECTS);
	for (size_t i = 0; i < n; i++)
		sus[i].score = round(sus[i].score * 1000) / 1000;
	if (analysis_suspects_changed(st, deps, sus, n)) {
		cJSON *o = cJSON_CreateObject();
		cJSON *arr = cJSON_AddArrayToObject(o, "suspects");
		for (size_t i = 0; i < n; i++) {
			const struct cr_deploy *d = &deps[sus[i].deploy];
			const struct deploy *full = st->deploys.v[sus[i].deploy];
			cJSON *s = cJSON_CreateObject();
			cJSON_AddStringToObject(s, "service", d->service);
			cJSON_AddStringToObject(s, "version", d->version);
			cJSON_AddNumberToObject(s, "score", sus[i].score);
			cJSON_AddStringToObject(s, "reason", sus[i].reason);
			if (sus[i].last_good)
				cJSON_AddStringToObject(s, "last_good", sus[i].last_good);
			else
				cJSON_AddNullToObject(s, "last_good");
			char ts[40];
			time_format_rfc3339(full->time, ts, sizeof ts);
			cJSON_AddStringToObject(s, "time", ts);
			cJSON_AddItemToArray(arr, s);
		}
		server_emit(srv, wr_event_new(EV_SUSPECT_RANKED, "system", o));
	}
	free(spikes);
	free(deps);
	free(firing);
}

void analysis_on_change(struct server *srv)
{
	const struct state *st = server_state(srv);
	if (!st)
		return;
	analysis_spikes(srv, st);
	analysis_suspects(srv, st);
}
