"""Issue 3 from Python: source registry, survivorship upserts, lineage, conflicts, the dealer
feedback queue, the quality report, duplicate candidates and merges, bulk import and the dirty
demo exports."""

from __future__ import annotations

import csv
import datetime as dt

import pytest

import autocrm
from conftest import national_id, vin

NID = national_id("19850312", 11)
DMS_NAME, FINANCE_NAME = "王小明", "王晓明"


def dealer(db, code="D001"):
    return db.insert_dealer(code=code, name=f"{code} 4S", region="华东", province="上海", city="上海")


# --- sources ------------------------------------------------------------------------------------


def test_default_sources_and_registration(db):
    names = [s.name for s in db.sources()]
    assert names == ["finance", "invoice", "app", "call_centre", "web", "dms"]
    finance = db.sources()[0]
    assert finance.verifies is True
    assert finance.priorities["identity"] == 100 and finance.priorities["purchase_dates"] == 90
    assert set(finance.priorities) == set(autocrm.FIELD_GROUPS)

    db.register_source("erp", {"identity": 95, "contact": 20})
    erp = [s for s in db.sources() if s.name == "erp"][0]
    assert erp.priorities == {"identity": 95, "contact": 20, "profile": 0, "vehicle_spec": 0,
                              "purchase_dates": 0, "service_dates": 0}
    assert erp.verifies is False
    db.set_source_priority("erp", "profile", 33)
    assert [s for s in db.sources() if s.name == "erp"][0].priorities["profile"] == 33

    with pytest.raises(ValueError):
        db.set_source_priority("erp", "colour", 1)
    with pytest.raises(autocrm.ValidationError) as e:
        db.set_source_priority("nobody", "identity", 1)
    assert e.value.code == "validation.unknown_source"

    db.set_sources([{"name": "finance", "priorities": 100, "verifies": True},
                    {"name": "dms", "priorities": {"identity": 5}}])
    got = db.sources()
    assert [s.name for s in got] == ["finance", "dms"]
    assert got[0].priorities["service_dates"] == 100 and got[1].priorities["identity"] == 5
    assert got[1].priorities["contact"] == 0
    # A SourceSystem object round-trips.
    db.set_sources(got)
    assert db.sources() == got
    with pytest.raises(autocrm.ValidationError):
        db.set_sources([{"name": "dms", "priorities": 1}, {"name": "dms", "priorities": 2}])
    with pytest.raises(TypeError):
        db.set_sources([{"name": "dms", "priorities": 1, "colour": "red"}])


# --- survivorship -------------------------------------------------------------------------------


def test_finance_beats_dms_whatever_the_order(db):
    with db.write() as tx:
        first = tx.upsert_customer(name=DMS_NAME, phones=["13812345678"], national_id=NID,
                                   source=("dms", "D-1"), received_at="2025-01-01T10:00")
        assert (first.outcome, first.conflicts) == ("created", 0)
        second = tx.upsert_customer({"name": FINANCE_NAME, "phones": ["13812345678"],
                                     "national_id": NID, "occupation": "教师"},
                                    source=("finance", "F-1"), received_at="2025-01-02T10:00")
        # Matched by national ID; finance ranks above dms for identity: applied, and the dms
        # spelling it replaced is kept as the lower-priority conflict it would have raised
        # arriving second — so the outcome does not depend on the order of the two.
        assert (second.id, second.outcome, second.conflicts) == (first.id, "updated", 1)
        # dms again, later, with the same spelling: nothing changes, no second conflict.
        third = tx.upsert_customer(name=DMS_NAME, phones=["13812345678"], national_id=NID,
                                   source=("dms", "D-2"), received_at="2025-01-03T10:00")
        assert (third.id, third.outcome, third.conflicts) == (first.id, "unchanged", 0)
    c = db.customer(first.id)
    assert c.name == FINANCE_NAME and c.occupation == "教师"
    assert c.source == ("finance", "F-1")

    lineage = {l.field: l for l in db.lineage_of_customer(first.id)}
    assert lineage["name"].source == ("finance", "F-1")
    assert lineage["name"].value == FINANCE_NAME
    assert lineage["name"].priority == 100 and lineage["name"].verified is True
    assert lineage["name"].at == dt.datetime(2025, 1, 2, 10, 0)
    assert lineage["occupation"].verified is False

    (conflict,) = db.conflicts()
    assert conflict.entity == "customer" and conflict.customer == first.id and conflict.vehicle is None
    assert (conflict.field, conflict.current, conflict.offered) == ("name", FINANCE_NAME, DMS_NAME)
    assert conflict.reason == "lower_priority" and conflict.status == "open"
    assert conflict.source == ("dms", "D-1") and conflict.priority == 10
    assert conflict.current_lineage.source == ("finance", "F-1")
    # Replaying the dms record raises no second conflict.
    again = db.upsert_customer(name=DMS_NAME, phones=["13812345678"], national_id=NID,
                               source=("dms", "D-2"), received_at="2025-01-03T10:00")
    assert (again.outcome, again.conflicts) == ("unchanged", 0)
    assert db.open_conflict_count() == 1


