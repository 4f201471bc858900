//! `autocrm._native`: the Python binding of the autocrm core. Thin by design: arguments are
//! converted, core is called (with the GIL released), and core errors are mapped to Python
//! exceptions. See `API.md`.

mod access;
mod arrow;
mod conv;
mod erasure;
mod errors;
mod feed;
mod integration;
mod lake;
mod params;
mod records;
mod scoped_analytics;
mod scoped_data;
mod scoped_records;
mod sync;
mod types;

use std::path::PathBuf;
use std::sync::Arc;

use autocrm::api::{ReadSession, Store, WriteSession};
use autocrm::care::CareKind;
use autocrm::export;
use autocrm::kpi::{Dimension, Period};
use autocrm::loyalty::Wallet;
use autocrm::{
    ComplaintId, ComplaintStatus, ConsentChannel, CustomerId, CustomerKey, CustomerSet, Database,
    Date, DateTime, DealerId, Facts, Kpi, LeadId, LoyaltyConfig, ReadTxn, RelationKind, SurveyId,
    TimelineCursor, TouchpointId, VehicleId, WriteTxn,
};
use autocrm_synth::{Network, SynthConfig};
use pyo3::exceptions::{PyIndexError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use crate::conv::{names, period_from_py, Fields, FromPy, ToPy};
use crate::errors::{detach, to_py, IntoPyResult};
use crate::types::*;

// ---------------------------------------------------------------------------------------------
// Database

/// The system clock at `offset` (`+08:00`), or a ValueError naming the expected shape.
fn clock(offset: &str) -> PyResult<autocrm::Clock> {
    let o: autocrm::UtcOffset = offset
        .parse()
        .map_err(|e: autocrm::clock::ParseOffsetError| PyValueError::new_err(e.to_string()))?;
    Ok(autocrm::Clock::system(o))
}

/// An autocrm database: one file (or memory), ACID transactions. Open with `Database.open`
/// or `Database.in_memory`; share one handle between threads. A thin shell over core's
/// `api::Store` (closing, the writer guard).
#[pyclass(frozen, module = "autocrm._native", name = "Database")]
struct PyDatabase {
    store: Store,
    path: Option<String>,
}

impl PyDatabase {
    fn new(db: Database, path: Option<String>) -> Self {
        PyDatabase {
            store: Store::new(db),
            path,
        }
    }
}

#[pymethods]
impl PyDatabase {
    /// Opens the database file at `path` (created if missing). `durable=False` trades
    /// fsync-on-commit for speed; `read_only=True` opens an existing file without ever writing
    /// it (a read-only mount, mode 0444; writes raise ReadOnlyError); `cache_bytes` sets the
    /// page cache size.
    #[staticmethod]
    #[pyo3(signature = (path, *, durable=true, read_only=false, cache_bytes=None, utc_offset="+08:00"))]
    fn open(
        py: Python<'_>,
        path: PathBuf,
        durable: bool,
        read_only: bool,
        cache_bytes: Option<usize>,
        utc_offset: &str,
    ) -> PyResult<Self> {
        let shown = path.display().to_string();
        let clock = clock(utc_offset)?;
        let db = detach(py, || {
            let mut o = Database::options()
                .durable(durable)
                .read_only(read_only)
                .clock(clock);
            if let Some(b) = cache_bytes {
                o = o.cache_bytes(b);
            }
            o.open(&path)
        })
        .py()?;
        Ok(PyDatabase::new(db, Some(shown)))
    }

    /// A new, empty in-memory database.
    #[staticmethod]
    #[pyo3(signature = (*, durable=true, utc_offset="+08:00"))]
    fn in_memory(py: Python<'_>, durable: bool, utc_offset: &str) -> PyResult<Self> {
        let clock = clock(utc_offset)?;
        let db = detach(py, || {
            Database::options()
                .durable(durable)
                .clock(clock)
                .in_memory()
        })
        .py()?;
        Ok(PyDatabase::new(db, None))
    }

    /// The local time now by this handle's clock (the system clock at its `utc_offset`):
    /// what an import without `received_at` stamps.
    fn now(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let db = self.store.database().py()?;
        db.now().to_py(py)
    }

    /// The file path, or None in memory.
    #[getter]
    fn path(&self) -> Option<String> {
        self.path.clone()
    }

    /// True after `close()`.
    #[getter]
    fn closed(&self) -> bool {
        self.store.is_closed()
    }

    /// Closes the handle (idempotent). The file is released once transactions still open are
    /// finished.
    fn close(&self, py: Python<'_>) {
        py.detach(|| self.store.close());
    }

    /// Rewrites the file so it holds only live data; returns whether anything moved. Deleted
    /// records' bytes stay in freed pages until then (core `Database::compact`). Raises
    /// InvalidOperationError while a transaction of this database is open.
    fn compact(&self, py: Python<'_>) -> PyResult<bool> {
        detach(py, || self.store.compact()).py()
    }

    /// True when opened with `read_only=True`.
    #[getter]
    fn read_only(&self) -> PyResult<bool> {
        Ok(self.store.database().py()?.is_read_only())
    }

    /// The integrity check (core `Database::check`): redb's page checksums (skipped on a
    /// read-only handle or while transactions are open), every record, every index against its
    /// records, every rollup against a rebuild, the points ledger. Returns a dict: `ok` (bool),
    /// `storage` ("verified", "repaired" or "skipped: <reason>"), `checked` ({table: count}),
    /// `problems` ([{"table", "detail"}]).
    fn check<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let report = detach(py, || self.store.check()).py()?;
        let d = PyDict::new(py);
        d.set_item("ok", report.is_ok())?;
        let storage = match &report.storage {
            autocrm::StorageCheck::Verified => "verified".to_string(),
            autocrm::StorageCheck::Repaired => "repaired".to_string(),
            autocrm::StorageCheck::Skipped(why) => format!("skipped: {why}"),
            other => format!("{other:?}"),
        };
        d.set_item("storage", storage)?;
        let checked = PyDict::new(py);
        for (table, n) in &report.checked {
            checked.set_item(*table, *n)?;
        }
        d.set_item("checked", checked)?;
        let problems = PyList::empty(py);
        for p in &report.problems {
            let e = PyDict::new(py);
            e.set_item("table", p.table)?;
            e.set_item("detail", &p.detail)?;
            problems.append(e)?;
        }
        d.set_item("problems", problems)?;
        Ok(d)
    }

    /// Starts a write transaction (`with db.write() as tx:` commits on success, rolls back on
    /// exception). Blocks, without the GIL, while another thread's write transaction is open;
    /// raises InvalidOperationError if this thread's own is still open (it would wait forever).
    fn write(&self, py: Python<'_>) -> PyResult<PyWriteTxn> {
        let session = detach(py, || self.store.write()).py()?;
        Ok(PyWriteTxn(session))
    }

    /// Starts a read transaction: a consistent snapshot.
    fn read(&self, py: Python<'_>) -> PyResult<PyReadTxn> {
        let session = detach(py, || self.store.read()).py()?;
        Ok(PyReadTxn(session))
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, PyTuple>) -> bool {
        self.close(py);
        false
    }

    fn __repr__(&self) -> String {
        match (&self.path, self.closed()) {
            (_, true) => "autocrm.Database(closed)".into(),
            (Some(p), _) => format!("autocrm.Database({p:?})"),
            (None, _) => "autocrm.Database(in_memory)".into(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Write transactions

/// A write transaction. Use as a context manager, or call `commit()` / `abort()`. Used by one
/// thread at a time: a concurrent call from another thread raises InvalidOperationError
/// (core's `api::WriteSession`).
#[pyclass(frozen, module = "autocrm._native", name = "WriteTxn")]
struct PyWriteTxn(WriteSession);

impl PyWriteTxn {
    /// Runs `f` on the transaction without the GIL.
    fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut WriteTxn) -> autocrm::Result<T> + Send,
    ) -> PyResult<T> {
        detach(py, || self.0.with(f)).py()
    }

    fn finish(&self, py: Python<'_>, commit: bool) -> PyResult<()> {
        detach(py, || {
            if commit {
                self.0.commit()
            } else {
                self.0.abort()
            }
        })
        .py()
    }
}

fn batch<'py, T>(
    items: &Bound<'py, PyAny>,
    what: &'static str,
    conv: impl Fn(&Fields<'py>) -> PyResult<T>,
) -> PyResult<Vec<T>> {
    let mut out = Vec::new();
    for (i, item) in items.try_iter()?.enumerate() {
        let item = item?;
        let f = Fields::of(&item, what)?;
        let v = conv(&f).and_then(|v| f.done().map(|_| v)).map_err(|e| {
            Python::attach(|py| {
                let _ = e.value(py).setattr("record", i);
                e
            })
        })?;
        out.push(v);
    }
    Ok(out)
}

fn one<'py, T>(
    py: Python<'py>,
    what: &'static str,
    record: Option<&Bound<'py, PyAny>>,
    kwargs: Option<&Bound<'py, PyDict>>,
    conv: impl Fn(&Fields<'py>) -> PyResult<T>,
) -> PyResult<T> {
    let f = Fields::new(py, what, record, kwargs)?;
    let v = conv(&f)?;
    f.done()?;
    Ok(v)
}

fn ids<T: Copy>(v: Vec<T>, raw: impl Fn(T) -> u64) -> Vec<u64> {
    v.into_iter().map(raw).collect()
}

#[pymethods]
impl PyWriteTxn {
    /// Commits: durable (fsynced) before it returns unless durability was turned off.
    fn commit(&self, py: Python<'_>) -> PyResult<()> {
        self.finish(py, true)
    }

    /// Rolls back everything written in this transaction.
    fn abort(&self, py: Python<'_>) -> PyResult<()> {
        self.finish(py, false)
    }

    /// True once committed or aborted.
    #[getter]
    fn finished(&self) -> bool {
        self.0.is_finished()
    }

    /// Turns fsync-on-commit off (or on) for this transaction (bulk loads).
    fn set_durable(&self, py: Python<'_>, durable: bool) -> PyResult<()> {
        self.with(py, move |tx| tx.set_durable(durable))
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Commits on normal exit, rolls back on exception (which propagates).
    #[pyo3(signature = (exc_type=None, _exc=None, _tb=None))]
    fn __exit__(
        &self,
        py: Python<'_>,
        exc_type: Option<&Bound<'_, PyAny>>,
        _exc: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        if self.finished() {
            return Ok(false);
        }
        let ok = exc_type.is_none_or(|t| t.is_none());
        self.finish(py, ok)?;
        Ok(false)
    }

    /// Inserts a dealer; returns its id.
    #[pyo3(signature = (record=None, **fields))]
    fn insert_dealer(
        &self,
        py: Python<'_>,
        record: Option<&Bound<'_, PyAny>>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<u32> {
        let d = one(py, "dealer", record, fields, records::dealer)?;
        self.with(py, move |tx| tx.insert_dealer(&d)).map(|i| i.0)
    }

    /// Inserts a customer (person or organisation); returns its id.
    #[pyo3(signature = (record=None, **fields))]
    fn insert_customer(
        &self,
        py: Python<'_>,
        record: Option<&Bound<'_, PyAny>>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<u64> {
        let c = one(py, "customer", record, fields, records::customer)?;
        self.with(py, move |tx| tx.insert_customer(&c)).map(|i| i.0)
    }

    /// Inserts customers from a list of dicts; returns their ids. A bad record raises with
    /// `.record` set to its index.
    fn insert_customers(&self, py: Python<'_>, records: &Bound<'_, PyAny>) -> PyResult<Vec<u64>> {
        let cs = batch(records, "customer", records::customer)?;
        self.with(py, move |tx| tx.insert_customers(&cs))
            .map(|v| ids(v, |i| i.0))
    }

    /// Replaces customer `id`'s profile.
    #[pyo3(signature = (id, record=None, **fields))]
    fn update_customer(
        &self,
        py: Python<'_>,
        id: u64,
        record: Option<&Bound<'_, PyAny>>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let c = one(py, "customer", record, fields, records::customer)?;
        self.with(py, move |tx| tx.update_customer(CustomerId(id), &c))
    }

    /// Deletes customer `id` (core refuses if records still refer to it).
    fn delete_customer(&self, py: Python<'_>, id: u64) -> PyResult<()> {
        self.with(py, move |tx| tx.delete_customer(CustomerId(id)))
    }

    /// Inserts a vehicle, optionally with its first owner (`owner`, `since`); returns its id.
    #[pyo3(signature = (record=None, **fields))]
    fn insert_vehicle(
        &self,
        py: Python<'_>,
        record: Option<&Bound<'_, PyAny>>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<u64> {
        let (v, o) = one(py, "vehicle", record, fields, records::vehicle)?;
        self.with(py, move |tx| tx.insert_vehicle(&v, o))
            .map(|i| i.0)
    }

    /// Inserts vehicles from a list of dicts (each may carry `owner` and `since`).
    fn insert_vehicles(&self, py: Python<'_>, records: &Bound<'_, PyAny>) -> PyResult<Vec<u64>> {
        let vs = batch(records, "vehicle", records::vehicle)?;
        self.with(py, move |tx| {
            let mut out = Vec::with_capacity(vs.len());
            for (i, (v, o)) in vs.iter().enumerate() {
                out.push(tx.insert_vehicle(v, *o).map_err(|e| e.at_record(i))?.0);
            }
            Ok(out)
        })
    }

    /// Replaces vehicle `id`'s record (ownership is changed with `transfer_vehicle`).
    #[pyo3(signature = (id, record=None, **fields))]
    fn update_vehicle(
        &self,
        py: Python<'_>,
        id: u64,
        record: Option<&Bound<'_, PyAny>>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let (v, o) = one(py, "vehicle", record, fields, records::vehicle)?;
        if o.is_some() {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "update_vehicle does not take `owner`; use transfer_vehicle",
            ));
        }
        self.with(py, move |tx| tx.update_vehicle(VehicleId(id), &v))
    }

    /// Transfers vehicle `vehicle` to customer `to` on date `on`.
    fn transfer_vehicle(
        &self,
        py: Python<'_>,
        vehicle: u64,
        to: u64,
        on: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let on = Date::from_py(on)?;
        self.with(py, move |tx| {
            tx.transfer_vehicle(VehicleId(vehicle), CustomerId(to), on)
        })
    }

    /// Inserts a touchpoint; returns its id (earning loyalty points if the customer is a member).
    #[pyo3(signature = (record=None, **fields))]
    fn insert_touchpoint(
        &self,
        py: Python<'_>,
        record: Option<&Bound<'_, PyAny>>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<u64> {
        let t = one(py, "touchpoint", record, fields, records::touchpoint)?;
        self.with(py, move |tx| tx.insert_touchpoint(&t))
            .map(|i| i.0)
    }

    /// Inserts touchpoints from a list of dicts; returns their ids.
    fn insert_touchpoints(&self, py: Python<'_>, records: &Bound<'_, PyAny>) -> PyResult<Vec<u64>> {
        let ts = batch(records, "touchpoint", records::touchpoint)?;
        self.with(py, move |tx| tx.insert_touchpoints(&ts))
            .map(|v| ids(v, |i| i.0))
    }

    /// Deletes touchpoint `id`.
    fn delete_touchpoint(&self, py: Python<'_>, id: u64) -> PyResult<()> {
        self.with(py, move |tx| tx.delete_touchpoint(TouchpointId(id)))
    }

    /// Inserts a lead; returns its id.
    #[pyo3(signature = (record=None, **fields))]
    fn insert_lead(
        &self,
        py: Python<'_>,
        record: Option<&Bound<'_, PyAny>>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<u64> {
        let l = one(py, "lead", record, fields, records::lead)?;
        self.with(py, move |tx| tx.insert_lead(&l)).map(|i| i.0)
    }

    /// Inserts leads from a list of dicts.
    fn insert_leads(&self, py: Python<'_>, records: &Bound<'_, PyAny>) -> PyResult<Vec<u64>> {
        let ls = batch(records, "lead", records::lead)?;
        self.with(py, move |tx| tx.insert_leads(&ls))
            .map(|v| ids(v, |i| i.0))
    }

    /// Replaces lead `id`.
    #[pyo3(signature = (id, record=None, **fields))]
    fn update_lead(
        &self,
        py: Python<'_>,
        id: u64,
        record: Option<&Bound<'_, PyAny>>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let l = one(py, "lead", record, fields, records::lead)?;
        self.with(py, move |tx| tx.update_lead(LeadId(id), &l))
    }

    /// Inserts a complaint; returns its id.
    #[pyo3(signature = (record=None, **fields))]
    fn insert_complaint(
        &self,
        py: Python<'_>,
        record: Option<&Bound<'_, PyAny>>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<u64> {
        let c = one(py, "complaint", record, fields, records::complaint)?;
        self.with(py, move |tx| tx.insert_complaint(&c))
            .map(|i| i.0)
    }

    /// Inserts complaints from a list of dicts.
    fn insert_complaints(&self, py: Python<'_>, records: &Bound<'_, PyAny>) -> PyResult<Vec<u64>> {
        let cs = batch(records, "complaint", records::complaint)?;
        self.with(py, move |tx| tx.insert_complaints(&cs))
            .map(|v| ids(v, |i| i.0))
    }

    /// Moves complaint `id` to its next status (received → analysed → resolved → called_back
    /// → closed) at `at`; returns the updated complaint. `to`, if given, must be that next
    /// status (core refuses any other).
    #[pyo3(signature = (id, at, to=None))]
    fn advance_complaint(
        &self,
        py: Python<'_>,
        id: u64,
        at: &Bound<'_, PyAny>,
        to: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Complaint> {
        let to = to.map(ComplaintStatus::from_py).transpose()?;
        let at = DateTime::from_py(at)?;
        let c = self.with(py, move |tx| match to {
            Some(to) => tx.advance_complaint(ComplaintId(id), to, at),
            None => tx.advance_complaint_to_next(ComplaintId(id), at),
        })?;
        Complaint::new(py, ComplaintId(id), &c)
    }

    /// Records the first response to complaint `id` at `at`; returns the updated complaint.
    fn respond_to_complaint(
        &self,
        py: Python<'_>,
        id: u64,
        at: &Bound<'_, PyAny>,
    ) -> PyResult<Complaint> {
        let at = DateTime::from_py(at)?;
        let c = self.with(py, move |tx| tx.respond_to_complaint(ComplaintId(id), at))?;
        Complaint::new(py, ComplaintId(id), &c)
    }

    /// Inserts a survey; returns its id.
    #[pyo3(signature = (record=None, **fields))]
    fn insert_survey(
        &self,
        py: Python<'_>,
        record: Option<&Bound<'_, PyAny>>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<u64> {
        let s = one(py, "survey", record, fields, records::survey)?;
        self.with(py, move |tx| tx.insert_survey(&s)).map(|i| i.0)
    }

    /// Inserts surveys from a list of dicts.
    fn insert_surveys(&self, py: Python<'_>, records: &Bound<'_, PyAny>) -> PyResult<Vec<u64>> {
        let ss = batch(records, "survey", records::survey)?;
        self.with(py, move |tx| tx.insert_surveys(&ss))
            .map(|v| ids(v, |i| i.0))
    }

    /// Relates two customers (`kind`: relative, contact, referred_by, decision_maker,
    /// purchaser, driver).
    fn relate(&self, py: Python<'_>, from_: u64, kind: &Bound<'_, PyAny>, to: u64) -> PyResult<()> {
        let k = RelationKind::from_py(kind)?;
        self.with(py, move |tx| {
            tx.relate(CustomerId(from_), k, CustomerId(to))
        })
    }

    /// Removes a relation; returns whether it existed.
    fn unrelate(
        &self,
        py: Python<'_>,
        from_: u64,
        kind: &Bound<'_, PyAny>,
        to: u64,
    ) -> PyResult<bool> {
        let k = RelationKind::from_py(kind)?;
        self.with(py, move |tx| {
            tx.unrelate(CustomerId(from_), k, CustomerId(to))
        })
    }

    /// Records a marketing-consent grant or withdrawal.
    #[pyo3(signature = (customer, record=None, **fields))]
    fn record_consent(
        &self,
        py: Python<'_>,
        customer: u64,
        record: Option<&Bound<'_, PyAny>>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let e = one(py, "consent", record, fields, records::consent)?;
        self.with(py, move |tx| tx.record_consent(CustomerId(customer), &e))
    }

    /// Stores the club configuration: a `LoyaltyConfig`, a dict or keyword arguments (keys
    /// as in `LoyaltyConfig.to_dict()`; keyword arguments override the first argument's
    /// keys; keys not given take core's default). No argument: core's default.
    #[pyo3(signature = (config=None, **fields))]
    fn set_loyalty_config(
        &self,
        py: Python<'_>,
        config: Option<&Bound<'_, PyAny>>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let c = loyalty_config_arg(py, config, fields)?;
        self.with(py, move |tx| tx.set_loyalty_config(&c))
    }

    /// Enrols a customer in the brand club on `on`.
    #[pyo3(signature = (customer, on, source="app"))]
    fn join_brand_club(
        &self,
        py: Python<'_>,
        customer: u64,
        on: &Bound<'_, PyAny>,
        source: &str,
    ) -> PyResult<Membership> {
        let on = Date::from_py(on)?;
        let source = source.to_string();
        let m = self.with(py, move |tx| {
            tx.join_brand_club(CustomerId(customer), on, &source)
        })?;
        Membership::new(py, &m)
    }

    /// Enrols a customer in `dealer`'s club (and the brand club) on `on`.
    #[pyo3(signature = (customer, dealer, on, source="app"))]
    fn join_dealer_club(
        &self,
        py: Python<'_>,
        customer: u64,
        dealer: u32,
        on: &Bound<'_, PyAny>,
        source: &str,
    ) -> PyResult<Membership> {
        let on = Date::from_py(on)?;
        let source = source.to_string();
        let m = self.with(py, move |tx| {
            tx.join_dealer_club(CustomerId(customer), DealerId(dealer), on, &source)
        })?;
        Membership::new(py, &m)
    }

    /// Redeems points (customer, points, at, item, key, wallet="brand", dealer=None); returns
    /// the posting id. A retry with the same key returns the same posting.
    #[pyo3(signature = (record=None, **fields))]
    fn redeem(
        &self,
        py: Python<'_>,
        record: Option<&Bound<'_, PyAny>>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<u64> {
        let r = one(py, "redemption", record, fields, records::redemption)?;
        self.with(py, move |tx| tx.redeem(&r))
    }

    /// Operator adjustment (customer, points (signed), at, operator, reason, key,
    /// wallet="brand"); returns the posting id.
    #[pyo3(signature = (record=None, **fields))]
    fn adjust(
        &self,
        py: Python<'_>,
        record: Option<&Bound<'_, PyAny>>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<u64> {
        let a = one(py, "adjustment", record, fields, records::adjustment)?;
        self.with(py, move |tx| tx.adjust(&a))
    }

    /// Reverses a credit (credit, at, operator, reason, key); returns the posting id.
    #[pyo3(signature = (record=None, **fields))]
    fn reverse(
        &self,
        py: Python<'_>,
        record: Option<&Bound<'_, PyAny>>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<u64> {
        let r = one(py, "reversal", record, fields, records::reversal)?;
        self.with(py, move |tx| tx.reverse(&r))
    }

    /// Expires every lot due on or before `as_of`.
    fn expire_lots(&self, py: Python<'_>, as_of: &Bound<'_, PyAny>) -> PyResult<ExpiryReport> {
        let d = Date::from_py(as_of)?;
        let r = self.with(py, move |tx| tx.expire_lots(d))?;
        ExpiryReport::new(py, &r)
    }

    /// Sets an operator tier floor (tier, from_, operator, reason, until=None).
    #[pyo3(signature = (customer, record=None, **fields))]
    fn set_tier_floor(
        &self,
        py: Python<'_>,
        customer: u64,
        record: Option<&Bound<'_, PyAny>>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let f = one(py, "floor", record, fields, records::floor)?;
        self.with(py, move |tx| tx.set_tier_floor(CustomerId(customer), &f))
    }

    /// Records tier changes as of `as_of`; returns [(customer, TierChange)].
    fn review_tiers(
        &self,
        py: Python<'_>,
        as_of: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<(u64, TierChange)>> {
        let d = Date::from_py(as_of)?;
        let v = self.with(py, move |tx| tx.review_tiers(d))?;
        v.iter()
            .map(|(c, ch)| Ok((c.0, TierChange::new(py, ch)?)))
            .collect()
    }

    /// Saves a new version of segment `name` (rule checked now); returns the version number.
    #[pyo3(signature = (name, definition, saved=None))]
    fn save_segment(
        &self,
        py: Python<'_>,
        name: String,
        definition: String,
        saved: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<usize> {
        // Default: now by the database's clock (core `WriteTxn::now`), never Python's local
        // clock, so every front end stamps the same file alike.
        let saved = match saved {
            Some(s) if !s.is_none() => Some(DateTime::from_py(s)?),
            _ => None,
        };
        self.with(py, move |tx| {
            let at = saved.unwrap_or_else(|| tx.now());
            tx.save_segment(&name, &definition, at)
        })
    }

    /// Evaluates saved segment `name` as of `as_of` and stores its members. The facts are read
    /// from the last committed state (a fresh snapshot), not from this transaction's writes.
    fn materialise_segment(
        &self,
        py: Python<'_>,
        name: String,
        as_of: &Bound<'_, PyAny>,
    ) -> PyResult<PyCustomerSet> {
        let d = Date::from_py(as_of)?;
        let set = detach(py, || self.0.materialise_segment(&name, d)).py()?;
        Ok(PyCustomerSet(Arc::new(set)))
    }
}

// ---------------------------------------------------------------------------------------------
// Read transactions

/// A read transaction: a consistent snapshot that never blocks writers. Analytics (evaluate,
/// kpi, due_actions, escalations) load the facts snapshot once per ReadTxn and reuse it (core's
/// `api::ReadSession`).
#[pyclass(frozen, module = "autocrm._native", name = "ReadTxn")]
struct PyReadTxn(ReadSession);

impl PyReadTxn {
    /// Runs `f` on the snapshot without the GIL.
    fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&ReadTxn) -> autocrm::Result<T> + Send,
    ) -> PyResult<T> {
        detach(py, || self.0.with(f)).py()
    }

    /// Runs `f` on the snapshot and its facts without the GIL.
    fn with_facts<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&ReadTxn, &Facts) -> autocrm::Result<T> + Send,
    ) -> PyResult<T> {
        detach(py, || self.0.with_facts(f)).py()
    }
}

