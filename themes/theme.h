/* Colour themes: every colour on screen is referenced by a role; a theme maps
 * each role to a foreground, a background and attributes. Themes are text
 * files (themes/NAME.theme, "role = fg bg attrs" per line) with the same four
 * themes compiled in, so the binary works with no files installed. */
#ifndef WARROOM_THEME_H
#define WARROOM_THEME_H

#include <stdbool.h>
#include <stddef.h>

/* X(ENUM, "role name"). The one list of roles: the enum, the name table and
 * the theme file keys all come from it. */
#define THEME_ROLES(X) \
	X(THEME_NORMAL, "normal") \
	X(THEME_DIM, "dim") \
	X(THEME_HEADER, "header") \
	X(THEME_HEADER_SEV1, "header.sev1") \
	X(THEME_HEADER_SEV2, "header.sev2") \
	X(THEME_HEADER_SEV3, "header.sev3") \
	X(THEME_HEADER_SEV4, "header.sev4") \
	X(THEME_HEADER_STATE, "header.state") \
	X(THEME_TITLE, "title") \
	X(THEME_BORDER, "border") \
	X(THEME_FOCUS_BORDER, "focus.border") \
	X(THEME_SELECTION, "selection") \
	X(THEME_POINT, "point") \
	X(THEME_ALERT_CRIT, "alert.crit") \
	X(THEME_ALERT_WARN, "alert.warn") \
	X(THEME_ALERT_INFO, "alert.info") \
	X(THEME_ALERT_RESOLVED, "alert.resolved") \
	X(THEME_ALERT_SILENCED, "alert.silenced") \
	X(THEME_DEPLOY_MARKER, "deploy.marker") \
	X(THEME_DEPLOY_SUSPECT, "deploy.suspect") \
	X(THEME_DEPLOY_LASTGOOD, "deploy.lastgood") \
	X(THEME_CHART_AXIS, "chart.axis") \
	X(THEME_CHART_LINE, "chart.line") \
	X(THEME_CHART_SPIKE, "chart.spike") \
	X(THEME_ROLE_HOLDER, "role.holder") \
	X(THEME_ROLE_UNASSIGNED, "role.unassigned") \
	X(THEME_ROLE_ME, "role.me") \
	X(THEME_COMMS_TIME, "comms.time") \
	X(THEME_COMMS_BY, "comms.by") \
	X(THEME_COMMS_KIND_INCIDENT, "comms.kind.incident") \
	X(THEME_COMMS_KIND_ALERT, "comms.kind.alert") \
	X(THEME_COMMS_KIND_DEPLOY, "comms.kind.deploy") \
	X(THEME_COMMS_KIND_ANALYSIS, "comms.kind.analysis") \
	X(THEME_COMMS_KIND_ROLE, "comms.kind.role") \
	X(THEME_COMMS_KIND_NOTE, "comms.kind.note") \
	X(THEME_COMMS_KIND_UPDATE, "comms.kind.update") \
	X(THEME_COMMS_KIND_ACTION, "comms.kind.action") \
	X(THEME_COMMS_KIND_CLIENT, "comms.kind.client") \
	X(THEME_KEYBAR, "keybar") \
	X(THEME_KEYBAR_KEY, "keybar.key") \
	X(THEME_STATUS, "status") \
	X(THEME_ERROR, "error") \
	X(THEME_BANNER, "banner") \
	X(THEME_OVERLAY, "overlay") \
	X(THEME_OVERLAY_BORDER, "overlay.border") \
	X(THEME_PROMPT, "prompt") \
	X(THEME_STALE, "stale") \
	X(THEME_OK, "ok") \
	X(THEME_OVERDUE, "overdue")

enum theme_role {
#define X(e, name) e,
	THEME_ROLES(X)
#undef X
	THEME__COUNT
};

const char *theme_role_name(enum theme_role r);
int theme_role_from_name(const char *name); /* -1 if unknown */

#define THEME_ATTR_BOLD 0x1u
#define THEME_ATTR_UNDERLINE 0x2u
#define THEME_ATTR_REVERSE 0x4u
#define THEME_ATTR_DIM 0x8u

/* A colour is -1 (terminal default) or 0..255. */
struct theme_style {
	short fg, bg;
	unsigned attrs;
	bool set;          /* given by the file (others inherit "normal") */
};

struct theme {
	char *name;
	char *path;        /* file it came from, NULL when compiled in */
	struct theme_style style[THEME__COUNT];
	/* Filled by theme_apply for the current terminal: the curses attribute
	 * (colour pair included) for each role. */
	unsigned long attr[THEME__COUNT];
};

/* Parses theme text. Unknown roles, colours or attributes are errors naming
 * the line (NULL + err). */
struct theme *theme_parse(const char *name, const char *text, char *err, size_t errlen);
/* Finds NAME: $WARROOM_THEMES, themes/ next to the binary and in its parent,
 * $PREFIX/share/warroom/themes, then the compiled-in copy. NULL + err when
 * no theme of that name exists anywhere or a file is malformed. */
struct theme *theme_load(const char *name, char *err, size_t errlen);
void theme_free(struct theme *t);
/* Compiled-in theme names, NULL-terminated ("dark" first: the default). */
const char *const *theme_builtin_names(void);
/* The theme to start with: "mono" when NO_COLOR is set, else cfg_name, else
 * "dark". Never NULL (falls back to the compiled-in dark). */
struct theme *theme_initial(const char *cfg_name, char *err, size_t errlen);

/* Curses side (themes/theme.c): allocates colour pairs for the roles, mapping
 * 256-colour numbers down when the terminal has 8 or 16 colours and dropping
 * colour entirely when it has none. Call after start_color(). */
void theme_apply(struct theme *t);
/* Maps a 0..255 colour to the nearest of the first `ncolors` (8 or 16). */
short theme_map_colour(short c, int ncolors);

#endif