def test_incomplete_customer_is_stored_and_queued_until_completed(db):
    d = dealer(db)
    first = db.upsert_customer(name=DMS_NAME, phones=["13812345678"], province="上海",
                               source=("dms", "D-1"), dealer=d, received_at="2025-01-01")
    assert (first.outcome, first.incomplete) == ("created", True)
    (entry,) = db.feedback(d)
    assert entry.code == "validation.incomplete" and entry.field == "national_id"
    assert "missing national_id, city" in entry.message
    row = db.quality_report("2025-02-01").row(d)
    assert (row.incomplete_queued, row.rejections_total) == (1, 0)
    # The dealer completes the record: it leaves the queue.
    done = db.upsert_customer(name=DMS_NAME, phones=["13812345678"], province="上海", city="上海",
                              national_id=NID, source=("dms", "D-1"), dealer=d,
                              received_at="2025-01-05")
    assert (done.id, done.outcome, done.incomplete) == (first.id, "updated", False)
    assert db.feedback(d) == []


def test_priorities_are_configuration(db):
    db.set_source_priority("dms", "identity", 200)
    a = db.upsert_customer(name=FINANCE_NAME, national_id=NID, source=("finance", "F-1"),
                           received_at="2025-01-01")
    b = db.upsert_customer(name=DMS_NAME, national_id=NID, source=("dms", "D-1"),
                           received_at="2025-01-02")
    assert b.id == a.id and b.outcome == "updated"
    assert db.customer(a.id).name == DMS_NAME


def test_upsert_vehicle_lineage_and_vehicle_conflict(db):
    owner = db.upsert_customer(name=FINANCE_NAME, national_id=NID, source=("finance", "F-1"),
                               received_at="2025-01-01").id
    v = db.upsert_vehicle(vin=vin(1), brand="大众", model="朗逸", purchase_date="2024-05-01",
                          owner=owner, source=("invoice", "I-1"), received_at="2025-01-02")
    assert v.outcome == "created"
    veh = db.vehicle(v.id)
    assert veh.owner == owner and veh.model == "朗逸"
    model = [l for l in db.lineage_of_vehicle(v.id) if l.field == "model"][0]
    assert model.source == ("invoice", "I-1") and model.priority == 90

    again = db.upsert_vehicle(vin=vin(1), brand="大众", model="帕萨特", owner=owner,
                              source=("dms", "V-1"), received_at="2025-01-03")
    assert (again.id, again.outcome, again.conflicts) == (v.id, "unchanged", 1)
    assert db.vehicle(v.id).model == "朗逸"
    (c,) = db.conflicts_of(owner)
    assert (c.entity, c.vehicle, c.customer, c.field, c.offered) == ("vehicle", v.id, None, "model", "帕萨特")

    with pytest.raises(TypeError):
        db.upsert_vehicle(vin=vin(2), brand="大众", model="朗逸", source=("dms", "V-2"))  # no owner
    with pytest.raises(autocrm.NotFoundError):
        db.upsert_vehicle(vin=vin(2), brand="大众", model="朗逸", owner=999, source=("dms", "V-2"))


