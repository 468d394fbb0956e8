#include "tui/private.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"

#define PRIVATE_SOCKET_WAIT_MS 3000
#define PRIVATE_STOP_WAIT_MS 2000

char *private_dir(const char *env_var, const char *prefix, char *err, size_t errlen)
{
	const char *fixed = env_var ? getenv(env_var) : NULL;
	if (fixed && *fixed) {
		if (mkdir(fixed, 0700) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", fixed, strerror(errno));
			return NULL;
		}
		char *j = xasprintf("%s/journal.jsonl", fixed);
		bool used = access(j, F_OK) == 0;
		free(j);
		if (used) {
			snprintf(err, errlen, "%s already holds a journal; use an empty directory", fixed);
			return NULL;
		}
		return xstrdup(fixed);
	}
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	char *tmpl = xasprintf("%s/%s-XXXXXX", tmp, prefix);
	if (!mkdtemp(tmpl)) {
		snprintf(err, errlen, "cannot create a directory in %s: %s", tmp, strerror(errno));
		free(tmpl);
		return NULL;
	}
	return tmpl;
}

struct config *private_config(const char *dir, const char *sock_name, const char *theme)
{
	struct config *cfg = config_defaults();
	if (!cfg)
		return NULL;
	char *p = xasprintf("%s/journal.jsonl", dir);
	str_set(&cfg->journal, p);
	free(p);
	p = xasprintf("%s/%s", dir, sock_name);
	str_set(&cfg->socket, p);
	free(p);
	if (theme)
		str_set(&cfg->theme, theme);
	return cfg;
}

bool private_user_theme(const char *config_path, const char *who, char **theme)
{
	*theme = NULL;
	if (!config_path)
		return true;
	char err[512];
	struct config *user_cfg = config_load(config_path, err, sizeof err);
	if (!user_cfg) {
		fprintf(stderr, "warroom %s: %s\n", who, err);
		return false;
	}
	*theme = xstrdup(user_cfg->theme);
	config_free(user_cfg);
	return true;
}

static bool private_socket_ready(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	bool ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	close(fd);
	return ok;
}

static void private_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void private_kill(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	int64_t until = time_mono_ms() + PRIVATE_STOP_WAIT_MS;
	while (time_mono_ms() < until) {
		pid_t r = waitpid(pid, NULL, WNOHANG);
		if (r == pid || (r < 0 && errno != EINTR))
			return;
		private_sleep_ms(20);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static void private_print_log(const char *path)
{
	size_t len = 0;
	char *s = file_read_all(path, 4096, &len);
	if (s && len)
		fprintf(stderr, "%.*s%s", (int)len, s, s[len - 1] == '\n' ? "" : "\n");
	free(s);
}

static void private_paths_free(struct private_session *ps)
{
	free(ps->log_path);
	free(ps->pid_path);
	free(ps->dir);
	ps->log_path = ps->pid_path = ps->dir = NULL;
}

int private_start(struct private_session *ps, char *dir, struct config *cfg,
		  const struct server_opts *so, const char *who)
{
	memset(ps, 0, sizeof *ps);
	ps->dir = dir;
	struct sockaddr_un sa;
	if (strlen(cfg->socket) >= sizeof sa.sun_path) {
		fprintf(stderr, "warroom %s: socket path %s is too long; set TMPDIR to a shorter "
			"directory\n", who, cfg->socket);
		private_paths_free(ps);
		return 1;
	}
	ps->log_path = xasprintf("%s/server.log", dir);
	ps->pid_path = xasprintf("%s/server.pid", dir);
	fflush(NULL);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "warroom %s: fork: %s\n", who, strerror(errno));
		private_paths_free(ps);
		return 1;
	}
	if (pid == 0) {
		/* the server: its own session (the terminal's signals are the
		 * console's), stdio to the log */
		setsid();
		/* if the console dies without stopping us (a closed terminal), go too */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
		int out = open(ps->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (in >= 0)
			dup2(in, STDIN_FILENO);
		if (out >= 0) {
			dup2(out, STDOUT_FILENO);
			dup2(out, STDERR_FILENO);
		}
		_exit(server_main(cfg, so));
	}
	ps->pid = pid;
	FILE *pf = fopen(ps->pid_path, "w");
	if (pf) {
		fprintf(pf, "%ld\n", (long)pid);
		fclose(pf);
	}
	int64_t until = time_mono_ms() + PRIVATE_SOCKET_WAIT_MS;
	while (time_mono_ms() < until) {
		if (private_socket_ready(cfg->socket))
			return 0;
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			ps->pid = 0;
			break;
		}
		private_sleep_ms(20);
	}
	fprintf(stderr, "warroom %s: the private server did not start%s; its log:\n", who,
		ps->pid ? " within 3 s" : "");
	private_print_log(ps->log_path);
	private_stop(ps, cfg);
	return 1;
}

void private_stop(struct private_session *ps, const struct config *cfg)
{
	private_kill(ps->pid);
	ps->pid = 0;
	if (cfg && cfg->socket)
		unlink(cfg->socket);
	if (ps->pid_path)
		unlink(ps->pid_path);
	private_paths_free(ps);
}
