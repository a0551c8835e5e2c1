# ATB Portal. The two commands: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py

.PHONY: demo test install pango browser screenshots lint check-services serve-demo bench bench-alerts bench-export bench-load soak fuzz-api clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed pango

# Debian's Pango, which WeasyPrint draws the outcome letters' PDFs with.
pango:
	@ldconfig -p | grep -q libpangoft2-1.0 || $(SUDO) apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
		|| ($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0)

# Debian's Chromium for the browser tests (tests/e2e): installed by the project's own files.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null 2>&1 || $(SUDO) apt-get install -y --no-install-recommends chromium \
		|| ($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium)

# --- make demo: embedded SQLite and file-system broker unless DATABASE_URL/REDIS_URL are set.
demo: export DEBUG = true
# The portal with its tools: seed_demo is one of them (not installed in production).
demo: export DJANGO_SETTINGS_MODULE = tools.settings
# Administrators need an authenticator app in production; the demo lets anyone try.
demo: export ADMIN_TWO_FACTOR ?= false
demo: install
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo
	$(MANAGE) collectstatic --noinput --verbosity 0
	@echo "ATB Portal demo on http://127.0.0.1:8000/ (web, worker and beat; Ctrl-C stops all)"
	$(BIN)/honcho start -f Procfile

# --- make test: the whole suite against real PostgreSQL and Redis. The suite creates and
# migrates its database as the owner role; the portal's own processes that tests start
# (gunicorn, worker, beat) connect as the runtime role, as in production (README).
test: export DATABASE_URL ?= postgres://atb_owner@127.0.0.1:5432/atb
test: export DATABASE_RUNTIME_ROLE ?= atb_app
test: export DATABASE_ADMIN_URL ?= postgres://postgres@127.0.0.1:5432/postgres
test: export REDIS_URL ?= redis://127.0.0.1:6379/1
test: export SECRET_KEY ?= test-only-secret-key-not-for-production
test: export SECURE_SSL_REDIRECT ?= false
test: export SECURE_COOKIES ?= false
# The suite runs as two pytest processes, one per core: the browser journeys, the
# bad-input walk, the beat failover, the soak and the alerts raised by real background
# processes (their own beats and workers, on this process's
# database and Redis database) on a test database and a Redis database of their own, and
# the rest as before. Each prints its own report; the command fails if either does.
test: export SPLIT_DATABASE_URL ?= postgres://atb_owner@127.0.0.1:5432/atb_split
test: export SPLIT_REDIS_URL ?= redis://127.0.0.1:6379/4
SPLIT_TESTS := tests/e2e tests/test_bad_input_walk.py tests/recovery_at_home/test_beat_failover.py tests/test_soak.py tests/recovery_at_home/test_alerts_in_background.py
test: install browser
	@$(MANAGE) database_roles
	@$(MANAGE) check_services
	$(BIN)/ruff check .
	$(MANAGE) check
	$(MANAGE) makemigrations --check --dry-run
	@mkdir -p var
	@DATABASE_URL=$$SPLIT_DATABASE_URL REDIS_URL=$$SPLIT_REDIS_URL \
		$(BIN)/pytest -p no:cacheprovider $(SPLIT_TESTS) > var/test-split.log 2>&1 & split=$$!; \
	$(BIN)/pytest $(addprefix --ignore=,$(SPLIT_TESTS)); main=$$?; \
	wait $$split; split_status=$$?; \
	echo "=== $(SPLIT_TESTS) (the second process) ==="; cat var/test-split.log; \
	test $$main -eq 0 && test $$split_status -eq 0

# --- make fuzz-api: schemathesis sends many generated requests to every API operation.
fuzz-api: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/atb
fuzz-api: export REDIS_URL ?= redis://127.0.0.1:6379/1
fuzz-api: export SECRET_KEY ?= test-only-secret-key-not-for-production
fuzz-api: export SECURE_SSL_REDIRECT ?= false
fuzz-api: export SECURE_COOKIES ?= false
fuzz-api: export FUZZ_EXAMPLES ?= 200
fuzz-api: install
	$(BIN)/pytest tests/test_api_fuzz.py

