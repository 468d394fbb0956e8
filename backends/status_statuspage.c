/* [status NAME] type = statuspage: Atlassian Statuspage incidents.
 *   url (https://api.statuspage.io), page_id, token (Authorization: OAuth),
 *   audience, impact (none|minor|major|critical, optional).
 * The first update creates the incident (POST /v1/pages/PAGE/incidents); later
 * ones edit it (PATCH .../incidents/ID), the id being the ref of the last
 * update.sent to this target. A blind POST retried after a crash could create
 * a second incident, so before creating, the unresolved incidents are listed
 * and one with the same name is edited instead. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "backends/template.h"
#include "backends/http.h"
#include "core/util.h"

struct sp {
	char *base, *page, *token, *impact;
};

struct sp_job {
	struct sp *sp;
	struct event_base *base;
	struct http_call *w;
	struct backend_job_cbs cbs;
	char *name, *state, *message, *ref;
	int64_t timeout_ms;
	bool listing;
};

static const char *const sp_keys[] = {"url", "page_id", "token", "audience", "impact", NULL};

static void sp_free(void *self)
{
	struct sp *s = self;
	if (!s)
		return;
	free(s->base);
	free(s->page);
	free(s->token);
	free(s->impact);
	free(s);
}

static void *sp_configure(const struct config_section *sec, const char *file, char *err,
			  size_t errlen)
{
	char where[300];
	if (!template_check_keys(sec, file, sp_keys, err, errlen))
		return NULL;
	const char *page = template_get(sec, "page_id");
	const char *token = template_get(sec, "token");
	template_key_where(sec, file, NULL, where, sizeof where);
	if (!page || !*page) {
		snprintf(err, errlen, "%s[status %s] type = statuspage needs page_id = ...", where,
			 sec->name);
		return NULL;
	}
	if (!token || !*token) {
		snprintf(err, errlen, "%s[status %s] type = statuspage needs token = ${ENV} or "
			 "token_file = PATH", where, sec->name);
		return NULL;
	}
	const char *impact = template_get(sec, "impact");
	if (impact && !str_eq(impact, "none") && !str_eq(impact, "minor") && !str_eq(impact, "major") &&
	    !str_eq(impact, "critical")) {
		template_key_where(sec, file, "impact", where, sizeof where);
		snprintf(err, errlen, "%simpact must be none, minor, major or critical", where);
		return NULL;
	}
	const char *url = template_get(sec, "url");
	struct sp *s = xcalloc(1, sizeof *s);
	s->base = http_base(url && *url ? url : "https://api.statuspage.io");
	s->page = template_url_escape(page);
	s->token = xstrdup(token);
	s->impact = xstrdup(impact);
	return s;
}

static const char *sp_status(const char *state)
{
	/* Statuspage's incident states are the incident states here */
	if (str_eq(state, "identified") || str_eq(state, "monitoring") || str_eq(state, "resolved"))
		return state;
	return "investigating";
}

static char *sp_body(const struct sp *s, const char *name, const char *state, const char *msg,
		     bool create)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *inc = cJSON_AddObjectToObject(root, "incident");
	if (create)
		cJSON_AddStringToObject(inc, "name", name ? name : "Incident");
	cJSON_AddStringToObject(inc, "status", sp_status(state));
	cJSON_AddStringToObject(inc, "body", msg ? msg : "");
	if (s->impact)
		cJSON_AddStringToObject(inc, "impact_override", s->impact);
	char *b = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return b;
}

static char *sp_describe(void *self, const struct backend_job_req *req)
{
	struct sp *s = self;
	bool create = !req->prev_ref || !*req->prev_ref;
	char *body = sp_body(s, req->title, req->state, req->message, create);
	char *d;
	if (create) {
		d = xasprintf("POST %s/v1/pages/%s/incidents %s", s->base, s->page, body);
	} else {
		char *id = template_url_escape(req->prev_ref);
		d = xasprintf("PATCH %s/v1/pages/%s/incidents/%s %s", s->base, s->page, id, body);
		free(id);
	}
	free(body);
	return d;
}

static void sp_job_free(struct sp_job *j)
{
	free(j->name);
	free(j->state);
	free(j->message);
	free(j->ref);
	free(j);
}

static void sp_send(struct sp_job *j);

