/* `warroom join`: the local terminal goes raw and is relayed byte for byte
 * to `warroom attach` running in a remote PTY (backends/ssh.c does the
 * connection, host key check and authentication exactly as for SSH
 * rollbacks). The terminal is restored on every way out: the remote end
 * exits, the connection fails, or this process is told to stop. */
#include "tui/join.h"

#include <errno.h>
#include <event2/event.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "backends/ssh.h"
#include "core/text.h"
#include "core/util.h"

#define JOIN_CONNECT_TIMEOUT_MS 20000
#define JOIN_DEFAULT_COMMAND "warroom attach"

struct join {
	struct event_base *base;
	struct event *ev_stdin, *ev_winch, *ev_term, *ev_hup, *ev_int;
	struct ssh_job *job;
	bool started, done, stopped;
	struct backend_result res;
};

/* The terminal as we found it; put back by join_restore (also at exit). */
static struct termios join_saved;
static bool join_raw;

static void join_restore(void)
{
	if (join_raw) {
		tcsetattr(STDIN_FILENO, TCSADRAIN, &join_saved);
		join_raw = false;
	}
}

static bool join_make_raw(char *err, size_t errlen)
{
	if (tcgetattr(STDIN_FILENO, &join_saved) < 0) {
		snprintf(err, errlen, "cannot read the terminal's mode: %s", strerror(errno));
		return false;
	}
	struct termios t = join_saved;
	cfmakeraw(&t);
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &t) < 0) {
		snprintf(err, errlen, "cannot put the terminal in raw mode: %s", strerror(errno));
		return false;
	}
	join_raw = true;
	return true;
}

static void write_all(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* the terminal is gone; the hangup signal ends us */
		buf += w;
		n -= (size_t)w;
	}
}

static void local_size(int *cols, int *rows)
{
	struct winsize ws = {0};
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || !ws.ws_col || !ws.ws_row)
		ioctl(STDIN_FILENO, TIOCGWINSZ, &ws);
	*cols = ws.ws_col ? ws.ws_col : 80;
	*rows = ws.ws_row ? ws.ws_row : 24;
}

/* ---- from the remote side ---------------------------------------------- */

static void on_data(void *arg, const char *buf, size_t n)
{
	write_all(STDOUT_FILENO, buf, n);
}

static void on_stdin(evutil_socket_t fd, short what, void *arg);

static void on_started(void *arg)
{
	struct join *j = arg;
	char err[200];
	j->started = true;
	if (!join_make_raw(err, sizeof err)) {
		/* the job is inside its own step: it is cancelled after the loop */
		j->started = false;
		snprintf(j->res.error, sizeof j->res.error, "%s", err);
		event_base_loopbreak(j->base);
		return;
	}
	j->ev_stdin = event_new(j->base, STDIN_FILENO, EV_READ | EV_PERSIST, on_stdin, j);
	event_add(j->ev_stdin, NULL);
}

static void on_done(void *arg, const struct backend_result *res)
{
	struct join *j = arg;
	j->res = *res;
	j->done = true;
	j->job = NULL; /* it freed itself */
	event_base_loopbreak(j->base);
}

/* ---- from the local terminal --------------------------------------------- */

static void on_stdin(evutil_socket_t fd, short what, void *arg)
{
	struct join *j = arg;
	char buf[4096];
	ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* no more input: the remote side sees EOF and decides */
		event_del(j->ev_stdin);
		ssh_pty_eof(j->job);
		return;
	}
	ssh_pty_write(j->job, buf, (size_t)n);
}

static void on_winch(evutil_socket_t fd, short what, void *arg)
{
	struct join *j = arg;
	int cols, rows;
	local_size(&cols, &rows);
	ssh_pty_resize(j->job, cols, rows);
}

static void on_stop(evutil_socket_t sig, short what, void *arg)
{
	struct join *j = arg;
	j->stopped = true;
	snprintf(j->res.error, sizeof j->res.error, "stopped by signal %d", (int)sig);
	event_base_loopbreak(j->base);
}

