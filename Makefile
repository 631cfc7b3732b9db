# Every target installs what it needs: a fresh machine needs only Python 3.11 and make.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed-stamp
# Debian packages, installed with apt when missing (these machines run as root).
# Run time: what the product itself uses; install, demo and run bring these.
# Pictures (card, voucher, pass images, chart) draw every script: DejaVu for Latin, Cyrillic and
# Hebrew, Noto UI for Arabic script and Thai, Noto Color Emoji; libfribidi is what RAQM loads.
RUNTIME_DEB := fonts-dejavu-core fonts-noto-ui-core fonts-noto-color-emoji libfribidi0
# Tests only, brought by the test targets: the card page's browser test drives headless
# Chromium (about 440 MB), which a shop running the product never needs.
# The spam-score test runs Debian's SpamAssassin on rendered campaign emails; the poster test
# rasterises the counter poster's PDF with poppler's pdftoppm and reads its page size with pdfinfo.
TEST_DEB := chromium chromium-driver spamassassin poppler-utils
# $(call deb,PACKAGES): apt-get install those of PACKAGES that are not installed yet.
deb = missing=; for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
	grep -q 'ok installed' || missing="$$missing $$p"; done; test -z "$$missing" || \
	{ apt-get update -qq && apt-get install -y --no-install-recommends $$missing; }

.PHONY: install demo run test lint test-sqlite test-postgres bench bench-quick chaos migrations i18n \
	clean runtime-deb test-deb mutation

$(INSTALLED): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(INSTALLED)

runtime-deb:
	@$(call deb,$(RUNTIME_DEB))

test-deb:
	@$(call deb,$(TEST_DEB))

install: $(INSTALLED) runtime-deb

demo: $(INSTALLED) runtime-deb
	$(BIN)/stampbot demo

run: $(INSTALLED) runtime-deb
	$(BIN)/stampbot run

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

# Each suite flushes its own Redis database, so two runs (or a run and a bench) do not collide.
SQLITE_REDIS_URL ?= redis://127.0.0.1:6379/15
POSTGRES_REDIS_URL ?= redis://127.0.0.1:6379/13

# The whole suite runs on PostgreSQL, the production database. On SQLite, the embedded default,
# run the rooms whose SQL differs by dialect (models, loyalty, campaigns, automations, wallets)
# and the commands and processes as a shop runs them on it (bot, demo, chaos): the handlers,
# channels, fakes and pictures reach the database only through those rooms, and repeating them
# on SQLite cost four of CI's sixteen minutes. SQLITE_TESTS=tests runs everything there.
SQLITE_TESTS ?= tests/models tests/loyalty tests/campaigns tests/automations tests/wallets \
	tests/bot tests/demo tests/chaos tests/web/test_ops.py tests/test_rooms.py
test-sqlite: $(INSTALLED) runtime-deb test-deb
	@echo "== pytest on SQLite (embedded default) with Redis at $(SQLITE_REDIS_URL) =="
	STAMPBOT_TEST_REDIS_URL=$(SQLITE_REDIS_URL) $(BIN)/pytest --db sqlite $(SQLITE_TESTS)

test-postgres: $(INSTALLED) runtime-deb test-deb
	@echo "== pytest on PostgreSQL at 127.0.0.1:5432 (a fresh database per run) with Redis at $(POSTGRES_REDIS_URL) =="
	STAMPBOT_TEST_REDIS_URL=$(POSTGRES_REDIS_URL) $(BIN)/pytest --db postgres

# Lint first (it fails in a minute), then the two suites one after the other: side by side on
# two cores they took 10 to 14 minutes here, no faster, and made timing tests flaky.
test: lint test-sqlite test-postgres
	@echo "== make test: ruff, mypy, pytest on SQLite and on PostgreSQL — all passed =="

