//! Integration, identity resolution and bulk import (issue 3) for Python: source registry,
//! survivorship upserts, lineage, conflicts, the dealer feedback queue, the quality report,
//! duplicate candidates and merges, `import_file` / `import_bytes`, and the dirty demo
//! exports. Thin like the rest of the binding: arguments are converted, core is called with
//! the GIL released, core errors are mapped by `errors::to_py`.
//!
//! The methods are added to `WriteTxn`, `ReadTxn` and `Database` with extra `#[pymethods]`
//! blocks (pyo3's `multiple-pymethods` feature), so `lib.rs` only registers the classes.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use autocrm::export;
use autocrm::identity::MergeCounts;
use autocrm::import::{Encoding, Format, ImportOptions, ImportReport, Progress};
use autocrm::integration::{ConflictStatus, Entity, FieldValue};
use autocrm::{
    Conflict, ConflictId, CustomerId, Date, DateTime, DealerId, DuplicateCandidate, FeedbackEntry,
    FieldGroup, FieldLineage, MergeRecord, Outcome, QualityReport, QualityRow, Received,
    RecordKind, Resolution, SourceRef, SourceRegistry, SourceSystem, Upsert, VehicleId,
};
use autocrm_synth::dirty::{insert_dealers, write_dirty_csvs, DirtyConfig};
use pyo3::exceptions::{PyIndexError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};

use crate::conv::{Fields, FromPy, Named, ToPy};
use crate::errors::IntoPyResult;
use crate::types::{nm, Customer};
use crate::{arrow, one, records, PyDatabase, PyReadTxn, PyWriteTxn};

// ---------------------------------------------------------------------------------------------
// Result classes

macro_rules! record_class {
    ($(#[doc = $doc:expr])* $name:ident, $pyname:expr, [$($field:ident),* $(,)?]) => {
        $(#[doc = $doc])*
        #[pyclass(frozen, get_all, module = "autocrm", name = $pyname)]
        pub struct $name {
            $(
                #[doc = concat!("`", stringify!($field), "`")]
                pub $field: Py<PyAny>,
            )*
        }

        #[pymethods]
        impl $name {
            fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
                let parts: Vec<String> = vec![$(
                    format!("{}={}", stringify!($field), self.$field.bind(py).repr()?),
                )*];
                Ok(format!("{}({})", $pyname, parts.join(", ")))
            }

            /// The attributes as a dict (nested records stay objects).
            fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
                let d = PyDict::new(py);
                $( d.set_item(stringify!($field), self.$field.clone_ref(py))?; )*
                Ok(d)
            }

            fn __eq__(&self, other: &Bound<'_, PyAny>) -> PyResult<bool> {
                let py = other.py();
                match other.cast::<$name>() {
                    Ok(o) => {
                        let o = o.get();
                        Ok(true $( && self.$field.bind(py).eq(o.$field.bind(py))? )*)
                    }
                    Err(_) => Ok(false),
                }
            }
        }
    };
}

pub(crate) use record_class;

fn obj<T: pyo3::PyClass + Into<pyo3::PyClassInitializer<T>>>(
    py: Python<'_>,
    v: T,
) -> PyResult<Py<PyAny>> {
    Ok(Py::new(py, v)?.into_any())
}

fn list(py: Python<'_>, items: Vec<Py<PyAny>>) -> PyResult<Py<PyAny>> {
    Ok(PyList::new(py, items)?.into_any().unbind())
}

fn counts_dict<'a>(
    py: Python<'_>,
    m: impl IntoIterator<Item = (&'a String, &'a u64)>,
) -> PyResult<Py<PyAny>> {
    let d = PyDict::new(py);
    for (k, v) in m {
        d.set_item(k, v)?;
    }
    Ok(d.into_any().unbind())
}

record_class!(
    /// One registered source system: its name, its priority per field group (higher wins) and
    /// whether it verifies identity documents.
    SourceSystemPy, "SourceSystem", [name, priorities, verifies]
);

impl SourceSystemPy {
    fn new(py: Python<'_>, s: &SourceSystem) -> PyResult<Self> {
        let d = PyDict::new(py);
        for g in FieldGroup::ALL {
            d.set_item(g.name(), s.priority(g))?;
        }
        Ok(SourceSystemPy {
            name: s.name.to_py(py)?,
            priorities: d.into_any().unbind(),
            verifies: s.verifies.to_py(py)?,
        })
    }
}

record_class!(
    /// Where one stored field value came from: source record, sending dealer, time received,
    /// the source's priority for the field's group then, and whether it counts as verified.
    Lineage, "FieldLineage", [field, value, source, dealer, at, priority, verified]
);

impl Lineage {
    fn new(py: Python<'_>, l: &FieldLineage) -> PyResult<Self> {
        Ok(Lineage {
            field: l.field.name().to_py(py)?,
            value: l.value.to_py(py)?,
            source: l.source.to_py(py)?,
            dealer: l.dealer.map(|d| d.0).to_py(py)?,
            at: l.at.to_py(py)?,
            priority: u64::from(l.priority).to_py(py)?,
            verified: l.verified.to_py(py)?,
        })
    }
}

/// Lineage entries as a Python list of `FieldLineage` (also used by `Customer360.lineage`).
pub fn lineage_list(py: Python<'_>, ls: &[FieldLineage]) -> PyResult<Py<PyAny>> {
    let items = ls
        .iter()
        .map(|l| obj(py, Lineage::new(py, l)?))
        .collect::<PyResult<_>>()?;
    list(py, items)
}

/// A field value as Python: text `str`, `datetime.date`, gender / usage name, dealer or
/// customer id `int`, interests `list[str]`.
fn field_value(py: Python<'_>, v: &FieldValue) -> PyResult<Py<PyAny>> {
    match v {
        FieldValue::Text(s) => s.to_py(py),
        FieldValue::Date(d) => d.to_py(py),
        FieldValue::Gender(g) => nm(py, *g),
        FieldValue::Usage(u) => nm(py, *u),
        FieldValue::Dealer(d) => d.0.to_py(py),
        FieldValue::Tags(t) => t.to_py(py),
        FieldValue::Customer(c) => c.0.to_py(py),
        #[allow(unreachable_patterns)]
        other => other.to_string().to_py(py),
    }
}

fn entity_name(e: Entity) -> &'static str {
    e.name()
}

