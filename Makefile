# Rigor — build, run, test, bench. `make run` and `make test` work on a fresh machine:
# they install the system packages that are missing, then build.
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

SYSTEM_PACKAGES := libzstd-dev libsqlite3-dev libcurl4-openssl-dev bubblewrap python3 python3-venv nodejs util-linux json-schema-test-suite chromium chromium-driver postgresql slurmctld slurmd slurm-client munge strace
SWIFT_BUILD_FLAGS ?=
RIGOR := .build/debug/rigor

.PHONY: all deps build release run test fuzz bench bench-store bench-gateway clean help install uninstall dist tracecore-venv traceprotocol-venv tools-venv

all: build

help:
	@echo "make run    install what is missing, build, run the default pairing"
	@echo "make test   build and run the whole test suite (the fuzz targets for a few seconds each)"
	@echo "make fuzz   the fuzz targets (task.toml, agent lines, bundles) for FUZZ_ITERATIONS inputs each (default 100000; FUZZ_SEED varies them)"
	@echo "make release  optimised build (.build/release), Swift runtime linked statically"
	@echo "make bench  release build, then the benchmarks (tables)"
	@echo "make bench-store  release build, then only PostgreSQL vs SQLite recording (tables)"
	@echo "make bench-gateway  release build, then only the model gateway tables (replay overhead, tape size)"
	@echo "make install [PREFIX=/usr/local]  release build, then bin/rigor and share/rigor/sdk under PREFIX"
	@echo "make uninstall [PREFIX=/usr/local]  remove what make install put there"
	@echo "make dist   release tarball rigor-<version>-linux-<arch>.tar.gz (bin/, share/)"

# Installs the Debian packages Rigor needs, only when one is missing (apt-get update once first).
deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null \
	    || { echo "could not install:$$missing — install them with apt-get and retry"; exit 1; }; \
	fi
	@command -v swift >/dev/null || { echo "swift not found: install Swift 6 (expected at /opt/swift)"; exit 1; }

build: deps
	swift build $(SWIFT_BUILD_FLAGS)

run: build
	$(RIGOR) run --agent Agents/toy_agent.py --task filesystem_hidden_config@1 --seed 42

# TraceCore from PyPI, for the interop test (Tests/RigorCLITests/TraceCoreInteropTests.swift):
# a venv under .build-venv/ (git-ignored), made and filled only when it lacks the version.
# When PyPI cannot be reached this says so and goes on; the test then skips, printing why.
TRACECORE_VERSION ?= 1.1.3
VENV := .build-venv
tracecore-venv:
	@if $(VENV)/bin/python -c 'import importlib.metadata as m, sys; sys.exit(m.version("tracecore") != "$(TRACECORE_VERSION)")' 2>/dev/null; then :; else \
	  rm -rf $(VENV); \
	  if /usr/bin/python3 -m venv $(VENV) && $(VENV)/bin/python -m pip install -q --disable-pip-version-check --timeout 30 tracecore==$(TRACECORE_VERSION); then \
	    echo "tracecore $(TRACECORE_VERSION) installed in $(VENV)"; \
	  else echo "could not install tracecore $(TRACECORE_VERSION) into $(VENV) (is PyPI reachable?); the TraceCore interop test will be skipped"; rm -rf $(VENV); fi; \
	fi

# Python tools the tests use, from PyPI, in a venv under .build-venv-tools/ (git-ignored):
# opentelemetry-proto parses `rigor export otlp` output (Tests/RigorCLITests/OTLPExportTests.swift);
# selenium drives headless Chromium (Debian's chromium and chromium-driver) through the web UI and
# the HTML report (Tests/RigorServerTests/BrowserTests.swift, Tests/Browser/dashboard_check.py);
# openai and anthropic, the official model SDKs, unmodified, drive the reference LLM agents
# (Agents/llm_openai_agent.py, Agents/llm_anthropic_agent.py) through the model gateway against
# scripts/fake-model-upstream.py. Add a package to TOOLS_VENV_PACKAGES and the venv is refilled.
# When PyPI cannot be reached this says so and goes on; the tests that need the venv then skip,
# printing why.
TOOLS_VENV := .build-venv-tools
TOOLS_VENV_PACKAGES ?= opentelemetry-proto==1.45.2 selenium==4.27.1 openai==3.63.0 anthropic==2.17.0
tools-venv:
	@want="$(TOOLS_VENV_PACKAGES)"; \
	if [ -f $(TOOLS_VENV)/installed ] && [ "$$(cat $(TOOLS_VENV)/installed)" = "$$want" ]; then :; else \
	  rm -rf $(TOOLS_VENV); \
	  if /usr/bin/python3 -m venv $(TOOLS_VENV) && $(TOOLS_VENV)/bin/python -m pip install -q --disable-pip-version-check --timeout 30 $$want; then \
	    echo "$$want" > $(TOOLS_VENV)/installed; echo "installed in $(TOOLS_VENV): $$want"; \
	  else echo "could not install $$want into $(TOOLS_VENV) (is PyPI reachable?); the tests that need it will be skipped"; rm -rf $(TOOLS_VENV); fi; \
	fi

