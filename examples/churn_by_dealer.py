#!/usr/bin/env python3
"""Churn risk and after-sales KPIs per dealer, from a synthetic dealer network.

    python3 examples/churn_by_dealer.py --customers 20000 --db churn.redb --out churn_by_dealer.png

1. generates a seeded synthetic dealer network into a database file (``autocrm.synth``);
2. finds the churn-risk owners as of the period's last day with the rule
   ``owner_status in ["at_risk", "churned"]`` and counts them per home dealer;
3. computes retention and after-sales churn by dealer for the period (core KPIs);
4. prints a table (worst after-sales churn first) and saves a bar chart as PNG.

Needs the ``autocrm`` Python package, ``polars`` and ``matplotlib``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
import unicodedata

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import polars as pl  # noqa: E402

import autocrm  # noqa: E402

RISK_RULE = 'owner_status in ["at_risk", "churned"]'


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--customers", type=int, default=20_000, help="customers to generate (default 20000)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--db", default="churn_by_dealer.redb", help="database file (recreated)")
    p.add_argument("--period", default="2026-Q2", help='KPI period: "2026", "2026-H1", "2026-Q2", "2026-05"')
    p.add_argument("--top", type=int, default=15, help="dealers in the printed table and the chart")
    p.add_argument("--out", default="churn_by_dealer.png", help="PNG chart path")
    return p.parse_args(argv)


def pad(text: str, width: int) -> str:
    """Left-align text in `width` terminal columns (CJK characters take two)."""
    cols = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - cols)


def network_value(r, name: str, period: str):
    row = r.kpi(name, by="network", period=period)[0]
    return row.numerator, row.denominator, row.value


def kpi_frame(r, name: str, period: str) -> pl.DataFrame:
    """One KPI by dealer as a polars frame: dealer code (the row label), numerator,
    denominator, value. The unattributed row, if any, is dropped."""
    df = pl.DataFrame(r.kpi(name, by="dealer", period=period))
    return df.filter(pl.col("dimension") == "dealer").select(
        pl.col("label").alias("code"),
        pl.col("period_from"),
        pl.col("period_to"),
        pl.col("numerator").alias(f"{name}_num"),
        pl.col("denominator").alias(f"{name}_den"),
        pl.col("value").alias(name),
    )


def main(argv=None) -> int:
    args = parse_args(argv)
    t0 = time.perf_counter()
    if os.path.exists(args.db):
        os.remove(args.db)

    # 1. the network, written in bulk (not fsynced per batch), then reopened durable
    with autocrm.Database.open(args.db, durable=False) as db:
        stats = autocrm.synth.generate(db, customers=args.customers, seed=args.seed)
    t_gen = time.perf_counter() - t0
    print(
        f"generated {stats['customers']:,} customers, {stats['vehicles']:,} vehicles, "
        f"{stats['touchpoints']:,} touchpoints at {stats['dealers']} dealers "
        f"into {args.db} in {t_gen:.1f}s"
    )

    with autocrm.Database.open(args.db) as db, db.read() as r:
        t1 = time.perf_counter()
        dealers = pl.DataFrame(
            [{"dealer_id": d.id, "code": d.code, "dealer": d.name, "region": d.region} for d in r.dealers()],
            schema={"dealer_id": pl.UInt64, "code": pl.Utf8, "dealer": pl.Utf8, "region": pl.Utf8},
        )

        # 3. KPIs first: they tell us the period's as-of day (the last day of the period)
        retention = kpi_frame(r, "retention", args.period)
        churn = kpi_frame(r, "after_sales_churn", args.period)
        period_from, period_to = retention["period_from"][0], retention["period_to"][0]
        as_of = period_to - dt.timedelta(days=1)

        net_retention = network_value(r, "retention", args.period)
        net_churn = network_value(r, "after_sales_churn", args.period)

        # 2. churn-risk owners as of that day, per home dealer
        risk = pl.DataFrame(r.evaluate(RISK_RULE, as_of))
        # home dealer: the dealer of the latest service visit on or before as_of, else the
        # selling dealer of the newest vehicle (core's attribution for per-dealer figures)
        tps = (
            pl.DataFrame(r.touchpoints_table())
            .filter(
                (pl.col("kind") == "service_visit")
                & (pl.col("at").dt.date() <= as_of)
                & pl.col("dealer").is_not_null()
            )
            .select("customer", "at", "dealer")
        )
        last_visit = tps.group_by("customer").agg(pl.col("dealer").sort_by("at").last().alias("visit_dealer"))
        vehicles = pl.DataFrame(r.vehicles_table()).select("owner", "owner_since", "selling_dealer")
        last_car = (
            vehicles.filter(pl.col("owner").is_not_null() & (pl.col("owner_since") <= as_of))
            .group_by("owner")
            .agg(pl.col("selling_dealer").sort_by("owner_since").last().alias("car_dealer"))
            .rename({"owner": "customer"})
        )
        risk_by_dealer = (
            risk.rename({"customer_id": "customer"})
            .join(last_visit, on="customer", how="left")
            .join(last_car, on="customer", how="left")
            .with_columns(pl.coalesce("visit_dealer", "car_dealer").alias("dealer_id"))
            .group_by("dealer_id")
            .agg(pl.len().alias("risk_owners"))
        )
        t_an = time.perf_counter() - t1

    table = (
        dealers.join(risk_by_dealer, on="dealer_id", how="left")
        .with_columns(pl.col("risk_owners").fill_null(0))
        .join(retention.drop("period_from", "period_to"), on="code", how="left")
        .join(churn.drop("period_from", "period_to"), on="code", how="left")
    )
    table = table.sort(["after_sales_churn", "risk_owners"], descending=True, nulls_last=True)

    total_risk = int(risk.height)

    print(f"period {period_from} .. {period_to} (as of {as_of}); rule: {RISK_RULE}")
    print(f"churn-risk owners: {total_risk:,} of {stats['customers']:,} customers")
    for label, (num, den, value) in (("retention", net_retention), ("after-sales churn", net_churn)):
        shown = "—" if value is None else f"{value:.1%}"
        print(f"network {label}: {num:,.0f} / {den:,.0f} = {shown}")
    print()
    top = table.head(args.top)
    header = f"{'code':<8} {pad('dealer', 24)} {'region':<8} {'at risk':>7} {'retention':>10} {'churn':>7} {'owners':>7}"
    print("'at risk': owners matching the rule, by home dealer; 'owners': the churn KPI's valid owners")
    print(header)
    print("-" * len(header))
    for row in top.iter_rows(named=True):
        ret = "—" if row["retention"] is None else f"{row['retention']:.1%}"
        ch = "—" if row["after_sales_churn"] is None else f"{row['after_sales_churn']:.1%}"
        valid = row["after_sales_churn_den"] or 0
        name = (row["dealer"] or "")[:12]
        print(f"{row['code']:<8} {pad(name, 24)} {row['region']:<8} {row['risk_owners']:>7} {ret:>10} {ch:>7} {valid:>7.0f}")
    if table.height > args.top:
        print(f"... {table.height - args.top} more dealers")

    # 4. the chart
    plot = top.filter(pl.col("after_sales_churn").is_not_null())
    fig, ax1 = plt.subplots(figsize=(max(8, 0.6 * plot.height + 3), 5))
    x = range(plot.height)
    ax1.bar([i - 0.2 for i in x], plot["after_sales_churn"].to_list(), width=0.4, label="after-sales churn", color="#d62728")
    ax1.bar([i + 0.2 for i in x], plot["retention"].fill_null(0).to_list(), width=0.4, label="retention", color="#1f77b4")
    ax1.set_ylabel("ratio")
    ax1.set_ylim(0, 1.25)
    ax1.set_xticks(list(x))
    ax1.set_xticklabels(plot["code"].to_list(), rotation=45, ha="right")
    ax2 = ax1.twinx()
    ax2.plot(list(x), plot["risk_owners"].to_list(), "ko", label="churn-risk owners (right axis)")
    ax2.set_ylim(0, max(plot["risk_owners"].max() or 1, 1) * 1.25)
    ax2.set_ylabel("owners at risk or churned")
    h1, l1 = ax1.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax1.legend(h1 + h2, l1 + l2, loc="upper center", ncol=3, fontsize=8, frameon=False)
    ax1.set_title(f"Churn by dealer, {period_from} – {period_to - dt.timedelta(days=1)} ({stats['customers']:,} customers)")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    plt.close(fig)
    print(f"\nchart saved to {args.out}; analytics took {t_an:.1f}s, total {time.perf_counter() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
