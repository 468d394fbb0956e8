/* [deploys NAME] type = argocd: an Argo CD application's sync history.
 *   url (https://argocd.example.com), app, token (Bearer: ${ENV} or
 *   token_file), service (the service these deploys belong to; default the
 *   app), interval (30 s), timeout (10 s).
 * GET /api/v1/applications/APP every interval; each status.history[] entry
 * becomes a deploy whose ref is the history id, which [rollback SERVICE]
 * via = argocd sends back as {"id":N}. Argo CD's own error message (an
 * expired token, an unknown app) marks the source stale. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/deploys.h"
#include "backends/poll.h"
#include "backends/template.h"
#include "backends/http.h"
#include "core/util.h"

struct da {
	char *name, *base, *app, *app_esc, *token, *service;
	int64_t interval_ms, timeout_ms;
	struct backend_host host;
	struct poll *poll;
};

static const char *const da_keys[] = {"url", "app", "token", "service", "interval", "timeout",
				      NULL};

static void da_free(void *self)
{
	struct da *a = self;
	if (!a)
		return;
	poll_free(a->poll);
	free(a->name);
	free(a->base);
	free(a->app);
	free(a->app_esc);
	free(a->token);
	free(a->service);
	free(a);
}

static void *da_configure(const struct config_section *sec, const char *file, char *err,
			  size_t errlen)
{
	char where[300];
	if (!template_check_keys(sec, file, da_keys, err, errlen))
		return NULL;
	template_key_where(sec, file, NULL, where, sizeof where);
	const char *url = template_get(sec, "url"), *token = template_get(sec, "token");
	const char *app = template_get(sec, "app"), *service = template_get(sec, "service");
	if (!url || !*url) {
		snprintf(err, errlen, "%s[deploys %s] type = argocd needs url = https://ARGOCD", where,
			 sec->name);
		return NULL;
	}
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
		template_key_where(sec, file, "url", where, sizeof where);
		snprintf(err, errlen, "%surl must start with http:// or https://", where);
		return NULL;
	}
	if (!app || !*app) {
		snprintf(err, errlen, "%s[deploys %s] type = argocd needs app = APPLICATION", where,
			 sec->name);
		return NULL;
	}
	if (!token || !*token) {
		snprintf(err, errlen, "%s[deploys %s] type = argocd needs token = ${ENV} or "
			 "token_file = PATH", where, sec->name);
		return NULL;
	}
	struct da *a = xcalloc(1, sizeof *a);
	if (!deploy_cfg_times(sec, file, &a->interval_ms, &a->timeout_ms, err, errlen)) {
		da_free(a);
		return NULL;
	}
	a->name = xstrdup(sec->name);
	a->base = http_base(url);
	a->app = xstrdup(app);
	a->app_esc = template_url_escape(app);
	a->token = xstrdup(token);
	a->service = xstrdup(service && *service ? service : app);
	return a;
}

static char *da_url(void *arg)
{
	struct da *a = arg;
	return xasprintf("%s/api/v1/applications/%s", a->base, a->app_esc);
}

static bool da_parse(void *arg, const char *body, size_t len, char *err, size_t errlen)
{
	struct da *a = arg;
	struct deploy_list l = {0};
	if (!deploy_parse_argocd(body, len, a->service, a->base, a->app_esc, &l, err, errlen))
		return false;
	for (size_t i = 0; i < l.n; i++)
		deploy_emit(&a->host, a->name, "argocd", &l.v[i]);
	deploy_list_free(&l);
	return true;
}

/* check-config: one GET of the application, answered and understood. */
static void da_probe(void *self, struct backend_result *res)
{
	struct da *a = self;
	char *url = da_url(a);
	char *auth = xasprintf("Authorization: Bearer %s", a->token);
	const char *headers[] = {auth, "Accept: application/json", NULL};
	char *body = NULL;
	poll_probe(url, "argocd", a->timeout_ms, headers, res, &body);
	if (res->ok) {
		struct deploy_list l = {0};
		res->ok = deploy_parse_argocd(body, strlen(body), a->service, a->base, a->app_esc, &l,
					      res->error, sizeof res->error);
		deploy_list_free(&l);
	}
	free(body);
	free(auth);
	free(url);
}

static void da_start(void *self, const struct backend_host *host)
{
	struct da *a = self;
	a->host = *host;
	char *auth = xasprintf("Authorization: Bearer %s", a->token);
	const char *headers[] = {auth, "Accept: application/json", NULL};
	struct poll_cfg pc = {.name = a->name, .kind = "argocd", .interval_ms = a->interval_ms,
			      .timeout_ms = a->timeout_ms};
	a->poll = poll_start(host, &pc, da_url, headers, da_parse, a);
	free(auth);
}

static void da_stop(void *self)
{
	struct da *a = self;
	poll_free(a->poll);
	a->poll = NULL;
}

const struct backend_class backend_deploys_argocd = {
	.family = "deploys",
	.type = "argocd",
	.configure = da_configure,
	.start = da_start,
	.probe = da_probe,
	.stop = da_stop,
	.free = da_free,
};
