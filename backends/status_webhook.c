/* [status NAME] type = webhook: POST (or method) a JSON document to a URL.
 *   url, method (POST), token (optional: Authorization: Bearer), audience,
 *   body (optional JSON template with {state} {message} {title} {impact}
 *   {severity} {service} {time} {user}; default
 *   {"state","message","title","severity","service","time"}).
 * Delivery is at least once: receivers should de-duplicate on the content. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "backends/template.h"
#include "backends/http.h"
#include "core/util.h"

struct st_hook {
	char *url, *method, *token, *body;
};

static const char *const st_hook_keys[] = {"url", "method", "token", "audience", "body", NULL};

static void st_hook_free(void *self)
{
	struct st_hook *h = self;
	if (!h)
		return;
	free(h->url);
	free(h->method);
	free(h->token);
	free(h->body);
	free(h);
}

static void *st_hook_configure(const struct config_section *sec, const char *file, char *err,
			       size_t errlen)
{
	char where[300];
	if (!template_check_keys(sec, file, st_hook_keys, err, errlen))
		return NULL;
	const char *url = template_get(sec, "url");
	if (!url || !*url) {
		template_key_where(sec, file, NULL, where, sizeof where);
		snprintf(err, errlen, "%s[status %s] type = webhook needs url = ...", where, sec->name);
		return NULL;
	}
	const char *method = template_get(sec, "method");
	if (method && !str_eq(method, "POST") && !str_eq(method, "PUT") && !str_eq(method, "PATCH")) {
		template_key_where(sec, file, "method", where, sizeof where);
		snprintf(err, errlen, "%smethod must be POST, PUT or PATCH", where);
		return NULL;
	}
	const char *body = template_get(sec, "body");
	char terr[256];
	if (body && !template_check(body, TEMPLATE_JSON, template_status_names, terr, sizeof terr)) {
		template_key_where(sec, file, "body", where, sizeof where);
		snprintf(err, errlen, "%sbody: %s", where, terr);
		return NULL;
	}
	struct st_hook *h = xcalloc(1, sizeof *h);
	h->url = xstrdup(url);
	h->method = xstrdup(method ? method : "POST");
	h->token = xstrdup(template_get(sec, "token"));
	h->body = xstrdup(body);
	return h;
}

static char *st_hook_body(const struct st_hook *h, const struct backend_job_req *req)
{
	char ts[40];
	time_format_rfc3339(time_now_ms(), ts, sizeof ts);
	if (h->body) {
		const struct template_var vars[] = {
			{"state", req->state}, {"message", req->message}, {"title", req->title},
			{"impact", req->impact}, {"severity", req->impact}, {"service", req->service},
			{"time", ts}, {"user", req->user},
		};
		char err[256];
		char *b = template_expand(h->body, TEMPLATE_JSON, vars, sizeof vars / sizeof vars[0],
					  err, sizeof err);
		if (b)
			return b;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "state", req->state ? req->state : "");
	cJSON_AddStringToObject(o, "message", req->message ? req->message : "");
	cJSON_AddStringToObject(o, "title", req->title ? req->title : "");
	if (req->impact)
		cJSON_AddStringToObject(o, "severity", req->impact);
	if (req->service)
		cJSON_AddStringToObject(o, "service", req->service);
	cJSON_AddStringToObject(o, "time", ts);
	char *b = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return b;
}

static char *st_hook_describe(void *self, const struct backend_job_req *req)
{
	struct st_hook *h = self;
	char *body = st_hook_body(h, req);
	char *d = xasprintf("%s %s %s", h->method, h->url, body);
	free(body);
	return d;
}

static void *st_hook_run(void *self, const struct backend_host *host,
			 const struct backend_job_req *req, const struct backend_job_cbs *cbs)
{
	struct st_hook *h = self;
	char *body = st_hook_body(h, req);
	char auth[600] = "";
	if (h->token)
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", h->token);
	const char *headers[] = {"Content-Type: application/json", h->token ? auth : NULL, NULL};
	void *j = http_job(host->base, h->method, h->url, headers, body, req->deadline_ms,
			      "webhook", h->token, NULL, cbs);
	free(body);
	return j;
}

const struct backend_class backend_status_webhook = {
	.family = "status",
	.type = "webhook",
	.configure = st_hook_configure,
	.describe = st_hook_describe,
	.run = st_hook_run,
	.cancel = http_job_cancel,
	.free = st_hook_free,
};
