/* warroom: argv dispatch. One table lists every verb with its usage, its
 * argument counts, the options it accepts and the function that runs it.
 * Options may come before or after the arguments; `--` ends them. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/backend.h"
#include "core/client.h"
#include "core/config.h"
#include "core/export.h"
#include "core/journal.h"
#include "core/server.h"
#include "core/text.h"
#include "core/util.h"
#include "tui/demo.h"
#include "tui/join.h"
#include "tui/replay.h"
#include "tui/tui.h"

#define CALL_TIMEOUT_MS 15000
#define SERVE_WAIT_MS 3000

/* X(ENUM, "name", takes a value, "VALUE", "help") */
#define OPTION_LIST(X) \
	X(OPT_CONFIG, "config", true, "FILE", "configuration file") \
	X(OPT_HELP, "help", false, NULL, "show this help") \
	X(OPT_VERSION, "version", false, NULL, "print the version") \
	X(OPT_READ_ONLY, "read-only", false, NULL, "attach as a viewer") \
	X(OPT_FOREGROUND, "foreground", false, NULL, "do not daemonize (systemd, tests)") \
	X(OPT_JOURNAL, "journal", true, "FILE", "journal file (overrides [incident] journal)") \
	X(OPT_SOCKET, "socket", true, "PATH", "socket path (overrides [incident] socket)") \
	X(OPT_JSON, "json", false, NULL, "print JSON") \
	X(OPT_TO, "to", true, "VERSION", "version to roll back to (default: last good)") \
	X(OPT_YES, "yes", false, NULL, "do not ask for confirmation") \
	X(OPT_DRY_RUN, "dry-run", false, NULL, "show what would run, run nothing") \
	X(OPT_STATE, "state", true, "STATE", "investigating | identified | monitoring | resolved") \
	X(OPT_MESSAGE, "message", true, "TEXT", "the update's text") \
	X(OPT_TARGET, "target", true, "NAME", "one [status NAME] target (default: all)") \
	X(OPT_MINUTES, "minutes", true, "N", "silence duration in minutes (default 60)") \
	X(OPT_COMMENT, "comment", true, "TEXT", "silence comment") \
	X(OPT_FORMAT, "format", true, "md|json|html", "document format (default md)") \
	X(OPT_OUTPUT, "output", true, "FILE", "write to FILE (also -o FILE; default stdout)") \
	X(OPT_SPEED, "speed", true, "N", "play N times faster (default 1)")

enum opt_id {
#define X(e, name, arg, meta, help) e,
	OPTION_LIST(X)
#undef X
	OPT__COUNT
};

struct opt_def {
	const char *name;
	bool has_arg;
	const char *meta, *help;
};

static const struct opt_def opt_defs[OPT__COUNT] = {
#define X(e, nm, arg, mt, hp) [e] = {.name = nm, .has_arg = arg, .meta = mt, .help = hp},
	OPTION_LIST(X)
#undef X
};

#define O(x) (1u << (x))
#define COMMON_OPTS (O(OPT_CONFIG) | O(OPT_HELP))

struct cli {
	const struct verb *verb;
	char **args;
	int nargs;
	const char *val[OPT__COUNT];
	bool set[OPT__COUNT];
	int argc; /* raw, for verbs that parse their own */
	char **argv;
};

struct verb {
	const char *name, *usage, *help;
	int min_args, max_args;  /* -1: any number */
	unsigned opts;           /* O(OPT_...) accepted besides the common ones */
	bool raw;                /* gets argv untouched (parses its own) */
	int (*run)(struct cli *cli);
};

static const struct verb verbs[];
static const struct verb default_verb;

/* ---- helpers ------------------------------------------------------------- */

