# Thin wrapper over CMake. `make run` and `make test` first install what is
# missing (contrib/deps.sh), so both work on a fresh Debian 12 machine.

BUILD      ?= build
ASAN_BUILD ?= build-asan
PREFIX     ?= /usr/local
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=

.PHONY: all build run test unit valgrind bench install clean deps deps-test

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
test: deps-test
	$(MAKE) --no-print-directory build
	cmake -S . -B $(ASAN_BUILD) -DSHIELD_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug $(CMAKE_ARGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure --timeout 1800 -j $(JOBS)

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
	rm -rf $(BUILD) $(ASAN_BUILD)
