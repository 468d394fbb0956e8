/* Protocol framing: whole frames, short reads, oversized and malformed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/proto.h"

static void test_round_trip_and_short_reads(void **state)
{
	cJSON *o = cJSON_Parse("{\"t\":\"intent\",\"id\":7,\"name\":\"note\",\"args\":{\"text\":\"hi\"}}");
	size_t len;
	char *frame = proto_encode(o, &len);
	/* two frames back to back, fed one byte at a time */
	unsigned char *two = malloc(2 * len);
	memcpy(two, frame, len);
	memcpy(two + len, frame, len);
	char err[128];
	cJSON *got = NULL;
	size_t used = 0;
	for (size_t have = 0; have < len; have++)
		assert_int_equal(proto_decode(two, have, PROTO_MAX_FRAME, &got, &used, err, sizeof err),
				 PROTO_NEED_MORE);
	assert_int_equal(proto_decode(two, len + 3, PROTO_MAX_FRAME, &got, &used, err, sizeof err),
			 PROTO_OK);
	assert_int_equal(used, len);
	assert_true(cJSON_Compare(got, o, 1));
	cJSON_Delete(got);
	assert_int_equal(proto_decode(two + used, len, PROTO_MAX_FRAME, &got, &used, err, sizeof err),
			 PROTO_OK);
	cJSON_Delete(got);
	free(two);
	free(frame);
	cJSON_Delete(o);
}

static void test_oversized(void **state)
{
	unsigned char hdr[4] = {0x7f, 0xff, 0xff, 0xff};
	cJSON *got = NULL;
	size_t used;
	char err[128];
	assert_int_equal(proto_decode(hdr, 4, PROTO_MAX_CLIENT_FRAME, &got, &used, err, sizeof err),
			 PROTO_ERROR);
	assert_non_null(strstr(err, "exceeds"));
	assert_null(got);
}

static void expect_error(const char *payload, const char *needle)
{
	size_t n = strlen(payload);
	unsigned char *buf = malloc(n + 4);
	buf[0] = 0; buf[1] = 0; buf[2] = (unsigned char)(n >> 8); buf[3] = (unsigned char)n;
	memcpy(buf + 4, payload, n);
	cJSON *got = NULL;
	size_t used;
	char err[128] = "";
	assert_int_equal(proto_decode(buf, n + 4, PROTO_MAX_FRAME, &got, &used, err, sizeof err),
			 PROTO_ERROR);
	if (!strstr(err, needle))
		fail_msg("\"%s\" lacks \"%s\"", err, needle);
	free(buf);
}

static void test_malformed(void **state)
{
	expect_error("{not json", "not JSON");
	expect_error("[1,2,3]", "\"t\"");
	expect_error("{\"x\":1}", "\"t\"");
	expect_error("{\"t\":\"hello\"} {}", "after");
	unsigned char zero[4] = {0, 0, 0, 0};
	cJSON *got;
	size_t used;
	char err[64];
	assert_int_equal(proto_decode(zero, 4, 100, &got, &used, err, sizeof err), PROTO_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_and_short_reads),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
