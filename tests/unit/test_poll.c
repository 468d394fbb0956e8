/* Poller helpers: backoff arithmetic, JSON refusal with a position, text
 * caps, label hashes, and the alert diff journaling only changes. */
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
#include "backends/poll.h"
#include "core/state.h"
#include "core/util.h"

static void test_backoff_doubles_to_the_ceiling(void **ctx)
{
	assert_int_equal(poll_backoff_ms(15000, 1, 0), 15000);
	assert_int_equal(poll_backoff_ms(15000, 2, 0), 30000);
	assert_int_equal(poll_backoff_ms(15000, 3, 0), 60000);
	assert_int_equal(poll_backoff_ms(15000, 5, 0), 240000);
	assert_int_equal(poll_backoff_ms(15000, 6, 0), POLL_BACKOFF_MAX_MS);
	assert_int_equal(poll_backoff_ms(15000, 1000, 0), POLL_BACKOFF_MAX_MS);
	assert_int_equal(poll_backoff_ms(1000, 4, 0), 8000);
	/* an interval above the ceiling is still capped */
	assert_int_equal(poll_backoff_ms(10 * 60 * 1000, 1, 0), POLL_BACKOFF_MAX_MS);
	/* a nonsense interval does not spin */
	assert_int_equal(poll_backoff_ms(0, 1, 0), 1000);
}

static void test_backoff_retry_after(void **ctx)
{
	/* longer than the backoff: wins */
	assert_int_equal(poll_backoff_ms(1000, 1, 45000), 45000);
	/* shorter: the backoff stands */
	assert_int_equal(poll_backoff_ms(15000, 3, 5000), 60000);
	/* an hour: capped, so a stale source is tried again within 5 minutes */
	assert_int_equal(poll_backoff_ms(1000, 1, 3600 * 1000), POLL_BACKOFF_MAX_MS);
}

static void test_parse_json_positions(void **ctx)
{
	char err[200];
	const char *good = " [1, {\"a\": 2}] \n";
	cJSON *doc = poll_parse_json("am", good, strlen(good), err, sizeof err);
	assert_non_null(doc);
	assert_true(cJSON_IsArray(doc));
	cJSON_Delete(doc);

	const char *cut = "[{\"fingerprint\":\"ab";
	assert_null(poll_parse_json("alertmanager", cut, strlen(cut), err, sizeof err));
	assert_non_null(strstr(err, "alertmanager: malformed JSON at byte "));
	long at = strtol(strstr(err, "byte ") + 5, NULL, 10);
	assert_true(at > 0 && at <= (long)strlen(cut));

	const char *trail = "[1] x";
	assert_null(poll_parse_json("k", trail, strlen(trail), err, sizeof err));
	assert_string_equal(err, "k: trailing data after the JSON at byte 4");

	assert_null(poll_parse_json("k", "", 0, err, sizeof err));
	assert_non_null(strstr(err, "malformed JSON"));
}

static void test_text_sanitised_and_capped(void **ctx)
{
	char *t = poll_text("a\x1b[31mred\x1b[0m\x07" "b", 100);
	assert_string_equal(t, "aredb");
	free(t);
	/* "é" is two bytes: a cap in its middle drops the whole character */
	t = poll_text("abc\xc3\xa9", 4);
	assert_string_equal(t, "abc");
	free(t);
	t = poll_text("abc\xc3\xa9", 5);
	assert_string_equal(t, "abc\xc3\xa9");
	free(t);
	assert_null(poll_text(NULL, 5));
}

