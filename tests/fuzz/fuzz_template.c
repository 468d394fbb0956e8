/* Templates for commands and bodies. Input: the template, then up to three
 * values, separated by NUL bytes (a missing value is NULL). Placeholders
 * are {a}, {b}, {c}. Whenever an expansion succeeds:
 *   TEMPLATE_SHELL  a small sh word splitter (POSIX, plus bash's $'...')
 *                   reads the result as the same words and operators as
 *                   the template itself with each value taken literally: no
 *                   value can end a word, quote, comment or command, or
 *                   reach an expansion;
 *   TEMPLATE_JSON   the result is one JSON document, and it is the document
 *                   the template gives with marker values, each marker
 *                   replaced by its value: values land inside strings only;
 *   TEMPLATE_TEXT   the result is the marker expansion with the values put
 *                   in. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends/template.h"
#include "core/util.h"

const char *const fuzz_target_name = "template";

#define NVARS 3
static const char *const var_names[NVARS] = {"a", "b", "c"};
static const char *const markers[NVARS] = {"\001A\001", "\001B\001", "\001C\001"};

/* ---- a small POSIX sh tokenizer -------------------------------------- */

/* Serialises what sh would make of s: words as 'W' (then 'L' or 'A' and a
 * byte per character: literal, or active for expansion or globbing) 'E',
 * operators as 'O' and the byte, an unterminated quote as 'U'. With vars,
 * placeholders in s are read as the template engine reads them and each
 * value's bytes join the current word as literal characters. */
enum sh_state { SH_PLAIN, SH_SQUOTE, SH_DQUOTE, SH_COMMENT, SH_ANSI };

struct sh {
	struct sbuf *out;
	bool in_word;
	bool dollar; /* the last char was an unquoted '$' (bash: $'...' follows) */
	enum sh_state st;
};

static void sh_word(struct sh *sh)
{
	if (!sh->in_word)
		sbuf_addc(sh->out, 'W');
	sh->in_word = true;
}

static void sh_end(struct sh *sh)
{
	if (sh->in_word)
		sbuf_addc(sh->out, 'E');
	sh->in_word = false;
}

static void sh_char(struct sh *sh, char c, bool active)
{
	sh_word(sh);
	sbuf_addc(sh->out, active ? 'A' : 'L');
	sbuf_addc(sh->out, c);
}

static size_t placeholder_at(const char *p)
{
	if (p[0] != '{' || !((p[1] >= 'a' && p[1] <= 'z') || p[1] == '_'))
		return 0;
	size_t i = 2;
	while ((p[i] >= 'a' && p[i] <= 'z') || p[i] == '_' || (p[i] >= '0' && p[i] <= '9'))
		i++;
	return p[i] == '}' ? i + 1 : 0;
}

static const char *value_of(const char *p, size_t plen, const char *const *vals)
{
	for (size_t i = 0; i < NVARS; i++)
		if (plen - 2 == strlen(var_names[i]) && strncmp(p + 1, var_names[i], plen - 2) == 0)
			return vals[i] ? vals[i] : "";
	abort(); /* the expansion succeeded, so every name is known */
}

/* The next unit of s at *i: a raw byte (returns 1, *c set) or, reading a
 * template, a value (returns 2, *v set). 0 at the end. */
static int sh_next(const char *s, size_t *i, const char *const *vals, char *c, const char **v)
{
	if (!s[*i])
		return 0;
	if (vals && s[*i] == '{' && s[*i + 1] == '{') {
		*c = '{';
		*i += 2;
		return 1;
	}
	size_t plen = vals ? placeholder_at(s + *i) : 0;
	if (plen) {
		*v = value_of(s + *i, plen, vals);
		*i += plen;
		return 2;
	}
	*c = s[(*i)++];
	return 1;
}