record_class!(
    /// An offered value survivorship did not apply, kept for review. `entity` is "customer" or
    /// "vehicle" (`record` its id; `customer` / `vehicle` the same id or None); `reason`:
    /// lower_priority, stale, verified_change, key_taken, inconsistent; `status`: open,
    /// accepted, rejected (`resolved_by`, `resolved_at` then set).
    ConflictPy, "Conflict", [id, entity, record, customer, vehicle, field, current,
        current_lineage, offered, source, dealer, received_at, priority, verified, reason,
        status, resolved_by, resolved_at]
);

impl ConflictPy {
    pub(crate) fn new(py: Python<'_>, c: &Conflict) -> PyResult<Self> {
        let (status, by, at) = match &c.status {
            ConflictStatus::Open => ("open", None, None),
            ConflictStatus::Accepted { by, at } => ("accepted", Some(by.clone()), Some(*at)),
            ConflictStatus::Rejected { by, at } => ("rejected", Some(by.clone()), Some(*at)),
        };
        Ok(ConflictPy {
            id: c.id.0.to_py(py)?,
            entity: entity_name(c.entity).to_py(py)?,
            record: c.record.to_py(py)?,
            customer: c.customer().map(|x| x.0).to_py(py)?,
            vehicle: c.vehicle().map(|x| x.0).to_py(py)?,
            field: c.field.name().to_py(py)?,
            current: match &c.current {
                Some(v) => field_value(py, v)?,
                None => py.None(),
            },
            current_lineage: match &c.current_lineage {
                Some(l) => obj(py, Lineage::new(py, l)?)?,
                None => py.None(),
            },
            offered: field_value(py, &c.offered)?,
            source: c.received.source.to_py(py)?,
            dealer: c.received.dealer.map(|d| d.0).to_py(py)?,
            received_at: c.received.at.to_py(py)?,
            priority: u64::from(c.priority).to_py(py)?,
            verified: c.verified.to_py(py)?,
            reason: c.reason.code().to_py(py)?,
            status: status.to_py(py)?,
            resolved_by: by.to_py(py)?,
            resolved_at: at.to_py(py)?,
        })
    }
}

fn conflicts_list(py: Python<'_>, cs: &[Conflict]) -> PyResult<Vec<ConflictPy>> {
    cs.iter().map(|c| ConflictPy::new(py, c)).collect()
}

record_class!(
    /// What an upsert did: the stored record's `id`, `outcome` ("created", "updated",
    /// "unchanged"), how many new `conflicts` it recorded, and whether the stored customer is
    /// `incomplete` (queued for its dealer to complete basic fields).
    UpsertResult, "UpsertResult", [id, outcome, conflicts, incomplete]
);

fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Created => "created",
        Outcome::Updated => "updated",
        Outcome::Unchanged => "unchanged",
    }
}

impl UpsertResult {
    fn new<I>(py: Python<'_>, u: &Upsert<I>, id: u64) -> PyResult<Self> {
        Ok(UpsertResult {
            id: id.to_py(py)?,
            outcome: outcome_name(u.outcome).to_py(py)?,
            conflicts: u.conflicts.to_py(py)?,
            incomplete: u.incomplete.to_py(py)?,
        })
    }
}

record_class!(
    /// A rejected record waiting in a dealer's feedback queue until a corrected record from
    /// the same source record is accepted.
    Feedback, "FeedbackEntry", [id, dealer, kind, source, line, raw, code, field, message, hint,
        received, first_rejected]
);

impl Feedback {
    pub(crate) fn new(py: Python<'_>, e: &FeedbackEntry) -> PyResult<Self> {
        Ok(Feedback {
            id: e.id.0.to_py(py)?,
            dealer: e.dealer.map(|d| d.0).to_py(py)?,
            kind: e.kind.name().to_py(py)?,
            source: e.source.to_py(py)?,
            line: e.line.to_py(py)?,
            raw: e.raw.to_py(py)?,
            code: e.code.to_py(py)?,
            field: e.field.clone().to_py(py)?,
            message: e.message.to_py(py)?,
            hint: e.hint.to_py(py)?,
            received: e.received.to_py(py)?,
            first_rejected: e.first_rejected.to_py(py)?,
        })
    }
}

record_class!(
    /// Two customers that may be one: `customer`, `other`, `score` (0–100) and the names of
    /// the rules that fired (`reasons`).
    Candidate, "DuplicateCandidate", [customer, other, score, reasons]
);

impl Candidate {
    fn new(py: Python<'_>, c: &DuplicateCandidate) -> PyResult<Self> {
        let reasons: Vec<&str> = c.reasons.iter().map(|r| r.name()).collect();
        Ok(Candidate {
            customer: c.customer.0.to_py(py)?,
            other: c.other.0.to_py(py)?,
            score: c.score.to_py(py)?,
            reasons: reasons.to_py(py)?,
        })
    }
}

record_class!(
    /// A merge of two customers: who survived, who was merged (its id now redirects), when and
    /// by whom, what moved (`counts`), both records as they were, the survivor's fields filled
    /// from the merged customer, the vehicles that moved and the relations that did not.
    Merge, "MergeRecord", [survivor, merged, at, by, counts, merged_customer, survivor_before,
        filled, vehicles, dropped_relations]
);

fn merge_counts(py: Python<'_>, c: &MergeCounts) -> PyResult<Py<PyAny>> {
    let d = PyDict::new(py);
    d.set_item("vehicles", c.vehicles)?;
    d.set_item("touchpoints", c.touchpoints)?;
    d.set_item("relations", c.relations)?;
    d.set_item("relations_between", c.relations_between)?;
    d.set_item("relations_duplicate", c.relations_duplicate)?;
    d.set_item("leads", c.leads)?;
    d.set_item("complaints", c.complaints)?;
    d.set_item("surveys", c.surveys)?;
    d.set_item("consent_events", c.consent_events)?;
    d.set_item("phones_added", c.phones_added)?;
    Ok(d.into_any().unbind())
}

impl Merge {
    pub(crate) fn new(py: Python<'_>, m: &MergeRecord) -> PyResult<Self> {
        let dropped = PyList::empty(py);
        for (a, k, b) in &m.dropped_relations {
            dropped.append((a.0, k.name(), b.0))?;
        }
        let vehicles: Vec<u64> = m.vehicles.iter().map(|v| v.0).collect();
        Ok(Merge {
            survivor: m.survivor.0.to_py(py)?,
            merged: m.merged.0.to_py(py)?,
            at: m.at.to_py(py)?,
            by: m.by.to_py(py)?,
            counts: merge_counts(py, &m.counts)?,
            merged_customer: obj(py, Customer::new(py, m.merged, &m.merged_customer)?)?,
            survivor_before: obj(py, Customer::new(py, m.survivor, &m.survivor_before)?)?,
            filled: m.filled.to_py(py)?,
            vehicles: vehicles.to_py(py)?,
            dropped_relations: dropped.into_any().unbind(),
        })
    }
}