/* ---- command line ------------------------------------------------------------ */

struct join_args {
	char *user, *host;
	int port;
	const char *identity, *known_hosts, *command;
	bool read_only, help;
};

static int join_usage(const char *fmt, const char *what)
{
	fputs("warroom: join: ", stderr);
	fprintf(stderr, fmt, what);
	fputs("\nusage: warroom join [USER@]HOST[:PORT] [--identity KEY] [--known-hosts FILE]\n"
	      "                    [--remote-command CMD] [--read-only]\n", stderr);
	return 2;
}

static void join_help(void)
{
	printf("usage: warroom join [USER@]HOST[:PORT] [options]\n\n"
	       "Attach to the session on another machine over SSH, without an ssh command:\n"
	       "runs `%s` there in a terminal of this one's size and relays it.\n"
	       "The host key is checked against known_hosts as for SSH rollbacks: an unknown\n"
	       "or changed key refuses to connect. Auth: ssh-agent, then the key file\n"
	       "(ed25519 or ECDSA; RSA keys fail against OpenSSH 8.8 and later).\n"
	       "Exits with the remote command's exit status.\n\n"
	       "options (before or after the host):\n"
	       "  --identity KEY         private key file (default ~/.ssh/id_ed25519, id_ecdsa)\n"
	       "  --known-hosts FILE     known_hosts file (default ~/.ssh/known_hosts)\n"
	       "  --remote-command CMD   what to run there (default: %s)\n"
	       "  --read-only            attach there as a viewer\n"
	       "  --config FILE          accepted for symmetry; not used\n",
	       JOIN_DEFAULT_COMMAND, JOIN_DEFAULT_COMMAND);
}

/* [USER@]HOST[:PORT], HOST may be [v6 address]. */
static bool parse_destination(const char *s, struct join_args *a)
{
	const char *at = strrchr(s, '@');
	if (at) {
		if (at == s)
			return false;
		a->user = xstrndup(s, (size_t)(at - s));
		s = at + 1;
	}
	const char *port = NULL;
	if (*s == '[') {
		const char *close = strchr(s, ']');
		if (!close || close == s + 1)
			return false;
		a->host = xstrndup(s + 1, (size_t)(close - s - 1));
		if (close[1] == ':')
			port = close + 2;
		else if (close[1])
			return false;
	} else {
		const char *colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':'))
			colon = NULL; /* a bare IPv6 address: no port */
		a->host = colon ? xstrndup(s, (size_t)(colon - s)) : xstrdup(s);
		if (colon)
			port = colon + 1;
	}
	if (!*a->host)
		return false;
	if (port) {
		char *end;
		long p = strtol(port, &end, 10);
		if (!*port || *end || p < 1 || p > 65535)
			return false;
		a->port = (int)p;
	}
	return true;
}

static int parse_args(int argc, char **argv, struct join_args *a)
{
	static const char *const with_value[] = {"identity", "known-hosts", "remote-command", "config"};
	const char *dest = NULL;
	bool only_args = false;
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		if (!only_args && strcmp(s, "--") == 0) {
			only_args = true;
			continue;
		}
		if (only_args || s[0] != '-' || !s[1]) {
			if (dest)
				return join_usage("one destination only (extra '%s')", s);
			dest = s;
			continue;
		}
		if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
			a->help = true;
			continue;
		}
		if (strcmp(s, "--read-only") == 0) {
			a->read_only = true;
			continue;
		}
		if (s[1] != '-')
			return join_usage("unknown option '%s'", s);
		const char *eq = strchr(s + 2, '=');
		size_t len = eq ? (size_t)(eq - s - 2) : strlen(s + 2);
		int k = -1;
		for (int o = 0; o < 4; o++)
			if (strlen(with_value[o]) == len && strncmp(with_value[o], s + 2, len) == 0)
				k = o;
		if (k < 0)
			return join_usage("unknown option '%s'", s);
		const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
		if (!v)
			return join_usage("--%s needs a value", with_value[k]);
		if (k == 0)
			a->identity = v;
		else if (k == 1)
			a->known_hosts = v;
		else if (k == 2)
			a->command = v;
	}
	if (a->help)
		return 0;
	if (!dest)
		return join_usage("%s", "missing [USER@]HOST[:PORT]");
	if (!parse_destination(dest, a))
		return join_usage("bad destination '%s' (want [USER@]HOST[:PORT])", dest);
	if (a->command && !*a->command)
		return join_usage("%s", "--remote-command is empty");
	return 0;
}

