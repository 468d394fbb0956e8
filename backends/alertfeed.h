/* What the alert pollers (Alertmanager, Prometheus) share: each poll gives
 * the whole list of alerts the source has now; alertfeed_sync compares it
 * with the alerts this source already has in the state and journals only
 * the differences (fired, changed, silenced, unsilenced, resolved). */
#ifndef WARROOM_ALERTFEED_H
#define WARROOM_ALERTFEED_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backends/backend.h"
#include "core/util.h"

/* Caps on external text in alert events (bytes). */
#define ALERTFEED_NAME_MAX 200
#define ALERTFEED_VALUE_MAX 1024
#define ALERTFEED_SUMMARY_MAX 512
#define ALERTFEED_MAX_PAIRS 64

struct pairs;

struct alertfeed_item {
	struct alert_fields *fired; /* what alert.fired would say; owned */
	bool silenced;
	char *silence_id;      /* first silence, when silenced */
	int64_t silenced_until; /* ms, 0 when unknown */
};

/* Builds the alert.fired fields from raw labels and annotations (sanitised
 * and capped here). starts_at and url may be NULL. The item's id is `id`. */
struct alertfeed_item *alertfeed_item_new(const char *id, const char *source,
					  const cJSON *labels, const cJSON *annotations,
					  const char *starts_at, const char *url);
void alertfeed_item_free(void *item);
/* The same from labels and annotations packed already (taken), which must
 * be what cleaning would leave (alertfeed_pairs_clean); either may be NULL
 * for none. For readers that check that as they read. */
struct alertfeed_item *alertfeed_item_packed(const char *id, const char *source,
					     struct pairs *labels, struct pairs *annotations,
					     const char *starts_at, const char *url);
/* The item's alert.fired fields as a tree (caller frees). */
cJSON *alertfeed_item_json(const struct alertfeed_item *it);
/* The same, taking labels and annotations (detached, either may be NULL):
 * used as they are when clean already (the usual case: no copy), else
 * replaced by cleaned copies. */
struct alertfeed_item *alertfeed_item_take(const char *id, const char *source, cJSON *labels,
					   cJSON *annotations, const char *starts_at,
					   const char *url);
/* Whether an object of labels or annotations is what cleaning it would give:
 * string values only, plain printable ASCII within the caps, no empty or
 * repeated name, at most ALERTFEED_MAX_PAIRS. */
bool alertfeed_pairs_clean(const cJSON *obj);

/* Journals the differences between items (struct alertfeed_item*) and the
 * state's alerts from `source`. by: the event author ("alertmanager"). */
void alertfeed_sync(const struct backend_host *host, const char *source, const char *by,
		    const struct ptrvec *items);

/* The same in parts, for answers too large to hold as items all at once:
 * begin, then each part's items as they are made (a part's items may be
 * freed once alertfeed_part returns), then end, which resolves the alerts
 * of the source that no part named and frees the pass. An answer found bad
 * half-way is dropped with abort: what earlier parts journaled stands, and
 * nothing is resolved. */
struct alertfeed_pass;
struct alertfeed_pass *alertfeed_begin(const struct backend_host *host, const char *source,
				       const char *by);
void alertfeed_part(struct alertfeed_pass *p, const struct ptrvec *items);
/* The same, handing each alert.fired it journals its item's fields rather
 * than a copy (it->fired is NULL after), for items freed next. */
void alertfeed_part_take(struct alertfeed_pass *p, const struct ptrvec *items);
void alertfeed_end(struct alertfeed_pass *p);
void alertfeed_abort(struct alertfeed_pass *p);

/* A stable id for an alert without one: 16 hex digits of a hash of its
 * labels (sorted by name). */
void alertfeed_label_hash(const cJSON *labels, char out[17]);

#endif
