/* Incident state: a deterministic fold of events. The same code runs in the
 * server (live and on journal replay) and in every client (snapshot + stream),
 * so all screens agree. Ephemeral data (metric series, backend health) is kept
 * here too but never comes from the journal: it is set with state_set_series
 * and state_set_backend. */
#ifndef WARROOM_STATE_H
#define WARROOM_STATE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"
#include "core/util.h"

/* Roles, from one list: X(ENUM, "cli id", "label"). Secondary may be held by
 * several people; the others by one. */
#define ROLE_LIST(X) \
	X(ROLE_IC, "ic", "Incident Commander") \
	X(ROLE_INTERNAL_COMMS, "internal-comms", "Internal Comms") \
	X(ROLE_EXTERNAL_COMMS, "external-comms", "External Comms") \
	X(ROLE_PRIMARY, "primary", "Primary on-call") \
	X(ROLE_SECONDARY, "secondary", "Secondary on-call")

enum role {
#define X(e, id, label) e,
	ROLE_LIST(X)
#undef X
	ROLE__COUNT
};
const char *role_id(enum role r);
const char *role_label(enum role r);
int role_from_id(const char *id); /* -1 if unknown */

#define INCIDENT_STATES(X) \
	X(INC_DECLARED, "declared") \
	X(INC_INVESTIGATING, "investigating") \
	X(INC_IDENTIFIED, "identified") \
	X(INC_MONITORING, "monitoring") \
	X(INC_RESOLVED, "resolved")
enum incident_state {
#define X(e, name) e,
	INCIDENT_STATES(X)
#undef X
	INC__COUNT
};
const char *incident_state_name(enum incident_state s);
int incident_state_from_name(const char *name); /* -1 if unknown */

enum alert_status { ALERT_FIRING, ALERT_SILENCED, ALERT_RESOLVED };

/* An alert's labels or annotations: the members of one JSON object, in
 * order and with any repeated names, packed in one allocation (a state of
 * 10,000 alerts holds 20,000 of them). A value that is a JSON string is kept
 * as its text; any other value as its JSON text. */
struct pairs {
	uint32_t n;    /* members */
	uint32_t size; /* bytes used in text */
	char text[];   /* per member: 's' or 'j', the name, NUL, the value, NUL */
};
struct pair {
	const char *name, *value;
	bool json; /* value is JSON text, not a string */
};
struct pairs *pairs_from_json(const cJSON *obj); /* NULL if obj is not an object */
cJSON *pairs_to_json(const struct pairs *p);     /* NULL for NULL */
/* Steps through the members: *off starts at 0; false after the last. */
bool pairs_next(const struct pairs *p, size_t *off, struct pair *out);
/* The first member named name whose value is a string, or NULL. */
const char *pairs_get(const struct pairs *p, const char *name);
/* cJSON_Compare's answer for the object p was made from and obj; a missing
 * set and an empty one are the same. */
bool pairs_same_json(const struct pairs *p, const cJSON *obj);
/* The same for two packed sets. */
bool pairs_same(const struct pairs *a, const struct pairs *b);
/* n members with string values, from names and values of the given lengths
 * (no NUL needed after each; none inside): for readers that have the text
 * of a clean object at hand. */
struct pairs *pairs_pack(size_t n, const char *const *name, const size_t *name_len,
			 const char *const *value, const size_t *value_len);
struct pairs *pairs_dup(const struct pairs *p); /* NULL for NULL */

struct alert {
	char *id;            /* fingerprint (alertmanager) or source-made key */
	char *source, *name, *service, *severity, *summary, *url;
	char *silence_id;
	struct pairs *labels, *annotations; /* may be NULL */
	int64_t started;     /* ms */
	int64_t resolved;    /* ms, 0 while firing */
	int64_t silenced_until;
	enum alert_status status;
};

struct deploy {
	char *service, *version, *author, *url, *source, *ref;
	int64_t time;        /* ms */
	uint64_t seq;        /* journal seq of deploy.seen */
};

struct spike {
	char *service;
	int64_t onset;       /* ms */
	double baseline, peak, magnitude;
};

struct suspect {
	char *service, *version, *reason, *last_good;
	double score;
};

struct client_info {
	int id;
	char *user;
	char *mode;          /* "operator" or "viewer" */
	int64_t joined;
	int64_t last_active; /* ms; updated by the server, ephemeral */
	char *focus;         /* ephemeral: pane/selection for follow mode */
};

struct comms_entry {
	uint64_t seq;
	int64_t ts;
	enum event_kind kind;
	char *by;
	char *text;          /* one line, sanitised at draw time */
};

