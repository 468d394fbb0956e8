/* Themes: parse "role = fg bg attrs" text, find theme files, and turn a
 * theme into curses attributes for the terminal at hand. */
#include "themes/theme.h"

#include <ctype.h>
#include <curses.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/util.h"

static const char *const theme_role_names[THEME__COUNT] = {
#define X(e, name) [e] = name,
	THEME_ROLES(X)
#undef X
};

const char *theme_role_name(enum theme_role r)
{
	return (unsigned)r < THEME__COUNT ? theme_role_names[r] : "?";
}

int theme_role_from_name(const char *name)
{
	for (int i = 0; i < THEME__COUNT; i++)
		if (str_eq(theme_role_names[i], name))
			return i;
	return -1;
}

/* The compiled-in copies of the themes/ files (tests/unit/test_theme.c checks
 * they say the same as the files), so the binary works with nothing
 * installed. */
static const char theme_text_dark[] =
	"normal = default default\n"
	"dim = 244 default\n"
	"header = 255 236 bold\n"
	"header.sev1 = 231 160 bold\n"
	"header.sev2 = 231 166 bold\n"
	"header.sev3 = 16 178 bold\n"
	"header.sev4 = 16 68 bold\n"
	"header.state = 117 236 bold\n"
	"title = 252 default bold\n"
	"border = 240 default\n"
	"focus.border = 39 default bold\n"
	"selection = 231 238\n"
	"point = 16 220 bold\n"
	"alert.crit = 196 default bold\n"
	"alert.warn = 214 default\n"
	"alert.info = 75 default\n"
	"alert.resolved = 71 default\n"
	"alert.silenced = 244 default\n"
	"deploy.marker = 75 default\n"
	"deploy.suspect = 196 default bold\n"
	"deploy.lastgood = 71 default bold\n"
	"chart.axis = 244 default\n"
	"chart.line = 71 default\n"
	"chart.spike = 203 default bold\n"
	"role.holder = 252 default bold\n"
	"role.unassigned = 244 default\n"
	"role.me = 51 default bold\n"
	"comms.time = 244 default\n"
	"comms.by = 110 default\n"
	"comms.kind.incident = 213 default bold\n"
	"comms.kind.alert = 203 default\n"
	"comms.kind.deploy = 75 default\n"
	"comms.kind.analysis = 214 default\n"
	"comms.kind.role = 150 default\n"
	"comms.kind.note = default default\n"
	"comms.kind.update = 117 default\n"
	"comms.kind.action = 221 default bold\n"
	"comms.kind.client = 244 default\n"
	"keybar = 250 236\n"
	"keybar.key = 231 236 bold\n"
	"status = 231 24\n"
	"error = 231 124 bold\n"
	"banner = 16 214 bold\n"
	"overlay = 252 235\n"
	"overlay.border = 39 235 bold\n"
	"prompt = 231 237\n"
	"stale = 214 default\n"
	"ok = 71 default\n"
	"overdue = 196 default bold\n";

static const char theme_text_light[] =
	"normal = default default\n"
	"dim = 245 default\n"
	"header = 16 253 bold\n"
	"header.sev1 = 231 124 bold\n"
	"header.sev2 = 231 166 bold\n"
	"header.sev3 = 16 214 bold\n"
	"header.sev4 = 231 25 bold\n"
	"header.state = 24 253 bold\n"
	"title = 16 default bold\n"
	"border = 248 default\n"
	"focus.border = 25 default bold\n"
	"selection = 16 153\n"
	"point = 16 220 bold\n"
	"alert.crit = 160 default bold\n"
	"alert.warn = 130 default bold\n"
	"alert.info = 25 default\n"
	"alert.resolved = 28 default\n"
	"alert.silenced = 245 default\n"
	"deploy.marker = 25 default\n"
	"deploy.suspect = 160 default bold\n"
	"deploy.lastgood = 28 default bold\n"
	"chart.axis = 245 default\n"
	"chart.line = 28 default\n"
	"chart.spike = 160 default bold\n"
	"role.holder = 16 default bold\n"
	"role.unassigned = 245 default\n"
	"role.me = 90 default bold\n"
	"comms.time = 245 default\n"
	"comms.by = 25 default\n"
	"comms.kind.incident = 90 default bold\n"
	"comms.kind.alert = 160 default\n"
	"comms.kind.deploy = 25 default\n"
	"comms.kind.analysis = 130 default\n"
	"comms.kind.role = 28 default\n"
	"comms.kind.note = default default\n"
	"comms.kind.update = 24 default\n"
	"comms.kind.action = 94 default bold\n"
	"comms.kind.client = 245 default\n"
	"keybar = 16 252\n"
	"keybar.key = 16 252 bold\n"
	"status = 231 25\n"
	"error = 231 160 bold\n"
	"banner = 16 220 bold\n"
	"overlay = 16 255\n"
	"overlay.border = 25 255 bold\n"
	"prompt = 16 254\n"
	"stale = 130 default\n"
	"ok = 28 default\n"
	"overdue = 160 default bold\n";

