/* [rollback SERVICE] via = ssh: run a command template on a host over SSH.
 *   host, port (22), user, identity, known_hosts (~/.ssh/known_hosts),
 *   command (required; {service} {version} {from_version} {user} {ref},
 *   each shell-quoted), timeout (seconds, 120), approval (none|two-person). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/backend.h"
#include "backends/ssh.h"
#include "backends/template.h"
#include "core/util.h"

struct rb_ssh {
	char *host, *user, *identity, *known_hosts, *command;
	int port;
	long timeout_s;
};

static const char *const rb_ssh_keys[] = {
	"host", "port", "user", "identity", "known_hosts", "command", "timeout", "approval", NULL,
};

static void rb_ssh_free(void *self)
{
	struct rb_ssh *r = self;
	if (!r)
		return;
	free(r->host);
	free(r->user);
	free(r->identity);
	free(r->known_hosts);
	free(r->command);
	free(r);
}

static void *rb_ssh_configure(const struct config_section *sec, const char *file, char *err,
			      size_t errlen)
{
	char where[300];
	if (!template_check_keys(sec, file, rb_ssh_keys, err, errlen))
		return NULL;
	struct rb_ssh *r = xcalloc(1, sizeof *r);
	const char *v;
	if (!(v = template_get(sec, "host")) || !*v) {
		template_key_where(sec, file, NULL, where, sizeof where);
		snprintf(err, errlen, "%s[rollback %s] via = ssh needs host = ADDRESS", where, sec->name);
		goto fail;
	}
	r->host = xstrdup(v);
	r->port = 22;
	if ((v = template_get(sec, "port"))) {
		char *end;
		long p = strtol(v, &end, 10);
		if (*end || p < 1 || p > 65535) {
			template_key_where(sec, file, "port", where, sizeof where);
			snprintf(err, errlen, "%sport must be 1..65535, not '%s'", where, v);
			goto fail;
		}
		r->port = (int)p;
	}
	v = template_get(sec, "user");
	r->user = xstrdup(v && *v ? v : (getenv("USER") ? getenv("USER") : "root"));
	if ((v = template_get(sec, "identity")))
		r->identity = template_expand_home(v);
	r->known_hosts = template_expand_home((v = template_get(sec, "known_hosts")) ? v
									: "~/.ssh/known_hosts");
	v = template_get(sec, "command");
	if (!v || !*v) {
		template_key_where(sec, file, NULL, where, sizeof where);
		snprintf(err, errlen,
			 "%s[rollback %s] via = ssh needs command = ... (e.g. /opt/deploy/rollback "
			 "{service} {version})", where, sec->name);
		goto fail;
	}
	char terr[256];
	if (!template_check(v, TEMPLATE_SHELL, template_rollback_names, terr, sizeof terr)) {
		template_key_where(sec, file, "command", where, sizeof where);
		snprintf(err, errlen, "%scommand: %s", where, terr);
		goto fail;
	}
	r->command = xstrdup(v);
	r->timeout_s = 120;
	if ((v = template_get(sec, "timeout"))) {
		r->timeout_s = template_parse_seconds(v);
		if (r->timeout_s <= 0) {
			template_key_where(sec, file, "timeout", where, sizeof where);
			snprintf(err, errlen, "%stimeout must be seconds (e.g. 120 or 2m), not '%s'",
				 where, v);
			goto fail;
		}
	}
	return r;
fail:
	rb_ssh_free(r);
	return NULL;
}

static char *rb_ssh_command(const struct rb_ssh *r, const struct backend_job_req *req)
{
	const struct template_var vars[] = {
		{"service", req->service},
		{"version", req->to_version},
		{"to_version", req->to_version},
		{"from_version", req->from_version},
		{"user", req->user},
		{"ref", req->to_ref},
	};
	char err[256];
	return template_expand(r->command, TEMPLATE_SHELL, vars, sizeof vars / sizeof vars[0], err,
			       sizeof err);
}

static char *rb_ssh_describe(void *self, const struct backend_job_req *req)
{
	struct rb_ssh *r = self;
	char *cmd = rb_ssh_command(r, req);
	char *d;
	if (r->port == 22)
		d = xasprintf("ssh %s@%s -- %s", r->user, r->host, cmd ? cmd : "?");
	else
		d = xasprintf("ssh %s@%s:%d -- %s", r->user, r->host, r->port, cmd ? cmd : "?");
	free(cmd);
	return d;
}

static void *rb_ssh_run(void *self, const struct backend_host *host,
			const struct backend_job_req *req, const struct backend_job_cbs *cbs)
{
	struct rb_ssh *r = self;
	char *cmd = rb_ssh_command(r, req);
	if (!cmd)
		return NULL;
	struct ssh_target t = {
		.host = r->host, .port = r->port, .user = r->user,
		.identity = r->identity, .known_hosts = r->known_hosts,
	};
	int64_t timeout = req->deadline_ms > 0 ? req->deadline_ms : (int64_t)r->timeout_s * 1000;
	struct ssh_job *j = ssh_exec(host->base, &t, cmd, timeout, cbs);
	free(cmd);
	return j;
}

static void rb_ssh_cancel(void *job)
{
	ssh_cancel(job);
}

const struct backend_class backend_rollback_ssh = {
	.family = "rollback",
	.type = "ssh",
	.configure = rb_ssh_configure,
	.describe = rb_ssh_describe,
	.run = rb_ssh_run,
	.cancel = rb_ssh_cancel,
	.free = rb_ssh_free,
};
