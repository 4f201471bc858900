//! Records that belong to one customer and are listed in the 360° view: leads, complaints and
//! surveys. They share one storage shape — id → record, customer → ids, source → id — so the
//! shape is written once here and each domain module adds its typed methods.

use redb::{MultimapTableDefinition, ReadableMultimapTable, ReadableTable, TableDefinition};

use crate::codec::{self, Model};
use crate::error::{Error, Result};
use crate::ids::CustomerId;
use crate::source::SourceRef;
use crate::store::tables::*;
use crate::store::{decode_stored, get_record, ReadTables, ReadTxn, Tx};

/// A record owned by one customer: what the shared storage shape needs to know of it.
pub(crate) trait Owned: Model {
    /// The record, validated and normalised.
    fn checked(&self) -> Result<Self>;
    /// The customer it belongs to.
    fn customer(&self) -> CustomerId;
    /// The source record it came from, if any.
    fn source(&self) -> Option<&SourceRef>;
}

/// A read-only table of records keyed by id.
type RecordTable = redb::ReadOnlyTable<u64, &'static [u8]>;

/// Where one kind of customer-owned record lives.
pub(crate) struct RecordTables {
    pub records: TableDefinition<'static, u64, &'static [u8]>,
    pub by_customer: MultimapTableDefinition<'static, u64, u64>,
    /// The same two tables, cached in a read transaction.
    pub read_records: fn(&ReadTables) -> Result<&RecordTable>,
    pub read_links: fn(&ReadTables) -> Result<&redb::ReadOnlyMultimapTable<u64, u64>>,
    pub counter: &'static str,
    /// The customer's rollup count of these records.
    pub count: fn(&mut crate::Rollup) -> &mut u32,
    pub entity: &'static str,
}

pub(crate) const LEAD_TABLES: RecordTables = RecordTables {
    records: LEADS,
    by_customer: CUSTOMER_LEADS,
    read_records: ReadTables::leads,
    read_links: ReadTables::customer_leads,
    counter: "next.lead",
    count: |r| &mut r.leads,
    entity: "lead",
};
pub(crate) const COMPLAINT_TABLES: RecordTables = RecordTables {
    records: COMPLAINTS,
    by_customer: CUSTOMER_COMPLAINTS,
    read_records: ReadTables::complaints,
    read_links: ReadTables::customer_complaints,
    counter: "next.complaint",
    count: |r| &mut r.complaints,
    entity: "complaint",
};
pub(crate) const SURVEY_TABLES: RecordTables = RecordTables {
    records: SURVEYS,
    by_customer: CUSTOMER_SURVEYS,
    read_records: ReadTables::surveys,
    read_links: ReadTables::customer_surveys,
    counter: "next.survey",
    count: |r| &mut r.surveys,
    entity: "survey",
};