record_class!(
    /// One row of the data-quality report: a dealer (`dealer` id, `label` its code), the
    /// unassigned row (`dealer` None, label "(unassigned)") or the network total.
    QualityRowPy, "QualityRow", [dealer, label, customers, customers_sold, valid_info,
        valid_info_ratio, rejections, rejections_total, incomplete_queued, queued_by_reason,
        open_conflicts, queue_size, oldest_queued_days]
);

impl QualityRowPy {
    fn new(py: Python<'_>, r: &QualityRow) -> PyResult<Self> {
        Ok(QualityRowPy {
            dealer: r.dealer.map(|d| d.0).to_py(py)?,
            label: r.label.to_py(py)?,
            customers: r.customers.to_py(py)?,
            customers_sold: r.customers_sold.to_py(py)?,
            valid_info: r.valid_info.to_py(py)?,
            valid_info_ratio: r.valid_info_ratio.to_py(py)?,
            rejections: counts_dict(py, &r.rejections)?,
            rejections_total: r.rejections_total().to_py(py)?,
            incomplete_queued: r.incomplete_queued().to_py(py)?,
            queued_by_reason: counts_dict(py, &r.queued_by_reason)?,
            open_conflicts: r.open_conflicts.to_py(py)?,
            queue_size: r.queue_size.to_py(py)?,
            oldest_queued_days: r.oldest_queued_days.map(i64::from).to_py(py)?,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Table-like results (sequence + Arrow)

fn index(i: isize, n: usize, what: &str) -> PyResult<usize> {
    let n = n as isize;
    let j = if i < 0 { i + n } else { i };
    if j < 0 || j >= n {
        return Err(PyIndexError::new_err(format!("{what} index out of range")));
    }
    Ok(j as usize)
}

/// The data-quality report as of a date: `rows` (one per dealer, in id order, then the
/// unassigned row if any), `network` (the total), `row(dealer)`; also an Arrow table with one
/// row per entry of `rows` (columns dealer, label, customers, customers_sold, valid_info,
/// valid_info_ratio, rejections, queue_size, oldest_queued_days, open_conflicts).
#[pyclass(frozen, module = "autocrm", name = "QualityReport")]
pub struct PyQualityReport(pub(crate) Arc<QualityReport>);

arrow::arrow_methods!(PyQualityReport, |r: &QualityReport| export::quality_rows(
    &r.rows
));

#[pymethods]
impl PyQualityReport {
    /// The report date.
    #[getter]
    fn as_of(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.0.as_of.to_py(py)
    }

    /// One `QualityRow` per dealer, then the unassigned row if anything is attributed to no
    /// dealer.
    #[getter]
    fn rows(&self, py: Python<'_>) -> PyResult<Vec<QualityRowPy>> {
        self.0
            .rows
            .iter()
            .map(|r| QualityRowPy::new(py, r))
            .collect()
    }

    /// The whole network.
    #[getter]
    fn network(&self, py: Python<'_>) -> PyResult<QualityRowPy> {
        QualityRowPy::new(py, &self.0.network)
    }

    /// The row of `dealer` (None: the unassigned row), or None.
    #[pyo3(signature = (dealer=None))]
    fn row(&self, py: Python<'_>, dealer: Option<u32>) -> PyResult<Option<QualityRowPy>> {
        self.0
            .row(dealer.map(DealerId))
            .map(|r| QualityRowPy::new(py, r))
            .transpose()
    }

    fn __len__(&self) -> usize {
        self.0.rows.len()
    }

    fn __getitem__(&self, py: Python<'_>, i: isize) -> PyResult<QualityRowPy> {
        QualityRowPy::new(
            py,
            &self.0.rows[index(i, self.0.rows.len(), "quality row")?],
        )
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        PyList::new(py, self.rows(py)?)?
            .into_any()
            .try_iter()
            .map(|i| i.into_any())
    }

    fn __repr__(&self) -> String {
        format!(
            "autocrm.QualityReport(as_of={}, {} rows)",
            self.0.as_of,
            self.0.rows.len()
        )
    }
}

/// Duplicate candidates: a sequence of `DuplicateCandidate` (len, index, iteration) and an
/// Arrow table (customer uint64, other uint64, score uint8, reasons list<utf8>).
#[pyclass(frozen, module = "autocrm", name = "DuplicateCandidates")]
pub struct PyCandidates(pub(crate) Arc<Vec<DuplicateCandidate>>);

arrow::arrow_methods!(PyCandidates, |rows: &Vec<DuplicateCandidate>| {
    export::candidates(rows)
});

#[pymethods]
impl PyCandidates {
    fn __len__(&self) -> usize {
        self.0.len()
    }

    fn __getitem__(&self, py: Python<'_>, i: isize) -> PyResult<Candidate> {
        Candidate::new(py, &self.0[index(i, self.0.len(), "candidate")?])
    }

    /// The candidates as a list of DuplicateCandidate.
    fn rows(&self, py: Python<'_>) -> PyResult<Vec<Candidate>> {
        self.0.iter().map(|c| Candidate::new(py, c)).collect()
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        PyList::new(py, self.rows(py)?)?
            .into_any()
            .try_iter()
            .map(|i| i.into_any())
    }

    fn __repr__(&self) -> String {
        format!("autocrm.DuplicateCandidates({} pairs)", self.0.len())
    }
}

// ---------------------------------------------------------------------------------------------
// Import report

record_class!(
    /// One rejected row of an import: line (1-based; a CSV header is line 1), the row's source
    /// record id, the stable reason code, the field at fault and a readable message.
    RejectionPy, "Rejection", [line, source_id, code, field, message]
);

/// What an import did. Counts are always exact; `rejections` keeps the first
/// `max_rejections` in full. `str(report)` is core's one-line summary; `write_csv(path)`
/// writes the report as CSV (columns record, line, source_id, code, field, count, message).
#[pyclass(frozen, module = "autocrm", name = "ImportReport")]
pub struct PyImportReport(pub(crate) ImportReport);

#[pymethods]
impl PyImportReport {
    /// The name the input was imported under.
    #[getter]
    fn file(&self) -> String {
        self.0.file.clone()
    }
    /// The kind of record imported.
    #[getter]
    fn kind(&self) -> &'static str {
        self.0.kind.name()
    }
    /// The encoding the input was read in: "UTF-8" or "GBK".
    #[getter]
    fn encoding(&self) -> &'static str {
        self.0.encoding
    }
    /// Rows read (not counting a CSV header and blank lines).
    #[getter]
    fn rows(&self) -> u64 {
        self.0.rows
    }
    /// Rows that created a record.
    #[getter]
    fn created(&self) -> u64 {
        self.0.created
    }
    /// Rows merged into a stored record that changed.
    #[getter]
    fn updated(&self) -> u64 {
        self.0.updated
    }
    /// Rows matched to a stored record that did not change it.
    #[getter]
    fn unchanged(&self) -> u64 {
        self.0.unchanged
    }
    /// Rows accepted: created + updated + unchanged.
    #[getter]
    fn accepted(&self) -> u64 {
        self.0.accepted()
    }
    /// Rows rejected.
    #[getter]
    fn rejected(&self) -> u64 {
        self.0.rejected
    }
    /// Rejected rows per reason code.
    #[getter]
    fn rejected_by_code(&self) -> BTreeMap<String, u64> {
        self.0.rejected_by_code.clone()
    }
    /// Conflicts recorded.
    #[getter]
    fn conflicts(&self) -> u64 {
        self.0.conflicts
    }
    /// Customer rows stored but lacking basic fields, queued for their dealer to complete.
    #[getter]
    fn incomplete(&self) -> u64 {
        self.0.incomplete
    }
    /// The first rejections, in file order.
    #[getter]
    fn rejections(&self, py: Python<'_>) -> PyResult<Vec<RejectionPy>> {
        self.0
            .rejections
            .iter()
            .map(|r| {
                Ok(RejectionPy {
                    line: r.line.to_py(py)?,
                    source_id: r.source_id.clone().to_py(py)?,
                    code: r.code.to_py(py)?,
                    field: r.field.clone().to_py(py)?,
                    message: r.message.to_py(py)?,
                })
            })
            .collect()
    }
    /// Columns (or JSON keys) the kind does not know; they were ignored.
    #[getter]
    fn ignored_columns(&self) -> Vec<String> {
        self.0.ignored_columns.clone()
    }
    /// Bytes of input read.
    #[getter]
    fn bytes(&self) -> u64 {
        self.0.bytes
    }

    /// Writes the report as CSV to `path` (columns record, line, source_id, code, field,
    /// count, message: summary rows, one row per reason code, one per kept rejection).
    fn write_csv(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| -> std::io::Result<()> {
            let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
            self.0.write_csv(&mut f)?;
            std::io::Write::flush(&mut f)
        })
        .map_err(|e| pyo3::exceptions::PyOSError::new_err(e.to_string()))
    }

    /// The counts as a dict (rows, created, updated, unchanged, rejected, conflicts,
    /// incomplete, rejected_by_code, encoding, kind, file).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("file", &self.0.file)?;
        d.set_item("kind", self.0.kind.name())?;
        d.set_item("encoding", self.0.encoding)?;
        d.set_item("rows", self.0.rows)?;
        d.set_item("created", self.0.created)?;
        d.set_item("updated", self.0.updated)?;
        d.set_item("unchanged", self.0.unchanged)?;
        d.set_item("rejected", self.0.rejected)?;
        d.set_item("conflicts", self.0.conflicts)?;
        d.set_item("incomplete", self.0.incomplete)?;
        d.set_item("rejected_by_code", self.0.rejected_by_code.clone())?;
        Ok(d)
    }

