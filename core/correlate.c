/* Which deploy broke it.
 *
 * Spike: the most significant upward shift in a series, in two steps.
 *
 * 1. Scan. At every split i the level before is the median of up to
 *    CP_BEFORE samples before i and its spread the MAD, scaled to a sigma
 *    and floored (a perfectly flat line would otherwise make any wiggle
 *    infinitely significant). The level after is the median of the next L
 *    samples, for a few window lengths L: a short window sees a spike that
 *    has just begun or was already rolled back, a long one a slow rise. The
 *    shift (after - before) / sigma must reach CP_MIN_SIGMA, and a short
 *    window needs a larger one (shift * sqrt(L) >= CP_MIN_SUPPORT), so noise
 *    and single outliers are not spikes. The largest shift wins: the most
 *    significant spike, in the units of its own baseline's noise.
 *
 * 2. Onset. The scan only says "somewhere around i". The rise starts where
 *    a one-sided CUSUM of the values standardised against that baseline
 *    (reference one sigma) last left zero before its maximum, so a ramp is
 *    dated at its foot, not where it crosses some level.
 *
 * Suspects: each deploy that was running at a spike's onset (deployed at or
 * before it, not replaced by a later deploy of its service before it) is
 * scored by how shortly it precedes the onset (exponential decay, nothing
 * beyond two hours), whether its service is the spiking series' and whether
 * it has firing alerts, and the size of the shift:
 *   exp(-dt / 30 min) * (0.3 + 0.5 same service + 0.2 alerts) * (0.6 .. 1).
 * Its last good version is the deploy of the same service before it. */
#include "core/correlate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define CP_BEFORE 60          /* samples in the baseline window, at most */
#define CP_BEFORE_MIN 8       /* ... and at least */
#define CP_MIN_SIGMA 4.0      /* smallest shift that is a spike, in sigmas */
#define CP_MIN_SUPPORT 12.0   /* shift * sqrt(window): 3 samples need ~7 sigma */
#define CP_CUSUM_REF 1.0      /* CUSUM reference, in sigmas */
#define CP_REL_FLOOR 0.05     /* sigma >= 5 % of the baseline level */
#define CP_SCALE_FLOOR 1e-3   /* ... and >= 0.1 % of the series' largest value */
#define CP_ABS_FLOOR 1e-12

static const size_t cp_after_len[] = {3, 5, 8, 12, 20, 32, 60};
#define CP_AFTER_MAX 60

#define CR_TAU_MS (30 * 60000LL)     /* suspicion halves every ~21 min */
#define CR_HORIZON_MS (120 * 60000LL) /* older deploys are no suspects */
#define CR_MIN_SCORE 0.01
#define CR_W_OTHER 0.3               /* a deploy of some other service */
#define CR_W_SERIES 0.5              /* + same service as the spiking series */
#define CR_W_FIRING 0.2              /* + its service has firing alerts */

/* ---- robust statistics ---------------------------------------------------- */

static void swap_d(double *a, double *b)
{
	double t = *a;
	*a = *b;
	*b = t;
}

/* k-th smallest of a[0..n) (quickselect; reorders a). */
static double select_kth(double *a, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		/* median of three as pivot, moved to hi */
		if (a[mid] < a[lo])
			swap_d(&a[mid], &a[lo]);
		if (a[hi] < a[lo])
			swap_d(&a[hi], &a[lo]);
		if (a[mid] < a[hi])
			swap_d(&a[mid], &a[hi]);
		double pivot = a[hi];
		size_t store = lo;
		for (size_t i = lo; i < hi; i++)
			if (a[i] < pivot)
				swap_d(&a[i], &a[store++]);
		swap_d(&a[store], &a[hi]);
		if (store == k)
			return a[k];
		if (store < k)
			lo = store + 1;
		else
			hi = store - 1;
	}
	return a[k];
}

/* Median of v[0..n), n >= 1; scratch holds n doubles. */
static double median(const double *v, size_t n, double *scratch)
{
	memcpy(scratch, v, n * sizeof *v);
	double hi = select_kth(scratch, n, n / 2);
	if (n % 2)
		return hi;
	/* even: the largest of the lower half, which select_kth left below n/2 */
	double lo = scratch[0];
	for (size_t i = 1; i < n / 2; i++)
		lo = fmax(lo, scratch[i]);
	return (lo + hi) / 2;
}

/* Robust sigma from a MAD, floored (see the top of the file). */
static double cp_sigma(double mad, double med, double scale)
{
	double sigma = 1.4826 * mad;
	sigma = fmax(sigma, CP_REL_FLOOR * fabs(med));
	sigma = fmax(sigma, CP_SCALE_FLOOR * scale);
	return fmax(sigma, CP_ABS_FLOOR);
}