static int usage_error(const struct verb *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_error(const struct verb *v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("warroom: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	if (v && v->name)
		fprintf(stderr, "usage: warroom %s\n       warroom %s --help\n", v->usage, v->name);
	else
		fprintf(stderr, "see warroom --help\n");
	return 2;
}

static struct config *load_config(const struct cli *cli)
{
	char err[1024] = "";
	struct config *cfg = config_load(cli->val[OPT_CONFIG], err, sizeof err);
	if (cfg && !backend_check_config(cfg, err, sizeof err)) {
		config_free(cfg);
		cfg = NULL;
	}
	if (!cfg)
		fprintf(stderr, "warroom: %s\n", err[0] ? err : "cannot read the configuration");
	return cfg;
}

static const char *socket_of(const struct config *cfg, char *buf, size_t len)
{
	const char *p = server_socket_path(cfg, buf, len);
	if (!p)
		fprintf(stderr, "warroom: socket path too long; set [incident] socket\n");
	return p;
}

/* Prints external text safely: it may carry escape sequences. */
static void put_safe(FILE *f, const char *s)
{
	char *t = text_sanitize(s ? s : "", true);
	fputs(t, f);
	free(t);
}

/* Sends one intent; prints refusals. Returns an exit code; *result set on 0. */
static int call(const struct config *cfg, const char *intent, cJSON *args, cJSON **result)
{
	char sock[4096], err[1024] = "";
	if (!socket_of(cfg, sock, sizeof sock)) {
		cJSON_Delete(args);
		return 2;
	}
	cJSON *res = NULL;
	int rc = client_call(sock, intent, args, CALL_TIMEOUT_MS, &res, err, sizeof err);
	if (rc == 2) {
		fprintf(stderr, "warroom: no session at %s; start one with `warroom serve` or run "
			"`warroom`\n", sock);
		return 1;
	}
	if (rc != 0) {
		fputs("warroom: ", stderr);
		put_safe(stderr, err);
		fputc('\n', stderr);
		return 1;
	}
	if (result)
		*result = res;
	else
		cJSON_Delete(res);
	return 0;
}

/* Loads the config and sends the intent; for verbs that print nothing. */
static int simple_intent(const struct cli *cli, const char *intent, cJSON *args)
{
	struct config *cfg = load_config(cli);
	if (!cfg) {
		cJSON_Delete(args);
		return 2;
	}
	int rc = call(cfg, intent, args, NULL);
	config_free(cfg);
	return rc;
}

static bool session_alive(const char *sock)
{
	return client_probe(sock);
}

static const char *json_str(const cJSON *o, const char *k, const char *def)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(it) ? it->valuestring : def;
}

/* ---- verbs --------------------------------------------------------------- */

static int spawn_server(const struct cli *cli, const char *sock)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "warroom: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		char *argv[6];
		int n = 0;
		argv[n++] = "warroom";
		argv[n++] = "serve";
		if (cli->val[OPT_CONFIG]) {
			argv[n++] = "--config";
			argv[n++] = (char *)cli->val[OPT_CONFIG];
		}
		argv[n] = NULL;
		execv("/proc/self/exe", argv);
		fprintf(stderr, "warroom: cannot start the server: %s\n", strerror(errno));
		_exit(1);
	}
	/* serve daemonizes: its first process exits once the socket is ready. */
	int64_t deadline = time_mono_ms() + SERVE_WAIT_MS;
	int status = 0;
	bool reaped = false;
	while (time_mono_ms() < deadline) {
		if (!reaped && waitpid(pid, &status, WNOHANG) == pid) {
			reaped = true;
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
				fprintf(stderr, "warroom: the session server did not start\n");
				return 1;
			}
		}
		if (reaped && session_alive(sock))
			return 0;
		usleep(20000);
	}
	fprintf(stderr, "warroom: the session server did not answer on %s within %d s\n", sock,
		SERVE_WAIT_MS / 1000);
	return 1;
}

static int verb_default(struct cli *cli)
{
	struct config *cfg = load_config(cli);
	if (!cfg)
		return 2;
	char sock[4096];
	if (!socket_of(cfg, sock, sizeof sock)) {
		config_free(cfg);
		return 2;
	}
	int rc = 0;
	if (!session_alive(sock))
		rc = spawn_server(cli, sock);
	if (rc == 0) {
		struct tui_opts o = {.socket_path = sock, .read_only = cli->set[OPT_READ_ONLY]};
		rc = tui_main(cfg, &o);
	}
	config_free(cfg);
	return rc;
}

static int verb_attach(struct cli *cli)
{
	struct config *cfg = load_config(cli);
	if (!cfg)
		return 2;
	char sock[4096];
	int rc = 1;
	if (!socket_of(cfg, sock, sizeof sock))
		rc = 2;
	else if (!session_alive(sock))
		fprintf(stderr, "warroom: no session at %s; start one with `warroom serve` or run "
			"`warroom`\n", sock);
	else {
		struct tui_opts o = {.socket_path = sock, .read_only = cli->set[OPT_READ_ONLY]};
		rc = tui_main(cfg, &o);
	}
	config_free(cfg);
	return rc;
}

