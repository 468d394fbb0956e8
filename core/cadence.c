#include "core/cadence.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* The last update to audience that counts as given: requested and not
 * finally failed (a pending one was still the responder's word on time). */
static const struct update *last_update(const struct state *st, const char *audience)
{
	const struct update *best = NULL;
	for (size_t i = 0; i < st->updates.n; i++) {
		const struct update *u = st->updates.v[i];
		if (u->status == UPD_FAILED || !str_eq(u->audience, audience))
			continue;
		if (!best || u->requested >= best->requested)
			best = u;
	}
	return best;
}

void cadence_compute(const struct state *st, int first_external, int external, int internal,
		     int64_t now, struct cadence_due out[CADENCE__COUNT])
{
	static const char *const names[CADENCE__COUNT] = {"external", "internal"};
	const int first[CADENCE__COUNT] = {first_external, internal};
	const int every[CADENCE__COUNT] = {external, internal};
	for (int a = 0; a < CADENCE__COUNT; a++) {
		struct cadence_due *d = &out[a];
		memset(d, 0, sizeof *d);
		if (!st->declared || st->inc_state == INC_RESOLVED)
			continue;
		const struct update *u = last_update(st, names[a]);
		if (u) {
			d->last = u->requested;
			if (every[a] <= 0)
				continue;
			d->due = u->requested + every[a] * 60000LL;
		} else {
			if (first[a] <= 0)
				continue;
			d->due = st->declared + first[a] * 60000LL;
		}
		d->active = true;
		d->left = d->due - now;
	}
}

uint64_t cadence_last_update_seq(const struct state *st, const char *audience)
{
	const struct update *u = last_update(st, audience);
	if (!u)
		return 0;
	for (size_t i = st->comms.n; i-- > 0;) {
		const struct comms_entry *c = st->comms.v[i];
		if (c->kind == EV_UPDATE_REQUESTED && c->ts == u->requested &&
		    str_eq(c->by, u->requested_by))
			return c->seq;
	}
	return 0;
}

char *state_changes_since(const struct state *st, uint64_t seq)
{
	struct sbuf sb;
	sbuf_init(&sb);
	const char *state = NULL, *severity = NULL, *suspect = NULL, *ic = NULL;
	int fired = 0, resolved = 0;
	struct ptrvec actions = {0}; /* texts of finished actions, in order */
	for (size_t i = 0; i < st->comms.n; i++) {
		const struct comms_entry *c = st->comms.v[i];
		if (c->seq <= seq)
			continue;
		switch (c->kind) {
		case EV_INCIDENT_STATE:
			state = c->text;
			break;
		case EV_INCIDENT_SEVERITY:
			severity = c->text;
			break;
		case EV_ALERT_FIRED:
			fired++;
			break;
		case EV_ALERT_RESOLVED:
			resolved++;
			break;
		case EV_SUSPECT_RANKED:
			suspect = c->text;
			break;
		case EV_ACTION_FINISHED:
			ptrvec_push(&actions, c->text);
			break;
		case EV_ROLE_ASSIGNED:
			if (c->text && strstr(c->text, role_label(ROLE_IC)))
				ic = c->text;
			break;
		default:
			break;
		}
	}
#define SEP (sb.len ? "; " : "")
	if (state)
		sbuf_printf(&sb, "%s%s", SEP, state);
	if (severity)
		sbuf_printf(&sb, "%s%s", SEP, severity);
	for (size_t i = 0; i < actions.n; i++) {
		/* name the rollback, not only its id */
		const char *text = actions.v[i];
		const char *id_end = strchr(text + strlen("action "), ' ');
		char id[64] = "";
		if (strncmp(text, "action ", 7) == 0 && id_end && (size_t)(id_end - text - 7) < sizeof id)
			memcpy(id, text + 7, (size_t)(id_end - text - 7));
		const struct action *a = id[0] ? state_find_action(st, id) : NULL;
		if (a)
			sbuf_printf(&sb, "%srollback %s %s -> %s %s", SEP, a->service ? a->service : "?",
				    a->from ? a->from : "?", a->to ? a->to : "?",
				    a->status == ACT_SUCCEEDED ? "succeeded" : "failed");
		else
			sbuf_printf(&sb, "%s%s", SEP, text);
	}
	if (fired)
		sbuf_printf(&sb, "%s%d alert%s fired", SEP, fired, fired == 1 ? "" : "s");
	if (resolved)
		sbuf_printf(&sb, "%s%d alert%s resolved", SEP, resolved, resolved == 1 ? "" : "s");
	if (suspect)
		sbuf_printf(&sb, "%s%s", SEP, suspect);
	if (ic)
		sbuf_printf(&sb, "%s%s", SEP, ic);
#undef SEP
	free(actions.v);
	if (!sb.len)
		sbuf_adds(&sb, "no changes");
	return sbuf_detach(&sb);
}
