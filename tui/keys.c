/* Global keys: one table drives dispatch, the key bar and the help overlay.
 * The focused pane sees every key first and may take it; what it leaves
 * comes here. Keys that belong to another pane (r, g, + -, arrows for the
 * timeline; s U for alerts; x f for the roster) are forwarded to it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "tui/console.h"
#include "tui/replay.h"

#define CTRL(k) ((k) & 0x1f)
#define KEY_ESC 27

static unsigned forward(struct console *c, const char *pane, int key)
{
	struct pane *p = console_pane(c, pane);
	if (!p || !p->cls->key)
		return 0;
	console_refresh_ctx(c);
	return p->cls->key(p, &c->ctx, key);
}

static void k_help(struct console *c, int key)
{
	help_open(c);
}

static void k_cmdline(struct console *c, int key)
{
	cmdline_open(c);
}

static void note_done(void *arg, const char *text)
{
	struct console *c = arg;
	if (!text)
		return;
	while (*text == ' ')
		text++;
	if (!*text) {
		console_message(c, false, "empty note not sent");
		return;
	}
	cJSON *args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "text", text);
	console_intent(c, "note", args, NULL, NULL);
}

static void k_note(struct console *c, int key)
{
	prompt_open(c, "Note:", NULL, note_done, c);
}

static void assign_done(void *arg, int index)
{
	struct console *c = arg;
	if (index < 0 || index >= ROLE__COUNT)
		return;
	const char *me = c->client ? client_user(c->client) : NULL;
	if (!me)
		return;
	cJSON *args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "role", role_id((enum role)index));
	cJSON_AddStringToObject(args, "user", me);
	console_intent(c, "assign", args, NULL, NULL);
}

static void k_assign(struct console *c, int key)
{
	const char *items[ROLE__COUNT];
	for (int i = 0; i < ROLE__COUNT; i++)
		items[i] = role_label((enum role)i);
	choose_open(c, "Take which role?", items, ROLE__COUNT, 0, assign_done, c);
}

static void k_rollback(struct console *c, int key)
{
	if (!(forward(c, "timeline", 'r') & PANE_HANDLED))
		console_message(c, false, "no deploy to roll back; try :rollback SERVICE --to VERSION");
}

static void k_update(struct console *c, int key)
{
	console_refresh_ctx(c);
	composer_open(&c->ctx);
}

static void k_silence(struct console *c, int key)
{
	if (!(forward(c, "alerts", key) & PANE_HANDLED))
		console_message(c, false, "select an alert in the alerts pane (1)");
}

static void k_suspect(struct console *c, int key)
{
	int i = pane_class_index("timeline");
	if (i < 0)
		return;
	console_focus(c, i);
	forward(c, "timeline", 'g');
}

static void k_next(struct console *c, int key)
{
	console_focus(c, (c->focus + 1) % LAYOUT_PANES);
}

static void k_prev(struct console *c, int key)
{
	console_focus(c, (c->focus + LAYOUT_PANES - 1) % LAYOUT_PANES);
}

static void k_pane(struct console *c, int key)
{
	console_focus(c, key - '1');
}

static void k_quit(struct console *c, int key)
{
	console_request_quit(c);
}

static void filter_done(void *arg, const char *text)
{
	struct console *c = arg;
	if (!text)
		return;
	struct pane *p = &c->panes[c->focus];
	while (*text == ' ')
		text++;
	free(p->filter);
	p->filter = *text ? xstrdup(text) : NULL;
	p->sel = 0;
	p->scroll = 0;
	console_dirty(c);
}

static void k_filter(struct console *c, int key)
{
	struct pane *p = &c->panes[c->focus];
	char label[64];
	snprintf(label, sizeof label, "Filter %s:", p->cls->name);
	prompt_open(c, label, p->filter, filter_done, c);
}

static void k_escape(struct console *c, int key)
{
	struct pane *p = &c->panes[c->focus];
	if (p->filter) {
		free(p->filter);
		p->filter = NULL;
		console_message(c, false, "filter cleared");
	}
}

static void k_release(struct console *c, int key)
{
	if (!(forward(c, "roster", 'x') & PANE_HANDLED))
		console_message(c, false, "select a role in the roles pane (3)");
	else if (c->focus != pane_class_index("roster"))
		console_message(c, false, "released the role selected in the roles pane");
}

static void state_done(void *arg, int index)
{
	struct console *c = arg;
	static const char *const states[] = {"investigating", "identified", "monitoring", "resolved"};
	if (index < 0 || index >= 4)
		return;
	cJSON *args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "state", states[index]);
	console_intent(c, "set-state", args, NULL, NULL);
}

static void k_set_state(struct console *c, int key)
{
	static const char *const items[] = {"investigating", "identified", "monitoring", "resolved"};
	int def = 0;
	const struct state *st = console_state(c);
	if (st->inc_state >= INC_INVESTIGATING && st->inc_state <= INC_RESOLVED)
		def = (int)st->inc_state - INC_INVESTIGATING;
	choose_open(c, "Incident state", items, 4, def, state_done, c);
}

static void k_approve(struct console *c, int key)
{
	const struct action *a = screen_pending_action(console_state(c));
	if (!a) {
		console_message(c, false, "nothing waits for approval");
		return;
	}
	cJSON *args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "id", a->id);
	console_intent(c, key == 'y' ? "approve" : "cancel", args, NULL, NULL);
}

static void k_timeline(struct console *c, int key)
{
	forward(c, "timeline", key);
}

static void k_follow(struct console *c, int key)
{
	struct pane *p = console_pane(c, "roster");
	char sel[300] = "";
	console_refresh_ctx(c);
	if (p && p->cls->selection)
		p->cls->selection(p, &c->ctx, sel, sizeof sel);
	if (strncmp(sel, "user:", 5)) {
		console_message(c, false, "select a person in the roles pane (3), then f");
		return;
	}
	/* On myself: my other terminal (console_follow says if there is none). */
	console_follow(c, sel + 5);
}

