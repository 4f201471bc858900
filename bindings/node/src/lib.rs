//! The native module of the Node package `autocrm` (napi-rs 3). A thin shell over core's
//! binding-neutral layer (`autocrm::api`): every method converts its arguments, calls core and
//! maps the error; no rule lives here. `index.js` wraps these classes in the public API
//! (`Database`, transactions, scoped handles, error classes).
//!
//! Every entry point runs under `catch_unwind` (`#[napi(catch_unwind)]` on each method, and
//! [`Job`] around async work), so a panic becomes a rejected call (`InternalError`) instead of
//! aborting the process or leaving a promise pending.

#![warn(missing_docs)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use autocrm::access::Scope;
use autocrm::api::{ReadSession, ScopedStore, Store, WriteSession};
use autocrm::kpi::{Dimension, Kpi};
use autocrm::{ConsentEvent, CustomerId, CustomerKey, Database, DealerId, TouchpointId, VehicleId};
use napi::bindgen_prelude::{AsyncTask, Buffer, Unknown};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use napi::{Env, Task};
use napi_derive::napi;
use serde_json::Value;

mod error;
mod feed;
mod input;
mod integration;
mod lake;
mod loyalty;
mod out;
mod owner;
mod records;
mod sync;
mod tables;
mod value;

pub use error::camel;
use error::{type_error, value_error, OrJs};
use input::{date, datetime, named, string, Rec};
use value::{Json, ToV, V};

/// A JS progress callback called from the pool (`callee_handled = false`: it gets the value,
/// not an error-first pair).
pub type Progress = ThreadsafeFunction<V, Unknown<'static>, V, Status, false>;

/// Work run on the libuv pool: a closure producing a [`V`], its panic caught.
pub struct Job(Option<Box<dyn FnOnce() -> napi::Result<V> + Send>>);

impl Task for Job {
    type Output = V;
    type JsValue = V;

    fn compute(&mut self) -> napi::Result<V> {
        let f = self
            .0
            .take()
            .ok_or_else(|| napi::Error::from_reason("job run twice"))?;
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(r) => r,
            Err(p) => Err(error::panicked(&*p)),
        }
    }

    fn resolve(&mut self, _env: Env, output: V) -> napi::Result<V> {
        Ok(output)
    }
}

fn job(f: impl FnOnce() -> napi::Result<V> + Send + 'static) -> AsyncTask<Job> {
    AsyncTask::new(Job(Some(Box::new(f))))
}

fn cid(id: f64) -> napi::Result<CustomerId> {
    input::uint("customer", &Value::from(id)).map(CustomerId)
}

fn did(id: f64) -> napi::Result<DealerId> {
    u32::try_from(input::uint("dealer", &Value::from(id))?)
        .map(DealerId)
        .map_err(|_| value_error("dealer id out of range"))
}

fn key(text: &str) -> napi::Result<CustomerKey> {
    CustomerKey::parse(text).ok_or_else(|| {
        value_error(format!(
            "{text:?} is not a customer id, national ID, credit code, VIN, mobile or plate"
        ))
    })
}

fn ids(v: Vec<CustomerId>) -> V {
    v.to_v()
}

fn limit(n: Option<u32>, default: usize) -> usize {
    n.map_or(default, |n| n as usize)
}

fn kpi_args(
    name: &str,
    period: &str,
    by: Option<String>,
) -> napi::Result<(Kpi, Dimension, autocrm::kpi::Period)> {
    let k: Kpi = named("kpi", &Value::from(name))?;
    let d: Dimension = named("by", &Value::from(by.as_deref().unwrap_or("network")))?;
    let p = period
        .parse::<autocrm::kpi::Period>()
        .map_err(autocrm::Error::from)
        .js()?;
    Ok((k, d, p))
}

/// Import options from `{ kind, format, encoding, batchSize, sourceSystem, receivedAt }`
/// (the kind from the file name when not given), as both `importFile`s take them.
fn import_options(
    path: &str,
    opts: Option<Value>,
    now: autocrm::DateTime,
) -> napi::Result<autocrm::ImportOptions> {
    let mut r = Rec::new("import options", opts)?;
    let kind = match r.opt("kind", string)? {
        Some(k) => autocrm::import::parse_kind(&k).js()?,
        None => autocrm::RecordKind::from_file_name(path).ok_or_else(|| {
            value_error(format!("{path}: cannot tell the kind of record from the name; pass kind (customer, vehicle, touchpoint, lead)"))
        })?,
    };
    let mut o = autocrm::ImportOptions::new(kind, now);
    if let Some(at) = r.opt("receivedAt", datetime)? {
        o.received_at = at;
    }
    if let Some(f) = r.opt("format", string)? {
        o.format = Some(autocrm::import::Format::parse(&f).js()?);
    }
    if let Some(e) = r.opt("encoding", string)? {
        o.encoding = autocrm::import::Encoding::parse(&e).js()?;
    }
    if let Some(b) = r.opt("batchSize", input::uint)? {
        o.batch_size = b as usize;
    }
    o.source_system = r.opt("sourceSystem", string)?;
    r.done()?;
    Ok(o)
}

/// The import progress hook: queues `{ rows, bytes, totalBytes }` to the JS callback without
/// blocking the import (the pool thread never waits for the JS thread).
fn progress_cb(progress: Option<&Progress>) -> impl FnMut(&autocrm::import::Progress) + '_ {
    move |p| {
        if let Some(cb) = progress {
            let v = obj! {
                "rows" => p.rows.to_v(), "bytes" => p.bytes.to_v(),
                "totalBytes" => p.total_bytes.to_v(),
            };
            cb.call(v, ThreadsafeFunctionCallMode::NonBlocking);
        }
    }
}

/// Care parameters from `{ callbackDay3Days, …, firstServiceKm, maintenanceKm }` (core's
/// `CareParams` fields in camelCase); a key not given takes core's default, and a `null`
/// mileage turns the mileage rule off. Holidays, channels and owner-status windows keep
/// core's defaults (an unknown key is refused, so nothing is silently ignored).
fn care_params(v: Option<Value>) -> napi::Result<autocrm::CareParams> {
    fn days(f: &str, v: &Value) -> napi::Result<i32> {
        i32::try_from(input::int(f, v)?).map_err(|_| value_error(format!("{f}: out of range")))
    }
    fn km(f: &str, v: &Value) -> napi::Result<u32> {
        u32::try_from(input::uint(f, v)?).map_err(|_| value_error(format!("{f}: out of range")))
    }
    let mut r = Rec::new("care parameters", v)?;
    let mut p = autocrm::CareParams::default();
    for (k, slot) in [
        ("callbackDay3Days", &mut p.callback_day3_days),
        ("callbackDay7Days", &mut p.callback_day7_days),
        ("callbackMonth1Months", &mut p.callback_month1_months),
        ("firstServiceMonths", &mut p.first_service_months),
        ("maintenanceMonths", &mut p.maintenance_months),
        ("insuranceLeadDays", &mut p.insurance_lead_days),
        ("inspectionLeadDays", &mut p.inspection_lead_days),
        ("warrantyLeadDays", &mut p.warranty_lead_days),
        ("leadReportDays", &mut p.lead_report_days),
        ("complaintCallbackDays", &mut p.complaint_callback_days),
    ] {
        if let Some(x) = r.opt(k, days)? {
            *slot = x;
        }
    }
    if let Some(x) = r.nullable("firstServiceKm", km)? {
        p.first_service_km = x;
    }
    if let Some(x) = r.nullable("maintenanceKm", km)? {
        p.maintenance_km = x;
    }
    r.done()?;
    Ok(p)
}

/// Escalation parameters from `{ monthDays, monthLimit, quarterDays, quarterLimit }` (core's
/// `EscalationParams` in camelCase); a key not given takes core's default.
fn escalation_params(v: Option<Value>) -> napi::Result<autocrm::EscalationParams> {
    let mut r = Rec::new("escalation parameters", v)?;
    let mut p = autocrm::EscalationParams::default();
    for (k, slot) in [
        ("monthDays", &mut p.month_days),
        ("quarterDays", &mut p.quarter_days),
    ] {
        if let Some(x) = r.opt(k, input::int)? {
            *slot = i32::try_from(x).map_err(|_| value_error(format!("{k}: out of range")))?;
        }
    }
    for (k, slot) in [
        ("monthLimit", &mut p.month_limit),
        ("quarterLimit", &mut p.quarter_limit),
    ] {
        if let Some(x) = r.opt(k, input::uint)? {
            *slot = usize::try_from(x).map_err(|_| value_error(format!("{k}: out of range")))?;
        }
    }
    r.done()?;
    Ok(p)
}

