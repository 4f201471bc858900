//! HQ → replica: what the replica's scope may see, and the replica applying it as source
//! system `hq`.

use std::collections::{BTreeSet, HashMap};

use crate::access::{Access, Scope};
use crate::codec::ModelKind;
use crate::customer::Customer;
use crate::dealer::{dealer_by_code_in, dealers_in};
use crate::error::{Error, Refusal, Result};
use crate::feed::{ChangeKey, ChangeOp, Entity};
use crate::ids::{ComplaintId, CustomerId, DealerId, LeadId, SurveyId, TouchpointId, VehicleId};
use crate::integration::{Outcome, Received};
use crate::source::SourceRef;
use crate::store::tables::{CUSTOMERS, VEHICLES};
use crate::store::{Database, ReadTxn, WriteTxn};

use super::up::{dealer_codes, ids_from, live, vehicle_entry};
use super::{
    add_consents, insert_touchpoint_once, load, not_a_replica, replica_key, store, ConsentEntry,
    CopyProgress, CustomerEntry, Direction, PullPosition, ReplicaState, SyncBatch, SyncRef,
    SyncReport, TouchpointEntry, CHANGE_PAGE, COPY_PAGE, HQ_SOURCE,
};

/// The records a down batch carries, by HQ id.
#[derive(Default)]
struct Picked {
    customers: BTreeSet<u64>,
    vehicles: BTreeSet<u64>,
    touchpoints: BTreeSet<u64>,
    consents: BTreeSet<u64>,
    merges: Vec<(u64, u64)>,
    erasures: BTreeSet<u64>,
    /// Customers of changed records that do not travel themselves (leads, complaints,
    /// surveys): they may have made the scope see the customer.
    records_of: Vec<u64>,
}

/// A customer and what hangs off it, for the first copy: the vehicles it owns now and the
/// touchpoints the scope sees.
fn pick_whole(r: &ReadTxn, a: &Access, id: CustomerId, p: &mut Picked) -> Result<()> {
    p.customers.insert(id.0);
    p.consents.insert(id.0);
    for v in r.vehicles_of(id)? {
        p.vehicles.insert(v.id.0);
    }
    let timeline = r.timeline(id, None, usize::MAX)?;
    for (tid, t) in timeline.items {
        if a.sees_own(t.dealer) {
            p.touchpoints.insert(tid.0);
        }
    }
    Ok(())
}

