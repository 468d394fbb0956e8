/* Configuration: INI (libinih). Default path $XDG_CONFIG_HOME/warroom/config.ini
 * (~/.config/warroom/config.ini). Sections and keys are listed in
 * docs/config.md. Any unknown section or key, bad value or missing required key
 * is an error naming file:line; the verbs exit 2 on it.
 * Secrets: a value "${NAME}" is read from the environment; token_file = PATH
 * reads the first line of a file. Secrets are kept only in this struct and
 * never journaled, logged or exported. */
#ifndef WARROOM_CONFIG_H
#define WARROOM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/util.h"

/* One [alerts NAME], [metrics NAME], [deploys NAME], [rollback SERVICE] or
 * [status NAME] section: a kind plus its keys, kept generic so each backend
 * reads and validates its own keys (backends/ know their key lists). */
struct config_section {
	char *family;      /* "alerts", "metrics", "deploys", "rollback", "status" */
	char *name;        /* NAME, or SERVICE for rollback */
	char *type;        /* type = ... (or via = ... for rollback) */
	int line;          /* line of the [section] header */
	struct ptrvec keys;   /* struct config_kv* in file order */
};
struct config_kv {
	char *key, *value; /* value with ${ENV} expanded, token_file read */
	int line;
	bool secret;       /* token, password, ... : never printed */
};

struct config {
	char *path;        /* file read, NULL when defaults only */
	/* [incident] */
	char *title, *severity, *journal, *socket, *service;
	/* [access] */
	struct ptrvec operators; /* char* */
	char *socket_group;
	/* [theme] */
	char *theme;
	/* [cadence] minutes */
	int cadence_first_external, cadence_external, cadence_internal;
	struct ptrvec sections;  /* struct config_section* */
};

/* Loads path (NULL: the default path; a missing default file gives the
 * defaults). On error returns NULL and writes "FILE:LINE: message" to err. */
struct config *config_load(const char *path, char *err, size_t errlen);
/* Defaults only: journal and socket under $XDG_STATE_HOME / $XDG_RUNTIME_DIR. */
struct config *config_defaults(void);
void config_free(struct config *cfg);

const char *config_default_path(char *buf, size_t len);
bool config_is_operator(const struct config *cfg, const char *user);
/* Key lookup within a section; NULL if absent. */
const char *config_get(const struct config_section *sec, const char *key);
const struct config_kv *config_get_kv(const struct config_section *sec, const char *key);
/* Find section by family and name (name NULL: first of family). */
const struct config_section *config_find(const struct config *cfg, const char *family,
					  const char *name);

#endif
