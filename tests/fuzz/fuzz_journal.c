/* The journal reader on a whole file of arbitrary bytes: every event it
 * delivers has a strictly increasing seq, and replaying twice gives the same. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/journal.h"

const char *const fuzz_target_name = "journal";

struct seen {
	uint64_t last;
	unsigned n;
};

static void on_event(const struct wr_event *ev, void *arg)
{
	struct seen *s = arg;
	if (ev->seq <= s->last)
		abort();
	s->last = ev->seq;
	s->n++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("journal", 0);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	char path[64], err[256];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	struct seen a = {0}, b = {0};
	journal_read(path, on_event, NULL, &a, err, sizeof err);
	journal_read(path, on_event, NULL, &b, err, sizeof err);
	if (a.n != b.n || a.last != b.last)
		abort();
	close(fd);
	return 0;
}
