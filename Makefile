# berth — top-level entry points. Every target installs what it needs first (scripts/setup).
BUILD_RELEASE ?= build/release
BUILD_TEST    ?= build/asan
JOBS          ?= $(shell nproc)
GENERATOR     := -G Ninja

PREFIX        ?= /usr/local
DESTDIR       ?=

.PHONY: all setup build build-test test unit e2e fuzz demo demo-docker install bench bench-pull bench-start bench-soak bench-density bench-checkpoint bench-docker clean

all: build

setup:
	bash scripts/setup

# Optimised binaries: berthd, berth.
build: setup
	cmake -S . -B $(BUILD_RELEASE) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBERTH_TESTS=OFF
	cmake --build $(BUILD_RELEASE) -j $(JOBS)

# Tests run on an ASan+UBSan build of everything (daemon and CLI included).
build-test: setup
	cmake -S . -B $(BUILD_TEST) $(GENERATOR) -DCMAKE_BUILD_TYPE=Debug -DBERTH_SANITIZE=ON -DBERTH_TESTS=ON
	cmake --build $(BUILD_TEST) -j $(JOBS)

test: build-test
	cd $(BUILD_TEST) && ctest --output-on-failure -j 2 --timeout 300

unit: build-test
	cd $(BUILD_TEST) && ctest --output-on-failure -L unit

e2e: build-test
	cd $(BUILD_TEST) && ctest --output-on-failure -L e2e

# Every fuzz target under libFuzzer (clang, ASan+UBSan) for FUZZ_SECONDS each, from its seed
# corpus (fuzz/README.md). make test replays the corpora without clang.
BUILD_FUZZ    ?= build/fuzz
FUZZ_SECONDS  ?= 60
fuzz: setup
	cmake -S . -B $(BUILD_FUZZ) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
	  -DBERTH_FUZZ=ON -DBERTH_TESTS=OFF
	cmake --build $(BUILD_FUZZ) -j $(JOBS) --target berth_fuzzers
	bash scripts/fuzz $(BUILD_FUZZ) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

demo: build
	bash scripts/demo $(BUILD_RELEASE)

# berthd, berth, berth-shim to $(DESTDIR)$(PREFIX)/bin and berthd.service to
# $(DESTDIR)$(PREFIX)/lib/systemd/system (then: systemctl daemon-reload; systemctl enable --now berthd).
install: build
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD_RELEASE) --prefix "$(PREFIX)"

# Pull (fetch + unpack) benchmark, berthd beside containerd 1.6 (bench/README.md).
# Extra options: make bench BENCH_ARGS='--runs 5'
bench: build
	bash bench/unpack.sh $(BUILD_RELEASE) $(BENCH_ARGS)

# berth pull vs ctr pull into containerd 1.6 (and ctr pull into berthd), same image, same run.
bench-pull: build
	bash bench/pull.sh $(BUILD_RELEASE) $(BENCH_ARGS)

# Concurrent container starts and memory per running task (bench/README.md).
bench-start: build
	bash bench/start-rate.sh $(BUILD_RELEASE) $(BENCH_ARGS)

# Soak: 10 000 create/start/exec/kill/delete cycles, berthd's footprint before and after
# (bench/README.md). Shorter: make bench-soak BENCH_ARGS='--cycles 1000'
bench-soak: build
	bash bench/soak.sh $(BUILD_RELEASE) $(BENCH_ARGS)

bench-density: build
	bash bench/density.sh $(BUILD_RELEASE) $(BENCH_ARGS)

# Checkpoint and restore time of a container with 100 MiB resident, berthd vs containerd 1.6, same
# criu (env BERTH_CRIU or PATH; skipped when `criu check` fails) (bench/README.md).
bench-checkpoint: build
	bash bench/checkpoint.sh $(BUILD_RELEASE) $(BENCH_ARGS)

# docker run --rm wall time and memory with 20 containers: dockerd on berthd vs on containerd 1.6.
bench-docker: build
	bash bench/docker.sh berthd $(BUILD_RELEASE)/cmd/berthd/berthd $(BUILD_RELEASE)/cmd/berth-shim $(BENCH_ARGS)
	bash bench/docker.sh containerd $(BENCH_ARGS)

# Docker on berth, step by step (README "Docker on berth"): dockerd pointed at a berthd on temp
# dirs, the checks run as a user would, both daemons stopped after.
demo-docker: build
	bash tests/compat/docker/run.sh $(BUILD_RELEASE)/cmd/berthd/berthd $(BUILD_RELEASE)/cmd/berth-shim

clean:
	rm -rf build
