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

.PHONY: all setup component build guests serve test unit integration lint fmt clean

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

test: build unit integration

unit:
	$(CARGO) test --release --lib -p sandserve
	$(CARGO) test --release -p sandserve-host

# Test-only guest components, in a workspace of their own.
guests: setup
	$(CARGO) build --release --target wasm32-wasip2 \
	  --manifest-path tests/guests/faulty/Cargo.toml --target-dir target/guests

integration: build guests
	SANDSERVE_BIN=$(CURDIR)/$(HOST) $(CARGO) test --release -p sandserve --tests

lint: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --all-targets -p sandserve -p sandserve-host -- -D warnings
	$(CARGO) clippy --release --target wasm32-wasip2 -p sandserve -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
