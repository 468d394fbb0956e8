/* known_hosts checking without a network: keys made by ssh-keygen, files
 * written here, the offered key compared as the SSH client would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libssh2.h>

#include "backends/ssh.h"
#include "core/util.h"

struct fx {
	char dir[64];
	char kh[128];
	LIBSSH2_SESSION *s;
	char *pub1, *pub2;          /* "ssh-ed25519 AAAA..." */
	unsigned char *blob1, *blob2;
	size_t len1, len2;
};

static char *make_key(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	char *cmd = xasprintf("ssh-keygen -q -t ed25519 -N '' -C t -f %s </dev/null", path);
	int rc = system(cmd);
	free(cmd);
	if (rc != 0)
		return NULL;
	char *pubpath = xasprintf("%s.pub", path);
	char *pub = file_read_all(pubpath, 4096, NULL);
	free(pubpath);
	free(path);
	if (pub) {
		char *sp = strchr(pub, ' ');
		sp = sp ? strchr(sp + 1, ' ') : NULL;
		if (sp)
			*sp = '\0'; /* drop the comment */
	}
	return pub;
}

static unsigned char *blob_of(const char *pub, size_t *len)
{
	const char *b = strchr(pub, ' ') + 1;
	return ssh_base64_decode(b, strlen(b), len);
}

static int setup(void **state)
{
	if (system("command -v ssh-keygen >/dev/null 2>&1") != 0)
		return -1;
	struct fx *f = xcalloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/wr-kh-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->kh, sizeof f->kh, "%s/known_hosts", f->dir);
	libssh2_init(0);
	f->s = libssh2_session_init();
	f->pub1 = make_key(f->dir, "k1");
	f->pub2 = make_key(f->dir, "k2");
	if (!f->s || !f->pub1 || !f->pub2)
		return -1;
	f->blob1 = blob_of(f->pub1, &f->len1);
	f->blob2 = blob_of(f->pub2, &f->len2);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char *cmd = xasprintf("rm -rf %s", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", f->dir);
	free(cmd);
	libssh2_session_free(f->s);
	free(f->pub1); free(f->pub2); free(f->blob1); free(f->blob2);
	free(f);
	return 0;
}

static void write_kh(struct fx *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	FILE *fp = fopen(f->kh, "w");
	assert_non_null(fp);
	vfprintf(fp, fmt, ap);
	fclose(fp);
	va_end(ap);
}

static enum ssh_kh_result check(struct fx *f, const char *host, int port, int which, char *err,
				size_t errlen)
{
	return ssh_knownhost_check(f->s, f->kh, host, port,
				   (const char *)(which == 1 ? f->blob1 : f->blob2),
				   which == 1 ? f->len1 : f->len2, LIBSSH2_HOSTKEY_TYPE_ED25519,
				   "SHA256:testfp", err, errlen);
}

static void test_match_port(void **state)
{
	struct fx *f = *state;
	char err[1024];
	write_kh(f, "# comment\n\n[127.0.0.1]:2222 %s\n", f->pub1);
	assert_int_equal(check(f, "127.0.0.1", 2222, 1, err, sizeof err), SSH_KH_MATCH);
	/* the same host on another port is not known */
	assert_int_equal(check(f, "127.0.0.1", 2223, 1, err, sizeof err), SSH_KH_NOTFOUND);
	assert_non_null(strstr(err, "unknown host [127.0.0.1]:2223"));
	assert_non_null(strstr(err, "SHA256:testfp"));
	assert_non_null(strstr(err, "ssh-ed25519"));
}

static void test_match_port22(void **state)
{
	struct fx *f = *state;
	char err[1024];
	write_kh(f, "deploy.example.com,10.0.0.5 %s\n", f->pub1);
	assert_int_equal(check(f, "10.0.0.5", 22, 1, err, sizeof err), SSH_KH_MATCH);
	assert_int_equal(check(f, "deploy.example.com", 22, 1, err, sizeof err), SSH_KH_MATCH);
	assert_int_equal(check(f, "10.0.0.6", 22, 1, err, sizeof err), SSH_KH_NOTFOUND);
	assert_non_null(strstr(err, "unknown host 10.0.0.6:"));
}

