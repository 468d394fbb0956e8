/* The large-answer ingest path: Alertmanager's list read one alert at a
 * time (element bounds around strings holding brackets, quotes and escapes;
 * errors at the right byte; nothing half-kept on failure), what is kept for
 * silencing, the state's alert index over many alerts, and the sync in
 * parts (ids across parts, resolution at the end, abort). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "backends/alertfeed.h"
#include "backends/poll.h"
#include "backends/sources.h"
#include "core/event.h"
#include "core/journal.h"
#include "core/state.h"
#include "core/util.h"
#include "tests/unit/fired.h"

#define NOW 1795000000000


static bool parse(const char *body, struct ptrvec *items, cJSON **keep, char *err, size_t n)
{
	return alertmanager_alerts_parse("am", body, strlen(body), NULL, NULL, NOW, items, keep,
					 err, n);
}

static void test_elements_with_brackets_in_strings(void **ctx)
{
	const char *body =
		" \n[ {\"fingerprint\":\"a1\",\"labels\":{\"alertname\":\"Br]ace}s\","
		"\"q\":\"say \\\"hi\\\" [x], {y}\"},\"annotations\":{\"summary\":\"back\\\\\"}} ,\n"
		"\t{\"fingerprint\":\"a2\",\"labels\":{\"alertname\":\"Two\"},"
		"\"receivers\":[{\"name\":\"null\"}],\"status\":{\"silencedBy\":[]}},"
		"\"a string element\", [1,[2]], null, 3.5e2 ,"
		"{\"fingerprint\":\"a3\",\"labels\":{\"alertname\":\"Three\"}}]\r\n";
	struct ptrvec items = {0};
	cJSON *keep = NULL;
	char err[200] = "";
	assert_true(parse(body, &items, &keep, err, sizeof err));
	assert_int_equal(items.n, 3);
	assert_string_equal(fired_str(items.v[0], "name"), "Br]ace}s");
	assert_string_equal(fired_str(items.v[0], "summary"), "back\\");
	assert_string_equal(pairs_get(((struct alertfeed_item *)items.v[0])->fired->labels, "q"),
			    "say \"hi\" [x], {y}");
	assert_string_equal(fired_str(items.v[1], "name"), "Two");
	assert_string_equal(fired_str(items.v[2], "id"), "a3");
	/* plain labels and no silence: the state is enough, nothing kept */
	assert_non_null(keep);
	assert_int_equal(cJSON_GetArraySize(keep), 0);
	ptrvec_free(&items, alertfeed_item_free);
	cJSON_Delete(keep);

	assert_true(parse("[]", &items, &keep, err, sizeof err));
	assert_int_equal(items.n, 0);
	assert_int_equal(cJSON_GetArraySize(keep), 0);
	cJSON_Delete(keep);
	assert_true(parse(" [ ] ", &items, NULL, err, sizeof err));
}

static void test_kept_for_silencing(void **ctx)
{
	/* silenced, and labels changed by sanitising: both kept as sent */
	const char *body =
		"[{\"fingerprint\":\"s1\",\"labels\":{\"alertname\":\"S\"},"
		"\"status\":{\"silencedBy\":[\"sil-1\",\"sil-2\"]}},"
		"{\"fingerprint\":\"e1\",\"labels\":{\"alertname\":\"E\\u001b[2J\"}},"
		"{\"fingerprint\":\"p1\",\"labels\":{\"alertname\":\"P\"}}]";
	struct ptrvec items = {0};
	cJSON *keep = NULL;
	char err[200];
	assert_true(parse(body, &items, &keep, err, sizeof err));
	assert_int_equal(items.n, 3);
	assert_int_equal(cJSON_GetArraySize(keep), 2);
	const cJSON *k0 = cJSON_GetArrayItem(keep, 0);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(k0, "fingerprint")->valuestring, "s1");
	const cJSON *by = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(k0, "status"), "silencedBy");
	assert_int_equal(cJSON_GetArraySize(by), 2);
	const cJSON *k1 = cJSON_GetArrayItem(keep, 1);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(k1, "fingerprint")->valuestring, "e1");
	const cJSON *raw = cJSON_GetObjectItemCaseSensitive(k1, "labels");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(raw, "alertname")->valuestring,
			    "E\x1b[2J");
	/* the event text itself is clean */
	assert_null(strchr(fired_str(items.v[1], "name"), 0x1b));
	ptrvec_free(&items, alertfeed_item_free);
	cJSON_Delete(keep);
}

