/* [deploys NAME] type = jsonl: the deploy log, one JSON object a line,
 * appended by any CI system:
 *   {"service":"api","version":"2.4.0","time":"2026-11-23T18:02:11Z","author":"ci","url":"..."}
 * Keys: path (a local file, followed as it grows) or url (fetched every
 * interval, default 30 s, with timeout, default 10 s, and an optional
 * token sent as a Bearer token); service (only deploys of this service).
 *
 * A file is checked once a second: lines already there are read at start,
 * appended lines as they come. When the path names a new file (rotation) the
 * old one is read to its end first; when the file shrinks (truncation) it is
 * read again from the start. A last line without its newline waits for it.
 * At most DJ_CHUNK bytes are read per pass of the loop, so a huge log never
 * holds the loop up. A malformed line is counted, skipped and reported in
 * the backend's health ("3 malformed lines, last at line 17: ..."): it may
 * be a deploy missing from the timeline, so the source shows as not healthy
 * until the file is replaced. Re-reading is harmless: a deploy the state
 * already holds is not journaled again. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/deploys.h"
#include "backends/poll.h"
#include "backends/template.h"
#include "core/util.h"

#define DJ_CHUNK (64 * 1024)
#define DJ_TICK_MS 1000
#define DJ_HEALTH_REFRESH_MS 30000

struct dj {
	char *name, *path, *url, *token, *service;
	int64_t interval_ms, timeout_ms;
	struct backend_host host;

	/* following a file */
	struct event *tick;
	int fd;
	dev_t dev;
	ino_t ino;
	off_t off;
	struct timespec mtime; /* when the bytes up to off were there */
	struct sbuf partial;   /* a line still waiting for its newline */
	bool skipping;         /* inside an over-long line: drop up to its newline */
	long lineno;           /* lines seen in the current file (or body) */
	char *chunk;
	char open_err[400];

	/* over HTTP */
	struct poll *poll;
	char *auth;
	struct event *report;  /* malformed lines, said after the poll's "ok" */

	/* lines in the current file (or the last body) */
	unsigned good, bad;
	long bad_line;
	char bad_why[200];

	/* what health last said, so it is repeated only when it changes (or to
	 * keep a healthy source fresh) */
	bool reported, rep_ok;
	char rep_err[600];
	int64_t rep_at;
};

static const char *const dj_keys[] = {"path", "url", "service", "interval", "timeout", "token",
				      NULL};

static void dj_free(void *self)
{
	struct dj *j = self;
	if (!j)
		return;
	if (j->tick)
		event_free(j->tick);
	if (j->report)
		event_free(j->report);
	poll_free(j->poll);
	if (j->fd >= 0)
		close(j->fd);
	sbuf_free(&j->partial);
	free(j->chunk);
	free(j->name);
	free(j->path);
	free(j->url);
	free(j->token);
	free(j->auth);
	free(j->service);
	free(j);
}

static void *dj_configure(const struct config_section *sec, const char *file, char *err,
			  size_t errlen)
{
	char where[300];
	if (!template_check_keys(sec, file, dj_keys, err, errlen))
		return NULL;
	template_key_where(sec, file, NULL, where, sizeof where);
	const char *path = template_get(sec, "path"), *url = template_get(sec, "url");
	bool has_path = path && *path, has_url = url && *url;
	if (has_path == has_url) {
		snprintf(err, errlen, "%s[deploys %s] type = jsonl needs %s path = FILE or url = URL",
			 where, sec->name, has_path ? "only one of" : "either");
		return NULL;
	}
	if (has_url && strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
		template_key_where(sec, file, "url", where, sizeof where);
		snprintf(err, errlen, "%surl must start with http:// or https://", where);
		return NULL;
	}
	struct dj *j = xcalloc(1, sizeof *j);
	j->fd = -1;
	sbuf_init(&j->partial);
	if (!deploy_cfg_times(sec, file, &j->interval_ms, &j->timeout_ms, err, errlen)) {
		dj_free(j);
		return NULL;
	}
	j->name = xstrdup(sec->name);
	j->path = has_path ? template_expand_home(path) : NULL;
	j->url = has_url ? xstrdup(url) : NULL;
	const char *token = template_get(sec, "token"), *service = template_get(sec, "service");
	j->token = token && *token ? xstrdup(token) : NULL;
	j->service = service && *service ? xstrdup(service) : NULL;
	return j;
}

