# `make demo` and `make test` each set up everything they need from a fresh clone.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.etholoop-installed
DEMO_DIR ?= demo-output

.PHONY: demo test lint system-deps clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# Debian's chromium (browser tests) and postgresql (store tests), installed when
# missing and we are root, as in CI; anyone else gets those tests skipped with a reason.
system-deps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  need=""; \
	  command -v chromium >/dev/null || need="$$need chromium chromium-driver"; \
	  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need="$$need postgresql"; \
	  if [ -n "$$need" ]; then \
	    echo "installing Debian packages:$$need"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need >/dev/null; \
	  fi; \
	else \
	  echo "not root: chromium/postgresql tests are skipped unless those are installed"; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy src

test: $(STAMP) system-deps lint
	$(BIN)/python -m pytest

# The demo sets the environment up itself, so that it can time the set-up too.
demo:
	bash scripts/demo.sh $(DEMO_DIR)

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache
