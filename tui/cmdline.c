/* `:` commands: the same verbs as the command line, turned into intents.
 * One table lists each verb with its usage; parse errors show the usage in
 * the status line, refusals come back from the server the same way. A
 * rollback first asks the server for a dry run and shows exactly what would
 * run before anything does. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "tui/console.h"

#define CMD_MAX_ARGS 16

struct cmd_args {
	int argc;
	char *argv[CMD_MAX_ARGS];
	const char *rest[CMD_MAX_ARGS]; /* raw text from argument i to the end */
};

struct cmd_def {
	const char *name, *usage, *help;
	int min, max; /* argument counts, verb excluded; max -1: any */
	void (*fn)(struct console *c, const struct cmd_args *a);
};

/* Splits on blanks; '...' and "..." group (no escapes inside single
 * quotes; backslash escapes the next character elsewhere). */
static int cmd_split(const char *line, struct cmd_args *a, char *err, size_t errlen)
{
	memset(a, 0, sizeof *a);
	const char *p = line;
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			return 0;
		if (a->argc == CMD_MAX_ARGS) {
			snprintf(err, errlen, "too many words");
			return -1;
		}
		a->rest[a->argc] = p;
		struct sbuf sb;
		sbuf_init(&sb);
		char quote = 0;
		while (*p && (quote || !isspace((unsigned char)*p))) {
			if (quote) {
				if (*p == quote)
					quote = 0;
				else if (*p == '\\' && quote == '"' && p[1])
					sbuf_addc(&sb, *++p);
				else
					sbuf_addc(&sb, *p);
			} else if (*p == '\'' || *p == '"') {
				quote = *p;
			} else if (*p == '\\' && p[1]) {
				sbuf_addc(&sb, *++p);
			} else {
				sbuf_addc(&sb, *p);
			}
			p++;
		}
		if (quote) {
			sbuf_free(&sb);
			for (int i = 0; i < a->argc; i++)
				free(a->argv[i]);
			a->argc = 0;
			snprintf(err, errlen, "unbalanced %c quote", quote);
			return -1;
		}
		a->argv[a->argc++] = sbuf_detach(&sb);
	}
}

static void cmd_args_free(struct cmd_args *a)
{
	for (int i = 0; i < a->argc; i++)
		free(a->argv[i]);
	a->argc = 0;
}

/* Free text from argument i on: one word as parsed (quotes removed), or the
 * raw rest of the line when there are several. */
static char *cmd_text_from(const struct cmd_args *a, int i)
{
	if (i >= a->argc)
		return xstrdup("");
	if (i == a->argc - 1)
		return xstrdup(a->argv[i]);
	char *s = xstrdup(a->rest[i]);
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = 0;
	return s;
}

static void send1(struct console *c, const char *intent, const char *k1, const char *v1,
		  const char *k2, const char *v2)
{
	cJSON *args = cJSON_CreateObject();
	if (k1)
		cJSON_AddStringToObject(args, k1, v1);
	if (k2 && v2)
		cJSON_AddStringToObject(args, k2, v2);
	console_intent(c, intent, args, NULL, NULL);
}

static void c_note(struct console *c, const struct cmd_args *a)
{
	char *text = cmd_text_from(a, 1);
	send1(c, "note", "text", text, NULL, NULL);
	free(text);
}

static bool role_ok(struct console *c, const char *role)
{
	if (role_from_id(role) >= 0)
		return true;
	console_message(c, true, "unknown role %s (ic internal-comms external-comms primary secondary)", role);
	return false;
}

static void c_assign(struct console *c, const struct cmd_args *a)
{
	if (!role_ok(c, a->argv[1]))
		return;
	const char *user = a->argc > 2 ? a->argv[2] : (c->client ? client_user(c->client) : NULL);
	if (!user) {
		console_message(c, true, "usage: assign ROLE USER");
		return;
	}
	send1(c, "assign", "role", a->argv[1], "user", user);
}

static void c_release(struct console *c, const struct cmd_args *a)
{
	if (!role_ok(c, a->argv[1]))
		return;
	send1(c, "release", "role", a->argv[1], "user", a->argc > 2 ? a->argv[2] : NULL);
}

/* Rollback: dry run, confirm with what would run, then the real request
 * pinned to the version that was shown. */
struct rollback_ask {
	struct console *c;
	char *service, *to;
};

static void rollback_ask_free(struct rollback_ask *r)
{
	free(r->service);
	free(r->to);
	free(r);
}

