/* Client side of the session protocol. The console uses the non-blocking
 * client inside its libevent loop; the CLI verbs use client_call, a small
 * blocking exchange with a deadline (poll), which only they may use. */
#include "core/client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "core/proto.h"
#include "core/util.h"

struct client {
	struct event_base *base;
	struct bufferevent *bev;
	struct state *st;
	struct client_cbs cbs;
	char *user;
	int id;
	bool op, synced, closed;
	int next_intent;
	struct sbuf parts; /* a large reply arriving in parts */
};

/* Connects without blocking; a full backlog (EAGAIN on a unix socket) is
 * retried until deadline_ms (monotonic). */
static int unix_connect(const char *path, int64_t deadline_ms, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (!path || strlen(path) >= sizeof sa.sun_path) {
		snprintf(err, errlen, "socket path too long: %s", path ? path : "(none)");
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	while (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int e = errno;
		if (e == EINTR)
			continue;
		if (e == EAGAIN && time_mono_ms() < deadline_ms) {
			poll(NULL, 0, 10);
			continue;
		}
		if (e == ENOENT || e == ECONNREFUSED)
			snprintf(err, errlen, "no session at %s", path);
		else if (e == EAGAIN)
			snprintf(err, errlen, "the session at %s is not accepting connections", path);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void client_send(struct client *c, cJSON *msg)
{
	size_t len;
	char *frame = proto_encode(msg, &len);
	cJSON_Delete(msg);
	if (frame && !c->closed)
		bufferevent_write(c->bev, frame, len);
	free(frame);
}

/* ---- incoming messages --------------------------------------------------- */

static void fold(struct client *c, struct wr_event *ev, bool live)
{
	if (!ev)
		return;
	bool applied = state_apply(c->st, ev);
	if (applied && live && c->cbs.on_event)
		c->cbs.on_event(c, ev, c->cbs.arg);
	wr_event_free(ev);
}

static void on_welcome(struct client *c, const cJSON *m)
{
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(m, "user");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "client");
	if (cJSON_IsString(u))
		str_set(&c->user, u->valuestring);
	if (cJSON_IsNumber(id))
		c->id = (int)id->valuedouble;
	c->op = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "operator"));
}

/* Snapshot chunks: journal lines, folded without per-event callbacks (the
 * console redraws once on synced). */
static void on_events(struct client *c, const cJSON *m)
{
	char err[256];
	const cJSON *lines = cJSON_GetObjectItemCaseSensitive(m, "lines");
	if (cJSON_IsString(lines)) {
		const char *p = lines->valuestring;
		while (*p) {
			const char *nl = strchr(p, '\n');
			size_t len = nl ? (size_t)(nl - p) : strlen(p);
			if (len)
				fold(c, event_decode(p, len, err, sizeof err), false);
			p += len + (nl ? 1 : 0);
		}
	}
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(m, "events");
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
		fold(c, event_from_json(it, err, sizeof err), false);
}

static void on_synced(struct client *c, const cJSON *m)
{
	c->synced = true;
	if (c->cbs.on_synced)
		c->cbs.on_synced(c, c->cbs.arg);
}

static void on_event(struct client *c, const cJSON *m)
{
	char err[256];
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(m, "event");
	if (cJSON_IsObject(e))
		fold(c, event_from_json(e, err, sizeof err), true);
}

static void on_ephemeral(struct client *c, const cJSON *m)
{
	const cJSON *series = cJSON_GetObjectItemCaseSensitive(m, "series");
	const cJSON *backends = cJSON_GetObjectItemCaseSensitive(m, "backends");
	if (cJSON_IsArray(series))
		state_series_from_json(c->st, series);
	if (cJSON_IsArray(backends))
		state_backends_from_json(c->st, backends);
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(m, "clients"))
	{
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
		const cJSON *la = cJSON_GetObjectItemCaseSensitive(it, "last_active");
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(it, "focus");
		if (!cJSON_IsNumber(id))
			continue;
		state_set_client_activity(c->st, (int)id->valuedouble,
					  cJSON_IsNumber(la) ? (int64_t)la->valuedouble : 0,
					  cJSON_IsString(f) ? f->valuestring : NULL);
	}
	if (c->cbs.on_ephemeral)
		c->cbs.on_ephemeral(c, c->cbs.arg);
}

