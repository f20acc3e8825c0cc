# Quick start: `make demo` runs the bot in this terminal, `make test` runs the tests.
# Both create .venv and install what they need on first use.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test test-night clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

# The tests also need the optional wechaty SDK and, for tests/e2e, a Wechaty puppet server from npm
# (package.json / package-lock.json). Without npm the e2e tests skip, except in CI where they must run.
TEST_STAMP := $(VENV)/.installed-test
NPM_STAMP := node_modules/.installed

$(TEST_STAMP): $(STAMP) pyproject.toml
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev,wechaty]'
	touch $(TEST_STAMP)

# The WeCom transport's SDK needs pyee>=11, which the wechaty SDK cannot live with: its tests (tests/wecom)
# run in an environment of their own, with '.[dev,wecom]' and never '.[wechaty]' (README "Connecting to WeCom").
WECOM_VENV := .venv-wecom
WECOM_STAMP := $(WECOM_VENV)/.installed-test

$(WECOM_STAMP): pyproject.toml
	$(PYTHON) -m venv $(WECOM_VENV)
	$(WECOM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev,wecom]'
	touch $(WECOM_STAMP)

$(NPM_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $(NPM_STAMP); \
	elif [ "$$CI" = "true" ]; then echo "npm is required in CI for tests/e2e" >&2; exit 1; \
	else echo "npm not found: tests/e2e will be skipped" >&2; fi

# The board's browser tests (tests/test_board_browser.py) drive Debian's chromium and chromedriver,
# installed with apt when missing. Without them the tests skip, except in CI where they must run.
BROWSER_STAMP := $(VENV)/.installed-browser

$(BROWSER_STAMP): $(STAMP)
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then touch $(BROWSER_STAMP); \
	elif { apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 || \
		{ apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1; }; }; then \
		touch $(BROWSER_STAMP); \
	elif [ "$$CI" = "true" ]; then echo "chromium and chromium-driver are required in CI (apt-get install chromium chromium-driver)" >&2; exit 1; \
	else echo "chromium not found: the board's browser tests will be skipped" >&2; fi

demo: $(STAMP)
	$(VENV)/bin/gridbot demo

WECOM_TESTS ?= tests/wecom

test: $(TEST_STAMP) $(NPM_STAMP) $(WECOM_STAMP) $(BROWSER_STAMP)
	$(VENV)/bin/python -m pytest -q $(PYTEST_ARGS)
	GRIDBOT_WECOM_REQUIRED=1 $(WECOM_VENV)/bin/python -m pytest -q $(WECOM_TESTS) $(PYTEST_ARGS)

# The whole suite again with the wall clock at night in Beijing (libfaketime shifts the clock of the
# test process and every process it starts): quiet hours 22:00–07:00 must never change a result.
NIGHT_TIMES ?= 23:30 03:00
test-night: $(TEST_STAMP) $(NPM_STAMP) $(WECOM_STAMP) $(BROWSER_STAMP)
	@command -v faketime >/dev/null 2>&1 || apt-get install -y -qq faketime >/dev/null 2>&1 || \
		{ apt-get update -qq && apt-get install -y -qq faketime >/dev/null 2>&1; } || \
		{ echo "faketime is needed: apt-get install faketime" >&2; exit 1; }
	@for t in $(NIGHT_TIMES); do \
		echo "== the suite at $$t Beijing time"; \
		faketime "TZ=\"Asia/Shanghai\" today $$t" $(VENV)/bin/python -m pytest -q $(PYTEST_ARGS) || exit 1; \
		GRIDBOT_WECOM_REQUIRED=1 faketime "TZ=\"Asia/Shanghai\" today $$t" \
			$(WECOM_VENV)/bin/python -m pytest -q $(WECOM_TESTS) $(PYTEST_ARGS) || exit 1; \
	done

clean:
	rm -rf $(VENV) $(WECOM_VENV) *.egg-info .pytest_cache gridbot-demo.db* node_modules
