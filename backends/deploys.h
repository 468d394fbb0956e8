/* Deploy sources, [deploys NAME]: what the jsonl, argocd and github classes
 * share. The parsers are pure functions (no I/O) so they can be tested and
 * fuzzed alone; every text field is sanitised and capped on the way in,
 * since it comes from outside and ends up on terminals. A deploy is
 * journaled once: one already in the state (same service, version and time)
 * is not sent again, so re-reading a log or restarting the server adds
 * nothing. */
#ifndef WARROOM_DEPLOYS_H
#define WARROOM_DEPLOYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backends/backend.h"

#define DEPLOY_LINE_MAX (64 * 1024) /* longer deploy log lines are refused */
#define DEPLOY_FIELD_MAX 128        /* bytes kept of service, version, author, ref */
#define DEPLOY_URL_MAX 1024

struct deploy_rec {
	char *service, *version, *author, *url, *ref; /* sanitised; author, url, ref may be NULL */
	int64_t time;                                 /* ms since the epoch */
};

void deploy_rec_clear(struct deploy_rec *d);

/* s sanitised for a terminal, trimmed, cut to at most cap bytes on a
 * character boundary; NULL when s is NULL or nothing is left. */
char *deploy_clean(const char *s, size_t cap);

enum deploy_line {
	DEPLOY_LINE_OK,    /* out filled; clear it with deploy_rec_clear */
	DEPLOY_LINE_BLANK, /* only whitespace: not an error */
	DEPLOY_LINE_BAD,   /* reason in err */
};

/* One line of the deploy log (len bytes, no NUL needed; a trailing "\r" or
 * "\n" is ignored):
 *   {"service":"api","version":"2.4.0","time":"2026-11-23T18:02:11Z",
 *    "author":"ci","url":"...","ref":"..."}
 * service, version (a string or a number) and time (RFC 3339) are required;
 * author, url and ref (a string or an integer: the vendor's id of the
 * deploy, used by rollbacks) are optional; other keys are ignored. */
enum deploy_line deploy_parse_line(const char *line, size_t len, struct deploy_rec *out,
				   char *err, size_t errlen);

/* A list of deploys parsed from a vendor's answer; free with
 * deploy_list_free. */
struct deploy_list {
	struct deploy_rec *v;
	size_t n, cap;
};
void deploy_list_free(struct deploy_list *l);

/* Argo CD GET /api/v1/applications/APP: status.history[] → deploys of
 * service. version: the image tag when the source names exactly one image
 * (kustomize images or a helm image.tag parameter), else the revision
 * (a git sha shortened to 7); ref: the history id; time: deployedAt.
 * Entries without a usable time or revision are skipped. false + err when
 * the body is not an application. */
bool deploy_parse_argocd(const char *body, size_t len, const char *service, const char *ui_base,
			 const char *app, struct deploy_list *out, char *err, size_t errlen);

/* GitHub GET /repos/O/R/deployments: an array, newest first → deploys of
 * service, oldest first. version: the ref when it looks like a version
 * ("2.4.0", "v2.4.0"), the short sha when the ref is a sha, else
 * "ref@shortsha" (a branch); ref: the sha; time: created_at; author:
 * creator.login. false + err when the body is not such an array. */
bool deploy_parse_github(const char *body, size_t len, const char *service, const char *web_base,
			 struct deploy_list *out, char *err, size_t errlen);

/* Whether st already holds this deploy (same service, version and time). */
bool deploy_known(const struct state *st, const struct deploy_rec *d);

/* Journals d as deploy.seen (by: the section name; source: the class type)
 * unless the state already has it. Returns true when it was sent. */
bool deploy_emit(const struct backend_host *host, const char *by, const char *source,
		 const struct deploy_rec *d);

/* The keys every HTTP deploy source shares: interval (default 30 s) and
 * timeout (default 10 s), in ms; false + "FILE:LINE: ..." on a bad value. */
bool deploy_cfg_times(const struct config_section *sec, const char *file, int64_t *interval_ms,
		      int64_t *timeout_ms, char *err, size_t errlen);

#endif
