# The two commands of the README: `make demo` and `make test`.  Both install
# what is missing (scripts/deps.sh, apt-get, as root) and build first.
BUILD ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
MESON_TEST ?= meson test --print-errorlogs --num-processes 2
# CI builds are warning-clean: every build make sets up fails on a warning.
MESON_SETUP ?= meson setup --werror

.PHONY: all demo test test-unit test-asan test-tsan test-cross test-fuzz bench fuzz clean deps deps-build
.PHONY: test-kinds

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

deps-build:
	@scripts/deps.sh build

deps:
	@scripts/deps.sh test

$(BUILD)/build.ninja:
	$(MESON_SETUP) $(BUILD)

$(ASAN_BUILD)/build.ninja:
	$(MESON_SETUP) $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false

# ThreadSanitizer build with clang; tests/meson.build hands tests/tsan.supp
# to the as and dma suites.
$(TSAN_BUILD)/build.ninja:
	CC=clang $(MESON_SETUP) $(TSAN_BUILD) -Db_sanitize=thread -Db_lundef=false

demo: deps-build all
	./$(BUILD)/tools/ramdev demo

# Every suite runs even when an earlier one failed; the closing line counts
# them all and the exit status says whether any failed.  The cross run exits
# 77 (skip) when this machine has no cross tools.
test: deps
	@rc=0; \
	$(MAKE) test-unit || rc=1; \
	$(MAKE) test-asan || rc=1; \
	$(MAKE) test-tsan || rc=1; \
	scripts/test-cross.sh > $(BUILD)/cross.log 2>&1; cross=$$?; \
	cat $(BUILD)/cross.log; \
	[ $$cross = 0 ] || [ $$cross = 77 ] || rc=1; \
	$(MAKE) -s test-fuzz > $(BUILD)/fuzz.log 2>&1 || rc=1; \
	cat $(BUILD)/fuzz.log; \
	scripts/check-library-kinds.sh > $(BUILD)/kinds.log 2>&1 || rc=1; \
	cat $(BUILD)/kinds.log; \
	scripts/summary.py $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) \
		--extra $(BUILD)/cross.log $(BUILD)/fuzz.log $(BUILD)/kinds.log \
		|| rc=1; \
	exit $$rc

test-unit: $(BUILD)/build.ninja
	ninja -C $(BUILD)
	$(MESON_TEST) -C $(BUILD)

# The access-pattern oracles run valgrind and hardware breakpoints, which do
# not mix with ASan: the sanitizer run covers every other suite.
test-asan: $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	$(MESON_TEST) -C $(ASAN_BUILD) --no-suite oracle --no-suite integration

# Under ThreadSanitizer: the threaded suites (address space and DMA: RCU
# readers against hot add/remove, concurrent maps), the virtqueue, blk (a
# guest driver in other threads sharing the rings with the device: the
# split-ring barriers are annotated for TSan on the idx words, see
# lib/virtq/ring.h and drivers/vring_driver.c) and the demo (io_uring
# completions).
test-tsan: $(TSAN_BUILD)/build.ninja
	ninja -C $(TSAN_BUILD)
	$(MESON_TEST) -C $(TSAN_BUILD) --suite as --suite dma --suite virtq \
		--suite blk --suite demo

test-cross:
	scripts/test-cross.sh

# -Ddefault_library=static and =shared each configure, build (--werror) and
# install (scripts/check-library-kinds.sh; build-kinds-static, -shared).
test-kinds:
	scripts/check-library-kinds.sh

# A short libFuzzer run per target (clang; exit 77 = skipped, not a failure):
# 6 x 12 s in `make test`.  Long runs: docs/robustness.md.
# `make fuzz SECONDS=N` works too (only from the command line: bash keeps a
# SECONDS variable of its own).
ifeq ($(origin SECONDS),command line)
FUZZ_SECONDS ?= $(SECONDS)
endif
FUZZ_SECONDS ?= 12
FUZZ_TARGETS ?= virtq access dma as blk vhost

# Each fuzz target for FUZZ_SECONDS (clang; skipped with the reason without
# it).  The last line counts targets for scripts/summary.py.
test-fuzz:
	@p=0; f=0; s=0; \
	for t in $(FUZZ_TARGETS); do \
		scripts/fuzz.sh $(FUZZ_SECONDS) $$t > build-fuzz-$$t.log 2>&1; rc=$$?; \
		grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==ERROR|SUMMARY)' build-fuzz-$$t.log; \
		case $$rc in 0) p=$$((p+1)); echo "PASS fuzz_$$t";; \
		77) s=$$((s+1)); tail -n 1 build-fuzz-$$t.log;; \
		*) f=$$((f+1)); tail -n 40 build-fuzz-$$t.log; echo "FAIL fuzz_$$t";; esac; \
	done; \
	echo "fuzz: $$p passed, $$f failed, $$s skipped"; [ $$f = 0 ]

# A longer run of every target, one after the other: make fuzz FUZZ_SECONDS=600
fuzz:
	@rc=0; for t in $(FUZZ_TARGETS); do \
		scripts/fuzz.sh $(FUZZ_SECONDS) $$t; r=$$?; \
		[ $$r = 0 ] || [ $$r = 77 ] || rc=1; \
	done; exit $$rc

bench: all
	./$(BUILD)/tools/ramdev bench access
	./$(BUILD)/tools/ramdev bench as

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) build-cross build-fuzz build-fuzz-*.log
	rm -rf build-kinds-static build-kinds-shared build-kinds-*.log
