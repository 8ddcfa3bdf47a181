# segmint: `make demo` runs the main job on generated data; `make test` runs the tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test test-spark lint bench bench-e2e clean postgres chromium spark bench-service wrk bench-features bench-selection

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "segmint needs Python >= 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/segmint demo

# The database tests start a throwaway PostgreSQL server from the Debian packages.
postgres:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then :; else \
		echo "installing PostgreSQL (Debian packages) for the database tests"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql; \
	fi

# The report tests (PDF/PNG export, the browser test) drive headless Chromium (Debian package).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Chromium (Debian package) for the report tests"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; \
	}

# The Spark tests run pyspark (the spark extra) in local mode on Java (Debian package).
SPARK_STAMP := $(VENV)/.spark-installed
$(SPARK_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,spark]"
	@touch $(SPARK_STAMP)

spark: $(SPARK_STAMP)
	@java -version 2>&1 | grep -qE 'version "(1[7-9]|[2-9][0-9])' || { \
		echo "installing Java 17+ (Debian package) for the Spark engine"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq default-jre-headless; \
	}

test: $(STAMP) postgres chromium spark
	$(BIN)/python -m pytest

# Only the Spark engine's agreement tests (local mode); `make test` runs them too.
test-spark: spark
	$(BIN)/python -m pytest -m spark tests/test_spark.py

# Benchmarks (never part of the tests): every benchmarks/bench_*.py, a table each, JSON in
# benchmarks/results/. BENCH_E2E_ROWS sets the transaction log sizes of bench_e2e.
BENCH_E2E_ROWS ?= 1000000,10000000
bench-e2e: spark
	$(BIN)/python benchmarks/bench_e2e.py --rows $(BENCH_E2E_ROWS)

# Each benchmark through its own target when it has one (bench-features, bench-selection,
# bench-service, bench-e2e), else the script itself; then one table of every result file.
bench: spark
	@mkdir -p benchmarks/results
	@set -e; for script in benchmarks/bench_*.py; do \
		name=$$(basename $$script .py | sed 's/_/-/'); \
		echo "== $$script"; \
		if $(MAKE) -n $$name >/dev/null 2>&1; then $(MAKE) --no-print-directory $$name; \
		else $(BIN)/python $$script; fi; \
	done
	$(BIN)/python benchmarks/bench_e2e.py --summary

# Choosing k and the algorithm: Tibshirani et al. (2001) simulations, the clustering
# benchmark suite in ../shared/data/clustering-benchmarks, speed on 1,000,000 x 8.
bench-selection: $(STAMP)
	$(BIN)/python benchmarks/bench_selection.py

# The service's load test drives wrk (Debian package) against `segmint serve` on loopback.
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
		echo "installing wrk (Debian package) for the service load test"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk; \
	}

bench-service: $(STAMP) wrk
	$(BIN)/python benchmarks/bench_service.py

# Transaction-log features: speed vs a pandas baseline (10M-line CSV), memory and scaling at
# 50M lines (Parquet), segment quality on the generator. Writes benchmarks/results/*.json.
# Needs about 20 GB of memory for the pandas baseline and 10 GB of disk in $(BENCH_DATA).
BENCH_DATA ?= $(or $(TMPDIR),/tmp)/segmint-bench
bench-features: $(STAMP)
	$(BIN)/python benchmarks/bench_features.py --data-dir $(BENCH_DATA)

# Lint: ruff's rules and formatting, and the type check (CI runs it before the tests).
lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src

clean:
	rm -rf $(VENV) segmint-output segmint-demo .pytest_cache .mypy_cache .ruff_cache
