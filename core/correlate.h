/* Which deploy broke it: pure functions, no I/O.
 * Spike onset: robust change-point detection on an error series (see
 * correlate.c for the method); suspects: deploys ranked by how shortly they
 * precede the onset, whether their service matches the spiking series or the
 * firing alerts, and the size of the shift. */
#ifndef WARROOM_CORRELATE_H
#define WARROOM_CORRELATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cp_spike {
	int64_t onset;        /* ms */
	double baseline, peak, magnitude; /* magnitude: shift in robust sigmas */
	size_t onset_index;
};

/* Finds the most significant upward shift in (t, v) (NaN samples skipped).
 * Returns false when there is none. */
bool correlate_find_spike(const int64_t *t, const double *v, size_t n, struct cp_spike *out);

struct cr_deploy {
	const char *service, *version;
	int64_t time;
};
struct cr_spike {
	const char *service;  /* the spiking series' service; may be NULL */
	int64_t onset;
	double magnitude;
	double baseline, peak; /* for the reason's "0.4% → 12%"; both 0: unknown */
};
struct cr_suspect {
	size_t deploy;        /* index into the deploys array */
	double score;         /* 0..1, higher is more suspect */
	char reason[256];
	const char *last_good; /* version, or NULL when unknown; points into deploys */
};

/* Ranks deploys against spikes. firing_services: services with firing
 * alerts (may be empty). Writes up to max suspects, best first; returns the
 * count. A deploy after the onset is never a suspect; no spike, no suspect. */
size_t correlate_rank(const struct cr_deploy *deploys, size_t ndeploys,
		      const struct cr_spike *spikes, size_t nspikes,
		      const char *const *firing_services, size_t nfiring,
		      struct cr_suspect *out, size_t max);

#endif
