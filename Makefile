# sandserve: `make serve` serves a directory, `make test` runs every test.
# Outputs: target/wasm32-wasip2/release/sandserve.wasm (component), target/release/sandserve (host).

SHELL := /bin/bash
CARGO ?= cargo
DIR ?= .
PORT ?= 8000

# Paths are fixed so the tests and the docs can name them; CI makes target/ a link to a cache.
export CARGO_TARGET_DIR := $(CURDIR)/target
WASM := target/wasm32-wasip2/release/sandserve.wasm
HOST := target/release/sandserve
# The host embeds the component built just before it: no cargo inside cargo.
export SANDSERVE_COMPONENT := $(CURDIR)/$(WASM)

.PHONY: all setup component build guests serve test test-deps unit integration lint fmt clean fuzz soak wrk bench bench-deps test-hosts hakari test-cluster cluster-tools oci

all: build

setup:
	@rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2

component: setup
	CARGO_PROFILE_RELEASE_LTO=true CARGO_PROFILE_RELEASE_STRIP=true \
	  $(CARGO) build --release --target wasm32-wasip2 -p sandserve

build: component
	$(CARGO) build --release -p sandserve-host

serve: build
	$(HOST) $(DIR) --port $(PORT)

# Rust's test harness reports a skipped test as passed, so skip_unless! (tests/common/skip.rs)
# also lists each skip in $(SKIPS); the test targets clear it first and print it at the end,
# whether the run passed or not.
SKIPS := target/test-skips.txt
SKIP_REPORT = echo "skipped tests: $$(cat $(SKIPS) 2>/dev/null | wc -l)"; cat $(SKIPS) 2>/dev/null || true

test: build test-deps
	@rm -f $(SKIPS)
	@$(MAKE) --no-print-directory unit integration; status=$$?; $(SKIP_REPORT); exit $$status

# Chromium drives the browser tests, and Playwright's driver (npm playwright-core, no browser
# download) uploads through a form; curl sends the upload tests' PUTs; unzip and bsdtar read
# back zip downloads; rclone (over FUSE, fuse3) and litmus speak WebDAV. One apt-get update,
# only when something is missing; tests that lack a tool say so and are listed.
TEST_TOOLS := chromium:chromium curl:curl unzip:unzip bsdtar:libarchive-tools rclone:rclone fusermount3:fuse3 litmus:litmus cadaver:cadaver
PLAYWRIGHT = $(TOOLS)/playwright
test-deps:
	@missing=""; for t in $(TEST_TOOLS); do command -v $${t%%:*} >/dev/null || missing="$$missing $${t#*:}"; done; \
	if [ -n "$$missing" ]; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	    || echo "WARNING: could not install$$missing; the tests that need them will be skipped"; \
	fi
	@test -d $(PLAYWRIGHT)/node_modules/playwright-core || (mkdir -p $(PLAYWRIGHT) && cd $(PLAYWRIGHT) && \
	  npm install --no-audit --no-fund --loglevel=error playwright-core@1.64.1 >/dev/null) || \
	  echo "WARNING: playwright-core not installed; the browser upload test will be skipped"

unit: guests
	$(CARGO) test --release --lib -p sandserve

# Test-only guest components, in a workspace of their own.
guests: setup
	$(CARGO) build --release --target wasm32-wasip2 \
	  --manifest-path tests/guests/faulty/Cargo.toml --target-dir target/guests

# The component's black-box tests on the native host, then the host's own tests (its flags,
# limits, start-up, fault guests, embedding), which find its binary through
# CARGO_BIN_EXE_sandserve and need the guests.
integration: build guests
	SANDSERVE_BIN=$(CURDIR)/$(HOST) SANDSERVE_PLAYWRIGHT_DIR=$(PLAYWRIGHT) $(CARGO) test --release -p sandserve --tests
	$(CARGO) test --release -p sandserve-host

# Fuzz each target for FUZZ_SECONDS (nightly + cargo-fuzz; the committed corpus seeds it).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := path route range headers xmlrpc multipart propfind
fuzz:
	@if ! cargo +nightly --version >/dev/null 2>&1; then \
	  echo "SKIP fuzz: no nightly toolchain on this machine (cargo fuzz needs one)"; exit 0; fi; \
	command -v cargo-fuzz >/dev/null || CARGO_TARGET_DIR=$(CURDIR)/target/tools $(CARGO) install cargo-fuzz --locked
	@for t in $(FUZZ_TARGETS); do \
	  work=$$(mktemp -d); \
	  (cd fuzz && CARGO_TARGET_DIR=$(CURDIR)/target/fuzz cargo +nightly fuzz run $$t $$work corpus/$$t -- \
	    -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 2>&1 | tee $$work.log | tail -n 3) || exit 1; \
	  echo "fuzz $$t: $$(grep -o 'stat::number_of_executed_units: *[0-9]*' $$work.log | grep -o '[0-9]*$$') executions"; \
	  rm -rf $$work $$work.log; \
	done

# The same black-box tests against the other hosts the component runs on.
TOOLS ?= $(HOME)/.cache/sandserve-tools
WASMTIME := $(TOOLS)/bin/wasmtime
JCO := $(TOOLS)/jco/node_modules/@bytecodealliance/jco/dist/jco.js