/* ---- lines ------------------------------------------------------------------- */

static void dj_bad(struct dj *j, const char *why)
{
	j->bad++;
	j->bad_line = j->lineno;
	snprintf(j->bad_why, sizeof j->bad_why, "%s", why);
}

static void dj_line(struct dj *j, const char *line, size_t len)
{
	j->lineno++;
	struct deploy_rec d;
	char why[200];
	switch (deploy_parse_line(line, len, &d, why, sizeof why)) {
	case DEPLOY_LINE_BLANK:
		break;
	case DEPLOY_LINE_BAD:
		dj_bad(j, why);
		break;
	case DEPLOY_LINE_OK:
		j->good++;
		if (j->host.emit && (!j->service || str_eq(d.service, j->service)))
			deploy_emit(&j->host, j->name, "jsonl", &d);
		deploy_rec_clear(&d);
		break;
	}
}

/* Splits bytes into lines, keeping an unfinished last line for later. */
static void dj_feed(struct dj *j, const char *p, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t seg = nl ? (size_t)(nl - p) : n;
		if (j->skipping) {
			j->skipping = !nl;
		} else if (j->partial.len + seg > DEPLOY_LINE_MAX) {
			j->lineno++;
			char why[80];
			snprintf(why, sizeof why, "line is longer than %d KiB", DEPLOY_LINE_MAX / 1024);
			dj_bad(j, why);
			sbuf_reset(&j->partial);
			j->skipping = !nl;
		} else if (!nl) {
			sbuf_add(&j->partial, p, seg);
		} else if (j->partial.len) {
			sbuf_add(&j->partial, p, seg);
			dj_line(j, j->partial.buf, j->partial.len);
			sbuf_reset(&j->partial);
		} else {
			dj_line(j, p, seg);
		}
		if (!nl)
			break;
		n -= seg + 1;
		p = nl + 1;
	}
}

/* A new file, or the old one read again from the start. */
static void dj_restart_file(struct dj *j)
{
	sbuf_reset(&j->partial);
	j->skipping = false;
	j->lineno = 0;
	j->off = 0;
	j->good = 0;
	j->bad = 0;
	j->bad_line = 0;
	j->bad_why[0] = '\0';
}

/* ---- health ------------------------------------------------------------------ */

static void dj_health(struct dj *j)
{
	char msg[600] = "";
	bool ok = true;
	if (j->open_err[0]) {
		ok = false;
		snprintf(msg, sizeof msg, "%s", j->open_err);
	} else if (j->bad) {
		ok = false;
		snprintf(msg, sizeof msg, "%s: %u malformed line%s, last at line %ld: %s",
			 j->path ? j->path : "deploy log", j->bad, j->bad == 1 ? "" : "s", j->bad_line,
			 j->bad_why);
	}
	int64_t now = time_mono_ms();
	if (j->reported && ok == j->rep_ok && strcmp(msg, j->rep_err) == 0 &&
	    (!ok || now - j->rep_at < DJ_HEALTH_REFRESH_MS))
		return;
	j->reported = true;
	j->rep_ok = ok;
	j->rep_at = now;
	snprintf(j->rep_err, sizeof j->rep_err, "%s", msg);
	j->host.health(j->host.arg, j->name, "jsonl", ok, ok ? NULL : msg);
}

/* ---- following a file ----------------------------------------------------------- */

