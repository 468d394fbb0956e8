/* SSH exec with libssh2 in non-blocking mode on the libevent loop; see ssh.h.
 * Every libssh2 call may answer EAGAIN: the job then waits for the socket in
 * the directions libssh2_session_block_directions names and calls again. */
#include "backends/ssh.h"

#include <errno.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/util.h"

enum phase {
	PH_RESOLVE, PH_CONNECT, PH_HANDSHAKE, PH_AUTHLIST, PH_AGENT, PH_KEYFILE, PH_OPEN, PH_PTY,
	PH_EXEC, PH_READ, PH_CLOSE, PH_WAITCLOSED, PH_DONE
};

static const char *const phase_words[] = {
	[PH_RESOLVE] = "resolving the host name",
	[PH_CONNECT] = "connecting",
	[PH_HANDSHAKE] = "in the SSH handshake",
	[PH_AUTHLIST] = "authenticating",
	[PH_AGENT] = "authenticating",
	[PH_KEYFILE] = "authenticating",
	[PH_OPEN] = "opening a channel",
	[PH_PTY] = "asking for a terminal",
	[PH_EXEC] = "starting the command",
	[PH_READ] = "running the command",
	[PH_CLOSE] = "closing the channel",
	[PH_WAITCLOSED] = "closing the channel",
	[PH_DONE] = "finishing",
};

struct ssh_job {
	struct event_base *base;
	struct event *ev_read, *ev_write, *ev_timer, *ev_kick;
	struct evdns_getaddrinfo_request *dnsreq;
	struct evutil_addrinfo *addrs, *addr_next;
	int fd;
	LIBSSH2_SESSION *s;
	LIBSSH2_CHANNEL *ch;
	LIBSSH2_AGENT *agent;
	struct libssh2_agent_publickey *ident;
	int agent_tried;

	char *host, *user, *known_hosts, *command;
	char *identities[3]; /* key files to try, NULL-terminated */
	int identity_i;
	bool no_agent;
	int port;
	int64_t timeout_ms, t0;
	enum phase ph;

	struct sbuf line[2]; /* partial stdout, stderr line */
	bool cut[2];
	size_t nlines, dropped;
	char autherr[320];

	struct backend_job_cbs cbs;
	struct backend_result res;

	/* interactive (ssh_exec_pty): raw output, keystrokes queued to send */
	bool pty;
	char *term;
	int cols, rows;
	bool resize_due, eof_due;
	struct sbuf in;
	size_t in_off;
	void (*data)(void *arg, const char *buf, size_t n);
};

static struct evdns_base *dns_base;
static struct event_base *dns_for;

/* ---- small helpers --------------------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *ssh_base64_encode(const unsigned char *p, size_t n, bool pad)
{
	struct sbuf sb;
	sbuf_init(&sb);
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < n) v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n) v |= p[i + 2];
		sbuf_addc(&sb, b64[(v >> 18) & 63]);
		sbuf_addc(&sb, b64[(v >> 12) & 63]);
		if (i + 1 < n) sbuf_addc(&sb, b64[(v >> 6) & 63]);
		else if (pad) sbuf_addc(&sb, '=');
		if (i + 2 < n) sbuf_addc(&sb, b64[v & 63]);
		else if (pad) sbuf_addc(&sb, '=');
	}
	return sbuf_detach(&sb);
}

unsigned char *ssh_base64_decode(const char *s, size_t len, size_t *out_len)
{
	unsigned char *out = xmalloc(len / 4 * 3 + 3);
	size_t o = 0;
	unsigned v = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '=')
			break;
		const char *c = strchr(b64, s[i]);
		if (!c || !s[i]) {
			free(out);
			return NULL;
		}
		v = (v << 6) | (unsigned)(c - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(v >> bits);
			v &= (1u << bits) - 1;
		}
	}
	*out_len = o;
	return out;
}

void ssh_fingerprint_format(const unsigned char *sha256, char *out, size_t len)
{
	char *b = ssh_base64_encode(sha256, 32, false);
	snprintf(out, len, "SHA256:%s", b);
	free(b);
}

const char *ssh_hostkey_type_name(int keytype)
{
	switch (keytype) {
	case LIBSSH2_HOSTKEY_TYPE_RSA: return "ssh-rsa";
	case LIBSSH2_HOSTKEY_TYPE_DSS: return "ssh-dss";
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return "ecdsa-sha2-nistp256";
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return "ecdsa-sha2-nistp384";
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return "ecdsa-sha2-nistp521";
	case LIBSSH2_HOSTKEY_TYPE_ED25519: return "ssh-ed25519";
	default: return "unknown-key-type";
	}
}

static int knownhost_keybits(int keytype)
{
	switch (keytype) {
	case LIBSSH2_HOSTKEY_TYPE_RSA: return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
	case LIBSSH2_HOSTKEY_TYPE_DSS: return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
	case LIBSSH2_HOSTKEY_TYPE_ED25519: return LIBSSH2_KNOWNHOST_KEY_ED25519;
	default: return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
	}
}

/* "[host]:port" as known_hosts writes it, or the bare host on port 22. */
static void host_label(const char *host, int port, char *buf, size_t len)
{
	if (port == 22)
		snprintf(buf, len, "%s", host);
	else
		snprintf(buf, len, "[%s]:%d", host, port);
}

