#include "core/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

struct journal {
	char *path;
	int fd;
	uint64_t last_seq;
	uint64_t count;
	off_t size;      /* bytes of complete lines appended (written or in wbuf) */
	off_t written;   /* of which handed to write(2) */
	off_t synced;    /* bytes known durable: what a snapshot may send */
	bool dirty;      /* appended since the last sync */
	bool group_commit;
	/* Lines appended since the last write, written together when this
	 * passes JOURNAL_WBUF and at every sync: a poll that journals
	 * thousands of alerts makes a few dozen write calls, not thousands. */
	char *wbuf;
	size_t wlen, wcap;
	char *failed;    /* a write failed: lines were lost, nothing more goes in */
};

#define JOURNAL_WBUF (64u << 10)

/* Creates the parent directories of path (mode 0700 for new ones). */
static int mkdir_parents(const char *path)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

struct scan {
	const char *path;
	journal_event_cb on_event;
	journal_problem_cb on_problem;
	void *arg;
	uint64_t last_seq;
	uint64_t count;
	off_t good_end;   /* offset just past the last complete line */
	long lineno;
	bool torn;        /* the file ends without a newline */
	long torn_line;
};

static void scan_line(struct scan *sc, const char *line, size_t len)
{
	char err[256];
	sc->lineno++;
	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (len == 0)
		return;
	struct wr_event *ev = event_decode(line, len, err, sizeof err);
	if (!ev) {
		if (sc->on_problem)
			sc->on_problem(sc->path, sc->lineno, err, sc->arg);
		return;
	}
	if (ev->seq <= sc->last_seq) {
		snprintf(err, sizeof err, "seq %llu does not follow %llu; line skipped",
			 (unsigned long long)ev->seq, (unsigned long long)sc->last_seq);
		if (sc->on_problem)
			sc->on_problem(sc->path, sc->lineno, err, sc->arg);
		wr_event_free(ev);
		return;
	}
	sc->last_seq = ev->seq;
	sc->count++;
	if (sc->on_event)
		sc->on_event(ev, sc->arg);
	wr_event_free(ev);
}

