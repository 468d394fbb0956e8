/* The intent table: generated from INTENT_LIST so names, argument specs and
 * rights live in one place. */
#include "core/intent.h"

#include <stdio.h>
#include <string.h>

#include "core/event.h"

static const struct intent_def intent_defs[INT__COUNT] = {
#define X(e, nm, sp, rt, hp) [e] = {.name = nm, .spec = sp, .help = hp, .right = rt},
	INTENT_LIST(X)
#undef X
};

const struct intent_def *intent_def(enum intent_kind k)
{
	if ((unsigned)k >= INT__COUNT)
		return NULL;
	return &intent_defs[k];
}

int intent_from_name(const char *name)
{
	if (!name)
		return -1;
	for (int k = 0; k < INT__COUNT; k++)
		if (strcmp(intent_defs[k].name, name) == 0)
			return k;
	return -1;
}

/* True when field is one of the names in spec ("a:s,b:n?"). */
static bool spec_has_field(const char *spec, const char *field)
{
	size_t fl = strlen(field);
	for (const char *p = spec; p && *p;) {
		const char *colon = strchr(p, ':');
		if (!colon)
			break;
		if ((size_t)(colon - p) == fl && strncmp(p, field, fl) == 0)
			return true;
		p = strchr(colon, ',');
		if (p)
			p++;
	}
	return false;
}

bool intent_validate(enum intent_kind k, const cJSON *args, char *err, size_t errlen)
{
	const struct intent_def *d = intent_def(k);
	if (!d) {
		snprintf(err, errlen, "unknown intent");
		return false;
	}
	if (args && !cJSON_IsObject(args)) {
		snprintf(err, errlen, "%s: arguments must be an object", d->name);
		return false;
	}
	char e[200];
	if (!spec_validate(d->spec, args, e, sizeof e)) {
		snprintf(err, errlen, "%s: %s", d->name, e);
		return false;
	}
	/* A misspelt optional argument would otherwise be ignored silently. */
	for (const cJSON *it = args ? args->child : NULL; it; it = it->next)
		if (!it->string || !spec_has_field(d->spec, it->string)) {
			snprintf(err, errlen, "%s: unknown argument \"%s\"", d->name,
				 it->string ? it->string : "?");
			return false;
		}
	return true;
}
