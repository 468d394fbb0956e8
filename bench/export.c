/* bench/export: time to export a 100,000-event journal as md, json and html
 * (target <= 1 s each). Prints figures; asserts nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/export.h"
#include "core/journal.h"
#include "core/util.h"

#define EVENTS 100000

static struct wr_event *make_event(int i)
{
	cJSON *d = cJSON_CreateObject();
	char buf[96];
	switch (i % 6) {
	case 0:
		snprintf(buf, sizeof buf, "fp%d", i % 300);
		cJSON_AddStringToObject(d, "id", buf);
		cJSON_AddStringToObject(d, "source", "am");
		cJSON_AddStringToObject(d, "name", "HighErrorRate");
		cJSON_AddStringToObject(d, "service", "api");
		cJSON_AddStringToObject(d, "severity", "critical");
		cJSON_AddStringToObject(d, "summary", "5xx ratio above 5% <for> 5 minutes | checkout");
		return wr_event_new(EV_ALERT_FIRED, "am", d);
	case 1:
		cJSON_AddStringToObject(d, "role", i % 4 == 1 ? "primary" : "secondary");
		cJSON_AddStringToObject(d, "user", i % 3 ? "bob" : "carol");
		return wr_event_new(EV_ROLE_ASSIGNED, "alice", d);
	case 2:
		snprintf(buf, sizeof buf, "2.%d.0", i);
		cJSON_AddStringToObject(d, "service", "api");
		cJSON_AddStringToObject(d, "version", buf);
		time_format_rfc3339(time_now_ms() - (EVENTS - i) * 100LL, buf, sizeof buf);
		cJSON_AddStringToObject(d, "time", buf);
		return wr_event_new(EV_DEPLOY_SEEN, "ci", d);
	default:
		snprintf(buf, sizeof buf, "note %d: still looking at the api pods", i);
		cJSON_AddStringToObject(d, "text", buf);
		return wr_event_new(EV_NOTE, "bob", d);
	}
}

int main(void)
{
	char tmpl[] = "/tmp/wr-bench-export-XXXXXX";
	char *dir = mkdtemp(tmpl);
	char *path = xasprintf("%s/j.jsonl", dir);
	char err[256];
	struct journal *j = journal_open(path, NULL, NULL, NULL, err, sizeof err);
	if (!j) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	for (int i = 0; i < EVENTS; i++) {
		struct wr_event *ev = make_event(i);
		journal_append(j, ev, err, sizeof err);
		wr_event_free(ev);
	}
	journal_close(j);
	const char *names[] = {"md", "json", "html"};
	for (int f = 0; f < 3; f++) {
		char *out = xasprintf("%s/out.%s", dir, names[f]);
		FILE *fp = fopen(out, "w");
		int64_t t0 = time_mono_ms();
		int rc = export_journal(path, (enum export_format)export_format_from_name(names[f]), fp,
					err, sizeof err);
		fclose(fp);
		int64_t dt = time_mono_ms() - t0;
		FILE *sz = fopen(out, "r");
		fseek(sz, 0, SEEK_END);
		long bytes = ftell(sz);
		fclose(sz);
		printf("export %-4s of %d events: %6lld ms  (%5.1f MB written; target <= 1000 ms)%s%s\n",
		       names[f], EVENTS, (long long)dt, bytes / 1048576.0, rc ? " FAILED: " : "",
		       rc ? err : "");
		unlink(out);
		free(out);
	}
	unlink(path);
	rmdir(dir);
	free(path);
	return 0;
}
