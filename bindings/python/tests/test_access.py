"""Access scopes through the binding (issue 11, docs/access.md): `Database.scoped(...)` and
`ScopedDatabase`. The rules are core's; these tests check that Python sees them — dealer
visibility, masking, owners, consent-limited roles, permissions, unknown scopes, the audit
trail and roles.

The data (``net``):

- dealers DA (A) and DB (B)
- ``one``: 王小明, national ID 1990-03-15, phone 13812345678, address; touchpoints: a service
  visit at A (2025-03-01) and an enquiry call at B (2025-04-01); SMS consent granted 2025-01-01;
  brand club member with 500 points (operator adjustment)
- ``two``: 李华, phone 13900001111; one touchpoint at B (2025-02-01)
"""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import pytest

import autocrm
from conftest import national_id

T = dt.datetime
NID = national_id("19900315", 11)
HEX64 = re.compile(r"^[0-9a-f]{64}$")


@pytest.fixture
def net(db):
    with db.write() as tx:
        a = tx.insert_dealer(code="DA", name="甲4S店", region="East", province="上海", city="上海")
        b = tx.insert_dealer(code="DB", name="乙4S店", region="East", province="浙江", city="杭州")
        one = tx.insert_customer(
            name="王小明", phones=["13812345678"], national_id=NID, birth_date=dt.date(1990, 3, 15),
            gender="male", province="上海", city="上海", address="徐汇区漕溪北路1号",
        )
        two = tx.insert_customer(name="李华", phones=["13900001111"], province="浙江", city="杭州")
        tp_a = tx.insert_touchpoint(
            at=T(2025, 3, 1, 10, 0), customer=one, channel="showroom", kind="service_visit",
            service_kind="maintenance", dealer=a, amount="800.00",
        )
        tp_b1 = tx.insert_touchpoint(
            at=T(2025, 4, 1, 9, 0), customer=one, channel="phone_out", kind="enquiry", dealer=b,
        )
        tp_b2 = tx.insert_touchpoint(
            at=T(2025, 2, 1, 11, 0), customer=two, channel="showroom", kind="enquiry", dealer=b,
        )
        tx.record_consent(one, channel="sms", granted=True, at=T(2025, 1, 1, 9, 0), source="web")
        tx.set_loyalty_config()
        tx.join_brand_club(one, "2025-01-01")
        tx.adjust(customer=one, points=500, at=T(2025, 1, 2, 9, 0), operator="ops", reason="welcome", key="adj-1")
    return SimpleNamespace(db=db, a=a, b=b, one=one, two=two, tp_a=tp_a, tp_b1=tp_b1, tp_b2=tp_b2)


def admin(db):
    return db.scoped("hq:data_admin", "auditor")


# --- scopes and errors ---------------------------------------------------------------------------


def test_scoped_returns_a_scoped_database(net):
    s = net.db.scoped("dealer:DA", "  zhang.san ")
    assert isinstance(s, autocrm.ScopedDatabase)
    assert s.scope == "dealer:DA"
    assert s.actor == "zhang.san"
    assert "dealer:DA" in repr(s)
    assert net.db.scoped(f"owner:C{net.one}", "app-1").scope == f"owner:{net.one}"


def test_new_exception_classes_are_exported():
    for cls in (autocrm.AccessDeniedError, autocrm.UnknownScopeError):
        assert issubclass(cls, autocrm.Error)
        assert cls is not autocrm.Error
    assert not issubclass(autocrm.AccessDeniedError, autocrm.UnknownScopeError)
    assert "read_customers" in autocrm.PERMISSIONS and "manage_roles" in autocrm.PERMISSIONS
    assert "manage_data" in autocrm.PERMISSIONS and len(autocrm.PERMISSIONS) == 16


@pytest.mark.parametrize("scope", ["hq:nobody", "dealer:NOPE", "owner:999"])
def test_unknown_scopes(net, scope):
    with pytest.raises(autocrm.UnknownScopeError) as ei:
        net.db.scoped(scope, "someone")
    e = ei.value
    assert isinstance(e, autocrm.Error)
    assert e.code == "unknown_scope"
    assert e.scope == scope
    assert e.message == str(e)


