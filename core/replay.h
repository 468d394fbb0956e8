/* Replaying a recorded journal as a live, read-only session: events are
 * re-journaled into the replay server's private journal at their original
 * pace divided by the speed, so every attached console sees the incident
 * unfold. Quiet stretches longer than REPLAY_MAX_GAP_MS (after the speed-up)
 * are shortened to it, so a drill never stalls on a silent hour. */
#ifndef WARROOM_REPLAY_H
#define WARROOM_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REPLAY_MAX_GAP_MS 5000

struct server;
struct replay;

struct replay_status {
	size_t done, total;
	double speed;
	bool paused, finished;
	int64_t start;    /* incident time of the first event, ms */
	int64_t position; /* incident time the replay has reached, ms */
	int64_t end;      /* incident time of the last event, ms */
};

/* Loads source and starts playing, after playing at once every event within
 * from_s seconds of the first one. NULL with err when it cannot be read or
 * holds no events. */
struct replay *replay_start(struct server *srv, const char *source, double speed, double from_s,
			    char *err, size_t errlen);
/* op: "pause", "resume", "toggle", "faster", "slower", "speed" (arg = factor),
 * "seek" (arg = seconds of incident time forward; backward is refused: the
 * events are already journaled, so going back means a new replay started
 * from an offset, see replay_start). */
bool replay_control(struct replay *r, const char *op, double arg, char *err, size_t errlen);
void replay_get_status(const struct replay *r, struct replay_status *out);
void replay_free(struct replay *r);

#endif
