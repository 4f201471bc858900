//! Calls made *as* a scope ([`crate::access`]): every read filtered and masked for it, every
//! write checked against its permissions, and both audited in the hash-chained trail
//! ([`crate::audit`]).
//!
//! Audit entries of writes are appended in the write's own transaction (atomically with it).
//! Entries of reads are queued in the [`Store`] and appended in batches — by the next scoped
//! write, when [`AUDIT_BATCH`] reads are queued, by [`Store::flush_audit`], and when the store
//! closes — so a read never waits for the writer and costs one queue push. The price: reads
//! audited in the last unflushed batch are lost if the process dies; call
//! [`Store::flush_audit`] where that matters. Exports (`scoped_export`) flush their entry
//! durably before returning the table: data that leaves the database is always on record.

use std::sync::Arc;

use crate::access::{Access, Permission, Principal, Scope};
use crate::audit::{
    AuditAction, AuditEntry, AuditHead, AuditVerification, NewAuditEntry, MAX_CUSTOMERS,
};
use crate::complaint::Complaint;
use crate::consent::{ConsentChannel, ConsentEvent};
use crate::erasure::Erasure;
use crate::error::{Error, Refusal, Result};
use crate::ids::{ComplaintId, CustomerId, DealerId, LeadId, TouchpointId};
use crate::integration::Received;
use crate::lead::Lead;
use crate::loyalty::Redemption;
use crate::source::SourceRef;
use crate::store::{ReadTxn, WriteTxn};
use crate::touchpoint::{TimelineCursor, TimelinePage, Touchpoint};
use crate::view::{Customer360, CustomerKey};

use super::session::Store;

/// Read audit entries queued before the store appends them in one write transaction.
pub const AUDIT_BATCH: usize = 256;

/// The source system an owner's own changes arrive as (the owner app: first for contact data
/// in the default source registry).
pub const OWNER_APP_SOURCE: &str = "app";

/// A [`Store`] seen through one scope: what [`Store::scoped`] returns. Cheap to clone; share it
/// between threads.
#[derive(Clone)]
pub struct ScopedStore {
    pub(super) store: Store,
    access: Arc<Access>,
    purpose: Option<Arc<str>>,
}

/// Longest purpose text, in characters.
pub const MAX_PURPOSE_CHARS: usize = 500;

impl Store {
    /// This store as `scope` sees it, for `actor` (who acts: an operator's login, a dealer
    /// user, an app installation). Fails with `unknown_scope` if the role, dealer or customer
    /// does not exist in the file, `validation.*` for an empty actor, and
    /// `invalid_operation.scoped_read_only` on a read-only handle (a scoped read is audited,
    /// which writes).
    pub fn scoped(&self, scope: &Scope, actor: &str) -> Result<ScopedStore> {
        let db = self.database()?;
        if db.is_read_only() {
            return Err(Error::refused(
                Refusal::ScopedReadOnly,
                format!("scope {scope} on a read-only handle"),
            ));
        }
        let r = db.begin_read()?;
        let access = Access::resolve(&r, scope, actor, db.now().date())?;
        Ok(ScopedStore {
            store: self.clone(),
            access: Arc::new(access),
            purpose: None,
        })
    }

    /// Appends the queued audit entries of scoped reads now, durably (see the module
    /// documentation). A no-op while this thread holds the write transaction (they go with a
    /// later flush).
    pub fn flush_audit(&self) -> Result<()> {
        self.append_queued_audit(true)
    }

    /// Appends the queued audit entries; `durable: false` for the batches reads trigger: an
    /// fsync per batch would cost more than the reads, and a crash loses the queued entries
    /// anyway — the next durable commit (any scoped write, an explicit flush, closing) makes
    /// them durable.
    pub(crate) fn append_queued_audit(&self, durable: bool) -> Result<()> {
        let entries = self.take_audit();
        if entries.is_empty() {
            return Ok(());
        }
        let w = match self.write() {
            Ok(w) => w,
            Err(e) => {
                self.requeue_audit(entries);
                return match e.refusal() {
                    Some(Refusal::WriteTransactionReentrant) => Ok(()),
                    _ => Err(e),
                };
            }
        };
        let appended = w.with(|t| {
            t.set_durable(durable)?;
            t.append_audit(&entries).map(drop)
        });
        if let Err(e) = appended.and_then(|()| w.commit()) {
            self.requeue_audit(entries);
            return Err(e);
        }
        Ok(())
    }
}