/// One period name or several (`"2024"` or `["2024-Q1", "2024-Q2"]`), parsed by core.
fn periods(v: &Value) -> napi::Result<Vec<autocrm::kpi::Period>> {
    let one = |s: &str| {
        s.parse::<autocrm::kpi::Period>()
            .map_err(autocrm::Error::from)
            .js()
    };
    match v {
        Value::String(s) => Ok(vec![one(s)?]),
        Value::Array(a) if !a.is_empty() => a.iter().map(|x| one(&string("period", x)?)).collect(),
        _ => Err(type_error(
            "period: expected a period name or a non-empty array of them",
        )),
    }
}

/// Test hook: panics inside a native call (sync, or on the pool when `in_pool`), to check that
/// a panic surfaces as an `InternalError` and never takes the process down.
#[napi(catch_unwind)]
pub fn force_panic(in_pool: bool) -> napi::Result<Option<AsyncTask<Job>>> {
    if in_pool {
        return Ok(Some(job(|| panic!("forced panic (test hook, pool)"))));
    }
    panic!("forced panic (test hook)")
}

/// Rewrites the closed database file at `path` into a fresh file holding only its live
/// records (core's `Database::vacuum`, on the pool): after erasures, so no erased byte stays on
/// the disk. The file must not be open.
#[napi(catch_unwind, ts_return_type = "Promise<void>")]
pub fn vacuum(path: String) -> napi::Result<AsyncTask<Job>> {
    Ok(job(move || {
        Database::vacuum(&path).js()?;
        Ok(V::Null)
    }))
}

/// An open database: a shell over core's `api::Store`.
#[napi]
pub struct NativeDatabase {
    store: Store,
    path: Option<String>,
}

fn open_options(opts: Option<Value>) -> napi::Result<(autocrm::store::OpenOptions, bool)> {
    let mut r = Rec::new("options", opts)?;
    let durable = r
        .opt("durable", |f, v| {
            v.as_bool()
                .ok_or_else(|| type_error(format!("{f}: expected a boolean")))
        })?
        .unwrap_or(true);
    let read_only = r
        .opt("readOnly", |f, v| {
            v.as_bool()
                .ok_or_else(|| type_error(format!("{f}: expected a boolean")))
        })?
        .unwrap_or(false);
    let cache = r.opt("cacheBytes", input::uint)?;
    let offset = r
        .opt("utcOffset", string)?
        .unwrap_or_else(|| "+08:00".into());
    r.done()?;
    let offset: autocrm::UtcOffset = offset
        .parse()
        .map_err(|e: autocrm::clock::ParseOffsetError| value_error(e.to_string()))?;
    let mut o = Database::options()
        .durable(durable)
        .read_only(read_only)
        .clock(autocrm::Clock::system(offset));
    if let Some(c) = cache {
        o = o.cache_bytes(c as usize);
    }
    Ok((o, read_only))
}

#[napi]
impl NativeDatabase {
    /// Opens (creating if missing) the database file at `path`.
    #[napi(factory, catch_unwind)]
    pub fn open(path: String, opts: Option<Value>) -> napi::Result<NativeDatabase> {
        let (o, _) = open_options(opts)?;
        let db = o.open(&path).js()?;
        Ok(NativeDatabase {
            store: Store::new(db),
            path: Some(path),
        })
    }

    /// A new, empty in-memory database.
    #[napi(factory, catch_unwind)]
    pub fn in_memory(opts: Option<Value>) -> napi::Result<NativeDatabase> {
        let (o, _) = open_options(opts)?;
        let db = o.in_memory().js()?;
        Ok(NativeDatabase {
            store: Store::new(db),
            path: None,
        })
    }

    /// The file's path (`null` in memory).
    #[napi(getter)]
    pub fn path(&self) -> Option<String> {
        self.path.clone()
    }

    /// Whether `close()` was called.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.store.is_closed()
    }

    /// Closes the handle (idempotent); work still running finishes on its own snapshot.
    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.store.close();
    }

    /// Now by the handle's clock (naive local time).
    #[napi(catch_unwind)]
    pub fn now(&self) -> napi::Result<V> {
        Ok(self.store.database().js()?.now().to_v())
    }

    /// Starts a write transaction.
    #[napi(catch_unwind)]
    pub fn write(&self) -> napi::Result<NativeWrite> {
        Ok(NativeWrite {
            s: Arc::new(self.store.write().js()?),
        })
    }

    /// Starts a read snapshot.
    #[napi(catch_unwind)]
    pub fn read(&self) -> napi::Result<NativeRead> {
        Ok(NativeRead {
            s: Arc::new(self.store.read().js()?),
        })
    }

    /// This database as `scope` sees it, for `actor`, with an optional audit purpose.
    #[napi(catch_unwind)]
    pub fn scoped(
        &self,
        scope: String,
        actor: String,
        purpose: Option<String>,
    ) -> napi::Result<NativeScoped> {
        let sc = scope.parse::<Scope>().js()?;
        let mut s = self.store.scoped(&sc, &actor).js()?;
        if let Some(p) = purpose {
            s = s.with_purpose(&p).js()?;
        }
        Ok(NativeScoped { s })
    }

    /// Appends the queued audit entries of scoped reads now.
    #[napi(catch_unwind)]
    pub fn flush_audit(&self) -> napi::Result<()> {
        self.store.flush_audit().js()
    }

    /// Rewrites the file so it holds only live data (on the pool); resolves to whether
    /// anything moved. Refused (`invalid_operation`) while a transaction of this handle is
    /// open.
    #[napi(catch_unwind, ts_return_type = "Promise<boolean>")]
    pub fn compact(&self) -> napi::Result<AsyncTask<Job>> {
        let store = self.store.clone();
        Ok(job(move || written(store.compact())))
    }

    /// Integrity check: `{ ok, storage, problems }`.
    #[napi(catch_unwind)]
    pub fn check(&self) -> napi::Result<V> {
        let r = self.store.check().js()?;
        Ok(obj! {
            "ok" => r.problems.is_empty().to_v(),
            "storage" => V::Str(match &r.storage {
                autocrm::store::StorageCheck::Verified => "verified".into(),
                autocrm::store::StorageCheck::Repaired => "repaired".into(),
                autocrm::store::StorageCheck::Skipped(why) => format!("skipped: {why}"),
                other => format!("{other:?}"),
            }),
            "problems" => V::Arr(r.problems.iter().map(|p| obj! { "table" => p.table.to_v(), "detail" => p.detail.to_v() }).collect()),
        })
    }

    /// Writes the whole store as Parquet files under `dir` (core `export::lake`, on the
    /// pool): one folder per table, touchpoints by month, `_manifest.json` last. Resolves to
    /// the report.
    #[napi(catch_unwind, ts_return_type = "Promise<LakeReport>")]
    pub fn export_lake(&self, dir: String, opts: Option<Value>) -> napi::Result<AsyncTask<Job>> {
        let o = lake::options(opts)?;
        let db = self.store.database().js()?;
        Ok(job(move || {
            let r = db.begin_read().js()?;
            let report = autocrm::export::lake::write(&r, dir.as_ref(), &o).js()?;
            Ok(lake::report(&report))
        }))
    }

    /// Generates a seeded synthetic dealer network into this database (on the pool).
    #[napi(catch_unwind, ts_return_type = "Promise<Record<string, number>>")]
    pub fn generate(&self, opts: Option<Value>) -> napi::Result<AsyncTask<Job>> {
        let mut r = Rec::new("generate options", opts)?;
        let customers = r.opt("customers", input::uint)?.unwrap_or(1000) as usize;
        let mut cfg = autocrm_synth::SynthConfig::new(customers);
        if let Some(s) = r.opt("seed", input::uint)? {
            cfg.seed = s;
        }
        if let Some(d) = r.opt("dealers", input::uint)? {
            cfg.dealers = d as usize;
        }
        if let Some(a) = r.opt("asOf", date)? {
            cfg.as_of = a;
        }
        if let Some(y) = r.opt("years", input::uint)? {
            cfg.years = u32::try_from(y).map_err(|_| value_error("years: out of range"))?;
        }
        let batch = r.opt("batch", input::uint)?.unwrap_or(1000) as usize;
        r.done()?;
        let db = self.store.database_for_writing().js()?;
        Ok(job(move || {
            let s = autocrm_synth::Network::new(cfg)
                .load(&db, batch.max(1), |_| {})
                .js()?;
            Ok(obj! {
                "dealers" => s.dealers.to_v(), "customers" => s.customers.to_v(),
                "vehicles" => s.vehicles.to_v(), "transfers" => s.transfers.to_v(),
                "touchpoints" => s.touchpoints.to_v(), "leads" => s.leads.to_v(),
                "complaints" => s.complaints.to_v(), "surveys" => s.surveys.to_v(),
                "relations" => s.relations.to_v(), "records" => s.records().to_v(),
            })
        }))
    }

    /// Imports a CSV / JSON Lines file (or `data`, a Buffer, named `path`) on the pool;
    /// `progress({ rows, bytes, totalBytes })` is called on the JS thread after each committed
    /// batch (queued without blocking the import).
    #[napi(catch_unwind)]
    pub fn import(
        &self,
        path: String,
        data: Option<Buffer>,
        opts: Option<Value>,
        progress: Option<Progress>,
    ) -> napi::Result<AsyncTask<Job>> {
        let db = self.store.database_for_writing().js()?;
        let o = import_options(&path, opts, db.now())?;
        let bytes = data.map(|b| b.to_vec());
        Ok(job(move || {
            let on_progress = progress_cb(progress.as_ref());
            let report = match bytes {
                Some(b) => {
                    let n = b.len() as u64;
                    autocrm::import_reader(
                        &db,
                        std::io::Cursor::new(b),
                        &path,
                        Some(n),
                        &o,
                        on_progress,
                    )
                }
                None => autocrm::import_file(&db, &path, &o, on_progress),
            }
            .js()?;
            Ok(report.to_v())
        }))
    }
}

