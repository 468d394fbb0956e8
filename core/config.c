/* Configuration: INI read with libinih through a line-counting reader, so
 * every key keeps the line it came from and every error names FILE:LINE.
 * [incident], [access], [theme] and [cadence] are checked here; the keys of a
 * backend section ([alerts NAME] ...) are checked by that backend's class. */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"

#define SECRET_MAX 4096
#define CONFIG_MAX_LINE (64 * 1024)

struct loader {
	struct config *cfg;
	const char *file;
	FILE *fp;
	int line, header_line;
	int cur_header;               /* header line of the current section */
	bool cont;                    /* the line read is an indented continuation */
	bool mid_line;                /* the last chunk read did not end the line */
	char *last_key;               /* key of the last value, for continuations */
	struct sbuf simple;           /* a simple section's value being continued */
	struct config_section *cur;   /* current backend section, or NULL */
	char cur_name[128];           /* current section header as written */
	bool failed;
	char *err;
	size_t errlen;
};

static const char *const families[] = {"alerts", "metrics", "deploys", "rollback", "status", NULL};

static void ld_fail(struct loader *ld, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void ld_fail(struct loader *ld, int line, const char *fmt, ...)
{
	if (ld->failed)
		return;
	ld->failed = true;
	int n = snprintf(ld->err, ld->errlen, "%s:%d: ", ld->file, line);
	if (n < 0 || (size_t)n >= ld->errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

/* libinih reads through this so the loader always knows the current line. */
static char *ld_reader(char *str, int num, void *stream)
{
	struct loader *ld = stream;
	/* getc rather than fgets: a NUL byte would hide the rest of its line
	 * from strlen, and the line count would drift from libinih's */
	int n = 0, ch;
	/* libinih, growing its buffer for a long line, reads the new part
	 * even when this returns NULL: leave it terminated */
	if (num > 0)
		str[0] = '\0';
	while (n < num - 1 && (ch = getc(ld->fp)) != EOF) {
		if (ch == '\0') {
			str[0] = '\0';
			ld_fail(ld, ld->line + !ld->mid_line, "NUL byte in the line (not a text file?)");
			return NULL;
		}
		str[n++] = (char)ch;
		if (ch == '\n')
			break;
	}
	char *r = n ? str : NULL;
	if (r) {
		str[n] = '\0';
		/* libinih reads a long line in several chunks */
		bool starts = !ld->mid_line;
		ld->mid_line = str[n - 1] != '\n';
		if (!starts)
			return r;
		ld->line++;
		/* skip what libinih skips: a BOM first, then isspace() */
		size_t bom = ld->line == 1 && strncmp(str, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
		size_t ws = bom;
		while (str[ws] && isspace((unsigned char)str[ws]))
			ws++;
		char first = str[ws];
		if (first == '[')
			ld->header_line = ld->line;
		ld->cont = ws > bom && first && first != '\n' && first != '\r' && first != ';' &&
			   first != '#';
	}
	return r;
}

static bool key_is_secret(const char *key)
{
	return strcmp(key, "token") == 0 || strcmp(key, "password") == 0 ||
	       strcmp(key, "secret") == 0 || strstr(key, "_token") || strstr(key, "_secret");
}

/* Expands ${NAME} from the environment. A missing variable is an error: a
 * secret silently left empty would fail later, far from the cause. */
static char *expand_env(struct loader *ld, const char *value, bool *used_env)
{
	struct sbuf sb;
	sbuf_init(&sb);
	sbuf_adds(&sb, "");
	for (const char *p = value; *p;) {
		if (p[0] == '$' && p[1] == '{') {
			const char *end = strchr(p + 2, '}');
			if (!end) {
				ld_fail(ld, ld->line, "unclosed ${ in value");
				sbuf_free(&sb);
				return NULL;
			}
			char name[128];
			size_t n = (size_t)(end - p - 2);
			if (n == 0 || n >= sizeof name) {
				ld_fail(ld, ld->line, "bad environment variable name in value");
				sbuf_free(&sb);
				return NULL;
			}
			memcpy(name, p + 2, n);
			name[n] = '\0';
			const char *v = getenv(name);
			if (!v) {
				ld_fail(ld, ld->line, "environment variable %s is not set", name);
				sbuf_free(&sb);
				return NULL;
			}
			sbuf_adds(&sb, v);
			*used_env = true;
			p = end + 1;
		} else {
			sbuf_addc(&sb, *p++);
		}
	}
	return sbuf_detach(&sb);
}

/* token_file = PATH: the first line of the file, without its newline. */
static char *read_token_file(struct loader *ld, const char *path)
{
	char *p = (path[0] == '~' && path[1] == '/') ? xasprintf("%s%s", getenv("HOME") ? getenv("HOME") : "", path + 1)
						      : xstrdup(path);
	size_t len = 0;
	char *data = file_read_all(p, SECRET_MAX, &len);
	if (!data) {
		ld_fail(ld, ld->line, "token_file %s: %s", p, strerror(errno));
		free(p);
		return NULL;
	}
	free(p);
	data[strcspn(data, "\r\n")] = '\0';
	if (!*data) {
		ld_fail(ld, ld->line, "token_file %s is empty", path);
		free(data);
		return NULL;
	}
	return data;
}

static bool parse_minutes(struct loader *ld, const char *key, const char *v, int *out)
{
	char *end;
	errno = 0;
	long m = strtol(v, &end, 10);
	if (errno || end == v || *end || m < 1 || m > 24 * 60) {
		ld_fail(ld, ld->line, "%s must be a whole number of minutes from 1 to 1440, not '%s'", key, v);
		return false;
	}
	*out = (int)m;
	return true;
}

static bool valid_severity(const char *s)
{
	return strcmp(s, "SEV1") == 0 || strcmp(s, "SEV2") == 0 || strcmp(s, "SEV3") == 0 ||
	       strcmp(s, "SEV4") == 0;
}

static void set_operators(struct config *cfg, const char *v)
{
	ptrvec_free(&cfg->operators, free);
	const char *p = v;
	while (*p) {
		p += strspn(p, " \t,");
		size_t n = strcspn(p, " \t,");
		if (n)
			ptrvec_push(&cfg->operators, xstrndup(p, n));
		p += n;
	}
}

static void ld_simple(struct loader *ld, const char *section, const char *key, const char *v)
{
	struct config *cfg = ld->cfg;
	if (strcmp(section, "incident") == 0) {
		if (strcmp(key, "title") == 0)
			str_set(&cfg->title, v);
		else if (strcmp(key, "severity") == 0) {
			if (!valid_severity(v))
				ld_fail(ld, ld->line, "severity must be SEV1, SEV2, SEV3 or SEV4, not '%s'", v);
			else
				str_set(&cfg->severity, v);
		} else if (strcmp(key, "journal") == 0 || strcmp(key, "socket") == 0) {
			if (!*v) {
				ld_fail(ld, ld->line, "%s needs a path", key);
				return;
			}
			char *p = (v[0] == '~' && v[1] == '/') ? xasprintf("%s%s", getenv("HOME") ? getenv("HOME") : "", v + 1)
							 : xstrdup(v);
			str_set(key[0] == 'j' ? &cfg->journal : &cfg->socket, p);
			free(p);
		} else if (strcmp(key, "service") == 0)
			str_set(&cfg->service, v);
		else
			ld_fail(ld, ld->line, "unknown key '%s' in [incident] (takes: title, severity, "
				"journal, socket, service)", key);
	} else if (strcmp(section, "access") == 0) {
		if (strcmp(key, "operators") == 0)
			set_operators(cfg, v);
		else if (strcmp(key, "socket_group") == 0)
			str_set(&cfg->socket_group, *v ? v : NULL);
		else
			ld_fail(ld, ld->line, "unknown key '%s' in [access] (takes: operators, socket_group)", key);
	} else if (strcmp(section, "theme") == 0) {
		if (strcmp(key, "name") == 0)
			str_set(&cfg->theme, v);
		else
			ld_fail(ld, ld->line, "unknown key '%s' in [theme] (takes: name)", key);
	} else if (strcmp(section, "cadence") == 0) {
		if (strcmp(key, "first_external") == 0)
			parse_minutes(ld, key, v, &cfg->cadence_first_external);
		else if (strcmp(key, "external") == 0)
			parse_minutes(ld, key, v, &cfg->cadence_external);
		else if (strcmp(key, "internal") == 0)
			parse_minutes(ld, key, v, &cfg->cadence_internal);
		else
			ld_fail(ld, ld->line, "unknown key '%s' in [cadence] (takes: first_external, "
				"external, internal)", key);
	}
}

/* Starts a section on its first key (libinih reports a section only with its
 * keys); the reader remembers the header's line. */
static bool ld_section(struct loader *ld, const char *section)
{
	if (strcmp(ld->cur_name, section) == 0 && ld->cur_header == ld->header_line)
		return true;
	ld->cur_header = ld->header_line;
	snprintf(ld->cur_name, sizeof ld->cur_name, "%s", section);
	ld->cur = NULL;
	if (strcmp(section, "incident") == 0 || strcmp(section, "access") == 0 ||
	    strcmp(section, "theme") == 0 || strcmp(section, "cadence") == 0)
		return true;
	char fam[32];
	size_t n = strcspn(section, " \t");
	const char *name = section + n;
	name += strspn(name, " \t");
	bool known = false;
	for (size_t i = 0; families[i] && n < sizeof fam; i++)
		known |= strlen(families[i]) == n && strncmp(families[i], section, n) == 0;
	if (!known) {
		ld_fail(ld, ld->header_line, "unknown section [%s] (sections: incident, access, theme, "
			"cadence, alerts NAME, metrics NAME, deploys NAME, rollback SERVICE, status NAME)",
			section);
		return false;
	}
	memcpy(fam, section, n);
	fam[n] = '\0';
	if (!*name) {
		ld_fail(ld, ld->header_line, "[%s] needs a name: [%s NAME]", fam, fam);
		return false;
	}
	for (size_t i = 0; i < ld->cfg->sections.n; i++) {
		const struct config_section *s = ld->cfg->sections.v[i];
		if (strcmp(s->family, fam) == 0 && strcmp(s->name, name) == 0) {
			ld_fail(ld, ld->header_line, "[%s %s] appears twice (first at line %d)", fam, name,
				s->line);
			return false;
		}
	}
	struct config_section *sec = xcalloc(1, sizeof *sec);
	sec->family = xstrdup(fam);
	sec->name = xstrdup(name);
	sec->line = ld->header_line;
	ptrvec_push(&ld->cfg->sections, sec);
	ld->cur = sec;
	return true;
}

static int ld_handler(void *user, const char *section, const char *key, const char *value)
{
	struct loader *ld = user;
	if (ld->failed)
		return 0;
	if (!key) /* a section header with no keys yet (INI_CALL_HANDLER_ON_NEW_SECTION) */
		return 1;
	if (!*section) {
		ld_fail(ld, ld->line, "key '%s' outside any section", key);
		return 0;
	}
	if (!ld_section(ld, section))
		return 0;
	bool used_env = false;
	char *v = expand_env(ld, value ? value : "", &used_env);
	if (!v)
		return 0;
	/* An indented line continues the value above it (long queries, long
	 * operator lists): joined with one space. */
	bool cont = ld->cont && str_eq(ld->last_key, key);
	str_set(&ld->last_key, key);
	if (!ld->cur) {
		if (!cont)
			sbuf_reset(&ld->simple);
		sbuf_printf(&ld->simple, "%s%s", cont && ld->simple.len ? " " : "", v);
		free(v);
		ld_simple(ld, section, key, ld->simple.buf);
		return !ld->failed;
	}
	struct config_section *sec = ld->cur;
	if (cont && sec->keys.n) {
		struct config_kv *prev = sec->keys.v[sec->keys.n - 1];
		char *joined = xasprintf("%s %s", prev->value, v);
		free(v);
		free(prev->value);
		prev->value = joined;
		prev->secret |= used_env;
		if (strcmp(prev->key, "type") == 0 || strcmp(prev->key, "via") == 0)
			str_set(&sec->type, joined);
		return 1;
	}
	const char *k = key;
	bool secret = used_env || key_is_secret(key);
	if (strcmp(key, "token_file") == 0) {
		char *t = read_token_file(ld, v);
		free(v);
		if (!t)
			return 0;
		v = t;
		k = "token";
		secret = true;
	}
	if ((strcmp(k, "type") == 0 || strcmp(k, "via") == 0)) {
		bool rollback = strcmp(sec->family, "rollback") == 0;
		if (rollback != (strcmp(k, "via") == 0)) {
			ld_fail(ld, ld->line, "[%s %s] takes %s =, not %s =", sec->family, sec->name,
				rollback ? "via" : "type", k);
			free(v);
			return 0;
		}
		if (!*v) {
			ld_fail(ld, ld->line, "%s needs a value", k);
			free(v);
			return 0;
		}
		str_set(&sec->type, v);
	}
	for (size_t i = 0; i < sec->keys.n; i++) {
		const struct config_kv *o = sec->keys.v[i];
		if (strcmp(o->key, k) == 0) {
			ld_fail(ld, ld->line, "'%s' set twice in [%s %s] (first at line %d)", k,
				sec->family, sec->name, o->line);
			free(v);
			return 0;
		}
	}
	struct config_kv *kv = xcalloc(1, sizeof *kv);
	kv->key = xstrdup(k);
	kv->value = v;
	kv->line = ld->line;
	kv->secret = secret;
	ptrvec_push(&sec->keys, kv);
	return 1;
}

const char *config_default_path(char *buf, size_t len)
{
	const char *x = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	int n;
	if (x && *x)
		n = snprintf(buf, len, "%s/warroom/config.ini", x);
	else if (home && *home)
		n = snprintf(buf, len, "%s/.config/warroom/config.ini", home);
	else
		return NULL;
	return (n < 0 || (size_t)n >= len) ? NULL : buf;
}

struct config *config_defaults(void)
{
	struct config *cfg = xcalloc(1, sizeof *cfg);
	cfg->cadence_first_external = 5;
	cfg->cadence_external = 20;
	cfg->cadence_internal = 20;
	const char *st = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	if (st && *st)
		cfg->journal = xasprintf("%s/warroom/incident.jsonl", st);
	else if (home && *home)
		cfg->journal = xasprintf("%s/.local/state/warroom/incident.jsonl", home);
	else
		cfg->journal = xasprintf("/tmp/warroom-%u/incident.jsonl", (unsigned)getuid());
	return cfg;
}

static bool config_check(struct config *cfg, struct loader *ld)
{
	for (size_t i = 0; i < cfg->sections.n; i++) {
		const struct config_section *s = cfg->sections.v[i];
		if (!s->type) {
			ld_fail(ld, s->line, "[%s %s] needs %s = ...", s->family, s->name,
				strcmp(s->family, "rollback") == 0 ? "via" : "type");
			return false;
		}
	}
	return true;
}

struct config *config_load(const char *path, char *err, size_t errlen)
{
	char def[4096];
	bool explicit = path && *path;
	if (!explicit)
		path = config_default_path(def, sizeof def);
	struct config *cfg = config_defaults();
	if (!path)
		return cfg;
	FILE *fp = fopen(path, "r");
	if (!fp) {
		if (!explicit && errno == ENOENT)
			return cfg;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		config_free(cfg);
		return NULL;
	}
	cfg->path = xstrdup(path);
	struct loader ld = {.cfg = cfg, .file = path, .fp = fp, .err = err, .errlen = errlen};
	sbuf_init(&ld.simple);
	/* ';' belongs to values (shell commands, URLs): comments are whole lines
	 * starting with ';' or '#'. Lines may be long (PromQL queries). */
	ini_allow_inline_comments = false;
	ini_allow_multiline = true;
	ini_use_stack = false;
	ini_allow_realloc = true;
	ini_max_line = CONFIG_MAX_LINE;
	int rc = ini_parse_stream(ld_reader, &ld, ld_handler, &ld);
	sbuf_free(&ld.simple);
	free(ld.last_key);
	bool read_error = ferror(fp);
	fclose(fp);
	if (rc > 0 && !ld.failed)
		ld_fail(&ld, rc, "cannot parse this line (expected [section], key = value or a "
			"comment)");
	if (rc < 0 || read_error) {
		snprintf(err, errlen, "%s: cannot read the file", path);
		config_free(cfg);
		return NULL;
	}
	if (ld.failed || !config_check(cfg, &ld)) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

static void kv_free(void *p)
{
	struct config_kv *kv = p;
	if (kv->secret && kv->value)
		memset(kv->value, 0, strlen(kv->value));
	free(kv->key);
	free(kv->value);
	free(kv);
}

static void section_free(void *p)
{
	struct config_section *s = p;
	free(s->family);
	free(s->name);
	free(s->type);
	ptrvec_free(&s->keys, kv_free);
	free(s);
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->title);
	free(cfg->severity);
	free(cfg->journal);
	free(cfg->socket);
	free(cfg->service);
	ptrvec_free(&cfg->operators, free);
	free(cfg->socket_group);
	free(cfg->theme);
	ptrvec_free(&cfg->sections, section_free);
	free(cfg);
}

bool config_is_operator(const struct config *cfg, const char *user)
{
	for (size_t i = 0; cfg && user && i < cfg->operators.n; i++)
		if (strcmp(cfg->operators.v[i], user) == 0)
			return true;
	return false;
}

const struct config_kv *config_get_kv(const struct config_section *sec, const char *key)
{
	for (size_t i = 0; sec && i < sec->keys.n; i++) {
		const struct config_kv *kv = sec->keys.v[i];
		if (strcmp(kv->key, key) == 0)
			return kv;
	}
	return NULL;
}

const char *config_get(const struct config_section *sec, const char *key)
{
	const struct config_kv *kv = config_get_kv(sec, key);
	return kv ? kv->value : NULL;
}

const struct config_section *config_find(const struct config *cfg, const char *family,
					  const char *name)
{
	for (size_t i = 0; cfg && i < cfg->sections.n; i++) {
		const struct config_section *s = cfg->sections.v[i];
		if (strcmp(s->family, family) == 0 && (!name || strcmp(s->name, name) == 0))
			return s;
	}
	return NULL;
}
