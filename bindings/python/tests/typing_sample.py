"""A typed use of autocrm: `mypy --strict` must accept it (test_typing.py), and it runs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Dict, List, Tuple

import autocrm


def load(db: autocrm.Database) -> Tuple[int, int]:
    with db.write() as tx:
        dealer: int = tx.insert_dealer(code="SH01", name="上海大众4S店", region="East", province="上海", city="上海")
        wang: int = tx.insert_customer(name="王小明", phones=["13812345678"])
        tx.set_loyalty_config(
            lot_days=365,
            rules=[{"name": "purchase", "kind": "purchase", "points_per_yuan": 2, "amount": "total"}],
            multipliers={"gold": 150},
            settlement_per_100_points=Decimal("1.50"),
        )
        tx.join_brand_club(wang, dt.date(2025, 1, 1))
        tx.insert_touchpoint(
            at=dt.datetime(2025, 2, 1, 10, 0), customer=wang, channel="showroom", kind="purchase",
            dealer=dealer, amount=Decimal("100.00"),
        )
        tx.insert_complaints([
            {"customer": wang, "category": "noise", "received": f"2025-06-{d:02d}T10:00"} for d in (1, 2, 3)
        ])
    return dealer, wang


def report(db: autocrm.Database, wang: int) -> Dict[str, Any]:
    with db.read() as r:
        c: autocrm.Customer = r.customer(wang)
        points: int = r.balance(wang).points
        cfg: autocrm.LoyaltyConfig = r.loyalty_config()
        shorter = cfg.replace(lot_days=180)
        acts: List[autocrm.CareAction] = r.due_actions(
            "2025-06-01", dt.date(2025, 7, 1), insurance_lead_days=45, first_service_km=None,
            holidays=[(dt.date(2025, 5, 31), "端午节")], owner_status={"window_days": 180},
        )
        esc: List[autocrm.Escalation] = r.complaint_escalations("2025-06-30", month_limit=2)
        table: autocrm.Table = r.customers_table()
        rows: int = table.num_rows
    try:
        with db.write():
            db.write()
    except autocrm.InvalidOperationError as e:
        code: str = e.code
    return {
        "name": c.name, "points": points, "lot_days": shorter.lot_days, "actions": len(acts),
        "escalations": [e.month for e in esc], "rows": rows, "code": code, "config": cfg.to_dict(),
    }


def audited(db: autocrm.Database, wang: int) -> Dict[str, Any]:
    admin: autocrm.ScopedDatabase = db.scoped("hq:data_admin", "typing-sample", purpose="typing check")
    view: autocrm.Customer360 = admin.customer_360(wang)
    masked: List[str] = view.masked
    head: str = admin.audit_head()
    intact: bool = admin.verify_audit(anchor=head)["intact"]
    seqs: List[int] = [e["seq"] for e in admin.audit_log(limit=10)]
    admin.set_role("auditor", ["read_audit"], consented_channel=None)
    permissions: List[str] = admin.roles()["auditor"]["permissions"]
    try:
        db.scoped("hq:nobody", "typing-sample")
        scope = ""
    except autocrm.UnknownScopeError as e:
        scope = e.scope
    return {"masked": masked, "intact": intact, "seqs": seqs, "permissions": permissions, "scope": scope}


def main() -> Dict[str, Any]:
    with autocrm.Database.in_memory() as db:
        _, wang = load(db)
        out = report(db, wang)
        out["audit"] = audited(db, wang)
        return out


if __name__ == "__main__":
    print(main())