static int verb_serve(struct cli *cli)
{
	struct config *cfg = load_config(cli);
	if (!cfg)
		return 2;
	struct server_opts o = {.foreground = cli->set[OPT_FOREGROUND],
				.journal = cli->val[OPT_JOURNAL],
				.socket = cli->val[OPT_SOCKET]};
	int rc = server_main(cfg, &o);
	config_free(cfg);
	return rc;
}

static void print_summary(const cJSON *st)
{
	const cJSON *inc = cJSON_GetObjectItemCaseSensitive(st, "incident");
	printf("%s · ", json_str(inc, "severity", "SEV?"));
	put_safe(stdout, json_str(inc, "title", "?"));
	printf(" · %s", json_str(inc, "state", "?"));
	const char *declared = json_str(inc, "declared", NULL);
	if (declared)
		printf(" · since %s", declared);
	putchar('\n');

	const cJSON *roles = cJSON_GetObjectItemCaseSensitive(st, "roles");
	for (int r = 0; r < ROLE__COUNT; r++) {
		const cJSON *h = cJSON_GetObjectItemCaseSensitive(roles, role_id((enum role)r));
		printf("  %-20s ", role_label((enum role)r));
		if (cJSON_IsString(h))
			put_safe(stdout, h->valuestring);
		else if (cJSON_IsArray(h) && cJSON_GetArraySize(h) > 0) {
			const cJSON *u;
			bool first = true;
			cJSON_ArrayForEach(u, h)
			{
				printf("%s", first ? "" : ", ");
				put_safe(stdout, cJSON_IsString(u) ? u->valuestring : "?");
				first = false;
			}
		} else
			printf("-");
		putchar('\n');
	}

	int firing = 0, total = 0;
	const cJSON *a;
	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(st, "alerts"))
	{
		total++;
		if (strcmp(json_str(a, "state", ""), "firing") == 0)
			firing++;
	}
	printf("alerts: %d firing of %d\n", firing, total);
	const cJSON *top = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(st, "suspects"), 0);
	if (top) {
		printf("top suspect: ");
		put_safe(stdout, json_str(top, "service", "?"));
		printf("@");
		put_safe(stdout, json_str(top, "version", "?"));
		printf(" (");
		put_safe(stdout, json_str(top, "reason", ""));
		printf(")\n");
	}
	const cJSON *act;
	cJSON_ArrayForEach(act, cJSON_GetObjectItemCaseSensitive(st, "actions"))
	{
		const char *s = json_str(act, "status", "");
		if (strcmp(s, "pending-approval") && strcmp(s, "running") && strcmp(s, "approved"))
			continue;
		printf("action %s: rollback ", json_str(act, "id", "?"));
		put_safe(stdout, json_str(act, "service", "?"));
		printf(" -> ");
		put_safe(stdout, json_str(act, "to", "?"));
		printf(" %s\n", s);
	}
	printf("attached: %d\n", cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(st, "clients")));
	const cJSON *comms = cJSON_GetObjectItemCaseSensitive(st, "comms");
	int n = cJSON_GetArraySize(comms);
	for (int i = n > 5 ? n - 5 : 0; i < n; i++) {
		const cJSON *c = cJSON_GetArrayItem(comms, i);
		printf("  %s  ", json_str(c, "ts", ""));
		put_safe(stdout, json_str(c, "by", "?"));
		printf("  ");
		put_safe(stdout, json_str(c, "text", ""));
		putchar('\n');
	}
}

static void fold_event(const struct wr_event *ev, void *arg)
{
	state_apply(arg, ev);
}

static void fold_problem(const char *path, long lineno, const char *msg, void *arg)
{
	fprintf(stderr, "warroom: %s:%ld: ", path, lineno);
	put_safe(stderr, msg);
	fputc('\n', stderr);
}

/* `state --journal FILE`: the state folded from a journal, no server. */
static int state_offline(const char *path, cJSON **res)
{
	char err[512];
	struct state *st = state_new();
	if (journal_read(path, fold_event, fold_problem, st, err, sizeof err) < 0) {
		fprintf(stderr, "warroom: %s\n", err);
		state_free(st);
		return 1;
	}
	*res = state_to_json(st);
	state_free(st);
	return 0;
}

