"""Seeded synthetic dealer networks (the core's ``synth`` module)."""

from __future__ import annotations

import datetime as _dt
from typing import Dict, Optional, Union

from . import _native

__all__ = ["generate"]


def generate(
    db: "Database",  # noqa: F821
    customers: int = 1000,
    seed: int = 42,
    dealers: Optional[int] = None,
    as_of: Union[_dt.date, str, None] = None,
    years: int = 5,
    batch: int = 1000,
) -> Dict[str, int]:
    """Generate a seeded synthetic dealer network and load it into ``db``.

    The same arguments give the same network everywhere. ``dealers`` defaults to one per
    2,000 customers (4 to 2,000); ``as_of`` (last day of history) defaults to 2026-06-30;
    ``batch`` customers are written per transaction. The GIL is released while loading.
    Returns the counts written: dealers, customers, vehicles, transfers, touchpoints, leads,
    complaints, surveys, relations, records.
    """
    return _native.synth_generate(
        db._native, customers, seed, dealers, as_of, years, batch
    )
