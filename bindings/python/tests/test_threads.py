"""Sharing one Database (and transactions) between threads."""

from __future__ import annotations

import gc
import threading
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
import pytest

import autocrm

RISK = 'owner_status in ["at_risk", "churned"]'


def test_many_threads_read_one_database(synth_db):
    db = synth_db.db
    expected_ids = db.customer_ids()
    expected_risk = db.read().evaluate(RISK, "2026-06-30").to_list()
    expected_rows = pa.table(db.touchpoints_table()).num_rows

    def work(i):
        out = []
        for _ in range(3):
            with db.read() as r:
                out.append(r.customer_count())
                cid = expected_ids[(i * 37) % len(expected_ids)]
                assert r.customer_360(cid).id == cid
                assert r.evaluate(RISK, "2026-06-30").to_list() == expected_risk
                assert pa.table(r.touchpoints_table()).num_rows == expected_rows
        return out

    with ThreadPoolExecutor(max_workers=8) as ex:
        results = list(ex.map(work, range(16)))
    assert all(x == [2000, 2000, 2000] for x in results)


def test_one_read_txn_shared_by_threads(synth_db):
    db = synth_db.db
    r = db.read()
    kpi = [(row.label, row.numerator, row.denominator) for row in r.kpi("after_sales_churn", by="dealer", period="2026-Q2")]

    def work(_):
        rows = [(row.label, row.numerator, row.denominator) for row in r.kpi("after_sales_churn", by="dealer", period="2026-Q2")]
        assert rows == kpi
        return len(r.due_actions("2026-06-01", "2026-06-08"))

    with ThreadPoolExecutor(max_workers=6) as ex:
        counts = list(ex.map(work, range(12)))
    assert len(set(counts)) == 1
    r.close()


def test_reads_proceed_while_a_writer_runs(db):
    db.insert_customers([{"name": f"王{'小明大伟'[i % 4]}{'一二三四五'[i % 5]}"} for i in range(20)])
    stop = threading.Event()
    errors = []
    seen = []

    def reader():
        try:
            while not stop.is_set():
                with db.read() as r:
                    n = r.customer_count()
                    assert pa.table(r.customers_table()).num_rows == n  # a consistent snapshot
                    seen.append(n)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for batch in range(10):
        with db.write() as tx:
            tx.insert_customers([{"name": "李华"} for _ in range(10)])
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    assert db.customer_count() == 120
    assert seen and min(seen) >= 20 and max(seen) <= 120
    # counts only ever grow in multiples of a committed batch
    assert all((n - 20) % 10 == 0 for n in seen)


def test_write_txn_used_from_two_threads_does_not_crash(db):
    """Two threads hammer one WriteTxn: each call either succeeds or raises
    InvalidOperationError (transaction busy); the process survives and what was committed is
    exactly what succeeded."""
    tx = db.write()
    barrier = threading.Barrier(2)
    ok = [0, 0]
    busy = [0, 0]
    other = []

    def work(k):
        barrier.wait()
        for i in range(200):
            try:
                tx.insert_customers([{"name": "张伟"}, {"name": "李娜"}])
                ok[k] += 1
            except autocrm.InvalidOperationError as e:
                assert e.code == "invalid_operation.transaction_busy"
                busy[k] += 1
            except Exception as e:  # pragma: no cover
                other.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert not other, other
    assert sum(ok) + sum(busy) == 400
    assert sum(ok) >= 1
    tx.commit()
    assert db.customer_count() == 2 * sum(ok)


def test_concurrent_writers_serialise(db):
    """Each thread opens its own write transaction; they run one after another."""

    def work(k):
        for i in range(5):
            with db.write() as tx:
                tx.insert_customer(name="赵敏")
        return k

    with ThreadPoolExecutor(max_workers=4) as ex:
        assert sorted(ex.map(work, range(4))) == [0, 1, 2, 3]
    assert db.customer_count() == 20
    ids = db.customer_ids()
    assert len(ids) == len(set(ids)) == 20


