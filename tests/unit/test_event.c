/* Event encode/decode round trips for every kind, and schema errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stdio.h>

#include "core/event.h"
#include "core/util.h"

/* A valid payload for each kind, built from its spec so no kind is missed. */
static cJSON *sample_data(enum event_kind k)
{
	cJSON *d = cJSON_CreateObject();
	switch (k) {
	case EV_INCIDENT_DECLARED:
		cJSON_AddStringToObject(d, "title", "Checkout API 5xx");
		cJSON_AddStringToObject(d, "severity", "SEV2");
		break;
	case EV_INCIDENT_STATE: cJSON_AddStringToObject(d, "state", "identified"); break;
	case EV_INCIDENT_SEVERITY: cJSON_AddStringToObject(d, "severity", "SEV1"); break;
	case EV_ALERT_FIRED:
		cJSON_AddStringToObject(d, "id", "fp1");
		cJSON_AddStringToObject(d, "source", "am");
		cJSON_AddStringToObject(d, "name", "HighErrorRate");
		cJSON_AddStringToObject(d, "service", "api");
		cJSON_AddStringToObject(d, "severity", "critical");
		cJSON_AddStringToObject(d, "summary", "5xx \"12%\" \xc3\xa9");
		cJSON_AddItemToObject(d, "labels", cJSON_Parse("{\"alertname\":\"HighErrorRate\"}"));
		break;
	case EV_ALERT_RESOLVED: cJSON_AddStringToObject(d, "id", "fp1"); break;
	case EV_ALERT_SILENCED:
		cJSON_AddStringToObject(d, "id", "fp1");
		cJSON_AddStringToObject(d, "silence_id", "s-1");
		break;
	case EV_ALERT_UNSILENCED: cJSON_AddStringToObject(d, "id", "fp1"); break;
	case EV_DEPLOY_SEEN:
		cJSON_AddStringToObject(d, "service", "api");
		cJSON_AddStringToObject(d, "version", "2.4.0");
		cJSON_AddStringToObject(d, "time", "2026-11-23T18:02:11Z");
		break;
	case EV_SPIKE_DETECTED:
		cJSON_AddStringToObject(d, "service", "api");
		cJSON_AddStringToObject(d, "onset", "2026-11-23T18:05:00Z");
		cJSON_AddNumberToObject(d, "baseline", 0.004);
		cJSON_AddNumberToObject(d, "peak", 0.12);
		cJSON_AddNumberToObject(d, "magnitude", 25.5);
		break;
	case EV_SUSPECT_RANKED:
		cJSON_AddItemToObject(d, "suspects",
				      cJSON_Parse("[{\"service\":\"api\",\"version\":\"2.4.0\"}]"));
		break;
	case EV_ROLE_ASSIGNED:
		cJSON_AddStringToObject(d, "role", "ic");
		cJSON_AddStringToObject(d, "user", "alice");
		break;
	case EV_ROLE_RELEASED: cJSON_AddStringToObject(d, "role", "ic"); break;
	case EV_NOTE: cJSON_AddStringToObject(d, "text", "looking at deploys\nline two"); break;
	case EV_UPDATE_REQUESTED:
		cJSON_AddStringToObject(d, "id", "u1");
		cJSON_AddStringToObject(d, "state", "investigating");
		cJSON_AddStringToObject(d, "message", "We are investigating");
		cJSON_AddStringToObject(d, "target", "statuspage");
		cJSON_AddStringToObject(d, "audience", "external");
		break;
	case EV_UPDATE_SENT:
		cJSON_AddStringToObject(d, "id", "u1");
		cJSON_AddStringToObject(d, "target", "statuspage");
		break;
	case EV_UPDATE_FAILED:
		cJSON_AddStringToObject(d, "id", "u1");
		cJSON_AddStringToObject(d, "target", "statuspage");
		cJSON_AddStringToObject(d, "error", "HTTP 503");
		cJSON_AddBoolToObject(d, "final", 0);
		break;
	case EV_ACTION_REQUESTED:
		cJSON_AddStringToObject(d, "id", "a1");
		cJSON_AddStringToObject(d, "service", "api");
		cJSON_AddStringToObject(d, "from", "2.4.0");
		cJSON_AddStringToObject(d, "to", "2.3.0");
		cJSON_AddStringToObject(d, "via", "ssh");
		cJSON_AddStringToObject(d, "display", "ssh deploy@host -- rollback api 2.3.0");
		cJSON_AddStringToObject(d, "approval", "none");
		break;
	case EV_ACTION_APPROVED:
	case EV_ACTION_STARTED: cJSON_AddStringToObject(d, "id", "a1"); break;
	case EV_ACTION_OUTPUT:
		cJSON_AddStringToObject(d, "id", "a1");
		cJSON_AddStringToObject(d, "stream", "stdout");
		cJSON_AddStringToObject(d, "line", "ok");
		break;
	case EV_ACTION_FINISHED:
		cJSON_AddStringToObject(d, "id", "a1");
		cJSON_AddBoolToObject(d, "ok", 1);
		cJSON_AddNumberToObject(d, "exit", 0);
		cJSON_AddNumberToObject(d, "duration_ms", 1234);
		break;
	case EV_ACTION_CANCELLED:
		cJSON_AddStringToObject(d, "id", "a1");
		cJSON_AddStringToObject(d, "reason", "operator cancelled");
		break;
	case EV_CLIENT_JOINED:
		cJSON_AddNumberToObject(d, "client", 3);
		cJSON_AddStringToObject(d, "user", "bob");
		cJSON_AddStringToObject(d, "mode", "operator");
		break;
	case EV_CLIENT_LEFT:
		cJSON_AddNumberToObject(d, "client", 3);
		cJSON_AddStringToObject(d, "user", "bob");
		break;
	case EV__COUNT: break;
	}
	return d;
}

