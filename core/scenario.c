/* The built-in incident: checkout is failing after an api deploy.
 *
 *   T0-2h10m  web@1.4.0 deployed          (healthy for hours)
 *   T0-1h25m  api@2.3.0 deployed          (healthy: the last good api)
 *   T0-40m    worker@5.1.0 deployed       (another service, unrelated)
 *   T0-6m     api@2.4.0 deployed          (the bad one)
 *   T0-4m     api 5xx ratio rises from ~0.4 % to ~12 %
 *   T0+3s     HighErrorRate (api, critical) fires
 *   T0+8s     LatencyHigh (web, warning) fires: a symptom of api timeouts
 *   T0+15s    CheckoutFailures (api, critical) fires
 *   T0+20s    carol takes Internal Comms;  T0+30s her first note
 *   T0+35s    dave joins as Secondary on-call
 *   T0+40s    web@1.4.1 deployed: after the onset, so never the suspect
 *   T0+50s    dave: web is only waiting on api
 *
 * The user takes a role, tells customers, finds the suspect, rolls api back
 * to 2.3.0; the ratio then falls back to its baseline within ~15 s and the
 * alerts resolve 10-18 s after the rollback. */
#include "core/scenario.h"

#include <math.h>
#include <string.h>

#include "core/util.h"

const char *const scenario_bad_service = "api";
const char *const scenario_bad_version = "2.4.0";
const char *const scenario_good_version = "2.3.0";

const struct scn_deploy scenario_deploys[] = {
	{-(2 * SCN_HOUR + 10 * SCN_MIN), "web", "1.4.0", "ci",
	 "https://ci.example.com/web/builds/1187"},
	{-(1 * SCN_HOUR + 25 * SCN_MIN), "api", "2.3.0", "ci",
	 "https://ci.example.com/api/builds/812"},
	{-40 * SCN_MIN, "worker", "5.1.0", "ci", "https://ci.example.com/worker/builds/233"},
	{-6 * SCN_MIN, "api", "2.4.0", "ci", "https://ci.example.com/api/builds/840"},
	{40 * SCN_SEC, "web", "1.4.1", "ci", "https://ci.example.com/web/builds/1192"},
};
const size_t scenario_ndeploys = sizeof scenario_deploys / sizeof scenario_deploys[0];

const struct scn_alert scenario_alerts[] = {
	{3 * SCN_SEC, 10 * SCN_SEC, "demo-api-higherrorrate", "HighErrorRate", "api", "critical",
	 "api 5xx ratio 12% over 5m (threshold 2%)",
	 "More than 2% of api requests have failed with a 5xx for 2 minutes.",
	 "https://runbooks.example.com/api/high-error-rate", "payments"},
	{8 * SCN_SEC, 18 * SCN_SEC, "demo-web-latencyhigh", "LatencyHigh", "web", "warning",
	 "web p99 latency 2.1s (threshold 1.5s)",
	 "The 99th percentile of web response time is above 1.5 s for 5 minutes.",
	 "https://runbooks.example.com/web/latency", "storefront"},
	{15 * SCN_SEC, 14 * SCN_SEC, "demo-api-checkoutfailures", "CheckoutFailures", "api",
	 "critical", "checkout success 86% (SLO 99.5%)",
	 "Completed checkouts over attempted checkouts fell below the SLO.",
	 "https://runbooks.example.com/api/checkout-failures", "payments"},
};
const size_t scenario_nalerts = sizeof scenario_alerts / sizeof scenario_alerts[0];

const struct scn_step scenario_steps[] = {
	{20 * SCN_SEC, SCN_ROLE, "carol", "internal-comms", NULL, false},
	{30 * SCN_SEC, SCN_NOTE, "carol", NULL,
	 "support sees checkout errors from EU and US customers; I'm keeping #inc-checkout posted",
	 true},
	{35 * SCN_SEC, SCN_ROLE, "dave", "secondary", NULL, false},
	{50 * SCN_SEC, SCN_NOTE, "dave", NULL,
	 "web latency is api timeouts upstream; web itself looks healthy", true},
	{25 * SCN_SEC, SCN_AFTER_ROLLBACK_NOTE, "carol", NULL,
	 "support confirms checkouts are going through again", false},
};
const size_t scenario_nsteps = sizeof scenario_steps / sizeof scenario_steps[0];

