#!/usr/bin/env bash
# Every test: the Rust workspace, then the Python package built from this checkout and its
# pytest suite. Needs the Rust toolchain and Python >= 3.9 with pip (pip fetches maturin and
# the test dependencies).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace
python3 -m pip install --quiet --disable-pip-version-check \
    ./bindings/python pytest pyarrow polars pandas matplotlib mypy duckdb
python3 -m pytest bindings/python/tests -q
