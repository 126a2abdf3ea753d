# Two entry points for a fresh machine (see README): `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-quick lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "VerMAS needs Python 3.11 or newer (found %s)" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@# Precompile: with PYTHONDONTWRITEBYTECODE set (common in CI/sandboxes) every CLI call
	@# would otherwise recompile its modules, and agents call the CLI on every turn.
	$(BIN)/python -m compileall -q src/vermas >/dev/null
	@touch $(STAMP)

## Run the main job end to end in a temp directory.
demo: $(STAMP)
	@$(BIN)/python -m compileall -q src/vermas >/dev/null
	$(BIN)/vermas demo

## Lint, then run the whole test suite (slow end-to-end tests included).
test: $(STAMP)
	@./tools/test-deps >/dev/null
	@$(BIN)/python -m compileall -q src/vermas >/dev/null
	$(BIN)/ruff check src tests bench
	@rc=0; $(BIN)/python -m pytest -n auto -p no:cacheprovider || rc=$$?; \
	 if [ $$rc = 5 ]; then echo "make test: pytest collected no tests (exit 5): treated as a failure" >&2; fi; \
	 exit $$rc

## The quick subset: everything not marked slow.
test-quick: $(STAMP)
	$(BIN)/python -m pytest -n auto -m 'not slow'

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

## Benchmarks: prints one JSON document of side-by-side ratios.
bench: $(STAMP)
	@$(BIN)/python -m compileall -q src/vermas >/dev/null
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
