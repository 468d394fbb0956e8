/* [deploys NAME] type = github: GitHub deployments of a repository.
 *   url (API base; default https://api.github.com, or https://HOST/api/v3
 *   for GitHub Enterprise Server), repo (OWNER/NAME), environment (only
 *   deployments to it), token (Bearer: ${ENV} or token_file; optional for
 *   public repositories), service (default the repository's name),
 *   interval (30 s), timeout (10 s).
 * GET /repos/OWNER/NAME/deployments?environment=ENV&per_page=100 every
 * interval; each deployment becomes a deploy whose ref is its sha, which
 * [rollback SERVICE] via = github deploys again. GitHub's own error message
 * (Bad credentials, Not Found) marks the source stale. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/deploys.h"
#include "backends/poll.h"
#include "backends/template.h"
#include "backends/http.h"
#include "core/util.h"

#define DG_DEFAULT_URL "https://api.github.com"

struct dg {
	char *name, *base, *owner, *repo, *environment, *token, *service, *web;
	int64_t interval_ms, timeout_ms;
	struct backend_host host;
	struct poll *poll;
};

static const char *const dg_keys[] = {"url", "repo", "environment", "token", "service",
				      "interval", "timeout", NULL};

static void dg_free(void *self)
{
	struct dg *g = self;
	if (!g)
		return;
	poll_free(g->poll);
	free(g->name);
	free(g->base);
	free(g->owner);
	free(g->repo);
	free(g->environment);
	free(g->token);
	free(g->service);
	free(g->web);
	free(g);
}

/* Where a commit is shown in the browser, for the deploy's link; NULL when
 * the API base is not one of GitHub's (a test stub). */
static char *dg_web_base(const char *base, const char *owner, const char *repo)
{
	size_t n = strlen(base);
	if (strcmp(base, DG_DEFAULT_URL) == 0)
		return xasprintf("https://github.com/%s/%s", owner, repo);
	if (n > 7 && strcmp(base + n - 7, "/api/v3") == 0)
		return xasprintf("%.*s/%s/%s", (int)(n - 7), base, owner, repo);
	return NULL;
}

static void *dg_configure(const struct config_section *sec, const char *file, char *err,
			  size_t errlen)
{
	char where[300];
	if (!template_check_keys(sec, file, dg_keys, err, errlen))
		return NULL;
	template_key_where(sec, file, NULL, where, sizeof where);
	const char *url = template_get(sec, "url"), *repo = template_get(sec, "repo");
	const char *env = template_get(sec, "environment"), *token = template_get(sec, "token");
	const char *service = template_get(sec, "service");
	if (!url || !*url)
		url = DG_DEFAULT_URL;
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
		template_key_where(sec, file, "url", where, sizeof where);
		snprintf(err, errlen, "%surl must start with http:// or https://", where);
		return NULL;
	}
	const char *slash = repo ? strchr(repo, '/') : NULL;
	if (!slash || slash == repo || !slash[1] || strchr(slash + 1, '/')) {
		if (repo)
			template_key_where(sec, file, "repo", where, sizeof where);
		snprintf(err, errlen, "%s[deploys %s] type = github needs repo = OWNER/NAME", where,
			 sec->name);
		return NULL;
	}
	struct dg *g = xcalloc(1, sizeof *g);
	if (!deploy_cfg_times(sec, file, &g->interval_ms, &g->timeout_ms, err, errlen)) {
		dg_free(g);
		return NULL;
	}
	char *owner = xstrndup(repo, (size_t)(slash - repo));
	g->name = xstrdup(sec->name);
	g->base = http_base(url);
	g->owner = template_url_escape(owner);
	g->repo = template_url_escape(slash + 1);
	g->environment = env && *env ? template_url_escape(env) : NULL;
	g->token = token && *token ? xstrdup(token) : NULL;
	g->service = xstrdup(service && *service ? service : slash + 1);
	g->web = dg_web_base(g->base, g->owner, g->repo);
	free(owner);
	return g;
}

static char *dg_url(void *arg)
{
	struct dg *g = arg;
	return xasprintf("%s/repos/%s/%s/deployments?%s%s%sper_page=100", g->base, g->owner, g->repo,
			 g->environment ? "environment=" : "", g->environment ? g->environment : "",
			 g->environment ? "&" : "");
}

static bool dg_parse(void *arg, const char *body, size_t len, char *err, size_t errlen)
{
	struct dg *g = arg;
	struct deploy_list l = {0};
	if (!deploy_parse_github(body, len, g->service, g->web, &l, err, errlen))
		return false;
	for (size_t i = 0; i < l.n; i++)
		deploy_emit(&g->host, g->name, "github", &l.v[i]);
	deploy_list_free(&l);
	return true;
}

/* check-config: one GET of the deployments, answered and understood. */
static void dg_probe(void *self, struct backend_result *res)
{
	struct dg *g = self;
	char *url = dg_url(g);
	char *auth = g->token ? xasprintf("Authorization: Bearer %s", g->token) : NULL;
	const char *headers[] = {"Accept: application/vnd.github+json",
				 "X-GitHub-Api-Version: 2022-11-28", auth, NULL};
	char *body = NULL;
	poll_probe(url, "github", g->timeout_ms, headers, res, &body);
	if (res->ok) {
		struct deploy_list l = {0};
		res->ok = deploy_parse_github(body, strlen(body), g->service, g->web, &l, res->error,
					      sizeof res->error);
		deploy_list_free(&l);
	}
	free(body);
	free(auth);
	free(url);
}

static void dg_start(void *self, const struct backend_host *host)
{
	struct dg *g = self;
	g->host = *host;
	char *auth = g->token ? xasprintf("Authorization: Bearer %s", g->token) : NULL;
	const char *headers[] = {"Accept: application/vnd.github+json",
				 "X-GitHub-Api-Version: 2022-11-28", auth, NULL};
	struct poll_cfg pc = {.name = g->name, .kind = "github", .interval_ms = g->interval_ms,
			      .timeout_ms = g->timeout_ms};
	g->poll = poll_start(host, &pc, dg_url, headers, dg_parse, g);
	free(auth);
}

static void dg_stop(void *self)
{
	struct dg *g = self;
	poll_free(g->poll);
	g->poll = NULL;
}

const struct backend_class backend_deploys_github = {
	.family = "deploys",
	.type = "github",
	.configure = dg_configure,
	.start = dg_start,
	.probe = dg_probe,
	.stop = dg_stop,
	.free = dg_free,
};
