# Youpin Trace: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
FLASK  := $(BIN)/flask --app wsgi

.PHONY: run test serve setup pdf-font lint check-layout typecheck bench bench-lineage field-bytes vendor-js translations clean

# The package (and, for tests, its test extras) in .venv, reinstalled when setup.cfg changes.
$(BIN)/.installed: setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(BIN)/.installed-test: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

setup: $(BIN)/.installed
	-@$(MAKE) --no-print-directory pdf-font
	mkdir -p instance
	$(FLASK) db upgrade
	$(FLASK) catalog load
	$(FLASK) demo load
	$(FLASK) compliance refresh --stale
	$(FLASK) checkpoints create

## run: migrate, load the catalog and demo data, store missing verdicts, sign a checkpoint (idempotent), serve on http://127.0.0.1:$(PORT)
run: setup
	PUBLIC_BASE_URL=$${PUBLIC_BASE_URL:-http://127.0.0.1:$(PORT)} \
		$(BIN)/gunicorn --config gunicorn.conf.py --bind 127.0.0.1:$(PORT) --access-logfile - wsgi:app

## pdf-font: the TrueType CJK font the compliance PDF embeds (Debian fonts-wqy-zenhei); installs it as root, else says how
PDF_FONT := /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
pdf-font:
	@test -f $(PDF_FONT) && echo "pdf-font: $(PDF_FONT) is installed" || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y -qq fonts-wqy-zenhei; \
	  else echo "pdf-font: $(PDF_FONT) is missing: run 'sudo apt-get install fonts-wqy-zenhei' (the PDF falls back to the non-embedded STSong-Light, without µ)" >&2; exit 1; fi; }

## test: the whole suite (SQLite; PostgreSQL when TEST_DATABASE_URL is set), on TEST_WORKERS processes
# (one per core by default; TEST_WORKERS=0 runs in this process). Under PostgreSQL each worker
# uses a database of its own named after TEST_DATABASE_URL's (test_gw0, test_gw1, ...).
TEST_WORKERS ?= auto
test: $(BIN)/.installed-test
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

## lint: ruff, then mypy (`make typecheck`); both run even when ruff fails, so one run reports everything
lint: $(BIN)/.installed-test
	status=0; \
	$(BIN)/ruff check . || status=1; \
	$(MAKE) --no-print-directory typecheck || status=1; \
	$(MAKE) --no-print-directory check-layout || status=1; \
	exit $$status

## check-layout: import cycles in app/, and modules over 500 lines with no `Size:` reason (part of lint)
# Both checks run even when the first fails, so one run reports everything.
check-layout: $(BIN)/.installed
	status=0; \
	$(BIN)/python scripts/check_imports.py app || status=1; \
	$(BIN)/python scripts/check_module_size.py app || status=1; \
	exit $$status

## typecheck: mypy on app/ with setup.cfg's [mypy] settings; the half of lint to run alone
typecheck: $(BIN)/.installed-test
	$(BIN)/mypy app

## bench: consumer page vs a floor route, and event appends, on PostgreSQL (see scripts/bench.py)
bench: $(BIN)/.installed-test
	$(BIN)/python scripts/bench.py

## bench-lineage: trace cost against database size (see scripts/bench_lineage.py)
bench-lineage: $(BIN)/.installed-test
	$(BIN)/python scripts/bench_lineage.py

## field-bytes: what the field app transfers on a first visit and per page after (see scripts/field_page_bytes.py)
field-bytes: $(BIN)/.installed
	$(BIN)/python scripts/field_page_bytes.py

## vendor-js: fetch the field app's pinned npm packages into app/field/static/vendor (committed; no CDN)
# qr-scanner (MIT) decodes a photographed QR label in the browser; its worker is loaded only where the
# browser has no BarcodeDetector. Each file is kept beside a gzip copy the field app serves when accepted.
QR_SCANNER_VERSION := 1.4.2
QR_SCANNER_DIR := app/field/static/vendor/qr-scanner-$(QR_SCANNER_VERSION)
vendor-js:
	rm -rf $(QR_SCANNER_DIR) && mkdir -p $(QR_SCANNER_DIR)
	tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent qr-scanner@$(QR_SCANNER_VERSION) >/dev/null && \
		tar xzf qr-scanner-$(QR_SCANNER_VERSION).tgz && \
		cp package/qr-scanner.umd.min.js package/qr-scanner-worker.min.js package/LICENSE $(CURDIR)/$(QR_SCANNER_DIR)/ && \
		rm -rf $$tmp
	gzip -9 -k -n $(QR_SCANNER_DIR)/*.js

## translations: re-extract and compile the zh/en catalogs after changing user-facing text
translations: $(BIN)/.installed-test
	$(BIN)/pybabel extract -F babel.cfg -k NP_:1c,2 -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations
	$(BIN)/pybabel compile -d app/translations

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache
