# Mujun (亩均) — the two commands that matter:
#   make run    install what is missing, build, load the demo city (first time), serve on :8080
#   make test   every test: Swift on SQLite, Swift on PostgreSQL, browser (Chromium), CLI, GDAL,
#               the OpenAPI document and schemathesis
# Everything else: `make help`.

SHELL := /bin/bash
.DEFAULT_GOAL := help

SWIFT   ?= swift
PYTHON  ?= python3
HOST    ?= 127.0.0.1
PORT    ?= 8080
BIN     := .build/debug/mujun
DEMO_DB := data/mujun.sqlite
DEMO_URL := sqlite://$(DEMO_DB)
# the Swift tests run a second time against PostgreSQL, for these targets
PG_TEST_FILTER ?= MujunServerTests
# the demo city the browser tests look at
BROWSER_ENTERPRISES ?= 600
BROWSER_SEED ?= 7
# set by `make test` so that its legs do not re-run the build it just did
SKIP_BUILD ?=
# Flags of every debug build here. A fresh clone builds everything once (CI does, each run), so
# these favour a build from scratch: each module compiled whole (-wmo: one type-check per module
# instead of one per batch of files) with its code generated on two threads (-num-threads 2,
# which also writes the per-file objects SwiftPM links), and line tables for debug info.
# (The index store stays: test discovery on Linux reads it.) For quick edit-and-rebuild work,
# `SWIFT_BUILD_FLAGS=` — every build and test here must then use the same, or SwiftPM rebuilds
# everything.
SWIFT_BUILD_FLAGS ?= -Xswiftc -wmo -Xswiftc -num-threads -Xswiftc 2 -Xswiftc -gline-tables-only -Xcc -gline-tables-only
# make test: the legs in two lanes at once (scripts/test-lanes.sh); the two Swift legs share a
# lane (SwiftPM locks .build), the Python legs run the built binary beside them
TEST_LANES ?= "test-swift test-postgres test-crash" "test-browser test-api test-cli test-gis test-ops"
# where `make test-api` leaves schemathesis's output, reports and findings.md (emptied first)
API_REPORT_DIR ?= .ci/out/test-api

.PHONY: help deps build build-tests run demo test test-swift test-postgres test-browser test-cli test-gis test-api test-ops test-crash \
        bench bench-compare clean distclean

help:
	@echo "make run            install deps, build, load the demo city into $(DEMO_DB) (once), serve http://$(HOST):$(PORT)"
	@echo "make test           all tests: Swift/SQLite, Swift/PostgreSQL, browser, CLI, GDAL, API (what .ci/run calls)"
	@echo "make deps           install missing Debian packages and Python test modules (as root)"
	@echo "make build          swift build (debug)"
	@echo "make demo           re-create the demo database"
	@echo "make test-swift | test-postgres | test-browser | test-cli | test-gis | test-api | test-ops | test-crash   one leg of make test"
	@echo "make bench          release build, then bench/run.sh (Swift vs pandas on 1,000,000 enterprises, …)"
	@echo "make bench-compare BASE=rev   every bench figure for BASE and this checkout side by side (≤ 5 % worse)"
	@echo "make clean          remove build products; make distclean also removes data/ and bench-data/"

deps:
	@bash scripts/install-deps.sh

build:
	$(SWIFT) build $(SWIFT_BUILD_FLAGS)

build-tests:
	$(SWIFT) build --build-tests $(SWIFT_BUILD_FLAGS)

# ------------------------------------------------------------------ run
run: deps build
	@mkdir -p data
	@if [ -n "$${DATABASE_URL:-}" ] && [ "$$DATABASE_URL" != "$(DEMO_URL)" ]; then \
	    echo "make run: using DATABASE_URL=$$DATABASE_URL (\`make demo\` loads the demo city into it)"; \
	elif [ ! -f $(DEMO_DB) ]; then \
	    echo "make run: loading the demo city into $(DEMO_DB) (about 8,000 enterprises, two years)…"; \
	    if ! DATABASE_URL=$(DEMO_URL) $(BIN) demo; then \
	        rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm; echo "make run: mujun demo failed"; exit 1; \
	    fi; \
	fi
	@echo ""
	@echo "  Mujun 亩均论英雄:  http://$(HOST):$(PORT)"
	@if [ -f data/demo-logins.txt ]; then \
	    echo "  演示账号 / demo logins (data/demo-logins.txt):"; sed 's/^/    /' data/demo-logins.txt; \
	else \
	    echo "  演示账号 / demo logins: data/demo-logins.txt lists them once accounts exist"; \
	fi
	@echo ""
	@export DATABASE_URL="$${DATABASE_URL:-$(DEMO_URL)}"; exec $(BIN) serve --hostname $(HOST) --port $(PORT)

demo: build
	@mkdir -p data
	@if [ -z "$${DATABASE_URL:-}" ] || [ "$$DATABASE_URL" = "$(DEMO_URL)" ]; then \
	    rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm; \
	fi
	@export DATABASE_URL="$${DATABASE_URL:-$(DEMO_URL)}"; echo "make demo: loading the demo city into $$DATABASE_URL"; \
	$(BIN) demo

