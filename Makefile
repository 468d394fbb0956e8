# warroom — build, test, demo.
#
#   make deps    install the Debian packages needed to build and test (as root)
#   make         build ./warroom
#   make test    unit, screen and integration tests (starts its own servers)
#   make demo    build and run the built-in incident
#   make asan    build with ASan+UBSan into build-asan/ and run the tests there
#   make valgrind  the unit tests under valgrind
#   make fuzz    libFuzzer on every target, FUZZ_SECONDS each (default 30)
#   make bench   run every benchmark and write bench/REPORT.md
#   make install PREFIX=/usr/local DESTDIR=

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
VERSION := 0.1.0

PKGS := ncursesw libcurl libcjson libssh2 inih libevent
BUILD_DEBS := build-essential pkg-config libncurses-dev libcurl4-openssl-dev \
	libcjson-dev libssh2-1-dev libinih-dev libevent-dev libcmocka-dev
TEST_DEBS := prometheus prometheus-alertmanager openssh-server openssh-client \
	tmux python3 procps chromium valgrind $(FUZZ_DEBS)

CC      ?= cc
CFLAGS  ?= -O2 -g
WFLAGS  := -std=c11 -Wall -Wextra -Werror -Wno-unused-parameter
CPPFLAGS += -D_GNU_SOURCE -DWARROOM_VERSION='"$(VERSION)"' -I.
SAN_FLAGS :=
ifeq ($(SAN),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

ALL_CFLAGS = $(WFLAGS) $(CFLAGS) $(SAN_FLAGS) $(CPPFLAGS) $(PKG_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(SAN_FLAGS)

CORE_SRC := $(wildcard core/*.c)
BACK_SRC := $(wildcard backends/*.c)
UI_SRC   := $(wildcard panes/*.c) $(wildcard tui/*.c) $(wildcard themes/*.c)
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o)
BACK_OBJ := $(BACK_SRC:%.c=$(BUILD)/%.o)
UI_OBJ   := $(UI_SRC:%.c=$(BUILD)/%.o)

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
# Programs the Python benchmarks start (not benchmarks themselves).
BENCH_TOOLS := $(patsubst bench/tools/%.c,$(BUILD)/bench-tools/%,$(wildcard bench/tools/*.c))
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
# Each fuzz target also builds as a plain test that replays its corpus and
# every saved crash (tests/fuzz/regressions/NAME/), so `make test` runs them.
FUZZ_REPLAY := $(FUZZ_NAMES:%=$(BUILD)/tests/test_fuzz_%)
FUZZ_SECONDS ?= 30
FUZZ_DEBS := clang libclang-rt-14-dev

BIN := $(BUILD)/warroom

.PHONY: all deps test run-tests unit demo asan valgrind bench install uninstall clean check-deps fuzz

all: check-deps $(BIN) warroom

# ./warroom is a copy of the build output so the README's commands work from the top.
warroom: $(BIN)
	@if [ "$(BUILD)" = "build" ]; then cp -f $(BIN) warroom; fi

check-deps:
	@pkg-config --exists $(PKGS) || { \
	  echo "warroom: missing build libraries ($(PKGS))."; \
	  echo "         run 'make deps' as root (apt-get), then 'make' again."; exit 2; }

deps:
	@missing=""; for p in $(BUILD_DEBS) $(TEST_DEBS); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then echo "deps: all Debian packages present"; exit 0; fi; \
	echo "deps: installing$$missing"; \
	if [ "$$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi; \
	$$SUDO apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing

$(BUILD)/libcore.a: $(CORE_OBJ)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(BUILD)/libbackends.a: $(BACK_OBJ)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(BIN): $(UI_OBJ) $(BUILD)/libbackends.a $(BUILD)/libcore.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(UI_OBJ) -Wl,--start-group $(BUILD)/libbackends.a $(BUILD)/libcore.a -Wl,--end-group $(PKG_LIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libbackends.a $(BUILD)/libcore.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(shell pkg-config --cflags cmocka) $(ALL_LDFLAGS) -o $@ $< \
	  -Wl,--start-group $(BUILD)/libbackends.a $(BUILD)/libcore.a -Wl,--end-group $(PKG_LIBS) $(CMOCKA_LIBS)

$(BUILD)/tests/test_fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/driver.c $(BUILD)/libbackends.a $(BUILD)/libcore.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ tests/fuzz/fuzz_$*.c tests/fuzz/driver.c \
	  -Wl,--start-group $(BUILD)/libbackends.a $(BUILD)/libcore.a -Wl,--end-group $(PKG_LIBS)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libbackends.a $(BUILD)/libcore.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< \
	  -Wl,--start-group $(BUILD)/libbackends.a $(BUILD)/libcore.a -Wl,--end-group $(PKG_LIBS)

$(BUILD)/bench-tools/%: bench/tools/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $<

unit: check-deps $(UNIT_BIN) $(FUZZ_REPLAY)

# test and demo install missing Debian packages first (a no-op when all are there).
test: deps
	$(MAKE) all $(UNIT_BIN) $(FUZZ_REPLAY) $(BENCH_BIN) $(BENCH_TOOLS)
	$(MAKE) run-tests

run-tests:
	WARROOM_BIN=$(abspath $(BIN)) WARROOM_BUILD=$(abspath $(BUILD)) \
	  python3 tests/run.py

demo: deps
	$(MAKE) all
	$(BIN) demo

# The unit tests under valgrind: any memory error or definite leak fails.
valgrind: unit
	@set -e; for t in $(UNIT_BIN); do \
	  valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
	    $$t >$$t.valgrind 2>&1 || { cat $$t.valgrind; echo "valgrind: $$t failed"; exit 1; }; \
	  echo "valgrind: $$t clean"; done

asan:
	$(MAKE) BUILD=build-asan SAN=1 CFLAGS="-O1 -g" test

# libFuzzer (clang): every target runs for FUZZ_SECONDS (FUZZ_JOBS at a time),
# starting from its corpus; a crash is saved under build-fuzz/crashes/NAME/ and
# fails the run. Copy it to tests/fuzz/regressions/NAME/ so `make test`
# replays it forever.
FUZZ_JOBS ?= 2
fuzz:
	$(MAKE) BUILD=build-fuzz CC=clang SAN_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer" \
	  CFLAGS="-O1 -g" build-fuzz/libcore.a build-fuzz/libbackends.a
	@set -e; for n in $(FUZZ_NAMES); do \
	  clang $(WFLAGS) -O1 -g $(CPPFLAGS) $(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined \
	    -o build-fuzz/fuzz_$$n tests/fuzz/fuzz_$$n.c \
	    -Wl,--start-group build-fuzz/libbackends.a build-fuzz/libcore.a -Wl,--end-group $(PKG_LIBS); \
	done
	@printf '%s\n' $(FUZZ_NAMES) | xargs -P $(FUZZ_JOBS) -I{} sh tests/fuzz/run.sh {} $(FUZZ_SECONDS)

bench: all $(BENCH_BIN) $(BENCH_TOOLS)
	WARROOM_BIN=$(abspath $(BIN)) WARROOM_BUILD=$(abspath $(BUILD)) \
	  python3 bench/run.py

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/warroom/themes \
	  $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/doc/warroom/examples
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/warroom
	install -m 0644 themes/*.theme $(DESTDIR)$(PREFIX)/share/warroom/themes/
	install -m 0644 examples/*.ini $(DESTDIR)$(PREFIX)/share/doc/warroom/examples/
	if [ -f docs/warroom.1 ]; then install -m 0644 docs/warroom.1 $(DESTDIR)$(PREFIX)/share/man/man1/; fi

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/warroom $(DESTDIR)$(PREFIX)/share/man/man1/warroom.1
	rm -rf $(DESTDIR)$(PREFIX)/share/warroom $(DESTDIR)$(PREFIX)/share/doc/warroom

clean:
	rm -rf build build-asan build-fuzz warroom

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
