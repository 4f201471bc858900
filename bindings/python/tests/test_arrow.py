"""Arrow export (PyCapsule stream) consumed by pyarrow, polars and pandas, with exact values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import polars as pl
import pytest

import autocrm
from conftest import CREDIT_CODE, national_id, vin

D = dt.date
T = dt.datetime

CUSTOMER_COLUMNS = [
    "id", "kind", "name", "gender", "birth_date", "national_id", "credit_code", "phones",
    "province", "city", "occupation", "employer", "industry", "source_system", "source_record_id",
]


def test_customers_table_pyarrow(small):
    t = small.db.customers_table()
    assert t.num_rows == 4
    assert list(t.column_names) == CUSTOMER_COLUMNS
    at = pa.table(t)
    assert at.column_names == CUSTOMER_COLUMNS
    s = at.schema
    assert s.field("id").type == pa.uint64()
    assert s.field("birth_date").type == pa.date32()
    assert s.field("phones").type in (pa.list_(pa.utf8()), pa.list_(pa.large_utf8()), pa.large_list(pa.utf8()))
    rows = {r["id"]: r for r in at.to_pylist()}
    assert sorted(rows) == sorted([small.wang, small.li, small.fleet, small.zhao])
    w = rows[small.wang]
    assert w["name"] == "王小明" and w["kind"] == "person" and w["gender"] == "male"
    assert w["birth_date"] == D(1990, 3, 15)
    assert w["national_id"] == national_id("19900315", 11)
    assert w["phones"] == ["13812345678"]
    assert (w["source_system"], w["source_record_id"]) == ("dms", "C-1")
    f = rows[small.fleet]
    assert f["kind"] == "organisation" and f["credit_code"] == CREDIT_CODE
    assert f["gender"] is None and f["phones"] == []
    assert rows[small.li]["source_system"] is None


def test_customers_table_polars(small):
    df = pl.DataFrame(small.db.customers_table())
    assert df.height == 4
    assert df.schema["id"] == pl.UInt64
    assert df.schema["birth_date"] == pl.Date
    assert df["id"].to_list() == sorted([small.wang, small.li, small.fleet, small.zhao])
    w = df.filter(pl.col("id") == small.wang)
    assert w["birth_date"][0] == D(1990, 3, 15)
    assert w["phones"][0].to_list() == ["13812345678"]
    assert df.filter(pl.col("kind") == "organisation")["name"].to_list() == ["上海某某出租汽车有限公司"]
    # polars.from_arrow accepts it too (polars 1.x/2.x read a bare C stream as a struct Series)
    x = pl.from_arrow(small.db.customers_table())
    x = x.struct.unnest() if isinstance(x, pl.Series) else x
    assert x.equals(df)
    # convenience
    assert small.db.customers_table().to_polars().equals(df)


def test_customers_table_pandas(small):
    pdf = pa.table(small.db.customers_table()).to_pandas()
    assert len(pdf) == 4
    w = pdf[pdf["id"] == small.wang].iloc[0]
    assert w["name"] == "王小明"
    assert list(w["phones"]) == ["13812345678"]
    assert w["birth_date"] == D(1990, 3, 15)
    pdf2 = small.db.customers_table().to_pandas()
    assert list(pdf2.columns) == CUSTOMER_COLUMNS
    assert sorted(pdf2["id"].tolist()) == sorted(pdf["id"].tolist())


def test_vehicles_table(small):
    small.db.transfer_vehicle(small.jetta, small.zhao, "2025-06-01")
    t = pa.table(small.db.vehicles_table())
    assert t.num_rows == 3
    s = t.schema
    assert s.field("id").type == pa.uint64()
    assert s.field("purchase_date").type == pa.date32()
    assert s.field("owner").type == pa.uint64()
    assert s.field("owner_since").type == pa.date32()
    rows = {r["vin"]: r for r in t.to_pylist()}
    p = rows[vin(183294)]
    assert (p["id"], p["model"], p["plate"], p["owner"]) == (small.passat, "Passat", "沪A12345", small.wang)
    assert p["purchase_date"] == D(2023, 5, 1) and p["owner_since"] == D(2023, 5, 1)
    assert p["selling_dealer"] == small.sh
    j = rows[vin(100001)]
    assert (j["owner"], j["owner_since"]) == (small.zhao, D(2025, 6, 1))
    assert rows[vin(100002)]["usage"] == "taxi"
    df = pl.DataFrame(small.db.vehicles_table())
    assert df.group_by("model").len().sort("model")["model"].to_list() == ["Jetta", "Lavida", "Passat"]


def test_touchpoints_table_exact_money_and_times(small):
    t = pa.table(small.db.touchpoints_table())
    assert t.num_rows == 5
    s = t.schema
    assert s.field("at").type == pa.timestamp("s")
    assert s.field("amount").type == pa.decimal128(18, 2)
    assert s.field("mileage_km").type == pa.uint32()
    assert s.field("sensitive").type == pa.bool_()
    rows = {r["id"]: r for r in t.to_pylist()}
    s1 = rows[small.tp_s1]
    assert s1["at"] == T(2024, 6, 10, 9, 30)
    assert s1["amount"] == Decimal("1200.50")
    assert s1["parts_amount"] == Decimal("700.50")
    assert s1["labour_amount"] == Decimal("500.00")
    assert (s1["kind"], s1["service_kind"], s1["channel"]) == ("service_visit", "first_service", "showroom")
    assert s1["mileage_km"] == 12000
    assert rows[small.tp_zhao]["amount"] is None
    total = pa.compute.sum(t.column("amount")).as_py()
    assert total == Decimal("182650.50")  # 180000 + 1200.50 + 800 + 650
    # one customer's timeline only
    w = pa.table(small.db.touchpoints_table(customer=small.wang))
    assert sorted(w.column("id").to_pylist()) == sorted([small.tp_purchase, small.tp_s1, small.tp_s2])


def test_touchpoints_polars_and_pandas_money(small):
    df = pl.DataFrame(small.db.touchpoints_table())
    assert isinstance(df.schema["amount"], pl.Decimal)
    assert isinstance(df.schema["at"], pl.Datetime) and df.schema["at"].time_zone is None
    assert df["at"].dt.date().to_list().count(D(2025, 3, 1)) == 1
    spend = (
        df.filter(pl.col("kind") == "service_visit")
        .group_by("customer")
        .agg(pl.col("amount").sum())
        .sort("customer")
    )
    got = dict(zip(spend["customer"].to_list(), spend["amount"].to_list()))
    assert got == {small.wang: Decimal("2000.50"), small.li: Decimal("650.00")}
    pdf = small.db.touchpoints_table().to_pandas()
    w = pdf[(pdf["customer"] == small.wang) & (pdf["kind"] == "service_visit")]
    assert sum(w["amount"]) == Decimal("2000.50")
    assert sorted(x.to_pydatetime() for x in w["at"]) == [T(2024, 6, 10, 9, 30), T(2025, 3, 1, 14, 15, 30)]


def test_capsule_protocol_directly(small):
    t = small.db.customers_table()
    cap = t.__arrow_c_stream__()
    assert type(cap).__name__ == "PyCapsule"
    # requested_schema=None is accepted
    reader = pa.RecordBatchReader.from_stream(small.db.customers_table())
    assert reader.read_all().num_rows == 4


def test_empty_tables_have_schema(db):
    t = pa.table(db.customers_table())
    assert t.num_rows == 0
    assert t.column_names == CUSTOMER_COLUMNS
    assert t.schema.field("id").type == pa.uint64()
    assert pl.DataFrame(db.touchpoints_table()).height == 0
    assert len(db.touchpoints_table().to_pandas()) == 0


def test_read_txn_tables_are_a_snapshot(small):
    with small.db.read() as r:
        small.db.insert_customer(name="钱多多")
        assert pa.table(r.customers_table()).num_rows == 4
    assert pa.table(small.db.customers_table()).num_rows == 5


# --- the synthetic network ------------------------------------------------------------------------


def test_synth_tables_match_counts(synth_db):
    db, st = synth_db.db, synth_db.stats
    for key in ("dealers", "customers", "vehicles", "touchpoints", "leads", "complaints", "surveys", "records"):
        assert key in st, key
    assert st["customers"] == 2000
    assert db.customer_count() == 2000
    assert db.vehicle_count() == st["vehicles"]
    assert db.touchpoint_count() == st["touchpoints"]
    assert len(db.dealers()) == st["dealers"]
    c = pa.table(db.customers_table())
    v = pa.table(db.vehicles_table())
    tp = pa.table(db.touchpoints_table())
    assert c.num_rows == 2000
    assert v.num_rows == st["vehicles"]
    assert tp.num_rows == st["touchpoints"]
    assert c.column("id").to_pylist() == db.customer_ids()
    assert pa.compute.count_distinct(c.column("id")).as_py() == 2000
    # ~7 % organisations, the rest persons; organisations carry credit codes
    kinds = dict(zip(*[x.to_pylist() for x in pa.compute.value_counts(c.column("kind")).flatten()]))
    assert kinds["person"] + kinds.get("organisation", 0) == 2000
    assert 40 <= kinds.get("organisation", 0) <= 300
    df = pl.DataFrame(db.customers_table())
    assert df.filter(pl.col("kind") == "organisation")["credit_code"].null_count() == 0


def test_customers_table_threads_give_the_same_rows_in_order(synth_db, small):
    db = synth_db.db
    with db.read() as r:
        one = pa.table(r.customers_table(threads=1))
        for threads in (2, 3, 7):
            t = r.customers_table(threads=threads)
            assert t.num_rows == len(t) == 2000
            got = pa.table(t)
            assert len(got.column("id").chunks) == threads  # one record batch per thread
            assert got.schema == one.schema and got.equals(one)
            assert pl.DataFrame(t).equals(pl.DataFrame(one))
        assert pa.table(r.customers_table()).equals(one)
    # gaps in the ids (deleted customers), more threads than customers, an empty database
    sdb = small.db
    sdb.delete_customer(small.zhao)
    extra = sdb.insert_customer(name="孙丽")
    with sdb.read() as r:
        one = pa.table(r.customers_table(threads=1))
        assert one.column("id").to_pylist() == [small.wang, small.li, small.fleet, extra]
        for threads in (2, 4, 64):
            assert pa.table(r.customers_table(threads=threads)).equals(one)
    empty = autocrm.Database.in_memory()
    t = empty.customers_table(threads=4)
    assert t.num_rows == 0 and pa.table(t).schema == one.schema


def test_synth_rollups_agree_with_touchpoint_table(synth_db):
    db = synth_db.db
    df = pl.DataFrame(db.touchpoints_table())
    per = (
        df.filter(pl.col("kind") == "service_visit")
        .group_by("customer")
        .agg(pl.len().alias("n"), pl.col("amount").sum().alias("spend"))
    )
    sample = per.sort("n", descending=True).head(20).to_dicts()
    assert sample, "the network has service visits"
    for row in sample:
        r = db.rollup(row["customer"])
        assert r.counts.get("service_visit") == row["n"]
        assert len(r.service_dates) == row["n"]
        assert r.spend.get("service_visit") == row["spend"]


def test_synth_generation_is_deterministic(tmp_path, synth_db):
    with autocrm.Database.open(str(tmp_path / "again.redb"), durable=False) as db:
        st = autocrm.synth.generate(db, customers=200, seed=7)
        assert st["customers"] == 200
        a = pl.DataFrame(db.customers_table()).select("name", "national_id", "phones")
    with autocrm.Database.in_memory() as db2:
        autocrm.synth.generate(db2, customers=200, seed=7)
        b = pl.DataFrame(db2.customers_table()).select("name", "national_id", "phones")
    assert a.equals(b)
    # a different seed gives different people
    with autocrm.Database.in_memory() as db3:
        autocrm.synth.generate(db3, customers=200, seed=8)
        c = pl.DataFrame(db3.customers_table()).select("name", "national_id", "phones")
    assert not a.equals(c)


def test_convenience_conversions(small):
    t = small.db.customers_table()
    assert isinstance(t, autocrm.Table)
    assert t.to_pyarrow().num_rows == 4
    with small.db.read() as r:
        s = r.evaluate('card = "C"', "2025-06-30")
        assert s.to_pyarrow().column("customer_id").to_pylist() == sorted([small.wang, small.li, small.fleet])
        assert s.to_polars()["customer_id"].to_list() == sorted([small.wang, small.li, small.fleet])
        assert s.to_pandas()["customer_id"].tolist() == sorted([small.wang, small.li, small.fleet])
        k = r.kpi("retention", by="network", period="2025")
        assert k.to_polars()["value"].to_list() == [0.5]
        assert k.to_pyarrow().column("numerator").to_pylist() == [1.0]


def test_synth_parameters(tmp_path):
    with autocrm.Database.in_memory() as db:
        st = autocrm.synth.generate(db, customers=300, seed=3, dealers=6, as_of="2025-12-31", years=2, batch=100)
        assert st["dealers"] == 6 and len(db.dealers()) == 6
        df = pl.DataFrame(db.touchpoints_table())
        assert df["at"].dt.date().max() <= D(2025, 12, 31)
        assert df["at"].dt.date().min() >= D(2023, 12, 31)


def test_ownership_table_has_every_owner_period(small):
    # The Jetta passes from li to zhao: both periods are rows, only zhao's is current.
    with small.db.write() as tx:
        tx.transfer_vehicle(small.jetta, small.zhao, "2025-04-01")
    at = pa.table(small.db.ownership_table())
    assert at.column_names == ["vehicle", "vin", "customer", "from", "to", "current"]
    jetta = [r for r in at.to_pylist() if r["vehicle"] == small.jetta]
    assert jetta == [
        {"vehicle": small.jetta, "vin": vin(100001), "customer": small.li,
         "from": D(2022, 1, 10), "to": D(2025, 4, 1), "current": False},
        {"vehicle": small.jetta, "vin": vin(100001), "customer": small.zhao,
         "from": D(2025, 4, 1), "to": None, "current": True},
    ]
    assert at.num_rows == 4


def test_leads_complaints_surveys_tables(small):
    with small.db.write() as tx:
        lead = tx.insert_lead(customer=small.zhao, origin="web", model="Passat", intent="H",
                              received="2025-02-02T16:00", dealer=small.sh, status="lost",
                              lost_reason="bought elsewhere", status_at="2025-03-01T10:00")
        complaint = tx.insert_complaint(customer=small.wang, category="paint",
                                        received="2025-03-02T09:00", dealer=small.sh,
                                        vehicle=small.passat)
        tx.respond_to_complaint(complaint, "2025-03-02T15:00")
        survey = tx.insert_survey(customer=small.wang, kind="service", date="2025-03-05",
                                  items={"friendliness": 9, "repair_process": 7}, dealer=small.sh)
    leads = pa.table(small.db.leads_table()).to_pylist()
    assert len(leads) == 1
    assert leads[0]["id"] == lead and leads[0]["customer"] == small.zhao
    assert leads[0]["status"] == "lost" and leads[0]["lost_reason"] == "bought elsewhere"
    assert leads[0]["intent"] == "H" and leads[0]["dealer"] == small.sh
    assert leads[0]["received"] == T(2025, 2, 2, 16, 0)
    complaints = pa.table(small.db.complaints_table()).to_pylist()
    assert [c["id"] for c in complaints] == [complaint]
    c = complaints[0]
    assert c["first_response"] == T(2025, 3, 2, 15, 0) and c["first_response_within_sla"] is True
    assert c["closed"] is None and c["vehicle"] == small.passat
    surveys = pa.table(small.db.surveys_table())
    row = surveys.to_pylist()[0]
    assert row["id"] == survey and row["friendliness"] == 9 and row["repair_process"] == 7
    assert row["initiative"] is None
    assert row["weighted_index"] == pytest.approx(small.db.survey(survey).weighted_index)


def test_home_dealers_follow_the_latest_service_visit(small):
    with small.db.write() as tx:
        tx.insert_touchpoint(at="2025-05-01T10:00", customer=small.wang, channel="showroom",
                             kind="service_visit", service_kind="repair", dealer=small.hz)
    rows = {r["customer"]: r["home_dealer"]
            for r in pa.table(small.db.home_dealers_table("2025-06-30")).to_pylist()}
    assert rows[small.wang] == small.hz  # the latest visit, not the selling dealer
    assert rows[small.li] == small.sh
    assert rows[small.fleet] == small.hz  # no visit: the selling dealer
    assert rows[small.zhao] is None
    assert small.db.home_dealer(small.wang, "2025-04-30") == small.sh  # before the HZ visit
    with pytest.raises(autocrm.NotFoundError):
        small.db.home_dealer(10_000, "2025-06-30")


def test_delete_then_compact_leaves_no_personal_data_in_the_file(db_path):
    db = autocrm.Database.open(db_path)
    nid = national_id("19800101", 123)
    cid = db.insert_customer(name="王小明", national_id=nid, phones=["13812345678"])
    db.delete_customer(cid)
    r = db.read()
    with pytest.raises(autocrm.InvalidOperationError):
        db.compact()  # a snapshot is open
    r.close()
    db.compact()
    db.close()
    data = open(db_path, "rb").read()
    assert nid.encode() not in data and b"13812345678" not in data