def test_conflict_listed_then_resolved(db):
    cid = db.upsert_customer(name=FINANCE_NAME, national_id=NID, source=("finance", "F-1"),
                             received_at="2025-01-01").id
    db.upsert_customer(name=DMS_NAME, national_id=NID, source=("dms", "D-1"), received_at="2025-01-02")
    (open_,) = db.conflicts(open_only=True)
    assert db.conflict(open_.id) == open_

    with db.write() as tx:
        done = tx.resolve_conflict(open_.id, accept=True, by="ops-1", at="2025-02-01T09:00")
    assert done.status == "accepted" and done.resolved_by == "ops-1"
    assert done.resolved_at == dt.datetime(2025, 2, 1, 9, 0)
    assert db.conflicts() == []
    assert [c.status for c in db.conflicts(open_only=False)] == ["accepted"]
    assert [c.id for c in db.conflicts_of(cid)] == [open_.id]
    # The offered value was applied, with the offer's lineage marked verified.
    assert db.customer(cid).name == DMS_NAME
    name = [l for l in db.lineage_of_customer(cid) if l.field == "name"][0]
    assert name.source == ("dms", "D-1") and name.verified is True

    with pytest.raises(autocrm.InvalidOperationError):
        db.resolve_conflict(open_.id, accept=False, by="ops-1")
    with pytest.raises(autocrm.NotFoundError):
        db.resolve_conflict(12345, accept=False, by="ops-1")


def test_rejecting_a_conflict_keeps_the_stored_value(db):
    cid = db.upsert_customer(name=FINANCE_NAME, national_id=NID, source=("finance", "F-1"),
                             received_at="2025-01-01").id
    db.upsert_customer(name=DMS_NAME, national_id=NID, source=("dms", "D-1"), received_at="2025-01-02")
    (c,) = db.conflicts()
    r = db.resolve_conflict(c.id, False, "ops-2")  # at defaults to now
    assert r.status == "rejected" and isinstance(r.resolved_at, dt.datetime)
    assert db.customer(cid).name == FINANCE_NAME
    with pytest.raises(autocrm.ValidationError):
        db.upsert_customer(name=DMS_NAME, source=("dms", "D-9"), received_at="1800-01-01")


def test_lineage_in_the_360_view(db):
    cid = db.upsert_customer(name=FINANCE_NAME, national_id=NID, phones=["13812345678"],
                             source=("finance", "F-1"), received_at="2025-01-01").id
    view = db.customer_360(cid)
    fields = {l.field: l for l in view.lineage}
    assert {"name", "national_id", "phones"} <= set(fields)
    assert fields["phones"].value == "13812345678" and fields["phones"].source == ("finance", "F-1")
    assert view.lineage == db.lineage_of_customer(cid)
    # Inserted outside the integration path: no lineage.
    other = db.insert_customer(name="赵磊")
    assert db.customer_360(other).lineage == []


# --- errors -------------------------------------------------------------------------------------


def test_validation_failure_maps_to_validation_error_and_leaves_the_transaction_usable(db):
    with db.write() as tx:
        with pytest.raises(autocrm.ValidationError) as e:
            tx.upsert_customer(name="张三", phones=["123"], source=("dms", "D-1"))
        assert e.value.code.startswith("validation.phone") and e.value.field == "phones"
        with pytest.raises(autocrm.ValidationError) as e:
            tx.upsert_customer(name="张三", source=("erp", "E-1"))
        assert e.value.code == "validation.unknown_source" and e.value.field == "source.system"
        with pytest.raises(TypeError):
            tx.upsert_customer(name="张三")  # no source
        with pytest.raises(TypeError):
            tx.upsert_customer(name="张三", source="dms/D-1")
        with pytest.raises(TypeError):
            tx.upsert_customer(name="张三", source=("dms", "D-1"), colour="red")
        with pytest.raises(ValueError):
            tx.upsert_customer(name="张三", source=("dms", "D-1"), received_at="yesterday")
        ok = tx.upsert_customer(name="张三", source=("dms", "D-1"), dealer=None)
    assert db.customer(ok.id).name == "张三"
    assert db.customer_count() == 1