static void test_mismatch(void **state)
{
	struct fx *f = *state;
	char err[1024];
	write_kh(f, "[127.0.0.1]:2222 %s\n", f->pub1);
	assert_int_equal(check(f, "127.0.0.1", 2222, 2, err, sizeof err), SSH_KH_MISMATCH);
	assert_non_null(strstr(err, "HOST KEY CHANGED for [127.0.0.1]:2222"));
	assert_non_null(strstr(err, "SHA256:testfp"));
	assert_non_null(strstr(err, "Refusing to run"));
}

static void test_bad_line_does_not_hide_later_ones(void **state)
{
	struct fx *f = *state;
	char err[1024];
	write_kh(f, "this line is not a known_hosts entry at all\n"
		 "@cert-authority *.example.com %s\n"
		 "[127.0.0.1]:2222 %s\n", f->pub2, f->pub1);
	assert_int_equal(check(f, "127.0.0.1", 2222, 1, err, sizeof err), SSH_KH_MATCH);
}

static void test_hashed(void **state)
{
	struct fx *f = *state;
	char err[1024];
	write_kh(f, "[127.0.0.1]:2222 %s\n", f->pub1);
	char *cmd = xasprintf("ssh-keygen -q -H -f %s >/dev/null 2>&1", f->kh);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	char *text = file_read_all(f->kh, 1 << 16, NULL);
	assert_non_null(text);
	assert_non_null(strstr(text, "|1|"));   /* really hashed */
	assert_null(strstr(text, "127.0.0.1"));
	free(text);
	assert_int_equal(check(f, "127.0.0.1", 2222, 1, err, sizeof err), SSH_KH_MATCH);
	assert_int_equal(check(f, "127.0.0.1", 2222, 2, err, sizeof err), SSH_KH_MISMATCH);
}

static void test_revoked(void **state)
{
	struct fx *f = *state;
	char err[1024];
	write_kh(f, "@revoked * %s\n[127.0.0.1]:2222 %s\n", f->pub1, f->pub1);
	assert_int_equal(check(f, "127.0.0.1", 2222, 1, err, sizeof err), SSH_KH_REVOKED);
	assert_non_null(strstr(err, "revoked"));
}

static void test_missing_file(void **state)
{
	struct fx *f = *state;
	char err[1024];
	unlink(f->kh);
	assert_int_equal(check(f, "127.0.0.1", 2222, 1, err, sizeof err), SSH_KH_NOTFOUND);
	assert_non_null(strstr(err, "cannot read known_hosts"));
	assert_non_null(strstr(err, "SHA256:testfp"));
}

static void test_fingerprint_format(void **state)
{
	/* SHA-256 of "abc" */
	static const unsigned char h[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae,
		0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61,
		0xf2, 0x00, 0x15, 0xad};
	char fp[80];
	ssh_fingerprint_format(h, fp, sizeof fp);
	assert_string_equal(fp, "SHA256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0");
}

static void test_base64(void **state)
{
	char *e = ssh_base64_encode((const unsigned char *)"hello!?", 7, true);
	assert_string_equal(e, "aGVsbG8hPw==");
	size_t n;
	unsigned char *d = ssh_base64_decode(e, strlen(e), &n);
	assert_int_equal(n, 7);
	assert_memory_equal(d, "hello!?", 7);
	free(d);
	free(e);
	assert_null(ssh_base64_decode("ab$d", 4, &n));
	assert_string_equal(ssh_hostkey_type_name(LIBSSH2_HOSTKEY_TYPE_ED25519), "ssh-ed25519");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_port),
		cmocka_unit_test(test_match_port22),
		cmocka_unit_test(test_mismatch),
		cmocka_unit_test(test_bad_line_does_not_hide_later_ones),
		cmocka_unit_test(test_hashed),
		cmocka_unit_test(test_revoked),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_fingerprint_format),
		cmocka_unit_test(test_base64),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
