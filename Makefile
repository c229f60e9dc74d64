# slurm-footprint: per-job energy and carbon footprint for Slurm 22.05 to 26.05.
# `make demo` and `make check` are the two entry points (see README.md).

# The Slurm release the plugins are built for: by default the host's own
# Debian Slurm. A plugin is loaded only by daemons of exactly that release
# (micro included), so each release builds from its own source tree into
# its own BUILD folder.
#   make SLURM_VERSION=24.11.5        plugins for 24.11.5 (source from Debian)
#   make check SLURM=24.11            the whole suite in a Debian 13 root
#                                     with 24.11.5 daemons (tools/slurm-root.sh)
BASE_SLURM_VERSION := 22.05.8
HOST_SLURM_VERSION := $(shell dpkg-query -W -f='$${Version}' slurm-wlm 2>/dev/null | sed 's/-.*//')
SLURM ?=
ifeq ($(SLURM),24.11)
SLURM_VERSION ?= 24.11.5
else ifeq ($(SLURM),26.05)
SLURM_VERSION ?= 26.05.5
else ifneq ($(SLURM),)
$(error SLURM=$(SLURM): known are 24.11 and 26.05 (22.05 is the host's: no SLURM=))
endif
SLURM_VERSION ?= $(or $(HOST_SLURM_VERSION),$(BASE_SLURM_VERSION))
SLURM_SERIES := $(basename $(SLURM_VERSION))
ifeq ($(SLURM_VERSION),$(BASE_SLURM_VERSION))
BUILD ?= build
else
BUILD ?= build/$(SLURM_SERIES)
endif
PREFIX ?= /usr/local
DESTDIR ?=
PLUGINDIR ?= /usr/lib/x86_64-linux-gnu/slurm-wlm
# Where jobcomp/carbon looks for footprint-worker when it is not beside the
# plugin (it is, in a build folder): compiled in, so the plugin is rebuilt
# whenever this changes (see $(LIBEXEC_STAMP)).
LIBEXECDIR ?= $(PREFIX)/libexec/slurm-footprint
DOCDIR ?= $(PREFIX)/share/doc/slurm-footprint
# Only `make install-config` writes there.
SYSCONFDIR ?= /etc/slurm
SLURM_SRC ?=
# make demo SITES=3: the multi-site demo (one namespace per node).
SITES ?=
CI ?=

CC ?= cc
# Quiet by default; `make V=1` shows the commands.
ifneq ($(V),1)
Q := @
say = @echo "  $(1) $(2)";
endif
WARN := -Wall -Wextra -Wformat=2 -Wno-format-truncation
# Tests and benches implement callbacks (cmocka's void **state, stand-in
# libraries' entry points) whose parameters they need not read.
TEST_WARN := -Wno-unused-parameter
HARDEN := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIC
OPT ?= -O2 -g
ifeq ($(CI),true)
WERROR := -Werror
endif
ifeq ($(SANITIZE),1)
OPT := -O1 -g -fno-omit-frame-pointer
SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
endif
# Set by `make tsan` for its own build folder only.
# TSAN does not model fences (gcc warns at the board's sequence lock); the
# board's readers are other processes, not threads of the tests.
ifeq ($(TSAN),1)
OPT := -O1 -g -fno-omit-frame-pointer
SAN := -fsanitize=thread -Wno-tsan
endif

PKGS := hwloc jansson libjwt libcrypto libcurl libzstd
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LIBS = $(PKG_LIBS) -lpfm -lm -lpthread
# The plugins take from libfootprint.a only what they call: without
# --as-needed slurmd and slurmctld would load libcurl (the feed updater's)
# and libjwt for nothing.
# --exclude-libs: the library linked into a plugin stays its own (only
# Slurm's entry points are exported; tests/symbols.sh checks it).
PLUGIN_LIBS = -Wl,--as-needed -Wl,--exclude-libs,ALL $(LIBS)
TOOL_LIBS = -lslurm -lacl
# The one version, which `sfootprint --version`, the summaries, the worker
# and the HTML page all say: git's when this is a git tree, else (a git
# archive, a tarball) the project's own from debian/changelog.
FP_VERSION ?= $(or $(shell test -e .git && git describe --tags --always --dirty 2>/dev/null),$(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog 2>/dev/null),0.1.0)
VERSION_DEF = -DFP_VERSION='"$(FP_VERSION)"'

CFLAGS_COMMON = $(OPT) $(WARN) $(WERROR) $(HARDEN) $(SAN) $(PKG_CFLAGS)
LIB_CFLAGS = -std=c11 -D_GNU_SOURCE $(CFLAGS_COMMON) -Iinclude $(VERSION_DEF)
# The plugins are never sanitized: slurmd and slurmctld are not built with
# ASan, and an ASan library dlopen()ed into them aborts the daemon. With
# SANITIZE=1 they link an unsanitized copy of the library.
PLUGIN_COMMON = $(OPT) $(WARN) $(WERROR) $(HARDEN) $(PKG_CFLAGS)
SLURM_INC := $(BUILD)/slurm
PLUGIN_CFLAGS = -std=gnu11 $(PLUGIN_COMMON) -Iinclude -Iplugins -I$(SLURM_INC) \
	-I$(SLURM_INC)/root -Wno-sign-compare -Wno-missing-field-initializers \
	-DFP_SLURM_VERSION='"$(SLURM_VERSION)"'
JOBCOMP_DEFS = -DFP_LIBEXECDIR='"$(LIBEXECDIR)"'

LIB_SRC := $(wildcard lib/*/*.c)
LIB_HDR := $(wildcard include/footprint/*.h lib/*/*.h)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB_A := $(BUILD)/libfootprint.a
LIB_SO := $(BUILD)/libfootprint.so
ifneq ($(SAN),)
PLUGIN_LIB := $(BUILD)/plain/libfootprint.a
else
PLUGIN_LIB := $(LIB_A)
endif

ENERGY_SRC := $(wildcard plugins/acct_gather_energy/*.c)
JOBCOMP_SRC := $(wildcard plugins/jobcomp_carbon/*.c)
ENERGY_SO := $(BUILD)/acct_gather_energy_footprint.so
JOBCOMP_SO := $(BUILD)/jobcomp_carbon.so
PLUGINS := $(ENERGY_SO) $(JOBCOMP_SO)

# Every tools/NAME.c with a main() is one program; tools/NAME_*.c are its parts.
TOOL_MAINS := $(shell grep -l '^int main' tools/*.c 2>/dev/null)
TOOLS := $(patsubst tools/%.c,$(BUILD)/%,$(TOOL_MAINS))

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
BENCH_SRC := $(wildcard tests/bench/bench_*.c)
BENCH_BIN := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
SLURM_LIBDIR := /usr/lib/x86_64-linux-gnu/slurm-wlm
BENCH_JOBCOMP := $(BUILD)/bench/bench_jobcomp

.PHONY: all deps deps-test deps-fuzz check unit integration demo bench fuzz \
	tsan tsan-run install install-config clean distclean check-daemons \
	plugins check-refused prereq prereq-unit deb deps-deb check-deb FORCE
all: $(LIB_A) $(LIB_SO) $(PLUGINS) $(TOOLS)

# Build dependencies only (compiler, -dev packages, the Slurm source for
# the headers): what a production controller needs to build.
deps:
	@SLURM_SRC="$(SLURM_SRC)" tools/install-deps.sh build $(BUILD)/slurm-src $(SLURM_VERSION)

# What make deb needs on top of a build: debhelper and lintian (inside a
# Slurm root they are there already).
deps-deb:
	@SLURM_SRC="$(SLURM_SRC)" tools/install-deps.sh deb $(BUILD)/slurm-src $(SLURM_VERSION)

# The servers of the test cluster (MariaDB, slurmdbd, slurmctld, slurmd,
# munge, node_exporter) and valgrind: for make check and make demo only.
deps-test: deps
	@tools/install-deps.sh test $(BUILD)/slurm-src $(SLURM_VERSION)

# Before the compiler runs: one line naming what to install, not a compiler
# error, on a machine where make deps never ran.
DEPS_HINT = make deps$(if $(filter command environment,$(origin BUILD)), BUILD=$(BUILD))$(if \
	$(filter-out $(or $(HOST_SLURM_VERSION),$(BASE_SLURM_VERSION)),$(SLURM_VERSION)), SLURM_VERSION=$(SLURM_VERSION))
prereq:
	@CC="$(CC)" tools/install-deps.sh check
	@[ -e $(SLURM_INC)/.ready ] || SLURM_SRC="$(SLURM_SRC)" tools/install-deps.sh \
		check-slurm "$(BUILD)/slurm-src" "$(SLURM_VERSION)" "$(DEPS_HINT)"
prereq-unit:
	@CC="$(CC)" tools/install-deps.sh check unit
$(LIB_OBJ) $(LIB_SRC:%.c=$(BUILD)/plain/%.o): | prereq
$(UNIT_BIN): | prereq-unit

# The LIBEXECDIR the plugin was compiled with; rewritten (so the plugin is
# rebuilt) only when it changes: `make install PREFIX=/opt/fp` after a
# plain `make` gives a plugin that looks in /opt/fp.
LIBEXEC_STAMP := $(BUILD)/.libexecdir
$(LIBEXEC_STAMP): FORCE
	@mkdir -p $(@D)
	@[ "$$(cat $@ 2>/dev/null)" = "$(LIBEXECDIR)" ] || echo "$(LIBEXECDIR)" > $@
FORCE:

# The version compiled into the summaries and the tools (git describe, so it
# moves with every commit): what prints it is rebuilt when it changes, so a
# tool and the summaries it writes never name two versions. A user who may
# not write the build folder (make install DESTDIR=, whose git may not read
# root's tree and so finds another version) installs what was built.
VERSION_STAMP := $(BUILD)/.version
$(VERSION_STAMP): FORCE
	@mkdir -p $(@D)
	@[ "$$(cat $@ 2>/dev/null)" = "$(FP_VERSION)" ] || \
		{ echo "$(FP_VERSION)" > $@; } 2> /dev/null || true
VERSIONED := carbon/summary carbon/report_html
$(VERSIONED:%=$(BUILD)/lib/%.o) $(VERSIONED:%=$(BUILD)/plain/lib/%.o) \
	$(TOOLS): $(VERSION_STAMP)

# The daemons this build will be loaded by must be exactly its release:
# Slurm refuses a plugin of another micro release, and struct layouts move
# between micro releases.
check-daemons:
	@got=$$(slurmctld -V 2>/dev/null | sed -n 's/^slurm[^ ]* //p'); \
	if [ "$$got" != "$(SLURM_VERSION)" ]; then \
		echo "make: these plugins are for Slurm $(SLURM_VERSION) but this machine's slurmctld is '$$got'; refusing (make check SLURM=<series> runs another release in its own root)" >&2; \
		exit 1; \
	fi

# Slurm refuses a plugin built for another release with its own message,
# and loads one built for its own (tests/versions/refused.sh): this build's
# plugins, and FOREIGN_VERSION's built beside it, loaded through this
# release's libslurmfull as its daemons load them.
PLUGIN_LOAD := $(BUILD)/tests/plugin_load
FOREIGN_VERSION ?=
FOREIGN_BUILD = $(BUILD)/foreign-$(FOREIGN_VERSION)
$(PLUGIN_LOAD): tests/versions/plugin_load.c $(SLURM_INC)/.ready
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(PLUGIN_CFLAGS) $(TEST_WARN) -o $@ $< -L$(SLURM_LIBDIR) \
		-Wl,-rpath,$(SLURM_LIBDIR) -Wl,--no-as-needed -lslurmfull -ldl

check-refused: $(PLUGINS) $(PLUGIN_LOAD)
	@test -n "$(FOREIGN_VERSION)" || { echo "make: check-refused needs FOREIGN_VERSION=" >&2; exit 2; }
	@tools/slurm-headers.sh fetch $(FOREIGN_BUILD)/slurm-src $(FOREIGN_VERSION)
	@$(MAKE) --no-print-directory plugins SLURM= \
		SLURM_VERSION=$(FOREIGN_VERSION) BUILD=$(FOREIGN_BUILD)
	@echo "# versions: plugins of $(SLURM_VERSION) and $(FOREIGN_VERSION) in Slurm $(SLURM_VERSION)"
	@tests/versions/refused.sh $(PLUGIN_LOAD) $(SLURM_VERSION) "$(PLUGINS)" \
		$(FOREIGN_VERSION) "$(FOREIGN_BUILD)/$(notdir $(ENERGY_SO)) $(FOREIGN_BUILD)/$(notdir $(JOBCOMP_SO))"

# Only the two plugins: a compile check against any source tree
# (make plugins SLURM_VERSION=26.05.3 SLURM_SRC=... BUILD=...).
plugins: $(PLUGINS)

# Slurm's internal headers: the cached Debian source package (or SLURM_SRC),
# and a config.h that makes them preprocess as in a configured tree.
$(SLURM_INC)/.ready: tools/slurm-headers.sh | prereq
	@tools/slurm-headers.sh "$(BUILD)/slurm-src" "$(SLURM_INC)" "$(SLURM_VERSION)" "$(SLURM_SRC)"

$(BUILD)/lib/%.o: lib/%.c $(LIB_HDR)
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(LIB_CFLAGS) -c -o $@ $<

$(LIB_A): $(LIB_OBJ)
	@rm -f $@
	$(call say,AR,$@)ar rcs $@ $^

$(LIB_SO): $(LIB_OBJ)
	$(call say,LD,$@)$(CC) $(SAN) -shared -o $@ $^ $(LIBS)

$(BUILD)/plain/lib/%.o: lib/%.c $(LIB_HDR)
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) -std=c11 -D_GNU_SOURCE $(PLUGIN_COMMON) -Iinclude $(VERSION_DEF) -c -o $@ $<

$(BUILD)/plain/libfootprint.a: $(LIB_SRC:%.c=$(BUILD)/plain/%.o)
	@rm -f $@
	$(call say,AR,$@)ar rcs $@ $^

$(ENERGY_SO): $(ENERGY_SRC) $(PLUGIN_LIB) $(SLURM_INC)/.ready $(LIB_HDR) $(wildcard plugins/acct_gather_energy/*.h) $(wildcard plugins/*.h)
	$(call say,CC,$@)$(CC) $(PLUGIN_CFLAGS) -shared -o $@ $(ENERGY_SRC) $(PLUGIN_LIB) $(PLUGIN_LIBS)

$(JOBCOMP_SO): $(JOBCOMP_SRC) $(PLUGIN_LIB) $(SLURM_INC)/.ready $(LIBEXEC_STAMP) $(LIB_HDR) $(wildcard plugins/jobcomp_carbon/*.h) $(wildcard plugins/*.h)
	$(call say,CC,$@)$(CC) $(PLUGIN_CFLAGS) $(JOBCOMP_DEFS) -shared -o $@ $(JOBCOMP_SRC) $(PLUGIN_LIB) $(PLUGIN_LIBS)

.SECONDEXPANSION:
$(BUILD)/%: tools/%.c $$(wildcard tools/$$*_*.c) $(LIB_A) $(wildcard tools/*.h)
	$(call say,CC,$@)$(CC) $(LIB_CFLAGS) -Itools -o $@ $(filter %.c,$^) $(LIB_A) $(LIBS) $(TOOL_LIBS)

# tools/db.c: the slurmdbd job conditions sfootprint and footprint-worker
# share.
$(BUILD)/sfootprint $(BUILD)/footprint-worker: tools/db.c

$(BUILD)/tests/%: tests/unit/%.c $(LIB_A) $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(LIB_CFLAGS) $(TEST_WARN) -Itests/unit -o $@ $< $(LIB_A) $(LIBS) -lcmocka

# The project's own stand-in for libnvidia-ml.so.1 (tests/nvml/), answering
# lib/node/gpu_nvml.c from a state file: test_gpu loads it by path. Never
# sanitized: slurmd and slurmstepd load it too (FP_GPUS= cluster tests).
FAKE_NVML := $(BUILD)/tests/nvml/libnvidia-ml.so.1
$(FAKE_NVML): tests/nvml/fake_nvml.c
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) -std=c11 -D_GNU_SOURCE $(PLUGIN_COMMON) $(TEST_WARN) -shared -Wl,-soname,libnvidia-ml.so.1 -o $@ $<
$(BUILD)/tests/test_gpu: $(FAKE_NVML)
$(BUILD)/tests/test_gpu: private LIB_CFLAGS += -DFP_FAKE_NVML='"$(abspath $(FAKE_NVML))"'
$(BUILD)/tests/test_poller: $(FAKE_NVML)
$(BUILD)/tests/test_poller: private LIB_CFLAGS += -DFP_FAKE_NVML='"$(abspath $(FAKE_NVML))"'
$(BUILD)/tests/test_simnode: $(FAKE_NVML)
$(BUILD)/tests/test_simnode: private LIB_CFLAGS += -DFP_FAKE_NVML='"$(abspath $(FAKE_NVML))"'
# The same for ROCm's libamd_smi.so (tests/amdsmi/), answering
# lib/node/gpu_amdsmi.c: test_gpu loads it by path, test_poller to show a
# simulated node never does.
FAKE_AMDSMI := $(BUILD)/tests/amdsmi/libamd_smi.so
$(FAKE_AMDSMI): tests/amdsmi/fake_amdsmi.c
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) -std=c11 -D_GNU_SOURCE $(PLUGIN_COMMON) $(TEST_WARN) -shared -Wl,-soname,libamd_smi.so -o $@ $<
$(BUILD)/tests/test_gpu: $(FAKE_AMDSMI)
$(BUILD)/tests/test_gpu: private LIB_CFLAGS += -DFP_FAKE_AMDSMI='"$(abspath $(FAKE_AMDSMI))"'
$(BUILD)/tests/test_poller: $(FAKE_AMDSMI)
$(BUILD)/tests/test_poller: private LIB_CFLAGS += -DFP_FAKE_AMDSMI='"$(abspath $(FAKE_AMDSMI))"'

$(BUILD)/bench/%: tests/bench/%.c tests/bench/bench.h $(LIB_A)
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(LIB_CFLAGS) $(TEST_WARN) -o $@ $< $(LIB_A) $(LIBS)

ifeq ($(SLURM)$(FP_IN_ROOT),26.05)
# 26.05: Debian unstable's daemons, once its archive serves their exact
# source (on 2026-12-01 it did not: the plugins compile against SchedMD's
# 26.05 tree instead, see README). Until then this says why and skips.
check demo:
	@mkdir -p $(BUILD)
	@if ! tools/slurm-headers.sh fetch $(BUILD)/slurm-src $(SLURM_VERSION) 2> $(BUILD)/fetch.err; then \
		echo "check: skipped, not passed: Slurm $(SLURM_VERSION): $$(tail -n1 $(BUILD)/fetch.err | sed 's/^slurm-headers: //')"; \
	else \
		echo "check: skipped, not passed: Slurm $(SLURM_VERSION): its source arrived, but no Debian unstable root is made yet (tools/slurm-root.sh)"; \
	fi
else ifneq ($(SLURM),)
ifeq ($(FP_IN_ROOT),)
# Another release: its source comes from Debian here, then everything is
# built and run inside that release's Debian root (its libslurm, libjwt and
# daemons), in private namespaces. check also makes sure each release
# refuses the other's plugins.
check demo bench-scale:
	@tools/slurm-headers.sh fetch $(BUILD)/slurm-src $(SLURM_VERSION)
	@if [ $@ = check ]; then tools/slurm-headers.sh fetch \
		$(BUILD)/foreign-$(BASE_SLURM_VERSION)/slurm-src $(BASE_SLURM_VERSION); fi
	@tools/slurm-root.sh run $(SLURM_VERSION) make --no-print-directory $@ \
		SLURM_VERSION=$(SLURM_VERSION) BUILD=$(BUILD) CI=$(CI) SITES=$(SITES) \
		$(SCALE_VARS)
	@if [ $@ = check ]; then \
		tools/slurm-root.sh run $(SLURM_VERSION) make --no-print-directory \
			check-refused SLURM_VERSION=$(SLURM_VERSION) BUILD=$(BUILD) \
			CI=$(CI) FOREIGN_VERSION=$(BASE_SLURM_VERSION); fi
	@if [ $@ = check ]; then tools/slurm-headers.sh fetch \
		build/host-$(HOST_SLURM_VERSION)/slurm-src $(HOST_SLURM_VERSION) && \
		$(MAKE) --no-print-directory check-refused SLURM= \
		SLURM_VERSION=$(HOST_SLURM_VERSION) \
		BUILD=build/host-$(HOST_SLURM_VERSION) \
		FOREIGN_VERSION=$(SLURM_VERSION); fi
endif
else
check: deps-test
	@$(MAKE) --no-print-directory check-daemons
	@$(MAKE) --no-print-directory all $(UNIT_BIN)
	@BUILD=$(BUILD) tests/run.sh $(UNIT_BIN)
endif

unit: all $(UNIT_BIN)
	@BUILD=$(BUILD) FP_SKIP_INTEGRATION=1 tests/run.sh $(UNIT_BIN)

integration: all $(FAKE_NVML)
	@BUILD=$(BUILD) tests/run.sh

ifeq ($(SLURM),)
demo: deps-test
	@$(MAKE) --no-print-directory check-daemons
	@$(MAKE) --no-print-directory all $(if $(GPUS),$(FAKE_NVML))
	@BUILD=$(BUILD) SITES=$(SITES) GPUS=$(GPUS) tools/demo.sh
endif

# Loads the plugin as slurmctld would: against libslurmfull.
$(BENCH_JOBCOMP): tests/bench/plugin/bench_jobcomp.c tests/bench/bench.h $(SLURM_INC)/.ready
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(PLUGIN_CFLAGS) $(TEST_WARN) -o $@ $< -L$(SLURM_LIBDIR) \
		-Wl,-rpath,$(SLURM_LIBDIR) -Wl,--no-as-needed -lslurmfull -ldl

bench: all $(BENCH_BIN) $(BENCH_JOBCOMP)
	@for b in $(BENCH_BIN); do $$b || exit 1; done
	@$(BENCH_JOBCOMP) $(JOBCOMP_SO)
	@FP_BUILD=$(BUILD) tests/bench/throughput.sh

# The controller side against a slurmdbd holding a million synthetic jobs
# (tests/bench/scale.sh: as root, ~16 min; FP_SCALE_JOBS=20000 for a quick
# run). Figures beside their goals; never part of check or CI.
.PHONY: bench-scale
# tests/bench/scale.sh's settings, passed on into another release's root
SCALE_VARS = $(foreach v,JOBS TPUT BURST RATE PASSES SLICE MORE_WORKERS,$(if \
	$(FP_SCALE_$(v)),FP_SCALE_$(v)=$(FP_SCALE_$(v))))
ifeq ($(SLURM),)
bench-scale: all
	@$(SCALE_VARS) FP_BUILD=$(BUILD) tests/bench/scale.sh
endif

# ThreadSanitizer, in a build folder of its own: the library with its poller
# tests (one thread: the library's own code runs clean under TSAN), and both
# plugins built with -fsanitize=thread, each loaded against
# libslurmfull by a harness (tests/tsan/) that runs its threads as the
# daemon would: jobcomp/carbon reconfigured while jobs end, the energy
# plugin's poller thread polling while RPC threads read the node's energy.
# Any report fails the run (exit status 66).
TSAN_BUILD = $(BUILD)/tsan
TSAN_OPTS := halt_on_error=1 exitcode=66 second_deadlock_stack=1
TSAN_UNIT := $(BUILD)/tests/test_poller
TSAN_BIN := $(patsubst tests/tsan/%.c,$(BUILD)/tests/%,$(wildcard tests/tsan/tsan_*.c))
TSAN_PLUGINS := $(BUILD)/tsan-plugin/jobcomp_carbon.so \
	$(BUILD)/tsan-plugin/acct_gather_energy_footprint.so

tsan: $(SLURM_INC)/.ready
	@$(MAKE) --no-print-directory TSAN=1 BUILD=$(TSAN_BUILD) \
		SLURM_INC=$(abspath $(SLURM_INC)) tsan-run

$(BUILD)/tsan-plugin/jobcomp_carbon.so: $(JOBCOMP_SRC) $(LIB_A) $(SLURM_INC)/.ready $(LIB_HDR)
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(PLUGIN_CFLAGS) $(JOBCOMP_DEFS) $(SAN) -shared -o $@ $(JOBCOMP_SRC) $(LIB_A) $(PLUGIN_LIBS)

$(BUILD)/tsan-plugin/acct_gather_energy_footprint.so: $(ENERGY_SRC) $(LIB_A) $(SLURM_INC)/.ready $(LIB_HDR)
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(PLUGIN_CFLAGS) $(SAN) -shared -o $@ $(ENERGY_SRC) $(LIB_A) $(PLUGIN_LIBS)

$(BUILD)/tests/tsan_%: tests/tsan/tsan_%.c $(SLURM_INC)/.ready
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(PLUGIN_CFLAGS) $(TEST_WARN) $(SAN) -o $@ $< -L$(SLURM_LIBDIR) \
		-Wl,-rpath,$(SLURM_LIBDIR) -Wl,--no-as-needed -lslurmfull -ldl -lcmocka

tsan-run: $(TSAN_UNIT) $(TSAN_BIN) $(TSAN_PLUGINS) $(BUILD)/fp-simnode
	@TSAN_OPTIONS="$(TSAN_OPTS)" \
		FP_TSAN_JOBCOMP=$(BUILD)/tsan-plugin/jobcomp_carbon.so \
		FP_TSAN_ENERGY=$(BUILD)/tsan-plugin/acct_gather_energy_footprint.so \
		FP_TSAN_SIMNODE=$(BUILD)/fp-simnode \
		BUILD=$(BUILD) FP_SKIP_VALGRIND=1 FP_SKIP_HTML=1 FP_SKIP_FEED=1 FP_SKIP_INTEGRATION=1 FP_SKIP_SYMBOLS=1 FP_SKIP_FORMAT=1 \
		tests/run.sh $(TSAN_UNIT) $(TSAN_BIN)

# libFuzzer targets (tests/fuzz/fuzz_*.c), clang only, never part of check:
# the library rebuilt with coverage, ASan and UBSan; each target runs
# FUZZ_SECONDS on a working copy of its seed corpus tests/fuzz/corpus/NAME.
FUZZ_CC ?= clang-14
FUZZ_SECONDS ?= 60
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer $(WARN) $(TEST_WARN) \
	-Wno-unknown-warning-option \
	$(PKG_CFLAGS) $(FUZZ_SAN) -Iinclude
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
FUZZ_LIB := $(BUILD)/fuzz/libfootprint.a

$(BUILD)/fuzz/lib/%.o: lib/%.c $(LIB_HDR)
	@mkdir -p $(@D)
	$(call say,FUZZCC,$<)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_LIB): $(LIB_SRC:%.c=$(BUILD)/fuzz/%.o)
	@rm -f $@
	$(call say,AR,$@)ar rcs $@ $^

$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(FUZZ_LIB)
	$(call say,FUZZLD,$@)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(LIBS)

# clang and its fuzzer runtime are only needed here, not for check.
deps-fuzz:
	@command -v $(FUZZ_CC) >/dev/null && [ -n "$$(ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a 2>/dev/null)" ] || \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang-14 libclang-rt-14-dev >/dev/null

fuzz: deps-fuzz
	@$(MAKE) --no-print-directory $(FUZZ_BIN)
	@tests/fuzz/run.sh $(BUILD)/fuzz $(FUZZ_SECONDS) $(FUZZ_BIN)

# Programs for users and MailProg in bin; what only Slurm and the tests run
# (footprint-worker, fp-simnode) in LIBEXECDIR; the example configuration
# and the methodology in DOCDIR. Nothing goes to /etc (install-config).
# (a packaging build, DESTDIR set, is not for this machine's daemons)
# The feed updater's systemd units go to DOCDIR too, for the admin to copy:
# the service names the sfootprint installed here (PREFIX/bin), not a fixed
# path that is wrong for the other installs. It is written straight into
# DOCDIR: an install by a user who may write only DESTDIR writes nothing in
# the build folder.
LIBEXEC_TOOLS := $(filter $(BUILD)/footprint-worker $(BUILD)/fp-simnode,$(TOOLS))
DOCS := docs/methodology.md docs/model.md docs/trace-format.md \
	docs/sensor-feed.md docs/summary.schema.json README.md
install: all $(if $(DESTDIR),,check-daemons)
	install -d $(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(PREFIX)/bin \
		$(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(LIBEXECDIR) \
		$(DESTDIR)$(DOCDIR)
	install -m 755 $(PLUGINS) $(DESTDIR)$(PLUGINDIR)/
	install -m 755 $(filter-out $(LIBEXEC_TOOLS),$(TOOLS)) $(DESTDIR)$(PREFIX)/bin/
	install -m 755 $(LIBEXEC_TOOLS) $(DESTDIR)$(LIBEXECDIR)/
	install -m 644 $(LIB_A) $(DESTDIR)$(PREFIX)/lib/
	install -d $(DESTDIR)$(PREFIX)/include/footprint
	install -m 644 $(wildcard include/footprint/*.h) $(DESTDIR)$(PREFIX)/include/footprint/
	install -m 755 $(LIB_SO) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 $(wildcard docs/*.1) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 $(wildcard docs/*.5) $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 644 $(DOCS) etc/footprint.conf etc/acct_gather.conf $(DESTDIR)$(DOCDIR)/
	install -m 644 etc/slurm-footprint-feed.timer $(DESTDIR)$(DOCDIR)/
	sed 's|@BINDIR@|$(PREFIX)/bin|g' etc/slurm-footprint-feed.service.in \
		> $(DESTDIR)$(DOCDIR)/slurm-footprint-feed.service
	chmod 644 $(DESTDIR)$(DOCDIR)/slurm-footprint-feed.service

# Debian packages of this tree for this machine's Debian and Slurm
# (debian/, dpkg-buildpackage), built in a copy of the tree under
# $(BUILD)/deb so that the build folder and the tree stay as they are; the
# .debs land in $(BUILD)/deb. Never part of check.
#   make deb SLURM=24.11        in the Debian 13 root (its libslurm-dev and
#                               debhelper), into build/24.11/deb here
#   make check-deb [SLURM=...]  tests/deb/run.sh, then installs the packages
#                               and runs cluster tests against the installed
#                               files (tests/deb/check-installed.sh): in a
#                               throwaway copy of the root for SLURM=24.11,
#                               on THIS MACHINE for Debian 12 (it purges
#                               them after). Not part of check or CI.
DEB_DIR := $(BUILD)/deb
ifneq ($(SLURM),)
deb check-deb:
	$(if $(filter /%,$(BUILD)),$(error $@ SLURM=$(SLURM): BUILD must be inside the tree (the root sees only it)))
	@tools/slurm-headers.sh fetch $(BUILD)/slurm-src $(SLURM_VERSION)
	@tools/slurm-root.sh $(if $(filter deb,$@),run,run-copy) $(SLURM_VERSION) \
		make --no-print-directory $@ SLURM_VERSION=$(SLURM_VERSION) \
		BUILD=$(BUILD) FP_VERSION='$(FP_VERSION)'
else
check-deb:
	@tests/deb/check-installed.sh $(DEB_DIR)
deb: deps-deb $(SLURM_INC)/.ready
	@rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src
	@tar -c --exclude=./build $(if $(filter /%,$(BUILD)),,--exclude=./$(BUILD)) \
		--exclude=./.git --exclude=./debian/build \
		--exclude=./debian/tmp . | tar -x -C $(DEB_DIR)/src
	@cd $(DEB_DIR)/src && SLURM_SRC=$(abspath $(SLURM_INC)/root) \
		FP_VERSION='$(FP_VERSION)' dpkg-buildpackage -us -uc -b
	@ls $(DEB_DIR)/*.deb
endif

# Only when asked: the example footprint.conf as $(SYSCONFDIR)/footprint.conf,
# never over one that exists (an admin's own).
install-config:
	install -d $(DESTDIR)$(SYSCONFDIR)
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/footprint.conf ]; then \
		echo "install-config: $(DESTDIR)$(SYSCONFDIR)/footprint.conf exists, left as it is"; \
	else \
		echo "install -m 644 etc/footprint.conf $(DESTDIR)$(SYSCONFDIR)/footprint.conf"; \
		install -m 644 etc/footprint.conf $(DESTDIR)$(SYSCONFDIR)/footprint.conf; \
	fi

clean:
	rm -rf $(BUILD)/lib $(BUILD)/plain $(BUILD)/tests $(BUILD)/bench \
		$(BUILD)/fuzz $(BUILD)/tsan $(BUILD)/*.so $(BUILD)/*.a $(TOOLS)

distclean:
	rm -rf $(BUILD)