# --- import -------------------------------------------------------------------------------------

CUSTOMERS = (
    "source_system,source_id,name,phones,national_id\n"
    f"finance,F-1,{FINANCE_NAME},13812345678,{NID}\n"
    "finance,F-2,李女士,13912345678,\n"
    "finance,F-3,张伟,13700000003,\n"
)


def test_import_file_report_and_reimport_unchanged(db, tmp_path):
    path = tmp_path / "customers_finance.csv"
    path.write_text(CUSTOMERS, encoding="utf-8")
    rep = db.import_file(path, received_at="2025-06-01T08:00")  # kind from the file name
    assert isinstance(rep, autocrm.ImportReport)
    assert (rep.kind, rep.encoding, rep.rows) == ("customer", "UTF-8", 3)
    assert (rep.created, rep.updated, rep.unchanged, rep.rejected) == (2, 0, 0, 1)
    assert rep.accepted == 2 and rep.conflicts == 0
    # Both accepted rows lack province and city (F-3 its national ID too): stored, and queued
    # for completion.
    assert rep.incomplete == 2
    assert rep.rejected_by_code == {"validation.name_placeholder": 1}
    (rej,) = rep.rejections
    assert (rej.line, rej.source_id, rej.code, rej.field) == (3, "F-2", "validation.name_placeholder", "name")
    assert rep.bytes == len(CUSTOMERS.encode())
    assert rep.file == str(path) and "2 created" in str(rep)
    assert rep.to_dict()["created"] == 2
    cid = db.customer_by_national_id(NID)
    assert db.customer(cid).name == FINANCE_NAME

    again = db.import_file(str(path), "customer", received_at="2025-06-02T08:00")
    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 2, 1)
    assert db.customer_count() == 2
    # The replay counted neither the rejection nor the incomplete rows twice.
    assert db.rejection_counts() == [(None, "validation.incomplete", 2),
                                     (None, "validation.name_placeholder", 1)]

    out = tmp_path / "report.csv"
    rep.write_csv(out)
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0] == ["record", "line", "source_id", "code", "field", "count", "message"]
    assert ["summary", "", "", "created", "", "2", ""] in rows
    assert ["rejected", "", "", "validation.name_placeholder", "", "1", ""] in rows
    assert [r[:5] for r in rows if r[0] == "rejection"] == [["rejection", "3", "F-2", "validation.name_placeholder", "name"]]


def test_import_gbk_bytes(db):
    data = ("source_system,source_id,name,phones,city\n"
            "web,W-1,张伟,13700000001,杭州\n"
            "web,W-2,欧阳娜娜,13700000002,苏州\n").encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    rep = db.import_bytes(data, "web.csv", "customers", received_at="2025-06-01")
    assert (rep.encoding, rep.created, rep.rejected) == ("GBK", 2, 0)
    names = sorted(db.customer(i).name for i in db.customer_ids())
    assert names == sorted(["张伟", "欧阳娜娜"])
    assert db.customer(db.customers_by_phone("13700000001")[0]).city == "杭州"
    # Forcing UTF-8 on GBK bytes does not import the garbled names as valid ones.
    forced = db.import_bytes(data, "web.csv", "customer", encoding="utf-8", received_at="2025-06-01")
    assert forced.created == 0


def test_import_jsonl_str_and_explicit_options(db):
    data = '{"source_id": "A-1", "name": "赵磊", "phones": "13600000001"}\n'
    rep = db.import_bytes(data, "feed", "customer", format="jsonl", source_system="app",
                          received_at="2025-06-01")
    assert (rep.rows, rep.created) == (1, 1)
    cid = db.customers_by_phone("13600000001")[0]
    assert db.customer(cid).source == ("app", "A-1")
    semi = "source_system;source_id;name\napp;A-2;钱多多\n"
    rep = db.import_bytes(semi.encode(), "x.csv", "customer", delimiter=";", received_at="2025-06-01")
    assert rep.created == 1


