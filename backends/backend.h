/* Backends: one file per real system, each a const table of function
 * pointers registered in backends/registry.c. They run inside the server's
 * libevent loop and never block; every network operation has a deadline.
 * Backends know nothing of ncurses. They talk to the rest of the server only
 * through struct backend_host. */
#ifndef WARROOM_BACKEND_H
#define WARROOM_BACKEND_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/event.h"
#include "core/state.h"

struct event_base;

/* What the server gives a backend. */
struct backend_host {
	struct event_base *base;
	/* Journal an event (takes ownership). */
	void (*emit)(void *arg, struct wr_event *ev);
	/* Health for the header and state.backends[]. error NULL when ok. */
	void (*health)(void *arg, const char *name, const char *kind, bool ok, const char *error);
	/* Ephemeral metric series (takes ownership of t and v). */
	void (*series)(void *arg, const char *service, int64_t *t, double *v, size_t n);
	const struct state *(*state)(void *arg);
	void *arg;
};

/* Result of an action or status delivery. */
struct backend_result {
	bool ok;
	int exit_code;        /* ssh exit status, or HTTP status */
	bool retryable;       /* 429/5xx/timeouts: try again later */
	int64_t retry_after_ms;
	char error[512];      /* vendor's message, shown to the user */
	char ref[128];        /* vendor id (e.g. Statuspage incident id) */
};

/* Callbacks for a running job (rollback or status update). */
struct backend_job_cbs {
	void (*started)(void *arg);
	void (*output)(void *arg, const char *stream, const char *line);
	void (*done)(void *arg, const struct backend_result *res);
	void *arg;
};

struct backend_job_req {
	/* rollback */
	const char *service, *from_version, *to_version, *user;
	const char *to_ref;       /* argocd history id, github sha, when known */
	/* status update */
	const char *state, *message, *title, *impact, *prev_ref;
	int64_t deadline_ms;
};

struct backend_class {
	const char *family;   /* "alerts", "metrics", "deploys", "rollback", "status" */
	const char *type;     /* "alertmanager", "prometheus", "jsonl", "ssh", ... */
	/* Parse and check the section's keys; NULL + err ("FILE:LINE: ...") on error. */
	void *(*configure)(const struct config_section *sec, const char *file,
			   char *err, size_t errlen);
	/* Pollers (alerts, metrics, deploys): begin polling. */
	void (*start)(void *self, const struct backend_host *host);
	/* Runners (rollback, status): describe exactly what will run (shown
	 * before confirmation; no secrets), then run it. */
	char *(*describe)(void *self, const struct backend_job_req *req);
	void *(*run)(void *self, const struct backend_host *host, const struct backend_job_req *req,
		     const struct backend_job_cbs *cbs);
	void (*cancel)(void *job);
	/* check-config: one quick probe; fills res. May block (CLI only). */
	void (*probe)(void *self, struct backend_result *res);
	/* Parse-and-send-events for one interactive request, e.g. a silence. */
	void (*silence)(void *self, const struct backend_host *host, const char *alert_id,
			const cJSON *labels, int minutes, const char *comment, const char *user,
			const struct backend_job_cbs *cbs);
	void (*stop)(void *self);
	void (*free)(void *self);
};

/* The registry: every backend class, in one array. */
const struct backend_class *backend_find(const char *family, const char *type);
extern const struct backend_class *const backend_classes[];
/* Configures and frees every backend section once, so a bad key or value is
 * reported (FILE:LINE) when the config is loaded, not when the server meets
 * it. */
bool backend_check_config(const struct config *cfg, char *err, size_t errlen);

#endif