# Every script in bench/ but the two that serve them, so a new script is run without a change
# here; each saves its figures in var/bench/, then report.py makes one table and one chart of
# this run (older figures are removed first). bench-quick gives --quick to each script that
# takes it. A failing script is named at the end and fails the target, after the report.
BENCH_SCRIPTS := $(sort $(filter-out bench/figures.py bench/report.py,$(wildcard bench/*.py)))
bench-run = rm -f var/bench/*.json; failed=; for script in $(BENCH_SCRIPTS); do \
	args=; if [ -n "$(1)" ] && grep -q -- '"--quick"' $$script; then args=--quick; fi; \
	echo "== $$script $$args =="; started=$$(date +%s); \
	$(BIN)/python $$script $$args || failed="$$failed $$script"; \
	echo "== $$script: $$(( $$(date +%s) - started )) s =="; \
	done; $(BIN)/python bench/report.py; \
	test -z "$$failed" || { echo "failed:$$failed"; exit 1; }

bench: $(INSTALLED) runtime-deb
	@$(call bench-run,)

bench-quick: $(INSTALLED) runtime-deb
	@$(call bench-run,quick)

# The chaos run alone (bench/chaos.py, also one of the bench scripts): real workers under
# kill -9, a Redis restart, terminated PostgreSQL connections and failing fakes, on loopback
# with a database and a redis-server of its own. It fails when a message is lost or doubled
# past the rows in flight; past CHAOS_TIMEOUT seconds it is killed, and fails too.
CHAOS_TIMEOUT ?= 600
chaos: $(INSTALLED) runtime-deb
	timeout --kill-after=15 $(CHAOS_TIMEOUT) $(BIN)/python bench/chaos.py $(CHAOS_ARGS)

# Regenerate the aerich migrations of both dialects after a model change: make migrations NAME=add_x
migrations: $(INSTALLED)
	$(BIN)/python -c "import asyncio, sys; from models.db import make_migration; print(asyncio.run(make_migration('sqlite://:memory:', sys.argv[1])))" $(NAME)
	$(BIN)/python -c "import asyncio, sys; from models.db import make_migration; print(asyncio.run(make_migration('postgres://postgres@127.0.0.1:5432/test', sys.argv[1])))" $(NAME)

# After changing user-facing strings: refresh the template and merge it into every catalog.
# The rooms whose strings are extracted (tests/locales reads this line too).
I18N_SOURCES := handlers web bot demo loyalty campaigns wallets channels render templates automations conversation
i18n: $(INSTALLED)
	$(BIN)/pybabel extract -F babel.cfg -k _ -k __ -k ngettext:1,2 -k gettext -k lazy_gettext -k N_ \
		--no-location --sort-output -o locales/messages.pot $(I18N_SOURCES)
	$(BIN)/pybabel update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching \
		--ignore-obsolete

# Mutation testing of the six modules that must never silently break (not part of test/CI;
# ~20-40 min of CPU). mutmut works in a copy under var/mutation; one child, because every test
# flushes its Redis db. MUTANTS='loyalty.links.*' runs a subset; the score excludes the
# equivalent mutants in tests/mutation/equivalents.txt. Then the hand-made Lua mutants.
MUTATION_REDIS_URL ?= redis://127.0.0.1:6379/14
MUTATION_DIR := var/mutation
mutation: $(INSTALLED)
	$(BIN)/python -m pip install --quiet -e '.[mutation]'
	rm -rf $(MUTATION_DIR) && mkdir -p $(MUTATION_DIR)
	git ls-files --cached --others --exclude-standard -z | \
		tar --null --ignore-failed-read -T - -cf - | tar -xf - -C $(MUTATION_DIR)
	cd $(MUTATION_DIR) && STAMPBOT_TEST_DB=sqlite STAMPBOT_TEST_REDIS_URL=$(MUTATION_REDIS_URL) \
		nice -n 10 $(CURDIR)/$(BIN)/mutmut run --max-children 1 $(MUTANTS)
	cd $(MUTATION_DIR) && $(CURDIR)/$(BIN)/python -m tests.mutation.score
	STAMPBOT_TEST_REDIS_URL=$(MUTATION_REDIS_URL) nice -n 10 $(BIN)/python -m tests.mutation.lua

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache .hypothesis
