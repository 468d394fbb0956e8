/* The built-in incident's script: what happened before the demo starts (the
 * deploy history), what happens while it runs (alerts, other responders'
 * notes), and the error-rate curves. Plain const tables and pure functions,
 * so the unit tests check the data the demo plays.
 *
 * Times are offsets in milliseconds from the demo start T0, in scenario
 * time: negative offsets are history (real wall time before the start),
 * positive ones are played at `speed` times real time. */
#ifndef WARROOM_SCENARIO_H
#define WARROOM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCN_SEC 1000LL
#define SCN_MIN (60 * SCN_SEC)
#define SCN_HOUR (60 * SCN_MIN)

/* The series window and step, as a Prometheus range query would return. */
#define SCN_WINDOW_MS (3 * SCN_HOUR)
#define SCN_STEP_MS (30 * SCN_SEC)

struct scn_deploy {
	int64_t at;              /* offset; may be after T0 */
	const char *service, *version, *author, *url;
};

struct scn_alert {
	int64_t at;              /* fires at this offset */
	int64_t resolve_after;   /* resolves this long after the rollback */
	const char *id, *name, *service, *severity, *summary;
	const char *description, *runbook_url, *team;
};

enum scn_step_kind { SCN_ROLE, SCN_NOTE, SCN_AFTER_ROLLBACK_NOTE };
struct scn_step {
	int64_t at;              /* offset (after the rollback for AFTER_ROLLBACK) */
	enum scn_step_kind kind;
	const char *by;
	const char *role;        /* SCN_ROLE: role id */
	const char *text;        /* notes */
	bool while_broken;       /* skipped once the rollback has fixed it */
};

/* An error-ratio curve (fraction of requests failing, 0.12 = 12 %). */
struct scn_series {
	const char *service;
	double base_lo, base_hi; /* baseline band, noise drawn inside it */
	double peak;             /* level after the onset (0: no spike) */
	double peak_noise;       /* +- around the peak */
	int64_t onset;           /* offset where the rise starts */
	int64_t ramp;            /* rise time */
	int64_t decay;           /* time constant of the fall after a rollback */
	uint32_t seed;
};

extern const struct scn_deploy scenario_deploys[];
extern const size_t scenario_ndeploys;
extern const struct scn_alert scenario_alerts[];
extern const size_t scenario_nalerts;
extern const struct scn_step scenario_steps[];
extern const size_t scenario_nsteps;
extern const struct scn_series scenario_series[];
extern const size_t scenario_nseries;

/* The deploy the demo is about, and the version to go back to. */
extern const char *const scenario_bad_service;
extern const char *const scenario_bad_version;
extern const char *const scenario_good_version;

const struct scn_series *scenario_find_series(const char *service);

/* Scenario offset of a wall-clock time: history runs at real time, the
 * part after the start at `speed` times real time. */
int64_t scenario_offset(int64_t t0_ms, double speed, int64_t wall_ms);
/* The inverse: wall-clock time of a scenario offset. */
int64_t scenario_wall(int64_t t0_ms, double speed, int64_t offset);

/* The error ratio at offset `at`. rollback_at: the offset the service was
 * rolled back at, or INT64_MIN when it was not. Deterministic: the noise
 * comes from a hash of the seed and the step bucket `at` falls in. */
double scenario_value(const struct scn_series *s, int64_t at, int64_t rollback_at);

/* The series as a query_range would return it at wall time now: points on
 * the SCN_STEP_MS grid over the last SCN_WINDOW_MS, plus one at now itself
 * when now is off the grid, so a change shows within a second. Allocates
 * *t and *v (caller frees, or hands them to server_set_series); returns n. */
size_t scenario_build_series(const struct scn_series *s, int64_t t0_ms, double speed,
			     int64_t now_ms, int64_t rollback_at, int64_t **t, double **v);

/* Deterministic PRNG (xorshift32) and the hash the noise uses. */
uint32_t scenario_rand(uint32_t *state);
double scenario_noise(uint32_t seed, int64_t bucket); /* in [0, 1) */

#endif