/* Is this "@revoked" line's key the offered one? */
static bool revoked_line_matches(const char *line, const char *key, size_t keylen)
{
	/* @revoked HOSTS TYPE BASE64 [comment] */
	char *copy = xstrdup(line);
	char *save = NULL;
	char *f[4] = {0};
	int n = 0;
	for (char *t = strtok_r(copy, " \t", &save); t && n < 4; t = strtok_r(NULL, " \t", &save))
		f[n++] = t;
	bool hit = false;
	if (n == 4) {
		size_t blen;
		unsigned char *blob = ssh_base64_decode(f[3], strlen(f[3]), &blen);
		hit = blob && blen == keylen && memcmp(blob, key, keylen) == 0;
		free(blob);
	}
	free(copy);
	return hit;
}

enum ssh_kh_result ssh_knownhost_check(LIBSSH2_SESSION *s, const char *path, const char *host,
				       int port, const char *key, size_t keylen, int keytype,
				       const char *fp, char *err, size_t errlen)
{
	char label[300];
	host_label(host, port, label, sizeof label);
	const char *tname = ssh_hostkey_type_name(keytype);

	size_t flen = 0;
	char *file = file_read_all(path, 8u << 20, &flen);
	if (!file) {
		snprintf(err, errlen,
			 "unknown host %s: cannot read known_hosts %s (%s); the server's %s key is %s. "
			 "Refusing to run. If that fingerprint is right, add the host with "
			 "ssh-keyscan -p %d %s >> %s",
			 label, path, strerror(errno), tname, fp, port, host, path);
		return SSH_KH_NOTFOUND;
	}

	/* Line by line: libssh2_knownhost_readfile stops at the first line it
	 * cannot parse (a certificate authority, a key type it lacks), losing
	 * every entry after it. */
	LIBSSH2_KNOWNHOSTS *kh = libssh2_knownhost_init(s);
	bool revoked = false;
	char *save = NULL;
	for (char *ln = strtok_r(file, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
		size_t l = strlen(ln);
		if (l && ln[l - 1] == '\r')
			ln[--l] = '\0';
		const char *p = ln;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		if (strncmp(p, "@revoked", 8) == 0) {
			if (revoked_line_matches(p, key, keylen))
				revoked = true;
			continue;
		}
		if (*p == '@')
			continue; /* @cert-authority: certificates are not supported */
		if (kh)
			(void)libssh2_knownhost_readline(kh, p, strlen(p), LIBSSH2_KNOWNHOST_FILE_OPENSSH);
	}
	free(file);

	if (revoked) {
		if (kh)
			libssh2_knownhost_free(kh);
		snprintf(err, errlen, "host key %s %s of %s is marked @revoked in %s; refusing to run",
			 tname, fp, label, path);
		return SSH_KH_REVOKED;
	}

	int rc = LIBSSH2_KNOWNHOST_CHECK_FAILURE;
	if (kh) {
		struct libssh2_knownhost *found = NULL;
		rc = libssh2_knownhost_checkp(kh, host, port, key, keylen,
					      LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW |
					      knownhost_keybits(keytype), &found);
		libssh2_knownhost_free(kh);
	}
	switch (rc) {
	case LIBSSH2_KNOWNHOST_CHECK_MATCH:
		return SSH_KH_MATCH;
	case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
		snprintf(err, errlen,
			 "HOST KEY CHANGED for %s: the server offered %s %s, which does not match %s. "
			 "Refusing to run: the connection may be intercepted, or the host was rebuilt "
			 "(then verify the new fingerprint out of band and replace its line)",
			 label, tname, fp, path);
		return SSH_KH_MISMATCH;
	default:
		snprintf(err, errlen,
			 "unknown host %s: its %s key %s is not in %s. Refusing to run. If that "
			 "fingerprint is right, add the host with ssh-keyscan -p %d %s >> %s",
			 label, tname, fp, path, port, host, path);
		return SSH_KH_NOTFOUND;
	}
}

/* ---- the job ---------------------------------------------------------- */

static void job_step(struct ssh_job *j);

static void job_teardown(struct ssh_job *j)
{
	if (j->dnsreq) {
		struct evdns_getaddrinfo_request *r = j->dnsreq;
		j->dnsreq = NULL;
		evdns_getaddrinfo_cancel(r); /* its callback sees EVUTIL_EAI_CANCEL */
	}
	if (j->ev_read) event_free(j->ev_read);
	if (j->ev_write) event_free(j->ev_write);
	if (j->ev_timer) event_free(j->ev_timer);
	if (j->ev_kick) event_free(j->ev_kick);
	j->ev_read = j->ev_write = j->ev_timer = j->ev_kick = NULL;
	/* Best effort, never waiting: once the socket is shut down every pending
	 * libssh2 write fails at once instead of answering EAGAIN. */
	if (j->ch)
		libssh2_channel_free(j->ch);
	j->ch = NULL;
	if (j->agent) {
		libssh2_agent_disconnect(j->agent);
		libssh2_agent_free(j->agent);
		j->agent = NULL;
	}
	if (j->s) {
		libssh2_session_disconnect(j->s, "done");
		if (j->fd >= 0)
			shutdown(j->fd, SHUT_RDWR);
		libssh2_session_free(j->s);
		j->s = NULL;
	}
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
	if (j->addrs)
		evutil_freeaddrinfo(j->addrs);
	j->addrs = NULL;
}

static void job_free(struct ssh_job *j)
{
	job_teardown(j);
	free(j->host);
	free(j->user);
	free(j->known_hosts);
	free(j->command);
	free(j->term);
	sbuf_free(&j->in);
	for (int i = 0; i < 3; i++)
		free(j->identities[i]);
	sbuf_free(&j->line[0]);
	sbuf_free(&j->line[1]);
	free(j);
}

static void emit_line(struct ssh_job *j, int stream)
{
	struct sbuf *l = &j->line[stream];
	if (l->len && l->buf[l->len - 1] == '\r')
		l->buf[--l->len] = '\0';
	if (j->nlines >= SSH_LINES_MAX) {
		j->dropped++;
	} else {
		if (j->cut[stream])
			sbuf_adds(l, " [line cut]");
		j->nlines++;
		if (j->cbs.output)
			j->cbs.output(j->cbs.arg, stream ? "stderr" : "stdout", l->buf ? l->buf : "");
	}
	sbuf_reset(l);
	j->cut[stream] = false;
}

static void feed(struct ssh_job *j, int stream, const char *buf, size_t n)
{
	struct sbuf *l = &j->line[stream];
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n')
			emit_line(j, stream);
		else if (l->len < SSH_LINE_MAX)
			sbuf_addc(l, buf[i]);
		else
			j->cut[stream] = true;
	}
}

