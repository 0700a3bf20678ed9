# Voronka — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
VORONKA := $(VENV)/bin/voronka
PORT ?= 8000
VENDOR := src/voronka/static/vendor

.PHONY: run test lint check bench assets venv migrate system-deps messages messages-compiled clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

$(VENDOR)/.built: node_modules/.installed
	mkdir -p $(VENDOR)/tabler $(VENDOR)/htmx $(VENDOR)/sortable $(VENDOR)/echarts
	cp node_modules/@tabler/core/dist/css/tabler.min.css $(VENDOR)/tabler/
	cp node_modules/@tabler/core/dist/js/tabler.min.js $(VENDOR)/tabler/
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx/
	cp node_modules/sortablejs/Sortable.min.js $(VENDOR)/sortable/
	cp node_modules/echarts/dist/echarts.min.js $(VENDOR)/echarts/
	touch $@

assets: $(VENDOR)/.built

# Translations are compiled from the committed .po files (GNU gettext's msgfmt).
messages-compiled: venv
	@command -v msgfmt >/dev/null || (apt-get update -qq && apt-get install -y -qq gettext >/dev/null)
	cd src/voronka && ../../$(VORONKA) compilemessages --verbosity 0

migrate: venv assets messages-compiled
	mkdir -p var
	$(VORONKA) migrate --noinput --verbosity 0

run: migrate
	$(VORONKA) demo --if-empty
	$(VORONKA) serve --port $(PORT)

# Browser tests drive Debian's chromium; PostgreSQL's server binaries start the throwaway cluster;
# the email tests start a throwaway Dovecot (IMAP).
system-deps:
	@missing=""; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	test -x /usr/lib/postgresql/15/bin/initdb || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v msgfmt >/dev/null || missing="$$missing gettext"; \
	test -x /usr/sbin/dovecot || missing="$$missing dovecot-imapd"; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

check: venv assets messages-compiled
	DATABASE_URL=sqlite://:memory: $(VORONKA) makemigrations --check --dry-run --verbosity 1

# The suite runs on SQLite and on a throwaway PostgreSQL side by side (one core each), each pass
# with its own var folder; their logs are printed when both have finished.
test: system-deps lint check
	@mkdir -p var; rm -f var/test-sqlite.log var/test-postgres.log; \
	echo "running the suite on SQLite and on PostgreSQL (logs: var/test-sqlite.log, var/test-postgres.log)"; \
	VORONKA_VAR=$(CURDIR)/var/test-sqlite $(VENV)/bin/pytest >var/test-sqlite.log 2>&1 & sqlite=$$!; \
	VORONKA_VAR=$(CURDIR)/var/test-postgres VORONKA_TEST_DB=postgres $(VENV)/bin/pytest >var/test-postgres.log 2>&1 & postgres=$$!; \
	wait $$sqlite; s=$$?; wait $$postgres; p=$$?; \
	echo "== SQLite (exit $$s)"; cat var/test-sqlite.log; \
	echo "== PostgreSQL (exit $$p)"; cat var/test-postgres.log; \
	test $$s -eq 0 && test $$p -eq 0

bench: venv assets messages-compiled
	$(PY) -m bench

APPS := core accounts clients sales activities inbox control planning analytics

# Each app keeps its own catalogue (src/voronka/<app>/locale); refresh them after changing strings.
messages: venv
	for app in $(APPS); do (cd src/voronka/$$app && mkdir -p locale && ../../../$(VORONKA) makemessages -l ru --no-obsolete --add-location=file --verbosity 0); done

clean:
	rm -rf $(VENV) node_modules $(VENDOR) var