static void test_errors_at_the_right_byte(void **ctx)
{
	struct ptrvec items = {0};
	cJSON *keep = (cJSON *)1;
	char err[200];
	const char *good = "{\"fingerprint\":\"a\",\"labels\":{}}";
	char body[400];

	/* cut off inside the second element: nothing from the first is kept */
	snprintf(body, sizeof body, "[%s,{\"fingerprint\":\"b\",\"lab", good);
	assert_false(parse(body, &items, &keep, err, sizeof err));
	assert_null(keep);
	assert_int_equal(items.n, 0);
	assert_non_null(strstr(err, "alertmanager: malformed JSON at byte "));

	/* a missing comma between elements: the byte of the second one */
	snprintf(body, sizeof body, "[%s %s]", good, good);
	assert_false(parse(body, &items, NULL, err, sizeof err));
	char want[120];
	snprintf(want, sizeof want, "malformed JSON at byte %zu of", strlen(good) + 2);
	assert_non_null(strstr(err, want));
	assert_int_equal(items.n, 0);

	/* trailing comma, empty element, garbage in an element */
	assert_false(parse("[{\"fingerprint\":\"a\",\"labels\":{}},]", &items, NULL, err, sizeof err));
	assert_non_null(strstr(err, "malformed JSON at byte 33 of 34"));
	assert_false(parse("[,]", &items, NULL, err, sizeof err));
	assert_non_null(strstr(err, "malformed JSON at byte 1 of 3"));
	assert_false(parse("[1x]", &items, NULL, err, sizeof err));
	assert_non_null(strstr(err, "malformed JSON at byte 2 of 4"));
	assert_false(parse("[{\"a\":1]]", &items, NULL, err, sizeof err));
	assert_non_null(strstr(err, "malformed JSON at byte 7 of 9"));
	assert_false(parse("[", &items, NULL, err, sizeof err));
	assert_non_null(strstr(err, "malformed JSON at byte 1 of 1"));

	/* data after the array */
	assert_false(parse("[] x", &items, NULL, err, sizeof err));
	assert_string_equal(err, "alertmanager: trailing data after the JSON at byte 3");
	/* not an array at all */
	assert_false(parse(" {\"a\":[1]} ", &items, NULL, err, sizeof err));
	assert_string_equal(err, "alertmanager: expected a JSON array of alerts");
	assert_false(parse("", &items, NULL, err, sizeof err));
	assert_non_null(strstr(err, "malformed JSON"));
	assert_int_equal(items.n, 0);
}

static void test_state_index_many_alerts(void **ctx)
{
	struct state *st = state_new();
	uint64_t seq = 0;
	char id[32];
	for (int i = 0; i < 5000; i++) {
		cJSON *d = cJSON_CreateObject();
		snprintf(id, sizeof id, "fp%04x", i * 7919 % 65536);
		cJSON_AddStringToObject(d, "id", id);
		cJSON_AddStringToObject(d, "source", "am");
		cJSON_AddStringToObject(d, "name", "N");
		cJSON_AddStringToObject(d, "service", "api");
		cJSON_AddStringToObject(d, "severity", "critical");
		cJSON_AddStringToObject(d, "summary", "s");
		struct wr_event *ev = wr_event_new(EV_ALERT_FIRED, "am", d);
		ev->seq = ++seq;
		ev->ts = NOW;
		assert_true(state_apply(st, ev));
		wr_event_free(ev);
	}
	assert_int_equal(st->alerts.n, 5000);
	for (int i = 0; i < 5000; i++) {
		snprintf(id, sizeof id, "fp%04x", i * 7919 % 65536);
		const struct alert *a = state_find_alert(st, id);
		assert_non_null(a);
		assert_string_equal(a->id, id);
	}
	assert_null(state_find_alert(st, "fp-none"));
	assert_null(state_find_alert(st, NULL));
	/* firing the same id again updates the one alert */
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "id", "fp0000");
	cJSON_AddStringToObject(d, "source", "am");
	cJSON_AddStringToObject(d, "name", "Renamed");
	struct wr_event *ev = wr_event_new(EV_ALERT_FIRED, "am", d);
	ev->seq = ++seq;
	state_apply(st, ev);
	wr_event_free(ev);
	assert_int_equal(st->alerts.n, 5000);
	assert_string_equal(state_find_alert(st, "fp0000")->name, "Renamed");
	/* an alert.fired without an id changes nothing */
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "name", "NoId");
	ev = wr_event_new(EV_ALERT_FIRED, "am", d);
	ev->seq = ++seq;
	state_apply(st, ev);
	wr_event_free(ev);
	assert_int_equal(st->alerts.n, 5000);
	state_free(st);

	/* an empty state finds nothing */
	st = state_new();
	assert_null(state_find_alert(st, "x"));
	state_free(st);
}