/// HQ's answer to up batch `up`: the next page of what replica `state` should receive, and
/// whether there is more.
pub(super) fn build(
    hq: &Database,
    state: &ReplicaState,
    scope: &Scope,
    up: &SyncBatch,
) -> Result<(SyncBatch, bool)> {
    let r = hq.begin_read()?;
    let st = load(&r.tables, &replica_key(&state.name))?
        .ok_or_else(|| Error::not_found("replica", &state.name))?;
    let a = Access::resolve(&r, scope, &state.name, hq.now().date())?;
    let mut b = SyncBatch::new(Direction::Down, &state.name, &state.scope, hq.now());
    b.request = up.request;
    b.replica_change = st.applied;
    b.dealers = r.dealers()?.into_iter().map(|(_, d)| d).collect();
    let mut p = Picked::default();
    let req = up.request;
    if req.copied {
        let page = r.changes_after(req.after, CHANGE_PAGE)?;
        for c in &page.changes {
            let deleted = c.op == ChangeOp::Delete;
            match (c.entity, &c.key) {
                (Entity::Customer, ChangeKey::Id(id)) if !deleted => {
                    p.customers.insert(*id);
                }
                (Entity::Vehicle | Entity::Ownership, ChangeKey::Id(id)) if !deleted => {
                    p.vehicles.insert(*id);
                }
                (Entity::Touchpoint, ChangeKey::Touchpoint { id, .. }) if !deleted => {
                    p.touchpoints.insert(*id);
                }
                (Entity::Merge, ChangeKey::Merge { survivor, merged }) => {
                    p.merges.push((*survivor, *merged));
                }
                (Entity::Erasure, ChangeKey::Id(id)) => {
                    p.erasures.insert(*id);
                }
                (Entity::Consents, ChangeKey::Id(id)) if !deleted => {
                    p.consents.insert(*id);
                    p.records_of.push(*id);
                }
                (Entity::Lead, ChangeKey::Id(id)) if !deleted => {
                    if let Some(l) = live(r.lead(LeadId(*id)))? {
                        p.records_of.push(l.customer.0);
                    }
                }
                (Entity::Complaint, ChangeKey::Id(id)) if !deleted => {
                    if let Some(c) = live(r.complaint(ComplaintId(*id)))? {
                        p.records_of.push(c.customer.0);
                    }
                }
                (Entity::Survey, ChangeKey::Id(id)) if !deleted => {
                    if let Some(s) = live(r.survey(SurveyId(*id)))? {
                        p.records_of.push(s.customer.0);
                    }
                }
                _ => {}
            }
        }
        b.reached = PullPosition {
            after: page.next,
            copy: None,
            copied: true,
        };
        b.more = page.next < page.last;
    } else {
        let copy = req.copy.unwrap_or(CopyProgress {
            at: r.last_change()?,
            after_customer: 0,
        });
        let mut last = copy.after_customer;
        let mut done = true;
        let mut taken = 0;
        for id in r.customer_ids()? {
            if id.0 <= copy.after_customer {
                continue;
            }
            if taken == COPY_PAGE {
                done = false;
                break;
            }
            last = id.0;
            if a.sees(&r, id)? {
                taken += 1;
                pick_whole(&r, &a, id, &mut p)?;
            }
        }
        b.reached = if done {
            PullPosition {
                after: copy.at,
                copy: None,
                copied: true,
            }
        } else {
            PullPosition {
                after: 0,
                copy: Some(CopyProgress {
                    at: copy.at,
                    after_customer: last,
                }),
                copied: false,
            }
        };
        b.more = !done || r.last_change()? > copy.at;
    }
    // What the replica just sent comes back as HQ has it now: where survivorship kept HQ's
    // value, HQ's file did not change, so the feed alone would leave the replica's value there.
    let ours_customer = ids_from(&r, ModelKind::Customer, &state.name)?;
    let ours_vehicle = ids_from(&r, ModelKind::Vehicle, &state.name)?;
    let by_theirs = |m: &HashMap<u64, u64>| -> HashMap<u64, u64> {
        m.iter().map(|(ours, theirs)| (*theirs, *ours)).collect()
    };
    let (cust_of, veh_of) = (by_theirs(&ours_customer), by_theirs(&ours_vehicle));
    for e in &up.customers {
        let hq =
            e.id.hq
                .or_else(|| e.id.replica.and_then(|l| cust_of.get(&l).copied()));
        if let Some(h) = hq {
            if let Some(live) = live(r.resolve_customer(CustomerId(h)))? {
                p.customers.insert(live.0);
            }
        }
    }
    for e in &up.vehicles {
        if let Some(h) =
            e.id.hq
                .or_else(|| e.id.replica.and_then(|l| veh_of.get(&l).copied()))
        {
            p.vehicles.insert(h);
        }
    }
    // In the copy every customer is picked whole already; following the feed, a customer
    // travels with every record of his that does, whether or not his own record changed: a
    // scope may have just come to see him (a first visit at this dealer).
    if req.copied {
        let mut named: Vec<u64> = Vec::new();
        // The replica's own touchpoints coming back are left out: it has them.
        let from_replica = |t: &crate::touchpoint::Touchpoint| {
            t.source.as_ref().is_some_and(|s| s.system == state.name)
        };
        let mut own = Vec::new();
        for id in &p.touchpoints {
            if let Some(t) = live(r.touchpoint(TouchpointId(*id)))? {
                if from_replica(&t) {
                    own.push(*id);
                } else {
                    named.push(t.customer.0);
                }
            }
        }
        for id in own {
            p.touchpoints.remove(&id);
        }
        for id in &p.vehicles {
            if let Some(h) = live(r.ownership(VehicleId(*id)))? {
                named.extend(h.current().map(|o| o.customer.0));
            }
        }
        named.append(&mut p.records_of);
        named.sort_unstable();
        named.dedup();
        // …with what is his and may predate the scope seeing him: vehicles and consents.
        for c in named {
            p.customers.insert(c);
            p.consents.insert(c);
            for v in r.vehicles_of(CustomerId(c))? {
                p.vehicles.insert(v.id.0);
            }
        }
    }
    fill(
        &r,
        &a,
        &state.name,
        (&ours_customer, &ours_vehicle),
        p,
        &mut b,
    )?;
    let more = b.more;
    Ok((b, more))
}

