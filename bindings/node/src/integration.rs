//! Records received from source systems (core's `integration`: survivorship upserts, the source
//! registry, lineage, conflicts, the feedback queue) and identity resolution (`identity`:
//! duplicate candidates, merges), unscoped. Thin calls of core: every rule — matching, priority,
//! conflicts, what a merge moves — lives in core; a method converts, calls and maps the error.

use autocrm::integration::{FieldGroup, Outcome, SourceRegistry, SourceSystem, Upsert};
use autocrm::{RecordKind, VehicleId};
use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;
use serde_json::Value;

use crate::error::{type_error, value_error, OrJs};
use crate::input::{self, datetime, string, Rec};
use crate::obj;
use crate::value::{ToV, V};
use crate::{cid, job, records, written, Job, NativeRead, NativeWrite};

impl<I: ToV> ToV for Upsert<I> {
    fn to_v(&self) -> V {
        let outcome = match self.outcome {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Unchanged => "unchanged",
        };
        obj! {
            "id" => self.id.to_v(), "outcome" => V::Str(outcome.into()),
            "conflicts" => self.conflicts.to_v(), "incomplete" => self.incomplete.to_v(),
        }
    }
}

impl ToV for SourceSystem {
    fn to_v(&self) -> V {
        let priorities = V::Map(
            FieldGroup::ALL
                .iter()
                .map(|g| (g.name().to_string(), self.priority(*g).to_v()))
                .collect(),
        );
        obj! { "name" => self.name.to_v(), "priorities" => priorities, "verifies" => self.verifies.to_v() }
    }
}

fn field_group(f: &str, v: &Value) -> napi::Result<FieldGroup> {
    let s = string(f, v)?;
    FieldGroup::from_name(&s).ok_or_else(|| {
        let names: Vec<&str> = FieldGroup::ALL.iter().map(|g| g.name()).collect();
        value_error(format!(
            "{f}: unknown field group {s:?} (one of {})",
            names.join(", ")
        ))
    })
}

fn priority(f: &str, v: &Value) -> napi::Result<u16> {
    u16::try_from(input::uint(f, v)?).map_err(|_| value_error(format!("{f}: out of range")))
}

/// Priorities: a number (every field group) or `{ group: number }` (groups not named: 0).
fn priorities(f: &str, v: &Value) -> napi::Result<[u16; 6]> {
    match v {
        Value::Object(m) => {
            let mut s = SourceSystem::new("", 0);
            for (k, x) in m {
                s.set_priority(field_group(f, &Value::from(k.as_str()))?, priority(f, x)?);
            }
            Ok(s.priorities)
        }
        Value::Number(_) => Ok([priority(f, v)?; 6]),
        _ => Err(type_error(format!(
            "{f}: expected a number or an object keyed by field group"
        ))),
    }
}

/// A source system: `{ name, priorities = 0, verifies = false }`.
fn source_system(v: &Value) -> napi::Result<SourceSystem> {
    let mut r = Rec::new("source system", Some(v.clone()))?;
    let s = SourceSystem {
        name: r.req("name", string)?,
        priorities: r.opt("priorities", priorities)?.unwrap_or([0; 6]),
        verifies: r.opt("verifies", boolean)?.unwrap_or(false),
    };
    r.done()?;
    Ok(s)
}

fn boolean(f: &str, v: &Value) -> napi::Result<bool> {
    v.as_bool()
        .ok_or_else(|| type_error(format!("{f}: expected a boolean")))
}

fn record_kind(kind: &str) -> napi::Result<RecordKind> {
    autocrm::import::parse_kind(kind).js()
}

#[napi]
impl NativeWrite {
    /// Upserts a customer received from a source system (core's survivorship: matched, then
    /// merged field by field by source priority, else created): the fields of
    /// `insertCustomer` plus `source` (required, a registered system), `vin`, `dealer` (the
    /// sending dealer) and `receivedAt` (default: now). Returns `{ id, outcome, conflicts,
    /// incomplete }`.
    #[napi(catch_unwind)]
    pub fn upsert_customer(&self, rec: Value) -> napi::Result<V> {
        let (c, vin, from) = records::upsert_customer(Some(rec))?;
        written(self.s.with(|t| {
            let from = from.stamp(t.now());
            t.upsert_customer(&c, vin.as_deref(), &from)
        }))
    }

