#include "tui/replay.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/journal.h"
#include "core/util.h"
#include "tui/console.h"
#include "tui/private.h"

#define REPLAY_POLL_MS 500
#define REPLAY_STEP_S 60

/* What the console knows of the replay: the last status the server sent,
 * and when it arrived, so the clock can run on between polls. One console
 * per process, so one of these. */
static struct {
	bool have, polling;
	bool paused, finished;
	double speed;
	double done, total;
	int64_t start, position, end;
	int64_t got_mono;
	double restart_from; /* >= 0: the console quit to start again from here (s) */
	double restart_speed; /* at the speed it had reached */
} rp = {.restart_from = -1};

static void replay_take_status(const cJSON *res)
{
	const cJSON *it;
#define NUM(name, dst) \
	if (cJSON_IsNumber(it = cJSON_GetObjectItemCaseSensitive(res, name))) \
		dst = it->valuedouble;
	double start = 0, position = 0, end = 0;
	NUM("speed", rp.speed);
	NUM("done", rp.done);
	NUM("total", rp.total);
	NUM("start", start);
	NUM("position", position);
	NUM("end", end);
#undef NUM
	rp.start = (int64_t)start;
	rp.position = (int64_t)position;
	rp.end = (int64_t)end;
	rp.paused = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "paused"));
	rp.finished = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "finished"));
	rp.got_mono = time_mono_ms();
	rp.have = true;
}

static void replay_status_reply(void *arg, bool ok, const char *error, const cJSON *result)
{
	if (ok && result) {
		replay_take_status(result);
		console_dirty(arg);
	}
}

static void replay_control_reply(void *arg, bool ok, const char *error, const cJSON *result)
{
	struct console *c = arg;
	if (!ok) {
		console_message(c, true, "replay: %s", error ? error : "refused");
		return;
	}
	replay_take_status(result);
	if (rp.finished)
		console_message(c, false, "replay finished: every event has been played");
	else
		console_message(c, false, "replay %s at %gx", rp.paused ? "paused" : "playing", rp.speed);
}

static void replay_send(struct console *c, const char *op, double arg, bool has_arg)
{
	cJSON *args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "op", op);
	if (has_arg)
		cJSON_AddNumberToObject(args, "arg", arg);
	console_intent(c, "replay", args, replay_control_reply, c);
}

static void replay_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct console *c = arg;
	rp.polling = false;
	if (c->quit || !c->client || !client_is_synced(c->client))
		return;
	cJSON *args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "op", "status");
	console_intent(c, "replay", args, replay_status_reply, c);
}

/* Keeps one status request a poll interval away. A one-shot event: the
 * console's loop frees it with its base, so nothing outlives the console. */
static void replay_poll_soon(struct console *c)
{
	if (rp.polling || !c->base)
		return;
	struct timeval tv = {0, REPLAY_POLL_MS * 1000};
	if (event_base_once(c->base, -1, EV_TIMEOUT, replay_poll_cb, c, &tv) == 0)
		rp.polling = true;
}

int64_t replay_console_now(struct console *c)
{
	if (!rp.have)
		return 0;
	int64_t pos = rp.position;
	if (!rp.paused && !rp.finished)
		pos += (int64_t)((double)(time_mono_ms() - rp.got_mono) * rp.speed);
	if (rp.end && pos > rp.end && !rp.finished)
		pos = rp.end;
	return pos;
}

bool replay_console_key(struct console *c, int key)
{
	switch (key) {
	case ' ':
		replay_send(c, "toggle", 0, false);
		return true;
	case ']':
		replay_send(c, "seek", REPLAY_STEP_S, true);
		return true;
	case '}':
		replay_send(c, "seek", 10 * REPLAY_STEP_S, true);
		return true;
	case '>':
		replay_send(c, "faster", 0, false);
		return true;
	case '<':
		replay_send(c, "slower", 0, false);
		return true;
	case '[': {
		if (!rp.have) {
			console_message(c, true, "replay: no position yet");
			return true;
		}
		/* the screens already hold the later events: start again earlier */
		double at = (double)(replay_console_now(c) - rp.start) / 1000.0 - REPLAY_STEP_S;
		rp.restart_from = at > 0 ? at : 0;
		rp.restart_speed = rp.speed;
		console_request_quit(c);
		return true;
	}
	default:
		return false;
	}
}

