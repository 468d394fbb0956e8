/* `warroom replay JOURNAL [--speed N]`: a recorded incident played back on a
 * private, read-only session (tui/private.c), with the console's replay
 * keys: space pause/resume, ] and [ one minute forward/back, } ten minutes
 * forward, > and < twice / half the speed. Seeking back starts the replay
 * again from the earlier point (its events are already on every screen). */
#ifndef WARROOM_TUI_REPLAY_H
#define WARROOM_TUI_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct console;

int replay_main(const char *journal, double speed, const char *config_path);

/* For the console in replay mode (tui_opts.replay). */
/* Handles a replay key before the panes see it; true when used. */
bool replay_console_key(struct console *c, int key);
/* The incident time the replay has reached (ms), for the clock, ages and the
 * cadence countdown; 0 before the first status arrives. */
int64_t replay_console_now(struct console *c);
/* One short header piece: "REPLAY ▶ 10x 12/25" (keeps the status polled). */
void replay_console_header(struct console *c, char *buf, size_t len);

#endif