static void test_round_trip_every_kind(void **state)
{
	for (int k = 0; k < EV__COUNT; k++) {
		struct wr_event *ev = wr_event_new((enum event_kind)k, "bob", sample_data((enum event_kind)k));
		ev->seq = (uint64_t)k + 1;
		ev->ts = 1795456931120; /* has milliseconds */
		char err[256] = "";
		assert_true(event_validate(ev->kind, ev->data, err, sizeof err));
		char *line = event_encode(ev);
		assert_null(strchr(line, '\n')); /* one line, whatever the text holds */
		struct wr_event *back = event_decode(line, strlen(line), err, sizeof err);
		if (!back)
			fail_msg("kind %s: %s (%s)", event_kind_name(ev->kind), err, line);
		assert_int_equal(back->kind, ev->kind);
		assert_int_equal(back->seq, ev->seq);
		assert_int_equal(back->ts, ev->ts);
		assert_string_equal(back->by, "bob");
		assert_true(cJSON_Compare(back->data, ev->data, 1));
		char *again = event_encode(back);
		assert_string_equal(again, line);
		free(again);
		free(line);
		wr_event_free(back);
		wr_event_free(ev);
	}
}

static void test_kind_names_unique(void **state)
{
	for (int a = 0; a < EV__COUNT; a++) {
		assert_int_equal(event_kind_from_name(event_kind_name((enum event_kind)a)), a);
		for (int b = a + 1; b < EV__COUNT; b++)
			assert_string_not_equal(event_kind_name((enum event_kind)a),
						event_kind_name((enum event_kind)b));
	}
	assert_int_equal(event_kind_from_name("nope"), -1);
}

static void expect_reject(const char *line, const char *needle)
{
	char err[256] = "";
	struct wr_event *ev = event_decode(line, strlen(line), err, sizeof err);
	assert_null(ev);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
}

static void test_decode_rejects(void **state)
{
	expect_reject("{\"seq\":1,\"ts\":\"2026-11-23T18:02:11Z\",\"kind\":\"note\",\"by\":\"b\"}",
		      "missing field \"text\"");
	expect_reject("{\"seq\":1,\"ts\":\"2026-11-23T18:02:11Z\",\"kind\":\"note\",\"by\":\"b\",\"text\":3}",
		      "must be a string");
	expect_reject("{\"seq\":0,\"ts\":\"2026-11-23T18:02:11Z\",\"kind\":\"note\",\"by\":\"b\",\"text\":\"x\"}",
		      "seq");
	expect_reject("{\"seq\":1.5,\"ts\":\"2026-11-23T18:02:11Z\",\"kind\":\"note\",\"by\":\"b\",\"text\":\"x\"}",
		      "seq");
	expect_reject("{\"seq\":1,\"ts\":\"yesterday\",\"kind\":\"note\",\"by\":\"b\",\"text\":\"x\"}", "ts");
	expect_reject("{\"seq\":1,\"ts\":\"2026-11-23T18:02:11Z\",\"kind\":\"bogus\",\"by\":\"b\"}", "kind");
	expect_reject("{\"seq\":1,\"ts\":\"2026-11-23T18:02:11Z\",\"kind\":\"note\",\"text\":\"x\"}", "by");
	expect_reject("{\"seq\":1,\"ts\":\"2026-11-23T18:02:11Z\",\"kind\":\"note\",\"by\":\"b\",\"text\":\"x\"} junk",
		      "trailing");
	expect_reject("{\"seq\":1,\"ts\":\"2026-11-23T18:0", "malformed");
	expect_reject("[1,2]", "object");
	expect_reject("", "malformed");
}

