/* Journal: append and replay, torn tail, corrupt middle line, seq order,
 * and a 100,000-event replay that equals the live fold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/journal.h"
#include "core/state.h"
#include "core/util.h"

struct collect {
	struct ptrvec events;
	struct ptrvec problems; /* "LINE: msg" */
	struct state *st;
};

static void on_event(const struct wr_event *ev, void *arg)
{
	struct collect *c = arg;
	if (c->st)
		state_apply(c->st, ev);
	else
		ptrvec_push(&c->events, wr_event_dup(ev));
}

static void on_problem(const char *path, long lineno, const char *msg, void *arg)
{
	struct collect *c = arg;
	ptrvec_push(&c->problems, xasprintf("%ld: %s", lineno, msg));
}

static void collect_free(struct collect *c)
{
	ptrvec_free(&c->events, (void (*)(void *))wr_event_free);
	ptrvec_free(&c->problems, free);
}

/* Every directory the tests made, removed with what is in it at the end. */
static struct ptrvec tmp_dirs;

static char *tmp_path(const char *name)
{
	char tmpl[] = "/tmp/wr-journal-XXXXXX";
	char *dir = mkdtemp(tmpl);
	assert_non_null(dir);
	ptrvec_push(&tmp_dirs, xstrdup(dir));
	return xasprintf("%s/sub/%s", dir, name); /* sub/ checks directory creation */
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	if (remove(path) != 0)
		fprintf(stderr, "could not remove %s\n", path);
	return 0;
}

static int remove_tmp_dirs(void **state)
{
	for (size_t i = 0; i < tmp_dirs.n; i++)
		nftw(tmp_dirs.v[i], remove_one, 8, FTW_DEPTH | FTW_PHYS);
	ptrvec_free(&tmp_dirs, free);
	return 0;
}

static struct wr_event *note(const char *text)
{
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "text", text);
	return wr_event_new(EV_NOTE, "bob", d);
}

static void append_notes(struct journal *j, int n, const char *prefix)
{
	char err[256], text[64];
	for (int i = 0; i < n; i++) {
		snprintf(text, sizeof text, "%s%d", prefix, i);
		struct wr_event *ev = note(text);
		assert_true(journal_append(j, ev, err, sizeof err));
		wr_event_free(ev);
	}
	assert_true(journal_sync(j, err, sizeof err));
}

static void test_append_replay(void **state)
{
	char *path = tmp_path("j.jsonl");
	char err[256];
	struct collect c = {0};
	struct journal *j = journal_open(path, on_event, on_problem, &c, err, sizeof err);
	assert_non_null(j);
	assert_int_equal(c.events.n, 0);
	append_notes(j, 5, "n");
	assert_int_equal(journal_last_seq(j), 5);
	journal_close(j);

	j = journal_open(path, on_event, on_problem, &c, err, sizeof err);
	assert_non_null(j);
	assert_int_equal(c.events.n, 5);
	assert_int_equal(c.problems.n, 0);
	for (size_t i = 0; i < 5; i++) {
		struct wr_event *ev = c.events.v[i];
		assert_int_equal(ev->seq, i + 1);
		char want[16];
		snprintf(want, sizeof want, "n%zu", i);
		assert_string_equal(event_str(ev, "text", ""), want);
	}
	/* appends continue the sequence */
	append_notes(j, 1, "more");
	assert_int_equal(journal_last_seq(j), 6);
	journal_close(j);
	collect_free(&c);
	free(path);
}