impl ScopedStore {
    /// Appends the queued audit entries of this store's scoped reads now
    /// ([`Store::flush_audit`]): before a short-lived process shows what it read.
    pub fn flush_audit(&self) -> Result<()> {
        self.store.flush_audit()
    }

    /// The store this scope reads and writes.
    pub(super) fn store(&self) -> &Store {
        &self.store
    }

    /// The resolved scope.
    pub fn access(&self) -> &Access {
        &self.access
    }

    /// The same scope with a purpose every audit entry of its calls records (e.g. `"service
    /// reminder call"`, a ticket number); at most [`MAX_PURPOSE_CHARS`] characters.
    pub fn with_purpose(&self, purpose: &str) -> Result<ScopedStore> {
        let p = crate::validate::optional_text("purpose", purpose, MAX_PURPOSE_CHARS)?;
        Ok(ScopedStore {
            purpose: p.map(Arc::from),
            ..self.clone()
        })
    }

    pub(super) fn entry(
        &self,
        at: crate::DateTime,
        action: AuditAction,
        what: &str,
        customers: Vec<CustomerId>,
    ) -> NewAuditEntry {
        NewAuditEntry {
            at,
            actor: self.access.actor.clone(),
            scope: self.access.scope.to_string(),
            action,
            what: what.to_string(),
            customers,
            purpose: self.purpose.as_deref().map(str::to_string),
        }
    }

    /// Runs a read and queues its audit entry (none if `customers` comes back empty and the
    /// action is a lookup: a miss reads no customer file). An entry names at most
    /// [`crate::audit::MAX_CUSTOMERS`]: an export of more is queued as several entries.
    pub(super) fn read<T>(
        &self,
        action: AuditAction,
        what: &str,
        f: impl FnOnce(&ReadTxn, &Access) -> Result<(T, Vec<CustomerId>)>,
    ) -> Result<T> {
        let db = self.store.database()?;
        let r = db.begin_read()?;
        let (value, customers) = f(&r, &self.access)?;
        drop(r);
        if action != AuditAction::Lookup || !customers.is_empty() {
            let at = db.now();
            let mut queued = 0;
            if customers.len() <= MAX_CUSTOMERS {
                queued = self
                    .store
                    .queue_audit(self.entry(at, action, what, customers));
            } else {
                for part in customers.chunks(MAX_CUSTOMERS) {
                    let e = self.entry(at, action, what, part.to_vec());
                    queued = self.store.queue_audit(e);
                }
            }
            if queued >= AUDIT_BATCH {
                self.store.append_queued_audit(false)?;
            }
        }
        Ok(value)
    }

    /// Runs a write and appends its audit entry, with the queued read entries, in the same
    /// transaction; commits. On an error nothing is written (and the entry is not kept).
    pub(super) fn write<T>(
        &self,
        what: &str,
        customers: Vec<CustomerId>,
        f: impl FnOnce(&mut WriteTxn) -> Result<T>,
    ) -> Result<T> {
        self.write_audited(|w| {
            let entry = self.entry(w.now(), AuditAction::Write, what, customers);
            Ok((f(w)?, Some(entry)))
        })
    }

    /// Runs a write that names its own audit entry (`None`: it wrote nothing to record) and
    /// commits it with the entry and the queued read entries.
    pub(super) fn write_audited<T>(
        &self,
        f: impl FnOnce(&mut WriteTxn) -> Result<(T, Option<NewAuditEntry>)>,
    ) -> Result<T> {
        let w = self.store.write()?;
        let (value, entry) = w.with(|t| {
            t.set_actor(&self.access.actor, Some(&self.access.scope.to_string()));
            f(t)
        })?;
        let mut entries = self.store.take_audit();
        let own = entry.is_some();
        entries.extend(entry);
        let requeue = |mut entries: Vec<NewAuditEntry>| {
            if own {
                entries.pop();
            }
            self.store.requeue_audit(entries);
        };
        if let Err(e) = w.with(|t| t.append_audit(&entries)) {
            requeue(entries);
            return Err(e);
        }
        if let Err(e) = w.commit() {
            requeue(entries);
            return Err(e);
        }
        Ok(value)
    }

    /// The live customer `id` if this scope sees it, else `not_found` — exactly what a
    /// missing customer gives, so a dealer cannot probe for another dealer's customers.
    pub(super) fn seen(&self, r: &ReadTxn, id: CustomerId) -> Result<CustomerId> {
        let live = r.resolve_customer(id)?;
        if self.access.sees(r, live)? {
            Ok(live)
        } else {
            Err(Error::not_found("customer", id.0))
        }
    }

