/* [metrics NAME] type = prometheus: one error-rate series from a PromQL
 * range query, for the chart and spike detection.
 *   url       http://prometheus:9090 (required)
 *   query     PromQL (required), e.g. sum(rate(http_requests_total{code=~"5.."}[5m]))
 *   service   the service the series belongs to (default: the section name)
 *   range     how far back (3h); step between points (30s)
 *   interval  between polls (30s); timeout per request (10s)
 * Durations take s, m, h or d ("90s", "3h"); a bare number is seconds.
 * GET /api/v1/query_range with start = end - range and end = now rounded
 * down to the step, so points sit on the same times from one poll to the
 * next. Prometheus refuses more than 11,000 points per series: the step is
 * raised as needed. Values arrive as strings; NaN and +-Inf become gaps
 * (NaN), which the chart and core/correlate skip. When the query gives
 * several series they are summed per timestamp: a query left without sum()
 * (one series per status code or instance) then still yields the total
 * rate, where taking the first series would silently drop the rest. Write
 * the query so it returns one series when a sum is not meaningful (ratios). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "backends/poll.h"
#include "backends/sources.h"
#include "backends/template.h"
#include "backends/http.h"
#include "core/util.h"

#define MP_KIND "prometheus"
#define MP_PROBE_MS 5000

struct mp {
	char *name, *base, *query, *service;
	int64_t range_ms, step_ms, interval_ms, timeout_ms;
	struct backend_host host;
	struct poll *poll;
	struct prom_window win;   /* of the request in flight */
};

static const char *const mp_keys[] = {"url", "query", "service", "range", "step", "interval",
				      "timeout", NULL};

/* "30s", "5m", "3h", "1d" or seconds; -1 when malformed or not positive. */
static int64_t mp_parse_duration_ms(const char *s)
{
	if (!s || !*s)
		return -1;
	char *end;
	double v = strtod(s, &end);
	if (end == s || !(v > 0) || !isfinite(v))
		return -1;
	double mult = 1000;
	if (!strcmp(end, "ms"))
		mult = 1;
	else if (!strcmp(end, "s") || !*end)
		mult = 1000;
	else if (!strcmp(end, "m"))
		mult = 60e3;
	else if (!strcmp(end, "h"))
		mult = 3600e3;
	else if (!strcmp(end, "d"))
		mult = 86400e3;
	else
		return -1;
	double ms = v * mult;
	return ms >= 1 && ms < 1e13 ? (int64_t)ms : -1;
}

static void mp_free(void *self)
{
	struct mp *m = self;
	if (!m)
		return;
	poll_free(m->poll);
	free(m->name);
	free(m->base);
	free(m->query);
	free(m->service);
	free(m);
}

static bool mp_duration(const struct config_section *sec, const char *file, const char *key,
			int64_t min_ms, int64_t *out, char *err, size_t errlen)
{
	const char *v = template_get(sec, key);
	if (!v)
		return true;
	int64_t ms = mp_parse_duration_ms(v);
	if (ms < min_ms) {
		char where[300];
		template_key_where(sec, file, key, where, sizeof where);
		snprintf(err, errlen, "%s%s must be a duration of at least %lld s (e.g. 30s, 5m, 3h)",
			 where, key, (long long)(min_ms / 1000));
		return false;
	}
	*out = ms;
	return true;
}

static void *mp_configure(const struct config_section *sec, const char *file, char *err,
			  size_t errlen)
{
	char where[300];
	if (!template_check_keys(sec, file, mp_keys, err, errlen))
		return NULL;
	const char *url = template_get(sec, "url");
	const char *query = template_get(sec, "query");
	if (!url || !*url || !query || !*query) {
		template_key_where(sec, file, NULL, where, sizeof where);
		snprintf(err, errlen, "%s[metrics %s] type = prometheus needs %s", where, sec->name,
			 !url || !*url ? "url = http://HOST:9090" : "query = PROMQL");
		return NULL;
	}
	struct mp *m = xcalloc(1, sizeof *m);
	m->name = xstrdup(sec->name);
	m->base = http_base(url);
	m->query = xstrdup(query);
	const char *service = template_get(sec, "service");
	m->service = xstrdup(service && *service ? service : sec->name);
	m->range_ms = 3 * 3600 * 1000;
	m->step_ms = 30000;
	m->interval_ms = 30000;
	m->timeout_ms = 10000;
	if (!mp_duration(sec, file, "range", 60000, &m->range_ms, err, errlen) ||
	    !mp_duration(sec, file, "step", 1000, &m->step_ms, err, errlen) ||
	    !mp_duration(sec, file, "interval", 1000, &m->interval_ms, err, errlen) ||
	    !mp_duration(sec, file, "timeout", 1000, &m->timeout_ms, err, errlen)) {
		mp_free(m);
		return NULL;
	}
	return m;
}

struct prom_window prometheus_window(int64_t now_ms, int64_t range_ms, int64_t step_ms)
{
	struct prom_window w;
	if (step_ms < 1)
		step_ms = 1;
	if (range_ms < step_ms)
		range_ms = step_ms;
	/* (end - start) / step + 1 <= PROM_MAX_POINTS */
	int64_t min = (range_ms + PROM_MAX_POINTS - 2) / (PROM_MAX_POINTS - 1);
	w.step = step_ms > min ? step_ms : min;
	w.end = now_ms / w.step * w.step;
	w.start = w.end - (range_ms / w.step) * w.step;
	w.n = (size_t)((w.end - w.start) / w.step) + 1;
	return w;
}

