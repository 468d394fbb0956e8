/* [rollback SERVICE] via = demo: a simulated deploy target for the built-in
 * incident. It prints what a real deploy tool would, on the loop's timers,
 * and tells the scenario the rollback happened; nothing leaves the machine.
 * Keys: approval. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "backends/template.h"
#include "core/demo.h"
#include "core/util.h"

static const char *const rb_demo_keys[] = {"approval", NULL};

/* Delay before each line (ms at speed 1); the step without text reports
 * done. A line may end with service@from or service@to. */
enum rb_demo_ref { RB_NONE, RB_FROM, RB_TO };
struct rb_demo_line {
	int delay_ms;
	const char *text;
	enum rb_demo_ref ref;
};
static const struct rb_demo_line rb_demo_script[] = {
	{1000, "draining traffic from ", RB_FROM},
	{700, "activating ", RB_TO},
	{900, "health checks passing 3/3", RB_NONE},
	{300, NULL, RB_NONE},
};
#define RB_DEMO_STEPS (sizeof rb_demo_script / sizeof rb_demo_script[0])

struct rb_demo {
	char *service;
};

struct rb_demo_job {
	struct event *ev;
	struct backend_job_cbs cbs;
	char *service, *from, *to, *user;
	size_t step;
};

static void *rb_demo_configure(const struct config_section *sec, const char *file, char *err,
			       size_t errlen)
{
	if (!template_check_keys(sec, file, rb_demo_keys, err, errlen))
		return NULL;
	struct rb_demo *r = xcalloc(1, sizeof *r);
	r->service = xstrdup(sec->name);
	return r;
}

static void rb_demo_free(void *self)
{
	struct rb_demo *r = self;
	if (r) {
		free(r->service);
		free(r);
	}
}

static const char *rb_demo_service(const struct rb_demo *r, const struct backend_job_req *req)
{
	return req->service ? req->service : r && r->service ? r->service : "?";
}

static char *rb_demo_describe(void *self, const struct backend_job_req *req)
{
	return xasprintf("demo-deploy rollback %s %s \u2192 %s (simulated target, nothing leaves "
			 "this machine)", rb_demo_service(self, req),
			 req->from_version ? req->from_version : "?",
			 req->to_version ? req->to_version : "?");
}

static void rb_demo_job_free(struct rb_demo_job *j)
{
	if (j->ev)
		event_free(j->ev);
	free(j->service);
	free(j->from);
	free(j->to);
	free(j->user);
	free(j);
}

static void rb_demo_arm(struct rb_demo_job *j)
{
	double speed = demo_speed();
	long ms = (long)(rb_demo_script[j->step].delay_ms / (speed > 0 ? speed : 1));
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	evtimer_add(j->ev, &tv);
}

static void rb_demo_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct rb_demo_job *j = arg;
	const struct rb_demo_line *l = &rb_demo_script[j->step];
	if (l->text) {
		char line[256];
		if (l->ref == RB_NONE)
			snprintf(line, sizeof line, "%s", l->text);
		else
			snprintf(line, sizeof line, "%s%s@%s", l->text, j->service,
				 l->ref == RB_FROM ? j->from : j->to);
		if (j->cbs.output)
			j->cbs.output(j->cbs.arg, "stdout", line);
		j->step++;
		rb_demo_arm(j);
		return;
	}
	/* the runner may free its side in done(): finish ours first */
	struct backend_job_cbs cbs = j->cbs;
	char *service = j->service, *to = j->to, *user = j->user;
	j->service = j->to = j->user = NULL;
	rb_demo_job_free(j);
	demo_note_rollback(service, to, user);
	struct backend_result res = {.ok = true, .exit_code = 0};
	if (cbs.done)
		cbs.done(cbs.arg, &res);
	free(service);
	free(to);
	free(user);
}

static void *rb_demo_run(void *self, const struct backend_host *host,
			 const struct backend_job_req *req, const struct backend_job_cbs *cbs)
{
	struct rb_demo_job *j = xcalloc(1, sizeof *j);
	j->cbs = *cbs;
	j->service = xstrdup(rb_demo_service(self, req));
	j->from = xstrdup(req->from_version ? req->from_version : "?");
	j->to = xstrdup(req->to_version ? req->to_version : "?");
	j->user = xstrdup(req->user);
	j->ev = evtimer_new(host->base, rb_demo_on_timer, j);
	if (cbs->started)
		cbs->started(cbs->arg);
	rb_demo_arm(j);
	return j;
}

static void rb_demo_cancel(void *job)
{
	if (job)
		rb_demo_job_free(job);
}

const struct backend_class backend_rollback_demo = {
	.family = "rollback",
	.type = "demo",
	.configure = rb_demo_configure,
	.describe = rb_demo_describe,
	.run = rb_demo_run,
	.cancel = rb_demo_cancel,
	.free = rb_demo_free,
};
