/* Placeholder expansion for commands and bodies; see template.h. */
#include "backends/template.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/util.h"

const char *const template_rollback_names[] = {
	"service", "version", "to_version", "from_version", "user", "ref", NULL,
};

const char *const template_status_names[] = {
	"state", "message", "title", "impact", "severity", "service", "time", "user", NULL,
};

static bool name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || c == '_' || (!first && c >= '0' && c <= '9');
}

/* Length of "{name}" at p, or 0 when p does not start a placeholder. */
static size_t placeholder_len(const char *p)
{
	if (p[0] != '{' || !name_char(p[1], true))
		return 0;
	size_t i = 2;
	while (name_char(p[i], false))
		i++;
	return p[i] == '}' ? i + 1 : 0;
}

static const struct template_var *find_var(const struct template_var *vars, size_t n,
					   const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(vars[i].name) == len && strncmp(vars[i].name, name, len) == 0)
			return &vars[i];
	return NULL;
}

char *template_json_escape(const char *s)
{
	struct sbuf sb;
	sbuf_init(&sb);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '"': sbuf_adds(&sb, "\\\""); break;
		case '\\': sbuf_adds(&sb, "\\\\"); break;
		case '\n': sbuf_adds(&sb, "\\n"); break;
		case '\r': sbuf_adds(&sb, "\\r"); break;
		case '\t': sbuf_adds(&sb, "\\t"); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				sbuf_printf(&sb, "\\u%04x", *p);
			else
				sbuf_addc(&sb, (char)*p);
		}
	}
	return sbuf_detach(&sb);
}

char *template_url_escape(const char *s)
{
	struct sbuf sb;
	sbuf_init(&sb);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '.' || *p == '_' || *p == '~')
			sbuf_addc(&sb, (char)*p);
		else
			sbuf_printf(&sb, "%%%02X", *p);
	}
	return sbuf_detach(&sb);
}

/* Quoting context while scanning a shell command or a JSON document.
 * CTX_COMMENT: after a shell '#' that starts a word, up to the newline;
 * quotes there mean nothing and a value's newline would end the comment.
 * CTX_ANSI: bash's $'...', where \' does not end the quote. */
enum ctx { CTX_PLAIN, CTX_SQUOTE, CTX_DQUOTE, CTX_COMMENT, CTX_ANSI };

/* Shell characters after which (unquoted) a new word begins. */
static bool shell_word_break(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == ';' || ch == '&' || ch == '|' ||
	       ch == '(' || ch == ')' || ch == '<' || ch == '>';
}

static void add_shell(struct sbuf *sb, enum ctx c, const char *v)
{
	char *q = shell_quote(v);
	if (c == CTX_SQUOTE) {
		/* close the quote, add the quoted word part, reopen */
		sbuf_addc(sb, '\'');
		sbuf_adds(sb, q);
		sbuf_addc(sb, '\'');
	} else {
		sbuf_adds(sb, q);
	}
	free(q);
}

static void add_json(struct sbuf *sb, enum ctx c, const char *v)
{
	char *e = template_json_escape(v);
	if (c == CTX_DQUOTE) {
		sbuf_adds(sb, e);
	} else {
		sbuf_addc(sb, '"');
		sbuf_adds(sb, e);
		sbuf_addc(sb, '"');
	}
	free(e);
}

