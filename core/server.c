/* The session server: one libevent loop owning the journal, the state, the
 * backends and the action runner. Clients speak core/proto.h over a unix
 * socket. Every intent is checked against the caller's rights, turned into
 * events that are appended and folded at once, and acknowledged only after
 * the group commit at the end of the loop pass has made them durable. */
#include "core/server.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "backends/backend.h"
#include "core/actions.h"
#include "core/analysis.h"
#include "core/demo.h"
#include "core/intent.h"
#include "core/journal.h"
#include "core/proto.h"
#include "core/replay.h"
#include "core/util.h"

/* A client whose unsent output passes this is dropped: it must never slow
 * the others, and its queue must not grow without bound. */
#define CONN_QUEUE_MAX (8u << 20)
/* A client that is reading but has this much unsent stops being sent event
 * frames: it catches up from the journal file as it drains (as a snapshot
 * does), so a burst of any size (50,000 alerts at once) costs the server at
 * most this much per client and drops nobody who keeps reading. */
#define CONN_LAG_MARK (1u << 20)
/* A client catching up that takes nothing for this long is dropped. */
#define CONN_STALL_MS 10000
/* Journal bytes read per piece when broadcasting a commit's events. */
#define BROADCAST_CHUNK (1u << 20)
/* Snapshot chunks: whole journal lines, at most this much per frame... */
#define SNAPSHOT_CHUNK (1u << 20)
/* ...except one longer line, which still fits a frame once escaped (x2). */
#define SNAPSHOT_LINE_MAX ((PROTO_MAX_FRAME - 4096u) / 2u)
/* The next chunk is read only when the output has drained below this, so
 * a snapshot never sits in memory whole. */
#define SNAPSHOT_LOW_WATER (256u << 10)
#define EPHEMERAL_INTERVAL_MS 250
#define HELLO_TIMEOUT_S 10
#define CLOSE_TIMEOUT_S 5
#define NOTE_MAX 16384
/* A reply too large for one frame (the state of a long incident) goes out
 * as parts of this size, pumped like a snapshot. */
#define REPLY_PART (1u << 20)
#define USER_MAX 64

enum conn_phase { CONN_HELLO, CONN_SNAPSHOT, CONN_LIVE };

struct conn {
	struct server *srv;
	struct bufferevent *bev;
	int id;
	uid_t uid;
	char *user;
	bool listed;        /* an operator by config */
	bool may_operate;   /* listed and not attached read-only */
	bool interactive;   /* a console: journaled as joined/left */
	bool joined;
	bool stream;        /* wants the event stream */
	bool closing;
	char *bye_reason;   /* why the server closed it: the journaled leave says so */
	enum conn_phase phase;
	uint64_t snap_off;  /* next journal byte to send in the snapshot */
	bool lagging;       /* in CONN_SNAPSHOT again: catching up after a burst */
	bool reading;       /* took bytes since the previous commit (or had none queued) */
	uint64_t seen_drained;  /* bytes it had taken at the previous commit */
	int64_t progress_ms;    /* when it last took bytes while lagging */
	/* Cumulative end offsets of frames not yet fully written, so a dropped
	 * client's queue can be cut at a frame boundary before the bye. */
	uint64_t out_added;
	uint64_t *ends;
	size_t ends_head, ends_n, ends_cap;
	/* a large reply being sent in parts */
	char *big;
	size_t big_len, big_off;
	double big_id;
	int big_parts;
};

struct reply {
	int conn_id;
	double id;
	bool ok;
	char *error;
	cJSON *result;
};

struct backend_inst {
	const struct backend_class *bc;
	const struct config_section *sec;
	void *self;
};

struct server {
	struct config *cfg;
	const struct server_opts *opts;
	struct event_base *base;
	struct journal *journal;
	struct state *state;
	char *journal_path, *lock_path, *log_path;
	char socket_path[PATH_MAX];
	int lock_fd, listen_fd, snap_fd;
	FILE *log;
	char *self_user;
	struct evconnlistener *listener;
	struct event *sigs[4];
	struct event *commit_ev, *eph_timer, *stop_timer;
	bool commit_scheduled, analysis_due, stopping, socket_bound;
	struct ptrvec conns;    /* struct conn* */
	uint64_t sent_off;      /* journal bytes broadcast (durable and sent to live clients) */
	struct ptrvec replies;  /* struct reply*: sent after the next sync */
	uint64_t synced_seq;
	int max_client_id;
	struct ptrvec backends; /* struct backend_inst* */
	struct backend_host host;
	struct actions *actions;
	struct replay *replay;     /* replay sessions only */
	int exit_code;
};

static struct server *server_running;

/* ---- logging ------------------------------------------------------------- */

static void srv_log(struct server *srv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void srv_log(struct server *srv, const char *fmt, ...)
{
	FILE *f = srv && srv->log ? srv->log : stderr;
	char ts[40];
	time_format_rfc3339(time_now_ms(), ts, sizeof ts);
	va_list ap;
	va_start(ap, fmt);
	fprintf(f, "%s warroom[%d]: ", ts, (int)getpid());
	vfprintf(f, fmt, ap);
	fputc('\n', f);
	fflush(f);
	va_end(ap);
}

/* ---- paths --------------------------------------------------------------- */

static const char *socket_path_for(const struct config *cfg, const char *journal, char *buf,
				   size_t len)
{
	int n;
	if (cfg && cfg->socket && *cfg->socket) {
		n = snprintf(buf, len, "%s", cfg->socket);
	} else {
		char name[NAME_MAX + 1] = "incident";
		if (journal && *journal) {
			const char *b = strrchr(journal, '/');
			snprintf(name, sizeof name, "%s", b ? b + 1 : journal);
			size_t l = strlen(name);
			if (l > 6 && strcmp(name + l - 6, ".jsonl") == 0)
				name[l - 6] = '\0';
		}
		const char *rt = getenv("XDG_RUNTIME_DIR");
		if (rt && *rt)
			n = snprintf(buf, len, "%s/warroom/%s.sock", rt, name);
		else
			n = snprintf(buf, len, "/tmp/warroom-%u/%s.sock", (unsigned)getuid(), name);
	}
	if (n < 0 || (size_t)n >= len)
		return NULL;
	return buf;
}

const char *server_socket_path(const struct config *cfg, char *buf, size_t len)
{
	return socket_path_for(cfg, cfg ? cfg->journal : NULL, buf, len);
}

/* mkdir -p of the directory part of path; new directories get mode. */
static int mkdir_parents(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

static char *user_name(uid_t uid)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res && res->pw_name)
		return xstrdup(res->pw_name);
	return xasprintf("uid%u", (unsigned)uid);
}

/* ---- output to one client ------------------------------------------------ */

static void conn_free(struct conn *c, const char *reason);

static void conn_trim_ends(struct conn *c)
{
	uint64_t drained = c->out_added - evbuffer_get_length(bufferevent_get_output(c->bev));
	while (c->ends_n && c->ends[c->ends_head] <= drained) {
		c->ends_head++;
		c->ends_n--;
	}
	if (c->ends_n == 0)
		c->ends_head = 0;
	else if (c->ends_head > 1024 && c->ends_head > c->ends_n) {
		memmove(c->ends, c->ends + c->ends_head, c->ends_n * sizeof *c->ends);
		c->ends_head = 0;
	}
}

static void conn_write_raw(struct conn *c, const char *frame, size_t len)
{
	conn_trim_ends(c);
	if (c->ends_head + c->ends_n == c->ends_cap) {
		c->ends_cap = c->ends_cap ? c->ends_cap * 2 : 64;
		c->ends = xrealloc(c->ends, c->ends_cap * sizeof *c->ends);
	}
	bufferevent_write(c->bev, frame, len);
	c->out_added += len;
	c->ends[c->ends_head + c->ends_n++] = c->out_added;
}

/* Drops everything queued after the frame being written, so the bye that
 * follows is the next thing the client reads. */
static void conn_cut_queue(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	conn_trim_ends(c);
	size_t len = evbuffer_get_length(out);
	if (!c->ends_n || !len)
		return;
	uint64_t drained = c->out_added - len;
	size_t keep = (size_t)(c->ends[c->ends_head] - drained);
	if (keep >= len)
		return;
	struct evbuffer *tmp = evbuffer_new();
	evbuffer_remove_buffer(out, tmp, keep);
	evbuffer_drain(out, evbuffer_get_length(out));
	evbuffer_add_buffer(out, tmp);
	evbuffer_free(tmp);
	c->out_added = drained + keep;
	c->ends_n = 1;
}

static void conn_bye(struct conn *c, const char *reason);

