//! Survivorship: an incoming customer or vehicle record is matched to a stored one and merged
//! field by field by source priority; what is not applied becomes a conflict.
//!
//! Rules, per field (the field's group gives the source's priority, [`super::sources`]):
//! - no value offered → nothing happens (a source that does not know a field never clears it);
//! - nothing stored → the offer is applied;
//! - the same value stored → kept; its lineage moves to the offering source if that ranks
//!   higher (or as high, for a value without lineage), and becomes verified if the source
//!   verifies;
//! - a verified national ID, credit code or birth date that "changes" → conflict
//!   `verified_change`, whatever the offering source's rank;
//! - higher priority → applied; lower → conflict `lower_priority`; equal → the record
//!   received later wins, an older or simultaneous one is a conflict `stale`;
//! - an offered national ID, credit code or plate that another record holds → conflict
//!   `key_taken` (never an error: the row is fine, the duplicate is for identity resolution);
//! - phones are a set, never a conflict: new numbers are added (a change), and the offered
//!   first number becomes the primary if the source ranks at least as high (Contact group) as
//!   the source of the stored primary;
//! - a vehicle's usage `Private` is the type's default, which records that do not know the
//!   usage carry as well: it is never an offer against a stored value (fleet, taxi and rental
//!   are); changing a vehicle back to private use is an operator's `update_vehicle`;
//! - a stored value without lineage (written by `insert_*`) counts as coming from the record's
//!   own `source` system (received before anything else), or priority 0 if it has none.
//!
//! Everything is validated and decided before the first write, so a rejected row leaves the
//! batch transaction usable. Replaying a source record changes nothing and raises no conflict
//! twice: an offer equal to an earlier conflict's (same record, field and value) from the same
//! source record is not recorded again, even if an operator rejected it since, nor is one from
//! the same source system while that conflict is still open.

use std::collections::HashMap;
use std::sync::Arc;

use redb::ReadableTable;

use super::conflict::{Conflict, ConflictReason, ConflictStatus};
use super::fields::{
    customer_fields, set_customer_field, set_vehicle_field, vehicle_fields, Entity, Field,
    FieldValue,
};
use super::lineage::{FieldLineage, RecordLineage};
use super::sources::{FieldGroup, SourceRegistry, SourceSystem};
use super::{Outcome, Received, RecordKind, Upsert};
use crate::codec::ModelKind;
use crate::customer::Customer;
use crate::date::{Date, DateTime};
use crate::error::{Error, Refusal, Result};
use crate::ids::{ConflictId, CustomerId, VehicleId};
use crate::source::SourceRef;
use crate::store::tables::*;
use crate::store::{get_record, Tx, WriteTxn};
use crate::validate;
use crate::vehicle::{OwnershipHistory, Usage, Vehicle};

/// Where a stored value stands: the priority and time of its source, whether it is verified,
/// and whether it has a lineage entry at all.
#[derive(Clone, Copy, Debug)]
struct Held {
    priority: u16,
    at: Option<DateTime>,
    verified: bool,
    has_lineage: bool,
}

impl Held {
    fn of(l: &FieldLineage) -> Held {
        Held {
            priority: l.priority,
            at: Some(l.at),
            verified: l.verified,
            has_lineage: true,
        }
    }
}

#[derive(Debug)]
enum Decision {
    Apply,
    Equal,
    Conflict(ConflictReason),
}

fn decide(
    field: Field,
    stored: Option<&FieldValue>,
    held: Held,
    offer: &FieldValue,
    o: &Offer,
) -> Decision {
    let Some(stored) = stored else {
        return Decision::Apply;
    };
    if stored == offer {
        return Decision::Equal;
    }
    let prio = o.priority(field);
    if field.is_verified_identity() && held.verified {
        Decision::Conflict(ConflictReason::VerifiedChange)
    } else if prio > held.priority {
        Decision::Apply
    } else if prio < held.priority {
        Decision::Conflict(ConflictReason::LowerPriority)
    } else if held.at.is_none_or(|h| o.from.at > h) {
        Decision::Apply
    } else {
        Decision::Conflict(ConflictReason::Stale)
    }
}

/// The incoming record's source as survivorship sees it.
struct Offer<'a> {
    from: &'a Received,
    system: &'a SourceSystem,
}

impl Offer<'_> {
    fn priority(&self, field: Field) -> u16 {
        self.system.priority(field.group())
    }

    /// Whether a value of `field` from this source counts as verified: identity fields from
    /// a source that checks identity documents.
    fn verifies(&self, field: Field) -> bool {
        self.system.verifies && field.group() == FieldGroup::Identity
    }

    fn lineage(&self, field: Field, value: &FieldValue) -> FieldLineage {
        FieldLineage::new(
            field,
            value.to_string(),
            self.from,
            self.priority(field),
            self.verifies(field),
        )
    }
}