static int verb_state(struct cli *cli)
{
	cJSON *res = NULL;
	int rc;
	if (cli->val[OPT_JOURNAL]) {
		rc = state_offline(cli->val[OPT_JOURNAL], &res);
	} else {
		struct config *cfg = load_config(cli);
		if (!cfg)
			return 2;
		rc = call(cfg, "state", NULL, &res);
		config_free(cfg);
	}
	if (rc)
		return rc;
	if (cli->set[OPT_JSON]) {
		char *s = cJSON_Print(res);
		puts(s);
		free(s);
	} else {
		print_summary(res);
	}
	cJSON_Delete(res);
	return 0;
}

static int verb_note(struct cli *cli)
{
	struct sbuf sb;
	sbuf_init(&sb);
	for (int i = 0; i < cli->nargs; i++) {
		if (i)
			sbuf_addc(&sb, ' ');
		sbuf_adds(&sb, cli->args[i]);
	}
	cJSON *a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "text", sb.buf);
	sbuf_free(&sb);
	return simple_intent(cli, "note", a);
}

static int verb_assign(struct cli *cli)
{
	cJSON *a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "role", cli->args[0]);
	cJSON_AddStringToObject(a, "user", cli->args[1]);
	return simple_intent(cli, "assign", a);
}

static int verb_release(struct cli *cli)
{
	cJSON *a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "role", cli->args[0]);
	if (cli->nargs > 1)
		cJSON_AddStringToObject(a, "user", cli->args[1]);
	return simple_intent(cli, "release", a);
}

static int verb_set_state(struct cli *cli)
{
	cJSON *a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "state", cli->args[0]);
	return simple_intent(cli, "set-state", a);
}

static int verb_severity(struct cli *cli)
{
	cJSON *a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "severity", cli->args[0]);
	return simple_intent(cli, "severity", a);
}

static cJSON *rollback_args(const struct cli *cli, bool dry_run)
{
	cJSON *a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "service", cli->args[0]);
	if (cli->val[OPT_TO])
		cJSON_AddStringToObject(a, "to", cli->val[OPT_TO]);
	cJSON_AddBoolToObject(a, "dry_run", dry_run);
	return a;
}

static void print_plan(const cJSON *res)
{
	printf("rollback ");
	put_safe(stdout, json_str(res, "service", "?"));
	printf(" ");
	put_safe(stdout, json_str(res, "from", "?"));
	printf(" -> ");
	put_safe(stdout, json_str(res, "to", "?"));
	printf(" via ");
	put_safe(stdout, json_str(res, "via", "?"));
	printf("\n  will run: ");
	put_safe(stdout, json_str(res, "display", "?"));
	printf("\n  approval: %s\n", json_str(res, "approval", "none"));
}

static int verb_rollback(struct cli *cli)
{
	struct config *cfg = load_config(cli);
	if (!cfg)
		return 2;
	cJSON *res = NULL;
	int rc;
	if (cli->set[OPT_DRY_RUN] || !cli->set[OPT_YES]) {
		rc = call(cfg, "rollback", rollback_args(cli, true), &res);
		if (rc)
			goto out;
		print_plan(res);
		cJSON_Delete(res);
		res = NULL;
		if (cli->set[OPT_DRY_RUN])
			goto out;
		if (!isatty(STDIN_FILENO)) {
			fprintf(stderr, "warroom: use --yes to confirm without a terminal\n");
			rc = 2;
			goto out;
		}
		printf("Run it? [y/N] ");
		fflush(stdout);
		char line[16];
		if (!fgets(line, sizeof line, stdin) || (line[0] != 'y' && line[0] != 'Y')) {
			printf("not run\n");
			rc = 1;
			goto out;
		}
	}
	rc = call(cfg, "rollback", rollback_args(cli, false), &res);
	if (rc == 0)
		printf("rollback %s requested: %s\n", json_str(res, "id", "?"),
		       json_str(res, "status", "?"));
out:
	cJSON_Delete(res);
	config_free(cfg);
	return rc;
}

static int verb_approve(struct cli *cli)
{
	cJSON *a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "id", cli->args[0]);
	return simple_intent(cli, "approve", a);
}

