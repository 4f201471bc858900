//! Raw redb: autocrm's key layout and record encoding with none of its logic.
//!
//! The tables below are copies of `core/src/store/tables.rs` (same names, key and value types)
//! and the values are `autocrm::codec::encode` of the same normalised records, so the files
//! hold the same bytes. What is left out is everything autocrm adds on top of storage: no
//! validation (records arrive normalised), no uniqueness, reference or source-record checks
//! (indexes are written blindly), no rollups, no persisted id counters (ids come from the
//! plan, i.e. a local counter), and tables are opened once per transaction.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use autocrm::codec::{decode, encode, ModelKind};
use autocrm::vehicle::OwnershipHistory;
use autocrm::{
    Complaint, Customer, CustomerId, Dealer, DealerId, Lead, Ownership, SourceRef, Survey,
    Touchpoint, Vehicle,
};
use redb::{
    MultimapTable, MultimapTableDefinition, ReadableDatabase, ReadableTable, Table,
    TableDefinition, WriteTransaction,
};

use crate::store::{customer_digest, file_bytes, Store, ViewDigest, ViewFold, TIMELINE_LIMIT};
use crate::workload::{Batch, SingleWrite, VehicleStep};
use crate::BenchResult;

// Copies of core/src/store/tables.rs (the `meta` and `rollups` tables are autocrm logic).

/// dealer id → record.
const DEALERS: TableDefinition<u32, &[u8]> = TableDefinition::new("dealers");
/// dealer code → dealer id.
const DEALER_BY_CODE: TableDefinition<&str, u32> = TableDefinition::new("dealer_by_code");
/// customer id → record.
const CUSTOMERS: TableDefinition<u64, &[u8]> = TableDefinition::new("customers");
/// national ID → customer id.
const CUSTOMER_BY_NATIONAL_ID: TableDefinition<&str, u64> =
    TableDefinition::new("customer_by_national_id");
/// credit code → customer id.
const CUSTOMER_BY_CREDIT_CODE: TableDefinition<&str, u64> =
    TableDefinition::new("customer_by_credit_code");
/// phone → customer ids.
const CUSTOMER_BY_PHONE: MultimapTableDefinition<&str, u64> =
    MultimapTableDefinition::new("customer_by_phone");
/// (from, kind, to) → ().
const RELATIONS: TableDefinition<(u64, u8, u64), ()> = TableDefinition::new("relations");
/// (to, kind, from) → ().
const RELATIONS_BACK: TableDefinition<(u64, u8, u64), ()> = TableDefinition::new("relations_back");
/// vehicle id → record.
const VEHICLES: TableDefinition<u64, &[u8]> = TableDefinition::new("vehicles");
/// VIN → vehicle id.
const VEHICLE_BY_VIN: TableDefinition<&str, u64> = TableDefinition::new("vehicle_by_vin");
/// plate → vehicle id.
const VEHICLE_BY_PLATE: TableDefinition<&str, u64> = TableDefinition::new("vehicle_by_plate");
/// vehicle id → ownership history record.
const OWNERSHIP: TableDefinition<u64, &[u8]> = TableDefinition::new("ownership");
/// customer id → vehicle ids.
const CUSTOMER_VEHICLES: MultimapTableDefinition<u64, u64> =
    MultimapTableDefinition::new("customer_vehicles");
/// (customer id, at in seconds, touchpoint id) → record.
const TOUCHPOINTS: TableDefinition<(u64, i64, u64), &[u8]> = TableDefinition::new("touchpoints");
/// touchpoint id → (customer id, at).
const TOUCHPOINT_KEYS: TableDefinition<u64, (u64, i64)> = TableDefinition::new("touchpoint_keys");
/// `[model byte][source system]\0[source record id]` → id (`SourceRef::key`).
const SOURCE_RECORDS: TableDefinition<&[u8], u64> = TableDefinition::new("source_records");
/// lead id → record.
const LEADS: TableDefinition<u64, &[u8]> = TableDefinition::new("leads");
/// customer id → lead ids.
const CUSTOMER_LEADS: MultimapTableDefinition<u64, u64> =
    MultimapTableDefinition::new("customer_leads");
/// complaint id → record.
const COMPLAINTS: TableDefinition<u64, &[u8]> = TableDefinition::new("complaints");
/// customer id → complaint ids.
const CUSTOMER_COMPLAINTS: MultimapTableDefinition<u64, u64> =
    MultimapTableDefinition::new("customer_complaints");