@pytest.mark.parametrize("scope", ["root", "hq:", "root:x", "owner:abc", ""])
def test_malformed_scopes(net, scope):
    with pytest.raises(autocrm.UnknownScopeError) as ei:
        net.db.scoped(scope, "someone")
    assert ei.value.code == "unknown_scope"
    assert isinstance(ei.value.scope, str)


def test_actor_is_required(net):
    with pytest.raises(autocrm.ValidationError) as ei:
        net.db.scoped("hq:data_admin", "  ")
    assert ei.value.field == "actor"


def test_access_denied_names_scope_and_permission(net):
    analyst = net.db.scoped("hq:crm_analyst", "ana")
    with pytest.raises(autocrm.AccessDeniedError) as ei:
        analyst.audit_log()
    e = ei.value
    assert isinstance(e, autocrm.Error)
    assert e.code == "access_denied"
    assert e.permission == "read_audit"
    assert e.scope == "hq:crm_analyst"
    with pytest.raises(autocrm.AccessDeniedError) as ei:
        analyst.add_touchpoint(at=T(2025, 5, 1, 9, 0), customer=net.one, channel="phone_out", kind="callback")
    assert ei.value.permission == "write_touchpoints"
    assert net.db.touchpoint_count() == 3  # nothing written


def test_scoped_needs_a_read_write_handle(db_path):
    with autocrm.Database.open(db_path) as db:
        db.insert_customer(name="王小明")
    with autocrm.Database.open(db_path, read_only=True) as ro:
        with pytest.raises(autocrm.InvalidOperationError) as ei:
            ro.scoped("hq:data_admin", "auditor")
        assert ei.value.refusal == "scoped_read_only"


# --- dealers -------------------------------------------------------------------------------------


def test_dealer_sees_only_customers_it_serves(net):
    da = net.db.scoped("dealer:DA", "zhang.san")
    assert da.find(f"C{net.one}") == [net.one]
    assert da.find("13812345678") == [net.one]
    assert da.find(f"C{net.two}") == []
    assert da.find("13900001111") == []
    assert da.find("not a key") == []
    with pytest.raises(autocrm.NotFoundError) as ei:
        da.customer_360(net.two)
    assert ei.value.code == "not_found"
    with pytest.raises(autocrm.NotFoundError):
        da.timeline(net.two)
    # the same answer as a customer that does not exist
    with pytest.raises(autocrm.NotFoundError):
        da.customer_360(999)
    db_ = net.db.scoped("dealer:DB", "li.si")
    assert db_.find(f"C{net.two}") == [net.two]
    assert sorted(db_.find(f"C{net.one}")) == [net.one]


def test_dealer_360_shows_only_its_own_touchpoints(net):
    da = net.db.scoped("dealer:DA", "zhang.san")
    v = da.customer_360(net.one)
    assert isinstance(v, autocrm.Customer360)
    assert [t.id for t in v.timeline] == [net.tp_a]
    assert all(t.dealer == net.a for t in v.timeline)
    assert v.rollup.touchpoints == 1  # a rollup of its own touchpoints only
    page = da.timeline(net.one)
    assert isinstance(page, autocrm.TimelinePage)
    assert [t.id for t in page.items] == [net.tp_a]
    # unscoped, customer one has both dealers' touchpoints
    assert sorted(t.id for t in net.db.customer_360(net.one).timeline) == sorted([net.tp_a, net.tp_b1])
    # a dealer sees phones and addresses, not the national ID nor the full birth date
    assert v.customer.phones == ["13812345678"]
    assert v.customer.address == "徐汇区漕溪北路1号"
    assert v.customer.national_id == NID[:3] + "*" * 11 + NID[-4:]
    assert v.customer.birth_date == dt.date(1990, 1, 1)
    assert sorted(v.masked) == ["birth_date", "national_id"]
    assert v.lineage == []


def test_dealer_timeline_pages(net):
    with net.db.write() as tx:
        extra = [
            tx.insert_touchpoint(at=T(2025, 5, d, 10, 0), customer=net.one, channel="phone_out",
                                 kind="callback", dealer=net.a)
            for d in (1, 2, 3)
        ]
    da = net.db.scoped("dealer:DA", "zhang.san")
    p1 = da.timeline(net.one, limit=2)
    assert [t.id for t in p1.items] == [extra[2], extra[1]]
    assert p1.next is not None
    p2 = da.timeline(net.one, limit=2, before=p1.next)
    assert [t.id for t in p2.items] == [extra[0], net.tp_a]