# ------------------------------------------------------------------ test
# Every leg runs even when another failed; make test fails when any did. The legs run in the
# lanes of TEST_LANES, each leg's output printed whole when it ends (and kept in .ci/out/legs);
# schemathesis gets a larger time budget, as it shares the machine with the other lane.
test: deps
	$(SWIFT) build --build-tests $(SWIFT_BUILD_FLAGS)
	@MUJUN_API_BUDGET="$${MUJUN_API_BUDGET:-600}" MAKE="$(MAKE)" bash scripts/test-lanes.sh $(TEST_LANES) && \
	echo "make test: all legs passed (Swift on SQLite, Swift on PostgreSQL, crash, operations, browser, CLI, GDAL, API)"

# The Swift suite on SQLite (MUJUN_TEST_DATABASE_URL unset); the memory-growth tests measure the
# process's RSS, so they run alone in a process of their own after the rest.
test-swift:
	$(if $(SKIP_BUILD),,$(SWIFT) build --build-tests $(SWIFT_BUILD_FLAGS))
	@failed=0; \
	env -u MUJUN_TEST_DATABASE_URL $(SWIFT) test --skip-build --skip MujunCoreTests.MemoryGrowthTests || failed=1; \
	echo "test-swift: the memory-growth tests, in a process of their own"; \
	env -u MUJUN_TEST_DATABASE_URL $(SWIFT) test --skip-build --filter MujunCoreTests.MemoryGrowthTests || failed=1; \
	exit $$failed

# The database tests again, on a throw-away PostgreSQL 15 cluster (stopped even on failure);
# its own directory per run, so that two runs on one machine do not stop each other's.
test-postgres:
	$(if $(SKIP_BUILD),,$(SWIFT) build --build-tests $(SWIFT_BUILD_FLAGS))
	@set -euo pipefail; \
	export MUJUN_PG_DIR="$${MUJUN_PG_DIR:-/tmp/mujun-pgtest-$$$$}"; \
	trap 'bash scripts/pg-test-cluster.sh stop' EXIT; \
	url="$$(bash scripts/pg-test-cluster.sh start)"; \
	echo "test-postgres: MUJUN_TEST_DATABASE_URL=$$url"; \
	MUJUN_TEST_DATABASE_URL="$$url" $(SWIFT) test --skip-build --filter '$(PG_TEST_FILTER)'

# Headless Chromium against `mujun serve` on a fresh demo database (server killed even on failure).
test-browser:
	$(if $(SKIP_BUILD),,$(SWIFT) build $(SWIFT_BUILD_FLAGS))
	@set -uo pipefail; \
	tmp="$$(mktemp -d /tmp/mujun-browser.XXXXXX)"; pid=""; \
	cleanup() { \
	    if [ -n "$$pid" ] && kill -0 "$$pid" 2>/dev/null; then \
	        kill "$$pid" 2>/dev/null; \
	        for _ in $$(seq 1 50); do kill -0 "$$pid" 2>/dev/null || break; sleep 0.1; done; \
	        kill -9 "$$pid" 2>/dev/null; wait "$$pid" 2>/dev/null; \
	    fi; \
	    rm -rf "$$tmp"; \
	}; \
	trap cleanup EXIT; \
	export DATABASE_URL="sqlite://$$tmp/mujun.sqlite" MUJUN_JOBS=off; \
	echo "test-browser: demo city of $(BROWSER_ENTERPRISES) enterprises (seed $(BROWSER_SEED)) in $$DATABASE_URL"; \
	if ! $(BIN) demo --enterprises $(BROWSER_ENTERPRISES) --seed $(BROWSER_SEED) >"$$tmp/demo.log" 2>&1; then \
	    tail -n 40 "$$tmp/demo.log"; echo "test-browser: mujun demo failed"; exit 1; \
	fi; \
	port="$$($(PYTHON) -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"; \
	url="http://127.0.0.1:$$port"; \
	$(BIN) serve --hostname 127.0.0.1 --port "$$port" >"$$tmp/serve.log" 2>&1 & pid=$$!; \
	up=""; \
	for _ in $$(seq 1 240); do \
	    if ! kill -0 "$$pid" 2>/dev/null; then break; fi; \
	    if $(PYTHON) -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$$url/healthz" 2>/dev/null; then up=1; break; fi; \
	    sleep 0.25; \
	done; \
	if [ -z "$$up" ]; then tail -n 40 "$$tmp/serve.log"; echo "test-browser: mujun serve did not answer $$url/healthz"; exit 1; fi; \
	echo "test-browser: mujun serve at $$url"; \
	MUJUN_BASE_URL="$$url" $(PYTHON) -m pytest -q -p no:cacheprovider -p no:benchmark tests/browser; rc=$$?; \
	if [ $$rc -ne 0 ]; then echo "---- last lines of the server log"; tail -n 40 "$$tmp/serve.log"; fi; \
	exit $$rc

