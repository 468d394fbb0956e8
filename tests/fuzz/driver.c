/* Runs a fuzz target over its saved inputs without libFuzzer, so `make test`
 * replays the seed corpus and every crash ever found (regressions/) with the
 * ordinary compiler. Usage: test_fuzz_NAME [FILE|DIR ...]; with no argument
 * it reads tests/fuzz/corpus/NAME and tests/fuzz/regressions/NAME. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern const char *const fuzz_target_name;

static int ran;

static void run_file(const char *path)
{
	size_t len = 0;
	char *buf = file_read_all(path, 64u << 20, &len);
	if (!buf) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(1);
	}
	/* a private copy of exactly len bytes, so overreads show under ASan */
	uint8_t *copy = xmalloc(len ? len : 1);
	memcpy(copy, buf, len);
	LLVMFuzzerTestOneInput(copy, len);
	free(copy);
	free(buf);
	ran++;
}

static void run_path(const char *path)
{
	struct stat sb;
	if (stat(path, &sb) < 0)
		return;
	if (!S_ISDIR(sb.st_mode)) {
		run_file(path);
		return;
	}
	DIR *d = opendir(path);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char *p = xasprintf("%s/%s", path, de->d_name);
		run_path(p);
		free(p);
	}
	if (d)
		closedir(d);
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			run_path(argv[i]);
	} else {
		char *a = xasprintf("tests/fuzz/corpus/%s", fuzz_target_name);
		char *b = xasprintf("tests/fuzz/regressions/%s", fuzz_target_name);
		run_path(a);
		run_path(b);
		free(a);
		free(b);
	}
	/* the same summary lines as cmocka, so the test runner counts them */
	printf("[==========] fuzz %s: %d input(s) replayed.\n", fuzz_target_name, ran);
	if (ran == 0) {
		printf("[  FAILED  ] 1 test(s): no inputs found\n");
		return 1;
	}
	printf("[  PASSED  ] %d test(s).\n", ran);
	return 0;
}
