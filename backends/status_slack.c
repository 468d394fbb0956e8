/* [status NAME] type = slack: a Slack incoming webhook.
 *   url (the webhook URL: it is itself the secret, so it is never shown in
 *   full), audience (usually internal), text (optional template; default
 *   "*{STATE}* {title}: {message}" with the state in capitals).
 * Slack answers 200 "ok"; errors are plain text (invalid_payload,
 * channel_not_found, ...) and are shown as they are; 429 carries Retry-After.
 * A webhook has no idempotency key: delivery is at least once. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "backends/template.h"
#include "backends/http.h"
#include "core/util.h"

struct slack {
	char *url, *shown, *text;
};

static const char *const slack_keys[] = {"url", "audience", "text", NULL};

static void slack_free(void *self)
{
	struct slack *s = self;
	if (!s)
		return;
	free(s->url);
	free(s->shown);
	free(s->text);
	free(s);
}

static void *slack_configure(const struct config_section *sec, const char *file, char *err,
			     size_t errlen)
{
	char where[300];
	if (!template_check_keys(sec, file, slack_keys, err, errlen))
		return NULL;
	const char *url = template_get(sec, "url");
	if (!url || !*url) {
		template_key_where(sec, file, NULL, where, sizeof where);
		snprintf(err, errlen, "%s[status %s] type = slack needs url = ${SLACK_WEBHOOK_URL}",
			 where, sec->name);
		return NULL;
	}
	const char *text = template_get(sec, "text");
	char terr[256];
	if (text && !template_check(text, TEMPLATE_TEXT, template_status_names, terr, sizeof terr)) {
		template_key_where(sec, file, "text", where, sizeof where);
		snprintf(err, errlen, "%stext: %s", where, terr);
		return NULL;
	}
	struct slack *s = xcalloc(1, sizeof *s);
	s->url = xstrdup(url);
	s->shown = http_redact_url(url);
	s->text = xstrdup(text);
	return s;
}

static char *slack_text(const struct slack *s, const struct backend_job_req *req)
{
	if (s->text) {
		char ts[40];
		time_format_rfc3339(time_now_ms(), ts, sizeof ts);
		const struct template_var vars[] = {
			{"state", req->state}, {"message", req->message}, {"title", req->title},
			{"impact", req->impact}, {"severity", req->impact}, {"service", req->service},
			{"time", ts}, {"user", req->user},
		};
		char err[256];
		char *t = template_expand(s->text, TEMPLATE_TEXT, vars, sizeof vars / sizeof vars[0],
					  err, sizeof err);
		if (t)
			return t;
	}
	struct sbuf sb;
	sbuf_init(&sb);
	sbuf_addc(&sb, '*');
	for (const char *p = req->state ? req->state : "update"; *p; p++)
		sbuf_addc(&sb, (*p >= 'a' && *p <= 'z') ? (char)(*p - 32) : *p);
	sbuf_addc(&sb, '*');
	if (req->title && *req->title)
		sbuf_printf(&sb, " %s:", req->title);
	sbuf_printf(&sb, " %s", req->message ? req->message : "");
	return sbuf_detach(&sb);
}

static char *slack_body(const struct slack *s, const struct backend_job_req *req)
{
	char *text = slack_text(s, req);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "text", text);
	char *b = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	free(text);
	return b;
}

static char *slack_describe(void *self, const struct backend_job_req *req)
{
	struct slack *s = self;
	char *body = slack_body(s, req);
	char *d = xasprintf("POST %s %s", s->shown, body);
	free(body);
	return d;
}

/* A webhook URL is https://hooks.slack.com/services/TEAM/CHANNEL/TOKEN: the
 * whole of it is the secret, and an error may echo any part of it (the
 * path, or the token alone). http_job scrubs one string; this scrubs the
 * URL, the part of it http_redact_url hides, and each of that part's path
 * segments long enough to be an id or a token. */
struct slack_job {
	void *http;
	const struct slack *s;
	struct backend_job_cbs cbs;
};

static void slack_scrub_one(char *text, const char *secret, size_t sl)
{
	if (sl < 8)
		return;
	char *p;
	while ((p = memmem(text, strlen(text), secret, sl))) {
		memcpy(p, "***", 3);
		memmove(p + 3, p + sl, strlen(p + sl) + 1);
	}
	/* the text may have been cut to fit inside a secret: its start, at the
	 * very end of the text, goes too */
	size_t tl = strlen(text);
	for (size_t k = sl - 1 < tl ? sl - 1 : tl; k >= 6; k--)
		if (!memcmp(text + tl - k, secret, k)) {
			snprintf(text + tl - k, k + 1, "***");
			break;
		}
}

static void slack_scrub(const char *url, char *text)
{
	if (!url || !text)
		return;
	slack_scrub_one(text, url, strlen(url));
	/* the hidden tail: what follows the part http_redact_url keeps */
	char *shown = http_redact_url(url);
	size_t keep = strlen(shown) >= 3 ? strlen(shown) - 3 : 0;
	free(shown);
	if (keep > strlen(url))
		return;
	const char *tail = url + keep;
	slack_scrub_one(text, tail, strlen(tail));
	for (const char *seg = tail; *seg;) {
		while (*seg == '/' || *seg == '?' || *seg == '&' || *seg == '=')
			seg++;
		size_t n = strcspn(seg, "/?&=");
		slack_scrub_one(text, seg, n);
		seg += n;
	}
}

static void slack_output(void *arg, const char *stream, const char *line)
{
	struct slack_job *j = arg;
	if (!j->cbs.output)
		return;
	char *clean = xstrdup(line ? line : "");
	slack_scrub(j->s->url, clean);
	j->cbs.output(j->cbs.arg, stream, clean);
	free(clean);
}

static void slack_done(void *arg, const struct backend_result *res)
{
	struct slack_job *j = arg;
	struct backend_result r = *res;
	struct backend_job_cbs cbs = j->cbs;
	r.error[sizeof r.error - 1] = '\0';
	slack_scrub(j->s->url, r.error);
	free(j);
	if (cbs.done)
		cbs.done(cbs.arg, &r);
}

static void *slack_run(void *self, const struct backend_host *host,
		       const struct backend_job_req *req, const struct backend_job_cbs *cbs)
{
	struct slack *s = self;
	char *body = slack_body(s, req);
	const char *headers[] = {"Content-Type: application/json", NULL};
	struct slack_job *j = xcalloc(1, sizeof *j);
	j->s = s;
	j->cbs = *cbs;
	struct backend_job_cbs mine = {.output = slack_output, .done = slack_done, .arg = j};
	/* http_job reports even an early failure from the loop, never from here */
	j->http = http_job(host->base, "POST", s->url, headers, body, req->deadline_ms, "Slack",
			   s->url, NULL, &mine);
	free(body);
	return j;
}

static void slack_cancel(void *job)
{
	struct slack_job *j = job;
	if (!j)
		return;
	http_job_cancel(j->http);
	free(j);
}

const struct backend_class backend_status_slack = {
	.family = "status",
	.type = "slack",
	.configure = slack_configure,
	.describe = slack_describe,
	.run = slack_run,
	.cancel = slack_cancel,
	.free = slack_free,
};