static int verb_cancel(struct cli *cli)
{
	cJSON *a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "id", cli->args[0]);
	return simple_intent(cli, "cancel", a);
}

static int verb_update(struct cli *cli)
{
	if (!cli->val[OPT_STATE] || !cli->val[OPT_MESSAGE])
		return usage_error(cli->verb, "update needs --state and --message");
	struct config *cfg = load_config(cli);
	if (!cfg)
		return 2;
	cJSON *a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "state", cli->val[OPT_STATE]);
	cJSON_AddStringToObject(a, "message", cli->val[OPT_MESSAGE]);
	if (cli->val[OPT_TARGET])
		cJSON_AddStringToObject(a, "target", cli->val[OPT_TARGET]);
	cJSON *res = NULL;
	int rc = call(cfg, "update", a, &res);
	if (rc == 0) {
		/* the server answers {"updates":[{"id","target","audience"}...]},
		 * one per target the update goes to */
		const cJSON *ups = cJSON_GetObjectItemCaseSensitive(res, "updates");
		const cJSON *it;
		int n = 0;
		cJSON_ArrayForEach(it, ups)
		{
			const char *id = json_str(it, "id", NULL);
			if (!id)
				continue;
			printf("update %s requested for ", id);
			put_safe(stdout, json_str(it, "target", "?"));
			printf(" (%s)\n", json_str(it, "audience", "?"));
			n++;
		}
		if (!n)
			printf("update requested\n");
	}
	cJSON_Delete(res);
	config_free(cfg);
	return rc;
}

static int verb_silence(struct cli *cli)
{
	cJSON *a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "id", cli->args[0]);
	if (cli->val[OPT_MINUTES]) {
		char *end;
		long m = strtol(cli->val[OPT_MINUTES], &end, 10);
		if (*end || m < 1 || m > 7 * 24 * 60) {
			cJSON_Delete(a);
			return usage_error(cli->verb, "--minutes must be a whole number from 1 to %d",
					   7 * 24 * 60);
		}
		cJSON_AddNumberToObject(a, "minutes", (double)m);
	}
	if (cli->val[OPT_COMMENT])
		cJSON_AddStringToObject(a, "comment", cli->val[OPT_COMMENT]);
	return simple_intent(cli, "silence", a);
}

static int verb_unsilence(struct cli *cli)
{
	cJSON *a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "id", cli->args[0]);
	return simple_intent(cli, "unsilence", a);
}

static int verb_check_config(struct cli *cli)
{
	struct config *cfg = load_config(cli);
	if (!cfg)
		return 2;
	const char *file = cfg->path ? cfg->path : "(defaults)";
	int rc = 0;
	bool probe_failed = false;
	for (size_t i = 0; i < cfg->sections.n && rc == 0; i++) {
		const struct config_section *sec = cfg->sections.v[i];
		const struct backend_class *bc = backend_find(sec->family, sec->type);
		if (!bc) {
			fprintf(stderr, "warroom: %s:%d: [%s %s]: type '%s' is not built in\n", file,
				sec->line, sec->family, sec->name, sec->type ? sec->type : "");
			rc = 2;
			break;
		}
		char err[1024] = "";
		void *self = bc->configure ? bc->configure(sec, cfg->path, err, sizeof err) : NULL;
		if (!self) {
			fprintf(stderr, "warroom: %s\n", err[0] ? err : "cannot configure a backend");
			rc = 2;
			break;
		}
		if (bc->probe) {
			struct backend_result res;
			memset(&res, 0, sizeof res);
			bc->probe(self, &res);
			printf("%s %s (%s): ", sec->family, sec->name, bc->type);
			if (res.ok)
				printf("ok\n");
			else {
				printf("FAILED: ");
				put_safe(stdout, res.error[0] ? res.error : "no reason given");
				putchar('\n');
				probe_failed = true;
			}
		}
		if (bc->free)
			bc->free(self);
	}
	if (rc == 0 && !probe_failed)
		printf("config OK: %s\n", file);
	else if (rc == 0)
		rc = 1;
	config_free(cfg);
	return rc;
}

static int verb_demo(struct cli *cli)
{
	return demo_main(cli->argc, cli->argv);
}

static int verb_join(struct cli *cli)
{
	return join_main(cli->argc, cli->argv);
}