def test_progress_callback(db):
    seen = []
    data = CUSTOMERS.encode()
    rep = db.import_bytes(data, "customers.csv", batch_size=1, received_at="2025-06-01",
                          progress=lambda rows, done, total: seen.append((rows, done, total)))
    assert rep.rows == 3
    assert len(seen) >= 3
    assert [r for r, _, _ in seen] == sorted(r for r, _, _ in seen)
    assert seen[-1] == (3, len(data), len(data))
    assert all(total == len(data) for _, _, total in seen)


def test_progress_callback_exception_is_raised_after_the_import(db):
    def boom(*_):
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        db.import_bytes(CUSTOMERS.encode(), "customers.csv", progress=boom, received_at="2025-06-01")
    assert db.customer_count() == 2  # committed batches stay


def test_import_errors(db, tmp_path):
    with pytest.raises(autocrm.Error) as e:
        db.import_file(tmp_path / "customers_missing.csv")
    assert e.value.code == "import.file_unreadable"
    with pytest.raises(ValueError):
        db.import_file(tmp_path / "unknown.csv")  # kind neither given nor in the name
    with pytest.raises(ValueError):
        db.import_bytes(b"", "x.csv", "invoices")
    with pytest.raises(ValueError):
        db.import_bytes(b"", "x.csv", "customer", encoding="latin-1")
    with pytest.raises(ValueError):
        db.import_bytes(b"", "x.csv", "customer", format="xml")
    with pytest.raises(TypeError):
        db.import_bytes(123, "x.csv", "customer")
    with pytest.raises(autocrm.Error) as e:
        db.import_bytes(b"source_system,source_id\n", "x.csv", "customer")
    assert e.value.code == "import.missing_column" and e.value.field == "name"
    with db.write():
        with pytest.raises(autocrm.InvalidOperationError):
            db.import_bytes(CUSTOMERS.encode(), "customers.csv")


# --- feedback queue and quality report ---------------------------------------------------------


def test_feedback_entry_then_resubmission_clears_it(db):
    d = dealer(db)
    bad = "source_system,source_id,dealer,name,phones\ndms,D-7,D001,王先生,13600000001\n"
    rep = db.import_bytes(bad.encode(), "customers_dms.csv", received_at="2025-06-01T08:00")
    assert rep.rejected == 1
    (entry,) = db.feedback(d)
    assert db.feedback() == []  # the unassigned queue
    assert (entry.dealer, entry.kind, entry.source, entry.line) == (d, "customer", ("dms", "D-7"), 2)
    assert (entry.code, entry.field) == ("validation.name_placeholder", "name")
    assert entry.raw == "dms,D-7,D001,王先生,13600000001" and entry.hint
    assert entry.first_rejected == dt.datetime(2025, 6, 1, 8, 0)
    assert db.feedback_entry("customer", ("dms", "D-7")) == entry
    assert db.feedback_all() == [entry]

    q = db.quality_report("2025-06-11")
    row = q.row(d)
    assert row.label == "D001" and row.queue_size == 1 and row.oldest_queued_days == 10
    assert row.rejections == {"validation.name_placeholder": 1} and row.rejections_total == 1
    assert row.queued_by_reason == {"validation.name_placeholder": 1}
    assert q.network.queue_size == 1 and q.as_of == dt.date(2025, 6, 11)

    good = ("source_system,source_id,dealer,name,phones,national_id,province,city\n"
            f"dms,D-7,D001,王建国,13600000001,{national_id('19900101', 7)},上海,上海\n")
    rep = db.import_bytes(good.encode(), "customers_dms.csv", received_at="2025-06-02T08:00")
    assert (rep.created, rep.rejected) == (1, 0)
    assert db.feedback(d) == [] and db.feedback_entry("customer", ("dms", "D-7")) is None
    row = db.quality_report("2025-06-11").row(d)
    assert row.queue_size == 0 and row.oldest_queued_days is None
    assert row.rejections == {"validation.name_placeholder": 1}  # lifetime count stays
    assert db.rejection_counts() == [(d, "validation.name_placeholder", 1)]


