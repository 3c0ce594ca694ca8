# The front door. `make run` starts the service, `make test` runs the whole suite.
# Settings come from the environment or .env (IID_DATABASE_URL, IID_REDIS_URL, IID_PORT ...).

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
PACKAGES := libs/scoring libs/store services/api services/worker
# what `make setup` installs editable: the store with its S3 extra (the tests use it)
INSTALL := libs/scoring libs/store[s3] services/api services/worker
STAMP := $(VENV)/.installed

.PHONY: setup services migrate seed run test bench lint format lock clean

setup: $(STAMP)

$(STAMP): constraints.txt requirements-dev.txt $(addsuffix /pyproject.toml,$(PACKAGES))
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt $(addprefix -e ,$(INSTALL)) -r requirements-dev.txt
	touch $(STAMP)

services:
	@bash deploy/local/ensure-services.sh

migrate: setup services
	$(BIN)/python -m iid_store.db.admin ensure-database
	$(BIN)/alembic upgrade head

seed: migrate
	$(BIN)/python -m iid_store.seed

run: seed
	@bash deploy/local/run.sh

test: setup services
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The national benchmark (docs/benchmarks.md): scoring, full recompute vs SQL, rush, growth.
# It runs on its own private PostgreSQL and Redis; BENCH_ARGS=--quick for a smoke run.
bench: setup
	$(BIN)/python bench/bench_national.py $(BENCH_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy libs/scoring/src libs/store/src services/api/src services/worker/src

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lock: setup
	( echo "# Exact versions CI tested; \`make setup\` installs with -c constraints.txt."; \
	  echo "# Regenerate: make lock"; \
	  $(BIN)/python -m pip freeze --exclude-editable | grep -v '^iid-' ) > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
