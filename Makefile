# orderflow: `make run` runs one order locally, `make test` runs everything.
# Needs only Rust, Python 3 and the package registries: everything else is
# installed here, into .venv/ and target/.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
# cargo-lambda finds zig only when the virtualenv's bin/ comes first on PATH.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export MOTO_SERVER := $(CURDIR)/$(VENV)/bin/moto_server
EMULATOR := target/debug/orderflow-emulator

WATCH_PORT ?= 9000
EMULATOR_PORT ?= 5055
FN ?= validate_data
EVENT ?= events/order-valid.json
ORDER ?= events/order-valid.json
FUNCTIONS := validate_data process_order send_notification

HAVE_NEXTEST := $(shell cargo nextest --version >/dev/null 2>&1 && echo yes)

.PHONY: help venv build run test lint fmt unit-test watch-smoke watch invoke lambda-build clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): tools/requirements.txt tools/requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --disable-pip-version-check --quiet -r tools/requirements.txt -c tools/requirements.lock
	touch $@

venv: $(STAMP) ## install the pinned Python tools (moto, cargo-lambda, zig) into .venv/

build: ## build the workspace (debug)
	cargo build --workspace

run: venv build ## run events/order-valid.json (or ORDER=file) through the three functions, locally
	$(VENV)/bin/python tools/run_local.py $(EMULATOR) $(ORDER)

test: venv lint unit-test watch-smoke ## fmt, clippy, every test, and the cargo lambda watch smoke test

lint: ## cargo fmt --check and clippy with warnings denied
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt: ## format the code
	cargo fmt --all

unit-test: venv ## the Rust test suite (unit, property, emulator and runtime-API tests)
ifeq ($(HAVE_NEXTEST),yes)
	cargo nextest run --workspace --no-fail-fast
else
	cargo test --workspace --no-fail-fast
endif

watch-smoke: venv build ## invoke each function through cargo lambda watch with the sample events
	$(VENV)/bin/python tools/watch_smoke.py $(EMULATOR)

watch: venv build ## cargo lambda watch on 127.0.0.1:$(WATCH_PORT) against the local emulator
	$(EMULATOR) --port $(EMULATOR_PORT) -- cargo-lambda lambda watch --invoke-address 127.0.0.1 --invoke-port $(WATCH_PORT)

invoke: venv ## invoke FN with EVENT through a running `make watch`
	cargo-lambda lambda invoke $(FN) --invoke-address 127.0.0.1 --invoke-port $(WATCH_PORT) --data-file $(EVENT)

lambda-build: venv ## release arm64 builds of the three functions, for provided.al2023
	cargo-lambda lambda build --release --arm64 $(addprefix --package ,$(FUNCTIONS))

clean: ## remove build output and the virtualenv
	cargo clean
	rm -rf $(VENV)
