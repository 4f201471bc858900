//! Replicas that sync with HQ (core's `autocrm::sync`, through `api::Store`): on `Database`,
//! `register_replica`, `init_replica`, `sync_push`, `sync_serve`, `sync_pull`, `sync_with`,
//! `sync_status`, `replicas`. Batches travel as `bytes`; results are the frozen classes
//! `SyncReport`, `SyncRejection`, `ReplicaStatus` and `ReplicaState` (API.md, "Replicas").

use std::str::FromStr;

use autocrm::access::Scope;
use autocrm::sync::{ReplicaState, ReplicaStatus, SyncRejection, SyncReport};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};
use pyo3::IntoPyObjectExt;

use crate::errors::{detach, IntoPyResult};
use crate::integration::record_class;
use crate::PyDatabase;

record_class!(
    /// A record of a sync batch that could not be applied: `entity` ("customer", "vehicle",
    /// "touchpoint", "consents", "merge" or "erasure"), its ids as the batch gave them (`hq`, `replica`,
    /// each an int or None), and why (`code`, as an Error's code, and `message`).
    SyncRejectionPy, "SyncRejection", [entity, hq, replica, code, message]
);

record_class!(
    /// What one step of a replica round trip did (`sync_serve`, `sync_pull`, `sync_with`):
    /// counts of customers, vehicles, touchpoints, merges, erasures and consent events applied,
    /// records that changed nothing (`unchanged`), records refused (`rejected`: SyncRejection
    /// list; the rest of the batch was applied), `already_applied` (the batch had been applied
    /// before: nothing was done) and `more` (pull: HQ has more; serve: the answer is not the
    /// last page).
    SyncReportPy, "SyncReport", [customers, vehicles, touchpoints, merges, erasures, consents,
        unchanged, rejected, already_applied, more]
);

record_class!(
    /// A replica's standing (`sync_status`): its `name` and `scope`, its own changes not yet
    /// confirmed by HQ (`pending`) and of those, changes to sensitive touchpoints
    /// (`pending_sensitive`: sync at once when not zero), whether its first copy of HQ's data
    /// is complete (`copied`) and HQ's change it has applied through (`position`).
    ReplicaStatusPy, "ReplicaStatus", [name, scope, pending, pending_sensitive, copied, position]
);

record_class!(
    /// A replica HQ's file has registered (`replicas`): its `name` (its source system at HQ),
    /// its `scope`, the replica's latest change HQ has applied (`applied`) and the batches HQ
    /// has served it (`syncs`).
    ReplicaStatePy, "ReplicaState", [name, scope, applied, syncs]
);

fn any<'py, T: IntoPyObject<'py>>(py: Python<'py>, v: T) -> PyResult<Py<PyAny>> {
    v.into_py_any(py)
}

fn rejection(py: Python<'_>, r: &SyncRejection) -> PyResult<Py<PyAny>> {
    let v = SyncRejectionPy {
        entity: any(py, r.entity)?,
        hq: any(py, r.id.hq)?,
        replica: any(py, r.id.replica)?,
        code: any(py, &r.code)?,
        message: any(py, &r.message)?,
    };
    Ok(Py::new(py, v)?.into_any())
}

fn report(py: Python<'_>, r: &SyncReport) -> PyResult<Py<SyncReportPy>> {
    let rejected = PyList::empty(py);
    for x in &r.rejected {
        rejected.append(rejection(py, x)?)?;
    }
    let v = SyncReportPy {
        customers: any(py, r.customers)?,
        vehicles: any(py, r.vehicles)?,
        touchpoints: any(py, r.touchpoints)?,
        merges: any(py, r.merges)?,
        erasures: any(py, r.erasures)?,
        consents: any(py, r.consents)?,
        unchanged: any(py, r.unchanged)?,
        rejected: rejected.into_any().unbind(),
        already_applied: any(py, r.already_applied)?,
        more: any(py, r.more)?,
    };
    Py::new(py, v)
}

fn status(py: Python<'_>, s: &ReplicaStatus) -> PyResult<Py<ReplicaStatusPy>> {
    let v = ReplicaStatusPy {
        name: any(py, &s.state.name)?,
        scope: any(py, &s.state.scope)?,
        pending: any(py, s.pending)?,
        pending_sensitive: any(py, s.pending_sensitive)?,
        copied: any(py, s.state.pull.copied)?,
        position: any(py, s.state.pull.after)?,
    };
    Py::new(py, v)
}