static void test_decode_not_nul_terminated(void **state)
{
	const char *two = "{\"seq\":1,\"ts\":\"2026-11-23T18:02:11Z\",\"kind\":\"note\",\"by\":\"b\",\"text\":\"x\"}"
			  "{\"seq\":2";
	size_t first = strchr(two, '}') - two + 1;
	char err[128];
	struct wr_event *ev = event_decode(two, first, err, sizeof err);
	assert_non_null(ev);
	assert_string_equal(event_str(ev, "text", ""), "x");
	wr_event_free(ev);
}

static void test_time_rfc3339(void **state)
{
	int64_t ms;
	assert_int_equal(time_parse_rfc3339("1970-01-01T00:00:00Z", &ms), 0);
	assert_int_equal(time_parse_rfc3339("2026-11-23T18:02:11Z", &ms), 1795456931000LL);
	assert_int_equal(time_parse_rfc3339("2026-11-23T19:02:11.5+01:00", &ms), 1795456931500LL);
	assert_int_equal(time_parse_rfc3339("2026-11-23T18:02:11.123456789Z", &ms), 1795456931123LL);
	assert_true(time_parse_rfc3339("2026-13-23T18:02:11Z", &ms) < 0);
	assert_true(time_parse_rfc3339("2026-11-23 18:02", &ms) < 0);
	char buf[40];
	time_format_rfc3339(1795456931120LL, buf, sizeof buf);
	assert_string_equal(buf, "2026-11-23T18:02:11.120Z");
	time_format_rfc3339(1795456931000LL, buf, sizeof buf);
	assert_string_equal(buf, "2026-11-23T18:02:11Z");
}

/* The formatter's calendar arithmetic against gmtime_r, every
 * 1,007,999,999 ms (11 d 15 h 59 m 59.999 s) from year 1 to 9999. */
static void test_time_format_matches_gmtime(void **state)
{
	char got[40], want[64];
	long n = 0;
	for (int64_t ms = -62135596800000LL; ms < 253402300800000LL; ms += 1007999999LL) {
		time_format_rfc3339(ms, got, sizeof got);
		time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
		int frac = (int)(ms - (int64_t)secs * 1000);
		struct tm tm;
		gmtime_r(&secs, &tm);
		if (frac)
			snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
				 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
				 tm.tm_sec, frac);
		else
			snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
				 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		assert_string_equal(got, want);
		n++;
	}
	assert_true(n > 300000);
	/* a short buffer is cut, never overrun */
	char small[8];
	time_format_rfc3339(1795456931120LL, small, sizeof small);
	assert_string_equal(small, "2026-11");
}

/* The journal line is the text cJSON prints for the same object, for a
 * string with a quote, a backslash, a control byte or UTF-8 at every offset
 * (the encoder scans eight bytes at a time). */
static void test_encode_matches_cjson_escapes(void **state)
{
	static const char *const odd[] = {"\"", "\\", "\n", "\x01", "\x1f", "\x7f", "\xc3\xa9",
					   "\xe2\x94\x80", " "};
	for (size_t k = 0; k < sizeof odd / sizeof *odd; k++)
		for (size_t at = 0; at < 20; at++)
			for (size_t len = at; len < at + 12; len++) {
				char s[64];
				size_t o = 0;
				for (size_t i = 0; i < len; i++)
					s[o++] = (char)('a' + i % 26);
				size_t ol = strlen(odd[k]);
				memmove(s + at + ol, s + at, len - at);
				memcpy(s + at, odd[k], ol);
				s[len + ol] = '\0';
				cJSON *d = cJSON_CreateObject();
				cJSON_AddStringToObject(d, "text", s);
				cJSON_AddStringToObject(d, s, "key");
				struct wr_event *ev = wr_event_new(EV_NOTE, "ann", d);
				ev->seq = 7;
				ev->ts = 1795456931120LL;
				char *line = event_encode(ev);
				cJSON *o2 = event_to_json(ev);
				char *want = cJSON_PrintUnformatted(o2);
				assert_string_equal(line, want);
				free(line);
				free(want);
				cJSON_Delete(o2);
				wr_event_free(ev);
			}
}

static void test_shell_quote(void **state)
{
	char *q = shell_quote("2.3;touch /tmp/x");
	assert_string_equal(q, "'2.3;touch /tmp/x'");
	free(q);
	q = shell_quote("it's");
	assert_string_equal(q, "'it'\\''s'");
	free(q);
	q = shell_quote("");
	assert_string_equal(q, "''");
	free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_every_kind),
		cmocka_unit_test(test_kind_names_unique),
		cmocka_unit_test(test_decode_rejects),
		cmocka_unit_test(test_decode_not_nul_terminated),
		cmocka_unit_test(test_time_rfc3339),
		cmocka_unit_test(test_time_format_matches_gmtime),
		cmocka_unit_test(test_encode_matches_cjson_escapes),
		cmocka_unit_test(test_shell_quote),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