static const char theme_text_high_contrast[] =
	"normal = bright-white black\n"
	"dim = white black\n"
	"header = black bright-white bold\n"
	"header.sev1 = bright-white red bold\n"
	"header.sev2 = black bright-yellow bold\n"
	"header.sev3 = black yellow bold\n"
	"header.sev4 = black bright-cyan bold\n"
	"header.state = black bright-white bold underline\n"
	"title = bright-white black bold underline\n"
	"border = white black\n"
	"focus.border = bright-yellow black bold\n"
	"selection = black bright-white bold\n"
	"point = black bright-yellow bold\n"
	"alert.crit = bright-red black bold\n"
	"alert.warn = bright-yellow black bold\n"
	"alert.info = bright-cyan black bold\n"
	"alert.resolved = bright-green black bold\n"
	"alert.silenced = white black\n"
	"deploy.marker = bright-cyan black bold\n"
	"deploy.suspect = bright-red black bold reverse\n"
	"deploy.lastgood = bright-green black bold\n"
	"chart.axis = white black\n"
	"chart.line = bright-green black bold\n"
	"chart.spike = bright-red black bold\n"
	"role.holder = bright-white black bold\n"
	"role.unassigned = white black\n"
	"role.me = bright-yellow black bold\n"
	"comms.time = white black\n"
	"comms.by = bright-cyan black bold\n"
	"comms.kind.incident = bright-magenta black bold\n"
	"comms.kind.alert = bright-red black bold\n"
	"comms.kind.deploy = bright-cyan black bold\n"
	"comms.kind.analysis = bright-yellow black bold\n"
	"comms.kind.role = bright-green black bold\n"
	"comms.kind.note = bright-white black\n"
	"comms.kind.update = bright-cyan black bold\n"
	"comms.kind.action = bright-yellow black bold\n"
	"comms.kind.client = white black\n"
	"keybar = black bright-white\n"
	"keybar.key = black bright-white bold underline\n"
	"status = black bright-cyan bold\n"
	"error = bright-white red bold\n"
	"banner = black bright-yellow bold\n"
	"overlay = bright-white black\n"
	"overlay.border = bright-yellow black bold\n"
	"prompt = black bright-white bold\n"
	"stale = bright-yellow black bold\n"
	"ok = bright-green black bold\n"
	"overdue = bright-red black bold underline\n";

static const char theme_text_mono[] =
	"normal = default default\n"
	"dim = default default dim\n"
	"header = default default reverse bold\n"
	"header.sev1 = default default reverse bold\n"
	"header.sev2 = default default reverse bold\n"
	"header.sev3 = default default reverse\n"
	"header.sev4 = default default reverse\n"
	"header.state = default default reverse bold\n"
	"title = default default bold\n"
	"border = default default\n"
	"focus.border = default default bold\n"
	"selection = default default reverse\n"
	"point = default default reverse bold underline\n"
	"alert.crit = default default bold\n"
	"alert.warn = default default bold\n"
	"alert.info = default default\n"
	"alert.resolved = default default dim\n"
	"alert.silenced = default default dim\n"
	"deploy.marker = default default\n"
	"deploy.suspect = default default bold underline\n"
	"deploy.lastgood = default default underline\n"
	"chart.axis = default default dim\n"
	"chart.line = default default\n"
	"chart.spike = default default bold\n"
	"role.holder = default default bold\n"
	"role.unassigned = default default dim\n"
	"role.me = default default bold underline\n"
	"comms.time = default default dim\n"
	"comms.by = default default bold\n"
	"comms.kind.incident = default default bold\n"
	"comms.kind.alert = default default bold\n"
	"comms.kind.deploy = default default\n"
	"comms.kind.analysis = default default\n"
	"comms.kind.role = default default\n"
	"comms.kind.note = default default\n"
	"comms.kind.update = default default\n"
	"comms.kind.action = default default bold\n"
	"comms.kind.client = default default dim\n"
	"keybar = default default reverse\n"
	"keybar.key = default default reverse bold\n"
	"status = default default reverse\n"
	"error = default default reverse bold\n"
	"banner = default default reverse bold\n"
	"overlay = default default\n"
	"overlay.border = default default bold\n"
	"prompt = default default reverse\n"
	"stale = default default bold\n"
	"ok = default default\n"
	"overdue = default default bold underline\n";
