//! Conflicts: offered values survivorship did not apply, kept for an operator to review.
//!
//! Table `conflicts` holds each record by id; `open_conflicts` and `conflicts_by_record` index
//! them by the record they are about — the first only while open, the second always, so a
//! replayed source record finds the conflict it raised before (even one an operator already
//! rejected) and raises no new one.

use serde::{Deserialize, Serialize};

use super::fields::{Entity, Field, FieldValue};
use super::lineage::FieldLineage;
use super::Received;
use crate::codec;
use crate::date::DateTime;
use crate::error::{Error, Refusal, Result, Rule, ValidationError};
use crate::ids::{ConflictId, CustomerId, VehicleId};
use crate::store::ReadView;
use crate::store::{decode_stored, get_record, ReadTxn, Tx, WriteTxn};

use redb::ReadableTable;

/// Why an offered value was not applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConflictReason {
    /// The offering source ranks below the source of the stored value for this field group.
    LowerPriority,
    /// Same priority, but the offer was received no later than the stored value.
    Stale,
    /// The stored value is verified and never changes (national ID, credit code, birth date):
    /// a different value is more likely an entry error than a real change.
    VerifiedChange,
    /// The offered national ID, credit code or plate already belongs to another record (a
    /// likely duplicate; see identity resolution).
    KeyTaken,
    /// Applying the offer would break a rule across fields (e.g. an invoice date before the
    /// stored purchase date), or an ownership change dated before the current ownership.
    Inconsistent,
}

impl ConflictReason {
    /// The stable code: `lower_priority`, `stale`, `verified_change`, `key_taken`,
    /// `inconsistent`.
    pub fn code(self) -> &'static str {
        match self {
            ConflictReason::LowerPriority => "lower_priority",
            ConflictReason::Stale => "stale",
            ConflictReason::VerifiedChange => "verified_change",
            ConflictReason::KeyTaken => "key_taken",
            ConflictReason::Inconsistent => "inconsistent",
        }
    }
}

/// Where a conflict stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConflictStatus {
    /// Waiting for review.
    Open,
    /// An operator accepted the offered value, which was then applied.
    Accepted {
        /// Who.
        by: String,
        /// When.
        at: DateTime,
    },
    /// An operator kept the stored value.
    Rejected {
        /// Who.
        by: String,
        /// When.
        at: DateTime,
    },
}

/// An operator's decision on a conflict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Resolution {
    /// Apply the offered value (with the offer's lineage, marked verified).
    Accept,
    /// Keep the stored value.
    Reject,
}

/// An offered value that was not applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// The conflict's id.
    pub id: ConflictId,
    /// The kind of record.
    pub entity: Entity,
    /// The record's id (a customer or vehicle id, per `entity`).
    pub record: u64,
    /// The field.
    pub field: Field,
    /// The stored value when the conflict was raised.
    pub current: Option<FieldValue>,
    /// Where the stored value came from, if it has lineage.
    pub current_lineage: Option<FieldLineage>,
    /// The value offered.
    pub offered: FieldValue,
    /// The record that offered it: source record, sending dealer, time received.
    pub received: Received,
    /// The offering source's priority for the field's group.
    pub priority: u16,
    /// Whether the offering source verifies identity documents.
    pub verified: bool,
    /// Why it was not applied.
    pub reason: ConflictReason,
    /// Open, accepted or rejected.
    pub status: ConflictStatus,
}
crate::codec::model!(Conflict, Conflict, "conflict");

impl Conflict {
    /// The customer this conflict is about, if it is about a customer.
    pub fn customer(&self) -> Option<CustomerId> {
        (self.entity == Entity::Customer).then_some(CustomerId(self.record))
    }

    /// The vehicle this conflict is about, if it is about a vehicle.
    pub fn vehicle(&self) -> Option<VehicleId> {
        (self.entity == Entity::Vehicle).then_some(VehicleId(self.record))
    }

    /// Whether it still waits for review.
    pub fn is_open(&self) -> bool {
        self.status == ConflictStatus::Open
    }

    /// Whether `new` repeats this conflict: the same value offered for the same field of the
    /// same record by the same source record (whatever this conflict's status), or by the
    /// same source system while this one is still open (a feed that keeps sending a stale
    /// value under new record ids raises one conflict, not one per record).
    pub(crate) fn repeated_by(&self, new: &Conflict) -> bool {
        self.entity == new.entity
            && self.record == new.record
            && self.field == new.field
            && self.offered == new.offered
            && (self.received.source == new.received.source
                || (self.is_open() && self.received.source.system == new.received.source.system))
    }
}

