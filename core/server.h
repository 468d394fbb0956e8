/* The session server (`warroom serve`): owns the journal, the state, the
 * backends and the action runner; listens on a unix socket; turns intents
 * into events after checking the caller's rights; group-commits and then
 * acknowledges and broadcasts. One libevent loop, no blocking calls. */
#ifndef WARROOM_SERVER_H
#define WARROOM_SERVER_H

#include <stdbool.h>

#include "core/config.h"
#include "core/event.h"
#include "core/state.h"

struct server;
struct event_base;

struct server_opts {
	bool foreground;      /* false: daemonize after the socket is ready */
	const char *journal;  /* override cfg journal (demo, tests) */
	const char *socket;   /* override cfg socket */
	bool demo;            /* built-in scenario drives the backends */
	/* Replay session: plays this recorded journal into the (empty) journal
	 * at replay_speed, from replay_from_s seconds in. Everyone attaches
	 * read-only; attaching is not journaled and nothing is analysed, so
	 * the replay folds to the recording's state. */
	const char *replay;
	double replay_speed, replay_from_s;
};

/* Runs until SIGTERM/SIGINT or the last step of the demo. Returns an exit
 * code (0 ok, 1 runtime failure, 2 config). */
int server_main(struct config *cfg, const struct server_opts *opts);

/* For backends and the demo running inside the server process. */
struct server *server_current(void);
struct event_base *server_base(struct server *srv);
const struct state *server_state(struct server *srv);
const struct config *server_config(struct server *srv);
/* Journals ev (takes ownership): acknowledged/broadcast after the next sync. */
bool server_emit(struct server *srv, struct wr_event *ev);
/* The one rule for who may act: a user in [access] operators, or, when that
 * list is empty, the user the server runs as. */
bool server_is_operator(const struct server *srv, const char *user);
/* Ephemeral updates: stored in state and broadcast to clients (coalesced). */
void server_set_series(struct server *srv, const char *service, int64_t *t, double *v, size_t n);
void server_set_backend(struct server *srv, const char *name, const char *kind, bool ok,
			const char *error);

/* Socket path resolution shared by server and clients. */
const char *server_socket_path(const struct config *cfg, char *buf, size_t len);

#endif
