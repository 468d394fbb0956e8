/* HTTP calls for every backend; see http.h.
 * Transport: one curl multi handle driven by the libevent loop through
 * curl_multi_socket_action (a socket callback adds or changes an event per
 * socket, a timer callback arms one timer), so no call ever blocks. */
#include "backends/http.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define HTTP_BODY_MAX (256 * 1024)  /* response bytes kept */
#define HTTP_CONNECT_MS 10000

struct http_call {
	CURL *easy;
	struct curl_slist *headers;
	struct sbuf body;
	bool truncated;
	size_t max_bytes;
	http_done_fn done;
	void *arg;
	char errbuf[CURL_ERROR_SIZE];
	char *host;
	int64_t timeout_ms;
};

static struct {
	CURLM *multi;
	struct event_base *base;
	struct event *timer;
} wc;

/* "256 KiB", "16 MiB", "1000 bytes" */
static void wc_format_size(size_t n, char *buf, size_t len)
{
	if (n >= (1u << 20) && n % (1u << 20) == 0)
		snprintf(buf, len, "%zu MiB", n >> 20);
	else if (n >= 1024 && n % 1024 == 0)
		snprintf(buf, len, "%zu KiB", n >> 10);
	else
		snprintf(buf, len, "%zu bytes", n);
}

static void wc_check_done(void)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(wc.multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct http_call *w = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&w);
		CURLcode rc = msg->data.result;
		struct http_reply r;
		memset(&r, 0, sizeof r);
		char terr[CURL_ERROR_SIZE + 200];
		if (rc == CURLE_OK) {
			long status = 0;
			curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &status);
			curl_off_t ra = 0;
			if (curl_easy_getinfo(w->easy, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
				r.retry_after_ms = (int64_t)ra * 1000;
			r.status = status;
		} else if (rc == CURLE_OPERATION_TIMEDOUT) {
			snprintf(terr, sizeof terr, "no answer from %s within %lld s", w->host,
				 (long long)((w->timeout_ms + 999) / 1000));
			r.transport_error = terr;
		} else if ((rc == CURLE_WRITE_ERROR && w->truncated) ||
			   rc == CURLE_FILESIZE_EXCEEDED) {
			char size[32];
			wc_format_size(w->max_bytes, size, sizeof size);
			snprintf(terr, sizeof terr, "answer from %s larger than %s", w->host, size);
			r.transport_error = terr;
			r.oversized = true;
		} else {
			snprintf(terr, sizeof terr, "cannot reach %s: %s", w->host,
				 w->errbuf[0] ? w->errbuf : curl_easy_strerror(rc));
			r.transport_error = terr;
		}
		r.body = w->body.buf ? w->body.buf : "";
		r.len = w->body.len;
		curl_multi_remove_handle(wc.multi, w->easy);
		w->done(w->arg, &r);
		/* the callback may not keep the handle: it is freed here */
		curl_easy_cleanup(w->easy);
		curl_slist_free_all(w->headers);
		sbuf_free(&w->body);
		free(w->host);
		free(w);
	}
}

static void wc_on_socket_event(evutil_socket_t fd, short what, void *arg)
{
	int action = ((what & EV_READ) ? CURL_CSELECT_IN : 0) | ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);
	int running;
	curl_multi_socket_action(wc.multi, fd, action, &running);
	wc_check_done();
}

static void wc_on_timer(evutil_socket_t fd, short what, void *arg)
{
	int running;
	curl_multi_socket_action(wc.multi, CURL_SOCKET_TIMEOUT, 0, &running);
	wc_check_done();
}

static int wc_socket_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct event *ev = socketp;
	if (ev) {
		event_free(ev);
		ev = NULL;
	}
	if (what == CURL_POLL_REMOVE) {
		curl_multi_assign(wc.multi, s, NULL);
		return 0;
	}
	short kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
		     ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
	ev = event_new(wc.base, s, kind, wc_on_socket_event, NULL);
	event_add(ev, NULL);
	curl_multi_assign(wc.multi, s, ev);
	return 0;
}

static int wc_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	if (timeout_ms < 0) {
		evtimer_del(wc.timer);
		return 0;
	}
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	evtimer_add(wc.timer, &tv);
	return 0;
}

static bool wc_init(struct event_base *base)
{
	if (wc.multi)
		return wc.base == base;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	wc.multi = curl_multi_init();
	if (!wc.multi)
		return false;
	wc.base = base;
	wc.timer = evtimer_new(base, wc_on_timer, NULL);
	curl_multi_setopt(wc.multi, CURLMOPT_SOCKETFUNCTION, wc_socket_cb);
	curl_multi_setopt(wc.multi, CURLMOPT_TIMERFUNCTION, wc_timer_cb);
	return true;
}

