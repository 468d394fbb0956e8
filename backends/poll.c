/* The shared periodic GET for pollers; see poll.h. One timer per poller: it
 * either waits for the next request or (while a request is in flight) is
 * idle, so there is never more than one request out. */
#include "backends/poll.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backends/http.h"
#include "core/text.h"
#include "core/util.h"

struct poll {
	struct backend_host host;
	char *name, *kind;
	int64_t interval_ms, timeout_ms;
	size_t max_bytes;
	poll_url_fn url;
	poll_parse_fn parse;
	void *arg;
	char **headers;        /* NULL-terminated copy */
	struct event *timer;
	struct http_call *w;     /* the request in flight, or NULL */
	int failures;          /* in a row */
	bool again;            /* poll_now while a request was out */
};

int64_t poll_backoff_ms(int64_t interval_ms, int failures, int64_t retry_after_ms)
{
	if (interval_ms <= 0)
		interval_ms = 1000;
	int64_t d = interval_ms;
	for (int i = 1; i < failures && d < POLL_BACKOFF_MAX_MS; i++)
		d *= 2;
	if (d > POLL_BACKOFF_MAX_MS)
		d = POLL_BACKOFF_MAX_MS;
	if (retry_after_ms > d)
		d = retry_after_ms < POLL_BACKOFF_MAX_MS ? retry_after_ms : POLL_BACKOFF_MAX_MS;
	return d;
}

static void poll_arm(struct poll *p, int64_t delay_ms)
{
	struct timeval tv = {(time_t)(delay_ms / 1000), (suseconds_t)((delay_ms % 1000) * 1000)};
	evtimer_add(p->timer, &tv);
}

static void poll_failed(struct poll *p, const char *why, int64_t retry_after_ms)
{
	p->failures++;
	p->again = false;
	if (p->host.health)
		p->host.health(p->host.arg, p->name, p->kind, false, why);
	poll_arm(p, poll_backoff_ms(p->interval_ms, p->failures, retry_after_ms));
}

static void poll_on_reply(void *arg, const struct http_reply *r)
{
	struct poll *p = arg;
	p->w = NULL;
	struct backend_result res;
	memset(&res, 0, sizeof res);
	http_result(r, p->kind, NULL, &res);
	if (!res.ok) {
		poll_failed(p, res.error, r->retry_after_ms);
		return;
	}
	char err[512] = "";
	if (!p->parse(p->arg, r->body, r->len, err, sizeof err)) {
		poll_failed(p, err[0] ? err : "the answer was not understood", 0);
		return;
	}
	p->failures = 0;
	if (p->host.health)
		p->host.health(p->host.arg, p->name, p->kind, true, NULL);
	poll_arm(p, p->again ? 0 : p->interval_ms);
	p->again = false;
}

static void poll_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct poll *p = arg;
	if (p->w)
		return;
	char *url = p->url(p->arg);
	if (!url) {
		poll_failed(p, "no URL to poll", 0);
		return;
	}
	p->w = http_send_capped(p->host.base, "GET", url, (const char *const *)p->headers, NULL,
				   p->timeout_ms, p->max_bytes, poll_on_reply, p);
	free(url);
	if (!p->w) {
		char why[160];
		snprintf(why, sizeof why, "%s: cannot start an HTTP request", p->kind);
		poll_failed(p, why, 0);
	}
}

struct poll *poll_start(const struct backend_host *host, const struct poll_cfg *cfg,
			poll_url_fn url, const char *const *headers, poll_parse_fn parse, void *arg)
{
	struct poll *p = xcalloc(1, sizeof *p);
	p->host = *host;
	p->name = xstrdup(cfg->name ? cfg->name : "?");
	p->kind = xstrdup(cfg->kind ? cfg->kind : "poll");
	p->interval_ms = cfg->interval_ms > 0 ? cfg->interval_ms : 15000;
	p->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 10000;
	p->max_bytes = cfg->max_bytes ? cfg->max_bytes : POLL_DEFAULT_MAX_BYTES;
	p->url = url;
	p->parse = parse;
	p->arg = arg;
	size_t n = 0;
	while (headers && headers[n])
		n++;
	p->headers = xcalloc(n + 1, sizeof *p->headers);
	for (size_t i = 0; i < n; i++)
		p->headers[i] = xstrdup(headers[i]);
	p->timer = evtimer_new(host->base, poll_on_timer, p);
	poll_arm(p, 0);
	return p;
}

void poll_now(struct poll *p)
{
	if (!p)
		return;
	if (p->w) {
		p->again = true;
		return;
	}
	poll_arm(p, 0);
}

void poll_free(struct poll *p)
{
	if (!p)
		return;
	if (p->w)
		http_cancel(p->w);
	if (p->timer)
		event_free(p->timer);
	for (size_t i = 0; p->headers && p->headers[i]; i++)
		free(p->headers[i]);
	free(p->headers);
	free(p->name);
	free(p->kind);
	free(p);
}

