/* `?`: every key, generated from the key table, the focused pane's own
 * keys, and the command-line verbs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "tui/console.h"

void help_open(struct console *c)
{
	struct ptrvec lines = {0};
	struct pane *p = &c->panes[c->focus];
	ptrvec_push(&lines, xstrdup("KEYS (anywhere)"));
	for (size_t i = 0; i < key_binding_count; i++) {
		const struct key_binding *k = &key_bindings[i];
		if (k->help)
			ptrvec_push(&lines, xasprintf("  %-14s %s", k->label, k->help));
	}
	if (p->cls->help && p->cls->help[0].key) {
		ptrvec_push(&lines, xstrdup(""));
		ptrvec_push(&lines, xasprintf("KEYS in %s", c->utf8 ? p->cls->title_utf8 : p->cls->title_ascii));
		for (const struct pane_help *h = p->cls->help; h->key; h++)
			ptrvec_push(&lines, xasprintf("  %-14s %s", h->key, h->text));
	}
	ptrvec_push(&lines, xstrdup(""));
	ptrvec_push(&lines, xstrdup("COMMANDS (after :)"));
	cmdline_help(&lines);
	ptrvec_push(&lines, xstrdup(""));
	ptrvec_push(&lines, xstrdup("Esc, q or ? closes this help; j k PgDn PgUp scroll."));
	details_open(c, "HELP", (const char *const *)lines.v, lines.n);
	ptrvec_free(&lines, free);
}
