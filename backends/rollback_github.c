/* [rollback SERVICE] via = github: roll back by creating a new GitHub
 * deployment of the last good commit.
 *   url (https://api.github.com), repo (OWNER/NAME), environment (production),
 *   token (Authorization: Bearer), timeout (120), approval.
 * POST /repos/O/R/deployments {"ref":SHA,"environment":ENV,"auto_merge":false,
 * "required_contexts":[],"description":...,"payload":{...}}: SHA is the good
 * deploy's ref (deploys seen through [deploys NAME] type = github carry it),
 * else its version is used as the ref (a tag). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "backends/template.h"
#include "backends/http.h"
#include "core/util.h"

struct rb_gh {
	char *base, *repo, *env, *token;
	long timeout_s;
};

static const char *const rb_gh_keys[] = {"url", "repo", "environment", "token", "timeout",
					 "approval", NULL};

static void rb_gh_free(void *self)
{
	struct rb_gh *g = self;
	if (!g)
		return;
	free(g->base);
	free(g->repo);
	free(g->env);
	free(g->token);
	free(g);
}

static bool repo_ok(const char *r)
{
	const char *slash = r ? strchr(r, '/') : NULL;
	if (!slash || slash == r || !slash[1] || strchr(slash + 1, '/'))
		return false;
	for (const char *p = r; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '_' || *p == '.' || *p == '/'))
			return false;
	return true;
}

static void *rb_gh_configure(const struct config_section *sec, const char *file, char *err,
			     size_t errlen)
{
	char where[300];
	if (!template_check_keys(sec, file, rb_gh_keys, err, errlen))
		return NULL;
	const char *repo = template_get(sec, "repo");
	const char *token = template_get(sec, "token");
	if (!repo_ok(repo)) {
		template_key_where(sec, file, repo ? "repo" : NULL, where, sizeof where);
		snprintf(err, errlen, "%s[rollback %s] via = github needs repo = OWNER/NAME", where,
			 sec->name);
		return NULL;
	}
	if (!token || !*token) {
		template_key_where(sec, file, NULL, where, sizeof where);
		snprintf(err, errlen, "%s[rollback %s] via = github needs token = ${ENV} or "
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
	const char *url = template_get(sec, "url");
	const char *env = template_get(sec, "environment");
	struct rb_gh *g = xcalloc(1, sizeof *g);
	g->base = http_base(url && *url ? url : "https://api.github.com");
	g->repo = xstrdup(repo);
	g->env = xstrdup(env && *env ? env : "production");
	g->token = xstrdup(token);
	g->timeout_s = timeout;
	return g;
}

static char *rb_gh_body(const struct rb_gh *g, const struct backend_job_req *req)
{
	cJSON *o = cJSON_CreateObject();
	const char *ref = req->to_ref && *req->to_ref ? req->to_ref : req->to_version;
	cJSON_AddStringToObject(o, "ref", ref ? ref : "");
	cJSON_AddStringToObject(o, "environment", g->env);
	cJSON_AddBoolToObject(o, "auto_merge", false);
	/* a rollback must not wait for status checks on an old commit */
	cJSON_AddArrayToObject(o, "required_contexts");
	char desc[200];
	snprintf(desc, sizeof desc, "rollback of %s from %s to %s by %s",
		 req->service ? req->service : "?", req->from_version ? req->from_version : "?",
		 req->to_version ? req->to_version : "?", req->user ? req->user : "?");
	cJSON_AddStringToObject(o, "description", desc);
	cJSON *p = cJSON_AddObjectToObject(o, "payload");
	cJSON_AddStringToObject(p, "service", req->service ? req->service : "");
	cJSON_AddStringToObject(p, "rollback_from", req->from_version ? req->from_version : "");
	cJSON_AddStringToObject(p, "rollback_to", req->to_version ? req->to_version : "");
	char *b = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return b;
}

static char *rb_gh_describe(void *self, const struct backend_job_req *req)
{
	struct rb_gh *g = self;
	char *body = rb_gh_body(g, req);
	char *d = xasprintf("POST %s/repos/%s/deployments %s", g->base, g->repo, body);
	free(body);
	return d;
}

static void rb_gh_ok(const struct http_reply *r, struct backend_result *res)
{
	cJSON *doc = cJSON_ParseWithLength(r->body, r->len);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(doc, "id");
	/* ids pass 2^31: valuedouble, never valueint */
	if (cJSON_IsNumber(id))
		snprintf(res->ref, sizeof res->ref, "%.0f", id->valuedouble);
	cJSON_Delete(doc);
}

static void *rb_gh_run(void *self, const struct backend_host *host,
		       const struct backend_job_req *req, const struct backend_job_cbs *cbs)
{
	struct rb_gh *g = self;
	char *url = xasprintf("%s/repos/%s/deployments", g->base, g->repo);
	char *body = rb_gh_body(g, req);
	char auth[600];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", g->token);
	const char *headers[] = {auth, "Accept: application/vnd.github+json",
				 "X-GitHub-Api-Version: 2022-11-28", "User-Agent: warroom/" WARROOM_VERSION,
				 "Content-Type: application/json", NULL};
	int64_t timeout = req->deadline_ms > 0 ? req->deadline_ms : (int64_t)g->timeout_s * 1000;
	void *j = http_job(host->base, "POST", url, headers, body, timeout, "GitHub", g->token,
			      rb_gh_ok, cbs);
	free(url);
	free(body);
	return j;
}

const struct backend_class backend_rollback_github = {
	.family = "rollback",
	.type = "github",
	.configure = rb_gh_configure,
	.describe = rb_gh_describe,
	.run = rb_gh_run,
	.cancel = http_job_cancel,
	.free = rb_gh_free,
};
