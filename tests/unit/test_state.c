/* The state fold: each kind changes what it should, order rules, JSON shape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "core/state.h"

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

static void test_incident_lifecycle(void **state)
{
	struct state *st = state_new();
	apply(st, EV_INCIDENT_DECLARED, "alice", "{\"title\":\"Checkout 5xx\",\"severity\":\"SEV2\"}");
	assert_string_equal(st->title, "Checkout 5xx");
	assert_string_equal(st->severity, "SEV2");
	assert_true(st->declared > 0);
	apply(st, EV_INCIDENT_STATE, "alice", "{\"state\":\"identified\"}");
	assert_int_equal(st->inc_state, INC_IDENTIFIED);
	assert_true(st->identified > 0);
	apply(st, EV_INCIDENT_STATE, "alice", "{\"state\":\"no-such\"}");
	assert_int_equal(st->inc_state, INC_IDENTIFIED); /* ignored, no crash */
	apply(st, EV_INCIDENT_SEVERITY, "alice", "{\"severity\":\"SEV1\"}");
	assert_string_equal(st->severity, "SEV1");
	apply(st, EV_INCIDENT_STATE, "alice", "{\"state\":\"resolved\"}");
	assert_true(st->resolved > 0 && st->mitigated > 0);
	assert_int_equal(st->comms.n, 5);
	state_free(st);
}

static void test_alerts(void **state)
{
	struct state *st = state_new();
	const char *fired = "{\"id\":\"f1\",\"source\":\"am\",\"name\":\"HighErrorRate\",\"service\":\"api\","
			    "\"severity\":\"critical\",\"summary\":\"5xx 12%\",\"annotations\":{\"runbook_url\":\"http://rb\"}}";
	apply(st, EV_ALERT_FIRED, "am", fired);
	apply(st, EV_ALERT_FIRED, "am", fired); /* refire: same alert */
	assert_int_equal(st->alerts.n, 1);
	assert_int_equal(state_count_firing(st), 1);
	apply(st, EV_ALERT_SILENCED, "bob", "{\"id\":\"f1\",\"silence_id\":\"s1\"}");
	struct alert *a = state_find_alert(st, "f1");
	assert_int_equal(a->status, ALERT_SILENCED);
	assert_string_equal(a->silence_id, "s1");
	assert_int_equal(state_count_firing(st), 0);
	apply(st, EV_ALERT_UNSILENCED, "bob", "{\"id\":\"f1\"}");
	assert_int_equal(a->status, ALERT_FIRING);
	apply(st, EV_ALERT_RESOLVED, "am", "{\"id\":\"f1\"}");
	assert_int_equal(a->status, ALERT_RESOLVED);
	assert_true(a->resolved > 0);
	apply(st, EV_ALERT_RESOLVED, "am", "{\"id\":\"unknown\"}"); /* harmless */
	apply(st, EV_ALERT_FIRED, "am", fired);
	assert_int_equal(a->status, ALERT_FIRING);
	assert_int_equal(a->resolved, 0);
	state_free(st);
}

static void test_deploys_sorted_and_deduped(void **state)
{
	struct state *st = state_new();
	apply(st, EV_DEPLOY_SEEN, "ci", "{\"service\":\"api\",\"version\":\"2.4\",\"time\":\"2026-11-23T18:00:00Z\"}");
	apply(st, EV_DEPLOY_SEEN, "ci", "{\"service\":\"api\",\"version\":\"2.3\",\"time\":\"2026-11-23T17:00:00Z\"}");
	apply(st, EV_DEPLOY_SEEN, "ci", "{\"service\":\"web\",\"version\":\"1.4\",\"time\":\"2026-11-23T17:30:00Z\"}");
	apply(st, EV_DEPLOY_SEEN, "ci", "{\"service\":\"api\",\"version\":\"2.3\",\"time\":\"2026-11-23T17:00:00Z\"}");
	assert_int_equal(st->deploys.n, 3);
	const char *order[] = {"2.3", "1.4", "2.4"};
	for (int i = 0; i < 3; i++)
		assert_string_equal(((struct deploy *)st->deploys.v[i])->version, order[i]);
	int64_t t;
	time_parse_rfc3339("2026-11-23T18:00:00Z", &t);
	const struct deploy *d = state_last_deploy(st, "api", t);
	assert_non_null(d);
	assert_string_equal(d->version, "2.3");
	assert_null(state_last_deploy(st, "db", t));
	state_free(st);
}

