/* The console: full-screen ncurses client. tui/main.c parses the command
 * line and calls these. */
#ifndef WARROOM_TUI_H
#define WARROOM_TUI_H

#include <stdbool.h>

#include "core/config.h"

struct tui_opts {
	const char *socket_path;  /* session socket to attach to */
	bool read_only;           /* attach as a viewer even if an operator */
	bool demo;                /* banner and hints for the built-in incident */
	bool replay;              /* read-only replay session: pause/seek keys */
};

/* Runs the console until the user quits or the server goes away. Returns an
 * exit code (0 ok, 1 runtime failure). */
int tui_main(const struct config *cfg, const struct tui_opts *opts);

#endif
