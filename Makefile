# netguard — every target installs what it needs on a fresh machine.
SHELL := /bin/bash
NODE_MODULES_STAMP := node_modules/.package-lock.json
TAP_FLAGS ?=

.PHONY: deps all build test test-unit test-integration test-e2e run bench lint typecheck clean

all: build

$(NODE_MODULES_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: $(NODE_MODULES_STAMP)

build: deps
	npx tsc -p tsconfig.json

typecheck: deps
	npx tsc -p tsconfig.json --noEmit

test: build
	npx tap $(TAP_FLAGS)

test-unit: build
	npx tap $(TAP_FLAGS) test/unit

run: build
	node dist/test/k8s/run-local.js

clean:
	rm -rf dist .tap coverage