/// What a merge decided: the merged values, lineage to write, conflicts to record.
struct Merge {
    entity: Entity,
    id: u64,
    /// The record's stored lineage, read once per upsert, sorted by field then number (as
    /// stored); the writes are applied to it at the end.
    lineage: RecordLineage,
    fallback: Option<SourceSystem>,
    writes: Vec<FieldLineage>,
    /// Conflicts to record. Until [`Merge::drop_known`] runs, the candidates: those repeating
    /// a stored conflict are dropped there (stored conflicts are read only if there is one).
    conflicts: Vec<Conflict>,
    /// Values the merge replaces, kept as the conflicts their records would have raised had
    /// they arrived after the replacing one: the result does not depend on arrival order.
    displaced: Vec<Conflict>,
    /// Fields applied, in order (to take a change back if the record became inconsistent).
    applied: Vec<(Field, Option<FieldValue>)>,
}

impl Merge {
    fn new(
        tx: &Tx<'_>,
        entity: Entity,
        id: u64,
        stored_source: Option<&SourceRef>,
        registry: &SourceRegistry,
    ) -> Result<Merge> {
        Ok(Merge {
            entity,
            id,
            lineage: tx.record_lineage(entity, id)?,
            fallback: stored_source.and_then(|s| registry.get(&s.system).cloned()),
            writes: vec![],
            conflicts: vec![],
            displaced: vec![],
            applied: vec![],
        })
    }

    fn held(&self, field: Field, sub: &str) -> Held {
        match self.lineage.get(field, sub) {
            Some(l) => Held::of(l),
            None => Held {
                priority: self
                    .fallback
                    .as_ref()
                    .map_or(0, |s| s.priority(field.group())),
                at: None,
                verified: self.fallback.as_ref().is_some_and(|s| s.verifies)
                    && field.group() == FieldGroup::Identity,
                has_lineage: false,
            },
        }
    }

    /// An equal value was offered again: move its lineage to a higher-ranked source, record a
    /// first lineage, or mark it verified.
    fn confirm(&mut self, field: Field, value: &FieldValue, sub: &str, o: &Offer) {
        let held = self.held(field, sub);
        let prio = o.priority(field);
        // A value without lineage keeps standing for its record's source unless this one
        // ranks at least as high: lineage never lowers a value's standing.
        if prio > held.priority || (!held.has_lineage && prio == held.priority) {
            let mut l = o.lineage(field, value);
            l.verified |= held.verified;
            self.writes.push(l);
        } else if o.verifies(field) && !held.verified {
            if let Some(l) = self.lineage.get(field, sub) {
                let mut l = l.clone();
                l.verified = true;
                self.writes.push(l);
            }
        }
    }

    fn conflict(
        &mut self,
        field: Field,
        current: Option<FieldValue>,
        offered: FieldValue,
        reason: ConflictReason,
        o: &Offer,
    ) {
        let c = Conflict {
            id: ConflictId(0),
            entity: self.entity,
            record: self.id,
            field,
            current,
            current_lineage: self.lineage.get(field, "").cloned(),
            offered,
            received: o.from.clone(),
            priority: o.priority(field),
            verified: o.verifies(field),
            reason,
            status: ConflictStatus::Open,
        };
        if !self.conflicts.iter().any(|k| k.repeated_by(&c)) {
            self.conflicts.push(c);
        }
    }

    /// Drops the candidate conflicts that repeat a stored conflict about the record (read only
    /// if there is a candidate: most upserts raise none).
    fn drop_known(&mut self, tx: &Tx<'_>) -> Result<()> {
        for c in std::mem::take(&mut self.displaced) {
            if !self.conflicts.iter().any(|k| k.repeated_by(&c)) {
                self.conflicts.push(c);
            }
        }
        if self.conflicts.is_empty() {
            return Ok(());
        }
        let known = tx.conflicts_about(self.entity, self.id)?;
        self.conflicts
            .retain(|c| !known.iter().any(|k| k.repeated_by(c)));
        Ok(())
    }

    /// Decides every scalar field; `taken` says whether a key value belongs to another
    /// record; `set` applies a value to the merged record.
    fn fields(
        &mut self,
        stored: Vec<(Field, Option<FieldValue>)>,
        offered: Vec<(Field, Option<FieldValue>)>,
        o: &Offer,
        mut taken: impl FnMut(Field, &FieldValue) -> Result<bool>,
        mut set: impl FnMut(Field, FieldValue),
    ) -> Result<()> {
        let stored: HashMap<Field, Option<FieldValue>> = stored.into_iter().collect();
        for (field, offer) in offered {
            let Some(offer) = offer else { continue };
            // `Usage` has a default (private) that a record not knowing the usage carries
            // too: only a stated fleet, taxi or rental usage is an offer.
            if offer == FieldValue::Usage(Usage::Private) {
                continue;
            }
            let current = stored.get(&field).cloned().flatten();
            let held = self.held(field, "");
            match decide(field, current.as_ref(), held, &offer, o) {
                Decision::Equal => self.confirm(field, &offer, "", o),
                Decision::Conflict(r) => self.conflict(field, current, offer, r, o),
                Decision::Apply if taken(field, &offer)? => {
                    self.conflict(field, current, offer, ConflictReason::KeyTaken, o)
                }
                Decision::Apply => {
                    if let Some(old) = &current {
                        self.displace(field, old, &offer, o);
                    }
                    self.writes.push(o.lineage(field, &offer));
                    self.applied.push((field, current));
                    set(field, offer);
                }
            }
        }
        Ok(())
    }