void replay_console_header(struct console *c, char *buf, size_t len)
{
	replay_poll_soon(c);
	if (!rp.have) {
		snprintf(buf, len, "REPLAY");
		return;
	}
	const char *mark = rp.finished ? "done" : rp.paused ? (c->utf8 ? "❚❚" : "||")
							   : (c->utf8 ? "▶" : ">");
	int64_t s = (replay_console_now(c) - rp.start) / 1000;
	if (s < 0)
		s = 0;
	snprintf(buf, len, "REPLAY %s %gx %.0f/%.0f +%02lld:%02lld:%02lld", mark, rp.speed, rp.done,
		 rp.total, (long long)(s / 3600), (long long)(s / 60 % 60), (long long)(s % 60));
}

/* ---- the verb ------------------------------------------------------------ */

static void replay_count(const struct wr_event *ev, void *arg)
{
	(*(size_t *)arg)++;
}

/* Removes what one run of the private server left in dir, so the next run
 * (after seeking back) starts from an empty journal. */
static void replay_clean_dir(const char *dir, bool remove_dir)
{
	static const char *const files[] = {"journal.jsonl", "journal.jsonl.lock", "journal.jsonl.log",
					    "server.log", "server.pid", "replay.sock"};
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		char *p = xasprintf("%s/%s", dir, files[i]);
		unlink(p);
		free(p);
	}
	if (remove_dir)
		rmdir(dir);
}

int replay_main(const char *journal, double speed, const char *config_path)
{
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "warroom replay: needs a terminal (stdin and stdout must be a tty); "
			"for a document use `warroom export --journal %s`\n", journal);
		return 2;
	}
	char err[512];
	size_t n = 0;
	if (journal_read(journal, replay_count, NULL, &n, err, sizeof err) < 0) {
		fprintf(stderr, "warroom replay: %s\n", err);
		return 1;
	}
	if (!n) {
		fprintf(stderr, "warroom replay: %s: no events to replay\n", journal);
		return 1;
	}
	/* the server runs with the same cwd, but say what was read in full */
	char *source = realpath(journal, NULL);
	if (!source) {
		fprintf(stderr, "warroom replay: %s: %s\n", journal, strerror(errno));
		return 1;
	}
	char *theme = NULL;
	if (!private_user_theme(config_path, "replay", &theme)) {
		free(source);
		return 2;
	}
	char *dir = private_dir("WARROOM_REPLAY_DIR", "warroom-replay", err, sizeof err);
	if (!dir) {
		fprintf(stderr, "warroom replay: %s\n", err);
		free(theme);
		free(source);
		return 1;
	}
	bool keep_dir = getenv("WARROOM_REPLAY_DIR") && *getenv("WARROOM_REPLAY_DIR");
	int rc = 0;
	double from = 0;
	for (;;) {
		struct config *cfg = private_config(dir, "replay.sock", theme);
		struct server_opts so = {
			.foreground = true, .journal = cfg->journal, .socket = cfg->socket,
			.replay = source, .replay_speed = speed, .replay_from_s = from,
		};
		struct private_session ps;
		char *run_dir = xstrdup(dir);
		if (private_start(&ps, run_dir, cfg, &so, "replay") != 0) {
			config_free(cfg);
			rc = 1;
			break;
		}
		memset(&rp, 0, sizeof rp);
		rp.restart_from = -1;
		struct tui_opts to = {.socket_path = cfg->socket, .read_only = true, .replay = true};
		rc = tui_main(cfg, &to);
		private_stop(&ps, cfg);
		config_free(cfg);
		replay_clean_dir(dir, false);
		if (rp.restart_from < 0 || rc != 0)
			break;
		from = rp.restart_from;
		if (rp.restart_speed > 0)
			speed = rp.restart_speed;
	}
	replay_clean_dir(dir, !keep_dir);
	free(dir);
	free(theme);
	free(source);
	return rc;
}
