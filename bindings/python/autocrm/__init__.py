"""autocrm: an embedded CRM database for car makers and their dealer networks.

The Python binding of the autocrm Rust core. Every rule lives in the core; this package converts
arguments, calls it and maps its errors. See API.md for the full contract.

    import autocrm
    with autocrm.Database.open("crm.redb") as db:
        with db.write() as tx:
            cid = tx.insert_customer(name="王小明", phones=["13812345678"])
        print(db.customer_360(cid))
"""

from __future__ import annotations

import datetime as _dt
import decimal as _decimal
import functools as _functools
import os as _os
import typing as _t
from typing import Any, Optional

from . import _native
from ._native import (  # noqa: F401
    AlreadyOpenError,
    Balance,
    Benefits,
    CareAction,
    Complaint,
    ConsentEvent,
    CorruptError,
    Customer,
    Customer360,
    CustomerSet,
    Dealer,
    DuplicateKeyError,
    Error,
    Escalation,
    ExpiryReport,
    IdempotencyConflictError,
    InsufficientPointsError,
    InvalidOperationError,
    KpiRow,
    KpiTable,
    Lead,
    LedgerCheck,
    LoyaltyConfig,
    Membership,
    NotFoundError,
    Ownership,
    Posting,
    ReadTxn,
    Relation,
    Rollup,
    RuleError,
    SegmentDiff,
    SegmentVersion,
    SettlementLine,
    StorageError,
    Survey,
    Table,
    TierChange,
    TierStatus,
    TimelinePage,
    Touchpoint,
    ReadOnlyError,
    UpgradeRequiredError,
    ValidationError,
    Vehicle,
    WriteTxn,
    CARE_KINDS,
    CONSENT_CHANNELS,
    DIMENSIONS,
    FORMAT_VERSION,
    KPIS,
    RELATION_KINDS,
    __version__,
)

from . import synth  # noqa: E402,F401
from ._native import (  # noqa: E402,F401  (issue 3: integration, identity resolution, import)
    Conflict,
    DuplicateCandidate,
    DuplicateCandidates,
    FeedbackEntry,
    FieldLineage,
    ImportReport,
    MergeRecord,
    QualityReport,
    QualityRow,
    Rejection,
    SourceSystem,
    UpsertResult,
    FIELD_GROUPS,
)
from ._native import (  # noqa: E402,F401  (issue 11: access scopes, audit trail)
    AccessDeniedError,
    ScopedDatabase,
    UnknownScopeError,
    PERMISSIONS,
)
from ._native import (  # noqa: E402,F401  (issue 14: replicas that sync with HQ)
    ReplicaState,
    ReplicaStatus,
    SyncRejection,
    SyncReport,
)

# Types of arguments, for annotations (see API.md, "Value conventions").
DateLike = _t.Union[_dt.date, _dt.datetime, str]
"""A date: ``datetime.date``, ``datetime.datetime`` (its date) or an ISO ``str``."""
DateTimeLike = _t.Union[_dt.datetime, _dt.date, str]
"""A date-time: ``datetime.datetime``, ``datetime.date`` (midnight) or an ISO ``str``."""
MoneyLike = _t.Union[_decimal.Decimal, int, str]
"""Yuan, exact to the fen: ``Decimal``, ``int`` (whole yuan) or ``str``; never ``float``."""
Wallet = _t.Union[_t.Literal["brand"], int]
"""``"brand"`` or a dealer id (that dealer's club wallet)."""
PeriodLike = _t.Union[str, _t.Tuple[DateLike, DateLike]]
"""A KPI period: ``"2025"``, ``"2025-H1"``, ``"2025-Q3"``, ``"2025-07"`` or ``(from, to)``."""
Record = _t.Mapping[str, Any]
"""A record given as a dict."""


