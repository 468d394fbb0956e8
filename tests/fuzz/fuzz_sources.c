/* Alert and metric source answers: any bytes through the Alertmanager and
 * Prometheus parsers; whatever they accept is diffed into a state, and every
 * event that produces must pass the event schema. Alertmanager answers are
 * read twice, directly and through cJSON only: the two must agree. */
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
	if (!wr_event_validate(ev, err, sizeof err))
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

/* as text: cJSON_Compare cannot tell objects with a repeated name */
static bool same_text(const cJSON *a, const cJSON *b)
{
	char *pa = a ? cJSON_PrintUnformatted(a) : NULL, *pb = b ? cJSON_PrintUnformatted(b) : NULL;
	bool same = (!pa && !pb) || (pa && pb && strcmp(pa, pb) == 0);
	free(pa);
	free(pb);
	return same;
}

static bool same_items(const struct ptrvec *a, const struct ptrvec *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct alertfeed_item *x = a->v[i], *y = b->v[i];
		cJSON *jx = alertfeed_item_json(x), *jy = alertfeed_item_json(y);
		char *px = cJSON_PrintUnformatted(jx), *py = cJSON_PrintUnformatted(jy);
		cJSON_Delete(jx);
		cJSON_Delete(jy);
		bool same = strcmp(px, py) == 0 && x->silenced == y->silenced &&
			    x->silenced_until == y->silenced_until &&
			    (x->silence_id ? y->silence_id && !strcmp(x->silence_id, y->silence_id)
					   : !y->silence_id);
		free(px);
		free(py);
		if (!same)
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the pollers hand over a NUL-terminated body */
	char *body = malloc(size + 1);
	memcpy(body, data, size);
	body[size] = '\0';
	char err[512], err2[512];
	struct ptrvec items = {0}, tree = {0};
	cJSON *doc = NULL, *doc2 = NULL;
	/* the direct reader and the cJSON path agree on everything */
	alertmanager_direct = false;
	bool ok2 = alertmanager_alerts_parse("src", body, size, NULL, NULL, 1795000000000, &tree,
					     &doc2, err2, sizeof err2);
	alertmanager_direct = true;
	bool ok = alertmanager_alerts_parse("src", body, size, NULL, NULL, 1795000000000, &items,
					    &doc, err, sizeof err);
	if (ok != ok2 || (!ok && strcmp(err, err2) != 0) || (ok && !same_items(&items, &tree)) ||
	    (ok && !same_text(doc, doc2)))
		abort();
	cJSON_Delete(doc);
	cJSON_Delete(doc2);
	ptrvec_free(&tree, alertfeed_item_free);
	if (ok)
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