    /// Upserts a vehicle received from a source system, owned by `owner` (required): the
    /// fields of `insertVehicle` (without `since`) plus `source`, `dealer`, `receivedAt`.
    #[napi(catch_unwind)]
    pub fn upsert_vehicle(&self, rec: Value) -> napi::Result<V> {
        let (v, owner, from) = records::upsert_vehicle(Some(rec))?;
        written(self.s.with(|t| {
            let from = from.stamp(t.now());
            t.upsert_vehicle(&v, owner, &from)
        }))
    }

    /// Replaces the whole source registry: `[{ name, priorities, verifies }]`.
    #[napi(catch_unwind)]
    pub fn set_sources(&self, systems: Vec<Value>) -> napi::Result<()> {
        let reg = SourceRegistry {
            systems: systems
                .iter()
                .map(source_system)
                .collect::<napi::Result<_>>()?,
        };
        self.s.with(|t| t.set_sources(&reg)).js()
    }

    /// Registers source system `name` (or replaces its registration): `priorities` a number
    /// for every field group or `{ group: number }`.
    #[napi(catch_unwind)]
    pub fn register_source(
        &self,
        name: String,
        #[napi(ts_arg_type = "number | Record<string, number>")] priorities: Value,
        verifies: Option<bool>,
    ) -> napi::Result<()> {
        let s = SourceSystem {
            name,
            priorities: self::priorities("priorities", &priorities)?,
            verifies: verifies.unwrap_or(false),
        };
        self.s.with(|t| t.register_source(&s)).js()
    }

    /// Sets one registered system's priority for one field group.
    #[napi(catch_unwind)]
    pub fn set_source_priority(
        &self,
        system: String,
        group: String,
        priority: f64,
    ) -> napi::Result<()> {
        let g = field_group("group", &Value::from(group))?;
        let p = self::priority("priority", &Value::from(priority))?;
        self.s.with(|t| t.set_source_priority(&system, g, p)).js()
    }

    /// Puts a rejected record into the sending dealer's feedback queue (core's
    /// `WriteTxn::reject_as`), keyed by its source record `source` of `kind`: `error` is the
    /// rejection's report shape `{ code, message, field?, hint? }` (index.js passes the caught
    /// `AutocrmError`'s; no hint: core's for the code), `raw` the record as delivered, `opts`
    /// `{ dealer, line, receivedAt }` (no dealer: the unassigned queue; no time: now).
    /// Rejecting the same source record again replaces its entry; a later successful upsert
    /// of it removes the entry. Returns the entry's id.
    #[napi(catch_unwind)]
    pub fn reject(
        &self,
        kind: String,
        source: Value,
        raw: String,
        #[napi(
            ts_arg_type = "{ code: string; message: string; field?: string | null; hint?: string | null }"
        )]
        error: Value,
        opts: Option<Value>,
    ) -> napi::Result<V> {
        let k = record_kind(&kind)?;
        let (from, line) = records::rejected(&source, opts)?;
        let why = records::rejection(error)?;
        written(self.s.with(|t| {
            let from = from.stamp(t.now());
            t.reject_as(&from, k, line, &raw, &why).map(|id| id.0)
        }))
    }

    /// Removes the feedback-queue entry of source record `source` of `kind`; returns whether
    /// there was one.
    #[napi(catch_unwind)]
    pub fn clear_feedback(&self, kind: String, source: Value) -> napi::Result<bool> {
        let (k, s) = (record_kind(&kind)?, input::source("source", &source)?);
        self.s.with(|t| t.clear_feedback(&s, k)).js()
    }

    /// Merges customer `merged` into `survivor` (everything moves; `merged` becomes a
    /// redirect), by operator `by` at `at` (default: now). Returns the merge record.
    #[napi(catch_unwind)]
    pub fn merge_customers(
        &self,
        survivor: f64,
        merged: f64,
        by: String,
        at: Option<Value>,
    ) -> napi::Result<V> {
        let (s, m) = (cid(survivor)?, cid(merged)?);
        let at = match at {
            Some(v) if !v.is_null() => Some(datetime("at", &v)?),
            _ => None,
        };
        written(self.s.with(|t| {
            let at = at.unwrap_or_else(|| t.now());
            t.merge_customers(s, m, at, &by)
        }))
    }
}