static char *local_user(void)
{
	const char *u = getenv("USER");
	if (u && *u)
		return xstrdup(u);
	struct passwd *pw = getpwuid(getuid());
	return xstrdup(pw && pw->pw_name ? pw->pw_name : "root");
}

/* ---- main ----------------------------------------------------------------------- */

int join_main(int argc, char **argv)
{
	struct join_args a = {0};
	int rc = parse_args(argc, argv, &a);
	if (rc || a.help) {
		if (a.help && !rc)
			join_help();
		free(a.user);
		free(a.host);
		return rc;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "warroom: join needs a terminal (the remote console is full screen)\n");
		free(a.user);
		free(a.host);
		return 2;
	}
	if (!a.user)
		a.user = local_user();
	char *command = a.read_only ? xasprintf("%s --read-only", a.command ? a.command
							    : JOIN_DEFAULT_COMMAND)
				    : xstrdup(a.command ? a.command : JOIN_DEFAULT_COMMAND);
	/* the host key and auth messages are ours to print: no SIGPIPE deaths */
	signal(SIGPIPE, SIG_IGN);
	atexit(join_restore);

	struct join j = {0};
	j.base = event_base_new();
	if (!j.base) {
		fprintf(stderr, "warroom: join: cannot set up the event loop\n");
		free(command);
		free(a.user);
		free(a.host);
		return 1;
	}
	int cols, rows;
	local_size(&cols, &rows);
	struct ssh_target t = {.host = a.host, .port = a.port, .user = a.user,
			       .identity = a.identity, .known_hosts = a.known_hosts};
	struct ssh_pty pty = {.term = getenv("TERM"), .cols = cols, .rows = rows, .data = on_data};
	struct backend_job_cbs cbs = {.started = on_started, .done = on_done, .arg = &j};
	j.job = ssh_exec_pty(j.base, &t, command, &pty, JOIN_CONNECT_TIMEOUT_MS, &cbs);

	j.ev_winch = evsignal_new(j.base, SIGWINCH, on_winch, &j);
	j.ev_term = evsignal_new(j.base, SIGTERM, on_stop, &j);
	j.ev_hup = evsignal_new(j.base, SIGHUP, on_stop, &j);
	j.ev_int = evsignal_new(j.base, SIGINT, on_stop, &j); /* before raw mode only */
	event_add(j.ev_winch, NULL);
	event_add(j.ev_term, NULL);
	event_add(j.ev_hup, NULL);
	event_add(j.ev_int, NULL);

	event_base_dispatch(j.base);

	if (j.job) {
		ssh_cancel(j.job);
		j.job = NULL;
	}
	join_restore();
	struct event *evs[] = {j.ev_stdin, j.ev_winch, j.ev_term, j.ev_hup, j.ev_int};
	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
		if (evs[i])
			event_free(evs[i]);
	event_base_free(j.base);

	if (j.done && j.started && j.res.exit_code >= 0) {
		rc = j.res.exit_code; /* the remote console said what it had to */
	} else {
		/* host key refusals, auth, connection loss: messages that may
		 * quote the remote side, so sanitised */
		char *msg = text_sanitize(j.res.error[0] ? j.res.error : "the connection ended", true);
		fprintf(stderr, "%swarroom: join %s: %s\n", j.started ? "\r\n" : "", a.host, msg);
		free(msg);
		rc = 1;
	}
	free(command);
	free(a.user);
	free(a.host);
	return rc;
}
