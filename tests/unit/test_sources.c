/* Source parsers: Alertmanager and Prometheus alert lists, the range query
 * grid (Prometheus's 11,000-point limit) and the matrix: string values,
 * NaN and Inf as gaps, several series summed, Prometheus's error text. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "backends/alertfeed.h"
#include "backends/sources.h"
#include "core/util.h"

static const char *fired_str(const struct alertfeed_item *it, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(it->fired, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t known(void *arg, const char *id)
{
	return strcmp(id, "mine") == 0 ? 1800000000000 : 0;
}

static void test_alertmanager_list(void **ctx)
{
	const char *body =
		"[{\"fingerprint\":\"f1\",\"labels\":{\"alertname\":\"HighErrors\",\"service\":\"api\","
		"\"severity\":\"critical\"},\"annotations\":{\"summary\":\"5xx\",\"runbook_url\":\"u\"},"
		"\"startsAt\":\"2026-11-23T18:00:00.5Z\",\"endsAt\":\"2099-01-01T00:00:00Z\","
		"\"generatorURL\":\"http://prom/g\",\"status\":{\"state\":\"suppressed\","
		"\"silencedBy\":[\"other\",\"mine\"],\"inhibitedBy\":[]}},"
		/* ended already: resolved, left out */
		"{\"fingerprint\":\"f2\",\"labels\":{\"alertname\":\"Old\"},"
		"\"endsAt\":\"2020-01-01T00:00:00Z\",\"status\":{\"silencedBy\":[]}},"
		/* no fingerprint, labels not an object, not an object: skipped */
		"{\"labels\":{\"alertname\":\"X\"}},{\"fingerprint\":\"f3\",\"labels\":[]},7,"
		"{\"fingerprint\":\"f4\",\"labels\":{},\"status\":{\"silencedBy\":\"nope\"}}]";
	struct ptrvec items = {0};
	char err[200];
	cJSON *doc = NULL;
	assert_true(alertmanager_alerts_parse("am", body, strlen(body), known, NULL,
					      1795000000000, &items, &doc, err, sizeof err));
	assert_non_null(doc);
	assert_int_equal(items.n, 2);
	struct alertfeed_item *a = items.v[0];
	assert_string_equal(fired_str(a, "id"), "f1");
	assert_string_equal(fired_str(a, "source"), "am");
	assert_string_equal(fired_str(a, "name"), "HighErrors");
	assert_string_equal(fired_str(a, "severity"), "critical");
	assert_string_equal(fired_str(a, "summary"), "5xx");
	assert_string_equal(fired_str(a, "url"), "http://prom/g");
	assert_string_equal(fired_str(a, "starts_at"), "2026-11-23T18:00:00.500Z");
	assert_true(a->silenced);
	/* the silence whose end is known here wins over the first one */
	assert_string_equal(a->silence_id, "mine");
	assert_int_equal(a->silenced_until, 1800000000000);
	struct alertfeed_item *b = items.v[1];
	assert_string_equal(fired_str(b, "id"), "f4");
	assert_string_equal(fired_str(b, "name"), "(unnamed)");
	assert_false(b->silenced);
	ptrvec_free(&items, alertfeed_item_free);
	cJSON_Delete(doc);

	assert_false(alertmanager_alerts_parse("am", "{}", 2, NULL, NULL, 0, &items, NULL, err,
					       sizeof err));
	assert_string_equal(err, "alertmanager: expected a JSON array of alerts");
	assert_false(alertmanager_alerts_parse("am", "[{\"a\":", 6, NULL, NULL, 0, &items, NULL,
					       err, sizeof err));
	assert_non_null(strstr(err, "alertmanager: malformed JSON at byte"));
	assert_int_equal(items.n, 0);
}