char *template_expand(const char *tmpl, enum template_mode mode, const struct template_var *vars,
		      size_t nvars, char *err, size_t errlen)
{
	struct sbuf sb;
	sbuf_init(&sb);
	enum ctx c = CTX_PLAIN;
	bool escaped = false; /* previous char was an active backslash */
	bool word_start = true; /* shell: the next char would begin a word */
	bool esc_start = false;  /* word_start before the backslash */
	bool dollar = false;     /* shell: the previous char was an unquoted '$' */
	int hex_left = 0;       /* JSON: digits still due in a \uXXXX escape */
	const char *p = tmpl ? tmpl : "";

	while (*p) {
		bool after_dollar = dollar;
		dollar = false;
		if (p[0] == '{' && p[1] == '{') {
			sbuf_addc(&sb, '{');
			p += 2;
			escaped = false;
			word_start = false;
			if (hex_left)
				hex_left--;
			continue;
		}
		size_t plen = placeholder_len(p);
		if (plen) {
			const char *name = p + 1;
			size_t nlen = plen - 2;
			const struct template_var *v = find_var(vars, nvars, name, nlen);
			if (!v) {
				snprintf(err, errlen, "unknown placeholder {%.*s}", (int)nlen, name);
				goto fail;
			}
			if (mode == TEMPLATE_SHELL) {
				if (escaped) {
					snprintf(err, errlen, "placeholder {%.*s} after a backslash: "
						 "write it bare (values are shell-quoted)", (int)nlen, name);
					goto fail;
				}
				if (c == CTX_DQUOTE) {
					snprintf(err, errlen, "placeholder {%.*s} inside double quotes: "
						 "write it bare (values are shell-quoted)", (int)nlen, name);
					goto fail;
				}
				if (c == CTX_ANSI) {
					snprintf(err, errlen, "placeholder {%.*s} inside $'...': write it "
						 "bare (values are shell-quoted)", (int)nlen, name);
					goto fail;
				}
				if (c == CTX_COMMENT) {
					snprintf(err, errlen, "placeholder {%.*s} in a # comment: a value "
						 "with a newline would end the comment", (int)nlen, name);
					goto fail;
				}
				if (c == CTX_PLAIN && sb.len && sb.buf[sb.len - 1] == '$') {
					snprintf(err, errlen, "write {%.*s}, not ${%.*s}",
						 (int)nlen, name, (int)nlen, name);
					goto fail;
				}
				add_shell(&sb, c, v->value);
			} else if (mode == TEMPLATE_JSON) {
				/* "\{x}" would let the value's first char, escaped or
				 * not, close the string */
				if (escaped || hex_left) {
					snprintf(err, errlen, "placeholder {%.*s} inside a backslash "
						 "escape", (int)nlen, name);
					goto fail;
				}
				add_json(&sb, c, v->value);
			} else {
				sbuf_adds(&sb, v->value ? v->value : "");
			}
			p += plen;
			escaped = false;
			word_start = false;
			continue;
		}

		char ch = *p++;
		sbuf_addc(&sb, ch);
		if (escaped) {
			escaped = false;
			/* backslash-newline vanishes: a word may still start after it */
			word_start = ch == '\n' && c == CTX_PLAIN ? esc_start : false;
			if (mode == TEMPLATE_JSON && ch == 'u')
				hex_left = 4;
			continue;
		}
		if (hex_left) {
			hex_left--;
			continue;
		}
		if (mode == TEMPLATE_SHELL) {
			if (c == CTX_PLAIN) {
				bool at_start = word_start;
				word_start = shell_word_break(ch);
				dollar = ch == '$';
				if (ch == '\\') escaped = true, esc_start = at_start;
				else if (ch == '\'') c = after_dollar ? CTX_ANSI : CTX_SQUOTE;
				else if (ch == '"') c = CTX_DQUOTE;
				else if (ch == '#' && at_start) c = CTX_COMMENT;
			} else if (c == CTX_COMMENT) {
				if (ch == '\n') {
					c = CTX_PLAIN;
					word_start = true;
				}
			} else if (c == CTX_SQUOTE) {
				if (ch == '\'') c = CTX_PLAIN;
			} else if (c == CTX_ANSI) {
				if (ch == '\\') escaped = true;
				else if (ch == '\'') c = CTX_PLAIN;
			} else {
				if (ch == '\\') escaped = true;
				else if (ch == '"') c = CTX_PLAIN;
			}
		} else if (mode == TEMPLATE_JSON) {
			/* CTX_DQUOTE: inside a JSON string */
			if (c == CTX_PLAIN && ch == '"')
				c = CTX_DQUOTE;
			else if (c == CTX_DQUOTE && ch == '\\')
				escaped = true;
			else if (c == CTX_DQUOTE && ch == '"')
				c = CTX_PLAIN;
		}
	}
	if (mode == TEMPLATE_SHELL && (c == CTX_SQUOTE || c == CTX_DQUOTE || c == CTX_ANSI)) {
		snprintf(err, errlen, "unterminated %s quote in command",
			 c == CTX_DQUOTE ? "double" : "single");
		goto fail;
	}
	if (mode == TEMPLATE_JSON) {
		/* one document: cJSON_Parse alone accepts anything after it */
		cJSON *j = cJSON_ParseWithOpts(sb.buf, NULL, 1);
		if (!j) {
			snprintf(err, errlen, "body is not valid JSON after expansion");
			goto fail;
		}
		cJSON_Delete(j);
	}
	return sbuf_detach(&sb);
fail:
	sbuf_free(&sb);
	return NULL;
}