static void k_point(struct console *c, int key)
{
	struct pane *p = &c->panes[c->focus];
	char sel[400] = "";
	console_refresh_ctx(c);
	if (!p->cls->selection || !p->cls->selection(p, &c->ctx, sel, sizeof sel)) {
		console_message(c, false, "nothing selected to point at");
		return;
	}
	cJSON *args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "target", sel);
	console_intent(c, "point", args, NULL, NULL);
}

static void k_redraw(struct console *c, int key)
{
	console_repaint(c);
}

/* Keys the panes handle themselves, listed so help shows them (fn NULL). */
const struct key_binding key_bindings[] = {
	{'?', 0, "?", "help", 0, "this help: every key", k_help},
	{':', 0, ":", "cmd", 0, "command line (the same verbs as the CLI)", k_cmdline},
	{'n', 0, "n", "note", 1, "add a note to the comms log", k_note},
	{'a', 0, "a", "assign", 1, "take a role (picker; in the roles pane: the selected role)", k_assign},
	{'r', 0, "r", "rollback", 0, "roll back the selected deploy, or the top suspect (confirms first)",
	 k_rollback},
	{'u', 0, "u", "update", 1, "post a status update (composer)", k_update},
	{'s', 0, "s", "silence", 3, "silence the selected alert (asks minutes, default 60)", k_silence},
	{'g', 0, "g", "suspect", 2, "jump to the top suspect deploy", k_suspect},
	{'\t', 0, "Tab", "pane", 2, "focus the next pane", k_next},
	{'q', 0, "q", "quit", 0, "quit (asks when you are the last operator attached)", k_quit},
	{KEY_BTAB, 0, "Shift-Tab", NULL, 0, "focus the previous pane", k_prev},
	{'1', 0, "1 2 3 4", NULL, 0, "focus alerts / timeline / roles / comms", k_pane},
	{'2', 0, "2", NULL, 0, NULL, k_pane},
	{'3', 0, "3", NULL, 0, NULL, k_pane},
	{'4', 0, "4", NULL, 0, NULL, k_pane},
	{'j', KEY_DOWN, "j k / Down Up", NULL, 0, "move the selection", NULL},
	{KEY_NPAGE, KEY_PPAGE, "PgDn PgUp", NULL, 0, "scroll a page", NULL},
	{KEY_HOME, KEY_END, "Home End G", NULL, 0, "first / last item", NULL},
	{'\r', KEY_ENTER, "Enter", NULL, 0, "details of the selected item", NULL},
	{'/', 0, "/", NULL, 0, "filter the focused pane (empty clears)", k_filter},
	{KEY_ESC, 0, "Esc", NULL, 0, "close a dialog, cancel a prompt, clear the filter", k_escape},
	{'x', 0, "x", NULL, 0, "release the selected role (roles pane)", k_release},
	{'U', 0, "U", NULL, 0, "unsilence the selected alert", k_silence},
	{'S', 0, "S", NULL, 0, "set the incident state (picker)", k_set_state},
	{'y', 0, "y", NULL, 0, "approve the action in the banner", k_approve},
	{'c', 0, "c", NULL, 0, "cancel the action in the banner", k_approve},
	{'+', '=', "+ -", NULL, 0, "zoom the timeline in / out", k_timeline},
	{'-', 0, "-", NULL, 0, NULL, k_timeline},
	{KEY_LEFT, KEY_RIGHT, "Left Right", NULL, 0, "previous / next deploy (timeline)", k_timeline},
	{'f', 0, "f", NULL, 0, "follow the selected person (roles pane); any key stops", k_follow},
	{'p', 0, "p", NULL, 0, "point at the selected item on every screen", k_point},
	{CTRL('L'), 0, "Ctrl-L", NULL, 0, "repaint the screen", k_redraw},
	/* replay sessions only: taken before the panes (space pages lists elsewhere) */
	{' ', 0, "Space", NULL, 0, "replay: pause / resume", NULL},
	{']', '[', "] [", NULL, 0, "replay: one minute forward / back", NULL},
	{'}', 0, "}", NULL, 0, "replay: ten minutes forward", NULL},
	{'>', '<', "> <", NULL, 0, "replay: twice / half the speed", NULL},
};
const size_t key_binding_count = sizeof key_bindings / sizeof key_bindings[0];