static void rollback_confirmed(void *arg, bool yes)
{
	struct rollback_ask *r = arg;
	if (yes) {
		cJSON *args = cJSON_CreateObject();
		cJSON_AddStringToObject(args, "service", r->service);
		if (r->to)
			cJSON_AddStringToObject(args, "to", r->to);
		console_intent(r->c, "rollback", args, NULL, NULL);
	} else {
		console_message(r->c, false, "rollback not requested");
	}
	rollback_ask_free(r);
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void rollback_previewed(void *arg, bool ok, const char *error, const cJSON *result)
{
	struct rollback_ask *r = arg;
	if (!ok || !result) {
		rollback_ask_free(r);
		return; /* the refusal is already in the status line */
	}
	const char *to = jstr(result, "to");
	str_set(&r->to, to);
	char *q = xasprintf("Roll back %s from %s to %s?", r->service, jstr(result, "from") ? jstr(result, "from") : "?",
			    to ? to : "?");
	const char *approval = jstr(result, "approval");
	char *detail = xasprintf("This will run (via %s):\n\n%s\n%s", jstr(result, "via") ? jstr(result, "via") : "?",
				 jstr(result, "display") ? jstr(result, "display") : "?",
				 str_eq(approval, "two-person")
					 ? "\nA second operator must approve it before it runs."
					 : "");
	confirm_open(r->c, q, detail, rollback_confirmed, r);
	free(q);
	free(detail);
}

static void rollback_dry_shown(void *arg, bool ok, const char *error, const cJSON *result)
{
	struct console *c = arg;
	if (!ok || !result)
		return;
	char *line = xasprintf("dry run: %s via %s", jstr(result, "display") ? jstr(result, "display") : "?",
			       jstr(result, "via") ? jstr(result, "via") : "?");
	const char *lines[] = {line};
	details_open(c, "ROLLBACK (dry run: nothing ran)", lines, 1);
	free(line);
}

static void c_rollback(struct console *c, const struct cmd_args *a)
{
	const char *service = NULL, *to = NULL;
	bool dry = false;
	for (int i = 1; i < a->argc; i++) {
		if (!strcmp(a->argv[i], "--dry-run"))
			dry = true;
		else if (!strcmp(a->argv[i], "--to") && i + 1 < a->argc)
			to = a->argv[++i];
		else if (!strncmp(a->argv[i], "--to=", 5))
			to = a->argv[i] + 5;
		else if (a->argv[i][0] == '-' || service) {
			console_message(c, true, "usage: rollback SERVICE [--to VERSION] [--dry-run]");
			return;
		} else
			service = a->argv[i];
	}
	if (!service) {
		console_message(c, true, "usage: rollback SERVICE [--to VERSION] [--dry-run]");
		return;
	}
	if (!dry) {
		cmdline_rollback(c, service, to);
		return;
	}
	cJSON *args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "service", service);
	if (to)
		cJSON_AddStringToObject(args, "to", to);
	cJSON_AddBoolToObject(args, "dry_run", true);
	console_intent(c, "rollback", args, rollback_dry_shown, c);
}

void cmdline_rollback(struct console *c, const char *service, const char *to)
{
	cJSON *args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "service", service);
	if (to)
		cJSON_AddStringToObject(args, "to", to);
	cJSON_AddBoolToObject(args, "dry_run", true);
	struct rollback_ask *r = xcalloc(1, sizeof *r);
	r->c = c;
	r->service = xstrdup(service);
	r->to = xstrdup(to);
	console_intent(c, "rollback", args, rollback_previewed, r);
}

static void c_approve(struct console *c, const struct cmd_args *a)
{
	send1(c, "approve", "id", a->argv[1], NULL, NULL);
}

static void c_cancel(struct console *c, const struct cmd_args *a)
{
	send1(c, "cancel", "id", a->argv[1], NULL, NULL);
}

static void c_update(struct console *c, const struct cmd_args *a)
{
	char *msg = cmd_text_from(a, 2);
	send1(c, "update", "state", a->argv[1], "message", msg);
	free(msg);
}

static void c_silence(struct console *c, const struct cmd_args *a)
{
	cJSON *args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "id", a->argv[1]);
	if (a->argc > 2) {
		char *end;
		long m = strtol(a->argv[2], &end, 10);
		if (*end || m <= 0) {
			cJSON_Delete(args);
			console_message(c, true, "usage: silence ID [MINUTES]");
			return;
		}
		cJSON_AddNumberToObject(args, "minutes", (double)m);
	}
	console_intent(c, "silence", args, NULL, NULL);
}

static void c_unsilence(struct console *c, const struct cmd_args *a)
{
	send1(c, "unsilence", "id", a->argv[1], NULL, NULL);
}

