#include "core/export.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/journal.h"
#include "core/state.h"
#include "core/util.h"

struct role_span {
	enum role role;
	char *user;
	int64_t from, to; /* to 0: still held at the end */
};

struct marker {
	int64_t t;
	char *label;
	bool rollback;
};

struct exp {
	struct state *st;
	struct ptrvec spans;    /* struct role_span* */
	struct ptrvec open[ROLE__COUNT]; /* the spans still held, per role: closing stays cheap */
	struct ptrvec markers;  /* struct marker*: deploys and rollbacks */
	struct ptrvec problems; /* char* */
	int64_t *ser_t;         /* chart series (from spike.detected "series") */
	double *ser_v;
	size_t ser_n;
	char *ser_service;
	int64_t first_alert, first_ack, impact;
	/* pass 2 */
	enum export_format fmt;
	FILE *out;
	size_t row;
};

static void span_close(struct exp *x, enum role r, const char *user, int64_t at)
{
	struct ptrvec *open = &x->open[r];
	for (size_t i = open->n; i-- > 0;) {
		struct role_span *s = open->v[i];
		if (!user || str_eq(s->user, user)) {
			s->to = at;
			ptrvec_remove(open, i);
		}
	}
}

static void collect(const struct wr_event *ev, void *arg)
{
	struct exp *x = arg;
	state_apply(x->st, ev);
	switch (ev->kind) {
	case EV_ROLE_ASSIGNED: {
		int r = role_from_id(event_str(ev, "role", ""));
		const char *user = event_str(ev, "user", "");
		if (r < 0)
			break;
		if (r != ROLE_SECONDARY)
			span_close(x, (enum role)r, NULL, ev->ts);
		else
			span_close(x, (enum role)r, user, ev->ts);
		struct role_span *s = xcalloc(1, sizeof *s);
		s->role = (enum role)r;
		s->user = xstrdup(user);
		s->from = ev->ts;
		ptrvec_push(&x->spans, s);
		ptrvec_push(&x->open[r], s);
		if (!x->first_ack && x->first_alert)
			x->first_ack = ev->ts;
		break;
	}
	case EV_ROLE_RELEASED: {
		int r = role_from_id(event_str(ev, "role", ""));
		if (r >= 0)
			span_close(x, (enum role)r, event_str(ev, "user", NULL), ev->ts);
		break;
	}
	case EV_ALERT_FIRED:
		if (!x->first_alert)
			x->first_alert = ev->ts;
		break;
	case EV_NOTE:
		if (!x->first_ack && x->first_alert)
			x->first_ack = ev->ts;
		break;
	case EV_DEPLOY_SEEN: {
		struct marker *m = xcalloc(1, sizeof *m);
		time_parse_rfc3339(event_str(ev, "time", ""), &m->t);
		m->label = xasprintf("%s@%s", event_str(ev, "service", "?"), event_str(ev, "version", "?"));
		ptrvec_push(&x->markers, m);
		break;
	}
	case EV_ACTION_FINISHED: {
		const struct action *a = state_find_action(x->st, event_str(ev, "id", NULL));
		if (a && event_bool(ev, "ok", false)) {
			struct marker *m = xcalloc(1, sizeof *m);
			m->t = ev->ts;
			m->label = xasprintf("rollback %s->%s", a->service, a->to);
			m->rollback = true;
			ptrvec_push(&x->markers, m);
		}
		break;
	}
	case EV_SPIKE_DETECTED: {
		int64_t onset;
		if (time_parse_rfc3339(event_str(ev, "onset", ""), &onset) >= 0 &&
		    (!x->impact || onset < x->impact))
			x->impact = onset;
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(ev->data, "series");
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(s, "t");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, "v");
		if (cJSON_IsArray(t) && cJSON_IsArray(v) && cJSON_GetArraySize(t) == cJSON_GetArraySize(v)) {
			size_t n = (size_t)cJSON_GetArraySize(t), k = 0;
			free(x->ser_t);
			free(x->ser_v);
			x->ser_t = xcalloc(n, sizeof *x->ser_t);
			x->ser_v = xcalloc(n, sizeof *x->ser_v);
			for (const cJSON *a = t->child, *b = v->child; a && b; a = a->next, b = b->next, k++) {
				x->ser_t[k] = (int64_t)a->valuedouble;
				x->ser_v[k] = cJSON_IsNumber(b) ? b->valuedouble : NAN;
			}
			x->ser_n = k;
			str_set(&x->ser_service, event_str(ev, "service", "?"));
		}
		break;
	}
	default:
		break;
	}
}

