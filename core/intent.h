/* Intents: what clients ask the server to do. One table lists every intent
 * with its name, its arguments and the right it needs; the server checks the
 * right on every call, whatever the source (key, command line, verb). */
#ifndef WARROOM_INTENT_H
#define WARROOM_INTENT_H

#include <cjson/cJSON.h>
#include <stdbool.h>

enum intent_right {
	RIGHT_ANY,       /* viewers too: state, point */
	RIGHT_OPERATOR,  /* any listed operator */
	RIGHT_IC,        /* operator holding Incident Commander */
	RIGHT_MITIGATE,  /* operator holding IC or Primary on-call */
	RIGHT_EXTERNAL,  /* operator holding IC or External Comms */
	RIGHT_INTERNAL,  /* operator holding IC or Internal Comms */
	RIGHT_APPROVER,  /* operator other than the requester */
	RIGHT_PLAYBACK,  /* anyone attached to a replay session; nobody elsewhere */
};

/* X(ENUM, "name", "args spec as in event.h", right, "help") */
#define INTENT_LIST(X) \
	X(INT_STATE, "state", "", RIGHT_ANY, "print the session state") \
	X(INT_NOTE, "note", "text:s", RIGHT_OPERATOR, "add a note to the comms log") \
	X(INT_ASSIGN, "assign", "role:s,user:s", RIGHT_OPERATOR, "give ROLE to USER") \
	X(INT_RELEASE, "release", "role:s,user:s?", RIGHT_OPERATOR, "release ROLE") \
	X(INT_SET_STATE, "set-state", "state:s", RIGHT_IC, "change the incident state") \
	X(INT_SET_SEVERITY, "severity", "severity:s", RIGHT_IC, "change the severity") \
	X(INT_ROLLBACK, "rollback", "service:s,to:s?,dry_run:b?", RIGHT_MITIGATE, "roll a service back") \
	X(INT_APPROVE, "approve", "id:s", RIGHT_APPROVER, "approve a pending action") \
	X(INT_CANCEL, "cancel", "id:s", RIGHT_MITIGATE, "cancel a pending or running action") \
	X(INT_UPDATE, "update", "state:s,message:s,target:s?", RIGHT_OPERATOR, "post a status update") \
	X(INT_SILENCE, "silence", "id:s,minutes:n?,comment:s?", RIGHT_OPERATOR, "silence an alert") \
	X(INT_UNSILENCE, "unsilence", "id:s", RIGHT_OPERATOR, "expire an alert's silence") \
	X(INT_POINT, "point", "target:s", RIGHT_ANY, "highlight an item on every screen") \
	X(INT_REPLAY, "replay", "op:s,arg:n?", RIGHT_PLAYBACK, \
	  "control a replay session: status pause resume toggle faster slower speed seek")

enum intent_kind {
#define X(e, name, spec, right, help) e,
	INTENT_LIST(X)
#undef X
	INT__COUNT
};

struct intent_def {
	const char *name, *spec, *help;
	enum intent_right right;
};
const struct intent_def *intent_def(enum intent_kind k);
int intent_from_name(const char *name); /* -1 if unknown */
/* Checks args against the spec (same syntax as event fields). */
bool intent_validate(enum intent_kind k, const cJSON *args, char *err, size_t errlen);

#endif
