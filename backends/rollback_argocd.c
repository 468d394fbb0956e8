/* [rollback SERVICE] via = argocd: Argo CD's rollback to a history id.
 *   url (https://argocd.example.com), app, token (Authorization: Bearer),
 *   timeout (120), approval.
 * POST /api/v1/applications/APP/rollback {"id":N}: N is the history id of the
 * version to go back to, taken from its deploy's ref (deploys seen through
 * [deploys NAME] type = argocd carry it). Argo CD refuses (400) when auto-sync
 * is on or the id is not in the history; its message is shown. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "backends/template.h"
#include "backends/http.h"
#include "core/util.h"

struct rb_argo {
	char *base, *app, *token;
	long timeout_s;
};

static const char *const rb_argo_keys[] = {"url", "app", "token", "timeout", "approval", NULL};

static void rb_argo_free(void *self)
{
	struct rb_argo *r = self;
	if (!r)
		return;
	free(r->base);
	free(r->app);
	free(r->token);
	free(r);
}

static void *rb_argo_configure(const struct config_section *sec, const char *file, char *err,
			       size_t errlen)
{
	char where[300];
	if (!template_check_keys(sec, file, rb_argo_keys, err, errlen))
		return NULL;
	template_key_where(sec, file, NULL, where, sizeof where);
	const char *url = template_get(sec, "url");
	const char *token = template_get(sec, "token");
	if (!url || !*url) {
		snprintf(err, errlen, "%s[rollback %s] via = argocd needs url = https://ARGOCD", where,
			 sec->name);
		return NULL;
	}
	if (!token || !*token) {
		snprintf(err, errlen, "%s[rollback %s] via = argocd needs token = ${ENV} or "
			 "token_file = PATH", where, sec->name);
		return NULL;
	}
	long timeout = 120;
	const char *v = template_get(sec, "timeout");
	if (v && (timeout = template_parse_seconds(v)) <= 0) {
		template_key_where(sec, file, "timeout", where, sizeof where);
		snprintf(err, errlen, "%stimeout must be seconds (e.g. 120 or 2m)", where);
		return NULL;
	}
	const char *app = template_get(sec, "app");
	struct rb_argo *r = xcalloc(1, sizeof *r);
	r->base = http_base(url);
	r->app = template_url_escape(app && *app ? app : sec->name);
	r->token = xstrdup(token);
	r->timeout_s = timeout;
	return r;
}

/* The history id as a number, or -1 when the ref is not one. */
static long long argo_id(const char *ref)
{
	if (!ref || !*ref)
		return -1;
	char *end;
	long long v = strtoll(ref, &end, 10);
	return *end || v < 0 ? -1 : v;
}

static char *rb_argo_describe(void *self, const struct backend_job_req *req)
{
	struct rb_argo *r = self;
	long long id = argo_id(req->to_ref);
	if (id < 0)
		return xasprintf("POST %s/api/v1/applications/%s/rollback (no Argo CD history id is "
				 "known for %s %s: it would fail)", r->base, r->app, req->service,
				 req->to_version);
	return xasprintf("POST %s/api/v1/applications/%s/rollback {\"id\":%lld}", r->base, r->app, id);
}

static void *rb_argo_run(void *self, const struct backend_host *host,
			 const struct backend_job_req *req, const struct backend_job_cbs *cbs)
{
	struct rb_argo *r = self;
	long long id = argo_id(req->to_ref);
	if (id < 0) {
		struct backend_result res = {.ok = false, .exit_code = -1};
		snprintf(res.error, sizeof res.error, "no Argo CD history id is known for %s %s (its "
			 "deploy must come from [deploys NAME] type = argocd)", req->service,
			 req->to_version);
		return http_fail_later(host->base, &res, cbs);
	}
	char *url = xasprintf("%s/api/v1/applications/%s/rollback", r->base, r->app);
	char body[64];
	snprintf(body, sizeof body, "{\"id\":%lld}", id);
	char auth[600];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", r->token);
	const char *headers[] = {auth, "Content-Type: application/json", "Accept: application/json",
				 NULL};
	int64_t timeout = req->deadline_ms > 0 ? req->deadline_ms : (int64_t)r->timeout_s * 1000;
	void *j = http_job(host->base, "POST", url, headers, body, timeout, "Argo CD", r->token,
			      NULL, cbs);
	free(url);
	return j;
}

const struct backend_class backend_rollback_argocd = {
	.family = "rollback",
	.type = "argocd",
	.configure = rb_argo_configure,
	.describe = rb_argo_describe,
	.run = rb_argo_run,
	.cancel = http_job_cancel,
	.free = rb_argo_free,
};
