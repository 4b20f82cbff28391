# Two commands set everything up on a fresh clone: `make synth`, then `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SCAN_VENV := .venv-scan
CHECKOV_VERSION := 3.3.30
STAMP := $(VENV)/.installed-stamp

# jsii (under cdktf) prints a large end-of-life banner on Node 20 at every start.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Without bytecode caches pytest rewrites (and Python compiles) every test module again in each
# worker at each start: ~10 s of CPU per worker here. __pycache__ is in .gitignore, never
# packaged (stacks/packaging.py) and no input of the no-op synth (staticip/synth_cache.py).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: install synth test e2e bench lint format scan scan-tools chart docs clean

install: $(STAMP)

# --no-compile: pip would compile every module it installs, ~35 of an install's ~55 s of CPU
# here (the provider bindings alone are ~490 MB of Python); Python compiles, and caches, the few
# that a synthesis, a test or a scan imports when it first imports them.
$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --no-compile --require-virtualenv -r requirements.lock
	$(PY) -m pip install --quiet --no-compile --require-virtualenv --no-deps -e .
	touch $@

synth: $(STAMP)
	$(PY) main.py

# The offline suite; what drives a real `terraform` binary, or costs a second eager synthesis
# (marker `slow`), is `make e2e`. CI (.ci/run) runs both. One pytest worker per core (at most
# 4): each synthesis is made once for the run (`built_once`), and moto state is per process.
test: $(STAMP)
	$(PY) -m pytest -m "not terraform and not slow" -n auto --maxprocesses 4

# Real terraform + the AWS provider from a local mirror (STATICIP_TF_PLUGIN_DIR) against moto,
# and the lazy-vs-eager provider bindings comparison. Two pytest workers per core, each with its
# own moto server: the tests wait on the provider for much of their time (5 s after each new
# Lambda function, 10 s after a VPC's DNS attribute), and more tests at once fill those waits.
# On 2 cores, beside `make test` as .ci/run runs them: 244 s with four workers, 253 s with
# three (one run each; before the shared provider below, 269 s with four, 285 s with three,
# 287 s with five). One Terraform plugin cache for all, and in each work directory one AWS
# provider server that its commands attach to (tests/tfharness.py). The longest tests start
# first, each on its own worker (tests/conftest.py); `loadgroup` hands out one test at a time
# as workers free up (no test is in a group: pytest-xdist 3.8 cannot group under pytest 9.2).
# What several tests read (a synthesis, a `terraform validate` of many stacks) is made once
# for the run (`built_once`).
E2E_WORKERS ?= $(shell $(PYTHON) -c "import os; n = len(os.sched_getaffinity(0)) \
	if hasattr(os, 'sched_getaffinity') else os.cpu_count(); print(n * 2)")
e2e: $(STAMP) $(SCAN_VENV)/bin/checkov
	$(PY) -m pytest -m "terraform or slow" -n $(E2E_WORKERS) --dist loadgroup

# Bare provider import, each stage of .ci/run (`make install` into a new virtualenv, `make
# synth` with its inputs changed and with nothing changed, `make test`, `make e2e`, `make lint`,
# `make scan`), `.ci/run` itself and a `terraform plan` of the dev stack against moto: medians of
# 3 side by side (about 27 minutes here; BENCH_ARGS="--runs 1", or "--skip .ci/run --skip make
# e2e").
BENCH_ARGS ?=
bench: $(STAMP)
	$(PY) scripts/bench.py $(BENCH_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The configuration reference, generated from the schema (a test fails when it is stale).
docs: $(STAMP)
	$(PY) -m staticip.config_reference docs/configuration.md

# The cost chart README.md embeds, from staticip.toml and staticip/prices.toml.
chart: synth
	$(PY) -m staticip cost --chart docs/cost.svg > /dev/null

# checkov pins an old boto3, so it gets a virtualenv of its own.
scan-tools: $(SCAN_VENV)/bin/checkov

$(SCAN_VENV)/bin/checkov:
	$(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/pip install --quiet --no-compile checkov==$(CHECKOV_VERSION)

# checkov reads a copy without the `removed` blocks it cannot parse (staticip/scan_input.py);
# CKV_PARSE_ERROR_FAIL fails the scan on any file it still cannot read.
scan: $(SCAN_VENV)/bin/checkov synth
	$(PY) -m staticip.scan_input cdktf.out/stacks .scan-input
	CKV_PARSE_ERROR_FAIL=true $(SCAN_VENV)/bin/checkov --config-file .checkov.yaml --directory .scan-input

clean:
	rm -rf cdktf.out .scan-input $(VENV) $(SCAN_VENV) .pytest_cache .ruff_cache
