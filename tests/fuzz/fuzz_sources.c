/* Alert and metric source answers: any bytes through the Alertmanager and
 * Prometheus parsers; whatever they accept is diffed into a state, and every
 * event that produces must pass the event schema. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends/alertfeed.h"
#include "backends/sources.h"
#include "core/state.h"

const char *const fuzz_target_name = "sources";

struct fold {
	struct state *st;
	uint64_t seq;
};

static void fold_emit(void *arg, struct wr_event *ev)
{
	struct fold *f = arg;
	char err[256];
	if (!event_validate(ev->kind, ev->data, err, sizeof err))
		abort();
	ev->seq = ++f->seq;
	state_apply(f->st, ev);
	wr_event_free(ev);
}

static const struct state *fold_state(void *arg)
{
	return ((struct fold *)arg)->st;
}

static void sync_twice(struct ptrvec *items)
{
	struct fold f = {.st = state_new()};
	const struct backend_host h = {.emit = fold_emit, .state = fold_state, .arg = &f};
	alertfeed_sync(&h, "src", "fuzz", items);
	/* the same answer again journals nothing */
	uint64_t seq = f.seq;
	alertfeed_sync(&h, "src", "fuzz", items);
	if (f.seq != seq)
		abort();
	cJSON_Delete(state_to_json(f.st));
	state_free(f.st);
	ptrvec_free(items, alertfeed_item_free);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the pollers hand over a NUL-terminated body */
	char *body = malloc(size + 1);
	memcpy(body, data, size);
	body[size] = '\0';
	char err[512];
	struct ptrvec items = {0};
	if (alertmanager_alerts_parse("src", body, size, NULL, NULL, 1795000000000, &items, NULL,
				      err, sizeof err))
		sync_twice(&items);
	if (prometheus_alerts_parse("src", body, size, &items, err, sizeof err))
		sync_twice(&items);
	struct prom_window w = prometheus_window(1795000000000, 3 * 3600000, 30000);
	int64_t *t;
	double *v;
	if (prometheus_matrix_parse(body, size, &w, &t, &v, err, sizeof err)) {
		free(t);
		free(v);
	}
	free(body);
	return 0;
}