/// A write transaction (`db.write(tx => …)`).
#[napi]
pub struct NativeWrite {
    s: Arc<WriteSession>,
}

fn written<T: ToV>(r: autocrm::Result<T>) -> napi::Result<V> {
    r.js().map(|v| v.to_v())
}

/// As [`written`], handed over as JSON text (the large reads: see [`Json`]).
fn as_json<T: ToV>(r: autocrm::Result<T>) -> napi::Result<Json> {
    r.js().map(|v| Json::of(v.to_v()))
}

#[napi]
impl NativeWrite {
    /// Commits.
    #[napi(catch_unwind)]
    pub fn commit(&self) -> napi::Result<()> {
        self.s.commit().js()
    }

    /// Rolls back.
    #[napi(catch_unwind)]
    pub fn abort(&self) -> napi::Result<()> {
        self.s.abort().js()
    }

    /// Whether committed or aborted.
    #[napi(getter)]
    pub fn finished(&self) -> bool {
        self.s.is_finished()
    }

    /// Turns fsync-on-commit off or on for this transaction.
    #[napi(catch_unwind)]
    pub fn set_durable(&self, durable: bool) -> napi::Result<()> {
        self.s.with(|t| t.set_durable(durable)).js()
    }

    /// Inserts a dealer; returns its id.
    #[napi(catch_unwind)]
    pub fn insert_dealer(&self, rec: Value) -> napi::Result<V> {
        let d = records::dealer(Some(rec))?;
        written(self.s.with(|t| t.insert_dealer(&d)))
    }

    /// Inserts a customer; returns its id.
    #[napi(catch_unwind)]
    pub fn insert_customer(&self, rec: Value) -> napi::Result<V> {
        let c = records::customer(Some(rec))?;
        written(self.s.with(|t| t.insert_customer(&c)))
    }

    /// Inserts customers in one batch (atomic within the transaction); returns their ids. A
    /// failing record is named by `record` (0-based).
    #[napi(catch_unwind)]
    pub fn insert_customers(&self, recs: Vec<Value>) -> napi::Result<V> {
        let cs = records::customers(recs)?;
        written(self.s.with(|t| t.insert_customers(&cs)))
    }

    /// Inserts vehicles in one batch (each with `owner` and `since`: its first owner); returns
    /// their ids. A failing record is named by `record` (0-based).
    #[napi(catch_unwind)]
    pub fn insert_vehicles(&self, recs: Vec<Value>) -> napi::Result<V> {
        let vs = records::vehicles(recs)?;
        written(self.s.with(|t| {
            let mut out = Vec::with_capacity(vs.len());
            for (i, (v, owner)) in vs.iter().enumerate() {
                out.push(t.insert_vehicle(v, *owner).map_err(|e| e.at_record(i))?);
            }
            Ok(out)
        }))
    }

    /// Inserts touchpoints in one batch; returns their ids.
    #[napi(catch_unwind)]
    pub fn insert_touchpoints(&self, recs: Vec<Value>) -> napi::Result<V> {
        let ts = records::touchpoints(recs)?;
        written(self.s.with(|t| t.insert_touchpoints(&ts)))
    }

    /// Inserts leads in one batch; returns their ids.
    #[napi(catch_unwind)]
    pub fn insert_leads(&self, recs: Vec<Value>) -> napi::Result<V> {
        let ls = records::batch(recs, records::lead)?;
        written(self.s.with(|t| t.insert_leads(&ls)))
    }

    /// Inserts complaints in one batch; returns their ids.
    #[napi(catch_unwind)]
    pub fn insert_complaints(&self, recs: Vec<Value>) -> napi::Result<V> {
        let cs = records::batch(recs, records::complaint)?;
        written(self.s.with(|t| t.insert_complaints(&cs)))
    }

    /// Inserts surveys in one batch; returns their ids.
    #[napi(catch_unwind)]
    pub fn insert_surveys(&self, recs: Vec<Value>) -> napi::Result<V> {
        let ss = records::batch(recs, records::survey)?;
        written(self.s.with(|t| t.insert_surveys(&ss)))
    }

    /// Deletes a touchpoint (its rollup and loyalty effects with it).
    #[napi(catch_unwind)]
    pub fn delete_touchpoint(&self, id: f64) -> napi::Result<()> {
        let id = TouchpointId(input::uint("touchpoint", &Value::from(id))?);
        self.s.with(|t| t.delete_touchpoint(id)).js()
    }

    /// Expires loyalty lots past their date as of `asOf`: `{ lots, points }`.
    #[napi(catch_unwind)]
    pub fn expire_lots(&self, as_of: Value) -> napi::Result<V> {
        let d = date("asOf", &as_of)?;
        let r = self.s.with(|t| t.expire_lots(d)).js()?;
        Ok(obj! { "lots" => r.lots.to_v(), "points" => r.points.to_v() })
    }

    /// Reviews every member's tier as of `asOf`; returns the changes made.
    #[napi(catch_unwind)]
    pub fn review_tiers(&self, as_of: Value) -> napi::Result<V> {
        let d = date("asOf", &as_of)?;
        let v = self.s.with(|t| t.review_tiers(d)).js()?;
        Ok(V::Arr(
            v.iter()
                .map(|(c, ch)| {
                    obj! {
                        "customer" => c.to_v(), "on" => ch.on.to_v(),
                        "from" => V::Str(ch.from.name().into()), "to" => V::Str(ch.to.name().into()),
                        "why" => ch.why.to_v(),
                    }
                })
                .collect(),
        ))
    }

    /// Replaces a customer's profile.
    #[napi(catch_unwind)]
    pub fn update_customer(&self, id: f64, rec: Value) -> napi::Result<()> {
        let (id, c) = (cid(id)?, records::customer(Some(rec))?);
        self.s.with(|t| t.update_customer(id, &c)).js()
    }

    /// Deletes a customer with everything that holds his data (refused for a customer with
    /// vehicles or loyalty postings).
    #[napi(catch_unwind)]
    pub fn delete_customer(&self, id: f64) -> napi::Result<()> {
        let id = cid(id)?;
        self.s.with(|t| t.delete_customer(id)).js()
    }

    /// Replaces a vehicle's data (ownership is unchanged: no `owner`, see `transferVehicle`).
    #[napi(catch_unwind)]
    pub fn update_vehicle(&self, id: f64, rec: Value) -> napi::Result<()> {
        let id = VehicleId(input::uint("vehicle", &Value::from(id))?);
        let (v, owner) = records::vehicle(Some(rec))?;
        if owner.is_some() {
            return Err(type_error(
                "updateVehicle does not take `owner`; use transferVehicle",
            ));
        }
        self.s.with(|t| t.update_vehicle(id, &v)).js()
    }