/* Reports the result and frees the job. */
static void job_finish(struct ssh_job *j)
{
	for (int s = 0; s < 2; s++)
		if (j->line[s].len || j->cut[s])
			emit_line(j, s);
	if (j->dropped && j->cbs.output) {
		char msg[96];
		snprintf(msg, sizeof msg, "%zu more output lines not recorded", j->dropped);
		j->cbs.output(j->cbs.arg, "info", msg);
	}
	j->ph = PH_DONE;
	job_teardown(j);
	struct backend_result res = j->res;
	struct backend_job_cbs cbs = j->cbs;
	job_free(j);
	if (cbs.done)
		cbs.done(cbs.arg, &res);
}

static void job_fail(struct ssh_job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void job_fail(struct ssh_job *j, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(j->res.error, sizeof j->res.error, fmt, ap);
	va_end(ap);
	j->res.ok = false;
	j->res.exit_code = -1;
	job_finish(j);
}

static const char *session_error(struct ssh_job *j)
{
	char *msg = NULL;
	if (!j->s)
		return "no session";
	libssh2_session_last_error(j->s, &msg, NULL, 0);
	return msg && *msg ? msg : "unknown libssh2 error";
}

/* Wait for the socket in the directions libssh2 (or connect) needs. */
static void job_wait(struct ssh_job *j, bool want_read, bool want_write)
{
	if (j->s && j->ph != PH_CONNECT) {
		int d = libssh2_session_block_directions(j->s);
		want_read = d & LIBSSH2_SESSION_BLOCK_INBOUND;
		want_write = d & LIBSSH2_SESSION_BLOCK_OUTBOUND;
		if (!want_read && !want_write)
			want_read = true;
	}
	if (want_read)
		event_add(j->ev_read, NULL);
	if (want_write)
		event_add(j->ev_write, NULL);
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
	struct ssh_job *j = arg;
	/* one wakeup is enough: drop the other direction's wait */
	event_del(j->ev_read);
	event_del(j->ev_write);
	job_step(j);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct ssh_job *j = arg;
	int64_t secs = (j->timeout_ms + 999) / 1000;
	job_fail(j, "timed out after %lld s %s", (long long)secs, phase_words[j->ph]);
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	job_step(arg);
}

static void start_connect(struct ssh_job *j);

static void on_resolved(int result, struct evutil_addrinfo *res, void *arg)
{
	if (result == EVUTIL_EAI_CANCEL)
		return; /* job is being freed */
	struct ssh_job *j = arg;
	j->dnsreq = NULL;
	if (result != 0) {
		job_fail(j, "cannot resolve %s: %s", j->host, evutil_gai_strerror(result));
		return;
	}
	j->addrs = res;
	j->addr_next = res;
	j->ph = PH_CONNECT;
	start_connect(j);
}

/* Non-blocking connect to the next address; the write event says when done. */
static void start_connect(struct ssh_job *j)
{
	int last_errno = ECONNREFUSED;
	while (j->addr_next) {
		struct evutil_addrinfo *ai = j->addr_next;
		j->addr_next = ai->ai_next;
		int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			last_errno = errno;
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
			last_errno = errno;
			close(fd);
			continue;
		}
		j->fd = fd;
		j->ev_read = event_new(j->base, fd, EV_READ, on_io, j);
		j->ev_write = event_new(j->base, fd, EV_WRITE, on_io, j);
		job_wait(j, false, true);
		return;
	}
	job_fail(j, "cannot connect to %s port %d: %s", j->host, j->port, strerror(last_errno));
}

