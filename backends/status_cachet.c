/* [status NAME] type = cachet: incidents on a Cachet status page.
 *   url (the page, e.g. https://status.example.com), token (X-Cachet-Token),
 *   audience, component_id (optional), visible (1).
 * The first update creates the incident (POST /api/v1/incidents); later ones
 * update it (PUT /api/v1/incidents/ID). Cachet's statuses are numbers:
 * 1 investigating, 2 identified, 3 watching (monitoring), 4 fixed (resolved).
 * Cachet has no idempotency key: a create whose answer was lost in a crash
 * is sent again (at least once). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "backends/template.h"
#include "backends/http.h"
#include "core/util.h"

struct cachet {
	char *base, *token;
	long component_id;
	int visible;
};

static const char *const cachet_keys[] = {"url", "token", "audience", "component_id", "visible", NULL};

static void cachet_free(void *self)
{
	struct cachet *c = self;
	if (!c)
		return;
	free(c->base);
	free(c->token);
	free(c);
}

static void *cachet_configure(const struct config_section *sec, const char *file, char *err,
			      size_t errlen)
{
	char where[300];
	if (!template_check_keys(sec, file, cachet_keys, err, errlen))
		return NULL;
	template_key_where(sec, file, NULL, where, sizeof where);
	const char *url = template_get(sec, "url");
	const char *token = template_get(sec, "token");
	if (!url || !*url) {
		snprintf(err, errlen, "%s[status %s] type = cachet needs url = https://STATUS-PAGE",
			 where, sec->name);
		return NULL;
	}
	if (!token || !*token) {
		snprintf(err, errlen, "%s[status %s] type = cachet needs token = ${ENV} or "
			 "token_file = PATH", where, sec->name);
		return NULL;
	}
	struct cachet *c = xcalloc(1, sizeof *c);
	c->base = http_base(url);
	c->token = xstrdup(token);
	c->visible = 1;
	const char *v;
	if ((v = template_get(sec, "component_id"))) {
		char *end;
		c->component_id = strtol(v, &end, 10);
		if (*end || c->component_id <= 0) {
			template_key_where(sec, file, "component_id", where, sizeof where);
			snprintf(err, errlen, "%scomponent_id must be a positive number", where);
			cachet_free(c);
			return NULL;
		}
	}
	if ((v = template_get(sec, "visible")))
		c->visible = str_eq(v, "0") || str_eq(v, "false") || str_eq(v, "no") ? 0 : 1;
	return c;
}

static int cachet_status(const char *state)
{
	if (str_eq(state, "identified")) return 2;
	if (str_eq(state, "monitoring")) return 3;
	if (str_eq(state, "resolved")) return 4;
	return 1;
}

/* Component status while the incident is open: 3 partial outage, then 1
 * operational once resolved. */
static char *cachet_body(const struct cachet *c, const struct backend_job_req *req)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", req->title && *req->title ? req->title : "Incident");
	cJSON_AddStringToObject(o, "message", req->message ? req->message : "");
	cJSON_AddNumberToObject(o, "status", cachet_status(req->state));
	cJSON_AddNumberToObject(o, "visible", c->visible);
	if (c->component_id) {
		cJSON_AddNumberToObject(o, "component_id", (double)c->component_id);
		cJSON_AddNumberToObject(o, "component_status", str_eq(req->state, "resolved") ? 1 : 3);
	}
	char *b = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return b;
}

static char *cachet_url(const struct cachet *c, const struct backend_job_req *req, bool *create)
{
	*create = !req->prev_ref || !*req->prev_ref;
	if (*create)
		return xasprintf("%s/api/v1/incidents", c->base);
	char *id = template_url_escape(req->prev_ref);
	char *u = xasprintf("%s/api/v1/incidents/%s", c->base, id);
	free(id);
	return u;
}

static char *cachet_describe(void *self, const struct backend_job_req *req)
{
	bool create;
	char *url = cachet_url(self, req, &create);
	char *body = cachet_body(self, req);
	char *d = xasprintf("%s %s %s", create ? "POST" : "PUT", url, body);
	free(url);
	free(body);
	return d;
}

/* Cachet answers {"data":{"id":N,...}}. */
static void cachet_ok(const struct http_reply *r, struct backend_result *res)
{
	cJSON *doc = cJSON_ParseWithLength(r->body, r->len);
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(doc, "data");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(data, "id");
	if (cJSON_IsNumber(id))
		snprintf(res->ref, sizeof res->ref, "%.0f", id->valuedouble);
	else if (cJSON_IsString(id))
		snprintf(res->ref, sizeof res->ref, "%s", id->valuestring);
	cJSON_Delete(doc);
}

static void *cachet_run(void *self, const struct backend_host *host,
			const struct backend_job_req *req, const struct backend_job_cbs *cbs)
{
	struct cachet *c = self;
	bool create;
	char *url = cachet_url(c, req, &create);
	char *body = cachet_body(c, req);
	char tok[600];
	snprintf(tok, sizeof tok, "X-Cachet-Token: %s", c->token);
	const char *headers[] = {tok, "Content-Type: application/json", "Accept: application/json",
				 NULL};
	void *j = http_job(host->base, create ? "POST" : "PUT", url, headers, body,
			      req->deadline_ms, "Cachet", c->token, cachet_ok, cbs);
	free(url);
	free(body);
	return j;
}

const struct backend_class backend_status_cachet = {
	.family = "status",
	.type = "cachet",
	.configure = cachet_configure,
	.describe = cachet_describe,
	.run = cachet_run,
	.cancel = http_job_cancel,
	.free = cachet_free,
};
