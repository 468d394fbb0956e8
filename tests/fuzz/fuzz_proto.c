/* Protocol frames: any byte stream is either whole frames, a need for more,
 * or an error; never a crash or an overread. */
#include <stdint.h>
#include <stdlib.h>

#include "core/proto.h"

const char *const fuzz_target_name = "proto";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;
	char err[256];
	while (off < size) {
		cJSON *obj = NULL;
		size_t used = 0;
		enum proto_result r = proto_decode(data + off, size - off, 1u << 20, &obj, &used,
						   err, sizeof err);
		if (r != PROTO_OK)
			break;
		if (!obj || used == 0 || used > size - off)
			abort();
		cJSON_Delete(obj);
		off += used;
	}
	return 0;
}