def test_reject_an_error_then_resubmit(db):
    d = dealer(db)
    with db.write() as tx:
        with pytest.raises(autocrm.ValidationError) as e:
            tx.upsert_customer(name="孙丽", phones=["1380000"], source=("dms", "X-1"), dealer=d)
        fid = tx.reject("customer", ("dms", "X-1"), "孙丽;1380000", e.value, dealer=d, line=5,
                        received_at="2025-06-01T09:00")
        with pytest.raises(TypeError):
            tx.reject("customer", ("dms", "X-2"), "raw", ValueError("not ours"), dealer=d)
    (entry,) = db.feedback(d)
    assert entry.id == fid and entry.code == e.value.code and entry.field == "phones"
    assert (entry.line, entry.raw, entry.source) == (5, "孙丽;1380000", ("dms", "X-1"))
    assert entry.received == dt.datetime(2025, 6, 1, 9, 0)
    db.upsert_customer(name="孙丽", phones=["13800000001"], national_id=NID, province="上海",
                       city="上海", source=("dms", "X-1"), dealer=d, received_at="2025-06-02")
    assert db.feedback(d) == []
    assert db.rejection_counts() == [(d, e.value.code, 1)]


def test_clear_feedback(db):
    db.import_bytes(b"source_system,source_id,name\nweb,W-1,\xe7\x8e\x8b\xe5\x85\x88\xe7\x94\x9f\n",
                    "customers.csv", received_at="2025-06-01")
    assert len(db.feedback()) == 1
    with db.write() as tx:
        assert tx.clear_feedback("customer", ("web", "W-1")) is True
        assert tx.clear_feedback("customer", ("web", "W-1")) is False
    assert db.feedback() == []
    with pytest.raises(ValueError):
        db.clear_feedback("invoice", ("web", "W-1"))


def test_quality_report_arrow_one_row_per_dealer(db):
    pa = pytest.importorskip("pyarrow")
    d1, d2 = dealer(db, "D001"), dealer(db, "D002")
    db.upsert_customer(name=FINANCE_NAME, national_id=NID, source=("finance", "F-1"), dealer=d1,
                       received_at="2025-01-01")
    db.upsert_customer(name=DMS_NAME, national_id=NID, source=("dms", "D-1"), dealer=d2,
                       received_at="2025-01-02")
    q = db.quality_report(dt.date(2025, 6, 1))
    assert [r.dealer for r in q.rows][:2] == [d1, d2]
    assert q.row(d2).open_conflicts == 1 and q.row(d1).open_conflicts == 0
    assert len(q) == len(q.rows) and q[0] == q.rows[0]
    t = pa.table(q)
    assert t.num_rows == len(q.rows)
    assert t.column_names == ["dealer", "label", "customers", "customers_sold", "valid_info",
                              "valid_info_ratio", "rejections", "queue_size",
                              "oldest_queued_days", "open_conflicts"]
    assert t.schema.field("dealer").type == pa.uint32()
    assert t.column("label").to_pylist()[:2] == ["D001", "D002"]
    assert t.column("open_conflicts").to_pylist()[:2] == [0, 1]
    assert q.to_table().num_rows == t.num_rows


# --- identity resolution ------------------------------------------------------------------------


