/* Making external text safe for a terminal: every string that came from
 * outside (alert text, labels, deploy authors, command output, notes) passes
 * through text_sanitize before it is drawn. */
#ifndef WARROOM_TEXT_H
#define WARROOM_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Returns a new string: escape sequences (CSI, OSC, DCS, ...) and C0/C1
 * control characters removed, tabs and newlines turned to spaces, invalid
 * UTF-8 replaced with U+FFFD (or '?' when !utf8). Caller frees. */
char *text_sanitize(const char *s, bool utf8);
/* Display width in terminal columns of a sanitised UTF-8 string. */
int text_width(const char *s);
/* Byte length of the longest prefix of s that fits in `cols` columns. */
size_t text_fit(const char *s, int cols);

#endif
