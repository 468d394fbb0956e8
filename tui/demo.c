/* `warroom demo [--speed N] [--config FILE]`: the built-in incident. A
 * private server (forked, with the scenario driving its backends) runs on a
 * journal and socket in a fresh temporary directory, never the user's real
 * ones; the console attaches to it. The config is built in memory; --config
 * is read only for its [theme].
 *
 * WARROOM_DEMO_DIR=DIR uses DIR (created if missing, must hold no journal)
 * instead of a new temporary directory, so tests know where the journal is.
 * The private session machinery is shared with `warroom replay`
 * (tui/private.c). */
#include "tui/demo.h"

#include <errno.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/demo.h"
#include "core/server.h"
#include "core/util.h"
#include "tui/private.h"
#include "tui/tui.h"

static void demo_usage(FILE *out)
{
	fprintf(out, "usage: warroom demo [--speed N] [--config FILE]\n"
		"  plays a built-in incident on a private session (no network, nothing real\n"
		"  is touched); --speed N plays it N times faster (default 1)\n");
}

static struct config_section *demo_section(const char *family, const char *name,
					   const char *type)
{
	struct config_section *sec = xcalloc(1, sizeof *sec);
	sec->family = xstrdup(family);
	sec->name = xstrdup(name);
	sec->type = xstrdup(type);
	return sec;
}

static void demo_section_key(struct config_section *sec, const char *key, const char *value)
{
	struct config_kv *kv = xcalloc(1, sizeof *kv);
	kv->key = xstrdup(key);
	kv->value = xstrdup(value);
	ptrvec_push(&sec->keys, kv);
}

static char *demo_user(void)
{
	struct passwd *pw = getpwuid(geteuid());
	if (pw && pw->pw_name && *pw->pw_name)
		return xstrdup(pw->pw_name);
	const char *u = getenv("USER");
	return xstrdup(u && *u ? u : "operator");
}

/* The demo incident's configuration, in memory. */
static struct config *demo_config(const char *dir, const char *theme)
{
	struct config *cfg = private_config(dir, "demo.sock", theme);
	if (!cfg)
		return NULL;
	str_set(&cfg->title, "Checkout API 5xx");
	str_set(&cfg->severity, "SEV2");
	str_set(&cfg->service, "api");
	ptrvec_free(&cfg->operators, free);
	ptrvec_push(&cfg->operators, demo_user());

	struct config_section *sec;
	ptrvec_push(&cfg->sections, demo_section("rollback", "api", "demo"));
	ptrvec_push(&cfg->sections, demo_section("rollback", "web", "demo"));
	sec = demo_section("status", "statuspage-demo", "file");
	char *p = xasprintf("%s/status-page.log", dir);
	demo_section_key(sec, "path", p);
	free(p);
	demo_section_key(sec, "audience", "external");
	ptrvec_push(&cfg->sections, sec);
	sec = demo_section("status", "slack-demo", "file");
	p = xasprintf("%s/slack.log", dir);
	demo_section_key(sec, "path", p);
	free(p);
	demo_section_key(sec, "audience", "internal");
	ptrvec_push(&cfg->sections, sec);
	return cfg;
}

static int demo_parse(int argc, char **argv, double *speed, const char **config)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;
		bool is_speed = strcmp(a, "--speed") == 0, is_config = strcmp(a, "--config") == 0;
		if (strncmp(a, "--speed=", 8) == 0) {
			is_speed = true;
			val = a + 8;
		} else if (strncmp(a, "--config=", 9) == 0) {
			is_config = true;
			val = a + 9;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			demo_usage(stdout);
			return 0;
		} else if (strcmp(a, "demo") == 0 && i == 1) {
			continue; /* called with the verb still in argv */
		} else if (!is_speed && !is_config) {
			fprintf(stderr, "warroom demo: unknown argument '%s'\n", a);
			demo_usage(stderr);
			return 2;
		}
		if (!val) {
			if (i + 1 >= argc) {
				fprintf(stderr, "warroom demo: %s needs a value\n", a);
				return 2;
			}
			val = argv[++i];
		}
		if (is_speed) {
			char *end;
			errno = 0;
			double v = strtod(val, &end);
			if (errno || end == val || *end || !isfinite(v) || v < 0.1 || v > 100) {
				fprintf(stderr, "warroom demo: --speed takes a number from 0.1 to 100, "
					"not '%s'\n", val);
				return 2;
			}
			*speed = v;
		} else {
			*config = val;
		}
	}
	return -1;
}

int demo_main(int argc, char **argv)
{
	double speed = 1.0;
	const char *config_path = NULL;
	int rc = demo_parse(argc, argv, &speed, &config_path);
	if (rc >= 0)
		return rc;
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "warroom demo: needs a terminal (stdin and stdout must be a tty); "
			"run it in an interactive shell or under tmux\n");
		return 2;
	}
	char *theme = NULL;
	if (!private_user_theme(config_path, "demo", &theme))
		return 2;

	char err[512];
	char *dir = private_dir("WARROOM_DEMO_DIR", "warroom-demo", err, sizeof err);
	if (!dir) {
		fprintf(stderr, "warroom demo: %s\n", err);
		free(theme);
		return 1;
	}
	struct config *cfg = demo_config(dir, theme);
	free(theme);
	if (!cfg) {
		fprintf(stderr, "warroom demo: cannot build the demo configuration\n");
		free(dir);
		return 1;
	}
	demo_set_speed(speed);
	struct server_opts so = {
		.foreground = true, .journal = cfg->journal, .socket = cfg->socket, .demo = true,
	};
	struct private_session ps;
	if (private_start(&ps, dir, cfg, &so, "demo") != 0) {
		config_free(cfg);
		return 1;
	}
	struct tui_opts to = {.socket_path = cfg->socket, .demo = true};
	rc = tui_main(cfg, &to);
	private_stop(&ps, cfg);
	printf("demo journal kept at %s (try: warroom export --journal %s)\n", cfg->journal,
	       cfg->journal);
	config_free(cfg);
	return rc;
}