static void test_label_hash_ignores_order(void **ctx)
{
	cJSON *a = cJSON_Parse("{\"alertname\":\"X\",\"service\":\"api\"}");
	cJSON *b = cJSON_Parse("{\"service\":\"api\",\"alertname\":\"X\"}");
	cJSON *c = cJSON_Parse("{\"service\":\"web\",\"alertname\":\"X\"}");
	/* the separator keeps "ab"+"c" apart from "a"+"bc" */
	cJSON *d = cJSON_Parse("{\"ab\":\"c\"}");
	cJSON *e = cJSON_Parse("{\"a\":\"bc\"}");
	char ha[17], hb[17], hc[17], hd[17], he[17];
	alertfeed_label_hash(a, ha);
	alertfeed_label_hash(b, hb);
	alertfeed_label_hash(c, hc);
	alertfeed_label_hash(d, hd);
	alertfeed_label_hash(e, he);
	assert_int_equal(strlen(ha), 16);
	assert_string_equal(ha, hb);
	assert_string_not_equal(ha, hc);
	assert_string_not_equal(hd, he);
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(c);
	cJSON_Delete(d);
	cJSON_Delete(e);
}

/* ---- alert diffing through a host that folds what it is given ------------ */

struct fake {
	struct state *st;
	uint64_t seq;
	int count[EV__COUNT];
};

static void fake_emit(void *arg, struct wr_event *ev)
{
	struct fake *f = arg;
	char err[200];
	assert_true(wr_event_validate(ev, err, sizeof err));
	ev->seq = ++f->seq;
	state_apply(f->st, ev);
	f->count[ev->kind]++;
	wr_event_free(ev);
}

static const struct state *fake_state(void *arg)
{
	return ((struct fake *)arg)->st;
}

static struct alertfeed_item *item(const char *id, const char *name, const char *summary)
{
	cJSON *labels = cJSON_CreateObject();
	cJSON_AddStringToObject(labels, "alertname", name);
	cJSON_AddStringToObject(labels, "service", "api");
	cJSON_AddStringToObject(labels, "severity", "critical");
	cJSON *ann = cJSON_CreateObject();
	cJSON_AddStringToObject(ann, "summary", summary);
	struct alertfeed_item *it = alertfeed_item_new(id, "am", labels, ann,
						       "2026-11-23T18:00:00Z", NULL);
	cJSON_Delete(labels);
	cJSON_Delete(ann);
	return it;
}

static void sync_items(struct fake *f, const struct backend_host *h, struct ptrvec *items)
{
	memset(f->count, 0, sizeof f->count);
	alertfeed_sync(h, "am", "alertmanager", items);
	ptrvec_free(items, alertfeed_item_free);
}

