# twkit — plain GNU Makefile.
#   make            build build/twkit
#   make run        install missing packages, build, install (as root), run `twkit doctor`
#   make check      install missing packages, build, run every test (ends "N passed, N failed")
#   make san        the same suite under ASan+UBSan (build-san/)
#   make deps       install the Debian packages twkit needs (root), or print the command
#   make fuzz       bounded libFuzzer runs of the parsers (clang)
#   make bench      the benchmarks of bench/ (twkit vs its peers, ratios)
#   make lint       cppcheck + clang-tidy;  make format  clang-format in place
#   make install PREFIX=/usr/local

BUILD   ?= build
PREFIX  ?= /usr/local
CC      ?= cc
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
           -Wpointer-arith -Wvla -Wundef -Wcast-align -Wwrite-strings -Wno-unused-parameter
CFLAGS  ?= -O2 -g
# Link-time optimisation for the twkit binary: the simulator's hot path crosses src/sim,
# src/model and src/common many times per simulated connection (-6% instructions, measured
# with callgrind). Fat objects keep plain code too, so the test binaries link without LTO.
LTO     ?= -flto=auto -ffat-lto-objects
# Profile-guided optimisation (gcc only; PGO=0 turns it off for quick rebuilds, and make san
# does): an instrumented twkit is built in $(BUILD)/pgo, simulates a few seconds of two
# built-in scenarios, and the objects are then compiled with that profile. The simulator's
# hot path spreads over many small functions; the profile cuts its instructions per simulated
# connection by about a sixth (callgrind) and lays its branches out (bench/sim-speed).
PGO     ?= $(if $(shell $(CC) --version 2>/dev/null | grep -q 'Free Software Foundation' && echo y),1,0)
ALL_CFLAGS := -std=gnu11 $(WARN) $(CFLAGS) $(EXTRA_CFLAGS) -D_GNU_SOURCE \
              -DTWKIT_VERSION=\"$(VERSION)\" -Isrc -isystem $(BUILD)/bpf -MMD -MP
LDLIBS  := -lmnl -linih -ljansson -lmicrohttpd -lbpf -lelf -lz -lm
# twkit trace's eBPF half (bpf/, outside src/ so it is not part of the C library): compiled by
# clang against a vmlinux.h dumped from this kernel's BTF (CO-RE relocates it at load time),
# embedded in twkit through a bpftool-generated skeleton.
CLANG   ?= clang
BPFTOOL ?= bpftool
LLVM_STRIP ?= llvm-strip
BPF_SKEL := $(BUILD)/bpf/trace.skel.h
LDFLAGS += $(EXTRA_LDFLAGS)
ifeq ($(PGO),1)
PGO_STAMP := $(BUILD)/pgo/profile.stamp
PGO_USE   := -fprofile-use -fprofile-partial-training -Wno-missing-profile
endif

# V=1 shows the full compiler lines
Q := $(if $(V),,@)