impl std::fmt::Display for Conflict {
    /// One line: id, record, field, stored → offered, reason, source record, status.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let current = self
            .current
            .as_ref()
            .map_or("-".to_string(), ToString::to_string);
        let from = self
            .current_lineage
            .as_ref()
            .map(|l| format!(" ({}/{})", l.source.system, l.source.record_id))
            .unwrap_or_default();
        let prefix = match self.entity {
            Entity::Customer => "C",
            Entity::Vehicle => "V",
        };
        write!(
            f,
            "{} {prefix}{} {}: {current}{from} <- {} from {}/{} at {} [{}]",
            self.id,
            self.record,
            self.field,
            self.offered,
            self.received.source.system,
            self.received.source.record_id,
            self.received.at,
            self.reason.code(),
        )?;
        match &self.status {
            ConflictStatus::Open => write!(f, " open"),
            ConflictStatus::Accepted { by, at } => write!(f, " accepted by {by} at {at}"),
            ConflictStatus::Rejected { by, at } => write!(f, " rejected by {by} at {at}"),
        }
    }
}

fn by_record(
    index: &impl ReadableTable<(u8, u64, u64), ()>,
    conflicts: &impl ReadableTable<u64, &'static [u8]>,
    entity: Entity,
    record: u64,
) -> Result<Vec<Conflict>> {
    let e = entity as u8;
    let mut out = Vec::new();
    for k in index.range((e, record, 0u64)..=(e, record, u64::MAX))? {
        let (_, _, id) = k?.0.value();
        if let Some(c) = get_record::<Conflict>(conflicts, id)? {
            out.push(c);
        }
    }
    Ok(out)
}

impl Tx<'_> {
    /// Every conflict (open or resolved) about a record.
    pub(crate) fn conflicts_about(&self, entity: Entity, record: u64) -> Result<Vec<Conflict>> {
        by_record(
            &*self.t.conflicts_by_record()?,
            &*self.t.conflicts()?,
            entity,
            record,
        )
    }

    /// Stores a new open conflict (its `id` is assigned here).
    pub(crate) fn put_new_conflict(&mut self, mut c: Conflict) -> Result<ConflictId> {
        let id = self.next_id("next.conflict")?;
        c.id = ConflictId(id);
        self.t
            .conflicts()?
            .insert(id, codec::encode(&c).as_slice())?;
        let key = (c.entity as u8, c.record, id);
        self.t.open_conflicts()?.insert(key, ())?;
        self.t.conflicts_by_record()?.insert(key, ())?;
        Ok(c.id)
    }

    /// The conflict `id`, as this transaction sees it.
    pub fn conflict(&self, id: ConflictId) -> Result<Conflict> {
        conflict_in(&self.t, id)
    }

    /// Resolves an open conflict: [`Resolution::Accept`] applies the offered value with the
    /// offer's lineage (marked verified: an operator checked it), [`Resolution::Reject`] keeps
    /// the stored value. Either way the conflict leaves the open list, recording `by` and `at`.
    /// Accepting a key (national ID, credit code, plate) another record holds fails with
    /// [`Error::DuplicateKey`] and changes nothing: merge the duplicates first.
    pub fn resolve_conflict(
        &mut self,
        id: ConflictId,
        resolution: Resolution,
        by: &str,
        at: DateTime,
    ) -> Result<Conflict> {
        let mut c = self.conflict(id)?;
        if !c.is_open() {
            return Err(Error::refused(
                Refusal::ConflictAlreadyResolved,
                format!("conflict {id} is already resolved ({:?})", c.status),
            ));
        }
        let by = by.trim();
        if by.is_empty() {
            return Err(ValidationError::new("by", Rule::Required, by).into());
        }
        crate::validate::plain_text("by", by, &[])?;
        crate::validate::plausible_date("at", at.date())?;
        // Everything that can fail is checked before the first write.
        let apply = match resolution {
            Resolution::Accept => Some(self.plan_accept(&c)?),
            Resolution::Reject => None,
        };
        c.status = match resolution {
            Resolution::Accept => ConflictStatus::Accepted {
                by: by.to_string(),
                at,
            },
            Resolution::Reject => ConflictStatus::Rejected {
                by: by.to_string(),
                at,
            },
        };
        self.writing(|tx| {
            if let Some(plan) = apply {
                tx.apply_accept(&c, plan)?;
            }
            tx.t.conflicts()?
                .insert(id.0, codec::encode(&c).as_slice())?;
            tx.t.open_conflicts()?
                .remove((c.entity as u8, c.record, id.0))?;
            Ok(())
        })?;
        Ok(c)
    }
}

impl ReadTxn {
    /// The conflict `id`.
    pub fn conflict(&self, id: ConflictId) -> Result<Conflict> {
        conflict_in(&self.tables, id)
    }