static void conn_write(struct conn *c, const char *frame, size_t len)
{
	if (c->closing)
		return;
	conn_write_raw(c, frame, len);
	size_t queued = evbuffer_get_length(bufferevent_get_output(c->bev));
	if (queued > CONN_QUEUE_MAX) {
		srv_log(c->srv, "client %d (%s) dropped: too slow: output queue full (%zu bytes)",
			c->id, c->user, queued);
		conn_cut_queue(c);
		conn_bye(c, "too slow: output queue full");
	}
}

static void conn_send(struct conn *c, const cJSON *msg)
{
	size_t len;
	char *frame = proto_encode(msg, &len);
	if (!frame)
		return;
	conn_write(c, frame, len);
	free(frame);
}

/* Sends {"t":"bye","reason":...}, stops reading, and frees the client once
 * the bye is written (or after a deadline if it never reads it). */
static void conn_bye(struct conn *c, const char *reason)
{
	if (c->closing)
		return;
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "t", "bye");
	cJSON_AddStringToObject(m, "reason", reason);
	size_t len;
	char *frame = proto_encode(m, &len);
	cJSON_Delete(m);
	if (frame) {
		conn_write_raw(c, frame, len);
		free(frame);
	}
	c->closing = true;
	c->bye_reason = xstrdup(reason);
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	struct timeval tv = {CLOSE_TIMEOUT_S, 0};
	bufferevent_set_timeouts(c->bev, NULL, &tv);
	bufferevent_enable(c->bev, EV_WRITE);
	srv_log(c->srv, "client %d (%s) closed: %s", c->id, c->user ? c->user : "?", reason);
}

static struct conn *srv_find_conn(struct server *srv, int id)
{
	for (size_t i = 0; i < srv->conns.n; i++) {
		struct conn *c = srv->conns.v[i];
		if (c->id == id)
			return c;
	}
	return NULL;
}

/* ---- journal, group commit ----------------------------------------------- */

static void srv_schedule_commit(struct server *srv)
{
	if (srv->commit_scheduled || !srv->commit_ev)
		return;
	srv->commit_scheduled = true;
	event_active(srv->commit_ev, 0, 0);
}

static void srv_ephemeral_dirty(struct server *srv);

/* Appends and folds at once (the next intent of the same pass sees it);
 * durable, acknowledged and broadcast at the commit. Takes ev. */
static bool srv_append(struct server *srv, struct wr_event *ev, char *err, size_t errlen)
{
	char e[256];
	if (!wr_event_validate(ev, e, sizeof e)) {
		srv_log(srv, "refusing an invalid event from %s: %s", ev->by ? ev->by : "?", e);
		snprintf(err, errlen, "invalid event: %s", e);
		wr_event_free(ev);
		return false;
	}
	if (!journal_append(srv->journal, ev, e, sizeof e)) {
		srv_log(srv, "journal write failed: %s", e);
		snprintf(err, errlen, "journal write failed: %s", e);
		wr_event_free(ev);
		return false;
	}
	state_apply(srv->state, ev);
	/* a replay carries the recording's own analysis events */
	if ((ev->kind == EV_DEPLOY_SEEN || ev->kind == EV_ALERT_FIRED ||
	     ev->kind == EV_ALERT_RESOLVED || ev->kind == EV_ALERT_SILENCED ||
	     ev->kind == EV_ALERT_UNSILENCED) && !srv->opts->replay)
		srv->analysis_due = true;
	if (ev->kind == EV_CLIENT_JOINED || ev->kind == EV_CLIENT_LEFT)
		srv_ephemeral_dirty(srv);
	/* the journal holds it now: it is broadcast from there after the sync,
	 * so a burst of events is never held in memory as objects */
	wr_event_free(ev);
	srv_schedule_commit(srv);
	return true;
}

static void srv_queue_reply(struct server *srv, int conn_id, double id, bool ok,
			    const char *error, cJSON *result)
{
	struct reply *r = xcalloc(1, sizeof *r);
	r->conn_id = conn_id;
	r->id = id;
	r->ok = ok;
	r->error = xstrdup(error);
	r->result = result;
	ptrvec_push(&srv->replies, r);
	srv_schedule_commit(srv);
}

static void reply_free(void *p)
{
	struct reply *r = p;
	free(r->error);
	cJSON_Delete(r->result);
	free(r);
}

/* Sends parts of a large reply while the output is nearly empty, then the
 * reply itself with the number of parts. */
static void conn_pump_big(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	while (c->big && !c->closing && evbuffer_get_length(out) < SNAPSHOT_LOW_WATER) {
		cJSON *m = cJSON_CreateObject();
		if (c->big_off >= c->big_len) {
			cJSON_AddStringToObject(m, "t", "reply");
			cJSON_AddNumberToObject(m, "id", c->big_id);
			cJSON_AddBoolToObject(m, "ok", true);
			cJSON_AddNumberToObject(m, "parts", c->big_parts);
			free(c->big);
			c->big = NULL;
		} else {
			size_t n = c->big_len - c->big_off;
			if (n > REPLY_PART) {
				n = REPLY_PART;
				/* never split a UTF-8 sequence */
				while (n > 1 && ((unsigned char)c->big[c->big_off + n] & 0xc0) == 0x80)
					n--;
			}
			char save = c->big[c->big_off + n];
			c->big[c->big_off + n] = '\0';
			cJSON_AddStringToObject(m, "t", "reply-part");
			cJSON_AddNumberToObject(m, "id", c->big_id);
			cJSON_AddStringToObject(m, "text", c->big + c->big_off);
			c->big[c->big_off + n] = save;
			c->big_off += n;
			c->big_parts++;
		}
		conn_send(c, m);
		cJSON_Delete(m);
	}
}

static void srv_send_replies(struct server *srv)
{
	for (size_t i = 0; i < srv->replies.n; i++) {
		struct reply *r = srv->replies.v[i];
		struct conn *c = srv_find_conn(srv, r->conn_id);
		if (!c || c->closing)
			continue;
		cJSON *m = cJSON_CreateObject();
		cJSON_AddStringToObject(m, "t", "reply");
		cJSON_AddNumberToObject(m, "id", r->id);
		cJSON_AddBoolToObject(m, "ok", r->ok);
		if (!r->ok)
			cJSON_AddStringToObject(m, "error", r->error ? r->error : "refused");
		else if (r->result) {
			cJSON_AddItemToObject(m, "result", r->result);
			r->result = NULL;
		}
		/* a printed result already too large for one frame goes in parts
		 * straight away, not printed into a frame first */
		const cJSON *res0 = cJSON_GetObjectItemCaseSensitive(m, "result");
		bool huge = cJSON_IsRaw(res0) && strlen(res0->valuestring) > PROTO_MAX_FRAME;
		size_t len = 0;
		char *frame = huge ? NULL : proto_encode(m, &len);
		if (frame && len <= PROTO_MAX_FRAME + 4) {
			conn_write(c, frame, len);
		} else if (r->ok && !c->big) {
			cJSON *res = cJSON_DetachItemFromObjectCaseSensitive(m, "result");
			if (cJSON_IsRaw(res)) {
				c->big = res->valuestring; /* taken */
				res->valuestring = NULL;
			} else {
				c->big = cJSON_PrintUnformatted(res);
			}
			cJSON_Delete(res);
			c->big_len = strlen(c->big);
			c->big_off = 0;
			c->big_id = r->id;
			c->big_parts = 0;
			conn_pump_big(c);
		} else {
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "t", "reply");
			cJSON_AddNumberToObject(e, "id", r->id);
			cJSON_AddBoolToObject(e, "ok", false);
			cJSON_AddStringToObject(e, "error", "reply too large; another large reply is "
						"still being sent");
			conn_send(c, e);
			cJSON_Delete(e);
		}
		free(frame);
		cJSON_Delete(m);
	}
	ptrvec_free(&srv->replies, reply_free);
}

static void conn_pump_snapshot(struct conn *c);
static void srv_stop(struct server *srv, int code);

static void srv_broadcast_frame(struct server *srv, const char *frame, size_t len)
{
	for (size_t i = 0; i < srv->conns.n; i++) {
		struct conn *c = srv->conns.v[i];
		if (c->phase == CONN_LIVE && c->stream && !c->closing)
			conn_write(c, frame, len);
	}
}

static ssize_t pread_all(int fd, char *buf, size_t len, uint64_t off);

/* Before a commit's broadcast: whether each client took any bytes since the
 * previous one (a client that has stopped reading is not let off into
 * catch-up: it keeps being sent frames and is dropped at CONN_QUEUE_MAX);
 * a client catching up that has taken nothing for CONN_STALL_MS is dropped. */
