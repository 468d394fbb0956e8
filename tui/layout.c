/* Pure layout arithmetic; see layout.h. */
#include "tui/layout.h"

#include <stdio.h>
#include <string.h>

static struct layout_rect rect(int y, int x, int h, int w)
{
	if (h <= 0 || w <= 0)
		h = 0, w = 0;
	return (struct layout_rect){.y = y, .x = x, .h = h, .w = w};
}

static int clamp(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void layout_full(struct layout *l, bool banner)
{
	int cols = l->cols, rows = l->rows;
	l->full = true;
	/* The header sits in the top edge of the frame, between the corners;
	 * the key bar in the bottom edge. */
	l->header = rect(0, 1, 1, cols - 2);
	l->keybar = rect(rows - 1, 1, 1, cols - 2);
	l->top_y = 1;
	if (banner) {
		l->banner = rect(1, 1, 1, cols - 2);
		l->top_y = 2;
	}
	l->bottom_y = rows - 2;
	int content_h = l->bottom_y - l->top_y + 1;
	/* Left column gets a little more: the alert lines and the chart are the
	 * widest things on screen. */
	int inner_w = cols - 3;
	int left_w = inner_w * 11 / 20;
	int right_w = inner_w - left_w;
	l->sep_x = 1 + left_w;

	/* Left: alerts over the timeline, the chart taking the larger share. */
	int alerts_h = clamp((content_h - 1) * 2 / 5, 4, 16);
	int timeline_h = content_h - 1 - alerts_h;
	l->left_split_y = l->top_y + alerts_h;
	l->pane[0] = rect(l->top_y, 1, alerts_h, left_w);
	l->pane[1] = rect(l->left_split_y + 1, 1, timeline_h, left_w);

	/* Right: title, five roles, a blank and the attached people. */
	int roster_h = clamp((content_h - 1) * 2 / 5, 7, 14);
	int comms_h = content_h - 1 - roster_h;
	l->right_split_y = l->top_y + roster_h;
	l->pane[2] = rect(l->top_y, l->sep_x + 1, roster_h, right_w);
	l->pane[3] = rect(l->right_split_y + 1, l->sep_x + 1, comms_h, right_w);
}

static void layout_single(struct layout *l, int focus, bool banner)
{
	int cols = l->cols, rows = l->rows;
	l->full = false;
	l->sep_x = l->left_split_y = l->right_split_y = -1;
	l->header = rect(0, 0, 1, cols);
	if (rows >= 2)
		l->keybar = rect(rows - 1, 0, 1, cols);
	int top = 1, bottom = rows - 2; /* pane rows between header and key bar */
	if (banner && bottom - top + 1 >= 3) {
		l->banner = rect(top, 0, 1, cols);
		top++;
	}
	l->top_y = top;
	l->bottom_y = bottom;
	if (focus < 0 || focus >= LAYOUT_PANES)
		focus = 0;
	if (bottom >= top)
		l->pane[focus] = rect(top, 0, bottom - top + 1, cols);
}

void layout_compute(struct layout *l, int cols, int rows, int focus, bool banner)
{
	memset(l, 0, sizeof *l);
	l->sep_x = l->left_split_y = l->right_split_y = -1;
	if (cols <= 0 || rows <= 0) {
		l->cols = l->rows = 0;
		return;
	}
	l->cols = cols;
	l->rows = rows;
	if (cols >= LAYOUT_MIN_COLS && rows >= LAYOUT_MIN_ROWS)
		layout_full(l, banner);
	else
		layout_single(l, focus, banner);
}

static const char *const layout_names[LAYOUT_PANES] = {"alerts", "timeline", "roster", "comms"};

static void describe_one(char *buf, size_t len, size_t *at, const char *name,
			 const struct layout_rect *r)
{
	if (r->h <= 0 || r->w <= 0 || *at >= len)
		return;
	int n = snprintf(buf + *at, len - *at, "%s %d,%d %dx%d\n", name, r->y, r->x, r->w, r->h);
	if (n > 0)
		*at += (size_t)n < len - *at ? (size_t)n : len - *at - 1;
}

void layout_describe(const struct layout *l, char *buf, size_t len)
{
	if (!len)
		return;
	buf[0] = 0;
	size_t at = 0;
	describe_one(buf, len, &at, "header", &l->header);
	describe_one(buf, len, &at, "banner", &l->banner);
	for (int i = 0; i < LAYOUT_PANES; i++)
		describe_one(buf, len, &at, layout_names[i], &l->pane[i]);
	describe_one(buf, len, &at, "keybar", &l->keybar);
}