class Database:
    """An autocrm database: one file (or memory), ACID transactions, no server.

    Open with :meth:`open` or :meth:`in_memory`; use as a context manager to close it. Share one
    handle between threads. Besides :meth:`write` and :meth:`read`, every ``WriteTxn`` method is
    available here running in its own committed write transaction, and every ``ReadTxn``
    method running on a fresh snapshot.
    """

    __slots__ = ("_native",)

    def __init__(self, native: "_native.Database") -> None:
        self._native = native

    @classmethod
    def open(
        cls,
        path: Any,
        *,
        durable: bool = True,
        read_only: bool = False,
        cache_bytes: Optional[int] = None,
        utc_offset: str = "+08:00",
    ) -> "Database":
        """Open (or create) the database file at ``path``. Raises AlreadyOpenError if another
        process or handle has it open. ``read_only=True`` opens an existing file without ever
        writing it; writes then raise ReadOnlyError. ``utc_offset`` is the network's clock:
        "now" (an import's time received, an operator's action) is the system clock at that
        offset, as the CLI reads it."""
        return cls(
            _native.Database.open(
                path, durable=durable, read_only=read_only, cache_bytes=cache_bytes,
                utc_offset=utc_offset,
            )
        )

    @classmethod
    def in_memory(cls, *, durable: bool = True, utc_offset: str = "+08:00") -> "Database":
        """A new, empty in-memory database."""
        return cls(_native.Database.in_memory(durable=durable, utc_offset=utc_offset))

    def now(self) -> _dt.datetime:
        """The local time now by this handle's clock (see ``utc_offset``)."""
        return self._native.now()

    @property
    def path(self) -> Optional[str]:
        """The file path, or None in memory."""
        return self._native.path

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._native.closed

    @property
    def read_only(self) -> bool:
        """True when opened with ``read_only=True``."""
        return self._native.read_only

    def close(self) -> None:
        """Close the handle (idempotent)."""
        self._native.close()

    def compact(self) -> bool:
        """Rewrite the file so it holds only live data (deleted customers' bytes leave the
        disk only then); True if anything moved. Raises InvalidOperationError while a
        transaction is open."""
        return self._native.compact()

    @staticmethod
    def vacuum(path: Any) -> None:
        """Rewrite the database file at ``path`` (closed) into a fresh file holding only its
        live records, replacing the original: after erasures, so no erased byte stays on the
        disk (``compact`` moves pages whole and can keep old bytes in their slack)."""
        _native.vacuum(_os.fspath(path))

    def check(self) -> "dict[str, Any]":
        """The integrity check: redb's page checksums, every record, every index, every rollup
        and the points ledger. Returns ``{"ok", "storage", "checked", "problems"}`` (API.md)."""
        return self._native.check()

    def export_lake(
        self, dir: Any, *, as_of: Optional[DateLike] = None, threads: Optional[int] = None,
        incremental: bool = False,
    ) -> "dict[str, Any]":
        """Write the whole store as Parquet files under ``dir`` (created if missing): one
        folder per table, touchpoints partitioned by month (``touchpoints/month=YYYY-MM/``),
        and ``_manifest.json`` written last (docs/export.md). ``dir`` must be new, empty or an
        earlier export, which is replaced; otherwise InvalidOperationError
        (``invalid_operation.export_target_not_empty``) and nothing is written. ``as_of``: the
        day the home_dealers table is computed for (default today). Returns the report:
        ``{"dir", "snapshot_at", "as_of", "scope", "sequence", "rows", "bytes", "files",
        "seconds", "rows_per_second", "tables"}`` (API.md). ``incremental=True`` appends what
        the change feed says changed since the folder's export instead (``part-<sequence>``
        files and ``_deletions``; docs/export.md), refused (``export_not_incremental``)
        unless the folder's snapshot was taken with the feed on."""
        return self._native.export_lake(
            dir, as_of=as_of, threads=threads, incremental=incremental
        )

    def write(self) -> WriteTxn:
        """Start a write transaction; ``with db.write() as tx:`` commits on success and rolls
        back on exception."""
        return self._native.write()

    def read(self) -> ReadTxn:
        """Start a read transaction: a consistent snapshot."""
        return self._native.read()

    def __enter__(self) -> "Database":
        return self

    def __exit__(self, *exc: Any) -> bool:
        self.close()
        return False

    def __repr__(self) -> str:
        return repr(self._native)


_WRITE_METHODS = [
    "insert_dealer", "insert_customer", "insert_customers", "update_customer",
    "delete_customer", "insert_vehicle", "insert_vehicles", "update_vehicle",
    "transfer_vehicle", "insert_touchpoint", "insert_touchpoints", "delete_touchpoint",
    "insert_lead", "insert_leads", "update_lead", "insert_complaint", "insert_complaints",
    "advance_complaint", "respond_to_complaint", "insert_survey", "insert_surveys", "relate",
    "unrelate", "record_consent", "set_loyalty_config", "join_brand_club", "join_dealer_club",
    "redeem", "adjust", "reverse", "expire_lots", "set_tier_floor", "review_tiers",
    "save_segment", "materialise_segment",
]

