/* Deploy sources without I/O: the deploy log line parser, the Argo CD and
 * GitHub answer parsers, and the journal-once rule (backends/deploys.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "backends/deploys.h"
#include "core/util.h"

static int64_t ms(const char *rfc3339)
{
	int64_t v = 0;
	assert_true(time_parse_rfc3339(rfc3339, &v) >= 0);
	return v;
}

static enum deploy_line parse(const char *line, struct deploy_rec *d, char *err, size_t errlen)
{
	err[0] = '\0';
	return deploy_parse_line(line, strlen(line), d, err, errlen);
}

static void expect_bad(const char *line, const char *reason)
{
	struct deploy_rec d;
	char err[200];
	assert_int_equal(parse(line, &d, err, sizeof err), DEPLOY_LINE_BAD);
	if (!strstr(err, reason))
		fail_msg("line %s: error '%s' lacks '%s'", line, err, reason);
	assert_null(d.service);
	assert_null(d.version);
}

static void test_good_line(void **state)
{
	struct deploy_rec d;
	char err[200];
	assert_int_equal(parse("{\"service\":\"api\",\"version\":\"2.4.0\",\"time\":"
			       "\"2026-11-23T18:02:11Z\",\"author\":\"ci\",\"url\":\"https://ci/42\","
			       "\"extra\":[1,2]}", &d, err, sizeof err),
			 DEPLOY_LINE_OK);
	assert_string_equal(d.service, "api");
	assert_string_equal(d.version, "2.4.0");
	assert_string_equal(d.author, "ci");
	assert_string_equal(d.url, "https://ci/42");
	assert_null(d.ref);
	assert_int_equal(d.time, ms("2026-11-23T18:02:11Z"));
	deploy_rec_clear(&d);

	/* an offset is the same instant; optional fields may be absent */
	assert_int_equal(parse("  {\"time\":\"2026-11-23T20:02:11.250+02:00\",\"version\":\"1\","
			       "\"service\":\"web\"}  ", &d, err, sizeof err),
			 DEPLOY_LINE_OK);
	assert_int_equal(d.time, ms("2026-11-23T18:02:11.250Z"));
	assert_null(d.author);
	assert_null(d.url);
	deploy_rec_clear(&d);
}

static void test_numbers_and_refs(void **state)
{
	struct deploy_rec d;
	char err[200];
	/* a numeric version is kept as written; an id past 2^31 stays exact */
	assert_int_equal(parse("{\"service\":\"api\",\"version\":2.4,\"time\":\"2026-11-23T18:02:11Z\","
			       "\"ref\":5000000123}", &d, err, sizeof err),
			 DEPLOY_LINE_OK);
	assert_string_equal(d.version, "2.4");
	assert_string_equal(d.ref, "5000000123");
	deploy_rec_clear(&d);
	assert_int_equal(parse("{\"service\":\"api\",\"version\":\"2.4\",\"time\":\"2026-11-23T18:02:11Z\","
			       "\"ref\":\"abc123\",\"author\":7}", &d, err, sizeof err),
			 DEPLOY_LINE_OK);
	assert_string_equal(d.ref, "abc123");
	assert_null(d.author); /* wrong type of an optional field: dropped, deploy kept */
	deploy_rec_clear(&d);
	assert_int_equal(parse("{\"service\":\"api\",\"version\":\"2.4\",\"time\":\"2026-11-23T18:02:11Z\","
			       "\"ref\":-3}", &d, err, sizeof err),
			 DEPLOY_LINE_OK);
	assert_null(d.ref);
	deploy_rec_clear(&d);
}