static void test_prometheus_alerts(void **ctx)
{
	const char *body =
		"{\"status\":\"success\",\"data\":{\"alerts\":["
		"{\"labels\":{\"alertname\":\"A\",\"service\":\"api\"},\"annotations\":{},"
		"\"state\":\"firing\",\"activeAt\":\"2026-11-23T18:00:00Z\",\"value\":\"1e+00\"},"
		"{\"labels\":{\"alertname\":\"B\"},\"state\":\"pending\"},"
		"{\"labels\":{\"service\":\"api\",\"alertname\":\"A\"},\"state\":\"firing\"}]}}";
	struct ptrvec items = {0};
	char err[200];
	assert_true(prometheus_alerts_parse("p", body, strlen(body), &items, err, sizeof err));
	/* pending left out; the same labels in another order give the same id */
	assert_int_equal(items.n, 2);
	assert_string_equal(fired_str(items.v[0], "id"), fired_str(items.v[1], "id"));
	assert_string_equal(fired_str(items.v[0], "starts_at"), "2026-11-23T18:00:00Z");
	ptrvec_free(&items, alertfeed_item_free);

	const char *e = "{\"status\":\"error\",\"errorType\":\"unavailable\",\"error\":\"rules not loaded\"}";
	assert_false(prometheus_alerts_parse("p", e, strlen(e), &items, err, sizeof err));
	assert_string_equal(err, "prometheus: rules not loaded");
	assert_false(prometheus_alerts_parse("p", "[]", 2, &items, err, sizeof err));
	assert_non_null(strstr(err, "expected"));
}

static void test_window_respects_the_point_limit(void **ctx)
{
	int64_t now = 1795592414123;
	struct prom_window w = prometheus_window(now, 3 * 3600000, 30000);
	assert_int_equal(w.step, 30000);
	assert_int_equal(w.end % 30000, 0);
	assert_true(w.end <= now && now - w.end < 30000);
	assert_int_equal(w.end - w.start, 3 * 3600000);
	assert_int_equal(w.n, 361);
	/* 7 days at 1 s would be 604,801 points: the step grows */
	w = prometheus_window(now, 7 * 86400000LL, 1000);
	assert_true(w.n <= PROM_MAX_POINTS);
	assert_true(w.step >= 7 * 86400000LL / (PROM_MAX_POINTS - 1));
	assert_int_equal((size_t)((w.end - w.start) / w.step) + 1, w.n);
	/* exactly at the limit stays */
	w = prometheus_window(now, (PROM_MAX_POINTS - 1) * 1000LL, 1000);
	assert_int_equal(w.step, 1000);
	assert_int_equal(w.n, PROM_MAX_POINTS);
}

static void test_matrix_sum_and_gaps(void **ctx)
{
	struct prom_window w = {.start = 1000000, .end = 1000000 + 4 * 30000, .step = 30000, .n = 5};
	const char *body =
		"{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["
		"{\"metric\":{\"code\":\"500\"},\"values\":[[1000,\"1.5\"],[1030,\"NaN\"],"
		"[1060,\"+Inf\"],[1090.0004,\"2\"],[99999,\"5\"],[\"x\",\"1\"],[1000]]},"
		"{\"metric\":{\"code\":\"503\"},\"values\":[[1000,\"0.5\"],[1060,\"-Inf\"],"
		"[1120,\"bogus\"]]},"
		"{\"metric\":{},\"values\":\"nope\"}]}}";
	int64_t *t;
	double *v;
	char err[200];
	assert_true(prometheus_matrix_parse(body, strlen(body), &w, &t, &v, err, sizeof err));
	for (size_t k = 0; k < 5; k++)
		assert_int_equal(t[k], 1000000 + (int64_t)k * 30000);
	assert_true(fabs(v[0] - 2.0) < 1e-9);   /* 1.5 + 0.5 */
	assert_true(isnan(v[1]));               /* NaN */
	assert_true(isnan(v[2]));               /* +Inf and -Inf */
	assert_true(fabs(v[3] - 2.0) < 1e-9);   /* a hair off the grid still lands */
	assert_true(isnan(v[4]));               /* not a number */
	free(t);
	free(v);

	const char *e = "{\"status\":\"error\",\"errorType\":\"bad_data\","
			"\"error\":\"1:10: parse error: unclosed left parenthesis\"}";
	assert_false(prometheus_matrix_parse(e, strlen(e), &w, &t, &v, err, sizeof err));
	assert_string_equal(err, "prometheus: bad_data: 1:10: parse error: unclosed left parenthesis");
	const char *vec = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}";
	assert_false(prometheus_matrix_parse(vec, strlen(vec), &w, &t, &v, err, sizeof err));
	assert_non_null(strstr(err, "matrix"));
	/* an unknown metric: success, every point a gap */
	const char *none = "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[]}}";
	assert_true(prometheus_matrix_parse(none, strlen(none), &w, &t, &v, err, sizeof err));
	for (size_t k = 0; k < 5; k++)
		assert_true(isnan(v[k]));
	free(t);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alertmanager_list),
		cmocka_unit_test(test_prometheus_alerts),
		cmocka_unit_test(test_window_respects_the_point_limit),
		cmocka_unit_test(test_matrix_sum_and_gaps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