#[napi]
impl NativeRead {
    /// The registered source systems (the defaults while none is stored).
    #[napi(catch_unwind)]
    pub fn sources(&self) -> napi::Result<V> {
        written(self.s.with(|r| r.sources().map(|s| s.systems)))
    }

    /// Where each field of vehicle `id` came from.
    #[napi(catch_unwind)]
    pub fn lineage_of_vehicle(&self, id: f64) -> napi::Result<V> {
        let id = VehicleId(input::uint("vehicle", &Value::from(id))?);
        written(self.s.with(|r| r.lineage_of_vehicle(id)))
    }

    /// Conflict `id`.
    #[napi(catch_unwind)]
    pub fn conflict(&self, id: f64) -> napi::Result<V> {
        let id = autocrm::ConflictId(input::uint("id", &Value::from(id))?);
        written(self.s.with(|r| r.conflict(id)))
    }

    /// Every conflict (open and resolved) about a customer and the vehicles it owns or owned.
    #[napi(catch_unwind)]
    pub fn conflicts_of(&self, customer: f64) -> napi::Result<V> {
        let c = cid(customer)?;
        written(self.s.with(|r| r.conflicts_of(c)))
    }

    /// Number of open conflicts.
    #[napi(catch_unwind)]
    pub fn open_conflict_count(&self) -> napi::Result<V> {
        written(self.s.with(|r| r.open_conflict_count()))
    }

    /// The queued feedback entry of source record `source` of `kind` (`null` if none).
    #[napi(catch_unwind)]
    pub fn feedback_entry(&self, kind: String, source: Value) -> napi::Result<V> {
        let (k, s) = (record_kind(&kind)?, input::source("source", &source)?);
        written(self.s.with(|r| r.feedback_entry(k, &s)))
    }

    /// Every queued feedback entry, by dealer (the unassigned queue first), then oldest first.
    #[napi(catch_unwind)]
    pub fn feedback_all(&self) -> napi::Result<V> {
        written(self.s.with(|r| r.feedback_all()))
    }

    /// Lifetime rejection counts: `[{ dealer, code, count }]` (`dealer` null: unassigned).
    #[napi(catch_unwind)]
    pub fn rejection_counts(&self) -> napi::Result<V> {
        let v = self.s.with(|r| r.rejection_counts()).js()?;
        Ok(V::Arr(
            v.iter()
                .map(|(d, code, n)| obj! { "dealer" => d.to_v(), "code" => code.to_v(), "count" => n.to_v() })
                .collect(),
        ))
    }

    /// Every pair of customers that may be one, scoring at least `minScore` (default 70),
    /// highest first (on the pool: it compares the whole customer table).
    #[napi(catch_unwind, ts_return_type = "Promise<unknown>")]
    pub fn duplicate_candidates(&self, min_score: Option<f64>) -> napi::Result<AsyncTask<Job>> {
        // 70: the lowest score a trigger rule gives alone, the Python binding's default too.
        let min = match min_score {
            Some(m) => u8::try_from(input::uint("minScore", &Value::from(m))?)
                .map_err(|_| value_error("minScore: 0 to 100"))?,
            None => 70,
        };
        let s = self.s.clone();
        Ok(job(move || {
            written(s.with(|r| r.duplicate_candidates(min)))
        }))
    }

    /// The duplicate candidates of one customer (any score), highest first.
    #[napi(catch_unwind)]
    pub fn duplicates_of(&self, customer: f64) -> napi::Result<V> {
        let c = cid(customer)?;
        written(self.s.with(|r| r.duplicates_of(c)))
    }

    /// The live customer `id` stands for: itself, or the customer it was merged into.
    #[napi(catch_unwind)]
    pub fn resolve_customer(&self, id: f64) -> napi::Result<V> {
        let c = cid(id)?;
        written(self.s.with(|r| r.resolve_customer(c)))
    }

    /// Every merge whose data ended in `survivor`, oldest first.
    #[napi(catch_unwind)]
    pub fn merges_of(&self, survivor: f64) -> napi::Result<V> {
        let c = cid(survivor)?;
        written(self.s.with(|r| r.merges_of(c)))
    }
}
