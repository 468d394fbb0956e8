/* The built-in incident: a scenario played in real time inside a server
 * running on a private journal and socket, through the same journal and state
 * code as a real incident.
 *
 * For the console: in demo mode (tui_opts.demo) draw one line of guidance
 * from demo_hint(state, me, suspect_selected); it names the next key to press
 * ("take a role: press a ...", "tell customers: press u ...", "find the bad
 * deploy: press g", "roll it back: press r", "resolve: press S ..."). */
#ifndef WARROOM_DEMO_H
#define WARROOM_DEMO_H

#include <stdbool.h>

struct server;
struct state;

/* Called by server_main when opts->demo is set, after the loop exists. */
void demo_start(struct server *srv);
void demo_stop(struct server *srv);

/* Scenario speed (1 = real time); set before server_main runs. */
void demo_set_speed(double speed);
double demo_speed(void);

/* Called by the simulated rollback target (backends/demo.c) when a rollback
 * of service to version has completed: the error rate decays, the alerts
 * resolve, and a deploy.seen records the version now running. A no-op when
 * no demo runs in this process. */
void demo_note_rollback(const char *service, const char *version, const char *user);

/* The next step for `user` in the demo's mitigation path, as one short line
 * for the console (a static string; never NULL). suspect_selected: the
 * timeline has the top suspect selected (after `g`). */
const char *demo_hint(const struct state *st, const char *user, bool suspect_selected);

#endif
