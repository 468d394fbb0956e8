#include "core/proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

char *proto_encode(const cJSON *obj, size_t *outlen)
{
	char *json = cJSON_PrintUnformatted(obj);
	if (!json)
		return NULL;
	size_t n = strlen(json);
	char *frame = xmalloc(n + 4);
	frame[0] = (char)((n >> 24) & 0xff);
	frame[1] = (char)((n >> 16) & 0xff);
	frame[2] = (char)((n >> 8) & 0xff);
	frame[3] = (char)(n & 0xff);
	memcpy(frame + 4, json, n);
	free(json);
	*outlen = n + 4;
	return frame;
}

enum proto_result proto_decode(const unsigned char *buf, size_t len, size_t max, cJSON **obj,
			       size_t *consumed, char *err, size_t errlen)
{
	*obj = NULL;
	*consumed = 0;
	if (len < 4)
		return PROTO_NEED_MORE;
	size_t n = ((size_t)buf[0] << 24) | ((size_t)buf[1] << 16) | ((size_t)buf[2] << 8) |
		   (size_t)buf[3];
	if (n > max) {
		snprintf(err, errlen, "frame of %zu bytes exceeds the limit of %zu", n, max);
		return PROTO_ERROR;
	}
	if (n == 0) {
		snprintf(err, errlen, "empty frame");
		return PROTO_ERROR;
	}
	if (len - 4 < n)
		return PROTO_NEED_MORE;
	const char *end = NULL;
	cJSON *o = cJSON_ParseWithLengthOpts((const char *)buf + 4, n, &end, 0);
	if (!o) {
		snprintf(err, errlen, "malformed frame: not JSON");
		return PROTO_ERROR;
	}
	for (const char *p = end; p && p < (const char *)buf + 4 + n; p++)
		if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') {
			cJSON_Delete(o);
			snprintf(err, errlen, "malformed frame: data after the JSON object");
			return PROTO_ERROR;
		}
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "t");
	if (!cJSON_IsObject(o) || !cJSON_IsString(t)) {
		cJSON_Delete(o);
		snprintf(err, errlen, "malformed frame: not an object with a \"t\" type");
		return PROTO_ERROR;
	}
	*obj = o;
	*consumed = n + 4;
	return PROTO_OK;
}
