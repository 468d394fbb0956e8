/* [alerts NAME] type = prometheus: the alerting rules' alerts straight from
 * Prometheus, for setups without Alertmanager.
 *   url       http://prometheus:9090 (required)
 *   interval  between polls (15s), timeout per request (10s)
 * Polls GET /api/v1/alerts. Only alerts in state "firing" are shown: a
 * "pending" one has not yet held for its rule's `for:` time, and would come
 * and go as noise. Prometheus gives no id, so the id is a hash of the
 * labels (the same label set always gives the same id). Prometheus cannot
 * silence: silence through Alertmanager. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/alertfeed.h"
#include "backends/backend.h"
#include "backends/poll.h"
#include "backends/sources.h"
#include "backends/template.h"
#include "backends/http.h"
#include "core/util.h"

#define PA_KIND "prometheus"
#define PA_PROBE_MS 5000

struct pa {
	char *name, *base;
	int64_t interval_ms, timeout_ms;
	struct backend_host host;
	struct poll *poll;
};

static const char *const pa_keys[] = {"url", "interval", "timeout", NULL};

static void pa_free(void *self)
{
	struct pa *a = self;
	if (!a)
		return;
	poll_free(a->poll);
	free(a->name);
	free(a->base);
	free(a);
}

static bool pa_seconds(const struct config_section *sec, const char *file, const char *key,
		       int64_t *out, char *err, size_t errlen)
{
	const char *v = template_get(sec, key);
	if (!v)
		return true;
	long s = template_parse_seconds(v);
	if (s <= 0) {
		char where[300];
		template_key_where(sec, file, key, where, sizeof where);
		snprintf(err, errlen, "%s%s must be seconds (e.g. 15, 15s or 1m)", where, key);
		return false;
	}
	*out = (int64_t)s * 1000;
	return true;
}

static void *pa_configure(const struct config_section *sec, const char *file, char *err,
			  size_t errlen)
{
	if (!template_check_keys(sec, file, pa_keys, err, errlen))
		return NULL;
	const char *url = template_get(sec, "url");
	if (!url || !*url) {
		char where[300];
		template_key_where(sec, file, NULL, where, sizeof where);
		snprintf(err, errlen, "%s[alerts %s] type = prometheus needs url = http://HOST:9090",
			 where, sec->name);
		return NULL;
	}
	struct pa *a = xcalloc(1, sizeof *a);
	a->name = xstrdup(sec->name);
	a->base = http_base(url);
	a->interval_ms = 15000;
	a->timeout_ms = 10000;
	if (!pa_seconds(sec, file, "interval", &a->interval_ms, err, errlen) ||
	    !pa_seconds(sec, file, "timeout", &a->timeout_ms, err, errlen)) {
		pa_free(a);
		return NULL;
	}
	return a;
}

static char *pa_url(void *arg)
{
	struct pa *a = arg;
	return xasprintf("%s/api/v1/alerts", a->base);
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* The alerts array of a success answer, or NULL with the reason. Shared by
 * the poll and the probe. */
static const cJSON *pa_alerts(const cJSON *doc, char *err, size_t errlen)
{
	const char *status = jstr(doc, "status");
	if (str_eq(status, "error")) {
		const char *e = jstr(doc, "error");
		snprintf(err, errlen, "%s: %s", PA_KIND, e ? e : "error");
		return NULL;
	}
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(doc, "data");
	const cJSON *alerts = cJSON_GetObjectItemCaseSensitive(data, "alerts");
	if (!str_eq(status, "success") || !cJSON_IsArray(alerts)) {
		snprintf(err, errlen, "%s: expected {\"status\":\"success\",\"data\":{\"alerts\":[...]}}",
			 PA_KIND);
		return NULL;
	}
	return alerts;
}

bool prometheus_alerts_parse(const char *source, const char *body, size_t len,
			     struct ptrvec *items, char *err, size_t errlen)
{
	cJSON *doc = poll_parse_json(PA_KIND, body, len, err, errlen);
	if (!doc)
		return false;
	const cJSON *alerts = pa_alerts(doc, err, errlen);
	if (!alerts) {
		cJSON_Delete(doc);
		return false;
	}
	const cJSON *al;
	cJSON_ArrayForEach(al, alerts) {
		const cJSON *labels = cJSON_GetObjectItemCaseSensitive(al, "labels");
		if (!cJSON_IsObject(labels) || !str_eq(jstr(al, "state"), "firing"))
			continue;
		char id[17];
		alertfeed_label_hash(labels, id);
		const cJSON *ann = cJSON_GetObjectItemCaseSensitive(al, "annotations");
		ptrvec_push(items, alertfeed_item_new(id, source, labels,
						      cJSON_IsObject(ann) ? ann : NULL,
						      jstr(al, "activeAt"), NULL));
	}
	cJSON_Delete(doc);
	return true;
}

static bool pa_parse(void *arg, const char *body, size_t len, char *err, size_t errlen)
{
	struct pa *a = arg;
	struct ptrvec items = {0};
	if (!prometheus_alerts_parse(a->name, body, len, &items, err, errlen))
		return false;
	alertfeed_sync(&a->host, a->name, PA_KIND, &items);
	ptrvec_free(&items, alertfeed_item_free);
	return true;
}

static void pa_start(void *self, const struct backend_host *host)
{
	struct pa *a = self;
	a->host = *host;
	struct poll_cfg pc = {.name = a->name, .kind = PA_KIND, .interval_ms = a->interval_ms,
			      .timeout_ms = a->timeout_ms};
	const char *headers[] = {"Accept: application/json", NULL};
	a->poll = poll_start(host, &pc, pa_url, headers, pa_parse, a);
}

static void pa_stop(void *self)
{
	struct pa *a = self;
	poll_free(a->poll);
	a->poll = NULL;
}

static void pa_probe(void *self, struct backend_result *res)
{
	char *url = pa_url(self);
	char *body = NULL;
	poll_probe(url, PA_KIND, PA_PROBE_MS, NULL, res, &body);
	free(url);
	if (res->ok) {
		cJSON *doc = poll_parse_json(PA_KIND, body, strlen(body), res->error,
					     sizeof res->error);
		if (!doc || !pa_alerts(doc, res->error, sizeof res->error))
			res->ok = false;
		cJSON_Delete(doc);
	}
	free(body);
}

const struct backend_class backend_alerts_prometheus = {
	.family = "alerts",
	.type = "prometheus",
	.configure = pa_configure,
	.start = pa_start,
	.probe = pa_probe,
	.stop = pa_stop,
	.free = pa_free,
};