/// Turns the picked HQ ids into entries, keeping only what the scope sees now. `theirs`:
/// HQ's customer and vehicle ids → the replica's, for the records the replica made.
fn fill(
    r: &ReadTxn,
    a: &Access,
    replica: &str,
    (theirs_customer, theirs_vehicle): (&HashMap<u64, u64>, &HashMap<u64, u64>),
    p: Picked,
    b: &mut SyncBatch,
) -> Result<()> {
    let codes = dealer_codes(r)?;
    let mut judged: HashMap<CustomerId, bool> = HashMap::new();
    // Seen and not erased: an erased customer's records go no further (the erasure does).
    let mut sees = |c: CustomerId| -> Result<bool> {
        if let Some(s) = judged.get(&c) {
            return Ok(*s);
        }
        let s = r.erasure(c)?.is_none() && a.sees(r, c)?;
        judged.insert(c, s);
        Ok(s)
    };
    let customer_ref = |c: CustomerId| SyncRef {
        hq: Some(c.0),
        replica: theirs_customer.get(&c.0).copied(),
    };
    let vehicle_ref = |v: VehicleId| SyncRef {
        hq: Some(v.0),
        replica: theirs_vehicle.get(&v.0).copied(),
    };
    for (survivor, merged) in p.merges {
        if live(r.resolve_customer(CustomerId(survivor)))?.is_some_and(|s| sees(s).unwrap_or(false))
        {
            b.merges.push((
                customer_ref(CustomerId(survivor)),
                customer_ref(CustomerId(merged)),
            ));
        }
    }
    for id in p.customers {
        let id = CustomerId(id);
        if p.erasures.contains(&id.0) || !sees(id)? {
            continue;
        }
        if let Some(c) = live(r.customer(id))? {
            b.customers.push(CustomerEntry {
                id: customer_ref(id),
                customer: c,
            });
        }
    }
    for id in p.vehicles {
        let e = vehicle_entry(r, VehicleId(id), &codes, vehicle_ref, customer_ref)?;
        if let Some(e) = e {
            if sees(CustomerId(e.owner.hq.unwrap_or_default()))? {
                b.vehicles.push(e);
            }
        }
    }
    for id in p.touchpoints {
        let Some(t) = live(r.touchpoint(TouchpointId(id)))? else {
            continue;
        };
        if !a.sees_own(t.dealer) || !sees(t.customer)? {
            continue;
        }
        let mine = t
            .source
            .as_ref()
            .filter(|s| s.system == replica)
            .and_then(|s| s.record_id.parse().ok());
        b.touchpoints.push(TouchpointEntry {
            id: SyncRef {
                hq: Some(id),
                replica: mine,
            },
            customer: customer_ref(t.customer),
            vehicle: t.vehicle.map(vehicle_ref),
            dealer: t.dealer.and_then(|d| codes.get(&d).cloned()),
            touchpoint: t,
        });
    }
    for id in p.consents {
        let id = CustomerId(id);
        if p.erasures.contains(&id.0) || !sees(id)? {
            continue;
        }
        let events = r.consents(id)?.0;
        if !events.is_empty() {
            b.consents.push(ConsentEntry {
                customer: customer_ref(id),
                events,
            });
        }
    }
    // An erasure is passed on by id alone: an id carries no personal data, and a replica that
    // held the customer must learn it is gone.
    b.erasures = p
        .erasures
        .into_iter()
        .map(|id| customer_ref(CustomerId(id)))
        .collect();
    Ok(())
}