static void on_problem(const char *path, long lineno, const char *msg, void *arg)
{
	struct exp *x = arg;
	ptrvec_push(&x->problems, xasprintf("line %ld: %s", lineno, msg));
}

/* ---- small formatting helpers ----------------------------------------- */

static void fmt_utc(int64_t ms, char *buf, size_t len)
{
	if (!ms) {
		snprintf(buf, len, "-");
		return;
	}
	char full[40];
	time_format_rfc3339(ms - ms % 1000, full, sizeof full);
	snprintf(buf, len, "%.10s %.8s", full, full + 11);
}

static void fmt_dur(int64_t ms, char *buf, size_t len)
{
	const char *sign = ms < 0 ? "-" : "+";
	int64_t s = llabs(ms) / 1000;
	snprintf(buf, len, "%s%02lld:%02lld:%02lld", sign, (long long)(s / 3600),
		 (long long)(s / 60 % 60), (long long)(s % 60));
}

static void fmt_span(int64_t from, int64_t to, char *buf, size_t len)
{
	if (!from || !to || to < from) {
		snprintf(buf, len, "n/a");
		return;
	}
	int64_t s = (to - from) / 1000;
	if (s >= 3600)
		snprintf(buf, len, "%lldh %02lldm %02llds", (long long)(s / 3600), (long long)(s / 60 % 60),
			 (long long)(s % 60));
	else
		snprintf(buf, len, "%lldm %02llds", (long long)(s / 60), (long long)(s % 60));
}

/* Text for a document: control characters become spaces; md pipes escaped;
 * html entities escaped. */
static void put_text(FILE *out, enum export_format fmt, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		unsigned char c = *p;
		if (c < 0x20 || c == 0x7f) {
			fputc(' ', out);
			continue;
		}
		if (fmt == EXPORT_MD && (c == '|' || c == '\\' || c == '`' || c == '<')) {
			fputc('\\', out);
			fputc(c, out);
		} else if (fmt == EXPORT_HTML && c == '&') {
			fputs("&amp;", out);
		} else if (fmt == EXPORT_HTML && c == '<') {
			fputs("&lt;", out);
		} else if (fmt == EXPORT_HTML && c == '>') {
			fputs("&gt;", out);
		} else if (fmt == EXPORT_HTML && c == '"') {
			fputs("&quot;", out);
		} else {
			fputc(c, out);
		}
	}
}

static void put_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

struct metrics {
	int64_t impact, detect, ack, mitigate, resolve;
};

static struct metrics metrics_of(const struct exp *x)
{
	struct metrics m = {0};
	const struct state *st = x->st;
	m.detect = x->first_alert ? x->first_alert : st->declared;
	if (st->declared && st->declared < m.detect)
		m.detect = st->declared;
	m.impact = x->impact ? x->impact : m.detect;
	for (size_t i = 0; !x->impact && i < st->alerts.n; i++) {
		const struct alert *a = st->alerts.v[i];
		if (a->started && a->started < m.impact)
			m.impact = a->started;
	}
	m.ack = x->first_ack;
	m.mitigate = st->mitigated;
	m.resolve = st->resolved;
	return m;
}

/* ---- chart ------------------------------------------------------------- */

#define CHART_W 72

/* Chart window and buckets: the series when there is one, else a schematic
 * from the spike's baseline and peak. */
struct chart {
	int64_t t0, t1;
	double v[CHART_W];
	double vmax;
	bool schematic;
};

static void chart_build(const struct exp *x, const struct metrics *m, struct chart *c)
{
	memset(c, 0, sizeof *c);
	int64_t end_of_story = m->resolve ? m->resolve : m->mitigate;
	if (x->ser_n >= 2) {
		c->t0 = x->ser_t[0];
		c->t1 = x->ser_t[x->ser_n - 1];
		/* keep the rollback in view even when the series stops before it */
		if (end_of_story > c->t1 && end_of_story - c->t1 < 6 * 3600000LL)
			c->t1 = end_of_story + (end_of_story - c->t0) / 20;
	} else {
		int64_t start = m->impact ? m->impact : x->st->declared;
		int64_t end = end_of_story ? end_of_story : start;
		c->t0 = start - 30 * 60000;
		c->t1 = end > start ? end + 5 * 60000 : start + 60 * 60000;
		c->schematic = true;
	}
	if (c->t1 <= c->t0)
		c->t1 = c->t0 + 1;
	const struct spike *sp = x->st->spikes.n ? x->st->spikes.v[0] : NULL;
	for (int i = 0; i < CHART_W; i++) {
		int64_t a = c->t0 + (c->t1 - c->t0) * i / CHART_W;
		int64_t b = c->t0 + (c->t1 - c->t0) * (i + 1) / CHART_W;
		if (!c->schematic) {
			/* the latest sample at or before the bucket's end, within the series */
			c->v[i] = NAN;
			for (size_t k = 0; k < x->ser_n && x->ser_t[k] <= b; k++)
				if (isfinite(x->ser_v[k]))
					c->v[i] = x->ser_v[k];
			if (a > x->ser_t[x->ser_n - 1])
				c->v[i] = NAN;
		} else if (sp) {
			bool in = b > sp->onset && (!m->mitigate || a < m->mitigate);
			c->v[i] = in ? sp->peak : sp->baseline;
		} else {
			c->v[i] = NAN;
		}
		if (isfinite(c->v[i]) && c->v[i] > c->vmax)
			c->vmax = c->v[i];
	}
}

