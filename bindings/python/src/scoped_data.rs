//! Data stewardship under a scope (`ScopedDatabase.import_file`, `conflicts`,
//! `resolve_conflict`, `duplicates`, `merge`, `feedback`, `quality_report`): thin calls of core's
//! `ScopedStore` methods, which check `manage_data` (a dealer: its own feedback queue and quality
//! row), filter what the scope sees and audit. The converters are the unscoped ones.

use std::path::PathBuf;
use std::sync::Arc;

use autocrm::integration::Resolution;
use autocrm::{ConflictId, CustomerId, Date, DealerId};
use pyo3::prelude::*;

use crate::access::PyScopedDatabase;
use crate::conv::FromPy;
use crate::errors::IntoPyResult;
use crate::integration::{
    import_args, kind_arg, run_import, ConflictPy, Feedback, Merge, PyCandidates, PyImportReport,
    PyQualityReport,
};

#[pymethods]
impl PyScopedDatabase {
    /// Imports a file as `Database.import_file` does (same arguments). Needs `manage_data`;
    /// the audit entry is appended before the first row is read.
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
        let scoped = self.store().clone();
        let now = scoped.now().py()?;
        run_import(py, now, args, move |opts, cb| {
            scoped.import_file(&path, opts, cb)
        })
    }

    /// Conflicts (`open_only`), all or those of `customer`, of customers the scope sees.
    /// Needs `manage_data`.
    #[pyo3(signature = (open_only=true, customer=None))]
    fn conflicts(
        &self,
        py: Python<'_>,
        open_only: bool,
        customer: Option<u64>,
    ) -> PyResult<Vec<ConflictPy>> {
        let v = self.with(py, move |s| {
            s.conflicts(open_only, customer.map(CustomerId))
        })?;
        v.iter().map(|c| ConflictPy::new(py, c)).collect()
    }

    /// Resolves conflict `id` (`accept=True` applies the offered value), decided by the
    /// scope's actor now. Needs `manage_data`.
    fn resolve_conflict(&self, py: Python<'_>, id: u64, accept: bool) -> PyResult<ConflictPy> {
        let r = if accept {
            Resolution::Accept
        } else {
            Resolution::Reject
        };
        let c = self.with(py, move |s| s.resolve_conflict(ConflictId(id), r))?;
        ConflictPy::new(py, &c)
    }

    /// Duplicate candidates scoring at least `min_score`, all or those of `customer`.
    /// Needs `manage_data`.
    #[pyo3(signature = (min_score=70, customer=None))]
    fn duplicates(
        &self,
        py: Python<'_>,
        min_score: u8,
        customer: Option<u64>,
    ) -> PyResult<PyCandidates> {
        let v = self.with(py, move |s| {
            s.duplicates(min_score, customer.map(CustomerId))
        })?;
        Ok(PyCandidates(Arc::new(v)))
    }

    /// Merges customer `merged` into `survivor`, by the scope's actor now. Needs `manage_data`.
    fn merge(&self, py: Python<'_>, survivor: u64, merged: u64) -> PyResult<Merge> {
        let m = self.with(py, move |s| {
            s.merge(CustomerId(survivor), CustomerId(merged))
        })?;
        Merge::new(py, &m)
    }

    /// A feedback queue: a dealer reads its own (`dealer` None or itself); `manage_data`
    /// reads `dealer`'s, or every queue with None.
    #[pyo3(signature = (dealer=None))]
    fn feedback(&self, py: Python<'_>, dealer: Option<u32>) -> PyResult<Vec<Feedback>> {
        let v = self.with(py, move |s| s.feedback(dealer.map(DealerId)))?;
        v.iter().map(|e| Feedback::new(py, e)).collect()
    }

    /// The data-quality report as of `as_of` (a dealer: its own row and the network total).
    /// Needs `analytics`.
    fn quality_report(
        &self,
        py: Python<'_>,
        as_of: &Bound<'_, PyAny>,
    ) -> PyResult<PyQualityReport> {
        let d = Date::from_py(as_of)?;
        let q = self.with(py, move |s| s.quality_report(d))?;
        Ok(PyQualityReport(Arc::new(q)))
    }
}