    /// `offer` replaces `old`: the record `old` came from (by its lineage) would have raised a
    /// conflict, had it arrived after this one; it is recorded as that conflict, so that the
    /// order in which records arrive does not change which conflicts exist (DOMAIN §4: the
    /// attempt is kept for review). Nothing is recorded for a value without lineage, or one
    /// the same source record sent before (a record correcting itself).
    fn displace(&mut self, field: Field, old: &FieldValue, offer: &FieldValue, o: &Offer) {
        let Some(l) = self.lineage.get(field, "") else {
            return;
        };
        if l.source == o.from.source {
            return;
        }
        let prio = o.priority(field);
        let reason = if field.is_verified_identity() && o.verifies(field) {
            ConflictReason::VerifiedChange
        } else if l.priority < prio {
            ConflictReason::LowerPriority
        } else {
            ConflictReason::Stale
        };
        self.displaced.push(Conflict {
            id: ConflictId(0),
            entity: self.entity,
            record: self.id,
            field,
            current: Some(offer.clone()),
            current_lineage: Some(o.lineage(field, offer)),
            offered: old.clone(),
            received: Received {
                source: l.source.clone(),
                dealer: l.dealer,
                at: l.at,
            },
            priority: l.priority,
            verified: l.verified,
            reason,
            status: ConflictStatus::Open,
        });
    }

    /// Takes back the application of `field` (it made the record inconsistent), turning it
    /// into a conflict. Returns the stored value to restore.
    fn take_back(&mut self, field: Field, o: &Offer) -> Option<Option<FieldValue>> {
        let i = self.applied.iter().position(|(f, _)| *f == field)?;
        let (_, before) = self.applied.remove(i);
        self.displaced.retain(|c| c.field != field);
        let w = self.writes.iter().position(|l| l.field == field)?;
        let l = self.writes.remove(w);
        let offered = match field {
            Field::PurchaseDate
            | Field::InvoiceDate
            | Field::RegistrationDate
            | Field::FirstServiceDate
            | Field::WarrantyEnd
            | Field::InsuranceExpiry
            | Field::InspectionDue => l.value.parse().ok().map(FieldValue::Date),
            _ => None,
        };
        if let Some(offered) = offered {
            self.conflict(
                field,
                before.clone(),
                offered,
                ConflictReason::Inconsistent,
                o,
            );
        }
        Some(before)
    }
}

/// The keys a customer is matched by, in this order: national ID, credit code (unique keys);
/// the current owner of `vin`; a customer with one of `phones` who goes by `name` (its stored
/// name, or a name a source record sent for it). Candidates found by the owner or by phone
/// must be compatible: the same kind (`organisation`, if given) and no other national ID /
/// credit code than the keys give. No name, no phone match: a phone is shared within a family.
///
/// Keys are expected normalised (as [`crate::validate`] returns them).
#[derive(Clone, Copy, Debug, Default)]
pub struct MatchKeys<'a> {
    /// National ID (persons).
    pub national_id: Option<&'a str>,
    /// Unified social credit code (organisations).
    pub credit_code: Option<&'a str>,
    /// A VIN whose current owner is the customer.
    pub vin: Option<&'a str>,
    /// Mobile numbers.
    pub phones: &'a [String],
    /// The customer's name, required for a phone match.
    pub name: Option<&'a str>,
    /// Whether the customer is an organisation, if known.
    pub organisation: Option<bool>,
}

/// What [`WriteTxn::match_customer`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CustomerMatch {
    /// No customer matches.
    None,
    /// Exactly this customer.
    One(CustomerId),
    /// Several customers share the phone and the name (lowest id first).
    Several(Vec<CustomerId>),
}

