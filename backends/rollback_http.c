/* [rollback SERVICE] via = http: a generic webhook that performs the rollback.
 *   url, method (POST), body (JSON template: {service} {version}
 *   {from_version} {user} {ref}; default {"service","from","to","user"}),
 *   token (optional: Authorization: Bearer), timeout (120), approval. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "backends/template.h"
#include "backends/http.h"
#include "core/util.h"

struct rb_http {
	char *url, *method, *body, *token;
	long timeout_s;
};

static const char *const rb_http_keys[] = {"url", "method", "body", "token", "timeout", "approval",
					   NULL};

static void rb_http_free(void *self)
{
	struct rb_http *h = self;
	if (!h)
		return;
	free(h->url);
	free(h->method);
	free(h->body);
	free(h->token);
	free(h);
}

static void *rb_http_configure(const struct config_section *sec, const char *file, char *err,
			       size_t errlen)
{
	char where[300];
	if (!template_check_keys(sec, file, rb_http_keys, err, errlen))
		return NULL;
	const char *url = template_get(sec, "url");
	if (!url || !*url) {
		template_key_where(sec, file, NULL, where, sizeof where);
		snprintf(err, errlen, "%s[rollback %s] via = http needs url = ...", where, sec->name);
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
	if (body && !template_check(body, TEMPLATE_JSON, template_rollback_names, terr, sizeof terr)) {
		template_key_where(sec, file, "body", where, sizeof where);
		snprintf(err, errlen, "%sbody: %s", where, terr);
		return NULL;
	}
	long timeout = 120;
	const char *v = template_get(sec, "timeout");
	if (v && (timeout = template_parse_seconds(v)) <= 0) {
		template_key_where(sec, file, "timeout", where, sizeof where);
		snprintf(err, errlen, "%stimeout must be seconds (e.g. 120 or 2m)", where);
		return NULL;
	}
	struct rb_http *h = xcalloc(1, sizeof *h);
	h->url = xstrdup(url);
	h->method = xstrdup(method ? method : "POST");
	h->body = xstrdup(body);
	h->token = xstrdup(template_get(sec, "token"));
	h->timeout_s = timeout;
	return h;
}

static char *rb_http_body(const struct rb_http *h, const struct backend_job_req *req)
{
	if (h->body) {
		const struct template_var vars[] = {
			{"service", req->service}, {"version", req->to_version},
			{"to_version", req->to_version}, {"from_version", req->from_version},
			{"user", req->user}, {"ref", req->to_ref},
		};
		char err[256];
		char *b = template_expand(h->body, TEMPLATE_JSON, vars, sizeof vars / sizeof vars[0],
					  err, sizeof err);
		if (b)
			return b;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "service", req->service ? req->service : "");
	cJSON_AddStringToObject(o, "from", req->from_version ? req->from_version : "");
	cJSON_AddStringToObject(o, "to", req->to_version ? req->to_version : "");
	if (req->to_ref)
		cJSON_AddStringToObject(o, "ref", req->to_ref);
	cJSON_AddStringToObject(o, "user", req->user ? req->user : "");
	char *b = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return b;
}

static char *rb_http_describe(void *self, const struct backend_job_req *req)
{
	struct rb_http *h = self;
	char *body = rb_http_body(h, req);
	char *d = xasprintf("%s %s %s", h->method, h->url, body);
	free(body);
	return d;
}

static void *rb_http_run(void *self, const struct backend_host *host,
			 const struct backend_job_req *req, const struct backend_job_cbs *cbs)
{
	struct rb_http *h = self;
	char *body = rb_http_body(h, req);
	char auth[600] = "";
	if (h->token)
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", h->token);
	const char *headers[] = {"Content-Type: application/json", h->token ? auth : NULL, NULL};
	int64_t timeout = req->deadline_ms > 0 ? req->deadline_ms : (int64_t)h->timeout_s * 1000;
	void *j = http_job(host->base, h->method, h->url, headers, body, timeout, "webhook",
			      h->token, NULL, cbs);
	free(body);
	return j;
}

const struct backend_class backend_rollback_http = {
	.family = "rollback",
	.type = "http",
	.configure = rb_http_configure,
	.describe = rb_http_describe,
	.run = rb_http_run,
	.cancel = http_job_cancel,
	.free = rb_http_free,
};