static void test_missing_and_wrong_fields(void **state)
{
	expect_bad("{\"version\":\"2.4\",\"time\":\"2026-11-23T18:02:11Z\"}", "\"service\" is missing");
	expect_bad("{\"service\":\"api\",\"time\":\"2026-11-23T18:02:11Z\"}", "\"version\" is missing");
	expect_bad("{\"service\":\"api\",\"version\":\"2.4\"}", "\"time\" is missing");
	expect_bad("{\"service\":5,\"version\":\"2.4\",\"time\":\"2026-11-23T18:02:11Z\"}",
		   "\"service\" is not a string");
	expect_bad("{\"service\":\"  \",\"version\":\"2.4\",\"time\":\"2026-11-23T18:02:11Z\"}",
		   "\"service\" is empty");
	expect_bad("{\"service\":\"api\",\"version\":\"\",\"time\":\"2026-11-23T18:02:11Z\"}",
		   "\"version\" is empty");
	expect_bad("{\"service\":\"api\",\"version\":null,\"time\":\"2026-11-23T18:02:11Z\"}",
		   "\"version\" is not a string");
	expect_bad("[1,2]", "not a JSON object");
	expect_bad("{\"service\":\"api\"", "not JSON");
	expect_bad("not json", "not JSON (at byte 1)");
	expect_bad("{\"service\":\"api\",\"version\":\"2.4\",\"time\":\"2026-11-23T18:02:11Z\"} {}",
		   "text after the JSON object (at byte 65)");
}

static void test_bad_time(void **state)
{
	expect_bad("{\"service\":\"api\",\"version\":\"2.4\",\"time\":\"yesterday\"}",
		   "\"time\" is not an RFC 3339 time: \"yesterday\"");
	expect_bad("{\"service\":\"api\",\"version\":\"2.4\",\"time\":\"2026-13-01T00:00:00Z\"}",
		   "not an RFC 3339");
	expect_bad("{\"service\":\"api\",\"version\":\"2.4\",\"time\":\"2026-11-23 18:02\"}",
		   "not an RFC 3339");
	expect_bad("{\"service\":\"api\",\"version\":\"2.4\",\"time\":1764000000}",
		   "\"time\" is not a string");
	/* the quoted value in the message is itself made safe */
	struct deploy_rec d;
	char err[200];
	assert_int_equal(parse("{\"service\":\"api\",\"version\":\"2.4\",\"time\":\"\\u001b]0;x\\u0007"
			       "now\"}", &d, err, sizeof err),
			 DEPLOY_LINE_BAD);
	assert_null(strchr(err, 0x1b));
	assert_null(strchr(err, 0x07));
}

static void test_escapes_sanitised_and_capped(void **state)
{
	struct deploy_rec d;
	char err[200];
	assert_int_equal(parse("{\"service\":\"api\\u001b[2J\",\"version\":\"2.4\\r\\n\",\"time\":"
			       "\"2026-11-23T18:02:11Z\",\"author\":\"\\u001b[31mmallory\\u001b[0m\\u0007\","
			       "\"url\":\"https://x/\\u009b1m\"}", &d, err, sizeof err),
			 DEPLOY_LINE_OK);
	assert_string_equal(d.service, "api");
	assert_string_equal(d.version, "2.4");
	assert_string_equal(d.author, "mallory");
	for (const char *p = d.url; *p; p++)
		assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
	deploy_rec_clear(&d);

	/* a long field is cut to DEPLOY_FIELD_MAX bytes, never inside a character */
	struct sbuf sb;
	sbuf_init(&sb);
	sbuf_adds(&sb, "{\"service\":\"api\",\"time\":\"2026-11-23T18:02:11Z\",\"version\":\"");
	for (int i = 0; i < 1000; i++)
		sbuf_adds(&sb, "\xc3\xa9"); /* é, two bytes */
	sbuf_adds(&sb, "\"}");
	assert_int_equal(deploy_parse_line(sb.buf, sb.len, &d, err, sizeof err), DEPLOY_LINE_OK);
	assert_true(strlen(d.version) <= DEPLOY_FIELD_MAX);
	assert_true(strlen(d.version) >= DEPLOY_FIELD_MAX - 1);
	assert_int_equal(strlen(d.version) % 2, 0);
	deploy_rec_clear(&d);
	sbuf_free(&sb);
}