static size_t wc_write(char *p, size_t size, size_t n, void *arg)
{
	struct http_call *w = arg;
	size_t len = size * n;
	if (w->body.len + len > w->max_bytes) {
		w->truncated = true;
		return 0; /* stops the transfer */
	}
	sbuf_add(&w->body, p, len);
	return len;
}

static char *url_host(const char *url)
{
	const char *p = strstr(url ? url : "", "://");
	p = p ? p + 3 : (url ? url : "");
	size_t n = strcspn(p, "/?#");
	return xstrndup(p, n);
}

struct http_call *http_send(struct event_base *base, const char *method, const char *url,
			     const char *const *headers, const char *body, int64_t timeout_ms,
			     http_done_fn done, void *arg)
{
	return http_send_capped(base, method, url, headers, body, timeout_ms, 0, done, arg);
}

struct http_call *http_send_capped(struct event_base *base, const char *method, const char *url,
				    const char *const *headers, const char *body,
				    int64_t timeout_ms, size_t max_bytes, http_done_fn done,
				    void *arg)
{
	if (!wc_init(base))
		return NULL;
	struct http_call *w = xcalloc(1, sizeof *w);
	w->max_bytes = max_bytes ? max_bytes : HTTP_BODY_MAX;
	w->done = done;
	w->arg = arg;
	w->host = url_host(url);
	w->timeout_ms = timeout_ms > 0 ? timeout_ms : 15000;
	sbuf_init(&w->body);
	w->easy = curl_easy_init();
	if (!w->easy) {
		free(w->host);
		free(w);
		return NULL;
	}
	CURL *e = w->easy;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, w);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)w->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(w->timeout_ms < HTTP_CONNECT_MS ? w->timeout_ms : HTTP_CONNECT_MS));
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, wc_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, w);
	/* a declared Content-Length over a larger cap fails before any body is read */
	if (max_bytes)
		curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_bytes);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, w->errbuf);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "warroom/" WARROOM_VERSION);
	for (size_t i = 0; headers && headers[i]; i++)
		w->headers = curl_slist_append(w->headers, headers[i]);
	/* no "Expect: 100-continue" round trip on larger bodies */
	w->headers = curl_slist_append(w->headers, "Expect:");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, w->headers);
	if (str_eq(method, "GET")) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body ? body : "");
		if (!str_eq(method, "POST"))
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	}
	/* the timer callback fires from the loop: no reply inside this call */
	curl_multi_add_handle(wc.multi, e);
	return w;
}

void http_cancel(struct http_call *w)
{
	if (!w)
		return;
	curl_multi_remove_handle(wc.multi, w->easy);
	curl_easy_cleanup(w->easy);
	curl_slist_free_all(w->headers);
	sbuf_free(&w->body);
	free(w->host);
	free(w);
}

/* ---- results ------------------------------------------------------------ */

static void scrub(char *s, const char *secret)
{
	if (!secret || strlen(secret) < 4)
		return;
	size_t sl = strlen(secret);
	char *p;
	while ((p = strstr(s, secret))) {
		memcpy(p, "***", 3);
		memmove(p + 3, p + sl, strlen(p + sl) + 1);
	}
}

/* The vendor's own words from an error body, whole (the caller scrubs and
 * only then caps it, so a secret cut in two by the cap cannot survive in
 * part). */
static char *error_text(const struct http_reply *r)
{
	char *out = NULL;
	cJSON *doc = r->len ? cJSON_ParseWithLength(r->body, r->len) : NULL;
	if (doc) {
		static const char *const fields[] = {"message", "error", "error_description", "detail"};
		for (size_t i = 0; i < sizeof fields / sizeof fields[0] && !out; i++) {
			const cJSON *f = cJSON_GetObjectItemCaseSensitive(doc, fields[i]);
			if (cJSON_IsString(f) && *f->valuestring)
				out = xstrdup(f->valuestring);
		}
		/* Cachet: {"errors":[{"detail":...}]}; Statuspage: {"error":[...]} */
		const cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, "errors");
		if (!cJSON_IsArray(arr))
			arr = cJSON_GetObjectItemCaseSensitive(doc, "error");
		const cJSON *it;
		if (!out && cJSON_IsArray(arr)) {
			cJSON_ArrayForEach(it, arr) {
				const cJSON *d = cJSON_IsString(it) ? it
					: cJSON_GetObjectItemCaseSensitive(it, "detail");
				if (cJSON_IsString(d)) {
					out = xstrdup(d->valuestring);
					break;
				}
			}
		}
		cJSON_Delete(doc);
	}
	if (!out) /* plain text (Slack: invalid_payload) */
		out = xstrndup(r->body ? r->body : "", r->len);
	return out;
}