const struct scn_series scenario_series[] = {
	{"api", 0.003, 0.006, 0.12, 0.008, -4 * SCN_MIN, 40 * SCN_SEC, 4 * SCN_SEC, 0x5eed2401u},
	{"web", 0.001, 0.002, 0, 0, 0, 0, 4 * SCN_SEC, 0x5eed1401u},
};
const size_t scenario_nseries = sizeof scenario_series / sizeof scenario_series[0];

const struct scn_series *scenario_find_series(const char *service)
{
	for (size_t i = 0; i < scenario_nseries; i++)
		if (service && strcmp(scenario_series[i].service, service) == 0)
			return &scenario_series[i];
	return NULL;
}

int64_t scenario_offset(int64_t t0_ms, double speed, int64_t wall_ms)
{
	int64_t d = wall_ms - t0_ms;
	if (d <= 0 || speed <= 0)
		return d;
	return (int64_t)((double)d * speed);
}

int64_t scenario_wall(int64_t t0_ms, double speed, int64_t offset)
{
	if (offset <= 0 || speed <= 0)
		return t0_ms + offset;
	return t0_ms + (int64_t)ceil((double)offset / speed);
}

uint32_t scenario_rand(uint32_t *state)
{
	uint32_t x = *state ? *state : 0x9e3779b9u;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

double scenario_noise(uint32_t seed, int64_t bucket)
{
	/* mix the bucket into the seed, then let the generator scramble it */
	uint32_t s = seed ^ (uint32_t)((uint64_t)bucket * 0x9e3779b97f4a7c15ull >> 32) ^
		     (uint32_t)bucket;
	for (int i = 0; i < 4; i++)
		scenario_rand(&s);
	return (double)(scenario_rand(&s) >> 8) / (double)(1u << 24);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

double scenario_value(const struct scn_series *s, int64_t at, int64_t rollback_at)
{
	int64_t bucket = floor_div(at, SCN_STEP_MS);
	double base = s->base_lo + (s->base_hi - s->base_lo) * scenario_noise(s->seed, bucket);
	if (s->peak <= 0 || at < s->onset)
		return base;
	double f = 1.0;
	if (s->ramp > 0 && at < s->onset + s->ramp) {
		double x = (double)(at - s->onset) / (double)s->ramp;
		f = x * x * (3 - 2 * x); /* smoothstep: a fast but not instant rise */
	}
	double peak = s->peak + s->peak_noise * (2 * scenario_noise(s->seed ^ 0xa5a5a5a5u, bucket) - 1);
	double v = base + (peak - base) * f;
	if (rollback_at != INT64_MIN && at >= rollback_at && s->decay > 0)
		v = base + (v - base) * exp(-(double)(at - rollback_at) / (double)s->decay);
	return v;
}

size_t scenario_build_series(const struct scn_series *s, int64_t t0_ms, double speed,
			     int64_t now_ms, int64_t rollback_at, int64_t **t, double **v)
{
	int64_t first = floor_div(now_ms - SCN_WINDOW_MS, SCN_STEP_MS) + 1;
	int64_t last = floor_div(now_ms, SCN_STEP_MS);
	size_t n = (size_t)(last - first + 1);
	bool tail = now_ms % SCN_STEP_MS != 0;
	size_t cap = n + (tail ? 1 : 0);
	int64_t *tt = xmalloc(cap * sizeof *tt);
	double *vv = xmalloc(cap * sizeof *vv);
	size_t k = 0;
	for (int64_t b = first; b <= last; b++, k++) {
		tt[k] = b * SCN_STEP_MS;
		vv[k] = scenario_value(s, scenario_offset(t0_ms, speed, tt[k]), rollback_at);
	}
	if (tail) {
		tt[k] = now_ms;
		vv[k] = scenario_value(s, scenario_offset(t0_ms, speed, now_ms), rollback_at);
		k++;
	}
	*t = tt;
	*v = vv;
	return k;
}