/// survey id → record.
const SURVEYS: TableDefinition<u64, &[u8]> = TableDefinition::new("surveys");
/// customer id → survey ids.
const CUSTOMER_SURVEYS: MultimapTableDefinition<u64, u64> =
    MultimapTableDefinition::new("customer_surveys");

/// A redb file with autocrm's tables, written directly.
pub struct RawRedbStore {
    db: redb::Database,
    path: PathBuf,
}

/// Every table an ingest writes, opened once per transaction.
struct WriteTables<'txn> {
    customers: Table<'txn, u64, &'static [u8]>,
    by_national_id: Table<'txn, &'static str, u64>,
    by_credit_code: Table<'txn, &'static str, u64>,
    by_phone: MultimapTable<'txn, &'static str, u64>,
    relations: Table<'txn, (u64, u8, u64), ()>,
    relations_back: Table<'txn, (u64, u8, u64), ()>,
    vehicles: Table<'txn, u64, &'static [u8]>,
    by_vin: Table<'txn, &'static str, u64>,
    by_plate: Table<'txn, &'static str, u64>,
    ownership: Table<'txn, u64, &'static [u8]>,
    customer_vehicles: MultimapTable<'txn, u64, u64>,
    touchpoints: Table<'txn, (u64, i64, u64), &'static [u8]>,
    touchpoint_keys: Table<'txn, u64, (u64, i64)>,
    sources: Table<'txn, &'static [u8], u64>,
    leads: Table<'txn, u64, &'static [u8]>,
    customer_leads: MultimapTable<'txn, u64, u64>,
    complaints: Table<'txn, u64, &'static [u8]>,
    customer_complaints: MultimapTable<'txn, u64, u64>,
    surveys: Table<'txn, u64, &'static [u8]>,
    customer_surveys: MultimapTable<'txn, u64, u64>,
}

impl<'txn> WriteTables<'txn> {
    fn open(txn: &'txn WriteTransaction) -> Result<Self, redb::TableError> {
        Ok(WriteTables {
            customers: txn.open_table(CUSTOMERS)?,
            by_national_id: txn.open_table(CUSTOMER_BY_NATIONAL_ID)?,
            by_credit_code: txn.open_table(CUSTOMER_BY_CREDIT_CODE)?,
            by_phone: txn.open_multimap_table(CUSTOMER_BY_PHONE)?,
            relations: txn.open_table(RELATIONS)?,
            relations_back: txn.open_table(RELATIONS_BACK)?,
            vehicles: txn.open_table(VEHICLES)?,
            by_vin: txn.open_table(VEHICLE_BY_VIN)?,
            by_plate: txn.open_table(VEHICLE_BY_PLATE)?,
            ownership: txn.open_table(OWNERSHIP)?,
            customer_vehicles: txn.open_multimap_table(CUSTOMER_VEHICLES)?,
            touchpoints: txn.open_table(TOUCHPOINTS)?,
            touchpoint_keys: txn.open_table(TOUCHPOINT_KEYS)?,
            sources: txn.open_table(SOURCE_RECORDS)?,
            leads: txn.open_table(LEADS)?,
            customer_leads: txn.open_multimap_table(CUSTOMER_LEADS)?,
            complaints: txn.open_table(COMPLAINTS)?,
            customer_complaints: txn.open_multimap_table(CUSTOMER_COMPLAINTS)?,
            surveys: txn.open_table(SURVEYS)?,
            customer_surveys: txn.open_multimap_table(CUSTOMER_SURVEYS)?,
        })
    }

    fn source(&mut self, kind: ModelKind, src: &Option<SourceRef>, id: u64) -> BenchResult<()> {
        if let Some(s) = src {
            self.sources.insert(s.key(kind).as_slice(), id)?;
        }
        Ok(())
    }

    fn touchpoint(&mut self, id: u64, t: &Touchpoint) -> BenchResult<()> {
        let at = t.at.seconds();
        self.touchpoints
            .insert((t.customer.0, at, id), encode(t).as_slice())?;
        self.touchpoint_keys.insert(id, (t.customer.0, at))?;
        self.source(ModelKind::Touchpoint, &t.source, id)
    }
}