    /// Replaces a lead (its customer cannot change).
    #[napi(catch_unwind)]
    pub fn update_lead(&self, id: f64, rec: Value) -> napi::Result<()> {
        let id = autocrm::LeadId(input::uint("lead", &Value::from(id))?);
        let l = records::lead(Some(rec))?;
        self.s.with(|t| t.update_lead(id, &l)).js()
    }

    /// Moves a complaint one step (to `to`, or the next status) at `at`; returns it as stored.
    #[napi(catch_unwind)]
    pub fn advance_complaint(&self, id: f64, at: Value, to: Option<Value>) -> napi::Result<V> {
        let id = autocrm::ComplaintId(input::uint("complaint", &Value::from(id))?);
        let at = datetime("at", &at)?;
        let to: Option<autocrm::ComplaintStatus> = match to {
            Some(v) if !v.is_null() => Some(named("to", &v)?),
            _ => None,
        };
        let c = self
            .s
            .with(|t| match to {
                Some(to) => t.advance_complaint(id, to, at),
                None => t.advance_complaint_to_next(id, at),
            })
            .js()?;
        Ok(out::complaint(id.0, &c))
    }

    /// Records the first response to a complaint at `at`; returns it as stored.
    #[napi(catch_unwind)]
    pub fn respond_to_complaint(&self, id: f64, at: Value) -> napi::Result<V> {
        let id = autocrm::ComplaintId(input::uint("complaint", &Value::from(id))?);
        let at = datetime("at", &at)?;
        let c = self.s.with(|t| t.respond_to_complaint(id, at)).js()?;
        Ok(out::complaint(id.0, &c))
    }

    /// Evaluates saved segment `name` as of `asOf` on the committed data and stores its
    /// members for that date: `{ size, ids }`.
    #[napi(catch_unwind)]
    pub fn materialise_segment(&self, name: String, as_of: Value) -> napi::Result<V> {
        let d = date("asOf", &as_of)?;
        let set = self.s.materialise_segment(&name, d).js()?;
        Ok(tables::members(&set))
    }

    /// Inserts a vehicle (with `owner` and `since`: its first owner); returns its id.
    #[napi(catch_unwind)]
    pub fn insert_vehicle(&self, rec: Value) -> napi::Result<V> {
        let (v, owner) = records::vehicle(Some(rec))?;
        written(self.s.with(|t| t.insert_vehicle(&v, owner)))
    }

    /// Transfers a vehicle to another owner on a date.
    #[napi(catch_unwind)]
    pub fn transfer_vehicle(&self, vehicle: f64, to: f64, on: Value) -> napi::Result<()> {
        let v = VehicleId(input::uint("vehicle", &Value::from(vehicle))?);
        let (to, on) = (cid(to)?, date("on", &on)?);
        self.s.with(|t| t.transfer_vehicle(v, to, on)).js()
    }

    /// Inserts a touchpoint (earning loyalty points under the club's rules); returns its id.
    #[napi(catch_unwind)]
    pub fn insert_touchpoint(&self, rec: Value) -> napi::Result<V> {
        let tp = records::touchpoint(Some(rec))?;
        written(self.s.with(|t| t.insert_touchpoint(&tp)))
    }

    /// Inserts a lead; returns its id.
    #[napi(catch_unwind)]
    pub fn insert_lead(&self, rec: Value) -> napi::Result<V> {
        let l = records::lead(Some(rec))?;
        written(self.s.with(|t| t.insert_lead(&l)))
    }

    /// Inserts a complaint; returns its id.
    #[napi(catch_unwind)]
    pub fn insert_complaint(&self, rec: Value) -> napi::Result<V> {
        let c = records::complaint(Some(rec))?;
        written(self.s.with(|t| t.insert_complaint(&c)))
    }

    /// Inserts a survey; returns its id.
    #[napi(catch_unwind)]
    pub fn insert_survey(&self, rec: Value) -> napi::Result<V> {
        let s = records::survey(Some(rec))?;
        written(self.s.with(|t| t.insert_survey(&s)))
    }

    /// Records a consent or withdrawal: `{ channel, granted, at, source }`.
    #[napi(catch_unwind)]
    pub fn record_consent(&self, customer: f64, rec: Value) -> napi::Result<()> {
        let c = cid(customer)?;
        let mut r = Rec::new("consent", Some(rec))?;
        let e = ConsentEvent {
            channel: r.req("channel", named)?,
            granted: r.req("granted", |f, v| {
                v.as_bool()
                    .ok_or_else(|| type_error(format!("{f}: expected a boolean")))
            })?,
            at: r.req("at", datetime)?,
            source: r.req("source", string)?,
        };
        r.done()?;
        self.s.with(|t| t.record_consent(c, &e)).js()
    }

    /// Enrols a customer in the brand club.
    #[napi(catch_unwind)]
    pub fn join_brand_club(
        &self,
        customer: f64,
        on: Value,
        source: Option<String>,
    ) -> napi::Result<V> {
        let (c, on) = (cid(customer)?, date("on", &on)?);
        let src = source.unwrap_or_else(|| "app".into());
        written(self.s.with(|t| t.join_brand_club(c, on, &src)))
    }

    /// Enrols a customer in a dealer's club (and the brand club).
    #[napi(catch_unwind)]
    pub fn join_dealer_club(
        &self,
        customer: f64,
        dealer: f64,
        on: Value,
        source: Option<String>,
    ) -> napi::Result<V> {
        let (c, d, on) = (cid(customer)?, did(dealer)?, date("on", &on)?);
        let src = source.unwrap_or_else(|| "app".into());
        written(self.s.with(|t| t.join_dealer_club(c, d, on, &src)))
    }

    /// Stores the club configuration (touchpoints earn only once one is stored): core's
    /// `LoyaltyConfig` fields in camelCase, a key not given taking core's default (no
    /// argument: core's default rules). Core validates it.
    #[napi(catch_unwind)]
    pub fn set_loyalty_config(&self, config: Option<Value>) -> napi::Result<()> {
        let c = loyalty::config(config)?;
        self.s.with(|t| t.set_loyalty_config(&c)).js()
    }

    /// Redeems points (idempotent by `key`); returns the posting id.
    #[napi(catch_unwind)]
    pub fn redeem(&self, rec: Value) -> napi::Result<V> {
        let x = records::redemption(Some(rec))?;
        written(self.s.with(|t| t.redeem(&x)))
    }

    /// Adjusts points (signed; idempotent by `key`); returns the posting id.
    #[napi(catch_unwind)]
    pub fn adjust(&self, rec: Value) -> napi::Result<V> {
        let x = records::adjustment(Some(rec))?;
        written(self.s.with(|t| t.adjust(&x)))
    }

    /// Reverses a credit posting (idempotent by `key`); returns the posting id.
    #[napi(catch_unwind)]
    pub fn reverse(&self, rec: Value) -> napi::Result<V> {
        let x = records::reversal(Some(rec))?;
        written(self.s.with(|t| t.reverse(&x)))
    }

    /// Saves a segment definition; returns its version.
    #[napi(catch_unwind)]
    pub fn save_segment(
        &self,
        name: String,
        definition: String,
        saved: Option<Value>,
    ) -> napi::Result<V> {
        let at = match saved {
            Some(v) if !v.is_null() => datetime("saved", &v)?,
            _ => self.s.with(|t| Ok(t.now())).js()?,
        };
        written(self.s.with(|t| t.save_segment(&name, &definition, at)))
    }

    /// Relates two customers (`relative`, `contact`, `referred_by`, …).
    #[napi(catch_unwind)]
    pub fn relate(&self, from: f64, kind: String, to: f64) -> napi::Result<()> {
        let (f, t) = (cid(from)?, cid(to)?);
        let k = named("kind", &Value::from(kind))?;
        self.s.with(|w| w.relate(f, k, t)).js()
    }

    /// Removes a relation; returns whether it existed.
    #[napi(catch_unwind)]
    pub fn unrelate(&self, from: f64, kind: String, to: f64) -> napi::Result<bool> {
        let (f, t) = (cid(from)?, cid(to)?);
        let k = named("kind", &Value::from(kind))?;
        self.s.with(|w| w.unrelate(f, k, t)).js()
    }

