/* Spike onset and suspect ranking on synthetic series: steps, ramps, noise,
 * two spikes, gaps, and deploys before, at and after the onset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/correlate.h"

#define T0 ((int64_t)1795456800000LL)
#define STEP ((int64_t)30000)
#define MIN ((int64_t)60000)
#define N 240

static int64_t ts[N];
static double vs[N];
static uint64_t rng;

/* Deterministic noise: splitmix64, and a normal deviate from 12 uniforms. */
static double uniform(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (double)(z >> 11) / 9007199254740992.0;
}

static double gauss(void)
{
	double s = 0;
	for (int i = 0; i < 12; i++)
		s += uniform();
	return s - 6;
}

/* Baseline `base` with normal noise of `sd`, never below zero. */
static void fill(double base, double sd, uint64_t seed)
{
	rng = seed;
	for (size_t i = 0; i < N; i++) {
		ts[i] = T0 + (int64_t)i * STEP;
		vs[i] = fmax(0, base + sd * gauss());
	}
}

/* Adds a plateau of height `add` over [from, to), ramping up over `ramp`
 * samples (0: a step). */
static void add_rise(size_t from, size_t to, size_t ramp, double add)
{
	for (size_t i = from; i < to && i < N; i++) {
		double f = ramp && i - from < ramp ? (double)(i - from + 1) / (double)(ramp + 1) : 1;
		vs[i] += add * f;
	}
}

static void test_step(void **state)
{
	fill(0.005, 0.0005, 1);
	add_rise(150, N, 0, 0.095);
	struct cp_spike sp;
	assert_true(correlate_find_spike(ts, vs, N, &sp));
	/* CUSUM can reach one sample back when that sample is high in the noise */
	assert_true(sp.onset_index >= 149 && sp.onset_index <= 150);
	assert_true(sp.onset == ts[sp.onset_index]);
	assert_true(fabs(sp.baseline - 0.005) < 0.0005);
	assert_true(fabs(sp.peak - 0.10) < 0.005);
	/* a 0.095 shift over 0.0005 noise: ~190 sigma */
	assert_true(sp.magnitude > 100 && sp.magnitude < 300);
}

/* No noise at all: MAD is 0, the floor keeps the shift finite and the
 * onset is exact. */
static void test_step_flat_baseline(void **state)
{
	fill(0.004, 0, 2);
	add_rise(200, N, 0, 0.116);
	struct cp_spike sp;
	assert_true(correlate_find_spike(ts, vs, N, &sp));
	assert_int_equal(sp.onset_index, 200);
	assert_true(isfinite(sp.magnitude) && sp.magnitude >= 4);
	assert_true(fabs(sp.baseline - 0.004) < 1e-12);
	assert_true(fabs(sp.peak - 0.12) < 1e-9);
	/* and from exactly zero errors */
	fill(0, 0, 2);
	add_rise(200, N, 0, 0.02);
	assert_true(correlate_find_spike(ts, vs, N, &sp));
	assert_int_equal(sp.onset_index, 200);
	assert_true(isfinite(sp.magnitude));
}

/* A ramp is dated at its foot, not where it crosses half its height. */
static void test_ramp(void **state)
{
	fill(0.005, 0.0005, 3);
	add_rise(120, N, 20, 0.08);
	struct cp_spike sp;
	assert_true(correlate_find_spike(ts, vs, N, &sp));
	size_t half = 0; /* first sample above half the rise */
	while (vs[half] < 0.005 + 0.04)
		half++;
	assert_true(half >= 128);
	assert_true(sp.onset_index >= 119 && sp.onset_index <= 122);
	assert_true(sp.peak > 0.08);
}