/* ---- helpers ------------------------------------------------------------- */

cJSON *poll_parse_json(const char *kind, const char *body, size_t len, char *err, size_t errlen)
{
	const char *end = NULL;
	cJSON *doc = body ? cJSON_ParseWithLengthOpts(body, len, &end, 0) : NULL;
	if (!doc) {
		const char *at = cJSON_GetErrorPtr();
		size_t off = body && at && at >= body && at <= body + len ? (size_t)(at - body) : 0;
		snprintf(err, errlen, "%s: malformed JSON at byte %zu of %zu", kind, off, len);
		return NULL;
	}
	for (const char *q = end; q && q < body + len; q++) {
		if (*q != ' ' && *q != '\t' && *q != '\r' && *q != '\n') {
			snprintf(err, errlen, "%s: trailing data after the JSON at byte %zu", kind,
				 (size_t)(q - body));
			cJSON_Delete(doc);
			return NULL;
		}
	}
	return doc;
}

void poll_body_release(const char *body, size_t from, size_t to)
{
	static uintptr_t page;
	if (!page) {
		long n = sysconf(_SC_PAGESIZE);
		page = n > 0 ? (uintptr_t)n : 4096;
	}
	if (!body || to <= from)
		return;
	uintptr_t b = (uintptr_t)body;
	/* past the page holding body[0] (the allocator keeps its header just
	 * before it), and whole pages only */
	uintptr_t lo = b + from, hi = (b + to) & ~(page - 1);
	uintptr_t first = (b + page) & ~(page - 1);
	if (lo < first)
		lo = first;
	lo = (lo + page - 1) & ~(page - 1);
	if (hi > lo)
		madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

char *poll_text(const char *s, size_t max)
{
	if (!s)
		return NULL;
	/* printable ASCII is what sanitising would give back unchanged: by far
	 * the usual case, and thousands of labels per poll */
	size_t k = 0;
	while ((unsigned char)s[k] >= 0x20 && (unsigned char)s[k] < 0x7f)
		k++;
	if (!s[k]) {
		char *t = xmalloc((k < max ? k : max) + 1);
		memcpy(t, s, k < max ? k : max);
		t[k < max ? k : max] = '\0';
		return t;
	}
	char *t = text_sanitize(s, true);
	size_t n = strlen(t);
	if (n > max) {
		/* back off to the start of a UTF-8 character */
		while (max > 0 && ((unsigned char)t[max] & 0xC0) == 0x80)
			max--;
		t[max] = '\0';
	}
	return t;
}

struct probe_sink {
	struct sbuf sb;
	size_t max;
};

static size_t probe_write(char *ptr, size_t size, size_t n, void *arg)
{
	struct probe_sink *ps = arg;
	size_t len = size * n;
	if (ps->sb.len + len > ps->max)
		return 0;
	sbuf_add(&ps->sb, ptr, len);
	return len;
}

void poll_probe(const char *url, const char *kind, int64_t timeout_ms,
		const char *const *headers, struct backend_result *res, char **body)
{
	poll_probe_capped(url, kind, timeout_ms, 0, headers, res, body);
}

void poll_probe_capped(const char *url, const char *kind, int64_t timeout_ms, size_t max_bytes,
		       const char *const *headers, struct backend_result *res, char **body)
{
	memset(res, 0, sizeof *res);
	if (body)
		*body = NULL;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	CURL *e = curl_easy_init();
	if (!e) {
		snprintf(res->error, sizeof res->error, "%s: cannot start an HTTP request", kind);
		return;
	}
	struct probe_sink ps = {.max = max_bytes ? max_bytes : POLL_DEFAULT_MAX_BYTES};
	struct sbuf *sbp = &ps.sb;
	sbuf_init(sbp);
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hl = NULL;
	for (size_t i = 0; headers && headers[i]; i++)
		hl = curl_slist_append(hl, headers[i]);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, probe_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &ps);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "warroom/" WARROOM_VERSION);
	if (hl)
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
	CURLcode rc = curl_easy_perform(e);
	struct http_reply r;
	memset(&r, 0, sizeof r);
	char terr[CURL_ERROR_SIZE + 64];
	if (rc == CURLE_OK) {
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r.status);
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		snprintf(terr, sizeof terr, "no answer within %lld ms", (long long)timeout_ms);
		r.transport_error = terr;
	} else {
		snprintf(terr, sizeof terr, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
		r.transport_error = terr;
	}
	r.body = sbp->buf ? sbp->buf : "";
	r.len = sbp->len;
	http_result(&r, kind, NULL, res);
	if (res->ok && body)
		*body = sbuf_detach(sbp);
	sbuf_free(sbp);
	curl_slist_free_all(hl);
	curl_easy_cleanup(e);
}
