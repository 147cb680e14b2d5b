# Two commands matter: `make run` and `make test`. Both bootstrap .venv on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PO     := $(wildcard locales/*/LC_MESSAGES/messages.po)
MO     := $(PO:.po=.mo)

.PHONY: lock run test lint typecheck pytest test-postgres locales extract update-catalogs bench clean chromium

# Every Python package (the build backend included) comes from requirements.lock, pinned with
# hashes: a fresh machine installs exactly what CI tested. `make lock` refreshes it.
LOCK   := requirements.lock
$(STAMP): $(LOCK) pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "trajectbot needs Python 3.11 or newer ($(PYTHON) is older)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

# Resolve the newest versions pyproject.toml allows and pin them, with hashes, in the lock file.
# Upgrade one package: make lock LOCK_ARGS="--upgrade-package babel"; all: LOCK_ARGS=--upgrade.
# (pip-tools itself comes from the current lock; the project is not installed for this, so a
# dependency just added to pyproject.toml does not stop it.)
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --all-build-deps --extra dev \
		--strip-extras --no-emit-index-url --no-emit-find-links $(LOCK_ARGS) \
		--output-file=$(LOCK) pyproject.toml

# The Bot API emulator for tests/e2e (npm `telegram-test-api`) and axe-core for the browser
# tests' accessibility checks (tests/support/axe.py), pinned in package-lock.json.
# npm ci rewrites node_modules/.package-lock.json, so this reruns only when the lock changes.
NODE_STAMP := node_modules/.package-lock.json
$(NODE_STAMP): package-lock.json package.json
	@command -v node >/dev/null && command -v npm >/dev/null \
		|| { echo "make test needs Node.js 18+ and npm for the end-to-end tests (tests/e2e): install them (Debian: apt-get install nodejs npm)"; exit 1; }
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

# The browser tests inject this file; a node_modules/ older than axe-core is installed again.
AXE := node_modules/axe-core/axe.min.js
$(AXE): $(NODE_STAMP)
	@test -f $@ || { npm ci --no-audit --no-fund && touch $(NODE_STAMP); }

# Headless Chromium for the browser tests (tests/web): the system's own package, driven by the
# playwright Python package through its executable path (never `playwright install`).
CHROMIUM ?= /usr/bin/chromium
$(CHROMIUM):
	@command -v apt-get >/dev/null \
		|| { echo "make test needs Chromium at $(CHROMIUM) for the browser tests (Debian: apt-get install chromium)"; exit 1; }
	@[ "$$(id -u)" = 0 ] && SUDO= || SUDO=sudo; \
		$$SUDO apt-get update && $$SUDO apt-get install -y chromium chromium-driver

chromium: $(CHROMIUM)

# Compiled catalogs are build output (.gitignore'd); msgfmt-equivalent checks run in the tests.
locales/%/LC_MESSAGES/messages.mo: locales/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --domain=messages --input-file=$< --output-file=$@ --locale=$*

locales: $(MO)

run: $(STAMP) locales
	$(BIN)/trajectbot init
	$(BIN)/trajectbot demo-data --if-empty --with-appointments --with-surveys
	$(BIN)/trajectbot run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy .

# The suite runs on every core (pytest-xdist; each worker has its own template database).
# One process: make test PYTEST_WORKERS=0.
PYTEST_WORKERS ?= auto
pytest: $(STAMP) locales $(NODE_STAMP) $(AXE) $(CHROMIUM)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal

test: lint typecheck pytest

# PostgreSQL part of the suite: a fresh database per run on 127.0.0.1:5432 (trust auth).
PG_HOST ?= 127.0.0.1
PG_PORT ?= 5432
PG_USER ?= postgres
test-postgres: $(STAMP) locales $(NODE_STAMP) $(AXE) $(CHROMIUM)
	@db=trajectbot_test_$$(date +%s)_$$$$; \
	createdb -h $(PG_HOST) -p $(PG_PORT) -U $(PG_USER) "$$db" || { echo "PostgreSQL is not reachable on $(PG_HOST):$(PG_PORT)"; exit 1; }; \
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal -m postgres --postgres-url="postgresql+asyncpg://$(PG_USER)@$(PG_HOST):$(PG_PORT)/$$db"; rc=$$?; \
	dropdb -h $(PG_HOST) -p $(PG_PORT) -U $(PG_USER) --if-exists "$$db"; exit $$rc

extract: $(STAMP)
	$(BIN)/python -m tools.i18n extract

# Brings every catalog in line with the code (LANGS="xx" adds new ones); then translate.
update-catalogs: $(STAMP)
	$(BIN)/python -m tools.i18n update $(LANGS)

bench: $(STAMP) locales
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache locales/*/LC_MESSAGES/*.mo
