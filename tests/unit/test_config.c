/* The config loader: every section and key of the contract, secrets from the
 * environment and token files, and every error naming FILE:LINE. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/backend.h"
#include "core/config.h"
#include "core/util.h"

static char dir[] = "/tmp/wr-config-XXXXXX";
static char path[256];

static int setup(void **state)
{
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof path, "%s/config.ini", dir);
	return 0;
}

static int teardown(void **state)
{
	char tok[300];
	snprintf(tok, sizeof tok, "%s/token", dir);
	unlink(tok);
	unlink(path);
	rmdir(dir);
	return 0;
}

static void write_file(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static struct config *load(const char *text, char *err, size_t errlen)
{
	write_file(path, text);
	err[0] = '\0';
	return config_load(path, err, errlen);
}

/* Loading fails and the message starts with "PATH:LINE: " and holds want. */
static void expect_error(const char *text, int line, const char *want)
{
	char err[512], prefix[300];
	struct config *cfg = load(text, err, sizeof err);
	if (cfg)
		fail_msg("loaded, expected an error at line %d (%s)", line, want);
	snprintf(prefix, sizeof prefix, "%s:%d: ", path, line);
	if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, want))
		fail_msg("error '%s' wants prefix '%s' and '%s'", err, prefix, want);
}

static void test_full_config(void **state)
{
	char err[512];
	setenv("WR_TEST_SP_TOKEN", "canary-sp-123", 1);
	struct config *cfg = load("# a comment\n"
				  "[incident]\n"
				  "title    = Checkout API 5xx\n"
				  "severity = SEV1\n"
				  "journal  = /tmp/x/incident.jsonl\n"
				  "socket   = /tmp/x/incident.sock\n"
				  "service  = api\n"
				  "\n"
				  "[access]\n"
				  "operators = alice bob,carol\n"
				  "socket_group = oncall\n"
				  "[theme]\n"
				  "name = light\n"
				  "[cadence]\n"
				  "first_external = 3\n"
				  "external = 15\n"
				  "[status sp]\n"
				  "type = statuspage\n"
				  "page_id = p1\n"
				  "token = ${WR_TEST_SP_TOKEN}\n"
				  "[rollback api]\n"
				  "via = ssh\n"
				  "host = 127.0.0.1\n",
				  err, sizeof err);
	if (!cfg)
		fail_msg("%s", err);
	assert_string_equal(cfg->title, "Checkout API 5xx");
	assert_string_equal(cfg->severity, "SEV1");
	assert_string_equal(cfg->journal, "/tmp/x/incident.jsonl");
	assert_string_equal(cfg->socket, "/tmp/x/incident.sock");
	assert_string_equal(cfg->service, "api");
	assert_int_equal(cfg->operators.n, 3);
	assert_true(config_is_operator(cfg, "carol"));
	assert_false(config_is_operator(cfg, "mallory"));
	assert_string_equal(cfg->socket_group, "oncall");
	assert_string_equal(cfg->theme, "light");
	assert_int_equal(cfg->cadence_first_external, 3);
	assert_int_equal(cfg->cadence_external, 15);
	assert_int_equal(cfg->cadence_internal, 20); /* default kept */

	const struct config_section *sp = config_find(cfg, "status", "sp");
	assert_non_null(sp);
	assert_string_equal(sp->type, "statuspage");
	assert_int_equal(sp->line, 17);
	const struct config_kv *tok = config_get_kv(sp, "token");
	assert_non_null(tok);
	assert_string_equal(tok->value, "canary-sp-123");
	assert_true(tok->secret);
	assert_int_equal(tok->line, 20);
	assert_false(config_get_kv(sp, "page_id")->secret);

	const struct config_section *rb = config_find(cfg, "rollback", NULL);
	assert_non_null(rb);
	assert_string_equal(rb->name, "api");
	assert_string_equal(rb->type, "ssh");
	assert_string_equal(config_get(rb, "host"), "127.0.0.1");
	assert_null(config_get(rb, "port"));
	config_free(cfg);
}

static void test_token_file(void **state)
{
	char err[512], tok[300], text[600];
	snprintf(tok, sizeof tok, "%s/token", dir);
	write_file(tok, "s3cret-from-file\nsecond line ignored\n");
	snprintf(text, sizeof text, "[status cachet]\ntype = cachet\nurl = http://127.0.0.1:1\n"
		 "token_file = %s\n", tok);
	struct config *cfg = load(text, err, sizeof err);
	if (!cfg)
		fail_msg("%s", err);
	const struct config_kv *kv = config_get_kv(config_find(cfg, "status", "cachet"), "token");
	assert_non_null(kv);
	assert_string_equal(kv->value, "s3cret-from-file");
	assert_true(kv->secret);
	config_free(cfg);

	snprintf(text, sizeof text, "[status cachet]\ntype = cachet\n\ntoken_file = %s/missing\n",
		 dir);
	expect_error(text, 4, "No such file");
}

static void test_errors_name_file_and_line(void **state)
{
	expect_error("[incident]\ntitle = x\nbogus = 1\n", 3, "unknown key 'bogus' in [incident]");
	expect_error("[incident]\nseverity = SEV9\n", 2, "SEV1, SEV2, SEV3 or SEV4");
	expect_error("\n\n[nonsense]\nx = 1\n", 3, "unknown section [nonsense]");
	expect_error("[alerts]\ntype = alertmanager\n", 1, "needs a name");
	expect_error("title = x\n", 1, "outside any section");
	expect_error("[incident]\nthis line has no equals sign\n", 2, "cannot parse");
	expect_error("[alerts am]\nurl = http://x\n", 1, "needs type =");
	expect_error("[rollback api]\ntype = ssh\n", 2, "takes via =, not type =");
	expect_error("[status a]\ntype = file\npath = /tmp/a\npath = /tmp/b\n", 4,
		     "'path' set twice");
	expect_error("[status a]\ntype = file\npath = /a\n[status a]\ntype = file\n", 4,
		     "appears twice (first at line 1)");
	unsetenv("WR_TEST_UNSET_VAR");
	expect_error("[status s]\ntype = slack\nurl = ${WR_TEST_UNSET_VAR}\n", 3,
		     "WR_TEST_UNSET_VAR is not set");
	expect_error("[cadence]\nexternal = soon\n", 2, "whole number of minutes");
	expect_error("[access]\noperators = a\nadmins = b\n", 3, "unknown key 'admins'");
}

