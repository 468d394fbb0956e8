/* Templates for action commands and request bodies: "{name}" placeholders
 * filled from a table of values. Each mode escapes for where the text goes:
 *   TEMPLATE_SHELL  a POSIX sh command line: every value arrives as one literal
 *                   word whatever it contains (shell-quoted; inside '...' the
 *                   quote is closed and reopened around it). A placeholder inside
 *                   "...", bash's $'...', after a backslash or in a # comment is refused,
 *                   since no quoting is safe there.
 *   TEMPLATE_JSON   a JSON document: inside a string the value is escaped,
 *                   elsewhere it becomes a whole JSON string; a placeholder
 *                   inside a backslash escape is refused. The result must be
 *                   exactly one JSON document.
 *   TEMPLATE_TEXT   plain text, values inserted as they are (messages).
 * "{" not followed by a name and "}" is literal; "{{" is a literal "{". An
 * unknown name is an error, so typos show up at configure time. */
#ifndef WARROOM_TEMPLATE_H
#define WARROOM_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

enum template_mode { TEMPLATE_SHELL, TEMPLATE_JSON, TEMPLATE_TEXT };

struct template_var {
	const char *name;
	const char *value; /* NULL expands to "" */
};

/* Returns the expansion (caller frees), or NULL with a reason in err. */
char *template_expand(const char *tmpl, enum template_mode mode, const struct template_var *vars,
		      size_t nvars, char *err, size_t errlen);

/* Checks a template against the allowed names (a NULL-terminated list) by
 * expanding it with sample values; false with a reason in err. */
bool template_check(const char *tmpl, enum template_mode mode, const char *const *names,
		    char *err, size_t errlen);

/* JSON string contents for s (no surrounding quotes); caller frees. */
char *template_json_escape(const char *s);
/* Percent-encodes everything but unreserved characters (RFC 3986). */
char *template_url_escape(const char *s);

/* Helpers shared by the rollback and status classes for their section keys. */
struct config_section;
/* false + "FILE:LINE: unknown key ..." when sec has a key not in allowed
 * (NULL-terminated; "type" and "via" are always allowed). */
bool template_check_keys(const struct config_section *sec, const char *file,
			 const char *const *allowed, char *err, size_t errlen);
/* A key's value, NULL when absent (the last one wins). */
const char *template_get(const struct config_section *sec, const char *key);
/* "FILE:LINE: " prefix for a key's line (the section's line when absent). */
void template_key_where(const struct config_section *sec, const char *file, const char *key,
			char *buf, size_t len);
/* Seconds as "120", "90s", "2m"; -1 when malformed. */
long template_parse_seconds(const char *s);
/* "~/x" -> "$HOME/x"; others copied. Caller frees. */
char *template_expand_home(const char *path);

/* The names every rollback and status template may use. */
extern const char *const template_rollback_names[];
extern const char *const template_status_names[];

#endif