static int chart_col(const struct chart *c, int64_t t)
{
	if (t < c->t0 || t > c->t1)
		return -1;
	int col = (int)((t - c->t0) * CHART_W / (c->t1 - c->t0));
	return col >= CHART_W ? CHART_W - 1 : col;
}

static void chart_md(const struct exp *x, const struct metrics *m, FILE *out)
{
	static const char *const blocks[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
	struct chart c;
	chart_build(x, m, &c);
	fprintf(out, "```\n");
	fprintf(out, "%5.1f%% ", c.vmax * 100);
	for (int i = 0; i < CHART_W; i++) {
		if (!isfinite(c.v[i]) || c.vmax <= 0)
			fputs(" ", out);
		else
			fputs(blocks[(int)lround(c.v[i] / c.vmax * 7)], out);
	}
	fputs("\n       ", out);
	char marks[CHART_W + 1];
	memset(marks, ' ', CHART_W);
	marks[CHART_W] = '\0';
	for (size_t i = 0; i < x->markers.n; i++) {
		const struct marker *mk = x->markers.v[i];
		int col = chart_col(&c, mk->t);
		if (col >= 0)
			marks[col] = mk->rollback ? 'R' : '^';
	}
	fputs(marks, out);
	fputc('\n', out);
	char a[40], b[40];
	fmt_utc(c.t0, a, sizeof a);
	fmt_utc(c.t1, b, sizeof b);
	fprintf(out, "       %s UTC ... %s UTC\n", a, b);
	for (size_t i = 0; i < x->markers.n; i++) {
		const struct marker *mk = x->markers.v[i];
		if (chart_col(&c, mk->t) < 0)
			continue;
		fmt_utc(mk->t, a, sizeof a);
		fprintf(out, "       %c %s  %s\n", mk->rollback ? 'R' : '^', a, mk->label);
	}
	fprintf(out, "```\n");
	if (c.schematic)
		fprintf(out, "\n_Schematic: drawn from the detected spike's baseline and peak (no series was recorded)._\n");
	fputc('\n', out);
}

static void chart_svg(const struct exp *x, const struct metrics *m, FILE *out)
{
	const int W = 720, H = 220, L = 50, R = 10, T = 10, B = 40;
	struct chart c;
	chart_build(x, m, &c);
	double vmax = c.vmax > 0 ? c.vmax : 1;
	fprintf(out, "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		     "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"error rate with deploys\">\n", W, H, W, H);
	fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n", W, H);
	fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>\n", L, H - B, W - R, H - B);
	fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>\n", L, T, L, H - B);
	fprintf(out, "<text x=\"4\" y=\"%d\" font-size=\"11\">%.1f%%</text>\n", T + 10, vmax * 100);
	fprintf(out, "<polyline class=\"series\" fill=\"none\" stroke=\"#c0392b\" stroke-width=\"2\" points=\"");
	for (int i = 0; i < CHART_W; i++) {
		if (!isfinite(c.v[i]))
			continue;
		double px = L + (double)(W - L - R) * (i + 0.5) / CHART_W;
		double py = (H - B) - (double)(H - B - T) * c.v[i] / vmax;
		fprintf(out, "%.1f,%.1f ", px, py);
	}
	fprintf(out, "\"/>\n");
	for (size_t i = 0; i < x->markers.n; i++) {
		const struct marker *mk = x->markers.v[i];
		int col = chart_col(&c, mk->t);
		if (col < 0)
			continue;
		double px = L + (double)(W - L - R) * (mk->t - c.t0) / (double)(c.t1 - c.t0);
		fprintf(out, "<g class=\"%s\"><line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" "
			     "stroke-dasharray=\"4 3\"/><text x=\"%.1f\" y=\"%d\" font-size=\"10\" "
			     "transform=\"rotate(20 %.1f %d)\">",
			mk->rollback ? "rollback-marker" : "deploy-marker", px, T, px, H - B,
			mk->rollback ? "#27ae60" : "#2c3e50", px, H - B + 12, px, H - B + 12);
		put_text(out, EXPORT_HTML, mk->label);
		fprintf(out, "</text></g>\n");
	}
	fprintf(out, "</svg>\n");
	if (c.schematic)
		fprintf(out, "<p><em>Schematic: drawn from the detected spike's baseline and peak (no series was recorded).</em></p>\n");
}

/* ---- sections ---------------------------------------------------------- */

static const char *holder_list(const struct state *st, enum role r, char *buf, size_t len)
{
	if (r != ROLE_SECONDARY)
		return st->roles[r] ? st->roles[r] : "(unassigned)";
	buf[0] = '\0';
	for (size_t i = 0; i < st->secondaries.n; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? ", " : "",
			 (char *)st->secondaries.v[i]);
	return buf[0] ? buf : "(unassigned)";
}

static void heading(FILE *out, enum export_format fmt, const char *text)
{
	if (fmt == EXPORT_MD)
		fprintf(out, "## %s\n\n", text);
	else
		fprintf(out, "<h2>%s</h2>\n", text);
}

static void summary_doc(const struct exp *x, const struct metrics *m, FILE *out, enum export_format fmt)
{
	const struct state *st = x->st;
	char a[40], b[40], d[40];
	if (fmt == EXPORT_MD) {
		fprintf(out, "# Postmortem draft: ");
		put_text(out, fmt, st->title);
		fprintf(out, "\n\n");
	} else {
		fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>Postmortem draft: ");
		put_text(out, fmt, st->title);
		fprintf(out, "</title>\n<style>body{font-family:sans-serif;max-width:980px;margin:2em auto;color:#222}"
			     "table{border-collapse:collapse;width:100%%}td,th{border:1px solid #ccc;padding:2px 6px;"
			     "font-size:13px;text-align:left;vertical-align:top}th{background:#f3f3f3}"
			     "code{background:#f5f5f5}</style></head><body>\n<h1>Postmortem draft: ");
		put_text(out, fmt, st->title);
		fprintf(out, "</h1>\n");
	}
	heading(out, fmt, "Summary");
	fmt_utc(st->declared, a, sizeof a);
	fmt_utc(st->resolved, b, sizeof b);
	fmt_span(st->declared, st->resolved, d, sizeof d);
	struct sbuf services;
	sbuf_init(&services);
	for (size_t i = 0; i < st->alerts.n; i++) {
		const struct alert *al = st->alerts.v[i];
		if (al->service && !strstr(services.buf ? services.buf : "", al->service))
			sbuf_printf(&services, "%s%s", services.len ? ", " : "", al->service);
	}
	const struct suspect *sus = st->suspects.n ? st->suspects.v[0] : NULL;
	const char *pre = fmt == EXPORT_MD ? "- " : "<li>", *post = fmt == EXPORT_MD ? "\n" : "</li>\n";
	if (fmt == EXPORT_HTML)
		fprintf(out, "<ul>\n");
	fprintf(out, "%sSeverity: %s; final state: %s%s", pre, st->severity,
		incident_state_name(st->inc_state), post);
	fprintf(out, "%sDeclared %s UTC; resolved %s%s; duration %s%s", pre, a, b,
		st->resolved ? " UTC" : "", d, post);
	fprintf(out, "%sServices alerting: ", pre);
	put_text(out, fmt, services.len ? services.buf : "none");
	fprintf(out, " (alerts: %zu)%s", st->alerts.n, post);
	if (sus) {
		fprintf(out, "%sSuspect deploy: ", pre);
		put_text(out, fmt, sus->service);
		fputc('@', out);
		put_text(out, fmt, sus->version);
		fprintf(out, " (");
		put_text(out, fmt, sus->reason);
		fprintf(out, "); last known good ");
		put_text(out, fmt, sus->last_good ? sus->last_good : "unknown");
		fprintf(out, "%s", post);
	}
	for (size_t i = 0; i < st->actions.n; i++) {
		const struct action *ac = st->actions.v[i];
		if (ac->status != ACT_SUCCEEDED)
			continue;
		fprintf(out, "%sMitigation: rolled back ", pre);
		put_text(out, fmt, ac->service);
		fprintf(out, " from ");
		put_text(out, fmt, ac->from);
		fprintf(out, " to ");
		put_text(out, fmt, ac->to);
		fmt_utc(ac->finished, a, sizeof a);
		fprintf(out, " at %s UTC%s", a, post);
	}
	if (fmt == EXPORT_HTML)
		fprintf(out, "</ul>\n");
	else
		fputc('\n', out);
	sbuf_free(&services);

	heading(out, fmt, "Key times");
	struct {
		const char *name;
		int64_t from, to;
	} rows[] = {
		{"Time to detect (impact to first alert or declaration)", m->impact, m->detect},
		{"Time to acknowledge (first alert to first response)", m->detect, m->ack},
		{"Time to mitigate (impact to mitigation)", m->impact, m->mitigate},
		{"Time to resolve (impact to resolved)", m->impact, m->resolve},
	};
	if (fmt == EXPORT_MD)
		fprintf(out, "| measure | value |\n|---|---|\n");
	else
		fprintf(out, "<table><tr><th>measure</th><th>value</th></tr>\n");
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		fmt_span(rows[i].from, rows[i].to, d, sizeof d);
		if (fmt == EXPORT_MD)
			fprintf(out, "| %s | %s |\n", rows[i].name, d);
		else
			fprintf(out, "<tr><td>%s</td><td>%s</td></tr>\n", rows[i].name, d);
	}
	fmt_utc(m->impact, a, sizeof a);
	if (fmt == EXPORT_MD)
		fprintf(out, "\nImpact start: %s UTC (spike onset, else first alert).\n\n", a);
	else
		fprintf(out, "</table>\n<p>Impact start: %s UTC (spike onset, else first alert).</p>\n", a);

	heading(out, fmt, "Roles");
	if (fmt == EXPORT_MD)
		fprintf(out, "| role | who | from (UTC) | until (UTC) |\n|---|---|---|---|\n");
	else
		fprintf(out, "<table><tr><th>role</th><th>who</th><th>from (UTC)</th><th>until (UTC)</th></tr>\n");
	for (size_t i = 0; i < x->spans.n; i++) {
		const struct role_span *s = x->spans.v[i];
		fmt_utc(s->from, a, sizeof a);
		fmt_utc(s->to, b, sizeof b);
		fprintf(out, fmt == EXPORT_MD ? "| %s | " : "<tr><td>%s</td><td>", role_label(s->role));
		put_text(out, fmt, s->user);
		fprintf(out, fmt == EXPORT_MD ? " | %s | %s |\n" : "</td><td>%s</td><td>%s</td></tr>\n", a,
			s->to ? b : "end");
	}
	if (fmt == EXPORT_HTML)
		fprintf(out, "</table>\n");
	char buf[512];
	if (fmt == EXPORT_MD) {
		fprintf(out, "\nAt the end:");
		for (int r = 0; r < ROLE__COUNT; r++)
			fprintf(out, " %s: %s%s", role_label((enum role)r),
				holder_list(st, (enum role)r, buf, sizeof buf), r + 1 < ROLE__COUNT ? ";" : ".");
		fprintf(out, "\n\n");
	}

	heading(out, fmt, "Error rate, deploys and rollbacks");
	if (fmt == EXPORT_MD)
		chart_md(x, m, out);
	else
		chart_svg(x, m, out);

	heading(out, fmt, "Actions");
	if (!st->actions.n)
		fprintf(out, fmt == EXPORT_MD ? "None.\n\n" : "<p>None.</p>\n");
	for (size_t i = 0; i < st->actions.n; i++) {
		const struct action *ac = st->actions.v[i];
		fmt_utc(ac->requested, a, sizeof a);
		static const char *const names[] = {"pending approval", "approved", "running",
						    "succeeded", "failed", "cancelled", "dry run"};
		if (fmt == EXPORT_HTML)
			fprintf(out, "<h3>");
		else
			fprintf(out, "### ");
		fprintf(out, "%s: rollback ", ac->id);
		put_text(out, fmt, ac->service);
		fprintf(out, " ");
		put_text(out, fmt, ac->from);
		fprintf(out, " -> ");
		put_text(out, fmt, ac->to);
		fprintf(out, " (%s)", names[ac->status]);
		fprintf(out, fmt == EXPORT_HTML ? "</h3>\n<ul><li>" : "\n\n- ");
		fprintf(out, "requested by ");
		put_text(out, fmt, ac->requested_by);
		fprintf(out, " at %s UTC; approval %s", a, ac->approval);
		if (ac->approved_by) {
			fprintf(out, " (approved by ");
			put_text(out, fmt, ac->approved_by);
			fprintf(out, ")");
		}
		fprintf(out, fmt == EXPORT_HTML ? "</li><li>command: <code>" : "\n- command: `");
		for (const char *p = ac->display; fmt == EXPORT_MD && p && *p; p++)
			fputc(*p == '`' ? '\'' : (*p < 0x20 ? ' ' : *p), out);
		if (fmt == EXPORT_HTML)
			put_text(out, fmt, ac->display);
		fprintf(out, fmt == EXPORT_HTML ? "</code></li><li>" : "`\n- ");
		if (ac->status == ACT_SUCCEEDED || ac->status == ACT_FAILED)
			fprintf(out, "result: exit %d after %.1f s", ac->exit_code, ac->duration_ms / 1000.0);
		else
			fprintf(out, "result: %s", names[ac->status]);
		if (ac->error) {
			fprintf(out, "; ");
			put_text(out, fmt, ac->error);
		}
		fprintf(out, fmt == EXPORT_HTML ? "</li></ul>\n" : "\n");
		if (ac->output.n) {
			fprintf(out, fmt == EXPORT_HTML ? "<pre>" : "\n```\n");
			for (size_t k = 0; k < ac->output.n; k++) {
				if (fmt == EXPORT_HTML)
					put_text(out, fmt, ac->output.v[k]);
				else
					for (const char *p = ac->output.v[k]; *p; p++)
						fputc(*p < 0x20 ? ' ' : *p, out);
				fputc('\n', out);
			}
			fprintf(out, fmt == EXPORT_HTML ? "</pre>\n" : "```\n");
		}
		if (fmt == EXPORT_MD)
			fputc('\n', out);
	}

	heading(out, fmt, "Status updates");
	if (!st->updates.n)
		fprintf(out, fmt == EXPORT_MD ? "None.\n\n" : "<p>None.</p>\n");
	else if (fmt == EXPORT_MD)
		fprintf(out, "| id | sent (UTC) | target | state | status | message |\n|---|---|---|---|---|---|\n");
	else
		fprintf(out, "<table><tr><th>id</th><th>sent (UTC)</th><th>target</th><th>state</th><th>status</th><th>message</th></tr>\n");
	for (size_t i = 0; i < st->updates.n; i++) {
		const struct update *u = st->updates.v[i];
		static const char *const names[] = {"pending", "sent", "failed"};
		fmt_utc(u->sent ? u->sent : u->requested, a, sizeof a);
		fprintf(out, fmt == EXPORT_MD ? "| %s | %s | " : "<tr><td>%s</td><td>%s</td><td>", u->id, a);
		put_text(out, fmt, u->target);
		fprintf(out, fmt == EXPORT_MD ? " | %s | %s | " : "</td><td>%s</td><td>%s</td><td>", u->state,
			names[u->status]);
		put_text(out, fmt, u->message);
		fprintf(out, fmt == EXPORT_MD ? " |\n" : "</td></tr>\n");
	}
	if (st->updates.n)
		fprintf(out, fmt == EXPORT_MD ? "\n" : "</table>\n");

	heading(out, fmt, "Timeline");
	if (fmt == EXPORT_MD)
		fprintf(out, "| UTC | since declared | who | event | what |\n|---|---|---|---|---|\n");
	else
		fprintf(out, "<table class=\"timeline\"><tr><th>UTC</th><th>since declared</th><th>who</th><th>event</th><th>what</th></tr>\n");
}

