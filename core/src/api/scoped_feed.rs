//! The change feed read *as* a scope: only the changes to records the scope may see, so a
//! dealer's system (or an owner's phone) can follow HQ's file without learning what happens to
//! other dealers' customers.
//!
//! A change is judged on the record as it is now, in the snapshot the page is read from:
//! - keyed by a customer (customer, membership, tier, consents, erasure) or naming one
//!   (touchpoint, relation: both ends, merge: the survivor): the scope must see the customer;
//!   a dealer sees only its own touchpoints;
//! - leads, complaints, surveys, postings: the scope must see the record as its scoped export
//!   would (its customer, and for a dealer the record must name it);
//! - vehicles and ownership histories: a customer the scope sees owns or owned the vehicle;
//! - dealers and the loyalty configuration: everyone (the dealer directory, the club rules);
//! - segments, materialisations, conflicts, the source registry and the roles: only scopes that
//!   see every customer.
//!
//! A deletion leaves nothing to judge by. It is passed on when its key names a customer the
//! scope sees, and for leads, complaints, surveys, touchpoints and vehicles by id alone (an id
//! carries no personal data, and a replica that held the record must learn it is gone).
//!
//! Reading needs `export` (the feed takes data out of the file, like a table export) — an
//! owner, who sees only himself, needs `read_customers` — and is audited as an export naming the customers the returned changes name, appended before the
//! page is returned. Paging works as unscoped: `next` moves past changes the scope does not see
//! too, so a consumer never re-reads them.

use crate::access::Permission;
use crate::audit::AuditAction;
use crate::error::{Error, Result};
use crate::feed::{Change, ChangeKey, ChangeOp, ChangePage, Entity};
use crate::ids::{ComplaintId, CustomerId, LeadId, SurveyId, TouchpointId, VehicleId};
use crate::store::ReadTxn;

use super::seen::{distinct, Seen};
use super::ScopedStore;

/// `Ok(None)` for a record that is gone, the record otherwise.
fn gone_is_none<T>(r: Result<T>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether the scope behind `seen` may see change `c`; the customers it names are noted.
fn visible(r: &ReadTxn, seen: &mut Seen<'_>, c: &Change) -> Result<bool> {
    let deleted = c.op == ChangeOp::Delete;
    let id = match c.key {
        ChangeKey::Id(id) => Some(id),
        _ => None,
    };
    let customer_seen = |seen: &mut Seen<'_>, customer: u64| -> Result<bool> {
        let customer = CustomerId(customer);
        let s = seen.customer(customer)?;
        if s {
            seen.named.push(customer);
        }
        Ok(s)
    };
    Ok(match (c.entity, &c.key) {
        (Entity::Dealer | Entity::LoyaltyConfig, _) => true,
        (
            Entity::Customer
            | Entity::Membership
            | Entity::Tier
            | Entity::Consents
            | Entity::Erasure,
            ChangeKey::Id(customer),
        ) => customer_seen(seen, *customer)?,
        (Entity::Touchpoint, ChangeKey::Touchpoint { customer, id }) => {
            match gone_is_none(r.touchpoint(TouchpointId(*id)))? {
                Some(t) => seen.record(t.customer, t.dealer)?,
                None => deleted && customer_seen(seen, *customer)?,
            }
        }
        (Entity::Relation, ChangeKey::Relation { from, to, .. }) => {
            customer_seen(seen, *from)? && customer_seen(seen, *to)?
        }
        (Entity::Merge, ChangeKey::Merge { survivor, .. }) => customer_seen(seen, *survivor)?,
        (Entity::Lead, _) => match gone_is_none(r.lead(LeadId(id.unwrap_or_default())))? {
            Some(l) => seen.record(l.customer, l.dealer)?,
            None => deleted,
        },
        (Entity::Complaint, _) => {
            match gone_is_none(r.complaint(ComplaintId(id.unwrap_or_default())))? {
                Some(x) => seen.record(x.customer, x.dealer)?,
                None => deleted,
            }
        }
        (Entity::Survey, _) => match gone_is_none(r.survey(SurveyId(id.unwrap_or_default())))? {
            Some(s) => seen.record(s.customer, s.dealer)?,
            None => deleted,
        },
        (Entity::Posting, _) => match gone_is_none(r.posting(id.unwrap_or_default()))? {
            Some(p) => seen.record(p.customer, p.dealer)?,
            None => false,
        },
        (Entity::Vehicle | Entity::Ownership, _) => {
            match gone_is_none(r.ownership(VehicleId(id.unwrap_or_default())))? {
                Some(history) => {
                    let mut any = false;
                    for p in &history.0 {
                        any |= customer_seen(seen, p.customer.0)?;
                    }
                    any || seen.a.sees_everyone()
                }
                None => deleted,
            }
        }
        _ => seen.a.sees_everyone(),
    })
}

impl ScopedStore {
    /// The changes after change `after` that this scope may see (see the module
    /// documentation), from at most `limit` changes read: a page may hold fewer than `limit`
    /// changes, or none, and still not be the last (`next < last`). Needs `export` (an owner:
    /// `read_customers`); audited as an export naming the customers the changes name.
    pub fn changes_after(&self, after: u64, limit: usize) -> Result<ChangePage> {
        let a = self.access();
        let needed = if a.owner().is_some() {
            Permission::ReadCustomers
        } else {
            Permission::Export
        };
        a.require(needed, || "read the change feed".into())?;
        let page = self.read(AuditAction::Export, "changes", |r, a| {
            let mut page = r.changes_after(after, limit)?;
            let mut seen = Seen::new(r, a);
            let mut kept = Vec::with_capacity(page.changes.len());
            for c in std::mem::take(&mut page.changes) {
                if visible(r, &mut seen, &c)? {
                    kept.push(c);
                }
            }
            page.changes = kept;
            Ok((page, distinct(seen.named)))
        })?;
        self.flush_audit()?;
        Ok(page)
    }
}