/* ---- a sync in parts --------------------------------------------------- */

struct fold {
	struct state *st;
	uint64_t seq;
	int count[EV__COUNT];
};

static void fold_emit(void *arg, struct wr_event *ev)
{
	struct fold *f = arg;
	char err[200];
	assert_true(wr_event_validate(ev, err, sizeof err));
	ev->seq = ++f->seq;
	state_apply(f->st, ev);
	f->count[ev->kind]++;
	wr_event_free(ev);
}

static const struct state *fold_state(void *arg)
{
	return ((struct fold *)arg)->st;
}

static struct alertfeed_item *item(const char *id, const char *summary)
{
	cJSON *labels = cJSON_CreateObject();
	cJSON_AddStringToObject(labels, "alertname", "A");
	cJSON *ann = cJSON_CreateObject();
	cJSON_AddStringToObject(ann, "summary", summary);
	struct alertfeed_item *it = alertfeed_item_new(id, "am", labels, ann, NULL, NULL);
	cJSON_Delete(labels);
	cJSON_Delete(ann);
	return it;
}

/* parts of ids lo..hi-1 of 10 apiece, freed after each part */
static void pass(const struct backend_host *h, int lo, int hi, const char *summary,
		 const char *dup_id)
{
	struct alertfeed_pass *p = alertfeed_begin(h, "am", "alertmanager");
	struct ptrvec items = {0};
	char id[16];
	for (int i = lo; i < hi; i++) {
		snprintf(id, sizeof id, "id%d", i);
		ptrvec_push(&items, item(id, summary));
		if (items.n == 10 || i == hi - 1) {
			if (dup_id)
				ptrvec_push(&items, item(dup_id, "a differing copy"));
			alertfeed_part(p, &items);
			ptrvec_free(&items, alertfeed_item_free);
		}
	}
	alertfeed_end(p);
}

static void test_sync_in_parts(void **ctx)
{
	struct fold f = {.st = state_new()};
	const struct backend_host h = {.emit = fold_emit, .state = fold_state, .arg = &f};
	/* 35 alerts in 4 parts; id0 repeated (differently) in every part counts once */
	pass(&h, 0, 35, "s", "id0");
	assert_int_equal(f.count[EV_ALERT_FIRED], 35);
	assert_string_equal(state_find_alert(f.st, "id0")->summary, "s");
	memset(f.count, 0, sizeof f.count);
	/* the same again: nothing */
	pass(&h, 0, 35, "s", "id0");
	for (int k = 0; k < EV__COUNT; k++)
		assert_int_equal(f.count[k], 0);
	/* 0..19 only, with a new summary: 20 re-fired, 15 resolved */
	pass(&h, 0, 20, "t", NULL);
	assert_int_equal(f.count[EV_ALERT_FIRED], 20);
	assert_int_equal(f.count[EV_ALERT_RESOLVED], 15);
	assert_int_equal(state_find_alert(f.st, "id30")->status, ALERT_RESOLVED);
	assert_int_equal(state_count_firing(f.st), 20);
	memset(f.count, 0, sizeof f.count);
	/* an aborted pass resolves nothing; what its parts journaled stands */
	struct alertfeed_pass *p = alertfeed_begin(&h, "am", "alertmanager");
	struct ptrvec items = {0};
	ptrvec_push(&items, item("id40", "new"));
	alertfeed_part(p, &items);
	ptrvec_free(&items, alertfeed_item_free);
	alertfeed_abort(p);
	assert_int_equal(f.count[EV_ALERT_FIRED], 1);
	assert_int_equal(f.count[EV_ALERT_RESOLVED], 0);
	assert_int_equal(state_count_firing(f.st), 21);
	state_free(f.st);
}

