/* A stand-in session server around core/actions.c for the write-side
 * integration tests: the real journal, state fold, backends and loop, with
 * the server's accessors replaced (weak, so real ones win if linked) and the
 * config read with inih. Usage:
 *   actions_driver CONFIG JOURNAL WAIT_MS [USER VERB JSON_ARGS]...
 * VERB: rollback | update | approve | cancel | sleep ({"ms":"N"}). Resumes
 * the outbox first, runs the verbs in order (printing OK <result> or
 * REFUSED <reason>), runs the loop for WAIT_MS, prints STATE <state json>. */
#include "core/actions.h"
#include "core/config.h"
#include "core/journal.h"
#include "core/server.h"
#include "core/state.h"
#include "core/text.h"
#include "core/util.h"
#include <event2/event.h>
#include <ini.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static struct event_base *base;
static struct state *st;
static struct journal *jr;
static struct config cfg;
struct server {
	int x;
};
static struct server S;
__attribute__((weak)) struct event_base *server_base(struct server *s)
{
	return base;
}
__attribute__((weak)) const struct state *server_state(struct server *s)
{
	return st;
}
__attribute__((weak)) const struct config *server_config(struct server *s)
{
	return &cfg;
}
__attribute__((weak)) bool server_emit(struct server *s, struct wr_event *ev)
{
	char e[256];
	if (!journal_append(jr, ev, e, sizeof e)) {
		fprintf(stderr, "append %s\n", e);
		return false;
	}
	journal_sync(jr, e, sizeof e);
	state_apply(st, ev);
	char *t = event_encode(ev);
	fprintf(stderr, "EV %s\n", t);
	free(t);
	wr_event_free(ev);
	return true;
}
__attribute__((weak)) void server_set_series(struct server *s, const char *a, int64_t *t, double *v,
                                             size_t n)
{
	free(t);
	free(v);
}
__attribute__((weak)) void server_set_backend(struct server *s, const char *n, const char *k,
                                              bool ok, const char *e)
{
}
/* The server's rule, for the stand-in: the operators list (this driver
 * always has one). */
bool server_is_operator(const struct server *s, const char *u)
{
	for (size_t i = 0; u && i < cfg.operators.n; i++)
		if (!strcmp(cfg.operators.v[i], u))
			return true;
	return false;
}
__attribute__((weak)) bool config_is_operator(const struct config *c, const char *u)
{
	for (size_t i = 0; i < c->operators.n; i++)
		if (!strcmp(c->operators.v[i], u))
			return true;
	return false;
}
__attribute__((weak)) char *text_sanitize(const char *s, bool u)
{
	return xstrdup(s);
}
static struct config_section *cur;
static int h(void *u, const char *sec, const char *k, const char *v)
{
	if (!strcmp(sec, "access") && !strcmp(k, "operators")) {
		char *c = xstrdup(v), *sv;
		for (char *t = strtok_r(c, " ", &sv); t; t = strtok_r(NULL, " ", &sv))
			ptrvec_push(&cfg.operators, xstrdup(t));
		free(c);
		return 1;
	}
	if (!strcmp(sec, "incident")) {
		if (!strcmp(k, "title"))
			cfg.title = xstrdup(v);
		return 1;
	}
	char fam[64], name[64];
	if (sscanf(sec, "%63s %63s", fam, name) != 2)
		return 1;
	if (!cur || strcmp(cur->family, fam) || strcmp(cur->name, name)) {
		cur = xcalloc(1, sizeof *cur);
		cur->family = xstrdup(fam);
		cur->name = xstrdup(name);
		cur->line = 1;
		ptrvec_push(&cfg.sections, cur);
	}
	if (!strcmp(k, "type") || !strcmp(k, "via"))
		cur->type = xstrdup(v);
	struct config_kv *kv = xcalloc(1, sizeof *kv);
	kv->key = xstrdup(k);
	const char *val = v;
	if (v[0] == '$' && v[1] == '{') {
		char n[128];
		snprintf(n, sizeof n, "%.*s", (int)strlen(v) - 3, v + 2);
		val = getenv(n) ? getenv(n) : "";
	}
	kv->value = xstrdup(val);
	kv->line = 1;
	ptrvec_push(&cur->keys, kv);
	return 1;
}
static void onev(const struct wr_event *ev, void *a)
{
	state_apply(st, ev);
}
static void onprob(const char *p, long l, const char *m, void *a)
{
	fprintf(stderr, "journal %s:%ld %s\n", p, l, m);
}
static struct actions *A;
static int waitms;
static void tick(evutil_socket_t f, short w, void *a)
{
	event_base_loopbreak(base);
}
int main(int argc, char **argv)
{
	/* actdrv CONFIG JOURNAL WAITMS [USER VERB JSON]... */
	signal(SIGPIPE, SIG_IGN);
	cfg.path = argv[1];
	ini_parse(argv[1], h, NULL);
	base = event_base_new();
	st = state_new();
	char e[256];
	jr = journal_open(argv[2], onev, onprob, NULL, e, sizeof e);
	if (!jr) {
		fprintf(stderr, "%s\n", e);
		return 1;
	}
	waitms = atoi(argv[3]);
	A = actions_new(&S);
	actions_resume(A);
	for (int i = 4; i + 2 < argc; i += 3) {
		const char *u = argv[i], *verb = argv[i + 1];
		cJSON *args = cJSON_Parse(argv[i + 2]);
		cJSON *res = NULL;
		char err[512] = "";
		bool ok;
		if (!strcmp(verb, "rollback"))
			ok = actions_rollback(A, u, args, &res, err, sizeof err);
		else if (!strcmp(verb, "update"))
			ok = actions_update(A, u, args, &res, err, sizeof err);
		else if (!strcmp(verb, "approve"))
			ok = actions_approve(A, u, cJSON_GetObjectItem(args, "id")->valuestring,
			                     err, sizeof err);
		else if (!strcmp(verb, "cancel"))
			ok = actions_cancel(A, u, cJSON_GetObjectItem(args, "id")->valuestring, err,
			                    sizeof err);
		else if (!strcmp(verb, "sleep")) {
			int ms = atoi(cJSON_GetObjectItem(args, "ms")->valuestring);
			struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
			struct event *t = evtimer_new(base, tick, NULL);
			evtimer_add(t, &tv);
			event_base_dispatch(base);
			event_free(t);
			cJSON_Delete(args);
			continue;
		} else {
			fprintf(stderr, "verb?\n");
			return 2;
		}
		char *r = res ? cJSON_PrintUnformatted(res) : NULL;
		printf("%s %s %s\n", ok ? "OK" : "REFUSED", ok ? (r ? r : "") : err, "");
		fflush(stdout);
		free(r);
		cJSON_Delete(res);
		cJSON_Delete(args);
	}
	struct timeval tv = {waitms / 1000, (waitms % 1000) * 1000};
	struct event *t = evtimer_new(base, tick, NULL);
	evtimer_add(t, &tv);
	event_base_dispatch(base);
	cJSON *j = state_to_json(st);
	char *s = cJSON_PrintUnformatted(j);
	printf("STATE %s\n", s);
	free(s);
	cJSON_Delete(j);
	actions_free(A);
	journal_close(jr);
	state_free(st);
	return 0;
}
