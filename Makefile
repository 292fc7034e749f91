# PrintDesk: `make run` starts the app, `make test` installs what the tests need and runs them.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:
.DEFAULT_GOAL := run
MAKEFLAGS += --no-builtin-rules

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Touched after a successful install: the venv is rebuilt only when pyproject.toml changes.
VENV_STAMP := $(VENV)/.printdesk-installed

CURA_DIR := .cache/cura
CURA_RESOURCES := $(CURDIR)/$(CURA_DIR)/usr/share/cura/resources
CURA_STAMP := $(CURA_DIR)/usr/share/cura/resources/definitions/creality_ender3.def.json

PYINSTALLER_PIN := pyinstaller==6.22.3

# mypy refuses a folder without Python files: check the ones that have some.
MYPY_DIRS := $(shell for d in core workers desktop relay cli migrations tests bench; do \
	if [ -n "$$(find $$d -name '*.py' -print -quit 2>/dev/null)" ]; then echo $$d; fi; done)

.PHONY: venv .venv run system-deps cura lint test bench bundle bundle-test clean distclean

venv .venv: $(VENV_STAMP)

$(VENV_STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
		echo "PrintDesk needs Python 3.11 or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)." >&2; \
		echo "Run make with PYTHON=/path/to/python3.11 (or newer)." >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
		echo "Could not create $(VENV): on Debian/Ubuntu install python3-venv first." >&2; \
		rm -rf $(VENV); exit 1; }
	@echo "Installing PrintDesk and its development tools into $(VENV) ..."
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[desktop,dev]'
	@touch $@

run: $(VENV_STAMP)
	$(BIN)/printdesk

system-deps:
	@bash scripts/setup-system.sh

# Cura's definitions, quality and material profiles, unpacked from Debian packages.
cura: $(CURA_STAMP)

$(CURA_STAMP): scripts/fetch-cura-resources.sh
	@bash scripts/fetch-cura-resources.sh $(CURA_DIR) || { \
		if [ "$$(id -u)" -ne 0 ]; then \
			echo "Fetching Cura's resources failed; as root, run 'apt-get update' and try again." >&2; \
			exit 1; fi; \
		echo "apt-get download failed; refreshing the package lists once and retrying."; \
		apt-get update -qq && bash scripts/fetch-cura-resources.sh $(CURA_DIR); }
	@touch $@

lint: $(VENV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(MYPY_DIRS)
	$(BIN)/lint-imports

# pytest-xvfb starts an Xvfb display for the run; plain widget tests use the offscreen
# platform (tests/gui/conftest.py), the 3D view needs xcb on that display: the Qt platform is
# chosen once per process, so tests/gui3d runs in a second pytest.
# Each run gets its own temp folder: run as root, the embedded PostgreSQL runs as another
# user, and a second pytest starting meanwhile makes /tmp/pytest-of-root private again,
# which cuts the first run's server off from its data.
# pytest exits 5 when it collected no tests: that is not a failure.
test: $(VENV_STAMP) system-deps cura lint
	@tmp=$$(mktemp -d /tmp/printdesk-test.XXXXXX); trap 'rm -rf "$$tmp"' EXIT; \
	PRINTDESK_CURA_RESOURCES=$(CURA_RESOURCES) $(BIN)/python -m pytest --xvfb-backend=xvfb \
		--ignore=tests/gui3d --basetemp="$$tmp/pytest" --durations=10 \
		|| { rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests."; else exit $$rc; fi; }; \
	QT_QPA_PLATFORM=xcb PRINTDESK_CURA_RESOURCES=$(CURA_RESOURCES) $(BIN)/python -m pytest \
		tests/gui3d --xvfb-backend=xvfb --basetemp="$$tmp/pytest-3d" --durations=5 \
		|| { rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no 3D tests."; else exit $$rc; fi; }

bench: $(VENV_STAMP)
	@for script in bench/*.py; do \
		[ -e "$$script" ] || { echo "No benchmarks in bench/."; break; }; \
		echo "== $$script"; \
		PRINTDESK_CURA_RESOURCES=$(CURA_RESOURCES) $(BIN)/python "$$script"; \
	done

# One-folder desktop bundle in dist/printdesk (not part of `make test`).
bundle: $(VENV_STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check '$(PYINSTALLER_PIN)'
	$(BIN)/pyinstaller --noconfirm build.spec

BUNDLE_EXE := dist/printdesk/printdesk
BUNDLE_SOURCES := build.spec pyproject.toml $(shell find cli core desktop workers relay migrations \
	resources -type f ! -name '*.pyc' 2>/dev/null)

# The bundle is dated when its build started, so a source edited during a build is newer.
$(BUNDLE_EXE): $(VENV_STAMP) $(BUNDLE_SOURCES)
	@mkdir -p build && touch build/.bundle-started
	@$(MAKE) --no-print-directory bundle
	@touch -r build/.bundle-started $@

# The built bundle must start with no Python around it: a bare environment (no venv on PATH,
# no PYTHONPATH) and a fresh HOME. It is rebuilt first when a source changed.
bundle-test: $(BUNDLE_EXE)
	@home=$$(mktemp -d /tmp/printdesk-bundle-home.XXXXXX); trap 'rm -rf "$$home"' EXIT; \
	env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$$home" LANG=C.UTF-8 \
		$(BUNDLE_EXE) --smoke-test

clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .hypothesis
	find . \( -path ./$(VENV) -o -path ./.cache \) -prune -o -name __pycache__ -type d -exec rm -rf {} +

# Also forget the virtualenv and the downloaded Cura resources.
distclean: clean
	rm -rf $(VENV) $(CURA_DIR) *.egg-info