static void srv_check_progress(struct server *srv)
{
	int64_t now = time_mono_ms();
	for (size_t i = 0; i < srv->conns.n; i++) {
		struct conn *c = srv->conns.v[i];
		if (c->closing || !c->stream)
			continue;
		size_t queued = evbuffer_get_length(bufferevent_get_output(c->bev));
		uint64_t drained = c->out_added - queued;
		c->reading = queued == 0 || drained > c->seen_drained;
		if (drained > c->seen_drained)
			c->progress_ms = now;
		c->seen_drained = drained;
		if (c->lagging && now - c->progress_ms > CONN_STALL_MS) {
			srv_log(srv, "client %d (%s) dropped: too slow: took nothing for %d s while "
				"%llu journal bytes behind", c->id, c->user, CONN_STALL_MS / 1000,
				(unsigned long long)(srv->sent_off - c->snap_off));
			conn_cut_queue(c);
			conn_bye(c, "too slow: output queue full");
		}
	}
}

/* The line at buf[0..len) (no newline), journal offset off, as an event
 * frame to every live client; a reading client with CONN_LAG_MARK unsent
 * goes back to catching up from off instead. */
static void srv_broadcast_line(struct server *srv, const char *line, size_t len, uint64_t off,
			       struct sbuf *frame)
{
	static const char head[] = "{\"t\":\"event\",\"event\":";
	size_t n = sizeof head - 1 + len + 1;
	if (n > PROTO_MAX_FRAME)
		return; /* as before: an event too large for a frame is not broadcast */
	sbuf_reset(frame);
	char hdr[4] = {(char)((n >> 24) & 0xff), (char)((n >> 16) & 0xff), (char)((n >> 8) & 0xff),
		       (char)(n & 0xff)};
	sbuf_add(frame, hdr, 4);
	sbuf_add(frame, head, sizeof head - 1);
	sbuf_add(frame, line, len);
	sbuf_addc(frame, '}');
	for (size_t i = 0; i < srv->conns.n; i++) {
		struct conn *c = srv->conns.v[i];
		if (c->phase != CONN_LIVE || !c->stream || c->closing)
			continue;
		if (c->reading &&
		    evbuffer_get_length(bufferevent_get_output(c->bev)) >= CONN_LAG_MARK) {
			c->phase = CONN_SNAPSHOT;
			c->lagging = true;
			c->snap_off = off;
			c->progress_ms = time_mono_ms();
			continue;
		}
		conn_write(c, frame->buf, frame->len);
	}
}

/* The events journaled in [from, to) to the live clients, read back from
 * the file (each line is the event exactly as a frame carries it). */
static void srv_broadcast_events(struct server *srv, uint64_t from, uint64_t to)
{
	bool any = false;
	for (size_t i = 0; i < srv->conns.n && !any; i++) {
		const struct conn *c = srv->conns.v[i];
		any = c->phase == CONN_LIVE && c->stream && !c->closing;
	}
	if (!any || to <= from)
		return;
	struct sbuf frame;
	sbuf_init(&frame);
	size_t cap = BROADCAST_CHUNK;
	char *buf = NULL;
	uint64_t off = from;
	while (off < to) {
		size_t want = (size_t)(to - off < cap ? to - off : cap);
		buf = xrealloc(buf, want);
		ssize_t n = pread_all(srv->snap_fd, buf, want, off);
		if (n <= 0) {
			srv_log(srv, "broadcast read of %s failed: %s", srv->journal_path,
				n < 0 ? strerror(errno) : "short file");
			break;
		}
		size_t used = 0;
		for (;;) {
			char *nl = memchr(buf + used, '\n', (size_t)n - used);
			if (!nl)
				break;
			size_t len = (size_t)(nl - (buf + used));
			if (len)
				srv_broadcast_line(srv, buf + used, len, off + used, &frame);
			used += len + 1;
		}
		if (used == 0) {
			if (cap >= PROTO_MAX_FRAME) {
				/* one line longer than any frame: skip to its end */
				char *nl = NULL;
				uint64_t at = off + (uint64_t)n;
				char tmp[4096];
				while (!nl && at < to) {
					ssize_t m = pread_all(srv->snap_fd, tmp,
							      (size_t)(to - at < sizeof tmp ? to - at
											: sizeof tmp), at);
					if (m <= 0)
						break;
					nl = memchr(tmp, '\n', (size_t)m);
					at += nl ? (uint64_t)(nl - tmp) + 1 : (uint64_t)m;
				}
				off = at;
				continue;
			}
			cap *= 2;
			continue;
		}
		off += used;
	}
	free(buf);
	sbuf_free(&frame);
}

static void srv_commit(struct server *srv)
{
	char err[256];
	if (!journal_sync(srv->journal, err, sizeof err)) {
		/* Nothing appended since the last sync may be acknowledged, and
		 * the folded state is ahead of what is durable: stop, so a
		 * restart replays exactly what the file holds. */
		srv_log(srv, "journal write failed: %s; stopping", err);
		char msg[320];
		snprintf(msg, sizeof msg, "journal write failed: %s", err);
		for (size_t i = 0; i < srv->replies.n; i++) {
			struct reply *r = srv->replies.v[i];
			if (r->ok) {
				r->ok = false;
				str_set(&r->error, msg);
			}
		}
		srv_send_replies(srv);
		srv_stop(srv, 1);
		return;
	}
	srv->synced_seq = journal_last_seq(srv->journal);
	srv_send_replies(srv);
	uint64_t from = srv->sent_off, to = journal_synced_bytes(srv->journal);
	srv_check_progress(srv);
	srv_broadcast_events(srv, from, to);
	srv->sent_off = to;
	for (size_t i = 0; i < srv->conns.n; i++) {
		struct conn *c = srv->conns.v[i];
		if (c->phase == CONN_SNAPSHOT)
			conn_pump_snapshot(c);
	}
	if (srv->analysis_due && !srv->stopping) {
		srv->analysis_due = false;
		analysis_on_change(srv);
	}
}

/* Runs after every I/O callback of the loop pass (lower priority). */
static void srv_commit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	srv->commit_scheduled = false;
	srv_commit(srv);
}

/* ---- ephemeral broadcast ------------------------------------------------- */

static cJSON *srv_ephemeral_json(struct server *srv)
{
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "t", "ephemeral");
	cJSON_AddItemToObject(m, "series", state_series_to_json(srv->state));
	cJSON_AddItemToObject(m, "backends", state_backends_to_json(srv->state));
	cJSON *arr = cJSON_AddArrayToObject(m, "clients");
	for (size_t i = 0; i < srv->state->clients.n; i++) {
		const struct client_info *ci = srv->state->clients.v[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", ci->id);
		cJSON_AddStringToObject(o, "user", ci->user ? ci->user : "?");
		cJSON_AddStringToObject(o, "mode", ci->mode ? ci->mode : "viewer");
		cJSON_AddNumberToObject(o, "last_active", (double)ci->last_active);
		if (ci->focus)
			cJSON_AddStringToObject(o, "focus", ci->focus);
		else
			cJSON_AddNullToObject(o, "focus");
		cJSON_AddItemToArray(arr, o);
	}
	return m;
}

static void srv_eph_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	cJSON *m = srv_ephemeral_json(srv);
	size_t len;
	char *frame = proto_encode(m, &len);
	cJSON_Delete(m);
	if (frame)
		srv_broadcast_frame(srv, frame, len);
	free(frame);
}

/* Coalesces ephemeral changes into one broadcast per interval. */
static void srv_ephemeral_dirty(struct server *srv)
{
	if (!srv->eph_timer || evtimer_pending(srv->eph_timer, NULL))
		return;
	struct timeval tv = {0, EPHEMERAL_INTERVAL_MS * 1000};
	evtimer_add(srv->eph_timer, &tv);
}

/* ---- snapshot ------------------------------------------------------------ */

static void conn_send_synced(struct conn *c)
{
	cJSON *m = srv_ephemeral_json(c->srv);
	conn_send(c, m);
	cJSON_Delete(m);
	m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "t", "synced");
	cJSON_AddNumberToObject(m, "seq", (double)c->srv->synced_seq);
	conn_send(c, m);
	cJSON_Delete(m);
	c->phase = CONN_LIVE;
}

static ssize_t pread_all(int fd, char *buf, size_t len, uint64_t off)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Sends the next chunk(s) of the durable journal prefix while the client's
 * output is nearly empty; when it has caught up with what is synced, sends
 * ephemeral + synced and the client joins the live stream. The file is the
 * snapshot: the server keeps no list of events. */
