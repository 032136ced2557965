# Weir build targets. `make test` is the command README.md gives and .ci/run runs.
GO ?= go
PKGS := ./...

.PHONY: test race bench lint fuzz build

build:
	$(GO) build -o bin/weir ./cmd/weir

# The full test suite: vet, unit and integration tests, and the race detector
# over the runtime packages.
test:
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -timeout 15m $(PKGS)
	$(GO) test -count=1 -race -timeout 15m ./internal/... .

race:
	$(GO) test -count=1 -race -timeout 20m $(PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem -timeout 30m $(PKGS)

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet $(PKGS)

fuzz:
	@echo "fuzz targets: see docs/testing.md"