    /// Resolves a conflict: `accept` applies the offered value, `reject` keeps the stored one.
    #[napi(catch_unwind)]
    pub fn resolve_conflict(
        &self,
        id: f64,
        resolution: String,
        by: String,
        at: Option<Value>,
    ) -> napi::Result<V> {
        use autocrm::integration::Resolution;
        let id = autocrm::ConflictId(input::uint("id", &Value::from(id))?);
        let r = match resolution.as_str() {
            "accept" => Resolution::Accept,
            "reject" => Resolution::Reject,
            other => {
                return Err(value_error(format!(
                    "resolution: {other:?} (use accept or reject)"
                )))
            }
        };
        let at = match at {
            Some(v) if !v.is_null() => datetime("at", &v)?,
            _ => self.s.with(|t| Ok(t.now())).js()?,
        };
        written(self.s.with(|t| t.resolve_conflict(id, r, &by, at)))
    }

    /// Erases a customer's personal data (full access; audited as `by`).
    #[napi(catch_unwind)]
    pub fn erase_customer(&self, customer: f64, by: String, reason: String) -> napi::Result<V> {
        let c = cid(customer)?;
        written(self.s.with(|t| t.erase_customer(c, &by, &reason)))
    }
}

/// A read snapshot (`db.read(r => …)`).
#[napi]
pub struct NativeRead {
    s: Arc<ReadSession>,
}