impl RawRedbStore {
    /// Creates the file at `path` with redb's default settings (1 GiB cache, durable commits)
    /// and every table.
    pub fn create(path: &Path) -> BenchResult<RawRedbStore> {
        let db = redb::Database::create(path)?;
        let txn = db.begin_write()?;
        drop(WriteTables::open(&txn)?);
        txn.open_table(DEALERS)?;
        txn.open_table(DEALER_BY_CODE)?;
        txn.commit()?;
        Ok(RawRedbStore {
            db,
            path: path.to_path_buf(),
        })
    }
}

/// Reads and decodes the record `id` of `table`.
fn get<M: autocrm::codec::Model>(
    table: &impl ReadableTable<u64, &'static [u8]>,
    id: u64,
) -> BenchResult<M> {
    let v = table
        .get(id)?
        .ok_or_else(|| format!("raw redb: record {id} missing"))?;
    Ok(decode(v.value())?)
}

impl Store for RawRedbStore {
    fn name(&self) -> &'static str {
        "raw redb"
    }

    fn ingest_dealers(&mut self, dealers: &[(DealerId, Dealer)]) -> BenchResult<()> {
        let txn = self.db.begin_write()?;
        {
            let mut rows = txn.open_table(DEALERS)?;
            let mut codes = txn.open_table(DEALER_BY_CODE)?;
            for (id, d) in dealers {
                rows.insert(id.0, encode(d).as_slice())?;
                codes.insert(d.code.as_str(), id.0)?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    fn ingest(&mut self, batch: &Batch) -> BenchResult<()> {
        let txn = self.db.begin_write()?;
        {
            let mut t = WriteTables::open(&txn)?;
            for c in &batch.customers {
                let me = c.id.0;
                let cust = &c.stored;
                t.customers.insert(me, encode(cust).as_slice())?;
                if let Some(nid) = cust.national_id() {
                    t.by_national_id.insert(nid, me)?;
                }
                if let Some(code) = cust.credit_code() {
                    t.by_credit_code.insert(code, me)?;
                }
                for p in &cust.phones {
                    t.by_phone.insert(p.as_str(), me)?;
                }
                t.source(ModelKind::Customer, &cust.source, me)?;
                for &(kind, to) in &c.relations {
                    t.relations.insert((me, kind as u8, to.0), ())?;
                    t.relations_back.insert((to.0, kind as u8, me), ())?;
                }
                for step in &c.vehicles {
                    match step {
                        VehicleStep::New {
                            id, stored, from, ..
                        } => {
                            t.vehicles
                                .insert(id.0, encode(stored.as_ref()).as_slice())?;
                            t.by_vin.insert(stored.vin.as_str(), id.0)?;
                            if let Some(p) = &stored.plate {
                                t.by_plate.insert(p.as_str(), id.0)?;
                            }
                            let history = OwnershipHistory(vec![Ownership {
                                customer: c.id,
                                from: *from,
                                to: None,
                            }]);
                            t.ownership.insert(id.0, encode(&history).as_slice())?;
                            t.customer_vehicles.insert(me, id.0)?;
                            t.source(ModelKind::Vehicle, &stored.source, id.0)?;
                        }
                        VehicleStep::Transfer { id, on } => {
                            let mut history: OwnershipHistory = get(&t.ownership, id.0)?;
                            if let Some(last) = history.0.last_mut().filter(|o| o.to.is_none()) {
                                last.to = Some(*on);
                            }
                            history.0.push(Ownership {
                                customer: c.id,
                                from: *on,
                                to: None,
                            });
                            t.ownership.insert(id.0, encode(&history).as_slice())?;
                            t.customer_vehicles.insert(me, id.0)?;
                        }
                    }
                }
                for (id, tp) in c.touchpoints.with_ids() {
                    t.touchpoint(id, tp)?;
                }
                for (id, l) in c.leads.with_ids() {
                    t.leads.insert(id, encode(l).as_slice())?;
                    t.customer_leads.insert(me, id)?;
                    t.source(ModelKind::Lead, &l.source, id)?;
                }
                for (id, k) in c.complaints.with_ids() {
                    t.complaints.insert(id, encode(k).as_slice())?;
                    t.customer_complaints.insert(me, id)?;
                    t.source(ModelKind::Complaint, &k.source, id)?;
                }
                for (id, s) in c.surveys.with_ids() {
                    t.surveys.insert(id, encode(s).as_slice())?;
                    t.customer_surveys.insert(me, id)?;
                    t.source(ModelKind::Survey, &s.source, id)?;
                }
            }
        }
        txn.commit()?;
        Ok(())
    }

    fn view_360(&mut self, ids: &[CustomerId]) -> BenchResult<ViewDigest> {
        let r = self.db.begin_read()?;
        let customers = r.open_table(CUSTOMERS)?;
        let customer_vehicles = r.open_multimap_table(CUSTOMER_VEHICLES)?;
        let vehicles = r.open_table(VEHICLES)?;
        let ownership = r.open_table(OWNERSHIP)?;
        let relations = r.open_table(RELATIONS)?;
        let relations_back = r.open_table(RELATIONS_BACK)?;
        let owned = [
            (
                1,
                r.open_multimap_table(CUSTOMER_LEADS)?,
                r.open_table(LEADS)?,
            ),
            (
                2,
                r.open_multimap_table(CUSTOMER_COMPLAINTS)?,
                r.open_table(COMPLAINTS)?,
            ),
            (
                3,
                r.open_multimap_table(CUSTOMER_SURVEYS)?,
                r.open_table(SURVEYS)?,
            ),
        ];
        let touchpoints = r.open_table(TOUCHPOINTS)?;
        let mut common = 0u64;
        for &CustomerId(id) in ids {
            let mut f = ViewFold::default();
            let c: Customer = get(&customers, id)?;
            f.profile(c.name(), c.phones.len());
            black_box(&c);
            for v in customer_vehicles.get(id)? {
                let v = v?.value();
                let vehicle: Vehicle = get(&vehicles, v)?;
                let history: OwnershipHistory = get(&ownership, v)?;
                f.vehicle(v, history.0.len());
                black_box((&vehicle, &history));
            }
            for e in relations.range((id, 0u8, 0u64)..=(id, u8::MAX, u64::MAX))? {
                let (from, kind, to) = e?.0.value();
                f.relation(from, kind, to);
            }
            for e in relations_back.range((id, 0u8, 0u64)..=(id, u8::MAX, u64::MAX))? {
                let (to, kind, from) = e?.0.value();
                f.relation(from, kind, to);
            }
            for (table, links, records) in &owned {
                for rec in links.get(id)? {
                    let rec = rec?.value();
                    let bytes = records
                        .get(rec)?
                        .ok_or_else(|| format!("raw redb: record {rec} missing"))?;
                    // Decode as the model the table holds, as autocrm does.
                    match table {
                        1 => drop(black_box(decode::<Lead>(bytes.value())?)),
                        2 => drop(black_box(decode::<Complaint>(bytes.value())?)),
                        _ => drop(black_box(decode::<Survey>(bytes.value())?)),
                    }
                    f.owned(*table, rec);
                }
            }
            let range = touchpoints.range((id, i64::MIN, 0u64)..=(id, i64::MAX, u64::MAX))?;
            for (pos, e) in range.rev().take(TIMELINE_LIMIT).enumerate() {
                let (k, v) = e?;
                let t: Touchpoint = decode(v.value())?;
                f.timeline(pos, k.value().2);
                black_box(&t);
            }
            common = common.wrapping_add(f.finish());
        }
        Ok(ViewDigest {
            common,
            touchpoints_total: None,
        })
    }

    fn single_write(&mut self, write: &SingleWrite) -> BenchResult<()> {
        let txn = self.db.begin_write()?;
        {
            let mut touchpoints = txn.open_table(TOUCHPOINTS)?;
            let mut keys = txn.open_table(TOUCHPOINT_KEYS)?;
            let mut sources = txn.open_table(SOURCE_RECORDS)?;
            let t = &write.stored;
            let at = t.at.seconds();
            touchpoints.insert((t.customer.0, at, write.id), encode(t).as_slice())?;
            keys.insert(write.id, (t.customer.0, at))?;
            if let Some(s) = &t.source {
                sources.insert(s.key(ModelKind::Touchpoint).as_slice(), write.id)?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    fn point_gets(&mut self, ids: &[CustomerId]) -> BenchResult<u64> {
        let r = self.db.begin_read()?;
        let customers = r.open_table(CUSTOMERS)?;
        let mut sum = 0u64;
        for &CustomerId(id) in ids {
            let c: Customer = get(&customers, id)?;
            sum = sum.wrapping_add(customer_digest(&c));
        }
        Ok(sum)
    }

    fn disk_bytes(&self) -> u64 {
        file_bytes(&self.path, &[])
    }
}
