//! Replicas that sync with HQ: a dealer's file holding the customers its scope sees, an owner's
//! phone file holding himself, each kept in step with HQ's file by round trips of byte batches
//! (docs/sync.md, "Replicas").
//!
//! **Shape.** HQ is the book of record. A replica is an ordinary autocrm file that knows its
//! upstream ([`init_replica`]); HQ knows the replica as a source system of its own
//! ([`register_replica`]). One round trip:
//! 1. the replica [`push`]es: its own changes since HQ last confirmed them (read from its
//!    change feed, leaving out what it received from HQ) and where it stands in HQ's data;
//! 2. HQ [`serve`]s the batch: applies the replica's changes **through the integration path**
//!    as records of the replica's source system — matching, survivorship by source priority,
//!    lineage and conflicts for review, as any source system gets — then answers with the
//!    changes the replica's scope may see (the first time: a copy of everything it sees, in
//!    pages), read from HQ's change feed;
//! 3. the replica [`pull`]s the answer: applies HQ's records as source system `hq`, which
//!    outranks every other source in the replica, so HQ's decisions win there.
//!
//! **Names.** Records keep their own ids in each file. A replica knows an HQ record by the
//! source reference (`hq`, HQ id); HQ knows a replica's record by (replica name, replica id).
//! Each batch entry carries both ids where the sender knows them ([`SyncRef`]), so a record
//! that went up comes back down onto itself instead of arriving as a copy.
//!
//! **Exactly once.** Every step is one transaction. Records are applied idempotently (upserts
//! and touchpoints are keyed by their source reference), and positions move only once what
//! they cover is committed: the replica forgets what it pushed only when HQ's answer says it
//! was applied; a batch interrupted by a crash is applied again whole or not at all; a batch
//! already applied is recognised and changes nothing.
//!
//! **What syncs.** Dealers (down, by code), customers, vehicles with their current owner,
//! touchpoints and consent histories (both ways), merges (down: HQ decides them) and erasures (down; up when the
//! replica's scope may erase: an owner erasing himself). Deletes and erasures win. Not yet:
//! leads, complaints, surveys, relations, loyalty memberships and postings (see
//! docs/sync.md).

mod batch;
mod down;
mod up;

use redb::ReadableTable;
use serde::{Deserialize, Serialize};

pub use batch::{
    ConsentEntry, CopyProgress, CustomerEntry, Direction, PullPosition, SyncBatch, SyncRef,
    TouchpointEntry, VehicleEntry,
};

use crate::access::Scope;
use crate::audit::{AuditAction, NewAuditEntry};
use crate::codec::{self, ModelKind};
use crate::consent::ConsentEvent;
use crate::error::{Error, Refusal, Result, Rule, ValidationError};
use crate::ids::CustomerId;
use crate::integration::SourceSystem;
use crate::source::SourceRef;
use crate::store::{decode_stored, Database, ReadTxn, ReadView, WriteTxn};
use crate::touchpoint::Touchpoint;

/// The source system HQ's records arrive as in a replica.
pub const HQ_SOURCE: &str = "hq";

/// Customers copied per batch during a replica's first copy.
pub const COPY_PAGE: usize = 500;

/// HQ changes read per batch once the replica follows the feed (and replica changes per push).
pub const CHANGE_PAGE: usize = 5_000;

/// The replica's feed consumer: what it has pushed and HQ has confirmed.
const PUSH_CONSUMER: &str = "sync:up";
/// Where a replica keeps its [`ReplicaState`] in `meta`.
const UPSTREAM_KEY: &str = "sync.upstream";

/// The `meta` key of HQ's state for replica `name`.
fn replica_key(name: &str) -> String {
    format!("sync.replica.{name}")
}

/// HQ's feed consumer for replica `name`.
fn feed_consumer(name: &str) -> String {
    format!("sync:{name}")
}

/// One side's record of a replica: in the replica, its upstream; in HQ, one per replica.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaState {
    /// The replica's name: its source system at HQ.
    pub name: String,
    /// Its scope, as text (`dealer:SH001`, `owner:42`).
    pub scope: String,
    /// In the replica: where it stands in HQ's data.
    pub pull: PullPosition,
    /// In HQ: the replica's latest change HQ has applied.
    pub applied: u64,
    /// Round trips completed (replica: batches pulled; HQ: batches served).
    pub syncs: u64,
}
codec::model!(ReplicaState, ReplicaState, "replica state");

