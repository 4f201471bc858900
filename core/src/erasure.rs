//! Erasure on request (PIPL art. 47, GDPR art. 17): a customer's personal data goes, the
//! customer's place in the figures stays.
//!
//! # What goes, what stays
//! Erasing customer C (or any id merged into C: it names the same person) overwrites, in one
//! transaction:
//! - C's record: name (replaced by [`ERASED_NAME`]), national ID or credit code, phones,
//!   address, birth date, occupation, employer and interests; its index entries (phone,
//!   national ID, credit code) are removed, so no lookup by those values finds C any more;
//! - the merge records of every customer merged into C (they keep full snapshots of both
//!   records), scrubbed the same way;
//! - the free-text notes of C's touchpoints and complaints;
//! - the lineage of every erased field (source values) and every conflict about C or a
//!   customer merged into C (offered values);
//! - feedback-queue entries that carry one of the erased values (a rejected delivery of C's
//!   record quotes it) and the incomplete-record entries queued for C.
//!
//! What stays is what the figures are made of, and none of it identifies the person: the
//! customer id, gender, province and city (the level masking leaves visible), an
//! organisation's industry, vehicles and ownership periods, touchpoints (kind, time, dealer,
//! amounts, outcome code), leads, surveys' scores, consents, relations, the loyalty ledger,
//! rollups and segment memberships. So after an erasure the ledger still verifies and KPI rows
//! and segment counts are the same — except rules that read an erased attribute (`age`,
//! `birth_date`, `occupation`, `employer`, `has_phone`), which now see it missing, as they must.
//! The audit trail names customers by id only and is not touched; the erasure itself is
//! appended to it (who, when, why — never the erased values).
//!
//! # Overwrite, not crypto-shredding
//! Crypto-shredding (encrypt each customer's values under a key of its own, erase by
//! destroying the key) only helps when the keys live apart from the data and its backups.
//! An embedded single-file store keeps everything in the file, so the keys would be in every
//! backup next to the ciphertext, and restoring the backup would restore the key. Shredding
//! would also cost a decryption on every read of every customer and leave the phone and ID
//! indexes (which must hold comparable values) in plain text anyway. autocrm therefore
//! overwrites the values in place and removes their index keys; [`crate::Database::vacuum`]
//! then copies the live records into a fresh file that replaces the original, so no old byte
//! survives in freed pages or page slack (the CLI's `autocrm erase` vacuums for you).
//!
//! # Backups
//! A backup taken before the erasure still holds the data; no file format can change that.
//! What autocrm makes sure of is that restoring it does not go unnoticed: the erasure is an
//! entry of the hash-chained audit trail, so an audit head anchored after the erasure
//! ([`crate::ReadTxn::audit_head`], kept outside the file) fails
//! [`crate::ReadTxn::verify_audit_against`] on the restored file as `truncated`. The
//! erasure register ([`crate::ReadTxn::erasures`]) lists erased ids without personal values;
//! keep its export with the anchor and erase those ids again after a restore (erasing is
//! idempotent).
//!
//! # After an erasure
//! An update of an erased customer (a source system re-delivering the record, an owner app, a
//! merge) is refused with `invalid_operation.customer_erased`, which the importer puts in the
//! sender's feedback queue: the source system must erase its copy too. New records carrying
//! the same phone or ID no longer match C (the keys are gone) and become a new customer.

use redb::{ReadableMultimapTable, ReadableTable};
use serde::{Deserialize, Serialize};

use crate::audit::{AuditAction, NewAuditEntry};
use crate::codec::{self, DecodeError, Model, ModelKind};
use crate::complaint::Complaint;
use crate::customer::{Customer, Organisation, Party, Person};
use crate::date::DateTime;
use crate::error::{Error, Refusal, Result, Rule, ValidationError};
use crate::ids::CustomerId;
use crate::integration::{Entity, Field, RecordLineage};
use crate::store::{decode_stored, get_record, ReadTxn, ReadView, Tx, WriteTxn};
use crate::touchpoint::Touchpoint;

/// The name an erased customer carries.
pub const ERASED_NAME: &str = "[erased]";

/// The scope an erasure made through the unscoped API is recorded under in the audit trail.
pub const FULL_ACCESS_SCOPE: &str = "full";