static void test_noise_is_no_spike(void **state)
{
	struct cp_spike sp;
	for (uint64_t seed = 10; seed < 20; seed++) {
		fill(0.005, 0.001, seed);
		assert_false(correlate_find_spike(ts, vs, N, &sp));
	}
	/* lone outliers, even large ones, are not a shift */
	fill(0.005, 0.001, 21);
	for (size_t i = 20; i < N; i += 40)
		vs[i] = 0.09;
	assert_false(correlate_find_spike(ts, vs, N, &sp));
	/* a perfectly flat line, all zeros, a fall, too few samples */
	fill(0.01, 0, 22);
	assert_false(correlate_find_spike(ts, vs, N, &sp));
	fill(0, 0, 22);
	assert_false(correlate_find_spike(ts, vs, N, &sp));
	fill(0.10, 0.001, 23);
	for (size_t i = 150; i < N; i++)
		vs[i] = 0.005;
	assert_false(correlate_find_spike(ts, vs, N, &sp));
	fill(0.005, 0, 24);
	add_rise(5, N, 0, 0.1);
	assert_false(correlate_find_spike(ts, vs, 10, &sp));
	assert_false(correlate_find_spike(ts, vs, 0, &sp));
	assert_false(correlate_find_spike(NULL, vs, N, &sp));
}

/* A rise above a small drift of the baseline is not enough: it must be
 * large against the noise. */
static void test_small_shift_is_no_spike(void **state)
{
	fill(0.005, 0.001, 30);
	add_rise(150, N, 0, 0.002); /* two sigma */
	struct cp_spike sp;
	assert_false(correlate_find_spike(ts, vs, N, &sp));
}

/* A perfectly flat line has no noise to measure against: the spread is
 * floored at a share of its level, so a few per cent more is no spike
 * while a real rise still is. */
static void test_flat_line_floor(void **state)
{
	struct cp_spike sp;
	fill(0.01, 0, 31);
	add_rise(150, N, 0, 0.0004);
	assert_false(correlate_find_spike(ts, vs, N, &sp));
	fill(0.01, 0, 31);
	add_rise(150, N, 0, 0.004);
	assert_true(correlate_find_spike(ts, vs, N, &sp));
	assert_int_equal(sp.onset_index, 150);
}

/* Two spikes: the most significant wins, i.e. the largest shift measured
 * in robust sigmas of its own baseline's noise. That is the one least
 * likely to be chance, and what `magnitude` reports; with equal noise it is
 * also the larger one, whichever comes first. */
static void test_two_spikes(void **state)
{
	struct cp_spike sp;
	fill(0.005, 0.0005, 40);
	add_rise(60, 80, 0, 0.03);
	add_rise(160, 180, 0, 0.12);
	assert_true(correlate_find_spike(ts, vs, N, &sp));
	assert_true(sp.onset_index >= 159 && sp.onset_index <= 160);
	assert_true(sp.peak > 0.11);

	fill(0.005, 0.0005, 41);
	add_rise(60, 80, 0, 0.12);
	add_rise(160, 180, 0, 0.03);
	assert_true(correlate_find_spike(ts, vs, N, &sp));
	assert_true(sp.onset_index >= 59 && sp.onset_index <= 60);

	/* where size and significance disagree, significance decides: +2.5
	 * points over a quiet 0.5 % beats +5 points over a 5 % that swings by
	 * a point either way (the noisy part comes first, so that no step up
	 * joins the two) */
	fill(0.005, 0.0002, 42);
	rng = 43;
	for (size_t i = 0; i < 120; i++)
		vs[i] = 0.05 + 0.01 * gauss();
	add_rise(40, 55, 0, 0.05);
	add_rise(180, 200, 0, 0.025);
	assert_true(correlate_find_spike(ts, vs, N, &sp));
	assert_true(sp.onset_index >= 179 && sp.onset_index <= 180);
	assert_true(sp.peak < 0.05);
}

/* A spike that is over (rolled back) is still found, with its peak. */
static void test_spike_rolled_back(void **state)
{
	fill(0.005, 0.0005, 50);
	add_rise(200, 208, 0, 0.115);
	struct cp_spike sp;
	assert_true(correlate_find_spike(ts, vs, N, &sp));
	assert_true(sp.onset_index >= 199 && sp.onset_index <= 200);
	assert_true(sp.peak > 0.11);
	/* a young spike: three samples in */
	fill(0.005, 0.0005, 51);
	add_rise(N - 3, N, 0, 0.115);
	assert_true(correlate_find_spike(ts, vs, N, &sp));
	assert_true(sp.onset_index >= N - 4 && sp.onset_index <= N - 3);
}