def test_dealer_writes_only_its_own_touchpoints(net):
    da = net.db.scoped("dealer:DA", "zhang.san")
    tid = da.add_touchpoint(at=T(2025, 5, 1, 9, 0), customer=net.one, channel="phone_out", kind="callback")
    assert net.db.touchpoint(tid).dealer == net.a  # stamped with the scope's dealer
    tid2 = da.add_touchpoint({"at": "2025-05-02T09:00", "customer": net.one, "channel": "phone_out",
                              "kind": "callback", "dealer": net.a})
    assert net.db.touchpoint(tid2).dealer == net.a
    with pytest.raises(autocrm.AccessDeniedError) as ei:
        da.add_touchpoint(at=T(2025, 5, 1, 9, 0), customer=net.one, channel="phone_out", kind="callback",
                          dealer=net.b)
    assert ei.value.permission == "write_touchpoints"
    assert ei.value.scope == "dealer:DA"
    with pytest.raises(autocrm.NotFoundError):
        da.add_touchpoint(at=T(2025, 5, 1, 9, 0), customer=net.two, channel="phone_out", kind="callback")
    with pytest.raises(TypeError):
        da.add_touchpoint(at=T(2025, 5, 1, 9, 0), customer=net.one, channel="phone_out", kind="callback", colour="red")


# --- masking -------------------------------------------------------------------------------------


def test_analyst_sees_everyone_masked(net):
    analyst = net.db.scoped("hq:crm_analyst", "ana")
    assert analyst.find("13900001111") == [net.two]
    v = analyst.customer_360(net.one)
    c = v.customer
    assert c.national_id == "110***********" + NID[-4:]
    assert re.fullmatch(r"110\*{11}\d{3}[\dX]", c.national_id)
    assert c.phones == ["138****5678"]
    assert c.address is None
    assert (c.province, c.city) == ("上海", "上海")
    assert c.birth_date == dt.date(1990, 1, 1)
    assert c.name == "王小明"
    assert sorted(v.masked) == ["address", "birth_date", "national_id", "phones"]
    assert v.lineage == []
    # HQ roles see every dealer's touchpoints
    assert sorted(t.id for t in v.timeline) == sorted([net.tp_a, net.tp_b1])
    # the unscoped API is full access and masks nothing
    full = net.db.customer_360(net.one)
    assert full.masked == []
    assert full.customer.national_id == NID and full.customer.phones == ["13812345678"]


def test_data_admin_sees_everything_unmasked(net):
    v = admin(net.db).customer_360(net.one)
    assert v.masked == []
    assert v.customer.national_id == NID
    assert v.customer.phones == ["13812345678"]


# --- owners --------------------------------------------------------------------------------------


def test_owner_sees_only_himself(net):
    me = net.db.scoped(f"owner:{net.one}", "app-install-1")
    v = me.customer_360(net.one)
    assert v.customer.phones == ["13812345678"]
    assert v.customer.address == "徐汇区漕溪北路1号"
    assert v.customer.birth_date == dt.date(1990, 3, 15)
    assert v.masked == ["national_id"]
    assert me.find("13812345678") == [net.one]
    assert me.find("13900001111") == []
    with pytest.raises(autocrm.NotFoundError):
        me.customer_360(net.two)
    with pytest.raises(autocrm.NotFoundError):
        me.timeline(net.two)
    with pytest.raises(autocrm.AccessDeniedError) as ei:
        me.add_touchpoint(at=T(2025, 5, 1, 9, 0), customer=net.one, channel="app", kind="enquiry")
    assert ei.value.permission == "write_touchpoints"


def test_owner_records_his_consent(net):
    me = net.db.scoped(f"owner:{net.one}", "app-install-1")
    me.record_consent(net.one, "email", True)
    events = net.db.consents(net.one)
    assert (events[-1].channel, events[-1].granted, events[-1].source) == ("email", True, f"owner:{net.one}")
    with pytest.raises(autocrm.NotFoundError):
        me.record_consent(net.two, "email", True)
    with pytest.raises(ValueError, match="sms"):
        me.record_consent(net.one, "pigeon", True)


