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
	/* deploys at one time: each kept once, whichever of them comes again */
	apply(st, EV_DEPLOY_SEEN, "ci", "{\"service\":\"db\",\"version\":\"9\",\"time\":\"2026-11-23T17:30:00Z\"}");
	apply(st, EV_DEPLOY_SEEN, "ci", "{\"service\":\"api\",\"version\":\"2.3.1\",\"time\":\"2026-11-23T17:30:00Z\"}");
	apply(st, EV_DEPLOY_SEEN, "ci", "{\"service\":\"web\",\"version\":\"1.4\",\"time\":\"2026-11-23T17:30:00Z\"}");
	apply(st, EV_DEPLOY_SEEN, "ci", "{\"service\":\"db\",\"version\":\"9\",\"time\":\"2026-11-23T17:30:00Z\"}");
	assert_int_equal(st->deploys.n, 5);
	const char *order2[] = {"2.3", "1.4", "9", "2.3.1", "2.4"};
	for (int i = 0; i < 5; i++)
		assert_string_equal(((struct deploy *)st->deploys.v[i])->version, order2[i]);
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
 * builds, and alerts keep their labels and annotations as the events had
 * them. */
static void test_raw_text_matches_tree(void **state)
{
	struct state *a = state_new();
	seq = 0;
	cJSON *last[7] = {0};
	for (int i = 0; i < 40; i++) {
		char json[512];
		snprintf(json, sizeof json,
			 "{\"id\":\"fp%d\",\"source\":\"am\",\"name\":\"Err\\\"%d\",\"service\":"
			 "\"api\",\"severity\":\"critical\",\"summary\":\"caf\u00e9 \\n %d\","
			 "\"starts_at\":\"2026-11-29T10:00:0%dZ\",\"labels\":{\"alertname\":\"Err\","
			 "\"i\":\"%d\"},\"annotations\":{\"summary\":\"s\",\"n\":%d},\"url\":\"http://x/%d\"}",
			 i % 7, i, i, i % 10, i, i, i);
		cJSON *d = cJSON_Parse(json);
		assert_non_null(d);
		cJSON_Delete(last[i % 7]);
		last[i % 7] = cJSON_Duplicate(d, 1);
		struct wr_event *e = wr_event_new(EV_ALERT_FIRED, "am", d);
		e->seq = ++seq;
		e->ts = 1795953600000LL + i;
		assert_true(state_apply(a, e));
		wr_event_free(e);
	}
	assert_int_equal(a->alerts.n, 7);
	cJSON *ta = state_to_json(a);
	char *pa = cJSON_PrintUnformatted(ta);
	cJSON *raw = state_to_json_raw(a);
	assert_true(cJSON_IsRaw(raw));
	assert_string_equal(raw->valuestring, pa);
	/* and it reads back as the same tree */
	cJSON *back = cJSON_Parse(raw->valuestring);
	assert_true(cJSON_Compare(back, ta, 1));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(back, "comms")), 40);
	const cJSON *al;
	cJSON_ArrayForEach(al, cJSON_GetObjectItemCaseSensitive(back, "alerts")) {
		int k = atoi(cJSON_GetObjectItemCaseSensitive(al, "id")->valuestring + 2);
		assert_true(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(al, "labels"),
					  cJSON_GetObjectItemCaseSensitive(last[k], "labels"), 1));
		assert_true(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(al, "annotations"),
					  cJSON_GetObjectItemCaseSensitive(last[k], "annotations"), 1));
	}
	for (int k = 0; k < 7; k++)
		cJSON_Delete(last[k]);
	cJSON_Delete(back);
	cJSON_Delete(raw);
	free(pa);
	cJSON_Delete(ta);
	state_free(a);
}

/* Labels and annotations packed as pairs: the same object back, in order
 * with repeated names and values of every JSON type, and the same answer as
 * cJSON_Compare against other objects. */
static void test_pairs(void **state)
{
	static const char *const objs[] = {
		"{}",
		"{\"a\":\"1\"}",
		"{\"a\":\"1\",\"b\":\"2\"}",
		"{\"b\":\"2\",\"a\":\"1\"}",
		"{\"a\":\"1\",\"a\":\"2\"}",
		"{\"a\":\"2\",\"a\":\"1\"}",
		"{\"a\":1}",
		"{\"a\":\"1\",\"b\":null}",
		"{\"a\":\"1\",\"b\":{\"c\":[1,true,\"x\"]}}",
		"{\"a\":\"1\",\"b\":{\"c\":[1,true,\"y\"]}}",
		"{\"\":\"empty name\",\"caf\u00e9\":\"\\n\\u0001\"}",
		"{\"a\":\"\"}",
		"{\"A\":\"1\"}",
	};
	size_t n = sizeof objs / sizeof objs[0];
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_Parse(objs[i]);
		assert_non_null(o);
		struct pairs *p = pairs_from_json(o);
		assert_non_null(p);
		assert_int_equal(p->n, cJSON_GetArraySize(o));
		cJSON *back = pairs_to_json(p);
		char *t1 = cJSON_PrintUnformatted(o), *t2 = cJSON_PrintUnformatted(back);
		assert_string_equal(t1, t2);
		free(t1);
		free(t2);
		for (size_t j = 0; j < n; j++) {
			cJSON *other = cJSON_Parse(objs[j]);
			assert_int_equal(pairs_same_json(p, other), cJSON_Compare(o, other, 1));
			cJSON_Delete(other);
		}
		/* false only where a name repeats with another value, as cJSON says */
		assert_int_equal(pairs_same_json(p, back), cJSON_Compare(o, back, 1));
		cJSON_Delete(back);
		cJSON_Delete(o);
		free(p);
	}
	/* lookups: the first of a name, strings only */
	cJSON *o = cJSON_Parse("{\"x\":1,\"a\":\"first\",\"a\":\"second\",\"y\":\"z\"}");
	struct pairs *p = pairs_from_json(o);
	assert_string_equal(pairs_get(p, "a"), "first");
	assert_string_equal(pairs_get(p, "y"), "z");
	assert_null(pairs_get(p, "x"));
	assert_null(pairs_get(p, "missing"));
	assert_null(pairs_get(NULL, "a"));
	size_t off = 0;
	struct pair x;
	const char *names[] = {"x", "a", "a", "y"};
	for (int i = 0; i < 4; i++) {
		assert_true(pairs_next(p, &off, &x));
		assert_string_equal(x.name, names[i]);
		assert_int_equal(x.json, i == 0);
	}
	assert_false(pairs_next(p, &off, &x));
	free(p);
	cJSON_Delete(o);
	/* no set and an empty set are alike; not an object is no set */
	cJSON *empty = cJSON_CreateObject(), *arr = cJSON_CreateArray();
	assert_null(pairs_from_json(arr));
	assert_null(pairs_from_json(NULL));
	assert_null(pairs_to_json(NULL));
	assert_true(pairs_same_json(NULL, NULL));
	assert_true(pairs_same_json(NULL, empty));
	p = pairs_from_json(empty);
	assert_true(pairs_same_json(p, NULL));
	free(p);
	cJSON *one = cJSON_Parse("{\"a\":\"1\"}");
	assert_false(pairs_same_json(NULL, one));
	p = pairs_from_json(one);
	assert_false(pairs_same_json(p, NULL));
	assert_false(pairs_same_json(p, arr));
	free(p);
	cJSON_Delete(one);
	cJSON_Delete(empty);
	cJSON_Delete(arr);
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
		cmocka_unit_test(test_raw_text_matches_tree),
		cmocka_unit_test(test_pairs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
