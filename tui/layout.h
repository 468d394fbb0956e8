/* Screen layout as plain arithmetic (no curses), so unit tests can check
 * every size. Full layout at 80x24 and above: a frame whose top edge carries
 * the header and bottom edge the key bar, alerts over the timeline on the
 * left, roles over comms on the right. Smaller: one pane at a time (the
 * focused one) between a one-line header and the key bar. */
#ifndef WARROOM_LAYOUT_H
#define WARROOM_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>

#define LAYOUT_PANES 4 /* screen order: alerts, timeline, roster, comms */
#define LAYOUT_MIN_COLS 80
#define LAYOUT_MIN_ROWS 24

struct layout_rect {
	int y, x, h, w; /* h or w 0: not shown */
};

struct layout {
	int cols, rows;
	bool full;                      /* four panes with a frame */
	struct layout_rect header;      /* one row */
	struct layout_rect banner;      /* pending approval; h 0 when none */
	struct layout_rect keybar;      /* one row (the status line shares it) */
	struct layout_rect pane[LAYOUT_PANES];
	/* Frame lines (full layout only): the vertical separator column and
	 * the rows of the left and right horizontal separators. */
	int sep_x, left_split_y, right_split_y;
	int top_y, bottom_y;            /* first and last content rows */
};

/* Computes the layout for a cols x rows screen; focus is the pane shown in
 * the one-pane layout; banner asks for a row for the approval banner.
 * Sizes <= 0 give an empty layout. */
void layout_compute(struct layout *l, int cols, int rows, int focus, bool banner);
/* "header 0,0 160x1" lines, one per shown area, for tests and debugging. */
void layout_describe(const struct layout *l, char *buf, size_t len);

#endif