    /// Customers matching `key` that this scope sees (a miss and another dealer's customer
    /// look the same: no ids). Audited as a lookup when it finds anyone.
    pub fn find(&self, key: &CustomerKey) -> Result<Vec<CustomerId>> {
        self.access
            .require(Permission::ReadCustomers, || "look customers up".into())?;
        self.read(AuditAction::Lookup, "find", |r, a| {
            let mut hits = Vec::new();
            for id in r.find_customers(key)? {
                if a.sees(r, id)? {
                    hits.push(id);
                }
            }
            Ok((hits.clone(), hits))
        })
    }

    /// The 360° view of customer `id` as this scope sees it: masked fields (listed in
    /// `masked`), lineage only with `see_lineage`; for a dealer only its own touchpoints
    /// (and a rollup of them), leads, complaints and surveys; for dealers and owners no
    /// relations and no other owners' periods of a vehicle. `not_found` for a customer the
    /// scope does not see.
    pub fn customer_360(&self, id: CustomerId, timeline_limit: usize) -> Result<Customer360> {
        self.access
            .require(Permission::ReadCustomers, || format!("open customer {id}"))?;
        self.read(AuditAction::View, "customer_360", |r, a| {
            // The unfiltered view holds what visibility is judged on: read once, then judge.
            let limit = if a.dealer().is_some() {
                0
            } else {
                timeline_limit
            };
            let mut v = match r.customer_360(id, limit) {
                Err(Error::NotFound { .. }) => return Err(Error::not_found("customer", id.0)),
                v => v?,
            };
            if !a.sees_view(r, &v)? {
                return Err(Error::not_found("customer", id.0));
            }
            let live = v.id;
            if let Some(d) = a.dealer() {
                v.rollup = crate::access::dealer_rollup(&v.rollup, d);
                v.leads.retain(|(_, l)| l.dealer == Some(d));
                v.complaints.retain(|(_, c)| c.dealer == Some(d));
                v.surveys.retain(|(_, s)| s.dealer == Some(d));
                v.timeline = dealer_timeline(r, live, d, None, timeline_limit)?;
            }
            if !matches!(a.principal, Principal::Hq(_)) {
                v.relations.clear();
                for o in v.current_vehicles.iter_mut().chain(&mut v.past_vehicles) {
                    o.ownership.0.retain(|p| p.customer == live);
                }
            }
            let sight = a.sight();
            let (customer, masked) = sight.customer(&v.customer);
            v.customer = customer;
            v.masked = masked;
            if a.allows(Permission::SeeLineage) {
                for l in &mut v.lineage {
                    l.value = sight.field_value(l.field.name(), &l.value);
                }
            } else {
                v.lineage.clear();
            }
            Ok((v, vec![live]))
        })
    }

    /// A page of customer `id`'s timeline as this scope sees it (a dealer: its own
    /// touchpoints only), newest first, strictly older than `before`.
    pub fn timeline(
        &self,
        id: CustomerId,
        before: Option<TimelineCursor>,
        limit: usize,
    ) -> Result<TimelinePage> {
        self.access.require(Permission::ReadCustomers, || {
            format!("read customer {id}'s timeline")
        })?;
        self.read(AuditAction::Timeline, "timeline", |r, a| {
            let live = self.seen(r, id)?;
            let page = match a.dealer() {
                Some(d) => dealer_timeline(r, live, d, before, limit)?,
                None => r.timeline(live, before, limit)?,
            };
            Ok((page, vec![live]))
        })
    }

    /// Adds a touchpoint. A dealer writes only its own: a touchpoint without a dealer is
    /// stamped with it, one naming another dealer is `access_denied`; the customer must be
    /// one the scope sees (`not_found` otherwise).
    pub fn add_touchpoint(&self, touchpoint: &Touchpoint) -> Result<TouchpointId> {
        let mut t = touchpoint.clone();
        t.customer = self.writable(t.customer, &mut t.dealer, "touchpoint")?;
        self.write("add_touchpoint", vec![t.customer], |w| {
            w.insert_touchpoint(&t)
        })
    }

    /// Adds a lead, as [`Self::add_touchpoint`] adds a touchpoint: a dealer's lead is assigned
    /// to it (one assigned to another dealer is `access_denied`).
    pub fn add_lead(&self, lead: &Lead) -> Result<LeadId> {
        let mut l = lead.clone();
        l.customer = self.writable(l.customer, &mut l.dealer, "lead")?;
        self.write("add_lead", vec![l.customer], |w| w.insert_lead(&l))
    }