    /// Conflicts in id order (oldest first): only the open ones if `open_only`, else all.
    pub fn conflicts(&self, open_only: bool) -> Result<Vec<Conflict>> {
        let t = self.tables.conflicts()?;
        let mut out = Vec::new();
        if open_only {
            let mut ids = Vec::new();
            for k in self.tables.open_conflicts()?.iter()? {
                ids.push(k?.0.value().2);
            }
            ids.sort_unstable();
            for id in ids {
                if let Some(c) = get_record(t, id)? {
                    out.push(c);
                }
            }
        } else {
            for entry in t.iter()? {
                out.push(decode_stored(entry?.1.value())?);
            }
        }
        Ok(out)
    }

    /// Every conflict (open and resolved) about customer `id` and the vehicles it owns or
    /// owned, in id order.
    pub fn conflicts_of(&self, id: CustomerId) -> Result<Vec<Conflict>> {
        let index = self.tables.conflicts_by_record()?;
        let t = self.tables.conflicts()?;
        let mut out = by_record(index, t, Entity::Customer, id.0)?;
        for v in self.tables.customer_vehicles()?.get(id.0)? {
            out.extend(by_record(index, t, Entity::Vehicle, v?.value())?);
        }
        out.sort_by_key(|c| c.id);
        Ok(out)
    }

    /// Number of open conflicts.
    pub fn open_conflict_count(&self) -> Result<u64> {
        use redb::ReadableTableMetadata;
        Ok(self.tables.open_conflicts()?.len()?)
    }
}

impl Tx<'_> {
    /// Removes every integration record about customer `id`: its lineage (the source values
    /// of its name, national ID, phones, address…) and every conflict about it, open or
    /// resolved (a conflict carries the offered and the current value). Called when the
    /// customer is deleted, so none of its personal data outlives it.
    /// How many conflicts (open or resolved) are about customer `id`.
    pub(crate) fn conflict_count(&self, id: CustomerId) -> Result<u32> {
        let e = Entity::Customer as u8;
        let index = self.t.conflicts_by_record()?;
        let n = index.range((e, id.0, 0u64)..=(e, id.0, u64::MAX))?.count();
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    pub(crate) fn forget_integration_records(&mut self, id: CustomerId) -> Result<()> {
        let e = Entity::Customer as u8;
        self.t.lineage()?.remove((e, id.0))?;
        let ids: Vec<u64> = {
            let index = self.t.conflicts_by_record()?;
            let keys = index
                .range((e, id.0, 0u64)..=(e, id.0, u64::MAX))?
                .map(|k| k.map(|k| k.0.value().2))
                .collect::<Result<_, _>>()?;
            keys
        };
        let mut conflicts = self.t.conflicts()?;
        let mut by_record = self.t.conflicts_by_record()?;
        let mut open = self.t.open_conflicts()?;
        for c in ids {
            conflicts.remove(c)?;
            by_record.remove((e, id.0, c))?;
            open.remove((e, id.0, c))?;
        }
        Ok(())
    }

    /// Hands the integration records of customer `merged` to `survivor` after identity
    /// resolution merged the two (call it in the merge's transaction, after the survivor's
    /// record is written): lineage entries whose value the survivor now holds and has no
    /// lineage for are copied to it (the merged id keeps its own, as history), and every
    /// conflict about the merged customer is re-pointed at the survivor, so it can still be
    /// listed with [`ReadTxn::conflicts_of`] and accepted.
    pub(crate) fn move_integration_records(
        &mut self,
        merged: CustomerId,
        survivor: CustomerId,
    ) -> Result<()> {
        use std::collections::{HashMap, HashSet};
        let kept = self.customer(survivor)?;
        let has: HashSet<(Field, String)> = self
            .lineage_of(Entity::Customer, survivor.0)?
            .into_iter()
            .map(|l| (l.field, l.sub().to_string()))
            .collect();
        let values: HashMap<Field, String> = super::fields::customer_fields(&kept)
            .into_iter()
            .filter_map(|(f, v)| v.map(|v| (f, v.to_string())))
            .collect();
        let copy: Vec<FieldLineage> = self
            .lineage_of(Entity::Customer, merged.0)?
            .into_iter()
            .filter(|l| !has.contains(&(l.field, l.sub().to_string())))
            .filter(|l| match l.field {
                Field::Phone => kept.phones.contains(&l.value),
                f => values.get(&f) == Some(&l.value),
            })
            .collect();
        let moved = self.conflicts_about(Entity::Customer, merged.0)?;
        self.put_lineage(Entity::Customer, survivor.0, &copy)?;
        let e = Entity::Customer as u8;
        for mut c in moved {
            let open = c.is_open();
            self.t
                .conflicts_by_record()?
                .remove((e, merged.0, c.id.0))?;
            self.t.open_conflicts()?.remove((e, merged.0, c.id.0))?;
            c.record = survivor.0;
            self.t
                .conflicts()?
                .insert(c.id.0, codec::encode(&c).as_slice())?;
            self.t
                .conflicts_by_record()?
                .insert((e, survivor.0, c.id.0), ())?;
            if open {
                self.t
                    .open_conflicts()?
                    .insert((e, survivor.0, c.id.0), ())?;
            }
        }
        Ok(())
    }
}

