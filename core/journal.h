/* The append-only incident journal: JSON lines, one event per line.
 * Appends are written at once and made durable together by journal_sync
 * (group commit): the server syncs once per loop pass and only then
 * acknowledges or broadcasts the events appended in that pass. */
#ifndef WARROOM_JOURNAL_H
#define WARROOM_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"

struct journal;

/* Called for each valid event during open/replay, in order. The callback
 * does not own ev. */
typedef void (*journal_event_cb)(const struct wr_event *ev, void *arg);
/* Called for each problem found during open: a corrupt line (skipped) or a
 * torn tail (truncated). lineno is 1-based. */
typedef void (*journal_problem_cb)(const char *path, long lineno, const char *msg, void *arg);

/* Opens (creating it and its directory if needed) and replays the journal.
 * A torn last line (no newline at the end) is truncated away and reported.
 * A corrupt line, or an event whose seq does not increase, is reported with
 * its line number and skipped. Returns NULL with err set on I/O failure. */
struct journal *journal_open(const char *path, journal_event_cb on_event,
			     journal_problem_cb on_problem, void *arg,
			     char *err, size_t errlen);

/* Reads a journal without opening it for writing (export, replay, bench). */
int journal_read(const char *path, journal_event_cb on_event,
		 journal_problem_cb on_problem, void *arg, char *err, size_t errlen);

/* Assigns ev->seq (last + 1) and ev->ts if 0, writes the line. Not durable
 * until journal_sync. Returns false with err on write failure. */
bool journal_append(struct journal *j, struct wr_event *ev, char *err, size_t errlen);
/* fsync if anything was appended since the last sync. */
bool journal_sync(struct journal *j, char *err, size_t errlen);
/* If false, every append is followed by its own fsync (for the benchmark). */
void journal_set_group_commit(struct journal *j, bool on);

uint64_t journal_last_seq(const struct journal *j);
uint64_t journal_count(const struct journal *j);
/* Length of the file prefix that is durable (whole lines, synced): what a
 * snapshot for a new client may send. */
uint64_t journal_synced_bytes(const struct journal *j);
const char *journal_path(const struct journal *j);
void journal_close(struct journal *j);

#endif