static int verb_export(struct cli *cli)
{
	const char *fname = cli->val[OPT_FORMAT] ? cli->val[OPT_FORMAT] : "md";
	int fmt = export_format_from_name(fname);
	if (fmt < 0)
		return usage_error(cli->verb, "unknown format '%s' (md, json or html)", fname);
	struct config *cfg = NULL;
	const char *journal = cli->val[OPT_JOURNAL];
	if (journal) {
		/* only for its secrets, to keep them out should one be in the journal */
		char e[1024];
		cfg = config_load(cli->val[OPT_CONFIG], e, sizeof e);
	} else {
		/* the configured incident's journal, read directly: no server needed */
		cfg = load_config(cli);
		if (!cfg)
			return 2;
		journal = cfg->journal;
		if (!journal || !*journal) {
			config_free(cfg);
			fprintf(stderr, "warroom: no journal: set [incident] journal or use --journal\n");
			return 2;
		}
	}
	const char *outp = cli->val[OPT_OUTPUT];
	char *tmp = NULL;
	FILE *out = stdout;
	if (outp && strcmp(outp, "-") != 0) {
		/* written beside the target and renamed, so a failed export leaves no half document */
		tmp = xasprintf("%s.tmp-%ld", outp, (long)getpid());
		out = fopen(tmp, "w");
		if (!out) {
			fprintf(stderr, "warroom: %s: %s\n", tmp, strerror(errno));
			free(tmp);
			config_free(cfg);
			return 1;
		}
	}
	struct ptrvec secrets = {0};
	for (size_t i = 0; cfg && i < cfg->sections.n; i++) {
		const struct config_section *sec = cfg->sections.v[i];
		for (size_t k = 0; k < sec->keys.n; k++) {
			const struct config_kv *kv = sec->keys.v[k];
			if (kv->secret && kv->value)
				ptrvec_push(&secrets, kv->value);
		}
	}
	char err[1024] = "";
	int rc = export_journal_redacted(journal, (enum export_format)fmt,
					 (const char *const *)secrets.v, secrets.n, out, err,
					 sizeof err) == 0 ? 0 : 1;
	free(secrets.v);
	if (out != stdout) {
		if (fclose(out) != 0 && rc == 0) {
			snprintf(err, sizeof err, "%s: %s", outp, strerror(errno));
			rc = 1;
		}
		if (rc == 0 && rename(tmp, outp) < 0) {
			snprintf(err, sizeof err, "%s: %s", outp, strerror(errno));
			rc = 1;
		}
		if (rc)
			unlink(tmp);
		free(tmp);
	} else if (fflush(stdout) != 0 && rc == 0) {
		snprintf(err, sizeof err, "write error: %s", strerror(errno));
		rc = 1;
	}
	if (rc) {
		fputs("warroom: ", stderr);
		put_safe(stderr, err);
		fputc('\n', stderr);
	}
	config_free(cfg);
	return rc;
}

static int verb_replay(struct cli *cli)
{
	double speed = 1;
	if (cli->val[OPT_SPEED]) {
		char *end;
		errno = 0;
		speed = strtod(cli->val[OPT_SPEED], &end);
		if (errno || end == cli->val[OPT_SPEED] || *end || !(speed >= 0.25 && speed <= 1000))
			return usage_error(cli->verb, "--speed takes a number from 0.25 to 1000, not '%s'",
					   cli->val[OPT_SPEED]);
	}
	return replay_main(cli->args[0], speed, cli->val[OPT_CONFIG]);
}

static const struct verb default_verb = {
	.name = NULL, .usage = "[--config FILE] [--read-only]",
	.help = "attach to the incident's session, starting its server if none runs",
	.min_args = 0, .max_args = 0, .opts = O(OPT_READ_ONLY) | O(OPT_VERSION),
	.run = verb_default,
};

