"""Seeded synthetic dealer networks (the core's ``synth`` module)."""

from __future__ import annotations

import datetime as _dt
import os as _os
from typing import Any, Dict, Optional, Union

from . import _native

__all__ = ["generate", "write_dirty"]


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


def write_dirty(
    dir: Union[str, "_os.PathLike[str]"],
    customers: int = 1000,
    seed: int = 42,
    dirt: float = 0.1,
    gbk: bool = False,
    as_of: Union[_dt.date, str, None] = None,
    db: Optional["Database"] = None,  # noqa: F821
) -> Dict[str, Any]:
    """Write dirty source-system exports of a seeded synthetic network into ``dir``.

    Four CSV files as the finance, invoice and dealer (DMS) systems deliver them:
    ``customers_finance.csv``, ``customers_invoice.csv``, ``customers_dms.csv`` and
    ``vehicles_invoice.csv``, with about ``dirt`` (0.0-1.0) of the rows carrying one kind of
    dirt (placeholder names, short phones, bad national IDs or VINs, implausible dates,
    conflicting values, duplicates). ``gbk=True`` writes them GBK-encoded. With ``db`` the
    network's dealers are registered there first (the rows name them by code). The same
    arguments write the same bytes; the GIL is released while writing.

    Returns a dict: ``files`` (list of dicts ``path``, ``kind``, ``source_system``, ``rows``,
    in the order to import them), ``dealers`` (count in the network), ``dealers_added``
    (registered in ``db``, or None), ``injected`` (rows per kind of dirt), ``encoding``.
    Import them with ``db.import_file(f["path"])`` in that order.
    """
    return _native.synth_write_dirty(
        dir, customers, seed, dirt, gbk, as_of, None if db is None else db._native
    )