static void conn_pump_snapshot(struct conn *c)
{
	struct server *srv = c->srv;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	while (c->phase == CONN_SNAPSHOT && !c->closing &&
	       evbuffer_get_length(out) < SNAPSHOT_LOW_WATER) {
		uint64_t end = srv->sent_off;
		if (c->snap_off >= end) {
			c->lagging = false;
			conn_send_synced(c);
			return;
		}
		size_t cap = SNAPSHOT_CHUNK;
		char *buf = NULL;
		size_t take = 0;
		for (;;) {
			size_t want = (size_t)((end - c->snap_off) < cap ? end - c->snap_off : cap);
			buf = xrealloc(buf, want + 1);
			ssize_t n = pread_all(srv->snap_fd, buf, want, c->snap_off);
			if (n <= 0) {
				srv_log(srv, "snapshot read of %s failed: %s", srv->journal_path,
					n < 0 ? strerror(errno) : "short file");
				free(buf);
				conn_bye(c, "server could not read its journal");
				return;
			}
			char *nl = memrchr(buf, '\n', (size_t)n);
			if (nl) {
				take = (size_t)(nl - buf) + 1;
				break;
			}
			if (cap >= SNAPSHOT_LINE_MAX) {
				/* One absurd line: skip it rather than stall the client. */
				uint64_t skip = c->snap_off + (uint64_t)n;
				char tmp[4096];
				for (;;) {
					ssize_t m = pread_all(srv->snap_fd, tmp, sizeof tmp, skip);
					if (m <= 0)
						break;
					char *p = memchr(tmp, '\n', (size_t)m);
					if (p) {
						skip += (uint64_t)(p - tmp) + 1;
						break;
					}
					skip += (uint64_t)m;
				}
				srv_log(srv, "snapshot: line at byte %llu of %s is longer than %u bytes; "
					"not sent", (unsigned long long)c->snap_off, srv->journal_path,
					SNAPSHOT_LINE_MAX);
				c->snap_off = skip;
				take = 0;
				break;
			}
			cap = cap * 2 > SNAPSHOT_LINE_MAX ? SNAPSHOT_LINE_MAX : cap * 2;
		}
		if (take) {
			buf[take] = '\0';
			cJSON *m = cJSON_CreateObject();
			cJSON_AddStringToObject(m, "t", "events");
			cJSON_AddStringToObject(m, "lines", buf);
			conn_send(c, m);
			cJSON_Delete(m);
			c->snap_off += take;
		}
		free(buf);
	}
}

/* ---- rights -------------------------------------------------------------- */

bool server_is_operator(const struct server *srv, const char *user)
{
	const struct config *cfg = srv->cfg;
	if (!cfg || cfg->operators.n == 0)
		return str_eq(user, srv->self_user);
	for (size_t i = 0; i < cfg->operators.n; i++)
		if (str_eq(cfg->operators.v[i], user))
			return true;
	return false;
}

static void held_roles(const struct state *st, const char *user, char *buf, size_t len)
{
	buf[0] = '\0';
	size_t used = 0;
	for (int r = 0; r < ROLE__COUNT; r++)
		if (state_user_holds(st, user, (enum role)r)) {
			int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
					 role_label((enum role)r));
			if (n < 0 || (size_t)n >= len - used)
				break;
			used += (size_t)n;
		}
	if (!used)
		snprintf(buf, len, "none");
}

/* The one place rights are enforced: every intent passes here first. */
static bool srv_check_right(struct server *srv, struct conn *c, enum intent_kind k, char *err,
			    size_t errlen)
{
	const struct intent_def *d = intent_def(k);
	if (d->right == RIGHT_ANY)
		return true;
	/* a replay is everyone's to pause and seek: nobody there can change the incident */
	if (d->right == RIGHT_PLAYBACK) {
		if (srv->replay)
			return true;
		snprintf(err, errlen, "%s: this is not a replay session", d->name);
		return false;
	}
	if (!c->may_operate) {
		if (c->listed)
			snprintf(err, errlen, "read-only: %s attached read-only", c->user);
		else if (srv->cfg && srv->cfg->operators.n == 0)
			snprintf(err, errlen, "read-only: %s is not an operator (see [access] "
				 "operators; without it only %s may act)", c->user, srv->self_user);
		else
			snprintf(err, errlen, "read-only: %s is not an operator (see [access] "
				 "operators)", c->user);
		return false;
	}
	enum role need = ROLE__COUNT;
	const char *words = NULL;
	switch (d->right) {
	case RIGHT_IC:
		words = "the Incident Commander role";
		break;
	case RIGHT_MITIGATE:
		need = ROLE_PRIMARY;
		words = "the Primary on-call or Incident Commander role";
		break;
	case RIGHT_EXTERNAL:
		need = ROLE_EXTERNAL_COMMS;
		words = "the External Comms or Incident Commander role";
		break;
	case RIGHT_INTERNAL:
		need = ROLE_INTERNAL_COMMS;
		words = "the Internal Comms or Incident Commander role";
		break;
	default: /* operator, approver (the requester check is the runner's) */
		return true;
	}
	if (state_user_holds(srv->state, c->user, ROLE_IC) ||
	    (need != ROLE__COUNT && state_user_holds(srv->state, c->user, need)))
		return true;
	char held[160];
	held_roles(srv->state, c->user, held, sizeof held);
	snprintf(err, errlen, "%s needs %s (you hold %s)", d->name, words, held);
	return false;
}

/* ---- intent handlers ----------------------------------------------------- */

enum handled { H_OK, H_REFUSED, H_DEFERRED };

struct call {
	struct server *srv;
	struct conn *c;
	double id;
	const cJSON *args;
	cJSON *result;
	char err[512];
};

typedef enum handled (*intent_fn)(struct call *k);

static const char *arg_str(const struct call *k, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(k->args, name);
	return cJSON_IsString(it) ? it->valuestring : NULL;
}

static enum handled refuse(struct call *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static enum handled refuse(struct call *k, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(k->err, sizeof k->err, fmt, ap);
	va_end(ap);
	return H_REFUSED;
}

static enum handled emit(struct call *k, enum event_kind kind, cJSON *data)
{
	struct wr_event *ev = wr_event_new(kind, k->c->user, data);
	if (!srv_append(k->srv, ev, k->err, sizeof k->err))
		return H_REFUSED;
	k->result = cJSON_CreateObject();
	cJSON_AddNumberToObject(k->result, "seq", (double)journal_last_seq(k->srv->journal));
	return H_OK;
}

static bool valid_user(const char *u)
{
	size_t n = u ? strlen(u) : 0;
	if (n == 0 || n > USER_MAX)
		return false;
	for (const unsigned char *p = (const unsigned char *)u; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

static enum handled h_state(struct call *k)
{
	k->result = state_to_json_raw(k->srv->state);
	return H_OK;
}

static enum handled h_note(struct call *k)
{
	const char *text = arg_str(k, "text");
	size_t n = strlen(text);
	if (strspn(text, " \t\r\n") == n)
		return refuse(k, "note: the text is empty");
	if (n > NOTE_MAX)
		return refuse(k, "note: too long (%zu bytes, at most %d)", n, NOTE_MAX);
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "text", text);
	return emit(k, EV_NOTE, d);
}

static int parse_role(struct call *k, const char *id)
{
	int r = role_from_id(id);
	if (r < 0) {
		char list[128] = "";
		for (int i = 0; i < ROLE__COUNT; i++) {
			strcat(list, i ? " " : "");
			strcat(list, role_id((enum role)i));
		}
		refuse(k, "unknown role '%s' (one of: %s)", id, list);
	}
	return r;
}

static enum handled h_assign(struct call *k)
{
	int r = parse_role(k, arg_str(k, "role"));
	if (r < 0)
		return H_REFUSED;
	const char *user = arg_str(k, "user");
	if (!valid_user(user))
		return refuse(k, "assign: '%s' is not a user name", user);
	if (state_user_holds(k->srv->state, user, (enum role)r))
		return refuse(k, "%s already holds %s", user, role_label((enum role)r));
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "role", role_id((enum role)r));
	cJSON_AddStringToObject(d, "user", user);
	return emit(k, EV_ROLE_ASSIGNED, d);
}

static enum handled h_release(struct call *k)
{
	int r = parse_role(k, arg_str(k, "role"));
	if (r < 0)
		return H_REFUSED;
	const struct state *st = k->srv->state;
	const char *user = arg_str(k, "user");
	if (user && *user && !state_user_holds(st, user, (enum role)r))
		return refuse(k, "%s does not hold %s", user, role_label((enum role)r));
	bool held = r == ROLE_SECONDARY ? st->secondaries.n > 0 : st->roles[r] != NULL;
	if (!held)
		return refuse(k, "nobody holds %s", role_label((enum role)r));
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "role", role_id((enum role)r));
	if (user && *user)
		cJSON_AddStringToObject(d, "user", user);
	return emit(k, EV_ROLE_RELEASED, d);
}

static enum handled h_set_state(struct call *k)
{
	const char *s = arg_str(k, "state");
	int v = incident_state_from_name(s);
	if (v < 0 || v == INC_DECLARED)
		return refuse(k, "unknown incident state '%s' (one of: investigating identified "
			      "monitoring resolved)", s);
	if ((enum incident_state)v == k->srv->state->inc_state)
		return refuse(k, "the incident is already %s", s);
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "state", incident_state_name((enum incident_state)v));
	return emit(k, EV_INCIDENT_STATE, d);
}

