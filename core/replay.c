#include "core/replay.h"

#include <event2/event.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/journal.h"
#include "core/server.h"
#include "core/util.h"

struct replay {
	struct server *srv;
	struct ptrvec events;   /* struct wr_event*, in order */
	size_t next;
	double speed;
	bool paused;
	struct event *timer; /* libevent's */
	/* pacing: event `anchor_i` was (or is due to be) played at mono `anchor_mono` */
	int64_t anchor_ts, anchor_mono;
};

static void on_load(const struct wr_event *ev, void *arg)
{
	struct replay *r = arg;
	ptrvec_push(&r->events, wr_event_dup(ev));
}

static void schedule(struct replay *r);

static void play_one(struct replay *r)
{
	struct wr_event *src = r->events.v[r->next++];
	struct wr_event *ev = wr_event_dup(src);
	ev->seq = 0; /* the replay journal numbers its own */
	server_emit(r->srv, ev);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct replay *r = arg;
	if (r->paused || r->next >= r->events.n)
		return;
	int64_t now = time_mono_ms();
	/* play everything that is due, then wait for the next one */
	do {
		const struct wr_event *ev = r->events.v[r->next];
		play_one(r);
		r->anchor_ts = ev->ts;
		r->anchor_mono = now;
	} while (r->next < r->events.n &&
		 ((const struct wr_event *)r->events.v[r->next])->ts <= r->anchor_ts);
	schedule(r);
}

static void schedule(struct replay *r)
{
	if (r->paused || r->next >= r->events.n)
		return;
	const struct wr_event *ev = r->events.v[r->next];
	double gap = (double)(ev->ts - r->anchor_ts) / r->speed;
	if (gap > REPLAY_MAX_GAP_MS)
		gap = REPLAY_MAX_GAP_MS;
	if (gap < 0)
		gap = 0;
	int64_t due = r->anchor_mono + (int64_t)gap;
	int64_t wait = due - time_mono_ms();
	if (wait < 0)
		wait = 0;
	struct timeval tv = {(time_t)(wait / 1000), (suseconds_t)(wait % 1000) * 1000};
	evtimer_add(r->timer, &tv);
}

struct replay *replay_start(struct server *srv, const char *source, double speed, double from_s,
			    char *err, size_t errlen)
{
	struct replay *r = xcalloc(1, sizeof *r);
	r->srv = srv;
	r->speed = speed > 0 ? speed : 1;
	if (journal_read(source, on_load, NULL, r, err, errlen) < 0) {
		replay_free(r);
		return NULL;
	}
	if (!r->events.n) {
		snprintf(err, errlen, "%s: no events to replay", source);
		replay_free(r);
		return NULL;
	}
	r->timer = evtimer_new(server_base(srv), on_timer, r);
	r->anchor_ts = ((const struct wr_event *)r->events.v[0])->ts;
	r->anchor_mono = time_mono_ms();
	if (from_s > 0 && !replay_control(r, "seek", from_s, err, errlen)) {
		replay_free(r);
		return NULL;
	}
	schedule(r);
	return r;
}

/* Incident time reached at mono time now: between events it advances at
 * the replay's speed, never past the next event due. */
static int64_t position_at(const struct replay *r, int64_t now)
{
	int64_t pos = r->anchor_ts;
	if (!r->paused && r->next < r->events.n) {
		int64_t played_for = now - r->anchor_mono;
		pos = r->anchor_ts + (int64_t)(played_for * r->speed);
		int64_t next_ts = ((const struct wr_event *)r->events.v[r->next])->ts;
		if (pos > next_ts)
			pos = next_ts;
	}
	return pos;
}

bool replay_control(struct replay *r, const char *op, double arg, char *err, size_t errlen)
{
	int64_t now = time_mono_ms();
	/* re-anchor at "now" so changes of pace apply from this moment */
	int64_t pos = position_at(r, now);
	if (str_eq(op, "toggle"))
		op = r->paused ? "resume" : "pause";
	if (str_eq(op, "pause")) {
		r->paused = true;
		evtimer_del(r->timer);
	} else if (str_eq(op, "resume")) {
		r->paused = false;
	} else if (str_eq(op, "faster") || str_eq(op, "slower") || str_eq(op, "speed")) {
		double f = str_eq(op, "faster") ? 2 : str_eq(op, "slower") ? 0.5 : arg;
		if (!(f > 0) || !isfinite(f)) {
			snprintf(err, errlen, "speed factor must be positive");
			return false;
		}
		r->speed = fmin(fmax(r->speed * (str_eq(op, "speed") ? 1 : f), 0.25), 1000);
		if (str_eq(op, "speed"))
			r->speed = fmin(fmax(f, 0.25), 1000);
	} else if (str_eq(op, "seek")) {
		if (!(arg > 0)) {
			snprintf(err, errlen, "replay can only seek forward");
			return false;
		}
		int64_t target = pos + (int64_t)(arg * 1000);
		while (r->next < r->events.n &&
		       ((const struct wr_event *)r->events.v[r->next])->ts <= target)
			play_one(r);
		pos = target;
	} else {
		snprintf(err, errlen, "unknown replay control \"%s\"", op ? op : "");
		return false;
	}
	r->anchor_ts = pos;
	r->anchor_mono = now;
	if (!r->paused) {
		evtimer_del(r->timer);
		schedule(r);
	}
	return true;
}

void replay_get_status(const struct replay *r, struct replay_status *out)
{
	out->done = r->next;
	out->total = r->events.n;
	out->speed = r->speed;
	out->paused = r->paused;
	out->finished = r->next >= r->events.n;
	out->start = ((const struct wr_event *)r->events.v[0])->ts;
	out->end = ((const struct wr_event *)r->events.v[r->events.n - 1])->ts;
	out->position = position_at(r, time_mono_ms());
	if (out->finished && out->position > out->end)
		out->position = out->end; /* a seek past the last event */
}

void replay_free(struct replay *r)
{
	if (!r)
		return;
	if (r->timer)
		event_free(r->timer);
	ptrvec_free(&r->events, (void (*)(void *))wr_event_free);
	free(r);
}