static void write_file(const char *path, const char *text, int flags)
{
	char *dir = xstrdup(path);
	*strrchr(dir, '/') = '\0';
	mkdir(dir, 0700);
	free(dir);
	int fd = open(path, O_WRONLY | O_CREAT | flags, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void test_torn_tail_truncated(void **state)
{
	char *path = tmp_path("torn.jsonl");
	char err[256];
	struct collect c = {0};
	struct journal *j = journal_open(path, NULL, NULL, NULL, err, sizeof err);
	append_notes(j, 3, "ok");
	journal_close(j);
	struct stat before;
	stat(path, &before);
	write_file(path, "{\"seq\":4,\"ts\":\"2026-11-23T18:02:11Z\",\"kind\":\"no", O_APPEND);

	j = journal_open(path, on_event, on_problem, &c, err, sizeof err);
	assert_non_null(j);
	assert_int_equal(c.events.n, 3);
	assert_int_equal(c.problems.n, 1);
	assert_non_null(strstr(c.problems.v[0], "4: torn last line"));
	struct stat after;
	stat(path, &after);
	assert_int_equal(after.st_size, before.st_size); /* truncated back */
	append_notes(j, 1, "after");
	journal_close(j);

	collect_free(&c);
	memset(&c, 0, sizeof c);
	j = journal_open(path, on_event, on_problem, &c, err, sizeof err);
	assert_int_equal(c.events.n, 4);
	assert_int_equal(c.problems.n, 0);
	assert_string_equal(event_str(c.events.v[3], "text", ""), "after0");
	journal_close(j);
	collect_free(&c);
	free(path);
}

static void test_corrupt_middle_skipped(void **state)
{
	char *path = tmp_path("corrupt.jsonl");
	char err[256];
	struct collect c = {0};
	write_file(path,
		   "{\"seq\":1,\"ts\":\"2026-11-23T18:02:11Z\",\"kind\":\"note\",\"by\":\"a\",\"text\":\"one\"}\n"
		   "{\"seq\":2,\"ts\":\"2026-11-23T18:02:12Z\",\"kind\":\"note\",\"by\":\"a\",\"te\x01\xff garbage\n"
		   "{\"seq\":3,\"ts\":\"2026-11-23T18:02:13Z\",\"kind\":\"note\",\"by\":\"a\",\"text\":\"three\"}\n"
		   "{\"seq\":3,\"ts\":\"2026-11-23T18:02:14Z\",\"kind\":\"note\",\"by\":\"a\",\"text\":\"dup\"}\n"
		   "\n"
		   "{\"seq\":5,\"ts\":\"2026-11-23T18:02:15Z\",\"kind\":\"note\",\"by\":\"a\",\"text\":\"five\"}\n",
		   O_TRUNC);
	struct journal *j = journal_open(path, on_event, on_problem, &c, err, sizeof err);
	assert_non_null(j);
	assert_int_equal(c.events.n, 3);
	assert_string_equal(event_str(c.events.v[0], "text", ""), "one");
	assert_string_equal(event_str(c.events.v[1], "text", ""), "three");
	assert_string_equal(event_str(c.events.v[2], "text", ""), "five");
	assert_int_equal(c.problems.n, 2);
	assert_non_null(strstr(c.problems.v[0], "2: malformed JSON"));
	assert_non_null(strstr(c.problems.v[1], "4: seq 3 does not follow 3"));
	assert_int_equal(journal_last_seq(j), 5);
	/* the file itself keeps every line: nothing valid or invalid is destroyed */
	append_notes(j, 1, "six");
	assert_int_equal(journal_last_seq(j), 6);
	journal_close(j);
	collect_free(&c);
	free(path);
}

static void test_read_only_reader(void **state)
{
	char *path = tmp_path("ro.jsonl");
	char err[256];
	struct collect c = {0};
	assert_int_equal(journal_read(path, on_event, on_problem, &c, err, sizeof err), -1);
	assert_non_null(strstr(err, "No such file"));
	struct journal *j = journal_open(path, NULL, NULL, NULL, err, sizeof err);
	append_notes(j, 2, "x");
	journal_close(j);
	write_file(path, "{\"seq\":3", O_APPEND);
	assert_int_equal(journal_read(path, on_event, on_problem, &c, err, sizeof err), 0);
	assert_int_equal(c.events.n, 2);
	assert_int_equal(c.problems.n, 1); /* torn tail reported, file untouched */
	struct stat sb;
	stat(path, &sb);
	assert_true(sb.st_size > 0);
	collect_free(&c);
	free(path);
}

/* A mix of kinds, so the replay exercises every part of the fold. */
static struct wr_event *mixed_event(int i)
{
	cJSON *d = cJSON_CreateObject();
	char buf[64];
	switch (i % 5) {
	case 0:
		snprintf(buf, sizeof buf, "note %d", i);
		cJSON_AddStringToObject(d, "text", buf);
		return wr_event_new(EV_NOTE, "bob", d);
	case 1:
		snprintf(buf, sizeof buf, "fp%d", i % 200);
		cJSON_AddStringToObject(d, "id", buf);
		cJSON_AddStringToObject(d, "source", "am");
		cJSON_AddStringToObject(d, "name", "HighErrorRate");
		cJSON_AddStringToObject(d, "service", "api");
		cJSON_AddStringToObject(d, "severity", "critical");
		cJSON_AddStringToObject(d, "summary", "5xx above 5%");
		return wr_event_new(EV_ALERT_FIRED, "am", d);
	case 2:
		snprintf(buf, sizeof buf, "fp%d", (i + 100) % 200);
		cJSON_AddStringToObject(d, "id", buf);
		return wr_event_new(EV_ALERT_RESOLVED, "am", d);
	case 3:
		cJSON_AddStringToObject(d, "role", i % 2 ? "primary" : "secondary");
		cJSON_AddStringToObject(d, "user", i % 3 ? "bob" : "carol");
		return wr_event_new(EV_ROLE_ASSIGNED, "alice", d);
	default:
		snprintf(buf, sizeof buf, "1.%d", i);
		cJSON_AddStringToObject(d, "service", i % 2 ? "api" : "web");
		cJSON_AddStringToObject(d, "version", buf);
		time_format_rfc3339(1795456931000LL + (int64_t)(i % 997) * 1000, buf, sizeof buf);
		cJSON_AddStringToObject(d, "time", buf);
		return wr_event_new(EV_DEPLOY_SEEN, "ci", d);
	}
}

static void test_replay_100k_equals_live_fold(void **state)
{
	char *path = tmp_path("big.jsonl");
	char err[256];
	struct state *live = state_new();
	struct journal *j = journal_open(path, NULL, NULL, NULL, err, sizeof err);
	for (int i = 0; i < 100000; i++) {
		struct wr_event *ev = mixed_event(i);
		assert_true(journal_append(j, ev, err, sizeof err));
		assert_true(state_apply(live, ev));
		wr_event_free(ev);
		if (i % 1000 == 999)
			assert_true(journal_sync(j, err, sizeof err));
	}
	journal_close(j);

	struct collect c = {0};
	c.st = state_new();
	j = journal_open(path, on_event, on_problem, &c, err, sizeof err);
	assert_non_null(j);
	assert_int_equal(c.problems.n, 0);
	assert_int_equal(journal_count(j), 100000);
	cJSON *a = state_to_json(live), *b = state_to_json(c.st);
	assert_true(cJSON_Compare(a, b, 1));
	assert_int_equal(c.st->comms.n, 100000);
	cJSON_Delete(a);
	cJSON_Delete(b);
	journal_close(j);
	state_free(c.st);
	state_free(live);
	collect_free(&c);
	unlink(path);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_replay),
		cmocka_unit_test(test_torn_tail_truncated),
		cmocka_unit_test(test_corrupt_middle_skipped),
		cmocka_unit_test(test_read_only_reader),
		cmocka_unit_test(test_replay_100k_equals_live_fold),
	};
	return cmocka_run_group_tests(tests, NULL, remove_tmp_dirs);
}
