//! The change feed (core's `autocrm::feed`): `ReadTxn.changes` / `last_change` / `consumers`
//! / `consumer_position` / `change_feed_enabled` / `change_retention`, and on `WriteTxn`
//! `register_consumer`, `unregister_consumer`, `acknowledge`, `set_change_retention`,
//! `disable_change_feed`, `prune_changes`, `set_actor`, `set_source`. Changes come back as
//! dicts (API.md, "Change feed").

use autocrm::feed::{Change, ChangeKey, ChangePage, Retention};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::conv::ToPy;
use crate::{PyReadTxn, PyWriteTxn};

/// A change's key as a dict of its parts.
fn key<'py>(py: Python<'py>, k: &ChangeKey) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    match k {
        ChangeKey::Id(id) => d.set_item("id", id)?,
        ChangeKey::Name(name) => d.set_item("name", name)?,
        ChangeKey::Touchpoint { customer, id } => {
            d.set_item("customer", customer)?;
            d.set_item("id", id)?;
        }
        ChangeKey::Relation { from, kind, to } => {
            d.set_item("from", from)?;
            d.set_item("kind", autocrm::Named::name(*kind))?;
            d.set_item("to", to)?;
        }
        ChangeKey::SegmentDay { segment, day } => {
            d.set_item("segment", segment)?;
            d.set_item("day", day.to_py(py)?)?;
        }
        ChangeKey::Merge { survivor, merged } => {
            d.set_item("survivor", survivor)?;
            d.set_item("merged", merged)?;
        }
        _ => {}
    }
    Ok(d)
}

/// A change as a dict.
pub(crate) fn change<'py>(py: Python<'py>, c: &Change) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("id", c.id)?;
    d.set_item("commit", c.commit)?;
    d.set_item("at", c.at.to_py(py)?)?;
    d.set_item("actor", &c.actor)?;
    d.set_item("scope", &c.scope)?;
    d.set_item("source", &c.source)?;
    d.set_item("entity", c.entity.name())?;
    d.set_item("op", c.op.name())?;
    d.set_item("key", key(py, &c.key)?)?;
    d.set_item("customer", c.customer().map(|c| c.0))?;
    Ok(d)
}

/// A page of changes as `{"changes", "next", "last"}`.
pub(crate) fn page<'py>(py: Python<'py>, p: &ChangePage) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let l = PyList::empty(py);
    for c in &p.changes {
        l.append(change(py, c)?)?;
    }
    d.set_item("changes", l)?;
    d.set_item("next", p.next)?;
    d.set_item("last", p.last)?;
    Ok(d)
}

/// A retention given as `"until_consumed"`, `"forever"`, a number of days, or `"30d"`.
fn retention(value: &Bound<'_, PyAny>) -> PyResult<Retention> {
    if let Ok(days) = value.extract::<u32>() {
        // Zero days is refused by core, with its own validation error.
        return Ok(Retention::Days(days));
    }
    let text: String = value.extract()?;
    text.parse::<Retention>().map_err(crate::errors::to_py)
}

/// A retention as Python gives it back: the string, or the days as an int.
fn retention_out(py: Python<'_>, r: Retention) -> PyResult<Py<PyAny>> {
    Ok(match r {
        Retention::Days(n) => n.into_pyobject(py)?.into_any().unbind(),
        other => other.to_string().into_pyobject(py)?.into_any().unbind(),
    })
}

