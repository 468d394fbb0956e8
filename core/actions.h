/* The action runner inside the server: rollbacks (with optional two-person
 * approval) and status updates (a durable outbox in the journal: requested ->
 * sent | failed, retried with backoff). Every step is a journal event, so a
 * restarted server resumes what was pending: an update requested but neither
 * sent nor finally failed is delivered once after restart. */
#ifndef WARROOM_ACTIONS_H
#define WARROOM_ACTIONS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

struct server;
struct actions;

struct actions *actions_new(struct server *srv);
void actions_free(struct actions *a);

/* Intent handlers, called by the server after the right check. Return false
 * with a user-facing reason in err when refused. *result (may stay NULL) is
 * sent back in the reply, e.g. {"id":"a3","display":"ssh deploy@10.0.0.5 ..."}. */
bool actions_rollback(struct actions *a, const char *user, const cJSON *args,
		      cJSON **result, char *err, size_t errlen);
bool actions_approve(struct actions *a, const char *user, const char *id,
		     char *err, size_t errlen);
bool actions_cancel(struct actions *a, const char *user, const char *id,
		    char *err, size_t errlen);
bool actions_update(struct actions *a, const char *user, const cJSON *args,
		    cJSON **result, char *err, size_t errlen);

/* Called once after the journal is replayed: restarts pending deliveries. */
void actions_resume(struct actions *a);

#endif