/* Handing the fired objects over journals exactly what copying them does,
 * and leaves the items of unchanged alerts whole. */
static void test_part_take(void **ctx)
{
	struct fold a = {.st = state_new()}, b = {.st = state_new()};
	const struct backend_host ha = {.emit = fold_emit, .state = fold_state, .arg = &a};
	const struct backend_host hb = {.emit = fold_emit, .state = fold_state, .arg = &b};
	for (int round = 0; round < 3; round++) {
		struct ptrvec ia = {0}, ib = {0};
		char id[16];
		for (int i = 0; i < 12; i++) {
			snprintf(id, sizeof id, "id%d", i);
			/* round 2: ids 0..5 change, 6..11 stay */
			const char *sum = round == 2 && i < 6 ? "changed" : "same";
			ptrvec_push(&ia, item(id, sum));
			ptrvec_push(&ib, item(id, sum));
		}
		/* a repeated id: the first counts, the copy is left alone */
		ptrvec_push(&ia, item("id0", "a differing copy"));
		ptrvec_push(&ib, item("id0", "a differing copy"));
		struct alertfeed_pass *pa = alertfeed_begin(&ha, "am", "alertmanager");
		struct alertfeed_pass *pb = alertfeed_begin(&hb, "am", "alertmanager");
		alertfeed_part_take(pa, &ia);
		alertfeed_part(pb, &ib);
		alertfeed_end(pa);
		alertfeed_end(pb);
		for (int k = 0; k < EV__COUNT; k++)
			assert_int_equal(a.count[k], b.count[k]);
		int expect = round == 0 ? 12 : round == 1 ? 0 : 6;
		assert_int_equal(a.count[EV_ALERT_FIRED], expect);
		for (size_t i = 0; i < ia.n; i++) {
			const struct alertfeed_item *it = ia.v[i];
			bool journaled = i < 12 && (round == 0 || (round == 2 && i < 6));
			if (journaled)
				assert_null(it->fired);
			else
				assert_non_null(it->fired);
			assert_non_null(((const struct alertfeed_item *)ib.v[i])->fired);
		}
		ptrvec_free(&ia, alertfeed_item_free);
		ptrvec_free(&ib, alertfeed_item_free);
		memset(a.count, 0, sizeof a.count);
		memset(b.count, 0, sizeof b.count);
	}
	assert_int_equal(a.st->alerts.n, 12);
	assert_int_equal(b.st->alerts.n, 12);
	for (size_t i = 0; i < a.st->alerts.n; i++) {
		const struct alert *x = a.st->alerts.v[i], *y = b.st->alerts.v[i];
		assert_string_equal(x->id, y->id);
		assert_string_equal(x->summary, y->summary);
		assert_int_equal(x->status, y->status);
		cJSON *lx = pairs_to_json(x->labels), *ly = pairs_to_json(y->labels);
		cJSON *ax = pairs_to_json(x->annotations), *ay = pairs_to_json(y->annotations);
		assert_true(cJSON_Compare(lx, ly, 1));
		assert_true(cJSON_Compare(ax, ay, 1));
		cJSON_Delete(lx);
		cJSON_Delete(ly);
		cJSON_Delete(ax);
		cJSON_Delete(ay);
	}
	assert_string_equal(state_find_alert(a.st, "id3")->summary, "changed");
	assert_string_equal(state_find_alert(a.st, "id0")->summary, "changed");
	assert_string_equal(state_find_alert(a.st, "id9")->summary, "same");
	state_free(a.st);
	state_free(b.st);
}

/* Taking labels and annotations gives the very item copying them does,
 * whether they are clean (used as they are) or not (cleaned copies). */