/* Median and robust sigma of v[0..n). */
static void level_spread(const double *v, size_t n, double scale, double *scratch,
			 double *med_out, double *sigma_out)
{
	double med = median(v, n, scratch);
	for (size_t i = 0; i < n; i++)
		scratch[i] = fabs(v[i] - med);
	*med_out = med;
	*sigma_out = cp_sigma(select_kth(scratch, n, n / 2), med, scale);
}

/* The baseline window, kept sorted as it slides, so its median and MAD
 * cost O(window) per split instead of two selections. */
struct cp_window {
	double v[CP_BEFORE];
	size_t n;
};

static size_t cp_window_lower(const struct cp_window *w, double x)
{
	size_t lo = 0, hi = w->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (w->v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void cp_window_add(struct cp_window *w, double x)
{
	size_t p = cp_window_lower(w, x);
	memmove(w->v + p + 1, w->v + p, (w->n - p) * sizeof *w->v);
	w->v[p] = x;
	w->n++;
}

static void cp_window_remove(struct cp_window *w, double x)
{
	size_t p = cp_window_lower(w, x);
	if (p < w->n && w->v[p] == x) {
		memmove(w->v + p, w->v + p + 1, (w->n - p - 1) * sizeof *w->v);
		w->n--;
	}
}

/* Same figures as level_spread on the window's samples. */
static void cp_window_stats(const struct cp_window *w, double scale, double *med_out,
			    double *sigma_out)
{
	size_t n = w->n;
	double med = n % 2 ? w->v[n / 2] : (w->v[n / 2 - 1] + w->v[n / 2]) / 2;
	/* deviations grow outwards from the median on both sides: merge the
	 * two sorted runs up to the (n/2)-th smallest */
	size_t r = cp_window_lower(w, med), l = r;
	double dev = 0;
	for (size_t k = 0; k <= n / 2; k++) {
		double dl = l > 0 ? med - w->v[l - 1] : INFINITY;
		double dr = r < n ? w->v[r] - med : INFINITY;
		if (dl <= dr) {
			dev = dl;
			l--;
		} else {
			dev = dr;
			r++;
		}
	}
	*med_out = med;
	*sigma_out = cp_sigma(dev, med, scale);
}

/* ---- spike ---------------------------------------------------------------- */

struct cp_best {
	size_t split, len;    /* after window [split, split + len) */
	double base, sigma, after, shift;
};

/* Step 1: the split and window with the largest well-supported shift. */
static bool cp_scan(const double *x, size_t m, double scale, double *scratch,
		    struct cp_best *best)
{
	bool found = false;
	struct cp_window w = {.n = 0};
	for (size_t j = 0; j < CP_BEFORE_MIN; j++)
		cp_window_add(&w, x[j]);
	for (size_t i = CP_BEFORE_MIN; i + cp_after_len[0] <= m; i++) {
		if (i > CP_BEFORE_MIN) {
			/* slide: [i - 1 - CP_BEFORE, i - 1) becomes [i - CP_BEFORE, i) */
			if (i - 1 >= CP_BEFORE)
				cp_window_remove(&w, x[i - 1 - CP_BEFORE]);
			cp_window_add(&w, x[i - 1]);
		}
		double base, sigma;
		cp_window_stats(&w, scale, &base, &sigma);
		/* the after median clears the bar only if most samples do: count
		 * them first (the windows nest), select only when it can pass */
		double bar = base + CP_MIN_SIGMA * sigma;
		size_t above = 0, seen = 0;
		for (size_t k = 0; k < sizeof cp_after_len / sizeof cp_after_len[0]; k++) {
			size_t len = cp_after_len[k];
			if (i + len > m)
				break;
			for (; seen < len; seen++)
				above += x[i + seen] >= bar;
			if (2 * above < len)
				continue;
			double after = median(x + i, len, scratch);
			double shift = (after - base) / sigma;
			if (shift < CP_MIN_SIGMA || shift * sqrt((double)len) < CP_MIN_SUPPORT)
				continue;
			if (!found || shift > best->shift) {
				*best = (struct cp_best){i, len, base, sigma, after, shift};
				found = true;
			}
		}
	}
	return found;
}

/* Step 2: where the rise starts, between the baseline window's start and
 * the end of the after window. */
static size_t cp_onset(const double *x, const struct cp_best *b)
{
	size_t b0 = b->split > CP_BEFORE ? b->split - CP_BEFORE : 0;
	size_t end = b->split + b->len;
	double s = 0, smax = -1;
	size_t last_zero = b0, onset = b->split;
	bool zero = true; /* s == 0 before b0 */
	for (size_t j = b0; j < end; j++) {
		if (zero)
			last_zero = j; /* the excursion, if any, starts here */
		s = fmax(0, s + (x[j] - b->base) / b->sigma - CP_CUSUM_REF);
		zero = s == 0;
		if (s > smax) {
			smax = s;
			onset = last_zero;
		}
	}
	return onset;
}

bool correlate_find_spike(const int64_t *t, const double *v, size_t n, struct cp_spike *out)
{
	if (!t || !v || !out || n < CP_BEFORE_MIN + cp_after_len[0])
		return false;
	/* finite samples only; idx maps back to the caller's arrays */
	double *x = xmalloc(n * sizeof *x);
	size_t *idx = xmalloc(n * sizeof *idx);
	double scratch[CP_BEFORE > CP_AFTER_MAX ? CP_BEFORE : CP_AFTER_MAX];
	size_t m = 0;
	double scale = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(v[i]))
			continue;
		x[m] = v[i];
		idx[m++] = i;
		scale = fmax(scale, fabs(v[i]));
	}
	struct cp_best b;
	bool ok = m >= CP_BEFORE_MIN + cp_after_len[0] && cp_scan(x, m, scale, scratch, &b);
	if (ok) {
		size_t o = cp_onset(x, &b);
		/* the baseline is what came just before the rise */
		size_t b0 = o > CP_BEFORE ? o - CP_BEFORE : 0;
		double base = b.base, sigma = b.sigma;
		if (o - b0 >= CP_BEFORE_MIN / 2)
			level_spread(x + b0, o - b0, scale, scratch, &base, &sigma);
		/* peak: the highest 3-sample median from the onset through the
		 * after window, so one outlier does not set it */
		size_t end = b.split + b.len;
		double peak = b.after;
		for (size_t j = o; j < end; j++) {
			size_t lo = j > o ? j - 1 : j, hi = j + 1 < end ? j + 1 : j;
			peak = fmax(peak, median(x + lo, hi - lo + 1, scratch));
		}
		double shift = (b.after - base) / sigma;
		ok = shift >= CP_MIN_SIGMA;
		if (ok) {
			*out = (struct cp_spike){.onset = t[idx[o]], .baseline = base, .peak = peak,
						 .magnitude = shift, .onset_index = idx[o]};
		}
	}
	free(x);
	free(idx);
	return ok;
}

