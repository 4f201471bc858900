"""Database handles, transactions and their lifecycles."""

from __future__ import annotations

import datetime as dt
import gc

import pytest

import autocrm
from conftest import national_id, vin


def test_helpers_match_core_examples():
    # The README's values: the test helpers compute the same check digits as core.
    assert national_id("19491231", 2) == "11010519491231002X"
    assert vin(183294) == "LSVAU218XN2183294"


def test_in_memory_has_no_path_and_starts_empty():
    db = autocrm.Database.in_memory()
    assert db.path is None
    assert db.closed is False
    assert db.customer_count() == 0
    assert db.vehicle_count() == 0
    assert db.touchpoint_count() == 0
    assert db.customer_ids() == []
    db.close()
    assert db.closed is True


def test_open_creates_file_and_data_survives_reopen(db_path):
    import os

    with autocrm.Database.open(db_path) as db:
        assert os.path.exists(db_path)
        assert db.path is not None and os.path.samefile(db.path, db_path)
        cid = db.insert_customer(name="王小明", phones=["13812345678"])
        assert db.closed is False
    assert db.closed is True
    with autocrm.Database.open(db_path) as db2:
        assert db2.customer_ids() == [cid]
        assert db2.customer(cid).name == "王小明"
        assert db2.customer(cid).phones == ["13812345678"]


def test_open_non_durable_still_persists_after_close(db_path):
    def load():
        with autocrm.Database.open(db_path, durable=False, cache_bytes=16 * 1024 * 1024) as db:
            db.insert_customers([{"name": "王小明"}, {"name": "李华"}])

    load()
    with autocrm.Database.open(db_path) as db:
        assert db.customer_count() == 2


def test_finished_write_txn_does_not_keep_the_file_open(db_path):
    """The everyday pattern: a committed transaction still bound to a name must not keep the
    file open once the database is closed (ISSUES.md item 1)."""
    with autocrm.Database.open(db_path) as db:
        with db.write() as tx:
            tx.insert_customer(name="王小明")
    assert tx is not None  # still alive here
    with autocrm.Database.open(db_path) as db:
        assert db.customer_count() == 1


def test_close_is_idempotent_and_later_calls_raise(db_path):
    db = autocrm.Database.open(db_path)
    db.close()
    db.close()  # idempotent
    with pytest.raises(autocrm.InvalidOperationError) as e:
        db.customer_count()
    assert e.value.code == "invalid_operation.database_closed"
    assert e.value.refusal == "database_closed"
    with pytest.raises(autocrm.InvalidOperationError):
        db.write()
    with pytest.raises(autocrm.InvalidOperationError):
        db.read()


def test_second_handle_on_same_file_is_already_open(db_path):
    with autocrm.Database.open(db_path):
        with pytest.raises(autocrm.AlreadyOpenError) as e:
            autocrm.Database.open(db_path)
        assert e.value.code == "already_open"
        assert isinstance(e.value, autocrm.Error)
    # after close it can be opened again
    with autocrm.Database.open(db_path) as again:
        assert again.customer_count() == 0


def test_write_context_commits_on_normal_exit(db):
    with db.write() as tx:
        cid = tx.insert_customer(name="王小明")
    assert db.customer_ids() == [cid]


def test_write_context_rolls_back_on_exception(db):
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with db.write() as tx:
            tx.insert_customer(name="王小明")
            raise Boom()
    assert db.customer_count() == 0


def test_write_context_rolls_back_when_core_refuses(db):
    with pytest.raises(autocrm.ValidationError):
        with db.write() as tx:
            tx.insert_customer(name="王小明")
            tx.insert_customer(name="王先生")  # placeholder name
    assert db.customer_count() == 0


def test_explicit_commit_and_abort(db):
    tx = db.write()
    a = tx.insert_customer(name="王小明")
    tx.commit()
    tx = db.write()
    tx.insert_customer(name="李华")
    tx.abort()
    assert db.customer_ids() == [a]


def test_finished_transaction_refuses_further_calls(db):
    tx = db.write()
    tx.insert_customer(name="王小明")
    tx.commit()
    with pytest.raises(autocrm.InvalidOperationError):
        tx.insert_customer(name="李华")
    with pytest.raises(autocrm.InvalidOperationError):
        tx.commit()
    assert db.customer_count() == 1


def test_uncommitted_transaction_is_rolled_back_when_collected(db):
    tx = db.write()
    tx.insert_customer(name="王小明")
    del tx
    gc.collect()
    assert db.customer_count() == 0
    # and the writer lock was released: a new write works (would hang otherwise)
    db.insert_customer(name="李华")
    assert db.customer_count() == 1


def test_read_snapshot_is_isolated_from_later_writes(db):
    db.insert_customer(name="王小明")
    with db.read() as r:
        db.insert_customer(name="李华")
        assert r.customer_count() == 1
    assert db.customer_count() == 2
    r = db.read()
    assert r.customer_count() == 2
    r.close()


def test_set_durable_in_transaction(db_path):
    with autocrm.Database.open(db_path) as db:
        with db.write() as tx:
            tx.set_durable(False)
            tx.insert_customer(name="王小明")
        assert db.customer_count() == 1


def test_dict_and_keyword_arguments_are_equivalent(db):
    a = db.insert_customer({"name": "王小明", "phones": ["13812345678"], "city": "上海"})
    b = db.insert_customer(name="王小明", phones=["13812345678"], city="上海")
    ca, cb = db.customer(a), db.customer(b)
    assert (ca.name, ca.phones, ca.city) == (cb.name, cb.phones, cb.city)
    assert ca.id == a and cb.id == b and a != b


def test_unknown_keyword_is_type_error(db):
    with pytest.raises(TypeError):
        db.insert_customer(name="王小明", nickname="小明")
    with pytest.raises(TypeError):
        db.insert_customer({"name": "王小明", "nickname": "小明"})
    assert db.customer_count() == 0


def test_enum_constants_are_listed():
    assert "after_sales_churn" in autocrm.KPIS and "retention" in autocrm.KPIS
    assert len(autocrm.KPIS) == 15
    assert list(autocrm.DIMENSIONS) == ["network", "dealer", "region", "province", "model"]
    assert len(autocrm.CARE_KINDS) > 0
    assert "referred_by" in autocrm.RELATION_KINDS