def test_owner_redeems_once_with_an_idempotency_key(net):
    me = net.db.scoped(f"owner:{net.one}", "app-install-1")
    before = net.db.balance(net.one).points
    assert before == 500
    pid = me.redeem(customer=net.one, points=100, at=T(2025, 4, 2, 10, 0), item="car wash", key="app-r-1")
    again = me.redeem({"customer": net.one, "points": 100, "at": T(2025, 4, 2, 10, 0), "item": "car wash",
                       "key": "app-r-1"})
    assert again == pid
    assert net.db.balance(net.one).points == before - 100
    assert net.db.posting_by_key("app-r-1").id == pid
    with pytest.raises(autocrm.NotFoundError):
        me.redeem(customer=net.two, points=1, at=T(2025, 4, 2, 10, 0), item="x", key="app-r-2")
    with pytest.raises(autocrm.InsufficientPointsError):
        me.redeem(customer=net.one, points=10_000, at=T(2025, 4, 2, 10, 0), item="car", key="app-r-3")


def test_owner_updates_his_contact(net):
    me = net.db.scoped(f"owner:{net.one}", "app-install-1")
    me.update_my_contact(city="苏州", province="江苏", address="工业园区星湖街1号")
    c = net.db.customer(net.one)
    assert (c.province, c.city, c.address) == ("江苏", "苏州", "工业园区星湖街1号")
    assert me.customer_360(net.one).customer.city == "苏州"
    me.update_my_contact(phones=["13812345678"])
    with pytest.raises(TypeError):
        me.update_my_contact(phones="13812345678")
    with pytest.raises(autocrm.AccessDeniedError):
        admin(net.db).update_my_contact(city="北京")


# --- consent-limited roles -----------------------------------------------------------------------


def test_marketing_loses_a_customer_when_sms_consent_is_withdrawn(net):
    mkt = net.db.scoped("hq:marketing", "mk")
    assert mkt.find("13812345678") == [net.one]
    assert mkt.find("13900001111") == []  # never consented
    with pytest.raises(autocrm.NotFoundError):
        mkt.customer_360(net.two)
    v = mkt.customer_360(net.one)
    assert v.customer.phones == ["13812345678"]
    assert "national_id" in v.masked
    centre = net.db.scoped("hq:call_centre", "cc-7", purpose="opt-out call")
    centre.record_consent(net.one, "sms", False)
    assert mkt.find("13812345678") == []
    with pytest.raises(autocrm.NotFoundError):
        mkt.customer_360(net.one)
    # the call centre still sees him
    assert centre.find("13812345678") == [net.one]


# --- scoped exports ------------------------------------------------------------------------------


def test_scoped_tables_hold_only_what_the_scope_sees_masked(net):
    pa = pytest.importorskip("pyarrow")
    da = net.db.scoped("dealer:DA", "zhang.san", purpose="monthly DMS sync")
    t = da.customers_table()
    assert isinstance(t, autocrm.Table)
    assert t.column_names == net.db.customers_table().column_names  # the same columns
    rows = pa.table(t).to_pylist()
    assert [r["id"] for r in rows] == [net.one]  # two is served by DB only
    (one,) = rows
    assert one["national_id"] == NID[:3] + "*" * 11 + NID[-4:] != NID
    assert one["birth_date"] == dt.date(1990, 1, 1)
    assert one["phones"] == ["13812345678"]  # a dealer sees phones
    tps = pa.table(da.touchpoints_table()).to_pylist()
    assert [r["id"] for r in tps] == [net.tp_a]  # not DB's touchpoint of the same customer
    assert pa.table(da.touchpoints_table(customer=net.two)).num_rows == 0
    assert pa.table(da.touchpoints_table()).schema == pa.table(net.db.touchpoints_table()).schema
    exports = [(e["what"], e["customers"]) for e in admin(net.db).audit_log() if e["action"] == "export"]
    assert exports == [
        ("customers_table", [net.one]), ("touchpoints_table", [net.one]), ("touchpoints_table", []),
        ("touchpoints_table", [net.one]),
    ]
    assert admin(net.db).audit_log()[-1]["purpose"] == "monthly DMS sync"
    # marketing: SMS consent today; the next export follows a withdrawal
    mkt = net.db.scoped("hq:marketing", "mk")
    assert pa.table(mkt.customers_table())["phones"].to_pylist() == [["13812345678"]]
    net.db.scoped("hq:call_centre", "cc-7").record_consent(net.one, "sms", False)
    assert mkt.customers_table().num_rows == 0
    # without `export`: AccessDeniedError, nothing audited
    head = admin(net.db).audit_head()
    with pytest.raises(autocrm.AccessDeniedError) as ei:
        net.db.scoped("hq:call_centre", "cc-7").customers_table()
    assert ei.value.permission == "export"
    with pytest.raises(autocrm.AccessDeniedError):
        net.db.scoped(f"owner:{net.one}", "app").vehicles_table()
    assert admin(net.db).audit_head() == head


