/* Deploy sources: the parsers and the journal-once rule shared by the jsonl,
 * argocd and github classes. See deploys.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/deploys.h"
#include "backends/template.h"
#include "core/text.h"
#include "core/util.h"

void deploy_rec_clear(struct deploy_rec *d)
{
	if (!d)
		return;
	free(d->service);
	free(d->version);
	free(d->author);
	free(d->url);
	free(d->ref);
	memset(d, 0, sizeof *d);
}

void deploy_list_free(struct deploy_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		deploy_rec_clear(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

static void deploy_list_push(struct deploy_list *l, struct deploy_rec *d)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = *d;
	memset(d, 0, sizeof *d);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

char *deploy_clean(const char *s, size_t cap)
{
	if (!s)
		return NULL;
	char *t = text_sanitize(s, true);
	size_t b = 0, e = strlen(t);
	while (b < e && is_space(t[b]))
		b++;
	while (e > b && is_space(t[e - 1]))
		e--;
	if (e - b > cap) {
		e = b + cap;
		/* do not cut a UTF-8 sequence in half */
		while (e > b && ((unsigned char)t[e] & 0xC0) == 0x80)
			e--;
	}
	char *r = e > b ? xstrndup(t + b, e - b) : NULL;
	free(t);
	return r;
}

/* A value quoted in an error message: short and safe to show. */
static void quote_value(const char *s, char *buf, size_t len)
{
	char *c = deploy_clean(s, 40);
	snprintf(buf, len, "\"%s%s\"", c ? c : "", strlen(s) > 40 ? "..." : "");
	free(c);
}

static const cJSON *get(const cJSON *o, const char *k)
{
	return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

static const char *get_str(const cJSON *o, const char *k)
{
	const cJSON *it = get(o, k);
	return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* A non-negative integer id as text (JSON numbers: ids go past 2^31, so
 * valuedouble, exact up to 2^53). */
static char *id_text(const cJSON *it)
{
	if (!cJSON_IsNumber(it))
		return NULL;
	double v = it->valuedouble;
	if (!(v >= 0 && v <= 9007199254740992.0) || v != floor(v))
		return NULL;
	return xasprintf("%.0f", v);
}

enum deploy_line deploy_parse_line(const char *line, size_t len, struct deploy_rec *out,
				   char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) { /* a BOM on the first line */
		line += 3;
		len -= 3;
	}
	while (len > 0 && is_space(line[len - 1]))
		len--;
	size_t b = 0;
	while (b < len && is_space(line[b]))
		b++;
	if (b == len)
		return DEPLOY_LINE_BLANK;
	if (len > DEPLOY_LINE_MAX) {
		snprintf(err, errlen, "line is longer than %d KiB", DEPLOY_LINE_MAX / 1024);
		return DEPLOY_LINE_BAD;
	}
	/* a copy of exactly these bytes: a NUL inside must not shorten it */
	size_t n = len - b;
	char *buf = xmalloc(n + 1);
	memcpy(buf, line + b, n);
	buf[n] = '\0';
	const char *end = NULL;
	cJSON *o = cJSON_ParseWithLengthOpts(buf, n, &end, 0);
	if (!o) {
		const char *at = cJSON_GetErrorPtr();
		size_t off = at && at >= buf && at <= buf + n ? (size_t)(at - buf) : 0;
		snprintf(err, errlen, "not JSON (at byte %zu)", off + 1);
		free(buf);
		return DEPLOY_LINE_BAD;
	}
	enum deploy_line rc = DEPLOY_LINE_BAD;
	while (end && end < buf + n && is_space(*end))
		end++;
	if (end && end < buf + n) {
		snprintf(err, errlen, "text after the JSON object (at byte %zu)", (size_t)(end - buf) + 1);
		goto out;
	}
	if (!cJSON_IsObject(o)) {
		snprintf(err, errlen, "not a JSON object");
		goto out;
	}

	const cJSON *jv = get(o, "version");
	const char *service = get_str(o, "service"), *tm = get_str(o, "time");
	if (!service) {
		snprintf(err, errlen, "\"service\" is %s", get(o, "service") ? "not a string" : "missing");
		goto out;
	}
	if (!(out->service = deploy_clean(service, DEPLOY_FIELD_MAX))) {
		snprintf(err, errlen, "\"service\" is empty");
		goto out;
	}
	if (cJSON_IsString(jv)) {
		out->version = deploy_clean(jv->valuestring, DEPLOY_FIELD_MAX);
	} else if (cJSON_IsNumber(jv) && isfinite(jv->valuedouble)) {
		char num[64]; /* a CI system writing "version": 2.4 */
		snprintf(num, sizeof num, "%.15g", jv->valuedouble);
		out->version = xstrdup(num);
	} else {
		snprintf(err, errlen, "\"version\" is %s", jv ? "not a string" : "missing");
		goto out;
	}
	if (!out->version) {
		snprintf(err, errlen, "\"version\" is empty");
		goto out;
	}
	if (!tm) {
		snprintf(err, errlen, "\"time\" is %s", get(o, "time") ? "not a string" : "missing");
		goto out;
	}
	if (time_parse_rfc3339(tm, &out->time) < 0) {
		char q[80];
		quote_value(tm, q, sizeof q);
		snprintf(err, errlen, "\"time\" is not an RFC 3339 time: %s", q);
		goto out;
	}
	/* optional; a wrong type is ignored rather than losing the deploy */
	out->author = deploy_clean(get_str(o, "author"), DEPLOY_FIELD_MAX);
	out->url = deploy_clean(get_str(o, "url"), DEPLOY_URL_MAX);
	const cJSON *jr = get(o, "ref");
	out->ref = cJSON_IsString(jr) ? deploy_clean(jr->valuestring, DEPLOY_FIELD_MAX) : id_text(jr);
	rc = DEPLOY_LINE_OK;
out:
	if (rc != DEPLOY_LINE_OK)
		deploy_rec_clear(out);
	cJSON_Delete(o);
	free(buf);
	return rc;
}

/* ---- Argo CD ----------------------------------------------------------------- */

static bool is_hex(const char *s, size_t min, size_t max)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f') ||
		      (s[n] >= 'A' && s[n] <= 'F')))
			return false;
	return n >= min && n <= max;
}