/// The replica's customer an HQ reference names.
fn local_customer(w: &WriteTxn, r: &SyncRef) -> Result<Option<CustomerId>> {
    if let Some(h) = r.hq {
        let src = SourceRef::new(HQ_SOURCE, h.to_string());
        if let Some(id) = w.tx().source_lookup(ModelKind::Customer, &src, CUSTOMERS)? {
            return Ok(Some(CustomerId(id)));
        }
    }
    match r.replica {
        Some(l) => live(w.resolve_customer(CustomerId(l))),
        None => Ok(None),
    }
}

/// The replica's vehicle an HQ reference names.
fn local_vehicle(w: &WriteTxn, r: &SyncRef) -> Result<Option<VehicleId>> {
    if let Some(h) = r.hq {
        let src = SourceRef::new(HQ_SOURCE, h.to_string());
        if let Some(id) = w.tx().source_lookup(ModelKind::Vehicle, &src, VEHICLES)? {
            return Ok(Some(VehicleId(id)));
        }
    }
    match r.replica {
        Some(l) => Ok(live(w.vehicle(VehicleId(l)))?.map(|_| VehicleId(l))),
        None => Ok(None),
    }
}

/// Links HQ's id of a record the replica made to the replica's record, so HQ's version of it
/// lands on it.
fn link(w: &mut WriteTxn, kind: ModelKind, r: &SyncRef, local_live: bool) -> Result<()> {
    let (Some(h), Some(l)) = (r.hq, r.replica) else {
        return Ok(());
    };
    let src = SourceRef::new(HQ_SOURCE, h.to_string());
    if local_live && w.tx().source_known(kind, &src)?.is_none() {
        w.tx().source_remember(kind, &src, l)?;
    }
    Ok(())
}