impl ReplicaState {
    /// Replica `name` with scope `scope`, before its first round trip.
    fn new(name: &str, scope: &Scope) -> ReplicaState {
        ReplicaState {
            name: name.into(),
            scope: scope.to_string(),
            pull: PullPosition::default(),
            applied: 0,
            syncs: 0,
        }
    }
}

/// What one step of a round trip did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Customers created or changed.
    pub customers: u64,
    /// Vehicles created or changed.
    pub vehicles: u64,
    /// Touchpoints added.
    pub touchpoints: u64,
    /// Merges applied.
    pub merges: u64,
    /// Erasures applied.
    pub erasures: u64,
    /// Consent events added.
    pub consents: u64,
    /// Records received that changed nothing (already there, or equal).
    pub unchanged: u64,
    /// Records refused, each with why; the rest of the batch was applied.
    pub rejected: Vec<SyncRejection>,
    /// The batch had been applied before: nothing was done.
    pub already_applied: bool,
    /// There is more to sync (pull: HQ has more; serve: the answer is not the last page).
    pub more: bool,
}

impl SyncReport {
    /// Notes that record `id` of kind `entity` was refused with `e`.
    fn reject(&mut self, entity: &'static str, id: SyncRef, e: &Error) {
        self.rejected.push(SyncRejection::new(entity, id, e));
    }
}

/// Stores touchpoint `t` as written from source record `source` (at most once: the source
/// index makes it idempotent); whether it is new.
fn insert_touchpoint_once(w: &mut WriteTxn, mut t: Touchpoint, source: SourceRef) -> Result<bool> {
    let before = w.tx().source_known(ModelKind::Touchpoint, &source)?;
    t.source = Some(source);
    w.insert_touchpoint(&t)?;
    Ok(before.is_none())
}

/// A record of a batch that could not be applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncRejection {
    /// `"customer"`, `"vehicle"`, `"touchpoint"`, `"consents"`, `"merge"` or `"erasure"`.
    pub entity: &'static str,
    /// Its ids, as the batch gave them.
    pub id: SyncRef,
    /// The error code, as [`Error::code`] gives it.
    pub code: String,
    /// What was wrong.
    pub message: String,
}

impl SyncRejection {
    fn new(entity: &'static str, id: SyncRef, e: &Error) -> SyncRejection {
        SyncRejection {
            entity,
            id,
            code: e.code(),
            message: e.to_string(),
        }
    }
}

/// A replica's standing, for `autocrm sync status` and apps deciding when to sync.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaStatus {
    /// Its name and scope, and where it stands in HQ's data.
    pub state: ReplicaState,
    /// Its own changes not yet confirmed by HQ.
    pub pending: u64,
    /// Of those, changes to sensitive touchpoints (complaints, rescues, warranty claims…):
    /// sync at once when this is not zero.
    pub pending_sensitive: u64,
}

fn check_name(name: &str) -> Result<()> {
    let bad = |rule| Err(ValidationError::new("replica", rule, name).into());
    if name.trim().is_empty() {
        return bad(Rule::Required);
    }
    if name.len() > 64 {
        return bad(Rule::TooLong);
    }
    if name != name.trim() || name.chars().any(char::is_control) || name == HQ_SOURCE {
        return bad(Rule::NotAllowed);
    }
    Ok(())
}

/// Only dealers and owners have replicas: an HQ role sees through masks and consent filters
/// that a copy of the data could not keep applying.
fn check_scope(scope: &Scope) -> Result<()> {
    match scope {
        Scope::Dealer(_) | Scope::Owner(_) => Ok(()),
        Scope::Hq(_) => Err(Error::refused(
            Refusal::ReplicaScope,
            format!("a replica for scope {scope}"),
        )),
    }
}

fn load(t: &impl ReadView, key: &str) -> Result<Option<ReplicaState>> {
    let meta = t.meta()?;
    let v = meta.get(key)?;
    v.map(|v| decode_stored(v.value())).transpose()
}

fn store(w: &mut WriteTxn, key: &str, s: &ReplicaState) -> Result<()> {
    w.tx().t.meta()?.insert(key, codec::encode(s).as_slice())?;
    Ok(())
}

