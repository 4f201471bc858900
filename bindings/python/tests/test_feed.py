"""The change feed from Python: consumers, pages, retention, errors (API.md, "Change feed")."""

from __future__ import annotations

import pytest

import autocrm


def test_feed_is_off_until_a_consumer_registers_then_records_each_change():
    db = autocrm.Database.in_memory()
    db.insert_customer(name="王小明")
    assert db.change_feed_enabled() is False
    assert db.changes()["changes"] == []

    assert db.register_consumer("search") == 0
    assert db.change_feed_enabled() is True
    cid = db.insert_customer(name="李小红", phones=["13812345678"])
    db.update_customer(cid, name="李晓红", phones=["13812345678"])
    with db.write() as tx:
        tx.set_actor("etl", "hq:data_admin")
        tx.set_source("dms")
        tx.delete_customer(cid)

    page = db.changes(0, 10)
    assert page["next"] == page["last"] == 3
    ops = [(c["commit"], c["entity"], c["op"], c["key"], c["customer"]) for c in page["changes"]]
    assert ops == [
        (1, "customer", "insert", {"id": cid}, cid),
        (2, "customer", "update", {"id": cid}, cid),
        (3, "customer", "delete", {"id": cid}, cid),
    ]
    last = page["changes"][-1]
    assert (last["actor"], last["scope"], last["source"]) == ("etl", "hq:data_admin", "dms")
    assert page["changes"][0]["actor"] is None


def test_pages_and_acknowledged_positions_and_pruning():
    db = autocrm.Database.in_memory()
    db.register_consumer("a")
    db.register_consumer("b")
    for i in range(5):
        db.insert_customer(name=f"王小明{i}")
    first = db.changes(0, 2)
    assert [c["id"] for c in first["changes"]] == [1, 2]
    rest = db.changes(first["next"], 100)
    assert [c["id"] for c in rest["changes"]] == [3, 4, 5]

    assert db.acknowledge("a", 4) == 4
    assert db.acknowledge("a", 1) == 4  # never moves back
    db.acknowledge("b", 2)
    assert db.prune_changes() == 2
    assert {c["name"]: c["position"] for c in db.consumers()} == {"a": 4, "b": 2}
    assert db.consumer_position("b") == 2

    with pytest.raises(autocrm.InvalidOperationError) as e:
        db.changes(1)
    assert e.value.code == "invalid_operation.changes_pruned"
    with pytest.raises(autocrm.InvalidOperationError) as e:
        db.acknowledge("a", 99)
    assert e.value.code == "invalid_operation.change_position_ahead"
    with pytest.raises(autocrm.NotFoundError):
        db.consumer_position("nobody")
    assert db.unregister_consumer("b") is True
    assert db.unregister_consumer("b") is False


def test_retention_settings_round_trip_and_bad_values_are_refused():
    db = autocrm.Database.in_memory()
    assert db.change_retention() == "until_consumed"
    db.set_change_retention(30)
    assert db.change_retention() == 30
    db.set_change_retention("forever")
    assert db.change_retention() == "forever"
    db.set_change_retention("7d")
    assert db.change_retention() == 7
    for bad in (0, "weekly", "-3"):
        with pytest.raises(autocrm.ValidationError):
            db.set_change_retention(bad)
    assert db.change_retention() == 7
    with pytest.raises(autocrm.ValidationError):
        db.register_consumer("  ")


def test_feed_survives_reopen(tmp_path):
    path = tmp_path / "feed.redb"
    with autocrm.Database.open(path) as db:
        db.register_consumer("replica")
        db.insert_customer(name="王小明")
        db.acknowledge("replica", 1)
    with autocrm.Database.open(path) as db:
        assert db.consumer_position("replica") == 1
        db.insert_customer(name="李小红")
        page = db.changes(db.consumer_position("replica"))
        assert [(c["id"], c["commit"], c["op"]) for c in page["changes"]] == [(2, 2, "insert")]


def test_a_dealer_reads_only_changes_it_may_see():
    db = autocrm.Database.in_memory()
    d1 = db.insert_dealer(code="SH001", name="SH001 4S", region="East", province="上海", city="上海")
    d2 = db.insert_dealer(code="SH002", name="SH002 4S", region="East", province="上海", city="上海")
    mine = db.insert_customer(name="王小明")
    other = db.insert_customer(name="李小红")
    for c, d in ((mine, d1), (other, d2)):
        db.insert_touchpoint(
            customer=c, dealer=d, at="2024-03-01T09:00", channel="showroom",
            kind="service_visit", service_kind="maintenance",
        )
    db.register_consumer("x")
    db.update_customer(mine, name="王晓明")
    db.update_customer(other, name="李晓红")
    dealer = db.scoped("dealer:SH001", "li")
    page = dealer.changes()
    assert page["next"] == page["last"] == 2
    assert [(c["entity"], c["customer"]) for c in page["changes"]] == [("customer", mine)]
    with pytest.raises(autocrm.AccessDeniedError):
        db.scoped("hq:call_centre", "cc").changes()
