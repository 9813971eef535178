# Every target is phony: make is only the task runner here, go and npm do their own caching.
.DEFAULT_GOAL := help
.PHONY: help assets generate check-generated fmt vet lint test test-short bench run sandbox build tidy clean

BIN  := bin/flinkslink
HTMX := static/lib/htmx.min.js
# mattn/go-sqlite3 is a cgo package.
export CGO_ENABLED := 1

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

assets: $(HTMX) ## install the browser dependencies (htmx from npm) into static/lib
$(HTMX): static/package.json static/package-lock.json
	npm ci --prefix static --no-audit --no-fund --loglevel=error
	mkdir -p static/lib
	cp static/node_modules/htmx.org/dist/htmx.min.js $(HTMX)

generate: ## regenerate the templ components (*_templ.go)
	go tool templ generate -log-level warn

check-generated: ## fail when a committed *_templ.go is stale
	@before=$$(find . -name '*_templ.go' -not -path './static/*' | sort | xargs -r sha256sum); \
	go tool templ generate -log-level warn; \
	after=$$(find . -name '*_templ.go' -not -path './static/*' | sort | xargs -r sha256sum); \
	if [ "$$before" != "$$after" ]; then echo "generated templ code was stale: run 'make generate' and commit"; exit 1; fi

fmt: ## format Go and templ sources
	gofmt -s -w .
	go tool templ fmt .

vet: assets ## go vet
	go vet ./...

lint: assets ## staticcheck
	go tool staticcheck ./...

test: assets check-generated vet lint ## every check and every test (race detector on); the store and fetch suites again on Postgres
	go test -race -count=1 -timeout 20m ./...
	@# The same store and fetch suites on a throwaway Postgres cluster (store/pgtest: Debian's postgresql).
	FLINKSLINK_TEST_DB=postgres go test -race -count=1 -timeout 10m ./store/ ./handlers/fetcher/

bench: assets ## the README's performance figures: load generators and Chromium against a fake Flinks (about 5 minutes)
	go test -c -tags bench -o bin/bench.test .
	go build -o $(BIN) .
	@# The bench runs on CPU 1; the app it measures ($(BIN)) on CPU 0 (one-core figures) or both.
	FLINKSLINK_BENCH_APP=$(CURDIR)/$(BIN) taskset -c 1 bin/bench.test -test.run '^TestBench$$' -test.count=1 -test.timeout 30m

run: assets ## start on http://localhost:8080 with the embedded Flinks sandbox
	go run .

sandbox: assets ## run the Flinks sandbox alone on http://localhost:8081
	go run . sandbox -addr localhost:8081

build: assets ## build the binary into bin/
	go build -o $(BIN) .

tidy: ## go mod tidy
	go mod tidy

clean: ## remove build output, installed assets and local databases
	rm -rf bin static/node_modules data
	rm -f $(HTMX)