static void test_nan_and_inf(void **state)
{
	fill(0.005, 0.0005, 60);
	add_rise(150, N, 0, 0.095);
	for (size_t i = 3; i < N; i += 17)
		vs[i] = NAN;
	vs[100] = INFINITY;
	vs[101] = -INFINITY;
	vs[150] = NAN; /* the first elevated sample is a gap */
	vs[151] = NAN;
	vs[200] = INFINITY;
	struct cp_spike sp;
	assert_true(correlate_find_spike(ts, vs, N, &sp));
	assert_true(isfinite(vs[sp.onset_index]));
	assert_true(sp.onset_index >= 149 && sp.onset_index <= 152);
	assert_true(sp.onset == ts[sp.onset_index]);
	assert_true(isfinite(sp.baseline) && isfinite(sp.peak) && isfinite(sp.magnitude));
	assert_true(sp.peak < 0.11);
	/* nothing but gaps */
	for (size_t i = 0; i < N; i++)
		vs[i] = NAN;
	assert_false(correlate_find_spike(ts, vs, N, &sp));
}

/* ---- ranking -------------------------------------------------------------- */

#define ONSET (T0 + 200 * STEP)

static const struct cr_spike api_spike = {
	.service = "api", .onset = ONSET, .magnitude = 60, .baseline = 0.004, .peak = 0.12};

static bool ranked(const struct cr_deploy *deps, const struct cr_suspect *sus, size_t n,
		   const char *service, const char *version)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(deps[sus[i].deploy].service, service) &&
		    !strcmp(deps[sus[i].deploy].version, version))
			return true;
	return false;
}

static void test_rank_after_onset_never(void **state)
{
	const struct cr_deploy deps[] = {
		{"api", "2.4.0", ONSET - 5 * MIN},
		{"api", "2.5.0", ONSET + 1},         /* a moment after: never */
		{"web", "1.4.1", ONSET + 40000},
		{"db", "7.1", ONSET},                /* at the onset: may have caused it */
	};
	const char *firing[] = {"api", "web", "db"};
	struct cr_suspect sus[8];
	size_t n = correlate_rank(deps, 4, &api_spike, 1, firing, 3, sus, 8);
	assert_int_equal(n, 2);
	assert_true(ranked(deps, sus, n, "api", "2.4.0"));
	assert_true(ranked(deps, sus, n, "db", "7.1"));
	assert_false(ranked(deps, sus, n, "api", "2.5.0"));
	assert_false(ranked(deps, sus, n, "web", "1.4.1"));
	/* the later api deploy does not replace 2.4.0 as what was running */
	assert_string_equal(deps[sus[0].deploy].version, "2.4.0");
}

static void test_rank_no_spike_no_suspect(void **state)
{
	const struct cr_deploy deps[] = {{"api", "2.4.0", ONSET - 5 * MIN}};
	const char *firing[] = {"api"};
	struct cr_suspect sus[4];
	assert_int_equal(correlate_rank(deps, 1, NULL, 0, firing, 1, sus, 4), 0);
	assert_int_equal(correlate_rank(deps, 1, &api_spike, 0, firing, 1, sus, 4), 0);
	assert_int_equal(correlate_rank(deps, 0, &api_spike, 1, firing, 1, sus, 4), 0);
	assert_int_equal(correlate_rank(deps, 1, &api_spike, 1, firing, 1, sus, 0), 0);
}

/* Two services deployed near the onset: the one whose series spiked and
 * whose alerts fire ranks first, even though the other came closer. */
static void test_rank_service_match(void **state)
{
	const struct cr_deploy deps[] = {
		{"web", "1.4.1", ONSET - 1 * MIN},
		{"api", "2.4.0", ONSET - 4 * MIN},
	};
	const char *firing[] = {"api"};
	struct cr_suspect sus[8];
	size_t n = correlate_rank(deps, 2, &api_spike, 1, firing, 1, sus, 8);
	assert_int_equal(n, 2);
	assert_string_equal(deps[sus[0].deploy].service, "api");
	assert_string_equal(deps[sus[1].deploy].service, "web");
	assert_true(sus[0].score > sus[1].score);
	assert_true(sus[0].score <= 1 && sus[1].score > 0);
	assert_non_null(strstr(sus[0].reason, "api has firing alerts"));
	assert_non_null(strstr(sus[1].reason, "a different service"));
	assert_null(strstr(sus[1].reason, "firing"));

	/* the series' service unknown: the firing alerts alone decide */
	struct cr_spike anon = api_spike;
	anon.service = NULL;
	n = correlate_rank(deps, 2, &anon, 1, firing, 1, sus, 8);
	assert_int_equal(n, 2);
	assert_string_equal(deps[sus[0].deploy].service, "api");

	/* same relation to alerts and series: the closer one leads */
	const char *both[] = {"api", "web"};
	struct cr_spike anon2 = anon;
	n = correlate_rank(deps, 2, &anon2, 1, both, 2, sus, 8);
	assert_string_equal(deps[sus[0].deploy].service, "web");

	/* max bounds the output, best first */
	n = correlate_rank(deps, 2, &api_spike, 1, firing, 1, sus, 1);
	assert_int_equal(n, 1);
	assert_string_equal(deps[sus[0].deploy].service, "api");
}

/* Closer to the onset is more suspect; a larger shift, surer; a deploy
 * from long before is no suspect. */
static void test_rank_time_and_magnitude(void **state)
{
	const struct cr_deploy near[] = {{"api", "2.4.0", ONSET - 3 * MIN}};
	const struct cr_deploy far[] = {{"api", "2.4.0", ONSET - 50 * MIN}};
	const struct cr_deploy old[] = {{"api", "2.4.0", ONSET - 5 * 60 * MIN}};
	struct cr_suspect a, b;
	assert_int_equal(correlate_rank(near, 1, &api_spike, 1, NULL, 0, &a, 1), 1);
	assert_int_equal(correlate_rank(far, 1, &api_spike, 1, NULL, 0, &b, 1), 1);
	assert_true(a.score > b.score);
	assert_int_equal(correlate_rank(old, 1, &api_spike, 1, NULL, 0, &b, 1), 0);
	struct cr_spike small = api_spike;
	small.magnitude = 5;
	assert_int_equal(correlate_rank(near, 1, &small, 1, NULL, 0, &b, 1), 1);
	assert_true(a.score > b.score);
}

static void test_rank_reason(void **state)
{
	const struct cr_deploy deps[] = {
		{"api", "2.3.0", ONSET - 90 * MIN},
		{"api", "2.4.0", ONSET - 3 * MIN - 20000},
	};
	const char *firing[] = {"api"};
	struct cr_suspect sus[2];
	assert_int_equal(correlate_rank(deps, 2, &api_spike, 1, firing, 1, sus, 2), 1);
	assert_string_equal(sus[0].reason,
			    "deployed 3m before the api error-rate rise (0.4% \u2192 12%); "
			    "api has firing alerts");
	/* levels unknown: no figures, still words */
	struct cr_spike bare = {.service = "api", .onset = ONSET, .magnitude = 20};
	const struct cr_deploy one[] = {{"api", "2.4.0", ONSET - 40000}};
	assert_int_equal(correlate_rank(one, 1, &bare, 1, NULL, 0, sus, 2), 1);
	assert_string_equal(sus[0].reason, "deployed 40s before the api error-rate rise");
}

static void test_rank_superseded(void **state)
{
	/* api 2.3.1 replaced 2.3.0 before the onset: only 2.3.1 was running */
	const struct cr_deploy deps[] = {
		{"api", "2.3.0", ONSET - 10 * MIN},
		{"api", "2.3.1", ONSET - 6 * MIN},
	};
	struct cr_suspect sus[4];
	size_t n = correlate_rank(deps, 2, &api_spike, 1, NULL, 0, sus, 4);
	assert_int_equal(n, 1);
	assert_string_equal(deps[sus[0].deploy].version, "2.3.1");
	assert_string_equal(sus[0].last_good, "2.3.0");
}

