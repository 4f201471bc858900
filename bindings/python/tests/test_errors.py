"""The exception hierarchy and the attributes every error carries."""

from __future__ import annotations

import datetime as dt

import pytest

import autocrm
from conftest import bad_check_digit, national_id, vin

SUBCLASSES = [
    "AccessDeniedError",
    "UnknownScopeError",
    "ValidationError",
    "NotFoundError",
    "DuplicateKeyError",
    "InvalidOperationError",
    "InsufficientPointsError",
    "IdempotencyConflictError",
    "RuleError",
    "AlreadyOpenError",
    "ReadOnlyError",
    "UpgradeRequiredError",
    "CorruptError",
    "StorageError",
]


def test_hierarchy():
    assert issubclass(autocrm.Error, Exception)
    for name in SUBCLASSES:
        cls = getattr(autocrm, name)
        assert issubclass(cls, autocrm.Error), name
        assert cls is not autocrm.Error
    # distinct classes, none a subclass of another
    classes = [getattr(autocrm, n) for n in SUBCLASSES]
    for a in classes:
        for b in classes:
            if a is not b:
                assert not issubclass(a, b), (a, b)


def _common(e, code, field=None, record=None):
    assert isinstance(e, autocrm.Error)
    assert e.code == code
    assert e.field == field
    assert e.record == record
    assert e.message == str(e)
    assert str(e)


def test_bad_national_id_check_digit(db):
    bad = bad_check_digit(national_id("19900315", 11))
    with pytest.raises(autocrm.ValidationError) as ei:
        db.insert_customer(name="王小明", national_id=bad)
    e = ei.value
    _common(e, "validation.national_id_check_digit", field="national_id")
    assert e.rule == "national_id_check_digit"
    assert e.value == bad
    assert db.customer_count() == 0


@pytest.mark.parametrize(
    "nid, rule",
    [
        ("11010519900315011", "national_id_format"),  # 17 characters
        ("1101051990031501A", "national_id_format"),
        (national_id("19901340", 11), "national_id_birth_date"),  # month 13
    ],
)
def test_bad_national_id_format_and_birth_date(db, nid, rule):
    with pytest.raises(autocrm.ValidationError) as ei:
        db.insert_customer(name="王小明", national_id=nid)
    _common(ei.value, "validation." + rule, field="national_id")


@pytest.mark.parametrize(
    "phone, rule",
    [
        ("1381234567", "phone_too_short"),
        ("+86 138-1234", "phone_too_short"),
        ("23812345678", "phone_not_mobile"),
        ("138abc45678", "phone_invalid_characters"),
    ],
)
def test_bad_phones(db, phone, rule):
    with pytest.raises(autocrm.ValidationError) as ei:
        db.insert_customer(name="王小明", phones=[phone])
    _common(ei.value, "validation." + rule, field="phones")
    assert db.customer_count() == 0


def test_placeholder_name(db):
    with pytest.raises(autocrm.ValidationError) as ei:
        db.insert_customer(name="王先生")
    _common(ei.value, "validation.name_placeholder", field="name")
    assert ei.value.value == "王先生"


def test_bad_vin_and_plate(db):
    good = vin(5)
    wrong = good[:8] + ("0" if good[8] != "0" else "1") + good[9:]
    with pytest.raises(autocrm.ValidationError) as ei:
        db.insert_vehicle(vin=wrong, brand="Volkswagen", model="Passat")
    assert ei.value.code == "validation.vin_check_digit"
    assert ei.value.field in ("vin", "vehicle.vin")
    with pytest.raises(autocrm.ValidationError) as ei:
        db.insert_vehicle(vin="LSVAU2I8XN2183294", brand="Volkswagen", model="Passat")
    assert ei.value.code == "validation.vin_forbidden_letter"
    with pytest.raises(autocrm.ValidationError) as ei:
        db.insert_vehicle(vin=good, brand="Volkswagen", model="Passat", plate="ABC")
    assert ei.value.code == "validation.plate_format"
    assert ei.value.field in ("plate", "vehicle.plate")
    assert db.vehicle_count() == 0


def test_batch_error_names_the_record_and_writes_nothing(db):
    recs = [
        {"name": "王小明"},
        {"name": "李华"},
        {"name": "张伟", "phones": ["12345"]},
        {"name": "赵敏"},
    ]
    with pytest.raises(autocrm.ValidationError) as ei:
        db.insert_customers(recs)
    _common(ei.value, "validation.phone_too_short", field="phones", record=2)
    assert db.customer_count() == 0


def test_batch_not_found_names_the_record(small):
    recs = [
        {"at": "2025-01-01T10:00", "customer": small.wang, "channel": "web", "kind": "enquiry"},
        {"at": "2025-01-01T10:00", "customer": 987654, "channel": "web", "kind": "enquiry"},
    ]
    with pytest.raises(autocrm.NotFoundError) as ei:
        small.db.insert_touchpoints(recs)
    assert ei.value.code == "not_found"
    assert ei.value.record == 1
    assert small.db.touchpoint_count() == 5


def test_unknown_ids(small):
    db = small.db
    with pytest.raises(autocrm.NotFoundError) as ei:
        db.customer(424242)
    e = ei.value
    _common(e, "not_found")
    assert e.entity == "customer"
    assert "424242" in str(e.key)
    with pytest.raises(autocrm.NotFoundError) as ei:
        db.vehicle(424242)
    assert ei.value.entity == "vehicle"
    with pytest.raises(autocrm.NotFoundError):
        db.dealer(424242)
    with pytest.raises(autocrm.NotFoundError):
        db.touchpoint(424242)
    with pytest.raises(autocrm.NotFoundError):
        db.customer_360(424242)
    with pytest.raises(autocrm.NotFoundError):
        db.insert_touchpoint(at="2025-01-01T10:00", customer=424242, channel="web", kind="enquiry")
    with pytest.raises(autocrm.NotFoundError):
        db.insert_vehicle(vin=vin(77), brand="VW", model="Polo", purchase_date="2024-01-01", owner=424242)
    with pytest.raises(autocrm.NotFoundError):
        db.transfer_vehicle(424242, small.wang, "2025-01-01")
    assert db.vehicle_count() == 3 and db.touchpoint_count() == 5