static void c_severity(struct console *c, const struct cmd_args *a)
{
	char sev[16];
	snprintf(sev, sizeof sev, "%s", a->argv[1]);
	for (char *s = sev; *s; s++)
		*s = (char)toupper((unsigned char)*s);
	send1(c, "severity", "severity", sev, NULL, NULL);
}

static void c_set_state(struct console *c, const struct cmd_args *a)
{
	if (incident_state_from_name(a->argv[1]) < 0) {
		console_message(c, true, "unknown state %s (investigating identified monitoring resolved)",
				a->argv[1]);
		return;
	}
	send1(c, "set-state", "state", a->argv[1], NULL, NULL);
}

static void c_theme(struct console *c, const struct cmd_args *a)
{
	console_set_theme(c, a->argv[1]);
}

static void c_follow(struct console *c, const struct cmd_args *a)
{
	console_follow(c, a->argv[1]);
}

static void c_focus(struct console *c, const struct cmd_args *a)
{
	int i = pane_class_index(a->argv[1]);
	if (i < 0)
		console_message(c, true, "no pane %s (alerts timeline roster comms)", a->argv[1]);
	else
		console_focus(c, i);
}

static void c_point(struct console *c, const struct cmd_args *a)
{
	send1(c, "point", "target", a->argv[1], NULL, NULL);
}

static void c_help(struct console *c, const struct cmd_args *a)
{
	help_open(c);
}

static void c_quit(struct console *c, const struct cmd_args *a)
{
	console_request_quit(c);
}

static const struct cmd_def cmd_table[] = {
	{"note", "note TEXT", "add a note to the comms log", 1, -1, c_note},
	{"assign", "assign ROLE [USER]", "give ROLE to USER (default: me)", 1, 2, c_assign},
	{"release", "release ROLE [USER]", "release ROLE", 1, 2, c_release},
	{"rollback", "rollback SERVICE [--to V] [--dry-run]", "roll a service back (confirms first)", 1, 4,
	 c_rollback},
	{"approve", "approve ID", "approve a pending action", 1, 1, c_approve},
	{"cancel", "cancel ID", "cancel a pending or running action", 1, 1, c_cancel},
	{"update", "update STATE MESSAGE", "post a status update", 2, -1, c_update},
	{"silence", "silence ID [MINUTES]", "silence an alert", 1, 2, c_silence},
	{"unsilence", "unsilence ID", "expire an alert's silence", 1, 1, c_unsilence},
	{"severity", "severity SEV1..SEV4", "change the severity", 1, 1, c_severity},
	{"set-state", "set-state STATE", "investigating identified monitoring resolved", 1, 1, c_set_state},
	{"theme", "theme NAME", "dark light high-contrast mono (or a file in themes/)", 1, 1, c_theme},
	{"follow", "follow USER", "follow someone's focus; any key stops", 1, 1, c_follow},
	{"focus", "focus PANE", "alerts timeline roster comms", 1, 1, c_focus},
	{"point", "point KIND:ID", "highlight an item on every screen", 1, 1, c_point},
	{"help", "help", "every key and command", 0, 0, c_help},
	{"quit", "quit", "leave the console (the session keeps running)", 0, 0, c_quit},
};

void cmdline_run(struct console *c, const char *line)
{
	struct cmd_args a;
	char err[128];
	if (cmd_split(line, &a, err, sizeof err) < 0) {
		console_message(c, true, "%s", err);
		return;
	}
	if (a.argc == 0)
		return;
	const char *verb = a.argv[0];
	/* "set state" and "q" as people type them. */
	if (!strcmp(verb, "q"))
		verb = "quit";
	for (size_t i = 0; i < sizeof cmd_table / sizeof cmd_table[0]; i++) {
		const struct cmd_def *d = &cmd_table[i];
		if (strcmp(d->name, verb))
			continue;
		int n = a.argc - 1;
		if (n < d->min || (d->max >= 0 && n > d->max))
			console_message(c, true, "usage: %s", d->usage);
		else
			d->fn(c, &a);
		cmd_args_free(&a);
		return;
	}
	console_message(c, true, "unknown command %s (:help lists them)", verb);
	cmd_args_free(&a);
}

static void cmdline_done(void *arg, const char *text)
{
	if (text)
		cmdline_run(arg, text);
}

void cmdline_open(struct console *c)
{
	prompt_open(c, ":", NULL, cmdline_done, c);
}

void cmdline_help(struct ptrvec *lines)
{
	for (size_t i = 0; i < sizeof cmd_table / sizeof cmd_table[0]; i++)
		ptrvec_push(lines, xasprintf("  %-38s %s", cmd_table[i].usage, cmd_table[i].help));
}