    /// Adds a complaint, as [`Self::add_touchpoint`] adds a touchpoint: a dealer's complaint
    /// names it (one naming another dealer is `access_denied`).
    pub fn add_complaint(&self, complaint: &Complaint) -> Result<ComplaintId> {
        let mut c = complaint.clone();
        c.customer = self.writable(c.customer, &mut c.dealer, "complaint")?;
        self.write("add_complaint", vec![c.customer], |w| {
            w.insert_complaint(&c)
        })
    }

    /// The checks of a record a scope writes for `customer` (needs `write_touchpoints`): a
    /// dealer's record without a dealer is stamped with it, one naming another dealer is
    /// `access_denied`; the customer must be one the scope sees (its live id is returned).
    fn writable(
        &self,
        customer: CustomerId,
        dealer: &mut Option<DealerId>,
        what: &str,
    ) -> Result<CustomerId> {
        self.access.require(Permission::WriteTouchpoints, || {
            format!("add a {what} for customer {customer}")
        })?;
        if let Some(d) = self.access.dealer() {
            match *dealer {
                None => *dealer = Some(d),
                Some(other) if other != d => {
                    return Err(self.access.denied(
                        Permission::WriteTouchpoints,
                        format!("write a {what} of dealer {other}"),
                    ))
                }
                Some(_) => {}
            }
        }
        self.visible(customer)
    }

    /// Records customer `customer`'s consent or withdrawal for `channel`, stamped now with the
    /// scope as its source. An owner records only his own.
    pub fn record_consent(
        &self,
        customer: CustomerId,
        channel: ConsentChannel,
        granted: bool,
    ) -> Result<()> {
        self.access.require(Permission::WriteConsents, || {
            format!("record a consent of customer {customer}")
        })?;
        let live = self.visible(customer)?;
        let event = ConsentEvent {
            channel,
            granted,
            at: self.store.database()?.now(),
            source: self.access.scope.to_string().chars().take(64).collect(),
        };
        self.write("record_consent", vec![live], |w| {
            w.record_consent(live, &event)
        })
    }

    /// Redeems points. An owner redeems only his own; a dealer only for customers it serves,
    /// and only at itself (a redemption without a dealer is stamped with it). The idempotency
    /// key makes a retried call spend once.
    pub fn redeem(&self, redemption: &Redemption) -> Result<u64> {
        self.access.require(Permission::Redeem, || {
            format!("redeem points for customer {}", redemption.customer)
        })?;
        let mut r = redemption.clone();
        if let Some(d) = self.access.dealer() {
            r.dealer = Some(own_dealer(&self.access, d, r.dealer, Permission::Redeem)?);
        }
        r.customer = self.visible(r.customer)?;
        self.write("redeem", vec![r.customer], |w| w.redeem(&r))
    }

    /// Erases customer `customer`'s personal data on request ([`crate::erasure`]): needs the
    /// `erase` permission (HQ `data_admin` by default). The erasure is audited as this scope's
    /// actor with `reason` as its purpose; erasing again returns the first erasure and records
    /// nothing. Vacuum the file afterwards ([`crate::Database::vacuum`]).
    pub fn erase(&self, customer: CustomerId, reason: &str) -> Result<Erasure> {
        self.access
            .require(Permission::Erase, || format!("erase customer {customer}"))?;
        let live = self.visible(customer)?;
        let actor = self.access.actor.clone();
        let scope = self.access.scope.to_string();
        self.write_audited(|w| {
            let (erasure, new) = w.erase_customer_unaudited(live, &actor, reason)?;
            let entry = new.then(|| erasure.audit_entry(&actor, &scope));
            Ok((erasure, entry))
        })
    }

    /// The owner changes his own contact details: phones (replacing them), province, city,
    /// address — `None` keeps a value. They go in through the integration path as source
    /// system [`OWNER_APP_SOURCE`], so lineage, source priority and conflicts apply as to
    /// any source. Only an owner scope may (`access_denied` otherwise).
    pub fn update_my_contact(&self, contact: &ContactUpdate) -> Result<()> {
        let Some(me) = self.access.owner() else {
            return Err(self.access.denied(
                Permission::ReadCustomers,
                "change an owner's contact details (only the owner may)",
            ));
        };
        let db = self.store.database()?;
        let r = db.begin_read()?;
        let me = r.resolve_customer(me)?;
        let mut c = r.customer(me)?;
        drop(r);
        if let Some(p) = &contact.phones {
            c.phones.clone_from(p);
        }
        for (field, value) in [
            (&mut c.province, &contact.province),
            (&mut c.city, &contact.city),
            (&mut c.address, &contact.address),
        ] {
            if value.is_some() {
                field.clone_from(value);
            }
        }
        let from = Received {
            source: SourceRef {
                system: OWNER_APP_SOURCE.into(),
                record_id: format!("owner/{}", me.0),
            },
            dealer: None,
            at: db.now(),
        };
        self.write("update_my_contact", vec![me], |w| {
            w.upsert_customer(&c, None, &from).map(drop)
        })
    }