impl Tx<'_> {
    fn received(&mut self, from: &Received) -> Result<(Received, Arc<SourceRegistry>)> {
        let from = Received {
            source: from.source.normalised()?,
            dealer: from.dealer,
            at: from.at,
        };
        validate::plausible_date("received.at", from.at.date())?;
        let registry = self.source_registry()?;
        registry.require(&from.source.system)?;
        Ok((from, registry))
    }

    /// Upserts a customer delivered by a source system, following DOMAIN §4.
    ///
    /// Match, in order: the customer this source record wrote before; the customer with the
    /// same national ID or credit code; the current owner of `vin` (if a person/organisation
    /// like the incoming one); a customer with one of the incoming phone numbers, the same
    /// name and no conflicting national ID / credit code. No match creates a customer. A
    /// match is merged field by field by the survivorship rules of this module. A successful
    /// upsert removes the source record's entry from the feedback queue.
    ///
    /// Errors, all before anything is written (the transaction stays usable): validation of
    /// the record, of `vin` or of `from` (`validation.unknown_source` for a system not in the
    /// registry); [`Error::InvalidOperation`] ([`Refusal::SourceChangedKind`]) if the
    /// source record wrote a person and now sends an organisation or the reverse.
    pub fn upsert_customer(
        &mut self,
        incoming: &Customer,
        vin: Option<&str>,
        from: &Received,
    ) -> Result<Upsert<CustomerId>> {
        let mut c = incoming.normalised_at(from.at)?;
        let vin = vin.map(|v| validate::vin("vin", v)).transpose()?;
        let (from, registry) = self.received(from)?;
        let system = registry.require(&from.source.system)?;
        let o = Offer {
            from: &from,
            system,
        };
        c.source = Some(from.source.clone());
        // The customer this source record wrote, or the one it was merged into since.
        let written = self
            .t
            .source_records()?
            .get(from.source.key(ModelKind::Customer).as_slice())?
            .map(|v| v.value());
        let by_source = match written {
            Some(id) => self.redirected_customer(id)?.map(|c| c.0),
            None => None,
        };
        // The stored record of a customer found by its source record, read once.
        let mut found = None;
        if let Some(id) = by_source {
            let stored = self.customer(CustomerId(id))?;
            if stored.is_organisation() != c.is_organisation() {
                return Err(Error::refused(
                    Refusal::SourceChangedKind,
                    format!(
                        "source record {}/{} wrote customer {} as {}, now it sends {}",
                        from.source.system,
                        from.source.record_id,
                        CustomerId(id),
                        kind_name(&stored),
                        kind_name(&c)
                    ),
                ));
            }
            found = Some(stored);
        }
        let matched = match by_source {
            Some(id) => Some(CustomerId(id)),
            None => {
                let keys = MatchKeys {
                    national_id: c.national_id(),
                    credit_code: c.credit_code(),
                    vin: vin.as_deref(),
                    phones: &c.phones,
                    name: Some(c.name()),
                    organisation: Some(c.is_organisation()),
                };
                match self.match_customer(&keys)? {
                    CustomerMatch::None => None,
                    CustomerMatch::One(id) => Some(id),
                    // Several people share the phone and name: the oldest record.
                    CustomerMatch::Several(ids) => ids.first().copied(),
                }
            }
        };
        let Some(id) = matched else {
            return self.create_customer(c, &o);
        };
        self.refuse_if_erased(id)?;
        let stored = match found {
            Some(stored) => stored,
            None => self.customer(id)?,
        };
        let mut m = Merge::new(
            self,
            Entity::Customer,
            id.0,
            stored.source.as_ref(),
            &registry,
        )?;
        let mut merged = stored.clone();
        m.fields(
            customer_fields(&stored),
            customer_fields(&c),
            &o,
            |field, value| self.key_taken(field, value, id.0),
            |field, value| {
                set_customer_field(&mut merged, field, value);
            },
        )?;
        // Phones: a set. New numbers are added; the offered first number becomes primary if
        // this source ranks at least as high as the stored primary's.
        for p in &c.phones {
            let value = FieldValue::Text(p.clone());
            if merged.phones.contains(p) {
                m.confirm(Field::Phone, &value, p, &o);
            } else {
                merged.phones.push(p.clone());
                m.writes.push(o.lineage(Field::Phone, &value));
            }
        }
        if let (Some(first), Some(primary)) = (c.phones.first(), stored.phones.first()) {
            let held = m.held(Field::Phone, primary);
            if first != primary && o.priority(Field::Phone) >= held.priority {
                merged.phones.retain(|p| p != first);
                merged.phones.insert(0, first.clone());
            }
        }
        m.drop_known(self)?;
        let changed = merged != stored;
        merged.source = Some(from.source.clone());
        let normalised = if changed {
            Some(merged.normalised_at(from.at)?)
        } else {
            None
        };
        let outcome = if changed {
            Outcome::Updated
        } else {
            Outcome::Unchanged
        };
        let conflicts = m.conflicts.len() as u32;
        self.writing(|tx| {
            if let Some(c) = normalised {
                tx.replace_customer(id, &stored, c)?;
            }
            if written != Some(id.0) {
                tx.source_remember(ModelKind::Customer, &from.source, id.0)?;
            }
            let incomplete = tx.finish(m, RecordKind::Customer, &from, Some((id, &merged)))?;
            Ok(Upsert {
                id,
                outcome,
                conflicts,
                incomplete,
            })
        })
    }

    fn create_customer(&mut self, c: Customer, o: &Offer) -> Result<Upsert<CustomerId>> {
        let mut writes: Vec<FieldLineage> = customer_fields(&c)
            .into_iter()
            .filter_map(|(f, v)| v.map(|v| o.lineage(f, &v)))
            .collect();
        writes.extend(
            c.phones
                .iter()
                .map(|p| o.lineage(Field::Phone, &FieldValue::Text(p.clone()))),
        );
        // `c` is normalised, its source record wrote no live customer (or it would have
        // matched) and its unified keys are free (otherwise the record would have matched):
        // nothing for `insert_customer` to check again.
        debug_assert_eq!(c.normalised_at(o.from.at).ok().as_ref(), Some(&c));
        let id = self.insert_checked_customer(c.clone())?;
        self.writing(|tx| {
            tx.put_new_lineage(Entity::Customer, id.0, &writes)?;
            let incomplete = tx.settle_feedback(o.from, RecordKind::Customer, Some((id, &c)))?;
            Ok(Upsert {
                id,
                outcome: Outcome::Created,
                conflicts: 0,
                incomplete,
            })
        })
    }

    /// Writes a merge's lineage and conflicts and clears the source record's feedback entry.
    fn finish(
        &mut self,
        m: Merge,
        kind: RecordKind,
        from: &Received,
        stored: Option<(CustomerId, &Customer)>,
    ) -> Result<bool> {
        if !m.writes.is_empty() {
            let mut lineage = m.lineage;
            lineage.set(&m.writes);
            self.put_record_lineage(m.entity, m.id, &lineage)?;
        }
        for c in m.conflicts {
            self.put_new_conflict(c)?;
        }
        self.settle_feedback(from, kind, stored)
    }

    /// Whether `value` of a unique key field belongs to a record other than `me`.
    fn key_taken(&self, field: Field, value: &FieldValue, me: u64) -> Result<bool> {
        let FieldValue::Text(s) = value else {
            return Ok(false);
        };
        let table = match field {
            Field::NationalId => CUSTOMER_BY_NATIONAL_ID,
            Field::CreditCode => CUSTOMER_BY_CREDIT_CODE,
            Field::Plate => VEHICLE_BY_PLATE,
            _ => return Ok(false),
        };
        let holder = self
            .t
            .unique_keys(table)?
            .get(s.as_str())?
            .map(|v| v.value());
        Ok(holder.is_some_and(|h| h != me))
    }

    /// The customer an incoming record or reference matches, by the one rule survivorship
    /// and the importer share ([`MatchKeys`]). [`CustomerMatch::Several`] lists every
    /// candidate of a phone + name match, lowest id first.
    pub fn match_customer(&self, keys: &MatchKeys<'_>) -> Result<CustomerMatch> {
        let unique = [
            (CUSTOMER_BY_NATIONAL_ID, keys.national_id),
            (CUSTOMER_BY_CREDIT_CODE, keys.credit_code),
        ];
        for (table, key) in unique {
            let Some(key) = key else { continue };
            if let Some(id) = self.t.unique_keys(table)?.get(key)?.map(|v| v.value()) {
                return Ok(CustomerMatch::One(CustomerId(id)));
            }
        }
        let compatible = |other: &Customer| {
            keys.organisation
                .is_none_or(|o| other.is_organisation() == o)
                && !(keys.national_id.is_some()
                    && other.national_id().is_some()
                    && keys.national_id != other.national_id())
                && !(keys.credit_code.is_some()
                    && other.credit_code().is_some()
                    && keys.credit_code != other.credit_code())
        };
        if let Some(vin) = keys.vin {
            let found = self.t.vehicle_by_vin()?.get(vin)?.map(|v| v.value());
            if let Some(v) = found {
                let owner = self.ownership(VehicleId(v))?.current().map(|o| o.customer);
                if let Some(owner) = owner {
                    if compatible(&self.customer(owner)?) {
                        return Ok(CustomerMatch::One(owner));
                    }
                }
            }
        }
        let Some(name) = keys.name.map(str::trim).filter(|n| !n.is_empty()) else {
            return Ok(CustomerMatch::None);
        };
        let mut found: Vec<CustomerId> = Vec::new();
        {
            let phones = self.t.customer_by_phone()?;
            let customers = self.t.customers()?;
            for p in keys.phones {
                for id in redb::ReadableMultimapTable::get(&*phones, p.as_str())? {
                    let id = CustomerId(id?.value());
                    if found.contains(&id) {
                        continue;
                    }
                    let Some(other) = get_record::<Customer>(&*customers, id.0)? else {
                        continue;
                    };
                    if compatible(&other) && self.known_as(id, &other, name)? {
                        found.push(id);
                    }
                }
            }
        }
        found.sort();
        Ok(match found.len() {
            0 => CustomerMatch::None,
            1 => CustomerMatch::One(found[0]),
            _ => CustomerMatch::Several(found),
        })
    }

    /// Whether customer `id` (stored as `c`) goes by `name`: its name, or a name a source
    /// record sent for it that was not applied (a name conflict). The second makes matching
    /// independent of arrival order: a record that matched the customer while it still bore
    /// the other name would have matched it all the same.
    fn known_as(&self, id: CustomerId, c: &Customer, name: &str) -> Result<bool> {
        if c.name() == name {
            return Ok(true);
        }
        let conflicts = self.conflicts_about(Entity::Customer, id.0)?;
        Ok(conflicts.iter().any(|k| {
            k.field == Field::Name && matches!(&k.offered, FieldValue::Text(t) if t == name)
        }))
    }

    /// Upserts a vehicle delivered by a source system, owned by `owner` (a customer id, e.g.
    /// from [`WriteTxn::upsert_customer`] on the same row).
    ///
    /// Match by VIN, then by the source record. A new vehicle is stored with `owner` from its
    /// purchase date (else invoice date, else the day received). An existing one is merged
    /// field by field (the VIN never changes); a change that would put its dates out of order
    /// is not applied but becomes a conflict `inconsistent`. If another customer owns it now,
    /// it is transferred to `owner` on the day received — unless that day is before the
    /// current ownership began (an older record): then the ownership change is a conflict.
    /// A plate another vehicle holds is a conflict `key_taken`, not an error.
    ///
    /// Errors, all before anything is written: validation of the record or of `from`;
    /// [`Error::NotFound`] for an unknown `owner`; [`Error::InvalidOperation`]
    /// ([`Refusal::SourceChangedVin`]) if this source record wrote a vehicle with
    /// another VIN.
    pub fn upsert_vehicle(
        &mut self,
        incoming: &Vehicle,
        owner: CustomerId,
        from: &Received,
    ) -> Result<Upsert<VehicleId>> {
        let mut v = incoming.normalised()?;
        let (from, registry) = self.received(from)?;
        let system = registry.require(&from.source.system)?;
        let o = Offer {
            from: &from,
            system,
        };
        v.source = Some(from.source.clone());
        // An owner merged into another customer since means that customer.
        let owner = self
            .redirected_customer(owner.0)?
            .ok_or_else(|| Error::not_found("customer", owner))?;
        let by_vin = self
            .t
            .vehicle_by_vin()?
            .get(v.vin.as_str())?
            .map(|x| x.value());
        let by_source = self.source_lookup(ModelKind::Vehicle, &from.source, VEHICLES)?;
        if let (Some(s), false) = (by_source, by_source == by_vin) {
            return Err(Error::refused(
                Refusal::SourceChangedVin,
                format!(
                    "source record {}/{} wrote vehicle {} with another VIN than {}",
                    from.source.system,
                    from.source.record_id,
                    VehicleId(s),
                    v.vin
                ),
            ));
        }
        let Some(id) = by_vin.map(VehicleId) else {
            return self.create_vehicle(v, owner, &o);
        };
        let stored = self.vehicle(id)?;
        let mut m = Merge::new(
            self,
            Entity::Vehicle,
            id.0,
            stored.source.as_ref(),
            &registry,
        )?;
        let mut merged = stored.clone();
        m.fields(
            vehicle_fields(&stored),
            vehicle_fields(&v),
            &o,
            |field, value| self.key_taken(field, value, id.0),
            |field, value| {
                set_vehicle_field(&mut merged, field, Some(value));
            },
        )?;
        // Changes that leave the dates out of order are taken back, one at a time: the field
        // the rule names if it was changed, else the last date changed.
        while let Err(e) = merged.normalised() {
            let named = Field::from_name(e.field).filter(|f| m.applied.iter().any(|a| a.0 == *f));
            let last_date = m.applied.iter().rev().map(|a| a.0).find(|f| {
                f.group() == FieldGroup::PurchaseDates || f.group() == FieldGroup::ServiceDates
            });
            let Some(field) = named.or(last_date) else {
                return Err(e.into());
            };
            let before = m.take_back(field, &o).flatten();
            set_vehicle_field(&mut merged, field, before);
        }
        let transfer = self.plan_transfer(id, owner, &from, &mut m, &o)?;
        m.drop_known(self)?;
        let changed = merged != stored;
        merged.source = Some(from.source.clone());
        let normalised = if changed {
            Some(merged.normalised()?)
        } else {
            None
        };
        let outcome = if changed || transfer.is_some() {
            Outcome::Updated
        } else {
            Outcome::Unchanged
        };
        let conflicts = m.conflicts.len() as u32;
        self.writing(|tx| {
            if let Some(v) = normalised {
                tx.replace_vehicle(id, &stored, v)?;
            }
            if by_source.is_none() {
                tx.source_remember(ModelKind::Vehicle, &from.source, id.0)?;
            }
            if let Some(on) = transfer {
                tx.transfer_vehicle(id, owner, on)?;
            }
            tx.finish(m, RecordKind::Vehicle, &from, None)?;
            Ok(Upsert {
                id,
                outcome,
                conflicts,
                incomplete: false,
            })
        })
    }

    /// The day to transfer the vehicle to `owner`, if it goes to them; an ownership change
    /// dated before the current ownership began becomes a conflict instead.
    fn plan_transfer(
        &self,
        id: VehicleId,
        owner: CustomerId,
        from: &Received,
        m: &mut Merge,
        o: &Offer,
    ) -> Result<Option<Date>> {
        let history: OwnershipHistory = self.ownership(id)?;
        let on = from.at.date();
        let current = history.current().copied();
        if current.is_some_and(|c| c.customer == owner) {
            return Ok(None);
        }
        let too_early = match current {
            Some(c) => on < c.from,
            None => history.0.last().and_then(|l| l.to).is_some_and(|t| on < t),
        };
        if too_early {
            m.conflict(
                Field::Owner,
                current.map(|c| FieldValue::Customer(c.customer)),
                FieldValue::Customer(owner),
                ConflictReason::Inconsistent,
                o,
            );
            return Ok(None);
        }
        Ok(Some(on))
    }

    fn create_vehicle(
        &mut self,
        mut v: Vehicle,
        owner: CustomerId,
        o: &Offer,
    ) -> Result<Upsert<VehicleId>> {
        // A plate another vehicle holds: store the vehicle without it, and raise the plate
        // as a conflict on the new vehicle (identity resolution decides which one is right).
        let plate_taken = match &v.plate {
            Some(p) => self.t.vehicle_by_plate()?.get(p.as_str())?.is_some(),
            None => false,
        };
        let plate = if plate_taken { v.plate.take() } else { None };
        let writes: Vec<FieldLineage> = vehicle_fields(&v)
            .into_iter()
            .filter_map(|(f, x)| x.map(|x| o.lineage(f, &x)))
            .collect();
        let since = v
            .purchase_date
            .or(v.invoice_date)
            .unwrap_or(o.from.at.date());
        // `v` is normalised, its VIN and source record wrote no vehicle (else it would have
        // matched or been refused), a taken plate was taken off it above and `owner` is live.
        debug_assert_eq!(v.normalised().ok().as_ref(), Some(&v));
        validate::plausible_date("owner.from", since)?;
        let id = self.insert_checked_vehicle(v, Some((owner, since)))?;
        let conflict = plate.map(|p| Conflict {
            id: ConflictId(0),
            entity: Entity::Vehicle,
            record: id.0,
            field: Field::Plate,
            current: None,
            current_lineage: None,
            offered: FieldValue::Text(p),
            received: o.from.clone(),
            priority: o.priority(Field::Plate),
            verified: false,
            reason: ConflictReason::KeyTaken,
            status: ConflictStatus::Open,
        });
        let conflicts = u32::from(conflict.is_some());
        self.writing(|tx| {
            tx.put_new_lineage(Entity::Vehicle, id.0, &writes)?;
            if let Some(c) = conflict {
                tx.put_new_conflict(c)?;
            }
            tx.settle_feedback(o.from, RecordKind::Vehicle, None)?;
            Ok(Upsert {
                id,
                outcome: Outcome::Created,
                conflicts,
                incomplete: false,
            })
        })
    }
}