static const struct {
	const char *name, *text;
} theme_builtins[] = {
	{"dark", theme_text_dark},
	{"light", theme_text_light},
	{"high-contrast", theme_text_high_contrast},
	{"mono", theme_text_mono},
};
#define THEME_NBUILTIN (sizeof theme_builtins / sizeof theme_builtins[0])

const char *const *theme_builtin_names(void)
{
	static const char *names[THEME_NBUILTIN + 1];
	for (size_t i = 0; i < THEME_NBUILTIN; i++)
		names[i] = theme_builtins[i].name;
	names[THEME_NBUILTIN] = NULL;
	return names;
}

static const char *const colour_names[16] = {
	"black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
	"bright-black", "bright-red", "bright-green", "bright-yellow",
	"bright-blue", "bright-magenta", "bright-cyan", "bright-white",
};

/* -1 default, 0..255, or -2 when not a colour. */
static int parse_colour(const char *s)
{
	if (!strcasecmp(s, "default") || !strcmp(s, "-"))
		return -1;
	for (int i = 0; i < 16; i++)
		if (!strcasecmp(s, colour_names[i]))
			return i;
	if (!strcasecmp(s, "grey") || !strcasecmp(s, "gray"))
		return 8;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (end == s || *end || errno || v < 0 || v > 255)
		return -2;
	return (int)v;
}

static int parse_attr(const char *s, unsigned *out)
{
	static const struct {
		const char *name;
		unsigned bit;
	} attrs[] = {
		{"bold", THEME_ATTR_BOLD}, {"underline", THEME_ATTR_UNDERLINE},
		{"reverse", THEME_ATTR_REVERSE}, {"dim", THEME_ATTR_DIM}, {"none", 0},
	};
	for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++)
		if (!strcasecmp(s, attrs[i].name)) {
			*out |= attrs[i].bit;
			return 0;
		}
	return -1;
}

struct theme *theme_parse(const char *name, const char *text, char *err, size_t errlen)
{
	struct theme *t = xcalloc(1, sizeof *t);
	t->name = xstrdup(name);
	for (int i = 0; i < THEME__COUNT; i++)
		t->style[i] = (struct theme_style){.fg = -1, .bg = -1};
	int lineno = 0;
	const char *p = text ? text : "";
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char line[512];
		lineno++;
		if (n >= sizeof line) {
			snprintf(err, errlen, "line %d: too long", lineno);
			goto fail;
		}
		memcpy(line, p, n);
		line[n] = 0;
		p += n + (nl ? 1 : 0);
		char *hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		char *s = line;
		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			snprintf(err, errlen, "line %d: expected \"role = fg bg [attrs]\"", lineno);
			goto fail;
		}
		*eq = 0;
		char *key = s, *e = eq;
		while (e > key && isspace((unsigned char)e[-1]))
			*--e = 0;
		int role = theme_role_from_name(key);
		if (role < 0) {
			snprintf(err, errlen, "line %d: unknown role \"%s\"", lineno, key);
			goto fail;
		}
		struct theme_style st = {.fg = -1, .bg = -1, .set = true};
		int field = 0;
		char *save = NULL;
		for (char *tok = strtok_r(eq + 1, " \t\r", &save); tok;
		     tok = strtok_r(NULL, " \t\r", &save), field++) {
			if (field < 2) {
				int c = parse_colour(tok);
				if (c == -2) {
					snprintf(err, errlen, "line %d: bad colour \"%s\"", lineno, tok);
					goto fail;
				}
				if (field == 0)
					st.fg = (short)c;
				else
					st.bg = (short)c;
			} else if (parse_attr(tok, &st.attrs) < 0) {
				snprintf(err, errlen, "line %d: bad attribute \"%s\"", lineno, tok);
				goto fail;
			}
		}
		if (field < 2) {
			snprintf(err, errlen, "line %d: %s needs a foreground and a background",
				 lineno, key);
			goto fail;
		}
		t->style[role] = st;
	}
	/* Unlisted roles look like normal text. */
	for (int i = 0; i < THEME__COUNT; i++)
		if (!t->style[i].set) {
			t->style[i] = t->style[THEME_NORMAL];
			t->style[i].set = false;
		}
	return t;