static void test_sync_journals_only_changes(void **ctx)
{
	struct fake f = {.st = state_new()};
	const struct backend_host h = {.emit = fake_emit, .state = fake_state, .arg = &f};
	struct ptrvec items = {0};

	ptrvec_push(&items, item("f1", "HighErrors", "5xx above 5%"));
	ptrvec_push(&items, item("f2", "Latency", "p99 above 1s"));
	sync_items(&f, &h, &items);
	assert_int_equal(f.count[EV_ALERT_FIRED], 2);
	assert_int_equal(state_count_firing(f.st), 2);
	const struct alert *a = state_find_alert(f.st, "f1");
	assert_string_equal(a->source, "am");
	assert_string_equal(a->service, "api");
	assert_string_equal(a->summary, "5xx above 5%");

	/* the same answer again: nothing */
	ptrvec_push(&items, item("f1", "HighErrors", "5xx above 5%"));
	ptrvec_push(&items, item("f2", "Latency", "p99 above 1s"));
	sync_items(&f, &h, &items);
	for (int k = 0; k < EV__COUNT; k++)
		assert_int_equal(f.count[k], 0);

	/* f1's summary changes, f2 goes silenced */
	ptrvec_push(&items, item("f1", "HighErrors", "5xx above 20%"));
	struct alertfeed_item *s = item("f2", "Latency", "p99 above 1s");
	s->silenced = true;
	s->silence_id = xstrdup("sil-1");
	ptrvec_push(&items, s);
	sync_items(&f, &h, &items);
	assert_int_equal(f.count[EV_ALERT_FIRED], 1);
	assert_int_equal(f.count[EV_ALERT_SILENCED], 1);
	assert_string_equal(state_find_alert(f.st, "f1")->summary, "5xx above 20%");
	assert_int_equal(state_find_alert(f.st, "f2")->status, ALERT_SILENCED);
	assert_string_equal(state_find_alert(f.st, "f2")->silence_id, "sil-1");

	/* f2's silence lifted, f1 gone: unsilenced and resolved */
	ptrvec_push(&items, item("f2", "Latency", "p99 above 1s"));
	sync_items(&f, &h, &items);
	assert_int_equal(f.count[EV_ALERT_UNSILENCED], 1);
	assert_int_equal(f.count[EV_ALERT_RESOLVED], 1);
	assert_int_equal(f.count[EV_ALERT_FIRED], 0);
	assert_int_equal(state_find_alert(f.st, "f1")->status, ALERT_RESOLVED);
	assert_int_equal(state_find_alert(f.st, "f2")->status, ALERT_FIRING);

	/* f1 fires again */
	ptrvec_push(&items, item("f1", "HighErrors", "5xx above 20%"));
	ptrvec_push(&items, item("f2", "Latency", "p99 above 1s"));
	sync_items(&f, &h, &items);
	assert_int_equal(f.count[EV_ALERT_FIRED], 1);
	assert_int_equal(state_find_alert(f.st, "f1")->status, ALERT_FIRING);

	/* an empty answer resolves both; another source's alerts are not touched */
	cJSON *other = cJSON_CreateObject();
	cJSON_AddStringToObject(other, "id", "x1");
	cJSON_AddStringToObject(other, "source", "other");
	cJSON_AddStringToObject(other, "name", "Disk");
	cJSON_AddStringToObject(other, "service", "db");
	cJSON_AddStringToObject(other, "severity", "warning");
	cJSON_AddStringToObject(other, "summary", "");
	fake_emit(&f, wr_event_new(EV_ALERT_FIRED, "test", other));
	sync_items(&f, &h, &items);
	assert_int_equal(f.count[EV_ALERT_RESOLVED], 2);
	assert_int_equal(state_find_alert(f.st, "x1")->status, ALERT_FIRING);
	state_free(f.st);
}

static void test_item_sanitises_external_text(void **ctx)
{
	cJSON *labels = cJSON_Parse("{\"alertname\":\"Bad\\u001b]0;pwned\\u0007Name\","
				    "\"service\":\"api\\r\\nx\",\"n\":5}");
	cJSON *ann = cJSON_CreateObject();
	char big[5000];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	cJSON_AddStringToObject(ann, "summary", big);
	struct alertfeed_item *it = alertfeed_item_new("id1", "am", labels, ann, "not a time",
						       "http://x/\x1b[2J");
	cJSON *f = alertfeed_item_json(it);
	const char *name = cJSON_GetObjectItemCaseSensitive(f, "name")->valuestring;
	assert_null(strchr(name, 0x1b));
	assert_null(strchr(name, 0x07));
	assert_null(strchr(cJSON_GetObjectItemCaseSensitive(f, "service")->valuestring, '\n'));
	assert_int_equal(strlen(cJSON_GetObjectItemCaseSensitive(f, "summary")->valuestring),
			 ALERTFEED_SUMMARY_MAX);
	assert_null(cJSON_GetObjectItemCaseSensitive(f, "starts_at"));
	assert_null(strchr(cJSON_GetObjectItemCaseSensitive(f, "url")->valuestring, 0x1b));
	/* a non-string label is left out */
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(f, "labels");
	assert_null(cJSON_GetObjectItemCaseSensitive(l, "n"));
	char err[200];
	assert_true(event_validate(EV_ALERT_FIRED, f, err, sizeof err));
	cJSON_Delete(f);
	alertfeed_item_free(it);
	cJSON_Delete(labels);
	cJSON_Delete(ann);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_doubles_to_the_ceiling),
		cmocka_unit_test(test_backoff_retry_after),
		cmocka_unit_test(test_parse_json_positions),
		cmocka_unit_test(test_text_sanitised_and_capped),
		cmocka_unit_test(test_label_hash_ignores_order),
		cmocka_unit_test(test_sync_journals_only_changes),
		cmocka_unit_test(test_item_sanitises_external_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
