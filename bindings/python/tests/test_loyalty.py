"""The loyalty club through the binding: earning, redeeming, reversing, tiers, settlement.

Scenario (default club configuration: 1 brand point per whole yuan of purchases and of parts,
2 dealer points per whole yuan of labour, lots live 730 days, 100 points settle at ¥1):

- wang joins the brand club and SH01's club on 2025-01-01
- 2025-02-01 purchase at SH01, ¥150,000.50           -> +150,000 brand (lot expires first)
- 2025-03-01 service at SH01, parts ¥300.99, labour ¥200 -> +300 brand, +400 dealer:SH01
- 2025-04-01 redeems 1,000 brand points at HZ01          -> drawn from the purchase lot
  => settlement for April: SH01 owes HZ01 1,000 points = ¥10.00
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import autocrm

D = dt.date
T = dt.datetime


@pytest.fixture
def club(small):
    db = small.db
    with db.write() as tx:
        tx.set_loyalty_config()  # the core default
        m = tx.join_brand_club(small.wang, "2025-01-01")
        assert m.enrolled == D(2025, 1, 1)
        m = tx.join_dealer_club(small.wang, small.sh, D(2025, 1, 1), source="dealer_app")
        assert m.dealer_clubs == [(small.sh, D(2025, 1, 1))]
        small.tp_buy2 = tx.insert_touchpoint(
            at=T(2025, 2, 1, 10, 0), customer=small.wang, channel="showroom", kind="purchase",
            dealer=small.sh, amount=Decimal("150000.50"),
        )
        small.tp_svc = tx.insert_touchpoint(
            at=T(2025, 3, 1, 10, 0), customer=small.wang, channel="showroom", kind="service_visit",
            service_kind="maintenance", dealer=small.sh, vehicle=small.passat,
            amount=Decimal("500.99"), parts_amount=Decimal("300.99"), labour_amount=Decimal("200.00"),
        )
    return small


def test_config_round_trip(club):
    cfg = club.db.loyalty_config()
    assert isinstance(cfg, autocrm.LoyaltyConfig)
    assert "730" in repr(cfg) or "lot_days" in repr(cfg)
    d = autocrm.LoyaltyConfig.default()
    assert repr(d) == repr(cfg)


def test_membership(club, small):
    m = club.db.membership(club.wang)
    assert m.enrolled == D(2025, 1, 1)
    assert m.source == "app"
    assert m.dealer_clubs == [(club.sh, D(2025, 1, 1))]
    assert club.db.membership(club.li) is None
    # joining again changes nothing
    assert club.db.join_brand_club(club.wang, "2025-05-05").enrolled == D(2025, 1, 1)


def test_earnings_balances_and_postings(club):
    db = club.db
    assert db.balance(club.wang).points == 150_300
    assert db.balance(club.wang, wallet="brand").owed == 0
    assert db.balance(club.wang, wallet=club.sh).points == 400
    wallets = dict((w, b.points) for w, b in db.wallets_of(club.wang))
    assert wallets == {"brand": 150_300, club.sh: 400}
    ps = db.postings_of(club.wang)
    earned = sorted(((p.wallet, p.kind, p.points) for p in ps), key=repr)
    assert earned == sorted([("brand", "earn", 150_000), ("brand", "earn", 300), (club.sh, "earn", 400)], key=repr)
    buy = next(p for p in ps if p.points == 150_000)
    assert buy.customer == club.wang
    assert buy.at == T(2025, 2, 1, 10, 0)
    assert buy.key == f"tp/{club.tp_buy2}/purchase"
    assert buy.dealer == club.sh
    assert isinstance(buy.cause, dict)
    assert db.posting(buy.id).points == 150_000
    assert db.posting_by_key(buy.key).id == buy.id
    # li is not a member: his touchpoints earn nothing
    assert db.postings_of(club.li) == []
    assert db.balance(club.li).points == 0


def test_spendable_on_date(club):
    """Spendable on D = points in lots expiring after D (lots live 730 days: the purchase lot
    expires 2027-02-01, the service lots 2027-03-01)."""
    db = club.db
    assert db.spendable(club.wang, "2025-03-15") == 150_300
    assert db.spendable(club.wang, "2025-03-15", wallet=club.sh) == 400
    assert db.spendable(club.wang, "2027-02-15") == 300
    assert db.spendable(club.wang, "2027-02-15", wallet=club.sh) == 400
    assert db.spendable(club.wang, "2027-03-15") == 0
    # what spendable says is what a redemption may take
    with pytest.raises(autocrm.InsufficientPointsError) as e:
        db.redeem(customer=club.wang, points=301, at="2027-02-15T10:00", item="mug", key="late-1")
    assert e.value.available == 300


def test_redeem_and_settlement(club):
    db = club.db
    pid = db.redeem(customer=club.wang, points=1000, at="2025-04-01T12:00", item="free car wash", key="redeem-1", dealer=club.hz)
    # a retry with the same key returns the same posting and spends nothing more
    assert db.redeem(customer=club.wang, points=1000, at="2025-04-01T12:00", item="free car wash", key="redeem-1", dealer=club.hz) == pid
    assert db.balance(club.wang).points == 149_300
    p = db.posting(pid)
    assert (p.kind, p.points, p.dealer, p.wallet) == ("redeem", -1000, club.hz, "brand")
    lines = db.settlement("2025-04-01", "2025-05-01")
    assert len(lines) == 1
    line = lines[0]
    assert (line.debtor, line.creditor, line.points) == (club.sh, club.hz, 1000)
    assert line.amount == Decimal("10.00")
    assert db.settlement("2025-05-01", "2025-06-01") == []


def test_dealer_points_only_at_their_dealer(club):
    with pytest.raises(autocrm.InvalidOperationError):
        club.db.redeem(customer=club.wang, points=100, at="2025-04-01T12:00", item="oil", key="r-x", wallet=club.sh, dealer=club.hz)
    pid = club.db.redeem(customer=club.wang, points=100, at="2025-04-01T12:00", item="oil", key="r-y", wallet=club.sh)
    assert club.db.balance(club.wang, wallet=club.sh).points == 300
    assert club.db.posting(pid).wallet == club.sh


def test_reverse_after_refund_records_owed(club):
    db = club.db
    db.redeem(customer=club.wang, points=1000, at="2025-04-01T12:00", item="free car wash", key="redeem-1", dealer=club.hz)
    credit = db.posting_by_key(f"tp/{club.tp_buy2}/purchase")
    rid = db.reverse(credit=credit.id, at="2025-05-01T09:00", operator="ops", reason="vehicle refunded", key="rev-1")
    r = db.posting(rid)
    assert r.kind == "reverse"
    # 149,000 unspent in the lot, and the 1,000 spent of it clawed from the 300-point lot
    assert r.points == -(149_000 + 300)
    assert r.shortfall == 700
    b = db.balance(club.wang)
    assert (b.points, b.owed) == (0, 700)
    with pytest.raises(autocrm.InvalidOperationError):
        db.reverse(credit=credit.id, at="2025-05-02T09:00", operator="ops", reason="again", key="rev-2")
    check = db.verify_ledger()
    assert check.ok is True and check.problems == []
    assert check.postings >= 5 and check.wallets == 2


def test_adjust_negative_and_validation(club):
    db = club.db
    db.adjust(customer=club.wang, points=-300, at="2025-03-20T10:00", operator="ops", reason="correction", key="adj-1")
    assert db.balance(club.wang).points == 150_000
    with pytest.raises(autocrm.ValidationError) as e:
        db.adjust(customer=club.wang, points=0, at="2025-03-20T10:00", operator="ops", reason="nothing", key="adj-0")
    assert e.value.field == "points"
    with pytest.raises(autocrm.InsufficientPointsError):
        db.adjust(customer=club.wang, points=-1_000_000, at="2025-03-20T10:00", operator="ops", reason="too much", key="adj-2")


def test_expire_lots(club):
    db = club.db
    with db.write() as tx:
        rep = tx.expire_lots("2026-12-31")
    assert (rep.lots, rep.points) == (0, 0)
    with db.write() as tx:
        rep = tx.expire_lots("2027-12-31")
    assert rep.lots == 3
    assert rep.points == 150_700
    assert db.balance(club.wang).points == 0
    assert db.balance(club.wang, wallet=club.sh).points == 0
    assert {p.kind for p in db.postings_of(club.wang)} == {"earn", "expire"}
    assert db.verify_ledger().ok


def test_tiers_and_benefits(club):
    db = club.db
    st = db.tier_status(club.wang, "2025-03-15")
    # paid in (2024-03-15, 2025-03-15]: ¥1,200.50 + ¥800 + ¥150,000.50 + ¥500.99, which meets
    # gold's ¥100,000 threshold
    assert st.qualified == "gold" and st.tier == "gold"
    assert st.by_grace is False
    assert st.total_spend == Decimal("152501.99")
    assert st.single_ticket == Decimal("150000.50")
    assert st.service_visits == 3
    assert st.points == 150_700
    with db.write() as tx:
        changes = tx.review_tiers("2025-03-15")
    assert [(c, ch.from_tier, ch.to_tier, ch.on) for c, ch in changes] == [
        (club.wang, "normal", "gold", D(2025, 3, 15))
    ]
    hist = db.tier_history(club.wang)
    assert [(h.from_tier, h.to_tier) for h in hist] == [("normal", "gold")]
    b = db.benefits(club.wang, "2025-03-15")
    assert (b.labour_discount_pct, b.parts_discount_pct, b.rescue_discount_pct, b.priority) == (10, 5, 100, True)
    # reviewing the same date again changes nothing
    assert db.review_tiers("2025-03-15") == []


def test_tier_floor(club):
    db = club.db
    db.set_tier_floor(club.li, tier="silver", from_="2025-01-01", operator="ops", reason="VIP fleet contact", until="2025-12-31")
    st = db.tier_status(club.li, "2025-06-01")
    assert st.tier == "silver" and st.qualified == "normal"
    assert st.floor_tier == "silver"
    assert db.tier_status(club.li, "2026-06-01").tier == "normal"


def test_postings_table_arrow(club):
    import pyarrow as pa

    t = pa.table(club.db.postings_table(customer=club.wang))
    assert t.num_rows == 3
    assert t.schema.field("id").type == pa.uint64()
    assert t.schema.field("points").type == pa.int64()
    assert t.schema.field("at").type == pa.timestamp("s")
    assert t.schema.field("expires").type == pa.date32()
    assert sorted(t.column("points").to_pylist()) == [300, 400, 150_000]
    assert sorted(t.column("wallet").to_pylist()) == ["brand", "brand", f"dealer:{club.sh}"]
    assert set(t.column("kind").to_pylist()) == {"earn"}
    all_ = pa.table(club.db.postings_table())
    assert all_.num_rows == 3


def test_explicit_default_config_and_its_fields(small):
    cfg = autocrm.LoyaltyConfig.default()
    assert cfg.lot_days == 730
    assert cfg.tier_window_days == 365 and cfg.downgrade_grace_days == 90
    assert set(cfg.rule_names) == {"purchase", "service_labour", "service_parts", "club_activity", "forum_post", "referral"}
    db = small.db
    assert repr(db.loyalty_config()) == repr(cfg)  # nothing stored: the default
    db.set_loyalty_config(cfg)
    db.join_brand_club(small.li, "2025-01-01")
    tid = db.insert_touchpoint(at="2025-02-01T10:00", customer=small.li, channel="event", kind="club_activity")
    [p] = db.postings_of(small.li)
    assert (p.kind, p.points, p.key) == ("earn", 200, f"tp/{tid}/club_activity")
    # a replayed feed earns nothing twice
    db.insert_touchpoint(at="2025-02-02T10:00", customer=small.li, channel="event", kind="club_activity", source=("app", "A-1"))
    db.insert_touchpoint(at="2025-02-02T10:00", customer=small.li, channel="event", kind="club_activity", source=("app", "A-1"))
    assert db.balance(small.li).points == 400


# --- custom configuration -------------------------------------------------------------------------


def test_default_config_as_dict():
    d = autocrm.LoyaltyConfig.default().to_dict()
    assert d["rules"][0] == {"name": "purchase", "kind": "purchase", "points_per_yuan": 1, "amount": "total", "wallet": "brand"}
    assert d["rules"][1]["wallet"] == "issuing_dealer"
    assert {"name": "referral", "kind": "referral", "points": 5000, "wallet": "brand"} in d["rules"]
    assert d["multipliers"] == {"silver": 120, "gold": 150}
    assert (d["lot_days"], d["tier_window_days"], d["downgrade_grace_days"]) == (730, 365, 90)
    assert d["tiers"][0] == {
        "tier": "silver", "min_vehicles": None, "min_service_visits": 2,
        "min_total_spend": Decimal("20000.00"), "min_single_ticket": None, "min_qualifying_points": None,
    }
    assert d["benefits"]["gold"] == {"labour_discount_pct": 10, "parts_discount_pct": 5, "rescue_discount_pct": 100, "priority": True}
    assert d["settlement_per_100_points"] == Decimal("1.00")
    # the dict is the constructor's shape
    assert autocrm.LoyaltyConfig(d) == autocrm.LoyaltyConfig.default()
    assert autocrm.LoyaltyConfig() == autocrm.LoyaltyConfig.default()


def test_custom_earn_rate_changes_earned_points(small):
    db = small.db
    with db.write() as tx:
        # keyword arguments; keys not given keep core's default
        tx.set_loyalty_config(
            rules=[{"name": "purchase", "kind": "purchase", "points_per_yuan": 3},
                   {"name": "forum", "kind": "forum_post", "points": 7, "wallet": "brand"}],
            lot_days=365,
        )
        tx.join_brand_club(small.wang, "2025-01-01")
        buy = tx.insert_touchpoint(at=T(2025, 2, 1, 10, 0), customer=small.wang, channel="showroom",
                                   kind="purchase", dealer=small.sh, amount=Decimal("1000.50"))
        tx.insert_touchpoint(at=T(2025, 2, 2, 10, 0), customer=small.wang, channel="web", kind="forum_post")
        # no service rule any more: a service visit earns nothing
        tx.insert_touchpoint(at=T(2025, 3, 1, 10, 0), customer=small.wang, channel="showroom",
                             kind="service_visit", dealer=small.sh, amount=500, parts_amount=300, labour_amount=200)
    assert db.balance(small.wang).points == 3 * 1000 + 7
    assert db.balance(small.wang, wallet=small.sh).points == 0
    p = db.posting_by_key(f"tp/{buy}/purchase")
    assert p.points == 3000 and p.expires == D(2026, 2, 1)  # lots live 365 days
    stored = db.loyalty_config()
    assert stored.lot_days == 365 and stored.rule_names == ["purchase", "forum"]
    d = stored.to_dict()
    assert d["rules"][0] == {"name": "purchase", "kind": "purchase", "points_per_yuan": 3, "amount": "total", "wallet": "brand"}
    assert d["tiers"] == autocrm.LoyaltyConfig.default().to_dict()["tiers"]
    assert stored != autocrm.LoyaltyConfig.default()


def test_config_from_dict_object_and_replace(small):
    db = small.db
    db.set_loyalty_config({"multipliers": {"silver": 200}, "settlement_per_100_points": "2.50"})
    c = db.loyalty_config()
    assert c.to_dict()["multipliers"] == {"silver": 200}
    assert c.to_dict()["settlement_per_100_points"] == Decimal("2.50")
    # replace keeps this configuration's other keys
    c2 = c.replace(lot_days=100, benefits={"gold": {"priority": True}})
    assert c2.lot_days == 100 and c2.to_dict()["multipliers"] == {"silver": 200}
    assert c2.to_dict()["benefits"] == {"gold": {"labour_discount_pct": 0, "parts_discount_pct": 0, "rescue_discount_pct": 0, "priority": True}}
    db.set_loyalty_config(c2)
    assert db.loyalty_config() == c2
    # an object plus keyword overrides
    db.set_loyalty_config(c2, tier_window_days=180)
    assert db.loyalty_config() == c2.replace(tier_window_days=180)
    db.set_loyalty_config()  # back to core's default
    assert db.loyalty_config() == autocrm.LoyaltyConfig.default()


def test_bad_configs_are_refused(db):
    with pytest.raises(autocrm.ValidationError) as e:
        autocrm.LoyaltyConfig(lot_days=0)
    assert e.value.field == "lot_days"
    with pytest.raises(autocrm.ValidationError) as e:
        db.set_loyalty_config(rules=[{"name": "a", "kind": "purchase", "points": 1}, {"name": "a", "kind": "referral", "points": 2}])
    assert e.value.field == "rules.name"
    with pytest.raises(TypeError, match="unknown field"):
        autocrm.LoyaltyConfig(lot_dayz=10)
    with pytest.raises(TypeError, match="not both"):
        autocrm.LoyaltyConfig(rules=[{"name": "a", "kind": "purchase", "points": 1, "points_per_yuan": 2}])
    with pytest.raises(ValueError, match="tier"):
        autocrm.LoyaltyConfig(multipliers={"platinum": 120})
    with pytest.raises(ValueError, match="touchpoint kind"):
        autocrm.LoyaltyConfig(rules=[{"name": "a", "kind": "purchas", "points": 1}])
    with pytest.raises(TypeError):
        autocrm.LoyaltyConfig(settlement_per_100_points=1.5)
    with pytest.raises(TypeError):
        db.set_loyalty_config([1, 2])
    assert db.loyalty_config() == autocrm.LoyaltyConfig.default()  # nothing stored