def test_duplicates_found_and_merged(db):
    pa = pytest.importorskip("pyarrow")
    a = db.insert_customer(name="赵磊", phones=["13500000001"], city="杭州")
    b = db.insert_customer(name="赵磊", phones=["13500000001"], city="杭州", occupation="工程师")
    other = db.insert_customer(name="钱多多", phones=["13500000002"])
    db.insert_touchpoint(at="2025-03-01T10:00", customer=b, channel="phone_in", kind="enquiry")

    cands = db.duplicate_candidates()
    assert len(cands) == 1
    (pair,) = cands
    assert (pair.customer, pair.other) == (a, b)
    assert pair.score >= 90 and "phone_and_name" in pair.reasons and "same_city" in pair.reasons
    assert cands[0] == pair and cands.rows() == [pair]
    assert len(db.duplicate_candidates(min_score=pair.score)) == 1
    assert len(db.duplicate_candidates(min_score=pair.score + 1)) == 0
    t = pa.table(cands)
    assert t.column_names == ["customer", "other", "score", "reasons"]
    assert t.schema.field("score").type == pa.uint8()
    assert t.to_pylist() == [{"customer": a, "other": b, "score": pair.score, "reasons": pair.reasons}]
    assert [(c.customer, c.other) for c in db.duplicates_of(b)] == [(b, a)]
    assert db.duplicates_of(other) == []

    with db.write() as tx:
        m = tx.merge_customers(a, b, by="ops-1", at="2025-04-01T12:00")
    assert (m.survivor, m.merged, m.by, m.at) == (a, b, "ops-1", dt.datetime(2025, 4, 1, 12, 0))
    assert m.counts["touchpoints"] == 1
    assert "occupation" in m.filled
    assert m.merged_customer.occupation == "工程师" and m.survivor_before.occupation is None
    assert db.customer(a).occupation == "工程师"
    assert db.resolve_customer(b) == a and db.resolve_customer(a) == a
    assert db.merges_of(a) == [m]
    with pytest.raises(autocrm.NotFoundError):
        db.customer(b)
    assert len(db.duplicate_candidates()) == 0
    assert db.rollup(a).touchpoints == 1

    with pytest.raises(autocrm.InvalidOperationError):
        db.merge_customers(a, a, by="ops-1")
    with pytest.raises(autocrm.ValidationError):
        db.merge_customers(a, other, by=" ")
    with pytest.raises(autocrm.NotFoundError):
        db.resolve_customer(999)


# --- dirty demo exports ------------------------------------------------------------------------


def test_write_dirty_and_import_it(db, tmp_path):
    out = autocrm.synth.write_dirty(tmp_path / "a", customers=60, seed=7, dirt=0.3, db=db)
    assert [f["kind"] for f in out["files"]] == ["customer", "customer", "customer", "vehicle"]
    assert [f["source_system"] for f in out["files"]] == ["finance", "invoice", "dms", "invoice"]
    assert out["encoding"] == "UTF-8" and out["dealers_added"] == out["dealers"] > 0
    assert sum(out["injected"].values()) > 0
    assert len(db.dealers()) == out["dealers"]
    again = autocrm.synth.write_dirty(str(tmp_path / "b"), customers=60, seed=7, dirt=0.3)
    assert again["dealers_added"] is None
    for f, g in zip(out["files"], again["files"]):
        assert open(f["path"], "rb").read() == open(g["path"], "rb").read()

    reports = [db.import_file(f["path"], received_at="2026-07-01") for f in out["files"]]
    assert [r.rows for r in reports] == [f["rows"] for f in out["files"]]
    assert sum(r.rejected for r in reports) > 0
    assert sum(r.created for r in reports) > 0
    assert db.customer_count() > 0 and db.vehicle_count() > 0
    assert sum(r.queue_size for r in db.quality_report("2026-07-01").rows) == len(db.feedback_all())

    gbk = autocrm.synth.write_dirty(tmp_path / "g", customers=20, gbk=True)
    assert gbk["encoding"] == "GBK"
    other = autocrm.Database.in_memory()
    autocrm.synth.write_dirty(tmp_path / "g2", customers=20, gbk=True, db=other)
    rep = other.import_file(gbk["files"][0]["path"], received_at="2026-07-01")
    assert rep.encoding == "GBK" and rep.created > 0


def test_now_is_the_database_clock_not_python_local_time():
    utc = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    china = autocrm.Database.in_memory()
    lagos = autocrm.Database.in_memory(utc_offset="+01:00")
    for db, hours in [(china, 8), (lagos, 1)]:
        got = db.now()
        assert abs((got - utc).total_seconds() - hours * 3600) < 5, (got, utc)
    with pytest.raises(ValueError, match="UTC offset"):
        autocrm.Database.in_memory(utc_offset="8")
    # An import without received_at is stamped by that clock.
    db = autocrm.Database.in_memory()
    report = db.import_bytes(
        "source_system,source_id,name,phones\nfinance,F-1,王小明,13812345678\n",
        name="customers.csv",
    )
    assert report.created == 1
    cid = db.customers_by_phone("13812345678")[0]
    stamped = [l.at for l in db.lineage_of_customer(cid)]
    assert stamped and all(abs((t - utc).total_seconds() - 8 * 3600) < 60 for t in stamped)
