/* Postmortem drafts from a journal: summary, roles over time, every event on
 * a timeline (UTC and time since declared), the error-rate chart with deploys
 * and rollbacks marked, actions with their commands and results, status
 * updates as sent, and time to detect / acknowledge / mitigate / resolve.
 * Only the journal is read, and the journal never holds secrets. */
#ifndef WARROOM_EXPORT_H
#define WARROOM_EXPORT_H

#include <stddef.h>
#include <stdio.h>

enum export_format { EXPORT_MD, EXPORT_JSON, EXPORT_HTML };

int export_format_from_name(const char *name); /* -1 if unknown */

/* Returns 0, or -1 with a message in err (unreadable journal, write error).
 * Corrupt journal lines are skipped and listed at the end of the document. */
int export_journal(const char *journal_path, enum export_format fmt, FILE *out, char *err,
		   size_t errlen);

/* The same, and any of the n secrets (config tokens, passwords) that still
 * found its way into the journal is written as [redacted] (also in its
 * escaped form for the format). Secrets shorter than 4 bytes are ignored. */
int export_journal_redacted(const char *journal_path, enum export_format fmt,
			    const char *const *secrets, size_t n, FILE *out, char *err, size_t errlen);

#endif
