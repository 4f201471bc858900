//! Lineage: where each stored field value came from.
//!
//! Every value the integration path ([`WriteTxn::upsert_customer`],
//! [`WriteTxn::upsert_vehicle`], an accepted conflict) writes gets a lineage entry: source
//! system and record id, the sending dealer, the time received, the priority the source had for
//! the field's group then, and whether the value counts as verified. Phones have one entry per
//! number. A record's entries are stored together, keyed `(entity, id)` in table `lineage`, so
//! an upsert reads and writes its lineage once. Values written directly with `insert_*` /
//! `update_*` have no lineage.

use serde::{Deserialize, Serialize};

use super::fields::{Entity, Field};
use super::Received;
use crate::date::DateTime;
use crate::error::Result;
use crate::ids::{CustomerId, DealerId, VehicleId};
use crate::source::SourceRef;
use crate::store::{decode_stored, ReadTxn, Tx};

use redb::ReadableTable;

/// Where one stored field value came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldLineage {
    /// The field.
    pub field: Field,
    /// The value as text (for phones: the number).
    pub value: String,
    /// The source system and its record id.
    pub source: SourceRef,
    /// The dealer that sent the record, if a dealer did.
    pub dealer: Option<DealerId>,
    /// When the record was received.
    pub at: DateTime,
    /// The source's priority for the field's group when the value was written.
    pub priority: u16,
    /// Whether the value counts as verified (a verifying source, or an operator accepted it).
    pub verified: bool,
}

impl FieldLineage {
    pub(crate) fn new(
        field: Field,
        value: String,
        from: &Received,
        priority: u16,
        verified: bool,
    ) -> FieldLineage {
        FieldLineage {
            field,
            value,
            source: from.source.clone(),
            dealer: from.dealer,
            at: from.at,
            priority,
            verified,
        }
    }

    /// The sub-key of this entry: the number for phones, empty otherwise.
    pub(crate) fn sub(&self) -> &str {
        if self.field == Field::Phone {
            &self.value
        } else {
            ""
        }
    }
}

/// The stored lineage of one customer or vehicle: an entry per field (per number for phones),
/// sorted by field then number.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordLineage(pub Vec<FieldLineage>);
crate::codec::model!(RecordLineage, FieldLineage, "field lineage");

impl RecordLineage {
    /// The entry of `field` (`sub`: the number for phones, else empty).
    pub(crate) fn get(&self, field: Field, sub: &str) -> Option<&FieldLineage> {
        self.0
            .binary_search_by(|x| (x.field, x.sub()).cmp(&(field, sub)))
            .ok()
            .map(|i| &self.0[i])
    }

    /// Adds `entries`, replacing those of the same field (and number).
    pub(crate) fn set(&mut self, entries: &[FieldLineage]) {
        for l in entries {
            match self
                .0
                .binary_search_by(|x| (x.field, x.sub()).cmp(&(l.field, l.sub())))
            {
                Ok(i) => self.0[i] = l.clone(),
                Err(i) => self.0.insert(i, l.clone()),
            }
        }
    }
}

fn read(
    t: &impl ReadableTable<(u8, u64), &'static [u8]>,
    entity: Entity,
    id: u64,
) -> Result<Vec<FieldLineage>> {
    Ok(read_record(t, entity, id)?.0)
}

fn read_record(
    t: &impl ReadableTable<(u8, u64), &'static [u8]>,
    entity: Entity,
    id: u64,
) -> Result<RecordLineage> {
    match t.get((entity as u8, id))? {
        Some(v) => decode_stored::<RecordLineage>(v.value()),
        None => Ok(RecordLineage::default()),
    }
}

impl Tx<'_> {
    /// The lineage of every field of a record, as this transaction sees it.
    pub(crate) fn lineage_of(&self, entity: Entity, id: u64) -> Result<Vec<FieldLineage>> {
        read(&*self.t.lineage()?, entity, id)
    }

    /// The stored lineage of a record, as this transaction sees it.
    pub(crate) fn record_lineage(&self, entity: Entity, id: u64) -> Result<RecordLineage> {
        read_record(&*self.t.lineage()?, entity, id)
    }

    /// Replaces the whole lineage of a record (read with [`WriteTxn::record_lineage`] in this
    /// transaction, then changed with [`RecordLineage::set`]).
    pub(crate) fn put_record_lineage(
        &mut self,
        entity: Entity,
        id: u64,
        record: &RecordLineage,
    ) -> Result<()> {
        self.t
            .lineage()?
            .insert((entity as u8, id), crate::codec::encode(record).as_slice())?;
        Ok(())
    }

    /// Writes the lineage of a record just created (it has none yet).
    pub(crate) fn put_new_lineage(
        &mut self,
        entity: Entity,
        id: u64,
        entries: &[FieldLineage],
    ) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut record = RecordLineage::default();
        record.set(entries);
        self.put_record_lineage(entity, id, &record)
    }

    /// Writes (or replaces) lineage entries of a record.
    pub(crate) fn put_lineage(
        &mut self,
        entity: Entity,
        id: u64,
        entries: &[FieldLineage],
    ) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut t = self.t.lineage()?;
        let mut record = RecordLineage(read(&*t, entity, id)?);
        record.set(entries);
        t.insert((entity as u8, id), crate::codec::encode(&record).as_slice())?;
        Ok(())
    }
}

impl ReadTxn {
    /// Where each field of customer `id` came from, in field order (phones by number). Fields
    /// written outside the integration path have no entry.
    pub fn lineage_of_customer(&self, id: CustomerId) -> Result<Vec<FieldLineage>> {
        read(self.tables.lineage()?, Entity::Customer, id.0)
    }

    /// Where each field of vehicle `id` came from, in field order.
    pub fn lineage_of_vehicle(&self, id: VehicleId) -> Result<Vec<FieldLineage>> {
        read(self.tables.lineage()?, Entity::Vehicle, id.0)
    }
}
