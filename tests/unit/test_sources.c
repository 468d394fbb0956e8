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
#include "tests/unit/fired.h"


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

/* Parses body both ways (direct reader on and off) and checks they agree:
 * the outcome, the error, each item and what silencing keeps. Returns how
 * many alerts the direct reader took. */
static unsigned long both_ways(const char *body)
{
	char e1[512] = "", e2[512] = "";
	struct ptrvec a = {0}, b = {0};
	cJSON *da = NULL, *db = NULL;
	alertmanager_direct = false;
	bool ok2 = alertmanager_alerts_parse("am", body, strlen(body), known, NULL, 1795000000000,
					     &b, &db, e2, sizeof e2);
	alertmanager_direct = true;
	unsigned long before = alertmanager_direct_reads;
	bool ok1 = alertmanager_alerts_parse("am", body, strlen(body), known, NULL, 1795000000000,
					     &a, &da, e1, sizeof e1);
	assert_int_equal(ok1, ok2);
	assert_string_equal(e1, e2);
	assert_int_equal(a.n, b.n);
	for (size_t i = 0; i < a.n; i++) {
		const struct alertfeed_item *x = a.v[i], *y = b.v[i];
		char *px = fired_text(x), *py = fired_text(y);
		assert_string_equal(px, py);
		free(px);
		free(py);
		assert_int_equal(x->silenced, y->silenced);
		assert_int_equal(x->silenced_until, y->silenced_until);
		if (x->silence_id || y->silence_id)
			assert_string_equal(x->silence_id, y->silence_id);
	}
	/* as text: cJSON_Compare cannot tell objects with a repeated name */
	char *ka = da ? cJSON_PrintUnformatted(da) : NULL, *kb = db ? cJSON_PrintUnformatted(db) : NULL;
	assert_string_equal(ka ? ka : "-", kb ? kb : "-");
	free(ka);
	free(kb);
	cJSON_Delete(da);
	cJSON_Delete(db);
	ptrvec_free(&a, alertfeed_item_free);
	ptrvec_free(&b, alertfeed_item_free);
	return alertmanager_direct_reads - before;
}

#define AM_PLAIN_ALERT(extra) \
	"{\"annotations\":{\"summary\":\"5xx ratio 12%\",\"runbook\":\"https://rb/x\"}," \
	"\"endsAt\":\"2026-11-29T12:00:00.000Z\",\"fingerprint\":\"f1\"," \
	"\"receivers\":[{\"name\":\"team\"}],\"startsAt\":\"2026-11-29T10:00:00.123Z\"," \
	"\"status\":{\"inhibitedBy\":[],\"silencedBy\":[],\"state\":\"active\"}," \
	"\"updatedAt\":\"2026-11-29T10:00:01Z\",\"generatorURL\":\"http://prom/graph?g0=x\"," \
	"\"labels\":{\"alertname\":\"HighErrorRate\",\"service\":\"api\",\"severity\":\"critical\"}" \
	extra "}"

/* Each part's items as text, one line per item. */
static void collect_part(void *arg, struct ptrvec *items)
{
	struct sbuf *out = arg;
	for (size_t i = 0; i < items->n; i++) {
		const struct alertfeed_item *it = items->v[i];
		char *t = fired_text(it);
		sbuf_printf(out, "%s %d %s\n", t, it->silenced, it->silence_id ? it->silence_id : "-");
		free(t);
		alertfeed_item_free(items->v[i]);
	}
	items->n = 0;
	sbuf_adds(out, "--\n");
}

/* An answer read in parts, its memory given back as they are taken: the
 * same items as when it is all held, and what was given back reads as
 * zeros (so nothing is read from it again). */