bool template_check(const char *tmpl, enum template_mode mode, const char *const *names,
		    char *err, size_t errlen)
{
	size_t n = 0;
	while (names[n])
		n++;
	struct template_var *vars = xcalloc(n ? n : 1, sizeof *vars);
	for (size_t i = 0; i < n; i++) {
		vars[i].name = names[i];
		/* a nasty sample: quotes and a newline must survive every context */
		vars[i].value = "x'\"\\\n$";
	}
	char *out = template_expand(tmpl, mode, vars, n, err, errlen);
	free(vars);
	free(out);
	return out != NULL;
}

/* ---- section keys ------------------------------------------------------ */

const char *template_get(const struct config_section *sec, const char *key)
{
	const char *v = NULL;
	for (size_t i = 0; i < sec->keys.n; i++) {
		const struct config_kv *kv = sec->keys.v[i];
		if (strcmp(kv->key, key) == 0)
			v = kv->value;
	}
	return v;
}

void template_key_where(const struct config_section *sec, const char *file, const char *key,
			char *buf, size_t len)
{
	int line = sec->line;
	for (size_t i = 0; key && i < sec->keys.n; i++) {
		const struct config_kv *kv = sec->keys.v[i];
		if (strcmp(kv->key, key) == 0)
			line = kv->line;
	}
	snprintf(buf, len, "%s:%d: ", file ? file : "config", line);
}

bool template_check_keys(const struct config_section *sec, const char *file,
			 const char *const *allowed, char *err, size_t errlen)
{
	for (size_t i = 0; i < sec->keys.n; i++) {
		const struct config_kv *kv = sec->keys.v[i];
		if (strcmp(kv->key, "type") == 0 || strcmp(kv->key, "via") == 0)
			continue;
		bool ok = false;
		for (size_t k = 0; allowed[k] && !ok; k++)
			ok = strcmp(allowed[k], kv->key) == 0;
		if (ok)
			continue;
		struct sbuf sb;
		sbuf_init(&sb);
		for (size_t k = 0; allowed[k]; k++)
			sbuf_printf(&sb, "%s%s", k ? ", " : "", allowed[k]);
		snprintf(err, errlen, "%s:%d: unknown key '%s' in [%s %s] (%s takes: %s)",
			 file ? file : "config", kv->line, kv->key, sec->family, sec->name,
			 sec->type ? sec->type : "this type", sb.buf ? sb.buf : "");
		sbuf_free(&sb);
		return false;
	}
	return true;
}

long template_parse_seconds(const char *s)
{
	if (!s || !*s)
		return -1;
	char *end;
	long v = strtol(s, &end, 10);
	if (end == s || v < 0)
		return -1;
	if (*end == 's' && !end[1])
		return v;
	if (*end == 'm' && !end[1])
		return v * 60;
	return *end ? -1 : v;
}

char *template_expand_home(const char *path)
{
	if (path && path[0] == '~' && (path[1] == '/' || !path[1])) {
		const char *home = getenv("HOME");
		return xasprintf("%s%s", home && *home ? home : "", path + 1);
	}
	return xstrdup(path);
}