fn kind_name(c: &Customer) -> &'static str {
    if c.is_organisation() {
        "an organisation"
    } else {
        "a person"
    }
}

// ---------------------------------------------------------------------------------------------
// Accepting a conflict

/// What accepting a conflict will write, decided before writing.
pub(crate) enum AcceptPlan {
    Customer(Customer, FieldLineage),
    Vehicle(Vehicle, FieldLineage),
    Transfer(CustomerId, Date),
}

impl Tx<'_> {
    pub(crate) fn plan_accept(&self, c: &Conflict) -> Result<AcceptPlan> {
        // An operator checked the value: it counts as verified from now on.
        let lineage = FieldLineage::new(
            c.field,
            c.offered.to_string(),
            &c.received,
            c.priority,
            true,
        );
        let unfit = || {
            Error::refused(
                Refusal::ConflictNoLongerApplies,
                format!("conflict {}: {} cannot take {:?}", c.id, c.field, c.offered),
            )
        };
        let taken = |field: &'static str, value: &FieldValue| -> Result<()> {
            if self.key_taken(c.field, value, c.record)? {
                return Err(Error::DuplicateKey {
                    entity: c.entity.name(),
                    field,
                    value: value.to_string(),
                    existing: 0,
                });
            }
            Ok(())
        };
        match c.entity {
            Entity::Customer => {
                let mut cust = self.customer(CustomerId(c.record))?;
                // (A conflict about a customer merged away was moved to the survivor.)
                if !set_customer_field(&mut cust, c.field, c.offered.clone()) {
                    return Err(unfit());
                }
                taken(c.field.name(), &c.offered)?;
                // The offered value was checked when it was received.
                let cust = cust.normalised_at(self.now().max(c.received.at))?;
                Ok(AcceptPlan::Customer(cust, lineage))
            }
            Entity::Vehicle if c.field == Field::Owner => {
                let FieldValue::Customer(to) = c.offered else {
                    return Err(unfit());
                };
                self.require(CUSTOMERS, "customer", to.0)?;
                let history = self.ownership(VehicleId(c.record))?;
                let cur = history.current().copied();
                if cur.is_some_and(|x| x.customer == to) {
                    return Err(Error::refused(
                        Refusal::AlreadyOwner,
                        format!("vehicle {} already belongs to customer {to}", c.record),
                    ));
                }
                let floor = cur
                    .map(|x| x.from)
                    .or_else(|| history.0.last().and_then(|l| l.to));
                let on = floor.map_or(c.received.at.date(), |f| f.max(c.received.at.date()));
                Ok(AcceptPlan::Transfer(to, on))
            }
            Entity::Vehicle => {
                let mut v = self.vehicle(VehicleId(c.record))?;
                if !set_vehicle_field(&mut v, c.field, Some(c.offered.clone())) {
                    return Err(unfit());
                }
                taken(c.field.name(), &c.offered)?;
                let v = v.normalised()?;
                Ok(AcceptPlan::Vehicle(v, lineage))
            }
        }
    }

    pub(crate) fn apply_accept(&mut self, c: &Conflict, plan: AcceptPlan) -> Result<()> {
        match plan {
            AcceptPlan::Customer(cust, l) => {
                self.update_customer(CustomerId(c.record), &cust)?;
                self.put_lineage(Entity::Customer, c.record, &[l])
            }
            AcceptPlan::Vehicle(v, l) => {
                self.update_vehicle(VehicleId(c.record), &v)?;
                self.put_lineage(Entity::Vehicle, c.record, &[l])
            }
            AcceptPlan::Transfer(to, on) => self.transfer_vehicle(VehicleId(c.record), to, on),
        }
    }
}