static void test_alertmanager_parts_release(void **ctx)
{
	struct sbuf text;
	sbuf_init(&text);
	sbuf_adds(&text, "[");
	for (int i = 0; i < 2000; i++) {
		if (i)
			sbuf_adds(&text, ",");
		if (i % 97 == 5)
			/* one cJSON must read: an escape, a silence */
			sbuf_printf(&text, "{\"fingerprint\":\"e%d\",\"labels\":{\"alertname\":"
				    "\"Esc\\u00e9%d\"},\"status\":{\"silencedBy\":[\"s%d\"]}}",
				    i, i, i);
		else
			sbuf_printf(&text, "{\"fingerprint\":\"p%d\",\"labels\":{\"alertname\":"
				    "\"Plain%d\",\"service\":\"svc%d\"},\"annotations\":"
				    "{\"summary\":\"number %d of the answer\"},\"startsAt\":"
				    "\"2026-11-29T10:00:00Z\",\"endsAt\":\"2026-11-29T12:00:00Z\"}",
				    i, i % 13, i % 7, i);
	}
	sbuf_adds(&text, "]");
	struct sbuf held, given;
	sbuf_init(&held);
	sbuf_init(&given);
	char err[200];
	size_t from = alertmanager_release_from, step = alertmanager_release_step;
	/* all held */
	char *body = malloc(text.len + 1);
	assert_non_null(body);
	memcpy(body, text.buf, text.len + 1);
	alertmanager_release_from = (size_t)-1;
	assert_true(alertmanager_alerts_parse_parts("am", body, text.len, 1795000000000,
						     collect_part, &held, err, sizeof err));
	assert_int_equal(body[text.len / 2], text.buf[text.len / 2]);
	free(body);
	/* given back in small steps */
	body = malloc(text.len + 1);
	assert_non_null(body);
	memcpy(body, text.buf, text.len + 1);
	alertmanager_release_from = 0;
	alertmanager_release_step = 16 << 10;
	assert_true(alertmanager_alerts_parse_parts("am", body, text.len, 1795000000000,
						     collect_part, &given, err, sizeof err));
	alertmanager_release_from = from;
	alertmanager_release_step = step;
	assert_string_equal(given.buf, held.buf);
	assert_non_null(strstr(held.buf, "\"name\":\"Plain12\""));
	assert_non_null(strstr(held.buf, " 1 s5\n"));
	/* the middle of the answer was given back */
	assert_int_equal(body[text.len / 2], 0);
	free(body);
	sbuf_free(&text);
	sbuf_free(&held);
	sbuf_free(&given);
}

/* The direct reader takes plain alerts and leaves anything else to cJSON,
 * with the same result either way. */
