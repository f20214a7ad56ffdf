# Two commands do everything on a fresh machine with Python 3.11 (README "Quick start"):
#   make run    set up, migrate the embedded SQLite database, serve (with the demo)
#   make test   set up, run the whole suite on SQLite, then on PostgreSQL
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make run PORT=8001 BANK_PORT=8901`: the API's port and the demo bank simulator's
PORT ?= 8000
BANK_PORT ?= 8900
# The suite runs on two pytest-xdist workers (`make test PYTEST_WORKERS=4` for more), a test
# file's tests on one worker (module fixtures, e.g. the README tour's demo, built once); each
# worker has its own databases (tests/support/databases.py).
PYTEST_WORKERS ?= 2
XDIST := -n $(PYTEST_WORKERS) --dist loadfile

.PHONY: install browser run serve test test-sqlite test-postgres lint screenshots clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or later is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)
	@echo "installed; to have \`fundledger\` on the PATH: source $(VENV)/bin/activate"

install: $(STAMP)

# The browser tests and screenshots drive Debian's Chromium by path and need the Noto CJK fonts
# (Chinese text). Installed from Debian's packages when missing; no browser download ever.
browser:
	@if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -q 'Noto Sans CJK'; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing chromium and fonts-noto-cjk with apt"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	else echo "*** chromium or fonts-noto-cjk missing: apt-get install chromium fonts-noto-cjk"; fi

run: install
	$(BIN)/fundledger serve --demo --port $(PORT) --bank-port $(BANK_PORT)

serve: install
	$(BIN)/fundledger serve --port $(PORT)

test: install browser
	$(BIN)/python -m pytest -q $(XDIST)
	$(BIN)/python tools/test_postgres.py $(XDIST)

test-sqlite: install browser
	$(BIN)/python -m pytest -q $(XDIST)

test-postgres: install
	$(BIN)/python tools/test_postgres.py $(XDIST)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check app jobs tests bench tools
	$(BIN)/mypy app jobs

# A PNG of every console page of the demo, into docs/screenshots/.
screenshots: install browser
	$(BIN)/python tools/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache fundledger.db*