#[napi]
impl NativeRead {
    /// Releases the snapshot.
    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.s.close();
    }

    /// A customer by id.
    #[napi(catch_unwind)]
    pub fn customer(&self, id: f64) -> napi::Result<V> {
        let id = cid(id)?;
        self.s
            .with(|r| r.customer(id).map(|c| out::customer(id.0, &c)))
            .js()
    }

    /// A dealer by id.
    #[napi(catch_unwind)]
    pub fn dealer(&self, id: f64) -> napi::Result<V> {
        let id = did(id)?;
        self.s
            .with(|r| r.dealer(id).map(|d| out::dealer(id.0, &d)))
            .js()
    }

    /// A dealer's id by code (`null` if none).
    #[napi(catch_unwind)]
    pub fn dealer_by_code(&self, code: String) -> napi::Result<V> {
        written(self.s.with(|r| r.dealer_by_code(&code)))
    }

    /// Every dealer.
    #[napi(catch_unwind)]
    pub fn dealers(&self) -> napi::Result<V> {
        let v = self.s.with(|r| r.dealers()).js()?;
        Ok(V::Arr(v.iter().map(|(i, d)| out::dealer(i.0, d)).collect()))
    }

    /// A vehicle by id, with its owners.
    #[napi(catch_unwind)]
    pub fn vehicle(&self, id: f64) -> napi::Result<V> {
        let id = VehicleId(input::uint("vehicle", &Value::from(id))?);
        self.s
            .with(|r| Ok(out::vehicle(id.0, &r.vehicle(id)?, &r.ownership(id)?)))
            .js()
    }

    /// A vehicle's id by VIN (`null` if none).
    #[napi(catch_unwind)]
    pub fn vehicle_by_vin(&self, vin: String) -> napi::Result<V> {
        written(self.s.with(|r| r.vehicle_by_vin(&vin)))
    }

    /// A vehicle's id by plate (`null` if none).
    #[napi(catch_unwind)]
    pub fn vehicle_by_plate(&self, plate: String) -> napi::Result<V> {
        written(self.s.with(|r| r.vehicle_by_plate(&plate)))
    }

    /// A customer's vehicles (current and past).
    #[napi(catch_unwind)]
    pub fn vehicles_of(&self, customer: f64) -> napi::Result<V> {
        let c = cid(customer)?;
        written(self.s.with(|r| r.vehicles_of(c)))
    }

    /// A touchpoint by id.
    #[napi(catch_unwind)]
    pub fn touchpoint(&self, id: f64) -> napi::Result<V> {
        let id = TouchpointId(input::uint("touchpoint", &Value::from(id))?);
        self.s
            .with(|r| r.touchpoint(id).map(|t| out::touchpoint(id.0, &t)))
            .js()
    }

    /// Customer ids matching any key a call centre has (id, national ID, credit code, VIN,
    /// mobile, plate).
    #[napi(catch_unwind)]
    pub fn find_customers(&self, text: String) -> napi::Result<V> {
        let k = key(&text)?;
        self.s.with(|r| r.find_customers(&k)).js().map(ids)
    }

    /// Customer ids with mobile `phone`.
    #[napi(catch_unwind)]
    pub fn customers_by_phone(&self, phone: String) -> napi::Result<V> {
        self.s.with(|r| r.customers_by_phone(&phone)).js().map(ids)
    }

    /// The 360° view (JSON text: see [`Json`]).
    #[napi(catch_unwind, ts_return_type = "string")]
    pub fn customer360(&self, id: f64, timeline_limit: Option<u32>) -> napi::Result<Json> {
        let id = cid(id)?;
        as_json(
            self.s
                .with(|r| r.customer_360(id, limit(timeline_limit, 20))),
        )
    }

    /// A page of a customer's timeline, newest first, older than `before` (a page's `next`;
    /// JSON text: see [`Json`]).
    #[napi(catch_unwind, ts_return_type = "string")]
    pub fn timeline(
        &self,
        customer: f64,
        limit_: Option<u32>,
        before: Option<Value>,
    ) -> napi::Result<Json> {
        let c = cid(customer)?;
        let cursor = cursor(before)?;
        as_json(self.s.with(|r| r.timeline(c, cursor, limit(limit_, 50))))
    }

    /// Number of customers.
    #[napi(catch_unwind)]
    pub fn customer_count(&self) -> napi::Result<V> {
        written(self.s.with(|r| r.customer_count()))
    }

    /// Number of vehicles.
    #[napi(catch_unwind)]
    pub fn vehicle_count(&self) -> napi::Result<V> {
        written(self.s.with(|r| r.vehicle_count()))
    }

    /// Number of touchpoints.
    #[napi(catch_unwind)]
    pub fn touchpoint_count(&self) -> napi::Result<V> {
        written(self.s.with(|r| r.touchpoint_count()))
    }

    /// Every customer id, ascending.
    #[napi(catch_unwind)]
    pub fn customer_ids(&self) -> napi::Result<V> {
        self.s.with(|r| r.customer_ids()).js().map(ids)
    }

    /// The customer holding a national ID (validated and normalised first; `null` if none).
    #[napi(catch_unwind)]
    pub fn customer_by_national_id(&self, national_id: String) -> napi::Result<V> {
        written(self.s.with(|r| r.customer_by_national_id(&national_id)))
    }

    /// The organisation holding a unified social credit code (validated first; `null` if none).
    #[napi(catch_unwind)]
    pub fn customer_by_credit_code(&self, code: String) -> napi::Result<V> {
        written(self.s.with(|r| r.customer_by_credit_code(&code)))
    }

    /// A wallet's balance (`"brand"` or a dealer id).
    #[napi(catch_unwind)]
    pub fn balance(&self, customer: f64, wallet: Option<Value>) -> napi::Result<V> {
        let c = cid(customer)?;
        let w = match wallet {
            Some(w) if !w.is_null() => input::wallet("wallet", &w)?,
            _ => autocrm::loyalty::Wallet::Brand,
        };
        written(self.s.with(|r| r.balance(c, w)))
    }

    /// Every wallet of a customer with its balance.
    #[napi(catch_unwind)]
    pub fn wallets_of(&self, customer: f64) -> napi::Result<V> {
        let c = cid(customer)?;
        let v = self.s.with(|r| r.wallets_of(c)).js()?;
        Ok(V::Arr(v.iter().map(|(w, b)| obj! { "wallet" => out::wallet(*w), "points" => b.points.to_v(), "owed" => b.owed.to_v() }).collect()))
    }

    /// A customer's postings, oldest first.
    #[napi(catch_unwind)]
    pub fn postings_of(&self, customer: f64) -> napi::Result<V> {
        let c = cid(customer)?;
        let v = self.s.with(|r| r.postings_of(c)).js()?;
        Ok(V::Arr(v.iter().map(|(i, p)| out::posting(*i, p)).collect()))
    }

    /// The posting made with idempotency key `key` (`null` if none).
    #[napi(catch_unwind)]
    pub fn posting_by_key(&self, key: String) -> napi::Result<V> {
        let v = self.s.with(|r| r.posting_by_key(&key)).js()?;
        Ok(v.map_or(V::Null, |(i, p)| out::posting(i, &p)))
    }

    /// A customer's club membership (`null` if none).
    #[napi(catch_unwind)]
    pub fn membership(&self, customer: f64) -> napi::Result<V> {
        let c = cid(customer)?;
        written(self.s.with(|r| r.membership(c)))
    }

    /// A customer's tier as of a date.
    #[napi(catch_unwind)]
    pub fn tier_status(&self, customer: f64, as_of: Value) -> napi::Result<V> {
        let (c, d) = (cid(customer)?, date("asOf", &as_of)?);
        written(self.s.with(|r| r.tier_status(c, d)))
    }

    /// Verifies the audit trail's hash chain.
    #[napi(catch_unwind)]
    pub fn verify_audit(&self) -> napi::Result<V> {
        written(self.s.with(|r| r.verify_audit()))
    }

    /// Checks the loyalty ledger's invariants: `{ ok, wallets, postings, lots, problems }`.
    #[napi(catch_unwind)]
    pub fn verify_ledger(&self) -> napi::Result<V> {
        let c = self.s.with(|r| r.verify_ledger()).js()?;
        Ok(obj! {
            "ok" => c.problems.is_empty().to_v(), "wallets" => c.wallets.to_v(),
            "postings" => c.postings.to_v(), "lots" => c.lots.to_v(),
            "problems" => c.problems.to_v(),
        })
    }

    /// Names of the saved segments.
    #[napi(catch_unwind)]
    pub fn segment_names(&self) -> napi::Result<V> {
        written(self.s.with(|r| r.segment_names()))
    }

    /// A saved segment's versions, oldest first (`null` if none).
    #[napi(catch_unwind)]
    pub fn segment(&self, name: String) -> napi::Result<V> {
        let r = self.s.with(|r| r.segment(&name)).js()?;
        Ok(r.map_or(V::Null, |r| {
            V::Arr(
                r.versions
                    .iter()
                    .map(
                        |v| obj! { "saved" => v.saved.to_v(), "definition" => v.definition.to_v() },
                    )
                    .collect(),
            )
        }))
    }

    /// The members of `name` materialised for `asOf`: `{ size, ids }` (`null` if not done).
    #[napi(catch_unwind)]
    pub fn materialised(&self, name: String, as_of: Value) -> napi::Result<V> {
        let d = date("asOf", &as_of)?;
        let set = self.s.with(|r| r.materialised(&name, d)).js()?;
        Ok(set.map_or(V::Null, |s| tables::members(&s)))
    }

    /// Who entered and who left materialised segment `name` between two dates.
    #[napi(catch_unwind)]
    pub fn segment_diff(&self, name: String, from: Value, to: Value) -> napi::Result<V> {
        let (f, t) = (date("from", &from)?, date("to", &to)?);
        let d = self.s.with(|r| r.segment_diff(&name, f, t)).js()?;
        Ok(obj! { "entered" => tables::members(&d.entered), "left" => tables::members(&d.left) })
    }

    /// Complaint escalations as of `asOf`, with optional `{ monthDays, monthLimit,
    /// quarterDays, quarterLimit }` (core's defaults otherwise).
    #[napi(catch_unwind)]
    pub fn complaint_escalations(&self, as_of: Value, params: Option<Value>) -> napi::Result<V> {
        let d = date("asOf", &as_of)?;
        let p = escalation_params(params)?;
        let v = self.s.with(|r| r.complaint_escalations_with(d, &p)).js()?;
        Ok(V::Arr(v.iter().map(out::escalation).collect()))
    }

    /// A lead by id.
    #[napi(catch_unwind)]
    pub fn lead(&self, id: f64) -> napi::Result<V> {
        let id = autocrm::LeadId(input::uint("lead", &Value::from(id))?);
        self.s
            .with(|r| r.lead(id).map(|l| out::lead(id.0, &l)))
            .js()
    }

    /// A complaint by id.
    #[napi(catch_unwind)]
    pub fn complaint(&self, id: f64) -> napi::Result<V> {
        let id = autocrm::ComplaintId(input::uint("complaint", &Value::from(id))?);
        self.s
            .with(|r| r.complaint(id).map(|c| out::complaint(id.0, &c)))
            .js()
    }

    /// A survey by id.
    #[napi(catch_unwind)]
    pub fn survey(&self, id: f64) -> napi::Result<V> {
        let id = autocrm::SurveyId(input::uint("survey", &Value::from(id))?);
        self.s
            .with(|r| r.survey(id).map(|x| out::survey(id.0, &x)))
            .js()
    }

    /// A customer's consent history, oldest first.
    #[napi(catch_unwind)]
    pub fn consents(&self, customer: f64) -> napi::Result<V> {
        let c = cid(customer)?;
        written(self.s.with(|r| r.consents(c).map(|x| x.0)))
    }

    /// A customer's leads, in id order.
    #[napi(catch_unwind)]
    pub fn leads_of(&self, customer: f64) -> napi::Result<V> {
        let c = cid(customer)?;
        let v = self.s.with(|r| r.leads_of(c)).js()?;
        Ok(V::Arr(v.iter().map(|(i, l)| out::lead(i.0, l)).collect()))
    }

    /// A customer's complaints, in id order.
    #[napi(catch_unwind)]
    pub fn complaints_of(&self, customer: f64) -> napi::Result<V> {
        let c = cid(customer)?;
        let v = self.s.with(|r| r.complaints_of(c)).js()?;
        Ok(V::Arr(
            v.iter().map(|(i, x)| out::complaint(i.0, x)).collect(),
        ))
    }

    /// A customer's surveys, in id order.
    #[napi(catch_unwind)]
    pub fn surveys_of(&self, customer: f64) -> napi::Result<V> {
        let c = cid(customer)?;
        let v = self.s.with(|r| r.surveys_of(c)).js()?;
        Ok(V::Arr(v.iter().map(|(i, x)| out::survey(i.0, x)).collect()))
    }

    /// A customer's rollup (all zero for a customer without history).
    #[napi(catch_unwind)]
    pub fn rollup(&self, customer: f64) -> napi::Result<V> {
        let c = cid(customer)?;
        self.s.with(|r| r.rollup(c)).js().map(|x| out::rollup(&x))
    }

    /// A customer's relations, both directions.
    #[napi(catch_unwind)]
    pub fn relations_of(&self, customer: f64) -> napi::Result<V> {
        let c = cid(customer)?;
        written(self.s.with(|r| r.relations_of(c)))
    }

    /// Checks a segment rule without evaluating it (a `RuleError` names line and column).
    #[napi(catch_unwind)]
    pub fn parse_rule(&self, rule: String) -> napi::Result<()> {
        self.s.with(|r| r.parse_rule(&rule).map(|_| ())).js()
    }

    /// The erasure of customer `id` (`null` if not erased).
    #[napi(catch_unwind)]
    pub fn erasure(&self, id: f64) -> napi::Result<V> {
        let c = cid(id)?;
        written(self.s.with(|r| r.erasure(c)))
    }

    /// The erasure register: every erasure, by customer id (no personal value).
    #[napi(catch_unwind)]
    pub fn erasures(&self) -> napi::Result<V> {
        written(self.s.with(|r| r.erasures()))
    }

    /// A customer's home dealer on `on` (`null` if none), from the snapshot's facts (on the
    /// pool: the facts are built once per read).
    #[napi(catch_unwind, ts_return_type = "Promise<number | null>")]
    pub fn home_dealer(&self, customer: f64, on: Value) -> napi::Result<AsyncTask<Job>> {
        let (c, d) = (cid(customer)?, date("on", &on)?);
        let s = self.s.clone();
        Ok(job(move || {
            written(s.with_facts(|_, facts| facts.home_dealer(c, d)))
        }))
    }

    /// Where each profile field of a customer came from.
    #[napi(catch_unwind)]
    pub fn lineage(&self, customer: f64) -> napi::Result<V> {
        let c = cid(customer)?;
        written(self.s.with(|r| r.lineage_of_customer(c)))
    }

    /// Conflicts (offers not applied), open ones only by default.
    #[napi(catch_unwind)]
    pub fn conflicts(&self, open_only: Option<bool>) -> napi::Result<V> {
        written(self.s.with(|r| r.conflicts(open_only.unwrap_or(true))))
    }

    /// The feedback queue of rejected records of `dealer`, or without one the unassigned
    /// queue (records no dealer sent), as Python's `feedback`; `feedbackAll` gives every queue.
    #[napi(catch_unwind)]
    pub fn feedback(&self, dealer: Option<f64>) -> napi::Result<V> {
        let d = dealer.map(did).transpose()?;
        written(self.s.with(|r| r.feedback(d)))
    }

    /// Care actions due on days `from ≤ d < to` (core's default rules), for one dealer or all
    /// (on the pool).
    #[napi(catch_unwind, ts_return_type = "Promise<unknown>")]
    pub fn due_actions(
        &self,
        from: Value,
        to: Value,
        dealer: Option<f64>,
    ) -> napi::Result<AsyncTask<Job>> {
        let (f, t) = (date("from", &from)?, date("to", &to)?);
        let d = dealer.map(did).transpose()?;
        let s = self.s.clone();
        Ok(job(move || {
            written(s.with_facts(|_, facts| Ok(autocrm::due_actions(facts, f, t, d))))
        }))
    }

    /// The audit trail, oldest first, after sequence `after` (one customer's with `customer`).
    #[napi(catch_unwind)]
    pub fn audit_log(
        &self,
        customer: Option<f64>,
        after: Option<f64>,
        limit_: Option<u32>,
    ) -> napi::Result<V> {
        let c = customer.map(cid).transpose()?;
        let a = after
            .map(|a| input::uint("after", &Value::from(a)))
            .transpose()?;
        written(self.s.with(|r| r.audit_log(c, a, limit(limit_, 1000))))
    }

    /// KPI rows (on the pool; the snapshot's facts are built once per read).
    #[napi(catch_unwind, ts_return_type = "Promise<unknown>")]
    pub fn kpi(
        &self,
        name: String,
        period: String,
        by: Option<String>,
    ) -> napi::Result<AsyncTask<Job>> {
        let (k, d, p) = kpi_args(&name, &period, by)?;
        let s = self.s.clone();
        Ok(job(move || {
            written(s.with_facts(|_, f| Ok(f.kpi(k, d, p))))
        }))
    }

    /// Members of a segment rule as of a date: `{ size, ids }` (on the pool).
    #[napi(catch_unwind, ts_return_type = "Promise<unknown>")]
    pub fn evaluate(&self, rule: String, as_of: Value) -> napi::Result<AsyncTask<Job>> {
        let d = date("asOf", &as_of)?;
        let s = self.s.clone();
        Ok(job(move || {
            let set = s.with_facts(|r, f| r.evaluate(&rule, d, f)).js()?;
            Ok(tables::members(&set))
        }))
    }

    /// A table as an Arrow IPC stream (on the pool).
    #[napi(catch_unwind, ts_return_type = "Promise<Buffer>")]
    pub fn table(&self, name: String, opts: Option<Value>) -> napi::Result<AsyncTask<Job>> {
        let spec = tables::Spec::parse(&name, opts)?;
        let s = self.s.clone();
        Ok(job(move || s.with(|r| tables::unscoped(r, &spec)).js()))
    }

    /// Each customer's home dealer on `on` — the dealer per-dealer KPIs count him at — as an
    /// Arrow IPC stream of `customer`, `home_dealer` (on the pool, from the snapshot's facts).
    #[napi(catch_unwind, ts_return_type = "Promise<Buffer>")]
    pub fn home_dealers_table(&self, on: Value) -> napi::Result<AsyncTask<Job>> {
        let d = date("on", &on)?;
        let s = self.s.clone();
        Ok(job(move || {
            s.with_facts(|_, facts| tables::home_dealers(facts, d)).js()
        }))
    }
}