/// Registers replica `name` with scope `scope` in HQ's file: `name` becomes a source system
/// (priorities of `dms` for a dealer, of `app` for an owner: change them with
/// [`WriteTxn::set_source_priority`]) and a change-feed consumer keeps HQ's changes until the
/// replica has them. Registering it again with the same scope does nothing. Errors:
/// `validation.*` on the name (`hq` is reserved), `invalid_operation.replica_scope` for an HQ
/// role, `unknown_scope` for a dealer or customer the file lacks, and `duplicate_key` for a name
/// a source system or another scope already has.
pub fn register_replica(hq: &Database, name: &str, scope: &Scope) -> Result<()> {
    check_name(name)?;
    check_scope(scope)?;
    {
        let r = hq.begin_read()?;
        crate::access::Access::resolve(&r, scope, name, hq.now().date())?;
    }
    hq.write(|w| {
        let key = replica_key(name);
        if let Some(s) = load(&w.tx().t, &key)? {
            if s.scope == scope.to_string() {
                return Ok(());
            }
            return Err(Error::DuplicateKey {
                entity: "replica",
                field: "name",
                value: name.into(),
                existing: 0,
            });
        }
        let mut registry = w.sources()?;
        if registry.get(name).is_some() {
            return Err(Error::DuplicateKey {
                entity: "source system",
                field: "name",
                value: name.into(),
                existing: 0,
            });
        }
        let like = match scope {
            Scope::Owner(_) => "app",
            _ => "dms",
        };
        let priorities = registry.get(like).map_or([10; 6], |s| s.priorities);
        registry.systems.push(SourceSystem {
            name: name.into(),
            priorities,
            verifies: false,
        });
        w.set_sources(&registry)?;
        w.register_consumer(&feed_consumer(name))?;
        store(w, &key, &ReplicaState::new(name, scope))
    })
}

/// Makes the empty file `replica` the replica `name` of HQ with scope `scope` (the same as HQ
/// registered). Its own changes are recorded from now on for [`push`]; HQ's arrive as source
/// system `hq`, which outranks every other source here. Errors: `validation.*` on the name,
/// `invalid_operation.replica_scope`, `invalid_operation.replica_not_empty` if the file already
/// holds customers or is another replica.
pub fn init_replica(replica: &Database, name: &str, scope: &Scope) -> Result<()> {
    check_name(name)?;
    check_scope(scope)?;
    replica.write(|w| {
        if let Some(s) = load(&w.tx().t, UPSTREAM_KEY)? {
            if s.name == name && s.scope == scope.to_string() {
                return Ok(());
            }
            return Err(Error::refused(
                Refusal::ReplicaNotEmpty,
                format!("this file is already replica {} ({})", s.name, s.scope),
            ));
        }
        if replica.begin_read()?.customer_count()? > 0 {
            return Err(Error::refused(
                Refusal::ReplicaNotEmpty,
                "the file already holds customers".to_string(),
            ));
        }
        let mut registry = w.sources()?;
        registry.systems.retain(|s| s.name != HQ_SOURCE);
        registry.systems.push(SourceSystem {
            name: HQ_SOURCE.into(),
            priorities: [u16::MAX; 6],
            verifies: true,
        });
        w.set_sources(&registry)?;
        w.register_consumer(PUSH_CONSUMER)?;
        store(w, UPSTREAM_KEY, &ReplicaState::new(name, scope))
    })
}

/// The replica this file is, if it is one.
pub fn upstream(r: &ReadTxn) -> Result<Option<ReplicaState>> {
    load(&r.tables, UPSTREAM_KEY)
}

/// The replicas HQ's file has registered.
pub fn replicas(r: &ReadTxn) -> Result<Vec<ReplicaState>> {
    let meta = r.tables.meta()?;
    let mut out = Vec::new();
    for entry in meta.range("sync.replica."..)? {
        let (k, v) = entry?;
        if !k.value().starts_with("sync.replica.") {
            break;
        }
        out.push(decode_stored(v.value())?);
    }
    Ok(out)
}

/// Adds to `customer`'s consent history the events of `events` it lacks (histories are
/// merged, never replaced: a withdrawal recorded on either side stays); returns how many.
fn add_consents(w: &mut WriteTxn, customer: CustomerId, events: &[ConsentEvent]) -> Result<u64> {
    let have = crate::consent::consents_in(&w.tx().t, customer)?;
    let mut added = 0;
    for e in events {
        if !have.0.contains(e) {
            w.record_consent(customer, e)?;
            added += 1;
        }
    }
    Ok(added)
}