static void test_roles(void **state)
{
	struct state *st = state_new();
	apply(st, EV_ROLE_ASSIGNED, "alice", "{\"role\":\"ic\",\"user\":\"alice\"}");
	apply(st, EV_ROLE_ASSIGNED, "alice", "{\"role\":\"secondary\",\"user\":\"dave\"}");
	apply(st, EV_ROLE_ASSIGNED, "alice", "{\"role\":\"secondary\",\"user\":\"erin\"}");
	apply(st, EV_ROLE_ASSIGNED, "alice", "{\"role\":\"secondary\",\"user\":\"erin\"}");
	apply(st, EV_ROLE_ASSIGNED, "alice", "{\"role\":\"bogus\",\"user\":\"x\"}");
	assert_true(state_user_holds(st, "alice", ROLE_IC));
	assert_int_equal(st->secondaries.n, 2);
	apply(st, EV_ROLE_ASSIGNED, "bob", "{\"role\":\"ic\",\"user\":\"bob\"}");
	assert_false(state_user_holds(st, "alice", ROLE_IC));
	apply(st, EV_ROLE_RELEASED, "x", "{\"role\":\"secondary\",\"user\":\"dave\"}");
	assert_int_equal(st->secondaries.n, 1);
	assert_true(state_user_holds(st, "erin", ROLE_SECONDARY));
	apply(st, EV_ROLE_RELEASED, "x", "{\"role\":\"ic\",\"user\":\"alice\"}"); /* not the holder */
	assert_true(state_user_holds(st, "bob", ROLE_IC));
	apply(st, EV_ROLE_RELEASED, "x", "{\"role\":\"ic\"}");
	assert_null(st->roles[ROLE_IC]);
	assert_int_equal(role_from_id("external-comms"), ROLE_EXTERNAL_COMMS);
	assert_string_equal(role_label(ROLE_PRIMARY), "Primary on-call");
	state_free(st);
}

static void test_actions_and_updates(void **state)
{
	struct state *st = state_new();
	apply(st, EV_ACTION_REQUESTED, "bob",
	      "{\"id\":\"a1\",\"service\":\"api\",\"from\":\"2.4\",\"to\":\"2.3\",\"via\":\"ssh\","
	      "\"display\":\"ssh x\",\"approval\":\"two-person\"}");
	struct action *a = state_find_action(st, "a1");
	assert_int_equal(a->status, ACT_PENDING_APPROVAL);
	apply(st, EV_ACTION_APPROVED, "carol", "{\"id\":\"a1\"}");
	assert_int_equal(a->status, ACT_APPROVED);
	assert_string_equal(a->approved_by, "carol");
	apply(st, EV_ACTION_STARTED, "system", "{\"id\":\"a1\"}");
	apply(st, EV_ACTION_OUTPUT, "system", "{\"id\":\"a1\",\"stream\":\"stdout\",\"line\":\"done\"}");
	apply(st, EV_ACTION_FINISHED, "system", "{\"id\":\"a1\",\"ok\":true,\"exit\":0,\"duration_ms\":900}");
	assert_int_equal(a->status, ACT_SUCCEEDED);
	assert_int_equal(a->output.n, 1);
	assert_true(st->mitigated > 0);

	apply(st, EV_UPDATE_REQUESTED, "carol",
	      "{\"id\":\"u1\",\"state\":\"investigating\",\"message\":\"m\",\"target\":\"sp\",\"audience\":\"external\"}");
	struct update *u = state_find_update(st, "u1");
	assert_int_equal(u->status, UPD_PENDING);
	apply(st, EV_UPDATE_FAILED, "system", "{\"id\":\"u1\",\"target\":\"sp\",\"error\":\"HTTP 503\",\"final\":false}");
	assert_int_equal(u->status, UPD_PENDING);
	assert_string_equal(u->error, "HTTP 503");
	apply(st, EV_UPDATE_SENT, "system", "{\"id\":\"u1\",\"target\":\"sp\",\"ref\":\"inc-9\"}");
	assert_int_equal(u->status, UPD_SENT);
	assert_null(u->error);
	assert_string_equal(u->ref, "inc-9");
	state_free(st);
}

static void test_seq_order_enforced(void **state)
{
	struct state *st = state_new();
	cJSON *d = cJSON_Parse("{\"text\":\"x\"}");
	struct wr_event *ev = wr_event_new(EV_NOTE, "bob", d);
	ev->seq = 5;
	assert_true(state_apply(st, ev));
	assert_false(state_apply(st, ev)); /* replayed twice: ignored */
	ev->seq = 4;
	assert_false(state_apply(st, ev));
	assert_int_equal(st->comms.n, 1);
	wr_event_free(ev);
	state_free(st);
}

/* The state verb's printed document is the text of the tree state_to_json
 * builds, and an alert folded by state_apply_take (labels moved out of the
 * event) is the same as one folded by state_apply. */