static enum handled h_severity(struct call *k)
{
	const char *s = arg_str(k, "severity");
	char sev[8];
	if (strlen(s) != 4 || strncasecmp(s, "sev", 3) != 0 || s[3] < '1' || s[3] > '4')
		return refuse(k, "unknown severity '%s' (one of: SEV1 SEV2 SEV3 SEV4)", s);
	snprintf(sev, sizeof sev, "SEV%c", s[3]);
	if (str_eq(k->srv->state->severity, sev))
		return refuse(k, "the severity is already %s", sev);
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "severity", sev);
	return emit(k, EV_INCIDENT_SEVERITY, d);
}

static enum handled h_rollback(struct call *k)
{
	return actions_rollback(k->srv->actions, k->c->user, k->args, &k->result, k->err,
				sizeof k->err) ? H_OK : H_REFUSED;
}

static enum handled h_approve(struct call *k)
{
	return actions_approve(k->srv->actions, k->c->user, arg_str(k, "id"), k->err,
			       sizeof k->err) ? H_OK : H_REFUSED;
}

static enum handled h_cancel(struct call *k)
{
	return actions_cancel(k->srv->actions, k->c->user, arg_str(k, "id"), k->err,
			      sizeof k->err) ? H_OK : H_REFUSED;
}

static enum handled h_update(struct call *k)
{
	return actions_update(k->srv->actions, k->c->user, k->args, &k->result, k->err,
			      sizeof k->err) ? H_OK : H_REFUSED;
}

/* A silence runs in the alert source's backend; the reply waits for it. */
struct silence_req {
	struct server *srv;
	int conn_id;
	double id;
	bool expire;
};

static void silence_done(void *arg, const struct backend_result *res)
{
	struct silence_req *sr = arg;
	cJSON *result = NULL;
	if (res->ok) {
		result = cJSON_CreateObject();
		if (res->ref[0])
			cJSON_AddStringToObject(result, "silence_id", res->ref);
	}
	srv_queue_reply(sr->srv, sr->conn_id, sr->id, res->ok,
			res->ok ? NULL : (res->error[0] ? res->error : "silence failed"), result);
	free(sr);
}

static struct backend_inst *srv_backend_named(struct server *srv, const char *family,
					      const char *name)
{
	for (size_t i = 0; i < srv->backends.n; i++) {
		struct backend_inst *b = srv->backends.v[i];
		if (str_eq(b->sec->family, family) && str_eq(b->sec->name, name))
			return b;
	}
	return NULL;
}

static enum handled silence_common(struct call *k, bool expire)
{
	const char *id = arg_str(k, "id");
	struct alert *a = state_find_alert(k->srv->state, id);
	if (!a)
		return refuse(k, "no alert %s", id);
	if (expire && a->status != ALERT_SILENCED)
		return refuse(k, "alert %s is not silenced", id);
	if (!expire && a->status == ALERT_RESOLVED)
		return refuse(k, "alert %s is resolved", id);
	struct backend_inst *b = srv_backend_named(k->srv, "alerts", a->source);
	if (!b || !b->bc->silence)
		return refuse(k, "source %s cannot silence", a->source ? a->source : "?");
	int minutes = 60;
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(k->args, "minutes");
	if (cJSON_IsNumber(m)) {
		if (m->valuedouble < 1 || m->valuedouble > 7 * 24 * 60)
			return refuse(k, "silence: minutes must be between 1 and %d", 7 * 24 * 60);
		minutes = (int)m->valuedouble;
	}
	const char *comment = arg_str(k, "comment");
	char def[160];
	if (!comment || !*comment) {
		snprintf(def, sizeof def, "silenced from warroom by %s", k->c->user);
		comment = def;
	}
	struct silence_req *sr = xcalloc(1, sizeof *sr);
	sr->srv = k->srv;
	sr->conn_id = k->c->id;
	sr->id = k->id;
	sr->expire = expire;
	const struct backend_job_cbs cbs = {.done = silence_done, .arg = sr};
	/* minutes 0 asks the source to expire the alert's current silence */
	cJSON *labels = pairs_to_json(a->labels);
	b->bc->silence(b->self, &k->srv->host, a->id, labels, expire ? 0 : minutes, comment,
		       k->c->user, &cbs);
	cJSON_Delete(labels);
	return H_DEFERRED;
}

static enum handled h_silence(struct call *k)
{
	return silence_common(k, false);
}

static enum handled h_unsilence(struct call *k)
{
	return silence_common(k, true);
}

static enum handled h_point(struct call *k)
{
	const char *target = arg_str(k, "target");
	if (strlen(target) > 256)
		return refuse(k, "point: target too long");
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "t", "point");
	cJSON_AddStringToObject(m, "by", k->c->user);
	cJSON_AddStringToObject(m, "target", target);
	size_t len;
	char *frame = proto_encode(m, &len);
	cJSON_Delete(m);
	if (frame)
		srv_broadcast_frame(k->srv, frame, len);
	free(frame);
	return H_OK;
}

static enum handled h_replay(struct call *k)
{
	struct replay *r = k->srv->replay;
	if (!r)
		return refuse(k, "replay: this is not a replay session");
	const char *op = arg_str(k, "op");
	const cJSON *arg = cJSON_GetObjectItemCaseSensitive(k->args, "arg");
	if (!str_eq(op, "status") &&
	    !replay_control(r, op, cJSON_IsNumber(arg) ? arg->valuedouble : 0, k->err, sizeof k->err))
		return H_REFUSED;
	struct replay_status rs;
	replay_get_status(r, &rs);
	k->result = cJSON_CreateObject();
	cJSON_AddNumberToObject(k->result, "done", (double)rs.done);
	cJSON_AddNumberToObject(k->result, "total", (double)rs.total);
	cJSON_AddNumberToObject(k->result, "speed", rs.speed);
	cJSON_AddBoolToObject(k->result, "paused", rs.paused);
	cJSON_AddBoolToObject(k->result, "finished", rs.finished);
	cJSON_AddNumberToObject(k->result, "start", (double)rs.start);
	cJSON_AddNumberToObject(k->result, "position", (double)rs.position);
	cJSON_AddNumberToObject(k->result, "end", (double)rs.end);
	return H_OK;
}

static const intent_fn intent_handlers[INT__COUNT] = {
	[INT_STATE] = h_state,
	[INT_NOTE] = h_note,
	[INT_ASSIGN] = h_assign,
	[INT_RELEASE] = h_release,
	[INT_SET_STATE] = h_set_state,
	[INT_SET_SEVERITY] = h_severity,
	[INT_ROLLBACK] = h_rollback,
	[INT_APPROVE] = h_approve,
	[INT_CANCEL] = h_cancel,
	[INT_UPDATE] = h_update,
	[INT_SILENCE] = h_silence,
	[INT_UNSILENCE] = h_unsilence,
	[INT_POINT] = h_point,
	[INT_REPLAY] = h_replay,
};

/* ---- messages from clients ----------------------------------------------- */

static void conn_on_hello(struct conn *c, const cJSON *msg)
{
	struct server *srv = c->srv;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(msg, "v");
	if (!cJSON_IsNumber(v) || (int)v->valuedouble != PROTO_VERSION) {
		char why[128];
		if (cJSON_IsNumber(v))
			snprintf(why, sizeof why, "protocol version %g not supported (server speaks %d)",
				 v->valuedouble, PROTO_VERSION);
		else
			snprintf(why, sizeof why, "hello without a protocol version (server speaks %d)",
				 PROTO_VERSION);
		conn_bye(c, why);
		return;
	}
	bool read_only = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(msg, "read_only"));
	c->interactive = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(msg, "interactive"));
	/* One-shot verbs send "snapshot":false: no snapshot and no stream. */
	c->stream = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(msg, "snapshot"));
	c->listed = server_is_operator(srv, c->user);
	c->may_operate = c->listed && !read_only && !srv->opts->replay;
	bufferevent_set_timeouts(c->bev, NULL, NULL);

	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "t", "welcome");
	cJSON_AddNumberToObject(m, "v", PROTO_VERSION);
	cJSON_AddStringToObject(m, "user", c->user);
	cJSON_AddNumberToObject(m, "client", c->id);
	cJSON_AddBoolToObject(m, "operator", c->may_operate);
	cJSON_AddNumberToObject(m, "server_pid", (double)getpid());
	conn_send(c, m);
	cJSON_Delete(m);

	/* watching a replay is not part of the incident it replays */
	if (c->interactive && !srv->opts->replay) {
		cJSON *d = cJSON_CreateObject();
		cJSON_AddNumberToObject(d, "client", c->id);
		cJSON_AddStringToObject(d, "user", c->user);
		cJSON_AddStringToObject(d, "mode", c->may_operate ? "operator" : "viewer");
		char err[256];
		if (srv_append(srv, wr_event_new(EV_CLIENT_JOINED, c->user, d), err, sizeof err))
			c->joined = true;
	}
	if (c->stream) {
		c->phase = CONN_SNAPSHOT;
		c->snap_off = 0;
		conn_pump_snapshot(c);
	} else {
		cJSON *s = cJSON_CreateObject();
		cJSON_AddStringToObject(s, "t", "synced");
		cJSON_AddNumberToObject(s, "seq", (double)srv->synced_seq);
		conn_send(c, s);
		cJSON_Delete(s);
		c->phase = CONN_LIVE;
	}
}