fn cursor(before: Option<Value>) -> napi::Result<Option<autocrm::TimelineCursor>> {
    match before {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            let mut r = Rec::new("before", Some(v))?;
            let c = autocrm::TimelineCursor {
                at: r.req("at", datetime)?,
                id: TouchpointId(r.req("id", input::uint)?),
            };
            r.done()?;
            Ok(Some(c))
        }
    }
}

/// The database as one scope sees it (`db.as(scope, actor)`): a shell over `ScopedStore`.
#[napi]
pub struct NativeScoped {
    s: ScopedStore,
}

#[napi]
impl NativeScoped {
    /// The scope, as text.
    #[napi(getter)]
    pub fn scope(&self) -> String {
        self.s.access().scope.to_string()
    }

    /// Customer ids matching `key` that this scope sees.
    #[napi(catch_unwind)]
    pub fn find(&self, text: String) -> napi::Result<V> {
        let k = key(&text)?;
        self.s.find(&k).js().map(ids)
    }

    /// The 360° view as this scope sees it (`not_found` for a customer it does not see; JSON
    /// text: see [`Json`]).
    #[napi(catch_unwind, ts_return_type = "string")]
    pub fn customer360(&self, id: f64, timeline_limit: Option<u32>) -> napi::Result<Json> {
        as_json(self.s.customer_360(cid(id)?, limit(timeline_limit, 20)))
    }

    /// A page of a customer's timeline as this scope sees it (JSON text: see [`Json`]).
    #[napi(catch_unwind, ts_return_type = "string")]
    pub fn timeline(
        &self,
        customer: f64,
        limit_: Option<u32>,
        before: Option<Value>,
    ) -> napi::Result<Json> {
        as_json(
            self.s
                .timeline(cid(customer)?, cursor(before)?, limit(limit_, 50)),
        )
    }

    /// Adds a touchpoint (a dealer: its own); returns its id.
    #[napi(catch_unwind)]
    pub fn add_touchpoint(&self, rec: Value) -> napi::Result<V> {
        let t = records::touchpoint(Some(rec))?;
        written(self.s.add_touchpoint(&t))
    }

    /// Records a consent or withdrawal, stamped now.
    #[napi(catch_unwind)]
    pub fn record_consent(
        &self,
        customer: f64,
        channel: String,
        granted: bool,
    ) -> napi::Result<()> {
        let ch = named("channel", &Value::from(channel))?;
        self.s.record_consent(cid(customer)?, ch, granted).js()
    }

    /// Redeems points (idempotent by `key`); returns the posting id.
    #[napi(catch_unwind)]
    pub fn redeem(&self, rec: Value) -> napi::Result<V> {
        let x = records::redemption(Some(rec))?;
        written(self.s.redeem(&x))
    }

    /// Erases a customer's personal data (needs `erase`).
    #[napi(catch_unwind)]
    pub fn erase(&self, customer: f64, reason: String) -> napi::Result<V> {
        written(self.s.erase(cid(customer)?, &reason))
    }

    /// The owner changes his contact details.
    #[napi(catch_unwind)]
    pub fn update_my_contact(&self, rec: Value) -> napi::Result<()> {
        let c = records::contact(Some(rec))?;
        self.s.update_my_contact(&c).js()
    }

    /// The audit trail (needs `read_audit`).
    #[napi(catch_unwind)]
    pub fn audit_log(
        &self,
        customer: Option<f64>,
        after: Option<f64>,
        limit_: Option<u32>,
    ) -> napi::Result<V> {
        let c = customer.map(cid).transpose()?;
        let a = after
            .map(|a| input::uint("after", &Value::from(a)))
            .transpose()?;
        written(self.s.audit_log(c, a, limit(limit_, 1000)))
    }

    /// Verifies the audit chain (needs `read_audit`).
    #[napi(catch_unwind)]
    pub fn verify_audit(&self) -> napi::Result<V> {
        written(self.s.verify_audit())
    }

    /// The audit chain head (needs `read_audit`).
    #[napi(catch_unwind)]
    pub fn audit_head(&self) -> napi::Result<V> {
        written(self.s.audit_head())
    }

    /// Appends queued read audit entries now.
    #[napi(catch_unwind)]
    pub fn flush_audit(&self) -> napi::Result<()> {
        self.s.flush_audit().js()
    }

    /// The HQ roles: `{ name: { permissions, consentedChannel } }` (needs `manage_roles`).
    #[napi(catch_unwind)]
    pub fn roles(&self) -> napi::Result<V> {
        let roles = self.s.roles().js()?;
        Ok(V::Map(
            roles
                .0
                .iter()
                .map(|(n, r)| {
                    let perms = V::Arr(r.permissions.iter().map(|p| out::name(*p)).collect());
                    let v = obj! {
                        "permissions" => perms,
                        "consentedChannel" => out::opt_name(r.consented_channel),
                    };
                    (n.clone(), v)
                })
                .collect(),
        ))
    }