/* Reads fd from the start, calling scan_line for each complete line. */
static int scan_fd(int fd, struct scan *sc)
{
	size_t cap = 1 << 20, len = 0;
	char *buf = xmalloc(cap);
	off_t consumed = 0;
	for (;;) {
		if (len == cap) {
			cap *= 2; /* one line longer than the buffer */
			buf = xrealloc(buf, cap);
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		size_t start = 0;
		for (;;) {
			char *nl = memchr(buf + start, '\n', len - start);
			if (!nl)
				break;
			size_t ll = (size_t)(nl - (buf + start));
			scan_line(sc, buf + start, ll);
			start += ll + 1;
		}
		consumed += (off_t)start;
		memmove(buf, buf + start, len - start);
		len -= start;
	}
	sc->good_end = consumed;
	if (len > 0) {
		sc->torn = true;
		sc->torn_line = sc->lineno + 1;
	}
	free(buf);
	return 0;
}

struct journal *journal_open(const char *path, journal_event_cb on_event,
			     journal_problem_cb on_problem, void *arg, char *err, size_t errlen)
{
	if (mkdir_parents(path) < 0) {
		snprintf(err, errlen, "%s: cannot create directory: %s", path, strerror(errno));
		return NULL;
	}
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct scan sc = {.path = path, .on_event = on_event, .on_problem = on_problem, .arg = arg};
	if (scan_fd(fd, &sc) < 0) {
		snprintf(err, errlen, "%s: read: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (sc.torn) {
		/* A crash mid-write leaves a line without its newline: it was never
		 * acknowledged, so dropping it loses nothing that was promised. */
		if (ftruncate(fd, sc.good_end) < 0 || fsync(fd) < 0) {
			snprintf(err, errlen, "%s: cannot truncate torn last line: %s", path,
				 strerror(errno));
			close(fd);
			return NULL;
		}
		if (on_problem)
			on_problem(path, sc.torn_line, "torn last line (incomplete write) truncated", arg);
	}
	if (lseek(fd, 0, SEEK_END) < 0) {
		snprintf(err, errlen, "%s: seek: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	struct journal *j = xcalloc(1, sizeof *j);
	j->path = xstrdup(path);
	j->fd = fd;
	j->last_seq = sc.last_seq;
	j->count = sc.count;
	j->size = sc.good_end;
	j->written = sc.good_end;
	j->synced = sc.good_end;
	j->group_commit = true;
	return j;
}

int journal_read(const char *path, journal_event_cb on_event, journal_problem_cb on_problem,
		 void *arg, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct scan sc = {.path = path, .on_event = on_event, .on_problem = on_problem, .arg = arg};
	int rc = scan_fd(fd, &sc);
	if (rc < 0)
		snprintf(err, errlen, "%s: read: %s", path, strerror(errno));
	else if (sc.torn && on_problem)
		on_problem(path, sc.torn_line, "torn last line (incomplete write) ignored", arg);
	close(fd);
	return rc;
}

static bool write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/* Writes the buffered lines. On failure the file is cut back to the last
 * whole line written before them and the journal refuses everything after:
 * the lines lost were folded by the caller, so it must stop (its next sync
 * fails with the reason). */
static bool journal_flush(struct journal *j)
{
	if (!j->wlen)
		return true;
	if (!write_all(j->fd, j->wbuf, j->wlen)) {
		int e = errno;
		/* never leave half a line behind for the next append to glue onto */
		if (ftruncate(j->fd, j->written) == 0)
			lseek(j->fd, 0, SEEK_END);
		free(j->failed);
		j->failed = xasprintf("%s: write: %s", j->path, strerror(e));
		j->wlen = 0;
		j->size = j->written;
		return false;
	}
	j->written += (off_t)j->wlen;
	j->wlen = 0;
	return true;
}

bool journal_append(struct journal *j, struct wr_event *ev, char *err, size_t errlen)
{
	if (j->failed) {
		snprintf(err, errlen, "%s", j->failed);
		return false;
	}
	uint64_t prev_seq = ev->seq;
	ev->seq = j->last_seq + 1;
	if (ev->ts == 0)
		ev->ts = time_now_ms();
	/* encoded straight into the write batch */
	struct sbuf w = {j->wbuf, j->wlen, j->wcap};
	if (!w.cap)
		sbuf_reserve(&w, JOURNAL_WBUF * 2);
	event_encode_to(&w, ev);
	sbuf_addc(&w, '\n');
	size_t len = w.len - j->wlen - 1;
	j->wbuf = w.buf;
	j->wlen = w.len;
	j->wcap = w.cap;
	j->size += (off_t)(len + 1);
	if (j->wlen >= JOURNAL_WBUF && !journal_flush(j)) {
		ev->seq = prev_seq;
		snprintf(err, errlen, "%s", j->failed);
		return false;
	}
	j->last_seq = ev->seq;
	j->count++;
	j->dirty = true;
	if (!j->group_commit)
		return journal_sync(j, err, errlen);
	return true;
}

bool journal_sync(struct journal *j, char *err, size_t errlen)
{
	if (!journal_flush(j) || j->failed) {
		snprintf(err, errlen, "%s", j->failed);
		return false;
	}
	if (!j->dirty)
		return true;
	if (fdatasync(j->fd) < 0) {
		snprintf(err, errlen, "%s: fsync: %s", j->path, strerror(errno));
		return false;
	}
	j->dirty = false;
	j->synced = j->size;
	return true;
}

void journal_set_group_commit(struct journal *j, bool on)
{
	j->group_commit = on;
}

uint64_t journal_last_seq(const struct journal *j)
{
	return j->last_seq;
}

uint64_t journal_synced_bytes(const struct journal *j)
{
	return (uint64_t)j->synced;
}

uint64_t journal_count(const struct journal *j)
{
	return j->count;
}

const char *journal_path(const struct journal *j)
{
	return j->path;
}

void journal_close(struct journal *j)
{
	if (!j)
		return;
	char err[256];
	journal_sync(j, err, sizeof err);
	close(j->fd);
	free(j->wbuf);
	free(j->failed);
	free(j->path);
	free(j);
}