static void conn_on_intent(struct conn *c, const cJSON *msg)
{
	struct server *srv = c->srv;
	const cJSON *jid = cJSON_GetObjectItemCaseSensitive(msg, "id");
	const cJSON *jname = cJSON_GetObjectItemCaseSensitive(msg, "name");
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(msg, "args");
	if (!cJSON_IsNumber(jid) || !cJSON_IsString(jname)) {
		conn_bye(c, "malformed intent: needs a numeric id and a name");
		return;
	}
	struct call k = {.srv = srv, .c = c, .id = jid->valuedouble, .args = args};
	if (args && cJSON_IsNull(args))
		k.args = NULL;
	int kind = intent_from_name(jname->valuestring);
	enum handled h;
	if (kind < 0)
		h = refuse(&k, "unknown intent '%.64s'", jname->valuestring);
	else if (!intent_validate((enum intent_kind)kind, k.args, k.err, sizeof k.err))
		h = H_REFUSED;
	else if (!srv_check_right(srv, c, (enum intent_kind)kind, k.err, sizeof k.err))
		h = H_REFUSED;
	else {
		cJSON *empty = NULL;
		if (!k.args)
			k.args = empty = cJSON_CreateObject();
		h = intent_handlers[kind](&k);
		cJSON_Delete(empty);
		if (c->interactive) {
			struct client_info *ci = state_find_client(srv->state, c->id);
			state_set_client_activity(srv->state, c->id, time_now_ms(), ci ? ci->focus : NULL);
			srv_ephemeral_dirty(srv);
		}
	}
	if (h == H_REFUSED)
		srv_log(srv, "refused %s from %s: %s", kind >= 0 ? intent_def(kind)->name : "intent",
			c->user, k.err);
	if (h != H_DEFERRED)
		srv_queue_reply(srv, c->id, k.id, h == H_OK, h == H_OK ? NULL : k.err, k.result);
	else
		cJSON_Delete(k.result);
}

static void conn_on_focus(struct conn *c, const cJSON *msg)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(msg, "focus");
	if (!cJSON_IsString(f) || strlen(f->valuestring) > 256)
		return;
	state_set_client_activity(c->srv->state, c->id, time_now_ms(), f->valuestring);
	srv_ephemeral_dirty(c->srv);
}

static void conn_on_message(struct conn *c, const cJSON *msg)
{
	const char *t = cJSON_GetObjectItemCaseSensitive(msg, "t")->valuestring;
	if (c->phase == CONN_HELLO) {
		if (strcmp(t, "hello") == 0)
			conn_on_hello(c, msg);
		else
			conn_bye(c, "expected hello first");
		return;
	}
	if (strcmp(t, "intent") == 0)
		conn_on_intent(c, msg);
	else if (strcmp(t, "focus") == 0)
		conn_on_focus(c, msg);
	else if (strcmp(t, "hello") == 0)
		conn_bye(c, "hello sent twice");
	else
		conn_bye(c, "unknown message type");
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	while (!c->closing) {
		size_t len = evbuffer_get_length(in);
		if (len < 4)
			return;
		unsigned char *hdr = evbuffer_pullup(in, 4);
		size_t need = ((size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 |
			       hdr[3]) + 4;
		cJSON *msg = NULL;
		size_t used = 0;
		char err[160];
		/* The header alone is enough to refuse an oversized frame. */
		size_t look = need > PROTO_MAX_CLIENT_FRAME + 4 ? 4 : need;
		if (len < look)
			return;
		unsigned char *buf = evbuffer_pullup(in, (ev_ssize_t)look);
		enum proto_result r = proto_decode(buf, look, PROTO_MAX_CLIENT_FRAME, &msg, &used,
						   err, sizeof err);
		if (r == PROTO_NEED_MORE)
			return;
		if (r == PROTO_ERROR) {
			srv_log(c->srv, "client %d (%s): %s", c->id, c->user, err);
			evbuffer_drain(in, len);
			conn_bye(c, err);
			return;
		}
		evbuffer_drain(in, used);
		conn_on_message(c, msg);
		cJSON_Delete(msg);
	}
	evbuffer_drain(in, evbuffer_get_length(in));
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	if (c->closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			conn_free(c, NULL);
		return;
	}
	if (c->phase == CONN_SNAPSHOT)
		conn_pump_snapshot(c);
	if (c->big)
		conn_pump_big(c);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	if (what & BEV_EVENT_TIMEOUT) {
		if (c->closing) {
			conn_free(c, NULL);
		} else {
			char why[64];
			snprintf(why, sizeof why, "no hello within %d s", HELLO_TIMEOUT_S);
			conn_bye(c, why);
		}
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_free(c, (what & BEV_EVENT_ERROR) ? "connection error" : "disconnected");
}

static void conn_free(struct conn *c, const char *reason)
{
	struct server *srv = c->srv;
	if (c->joined && !srv->stopping) {
		cJSON *d = cJSON_CreateObject();
		cJSON_AddNumberToObject(d, "client", c->id);
		cJSON_AddStringToObject(d, "user", c->user);
		cJSON_AddStringToObject(d, "reason", c->bye_reason ? c->bye_reason
							 : reason ? reason : "closed");
		char err[256];
		srv_append(srv, wr_event_new(EV_CLIENT_LEFT, c->user, d), err, sizeof err);
	}
	for (size_t i = 0; i < srv->conns.n; i++)
		if (srv->conns.v[i] == c) {
			ptrvec_remove(&srv->conns, i);
			break;
		}
	bufferevent_free(c->bev);
	free(c->user);
	free(c->bye_reason);
	free(c->ends);
	free(c->big);
	free(c);
	if (srv->stopping && srv->conns.n == 0)
		event_base_loopbreak(srv->base);
}

static void srv_accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
			  int socklen, void *arg)
{
	struct server *srv = arg;
	struct ucred cred;
	socklen_t cl = sizeof cred;
	if (srv->stopping || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0) {
		close(fd);
		return;
	}
	struct conn *c = xcalloc(1, sizeof *c);
	c->srv = srv;
	c->id = ++srv->max_client_id;
	c->uid = cred.uid;
	c->user = user_name(cred.uid);
	c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev) {
		close(fd);
		free(c->user);
		free(c);
		return;
	}
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, SNAPSHOT_LOW_WATER, 0);
	struct timeval tv = {HELLO_TIMEOUT_S, 0};
	bufferevent_set_timeouts(c->bev, &tv, NULL);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	ptrvec_push(&srv->conns, c);
}

/* ---- API for backends, actions and the demo ------------------------------ */

struct server *server_current(void)
{
	return server_running;
}

struct event_base *server_base(struct server *srv)
{
	return srv ? srv->base : NULL;
}

const struct state *server_state(struct server *srv)
{
	return srv ? srv->state : NULL;
}

const struct config *server_config(struct server *srv)
{
	return srv ? srv->cfg : NULL;
}

bool server_emit(struct server *srv, struct wr_event *ev)
{
	if (!srv || !ev) {
		wr_event_free(ev);
		return false;
	}
	char err[256];
	return srv_append(srv, ev, err, sizeof err);
}

void server_set_series(struct server *srv, const char *service, int64_t *t, double *v, size_t n)
{
	if (!srv) {
		free(t);
		free(v);
		return;
	}
	state_set_series(srv->state, service, t, v, n);
	srv->analysis_due = true;
	srv_schedule_commit(srv);
	srv_ephemeral_dirty(srv);
}

void server_set_backend(struct server *srv, const char *name, const char *kind, bool ok,
			const char *error)
{
	if (!srv)
		return;
	state_set_backend(srv->state, name, kind, ok, error, time_now_ms());
	srv_ephemeral_dirty(srv);
}

static void host_emit(void *arg, struct wr_event *ev)
{
	server_emit(arg, ev);
}

static void host_health(void *arg, const char *name, const char *kind, bool ok, const char *error)
{
	server_set_backend(arg, name, kind, ok, error);
}

static void host_series(void *arg, const char *service, int64_t *t, double *v, size_t n)
{
	server_set_series(arg, service, t, v, n);
}

static const struct state *host_state(void *arg)
{
	return server_state(arg);
}

