# The two commands of the README: `make demo` and `make test`.  Both install
# what is missing (scripts/deps.sh, apt-get, as root) and build first.
BUILD ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
MESON_TEST ?= meson test --print-errorlogs --num-processes 2

.PHONY: all demo test test-unit test-asan test-tsan test-cross bench fuzz clean deps deps-build

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

deps-build:
	@scripts/deps.sh build

deps:
	@scripts/deps.sh test

$(BUILD)/build.ninja:
	meson setup $(BUILD)

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false

# ThreadSanitizer build with clang; tests/meson.build hands tests/tsan.supp
# to the as and dma suites.
$(TSAN_BUILD)/build.ninja:
	CC=clang meson setup $(TSAN_BUILD) -Db_sanitize=thread -Db_lundef=false

demo: deps-build all
	./$(BUILD)/tools/ramdev bench access --quick   # until `ramdev demo` lands

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
	scripts/summary.py $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) \
		--extra $(BUILD)/cross.log || rc=1; \
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
	$(MESON_TEST) -C $(ASAN_BUILD) --no-suite oracle

# The threaded suites (address space and DMA: RCU readers against hot
# add/remove, concurrent maps) under ThreadSanitizer; about a minute.
test-tsan: $(TSAN_BUILD)/build.ninja
	ninja -C $(TSAN_BUILD)
	$(MESON_TEST) -C $(TSAN_BUILD) --suite as --suite dma

test-cross:
	scripts/test-cross.sh

bench: all
	./$(BUILD)/tools/ramdev bench access
	./$(BUILD)/tools/ramdev bench as

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) build-cross
