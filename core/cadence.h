/* Comms cadence: when the next external and internal status update is due,
 * from the incident's updates and the [cadence] minutes, and what changed
 * since an update (for pre-filling the next one). Pure functions of the
 * state: no clock is read here, the caller passes "now". */
#ifndef WARROOM_CADENCE_H
#define WARROOM_CADENCE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/state.h"

enum cadence_audience { CADENCE_EXTERNAL, CADENCE_INTERNAL, CADENCE__COUNT };

struct cadence_due {
	bool active;     /* false: resolved, not declared, or the interval is off */
	int64_t due;     /* ms, when the next update is due */
	int64_t left;    /* ms until due; negative when overdue */
	int64_t last;    /* ms of the last update for this audience, 0 if none */
};

/* first_external: minutes after declaration for the first external update;
 * external, internal: minutes between updates (internal also times the
 * first). A value <= 0 turns that countdown off. */
void cadence_compute(const struct state *st, int first_external, int external, int internal,
		     int64_t now, struct cadence_due out[CADENCE__COUNT]);

/* Seq of the comms entry for the last update to audience ("external" or
 * "internal") that did not finally fail; 0 if none. */
uint64_t cadence_last_update_seq(const struct state *st, const char *audience);

/* What changed since journal seq `seq`, as one short line for an update
 * draft: state and severity changes, alerts firing and resolved, the top
 * suspect, rollbacks finished, a new Incident Commander ("state identified;
 * rollback api 2.4.0 -> 2.3.0 succeeded; 1 alert resolved"). "no changes"
 * when nothing noteworthy happened. Caller frees. */
char *state_changes_since(const struct state *st, uint64_t seq);

#endif