bool keys_dispatch(struct console *c, int key)
{
	struct pane *p = &c->panes[c->focus];
	if (c->opts->replay && replay_console_key(c, key))
		return true;
	if (p->cls->key) {
		console_refresh_ctx(c);
		unsigned r = p->cls->key(p, &c->ctx, key);
		if (r & PANE_HANDLED)
			return true;
	}
	for (size_t i = 0; i < key_binding_count; i++) {
		const struct key_binding *k = &key_bindings[i];
		if ((k->key == key || (k->alt && k->alt == key)) && k->fn) {
			k->fn(c, key);
			return true;
		}
	}
	/* Enter and arrows on an empty pane are not worth a message. */
	if (key >= 0x20 && key < 0x7f) {
		console_message(c, false, "%c: no such key here (? lists every key)", key);
	}
	return false;
}

const char *keys_name(int key, char *buf, size_t len)
{
	for (size_t i = 0; i < key_binding_count; i++)
		if (key_bindings[i].key == key) {
			snprintf(buf, len, "%s", key_bindings[i].label);
			return buf;
		}
	if (key >= 0x20 && key < 0x7f)
		snprintf(buf, len, "%c", key);
	else if (key < 0x20)
		snprintf(buf, len, "Ctrl-%c", key + '@');
	else
		snprintf(buf, len, "%s", keyname(key) ? keyname(key) : "?");
	return buf;
}
