//! Replica → HQ: the replica's own changes, and HQ applying them as a source system.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::access::{Access, Permission, Scope};
use crate::audit::{AuditAction, NewAuditEntry};
use crate::codec::ModelKind;
use crate::date::DateTime;
use crate::dealer::dealers_in;
use crate::error::{Error, Result};
use crate::feed::{ChangeKey, ChangeOp, Entity};
use crate::ids::{CustomerId, DealerId, TouchpointId, VehicleId};
use crate::integration::{Outcome, Received};
use crate::source::{written_from, SourceRef};
use crate::store::tables::{CUSTOMERS, VEHICLES};
use crate::store::{Database, ReadTxn, WriteTxn};

use super::{
    add_consents, insert_touchpoint_once, load, replica_key, store, ConsentEntry, CustomerEntry,
    Direction, ReplicaState, SyncBatch, SyncRef, SyncReport, TouchpointEntry, VehicleEntry,
    CHANGE_PAGE, HQ_SOURCE, PUSH_CONSUMER,
};

/// `Ok(None)` for a record that is gone.
pub(super) fn live<T>(r: Result<T>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Stored id → the id `system` gave the record, for records of `kind` written from `system`.
pub(super) fn ids_from(r: &ReadTxn, kind: ModelKind, system: &str) -> Result<HashMap<u64, u64>> {
    Ok(written_from(&r.tables, kind, system)?
        .into_iter()
        .filter_map(|(theirs, ours)| theirs.parse().ok().map(|t| (ours, t)))
        .collect())
}

/// Vehicle `id` as a batch carries it, with its current owner; `None` for a vehicle gone or
/// without a current owner.
pub(super) fn vehicle_entry(
    r: &ReadTxn,
    id: VehicleId,
    codes: &HashMap<DealerId, String>,
    vehicle_ref: impl Fn(VehicleId) -> SyncRef,
    customer_ref: impl Fn(CustomerId) -> SyncRef,
) -> Result<Option<VehicleEntry>> {
    let (Some(v), Some(history)) = (live(r.vehicle(id))?, live(r.ownership(id))?) else {
        return Ok(None);
    };
    let Some(owner) = history.current().map(|o| o.customer) else {
        return Ok(None);
    };
    Ok(Some(VehicleEntry {
        id: vehicle_ref(id),
        owner: customer_ref(owner),
        selling_dealer: v.selling_dealer.and_then(|d| codes.get(&d).cloned()),
        vehicle: v,
    }))
}

/// Dealer id → code, for every dealer.
pub(super) fn dealer_codes(r: &ReadTxn) -> Result<HashMap<DealerId, String>> {
    Ok(r.dealers()?
        .into_iter()
        .map(|(id, d)| (id, d.code))
        .collect())
}

/// The replica's changes after its push position that it made itself (not received from HQ),
/// at most [`CHANGE_PAGE`]: the record keys they name, and where the page ends.
struct Local {
    customers: BTreeSet<u64>,
    consents: BTreeSet<u64>,
    vehicles: BTreeSet<u64>,
    touchpoints: BTreeSet<u64>,
    changes: u64,
    next: u64,
}

fn local_changes(r: &ReadTxn, after: u64) -> Result<Local> {
    let page = r.changes_after(after, CHANGE_PAGE)?;
    let mut l = Local {
        customers: BTreeSet::new(),
        consents: BTreeSet::new(),
        vehicles: BTreeSet::new(),
        touchpoints: BTreeSet::new(),
        changes: 0,
        next: page.next,
    };
    for c in page.changes {
        if c.source.as_deref() == Some(HQ_SOURCE) || c.op == ChangeOp::Delete {
            continue;
        }
        l.changes += 1;
        match (c.entity, c.key) {
            (Entity::Customer, ChangeKey::Id(id)) => {
                l.customers.insert(id);
            }
            (Entity::Vehicle | Entity::Ownership, ChangeKey::Id(id)) => {
                l.vehicles.insert(id);
            }
            (Entity::Touchpoint, ChangeKey::Touchpoint { id, .. }) => {
                l.touchpoints.insert(id);
            }
            (Entity::Consents, ChangeKey::Id(id)) => {
                l.consents.insert(id);
            }
            _ => {}
        }
    }
    Ok(l)
}

/// The replica's changes not yet confirmed by HQ, and how many of them are sensitive
/// touchpoints.
pub(super) fn pending(r: &ReadTxn) -> Result<(u64, u64)> {
    let mut after = r.consumer_position(PUSH_CONSUMER)?;
    let (mut all, mut sensitive) = (0, 0);
    loop {
        let l = local_changes(r, after)?;
        all += l.changes;
        for id in &l.touchpoints {
            if live(r.touchpoint(TouchpointId(*id)))?.is_some_and(|t| t.sensitive) {
                sensitive += 1;
            }
        }
        if l.next == after {
            return Ok((all, sensitive));
        }
        after = l.next;
    }
}

/// The up batch: the replica's own changes after its push position.
pub(super) fn build(r: &ReadTxn, state: &ReplicaState, now: DateTime) -> Result<SyncBatch> {
    let mut b = SyncBatch::new(Direction::Up, &state.name, &state.scope, now);
    b.request = state.pull;
    let l = local_changes(r, r.consumer_position(PUSH_CONSUMER)?)?;
    b.replica_change = l.next;
    b.more = l.next < r.last_change()?;
    let hq_customer = ids_from(r, ModelKind::Customer, HQ_SOURCE)?;
    let hq_vehicle = ids_from(r, ModelKind::Vehicle, HQ_SOURCE)?;
    let codes = dealer_codes(r)?;
    let customer_ref = |id: CustomerId| SyncRef {
        hq: hq_customer.get(&id.0).copied(),
        replica: Some(id.0),
    };
    let vehicle_ref = |id: VehicleId| SyncRef {
        hq: hq_vehicle.get(&id.0).copied(),
        replica: Some(id.0),
    };
    for id in l.customers {
        if r.erasure(CustomerId(id))?.is_some() {
            // Erased here: HQ is asked to erase it too (if the scope may), not sent the
            // blanked record.
            b.erasures.push(customer_ref(CustomerId(id)));
            continue;
        }
        if let Some(c) = live(r.customer(CustomerId(id)))? {
            b.customers.push(CustomerEntry {
                id: customer_ref(CustomerId(id)),
                customer: c,
            });
        }
    }
    for id in l.vehicles {
        if let Some(e) = vehicle_entry(r, VehicleId(id), &codes, vehicle_ref, customer_ref)? {
            b.vehicles.push(e);
        }
    }
    for id in l.consents {
        let events = r.consents(CustomerId(id))?.0;
        if !events.is_empty() && r.erasure(CustomerId(id))?.is_none() {
            b.consents.push(ConsentEntry {
                customer: customer_ref(CustomerId(id)),
                events,
            });
        }
    }
    for id in l.touchpoints {
        let Some(t) = live(r.touchpoint(TouchpointId(id)))? else {
            continue;
        };
        if t.source.as_ref().is_some_and(|s| s.system == HQ_SOURCE) {
            continue;
        }
        b.touchpoints.push(TouchpointEntry {
            id: SyncRef {
                hq: None,
                replica: Some(id),
            },
            customer: customer_ref(t.customer),
            vehicle: t.vehicle.map(vehicle_ref),
            dealer: t.dealer.and_then(|d| codes.get(&d).cloned()),
            touchpoint: t,
        });
    }
    Ok(b)
}

/// HQ's customer a replica's reference names: by HQ id (following merges), else by the
/// replica's id through the source index.
fn hq_customer(w: &WriteTxn, system: &str, r: &SyncRef) -> Result<Option<CustomerId>> {
    if let Some(h) = r.hq {
        return live(w.resolve_customer(CustomerId(h)));
    }
    let Some(local) = r.replica else {
        return Ok(None);
    };
    let src = SourceRef::new(system, local.to_string());
    Ok(w.tx()
        .source_lookup(ModelKind::Customer, &src, CUSTOMERS)?
        .map(CustomerId))
}

/// HQ's vehicle a replica's reference names.
fn hq_vehicle(w: &WriteTxn, system: &str, r: &SyncRef) -> Result<Option<VehicleId>> {
    if let Some(h) = r.hq {
        return Ok(live(w.vehicle(VehicleId(h)))?.map(|_| VehicleId(h)));
    }
    let Some(local) = r.replica else {
        return Ok(None);
    };
    let src = SourceRef::new(system, local.to_string());
    Ok(w.tx()
        .source_lookup(ModelKind::Vehicle, &src, VEHICLES)?
        .map(VehicleId))
}

/// Applies replica batch `b` at HQ in one transaction, as records of source system `state.name`
/// that scope `scope` may write: customers it sees (or new ones), vehicles of those, its own
/// touchpoints.
pub(super) fn apply(
    hq: &Database,
    state: &ReplicaState,
    scope: &Scope,
    b: &SyncBatch,
) -> Result<SyncReport> {
    let system = state.name.as_str();
    // What the scope may write is judged on the file as it is before the batch.
    let (access, unseen) = {
        let r = hq.begin_read()?;
        let access = Access::resolve(&r, scope, system, hq.now().date())?;
        let mut unseen = HashSet::new();
        let named = b
            .customers
            .iter()
            .map(|e| e.id)
            .chain(b.vehicles.iter().map(|e| e.owner))
            .chain(b.touchpoints.iter().map(|e| e.customer))
            .chain(b.erasures.iter().copied())
            .chain(b.consents.iter().map(|e| e.customer));
        for h in named.filter_map(|r| r.hq) {
            if let Some(c) = live(r.resolve_customer(CustomerId(h)))? {
                if !access.sees(&r, c)? {
                    unseen.insert(c);
                }
            }
        }
        (access, unseen)
    };
    hq.write(|w| {
        let key = replica_key(system);
        let mut st = load(&w.tx().t, &key)?.ok_or_else(|| Error::not_found("replica", system))?;
        let mut report = SyncReport::default();
        // The customers the batch wrote, for its audit entry.
        let mut written: Vec<CustomerId> = Vec::new();
        if b.replica_change <= st.applied && st.applied > 0 {
            report.already_applied = true;
            return Ok(report);
        }
        w.set_actor(&format!("replica:{system}"), Some(&state.scope));
        w.set_source(system);
        let at = w.now();
        let dealers: HashMap<String, DealerId> = dealers_in(&w.tx().t)?
            .into_iter()
            .map(|(id, d)| (d.code, id))
            .collect();
        let received = |id: u64| Received {
            source: SourceRef::new(system, id.to_string()),
            dealer: access.dealer(),
            at,
        };
        let count = |report: &mut SyncReport, outcome: Outcome, n: fn(&mut SyncReport)| {
            if outcome == Outcome::Unchanged {
                report.unchanged += 1;
            } else {
                n(report);
            }
        };
        for e in &b.customers {
            let Some(local) = e.id.replica else { continue };
            let from = received(local);
            let linked = match e.id.hq {
                Some(h) => live(w.resolve_customer(CustomerId(h)))?,
                None => None,
            };
            if let Some(c) = linked {
                if unseen.contains(&c) {
                    let err = access.denied(
                        Permission::ReadCustomers,
                        format!("change customer {} it does not see", c.0),
                    );
                    report.reject("customer", e.id, &err);
                    continue;
                }
                let known = w
                    .tx()
                    .source_lookup(ModelKind::Customer, &from.source, CUSTOMERS)?;
                if known.is_none() {
                    w.tx()
                        .source_remember(ModelKind::Customer, &from.source, c.0)?;
                }
            }
            let mut c = e.customer.clone();
            c.source = None;
            match w.upsert_customer(&c, None, &from) {
                Ok(u) => {
                    written.push(u.id);
                    count(&mut report, u.outcome, |r| r.customers += 1)
                }
                Err(err) => report.reject("customer", e.id, &err),
            }
        }
        for e in &b.vehicles {
            let Some(local) = e.id.replica else { continue };
            let owner = hq_customer(w, system, &e.owner)?;
            let Some(owner) = owner.filter(|o| !unseen.contains(o)) else {
                let err = Error::not_found("customer", format!("{:?}", e.owner));
                report.reject("vehicle", e.id, &err);
                continue;
            };
            let from = received(local);
            if let Some(h) = e.id.hq {
                let known = w
                    .tx()
                    .source_lookup(ModelKind::Vehicle, &from.source, VEHICLES)?;
                if known.is_none() && live(w.vehicle(VehicleId(h)))?.is_some() {
                    w.tx()
                        .source_remember(ModelKind::Vehicle, &from.source, h)?;
                }
            }
            let mut v = e.vehicle.clone();
            v.source = None;
            v.selling_dealer = e
                .selling_dealer
                .as_ref()
                .and_then(|c| dealers.get(c).copied());
            match w.upsert_vehicle(&v, owner, &from) {
                Ok(u) => count(&mut report, u.outcome, |r| r.vehicles += 1),
                Err(err) => report.reject("vehicle", e.id, &err),
            }
        }
        for e in &b.touchpoints {
            let Some(local) = e.id.replica else { continue };
            let dealer = e.dealer.as_ref().and_then(|c| dealers.get(c).copied());
            if !access.sees_own(dealer) {
                let err = access.denied(
                    Permission::WriteTouchpoints,
                    "write another dealer's touchpoint",
                );
                report.reject("touchpoint", e.id, &err);
                continue;
            }
            let customer = hq_customer(w, system, &e.customer)?;
            let Some(customer) = customer.filter(|c| !unseen.contains(c)) else {
                let err = Error::not_found("customer", format!("{:?}", e.customer));
                report.reject("touchpoint", e.id, &err);
                continue;
            };
            let mut t = e.touchpoint.clone();
            t.customer = customer;
            t.vehicle = match &e.vehicle {
                Some(v) => hq_vehicle(w, system, v)?,
                None => None,
            };
            t.dealer = dealer;
            match insert_touchpoint_once(w, t, SourceRef::new(system, local.to_string())) {
                Ok(false) => report.unchanged += 1,
                Ok(true) => {
                    written.push(customer);
                    report.touchpoints += 1
                }
                Err(err) => report.reject("touchpoint", e.id, &err),
            }
        }
        for e in &b.consents {
            let Some(c) = hq_customer(w, system, &e.customer)? else {
                continue;
            };
            if unseen.contains(&c) || !access.allows(Permission::WriteConsents) {
                let err = access.denied(
                    Permission::WriteConsents,
                    format!("record consents of customer {}", c.0),
                );
                report.reject("consents", e.customer, &err);
                continue;
            }
            match add_consents(w, c, &e.events) {
                Ok(n) => {
                    report.consents += n;
                    if n > 0 {
                        written.push(c);
                    }
                }
                Err(err) => report.reject("consents", e.customer, &err),
            }
        }
        for e in &b.erasures {
            let Some(c) = hq_customer(w, system, e)? else {
                continue;
            };
            let may = access.owner() == Some(c)
                || access
                    .require(Permission::Erase, || format!("erase customer {}", c.0))
                    .is_ok();
            if !may || unseen.contains(&c) {
                let err = access.denied(Permission::Erase, format!("erase customer {}", c.0));
                report.reject("erasure", *e, &err);
                continue;
            }
            match w.erase_customer(c, &format!("replica:{system}"), "erased at the replica") {
                Ok(_) => report.erasures += 1,
                Err(err) => report.reject("erasure", *e, &err),
            }
        }
        if !written.is_empty() {
            written.sort_unstable();
            written.dedup();
            w.append_audit(&[NewAuditEntry {
                at,
                actor: format!("replica:{system}"),
                scope: state.scope.clone(),
                action: AuditAction::Write,
                what: "sync_up".into(),
                customers: written,
                purpose: None,
            }])?;
        }
        st.applied = st.applied.max(b.replica_change);
        st.syncs += 1;
        store(w, &key, &st)?;
        Ok(report)
    })
}
