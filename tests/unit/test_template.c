/* Template expansion: values arrive literally through a real /bin/sh and
 * through a JSON parser, whatever they contain. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "backends/template.h"
#include "core/util.h"

static const char *const nasty[] = {
	"2.3",
	"2.3;touch /tmp/wr-template-pwned",
	"it's",
	"a b  c",
	"$(touch /tmp/wr-template-pwned)",
	"`id`",
	"'\"\\",
	"line1\nline2",
	"--to=1 && rm -rf /nonexistent",
	"",
	"*",
	"${HOME}",
};

/* Runs cmd with /bin/sh -c and returns its stdout (caller frees). */
static char *run_sh(const char *cmd)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	struct sbuf sb;
	sbuf_init(&sb);
	char buf[512];
	ssize_t n;
	while ((n = read(fds[0], buf, sizeof buf)) > 0)
		sbuf_add(&sb, buf, (size_t)n);
	close(fds[0]);
	int status;
	waitpid(pid, &status, 0);
	return sbuf_detach(&sb);
}

static void check_shell(const char *tmpl, const char *expect_fmt)
{
	char err[256];
	for (size_t i = 0; i < sizeof nasty / sizeof nasty[0]; i++) {
		struct template_var vars[] = {{"version", nasty[i]}, {"service", "api"}};
		char *cmd = template_expand(tmpl, TEMPLATE_SHELL, vars, 2, err, sizeof err);
		assert_non_null(cmd);
		char *out = run_sh(cmd);
		char *want = xasprintf(expect_fmt, nasty[i]);
		if (strcmp(out, want) != 0)
			fail_msg("template %s value [%s]: got [%s] want [%s] (cmd %s)", tmpl, nasty[i],
				 out, want, cmd);
		free(want);
		free(out);
		free(cmd);
	}
	assert_int_not_equal(access("/tmp/wr-template-pwned", F_OK), 0);
}

static void test_shell_plain(void **st)
{
	unlink("/tmp/wr-template-pwned");
	check_shell("printf '[%s]' {version}", "[%s]");
	check_shell("printf '[%s]' --to={version}", "[--to=%s]");
	check_shell("printf '[%s]' x{version}y", "[x%sy]");
}

static void test_shell_inside_single_quotes(void **st)
{
	unlink("/tmp/wr-template-pwned");
	check_shell("printf '[%s]' '--to={version} !'", "[--to=%s !]");
}

static void test_shell_one_word(void **st)
{
	char err[256];
	struct template_var vars[] = {{"service", "api"}, {"version", "2.3;touch /tmp/x"}};
	char *cmd = template_expand("/opt/deploy/rollback {service} {version}", TEMPLATE_SHELL, vars,
				    2, err, sizeof err);
	assert_non_null(cmd);
	assert_string_equal(cmd, "/opt/deploy/rollback 'api' '2.3;touch /tmp/x'");
	free(cmd);
}

static void test_shell_refusals(void **st)
{
	char err[256];
	struct template_var vars[] = {{"version", "1"}};
	assert_null(template_expand("echo \"{version}\"", TEMPLATE_SHELL, vars, 1, err, sizeof err));
	assert_non_null(strstr(err, "double quotes"));
	assert_null(template_expand("echo \\{version}", TEMPLATE_SHELL, vars, 1, err, sizeof err));
	assert_non_null(strstr(err, "backslash"));
	assert_null(template_expand("echo ${version}", TEMPLATE_SHELL, vars, 1, err, sizeof err));
	assert_non_null(strstr(err, "not ${version}"));
	assert_null(template_expand("echo {verison}", TEMPLATE_SHELL, vars, 1, err, sizeof err));
	assert_non_null(strstr(err, "unknown placeholder {verison}"));
	assert_null(template_expand("echo 'abc {version}", TEMPLATE_SHELL, vars, 1, err, sizeof err));
	assert_non_null(strstr(err, "unterminated"));
	/* literal braces, shell brace expansion and ${VAR} stay as they are */
	char *s = template_expand("echo {a,b} ${HOME} {{version} {}", TEMPLATE_SHELL, vars, 1, err,
				  sizeof err);
	assert_non_null(s);
	assert_string_equal(s, "echo {a,b} ${HOME} {version} {}");
	free(s);
}

static void test_check(void **st)
{
	char err[256];
	assert_true(template_check("kubectl rollout undo deployment/{service} --to-revision={version}",
				   TEMPLATE_SHELL, template_rollback_names, err, sizeof err));
	assert_false(template_check("deploy {servise}", TEMPLATE_SHELL, template_rollback_names, err,
				    sizeof err));
	assert_true(template_check("{\"text\":\"{state}: {message}\"}", TEMPLATE_JSON,
				   template_status_names, err, sizeof err));
	assert_false(template_check("{\"text\":{state}", TEMPLATE_JSON, template_status_names, err,
				    sizeof err));
	assert_non_null(strstr(err, "not valid JSON"));
}

static void test_json(void **st)
{
	char err[256];
	for (size_t i = 0; i < sizeof nasty / sizeof nasty[0]; i++) {
		struct template_var vars[] = {{"message", nasty[i]}, {"state", "identified"}};
		/* inside a string, and bare (becomes a whole string) */
		char *body = template_expand("{\"text\":\"[{state}] {message}\",\"m\":{message}}",
					     TEMPLATE_JSON, vars, 2, err, sizeof err);
		assert_non_null(body);
		cJSON *j = cJSON_Parse(body);
		assert_non_null(j);
		char *want = xasprintf("[identified] %s", nasty[i]);
		cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "text");
		assert_true(cJSON_IsString(t));
		assert_string_equal(t->valuestring, want);
		cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "m");
		assert_true(cJSON_IsString(m));
		assert_string_equal(m->valuestring, nasty[i]);
		assert_int_equal(cJSON_GetArraySize(j), 2);
		free(want);
		cJSON_Delete(j);
		free(body);
	}
}

static void test_json_control_chars(void **st)
{
	char *e = template_json_escape("a\x01\x1b[31mb\"");
	assert_string_equal(e, "a\\u0001\\u001b[31mb\\\"");
	free(e);
}

static void test_url_escape(void **st)
{
	char *e = template_url_escape("ab/c d?e=1&x~_.-");
	assert_string_equal(e, "ab%2Fc%20d%3Fe%3D1%26x~_.-");
	free(e);
}

static void test_text(void **st)
{
	char err[256];
	struct template_var vars[] = {{"state", "monitoring"}, {"message", "a \"fix\" is out"}};
	char *s = template_expand("{state}: {message}", TEMPLATE_TEXT, vars, 2, err, sizeof err);
	assert_string_equal(s, "monitoring: a \"fix\" is out");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shell_plain),
		cmocka_unit_test(test_shell_inside_single_quotes),
		cmocka_unit_test(test_shell_one_word),
		cmocka_unit_test(test_shell_refusals),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_control_chars),
		cmocka_unit_test(test_url_escape),
		cmocka_unit_test(test_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
