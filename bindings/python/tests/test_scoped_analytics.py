"""Segments, KPIs and care actions under a scope (`ScopedDatabase.kpi`, `evaluate`,
`evaluate_segment`, `due_actions`): they run on what the scope sees, need `analytics`, and are
audited. The data is test_access's ``net``: dealer DA serves ``one`` only, DB serves both."""

from __future__ import annotations

import datetime as dt

import pytest

import autocrm
from test_access import admin, net  # noqa: F401  (a fixture)

RULE = 'province != "nowhere"'
D = dt.date(2025, 6, 30)


def test_a_dealers_segment_holds_only_the_customers_it_serves(net):
    with net.db.read() as r:
        assert sorted(r.evaluate(RULE, D)) == sorted([net.one, net.two])
    assert list(net.db.scoped("dealer:DA", "x").evaluate(RULE, D)) == [net.one]
    assert sorted(net.db.scoped("dealer:DB", "x").evaluate(RULE, D)) == sorted([net.one, net.two])
    with net.db.write() as tx:
        tx.save_segment("everyone", RULE, dt.datetime(2025, 1, 1, 9, 0))
    assert list(net.db.scoped("dealer:DA", "x").evaluate_segment("everyone", D)) == [net.one]


def test_a_dealers_kpis_count_its_own_customers():
    db = autocrm.Database.in_memory()
    autocrm.synth.generate(db, customers=300, seed=7)
    (whole,) = db.read().kpi("after_sales_churn", "2025")
    seen = 0
    for dealer in db.read().dealers():
        s = db.scoped(f"dealer:{dealer.code}", "x")
        (mine,) = s.kpi("after_sales_churn", "2025")
        assert 0 < mine.denominator < whole.denominator and mine.numerator <= mine.denominator
        seen += mine.denominator
    # a customer several dealers serve counts at each of them
    assert seen >= whole.denominator


def test_due_actions_are_the_dealers_own(net):
    acts = net.db.scoped("dealer:DA", "x").due_actions(dt.date(2025, 1, 1), dt.date(2026, 12, 31))
    assert all(a.customer == net.one and a.dealer == net.a for a in acts)


def test_owners_run_no_analytics(net):
    me = net.db.scoped(f"owner:{net.one}", "app")
    for call in (
        lambda: me.kpi("retention", "2025"),
        lambda: me.evaluate(RULE, D),
        lambda: me.evaluate_segment("everyone", D),
        lambda: me.due_actions(dt.date(2025, 1, 1), dt.date(2025, 2, 1)),
    ):
        with pytest.raises(autocrm.AccessDeniedError) as ei:
            call()
        assert ei.value.permission == "analytics"


def test_scoped_analytics_are_audited(net):
    da = net.db.scoped("dealer:DA", "zhang.san", purpose="monthly review")
    da.evaluate(RULE, D)
    da.kpi("retention", "2025")
    log = [e for e in admin(net.db).audit_log() if e["actor"] == "zhang.san"]
    assert [(e["action"], e["what"], e["customers"]) for e in log] == [
        ("export", "segment rule", [net.one]),
        ("export", "kpi retention", []),
    ]
    assert all(e["purpose"] == "monthly review" for e in log)