/// Longest reason text, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// One erasure, as the register keeps it: no personal value, only who asked what and what was
/// overwritten.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Erasure {
    /// The erased customer (the live id the request resolved to).
    pub customer: CustomerId,
    /// Customers merged into it earlier, whose merge records were scrubbed with it.
    pub merged: Vec<CustomerId>,
    /// When the erasure ran.
    pub at: DateTime,
    /// Who ran it (an operator's name).
    pub by: String,
    /// Why: the request's reference, e.g. `"PIPL art. 47 request 2026-118"`.
    pub reason: String,
    /// Whether the customer's basic fields were complete and valid when erased: the valid
    /// customer information KPI keeps counting the customer as it did
    /// ([`crate::CustomerFacts::valid_info`]).
    pub had_valid_info: bool,
    /// What was overwritten or removed.
    pub counts: ErasureCounts,
}

/// How many records an erasure overwrote or removed, besides the customer record itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureCounts {
    /// Touchpoints whose note was removed.
    pub touchpoint_notes: u64,
    /// Complaints whose note was removed.
    pub complaint_notes: u32,
    /// Lineage entries removed (source values of erased fields).
    pub lineage_entries: u32,
    /// Conflicts removed (offered values).
    pub conflicts: u32,
    /// Feedback-queue entries removed.
    pub feedback_entries: u32,
    /// Merge records scrubbed.
    pub merge_records: u32,
}

impl Model for Erasure {
    const KIND: ModelKind = ModelKind::Erasure;
    /// Born checksummed: the first version of a model added after checksums is
    /// [`codec::CHECKSUMMED_SINCE`].
    const VERSION: u16 = codec::CHECKSUMMED_SINCE;
    const NAME: &'static str = "erasure";

    /// No older version was ever written.
    fn decode_older(version: u16, _payload: &[u8]) -> std::result::Result<Self, DecodeError> {
        Err(DecodeError::UnknownVersion { version })
    }
}

/// Fields whose values an erasure removes (their lineage goes with them).
const ERASED_FIELDS: [Field; 9] = [
    Field::Name,
    Field::NationalId,
    Field::CreditCode,
    Field::BirthDate,
    Field::Phone,
    Field::Address,
    Field::Occupation,
    Field::Employer,
    Field::Interests,
];

/// `c` with its personal data removed. Every field is named, so a field added to the customer
/// does not compile until someone decides whether an erasure removes it.
pub(crate) fn scrubbed(c: &Customer) -> Customer {
    let party = match &c.party {
        Party::Person(Person {
            name: _,
            gender,
            birth_date: _,
            occupation: _,
            employer: _,
            interests: _,
            national_id: _,
        }) => Party::Person(Person {
            name: ERASED_NAME.to_string(),
            gender: *gender,
            birth_date: None,
            occupation: None,
            employer: None,
            interests: Vec::new(),
            national_id: None,
        }),
        Party::Organisation(Organisation {
            name: _,
            credit_code: _,
            industry,
        }) => Party::Organisation(Organisation {
            name: ERASED_NAME.to_string(),
            credit_code: None,
            industry: industry.clone(),
        }),
    };
    let Customer {
        party: _,
        phones: _,
        province,
        city,
        address: _,
        source,
    } = c;
    Customer {
        party,
        phones: Vec::new(),
        province: province.clone(),
        city: city.clone(),
        address: None,
        source: source.clone(),
    }
}

/// The identifying values of `c` that other records (a rejected delivery's raw text) may quote.
fn identifying_values(c: &Customer, out: &mut Vec<String>) {
    let name = match &c.party {
        Party::Person(p) => &p.name,
        Party::Organisation(o) => &o.name,
    };
    if name != ERASED_NAME {
        out.push(name.clone());
    }
    out.extend(c.national_id().map(str::to_string));
    out.extend(c.credit_code().map(str::to_string));
    out.extend(c.phones.iter().cloned());
    out.extend(c.address.clone());
    out.retain(|v| !v.trim().is_empty());
}

