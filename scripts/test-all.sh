#!/usr/bin/env bash
# Every test: the Rust workspace, then the Python package built from this checkout and its
# pytest suite, the lakehouse export read back by DuckDB and Spark (tests/lake), the Node package (node --test, the dealer portal in headless Chromium, an install
# from a temporary project), the mobile binding (bindings regenerated and diffed, Kotlin tests on
# the JVM), then a 30 s fuzz run of every target. Needs the Rust toolchain, Python >= 3.9 with
# pip, Node 20 with npm and Java 17 with Maven; installs the rest (pip fetches maturin and the
# test dependencies, npm the Node packages, apt Debian's chromium, Maven the Kotlin toolchain,
# cargo cargo-fuzz, pip pyspark for tests/lake/check_spark.py).
set -euo pipefail
cd "$(dirname "$0")/.."
# --all-features: core's `arrow` feature (autocrm::export, core/tests/export.rs) is off by
# default; without it those tests would be skipped silently.
cargo test --workspace --all-features
python3 -m pip install --quiet --disable-pip-version-check \
    ./bindings/python pytest pyarrow polars pandas matplotlib mypy duckdb pyspark
python3 -m pytest bindings/python/tests -q
# `autocrm export` read by real engines: KPI rows (and owner-status counts, Spark) recomputed
# with SQL from the Parquet folder must equal autocrm's (each script pip-installs its engine).
python3 tests/lake/check_duckdb.py
python3 tests/lake/check_spark.py
bash scripts/test-node.sh
bash scripts/test-mobile.sh
bash scripts/fuzz-smoke.sh