static void sp_finish(struct sp_job *j, const struct backend_result *res)
{
	struct backend_job_cbs cbs = j->cbs;
	sp_job_free(j);
	if (cbs.done)
		cbs.done(cbs.arg, res);
}

/* An incident id from a JSON object's "id" (string or number). */
static bool json_id(const cJSON *o, char *out, size_t len)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
	if (cJSON_IsString(id) && *id->valuestring)
		snprintf(out, len, "%s", id->valuestring);
	else if (cJSON_IsNumber(id))
		snprintf(out, len, "%.0f", id->valuedouble);
	else
		return false;
	return true;
}

static void sp_on_reply(void *arg, const struct http_reply *r)
{
	struct sp_job *j = arg;
	j->w = NULL;
	struct backend_result res;
	memset(&res, 0, sizeof res);
	http_result(r, "Statuspage", j->sp->token, &res);
	if (!res.ok) {
		sp_finish(j, &res);
		return;
	}
	cJSON *doc = cJSON_ParseWithLength(r->body, r->len);
	if (j->listing) {
		/* adopt an unresolved incident of the same name, if any */
		j->listing = false;
		const cJSON *it;
		char id[128];
		cJSON_ArrayForEach(it, doc) {
			const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
			if (cJSON_IsString(name) && str_eq(name->valuestring, j->name) &&
			    json_id(it, id, sizeof id)) {
				j->ref = xstrdup(id);
				break;
			}
		}
		cJSON_Delete(doc);
		sp_send(j);
		return;
	}
	if (!json_id(doc, res.ref, sizeof res.ref)) {
		if (j->ref)
			snprintf(res.ref, sizeof res.ref, "%s", j->ref);
	}
	cJSON_Delete(doc);
	sp_finish(j, &res);
}

static void sp_send(struct sp_job *j)
{
	char auth[600];
	snprintf(auth, sizeof auth, "Authorization: OAuth %s", j->sp->token);
	const char *headers[] = {auth, "Content-Type: application/json", "Accept: application/json",
				 NULL};
	char *url;
	if (j->listing) {
		url = xasprintf("%s/v1/pages/%s/incidents/unresolved", j->sp->base, j->sp->page);
		j->w = http_send(j->base, "GET", url, headers, NULL, j->timeout_ms, sp_on_reply, j);
	} else {
		bool create = !j->ref;
		char *body = sp_body(j->sp, j->name, j->state, j->message, create);
		if (create) {
			url = xasprintf("%s/v1/pages/%s/incidents", j->sp->base, j->sp->page);
		} else {
			char *id = template_url_escape(j->ref);
			url = xasprintf("%s/v1/pages/%s/incidents/%s", j->sp->base, j->sp->page, id);
			free(id);
		}
		j->w = http_send(j->base, create ? "POST" : "PATCH", url, headers, body,
				    j->timeout_ms, sp_on_reply, j);
		free(body);
	}
	free(url);
	if (!j->w) {
		struct backend_result res = {.ok = false, .exit_code = -1, .retryable = true};
		snprintf(res.error, sizeof res.error, "Statuspage: cannot start an HTTP request");
		sp_finish(j, &res);
	}
}

static void *sp_run(void *self, const struct backend_host *host, const struct backend_job_req *req,
		    const struct backend_job_cbs *cbs)
{
	struct sp_job *j = xcalloc(1, sizeof *j);
	j->sp = self;
	j->base = host->base;
	j->cbs = *cbs;
	j->name = xstrdup(req->title && *req->title ? req->title : "Incident");
	j->state = xstrdup(req->state);
	j->message = xstrdup(req->message);
	j->ref = req->prev_ref && *req->prev_ref ? xstrdup(req->prev_ref) : NULL;
	j->timeout_ms = req->deadline_ms > 0 ? req->deadline_ms : 15000;
	j->listing = !j->ref;
	sp_send(j); /* the job is the handle across both requests */
	return j;
}

static void sp_cancel(void *job)
{
	struct sp_job *j = job;
	if (!j)
		return;
	if (j->w)
		http_cancel(j->w);
	sp_job_free(j);
}

const struct backend_class backend_status_statuspage = {
	.family = "status",
	.type = "statuspage",
	.configure = sp_configure,
	.describe = sp_describe,
	.run = sp_run,
	.cancel = sp_cancel,
	.free = sp_free,
};