fail:
	theme_free(t);
	return NULL;
}

void theme_free(struct theme *t)
{
	if (!t)
		return;
	free(t->name);
	free(t->path);
	free(t);
}

static bool theme_name_ok(const char *name)
{
	if (!name || !*name || strlen(name) > 64)
		return false;
	for (const char *c = name; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
			return false;
	return name[0] != '.';
}

/* Tries DIR/NAME.theme. 1 loaded, 0 absent, -1 present but bad. */
static int theme_try(const char *dir, const char *name, struct theme **out, char *err,
		     size_t errlen)
{
	char *path = xasprintf("%s/%s.theme", dir, name);
	size_t len;
	char *text = file_read_all(path, 64 * 1024, &len);
	if (!text) {
		free(path);
		return 0;
	}
	char perr[200];
	struct theme *t = theme_parse(name, text, perr, sizeof perr);
	free(text);
	if (!t) {
		snprintf(err, errlen, "%s: %s", path, perr);
		free(path);
		return -1;
	}
	t->path = path;
	*out = t;
	return 1;
}

struct theme *theme_load(const char *name, char *err, size_t errlen)
{
	if (!theme_name_ok(name)) {
		snprintf(err, errlen, "bad theme name \"%s\"", name ? name : "");
		return NULL;
	}
	struct theme *t = NULL;
	int r;
	/* $WARROOM_THEMES may list several directories, colon-separated. */
	const char *env = getenv("WARROOM_THEMES");
	if (env && *env) {
		char *dirs = xstrdup(env), *save = NULL;
		for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
			if ((r = theme_try(d, name, &t, err, errlen)) != 0) {
				free(dirs);
				return r > 0 ? t : NULL;
			}
		}
		free(dirs);
	}
	/* Next to the binary, its parent (./build/warroom finds ./themes), and
	 * the install prefix relative to it. */
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = 0;
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = 0;
			const char *rel[] = {"themes", "../themes", "../share/warroom/themes"};
			for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
				char *dir = xasprintf("%s/%s", exe, rel[i]);
				r = theme_try(dir, name, &t, err, errlen);
				free(dir);
				if (r != 0)
					return r > 0 ? t : NULL;
			}
		}
	}
	const char *sys[] = {"/usr/local/share/warroom/themes", "/usr/share/warroom/themes"};
	for (size_t i = 0; i < sizeof sys / sizeof sys[0]; i++)
		if ((r = theme_try(sys[i], name, &t, err, errlen)) != 0)
			return r > 0 ? t : NULL;
	for (size_t i = 0; i < THEME_NBUILTIN; i++)
		if (!strcmp(theme_builtins[i].name, name))
			return theme_parse(name, theme_builtins[i].text, err, errlen);
	snprintf(err, errlen, "no theme \"%s\" (built in: dark light high-contrast mono)", name);
	return NULL;
}

struct theme *theme_initial(const char *cfg_name, char *err, size_t errlen)
{
	const char *nc = getenv("NO_COLOR");
	const char *name = (nc && *nc) ? "mono" : (cfg_name && *cfg_name) ? cfg_name : "dark";
	if (err && errlen)
		err[0] = 0;
	struct theme *t = theme_load(name, err, errlen);
	if (!t)
		t = theme_parse("dark", theme_text_dark, NULL, 0);
	return t;
}