def test_duplicate_national_id(db):
    nid = national_id("19850101", 21)
    a = db.insert_customer(name="王小明", national_id=nid)
    with pytest.raises(autocrm.DuplicateKeyError) as ei:
        db.insert_customer(name="王大明", national_id=nid)
    e = ei.value
    _common(e, "duplicate_key", field="national_id")
    assert e.entity == "customer"
    assert e.value == nid
    assert e.existing == a


def test_insufficient_points(small):
    db = small.db
    db.join_brand_club(small.wang, "2025-01-01")
    db.adjust(customer=small.wang, points=100, at="2025-01-02T10:00", operator="ops", reason="welcome", key="welcome-1")
    with pytest.raises(autocrm.InsufficientPointsError) as ei:
        db.redeem(customer=small.wang, points=150, at="2025-01-03T10:00", item="car wash", key="r-1")
    e = ei.value
    _common(e, "insufficient_points")
    assert e.customer == small.wang
    assert e.available == 100
    assert e.requested == 150
    assert db.balance(small.wang).points == 100
    assert db.posting_by_key("r-1") is None


def test_idempotency_conflict(small):
    db = small.db
    db.join_brand_club(small.wang, "2025-01-01")
    p = db.adjust(customer=small.wang, points=100, at="2025-01-02T10:00", operator="ops", reason="welcome", key="k-1")
    # exactly the same request again: the same posting, nothing new
    assert db.adjust(customer=small.wang, points=100, at="2025-01-02T10:00", operator="ops", reason="welcome", key="k-1") == p
    with pytest.raises(autocrm.IdempotencyConflictError) as ei:
        db.adjust(customer=small.wang, points=200, at="2025-01-02T10:00", operator="ops", reason="welcome", key="k-1")
    _common(ei.value, "idempotency_conflict")
    assert db.balance(small.wang).points == 100
    assert len(db.postings_of(small.wang)) == 1


# positions as core's own tests (core/tests/rules.rs) pin them
@pytest.mark.parametrize(
    "text, code, line, column",
    [
        ('age = "old"', "rule.type", 1, 7),
        ("count(service_visit, 90d) > ¥5", "rule.type", 1, 29),
        ("age >= 30 && has_phone", "rule.syntax", 1, 11),
        ('card = "C"\n  and count(service_visit, 90x) > 2', "rule.syntax", 2, 30),
        ("any vehicle (purchase_date > 2025-02-30)", "rule.syntax", 1, 30),
        ('card = "C" and\n  any vehicle (card = "C")', "rule.unknown_field", 2, 16),
        ("count(service_vist, 90d) > 1", "rule.unknown_field", 1, 7),
        ('card = "C" and segment("vip")', "rule.unknown_segment", 1, 24),
    ],
)
def test_rule_errors_have_line_and_column(db, text, code, line, column):
    with db.read() as r:
        with pytest.raises(autocrm.RuleError) as ei:
            r.parse_rule(text)
        e = ei.value
        assert e.code == code
        assert (e.line, e.column) == (line, column)
        assert isinstance(e, autocrm.Error)
        assert e.field is None
        with pytest.raises(autocrm.RuleError):
            r.evaluate(text, "2025-06-30")


def test_rule_error_message_has_caret(db):
    with pytest.raises(autocrm.RuleError) as ei:
        db.parse_rule('age = "old"')
    # core's rendering: kind, position, message, the line and a caret under the mistake
    assert str(ei.value) == (
        "rule type: line 1, column 7: `age` is a whole number, but it is compared with text\n"
        '  age = "old"\n'
        "        ^"
    )
    assert ei.value.message == str(ei.value)


def test_save_segment_refuses_bad_rule(db):
    with pytest.raises(autocrm.RuleError) as ei:
        db.save_segment("bad", "count(service_visit, 90d) > ¥5")
    assert ei.value.code == "rule.type"
    assert db.segment_names() == []


def test_invalid_operation_on_complaint(small):
    cid = small.db.insert_complaint(customer=small.li, category="service", received="2025-04-01T09:00")
    with pytest.raises(autocrm.InvalidOperationError) as ei:
        small.db.respond_to_complaint(cid, "2025-03-01T09:00")  # before it was received
    _common(ei.value, "invalid_operation.complaint_time_backwards")
    assert ei.value.refusal == "complaint_time_backwards"


def test_catch_all_with_base_class(db):
    caught = []
    for bad in (lambda: db.customer(1), lambda: db.insert_customer(name="李女士")):
        try:
            bad()
        except autocrm.Error as e:
            caught.append(e.code)
    assert caught == ["not_found", "validation.name_placeholder"]


def test_garbage_file_is_refused_with_a_typed_error(tmp_path):
    p = tmp_path / "garbage.redb"
    p.write_bytes(b"this is not a database" * 500)
    with pytest.raises(autocrm.Error) as ei:
        autocrm.Database.open(str(p))
    assert type(ei.value) in (autocrm.StorageError, autocrm.CorruptError, autocrm.UpgradeRequiredError)
    assert ei.value.code in ("storage", "corrupt", "upgrade_required")
