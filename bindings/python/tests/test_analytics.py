"""Segments, KPIs, care actions and escalations on the hand-built data.

Owner status as of 2025-06-30 (365-day window, 90 days recent), worked out by hand:
wang: one visit in the window (2025-03-01), 121 days ago -> at_risk;
li: no visit in the window, visited before -> churned; fleet: bought 2024-09-01, never
serviced, < 365 days -> new_owner; zhao: no vehicle (A-card) -> unknown.
"""

from __future__ import annotations

import datetime as dt

import pytest

import autocrm

D = dt.date
T = dt.datetime

RISK = 'owner_status in ["at_risk", "churned"]'


# --- segments ----------------------------------------------------------------------------------


def test_evaluate_owner_status(small):
    with small.db.read() as r:
        risk = r.evaluate(RISK, "2025-06-30")
        assert risk.to_list() == sorted([small.wang, small.li])
        assert len(risk) == 2
        assert small.wang in risk and small.zhao not in risk
        assert list(risk) == sorted([small.wang, small.li])
        assert r.evaluate('owner_status = "at_risk"', D(2025, 6, 30)).to_list() == [small.wang]
        assert r.evaluate('owner_status = "churned"', T(2025, 6, 30, 23, 0)).to_list() == [small.li]
        assert r.evaluate('owner_status = "new_owner"', "2025-06-30").to_list() == [small.fleet]
        assert r.evaluate("owner_status = none", "2025-06-30").to_list() == [small.zhao]
        # windows slide with the as-of date alone
        assert r.evaluate('owner_status = "recent"', "2024-07-01").to_list() == sorted([small.wang, small.li])
        assert r.evaluate(RISK, "2024-07-01").to_list() == []


def test_evaluate_money_and_vehicle_rules(small):
    with small.db.read() as r:
        assert r.evaluate("sum(amount, service_visit, 2y) >= ¥2000.50", "2025-06-30").to_list() == [small.wang]
        assert r.evaluate("sum(amount, service_visit, 2y) > ¥2000.50", "2025-06-30").to_list() == []
        assert r.evaluate('any vehicle (usage = "taxi")', "2025-06-30").to_list() == [small.fleet]
        assert r.evaluate('kind = "organisation"', "2025-06-30").to_list() == [small.fleet]
        assert r.evaluate('card = "A"', "2025-06-30").to_list() == [small.zhao]
        assert r.evaluate(f"count(service_visit, 365d, dealer = {small.sh}) >= 1", "2025-06-30").to_list() == [small.wang]


def test_customer_set_algebra(small):
    with small.db.read() as r:
        a = r.evaluate('card = "C"', "2025-06-30")
        b = r.evaluate(RISK, "2025-06-30")
        assert (a & b).to_list() == sorted([small.wang, small.li])
        assert (a - b).to_list() == [small.fleet]
        assert (a | r.evaluate('card = "A"', "2025-06-30")).to_list() == sorted(
            [small.wang, small.li, small.fleet, small.zhao]
        )


def test_customer_set_arrow(small):
    import pyarrow as pa
    import polars as pl

    with small.db.read() as r:
        s = r.evaluate(RISK, "2025-06-30")
        t = pa.table(s)
        assert t.column_names == ["customer_id"]
        assert t.schema.field("customer_id").type == pa.uint64()
        assert t.column("customer_id").to_pylist() == sorted([small.wang, small.li])
        df = pl.DataFrame(s)
        assert df["customer_id"].to_list() == sorted([small.wang, small.li])
        assert df.schema["customer_id"] == pl.UInt64


def test_saved_segments_materialise_and_diff(small):
    db = small.db
    v = db.save_segment("risk", RISK, saved="2025-01-01T00:00")
    assert v == 1
    assert db.save_segment("risk", 'owner_status = "churned" or owner_status = "at_risk"', saved="2025-01-02T00:00") == 2
    versions = db.segment("risk")
    assert [x.saved for x in versions] == [T(2025, 1, 1), T(2025, 1, 2)]
    assert versions[0].definition == RISK
    assert db.segment("nope") is None
    assert db.segment_names() == ["risk"]
    with db.write() as tx:
        tx.materialise_segment("risk", "2024-07-01")
        m = tx.materialise_segment("risk", "2025-06-30")
    assert m.to_list() == sorted([small.wang, small.li])
    assert db.materialised("risk", "2025-06-30").to_list() == sorted([small.wang, small.li])
    assert db.materialised("risk", "2024-07-01").to_list() == []
    assert db.materialised("risk", "2023-01-01") is None
    diff = db.segment_diff("risk", "2024-07-01", "2025-06-30")
    assert diff.entered.to_list() == sorted([small.wang, small.li])
    assert diff.left.to_list() == []
    with db.read() as r:
        assert r.evaluate_segment("risk", "2025-06-30").to_list() == sorted([small.wang, small.li])
        # a rule may name a saved segment
        assert r.evaluate('segment("risk") and kind = "person" and has_phone', "2025-06-30").to_list() == sorted(
            [small.wang, small.li]
        )