/* ---- suspects ------------------------------------------------------------- */

/* d was replaced by a later deploy of its service at or before `at`. The
 * array need not be sorted; equal times go by array order. */
static bool cr_superseded(const struct cr_deploy *deps, size_t n, size_t d, int64_t at)
{
	for (size_t k = 0; k < n; k++) {
		if (k == d || !str_eq(deps[k].service, deps[d].service) || deps[k].time > at)
			continue;
		if (deps[k].time > deps[d].time || (deps[k].time == deps[d].time && k > d))
			return true;
	}
	return false;
}

static bool cr_before(const struct cr_deploy *deps, size_t a, size_t b)
{
	return deps[a].time < deps[b].time || (deps[a].time == deps[b].time && a < b);
}

/* The version to go back to: the latest earlier deploy of the same service
 * with another version, whose own time in service saw no spike of that
 * service begin (its window was healthy). */
static const char *cr_last_good(const struct cr_deploy *deps, size_t n, size_t d,
				const struct cr_spike *spikes, size_t nspikes)
{
	size_t next = d; /* the deploy that replaced the candidate */
	for (;;) {
		size_t best = n;
		for (size_t k = 0; k < n; k++)
			if (str_eq(deps[k].service, deps[d].service) && cr_before(deps, k, next) &&
			    (best == n || cr_before(deps, best, k)))
				best = k;
		if (best == n)
			return NULL;
		bool healthy = !str_eq(deps[best].version, deps[d].version);
		for (size_t s = 0; healthy && s < nspikes; s++)
			if (str_eq(spikes[s].service, deps[d].service) &&
			    spikes[s].onset >= deps[best].time && spikes[s].onset < deps[next].time)
				healthy = false;
		if (healthy && deps[best].version)
			return deps[best].version;
		next = best;
	}
}

static void cr_fmt_ago(int64_t ms, char *buf, size_t len)
{
	int64_t s = ms / 1000;
	if (s < 60)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm", (long long)(s / 60));
	else
		snprintf(buf, len, "%lldh%02lldm", (long long)(s / 3600), (long long)(s / 60 % 60));
}

/* Error ratios as percentages; anything else as a plain number. */
static void cr_fmt_level(double v, bool ratio, char *buf, size_t len)
{
	if (!ratio)
		snprintf(buf, len, "%.3g", v);
	else if (v * 100 >= 9.95)
		snprintf(buf, len, "%.0f%%", v * 100);
	else
		snprintf(buf, len, "%.1f%%", v * 100);
}

