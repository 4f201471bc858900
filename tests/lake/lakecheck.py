"""Shared by check_duckdb.py and check_spark.py: build a small database, export it with the
CLI (`autocrm export`), ask the CLI for KPI rows (`autocrm kpi`), and the SQL that recomputes
those rows from the Parquet folder alone. The SQL is written once for both engines (ANSI
window functions and joins; no engine-specific date functions: boundary dates are literals
computed here).

The KPI definitions reproduced are core/src/kpi/formulas.rs's, to the letter:

- after_sales_churn, period P with last day D: valid customers = owning a vehicle on D with
  a service visit in (D - 365, D]; churned = no service visit in (D - 183, D]; attributed to
  the home dealer on D;
- lead_conversion, period [from, to): leads received on a day in P; won = status 'won' and
  (no status time or its day < to); attributed to the lead's dealer, else the customer's home
  dealer on the receipt day.

The home dealer on day d (analytics CustomerFacts::home_dealer): the dealer of the latest
service visit on or before d that names one, else the selling dealer of the vehicle the
customer acquired last on or before d, else the dealer of the latest touchpoint on or before d
that names one.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parents[2]

#: The day the synthetic history ends (autocrm.synth's default as_of) and the periods checked.
AS_OF = dt.date(2026, 6, 30)
CHURN_PERIOD = "2026-Q2"  # last day = AS_OF
LEADS_PERIOD = "2025"
LEADS_FROM, LEADS_TO = dt.date(2025, 1, 1), dt.date(2026, 1, 1)


def parse_args(doc: str, customers: int, seed: int) -> argparse.Namespace:
    """The options every check takes: network size, seed, and a folder to keep the work in."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--customers", type=int, default=customers)
    p.add_argument("--seed", type=int, default=seed)
    p.add_argument("--keep", help="work in this folder (kept) instead of a temporary one")
    return p.parse_args()


def pip_install(*packages: str) -> None:
    """Installs `packages` with pip (quietly; a no-op for those already there)."""
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *packages],
        check=True,
    )


def ensure_autocrm() -> None:
    """The autocrm Python package (for the synthetic network and the owner-status counts):
    built from this checkout if it is not installed."""
    try:
        import autocrm  # noqa: F401
    except ImportError:
        pip_install(str(ROOT / "bindings" / "python"))


def cli() -> List[str]:
    """The command that runs the autocrm CLI: $AUTOCRM_BIN, else `cargo run` of this checkout."""
    exe = os.environ.get("AUTOCRM_BIN")
    if exe:
        return [exe]
    return ["cargo", "run", "--quiet", "--manifest-path", str(ROOT / "Cargo.toml"), "-p", "autocrm-cli", "--"]