/* A backend section's own keys are checked by its class, still with FILE:LINE. */
static void test_backend_keys_checked_at_load(void **state)
{
	char err[512], prefix[400];
	struct config *cfg = load("[incident]\ntitle = t\n[status sp]\ntype = statuspage\n"
				  "page_id = p\ntoken = t\ncolour = red\n", err, sizeof err);
	assert_non_null(cfg);
	err[0] = '\0';
	assert_false(backend_check_config(cfg, err, sizeof err));
	snprintf(prefix, sizeof prefix, "%s:7: unknown key 'colour'", path);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("'%s' wants prefix '%s'", err, prefix);
	config_free(cfg);

	cfg = load("[status x]\ntype = carrier-pigeon\n", err, sizeof err);
	assert_non_null(cfg);
	assert_false(backend_check_config(cfg, err, sizeof err));
	snprintf(prefix, sizeof prefix, "%s:1: [status x]: type 'carrier-pigeon' is not built in", path);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("'%s' wants prefix '%s'", err, prefix);
	assert_non_null(strstr(err, "statuspage"));
	config_free(cfg);

	/* keys the action runner reads are checked at load too */
	cfg = load("[rollback api]\nvia = http\nurl = http://127.0.0.1:9/rb\napproval = two_person\n",
		   err, sizeof err);
	assert_non_null(cfg);
	assert_false(backend_check_config(cfg, err, sizeof err));
	snprintf(prefix, sizeof prefix, "%s:4: approval must be none or two-person", path);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("'%s' wants prefix '%s'", err, prefix);
	config_free(cfg);
	cfg = load("[status f]\ntype = file\npath = /tmp/f\naudience = externall\n", err, sizeof err);
	assert_non_null(cfg);
	assert_false(backend_check_config(cfg, err, sizeof err));
	snprintf(prefix, sizeof prefix, "%s:4: audience must be external or internal", path);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("'%s' wants prefix '%s'", err, prefix);
	config_free(cfg);
}

/* Values keep ';' (shell commands), may be long (PromQL), and may go on over
 * indented lines. */
static void test_values_long_continued_and_with_semicolons(void **state)
{
	char err[512];
	struct sbuf text;
	sbuf_init(&text);
	sbuf_adds(&text, "[incident]\ntitle = A; B\n[access]\noperators = alice bob\n"
		  "  carol\n\tdave\n; a comment\n# another\n[rollback api]\nvia = ssh\n"
		  "command = deploy {service} ; echo done\n  --verbose\n[status f]\ntype = file\n"
		  "path = /tmp/x\n");
	sbuf_adds(&text, "[alerts am]\ntype = alertmanager\nfilter = ");
	for (int i = 0; i < 60; i++)
		sbuf_printf(&text, "service=~\"svc%02d\" ", i);
	sbuf_adds(&text, "\nurl = http://127.0.0.1:9\n");
	struct config *cfg = load(text.buf, err, sizeof err);
	sbuf_free(&text);
	if (!cfg)
		fail_msg("%s", err);
	assert_string_equal(cfg->title, "A; B");
	assert_int_equal(cfg->operators.n, 4);
	assert_true(config_is_operator(cfg, "dave"));
	const struct config_section *rb = config_find(cfg, "rollback", "api");
	assert_string_equal(config_get(rb, "command"), "deploy {service} ; echo done --verbose");
	const struct config_section *am = config_find(cfg, "alerts", "am");
	assert_int_equal(strlen(config_get(am, "filter")), 60 * 17 - 1); /* inih trims the last space */
	/* the line counting survives a long line read in chunks */
	assert_int_equal(config_get_kv(am, "url")->line, 19);
	config_free(cfg);
}

static void test_defaults_and_missing_files(void **state)
{
	char err[512] = "";
	char missing[300];
	snprintf(missing, sizeof missing, "%s/none.ini", dir);
	/* an explicit file that does not exist is an error */
	assert_null(config_load(missing, err, sizeof err));
	assert_non_null(strstr(err, "No such file"));
	/* the default file missing gives the defaults */
	setenv("XDG_CONFIG_HOME", dir, 1);
	setenv("XDG_STATE_HOME", "/tmp/wr-state", 1);
	struct config *cfg = config_load(NULL, err, sizeof err);
	assert_non_null(cfg);
	assert_null(cfg->path);
	assert_string_equal(cfg->journal, "/tmp/wr-state/warroom/incident.jsonl");
	assert_int_equal(cfg->cadence_first_external, 5);
	assert_int_equal(cfg->cadence_external, 20);
	char buf[300], want[300];
	snprintf(want, sizeof want, "%s/warroom/config.ini", dir);
	assert_string_equal(config_default_path(buf, sizeof buf), want);
	config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_config),
		cmocka_unit_test(test_token_file),
		cmocka_unit_test(test_errors_name_file_and_line),
		cmocka_unit_test(test_backend_keys_checked_at_load),
		cmocka_unit_test(test_values_long_continued_and_with_semicolons),
		cmocka_unit_test(test_defaults_and_missing_files),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