static const struct verb verbs[] = {
	{"attach", "attach [--read-only]", "attach the console to a running session", 0, 0,
	 O(OPT_READ_ONLY), false, verb_attach},
	{"serve", "serve [--foreground] [--journal FILE] [--socket PATH]",
	 "run the session server (daemonizes unless --foreground)", 0, 0,
	 O(OPT_FOREGROUND) | O(OPT_JOURNAL) | O(OPT_SOCKET), false, verb_serve},
	{"state", "state [--json] [--journal FILE]",
	 "print the session state (with --journal: folded from FILE, no server)", 0, 0,
	 O(OPT_JSON) | O(OPT_JOURNAL), false, verb_state},
	{"note", "note TEXT...", "add a note to the comms log", 1, -1, 0, false, verb_note},
	{"assign", "assign ROLE USER",
	 "give ROLE (ic internal-comms external-comms primary secondary) to USER", 2, 2, 0, false,
	 verb_assign},
	{"release", "release ROLE [USER]", "release ROLE (from USER, for secondary)", 1, 2, 0,
	 false, verb_release},
	{"set-state", "set-state STATE", "investigating | identified | monitoring | resolved", 1, 1,
	 0, false, verb_set_state},
	{"severity", "severity SEV", "change the severity (SEV1..SEV4)", 1, 1, 0, false,
	 verb_severity},
	{"rollback", "rollback SERVICE [--to VERSION] [--yes] [--dry-run]",
	 "roll SERVICE back; shows what will run and asks first", 1, 1,
	 O(OPT_TO) | O(OPT_YES) | O(OPT_DRY_RUN), false, verb_rollback},
	{"approve", "approve ID", "approve a rollback waiting for a second person", 1, 1, 0, false,
	 verb_approve},
	{"cancel", "cancel ID", "cancel a pending or running action", 1, 1, 0, false,
	 verb_cancel},
	{"update", "update --state STATE --message TEXT [--target NAME]",
	 "post a status update through the outbox", 0, 0,
	 O(OPT_STATE) | O(OPT_MESSAGE) | O(OPT_TARGET), false, verb_update},
	{"silence", "silence ALERT_ID [--minutes N] [--comment TEXT]", "silence an alert at its source",
	 1, 1, O(OPT_MINUTES) | O(OPT_COMMENT), false, verb_silence},
	{"unsilence", "unsilence ALERT_ID", "expire an alert's silence", 1, 1, 0, false,
	 verb_unsilence},
	{"check-config", "check-config", "validate the configuration and probe every backend", 0, 0,
	 0, false, verb_check_config},
	{"demo", "demo", "run the built-in incident", 0, -1, 0, true, verb_demo},
	{"join", "join [USER@]HOST[:PORT] [--identity KEY] [--known-hosts FILE] [--remote-command CMD]",
	 "attach to the session on another machine over SSH (no ssh command needed)", 0, -1, 0,
	 true, verb_join},
	{"export", "export [--journal FILE] [--format md|json|html] [-o FILE]",
	 "postmortem draft from the incident's journal (read directly; no server needed)", 0, 0,
	 O(OPT_JOURNAL) | O(OPT_FORMAT) | O(OPT_OUTPUT), false, verb_export},
	{"replay", "replay JOURNAL [--speed N]",
	 "play a recorded incident back as a read-only live session (Space pause, ] [ seek, > < speed)",
	 1, 1, O(OPT_SPEED), false, verb_replay},
	{NULL, NULL, NULL, 0, 0, 0, false, NULL},
};

/* ---- help ---------------------------------------------------------------- */

static void print_options(unsigned opts)
{
	for (int i = 0; i < OPT__COUNT; i++) {
		if (!(opts & O(i)))
			continue;
		char left[48];
		snprintf(left, sizeof left, "--%s%s%s", opt_defs[i].name, opt_defs[i].has_arg ? " " : "",
			 opt_defs[i].has_arg ? opt_defs[i].meta : "");
		printf("  %-22s %s\n", left, opt_defs[i].help);
	}
}

static void print_verb_help(const struct verb *v)
{
	printf("usage: warroom %s\n\n%s\n", v->usage, v->help);
	if (!v->raw) {
		printf("\noptions (before or after the arguments):\n");
		print_options(v->opts | COMMON_OPTS);
	}
}

static void print_help(void)
{
	printf("usage: warroom [--config FILE] [--read-only]      attach (starting the server)\n"
	       "       warroom VERB [ARGS] [--config FILE]\n"
	       "       warroom --version | --help | VERB --help\n\n"
	       "A full-screen console for running a production incident from one screen.\n\n"
	       "verbs:\n");
	for (const struct verb *v = verbs; v->name; v++)
		printf("  %-14s %s\n", v->name, v->help);
	printf("\nExit status: 0 ok, 1 runtime failure or refused, 2 usage or config error.\n");
}