enum action_status {
	ACT_PENDING_APPROVAL, ACT_APPROVED, ACT_RUNNING, ACT_SUCCEEDED,
	ACT_FAILED, ACT_CANCELLED, ACT_DRY_RUN
};
struct action {
	char *id, *service, *from, *to, *via, *display, *approval;
	char *requested_by, *approved_by, *error;
	int64_t requested, started, finished;
	int exit_code;
	int64_t duration_ms;
	enum action_status status;
	struct ptrvec output; /* char* lines, capped */
};

enum update_status { UPD_PENDING, UPD_SENT, UPD_FAILED };
struct update {
	char *id, *state, *message, *target, *audience, *requested_by, *ref, *error;
	int64_t requested, sent;
	int attempts;
	enum update_status status;
};

struct series {
	char *service;
	size_t n;
	int64_t *t;          /* ms */
	double *v;           /* NaN allowed: gaps */
};

struct backend_health {
	char *name, *kind;
	bool ok;
	int64_t last_success; /* ms, 0 never */
	int64_t last_attempt;
	char *error;         /* NULL when ok */
};

struct state {
	/* incident */
	char *title;
	char *severity;      /* "SEV1".."SEV4" */
	enum incident_state inc_state;
	int64_t declared;    /* ms, 0 if not yet */
	int64_t resolved;
	int64_t identified, mitigated; /* first time reached, for export metrics */
	uint64_t last_seq;

	struct ptrvec alerts;   /* struct alert*, in order first seen */
	struct alert **alert_index; /* by id, open addressing; state.c only */
	size_t alert_index_cap;
	struct ptrvec deploys;  /* struct deploy*, sorted by time */
	struct ptrvec spikes;   /* struct spike* */
	struct ptrvec suspects; /* struct suspect*, best first */
	char *roles[ROLE__COUNT];          /* single holders; NULL = unassigned */
	struct ptrvec secondaries;         /* char* user names */
	struct ptrvec clients;  /* struct client_info* currently attached */
	struct ptrvec comms;    /* struct comms_entry*, in seq order */
	struct ptrvec actions;  /* struct action* */
	struct ptrvec updates;  /* struct update* */

	/* ephemeral */
	struct ptrvec series;   /* struct series* */
	struct ptrvec backends; /* struct backend_health* */

	unsigned generation;    /* bumped on every change; cheap dirty check */
};

struct state *state_new(void);
void state_free(struct state *st);

/* Folds one event. Events must come in seq order; an event with seq <= the
 * last one applied is ignored (returns false). Unknown or invalid contents
 * are ignored field by field, never crash. */
bool state_apply(struct state *st, const struct wr_event *ev);

/* One line describing an event for the comms log ("rollback api 2.4 -> 2.3
 * requested"); caller frees. */
char *state_describe_event(const struct wr_event *ev);

/* Lookups. */
struct alert *state_find_alert(const struct state *st, const char *id);
struct action *state_find_action(const struct state *st, const char *id);
struct update *state_find_update(const struct state *st, const char *id);
size_t state_count_firing(const struct state *st);
bool state_user_holds(const struct state *st, const char *user, enum role r);
/* Last deploy of service before `before_ms` other than version `not_version`. */
const struct deploy *state_last_deploy(const struct state *st, const char *service,
				       int64_t before_ms);

/* Ephemeral updates (not journaled). Series takes ownership of arrays. */
void state_set_series(struct state *st, const char *service, int64_t *t, double *v, size_t n);
const struct series *state_get_series(const struct state *st, const char *service);
void state_set_backend(struct state *st, const char *name, const char *kind, bool ok,
		       const char *error, int64_t now_ms);
/* Ephemeral presence from the server: last key press and focus of a client. */
void state_set_client_activity(struct state *st, int id, int64_t last_active, const char *focus);
struct client_info *state_find_client(const struct state *st, int id);

/* The `warroom state --json` shape (see DESIGN.md, Contract). */
cJSON *state_to_json(const struct state *st);
/* The same document already printed, as one cJSON_Raw item: what the
 * `state` verb sends, made without the whole tree. */
cJSON *state_to_json_raw(const struct state *st);
/* Ephemeral parts alone, for broadcasting to clients. */
cJSON *state_series_to_json(const struct state *st);
cJSON *state_backends_to_json(const struct state *st);
void state_series_from_json(struct state *st, const cJSON *arr);
void state_backends_from_json(struct state *st, const cJSON *arr);

#endif