/* The xterm palette, for mapping 256 colours down to 8 or 16. */
static void colour_rgb(int c, int *r, int *g, int *b)
{
	static const unsigned char base[16][3] = {
		{0, 0, 0}, {205, 0, 0}, {0, 205, 0}, {205, 205, 0},
		{0, 0, 238}, {205, 0, 205}, {0, 205, 205}, {229, 229, 229},
		{127, 127, 127}, {255, 0, 0}, {0, 255, 0}, {255, 255, 0},
		{92, 92, 255}, {255, 0, 255}, {0, 255, 255}, {255, 255, 255},
	};
	if (c < 16) {
		*r = base[c][0], *g = base[c][1], *b = base[c][2];
	} else if (c < 232) {
		static const int level[6] = {0, 95, 135, 175, 215, 255};
		c -= 16;
		*r = level[c / 36], *g = level[(c / 6) % 6], *b = level[c % 6];
	} else {
		*r = *g = *b = 8 + (c - 232) * 10;
	}
}

short theme_map_colour(short c, int ncolors)
{
	if (c < 0 || c < ncolors)
		return c;
	int r, g, b;
	colour_rgb(c, &r, &g, &b);
	int limit = ncolors >= 16 ? 16 : 8;
	int hi = r > g ? (r > b ? r : b) : (g > b ? g : b);
	int lo = r < g ? (r < b ? r : b) : (g < b ? g : b);
	if (hi - lo < 40) {
		/* Greys: the nearest hue would be arbitrary (mid grey is as close
		 * to yellow as to white), so map by lightness. */
		if (hi < 60)
			return 0;
		if (limit == 16)
			return hi < 170 ? 8 : hi < 240 ? 7 : 15;
		return 7;
	}
	int best = 0;
	long bestd = -1;
	for (int i = 0; i < limit; i++) {
		int r2, g2, b2;
		colour_rgb(i, &r2, &g2, &b2);
		long d = (long)(r - r2) * (r - r2) + (long)(g - g2) * (g - g2) + (long)(b - b2) * (b - b2);
		if (bestd < 0 || d < bestd)
			bestd = d, best = i;
	}
	/* Any colour that is not black must not vanish into a black background:
	 * a dim grey maps to bright-black (8) or white (7), never 0. */
	if (best == 0 && (r + g + b) > 60)
		best = limit == 16 ? 8 : 7;
	return (short)best;
}

void theme_apply(struct theme *t)
{
	bool colour = has_colors() && COLORS >= 8 && COLOR_PAIRS > 1;
	bool defaults = colour && use_default_colors() == OK;
	int npairs = 0;
	short pair_fg[THEME__COUNT], pair_bg[THEME__COUNT];
	for (int i = 0; i < THEME__COUNT; i++) {
		const struct theme_style *st = &t->style[i];
		attr_t a = A_NORMAL;
		if (st->attrs & THEME_ATTR_BOLD)
			a |= A_BOLD;
		if (st->attrs & THEME_ATTR_UNDERLINE)
			a |= A_UNDERLINE;
		if (st->attrs & THEME_ATTR_REVERSE)
			a |= A_REVERSE;
		if (st->attrs & THEME_ATTR_DIM)
			a |= A_DIM;
		if (colour && (st->fg >= 0 || st->bg >= 0)) {
			short fg = theme_map_colour(st->fg, COLORS);
			short bg = theme_map_colour(st->bg, COLORS);
			if (!defaults) {
				if (fg < 0)
					fg = COLOR_WHITE;
				if (bg < 0)
					bg = COLOR_BLACK;
			}
			/* Roles sharing colours share a pair. */
			int p = 0;
			for (int k = 0; k < npairs; k++)
				if (pair_fg[k] == fg && pair_bg[k] == bg)
					p = k + 1;
			if (!p && npairs + 1 < COLOR_PAIRS && npairs < THEME__COUNT) {
				pair_fg[npairs] = fg;
				pair_bg[npairs] = bg;
				npairs++;
				init_pair((short)npairs, fg, bg);
				p = npairs;
			}
			if (p)
				a |= COLOR_PAIR(p);
		} else if (!colour && (st->fg >= 0 || st->bg >= 0) && !(st->attrs & THEME_ATTR_REVERSE)) {
			/* No colour at all: keep coloured backgrounds visible as
			 * reverse video so bars and highlights still stand out. */
			if (st->bg >= 0 && st->bg != 0 && st->bg != 16 && st->bg < 232)
				a |= A_REVERSE;
			else if (st->bg >= 236)
				a |= A_REVERSE;
		}
		t->attr[i] = a;
	}
}