/// The replica's own id of HQ's customer `hq`: where a pull put it (`None` until one has, or
/// once it was deleted or erased there). A merged record's id resolves to the survivor. An
/// owner's phone file opens its owner scope with it (the replica's scope names HQ's id).
pub fn local_customer(r: &ReadTxn, hq: CustomerId) -> Result<Option<CustomerId>> {
    let src = crate::source::SourceRef::new(HQ_SOURCE, hq.0.to_string());
    let found = {
        let index = r.tables.source_records()?;
        let v = index.get(src.key(crate::codec::ModelKind::Customer).as_slice())?;
        v.map(|v| v.value())
    };
    let Some(id) = found else {
        return Ok(None);
    };
    match r.resolve_customer(CustomerId(id)) {
        Ok(c) if r.erasure(c)?.is_none() => Ok(Some(c)),
        Ok(_) => Ok(None),
        Err(Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

fn not_a_replica() -> Error {
    Error::refused(
        Refusal::NotAReplica,
        "sync on a file that is not a replica".to_string(),
    )
}

/// This replica's standing: where it is in HQ's data and what it has not pushed yet.
pub fn status(replica: &Database) -> Result<ReplicaStatus> {
    let r = replica.begin_read()?;
    let state = upstream(&r)?.ok_or_else(not_a_replica)?;
    let (pending, pending_sensitive) = up::pending(&r)?;
    Ok(ReplicaStatus {
        state,
        pending,
        pending_sensitive,
    })
}

/// The replica's half of a round trip, first step: a batch of its own changes not yet
/// confirmed by HQ, with where it stands in HQ's data. Writes nothing; pushing again before
/// pulling sends the same changes again (HQ applies them once). `invalid_operation.not_a_replica`
/// on a file [`init_replica`] did not make a replica.
pub fn push(replica: &Database) -> Result<SyncBatch> {
    let r = replica.begin_read()?;
    let state = upstream(&r)?.ok_or_else(not_a_replica)?;
    up::build(&r, &state, replica.now())
}

/// HQ's half of a round trip: applies replica batch `up` through the integration path (as
/// source system `up.replica`, only records its scope may write) and answers with the next
/// batch of HQ's changes its scope may see. Applying the same batch again changes nothing.
/// Errors: `not_found` for a replica HQ has not registered, `invalid_operation.sync_batch_mismatch`
/// for a batch of another direction or scope, `invalid_operation.changes_pruned` when HQ pruned
/// changes the replica has not had (make it again from an empty file).
pub fn serve(hq: &Database, up: &SyncBatch) -> Result<(SyncBatch, SyncReport)> {
    let state = {
        let r = hq.begin_read()?;
        load(&r.tables, &replica_key(&up.replica))?
            .ok_or_else(|| Error::not_found("replica", &up.replica))?
    };
    if up.direction != Direction::Up || up.scope != state.scope {
        return Err(Error::refused(
            Refusal::SyncBatchMismatch,
            format!(
                "a {:?} batch of {} ({}) served to replica {} ({})",
                up.direction, up.replica, up.scope, state.name, state.scope
            ),
        ));
    }
    let scope: Scope = state.scope.parse()?;
    let report = up::apply(hq, &state, &scope, up)?;
    let (down, more) = down::build(hq, &state, &scope, up)?;
    // Data leaving HQ for a replica is on record before it leaves, like a scoped export.
    let mut named: Vec<CustomerId> = down
        .customers
        .iter()
        .filter_map(|e| e.id.hq.map(CustomerId))
        .collect();
    named.sort_unstable();
    named.dedup();
    if !named.is_empty() {
        let entry = NewAuditEntry {
            at: hq.now(),
            actor: format!("replica:{}", state.name),
            scope: state.scope.clone(),
            action: AuditAction::Export,
            what: "sync_down".into(),
            customers: named,
            purpose: None,
        };
        hq.write(|w| w.append_audit(&[entry]).map(drop))?;
    }
    Ok((down, SyncReport { more, ..report }))
}

/// The replica's half of a round trip, last step: applies HQ's answer `down` in one
/// transaction, moves its position in HQ's data and forgets the changes HQ confirmed. A batch
/// applied before is recognised and changes nothing (`already_applied`). Errors:
/// `invalid_operation.sync_batch_mismatch` for a batch made for another replica, direction or
/// position (push again for a fresh answer).
pub fn pull(replica: &Database, down: &SyncBatch) -> Result<SyncReport> {
    down::apply(replica, down, UPSTREAM_KEY)
}

/// One whole round trip between two files on this machine: push, serve, pull, repeated until
/// HQ has nothing more (at most `max_rounds` times). Returns the reports of the last serve
/// and pull.
pub fn sync(
    replica: &Database,
    hq: &Database,
    max_rounds: usize,
) -> Result<(SyncReport, SyncReport)> {
    let mut last = (SyncReport::default(), SyncReport::default());
    for _ in 0..max_rounds.max(1) {
        let up = push(replica)?;
        let (down, served) = serve(hq, &up)?;
        let pulled = pull(replica, &down)?;
        let more = pulled.more;
        last = (served, pulled);
        if !more {
            break;
        }
    }
    Ok(last)
}