# --- audit trail ---------------------------------------------------------------------------------


def test_audit_log_lists_scoped_reads_with_actor_and_purpose(net):
    da = net.db.scoped("dealer:DA", "zhang.san", purpose="service reminder call")
    da.find("13812345678")
    da.find("13900001111")  # a miss reads no customer file: not audited
    da.customer_360(net.one)
    da.timeline(net.one)
    other = net.db.scoped("hq:call_centre", "cc-7")
    other.customer_360(net.two)
    log = admin(net.db).audit_log()
    mine = [e for e in log if e["actor"] == "zhang.san"]
    assert [(e["action"], e["what"]) for e in mine] == [
        ("lookup", "find"), ("view", "customer_360"), ("timeline", "timeline"),
    ]
    for e in mine:
        assert e["scope"] == "dealer:DA"
        assert e["purpose"] == "service reminder call"
        assert e["customers"] == [net.one]
        assert isinstance(e["at"], dt.datetime)
        assert HEX64.match(e["hash"]) and HEX64.match(e["prev"])
    assert set(log[0]) == {"seq", "at", "actor", "scope", "action", "what", "customers", "purpose", "hash", "prev"}
    assert [e["seq"] for e in log] == list(range(1, len(log) + 1))
    assert log[0]["prev"] == "0" * 64
    for prev, e in zip(log, log[1:]):
        assert e["prev"] == prev["hash"]
    cc = [e for e in log if e["actor"] == "cc-7"]
    assert cc[0]["purpose"] is None and cc[0]["customers"] == [net.two]
    # filtered by customer, paged with after/limit
    assert all(net.two in e["customers"] for e in admin(net.db).audit_log(customer=net.two))
    page = admin(net.db).audit_log(after=1, limit=2)
    assert [e["seq"] for e in page] == [2, 3]


def test_with_purpose_and_writes_are_audited(net):
    da = net.db.scoped("dealer:DA", "zhang.san").with_purpose("ticket 42")
    da.add_touchpoint(at=T(2025, 5, 1, 9, 0), customer=net.one, channel="phone_out", kind="callback")
    last = admin(net.db).audit_log()[-1]
    assert (last["action"], last["what"], last["purpose"]) == ("write", "add_touchpoint", "ticket 42")


def test_flush_audit(net):
    da = net.db.scoped("dealer:DA", "zhang.san")
    da.customer_360(net.one)
    da.flush_audit()
    da.customer_360(net.one)
    net.db.flush_audit()  # Database.flush_audit: the same queue (the handle's)
    assert sum(e["actor"] == "zhang.san" for e in admin(net.db).audit_log()) == 2


