/* What an HTTP answer becomes for the user (http_result): the vendor's own
 * words, on one line, capped, and never any part of the secret, wherever
 * the cap falls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backends/http.h"

#define SECRET "canarySP7-0123456789"

/* No run of 6 or more of the secret's characters appears in s. */
static void assert_no_piece_of_secret(const char *s)
{
	size_t sl = strlen(SECRET);
	for (size_t i = 0; i + 6 <= sl; i++) {
		char piece[7];
		memcpy(piece, SECRET + i, 6);
		piece[6] = '\0';
		if (strstr(s, piece)) {
			fail_msg("a piece of the secret (%s) survived in: %s", piece, s);
		}
	}
}

static struct backend_result answer(long status, const char *body, const char *transport)
{
	struct http_reply r = {
		.status = status, .body = body, .len = body ? strlen(body) : 0,
		.transport_error = transport,
	};
	struct backend_result res;
	memset(&res, 0, sizeof res);
	http_result(&r, "statuspage", SECRET, &res);
	return res;
}

static void test_secret_straddling_the_cap_is_scrubbed(void **ctx)
{
	/* the old order (cap at 300, then scrub) left the secret's first
	 * characters in place when it began just before the cut */
	for (size_t pad = 280; pad <= 300; pad++) {
		char body[512];
		memset(body, 'x', pad);
		snprintf(body + pad, sizeof body - pad, "%s tail", SECRET);
		struct backend_result res = answer(503, body, NULL);
		assert_false(res.ok);
		assert_true(res.retryable);
		assert_non_null(strstr(res.error, "statuspage: HTTP 503: xxx"));
		assert_no_piece_of_secret(res.error);
	}
}

static void test_json_field_with_the_secret(void **ctx)
{
	char body[1024];
	snprintf(body, sizeof body, "{\"error\": \"%0*d bad token %s\"}", 290, 0, SECRET);
	struct backend_result res = answer(401, body, NULL);
	assert_false(res.ok);
	assert_false(res.retryable);
	assert_non_null(strstr(res.error, "HTTP 401: 000"));
	assert_no_piece_of_secret(res.error);

	struct backend_result whole = answer(400, "{\"message\": \"token " SECRET " is revoked\"}", NULL);
	assert_string_equal(whole.error, "statuspage: HTTP 400: token *** is revoked");
}

static void test_transport_error_and_long_lines(void **ctx)
{
	char err[700];
	memset(err, 'e', 490);
	snprintf(err + 490, sizeof err - 490, "%s", SECRET);
	struct backend_result res = answer(0, NULL, err);
	assert_true(res.retryable);
	assert_no_piece_of_secret(res.error);

	/* newlines and tabs fold into one line; the text is capped */
	char big[2000];
	memset(big, 'y', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	big[10] = '\n';
	big[20] = '\t';
	struct backend_result r2 = answer(500, big, NULL);
	assert_null(strchr(r2.error, '\n'));
	assert_null(strchr(r2.error, '\t'));
	assert_true(strlen(r2.error) <= strlen("statuspage: HTTP 500: ") + 300);

	struct backend_result ok = answer(201, "{}", NULL);
	assert_true(ok.ok);
	assert_string_equal(ok.error, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secret_straddling_the_cap_is_scrubbed),
		cmocka_unit_test(test_json_field_with_the_secret),
		cmocka_unit_test(test_transport_error_and_long_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