/* "registry/team/app:2.4.0" (or "app=registry/app:2.4.0") → "2.4.0";
 * NULL without a tag or with a digest. */
static char *image_tag(const char *img)
{
	if (!img || strchr(img, '@'))
		return NULL;
	const char *slash = strrchr(img, '/'), *colon = strrchr(img, ':');
	if (!colon || (slash && colon < slash) || !colon[1])
		return NULL;
	return deploy_clean(colon + 1, DEPLOY_FIELD_MAX);
}

static char *argo_image_version(const cJSON *src)
{
	const cJSON *imgs = get(get(src, "kustomize"), "images");
	if (cJSON_IsArray(imgs) && cJSON_GetArraySize(imgs) == 1) {
		const cJSON *i0 = cJSON_GetArrayItem(imgs, 0);
		if (cJSON_IsString(i0))
			return image_tag(i0->valuestring);
	}
	const cJSON *params = get(get(src, "helm"), "parameters");
	const cJSON *p;
	cJSON_ArrayForEach(p, params) {
		const char *name = get_str(p, "name"), *value = get_str(p, "value");
		if (name && value && strcmp(name, "image.tag") == 0)
			return deploy_clean(value, DEPLOY_FIELD_MAX);
	}
	return NULL;
}

static const cJSON *first_of(const cJSON *o, const char *one, const char *many)
{
	const cJSON *it = get(o, one);
	if (it)
		return it;
	const cJSON *arr = get(o, many);
	return cJSON_IsArray(arr) ? cJSON_GetArrayItem(arr, 0) : NULL;
}

static char *short_rev(const char *rev)
{
	if (!rev)
		return NULL;
	return is_hex(rev, 40, 64) ? xstrndup(rev, 7) : deploy_clean(rev, DEPLOY_FIELD_MAX);
}

bool deploy_parse_argocd(const char *body, size_t len, const char *service, const char *ui_base,
			 const char *app, struct deploy_list *out, char *err, size_t errlen)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	if (!cJSON_IsObject(root)) {
		snprintf(err, errlen, "Argo CD: the answer is not a JSON object");
		cJSON_Delete(root);
		return false;
	}
	const cJSON *status = get(root, "status");
	if (!cJSON_IsObject(status) && !cJSON_IsObject(get(root, "metadata"))) {
		snprintf(err, errlen, "Argo CD: the answer is not an application (no status)");
		cJSON_Delete(root);
		return false;
	}
	const cJSON *h;
	cJSON_ArrayForEach(h, get(status, "history")) {
		struct deploy_rec d = {0};
		const cJSON *rev = first_of(h, "revision", "revisions");
		const char *at = get_str(h, "deployedAt");
		d.ref = id_text(get(h, "id"));
		if (!cJSON_IsString(rev) || !at || time_parse_rfc3339(at, &d.time) < 0 || !d.ref) {
			deploy_rec_clear(&d);
			continue;
		}
		d.version = argo_image_version(first_of(h, "source", "sources"));
		if (!d.version)
			d.version = short_rev(rev->valuestring);
		d.service = deploy_clean(service, DEPLOY_FIELD_MAX);
		const cJSON *by = get(h, "initiatedBy");
		if (get_str(by, "username") && *get_str(by, "username"))
			d.author = deploy_clean(get_str(by, "username"), DEPLOY_FIELD_MAX);
		else if (cJSON_IsTrue(get(by, "automated")))
			d.author = xstrdup("automated");
		if (ui_base && app) {
			char *u = xasprintf("%s/applications/%s", ui_base, app);
			d.url = deploy_clean(u, DEPLOY_URL_MAX);
			free(u);
		}
		if (!d.version || !d.service) {
			deploy_rec_clear(&d);
			continue;
		}
		deploy_list_push(out, &d);
	}
	cJSON_Delete(root);
	return true;
}