/// The public operations, each on its own view of the transaction (`WriteTxn::tx`, crate-private).
impl WriteTxn {
    /// Upserts a customer delivered by a source system, following DOMAIN §4.
    ///
    /// Match, in order: the customer this source record wrote before; the customer with the
    /// same national ID or credit code; the current owner of `vin` (if a person/organisation
    /// like the incoming one); a customer with one of the incoming phone numbers, the same
    /// name and no conflicting national ID / credit code. No match creates a customer. A
    /// match is merged field by field by the survivorship rules of this module. A successful
    /// upsert removes the source record's entry from the feedback queue.
    ///
    /// Errors, all before anything is written (the transaction stays usable): validation of
    /// the record, of `vin` or of `from` (`validation.unknown_source` for a system not in the
    /// registry); [`Error::InvalidOperation`] ([`Refusal::SourceChangedKind`]) if the
    /// source record wrote a person and now sends an organisation or the reverse.
    pub fn upsert_customer(
        &mut self,
        incoming: &Customer,
        vin: Option<&str>,
        from: &Received,
    ) -> Result<Upsert<CustomerId>> {
        self.tx().upsert_customer(incoming, vin, from)
    }

    /// The customer an incoming record or reference matches, by the one rule survivorship
    /// and the importer share ([`MatchKeys`]). [`CustomerMatch::Several`] lists every
    /// candidate of a phone + name match, lowest id first.
    pub fn match_customer(&self, keys: &MatchKeys<'_>) -> Result<CustomerMatch> {
        self.tx().match_customer(keys)
    }

    /// Upserts a vehicle delivered by a source system, owned by `owner` (a customer id, e.g.
    /// from [`WriteTxn::upsert_customer`] on the same row).
    ///
    /// Match by VIN, then by the source record. A new vehicle is stored with `owner` from its
    /// purchase date (else invoice date, else the day received). An existing one is merged
    /// field by field (the VIN never changes); a change that would put its dates out of order
    /// is not applied but becomes a conflict `inconsistent`. If another customer owns it now,
    /// it is transferred to `owner` on the day received — unless that day is before the
    /// current ownership began (an older record): then the ownership change is a conflict.
    /// A plate another vehicle holds is a conflict `key_taken`, not an error.
    ///
    /// Errors, all before anything is written: validation of the record or of `from`;
    /// [`Error::NotFound`] for an unknown `owner`; [`Error::InvalidOperation`]
    /// ([`Refusal::SourceChangedVin`]) if this source record wrote a vehicle with
    /// another VIN.
    pub fn upsert_vehicle(
        &mut self,
        incoming: &Vehicle,
        owner: CustomerId,
        from: &Received,
    ) -> Result<Upsert<VehicleId>> {
        self.tx().upsert_vehicle(incoming, owner, from)
    }
}