impl Tx<'_> {
    /// Erases customer `id` (or the customer it was merged into) as the module documentation
    /// describes, and records the erasure in the register. Erasing an erased customer returns
    /// the first erasure and writes nothing. The caller appends the audit entry.
    pub(crate) fn erase_customer(
        &mut self,
        id: CustomerId,
        by: &str,
        reason: &str,
    ) -> Result<(Erasure, bool)> {
        let by = crate::audit::name_field("by", by).map_err(Error::Validation)?;
        if reason.trim().is_empty() {
            return Err(ValidationError::new("reason", Rule::Required, reason).into());
        }
        let reason = crate::audit::text_field("reason", reason.trim(), MAX_REASON_CHARS)
            .map_err(Error::Validation)?;
        let live = self.resolve_customer(id)?;
        if let Some(done) = erasure_in(&self.t, live)? {
            return Ok((done, false));
        }
        let old = self.customer(live)?;
        let merges = crate::identity::merge::merges_into(&self.t, live)?;
        let mut values = Vec::new();
        identifying_values(&old, &mut values);
        for (_, m) in &merges {
            identifying_values(&m.merged_customer, &mut values);
            identifying_values(&m.survivor_before, &mut values);
        }
        values.sort();
        values.dedup();
        let at = self.now();
        self.writing(|tx| {
            let mut counts = ErasureCounts::default();
            tx.replace_erased_customer(live, &old, &scrubbed(&old))?;
            let mut merged = Vec::with_capacity(merges.len());
            for (key, mut m) in merges {
                m.merged_customer = scrubbed(&m.merged_customer);
                m.survivor_before = scrubbed(&m.survivor_before);
                tx.t.merges()?.insert(key, codec::encode(&m).as_slice())?;
                counts.merge_records += 1;
                counts.conflicts += tx.conflict_count(m.merged)?;
                tx.forget_integration_records(m.merged)?;
                merged.push(m.merged);
            }
            counts.lineage_entries += tx.forget_erased_lineage(live)?;
            counts.conflicts += tx.conflict_count(live)?;
            // Conflicts go whole (their offered values are the point of them); the kept
            // lineage entries are written back after forget_integration_records.
            let kept = tx.record_lineage(Entity::Customer, live.0)?;
            tx.forget_integration_records(live)?;
            if !kept.0.is_empty() {
                tx.put_record_lineage(Entity::Customer, live.0, &kept)?;
            }
            counts.touchpoint_notes = tx.drop_touchpoint_notes(live)?;
            counts.complaint_notes = tx.drop_complaint_notes(live)?;
            counts.feedback_entries = tx.forget_feedback_of(live, &values)?;
            merged.sort();
            let erasure = Erasure {
                customer: live,
                merged,
                at,
                by,
                reason,
                had_valid_info: old.missing_basic_fields().is_empty(),
                counts,
            };
            tx.t.erasures()?
                .insert(live.0, codec::encode(&erasure).as_slice())?;
            Ok((erasure, true))
        })
    }

    /// Refuses a change to customer `id` if it was erased.
    pub(crate) fn refuse_if_erased(&self, id: CustomerId) -> Result<()> {
        match self.t.erasures()?.get(id.0)? {
            Some(_) => Err(Error::refused(
                Refusal::CustomerErased,
                format!("customer {id} was erased on request"),
            )),
            None => Ok(()),
        }
    }

    /// Removes the lineage entries of erased fields of `id`; returns how many.
    fn forget_erased_lineage(&mut self, id: CustomerId) -> Result<u32> {
        let RecordLineage(mut entries) = self.record_lineage(Entity::Customer, id.0)?;
        let before = entries.len();
        entries.retain(|l| !ERASED_FIELDS.contains(&l.field));
        let removed = before - entries.len();
        if removed > 0 {
            self.put_record_lineage(Entity::Customer, id.0, &RecordLineage(entries))?;
        }
        Ok(u32::try_from(removed).unwrap_or(u32::MAX))
    }

    /// Removes the notes of `id`'s touchpoints; returns how many had one.
    fn drop_touchpoint_notes(&mut self, id: CustomerId) -> Result<u64> {
        let noted: Vec<((u64, i64, u64), Touchpoint)> = {
            let t = self.t.touchpoints()?;
            let mut out = Vec::new();
            for entry in t.range((id.0, i64::MIN, 0)..=(id.0, i64::MAX, u64::MAX))? {
                let (k, v) = entry?;
                let tp: Touchpoint = decode_stored(v.value())?;
                if tp.note.is_some() {
                    out.push((k.value(), tp));
                }
            }
            out
        };
        let n = noted.len() as u64;
        let mut t = self.t.touchpoints()?;
        for (key, mut tp) in noted {
            tp.note = None;
            t.insert(key, codec::encode(&tp).as_slice())?;
        }
        Ok(n)
    }

    /// Removes the notes of `id`'s complaints; returns how many had one.
    fn drop_complaint_notes(&mut self, id: CustomerId) -> Result<u32> {
        let ids: Vec<u64> = {
            let links = self.t.customer_complaints()?;
            let mut out = Vec::new();
            for c in links.get(id.0)? {
                out.push(c?.value());
            }
            out
        };
        let mut n = 0;
        let mut t = self.t.complaints()?;
        for c in ids {
            let Some(mut complaint) = get_record::<Complaint>(&*t, c)? else {
                continue;
            };
            if complaint.note.take().is_some() {
                t.insert(c, codec::encode(&complaint).as_slice())?;
                n += 1;
            }
        }
        Ok(n)
    }
}