# The TRACE protocol's own Python client (traceprotocol 0.1.0, from PyPI), unmodified, in a venv
# under .build-trace-venv/ (git-ignored), for Tests/RigorRunnerTests/TraceEndpointTests.swift.
TRACE_VENV := .build-trace-venv
traceprotocol-venv:
	@if $(TRACE_VENV)/bin/python -c 'import importlib.metadata as m, sys; sys.exit(m.version("traceprotocol") != "0.1.0")' 2>/dev/null; then :; else \
	  rm -rf $(TRACE_VENV); \
	  if /usr/bin/python3 -m venv $(TRACE_VENV) && $(TRACE_VENV)/bin/python -m pip install -q --disable-pip-version-check --timeout 30 traceprotocol==0.1.0; then \
	    echo "traceprotocol 0.1.0 installed in $(TRACE_VENV)"; \
	  else echo "could not install traceprotocol 0.1.0 into $(TRACE_VENV) (is PyPI reachable?); the TRACE client test will be skipped"; rm -rf $(TRACE_VENV); fi; \
	fi

# The shared-store tests (Tests/RigorStorePostgresTests) need a real PostgreSQL server: one is
# started for the run (scripts/test-postgres.sh: a throwaway cluster on a free localhost port)
# and handed to them in RIGOR_TEST_POSTGRES_URL; it is stopped and removed however the run ends.
test: deps tracecore-venv tools-venv traceprotocol-venv
	swift build --build-tests $(SWIFT_BUILD_FLAGS)
	@pgdir="$${TMPDIR:-/tmp}/rigor-test-pg-$$$$"; \
	url=$$(scripts/test-postgres.sh start "$$pgdir") || { echo "cannot start the test PostgreSQL server (scripts/test-postgres.sh)"; exit 1; }; \
	trap 'scripts/test-postgres.sh stop "$$pgdir"' EXIT; \
	echo "test PostgreSQL server: $$url"; \
	RIGOR_TEST_POSTGRES_URL="$$url" swift test --skip-build $(SWIFT_BUILD_FLAGS)

# The fuzz targets of Tests/RigorRunnerTests/FuzzTests.swift, run long: every input must give a
# value or a typed error. RIGOR_FUZZ_DUMP keeps the last input, to reproduce a crash with it.
FUZZ_ITERATIONS ?= 100000
FUZZ_SEED ?= 0
fuzz: deps
	swift build --build-tests $(SWIFT_BUILD_FLAGS)
	RIGOR_FUZZ_ITERATIONS=$(FUZZ_ITERATIONS) RIGOR_FUZZ_SEED=$(FUZZ_SEED) RIGOR_FUZZ_DUMP=.build/fuzz-last-input \
	  swift test --skip-build --no-parallel $(SWIFT_BUILD_FLAGS) --filter 'FuzzTests'

# Release binaries link the Swift runtime and Foundation statically: rigor starts in ~8 ms
# instead of ~15 ms (no dynamic relocation of libFoundation), which every command pays.
RELEASE_FLAGS := -c release --static-swift-stdlib

release: deps
	swift build $(RELEASE_FLAGS)

# Installing: a release binary (or, with RIGOR_BUILD=debug, the debug one, for tests) plus the
# Python agent SDK it finds beside itself (<prefix>/share/rigor/sdk): a user's project then
# works without Rigor's checkout. scripts/install.sh holds the layout.
PREFIX ?= /usr/local
RIGOR_BUILD ?= release
VERSION := $(shell sed -n 's/.*static let version = "\(.*\)".*/\1/p' Sources/RigorSpec/Taxonomy.swift)
DIST_NAME := rigor-$(VERSION)-linux-$(shell uname -m)

install: $(if $(filter debug,$(RIGOR_BUILD)),build,release)
	scripts/install.sh .build/$(RIGOR_BUILD)/rigor "$(DESTDIR)$(PREFIX)"

uninstall:
	rm -f "$(DESTDIR)$(PREFIX)/bin/rigor"
	rm -rf "$(DESTDIR)$(PREFIX)/share/rigor" "$(DESTDIR)$(PREFIX)/share/doc/rigor"

dist: release
	rm -rf .build/dist && scripts/install.sh .build/release/rigor .build/dist/$(DIST_NAME)
	tar -C .build/dist -czf $(DIST_NAME).tar.gz $(DIST_NAME)
	@echo "wrote $(DIST_NAME).tar.gz"

bench: release
	.build/release/rigor-bench

# Only the shared store's table: recording into PostgreSQL vs SQLite, whole batches into each.
bench-store: release
	.build/release/rigor-bench shared-store
	bash Benchmarks/compare_tracecore.sh

# Only the model gateway's tables: replay overhead per call, a 1,000-call tape, tape size.
bench-gateway: release
	.build/release/rigor-bench gateway

clean:
	rm -rf .build .rigor

# Re-embeds spec/artifact-schema-v1.0.json into the binary after it changes.
schema:
	python3 scripts/embed-schema.py