static void cr_reason(const struct cr_deploy *d, const struct cr_spike *sp, bool same, bool firing,
		      char *buf, size_t len)
{
	char ago[32], range[96] = "";
	cr_fmt_ago(sp->onset - d->time, ago, sizeof ago);
	if (sp->peak > sp->baseline && isfinite(sp->peak) && isfinite(sp->baseline)) {
		char a[32], b[32];
		bool ratio = sp->baseline >= 0 && sp->peak <= 1;
		cr_fmt_level(sp->baseline, ratio, a, sizeof a);
		cr_fmt_level(sp->peak, ratio, b, sizeof b);
		snprintf(range, sizeof range, " (%s \u2192 %s)", a, b);
	}
	int w = snprintf(buf, len, "deployed %s before the %s%serror-rate rise%s%s", ago,
			 sp->service ? sp->service : "", sp->service ? " " : "", range,
			 same || !sp->service ? "" : ", a different service");
	if (firing && w >= 0 && (size_t)w < len)
		snprintf(buf + w, len - (size_t)w, "; %s has firing alerts", d->service);
}

struct cr_cand {
	size_t deploy, spike;
	double score;
	bool same, firing;
};

static int cr_cand_cmp(const struct cr_cand *a, const struct cr_cand *b,
		       const struct cr_deploy *deps)
{
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	/* equal scores: the more recent deploy first, then array order */
	if (deps[a->deploy].time != deps[b->deploy].time)
		return deps[a->deploy].time > deps[b->deploy].time ? -1 : 1;
	return a->deploy < b->deploy ? -1 : a->deploy > b->deploy;
}

size_t correlate_rank(const struct cr_deploy *deploys, size_t ndeploys,
		      const struct cr_spike *spikes, size_t nspikes,
		      const char *const *firing_services, size_t nfiring,
		      struct cr_suspect *out, size_t max)
{
	if (!deploys || !spikes || !out || max == 0 || ndeploys == 0 || nspikes == 0)
		return 0;
	struct cr_cand *cand = xcalloc(ndeploys, sizeof *cand);
	size_t nc = 0;
	for (size_t d = 0; d < ndeploys; d++) {
		const struct cr_deploy *dp = &deploys[d];
		if (!dp->service || !dp->version)
			continue;
		bool firing = false;
		for (size_t f = 0; f < nfiring && firing_services; f++)
			firing = firing || str_eq(firing_services[f], dp->service);
		struct cr_cand c = {.deploy = d, .score = 0};
		for (size_t s = 0; s < nspikes; s++) {
			const struct cr_spike *sp = &spikes[s];
			int64_t dt = sp->onset - dp->time;
			/* after the onset it cannot have caused it; long before, or
			 * replaced before it, it was not what changed */
			if (dt < 0 || dt > CR_HORIZON_MS ||
			    cr_superseded(deploys, ndeploys, d, sp->onset))
				continue;
			bool same = sp->service && str_eq(sp->service, dp->service);
			double w = CR_W_OTHER + (same ? CR_W_SERIES : 0) + (firing ? CR_W_FIRING : 0);
			double mag = isfinite(sp->magnitude) && sp->magnitude > 0 ? sp->magnitude : 0;
			double sig = 0.6 + 0.4 * (1 - exp(-mag / 10)); /* a larger shift, surer */
			double score = exp(-(double)dt / (double)CR_TAU_MS) * w * sig;
			if (score > c.score) {
				c.score = score;
				c.spike = s;
				c.same = same;
				c.firing = firing;
			}
		}
		if (c.score >= CR_MIN_SCORE)
			cand[nc++] = c;
	}
	/* insertion sort: a handful of deploys, and qsort has no context */
	for (size_t i = 1; i < nc; i++) {
		struct cr_cand c = cand[i];
		size_t j = i;
		while (j > 0 && cr_cand_cmp(&c, &cand[j - 1], deploys) < 0) {
			cand[j] = cand[j - 1];
			j--;
		}
		cand[j] = c;
	}
	size_t n = nc < max ? nc : max;
	for (size_t i = 0; i < n; i++) {
		const struct cr_cand *c = &cand[i];
		struct cr_suspect *o = &out[i];
		o->deploy = c->deploy;
		o->score = fmin(1.0, c->score);
		cr_reason(&deploys[c->deploy], &spikes[c->spike], c->same, c->firing, o->reason,
			  sizeof o->reason);
		o->last_good = cr_last_good(deploys, ndeploys, c->deploy, spikes, nspikes);
	}
	free(cand);
	return n;
}