static void test_alertmanager_direct_agrees(void **ctx)
{
	/* plain: read directly, alone and twice in a list */
	assert_int_equal(both_ways("[" AM_PLAIN_ALERT("") "]"), 1);
	assert_int_equal(both_ways(" [ " AM_PLAIN_ALERT(",\"n\":[1,-0.5e+3,0,true,null,{}]") " , "
				   AM_PLAIN_ALERT("") " ] "), 2);
	/* no annotations, or no status: still plain */
	assert_int_equal(both_ways("[{\"fingerprint\":\"f2\",\"labels\":{\"alertname\":\"A\"}}]"), 1);
	/* ended already: read directly and left out, as cJSON's path does */
	assert_int_equal(both_ways("[{\"fingerprint\":\"f3\",\"labels\":{},\"endsAt\":"
				   "\"2020-01-01T00:00:00Z\"}]"), 1);
	/* each of these goes through cJSON, and agrees */
	static const char *const other[] = {
		"[{\"fingerprint\":\"s\",\"labels\":{\"a\":\"b\"},\"status\":{\"silencedBy\":[\"x\"]}}]",
		"[{\"fingerprint\":\"mine\",\"labels\":{\"a\":\"b\"},\"status\":{\"silencedBy\":[\"mine\",\"z\"]}}]",
		"[{\"fingerprint\":\"e\",\"labels\":{\"a\":\"b\\\"c\"}}]",
		"[{\"fingerprint\":\"u\",\"labels\":{\"a\":\"caf\xc3\xa9\"}}]",
		"[{\"fingerprint\":\"c\",\"labels\":{\"a\":\"x\x01y\"}}]",
		"[{\"fingerprint\":\"d\",\"fingerprint\":\"d2\",\"labels\":{\"a\":\"b\"}}]",
		"[{\"fingerprint\":\"l\",\"labels\":{\"a\":\"b\",\"a\":\"c\"}}]",
		"[{\"fingerprint\":\"l\",\"labels\":{\"\":\"b\"}}]",
		"[{\"fingerprint\":\"l\",\"labels\":{\"a\":1}}]",
		"[{\"fingerprint\":7,\"labels\":{\"a\":\"b\"}}]",
		"[{\"fingerprint\":\"\",\"labels\":{\"a\":\"b\"}}]",
		"[{\"fingerprint\":\"n\"}]",
		"[{\"fingerprint\":\"a\",\"labels\":{\"a\":\"b\"},\"annotations\":[]}]",
		"[{\"fingerprint\":\"a\",\"labels\":{\"a\":\"b\"},\"status\":\"active\"}]",
		"[{\"fingerprint\":\"a\",\"labels\":{\"a\":\"b\"},\"endsAt\":null}]",
		"[{\"fingerprint\":\"a\",\"labels\":{\"a\":\"b\"},\"n\":01}]",
		"[{\"fingerprint\":\"a\",\"labels\":{\"a\":\"b\"},\"n\":1.}]",
		"[{\"fingerprint\":\"a\",\"labels\":{\"a\":\"b\"},\"n\":-}]",
		"[{\"fingerprint\":\"a\",\"labels\":{\"a\":\"b\"},\"n\":1e}]",
		"[{\"fingerprint\":\"a\",\"labels\":{\"a\":\"b\"},\"n\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}]",
		"[{\"fingerprint\":\"a\",\"labels\":{\"a\":\"b\"},\"n\":tru}]",
		"[{\"fingerprint\":\"a\",\"labels\":{\"a\":\"b\"} \"x\":1}]",
		"[{\"fingerprint\":\"a\",\"labels\":{\"a\":\"b\"},}]",
		"[{}]",
		"[{\"fingerprint\":\"a\",\"labels\":{\"a\":\"b\"},\"generatorURL\":\"http://\x7f\"}]",
	};
	for (size_t i = 0; i < sizeof other / sizeof *other; i++) {
		unsigned long n = both_ways(other[i]);
		if (n != 0)
			fail_msg("read directly: %s", other[i]);
	}
	/* a list broken after a plain alert: refused alike, the same error */
	both_ways("[{\"fingerprint\":\"a\",\"labels\":{\"a\":\"b\"}}x]");
	both_ways("[{\"fingerprint\":\"a\",\"labels\":{\"a\":\"b\"}},]");
	both_ways("[{\"fingerprint\":\"a\",\"labels\":{\"a\":\"b\"}}");
	/* a long label value crosses the eight-byte scan at every offset */
	char body[2048];
	for (int k = 0; k < 24; k++) {
		char v[64];
		memset(v, 'x', (size_t)k);
		v[k] = '\0';
		snprintf(body, sizeof body,
			 "[{\"fingerprint\":\"f%d\",\"labels\":{\"a\":\"%s\\\\q\"}},"
			 "{\"fingerprint\":\"g%d\",\"labels\":{\"a\":\"%s\"}}]", k, v, k, v);
		assert_int_equal(both_ways(body), 1);
	}
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
		cmocka_unit_test(test_alertmanager_direct_agrees),
		cmocka_unit_test(test_alertmanager_parts_release),
		cmocka_unit_test(test_prometheus_alerts),
		cmocka_unit_test(test_window_respects_the_point_limit),
		cmocka_unit_test(test_matrix_sum_and_gaps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
