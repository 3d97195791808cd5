# Taskdesk: two commands on a fresh machine with Python 3.11+.
#   make run   - virtualenv, install, migrate, seed the demo data, serve on :6543
#                (make run PORT=8080 serves on another port)
#   make test  - virtualenv, install, ruff, mypy, the whole pytest suite (SQLite + PostgreSQL)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
INI    ?= development.ini
PORT   ?= 6543
STAMP  := $(VENV)/.installed

# Pyramid 2.1 still imports pkg_resources; its deprecation notice is not ours to act on.
export PYTHONWARNINGS := ignore:pkg_resources is deprecated as an API:UserWarning

.PHONY: install run serve migrate seed test lint typecheck pytest catalogs clean

$(STAMP): setup.py constraints.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Taskdesk needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "pip>=23.2,<26" "setuptools>=69,<81" wheel
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[testing]"
	touch $@

install: $(STAMP) catalogs

catalogs: $(STAMP)
	$(BIN)/python -m taskdesk.i18n compile

migrate: install
	mkdir -p var
	$(BIN)/taskdesk $(INI) migrate

seed: migrate
	$(BIN)/taskdesk $(INI) seed-demo

# development.ini takes its port from the http_port variable (see its [server:main]).
# One worker beside the web server delivers notifications and runs the periodic jobs.
# Ctrl-C stops both; the trap stops the worker however the server ends (no orphan).
run: seed
	@trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(BIN)/taskdesk $(INI) worker --workers 1 & worker=$$!; \
	$(BIN)/pserve $(INI) http_port=$(PORT)

lint: $(STAMP)
	$(BIN)/ruff check src tests alembic benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy src

# -m "" selects every test, the slow and browser ones a plain `pytest` leaves out.
pytest: install
	$(BIN)/python -m pytest -m "" $(PYTEST_ARGS)

test: lint typecheck pytest

clean:
	rm -rf $(VENV) var build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