/* ---- parsing ------------------------------------------------------------- */

static const struct opt_def *find_opt(const char *arg, size_t len, int *id)
{
	for (int i = 0; i < OPT__COUNT; i++)
		if (strlen(opt_defs[i].name) == len && strncmp(opt_defs[i].name, arg, len) == 0) {
			*id = i;
			return &opt_defs[i];
		}
	return NULL;
}

/* Index of the verb word in argv, or 0 if there is none. Skips option
 * values so `warroom --config c.ini note x` finds "note". */
static int find_verb_word(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0)
			return i + 1 < argc ? i + 1 : 0;
		if (a[0] == '-' && a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			int id;
			const struct opt_def *o = find_opt(a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2),
							   &id);
			if (o && o->has_arg && !eq)
				i++;
			continue;
		}
		if (a[0] == '-' && a[1])
			continue;
		return i;
	}
	return 0;
}

static int parse(struct cli *cli, int argc, char **argv, int verb_at)
{
	const struct verb *v = cli->verb;
	unsigned allowed = v->opts | COMMON_OPTS;
	cli->args = xcalloc((size_t)argc + 1, sizeof *cli->args);
	bool only_args = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (i == verb_at)
			continue;
		if (!only_args && strcmp(a, "--") == 0) {
			only_args = true;
			continue;
		}
		if (!only_args && a[0] == '-' && a[1]) {
			if (strcmp(a, "-h") == 0) {
				cli->set[OPT_HELP] = true;
				continue;
			}
			if (strcmp(a, "-o") == 0 && (allowed & O(OPT_OUTPUT))) {
				if (i + 1 >= argc)
					return usage_error(v, "-o needs a value (FILE)");
				cli->val[OPT_OUTPUT] = argv[++i];
				cli->set[OPT_OUTPUT] = true;
				continue;
			}
			if (a[1] != '-')
				return usage_error(v, "unknown option '%s'", a);
			const char *eq = strchr(a + 2, '=');
			size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
			int id;
			const struct opt_def *o = find_opt(a + 2, len, &id);
			if (!o || !(allowed & O(id)))
				return usage_error(v, "unknown option '--%.*s'%s%s", (int)len, a + 2,
						   v->name ? " for " : "", v->name ? v->name : "");
			if (o->has_arg) {
				if (eq)
					cli->val[id] = eq + 1;
				else if (i + 1 < argc)
					cli->val[id] = argv[++i];
				else
					return usage_error(v, "--%s needs a value (%s)", o->name, o->meta);
			} else if (eq) {
				return usage_error(v, "--%s takes no value", o->name);
			}
			cli->set[id] = true;
			continue;
		}
		cli->args[cli->nargs++] = (char *)a;
	}
	if (cli->set[OPT_HELP] || cli->set[OPT_VERSION])
		return 0;
	if (cli->nargs < v->min_args)
		return usage_error(v, "%s: missing arguments", v->name ? v->name : "warroom");
	if (v->max_args >= 0 && cli->nargs > v->max_args) {
		if (!v->name)
			return usage_error(NULL, "unknown verb '%s'", cli->args[0]);
		return usage_error(v, "%s: too many arguments", v->name);
	}
	return 0;
}

int main(int argc, char **argv)
{
	int at = find_verb_word(argc, argv);
	const struct verb *v = &default_verb;
	if (at) {
		v = NULL;
		for (const struct verb *w = verbs; w->name; w++)
			if (strcmp(w->name, argv[at]) == 0)
				v = w;
		if (!v)
			return usage_error(NULL, "unknown verb '%s'", argv[at]);
	}
	struct cli cli = {.verb = v, .argc = argc - at, .argv = argv + at};
	if (v->raw)
		return v->run(&cli);
	int rc = parse(&cli, argc, argv, at);
	if (rc) {
		free(cli.args);
		return rc;
	}
	if (cli.set[OPT_HELP]) {
		if (v->name)
			print_verb_help(v);
		else
			print_help();
	} else if (cli.set[OPT_VERSION]) {
		printf("warroom %s\n", WARROOM_VERSION);
	} else {
		rc = v->run(&cli);
	}
	free(cli.args);
	return rc;
}