static void sh_split(const char *s, const char *const *vals, struct sbuf *out)
{
	struct sh sh = {.out = out, .st = SH_PLAIN};
	size_t i = 0;
	char c;
	const char *v;
	int k;
	while ((k = sh_next(s, &i, vals, &c, &v))) {
		bool after_dollar = sh.dollar;
		sh.dollar = false;
		if (k == 2) {
			if (sh.st == SH_COMMENT)
				continue; /* meant as a literal part of the comment */
			sh_word(&sh);
			for (; *v; v++)
				sh_char(&sh, *v, false);
			continue;
		}
		switch (sh.st) {
		case SH_COMMENT:
			if (c == '\n') {
				sh.st = SH_PLAIN;
				sbuf_adds(out, "O\n");
			}
			break;
		case SH_SQUOTE:
			if (c == '\'')
				sh.st = SH_PLAIN;
			else
				sh_char(&sh, c, false);
			break;
		case SH_ANSI:
			/* bash's $'...': a backslash takes the next char with it */
			if (c == '\'') {
				sh.st = SH_PLAIN;
			} else if (c == '\\') {
				char n;
				const char *nv;
				sh_char(&sh, c, false);
				int nk = sh_next(s, &i, vals, &n, &nv);
				if (nk == 1)
					sh_char(&sh, n, false);
				else if (nk == 2)
					abort(); /* the engine refuses a value inside $'...' */
			} else {
				sh_char(&sh, c, false);
			}
			break;
		case SH_DQUOTE:
			if (c == '"') {
				sh.st = SH_PLAIN;
			} else if (c == '\\') {
				size_t at = i;
				char n;
				const char *nv;
				int nk = sh_next(s, &i, vals, &n, &nv);
				if (nk == 1 && strchr("$`\"\\\n", n)) {
					if (n != '\n')
						sh_char(&sh, n, false);
				} else {
					i = at;
					sh_char(&sh, '\\', false);
				}
			} else {
				sh_char(&sh, c, c == '$' || c == '`');
			}
			break;
		case SH_PLAIN:
			if (c == ' ' || c == '\t') {
				sh_end(&sh);
			} else if (strchr("\n;&|<>()", c)) {
				sh_end(&sh);
				sbuf_addc(out, 'O');
				sbuf_addc(out, c);
			} else if (c == '\\') {
				char n;
				const char *nv;
				int nk = sh_next(s, &i, vals, &n, &nv);
				if (nk == 1 && n != '\n')
					sh_char(&sh, n, false);
				else if (nk == 2)
					abort(); /* the engine refuses a placeholder after '\' */
				else if (nk == 0)
					sh_char(&sh, '\\', false);
			} else if (c == '\'') {
				sh_word(&sh);
				sh.st = after_dollar ? SH_ANSI : SH_SQUOTE;
			} else if (c == '"') {
				sh_word(&sh);
				sh.st = SH_DQUOTE;
			} else if (c == '#' && !sh.in_word) {
				sh.st = SH_COMMENT;
			} else {
				bool active = strchr("$`*?[", c) || (c == '~' && !sh.in_word);
				sh_char(&sh, c, active);
				sh.dollar = c == '$';
			}
			break;
		}
	}
	sh_end(&sh);
	if (sh.st == SH_SQUOTE || sh.st == SH_DQUOTE || sh.st == SH_ANSI)
		sbuf_addc(out, 'U');
}

static void check_shell(const char *tmpl, const struct template_var *vars, const char *const *vals)
{
	char err[256];
	char *cmd = template_expand(tmpl, TEMPLATE_SHELL, vars, NVARS, err, sizeof err);
	if (!cmd)
		return;
	struct sbuf got, want;
	sbuf_init(&got);
	sbuf_init(&want);
	sbuf_adds(&got, "");
	sbuf_adds(&want, "");
	sh_split(cmd, NULL, &got);
	sh_split(tmpl, vals, &want);
	if (got.len != want.len || memcmp(got.buf, want.buf, got.len) != 0)
		abort();
	sbuf_free(&got);
	sbuf_free(&want);
	free(cmd);
}

/* ---- JSON and text: marker values ------------------------------------ */

