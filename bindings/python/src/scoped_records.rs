//! Leads and complaints written under a scope (`ScopedDatabase.add_lead`, `add_complaint`):
//! core's `ScopedStore` stamps a dealer's records with the dealer, refuses another dealer's and
//! customers the scope does not see, and audits the write.

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::access::PyScopedDatabase;
use crate::{one, records};

#[pymethods]
impl PyScopedDatabase {
    /// Adds a lead (the fields of `insert_lead`); returns its id. A dealer scope's lead is
    /// assigned to it; one assigned to another dealer raises AccessDeniedError.
    #[pyo3(signature = (record=None, **fields))]
    fn add_lead(
        &self,
        py: Python<'_>,
        record: Option<&Bound<'_, PyAny>>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<u64> {
        let l = one(py, "lead", record, fields, records::lead)?;
        self.with(py, move |s| s.add_lead(&l)).map(|i| i.0)
    }

    /// Adds a complaint (the fields of `insert_complaint`); returns its id. A dealer scope's
    /// complaint names it; one naming another dealer raises AccessDeniedError.
    #[pyo3(signature = (record=None, **fields))]
    fn add_complaint(
        &self,
        py: Python<'_>,
        record: Option<&Bound<'_, PyAny>>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<u64> {
        let c = one(py, "complaint", record, fields, records::complaint)?;
        self.with(py, move |s| s.add_complaint(&c)).map(|i| i.0)
    }
}