# --- KPIs -----------------------------------------------------------------------------------------


def _rows(table):
    return {row.label: row for row in table}


def test_retention_by_dealer_exact(small):
    with small.db.read() as r:
        net = r.kpi("retention", by="network", period="2025")
        assert len(net) == 1
        row = net[0]
        assert (row.kpi, row.dimension) == ("retention", "network")
        assert (row.numerator, row.denominator, row.value) == (1.0, 2.0, 0.5)
        assert (row.period_from, row.period_to) == (D(2025, 1, 1), D(2026, 1, 1))
        by = r.kpi("retention", by="dealer", period=(D(2025, 1, 1), D(2026, 1, 1)))
        assert len(by) == 2  # every dealer gets a row, even without data
        sh = next(x for x in by if str(x.key) == str(small.sh))
        hz = next(x for x in by if str(x.key) == str(small.hz))
        assert (sh.numerator, sh.denominator, sh.value) == (1.0, 2.0, 0.5)
        assert (hz.denominator, hz.value) == (0.0, None)


def test_after_sales_churn_quarters(small):
    with small.db.read() as r:
        q2 = r.kpi("after_sales_churn", by="network", period="2025-Q2")[0]
        assert (q2.numerator, q2.denominator, q2.value) == (0.0, 1.0, 0.0)
        q3 = r.kpi("after_sales_churn", by="network", period="2025-Q3")[0]
        assert (q3.numerator, q3.denominator, q3.value) == (1.0, 1.0, 1.0)
        assert (q3.period_from, q3.period_to) == (D(2025, 7, 1), D(2025, 10, 1))
        h1 = r.kpi("after_sales_churn", period="2025-H1")[0]
        assert (h1.period_from, h1.period_to) == (D(2025, 1, 1), D(2025, 7, 1))
        m = r.kpi("after_sales_churn", period="2025-07")[0]
        assert (m.period_from, m.period_to) == (D(2025, 7, 1), D(2025, 8, 1))


def test_kpi_by_model_and_bad_names(small):
    with small.db.read() as r:
        rows = _rows(r.kpi("retention", by="model", period="2025"))
        assert rows["Passat"].value == 1.0
        assert rows["Jetta"].value == 0.0
        with pytest.raises(ValueError):
            r.kpi("happiness", by="dealer", period="2025")
        with pytest.raises(ValueError):
            r.kpi("retention", by="galaxy", period="2025")
        with pytest.raises(ValueError):
            r.kpi("retention", by="dealer", period="2025-Q5")


def test_kpi_table_arrow_round_trip(small):
    import pyarrow as pa
    import polars as pl

    with small.db.read() as r:
        k = r.kpi("retention", by="dealer", period="2025")
        t = pa.table(k)
        assert t.column_names == ["kpi", "dimension", "key", "label", "period_from", "period_to",
                                  "numerator", "denominator", "value"]
        assert t.num_rows == len(k) == 2
        assert t.schema.field("period_from").type == pa.date32()
        assert t.column("period_to").to_pylist() == [D(2026, 1, 1)] * 2
        assert t.column("value").to_pylist()[0] == 0.5 or t.column("value").to_pylist()[1] == 0.5
        assert t.column("value").null_count == 1
        df = pl.DataFrame(k)
        assert df.height == 2
        assert df.filter(pl.col("denominator") > 0)["numerator"].to_list() == [1.0]
        pdf = k.to_pandas()
        assert list(pdf["kpi"]) == ["retention", "retention"]


def test_every_kpi_runs(small):
    with small.db.read() as r:
        for name in autocrm.KPIS:
            for by in autocrm.DIMENSIONS:
                table = r.kpi(name, by=by, period="2025")
                for row in table:
                    assert row.kpi == name and row.dimension in (by, "unattributed")
                    assert row.value is None or row.denominator > 0


# --- care actions and escalations ---------------------------------------------------------------


def test_due_actions(small):
    db = small.db
    with db.write() as tx:
        c = tx.insert_customer(name="孙丽", phones=["13600001234"])
        from conftest import vin

        car = tx.insert_vehicle(vin=vin(300), brand="Volkswagen", model="Tiguan L",
                                purchase_date="2025-06-02", selling_dealer=small.sh, owner=c)
        lead = tx.insert_lead(customer=small.zhao, origin="web", model="ID.4", intent="A",
                              received="2025-06-01T10:00", dealer=small.sh)
    with db.read() as r:
        acts = r.due_actions("2025-06-01", "2025-06-15")
        got = sorted((a.kind, a.customer, a.due) for a in acts)
        assert got == sorted([
            ("callback_day3", c, D(2025, 6, 5)),
            ("callback_day7", c, D(2025, 6, 9)),
            ("lead_follow_up", small.zhao, D(2025, 6, 8)),
        ])
        cb = next(a for a in acts if a.kind == "callback_day3")
        assert cb.vehicle == car and cb.dealer == small.sh and cb.marketing is False
        lf = next(a for a in acts if a.kind == "lead_follow_up")
        assert lf.lead == lead
        # half-open: the day-7 callback is not in [.., 06-09)
        assert sorted(a.kind for a in r.due_actions("2025-06-01", "2025-06-09")) == ["callback_day3", "lead_follow_up"]
        assert r.due_actions("2025-06-01", "2025-06-15", dealer=small.hz) == []


