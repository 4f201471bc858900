//! Replicas that sync with HQ (core's `autocrm::sync`, through `api::Store`) on
//! `NativeDatabase`: registering and making replicas, the three steps of a round trip with
//! batches as `Buffer`s, a whole round trip with another open database, and the replicas'
//! standing. The short calls are synchronous; serving, pulling and `syncWith` apply batches
//! and run on the libuv pool.

use autocrm::access::Scope;
use autocrm::sync::{ReplicaState, ReplicaStatus, SyncRejection, SyncReport};
use napi::bindgen_prelude::{AsyncTask, Buffer};
use napi_derive::napi;

use crate::error::OrJs;
use crate::obj;
use crate::value::{ToV, V};
use crate::{job, Job, NativeDatabase};

impl ToV for SyncRejection {
    fn to_v(&self) -> V {
        obj! {
            "entity" => self.entity.to_v(), "hq" => self.id.hq.to_v(),
            "replica" => self.id.replica.to_v(), "code" => self.code.to_v(),
            "message" => self.message.to_v(),
        }
    }
}

impl ToV for SyncReport {
    fn to_v(&self) -> V {
        obj! {
            "customers" => self.customers.to_v(), "vehicles" => self.vehicles.to_v(),
            "touchpoints" => self.touchpoints.to_v(), "merges" => self.merges.to_v(),
            "erasures" => self.erasures.to_v(), "consents" => self.consents.to_v(),
            "unchanged" => self.unchanged.to_v(),
            "rejected" => self.rejected.to_v(), "alreadyApplied" => self.already_applied.to_v(),
            "more" => self.more.to_v(),
        }
    }
}

impl ToV for ReplicaStatus {
    fn to_v(&self) -> V {
        obj! {
            "name" => self.state.name.to_v(), "scope" => self.state.scope.to_v(),
            "pending" => self.pending.to_v(), "pendingSensitive" => self.pending_sensitive.to_v(),
            "copied" => self.state.pull.copied.to_v(), "position" => self.state.pull.after.to_v(),
        }
    }
}

impl ToV for ReplicaState {
    fn to_v(&self) -> V {
        obj! {
            "name" => self.name.to_v(), "scope" => self.scope.to_v(),
            "applied" => self.applied.to_v(), "syncs" => self.syncs.to_v(),
        }
    }
}

fn scope(text: &str) -> napi::Result<Scope> {
    text.parse::<Scope>().js()
}

#[napi]
impl NativeDatabase {
    /// On HQ's file: registers replica `name` with scope `scope` (`dealer:<code>` or
    /// `owner:<id>`); again with the same scope does nothing.
    #[napi(catch_unwind)]
    pub fn register_replica(&self, name: String, scope: String) -> napi::Result<()> {
        let sc = self::scope(&scope)?;
        self.store.register_replica(&name, &sc).js()
    }

    /// Makes this empty file replica `name` of HQ with scope `scope`.
    #[napi(catch_unwind)]
    pub fn init_replica(&self, name: String, scope: String) -> napi::Result<()> {
        let sc = self::scope(&scope)?;
        self.store.init_replica(&name, &sc).js()
    }

    /// On a replica: the batch of its changes HQ has not confirmed, for HQ's `syncServe`.
    #[napi(catch_unwind)]
    pub fn sync_push(&self) -> napi::Result<Buffer> {
        Ok(Buffer::from(self.store.sync_push().js()?))
    }

    /// On HQ's file (on the pool): applies a replica's pushed batch; resolves to
    /// `{ batch, report }`, the answer for the replica's `syncPull` and what applying did.
    #[napi(catch_unwind, ts_return_type = "Promise<SyncServed>")]
    pub fn sync_serve(&self, up: Buffer) -> napi::Result<AsyncTask<Job>> {
        let store = self.store.clone();
        let up = up.to_vec();
        Ok(job(move || {
            let (down, report) = store.sync_serve(&up).js()?;
            Ok(obj! { "batch" => V::Buf(down), "report" => report.to_v() })
        }))
    }

    /// On a replica (on the pool): applies HQ's answer; resolves to the report.
    #[napi(catch_unwind, ts_return_type = "Promise<SyncReport>")]
    pub fn sync_pull(&self, down: Buffer) -> napi::Result<AsyncTask<Job>> {
        let store = self.store.clone();
        let down = down.to_vec();
        Ok(job(move || Ok(store.sync_pull(&down).js()?.to_v())))
    }

    /// On a replica (on the pool): round trips with `hq` until HQ has nothing more, at most
    /// `max_rounds` (default 100); resolves to `{ served, pulled }`, the last reports.
    #[napi(catch_unwind, ts_return_type = "Promise<SyncRound>")]
    pub fn sync_with(
        &self,
        hq: &NativeDatabase,
        max_rounds: Option<u32>,
    ) -> napi::Result<AsyncTask<Job>> {
        let store = self.store.clone();
        let hq = hq.store.clone();
        let rounds = max_rounds.map_or(100, |n| n as usize);
        Ok(job(move || {
            let (served, pulled) = store.sync_with(&hq, rounds).js()?;
            Ok(obj! { "served" => served.to_v(), "pulled" => pulled.to_v() })
        }))
    }

    /// On a replica: `{ name, scope, pending, pendingSensitive, copied, position }`.
    #[napi(catch_unwind)]
    pub fn sync_status(&self) -> napi::Result<V> {
        Ok(self.store.sync_status().js()?.to_v())
    }

    /// On HQ's file: `[{ name, scope, applied, syncs }]`.
    #[napi(catch_unwind)]
    pub fn replicas(&self) -> napi::Result<V> {
        Ok(self.store.replicas().js()?.to_v())
    }
}