LIB_SRC  := $(sort $(shell find src -name '*.c' ! -path src/main.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
HELPER_SRC := $(sort $(wildcard tests/helpers/*.c))
HELPER_BIN := $(HELPER_SRC:tests/helpers/%.c=$(BUILD)/tests/helpers/%)

.PHONY: all run check check-only san deps fuzz lint format install clean tests bench
all: $(BUILD)/twkit

$(BUILD)/%.o: %.c $(PGO_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(LTO) $(PGO_USE) -c $< -o $@

# PGO: the instrumented build and its training run. Each instrumented object is told the
# final object's auxiliary name (-dumpdir/-dumpbase), so its profile is written where that
# object's compile reads it ($(BUILD)/src/x.gcda) and static functions keep their identity.
$(BUILD)/pgo/%.o: %.c
	@mkdir -p $(dir $@) $(BUILD)/$(dir $*)
	@$(if $(Q),echo "  CC-PGO  $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(LTO) -fprofile-generate -fprofile-update=single \
		-dumpdir $(BUILD)/$(dir $*) -dumpbase $(notdir $*) -c $< -o $@

$(BUILD)/pgo/profile.stamp: $(LIB_SRC:%.c=$(BUILD)/pgo/%.o) $(BUILD)/pgo/src/main.o
	@$(if $(Q),echo "  PGO     training run")
	$(Q)$(CC) $(ALL_CFLAGS) $(LTO) -fprofile-generate $(LDFLAGS) -o $(BUILD)/pgo/twkit $^ $(LDLIBS)
	$(Q)find $(BUILD)/src -name '*.gcda' -delete 2>/dev/null || true
	$(Q)$(BUILD)/pgo/twkit sim tw-memory --duration 20s --json --no-series -q >/dev/null
	$(Q)$(BUILD)/pgo/twkit sim stress-client --duration 2m --json --no-series -q >/dev/null
	$(Q)$(BUILD)/pgo/twkit sim nat-recycle --duration 20s --json --no-series -q >/dev/null
	$(Q)touch $@

$(BUILD)/bpf/vmlinux.h:
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  BTF     $@")
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c >$@.tmp && mv $@.tmp $@

$(BUILD)/bpf/trace.bpf.o: bpf/trace.bpf.c src/trace/trace_abi.h $(BUILD)/bpf/vmlinux.h
	@$(if $(Q),echo "  BPF     $<")
	$(Q)$(CLANG) -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -Wall -Werror \
		-I$(BUILD)/bpf -Isrc -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(BPF_SKEL): $(BUILD)/bpf/trace.bpf.o
	@$(if $(Q),echo "  SKEL    $@")
	$(Q)$(BPFTOOL) gen skeleton $< name twtrace >$@.tmp && mv $@.tmp $@

# (the skeleton is included as a system header: bpftool's code is not ours to lint, and -MMD
# does not list it, hence this rule)
$(BUILD)/src/trace/trace_bpf.o $(BUILD)/pgo/src/trace/trace_bpf.o: $(BPF_SKEL)

$(BUILD)/libtwkit.a: $(LIB_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(BUILD)/twkit: $(BUILD)/src/main.o $(BUILD)/libtwkit.a
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(LTO) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libtwkit.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(CC) $(ALL_CFLAGS) -fno-lto -Wno-write-strings -Itests/unit $(LDFLAGS) -o $@ $< $(BUILD)/libtwkit.a $(LDLIBS) -lcmocka

$(BUILD)/tests/helpers/%: tests/helpers/%.c $(BUILD)/libtwkit.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -fno-lto $(LDFLAGS) -o $@ $< $(BUILD)/libtwkit.a $(LDLIBS)

tests: $(BUILD)/twkit $(UNIT_BIN) $(HELPER_BIN)

deps:
	@scripts/deps

# Benchmarks against peers run in the same script (not part of check; ratios, not asserts).
bench: tests
	bench/bench-vs-peers $(BUILD)
	@if [ -n "$$NEPER_DIR" ]; then bench/port-select $(BUILD); \
	else echo "bench/port-select skipped: set NEPER_DIR to a neper source tree"; fi
	BUILD=$(BUILD) bench/doctor-scale
	BUILD=$(BUILD) bench/trace-overhead
	bench/listen-starve $(BUILD)

# As root it also installs twkit in $(PREFIX)/bin, so README's examples run as printed.
run: deps
	@$(MAKE) --no-print-directory all
	@if [ "$$(id -u)" = 0 ] || [ -w "$(DESTDIR)$(PREFIX)/bin" ]; then \
		$(MAKE) --no-print-directory install && echo "installed: $(PREFIX)/bin/twkit"; \
	else echo "not root: twkit is $(BUILD)/twkit (make install as root puts it on the PATH)"; fi
	$(BUILD)/twkit doctor

check: deps
	@$(MAKE) --no-print-directory check-only

check-only: tests
	@tests/run $(BUILD)

san: deps
	@$(MAKE) --no-print-directory BUILD=build-san LTO= PGO=0 \
		EXTRA_CFLAGS="-O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		EXTRA_LDFLAGS="-fsanitize=address,undefined" check-only

fuzz:
	@scripts/deps clang libclang-rt-14-dev
	@tests/fuzz/run $(BUILD)-fuzz

# clang-tidy runs once per file: given several files, its va_list checker
# (clang-analyzer-valist) calls every va_list in the second and later files uninitialized,
# va_start or not (LLVM bug 41311, llvm-project#40656). The checks are chosen in .clang-tidy.
lint: $(BPF_SKEL)
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--suppress=missingIncludeSystem -Isrc src
# trace_bpf.c includes bpftool's generated skeleton, whose error path frees through libbpf's
# bpf_object__destroy_skeleton(): the analyzer cannot see that and reports a leak in it.
	for f in $(LIB_SRC) src/main.c; do \
		x=; [ $$f = src/trace/trace_bpf.c ] && x=--checks=-clang-analyzer-unix.Malloc; \
		clang-tidy --quiet $$x $$f -- $(ALL_CFLAGS) || exit 1; done

format:
	clang-format -i $$(find src tests -name '*.[ch]')

install: $(BUILD)/twkit
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(BUILD)/twkit $(DESTDIR)$(PREFIX)/bin/twkit
	install -m 0644 docs/twkit.1 $(DESTDIR)$(PREFIX)/share/man/man1/twkit.1

clean:
	rm -rf build build-san build-fuzz

-include $(LIB_OBJ:.o=.d) $(BUILD)/src/main.d
ifeq ($(PGO),1)
-include $(LIB_OBJ:$(BUILD)/%.o=$(BUILD)/pgo/%.d) $(BUILD)/pgo/src/main.d
endif
