#!/usr/bin/env python3
"""The lakehouse export read by DuckDB: a synthetic network is exported with `autocrm export`,
then two KPIs by dealer (after-sales churn, lead conversion) are recomputed with SQL over the
Parquet folder alone — touchpoints through read_parquet(..., hive_partitioning=true) — and
must equal what `autocrm kpi` prints, row for row; the SQL home dealer must equal the exported
home_dealers table for every customer. Installs duckdb with pip.

    python3 tests/lake/check_duckdb.py [--customers 3000] [--seed 7] [--keep DIR]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lakecheck as lc  # noqa: E402


def main() -> None:
    args = lc.parse_args(__doc__, customers=3000, seed=7)
    lc.pip_install("duckdb")
    lc.ensure_autocrm()
    import duckdb

    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.keep or tmp)
        work.mkdir(parents=True, exist_ok=True)
        db = lc.build(work, args.customers, args.seed)
        lake = work / "lake"
        con = duckdb.connect()
        con.execute(
            f"""CREATE VIEW tp AS SELECT *, "at" AS ts
                FROM read_parquet('{lake}/touchpoints/*/*.parquet', hive_partitioning=true)"""
        )
        for t in ["customers", "vehicles", "leads", "dealers", "home_dealers"]:
            name = "veh" if t == "vehicles" else t
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{lake}/{t}/*.parquet')")
        con.execute(
            f"""CREATE VIEW own AS SELECT vehicle, customer, "from" AS from_day, "to" AS to_day
                FROM read_parquet('{lake}/ownership/*.parquet')"""
        )
        # The partitions are the months of the rows they hold.
        bad = con.execute("SELECT COUNT(*) FROM tp WHERE strftime(ts, '%Y-%m') <> month").fetchone()[0]
        assert bad == 0, f"{bad} touchpoints in the wrong month folder"
        codes = dict(con.execute("SELECT id, code FROM dealers").fetchall())

        n = con.execute(lc.home_mismatch_sql(lc.AS_OF)).fetchone()[0]
        assert n == 0, f"{n} customers: SQL home dealer differs from the exported home_dealers"
        print("home dealers: SQL equals the exported home_dealers table")

        churn = lc.labelled(con.execute(lc.churn_sql(lc.AS_OF)).fetchall(), codes)
        lc.compare("after_sales_churn " + lc.CHURN_PERIOD, lc.cli_kpi(db, "after_sales_churn", lc.CHURN_PERIOD), churn)
        leads = lc.labelled(con.execute(lc.leads_sql(lc.LEADS_FROM, lc.LEADS_TO)).fetchall(), codes)
        lc.compare("lead_conversion " + lc.LEADS_PERIOD, lc.cli_kpi(db, "lead_conversion", lc.LEADS_PERIOD), leads)
    print(f"DuckDB check passed in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
