# FraiseQL's front door. `make help` lists the targets.
PYTHON ?= python3
PYTEST_WORKERS ?= 2

.PHONY: help setup dev demo test test-python test-rust bench lint clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

setup: ## install everything the project needs (Python packages, the Rust extension, checks)
	bash .ci/setup

dev: ## rebuild and reinstall the Rust extension after a Rust change (editable install)
	$(PYTHON) -m pip install -e '.[dev]' --no-build-isolation --no-deps -q

demo: setup ## start a throwaway PostgreSQL, load the blog example, serve it, print a query's answer
	fraiseql demo

test: setup test-rust test-python ## set up and run every test (Rust and Python)

test-python: ## the Python suite (unit, integration) on pytest-xdist
	$(PYTHON) -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider

# Plain cargo builds link libpython and use other flags than maturin's extension build:
# they get their own target directory so `pip install -e .` never picks one up.
CARGO_TEST_ENV = CARGO_TARGET_DIR=target/cargo-test PYO3_PYTHON=$(shell command -v $(PYTHON))

test-rust: ## the Rust unit tests of fraiseql_rs
	$(CARGO_TEST_ENV) cargo test --manifest-path fraiseql_rs/Cargo.toml --lib --quiet

# The same commands as the "reproduce:" lines of benchmarks/RESULTS.md.
bench: ## pipeline (on the example's v_post), auth and RBAC benchmarks, written to benchmarks/RESULTS.md
	$(PYTHON) benchmarks/pipeline/bench_pipeline.py --example
	$(PYTHON) benchmarks/auth/bench_auth.py
	$(PYTHON) benchmarks/rbac/bench_rbac.py

bench-e2e: ## FraiseQL vs Strawberry vs PostGraphile over HTTP (wrk), written to benchmarks/RESULTS.md
	$(PYTHON) benchmarks/e2e/bench_e2e.py --write

lint: ## static checks
	$(PYTHON) -m compileall -q fraiseql chaos examples
	$(CARGO_TEST_ENV) cargo clippy --manifest-path fraiseql_rs/Cargo.toml --quiet

clean: ## remove build outputs
	rm -rf target build dist *.egg-info fraiseql/*.so