def test_verify_audit_and_head_round_trip(net):
    da = net.db.scoped("dealer:DA", "zhang.san")
    da.customer_360(net.one)
    adm = admin(net.db)
    head = adm.audit_head()
    seq, hexhash = head.split(":")
    assert int(seq) >= 1 and HEX64.match(hexhash)
    v = adm.verify_audit()
    assert v == {"entries": int(seq), "head": head, "intact": True, "problem": None}
    assert adm.verify_audit(anchor=head)["intact"] is True
    # more entries later: the old anchor still holds
    da.timeline(net.one)
    da.flush_audit()
    later = adm.verify_audit(anchor=head)
    assert later["intact"] is True and later["entries"] > int(seq)
    assert adm.verify_audit(anchor=head.upper().replace("X", "x"))["intact"] is True
    # an anchor the trail does not hold
    wrong = adm.verify_audit(anchor=f"{seq}:{'0' * 64}")
    assert wrong["intact"] is False
    assert wrong["problem"]["seq"] == int(seq)
    assert wrong["problem"]["kind"] == "rewritten"
    assert isinstance(wrong["problem"]["what"], str)
    gone = adm.verify_audit(anchor=f"100000:{hexhash}")
    assert gone["intact"] is False and gone["problem"]["kind"] == "truncated"
    for bad in ["nonsense", f"{seq}:zz", f"x:{hexhash}", hexhash, f"{seq}:{hexhash}0"]:
        with pytest.raises(ValueError):
            adm.verify_audit(anchor=bad)


def test_audit_needs_read_audit(net):
    da = net.db.scoped("dealer:DA", "zhang.san")
    for call in (da.audit_log, da.verify_audit, da.audit_head):
        with pytest.raises(autocrm.AccessDeniedError) as ei:
            call()
        assert ei.value.permission == "read_audit"


# --- roles ---------------------------------------------------------------------------------------


def test_roles_and_set_role(net):
    adm = admin(net.db)
    roles = adm.roles()
    assert set(roles) == {"call_centre", "crm_analyst", "after_sales", "marketing", "data_admin"}
    assert roles["marketing"] == {
        "permissions": ["read_customers", "see_phone", "analytics", "export"], "consented_channel": "sms",
    }
    assert sorted(roles["data_admin"]["permissions"]) == sorted(autocrm.PERMISSIONS)
    adm.set_role("auditor", ["read_audit", "read_customers"])
    assert adm.roles()["auditor"] == {"permissions": ["read_customers", "read_audit"], "consented_channel": None}
    aud = net.db.scoped("hq:auditor", "ext-auditor")
    assert aud.verify_audit()["intact"] is True
    v = aud.customer_360(net.one)
    assert v.customer.phones == ["138****5678"]
    adm.set_role("sms_team", ["read_customers"], consented_channel="sms")
    assert adm.roles()["sms_team"]["consented_channel"] == "sms"
    assert net.db.scoped("hq:sms_team", "x").find("13900001111") == []
    adm.set_role("auditor", None)
    assert "auditor" not in adm.roles()
    with pytest.raises(autocrm.UnknownScopeError):
        net.db.scoped("hq:auditor", "ext-auditor")


def test_set_role_refusals(net):
    adm = admin(net.db)
    with pytest.raises(ValueError) as ei:
        adm.set_role("x", ["fly"])
    assert "read_customers" in str(ei.value) and "manage_roles" in str(ei.value)
    with pytest.raises(ValueError) as ei:
        adm.set_role("x", ["read_customers"], consented_channel="pigeon")
    assert "sms" in str(ei.value)
    with pytest.raises(TypeError):
        adm.set_role("x", "read_customers")
    with pytest.raises(TypeError):
        adm.set_role("x", None, consented_channel="sms")
    with pytest.raises(autocrm.ValidationError):
        adm.set_role("Bad Name", ["read_customers"])
    with pytest.raises(autocrm.UnknownScopeError):
        adm.set_role("never_stored", None)
    with pytest.raises(autocrm.AccessDeniedError) as ei:
        net.db.scoped("hq:call_centre", "cc").set_role("x", ["read_customers"])
    assert ei.value.permission == "manage_roles"
    with pytest.raises(autocrm.AccessDeniedError):
        net.db.scoped("hq:call_centre", "cc").roles()


def test_scoped_database_is_shared_between_threads(net):
    import threading

    da = net.db.scoped("dealer:DA", "zhang.san")
    got = []

    def work():
        got.append(da.find(f"C{net.one}"))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == [[net.one]] * 4


# --- erasure on request ----------------------------------------------------------------------------


