"""Replicas that sync with HQ from Python (API.md, "Replicas"): a dealer's file kept in step
with HQ's by batches carried as bytes, refusals by code, and whole round trips with
``sync_with``."""

from __future__ import annotations

import datetime as dt

import pytest

import autocrm


def _visit(tx, customer: int, dealer: int, minute: int) -> int:
    return tx.insert_touchpoint(
        at=dt.datetime(2025, 1, 1, 8, 0) + dt.timedelta(minutes=minute),
        customer=customer,
        channel="showroom",
        kind="service_visit",
        service_kind="maintenance",
        dealer=dealer,
    )


def _hq(path) -> tuple[autocrm.Database, dict[str, int]]:
    """HQ with dealers SH001 and BJ002: 王 visited SH001, 李 BJ002, 张 both."""
    hq = autocrm.Database.open(path)
    with hq.write() as tx:
        sh = tx.insert_dealer(code="SH001", name="上海一店", region="East", province="上海", city="上海")
        bj = tx.insert_dealer(code="BJ002", name="北京二店", region="North", province="北京", city="北京")
        wang = tx.insert_customer(name="王小明", phones=["13800000001"])
        li = tx.insert_customer(name="李建国", phones=["13800000002"])
        zhang = tx.insert_customer(name="张丽华", phones=["13800000003"])
        _visit(tx, wang, sh, 1)
        _visit(tx, li, bj, 2)
        _visit(tx, zhang, sh, 3)
        _visit(tx, zhang, bj, 4)
    return hq, {"sh": sh, "bj": bj, "wang": wang, "li": li, "zhang": zhang}


def _phones(db: autocrm.Database) -> set[str]:
    return {p for i in db.customer_ids() for p in db.customer(i).phones}


def test_a_dealer_replica_round_trip_through_bytes(tmp_path):
    hq, ids = _hq(tmp_path / "hq.redb")
    hq.register_replica("sh001", "dealer:SH001")
    hq.register_replica("sh001", "dealer:SH001")  # again, same scope: nothing happens
    rep = autocrm.Database.open(tmp_path / "sh001.redb")
    rep.init_replica("sh001", "dealer:SH001")

    status = rep.sync_status()
    assert isinstance(status, autocrm.ReplicaStatus)
    assert (status.name, status.scope, status.pending, status.copied) == ("sh001", "dealer:SH001", 0, False)

    up = rep.sync_push()
    assert isinstance(up, bytes) and up
    down, served = hq.sync_serve(up)
    assert isinstance(down, bytes) and isinstance(served, autocrm.SyncReport)
    assert served.rejected == []
    pulled = rep.sync_pull(down)
    assert isinstance(pulled, autocrm.SyncReport)
    assert (pulled.customers, pulled.touchpoints, pulled.already_applied) == (2, 2, False)
    assert pulled.more is False

    # Pulling the same bytes again is recognised and changes nothing.
    again = rep.sync_pull(down)
    assert again.already_applied is True
    assert (again.customers, again.touchpoints) == (0, 0)

    # Only SH001's customers, and of 张 only SH001's visit.
    assert _phones(rep) == {"13800000001", "13800000003"}
    [zhang_here] = rep.customers_by_phone("13800000003")
    assert len(rep.timeline(zhang_here).items) == 1
    status = rep.sync_status()
    assert status.copied is True
    assert status.position == 0  # HQ's feed began at registration: no change of HQ's since

    # A visit written on the replica reaches HQ once.
    [wang_here] = rep.customers_by_phone("13800000001")
    sh_here = rep.dealer_by_code("SH001")
    with rep.write() as tx:
        _visit(tx, wang_here, sh_here, 10)
    status = rep.sync_status()
    assert status.pending >= 1 and status.pending_sensitive == 0
    up = rep.sync_push()
    down, served = hq.sync_serve(up)
    assert served.touchpoints == 1 and served.rejected == []
    # Serving the same push again applies nothing twice.
    hq.sync_serve(up)
    rep.sync_pull(down)
    status = rep.sync_status()
    assert status.pending == 0
    assert status.position > 0  # HQ applying the visit is a change of HQ's, now applied here
    assert hq.touchpoint_count() == 5
    assert len(hq.timeline(ids["wang"]).items) == 2

    [state] = hq.replicas()
    assert isinstance(state, autocrm.ReplicaState)
    assert (state.name, state.scope) == ("sh001", "dealer:SH001")
    assert state.syncs >= 2 and state.applied >= 1
    assert state.to_dict()["name"] == "sh001"
    rep.close()
    hq.close()


