//! Erasure on request (core's `autocrm::erasure`): `WriteTxn.erase_customer`,
//! `ReadTxn.erasure` / `erasures`, and `ScopedDatabase.erase` (in `access`). Erasures come back
//! as dicts: customer, merged, at, by, reason, had_valid_info, counts.

use autocrm::erasure::Erasure;
use autocrm::CustomerId;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::conv::ToPy;
use crate::errors::{detach, IntoPyResult};
use crate::{PyReadTxn, PyWriteTxn};

/// An erasure as a dict.
pub(crate) fn erasure<'py>(py: Python<'py>, e: &Erasure) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("customer", e.customer.0)?;
    d.set_item("merged", e.merged.to_py(py)?)?;
    d.set_item("at", e.at.to_py(py)?)?;
    d.set_item("by", &e.by)?;
    d.set_item("reason", &e.reason)?;
    d.set_item("had_valid_info", e.had_valid_info)?;
    let c = PyDict::new(py);
    c.set_item("touchpoint_notes", e.counts.touchpoint_notes)?;
    c.set_item("complaint_notes", e.counts.complaint_notes)?;
    c.set_item("lineage_entries", e.counts.lineage_entries)?;
    c.set_item("conflicts", e.counts.conflicts)?;
    c.set_item("feedback_entries", e.counts.feedback_entries)?;
    c.set_item("merge_records", e.counts.merge_records)?;
    d.set_item("counts", c)?;
    Ok(d)
}

#[pymethods]
impl PyWriteTxn {
    /// Erases customer `id`'s personal data on request (name, IDs, phones, address, birth
    /// date, notes, source values; see docs/access.md): `by` names the operator, `reason` the
    /// request. Figures (KPIs, segments, the ledger) stay as they were; the erasure is audited.
    /// Erasing again returns the first erasure. Close the database and call
    /// `Database.vacuum(path)` afterwards so the old bytes leave the file. Returns the erasure
    /// as a dict.
    fn erase_customer<'py>(
        &self,
        py: Python<'py>,
        id: u64,
        by: String,
        reason: String,
    ) -> PyResult<Bound<'py, PyDict>> {
        let e = self.with(py, move |tx| {
            tx.erase_customer(CustomerId(id), &by, &reason)
        })?;
        erasure(py, &e)
    }
}

#[pymethods]
impl PyReadTxn {
    /// The erasure of customer `id` as a dict, or None if it was not erased.
    fn erasure<'py>(&self, py: Python<'py>, id: u64) -> PyResult<Option<Bound<'py, PyDict>>> {
        self.with(py, move |r| r.erasure(CustomerId(id)))?
            .map(|e| erasure(py, &e))
            .transpose()
    }

    /// The erasure register: every erasure (dicts), by customer id. Holds no personal value.
    fn erasures<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let all = self.with(py, |r| r.erasures())?;
        let l = PyList::empty(py);
        for e in &all {
            l.append(erasure(py, e)?)?;
        }
        Ok(l)
    }
}

/// Rewrites the closed database file at `path` into a fresh file holding only its live
/// records (`Database::vacuum` in core): run it after erasures so no erased byte stays on the
/// disk. The file must not be open.
#[pyfunction]
pub(crate) fn vacuum(py: Python<'_>, path: std::path::PathBuf) -> PyResult<()> {
    detach(py, || autocrm::Database::vacuum(&path)).py()
}