static void on_reply_part_text(struct sbuf *parts, const cJSON *m)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(m, "text");
	if (cJSON_IsString(t))
		sbuf_adds(parts, t->valuestring);
}

static void on_reply_part(struct client *c, const cJSON *m)
{
	on_reply_part_text(&c->parts, m);
}

/* A reply sent in parts: the result is the parts' text, joined. */
static cJSON *joined_parts(struct sbuf *parts, const cJSON *m)
{
	if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(m, "parts")))
		return NULL;
	cJSON *res = cJSON_ParseWithLength(parts->buf ? parts->buf : "", parts->len);
	sbuf_reset(parts);
	return res;
}

static void on_reply(struct client *c, const cJSON *m)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(m, "error");
	bool ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "ok"));
	cJSON *joined = joined_parts(&c->parts, m);
	if (c->cbs.on_reply)
		c->cbs.on_reply(c, cJSON_IsNumber(id) ? (int)id->valuedouble : -1, ok,
				cJSON_IsString(e) ? e->valuestring : (ok ? NULL : "refused"),
				joined ? joined : cJSON_GetObjectItemCaseSensitive(m, "result"),
				c->cbs.arg);
	cJSON_Delete(joined);
}

static void on_point(struct client *c, const cJSON *m)
{
	const cJSON *by = cJSON_GetObjectItemCaseSensitive(m, "by");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(m, "target");
	if (c->cbs.on_point && cJSON_IsString(by) && cJSON_IsString(t))
		c->cbs.on_point(c, by->valuestring, t->valuestring, c->cbs.arg);
}

/* Marks the client closed and tells the owner, once. The owner may free the
 * client from on_close, so nothing touches c after this returns. */
static void client_closed(struct client *c, const char *reason)
{
	if (c->closed)
		return;
	c->closed = true;
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	if (c->cbs.on_close)
		c->cbs.on_close(c, reason, c->cbs.arg);
}

static const struct {
	const char *type;
	void (*fn)(struct client *c, const cJSON *m);
} client_handlers[] = {
	{"welcome", on_welcome}, {"events", on_events},	      {"synced", on_synced},
	{"event", on_event},	 {"ephemeral", on_ephemeral}, {"reply", on_reply},
	{"point", on_point},	 {"reply-part", on_reply_part},
};

static void client_read_cb(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	while (!c->closed) {
		size_t len = evbuffer_get_length(in);
		if (len < 4)
			return;
		unsigned char *hdr = evbuffer_pullup(in, 4);
		size_t need = ((size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 |
			       hdr[3]) + 4;
		size_t look = need > PROTO_MAX_FRAME + 4 ? 4 : need;
		if (len < look)
			return;
		cJSON *m = NULL;
		size_t used = 0;
		char err[160];
		enum proto_result r = proto_decode(evbuffer_pullup(in, (ev_ssize_t)look), look,
						   PROTO_MAX_FRAME, &m, &used, err, sizeof err);
		if (r == PROTO_NEED_MORE)
			return;
		if (r == PROTO_ERROR) {
			char why[200];
			snprintf(why, sizeof why, "bad frame from the server: %s", err);
			client_closed(c, why);
			return;
		}
		evbuffer_drain(in, used);
		const char *t = cJSON_GetObjectItemCaseSensitive(m, "t")->valuestring;
		if (strcmp(t, "bye") == 0) {
			const cJSON *why = cJSON_GetObjectItemCaseSensitive(m, "reason");
			char reason[256];
			snprintf(reason, sizeof reason, "%s",
				 cJSON_IsString(why) ? why->valuestring : "server said bye");
			cJSON_Delete(m);
			client_closed(c, reason);
			return;
		}
		for (size_t i = 0; i < sizeof client_handlers / sizeof client_handlers[0]; i++)
			if (strcmp(client_handlers[i].type, t) == 0) {
				client_handlers[i].fn(c, m);
				break;
			}
		cJSON_Delete(m);
	}
}

static void client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct client *c = arg;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		client_closed(c, (what & BEV_EVENT_ERROR) ? "connection to the server failed"
							  : "the server closed the connection");
}