# The command line on small files (and the pandas reference against a hand-computed case).
test-cli:
	$(if $(SKIP_BUILD),,$(SWIFT) build $(SWIFT_BUILD_FLAGS))
	MUJUN_BIN="$(abspath $(BIN))" $(PYTHON) -m pytest -q -p no:cacheprovider -p no:benchmark tests/cli

# GDAL's ogrinfo/ogr2ogr as real OGC API - Features clients against `mujun serve` (own temp DB and server).
test-gis:
	$(if $(SKIP_BUILD),,$(SWIFT) build $(SWIFT_BUILD_FLAGS))
	MUJUN_BIN="$(abspath $(BIN))" $(PYTHON) -m pytest -q -p no:cacheprovider -p no:benchmark tests/ogc

# Running it for real (tests/ops): PostgreSQL + three instances behind nginx (scripts/multi-instance.sh),
# backups and restores; each test starts and stops what it needs.
test-ops:
	$(if $(SKIP_BUILD),,$(SWIFT) build $(SWIFT_BUILD_FLAGS))
	MUJUN_BIN="$(abspath $(BIN))" $(PYTHON) -m pytest -q -p no:cacheprovider -p no:benchmark tests/ops --ignore=tests/ops/test_crash.py

# kill -9 in the middle of every long write, on SQLite and on PostgreSQL (tests/ops/test_crash.py)
test-crash:
	$(if $(SKIP_BUILD),,$(SWIFT) build $(SWIFT_BUILD_FLAGS))
	MUJUN_BIN="$(abspath $(BIN))" $(PYTHON) -m pytest -q -p no:cacheprovider -p no:benchmark tests/ops/test_crash.py

# /openapi.json (openapi-spec-validator, every documented operation answers, every JSON route is
# documented) and schemathesis against /api/v1 as the admin, on a fresh demo database (tests/api,
# tests/api/README.md). The tests start the server (and a new one after a crash) and write its pid
# to $$tmp/serve.pid: it is killed here even on failure. Bounded: about 5 minutes on 2 cores.
test-api:
	$(if $(SKIP_BUILD),,$(SWIFT) build $(SWIFT_BUILD_FLAGS))
	@set -uo pipefail; \
	tmp="$$(mktemp -d /tmp/mujun-api.XXXXXX)"; \
	cleanup() { \
	    if [ -f "$$tmp/serve.pid" ]; then \
	        pid="$$(cat "$$tmp/serve.pid")"; \
	        if kill -0 "$$pid" 2>/dev/null; then \
	            kill "$$pid" 2>/dev/null; \
	            for _ in $$(seq 1 50); do kill -0 "$$pid" 2>/dev/null || break; sleep 0.1; done; \
	            kill -9 "$$pid" 2>/dev/null; \
	        fi; \
	    fi; \
	    rm -rf "$$tmp"; \
	}; \
	trap cleanup EXIT; \
	rm -rf "$(API_REPORT_DIR)"; mkdir -p "$(API_REPORT_DIR)"; \
	MUJUN_BIN="$(abspath $(BIN))" MUJUN_API_WORKDIR="$$tmp" MUJUN_API_REPORT_DIR="$(abspath $(API_REPORT_DIR))" \
	    $(PYTHON) -m pytest -q -p no:cacheprovider -p no:benchmark tests/api; rc=$$?; \
	if [ $$rc -ne 0 ]; then \
	    log="$$(ls -t "$$tmp"/serve-*.log 2>/dev/null | head -n 1)"; \
	    if [ -n "$$log" ]; then echo "---- last lines of the server log ($$(basename "$$log"))"; tail -n 40 "$$log"; fi; \
	fi; \
	echo "test-api: schemathesis output, reports and findings.md in $(API_REPORT_DIR)"; \
	exit $$rc

# ------------------------------------------------------------------ bench
bench: deps
	$(SWIFT) build -c release
	bash bench/run.sh

# Every figure of `make bench` for BASE (a git revision) and for this checkout, in one run,
# side by side with the change in percent; fails when a figure of ours is more than 5 % worse.
# The base is built (release) once in its own worktree, BENCH_BASE_DIR.
BASE ?= HEAD~1
bench-compare: deps
	$(SWIFT) build -c release
	@set -e; rev="$$(git rev-parse --short $(BASE))"; dir="$${BENCH_BASE_DIR:-bench-data/base-$$rev}"; \
	if [ ! -x "$$dir/.build/release/mujun" ]; then \
	    [ -d "$$dir" ] || git worktree add --detach -f "$$dir" "$$rev"; \
	    echo "bench-compare: building $$rev (release) in $$dir"; (cd "$$dir" && $(SWIFT) build -c release); \
	fi; \
	bash bench/compare.sh "$$dir/.build/release/mujun" .build/release/mujun

# ------------------------------------------------------------------ clean
clean:
	-@bash scripts/pg-test-cluster.sh stop
	$(SWIFT) package clean

distclean: clean
	rm -rf data bench-data