def test_refusals_keep_cores_codes(tmp_path):
    hq, _ = _hq(tmp_path / "hq.redb")
    plain = autocrm.Database.in_memory()
    with pytest.raises(autocrm.InvalidOperationError) as e:
        plain.sync_push()
    assert e.value.code == "invalid_operation.not_a_replica"
    with pytest.raises(autocrm.InvalidOperationError) as e:
        plain.sync_status()
    assert e.value.code == "invalid_operation.not_a_replica"

    with pytest.raises(autocrm.InvalidOperationError) as e:
        hq.sync_serve(b"not a batch")
    assert e.value.code == "invalid_operation.sync_batch_unreadable"
    plain.init_replica("sh001", "dealer:SH001")
    with pytest.raises(autocrm.InvalidOperationError) as e:
        plain.sync_pull(b"\x00garbage\xff")
    assert e.value.code == "invalid_operation.sync_batch_unreadable"
    # An up batch pulled is a mismatch.
    with pytest.raises(autocrm.InvalidOperationError) as e:
        plain.sync_pull(plain.sync_push())
    assert e.value.code == "invalid_operation.sync_batch_mismatch"
    # A replica HQ has not registered.
    with pytest.raises(autocrm.NotFoundError):
        hq.sync_serve(plain.sync_push())

    with pytest.raises(autocrm.InvalidOperationError) as e:
        hq.register_replica("all", "hq:analyst")
    assert e.value.code == "invalid_operation.replica_scope"
    with pytest.raises(autocrm.InvalidOperationError) as e:
        autocrm.Database.in_memory().init_replica("all", "hq:analyst")
    assert e.value.code == "invalid_operation.replica_scope"
    with pytest.raises(autocrm.InvalidOperationError) as e:
        hq.init_replica("x", "dealer:SH001")
    assert e.value.code == "invalid_operation.replica_not_empty"
    with pytest.raises(autocrm.ValidationError):
        hq.register_replica("hq", "dealer:SH001")
    with pytest.raises(autocrm.UnknownScopeError):
        hq.register_replica("zz", "dealer:ZZ999")
    with pytest.raises(autocrm.DuplicateKeyError):
        hq.register_replica("dms", "dealer:SH001")
    with pytest.raises(TypeError):
        hq.sync_pull("text")  # type: ignore[arg-type]
    hq.close()


def test_sync_with_runs_whole_round_trips(tmp_path):
    hq, ids = _hq(tmp_path / "hq.redb")
    hq.register_replica("phone-1", f"owner:{ids['wang']}")
    phone = autocrm.Database.in_memory()
    phone.init_replica("phone-1", f"owner:{ids['wang']}")
    served, pulled = phone.sync_with(hq)
    assert isinstance(served, autocrm.SyncReport) and isinstance(pulled, autocrm.SyncReport)
    assert pulled.customers == 1 and pulled.more is False
    assert _phones(phone) == {"13800000001"}

    served, pulled = phone.sync_with(hq, max_rounds=1)
    assert pulled.customers == 0 and pulled.more is False
    assert phone.sync_status().pending == 0
    assert [r.name for r in hq.replicas()] == ["phone-1"]
    assert "SyncReport(" in repr(pulled)
    with pytest.raises(TypeError):
        phone.sync_with("hq")  # type: ignore[arg-type]
    hq.close()