# --- make bench-alerts: the alert sweep over 100,000 open referrals (a throw-away database).
bench-alerts: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/atb_bench
bench-alerts: export REDIS_URL ?= redis://127.0.0.1:6379/2
bench-alerts: export SECRET_KEY ?= bench-only-secret-key
bench-alerts: export DJANGO_SETTINGS_MODULE = tools.settings
bench-alerts: install
	$(MANAGE) bench_alerts --open 100000 --due 1000

# --- make bench-export: the referrals CSV export of 1,000,000 rows (a throw-away database).
bench-export: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/atb_bench
bench-export: export SECRET_KEY ?= bench-only-secret-key
bench-export: export DJANGO_SETTINGS_MODULE = tools.settings
bench-export: install
	$(MANAGE) bench_export --referrals 1000000

# --- make soak: ten minutes of the portal as deployed (two web, two worker, two beat, a
# Redis of its own) under traffic, with a beat, a worker and a web process killed, Redis
# down for 30 s and every database connection terminated; prints what it counted.
soak: export DATABASE_URL ?= postgres://atb_owner@127.0.0.1:5432/atb_soak
soak: export DATABASE_RUNTIME_ROLE ?= atb_app
soak: export DATABASE_ADMIN_URL ?= postgres://postgres@127.0.0.1:5432/postgres
soak: export REDIS_URL ?= redis://127.0.0.1:6379/5
soak: export SECRET_KEY ?= soak-only-secret-key
soak: export SECURE_SSL_REDIRECT ?= false
soak: export SECURE_COOKIES ?= false
soak: export SOAK_SECONDS ?= 600
soak: export SOAK_REDIS_DOWN_SECONDS ?= 30
soak: export SOAK_SWEEP_SECONDS ?= 60
soak: install
	@$(MANAGE) database_roles
	$(BIN)/pytest -p no:cacheprovider -s tests/test_soak.py

# --- make bench-load: 60 s of mixed traffic against gunicorn (a throw-away database).
bench-load: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/atb_bench
bench-load: export REDIS_URL ?= redis://127.0.0.1:6379/2
bench-load: export SECRET_KEY ?= bench-only-secret-key
bench-load: export DJANGO_SETTINGS_MODULE = tools.settings
bench-load: install
	$(BIN)/pip install --quiet -r requirements-bench.txt
	$(MANAGE) collectstatic --noinput --verbosity 0
	$(MANAGE) bench_load --seconds $(or $(SECONDS),60)

# --- make bench: the busiest pages at national scale (1,000,000 referrals, seeded on first
# use into its own database) beside the admin changelist and bare SQL; figures in bench/.
bench: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/atb_scale
bench: export REDIS_URL ?= redis://127.0.0.1:6379/2
bench: export SECRET_KEY ?= bench-only-secret-key
bench: export DJANGO_SETTINGS_MODULE = tools.bench.settings
bench: install
	$(MANAGE) collectstatic --noinput --verbosity 0
	$(MANAGE) bench --seed

# --- make screenshots: the browser journeys, and the README's screenshots from them.
screenshots: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/atb
screenshots: export REDIS_URL ?= redis://127.0.0.1:6379/1
screenshots: export SECRET_KEY ?= test-only-secret-key-not-for-production
screenshots: export SECURE_SSL_REDIRECT ?= false
screenshots: export SECURE_COOKIES ?= false
screenshots: install browser
	$(BIN)/pytest tests/e2e
	mkdir -p docs/screenshots
	cp var/screenshots/demo-*.png var/screenshots/referral-form-error.png docs/screenshots/

clean:
	rm -rf $(VENV) node_modules var