static void test_last_good(void **state)
{
	/* out of time order on purpose; a redeploy of the suspect's version
	 * is no rollback target */
	const struct cr_deploy deps[] = {
		{"api", "2.4.0", ONSET - 5 * MIN},
		{"api", "2.2.0", ONSET - 300 * MIN},
		{"web", "1.4.0", ONSET - 20 * MIN},
		{"api", "2.3.0", ONSET - 90 * MIN},
		{"api", "2.4.0", ONSET - 30 * MIN},
	};
	const char *firing[] = {"api"};
	struct cr_suspect sus[8];
	size_t n = correlate_rank(deps, 5, &api_spike, 1, firing, 1, sus, 8);
	assert_true(n >= 1);
	assert_int_equal(sus[0].deploy, 0);
	assert_non_null(sus[0].last_good);
	assert_string_equal(sus[0].last_good, "2.3.0");
	assert_ptr_equal(sus[0].last_good, deps[3].version);
	/* the web deploy is a lesser suspect with no earlier web deploy */
	for (size_t i = 0; i < n; i++)
		if (!strcmp(deps[sus[i].deploy].service, "web"))
			assert_null(sus[i].last_good);

	/* the first deploy of a service has no last good version */
	const struct cr_deploy first[] = {{"api", "1.0.0", ONSET - 5 * MIN}};
	assert_int_equal(correlate_rank(first, 1, &api_spike, 1, firing, 1, sus, 8), 1);
	assert_null(sus[0].last_good);

	/* a version whose own time saw an api spike start was not good */
	const struct cr_deploy hist[] = {
		{"api", "2.2.0", ONSET - 300 * MIN},
		{"api", "2.3.0", ONSET - 100 * MIN},
		{"api", "2.4.0", ONSET - 5 * MIN},
	};
	const struct cr_spike two[] = {
		{.service = "api", .onset = ONSET - 60 * MIN, .magnitude = 30},
		api_spike,
	};
	n = correlate_rank(hist, 3, two, 2, firing, 1, sus, 8);
	assert_true(n >= 1);
	assert_string_equal(hist[sus[0].deploy].version, "2.4.0");
	assert_string_equal(sus[0].last_good, "2.2.0");
}

/* Found onset into ranking, the way the server does it. */
static void test_end_to_end(void **state)
{
	fill(0.004, 0.0006, 70);
	add_rise(200, N, 2, 0.116);
	struct cp_spike sp;
	assert_true(correlate_find_spike(ts, vs, N, &sp));
	const struct cr_deploy deps[] = {
		{"api", "2.3.0", ts[30]},
		{"worker", "5.1.0", ts[120]},
		{"api", "2.4.0", ts[196] + 1234},
		{"web", "1.4.1", ts[202]},
	};
	struct cr_spike cs = {.service = "api", .onset = sp.onset, .magnitude = sp.magnitude,
			      .baseline = sp.baseline, .peak = sp.peak};
	const char *firing[] = {"api", "web"};
	struct cr_suspect sus[8];
	size_t n = correlate_rank(deps, 4, &cs, 1, firing, 2, sus, 8);
	assert_true(n >= 1);
	assert_string_equal(deps[sus[0].deploy].version, "2.4.0");
	assert_string_equal(sus[0].last_good, "2.3.0");
	assert_false(ranked(deps, sus, n, "web", "1.4.1"));
	for (size_t i = 1; i < n; i++)
		assert_true(sus[i].score <= sus[i - 1].score);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_step),
		cmocka_unit_test(test_step_flat_baseline),
		cmocka_unit_test(test_ramp),
		cmocka_unit_test(test_noise_is_no_spike),
		cmocka_unit_test(test_small_shift_is_no_spike),
		cmocka_unit_test(test_flat_line_floor),
		cmocka_unit_test(test_two_spikes),
		cmocka_unit_test(test_spike_rolled_back),
		cmocka_unit_test(test_nan_and_inf),
		cmocka_unit_test(test_rank_after_onset_never),
		cmocka_unit_test(test_rank_no_spike_no_suspect),
		cmocka_unit_test(test_rank_service_match),
		cmocka_unit_test(test_rank_time_and_magnitude),
		cmocka_unit_test(test_rank_reason),
		cmocka_unit_test(test_rank_superseded),
		cmocka_unit_test(test_last_good),
		cmocka_unit_test(test_end_to_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