_READ_METHODS = [
    "customer", "dealer", "dealer_by_code", "dealers", "vehicle", "touchpoint", "lead",
    "complaint", "survey", "customer_by_national_id", "customer_by_credit_code",
    "customers_by_phone", "vehicle_by_vin", "vehicle_by_plate", "find_customers",
    "vehicles_of", "leads_of", "complaints_of", "surveys_of", "relations_of", "consents",
    "rollup", "timeline", "customer_360", "customer_count", "vehicle_count",
    "touchpoint_count", "customer_ids", "loyalty_config", "membership", "balance",
    "wallets_of", "spendable", "postings_of", "posting", "posting_by_key", "tier_status",
    "tier_history", "benefits", "settlement", "verify_ledger", "parse_rule", "evaluate",
    "evaluate_segment", "segment", "segment_names", "materialised", "segment_diff", "kpi",
    "due_actions", "complaint_escalations", "customers_table", "vehicles_table",
    "touchpoints_table", "postings_table", "ownership_table", "leads_table",
    "complaints_table", "surveys_table", "home_dealers_table", "home_dealer",
]


def _write_method(name: str):
    native = getattr(_native.WriteTxn, name)

    @_functools.wraps(native)
    def method(self: Database, *args: Any, **kwargs: Any) -> Any:
        with self._native.write() as tx:
            return getattr(tx, name)(*args, **kwargs)

    method.__doc__ = (native.__doc__ or "") + "\n\nRuns in its own write transaction and commits."
    method.__name__ = name
    return method


def _read_method(name: str):
    native = getattr(_native.ReadTxn, name)

    @_functools.wraps(native)
    def method(self: Database, *args: Any, **kwargs: Any) -> Any:
        with self._native.read() as r:
            return getattr(r, name)(*args, **kwargs)

    method.__doc__ = (native.__doc__ or "") + "\n\nRuns on a fresh snapshot."
    method.__name__ = name
    return method


# Issue 3: integration (sources, survivorship upserts, conflicts, feedback, lineage, quality),
# identity resolution (duplicates, merges) and bulk import.
_WRITE_METHODS += [
    "upsert_customer", "upsert_vehicle", "resolve_conflict", "merge_customers", "set_sources",
    "register_source", "set_source_priority", "reject", "clear_feedback",
]
_READ_METHODS += [
    "sources", "conflict", "conflicts", "conflicts_of", "open_conflict_count", "feedback",
    "feedback_all", "feedback_entry", "rejection_counts", "lineage_of_customer",
    "lineage_of_vehicle", "quality_report", "duplicate_candidates", "duplicates_of",
    "resolve_customer", "merges_of",
]


def _database_method(name: str):
    native = getattr(_native.Database, name)

    @_functools.wraps(native)
    def method(self: Database, *args: Any, **kwargs: Any) -> Any:
        return getattr(self._native, name)(*args, **kwargs)

    method.__name__ = name
    return method


# Issue 11: `scoped` returns the native ScopedDatabase; `flush_audit` appends queued read
# audit entries.
for _n in ("import_file", "import_bytes", "scoped", "flush_audit"):
    setattr(Database, _n, _database_method(_n))

# Issue 14: replicas that sync with HQ (API.md, "Replicas"): batches as bytes.
for _n in (
    "register_replica", "init_replica", "sync_push", "sync_serve", "sync_pull", "sync_status",
    "replicas",
):
    setattr(Database, _n, _database_method(_n))


def _sync_with(
    self: Database, hq: Database, max_rounds: int = 100
) -> "tuple[SyncReport, SyncReport]":
    """On a replica: round trips with ``hq`` (another open Database) until HQ has nothing
    more, at most ``max_rounds``; returns the reports ``(served, pulled)`` of the last serve
    (at HQ) and pull (here)."""
    if not isinstance(hq, Database):
        raise TypeError(f"sync_with: hq must be an autocrm.Database, got {type(hq).__name__}")
    return self._native.sync_with(hq._native, max_rounds)


_sync_with.__name__ = "sync_with"
_sync_with.__qualname__ = "Database.sync_with"
Database.sync_with = _sync_with  # type: ignore[attr-defined]

# Issue 11: erasure on request and its register.
_WRITE_METHODS += ["erase_customer"]
_READ_METHODS += ["erasure", "erasures"]

# Issue 14: the change feed.
_WRITE_METHODS += [
    "register_consumer", "unregister_consumer", "acknowledge", "set_change_retention",
    "disable_change_feed", "prune_changes",
]
_READ_METHODS += [
    "changes", "last_change", "change_feed_enabled", "change_retention", "consumers",
    "consumer_position",
]

for _n in _WRITE_METHODS:
    setattr(Database, _n, _write_method(_n))
for _n in _READ_METHODS:
    setattr(Database, _n, _read_method(_n))
del _n

__all__ = [n for n in dir() if not n.startswith("_") and n not in ("annotations", "Any", "Optional")]