    fn __str__(&self) -> String {
        self.0.to_string()
    }

    fn __repr__(&self) -> String {
        format!(
            "autocrm.ImportReport({:?}: {} rows, {} created, {} updated, {} unchanged, {} rejected, {} conflicts)",
            self.0.file,
            self.0.rows,
            self.0.created,
            self.0.updated,
            self.0.unchanged,
            self.0.rejected,
            self.0.conflicts
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Argument conversions

/// The time a caller gave, or `None` for "now" — which the transaction's database clock
/// fills in (core `Database::now`), never Python's local clock: every tool stamps the same
/// file alike.
fn given_at(at: Option<&Bound<'_, PyAny>>) -> PyResult<Option<DateTime>> {
    match at {
        Some(a) if !a.is_none() => DateTime::from_py(a).map(Some),
        _ => Ok(None),
    }
}

fn record_kind(o: &Bound<'_, PyAny>) -> PyResult<RecordKind> {
    let s = String::from_py(o)?;
    autocrm::import::parse_kind(&s).map_err(|_| {
        PyValueError::new_err(format!(
            "unknown record kind {s:?}; expected one of: customer, vehicle, touchpoint, lead"
        ))
    })
}

fn field_group(s: &str) -> PyResult<FieldGroup> {
    FieldGroup::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = FieldGroup::ALL.iter().map(|g| g.name()).collect();
        PyValueError::new_err(format!(
            "unknown field group {s:?}; expected one of: {}",
            names.join(", ")
        ))
    })
}

/// Priorities: an int (every group) or a dict group name → int (groups not named: 0).
fn priorities(o: Option<&Bound<'_, PyAny>>) -> PyResult<[u16; 6]> {
    let priority = |v: &Bound<'_, PyAny>| -> PyResult<u16> {
        let n = u32::from_py(v)?;
        u16::try_from(n).map_err(|_| PyValueError::new_err(format!("priority {n} is out of range")))
    };
    let Some(o) = o.filter(|o| !o.is_none()) else {
        return Ok([0; 6]);
    };
    let Ok(d) = o.cast::<PyDict>() else {
        return Ok([priority(o)?; 6]);
    };
    let mut system = SourceSystem::new("", 0);
    for (k, v) in d.iter() {
        system.set_priority(field_group(&String::from_py(&k)?)?, priority(&v)?);
    }
    Ok(system.priorities)
}

fn source_system(py: Python<'_>, f: &Fields<'_>) -> PyResult<SourceSystem> {
    let name: String = f.req("name")?;
    let p = take_any(py, f, "priorities")?;
    Ok(SourceSystem {
        name,
        priorities: priorities(p.as_ref())?,
        verifies: f.or("verifies", false)?,
    })
}