impl Tx<'_> {
    /// Validates and stores a batch of records in one pass over their tables: all are
    /// checked before any is written, so a bad record (named by its position when
    /// `name_records`) leaves the transaction untouched. A record whose source record was
    /// already written, earlier or in this batch, returns the existing id.
    pub(crate) fn insert_owned<M: Owned>(
        &mut self,
        spec: &RecordTables,
        batch: &[M],
        name_records: bool,
    ) -> Result<Vec<u64>> {
        let at = |i: usize, e: Error| if name_records { e.at_record(i) } else { e };
        let checked = batch
            .iter()
            .enumerate()
            .map(|(i, r)| r.checked().map_err(|e| at(i, e)))
            .collect::<Result<Vec<M>>>()?;
        {
            let customers = self.t.customers()?;
            let mut known: Vec<CustomerId> = Vec::new();
            for (i, r) in checked.iter().enumerate() {
                let c = r.customer();
                if !known.contains(&c) {
                    if customers.get(c.0)?.is_none() {
                        return Err(at(i, Error::not_found("customer", c)));
                    }
                    known.push(c);
                }
            }
        }
        self.writing(|tx| {
            let mut records = tx.t.records(spec.records)?;
            let mut links = tx.t.customer_links(spec.by_customer)?;
            let mut sources = tx.t.source_records()?;
            let mut ids = Vec::with_capacity(checked.len());
            let mut fresh = Vec::with_capacity(checked.len());
            for r in &checked {
                let source_key = r.source().map(|s| s.key(M::KIND));
                if let Some(key) = &source_key {
                    // Deleting a customer's records keeps their source entries, so a hit
                    // counts only while its record lives.
                    let hit = sources.get(key.as_slice())?.map(|v| v.value());
                    if let Some(id) = hit {
                        if records.get(id)?.is_some() {
                            ids.push(id);
                            continue;
                        }
                    }
                }
                let id = tx.next_id(spec.counter)?;
                records.insert(id, codec::encode(r).as_slice())?;
                links.insert(r.customer().0, id)?;
                if let Some(key) = &source_key {
                    sources.insert(key.as_slice(), id)?;
                }
                ids.push(id);
                fresh.push(r.customer());
            }
            drop((records, links, sources));
            for c in fresh {
                *(spec.count)(&mut *tx.rollup_mut(c.0)?) += 1;
            }
            Ok(ids)
        })
    }

    /// Replaces a stored record (same customer).
    pub(crate) fn update_owned<M: Model>(
        &mut self,
        spec: &RecordTables,
        id: u64,
        record: &M,
    ) -> Result<()> {
        if self.t.records(spec.records)?.get(id)?.is_none() {
            return Err(Error::not_found(spec.entity, id));
        }
        self.writing(|tx| {
            tx.t.records(spec.records)?
                .insert(id, codec::encode(record).as_slice())?;
            Ok(())
        })
    }

    /// The stored record `id`, as this transaction sees it.
    pub(crate) fn get_owned<M: Model>(&self, spec: &RecordTables, id: u64) -> Result<M> {
        get_record(&*self.t.records(spec.records)?, id)?
            .ok_or_else(|| Error::not_found(spec.entity, id))
    }

    /// Deletes every lead, complaint and survey of a customer.
    pub(crate) fn delete_customer_records(&mut self, customer: CustomerId) -> Result<()> {
        for spec in [&LEAD_TABLES, &COMPLAINT_TABLES, &SURVEY_TABLES] {
            let ids: Vec<u64> = {
                let links = self.t.customer_links(spec.by_customer)?;
                let ids = links
                    .get(customer.0)?
                    .map(|v| v.map(|v| v.value()))
                    .collect::<Result<_, _>>()?;
                ids
            };
            let mut records = self.t.records(spec.records)?;
            for id in ids {
                records.remove(id)?;
            }
            drop(records);
            self.t
                .customer_links(spec.by_customer)?
                .remove_all(customer.0)?;
        }
        Ok(())
    }
}

impl ReadTxn {
    /// The stored record `id`.
    pub(crate) fn get_owned<M: Model>(&self, spec: &RecordTables, id: u64) -> Result<M> {
        get_record((spec.read_records)(&self.tables)?, id)?
            .ok_or_else(|| Error::not_found(spec.entity, id))
    }

    /// Every record of `customer`, in id order.
    pub(crate) fn owned_by<M: Model>(
        &self,
        spec: &RecordTables,
        customer: CustomerId,
    ) -> Result<Vec<(u64, M)>> {
        let links = (spec.read_links)(&self.tables)?;
        let records = (spec.read_records)(&self.tables)?;
        let mut out = Vec::new();
        for id in links.get(customer.0)? {
            let id = id?.value();
            let v = records
                .get(id)?
                .ok_or_else(|| Error::dangling("customer index", spec.entity, id))?;
            out.push((id, decode_stored(v.value())?));
        }
        Ok(out)
    }

    /// Every record of this kind, in id order (one range scan).
    pub(crate) fn all_owned<M: Model>(&self, spec: &RecordTables) -> Result<Vec<(u64, M)>> {
        let records = (spec.read_records)(&self.tables)?;
        let mut out = Vec::new();
        for entry in records.iter()? {
            let (k, v) = entry?;
            out.push((k.value(), decode_stored(v.value())?));
        }
        Ok(out)
    }
}
