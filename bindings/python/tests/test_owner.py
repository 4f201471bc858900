"""The owner club's calls on `ScopedDatabase` (issue 13, core/src/api/owner.rs): each answers
for the owner of an owner scope only, other scopes raise AccessDeniedError, a redemption retried
with the same key spends once and a referral retried with the same key makes one lead.

Dates are relative to today (the database's clock, UTC+08:00), so the car's inspection and
warranty reminders are always due within 90 days.
"""

from __future__ import annotations

import datetime as dt

import pytest

import autocrm
from conftest import national_id

NOW = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).replace(tzinfo=None, microsecond=0)
TODAY = NOW.date()


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


@pytest.fixture
def club(db):
    with db.write() as tx:
        tx.set_loyalty_config()
        d = tx.insert_dealer(code="DA", name="甲4S店", region="East", province="上海", city="上海")
        me = tx.insert_customer(
            name="王小明", phones=["13812345678"], national_id=national_id("19900315", 11),
            birth_date=dt.date(1990, 3, 15), province="上海", city="上海", address="徐汇区漕溪北路1号",
        )
        other = tx.insert_customer(name="李华", phones=["13900001111"])
        tx.insert_vehicle(
            vin="WVWZZZ1KZ00000001", brand="Volkswagen", model="Passat", purchase_date=days(-330),
            warranty_end=days(75), insurance_expiry=days(40), inspection_due=days(50),
            selling_dealer=d, owner=me,
        )
        tx.insert_vehicle(vin="WVWZZZ1KZ00000002", brand="Volkswagen", model="Tiguan",
                          purchase_date=days(-700), owner=other)
        tx.insert_touchpoint(
            at=NOW - dt.timedelta(days=30), customer=me, channel="showroom", kind="service_visit",
            service_kind="maintenance", dealer=d, amount="800.00",
        )
        for c, key in ((me, "w-me"), (other, "w-other")):
            tx.join_brand_club(c, days(-400))
            tx.adjust(customer=c, points=500, at=NOW - dt.timedelta(days=1), operator="ops",
                      reason="welcome", key=key)
    return db, me, other


def test_the_owner_reads_his_club_data(club):
    db, me, other = club
    s = db.scoped(f"owner:{me}", "app-1")
    p = s.my_profile()
    assert p["customer"].id == me and p["customer"].phones == ["13812345678"]
    assert "national_id" in p["masked"] and "*" in p["customer"].national_id
    cars = s.my_vehicles()
    assert [c.model for c in cars] == ["Passat"]
    assert cars[0].warranty_end == days(75) and cars[0].inspection_due == days(50)
    assert all(o.customer == me for o in cars[0].owners)
    page = s.my_history(limit=5)
    assert [t.kind for t in page.items] == ["service_visit"] and page.next is None
    (brand,) = s.my_points(within_days=800)
    assert brand["wallet"] == "brand" and brand["balance"].points == 500 and brand["spendable"] == 500
    assert brand["expiring"] and brand["expiring"][0]["points"] == 500
    assert s.my_points(within_days=0)[0]["expiring"] == []
    t = s.my_tier()
    assert t["status"].tier == "normal"
    assert t["next"]["tier"] == "silver" and t["next"]["service_visits"] == 1
    assert s.my_benefits().labour_discount_pct == 0
    kinds = {r.kind for r in s.my_reminders(days=90)}
    assert {"annual_inspection", "warranty_expiry"} <= kinds and "insurance_renewal" not in kinds
    assert s.my_consents() == {c: False for c in ("phone", "sms", "email", "wechat", "app", "mail")}
    for ch in ("sms", "app", "phone", "email", "wechat", "mail"):
        s.set_my_consent(ch, True)
    assert "insurance_renewal" in {r.kind for r in s.my_reminders(days=90)}
    s.set_my_consent("sms", False)
    assert s.my_consents()["sms"] is False
    with pytest.raises(autocrm.ValidationError):
        s.my_reminders(days=10_000)


def test_redeem_mine_spends_once_per_key_and_a_referral_makes_one_lead(club):
    db, me, _ = club
    s = db.scoped(f"owner:{me}", "app-1")
    at = NOW - dt.timedelta(minutes=1)
    pid = s.redeem_mine(200, "car wash", "phone-1", at)
    assert s.redeem_mine(200, "car wash", "phone-1", at) == pid
    assert db.balance(me).points == 300
    with pytest.raises(autocrm.IdempotencyConflictError):
        s.redeem_mine(300, "car wash", "phone-1", at)
    with pytest.raises(autocrm.InsufficientPointsError):
        s.redeem_mine(10_000, "a car", "phone-2", at)
    lead = s.refer_friend("赵六", "13700002222", "DA", "ID.4", "ref-1")
    assert s.refer_friend("赵六", "13700002222", "DA", "ID.4", "ref-1") == lead
    assert db.lead(lead).origin == "referral" and db.lead(lead).model == "ID.4"
    with pytest.raises(autocrm.NotFoundError):
        s.refer_friend("赵六", "13700002222", "NOPE", "ID.4", "ref-2")


def test_other_scopes_are_refused_and_others_stay_hidden(club):
    db, me, other = club
    for scope in ("hq:data_admin", "dealer:DA"):
        s = db.scoped(scope, "x")
        for call in (s.my_profile, s.my_vehicles, s.my_tier, s.my_benefits, s.my_consents,
                     lambda: s.my_points(), lambda: s.my_reminders(),
                     lambda: s.refer_friend("赵六", "13700002222", "DA", "ID.4", "k"),
                     lambda: s.redeem_mine(1, "x", "k", NOW)):
            with pytest.raises(autocrm.AccessDeniedError):
                call()
    them = db.scoped(f"owner:{other}", "app-2")
    assert them.my_profile()["customer"].id == other
    assert [c.model for c in them.my_vehicles()] == ["Tiguan"]
    assert them.my_history().items == []
    with pytest.raises(autocrm.NotFoundError):
        them.customer_360(me)
