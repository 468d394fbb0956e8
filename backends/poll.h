/* A periodic HTTP GET on the server's loop, shared by every poller (alerts,
 * metrics, deploys over HTTP). One request in flight at a time; after a
 * success the next comes one interval later; after a failure (transport
 * error, timeout, non-2xx, a body over the cap, or the parser refusing it)
 * the backend is marked stale with the reason through host->health, keeps
 * its last data, and the next try backs off (doubling from the interval up
 * to POLL_BACKOFF_MAX_MS; Retry-After honoured). The first success after a
 * failure marks it healthy again. */
#ifndef WARROOM_POLL_H
#define WARROOM_POLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backends/backend.h"

#define POLL_BACKOFF_MAX_MS (5 * 60 * 1000)
#define POLL_DEFAULT_MAX_BYTES (16u << 20)

struct poll;

struct poll_cfg {
	const char *name;      /* the section name, for health */
	const char *kind;      /* "alertmanager", "prometheus", ... */
	int64_t interval_ms;   /* between successful polls */
	int64_t timeout_ms;    /* whole request */
	size_t max_bytes;      /* response cap; 0: POLL_DEFAULT_MAX_BYTES */
};

/* The URL for the next request (caller frees); called before every request,
 * so it may carry a moving time window. */
typedef char *(*poll_url_fn)(void *arg);
/* A 2xx body (NUL-terminated). Returns true when understood; false with a
 * reason in err marks the backend stale with it. The body is not read again
 * once parse returns, so a parser working through a large one may give back
 * the memory of what it has used up with poll_body_release. */
typedef bool (*poll_parse_fn)(void *arg, const char *body, size_t len, char *err, size_t errlen);

/* headers: NULL-terminated "Name: value" lines, copied. The first request
 * goes out from the loop right away. */
struct poll *poll_start(const struct backend_host *host, const struct poll_cfg *cfg,
			poll_url_fn url, const char *const *headers, poll_parse_fn parse, void *arg);
/* Poll again soon (after a change made through the backend, e.g. a silence). */
void poll_now(struct poll *p);
/* Cancels any request in flight; no callback follows. NULL is fine. */
void poll_free(struct poll *p);

/* Helpers shared by the pollers. */

/* The delay before the next try after `failures` failures in a row (>= 1):
 * the interval, doubled per further failure, at most POLL_BACKOFF_MAX_MS; a
 * Retry-After longer than that delay wins, up to the same ceiling. */
int64_t poll_backoff_ms(int64_t interval_ms, int failures, int64_t retry_after_ms);
/* Parses a whole body as JSON; NULL with "KIND: malformed JSON at byte N"
 * (or "... trailing data at byte N") in err. */
cJSON *poll_parse_json(const char *kind, const char *body, size_t len, char *err,
		       size_t errlen);
/* Returns to the system the memory of body[from, to) (whole pages inside
 * it only, never the body's first page), for a parser that is done with
 * that part of a large answer: its bytes read as zeros after. */
void poll_body_release(const char *body, size_t from, size_t to);
/* External text for events: sanitised (core/text.h) and cut to at most max
 * bytes on a character boundary. NULL gives NULL. Caller frees. */
char *poll_text(const char *s, size_t max);
/* check-config: one blocking GET (CLI only) with a deadline. res as
 * http_result fills it; on a 2xx, *body (when not NULL) gets the body
 * (caller frees). */
void poll_probe(const char *url, const char *kind, int64_t timeout_ms,
		const char *const *headers, struct backend_result *res, char **body);
/* The same with its own response cap (0: POLL_DEFAULT_MAX_BYTES). */
void poll_probe_capped(const char *url, const char *kind, int64_t timeout_ms, size_t max_bytes,
		       const char *const *headers, struct backend_result *res, char **body);

#endif