/* ---- GitHub -------------------------------------------------------------------- */

static bool looks_like_version(const char *s)
{
	if (*s == 'v' || *s == 'V')
		s++;
	return *s >= '0' && *s <= '9';
}

bool deploy_parse_github(const char *body, size_t len, const char *service, const char *web_base,
			 struct deploy_list *out, char *err, size_t errlen)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	if (!cJSON_IsArray(root)) {
		snprintf(err, errlen, "GitHub: the answer is not a list of deployments");
		cJSON_Delete(root);
		return false;
	}
	/* newest first: walk backwards so the journal reads in time order */
	for (int i = cJSON_GetArraySize(root) - 1; i >= 0; i--) {
		const cJSON *dep = cJSON_GetArrayItem(root, i);
		const char *sha = get_str(dep, "sha"), *ref = get_str(dep, "ref");
		const char *at = get_str(dep, "created_at");
		struct deploy_rec d = {0};
		if (!sha || !is_hex(sha, 7, 64) || !at || time_parse_rfc3339(at, &d.time) < 0)
			continue;
		char shortsha[8];
		snprintf(shortsha, sizeof shortsha, "%.7s", sha);
		if (ref && *ref && looks_like_version(ref) && !is_hex(ref, 7, 64)) {
			d.version = deploy_clean(ref, DEPLOY_FIELD_MAX);
		} else if (!ref || !*ref || is_hex(ref, 7, 64)) {
			d.version = xstrdup(shortsha);
		} else {
			/* a branch: every deploy of "main" would look alike */
			char *v = xasprintf("%s@%s", ref, shortsha);
			d.version = deploy_clean(v, DEPLOY_FIELD_MAX);
			free(v);
		}
		d.service = deploy_clean(service, DEPLOY_FIELD_MAX);
		d.ref = deploy_clean(sha, DEPLOY_FIELD_MAX);
		d.author = deploy_clean(get_str(get(dep, "creator"), "login"), DEPLOY_FIELD_MAX);
		if (web_base) {
			char *u = xasprintf("%s/commit/%s", web_base, sha);
			d.url = deploy_clean(u, DEPLOY_URL_MAX);
			free(u);
		}
		if (!d.version || !d.service) {
			deploy_rec_clear(&d);
			continue;
		}
		deploy_list_push(out, &d);
	}
	cJSON_Delete(root);
	return true;
}

/* ---- journaling once ------------------------------------------------------------ */

bool deploy_known(const struct state *st, const struct deploy_rec *d)
{
	if (!st)
		return false;
	/* deploys are sorted by time: find the first at d->time */
	size_t lo = 0, hi = st->deploys.n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (((const struct deploy *)st->deploys.v[mid])->time < d->time)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < st->deploys.n; i++) {
		const struct deploy *x = st->deploys.v[i];
		if (x->time != d->time)
			break;
		if (str_eq(x->service, d->service) && str_eq(x->version, d->version))
			return true;
	}
	return false;
}

bool deploy_emit(const struct backend_host *host, const char *by, const char *source,
		 const struct deploy_rec *d)
{
	if (!d->service || !d->version || deploy_known(host->state(host->arg), d))
		return false;
	char ts[40];
	time_format_rfc3339(d->time, ts, sizeof ts);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "service", d->service);
	cJSON_AddStringToObject(o, "version", d->version);
	cJSON_AddStringToObject(o, "time", ts);
	if (d->author)
		cJSON_AddStringToObject(o, "author", d->author);
	if (d->url)
		cJSON_AddStringToObject(o, "url", d->url);
	cJSON_AddStringToObject(o, "source", source);
	if (d->ref)
		cJSON_AddStringToObject(o, "ref", d->ref);
	host->emit(host->arg, wr_event_new(EV_DEPLOY_SEEN, by, o));
	return true;
}

bool deploy_cfg_times(const struct config_section *sec, const char *file, int64_t *interval_ms,
		      int64_t *timeout_ms, char *err, size_t errlen)
{
	char where[300];
	long interval = 30, timeout = 10;
	const char *v = template_get(sec, "interval");
	if (v && (interval = template_parse_seconds(v)) <= 0) {
		template_key_where(sec, file, "interval", where, sizeof where);
		snprintf(err, errlen, "%sinterval must be seconds (e.g. 30 or 1m)", where);
		return false;
	}
	v = template_get(sec, "timeout");
	if (v && (timeout = template_parse_seconds(v)) <= 0) {
		template_key_where(sec, file, "timeout", where, sizeof where);
		snprintf(err, errlen, "%stimeout must be seconds (e.g. 10 or 1m)", where);
		return false;
	}
	*interval_ms = (int64_t)interval * 1000;
	*timeout_ms = (int64_t)timeout * 1000;
	return true;
}
