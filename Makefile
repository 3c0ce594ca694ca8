# The front door. `make run` starts the service, `make test` runs the whole suite.
# Settings come from the environment or .env (IID_DATABASE_URL, IID_REDIS_URL, IID_PORT ...).

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
PACKAGES := libs/scoring libs/store services/api services/worker
# Pinned by `make lock`: runtime.txt what the service runs on, dev.txt the tools beside it.
PINS := requirements/runtime.txt requirements/dev.txt
# what `make setup` installs editable: the store with its S3 extra (the tests use it)
INSTALL := libs/scoring libs/store[s3] services/api services/worker
STAMP := $(VENV)/.installed

.PHONY: setup services balancer migrate seed run test bench lint audit format lock clean client

setup: $(STAMP)

# Exactly the pins (no resolving: --no-deps), then the four packages editable; pip check
# finds a dependency a pyproject.toml declares that the pins miss.
$(STAMP): $(PINS) $(addsuffix /pyproject.toml,$(PACKAGES))
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-deps $(addprefix -r ,$(PINS))
	$(BIN)/python -m pip install --quiet --no-deps $(addprefix -e ,$(INSTALL))
	$(BIN)/python -m pip check || { echo "setup: the pins miss a dependency: make lock" >&2; exit 1; }
	touch $(STAMP)

services:
	@bash deploy/local/ensure-services.sh

# HAProxy for the scale-out test: installed from Debian's packages when missing (as root with
# apt-get); where it cannot be, that test is skipped and says why.
balancer:
	@bash deploy/local/ensure-haproxy.sh

migrate: setup services
	$(BIN)/python -m iid_store.db.admin ensure-database
	$(BIN)/alembic upgrade head

seed: migrate
	$(BIN)/python -m iid_store.seed

run: seed
	@bash deploy/local/run.sh

test: setup services balancer
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The national benchmark (docs/benchmarks.md): scoring, full recompute vs SQL, rush, growth.
# It runs on its own private PostgreSQL and Redis; BENCH_ARGS=--quick for a smoke run.
bench: setup
	$(BIN)/python bench/bench_national.py $(BENCH_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy libs/scoring/src libs/store/src services/api/src services/worker/src
	$(BIN)/python requirements/audit.py

# Known vulnerabilities in the pins (also the last step of lint); accepted ones are listed,
# with why, in requirements/audit.py.
audit: setup
	$(BIN)/python requirements/audit.py

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Compile the pins from what is declared (requirements/runtime.in: the four packages;
# requirements/dev.in: the tools, held to the runtime pins). Versions already pinned stay
# unless UPGRADE=1. Needs uv from an earlier `make setup`.
UV_COMPILE = $(BIN)/uv pip compile --quiet --python $(BIN)/python \
	--custom-compile-command "make lock" $(if $(UPGRADE),--upgrade)
lock:
	test -x $(BIN)/uv || $(MAKE) setup
	$(UV_COMPILE) requirements/runtime.in -o requirements/runtime.txt \
	  $(addprefix --no-emit-package ,iid-scoring iid-store iid-api iid-worker)
	$(UV_COMPILE) requirements/dev.in -o requirements/dev.txt

# A typed Python client generated from the OpenAPI document by openapi-python-client, into
# build/client/iid_client (generated on demand, never committed: the document is the source;
# tests/api/test_generated_client.py generates one the same way and drives a year with it).
CLIENT_DIR := build/client
client: setup
	mkdir -p $(CLIENT_DIR)
	$(BIN)/python -m iid_api.openapi_document $(CLIENT_DIR)/openapi.json
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/openapi-python-client generate --meta none --overwrite \
	  --path $(CLIENT_DIR)/openapi.json --output-path $(CLIENT_DIR)/iid_client

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build
