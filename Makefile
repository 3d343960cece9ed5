PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
LAKE ?= .lake
# pytest workers: the suite runs on two cores in 4.6 min instead of 7.6 min on one (its tests are independent).
WORKERS ?= 2

.PHONY: run test bench bench-growth clean venv

$(BIN)/cskpi: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	@touch $@

venv: $(BIN)/cskpi

run: venv
	rm -rf $(LAKE)
	$(BIN)/cskpi run sample_data --lake $(LAKE)
	$(BIN)/cskpi report --lake $(LAKE) --period month --level shop

test: venv
	$(BIN)/pytest -q -n $(WORKERS)

bench: venv
	$(BIN)/python -m bench.run $(BENCH_ARGS)

bench-growth: venv
	$(BIN)/python -m bench.growth $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(LAKE) build *.egg-info