static void test_item_take(void **ctx)
{
	const char *cases[][2] = {
		{"{\"alertname\":\"A\",\"service\":\"api\",\"severity\":\"page\"}",
		 "{\"summary\":\"s\",\"runbook\":\"r\"}"},
		{"{\"alertname\":\"Bad\\u001bName\",\"n\":5,\"a\":\"1\",\"a\":\"2\",\"\":\"e\"}",
		 "{\"description\":\"\\u00e9t\\u00e9\",\"x\":[1]}"},
		{"{}", NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cJSON *l1 = cJSON_Parse(cases[i][0]), *a1 = cases[i][1] ? cJSON_Parse(cases[i][1]) : NULL;
		cJSON *l2 = cJSON_Duplicate(l1, 1), *a2 = cJSON_Duplicate(a1, 1);
		assert_int_equal(alertfeed_pairs_clean(l1), i != 1);
		struct alertfeed_item *x = alertfeed_item_new("fp", "am", l1, a1, "2026-11-23T18:00:00Z",
							      "http://u");
		struct alertfeed_item *y = alertfeed_item_take("fp", "am", l2, a2, "2026-11-23T18:00:00Z",
							       "http://u");
		char *tx = fired_text(x), *ty = fired_text(y);
		assert_string_equal(tx, ty);
		free(tx);
		free(ty);
		alertfeed_item_free(x);
		alertfeed_item_free(y);
		cJSON_Delete(l1);
		cJSON_Delete(a1);
	}
	/* more pairs than the cap are not clean */
	cJSON *many = cJSON_CreateObject();
	char k[16];
	for (int i = 0; i <= ALERTFEED_MAX_PAIRS; i++) {
		snprintf(k, sizeof k, "k%d", i);
		cJSON_AddStringToObject(many, k, "v");
	}
	assert_false(alertfeed_pairs_clean(many));
	cJSON_DeleteItemFromObject(many, "k0");
	assert_true(alertfeed_pairs_clean(many));
	cJSON_Delete(many);
}

/* The journal line for an alert: the same text as printing event_to_json,
 * and the event untouched after; an alert.fired held as fields (as the
 * sources hand it over) gives the very same line, tree and state. */
static void test_encode_borrows(void **ctx)
{
	struct alertfeed_item *it = item("fp1", "sum \"q\" \u00e9");
	struct wr_event *ev = wr_event_new(EV_ALERT_FIRED, "alertmanager", alertfeed_item_json(it));
	ev->seq = 42;
	ev->ts = NOW;
	cJSON *o = event_to_json(ev);
	char *want = cJSON_PrintUnformatted(o);
	char *line = event_encode(ev);
	assert_string_equal(line, want);
	free(line);
	/* twice: nothing borrowed was freed or moved */
	line = event_encode(ev);
	assert_string_equal(line, want);
	cJSON *again = alertfeed_item_json(it);
	assert_true(cJSON_Compare(ev->data, again, 1));
	cJSON_Delete(again);
	free(line);
	free(want);
	cJSON_Delete(o);
	wr_event_free(ev);
	alertfeed_item_free(it);
}

static void check_fields_event(struct alert_fields *f)
{
	char err[200];
	struct wr_event *tree = wr_event_new(EV_ALERT_FIRED, "am", alert_fields_to_json(f));
	struct wr_event *held = wr_event_new_alert("am", f);
	tree->seq = held->seq = 7;
	tree->ts = held->ts = NOW;
	assert_true(wr_event_validate(tree, err, sizeof err));
	assert_true(wr_event_validate(held, err, sizeof err));
	char *want = event_encode(tree), *line = event_encode(held);
	assert_string_equal(line, want);
	cJSON *o = event_to_json(tree), *p = event_to_json(held);
	char *printed = cJSON_PrintUnformatted(o), *printed2 = cJSON_PrintUnformatted(p);
	assert_string_equal(printed, want);
	/* as text: cJSON_Compare calls an object with a repeated name unequal
	 * even to itself */
	assert_string_equal(printed2, want);
	assert_string_equal(event_str(held, "service", "?"), event_str(tree, "service", "?"));
	assert_string_equal(event_str(held, "labels", "none"), "none");
	/* folded: the same alert and the same comms line */
	struct state *a = state_new(), *b = state_new();
	assert_true(state_apply(a, tree));
	assert_true(state_apply(b, held));
	cJSON *sa = state_to_json(a), *sb = state_to_json(b);
	char *ta = cJSON_PrintUnformatted(sa), *tb = cJSON_PrintUnformatted(sb);
	assert_string_equal(ta, tb);
	assert_non_null(strstr(ta, "\"service\":\"api\""));
	free(ta);
	free(tb);
	/* a copy, and the tree made from the fields, still say the same */
	struct wr_event *dup = wr_event_dup(held);
	char *dl = event_encode(dup);
	assert_string_equal(dl, want);
	char *da = cJSON_PrintUnformatted(wr_event_data(held)),
	     *db = cJSON_PrintUnformatted(tree->data);
	assert_string_equal(da, db);
	free(da);
	free(db);
	assert_null(held->alert);
	free(line);
	line = event_encode(held);
	assert_string_equal(line, want);
	free(dl);
	free(line);
	free(want);
	free(printed);
	free(printed2);
	cJSON_Delete(o);
	cJSON_Delete(p);
	cJSON_Delete(sa);
	cJSON_Delete(sb);
	state_free(a);
	state_free(b);
	wr_event_free(dup);
	wr_event_free(tree);
	wr_event_free(held);
}

static struct alert_fields *fields(const char *labels, const char *ann)
{
	struct alert_fields *f = calloc(1, sizeof *f);
	f->id = strdup("fp\"1");
	f->source = strdup("am");
	f->name = strdup("Name \u00e9");
	f->service = strdup("api");
	f->severity = strdup("critical");
	f->summary = strdup("s \\ t\n");
	cJSON *l = labels ? cJSON_Parse(labels) : NULL, *n = ann ? cJSON_Parse(ann) : NULL;
	f->labels = pairs_from_json(l);
	f->annotations = pairs_from_json(n);
	cJSON_Delete(l);
	cJSON_Delete(n);
	return f;
}

static void test_fields_event_same_as_tree(void **ctx)
{
	/* with everything: escapes, a value that is not a string, repeats */
	struct alert_fields *f = fields("{\"a\":\"1\",\"q\":\"x\\\"y\",\"n\":5,\"o\":{\"k\":[1,null]},"
					"\"a\":\"2\"}",
					"{\"summary\":\"s\",\"runbook\":\"http://r/\u2028\"}");
	f->starts_at = strdup("2026-11-23T18:00:00.000Z");
	f->url = strdup("http://u/?a=1&b=2");
	check_fields_event(f);
	/* the least: no optional field, empty sets */
	check_fields_event(fields("{}", NULL));
	/* a required field missing is refused, as a tree without it would be */
	struct alert_fields *g = fields(NULL, NULL);
	free(g->summary);
	g->summary = NULL;
	struct wr_event *ev = wr_event_new_alert("am", g);
	char err[200];
	assert_false(wr_event_validate(ev, err, sizeof err));
	assert_non_null(strstr(err, "summary"));
	wr_event_free(ev);
}

/* The journal line is printed without cJSON's printer: the same text for
 * every kind of value (escapes, numbers cJSON prints as ints, with 15 or
 * with 17 digits, nesting, empty containers), and for a seq past INT_MAX. */
static void test_encode_same_text(void **ctx)
{
	const char *vals =
		"{\"id\":\"x\",\"s\":\"q\\\" b\\\\ \\b\\f\\n\\r\\t \\u0001\\u001f \\u007f \\u00e9 \\u2028 /\","
		"\"n\":[0,-7,1.5,0.1,0.3333333333333333,1e300,-2.5e-300,2147483647,2147483648,"
		"-2147483648,-2147483649,3000000000,123456789012345678,1e15,-0.0],"
		"\"o\":{\"a\":{},\"b\":[],\"c\":[[true,false,null]],\"\\u0000k\":1},"
		"\"t\":true,\"f\":false,\"z\":null,\"seq\":5,\"kind\":\"no\",\"e\":\"\"}";
	uint64_t seqs[] = {1, 42, 2147483647ull, 2147483648ull, 5000000000ull};
	for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
		cJSON *data = cJSON_Parse(vals);
		assert_non_null(data);
		struct wr_event *ev = wr_event_new(EV_NOTE, i % 2 ? NULL : "a\"b", data);
		ev->seq = seqs[i];
		ev->ts = NOW + (int64_t)i;
		cJSON *o = event_to_json(ev);
		char *want = cJSON_PrintUnformatted(o);
		char *line = event_encode(ev);
		assert_string_equal(line, want);
		free(line);
		free(want);
		cJSON_Delete(o);
		wr_event_free(ev);
	}
}

struct tally {
	int events, problems;
};

static void count_event(const struct wr_event *ev, void *arg)
{
	((struct tally *)arg)->events++;
}

static void count_problem(const char *path, long lineno, const char *msg, void *arg)
{
	((struct tally *)arg)->problems++;
}

/* The journal writes its lines in batches: when a batch cannot be written
 * (the file size limit here), the file is cut back to whole lines, the
 * append is refused, and so is every later append and sync (the caller
 * folded the lines lost and must stop). */
static void test_journal_batch_write_fails(void **ctx)
{
	char tmpl[] = "/tmp/wr-ingest-XXXXXX";
	char *dir = mkdtemp(tmpl);
	assert_non_null(dir);
	char *path = xasprintf("%s/j.jsonl", dir);
	char err[256];
	struct journal *j = journal_open(path, NULL, NULL, NULL, err, sizeof err);
	assert_non_null(j);
	char text[1100];
	memset(text, 'n', sizeof text - 1);
	text[sizeof text - 1] = '\0';
	for (int i = 0; i < 10; i++) {
		cJSON *d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "text", "before");
		struct wr_event *ev = wr_event_new(EV_NOTE, "bob", d);
		assert_true(journal_append(j, ev, err, sizeof err));
		wr_event_free(ev);
	}
	assert_true(journal_sync(j, err, sizeof err));
	uint64_t synced = journal_synced_bytes(j);
	struct rlimit old, lim;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)synced + 100000;
	void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	int ok = 0;
	bool refused = false;
	for (int i = 0; i < 400 && !refused; i++) {
		cJSON *d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "text", text);
		struct wr_event *ev = wr_event_new(EV_NOTE, "bob", d);
		if (journal_append(j, ev, err, sizeof err))
			ok++;
		else
			refused = true;
		wr_event_free(ev);
	}
	assert_true(refused);
	assert_non_null(strstr(err, "write"));
	/* sticky: nothing more goes in, the sync says why */
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "text", "after");
	struct wr_event *ev = wr_event_new(EV_NOTE, "bob", d);
	assert_false(journal_append(j, ev, err, sizeof err));
	wr_event_free(ev);
	err[0] = '\0';
	assert_false(journal_sync(j, err, sizeof err));
	assert_non_null(strstr(err, "write"));
	assert_int_equal(journal_synced_bytes(j), synced);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, prev);
	journal_close(j);
	/* whole lines only: the 10 synced and the batches written before */
	struct tally t = {0};
	assert_int_equal(journal_read(path, count_event, count_problem, &t, err, sizeof err), 0);
	assert_int_equal(t.problems, 0);
	assert_true(t.events >= 10 && t.events < 10 + ok);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_true((uint64_t)sb.st_size >= synced && (uint64_t)sb.st_size <= synced + 100000);
	unlink(path);
	rmdir(dir);
	free(path);
}

