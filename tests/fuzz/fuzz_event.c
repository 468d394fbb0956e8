/* Journal line reader: decode any bytes; whatever decodes must encode and
 * decode again to the same event. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "core/state.h"

const char *const fuzz_target_name = "event";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct wr_event *ev = event_decode((const char *)data, size, err, sizeof err);
	if (!ev)
		return 0;
	char *line = event_encode(ev);
	struct wr_event *back = event_decode(line, strlen(line), err, sizeof err);
	if (!back || back->seq != ev->seq || back->kind != ev->kind ||
	    !cJSON_Compare(back->data, ev->data, 1))
		abort();
	/* and the fold takes it without harm */
	struct state *st = state_new();
	state_apply(st, ev);
	cJSON_Delete(state_to_json(st));
	state_free(st);
	free(line);
	wr_event_free(back);
	wr_event_free(ev);
	return 0;
}
