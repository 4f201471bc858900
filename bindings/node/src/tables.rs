//! Tables as Arrow IPC streams (`Buffer`s that apache-arrow's `tableFromIPC` reads), built by
//! core's `autocrm::export` (unscoped) or `ScopedStore`'s scoped exports.

use arrow_array::RecordBatch;
use autocrm::api::ScopedStore;
use autocrm::export;
use autocrm::store::ReadTxn;
use autocrm::{CustomerId, CustomerSet, Date, Facts};
use serde_json::Value;

use crate::error::{value_error, OrJs};
use crate::input::{self, Rec};
use crate::value::{ToV, V};

/// Which table, with its options.
pub struct Spec {
    name: String,
    customer: Option<CustomerId>,
    threads: Option<usize>,
}

/// The tables `table(name)` serves.
pub const NAMES: &[&str] = &[
    "customers",
    "vehicles",
    "ownership",
    "touchpoints",
    "postings",
    "leads",
    "complaints",
    "surveys",
];

impl Spec {
    /// `name` and options `{ customer, threads }`.
    pub fn parse(name: &str, opts: Option<Value>) -> napi::Result<Spec> {
        if !NAMES.contains(&name) {
            return Err(value_error(format!(
                "unknown table {name:?} (use one of {})",
                NAMES.join(", ")
            )));
        }
        let mut r = Rec::new("table options", opts)?;
        let customer = r.opt("customer", input::uint)?.map(CustomerId);
        let threads = r.opt("threads", input::uint)?.map(|t| t as usize);
        r.done()?;
        Ok(Spec {
            name: name.to_string(),
            customer,
            threads,
        })
    }
}

/// An Arrow error: a bug (core reports Arrow errors as `internal` too).
fn arrow_err(e: impl std::fmt::Display) -> autocrm::Error {
    autocrm::Error::Internal {
        what: format!("arrow ipc: {e}"),
    }
}

/// Batches as one IPC stream.
fn ipc(batches: &[RecordBatch]) -> autocrm::Result<V> {
    let Some(first) = batches.first() else {
        return Err(arrow_err("an export returned no batch"));
    };
    let mut w =
        arrow_ipc::writer::StreamWriter::try_new(Vec::new(), &first.schema()).map_err(arrow_err)?;
    for b in batches {
        w.write(b).map_err(arrow_err)?;
    }
    w.finish().map_err(arrow_err)?;
    Ok(V::Buf(w.into_inner().map_err(arrow_err)?))
}

/// An unscoped table.
pub fn unscoped(r: &ReadTxn, s: &Spec) -> autocrm::Result<V> {
    let batches = match s.name.as_str() {
        "customers" => export::customers(r, s.threads)?,
        "vehicles" => vec![export::vehicles(r)?],
        "ownership" => vec![export::ownership(r)?],
        "touchpoints" => vec![export::touchpoints(r, s.customer)?],
        "postings" => vec![export::postings(r, s.customer)?],
        "leads" => vec![export::leads(r)?],
        "complaints" => vec![export::complaints(r)?],
        _ => vec![export::surveys(r)?],
    };
    ipc(&batches)
}

/// Each customer's home dealer on `on` (core's `export::home_dealers_of`): `customer`,
/// `home_dealer`.
pub fn home_dealers(facts: &Facts, on: Date) -> autocrm::Result<V> {
    ipc(&[export::home_dealers_of(facts, on)?])
}

/// A table as scope `s` sees it.
pub fn scoped(st: &ScopedStore, s: &Spec) -> napi::Result<V> {
    let batches = match s.name.as_str() {
        "customers" => st.customers_table(s.threads).js()?,
        "vehicles" => vec![st.vehicles_table().js()?],
        "ownership" => vec![st.ownership_table().js()?],
        "touchpoints" => vec![st.touchpoints_table(s.customer).js()?],
        "postings" => vec![st.postings_table(s.customer).js()?],
        "leads" => vec![st.leads_table().js()?],
        "complaints" => vec![st.complaints_table().js()?],
        // Spec::parse admits only NAMES, all of which are served above.
        _ => vec![st.surveys_table().js()?],
    };
    ipc(&batches).js()
}

/// A segment's members: `{ size, ids }`.
pub fn members(set: &CustomerSet) -> V {
    crate::obj! {
        "size" => set.len().to_v(),
        "ids" => V::Arr(set.iter().map(|c| c.0.to_v()).collect()),
    }
}