/* Memory given back from the middle of an answer reads as zeros; its first
 * page and the bytes past the last whole page are kept. */
static void test_body_release(void **ctx)
{
	size_t len = 1u << 20;
	char *body = malloc(len + 1);
	assert_non_null(body);
	memset(body, 'x', len);
	body[len] = '\0';
	poll_body_release(body, 10, 700000);
	/* the page holding body[0] is kept whole */
	size_t first_page_end = 4096 - (size_t)((uintptr_t)body % 4096);
	assert_int_equal(body[0], 'x');
	assert_int_equal(body[first_page_end - 1], 'x');
	assert_int_equal(body[700000], 'x');
	assert_int_equal(body[len - 1], 'x');
	assert_int_equal(body[300000], 0);
	assert_int_equal(body[600000], 0);
	/* an empty or backwards range, or NULL: nothing */
	poll_body_release(body, 800000, 800000);
	poll_body_release(body, 900000, 800000);
	poll_body_release(NULL, 0, 100);
	assert_int_equal(body[800000], 'x');
	free(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elements_with_brackets_in_strings),
		cmocka_unit_test(test_kept_for_silencing),
		cmocka_unit_test(test_errors_at_the_right_byte),
		cmocka_unit_test(test_state_index_many_alerts),
		cmocka_unit_test(test_sync_in_parts),
		cmocka_unit_test(test_part_take),
		cmocka_unit_test(test_item_take),
		cmocka_unit_test(test_encode_borrows),
		cmocka_unit_test(test_fields_event_same_as_tree),
		cmocka_unit_test(test_encode_same_text),
		cmocka_unit_test(test_journal_batch_write_fails),
		cmocka_unit_test(test_body_release),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
