//! Records that belong to one customer and are listed in the 360° view: leads, complaints and
//! surveys. They share one storage shape — id → record, customer → ids, source → id — so the
//! shape is written once here and each domain module adds its typed methods.

use redb::{MultimapTableDefinition, ReadableMultimapTable, ReadableTable, TableDefinition};

use crate::codec::{self, Model};
use crate::error::{Error, Result};
use crate::ids::CustomerId;
use crate::source::SourceRef;
use crate::store::tables::*;
use crate::store::{decode_stored, get_record, ReadTables, ReadTxn, WriteTxn};

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

impl WriteTxn {
    /// Stores an already validated record of `customer`; idempotent on its source record.
    pub(crate) fn insert_owned<M: Model>(
        &mut self,
        spec: &RecordTables,
        customer: CustomerId,
        record: &M,
        source: Option<&SourceRef>,
    ) -> Result<u64> {
        if let Some(src) = source {
            if let Some(id) = self.source_lookup(M::KIND, src, spec.records)? {
                return Ok(id);
            }
        }
        self.require(CUSTOMERS, "customer", customer.0)?;
        self.writing(|tx| {
            let id = tx.next_id(spec.counter)?;
            tx.txn
                .open_table(spec.records)?
                .insert(id, codec::encode(record).as_slice())?;
            tx.txn
                .open_multimap_table(spec.by_customer)?
                .insert(customer.0, id)?;
            if let Some(src) = source {
                tx.source_remember(M::KIND, src, id)?;
            }
            *(spec.count)(tx.rollup_mut(customer.0)?) += 1;
            Ok(id)
        })
    }

    /// Replaces a stored record (same customer).
    pub(crate) fn update_owned<M: Model>(
        &mut self,
        spec: &RecordTables,
        id: u64,
        record: &M,
    ) -> Result<()> {
        if self.txn.open_table(spec.records)?.get(id)?.is_none() {
            return Err(Error::not_found(spec.entity, id));
        }
        self.writing(|tx| {
            tx.txn
                .open_table(spec.records)?
                .insert(id, codec::encode(record).as_slice())?;
            Ok(())
        })
    }

    /// The stored record `id`, as this transaction sees it.
    pub(crate) fn get_owned<M: Model>(&self, spec: &RecordTables, id: u64) -> Result<M> {
        get_record(&self.txn.open_table(spec.records)?, id)?
            .ok_or_else(|| Error::not_found(spec.entity, id))
    }

    /// Deletes every lead, complaint and survey of a customer.
    pub(crate) fn delete_customer_records(&mut self, customer: CustomerId) -> Result<()> {
        for spec in [&LEAD_TABLES, &COMPLAINT_TABLES, &SURVEY_TABLES] {
            let ids: Vec<u64> = {
                let links = self.txn.open_multimap_table(spec.by_customer)?;
                let ids = links
                    .get(customer.0)?
                    .map(|v| v.map(|v| v.value()))
                    .collect::<Result<_, _>>()?;
                ids
            };
            let mut records = self.txn.open_table(spec.records)?;
            for id in ids {
                records.remove(id)?;
            }
            drop(records);
            self.txn
                .open_multimap_table(spec.by_customer)?
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
                .ok_or_else(|| Error::not_found(spec.entity, id))?;
            out.push((id, decode_stored(v.value())?));
        }
        Ok(out)
    }
}