$(WASMTIME):
	CARGO_TARGET_DIR=$(CURDIR)/target/tools $(CARGO) install --locked wasmtime-cli --version 48.0.8 \
	  --no-default-features --root $(TOOLS) \
	  --features serve,run,cranelift,parallel-compilation,pooling-allocator,component-model-async

$(JCO):
	mkdir -p $(TOOLS)/jco
	cd $(TOOLS)/jco && npm install --no-audit --no-fund --loglevel=error @bytecodealliance/jco@1.35.0

# One compiled wasmtime for every build: the host and the testkit depend on workspace-hack/,
# which cargo-hakari writes from every member's dependencies, dev ones included, so
# `make serve`, the unit tests and the host's tests resolve the same features for each crate.
# After changing a dependency, `make hakari` rewrites it; `make lint` checks it is current.
HAKARI := $(TOOLS)/bin/cargo-hakari
$(HAKARI):
	CARGO_TARGET_DIR=$(CURDIR)/target/tools $(CARGO) install --locked cargo-hakari --version 0.9.39 \
	  --root $(TOOLS)

hakari: $(HAKARI)
	$(HAKARI) generate
	$(HAKARI) manage-deps --yes

test-hosts: build $(WASMTIME) $(JCO)
	@rm -f $(SKIPS)
	SANDSERVE_TEST_HOST=wasmtime SANDSERVE_WASMTIME=$(WASMTIME) \
	  $(CARGO) test --release -p sandserve --tests \
	&& SANDSERVE_TEST_HOST=jco SANDSERVE_JCO_DIR=$(TOOLS)/jco \
	  $(CARGO) test --release -p sandserve --tests -- --test-threads=2; \
	status=$$?; $(SKIP_REPORT); exit $$status

# The component on a two-node wasmCloud lattice on loopback, behind an nginx balancer: the
# black-box tests through it, then node loss, a rolling update and the sandbox
# (tests/cluster/). Every pin and the placement message are in examples/wasmcloud/lattice.py,
# which installs its tools into the tools dir.
LATTICE := python3 examples/wasmcloud/lattice.py
cluster-tools:
	$(LATTICE) tools $(TOOLS)/wasmcloud

test-cluster: build cluster-tools
	@rm -f $(SKIPS)
	SANDSERVE_TOOLS=$(TOOLS) python3 tests/cluster/run.py --cargo-tests; \
	status=$$?; $(SKIP_REPORT); exit $$status

# Publishes the component as an OCI artifact, REGISTRY/sandserve:TAG, through `wash oci push`,
# with the version, source, revision and WASI version written into the component's metadata,
# which wash turns into org.opencontainers.image.* annotations. INSECURE=1 for a plain-HTTP
# registry such as the tests' own.
REGISTRY ?=
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
TAG ?= $(VERSION)
# The source must be a URL (wash parses it): the git remote when it is one, else this checkout.
SOURCE ?= $(shell git remote get-url origin 2>/dev/null | grep -E '^https?://' || echo file://$(CURDIR))
oci: component cluster-tools
	@test -n "$(REGISTRY)" || { echo "usage: make oci REGISTRY=HOST[:PORT] [TAG=$(VERSION)] [INSECURE=1]" >&2; exit 2; }
	$(LATTICE) push $(REGISTRY) $(WASM) $(TAG) --version $(VERSION) --source "$(SOURCE)" \
	  --revision "$$(git rev-parse HEAD)" $(if $(INSECURE),--insecure)

# Sustained load plus 1000 idle connections; CI runs a shorter one.
SOAK_ARGS ?= --seconds 60 --connections 256 --idle 1000
soak: build wrk
	python3 bench/soak.py $(SOAK_ARGS)

wrk:
	@command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)

# Peers for the benchmark: nginx from Debian, static-web-server (a Rust server our users
# would pick instead) built once into the tools dir; wasmtime serve when installed. Its load
# generators: wrk for HTTP/1.1 and h2load (Debian nghttp2-client) for HTTP/2, which wrk
# cannot speak. One apt-get update, only when one of wrk, nginx and h2load is missing.
SWS := $(TOOLS)/bin/static-web-server
$(SWS):
	CARGO_TARGET_DIR=$(CURDIR)/target/tools $(CARGO) install --locked static-web-server \
	  --version 2.44.1 --root $(TOOLS)

bench-deps: $(SWS) cluster-tools
	@missing=""; for t in wrk:wrk nginx:nginx-light h2load:nghttp2-client; do \
	  command -v $${t%%:*} >/dev/null || missing="$$missing $${t#*:}"; done; \
	if [ -n "$$missing" ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

BENCH_ARGS ?= --seconds 5 --rounds 2
bench: build guests bench-deps
	PATH="$(TOOLS)/bin:$$PATH" python3 bench/run.py $(BENCH_ARGS)

lint: component $(HAKARI)
	$(HAKARI) verify
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --all-targets -p sandserve -p sandserve-host -p sandserve-testkit -- -D warnings
	$(CARGO) clippy --release --target wasm32-wasip2 -p sandserve -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
