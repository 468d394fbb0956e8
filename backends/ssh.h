/* Running one command on a host over SSH (libssh2 1.10), inside the server's
 * libevent loop and never blocking it: non-blocking TCP connect, handshake
 * preferring ed25519 host keys, host key checked against known_hosts (an
 * unknown or changed key refuses to run, showing the SHA256 fingerprint),
 * auth by ssh-agent then key file, exec with stdout and stderr reported line
 * by line, exit status at the end, and a deadline of our own.
 *
 * RSA user keys fail with libssh2 1.10 against OpenSSH >= 8.8 (it signs with
 * ssh-rsa/SHA-1 only): use ed25519 or ECDSA keys.
 *
 * The remote login shell runs the command, so it must be a POSIX shell for
 * the quoting in backends/template.c to hold. */
#ifndef WARROOM_SSH_H
#define WARROOM_SSH_H

#include <libssh2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backends/backend.h"

struct event_base;
struct ssh_job;

struct ssh_target {
	const char *host;
	int port;                /* 22 when 0 */
	const char *user;
	const char *identity;    /* private key file; NULL: ~/.ssh/id_ed25519, id_ecdsa */
	const char *known_hosts; /* NULL: ~/.ssh/known_hosts */
	bool no_agent;           /* skip ssh-agent even when SSH_AUTH_SOCK is set */
};

/* Limits on what one command may report. */
#define SSH_LINE_MAX 1024   /* bytes kept per line; the rest is cut */
#define SSH_LINES_MAX 2000  /* lines reported per command; later ones are counted */

/* Starts the command; every callback comes later from the loop, never from
 * inside this call. cbs->started when the command runs on the host,
 * cbs->output("stdout"|"stderr"|"info", line) per line, then cbs->done once
 * (res->ok when the exit status is 0; exit_code -1 when there is none). The
 * job frees itself after done: do not touch it afterwards. */
struct ssh_job *ssh_exec(struct event_base *base, const struct ssh_target *t, const char *command,
			 int64_t timeout_ms, const struct backend_job_cbs *cbs);
/* Interactive session (`warroom join`): the same connect, host key check and
 * authentication, then a PTY of the local terminal's type and size, and the
 * command in it. Output comes raw through data; cbs->output is not used.
 * connect_timeout_ms covers everything up to the command starting, not the
 * session itself. cbs->started, then cbs->done once as for ssh_exec. */
struct ssh_pty {
	const char *term;        /* TERM for the remote side; "vt100" when NULL */
	int cols, rows;
	void (*data)(void *arg, const char *buf, size_t n); /* arg: cbs->arg */
};
struct ssh_job *ssh_exec_pty(struct event_base *base, const struct ssh_target *t,
			     const char *command, const struct ssh_pty *pty,
			     int64_t connect_timeout_ms, const struct backend_job_cbs *cbs);
/* Keystrokes for the remote PTY, sent as the connection allows (queued
 * before the command starts). Not after done. */
void ssh_pty_write(struct ssh_job *job, const char *buf, size_t n);
/* The local terminal's new size, passed on as a PTY size change. */
void ssh_pty_resize(struct ssh_job *job, int cols, int rows);
/* No more local input: EOF on the channel once the queue is sent. */
void ssh_pty_eof(struct ssh_job *job);
/* Stops a job that has not called done yet: no callback follows. A command
 * already started may keep running on the host (libssh2 1.10 cannot signal
 * it); the connection is closed. */
void ssh_cancel(struct ssh_job *job);

/* known_hosts checking, separate so it can be tested without a network. */
enum ssh_kh_result { SSH_KH_MATCH, SSH_KH_MISMATCH, SSH_KH_NOTFOUND, SSH_KH_REVOKED };
/* key/keylen: the raw host key blob; keytype: LIBSSH2_HOSTKEY_TYPE_*; fp: its
 * fingerprint ("SHA256:..."), used in the message written to err on anything
 * but a match. Unparseable lines in the file are skipped, not fatal. */
enum ssh_kh_result ssh_knownhost_check(LIBSSH2_SESSION *s, const char *path, const char *host,
				       int port, const char *key, size_t keylen, int keytype,
				       const char *fp, char *err, size_t errlen);
/* "SHA256:" + unpadded base64 of a 32-byte hash, as OpenSSH prints it. */
void ssh_fingerprint_format(const unsigned char *sha256, char *out, size_t len);
/* "ssh-ed25519", "ecdsa-sha2-nistp256", ... for LIBSSH2_HOSTKEY_TYPE_*. */
const char *ssh_hostkey_type_name(int keytype);
/* Base64 (with or without '=' padding), caller frees; decode returns NULL on
 * bad input. */
char *ssh_base64_encode(const unsigned char *p, size_t n, bool pad);
unsigned char *ssh_base64_decode(const char *s, size_t len, size_t *out_len);

#endif
