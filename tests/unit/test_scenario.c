/* The demo's scenario: the error series has its onset where the script says,
 * the correlation finds api@2.4.0 (and never the deploy after the onset), a
 * rollback brings the ratio back to its baseline; the simulated rollback
 * target describes itself; the console hint follows the mitigation path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "core/correlate.h"
#include "core/demo.h"
#include "core/scenario.h"
#include "core/state.h"

/* A fixed start, off the 30 s grid on purpose. */
#define T0 ((int64_t)1795456931123LL)

static const struct scn_deploy *deploy_of(const char *service, const char *version)
{
	for (size_t i = 0; i < scenario_ndeploys; i++)
		if (strcmp(scenario_deploys[i].service, service) == 0 &&
		    strcmp(scenario_deploys[i].version, version) == 0)
			return &scenario_deploys[i];
	fail_msg("no deploy %s@%s in the scenario", service, version);
	return NULL;
}

static void test_series_shape(void **state)
{
	const struct scn_series *api = scenario_find_series("api");
	assert_non_null(api);
	assert_non_null(scenario_find_series("web"));
	assert_null(scenario_find_series("nope"));
	/* baseline ~0.3-0.6 % before the onset, ~12 % once risen */
	for (int64_t at = -3 * SCN_HOUR; at < api->onset; at += 7 * SCN_SEC) {
		double v = scenario_value(api, at, INT64_MIN);
		assert_true(v >= 0.003 && v <= 0.006);
	}
	for (int64_t at = api->onset + api->ramp; at < 10 * SCN_MIN; at += 7 * SCN_SEC) {
		double v = scenario_value(api, at, INT64_MIN);
		assert_true(v > 0.10 && v < 0.14);
	}
	/* the rise is monotone-ish through the ramp: halfway is between */
	double mid = scenario_value(api, api->onset + api->ramp / 2, INT64_MIN);
	assert_true(mid > 0.03 && mid < 0.10);
	/* noise: not a flat line, but deterministic */
	double a = scenario_value(api, -SCN_HOUR, INT64_MIN);
	double b = scenario_value(api, -SCN_HOUR + SCN_STEP_MS, INT64_MIN);
	double c = scenario_value(api, -SCN_HOUR + 2 * SCN_STEP_MS, INT64_MIN);
	assert_false(a == b && b == c);
	assert_true(a == scenario_value(api, -SCN_HOUR, INT64_MIN));
}

static void test_series_window(void **state)
{
	const struct scn_series *api = scenario_find_series("api");
	int64_t *t, *t2;
	double *v, *v2;
	size_t n = scenario_build_series(api, T0, 1.0, T0 + 10 * SCN_SEC, INT64_MIN, &t, &v);
	/* 3 h at 30 s, plus the point at now */
	assert_true(n >= 360 && n <= 362);
	assert_int_equal(t[n - 1], T0 + 10 * SCN_SEC);
	assert_true(t[n - 1] - t[0] <= SCN_WINDOW_MS);
	for (size_t i = 1; i + 1 < n; i++) {
		assert_int_equal(t[i] - t[i - 1], SCN_STEP_MS);
		assert_int_equal(t[i] % SCN_STEP_MS, 0);
	}
	size_t n2 = scenario_build_series(api, T0, 1.0, T0 + 10 * SCN_SEC, INT64_MIN, &t2, &v2);
	assert_int_equal(n, n2);
	assert_memory_equal(t, t2, n * sizeof *t);
	assert_memory_equal(v, v2, n * sizeof *v);
	free(t);
	free(v);
	free(t2);
	free(v2);
}

static void test_onset_between_deploys(void **state)
{
	const struct scn_series *api = scenario_find_series("api");
	const struct scn_deploy *bad = deploy_of("api", "2.4.0");
	const struct scn_deploy *after = deploy_of("web", "1.4.1");
	const struct scn_deploy *good = deploy_of("api", "2.3.0");
	assert_true(good->at < bad->at);
	assert_true(bad->at < api->onset);
	assert_true(api->onset - bad->at >= 1 * SCN_MIN && api->onset - bad->at <= 3 * SCN_MIN);
	/* in view and visible at the start, with some samples to go on */
	assert_true(api->onset < -2 * SCN_MIN && api->onset > -10 * SCN_MIN);
	assert_true(after->at > 0 && after->at > api->onset);
}

/* What the server's analysis does with the demo's data, at some moment. */
static void correlate_at(int64_t now, int64_t rollback_at, size_t ndeploys_seen,
			 struct cp_spike *spike, struct cr_suspect *sus, size_t *nsus,
			 struct cr_deploy *deps)
{
	const struct scn_series *api = scenario_find_series("api");
	int64_t *t;
	double *v;
	size_t n = scenario_build_series(api, T0, 1.0, now, rollback_at, &t, &v);
	assert_true(correlate_find_spike(t, v, n, spike));
	free(t);
	free(v);
	for (size_t i = 0; i < ndeploys_seen; i++) {
		deps[i].service = scenario_deploys[i].service;
		deps[i].version = scenario_deploys[i].version;
		deps[i].time = T0 + scenario_deploys[i].at;
	}
	struct cr_spike sp = {.service = "api", .onset = spike->onset, .magnitude = spike->magnitude};
	const char *firing[] = {"api", "web"};
	*nsus = correlate_rank(deps, ndeploys_seen, &sp, 1, firing, 2, sus, 8);
}