struct client *client_connect(struct event_base *base, const char *socket_path, bool read_only,
			      int cols, int rows, const struct client_cbs *cbs, char *err,
			      size_t errlen)
{
	int fd = unix_connect(socket_path, time_mono_ms() + 1000, err, errlen);
	if (fd < 0)
		return NULL;
	struct client *c = xcalloc(1, sizeof *c);
	c->base = base;
	c->st = state_new();
	sbuf_init(&c->parts);
	if (cbs)
		c->cbs = *cbs;
	c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev) {
		snprintf(err, errlen, "cannot set up the connection");
		close(fd);
		state_free(c->st);
		free(c);
		return NULL;
	}
	bufferevent_setcb(c->bev, client_read_cb, NULL, client_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	cJSON *h = cJSON_CreateObject();
	cJSON_AddStringToObject(h, "t", "hello");
	cJSON_AddNumberToObject(h, "v", PROTO_VERSION);
	cJSON_AddBoolToObject(h, "read_only", read_only);
	cJSON_AddNumberToObject(h, "cols", cols);
	cJSON_AddNumberToObject(h, "rows", rows);
	cJSON_AddBoolToObject(h, "interactive", true);
	client_send(c, h);
	return c;
}

void client_free(struct client *c)
{
	if (!c)
		return;
	bufferevent_free(c->bev);
	state_free(c->st);
	sbuf_free(&c->parts);
	free(c->user);
	free(c);
}

struct state *client_state(struct client *c)
{
	return c->st;
}

const char *client_user(const struct client *c)
{
	return c->user;
}

int client_id(const struct client *c)
{
	return c->id;
}

bool client_is_operator(const struct client *c)
{
	return c->op;
}

bool client_is_synced(const struct client *c)
{
	return c->synced;
}

int client_intent(struct client *c, const char *name, cJSON *args)
{
	if (c->closed) {
		cJSON_Delete(args);
		return -1;
	}
	int id = ++c->next_intent;
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "t", "intent");
	cJSON_AddNumberToObject(m, "id", id);
	cJSON_AddStringToObject(m, "name", name);
	cJSON_AddItemToObject(m, "args", args ? args : cJSON_CreateObject());
	client_send(c, m);
	return id;
}

void client_send_focus(struct client *c, const char *focus)
{
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "t", "focus");
	cJSON_AddStringToObject(m, "focus", focus ? focus : "");
	client_send(c, m);
}

/* ---- blocking one-shot --------------------------------------------------- */

static int ms_left(int64_t deadline)
{
	int64_t left = deadline - time_mono_ms();
	return left < 0 ? 0 : (int)left;
}

static bool write_deadline(int fd, const char *buf, size_t len, int64_t deadline)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return false;
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		if (poll(&p, 1, ms_left(deadline)) <= 0)
			return false;
	}
	return true;
}

static bool send_frame(int fd, cJSON *msg, int64_t deadline)
{
	size_t len;
	char *frame = proto_encode(msg, &len);
	cJSON_Delete(msg);
	bool ok = frame && write_deadline(fd, frame, len, deadline);
	free(frame);
	return ok;
}