static void timeline_row(const struct wr_event *ev, void *arg)
{
	struct exp *x = arg;
	char a[40], d[32];
	fmt_utc(ev->ts, a, sizeof a);
	fmt_dur(ev->ts - x->st->declared, d, sizeof d);
	char *text = state_describe_event(ev);
	if (x->fmt == EXPORT_JSON) {
		/* written by hand: building a cJSON object per row doubles the time */
		char ts[40];
		time_format_rfc3339(ev->ts, ts, sizeof ts);
		fprintf(x->out, "%s\n    {\"seq\":%llu,\"ts\":\"%s\",\"since_declared_s\":%.3f,\"kind\":\"%s\",\"by\":",
			x->row++ ? "," : "", (unsigned long long)ev->seq, ts,
			(double)(ev->ts - x->st->declared) / 1000.0, event_kind_name(ev->kind));
		put_json_string(x->out, ev->by);
		fputs(",\"text\":", x->out);
		put_json_string(x->out, text);
		fputc('}', x->out);
	} else {
		bool md = x->fmt == EXPORT_MD;
		fprintf(x->out, md ? "| %s | %s | " : "<tr><td>%s</td><td>%s</td><td>", a, d);
		put_text(x->out, x->fmt, ev->by);
		fprintf(x->out, md ? " | %s | " : "</td><td>%s</td><td>", event_kind_name(ev->kind));
		put_text(x->out, x->fmt, text);
		fprintf(x->out, md ? " |\n" : "</td></tr>\n");
	}
	free(text);
}

