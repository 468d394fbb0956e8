/* bench/journal: append throughput with an fsync per event and with group
 * commit, replay time for 100,000 events, and the memory the folded state of
 * 100,000 events takes. Prints figures; asserts nothing (machines are noisy).
 *   usage: journal [DIR]   (default: a temp dir under /tmp) */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/journal.h"
#include "core/state.h"
#include "core/util.h"

#define REPLAY_EVENTS 100000
#define BATCH 256 /* events per loop pass in the group-commit run */

static struct wr_event *make_event(int i)
{
	cJSON *d = cJSON_CreateObject();
	char buf[96];
	if (i % 4 == 0) {
		snprintf(buf, sizeof buf, "fp%d", i % 500);
		cJSON_AddStringToObject(d, "id", buf);
		cJSON_AddStringToObject(d, "source", "alertmanager");
		cJSON_AddStringToObject(d, "name", "HighErrorRate");
		cJSON_AddStringToObject(d, "service", "api");
		cJSON_AddStringToObject(d, "severity", "critical");
		cJSON_AddStringToObject(d, "summary", "5xx ratio above 5% for 5 minutes");
		return wr_event_new(EV_ALERT_FIRED, "alertmanager", d);
	}
	snprintf(buf, sizeof buf, "note %d: checked the api pods, error rate still climbing", i);
	cJSON_AddStringToObject(d, "text", buf);
	return wr_event_new(EV_NOTE, i % 2 ? "bob" : "alice", d);
}

static double rate_run(const char *path, int n, bool group)
{
	char err[256];
	unlink(path);
	struct journal *j = journal_open(path, NULL, NULL, NULL, err, sizeof err);
	if (!j) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	journal_set_group_commit(j, group);
	int64_t t0 = time_mono_ms();
	for (int i = 0; i < n; i++) {
		struct wr_event *ev = make_event(i);
		if (!journal_append(j, ev, err, sizeof err)) {
			fprintf(stderr, "%s\n", err);
			exit(1);
		}
		wr_event_free(ev);
		if (group && i % BATCH == BATCH - 1)
			journal_sync(j, err, sizeof err);
	}
	journal_sync(j, err, sizeof err);
	int64_t dt = time_mono_ms() - t0;
	journal_close(j);
	return n / (dt > 0 ? dt / 1000.0 : 0.001);
}

static void fold(const struct wr_event *ev, void *arg)
{
	state_apply(arg, ev);
}

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/wr-bench-XXXXXX";
	const char *dir = argc > 1 ? argv[1] : mkdtemp(tmpl);
	char *path = xasprintf("%s/bench.jsonl", dir);

	double per_event = rate_run(path, 2000, false);
	double group = rate_run(path, REPLAY_EVENTS, true);

	struct mallinfo2 before = mallinfo2();
	struct state *st = state_new();
	char err[256];
	int64_t t0 = time_mono_ms();
	if (journal_read(path, fold, NULL, st, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	int64_t replay_ms = time_mono_ms() - t0;
	struct mallinfo2 after = mallinfo2();
	double state_mb = (double)(after.uordblks - before.uordblks) / (1024.0 * 1024.0);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);

	printf("journal append, fsync per event:  %10.0f events/s\n", per_event);
	printf("journal append, group commit:     %10.0f events/s   (target >= 50000; %d per sync)\n",
	       group, BATCH);
	printf("replay of %d events:          %10lld ms         (target <= 200)\n", REPLAY_EVENTS,
	       (long long)replay_ms);
	printf("state memory for %d events:   %10.1f MB         (target <= 32)\n", REPLAY_EVENTS,
	       state_mb);
	printf("peak RSS of this process:         %10.1f MB\n", ru.ru_maxrss / 1024.0);
	printf("folded: %llu comms entries, %zu alerts\n", (unsigned long long)st->comms.n,
	       st->alerts.n);
	state_free(st);
	unlink(path);
	if (argc <= 1)
		rmdir(dir);
	free(path);
	return 0;
}