static void test_correlate_finds_api_240(void **state)
{
	const struct scn_series *api = scenario_find_series("api");
	const struct scn_deploy *bad = deploy_of("api", "2.4.0");
	const struct scn_deploy *after = deploy_of("web", "1.4.1");
	struct cr_deploy deps[16];
	assert_true(scenario_ndeploys <= 16);
	struct cp_spike spike;
	struct cr_suspect sus[8];
	size_t nsus;

	/* 10 s after the start, before web@1.4.1 exists */
	size_t nhist = 0;
	while (nhist < scenario_ndeploys && scenario_deploys[nhist].at <= 0)
		nhist++;
	correlate_at(T0 + 10 * SCN_SEC, INT64_MIN, nhist, &spike, sus, &nsus, deps);
	assert_true(spike.onset > T0 + bad->at);
	assert_true(spike.onset < T0 + after->at);
	assert_true(llabs(spike.onset - (T0 + api->onset)) <= 90 * SCN_SEC);
	assert_true(spike.peak > 0.08);
	assert_true(spike.baseline < 0.01);
	assert_true(nsus >= 1);
	assert_string_equal(deps[sus[0].deploy].service, "api");
	assert_string_equal(deps[sus[0].deploy].version, "2.4.0");
	assert_non_null(sus[0].last_good);
	assert_string_equal(sus[0].last_good, "2.3.0");

	/* a minute in: web@1.4.1 has been deployed after the onset, and is never a suspect */
	correlate_at(T0 + 60 * SCN_SEC, INT64_MIN, scenario_ndeploys, &spike, sus, &nsus, deps);
	assert_true(spike.onset < T0 + after->at);
	assert_true(nsus >= 1);
	assert_string_equal(deps[sus[0].deploy].version, "2.4.0");
	for (size_t i = 0; i < nsus; i++)
		assert_false(strcmp(deps[sus[i].deploy].version, "1.4.1") == 0);
}

static void test_web_is_quiet(void **state)
{
	const struct scn_series *web = scenario_find_series("web");
	int64_t *t;
	double *v;
	size_t n = scenario_build_series(web, T0, 1.0, T0 + 30 * SCN_SEC, INT64_MIN, &t, &v);
	for (size_t i = 0; i < n; i++)
		assert_true(v[i] < 0.003);
	struct cp_spike sp;
	if (correlate_find_spike(t, v, n, &sp))
		assert_true(sp.peak - sp.baseline < 0.002);
	free(t);
	free(v);
}

static void test_rollback_decays(void **state)
{
	const struct scn_series *api = scenario_find_series("api");
	int64_t rb = 45 * SCN_SEC;
	assert_true(scenario_value(api, rb - 1, rb) > 0.10);
	/* falling within seconds, back to baseline within ~15 s */
	assert_true(scenario_value(api, rb + 5 * SCN_SEC, rb) < 0.05);
	assert_true(scenario_value(api, rb + 15 * SCN_SEC, rb) < 0.009);
	assert_true(scenario_value(api, rb + 5 * SCN_MIN, rb) <= api->base_hi);
	/* the past keeps its spike; the newest point shows the recovery */
	int64_t *t;
	double *v;
	size_t n = scenario_build_series(api, T0, 1.0, T0 + rb + 20 * SCN_SEC, rb, &t, &v);
	assert_true(v[n - 1] < 0.008);
	double maxv = 0;
	for (size_t i = 0; i < n; i++)
		maxv = fmax(maxv, v[i]);
	assert_true(maxv > 0.10);
	free(t);
	free(v);
	/* only api falls with an api rollback: the alerts resolve after it, in order */
	for (size_t i = 0; i < scenario_nalerts; i++) {
		assert_true(scenario_alerts[i].resolve_after >= 10 * SCN_SEC);
		assert_true(scenario_alerts[i].resolve_after <= 20 * SCN_SEC);
		assert_non_null(scenario_alerts[i].runbook_url);
	}
}

static void test_speed(void **state)
{
	assert_int_equal(scenario_offset(T0, 4.0, T0 + 10 * SCN_SEC), 40 * SCN_SEC);
	assert_int_equal(scenario_offset(T0, 4.0, T0 - 10 * SCN_SEC), -10 * SCN_SEC);
	assert_int_equal(scenario_wall(T0, 4.0, 40 * SCN_SEC), T0 + 10 * SCN_SEC);
	assert_int_equal(scenario_wall(T0, 4.0, -SCN_HOUR), T0 - SCN_HOUR);
	/* at 4x the alerts come 4x sooner; the history stays where it was */
	const struct scn_series *api = scenario_find_series("api");
	int64_t *t;
	double *v;
	size_t n = scenario_build_series(api, T0, 4.0, T0 + 30 * SCN_SEC, INT64_MIN, &t, &v);
	assert_true(n >= 360);
	free(t);
	free(v);
}

