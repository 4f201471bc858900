"""Misuses the stubs must catch: `mypy --strict` reports exactly the lines marked `# E`."""

from __future__ import annotations

import autocrm


def misuse(db: autocrm.Database) -> None:
    db.set_loyalty_config(lot_days="365")  # E
    db.set_loyalty_config(lot_dayz=365)  # E
    db.set_loyalty_config(rules=[{"name": "x", "kind": "purchase", "wallet": "dealer"}])  # E
    db.due_actions("2025-06-01", "2025-07-01", insurance_lead_days="45")  # E
    db.due_actions("2025-06-01", "2025-07-01", callback_days=3)  # E
    db.complaint_escalations("2025-06-30", month_limit=None)  # E
    autocrm.LoyaltyConfig(tier_window_days=1.5)  # E
    db.scoped("hq:data_admin")  # E
    db.scoped("hq:data_admin", "a").set_role("x", [1])  # E
