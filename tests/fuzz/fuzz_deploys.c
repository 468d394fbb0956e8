/* Deploy sources: any bytes through the deploy log line parser (line by
 * line, as the follower splits them) and the Argo CD and GitHub answer
 * parsers. What they accept must be non-empty, capped and free of control
 * characters, and must journal as a valid deploy.seen exactly once. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends/deploys.h"
#include "core/state.h"

const char *const fuzz_target_name = "deploys";

struct fold {
	struct state *st;
	uint64_t seq;
	unsigned sent;
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
	f->sent++;
}

static const struct state *fold_state(void *arg)
{
	return ((struct fold *)arg)->st;
}

static void check_text(const char *s, size_t cap, bool required)
{
	if (!s) {
		if (required)
			abort();
		return;
	}
	size_t n = strlen(s);
	if (n == 0 || n > cap)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			abort();
}

static void check_rec(const struct deploy_rec *d)
{
	check_text(d->service, DEPLOY_FIELD_MAX, true);
	check_text(d->version, DEPLOY_FIELD_MAX, true);
	check_text(d->author, DEPLOY_FIELD_MAX, false);
	check_text(d->ref, DEPLOY_FIELD_MAX, false);
	check_text(d->url, DEPLOY_URL_MAX, false);
}

/* Journals each record twice: the second time must be refused. */
static void emit_twice(const struct deploy_rec *v, size_t n)
{
	struct fold f = {.st = state_new()};
	const struct backend_host h = {.emit = fold_emit, .state = fold_state, .arg = &f};
	unsigned fresh = 0;
	for (int round = 0; round < 2; round++)
		for (size_t i = 0; i < n; i++)
			if (deploy_emit(&h, "fuzz", "jsonl", &v[i])) {
				if (round == 1)
					abort();
				fresh++;
			}
	if (fresh != f.sent || f.st->deploys.n != fresh)
		abort();
	state_free(f.st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct deploy_list l = {0};
	char err[256];
	/* every line of the input as a deploy log line */
	for (size_t at = 0; at < size;) {
		const char *nl = memchr(p + at, '\n', size - at);
		size_t len = nl ? (size_t)(nl - (p + at)) : size - at;
		struct deploy_rec d;
		if (deploy_parse_line(p + at, len, &d, err, sizeof err) == DEPLOY_LINE_OK) {
			check_rec(&d);
			if (l.n == l.cap) {
				l.cap = l.cap ? l.cap * 2 : 8;
				l.v = realloc(l.v, l.cap * sizeof *l.v);
				if (!l.v)
					abort();
			}
			l.v[l.n++] = d;
		}
		at += len + 1;
	}
	emit_twice(l.v, l.n);
	deploy_list_free(&l);
	/* the whole input as a vendor's answer */
	if (deploy_parse_argocd(p, size, "api", "https://argo", "app", &l, err, sizeof err)) {
		for (size_t i = 0; i < l.n; i++)
			check_rec(&l.v[i]);
		emit_twice(l.v, l.n);
	}
	deploy_list_free(&l);
	if (deploy_parse_github(p, size, "web", "https://github.com/a/b", &l, err, sizeof err)) {
		for (size_t i = 0; i < l.n; i++)
			check_rec(&l.v[i]);
		emit_twice(l.v, l.n);
	}
	deploy_list_free(&l);
	return 0;
}
