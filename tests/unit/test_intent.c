/* The intent table: lookups by name, rights, argument validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/intent.h"

static void test_every_name_round_trips(void **state)
{
	for (int k = 0; k < INT__COUNT; k++) {
		const struct intent_def *d = intent_def((enum intent_kind)k);
		assert_non_null(d);
		assert_non_null(d->name);
		assert_non_null(d->help);
		assert_int_equal(intent_from_name(d->name), k);
	}
	assert_int_equal(intent_from_name("note"), INT_NOTE);
	assert_int_equal(intent_from_name("set-state"), INT_SET_STATE);
	assert_int_equal(intent_from_name("fly"), -1);
	assert_int_equal(intent_from_name(""), -1);
	assert_int_equal(intent_from_name(NULL), -1);
	assert_int_equal(intent_from_name("NOTE"), -1); /* names are exact */
	assert_null(intent_def(INT__COUNT));
	assert_null(intent_def((enum intent_kind)-1));
}

static void test_rights(void **state)
{
	assert_int_equal(intent_def(INT_STATE)->right, RIGHT_ANY);
	assert_int_equal(intent_def(INT_POINT)->right, RIGHT_ANY);
	assert_int_equal(intent_def(INT_NOTE)->right, RIGHT_OPERATOR);
	assert_int_equal(intent_def(INT_ASSIGN)->right, RIGHT_OPERATOR);
	assert_int_equal(intent_def(INT_SET_STATE)->right, RIGHT_IC);
	assert_int_equal(intent_def(INT_ROLLBACK)->right, RIGHT_MITIGATE);
	assert_int_equal(intent_def(INT_APPROVE)->right, RIGHT_APPROVER);
	/* only reading and pointing are open to viewers */
	for (int k = 0; k < INT__COUNT; k++)
		if (k != INT_STATE && k != INT_POINT)
			assert_int_not_equal(intent_def((enum intent_kind)k)->right, RIGHT_ANY);
}

static bool check(enum intent_kind k, const char *json, char *err, size_t errlen)
{
	cJSON *args = json ? cJSON_Parse(json) : NULL;
	if (json)
		assert_non_null(args);
	err[0] = '\0';
	bool ok = intent_validate(k, args, err, errlen);
	cJSON_Delete(args);
	return ok;
}

static void test_validation(void **state)
{
	char err[256];
	assert_true(check(INT_STATE, NULL, err, sizeof err));
	assert_true(check(INT_STATE, "{}", err, sizeof err));
	assert_true(check(INT_NOTE, "{\"text\":\"looking at deploys\"}", err, sizeof err));

	assert_false(check(INT_NOTE, "{}", err, sizeof err));
	assert_string_equal(err, "note: missing field \"text\"");
	assert_false(check(INT_NOTE, NULL, err, sizeof err));
	assert_non_null(strstr(err, "missing field \"text\""));
	assert_false(check(INT_NOTE, "{\"text\":5}", err, sizeof err));
	assert_non_null(strstr(err, "\"text\""));
	assert_false(check(INT_NOTE, "[\"text\"]", err, sizeof err));
	assert_non_null(strstr(err, "object"));

	/* optional fields may be missing or null, not of the wrong type */
	assert_true(check(INT_RELEASE, "{\"role\":\"ic\"}", err, sizeof err));
	assert_true(check(INT_RELEASE, "{\"role\":\"ic\",\"user\":null}", err, sizeof err));
	assert_false(check(INT_RELEASE, "{\"role\":\"ic\",\"user\":7}", err, sizeof err));
	assert_true(check(INT_SILENCE, "{\"id\":\"a1\",\"minutes\":30}", err, sizeof err));
	assert_false(check(INT_SILENCE, "{\"id\":\"a1\",\"minutes\":\"30\"}", err, sizeof err));
	assert_non_null(strstr(err, "minutes"));
	assert_true(check(INT_ROLLBACK, "{\"service\":\"api\",\"dry_run\":true}", err, sizeof err));
	assert_false(check(INT_ROLLBACK, "{\"service\":\"api\",\"dry_run\":1}", err, sizeof err));

	/* a misspelt argument is an error, not silently ignored */
	assert_false(check(INT_ROLLBACK, "{\"service\":\"api\",\"dryrun\":true}", err, sizeof err));
	assert_string_equal(err, "rollback: unknown argument \"dryrun\"");
	assert_false(check(INT_STATE, "{\"x\":1}", err, sizeof err));
	/* a prefix of a real name is not that name */
	assert_false(check(INT_ASSIGN, "{\"role\":\"ic\",\"user\":\"bob\",\"use\":\"x\"}", err,
			   sizeof err));
	assert_false(check(INT__COUNT, "{}", err, sizeof err));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_name_round_trips),
		cmocka_unit_test(test_rights),
		cmocka_unit_test(test_validation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