static bool connect_finished(struct ssh_job *j)
{
	int soerr = 0;
	socklen_t sl = sizeof soerr;
	if (getsockopt(j->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		soerr = errno;
	if (soerr == 0)
		return true;
	/* try the next address, if any */
	event_free(j->ev_read);
	event_free(j->ev_write);
	j->ev_read = j->ev_write = NULL;
	close(j->fd);
	j->fd = -1;
	if (j->addr_next) {
		start_connect(j);
	} else {
		errno = soerr;
		job_fail(j, "cannot connect to %s port %d: %s", j->host, j->port, strerror(soerr));
	}
	return false;
}

static bool check_host_key(struct ssh_job *j)
{
	size_t klen = 0;
	int ktype = 0;
	const char *key = libssh2_session_hostkey(j->s, &klen, &ktype);
	if (!key) {
		job_fail(j, "no host key from %s: %s", j->host, session_error(j));
		return false;
	}
	const char *hash = libssh2_hostkey_hash(j->s, LIBSSH2_HOSTKEY_HASH_SHA256);
	char fp[80] = "SHA256:?";
	if (hash)
		ssh_fingerprint_format((const unsigned char *)hash, fp, sizeof fp);
	char err[sizeof j->res.error];
	if (ssh_knownhost_check(j->s, j->known_hosts, j->host, j->port, key, klen, ktype, fp, err,
				sizeof err) != SSH_KH_MATCH) {
		job_fail(j, "%s", err);
		return false;
	}
	return true;
}

static void auth_failed(struct ssh_job *j)
{
	job_fail(j, "authentication as %s on %s failed (%s). Note: RSA keys fail with libssh2 1.10 "
		 "against OpenSSH 8.8 or later; use an ed25519 or ECDSA key", j->user, j->host,
		 j->autherr[0] ? j->autherr : "no key accepted");
}

static void note_auth(struct ssh_job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note_auth(struct ssh_job *j, const char *fmt, ...)
{
	size_t l = strlen(j->autherr);
	if (l && l < sizeof j->autherr - 2) {
		j->autherr[l++] = ';';
		j->autherr[l++] = ' ';
		j->autherr[l] = '\0';
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(j->autherr + l, sizeof j->autherr - l, fmt, ap);
	va_end(ap);
}

/* Host key preference, ed25519 first. Only names this libssh2 supports are
 * passed: libssh2 1.10 strips unknown ones with an overlapping memcpy. */
static void set_hostkey_pref(LIBSSH2_SESSION *s)
{
	static const char *const pref[] = {
		"ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
		"rsa-sha2-512", "rsa-sha2-256", "ssh-rsa",
	};
	const char **algs = NULL;
	int n = libssh2_session_supported_algs(s, LIBSSH2_METHOD_HOSTKEY, &algs);
	struct sbuf sb;
	sbuf_init(&sb);
	for (size_t i = 0; i < sizeof pref / sizeof pref[0]; i++)
		for (int k = 0; k < n; k++)
			if (strcmp(pref[i], algs[k]) == 0) {
				sbuf_printf(&sb, "%s%s", sb.len ? "," : "", pref[i]);
				break;
			}
	if (algs)
		libssh2_free(s, algs);
	if (sb.len)
		libssh2_session_method_pref(s, LIBSSH2_METHOD_HOSTKEY, sb.buf);
	sbuf_free(&sb);
}

/* Interactive sessions: sends queued keystrokes, a pending size change and
 * EOF. Returns 1 on progress, 0 when it must wait, -1 when the job failed
 * (and is freed). */
static int pty_send(struct ssh_job *j)
{
	int progress = 0;
	if (j->resize_due) {
		int rc = libssh2_channel_request_pty_size_ex(j->ch, j->cols, j->rows, 0, 0);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return 0;
		j->resize_due = false; /* a refused size change is not worth ending the session */
		progress = 1;
	}
	while (j->in_off < j->in.len) {
		ssize_t w = libssh2_channel_write(j->ch, j->in.buf + j->in_off, j->in.len - j->in_off);
		if (w == LIBSSH2_ERROR_EAGAIN)
			return progress;
		if (w < 0) {
			job_fail(j, "writing to %s: %s", j->host, session_error(j));
			return -1;
		}
		j->in_off += (size_t)w;
		progress = 1;
	}
	sbuf_reset(&j->in);
	j->in_off = 0;
	if (j->eof_due) {
		int rc = libssh2_channel_send_eof(j->ch);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return progress;
		j->eof_due = false;
		progress = 1;
	}
	return progress;
}

/* Runs phases until one must wait; returns with an event armed or the job
 * finished (and freed). */
static void job_step(struct ssh_job *j)
{
	char buf[16384];
	int rc;
	for (;;) {
		switch (j->ph) {
		case PH_RESOLVE: {
			struct evutil_addrinfo hints;
			memset(&hints, 0, sizeof hints);
			hints.ai_family = AF_UNSPEC;
			hints.ai_socktype = SOCK_STREAM;
			hints.ai_flags = EVUTIL_AI_NUMERICHOST | EVUTIL_AI_NUMERICSERV;
			char port[16];
			snprintf(port, sizeof port, "%d", j->port);
			struct evutil_addrinfo *res = NULL;
			if (evutil_getaddrinfo(j->host, port, &hints, &res) == 0) {
				j->addrs = j->addr_next = res;
				j->ph = PH_CONNECT;
				start_connect(j);
				return;
			}
			/* a name: ask the resolver without blocking the loop */
			if (!dns_base || dns_for != j->base) {
				dns_base = evdns_base_new(j->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
				dns_for = j->base;
			}
			if (!dns_base) {
				job_fail(j, "cannot resolve %s: no resolver", j->host);
				return;
			}
			hints.ai_flags = EVUTIL_AI_NUMERICSERV | EVUTIL_AI_ADDRCONFIG;
			j->ph = PH_RESOLVE;
			struct evdns_getaddrinfo_request *r =
				evdns_getaddrinfo(dns_base, j->host, port, &hints, on_resolved, j);
			/* r is NULL when the callback already ran (and may have
			 * freed the job): return either way */
			if (r)
				j->dnsreq = r;
			return;
		}
		case PH_CONNECT:
			if (!connect_finished(j))
				return;
			j->s = libssh2_session_init();
			if (!j->s) {
				job_fail(j, "cannot create an SSH session");
				return;
			}
			libssh2_session_set_blocking(j->s, 0);
			set_hostkey_pref(j->s);
			j->ph = PH_HANDSHAKE;
			break;
		case PH_HANDSHAKE:
			rc = libssh2_session_handshake(j->s, j->fd);
			if (rc == LIBSSH2_ERROR_EAGAIN)
				goto wait;
			if (rc) {
				job_fail(j, "SSH handshake with %s port %d failed: %s", j->host, j->port,
					 session_error(j));
				return;
			}
			if (!check_host_key(j))
				return;
			j->ph = PH_AUTHLIST;
			break;
		case PH_AUTHLIST: {
			char *list = libssh2_userauth_list(j->s, j->user, (unsigned)strlen(j->user));
			if (!list) {
				if (libssh2_userauth_authenticated(j->s)) {
					j->ph = PH_OPEN; /* "none" auth accepted */
					break;
				}
				if (libssh2_session_last_errno(j->s) == LIBSSH2_ERROR_EAGAIN)
					goto wait;
				job_fail(j, "cannot list auth methods on %s: %s", j->host, session_error(j));
				return;
			}
			if (!strstr(list, "publickey")) {
				job_fail(j, "%s does not offer publickey authentication (offers: %s)", j->host,
					 list);
				return;
			}
			j->ph = (getenv("SSH_AUTH_SOCK") && !j->no_agent) ? PH_AGENT : PH_KEYFILE;
			break;
		}
		case PH_AGENT:
			if (!j->agent) {
				j->agent = libssh2_agent_init(j->s);
				/* the agent is a local socket: these calls are quick */
				if (!j->agent || libssh2_agent_connect(j->agent) ||
				    libssh2_agent_list_identities(j->agent)) {
					note_auth(j, "ssh-agent unavailable");
					j->ph = PH_KEYFILE;
					break;
				}
				j->ident = NULL;
				if (libssh2_agent_get_identity(j->agent, &j->ident, NULL) != 0) {
					note_auth(j, "ssh-agent has no keys");
					j->ph = PH_KEYFILE;
					break;
				}
			}
			rc = libssh2_agent_userauth(j->agent, j->user, j->ident);
			if (rc == LIBSSH2_ERROR_EAGAIN)
				goto wait;
			if (rc == 0) {
				j->ph = PH_OPEN;
				break;
			}
			j->agent_tried++;
			if (libssh2_agent_get_identity(j->agent, &j->ident, j->ident) != 0) {
				note_auth(j, "ssh-agent: %d key%s refused", j->agent_tried,
					  j->agent_tried == 1 ? "" : "s");
				j->ph = PH_KEYFILE;
			}
			break;
		case PH_KEYFILE: {
			const char *key = j->identities[j->identity_i];
			if (!key) {
				auth_failed(j);
				return;
			}
			if (access(key, R_OK) != 0) {
				note_auth(j, "key file %s: %s", key, strerror(errno));
				j->identity_i++;
				break;
			}
			rc = libssh2_userauth_publickey_fromfile(j->s, j->user, NULL, key, NULL);
			if (rc == LIBSSH2_ERROR_EAGAIN)
				goto wait;
			if (rc == 0) {
				j->ph = PH_OPEN;
				break;
			}
			note_auth(j, "key file %s: %s", key, session_error(j));
			j->identity_i++;
			break;
		}
		case PH_OPEN:
			j->ch = libssh2_channel_open_session(j->s);
			if (!j->ch) {
				if (libssh2_session_last_errno(j->s) == LIBSSH2_ERROR_EAGAIN)
					goto wait;
				job_fail(j, "cannot open a channel on %s: %s", j->host, session_error(j));
				return;
			}
			j->ph = j->pty ? PH_PTY : PH_EXEC;
			break;
		case PH_PTY:
			rc = libssh2_channel_request_pty_ex(j->ch, j->term, (unsigned)strlen(j->term), NULL,
							    0, j->cols, j->rows, 0, 0);
			if (rc == LIBSSH2_ERROR_EAGAIN)
				goto wait;
			if (rc) {
				job_fail(j, "%s refused a terminal: %s", j->host, session_error(j));
				return;
			}
			j->ph = PH_EXEC;
			break;
		case PH_EXEC:
			rc = libssh2_channel_exec(j->ch, j->command);
			if (rc == LIBSSH2_ERROR_EAGAIN)
				goto wait;
			if (rc) {
				job_fail(j, "cannot run the command on %s: %s", j->host, session_error(j));
				return;
			}
			j->ph = PH_READ;
			/* an interactive session may last all day: the deadline was
			 * for getting here */
			if (j->pty)
				evtimer_del(j->ev_timer);
			if (j->cbs.started)
				j->cbs.started(j->cbs.arg);
			break;
		case PH_READ: {
			bool progress = false;
			if (j->pty) {
				int w = pty_send(j);
				if (w < 0)
					return;
				progress = w > 0;
			}
			ssize_t n = libssh2_channel_read(j->ch, buf, sizeof buf);
			if (n > 0 && j->pty) {
				if (j->data)
					j->data(j->cbs.arg, buf, (size_t)n);
				progress = true;
			} else if (n > 0) {
				feed(j, 0, buf, (size_t)n);
				progress = true;
			} else if (n < 0 && n != LIBSSH2_ERROR_EAGAIN) {
				job_fail(j, "reading output from %s: %s", j->host, session_error(j));
				return;
			}
			n = libssh2_channel_read_stderr(j->ch, buf, sizeof buf);
			if (n > 0 && j->pty) {
				if (j->data)
					j->data(j->cbs.arg, buf, (size_t)n);
				progress = true;
			} else if (n > 0) {
				feed(j, 1, buf, (size_t)n);
				progress = true;
			} else if (n < 0 && n != LIBSSH2_ERROR_EAGAIN) {
				job_fail(j, "reading errors from %s: %s", j->host, session_error(j));
				return;
			}
			if (progress)
				break;
			if (libssh2_channel_eof(j->ch)) {
				j->ph = PH_CLOSE;
				break;
			}
			goto wait;
		}
		case PH_CLOSE:
			rc = libssh2_channel_close(j->ch);
			if (rc == LIBSSH2_ERROR_EAGAIN)
				goto wait;
			j->ph = PH_WAITCLOSED;
			break;
		case PH_WAITCLOSED: {
			rc = libssh2_channel_wait_closed(j->ch);
			if (rc == LIBSSH2_ERROR_EAGAIN)
				goto wait;
			char *sig = NULL;
			libssh2_channel_get_exit_signal(j->ch, &sig, NULL, NULL, NULL, NULL, NULL);
			int status = libssh2_channel_get_exit_status(j->ch);
			j->res.exit_code = sig ? -1 : status;
			j->res.ok = !sig && status == 0;
			if (sig)
				snprintf(j->res.error, sizeof j->res.error, "killed by signal %s", sig);
			else if (status)
				snprintf(j->res.error, sizeof j->res.error, "exit status %d", status);
			if (sig)
				libssh2_free(j->s, sig);
			job_finish(j);
			return;
		}
		case PH_DONE:
			return;
		}
	}
wait:
	job_wait(j, false, false);
}

static char *home_path(const char *rel)
{
	const char *home = getenv("HOME");
	return xasprintf("%s/%s", home && *home ? home : "/", rel);
}

static struct ssh_job *job_new(struct event_base *base, const struct ssh_target *t,
			       const char *command, int64_t timeout_ms,
			       const struct backend_job_cbs *cbs)
{
	static bool inited;
	if (!inited) {
		libssh2_init(0);
		inited = true;
	}
	struct ssh_job *j = xcalloc(1, sizeof *j);
	j->base = base;
	j->fd = -1;
	j->host = xstrdup(t->host);
	j->port = t->port > 0 ? t->port : 22;
	j->user = xstrdup(t->user ? t->user : "root");
	j->known_hosts = t->known_hosts ? xstrdup(t->known_hosts) : home_path(".ssh/known_hosts");
	j->command = xstrdup(command);
	if (t->identity) {
		j->identities[0] = xstrdup(t->identity);
	} else {
		j->identities[0] = home_path(".ssh/id_ed25519");
		j->identities[1] = home_path(".ssh/id_ecdsa");
	}
	j->no_agent = t->no_agent;
	j->timeout_ms = timeout_ms > 0 ? timeout_ms : 120000;
	j->cbs = *cbs;
	j->res.exit_code = -1;
	sbuf_init(&j->line[0]);
	sbuf_init(&j->line[1]);
	sbuf_init(&j->in);
	j->t0 = time_mono_ms();
	j->ph = PH_RESOLVE;
	return j;
}

static struct ssh_job *job_start(struct ssh_job *j)
{
	j->ev_timer = evtimer_new(j->base, on_timer, j);
	struct timeval tv = {(time_t)(j->timeout_ms / 1000), (suseconds_t)(j->timeout_ms % 1000) * 1000};
	evtimer_add(j->ev_timer, &tv);
	/* start from the loop so no callback runs inside this call */
	j->ev_kick = evtimer_new(j->base, on_kick, j);
	struct timeval zero = {0, 0};
	evtimer_add(j->ev_kick, &zero);
	return j;
}

struct ssh_job *ssh_exec(struct event_base *base, const struct ssh_target *t, const char *command,
			 int64_t timeout_ms, const struct backend_job_cbs *cbs)
{
	return job_start(job_new(base, t, command, timeout_ms, cbs));
}

struct ssh_job *ssh_exec_pty(struct event_base *base, const struct ssh_target *t,
			     const char *command, const struct ssh_pty *pty,
			     int64_t connect_timeout_ms, const struct backend_job_cbs *cbs)
{
	struct ssh_job *j = job_new(base, t, command, connect_timeout_ms, cbs);
	j->pty = true;
	j->term = xstrdup(pty->term && *pty->term ? pty->term : "vt100");
	j->cols = pty->cols > 0 ? pty->cols : 80;
	j->rows = pty->rows > 0 ? pty->rows : 24;
	j->data = pty->data;
	return job_start(j);
}

/* Runs the job from the loop soon (never inside the caller). */
static void pty_kick(struct ssh_job *j)
{
	if (j->ph == PH_READ && j->ev_kick && !evtimer_pending(j->ev_kick, NULL)) {
		struct timeval zero = {0, 0};
		evtimer_add(j->ev_kick, &zero);
	}
}

void ssh_pty_write(struct ssh_job *j, const char *buf, size_t n)
{
	if (!j || !j->pty || j->eof_due)
		return;
	sbuf_add(&j->in, buf, n);
	pty_kick(j);
}

void ssh_pty_resize(struct ssh_job *j, int cols, int rows)
{
	if (!j || !j->pty || cols <= 0 || rows <= 0 || (cols == j->cols && rows == j->rows))
		return;
	j->cols = cols;
	j->rows = rows;
	/* before PH_PTY the request itself carries the new size */
	if (j->ph >= PH_PTY) {
		j->resize_due = true;
		pty_kick(j);
	}
}

void ssh_pty_eof(struct ssh_job *j)
{
	if (!j || !j->pty)
		return;
	j->eof_due = true;
	pty_kick(j);
}

void ssh_cancel(struct ssh_job *job)
{
	if (job)
		job_free(job);
}