def test_close_while_other_thread_reads_does_not_crash(tmp_path):
    db = autocrm.Database.open(str(tmp_path / "c.redb"))
    db.insert_customers([{"name": "王小明"}] * 50)
    errors = []

    def reader():
        for _ in range(200):
            try:
                db.customer_count()
            except autocrm.InvalidOperationError:
                return
            except Exception as e:  # pragma: no cover
                errors.append(e)
                return

    t = threading.Thread(target=reader)
    t.start()
    db.close()
    t.join(timeout=30)
    assert not errors, errors
    assert db.closed


def test_call_during_long_call_on_same_write_txn_raises_busy(db):
    """While one thread is inside a long bulk insert (GIL released), a call from another thread
    on the same WriteTxn raises InvalidOperationError at once instead of blocking."""
    import time

    tx = db.write()
    recs = [{"name": "张伟", "phones": [f"138{i:08d}"]} for i in range(100_000)]
    started, done = threading.Event(), threading.Event()

    def big():
        started.set()
        tx.insert_customers(recs)
        done.set()

    t = threading.Thread(target=big)
    t.start()
    started.wait()
    time.sleep(0.05)
    finished_before = done.is_set()
    t0 = time.perf_counter()
    try:
        tx.insert_customer(name="李娜")
        outcome = "ok"
    except autocrm.InvalidOperationError as e:
        assert e.code == "invalid_operation.transaction_busy"
        outcome = "busy"
    waited = time.perf_counter() - t0
    big_running_after = not done.is_set()
    t.join(timeout=120)
    tx.commit()
    if outcome == "ok":
        # only acceptable when the bulk insert had already finished: no blocking
        assert finished_before, "the second call blocked until the first one finished"
        assert db.customer_count() == 100_001
    else:
        assert big_running_after or waited < 0.5
        assert db.customer_count() == 100_000


# --- one write transaction per thread -----------------------------------------------------------


def test_second_write_in_the_same_thread_raises_instead_of_deadlocking(db):
    with db.write() as tx:
        tx.insert_customer(name="王小明")
        with pytest.raises(autocrm.InvalidOperationError, match="already has a write transaction") as e:
            db.write()
        assert e.value.code == "invalid_operation.write_transaction_reentrant"
        # the convenience methods open their own write transaction: refused the same way
        with pytest.raises(autocrm.InvalidOperationError):
            db.insert_customer(name="李华")
        with pytest.raises(autocrm.InvalidOperationError):
            autocrm.synth.generate(db, customers=10)
        # reads are fine, and the open transaction is untouched
        assert db.customer_count() == 0
        tx.insert_customer(name="赵敏")
    assert db.customer_count() == 2
    with db.write() as tx:  # finished: a new one opens
        tx.insert_customer(name="孙丽")
    assert db.customer_count() == 3


def test_an_unfinished_transaction_blocks_only_its_own_thread(db):
    tx = db.write()
    with pytest.raises(autocrm.InvalidOperationError):
        db.write()
    tx.abort()
    db.write().commit()
    tx = db.write()
    del tx  # rolled back when collected: the thread may write again
    gc.collect()
    db.write().commit()


def test_another_threads_write_waits_for_the_open_one(db):
    tx = db.write()
    done = threading.Event()
    errors = []

    def other():
        try:
            with db.write() as t2:
                t2.insert_customer(name="李华")
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)
        done.set()

    th = threading.Thread(target=other)
    th.start()
    assert not done.wait(0.3), "the other thread must wait, not fail"
    tx.insert_customer(name="王小明")
    tx.commit()
    th.join(10)
    assert done.is_set() and errors == []
    assert db.customer_count() == 2


def test_a_transaction_finished_by_another_thread_frees_its_opener(db):
    tx = db.write()
    tx.insert_customer(name="王小明")
    th = threading.Thread(target=tx.commit)
    th.start()
    th.join(10)
    with db.write() as t2:
        t2.insert_customer(name="李华")
    assert db.customer_count() == 2