def test_a_dealer_may_not_erase_and_nothing_is_written(net):
    with pytest.raises(autocrm.AccessDeniedError) as e:
        net.db.scoped("dealer:DA", "zhang.san").erase(net.one, "asked at the desk")
    assert e.value.permission == "erase"
    assert net.db.erasures() == []
    assert net.db.customer(net.one).name == "王小明"


def test_erasure_removes_the_personal_data_and_keeps_the_figures(net):
    before = net.db.balance(net.one)
    e = admin(net.db).erase(net.one, "PIPL art. 47 request 2026-118")
    assert e["customer"] == net.one and e["by"] == "auditor" and e["merged"] == []
    assert e["had_valid_info"] is True
    c = net.db.customer(net.one)
    assert c.name == "[erased]" and c.phones == [] and c.address is None and c.national_id is None
    assert c.city == "上海"
    assert net.db.customers_by_phone("13812345678") == []
    assert net.db.balance(net.one) == before
    assert net.db.verify_ledger().problems == []
    assert [x["customer"] for x in net.db.erasures()] == [net.one]
    assert net.db.erasure(net.two) is None
    log = admin(net.db).audit_log(customer=net.one)
    erase = [x for x in log if x["action"] == "erase"]
    assert len(erase) == 1 and erase[0]["purpose"] == "PIPL art. 47 request 2026-118"
    # Again: the first erasure comes back, nothing new is audited.
    assert admin(net.db).erase(net.one, "again")["reason"] == "PIPL art. 47 request 2026-118"
    with pytest.raises(autocrm.InvalidOperationError) as refused:
        net.db.update_customer(net.one, name="王小明")
    assert refused.value.refusal == "customer_erased"


def test_unscoped_erasure_leaves_no_trace_in_the_file_once_vacuumed(tmp_path):
    path = tmp_path / "crm.redb"
    with autocrm.Database.open(path) as db:
        c = db.insert_customer(name="欧阳晓明", phones=["13812345678"], address="徐汇区漕溪北路88号")
        with pytest.raises(autocrm.ValidationError):
            db.erase_customer(c, "dpo", "   ")
        assert db.erase_customer(c, "dpo", "request 7")["counts"]["merge_records"] == 0
    autocrm.Database.vacuum(path)
    data = path.read_bytes()
    for value in ["欧阳晓明", "13812345678", "漕溪北路88号"]:
        assert value.encode() not in data, value
    with autocrm.Database.open(path) as db:
        assert db.customer(c).name == "[erased]"
        assert db.check()["ok"]


def test_a_dealer_adds_leads_and_complaints_as_its_own(net):
    da = net.db.scoped("dealer:DA", "desk")
    lead = da.add_lead(customer=net.one, origin="web", model="Passat", intent="A",
                       purchase_type="first", received=T(2025, 5, 2, 10, 0))
    assert net.db.read().lead(lead).dealer == net.a
    complaint = da.add_complaint(customer=net.one, received=T(2025, 5, 3, 10, 0),
                                 category="service", note="waited too long")
    assert net.db.read().complaint(complaint).dealer == net.a
    with pytest.raises(autocrm.AccessDeniedError):
        da.add_lead(customer=net.one, origin="web", model="Passat", intent="A",
                    purchase_type="first", received=T(2025, 5, 2, 10, 0), dealer=net.b)
    with pytest.raises(autocrm.NotFoundError):
        da.add_complaint(customer=net.two, received=T(2025, 5, 3, 10, 0), category="service")
    with pytest.raises(autocrm.AccessDeniedError):
        net.db.scoped(f"owner:{net.one}", "app").add_lead(
            customer=net.one, origin="web", model="Passat", intent="A", purchase_type="first",
            received=T(2025, 5, 2, 10, 0))


def test_a_dealer_exports_the_postings_made_at_it(net):
    da = net.db.scoped("dealer:DA", "desk")
    assert da.postings_table().num_rows == 0  # the brand's welcome adjustment is not DA's
    assert admin(net.db).postings_table(customer=net.one).num_rows == 1
    da.redeem(customer=net.one, points=100, at=T(2025, 5, 1, 10, 0), item="car wash", key="da-1")
    t = da.postings_table()
    assert t.num_rows == 1 and t.column_names == net.db.postings_table().column_names