/* s with every marker replaced by its value; caller frees. */
static char *unmark(const char *s, const char *const *vals)
{
	struct sbuf sb;
	sbuf_init(&sb);
	sbuf_adds(&sb, "");
	while (*s) {
		size_t i;
		for (i = 0; i < NVARS; i++)
			if (strncmp(s, markers[i], strlen(markers[i])) == 0)
				break;
		if (i < NVARS) {
			sbuf_adds(&sb, vals[i] ? vals[i] : "");
			s += strlen(markers[i]);
		} else {
			sbuf_addc(&sb, *s++);
		}
	}
	return sbuf_detach(&sb);
}

static bool str_same(const char *got, const char *marked, const char *const *vals)
{
	if (!got || !marked)
		return got == marked;
	char *want = unmark(marked, vals);
	bool same = strcmp(got, want) == 0;
	free(want);
	return same;
}

/* got is the document with the values; marked the one with markers. */
static bool json_same(const cJSON *got, const cJSON *marked, const char *const *vals)
{
	if ((got->type & 0xFF) != (marked->type & 0xFF))
		return false;
	if (!str_same(got->string, marked->string, vals))
		return false;
	if (cJSON_IsString(got))
		return str_same(got->valuestring, marked->valuestring, vals);
	if (cJSON_IsNumber(got))
		return got->valuedouble == marked->valuedouble;
	const cJSON *a = got->child, *b = marked->child;
	for (; a && b; a = a->next, b = b->next)
		if (!json_same(a, b, vals))
			return false;
	return !a && !b;
}

static void check_json(const char *tmpl, const struct template_var *vars,
		       const struct template_var *mvars, const char *const *vals)
{
	char err[256];
	char *body = template_expand(tmpl, TEMPLATE_JSON, vars, NVARS, err, sizeof err);
	char *mbody = template_expand(tmpl, TEMPLATE_JSON, mvars, NVARS, err, sizeof err);
	/* whether it expands cannot depend on what the values hold */
	if (!body != !mbody)
		abort();
	if (body) {
		cJSON *got = cJSON_ParseWithOpts(body, NULL, 1);
		cJSON *marked = cJSON_ParseWithOpts(mbody, NULL, 1);
		if (!got || !marked || !json_same(got, marked, vals))
			abort();
		cJSON_Delete(got);
		cJSON_Delete(marked);
	}
	free(body);
	free(mbody);
}

static void check_text(const char *tmpl, const struct template_var *vars,
		       const struct template_var *mvars, const char *const *vals)
{
	char err[256];
	char *out = template_expand(tmpl, TEMPLATE_TEXT, vars, NVARS, err, sizeof err);
	char *mout = template_expand(tmpl, TEMPLATE_TEXT, mvars, NVARS, err, sizeof err);
	if (!out != !mout)
		abort();
	if (out && !str_same(out, mout, vals))
		abort();
	free(out);
	free(mout);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	memcpy(buf, data, size);
	buf[size] = '\0';
	/* template \0 a \0 b \0 c */
	const char *parts[1 + NVARS] = {buf, NULL, NULL, NULL};
	size_t at = strlen(buf);
	for (size_t i = 1; i <= NVARS && at < size; i++) {
		parts[i] = buf + at + 1;
		at += 1 + strlen(parts[i]);
	}
	const char *tmpl = parts[0];
	const char *const *vals = parts + 1;
	struct template_var vars[NVARS], mvars[NVARS];
	for (size_t i = 0; i < NVARS; i++) {
		vars[i] = (struct template_var){var_names[i], vals[i]};
		mvars[i] = (struct template_var){var_names[i], markers[i]};
	}
	check_shell(tmpl, vars, vals);
	/* markers must not occur in the template or the values */
	bool clean = !memchr(data, '\001', size);
	if (clean) {
		check_json(tmpl, vars, mvars, vals);
		check_text(tmpl, vars, mvars, vals);
	} else {
		char err[256];
		free(template_expand(tmpl, TEMPLATE_JSON, vars, NVARS, err, sizeof err));
		free(template_expand(tmpl, TEMPLATE_TEXT, vars, NVARS, err, sizeof err));
	}
	free(buf);
	return 0;
}
