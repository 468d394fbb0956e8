/* [status NAME] type = file: append one line per update to a file,
 *   "2026-11-23T18:02:11Z INVESTIGATING message". Keys: path, audience.
 * A local append is quick, so it is done at once; the result is still
 * reported from the loop like every other delivery. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/backend.h"
#include "backends/template.h"
#include "core/util.h"

struct st_file {
	char *path;
};

struct st_file_job {
	struct event *ev;
	struct backend_job_cbs cbs;
	struct backend_result res;
};

static const char *const st_file_keys[] = {"path", "audience", NULL};

static void st_file_free(void *self)
{
	struct st_file *f = self;
	if (f) {
		free(f->path);
		free(f);
	}
}

static void *st_file_configure(const struct config_section *sec, const char *file, char *err,
			       size_t errlen)
{
	if (!template_check_keys(sec, file, st_file_keys, err, errlen))
		return NULL;
	const char *p = template_get(sec, "path");
	if (!p || !*p) {
		char where[300];
		template_key_where(sec, file, NULL, where, sizeof where);
		snprintf(err, errlen, "%s[status %s] type = file needs path = FILE", where, sec->name);
		return NULL;
	}
	struct st_file *f = xcalloc(1, sizeof *f);
	f->path = template_expand_home(p);
	return f;
}

static char *st_file_line(const struct backend_job_req *req)
{
	char ts[40];
	time_format_rfc3339(time_now_ms(), ts, sizeof ts);
	struct sbuf sb;
	sbuf_init(&sb);
	sbuf_printf(&sb, "%s ", ts);
	for (const char *p = req->state ? req->state : "update"; *p; p++)
		sbuf_addc(&sb, (*p >= 'a' && *p <= 'z') ? (char)(*p - 32) : *p);
	sbuf_addc(&sb, ' ');
	/* one update, one line */
	for (const char *p = req->message ? req->message : ""; *p; p++)
		sbuf_addc(&sb, (*p == '\n' || *p == '\r') ? ' ' : *p);
	sbuf_addc(&sb, '\n');
	return sbuf_detach(&sb);
}

static char *st_file_describe(void *self, const struct backend_job_req *req)
{
	struct st_file *f = self;
	char *line = st_file_line(req);
	line[strlen(line) - 1] = '\0';
	char *d = xasprintf("append to %s: %s", f->path, line);
	free(line);
	return d;
}

static void st_file_report(evutil_socket_t fd, short what, void *arg)
{
	struct st_file_job *j = arg;
	struct backend_job_cbs cbs = j->cbs;
	struct backend_result res = j->res;
	event_free(j->ev);
	free(j);
	if (cbs.done)
		cbs.done(cbs.arg, &res);
}

static void *st_file_run(void *self, const struct backend_host *host,
			 const struct backend_job_req *req, const struct backend_job_cbs *cbs)
{
	struct st_file *f = self;
	struct st_file_job *j = xcalloc(1, sizeof *j);
	j->cbs = *cbs;
	char *line = st_file_line(req);
	int fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(j->res.error, sizeof j->res.error, "cannot open %s: %s", f->path,
			 strerror(errno));
	} else {
		size_t len = strlen(line);
		ssize_t n = write(fd, line, len);
		if (n == (ssize_t)len) {
			j->res.ok = true;
		} else {
			snprintf(j->res.error, sizeof j->res.error, "cannot write %s: %s", f->path,
				 n < 0 ? strerror(errno) : "short write");
			j->res.retryable = n >= 0 || errno == ENOSPC || errno == EINTR;
		}
		close(fd);
	}
	free(line);
	j->ev = evtimer_new(host->base, st_file_report, j);
	struct timeval zero = {0, 0};
	evtimer_add(j->ev, &zero);
	return j;
}

static void st_file_cancel(void *job)
{
	struct st_file_job *j = job;
	if (j) {
		event_free(j->ev);
		free(j);
	}
}

const struct backend_class backend_status_file = {
	.family = "status",
	.type = "file",
	.configure = st_file_configure,
	.describe = st_file_describe,
	.run = st_file_run,
	.cancel = st_file_cancel,
	.free = st_file_free,
};