bool client_probe(const char *socket_path)
{
	char err[256];
	int fd = unix_connect(socket_path, time_mono_ms() + 500, err, sizeof err);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

int client_call(const char *socket_path, const char *intent, cJSON *args, int timeout_ms,
		cJSON **result, char *err, size_t errlen)
{
	if (result)
		*result = NULL;
	int64_t deadline = time_mono_ms() + (timeout_ms > 0 ? timeout_ms : 10000);
	int fd = unix_connect(socket_path, deadline, err, errlen);
	if (fd < 0) {
		cJSON_Delete(args);
		return 2;
	}
	cJSON *h = cJSON_CreateObject();
	cJSON_AddStringToObject(h, "t", "hello");
	cJSON_AddNumberToObject(h, "v", PROTO_VERSION);
	cJSON_AddBoolToObject(h, "interactive", false);
	cJSON_AddBoolToObject(h, "snapshot", false);
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "t", "intent");
	cJSON_AddNumberToObject(m, "id", 1);
	cJSON_AddStringToObject(m, "name", intent);
	cJSON_AddItemToObject(m, "args", args ? args : cJSON_CreateObject());
	if (!send_frame(fd, h, deadline) || !send_frame(fd, m, deadline)) {
		snprintf(err, errlen, "cannot talk to the session at %s: %s", socket_path,
			 errno ? strerror(errno) : "timed out");
		close(fd);
		return 1;
	}

	size_t cap = 64 * 1024, len = 0;
	unsigned char *buf = xmalloc(cap);
	struct sbuf parts;
	sbuf_init(&parts);
	int rc = -1;
	while (rc < 0) {
		cJSON *msg = NULL;
		size_t used = 0;
		char perr[160];
		enum proto_result r = proto_decode(buf, len, PROTO_MAX_FRAME, &msg, &used, perr,
						   sizeof perr);
		if (r == PROTO_ERROR) {
			snprintf(err, errlen, "bad frame from the server: %s", perr);
			rc = 1;
			break;
		}
		if (r == PROTO_OK) {
			memmove(buf, buf + used, len - used);
			len -= used;
			const char *t = cJSON_GetObjectItemCaseSensitive(msg, "t")->valuestring;
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
			if (strcmp(t, "bye") == 0) {
				const cJSON *why = cJSON_GetObjectItemCaseSensitive(msg, "reason");
				snprintf(err, errlen, "the server closed the connection: %s",
					 cJSON_IsString(why) ? why->valuestring : "no reason given");
				rc = 1;
			} else if (strcmp(t, "reply-part") == 0 && cJSON_IsNumber(id) &&
				   id->valuedouble == 1) {
				on_reply_part_text(&parts, msg);
			} else if (strcmp(t, "reply") == 0 && cJSON_IsNumber(id) &&
				   id->valuedouble == 1) {
				if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(msg, "ok"))) {
					cJSON *res = joined_parts(&parts, msg);
					if (!res)
						res = cJSON_DetachItemFromObjectCaseSensitive(msg, "result");
					if (result)
						*result = res;
					else
						cJSON_Delete(res);
					rc = 0;
				} else {
					const cJSON *e = cJSON_GetObjectItemCaseSensitive(msg, "error");
					snprintf(err, errlen, "%s",
						 cJSON_IsString(e) ? e->valuestring : "refused");
					rc = 1;
				}
			}
			cJSON_Delete(msg);
			continue;
		}
		if (len == cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n > 0) {
			len += (size_t)n;
			continue;
		}
		if (n == 0) {
			snprintf(err, errlen, "the server closed the connection without replying");
			rc = 1;
			break;
		}
		if (errno != EAGAIN && errno != EINTR) {
			snprintf(err, errlen, "reading from %s: %s", socket_path, strerror(errno));
			rc = 1;
			break;
		}
		struct pollfd rp = {.fd = fd, .events = POLLIN};
		if (poll(&rp, 1, ms_left(deadline)) <= 0) {
			snprintf(err, errlen, "no reply from the session at %s within %d ms", socket_path,
				 timeout_ms);
			rc = 1;
		}
	}
	free(buf);
	sbuf_free(&parts);
	close(fd);
	return rc;
}
