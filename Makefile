# SPDX-License-Identifier: MIT
#
# Hamlet's build. Everything lands in $(BUILD) (build/ by default):
#   make               libraries, programs and test programs
#   make check         installs missing packages, then runs every test
#   make asan          the whole suite under AddressSanitizer and UBSan
#   make fuzz          libFuzzer targets for FUZZ_SECONDS each (default 60)
#   make analyze       cppcheck and clang-tidy
#   make format-check  clang-format, without changing files (make format fixes)
#   make deps          install the Debian packages the build and tests need
#   make bench         Hamlet against a PouchDB baseline (bench/results/latest.md)
#   make clean

BUILD    ?= build
CC       ?= cc
PKGS     := sqlite3 libcjson zlib libsodium libmicrohttpd gnutls inih libcurl libqrencode
TESTPKGS := cmocka

WARN     := -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wstrict-prototypes \
            -Wmissing-prototypes -Wvla -Werror
OPT      ?= -O2 -g
SAN      ?=
CPPFLAGS += -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Isync-protocol -Iledger -Iweb -Ihub -Iagent -I$(BUILD)/gen
CFLAGS   += $(WARN) $(OPT) $(SAN) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
LDFLAGS  += $(SAN)
TESTLIBS := $(shell pkg-config --libs $(TESTPKGS) 2>/dev/null)

# make V=1 shows every command.
ifeq ($(V),1)
Q :=
else
Q := @
endif

# Test sizes; CI and developers may turn them up or down.
SIM_OPS     ?= 20000
SIM_SEED    ?=
CRASH_KILLS ?= 200
FUZZ_SECONDS ?= 60

