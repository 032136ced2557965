# Weir build targets. `make test` is the command README.md gives and .ci/run runs.
GO ?= go
PKGS := ./...

.PHONY: test quick bench lint fuzz build services browser

# The servers the connector tests talk to (PostgreSQL, MariaDB, Redis,
# Mosquitto, NATS, RabbitMQ on 127.0.0.1): started, installed with apt-get
# where missing, and configured (PostgreSQL's wal_level=logical, MariaDB's
# binary log) by scripts/test-services.sh.
services:
	@./scripts/test-services.sh

# What the web UI's browser test needs (Chromium, Node, web/node_modules):
# installed where missing by scripts/test-browser.sh.
browser:
	@./scripts/test-browser.sh

build:
	$(GO) build -o bin/weir ./cmd/weir

# The full test suite: vet, then every test under the race detector
# (unit, script, same-answer, crash tests with child processes).
# go vet takes build flags: with -race it type-checks against the same
# race-instrumented compilation that go test -race then reuses from the
# build cache, instead of compiling every package a second time.
# The test binaries are linked without symbol table and DWARF (-s -w):
# that halves the link of each of the ~70 race-instrumented binaries
# (nexmark's: 11 to 6 CPU seconds), and stack traces and race reports
# read the pclntab, which stays. The crash tests' child binaries are
# built the same way (internal/crashtest.BuildFlags).
TESTLDFLAGS := '-ldflags=-s -w'
test: services browser
	$(GO) vet -race $(PKGS)
	WEIR_REQUIRE_BROWSER=1 $(GO) test -count=1 -race $(TESTLDFLAGS) -timeout 20m $(PKGS)

# The suite without the race detector (faster, for quick iterations).
quick: services
	$(GO) test -count=1 $(TESTLDFLAGS) -timeout 15m $(PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem -timeout 30m $(PKGS)

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet $(PKGS)

# Every fuzz target of the module (every `func Fuzz` of a tracked
# *_test.go), each for FUZZTIME (default 10s: 66 targets, a quarter of an hour or
# so in all). FUZZFLAGS adds flags, e.g. FUZZFLAGS='-parallel 1'.
# Inputs that failed are kept in the package's testdata/fuzz/<target>/
# and run as regression tests by `go test`.
FUZZTIME ?= 10s
FUZZFLAGS ?=
fuzz:
	@for f in $$(grep -l '^func Fuzz' $$(git ls-files '*_test.go')); do \
		d=./$$(dirname $$f); \
		for t in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$f | cut -d' ' -f2); do \
			echo "$$d $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $(FUZZFLAGS) $$d || exit 1; \
		done; \
	done
