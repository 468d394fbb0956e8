/* What the unit tests read of an alert item (struct alertfeed_item). */
#ifndef WARROOM_TEST_FIRED_H
#define WARROOM_TEST_FIRED_H

#include <cjson/cJSON.h>

#include "backends/alertfeed.h"
#include "core/event.h"

static inline const char *fired_str(const struct alertfeed_item *it, const char *key)
{
	return alert_fields_get(it->fired, key);
}

/* the item's alert.fired fields as one line of JSON; caller frees */
static inline char *fired_text(const struct alertfeed_item *it)
{
	cJSON *j = alertfeed_item_json(it);
	char *s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return s;
}

#endif