/// The integration arguments of an upsert, taken out of its record: `source` (required),
/// `dealer`, `received_at` (default: now by the database's clock, see [`Arrival::stamp`]).
fn received(py: Python<'_>, f: &Fields<'_>) -> PyResult<Arrival> {
    let source: SourceRef = f.req("source")?;
    let dealer: Option<DealerId> = f.opt("dealer")?;
    let at = take_any(py, f, "received_at")?;
    Ok(Arrival {
        source,
        dealer,
        at: given_at(at.as_ref())?,
    })
}

/// A record's arrival as the caller gave it; the time is filled in inside the transaction.
struct Arrival {
    source: SourceRef,
    dealer: Option<DealerId>,
    at: Option<DateTime>,
}

impl Arrival {
    /// The arrival, received at the given time or `now`.
    fn stamp(self, now: DateTime) -> Received {
        Received {
            source: self.source,
            dealer: self.dealer,
            at: self.at.unwrap_or(now),
        }
    }
}

/// Any Python value (for fields converted later).
struct AnyPy(Py<PyAny>);

impl FromPy for AnyPy {
    fn from_py(o: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(AnyPy(o.clone().unbind()))
    }
}

/// A raw value of the record (absent or None → None), removed from it.
fn take_any<'py>(
    py: Python<'py>,
    f: &Fields<'_>,
    key: &str,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    Ok(f.opt::<AnyPy>(key)?.map(|a| a.0.into_bound(py)))
}

/// The core error behind an exception autocrm raised (attribute `_core`), so that
/// `WriteTxn.reject` can queue a record with the error's code, field, message and hint.
#[pyclass(frozen, module = "autocrm._native", name = "_CoreError")]
pub struct CoreError(Mutex<autocrm::Error>);

/// Keeps `e` on the exception `v` (called by `errors::to_py`).
pub fn keep_core(v: &Bound<'_, pyo3::exceptions::PyBaseException>, e: autocrm::Error) {
    if let Ok(c) = Py::new(v.py(), CoreError(Mutex::new(e))) {
        let _ = v.setattr("_core", c);
    }
}

// ---------------------------------------------------------------------------------------------
// Write transactions

#[pymethods]
impl PyWriteTxn {
    /// Upserts a customer delivered by a source system (DOMAIN §4): matched to a stored
    /// customer (the one this source record wrote, same national ID / credit code, the
    /// current owner of `vin`, or same phone and name) and merged field by field by source
    /// priority, else created. Takes the fields of `insert_customer` plus `source=(system,
    /// record_id)` (required; the system must be registered), `vin`, `dealer` (the sending
    /// dealer) and `received_at` (default: now). Returns an `UpsertResult`.
    #[pyo3(signature = (record=None, **fields))]
    fn upsert_customer(
        &self,
        py: Python<'_>,
        record: Option<&Bound<'_, PyAny>>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<UpsertResult> {
        let (c, vin, from) = one(py, "customer", record, fields, |f| {
            let from = received(py, f)?;
            let vin: Option<String> = f.opt("vin")?;
            Ok((records::customer(f)?, vin, from))
        })?;
        let u = self.with(py, move |tx| {
            let from = from.stamp(tx.now());
            tx.upsert_customer(&c, vin.as_deref(), &from)
        })?;
        UpsertResult::new(py, &u, u.id.0)
    }

    /// Upserts a vehicle delivered by a source system, owned by customer `owner` (required):
    /// matched by VIN (then by source record) and merged field by field, else created. Takes
    /// the fields of `insert_vehicle` (without `since`) plus `owner`, `source` (required),
    /// `dealer` and `received_at` (default: now). Returns an `UpsertResult`.
    #[pyo3(signature = (record=None, **fields))]
    fn upsert_vehicle(
        &self,
        py: Python<'_>,
        record: Option<&Bound<'_, PyAny>>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<UpsertResult> {
        let (v, owner, from) = one(py, "vehicle", record, fields, |f| {
            let from = received(py, f)?;
            let owner: CustomerId = f.req("owner")?;
            let (v, _) = records::vehicle(f)?;
            Ok((v, owner, from))
        })?;
        let u = self.with(py, move |tx| {
            let from = from.stamp(tx.now());
            tx.upsert_vehicle(&v, owner, &from)
        })?;
        UpsertResult::new(py, &u, u.id.0)
    }