static cJSON *json_time(int64_t ms)
{
	char buf[40];
	if (!ms)
		return cJSON_CreateNull();
	time_format_rfc3339(ms, buf, sizeof buf);
	return cJSON_CreateString(buf);
}

static cJSON *json_span(int64_t from, int64_t to)
{
	return from && to && to >= from ? cJSON_CreateNumber((double)(to - from) / 1000.0)
					 : cJSON_CreateNull();
}

static void json_head(const struct exp *x, const struct metrics *m, FILE *out)
{
	/* the timeline streams every event below: leave the comms log out here
	 * rather than build 100,000 objects only to delete them */
	struct ptrvec comms = x->st->comms;
	memset(&x->st->comms, 0, sizeof x->st->comms);
	cJSON *root = state_to_json(x->st);
	x->st->comms = comms;
	cJSON_DeleteItemFromObjectCaseSensitive(root, "comms");
	cJSON_DeleteItemFromObjectCaseSensitive(root, "clients");
	cJSON_DeleteItemFromObjectCaseSensitive(root, "backends");
	cJSON *mj = cJSON_AddObjectToObject(root, "metrics");
	cJSON_AddItemToObject(mj, "impact_start", json_time(m->impact));
	cJSON_AddItemToObject(mj, "time_to_detect_s", json_span(m->impact, m->detect));
	cJSON_AddItemToObject(mj, "time_to_acknowledge_s", json_span(m->detect, m->ack));
	cJSON_AddItemToObject(mj, "time_to_mitigate_s", json_span(m->impact, m->mitigate));
	cJSON_AddItemToObject(mj, "time_to_resolve_s", json_span(m->impact, m->resolve));
	cJSON *spans = cJSON_AddArrayToObject(root, "role_history");
	for (size_t i = 0; i < x->spans.n; i++) {
		const struct role_span *s = x->spans.v[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "role", role_id(s->role));
		cJSON_AddStringToObject(o, "user", s->user);
		cJSON_AddItemToObject(o, "from", json_time(s->from));
		cJSON_AddItemToObject(o, "until", json_time(s->to));
		cJSON_AddItemToArray(spans, o);
	}
	cJSON *marks = cJSON_AddArrayToObject(root, "chart_markers");
	for (size_t i = 0; i < x->markers.n; i++) {
		const struct marker *mk = x->markers.v[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToObject(o, "time", json_time(mk->t));
		cJSON_AddStringToObject(o, "kind", mk->rollback ? "rollback" : "deploy");
		cJSON_AddStringToObject(o, "label", mk->label);
		cJSON_AddItemToArray(marks, o);
	}
	char *s = cJSON_Print(root);
	/* drop the closing brace: the timeline array streams after it */
	char *end = strrchr(s, '}');
	if (end)
		*end = '\0';
	fprintf(out, "%s,\n  \"timeline\": [", s);
	free(s);
	cJSON_Delete(root);
}

int export_format_from_name(const char *name)
{
	if (str_eq(name, "md") || str_eq(name, "markdown"))
		return EXPORT_MD;
	if (str_eq(name, "json"))
		return EXPORT_JSON;
	if (str_eq(name, "html"))
		return EXPORT_HTML;
	return -1;
}

static void exp_free(struct exp *x)
{
	for (size_t i = 0; i < x->spans.n; i++)
		free(((struct role_span *)x->spans.v[i])->user);
	ptrvec_free(&x->spans, free);
	for (int r = 0; r < ROLE__COUNT; r++)
		free(x->open[r].v);
	for (size_t i = 0; i < x->markers.n; i++)
		free(((struct marker *)x->markers.v[i])->label);
	ptrvec_free(&x->markers, free);
	ptrvec_free(&x->problems, free);
	free(x->ser_t);
	free(x->ser_v);
	free(x->ser_service);
	state_free(x->st);
}

int export_journal(const char *journal_path, enum export_format fmt, FILE *out, char *err,
		   size_t errlen)
{
	struct exp x = {0};
	x.st = state_new();
	x.fmt = fmt;
	x.out = out;
	if (journal_read(journal_path, collect, on_problem, &x, err, errlen) < 0) {
		exp_free(&x);
		return -1;
	}
	if (!x.st->last_seq) {
		snprintf(err, errlen, "%s: no events in this journal", journal_path);
		exp_free(&x);
		return -1;
	}
	struct metrics m = metrics_of(&x);
	if (fmt == EXPORT_JSON)
		json_head(&x, &m, out);
	else
		summary_doc(&x, &m, out, fmt);
	/* second pass streams the timeline, so memory stays that of the state */
	if (journal_read(journal_path, timeline_row, NULL, &x, err, errlen) < 0) {
		exp_free(&x);
		return -1;
	}
	if (fmt == EXPORT_JSON) {
		fprintf(out, "\n  ],\n  \"journal_problems\": [");
		for (size_t i = 0; i < x.problems.n; i++) {
			cJSON *s = cJSON_CreateString(x.problems.v[i]);
			char *p = cJSON_PrintUnformatted(s);
			fprintf(out, "%s%s", i ? ", " : "", p);
			free(p);
			cJSON_Delete(s);
		}
		fprintf(out, "]\n}\n");
	} else {
		fprintf(out, fmt == EXPORT_MD ? "\n" : "</table>\n");
		if (x.problems.n) {
			heading(out, fmt, "Journal problems");
			for (size_t i = 0; i < x.problems.n; i++) {
				fprintf(out, fmt == EXPORT_MD ? "- " : "<p>");
				put_text(out, fmt, x.problems.v[i]);
				fprintf(out, fmt == EXPORT_MD ? "\n" : "</p>\n");
			}
		}
		if (fmt == EXPORT_HTML)
			fprintf(out, "</body></html>\n");
	}
	exp_free(&x);
	if (ferror(out)) {
		snprintf(err, errlen, "write error");
		return -1;
	}
	return 0;
}

/* Writes buf[0..len) to out with every occurrence of the needles replaced. */
static void write_redacted(const char *buf, size_t len, struct ptrvec *needles, FILE *out)
{
	size_t i = 0, from = 0;
	while (i < len) {
		size_t hit = 0;
		for (size_t k = 0; k < needles->n && !hit; k++) {
			const char *nd = needles->v[k];
			size_t nl = strlen(nd);
			if (nl && nl <= len - i && buf[i] == nd[0] && memcmp(buf + i, nd, nl) == 0)
				hit = nl;
		}
		if (!hit) {
			i++;
			continue;
		}
		fwrite(buf + from, 1, i - from, out);
		fputs("[redacted]", out);
		i += hit;
		from = i;
	}
	fwrite(buf + from, 1, len - from, out);
}

int export_journal_redacted(const char *journal_path, enum export_format fmt,
			    const char *const *secrets, size_t n, FILE *out, char *err, size_t errlen)
{
	struct ptrvec needles = {0};
	for (size_t i = 0; i < n; i++) {
		if (!secrets[i] || strlen(secrets[i]) < 4)
			continue;
		ptrvec_push(&needles, xstrdup(secrets[i]));
		/* and as the format escapes it */
		char *esc = NULL;
		size_t elen = 0;
		FILE *m = open_memstream(&esc, &elen);
		if (!m)
			continue;
		if (fmt == EXPORT_JSON)
			put_json_string(m, secrets[i]);
		else
			put_text(m, fmt, secrets[i]);
		fclose(m);
		if (fmt == EXPORT_JSON && elen >= 2) {
			memmove(esc, esc + 1, elen - 2); /* without the quotes */
			esc[elen - 2] = '\0';
		}
		if (strcmp(esc, secrets[i]) != 0)
			ptrvec_push(&needles, esc);
		else
			free(esc);
	}
	if (!needles.n)
		return export_journal(journal_path, fmt, out, err, errlen);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (!m) {
		snprintf(err, errlen, "out of memory");
		ptrvec_free(&needles, free);
		return -1;
	}
	int rc = export_journal(journal_path, fmt, m, err, errlen);
	fclose(m);
	if (rc == 0) {
		write_redacted(buf, len, &needles, out);
		if (ferror(out)) {
			snprintf(err, errlen, "write error");
			rc = -1;
		}
	}
	free(buf);
	ptrvec_free(&needles, free);
	return rc;
}