def run_cli(db: Path, *args: str) -> str:
    out = subprocess.run([*cli(), "--db", str(db), *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"autocrm {' '.join(args)} failed:\n{out.stderr}")
    return out.stdout


def build(work: Path, customers: int, seed: int) -> Path:
    """A synthetic dealer network in `work/crm.redb`, exported to `work/lake` by the CLI."""
    import autocrm

    db_path = work / "crm.redb"
    with autocrm.Database.open(str(db_path), durable=False) as db:
        stats = autocrm.synth.generate(db, customers=customers, seed=seed, as_of=AS_OF)
    print(f"generated {stats['customers']} customers, {stats['touchpoints']} touchpoints, {stats['leads']} leads")
    print(run_cli(db_path, "export", str(work / "lake"), "--as-of", AS_OF.isoformat()), end="")
    return db_path


Rows = Dict[str, Tuple[float, float]]


def cli_kpi(db: Path, name: str, period: str) -> Rows:
    """`autocrm kpi NAME --period P --by dealer` as {dealer code: (numerator, denominator)}."""
    text = run_cli(db, "kpi", name, "--period", period, "--by", "dealer")
    rows = {}
    for r in csv.DictReader(io.StringIO(text)):
        rows[r["label"]] = (float(r["numerator"]), float(r["denominator"]))
    return rows


def compare(name: str, autocrm_rows: Rows, sql_rows: Rows) -> None:
    """Asserts the rows are equal (a dealer missing on one side counts as 0 / 0)."""
    labels = sorted(set(autocrm_rows) | set(sql_rows))
    bad = [
        (label, autocrm_rows.get(label, (0.0, 0.0)), sql_rows.get(label, (0.0, 0.0)))
        for label in labels
        if autocrm_rows.get(label, (0.0, 0.0)) != sql_rows.get(label, (0.0, 0.0))
    ]
    if bad:
        raise SystemExit(f"{name}: autocrm and SQL differ (label, autocrm, sql): {bad}")
    den = sum(d for _, d in autocrm_rows.values())
    if den == 0:
        raise SystemExit(f"{name}: no rows counted; the check would prove nothing")
    print(f"{name}: {len(labels)} dealer rows equal ({den:.0f} counted)")


def lit(d: dt.date) -> str:
    return f"DATE '{d.isoformat()}'"


def home_dealer_sql(queries: str) -> str:
    """SQL of (customer, day, home) for each (customer, day) row of relation `queries`.

    Needs the views tp (touchpoints, with `at` also as `ts`: AT is a keyword in DuckDB), own
    (ownership with from_day / to_day: FROM and TO are keywords) and veh (vehicles)."""
    return f"""
    WITH q AS (SELECT DISTINCT customer, day FROM {queries}),
    sv AS (
        SELECT q.customer, q.day, t.dealer,
               ROW_NUMBER() OVER (PARTITION BY q.customer, q.day ORDER BY t.ts DESC, t.id DESC) AS rn
        FROM q JOIN tp t ON t.customer = q.customer
        WHERE t.kind = 'service_visit' AND t.dealer IS NOT NULL AND CAST(t.ts AS DATE) <= q.day
    ),
    acq AS (
        SELECT o.customer, o.vehicle, MIN(o.from_day) AS acquired
        FROM own o GROUP BY o.customer, o.vehicle
    ),
    sold AS (
        SELECT q.customer, q.day, v.selling_dealer,
               ROW_NUMBER() OVER (PARTITION BY q.customer, q.day ORDER BY a.acquired DESC, a.vehicle DESC) AS rn
        FROM q JOIN acq a ON a.customer = q.customer JOIN veh v ON v.id = a.vehicle
        WHERE a.acquired <= q.day
    ),
    anytp AS (
        SELECT q.customer, q.day, t.dealer,
               ROW_NUMBER() OVER (PARTITION BY q.customer, q.day ORDER BY t.ts DESC, t.id DESC) AS rn
        FROM q JOIN tp t ON t.customer = q.customer
        WHERE t.dealer IS NOT NULL AND CAST(t.ts AS DATE) <= q.day
    )
    SELECT q.customer, q.day, COALESCE(sv.dealer, sold.selling_dealer, anytp.dealer) AS home
    FROM q
    LEFT JOIN sv ON sv.customer = q.customer AND sv.day = q.day AND sv.rn = 1
    LEFT JOIN sold ON sold.customer = q.customer AND sold.day = q.day AND sold.rn = 1
    LEFT JOIN anytp ON anytp.customer = q.customer AND anytp.day = q.day AND anytp.rn = 1
    """


def all_customers_on(d: dt.date) -> str:
    """A relation of (customer, day): every customer, on `d`."""
    return f"(SELECT id AS customer, {lit(d)} AS day FROM customers)"


def churn_sql(d: dt.date) -> str:
    """after_sales_churn on D = `d`: (dealer id or NULL, numerator, denominator)."""
    d365, d183 = d - dt.timedelta(days=365), d - dt.timedelta(days=183)
    return f"""
    WITH sv AS (SELECT customer, CAST(ts AS DATE) AS day FROM tp WHERE kind = 'service_visit'),
    owners AS (
        SELECT DISTINCT customer FROM own
        WHERE from_day <= {lit(d)} AND (to_day IS NULL OR {lit(d)} < to_day)
    ),
    valid AS (SELECT DISTINCT customer FROM sv WHERE day > {lit(d365)} AND day <= {lit(d)}),
    recent AS (SELECT DISTINCT customer FROM sv WHERE day > {lit(d183)} AND day <= {lit(d)}),
    base AS (
        SELECT o.customer, CASE WHEN r.customer IS NULL THEN 1 ELSE 0 END AS churned
        FROM owners o JOIN valid v ON v.customer = o.customer
        LEFT JOIN recent r ON r.customer = o.customer
    ),
    home AS ({home_dealer_sql(all_customers_on(d))})
    SELECT h.home AS dealer, SUM(b.churned) AS num, COUNT(*) AS den
    FROM base b LEFT JOIN home h ON h.customer = b.customer
    GROUP BY h.home
    """


def leads_sql(start: dt.date, end: dt.date) -> str:
    """lead_conversion over [start, end): (dealer id or NULL, numerator, denominator)."""
    return f"""
    WITH l AS (
        SELECT customer, dealer, CAST(received AS DATE) AS day, status, status_at FROM leads
        WHERE CAST(received AS DATE) >= {lit(start)} AND CAST(received AS DATE) < {lit(end)}
    ),
    nodealer AS (SELECT customer, day FROM l WHERE dealer IS NULL),
    home AS ({home_dealer_sql("nodealer")})
    SELECT COALESCE(l.dealer, h.home) AS dealer,
           SUM(CASE WHEN l.status = 'won'
                     AND (l.status_at IS NULL OR CAST(l.status_at AS DATE) < {lit(end)})
                    THEN 1 ELSE 0 END) AS num,
           COUNT(*) AS den
    FROM l LEFT JOIN home h ON h.customer = l.customer AND h.day = l.day
    GROUP BY COALESCE(l.dealer, h.home)
    """


def home_mismatch_sql(d: dt.date) -> str:
    """Customers whose SQL home dealer on `d` differs from the exported home_dealers table
    (written with --as-of d): the count must be 0."""
    return f"""
    WITH home AS ({home_dealer_sql(all_customers_on(d))})
    SELECT COUNT(*) AS n FROM home h JOIN home_dealers e ON e.customer = h.customer
    WHERE NOT ((h.home IS NULL AND e.home_dealer IS NULL) OR h.home = e.home_dealer)
    """


def owner_status_sql(d: dt.date, window: int = 365, recent: int = 90) -> str:
    """DOMAIN §5 owner status of every C-card customer on `d`: (status, count)."""
    start, rec = d - dt.timedelta(days=window), d - dt.timedelta(days=recent)
    return f"""
    WITH sv AS (SELECT customer, CAST(ts AS DATE) AS day FROM tp WHERE kind = 'service_visit'),
    c AS (
        SELECT DISTINCT customer FROM own
        WHERE from_day <= {lit(d)} AND (to_day IS NULL OR {lit(d)} < to_day)
    ),
    w AS (
        SELECT customer, COUNT(*) AS n, MAX(day) AS last FROM sv
        WHERE day > {lit(start)} AND day <= {lit(d)} GROUP BY customer
    ),
    earlier AS (SELECT DISTINCT customer FROM sv WHERE day <= {lit(start)}),
    firstcar AS (SELECT customer, MIN(from_day) AS first FROM own GROUP BY customer)
    SELECT CASE
             WHEN w.n >= 3 THEN 'active'
             WHEN w.n = 2 THEN 'swinging'
             WHEN w.n = 1 AND w.last < {lit(rec)} THEN 'at_risk'
             WHEN w.n = 1 THEN 'recent'
             WHEN e.customer IS NOT NULL OR f.first <= {lit(start)} THEN 'churned'
             ELSE 'new_owner'
           END AS status,
           COUNT(*) AS n
    FROM c
    LEFT JOIN w ON w.customer = c.customer
    LEFT JOIN earlier e ON e.customer = c.customer
    LEFT JOIN firstcar f ON f.customer = c.customer
    GROUP BY 1
    """


def labelled(rows, codes: Dict[int, str]) -> Rows:
    """SQL rows (dealer id or None, num, den) keyed as autocrm labels them."""
    out: Rows = {}
    for dealer, num, den in rows:
        label = "(unattributed)" if dealer is None or int(dealer) not in codes else codes[int(dealer)]
        n, d = out.get(label, (0.0, 0.0))
        out[label] = (n + float(num), d + float(den))
    return out