/// A timeline page's `before` argument: the previous page's `next`, `(datetime, id)`, or None.
fn cursor_arg(before: Option<&Bound<'_, PyAny>>) -> PyResult<Option<TimelineCursor>> {
    match before {
        Some(b) if !b.is_none() => {
            let (at, id): (Bound<'_, PyAny>, u64) = b.extract()?;
            Ok(Some(TimelineCursor {
                at: DateTime::from_py(&at)?,
                id: TouchpointId(id),
            }))
        }
        _ => Ok(None),
    }
}

fn opt_dealer(o: Option<&Bound<'_, PyAny>>) -> PyResult<Option<DealerId>> {
    match o {
        Some(v) => Option::<DealerId>::from_py(v),
        None => Ok(None),
    }
}

#[pymethods]
impl PyReadTxn {
    /// Releases the snapshot (idempotent).
    fn close(&self) {
        self.0.close();
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, PyTuple>) -> bool {
        self.close();
        false
    }

    /// Customer `id`.
    fn customer(&self, py: Python<'_>, id: u64) -> PyResult<Customer> {
        let c = self.with(py, |r| r.customer(CustomerId(id)))?;
        Customer::new(py, CustomerId(id), &c)
    }

    /// Dealer `id`.
    fn dealer(&self, py: Python<'_>, id: u32) -> PyResult<Dealer> {
        let d = self.with(py, |r| r.dealer(DealerId(id)))?;
        Dealer::new(py, DealerId(id), &d)
    }

    /// The id of the dealer with `code`, or None.
    fn dealer_by_code(&self, py: Python<'_>, code: String) -> PyResult<Option<u32>> {
        Ok(self.with(py, |r| r.dealer_by_code(&code))?.map(|d| d.0))
    }

    /// Every dealer.
    fn dealers(&self, py: Python<'_>) -> PyResult<Vec<Dealer>> {
        let v = self.with(py, |r| r.dealers())?;
        v.iter().map(|(id, d)| Dealer::new(py, *id, d)).collect()
    }

    /// Vehicle `id`, with its ownership history.
    fn vehicle(&self, py: Python<'_>, id: u64) -> PyResult<Vehicle> {
        let (v, h) = self.with(py, |r| {
            Ok((r.vehicle(VehicleId(id))?, r.ownership(VehicleId(id))?))
        })?;
        Vehicle::new(py, VehicleId(id), &v, &h)
    }

    /// Touchpoint `id`.
    fn touchpoint(&self, py: Python<'_>, id: u64) -> PyResult<Touchpoint> {
        let t = self.with(py, |r| r.touchpoint(TouchpointId(id)))?;
        Touchpoint::new(py, TouchpointId(id), &t)
    }

    /// Lead `id`.
    fn lead(&self, py: Python<'_>, id: u64) -> PyResult<Lead> {
        let l = self.with(py, |r| r.lead(LeadId(id)))?;
        Lead::new(py, LeadId(id), &l)
    }

    /// Complaint `id`.
    fn complaint(&self, py: Python<'_>, id: u64) -> PyResult<Complaint> {
        let c = self.with(py, |r| r.complaint(ComplaintId(id)))?;
        Complaint::new(py, ComplaintId(id), &c)
    }

    /// Survey `id`.
    fn survey(&self, py: Python<'_>, id: u64) -> PyResult<Survey> {
        let s = self.with(py, |r| r.survey(SurveyId(id)))?;
        Survey::new(py, SurveyId(id), &s)
    }

    /// The customer with this national ID, or None.
    fn customer_by_national_id(
        &self,
        py: Python<'_>,
        national_id: String,
    ) -> PyResult<Option<u64>> {
        Ok(self
            .with(py, |r| r.customer_by_national_id(&national_id))?
            .map(|c| c.0))
    }

    /// The organisation with this unified social credit code, or None.
    fn customer_by_credit_code(
        &self,
        py: Python<'_>,
        credit_code: String,
    ) -> PyResult<Option<u64>> {
        Ok(self
            .with(py, |r| r.customer_by_credit_code(&credit_code))?
            .map(|c| c.0))
    }

    /// Customers with this phone (phones are shared within families).
    fn customers_by_phone(&self, py: Python<'_>, phone: String) -> PyResult<Vec<u64>> {
        Ok(ids(self.with(py, |r| r.customers_by_phone(&phone))?, |c| {
            c.0
        }))
    }

    /// The vehicle with this VIN, or None.
    fn vehicle_by_vin(&self, py: Python<'_>, vin: String) -> PyResult<Option<u64>> {
        Ok(self.with(py, |r| r.vehicle_by_vin(&vin))?.map(|v| v.0))
    }

    /// The vehicle with this plate, or None.
    fn vehicle_by_plate(&self, py: Python<'_>, plate: String) -> PyResult<Option<u64>> {
        Ok(self.with(py, |r| r.vehicle_by_plate(&plate))?.map(|v| v.0))
    }

    /// Customers matching any key a call centre has: id ("C123"), national ID, credit code,
    /// VIN, mobile phone or plate. An unrecognised key finds nobody.
    fn find_customers(&self, py: Python<'_>, key: String) -> PyResult<Vec<u64>> {
        let Some(k) = CustomerKey::parse(&key) else {
            return Ok(Vec::new());
        };
        Ok(ids(self.with(py, |r| r.find_customers(&k))?, |c| c.0))
    }

    /// The vehicles customer `customer` owns or owned.
    fn vehicles_of(&self, py: Python<'_>, customer: u64) -> PyResult<Vec<Vehicle>> {
        let v = self.with(py, |r| r.vehicles_of(CustomerId(customer)))?;
        v.iter().map(|o| Vehicle::owned(py, o)).collect()
    }

    /// The customer's leads.
    fn leads_of(&self, py: Python<'_>, customer: u64) -> PyResult<Vec<Lead>> {
        let v = self.with(py, |r| r.leads_of(CustomerId(customer)))?;
        v.iter().map(|(i, l)| Lead::new(py, *i, l)).collect()
    }

    /// The customer's complaints.
    fn complaints_of(&self, py: Python<'_>, customer: u64) -> PyResult<Vec<Complaint>> {
        let v = self.with(py, |r| r.complaints_of(CustomerId(customer)))?;
        v.iter().map(|(i, c)| Complaint::new(py, *i, c)).collect()
    }

    /// The customer's surveys.
    fn surveys_of(&self, py: Python<'_>, customer: u64) -> PyResult<Vec<Survey>> {
        let v = self.with(py, |r| r.surveys_of(CustomerId(customer)))?;
        v.iter().map(|(i, s)| Survey::new(py, *i, s)).collect()
    }

    /// Relations from and to the customer.
    fn relations_of(&self, py: Python<'_>, customer: u64) -> PyResult<Vec<Relation>> {
        let v = self.with(py, |r| r.relations_of(CustomerId(customer)))?;
        v.iter().map(|x| Relation::new(py, x)).collect()
    }

    /// The customer's consent history.
    fn consents(&self, py: Python<'_>, customer: u64) -> PyResult<Vec<ConsentEvent>> {
        let v = self.with(py, |r| r.consents(CustomerId(customer)))?;
        v.0.iter().map(|e| ConsentEvent::new(py, e)).collect()
    }

    /// The customer's rollup.
    fn rollup(&self, py: Python<'_>, customer: u64) -> PyResult<Rollup> {
        let v = self.with(py, |r| r.rollup(CustomerId(customer)))?;
        Rollup::new(py, &v)
    }

    /// A page of the customer's timeline, newest first; `before` is the previous page's `next`.
    #[pyo3(signature = (customer, limit=50, before=None))]
    fn timeline(
        &self,
        py: Python<'_>,
        customer: u64,
        limit: usize,
        before: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<TimelinePage> {
        let cursor = cursor_arg(before)?;
        let p = self.with(py, |r| r.timeline(CustomerId(customer), cursor, limit))?;
        TimelinePage::new(py, &p)
    }

    /// The 360° view of a customer.
    #[pyo3(signature = (customer, timeline_limit=20))]
    fn customer_360(
        &self,
        py: Python<'_>,
        customer: u64,
        timeline_limit: usize,
    ) -> PyResult<Customer360> {
        let v = self.with(py, |r| r.customer_360(CustomerId(customer), timeline_limit))?;
        Customer360::new(py, &v)
    }

    /// Number of customers.
    fn customer_count(&self, py: Python<'_>) -> PyResult<u64> {
        self.with(py, |r| r.customer_count())
    }

    /// Number of vehicles.
    fn vehicle_count(&self, py: Python<'_>) -> PyResult<u64> {
        self.with(py, |r| r.vehicle_count())
    }

    /// Number of touchpoints.
    fn touchpoint_count(&self, py: Python<'_>) -> PyResult<u64> {
        self.with(py, |r| r.touchpoint_count())
    }

    /// Every customer id, ascending.
    fn customer_ids(&self, py: Python<'_>) -> PyResult<Vec<u64>> {
        Ok(ids(self.with(py, |r| r.customer_ids())?, |c| c.0))
    }

    // -- loyalty

    /// The stored club configuration, or the default.
    fn loyalty_config(&self, py: Python<'_>) -> PyResult<PyLoyaltyConfig> {
        Ok(PyLoyaltyConfig(
            self.with(py, |r| r.loyalty_config())?.unwrap_or_default(),
        ))
    }

    /// The customer's membership, or None.
    fn membership(&self, py: Python<'_>, customer: u64) -> PyResult<Option<Membership>> {
        let m = self.with(py, |r| r.membership(CustomerId(customer)))?;
        m.map(|m| Membership::new(py, &m)).transpose()
    }

    /// A wallet's balance ("brand" or a dealer id).
    #[pyo3(signature = (customer, wallet=None))]
    fn balance(
        &self,
        py: Python<'_>,
        customer: u64,
        wallet: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Balance> {
        let w = wallet_arg(wallet)?;
        let b = self.with(py, |r| r.balance(CustomerId(customer), w))?;
        Balance::new(py, &b)
    }

    /// Every wallet of the customer with its balance.
    fn wallets_of(&self, py: Python<'_>, customer: u64) -> PyResult<Vec<(Py<PyAny>, Balance)>> {
        let v = self.with(py, |r| r.wallets_of(CustomerId(customer)))?;
        v.iter()
            .map(|(w, b)| Ok((w.to_py(py)?, Balance::new(py, b)?)))
            .collect()
    }

    /// Points spendable on `on` (lots not yet expired).
    #[pyo3(signature = (customer, on, wallet=None))]
    fn spendable(
        &self,
        py: Python<'_>,
        customer: u64,
        on: &Bound<'_, PyAny>,
        wallet: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<i64> {
        let w = wallet_arg(wallet)?;
        let on = Date::from_py(on)?;
        self.with(py, |r| r.spendable(CustomerId(customer), w, on))
    }

    /// The customer's postings, oldest first.
    fn postings_of(&self, py: Python<'_>, customer: u64) -> PyResult<Vec<Posting>> {
        let v = self.with(py, |r| r.postings_of(CustomerId(customer)))?;
        v.iter().map(|(i, p)| Posting::new(py, *i, p)).collect()
    }

    /// Posting `id`.
    fn posting(&self, py: Python<'_>, id: u64) -> PyResult<Posting> {
        let p = self.with(py, |r| r.posting(id))?;
        Posting::new(py, id, &p)
    }

    /// The posting made with idempotency key `key`, or None.
    fn posting_by_key(&self, py: Python<'_>, key: String) -> PyResult<Option<Posting>> {
        let p = self.with(py, |r| r.posting_by_key(&key))?;
        p.map(|(i, p)| Posting::new(py, i, &p)).transpose()
    }

    /// The customer's tier as of `as_of`, and why.
    fn tier_status(
        &self,
        py: Python<'_>,
        customer: u64,
        as_of: &Bound<'_, PyAny>,
    ) -> PyResult<TierStatus> {
        let d = Date::from_py(as_of)?;
        let s = self.with(py, |r| r.tier_status(CustomerId(customer), d))?;
        TierStatus::new(py, &s)
    }

    /// The customer's recorded tier changes.
    fn tier_history(&self, py: Python<'_>, customer: u64) -> PyResult<Vec<TierChange>> {
        let h = self.with(py, |r| r.tier_history(CustomerId(customer)))?;
        h.changes.iter().map(|c| TierChange::new(py, c)).collect()
    }

    /// The benefits of the customer's tier on `as_of`.
    fn benefits(
        &self,
        py: Python<'_>,
        customer: u64,
        as_of: &Bound<'_, PyAny>,
    ) -> PyResult<Benefits> {
        let d = Date::from_py(as_of)?;
        let b = self.with(py, |r| r.benefits(CustomerId(customer), d))?;
        Benefits::new(py, &b)
    }

    /// Dealer-to-dealer settlement for redemptions in [from_, to).
    fn settlement(
        &self,
        py: Python<'_>,
        from_: &Bound<'_, PyAny>,
        to: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<SettlementLine>> {
        let (f, t) = (Date::from_py(from_)?, Date::from_py(to)?);
        let v = self.with(py, |r| r.settlement(f, t))?;
        v.iter().map(|s| SettlementLine::new(py, s)).collect()
    }

    /// Recomputes every balance from postings and lots; `ok` if they agree.
    fn verify_ledger(&self, py: Python<'_>) -> PyResult<LedgerCheck> {
        let c = self.with(py, |r| r.verify_ledger())?;
        LedgerCheck::new(py, &c)
    }

    // -- segments, KPIs, care

    /// Checks a segment rule (raises RuleError with line and column).
    fn parse_rule(&self, py: Python<'_>, rule_text: String) -> PyResult<()> {
        self.with(py, |r| r.parse_rule(&rule_text).map(|_| ()))
    }

    /// The customers matching `rule_text` as of `as_of`.
    fn evaluate(
        &self,
        py: Python<'_>,
        rule_text: String,
        as_of: &Bound<'_, PyAny>,
    ) -> PyResult<PyCustomerSet> {
        let d = Date::from_py(as_of)?;
        let s = self.with_facts(py, |r, f| r.evaluate(&rule_text, d, f))?;
        Ok(PyCustomerSet(Arc::new(s)))
    }

    /// The members of saved segment `name` as of `as_of`.
    fn evaluate_segment(
        &self,
        py: Python<'_>,
        name: String,
        as_of: &Bound<'_, PyAny>,
    ) -> PyResult<PyCustomerSet> {
        let d = Date::from_py(as_of)?;
        let s = self.with_facts(py, |r, f| r.evaluate_segment(&name, d, f))?;
        Ok(PyCustomerSet(Arc::new(s)))
    }

    /// Every version of saved segment `name`, or None.
    fn segment(&self, py: Python<'_>, name: String) -> PyResult<Option<Vec<SegmentVersion>>> {
        let s = self.with(py, |r| r.segment(&name))?;
        s.map(|s| {
            s.versions
                .iter()
                .map(|v| {
                    Ok(SegmentVersion {
                        saved: v.saved.to_py(py)?,
                        definition: v.definition.to_py(py)?,
                    })
                })
                .collect()
        })
        .transpose()
    }

    /// Names of the saved segments.
    fn segment_names(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        self.with(py, |r| r.segment_names())
    }

    /// The members of `name` materialised for `as_of`, or None.
    fn materialised(
        &self,
        py: Python<'_>,
        name: String,
        as_of: &Bound<'_, PyAny>,
    ) -> PyResult<Option<PyCustomerSet>> {
        let d = Date::from_py(as_of)?;
        let s = self.with(py, |r| r.materialised(&name, d))?;
        Ok(s.map(|s| PyCustomerSet(Arc::new(s))))
    }

    /// Who entered and left materialised segment `name` between two dates.
    fn segment_diff(
        &self,
        py: Python<'_>,
        name: String,
        from_: &Bound<'_, PyAny>,
        to: &Bound<'_, PyAny>,
    ) -> PyResult<PySegmentDiff> {
        let (f, t) = (Date::from_py(from_)?, Date::from_py(to)?);
        let d = self.with(py, |r| r.segment_diff(&name, f, t))?;
        Ok(PySegmentDiff {
            entered: PyCustomerSet(Arc::new(d.entered)),
            left: PyCustomerSet(Arc::new(d.left)),
        })
    }

    /// KPI `name` by dimension `by` for `period` ("2025", "2025-H1", "2025-Q3", "2025-07" or
    /// (from, to)).
    #[pyo3(signature = (name, period, by="network"))]
    fn kpi(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        period: &Bound<'_, PyAny>,
        by: &str,
    ) -> PyResult<PyKpiTable> {
        let k = Kpi::from_py(name)?;
        let dim = conv::named_from_py::<Dimension>(&by.into_pyobject(py)?.into_any())?;
        let p: Period = period_from_py(period)?;
        let rows = self.with_facts(py, |_, f| Ok(f.kpi(k, dim, p)))?;
        Ok(PyKpiTable(Arc::new(rows)))
    }

    /// Care actions due on days from_ ≤ d < to, optionally for one dealer. Keyword
    /// arguments named like core's `CareParams` fields (e.g. `insurance_lead_days=45`,
    /// `holidays=[(date, name)]`) replace core's defaults for this call.
    #[pyo3(signature = (from_, to, dealer=None, **params))]
    fn due_actions(
        &self,
        py: Python<'_>,
        from_: &Bound<'_, PyAny>,
        to: &Bound<'_, PyAny>,
        dealer: Option<&Bound<'_, PyAny>>,
        params: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Vec<CareAction>> {
        let (f, t) = (Date::from_py(from_)?, Date::from_py(to)?);
        let d = opt_dealer(dealer)?;
        let p = one(py, "care parameters", None, params, params::care_params)?;
        let v = self.with_facts(py, |_, facts| {
            Ok(autocrm::due_actions_with(facts, f, t, d, &p))
        })?;
        v.iter().map(|a| CareAction::new(py, a)).collect()
    }

    /// Complaint escalations as of `as_of`. Keyword arguments named like core's
    /// `EscalationParams` fields (`month_days`, `month_limit`, `quarter_days`,
    /// `quarter_limit`) replace core's defaults for this call.
    #[pyo3(signature = (as_of, **params))]
    fn complaint_escalations(
        &self,
        py: Python<'_>,
        as_of: &Bound<'_, PyAny>,
        params: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Vec<Escalation>> {
        let d = Date::from_py(as_of)?;
        let p = one(
            py,
            "escalation parameters",
            None,
            params,
            params::escalation_params,
        )?;
        let v = self.with(py, |r| r.complaint_escalations_with(d, &p))?;
        v.iter().map(|e| Escalation::new(py, e)).collect()
    }

    // -- Arrow tables

    /// Every customer as an Arrow table. `threads`: how many threads decode the records (by
    /// default one per 50,000 customers, at most the CPUs available and 8); the table then has
    /// one record batch per thread, in id order.
    #[pyo3(signature = (threads=None))]
    fn customers_table(&self, py: Python<'_>, threads: Option<usize>) -> PyResult<arrow::Table> {
        let batches = self.with(py, |r| export::customers(r, threads))?;
        Ok(arrow::Table::chunked(batches))
    }

    /// Every vehicle as an Arrow table (with the current owner).
    fn vehicles_table(&self, py: Python<'_>) -> PyResult<arrow::Table> {
        Ok(arrow::Table::new(self.with(py, export::vehicles)?))
    }

    /// Touchpoints as an Arrow table: one customer's, or everyone's.
    #[pyo3(signature = (customer=None))]
    fn touchpoints_table(&self, py: Python<'_>, customer: Option<u64>) -> PyResult<arrow::Table> {
        let c = customer.map(CustomerId);
        Ok(arrow::Table::new(
            self.with(py, |r| export::touchpoints(r, c))?,
        ))
    }

    /// Ledger postings as an Arrow table: one customer's, or everyone's.
    #[pyo3(signature = (customer=None))]
    fn postings_table(&self, py: Python<'_>, customer: Option<u64>) -> PyResult<arrow::Table> {
        let c = customer.map(CustomerId);
        Ok(arrow::Table::new(
            self.with(py, |r| export::postings(r, c))?,
        ))
    }

    /// Every ownership period of every vehicle as an Arrow table: one row per (vehicle,
    /// owner, from, to), so trade-ins and resales show every owner, not only the current one.
    fn ownership_table(&self, py: Python<'_>) -> PyResult<arrow::Table> {
        Ok(arrow::Table::new(self.with(py, export::ownership)?))
    }

    /// Every lead as an Arrow table.
    fn leads_table(&self, py: Python<'_>) -> PyResult<arrow::Table> {
        Ok(arrow::Table::new(self.with(py, export::leads)?))
    }

    /// Every complaint as an Arrow table, with the time of each workflow step.
    fn complaints_table(&self, py: Python<'_>) -> PyResult<arrow::Table> {
        Ok(arrow::Table::new(self.with(py, export::complaints)?))
    }

    /// Every survey as an Arrow table: a score column per factor and the weighted index.
    fn surveys_table(&self, py: Python<'_>) -> PyResult<arrow::Table> {
        Ok(arrow::Table::new(self.with(py, export::surveys)?))
    }

    /// Each customer's home dealer on `on` — the dealer per-dealer KPIs count him at (the
    /// dealer of his latest service visit, else of his latest vehicle's sale, else of his
    /// latest contact) — as an Arrow table of `customer`, `home_dealer`.
    fn home_dealers_table(&self, py: Python<'_>, on: &Bound<'_, PyAny>) -> PyResult<arrow::Table> {
        let d = Date::from_py(on)?;
        let batch = self.with_facts(py, move |_, facts| export::home_dealers_of(facts, d))?;
        Ok(arrow::Table::new(batch))
    }

    /// The dealer per-dealer KPIs count customer `customer` at on `on` (see
    /// `home_dealers_table`), or None.
    fn home_dealer(
        &self,
        py: Python<'_>,
        customer: u64,
        on: &Bound<'_, PyAny>,
    ) -> PyResult<Option<u32>> {
        let d = Date::from_py(on)?;
        let id = CustomerId(customer);
        let found = self.with_facts(py, move |_, facts| facts.home_dealer(id, d))?;
        Ok(found.map(|d| d.0))
    }
}

fn wallet_arg(w: Option<&Bound<'_, PyAny>>) -> PyResult<Wallet> {
    match w {
        Some(v) if !v.is_none() => Wallet::from_py(v),
        _ => Ok(Wallet::Brand),
    }
}

// ---------------------------------------------------------------------------------------------
// Analytics results

/// A set of customer ids (segment members): `len`, iteration in ascending order, `in`, `&`,
/// `|`, `-`, and Arrow export (one `customer_id` uint64 column).
#[pyclass(frozen, module = "autocrm", name = "CustomerSet")]
#[derive(Clone)]
struct PyCustomerSet(Arc<CustomerSet>);

arrow::arrow_methods!(PyCustomerSet, export::members);

#[pymethods]
impl PyCustomerSet {
    fn __len__(&self) -> usize {
        self.0.len() as usize
    }

    fn __contains__(&self, id: u64) -> bool {
        self.0.contains(CustomerId(id))
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        PyList::new(py, self.to_list())?
            .into_any()
            .try_iter()
            .map(|i| i.into_any())
    }

    /// The ids, ascending.
    fn to_list(&self) -> Vec<u64> {
        self.0.iter().map(|c| c.0).collect()
    }

    fn __and__(&self, other: &Self) -> Self {
        PyCustomerSet(Arc::new(self.0.and(&other.0)))
    }

    fn __or__(&self, other: &Self) -> Self {
        PyCustomerSet(Arc::new(self.0.or(&other.0)))
    }

    fn __sub__(&self, other: &Self) -> Self {
        PyCustomerSet(Arc::new(self.0.minus(&other.0)))
    }

    fn __eq__(&self, other: &Self) -> bool {
        self.0.len() == other.0.len() && self.0.iter().eq(other.0.iter())
    }

    fn __repr__(&self) -> String {
        format!("autocrm.CustomerSet({} customers)", self.0.len())
    }
}

/// Who entered and who left a segment between two dates.
#[pyclass(frozen, get_all, module = "autocrm", name = "SegmentDiff")]
struct PySegmentDiff {
    /// Customers in the segment at `to` but not at `from_`.
    entered: PyCustomerSet,
    /// Customers in the segment at `from_` but not at `to`.
    left: PyCustomerSet,
}

#[pymethods]
impl PySegmentDiff {
    fn __repr__(&self) -> String {
        format!(
            "autocrm.SegmentDiff(entered={}, left={})",
            self.entered.0.len(),
            self.left.0.len()
        )
    }
}

/// KPI rows: a sequence of `KpiRow` (len, index, iteration) and an Arrow table.
#[pyclass(frozen, module = "autocrm", name = "KpiTable")]
struct PyKpiTable(Arc<Vec<autocrm::KpiRow>>);

arrow::arrow_methods!(PyKpiTable, |rows: &Vec<autocrm::KpiRow>| export::kpi_rows(
    rows
));

#[pymethods]
impl PyKpiTable {
    fn __len__(&self) -> usize {
        self.0.len()
    }

    fn __getitem__(&self, py: Python<'_>, i: isize) -> PyResult<KpiRow> {
        let n = self.0.len() as isize;
        let j = if i < 0 { i + n } else { i };
        if j < 0 || j >= n {
            return Err(PyIndexError::new_err("KPI row index out of range"));
        }
        KpiRow::new(py, &self.0[j as usize])
    }

    /// The rows as a list of KpiRow.
    fn rows(&self, py: Python<'_>) -> PyResult<Vec<KpiRow>> {
        self.0.iter().map(|r| KpiRow::new(py, r)).collect()
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        PyList::new(py, self.rows(py)?)?
            .into_any()
            .try_iter()
            .map(|i| i.into_any())
    }

    fn __repr__(&self) -> String {
        format!("autocrm.KpiTable({} rows)", self.0.len())
    }
}

/// The club configuration (earning rules, tier multipliers, lot lifetime, tier thresholds,
/// benefits, settlement rate). Build one from a dict or keyword arguments
/// (`LoyaltyConfig(lot_days=365)`; keys as in `to_dict()`, keys not given take core's default,
/// core validates); `repr` shows every setting.
#[pyclass(frozen, eq, module = "autocrm", name = "LoyaltyConfig")]
#[derive(PartialEq)]
struct PyLoyaltyConfig(LoyaltyConfig);

/// A `LoyaltyConfig`, a dict and/or keyword arguments as one core configuration.
fn loyalty_config_arg(
    py: Python<'_>,
    config: Option<&Bound<'_, PyAny>>,
    fields: Option<&Bound<'_, PyDict>>,
) -> PyResult<LoyaltyConfig> {
    let base = match config {
        Some(c) if !c.is_none() => match c.cast::<PyLoyaltyConfig>() {
            Ok(c) if fields.is_none_or(|f| f.is_empty()) => return Ok(c.get().0.clone()),
            Ok(c) => Some(params::loyalty_config_dict(py, &c.get().0)?.into_any()),
            Err(_) => Some(c.clone()),
        },
        _ => None,
    };
    let c = one(
        py,
        "loyalty config",
        base.as_ref(),
        fields,
        params::loyalty_config,
    )?;
    c.validate()
        .map_err(|e| to_py(autocrm::Error::Validation(e)))?;
    Ok(c)
}

#[pymethods]
impl PyLoyaltyConfig {
    /// A configuration from a dict and/or keyword arguments; keys not given take core's
    /// default. Raises ValidationError if core refuses it.
    #[new]
    #[pyo3(signature = (config=None, **fields))]
    fn new(
        py: Python<'_>,
        config: Option<&Bound<'_, PyAny>>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        loyalty_config_arg(py, config, fields).map(PyLoyaltyConfig)
    }

    /// Core's default configuration.
    #[staticmethod]
    fn default() -> Self {
        PyLoyaltyConfig(LoyaltyConfig::default())
    }

    /// Every setting as a dict (the shape the constructor and `set_loyalty_config` take).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        params::loyalty_config_dict(py, &self.0)
    }

    /// A copy with the given keys changed (the others kept from this configuration).
    #[pyo3(signature = (**fields))]
    fn replace(&self, py: Python<'_>, fields: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let base = params::loyalty_config_dict(py, &self.0)?.into_any();
        loyalty_config_arg(py, Some(&base), fields).map(PyLoyaltyConfig)
    }

    /// Days a lot of earned points stays valid.
    #[getter]
    fn lot_days(&self) -> u32 {
        self.0.lot_days
    }

    /// Tier qualification window in days.
    #[getter]
    fn tier_window_days(&self) -> u32 {
        self.0.tier_window_days
    }

    /// Downgrade grace period in days.
    #[getter]
    fn downgrade_grace_days(&self) -> u32 {
        self.0.downgrade_grace_days
    }

    /// Names of the earning rules.
    #[getter]
    fn rule_names(&self) -> Vec<String> {
        self.0.rules.iter().map(|r| r.name.clone()).collect()
    }

    fn __repr__(&self) -> String {
        format!("autocrm.LoyaltyConfig({:?})", self.0)
    }
}

// ---------------------------------------------------------------------------------------------
// Synthetic data

/// Generates a seeded synthetic dealer network and loads it into `db` (GIL released).
/// Returns the counts written.
#[pyfunction]
#[pyo3(signature = (db, customers=1000, seed=42, dealers=None, as_of=None, years=5, batch=1000))]
#[allow(clippy::too_many_arguments)]
fn synth_generate<'py>(
    py: Python<'py>,
    db: &PyDatabase,
    customers: usize,
    seed: u64,
    dealers: Option<usize>,
    as_of: Option<&Bound<'py, PyAny>>,
    years: u32,
    batch: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let mut cfg = SynthConfig::new(customers);
    cfg.seed = seed;
    if let Some(d) = dealers {
        cfg.dealers = d;
    }
    if let Some(a) = as_of {
        if !a.is_none() {
            cfg.as_of = Date::from_py(a)?;
        }
    }
    cfg.years = years;
    let database = db.store.database_for_writing().py()?;
    let stats = detach(py, move || {
        Network::new(cfg).load(&database, batch.max(1), |_| {})
    })
    .py()?;
    let d = PyDict::new(py);
    d.set_item("dealers", stats.dealers)?;
    d.set_item("customers", stats.customers)?;
    d.set_item("vehicles", stats.vehicles)?;
    d.set_item("transfers", stats.transfers)?;
    d.set_item("touchpoints", stats.touchpoints)?;
    d.set_item("leads", stats.leads)?;
    d.set_item("complaints", stats.complaints)?;
    d.set_item("surveys", stats.surveys)?;
    d.set_item("relations", stats.relations)?;
    d.set_item("records", stats.records())?;
    Ok(d)
}

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    types::register(m)?;
    integration::register(m)?;
    access::register(m)?;
    sync::register(m)?;
    m.add_class::<PyDatabase>()?;
    m.add_class::<PyWriteTxn>()?;
    m.add_class::<PyReadTxn>()?;
    m.add_class::<PyCustomerSet>()?;
    m.add_class::<PySegmentDiff>()?;
    m.add_class::<PyKpiTable>()?;
    m.add_class::<PyLoyaltyConfig>()?;
    m.add_class::<arrow::Table>()?;
    m.add_function(wrap_pyfunction!(synth_generate, m)?)?;
    m.add_function(wrap_pyfunction!(erasure::vacuum, m)?)?;
    m.add("KPIS", names::<Kpi>())?;
    m.add("DIMENSIONS", names::<Dimension>())?;
    m.add("CARE_KINDS", names::<CareKind>())?;
    m.add("RELATION_KINDS", names::<RelationKind>())?;
    m.add("CONSENT_CHANNELS", names::<ConsentChannel>())?;
    m.add("PERMISSIONS", names::<autocrm::access::Permission>())?;
    m.add("FORMAT_VERSION", autocrm::FORMAT_VERSION)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
