#!/usr/bin/env python3
"""The lakehouse export read by Apache Spark (pyspark, local[2], one session): a synthetic
network is exported with `autocrm export`; spark.read.parquet discovers the month partitions
of the touchpoints; two KPIs by dealer (after-sales churn, lead conversion) recomputed with
Spark SQL must equal what `autocrm kpi` prints, and the DOMAIN §5 owner-status counts on the
period's last day must equal what autocrm's segment rules count (`owner_status = "…"`,
through the Python package). Installs pyspark with pip; needs Java 17 (the default java).

    python3 tests/lake/check_spark.py [--customers 2000] [--seed 11] [--keep DIR]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lakecheck as lc  # noqa: E402

STATUSES = ["active", "swinging", "at_risk", "recent", "churned", "new_owner"]


def main() -> None:
    args = lc.parse_args(__doc__, customers=2000, seed=11)
    lc.pip_install("pyspark")
    lc.ensure_autocrm()
    import autocrm
    from pyspark.sql import SparkSession

    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.keep or tmp)
        work.mkdir(parents=True, exist_ok=True)
        db = lc.build(work, args.customers, args.seed)
        lake = work / "lake"
        spark = (
            SparkSession.builder.master("local[2]")
            .appName("autocrm-lake-check")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "4")
            # Times are naive local times: no session time zone may shift them.
            .config("spark.sql.session.timeZone", "UTC")
            # month=2025-07 stays the text it is.
            .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
            .config("spark.driver.memory", "1g")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        try:
            tp = spark.read.parquet(str(lake / "touchpoints"))
            assert "month" in tp.columns, tp.columns
            tp.withColumn("ts", tp["at"]).createOrReplaceTempView("tp")
            for t in ["customers", "vehicles", "leads", "dealers", "home_dealers"]:
                spark.read.parquet(str(lake / t)).createOrReplaceTempView("veh" if t == "vehicles" else t)
            (
                spark.read.parquet(str(lake / "ownership"))
                .withColumnRenamed("from", "from_day")
                .withColumnRenamed("to", "to_day")
                .createOrReplaceTempView("own")
            )
            bad = spark.sql("SELECT COUNT(*) FROM tp WHERE date_format(ts, 'yyyy-MM') <> month").first()[0]
            assert bad == 0, f"{bad} touchpoints in the wrong month folder"
            codes = {int(r[0]): r[1] for r in spark.sql("SELECT id, code FROM dealers").collect()}

            churn = lc.labelled([tuple(r) for r in spark.sql(lc.churn_sql(lc.AS_OF)).collect()], codes)
            lc.compare(
                "after_sales_churn " + lc.CHURN_PERIOD, lc.cli_kpi(db, "after_sales_churn", lc.CHURN_PERIOD), churn
            )
            leads = lc.labelled(
                [tuple(r) for r in spark.sql(lc.leads_sql(lc.LEADS_FROM, lc.LEADS_TO)).collect()], codes
            )
            lc.compare(
                "lead_conversion " + lc.LEADS_PERIOD, lc.cli_kpi(db, "lead_conversion", lc.LEADS_PERIOD), leads
            )

            sql_status = {r[0]: int(r[1]) for r in spark.sql(lc.owner_status_sql(lc.AS_OF)).collect()}
        finally:
            spark.stop()
        with autocrm.Database.open(str(db), read_only=True) as d, d.read() as r:
            ours = {s: len(r.evaluate(f'owner_status = "{s}"', lc.AS_OF)) for s in STATUSES}
        theirs = {s: sql_status.get(s, 0) for s in STATUSES}
        assert ours == theirs, f"owner status on {lc.AS_OF}: autocrm {ours}, Spark {theirs}"
        assert sum(ours.values()) > 0 and len([n for n in ours.values() if n]) >= 4, ours
        print(f"owner status on {lc.AS_OF}: equal {ours}")
    print(f"Spark check passed in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
