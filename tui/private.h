/* Private sessions for `warroom demo` and `warroom replay`: a server forked
 * on a journal and socket in a fresh temporary directory (never the user's
 * real ones), which the console attaches to and which is stopped after it.
 * The server's pid is left in DIR/server.pid for tests that must stop what
 * they started; its output goes to DIR/server.log. */
#ifndef WARROOM_TUI_PRIVATE_H
#define WARROOM_TUI_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/config.h"
#include "core/server.h"

struct private_session {
	char *dir;       /* owned */
	char *log_path, *pid_path;
	pid_t pid;       /* 0 when not running */
};

/* The directory for a session: $env_var when set (created if missing, and
 * it must not hold DIR/journal.jsonl yet), else a new TMPDIR/PREFIX-XXXXXX.
 * NULL + err. */
char *private_dir(const char *env_var, const char *prefix, char *err, size_t errlen);

/* A configuration with nothing but the journal and socket in dir (and the
 * theme of the user's config, if given). */
struct config *private_config(const char *dir, const char *sock_name, const char *theme);

/* The user's [theme] from config_path (NULL: none); exits with a message
 * (returns false) when the file is unreadable or invalid. */
bool private_user_theme(const char *config_path, const char *who, char **theme);

/* Forks server_main(cfg, so) in its own session, with stdio to the log; it
 * goes too if this process dies. Waits until cfg->socket accepts. Takes
 * ownership of dir. Returns 0, or 1 after printing why (and the log). */
int private_start(struct private_session *ps, char *dir, struct config *cfg,
		  const struct server_opts *so, const char *who);

/* Stops the server (SIGTERM, then SIGKILL after 2 s), removes the socket
 * and the pid file, frees the paths. The directory and journal stay. */
void private_stop(struct private_session *ps, const struct config *cfg);

#endif
