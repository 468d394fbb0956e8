/* Export of a recorded journal matches the saved documents; the html chart
 * carries deploy and rollback markers; bad input is refused clearly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <unistd.h>

#include "core/export.h"
#include "core/util.h"

#define FIXTURE "tests/fixtures/export/incident.jsonl"

static char *export_to_string(const char *journal, const char *fmt)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	char err[256] = "";
	int rc = export_journal(journal, (enum export_format)export_format_from_name(fmt), mem, err,
				sizeof err);
	fclose(mem);
	if (rc != 0)
		fail_msg("export %s: %s", fmt, err);
	return buf;
}

static void compare_with(const char *fmt, const char *expected_path)
{
	char *got = export_to_string(FIXTURE, fmt);
	char *want = file_read_all(expected_path, 1 << 20, NULL);
	assert_non_null(want);
	if (strcmp(got, want) != 0) {
		size_t i = 0;
		while (got[i] && got[i] == want[i])
			i++;
		fail_msg("%s export differs from %s at byte %zu: got \"%.60s\" want \"%.60s\"", fmt,
			 expected_path, i, got + i, want + i);
	}
	free(got);
	free(want);
}

static void test_markdown_matches(void **state)
{
	compare_with("md", "tests/fixtures/export/expected.md");
}

static void test_json_matches(void **state)
{
	compare_with("json", "tests/fixtures/export/expected.json");
	char *got = export_to_string(FIXTURE, "json");
	cJSON *doc = cJSON_Parse(got);
	assert_non_null(doc); /* valid JSON */
	cJSON *tl = cJSON_GetObjectItemCaseSensitive(doc, "timeline");
	assert_int_equal(cJSON_GetArraySize(tl), 25);
	cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, "metrics");
	assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(m, "time_to_mitigate_s")->valuedouble, 465);
	cJSON_Delete(doc);
	free(got);
}

static void test_html_chart_markers(void **state)
{
	char *got = export_to_string(FIXTURE, "html");
	assert_non_null(strstr(got, "<svg"));
	assert_non_null(strstr(got, "class=\"deploy-marker\""));
	assert_non_null(strstr(got, "class=\"rollback-marker\""));
	assert_non_null(strstr(got, "api@2.4.0"));
	assert_non_null(strstr(got, "5xx ratio 12% | checkout")); /* html needs no pipe escape */
	assert_null(strstr(got, "<script"));
	free(got);
}

static void test_hostile_text_is_escaped(void **state)
{
	char dir[] = "/tmp/wr-export-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *path = xasprintf("%s/j.jsonl", dir);
	FILE *f = fopen(path, "w");
	fputs("{\"seq\":1,\"ts\":\"2026-11-23T18:58:00Z\",\"kind\":\"incident.declared\",\"by\":\"a\","
	      "\"title\":\"<script>alert(1)</script>\",\"severity\":\"SEV2\"}\n"
	      "{\"seq\":2,\"ts\":\"2026-11-23T18:58:01Z\",\"kind\":\"note\",\"by\":\"a\","
	      "\"text\":\"x\\u001b]0;pwned\\u0007 | y\\nz\"}\n", f);
	fclose(f);
	char *html = export_to_string(path, "html");
	assert_null(strstr(html, "<script>"));
	assert_non_null(strstr(html, "&lt;script&gt;"));
	assert_null(strchr(html, '\x1b'));
	char *md = export_to_string(path, "md");
	assert_null(strchr(md, '\x1b'));
	assert_non_null(strstr(md, "\\| y z"));
	free(html);
	free(md);
	unlink(path);
	rmdir(dir);
	free(path);
}

static void test_errors(void **state)
{
	char err[256] = "";
	FILE *null = fopen("/dev/null", "w");
	assert_int_equal(export_journal("/nonexistent/j.jsonl", EXPORT_MD, null, err, sizeof err), -1);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(export_format_from_name("pdf"), -1);
	fclose(null);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_markdown_matches),
		cmocka_unit_test(test_json_matches),
		cmocka_unit_test(test_html_chart_markers),
		cmocka_unit_test(test_hostile_text_is_escaped),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
