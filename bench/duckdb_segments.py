"""DuckDB side of autocrm-bench's segment section.

Usage: duckdb_segments.py DIR RUNS name=value...  (the SQL comes in OWNER_SQL and COMPOSITE_SQL)

Loads DIR/ownership.csv, DIR/touchpoints.csv and DIR/vehicles.csv into an in-memory DuckDB
database, runs each query once to warm up and RUNS times timed, and prints one line:
"load_s owner_median_s composite_median_s owner_members composite_members".
"""

import os
import statistics
import sys
import time

import duckdb


def main() -> None:
    folder, runs = sys.argv[1], int(sys.argv[2])
    params = {k: int(v) for k, v in (a.split("=", 1) for a in sys.argv[3:])}
    con = duckdb.connect()
    started = time.perf_counter()
    con.execute(
        "CREATE TABLE ownership AS SELECT * FROM read_csv(?, header = true, columns = "
        "{'vehicle_id': 'BIGINT', 'customer_id': 'BIGINT', 'owned_from': 'BIGINT', "
        "'owned_to': 'BIGINT'})",
        [os.path.join(folder, "ownership.csv")],
    )
    con.execute(
        "CREATE TABLE touchpoints AS SELECT * FROM read_csv(?, header = true, columns = "
        "{'customer_id': 'BIGINT', 'at': 'BIGINT', 'kind': 'BIGINT', 'amount': 'BIGINT'})",
        [os.path.join(folder, "touchpoints.csv")],
    )
    con.execute(
        "CREATE TABLE vehicles AS SELECT * FROM read_csv(?, header = true, columns = "
        "{'id': 'BIGINT', 'model': 'VARCHAR'})",
        [os.path.join(folder, "vehicles.csv")],
    )
    load = time.perf_counter() - started

    def timed(sql: str) -> tuple[float, int]:
        used = {k: v for k, v in params.items() if "$" + k in sql}
        n = len(con.execute(sql, used).fetchall())
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            rows = con.execute(sql, used).fetchall()
            times.append(time.perf_counter() - t)
            assert len(rows) == n
        return statistics.median(times), n

    owner, owner_n = timed(os.environ["OWNER_SQL"])
    composite, composite_n = timed(os.environ["COMPOSITE_SQL"])
    print(f"{load} {owner} {composite} {owner_n} {composite_n}")


if __name__ == "__main__":
    main()