static void test_raw_text_and_take_match(void **state)
{
	struct state *a = state_new(), *b = state_new();
	seq = 0;
	for (int i = 0; i < 40; i++) {
		char json[512];
		snprintf(json, sizeof json,
			 "{\"id\":\"fp%d\",\"source\":\"am\",\"name\":\"Err\\\"%d\",\"service\":"
			 "\"api\",\"severity\":\"critical\",\"summary\":\"caf\u00e9 \\n %d\","
			 "\"starts_at\":\"2026-11-29T10:00:0%dZ\",\"labels\":{\"alertname\":\"Err\","
			 "\"i\":\"%d\"},\"annotations\":{\"summary\":\"s\"},\"url\":\"http://x/%d\"}",
			 i % 7, i, i, i % 10, i, i);
		cJSON *d = cJSON_Parse(json);
		assert_non_null(d);
		struct wr_event *e1 = wr_event_new(EV_ALERT_FIRED, "am", cJSON_Duplicate(d, 1));
		struct wr_event *e2 = wr_event_new(EV_ALERT_FIRED, "am", d);
		e1->seq = e2->seq = ++seq;
		e1->ts = e2->ts = 1795953600000LL + i;
		assert_true(state_apply(a, e1));
		assert_true(state_apply_take(b, e2));
		wr_event_free(e1);
		wr_event_free(e2);
	}
	assert_int_equal(a->alerts.n, 7);
	cJSON *ta = state_to_json(a), *tb = state_to_json(b);
	char *pa = cJSON_PrintUnformatted(ta), *pb = cJSON_PrintUnformatted(tb);
	assert_string_equal(pa, pb);
	cJSON *raw = state_to_json_raw(a);
	assert_true(cJSON_IsRaw(raw));
	assert_string_equal(raw->valuestring, pa);
	/* and it reads back as the same tree */
	cJSON *back = cJSON_Parse(raw->valuestring);
	assert_true(cJSON_Compare(back, ta, 1));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(back, "comms")), 40);
	cJSON_Delete(back);
	cJSON_Delete(raw);
	free(pa);
	free(pb);
	cJSON_Delete(ta);
	cJSON_Delete(tb);
	state_free(a);
	state_free(b);
}

static void test_json_shape(void **state)
{
	struct state *st = state_new();
	seq = 0;
	apply(st, EV_INCIDENT_DECLARED, "alice", "{\"title\":\"T\",\"severity\":\"SEV2\"}");
	apply(st, EV_SUSPECT_RANKED, "system",
	      "{\"suspects\":[{\"service\":\"api\",\"version\":\"2.4\",\"score\":0.9,\"reason\":\"r\",\"last_good\":\"2.3\"}]}");
	apply(st, EV_CLIENT_JOINED, "bob", "{\"client\":1,\"user\":\"bob\",\"mode\":\"operator\"}");
	double *v = malloc(2 * sizeof *v);
	int64_t *t = malloc(2 * sizeof *t);
	t[0] = 1000; t[1] = 2000; v[0] = 0.5; v[1] = NAN;
	state_set_series(st, "api", t, v, 2);
	state_set_backend(st, "am", "alerts", false, "HTTP 503", 5000);
	cJSON *j = state_to_json(st);
	const char *keys[] = {"incident", "alerts", "deploys", "spikes", "suspects", "roles",
			      "clients", "comms", "actions", "updates", "backends"};
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		assert_non_null(cJSON_GetObjectItemCaseSensitive(j, keys[i]));
	cJSON *s0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "suspects"), 0);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(s0, "last_good")->valuestring, "2.3");
	cJSON *b0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "backends"), 0);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(b0, "ok")));
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(b0, "error")->valuestring, "HTTP 503");
	cJSON *roles = cJSON_GetObjectItemCaseSensitive(j, "roles");
	assert_true(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(roles, "secondary")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(roles, "ic")));

	/* ephemeral round trip, NaN as a gap */
	cJSON *ser = state_series_to_json(st);
	struct state *other = state_new();
	state_series_from_json(other, ser);
	const struct series *s = state_get_series(other, "api");
	assert_non_null(s);
	assert_int_equal(s->n, 2);
	assert_true(isnan(s->v[1]));
	cJSON *bk = state_backends_to_json(st);
	state_backends_from_json(other, bk);
	assert_int_equal(other->backends.n, 1);
	cJSON_Delete(ser);
	cJSON_Delete(bk);
	cJSON_Delete(j);
	state_free(other);
	state_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_incident_lifecycle),
		cmocka_unit_test(test_alerts),
		cmocka_unit_test(test_deploys_sorted_and_deduped),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_actions_and_updates),
		cmocka_unit_test(test_seq_order_enforced),
		cmocka_unit_test(test_json_shape),
		cmocka_unit_test(test_raw_text_and_take_match),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