fn state(py: Python<'_>, s: &ReplicaState) -> PyResult<Py<ReplicaStatePy>> {
    let v = ReplicaStatePy {
        name: any(py, &s.name)?,
        scope: any(py, &s.scope)?,
        applied: any(py, s.applied)?,
        syncs: any(py, s.syncs)?,
    };
    Py::new(py, v)
}

fn scope(text: &str) -> PyResult<Scope> {
    Scope::from_str(text).py()
}

#[pymethods]
impl PyDatabase {
    /// On HQ's file: registers replica `name` with scope `scope` ("dealer:<code>" or
    /// "owner:<customer id>"); it becomes a source system and a change-feed consumer keeps
    /// HQ's changes until the replica has them. Registering again with the same scope does
    /// nothing. ValidationError on the name ("hq" is reserved), InvalidOperationError
    /// `invalid_operation.replica_scope` for an "hq:<role>" scope, UnknownScopeError for a
    /// dealer or customer the file lacks, DuplicateKeyError for a name already taken.
    fn register_replica(&self, py: Python<'_>, name: &str, scope: &str) -> PyResult<()> {
        let scope = self::scope(scope)?;
        detach(py, || self.store.register_replica(name, &scope)).py()
    }

    /// Makes this empty file replica `name` of HQ with scope `scope` (as HQ registered it).
    /// InvalidOperationError `invalid_operation.replica_scope`, or
    /// `invalid_operation.replica_not_empty` if the file holds customers or is another replica.
    fn init_replica(&self, py: Python<'_>, name: &str, scope: &str) -> PyResult<()> {
        let scope = self::scope(scope)?;
        detach(py, || self.store.init_replica(name, &scope)).py()
    }

    /// On a replica: the batch of its changes not yet confirmed by HQ, as bytes to hand to
    /// HQ's `sync_serve`. Writes nothing. InvalidOperationError
    /// `invalid_operation.not_a_replica` on a file `init_replica` did not make a replica.
    fn sync_push<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = detach(py, || self.store.sync_push()).py()?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// On HQ's file: applies a replica's pushed bytes `up` and returns `(down, report)`: the
    /// answer's bytes for the replica's `sync_pull` and what applying did (SyncReport).
    /// InvalidOperationError `sync_batch_unreadable` for bytes that are no batch,
    /// `sync_batch_mismatch` for a batch of another direction or scope; NotFoundError for a
    /// replica HQ has not registered.
    fn sync_serve<'py>(
        &self,
        py: Python<'py>,
        up: &[u8],
    ) -> PyResult<(Bound<'py, PyBytes>, Py<SyncReportPy>)> {
        let (down, r) = detach(py, || self.store.sync_serve(up)).py()?;
        Ok((PyBytes::new(py, &down), report(py, &r)?))
    }

    /// On a replica: applies HQ's answer bytes `down` in one transaction (SyncReport; pulling
    /// the same bytes again changes nothing and reports `already_applied`).
    /// InvalidOperationError `sync_batch_unreadable` or `sync_batch_mismatch`.
    fn sync_pull(&self, py: Python<'_>, down: &[u8]) -> PyResult<Py<SyncReportPy>> {
        let r = detach(py, || self.store.sync_pull(down)).py()?;
        report(py, &r)
    }

    /// On a replica: round trips with `hq` (another open Database) until HQ has nothing more,
    /// at most `max_rounds`; returns the reports of the last serve and pull.
    #[pyo3(signature = (hq, max_rounds=100))]
    fn sync_with(
        &self,
        py: Python<'_>,
        hq: PyRef<'_, PyDatabase>,
        max_rounds: usize,
    ) -> PyResult<(Py<SyncReportPy>, Py<SyncReportPy>)> {
        let hq = &hq.store;
        let (served, pulled) = detach(py, || self.store.sync_with(hq, max_rounds)).py()?;
        Ok((report(py, &served)?, report(py, &pulled)?))
    }

    /// On a replica: its standing (ReplicaStatus). InvalidOperationError
    /// `invalid_operation.not_a_replica` on a file that is not a replica.
    fn sync_status(&self, py: Python<'_>) -> PyResult<Py<ReplicaStatusPy>> {
        let s = detach(py, || self.store.sync_status()).py()?;
        status(py, &s)
    }

    /// On HQ's file: the replicas it has registered (ReplicaState list).
    fn replicas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let all = detach(py, || self.store.replicas()).py()?;
        let l = PyList::empty(py);
        for s in &all {
            l.append(state(py, s)?)?;
        }
        Ok(l)
    }
}

/// Registers the result classes.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<SyncRejectionPy>()?;
    m.add_class::<SyncReportPy>()?;
    m.add_class::<ReplicaStatusPy>()?;
    m.add_class::<ReplicaStatePy>()?;
    Ok(())
}