/* ---- backends ------------------------------------------------------------ */

static bool family_polls(const char *family)
{
	return str_eq(family, "alerts") || str_eq(family, "metrics") || str_eq(family, "deploys");
}

static void srv_start_backends(struct server *srv)
{
	const struct config *cfg = srv->cfg;
	for (size_t i = 0; cfg && i < cfg->sections.n; i++) {
		const struct config_section *sec = cfg->sections.v[i];
		if (!family_polls(sec->family))
			continue;
		const struct backend_class *bc = backend_find(sec->family, sec->type);
		if (!bc) {
			char why[160];
			snprintf(why, sizeof why, "type %s not built in", sec->type ? sec->type : "?");
			srv_log(srv, "warning: [%s %s]: %s", sec->family, sec->name, why);
			state_set_backend(srv->state, sec->name, sec->type ? sec->type : sec->family,
					  false, why, time_now_ms());
			continue;
		}
		char err[512] = "";
		void *self = bc->configure ? bc->configure(sec, cfg->path, err, sizeof err) : NULL;
		if (!self) {
			srv_log(srv, "warning: [%s %s]: %s", sec->family, sec->name,
				err[0] ? err : "cannot be configured");
			state_set_backend(srv->state, sec->name, sec->type, false,
					  err[0] ? err : "cannot be configured", time_now_ms());
			continue;
		}
		struct backend_inst *b = xcalloc(1, sizeof *b);
		b->bc = bc;
		b->sec = sec;
		b->self = self;
		ptrvec_push(&srv->backends, b);
		if (bc->start)
			bc->start(self, &srv->host);
	}
}

static void srv_stop_backends(struct server *srv)
{
	for (size_t i = 0; i < srv->backends.n; i++) {
		struct backend_inst *b = srv->backends.v[i];
		if (b->bc->stop)
			b->bc->stop(b->self);
	}
	for (size_t i = 0; i < srv->backends.n; i++) {
		struct backend_inst *b = srv->backends.v[i];
		if (b->bc->free)
			b->bc->free(b->self);
	}
	ptrvec_free(&srv->backends, free);
}

/* ---- signals and shutdown ------------------------------------------------ */

static void srv_stop_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	event_base_loopbreak(srv->base);
}

/* Clean stop: journal who was attached, sync, say bye, wait briefly for
 * the byes to be written. */
static void srv_stop(struct server *srv, int code)
{
	if (srv->stopping)
		return;
	if (code > srv->exit_code)
		srv->exit_code = code;
	if (srv->listener)
		evconnlistener_disable(srv->listener);
	if (code == 0) {
		for (size_t i = 0; i < srv->conns.n; i++) {
			struct conn *c = srv->conns.v[i];
			if (!c->joined)
				continue;
			cJSON *d = cJSON_CreateObject();
			cJSON_AddNumberToObject(d, "client", c->id);
			cJSON_AddStringToObject(d, "user", c->user);
			cJSON_AddStringToObject(d, "reason", "server stopped");
			char err[256];
			srv_append(srv, wr_event_new(EV_CLIENT_LEFT, c->user, d), err, sizeof err);
			c->joined = false;
		}
		srv_commit(srv);
	}
	srv->stopping = true;
	for (size_t i = 0; i < srv->conns.n; i++)
		conn_bye(srv->conns.v[i], code ? "server stopped after a journal failure"
					       : "server shutting down");
	if (srv->conns.n == 0) {
		event_base_loopbreak(srv->base);
		return;
	}
	srv->stop_timer = evtimer_new(srv->base, srv_stop_timer_cb, srv);
	struct timeval tv = {1, 0};
	evtimer_add(srv->stop_timer, &tv);
}

static void srv_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;
	if (sig == SIGCHLD) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		return;
	}
	srv_log(srv, "%s: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	srv_stop(srv, 0);
}

/* ---- startup ------------------------------------------------------------- */

static void replay_event(const struct wr_event *ev, void *arg)
{
	struct server *srv = arg;
	state_apply(srv->state, ev);
	if (ev->kind == EV_CLIENT_JOINED) {
		int id = (int)event_num(ev, "client", 0);
		if (id > srv->max_client_id)
			srv->max_client_id = id;
	}
}

static void replay_problem(const char *path, long lineno, const char *msg, void *arg)
{
	srv_log(arg, "%s:%ld: %s", path, lineno, msg);
}

/* Takes the incident's lock: one server per journal. Returns 0, 1 if held. */
static int srv_lock(struct server *srv)
{
	srv->lock_path = xasprintf("%s.lock", srv->journal_path);
	srv->lock_fd = open(srv->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (srv->lock_fd < 0) {
		warn_msg("%s: %s", srv->lock_path, strerror(errno));
		return 1;
	}
	if (flock(srv->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		char buf[32] = "";
		ssize_t n = pread(srv->lock_fd, buf, sizeof buf - 1, 0);
		long pid = n > 0 ? strtol(buf, NULL, 10) : 0;
		if (pid > 0)
			warn_msg("a server already runs for %s (pid %ld)", srv->journal_path, pid);
		else
			warn_msg("a server already runs for %s", srv->journal_path);
		return 1;
	}
	return 0;
}

static void srv_write_pid(struct server *srv)
{
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%d\n", (int)getpid());
	if (ftruncate(srv->lock_fd, 0) == 0 && pwrite(srv->lock_fd, buf, (size_t)n, 0) != n)
		srv_log(srv, "%s: cannot record the pid", srv->lock_path);
}

/* After replay: people the journal still lists as attached are gone. */
static int srv_startup_events(struct server *srv)
{
	char err[256];
	struct ptrvec stale = {0};
	for (size_t i = 0; i < srv->state->clients.n; i++)
		ptrvec_push(&stale, srv->state->clients.v[i]);
	for (size_t i = 0; i < stale.n; i++) {
		const struct client_info *ci = stale.v[i];
		cJSON *d = cJSON_CreateObject();
		cJSON_AddNumberToObject(d, "client", ci->id);
		cJSON_AddStringToObject(d, "user", ci->user ? ci->user : "?");
		cJSON_AddStringToObject(d, "reason", "server restarted");
		struct wr_event *ev = wr_event_new(EV_CLIENT_LEFT, "system", d);
		if (!srv_append(srv, ev, err, sizeof err)) {
			free(stale.v);
			return 1;
		}
	}
	free(stale.v);
	if (srv->state->declared == 0 && !srv->opts->replay) {
		const struct config *cfg = srv->cfg;
		cJSON *d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "title", cfg && cfg->title ? cfg->title : "Incident");
		cJSON_AddStringToObject(d, "severity", cfg && cfg->severity ? cfg->severity : "SEV3");
		if (!srv_append(srv, wr_event_new(EV_INCIDENT_DECLARED, srv->self_user, d), err,
				sizeof err))
			return 1;
	}
	if (!journal_sync(srv->journal, err, sizeof err)) {
		warn_msg("%s", err);
		return 1;
	}
	srv->synced_seq = journal_last_seq(srv->journal);
	/* Nobody is connected yet: nothing to broadcast. */
	srv->sent_off = journal_synced_bytes(srv->journal);
	return 0;
}

/* Creates the listening socket. Returns 0, or an exit code. */
static int srv_listen(struct server *srv)
{
	const char *path = srv->socket_path;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path) {
		warn_msg("socket path too long (%zu bytes, at most %zu): %s; set [incident] socket "
			 "to a shorter path", strlen(path), sizeof sa.sun_path - 1, path);
		return 2;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);

	gid_t gid = (gid_t)-1;
	const char *group = srv->cfg ? srv->cfg->socket_group : NULL;
	if (group && *group) {
		struct group gr, *res = NULL;
		char buf[4096];
		if (getgrnam_r(group, &gr, buf, sizeof buf, &res) != 0 || !res) {
			warn_msg("[access] socket_group: group '%s' does not exist", group);
			return 2;
		}
		gid = res->gr_gid;
	}

	/* The socket's directory: private to us (group-searchable with a group). */
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir_parents(path, 0700) < 0) {
			warn_msg("%s: cannot create directory: %s", dir, strerror(errno));
			return 1;
		}
		struct stat st;
		if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
			warn_msg("%s: not a directory", dir);
			return 1;
		}
		bool ours = st.st_uid == geteuid();
		if (strncmp(dir, "/tmp/warroom-", 13) == 0 && (!ours || (st.st_mode & 0077))) {
			warn_msg("%s: must be a directory owned by you with mode 0700", dir);
			return 1;
		}
		if (ours && gid != (gid_t)-1 && st.st_gid != gid) {
			if (chown(dir, (uid_t)-1, gid) == 0)
				chmod(dir, 0710);
		}
	}

	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			warn_msg("%s exists and is not a socket; not replacing it", path);
			return 1;
		}
		unlink(path); /* stale: we hold the incident's lock */
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		warn_msg("socket: %s", strerror(errno));
		return 1;
	}
	mode_t old = umask(0077);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (rc < 0) {
		warn_msg("%s: bind: %s", path, strerror(errno));
		close(fd);
		return 1;
	}
	srv->socket_bound = true;
	if (gid != (gid_t)-1) {
		if (chown(path, (uid_t)-1, gid) < 0) {
			warn_msg("%s: cannot give the socket to group '%s': %s", path, group,
				 strerror(errno));
			close(fd);
			return 1;
		}
		chmod(path, 0770);
	} else {
		chmod(path, 0700);
	}
	if (listen(fd, 64) < 0) {
		warn_msg("%s: listen: %s", path, strerror(errno));
		close(fd);
		return 1;
	}
	srv->listen_fd = fd;
	return 0;
}

