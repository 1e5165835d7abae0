# netguard — every target installs what it needs on a fresh machine.
SHELL := /bin/bash
NODE_MODULES_STAMP := node_modules/.package-lock.json
TAP_FLAGS ?=

.PHONY: deps k8s dataplane-bin dataplane all build test test-unit property run bench soak typecheck clean

all: build

$(NODE_MODULES_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# The vendored Cilium and Calico CRD schemas as JSON for policies/validate/custom-resource.ts (gitignored).
CRD_SCHEMAS := policies/validate/crd-schemas.generated.json
$(CRD_SCHEMAS): $(NODE_MODULES_STAMP) scripts/crd-schemas.mjs $(wildcard manifests/crds/upstream/*/*.yaml)
	node scripts/crd-schemas.mjs

deps: $(NODE_MODULES_STAMP) $(CRD_SCHEMAS)

build: deps
	npx tsc -p tsconfig.json

# kube-apiserver, kube-controller-manager, etcd and kubectl from Go modules, cached outside the repo (rebuilt only when go.sum changes).
k8s:
	test/k8s/build.sh >/dev/null

# kube-router (the NetworkPolicy implementation the dataplane check runs), built from Go modules into the same kind of cache.
dataplane-bin:
	test/dataplane/build.sh >/dev/null

# Real packets through kube-router in network namespaces (root; docs/dataplane.md). NETGUARD_DATAPLANE_CASES (40), NETGUARD_DATAPLANE_SEED.
dataplane: deps k8s dataplane-bin
	node --import tsx test/dataplane/run.ts

# Sources and tests (tap only transpiles, so the tests are type-checked here).
typecheck: deps
	npx tsc -p tsconfig.test.json

test: build typecheck k8s dataplane-bin
	npx tap $(TAP_FLAGS)

test-unit: build
	npx tap $(TAP_FLAGS) test/unit

# The soundness oracle at size (make test runs 6,000 cases); prints its figures and the seed to replay.
property: deps
	NETGUARD_PROPERTY_RUNS=$(or $(RUNS),100000) npx tap --disable-coverage --timeout=0 test/property/soundness.test.ts

run: build k8s
	node dist/test/k8s/run-local.js

# Figures of DESIGN.md section 8, printed as markdown (see bench/RESULTS.md); not a test.
bench: build k8s
	node --import tsx bench/run.ts $(BENCH)

# Ten minutes of steady load with faults injected on loopback; stops by itself.
soak: build k8s
	node --import tsx bench/soak.ts

clean:
	rm -rf dist .tap coverage
