/* The parsers of the live alert and metric sources, apart from their
 * polling so the unit tests and fuzz targets reach them. Each refuses a body
 * it does not understand with a reason in err and never trusts its shape. */
#ifndef WARROOM_SOURCES_H
#define WARROOM_SOURCES_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/util.h"

/* Alertmanager GET /api/v2/alerts -> struct alertfeed_item* in items. A
 * silenced alert takes, of its silencedBy ids, the one with the latest end
 * known through until (may be NULL: the first). The answer is parsed one
 * alert at a time. *doc (when not NULL) gets, as a JSON array, what
 * silencing needs beyond the state: {fingerprint, labels (as sent),
 * status.silencedBy} of each alert that is silenced or whose labels lost
 * something to sanitising (caller frees). */
bool alertmanager_alerts_parse(const char *source, const char *body, size_t len,
			       int64_t (*until)(void *arg, const char *silence_id), void *arg,
			       int64_t now_ms, struct ptrvec *items, cJSON **doc, char *err,
			       size_t errlen);

/* Whether alertmanager_alerts_parse reads a plain alert (no escapes, no
 * silence, clean labels) without building a cJSON tree of it; anything
 * else goes through cJSON. On by default; tests turn it off to compare. */
extern bool alertmanager_direct;
/* Alerts read that way so far (tests look at it). */
extern unsigned long alertmanager_direct_reads;
/* The same, handing the items to part() every few hundred alerts (they are
 * freed by part), as the poller journals a large answer while reading it.
 * From an answer of alertmanager_release_from bytes on, the memory of what
 * part() has taken is given back as it goes (it reads as zeros after);
 * tests lower it to reach that path with a small answer. */
bool alertmanager_alerts_parse_parts(const char *source, const char *body, size_t len,
				     int64_t now_ms, void (*part)(void *parg, struct ptrvec *items),
				     void *parg, char *err, size_t errlen);
extern size_t alertmanager_release_from;
/* ... in steps of at least this many bytes (tests lower it too). */
extern size_t alertmanager_release_step;

/* Prometheus GET /api/v1/alerts -> items (firing alerts only). */
bool prometheus_alerts_parse(const char *source, const char *body, size_t len,
			     struct ptrvec *items, char *err, size_t errlen);

/* A range query's time grid: n points from start, step apart (ms). */
struct prom_window {
	int64_t start, end, step;
	size_t n;
};
#define PROM_MAX_POINTS 11000   /* Prometheus's limit per series */
/* The window ending at now rounded down to the step; the step is raised
 * when range / step would give more than PROM_MAX_POINTS points. */
struct prom_window prometheus_window(int64_t now_ms, int64_t range_ms, int64_t step_ms);
/* A query_range answer onto the window's grid: *t and *v get w->n points
 * (caller frees); samples off the grid are dropped, NaN and +-Inf are gaps
 * (NaN), several series are summed per timestamp. */
bool prometheus_matrix_parse(const char *body, size_t len, const struct prom_window *w,
			     int64_t **t, double **v, char *err, size_t errlen);

#endif