/* Reads up to one chunk from the open file, no further than its size was
 * (fst, taken just before); returns the bytes read, 0 at the end, -1 on
 * error (open_err set). */
static ssize_t dj_read_chunk(struct dj *j, const struct stat *fst)
{
	if (!j->chunk)
		j->chunk = xmalloc(DJ_CHUNK);
	j->mtime = fst->st_mtim;
	if (fst->st_size <= j->off)
		return 0;
	size_t want = (uint64_t)(fst->st_size - j->off) < DJ_CHUNK ? (size_t)(fst->st_size - j->off)
								   : DJ_CHUNK;
	ssize_t n = pread(j->fd, j->chunk, want, j->off);
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		snprintf(j->open_err, sizeof j->open_err, "cannot read %s: %s", j->path,
			 strerror(errno));
		return -1;
	}
	j->off += n;
	dj_feed(j, j->chunk, (size_t)n);
	return n;
}

static void dj_close(struct dj *j)
{
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
}

/* One pass: returns true when more is waiting (read again at once). */
static bool dj_follow(struct dj *j)
{
	struct stat st;
	bool exists = stat(j->path, &st) == 0;
	int stat_errno = errno;
	struct stat fst;
	if (j->fd >= 0 && fstat(j->fd, &fst) < 0) {
		snprintf(j->open_err, sizeof j->open_err, "cannot read %s: %s", j->path,
			 strerror(errno));
		dj_close(j);
	}
	if (j->fd >= 0) {
		if (!exists || st.st_ino != j->ino || st.st_dev != j->dev) {
			/* rotated or removed: finish the old file first */
			ssize_t n = dj_read_chunk(j, &fst);
			if (n > 0)
				return true;
			if (j->partial.len && !j->skipping) /* its last line never got a newline */
				dj_line(j, j->partial.buf, j->partial.len);
			if (!exists && n == 0) {
				/* keep the old one open until a new file appears */
				sbuf_reset(&j->partial);
				return false;
			}
			dj_close(j);
		} else {
			/* shrunk, or rewritten to the same length: read it again */
			if (fst.st_size < j->off ||
			    (fst.st_size == j->off && j->off > 0 &&
			     (fst.st_mtim.tv_sec != j->mtime.tv_sec ||
			      fst.st_mtim.tv_nsec != j->mtime.tv_nsec)))
				dj_restart_file(j);
			j->open_err[0] = '\0';
			return dj_read_chunk(j, &fst) == DJ_CHUNK;
		}
	}
	if (!exists) {
		snprintf(j->open_err, sizeof j->open_err, "cannot read %s: %s", j->path,
			 strerror(stat_errno));
		return false;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(j->open_err, sizeof j->open_err, "%s is not a regular file", j->path);
		return false;
	}
	int fd = open(j->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &fst) < 0) {
		snprintf(j->open_err, sizeof j->open_err, "cannot open %s: %s", j->path,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	j->fd = fd;
	j->dev = fst.st_dev;
	j->ino = fst.st_ino;
	j->open_err[0] = '\0';
	dj_restart_file(j);
	return dj_read_chunk(j, &fst) == DJ_CHUNK;
}

static void dj_tick(evutil_socket_t fd, short what, void *arg)
{
	struct dj *j = arg;
	bool more = dj_follow(j);
	dj_health(j);
	/* more waiting: come back at once, after whatever else is ready */
	struct timeval tv = {0, 0};
	if (!more)
		tv = (struct timeval){DJ_TICK_MS / 1000, (DJ_TICK_MS % 1000) * 1000};
	evtimer_add(j->tick, &tv);
}

/* ---- over HTTP -------------------------------------------------------------------- */

static char *dj_poll_url(void *arg)
{
	struct dj *j = arg;
	return xstrdup(j->url);
}

/* A whole log at once (an HTTP answer, or the file for check-config). */
static bool dj_scan(struct dj *j, const char *body, size_t len, char *err, size_t errlen)
{
	dj_restart_file(j);
	dj_feed(j, body, len);
	if (j->partial.len && !j->skipping)
		dj_line(j, j->partial.buf, j->partial.len);
	sbuf_reset(&j->partial);
	if (j->bad) {
		snprintf(err, errlen, "%u malformed line%s, last at line %ld: %s", j->bad,
			 j->bad == 1 ? "" : "s", j->bad_line, j->bad_why);
		return false;
	}
	return true;
}

static void dj_report_bad(evutil_socket_t fd, short what, void *arg)
{
	struct dj *j = arg;
	if (j->bad)
		dj_health(j);
}

static bool dj_poll_parse(void *arg, const char *body, size_t len, char *err, size_t errlen)
{
	struct dj *j = arg;
	/* every answer is the whole log: count its lines afresh. Malformed
	 * lines do not fail the poll (that would back it off, and slow every
	 * later deploy down); they are reported once the poll has said ok. */
	char why[400];
	if (!dj_scan(j, body, len, why, sizeof why)) {
		j->reported = false;
		struct timeval now = {0, 0};
		evtimer_add(j->report, &now);
	}
	return true;
}

/* ---- class ---------------------------------------------------------------------------- */

static void dj_start(void *self, const struct backend_host *host)
{
	struct dj *j = self;
	j->host = *host;
	if (j->url) {
		const char *headers[3] = {"Accept: application/x-ndjson, application/json, text/plain",
					  NULL, NULL};
		if (j->token) {
			j->auth = xasprintf("Authorization: Bearer %s", j->token);
			headers[1] = j->auth;
		}
		struct poll_cfg pc = {.name = j->name, .kind = "jsonl", .interval_ms = j->interval_ms,
				      .timeout_ms = j->timeout_ms};
		j->report = evtimer_new(host->base, dj_report_bad, j);
		j->poll = poll_start(host, &pc, dj_poll_url, headers, dj_poll_parse, j);
		return;
	}
	j->tick = evtimer_new(host->base, dj_tick, j);
	struct timeval now = {0, 0};
	evtimer_add(j->tick, &now);
}

static void dj_stop(void *self)
{
	struct dj *j = self;
	if (j->tick) {
		event_free(j->tick);
		j->tick = NULL;
	}
	poll_free(j->poll);
	j->poll = NULL;
	if (j->report) {
		event_free(j->report);
		j->report = NULL;
	}
	dj_close(j);
}

/* check-config: the log can be read and every line is a deploy. */
static void dj_probe(void *self, struct backend_result *res)
{
	struct dj *j = self;
	memset(res, 0, sizeof *res);
	char *body = NULL;
	size_t len = 0;
	if (j->url) {
		const char *headers[3] = {"Accept: application/x-ndjson, application/json, text/plain",
					  NULL, NULL};
		char *auth = j->token ? xasprintf("Authorization: Bearer %s", j->token) : NULL;
		headers[1] = auth;
		poll_probe(j->url, "jsonl", j->timeout_ms, headers, res, &body);
		free(auth);
		if (!res->ok)
			return;
		len = strlen(body);
	} else {
		body = file_read_all(j->path, POLL_DEFAULT_MAX_BYTES, &len);
		if (!body) {
			snprintf(res->error, sizeof res->error, "cannot read %s: %s", j->path,
				 strerror(errno));
			return;
		}
	}
	char err[400] = "";
	res->ok = dj_scan(j, body, len, err, sizeof err);
	if (!res->ok)
		snprintf(res->error, sizeof res->error, "%s: %s", j->url ? "jsonl" : j->path, err);
	free(body);
}

const struct backend_class backend_deploys_jsonl = {
	.family = "deploys",
	.type = "jsonl",
	.configure = dj_configure,
	.start = dj_start,
	.probe = dj_probe,
	.stop = dj_stop,
	.free = dj_free,
};