static void test_huge_line(void **state)
{
	struct sbuf sb;
	sbuf_init(&sb);
	sbuf_adds(&sb, "{\"service\":\"api\",\"version\":\"2.4\",\"time\":\"2026-11-23T18:02:11Z\","
		       "\"author\":\"");
	while (sb.len <= DEPLOY_LINE_MAX)
		sbuf_adds(&sb, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	sbuf_adds(&sb, "\"}");
	struct deploy_rec d;
	char err[200];
	assert_int_equal(deploy_parse_line(sb.buf, sb.len, &d, err, sizeof err), DEPLOY_LINE_BAD);
	assert_non_null(strstr(err, "longer than 64 KiB"));
	sbuf_free(&sb);
}

static void test_crlf_blank_and_bom(void **state)
{
	struct deploy_rec d;
	char err[200];
	const char *crlf = "{\"service\":\"api\",\"version\":\"2.4\",\"time\":\"2026-11-23T18:02:11Z\"}\r\n";
	assert_int_equal(parse(crlf, &d, err, sizeof err), DEPLOY_LINE_OK);
	assert_string_equal(d.version, "2.4");
	deploy_rec_clear(&d);
	/* only the CR (the reader strips the LF) */
	assert_int_equal(deploy_parse_line(crlf, strlen(crlf) - 1, &d, err, sizeof err),
			 DEPLOY_LINE_OK);
	deploy_rec_clear(&d);
	assert_int_equal(parse("\r", &d, err, sizeof err), DEPLOY_LINE_BLANK);
	assert_int_equal(parse("   \t ", &d, err, sizeof err), DEPLOY_LINE_BLANK);
	assert_int_equal(deploy_parse_line("", 0, &d, err, sizeof err), DEPLOY_LINE_BLANK);
	assert_int_equal(parse("\xEF\xBB\xBF{\"service\":\"api\",\"version\":\"1\",\"time\":"
			       "\"2026-11-23T18:02:11Z\"}", &d, err, sizeof err),
			 DEPLOY_LINE_OK);
	deploy_rec_clear(&d);
	/* not NUL-terminated: only len bytes are read */
	char buf[] = "{\"service\":\"api\",\"version\":\"1\",\"time\":\"2026-11-23T18:02:11Z\"}GARBAGE";
	assert_int_equal(deploy_parse_line(buf, strlen(buf) - 7, &d, err, sizeof err), DEPLOY_LINE_OK);
	deploy_rec_clear(&d);
}

/* ---- Argo CD ------------------------------------------------------------------ */

static const char ARGO_APP[] =
	"{\"metadata\":{\"name\":\"checkout-api\"},\"status\":{\"sync\":{\"status\":\"Synced\"},"
	"\"history\":["
	"{\"id\":11,\"revision\":\"0123456789abcdef0123456789abcdef01234567\","
	"\"deployedAt\":\"2026-11-23T17:00:00Z\",\"source\":{\"repoURL\":\"https://git/x\"},"
	"\"initiatedBy\":{\"automated\":true}},"
	"{\"id\":12,\"revision\":\"1.8.2\",\"deployedAt\":\"2026-11-23T17:30:00Z\","
	"\"source\":{\"helm\":{\"parameters\":[{\"name\":\"replicas\",\"value\":\"3\"},"
	"{\"name\":\"image.tag\",\"value\":\"2.3.0\"}]}},\"initiatedBy\":{\"username\":\"bob\"}},"
	"{\"id\":\"13\",\"revision\":\"abc\",\"deployedAt\":\"2026-11-23T17:40:00Z\"},"
	"{\"id\":14,\"revision\":\"abc\",\"deployedAt\":\"soon\"},"
	"{\"id\":5000000015,\"revision\":\"fedcba9876543210fedcba9876543210fedcba98\","
	"\"deployedAt\":\"2026-11-23T18:02:11Z\",\"source\":{\"kustomize\":{\"images\":"
	"[\"registry.example.com/team/api:2.4.0\"]}}},"
	"{\"id\":16,\"revisions\":[\"9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f\"],"
	"\"deployedAt\":\"2026-11-23T18:30:00Z\",\"sources\":[{\"kustomize\":{\"images\":"
	"[\"a/x:1\",\"a/y:2\"]}}]}"
	"]}}";

static void test_argocd_history(void **state)
{
	struct deploy_list l = {0};
	char err[200] = "";
	assert_true(deploy_parse_argocd(ARGO_APP, strlen(ARGO_APP), "api", "https://argo",
					"checkout-api", &l, err, sizeof err));
	/* entries 13 (id not a number) and 14 (bad time) are skipped */
	assert_int_equal(l.n, 4);
	assert_string_equal(l.v[0].version, "0123456"); /* a git sha, shortened */
	assert_string_equal(l.v[0].ref, "11");
	assert_string_equal(l.v[0].author, "automated");
	assert_string_equal(l.v[0].service, "api");
	assert_string_equal(l.v[0].url, "https://argo/applications/checkout-api");
	assert_int_equal(l.v[0].time, ms("2026-11-23T17:00:00Z"));
	assert_string_equal(l.v[1].version, "2.3.0"); /* helm image.tag */
	assert_string_equal(l.v[1].ref, "12");
	assert_string_equal(l.v[1].author, "bob");
	assert_string_equal(l.v[2].version, "2.4.0"); /* the one kustomize image's tag */
	assert_string_equal(l.v[2].ref, "5000000015");
	assert_null(l.v[2].author);
	assert_string_equal(l.v[3].version, "9f9f9f9"); /* two images: the revision */
	assert_string_equal(l.v[3].ref, "16");
	deploy_list_free(&l);

	/* no history yet: nothing, and no error */
	const char *fresh = "{\"metadata\":{\"name\":\"a\"},\"status\":{}}";
	assert_true(deploy_parse_argocd(fresh, strlen(fresh), "api", NULL, NULL, &l, err, sizeof err));
	assert_int_equal(l.n, 0);
	assert_false(deploy_parse_argocd("[]", 2, "api", NULL, NULL, &l, err, sizeof err));
	assert_non_null(strstr(err, "not a JSON object"));
	assert_false(deploy_parse_argocd("{\"items\":[]}", 12, "api", NULL, NULL, &l, err, sizeof err));
	assert_non_null(strstr(err, "not an application"));
	assert_false(deploy_parse_argocd("<html>", 6, "api", NULL, NULL, &l, err, sizeof err));
	deploy_list_free(&l);
}

/* ---- GitHub -------------------------------------------------------------------- */

static const char GH_LIST[] =
	"[{\"id\":5000000004,\"sha\":\"dddddddddddddddddddddddddddddddddddddddd\",\"ref\":\"main\","
	"\"environment\":\"prod\",\"created_at\":\"2026-11-23T18:30:00Z\","
	"\"creator\":{\"login\":\"carol\\u001b[0m\"}},"
	"{\"id\":5000000003,\"sha\":\"cccccccccccccccccccccccccccccccccccccccc\","
	"\"ref\":\"cccccccccccccccccccccccccccccccccccccccc\",\"created_at\":\"2026-11-23T18:02:11Z\"},"
	"{\"id\":5000000002,\"sha\":\"not-a-sha\",\"ref\":\"v9\",\"created_at\":\"2026-11-23T17:50:00Z\"},"
	"{\"id\":5000000001,\"sha\":\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\",\"ref\":\"v2.3.0\","
	"\"created_at\":\"2026-11-23T17:00:00Z\",\"creator\":{\"login\":\"bob\"}}]";

static void test_github_deployments(void **state)
{
	struct deploy_list l = {0};
	char err[200] = "";
	assert_true(deploy_parse_github(GH_LIST, strlen(GH_LIST), "web", "https://github.com/a/w",
					&l, err, sizeof err));
	assert_int_equal(l.n, 3); /* "not-a-sha" skipped */
	/* oldest first */
	assert_string_equal(l.v[0].version, "v2.3.0");
	assert_string_equal(l.v[0].ref, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	assert_string_equal(l.v[0].author, "bob");
	assert_string_equal(l.v[0].url,
			    "https://github.com/a/w/commit/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	assert_string_equal(l.v[1].version, "ccccccc");
	assert_int_equal(l.v[1].time, ms("2026-11-23T18:02:11Z"));
	assert_string_equal(l.v[2].version, "main@ddddddd");
	assert_string_equal(l.v[2].author, "carol");
	assert_string_equal(l.v[2].service, "web");
	deploy_list_free(&l);

	assert_true(deploy_parse_github("[]", 2, "web", NULL, &l, err, sizeof err));
	assert_int_equal(l.n, 0);
	const char *nf = "{\"message\":\"Not Found\",\"documentation_url\":\"https://docs\"}";
	assert_false(deploy_parse_github(nf, strlen(nf), "web", NULL, &l, err, sizeof err));
	assert_non_null(strstr(err, "not a list of deployments"));
}

/* ---- journal once ------------------------------------------------------------------ */

static struct state *fake_state;
static struct ptrvec sent;

static void fake_emit(void *arg, struct wr_event *ev)
{
	static uint64_t seq;
	ev->seq = ++seq;
	state_apply(fake_state, ev);
	ptrvec_push(&sent, ev);
}

static const struct state *fake_get_state(void *arg)
{
	return fake_state;
}

static void free_event(void *p)
{
	wr_event_free(p);
}

static void test_emit_once(void **state)
{
	fake_state = state_new();
	struct backend_host host = {.emit = fake_emit, .state = fake_get_state};
	const char *times[] = {"2026-11-23T18:00:00Z", "2026-11-23T17:00:00Z", "2026-11-23T18:00:00Z",
			       "2026-11-23T19:00:00Z", "2026-11-23T18:00:00.5Z"};
	const char *svcs[] = {"api", "api", "web", "api", "api"};
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < 5; i++) {
			struct deploy_rec d = {.service = (char *)svcs[i], .version = (char *)"1",
					       .time = ms(times[i]), .ref = (char *)"77"};
			bool fresh = deploy_emit(&host, "log", "jsonl", &d);
			assert_int_equal(fresh, round == 0);
			assert_true(deploy_known(fake_state, &d));
		}
	}
	assert_int_equal(sent.n, 5);
	assert_int_equal(fake_state->deploys.n, 5);
	const struct wr_event *ev = sent.v[4];
	assert_string_equal(event_str(ev, "time", ""), "2026-11-23T18:00:00.500Z");
	assert_string_equal(event_str(ev, "source", ""), "jsonl");
	assert_string_equal(event_str(ev, "ref", ""), "77");
	assert_string_equal(ev->by, "log");
	char err[200];
	assert_true(event_validate(ev->kind, ev->data, err, sizeof err));
	/* another version at a known time is new */
	struct deploy_rec other = {.service = (char *)"api", .version = (char *)"2",
				   .time = ms("2026-11-23T18:00:00Z")};
	assert_false(deploy_known(fake_state, &other));
	ptrvec_free(&sent, free_event);
	state_free(fake_state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_line),
		cmocka_unit_test(test_numbers_and_refs),
		cmocka_unit_test(test_missing_and_wrong_fields),
		cmocka_unit_test(test_bad_time),
		cmocka_unit_test(test_escapes_sanitised_and_capped),
		cmocka_unit_test(test_huge_line),
		cmocka_unit_test(test_crlf_blank_and_bom),
		cmocka_unit_test(test_argocd_history),
		cmocka_unit_test(test_github_deployments),
		cmocka_unit_test(test_emit_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
