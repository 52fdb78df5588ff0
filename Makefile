# The one test command: `make test`. It checks formatting, vets both
# modules, runs every test with the race detector, fuzz seed corpora
# included, and runs again without it the tests that count allocations
# (named ...Allocates...), which the race detector's instrumentation
# changes. Tests that need PostgreSQL or Redis read SUNDIAL_TEST_POSTGRES_URL
# and SUNDIAL_TEST_REDIS_URL; `make services` starts (or installs) both.

GO ?= go
GOFILES = $(shell git ls-files '*.go' 2>/dev/null || find . -name '*.go')

.PHONY: test fmt vet race allocs bench-vet services build

test: fmt vet bench-vet race allocs

fmt:
	@out=$$(gofmt -l $(GOFILES)); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

bench-vet:
	cd bench && $(GO) vet ./...

race:
	$(GO) test -race -count=1 -timeout 12m ./...

allocs:
	$(GO) test -count=1 -run Allocates ./...

services:
	./scripts/services.sh

build:
	$(GO) build -o bin/sundial ./cmd/sundial