/* fork after the socket listens; the parent exits 0 once the child says it
 * is ready, so `warroom serve && warroom note x` works. */
static int srv_daemonize(struct server *srv, int *ready_fd)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		warn_msg("pipe: %s", strerror(errno));
		return 1;
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		warn_msg("fork: %s", strerror(errno));
		return 1;
	}
	if (pid > 0) {
		close(p[1]);
		char ok = 0;
		ssize_t n;
		do
			n = read(p[0], &ok, 1);
		while (n < 0 && errno == EINTR);
		if (n == 1 && ok == 'k')
			_exit(0);
		warn_msg("the session server did not start; see %s", srv->log_path);
		_exit(1);
	}
	close(p[0]);
	*ready_fd = p[1];
	setsid();
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nul >= 0) {
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(nul, 2);
		if (nul > 2)
			close(nul);
	}
	return 0;
}

static void srv_free(struct server *srv)
{
	replay_free(srv->replay);
	if (srv->actions)
		actions_free(srv->actions);
	srv_stop_backends(srv);
	for (size_t i = 0; i < srv->conns.n; i++) {
		struct conn *c = srv->conns.v[i];
		bufferevent_free(c->bev);
		free(c->user);
		free(c->bye_reason);
		free(c->ends);
		free(c->big);
		free(c);
	}
	free(srv->conns.v);
	ptrvec_free(&srv->replies, reply_free);
	if (srv->listener)
		evconnlistener_free(srv->listener);
	else if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	if (srv->socket_bound)
		unlink(srv->socket_path);
	for (size_t i = 0; i < sizeof srv->sigs / sizeof srv->sigs[0]; i++)
		if (srv->sigs[i])
			event_free(srv->sigs[i]);
	if (srv->commit_ev)
		event_free(srv->commit_ev);
	if (srv->eph_timer)
		event_free(srv->eph_timer);
	if (srv->stop_timer)
		event_free(srv->stop_timer);
	if (srv->base)
		event_base_free(srv->base);
	if (srv->journal)
		journal_close(srv->journal);
	if (srv->snap_fd >= 0)
		close(srv->snap_fd);
	if (srv->state)
		state_free(srv->state);
	if (srv->lock_fd >= 0)
		close(srv->lock_fd);
	if (srv->log && srv->log != stderr)
		fclose(srv->log);
	free(srv->journal_path);
	free(srv->lock_path);
	free(srv->log_path);
	free(srv->self_user);
	if (server_running == srv)
		server_running = NULL;
	free(srv);
}

int server_main(struct config *cfg, const struct server_opts *opts)
{
	static const struct server_opts no_opts;
	if (!opts)
		opts = &no_opts;
	const char *jpath = opts->journal && *opts->journal ? opts->journal
							     : cfg ? cfg->journal : NULL;
	if (!jpath || !*jpath) {
		warn_msg("no journal: set [incident] journal in the configuration");
		return 2;
	}
	heap_prefer_huge_pages();
	struct server *srv = xcalloc(1, sizeof *srv);
	srv->cfg = cfg;
	srv->opts = opts;
	srv->lock_fd = srv->listen_fd = srv->snap_fd = -1;
	srv->log = stderr;
	srv->journal_path = xstrdup(jpath);
	srv->log_path = xasprintf("%s.log", jpath);
	srv->self_user = user_name(geteuid());
	int rc = 0;

	bool ok_path = opts->socket && *opts->socket
			       ? snprintf(srv->socket_path, sizeof srv->socket_path, "%s",
					  opts->socket) < (int)sizeof srv->socket_path
			       : socket_path_for(cfg, jpath, srv->socket_path,
						 sizeof srv->socket_path) != NULL;
	if (!ok_path) {
		warn_msg("socket path too long; set [incident] socket to a shorter path");
		srv_free(srv);
		return 2;
	}
	if (mkdir_parents(jpath, 0700) < 0) {
		warn_msg("%s: cannot create directory: %s", jpath, strerror(errno));
		srv_free(srv);
		return 1;
	}
	if ((rc = srv_lock(srv)) != 0) {
		srv_free(srv);
		return rc;
	}
	if (!opts->foreground) {
		FILE *lf = fopen(srv->log_path, "ae");
		if (!lf) {
			warn_msg("%s: %s", srv->log_path, strerror(errno));
			srv_free(srv);
			return 1;
		}
		srv->log = lf;
	}
	srv_log(srv, "starting on %s (socket %s)", srv->journal_path, srv->socket_path);

	char err[512];
	srv->state = state_new();
	srv->journal = journal_open(jpath, replay_event, replay_problem, srv, err, sizeof err);
	if (!srv->journal) {
		warn_msg("%s", err);
		srv_log(srv, "%s", err);
		srv_free(srv);
		return 1;
	}
	srv->snap_fd = open(jpath, O_RDONLY | O_CLOEXEC);
	if (srv->snap_fd < 0) {
		warn_msg("%s: %s", jpath, strerror(errno));
		srv_free(srv);
		return 1;
	}
	srv_log(srv, "replayed %llu events (last seq %llu)",
		(unsigned long long)journal_count(srv->journal),
		(unsigned long long)journal_last_seq(srv->journal));
	if ((rc = srv_startup_events(srv)) != 0 || (rc = srv_listen(srv)) != 0) {
		srv_log(srv, "startup failed");
		srv_free(srv);
		return rc;
	}

	int ready_fd = -1;
	if (!opts->foreground && (rc = srv_daemonize(srv, &ready_fd)) != 0) {
		srv_free(srv);
		return rc;
	}
	srv_write_pid(srv);
	server_running = srv;

	/* libevent only after the fork: a base does not survive one. */
	struct sigaction sa = {.sa_handler = SIG_IGN};
	sigaction(SIGPIPE, &sa, NULL);
	srv->base = event_base_new();
	if (!srv->base || event_base_priority_init(srv->base, 2) < 0) {
		srv_log(srv, "cannot create the event loop");
		srv_free(srv);
		return 1;
	}
	srv->commit_ev = event_new(srv->base, -1, 0, srv_commit_cb, srv);
	event_priority_set(srv->commit_ev, 1);
	srv->eph_timer = evtimer_new(srv->base, srv_eph_timer_cb, srv);
	const int sigs[] = {SIGTERM, SIGINT, SIGCHLD};
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		srv->sigs[i] = evsignal_new(srv->base, sigs[i], srv_signal_cb, srv);
		event_add(srv->sigs[i], NULL);
	}
	srv->listener = evconnlistener_new(srv->base, srv_accept_cb, srv,
					   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0,
					   srv->listen_fd);
	if (!srv->listener) {
		srv_log(srv, "cannot listen on %s", srv->socket_path);
		srv_free(srv);
		return 1;
	}
	srv->host = (struct backend_host){.base = srv->base, .emit = host_emit,
					  .health = host_health, .series = host_series,
					  .state = host_state, .arg = srv};
	srv_start_backends(srv);
	srv->actions = actions_new(srv);
	actions_resume(srv->actions);
	if (opts->demo)
		demo_start(srv);
	if (opts->replay) {
		srv->replay = replay_start(srv, opts->replay, opts->replay_speed, opts->replay_from_s,
					   err, sizeof err);
		if (!srv->replay) {
			warn_msg("%s", err);
			srv_log(srv, "%s", err);
			srv_free(srv);
			return 1;
		}
	}

	if (ready_fd >= 0) {
		ssize_t n = write(ready_fd, "k", 1);
		(void)n;
		close(ready_fd);
	}
	srv_log(srv, "serving %s on %s", srv->journal_path, srv->socket_path);
	event_base_dispatch(srv->base);

	if (opts->demo)
		demo_stop(srv);
	if (!srv->stopping)
		srv_stop(srv, 0);
	char e2[256];
	journal_sync(srv->journal, e2, sizeof e2);
	srv_log(srv, "stopped");
	rc = srv->exit_code;
	srv_free(srv);
	return rc;
}