    /// Stores HQ role `name` with `permissions` (core's permission names) and an optional
    /// consent channel; `permissions = null` removes the role (needs `manage_roles`).
    #[napi(catch_unwind)]
    pub fn set_role(
        &self,
        name: String,
        #[napi(ts_arg_type = "string[] | null")] permissions: Option<Value>,
        consented_channel: Option<Value>,
    ) -> napi::Result<()> {
        let channel: Option<autocrm::ConsentChannel> = match consented_channel {
            Some(v) if !v.is_null() => Some(named("consentedChannel", &v)?),
            _ => None,
        };
        let role = match permissions {
            Some(Value::Array(a)) => Some(autocrm::access::Role {
                permissions: a
                    .iter()
                    .map(|p| named("permissions", p))
                    .collect::<napi::Result<_>>()?,
                consented_channel: channel,
            }),
            None | Some(Value::Null) if channel.is_some() => {
                return Err(type_error(
                    "setRole: consentedChannel needs permissions (null removes the role)",
                ))
            }
            None | Some(Value::Null) => None,
            Some(_) => {
                return Err(type_error(
                    "permissions: expected an array of permission names or null",
                ))
            }
        };
        self.s.set_role(&name, role.as_ref()).js()
    }

    /// KPI rows over what this scope sees (on the pool).
    #[napi(catch_unwind, ts_return_type = "Promise<unknown>")]
    pub fn kpi(
        &self,
        name: String,
        #[napi(ts_arg_type = "string | string[]")] period: Value,
        by: Option<String>,
    ) -> napi::Result<AsyncTask<Job>> {
        let k: Kpi = named("kpi", &Value::from(name))?;
        let d: Dimension = named("by", &Value::from(by.as_deref().unwrap_or("network")))?;
        // Several periods are computed by core on one snapshot (one audit entry), which is
        // why they are one call rather than one call per period.
        let ps = periods(&period)?;
        let s = self.s.clone();
        Ok(job(move || written(s.kpi(k, d, &ps))))
    }

    /// Members of a segment rule over what this scope sees (on the pool).
    #[napi(catch_unwind, ts_return_type = "Promise<unknown>")]
    pub fn evaluate(&self, rule: String, as_of: Value) -> napi::Result<AsyncTask<Job>> {
        let d = date("asOf", &as_of)?;
        let s = self.s.clone();
        Ok(job(move || {
            Ok(tables::members(&s.evaluate(&rule, d).js()?))
        }))
    }

    /// Members of saved segment `name` that this scope sees, as of `asOf` (on the pool).
    #[napi(catch_unwind, ts_return_type = "Promise<unknown>")]
    pub fn evaluate_segment(&self, name: String, as_of: Value) -> napi::Result<AsyncTask<Job>> {
        let d = date("asOf", &as_of)?;
        let s = self.s.clone();
        Ok(job(move || {
            Ok(tables::members(&s.evaluate_segment(&name, d).js()?))
        }))
    }

    /// Care actions due on days `from ≤ d < to` for the customers this scope sees (a dealer:
    /// its own), with optional care parameters (on the pool).
    #[napi(catch_unwind, ts_return_type = "Promise<unknown>")]
    pub fn due_actions(
        &self,
        from: Value,
        to: Value,
        params: Option<Value>,
    ) -> napi::Result<AsyncTask<Job>> {
        let (f, t) = (date("from", &from)?, date("to", &to)?);
        let p = care_params(params)?;
        let s = self.s.clone();
        Ok(job(move || written(s.due_actions(f, t, &p))))
    }

    /// Adds a lead (a dealer: assigned to itself); returns its id.
    #[napi(catch_unwind)]
    pub fn add_lead(&self, rec: Value) -> napi::Result<V> {
        let l = records::lead(Some(rec))?;
        written(self.s.add_lead(&l))
    }

    /// Adds a complaint (a dealer: naming itself); returns its id.
    #[napi(catch_unwind)]
    pub fn add_complaint(&self, rec: Value) -> napi::Result<V> {
        let c = records::complaint(Some(rec))?;
        written(self.s.add_complaint(&c))
    }

    /// Imports a file as `Database.importFile` does (needs `manage_data`; on the pool).
    #[napi(catch_unwind)]
    pub fn import(
        &self,
        path: String,
        opts: Option<Value>,
        progress: Option<Progress>,
    ) -> napi::Result<AsyncTask<Job>> {
        let o = import_options(&path, opts, self.s.now().js()?)?;
        let s = self.s.clone();
        Ok(job(move || {
            written(s.import_file(&path, &o, progress_cb(progress.as_ref())))
        }))
    }

    /// Conflicts of customers this scope sees, `{ openOnly = true, customer }` (needs
    /// `manage_data`).
    #[napi(catch_unwind)]
    pub fn conflicts(&self, opts: Option<Value>) -> napi::Result<V> {
        let mut r = Rec::new("conflicts options", opts)?;
        let open_only = r
            .opt("openOnly", |f, v| {
                v.as_bool()
                    .ok_or_else(|| type_error(format!("{f}: expected a boolean")))
            })?
            .unwrap_or(true);
        let c = r.opt("customer", input::uint)?.map(CustomerId);
        r.done()?;
        written(self.s.conflicts(open_only, c))
    }

    /// Resolves a conflict, decided by this scope's actor now: `accept` applies the offered
    /// value, otherwise the stored one is kept (needs `manage_data`).
    #[napi(catch_unwind)]
    pub fn resolve_conflict(&self, id: f64, accept: bool) -> napi::Result<V> {
        use autocrm::integration::Resolution;
        let id = autocrm::ConflictId(input::uint("id", &Value::from(id))?);
        let r = if accept {
            Resolution::Accept
        } else {
            Resolution::Reject
        };
        written(self.s.resolve_conflict(id, r))
    }

    /// Duplicate candidates between customers this scope sees, `{ minScore = 70, customer }`
    /// (needs `manage_data`).
    #[napi(catch_unwind)]
    pub fn duplicates(&self, opts: Option<Value>) -> napi::Result<V> {
        let mut r = Rec::new("duplicates options", opts)?;
        // 70: the lowest score a trigger rule gives alone, the Python binding's default too.
        let min = r.opt("minScore", input::uint)?.unwrap_or(70);
        let min = u8::try_from(min).map_err(|_| value_error("minScore: 0 to 100"))?;
        let c = r.opt("customer", input::uint)?.map(CustomerId);
        r.done()?;
        written(self.s.duplicates(min, c))
    }

    /// Merges customer `merged` into `survivor`, by this scope's actor now (needs
    /// `manage_data`).
    #[napi(catch_unwind)]
    pub fn merge(&self, survivor: f64, merged: f64) -> napi::Result<V> {
        written(self.s.merge(cid(survivor)?, cid(merged)?))
    }

    /// A feedback queue: a dealer's own, or (with `manage_data`) `dealer`'s or every one.
    #[napi(catch_unwind)]
    pub fn feedback(&self, dealer: Option<f64>) -> napi::Result<V> {
        written(self.s.feedback(dealer.map(did).transpose()?))
    }

    /// The data-quality report as of `asOf` (needs `analytics`; a dealer: its own row).
    #[napi(catch_unwind)]
    pub fn quality_report(&self, as_of: Value) -> napi::Result<V> {
        let d = date("asOf", &as_of)?;
        written(self.s.quality_report(d))
    }

    /// The lakehouse export as this scope sees it (needs `export`; audited), on the pool.
    #[napi(catch_unwind, ts_return_type = "Promise<LakeReport>")]
    pub fn export_lake(&self, dir: String, opts: Option<Value>) -> napi::Result<AsyncTask<Job>> {
        let o = lake::options(opts)?;
        let s = self.s.clone();
        Ok(job(move || {
            let report = s.export_lake(dir.as_ref(), &o).js()?;
            Ok(lake::report(&report))
        }))
    }

    /// A table as this scope sees it, as an Arrow IPC stream (on the pool).
    #[napi(catch_unwind, ts_return_type = "Promise<Buffer>")]
    pub fn table(&self, name: String, opts: Option<Value>) -> napi::Result<AsyncTask<Job>> {
        let spec = tables::Spec::parse(&name, opts)?;
        let s = self.s.clone();
        Ok(job(move || tables::scoped(&s, &spec)))
    }
}
