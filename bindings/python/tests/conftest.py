"""Shared fixtures and helpers for the autocrm Python binding tests.

The hand-built data (``small``) has values worked out by hand in the docstring of
``build_small`` so tests can assert exact counts, ids, dates and money. The synthetic
network (``synth_db``) is generated once per session into a temporary file.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest

import autocrm

# --- valid natural keys ------------------------------------------------------------------------

_W_ID = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def national_id(birth: str, seq: int, region: str = "110105") -> str:
    """A GB 11643 resident ID with a correct check digit (``birth`` is YYYYMMDD, seq 0-999;
    an even seq makes a woman, an odd one a man)."""
    body = f"{region}{birth}{seq:03d}"
    s = sum(int(c) * w for c, w in zip(body, _W_ID))
    return body + "10X98765432"[s % 11]


def bad_check_digit(nid: str) -> str:
    """The same ID with a wrong check digit."""
    last = nid[-1]
    wrong = "0" if last != "0" else "1"
    return nid[:-1] + wrong


_VIN_VAL = {
    **{str(i): i for i in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9))),
    **dict(zip("JKLMN", range(1, 6))),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10))),
}
_W_VIN = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]


def vin(serial: int, prefix8: str = "LSVAU218", year_plant: str = "N2") -> str:
    """A Chinese (WMI L…) VIN with a correct position-9 check digit."""
    suffix = f"{year_plant}{serial:06d}"
    body = prefix8 + "0" + suffix
    r = sum(_VIN_VAL[c] * w for c, w in zip(body, _W_VIN)) % 11
    return prefix8 + ("X" if r == 10 else str(r)) + suffix


CREDIT_CODE = "91350100M000100Y43"  # valid GB 32100 code from core's tests


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def db():
    d = autocrm.Database.in_memory()
    yield d
    d.close()


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / "crm.redb")


def build_small(db) -> SimpleNamespace:
    """Two dealers, four customers, three vehicles, a handful of touchpoints.

    - dealer SH01 (四S, 上海) and dealer HZ01 (service station, 杭州)
    - wang  (person, 13812345678, national ID 1990-03-15 male): Passat bought 2023-05-01 at SH01
      for ¥180,000.00; service visits 2024-06-10 (¥1,200.50, SH01) and 2025-03-01 (¥800.00, SH01)
      -> retained in 2025 (visit in (2023-12-31, 2024-12-31] and in (2024-12-31, 2025-12-31])
    - li    (person, 13900001111): Jetta bought 2022-01-10 at SH01; service visit 2024-05-05
      (¥650.00, SH01) only -> not retained in 2025; at_risk/churned as of 2025-06-30
    - fleet (organisation with credit code): Lavida bought 2024-09-01 at HZ01, no service
    - zhao  (person, prospect, no vehicle): one enquiry 2025-02-02
    """
    with db.write() as tx:
        sh = tx.insert_dealer(code="SH01", name="上海大众4S店", region="East", province="上海", city="上海")
        hz = tx.insert_dealer(
            code="HZ01", name="杭州服务站", region="East", province="浙江", city="杭州", kind="service_station"
        )
        wang = tx.insert_customer(
            name="王小明",
            phones=["+86 138-1234-5678"],
            gender="male",
            birth_date=dt.date(1990, 3, 15),
            national_id=national_id("19900315", 11),
            province="上海",
            city="上海",
            source=("dms", "C-1"),
        )
        li = tx.insert_customer(
            {"name": "李华", "phones": ["13900001111"], "province": "上海", "city": "上海"}
        )
        fleet = tx.insert_customer(
            name="上海某某出租汽车有限公司",
            kind="organisation",
            credit_code=CREDIT_CODE,
            industry="transport",
            province="浙江",
            city="杭州",
        )
        zhao = tx.insert_customer(name="赵敏", phones=["13700002222"])
        passat = tx.insert_vehicle(
            vin=vin(183294),
            brand="Volkswagen",
            model="Passat",
            plate="沪A12345",
            purchase_date="2023-05-01",
            selling_dealer=sh,
            owner=wang,
        )
        jetta = tx.insert_vehicle(
            vin=vin(100001),
            brand="Volkswagen",
            model="Jetta",
            purchase_date=dt.date(2022, 1, 10),
            selling_dealer=sh,
            owner=li,
        )
        lavida = tx.insert_vehicle(
            vin=vin(100002),
            brand="Volkswagen",
            model="Lavida",
            usage="taxi",
            purchase_date=dt.date(2024, 9, 1),
            selling_dealer=hz,
            owner=fleet,
            since=dt.date(2024, 9, 1),
        )
        tp_purchase = tx.insert_touchpoint(
            at=dt.datetime(2023, 5, 1, 10, 0),
            customer=wang,
            channel="showroom",
            kind="purchase",
            vehicle=passat,
            dealer=sh,
            amount=Decimal("180000.00"),
        )
        tp_s1 = tx.insert_touchpoint(
            at="2024-06-10T09:30",
            customer=wang,
            channel="showroom",
            kind="service_visit",
            service_kind="first_service",
            vehicle=passat,
            dealer=sh,
            amount=Decimal("1200.50"),
            parts_amount=Decimal("700.50"),
            labour_amount=500,
            mileage_km=12000,
        )
        tp_s2 = tx.insert_touchpoint(
            at=dt.datetime(2025, 3, 1, 14, 15, 30),
            customer=wang,
            channel="showroom",
            kind="service_visit",
            service_kind="maintenance",
            vehicle=passat,
            dealer=sh,
            amount="800.00",
            mileage_km=25000,
        )
        tp_li = tx.insert_touchpoint(
            at=dt.datetime(2024, 5, 5, 11, 0),
            customer=li,
            channel="showroom",
            kind="service_visit",
            service_kind="repair",
            vehicle=jetta,
            dealer=sh,
            amount=Decimal("650"),
        )
        tp_zhao = tx.insert_touchpoint(
            at=dt.datetime(2025, 2, 2, 16, 0),
            customer=zhao,
            channel="web",
            kind="enquiry",
        )
    return SimpleNamespace(
        sh=sh, hz=hz, wang=wang, li=li, fleet=fleet, zhao=zhao,
        passat=passat, jetta=jetta, lavida=lavida,
        tp_purchase=tp_purchase, tp_s1=tp_s1, tp_s2=tp_s2, tp_li=tp_li, tp_zhao=tp_zhao,
    )


@pytest.fixture
def small(db):
    ids = build_small(db)
    ids.db = db
    return ids


SYNTH_CUSTOMERS = 2000


@pytest.fixture(scope="session")
def synth_db(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("synth") / "synth.redb")
    d = autocrm.Database.open(path, durable=False)
    stats = autocrm.synth.generate(d, customers=SYNTH_CUSTOMERS, seed=7)
    yield SimpleNamespace(db=d, stats=stats, path=path)
    d.close()
