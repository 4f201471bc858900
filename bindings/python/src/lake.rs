//! The lakehouse export (core `export::lake`, docs/export.md): `Database.export_lake` and
//! `ScopedDatabase.export_lake`, each returning the export's report as a dict.

use std::path::PathBuf;

use autocrm::export::lake::{self, LakeOptions, LakeReport};
use autocrm::Date;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::access::PyScopedDatabase;
use crate::conv::{FromPy, ToPy};
use crate::errors::{detach, IntoPyResult};
use crate::PyDatabase;

/// The options from the keyword arguments.
fn options(
    as_of: Option<&Bound<'_, PyAny>>,
    threads: Option<usize>,
    incremental: bool,
) -> PyResult<LakeOptions> {
    Ok(LakeOptions {
        as_of: as_of.map(Date::from_py).transpose()?,
        threads,
        incremental,
        ..LakeOptions::default()
    })
}

/// The report as a dict: `dir`, `snapshot_at` (datetime), `as_of` (date), `scope` (str or
/// None), `sequence` (the change-feed position the folder is current to, or None), `rows`, `bytes`, `files`, `seconds`, `rows_per_second`, and `tables`: one dict per
/// table (`name`, `partitioned_by`, `rows`, `bytes`, `files`: dicts of `path`, `partition`,
/// `rows`, `bytes`).
fn report<'py>(py: Python<'py>, r: &LakeReport) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("dir", r.dir.display().to_string())?;
    d.set_item("snapshot_at", r.snapshot_at.to_py(py)?)?;
    d.set_item("as_of", r.as_of.to_py(py)?)?;
    d.set_item("scope", r.scope.as_deref())?;
    d.set_item("sequence", r.sequence)?;
    d.set_item("rows", r.rows())?;
    d.set_item("bytes", r.bytes())?;
    d.set_item("files", r.files())?;
    d.set_item("seconds", r.elapsed.as_secs_f64())?;
    d.set_item("rows_per_second", r.rows_per_second())?;
    let tables = PyList::empty(py);
    for t in &r.tables {
        let td = PyDict::new(py);
        td.set_item("name", &t.name)?;
        td.set_item("partitioned_by", t.partitioned_by.as_deref())?;
        td.set_item("rows", t.rows)?;
        td.set_item("bytes", t.bytes)?;
        let files = PyList::empty(py);
        for f in &t.files {
            let fd = PyDict::new(py);
            fd.set_item("path", &f.path)?;
            fd.set_item("partition", f.partition.as_deref())?;
            fd.set_item("rows", f.rows)?;
            fd.set_item("bytes", f.bytes)?;
            files.append(fd)?;
        }
        td.set_item("files", files)?;
        tables.append(td)?;
    }
    d.set_item("tables", tables)?;
    Ok(d)
}

#[pymethods]
impl PyDatabase {
    /// Writes the whole store as Parquet files under `dir` (created if missing): one folder
    /// per table, touchpoints partitioned by month (`touchpoints/month=YYYY-MM/`), and
    /// `_manifest.json` written last; files appear under their final names only once complete
    /// (docs/export.md). `dir` must be new, empty or an earlier export (which is replaced):
    /// otherwise InvalidOperationError `invalid_operation.export_target_not_empty`, nothing
    /// written. `as_of`: the day the home_dealers table is computed for (default today);
    /// `threads` as in `customers_table`. `incremental=True` appends what the change feed
    /// says changed since the folder's export instead (part-<position> files and
    /// `_deletions`; InvalidOperationError `export_not_incremental` without a snapshot taken
    /// with the feed on). Runs without the GIL; returns the report as a dict.
    #[pyo3(signature = (dir, *, as_of=None, threads=None, incremental=false))]
    fn export_lake<'py>(
        &self,
        py: Python<'py>,
        dir: PathBuf,
        as_of: Option<&Bound<'py, PyAny>>,
        threads: Option<usize>,
        incremental: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let opts = options(as_of, threads, incremental)?;
        let db = self.store.database().py()?;
        let r = detach(py, || lake::write(&db.begin_read()?, &dir, &opts)).py()?;
        report(py, &r)
    }
}

#[pymethods]
impl PyScopedDatabase {
    /// `Database.export_lake` as this scope sees it: each table holds the rows of the scope's
    /// `*_table` export (customers masked for it; a dealer its own records), `home_dealers`
    /// over its customers, the manifest names the scope. Needs `export` (else
    /// AccessDeniedError, nothing written); audited as one export naming every customer in it,
    /// durably before the files get their final names.
    #[pyo3(signature = (dir, *, as_of=None, threads=None))]
    fn export_lake<'py>(
        &self,
        py: Python<'py>,
        dir: PathBuf,
        as_of: Option<&Bound<'py, PyAny>>,
        threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let opts = options(as_of, threads, false)?;
        let r = self.with(py, |s| s.export_lake(&dir, &opts))?;
        report(py, &r)
    }
}
