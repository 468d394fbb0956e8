/* Comms cadence: countdowns from the updates given, and the "what changed
 * since" line for the next update's draft. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/cadence.h"
#include "core/event.h"

#define T0 1795460280000LL /* 2026-11-23T18:58:00Z */
#define MIN 60000LL

static void add(struct state *st, const char *json)
{
	char err[200];
	struct wr_event *ev = event_decode(json, strlen(json), err, sizeof err);
	if (!ev)
		fail_msg("%s: %s", json, err);
	assert_true(state_apply(st, ev));
	wr_event_free(ev);
}

static struct state *declared(void)
{
	struct state *st = state_new();
	add(st, "{\"seq\":1,\"ts\":\"2026-11-23T18:58:00Z\",\"kind\":\"incident.declared\",\"by\":\"a\","
		"\"title\":\"t\",\"severity\":\"SEV2\"}");
	return st;
}

static void test_first_updates_and_overdue(void **state)
{
	struct state *st = declared();
	struct cadence_due d[CADENCE__COUNT];
	cadence_compute(st, 5, 20, 15, T0 + 2 * MIN, d);
	assert_true(d[CADENCE_EXTERNAL].active);
	assert_int_equal(d[CADENCE_EXTERNAL].due, T0 + 5 * MIN);
	assert_int_equal(d[CADENCE_EXTERNAL].left, 3 * MIN);
	assert_int_equal(d[CADENCE_INTERNAL].due, T0 + 15 * MIN);
	cadence_compute(st, 5, 20, 15, T0 + 7 * MIN, d);
	assert_int_equal(d[CADENCE_EXTERNAL].left, -2 * MIN); /* overdue */
	assert_int_equal(d[CADENCE_EXTERNAL].last, 0);
	/* a countdown turned off */
	cadence_compute(st, 0, 20, 0, T0, d);
	assert_false(d[CADENCE_EXTERNAL].active);
	assert_false(d[CADENCE_INTERNAL].active);
	state_free(st);
}

static void test_updates_reset_their_audience_only(void **state)
{
	struct state *st = declared();
	add(st, "{\"seq\":2,\"ts\":\"2026-11-23T19:01:00Z\",\"kind\":\"update.requested\",\"by\":\"c\","
		"\"id\":\"u1\",\"state\":\"investigating\",\"message\":\"m\",\"target\":\"sp\","
		"\"audience\":\"external\"}");
	/* a finally failed internal update does not count as given */
	add(st, "{\"seq\":3,\"ts\":\"2026-11-23T19:02:00Z\",\"kind\":\"update.requested\",\"by\":\"c\","
		"\"id\":\"u2\",\"state\":\"investigating\",\"message\":\"m\",\"target\":\"sl\","
		"\"audience\":\"internal\"}");
	add(st, "{\"seq\":4,\"ts\":\"2026-11-23T19:02:05Z\",\"kind\":\"update.failed\",\"by\":\"system\","
		"\"id\":\"u2\",\"target\":\"sl\",\"error\":\"down\",\"final\":true}");
	struct cadence_due d[CADENCE__COUNT];
	cadence_compute(st, 5, 20, 15, T0 + 10 * MIN, d);
	assert_int_equal(d[CADENCE_EXTERNAL].last, T0 + 3 * MIN);
	assert_int_equal(d[CADENCE_EXTERNAL].due, T0 + 23 * MIN);
	assert_int_equal(d[CADENCE_INTERNAL].last, 0);
	assert_int_equal(d[CADENCE_INTERNAL].due, T0 + 15 * MIN);
	assert_int_equal(cadence_last_update_seq(st, "external"), 2);
	assert_int_equal(cadence_last_update_seq(st, "internal"), 0);
	/* resolved: no more countdowns */
	add(st, "{\"seq\":5,\"ts\":\"2026-11-23T19:20:00Z\",\"kind\":\"incident.state\",\"by\":\"a\","
		"\"state\":\"resolved\"}");
	cadence_compute(st, 5, 20, 15, T0 + 30 * MIN, d);
	assert_false(d[CADENCE_EXTERNAL].active);
	assert_false(d[CADENCE_INTERNAL].active);
	state_free(st);
}

static void test_changes_since(void **state)
{
	struct state *st = declared();
	char *s = state_changes_since(st, 1);
	assert_string_equal(s, "no changes");
	free(s);
	add(st, "{\"seq\":2,\"ts\":\"2026-11-23T18:59:00Z\",\"kind\":\"alert.fired\",\"by\":\"am\",\"id\":\"f1\","
		"\"source\":\"am\",\"name\":\"HighErrorRate\",\"service\":\"api\",\"severity\":\"critical\","
		"\"summary\":\"x\"}");
	add(st, "{\"seq\":3,\"ts\":\"2026-11-23T19:02:10Z\",\"kind\":\"action.requested\",\"by\":\"b\","
		"\"id\":\"a1\",\"service\":\"api\",\"from\":\"2.4.0\",\"to\":\"2.3.0\",\"via\":\"ssh\","
		"\"display\":\"ssh ...\",\"approval\":\"none\"}");
	add(st, "{\"seq\":4,\"ts\":\"2026-11-23T19:02:45Z\",\"kind\":\"action.finished\",\"by\":\"system\","
		"\"id\":\"a1\",\"ok\":true,\"exit\":0,\"duration_ms\":15020}");
	add(st, "{\"seq\":5,\"ts\":\"2026-11-23T19:04:00Z\",\"kind\":\"incident.state\",\"by\":\"d\","
		"\"state\":\"monitoring\"}");
	add(st, "{\"seq\":6,\"ts\":\"2026-11-23T19:06:30Z\",\"kind\":\"alert.resolved\",\"by\":\"am\",\"id\":\"f1\"}");
	s = state_changes_since(st, 1);
	assert_string_equal(s, "incident state -> monitoring; rollback api 2.4.0 -> 2.3.0 succeeded; "
			       "1 alert fired; 1 alert resolved");
	free(s);
	s = state_changes_since(st, 5);
	assert_string_equal(s, "1 alert resolved");
	free(s);
	state_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_updates_and_overdue),
		cmocka_unit_test(test_updates_reset_their_audience_only),
		cmocka_unit_test(test_changes_since),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
