/* Client side of the session protocol: connect, hello, snapshot, stream.
 * Used by the console (inside its libevent loop) and by the one-shot verbs
 * (blocking helpers below, which only the CLI verbs use). The client folds
 * events into its own struct state with the same state_apply as the server. */
#ifndef WARROOM_CLIENT_H
#define WARROOM_CLIENT_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "core/state.h"

struct client;
struct event_base;

struct client_cbs {
	void (*on_event)(struct client *c, const struct wr_event *ev, void *arg);  /* after fold */
	void (*on_synced)(struct client *c, void *arg);
	void (*on_ephemeral)(struct client *c, void *arg);                       /* series/backends/clients */
	void (*on_reply)(struct client *c, int id, bool ok, const char *error, const cJSON *result, void *arg);
	void (*on_point)(struct client *c, const char *by, const char *target, void *arg);
	void (*on_close)(struct client *c, const char *reason, void *arg);
	void *arg;
};

/* Connects to the socket (non-blocking use inside base). NULL + err. */
struct client *client_connect(struct event_base *base, const char *socket_path, bool read_only,
			      int cols, int rows, const struct client_cbs *cbs,
			      char *err, size_t errlen);
void client_free(struct client *c);

struct state *client_state(struct client *c);
const char *client_user(const struct client *c);
int client_id(const struct client *c);
bool client_is_operator(const struct client *c);
bool client_is_synced(const struct client *c);

/* Sends an intent; returns its id (reply comes through on_reply). args is
 * consumed. */
int client_intent(struct client *c, const char *name, cJSON *args);
void client_send_focus(struct client *c, const char *focus);

/* Blocking one-shot for CLI verbs: connect, hello, send intent, wait for the
 * reply (timeout ms). Returns 0 ok (result set, caller frees), 1 refused or
 * runtime error (err set), 2 cannot connect (err set). */
/* True when a server accepts connections on the socket (connects, then
 * closes; sends nothing). */
bool client_probe(const char *socket_path);

int client_call(const char *socket_path, const char *intent, cJSON *args, int timeout_ms,
		cJSON **result, char *err, size_t errlen);

#endif
