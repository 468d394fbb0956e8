/* backends/http: HTTP calls for every backend, on libcurl multi inside the
 * one event loop (connect and total timeouts, a response cap, no blocking
 * call), with the common handling of what vendors answer (2xx ok; 429, 5xx and transport
 * failures retryable, with Retry-After; the vendor's error text kept for the
 * user with the secret scrubbed out of it). */
#ifndef WARROOM_HTTP_H
#define WARROOM_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backends/backend.h"

struct event_base;
struct http_call;

struct http_reply {
	long status;             /* 0 when no HTTP answer came */
	const char *body;        /* NUL-terminated, capped */
	size_t len;
	const char *transport_error; /* NULL when an HTTP answer came */
	int64_t retry_after_ms;  /* 0 when none */
	bool oversized;          /* the body went over the cap (transport_error says so) */
};

typedef void (*http_done_fn)(void *arg, const struct http_reply *r);

/* headers: NULL-terminated "Name: value" lines; body may be NULL. The
 * callback always comes later from the loop, never from inside this call.
 * The reply is only valid during the callback. */
struct http_call *http_send(struct event_base *base, const char *method, const char *url,
			     const char *const *headers, const char *body, int64_t timeout_ms,
			     http_done_fn done, void *arg);
/* The same with its own response cap (http_send keeps 256 KiB): a body
 * over max_bytes stops the transfer and replies with oversized set and a
 * transport_error "answer from HOST larger than N MiB", never a truncated
 * body. For pollers, whose answers may be large. */
struct http_call *http_send_capped(struct event_base *base, const char *method, const char *url,
				    const char *const *headers, const char *body,
				    int64_t timeout_ms, size_t max_bytes, http_done_fn done,
				    void *arg);
/* No callback follows. */
void http_cancel(struct http_call *w);

/* Fills res from a reply: ok on 2xx; else error "VENDOR: HTTP 400: <text>"
 * (the JSON "message"/"error" field when there is one), every occurrence of
 * secret replaced by "***"; retryable on 429, 5xx and transport failures. */
void http_result(const struct http_reply *r, const char *vendor, const char *secret,
		    struct backend_result *res);
/* "https://hooks.slack.com/services/...": scheme, host and the first path
 * segment kept, the rest hidden (for URLs that are themselves secrets). */
char *http_redact_url(const char *url);
/* Strips trailing '/' from a base URL; caller frees. */
char *http_base(const char *url);
/* A whole job of one request: the reply goes through http_result, then
 * on_ok (may be NULL) may read the body (e.g. the vendor's id into res->ref),
 * then cbs->output gets "VENDOR answered HTTP N" (when set) and cbs->done the
 * result. Returns the handle for http_job_cancel. */
typedef void (*http_ok_fn)(const struct http_reply *r, struct backend_result *res);
void *http_job(struct event_base *base, const char *method, const char *url,
		  const char *const *headers, const char *body, int64_t timeout_ms,
		  const char *vendor, const char *secret, http_ok_fn on_ok,
		  const struct backend_job_cbs *cbs);
void http_job_cancel(void *job);
/* Reports a result from the loop without any request (errors found before
 * sending). Returns a handle for http_job_cancel. */
void *http_fail_later(struct event_base *base, const struct backend_result *res,
			 const struct backend_job_cbs *cbs);

#endif