    /// Resolves open conflict `id`: `accept=True` applies the offered value (lineage marked
    /// verified), `accept=False` keeps the stored one. `by` names the operator; `at` defaults
    /// to now. Returns the resolved `Conflict`.
    #[pyo3(signature = (id, accept, by, at=None))]
    fn resolve_conflict(
        &self,
        py: Python<'_>,
        id: u64,
        accept: bool,
        by: String,
        at: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<ConflictPy> {
        let at = given_at(at)?;
        let r = if accept {
            Resolution::Accept
        } else {
            Resolution::Reject
        };
        let c = self.with(py, move |tx| {
            let at = at.unwrap_or_else(|| tx.now());
            tx.resolve_conflict(ConflictId(id), r, &by, at)
        })?;
        ConflictPy::new(py, &c)
    }

    /// Merges customer `merged` into `survivor` (everything moves; `merged` becomes a
    /// redirect). `by` names the operator; `at` defaults to now. Returns the `MergeRecord`.
    #[pyo3(signature = (survivor, merged, by, at=None))]
    fn merge_customers(
        &self,
        py: Python<'_>,
        survivor: u64,
        merged: u64,
        by: String,
        at: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Merge> {
        let at = given_at(at)?;
        let m = self.with(py, move |tx| {
            let at = at.unwrap_or_else(|| tx.now());
            tx.merge_customers(CustomerId(survivor), CustomerId(merged), at, &by)
        })?;
        Merge::new(py, &m)
    }

    /// Replaces the whole source registry: a list of dicts (or `SourceSystem`s)
    /// `{"name", "priorities": int | {group: int}, "verifies": bool}` (groups not named: 0).
    fn set_sources(&self, py: Python<'_>, systems: &Bound<'_, PyAny>) -> PyResult<()> {
        let mut reg = SourceRegistry { systems: vec![] };
        for item in systems.try_iter()? {
            let item = item?;
            let item = match item.cast::<SourceSystemPy>() {
                Ok(s) => s.call_method0("to_dict")?.into_any(),
                Err(_) => item,
            };
            let f = Fields::of(&item, "source system")?;
            let s = source_system(py, &f)?;
            f.done()?;
            reg.systems.push(s);
        }
        self.with(py, move |tx| tx.set_sources(&reg))
    }

    /// Registers source system `name` (or replaces its registration): `priorities` an int
    /// for every field group or a dict `{group: int}` (groups not named: 0); `verifies`:
    /// whether it checks identity documents.
    #[pyo3(signature = (name, priorities, verifies=false))]
    fn register_source(
        &self,
        py: Python<'_>,
        name: String,
        priorities: &Bound<'_, PyAny>,
        verifies: bool,
    ) -> PyResult<()> {
        let s = SourceSystem {
            name,
            priorities: self::priorities(Some(priorities))?,
            verifies,
        };
        self.with(py, move |tx| tx.register_source(&s))
    }

    /// Sets one registered system's priority for one field group.
    fn set_source_priority(
        &self,
        py: Python<'_>,
        system: String,
        group: &str,
        priority: u16,
    ) -> PyResult<()> {
        let g = field_group(group)?;
        self.with(py, move |tx| tx.set_source_priority(&system, g, priority))
    }

    /// Puts a rejected record into the sending dealer's feedback queue (`dealer` None: the
    /// unassigned queue), keyed by its source record: `error` is the `autocrm.Error` autocrm
    /// raised for it (its code, field, message and hint are kept), `raw` the record as
    /// delivered, `line` its line in the delivered file. Rejecting the same source record
    /// again replaces the entry; a later successful upsert of it removes the entry. Returns
    /// the entry's id.
    #[pyo3(signature = (kind, source, raw, error, *, dealer=None, line=None, received_at=None))]
    #[allow(clippy::too_many_arguments)]
    fn reject(
        &self,
        py: Python<'_>,
        kind: &Bound<'_, PyAny>,
        source: &Bound<'_, PyAny>,
        raw: String,
        error: &Bound<'_, PyAny>,
        dealer: Option<u32>,
        line: Option<u64>,
        received_at: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<u64> {
        let k = record_kind(kind)?;
        let from = Arrival {
            source: SourceRef::from_py(source)?,
            dealer: dealer.map(DealerId),
            at: given_at(received_at)?,
        };
        let core: Py<CoreError> = error
            .getattr("_core")
            .ok()
            .and_then(|c| c.cast_into::<CoreError>().ok())
            .map(Bound::unbind)
            .ok_or_else(|| {
                PyTypeError::new_err("error must be an autocrm.Error raised by autocrm")
            })?;
        let id = self.with(py, move |tx| {
            let g = core.get().0.lock().unwrap_or_else(|p| p.into_inner());
            let from = from.stamp(tx.now());
            tx.reject(&from, k, line, &raw, &g)
        })?;
        Ok(id.0)
    }

    /// Removes the feedback-queue entry of source record `source` of `kind`; returns whether
    /// there was one (upserts do this themselves).
    fn clear_feedback(
        &self,
        py: Python<'_>,
        kind: &Bound<'_, PyAny>,
        source: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let k = record_kind(kind)?;
        let s = SourceRef::from_py(source)?;
        self.with(py, move |tx| tx.clear_feedback(&s, k))
    }
}

// ---------------------------------------------------------------------------------------------
// Read transactions

#[pymethods]
impl PyReadTxn {
    /// The registered source systems (the defaults while none is stored).
    fn sources(&self, py: Python<'_>) -> PyResult<Vec<SourceSystemPy>> {
        let r = self.with(py, |r| r.sources())?;
        r.systems
            .iter()
            .map(|s| SourceSystemPy::new(py, s))
            .collect()
    }

    /// Conflict `id`.
    fn conflict(&self, py: Python<'_>, id: u64) -> PyResult<ConflictPy> {
        let c = self.with(py, |r| r.conflict(ConflictId(id)))?;
        ConflictPy::new(py, &c)
    }

    /// Conflicts, oldest first: only the open ones (default) or all.
    #[pyo3(signature = (open_only=true))]
    fn conflicts(&self, py: Python<'_>, open_only: bool) -> PyResult<Vec<ConflictPy>> {
        let v = self.with(py, |r| r.conflicts(open_only))?;
        conflicts_list(py, &v)
    }

    /// Every conflict (open and resolved) about a customer and the vehicles it owns or owned.
    fn conflicts_of(&self, py: Python<'_>, customer: u64) -> PyResult<Vec<ConflictPy>> {
        let v = self.with(py, |r| r.conflicts_of(CustomerId(customer)))?;
        conflicts_list(py, &v)
    }

    /// Number of open conflicts.
    fn open_conflict_count(&self, py: Python<'_>) -> PyResult<u64> {
        self.with(py, |r| r.open_conflict_count())
    }

    /// The feedback queue of `dealer` (None: the unassigned queue), oldest first.
    #[pyo3(signature = (dealer=None))]
    fn feedback(&self, py: Python<'_>, dealer: Option<u32>) -> PyResult<Vec<Feedback>> {
        let v = self.with(py, |r| r.feedback(dealer.map(DealerId)))?;
        v.iter().map(|e| Feedback::new(py, e)).collect()
    }

    /// Every queued entry, by dealer (the unassigned queue first), then oldest first.
    fn feedback_all(&self, py: Python<'_>) -> PyResult<Vec<Feedback>> {
        let v = self.with(py, |r| r.feedback_all())?;
        v.iter().map(|e| Feedback::new(py, e)).collect()
    }

    /// The queued entry of source record `source` of `kind`, or None.
    fn feedback_entry(
        &self,
        py: Python<'_>,
        kind: &Bound<'_, PyAny>,
        source: &Bound<'_, PyAny>,
    ) -> PyResult<Option<Feedback>> {
        let k = record_kind(kind)?;
        let s = SourceRef::from_py(source)?;
        let e = self.with(py, |r| r.feedback_entry(k, &s))?;
        e.map(|e| Feedback::new(py, &e)).transpose()
    }

    /// Lifetime rejection counts: `[(dealer or None, reason code, count)]`.
    fn rejection_counts(&self, py: Python<'_>) -> PyResult<Vec<(Option<u32>, String, u64)>> {
        let v = self.with(py, |r| r.rejection_counts())?;
        Ok(v.into_iter()
            .map(|(d, c, n)| (d.map(|d| d.0), c, n))
            .collect())
    }

    /// Where each field of customer `id` came from (`FieldLineage`, in field order; phones
    /// one entry per number). Fields written outside the integration path have none.
    fn lineage_of_customer(&self, py: Python<'_>, id: u64) -> PyResult<Vec<Lineage>> {
        let v = self.with(py, |r| r.lineage_of_customer(CustomerId(id)))?;
        v.iter().map(|l| Lineage::new(py, l)).collect()
    }

    /// Where each field of vehicle `id` came from.
    fn lineage_of_vehicle(&self, py: Python<'_>, id: u64) -> PyResult<Vec<Lineage>> {
        let v = self.with(py, |r| r.lineage_of_vehicle(VehicleId(id)))?;
        v.iter().map(|l| Lineage::new(py, l)).collect()
    }

    /// The data-quality report by dealer as of `as_of` (GIL released while computing).
    fn quality_report(
        &self,
        py: Python<'_>,
        as_of: &Bound<'_, PyAny>,
    ) -> PyResult<PyQualityReport> {
        let d = Date::from_py(as_of)?;
        let q = self.with(py, |r| r.quality_report(d))?;
        Ok(PyQualityReport(Arc::new(q)))
    }

    /// Every pair of customers that may be one, scoring at least `min_score` (0–100), highest
    /// first, the lower id as `customer` (GIL released while searching).
    #[pyo3(signature = (min_score=70))]
    fn duplicate_candidates(&self, py: Python<'_>, min_score: u8) -> PyResult<PyCandidates> {
        let v = self.with(py, |r| r.duplicate_candidates(min_score))?;
        Ok(PyCandidates(Arc::new(v)))
    }

    /// The duplicate candidates of one customer (any score), highest first.
    fn duplicates_of(&self, py: Python<'_>, customer: u64) -> PyResult<Vec<Candidate>> {
        let v = self.with(py, |r| r.duplicates_of(CustomerId(customer)))?;
        v.iter().map(|c| Candidate::new(py, c)).collect()
    }

    /// The live customer `id` stands for: itself, or the customer it was merged into.
    fn resolve_customer(&self, py: Python<'_>, id: u64) -> PyResult<u64> {
        Ok(self.with(py, |r| r.resolve_customer(CustomerId(id)))?.0)
    }

    /// Every merge whose data ended in `survivor`, oldest first.
    fn merges_of(&self, py: Python<'_>, survivor: u64) -> PyResult<Vec<Merge>> {
        let v = self.with(py, |r| r.merges_of(CustomerId(survivor)))?;
        v.iter().map(|m| Merge::new(py, m)).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Import

pub(crate) struct ImportArgs {
    opts: ImportOptions,
    progress: Option<Py<PyAny>>,
    /// No `received_at` was given: the rows are received now, by the database's clock.
    stamp_now: bool,
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn import_args(
    kind: RecordKind,
    format: Option<&str>,
    encoding: &str,
    batch_size: usize,
    source_system: Option<String>,
    received_at: Option<&Bound<'_, PyAny>>,
    delimiter: &str,
    max_rejections: usize,
    progress: Option<&Bound<'_, PyAny>>,
    name: &str,
) -> PyResult<ImportArgs> {
    let format = match format {
        Some(f) => Some(Format::parse(f).map_err(|_| {
            PyValueError::new_err(format!("unknown format {f:?}; expected csv or jsonl"))
        })?),
        None => Format::from_path(std::path::Path::new(name)),
    };
    let encoding = Encoding::parse(encoding).map_err(|_| {
        PyValueError::new_err(format!(
            "unknown encoding {encoding:?}; expected auto, utf-8 or gbk"
        ))
    })?;
    let delimiter = match delimiter.as_bytes() {
        [b] => *b,
        _ => {
            return Err(PyValueError::new_err(
                "delimiter must be one ASCII character",
            ))
        }
    };
    let progress = match progress {
        Some(p) if !p.is_none() => {
            if !p.is_callable() {
                return Err(PyTypeError::new_err("progress must be callable"));
            }
            Some(p.clone().unbind())
        }
        _ => None,
    };
    let received_at = given_at(received_at)?;
    // "Now" is stamped from the database's clock when the import starts (`run_import`).
    let mut opts = ImportOptions::new(kind, received_at.unwrap_or(DateTime::from_seconds(0)));
    opts.format = format;
    opts.encoding = encoding;
    opts.batch_size = batch_size;
    opts.source_system = source_system;
    opts.delimiter = delimiter;
    opts.max_rejections = max_rejections;
    Ok(ImportArgs {
        opts,
        progress,
        stamp_now: received_at.is_none(),
    })
}

/// The kind a file name suggests (`customers_….csv` → customer), as the CLI reads it.
fn kind_from_name(name: &str) -> PyResult<RecordKind> {
    RecordKind::from_file_name(name).ok_or_else(|| {
        PyValueError::new_err(format!(
            "{name}: cannot tell the kind of record from the name; pass kind= \
                 customer|vehicle|touchpoint|lead (or name the file customers_….csv)"
        ))
    })
}

pub(crate) fn kind_arg(kind: Option<&Bound<'_, PyAny>>, name: &str) -> PyResult<RecordKind> {
    match kind {
        Some(k) if !k.is_none() => record_kind(k),
        _ => kind_from_name(name),
    }
}

/// Runs an import without the GIL; the progress callback re-acquires it. An exception the
/// callback raises is re-raised when the import is over (batches already committed stay).
pub(crate) fn run_import(
    py: Python<'_>,
    now: DateTime,
    args: ImportArgs,
    go: impl FnOnce(&ImportOptions, &mut dyn FnMut(&Progress)) -> autocrm::Result<ImportReport> + Send,
) -> PyResult<PyImportReport> {
    let callback_error: Mutex<Option<PyErr>> = Mutex::new(None);
    let ImportArgs {
        mut opts,
        progress,
        stamp_now,
    } = args;
    if stamp_now {
        opts.received_at = now;
    }
    let report = crate::errors::detach(py, || {
        let mut on_progress = |p: &Progress| {
            let Some(cb) = &progress else { return };
            Python::attach(|py| {
                let mut slot = callback_error.lock().unwrap_or_else(|e| e.into_inner());
                if slot.is_some() {
                    return;
                }
                if let Err(e) = cb.bind(py).call1((p.rows, p.bytes, p.total_bytes)) {
                    *slot = Some(e);
                }
            });
        };
        go(&opts, &mut on_progress)
    });
    let report = report.py()?;
    if let Some(e) = callback_error
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
    {
        return Err(e);
    }
    Ok(PyImportReport(report))
}

#[pymethods]
impl PyDatabase {
    /// Imports the CSV or JSON Lines file at `path` (see API.md): rows are upserted (customers,
    /// vehicles) or inserted idempotently (touchpoints, leads) in transactions of
    /// `batch_size` rows; bad rows are rejected into the feedback queue. `kind` defaults to
    /// the file name's (`customers_….csv`). `progress(rows, bytes, total_bytes)` is called
    /// after each committed batch. Returns an `ImportReport`. GIL released while importing.
    #[pyo3(signature = (path, kind=None, *, format=None, encoding="auto", batch_size=1000,
        source_system=None, received_at=None, progress=None, delimiter=",", max_rejections=10000))]
    #[allow(clippy::too_many_arguments)]
    fn import_file(
        &self,
        py: Python<'_>,
        path: PathBuf,
        kind: Option<&Bound<'_, PyAny>>,
        format: Option<&str>,
        encoding: &str,
        batch_size: usize,
        source_system: Option<String>,
        received_at: Option<&Bound<'_, PyAny>>,
        progress: Option<&Bound<'_, PyAny>>,
        delimiter: &str,
        max_rejections: usize,
    ) -> PyResult<PyImportReport> {
        let name = path.display().to_string();
        let kind = kind_arg(kind, &name)?;
        let args = import_args(
            kind,
            format,
            encoding,
            batch_size,
            source_system,
            received_at,
            delimiter,
            max_rejections,
            progress,
            &name,
        )?;
        let db = self.store.database_for_writing().py()?;
        run_import(py, db.now(), args, move |opts, cb| {
            autocrm::import_file(&db, &path, opts, cb)
        })
    }

    /// Imports in-memory `data` (bytes; a str is encoded as UTF-8) as if it were the file
    /// `name` (used in the report and errors, and for the format and, without `kind`, the
    /// kind). Otherwise as `import_file`.
    #[pyo3(signature = (data, name="input.csv", kind=None, *, format=None, encoding="auto",
        batch_size=1000, source_system=None, received_at=None, progress=None, delimiter=",",
        max_rejections=10000))]
    #[allow(clippy::too_many_arguments)]
    fn import_bytes(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        name: &str,
        kind: Option<&Bound<'_, PyAny>>,
        format: Option<&str>,
        encoding: &str,
        batch_size: usize,
        source_system: Option<String>,
        received_at: Option<&Bound<'_, PyAny>>,
        progress: Option<&Bound<'_, PyAny>>,
        delimiter: &str,
        max_rejections: usize,
    ) -> PyResult<PyImportReport> {
        let bytes: Vec<u8> = if let Ok(b) = data.cast::<PyBytes>() {
            b.as_bytes().to_vec()
        } else if data.is_instance_of::<PyString>() {
            data.extract::<String>()?.into_bytes()
        } else if let Ok(b) = data.extract::<Vec<u8>>() {
            b
        } else {
            return Err(PyTypeError::new_err(format!(
                "data must be bytes or str, got {}",
                data.get_type().name()?
            )));
        };
        let kind = kind_arg(kind, name)?;
        let args = import_args(
            kind,
            format,
            encoding,
            batch_size,
            source_system,
            received_at,
            delimiter,
            max_rejections,
            progress,
            name,
        )?;
        let name = name.to_string();
        let total = bytes.len() as u64;
        let db = self.store.database_for_writing().py()?;
        run_import(py, db.now(), args, move |opts, cb| {
            autocrm::import_reader(&db, bytes.as_slice(), &name, Some(total), opts, cb)
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Dirty demo exports

/// Writes the dirty source-system exports of a seeded synthetic network into `dir` (see
/// `autocrm.synth.write_dirty`); with `db`, registers the network's dealers there first.
#[pyfunction]
#[pyo3(signature = (dir, customers=1000, seed=42, dirt=0.1, gbk=false, as_of=None, db=None))]
#[allow(clippy::too_many_arguments)]
pub fn synth_write_dirty<'py>(
    py: Python<'py>,
    dir: PathBuf,
    customers: usize,
    seed: u64,
    dirt: f64,
    gbk: bool,
    as_of: Option<&Bound<'py, PyAny>>,
    db: Option<&PyDatabase>,
) -> PyResult<Bound<'py, PyDict>> {
    let mut cfg = DirtyConfig::new(customers);
    cfg.seed = seed;
    cfg.dirt = dirt;
    cfg.gbk = gbk;
    if let Some(a) = as_of.filter(|a| !a.is_none()) {
        cfg.as_of = Date::from_py(a)?;
    }
    let database = match db {
        Some(d) => Some(d.store.database_for_writing().py()?),
        None => None,
    };
    let (added, files) = crate::errors::detach(py, move || -> autocrm::Result<_> {
        let added = match &database {
            Some(d) => Some(insert_dealers(d, &cfg)?),
            None => None,
        };
        Ok((added, write_dirty_csvs(&dir, &cfg)?))
    })
    .py()?;
    let out = PyDict::new(py);
    let fl = PyList::empty(py);
    for f in &files.files {
        let d = PyDict::new(py);
        d.set_item("path", f.path.display().to_string())?;
        d.set_item("kind", f.kind.name())?;
        d.set_item("source_system", f.source_system)?;
        d.set_item("rows", f.rows)?;
        fl.append(d)?;
    }
    out.set_item("files", fl)?;
    out.set_item("dealers", files.dealers.len())?;
    out.set_item("dealers_added", added)?;
    let inj = PyDict::new(py);
    for (k, v) in &files.injected {
        inj.set_item(*k, v)?;
    }
    out.set_item("injected", inj)?;
    out.set_item("encoding", files.encoding)?;
    Ok(out)
}

/// The field group names, in core's order.
pub fn field_group_names() -> Vec<&'static str> {
    FieldGroup::ALL.iter().map(|g| g.name()).collect()
}

/// Registers this module's classes and function on the native module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<SourceSystemPy>()?;
    m.add_class::<Lineage>()?;
    m.add_class::<ConflictPy>()?;
    m.add_class::<UpsertResult>()?;
    m.add_class::<Feedback>()?;
    m.add_class::<Candidate>()?;
    m.add_class::<Merge>()?;
    m.add_class::<QualityRowPy>()?;
    m.add_class::<PyQualityReport>()?;
    m.add_class::<PyCandidates>()?;
    m.add_class::<RejectionPy>()?;
    m.add_class::<PyImportReport>()?;
    m.add_function(wrap_pyfunction!(synth_write_dirty, m)?)?;
    m.add("FIELD_GROUPS", field_group_names())?;
    Ok(())
}
