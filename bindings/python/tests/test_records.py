"""Writing and reading every kind of record, with exact values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import autocrm
from conftest import CREDIT_CODE, national_id, vin

D = dt.date
T = dt.datetime


# --- dealers -----------------------------------------------------------------------------------


def test_dealers(small):
    db = small.db
    sh = db.dealer(small.sh)
    assert (sh.id, sh.code, sh.name, sh.region, sh.province, sh.city, sh.kind) == (
        small.sh, "SH01", "上海大众4S店", "East", "上海", "上海", "four_s",
    )
    assert db.dealer(small.hz).kind == "service_station"
    assert db.dealer_by_code("SH01") == small.sh
    assert db.dealer_by_code("HZ01") == small.hz
    assert db.dealer_by_code("NOPE") is None
    assert [d.code for d in db.dealers()] == ["SH01", "HZ01"]


def test_dealer_code_normalised_and_unique(db):
    d = db.insert_dealer(code=" bj07 ", name="北京某4S店", region="North", province="北京", city="北京")
    assert db.dealer(d).code == "BJ07"
    with pytest.raises(autocrm.DuplicateKeyError) as e:
        db.insert_dealer(code="BJ07", name="另一家店", region="North", province="北京", city="北京")
    assert e.value.code == "duplicate_key"
    assert e.value.field == "code"
    assert e.value.existing == d


# --- customers ---------------------------------------------------------------------------------


def test_customer_fields_round_trip(small):
    c = small.db.customer(small.wang)
    assert c.id == small.wang
    assert c.kind == "person"
    assert c.name == "王小明"
    assert c.phones == ["13812345678"]  # +86 and dashes removed
    assert c.gender == "male"
    assert c.birth_date == D(1990, 3, 15)
    assert isinstance(c.birth_date, dt.date) and not isinstance(c.birth_date, dt.datetime)
    assert c.national_id == national_id("19900315", 11)
    assert (c.province, c.city) == ("上海", "上海")
    assert c.source == ("dms", "C-1")
    assert c.credit_code is None and c.industry is None
    d = c.to_dict()
    assert d["name"] == "王小明" and d["phones"] == ["13812345678"]
    assert d["birth_date"] == D(1990, 3, 15)


def test_organisation_fields(small):
    org = small.db.customer(small.fleet)
    assert org.kind == "organisation"
    assert org.credit_code == CREDIT_CODE
    assert org.industry == "transport"
    assert org.national_id is None and org.gender is None


def test_person_only_field_on_organisation_is_refused(db):
    with pytest.raises(autocrm.ValidationError) as e:
        db.insert_customer(name="某某汽车租赁有限公司", kind="organisation", gender="male")
    assert e.value.code.startswith("validation.")
    assert db.customer_count() == 0


def test_lookups_by_natural_keys(small):
    db = small.db
    nid = national_id("19900315", 11)
    assert db.customer_by_national_id(nid) == small.wang
    assert db.customer_by_national_id(national_id("19900315", 13)) is None
    assert db.customer_by_credit_code(CREDIT_CODE) == small.fleet
    assert db.customers_by_phone("13812345678") == [small.wang]
    assert db.customers_by_phone("+86 139 0000 1111") == [small.li]
    assert db.customers_by_phone("13600000000") == []
    assert db.vehicle_by_vin(vin(183294)) == small.passat
    assert db.vehicle_by_vin(vin(999999)) is None
    assert db.vehicle_by_plate("沪A12345") == small.passat
    assert db.vehicle_by_plate("沪B99999") is None


def test_find_customers_by_any_key(small):
    db = small.db
    assert db.find_customers(national_id("19900315", 11)) == [small.wang]
    assert db.find_customers(CREDIT_CODE) == [small.fleet]
    assert db.find_customers(vin(100001)) == [small.li]
    assert db.find_customers("13900001111") == [small.li]
    assert db.find_customers("沪A12345") == [small.wang]
    assert db.find_customers(str(small.zhao)) == [small.zhao]


def test_shared_phone_finds_family(db):
    a = db.insert_customer(name="王小明", phones=["13812345678"])
    b = db.insert_customer(name="王小红", phones=["138 1234 5678", "13900009999"])
    assert sorted(db.customers_by_phone("13812345678")) == sorted([a, b])
    assert db.customers_by_phone("13900009999") == [b]


def test_update_and_delete_customer(small):
    db = small.db
    db.update_customer(small.zhao, {"name": "赵敏", "phones": ["13700003333"], "city": "杭州"})
    c = db.customer(small.zhao)
    assert c.phones == ["13700003333"] and c.city == "杭州"
    assert db.customers_by_phone("13700002222") == []
    assert db.customers_by_phone("13700003333") == [small.zhao]
    before = db.customer_count()
    # a fresh customer without records can be deleted
    cid = db.insert_customer(name="钱多多")
    db.delete_customer(cid)
    assert db.customer_count() == before
    with pytest.raises(autocrm.NotFoundError):
        db.customer(cid)


def test_insert_customers_batch_returns_ids_in_order(db):
    ids = db.insert_customers(
        [{"name": "王小明"}, {"name": "李华", "phones": ["13900001111"]}, {"name": "张伟"}]
    )
    assert len(ids) == 3 and len(set(ids)) == 3
    assert [db.customer(i).name for i in ids] == ["王小明", "李华", "张伟"]
    assert db.customer_ids() == sorted(ids)


def test_source_reference_makes_feed_idempotent(db):
    a = db.insert_customer(name="王小明", source=("dms", "R-1001"))
    b = db.insert_customer(name="王小明", source=("dms", "R-1001"))
    assert a == b
    assert db.customer_count() == 1
    tp = dict(at="2025-01-02T10:00", customer=a, channel="phone_in", kind="enquiry", source=("cc", "T-9"))
    t1 = db.insert_touchpoint(tp)
    t2 = db.insert_touchpoint(tp)
    assert t1 == t2
    assert db.touchpoint_count() == 1


# --- vehicles ----------------------------------------------------------------------------------


def test_vehicle_fields_and_ownership(small):
    v = small.db.vehicle(small.passat)
    assert v.id == small.passat
    assert v.vin == vin(183294)
    assert (v.brand, v.model, v.plate) == ("Volkswagen", "Passat", "沪A12345")
    assert v.purchase_date == D(2023, 5, 1)
    assert v.usage == "private"
    assert v.selling_dealer == small.sh
    assert v.owner == small.wang
    assert len(v.owners) == 1
    o = v.owners[0]
    assert (o.customer, o.since, o.until) == (small.wang, D(2023, 5, 1), None)
    assert small.db.vehicle(small.lavida).usage == "taxi"
    assert v.to_dict()["vin"] == vin(183294)


def test_vehicles_of(small):
    vs = small.db.vehicles_of(small.wang)
    assert [v.id for v in vs] == [small.passat]
    assert small.db.vehicles_of(small.zhao) == []


def test_transfer_vehicle_moves_ownership_and_rollups(small):
    db = small.db
    db.transfer_vehicle(small.jetta, small.zhao, D(2025, 6, 1))
    v = db.vehicle(small.jetta)
    assert v.owner == small.zhao
    assert [(o.customer, o.since, o.until) for o in v.owners] == [
        (small.li, D(2022, 1, 10), D(2025, 6, 1)),
        (small.zhao, D(2025, 6, 1), None),
    ]
    assert db.rollup(small.li).vehicles_current == 0
    assert db.rollup(small.li).vehicles_total == 1
    assert db.rollup(small.zhao).vehicles_current == 1
    assert db.rollup(small.zhao).first_vehicle == D(2025, 6, 1)
    assert db.find_customers(vin(100001)) == [small.zhao]
    view = db.customer_360(small.li)
    assert [ov.id for ov in view.past_vehicles] == [small.jetta]
    assert view.current_vehicles == []


def test_update_vehicle(small):
    db = small.db
    db.update_vehicle(
        small.passat,
        {"vin": vin(183294), "brand": "Volkswagen", "model": "Passat", "plate": "沪A54321",
         "purchase_date": "2023-05-01", "insurance_expiry": "2026-04-30"},
    )
    v = db.vehicle(small.passat)
    assert v.plate == "沪A54321"
    assert v.insurance_expiry == D(2026, 4, 30)
    assert db.vehicle_by_plate("沪A54321") == small.passat
    assert db.vehicle_by_plate("沪A12345") is None


def test_duplicate_vin_is_refused(small):
    with pytest.raises(autocrm.DuplicateKeyError) as e:
        small.db.insert_vehicle(vin=vin(183294), brand="Volkswagen", model="Passat")
    assert e.value.field == "vin"
    assert e.value.existing == small.passat
    assert small.db.vehicle_count() == 3


def test_insert_vehicles_batch(db):
    c = db.insert_customer(name="王小明")
    ids = db.insert_vehicles(
        [
            {"vin": vin(1), "brand": "Audi", "model": "A4L", "purchase_date": "2024-01-01", "owner": c},
            {"vin": vin(2), "brand": "Audi", "model": "Q5L", "purchase_date": "2024-02-01", "owner": c},
        ]
    )
    assert len(ids) == 2
    assert sorted(v.model for v in db.vehicles_of(c)) == ["A4L", "Q5L"]
    assert db.rollup(c).vehicles_current == 2


# --- touchpoints, rollups, timeline, 360 ------------------------------------------------------


def test_touchpoint_round_trip(small):
    t = small.db.touchpoint(small.tp_s1)
    assert t.id == small.tp_s1
    assert t.at == T(2024, 6, 10, 9, 30)
    assert t.customer == small.wang and t.vehicle == small.passat and t.dealer == small.sh
    assert (t.channel, t.kind, t.service_kind) == ("showroom", "service_visit", "first_service")
    assert t.amount == Decimal("1200.50")
    assert str(t.amount) == "1200.50"
    assert t.parts_amount == Decimal("700.50")
    assert t.labour_amount == Decimal("500.00")
    assert t.mileage_km == 12000
    assert t.sensitive is False
    t2 = small.db.touchpoint(small.tp_s2)
    assert t2.at == T(2025, 3, 1, 14, 15, 30)
    assert t2.amount == Decimal("800.00")
    assert small.db.touchpoint(small.tp_zhao).amount is None


def test_sensitive_is_derived_for_complaints(small):
    tid = small.db.insert_touchpoint(
        at="2025-04-01 10:00:00", customer=small.li, channel="phone_in", kind="complaint"
    )
    assert small.db.touchpoint(tid).sensitive is True


def test_money_inputs(small):
    db = small.db
    mk = lambda amount: db.insert_touchpoint(
        at="2025-05-01T10:00", customer=small.zhao, channel="showroom", kind="order", amount=amount
    )
    assert db.touchpoint(mk(Decimal("0.01"))).amount == Decimal("0.01")
    assert db.touchpoint(mk(123)).amount == Decimal("123.00")
    assert db.touchpoint(mk("99.9")).amount == Decimal("99.90")
    with pytest.raises(TypeError):
        mk(12.5)  # float refused
    with pytest.raises(ValueError):
        mk(Decimal("1.005"))  # more than two decimals
    with pytest.raises(autocrm.ValidationError) as e:
        mk(Decimal("-1.00"))
    assert e.value.code == "validation.negative"
    assert e.value.field == "amount"


def test_malformed_dates_and_enums_are_value_errors(small):
    db = small.db
    with pytest.raises(ValueError):
        db.insert_touchpoint(at="2025-13-40T10:00", customer=small.zhao, channel="web", kind="enquiry")
    with pytest.raises(ValueError):
        db.insert_touchpoint(at="2025-01-01T10:00", customer=small.zhao, channel="pigeon", kind="enquiry")
    with pytest.raises(ValueError):
        db.insert_touchpoint(at="2025-01-01T10:00", customer=small.zhao, channel="web", kind="teleport")
    with pytest.raises(TypeError):
        db.insert_touchpoint(at=12345, customer=small.zhao, channel="web", kind="enquiry")
    assert db.touchpoint_count() == 5


def test_rollup_exact(small):
    r = small.db.rollup(small.wang)
    assert r.counts.get("purchase") == 1
    assert r.counts.get("service_visit") == 2
    assert sum(r.counts.values()) == 3
    assert r.touchpoints == 3
    assert r.spend.get("purchase") == Decimal("180000.00")
    assert r.spend.get("service_visit") == Decimal("2000.50")
    assert r.parts_spend == Decimal("700.50")
    assert r.labour_spend == Decimal("500.00")
    assert r.service_dates == [D(2024, 6, 10), D(2025, 3, 1)]
    assert r.first_purchase == D(2023, 5, 1) and r.last_purchase == D(2023, 5, 1)
    assert r.first_touch == T(2023, 5, 1, 10, 0)
    assert r.last_touch == T(2025, 3, 1, 14, 15, 30)
    assert r.max_mileage_km == 25000
    assert (r.vehicles_current, r.vehicles_total, r.first_vehicle) == (1, 1, D(2023, 5, 1))
    assert (r.relations, r.leads, r.complaints, r.surveys) == (0, 0, 0, 0)


def test_delete_touchpoint_updates_rollup(small):
    db = small.db
    db.delete_touchpoint(small.tp_s2)
    r = db.rollup(small.wang)
    assert r.service_dates == [D(2024, 6, 10)]
    assert r.spend.get("service_visit") == Decimal("1200.50")
    assert r.max_mileage_km == 12000
    assert db.touchpoint_count() == 4
    with pytest.raises(autocrm.NotFoundError):
        db.touchpoint(small.tp_s2)


def test_timeline_pages_newest_first(small):
    db = small.db
    p1 = db.timeline(small.wang, limit=2)
    assert [t.id for t in p1.items] == [small.tp_s2, small.tp_s1]
    assert p1.next is not None
    at, tid = p1.next
    assert (at, tid) == (T(2024, 6, 10, 9, 30), small.tp_s1)
    p2 = db.timeline(small.wang, limit=2, before=p1.next)
    assert [t.id for t in p2.items] == [small.tp_purchase]
    assert p2.next is None
    assert db.timeline(small.fleet).items == []


def test_insert_touchpoints_batch(small):
    ids = small.db.insert_touchpoints(
        [
            {"at": T(2025, 6, 1, 9, 0), "customer": small.li, "channel": "phone_out", "kind": "callback", "outcome": "reached", "score": 9},
            {"at": T(2025, 6, 2, 9, 0), "customer": small.li, "channel": "sms", "kind": "callback", "outcome": "no answer"},
        ]
    )
    assert len(ids) == 2
    assert small.db.rollup(small.li).counts.get("callback") == 2
    assert small.db.touchpoint(ids[0]).score == 9
    assert small.db.touchpoint(ids[1]).outcome == "no answer"


def test_customer_360(small):
    v = small.db.customer_360(small.wang, timeline_limit=2)
    assert v.id == small.wang
    assert v.customer.name == "王小明"
    assert v.rollup.service_dates == [D(2024, 6, 10), D(2025, 3, 1)]
    assert len(v.current_vehicles) == 1
    assert len(v.past_vehicles) == 0
    assert [t.id for t in v.timeline] == [small.tp_s2, small.tp_s1]
    assert v.timeline_next is not None
    text = str(v)
    assert "王小明" in text and "Passat" in text
    full = small.db.customer_360(small.wang)
    assert len(full.timeline) == 3 and full.timeline_next is None


# --- leads, complaints, surveys, relations, consents ------------------------------------------


def test_leads(small):
    db = small.db
    lid = db.insert_lead(
        customer=small.zhao, origin="web", model="Tiguan L", intent="H",
        received="2025-02-02T16:05", dealer=small.sh,
    )
    lead = db.lead(lid)
    assert (lead.id, lead.customer, lead.origin, lead.model, lead.intent) == (lid, small.zhao, "web", "Tiguan L", "H")
    assert lead.status == "new" and lead.purchase_type == "first"
    assert lead.received == T(2025, 2, 2, 16, 5)
    db.update_lead(lid, {"customer": small.zhao, "origin": "web", "model": "Tiguan L", "intent": "A",
                         "received": "2025-02-02T16:05", "dealer": small.sh, "status": "won",
                         "status_at": "2025-03-01T10:00"})
    lead = db.lead(lid)
    assert lead.status == "won" and lead.intent == "A"
    assert lead.status_at == T(2025, 3, 1, 10, 0)
    assert [l.id for l in db.leads_of(small.zhao)] == [lid]
    assert db.rollup(small.zhao).leads == 1
    ids = db.insert_leads([
        {"customer": small.li, "origin": "call_centre", "model": "Passat", "intent": "B", "received": "2025-01-05T10:00"},
        {"customer": small.li, "origin": "referral", "model": "Magotan", "intent": "C", "received": "2025-01-06T10:00"},
    ])
    assert len(ids) == 2 and len(db.leads_of(small.li)) == 2
    with pytest.raises(ValueError):
        db.insert_lead(customer=small.li, origin="web", model="Passat", intent="Z", received="2025-01-05T10:00")


def test_complaint_workflow(small):
    db = small.db
    cid = db.insert_complaint(customer=small.li, category="service", received="2025-04-01T09:00",
                              vehicle=small.jetta, dealer=small.sh)
    c = db.complaint(cid)
    assert c.status == "received" and c.received == T(2025, 4, 1, 9, 0)
    c = db.respond_to_complaint(cid, "2025-04-01T15:00")
    assert c.first_response == T(2025, 4, 1, 15, 0)
    with pytest.raises(autocrm.InvalidOperationError):
        db.respond_to_complaint(cid, "2025-04-01T16:00")  # only one first response
    c = db.advance_complaint(cid, "2025-04-02T09:00")
    assert c.status == "analysed"
    c = db.advance_complaint(cid, "2025-04-03T09:00")
    assert c.status == "resolved" and c.resolved == T(2025, 4, 3, 9, 0)
    with pytest.raises(autocrm.InvalidOperationError):
        db.advance_complaint(cid, "2025-04-02T09:00")  # time going backwards
    assert db.complaint(cid).status == "resolved"
    assert [x.id for x in db.complaints_of(small.li)] == [cid]
    assert db.rollup(small.li).complaints == 1
    assert len(db.insert_complaints([
        {"customer": small.wang, "category": "sales", "received": "2025-05-01T10:00"},
    ])) == 1


def test_surveys_weighted_index(small):
    db = small.db
    sid = db.insert_survey(customer=small.wang, kind="service", date="2025-03-02",
                           items={"friendliness": 9, "product_issues": 7}, dealer=small.sh)
    s = db.survey(sid)
    assert s.kind == "service" and s.date == D(2025, 3, 2)
    assert s.items == {"friendliness": 9, "product_issues": 7}
    # (16*9 + 21*7) / (16 + 21) * 10
    assert s.weighted_index == pytest.approx(2910 / 37)
    assert [x.id for x in db.surveys_of(small.wang)] == [sid]
    with pytest.raises(autocrm.ValidationError) as e:
        db.insert_survey(customer=small.wang, kind="service", date="2025-03-02", items={"friendliness": 11})
    assert e.value.code == "validation.score_out_of_range"
    with pytest.raises(ValueError):
        db.insert_survey(customer=small.wang, kind="service", date="2025-03-02", items={"charm": 5})
    assert len(db.insert_surveys([{"customer": small.li, "kind": "sales", "date": "2025-01-01", "items": {"initiative": 8}}])) == 1


def test_relations(small):
    db = small.db
    db.relate(small.fleet, "decision_maker", small.wang)
    db.relate(small.zhao, "referred_by", small.li)
    rels = db.relations_of(small.fleet)
    assert [(r.from_, r.kind, r.to) for r in rels] == [(small.fleet, "decision_maker", small.wang)]
    # seen from the other side too
    assert (small.fleet, "decision_maker", small.wang) in [(r.from_, r.kind, r.to) for r in db.relations_of(small.wang)]
    assert db.rollup(small.wang).relations == 1
    assert db.unrelate(small.zhao, "referred_by", small.li) is True
    assert db.unrelate(small.zhao, "referred_by", small.li) is False
    assert db.relations_of(small.zhao) == []
    with pytest.raises(ValueError):
        db.relate(small.zhao, "best_friend", small.li)
    with pytest.raises(autocrm.NotFoundError):
        db.relate(small.zhao, "relative", 999_999)


def test_consents(small):
    db = small.db
    db.record_consent(small.wang, channel="sms", granted=True, at="2025-01-01T10:00", source="app")
    db.record_consent(small.wang, channel="sms", granted=False, at="2025-06-01T10:00", source="call_centre")
    ev = db.consents(small.wang)
    assert [(e.channel, e.granted, e.at) for e in ev] == [
        ("sms", True, T(2025, 1, 1, 10, 0)),
        ("sms", False, T(2025, 6, 1, 10, 0)),
    ]
    with db.read() as r:
        assert r.evaluate('consents("sms")', "2025-03-01").to_list() == [small.wang]
        assert r.evaluate('consents("sms")', "2025-07-01").to_list() == []


def test_date_and_datetime_inputs(small):
    db = small.db
    # a datetime where a date is expected: its date part
    db.transfer_vehicle(small.jetta, small.zhao, T(2025, 6, 1, 15, 45))
    assert db.vehicle(small.jetta).owners[-1].since == D(2025, 6, 1)
    # a date where a date-time is expected: midnight
    t1 = db.insert_touchpoint(at=D(2025, 7, 1), customer=small.zhao, channel="web", kind="enquiry")
    assert db.touchpoint(t1).at == T(2025, 7, 1, 0, 0)
    # an aware datetime: its wall-clock fields, tzinfo ignored
    tz = dt.timezone(dt.timedelta(hours=8))
    t2 = db.insert_touchpoint(at=T(2025, 7, 2, 9, 30, tzinfo=tz), customer=small.zhao, channel="web", kind="enquiry")
    assert db.touchpoint(t2).at == T(2025, 7, 2, 9, 30)
    assert db.touchpoint(t2).at.tzinfo is None
    # implausible dates are the domain's call
    with pytest.raises(autocrm.ValidationError) as e:
        db.insert_touchpoint(at="1850-01-01T10:00", customer=small.zhao, channel="web", kind="enquiry")
    assert e.value.code == "validation.date_implausible"


def test_to_dict_of_records(small):
    t = small.db.touchpoint(small.tp_s1).to_dict()
    assert t["amount"] == Decimal("1200.50") and t["kind"] == "service_visit"
    assert t["at"] == T(2024, 6, 10, 9, 30)
    v = small.db.vehicle(small.passat).to_dict()
    assert v["owner"] == small.wang and v["model"] == "Passat"
