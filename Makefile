# Thin wrapper over CMake. `make run` and `make test` first install what is
# missing (contrib/deps.sh), so both work on a fresh Debian 12 machine.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_CC    ?= clang
# How long `make fuzz` runs each fuzzer; `make test` gives each 20 s.
FUZZ_SECONDS ?= 600
PREFIX     ?= /usr/local
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=

.PHONY: all build run test unit valgrind bench install clean deps deps-test \
	fuzz fuzz-build

all: build

deps:
	@sh contrib/deps.sh build

deps-test:
	@sh contrib/deps.sh test

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_ARGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

run: deps
	@$(MAKE) --no-print-directory build
	@sh contrib/run.sh $(BUILD)

# The whole suite runs once, built with ASan+UBSan.  The optimised build is
# made too, so that what `make run` builds (and -O2's warnings) is checked.
# The fuzzers are built in their own clang tree; the ASan tree's ctest runs
# them (label fuzz, 20 s each) beside the other tests.
test: deps-test
	$(MAKE) --no-print-directory build
	$(MAKE) --no-print-directory fuzz-build
	cmake -S . -B $(ASAN_BUILD) -DSHIELD_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
	    -DSHIELD_FUZZ_BUILD=$(abspath $(FUZZ_BUILD)) $(CMAKE_ARGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure --timeout 1800 -j $(JOBS)

# The libFuzzer targets (test/fuzz/) alone: clang, ASan and UBSan.
fuzz-build:
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=$(FUZZ_CC) -DSHIELD_FUZZ=ON \
	    -DSHIELD_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug $(CMAKE_ARGS)
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers

# Every fuzzer for FUZZ_SECONDS; a crash leaves its input in $(FUZZ_BUILD)/test.
fuzz: deps-test
	@$(MAKE) --no-print-directory fuzz-build
	cd $(FUZZ_BUILD) && FUZZ_SECONDS=$(FUZZ_SECONDS) ctest --output-on-failure \
	    -L fuzz -j $(JOBS) --timeout $$(( $(FUZZ_SECONDS) * 2 + 300 ))

# Only the cmocka unit tests, on the sanitizer build.
unit: deps
	cmake -S . -B $(ASAN_BUILD) -DSHIELD_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug $(CMAKE_ARGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -L unit

# Unit tests and the daemon's API and task tests under valgrind's memcheck,
# on a build without sanitizers.
VG_BUILD ?= build-vg
valgrind: deps-test
	cmake -S . -B $(VG_BUILD) -DCMAKE_BUILD_TYPE=Debug $(CMAKE_ARGS)
	cmake --build $(VG_BUILD) -j $(JOBS)
	sh test/valgrind.sh $(VG_BUILD)

bench: deps-test
	@$(MAKE) --no-print-directory build
	@sh test/bench/run.sh $(BUILD)

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