/// The erasure of customer `id`, if it was erased, for either kind of transaction.
pub(crate) fn erasure_in(t: &impl ReadView, id: CustomerId) -> Result<Option<Erasure>> {
    get_record(&*t.erasures()?, id.0)
}

impl WriteTxn {
    /// Erases customer `id`'s personal data on request (see the [module](crate::erasure)
    /// documentation): `by` names the operator, `reason` the request. The erasure is appended
    /// to the audit trail under scope [`FULL_ACCESS_SCOPE`] with the reason as its purpose.
    /// An id merged into another customer erases that customer (the same person). Erasing an
    /// erased customer returns the first erasure and writes nothing. Close the database and
    /// call [`crate::Database::vacuum`] after committing to remove the old bytes from the file.
    pub fn erase_customer(&mut self, id: CustomerId, by: &str, reason: &str) -> Result<Erasure> {
        let (erasure, new) = self.tx().erase_customer(id, by, reason)?;
        if new {
            self.append_audit(&[erasure.audit_entry(&erasure.by, FULL_ACCESS_SCOPE)])?;
        }
        Ok(erasure)
    }

    /// [`WriteTxn::erase_customer`] without the audit entry: the scoped API appends its own.
    pub(crate) fn erase_customer_unaudited(
        &mut self,
        id: CustomerId,
        by: &str,
        reason: &str,
    ) -> Result<(Erasure, bool)> {
        self.tx().erase_customer(id, by, reason)
    }
}

impl Erasure {
    /// The audit entry recording this erasure, by `actor` under `scope`.
    pub(crate) fn audit_entry(&self, actor: &str, scope: &str) -> NewAuditEntry {
        let mut customers = self.merged.clone();
        customers.push(self.customer);
        NewAuditEntry {
            at: self.at,
            actor: actor.to_string(),
            scope: scope.to_string(),
            action: AuditAction::Erase,
            what: "erase_customer".to_string(),
            customers,
            purpose: Some(self.reason.clone()),
        }
    }
}

impl ReadTxn {
    /// The erasure of customer `id`, if it was erased (the id as erased: the live customer,
    /// not an id merged into it).
    pub fn erasure(&self, id: CustomerId) -> Result<Option<Erasure>> {
        erasure_in(&self.tables, id)
    }

    /// The erasure register: every erasure, by customer id. Holds no personal value; export it
    /// with the audit anchor so erasures can be applied again to a restored backup.
    pub fn erasures(&self) -> Result<Vec<Erasure>> {
        let t = self.tables.erasures()?;
        let mut out = Vec::new();
        for entry in t.iter()? {
            let (_, v) = entry?;
            out.push(decode_stored(v.value())?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubbing_keeps_only_what_the_figures_use() {
        let c = Customer {
            phones: vec!["13800138000".into()],
            province: Some("上海".into()),
            city: Some("上海".into()),
            address: Some("漕溪北路 1 号".into()),
            ..Customer::person("王小明")
        };
        let s = scrubbed(&c);
        assert_eq!(s.name(), ERASED_NAME);
        assert!(s.phones.is_empty() && s.address.is_none());
        assert_eq!(s.city, c.city);
        let mut values = Vec::new();
        identifying_values(&c, &mut values);
        assert_eq!(values, ["王小明", "13800138000", "漕溪北路 1 号"]);
        let mut none = Vec::new();
        identifying_values(&s, &mut none);
        assert!(none.is_empty(), "{none:?}");
    }
}