def test_complaint_escalations(small):
    db = small.db
    ids = db.insert_complaints([
        {"customer": small.li, "category": "noise", "received": f"2025-05-{d:02d}T10:00", "dealer": small.sh}
        for d in (1, 5, 10, 15)
    ])
    with db.read() as r:
        esc = r.complaint_escalations("2025-05-20")
        assert len(esc) == 1
        e = esc[0]
        assert e.customer == small.li and e.category == "noise"
        assert e.month == ids and e.quarter == ids
        assert e.dealers == [small.sh]
        assert e.latest == T(2025, 5, 15, 10, 0)
        assert r.complaint_escalations("2025-09-30") == []


def test_due_actions_with_care_parameters(small):
    db = small.db
    with db.write() as tx:
        c = tx.insert_customer(name="孙丽", phones=["13600001234"])
        from conftest import vin

        tx.insert_vehicle(vin=vin(300), brand="Volkswagen", model="Tiguan L",
                          purchase_date="2025-06-02", selling_dealer=small.sh, owner=c)
        tx.insert_lead(customer=small.zhao, origin="web", model="ID.4", intent="A",
                       received="2025-06-01T10:00", dealer=small.sh)
        tx.record_consent(c, channel="wechat", granted=True, at="2025-06-02T10:00", source="app")
    with db.read() as r:
        acts = r.due_actions("2025-06-01", "2025-06-15", callback_day3_days=2, lead_report_days=10,
                             holidays=[(D(2025, 6, 10), "端午节")], holiday_channels=["wechat", "sms"])
        got = sorted((a.kind, a.customer, a.due) for a in acts)
        assert got == sorted([
            ("callback_day3", c, D(2025, 6, 4)),
            ("callback_day7", c, D(2025, 6, 9)),
            ("lead_follow_up", small.zhao, D(2025, 6, 11)),
            ("holiday", c, D(2025, 6, 10)),  # only c consented
        ])
        h = next(a for a in acts if a.kind == "holiday")
        assert h.marketing and h.channel == "wechat"
        # the defaults are core's: no keyword arguments is the plain call
        assert r.due_actions("2025-06-01", "2025-06-15") == r.due_actions("2025-06-01", "2025-06-15", callback_day3_days=3)
        # None turns the mileage rules off (a value, not "absent"); no odometer readings here,
        # so the same actions
        assert r.due_actions("2025-06-01", "2025-06-15", first_service_km=None, maintenance_km=None) == r.due_actions("2025-06-01", "2025-06-15")
        with pytest.raises(TypeError, match="unknown field"):
            r.due_actions("2025-06-01", "2025-06-15", callback_days=3)
        with pytest.raises(TypeError):
            r.due_actions("2025-06-01", "2025-06-15", holidays=["2025-06-10"])
        with pytest.raises(ValueError, match="consent channel"):
            r.due_actions("2025-06-01", "2025-06-15", birthday_channels=["pigeon"])
        with pytest.raises(TypeError, match="unknown field"):
            r.due_actions("2025-06-01", "2025-06-15", owner_status={"window": 10})
    # the Database convenience method passes them on
    assert len(db.due_actions("2025-06-01", "2025-06-15", callback_day3_days=2, holidays=[("2025-06-10", "端午节")])) == 4


def test_complaint_escalations_with_parameters(small):
    db = small.db
    ids = db.insert_complaints([
        {"customer": small.li, "category": "noise", "received": f"2025-05-{d:02d}T10:00", "dealer": small.sh}
        for d in (1, 5, 10, 15)
    ])
    with db.read() as r:
        assert r.complaint_escalations("2025-05-20", month_limit=4) == []
        # a 10-day "month" (05-10, 05-20] holds one complaint; more than 0 escalates
        esc = r.complaint_escalations("2025-05-20", month_days=10, month_limit=0)
        assert len(esc) == 1 and esc[0].month == [ids[3]] and esc[0].quarter == ids
        assert r.complaint_escalations("2025-05-20", month_limit=10, quarter_limit=3)[0].quarter == ids
        with pytest.raises(TypeError, match="unknown field"):
            r.complaint_escalations("2025-05-20", month=3)
        with pytest.raises(TypeError):
            r.complaint_escalations("2025-05-20", month_limit="3")
    assert db.complaint_escalations("2025-05-20", month_limit=4) == []