#[pymethods]
impl PyReadTxn {
    /// The changes committed after change id `after` (0: from the first), at most `limit`:
    /// `{"changes": [...], "next": int, "last": int}`. Pass `next` as the following `after`;
    /// caught up when `next == last`.
    #[pyo3(signature = (after=0, limit=1000))]
    fn changes<'py>(
        &self,
        py: Python<'py>,
        after: u64,
        limit: usize,
    ) -> PyResult<Bound<'py, PyDict>> {
        let p = self.with(py, move |r| r.changes_after(after, limit))?;
        page(py, &p)
    }

    /// The id of the latest change (0: none yet).
    fn last_change(&self, py: Python<'_>) -> PyResult<u64> {
        self.with(py, |r| r.last_change())
    }

    /// Whether commits append to the change feed.
    fn change_feed_enabled(&self, py: Python<'_>) -> PyResult<bool> {
        self.with(py, |r| r.change_feed_enabled())
    }

    /// How long the feed keeps changes: "until_consumed", "forever", or days (int).
    fn change_retention(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let r = self.with(py, |r| r.change_retention())?;
        retention_out(py, r)
    }

    /// The registered consumers: `[{"name", "position"}]`.
    fn consumers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let all = self.with(py, |r| r.consumers())?;
        let l = PyList::empty(py);
        for c in &all {
            let d = PyDict::new(py);
            d.set_item("name", &c.name)?;
            d.set_item("position", c.position)?;
            l.append(d)?;
        }
        Ok(l)
    }

    /// The id of the last change consumer `name` acknowledged (NotFoundError if unknown).
    fn consumer_position(&self, py: Python<'_>, name: String) -> PyResult<u64> {
        self.with(py, move |r| r.consumer_position(&name))
    }
}

#[pymethods]
impl PyWriteTxn {
    /// Registers a change-feed consumer at the latest change (turning the feed on); returns
    /// its position. Registering again keeps the position.
    fn register_consumer(&self, py: Python<'_>, name: String) -> PyResult<u64> {
        self.with(py, move |tx| tx.register_consumer(&name))
    }

    /// Removes a consumer; True if it was registered.
    fn unregister_consumer(&self, py: Python<'_>, name: String) -> PyResult<bool> {
        self.with(py, move |tx| tx.unregister_consumer(&name))
    }

    /// Records that consumer `name` has read every change up to `position`; returns its
    /// position (which never moves back).
    fn acknowledge(&self, py: Python<'_>, name: String, position: u64) -> PyResult<u64> {
        self.with(py, move |tx| tx.acknowledge(&name, position))
    }

    /// Sets how long the feed keeps changes: "until_consumed", "forever", or days.
    fn set_change_retention(&self, py: Python<'_>, retention: &Bound<'_, PyAny>) -> PyResult<()> {
        let r = self::retention(retention)?;
        self.with(py, move |tx| tx.set_change_retention(r))
    }

    /// Turns the change feed off (registering a consumer turns it on again).
    fn disable_change_feed(&self, py: Python<'_>) -> PyResult<()> {
        self.with(py, |tx| tx.disable_change_feed())
    }

    /// Removes the changes the retention no longer keeps; returns how many.
    fn prune_changes(&self, py: Python<'_>) -> PyResult<u64> {
        self.with(py, |tx| tx.prune_changes())
    }

    /// Names who makes this transaction's changes (and under which scope), for the feed.
    #[pyo3(signature = (actor, scope=None))]
    fn set_actor(&self, py: Python<'_>, actor: String, scope: Option<String>) -> PyResult<()> {
        self.with(py, move |tx| {
            tx.set_actor(&actor, scope.as_deref());
            Ok(())
        })
    }

    /// Names the source system this transaction's changes come from, for the feed.
    fn set_source(&self, py: Python<'_>, source: String) -> PyResult<()> {
        self.with(py, move |tx| {
            tx.set_source(&source);
            Ok(())
        })
    }
}

#[pymethods]
impl crate::access::PyScopedDatabase {
    /// The changes after `after` this scope may see (`{"changes", "next", "last"}`; a page
    /// may hold fewer than `limit` changes and still not be the last). Needs `export` (an
    /// owner: `read_customers`); audited as an export naming the customers the changes name.
    #[pyo3(signature = (after=0, limit=1000))]
    fn changes<'py>(
        &self,
        py: Python<'py>,
        after: u64,
        limit: usize,
    ) -> PyResult<Bound<'py, PyDict>> {
        let p = self.with(py, move |s| s.changes_after(after, limit))?;
        page(py, &p)
    }
}