    /// The audit trail, oldest first, after sequence number `after` (all of a customer's
    /// entries with `customer`). Needs `read_audit`.
    pub fn audit_log(
        &self,
        customer: Option<CustomerId>,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>> {
        self.access
            .require(Permission::ReadAudit, || "read the audit trail".into())?;
        self.store.flush_audit()?;
        self.store
            .read()?
            .with(|r| r.audit_log(customer, after, limit))
    }

    /// Verifies the audit trail's hash chain. Needs `read_audit`.
    pub fn verify_audit(&self) -> Result<AuditVerification> {
        self.access
            .require(Permission::ReadAudit, || "verify the audit trail".into())?;
        self.store.flush_audit()?;
        self.store.read()?.with(|r| r.verify_audit())
    }

    /// Verifies the chain and that it still holds `anchor`, a head exported earlier (a
    /// truncated tail is detected too). Needs `read_audit`.
    pub fn verify_audit_against(&self, anchor: &AuditHead) -> Result<AuditVerification> {
        self.access
            .require(Permission::ReadAudit, || "verify the audit trail".into())?;
        self.store.flush_audit()?;
        self.store.read()?.with(|r| r.verify_audit_against(anchor))
    }

    /// The HQ roles. Needs `manage_roles`.
    pub fn roles(&self) -> Result<crate::access::Roles> {
        self.access
            .require(Permission::ManageRoles, || "list the roles".into())?;
        self.store.read()?.with(|r| r.roles())
    }

    /// The chain head to anchor elsewhere. Needs `read_audit`.
    pub fn audit_head(&self) -> Result<AuditHead> {
        self.access
            .require(Permission::ReadAudit, || "read the audit chain head".into())?;
        self.store.flush_audit()?;
        self.store.read()?.with(|r| r.audit_head())
    }

    /// Stores or removes an HQ role. Needs `manage_roles`.
    pub fn set_role(&self, name: &str, role: Option<&crate::access::Role>) -> Result<()> {
        self.access
            .require(Permission::ManageRoles, || format!("change role {name}"))?;
        self.write("set_role", vec![], |w| w.set_role(name, role))
    }

    /// The live id of customer `id` if this scope sees it (`not_found` otherwise), read in a
    /// snapshot before the write: visibility only grows with writes, except through a merge or
    /// an erasure, which a scoped caller cannot make.
    fn visible(&self, id: CustomerId) -> Result<CustomerId> {
        let r = self.store.database()?.begin_read()?;
        self.seen(&r, id)
    }
}

/// New contact details an owner gives ([`ScopedStore::update_my_contact`]); `None` keeps a
/// value. Phones are offered like any source's: survivorship adds a new number to the
/// customer's numbers (each keeps its lineage) rather than dropping the others.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContactUpdate {
    /// Mobile phones (added to the stored ones by survivorship).
    pub phones: Option<Vec<String>>,
    /// Province.
    pub province: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Street address.
    pub address: Option<String>,
}

fn own_dealer(
    a: &Access,
    me: DealerId,
    given: Option<DealerId>,
    p: Permission,
) -> Result<DealerId> {
    match given {
        None => Ok(me),
        Some(d) if d == me => Ok(me),
        Some(other) => Err(a.denied(p, format!("act for dealer {other}"))),
    }
}

/// A page of customer `id`'s timeline with dealer `d`'s touchpoints only, newest first.
fn dealer_timeline(
    r: &ReadTxn,
    id: CustomerId,
    d: DealerId,
    before: Option<TimelineCursor>,
    limit: usize,
) -> Result<TimelinePage> {
    let mut items = Vec::new();
    let mut cursor = before;
    loop {
        let page = r.timeline(id, cursor, 256)?;
        for (tid, t) in page.items {
            if t.dealer == Some(d) {
                if items.len() == limit {
                    let next =
                        items
                            .last()
                            .map(|(id, t): &(TouchpointId, Touchpoint)| TimelineCursor {
                                at: t.at,
                                id: *id,
                            });
                    return Ok(TimelinePage { items, next });
                }
                items.push((tid, t));
            }
        }
        match page.next {
            Some(c) => cursor = Some(c),
            None => return Ok(TimelinePage { items, next: None }),
        }
    }
}
