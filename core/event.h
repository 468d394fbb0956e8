/* Incident events: the only way state changes. (Named wr_event, not event,
 * because libevent owns `struct event`, event_new and event_free.) Each event is one JSON object,
 * one line of the journal:
 *   {"seq":12,"ts":"2026-11-23T18:02:11.120Z","kind":"note","by":"bob","text":"..."}
 * The top-level keys seq, ts, kind, by are common; the rest are the kind's
 * fields, listed below and checked on decode by the schema table in event.c. */
#ifndef WARROOM_EVENT_H
#define WARROOM_EVENT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

/* X(ENUM, "wire-name", "required fields")
 * Field spec: comma-separated name:type, type s=string n=number b=bool
 * o=object a=array; a trailing '?' marks an optional field. */
#define EVENT_KINDS(X) \
	X(INCIDENT_DECLARED, "incident.declared", "title:s,severity:s") \
	X(INCIDENT_STATE, "incident.state", "state:s") \
	X(INCIDENT_SEVERITY, "incident.severity", "severity:s") \
	X(ALERT_FIRED, "alert.fired", \
	  "id:s,source:s,name:s,service:s,severity:s,summary:s,starts_at:s?,labels:o?,annotations:o?,url:s?") \
	X(ALERT_RESOLVED, "alert.resolved", "id:s,source:s?") \
	X(ALERT_SILENCED, "alert.silenced", "id:s,silence_id:s?,until:s?,comment:s?") \
	X(ALERT_UNSILENCED, "alert.unsilenced", "id:s,silence_id:s?") \
	X(DEPLOY_SEEN, "deploy.seen", \
	  "service:s,version:s,time:s,author:s?,url:s?,source:s?,ref:s?") \
	X(SPIKE_DETECTED, "spike.detected", \
	  "service:s,onset:s,baseline:n,peak:n,magnitude:n") \
	X(SUSPECT_RANKED, "suspect.ranked", "suspects:a") \
	X(ROLE_ASSIGNED, "role.assigned", "role:s,user:s") \
	X(ROLE_RELEASED, "role.released", "role:s,user:s?") \
	X(NOTE, "note", "text:s") \
	X(UPDATE_REQUESTED, "update.requested", \
	  "id:s,state:s,message:s,target:s,audience:s") \
	X(UPDATE_SENT, "update.sent", "id:s,target:s,ref:s?") \
	X(UPDATE_FAILED, "update.failed", "id:s,target:s,error:s,final:b") \
	X(ACTION_REQUESTED, "action.requested", \
	  "id:s,service:s,from:s,to:s,via:s,display:s,approval:s,dry_run:b?") \
	X(ACTION_APPROVED, "action.approved", "id:s") \
	X(ACTION_STARTED, "action.started", "id:s") \
	X(ACTION_OUTPUT, "action.output", "id:s,stream:s,line:s") \
	X(ACTION_FINISHED, "action.finished", \
	  "id:s,ok:b,exit:n,duration_ms:n,error:s?") \
	X(ACTION_CANCELLED, "action.cancelled", "id:s,reason:s") \
	X(CLIENT_JOINED, "client.joined", "client:n,user:s,mode:s") \
	X(CLIENT_LEFT, "client.left", "client:n,user:s,reason:s?")

enum event_kind {
#define X(e, name, spec) EV_##e,
	EVENT_KINDS(X)
#undef X
	EV__COUNT
};

struct pairs;

/* An alert.fired made by an alert source, carried as its fields instead of
 * a tree: a poll of thousands of alerts is journaled and folded without
 * building and freeing some forty objects per alert. The strings are
 * owned; starts_at, url, labels and annotations may be NULL (absent). */
struct alert_fields {
	char *id, *source, *name, *service, *severity, *summary;
	char *starts_at, *url;
	struct pairs *labels, *annotations;
};
void alert_fields_free(struct alert_fields *f);
struct alert_fields *alert_fields_dup(const struct alert_fields *f);
/* The string field named name (id, source, name, service, severity,
 * summary, starts_at, url), or NULL. */
const char *alert_fields_get(const struct alert_fields *f, const char *name);
/* The alert.fired fields as the tree a decoded line would have. */
cJSON *alert_fields_to_json(const struct alert_fields *f);

struct wr_event {
	uint64_t seq;          /* assigned by the journal; strictly increasing */
	int64_t ts;            /* ms since epoch, UTC */
	enum event_kind kind;
	char *by;              /* user name, or "system", "alertmanager", ... */
	cJSON *data;           /* object with the kind's fields; owned; NULL
				* only while `alert` holds them */
	struct alert_fields *alert; /* alert.fired as fields, or NULL; owned */
};

const char *event_kind_name(enum event_kind k);
/* -1 if unknown. */
int event_kind_from_name(const char *name);

/* New event owning `data` (an object, or NULL for an empty one). seq 0 until
 * journaled; ts = now. */
struct wr_event *wr_event_new(enum event_kind kind, const char *by, cJSON *data);
/* An alert.fired owning f, its data held as fields (see alert_fields). */
struct wr_event *wr_event_new_alert(const char *by, struct alert_fields *f);
/* ev->data, made from the fields first for an event that holds them: for
 * code that reads the tree of any event. */
const cJSON *wr_event_data(struct wr_event *ev);
struct wr_event *wr_event_dup(const struct wr_event *ev);
void wr_event_free(struct wr_event *ev);

/* Field accessors on ev->data; missing or wrong type -> def. */
const char *event_str(const struct wr_event *ev, const char *field, const char *def);
double event_num(const struct wr_event *ev, const char *field, double def);
bool event_bool(const struct wr_event *ev, const char *field, bool def);

/* Checks the kind's schema; on failure writes a reason to err. */
bool event_validate(enum event_kind kind, const cJSON *data, char *err, size_t errlen);
/* The same for an event, whichever way it holds its data. */
bool wr_event_validate(const struct wr_event *ev, char *err, size_t errlen);

/* One JSON object, no trailing newline; caller frees. */
char *event_encode(const struct wr_event *ev);
/* The same text, appended to w (the journal writes into its batch). */
struct sbuf;
void event_encode_to(struct sbuf *w, const struct wr_event *ev);
cJSON *event_to_json(const struct wr_event *ev);
/* Decodes a line (len bytes, need not be NUL-terminated); NULL + err on error. */
struct wr_event *event_decode(const char *line, size_t len, char *err, size_t errlen);
struct wr_event *event_from_json(const cJSON *obj, char *err, size_t errlen);

/* Checks obj against a field spec string (the syntax above); shared with the
 * intent table. */
bool spec_validate(const char *spec, const cJSON *obj, char *err, size_t errlen);

#endif
