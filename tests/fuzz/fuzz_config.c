/* The config loader: any bytes as a config file (written to one temporary
 * path per process, since the loader reads a file), then every backend
 * section through its class's key checks, as check-config does. A refusal
 * must name the file and line; an accepted config must hold what the loader
 * promises (a type on every section, keys on lines of the file). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/backend.h"
#include "core/config.h"

const char *const fuzz_target_name = "config";

static char path[64];

static void cleanup(void)
{
	if (path[0])
		unlink(path);
}

static void setup(void)
{
	snprintf(path, sizeof path, "/tmp/wr-fuzz-config-%d.ini", (int)getpid());
	atexit(cleanup);
	/* token_file = /dev/stdin must not wait for a terminal */
	if (!freopen("/dev/null", "r", stdin))
		abort();
	/* something for ${NAME} to find */
	setenv("WR_FUZZ_TOKEN", "s3cret", 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!path[0])
		setup();
	FILE *fp = fopen(path, "w");
	if (!fp || fwrite(data, 1, size, fp) != size || fclose(fp) != 0)
		abort();
	int lines = 1;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';

	char err[1024] = "";
	struct config *cfg = config_load(path, err, sizeof err);
	if (!cfg) {
		/* "PATH: ..." or "PATH:LINE: ..." */
		size_t pl = strlen(path);
		if (strncmp(err, path, pl) != 0 || err[pl] != ':')
			abort();
		return 0;
	}
	if (!cfg->path || strcmp(cfg->path, path) != 0 || !cfg->journal)
		abort();
	for (size_t i = 0; i < cfg->sections.n; i++) {
		const struct config_section *s = cfg->sections.v[i];
		if (!s->type || !s->family || !s->name || !*s->name || s->line < 1 || s->line > lines)
			abort();
		for (size_t k = 0; k < s->keys.n; k++) {
			const struct config_kv *kv = s->keys.v[k];
			if (!kv->key || !kv->value || kv->line < s->line || kv->line > lines)
				abort();
		}
	}
	err[0] = '\0';
	if (!backend_check_config(cfg, err, sizeof err) && !*err)
		abort(); /* a refusal says why */
	config_free(cfg);
	return 0;
}