/// Applies HQ's batch `b` to the replica in one transaction.
pub(super) fn apply(replica: &Database, b: &SyncBatch, key: &str) -> Result<SyncReport> {
    replica.write(|w| {
        let mut st = load(&w.tx().t, key)?.ok_or_else(not_a_replica)?;
        if b.direction != Direction::Down || b.replica != st.name || b.scope != st.scope {
            return Err(Error::refused(
                Refusal::SyncBatchMismatch,
                format!(
                    "a {:?} batch for replica {} ({}) pulled into replica {} ({})",
                    b.direction, b.replica, b.scope, st.name, st.scope
                ),
            ));
        }
        let mut report = SyncReport {
            more: b.more,
            ..SyncReport::default()
        };
        if st.pull != b.request {
            if st.pull == b.reached {
                report.already_applied = true;
                return Ok(report);
            }
            return Err(Error::refused(
                Refusal::SyncBatchMismatch,
                format!(
                    "the batch answers position {:?}, the replica is at {:?}; push again",
                    b.request, st.pull
                ),
            ));
        }
        w.set_source(HQ_SOURCE);
        w.set_actor(HQ_SOURCE, Some(&st.scope));
        for d in &b.dealers {
            if dealer_by_code_in(&w.tx().t, &d.code)?.is_none() {
                w.insert_dealer(d)?;
            }
        }
        let dealers: HashMap<String, DealerId> = dealers_in(&w.tx().t)?
            .into_iter()
            .map(|(id, d)| (d.code, id))
            .collect();
        let received = |h: u64| Received {
            source: SourceRef::new(HQ_SOURCE, h.to_string()),
            dealer: None,
            at: b.made_at,
        };
        for (survivor, merged) in &b.merges {
            let (Some(s), Some(m)) = (local_customer(w, survivor)?, local_customer(w, merged)?)
            else {
                continue;
            };
            if s == m {
                continue;
            }
            match w.merge_customers(s, m, b.made_at, HQ_SOURCE) {
                Ok(_) => report.merges += 1,
                Err(err) => report.reject("merge", *merged, &err),
            }
        }
        for e in &b.customers {
            let Some(h) = e.id.hq else { continue };
            let local_live = match e.id.replica {
                Some(l) => live(w.customer(CustomerId(l)))?.is_some(),
                None => false,
            };
            link(w, ModelKind::Customer, &e.id, local_live)?;
            let mut c = e.customer.clone();
            c.source = None;
            match w.upsert_customer(&c, None, &received(h)) {
                Ok(u) => {
                    // HQ's record is the book of record: a value edited here that HQ's
                    // survivorship did not take (or a replayed HQ value survivorship skips as
                    // already seen) is put back to HQ's.
                    let stored = w.customer(u.id)?;
                    let theirs = Customer {
                        source: stored.source.clone(),
                        ..e.customer.clone()
                    };
                    if stored != theirs {
                        w.update_customer(u.id, &theirs)?;
                        report.customers += 1;
                    } else if u.outcome == Outcome::Unchanged {
                        report.unchanged += 1;
                    } else {
                        report.customers += 1;
                    }
                }
                Err(err) => report.reject("customer", e.id, &err),
            }
        }
        for e in &b.vehicles {
            let Some(h) = e.id.hq else { continue };
            let Some(owner) = local_customer(w, &e.owner)? else {
                let err = Error::not_found("customer", format!("{:?}", e.owner));
                report.reject("vehicle", e.id, &err);
                continue;
            };
            let local_live = match e.id.replica {
                Some(l) => live(w.vehicle(VehicleId(l)))?.is_some(),
                None => false,
            };
            link(w, ModelKind::Vehicle, &e.id, local_live)?;
            let mut v = e.vehicle.clone();
            v.source = None;
            v.selling_dealer = e
                .selling_dealer
                .as_ref()
                .and_then(|c| dealers.get(c).copied());
            match w.upsert_vehicle(&v, owner, &received(h)) {
                Ok(u) if u.outcome == Outcome::Unchanged => report.unchanged += 1,
                Ok(_) => report.vehicles += 1,
                Err(err) => report.reject("vehicle", e.id, &err),
            }
        }
        for e in &b.touchpoints {
            let Some(h) = e.id.hq else { continue };
            if e.id.replica.is_some() {
                // One this replica made and pushed: it is here already.
                report.unchanged += 1;
                continue;
            }
            let Some(customer) = local_customer(w, &e.customer)? else {
                let err = Error::not_found("customer", format!("{:?}", e.customer));
                report.reject("touchpoint", e.id, &err);
                continue;
            };
            let mut t = e.touchpoint.clone();
            t.customer = customer;
            t.vehicle = match &e.vehicle {
                Some(v) => local_vehicle(w, v)?,
                None => None,
            };
            t.dealer = e.dealer.as_ref().and_then(|c| dealers.get(c).copied());
            match insert_touchpoint_once(w, t, SourceRef::new(HQ_SOURCE, h.to_string())) {
                Ok(false) => report.unchanged += 1,
                Ok(true) => report.touchpoints += 1,
                Err(err) => report.reject("touchpoint", e.id, &err),
            }
        }
        for e in &b.consents {
            let Some(c) = local_customer(w, &e.customer)? else {
                continue;
            };
            match add_consents(w, c, &e.events) {
                Ok(n) => report.consents += n,
                Err(err) => report.reject("consents", e.customer, &err),
            }
        }
        for e in &b.erasures {
            let Some(c) = local_customer(w, e)? else {
                continue;
            };
            match w.erase_customer(c, HQ_SOURCE, "erased at HQ") {
                Ok(_) => report.erasures += 1,
                Err(err) => report.reject("erasure", *e, &err),
            }
        }
        st.pull = b.reached;
        st.syncs += 1;
        store(w, key, &st)?;
        let confirmed = b.replica_change.min(w.tx().last_change()?);
        w.acknowledge(super::PUSH_CONSUMER, confirmed)?;
        Ok(report)
    })
}