SYNC_SRC   := $(sort $(wildcard sync-protocol/*.c))
LEDGER_SRC := $(sort $(wildcard ledger/*.c))
HUB_SRC    := $(sort $(filter-out hub/main.c,$(wildcard hub/*.c)))
HUB_OBJ    := $(HUB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/hub_migrations.o $(BUILD)/gen/web_assets.o
WEB_ASSETS := $(sort $(wildcard web/*.html web/*.css web/*.js))
LIBHUB     := $(BUILD)/libhamlet-hub.a
HUB_BIN    := $(if $(wildcard hub/main.c),$(BUILD)/hamlet-hub)
AGENT_SRC  := $(sort $(filter-out agent/main.c,$(wildcard agent/*.c)))
AGENT_OBJ  := $(AGENT_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/ui_assets.o
UI_ASSETS  := $(sort web/common.js $(wildcard web/village/*.html web/village/*.css web/village/*.js))
LIBAGENT   := $(BUILD)/libhamlet-agent.a
AGENT_BIN  := $(if $(wildcard agent/main.c),$(BUILD)/hamlet)
SYNC_OBJ   := $(SYNC_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/engine_migrations.o
LEDGER_OBJ := $(LEDGER_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/ledger_migrations.o
LIBSYNC    := $(BUILD)/libhamlet-sync.a
LIBLEDGER  := $(BUILD)/libhamlet-ledger.a
# web/: what the HTTP layers of the hub's review pages and the agent's
# village pages share (the pages' own files are embedded, not compiled).
WEB_SRC    := $(sort $(wildcard web/*.c))
WEB_OBJ    := $(WEB_SRC:%.c=$(BUILD)/%.o)
LIBWEB     := $(BUILD)/libhamlet-web.a

UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# tests/tools/: code linked into the integration tests, and programs of
# their own (one file each, listed in TOOL_PROGS).
TOOL_PROGS := slowlink
TOOLS_SRC  := $(filter-out $(TOOL_PROGS:%=tests/tools/%.c),$(sort $(wildcard tests/tools/*.c)))
TOOL_BIN   := $(foreach p,$(TOOL_PROGS),$(if $(wildcard tests/tools/$(p).c),$(BUILD)/tests/$(p)))
INTEG_SRC  := $(sort $(wildcard tests/integration/test_*.c))
INTEG_BIN  := $(INTEG_SRC:tests/integration/%.c=$(BUILD)/tests/integration/%)
TEST_BIN   := $(UNIT_BIN) $(BUILD)/tests/sim $(BUILD)/tests/crash $(INTEG_BIN) $(TOOL_BIN)
BENCH_SRC  := $(sort $(wildcard bench/*.c))
BENCH_BIN  := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: all check test-run browser-check asan fuzz analyze format format-check deps ensure-deps clean demo bench

all: $(LIBSYNC) $(LIBLEDGER) $(LIBWEB) $(LIBHUB) $(HUB_BIN) $(LIBAGENT) $(AGENT_BIN) $(TEST_BIN) $(BENCH_BIN)

# ---- generated sources: SQL migrations embedded as C arrays ----
$(BUILD)/tools/embed: tools/embed.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) -std=c11 -Wall -Wextra -Werror -O1 -o $@ $<

$(BUILD)/gen/engine_migrations.c: $(BUILD)/tools/embed $(sort $(wildcard sync-protocol/migrations/*.sql))
	@mkdir -p $(@D)
	@echo "  EMBED   $@"
	$(Q)$(BUILD)/tools/embed engine_migrations $@ $(filter %.sql,$^)

$(BUILD)/gen/ledger_migrations.c: $(BUILD)/tools/embed $(sort $(wildcard ledger/migrations/*.sql))
	@mkdir -p $(@D)
	@echo "  EMBED   $@"
	$(Q)$(BUILD)/tools/embed ledger_migrations $@ $(filter %.sql,$^)

$(BUILD)/gen/hub_migrations.c: $(BUILD)/tools/embed $(sort $(wildcard hub/migrations/*.sql))
	@mkdir -p $(@D)
	@echo "  EMBED   $@"
	$(Q)$(BUILD)/tools/embed hub_migrations $@ $(filter %.sql,$^)

# The review pages' files, embedded in the hub as a table (hub/web.h).
$(BUILD)/gen/web_assets.c: web/embed.sh $(WEB_ASSETS)
	@mkdir -p $(@D)
	@echo "  EMBED   $@"
	$(Q)web/embed.sh $@ $(WEB_ASSETS)

# The village UI's files, embedded in the agent as a table (agent/ui.h).
$(BUILD)/gen/ui_assets.c: web/embed.sh $(UI_ASSETS)
	@mkdir -p $(@D)
	@echo "  EMBED   $@"
	$(Q)web/embed.sh $@ ui_assets $(UI_ASSETS)

# ---- libraries ----
$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIBSYNC): $(SYNC_OBJ)
	@echo "  AR      $@"
	$(Q)$(AR) rcs $@ $^

$(LIBLEDGER): $(LEDGER_OBJ)
	@echo "  AR      $@"
	$(Q)$(AR) rcs $@ $^

$(LIBWEB): $(WEB_OBJ)
	@echo "  AR      $@"
	$(Q)$(AR) rcs $@ $^

$(LIBHUB): $(HUB_OBJ)
	@echo "  AR      $@"
	$(Q)$(AR) rcs $@ $^

$(LIBAGENT): $(AGENT_OBJ)
	@echo "  AR      $@"
	$(Q)$(AR) rcs $@ $^

# ---- programs ----
$(BUILD)/hamlet: agent/main.c $(LIBAGENT) $(LIBWEB) $(LIBLEDGER) $(LIBSYNC)
	@echo "  LD      $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIBAGENT) $(LIBWEB) $(LIBLEDGER) $(LIBSYNC) $(LDFLAGS) $(LDLIBS)

$(BUILD)/hamlet-hub: hub/main.c $(LIBHUB) $(LIBWEB) $(LIBLEDGER) $(LIBSYNC)
	@echo "  LD      $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIBHUB) $(LIBWEB) $(LIBLEDGER) $(LIBSYNC) $(LDFLAGS) $(LDLIBS)

# ---- tests ----
$(BUILD)/tests/test_%: tests/unit/test_%.c $(LIBHUB) $(LIBAGENT) $(LIBWEB) $(LIBLEDGER) $(LIBSYNC)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -Itests -o $@ $< $(LIBHUB) $(LIBAGENT) $(LIBWEB) $(LIBLEDGER) $(LIBSYNC) $(LDFLAGS) $(TESTLIBS) $(LDLIBS)

# Integration tests run the real programs; tests/tools/ holds their client code.
$(BUILD)/tests/integration/test_%: tests/integration/test_%.c $(TOOLS_SRC) $(wildcard tests/tools/*.h) $(LIBHUB) $(LIBAGENT) $(LIBWEB) $(LIBLEDGER) $(LIBSYNC) $(HUB_BIN) $(AGENT_BIN)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -Itests -Itests/tools -o $@ $< $(TOOLS_SRC) $(LIBHUB) $(LIBAGENT) $(LIBWEB) $(LIBLEDGER) $(LIBSYNC) $(LDFLAGS) $(TESTLIBS) $(LDLIBS)

$(BUILD)/tests/slowlink: tests/tools/slowlink.c
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LDFLAGS)

$(BUILD)/tests/sim: tests/sim/sim.c $(LIBLEDGER) $(LIBSYNC)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIBLEDGER) $(LIBSYNC) $(LDFLAGS) $(LDLIBS)

$(BUILD)/tests/crash: tests/crash/crash.c $(LIBLEDGER) $(LIBSYNC)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIBLEDGER) $(LIBSYNC) $(LDFLAGS) $(LDLIBS)

# ---- benchmarks: figures beside a baseline, never pass or fail ----
$(BUILD)/bench/%: bench/%.c $(TOOLS_SRC) $(wildcard tests/tools/*.h) $(LIBHUB) $(LIBAGENT) $(LIBWEB) $(LIBLEDGER) $(LIBSYNC)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -Itests/tools -o $@ $< $(TOOLS_SRC) $(LIBHUB) $(LIBAGENT) $(LIBWEB) $(LIBLEDGER) $(LIBSYNC) $(LDFLAGS) $(LDLIBS)

bench: ensure-deps
	@$(MAKE) --no-print-directory $(HUB_BIN) $(AGENT_BIN) $(BUILD)/tests/slowlink $(BENCH_BIN)
	@bench/setup
	@BUILD=$(BUILD) node bench/run.mjs

# check installs what is missing first, then builds and runs in a fresh make
# so that pkg-config sees the newly installed packages.
check: ensure-deps
	@$(MAKE) --no-print-directory test-run
	@$(MAKE) --no-print-directory browser-check

ensure-deps:
	@packaging/install-deps --check >/dev/null 2>&1 || packaging/install-deps

deps:
	packaging/install-deps

test-run: all
	@BUILD=$(BUILD) SIM_OPS=$(SIM_OPS) SIM_SEED=$(SIM_SEED) CRASH_KILLS=$(CRASH_KILLS) \
	    HAMLET_HUB=$(BUILD)/hamlet-hub HAMLET_AGENT=$(BUILD)/hamlet tests/run-all $(UNIT_BIN) $(INTEG_BIN)

# The review pages in Debian's chromium, driven by playwright-core (installed
# by tests/browser/setup), against a real hub: every tests/browser/*.test.mjs,
# or those named in BROWSER_TESTS. Screenshots land in $(BUILD)/browser-shots/.
# Not part of asan: the C suite covers the hub under the sanitizers.
BROWSER_TESTS ?= $(sort $(wildcard tests/browser/*.test.mjs))
browser-check: all
	@tests/browser/setup
	@rm -rf $(BUILD)/browser-shots
	@BUILD=$(BUILD) BROWSER_SHOTS=$(BUILD)/browser-shots \
	    node --test --test-reporter=spec $(BROWSER_TESTS)

asan: ensure-deps
	@$(MAKE) --no-print-directory BUILD=build/asan OPT="-O1 -g -fno-omit-frame-pointer" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" test-run

# ---- fuzzing (clang's libFuzzer) ----
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c
	@$(MAKE) --no-print-directory BUILD=build/fuzz-lib CC=clang OPT="-O1 -g" \
	    SAN="-fsanitize=fuzzer-no-link,address,undefined" build/fuzz-lib/libhamlet-ledger.a \
	    build/fuzz-lib/libhamlet-sync.a
	@mkdir -p $(@D)
	clang $(CPPFLAGS) -Ibuild/fuzz-lib/gen $(WARN) -O1 -g -fsanitize=fuzzer,address,undefined \
	    $(shell pkg-config --cflags $(PKGS)) -o $@ $< build/fuzz-lib/libhamlet-ledger.a \
	    build/fuzz-lib/libhamlet-sync.a $(LDLIBS)

fuzz: ensure-deps
	@$(MAKE) --no-print-directory $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do \
	    name=$${f##*/fuzz_}; mkdir -p build/fuzz/corpus-$$name; \
	    echo "fuzz: $$f for $(FUZZ_SECONDS) s"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=1024 -print_final_stats=1 \
	        -artifact_prefix=build/fuzz/ build/fuzz/corpus-$$name tests/fuzz/corpus/$$name \
	        || exit 1; \
	done

# ---- static checks ----
ALL_C := $(SYNC_SRC) $(LEDGER_SRC) $(WEB_SRC) $(HUB_SRC) $(wildcard hub/main.c) $(AGENT_SRC) $(wildcard agent/main.c) $(UNIT_SRC) $(wildcard tests/tools/*.c) $(INTEG_SRC) tests/sim/sim.c tests/crash/crash.c $(FUZZ_SRC) $(BENCH_SRC) tools/embed.c
ALL_H := $(wildcard sync-protocol/*.h ledger/*.h web/*.h hub/*.h agent/*.h tests/*.h tests/tools/*.h)

analyze: all
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
	    --inline-suppr --suppress=missingIncludeSystem -Isync-protocol -Iledger -Iweb \
	    $(SYNC_SRC) $(LEDGER_SRC) $(WEB_SRC) $(HUB_SRC) $(AGENT_SRC)
	@# One file at a time: clang-tidy 14 carries analyzer state across files.
	@for f in $(SYNC_SRC) $(LEDGER_SRC) $(WEB_SRC) $(HUB_SRC) $(AGENT_SRC); do \
	    clang-tidy --quiet $$f -- $(CPPFLAGS) $(shell pkg-config --cflags $(PKGS)) || exit 1; \
	done

format:
	clang-format -i $(ALL_C) $(ALL_H)

format-check:
	clang-format --dry-run --Werror $(ALL_C) $(ALL_H)

# Hamlet's main job, end to end: a hub and three laptops (tools/demo.sh).
# KEEP_HUB=1 leaves the hub running.
demo: ensure-deps
	@$(MAKE) --no-print-directory $(HUB_BIN) $(AGENT_BIN)
	@BUILD=$(BUILD) tools/demo.sh

# ---- installing: make install [PREFIX=/usr/local] [DESTDIR=...] ----
# The programs read their configuration from /etc/hamlet whatever PREFIX is,
# so sysconfdir is /etc unless given. An existing configuration file is never
# overwritten (the new one is written beside it as FILE.new). systemd finds
# units under /usr/local/lib/systemd too; NetworkManager reads dispatcher
# hooks only from /etc and /usr/lib, hence nmdispatchdir.
PREFIX             ?= /usr/local
bindir             ?= $(PREFIX)/bin
mandir             ?= $(PREFIX)/share/man
sysconfdir         ?= /etc
systemdunitdir     ?= $(PREFIX)/lib/systemd/system
systemduserunitdir ?= $(PREFIX)/lib/systemd/user
nmdispatchdir      ?= $(sysconfdir)/NetworkManager/dispatcher.d
applicationsdir    ?= $(PREFIX)/share/applications
INSTALL            ?= install
MANPAGES           := packaging/man/hamlet.1 packaging/man/hamlet-hub.8 packaging/man/hub.conf.5 \
                      packaging/man/hamlet.conf.5
CONFFILES          := packaging/hub.conf packaging/hamlet.conf
UNITS              := packaging/systemd/hamlet-hub.service
USER_UNITS         := packaging/systemd/hamlet-daemon.service packaging/systemd/hamlet-ui.service

.PHONY: install uninstall deb
install: $(BUILD)/hamlet $(BUILD)/hamlet-hub
	$(INSTALL) -d $(DESTDIR)$(bindir) $(DESTDIR)$(mandir)/man1 $(DESTDIR)$(mandir)/man5 \
	    $(DESTDIR)$(mandir)/man8 $(DESTDIR)$(sysconfdir)/hamlet $(DESTDIR)$(systemdunitdir) \
	    $(DESTDIR)$(systemduserunitdir) $(DESTDIR)$(nmdispatchdir)
	$(INSTALL) -m 0755 $(BUILD)/hamlet $(BUILD)/hamlet-hub $(DESTDIR)$(bindir)/
	$(INSTALL) -m 0644 packaging/man/*.1 $(DESTDIR)$(mandir)/man1/
	$(INSTALL) -m 0644 packaging/man/*.5 $(DESTDIR)$(mandir)/man5/
	$(INSTALL) -m 0644 packaging/man/*.8 $(DESTDIR)$(mandir)/man8/
	@for f in $(CONFFILES); do \
	    t=$(DESTDIR)$(sysconfdir)/hamlet/$${f##*/}; \
	    if [ -e "$$t" ]; then \
	        echo "install: $$t exists; the new one is $$t.new"; t=$$t.new; \
	    fi; \
	    $(INSTALL) -m 0644 $$f $$t || exit 1; \
	done
	sed 's|/usr/bin/|$(bindir)/|g' packaging/systemd/hamlet-hub.service \
	    > $(DESTDIR)$(systemdunitdir)/hamlet-hub.service
	@for f in $(USER_UNITS); do \
	    sed 's|/usr/bin/|$(bindir)/|g' $$f > $(DESTDIR)$(systemduserunitdir)/$${f##*/} || exit 1; \
	done
	chmod 0644 $(DESTDIR)$(systemdunitdir)/hamlet-hub.service \
	    $(addprefix $(DESTDIR)$(systemduserunitdir)/,$(notdir $(USER_UNITS)))
	$(INSTALL) -m 0755 packaging/networkmanager/90-hamlet $(DESTDIR)$(nmdispatchdir)/90-hamlet
	$(INSTALL) -d $(DESTDIR)$(applicationsdir)
	$(INSTALL) -m 0644 packaging/hamlet.desktop $(DESTDIR)$(applicationsdir)/hamlet.desktop

# Removes what install put there, except the configuration files (they may
# hold the operator's changes) and the hub's data (never touched).
uninstall:
	rm -f $(DESTDIR)$(bindir)/hamlet $(DESTDIR)$(bindir)/hamlet-hub
	rm -f $(addprefix $(DESTDIR)$(mandir)/man1/,$(notdir $(filter %.1,$(MANPAGES)))) \
	    $(addprefix $(DESTDIR)$(mandir)/man5/,$(notdir $(filter %.5,$(MANPAGES)))) \
	    $(addprefix $(DESTDIR)$(mandir)/man8/,$(notdir $(filter %.8,$(MANPAGES))))
	rm -f $(DESTDIR)$(systemdunitdir)/hamlet-hub.service \
	    $(addprefix $(DESTDIR)$(systemduserunitdir)/,$(notdir $(USER_UNITS)))
	rm -f $(DESTDIR)$(nmdispatchdir)/90-hamlet
	rm -f $(DESTDIR)$(applicationsdir)/hamlet.desktop
	@echo "uninstall: kept $(DESTDIR)$(sysconfdir)/hamlet/ (configuration); remove it by hand"

# The Debian packages hamlet and hamlet-hub (packaging/build-deb), into
# $(BUILD)/deb/.
deb:
	BUILD=$(BUILD) packaging/build-deb

clean:
	rm -rf build

-include $(shell find $(BUILD) -type f -name '*.d' 2>/dev/null)
