//! Segments, KPIs and care actions under a scope (`ScopedDatabase.kpi`, `evaluate`,
//! `evaluate_segment`, `due_actions`): thin calls of core's `ScopedStore` methods, which run
//! on the analytics snapshot as the scope sees it, need `analytics` and are audited.

use std::sync::Arc;

use autocrm::kpi::{Dimension, Period};
use autocrm::{Date, Kpi};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::access::PyScopedDatabase;
use crate::conv::{named_from_py, period_from_py, FromPy};
use crate::types::CareAction;
use crate::{one, params, PyCustomerSet, PyKpiTable};

#[pymethods]
impl PyScopedDatabase {
    /// KPI `name` by dimension `by` for `period` (as `ReadTransaction.kpi`) over the customers
    /// this scope sees; for a dealer, only its own touchpoints, leads, complaints and surveys.
    #[pyo3(signature = (name, period, by="network"))]
    fn kpi(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        period: &Bound<'_, PyAny>,
        by: &str,
    ) -> PyResult<PyKpiTable> {
        let k = Kpi::from_py(name)?;
        let dim = named_from_py::<Dimension>(&by.into_pyobject(py)?.into_any())?;
        let p: Period = period_from_py(period)?;
        let rows = self.with(py, move |s| s.kpi(k, dim, &[p]))?;
        Ok(PyKpiTable(Arc::new(rows)))
    }

    /// The customers this scope sees that match segment rule `rule_text` as of `as_of`.
    fn evaluate(
        &self,
        py: Python<'_>,
        rule_text: String,
        as_of: &Bound<'_, PyAny>,
    ) -> PyResult<PyCustomerSet> {
        let d = Date::from_py(as_of)?;
        let s = self.with(py, move |s| s.evaluate(&rule_text, d))?;
        Ok(PyCustomerSet(Arc::new(s)))
    }

    /// The customers this scope sees in saved segment `name` as of `as_of`.
    fn evaluate_segment(
        &self,
        py: Python<'_>,
        name: String,
        as_of: &Bound<'_, PyAny>,
    ) -> PyResult<PyCustomerSet> {
        let d = Date::from_py(as_of)?;
        let s = self.with(py, move |s| s.evaluate_segment(&name, d))?;
        Ok(PyCustomerSet(Arc::new(s)))
    }

    /// Care actions due on days from_ ≤ d < to for the customers this scope sees (a dealer:
    /// its own). Keyword arguments as `ReadTransaction.due_actions`.
    #[pyo3(signature = (from_, to, **params))]
    fn due_actions(
        &self,
        py: Python<'_>,
        from_: &Bound<'_, PyAny>,
        to: &Bound<'_, PyAny>,
        params: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Vec<CareAction>> {
        let (f, t) = (Date::from_py(from_)?, Date::from_py(to)?);
        let p = one(py, "care parameters", None, params, params::care_params)?;
        let v = self.with(py, move |s| s.due_actions(f, t, &p))?;
        v.iter().map(|a| CareAction::new(py, a)).collect()
    }
}