static void test_rollback_class(void **state)
{
	const struct backend_class *bc = backend_find("rollback", "demo");
	assert_non_null(bc);
	struct config_section sec = {.family = "rollback", .name = "api", .type = "demo"};
	char err[256] = "";
	void *self = bc->configure(&sec, "demo", err, sizeof err);
	assert_non_null(self);
	struct backend_job_req req = {.service = "api", .from_version = "2.4.0", .to_version = "2.3.0"};
	char *d = bc->describe(self, &req);
	assert_string_equal(d, "demo-deploy rollback api 2.4.0 \u2192 2.3.0 (simulated target, "
			       "nothing leaves this machine)");
	free(d);
	bc->free(self);
	/* unknown keys are refused like any other class */
	struct config_kv kv = {.key = "host", .value = "x", .line = 3};
	struct config_section bad = {.family = "rollback", .name = "api", .type = "demo"};
	ptrvec_push(&bad.keys, &kv);
	assert_null(bc->configure(&bad, "demo", err, sizeof err));
	assert_non_null(strstr(err, "host"));
	ptrvec_free(&bad.keys, NULL);
}

static uint64_t seq;

static void apply(struct state *st, enum event_kind k, const char *by, const char *json)
{
	cJSON *d = cJSON_Parse(json);
	assert_non_null(d);
	char err[128];
	if (!event_validate(k, d, err, sizeof err))
		fail_msg("%s", err);
	struct wr_event *ev = wr_event_new(k, by, d);
	ev->seq = ++seq;
	assert_true(state_apply(st, ev));
	wr_event_free(ev);
}

static void test_hints(void **state)
{
	struct state *st = state_new();
	apply(st, EV_INCIDENT_DECLARED, "system", "{\"title\":\"Checkout API 5xx\",\"severity\":\"SEV2\"}");
	assert_non_null(strstr(demo_hint(st, "me", false), "press a"));
	apply(st, EV_ROLE_ASSIGNED, "me", "{\"role\":\"ic\",\"user\":\"me\"}");
	assert_non_null(strstr(demo_hint(st, "me", false), "press u"));
	apply(st, EV_UPDATE_REQUESTED, "me", "{\"id\":\"u1\",\"state\":\"investigating\","
	      "\"message\":\"m\",\"target\":\"statuspage-demo\",\"audience\":\"external\"}");
	/* no suspect yet: wait for it */
	assert_null(strstr(demo_hint(st, "me", false), "press"));
	apply(st, EV_SUSPECT_RANKED, "system", "{\"suspects\":[{\"service\":\"api\",\"version\":"
	      "\"2.4.0\",\"score\":0.9,\"reason\":\"r\",\"last_good\":\"2.3.0\"}]}");
	assert_non_null(strstr(demo_hint(st, "me", false), "press g"));
	assert_non_null(strstr(demo_hint(st, "me", true), "press r"));
	apply(st, EV_ALERT_FIRED, "demo", "{\"id\":\"x\",\"source\":\"demo\",\"name\":\"HighErrorRate\","
	      "\"service\":\"api\",\"severity\":\"critical\",\"summary\":\"s\"}");
	apply(st, EV_ACTION_REQUESTED, "me", "{\"id\":\"a1\",\"service\":\"api\",\"from\":\"2.4.0\","
	      "\"to\":\"2.3.0\",\"via\":\"demo\",\"display\":\"d\",\"approval\":\"none\"}");
	apply(st, EV_ACTION_STARTED, "system", "{\"id\":\"a1\"}");
	assert_non_null(strstr(demo_hint(st, "me", true), "rolling back"));
	apply(st, EV_ACTION_FINISHED, "system", "{\"id\":\"a1\",\"ok\":true,\"exit\":0,\"duration_ms\":3000}");
	assert_non_null(strstr(demo_hint(st, "me", true), "error rate"));
	apply(st, EV_ALERT_RESOLVED, "demo", "{\"id\":\"x\"}");
	assert_non_null(strstr(demo_hint(st, "me", true), "press S"));
	apply(st, EV_INCIDENT_STATE, "me", "{\"state\":\"resolved\"}");
	assert_non_null(strstr(demo_hint(st, "me", true), "resolved"));
	/* someone else's view: no role yet */
	apply(st, EV_INCIDENT_STATE, "me", "{\"state\":\"monitoring\"}");
	assert_non_null(strstr(demo_hint(st, "other", false), "press a"));
	assert_non_null(demo_hint(NULL, NULL, false));
	state_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_series_shape),
		cmocka_unit_test(test_series_window),
		cmocka_unit_test(test_onset_between_deploys),
		cmocka_unit_test(test_correlate_finds_api_240),
		cmocka_unit_test(test_web_is_quiet),
		cmocka_unit_test(test_rollback_decays),
		cmocka_unit_test(test_speed),
		cmocka_unit_test(test_rollback_class),
		cmocka_unit_test(test_hints),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
