# The two commands of the README: `make demo` and `make test`.  Both install
# what is missing (scripts/deps.sh, apt-get, as root) and build first.
BUILD ?= build
ASAN_BUILD ?= build-asan
MESON_TEST ?= meson test --print-errorlogs --num-processes 2

.PHONY: all demo test test-unit test-asan test-cross test-fuzz bench fuzz clean deps deps-build

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

demo: deps-build all
	./$(BUILD)/tools/ramdev demo

test: deps
	$(MAKE) test-unit test-asan test-cross test-fuzz

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

test-cross:
	scripts/test-cross.sh

# A short libFuzzer run per target (clang; exit 77 = skipped, not a failure).
FUZZ_SECONDS ?= 20
test-fuzz:
	@for t in virtq; do \
		scripts/fuzz.sh $(FUZZ_SECONDS) $$t; rc=$$?; \
		[ $$rc -eq 0 ] || [ $$rc -eq 77 ] || exit $$rc; \
	done

# A longer run: make fuzz FUZZ_SECONDS=600
fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS) virtq

bench: all
	./$(BUILD)/tools/ramdev bench access

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-cross build-fuzz