static char *mp_url(void *arg)
{
	struct mp *m = arg;
	m->win = prometheus_window(time_now_ms(), m->range_ms, m->step_ms);
	const struct prom_window *w = &m->win;
	char *q = template_url_escape(m->query);
	char *url = xasprintf("%s/api/v1/query_range?query=%s&start=%lld.%03lld&end=%lld.%03lld"
			      "&step=%lld.%03lld", m->base, q,
			      (long long)(w->start / 1000), (long long)(w->start % 1000),
			      (long long)(w->end / 1000), (long long)(w->end % 1000),
			      (long long)(w->step / 1000), (long long)(w->step % 1000));
	free(q);
	return url;
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* data of a success answer, or NULL with Prometheus's own error text. */
static const cJSON *mp_data(const cJSON *doc, char *err, size_t errlen)
{
	const char *status = jstr(doc, "status");
	if (str_eq(status, "error")) {
		const char *type = jstr(doc, "errorType"), *e = jstr(doc, "error");
		snprintf(err, errlen, "%s: %s%s%s", MP_KIND, type ? type : "", type ? ": " : "",
			 e ? e : "error");
		return NULL;
	}
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(doc, "data");
	if (!str_eq(status, "success") || !cJSON_IsObject(data)) {
		snprintf(err, errlen, "%s: expected {\"status\":\"success\",\"data\":...}", MP_KIND);
		return NULL;
	}
	return data;
}

bool prometheus_matrix_parse(const char *body, size_t len, const struct prom_window *w,
			     int64_t **t_out, double **v_out, char *err, size_t errlen)
{
	cJSON *doc = poll_parse_json(MP_KIND, body, len, err, errlen);
	if (!doc)
		return false;
	const cJSON *data = mp_data(doc, err, errlen);
	const cJSON *result = cJSON_GetObjectItemCaseSensitive(data, "result");
	if (data && (!str_eq(jstr(data, "resultType"), "matrix") || !cJSON_IsArray(result))) {
		snprintf(err, errlen, "%s: expected a matrix result (a range query)", MP_KIND);
		data = NULL;
	}
	if (!data || w->n == 0 || w->step <= 0) {
		if (data)
			snprintf(err, errlen, "%s: empty time window", MP_KIND);
		cJSON_Delete(doc);
		return false;
	}
	size_t n = w->n;
	int64_t *t = xcalloc(n, sizeof *t);
	double *v = xcalloc(n, sizeof *v);
	for (size_t k = 0; k < n; k++) {
		t[k] = w->start + (int64_t)k * w->step;
		v[k] = NAN;
	}
	const cJSON *series;
	cJSON_ArrayForEach(series, result) {
		const cJSON *values = cJSON_GetObjectItemCaseSensitive(series, "values");
		const cJSON *pt;
		if (!cJSON_IsArray(values))
			values = NULL;
		cJSON_ArrayForEach(pt, values) {
			const cJSON *ts = cJSON_GetArrayItem(pt, 0), *val = cJSON_GetArrayItem(pt, 1);
			if (!cJSON_IsArray(pt) || !cJSON_IsNumber(ts) || !cJSON_IsString(val))
				continue;
			double ms = ts->valuedouble * 1000.0;
			double idx = round((ms - (double)w->start) / (double)w->step);
			if (!(idx >= 0 && idx < (double)n))
				continue; /* off the grid, or not a number */
			char *end;
			double x = strtod(val->valuestring, &end);
			if (end == val->valuestring || !isfinite(x))
				continue; /* NaN, +Inf, -Inf: a gap */
			size_t k = (size_t)idx;
			v[k] = isnan(v[k]) ? x : v[k] + x;
		}
	}
	cJSON_Delete(doc);
	*t_out = t;
	*v_out = v;
	return true;
}

static bool mp_parse(void *arg, const char *body, size_t len, char *err, size_t errlen)
{
	struct mp *m = arg;
	int64_t *t;
	double *v;
	if (!prometheus_matrix_parse(body, len, &m->win, &t, &v, err, errlen))
		return false;
	m->host.series(m->host.arg, m->service, t, v, m->win.n);
	return true;
}

static void mp_start(void *self, const struct backend_host *host)
{
	struct mp *m = self;
	m->host = *host;
	struct poll_cfg pc = {.name = m->name, .kind = MP_KIND, .interval_ms = m->interval_ms,
			      .timeout_ms = m->timeout_ms};
	const char *headers[] = {"Accept: application/json", NULL};
	m->poll = poll_start(host, &pc, mp_url, headers, mp_parse, m);
}

static void mp_stop(void *self)
{
	struct mp *m = self;
	poll_free(m->poll);
	m->poll = NULL;
}

/* check-config: the query at one instant, so a PromQL error shows now. */
static void mp_probe(void *self, struct backend_result *res)
{
	struct mp *m = self;
	char *q = template_url_escape(m->query);
	char *url = xasprintf("%s/api/v1/query?query=%s", m->base, q);
	free(q);
	char *body = NULL;
	poll_probe(url, MP_KIND, MP_PROBE_MS, NULL, res, &body);
	free(url);
	if (res->ok) {
		cJSON *doc = poll_parse_json(MP_KIND, body, strlen(body), res->error,
					     sizeof res->error);
		if (!doc || !mp_data(doc, res->error, sizeof res->error))
			res->ok = false;
		cJSON_Delete(doc);
	}
	free(body);
}

const struct backend_class backend_metrics_prometheus = {
	.family = "metrics",
	.type = "prometheus",
	.configure = mp_configure,
	.start = mp_start,
	.probe = mp_probe,
	.stop = mp_stop,
	.free = mp_free,
};
