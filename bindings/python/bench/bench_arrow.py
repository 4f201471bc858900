#!/usr/bin/env python3
"""Customers to polars and pandas: autocrm's Arrow export against DuckDB's .pl() / .df().

    python3 bindings/python/bench/bench_arrow.py --customers 1000000

Setup (untimed): a synthetic network of N customers is generated into a database file; the
customer table is exported once from autocrm to Parquet and loaded into an in-memory DuckDB
table ``customers`` with the same columns and types.

Timed (median of --runs runs, each on a fresh read snapshot / query):

- autocrm → polars:  ``polars.DataFrame(r.customers_table())``  (Arrow PyCapsule stream)
- autocrm → pandas:  ``pyarrow.table(r.customers_table()).to_pandas()``
- DuckDB  → polars:  ``con.sql("SELECT * FROM customers").pl()``
- DuckDB  → pandas:  ``con.sql("SELECT * FROM customers").df()``

ratio = DuckDB time / autocrm time (above 1: autocrm is faster).
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

import autocrm


def median_time(fn, runs: int):
    times = []
    out = None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        del out
    return statistics.median(times), times


def fmt(s: float) -> str:
    return f"{s * 1000:,.1f} ms" if s < 10 else f"{s:,.2f} s"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--customers", type=int, default=1_000_000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--dir", default=None, help="work directory (default: a temporary one)")
    p.add_argument("--keep", action="store_true", help="keep the database and Parquet file")
    args = p.parse_args(argv)

    tmp = None
    if args.dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="autocrm-bench-")
        work = tmp.name
    else:
        work = args.dir
        os.makedirs(work, exist_ok=True)
    db_path = os.path.join(work, "bench.redb")
    parquet_path = os.path.join(work, "customers.parquet")
    if os.path.exists(db_path):
        os.remove(db_path)

    # --- setup, untimed ---------------------------------------------------------------------
    t0 = time.perf_counter()
    with autocrm.Database.open(db_path, durable=False) as db:
        stats = autocrm.synth.generate(db, customers=args.customers, seed=args.seed)
    gen_s = time.perf_counter() - t0
    print(f"setup: generated {stats['customers']:,} customers ({stats['records']:,} records) in {gen_s:.1f}s",
          file=sys.stderr)

    db = autocrm.Database.open(db_path)
    with db.read() as r:
        reference = pa.table(r.customers_table())
    pq.write_table(reference, parquet_path)
    con = duckdb.connect()
    con.execute(f"CREATE TABLE customers AS SELECT * FROM read_parquet('{parquet_path}')")
    n_duck = con.sql("SELECT count(*) FROM customers").fetchall()[0][0]
    assert n_duck == reference.num_rows == stats["customers"], (n_duck, reference.num_rows)
    columns = reference.column_names

    # --- timed --------------------------------------------------------------------------------
    def crm_polars():
        with db.read() as r:
            return pl.DataFrame(r.customers_table())

    def crm_pandas():
        with db.read() as r:
            return pa.table(r.customers_table()).to_pandas()

    def duck_polars():
        return con.sql("SELECT * FROM customers").pl()

    def duck_pandas():
        return con.sql("SELECT * FROM customers").df()

    # sanity: the same shape from both sides
    a, b = crm_polars(), duck_polars()
    assert a.shape == b.shape and a.columns == b.columns == columns, (a.shape, b.shape)
    assert a["id"].sort().to_list()[:10] == b["id"].sort().to_list()[:10]
    del a, b

    results = {}
    for name, fn in (("autocrm_polars", crm_polars), ("duckdb_polars", duck_polars),
                     ("autocrm_pandas", crm_pandas), ("duckdb_pandas", duck_pandas)):
        fn()  # warm-up
        results[name] = median_time(fn, args.runs)

    db.close()
    con.close()

    script = os.path.relpath(os.path.abspath(__file__), os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..")))
    cmd = "python3 " + " ".join(shlex.quote(x) for x in [script] + list(argv if argv is not None else sys.argv[1:]))
    print(f"## Customers → DataFrame: autocrm Arrow export vs DuckDB\n")
    print(f"{stats['customers']:,} customers, {len(columns)} columns ({', '.join(columns)}); "
          f"median of {args.runs} runs after one warm-up.\n")
    print("| target | autocrm | DuckDB | ratio (DuckDB / autocrm) |")
    print("|---|---:|---:|---:|")
    for target in ("polars", "pandas"):
        c = results[f"autocrm_{target}"][0]
        d = results[f"duckdb_{target}"][0]
        print(f"| {target} | {fmt(c)} | {fmt(d)} | {d / c:.2f}× |")
    print()
    print(f"autocrm: `pl.DataFrame(r.customers_table())`, `pa.table(r.customers_table()).to_pandas()`; "
          f"DuckDB {duckdb.__version__}: `con.sql('SELECT * FROM customers').pl()` / `.df()` on an in-memory "
          f"table loaded from autocrm's Parquet export (untimed).")
    print(f"polars {pl.__version__}, pyarrow {pa.__version__}, Python {platform.python_version()}, "
          f"{platform.machine()}, {os.cpu_count()} CPUs.\n")
    print(f"Command (from the repository root): `{cmd}`")
    if not args.keep and tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