/// The public operations, each on its own view of the transaction (`WriteTxn::tx`, crate-private).
impl WriteTxn {
    /// The conflict `id`, as this transaction sees it.
    pub fn conflict(&self, id: ConflictId) -> Result<Conflict> {
        self.tx().conflict(id)
    }

    /// Resolves an open conflict: [`Resolution::Accept`] applies the offered value with the
    /// offer's lineage (marked verified: an operator checked it), [`Resolution::Reject`] keeps
    /// the stored value. Either way the conflict leaves the open list, recording `by` and `at`.
    /// Accepting a key (national ID, credit code, plate) another record holds fails with
    /// [`Error::DuplicateKey`] and changes nothing: merge the duplicates first.
    pub fn resolve_conflict(
        &mut self,
        id: ConflictId,
        resolution: Resolution,
        by: &str,
        at: DateTime,
    ) -> Result<Conflict> {
        self.tx().resolve_conflict(id, resolution, by, at)
    }
}

/// [`ReadTxn::conflict`], for either kind of transaction.
pub(crate) fn conflict_in(t: &impl ReadView, id: ConflictId) -> Result<Conflict> {
    get_record(&*t.conflicts()?, id.0)?.ok_or_else(|| Error::not_found("conflict", id))
}

#[cfg(test)]
mod tests {
    use crate::date::Date;
    use crate::integration::{Field, Received};
    use crate::{Customer, CustomerId, Database, SourceRef};

    fn from(system: &str, record: &str) -> Received {
        Received {
            source: SourceRef::new(system, record),
            dealer: None,
            at: Date::from_ymd(2024, 1, 1).unwrap().at(9, 0, 0),
        }
    }

    #[test]
    fn a_merge_hands_lineage_and_conflicts_to_the_survivor() {
        let db = Database::in_memory().unwrap();
        let (a, b) = db
            .write(|tx| {
                let a = tx.upsert_customer(
                    &Customer {
                        phones: vec!["13800138000".into()],
                        city: Some("上海".into()),
                        ..Customer::person("王小明")
                    },
                    None,
                    &from("finance", "F-1"),
                )?;
                // Another customer with a conflict on its city.
                let b = tx.upsert_customer(
                    &Customer {
                        phones: vec!["13900139000".into()],
                        city: Some("苏州".into()),
                        ..Customer::person("王晓明")
                    },
                    None,
                    &from("finance", "F-2"),
                )?;
                let c = tx.upsert_customer(
                    &Customer {
                        phones: vec!["13900139000".into()],
                        city: Some("杭州".into()),
                        ..Customer::person("王晓明")
                    },
                    None,
                    &from("dms", "D-2"),
                )?;
                assert_eq!((c.id, c.conflicts), (b.id, 1));
                Ok((a.id, b.id))
            })
            .unwrap();
        // Simulate what a merge of b into a leaves: a holds b's phone too.
        db.write(|tx| {
            let mut kept = tx.customer(a)?;
            kept.phones.push("13900139000".into());
            tx.update_customer(a, &kept)?;
            tx.tx().move_integration_records(b, a)
        })
        .unwrap();
        let r = db.begin_read().unwrap();
        let phones: Vec<String> = r
            .lineage_of_customer(a)
            .unwrap()
            .into_iter()
            .filter(|l| l.field == Field::Phone)
            .map(|l| l.source.record_id)
            .collect();
        assert_eq!(phones, ["F-1", "F-2"]);
        // b's city (苏州) is not a's value: its lineage stays with b only.
        let city = r.lineage_of_customer(a).unwrap();
        let city = city.iter().find(|l| l.field == Field::City).unwrap();
        assert_eq!(city.source.record_id, "F-1");
        let open = r.conflicts(true).unwrap();
        assert_eq!(open[0].customer(), Some(a));
        assert_eq!(r.conflicts_of(a).unwrap().len(), 1);
        assert!(r.conflicts_of(CustomerId(b.0)).unwrap().is_empty());
    }
}
