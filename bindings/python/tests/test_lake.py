"""The lakehouse export (`Database.export_lake`, `ScopedDatabase.export_lake`; docs/export.md):
Parquet files readable by pyarrow and DuckDB with the rows of the Arrow tables, touchpoints in
month folders, the report dict, a foreign folder refused with nothing written, a scope's
export holding only its customers."""

from __future__ import annotations

import datetime as dt
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import autocrm

TABLES = [
    "dealers", "customers", "vehicles", "ownership", "touchpoints", "leads", "complaints",
    "surveys", "postings", "lots", "home_dealers",
]


def files_under(root):
    return sorted(
        os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs
    )


def test_export_lake_round_trip(synth_db, tmp_path):
    db = synth_db.db
    out = tmp_path / "lake"
    report = db.export_lake(out, as_of="2026-06-30")
    assert [t["name"] for t in report["tables"]] == TABLES
    assert report["dir"] == str(out)
    assert report["as_of"] == dt.date(2026, 6, 30)
    assert isinstance(report["snapshot_at"], dt.datetime)
    assert report["scope"] is None
    assert report["rows"] == sum(t["rows"] for t in report["tables"])
    assert report["bytes"] == sum(os.path.getsize(out / f) for f in files_under(out) if f.endswith(".parquet"))
    assert report["files"] == sum(1 for f in files_under(out) if f.endswith(".parquet"))
    assert report["rows_per_second"] > 0
    by_name = {t["name"]: t for t in report["tables"]}
    # Row counts equal the Arrow tables'.
    with db.read() as r:
        arrow_rows = {
            "customers": r.customers_table().num_rows,
            "vehicles": r.vehicles_table().num_rows,
            "ownership": r.ownership_table().num_rows,
            "touchpoints": r.touchpoints_table().num_rows,
            "leads": r.leads_table().num_rows,
            "complaints": r.complaints_table().num_rows,
            "surveys": r.surveys_table().num_rows,
        }
    for name, n in arrow_rows.items():
        assert n > 0
        assert by_name[name]["rows"] == n, name
        read = sum(pq.read_table(out / f["path"]).num_rows for f in by_name[name]["files"])
        assert read == n, name
    assert by_name["customers"]["rows"] == synth_db.stats["customers"]
    # Touchpoints: one hive folder per month, each holding only its month.
    tp = by_name["touchpoints"]
    assert tp["partitioned_by"] == "month" and len(tp["files"]) > 12
    for f in tp["files"][:5]:
        assert f["path"] == f"touchpoints/month={f['partition']}/part-0.parquet"
        at = pq.read_table(out / f["path"]).column("at").to_pylist()
        assert {t.strftime("%Y-%m") for t in at} == {f["partition"]}
    # The whole partitioned table through pyarrow's dataset reader, with the month column.
    ds = pq.read_table(out / "touchpoints", partitioning="hive")
    assert ds.num_rows == arrow_rows["touchpoints"]
    assert "month" in ds.column_names
    # The manifest, written last; no change-feed position while the feed is off.
    m = json.loads((out / "_manifest.json").read_text())
    assert m["format"] == "autocrm-lake" and m["format_version"] == 1
    assert "sequence" in m and m["sequence"] is None
    assert [t["name"] for t in m["tables"]] == TABLES
    assert not [f for f in files_under(out) if f.endswith(".tmp")]


def test_export_lake_duckdb_reads_the_partitions(synth_db, tmp_path):
    duckdb = pytest.importorskip("duckdb")
    out = tmp_path / "lake"
    synth_db.db.export_lake(str(out))
    con = duckdb.connect()
    n, months = con.execute(
        "select count(*), count(distinct month) from read_parquet(?, hive_partitioning=true)",
        [str(out / "touchpoints" / "*" / "*.parquet")],
    ).fetchone()
    assert n == synth_db.db.touchpoint_count()
    assert months > 12


def test_a_foreign_folder_is_refused_and_left_alone(db, tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(autocrm.InvalidOperationError) as e:
        db.export_lake(tmp_path)
    assert e.value.code == "invalid_operation.export_target_not_empty"
    assert files_under(tmp_path) == ["mine.txt"]
    # An earlier export is replaced.
    out = tmp_path / "lake"
    first = db.export_lake(out)
    second = db.export_lake(out)
    assert first["rows"] == second["rows"] == 0


def test_scoped_export_lake_holds_only_the_scopes_customers(synth_db, tmp_path):
    db = synth_db.db
    code = db.dealers()[0].code
    s = db.scoped(f"dealer:{code}", "tester")
    report = s.export_lake(tmp_path / "d")
    assert report["scope"] == f"dealer:{code}"
    ids = set(pq.read_table(tmp_path / "d" / "customers" / "part-0.parquet").column("id").to_pylist())
    assert ids == set(pa.table(s.customers_table()).column("id").to_pylist())
    assert 0 < len(ids) < synth_db.stats["customers"]
    tp = pq.read_table(tmp_path / "d" / "touchpoints", partitioning="hive")
    assert set(tp.column("customer").to_pylist()) <= ids
    assert tp.num_rows == s.touchpoints_table().num_rows
    assert json.loads((tmp_path / "d" / "_manifest.json").read_text())["scope"] == f"dealer:{code}"
    with pytest.raises(autocrm.AccessDeniedError):
        db.scoped("hq:call_centre", "tester").export_lake(tmp_path / "none")
    assert not (tmp_path / "none").exists()


def test_incremental_export_appends_what_changed(tmp_path):
    db = autocrm.Database.in_memory()
    keep = db.insert_customer(name="王小明")
    lake = tmp_path / "lake"
    first = db.export_lake(lake)
    assert first["sequence"] is None
    with pytest.raises(autocrm.InvalidOperationError) as e:
        db.export_lake(lake, incremental=True)
    assert e.value.code == "invalid_operation.export_not_incremental"

    db.register_consumer("lake")
    snap = db.export_lake(lake)
    assert snap["sequence"] == 0
    db.update_customer(keep, name="王晓明")
    gone = db.insert_customer(name="李小红")
    db.delete_customer(gone)
    inc = db.export_lake(lake, incremental=True)
    assert inc["sequence"] == db.last_change() == 3
    part = lake / "customers" / "part-3.parquet"
    rows = pq.read_table(part).to_pylist()
    assert [(r["id"], r["name"]) for r in rows] == [(keep, "王晓明")]
    deletions = pq.read_table(lake / "_deletions" / "part-3.parquet").to_pylist()
    assert deletions == [{"table": "customers", "id": gone, "sequence": 3}]
    manifest = json.loads((lake / "_manifest.json").read_text())
    assert manifest["sequence"] == 3
    assert manifest["kind"] == "snapshot+increments"