/* One line of at most max bytes, whitespace folded, trailing blanks cut. */
static void one_line(char *s, size_t max)
{
	if (strlen(s) > max)
		s[max] = '\0';
	for (char *p = s; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	size_t l = strlen(s);
	while (l && s[l - 1] == ' ')
		s[--l] = '\0';
}

void http_result(const struct http_reply *r, const char *vendor, const char *secret,
		    struct backend_result *res)
{
	res->exit_code = (int)r->status;
	res->retry_after_ms = r->retry_after_ms;
	char *msg;
	if (r->transport_error) {
		res->ok = false;
		res->retryable = true;
		msg = xasprintf("%s: %s", vendor, r->transport_error);
	} else if (r->status >= 200 && r->status < 300) {
		res->ok = true;
		res->retryable = false;
		res->error[0] = '\0';
		return;
	} else {
		res->ok = false;
		res->retryable = r->status == 429 || r->status == 408 || r->status >= 500;
		char *text = error_text(r);
		scrub(text, secret);
		one_line(text, 300);
		msg = xasprintf("%s: HTTP %ld%s%s", vendor, r->status, text[0] ? ": " : "", text);
		free(text);
	}
	/* scrubbed whole, then cut to fit */
	scrub(msg, secret);
	snprintf(res->error, sizeof res->error, "%s", msg);
	free(msg);
}

char *http_redact_url(const char *url)
{
	const char *p = strstr(url ? url : "", "://");
	if (!p)
		return xstrdup("***");
	p += 3;
	const char *slash = strchr(p, '/');
	if (!slash)
		return xstrdup(url);
	const char *second = strchr(slash + 1, '/');
	size_t keep = (size_t)((second ? second : slash) - url);
	char *head = xstrndup(url, keep);
	char *out = xasprintf("%s/***", head);
	free(head);
	return out;
}

char *http_base(const char *url)
{
	char *b = xstrdup(url ? url : "");
	size_t l = strlen(b);
	while (l && b[l - 1] == '/')
		b[--l] = '\0';
	return b;
}

/* ---- whole jobs ------------------------------------------------------------ */

struct wjob {
	struct http_call *w;
	struct event *later;
	struct backend_job_cbs cbs;
	struct backend_result res;
	char *vendor, *secret;
	http_ok_fn on_ok;
};

static void wjob_free(struct wjob *j)
{
	if (j->later)
		event_free(j->later);
	free(j->vendor);
	free(j->secret);
	free(j);
}

static void wjob_report(struct wjob *j)
{
	struct backend_job_cbs cbs = j->cbs;
	struct backend_result res = j->res;
	wjob_free(j);
	if (cbs.done)
		cbs.done(cbs.arg, &res);
}

static void wjob_on_reply(void *arg, const struct http_reply *r)
{
	struct wjob *j = arg;
	j->w = NULL;
	http_result(r, j->vendor, j->secret, &j->res);
	if (j->res.ok && j->on_ok)
		j->on_ok(r, &j->res);
	if (j->cbs.output) {
		char line[700];
		if (r->transport_error)
			snprintf(line, sizeof line, "%s", j->res.error);
		else if (j->res.ok)
			snprintf(line, sizeof line, "%s answered HTTP %ld%s%s", j->vendor, r->status,
				 j->res.ref[0] ? ", id " : "", j->res.ref);
		else
			snprintf(line, sizeof line, "%s", j->res.error);
		j->cbs.output(j->cbs.arg, j->res.ok ? "stdout" : "stderr", line);
	}
	wjob_report(j);
}

static void wjob_on_later(evutil_socket_t fd, short what, void *arg)
{
	wjob_report(arg);
}

void *http_fail_later(struct event_base *base, const struct backend_result *res,
			 const struct backend_job_cbs *cbs)
{
	struct wjob *j = xcalloc(1, sizeof *j);
	j->cbs = *cbs;
	j->res = *res;
	j->later = evtimer_new(base, wjob_on_later, j);
	struct timeval zero = {0, 0};
	evtimer_add(j->later, &zero);
	return j;
}

void *http_job(struct event_base *base, const char *method, const char *url,
		  const char *const *headers, const char *body, int64_t timeout_ms,
		  const char *vendor, const char *secret, http_ok_fn on_ok,
		  const struct backend_job_cbs *cbs)
{
	struct wjob *j = xcalloc(1, sizeof *j);
	j->cbs = *cbs;
	j->vendor = xstrdup(vendor);
	j->secret = xstrdup(secret);
	j->on_ok = on_ok;
	j->w = http_send(base, method, url, headers, body, timeout_ms, wjob_on_reply, j);
	if (!j->w) {
		struct backend_result res = {.ok = false, .exit_code = -1, .retryable = true};
		snprintf(res.error, sizeof res.error, "%s: cannot start an HTTP request", vendor);
		struct backend_job_cbs c = *cbs;
		wjob_free(j);
		return http_fail_later(base, &res, &c);
	}
	return j;
}

void http_job_cancel(void *job)
{
	struct wjob *j = job;
	if (!j)
		return;
	if (j->w)
		http_cancel(j->w);
	wjob_free(j);
}
