"""Damaged files, the integrity check and read-only opens (issue 15 item 3)."""

from __future__ import annotations

import os
import random
import stat

import pytest

import autocrm


def _network(path, customers=120):
    with autocrm.Database.open(str(path)) as db:
        autocrm.synth.generate(db, customers=customers)


def _read_everything(db):
    with db.read() as r:
        for cid in r.customer_ids():
            r.customer_360(cid)


def test_read_only_open_reads_a_0444_file_refuses_writes_and_changes_no_byte(tmp_path):
    p = tmp_path / "ro.redb"
    _network(p, customers=30)
    os.chmod(p, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    before = p.read_bytes()
    with autocrm.Database.open(str(p), read_only=True) as db:
        assert db.read_only
        assert db.customer_count() == 30
        with pytest.raises(autocrm.ReadOnlyError) as ei:
            db.insert_customer(name="王小明")
        assert ei.value.code == "read_only"
        assert isinstance(ei.value, autocrm.Error)
        assert db.check()["ok"]
    assert p.read_bytes() == before


def test_check_reports_a_sound_file_with_counts(tmp_path):
    p = tmp_path / "crm.redb"
    _network(p)
    with autocrm.Database.open(str(p)) as db:
        report = db.check()
    assert report["ok"], report["problems"]
    assert report["storage"] == "verified"
    assert report["checked"]["customers"] == 120
    assert report["problems"] == []


def test_a_damaged_record_raises_corrupt_error_and_check_names_it(tmp_path):
    p = tmp_path / "crm.redb"
    _network(p)
    with autocrm.Database.open(str(p)) as db:
        name = db.customer(1).name
    data = bytearray(p.read_bytes())
    needle = name.encode()
    at = data.find(needle)
    assert at >= 0
    while at >= 0:
        data[at + len(needle) - 1] ^= 0x01
        at = data.find(needle, at + len(needle))
    p.write_bytes(bytes(data))
    with autocrm.Database.open(str(p), read_only=True) as db:
        with pytest.raises(autocrm.CorruptError) as ei:
            db.customer(1)
        assert ei.value.code == "corrupt"
        report = db.check()
    assert not report["ok"]
    assert any(x["table"] == "customers" for x in report["problems"]), report["problems"]


def test_random_damage_is_always_a_corrupt_error_never_a_panic(tmp_path):
    p = tmp_path / "crm.redb"
    _network(p, customers=80)
    original = p.read_bytes()
    with autocrm.Database.open(str(p), read_only=True) as db:
        _read_everything(db)
    rng = random.Random(15)
    copy = tmp_path / "damaged.redb"
    corrupt = 0
    for _ in range(40):
        data = bytearray(original)
        at = rng.randrange(len(data) - 512)
        data[at : at + 512] = bytes(rng.randrange(256) for _ in range(512))
        copy.write_bytes(bytes(data))
        try:
            with autocrm.Database.open(str(copy)) as db:
                _read_everything(db)
        except BaseException as e:  # noqa: BLE001 - a PanicException is a BaseException
            assert isinstance(e, autocrm.CorruptError), repr(e)
            assert e.code == "corrupt"
            corrupt += 1
    assert corrupt > 0
