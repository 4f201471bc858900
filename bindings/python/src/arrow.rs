//! Tables out as Arrow through the PyCapsule interface (`__arrow_c_stream__`). The record
//! batches are built by core (`autocrm::export`, feature `arrow`) with the GIL released, never
//! through per-row Python objects; this module only hands them to Python: the `Table` class,
//! the C stream capsule, and `arrow_methods!` for result classes.

use std::sync::Arc;

use autocrm::export::arrow_array::{ArrayRef, RecordBatch, StructArray};
use autocrm::export::arrow_schema::Field;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use pyo3_arrow::ffi::{to_stream_pycapsule, ArrayIterator};

/// Exports `batches` (at least one, all of one schema) as an Arrow C stream capsule.
pub fn stream_capsule<'py>(
    py: Python<'py>,
    batches: &[RecordBatch],
    requested_schema: Option<Bound<'py, PyCapsule>>,
) -> PyResult<Bound<'py, PyCapsule>> {
    let schema = batches
        .first()
        .ok_or_else(|| PyValueError::new_err("an Arrow table needs a schema"))?
        .schema();
    let arrays: Vec<ArrayRef> = batches
        .iter()
        .map(|b| Arc::new(StructArray::from(b.clone())) as ArrayRef)
        .collect();
    let field = Arc::new(
        Field::new_struct("", schema.fields().clone(), false)
            .with_metadata(schema.metadata.clone()),
    );
    let reader = Box::new(ArrayIterator::new(arrays.into_iter().map(Ok), field));
    Ok(to_stream_pycapsule(py, reader, requested_schema)?)
}

/// Gives a Python class wrapping an `Arc<T>` the Arrow PyCapsule interface
/// (`__arrow_c_stream__`) and `to_table` / `to_pyarrow` / `to_pandas` / `to_polars`: its rows
/// become one record batch through `$batch(&T) -> autocrm::Result<RecordBatch>` (a builder of
/// `autocrm::export`), built with the GIL released. A macro because
/// pyo3 cannot take `#[pymethods]` from a trait; one extra `#[pymethods]` block per class
/// (pyo3's `multiple-pymethods`).
macro_rules! arrow_methods {
    ($class:ident, $batch:expr) => {
        #[pyo3::pymethods]
        impl $class {
            /// Arrow PyCapsule interface.
            #[pyo3(signature = (requested_schema=None))]
            fn __arrow_c_stream__<'py>(
                &self,
                py: pyo3::Python<'py>,
                requested_schema: Option<pyo3::Bound<'py, pyo3::types::PyCapsule>>,
            ) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::types::PyCapsule>> {
                let table = self.to_table(py)?;
                $crate::arrow::stream_capsule(py, &table.batches, requested_schema)
            }

            /// As an Arrow table object.
            fn to_table(&self, py: pyo3::Python<'_>) -> pyo3::PyResult<$crate::arrow::Table> {
                let rows = self.0.clone();
                let b = py
                    .detach(move || ($batch)(&rows))
                    .map_err($crate::errors::to_py)?;
                Ok($crate::arrow::Table::new(b))
            }

            /// As a `pyarrow.Table` (requires pyarrow).
            fn to_pyarrow<'py>(
                &self,
                py: pyo3::Python<'py>,
            ) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::PyAny>> {
                pyo3::Bound::new(py, self.to_table(py)?)?.call_method0("to_pyarrow")
            }

            /// As a pandas DataFrame (requires pyarrow and pandas).
            fn to_pandas<'py>(
                &self,
                py: pyo3::Python<'py>,
            ) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::PyAny>> {
                pyo3::Bound::new(py, self.to_table(py)?)?.call_method0("to_pandas")
            }

            /// As a polars DataFrame (requires polars).
            fn to_polars<'py>(
                &self,
                py: pyo3::Python<'py>,
            ) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::PyAny>> {
                pyo3::Bound::new(py, self.to_table(py)?)?.call_method0("to_polars")
            }
        }
    };
}
pub(crate) use arrow_methods;

/// Calls `module.attr(obj)`, with an ImportError naming the package if it is missing.
fn via<'py>(obj: &Bound<'py, PyAny>, module: &str, attr: &str) -> PyResult<Bound<'py, PyAny>> {
    let m = obj.py().import(module)?;
    m.getattr(attr)?.call1((obj,))
}

/// An Arrow table built from core records. Consume it with `pyarrow.table(t)`,
/// `polars.DataFrame(t)`, or `t.to_pandas()` / `t.to_polars()`.
#[pyclass(frozen, module = "autocrm", name = "Table")]
pub struct Table {
    /// One or more record batches of one schema (several when built by several threads).
    pub(crate) batches: Vec<RecordBatch>,
}

impl Table {
    /// A table of one batch.
    pub fn new(batch: RecordBatch) -> Table {
        Table {
            batches: vec![batch],
        }
    }

    /// A table of `batches` in order (at least one; all of one schema).
    pub fn chunked(batches: Vec<RecordBatch>) -> Table {
        debug_assert!(!batches.is_empty());
        Table { batches }
    }

    fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

#[pymethods]
impl Table {
    /// Arrow PyCapsule interface: a C stream of the table's record batches.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyCapsule>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        stream_capsule(py, &self.batches, requested_schema)
    }

    /// Number of rows.
    #[getter]
    fn num_rows(&self) -> usize {
        self.rows()
    }

    /// Column names, in order.
    #[getter]
    fn column_names(&self) -> Vec<String> {
        self.batches[0]
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    fn __len__(&self) -> usize {
        self.rows()
    }

    /// As a `pyarrow.Table` (requires pyarrow).
    fn to_pyarrow<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        via(slf.as_any(), "pyarrow", "table")
    }

    /// As a `pandas.DataFrame` (requires pyarrow and pandas).
    fn to_pandas<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        via(slf.as_any(), "pyarrow", "table")?.call_method0("to_pandas")
    }

    /// As a `polars.DataFrame` (requires polars).
    fn to_polars<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        via(slf.as_any(), "polars", "DataFrame")
    }

    fn __repr__(&self) -> String {
        format!(
            "autocrm.Table({} rows: {})",
            self.rows(),
            self.column_names().join(", ")
        )
    }
}
